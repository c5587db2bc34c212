/*
 * test_cli.c - the fmsp command as a user meets it: help on every command,
 * clear messages and non-zero exits for wrong flags, missing files, bad
 * parameter values and policies that do not compile, and valid JSON.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "store/store.h"
#include "fixtures.h"
#include "harness.h"
#include "shell.h"

static char fmsp[1024], root[1024];

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

static void test_help(void)
{
    const char *cmds[] = {"eval", "play"};
    char *out;
    CHECK(sh(&out, "%s --help", fmsp) == 0);
    CHECK_STR_HAS(out, "usage: fmsp");
    free(out);
    for (int i = 0; i < 2; i++) {
        CHECK(sh(&out, "%s %s --help", fmsp, cmds[i]) == 0);
        CHECK_STR_HAS(out, "usage: fmsp");
        CHECK_STR_HAS(out, "--scenario");
        free(out);
    }
    CHECK(sh(&out, "%s version", fmsp) == 0);
    CHECK_STR_HAS(out, "policy API 1");
    free(out);
}

static void test_bad_usage(void)
{
    char *out;
    CHECK(sh(&out, "%s frobnicate", fmsp) == 2);
    CHECK_STR_HAS(out, "unknown command 'frobnicate'");
    free(out);
    CHECK(sh(&out, "%s eval --bogus policies/baselines/cartag", fmsp) == 2);
    CHECK_STR_HAS(out, "fmsp eval --help");
    free(out);
    CHECK(sh(&out, "%s eval", fmsp) == 2);
    CHECK_STR_HAS(out, "no policies given");
    free(out);
    CHECK(sh(&out, "%s eval --episodes zero policies/baselines/cartag", fmsp) == 2);
    CHECK_STR_HAS(out, "--episodes must be a whole number");
    free(out);
    CHECK(sh(&out, "%s eval --param ve=-3 policies/baselines/cartag", fmsp) == 2);
    CHECK_STR_HAS(out, "parameter 've' must be in (0, 100]");
    free(out);
    /* values with no sane meaning are refused, each with why */
    static const struct {
        const char *param, *says;
    } insane[] = {{"H=1e308", "'H' must be in [3, 100]"}, {"H=1e4", "too rare to draw"},
                  {"l=4", "would capture at once"}, {"dt=0", "'dt' must be in [0.0001, 1]"},
                  {"R=1e-9", "turning radius"}, {"T=1e9", "episode length"}};
    for (size_t i = 0; i < sizeof insane / sizeof insane[0]; i++) {
        CHECK_MSG(sh(&out, "%s eval --param %s policies/baselines/cartag", fmsp, insane[i].param) == 2, "%s",
                  insane[i].param);
        CHECK_STR_HAS(out, insane[i].says);
        free(out);
    }
    CHECK(sh(&out, "%s eval --param speed=3 policies/baselines/cartag", fmsp) == 2);
    CHECK_STR_HAS(out, "unknown parameter 'speed'");
    free(out);
    CHECK(sh(&out, "%s eval --scenario moon policies/baselines/cartag", fmsp) == 2);
    CHECK_STR_HAS(out, "unknown scenario 'moon'");
    free(out);
    CHECK(sh(&out, "%s eval /nonexistent/policy.c", fmsp) == 1);
    CHECK_STR_HAS(out, "/nonexistent/policy.c");
    free(out);
    CHECK(sh(&out, "%s play policies/baselines/cartag/evader_flee.c", fmsp) == 2);
    CHECK_STR_HAS(out, "expected a pursuer and an evader");
    free(out);
    CHECK(sh(&out, "%s play policies/baselines/cartag/evader_flee.c policies/baselines/cartag/evader_flee.c", fmsp) == 2);
    CHECK_STR_HAS(out, "expected a pursuer first");
    free(out);
}

static void test_compile_error_shown(void)
{
    char *tmp = xasprintf("/tmp/fmsp-cli-%d", (int)getpid());
    char err[256];
    util_mkdirs(tmp, err, sizeof err);
    char *path = xasprintf("%s/broken_pursuer.c", tmp);
    const char *src = "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\nint oops = ;\n";
    util_write_file(path, src, strlen(src), err, sizeof err);
    char *out;
    CHECK(sh(&out, "%s eval %s policies/baselines/cartag/evader_flee.c", fmsp, path) == 1);
    CHECK_STR_HAS(out, "broken_pursuer.c: compilation failed");
    CHECK_STR_HAS(out, "broken_pursuer.c:3:");
    free(out);
    free(path);
    fixture_rm_rf(tmp);
    free(tmp);
}

