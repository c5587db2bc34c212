/*
 * search.c - the FMSP loop (see search.h for the iteration life cycle):
 * creating and resuming a search, deciding each iteration, the loop itself;
 * the other modules are listed in search_internal.h.
 *
 * Data: two Archives (index side-1) of the policies currently kept, the
 * fixed human baselines of each side (always opponents, never archive
 * members unless seeded), the opponent sample of each side (ids of the other
 * side's archive chosen at the last re-scoring, stored in meta so a resumed
 * run uses the same), a cache of pair results (a match between two fixed
 * policies with the fixed evaluation seed always gives the same result), and
 * a ring of K slots, one per iteration in flight: slot i % K holds iteration i.
 *
 * Invariants: iterations are decided and committed strictly in order
 * (next_final); iteration i is planned only after iteration i-K is committed;
 * a model call has the key iteration*16 + attempt and is made at most once
 * per run (a recorded answer is reused); every write of an iteration lands in
 * one transaction with its `iterations` row.
 */
#include "search_internal.h"

static volatile sig_atomic_t stop_requested;

void search_stop(void)
{
    stop_requested = 1;
    match_interrupt(1); /* abandon the evaluation in progress: it is redone on resume */
}

/* ------------------------------------------------------------ creation */

static void search_alloc(Search **out, const SearchConfig *cfg, const CompileConfig *cc)
{
    Search *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->cc = *cc;
    s->dom = domain_find(cfg->domain);
    if (!s->dom)
        s->dom = &domain_cartag;
    s->cfg.eval.domain = s->dom;
    archive_init(&s->arch[0], DOMAIN_SIDE_1);
    archive_init(&s->arch[1], DOMAIN_SIDE_2);
    archive_init(&s->base[0], DOMAIN_SIDE_1);
    archive_init(&s->base[1], DOMAIN_SIDE_2);
    s->k = cfg->in_flight < 1 ? 1 : (cfg->in_flight > 64 ? 64 : cfg->in_flight);
    s->slots = xcalloc((size_t)s->k, sizeof *s->slots);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s->threads = ncpu < 1 ? 1 : (int)ncpu;
    s->last_done = -1;
    *out = s;
}

static FmspErr open_embedder(Search *s, char *err, size_t errlen)
{
    s->space = search_space_parse(s->cfg.novelty_space);
    if (strcmp(s->cfg.embed, "openai") != 0) {
        s->code_dim = EMBED_DIM;
        s->dim = s->space == SPACE_BOTH ? 2 * EMBED_DIM : EMBED_DIM;
        return FMSP_OK;
    }
    const char *url = s->cfg.embed_url[0] ? s->cfg.embed_url : s->cfg.fm.base_url;
    const char *key = s->cfg.embed_key_env[0] ? s->cfg.embed_key_env : s->cfg.fm.api_key_env;
    return embed_remote_new(url, s->cfg.embed_model, key, s->cfg.fm.timeout_s, &s->remote, err,
                            errlen);
}

static FmspErr open_client(Search *s, char *err, size_t errlen)
{
    FmspErr ee = open_embedder(s, err, errlen);
    if (!ee)
        ee = search_open_probes(s, err, errlen);
    if (ee)
        return ee;
    FmConfig fc = s->cfg.fm;
    if (fc.max_in_flight < s->k)
        fc.max_in_flight = s->k;
    if (fc.backend == FM_BUILTIN && fc.seed == 0)
        fc.seed = s->cfg.seed;
    FmspErr e = fm_client_new(&fc, &s->fm, err, errlen);
    /* the domain's own models (Gandalf's target) answer first */
    if (!e && s->cfg.check_endpoint && s->dom->preflight)
        e = s->dom->preflight(&s->cfg.eval, err, errlen);
    if (e || !s->cfg.check_endpoint || (fc.backend != FM_OPENAI && fc.backend != FM_ANTHROPIC))
        return e;
    /* One tiny question, not part of the run (not recorded), retried once:
     * a dead endpoint, a wrong key or an unknown model stops the start. */
    FmConfig pc = fc;
    pc.max_retries = 1;
    pc.max_in_flight = 1;
    FmClient *probe;
    if ((e = fm_client_new(&pc, &probe, err, errlen)) != FMSP_OK)
        return e;
    FmMessage m = {"user", "Reply with the single word OK."};
    FmRequest req = {NULL, &m, 1, NULL, 0, -1, NULL};
    FmResponse r;
    e = fm_complete(probe, &req, &r);
    fm_client_free(probe);
    if (!e && r.err) {
        fmsp_errf(err, errlen, "the model endpoint %s (model '%s') does not answer: %s",
                  fc.base_url[0] ? fc.base_url : fm_backend_name(fc.backend), fc.model, r.error);
        e = r.err;
    } else if (e) {
        fmsp_errf(err, errlen, "cannot reach the model endpoint: %s", fmsp_strerror(e));
    }
    fm_response_release(&r);
    return e;
}

