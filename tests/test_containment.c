/*
 * test_containment.c - the layers around the runtime sandbox, each tested
 * on its own through the real compile path.
 *
 *   load-time code   constructors and indirect-function resolvers, built
 *                    with the scanner and the object check switched off, run
 *                    inside the worker's jail under the load-phase filter:
 *                    they can read nothing, write nothing, reach nothing,
 *                    cannot hang the referee or forge its messages; with the
 *                    checks on they are refused before any worker starts.
 *   compiler jail    sources that make gcc read files (line directives,
 *                    includes of /proc and /etc, .incbin) leak nothing
 *                    into diagnostics, not even a canary in our environment.
 *   cache            a poisoned object is refused on load; a cache folder
 *                    that is not ours is refused, one too open is made
 *                    private; the cache stays under its size cap.
 *   amplification    a policy that crashes in every episode costs a bounded
 *                    number of worker starts and forfeits the rest; one that
 *                    spends its match's CPU allowance forfeits the rest.
 *   machine load     a deterministic evaluation gives identical results
 *                    beside CPU hogs.
 *   end to end       `fmsp run` against a loopback model whose answers are
 *                    hostile policies, with a canary key in the environment:
 *                    the canary appears in no file written (database, WAL,
 *                    cache, export), in no request body sent to the model and
 *                    in nothing printed.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "domains/cartag/cartag.h"
#include "fixtures.h"
#include "harness.h"
#include "match/match.h"
#include "sandbox/compile.h"

#define CANARY "sk-canary-7f3a9c1e5b2d4680"

/* A pursuer whose file starts with `prefix` (load-time code) and plays
 * pure pursuit, or crashes in fmsp_act when `leak` found something. */
static char *pursuer_with(const char *prefix)
{
    return xasprintf("#define _GNU_SOURCE\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                     "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n"
                     "static volatile int leak;\n%s\n"
                     "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
                     "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) { (void)self;\n"
                     "    if (leak) abort();\n"
                     "    c->u = fmsp_clamp(4 * fmsp_wrap_angle(atan2(o->state.ye - o->state.yp,"
                     " o->state.xe - o->state.xp) - o->state.theta), -1, 1); }\n"
                     "void fmsp_free(void *self) { (void)self; }\n",
                     prefix);
}

static char *compile_src(const char *src, int checked, const char *cache, FmspErr *e, char *err,
                         size_t errlen, char **diag)
{
    CompileConfig cc;
    compile_config_default(&cc);
    cc.unchecked = !checked;
    if (cache)
        snprintf(cc.cache_dir, sizeof cc.cache_dir, "%s", cache);
    CompileResult r;
    *e = compile_policy_source(&cc, src, strlen(src), "hostile.c", &r, err, errlen);
    char *obj = *e ? NULL : xstrdup(r.object_path);
    if (diag)
        *diag = r.diagnostics ? xstrdup(r.diagnostics) : NULL;
    compile_result_release(&r);
    return obj;
}

static char *evader_obj;

static MatchConfig small_match(int checked)
{
    return fixture_small_match(checked);
}

typedef struct LoadCase {
    const char *name;
    const char *prefix;
    FaultKind expect;   /* with the checks off */
    const char *detail; /* substring of the reason, or NULL */
} LoadCase;