static void test_eval_table_and_json(void)
{
    char *out;
    CHECK(sh(&out, "%s eval --episodes 4 policies/baselines/cartag/pursuer_pure_pursuit.c "
                   "policies/baselines/cartag/evader_flee.c policies/baselines/cartag/evader_sidestep.c",
             fmsp) == 0);
    CHECK_STR_HAS(out, "1 pursuers x 2 evaders");
    CHECK_STR_HAS(out, "best pursuer: pursuer_pure_pursuit");
    /* means carry their interval and say what they average over */
    CHECK_STR_HAS(out, "+/- ");
    CHECK_STR_HAS(out, "against these 2 evaders");
    CHECK_STR_HAS(out, "means: over the opponents in the table");
    free(out);
    CHECK(sh(&out, "%s eval --episodes 3 --json - policies/baselines/cartag/pursuer_pure_pursuit.c "
                   "policies/baselines/cartag/evader_flee.c",
             fmsp) == 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    CHECK_MSG(j != NULL, "invalid JSON: %s", je.text);
    json_t *m = json_array_get(json_object_get(j, "matches"), 0);
    CHECK(json_array_size(json_object_get(m, "episodes")) == 3);
    CHECK(json_is_number(json_object_get(m, "pursuer_mean")));
    CHECK(json_is_string(json_object_get(json_array_get(json_object_get(m, "episodes"), 0), "seed")));
    json_decref(j);
    free(out);
}

static void test_play_trace(void)
{
    char *out;
    CHECK(sh(&out, "%s play --episode 3 policies/baselines/cartag/pursuer_pure_pursuit.c "
                   "policies/baselines/cartag/evader_flee.c",
             fmsp) == 0);
    /* every line is a JSON object; first start, last end */
    int lines = 0, ok = 1;
    char *save = NULL;
    const char *first_type = NULL;
    char last_type[16] = "";
    CHECK_STR_HAS(out, "episode 3: captured");
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "episode ", 8) == 0)
            continue; /* the summary, on stderr */
        json_t *j = json_loads(line, 0, NULL);
        if (!j) {
            ok = 0;
            break;
        }
        const char *type = json_string_value(json_object_get(j, "type"));
        if (!lines)
            first_type = strcmp(type, "start") == 0 ? "start" : "other";
        snprintf(last_type, sizeof last_type, "%s", type ? type : "?");
        json_decref(j);
        lines++;
    }
    CHECK(ok);
    CHECK(lines > 10);
    CHECK(first_type && strcmp(first_type, "start") == 0);
    CHECK_MSG(strcmp(last_type, "end") == 0, "last line type %s after %d lines", last_type, lines);
    free(out);
}

