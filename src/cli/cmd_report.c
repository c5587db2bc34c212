/*
 * cmd_report.c - `fmsp report DB... -o report.html`: one self-contained
 * HTML page (or its data as JSON) about one or more runs: the stored
 * numbers gathered by src/report/report_data.c, Car Tag replays traced here
 * (the best found and best baseline policies of each side, every pairing,
 * episode 0 of the run's own settings), and the cross-play of a tournament
 * when its JSON is given.
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
#include "report/replay.h"
#include "report/report_data.h"
#include "report/report_html.h"
#include "search/search.h"
#include "store/store.h"

static const char report_help[] =
    "usage: fmsp report [options] DB... -o report.html\n"
    "\n"
    "Writes one self-contained HTML page about the runs (it works offline: every\n"
    "script and style is inside, and it makes no network request): each run's\n"
    "verdict, quality and QD-score over iterations, the archive map (every policy\n"
    "on a shared 2-D projection of its code embedding; click one for its code, its\n"
    "diff against its parent, its prompt and its scores), the lineage, cost and\n"
    "tokens, failures by kind, Car Tag episode replays, Gandalf's per-level table\n"
    "with transcripts, and a tournament's cross-play heatmap and ratings.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   the page to write\n"
    "  --json FILE         write the page's data as JSON instead ('-': stdout);\n"
    "                      docs/report-format.md describes it\n"
    "  --csv DIR           write its tables as CSV files into DIR: policies.csv,\n"
    "                      curves.csv, verdicts.csv, qd.csv (and crossplay.csv)\n"
    "  --grid N            cells per side of the QD map (default 10)\n"
    "  --replays N         Car Tag: replay the best N found and the best baseline\n"
    "                      of each side against each other (default 2; 0: none)\n"
    "  --tournament FILE   add the cross-play of 'fmsp tournament ... --json FILE'\n"
    "                      instead of playing it\n"
    "  --no-crossplay      with several runs, do not play their archives against\n"
    "                      each other (by default the page gets the heatmap, Elo,\n"
    "                      Nash averaging and exploitability of that cross-play)\n"
    "  --results FILE      keep the cross-play's matches in FILE and reuse them\n"
    "  --jobs N            matches played at once (default: number of CPUs)\n"
    "  --quiet             no progress\n"
    "  -h, --help          this help\n";

/* A policy chosen for the replays: its display name and compiled object. */
typedef struct Pick {
    char name[160];
    char *object;
} Pick;

static int by_quality_desc(const void *a, const void *b)
{
    const StorePolicyRow *x = a, *y = b;
    double qx = isnan(x->quality) ? -1 : x->quality, qy = isnan(y->quality) ? -1 : y->quality;
    return qx < qy ? 1 : qx > qy ? -1 : (x->id > y->id) - (x->id < y->id);
}

/* The best `found` archive members of `side` (by stored quality) and the
 * best baseline (the verdict's, else the best-scored seed). */
static int pick_side(Store *db, const CompileConfig *cc, const char *run, int side, int found,
                     const char *best_baseline, Pick *out, int cap)
{
    StorePolicyRow *rows;
    int n, m = 0;
    if (store_policy_list(db, side, 0, &rows, &n))
        return 0;
    qsort(rows, (size_t)n, sizeof *rows, by_quality_desc);
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0, taken = 0; i < n && m < cap; i++) {
            StorePolicyRow *r = &rows[i];
            int base = r->iteration < 0;
            if (!r->source || r->corrupt || (strcmp(r->status, "ok") && strcmp(r->status, "rejected")))
                continue;
            if (pass == 0 && (base || !r->in_archive || taken >= found))
                continue;
            if (pass == 1 && (!base || taken >= 1 ||
                              (best_baseline && (!r->name || strcmp(r->name, best_baseline)))))
                continue;
            CompileResult res;
            char err[512];
            if (compile_policy_source(cc, r->source, strlen(r->source), r->name, &res, err,
                                      sizeof err) != FMSP_OK) {
                compile_result_release(&res);
                continue;
            }
            snprintf(out[m].name, sizeof out[m].name, "%s (%s%s)", r->name ? r->name : "?",
                     base ? "baseline, " : "", run);
            out[m++].object = xstrdup(res.object_path);
            compile_result_release(&res);
            taken++;
        }
    store_policy_rows_free(rows, n);
    return m;
}

