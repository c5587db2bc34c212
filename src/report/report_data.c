/*
 * report_data.c - the report's data from run databases (report_data.h).
 *
 * The map: per side, one PCA over the built-in code embeddings of every
 * policy of every run given (baselines included; computed from the sources,
 * so runs that stored behaviour or a remote model's vectors share the space), so points and QD-scores of several runs
 * share one projection and one grid (bounds over all the side's points).
 * QD-scores here use each policy's quality as its run measured it (the
 * search's own opponents; `fmsp compare` re-measures on a held-out pool).
 */
#include "report/report_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "domains/domain.h"
#include "domains/gandalf/settings.h"
#include "eval/qd.h"
#include "fm/embed.h"
#include "search/search.h"
#include "store/store.h"

#define PROMPT_CAP (48 * 1024) /* a prompt longer than this is cut in the page */

typedef struct Run {
    const char *path;
    char name[128];
    Store *db;
    SearchConfig cfg;
    const Domain *dom;
    char *status;
    StorePolicyRow *pol;
    int np;
    StoreEvalRow *ev;
    int ne;
    StoreCallRow *calls;
    int nc;
    StoreIterationRow *its;
    int ni;
    double *x, *y; /* per policy, NAN without a point */
    int *ev_first, *ev_next; /* evaluations of policy i: ev_first[i], then ev_next[e]; -1 ends */
} Run;

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void run_release(Run *r)
{
    store_policy_rows_free(r->pol, r->np);
    free(r->ev);
    store_call_rows_free(r->calls, r->nc);
    store_iteration_rows_free(r->its, r->ni);
    free(r->status);
    free(r->x);
    free(r->y);
    free(r->ev_first);
    free(r->ev_next);
    store_close(r->db);
}