/* The simple seeds of the archives (as in the paper: start from a basic
 * policy per side); a side without one is seeded with its first baseline. */
static int is_seed_name(const Domain *d, const char *name, int side)
{
    return strcmp(name, d->simple_seed[side]) == 0;
}

/* A database whose set-up never committed (a start killed with kill -9)
 * holds nothing: it is removed so that the same command can start again.
 * Anything else at the path is left for store_open to refuse. */
static void reclaim_unset_db(const char *db_path)
{
    struct stat st;
    if (stat(db_path, &st) != 0)
        return;
    Store *db = NULL;
    char err[256];
    if (store_open(db_path, 0, &db, err, sizeof err) != FMSP_OK)
        return;
    char *cfg_json = NULL;
    int unset = store_claim_writer(db, err, sizeof err) == FMSP_OK &&
                store_meta_get(db, "config", &cfg_json) == FMSP_OK && !cfg_json;
    free(cfg_json);
    store_close(db);
    if (unset)
        store_remove_files(db_path);
}

FmspErr search_create(const SearchConfig *cfg, const CompileConfig *cc, const char *db_path,
                      Search **out, char *err, size_t errlen)
{
    *out = NULL;
    if (cfg->iterations < 1) {
        fmsp_errf(err, errlen, "the iteration budget must be at least 1");
        return FMSP_ERR_ARG;
    }
    reclaim_unset_db(db_path);
    Search *s;
    search_alloc(&s, cfg, cc);
    FmspErr e = store_open(db_path, 1, &s->db, err, errlen);
    if (!e)
        e = store_claim_writer(s->db, err, errlen);
    if (e) {
        search_free(s);
        return e;
    }
    e = open_client(s, err, errlen);
    /* Baselines: compiled now (a broken one stops the run before it starts),
     * stored as origin "baseline"; the seeds also enter the archives. */
    char **files = NULL;
    int nf = 0;
    if (!e) {
        e = util_list_c_files(cfg->baselines_dir, &files, &nf, err, errlen);
        if (!e && nf == 0) {
            fmsp_errf(err, errlen, "no baseline policies (*.c) in '%s'", cfg->baselines_dir);
            e = FMSP_ERR_NOTFOUND;
        }
    }
    if (!e && store_begin(s->db))
        e = db_fail(s, FMSP_ERR_DB, err, errlen, "starting the set-up transaction");
    if (!e) {
        char *cfg_json = search_config_to_json(cfg);
        if (store_meta_set(s->db, "config", cfg_json) || store_meta_set(s->db, "status", "running"))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "saving the config");
        free(cfg_json);
    }
    int seeded[2] = {0, 0};
    for (int pass = 0; pass < 2 && !e; pass++) {
        for (int i = 0; i < nf && !e; i++) {
            char *src = NULL;
            e = util_read_file(files[i], s->cc.source_cap, &src, NULL, err, errlen);
            if (e)
                break;
            CompileResult r;
            char name[256];
            const char *b = strrchr(files[i], '/');
            snprintf(name, sizeof name, "%s", b ? b + 1 : files[i]);
            char *dot = strrchr(name, '.');
            if (dot)
                *dot = 0;
            e = compile_policy_source(&s->cc, src, strlen(src), name, &r, err, errlen);
            if (e) {
                free(src);
                compile_result_release(&r);
                break;
            }
            const Domain *of = domain_of_side_macro(r.side_macro);
            if (of && of != s->dom) {
                fmsp_errf(err, errlen, "baseline '%s' in '%s' is a %s policy, but this run plays %s",
                          name, cfg->baselines_dir, of->title, s->dom->title);
                e = FMSP_ERR_ARG;
                free(src);
                compile_result_release(&r);
                break;
            }
            int side = r.side;
            int seed = strcmp(cfg->seeds, "all") == 0 || is_seed_name(s->dom, name, side);
            /* pass 0 stores the named seeds, pass 1 the rest; a side with no
             * named seed is seeded with its first baseline */
            if ((pass == 0) != seed) {
                compile_result_release(&r);
                free(src);
                continue;
            }
            if (pass == 1 && !seeded[sidx(side)])
                seed = 1;
            {
                float *emb = NULL;
                int probe;
                e = search_embed_policy(s, side, src, r.object_path, &emb, &probe, err, errlen);
                if (e) {
                    compile_result_release(&r);
                    free(src);
                    break;
                }
                StorePolicy p = {0};
                p.side = side;
                p.iteration = -1;
                p.origin = "baseline";
                p.name = name;
                p.source = src;
                char src_hash[65];
                util_sha256_hex(src, strlen(src), src_hash);
                p.hash = src_hash;
                p.parents = "[]";
                p.status = "ok";
                p.reason = seed ? "human-designed baseline, archive seed" : "human-designed baseline";
                p.embedding = emb;
                p.embedding_dim = s->dim;
                p.quality = NAN;
                p.novelty = NAN;
                p.in_archive = seed;
                if (store_policy_add(s->db, &p))
                    e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing a baseline");
                if (seed)
                    seeded[sidx(side)]++;
                free(emb);
            }
            compile_result_release(&r);
            free(src);
        }
    }
    for (int i = 0; i < nf; i++)
        free(files[i]);
    free(files);
    if (!e && (seeded[0] == 0 || seeded[1] == 0)) {
        fmsp_errf(err, errlen, "the baselines in '%s' need at least one %s and one %s (of %s)",
                  cfg->baselines_dir, s->dom->side_name[1], s->dom->side_name[2], s->dom->title);
        e = FMSP_ERR_NOTFOUND;
    }
    if (!e)
        e = search_load_archives(s, err, errlen);
    if (!e)
        e = search_rescore(s, -1, err, errlen);
    if (!e && (search_save_archive_order(s) || store_commit(s->db)))
        e = db_fail(s, FMSP_ERR_DB, err, errlen, "committing the set-up");
    if (e) {
        /* a refused start leaves nothing behind: the same command, fixed,
         * starts afresh */
        search_free(s);
        store_remove_files(db_path);
        return e;
    }
    s->t0 = util_now();
    *out = s;
    return FMSP_OK;
}