static void test_run_show_export(void)
{
    char *tmp = xasprintf("/tmp/fmsp-cli-run-%d", (int)getpid());
    char err[256], *out;
    util_mkdirs(tmp, err, sizeof err);
    CHECK(sh(&out, "%s run --help", fmsp) == 0);
    CHECK_STR_HAS(out, "--algo");
    CHECK_STR_HAS(out, "--resume");
    free(out);
    CHECK(sh(&out, "%s run --algo bogus", fmsp) == 2);
    CHECK_STR_HAS(out, "unknown algorithm 'bogus'");
    free(out);
    CHECK(sh(&out, "%s run --domain chess", fmsp) == 2);
    CHECK_STR_HAS(out, "unknown domain 'chess' (known: cartag, gandalf)");
    free(out);
    CHECK(sh(&out, "%s run --domain gandalf --scenario open", fmsp) == 2);
    CHECK_STR_HAS(out, "--scenario is a Car Tag option");
    free(out);
    CHECK(sh(&out, "%s run --target simulated", fmsp) == 2);
    CHECK_STR_HAS(out, "is a Gandalf option; add --domain gandalf");
    free(out);
    CHECK(sh(&out, "env -u OPENAI_API_KEY %s run --fm openai --db %s/k.db", fmsp, tmp) == 1);
    CHECK_STR_HAS(out, "OPENAI_API_KEY is not set");
    free(out);
    /* refused starts leave nothing behind, so the fixed command just works */
    struct stat st;
    char *kdb = xasprintf("%s/k.db", tmp);
    CHECK_MSG(stat(kdb, &st) != 0, "a refused start left %s", kdb);
    CHECK(sh(&out, "%s run --baselines %s --db %s", fmsp, tmp, kdb) == 1);
    CHECK_STR_HAS(out, "no baseline policies");
    free(out);
    CHECK_MSG(stat(kdb, &st) != 0, "a refused start left %s", kdb);
    /* a database whose set-up never committed (kill -9 during set-up) is
     * started afresh by the same command */
    Store *unset = NULL;
    CHECK(store_open(kdb, 1, &unset, err, sizeof err) == FMSP_OK);
    store_close(unset);
    CHECK(sh(&out, "%s run --iterations 2 --episodes 2 --param T=5 --quiet --db %s", fmsp, kdb) == 0);
    free(out);
    free(kdb);
    CHECK(sh(&out, "%s run --dry-run", fmsp) == 0);
    CHECK_STR_HAS(out, "===== first pursuer prompt =====");
    CHECK_STR_HAS(out, "===== first evader prompt =====");
    CHECK_STR_HAS(out, "Policy-writing guide");
    free(out);
    const char *quick = "--episodes 2 --param T=5 --quiet";
    CHECK(sh(&out, "%s run --iterations 4 %s --db %s/r.db", fmsp, quick, tmp) == 0);
    CHECK_STR_HAS(out, "best baseline:");
    CHECK_STR_HAS(out, "not a model");
    free(out);
    CHECK(sh(&out, "%s run --iterations 4 %s --db %s/r.db", fmsp, quick, tmp) == 1);
    CHECK_STR_HAS(out, "already exists");
    free(out);
    /* flags that define the run are refused on resume; budgets must add work */
    CHECK(sh(&out, "%s run --resume %s/r.db --algo vfmsp", fmsp, tmp) == 2);
    CHECK_STR_HAS(out, "--algo defines the run");
    free(out);
    CHECK(sh(&out, "%s run --resume %s/r.db", fmsp, tmp) == 2);
    CHECK_STR_HAS(out, "the run is finished (4 of 4 iterations)");
    free(out);
    CHECK(sh(&out, "%s run --resume %s/r.db --iterations 3", fmsp, tmp) == 2);
    CHECK_STR_HAS(out, "already completed 4 iterations");
    free(out);
    CHECK(sh(&out, "%s run --resume %s/r.db --iterations 6 --quiet", fmsp, tmp) == 0);
    free(out);
    CHECK(sh(&out, "%s show %s/r.db", fmsp, tmp) == 0);
    CHECK_STR_HAS(out, "iterations completed: 6 of 6");
    CHECK_STR_HAS(out, "pursuers:");
    CHECK_STR_HAS(out, "operator calls: 6");
    CHECK(!strstr(out, "$0.0000"));
    free(out);
    /* the promises of show --help: cut lists say so, every fate with why, any code */
    CHECK(sh(&out, "%s show --top 1 %s/r.db", fmsp, tmp) == 0);
    CHECK_STR_HAS(out, "more (--top");
    free(out);
    CHECK(sh(&out, "%s show --failures %s/r.db", fmsp, tmp) == 0);
    CHECK_STR_HAS(out, "candidates:");
    free(out);
    CHECK(sh(&out, "%s show --code 1 %s/r.db", fmsp, tmp) == 0);
    CHECK_STR_HAS(out, "policy #1 ");
    CHECK_STR_HAS(out, "FMSP_SIDE(");
    free(out);
    /* a generated candidate: its diff against its parent follows its code */
    {
        sqlite3 *h;
        long long gen = 0;
        char *dbp = xasprintf("%s/r.db", tmp);
        if (sqlite3_open_v2(dbp, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
            sqlite3_stmt *q;
            if (sqlite3_prepare_v2(h, "SELECT id FROM policies WHERE iteration >= 0 AND source "
                                      "IS NOT NULL AND parents != '[]' LIMIT 1",
                                   -1, &q, NULL) == SQLITE_OK &&
                sqlite3_step(q) == SQLITE_ROW)
                gen = sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
        }
        sqlite3_close(h);
        free(dbp);
        CHECK(gen > 0);
        CHECK(sh(&out, "%s show --code %lld %s/r.db", fmsp, gen, tmp) == 0);
        CHECK_STR_HAS(out, "diff against its parent #");
        CHECK(strstr(out, "\n+") || strstr(out, "(no change)"));
        free(out);
    }
    CHECK(sh(&out, "%s show --code 99999 %s/r.db", fmsp, tmp) == 1);
    CHECK_STR_HAS(out, "no policy #99999");
    free(out);
    CHECK(sh(&out, "%s export %s/r.db %s/out", fmsp, tmp, tmp) == 0);
    CHECK_STR_HAS(out, "wrote ");
    free(out);
    CHECK(sh(&out, "%s eval --episodes 2 --quiet %s/out", fmsp, tmp) == 0);
    CHECK_STR_HAS(out, "best pursuer:");
    free(out);
    CHECK(sh(&out, "%s show %s/out", fmsp, tmp) == 1);
    free(out);
    /* a database with a table gone: show says the summary is incomplete */
    CHECK(sh(&out, "cp %s/r.db %s/broken.db", tmp, tmp) == 0);
    free(out);
    char *broken = xasprintf("%s/broken.db", tmp);
    sqlite3 *raw = NULL;
    CHECK(sqlite3_open(broken, &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "DROP TABLE model_calls", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);
    CHECK(sh(&out, "%s show %s", fmsp, broken) == 1);
    CHECK_STR_HAS(out, "could not be read; the summary above is incomplete");
    free(out);
    free(broken);
    char *txt = xasprintf("%s/notes.txt", tmp);
    util_write_file(txt, "hello\n", 6, err, sizeof err);
    CHECK(sh(&out, "%s show %s", fmsp, txt) == 1);
    CHECK_STR_HAS(out, "not an fmsp run database");
    free(out);
    CHECK(sh(&out, "%s run --resume %s", fmsp, txt) == 1);
    CHECK_STR_HAS(out, "not an fmsp run database");
    free(out);
    free(txt);
    fixture_rm_rf(tmp);
    free(tmp);
}

/* Ctrl-C: acknowledged at once, done within 2 s, exit 130, nothing
 * completed lost, and the run resumes to its end; a budget stop exits 3. */
static void test_run_stops(void)
{
    char *tmp = xasprintf("/tmp/fmsp-cli-stop-%d", (int)getpid());
    mkdir(tmp, 0700);
    char *db = xasprintf("%s/s.db", tmp), *log = xasprintf("%s/out.txt", tmp);
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(root) != 0)
            _exit(127);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(fmsp, fmsp, "run", "--iterations", "400", "--quiet", "--db", db, (char *)NULL);
        _exit(127);
    }
    /* interrupt once the run is under way (set-up done, an iteration in) */
    for (int i = 0; i < 400; i++) {
        char *o = NULL;
        int started = sh(&o, "%s show %s", fmsp, db) == 0 && o && !strstr(o, "iterations completed: 0 ");
        free(o);
        if (started)
            break;
        usleep(50000);
    }
    usleep(300000);
    double t0 = util_now();
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    double took = util_now() - t0;
    CHECK_MSG(took < 2.0, "stopping took %.1f s", took);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 130, "exit status %d", status);
    char *text = NULL, err[256];
    size_t len = 0;
    CHECK(util_read_file(log, 1 << 20, &text, &len, err, sizeof err) == FMSP_OK);
    CHECK_STR_HAS(text, "fmsp run: stopping");
    CHECK_STR_HAS(text, "interrupted;");
    free(text);
    char *out;
    CHECK(sh(&out, "%s show %s", fmsp, db) == 0);
    CHECK_STR_HAS(out, "interrupted");
    const char *at = strstr(out, "iterations completed: ");
    int done = at ? atoi(at + 22) : -1;
    CHECK_MSG(done >= 1, "%s", out);
    free(out);
    /* a little further than the interrupted run got: it ends there exactly */
    CHECK(sh(&out, "%s run --resume %s --iterations %d --quiet", fmsp, db, done + 3) == 0);
    free(out);
    CHECK(sh(&out, "%s show %s", fmsp, db) == 0);
    char want[64];
    snprintf(want, sizeof want, "iterations completed: %d of %d", done + 3, done + 3);
    CHECK_STR_HAS(out, want);
    free(out);
    CHECK(sh(&out, "%s run --iterations 400 --max-time 1 --quiet --db %s/b.db", fmsp, tmp) == 3);
    CHECK_STR_HAS(out, "stopped by a budget");
    free(out);
    fixture_rm_rf(tmp);
    free(db);
    free(log);
    free(tmp);
}

