/*
 * search_slot.c - one iteration in flight: planning it (task, parents,
 * prompt; the plan stored before the model is asked), asking the model or
 * replaying its recorded answer, and checking the answer (extraction,
 * compile, smoke test, embedding; repairs asked for on failure).
 */
#include "search_internal.h"

/* ------------------------------------------------------------- planning */

static FmTask plan_task(const Search *s, FmspRng *rng)
{
    switch (s->cfg.algo) {
    case ALGO_OPENLOOP:
        return FM_TASK_NEW;
    case ALGO_VFMSP:
        return FM_TASK_IMPROVE;
    case ALGO_NSSP:
        return FM_TASK_NOVEL;
    default:
        return fmsp_rng_uniform(rng) < 0.5 ? FM_TASK_IMPROVE : FM_TASK_NOVEL;
    }
}

static const char *task_name(FmTask t)
{
    static const char *const names[] = {"new", "improve", "novel", "repair", "judge"};
    return (unsigned)t < 5 ? names[t] : "?";
}

static FmTask task_parse(const char *name)
{
    for (int t = 0; t < 5; t++)
        if (name && strcmp(name, task_name((FmTask)t)) == 0)
            return (FmTask)t;
    return FM_TASK_NEW;
}

static PromptAlgo prompt_algo(SearchAlgo a)
{
    return a == ALGO_OPENLOOP ? PROMPT_OPENLOOP
                              : a == ALGO_VFMSP ? PROMPT_VFMSP : a == ALGO_NSSP ? PROMPT_NSSP : PROMPT_QDSP;
}

/* Builds the prompt of a planned slot from its parents (read from the db). */
static FmspErr slot_build_prompt(Search *s, Slot *sl, char *err, size_t errlen)
{
    PromptPolicy pp[MAX_PARENTS];
    char *details[MAX_PARENTS] = {0};
    StorePolicyRow rows[MAX_PARENTS];
    int n = 0;
    FmspErr e = FMSP_OK;
    for (int i = 0; i < sl->n_parents && !e; i++) {
        if (store_policy_get(s->db, sl->parents[i], &rows[n])) {
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "reading a parent policy");
            break;
        }
        if (rows[n].corrupt) {
            fmsp_errf(err, errlen, "policy #%lld's source does not match its stored hash: the run "
                                   "database was damaged or edited", (long long)rows[n].id);
            store_policy_row_release(&rows[n]);
            e = FMSP_ERR_DB;
            break;
        }
        sl->parent_sources[i] = xstrdup(rows[n].source ? rows[n].source : "");
        pp[n].name = rows[n].name;
        pp[n].source = rows[n].source;
        pp[n].quality = rows[n].quality;
        pp[n].results = NULL;
        pp[n].transcripts = NULL;
        /* what its matches looked like when it was evaluated (Gandalf) */
        if (s->dom->transcript_new && n < 2 &&
            store_transcripts_get(s->db, rows[n].id, rows[n].iteration, PROMPT_TRANSCRIPTS_CAP,
                                  &details[n]) == FMSP_OK && details[n])
            pp[n].transcripts = details[n];
        n++;
    }
    if (!e) {
        char opp[512];
        int nb = s->base[sidx(other(sl->side))].n;
        snprintf(opp, sizeof opp, "the %d human-designed %s baselines%s", nb,
                 s->dom->side_name[other(sl->side)],
                 s->cfg.algo == ALGO_VFMSP ? " and the current opposing policy"
                                           : " and a sample of the opposing archive");
        PromptSpec spec = {prompt_algo(s->cfg.algo), sl->task, sl->side, s->dom, &s->cfg.eval,
                           pp, n, opp};
        sl->system = prompt_system(s->dom);
        sl->messages[0] = prompt_user(&spec);
        sl->n_messages = 1;
    }
    for (int i = 0; i < n; i++) {
        free(details[i]);
        store_policy_row_release(&rows[i]);
    }
    return e;
}

/*
 * Plans iteration `it` into slot sl: reuses the stored plan when there is
 * one (resume), otherwise chooses parents from the current archive with the
 * iteration's RNG and stores the plan before anything is asked.
 */