static const LoadCase load_cases[] = {
    /* proof that load-time code does run here, so the cases below mean something */
    {"constructor_runs", "__attribute__((constructor)) static void ctor(void) { leak = 1; }\n",
     FAULT_CRASH, "Aborted"},
    {"constructor_writes_file",
     "__attribute__((constructor)) static void ctor(void) {\n"
     "  FILE *f = fopen(\"/tmp/fmsp-ctor-pwned\", \"w\"); if (f) { fputs(\"x\", f); fclose(f); } }\n",
     FAULT_LOAD, "forbidden system call"},
    {"constructor_reads_secrets",
     "extern char **environ;\n"
     "__attribute__((constructor)) static void ctor(void) {\n"
     "  const char *paths[] = {\"/proc/self/environ\", \"/proc/1/environ\", \"/etc/passwd\",\n"
     "                         \"/root/.bashrc\", \"/proc/self/maps\", \"/tmp\", \"/\"};\n"
     "  for (int i = 0; i < 7; i++) { int fd = open(paths[i], O_RDONLY);\n"
     "    if (fd >= 0) { char b[8]; if (read(fd, b, 8) > 0 || i < 6) leak = 1; close(fd); } }\n"
     "  if (environ && environ[0]) leak = 1; }\n",
     FAULT_NONE, NULL},
    {"constructor_socket",
     "__attribute__((constructor)) static void ctor(void) { leak = socket(AF_INET, SOCK_STREAM, 0) >= 0; }\n",
     FAULT_LOAD, "forbidden system call"},
    {"constructor_exec",
     "__attribute__((constructor)) static void ctor(void) {\n"
     "  char *argv[] = {\"/bin/sh\", \"-c\", \"touch /tmp/fmsp-ctor-pwned\", 0}; execv(\"/bin/sh\", argv); }\n",
     FAULT_LOAD, "forbidden system call"},
    {"constructor_loops",
     "__attribute__((constructor)) static void ctor(void) { for (volatile int i = 1; i; ) ; }\n",
     FAULT_LOAD, "CPU time"},
    {"constructor_sleeps_on_pipe",
     "__attribute__((constructor)) static void ctor(void) { char b[4]; if (read(3, b, 4)) leak = 1; }\n",
     FAULT_LOAD, "hung"},
    /* a forged "jail failed" greeting must not pass for an engine failure,
     * and load-time output must not become a reason */
    {"constructor_forges_greeting",
     "__attribute__((constructor)) static void ctor(void) {\n"
     "  printf(\"FORGED REASON " CANARY "\\n\"); fflush(stdout);\n"
     "  unsigned h[4] = {0x50534D46u, 2, 2, 1}; if (write(4, h, sizeof h)) leak = 1; }\n",
     FAULT_LOAD, "corrupted"},
    {"ifunc_resolver_socket",
     "static void impl(void) {}\n"
     "static void *resolve(void) { leak = socket(AF_INET, SOCK_STREAM, 0) >= 0; return (void *)impl; }\n"
     "static void f(void) __attribute__((ifunc(\"resolve\")));\n"
     "void (*volatile fptr)(void) = f;\n",
     FAULT_LOAD, "forbidden system call"},
    {"destructor_writes",
     "__attribute__((destructor)) static void dtor(void) {\n"
     "  FILE *f = fopen(\"/tmp/fmsp-ctor-pwned\", \"w\"); if (f) fclose(f); }\n",
     FAULT_NONE, NULL},
};

static void test_load_time_code(void)
{
    unlink("/tmp/fmsp-ctor-pwned");
    for (size_t i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
        const LoadCase *lc = &load_cases[i];
        char *prefixed = xasprintf("#include <unistd.h>\n#include <fcntl.h>\n#include <sys/socket.h>\n%s",
                                   lc->prefix);
        char *src = pursuer_with(prefixed);
        free(prefixed);
        for (int checked = 0; checked < 2; checked++) {
            char err[1024] = "";
            FmspErr ce;
            char *obj = compile_src(src, checked, NULL, &ce, err, sizeof err, NULL);
            if (checked) {
                /* every layer on: refused before any worker exists */
                CHECK_MSG(ce == FMSP_ERR_REFUSED, "%s: checked compile gave %d (%s)", lc->name, ce, err);
                free(obj);
                continue;
            }
            CHECK_MSG(obj != NULL, "%s did not compile: %s", lc->name, err);
            if (!obj)
                continue;
            MatchConfig m = small_match(0);
            MatchResult r;
            double t0 = util_now();
            FmspErr e = match_play(&m, obj, evader_obj, NULL, NULL, &r, err, sizeof err);
            CHECK_MSG(e == FMSP_OK, "%s: engine error %s", lc->name, err);
            CHECK_MSG(util_now() - t0 < 15, "%s took %.1f s", lc->name, util_now() - t0);
            for (int k = 0; e == FMSP_OK && k < r.n; k++) {
                const Fault *f = &r.episodes[k].fault[0];
                CHECK_MSG(f->kind == lc->expect, "%s episode %d: '%s' (%s)", lc->name, k,
                          fault_name(f->kind), f->detail);
                if (lc->detail)
                    CHECK_MSG(strstr(f->detail, lc->detail), "%s: '%s' lacks '%s'", lc->name,
                              f->detail, lc->detail);
                CHECK_MSG(!strstr(f->detail, "FORGED") && !strstr(f->detail, CANARY),
                          "%s: policy output in the reason: %s", lc->name, f->detail);
                CHECK(r.episodes[k].fault[1].kind == FAULT_NONE);
            }
            if (e == FMSP_OK)
                match_result_release(&r);
            free(obj);
        }
        free(src);
    }
    struct stat st;
    CHECK_MSG(stat("/tmp/fmsp-ctor-pwned", &st) != 0, "load-time code wrote a file");
}

