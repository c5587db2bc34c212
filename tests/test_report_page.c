/*
 * test_report_page.c - the report page (report_html_write with the built-in
 * report.js and uPlot) in a real headless browser, on the hand-written
 * fixtures tests/report_fixtures/{cartag,gandalf}.json: it draws every
 * section, writes nothing to the console, makes no network request, shows
 * hostile text only as text, opens a policy's panel with its diff, survives
 * missing and malformed fields, and its replay moves.
 *
 * The checks that watch the browser are tested themselves first: a page that
 * throws must be caught, a page that loads an image from the network without
 * the CSP must reach the trap, and with the CSP must be refused.
 */
#include <jansson.h>

#include "browser.h"
#include "harness.h"
#include "report/report_html.h"

#define BUDGET_MS 1000

static char *scratch; /* this run's folder for pages and screenshots */

static char *fixture_text(const char *name)
{
    const char *root = getenv("FMSP_ROOT") ? getenv("FMSP_ROOT") : ".";
    char *path = xasprintf("%s/tests/report_fixtures/%s", root, name);
    char *text = browser_read_file(path, NULL);
    if (!text)
        fprintf(stderr, "cannot read %s (is FMSP_ROOT the source tree?)\n", path);
    free(path);
    return text;
}

static json_t *fixture_json(const char *name)
{
    char *text = fixture_text(name);
    json_error_t e;
    json_t *j = text ? json_loads(text, 0, &e) : NULL;
    if (text && !j)
        fprintf(stderr, "%s: %s at line %d\n", name, e.text, e.line);
    free(text);
    return j;
}

/* Writes scratch/NAME with the report page of `json`; returns its path. */
static char *make_page(const char *name, const char *title, const char *json)
{
    char *path = xasprintf("%s/%s", scratch, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        int written = report_html_write(f, title, json);
        int closed = fclose(f);
        CHECK_INT(written, 0);
        CHECK_INT(closed, 0);
    }
    return path;
}

/* Writes scratch/NAME with `html` as it is (the browser checks' controls). */
static char *make_raw_page(const char *name, const char *html)
{
    char *path = xasprintf("%s/%s", scratch, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(html, f);
        int closed = fclose(f);
        CHECK_INT(closed, 0);
    }
    return path;
}

/* Loads file://PATH[FRAGMENT]; checks the browser ran. */
static void load(const char *path, const char *fragment, int budget, const char *png,
                 BrowserPage *page)
{
    char *url = xasprintf("file://%s%s", path, fragment ? fragment : "");
    int rc = browser_load(url, budget, png, page);
    CHECK_MSG(rc == 0, "%s", page->error);
    free(url);
}

/* A page of ours: ran, silent console, no connection. */
static void check_clean(const BrowserPage *page)
{
    CHECK_MSG(page->console_lines == 0, "console:\n%s", page->console);
    CHECK_MSG(page->connections == 0, "%d connections: %s", page->connections, page->requests);
}

static int policies_where(json_t *report, int placed_only)
{
    int n = 0;
    size_t i, k;
    json_t *run, *p;
    json_array_foreach(json_object_get(report, "runs"), i, run)
    {
        json_array_foreach(json_object_get(run, "policies"), k, p)
        {
            if (!placed_only || (json_is_number(json_object_get(p, "x")) &&
                                 json_is_number(json_object_get(p, "y"))))
                n++;
        }
    }
    return n;
}

/* ---- the browser checks, tested ---- */

static const char report_csp[] =
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">";

static void test_browser_installed(void)
{
    char why[512];
    CHECK_MSG(browser_available(why, sizeof why), "%s", why);
}

static void test_console_check_catches_a_throw(void)
{
    char *quiet =
        make_raw_page("quiet.html", "<!doctype html><p>quiet</p><script>var x = 1;</script>");
    char *loud =
        make_raw_page("throw.html", "<!doctype html><p>loud</p><script>setTimeout(function () {"
                                    " throw new Error('deliberate failure'); }, 50);</script>");
    BrowserPage page;
    load(quiet, NULL, 500, NULL, &page);
    CHECK_MSG(page.console_lines == 0, "%s", page.console);
    CHECK_STR_HAS(page.dom, "<p>quiet</p>");
    browser_page_release(&page);
    load(loud, NULL, 500, NULL, &page);
    CHECK(page.console_lines >= 1);
    CHECK_STR_HAS(page.console, "Uncaught Error: deliberate failure");
    browser_page_release(&page);
    free(quiet);
    free(loud);
}