FmspErr search_resume(const char *db_path, const CompileConfig *cc, const SearchConfig *override,
                      Search **out, char *err, size_t errlen)
{
    *out = NULL;
    Store *db;
    FmspErr e = store_open(db_path, 0, &db, err, errlen);
    if (!e && (e = store_claim_writer(db, err, errlen)) != FMSP_OK)
        store_close(db);
    if (e)
        return e;
    char *cfg_json = NULL;
    if (store_meta_get(db, "config", &cfg_json) || !cfg_json) {
        fmsp_errf(err, errlen, "'%s' has no run config: it was never set up", db_path);
        store_close(db);
        return FMSP_ERR_DB;
    }
    SearchConfig cfg;
    e = search_config_from_json(cfg_json, &cfg, err, errlen);
    free(cfg_json);
    if (e) {
        store_close(db);
        return e;
    }
    if (override) {
        if (override->iterations > 0)
            cfg.iterations = override->iterations;
        if (override->max_tokens > 0)
            cfg.max_tokens = override->max_tokens;
        if (override->max_cost > 0)
            cfg.max_cost = override->max_cost;
        cfg.max_seconds = override->max_seconds;
        cfg.check_endpoint = override->check_endpoint;
    }
    Search *s;
    search_alloc(&s, &cfg, cc);
    s->db = db;
    if (store_last_iteration(db, &s->last_done)) {
        e = db_fail(s, FMSP_ERR_DB, err, errlen, "reading progress");
    }
    int done = s->last_done + 1;
    if (!e && override && override->iterations > 0 && override->iterations <= done) {
        fmsp_errf(err, errlen, "the run has already completed %d iterations; give --iterations above "
                               "%d to do more",
                  done, done);
        e = FMSP_ERR_ARG;
    } else if (!e && done >= cfg.iterations) {
        fmsp_errf(err, errlen, "the run is finished (%d of %d iterations); give --iterations above "
                               "%d to continue it",
                  done, cfg.iterations, done);
        e = FMSP_ERR_ARG;
    }
    if (!e && override) {
        /* raised budgets become part of the run */
        char *json = search_config_to_json(&cfg);
        if (store_meta_set(db, "config", json))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "saving the new budget");
        free(json);
    }
    if (!e)
        e = open_client(s, err, errlen);
    if (!e)
        e = search_load_archives(s, err, errlen);
    if (!e) {
        search_load_samples(s);
        /* Pair results come back too: a resumed run plays (and records) no
         * match an uninterrupted one would have taken from its cache. */
        if (store_eval_each(db, search_reload_pair, &s->pairs))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "reading the evaluations");
    }
    if (!e) {
        long calls, failed, tokens;
        double cost;
        if (store_call_totals(db, &calls, &failed, &tokens, &cost) == FMSP_OK) {
            s->calls = calls;
            s->failed_calls = failed;
            s->tokens = tokens;
            s->cost = cost;
        }
        StorePolicyRow *rows;
        int n;
        if (store_policy_list(db, 0, 0, &rows, &n) == FMSP_OK) {
            for (int i = 0; i < n; i++) {
                if (rows[i].iteration < 0)
                    continue;
                if (strcmp(rows[i].status, "ok") != 0 && strcmp(rows[i].status, "rejected") != 0)
                    s->failures++;
            }
            store_policy_rows_free(rows, n);
        }
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < s->arch[k].n; i++)
                s->accepted += !s->arch[k].entries[i].origin_baseline;
    }
    if (e) {
        search_free(s);
        return e;
    }
    s->t0 = util_now();
    *out = s;
    return FMSP_OK;
}