/* A run config as a file: 'show --config' prints one, 'run --config'
 * starts the same run from it (same archive), and flags override it. */
static void test_run_config_file(void)
{
    char *tmp = xasprintf("/tmp/fmsp-cli-cfg-%d", (int)getpid());
    mkdir(tmp, 0700);
    char *out, *a, *b;
    CHECK(sh(&out, "%s run --algo vfmsp --iterations 3 --param T=5 --episodes 2 --seed 7 --quiet "
                   "--db %s/a.db", fmsp, tmp) == 0);
    free(out);
    CHECK(sh(&out, "%s show --config %s/a.db > %s/a.json", fmsp, tmp, tmp) == 0);
    free(out);
    CHECK(sh(&out, "%s run --config %s/a.json --quiet --db %s/b.db", fmsp, tmp, tmp) == 0);
    free(out);
    CHECK(sh(&a, "%s show --config %s/a.db", fmsp, tmp) == 0);
    CHECK(sh(&b, "%s show --config %s/b.db", fmsp, tmp) == 0);
    CHECK(strcmp(a, b) == 0);
    CHECK_STR_HAS(a, "\"vfmsp\"");
    free(a);
    free(b);
    CHECK(sh(&a, "%s show %s/a.db | tail -n +2", fmsp, tmp) == 0);
    CHECK(sh(&b, "%s show %s/b.db | tail -n +2", fmsp, tmp) == 0);
    CHECK_MSG(strcmp(a, b) == 0, "archives differ:\n%s\n---\n%s", a, b);
    free(a);
    free(b);
    CHECK(sh(&out, "%s run --config %s/a.json --algo nssp --quiet --db %s/c.db", fmsp, tmp, tmp) == 0);
    free(out);
    CHECK(sh(&out, "%s show --config %s/c.db", fmsp, tmp) == 0);
    CHECK_STR_HAS(out, "\"nssp\"");
    free(out);
    CHECK(sh(&out, "%s run --config %s/nope.json --db %s/d.db", fmsp, tmp, tmp) == 2);
    CHECK_STR_HAS(out, "nope.json");
    free(out);
    fixture_rm_rf(tmp);
    free(tmp);
}

