/*
 * test_store.c - the run database, on real SQLite files in a mkdtemp dir:
 * round trips through close/reopen for every table (checked through the API
 * and, where the API has no reader, with raw SQL), NaN as NULL, exact
 * little-endian embeddings, transactions, writers killed with SIGKILL before
 * and right after commit, refusal of foreign / missing / existing files,
 * duplicate model call keys, hostile strings stored verbatim, value caps,
 * and a full disk (simulated with max_page_count).
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "harness.h"
#include "store/store.h"

static char dir[128];

static char *path(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static Store *fresh(const char *name)
{
    char *p = path(name), err[512];
    Store *s = NULL;
    if (store_open(p, 1, &s, err, sizeof err))
        fprintf(stderr, "store_open: %s\n", err);
    free(p);
    return s;
}

static Store *reopen(const char *name)
{
    char *p = path(name), err[512];
    Store *s = NULL;
    if (store_open(p, 0, &s, err, sizeof err))
        fprintf(stderr, "store_open (reopen): %s\n", err);
    free(p);
    return s;
}

/* One integer from raw SQL on the file (-999 on any error). */
static long long raw_int(const char *name, const char *sql)
{
    char *p = path(name);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -999;
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(p);
    return v;
}

/* One text from raw SQL on the file (heap, NULL on error or NULL value). */
static char *raw_text(const char *name, const char *sql)
{
    char *p = path(name);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(p);
    return v;
}

static int raw_exec(const char *name, const char *sql)
{
    char *p = path(name);
    sqlite3 *db = NULL;
    int rc = sqlite3_open(p, &db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    free(p);
    return rc;
}

static StorePolicy policy(int side, const char *source, double quality)
{
    StorePolicy p = {0};
    p.side = side;
    p.iteration = 3;
    p.origin = "model";
    p.name = "p";
    p.source = source;
    p.hash = "abc";
    p.parents = "[1,2]";
    p.status = "ok";
    p.reason = "because";
    p.quality = quality;
    p.novelty = NAN;
    return p;
}

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The database holds exactly one policy, with this source. */
static void check_only_policy(Store *s, const char *source)
{
    StorePolicyRow *rows;
    int n = 0;
    CHECK(store_policy_list(s, 0, 0, &rows, &n) == FMSP_OK && n == 1);
    if (n == 1)
        CHECK(streq(rows[0].source, source));
    store_policy_rows_free(rows, n);
}

static void test_round_trip_every_table(void)
{
    Store *s = fresh("rt.db");
    CHECK(s != NULL);
    if (!s)
        return;
    float emb[3] = {0.25f, -1.5f, 3.0f};
    StorePolicy p = policy(1, "int f(void) { return 1; }", 0.625);
    p.origin = "seed";
    p.name = "chaser";
    p.iteration = -1;
    p.embedding = emb;
    p.embedding_dim = 3;
    p.novelty = 0.125;
    p.in_archive = 1;
    CHECK(store_policy_add(s, &p) == FMSP_OK);
    CHECK_INT(p.id, 1);
    StorePolicy q = policy(2, NULL, NAN);
    q.status = "compile_error";
    q.reason = "line 1: error";
    q.name = NULL;
    q.hash = NULL;
    CHECK(store_policy_add(s, &q) == FMSP_OK);
    CHECK_INT(q.id, 2);
    StoreEval ev = {1, 2, 4, 0.75, 0.0625, 40, 1, 2, "opponent: timeout"};
    CHECK(store_eval_add(s, &ev) == FMSP_OK);
    StoreCall c = {0};
    c.key = 0;
    c.iteration = 4;
    c.side = 2;
    c.purpose = "generate";
    c.backend = "openai";
    c.model = "m-1";
    c.prompt = "system: be good\nuser: write";
    c.response = "```c\nint x;\n```";
    c.prompt_tokens = 1000;
    c.completion_tokens = 250;
    c.latency_s = 1.5;
    c.cost_usd = 0.0125;
    c.http_status = 200;
    c.attempts = 2;
    CHECK(store_call_add(s, &c) == FMSP_OK && c.id == 1);
    CHECK(store_request_put(s, 4, "{\"side\":2,\"parents\":[1]}") == FMSP_OK);
    CHECK(store_request_put(s, 4, "{\"side\":2,\"parents\":[1,2]}") == FMSP_OK); /* replaces */
    CHECK(store_iteration_done(s, 4, "{\"ok\":true}") == FMSP_OK);
    CHECK(store_event(s, 4, "inserted", "chaser inserted") == FMSP_OK);
    CHECK(store_meta_set(s, "config", "{\"algo\":\"qdsp\"}") == FMSP_OK);
    CHECK(store_meta_set(s, "status", "running") == FMSP_OK);
    CHECK(store_meta_set(s, "status", "done") == FMSP_OK);
    store_close(s);

    s = reopen("rt.db");
    CHECK(s != NULL);
    if (!s)
        return;
    StorePolicyRow r;
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK);
    CHECK(r.id == 1 && r.side == 1 && r.iteration == -1 && r.in_archive == 1);
    CHECK(streq(r.origin, "seed") && streq(r.name, "chaser") && streq(r.hash, "abc"));
    CHECK(streq(r.source, "int f(void) { return 1; }") && streq(r.parents, "[1,2]"));
    CHECK(streq(r.status, "ok") && streq(r.reason, "because"));
    CHECK(r.embedding_dim == 3 && r.embedding && memcmp(r.embedding, emb, sizeof emb) == 0);
    CHECK(r.quality == 0.625 && r.novelty == 0.125);
    store_policy_row_release(&r);
    CHECK(r.source == NULL && r.embedding == NULL); /* release zeroes */
    CHECK(store_policy_get(s, 2, &r) == FMSP_OK);
    CHECK(r.side == 2 && r.source == NULL && r.name == NULL && r.hash == NULL);
    CHECK(r.embedding == NULL && r.embedding_dim == 0 && r.in_archive == 0);
    CHECK(streq(r.status, "compile_error") && streq(r.reason, "line 1: error"));
    store_policy_row_release(&r);
    CHECK(store_policy_get(s, 3, &r) == FMSP_ERR_NOTFOUND);
    CHECK_STR_HAS(store_errmsg(s), "no policy #3");

    char *resp = NULL, *cerr = NULL;
    long pt = 0, ct = 0;
    CHECK(store_call_get(s, 0, &resp, &cerr, &pt, &ct) == FMSP_OK);
    CHECK(streq(resp, "```c\nint x;\n```") && cerr == NULL && pt == 1000 && ct == 250);
    free(resp);
    CHECK(store_call_get(s, 0, &resp, NULL, NULL, NULL) == FMSP_OK && resp); /* optional outs */
    free(resp);
    char *plan = NULL;
    CHECK(store_request_get(s, 4, &plan) == FMSP_OK && streq(plan, "{\"side\":2,\"parents\":[1,2]}"));
    free(plan);
    int last = -5;
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == 4);
    char *v = NULL;
    CHECK(store_meta_get(s, "status", &v) == FMSP_OK && streq(v, "done"));
    free(v);
    CHECK(store_meta_get(s, "config", &v) == FMSP_OK && streq(v, "{\"algo\":\"qdsp\"}"));
    free(v);
    CHECK(store_meta_get(s, "schema_version", &v) == FMSP_OK && streq(v, "1"));
    free(v);
    CHECK(store_meta_get(s, "fmsp", &v) == FMSP_OK && streq(v, "run"));
    free(v);
    CHECK(store_meta_get(s, "absent", &v) == FMSP_OK && v == NULL);
    CHECK(store_check(s) == FMSP_OK);
    store_close(s);

    /* the tables with no reader in the API, checked with raw SQL */
    CHECK_INT(raw_int("rt.db", "SELECT count(*) FROM evaluations WHERE policy_id=1 AND "
                               "opponent_id=2 AND iteration=4 AND policy_score=0.75 AND "
                               "ci95=0.0625 AND episodes=40 AND policy_faults=1 AND "
                               "opponent_faults=2 AND fault_summary='opponent: timeout'"),
              1);
    CHECK_INT(raw_int("rt.db", "SELECT count(*) FROM events WHERE iteration=4 AND "
                               "kind='inserted' AND detail='chaser inserted' AND at > 2460000"),
              1);
    CHECK_INT(raw_int("rt.db", "SELECT count(*) FROM model_calls WHERE key=0 AND iteration=4 "
                               "AND side=2 AND purpose='generate' AND backend='openai' AND "
                               "model='m-1' AND latency_s=1.5 AND cost_usd=0.0125 AND "
                               "http_status=200 AND attempts=2 AND error IS NULL"),
              1);
    char *summary = raw_text("rt.db", "SELECT summary FROM iterations WHERE iteration=4");
    CHECK(streq(summary, "{\"ok\":true}"));
    free(summary);
    CHECK_INT(raw_int("rt.db", "SELECT count(*) FROM requests"), 1);
}