/* ------------------------------------------------------------- deciding */

/* Asks the model whether the candidate is novel (1 yes, 0 no, -1 unclear). */
static int judge_novel(Search *s, Slot *sl, char *err, size_t errlen, FmspErr *e)
{
    const Archive *a = &s->arch[sidx(sl->side)];
    int nn[4];
    int m = archive_knn(a, sl->embedding, s->dim, 3, -1, nn);
    const char *others[4];
    for (int i = 0; i < m; i++)
        others[i] = a->entries[nn[i]].source;
    int key = search_call_key(sl->iteration, JUDGE_ATTEMPT);
    char *text = NULL, *cerr = NULL;
    long pt, ct;
    FmResponse r = {0};
    if (store_call_get(s->db, key, &text, &cerr, &pt, &ct) == FMSP_OK) {
        int v = cerr ? -1 : prompt_judge_parse(text);
        free(text);
        free(cerr);
        return v;
    }
    char *q = prompt_judge(s->dom, sl->side, sl->source, others, m);
    FmMessage msg = {"user", q};
    const char *cand[4] = {sl->source, others[0], others[1], others[2]};
    FmHint hint = {FM_TASK_JUDGE, sl->side, cand, m + 1, mix(sl->seed, JUDGE_ATTEMPT, 0x4A),
                   s->dom->name};
    FmRequest req = {NULL, &msg, 1, &hint, (uint64_t)key, key, NULL};
    *e = fm_complete(s->fm, &req, &r);
    int v = -1;
    if (*e == FMSP_OK) {
        Slot tmp = {0};
        tmp.iteration = sl->iteration;
        tmp.side = sl->side;
        tmp.messages[0] = q;
        tmp.n_messages = 1;
        *e = search_record_call(s, &tmp, &r, "judge", err, errlen);
        v = r.err ? -1 : prompt_judge_parse(r.text);
    } else {
        fmsp_errf(err, errlen, "judge request failed: %s", fmsp_strerror(*e));
    }
    fm_response_release(&r);
    free(q);
    return v;
}

/* The iteration's row: which side moved, how, and a snapshot of both
 * archives after it ("members": per side [id, quality, 95% half-width]),
 * from which quality and QD-score curves are drawn without replaying. */
static char *iteration_summary(const Search *s, int side, const char *status)
{
    json_t *root = json_object();
    json_object_set_new(root, "side", json_integer(side));
    json_object_set_new(root, "status", json_string(status));
    json_t *sizes = json_array(), *members = json_array();
    for (int k = 0; k < 2; k++) {
        const Archive *a = &s->arch[k];
        json_array_append_new(sizes, json_integer(a->n));
        json_t *list = json_array();
        for (int i = 0; i < a->n; i++) {
            const ArchiveEntry *en = &a->entries[i];
            json_t *m = json_array();
            json_array_append_new(m, json_integer(en->id));
            json_array_append_new(m, isnan(en->quality) ? json_null() : json_real(en->quality));
            json_array_append_new(m, isnan(en->quality_ci) ? json_null()
                                                            : json_real(en->quality_ci));
            json_array_append_new(list, m);
        }
        json_array_append_new(members, list);
    }
    json_object_set_new(root, "archive", sizes);
    json_object_set_new(root, "members", members);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(root);
    return text ? text : xstrdup("{}");
}

