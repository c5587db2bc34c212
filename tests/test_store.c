/*
 * test_store.c - the run database: round trips, NaN as NULL, exact
 * embeddings, transactions, a writer killed with SIGKILL before and after
 * commit, refusal of foreign files, duplicate model calls, hostile strings,
 * and a full disk.
 */
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
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
    char *p = path(name), err[256];
    Store *s = NULL;
    if (store_open(p, 1, &s, err, sizeof err))
        fprintf(stderr, "store_open: %s\n", err);
    free(p);
    return s;
}

static StorePolicy policy(const char *source, double quality)
{
    StorePolicy p = {0};
    p.side = 1;
    p.iteration = 3;
    p.origin = "builtin";
    p.name = "p";
    p.source = source;
    p.parents = "[1,2]";
    p.status = "ok";
    p.reason = "because";
    p.quality = quality;
    p.novelty = NAN;
    return p;
}

static void test_round_trip(void)
{
    Store *s = fresh("rt.db");
    CHECK(s != NULL);
    if (!s)
        return;
    float emb[5] = {0.1f, -2.5f, 3e-8f, 1e30f, 0};
    StorePolicy p = policy("int x; /* ' \" ; DROP TABLE policies;-- */", 0.625);
    p.embedding = emb;
    p.embedding_dim = 5;
    CHECK(store_policy_add(s, &p) == FMSP_OK && p.id == 1);
    StorePolicy q = policy(NULL, NAN);
    q.side = 2;
    q.in_archive = 1;
    CHECK(store_policy_add(s, &q) == FMSP_OK && q.id == 2);
    StorePolicyRow r;
    CHECK(store_policy_get(s, 1, &r) == FMSP_OK);
    CHECK(strcmp(r.source, p.source) == 0);
    CHECK(r.embedding_dim == 5 && memcmp(r.embedding, emb, sizeof emb) == 0);
    CHECK(r.quality == 0.625 && isnan(r.novelty));
    CHECK(strcmp(r.parents, "[1,2]") == 0 && r.iteration == 3);
    store_policy_row_release(&r);
    CHECK(store_policy_get(s, 2, &r) == FMSP_OK && r.source == NULL && isnan(r.quality));
    store_policy_row_release(&r);
    CHECK(store_policy_get(s, 99, &r) == FMSP_ERR_NOTFOUND);
    CHECK(store_policy_set_quality(s, 2, 0.5) == FMSP_OK);
    CHECK(store_policy_set_archive(s, 1, 1) == FMSP_OK);
    CHECK(store_policy_set_status(s, 1, "rejected", "not novel") == FMSP_OK);
    CHECK(store_policy_set_quality(s, 77, 0.5) == FMSP_ERR_NOTFOUND);
    StorePolicyRow *rows;
    int n;
    CHECK(store_policy_list(s, 1, 1, &rows, &n) == FMSP_OK && n == 1 && rows[0].id == 1);
    CHECK(strcmp(rows[0].status, "rejected") == 0);
    store_policy_rows_free(rows, n);
    CHECK(store_policy_list(s, 0, 1, &rows, &n) == FMSP_OK && n == 2);
    CHECK(rows[1].quality == 0.5);
    store_policy_rows_free(rows, n);
    char *v = NULL;
    CHECK(store_meta_set(s, "k", "v1") == FMSP_OK && store_meta_set(s, "k", "v2") == FMSP_OK);
    CHECK(store_meta_get(s, "k", &v) == FMSP_OK && v && strcmp(v, "v2") == 0);
    free(v);
    CHECK(store_meta_get(s, "absent", &v) == FMSP_OK && v == NULL);
    int last;
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == -1);
    CHECK(store_iteration_done(s, 0, "{}") == FMSP_OK && store_iteration_done(s, 1, "{}") == FMSP_OK);
    CHECK(store_last_iteration(s, &last) == FMSP_OK && last == 1);
    CHECK(store_request_put(s, 5, "{\"task\":\"new\"}") == FMSP_OK);
    char *plan;
    CHECK(store_request_get(s, 5, &plan) == FMSP_OK && strstr(plan, "new"));
    free(plan);
    CHECK(store_request_get(s, 6, &plan) == FMSP_ERR_NOTFOUND);
    StoreEval ev = {1, 2, 0, 0.7, 0.1, 10, 0, 1, NULL};
    CHECK(store_eval_add(s, &ev) == FMSP_OK);
    CHECK(store_event(s, 1, "inserted", "p inserted") == FMSP_OK);
    store_close(s);
}