static void test_network_check_catches_a_request(void)
{
    static const char body[] =
        "<p>net</p><img src=\"http://example.com/x.png\">"
        "<script>fetch('http://example.org/y').catch(function () {});</script>";
    char *open_html = xasprintf("<!doctype html><head></head><body>%s</body>", body);
    char *csp_html = xasprintf("<!doctype html><head>%s</head><body>%s</body>", report_csp, body);
    char *open_page = make_raw_page("net_open.html", open_html);
    char *csp_page = make_raw_page("net_csp.html", csp_html);
    BrowserPage page;
    load(open_page, NULL, 1000, NULL, &page);
    CHECK_MSG(page.connections >= 2, "%d connections: %s", page.connections, page.requests);
    CHECK_STR_HAS(page.requests, "http://example.com/x.png");
    CHECK_STR_HAS(page.requests, "http://example.org/y");
    browser_page_release(&page);
    load(csp_page, NULL, 1000, NULL, &page);
    CHECK_MSG(page.connections == 0, "%d connections: %s", page.connections, page.requests);
    CHECK_STR_HAS(page.console, "Content Security Policy");
    CHECK(page.console_lines >= 2);
    browser_page_release(&page);
    free(open_html);
    free(csp_html);
    free(open_page);
    free(csp_page);
}

/* ---- the pages ---- */

static void test_cartag_page(void)
{
    json_t *report = fixture_json("cartag.json");
    char *json = fixture_text("cartag.json");
    CHECK(report && json);
    if (!report || !json)
        return;
    char *path = make_page("cartag.html", "Car Tag </title><img src=http://x>", json);
    BrowserPage page;
    load(path, NULL, BUDGET_MS, NULL, &page);
    check_clean(&page);
    const char *dom = page.dom;
    /* header: notes and the runs */
    CHECK_STR_HAS(dom, "<ul class=\"notes\"><li>the builtin operator is not a model");
    CHECK_STR_HAS(dom, "<table class=\"runs\">");
    CHECK_STR_HAS(dom, "mean score against the run's archive of the other side");
    /* verdicts: one per side of qdsp-1, none stored for open-loop-1 */
    CHECK_STR_HAS(dom, "<div class=\"verdict beat\">");
    CHECK_STR_HAS(dom, "<div class=\"verdict lose\">");
    CHECK_STR_HAS(dom, "margin +0.050 ± 0.015");
    CHECK_STR_HAS(dom, "pool: held-out: 2 baseline evaders (2 opponents, 40 episodes per pair)");
    CHECK_STR_HAS(dom, "not available: run open-loop-1 has no verdict stored");
    CHECK_STR_HAS(dom, "not available: run open-loop-1 stored no per-iteration snapshots");
    /* uPlot: quality and QD-score per side, tokens: 5 charts, each with a canvas */
    CHECK_INT(browser_count(dom, "<div class=\"uplot"), 5);
    CHECK(browser_count(dom, "<canvas") >= 6);
    /* maps: one circle per placed policy; lineage: one node per policy */
    CHECK_INT(browser_count(dom, "<svg class=\"map\""), 2);
    CHECK_INT(browser_count(dom, "<circle class=\"pt "), policies_where(report, 1));
    CHECK_INT(browser_count(dom, "<circle class=\"pt archive\""), 6);
    CHECK_INT(browser_count(dom, "<svg class=\"lineage\""), 4);
    CHECK_INT(browser_count(dom, "<circle class=\"node "), policies_where(report, 0));
    CHECK_INT(browser_count(dom, "<line class=\"edge\""), 10);
    /* tables */
    CHECK_STR_HAS(dom, "<table class=\"qd\">");
    CHECK_STR_HAS(dom, "<td>pursuer</td><td>qdsp-1</td><td>12.80</td><td>2</td><td>4</td>");
    CHECK_STR_HAS(dom, "quality: each run's own stored quality");
    CHECK_STR_HAS(dom, "<table class=\"heatmap\">");
    CHECK_INT(browser_count(dom, "<td class=\"unplayed\""), 1);
    CHECK_STR_HAS(dom, "<table class=\"elo\">");
    CHECK_STR_HAS(dom, "[1580, 1645]");
    CHECK_STR_HAS(dom, "<table class=\"nash\">");
    CHECK_STR_HAS(dom, "<table class=\"exploitability\">");
    CHECK_STR_HAS(dom, "<table class=\"totals\">");
    CHECK_STR_HAS(dom, "<table class=\"failures\">");
    /* the replay, and no Gandalf section in a Car Tag report */
    CHECK_STR_HAS(dom, "<canvas id=\"replay\"");
    CHECK_INT(browser_count(dom, "<option "), 2);
    CHECK_STR_HAS(dom, "captured after 136 steps; pursuer score 0.730, evader score 0.270");
    CHECK(!strstr(dom, "id=\"gandalf\""));
    /* hostile text (a reason, the title) stays text */
    CHECK_STR_HAS(dom,
                  "scan: forbidden text &lt;/script&gt;&lt;img src=http://x&gt; in the source");
    CHECK(!strstr(dom, "<img"));
    CHECK_STR_HAS(dom, "<title>Car Tag &lt;/title&gt;&lt;img src=http://x&gt;</title>");
    browser_page_release(&page);
    json_decref(report);
    free(json);
    free(path);
}