static ArchiveEntry slot_to_entry(const Search *s, Slot *sl, int dim, int64_t id, double quality)
{
    ArchiveEntry en = {0};
    en.id = id;
    en.name = xasprintf("%s_it%d", s->dom->side_name[sl->side], sl->iteration);
    en.source = xstrdup(sl->source);
    en.object_path = xstrdup(sl->compiled.object_path);
    en.embedding = xmalloc(sizeof(float) * (size_t)dim);
    memcpy(en.embedding, sl->embedding, sizeof(float) * (size_t)dim);
    en.dim = dim;
    en.quality = quality;
    return en;
}

/*
 * Decides the READY slot of iteration next_final and commits it with every
 * write it causes. The algorithms differ only here.
 */
static FmspErr slot_finalize(Search *s, Slot *sl, char *err, size_t errlen)
{
    if (store_begin(s->db))
        return db_fail(s, FMSP_ERR_DB, err, errlen, "starting an iteration");
    FmspErr e = FMSP_OK;
    Archive *a = &s->arch[sidx(sl->side)];
    char parents[256];
    size_t off = (size_t)snprintf(parents, sizeof parents, "[");
    for (int i = 0; i < sl->n_parents && off < sizeof parents - 24; i++)
        off += (size_t)snprintf(parents + off, sizeof parents - off, "%s%lld", i ? "," : "",
                                (long long)sl->parents[i]);
    snprintf(parents + off, sizeof parents - off, "]");
    char name[64];
    snprintf(name, sizeof name, "%s_it%d", s->dom->side_name[sl->side],
             sl->iteration);
    StorePolicy p = {0};
    p.side = sl->side;
    p.iteration = sl->iteration;
    p.origin = s->cfg.fm.backend == FM_BUILTIN ? "builtin" : "model";
    p.name = name;
    p.source = sl->source;
    p.parents = parents;
    p.quality = NAN;
    p.novelty = NAN;
    char hash[65];
    if (sl->source) {
        util_sha256_hex(sl->source, strlen(sl->source), hash);
        p.hash = hash;
    }
    char reason[1024] = "";
    if (strcmp(sl->status, "ok") != 0) {
        p.status = sl->status;
        p.reason = sl->reason;
        s->failures++;
        if (store_policy_add(s->db, &p))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing a failed candidate");
    } else {
        double dist;
        int nb = archive_nearest(a, sl->embedding, s->dim, &dist);
        p.novelty = nb >= 0 ? dist : NAN;
        p.embedding = sl->embedding;
        p.embedding_dim = s->dim;
        p.status = "ok";
        int novel = nb < 0 || dist > s->cfg.novelty;
        if (novel && s->cfg.judge && (s->cfg.algo == ALGO_NSSP || s->cfg.algo == ALGO_QDSP)) {
            int v = judge_novel(s, sl, err, errlen, &e);
            if (v == 0)
                novel = 0;
        }
        /* NSSP rejects a non-novel candidate before any evaluation. */
        int evaluate_it = !e && !(s->cfg.algo == ALGO_NSSP && !novel);
        /* The row goes in first: evaluations refer to its id. */
        p.reason = "pending";
        if (!e && store_policy_add(s->db, &p))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing a candidate");
        Quality qq = {NAN, NAN, 0};
        char *detail = NULL;
        if (!e && evaluate_it)
            e = search_evaluate(s, sl->side, p.id, sl->compiled.object_path, sl->iteration, &qq, NULL,
                         NULL, &detail, err, errlen);
        double q = qq.mean;
        if (!e && !isnan(q) && store_policy_set_quality(s->db, p.id, q, qq.ci, qq.opponents))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing quality");
        int insert = 0, replace = -1;
        const char *verdict = "rejected";
        if (!e) {
            switch (s->cfg.algo) {
            case ALGO_OPENLOOP:
                insert = 1;
                snprintf(reason, sizeof reason, "kept (open-loop keeps every valid policy)");
                break;
            case ALGO_VFMSP: {
                int inc = archive_best(a);
                /* the incumbent is re-scored against the same opponents first */
                Quality iqq = {NAN, NAN, 0};
                if (inc >= 0)
                    e = search_evaluate(s, sl->side, a->entries[inc].id, a->entries[inc].object_path,
                                 sl->iteration, &iqq, NULL, NULL, NULL, err, errlen);
                double iq = iqq.mean;
                if (!e && inc >= 0) {
                    a->entries[inc].quality = iq;
                    a->entries[inc].quality_ci = iqq.ci;
                }
                if (!e && (inc < 0 || q > iq)) {
                    replace = inc;
                    insert = inc < 0;
                    snprintf(reason, sizeof reason, "new incumbent: %.3f > %.3f", q, iq);
                } else if (!e) {
                    snprintf(reason, sizeof reason, "not better than the incumbent: %.3f <= %.3f",
                             q, iq);
                }
                break;
            }
            case ALGO_NSSP:
                insert = novel;
                snprintf(reason, sizeof reason, "%s: distance %.3f to nearest %s threshold %.3f",
                         novel ? "novel" : "not novel", dist, novel ? ">" : "<=", s->cfg.novelty);
                break;
            case ALGO_QDSP: {
                int nbi;
                double d2;
                /* novelty was decided above (distance, and the judge if asked);
                 * the threshold below only routes to the right branch */
                QdVerdict v = archive_qd_decide(a, sl->embedding, s->dim, q,
                                                novel ? -1.0 : 2.0, &nbi, &d2);
                if (v == QD_INSERT) {
                    insert = 1;
                    snprintf(reason, sizeof reason, "novel: distance %.3f > %.3f", dist,
                             s->cfg.novelty);
                } else if (v == QD_REPLACE) {
                    replace = nbi;
                    snprintf(reason, sizeof reason,
                             "replaces its nearest neighbour %s: quality %.3f > %.3f",
                             a->entries[nbi].name, q, a->entries[nbi].quality);
                } else {
                    snprintf(reason, sizeof reason,
                             "not novel (distance %.3f) and not better than %s (%.3f <= %.3f)",
                             dist, nb >= 0 ? a->entries[nb].name : "?", q,
                             nb >= 0 ? a->entries[nb].quality : NAN);
                }
                break;
            }
            }
        }
        if (!e && (insert || replace >= 0)) {
            verdict = replace >= 0 ? "replaced" : "inserted";
            if (replace >= 0) {
                if (store_policy_set_archive(s->db, a->entries[replace].id, 0))
                    e = db_fail(s, FMSP_ERR_DB, err, errlen, "updating the archive");
                ArchiveEntry en = slot_to_entry(s, sl, s->dim, p.id, q);
                en.quality_ci = qq.ci;
                archive_replace(a, replace, &en);
            } else {
                ArchiveEntry en = slot_to_entry(s, sl, s->dim, p.id, q);
                en.quality_ci = qq.ci;
                archive_add(a, &en);
            }
            if (!e && store_policy_set_archive(s->db, p.id, 1))
                e = db_fail(s, FMSP_ERR_DB, err, errlen, "updating the archive");
            s->accepted++;
        }
        if (!e) {
            char *full = xasprintf("%s%s%s", reason, detail ? "; " : "", detail ? detail : "");
            if (store_policy_set_status(s->db, p.id, strcmp(verdict, "rejected") ? "ok" : "rejected",
                                        full))
                e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing the verdict");
            free(full);
        }
        free(detail);
        if (!e) {
            char *ev = xasprintf("%s %s (%s)", name, verdict, reason);
            store_event(s->db, sl->iteration, verdict, ev);
            free(ev);
        }
    }
    int due = s->cfg.algo == ALGO_VFMSP ||
              (search_uses_quality(s) && s->cfg.rescore_every > 0 &&
               (sl->iteration + 1) % s->cfg.rescore_every == 0);
    if (!e && due)
        e = search_rescore(s, sl->iteration, err, errlen);
    if (!e) {
        char *summary = iteration_summary(s, sl->side, sl->status);
        if (search_save_archive_order(s) || store_iteration_done(s->db, sl->iteration, summary) ||
            store_commit(s->db))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "committing an iteration");
        free(summary);
    }
    if (e) {
        store_rollback(s->db);
        return e;
    }
    s->last_done = sl->iteration;
    slot_clear(sl);
    return FMSP_OK;
}

