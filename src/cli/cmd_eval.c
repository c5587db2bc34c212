/*
 * cmd_eval.c - `fmsp eval`: compiles the given policies, plays every pursuer
 * against every evader, prints the cross-play table and optionally JSON.
 */
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "core/util.h"
#include "match/tournament.h"

static const char eval_help[] =
    "usage: fmsp eval [options] POLICY...\n"
    "\n"
    "Plays every side-1 policy against every side-2 policy among the given files\n"
    "or folders (every *.c inside): Car Tag pursuers against evaders, or with\n"
    "--domain gandalf attackers against defenders. Each policy declares its side\n"
    "with FMSP_SIDE. Prints a cross-play table of the mean side-1 score (with its\n"
    "95% confidence interval) and the faults of each pairing; Car Tag adds the\n"
    "capture rate, Gandalf each defender's utility and score.\n"
    "\n"
    "Options:\n"
    "  --json FILE         also write the full results as JSON ('-': stdout)\n"
    "  --jobs N            matches played at once (default: number of CPUs)\n"
    "  --quiet             no progress on stderr\n"
    "  -h, --help          this help\n"
    "\n";

typedef struct EvalProgress {
    int show, tty;
    double last_print;
} EvalProgress;

/* On a terminal, one line rewritten in place; elsewhere (a log, CI) a line
 * every 5 s, so a long evaluation is never silent. */
static void on_progress(void *ctx, int done, int total, const TourEntry *p, const TourEntry *e,
                        const MatchResult *r)
{
    EvalProgress *pr = ctx;
    if (!pr->show)
        return;
    if (!pr->tty) {
        double now = util_now();
        if (done == total || now - pr->last_print < 5.0)
            return; /* the table follows at once when all are done */
        pr->last_print = now;
        fprintf(stderr, "[%d/%d matches] %s vs %s: %.2f\n", done, total, p->name, e->name,
                r->mean[0]);
        return;
    }
    fprintf(stderr, "\r[%d/%d] %s vs %s: %.2f   ", done, total, p->name, e->name,
            r->mean[0]);
    if (done == total)
        fprintf(stderr, "\r%*s\r", 70, "");
    fflush(stderr);
}

static volatile sig_atomic_t eval_signals;

/* First Ctrl-C: stop the matches at their next step and print what was
 * finished; a second one stops at once. */
static void on_eval_signal(int sig)
{
    if (eval_signals++) {
        _exit(128 + sig);
    }
    static const char msg[] = "\nfmsp eval: stopping; the table will show the matches that "
                              "finished (Ctrl-C again to stop at once)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    match_interrupt(1);
}

static int name_width(const TourEntry *v, int n, int min)
{
    int w = min;
    for (int i = 0; i < n; i++)
        if ((int)strlen(v[i].name) > w)
            w = (int)strlen(v[i].name);
    return w;
}

/* One-line summary of the faults of a match side, e.g. "3 crash (SIGSEGV ...)". */
static void print_faults(const Tournament *t, const MatchResult *r, const char *who,
                         const char *vs, int pursuer_side)
{
    int counts[FAULT__COUNT] = {0};
    const char *first[FAULT__COUNT] = {0};
    for (int k = 0; k < r->n; k++) {
        const Fault *f = pursuer_side ? &r->episodes[k].fault[0] : &r->episodes[k].fault[1];
        if (f->kind == FAULT_NONE)
            continue;
        counts[f->kind]++;
        if (!first[f->kind])
            first[f->kind] = f->detail;
    }
    for (int kind = 1; kind < FAULT__COUNT; kind++)
        if (counts[kind])
            printf("  %s (%s) vs %s: %d/%d episodes lost: %s: %s\n", who,
                   (t->cfg.domain ? t->cfg.domain : &domain_cartag)->side_name[pursuer_side ? 1 : 2],
                   vs, counts[kind], r->n,
                   fault_name((FaultKind)kind), first[kind]);
}