/* An interrupted evaluation keeps what it finished: the partial table,
 * exit 130, and progress lines even when stderr is not a terminal. */
static void test_eval_interrupted(void)
{
    char *outp = xasprintf("/tmp/fmsp-cli-eval-%d.out", (int)getpid());
    char *errp = xasprintf("/tmp/fmsp-cli-eval-%d.err", (int)getpid());
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(root) != 0)
            _exit(127);
        int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        /* 100 episodes a match: the first finishes well within 6 s even on a
         * loaded machine, the whole table (49 matches) takes far longer */
        execl(fmsp, fmsp, "eval", "--episodes", "100", "policies/baselines/cartag", (char *)NULL);
        _exit(127);
    }
    usleep(6000000);
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d", status);
    char *text = NULL, err[256];
    size_t len;
    CHECK(util_read_file(outp, 1 << 20, &text, &len, err, sizeof err) == FMSP_OK);
    CHECK_STR_HAS(text, "interrupted: ");
    CHECK_STR_HAS(text, "matches played");
    CHECK_STR_HAS(text, "(not played)");
    free(text);
    CHECK(util_read_file(errp, 1 << 20, &text, &len, err, sizeof err) == FMSP_OK);
    CHECK_STR_HAS(text, "matches]"); /* a progress line, though stderr is a file */
    CHECK_STR_HAS(text, "stopping");
    free(text);
    unlink(outp);
    unlink(errp);
    free(outp);
    free(errp);
}

