/* cli_crossplay.c - sources, cross-play and its results file (cli_crossplay.h). */
#include "cli_crossplay.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "fm/embed.h"
#include "eval/ratings.h"
#include "store/store.h"

void crossplay_init(CrossPlay *x, const MatchConfig *cfg)
{
    memset(x, 0, sizeof *x);
    tournament_init(&x->t, cfg);
}

void crossplay_release(CrossPlay *x)
{
    int n[2] = {x->t.n_pursuers, x->t.n_evaders};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < n[k] && x->info[k]; i++)
            free(x->info[k][i].embedding);
        free(x->info[k]);
    }
    if (x->known)
        for (int i = 0; i < n[0] * n[1]; i++)
            match_result_release(&x->known[i]);
    free(x->known);
    for (int s = 0; s < x->n_sources; s++)
        free(x->source_name[s]);
    free(x->source_name);
    tournament_release(&x->t);
    memset(x, 0, sizeof *x);
}

/* Grows the info arrays to the entries added since, marking their source. */
static void note_new(CrossPlay *x, int before1, int before2, int baseline)
{
    int n[2] = {x->t.n_pursuers, x->t.n_evaders}, before[2] = {before1, before2};
    for (int k = 0; k < 2; k++) {
        x->info[k] = xrealloc(x->info[k], sizeof *x->info[k] * (size_t)(n[k] + 1));
        for (int i = before[k]; i < n[k]; i++)
            x->info[k][i] = (CrossInfo){x->n_sources, baseline, NULL, 0};
    }
}

/* Every compared policy gets the same embedding, the built-in code
 * embedding of its source, whatever its run stored (a run may have stored
 * behaviour, both, or a remote model's vectors): one space for one map. */
static void embed_into(CrossInfo *ci, const char *source)
{
    ci->embedding = xmalloc(sizeof(float) * EMBED_DIM);
    embed_builtin(source, ci->embedding, EMBED_DIM);
    ci->dim = EMBED_DIM;
}

static int add_database(CrossPlay *x, const CompileConfig *cc, const char *path, int all,
                        const char *cmd, const char *run)
{
    Store *db;
    char err[1024];
    if (store_open(path, 0, &db, err, sizeof err) != FMSP_OK) {
        fprintf(stderr, "fmsp %s: %s\n", cmd, err);
        return 1;
    }
    char *config = NULL;
    store_meta_get(db, "config", &config);
    json_t *cj = config ? json_loads(config, 0, NULL) : NULL;
    const char *dname = json_string_value(json_object_get(cj, "domain"));
    const Domain *want = x->t.cfg.domain ? x->t.cfg.domain : &domain_cartag;
    int rc = 0;
    if (strcmp(dname ? dname : "cartag", want->name) != 0) {
        fprintf(stderr, "fmsp %s: '%s' holds a %s run; this %s plays %s%s\n", cmd, path,
                dname ? dname : "cartag", cmd, want->name,
                want == &domain_cartag ? " (add --domain gandalf)" : "");
        rc = 2;
    }
    json_decref(cj);
    free(config);
    StorePolicyRow *rows = NULL;
    int n = 0;
    if (!rc && store_policy_list(db, 0, !all, &rows, &n) != FMSP_OK) {
        fprintf(stderr, "fmsp %s: '%s': %s\n", cmd, path, store_errmsg(db));
        rc = 1;
    }
    for (int i = 0; i < n && !rc; i++) {
        StorePolicyRow *r = &rows[i];
        int valid = r->source && !r->corrupt &&
                    (!strcmp(r->status, "ok") || !strcmp(r->status, "rejected"));
        if (!valid || (r->side != 1 && r->side != 2))
            continue;
        CompileResult res;
        char why[512];
        char *name = xasprintf("%s:%s", run, r->name ? r->name : "policy");
        if (compile_policy_source(cc, r->source, strlen(r->source), name, &res, why,
                                  sizeof why) == FMSP_OK) {
            int b1 = x->t.n_pursuers, b2 = x->t.n_evaders;
            tournament_add_object(&x->t, name, r->side, res.object_path);
            TourEntry *v = r->side == 1 ? x->t.pursuers : x->t.evaders;
            int nv = r->side == 1 ? x->t.n_pursuers : x->t.n_evaders;
            snprintf(v[nv - 1].compiled.hash, sizeof v[nv - 1].compiled.hash, "%s", res.hash);
            note_new(x, b1, b2, strcmp(r->origin, "baseline") == 0);
            embed_into(&x->info[r->side - 1][nv - 1], r->source);
        }
        compile_result_release(&res);
        free(name);
    }
    store_policy_rows_free(rows, n);
    store_close(db);
    return rc;
}