/* Gandalf's table: attack success rates, the defenders' utility and score. */
static void print_gandalf_table(const Tournament *t)
{
    const MatchConfig *c = &t->cfg;
    char label[256];
    printf("Gandalf cross-play: %d attackers x %d defenders, %d attempts per match (a fresh "
           "password each), %d queries per attempt, seed %llu\n",
           t->n_pursuers, t->n_evaders, c->episodes, c->gandalf.game.max_queries,
           (unsigned long long)c->seed);
    printf("target: %s%s\n", gandalf_target_label(&c->gandalf, label, sizeof label),
           c->gandalf.kind == TARGET_SIMULATED ? "; results are not claims about real models" : "");
    printf("cells: attack success rate +-95%% CI over the attempts (the attacker's score); a "
           "defender scores (1 - success) x utility\n\n");
    int w0 = name_width(t->pursuers, t->n_pursuers, 20);
    int wc = name_width(t->evaders, t->n_evaders, 11) + 2;
    printf("%-*s", w0, "attacker \\ defender");
    for (int j = 0; j < t->n_evaders; j++)
        printf("%*s", wc, t->evaders[j].name);
    printf("%*s\n", 16, "mean");
    for (int i = 0; i < t->n_pursuers; i++) {
        printf("%-*s", w0, t->pursuers[i].name);
        for (int j = 0; j < t->n_evaders; j++) {
            const MatchResult *r = &t->results[i * t->n_evaders + j];
            char cell[64];
            if (r->n == 0)
                snprintf(cell, sizeof cell, "-");
            else
                snprintf(cell, sizeof cell, "%.2f+-%.2f", r->mean[0], r->ci95[0]);
            printf("%*s", wc, cell);
        }
        char mean[48];
        snprintf(mean, sizeof mean, "%.3f+-%.3f", tournament_pursuer_mean(t, i),
                 tournament_pursuer_ci(t, i));
        printf("%16s\n", mean);
    }
    const char *rows[2] = {"defender utility", "defender score"};
    for (int k = 0; k < 2; k++) {
        printf("%-*s", w0, rows[k]);
        for (int j = 0; j < t->n_evaders; j++) {
            double u = NAN;
            for (int i = 0; i < t->n_pursuers && isnan(u); i++)
                if (t->results[i * t->n_evaders + j].n)
                    u = t->results[i * t->n_evaders + j].utility;
            char cell[32];
            snprintf(cell, sizeof cell, "%.3f", k == 0 ? u : tournament_evader_mean(t, j));
            printf("%*s", wc, cell);
        }
        printf("\n");
    }
    int any = 0;
    for (int i = 0; i < t->n_pursuers; i++)
        for (int j = 0; j < t->n_evaders; j++) {
            const MatchResult *r = &t->results[i * t->n_evaders + j];
            if (r->faults[0] || r->faults[1]) {
                if (!any++)
                    printf("\nfaults (the faulting side loses that attempt):\n");
                print_faults(t, r, t->pursuers[i].name, t->evaders[j].name, 1);
                print_faults(t, r, t->evaders[j].name, t->pursuers[i].name, 0);
            }
        }
    int played = 0;
    for (int k = 0; k < t->n_pursuers * t->n_evaders; k++)
        played += t->results[k].n > 0;
    if (played < t->n_pursuers * t->n_evaders)
        printf("\ninterrupted: %d of %d matches played; means are over the played ones\n", played,
               t->n_pursuers * t->n_evaders);
    printf("\n%d matches, %d attempts in %.2f s\n", played, played * c->episodes, t->seconds);
}