/* Sources that make the compiler read files: nothing secret in the output. */
static void test_compiler_jail(void)
{
    char *environ_path = xasprintf("/proc/%d/environ", (int)getpid());
    const char *tricks[] = {
        "#line 1 \"/etc/passwd\"\nthis is a syntax error;\n",
        "#line 1 \"/etc/shadow\"\nthis is a syntax error;\n",
        "#line 1 \"/proc/self/environ\"\nthis is a syntax error;\n",
        "#include \"/etc/passwd\"\n",
        "#include \"/proc/self/environ\"\n",
        "#include \"/proc/1/environ\"\n",
        "__asm__(\".incbin \\\"/etc/passwd\\\"\");\nint x = ;\n",
        "#include \"/root/.bashrc\"\n",
        "#include \"../../../../etc/hostname\"\n",
    };
    for (size_t i = 0; i < sizeof tricks / sizeof tricks[0] + 2; i++) {
        char *src;
        if (i == sizeof tricks / sizeof tricks[0])
            src = xasprintf("#line 1 \"%s\"\nthis is a syntax error;\n", environ_path);
        else if (i == sizeof tricks / sizeof tricks[0] + 1)
            src = xasprintf("#include \"%s\"\n", environ_path);
        else
            src = xasprintf("%s", tricks[i]);
        char *full = xasprintf("#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n%s", src);
        char err[2048] = "";
        char *diag = NULL;
        FmspErr e;
        char *obj = compile_src(full, 0, NULL, &e, err, sizeof err, &diag);
        CHECK_MSG(e == FMSP_ERR_COMPILE, "case %zu: %d %s", i, e, err);
        const char *texts[2] = {err, diag ? diag : ""};
        for (int t = 0; t < 2; t++) {
            CHECK_MSG(!strstr(texts[t], CANARY), "case %zu leaked the canary: %s", i, texts[t]);
            CHECK_MSG(!strstr(texts[t], "root:x:0") && !strstr(texts[t], "root:*:") &&
                          !strstr(texts[t], "PATH="),
                      "case %zu leaked a file: %s", i, texts[t]);
        }
        free(obj);
        free(diag);
        free(src);
        free(full);
    }
    free(environ_path);
}

