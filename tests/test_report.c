/*
 * test_report.c - `fmsp report` on real runs: its numbers are the database's
 * and print as `fmsp show` prints them (every archive policy's quality and
 * interval, each side's verdict), the curves follow the stored snapshots,
 * the replays are whole episodes, a Gandalf run's page carries its
 * per-level table, and bad input gets a clear message and exit code.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "core/util.h"
#include "harness.h"
#include "shell.h"

static char fmsp[1024], root[1024], tmp[256];

/* Runs the command line in the project root, stdout+stderr captured;
 * returns the exit code. */
static int sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = shell_vrun(root, out, fmt, ap);
    va_end(ap);
    return rc;
}

static long long count(const char *db, const char *sql)
{
    sqlite3 *h;
    long long v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

static json_t *policy_by_id(json_t *run, long long id)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(run, "policies"), i, p) if (json_integer_value(
                                                                        json_object_get(p, "id")) ==
                                                                    id) return p;
    return NULL;
}

/* "0.664 +/- 0.027" as show prints a quality */
static void fmt(char *buf, size_t n, json_t *mean, json_t *ci)
{
    if (json_is_number(ci))
        snprintf(buf, n, "%.3f +/- %.3f", json_number_value(mean), json_number_value(ci));
    else
        snprintf(buf, n, "%.3f", json_number_value(mean));
}