static void print_table(const Tournament *t, const char *scenario)
{
    if (t->cfg.domain == &domain_gandalf) {
        print_gandalf_table(t);
        return;
    }
    const MatchConfig *c = &t->cfg;
    printf("Car Tag cross-play: %d pursuers x %d evaders, scenario %s, %d episodes per match, "
           "seed %llu\n",
           t->n_pursuers, t->n_evaders, scenario, c->episodes, (unsigned long long)c->seed);
    printf("cells: mean pursuer score +-95%% CI (1 = instant capture, 0 = evader survives), "
           "capture rate\n\n");
    int w0 = name_width(t->pursuers, t->n_pursuers, 16);
    int wc = name_width(t->evaders, t->n_evaders, 15) + 2;
    printf("%-*s", w0, "pursuer \\ evader");
    for (int j = 0; j < t->n_evaders; j++)
        printf("%*s", wc, t->evaders[j].name);
    printf("%*s\n", 16, "mean");
    for (int i = 0; i < t->n_pursuers; i++) {
        printf("%-*s", w0, t->pursuers[i].name);
        for (int j = 0; j < t->n_evaders; j++) {
            const MatchResult *r = &t->results[i * t->n_evaders + j];
            char cell[64];
            if (r->n == 0)
                snprintf(cell, sizeof cell, "(not played)");
            else
                snprintf(cell, sizeof cell, "%.2f+-%.2f %3.0f%%", r->mean[0], r->ci95[0],
                         100.0 * r->captures / r->n);
            printf("%*s", wc, cell);
        }
        int any_played = 0;
        for (int j = 0; j < t->n_evaders; j++)
            any_played |= t->results[i * t->n_evaders + j].n > 0;
        char mean[48];
        snprintf(mean, sizeof mean, "%.3f+-%.3f", tournament_pursuer_mean(t, i),
                 tournament_pursuer_ci(t, i));
        printf("%16s\n", any_played ? mean : "-");
    }
    printf("%-*s", w0, "evader mean");
    for (int j = 0; j < t->n_evaders; j++) {
        char cell[32];
        int any_played = 0;
        for (int i = 0; i < t->n_pursuers; i++)
            any_played |= t->results[i * t->n_evaders + j].n > 0;
        if (any_played)
            snprintf(cell, sizeof cell, "%.3f+-%.3f", tournament_evader_mean(t, j),
                     tournament_evader_ci(t, j));
        else
            snprintf(cell, sizeof cell, "-");
        printf("%*s", wc, cell);
    }
    printf("\n");

    int best_p = 0, best_e = 0;
    for (int i = 1; i < t->n_pursuers; i++)
        if (tournament_pursuer_mean(t, i) > tournament_pursuer_mean(t, best_p))
            best_p = i;
    for (int j = 1; j < t->n_evaders; j++)
        if (tournament_evader_mean(t, j) > tournament_evader_mean(t, best_e))
            best_e = j;
    printf("\nbest pursuer: %s (%.3f +/- %.3f against these %d evaders)   best evader: %s (%.3f "
           "+/- %.3f against these %d pursuers)\n",
           t->pursuers[best_p].name, tournament_pursuer_mean(t, best_p),
           tournament_pursuer_ci(t, best_p), t->n_evaders, t->evaders[best_e].name,
           tournament_evader_mean(t, best_e), tournament_evader_ci(t, best_e), t->n_pursuers);
    printf("means: over the opponents in the table; +- the 95%% interval over their episodes "
           "(the opponents fixed)\n");

    int any = 0;
    for (int i = 0; i < t->n_pursuers; i++)
        for (int j = 0; j < t->n_evaders; j++) {
            const MatchResult *r = &t->results[i * t->n_evaders + j];
            if (r->faults[0] || r->faults[1]) {
                if (!any++)
                    printf("\nfaults (the faulting side scores 0 in that episode):\n");
                print_faults(t, r, t->pursuers[i].name, t->evaders[j].name, 1);
                print_faults(t, r, t->evaders[j].name, t->pursuers[i].name, 0);
            }
        }
    int played = 0;
    for (int k = 0; k < t->n_pursuers * t->n_evaders; k++)
        played += t->results[k].n > 0;
    if (played < t->n_pursuers * t->n_evaders)
        printf("\ninterrupted: %d of %d matches played; means are over the played ones\n", played,
               t->n_pursuers * t->n_evaders);
    printf("\n%d matches, %d episodes in %.2f s\n", played, played * c->episodes, t->seconds);
}