static void test_cache(void)
{
    struct stat stale;
    CHECK_MSG(stat("/tmp/fmsp-cc-stale-test", &stale) != 0, "a stale compile folder was not swept");
    char dir[] = "/tmp/fmsp-cache-test-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    /* an open cache folder of ours is made private */
    chmod(dir, 0777);
    char err[1024];
    FmspErr e;
    char *honest = pursuer_with("");
    char *obj = compile_src(honest, 1, dir, &e, err, sizeof err, NULL);
    CHECK_MSG(obj != NULL, "%s", err);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    if (obj) {
        CHECK(stat(obj, &st) == 0 && (st.st_mode & 0077) == 0);
        /* poison the cached object: the next load refuses it */
        char *evil_src = pursuer_with("__attribute__((constructor)) static void ctor(void) { leak = 1; }\n");
        char *evil = compile_src(evil_src, 0, NULL, &e, err, sizeof err, NULL);
        CHECK(evil != NULL);
        char *data;
        size_t len;
        if (evil && util_read_file(evil, 1 << 24, &data, &len, err, sizeof err) == FMSP_OK) {
            CHECK(util_write_file(obj, data, len, err, sizeof err) == FMSP_OK);
            free(data);
            /* the same source hits the cache and gets the poisoned object... */
            char *again = compile_src(honest, 1, dir, &e, err, sizeof err, NULL);
            CHECK(again && strcmp(again, obj) == 0);
            free(again);
            /* ...which the runner refuses on load */
            MatchConfig m = small_match(1);
            MatchResult r;
            CHECK(match_play(&m, obj, evader_obj, NULL, NULL, &r, err, sizeof err) == FMSP_OK);
            CHECK_INT(r.faults[0], m.episodes);
            if (r.n)
                CHECK_STR_HAS(r.episodes[0].fault[0].detail, "load-time code");
            match_result_release(&r);
        }
        free(evil);
        free(evil_src);
    }
    free(obj);
    /* a cache folder that belongs to someone else is refused */
    chown(dir, 4321, 4321);
    char *src2 = pursuer_with("static int unused_2;\n");
    char *obj2 = compile_src(src2, 1, dir, &e, err, sizeof err, NULL);
    CHECK(obj2 == NULL && e == FMSP_ERR_IO);
    CHECK_STR_HAS(err, "belongs to uid 4321");
    free(obj2);
    free(src2);
    chown(dir, getuid(), getgid());
    /* the cache stays under its cap */
    CompileConfig cc;
    compile_config_default(&cc);
    snprintf(cc.cache_dir, sizeof cc.cache_dir, "%s", dir);
    cc.cache_cap = 40000;
    for (int i = 0; i < 6; i++) {
        char *prefix = xasprintf("static int unused_%d;\n", 100 + i);
        char *s = pursuer_with(prefix);
        CompileResult r;
        CHECK(compile_policy_source(&cc, s, strlen(s), "p.c", &r, err, sizeof err) == FMSP_OK);
        compile_result_release(&r);
        free(s);
        free(prefix);
    }
    char *du = xasprintf("du -sb %s", dir);
    FILE *p = popen(du, "r");
    long bytes = -1;
    if (p) {
        if (fscanf(p, "%ld", &bytes) != 1)
            bytes = -1;
        pclose(p);
    }
    CHECK_MSG(bytes > 0 && bytes <= 40000 + 4096, "cache holds %ld bytes", bytes);
    free(du);
    free(honest);
    char *rm = xasprintf("rm -rf %s", dir);
    CHECK(system(rm) == 0);
    free(rm);
}

/* A policy that crashes in every episode: bounded work, then forfeits. */
static void test_amplification_bounded(void)
{
    char *src = pursuer_with("");
    char *crash = xasprintf("%s", src);
    char *at = strstr(crash, "if (leak) abort();");
    if (at)
        memcpy(at, "if (1   ) abort();", 18);
    char err[1024];
    FmspErr e;
    char *obj = compile_src(crash, 1, NULL, &e, err, sizeof err, NULL);
    CHECK_MSG(obj != NULL, "%s", err);
    if (obj) {
        MatchConfig m = small_match(1);
        m.episodes = 40;
        m.batch = 20;
        MatchResult r;
        double t0 = util_now();
        CHECK(match_play(&m, obj, evader_obj, NULL, NULL, &r, err, sizeof err) == FMSP_OK);
        double sec = util_now() - t0;
        CHECK_INT(r.faults[0], 40);
        CHECK_INT(r.faults[1], 0);
        CHECK(r.mean[1] == 1.0);
        int forfeited = 0, crashed = 0;
        for (int i = 0; i < r.n; i++) {
            forfeited += strstr(r.episodes[i].fault[0].detail, "forfeited") != NULL;
            crashed += strstr(r.episodes[i].fault[0].detail, "Aborted") != NULL;
        }
        /* two batch deaths, then one death per solo replay up to the cap */
        CHECK_MSG(crashed <= MATCH_MAX_DEATHS && forfeited == 40 - crashed, "crashed %d forfeited %d",
                  crashed, forfeited);
        CHECK_MSG(r.replays <= 40, "replays %d", r.replays);
        CHECK_MSG(sec < 10, "%.1f s", sec);
        match_result_release(&r);
    }
    free(obj);
    free(crash);
    free(src);
}