FmspErr search_slot_plan(Search *s, Slot *sl, int it, char *err, size_t errlen)
{
    slot_clear(sl);
    sl->iteration = it;
    sl->side = side_of_iteration(s, it);
    sl->state = SLOT_WAITING;
    char *plan = NULL;
    FmspErr e = store_request_get(s->db, it, &plan);
    if (e == FMSP_OK && plan) {
        json_t *o = json_loads(plan, 0, NULL);
        free(plan);
        if (!o) {
            fmsp_errf(err, errlen, "stored plan of iteration %d is corrupt", it);
            return FMSP_ERR_DB;
        }
        sl->task = task_parse(json_string_value(json_object_get(o, "task")));
        sl->seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
        json_t *pa = json_object_get(o, "parents");
        for (size_t i = 0; i < json_array_size(pa) && sl->n_parents < MAX_PARENTS; i++)
            sl->parents[sl->n_parents++] = json_integer_value(json_array_get(pa, i));
        json_decref(o);
        return slot_build_prompt(s, sl, err, errlen);
    }
    free(plan);
    FmspRng rng;
    fmsp_rng_seed(&rng, mix(s->cfg.seed, (uint64_t)it, 0x504C414E));
    sl->task = plan_task(s, &rng);
    sl->seed = fmsp_rng_u64(&rng);
    const Archive *a = &s->arch[sidx(sl->side)];
    if (sl->task != FM_TASK_NEW && a->n > 0) {
        int pi;
        if (s->cfg.algo == ALGO_VFMSP) {
            pi = archive_best(a);
            if (pi < 0)
                pi = 0;
        } else {
            pi = (int)(fmsp_rng_u64(&rng) % (uint64_t)a->n);
        }
        sl->parents[sl->n_parents++] = a->entries[pi].id;
        if (s->cfg.algo != ALGO_VFMSP) {
            int nn[MAX_PARENTS];
            int k = s->cfg.neighbours < MAX_PARENTS - 1 ? s->cfg.neighbours : MAX_PARENTS - 1;
            int m = archive_knn(a, a->entries[pi].embedding, a->entries[pi].dim, k, pi, nn);
            for (int i = 0; i < m; i++)
                sl->parents[sl->n_parents++] = a->entries[nn[i]].id;
        }
    }
    json_t *o = json_pack("{s:i, s:i, s:s, s:I}", "iteration", it, "side", sl->side, "task",
                          task_name(sl->task), "seed", (json_int_t)sl->seed);
    json_t *pa = json_array();
    for (int i = 0; i < sl->n_parents; i++)
        json_array_append_new(pa, json_integer(sl->parents[i]));
    json_object_set_new(o, "parents", pa);
    char *text = json_dumps(o, JSON_SORT_KEYS);
    json_decref(o);
    e = store_request_put(s->db, it, text);
    free(text);
    if (e)
        return db_fail(s, e, err, errlen, "storing a plan");
    return slot_build_prompt(s, sl, err, errlen);
}

/* -------------------------------------------------- generate and check */

int search_call_key(int iteration, int attempt)
{
    return iteration * CALL_KEYS_PER_ITERATION + attempt;
}

/* The full prompt text of a slot's conversation, as recorded. */
char *search_slot_prompt_text(const Slot *sl)
{
    size_t len = strlen(sl->system ? sl->system : "") + 64;
    for (int i = 0; i < sl->n_messages; i++)
        len += strlen(sl->messages[i]) + 32;
    char *t = xmalloc(len);
    size_t off = (size_t)snprintf(t, len, "[system]\n%s\n", sl->system ? sl->system : "");
    for (int i = 0; i < sl->n_messages; i++)
        off += (size_t)snprintf(t + off, len - off, "[%s]\n%s\n", i % 2 ? "assistant" : "user",
                                sl->messages[i]);
    return t;
}

/* Submits the slot's next model call, unless it is already recorded, in
 * which case *recorded gets the stored answer (heap) to process at once. */
FmspErr search_slot_submit(Search *s, Slot *sl, FmResponse *recorded, int *have_recorded,
                           char *err, size_t errlen)
{
    *have_recorded = 0;
    int key = search_call_key(sl->iteration, sl->attempt);
    char *text = NULL, *cerr = NULL;
    long pt = 0, ct = 0;
    if (store_call_get(s->db, key, &text, &cerr, &pt, &ct) == FMSP_OK) {
        memset(recorded, 0, sizeof *recorded);
        recorded->tag = (uint64_t)key;
        recorded->text = text;
        recorded->err = cerr ? FMSP_ERR_NET : FMSP_OK;
        if (cerr)
            snprintf(recorded->error, sizeof recorded->error, "%s", cerr);
        free(cerr);
        recorded->prompt_tokens = pt;
        recorded->completion_tokens = ct;
        *have_recorded = 1;
        return FMSP_OK;
    }
    FmMessage msgs[MAX_MESSAGES];
    for (int i = 0; i < sl->n_messages; i++) {
        msgs[i].role = i % 2 ? "assistant" : "user";
        msgs[i].content = sl->messages[i];
    }
    FmHint hint = {sl->attempt == 0 ? sl->task : FM_TASK_REPAIR, sl->side,
                   (const char *const *)sl->parent_sources, sl->n_parents,
                   mix(sl->seed, (uint64_t)sl->attempt, 0x4841), s->dom->name};
    const char *failed[1];
    if (sl->attempt > 0 && sl->source) {
        failed[0] = sl->source;
        hint.parents = failed;
        hint.n_parents = 1;
    }
    FmRequest req = {sl->system, msgs, sl->n_messages, &hint, (uint64_t)key, key, NULL};
    FmspErr e = fm_submit(s->fm, &req);
    if (e)
        fmsp_errf(err, errlen, "cannot queue a model request: %s", fmsp_strerror(e));
    return e;
}