static void test_cartag_matches_show(void)
{
    char *out;
    char *db = xasprintf("%s/a.db", tmp), *js = xasprintf("%s/a.json", tmp);
    CHECK(sh(&out, "%s run --algo qdsp --iterations 6 --episodes 4 --seed 3 --db %s --quiet", fmsp,
             db) == 0);
    free(out);
    CHECK(sh(&out, "%s report %s --json %s", fmsp, db, js) == 0);
    free(out);
    json_t *r = json_load_file(js, 0, NULL);
    CHECK(r != NULL);
    json_t *run = json_array_get(json_object_get(r, "runs"), 0);
    /* every policy of the database is in the report, with its evaluations */
    CHECK_INT(json_array_size(json_object_get(run, "policies")),
              count(db, "SELECT count(*) FROM policies"));
    long long evals = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(run, "policies"), i, p) evals +=
        (long long)json_array_size(json_object_get(p, "scores"));
    CHECK_INT(evals, count(db, "SELECT count(*) FROM evaluations"));
    /* show's archive lines and the report's qualities are the same numbers */
    CHECK(sh(&out, "%s show --top 1000 %s", fmsp, db) == 0);
    int lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        long long id;
        char name[128];
        if (sscanf(line, " #%lld %127s quality", &id, name) != 2)
            continue;
        json_t *pj = policy_by_id(run, id);
        CHECK_MSG(pj != NULL, "policy #%lld of show not in the report", id);
        if (!pj)
            continue;
        char q[64];
        fmt(q, sizeof q, json_object_get(pj, "quality"), json_object_get(pj, "ci"));
        CHECK_MSG(strstr(line, q) != NULL, "show '%s', report '%s'", line, q);
        CHECK(json_is_true(json_object_get(pj, "in_archive")));
        lines++;
    }
    CHECK_INT(lines, count(db, "SELECT count(*) FROM policies WHERE in_archive = 1"));
    free(out);
    /* the verdict: same names and numbers in the report and in show */
    CHECK(sh(&out, "%s show %s", fmsp, db) == 0);
    json_t *v;
    int verdicts = 0;
    json_array_foreach(json_object_get(run, "verdict"), i, v)
    {
        json_t *f = json_object_get(v, "best_found"), *b = json_object_get(v, "best_baseline");
        char q[64], line[256];
        if (json_is_object(f)) {
            fmt(q, sizeof q, json_object_get(f, "mean"), json_object_get(f, "ci"));
            snprintf(line, sizeof line, "best found:    %-28s %s",
                     json_string_value(json_object_get(f, "name")), q);
            CHECK_STR_HAS(out, line);
        }
        fmt(q, sizeof q, json_object_get(b, "mean"), json_object_get(b, "ci"));
        snprintf(line, sizeof line, "best baseline: %-28s %s",
                 json_string_value(json_object_get(b, "name")), q);
        CHECK_STR_HAS(out, line);
        const char *res = json_string_value(json_object_get(v, "result"));
        CHECK(res && (!strcmp(res, "beat") || !strcmp(res, "tie") || !strcmp(res, "lose")));
        verdicts++;
    }
    CHECK_INT(verdicts, 2);
    free(out);
    /* curves: one point per iteration and side, the archive as stored */
    json_t *curves = json_object_get(run, "curves");
    CHECK_INT(json_array_size(curves), 2 * 6);
    json_t *last = json_array_get(curves, json_array_size(curves) - 2);
    CHECK_INT(json_integer_value(json_object_get(last, "archive")),
              count(db, "SELECT count(*) FROM policies WHERE in_archive = 1 AND side = 1"));
    CHECK(json_number_value(json_object_get(last, "qd_score")) > 0);
    /* replays: whole episodes of the chosen pairings, five numbers a frame */
    json_t *replays = json_object_get(r, "replays");
    CHECK(json_array_size(replays) >= 4);
    json_array_foreach(replays, i, v)
    {
        json_t *frames = json_object_get(v, "frames");
        CHECK_INT(json_array_size(frames), json_integer_value(json_object_get(v, "steps")));
        CHECK_INT(json_array_size(json_array_get(frames, 0)), 5);
        CHECK(json_array_size(frames) > 10);
    }
    /* the builtin operator is labelled as not a model */
    CHECK_STR_HAS(json_string_value(json_array_get(json_object_get(r, "notes"), 0)),
                  "not a foundation model");
    json_decref(r);
    /* the page: written, self-contained, the data inert inside it */
    char *html = xasprintf("%s/a.html", tmp);
    CHECK(sh(&out, "%s report %s -o %s", fmsp, db, html) == 0);
    CHECK_STR_HAS(out, "wrote");
    free(out);
    size_t len;
    char *page = NULL, err[256];
    CHECK(util_read_file(html, 64 << 20, &page, &len, err, sizeof err) == 0);
    CHECK_STR_HAS(page, "Content-Security-Policy");
    CHECK_STR_HAS(page, "id=\"fmsp-data\"");
    /* the only closing script tags are the page's own three */
    int closes = 0;
    for (const char *c = page; (c = strstr(c, "</script>")); c++)
        closes++;
    CHECK_INT(closes, 3);
    CHECK(strstr(page, "<script src") == NULL && strstr(page, "<link") == NULL);
    free(page);
    free(html);
    free(db);
    free(js);
}

static void test_gandalf_table(void)
{
    char *out;
    char *db = xasprintf("%s/g.db", tmp), *js = xasprintf("%s/g.json", tmp);
    CHECK(sh(&out, "%s run --domain gandalf --fm builtin --target simulated --iterations 6 "
                   "--db %s --quiet",
             fmsp, db) == 0);
    free(out);
    CHECK(sh(&out, "%s report %s --json %s", fmsp, db, js) == 0);
    free(out);
    json_t *r = json_load_file(js, 0, NULL);
    CHECK(r && !strcmp(json_string_value(json_object_get(r, "domain")), "gandalf"));
    json_t *g = json_object_get(json_array_get(json_object_get(r, "runs"), 0), "gandalf");
    CHECK_INT(json_array_size(json_object_get(g, "levels")), 7);
    CHECK(sh(&out, "%s show %s", fmsp, db) == 0);
    CHECK_STR_HAS(out, json_string_value(json_object_get(g, "table_text")));
    free(out);
    /* every level a red team broke has its breaking transcript */
    size_t i;
    json_t *lv;
    int broken = 0, with_text = 0;
    json_array_foreach(json_object_get(g, "levels"), i, lv) broken +=
        json_is_string(json_object_get(lv, "broken_by"));
    json_array_foreach(json_object_get(g, "transcripts"), i, lv) with_text +=
        !strcmp(json_string_value(json_object_get(lv, "kind")), "break");
    CHECK(broken > 0);
    CHECK_INT(with_text, broken);
    /* the simulated target is labelled as a simulation */
    int sim = 0;
    json_array_foreach(json_object_get(r, "notes"), i, lv) sim +=
        strstr(json_string_value(lv), "simulated") != NULL;
    CHECK_INT(sim, 1);
    CHECK_INT(json_array_size(json_object_get(r, "replays")), 0);
    json_decref(r);
    free(db);
    free(js);
}