/* What honest policies do with the allowed headers plays without a fault:
 * libc functions that make system calls internally (qsort of a large array
 * asks sysinfo(), printf writes). */
static void test_honest_libc_calls(void)
{
    char *src = pursuer_with(
        "static int cmp_(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b;"
        " return (x > y) - (x < y); }\n"
        "static double work_(int step) { double v[2000]; for (int i = 0; i < 2000; i++) v[i] = (i * 7919) % 2000;"
        " qsort(v, 2000, sizeof v[0], cmp_); char b[64]; snprintf(b, sizeof b, \"%g %s\", v[3], strerror(2));"
        " if (step == 1) { printf(\"%s\\n\", b); fflush(stdout); }"
        " return v[0] + strlen(b) * 0; }\n");
    char *at = strstr(src, "if (leak) abort();");
    char *fixed = at ? xasprintf("%.*sif (work_(o->state.step) != 0) abort();%s", (int)(at - src), src,
                                 at + 18)
                     : NULL;
    char err[1024];
    FmspErr e;
    char *diag = NULL;
    char *obj = fixed ? compile_src(fixed, 1, NULL, &e, err, sizeof err, &diag) : NULL;
    CHECK_MSG(obj != NULL, "%s %s", err, diag ? diag : "");
    free(diag);
    if (obj) {
        MatchConfig m = small_match(1);
        MatchResult r;
        CHECK(match_play(&m, obj, evader_obj, NULL, NULL, &r, err, sizeof err) == FMSP_OK);
        CHECK_MSG(r.faults[0] == 0, "%s", r.n ? r.episodes[0].fault[0].detail : "");
        match_result_release(&r);
    }
    free(obj);
    free(fixed);
    free(src);
}

/* A policy whose static data cannot fit its memory limit is refused with
 * that reason before a worker starts (inside the loader no reason could be
 * trusted). */
static void test_oversized_image(void)
{
    char *src = pursuer_with("static char big_[400 << 20];\n"
                             "int touch_(int i) { big_[i] = 1; return big_[i / 2]; }\n");
    char err[1024];
    FmspErr e;
    char *obj = compile_src(src, 1, NULL, &e, err, sizeof err, NULL);
    CHECK_MSG(obj != NULL, "%s", err);
    if (obj) {
        MatchConfig m = small_match(1);
        MatchResult r;
        CHECK(match_play(&m, obj, evader_obj, NULL, NULL, &r, err, sizeof err) == FMSP_OK);
        CHECK_INT(r.faults[0], m.episodes);
        if (r.n) {
            CHECK(r.episodes[0].fault[0].kind == FAULT_LOAD);
            CHECK_STR_HAS(r.episodes[0].fault[0].detail, "static data");
        }
        match_result_release(&r);
    }
    free(obj);
    free(src);
}

/* A policy that stays under every per-call limit but spends its match's
 * CPU allowance forfeits the rest of the match. */