/* Policies are listed in id order (store_policy_list): binary search. */
static int policy_index(const Run *r, int64_t id)
{
    int lo = 0, hi = r->np - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (r->pol[mid].id == id)
            return mid;
        if (r->pol[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int run_load(Run *r, const char *path, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    const char *base = strrchr(path, '/');
    snprintf(r->name, sizeof r->name, "%s", base ? base + 1 : path);
    char *dot = strrchr(r->name, '.');
    if (dot && strcmp(dot, ".db") == 0)
        *dot = 0;
    char e2[512];
    if (store_open(path, 0, &r->db, e2, sizeof e2)) {
        fmsp_errf(err, errlen, "%s", e2);
        return -1;
    }
    char *config = NULL;
    store_meta_get(r->db, "config", &config);
    if (!config || search_config_from_json(config, &r->cfg, e2, sizeof e2) != FMSP_OK) {
        fmsp_errf(err, errlen, "%s has no readable run config (its set-up never finished)", path);
        free(config);
        return -1;
    }
    free(config);
    r->dom = domain_find(r->cfg.domain[0] ? r->cfg.domain : "cartag");
    if (!r->dom) {
        fmsp_errf(err, errlen, "%s holds a run of an unknown domain '%s'", path, r->cfg.domain);
        return -1;
    }
    store_meta_get(r->db, "status", &r->status);
    if (store_policy_list(r->db, 0, 0, &r->pol, &r->np) ||
        store_eval_list(r->db, &r->ev, &r->ne) || store_call_list(r->db, &r->calls, &r->nc) ||
        store_iteration_list(r->db, &r->its, &r->ni)) {
        fmsp_errf(err, errlen, "%s", store_errmsg(r->db));
        return -1;
    }
    /* one space for every run's map: the built-in code embedding of each
     * source, whatever the run stored (behaviour, both, a remote model) */
    for (int i = 0; i < r->np; i++) {
        StorePolicyRow *p = &r->pol[i];
        free(p->embedding);
        p->embedding = NULL;
        p->embedding_dim = 0;
        if (p->source && !p->corrupt) {
            p->embedding = xmalloc(sizeof(float) * EMBED_DIM);
            embed_builtin(p->source, p->embedding, EMBED_DIM);
            p->embedding_dim = EMBED_DIM;
        }
    }
    /* each policy's evaluations, in the order stored, found without a scan */
    r->ev_first = xmalloc(sizeof(int) * ((size_t)r->np + 1));
    r->ev_next = xmalloc(sizeof(int) * ((size_t)r->ne + 1));
    for (int i = 0; i < r->np; i++)
        r->ev_first[i] = -1;
    for (int e = r->ne - 1; e >= 0; e--) {
        int at = policy_index(r, r->ev[e].policy_id);
        r->ev_next[e] = at >= 0 ? r->ev_first[at] : -1;
        if (at >= 0)
            r->ev_first[at] = e;
    }
    r->x = xmalloc(sizeof(double) * ((size_t)r->np + 1));
    r->y = xmalloc(sizeof(double) * ((size_t)r->np + 1));
    for (int i = 0; i < r->np; i++)
        r->x[i] = r->y[i] = NAN;
    return 0;
}


static int valid(const StorePolicyRow *p)
{
    return !strcmp(p->status, "ok") || !strcmp(p->status, "rejected");
}

/* One PCA per side over every run's policies with an embedding of the
 * first dimension seen; fills each run's x, y and the side's bounds. */
static void project(Run *runs, int nr, int side, int grid, double lo[2], double hi[2],
                    double explained[2])
{
    int dim = 0, m = 0;
    for (int k = 0; k < nr; k++)
        for (int i = 0; i < runs[k].np; i++) {
            StorePolicyRow *p = &runs[k].pol[i];
            if (p->side != side || !p->embedding)
                continue;
            if (!dim)
                dim = p->embedding_dim;
            m += p->embedding_dim == dim;
        }
    explained[0] = explained[1] = NAN;
    lo[0] = lo[1] = hi[0] = hi[1] = NAN;
    if (m < 1 || dim < 2)
        return;
    float *pts = xmalloc(sizeof(float) * (size_t)m * (size_t)dim);
    double *proj = xmalloc(sizeof(double) * (size_t)m * 2), *q = xmalloc(sizeof(double) * (size_t)m);
    int j = 0;
    for (int k = 0; k < nr; k++)
        for (int i = 0; i < runs[k].np; i++) {
            StorePolicyRow *p = &runs[k].pol[i];
            if (p->side == side && p->embedding && p->embedding_dim == dim) {
                memcpy(pts + (size_t)j * (size_t)dim, p->embedding, sizeof(float) * (size_t)dim);
                q[j++] = 0;
            }
        }
    if (pca_project(pts, m, dim, 2, proj, explained) == 0) {
        j = 0;
        for (int k = 0; k < nr; k++)
            for (int i = 0; i < runs[k].np; i++) {
                StorePolicyRow *p = &runs[k].pol[i];
                if (p->side == side && p->embedding && p->embedding_dim == dim) {
                    runs[k].x[i] = proj[2 * j];
                    runs[k].y[i] = proj[2 * j + 1];
                    j++;
                }
            }
        QdMap map;
        if (qd_score(proj, q, m, grid, 0, NULL, NULL, &map) == 0) {
            memcpy(lo, map.lo, sizeof map.lo);
            memcpy(hi, map.hi, sizeof map.hi);
        }
    }
    free(pts);
    free(proj);
    free(q);
}

/* QD-score and coverage of the given policies (indices into r->pol, with
 * qualities) on the side's shared map; NAN/0 without a map. */
static void qd_of(const Run *r, const int *idx, const double *qual, int n, int grid,
                  const double lo[2], const double hi[2], double *score, int *coverage)
{
    *score = NAN;
    *coverage = 0;
    if (isnan(lo[0]))
        return;
    double *pts = xmalloc(sizeof(double) * 2 * ((size_t)n + 1));
    double *q = xmalloc(sizeof(double) * ((size_t)n + 1));
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (isnan(r->x[idx[i]]))
            continue;
        pts[2 * m] = r->x[idx[i]];
        pts[2 * m + 1] = r->y[idx[i]];
        q[m++] = qual[i];
    }
    QdMap map;
    if (qd_score(pts, q, m, grid, 0, lo, hi, &map) == 0) {
        *score = map.qd_score;
        *coverage = map.coverage;
    }
    free(pts);
    free(q);
}

/* The prompt of each candidate: the k-th generate/repair call of its
 * iteration goes with the k-th candidate of that iteration. */
static json_t *prompts_and_links(const Run *r, int *prompt_of)
{
    json_t *prompts = json_object();
    for (int i = 0; i < r->np; i++)
        prompt_of[i] = -1;
    for (int i = 0; i < r->np; i++) {
        const StorePolicyRow *p = &r->pol[i];
        if (p->iteration < 0)
            continue;
        int nth = 0;
        for (int j = 0; j < i; j++)
            nth += r->pol[j].iteration == p->iteration && r->pol[j].side == p->side;
        int seen = 0, last = -1;
        for (int c = 0; c < r->nc; c++) {
            const StoreCallRow *call = &r->calls[c];
            if (call->iteration != p->iteration || !call->prompt ||
                (call->purpose && strcmp(call->purpose, "generate") && strcmp(call->purpose, "repair")))
                continue;
            last = c;
            if (seen++ == nth)
                break;
        }
        if (last < 0)
            continue;
        prompt_of[i] = (int)r->calls[last].id;
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)r->calls[last].id);
        if (!json_object_get(prompts, key)) {
            const char *t = r->calls[last].prompt;
            size_t len = strlen(t);
            char *cut = len > PROMPT_CAP ? xasprintf("%.*s\n[... %zu more bytes not shown]",
                                                     PROMPT_CAP, t, len - PROMPT_CAP)
                                         : NULL;
            json_object_set_new(prompts, key, json_string(cut ? cut : t));
            free(cut);
        }
    }
    return prompts;
}