/* A dead endpoint, a failing model: the start stops at once with the
 * cause, exit 1, and leaves nothing behind. */
static void test_run_dead_endpoint(void)
{
    char *out, *db = xasprintf("/tmp/fmsp-cli-dead-%d.db", (int)getpid());
    double t0 = util_now();
    CHECK(sh(&out, "OPENAI_API_KEY=sk-test-dead-endpoint %s run --fm openai --base-url "
                   "http://127.0.0.1:9/v1 --model m --db %s", fmsp, db) == 1);
    CHECK(util_now() - t0 < 10);
    CHECK_STR_HAS(out, "does not answer");
    CHECK_STR_HAS(out, "Couldn't connect");
    free(out);
    pid_t server;
    int port = fixture_start_model_server("sk-test-dead-endpoint", &server);
    CHECK(port > 0);
    CHECK(sh(&out, "OPENAI_API_KEY=sk-test-dead-endpoint %s run --fm openai --base-url "
                   "http://127.0.0.1:%d/v1 --model fail-always --db %s", fmsp, port, db) == 1);
    CHECK_STR_HAS(out, "HTTP 500");
    free(out);
    CHECK(sh(&out, "OPENAI_API_KEY=sk-wrong-key-000000 %s run --fm openai --base-url "
                   "http://127.0.0.1:%d/v1 --model no-such-model --db %s", fmsp, port, db) == 1);
    CHECK_STR_HAS(out, "does not answer");
    free(out);
    /* Gandalf's target is checked the same way, before anything is written */
    CHECK(sh(&out, "T_KEY=sk-test-dead-endpoint %s run --domain gandalf --target openai "
                   "--target-url http://127.0.0.1:%d/v1 --target-model fail-always "
                   "--target-key-env T_KEY --db %s", fmsp, port, db) == 1);
    CHECK_STR_HAS(out, "the target model at");
    CHECK_STR_HAS(out, "HTTP 500");
    free(out);
    CHECK(sh(&out, "env -u T_KEY %s run --domain gandalf --target anthropic --target-key-env T_KEY "
                   "--db %s", fmsp, db) == 1);
    CHECK_STR_HAS(out, "T_KEY is not set");
    free(out);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    struct stat st;
    CHECK_MSG(stat(db, &st) != 0, "a refused start left %s", db);
    free(db);
}

/* Cross-play of archives and folders: ratings, Nash averaging and
 * exploitability are printed; a results file makes a second invocation
 * reuse every finished match; Gandalf's unbroken level 7 is the whole
 * defenders' equilibrium. */
static void test_tournament(void)
{
    char *out, *res = xasprintf("/tmp/fmsp-cli-tour-%d.jsonl", (int)getpid());
    unlink(res);
    CHECK(sh(&out, "%s tournament --episodes 3 --results %s policies/baselines/cartag", fmsp,
             res) == 0);
    CHECK_STR_HAS(out, "0 of 49 matches already");
    CHECK_STR_HAS(out, "Car Tag tournament: 7 pursuers x 7 evaders");
    CHECK_STR_HAS(out, "Elo: maximum likelihood");
    CHECK_STR_HAS(out, "Nash averaging");
    CHECK_STR_HAS(out, "exploitability");
    free(out);
    CHECK(sh(&out, "%s tournament --episodes 3 --results %s policies/baselines/cartag", fmsp,
             res) == 0);
    CHECK_STR_HAS(out, "49 of 49 matches already");
    CHECK(!strstr(out, "[1/49 matches]"));
    free(out);
    /* other settings do not reuse those cells */
    CHECK(sh(&out, "%s tournament --episodes 2 --results %s --quiet policies/baselines/cartag",
             fmsp, res) == 0);
    free(out);
    CHECK(sh(&out, "%s tournament --episodes 2 --results %s policies/baselines/cartag", fmsp,
             res) == 0);
    CHECK_STR_HAS(out, "49 of 49 matches already");
    free(out);
    CHECK(sh(&out, "%s tournament --domain gandalf --episodes 3 --quiet policies/baselines/gandalf",
             fmsp) == 0);
    CHECK_STR_HAS(out, "Gandalf tournament: 13 attackers x 7 defenders");
    CHECK_STR_HAS(out, "defender_level7                  defender");
    char *l7 = out ? strstr(out, "defender_level7                  defender") : NULL;
    CHECK(l7 && strstr(l7, "1.000       +0.500"));
    free(out);
    CHECK(sh(&out, "%s tournament policies/baselines/gandalf", fmsp) == 1);
    CHECK_STR_HAS(out, "is a Gandalf policy");
    free(out);
    unlink(res);
    free(res);
}

