/*
 * test_fm_http.c - the OpenAI-compatible and Anthropic clients against a
 * real HTTP server on loopback (tests/support/mock_llm_server.c): normal
 * answers in both wire formats, code extraction from them, no code, broken
 * code, truncated JSON, 429 with Retry-After, 500 once and forever, a stalled
 * connection, an oversized body, a 400 that must not be retried, several
 * requests in flight, and the API key: sent, never echoed back.
 */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "fm/embed.h"
#include "fm/extract.h"
#include "search/search.h"
#include "fm/fm.h"
#include "fixtures.h"
#include "harness.h"

static pid_t server;
static int port;
static const char key[] = "sk-test-3f9a-secret";

static void start_server(void)
{
    port = fixture_start_model_server(key, &server);
}

static FmConfig config(FmBackend b, const char *model)
{
    FmConfig c;
    fm_config_default(&c, b);
    snprintf(c.base_url, sizeof c.base_url, "http://127.0.0.1:%d/v1", port);
    snprintf(c.model, sizeof c.model, "%s", model);
    snprintf(c.api_key_env, sizeof c.api_key_env, "FMSP_TEST_KEY");
    c.backoff_base_s = 0.01;
    c.backoff_max_s = 5;
    c.max_retries = 2;
    c.timeout_s = 10;
    c.price_in_per_mtok = 1.0;
    c.price_out_per_mtok = 2.0;
    return c;
}

static FmspErr ask(FmBackend b, const char *model, FmResponse *r, void (*tweak)(FmConfig *))
{
    FmConfig c = config(b, model);
    if (tweak)
        tweak(&c);
    FmClient *cl;
    char err[256];
    FmspErr e = fm_client_new(&c, &cl, err, sizeof err);
    if (e) {
        fprintf(stderr, "client: %s\n", err);
        return e;
    }
    FmMessage m = {"user", "write a pursuer"};
    FmRequest q = {"system text", &m, 1, NULL, 7, 0, NULL};
    e = fm_complete(cl, &q, r);
    fm_client_free(cl);
    return e;
}

static void no_key_in(const FmResponse *r)
{
    CHECK(!r->text || !strstr(r->text, key));
    CHECK(!r->raw || !strstr(r->raw, key));
    CHECK(!strstr(r->error, key));
}

static void test_openai_ok(void)
{
    FmResponse r;
    CHECK(ask(FM_OPENAI, "ok", &r, NULL) == FMSP_OK);
    CHECK_MSG(r.err == FMSP_OK, "%s", r.error);
    CHECK(r.http_status == 200 && r.attempts == 1 && r.tag == 7);
    CHECK(r.prompt_tokens == 11 && r.completion_tokens == 22);
    CHECK_NEAR(r.cost_usd, (11 * 1.0 + 22 * 2.0) / 1e6, 1e-12);
    char *code = NULL, why[128];
    CHECK(extract_policy_code(r.text, &code, why, sizeof why) == FMSP_OK);
    CHECK(code && strstr(code, "FMSP_SIDE(FMSP_PURSUER)"));
    free(code);
    no_key_in(&r);
    fm_response_release(&r);
}

static void test_anthropic_ok(void)
{
    FmResponse r;
    CHECK(ask(FM_ANTHROPIC, "ok", &r, NULL) == FMSP_OK);
    CHECK_MSG(r.err == FMSP_OK, "%s", r.error);
    CHECK(r.text && strstr(r.text, "fmsp_act"));
    CHECK(r.prompt_tokens == 11 && r.completion_tokens == 22);
    no_key_in(&r);
    fm_response_release(&r);
    /* overloaded (529) is retried, then reported */
    CHECK(ask(FM_ANTHROPIC, "fail-always", &r, NULL) == FMSP_OK);
    CHECK(r.err == FMSP_ERR_NET && r.attempts == 3);
    CHECK_STR_HAS(r.error, "HTTP 529");
    CHECK_STR_HAS(r.error, "overloaded");
    fm_response_release(&r);
}

