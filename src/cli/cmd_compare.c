/*
 * cmd_compare.c - `fmsp compare DB...`: runs side by side, on evidence none
 * of them trained on.
 *
 * The runs' policies (archives, or every valid candidate) and the domain's
 * human-designed baselines play each other (cli_crossplay.h, resumable).
 * A policy's held-out quality is its mean score against the other side's
 * policies from every source except its own run: the baselines and the
 * other runs' policies. Per run and side:
 *   - QD-score and coverage (src/eval/qd.h): one PCA of the code
 *     embeddings of every compared policy of that side, a grid x grid map
 *     over its first two components shared by all runs, the best held-out
 *     quality per cell summed (offset 0: qualities are in [0, 1]);
 *   - the verdict: the run's best discovered policy against the best
 *     human-designed baseline, both by held-out quality, compared paired
 *     over the same held-out opponents (common random numbers): the mean
 *     difference with its 95% Student-t interval; beats / ties / loses by
 *     whether the interval lies above, across or below 0. Both "bests" are
 *     picked on the same pool, which favours the larger set (a winner's
 *     curse): read a narrow win with that in mind.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_crossplay.h"
#include "core/util.h"
#include "eval/agreement.h"
#include "eval/qd.h"
#include "search/archive.h"

static const char compare_help[] =
    "usage: fmsp compare [options] DB...\n"
    "\n"
    "Compares runs on a held-out pool: their policies and the domain's human-designed\n"
    "baselines play each other; a policy's quality is its mean score against the\n"
    "other side's policies from every source but its own run. Per run and side:\n"
    "the QD-score and coverage on one shared PCA map of code embeddings, and\n"
    "whether the best discovered policy beats the best human-designed one (paired\n"
    "over the same opponents, with a 95% interval).\n"
    "\n"
    "Options:\n"
    "  --population P      archive (default: what each run kept) or all (every valid\n"
    "                      candidate it generated); QD-scores differ between the two\n"
    "  --grid N            cells per axis of the QD map (default 10)\n"
    "  --baselines DIR     the human-designed baselines (default: the domain's)\n"
    "  --results FILE      keep finished matches in FILE and reuse them (resumable)\n"
    "  --json FILE         also write every figure as JSON\n"
    "  --csv FILE          also write every figure as CSV (one row per run and side)\n"
    "  --jobs N            matches played at once (default: number of CPUs)\n"
    "  --quiet             no progress\n"
    "  -h, --help          this help\n"
    "\n";

/* Held-out quality of entry i of side k: its mean score against the other
 * side's entries not from its own source (NAN when there are none). */
static double heldout(const CrossPlay *x, int k, int i)
{
    int n1 = x->t.n_pursuers, n2 = x->t.n_evaders, no = k == 0 ? n2 : n1;
    int src = x->info[k][i].source;
    double sum = 0;
    int n = 0;
    for (int j = 0; j < no; j++) {
        if (x->info[1 - k][j].source == src)
            continue;
        const MatchResult *m = k == 0 ? &x->known[i * n2 + j] : &x->known[j * n2 + i];
        if (!m->n)
            continue;
        sum += m->mean[k];
        n++;
    }
    return n ? sum / n : NAN;
}

/* Paired difference of entries a and b of side k over the other side's
 * entries from neither a's source nor b's. */
static int paired(const CrossPlay *x, int k, int a, int b, double *mean, double *ci)
{
    int n1 = x->t.n_pursuers, n2 = x->t.n_evaders, no = k == 0 ? n2 : n1;
    double *d = xcalloc((size_t)no + 1, sizeof *d);
    int n = 0;
    for (int j = 0; j < no; j++) {
        int js = x->info[1 - k][j].source;
        if (js == x->info[k][a].source || js == x->info[k][b].source)
            continue;
        const MatchResult *ma = k == 0 ? &x->known[a * n2 + j] : &x->known[j * n2 + a];
        const MatchResult *mb = k == 0 ? &x->known[b * n2 + j] : &x->known[j * n2 + b];
        if (!ma->n || !mb->n)
            continue;
        d[n++] = ma->mean[k] - mb->mean[k];
    }
    stats_mean_ci(d, n, mean, ci);
    free(d);
    return n;
}

/* Behaviour descriptors of side k: each policy's score profile against
 * every policy of the other side (the pooled population as a fixed
 * reference set), as floats (n[k] x no), for the behaviour map. */