int crossplay_add(CrossPlay *x, const CompileConfig *cc, const char *path, int all,
                  const char *cmd)
{
    const char *slash = strrchr(path, '/');
    char name[128];
    snprintf(name, sizeof name, "%s", slash && slash[1] ? slash + 1 : path);
    size_t len = strlen(path), nl = strlen(name);
    int is_db = len > 3 && strcmp(path + len - 3, ".db") == 0;
    if (is_db && nl > 3)
        name[nl - 3] = 0;
    int rc;
    if (is_db) {
        rc = add_database(x, cc, path, all, cmd, name);
    } else {
        char err[1024] = "", *diag = NULL;
        int b1 = x->t.n_pursuers, b2 = x->t.n_evaders;
        FmspErr e = tournament_add_path(&x->t, cc, path, &diag, err, sizeof err);
        rc = e == FMSP_OK ? 0 : e == FMSP_ERR_REFUSED || e == FMSP_ERR_COMPILE ? 1 : 2;
        if (e) {
            fprintf(stderr, "fmsp %s: %s\n", cmd, err);
            if (e != FMSP_ERR_REFUSED && diag && *diag)
                fprintf(stderr, "%s\n", diag);
        }
        free(diag);
        /* policy files are human-written: baselines for the verdicts */
        note_new(x, b1, b2, 1);
        for (int k = 0; k < 2; k++) {
            int from = k ? b2 : b1, to = k ? x->t.n_evaders : x->t.n_pursuers;
            const TourEntry *v = k ? x->t.evaders : x->t.pursuers;
            for (int i = from; i < to; i++) {
                char *text = NULL, e2[256];
                size_t tl;
                if (v[i].path && util_read_file(v[i].path, 1 << 20, &text, &tl, e2, sizeof e2) == 0)
                    embed_into(&x->info[k][i], text);
                free(text);
            }
        }
    }
    x->source_name = xrealloc(x->source_name, sizeof *x->source_name * (size_t)(x->n_sources + 1));
    x->source_name[x->n_sources++] = xstrdup(name);
    return rc;
}

static volatile sig_atomic_t cross_signals;

static void on_cross_signal(int sig)
{
    if (cross_signals++)
        _exit(128 + sig);
    static const char msg[] = "\nfmsp: stopping; finished matches are kept\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    match_interrupt(1);
}

/* The settings that make a cell's result what it is, as a hex digest. */
static void settings_key(const MatchConfig *c, char hex[65])
{
    Sha256 h;
    sha256_init(&h);
    const Domain *d = c->domain ? c->domain : &domain_cartag;
    sha256_update(&h, d->name, strlen(d->name) + 1);
    sha256_update(&h, &c->seed, sizeof c->seed);
    sha256_update(&h, &c->episodes, sizeof c->episodes);
    if (d == &domain_cartag) {
        sha256_update(&h, &c->params, sizeof c->params);
    } else {
        char label[256];
        gandalf_target_label(&c->gandalf, label, sizeof label);
        sha256_update(&h, &c->gandalf.game, sizeof c->gandalf.game);
        sha256_update(&h, label, strlen(label) + 1);
        sha256_update(&h, &c->gandalf.utility_questions, sizeof c->gandalf.utility_questions);
    }
    sha256_final_hex(&h, hex);
}

static char *cell_key(const char *settings, const TourEntry *a, const TourEntry *b)
{
    return xasprintf("%s|%s|%s", settings, a->compiled.hash, b->compiled.hash);
}