/* Several runs: their archives play each other, and the page gets the
 * cross-play with ratings and each run's exploitability. */
static void test_crossplay(void)
{
    char *out;
    char *db = xasprintf("%s/b.db", tmp), *js = xasprintf("%s/ab.json", tmp),
         *a = xasprintf("%s/a.db", tmp);
    CHECK(sh(&out, "%s run --algo nssp --iterations 4 --episodes 4 --seed 4 --db %s --quiet", fmsp,
             db) == 0);
    free(out);
    CHECK(sh(&out, "%s report %s/a.db %s --json %s --quiet", fmsp, tmp, db, js) == 0);
    free(out);
    json_t *r = json_load_file(js, 0, NULL);
    json_t *x = json_object_get(r, "crossplay");
    CHECK(json_is_object(x));
    size_t n1 = json_array_size(json_object_get(x, "rows")),
           n2 = json_array_size(json_object_get(x, "cols"));
    CHECK_INT(n1, count(db, "SELECT count(*) FROM policies WHERE in_archive AND side = 1") +
                      count(a, "SELECT count(*) FROM policies WHERE in_archive AND side = 1"));
    CHECK(n2 >= 2);
    CHECK_INT(json_array_size(json_object_get(x, "score")), n1);
    CHECK_INT(json_array_size(json_object_get(x, "elo")), n1 + n2);
    CHECK_INT(json_array_size(json_object_get(x, "exploitability")), 4); /* 2 runs x 2 sides */
    /* the Nash mixture of each side sums to 1 */
    double sum[2] = {0, 0};
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(x, "nash"), i, v) sum[json_integer_value(json_object_get(
                                                              v, "side")) == 2] +=
        json_number_value(json_object_get(v, "prob"));
    CHECK_NEAR(sum[0], 1, 1e-5); /* six significant digits in the JSON */
    CHECK_NEAR(sum[1], 1, 1e-5);
    json_decref(r);
    /* a tournament's JSON instead of playing: the same policies, its numbers */
    CHECK(sh(&out, "%s tournament --episodes 4 --quiet --json %s/t.json %s/a.db %s", fmsp, tmp, tmp,
             db) == 0);
    free(out);
    CHECK(sh(&out, "%s report %s/a.db %s --tournament %s/t.json --json %s/at.json", fmsp, tmp, db,
             tmp, tmp) == 0);
    free(out);
    char *at = xasprintf("%s/at.json", tmp);
    json_t *rt = json_load_file(at, 0, NULL);
    json_t *xt = json_object_get(rt, "crossplay");
    CHECK_INT(json_array_size(json_object_get(xt, "rows")), n1);
    CHECK_INT(json_array_size(json_object_get(xt, "cols")), n2);
    CHECK_INT(json_array_size(json_object_get(xt, "exploitability")), 4);
    CHECK(json_is_number(json_array_get(json_array_get(json_object_get(xt, "score"), 0), 0)));
    json_decref(rt);
    free(at);
    /* the same tables as CSV */
    CHECK(sh(&out, "%s report %s/a.db %s --csv %s/csv --quiet", fmsp, tmp, db, tmp) == 0);
    free(out);
    const char *files[] = {"policies", "curves", "verdicts", "qd", "crossplay"};
    for (int f = 0; f < 5; f++) {
        char *path = xasprintf("%s/csv/%s.csv", tmp, files[f]), *text = NULL, e[256];
        size_t len;
        CHECK_MSG(util_read_file(path, 1 << 24, &text, &len, e, sizeof e) == 0, "%s", e);
        if (f == 4 && text) /* one line per cell, and the header */
            CHECK_INT(browser_count(text, "\n"), (long long)(n1 * n2 + 1));
        if (f == 2 && text)
            CHECK_INT(browser_count(text, "\n"), 5);
        free(text);
        free(path);
    }
    CHECK(sh(&out, "%s report %s/a.db %s --json %s --no-crossplay", fmsp, tmp, db, js) == 0);
    free(out);
    r = json_load_file(js, 0, NULL);
    CHECK(json_is_null(json_object_get(r, "crossplay")));
    json_decref(r);
    free(db);
    free(js);
    free(a);
}

