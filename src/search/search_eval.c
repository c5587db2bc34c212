/*
 * search_eval.c - quality: a policy's matches against its opponents (the
 * other side's baselines and a sample of its archive), played in parallel
 * and recorded, re-scoring of the archives, and the end-of-run report with
 * its stored verdict.
 */
#include "search_internal.h"

/* ------------------------------------------------------------- evaluation */

/* Object path of an opponent id: baselines first, then the archive. */
static const ArchiveEntry *find_entry(const Search *s, int side, int64_t id)
{
    int i = archive_find(&s->base[sidx(side)], id);
    if (i >= 0)
        return &s->base[sidx(side)].entries[i];
    i = archive_find(&s->arch[sidx(side)], id);
    return i >= 0 ? &s->arch[sidx(side)].entries[i] : NULL;
}

/* The opponents of `side`: every baseline of the other side plus the sample. */
static int opponents_of(const Search *s, int side, int64_t *out, int cap)
{
    int n = 0, o = sidx(other(side));
    for (int i = 0; i < s->base[o].n && n < cap; i++)
        out[n++] = s->base[o].entries[i].id;
    for (int i = 0; i < s->n_sample[sidx(side)] && n < cap; i++) {
        int64_t id = s->sample[sidx(side)][i];
        int dup = 0;
        for (int j = 0; j < n; j++)
            dup |= out[j] == id;
        if (!dup && find_entry(s, other(side), id))
            out[n++] = id;
    }
    return n;
}

/*
 * Quality of policy (id, object) of `side` against its opponents. Plays the
 * pairs not in the cache (in parallel), records them in the evaluations
 * table. per_score/per_ci (may be NULL; room for 256) get each opponent's
 * pair, in opponents_of order; *detail (heap, may be NULL) lists them.
 */
