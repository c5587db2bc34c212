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
#include "cli_crossplay.h"
#include "core/util.h"
#include "eval/ratings.h"

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
    CrossPlay x;
    crossplay_init(&x, &g.match);
    int rc = 0, n_sources = argc - optind;
    /* where each source's policies end, per side (for exploitability) */
    int *after1 = xcalloc((size_t)n_sources + 1, sizeof(int));
    int *after2 = xcalloc((size_t)n_sources + 1, sizeof(int));
    for (int s = 0; s < n_sources && rc == 0; s++) {
        rc = crossplay_add(&x, &g.compile, argv[optind + s], 0, "tournament");
        after1[s] = x.t.n_pursuers;
        after2[s] = x.t.n_evaders;
    }
    if (rc == 0)
        rc = crossplay_play(&x, results_path, (int)jobs, quiet, "tournament");
    Tournament t = x.t;
    int n1 = t.n_pursuers, n2 = t.n_evaders, total = n1 * n2;
    MatchResult *known = x.known;
    if (rc == 0) {
        CrossRatings cr;
        crossplay_ratings(&x, &cr);
        double *score = cr.score, *elo = cr.elo, *ci = cr.elo_ci, *p = cr.p, *q = cr.q,
               *rp = cr.rp, *cp = cr.cp;
        int np = n1 + n2, elo_ok = cr.elo_ok, nash_ok = cr.nash_ok;
        NashResult nr = cr.nash;
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
        json_t *exploit = json_array();
        for (int s = 0; s < n_sources; s++) {
            const char *name = strrchr(argv[optind + s], '/');
            name = name ? name + 1 : argv[optind + s];
            char e1[32] = "-", e2[32] = "-";
            for (int k = 0; k < 2; k++) {
                double v = cr.exploit[k][s];
                if (v != v)
                    continue;
                snprintf(k ? e2 : e1, 32, "%.3f", v);
                json_array_append_new(exploit, json_pack("{s:s, s:i, s:f}", "source", name, "side",
                                                         k + 1, "value", v));
            }
            printf("%-24.24s %10d %15s %10d %15s\n", name, after1[s] - (s ? after1[s - 1] : 0), e1,
                   after2[s] - (s ? after2[s - 1] : 0), e2);
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
            json_object_set_new(root, "exploitability", json_incref(exploit));
            int jr = strcmp(json_path, "-") == 0
                         ? json_dumpf(root, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(10))
                         : json_dump_file(root, json_path, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
            if (jr) {
                fprintf(stderr, "fmsp tournament: cannot write JSON to '%s'\n", json_path);
                rc = 1;
            }
            json_decref(root);
        }
        json_decref(exploit);
        crossplay_ratings_release(&cr);
    }
    free(after1);
    free(after2);
    crossplay_release(&x);
    return rc;
}