static float *profiles(const CrossPlay *x, int k, int *no)
{
    int n1 = x->t.n_pursuers, n2 = x->t.n_evaders, nk = k == 0 ? n1 : n2;
    *no = k == 0 ? n2 : n1;
    float *v = xcalloc((size_t)nk * (size_t)*no + 1, sizeof *v);
    for (int i = 0; i < nk; i++)
        for (int j = 0; j < *no; j++) {
            const MatchResult *m = k == 0 ? &x->known[i * n2 + j] : &x->known[j * n2 + i];
            v[(size_t)i * (size_t)*no + (size_t)j] = m->n ? (float)m->mean[k] : 0.5f;
        }
    return v;
}

/* Spearman agreement of code distance (cosine, embeddings) and behaviour
 * distance (Euclidean, profiles) over the policies idx[m] of a side. */
static double code_behaviour_agreement(const CrossPlay *x, int k, const int *idx, int m,
                                       const float *prof, int no, double *p)
{
    double *dc = xcalloc((size_t)m * (size_t)m + 1, sizeof *dc);
    double *db = xcalloc((size_t)m * (size_t)m + 1, sizeof *db);
    for (int a = 0; a < m; a++)
        for (int b = 0; b < m; b++) {
            const CrossInfo *ia = &x->info[k][idx[a]], *ib = &x->info[k][idx[b]];
            dc[a * m + b] = archive_distance(ia->embedding, ib->embedding, ia->dim);
            double ss = 0;
            for (int j = 0; j < no; j++) {
                double d = prof[(size_t)idx[a] * no + j] - prof[(size_t)idx[b] * no + j];
                ss += d * d;
            }
            db[a * m + b] = sqrt(ss);
        }
    double rho = agreement_spearman(dc, db, m, 999, 0x4D414E54454CULL, p);
    free(dc);
    free(db);
    return rho;
}