static int load_results(const char *path, const char *settings, const Tournament *t,
                        MatchResult *known)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int reused = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *key = json_string_value(json_object_get(o, "key"));
        for (int i = 0; key && i < t->n_pursuers; i++)
            for (int j = 0; j < t->n_evaders; j++) {
                MatchResult *m = &known[i * t->n_evaders + j];
                if (m->n)
                    continue;
                char *k = cell_key(settings, &t->pursuers[i], &t->evaders[j]);
                if (strcmp(k, key) == 0) {
                    m->n = (int)json_integer_value(json_object_get(o, "n"));
                    m->mean[0] = json_number_value(json_object_get(o, "mean1"));
                    m->mean[1] = json_number_value(json_object_get(o, "mean2"));
                    m->ci95[0] = json_number_value(json_object_get(o, "ci1"));
                    m->ci95[1] = json_number_value(json_object_get(o, "ci2"));
                    m->captures = (int)json_integer_value(json_object_get(o, "wins1"));
                    m->faults[0] = (int)json_integer_value(json_object_get(o, "faults1"));
                    m->faults[1] = (int)json_integer_value(json_object_get(o, "faults2"));
                    m->utility = json_number_value(json_object_get(o, "utility"));
                    reused++;
                }
                free(k);
            }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return reused;
}

typedef struct Run {
    FILE *results;
    const char *settings;
    int show, tty;
    double last_print;
    int done_offset, total;
} Run;

static void on_match(void *ctx, int done, int total, const TourEntry *p, const TourEntry *e,
                     const MatchResult *r)
{
    Run *run = ctx;
    if (run->results) {
        char *key = cell_key(run->settings, p, e);
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:f, s:f, s:i, s:i, s:i, s:f}", "key",
                              key, "policy1", p->name, "policy2", e->name, "n", r->n, "mean1",
                              r->mean[0], "mean2", r->mean[1], "ci1", r->ci95[0], "ci2",
                              r->ci95[1], "wins1", r->captures, "faults1", r->faults[0], "faults2",
                              r->faults[1], "utility", r->utility);
        char *line = json_dumps(o, JSON_COMPACT);
        fprintf(run->results, "%s\n", line);
        fflush(run->results);
        free(line);
        json_decref(o);
        free(key);
    }
    if (!run->show)
        return;
    double now = util_now();
    if (!run->tty && now - run->last_print < 5.0 && done != total)
        return;
    run->last_print = now;
    fprintf(stderr, "%s[%d/%d matches] %s vs %s: %.2f%s", run->tty ? "\r" : "",
            done + run->done_offset, run->total, p->name, e->name, r->mean[0],
            run->tty ? "   " : "\n");
    if (run->tty && done == total)
        fprintf(stderr, "\r%*s\r", 78, "");
}