FmspErr search_evaluate(Search *s, int side, int64_t id, const char *object, int iteration,
                        Quality *quality, double *per_score, double *per_ci, char **detail,
                        char *err, size_t errlen)
{
    int64_t opp[256];
    int n = opponents_of(s, side, opp, 256);
    MatchJob *jobs = xcalloc((size_t)n + 1, sizeof *jobs);
    int *which = xcalloc((size_t)n + 1, sizeof *which);
    int nj = 0;
    for (int i = 0; i < n; i++) {
        double sc;
        if (id > 0 && search_pair_get(&s->pairs, id, opp[i], &sc, NULL))
            continue;
        const ArchiveEntry *o = find_entry(s, other(side), opp[i]);
        jobs[nj].obj[0] = side == DOMAIN_SIDE_1 ? object : o->object_path;
        jobs[nj].obj[1] = side == DOMAIN_SIDE_1 ? o->object_path : object;
        /* a domain with transcripts keeps a sample of each candidate's
         * matches, for the prompts that build on it */
        if (id > 0 && s->dom->transcript_new)
            jobs[nj].trace_ctx = s->dom->transcript_new();
        which[nj++] = i;
    }
    MatchConfig mc = s->cfg.eval;
    if (s->dom->transcript_new)
        mc.trace = s->dom->transcript_collect;
    FmspErr e = nj ? match_play_many(&mc, jobs, nj, s->threads, NULL, NULL, err, errlen)
                   : FMSP_OK;
    double *scores = xcalloc((size_t)n + 1, sizeof *scores);
    double *cis = xcalloc((size_t)n + 1, sizeof *cis);
    for (int i = 0; i < n; i++)
        if (id > 0)
            search_pair_get(&s->pairs, id, opp[i], &scores[i], &cis[i]);
    for (int j = 0; j < nj && !e; j++) {
        const MatchResult *r = &jobs[j].result;
        double own = side == DOMAIN_SIDE_1 ? r->mean[0] : r->mean[1];
        scores[which[j]] = own;
        cis[which[j]] = r->ci95[sidx(side)];
        if (id > 0 && !s->reporting) {
            search_pair_put(&s->pairs, id, opp[which[j]], own, r->ci95[sidx(side)]);
            StoreEval ev = {id, opp[which[j]], iteration, own, r->ci95[sidx(side)], r->n,
                            side == DOMAIN_SIDE_1 ? r->faults[0] : r->faults[1],
                            side == DOMAIN_SIDE_1 ? r->faults[1] : r->faults[0], NULL};
            if (store_eval_add(s->db, &ev))
                e = db_fail(s, FMSP_ERR_DB, err, errlen, "recording an evaluation");
            if (!e && jobs[j].trace_ctx) {
                const ArchiveEntry *o = find_entry(s, other(side), opp[which[j]]);
                char *sample = s->dom->transcript_sample(jobs[j].trace_ctx, o ? o->name : "?",
                                                         TRANSCRIPT_CAP);
                if (sample && store_transcript_add(s->db, id, opp[which[j]], iteration, sample))
                    e = db_fail(s, FMSP_ERR_DB, err, errlen, "recording a transcript");
                free(sample);
                /* a paid-for model saw these: every exchange is kept */
                char *full = !e && s->dom->record_every_exchange(&s->cfg.eval)
                                 ? s->dom->transcript_full(jobs[j].trace_ctx)
                                 : NULL;
                if (full) {
                    char *record = xasprintf("{\"policy\": %lld, \"opponent\": %lld}\n%s",
                                             (long long)id, (long long)opp[which[j]], full);
                    if (store_event(s->db, iteration, "exchanges", record))
                        e = db_fail(s, FMSP_ERR_DB, err, errlen, "recording exchanges");
                    free(record);
                    free(full);
                }
            }
        }
    }
    for (int j = 0; j < nj; j++) {
        match_result_release(&jobs[j].result);
        if (jobs[j].trace_ctx)
            s->dom->transcript_free(jobs[j].trace_ctx);
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
        sum += scores[i];
        if (per_score && i < 256)
            per_score[i] = scores[i];
        if (per_ci && i < 256)
            per_ci[i] = cis[i];
    }
    quality->mean = n ? sum / n : NAN;
    quality->ci = stats_mean_of_means_ci(cis, n);
    quality->opponents = n;
    if (detail) {
        size_t cap = 64 + (size_t)n * 80, len = 0;
        char *d = xmalloc(cap);
        d[0] = 0;
        for (int i = 0; i < n; i++) {
            const ArchiveEntry *o = find_entry(s, other(side), opp[i]);
            len += (size_t)snprintf(d + len, cap - len, "%s%s %.2f", i ? ", " : "vs ",
                                    o ? o->name : "?", scores[i]);
            if (len >= cap)
                break;
        }
        *detail = d;
    }
    free(scores);
    free(cis);
    free(jobs);
    free(which);
    return e;
}

/* vFMSP and QDSP decide by quality; open-loop and NSSP only record it. */
int search_uses_quality(const Search *s)
{
    return s->cfg.algo == ALGO_VFMSP || s->cfg.algo == ALGO_QDSP;
}

/*
 * Refreshes the opponent samples and re-scores every archive member. A
 * sample keeps its members while they stay in the other archive; departed
 * ones are replaced, and one more (the oldest) rotates out for a new one, so
 * the sample follows the other side without every member having to play a
 * whole new set of opponents at each refresh. vFMSP's "sample" is the whole
 * other archive (its incumbent). Open-loop and NSSP ignore quality, so for
 * them the sample stays empty: quality is the score against the baselines,
 * which never changes, and the archive never needs re-scoring.
 */