/* The page of two real runs in a real browser: silent, no request, every
 * placed policy on the map, the verdicts with show's numbers, the cross-play
 * heatmap, and a replay that moves. */
static void test_real_page_in_browser(void)
{
    char why[256];
    CHECK_MSG(browser_available(why, sizeof why), "%s", why);
    char *out, *html = xasprintf("%s/ab.html", tmp), *js = xasprintf("%s/ab.json", tmp);
    /* a key in the environment reaches nothing the report writes */
    CHECK(sh(&out, "OPENAI_API_KEY=sk-canary-report-7f3a9c %s report %s/a.db %s/b.db -o %s --json %s "
                   "--quiet",
             fmsp, tmp, tmp, html, js) == 0);
    free(out);
    CHECK(sh(&out, "grep -l sk-canary-report-7f3a9c %s %s; true", html, js) == 0);
    CHECK_MSG(out[0] == '\0', "the canary key was written to %s", out); /* grep -l names them */
    free(out);
    json_t *r = json_load_file(js, 0, NULL);
    char *url = xasprintf("file://%s", html);
    BrowserPage page;
    CHECK_MSG(browser_load(url, 2000, NULL, &page) == 0, "%s", page.error);
    CHECK_MSG(page.console_lines == 0, "console:\n%s", page.console);
    CHECK_MSG(page.connections == 0, "%d connections: %s", page.connections, page.requests);
    int placed = 0;
    size_t i, k;
    json_t *run, *p;
    json_array_foreach(json_object_get(r, "runs"), i, run)
    {
        json_array_foreach(json_object_get(run, "policies"), k, p) placed +=
            json_is_number(json_object_get(p, "x")) && json_is_number(json_object_get(p, "y"));
        /* each verdict's numbers, as show prints them (3 decimals) */
        json_array_foreach(json_object_get(run, "verdict"), k, p)
        {
            json_t *f = json_object_get(p, "best_found");
            char q[96];
            snprintf(q, sizeof q, "%.3f \xc2\xb1 %.3f", json_number_value(json_object_get(f, "mean")),
                     json_number_value(json_object_get(f, "ci")));
            if (json_is_object(f))
                CHECK_STR_HAS(page.dom, q);
        }
    }
    CHECK(placed > 10);
    CHECK_INT(browser_count(page.dom, "<circle class=\"pt "), placed);
    CHECK(browser_count(page.dom, "<div class=\"uplot") >= 4);
    CHECK_INT(browser_count(page.dom, "<table class=\"heatmap"), 1);
    CHECK_INT(browser_count(page.dom, "<canvas id=\"replay\""), 1);
    /* the builtin operator: no tokens, no cost, as show says */
    CHECK_INT(browser_count(page.dom, ">not a model: no tokens, no cost<"), 2);
    browser_page_release(&page);
    /* the replay moves: two moments of the same page differ */
    char *png[2] = {xasprintf("%s/t1.png", tmp), xasprintf("%s/t2.png", tmp)};
    for (int t = 0; t < 2; t++) {
        CHECK_MSG(browser_load(url, t ? 1600 : 400, png[t], &page) == 0, "%s", page.error);
        browser_page_release(&page);
    }
    CHECK_MSG(browser_files_equal(png[0], png[1]) == 0, "the replay did not move");
    free(png[0]);
    free(png[1]);
    json_decref(r);
    free(url);
    free(html);
    free(js);
}