static void slot_fail(Slot *sl, const char *status, const char *reason)
{
    sl->status = status;
    free(sl->reason);
    sl->reason = xstrdup(reason ? reason : "");
    sl->state = SLOT_READY;
}

/* Records a model call (own transaction: it is paid for, keep it). */
FmspErr search_record_call(Search *s, Slot *sl, const FmResponse *r, const char *purpose,
                           char *err, size_t errlen)
{
    char *prompt = search_slot_prompt_text(sl);
    StoreCall c = {0};
    c.iteration = sl->iteration;
    c.side = sl->side;
    c.purpose = purpose;
    c.backend = fm_backend_name(s->cfg.fm.backend);
    c.model = s->cfg.fm.model;
    c.prompt = prompt;
    c.response = r->text;
    c.prompt_tokens = r->prompt_tokens;
    c.completion_tokens = r->completion_tokens;
    c.latency_s = r->latency_s;
    c.cost_usd = r->cost_usd;
    c.http_status = r->http_status;
    c.attempts = r->attempts;
    c.error = r->err ? r->error : NULL;
    c.key = (int)r->tag;
    FmspErr e = store_call_add(s->db, &c);
    free(prompt);
    if (e)
        return db_fail(s, e, err, errlen, "recording a model call");
    s->calls++;
    s->failed_calls += r->err != FMSP_OK;
    s->tokens += r->prompt_tokens + r->completion_tokens;
    s->cost += r->cost_usd;
    return FMSP_OK;
}

/* Plays a short match against the first baseline of the other side.
 * 1: played cleanly; 0: the policy faulted (why); -1: the engine failed
 * (*engine set, why holds the cause). */
static int smoke_test(Search *s, Slot *sl, char *why, size_t whylen, FmspErr *engine)
{
    const Archive *ob = &s->base[sidx(other(sl->side))];
    if (ob->n == 0)
        return 1;
    MatchConfig mc = s->cfg.eval;
    mc.episodes = SMOKE_EPISODES;
    mc.batch = SMOKE_EPISODES;
    mc.seed = mix(s->cfg.seed, 0x534D4F4B, 0);
    MatchResult r;
    char err[512];
    const char *mine = sl->compiled.object_path, *theirs = ob->entries[0].object_path;
    FmspErr e = match_play(&mc, sl->side == DOMAIN_SIDE_1 ? mine : theirs,
                           sl->side == DOMAIN_SIDE_1 ? theirs : mine, NULL, NULL, &r, err,
                           sizeof err);
    if (e) {
        fmsp_errf(why, whylen, "%s", err);
        *engine = e;
        return -1;
    }
    int ok = 1;
    for (int i = 0; i < r.n && ok; i++) {
        const Fault *f = sl->side == DOMAIN_SIDE_1 ? &r.episodes[i].fault[0]
                                                  : &r.episodes[i].fault[1];
        if (f->kind != FAULT_NONE) {
            fmsp_errf(why, whylen, "runtime fault in a test episode (%s): %s",
                      fault_name(f->kind), f->detail);
            ok = 0;
        }
    }
    match_result_release(&r);
    return ok;
}

/*
 * Processes a model answer for a slot: extract (or apply edits), compile,
 * smoke-test. On a fixable failure with repairs left, appends the answer and
 * a repair prompt and submits again. Leaves the slot READY or WAITING.
 */