static json_t *policy_json(const Run *r, int i, int prompt_id)
{
    const StorePolicyRow *p = &r->pol[i];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "side", json_integer(p->side));
    json_object_set_new(o, "iteration", json_integer(p->iteration));
    json_object_set_new(o, "name", json_string(p->name ? p->name : "?"));
    json_object_set_new(o, "origin", json_string(p->origin));
    json_object_set_new(o, "status", json_string(p->status));
    json_object_set_new(o, "reason", json_string(p->reason ? p->reason : ""));
    json_object_set_new(o, "quality", num(p->quality));
    json_object_set_new(o, "ci", num(p->quality_ci));
    json_object_set_new(o, "opponents", json_integer(p->quality_opponents));
    json_object_set_new(o, "in_archive", json_boolean(p->in_archive));
    json_t *parents = json_loads(p->parents ? p->parents : "[]", 0, NULL);
    json_object_set_new(o, "parents", json_is_array(parents) ? parents : json_array());
    if (!json_is_array(parents))
        json_decref(parents);
    json_object_set_new(o, "x", num(r->x[i]));
    json_object_set_new(o, "y", num(r->y[i]));
    json_object_set_new(o, "source", p->source && !p->corrupt ? json_string(p->source)
                                                              : json_null());
    json_object_set_new(o, "prompt", prompt_id >= 0 ? json_integer(prompt_id) : json_null());
    json_t *scores = json_array();
    for (int e = r->ev_first[i]; e >= 0; e = r->ev_next[e]) {
        const StoreEvalRow *ev = &r->ev[e];
        int oi = policy_index(r, ev->opponent_id);
        json_t *s = json_object();
        json_object_set_new(s, "opponent", json_string(oi >= 0 && r->pol[oi].name ? r->pol[oi].name
                                                                                   : "?"));
        json_object_set_new(s, "opponent_id", json_integer(ev->opponent_id));
        json_object_set_new(s, "iteration", json_integer(ev->iteration));
        json_object_set_new(s, "score", num(ev->score));
        json_object_set_new(s, "ci", num(ev->ci95));
        json_object_set_new(s, "episodes", json_integer(ev->episodes));
        json_object_set_new(s, "faults", json_integer(ev->policy_faults));
        json_array_append_new(scores, s);
    }
    json_object_set_new(o, "scores", scores);
    return o;
}

/* Per iteration and side, from the stored archive snapshots. */
static json_t *curves_json(const Run *r, int grid, double lo[2][2], double hi[2][2])
{
    json_t *curves = json_array();
    for (int t = 0; t < r->ni; t++) {
        json_t *sum = r->its[t].summary ? json_loads(r->its[t].summary, 0, NULL) : NULL;
        json_t *members = json_object_get(sum, "members");
        for (int k = 0; k < 2 && json_is_array(members); k++) {
            json_t *list = json_array_get(members, (size_t)k);
            size_t n = json_array_size(list);
            int *idx = xmalloc(sizeof(int) * (n + 1));
            double *qual = xmalloc(sizeof(double) * (n + 1));
            int m = 0, scored = 0;
            double best = NAN, best_ci = NAN, total = 0;
            for (size_t j = 0; j < n; j++) {
                json_t *e = json_array_get(list, j);
                int at = policy_index(r, json_integer_value(json_array_get(e, 0)));
                json_t *qj = json_array_get(e, 1);
                if (at < 0 || !json_is_number(qj))
                    continue;
                double q = json_number_value(qj);
                total += q;
                scored++;
                if (isnan(best) || q > best) {
                    best = q;
                    best_ci = json_is_number(json_array_get(e, 2))
                                  ? json_number_value(json_array_get(e, 2))
                                  : NAN;
                }
                idx[m] = at;
                qual[m++] = q;
            }
            double qd;
            int cov;
            qd_of(r, idx, qual, m, grid, lo[k], hi[k], &qd, &cov);
            json_t *c = json_object();
            json_object_set_new(c, "iteration", json_integer(r->its[t].iteration));
            json_object_set_new(c, "side", json_integer(k + 1));
            json_object_set_new(c, "archive", json_integer((json_int_t)n));
            json_object_set_new(c, "best", num(best));
            json_object_set_new(c, "best_ci", num(best_ci));
            json_object_set_new(c, "mean", scored ? num(total / scored) : json_null());
            json_object_set_new(c, "qd_score", num(qd));
            json_object_set_new(c, "coverage", json_integer(cov));
            json_array_append_new(curves, c);
            free(idx);
            free(qual);
        }
        json_decref(sum);
    }
    return curves;
}