static void test_match_cpu_cap(void)
{
    char *src = pursuer_with("");
    char *slow = xasprintf("%s", src);
    char *at = strstr(slow, "if (leak) abort();");
    const char *spin = "for (volatile long i_ = 0; i_ < 10000000; i_++) ;";
    char *full = at ? xasprintf("%.*s%s%s", (int)(at - slow), slow, spin, at) : NULL;
    char err[1024];
    FmspErr e;
    char *obj = full ? compile_src(full, 1, NULL, &e, err, sizeof err, NULL) : NULL;
    CHECK_MSG(obj != NULL, "%s", err);
    if (obj) {
        MatchConfig m = small_match(1);
        m.episodes = 8;
        m.limits.match_cpu_s = 0.3;
        MatchResult r;
        CHECK(match_play(&m, obj, evader_obj, NULL, NULL, &r, err, sizeof err) == FMSP_OK);
        int forfeited = 0;
        for (int i = 0; i < r.n; i++)
            if (strstr(r.episodes[i].fault[0].detail, "forfeited: the policy used more than 0.3 s")) {
                forfeited++;
                CHECK(r.episodes[i].fault[0].kind == FAULT_TIMEOUT);
            }
        CHECK_MSG(forfeited == 4, "%d forfeited (steps of episode 0: %d, detail %s)", forfeited, r.n ? r.episodes[0].steps : -1, r.n ? r.episodes[7].fault[0].detail : "");
        for (int i = 0; i < 4 && i < r.n; i++)
            CHECK_MSG(r.episodes[i].fault[0].kind == FAULT_NONE, "episode %d: %s", i,
                      r.episodes[i].fault[0].detail);
        match_result_release(&r);
    }
    free(obj);
    free(full);
    free(slow);
    free(src);
}

/* The same deterministic evaluation, idle and beside CPU hogs. */
static void test_results_independent_of_load(void)
{
    const char *root = getenv("FMSP_ROOT") ? getenv("FMSP_ROOT") : ".";
    char *p_path = xasprintf("%s/policies/baselines/cartag/pursuer_lookahead.c", root);
    char *e_path = xasprintf("%s/policies/baselines/cartag/evader_lookahead.c", root);
    CompileConfig cc;
    compile_config_default(&cc);
    CompileResult pr, er;
    char err[1024];
    int ok = compile_policy_file(&cc, p_path, &pr, err, sizeof err) == FMSP_OK &&
             compile_policy_file(&cc, e_path, &er, err, sizeof err) == FMSP_OK;
    CHECK_MSG(ok, "%s", err);
    if (ok) {
        MatchConfig m;
        match_config_default(&m);
        m.episodes = 12;
        m.batch = 6;
        MatchResult idle, busy;
        CHECK(match_play(&m, pr.object_path, er.object_path, NULL, NULL, &idle, err, sizeof err) == FMSP_OK);
        pid_t hogs[4];
        for (int i = 0; i < 4; i++) {
            hogs[i] = fork();
            if (hogs[i] == 0) {
                alarm(120);
                for (volatile unsigned long x = 0;; x++)
                    ;
            }
        }
        CHECK(match_play(&m, pr.object_path, er.object_path, NULL, NULL, &busy, err, sizeof err) == FMSP_OK);
        for (int i = 0; i < 4; i++) {
            kill(hogs[i], SIGKILL);
            waitpid(hogs[i], NULL, 0);
        }
        CHECK(idle.n == busy.n);
        for (int i = 0; i < idle.n && i < busy.n; i++) {
            CHECK_MSG(idle.episodes[i].score[0] == busy.episodes[i].score[0] &&
                          idle.episodes[i].steps == busy.episodes[i].steps,
                      "episode %d: %g/%d idle, %g/%d busy (%s %s)", i, idle.episodes[i].score[0],
                      idle.episodes[i].steps, busy.episodes[i].score[0], busy.episodes[i].steps,
                      busy.episodes[i].fault[0].detail, busy.episodes[i].fault[1].detail);
        }
        CHECK_INT(busy.faults[0] + busy.faults[1], 0);
        match_result_release(&idle);
        match_result_release(&busy);
    }
    compile_result_release(&pr);
    compile_result_release(&er);
    free(p_path);
    free(e_path);
}