int crossplay_play(CrossPlay *x, const char *results_path, int jobs, int quiet, const char *cmd)
{
    Tournament *t = &x->t;
    int n1 = t->n_pursuers, n2 = t->n_evaders, total = n1 * n2;
    const Domain *d = t->cfg.domain ? t->cfg.domain : &domain_cartag;
    if (n1 == 0 || n2 == 0) {
        fprintf(stderr, "fmsp %s: need at least one %s and one %s (got %d and %d)\n", cmd,
                d->side_name[1], d->side_name[2], n1, n2);
        return 2;
    }
    x->known = xcalloc((size_t)total + 1, sizeof *x->known);
    char settings[65];
    settings_key(&t->cfg, settings);
    if (results_path)
        x->reused = load_results(results_path, settings, t, x->known);
    if (!quiet)
        fprintf(stderr, "fmsp %s: %d %ss x %d %ss from %d source%s, %d episodes per match; %d of "
                        "%d matches already in %s\n",
                cmd, n1, d->side_name[1], n2, d->side_name[2], x->n_sources,
                x->n_sources == 1 ? "" : "s", t->cfg.episodes, x->reused, total,
                results_path ? results_path : "no results file");
    FILE *rf = results_path ? fopen(results_path, "a") : NULL;
    if (results_path && !rf) {
        fprintf(stderr, "fmsp %s: cannot append to '%s'\n", cmd, results_path);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cross_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    Run run = {rf, settings, !quiet, isatty(2), 0, x->reused, total};
    int rc = 0;
    /* row by row, what is missing: each row is a one-row tournament */
    for (int i = 0; i < n1 && rc == 0; i++) {
        int *col = xcalloc((size_t)n2 + 1, sizeof *col), nc = 0;
        Tournament row;
        tournament_init(&row, &t->cfg);
        tournament_add_object(&row, t->pursuers[i].name, 1, t->pursuers[i].compiled.object_path);
        snprintf(row.pursuers[0].compiled.hash, sizeof row.pursuers[0].compiled.hash, "%s",
                 t->pursuers[i].compiled.hash);
        for (int j = 0; j < n2; j++) {
            if (x->known[i * n2 + j].n)
                continue;
            tournament_add_object(&row, t->evaders[j].name, 2, t->evaders[j].compiled.object_path);
            snprintf(row.evaders[nc].compiled.hash, sizeof row.evaders[nc].compiled.hash, "%s",
                     t->evaders[j].compiled.hash);
            col[nc++] = j;
        }
        if (nc) {
            char err[1024] = "";
            FmspErr e = tournament_run(&row, jobs, on_match, &run, err, sizeof err);
            for (int k = 0; k < nc; k++) {
                x->known[i * n2 + col[k]] = row.results[k];
                memset(&row.results[k], 0, sizeof row.results[k]);
            }
            run.done_offset += nc;
            if (e == FMSP_ERR_INTERRUPTED) {
                fprintf(stderr, "fmsp %s: interrupted; %s\n", cmd,
                        results_path ? "run it again with the same --results to continue"
                                     : "give --results FILE to keep what finished");
                rc = CLI_EXIT_INTERRUPTED;
            } else if (e) {
                fprintf(stderr, "fmsp %s: %s\n", cmd, err);
                rc = 1;
            }
        }
        free(col);
        tournament_release(&row);
    }
    if (rf)
        fclose(rf);
    return rc;
}

void crossplay_matrix(const CrossPlay *x, double *score, double *games)
{
    int total = x->t.n_pursuers * x->t.n_evaders;
    for (int k = 0; k < total; k++) {
        score[k] = x->known[k].mean[0];
        games[k] = x->known[k].n;
    }
}

void crossplay_ratings(const CrossPlay *x, CrossRatings *r)
{
    memset(r, 0, sizeof *r);
    int n1 = x->t.n_pursuers, n2 = x->t.n_evaders;
    r->n1 = n1;
    r->n2 = n2;
    r->score = xcalloc((size_t)n1 * (size_t)n2 + 1, sizeof *r->score);
    r->games = xcalloc((size_t)n1 * (size_t)n2 + 1, sizeof *r->games);
    crossplay_matrix(x, r->score, r->games);
    r->elo = xcalloc((size_t)(n1 + n2) + 1, sizeof *r->elo);
    r->elo_ci = xcalloc((size_t)(n1 + n2) + 1, sizeof *r->elo_ci);
    r->p = xcalloc((size_t)n1 + 1, sizeof *r->p);
    r->q = xcalloc((size_t)n2 + 1, sizeof *r->q);
    r->rp = xcalloc((size_t)n1 + 1, sizeof *r->rp);
    r->cp = xcalloc((size_t)n2 + 1, sizeof *r->cp);
    r->elo_ok = n1 && n2 && elo_fit(r->score, r->games, n1, n2, 1.0, r->elo, r->elo_ci) == 0;
    r->nash_ok = n1 && n2 &&
                 nash_maxent(r->score, r->games, n1, n2, r->p, r->q, r->rp, r->cp, &r->nash) == 0;
    for (int k = 0; k < 2; k++) {
        int nk = k == 0 ? n1 : n2;
        r->exploit[k] = xcalloc((size_t)x->n_sources + 1, sizeof *r->exploit[k]);
        for (int s = 0; s < x->n_sources; s++) {
            double *w = xcalloc((size_t)nk + 1, sizeof *w);
            int m = 0;
            for (int i = 0; i < nk; i++)
                m += x->info[k][i].source == s;
            for (int i = 0; i < nk; i++)
                w[i] = x->info[k][i].source == s ? 1.0 / m : 0;
            r->exploit[k][s] = m == 0 ? NAN
                               : k == 0 ? exploitability_rows(r->score, n1, n2, w)
                                        : exploitability_cols(r->score, n1, n2, w);
            free(w);
        }
    }
}

void crossplay_ratings_release(CrossRatings *r)
{
    free(r->score);
    free(r->games);
    free(r->elo);
    free(r->elo_ci);
    free(r->p);
    free(r->q);
    free(r->rp);
    free(r->cp);
    free(r->exploit[0]);
    free(r->exploit[1]);
    memset(r, 0, sizeof *r);
}

static json_t *real_or_null(double v)
{
    return v == v ? json_real(v) : json_null();
}

json_t *crossplay_report_json(const CrossPlay *x, const CrossRatings *r)
{
    int n1 = r->n1, n2 = r->n2;
    json_t *rows = json_array(), *cols = json_array(), *elo = json_array(), *nash = json_array();
    for (int k = 0; k < n1 + n2; k++) {
        int s1 = k < n1, i = s1 ? k : k - n1;
        const TourEntry *en = s1 ? &x->t.pursuers[i] : &x->t.evaders[i];
        const CrossInfo *info = &x->info[s1 ? 0 : 1][i];
        const char *colon = strchr(en->name, ':');
        json_array_append_new(s1 ? rows : cols,
                              json_pack("{s:s, s:s, s:b}", "name", colon ? colon + 1 : en->name,
                                        "source", x->source_name[info->source], "baseline",
                                        info->baseline));
        json_t *e = json_pack("{s:i, s:i}", "side", s1 ? 1 : 2, "index", i);
        json_object_set_new(e, "elo", r->elo_ok ? json_real(r->elo[k]) : json_null());
        json_object_set_new(e, "lo", r->elo_ok ? json_real(r->elo[k] - r->elo_ci[k]) : json_null());
        json_object_set_new(e, "hi", r->elo_ok ? json_real(r->elo[k] + r->elo_ci[k]) : json_null());
        json_array_append_new(elo, e);
        json_t *nj = json_pack("{s:i, s:i}", "side", s1 ? 1 : 2, "index", i);
        json_object_set_new(nj, "prob", r->nash_ok ? json_real(s1 ? r->p[i] : r->q[i]) : json_null());
        json_object_set_new(nj, "payoff", r->nash_ok ? json_real(s1 ? r->rp[i] : r->cp[i])
                                                     : json_null());
        json_array_append_new(nash, nj);
    }
    json_t *score = json_array(), *ci = json_array();
    for (int i = 0; i < n1; i++) {
        json_t *sr = json_array(), *cr = json_array();
        for (int j = 0; j < n2; j++) {
            const MatchResult *m = &x->known[i * n2 + j];
            json_array_append_new(sr, m->n ? json_real(m->mean[0]) : json_null());
            json_array_append_new(cr, m->n ? json_real(m->ci95[0]) : json_null());
        }
        json_array_append_new(score, sr);
        json_array_append_new(ci, cr);
    }
    json_t *ex = json_array();
    for (int s = 0; s < x->n_sources; s++)
        for (int k = 0; k < 2; k++)
            if (r->exploit[k][s] == r->exploit[k][s])
                json_array_append_new(ex, json_pack("{s:s, s:i, s:o}", "source", x->source_name[s],
                                                    "side", k + 1, "value",
                                                    real_or_null(r->exploit[k][s])));
    return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "episodes", x->t.cfg.episodes,
                     "rows", rows, "cols", cols, "score", score, "ci", ci, "elo", elo, "nash",
                     nash, "exploitability", ex);
}