FmspErr search_slot_on_answer(Search *s, Slot *sl, FmResponse *r, char *err, size_t errlen)
{
    for (;;) {
        sl->attempt++;
        if (r->err) {
            slot_fail(sl, "model_error", r->error[0] ? r->error : fmsp_strerror(r->err));
            fm_response_release(r);
            return FMSP_OK;
        }
        char *text = r->text ? r->text : xstrdup("");
        r->text = NULL;
        char why[4096] = "";
        const char *fail_status = NULL;
        char *code = NULL;
        if (sl->n_parents > 0 && extract_has_edits(text)) {
            if (extract_apply_edits(sl->parent_sources[0], text, &code, why, sizeof why)) {
                fail_status = "edit_failed";
            }
        } else if (extract_policy_code(text, &code, why, sizeof why)) {
            fail_status = "no_code";
        }
        if (!fail_status) {
            free(sl->source);
            sl->source = code;
            code = NULL;
            char name[64];
            snprintf(name, sizeof name, "it%d.c", sl->iteration);
            if (sl->has_object)
                compile_result_release(&sl->compiled);
            char cerr[512] = "";
            FmspErr ce = compile_policy_source(&s->cc, sl->source, strlen(sl->source), name,
                                               &sl->compiled, cerr, sizeof cerr);
            sl->has_object = 1;
            FmspErr engine = FMSP_OK;
            if (ce == FMSP_ERR_IO) {
                /* the engine could not compile (disk full, no jail): not the
                 * candidate's fault; stop, and the iteration is redone on resume */
                engine = ce;
                snprintf(why, sizeof why, "%s", cerr);
            } else if (ce) {
                fail_status = ce == FMSP_ERR_REFUSED ? "refused" : "compile_error";
                snprintf(why, sizeof why, "%s%s%s", cerr,
                         sl->compiled.diagnostics ? "\n" : "",
                         sl->compiled.diagnostics ? sl->compiled.diagnostics : "");
                compile_result_release(&sl->compiled);
                sl->has_object = 0;
            } else if (domain_of_side_macro(sl->compiled.side_macro) &&
                       domain_of_side_macro(sl->compiled.side_macro) != s->dom) {
                fail_status = "refused";
                snprintf(why, sizeof why, "the policy is written for %s (FMSP_SIDE(%s)); this run "
                                          "plays %s: include \"%s\" and declare FMSP_SIDE(%s)",
                         domain_of_side_macro(sl->compiled.side_macro)->title,
                         sl->compiled.side_macro, s->dom->title, s->dom->header,
                         s->dom->side_macro[sl->side]);
            } else if (sl->compiled.side != sl->side) {
                fail_status = "refused";
                snprintf(why, sizeof why, "the policy declares the wrong side: this iteration "
                                          "needs FMSP_SIDE(%s)",
                         s->dom->side_macro[sl->side]);
            } else {
                int played = smoke_test(s, sl, why, sizeof why, &engine);
                if (played == 0)
                    fail_status = "fault";
            }
            if (engine) {
                compile_result_release(&sl->compiled);
                sl->has_object = 0;
                free(code);
                free(text);
                fm_response_release(r);
                fmsp_errf(err, errlen, "%s", why);
                return engine;
            }
        }
        free(code);
        fm_response_release(r);
        if (!fail_status) {
            free(text);
            char eerr[512] = "";
            int probe;
            FmspErr ee = search_embed_policy(s, sl->side, sl->source, sl->compiled.object_path,
                                      &sl->embedding, &probe, eerr, sizeof eerr);
            if (ee && probe) { /* the behaviour probe failed for engine reasons: stop */
                fmsp_errf(err, errlen, "%s", eerr);
                return ee;
            }
            if (ee) {
                slot_fail(sl, "embed_error", eerr);
                return FMSP_OK;
            }
            sl->status = "ok";
            sl->state = SLOT_READY;
            return FMSP_OK;
        }
        if (sl->attempt > s->cfg.max_repairs || sl->n_messages + 2 > MAX_MESSAGES) {
            free(text);
            slot_fail(sl, fail_status, why);
            return FMSP_OK;
        }
        /* Repair: the model sees its answer and what went wrong. */
        sl->messages[sl->n_messages++] = text[0] ? text : (free(text), xstrdup("(empty answer)"));
        const char *prefix = strcmp(fail_status, "edit_failed") == 0
                                 ? "Your edits could not be applied; send the whole file. "
                                 : "";
        char *reason = xasprintf("%s%s", prefix, why);
        sl->messages[sl->n_messages++] = prompt_repair(reason);
        free(reason);
        free(sl->reason);
        sl->reason = xstrdup(why);
        int have;
        FmspErr e = search_slot_submit(s, sl, r, &have, err, errlen);
        if (e || !have)
            return e;
        /* recorded repair answer: loop to process it */
    }
}
