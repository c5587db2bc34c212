/*
 * test_gandalf_run.c - the Gandalf campaign end to end with the builtin
 * operator and the simulated target: every algorithm runs the three phases,
 * a fixed seed reproduces, a run killed with SIGKILL and resumed ends with
 * the same archive, a replayed run reproduces its recording, and a key in
 * the environment reaches no database row.
 */
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "fixtures.h"
#include "harness.h"
#include "search/search.h"
#include "search_fixtures.h"

static char tmp[256];

static void small_config(SearchConfig *c, SearchAlgo algo, int iterations)
{
    search_config_default(c);
    snprintf(c->domain, sizeof c->domain, "gandalf");
    c->algo = algo;
    c->iterations = iterations;
    c->seed = 21;
    c->eval.episodes = 3;
    c->eval.batch = 3;
    c->eval.gandalf.utility_questions = 16;
    c->opponents = 2;
    c->rescore_every = 4;
    c->in_flight = 3;
    const char *root = getenv("FMSP_ROOT");
    snprintf(c->baselines_dir, sizeof c->baselines_dir, "%s/policies/baselines/gandalf",
             root ? root : ".");
    search_campaign_default(c);
}

/* Sides of the candidates in iteration order, e.g. "1112221" */
static char *sides(const char *db_path)
{
    Store *db;
    char err[256];
    char *out = xcalloc(1, 256);
    if (store_open(db_path, 0, &db, err, sizeof err))
        return out;
    StorePolicyRow *rows;
    int n;
    store_policy_list(db, 0, 0, &rows, &n);
    for (int it = 0; it < 255; it++)
        for (int i = 0; i < n; i++)
            if (rows[i].iteration == it)
                out[strlen(out)] = (char)('0' + rows[i].side);
    store_policy_rows_free(rows, n);
    store_close(db);
    return out;
}

static void test_campaign_every_algorithm(void)
{
    SearchAlgo algos[] = {ALGO_OPENLOOP, ALGO_VFMSP, ALGO_NSSP, ALGO_QDSP};
    for (int k = 0; k < 4; k++) {
        SearchConfig c;
        small_config(&c, algos[k], 9);
        char err[1024] = "", *db = xasprintf("%s/algo%d.db", tmp, k);
        CHECK_MSG(search_run_to_end(&c, db, err, sizeof err) == FMSP_OK, "%s: %s",
                  search_algo_name(algos[k]), err);
        char *s = sides(db);
        /* red team, blue team, red team again */
        CHECK_MSG(strcmp(s, "111222111") == 0, "%s: sides %s", search_algo_name(algos[k]), s);
        free(s);
        free(db);
    }
}

static void test_reproducible_and_replayed(void)
{
    SearchConfig c;
    small_config(&c, ALGO_QDSP, 9);
    char err[1024] = "", *a = xasprintf("%s/a.db", tmp), *b = xasprintf("%s/b.db", tmp);
    CHECK_MSG(search_run_to_end(&c, a, err, sizeof err) == FMSP_OK, "%s", err);
    CHECK_MSG(search_run_to_end(&c, b, err, sizeof err) == FMSP_OK, "%s", err);
    char *fa = search_fingerprint(a), *fb = search_fingerprint(b);
    CHECK_MSG(strcmp(fa, fb) == 0, "\n%s---\n%s", fa, fb);
    /* the recorded run answered from its database: the same run */
    SearchConfig r = c;
    fm_config_default(&r.fm, FM_REPLAY);
    snprintf(r.fm.replay_db, sizeof r.fm.replay_db, "%s", a);
    char *rep = xasprintf("%s/rep.db", tmp);
    CHECK_MSG(search_run_to_end(&r, rep, err, sizeof err) == FMSP_OK, "%s", err);
    char *fr = search_fingerprint(rep);
    CHECK_MSG(strcmp(fa, fr) == 0, "\n%s---\n%s", fa, fr);
    free(fa);
    free(fb);
    free(fr);
    free(a);
    free(b);
    free(rep);
}

static void test_kill9_resume_same_archive(void)
{
    SearchConfig c;
    small_config(&c, ALGO_QDSP, 12);
    char err[1024] = "";
    char *ref = xasprintf("%s/ref.db", tmp), *killed = xasprintf("%s/killed.db", tmp);
    CHECK_MSG(search_run_to_end(&c, ref, err, sizeof err) == FMSP_OK, "%s", err);
    int done = search_run_and_kill(&c, killed, 0, 4);
    CHECK_MSG(done >= 4 && done < 11, "killed after iteration %d", done);
    CHECK_MSG(search_resume_to_end(killed, err, sizeof err) == FMSP_OK, "%s", err);
    char *fr = search_fingerprint(ref), *fk = search_fingerprint(killed);
    CHECK_MSG(strcmp(fr, fk) == 0, "\n%s---\n%s", fr, fk);
    free(fr);
    free(fk);
    free(ref);
    free(killed);
}