static void test_calls(void)
{
    Store *s = fresh("calls.db");
    if (!s)
        return;
    StoreCall c = {0};
    c.key = 16;
    c.iteration = 1;
    c.purpose = "generate";
    c.prompt = "write a policy";
    c.response = "```c\nint x;\n```";
    c.prompt_tokens = 100;
    c.completion_tokens = 20;
    c.cost_usd = 0.01;
    CHECK(store_call_add(s, &c) == FMSP_OK);
    CHECK(store_call_add(s, &c) == FMSP_ERR_DB);
    CHECK_STR_HAS(store_errmsg(s), "duplicate model call key 16");
    StoreCall bad = c;
    bad.key = 17;
    bad.response = NULL;
    bad.error = "HTTP 500 after 3 attempts";
    CHECK(store_call_add(s, &bad) == FMSP_OK);
    char *resp, *err;
    long pt, ct;
    CHECK(store_call_get(s, 16, &resp, &err, &pt, &ct) == FMSP_OK);
    CHECK(resp && strstr(resp, "int x") && !err && pt == 100 && ct == 20);
    free(resp);
    CHECK(store_call_get(s, 17, &resp, &err, &pt, &ct) == FMSP_OK && !resp && err);
    free(err);
    CHECK(store_call_get(s, 18, &resp, &err, &pt, &ct) == FMSP_ERR_NOTFOUND);
    long calls, failed, tokens;
    double cost;
    CHECK(store_call_totals(s, &calls, &failed, &tokens, &cost) == FMSP_OK);
    CHECK(calls == 2 && failed == 1 && tokens == 240);
    CHECK_NEAR(cost, 0.02, 1e-12);
    store_close(s);
}

static void test_transactions_and_kill(void)
{
    Store *s = fresh("tx.db");
    if (!s)
        return;
    StorePolicy p = policy("a", 1);
    CHECK(store_begin(s) == FMSP_OK && store_policy_add(s, &p) == FMSP_OK);
    CHECK(store_rollback(s) == FMSP_OK);
    StorePolicyRow *rows;
    int n;
    CHECK(store_policy_list(s, 0, 0, &rows, &n) == FMSP_OK && n == 0);
    store_policy_rows_free(rows, n);
    store_close(s);
    /* a child writes one committed and one uncommitted policy, then dies */
    char *pth = path("tx.db");
    pid_t pid = fork();
    if (pid == 0) {
        Store *c;
        char err[128];
        if (store_open(pth, 0, &c, err, sizeof err))
            _exit(1);
        StorePolicy a = policy("committed", 1), b = policy("uncommitted", 1);
        store_begin(c);
        store_policy_add(c, &a);
        store_commit(c);
        store_begin(c);
        store_policy_add(c, &b);
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st));
    char err[256];
    CHECK(store_open(pth, 0, &s, err, sizeof err) == FMSP_OK);
    if (s) {
        CHECK(store_policy_list(s, 0, 0, &rows, &n) == FMSP_OK && n == 1);
        if (n == 1)
            CHECK(strcmp(rows[0].source, "committed") == 0);
        store_policy_rows_free(rows, n);
        store_close(s);
    }
    free(pth);
}

static void test_refuses_foreign_files(void)
{
    char err[256];
    Store *s;
    char *txt = path("notes.txt");
    util_write_file(txt, "hello\n", 6, err, sizeof err);
    CHECK(store_open(txt, 0, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "notes.txt' is not an fmsp run database");
    char *other = path("other.db");
    sqlite3 *db;
    sqlite3_open(other, &db);
    sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(store_open(other, 0, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "not an fmsp run database");
    CHECK(store_open(other, 1, &s, err, sizeof err) == FMSP_ERR_DB);
    CHECK_STR_HAS(err, "already exists");
    char *missing = path("missing.db");
    CHECK(store_open(missing, 0, &s, err, sizeof err) == FMSP_ERR_NOTFOUND);
    CHECK_STR_HAS(err, "missing.db");
    free(txt);
    free(other);
    free(missing);
}

static void test_disk_full(void)
{
    Store *s = fresh("full.db");
    if (!s)
        return;
    StorePolicy p = policy("small", 0.5);
    CHECK(store_policy_add(s, &p) == FMSP_OK);
    CHECK(store_limit_pages(s, 8) == FMSP_OK);
    char *big = xmalloc(200000);
    memset(big, 'x', 199999);
    big[199999] = 0;
    CHECK(store_begin(s) == FMSP_OK);
    StorePolicy q = policy(big, 0.5);
    CHECK(store_policy_add(s, &q) == FMSP_ERR_DB);
    CHECK_STR_HAS(store_errmsg(s), "disk is full");
    store_rollback(s);
    free(big);
    store_close(s);
    char *pth = path("full.db"), err[256];
    CHECK(store_open(pth, 0, &s, err, sizeof err) == FMSP_OK);
    if (s) {
        StorePolicyRow r;
        CHECK(store_policy_get(s, 1, &r) == FMSP_OK && strcmp(r.source, "small") == 0);
        store_policy_row_release(&r);
        store_close(s);
    }
    free(pth);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/fmsp-store-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    RUN(test_round_trip);
    RUN(test_calls);
    RUN(test_transactions_and_kill);
    RUN(test_refuses_foreign_files);
    RUN(test_disk_full);
    char *cmd = xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    return harness_done("test_store");
}