static void test_answers_without_good_code(void)
{
    FmResponse r;
    char *code = NULL, why[128];
    CHECK(ask(FM_OPENAI, "two-blocks", &r, NULL) == FMSP_OK && r.err == FMSP_OK);
    CHECK(extract_policy_code(r.text, &code, why, sizeof why) == FMSP_OK && strstr(code, "FMSP_EVADER"));
    free(code);
    fm_response_release(&r);
    CHECK(ask(FM_OPENAI, "nocode", &r, NULL) == FMSP_OK && r.err == FMSP_OK);
    CHECK(extract_policy_code(r.text, &code, why, sizeof why) == FMSP_ERR_PARSE);
    fm_response_release(&r);
    CHECK(ask(FM_OPENAI, "broken-code", &r, NULL) == FMSP_OK && r.err == FMSP_OK);
    CHECK(extract_policy_code(r.text, &code, why, sizeof why) == FMSP_OK); /* the compiler judges it */
    free(code);
    fm_response_release(&r);
    CHECK(ask(FM_OPENAI, "truncated-json", &r, NULL) == FMSP_OK);
    CHECK(r.err == FMSP_ERR_PARSE && r.text == NULL);
    CHECK_STR_HAS(r.error, "malformed JSON");
    fm_response_release(&r);
    CHECK(ask(FM_OPENAI, "refusal", &r, NULL) == FMSP_OK);
    CHECK(r.err == FMSP_ERR_PARSE);
    CHECK_STR_HAS(r.error, "refused");
    fm_response_release(&r);
}

static void test_retries(void)
{
    FmResponse r;
    double t0 = util_now();
    CHECK(ask(FM_OPENAI, "rate-limit-once", &r, NULL) == FMSP_OK);
    CHECK_MSG(r.err == FMSP_OK && r.attempts == 2, "%s", r.error);
    CHECK(util_now() - t0 >= 0.95); /* Retry-After: 1 honoured */
    fm_response_release(&r);
    CHECK(ask(FM_OPENAI, "fail-once", &r, NULL) == FMSP_OK);
    CHECK(r.err == FMSP_OK && r.attempts == 2);
    fm_response_release(&r);
    CHECK(ask(FM_OPENAI, "fail-always", &r, NULL) == FMSP_OK);
    CHECK(r.err == FMSP_ERR_NET && r.attempts == 3);
    CHECK_STR_HAS(r.error, "HTTP 500 after 3 attempts");
    fm_response_release(&r);
    /* a key the server quotes back is masked everywhere it could be kept */
    const char *echo[] = {"echo-key", "echo-key-ok"};
    for (int i = 0; i < 2; i++) {
        CHECK(ask(FM_OPENAI, echo[i], &r, NULL) == FMSP_OK);
        CHECK_MSG(!strstr(r.error, key) && (!r.raw || !strstr(r.raw, key)) && (!r.text || !strstr(r.text, key)),
                  "%s: key in error '%s' / raw '%s' / text '%s'", echo[i], r.error, r.raw ? r.raw : "",
                  r.text ? r.text : "");
        CHECK(i == 1 || strstr(r.error, "Incorrect API key provided: ****"));
        CHECK(i == 0 || (r.text && strstr(r.text, "Your key is ****")));
        fm_response_release(&r);
    }
    CHECK(ask(FM_OPENAI, "error-400", &r, NULL) == FMSP_OK);
    CHECK(r.err == FMSP_ERR_NET && r.attempts == 1); /* never retried */
    CHECK_STR_HAS(r.error, "unknown model");
    fm_response_release(&r);
}

static void short_timeout(FmConfig *c)
{
    c->timeout_s = 1.5;
    c->max_retries = 1;
}

static void small_cap(FmConfig *c)
{
    c->max_response_bytes = 1 << 20;
}

static void test_stall_and_oversize(void)
{
    FmResponse r;
    double t0 = util_now();
    CHECK(ask(FM_OPENAI, "stall", &r, short_timeout) == FMSP_OK);
    double t = util_now() - t0;
    CHECK(r.err == FMSP_ERR_NET && r.attempts == 2);
    CHECK_STR_HAS(r.error, "Timeout");
    CHECK(t >= 2.9 && t < 8);
    fm_response_release(&r);
    CHECK(ask(FM_OPENAI, "huge", &r, small_cap) == FMSP_OK);
    CHECK(r.err == FMSP_ERR_TOOBIG);
    CHECK_STR_HAS(r.error, "larger than the 1048576-byte limit");
    fm_response_release(&r);
}

static void test_in_flight(void)
{
    FmConfig c = config(FM_OPENAI, "delay-300");
    c.max_in_flight = 4;
    FmClient *cl;
    char err[256];
    CHECK(fm_client_new(&c, &cl, err, sizeof err) == FMSP_OK);
    FmMessage m = {"user", "hi"};
    double t0 = util_now();
    for (int i = 0; i < 8; i++) {
        FmRequest q = {NULL, &m, 1, NULL, (uint64_t)i, 0, NULL};
        CHECK(fm_submit(cl, &q) == FMSP_OK);
    }
    CHECK(fm_in_flight(cl) == 8);
    int got = 0, seen[8] = {0};
    FmResponse r;
    while (fm_wait(cl, 5, &r) == FMSP_OK) {
        CHECK(r.err == FMSP_OK && r.tag < 8);
        if (r.tag < 8)
            seen[r.tag]++;
        got++;
        fm_response_release(&r);
    }
    double t = util_now() - t0;
    CHECK(got == 8);
    for (int i = 0; i < 8; i++)
        CHECK(seen[i] == 1);
    CHECK_MSG(t < 1.2, "8 requests of 0.3 s with 4 in flight took %.2f s", t); /* ~0.6 s */
    fm_client_free(cl);
}