static void test_gandalf_page(void)
{
    json_t *report = fixture_json("gandalf.json");
    char *json = fixture_text("gandalf.json");
    CHECK(report && json);
    if (!report || !json)
        return;
    char *path = make_page("gandalf.html", "Gandalf", json);
    BrowserPage page;
    load(path, NULL, BUDGET_MS, NULL, &page);
    check_clean(&page);
    const char *dom = page.dom;
    CHECK_STR_HAS(
        dom, "<li>the target is simulated (a rule-based test double), not a language model</li>");
    CHECK_STR_HAS(dom, "<table class=\"gandalf-levels\">");
    CHECK_STR_HAS(
        dom, "<tr><td>defender_level1</td><td>1.00</td><td>attacker_ask</td><td>1.00 ± 0.00</td>"
             "<td>defender_it1</td><td>0.00</td><td>0.97</td><td>no</td><td>no</td></tr>");
    CHECK_STR_HAS(dom, "<td>attacker_it1</td><td>0.62 ± 0.11</td>"
                       "<td>not patched (best try defender_it1)</td><td>0.25</td><td>0.95</td>"
                       "<td>attacker_it1</td><td>n/a</td>");
    CHECK_STR_HAS(
        dom,
        "<td>defender_level3</td><td>0.90</td><td>not broken</td><td>0.00 ± 0.00</td><td>n/a</td>");
    CHECK_STR_HAS(dom, "<summary>the table as fmsp prints it</summary><pre>level ");
    CHECK_STR_HAS(dom, "<summary>level defender_level2 · break · attacker_it1</summary>");
    CHECK_INT(browser_count(dom, "<details class=\"transcript\">"), 3);
    CHECK_STR_HAS(dom, "reply: &lt;/script&gt;&lt;img src=http://x&gt; B-A-N-A-N-A");
    CHECK_STR_HAS(dom, "<div class=\"verdict tie\">");
    CHECK_INT(browser_count(dom, "<div class=\"uplot"), 5);
    CHECK_INT(browser_count(dom, "<circle class=\"pt "), policies_where(report, 1));
    CHECK_INT(browser_count(dom, "<circle class=\"node "), policies_where(report, 0));
    CHECK_STR_HAS(dom, "not available: no cross-play in this report");
    CHECK(!strstr(dom, "<canvas id=\"replay\""));
    CHECK(!strstr(dom, "<img"));
    browser_page_release(&page);
    json_decref(report);
    free(json);
    free(path);
}