/* ----------------------------------------------------------------- loop */

static void fill_progress(const Search *s, SearchProgress *p)
{
    memset(p, 0, sizeof *p);
    p->iteration = s->last_done;
    p->iterations = s->cfg.iterations;
    for (int k = 0; k < 2; k++) {
        const Archive *a = &s->arch[k];
        p->side[k].archive = a->n;
        p->side[k].best = NAN;
        double sum = 0;
        int m = 0;
        for (int i = 0; i < a->n; i++) {
            double q = a->entries[i].quality;
            if (isnan(q))
                continue;
            sum += q;
            m++;
            if (isnan(p->side[k].best) || q > p->side[k].best) {
                p->side[k].best = q;
                p->side[k].best_ci = a->entries[i].quality_ci;
            }
        }
        p->side[k].mean = m ? sum / m : NAN;
    }
    p->calls = s->calls;
    p->failed_calls = s->failed_calls;
    p->tokens = s->tokens;
    p->cost = s->cost;
    p->failures = s->failures;
    p->accepted = s->accepted;
    p->seconds = util_now() - s->t0;
}

/* 1 while the budgets allow planning another iteration. */
static int budget_left(const Search *s, int next_plan)
{
    if (stop_requested || next_plan >= s->cfg.iterations)
        return 0;
    if (s->cfg.max_tokens > 0 && s->tokens >= s->cfg.max_tokens)
        return 0;
    if (s->cfg.max_cost > 0 && s->cost >= s->cfg.max_cost)
        return 0;
    if (s->cfg.max_seconds > 0 && util_now() - s->t0 >= s->cfg.max_seconds)
        return 0;
    return 1;
}