static void test_schema_and_pragmas(void)
{
    Store *s = fresh("schema.db");
    if (!s)
        return;
    /* foreign keys are on: an evaluation of a policy that does not exist fails */
    StoreEval ev = {42, 43, 0, 0.5, 0.1, 10, 0, 0, NULL};
    CHECK(store_eval_add(s, &ev) == FMSP_ERR_DB);
    CHECK_STR_HAS(store_errmsg(s), "FOREIGN KEY");
    store_close(s);
    CHECK_INT(raw_int("schema.db", "PRAGMA application_id"), 0x464D5350);
    char *mode = raw_text("schema.db", "PRAGMA journal_mode");
    CHECK(streq(mode, "wal"));
    free(mode);
    const char *indexes[] = {"policies_side_archive", "evaluations_policy"};
    for (int i = 0; i < 2; i++) {
        char *sql = xasprintf("SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                              "name='%s'",
                              indexes[i]);
        CHECK_MSG(raw_int("schema.db", sql) == 1, "index %s", indexes[i]);
        free(sql);
    }
    /* model_calls(key) is UNIQUE, requests and iterations keyed by iteration */
    CHECK_INT(raw_int("schema.db", "SELECT count(*) FROM pragma_index_list('model_calls') "
                                   "WHERE \"unique\" = 1"),
              1);
    CHECK_INT(raw_int("schema.db", "SELECT pk FROM pragma_table_info('requests') "
                                   "WHERE name='iteration'"),
              1);
    CHECK_INT(raw_int("schema.db", "SELECT pk FROM pragma_table_info('iterations') "
                                   "WHERE name='iteration'"),
              1);
}