/* Runs a shell command, output appended to `log`; returns the exit code. */
static int sh(const char *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(const char *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *full = xasprintf("(%s) >>%s 2>&1", cmd, log);
    int status = system(full);
    free(cmd);
    free(full);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_run_with_hostile_model(void)
{
    char dir[] = "/tmp/fmsp-e2e-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    const char *build = getenv("FMSP_BUILD") ? getenv("FMSP_BUILD") : "build";
    char *log = xasprintf("%s/requests.log", dir);
    char *out = xasprintf("%s/output.txt", dir);
    setenv("MOCK_LOG", log, 1);
    pid_t server;
    int port = fixture_start_model_server(CANARY, &server);
    CHECK(port > 0);
    const char *root = getenv("FMSP_ROOT") ? getenv("FMSP_ROOT") : ".";
    int rc = sh(out,
                "cd %s && FMSP_CACHE=%s/cache %s/fmsp run --fm openai --base-url http://127.0.0.1:%d/v1 "
                "--model hostile --iterations 16 --in-flight 2 --episodes 4 --repairs 1 --quiet --db %s/run.db",
                root, dir, build, port, dir);
    CHECK_MSG(rc == 0, "fmsp run exited %d", rc);
    CHECK(sh(out, "cd %s && %s/fmsp show %s/run.db", root, build, dir) == 0);
    CHECK(sh(out, "cd %s && %s/fmsp export %s/run.db %s/export", root, build, dir, dir) == 0);
    /* honest answers in the rotation were evaluated and entered the archive */
    char *shown = NULL;
    size_t shown_len = 0;
    char err0[256];
    CHECK(util_read_file(out, 1 << 24, &shown, &shown_len, err0, sizeof err0) == FMSP_OK);
    const char *cands = shown ? strstr(shown, "candidates:") : NULL;
    CHECK_MSG(cands && strstr(cands, " ok "), "%s", shown ? shown : "");
    free(shown);
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    unsetenv("MOCK_LOG");
    /* the hostile answers were really asked for and handled */
    char *text = NULL;
    size_t len = 0;
    char err[256];
    CHECK(util_read_file(log, 1 << 26, &text, &len, err, sizeof err) == FMSP_OK);
    int requests = 0;
    for (const char *p = text; p && (p = strstr(p, "\"model\":\"hostile\"")); p++)
        requests++;
    CHECK_MSG(requests >= 16, "%d requests", requests);
    /* repair prompts quoted the refusals back to the model */
    CHECK(text && strstr(text, "not allowed"));
    free(text);
    /* the canary is nowhere: files written, request bodies, output */
    char *grep = xasprintf("grep -ral '%s' %s", CANARY, dir);
    FILE *p = popen(grep, "r");
    char found[512] = "";
    if (p) {
        if (!fgets(found, sizeof found, p))
            found[0] = 0;
        pclose(p);
    }
    CHECK_MSG(found[0] == 0, "the canary key is in %s", found);
    free(grep);
    char *rm = xasprintf("rm -rf %s", dir);
    CHECK(system(rm) == 0);
    free(rm);
    free(log);
    free(out);
}

/* A worker killed from outside (as the OOM killer would) is the engine's
 * problem: the match stops with that cause instead of charging the policy. */
static void test_outside_kill_is_engine_error(void)
{
    char *src = pursuer_with("");
    char *at = strstr(src, "if (leak) abort();");
    char *slow = at ? xasprintf("%.*sfor (volatile long i_ = 0; i_ < 20000000; i_++) ;%s", (int)(at - src),
                                src, at)
                    : NULL;
    char err[1024];
    FmspErr e;
    char *obj = slow ? compile_src(slow, 1, NULL, &e, err, sizeof err, NULL) : NULL;
    CHECK_MSG(obj != NULL, "%s", err);
    if (obj) {
        pid_t killer = fork();
        if (killer == 0) {
            usleep(700000);
            char *cmd = xasprintf("pkill -KILL -P %d -x fmsp-worker", (int)getppid());
            int rc = system(cmd);
            _exit(rc == 0 ? 0 : 1);
        }
        MatchConfig m = small_match(1);
        m.limits.step_cpu_s = 5;
        MatchResult r;
        e = match_play(&m, obj, evader_obj, NULL, NULL, &r, err, sizeof err);
        int status = 0;
        waitpid(killer, &status, 0);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the killer found no worker");
        CHECK_MSG(e == FMSP_ERR_SANDBOX, "match gave %d (%s)", e, err);
        CHECK_STR_HAS(err, "killed from outside the engine");
        if (e == FMSP_OK)
            match_result_release(&r);
    }
    free(obj);
    free(slow);
    free(src);
}

/* Workers and compiler jails die with the engine, whatever kills it. */
static void test_workers_die_with_engine(void)
{
    const char *build = getenv("FMSP_BUILD") ? getenv("FMSP_BUILD") : "build";
    const char *root = getenv("FMSP_ROOT") ? getenv("FMSP_ROOT") : ".";
    char dir[] = "/tmp/fmsp-k9-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    for (int trial = 0; trial < 3; trial++) {
        pid_t pid = fork();
        if (pid == 0) {
            char *db = xasprintf("%s/run%d.db", dir, trial);
            char *bin = xasprintf("%s/fmsp", build);
            if (chdir(root) != 0)
                _exit(127);
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execl(bin, bin, "run", "--iterations", "400", "--quiet", "--db", db, (char *)NULL);
            _exit(127);
        }
        usleep(1500000 + 400000 * trial);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        usleep(500000);
        /* anything of ours still running (zombies waiting for init are dead) */
        /* this build's workers and compiler jails (other fmsp builds on the
         * machine have their own) */
        FILE *p = popen("ps -eo stat=,args=", "r");
        char line[2048];
        int alive = 0;
        const char *worker = getenv("FMSP_WORKER");
        while (p && fgets(line, sizeof line, p)) {
            const char *args = strchr(line, ' ');
            while (args && *args == ' ')
                args++;
            if (line[0] == 'Z' || !args)
                continue;
            const char *inc = getenv("FMSP_INCLUDE");
            int ours = (worker && strncmp(args, worker, strlen(worker)) == 0 &&
                        args[strlen(worker)] == ' ') ||
                       (strncmp(args, "bwrap ", 6) == 0 && (!inc || strstr(args, inc)));
            if (ours) {
                alive++;
                fprintf(stderr, "  still running after kill -9: %s", line);
            }
        }
        if (p)
            pclose(p);
        CHECK_MSG(alive == 0, "trial %d: %d processes outlived the engine", trial, alive);
    }
    char *rm = xasprintf("rm -rf %s", dir);
    CHECK(system(rm) == 0);
    free(rm);
}

int main(void)
{
    setenv("OPENAI_API_KEY", CANARY, 1);
    setenv("FMSP_TEST_SECRET", CANARY, 1);
    /* the work folder of a compile killed mid-way, two hours ago: the first
     * compile of this process sweeps it (checked in test_cache) */
    if (system("mkdir -p /tmp/fmsp-cc-stale-test && touch /tmp/fmsp-cc-stale-test/policy.c && "
               "touch -d '2 hours ago' /tmp/fmsp-cc-stale-test") != 0)
        fprintf(stderr, "cannot make the stale folder\n");
    CompileConfig cc;
    compile_config_default(&cc);
    CompileResult r;
    char err[1024];
    if (compile_policy_source(&cc, fixture_honest_evader, strlen(fixture_honest_evader), "honest.c", &r, err, sizeof err)) {
        fprintf(stderr, "honest evader did not compile: %s\n", err);
        return 1;
    }
    evader_obj = xstrdup(r.object_path);
    compile_result_release(&r);
    RUN(test_load_time_code);
    RUN(test_compiler_jail);
    RUN(test_cache);
    RUN(test_amplification_bounded);
    RUN(test_match_cpu_cap);
    RUN(test_oversized_image);
    RUN(test_honest_libc_calls);
    RUN(test_results_independent_of_load);
    RUN(test_run_with_hostile_model);
    RUN(test_workers_die_with_engine);
    RUN(test_outside_kill_is_engine_error);
    free(evader_obj);
    return harness_done("test_containment");
}