static FmspErr plan_and_submit(Search *s, int it, char *err, size_t errlen)
{
    Slot *sl = &s->slots[it % s->k];
    FmspErr e = search_slot_plan(s, sl, it, err, errlen);
    if (e)
        return e;
    FmResponse rec;
    int have;
    e = search_slot_submit(s, sl, &rec, &have, err, errlen);
    if (!e && have)
        e = search_slot_on_answer(s, sl, &rec, err, errlen);
    return e;
}

/* Stores iteration it's plan without asking the model (see search_run). */
static FmspErr plan_only(Search *s, int it, char *err, size_t errlen)
{
    Slot tmp;
    memset(&tmp, 0, sizeof tmp);
    FmspErr e = search_slot_plan(s, &tmp, it, err, errlen);
    slot_clear(&tmp);
    return e;
}

SearchStop search_stopped(const Search *s)
{
    return s->stopped;
}

FmspErr search_run(Search *s, SearchProgressFn progress, void *ctx, char *err, size_t errlen)
{
    int next_final = s->last_done + 1;
    int next_plan = next_final;
    int next_stored = next_final; /* iterations below have a stored plan (or are submitted) */
    FmspErr e = FMSP_OK;
    while (!e) {
        while (!e && next_plan < next_final + s->k && budget_left(s, next_plan))
            e = plan_and_submit(s, next_plan++, err, errlen);
        /* Iteration i is planned once iteration i-K is final, whatever the
         * budgets say: past a budget (or a stop) the plan is stored without
         * asking the model, so a resumed or extended run plans every
         * iteration against the archive an uninterrupted run would have. */
        if (next_stored < next_plan)
            next_stored = next_plan;
        while (!e && next_stored < next_final + s->k)
            e = plan_only(s, next_stored++, err, errlen);
        if (e || next_final >= next_plan)
            break; /* nothing planned and nothing in flight: done */
        Slot *sl = &s->slots[next_final % s->k];
        if (sl->state == SLOT_READY) {
            e = slot_finalize(s, sl, err, errlen);
            if (!e) {
                next_final++;
                if (progress) {
                    SearchProgress p;
                    fill_progress(s, &p);
                    progress(ctx, &p);
                }
            }
            continue;
        }
        if (stop_requested && s->cfg.fm.backend != FM_BUILTIN) {
            /* Interrupted while a remote model is still answering: leave
             * the in-flight iterations to the resumed run. */
            break;
        }
        FmResponse r;
        FmspErr we = fm_wait(s->fm, 0.25, &r);
        if (we == FMSP_ERR_LIMIT)
            continue; /* time to look at the stop flag again */
        if (we) {
            fmsp_errf(err, errlen, "model client: %s", fmsp_strerror(we));
            e = we;
            break;
        }
        int it = (int)(r.tag / CALL_KEYS_PER_ITERATION);
        Slot *target = &s->slots[it % s->k];
        if (target->iteration != it || target->state != SLOT_WAITING) {
            fm_response_release(&r);
            continue; /* cannot happen: every request belongs to a waiting slot */
        }
        /* A call the network failed (refused connection, bad key, unknown
         * model, 5xx after the client's retries) is not the iteration's
         * answer: it is logged and asked again, and an endpoint that keeps
         * failing stops the run with its cause, the iteration still waiting
         * for its answer (a resume asks again: an outage loses nothing). */
        if (r.err == FMSP_ERR_NET) {
            s->net_fail_streak++;
            s->calls++;
            s->failed_calls++;
            char detail[700];
            snprintf(detail, sizeof detail, "iteration %d, attempt %d: %s", target->iteration,
                     target->attempt, r.error);
            if (store_event(s->db, target->iteration, "model_call_failed", detail))
                e = db_fail(s, FMSP_ERR_DB, err, errlen, "logging a failed model call");
            if (!e && s->net_fail_streak >= SEARCH_MAX_NET_FAILURES) {
                fmsp_errf(err, errlen, "the model endpoint failed %d times in a row, last: %s",
                          s->net_fail_streak, r.error);
                e = FMSP_ERR_NET;
            }
            fm_response_release(&r);
            if (!e) {
                FmResponse rec;
                int have = 0;
                e = search_slot_submit(s, target, &rec, &have, err, errlen);
                if (!e && have)
                    e = search_slot_on_answer(s, target, &rec, err, errlen);
            }
            continue;
        }
        s->net_fail_streak = 0;
        e = search_record_call(s, target, &r, target->attempt ? "repair" : "generate", err, errlen);
        if (!e)
            e = search_slot_on_answer(s, target, &r, err, errlen);
        else
            fm_response_release(&r);
    }
    /* Stop what is still in flight (a stalled endpoint must not hold the
     * stop), keeping every answer that did arrive: it was paid for, and a
     * resumed run uses it instead of asking again. */
    if (fm_in_flight(s->fm) > 0)
        fm_cancel(s->fm);
    while (fm_in_flight(s->fm) > 0) {
        FmResponse r;
        if (fm_wait(s->fm, -1, &r))
            break;
        int it = (int)(r.tag / CALL_KEYS_PER_ITERATION);
        Slot *target = &s->slots[it % s->k];
        char rerr[256];
        if (r.err == FMSP_OK && target->iteration == it && target->state == SLOT_WAITING)
            search_record_call(s, target, &r, target->attempt ? "repair" : "generate", rerr, sizeof rerr);
        fm_response_release(&r);
    }
    if (e == FMSP_ERR_INTERRUPTED) {
        e = FMSP_OK; /* the abandoned iteration was rolled back; resume redoes it */
        err[0] = 0;
    }
    if (!e) {
        s->stopped = s->last_done + 1 >= s->cfg.iterations ? SEARCH_FINISHED
                     : stop_requested                      ? SEARCH_INTERRUPTED
                                                           : SEARCH_BUDGET;
        store_meta_set(s->db, "status", s->stopped == SEARCH_FINISHED ? "finished" : "interrupted");
    }
    return e;
}