/* The whole database file, bytes and all, holds no key from the
 * environment, though keys for every backend were set during the run. */
static void test_canary_reaches_no_row(void)
{
    static const char canary[] = "sk-canary-gandalf-91c7";
    setenv("OPENAI_API_KEY", canary, 1);
    setenv("ANTHROPIC_API_KEY", canary, 1);
    SearchConfig c;
    small_config(&c, ALGO_NSSP, 6);
    char err[1024] = "", *db = xasprintf("%s/canary.db", tmp);
    CHECK_MSG(search_run_to_end(&c, db, err, sizeof err) == FMSP_OK, "%s", err);
    char *bytes = NULL;
    size_t len = 0;
    CHECK(util_read_file(db, 1 << 28, &bytes, &len, err, sizeof err) == FMSP_OK);
    CHECK(bytes && !memmem(bytes, len, canary, strlen(canary)));
    free(bytes);
    free(db);
    unsetenv("OPENAI_API_KEY");
    unsetenv("ANTHROPIC_API_KEY");
}

/* Against a chat model (a loopback server speaking the OpenAI format), every
 * exchange it was paid for is kept: prompts, the target's replies and the
 * guards' questions with their answers; the key is not among them. */
static void test_model_target_keeps_every_exchange(void)
{
    static const char key[] = "sk-target-canary-5b2e";
    pid_t pid;
    int port = fixture_start_model_server(key, &pid);
    CHECK(port > 0);
    setenv("FMSP_TEST_TARGET_KEY", key, 1);
    SearchConfig c;
    small_config(&c, ALGO_OPENLOOP, 3);
    c.eval.episodes = 1;
    c.eval.gandalf.utility_questions = 2;
    c.eval.gandalf.kind = TARGET_MODEL;
    fm_config_default(&c.eval.gandalf.target, FM_OPENAI);
    snprintf(c.eval.gandalf.target.base_url, sizeof c.eval.gandalf.target.base_url,
             "http://127.0.0.1:%d/v1", port);
    snprintf(c.eval.gandalf.target.model, sizeof c.eval.gandalf.target.model, "gandalf-target");
    snprintf(c.eval.gandalf.target.api_key_env, sizeof c.eval.gandalf.target.api_key_env,
             "FMSP_TEST_TARGET_KEY");
    c.check_endpoint = 1;
    char err[1024] = "", *db = xasprintf("%s/model.db", tmp);
    CHECK_MSG(search_run_to_end(&c, db, err, sizeof err) == FMSP_OK, "%s", err);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char *bytes = NULL;
    size_t len = 0;
    CHECK(util_read_file(db, 1 << 28, &bytes, &len, err, sizeof err) == FMSP_OK);
    CHECK(bytes && !memmem(bytes, len, key, strlen(key)));
    free(bytes);
    Store *st;
    if (store_open(db, 0, &st, err, sizeof err) == FMSP_OK) {
        char *v = NULL;
        store_meta_get(st, "config", &v);
        CHECK_STR_HAS(v, "\"target\": \"openai\"");
        free(v);
        store_close(st);
    }
    /* the events hold the exchanges: at least one with a level-4 judge's call */
    sqlite3 *raw;
    sqlite3_stmt *q;
    int n = 0, judged = 0;
    if (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(raw, "SELECT detail FROM events WHERE kind = 'exchanges'", -1, &q,
                           NULL) == SQLITE_OK) {
        while (sqlite3_step(q) == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(q, 0);
            n++;
            judged += d && strstr(d, "\"guard_calls\":[{\"question\"") != NULL;
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(raw);
    CHECK_MSG(n > 0 && judged > 0, "%d exchange records, %d with guard calls", n, judged);
    unsetenv("FMSP_TEST_TARGET_KEY");
    free(db);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/fmsp-test-gandalf-run-XXXXXX");
    if (!mkdtemp(tmp))
        abort();
    RUN(test_campaign_every_algorithm);
    RUN(test_reproducible_and_replayed);
    RUN(test_kill9_resume_same_archive);
    RUN(test_canary_reaches_no_row);
    RUN(test_model_target_keeps_every_exchange);
    fixture_rm_rf(tmp);
    return harness_done("test_gandalf_run");
}