/* #policy=RUN/ID opens the policy's panel: source, scores, prompt, and the
 * line diff against its first parent. */
static void test_policy_panel_and_diff(void)
{
    char *json = fixture_text("cartag.json");
    CHECK(json);
    if (!json)
        return;
    char *path = make_page("panel.html", "panel", json);
    BrowserPage page;
    load(path, "#policy=qdsp-1/7", BUDGET_MS, NULL, &page);
    check_clean(&page);
    const char *dom = page.dom;
    CHECK_STR_HAS(dom, "<aside id=\"detail\"><button class=\"close\"");
    CHECK_STR_HAS(dom, "<h2>pursuer_it3</h2>");
    CHECK_STR_HAS(dom, "quality: 0.668 ± 0.021 (95% interval half-width) over 3 opponents");
    CHECK_STR_HAS(dom, "measured as: mean score against the run's archive");
    CHECK_STR_HAS(dom, "<table class=\"scores\">");
    CHECK_STR_HAS(dom, "<pre class=\"prompt\">Improve pursuer_it1: lead further ahead.</pre>");
    CHECK_STR_HAS(dom, "<h3>Change from its first parent (pursuer_it1)</h3>");
    /* the source as text, hostile comment included */
    CHECK_STR_HAS(dom, "<pre class=\"source\">#include \"fmsp_policy.h\"\n");
    CHECK_STR_HAS(dom, "/* &lt;/script&gt;&lt;img src=http://x&gt; */");
    CHECK(!strstr(dom, "<img"));
    /* the diff: one line replaced by two, the rest unchanged */
    CHECK_STR_HAS(
        dom,
        "<span class=\"same\">      const FmspState *s = &amp;o-&gt;state; (void)self;\n</span>"
        "<span class=\"del\">-     double lead = 0.3;\n</span>"
        "<span class=\"add\">+     /* &lt;/script&gt;&lt;img src=http://x&gt; */\n</span>"
        "<span class=\"add\">+     double lead = 0.5;\n</span>"
        "<span class=\"same\">      c-&gt;u = ");
    CHECK_INT(browser_count(dom, "<span class=\"del\">"), 1);
    CHECK_INT(browser_count(dom, "<span class=\"add\">"), 2);
    browser_page_release(&page);

    /* pursuer_it3b changes two separated lines: the diff keeps the common
     * lines between them (an LCS, not a head/tail trim) */
    load(path, "#policy=qdsp-1/9", BUDGET_MS, NULL, &page);
    check_clean(&page);
    dom = page.dom;
    CHECK_STR_HAS(dom, "<span class=\"del\">- void *fmsp_create(const FmspParams *p, FmspRng *r) "
                       "{ (void)p; (void)r; return 0; }\n</span>"
                       "<span class=\"add\">+ void *fmsp_create(const FmspParams *p, FmspRng *r) "
                       "{ (void)p; (void)r; return NULL; }\n</span>"
                       "<span class=\"same\">  void fmsp_act(");
    CHECK_STR_HAS(dom, "<span class=\"same\">      double lead = 0.3;\n</span>"
                       "<span class=\"del\">-     c-&gt;u = fmsp_clamp(6 * ");
    CHECK_INT(browser_count(dom, "<span class=\"del\">"), 2);
    CHECK_INT(browser_count(dom, "<span class=\"add\">"), 2);
    CHECK_INT(browser_count(dom, "<span class=\"same\">"), 7);
    browser_page_release(&page);
    free(json);
    free(path);
}

/* Missing, null and wrongly typed fields: every section says why it is
 * empty and nothing throws (a throwing section would log to the console). */