FmspErr search_dry_run(Search *s, char **pursuer_prompt, char **evader_prompt, char *err,
                       size_t errlen)
{
    *pursuer_prompt = *evader_prompt = NULL;
    for (int k = 0; k < 2; k++) {
        /* the next iteration of each side */
        int it = s->last_done + 1;
        while (side_of_iteration(s, it) != (k == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2) &&
               it < s->last_done + 1 + s->cfg.iterations)
            it++;
        Slot sl = {0};
        /* Plan without storing: build from the archive as search_slot_plan would. */
        FmspErr e = search_slot_plan(s, &sl, it, err, errlen);
        if (e) {
            slot_clear(&sl);
            return e;
        }
        char *text = search_slot_prompt_text(&sl);
        if (sl.side == DOMAIN_SIDE_1)
            *pursuer_prompt = text;
        else
            *evader_prompt = text;
        slot_clear(&sl);
    }
    return FMSP_OK;
}

const SearchConfig *search_config(const Search *s)
{
    return &s->cfg;
}

Store *search_store(Search *s)
{
    return s->db;
}

void search_free(Search *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->k; i++)
        slot_clear(&s->slots[i]);
    free(s->slots);
    fm_client_free(s->fm);
    embed_remote_free(s->remote);
    free(s->probe_obj[0]);
    free(s->probe_obj[1]);
    for (int k = 0; k < 2; k++) {
        archive_release(&s->arch[k]);
        archive_release(&s->base[k]);
        free(s->sample[k]);
    }
    search_pair_release(&s->pairs);
    store_close(s->db);
    free(s);
}