/* Runs compared on a held-out pool: a QD-score and coverage per run and
 * side on one shared map, and a verdict with its interval; a Gandalf
 * database is refused in a Car Tag comparison. */
static void test_compare(void)
{
    char dir[] = "/tmp/fmsp-cli-compare-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char *out;
    CHECK(sh(&out, "%s run --algo qdsp --iterations 4 --episodes 2 --seed 3 --quiet --db %s/a.db "
                   ">/dev/null && %s run --algo open-loop --iterations 4 --episodes 2 --seed 4 "
                   "--quiet --db %s/b.db >/dev/null",
             fmsp, dir, fmsp, dir) == 0);
    free(out);
    CHECK(sh(&out, "%s compare --episodes 2 --quiet --csv %s/c.csv --json %s/c.json %s/a.db %s/b.db",
             fmsp, dir, dir, dir, dir) == 0);
    CHECK_STR_HAS(out, "2 runs compared on a held-out pool (the 14 human-designed baselines");
    CHECK_STR_HAS(out, "QD-score");
    CHECK_STR_HAS(out, "/100");
    CHECK_STR_HAS(out, "QD(beh.)");
    CHECK_STR_HAS(out, "agreement of code distance");
    CHECK_STR_HAS(out, "Mantel permutation p = ");
    int verdicts = 0;
    for (const char *p = out; p && (p = strstr(p, "] over ")); p++)
        verdicts++;
    CHECK_MSG(verdicts == 4, "%d verdict lines", verdicts); /* 2 runs x 2 sides */
    free(out);
    /* the same figures for other tools: a header and one row per run and side */
    char *csv = xasprintf("%s/c.csv", dir), *js = xasprintf("%s/c.json", dir), *text = NULL, e[256];
    CHECK(util_read_file(csv, 1 << 20, &text, NULL, e, sizeof e) == FMSP_OK);
    int lines = 0;
    for (const char *p = text; p && *p; p++)
        lines += *p == '\n';
    CHECK_INT(lines, 5);
    CHECK_STR_HAS(text, "run,side,policies,qd_score,coverage");
    free(text);
    text = NULL;
    CHECK(util_read_file(js, 1 << 20, &text, NULL, e, sizeof e) == FMSP_OK);
    CHECK_STR_HAS(text, "\"rows\"");
    CHECK_STR_HAS(text, "\"qd_score\"");
    CHECK_STR_HAS(text, "\"qd_score_behaviour\"");
    free(text);
    free(csv);
    free(js);
    CHECK(sh(&out, "%s run --domain gandalf --iterations 3 --episodes 2 --quiet --db %s/g.db "
                   ">/dev/null",
             fmsp, dir) == 0);
    free(out);
    CHECK(sh(&out, "%s compare %s/a.db %s/g.db", fmsp, dir, dir) == 2);
    CHECK_STR_HAS(out, "holds a gandalf run");
    free(out);
    fixture_rm_rf(dir);
}

int main(void)
{
    const char *b = getenv("FMSP_BUILD"), *r = getenv("FMSP_ROOT");
    snprintf(fmsp, sizeof fmsp, "%s/fmsp", b ? b : "build");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    RUN(test_help);
    RUN(test_bad_usage);
    RUN(test_compile_error_shown);
    RUN(test_eval_table_and_json);
    RUN(test_play_trace);
    RUN(test_run_show_export);
    RUN(test_run_stops);
    RUN(test_run_dead_endpoint);
    RUN(test_eval_interrupted);
    RUN(test_run_config_file);
    RUN(test_tournament);
    RUN(test_compare);
    return harness_done("test_cli");
}