static void test_nan_is_null(void)
{
    Store *s = fresh("nan.db");
    if (!s)
        return;
    StorePolicy p = policy(1, "x", NAN);
    CHECK(store_policy_add(s, &p) == FMSP_OK);
    StorePolicy q = policy(1, "y", 0.0);
    q.novelty = -0.0;
    CHECK(store_policy_add(s, &q) == FMSP_OK);
    StoreEval ev = {1, 2, 0, NAN, NAN, 0, 0, 0, NULL};
    CHECK(store_eval_add(s, &ev) == FMSP_OK);
    store_close(s);
    CHECK_INT(raw_int("nan.db", "SELECT count(*) FROM policies WHERE id=1 AND quality IS NULL "
                                "AND novelty IS NULL"),
              1);
    /* zero is a number, not "unknown" */
    CHECK_INT(raw_int("nan.db", "SELECT count(*) FROM policies WHERE id=2 AND quality = 0 "
                                "AND novelty IS NOT NULL"),
              1);
    CHECK_INT(raw_int("nan.db", "SELECT count(*) FROM evaluations WHERE policy_score IS NULL "
                                "AND ci95 IS NULL"),
              1);
    s = reopen("nan.db");
    if (!s)
        return;
    StorePolicyRow r;
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK && isnan(r.quality) && isnan(r.novelty));
    store_policy_row_release(&r);
    CHECK(store_policy_get(s, 2, &r) == FMSP_OK && r.quality == 0.0 && !isnan(r.novelty));
    store_policy_row_release(&r);
    /* set_quality both ways */
    CHECK(store_policy_set_quality(s, 1, 0.875, 0.01, 3) == FMSP_OK);
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK && r.quality == 0.875);
    store_policy_row_release(&r);
    /* the interval columns come with the first writer: before, unknown */
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK && isnan(r.quality_ci) &&
          r.quality_opponents == 0);
    store_policy_row_release(&r);
    char err[256];
    CHECK(store_claim_writer(s, err, sizeof err) == FMSP_OK);
    CHECK(store_policy_set_quality(s, 1, 0.5, 0.0625, 7) == FMSP_OK);
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK && r.quality == 0.5 && r.quality_ci == 0.0625 &&
          r.quality_opponents == 7);
    store_policy_row_release(&r);
    CHECK(store_policy_set_quality(s, 1, NAN, NAN, 0) == FMSP_OK);
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK && isnan(r.quality));
    store_policy_row_release(&r);
    store_close(s);
    CHECK_INT(raw_int("nan.db", "SELECT quality IS NULL FROM policies WHERE id=1"), 1);
}

static void test_embedding_exact(void)
{
    Store *s = fresh("emb.db");
    if (!s)
        return;
    enum { DIM = 1536 };
    float *v = xmalloc(DIM * sizeof *v);
    uint32_t x = 2463534242u; /* xorshift32: arbitrary bit patterns, all exact */
    for (int i = 0; i < DIM; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t bits = x & 0x7f7fffffu; /* no inf/nan exponents: plain finite floats */
        memcpy(&v[i], &bits, 4);
    }
    v[0] = 1.0f;
    v[1] = -0.0f;
    v[2] = 1e-45f;   /* smallest subnormal */
    v[3] = 3.4028235e38f;
    v[4] = INFINITY;
    StorePolicy p = policy(2, "e", 0.5);
    p.embedding = v;
    p.embedding_dim = DIM;
    CHECK(store_policy_add(s, &p) == FMSP_OK);
    store_close(s);
    /* on disk: little-endian float32, 4 bytes per dimension */
    CHECK_INT(raw_int("emb.db", "SELECT length(embedding) FROM policies WHERE id=1"), DIM * 4);
    char *hex = raw_text("emb.db", "SELECT hex(substr(embedding, 1, 8)) FROM policies");
    CHECK(streq(hex, "0000803F00000080")); /* 1.0f, -0.0f */
    free(hex);
    s = reopen("emb.db");
    if (!s) {
        free(v);
        return;
    }
    StorePolicyRow r;
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK);
    CHECK(r.embedding_dim == DIM && r.embedding && memcmp(r.embedding, v, DIM * sizeof *v) == 0);
    CHECK(r.embedding && signbit(r.embedding[1]) && isinf(r.embedding[4]));
    store_policy_row_release(&r);
    /* bad dimensions are refused before anything is written */
    StorePolicy bad = policy(2, "b", 0.5);
    bad.embedding = NULL;
    bad.embedding_dim = 4;
    CHECK(store_policy_add(s, &bad) == FMSP_ERR_ARG);
    bad.embedding = v;
    bad.embedding_dim = STORE_MAX_EMBED_DIM + 1;
    CHECK(store_policy_add(s, &bad) == FMSP_ERR_ARG);
    CHECK_STR_HAS(store_errmsg(s), "embedding");
    bad.embedding_dim = -1;
    CHECK(store_policy_add(s, &bad) == FMSP_ERR_ARG);
    store_close(s);
    CHECK_INT(raw_int("emb.db", "SELECT count(*) FROM policies"), 1);
    /* a damaged embedding (not a whole number of floats) is reported, not misread */
    CHECK(raw_exec("emb.db", "UPDATE policies SET embedding = x'0102030405' WHERE id=1") ==
          SQLITE_OK);
    s = reopen("emb.db");
    if (s) {
        CHECK(store_policy_get(s, 1, &r) == FMSP_ERR_DB);
        CHECK_STR_HAS(store_errmsg(s), "malformed embedding (5 bytes)");
        CHECK(r.source == NULL && r.embedding == NULL); /* nothing leaked to the caller */
        StorePolicyRow *rows = (StorePolicyRow *)1;
        int n = -1;
        CHECK(store_policy_list(s, 0, 0, &rows, &n) == FMSP_ERR_DB && rows == NULL && n == 0);
        store_close(s);
    }
    free(v);
}

