/*
 * cmd_tournament.c - `fmsp tournament`: cross-play of whole archives.
 *
 * Every side-1 policy plays every side-2 policy among the sources: run
 * databases (their archives, named "<run>:<policy>") and policy files or
 * folders. Matches run in parallel with common random numbers; each
 * finished match is appended to a results file, so an interrupted
 * tournament resumes where it stopped (a cell is reused only when both
 * policies' compiled hashes, the domain's settings, the seed and the
 * episode count are the same). The report: the matrix (on request), Elo
 * ratings by maximum likelihood with 95% intervals, Nash averaging of the
 * meta-game (the maximum-entropy equilibrium and each policy's payoff
 * against it) and each source's exploitability against the pooled
 * population (src/eval/ratings.h states the definitions).
 */
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/util.h"
#include "eval/ratings.h"
#include "match/tournament.h"
#include "store/store.h"

static const char tournament_help[] =
    "usage: fmsp tournament [options] SOURCE...\n"
    "\n"
    "Plays every side-1 policy (pursuers, attackers) against every side-2 policy\n"
    "(evaders, defenders) among the sources: run databases (their archives) and\n"
    "policy files or folders. Prints Elo ratings fitted by maximum likelihood with\n"
    "95% intervals, Nash averaging of the meta-game (the maximum-entropy\n"
    "equilibrium and each policy's payoff against it), and how exploitable each\n"
    "source's policies are, as a uniform mixture, by the pooled population.\n"
    "\n"
    "Options:\n"
    "  --results FILE      keep every finished match in FILE (JSON lines) and reuse\n"
    "                      it: an interrupted tournament resumes where it stopped\n"
    "  --matrix            also print the cross-play matrix\n"
    "  --json FILE         write everything as JSON ('-': stdout)\n"
    "  --jobs N            matches played at once (default: number of CPUs)\n"
    "  --quiet             no progress\n"
    "  -h, --help          this help\n"
    "\n";

/* A policy's origin: the source it came from (for exploitability). */
typedef struct Origin {
    int source;
} Origin;

static volatile sig_atomic_t tour_signals;