static void test_key_handling(void)
{
    /* the server counted the requests whose key matched */
    unsetenv("FMSP_TEST_KEY");
    FmConfig c = config(FM_OPENAI, "ok");
    FmClient *cl;
    char err[256];
    CHECK(fm_client_new(&c, &cl, err, sizeof err) == FMSP_ERR_ARG);
    CHECK_STR_HAS(err, "FMSP_TEST_KEY is not set");
    setenv("FMSP_TEST_KEY", key, 1);
    snprintf(c.base_url, sizeof c.base_url, "ftp://example");
    CHECK(fm_client_new(&c, &cl, err, sizeof err) == FMSP_ERR_ARG);
    char *cmd = xasprintf("curl -s http://127.0.0.1:%d/stats", port);
    FILE *p = popen(cmd, "r");
    char stats[256] = "";
    if (p) {
        if (!fgets(stats, sizeof stats, p))
            stats[0] = 0;
        pclose(p);
    }
    free(cmd);
    CHECK_STR_HAS(stats, "\"auth_bad\":0");
}

static void test_remote_embeddings(void)
{
    char url[128], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
    EmbedRemote *r;
    CHECK(embed_remote_new(url, "emb", "FMSP_TEST_KEY", 5, &r, err, sizeof err) == FMSP_OK);
    float *a = NULL, *b = NULL, *c = NULL;
    int da = 0, db = 0, dc = 0;
    CHECK(embed_remote(r, "int x;", &a, &da, err, sizeof err) == FMSP_OK && da == 8);
    CHECK(embed_remote(r, "int x;", &b, &db, err, sizeof err) == FMSP_OK && db == 8);
    CHECK(embed_remote(r, "double y = 2;", &c, &dc, err, sizeof err) == FMSP_OK);
    double n = 0;
    for (int i = 0; a && i < 8; i++)
        n += a[i] * a[i];
    CHECK_NEAR(n, 1.0, 1e-5);
    CHECK(a && b && memcmp(a, b, 8 * sizeof(float)) == 0);
    CHECK(a && c && memcmp(a, c, 8 * sizeof(float)) != 0);
    free(a);
    free(b);
    free(c);
    embed_remote_free(r);
    CHECK(embed_remote_new(url, "emb", "FMSP_NO_SUCH_KEY", 5, &r, err, sizeof err) == FMSP_ERR_ARG);
    CHECK_STR_HAS(err, "FMSP_NO_SUCH_KEY is not set");
}

/* A short search on the shipped baselines, with the loopback model
 * answering in the given mode. */
static void tiny_search_config(SearchConfig *cfg, int iterations, const char *mode)
{
    search_config_default(cfg);
    cfg->iterations = iterations;
    cfg->eval.episodes = 2;
    cfg->eval.batch = 2;
    cfg->eval.params.T = 4;
    cfg->eval.params.max_steps = 80;
    const char *root = getenv("FMSP_ROOT");
    snprintf(cfg->baselines_dir, sizeof cfg->baselines_dir, "%s/policies/baselines/cartag", root ? root : ".");
    cfg->fm = config(FM_OPENAI, mode);
}

/* A model that always fails: the run stops after a few failed calls in a
 * row with the cause (not after burning every iteration); no iteration is
 * lost to the outage (each waits for its answer, which a resume asks for
 * again), and the failures are logged with their cause. */
static void test_search_stops_on_failing_model(void)
{
    char dir[] = "/tmp/fmsp-http-fail-XXXXXX";
    if (!mkdtemp(dir))
        return;
    SearchConfig cfg;
    tiny_search_config(&cfg, 20, "fail-always");
    cfg.fm.max_retries = 1;
    CompileConfig cc;
    compile_config_default(&cc);
    char *db = xasprintf("%s/run.db", dir), err[512] = "";
    Search *s;
    CHECK(search_create(&cfg, &cc, db, &s, err, sizeof err) == FMSP_OK);
    if (s) {
        CHECK(search_run(s, NULL, NULL, err, sizeof err) == FMSP_ERR_NET);
        CHECK_STR_HAS(err, "failed 3 times in a row");
        CHECK_STR_HAS(err, "HTTP 500");
        StorePolicyRow *rows;
        int n, lost = 0;
        store_policy_list(search_store(s), 0, 0, &rows, &n);
        for (int i = 0; i < n; i++)
            lost += rows[i].iteration >= 0;
        CHECK_MSG(lost == 0, "%d iterations lost to a dead model", lost);
        store_policy_rows_free(rows, n);
        search_free(s);
        sqlite3 *raw;
        sqlite3_stmt *q;
        int logged = 0;
        if (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(raw, "SELECT detail FROM events WHERE kind = 'model_call_failed'",
                               -1, &q, NULL) == SQLITE_OK) {
            while (sqlite3_step(q) == SQLITE_ROW)
                logged += strstr((const char *)sqlite3_column_text(q, 0), "HTTP 500") != NULL;
            sqlite3_finalize(q);
        }
        sqlite3_close(raw);
        CHECK_INT(logged, 3);
    }
    free(db);
    char *cmd = xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
}