static void test_transactions(void)
{
    Store *s = fresh("tx.db");
    if (!s)
        return;
    int last = 0;
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == -1);
    StorePolicy p = policy(1, "rolled back", 1);
    StoreCall c = {0};
    c.key = 7;
    c.prompt = "p";
    c.response = "r";
    CHECK(store_begin(s) == FMSP_OK);
    CHECK(store_policy_add(s, &p) == FMSP_OK);
    CHECK(store_call_add(s, &c) == FMSP_OK);
    CHECK(store_request_put(s, 0, "{}") == FMSP_OK);
    CHECK(store_iteration_done(s, 0, "{}") == FMSP_OK);
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == 0); /* visible inside */
    CHECK(store_rollback(s) == FMSP_OK);
    CHECK(store_rollback(s) == FMSP_OK); /* nothing open: harmless */
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == -1);
    StorePolicyRow *rows;
    int n;
    CHECK(store_policy_list(s, 0, 0, &rows, &n) == FMSP_OK && n == 0);
    store_policy_rows_free(rows, n);
    char *resp = NULL, *json = NULL;
    CHECK(store_call_get(s, 7, &resp, NULL, NULL, NULL) == FMSP_ERR_NOTFOUND && resp == NULL);
    CHECK(store_request_get(s, 0, &json) == FMSP_ERR_NOTFOUND && json == NULL);
    /* the same call key can be recorded once the first attempt was rolled back */
    StorePolicy k = policy(1, "kept", 1);
    CHECK(store_begin(s) == FMSP_OK);
    CHECK(store_begin(s) == FMSP_ERR_DB); /* no nesting */
    CHECK(store_policy_add(s, &k) == FMSP_OK);
    CHECK(store_call_add(s, &c) == FMSP_OK);
    CHECK(store_iteration_done(s, 0, "{}") == FMSP_OK);
    CHECK(store_commit(s) == FMSP_OK);
    CHECK(store_commit(s) == FMSP_ERR_DB); /* nothing to commit */
    store_close(s);
    s = reopen("tx.db");
    if (!s)
        return;
    check_only_policy(s, "kept");
    CHECK(store_call_get(s, 7, &resp, NULL, NULL, NULL) == FMSP_OK && streq(resp, "r"));
    free(resp);
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == 0);
    CHECK(store_iteration_done(s, 0, "{}") == FMSP_ERR_DB);
    CHECK_STR_HAS(store_errmsg(s), "iteration 0 is already marked done");
    /* closing with an open transaction discards it */
    CHECK(store_begin(s) == FMSP_OK);
    StorePolicy z = policy(2, "never", 1);
    CHECK(store_policy_add(s, &z) == FMSP_OK);
    store_close(s);
    CHECK_INT(raw_int("tx.db", "SELECT count(*) FROM policies"), 1);
}

/* Child of the kill tests: writes one iteration's worth of rows in a
 * transaction, commits when asked, tells the parent through fd, then waits
 * to be killed (or kills itself right after commit). */
static void kill_child(const char *name, int commit, int self_kill, int fd)
{
    Store *c = reopen(name);
    if (!c)
        _exit(1);
    StorePolicy a = policy(1, commit ? "committed" : "uncommitted", 1);
    StoreCall call = {0};
    call.key = commit ? 100 : 200;
    call.prompt = "p";
    call.response = "r";
    if (store_begin(c) || store_policy_add(c, &a) || store_call_add(c, &call) ||
        store_iteration_done(c, commit ? 10 : 20, "{}"))
        _exit(3);
    if (commit && store_commit(c))
        _exit(4);
    if (self_kill)
        kill(getpid(), SIGKILL);
    if (write(fd, "w", 1) != 1)
        _exit(5);
    for (;;)
        pause();
}

static int run_kill_child(const char *name, int commit, int self_kill)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        kill_child(name, commit, self_kill, pfd[1]);
    }
    close(pfd[1]);
    if (!self_kill) {
        char ch;
        if (read(pfd[0], &ch, 1) == 1) /* the child holds its transaction open now */
            kill(pid, SIGKILL);
    }
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static void test_sigkill(void)
{
    Store *s = fresh("kill.db");
    if (!s)
        return;
    StorePolicy base = policy(2, "before", 1);
    CHECK(store_policy_add(s, &base) == FMSP_OK);
    store_close(s);

    /* killed while the transaction is open: none of it survives */
    CHECK(run_kill_child("kill.db", 0, 0));
    s = reopen("kill.db");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(store_check(s) == FMSP_OK);
    StorePolicyRow *rows;
    int n, last;
    check_only_policy(s, "before");
    char *resp = NULL;
    CHECK(store_call_get(s, 200, &resp, NULL, NULL, NULL) == FMSP_ERR_NOTFOUND);
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == -1);
    store_close(s);

    /* killed right after commit: all of it survives, exactly once */
    CHECK(run_kill_child("kill.db", 1, 1));
    s = reopen("kill.db");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(store_check(s) == FMSP_OK);
    CHECK(store_policy_list(s, 0, 0, &rows, &n) == FMSP_OK && n == 2);
    if (n == 2)
        CHECK(streq(rows[0].source, "before") && streq(rows[1].source, "committed"));
    store_policy_rows_free(rows, n);
    CHECK(store_call_get(s, 100, &resp, NULL, NULL, NULL) == FMSP_OK && streq(resp, "r"));
    free(resp);
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == 10);
    /* and the run goes on: new writes after the crash work */
    StorePolicy after = policy(1, "after", 1);
    CHECK(store_policy_add(s, &after) == FMSP_OK && after.id == 3);
    store_close(s);
    CHECK_INT(raw_int("kill.db", "SELECT count(*) FROM model_calls"), 1);
}