/* Replays of every pairing of the picks of a Car Tag run. */
static int add_replays(json_t *replays, const char *path, const char *run,
                       const CompileConfig *cc, int found)
{
    Store *db;
    char err[512];
    if (store_open(path, 0, &db, err, sizeof err)) {
        fprintf(stderr, "fmsp report: %s\n", err);
        return 1;
    }
    char *config = NULL, *verdict = NULL;
    store_meta_get(db, "config", &config);
    store_meta_get(db, "verdict", &verdict);
    SearchConfig cfg;
    int rc = 0;
    if (!config || search_config_from_json(config, &cfg, err, sizeof err)) {
        fprintf(stderr, "fmsp report: %s has no readable run config\n", path);
        rc = 1;
    }
    json_t *vj = verdict ? json_loads(verdict, 0, NULL) : NULL;
    Pick picks[2][8];
    int np[2] = {0, 0};
    for (int k = 0; k < 2 && rc == 0; k++) {
        const char *bb = NULL;
        size_t i;
        json_t *v;
        json_array_foreach(vj, i, v) if (json_integer_value(json_object_get(v, "side")) == k + 1)
            bb = json_string_value(json_object_get(json_object_get(v, "best_baseline"), "name"));
        np[k] = pick_side(db, cc, run, k + 1, found, bb, picks[k], 8);
    }
    for (int i = 0; i < np[0] && rc == 0; i++)
        for (int j = 0; j < np[1] && rc == 0; j++) {
            json_t *r = report_replay(&cfg.eval, picks[0][i].object, picks[1][j].object,
                                      picks[0][i].name, picks[1][j].name, err, sizeof err);
            if (!r) {
                fprintf(stderr, "fmsp report: replaying %s against %s: %s\n", picks[0][i].name,
                        picks[1][j].name, err);
                rc = 1;
            } else {
                json_array_append_new(replays, r);
            }
        }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < np[k]; i++)
            free(picks[k][i].object);
    json_decref(vj);
    free(config);
    free(verdict);
    store_close(db);
    return rc;
}

/* The report's cross-play section from `fmsp tournament --json` output. */
static json_t *crossplay_from(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *t = json_load_file(path, 0, &je);
    if (!t) {
        fmsp_errf(err, errlen, "cannot read tournament '%s': %s (line %d)", path, je.text, je.line);
        return NULL;
    }
    int n1 = (int)json_integer_value(json_object_get(t, "n1")),
        n2 = (int)json_integer_value(json_object_get(t, "n2"));
    json_t *pol = json_object_get(t, "policies"), *mat = json_object_get(t, "matrix");
    if (n1 < 1 || n2 < 1 || (int)json_array_size(pol) != n1 + n2 ||
        (int)json_array_size(mat) != n1 * n2) {
        fmsp_errf(err, errlen, "'%s' is not the JSON of 'fmsp tournament --json'", path);
        json_decref(t);
        return NULL;
    }
    json_t *rows = json_array(), *cols = json_array(), *elo = json_array(), *nash = json_array();
    for (int k = 0; k < n1 + n2; k++) {
        json_t *p = json_array_get(pol, (size_t)k);
        const char *name = json_string_value(json_object_get(p, "name")) ?: "?";
        const char *colon = strchr(name, ':');
        json_t *entry = json_pack("{s:s, s:s%, s:b}", "name", colon ? colon + 1 : name, "source",
                                  colon ? name : "file", colon ? (size_t)(colon - name) : 4,
                                  "baseline", 0);
        json_array_append_new(k < n1 ? rows : cols, entry);
        int side = k < n1 ? 1 : 2, index = k < n1 ? k : k - n1;
        json_array_append_new(elo, json_pack("{s:i, s:i, s:O, s:f, s:f}", "side", side, "index",
                                             index, "elo", json_object_get(p, "elo"), "lo",
                                             json_number_value(json_object_get(p, "elo")) -
                                                 json_number_value(json_object_get(p, "elo_ci95")),
                                             "hi",
                                             json_number_value(json_object_get(p, "elo")) +
                                                 json_number_value(json_object_get(p, "elo_ci95"))));
        json_array_append_new(nash, json_pack("{s:i, s:i, s:O, s:O}", "side", side, "index", index,
                                              "prob", json_object_get(p, "nash_weight"), "payoff",
                                              json_object_get(p, "nash_payoff")));
    }
    json_t *score = json_array(), *ci = json_array();
    for (int i = 0; i < n1; i++) {
        json_t *sr = json_array(), *cr = json_array();
        for (int j = 0; j < n2; j++) {
            json_t *cell = json_array_get(mat, (size_t)(i * n2 + j));
            json_array_append(sr, json_object_get(cell, "score"));
            json_array_append(cr, json_object_get(cell, "ci95"));
        }
        json_array_append_new(score, sr);
        json_array_append_new(ci, cr);
    }
    json_t *x = json_pack("{s:O, s:o, s:o, s:o, s:o, s:o, s:o, s:O}", "episodes",
                          json_object_get(t, "episodes"), "rows", rows, "cols", cols, "score",
                          score, "ci", ci, "elo", elo, "nash", nash, "exploitability",
                          json_object_get(t, "exploitability") ?: json_array());
    json_decref(t);
    return x;
}