FmspErr search_rescore(Search *s, int iteration, char *err, size_t errlen)
{
    for (int k = 0; k < 2; k++) {
        int side = k == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2;
        const Archive *oa = &s->arch[sidx(other(side))];
        int64_t *old = s->sample[k];
        int n_old = s->n_sample[k];
        s->sample[k] = xcalloc((size_t)oa->n + 1, sizeof(int64_t));
        s->n_sample[k] = 0;
        int *pool = xmalloc(sizeof(int) * ((size_t)oa->n + 1));
        int m = 0;
        for (int i = 0; i < oa->n; i++)
            if (!oa->entries[i].origin_baseline)
                pool[m++] = i;
        int want = s->cfg.algo == ALGO_VFMSP ? m : (s->cfg.opponents < m ? s->cfg.opponents : m);
        if (!search_uses_quality(s))
            want = 0;
        FmspRng rng;
        fmsp_rng_seed(&rng, mix(s->cfg.seed, (uint64_t)iteration, 0x5A4D + (uint64_t)k));
        /* keep the members still there, except the oldest when rotating */
        int kept = 0;
        for (int i = 0; i < n_old; i++) {
            int at = archive_find(oa, old[i]);
            if (at < 0 || oa->entries[at].origin_baseline)
                continue;
            kept++;
            if (kept == 1 && n_old >= want && m > want && s->cfg.algo != ALGO_VFMSP)
                continue; /* rotate the oldest out */
            if (s->n_sample[k] < want)
                s->sample[k][s->n_sample[k]++] = old[i];
        }
        /* fill up with random members not yet in the sample */
        while (s->n_sample[k] < want) {
            int free_n = 0;
            for (int i = 0; i < m; i++) {
                int64_t id = oa->entries[pool[i]].id;
                int in = 0;
                for (int j = 0; j < s->n_sample[k]; j++)
                    in |= s->sample[k][j] == id;
                if (!in)
                    pool[free_n++] = pool[i];
            }
            if (free_n == 0)
                break;
            int pick = (int)(fmsp_rng_u64(&rng) % (uint64_t)free_n);
            s->sample[k][s->n_sample[k]++] = oa->entries[pool[pick]].id;
            m = free_n; /* pool now holds only the unused ones */
        }
        free(pool);
        free(old);
    }
    FmspErr e = search_save_samples(s);
    if (e)
        return db_fail(s, e, err, errlen, "saving opponent samples");
    for (int k = 0; k < 2 && !e; k++) {
        int side = k == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2;
        Archive *a = &s->arch[k];
        for (int i = 0; i < a->n && !e; i++) {
            Quality q;
            e = search_evaluate(s, side, a->entries[i].id, a->entries[i].object_path, iteration, &q,
                         NULL, NULL, NULL, err, errlen);
            if (!e) {
                a->entries[i].quality = q.mean;
                a->entries[i].quality_ci = q.ci;
                if (store_policy_set_quality(s->db, a->entries[i].id, q.mean, q.ci, q.opponents))
                    e = db_fail(s, FMSP_ERR_DB, err, errlen, "updating quality");
            }
        }
    }
    return e;
}

/* Mean own-side score of a policy against every baseline of the other side. */
static FmspErr vs_baselines(Search *s, int side, int64_t id, const char *object, Quality *out,
                            double *per, char *err, size_t errlen)
{
    int64_t saved_n = s->n_sample[sidx(side)];
    s->n_sample[sidx(side)] = 0; /* opponents = baselines only */
    s->reporting = 1;
    FmspErr e = search_evaluate(s, side, id, object, s->last_done, out, per, NULL, NULL, err, errlen);
    s->reporting = 0;
    s->n_sample[sidx(side)] = (int)saved_n;
    return e;
}

/* The verdict as stored in meta "verdict" (docs/report-format.md). */
static json_t *verdict_json(const Search *s, int side, const SearchVerdict *v)
{
    json_t *o = json_object();
    char pool[160];
    snprintf(pool, sizeof pool, "the %d baseline %ss (the search's fixed opponents too)",
             v->opponents, s->dom->side_name[other(side)]);
    json_object_set_new(o, "side", json_integer(side));
    json_object_set_new(o, "pool", json_string(pool));
    json_object_set_new(o, "opponents", json_integer(v->opponents));
    json_object_set_new(o, "episodes", json_integer(v->episodes));
    if (v->found_id) {
        json_t *f = json_object();
        json_object_set_new(f, "id", json_integer(v->found_id));
        json_object_set_new(f, "name", json_string(v->found));
        json_object_set_new(f, "mean", json_real(v->found_mean));
        json_object_set_new(f, "ci", json_real(v->found_ci));
        json_object_set_new(o, "best_found", f);
    } else {
        json_object_set_new(o, "best_found", json_null());
    }
    json_t *bl = json_object();
    json_object_set_new(bl, "name", json_string(v->baseline));
    json_object_set_new(bl, "mean", isnan(v->base_mean) ? json_null() : json_real(v->base_mean));
    json_object_set_new(bl, "ci", isnan(v->base_ci) ? json_null() : json_real(v->base_ci));
    json_object_set_new(o, "best_baseline", bl);
    json_object_set_new(o, "margin", isnan(v->margin) ? json_null() : json_real(v->margin));
    json_object_set_new(o, "margin_ci", isnan(v->margin_ci) ? json_null()
                                                            : json_real(v->margin_ci));
    json_object_set_new(o, "result", v->result ? json_string(v->result) : json_null());
    json_object_set_new(o, "test", json_string("paired Student t over the pool's opponents, "
                                               "common seeds; beat/lose when the 95% interval "
                                               "excludes 0"));
    return o;
}