/* The rows as JSON (an object with the settings and "rows") and/or CSV. */
static int write_rows(json_t *rows, const char *json_path, const char *csv_path, const Domain *d,
                      int all, int grid, int episodes)
{
    int rc = 0;
    if (json_path) {
        json_t *root = json_pack("{s:s, s:s, s:i, s:i, s:O}", "domain", d->name, "population",
                                 all ? "all" : "archive", "grid", grid, "episodes", episodes,
                                 "rows", rows);
        if (json_dump_file(root, json_path, JSON_INDENT(1) | JSON_REAL_PRECISION(10))) {
            fprintf(stderr, "fmsp compare: cannot write '%s'\n", json_path);
            rc = 1;
        }
        json_decref(root);
    }
    FILE *f = csv_path ? fopen(csv_path, "w") : NULL;
    if (csv_path && !f) {
        fprintf(stderr, "fmsp compare: cannot write '%s'\n", csv_path);
        return 1;
    }
    if (f) {
        static const char *const cols[] = {"run", "side", "policies", "qd_score", "coverage",
                                           "cells", "qd_score_behaviour", "coverage_behaviour",
                                           "best_discovered", "best_discovered_heldout",
                                           "best_human", "best_human_heldout", "verdict",
                                           "difference", "ci95_low", "ci95_high", "opponents"};
        size_t nc = sizeof cols / sizeof cols[0];
        for (size_t c = 0; c < nc; c++)
            fprintf(f, "%s%s", c ? "," : "", cols[c]);
        fputc('\n', f);
        for (size_t i = 0; i < json_array_size(rows); i++) {
            json_t *row = json_array_get(rows, i);
            for (size_t c = 0; c < nc; c++) {
                json_t *v = json_object_get(row, cols[c]);
                fputs(c ? "," : "", f);
                if (json_is_string(v))
                    fprintf(f, "\"%s\"", json_string_value(v)); /* names are [A-Za-z0-9_:-] */
                else if (json_is_integer(v))
                    fprintf(f, "%lld", (long long)json_integer_value(v));
                else if (json_is_real(v))
                    fprintf(f, "%.10g", json_real_value(v));
            }
            fputc('\n', f);
        }
        if (fclose(f) != 0)
            rc = 1;
    }
    return rc;
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        CLI_GAME_OPTIONS,
        {"population", required_argument, 0, 'p'},
        {"grid", required_argument, 0, 'g'},
        {"baselines", required_argument, 0, 'b'},
        {"results", required_argument, 0, 'r'},
        {"json", required_argument, 0, 'j'},
        {"csv", required_argument, 0, 'c'},
        {"jobs", required_argument, 0, 'J'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    CliGame g;
    cli_game_init(&g);
    g.match.episodes = 10;
    const char *results_path = NULL, *baselines = NULL, *json_path = NULL, *csv_path = NULL;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN), grid = 10;
    int quiet = 0, all = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'p':
            if (strcmp(optarg, "archive") != 0 && strcmp(optarg, "all") != 0) {
                fprintf(stderr, "fmsp compare: --population must be archive or all, not '%s'\n",
                        optarg);
                return 2;
            }
            all = strcmp(optarg, "all") == 0;
            break;
        case 'g':
            if (cli_parse_int("compare", "--grid", optarg, 1, 100, &grid))
                return 2;
            break;
        case 'b':
            baselines = optarg;
            break;
        case 'r':
            results_path = optarg;
            break;
        case 'j':
            json_path = optarg;
            break;
        case 'c':
            csv_path = optarg;
            break;
        case 'J':
            if (cli_parse_int("compare", "--jobs", optarg, 1, 64, &jobs))
                return 2;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            printf("%s%s", compare_help, cli_game_options_help);
            return 0;
        default:
            if (opt < OPT_SCENARIO || opt >= OPT_GAME_LAST)
                return cli_usage_error("compare");
            if (cli_game_option(&g, "compare", opt, optarg))
                return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "fmsp compare: no run databases given\n");
        return cli_usage_error("compare");
    }
    if (cli_game_finish(&g, "compare"))
        return 2;
    const Domain *d = g.match.domain;
    char *base_dir = NULL;
    if (baselines) {
        base_dir = xstrdup(baselines);
    } else {
        const char *root = getenv("FMSP_ROOT");
        char *exe = util_exe_dir();
        base_dir = root ? xasprintf("%s/policies/baselines/%s", root, d->baselines)
                        : xasprintf("%s/../policies/baselines/%s", exe, d->baselines);
        free(exe);
    }
    CrossPlay x;
    crossplay_init(&x, &g.match);
    int rc = 0, n_runs = argc - optind;
    for (int s = 0; s < n_runs && rc == 0; s++) {
        const char *db = argv[optind + s];
        size_t len = strlen(db);
        if (len < 4 || strcmp(db + len - 3, ".db") != 0) {
            fprintf(stderr, "fmsp compare: '%s' is not a run database (*.db)\n", db);
            rc = 2;
            break;
        }
        rc = crossplay_add(&x, &g.compile, db, all, "compare");
    }
    if (rc == 0)
        rc = crossplay_add(&x, &g.compile, base_dir, 0, "compare");
    if (rc == 0)
        rc = crossplay_play(&x, results_path, (int)jobs, quiet, "compare");
    if (rc == 0) {
        int n[2] = {x.t.n_pursuers, x.t.n_evaders}, n_base = 0;
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < n[k]; i++)
                n_base += x.info[k][i].source == x.n_sources - 1;
        printf("%s, %d run%s compared on a held-out pool (the %d human-designed baselines in %s "
               "and the other runs), %d episodes per match, seed %llu; population: %s\n",
               d->title, n_runs, n_runs == 1 ? "" : "s", n_base, base_dir, g.match.episodes,
               (unsigned long long)g.match.seed, all ? "every valid candidate" : "the archives");
        printf("QD: one PCA of the code embeddings per side, a %ldx%ld map shared by all runs, "
               "the best held-out quality per cell summed (offset 0); QD (behaviour): the same "
               "on a PCA of each policy's score profile against every policy of the other "
               "side\n\n",
               grid, grid);
        json_t *rows = json_array();
        printf("%-22s %-9s %5s %9s %9s %9s %9s   %-34s %-34s %s\n", "run", "side", "n",
               "QD-score", "coverage", "QD(beh.)", "cov.", "best discovered (held-out)",
               "best human-designed (held-out)", "verdict: discovered - human, 95% CI");
        char agreement[2][256] = {"", ""};
        for (int k = 0; k < 2; k++) {
            /* the shared projection: every policy of this side with an
             * embedding of the commonest dimension */
            int dim = 0, best_count = 0;
            for (int i = 0; i < n[k]; i++) {
                int c = 0;
                for (int j = 0; j < n[k]; j++)
                    c += x.info[k][j].dim == x.info[k][i].dim;
                if (x.info[k][i].dim && c > best_count) {
                    best_count = c;
                    dim = x.info[k][i].dim;
                }
            }
            int *idx = xcalloc((size_t)n[k] + 1, sizeof *idx), m = 0;
            for (int i = 0; i < n[k]; i++)
                if (x.info[k][i].dim == dim && dim > 0)
                    idx[m++] = i;
            float *pts = xcalloc((size_t)m * (size_t)(dim ? dim : 1) + 1, sizeof *pts);
            for (int a = 0; a < m; a++)
                memcpy(pts + (size_t)a * dim, x.info[k][idx[a]].embedding, sizeof(float) * dim);
            double *proj = xcalloc((size_t)m * 2 + 2, sizeof *proj);
            double *qual = xcalloc((size_t)m + 1, sizeof *qual);
            int pca_ok = m >= 1 && dim >= 2 && pca_project(pts, m, dim, 2, proj, NULL) == 0;
            for (int a = 0; a < m; a++)
                qual[a] = heldout(&x, k, idx[a]);
            QdMap all_map;
            memset(&all_map, 0, sizeof all_map);
            if (pca_ok)
                qd_score(proj, qual, m, (int)grid, 0, NULL, NULL, &all_map);
            /* behaviour: every policy of the side, on its score profile */
            int no;
            float *prof = profiles(&x, k, &no);
            double *bproj = xcalloc((size_t)n[k] * 2 + 2, sizeof *bproj);
            double *bqual = xcalloc((size_t)n[k] + 1, sizeof *bqual);
            for (int i = 0; i < n[k]; i++)
                bqual[i] = heldout(&x, k, i);
            int bpca_ok = n[k] >= 1 && no >= 2 && pca_project(prof, n[k], no, 2, bproj, NULL) == 0;
            QdMap ball;
            memset(&ball, 0, sizeof ball);
            if (bpca_ok)
                qd_score(bproj, bqual, n[k], (int)grid, 0, NULL, NULL, &ball);
            double p_agree = NAN;
            double rho = pca_ok ? code_behaviour_agreement(&x, k, idx, m, prof, no, &p_agree) : NAN;
            if (isnan(rho))
                snprintf(agreement[k], sizeof agreement[k], "%ss: too few policies or no spread",
                         d->side_name[k + 1]);
            else
                snprintf(agreement[k], sizeof agreement[k],
                         "%ss: Spearman rho %+.3f over %d pairs of %d policies, Mantel "
                         "permutation p = %.3f",
                         d->side_name[k + 1], rho, m * (m - 1) / 2, m, p_agree);
            /* the best human-designed policy of this side: the baselines folder */
            int base_src = x.n_sources - 1, best_base = -1;
            for (int i = 0; i < n[k]; i++)
                if (x.info[k][i].source == base_src &&
                    (best_base < 0 || heldout(&x, k, i) > heldout(&x, k, best_base)))
                    best_base = i;
            for (int r = 0; r < n_runs; r++) {
                int count = 0, best = -1;
                double *rp = xcalloc((size_t)m * 2 + 2, sizeof *rp), *rq = xcalloc((size_t)m + 1, sizeof *rq);
                int rm = 0;
                for (int a = 0; a < m; a++)
                    if (x.info[k][idx[a]].source == r) {
                        rp[2 * rm] = proj[2 * a];
                        rp[2 * rm + 1] = proj[2 * a + 1];
                        rq[rm++] = qual[a];
                    }
                for (int i = 0; i < n[k]; i++) {
                    if (x.info[k][i].source != r)
                        continue;
                    count++;
                    if (!x.info[k][i].baseline &&
                        (best < 0 || heldout(&x, k, i) > heldout(&x, k, best)))
                        best = i;
                }
                QdMap map;
                memset(&map, 0, sizeof map);
                char qd[32] = "-", cov[32] = "-", bqd[32] = "-", bcov[32] = "-";
                if (pca_ok && qd_score(rp, rq, rm, (int)grid, 0, all_map.lo, all_map.hi, &map) == 0) {
                    snprintf(qd, sizeof qd, "%.3f", map.qd_score);
                    snprintf(cov, sizeof cov, "%d/%ld", map.coverage, grid * grid);
                }
                /* the run's policies on the behaviour map */
                int bm = 0;
                for (int i = 0; i < n[k]; i++)
                    if (x.info[k][i].source == r) {
                        rp[2 * bm] = bproj[2 * i];
                        rp[2 * bm + 1] = bproj[2 * i + 1];
                        rq[bm++] = bqual[i];
                    }
                QdMap bmap;
                memset(&bmap, 0, sizeof bmap);
                int bqd_ok = bpca_ok && qd_score(rp, rq, bm, (int)grid, 0, ball.lo, ball.hi, &bmap) == 0;
                if (bqd_ok) {
                    snprintf(bqd, sizeof bqd, "%.3f", bmap.qd_score);
                    snprintf(bcov, sizeof bcov, "%d/%ld", bmap.coverage, grid * grid);
                }
                const TourEntry *v = k == 0 ? x.t.pursuers : x.t.evaders;
                char bd[64] = "(none beyond the seeds)", bh[64] = "-", verdict[96] = "-";
                if (best >= 0)
                    snprintf(bd, sizeof bd, "%.24s %.3f", v[best].name, heldout(&x, k, best));
                if (best_base >= 0)
                    snprintf(bh, sizeof bh, "%.24s %.3f", v[best_base].name,
                             heldout(&x, k, best_base));
                double mean = NAN, ci = NAN;
                int np = 0;
                if (best >= 0 && best_base >= 0) {
                    np = paired(&x, k, best, best_base, &mean, &ci);
                    snprintf(verdict, sizeof verdict, "%s by %+.3f [%+.3f, %+.3f] over %d",
                             np < 2                ? "too few opponents"
                             : mean - ci > 0       ? "beats"
                             : mean + ci < 0       ? "loses"
                                                   : "ties",
                             mean, mean - ci, mean + ci, np);
                }
                printf("%-22.22s %-9s %5d %9s %9s %9s %9s   %-34s %-34s %s\n", x.source_name[r],
                       d->side_name[k + 1], count, qd, cov, bqd, bcov, bd, bh, verdict);
                json_t *row = json_pack("{s:s, s:s, s:i, s:i, s:i}", "run", x.source_name[r],
                                        "side", d->side_name[k + 1], "policies", count,
                                        "coverage", pca_ok ? map.coverage : 0, "cells",
                                        (int)(grid * grid));
                json_object_set_new(row, "qd_score", pca_ok ? json_real(map.qd_score) : json_null());
                json_object_set_new(row, "qd_score_behaviour",
                                    bqd_ok ? json_real(bmap.qd_score) : json_null());
                json_object_set_new(row, "coverage_behaviour",
                                    json_integer(bqd_ok ? bmap.coverage : 0));
                if (best >= 0) {
                    json_object_set_new(row, "best_discovered", json_string(v[best].name));
                    json_object_set_new(row, "best_discovered_heldout",
                                        json_real(heldout(&x, k, best)));
                }
                if (best_base >= 0) {
                    json_object_set_new(row, "best_human", json_string(v[best_base].name));
                    json_object_set_new(row, "best_human_heldout",
                                        json_real(heldout(&x, k, best_base)));
                }
                if (np >= 2) {
                    json_object_set_new(row, "verdict",
                                        json_string(mean - ci > 0   ? "beats"
                                                    : mean + ci < 0 ? "loses"
                                                                    : "ties"));
                    json_object_set_new(row, "difference", json_real(mean));
                    json_object_set_new(row, "ci95_low", json_real(mean - ci));
                    json_object_set_new(row, "ci95_high", json_real(mean + ci));
                    json_object_set_new(row, "opponents", json_integer(np));
                }
                json_array_append_new(rows, row);
                free(rp);
                free(rq);
            }
            free(idx);
            free(pts);
            free(proj);
            free(qual);
            free(prof);
            free(bproj);
            free(bqual);
        }
        printf("\nagreement of code distance (cosine, embeddings) and behaviour distance "
               "(Euclidean, score profiles):\n  %s\n  %s\n",
               agreement[0], agreement[1]);
        if (json_path || csv_path)
            rc = write_rows(rows, json_path, csv_path, d, all, (int)grid, g.match.episodes);
        json_decref(rows);
        printf("\nheld-out: scores against the other side's baselines and the other runs only; "
               "verdict: mean paired difference over the common held-out opponents, Student-t "
               "95%% interval%s\n",
               d == &domain_gandalf && g.match.gandalf.kind == TARGET_SIMULATED
                   ? "; simulated target: not a claim about real models"
                   : "");
    }
    free(base_dir);
    crossplay_release(&x);
    return rc;
}