/* Plays the runs' archives against each other with the first run's match
 * settings; the section, or NULL (rc set: 1 failed, 130 interrupted). */
static json_t *crossplay_runs(char *const *dbs, int n, const char *results, int jobs, int quiet,
                              int *rc)
{
    Store *db;
    char err[512];
    *rc = 1;
    if (store_open(dbs[0], 0, &db, err, sizeof err)) {
        fprintf(stderr, "fmsp report: %s\n", err);
        return NULL;
    }
    char *config = NULL;
    store_meta_get(db, "config", &config);
    store_close(db);
    SearchConfig cfg;
    if (!config || search_config_from_json(config, &cfg, err, sizeof err)) {
        fprintf(stderr, "fmsp report: %s has no readable run config\n", dbs[0]);
        free(config);
        return NULL;
    }
    free(config);
    CliGame g;
    cli_game_init(&g);
    CrossPlay x;
    crossplay_init(&x, &cfg.eval);
    *rc = 0;
    for (int i = 0; i < n && *rc == 0; i++)
        *rc = crossplay_add(&x, &g.compile, dbs[i], 0, "report");
    if (*rc == 0 && !quiet)
        fprintf(stderr, "fmsp report: cross-play of the %d archives (%d x %d policies, %d episodes "
                        "each)...\n",
                n, x.t.n_pursuers, x.t.n_evaders, cfg.eval.episodes);
    if (*rc == 0)
        *rc = crossplay_play(&x, results, jobs, quiet, "report");
    json_t *out = NULL;
    if (*rc == 0) {
        CrossRatings r;
        crossplay_ratings(&x, &r);
        out = crossplay_report_json(&x, &r);
        crossplay_ratings_release(&r);
    }
    crossplay_release(&x);
    return out;
}

/* One CSV field: numbers as they are, text quoted with quotes doubled. */
static void csv_field(FILE *f, const json_t *v)
{
    if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "%.9g", json_real_value(v));
    else if (json_is_true(v) || json_is_false(v))
        fputs(json_is_true(v) ? "1" : "0", f);
    else if (json_is_string(v)) {
        fputc('"', f);
        for (const char *c = json_string_value(v); *c; c++) {
            if (*c == '"')
                fputc('"', f);
            fputc(*c, f);
        }
        fputc('"', f);
    }
}

/* Writes DIR/NAME.csv: the header `cols`, then one line per object of
 * `rows` (each with "run" set from its run, when run_names is given). */
static int csv_table(const char *dir, const char *name, const char *const *cols, int nc,
                     const json_t *rows)
{
    char *path = xasprintf("%s/%s.csv", dir, name);
    FILE *f = fopen(path, "w");
    int rc = 0;
    if (!f) {
        fprintf(stderr, "fmsp report: cannot write '%s'\n", path);
        free(path);
        return 1;
    }
    for (int c = 0; c < nc; c++)
        fprintf(f, "%s%s", c ? "," : "", cols[c]);
    fputc('\n', f);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (int c = 0; c < nc; c++) {
            if (c)
                fputc(',', f);
            csv_field(f, json_object_get(row, cols[c]));
        }
        fputc('\n', f);
    }
    if (fclose(f)) {
        fprintf(stderr, "fmsp report: cannot write '%s'\n", path);
        rc = 1;
    }
    free(path);
    return rc;
}

/* The report's tables as CSV files in dir (docs/report-format.md names the
 * columns' meanings). */