static json_t *cost_json(const Run *r)
{
    json_t *cost = json_array();
    int last = -1;
    json_t *cur = NULL;
    for (int c = 0; c < r->nc; c++) {
        const StoreCallRow *call = &r->calls[c];
        if (!cur || call->iteration != last) {
            /* calls are in key order, which follows iterations; find or add */
            cur = NULL;
            size_t i;
            json_t *row;
            json_array_foreach(cost, i, row) if (json_integer_value(json_object_get(row, "iteration")) ==
                                                 call->iteration) cur = row;
            if (!cur) {
                cur = json_pack("{s:i, s:i, s:i, s:i, s:i, s:f}", "iteration", call->iteration,
                                "calls", 0, "failed", 0, "prompt_tokens", 0, "completion_tokens",
                                0, "cost_usd", 0.0);
                json_array_append_new(cost, cur);
            }
            last = call->iteration;
        }
#define ADD(key, v)                                                                               \
    json_object_set_new(cur, key, json_integer(json_integer_value(json_object_get(cur, key)) + (v)))
        ADD("calls", 1);
        ADD("failed", call->error ? 1 : 0);
        ADD("prompt_tokens", call->prompt_tokens);
        ADD("completion_tokens", call->completion_tokens);
#undef ADD
        if (isfinite(call->cost_usd))
            json_object_set_new(cur, "cost_usd",
                                json_real(json_real_value(json_object_get(cur, "cost_usd")) +
                                          call->cost_usd));
    }
    /* the builtin operator is not a model: it has no tokens and no cost
     * (it records word counts), as `fmsp show` says */
    if (r->cfg.fm.backend == FM_BUILTIN) {
        size_t i;
        json_t *row;
        json_array_foreach(cost, i, row)
        {
            json_object_set_new(row, "prompt_tokens", json_null());
            json_object_set_new(row, "completion_tokens", json_null());
            json_object_set_new(row, "cost_usd", json_null());
        }
    }
    return cost;
}

static json_t *failures_json(const Run *r)
{
    json_t *kinds = json_array();
    for (int i = 0; i < r->np; i++) {
        const StorePolicyRow *p = &r->pol[i];
        if (p->iteration < 0 || !strcmp(p->status, "ok"))
            continue;
        json_t *k = NULL, *row;
        size_t j;
        json_array_foreach(kinds, j, row) if (!strcmp(json_string_value(json_object_get(row, "kind")),
                                                      p->status)) k = row;
        if (!k) {
            k = json_pack("{s:s, s:i, s:[]}", "kind", p->status, "count", 0, "examples");
            json_array_append_new(kinds, k);
        }
        json_object_set_new(k, "count", json_integer(json_integer_value(json_object_get(k, "count")) + 1));
        json_t *ex = json_object_get(k, "examples");
        if (json_array_size(ex) < 5) {
            char reason[400];
            snprintf(reason, sizeof reason, "%s", p->reason ? p->reason : "");
            json_array_append_new(ex, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)p->id, "name",
                                                p->name ? p->name : "?", "reason", reason));
        }
    }
    return kinds;
}

static int64_t id_by_name(const Run *r, int side, const char *name)
{
    for (int i = 0; i < r->np; i++)
        if (r->pol[i].side == side && r->pol[i].name && name && !strcmp(r->pol[i].name, name))
            return r->pol[i].id;
    return 0;
}

/* The per-level table (as the run stored it) with the transcripts of each
 * level's breaking attack and its patching defence. */