static void test_refuses_foreign_files(void)
{
    char err[512];
    Store *s = (Store *)1;
    /* a text file */
    char *txt = path("notes.txt");
    CHECK(util_write_file(txt, "hello, this is not a database\n", 30, err, sizeof err) == FMSP_OK);
    CHECK(store_open(txt, 0, &s, err, sizeof err) == FMSP_ERR_DB && s == NULL);
    CHECK_STR_HAS(err, "notes.txt' is not an fmsp run database");
    struct stat sb;
    CHECK(stat(txt, &sb) == 0 && sb.st_size == 30); /* untouched */
    /* an empty file */
    char *empty = path("empty.db");
    CHECK(util_write_file(empty, "", 0, err, sizeof err) == FMSP_OK);
    CHECK(store_open(empty, 0, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "empty.db' is not an fmsp run database");
    CHECK(stat(empty, &sb) == 0 && sb.st_size == 0);
    /* another program's SQLite database, which must not be modified */
    CHECK(raw_exec("other.db", "CREATE TABLE t(x); INSERT INTO t VALUES(1);") == SQLITE_OK);
    char *other = path("other.db");
    CHECK(store_open(other, 0, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "other.db' is not an fmsp run database");
    CHECK_INT(raw_int("other.db", "SELECT count(*) FROM sqlite_master"), 1);
    char *mode = raw_text("other.db", "PRAGMA journal_mode");
    CHECK(streq(mode, "delete"));
    free(mode);
    /* a SQLite file with our application id but no marker row */
    CHECK(raw_exec("fake.db", "PRAGMA application_id=1179472720; CREATE TABLE meta(key, value);") ==
          SQLITE_OK);
    char *fake = path("fake.db");
    CHECK(store_open(fake, 0, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "fake.db' is not an fmsp run database");
    /* marker rows but no application id in the header */
    CHECK(raw_exec("noid.db", "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); "
                              "INSERT INTO meta VALUES('fmsp','run'), ('schema_version','1');") ==
          SQLITE_OK);
    char *noid = path("noid.db");
    CHECK(store_open(noid, 0, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "noid.db' is not an fmsp run database");
    free(noid);
    /* a run from a future schema */
    Store *f = fresh("future.db");
    if (f) {
        CHECK(store_meta_set(f, "schema_version", "2") == FMSP_OK);
        store_close(f);
    }
    char *future = path("future.db");
    CHECK(store_open(future, 0, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "schema version 2");
    /* a directory */
    CHECK(store_open(dir, 0, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "is not an fmsp run database");
    /* creating over anything that exists is refused, and leaves it alone */
    CHECK(store_open(other, 1, &s, err, sizeof err) == FMSP_ERR_DB && s == NULL);
    CHECK_STR_HAS(err, "other.db' already exists; use --resume to continue it");
    CHECK(store_open(txt, 1, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK(stat(txt, &sb) == 0 && sb.st_size == 30);
    Store *run = fresh("run.db");
    store_close(run);
    char *runp = path("run.db");
    CHECK(store_open(runp, 1, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "run.db' already exists; use --resume");
    CHECK(store_open(runp, 0, &s, err, sizeof err) == FMSP_OK && s != NULL);
    store_close(s);
    /* missing */
    char *missing = path("missing.db");
    CHECK(store_open(missing, 0, &s, err, sizeof err) == FMSP_ERR_NOTFOUND && s == NULL);
    CHECK_STR_HAS(err, "missing.db");
    CHECK(access(missing, F_OK) != 0); /* not created by looking */
    CHECK(store_open("", 0, &s, err, sizeof err) == FMSP_ERR_ARG);
    /* creation in a folder that does not exist: an error, nothing left */
    char *nodir = path("no/such/dir/x.db");
    CHECK(store_open(nodir, 1, &s, err, sizeof err) == FMSP_ERR_IO);
    CHECK_STR_HAS(err, "cannot create");
    free(txt);
    free(empty);
    free(other);
    free(fake);
    free(future);
    free(runp);
    free(missing);
    free(nodir);
}

static void test_duplicate_call_key(void)
{
    Store *s = fresh("calls.db");
    if (!s)
        return;
    StoreCall c = {0};
    c.key = 16;
    c.iteration = 1;
    c.purpose = "generate";
    c.prompt = "write a policy";
    c.response = "first";
    c.prompt_tokens = 100;
    c.completion_tokens = 20;
    c.cost_usd = 0.01;
    CHECK(store_call_add(s, &c) == FMSP_OK);
    StoreCall dup = c;
    dup.response = "second";
    CHECK(store_call_add(s, &dup) == FMSP_ERR_DB);
    CHECK_STR_HAS(store_errmsg(s), "duplicate model call key 16");
    StoreCall bad = c;
    bad.key = 17;
    bad.response = NULL;
    bad.error = "HTTP 500 after 3 attempts";
    bad.prompt_tokens = 0;
    bad.completion_tokens = 0;
    bad.cost_usd = 0;
    CHECK(store_call_add(s, &bad) == FMSP_OK);
    store_close(s);
    s = reopen("calls.db");
    if (!s)
        return;
    CHECK(store_call_add(s, &dup) == FMSP_ERR_DB); /* after reopen too */
    CHECK_STR_HAS(store_errmsg(s), "duplicate model call key 16");
    char *resp, *err;
    long pt, ct;
    CHECK(store_call_get(s, 16, &resp, &err, &pt, &ct) == FMSP_OK);
    CHECK(streq(resp, "first") && !err && pt == 100 && ct == 20);
    free(resp);
    CHECK(store_call_get(s, 17, &resp, &err, &pt, &ct) == FMSP_OK && !resp &&
          streq(err, "HTTP 500 after 3 attempts"));
    free(err);
    CHECK(store_call_get(s, 18, &resp, &err, &pt, &ct) == FMSP_ERR_NOTFOUND && !resp && !err);
    long calls, failed, tokens;
    double cost;
    CHECK(store_call_totals(s, &calls, &failed, &tokens, &cost) == FMSP_OK);
    CHECK(calls == 2 && failed == 1 && tokens == 120);
    CHECK_NEAR(cost, 0.01, 1e-12);
    store_close(s);
    CHECK_INT(raw_int("calls.db", "SELECT count(*) FROM model_calls WHERE key=16"), 1);
}

static void test_hostile_strings(void)
{
    Store *s = fresh("hostile.db");
    if (!s)
        return;
    char junk[256];
    for (int i = 0; i < 255; i++)
        junk[i] = (char)(i + 1); /* every byte but NUL, invalid UTF-8 included */
    junk[255] = 0;
    const char *evil[] = {
        "'); DROP TABLE policies;--",
        "\"; DELETE FROM meta; --",
        "' OR '1'='1",
        "Robert'); DROP TABLE model_calls; --",
        "?1 ?2 :name @x $y",
        "\\x00 %s %n %%",
        junk,
    };
    int ne = (int)(sizeof evil / sizeof *evil);
    for (int i = 0; i < ne; i++) {
        StorePolicy p = policy(1 + i % 2, evil[i], 0.5);
        p.origin = evil[i];
        p.name = evil[i];
        p.hash = evil[i];
        p.parents = evil[i];
        p.status = evil[i];
        p.reason = evil[i];
        CHECK(store_policy_add(s, &p) == FMSP_OK && p.id == i + 1);
        StoreCall c = {0};
        c.key = i;
        c.purpose = c.backend = c.model = c.prompt = c.response = c.error = evil[i];
        CHECK(store_call_add(s, &c) == FMSP_OK);
        CHECK(store_meta_set(s, evil[i], evil[i]) == FMSP_OK);
        CHECK(store_request_put(s, i, evil[i]) == FMSP_OK);
        CHECK(store_event(s, i, evil[i], evil[i]) == FMSP_OK);
        CHECK(store_iteration_done(s, i, evil[i]) == FMSP_OK);
        StoreEval ev = {p.id, 1, i, 0.5, 0.1, 1, 0, 0, evil[i]};
        CHECK(store_eval_add(s, &ev) == FMSP_OK);
    }
    CHECK(store_policy_set_status(s, 1, junk, evil[0]) == FMSP_OK);
    store_close(s);
    s = reopen("hostile.db");
    if (!s)
        return;
    for (int i = 0; i < ne; i++) {
        StorePolicyRow r;
        CHECK(store_policy_get(s, i + 1, &r) == FMSP_OK);
        const char *st = i == 0 ? junk : evil[i];
        CHECK_MSG(streq(r.source, evil[i]) && streq(r.origin, evil[i]) && streq(r.name, evil[i]) &&
                      streq(r.hash, evil[i]) && streq(r.parents, evil[i]) &&
                      streq(r.status, st) && streq(r.reason, evil[i]),
                  "policy %d", i + 1);
        store_policy_row_release(&r);
        char *resp = NULL, *err = NULL, *v = NULL, *plan = NULL;
        CHECK(store_call_get(s, i, &resp, &err, NULL, NULL) == FMSP_OK);
        CHECK(streq(resp, evil[i]) && streq(err, evil[i]));
        CHECK(store_meta_get(s, evil[i], &v) == FMSP_OK && streq(v, evil[i]));
        CHECK(store_request_get(s, i, &plan) == FMSP_OK && streq(plan, evil[i]));
        free(resp);
        free(err);
        free(v);
        free(plan);
    }
    CHECK(store_check(s) == FMSP_OK);
    store_close(s);
    /* every table is still there and nothing was deleted */
    CHECK_INT(raw_int("hostile.db", "SELECT count(*) FROM sqlite_master WHERE type='table'"), 7);
    CHECK_INT(raw_int("hostile.db", "SELECT count(*) FROM policies"), ne);
    CHECK_INT(raw_int("hostile.db", "SELECT count(*) FROM meta"), ne + 3); /* + schema_version, fmsp, source_hashes */
    CHECK_INT(raw_int("hostile.db", "SELECT count(*) FROM events"), ne);
    CHECK_INT(raw_int("hostile.db", "SELECT count(*) FROM evaluations"), ne);
    CHECK_INT(raw_int("hostile.db", "SELECT count(*) FROM events WHERE detail = kind"), ne);
}

static void test_value_cap(void)
{
    Store *s = fresh("cap.db");
    if (!s)
        return;
    size_t len = (size_t)STORE_MAX_VALUE + 1;
    char *big = xmalloc(len + 1);
    memset(big, 'a', len);
    big[len] = 0;
    StorePolicy p = policy(1, big, 0.5);
    CHECK(store_policy_add(s, &p) == FMSP_ERR_TOOBIG);
    CHECK_STR_HAS(store_errmsg(s), "longer than the store's cap");
    StoreCall c = {0};
    c.key = 1;
    c.prompt = "short";
    c.response = big;
    CHECK(store_call_add(s, &c) == FMSP_ERR_TOOBIG);
    CHECK(store_meta_set(s, "k", big) == FMSP_ERR_TOOBIG);
    free(big);
    char *resp = NULL;
    CHECK(store_call_get(s, 1, &resp, NULL, NULL, NULL) == FMSP_ERR_NOTFOUND);
    StorePolicyRow *rows;
    int n;
    CHECK(store_policy_list(s, 0, 0, &rows, &n) == FMSP_OK && n == 0);
    store_policy_rows_free(rows, n);
    store_close(s);
}

static void test_disk_full(void)
{
    Store *s = fresh("full.db");
    if (!s)
        return;
    StorePolicy p = policy(1, "small", 0.5);
    CHECK(store_policy_add(s, &p) == FMSP_OK);
    CHECK(store_iteration_done(s, 0, "{}") == FMSP_OK);
    CHECK(store_limit_pages(s, 0) == FMSP_ERR_ARG);
    CHECK(store_limit_pages(s, 12) == FMSP_OK);
    size_t len = 200000;
    char *big = xmalloc(len + 1);
    memset(big, 'x', len);
    big[len] = 0;
    /* inside an iteration's transaction */
    CHECK(store_begin(s) == FMSP_OK);
    StorePolicy q = policy(2, "also lost", 0.5);
    CHECK(store_policy_add(s, &q) == FMSP_OK);
    StorePolicy r = policy(2, big, 0.5);
    CHECK(store_policy_add(s, &r) == FMSP_ERR_DB);
    /* our words, not SQLite's "database or disk is full" */
    CHECK_STR_HAS(store_errmsg(s), "the disk is full (or the database reached its size limit)");
    CHECK_STR_HAS(store_errmsg(s), "full.db");
    CHECK_STR_HAS(store_errmsg(s), "work committed before is intact");
    CHECK(store_rollback(s) == FMSP_OK);
    /* outside one (autocommit) */
    StoreCall c = {0};
    c.key = 1;
    c.prompt = big;
    CHECK(store_call_add(s, &c) == FMSP_ERR_DB);
    CHECK_STR_HAS(store_errmsg(s), "disk is full");
    /* the connection is still usable for what fits */
    CHECK(store_event(s, 1, "note", "small write after a full disk") == FMSP_OK);
    CHECK(store_check(s) == FMSP_OK);
    free(big);
    store_close(s);
    s = reopen("full.db");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(store_check(s) == FMSP_OK);
    int last;
    check_only_policy(s, "small");
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == 0);
    char *resp = NULL;
    CHECK(store_call_get(s, 1, &resp, NULL, NULL, NULL) == FMSP_ERR_NOTFOUND);
    store_close(s);
    CHECK_INT(raw_int("full.db", "SELECT count(*) FROM events"), 1);
}

static void test_policy_list_filters(void)
{
    Store *s = fresh("list.db");
    if (!s)
        return;
    /* ids 1..8: side alternates 1,2; in_archive on ids 2,3,5,8 */
    const int archive[8] = {0, 1, 1, 0, 1, 0, 0, 1};
    for (int i = 0; i < 8; i++) {
        StorePolicy p = policy(1 + i % 2, "s", 0.5);
        p.in_archive = archive[i];
        CHECK(store_policy_add(s, &p) == FMSP_OK && p.id == i + 1);
    }
    struct {
        int side, archive_only, n;
        int ids[8];
    } cases[] = {
        {0, 0, 8, {1, 2, 3, 4, 5, 6, 7, 8}},
        {1, 0, 4, {1, 3, 5, 7}},
        {2, 0, 4, {2, 4, 6, 8}},
        {0, 1, 4, {2, 3, 5, 8}},
        {1, 1, 2, {3, 5}},
        {2, 1, 2, {2, 8}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        StorePolicyRow *rows = NULL;
        int n = -1;
        CHECK(store_policy_list(s, cases[k].side, cases[k].archive_only, &rows, &n) == FMSP_OK);
        CHECK_MSG(n == cases[k].n, "case %zu: %d rows", k, n);
        for (int i = 0; i < n && i < cases[k].n; i++)
            CHECK_MSG(rows[i].id == cases[k].ids[i], "case %zu row %d: id %lld", k, i,
                      (long long)rows[i].id);
        store_policy_rows_free(rows, n);
    }
    /* the archive flag moves; status/reason update; missing ids */
    CHECK(store_policy_set_archive(s, 2, 0) == FMSP_OK);
    CHECK(store_policy_set_archive(s, 4, 7) == FMSP_OK); /* any non-zero is 1 */
    CHECK(store_policy_set_status(s, 4, "rejected", NULL) == FMSP_OK);
    StorePolicyRow *rows;
    int n;
    CHECK(store_policy_list(s, 2, 1, &rows, &n) == FMSP_OK && n == 2);
    if (n == 2)
        CHECK(rows[0].id == 4 && rows[0].in_archive == 1 && streq(rows[0].status, "rejected") &&
              rows[0].reason == NULL && rows[1].id == 8);
    store_policy_rows_free(rows, n);
    CHECK(store_policy_set_archive(s, 99, 1) == FMSP_ERR_NOTFOUND);
    CHECK(store_policy_set_status(s, 99, "ok", "x") == FMSP_ERR_NOTFOUND);
    CHECK(store_policy_set_quality(s, 99, 1, 0, 1) == FMSP_ERR_NOTFOUND);
    CHECK_STR_HAS(store_errmsg(s), "no policy #99");
    StorePolicy bad = policy(3, "s", 0.5);
    CHECK(store_policy_add(s, &bad) == FMSP_ERR_ARG);
    CHECK_STR_HAS(store_errmsg(s), "side 3");
    store_close(s);
}

/* One writer at a time: a second claim fails at once with a clear message;
 * readers need no claim; closing the writer frees the database. */
/* Transcripts: the writer makes the table (older databases gain it); reads
 * come back whole, in order, within the cap; a database without the table
 * reads as having none. */
static void test_transcripts(void)
{
    Store *s = fresh("tr.db");
    if (!s)
        return;
    char *out = NULL;
    CHECK(store_transcripts_get(s, 1, 0, 1000, &out) == FMSP_OK && out == NULL); /* no table */
    char err[256];
    CHECK(store_claim_writer(s, err, sizeof err) == FMSP_OK);
    CHECK(store_transcript_add(s, 7, 3, 2, "first sample") == FMSP_OK);
    CHECK(store_transcript_add(s, 7, 4, 2, "second sample") == FMSP_OK);
    CHECK(store_transcript_add(s, 7, 4, 5, "a later iteration") == FMSP_OK);
    CHECK(store_transcripts_get(s, 7, 2, 1000, &out) == FMSP_OK);
    CHECK(out && strcmp(out, "first sample\nsecond sample\n") == 0);
    free(out);
    CHECK(store_transcripts_get(s, 7, 2, 20, &out) == FMSP_OK); /* whole ones only */
    CHECK(out && strcmp(out, "first sample\n") == 0);
    free(out);
    CHECK(store_transcripts_get(s, 8, 2, 1000, &out) == FMSP_OK && out == NULL);
    store_close(s);
    CHECK(raw_int("tr.db", "SELECT count(*) FROM transcripts") == 3);
}

/* A source that no longer matches its stored hash (a damaged or edited
 * file) is flagged on every read. */
static void test_source_hash_checked(void)
{
    Store *s = fresh("hash.db");
    if (!s)
        return;
    const char *src = "int x;\n";
    char hex[65];
    util_sha256_hex(src, strlen(src), hex);
    StorePolicy p = {0};
    p.side = 1;
    p.iteration = 0;
    p.origin = "builtin";
    p.source = src;
    p.hash = hex;
    p.status = "ok";
    p.quality = NAN;
    p.novelty = NAN;
    CHECK(store_policy_add(s, &p) == FMSP_OK);
    StorePolicyRow r;
    CHECK(store_policy_get(s, p.id, &r) == FMSP_OK);
    CHECK(!r.corrupt);
    store_policy_row_release(&r);
    store_close(s);
    char *pp = path("hash.db");
    sqlite3 *db;
    CHECK(sqlite3_open(pp, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE policies SET source = 'int y;' WHERE id = 1", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    free(pp);
    s = reopen("hash.db");
    if (!s)
        return;
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK);
    CHECK(r.corrupt);
    store_policy_row_release(&r);
    store_close(s);
}

static void test_one_writer(void)
{
    char *path = xasprintf("%s/writer.db", dir);
    Store *a = NULL, *b = NULL, *reader = NULL;
    char err[512] = "";
    CHECK(store_open(path, 1, &a, err, sizeof err) == FMSP_OK);
    CHECK(a && store_claim_writer(a, err, sizeof err) == FMSP_OK);
    CHECK(store_open(path, 0, &b, err, sizeof err) == FMSP_OK);
    double t0 = util_now();
    CHECK(b && store_claim_writer(b, err, sizeof err) == FMSP_ERR_DB);
    CHECK(util_now() - t0 < 2.0); /* refused within about a second, never blocked */
    CHECK_STR_HAS(err, "in use by another fmsp run");
    CHECK(store_open(path, 0, &reader, err, sizeof err) == FMSP_OK);
    store_close(reader);
    store_close(a);
    CHECK(b && store_claim_writer(b, err, sizeof err) == FMSP_OK);
    store_close(b);
    free(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/fmsp-store-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(test_round_trip_every_table);
    RUN(test_schema_and_pragmas);
    RUN(test_nan_is_null);
    RUN(test_embedding_exact);
    RUN(test_transactions);
    RUN(test_sigkill);
    RUN(test_refuses_foreign_files);
    RUN(test_duplicate_call_key);
    RUN(test_hostile_strings);
    RUN(test_value_cap);
    RUN(test_disk_full);
    RUN(test_policy_list_filters);
    RUN(test_one_writer);
    RUN(test_transcripts);
    RUN(test_source_hash_checked);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return harness_done("test_store");
}