static int write_csv(const char *dir, json_t *data)
{
    char err[512];
    if (util_mkdirs(dir, err, sizeof err)) {
        fprintf(stderr, "fmsp report: %s\n", err);
        return 1;
    }
    json_t *pol = json_array(), *curves = json_array(), *verdicts = json_array(),
           *qd = json_array(), *cross = json_array();
    size_t i, j;
    json_t *run, *v;
    json_array_foreach(json_object_get(data, "runs"), i, run)
    {
        json_t *name = json_object_get(run, "name");
        json_array_foreach(json_object_get(run, "policies"), j, v)
        {
            json_t *row = json_deep_copy(v);
            json_object_set(row, "run", name);
            json_object_del(row, "source");
            json_object_del(row, "scores");
            json_array_append_new(pol, row);
        }
        json_array_foreach(json_object_get(run, "curves"), j, v)
        {
            json_t *row = json_copy(v);
            json_object_set(row, "run", name);
            json_array_append_new(curves, row);
        }
        json_array_foreach(json_object_get(run, "verdict"), j, v)
        {
            json_t *f = json_object_get(v, "best_found"), *b = json_object_get(v, "best_baseline");
            json_t *row = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "run", name, "side",
                                    json_object_get(v, "side"), "opponents",
                                    json_object_get(v, "opponents"), "episodes",
                                    json_object_get(v, "episodes"), "margin",
                                    json_object_get(v, "margin") ?: json_null(), "margin_ci",
                                    json_object_get(v, "margin_ci") ?: json_null());
            json_object_set(row, "result", json_object_get(v, "result"));
            json_object_set(row, "best_found", json_object_get(f, "name"));
            json_object_set(row, "best_found_mean", json_object_get(f, "mean"));
            json_object_set(row, "best_found_ci", json_object_get(f, "ci"));
            json_object_set(row, "best_baseline", json_object_get(b, "name"));
            json_object_set(row, "best_baseline_mean", json_object_get(b, "mean"));
            json_object_set(row, "best_baseline_ci", json_object_get(b, "ci"));
            json_array_append_new(verdicts, row);
        }
    }
    json_array_foreach(json_object_get(json_object_get(data, "qd"), "sides"), i, v)
    {
        json_t *r;
        json_array_foreach(json_object_get(v, "runs"), j, r)
        {
            json_t *row = json_copy(r);
            json_object_set(row, "side", json_object_get(v, "side"));
            json_array_append_new(qd, row);
        }
    }
    json_t *x = json_object_get(data, "crossplay");
    if (json_is_object(x)) {
        json_t *rows = json_object_get(x, "rows"), *cols = json_object_get(x, "cols");
        for (i = 0; i < json_array_size(rows); i++)
            for (j = 0; j < json_array_size(cols); j++) {
                json_t *ri = json_array_get(rows, i), *cj = json_array_get(cols, j);
                json_t *row = json_pack("{s:O, s:O, s:O, s:O}", "row", json_object_get(ri, "name"),
                                        "row_source", json_object_get(ri, "source"), "col",
                                        json_object_get(cj, "name"), "col_source",
                                        json_object_get(cj, "source"));
                json_object_set(row, "score",
                                json_array_get(json_array_get(json_object_get(x, "score"), i), j));
                json_object_set(row, "ci",
                                json_array_get(json_array_get(json_object_get(x, "ci"), i), j));
                json_array_append_new(cross, row);
            }
    }
    static const char *const pc[] = {"run", "id", "side", "iteration", "name", "origin", "status",
                                     "quality", "ci", "opponents", "in_archive", "x", "y", "reason"};
    static const char *const cc[] = {"run", "iteration", "side", "archive", "best", "best_ci",
                                     "mean", "qd_score", "coverage"};
    static const char *const vc[] = {"run", "side", "result", "margin", "margin_ci", "opponents",
                                     "episodes", "best_found", "best_found_mean", "best_found_ci",
                                     "best_baseline", "best_baseline_mean", "best_baseline_ci"};
    static const char *const qc[] = {"run", "side", "qd_score", "coverage", "policies"};
    static const char *const xc[] = {"row", "row_source", "col", "col_source", "score", "ci"};
    int rc = csv_table(dir, "policies", pc, 14, pol) || csv_table(dir, "curves", cc, 9, curves) ||
             csv_table(dir, "verdicts", vc, 13, verdicts) || csv_table(dir, "qd", qc, 5, qd) ||
             (json_array_size(cross) && csv_table(dir, "crossplay", xc, 6, cross));
    json_decref(pol);
    json_decref(curves);
    json_decref(verdicts);
    json_decref(qd);
    json_decref(cross);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"json", required_argument, 0, 'j'},
                                         {"csv", required_argument, 0, 'c'},
                                         {"grid", required_argument, 0, 'g'},
                                         {"replays", required_argument, 0, 'r'},
                                         {"tournament", required_argument, 0, 't'},
                                         {"no-crossplay", no_argument, 0, 'n'},
                                         {"results", required_argument, 0, 'R'},
                                         {"jobs", required_argument, 0, 'J'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out_path = NULL, *json_path = NULL, *tour_path = NULL, *csv_dir = NULL;
    const char *results = NULL;
    long grid = 10, found = 2, jobs = sysconf(_SC_NPROCESSORS_ONLN);
    int opt, crossplay = 1, quiet = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            out_path = optarg;
            break;
        case 'j':
            json_path = optarg;
            break;
        case 'c':
            csv_dir = optarg;
            break;
        case 't':
            tour_path = optarg;
            break;
        case 'n':
            crossplay = 0;
            break;
        case 'R':
            results = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'J':
            if (cli_parse_int("report", "--jobs", optarg, 1, 64, &jobs))
                return 2;
            break;
        case 'g':
            if (cli_parse_int("report", "--grid", optarg, 1, 100, &grid))
                return 2;
            break;
        case 'r':
            if (cli_parse_int("report", "--replays", optarg, 0, 6, &found))
                return 2;
            break;
        case 'h':
            printf("%s", report_help);
            return 0;
        default:
            return cli_usage_error("report");
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "fmsp report: no run database given\n");
        return cli_usage_error("report");
    }
    if (!out_path && !json_path && !csv_dir) {
        fprintf(stderr, "fmsp report: say where the page goes (-o report.html) or ask for its "
                        "data (--json FILE, --csv DIR)\n");
        return cli_usage_error("report");
    }
    if (out_path && !report_html_available()) {
        fprintf(stderr, "fmsp report: this build has no report page assets (vendor/uplot and "
                        "src/report/assets were missing when it was built)\n");
        return 1;
    }
    char err[1024];
    json_t *data = report_build(argv + optind, argc - optind, (int)grid, err, sizeof err);
    if (!data) {
        fprintf(stderr, "fmsp report: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (tour_path) {
        json_t *x = crossplay_from(tour_path, err, sizeof err);
        if (!x) {
            fprintf(stderr, "fmsp report: %s\n", err);
            rc = 1;
        } else {
            json_object_set_new(data, "crossplay", x);
        }
    } else if (crossplay && argc - optind >= 2) {
        json_t *x = crossplay_runs(argv + optind, argc - optind, results, (int)jobs, quiet, &rc);
        if (x)
            json_object_set_new(data, "crossplay", x);
    }
    const char *domain = json_string_value(json_object_get(data, "domain"));
    if (rc == 0 && found > 0 && domain && strcmp(domain, "cartag") == 0) {
        CliGame g;
        cli_game_init(&g);
        json_t *replays = json_object_get(data, "replays");
        json_t *runs = json_object_get(data, "runs");
        /* the first three runs: a page, not an archive of every episode */
        for (int k = optind; k < argc && k < optind + 3 && rc == 0; k++)
            rc = add_replays(replays, argv[k],
                             json_string_value(json_object_get(
                                 json_array_get(runs, (size_t)(k - optind)), "name")),
                             &g.compile, (int)found);
    }
    char *text = rc ? NULL : json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(6));
    if (text && json_path) {
        FILE *f = strcmp(json_path, "-") == 0 ? stdout : fopen(json_path, "w");
        if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0 || (f != stdout && fclose(f))) {
            fprintf(stderr, "fmsp report: cannot write '%s'\n", json_path);
            rc = 1;
        }
    }
    if (text && out_path && rc == 0) {
        FILE *f = fopen(out_path, "w");
        const char *title = json_string_value(json_object_get(data, "title"));
        if (!f || report_html_write(f, title ? title : "fmsp report", text) || fclose(f)) {
            fprintf(stderr, "fmsp report: cannot write '%s'\n", out_path);
            rc = 1;
        } else {
            fprintf(stderr, "fmsp report: wrote %s (%zu KB)\n", out_path,
                    (strlen(text) + 1023) / 1024);
        }
    }
    if (rc == 0 && csv_dir)
        rc = write_csv(csv_dir, data);
    free(text);
    json_decref(data);
    return rc;
}