static json_t *gandalf_json(const Run *r)
{
    char *rows = NULL;
    store_meta_get(r->db, "campaign_rows", &rows);
    json_t *levels = rows ? json_loads(rows, 0, NULL) : NULL;
    free(rows);
    char *table = NULL;
    store_meta_get(r->db, "campaign_table", &table);
    json_t *g = json_object();
    json_object_set_new(g, "table_text", table ? json_string(table) : json_null());
    free(table);
    json_t *transcripts = json_array();
    size_t i;
    json_t *lv;
    json_array_foreach(levels, i, lv)
    {
        const char *level = json_string_value(json_object_get(lv, "level"));
        const char *breaker = json_string_value(json_object_get(lv, "broken_by"));
        const char *patcher = json_string_value(json_object_get(lv, "patched_by"));
        int64_t lid = id_by_name(r, DOMAIN_SIDE_2, level), bid = id_by_name(r, DOMAIN_SIDE_1, breaker);
        char *text = NULL;
        if (bid && lid && store_transcript_pair(r->db, bid, lid, &text) == FMSP_OK && text)
            json_array_append_new(transcripts,
                                  json_pack("{s:s, s:s, s:s, s:s}", "level", level, "kind", "break",
                                            "policy", breaker, "text", text));
        free(text);
        text = NULL;
        int64_t pid = id_by_name(r, DOMAIN_SIDE_2, patcher);
        if (pid && bid && store_transcript_pair(r->db, pid, bid, &text) == FMSP_OK && text)
            json_array_append_new(transcripts,
                                  json_pack("{s:s, s:s, s:s, s:s}", "level", level, "kind", "patch",
                                            "policy", patcher, "text", text));
        free(text);
    }
    json_object_set_new(g, "levels", json_is_array(levels) ? levels : json_array());
    if (!json_is_array(levels))
        json_decref(levels);
    json_object_set_new(g, "transcripts", transcripts);
    return g;
}

static json_t *run_json(const Run *r, int grid, double lo[2][2], double hi[2][2])
{
    json_t *o = json_object();
    char opbuf[256];
    int builtin = r->cfg.fm.backend == FM_BUILTIN;
    snprintf(opbuf, sizeof opbuf, "%s%s%s", fm_backend_name(r->cfg.fm.backend),
             builtin ? " (offline program-synthesis operator, not a model)" : " ",
             builtin ? "" : r->cfg.fm.model);
    int last = -1;
    store_last_iteration(r->db, &last);
    char *def = search_quality_definition(&r->cfg);
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "path", json_string(r->path));
    json_object_set_new(o, "algo", json_string(search_algo_name(r->cfg.algo)));
    json_object_set_new(o, "operator", json_string(opbuf));
    json_object_set_new(o, "status", json_string(r->status ? r->status : "?"));
    json_object_set_new(o, "seed", json_integer((json_int_t)r->cfg.seed));
    json_object_set_new(o, "iterations_done", json_integer(last + 1));
    json_object_set_new(o, "iterations", json_integer(r->cfg.iterations));
    json_object_set_new(o, "quality_def", json_string(def));
    free(def);
    int *prompt_of = xmalloc(sizeof(int) * ((size_t)r->np + 1));
    json_object_set_new(o, "prompts", prompts_and_links(r, prompt_of));
    json_t *pols = json_array();
    for (int i = 0; i < r->np; i++)
        json_array_append_new(pols, policy_json(r, i, prompt_of[i]));
    free(prompt_of);
    json_object_set_new(o, "policies", pols);
    json_object_set_new(o, "curves", curves_json(r, grid, lo, hi));
    json_object_set_new(o, "cost", cost_json(r));
    json_object_set_new(o, "failures", failures_json(r));
    char *verdict = NULL;
    store_meta_get(r->db, "verdict", &verdict);
    json_t *vj = verdict ? json_loads(verdict, 0, NULL) : NULL;
    free(verdict);
    json_object_set_new(o, "verdict", json_is_array(vj) ? vj : json_array());
    if (!json_is_array(vj))
        json_decref(vj);
    json_object_set_new(o, "gandalf", r->dom == &domain_gandalf ? gandalf_json(r) : json_null());
    return o;
}

