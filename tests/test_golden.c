/*
 * test_golden.c - Car Tag results do not move when the engine changes shape.
 *
 * tests/golden/cartag-<algo>.txt hold every policy row (name, hash, status,
 * reason, quality, novelty, archive membership) and every evaluation row of
 * a short builtin-operator run of each algorithm, recorded before Car Tag
 * moved onto the domain interface. The same command must give the same
 * rows, digit for digit (scores printed to 9 significant digits). The runs
 * use the baselines of that time, kept in tests/golden/baselines, so new
 * baselines in policies/ do not move them. The
 * compile hash is left out: it is the object cache's key, which covers the
 * policy headers, and the move split the shared RNG into its own header;
 * the sources themselves are covered by the novelty column (an embedding
 * distance of the code).
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "fixtures.h"
#include "harness.h"

static char fmsp[1024], root[1024];

static const char dump_sql[] =
    "select id,side,iteration,origin,name,'',status,coalesce(reason,''),"
    "printf('%.9g',quality),printf('%.9g',novelty),in_archive from policies order by id;"
    "select policy_id,opponent_id,iteration,printf('%.9g',policy_score),printf('%.9g',ci95),"
    "episodes,policy_faults,opponent_faults from evaluations order by id;";

static int dump_row(void *ctx, int n, char **vals, char **names)
{
    FILE *f = ctx;
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? "|" : "", vals[i] ? vals[i] : "");
    fputc('\n', f);
    return 0;
}

/* The rows of a run database in the golden format (heap string). */
static char *dump(const char *db_path)
{
    sqlite3 *db = NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
        sqlite3_exec(db, dump_sql, dump_row, f, NULL);
    sqlite3_close(db);
    fclose(f);
    return text;
}

static void check_algo(const char *algo)
{
    char dir[] = "/tmp/fmsp-golden.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *db = xasprintf("%s/run.db", dir);
    char *cmd = xasprintf("cd %s && %s run --domain cartag --algo %s --iterations 8 --seed 5 "
                          "--episodes 4 --baselines tests/golden/baselines --db %s --quiet "
                          ">/dev/null 2>&1",
                          root, fmsp, algo, db);
    int status = system(cmd);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exited %d", algo, status);
    char *got = dump(db);
    char *path = xasprintf("%s/tests/golden/cartag-%s.txt", root, algo);
    char *want = NULL;
    size_t want_len = 0;
    char msg[256];
    CHECK(util_read_file(path, 1 << 22, &want, &want_len, msg, sizeof msg) == FMSP_OK);
    if (got && want && strcmp(got, want) != 0) {
        /* say where they part, not just that they do */
        int line = 1;
        size_t i = 0;
        while (got[i] && got[i] == want[i]) {
            if (got[i] == '\n')
                line++;
            i++;
        }
        CHECK_MSG(0, "%s: the run differs from %s at line %d", algo, path, line);
    }
    free(got);
    free(want);
    free(path);
    free(cmd);
    free(db);
    fixture_rm_rf(dir);
}

static void test_qdsp(void) { check_algo("qdsp"); }
static void test_vfmsp(void) { check_algo("vfmsp"); }
static void test_nssp(void) { check_algo("nssp"); }
static void test_open_loop(void) { check_algo("open-loop"); }

/* A QDSP run stopped after a replacement (iteration 7 replaces its nearest
 * neighbour) and resumed with a larger budget ends exactly as the run given
 * that budget at once: the archive comes back in its live order. */
static void test_resume_after_replacement_exact(void)
{
    char dir[] = "/tmp/fmsp-golden-resume.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *cmd = xasprintf(
        "cd %s && %s run --algo qdsp --iterations 16 --seed 5 --episodes 4 --baselines "
        "tests/golden/baselines --db %s/full.db --quiet >/dev/null 2>&1 && %s run --algo qdsp "
        "--iterations 9 --seed 5 --episodes 4 --baselines tests/golden/baselines --db %s/part.db "
        "--quiet >/dev/null 2>&1 && %s run --resume %s/part.db --iterations 16 --quiet "
        ">/dev/null 2>&1",
        root, fmsp, dir, fmsp, dir, fmsp, dir);
    int status = system(cmd);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "runs exited %d", status);
    char *full = xasprintf("%s/full.db", dir), *part = xasprintf("%s/part.db", dir);
    char *a = dump(full), *b = dump(part);
    CHECK(strstr(a ? a : "", "replaces its nearest neighbour") != NULL);
    CHECK_MSG(a && b && strcmp(a, b) == 0, "the resumed run differs");
    free(a);
    free(b);
    free(full);
    free(part);
    free(cmd);
    fixture_rm_rf(dir);
}

int main(void)
{
    const char *b = getenv("FMSP_BUILD"), *r = getenv("FMSP_ROOT");
    snprintf(fmsp, sizeof fmsp, "%s/fmsp", b ? b : "build");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    RUN(test_qdsp);
    RUN(test_vfmsp);
    RUN(test_nssp);
    RUN(test_open_loop);
    RUN(test_resume_after_replacement_exact);
    return harness_done("test_golden");
}