static void test_missing_and_malformed_fields(void)
{
    static const char *const cases[] = {
        "{}",
        "{\"fmsp_report\": 1, \"domain\": \"cartag\", \"runs\": [], \"replays\": []}",
        "{\"fmsp_report\": 1, \"domain\": \"cartag\", \"title\": null, \"side_names\": null,"
        " \"notes\": \"x\", \"runs\": [null, 3, \"s\", {\"name\": \"m\", \"policies\": [null, "
        "{\"id\": 1}, "
        "{\"id\": 2, \"side\": 1, \"x\": 1, \"y\": null, \"parents\": [1, 99], \"scores\": "
        "[null]}],"
        " \"curves\": [{}, {\"side\": 1, \"iteration\": \"a\"}], \"verdict\": [{}], \"cost\": [{}],"
        " \"failures\": [{\"examples\": [null, {}]}], \"prompts\": null, \"gandalf\": {}}],"
        " \"qd\": [], \"crossplay\": {\"rows\": 5, \"score\": [[null]]},"
        " \"replays\": [{\"frames\": [[1, 2]]}, {\"frames\": [[0, 0, 0, 1, 1], [0, 0, 0, 1, 1]],"
        " \"params\": {\"walls\": 0}}]}",
        "{\"fmsp_report\": 1, \"domain\": \"gandalf\", \"runs\": [{\"name\": \"g\", \"gandalf\":"
        " {\"levels\": [{}], \"transcripts\": [{\"text\": null}]}}]}",
        "[1, 2]",
        "null",
        "not json at all",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *name = xasprintf("malformed%zu.html", i);
        char *path = make_page(name, "malformed", cases[i]);
        BrowserPage page;
        load(path, "#policy=m/2", BUDGET_MS, NULL, &page);
        CHECK_MSG(page.console_lines == 0, "case %zu: %s", i, page.console);
        CHECK_MSG(page.connections == 0, "case %zu", i);
        CHECK_MSG(strstr(page.dom, "not available: "), "case %zu says nothing is missing", i);
        browser_page_release(&page);
        free(name);
        free(path);
    }
}

/* The replay starts by itself and moves: two screenshots at different
 * virtual times differ. The same report without replays gives equal
 * screenshots (nothing else moves), and a screenshot is not a blank page. */
static void test_replay_animates(void)
{
    json_t *report = fixture_json("cartag.json");
    CHECK(report);
    if (!report)
        return;
    char *with = json_dumps(report, JSON_COMPACT);
    json_object_set_new(report, "replays", json_array());
    char *without = json_dumps(report, JSON_COMPACT);
    char *page_with = make_page("replay.html", "replay", with);
    char *page_without = make_page("noreplay.html", "no replay", without);
    char *blank = make_raw_page("blank.html", "<!doctype html><html><body></body></html>");
    char *png[5];
    const char *names[5] = {"with_early", "with_late", "without_early", "without_late", "blank"};
    char *pages[5] = {page_with, page_with, page_without, page_without, blank};
    int budgets[5] = {400, 1600, 400, 1600, 400};
    for (int i = 0; i < 5; i++) {
        png[i] = xasprintf("%s/%s.png", scratch, names[i]);
        BrowserPage page;
        load(pages[i], NULL, budgets[i], png[i], &page);
        if (i < 4)
            check_clean(&page);
        browser_page_release(&page);
    }
    CHECK_MSG(browser_files_equal(png[0], png[1]) == 0, "the replay did not move between %s and %s",
              png[0], png[1]);
    CHECK_MSG(browser_files_equal(png[2], png[3]) == 1, "a page without replay changed over time");
    CHECK_MSG(browser_files_equal(png[0], png[4]) == 0, "the report's screenshot is blank");
    CHECK_MSG(browser_files_equal(png[2], png[4]) == 0, "the report's screenshot is blank");
    for (int i = 0; i < 5; i++)
        free(png[i]);
    free(with);
    free(without);
    free(page_with);
    free(page_without);
    free(blank);
    json_decref(report);
}

int main(void)
{
    scratch = browser_tmpdir("report-page");
    if (!scratch) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_browser_installed);
    char why[512];
    if (browser_available(why, sizeof why)) {
        RUN(test_console_check_catches_a_throw);
        RUN(test_network_check_catches_a_request);
        RUN(test_cartag_page);
        RUN(test_gandalf_page);
        RUN(test_policy_panel_and_diff);
        RUN(test_missing_and_malformed_fields);
        RUN(test_replay_animates);
    }
    browser_rm_rf(scratch);
    free(scratch);
    return harness_done("test_report_page");
}