static void on_tour_signal(int sig)
{
    if (tour_signals++)
        _exit(128 + sig);
    static const char msg[] = "\nfmsp tournament: stopping; finished matches are kept\n";
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

/* Adds a run database's archive (both sides) as "<run>:<policy>". */
static int add_database(Tournament *t, const CompileConfig *cc, const char *path, char *err,
                        size_t errlen)
{
    Store *db;
    if (store_open(path, 0, &db, err, errlen) != FMSP_OK)
        return 1;
    char *config = NULL;
    store_meta_get(db, "config", &config);
    json_t *cj = config ? json_loads(config, 0, NULL) : NULL;
    const char *dname = json_string_value(json_object_get(cj, "domain"));
    const Domain *want = t->cfg.domain ? t->cfg.domain : &domain_cartag;
    int rc = 0;
    if (strcmp(dname ? dname : "cartag", want->name) != 0) {
        fmsp_errf(err, errlen, "'%s' holds a %s run; this tournament plays %s", path,
                  dname ? dname : "cartag", want->name);
        rc = 2;
    }
    json_decref(cj);
    free(config);
    StorePolicyRow *rows = NULL;
    int n = 0;
    if (!rc && store_policy_list(db, 0, 1, &rows, &n) != FMSP_OK) {
        fmsp_errf(err, errlen, "'%s': %s", path, store_errmsg(db));
        rc = 1;
    }
    const char *slash = strrchr(path, '/');
    char run[128];
    snprintf(run, sizeof run, "%s", slash ? slash + 1 : path);
    char *dot = strrchr(run, '.');
    if (dot)
        *dot = 0;
    for (int i = 0; i < n && !rc; i++) {
        StorePolicyRow *r = &rows[i];
        if (!r->source || r->corrupt)
            continue;
        CompileResult res;
        char why[512];
        char *name = xasprintf("%s:%s", run, r->name ? r->name : "policy");
        if (compile_policy_source(cc, r->source, strlen(r->source), name, &res, why,
                                  sizeof why) == FMSP_OK) {
            tournament_add_object(t, name, r->side, res.object_path);
            TourEntry *v = r->side == 1 ? t->pursuers : t->evaders;
            int nv = r->side == 1 ? t->n_pursuers : t->n_evaders;
            snprintf(v[nv - 1].compiled.hash, sizeof v[nv - 1].compiled.hash, "%s", res.hash);
        }
        compile_result_release(&res);
        free(name);
    }
    store_policy_rows_free(rows, n);
    store_close(db);
    return rc;
}

/* Loads the reusable cells of a results file into known[] (by key). */
static int load_results(const char *path, const char *settings, Tournament *t, MatchResult *known)
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
                char *k = cell_key(settings, &t->pursuers[i], &t->evaders[j]);
                if (m->n == 0 && strcmp(k, key) == 0) {
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
    Tournament *t;
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

int cmd_tournament(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_GAME_OPTIONS,
        {"results", required_argument, 0, 'r'},
        {"matrix", no_argument, 0, 'm'},
        {"json", required_argument, 0, 'j'},
        {"jobs", required_argument, 0, 'J'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    CliGame g;
    cli_game_init(&g);
    const char *results_path = NULL, *json_path = NULL;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    int quiet = 0, matrix = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            results_path = optarg;
            break;
        case 'm':
            matrix = 1;
            break;
        case 'j':
            json_path = optarg;
            break;
        case 'J':
            if (cli_parse_int("tournament", "--jobs", optarg, 1, 64, &jobs))
                return 2;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            printf("%s%s", tournament_help, cli_game_options_help);
            return 0;
        default:
            if (opt < OPT_SCENARIO || opt >= OPT_GAME_LAST)
                return cli_usage_error("tournament");
            if (cli_game_option(&g, "tournament", opt, optarg))
                return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "fmsp tournament: no sources given (run databases, policy files, folders)\n");
        return cli_usage_error("tournament");
    }
    if (cli_game_finish(&g, "tournament"))
        return 2;
    const Domain *d = g.match.domain;
    Tournament t;
    tournament_init(&t, &g.match);
    int rc = 0, n_sources = argc - optind;
    /* which source each policy came from, by the counts after each source */
    int *after1 = xcalloc((size_t)n_sources + 1, sizeof(int));
    int *after2 = xcalloc((size_t)n_sources + 1, sizeof(int));
    for (int s = 0; s < n_sources && rc == 0; s++) {
        const char *src = argv[optind + s];
        size_t len = strlen(src);
        char err[1024] = "";
        if (len > 3 && strcmp(src + len - 3, ".db") == 0) {
            rc = add_database(&t, &g.compile, src, err, sizeof err);
        } else {
            char *diag = NULL;
            FmspErr e = tournament_add_path(&t, &g.compile, src, &diag, err, sizeof err);
            if (e)
                rc = e == FMSP_ERR_REFUSED || e == FMSP_ERR_COMPILE ? 1 : 2;
            if (e && e != FMSP_ERR_REFUSED && diag && *diag)
                fprintf(stderr, "%s\n", diag);
            free(diag);
        }
        if (rc)
            fprintf(stderr, "fmsp tournament: %s\n", err);
        after1[s] = t.n_pursuers;
        after2[s] = t.n_evaders;
    }
    if (rc == 0 && (t.n_pursuers == 0 || t.n_evaders == 0)) {
        fprintf(stderr, "fmsp tournament: need at least one %s and one %s (got %d and %d)\n",
                d->side_name[1], d->side_name[2], t.n_pursuers, t.n_evaders);
        rc = 2;
    }
    int n1 = t.n_pursuers, n2 = t.n_evaders, total = n1 * n2;
    MatchResult *known = rc ? NULL : xcalloc((size_t)total + 1, sizeof *known);
    char settings[65];
    settings_key(&g.match, settings);
    int reused = 0;
    if (rc == 0 && results_path)
        reused = load_results(results_path, settings, &t, known);
    /* play the unknown cells: a sub-tournament of the rows and columns that
     * have any, then copy back */
    if (rc == 0) {
        if (!quiet)
            fprintf(stderr, "fmsp tournament: %d %ss x %d %ss from %d source%s, %d episodes per "
                            "match; %d of %d matches already in %s\n",
                    n1, d->side_name[1], n2, d->side_name[2], n_sources,
                    n_sources == 1 ? "" : "s", g.match.episodes, reused, total,
                    results_path ? results_path : "no results file");
        FILE *rf = results_path ? fopen(results_path, "a") : NULL;
        if (results_path && !rf) {
            fprintf(stderr, "fmsp tournament: cannot append to '%s'\n", results_path);
            rc = 1;
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_tour_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        Run run = {&t, rf, settings, !quiet, isatty(2), 0, reused, total};
        /* play row by row what is missing: each row is a one-row tournament */
        for (int i = 0; i < n1 && rc == 0; i++) {
            int missing = 0;
            for (int j = 0; j < n2; j++)
                missing += known[i * n2 + j].n == 0;
            if (!missing)
                continue;
            Tournament row;
            tournament_init(&row, &g.match);
            tournament_add_object(&row, t.pursuers[i].name, 1, t.pursuers[i].compiled.object_path);
            snprintf(row.pursuers[0].compiled.hash, sizeof row.pursuers[0].compiled.hash, "%s",
                     t.pursuers[i].compiled.hash);
            int *col = xcalloc((size_t)n2, sizeof *col);
            int nc = 0;
            for (int j = 0; j < n2; j++) {
                if (known[i * n2 + j].n)
                    continue;
                tournament_add_object(&row, t.evaders[j].name, 2, t.evaders[j].compiled.object_path);
                snprintf(row.evaders[nc].compiled.hash, sizeof row.evaders[nc].compiled.hash, "%s",
                         t.evaders[j].compiled.hash);
                col[nc++] = j;
            }
            char err[1024] = "";
            FmspErr e = tournament_run(&row, (int)jobs, on_match, &run, err, sizeof err);
            for (int k = 0; k < nc; k++) {
                known[i * n2 + col[k]] = row.results[k];
                memset(&row.results[k], 0, sizeof row.results[k]);
            }
            run.done_offset += nc;
            free(col);
            tournament_release(&row);
            if (e == FMSP_ERR_INTERRUPTED) {
                fprintf(stderr, "fmsp tournament: interrupted; %s\n",
                        results_path ? "run it again with the same --results to continue"
                                     : "give --results FILE to keep what finished");
                rc = CLI_EXIT_INTERRUPTED;
            } else if (e) {
                fprintf(stderr, "fmsp tournament: %s\n", err);
                rc = 1;
            }
        }
        if (rf)
            fclose(rf);
    }
    if (rc == 0) {
        double *score = xcalloc((size_t)total, sizeof *score), *games = xcalloc((size_t)total, sizeof *games);
        for (int k = 0; k < total; k++) {
            score[k] = known[k].mean[0];
            games[k] = known[k].n;
        }
        int np = n1 + n2;
        double *elo = xcalloc((size_t)np, sizeof *elo), *ci = xcalloc((size_t)np, sizeof *ci);
        double *p = xcalloc((size_t)n1, sizeof *p), *q = xcalloc((size_t)n2, sizeof *q);
        double *rp = xcalloc((size_t)n1, sizeof *rp), *cp = xcalloc((size_t)n2, sizeof *cp);
        NashResult nr = {0};
        int elo_ok = elo_fit(score, games, n1, n2, 1.0, elo, ci) == 0;
        int nash_ok = nash_maxent(score, games, n1, n2, p, q, rp, cp, &nr) == 0;
        char label[256] = "";
        if (d == &domain_gandalf)
            gandalf_target_label(&g.match.gandalf, label, sizeof label);
        printf("%s tournament: %d %ss x %d %ss, %d episodes per match, seed %llu%s%s\n", d->title,
               n1, d->side_name[1], n2, d->side_name[2], g.match.episodes,
               (unsigned long long)g.match.seed, label[0] ? "; target: " : "", label);
        printf("scores are the %s's (%s); the meta-game is taken as constant-sum: the %s "
               "scores 1 minus that%s\n",
               d->side_name[1], d == &domain_gandalf ? "attack success" : "1 = instant capture",
               d->side_name[2],
               d == &domain_gandalf ? " (a defender's utility is not part of it)" : "");
        if (matrix) {
            printf("\n%-28s", "");
            for (int j = 0; j < n2; j++)
                printf(" %8.8s", t.evaders[j].name);
            printf("\n");
            for (int i = 0; i < n1; i++) {
                printf("%-28.28s", t.pursuers[i].name);
                for (int j = 0; j < n2; j++)
                    printf(" %8.3f", score[i * n2 + j]);
                printf("\n");
            }
        }
        printf("\n%-32s %-9s %6s %5s   %-11s %-11s\n", "policy", "side", "Elo", "+-",
               "Nash weight", "Nash payoff");
        for (int k = 0; k < np; k++) {
            int s1 = k < n1;
            const TourEntry *en = s1 ? &t.pursuers[k] : &t.evaders[k - n1];
            printf("%-32.32s %-9s ", en->name, d->side_name[s1 ? 1 : 2]);
            if (elo_ok)
                printf("%6.0f %5.0f   ", elo[k], ci[k]);
            else
                printf("%6s %5s   ", "-", "-");
            if (nash_ok)
                printf("%-11.3f %+-11.3f\n", s1 ? p[k] : q[k - n1], s1 ? rp[k] : cp[k - n1]);
            else
                printf("%-11s %-11s\n", "-", "-");
        }
        printf("\nElo: maximum likelihood over every episode (Bradley-Terry), one virtual draw "
               "per policy against the mean; +- is a 95%% interval.%s\n",
               elo_ok ? "" : " (no finite fit)");
        if (nash_ok)
            printf("Nash averaging: maximum-entropy equilibrium of the meta-game; payoff = score "
                   "- 0.5 against the other side's equilibrium mixture (value %+.3f; %d and %d "
                   "policies in its supports).\n",
                   nr.value, nr.support_rows, nr.support_cols);
        printf("\n%-24s %10s %15s %10s %15s\n", "source", d->side_name[1], "exploitability",
               d->side_name[2], "exploitability");
        for (int s = 0; s < n_sources; s++) {
            int a0 = s ? after1[s - 1] : 0, a1 = after1[s], b0 = s ? after2[s - 1] : 0,
                b1 = after2[s];
            double *w1 = xcalloc((size_t)n1, sizeof *w1), *w2 = xcalloc((size_t)n2, sizeof *w2);
            for (int i = a0; i < a1; i++)
                w1[i] = 1.0 / (a1 - a0);
            for (int j = b0; j < b1; j++)
                w2[j] = 1.0 / (b1 - b0);
            char e1[32] = "-", e2[32] = "-";
            if (a1 > a0)
                snprintf(e1, sizeof e1, "%.3f", exploitability_rows(score, n1, n2, w1));
            if (b1 > b0)
                snprintf(e2, sizeof e2, "%.3f", exploitability_cols(score, n1, n2, w2));
            const char *name = strrchr(argv[optind + s], '/');
            printf("%-24.24s %10d %15s %10d %15s\n", name ? name + 1 : argv[optind + s], a1 - a0,
                   e1, b1 - b0, e2);
            free(w1);
            free(w2);
        }
        printf("exploitability: how much better than the game's value the pooled population's "
               "best response scores against the source's uniform mixture (0 = not exploitable)\n");
        if (json_path) {
            json_t *root = json_pack("{s:s, s:i, s:i, s:i}", "domain", d->name, "episodes",
                                     g.match.episodes, "n1", n1, "n2", n2);
            json_t *pol = json_array();
            for (int k = 0; k < np; k++) {
                int s1 = k < n1;
                const TourEntry *en = s1 ? &t.pursuers[k] : &t.evaders[k - n1];
                json_array_append_new(
                    pol, json_pack("{s:s, s:i, s:f, s:f, s:f, s:f}", "name", en->name, "side",
                                   s1 ? 1 : 2, "elo", elo_ok ? elo[k] : 0, "elo_ci95",
                                   elo_ok ? ci[k] : 0, "nash_weight",
                                   nash_ok ? (s1 ? p[k] : q[k - n1]) : 0, "nash_payoff",
                                   nash_ok ? (s1 ? rp[k] : cp[k - n1]) : 0));
            }
            json_object_set_new(root, "policies", pol);
            json_t *m = json_array();
            for (int k = 0; k < total; k++)
                json_array_append_new(m, json_pack("{s:i, s:i, s:f, s:f, s:i}", "row", k / n2,
                                                   "col", k % n2, "score", score[k], "ci95",
                                                   known[k].ci95[0], "episodes", known[k].n));
            json_object_set_new(root, "matrix", m);
            int jr = strcmp(json_path, "-") == 0
                         ? json_dumpf(root, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(10))
                         : json_dump_file(root, json_path, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
            if (jr) {
                fprintf(stderr, "fmsp tournament: cannot write JSON to '%s'\n", json_path);
                rc = 1;
            }
            json_decref(root);
        }
        free(score);
        free(games);
        free(elo);
        free(ci);
        free(p);
        free(q);
        free(rp);
        free(cp);
    }
    if (known)
        for (int k = 0; k < total; k++)
            match_result_release(&known[k]);
    free(known);
    free(after1);
    free(after2);
    tournament_release(&t);
    return rc;
}