/* A run that stored behaviour embeddings (--novelty-space both) shares the
 * map with a code run: every policy with a source is placed. */
static void test_spaces_share_the_map(void)
{
    char *out, *db = xasprintf("%s/both.db", tmp), *js = xasprintf("%s/both.json", tmp);
    CHECK(sh(&out, "%s run --novelty-space both --iterations 3 --episodes 2 --db %s --quiet", fmsp,
             db) == 0);
    free(out);
    CHECK(sh(&out, "%s report %s/a.db %s --json %s --no-crossplay --replays 0", fmsp, tmp, db, js) ==
          0);
    free(out);
    json_t *r = json_load_file(js, 0, NULL);
    size_t i, k;
    json_t *run, *p;
    int with_source = 0, placed = 0;
    json_array_foreach(json_object_get(r, "runs"), i, run)
        json_array_foreach(json_object_get(run, "policies"), k, p)
    {
        with_source += json_is_string(json_object_get(p, "source"));
        placed += json_is_number(json_object_get(p, "x"));
    }
    CHECK(with_source > 10);
    CHECK_INT(placed, with_source);
    json_t *sides = json_object_get(json_object_get(r, "qd"), "sides");
    json_array_foreach(sides, i, p)
    {
        json_t *runs = json_object_get(p, "runs");
        CHECK(json_number_value(json_object_get(json_array_get(runs, 1), "qd_score")) > 0);
    }
    json_decref(r);
    free(db);
    free(js);
}

static void test_bad_input(void)
{
    char *out;
    CHECK(sh(&out, "%s report", fmsp) == 2);
    CHECK_STR_HAS(out, "no run database given");
    free(out);
    CHECK(sh(&out, "%s report %s/a.db", fmsp, tmp) == 2);
    CHECK_STR_HAS(out, "-o report.html");
    free(out);
    CHECK(sh(&out, "%s report README.md -o %s/x.html", fmsp, tmp) == 1);
    CHECK_STR_HAS(out, "README.md");
    free(out);
    char *x = xasprintf("%s/x.html", tmp);
    CHECK(access(x, F_OK) != 0); /* nothing written on failure */
    free(x);
    CHECK(sh(&out, "%s report %s/a.db %s/g.db -o %s/x.html", fmsp, tmp, tmp, tmp) == 1);
    CHECK_STR_HAS(out, "a report covers one domain");
    free(out);
    CHECK(sh(&out, "%s report %s/a.db --tournament README.md -o %s/x.html", fmsp, tmp, tmp) == 1);
    CHECK_STR_HAS(out, "cannot read tournament");
    free(out);
    CHECK(sh(&out, "%s report %s/a.db --grid 0 -o %s/x.html", fmsp, tmp, tmp) == 2);
    free(out);
}

int main(void)
{
    const char *b = getenv("FMSP_BUILD"), *r = getenv("FMSP_ROOT");
    snprintf(fmsp, sizeof fmsp, "%s/fmsp", b ? b : "build");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    snprintf(tmp, sizeof tmp, "/tmp/fmsp-report-XXXXXX");
    if (!mkdtemp(tmp))
        return 1;
    RUN(test_cartag_matches_show);
    RUN(test_gandalf_table);
    RUN(test_crossplay);
    RUN(test_real_page_in_browser);
    RUN(test_spaces_share_the_map);
    RUN(test_bad_input);
    char *rm = xasprintf("rm -rf %s", tmp);
    if (system(rm) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    free(rm);
    return harness_done("test_report");
}