FmspErr search_report(Search *s, SearchReport *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    FmspErr e = FMSP_OK;
    json_t *all = json_array();
    for (int k = 0; k < 2 && !e; k++) {
        int side = k == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2;
        SearchVerdict *v = &rep->verdict[k];
        rep->archive[k] = s->arch[k].n;
        v->opponents = s->base[1 - k].n < 256 ? s->base[1 - k].n : 256;
        v->episodes = s->cfg.eval.episodes;
        v->found_mean = v->found_ci = v->base_mean = v->base_ci = NAN;
        v->margin = v->margin_ci = NAN;
        double found[256], base[256], per[256];
        for (int i = 0; i < s->arch[k].n && !e; i++) {
            ArchiveEntry *en = &s->arch[k].entries[i];
            if (en->origin_baseline)
                continue;
            Quality q;
            e = vs_baselines(s, side, en->id, en->object_path, &q, per, err, errlen);
            if (!e && (isnan(v->found_mean) || q.mean > v->found_mean)) {
                v->found_mean = q.mean;
                v->found_ci = q.ci;
                v->found_id = en->id;
                snprintf(v->found, sizeof v->found, "%s", en->name);
                memcpy(found, per, sizeof found);
            }
        }
        for (int i = 0; i < s->base[k].n && !e; i++) {
            ArchiveEntry *en = &s->base[k].entries[i];
            Quality q;
            e = vs_baselines(s, side, en->id, en->object_path, &q, per, err, errlen);
            if (!e && (isnan(v->base_mean) || q.mean > v->base_mean)) {
                v->base_mean = q.mean;
                v->base_ci = q.ci;
                snprintf(v->baseline, sizeof v->baseline, "%s", en->name);
                memcpy(base, per, sizeof base);
            }
        }
        if (!e && v->found_id && !isnan(v->base_mean)) {
            double d[256];
            for (int j = 0; j < v->opponents; j++)
                d[j] = found[j] - base[j];
            stats_mean_ci(d, v->opponents, &v->margin, &v->margin_ci);
            v->result = v->opponents < 2                 ? "undecided"
                        : v->margin - v->margin_ci > 0 ? "beat"
                        : v->margin + v->margin_ci < 0 ? "lose"
                                                       : "tie";
            if (v->opponents < 2)
                v->margin_ci = NAN;
        }
        if (!e)
            json_array_append_new(all, verdict_json(s, side, v));
        /* distinct strategies: greedy clustering of every valid candidate */
        StorePolicyRow *rows;
        int n;
        if (!e && store_policy_list(s->db, side, 0, &rows, &n) == FMSP_OK) {
            float **reps = xcalloc((size_t)n + 1, sizeof *reps);
            int m = 0;
            for (int i = 0; i < n; i++) {
                StorePolicyRow *r = &rows[i];
                if (r->iteration < 0 || !r->embedding || r->embedding_dim != s->dim)
                    continue;
                if (strcmp(r->status, "ok") != 0 && strcmp(r->status, "rejected") != 0)
                    continue;
                int novel = 1;
                for (int j = 0; j < m && novel; j++)
                    novel = archive_distance(r->embedding, reps[j], s->dim) > s->cfg.novelty;
                if (novel)
                    reps[m++] = r->embedding;
            }
            rep->distinct[k] = m;
            free(reps);
            store_policy_rows_free(rows, n);
        }
    }
    char *text = e ? NULL : json_dumps(all, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(all);
    if (text && store_meta_set(s->db, "verdict", text))
        e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing the verdict");
    free(text);
    return e;
}