/* A whole search against the loopback model, with remote embeddings: it
 * runs, records every call, and the key appears nowhere in the database. */
static void test_search_with_http_model(void)
{
    char dir[] = "/tmp/fmsp-http-run-XXXXXX";
    if (!mkdtemp(dir))
        return;
    SearchConfig cfg;
    tiny_search_config(&cfg, 4, "ok");
    snprintf(cfg.embed, sizeof cfg.embed, "openai");
    CompileConfig cc;
    compile_config_default(&cc);
    char *db = xasprintf("%s/run.db", dir), err[512] = "";
    Search *s;
    FmspErr e = search_create(&cfg, &cc, db, &s, err, sizeof err);
    CHECK_MSG(e == FMSP_OK, "%s", err);
    if (e == FMSP_OK) {
        CHECK_MSG(search_run(s, NULL, NULL, err, sizeof err) == FMSP_OK, "%s", err);
        long calls, failed, tokens;
        double cost;
        store_call_totals(search_store(s), &calls, &failed, &tokens, &cost);
        CHECK_MSG(calls >= 4 && failed == 0 && tokens == calls * 33, "calls %ld failed %ld tokens %ld", calls, failed, tokens);
        CHECK(cost > 0);
        search_free(s);
    }
    /* scan the database files for the key */
    const char *suffix[] = {"", "-wal"};
    for (int i = 0; i < 2; i++) {
        char *p = xasprintf("%s%s", db, suffix[i]), *data = NULL;
        size_t len = 0;
        if (util_read_file(p, 64u << 20, &data, &len, err, sizeof err) == FMSP_OK) {
            CHECK_MSG(memmem(data, len, key, strlen(key)) == NULL, "the API key is in %s", p);
            free(data);
        }
        free(p);
    }
    free(db);
    char *cmd = xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
}

static void *stop_soon(void *arg)
{
    (void)arg;
    usleep(1500000); /* requests are in flight (and stalled) by now */
    search_stop();
    return NULL;
}

/* Stopping while the endpoint stalls: the requests in flight are cancelled
 * and search_run returns within a couple of seconds (in a child process:
 * search_stop is final for the process). */
static void test_stop_with_stalled_model(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char dir[] = "/tmp/fmsp-http-stall-XXXXXX";
        if (!mkdtemp(dir))
            _exit(3);
        SearchConfig cfg;
        tiny_search_config(&cfg, 8, "stall");
        cfg.fm.timeout_s = 120;
        CompileConfig cc;
        compile_config_default(&cc);
        char *db = xasprintf("%s/run.db", dir), err[512] = "";
        Search *s;
        if (search_create(&cfg, &cc, db, &s, err, sizeof err) != FMSP_OK)
            _exit(4);
        pthread_t t;
        pthread_create(&t, NULL, stop_soon, NULL);
        double t0 = util_now();
        FmspErr e = search_run(s, NULL, NULL, err, sizeof err);
        double took = util_now() - t0;
        int interrupted = search_stopped(s) == SEARCH_INTERRUPTED;
        pthread_join(t, NULL);
        search_free(s);
        char *cmd = xasprintf("rm -rf %s", dir);
        if (system(cmd) != 0)
            _exit(6);
        fprintf(stderr, "  stopped after %.2f s (%s)\n", took, e ? err : "ok");
        _exit(e == FMSP_OK && interrupted && took < 4.0 ? 0 : 5);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
}

int main(void)
{
    setenv("FMSP_TEST_KEY", key, 1);
    start_server();
    if (port <= 0) {
        fprintf(stderr, "mock server did not start\n");
        return 1;
    }
    RUN(test_openai_ok);
    RUN(test_anthropic_ok);
    RUN(test_answers_without_good_code);
    RUN(test_retries);
    RUN(test_stall_and_oversize);
    RUN(test_in_flight);
    RUN(test_remote_embeddings);
    RUN(test_search_with_http_model);
    RUN(test_search_stops_on_failing_model);
    RUN(test_key_handling);
    RUN(test_stop_with_stalled_model);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    return harness_done("test_fm_http");
}