static json_t *fault_json(const Fault *f)
{
    if (f->kind == FAULT_NONE)
        return json_null();
    return json_pack("{s:s, s:s}", "kind", fault_name(f->kind), "detail", f->detail);
}

static json_t *entries_json(const TourEntry *v, int n, const Tournament *t, int pursuers)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:f}", "name", v[i].name, "path", v[i].path, "hash",
                         v[i].compiled.hash, "mean_score",
                         pursuers ? tournament_pursuer_mean(t, i) : tournament_evader_mean(t, i)));
    return a;
}

static int write_json(const Tournament *t, const char *scenario, const char *path)
{
    const Domain *d = t->cfg.domain ? t->cfg.domain : &domain_cartag;
    const char *s1 = d->side_name[1], *s2 = d->side_name[2];
    char k1s[40], k2s[40], k1m[40], k1c[40], k2m[40], k1f[40], k2f[40], k1sc[40], k2sc[40];
    snprintf(k1s, sizeof k1s, "%ss", s1);
    snprintf(k2s, sizeof k2s, "%ss", s2);
    snprintf(k1m, sizeof k1m, "%s_mean", s1);
    snprintf(k1c, sizeof k1c, "%s_ci95", s1);
    snprintf(k2m, sizeof k2m, "%s_mean", s2);
    snprintf(k1f, sizeof k1f, "%s_faults", s1);
    snprintf(k2f, sizeof k2f, "%s_faults", s2);
    snprintf(k1sc, sizeof k1sc, "%s_score", s1);
    snprintf(k2sc, sizeof k2sc, "%s_score", s2);
    char match_seed[24];
    snprintf(match_seed, sizeof match_seed, "%llu", (unsigned long long)t->cfg.seed);
    json_t *root = json_pack("{s:s, s:i, s:s, s:f}", "game", d->name, "episodes", t->cfg.episodes,
                             "seed", match_seed, "seconds", t->seconds);
    if (d == &domain_cartag) {
        const FmspParams *p = &t->cfg.params;
        json_object_set_new(root, "scenario", json_string(scenario));
        json_object_set_new(root, "params",
                            json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:b, s:i}", "vp", p->vp,
                                      "R", p->R, "ve", p->ve, "l", p->l, "dt", p->dt, "T", p->T,
                                      "H", p->H, "walls", p->walls, "max_steps", p->max_steps));
    } else {
        char label[256];
        json_object_set_new(root, "target", json_string(gandalf_target_label(&t->cfg.gandalf, label,
                                                                            sizeof label)));
        json_object_set_new(root, "simulated_target",
                            json_boolean(t->cfg.gandalf.kind == TARGET_SIMULATED));
        json_object_set_new(root, "queries_per_attempt",
                            json_integer(t->cfg.gandalf.game.max_queries));
    }
    json_object_set_new(root, k1s, entries_json(t->pursuers, t->n_pursuers, t, 1));
    json_object_set_new(root, k2s, entries_json(t->evaders, t->n_evaders, t, 0));
    json_t *matches = json_array();
    for (int i = 0; i < t->n_pursuers; i++)
        for (int j = 0; j < t->n_evaders; j++) {
            const MatchResult *r = &t->results[i * t->n_evaders + j];
            json_t *eps = json_array();
            for (int k = 0; k < r->n; k++) {
                const EpisodeResult *e = &r->episodes[k];
                char seed_str[24]; /* 64-bit seeds as strings: JSON numbers lose them */
                snprintf(seed_str, sizeof seed_str, "%llu", (unsigned long long)e->seed);
                json_t *ep = json_pack("{s:s, s:i, s:f, s:f, s:o, s:o}", "seed", seed_str, "steps",
                                       e->steps, k1sc, e->score[0], k2sc, e->score[1], k1f,
                                       fault_json(&e->fault[0]), k2f, fault_json(&e->fault[1]));
                json_object_set_new(ep, d == &domain_cartag ? "captured" : "password_found",
                                    json_boolean(e->captured));
                json_array_append_new(eps, ep);
            }
            json_t *m = json_pack("{s:s, s:s, s:f, s:f, s:f, s:i, s:i, s:i, s:o}", s1,
                                  t->pursuers[i].name, s2, t->evaders[j].name, k1m, r->mean[0],
                                  k1c, r->ci95[0], k2m, r->mean[1], k1f, r->faults[0], k2f,
                                  r->faults[1], "replays", r->replays, "episodes", eps);
            json_object_set_new(m, d == &domain_cartag ? "capture_rate" : "success_rate",
                                json_real(r->n ? (double)r->captures / r->n : 0));
            if (d != &domain_cartag)
                json_object_set_new(m, "defender_utility", json_real(r->utility));
            json_array_append_new(matches, m);
        }
    json_object_set_new(root, "matches", matches);
    int rc = 0;
    if (strcmp(path, "-") == 0) {
        rc = json_dumpf(root, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
        printf("\n");
    } else {
        rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    }
    json_decref(root);
    if (rc != 0) {
        fprintf(stderr, "fmsp eval: cannot write JSON to '%s'\n", path);
        return 1;
    }
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_GAME_OPTIONS,
        {"json", required_argument, 0, 'j'},
        {"jobs", required_argument, 0, 'J'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    CliGame g;
    cli_game_init(&g);
    const char *json_path = NULL;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    int quiet = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            json_path = optarg;
            break;
        case 'J':
            if (cli_parse_int("eval", "--jobs", optarg, 1, 64, &jobs))
                return 2;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            printf("%s%s", eval_help, cli_game_options_help);
            return 0;
        default:
            if (opt < OPT_SCENARIO || opt >= OPT_GAME_LAST)
                return cli_usage_error("eval");
            if (cli_game_option(&g, "eval", opt, optarg))
                return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "fmsp eval: no policies given\n");
        return cli_usage_error("eval");
    }
    if (cli_game_finish(&g, "eval"))
        return 2;
    if (jobs < 1)
        jobs = 1;

    Tournament t;
    tournament_init(&t, &g.match);
    int rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) {
        char err[1024] = "";
        char *diag = NULL;
        FmspErr e = tournament_add_path(&t, &g.compile, argv[i], &diag, err, sizeof err);
        if (e) {
            fprintf(stderr, "fmsp eval: %s\n", err);
            /* a refusal's diagnostics repeat the message; a compiler's add to it */
            if (e != FMSP_ERR_REFUSED && diag && *diag)
                fprintf(stderr, "%s%s", diag, diag[strlen(diag) - 1] == '\n' ? "" : "\n");
            rc = 1;
        }
        free(diag);
    }
    if (rc == 0) {
        /* JSON on stdout is for machines: keep stderr quiet unless a terminal */
        int json_stdout = json_path && strcmp(json_path, "-") == 0;
        EvalProgress pr = {.show = !quiet && (isatty(2) || !json_stdout), .tty = isatty(2),
                           .last_print = 0};
        char err[1024] = "";
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_eval_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        FmspErr e = tournament_run(&t, (int)jobs, on_progress, &pr, err, sizeof err);
        if (e == FMSP_ERR_INTERRUPTED) {
            /* keep what finished: the partial table, no JSON of half a run */
            print_table(&t, g.scenario);
            if (json_path)
                fprintf(stderr, "fmsp eval: interrupted; no JSON written\n");
            rc = CLI_EXIT_INTERRUPTED;
        } else if (e) {
            fprintf(stderr, "fmsp eval: %s\n", err);
            rc = 1;
        } else {
            if (!json_path || strcmp(json_path, "-") != 0)
                print_table(&t, g.scenario);
            if (json_path)
                rc = write_json(&t, g.scenario, json_path);
        }
    }
    tournament_release(&t);
    return rc;
}
