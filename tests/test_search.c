/*
 * test_search.c - the FMSP loop end to end with the builtin operator:
 * fixed-seed runs are reproducible, a run killed with SIGKILL and resumed
 * ends with the same archive as an uninterrupted one (and no model call is
 * made twice), a replayed run reproduces its recording, every algorithm runs,
 * and bad inputs give clear errors. Small games (T=8, few episodes) keep it
 * fast; the baselines are two tiny policies written here.
 */
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "harness.h"
#include "search/search.h"
#include "search_fixtures.h"

static char tmp[256];
static char base_dir[300];

static const char pursuer_src[] =
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_PURSUER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "    const FmspState *s = &o->state; (void)self;\n"
    "    double b = atan2(s->ye - s->yp, s->xe - s->xp);\n"
    "    c->u = fmsp_clamp(2.0 * fmsp_wrap_angle(b - s->theta), -1, 1);\n"
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

static const char evader_src[] =
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_EVADER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) {\n"
    "    const FmspState *s = &o->state; (void)self;\n"
    "    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;\n"
    "    c->vx = dx / d; c->vy = dy / d;\n"
    "}\n"
    "void fmsp_free(void *self) { (void)self; }\n";

static void setup(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/fmsp-test-search-XXXXXX");
    if (!mkdtemp(tmp))
        abort();
    snprintf(base_dir, sizeof base_dir, "%s/baselines", tmp);
    char err[256];
    util_mkdirs(base_dir, err, sizeof err);
    char *p = xasprintf("%s/pursuer_pure_pursuit.c", base_dir);
    char *e = xasprintf("%s/evader_flee.c", base_dir);
    util_write_file(p, pursuer_src, strlen(pursuer_src), err, sizeof err);
    util_write_file(e, evader_src, strlen(evader_src), err, sizeof err);
    free(p);
    free(e);
}

static void small_config(SearchConfig *c, SearchAlgo algo, int iterations)
{
    search_config_default(c);
    c->algo = algo;
    c->iterations = iterations;
    c->seed = 11;
    c->eval.episodes = 3;
    c->eval.batch = 3;
    c->eval.params.T = 8;
    c->eval.params.max_steps = 160;
    c->opponents = 2;
    c->rescore_every = 4;
    c->in_flight = 3;
    snprintf(c->baselines_dir, sizeof c->baselines_dir, "%s", base_dir);
}

static void test_reproducible(void)
{
    SearchConfig c;
    small_config(&c, ALGO_QDSP, 10);
    char err[1024] = "", *a = xasprintf("%s/a.db", tmp), *b = xasprintf("%s/b.db", tmp);
    CHECK_MSG(search_run_to_end(&c, a, err, sizeof err) == FMSP_OK, "%s", err);
    CHECK_MSG(search_run_to_end(&c, b, err, sizeof err) == FMSP_OK, "%s", err);
    char *fa = search_fingerprint(a), *fb = search_fingerprint(b);
    CHECK_MSG(strcmp(fa, fb) == 0, "\n%s---\n%s", fa, fb);
    CHECK_STR_HAS(fa, "calls 1"); /* at least ten calls recorded */
    /* a different seed gives a different run */
    c.seed = 12;
    char *d = xasprintf("%s/d.db", tmp);
    CHECK(search_run_to_end(&c, d, err, sizeof err) == FMSP_OK);
    char *fd = search_fingerprint(d);
    CHECK(strcmp(fa, fd) != 0);
    free(fa);
    free(fb);
    free(fd);
    free(a);
    free(b);
    free(d);
}

static void test_kill9_resume_same_archive(void)
{
    SearchConfig c;
    small_config(&c, ALGO_QDSP, 14);
    char err[1024] = "";
    char *ref = xasprintf("%s/ref.db", tmp), *killed = xasprintf("%s/killed.db", tmp);
    CHECK_MSG(search_run_to_end(&c, ref, err, sizeof err) == FMSP_OK, "%s", err);
    pid_t pid = fork();
    if (pid == 0) {
        char e2[512];
        search_run_to_end(&c, killed, e2, sizeof e2);
        _exit(0);
    }
    /* wait until a few iterations are committed, then kill -9 mid-flight */
    int done = -1;
    for (int i = 0; i < 600 && done < 5; i++) {
        usleep(50000);
        Store *db;
        if (store_open(killed, 0, &db, err, sizeof err) == FMSP_OK) {
            store_last_iteration(db, &done);
            store_close(db);
        }
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    CHECK_MSG(done >= 5 && done < 13, "killed after iteration %d", done);
    CHECK_MSG(search_resume_to_end(killed, err, sizeof err) == FMSP_OK, "%s", err);
    char *fr = search_fingerprint(ref), *fk = search_fingerprint(killed);
    CHECK_MSG(strcmp(fr, fk) == 0, "\n%s---\n%s", fr, fk);
    free(fr);
    free(fk);
    free(ref);
    free(killed);
}

/* Killed at many points, late ones and during resumes included, and
 * resumed each time: the run ends exactly as an uninterrupted one. */
static void test_many_kills_same_archive(void)
{
    SearchConfig c;
    small_config(&c, ALGO_QDSP, 18);
    char err[1024] = "";
    char *ref = xasprintf("%s/ref18.db", tmp), *killed = xasprintf("%s/killed18.db", tmp);
    CHECK_MSG(search_run_to_end(&c, ref, err, sizeof err) == FMSP_OK, "%s", err);
    static const int points[] = {2, 6, 10, 13, 16};
    int last = search_run_and_kill(&c, killed, 0, points[0]);
    for (size_t k = 1; k < sizeof points / sizeof points[0]; k++)
        last = search_run_and_kill(&c, killed, 1, points[k]); /* killed during a resume */
    CHECK_MSG(last >= 13, "the kills came too early (last at iteration %d)", last);
    FmspErr e = search_resume_to_end(killed, err, sizeof err);
    CHECK_MSG(e == FMSP_OK || strstr(err, "is finished"), "%s", err); /* or the last resume ended it */
    char *fr = search_fingerprint(ref), *fk = search_fingerprint(killed);
    CHECK_MSG(strcmp(fr, fk) == 0, "\n%s---\n%s", fr, fk);
    free(fr);
    free(fk);
    free(ref);
    free(killed);
}

/* A run stopped by its budget and resumed with a larger one ends exactly as
 * a run given the larger budget at once: the iterations the stop left
 * unplanned were planned (stored) at the moment an uninterrupted run would
 * have planned them, and the archive comes back in its live order. */
static void test_extended_budget_same_archive(void)
{
    SearchConfig c;
    small_config(&c, ALGO_QDSP, 16);
    char err[1024] = "";
    char *full = xasprintf("%s/full.db", tmp), *part = xasprintf("%s/part.db", tmp);
    CHECK_MSG(search_run_to_end(&c, full, err, sizeof err) == FMSP_OK, "%s", err);
    SearchConfig short_cfg = c;
    short_cfg.iterations = 5;
    CHECK_MSG(search_run_to_end(&short_cfg, part, err, sizeof err) == FMSP_OK, "%s", err);
    for (int more = 9; more <= 16; more = more + 2 > 16 && more < 16 ? 16 : more + 2) {
        CompileConfig cc;
        compile_config_default(&cc);
        SearchConfig over;
        memset(&over, 0, sizeof over);
        over.iterations = more;
        Search *s;
        FmspErr e = search_resume(part, &cc, &over, &s, err, sizeof err);
        CHECK_MSG(e == FMSP_OK, "%s", err);
        if (e == FMSP_OK) {
            CHECK_MSG(search_run(s, NULL, NULL, err, sizeof err) == FMSP_OK, "%s", err);
            search_free(s);
        }
    }
    char *ff = search_fingerprint(full), *fp = search_fingerprint(part);
    CHECK_MSG(strcmp(ff, fp) == 0, "\n%s---\n%s", ff, fp);
    free(ff);
    free(fp);
    free(full);
    free(part);
}

static void test_replay_reproduces(void)
{
    SearchConfig c;
    small_config(&c, ALGO_NSSP, 8);
    char err[1024] = "";
    char *rec = xasprintf("%s/rec.db", tmp), *rep = xasprintf("%s/rep.db", tmp);
    CHECK_MSG(search_run_to_end(&c, rec, err, sizeof err) == FMSP_OK, "%s", err);
    SearchConfig r = c;
    fm_config_default(&r.fm, FM_REPLAY);
    snprintf(r.fm.replay_db, sizeof r.fm.replay_db, "%s", rec);
    CHECK_MSG(search_run_to_end(&r, rep, err, sizeof err) == FMSP_OK, "%s", err);
    char *fa = search_fingerprint(rec), *fb = search_fingerprint(rep);
    /* origins differ (builtin vs model) but not the fingerprint fields */
    CHECK_MSG(strcmp(fa, fb) == 0, "\n%s---\n%s", fa, fb);
    free(fa);
    free(fb);
    free(rec);
    free(rep);
}

/* Evaluations whose opponent was generated in the run (not a baseline). */
static int generated_opponents(const char *db_path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM evaluations e JOIN policies p"
                           " ON p.id = e.opponent_id WHERE p.iteration >= 0",
                           -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static void test_every_algorithm_runs(void)
{
    SearchAlgo algos[] = {ALGO_OPENLOOP, ALGO_VFMSP, ALGO_NSSP, ALGO_QDSP};
    for (int i = 0; i < 4; i++) {
        SearchConfig c;
        small_config(&c, algos[i], 6);
        char err[1024] = "", *db = xasprintf("%s/algo%d.db", tmp, i);
        CHECK_MSG(search_run_to_end(&c, db, err, sizeof err) == FMSP_OK, "%s: %s",
                  search_algo_name(algos[i]), err);
        Store *st;
        if (store_open(db, 0, &st, err, sizeof err) == FMSP_OK) {
            int last = -1;
            store_last_iteration(st, &last);
            CHECK_INT(last, 5);
            StorePolicyRow *rows;
            int n;
            store_policy_list(st, FMSP_PURSUER, 1, &rows, &n);
            if (algos[i] == ALGO_VFMSP)
                CHECK_INT(n, 1); /* one incumbent per side */
            else
                CHECK(n >= 1);
            store_policy_rows_free(rows, n);
            store_close(st);
        }
        /* open-loop and NSSP ignore quality: they score against the baselines
         * only and never pay for re-scoring; QDSP plays a sample of the
         * other side's archive (vFMSP's incumbents may still be the seeds) */
        int gen = generated_opponents(db);
        if (algos[i] == ALGO_OPENLOOP || algos[i] == ALGO_NSSP)
            CHECK_MSG(gen == 0, "%s: %d", search_algo_name(algos[i]), gen);
        else if (algos[i] == ALGO_QDSP)
            CHECK_MSG(gen > 0, "%s: %d", search_algo_name(algos[i]), gen);
        free(db);
    }
}

static void test_token_budget_stops_early(void)
{
    SearchConfig c;
    small_config(&c, ALGO_QDSP, 50);
    c.max_tokens = 6000; /* a builtin answer is about 2000-3000 "tokens" */
    char err[1024] = "", *db = xasprintf("%s/budget.db", tmp);
    CHECK_MSG(search_run_to_end(&c, db, err, sizeof err) == FMSP_OK, "%s", err);
    Store *st;
    if (store_open(db, 0, &st, err, sizeof err) == FMSP_OK) {
        int last = -1;
        store_last_iteration(st, &last);
        CHECK_MSG(last >= 1 && last < 10, "stopped after iteration %d", last);
        char *status = NULL;
        store_meta_get(st, "status", &status);
        CHECK(status && strcmp(status, "interrupted") == 0);
        free(status);
        store_close(st);
    }
    free(db);
}

static void test_bad_inputs(void)
{
    SearchConfig c;
    small_config(&c, ALGO_QDSP, 4);
    char err[1024] = "";
    char *db = xasprintf("%s/a.db", tmp); /* exists from test_reproducible */
    CompileConfig cc;
    compile_config_default(&cc);
    Search *s = NULL;
    CHECK(search_create(&c, &cc, db, &s, err, sizeof err) != FMSP_OK);
    CHECK_STR_HAS(err, "exists");
    snprintf(c.baselines_dir, sizeof c.baselines_dir, "%s/nowhere", tmp);
    char *db2 = xasprintf("%s/nobase.db", tmp);
    CHECK(search_create(&c, &cc, db2, &s, err, sizeof err) != FMSP_OK);
    CHECK_STR_HAS(err, "nowhere");
    char *txt = xasprintf("%s/not-a-db.txt", tmp);
    util_write_file(txt, "hello\n", 6, err, sizeof err);
    CHECK(search_resume(txt, &cc, NULL, &s, err, sizeof err) != FMSP_OK);
    CHECK_STR_HAS(err, "not-a-db.txt");
    free(db);
    free(db2);
    free(txt);
}

int main(void)
{
    setup();
    RUN(test_reproducible);
    RUN(test_kill9_resume_same_archive);
    RUN(test_replay_reproduces);
    RUN(test_extended_budget_same_archive);
    RUN(test_many_kills_same_archive);
    RUN(test_every_algorithm_runs);
    RUN(test_token_budget_stops_early);
    RUN(test_bad_inputs);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return harness_done("test_search");
}