json_t *report_build(char *const *dbs, int n, int grid, char *err, size_t errlen)
{
    Run *runs = xcalloc((size_t)n + 1, sizeof *runs);
    int loaded = 0;
    for (; loaded < n; loaded++) {
        if (run_load(&runs[loaded], dbs[loaded], err, errlen)) {
            run_release(&runs[loaded]);
            break;
        }
        if (loaded && runs[loaded].dom != runs[0].dom) {
            fmsp_errf(err, errlen, "%s is a %s run and %s a %s run: a report covers one domain",
                      dbs[0], runs[0].dom->title, dbs[loaded], runs[loaded].dom->title);
            run_release(&runs[loaded]);
            break;
        }
    }
    json_t *out = NULL;
    if (loaded == n && n > 0) {
        const Domain *d = runs[0].dom;
        double lo[2][2], hi[2][2], explained[2][2];
        for (int k = 0; k < 2; k++)
            project(runs, n, k + 1, grid, lo[k], hi[k], explained[k]);
        out = json_object();
        json_object_set_new(out, "fmsp_report", json_integer(1));
        char *title = n == 1 ? xasprintf("fmsp report: %s (%s, %s)", runs[0].name,
                                         search_algo_name(runs[0].cfg.algo), d->title)
                             : xasprintf("fmsp report: %d %s runs", n, d->title);
        json_object_set_new(out, "title", json_string(title));
        free(title);
        json_object_set_new(out, "domain", json_string(d->name));
        json_object_set_new(out, "side_names", json_pack("[s, s]", d->side_name[1], d->side_name[2]));
        json_t *notes = json_array();
        int any_builtin = 0, any_sim = 0;
        for (int k = 0; k < n; k++) {
            any_builtin |= runs[k].cfg.fm.backend == FM_BUILTIN;
            any_sim |= d == &domain_gandalf && runs[k].cfg.eval.gandalf.kind == TARGET_SIMULATED;
        }
        if (any_builtin)
            json_array_append_new(notes, json_string(
                "The builtin operator is an offline program-synthesis operator, not a foundation "
                "model: its policies show what the engine does, not what a model would invent."));
        if (any_sim)
            json_array_append_new(notes, json_string(
                "The Gandalf target is simulated: a rule-based test double, not a language model. "
                "Leak rates measure the simulation."));
        json_array_append_new(notes, json_string(
            "Scores are each side's own mean score (0 to 1, 1 best) with 95% intervals; each "
            "run's quality definition says what it was measured against."));
        json_object_set_new(out, "notes", notes);
        json_t *runs_j = json_array();
        for (int k = 0; k < n; k++)
            json_array_append_new(runs_j, run_json(&runs[k], grid, lo, hi));
        json_object_set_new(out, "runs", runs_j);
        /* QD at the end of each run: its archive, on the shared map */
        json_t *qd = json_object(), *sides = json_array();
        json_object_set_new(qd, "grid", json_integer(grid));
        json_object_set_new(qd, "offset", json_real(0));
        json_object_set_new(qd, "population", json_string("archive"));
        json_object_set_new(qd, "quality", json_string("each run's own stored quality"));
        for (int k = 0; k < 2; k++) {
            json_t *per = json_array();
            for (int r = 0; r < n; r++) {
                int *idx = xmalloc(sizeof(int) * ((size_t)runs[r].np + 1));
                double *q = xmalloc(sizeof(double) * ((size_t)runs[r].np + 1));
                int m = 0;
                for (int i = 0; i < runs[r].np; i++)
                    if (runs[r].pol[i].side == k + 1 && runs[r].pol[i].in_archive &&
                        valid(&runs[r].pol[i]) && isfinite(runs[r].pol[i].quality)) {
                        idx[m] = i;
                        q[m++] = runs[r].pol[i].quality;
                    }
                double score;
                int cov;
                qd_of(&runs[r], idx, q, m, grid, lo[k], hi[k], &score, &cov);
                json_array_append_new(per, json_pack("{s:s, s:o, s:i, s:i}", "run", runs[r].name,
                                                     "qd_score", num(score), "coverage", cov,
                                                     "policies", m));
                free(idx);
                free(q);
            }
            json_array_append_new(sides, json_pack("{s:i, s:o}", "side", k + 1, "runs", per));
        }
        json_object_set_new(qd, "sides", sides);
        json_object_set_new(qd, "explained",
                            json_pack("[[o, o], [o, o]]", num(explained[0][0]), num(explained[0][1]),
                                      num(explained[1][0]), num(explained[1][1])));
        json_object_set_new(out, "qd", qd);
        json_object_set_new(out, "crossplay", json_null());
        json_object_set_new(out, "replays", json_array());
    }
    for (int k = 0; k < loaded && k < n; k++)
        run_release(&runs[k]);
    free(runs);
    return out;
}
