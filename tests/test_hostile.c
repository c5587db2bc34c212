/*
 * test_hostile.c - a battery of hostile policies against the sandbox.
 *
 * Each hostile policy goes through the real compile path (jailed compiler,
 * cache) with the early checks switched off (CompileConfig.unchecked: no
 * source scanner; RunnerLimits.unchecked_objects: no object check on load),
 * so that the jails alone must contain it: no single layer is the boundary.
 * It then plays a 4-episode match (one lockstep batch) against an honest
 * opponent through the full referee. Every hostile episode must end with the
 * expected, specific fault; the honest side must score 1 in it with no fault
 * of its own; the test process must survive; and nothing may leak (files,
 * environment). The same sources then go through the path with every check
 * on: each must be refused early or contained the same way. A tournament
 * mixes hostile and honest policies and checks the honest pairing's result
 * is the same as when played alone. Load-time code, the compiler jail, the
 * cache and amplification have their own tests below.
 */
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "domains/cartag/cartag.h"
#include "fixtures.h"
#include "harness.h"
#include "match/tournament.h"
#include "sandbox/compile.h"

static char tmp[128];

typedef struct Hostile {
    const char *name;
    FaultKind expect;       /* FAULT_NONE: must play without fault */
    const char *detail;     /* substring of the fault detail, or NULL */
    const char *includes;   /* extra includes */
    const char *create;     /* body of fmsp_create (returns NULL after) */
    const char *act;        /* body of fmsp_act, before the honest control */
} Hostile;

#define H(name, kind, detail, inc, create, act) {name, kind, detail, inc, create, act}

static const Hostile battery[] = {
    H("loop_in_create", FAULT_TIMEOUT, "fmsp_create", "", "for (volatile int i = 1; i; ) ;", ""),
    H("loop_in_act", FAULT_TIMEOUT, "fmsp_act", "", "", "for (volatile int i = 1; i; ) ;"),
    H("fork_bomb", FAULT_SYSCALL, "forbidden system call", "#include <unistd.h>\n", "",
      "for (;;) fork();"),
    H("memory_bomb", FAULT_MEMORY, "out of memory", "#include <stdlib.h>\n#include <string.h>\n", "",
      "for (;;) { char *p = malloc(1 << 20); memset(p, 1, 1 << 20); }"),
    H("stack_overflow", FAULT_CRASH, "Segmentation", "", "",
      "volatile char buf[4096]; buf[0] = 1; fmsp_act(self, o, c); c->u += buf[0];"),
    H("segfault", FAULT_CRASH, "Segmentation", "", "", "*(volatile int *)8 = 1;"),
    H("abort", FAULT_CRASH, "Aborted", "#include <stdlib.h>\n", "", "abort();"),
    H("exit", FAULT_EXIT, "status 3", "#include <stdlib.h>\n", "", "exit(3);"),
    H("sleep", FAULT_SYSCALL, "forbidden system call", "#include <unistd.h>\n", "", "sleep(100);"),
    H("file_read", FAULT_SYSCALL, "forbidden system call", "#include <stdio.h>\n", "",
      "FILE *f = fopen(\"/etc/passwd\", \"r\"); if (f) { char b[64]; if (fgets(b, 64, f)) c->u = b[0]; }"),
    H("file_write", FAULT_SYSCALL, "forbidden system call", "#include <stdio.h>\n", "",
      "FILE *f = fopen(\"/tmp/fmsp-hostile-pwned\", \"w\"); if (f) { fputs(\"x\", f); fclose(f); }"),
    H("socket", FAULT_SYSCALL, "forbidden system call", "#include <sys/socket.h>\n#include <netinet/in.h>\n", "",
      "int s = socket(AF_INET, SOCK_STREAM, 0); struct sockaddr_in a = {0}; a.sin_family = AF_INET;"
      " a.sin_port = htons(80); connect(s, (struct sockaddr *)&a, sizeof a);"),
    H("exec", FAULT_SYSCALL, "forbidden system call", "#include <unistd.h>\n", "",
      "char *argv[] = {\"/bin/sh\", \"-c\", \"touch /tmp/fmsp-hostile-pwned\", 0}; execv(\"/bin/sh\", argv);"),
    H("kill_parent", FAULT_SYSCALL, "forbidden system call", "#include <signal.h>\n#include <unistd.h>\n", "",
      "kill(getppid(), SIGKILL); kill(1, SIGKILL);"),
    H("ptrace", FAULT_SYSCALL, "forbidden system call", "#include <sys/ptrace.h>\n#include <unistd.h>\n", "",
      "ptrace(PTRACE_ATTACH, (pid_t)PARENT_PID, 0, 0);"),
    H("read_opponent_memory", FAULT_SYSCALL, "forbidden system call", "#define _GNU_SOURCE\n#include <sys/uio.h>\n#include <unistd.h>\n", "",
      "char b[8]; struct iovec l = {b, 8}, r = {(void *)0x400000, 8};"
      " process_vm_readv(getppid(), &l, 1, &r, 1, 0);"),
    H("proc_environ", FAULT_SYSCALL, "forbidden system call", "#include <stdio.h>\n#include <unistd.h>\n", "",
      "char p[64]; snprintf(p, 64, \"/proc/%d/environ\", PARENT_PID); FILE *f = fopen(p, \"r\");"
      " if (f) c->u = fgetc(f);"),
    H("corrupt_protocol", FAULT_PROTOCOL, "protocol", "#include <unistd.h>\n", "",
      "static const char junk[64] = \"garbage garbage garbage\"; ssize_t w = write(4, junk, 64); (void)w;"),
    H("read_command_pipe", FAULT_TIMEOUT, "hung", "#include <unistd.h>\n", "",
      "char b[16]; ssize_t r = read(3, b, sizeof b); (void)r;"),
    H("output_flood", FAULT_OUTPUT, "output", "#include <stdio.h>\n", "",
      "for (;;) printf(\"flood flood flood flood flood flood flood flood\\n\");"),
    H("nan_control", FAULT_NONFINITE, "non-finite", "", "", "c->u = NAN; c->vx = NAN; return;"),
    H("inf_control", FAULT_NONFINITE, "non-finite", "", "", "c->u = INFINITY; c->vx = -INFINITY; return;"),
    H("thread", FAULT_SYSCALL, "forbidden system call", "#include <pthread.h>\n",
      "", "pthread_t t; pthread_create(&t, 0, (void *(*)(void *))0, 0);"),
    H("env_keys", FAULT_NONE, NULL, "#include <stdlib.h>\n#include <unistd.h>\nextern char **environ;\n", "",
      "if (getenv(\"OPENAI_API_KEY\") || getenv(\"FMSP_TEST_SECRET\") || (environ && environ[0])) abort();"),
    H("swallow_segv", FAULT_TIMEOUT, NULL, "#include <signal.h>\n", "",
      "signal(SIGSEGV, SIG_IGN); for (volatile int i = 1; i; ) ;"),
    H("stat_absolute", FAULT_SYSCALL, "forbidden system call", "#include <sys/stat.h>\n", "",
      "struct stat st; if (stat(\"/etc/passwd\", &st) == 0) c->u = (double)st.st_size;"),
    /* a handler for the signal seccomp would send does not help: it kills */
    H("catch_sigsys", FAULT_SYSCALL, "forbidden system call",
      "#include <signal.h>\n#include <unistd.h>\nstatic void h(int s) { (void)s; }\n", "",
      "signal(SIGSYS, h); sigset_t m; sigemptyset(&m); sigaddset(&m, SIGSYS);"
      " sigprocmask(SIG_BLOCK, &m, 0); (void)getppid();"),
    /* a handler for the CPU-limit signal does not help either */
    H("catch_sigxcpu", FAULT_TIMEOUT, "CPU time",
      "#include <signal.h>\nstatic void h(int s) { (void)s; }\n", "",
      "signal(SIGXCPU, h); for (volatile int i = 1; i; ) ;"),
    /* forging the worker's replies or raising SIGSYS itself changes nothing */
    H("raise_sigsys", FAULT_SYSCALL, "forbidden system call", "#include <signal.h>\n", "",
      "raise(SIGSYS);"),
    /* TARGET is the first draw of episode 2's policy RNG (filled in below) */
    H("crash_episode_2", FAULT_CRASH, "Segmentation", "",
      "{ FmspRng q = *r; if (fmsp_rng_u64(&q) == TARGET) return (void *)1; }",
      "if (self && o->state.step == 5) *(volatile int *)8 = 1;"),
    /* only episode 2 is slow: only episode 2 may be charged */
    H("slow_episode_2", FAULT_TIMEOUT, "CPU time", "",
      "{ FmspRng q = *r; if (fmsp_rng_u64(&q) == TARGET) return (void *)1; }",
      "if (self && o->state.step == 5) for (volatile int i = 1; i; ) ;"),
};

static MatchConfig small_match(void)
{
    return fixture_small_match(0);
}

/* The hostile source for `side`. */
static char *hostile_source(const Hostile *h, int side)
{
    const char *honest_body =
        side == FMSP_PURSUER
            ? "c->u = fmsp_clamp(4 * fmsp_wrap_angle(atan2(o->state.ye - o->state.yp, o->state.xe - "
              "o->state.xp) - o->state.theta), -1, 1);"
            : "{ double dx = o->state.xe - o->state.xp, dy = o->state.ye - o->state.yp, d = "
              "sqrt(dx*dx + dy*dy) + 1e-9; c->vx = dx / d; c->vy = dy / d; }";
    MatchConfig m = small_match();
    FmspRng q;
    fmsp_rng_seed(&q, cartag_policy_seed(cartag_episode_seed(m.seed, 2), side));
    char *defs = xasprintf("#define PARENT_PID %d\n#define TARGET %lluULL\n", (int)getpid(),
                           (unsigned long long)fmsp_rng_u64(&q));
    char *src = xasprintf("%s%s#include \"fmsp_policy.h\"\n"
                          "FMSP_SIDE(%s);\n"
                          "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; %s return 0; }\n"
                          "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) { (void)self; %s %s }\n"
                          "void fmsp_free(void *self) { (void)self; }\n",
                          defs, h->includes, side == FMSP_PURSUER ? "FMSP_PURSUER" : "FMSP_EVADER", h->create,
                          h->act, honest_body);
    free(defs);
    return src;
}

/* Compiles src through the real path (jailed compiler, cache); checked = 0
 * switches the scanner and the object check off. Returns the cached object
 * (heap) or NULL with *e and err set. */
static char *compile_src(const char *src, int checked, FmspErr *e, char *err, size_t errlen)
{
    CompileConfig cc;
    compile_config_default(&cc);
    cc.unchecked = !checked;
    CompileResult r;
    *e = compile_policy_source(&cc, src, strlen(src), "hostile.c", &r, err, errlen);
    char *obj = *e ? NULL : xstrdup(r.object_path);
    compile_result_release(&r);
    return obj;
}

static char *build_hostile(const Hostile *h, int side)
{
    char *src = hostile_source(h, side);
    char err[1024];
    FmspErr e;
    char *obj = compile_src(src, 0, &e, err, sizeof err);
    if (!obj)
        fprintf(stderr, "%s did not compile: %s\n", h->name, err);
    free(src);
    return obj;
}

static char *build_honest(int side)
{
    CompileConfig cc;
    compile_config_default(&cc);
    CompileResult r;
    char err[512];
    const char *src = side == FMSP_PURSUER ? fixture_honest_pursuer : fixture_honest_evader;
    if (compile_policy_source(&cc, src, strlen(src), "honest.c", &r, err, sizeof err)) {
        fprintf(stderr, "honest policy did not compile: %s\n", err);
        compile_result_release(&r);
        return NULL;
    }
    char *p = xstrdup(r.object_path);
    compile_result_release(&r);
    return p;
}

static char *honest_obj[3];

static void run_one(const Hostile *h, int side)
{
    char *obj = build_hostile(h, side);
    CHECK_MSG(obj != NULL, "%s did not build", h->name);
    if (!obj)
        return;
    MatchConfig m = small_match();
    if (strcmp(h->name, "memory_bomb") == 0)
        m.limits.step_cpu_s = 3.0; /* let it reach the memory limit first */
    MatchResult r;
    char err[512] = "";
    const char *p = side == FMSP_PURSUER ? obj : honest_obj[FMSP_PURSUER];
    const char *e = side == FMSP_PURSUER ? honest_obj[FMSP_EVADER] : obj;
    double t0 = util_now();
    FmspErr fe = match_play(&m, p, e, NULL, NULL, &r, err, sizeof err);
    double sec = util_now() - t0;
    CHECK_MSG(fe == FMSP_OK, "%s: engine error %s", h->name, err);
    if (fe) {
        free(obj);
        return;
    }
    int is_episode_fault = strstr(h->name, "_episode_2") != NULL;
    for (int i = 0; i < r.n; i++) {
        const EpisodeResult *ep = &r.episodes[i];
        const Fault *mine = side == FMSP_PURSUER ? &ep->fault[0] : &ep->fault[1];
        const Fault *theirs = side == FMSP_PURSUER ? &ep->fault[1] : &ep->fault[0];
        double their_score = side == FMSP_PURSUER ? ep->score[1] : ep->score[0];
        FaultKind want = is_episode_fault && i != 2 ? FAULT_NONE : h->expect;
        CHECK_MSG(mine->kind == want, "%s (side %d) episode %d: fault '%s' (%s), want '%s'", h->name,
                  side, i, fault_name(mine->kind), mine->detail, fault_name(want));
        if (want != FAULT_NONE && h->detail)
            CHECK_MSG(strstr(mine->detail, h->detail) != NULL, "%s: detail '%s' lacks '%s'", h->name,
                      mine->detail, h->detail);
        CHECK_MSG(theirs->kind == FAULT_NONE, "%s: the honest side faulted: %s", h->name,
                  theirs->detail);
        if (want != FAULT_NONE)
            CHECK_MSG(their_score == 1.0, "%s: honest side scored %g", h->name, their_score);
    }
    CHECK_MSG(sec < 20, "%s took %.1f s", h->name, sec);
    match_result_release(&r);
    free(obj);
}

static void test_battery(void)
{
    setenv("OPENAI_API_KEY", "sk-test-secret-do-not-leak", 1);
    setenv("FMSP_TEST_SECRET", "hunter2", 1);
    unlink("/tmp/fmsp-hostile-pwned");
    int n = (int)(sizeof battery / sizeof battery[0]);
    CHECK(n >= 20);
    /* each attack counts as its own test */
    int outer_failed = harness_current_failed;
    for (int i = 0; i < n; i++) {
        harness_current = battery[i].name;
        harness_current_failed = 0;
        run_one(&battery[i], FMSP_PURSUER);
        /* the evader variant too for a representative subset */
        if (i % 3 == 0)
            run_one(&battery[i], FMSP_EVADER);
        if (harness_current_failed)
            harness_failed++;
        else
            harness_passed++;
    }
    harness_current = "test_battery";
    harness_current_failed = outer_failed;
    struct stat st;
    CHECK_MSG(stat("/tmp/fmsp-hostile-pwned", &st) != 0, "a hostile policy wrote a file");
    CHECK(kill(getpid(), 0) == 0); /* still alive */
}

/* The honest pairing gives the same result whatever else plays around it. */
static void test_honest_results_unaffected(void)
{
    MatchConfig m = small_match();
    m.episodes = 8;
    m.batch = 8;
    MatchResult alone, again;
    char err[256];
    CHECK(match_play(&m, honest_obj[1], honest_obj[2], NULL, NULL, &alone, err, sizeof err) == FMSP_OK);
    char *bomb = build_hostile(&battery[3], FMSP_PURSUER); /* memory bomb */
    MatchResult hostile;
    if (bomb) {
        CHECK(match_play(&m, bomb, honest_obj[2], NULL, NULL, &hostile, err, sizeof err) == FMSP_OK);
        match_result_release(&hostile);
        free(bomb);
    }
    CHECK(match_play(&m, honest_obj[1], honest_obj[2], NULL, NULL, &again, err, sizeof err) == FMSP_OK);
    CHECK(alone.n == again.n);
    for (int i = 0; i < alone.n && i < again.n; i++) {
        CHECK(alone.episodes[i].steps == again.episodes[i].steps);
        CHECK(alone.episodes[i].score[0] == again.episodes[i].score[0]);
    }
    match_result_release(&alone);
    match_result_release(&again);
}

/* A tournament mixing hostile and honest policies finishes, and the honest
 * pairing's result is exactly what it is when played alone. */
static void test_mixed_tournament(void)
{
    MatchConfig m = small_match();
    MatchResult alone;
    char err[256];
    CHECK(match_play(&m, honest_obj[1], honest_obj[2], NULL, NULL, &alone, err, sizeof err) == FMSP_OK);
    char *seg = build_hostile(&battery[5], FMSP_PURSUER);  /* segfault */
    char *loop = build_hostile(&battery[1], FMSP_EVADER);  /* infinite loop in act */
    char *flood = build_hostile(&battery[19], FMSP_EVADER); /* output flood */
    if (!seg || !loop || !flood) {
        CHECK(0);
        return;
    }
    Tournament t;
    tournament_init(&t, &m);
    tournament_add_object(&t, "segfault", FMSP_PURSUER, seg);
    tournament_add_object(&t, "honest", FMSP_PURSUER, honest_obj[1]);
    tournament_add_object(&t, "loop", FMSP_EVADER, loop);
    tournament_add_object(&t, "honest", FMSP_EVADER, honest_obj[2]);
    tournament_add_object(&t, "flood", FMSP_EVADER, flood);
    CHECK(tournament_run(&t, 2, NULL, NULL, err, sizeof err) == FMSP_OK);
    if (t.results) {
        /* honest pursuer (row 1) vs honest evader (column 1) */
        const MatchResult *r = &t.results[1 * t.n_evaders + 1];
        CHECK(r->mean[0] == alone.mean[0]);
        CHECK(r->faults[0] == 0 && r->faults[1] == 0);
        /* the honest pursuer beats both hostile evaders completely */
        CHECK(t.results[1 * t.n_evaders + 0].mean[0] == 1.0);
        CHECK(t.results[1 * t.n_evaders + 2].mean[0] == 1.0);
        /* the segfaulting pursuer loses everything, and is charged for it */
        CHECK(t.results[0 * t.n_evaders + 1].mean[1] == 1.0);
        CHECK_INT(t.results[0 * t.n_evaders + 1].faults[0], m.episodes);
    }
    tournament_release(&t);
    match_result_release(&alone);
    free(seg);
    free(loop);
    free(flood);
}

/* Compile-time defences: refused before the compiler runs, or stopped. */
static void test_compile_time_attacks(void)
{
    CompileConfig cc;
    compile_config_default(&cc);
    const char *refused[] = {
        "#include \"/etc/passwd\"\nFMSP_SIDE(FMSP_PURSUER);\n",
        "#include \"/dev/zero\"\nFMSP_SIDE(FMSP_PURSUER);\n",
        "#include <unistd.h>\nFMSP_SIDE(FMSP_PURSUER);\n",
        "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\nasm(\".incbin \\\"/etc/passwd\\\"\");\n",
        "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n__attribute__((constructor)) static void f(void) {}\n",
        "#include \"fmsp_policy.h\"\n#pragma GCC dependency \"/etc/passwd\"\nFMSP_SIDE(FMSP_PURSUER);\n",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CompileResult r;
        char err[1024] = "";
        double t0 = util_now();
        FmspErr e = compile_policy_source(&cc, refused[i], strlen(refused[i]), "evil.c", &r, err, sizeof err);
        CHECK_MSG(e == FMSP_ERR_REFUSED, "case %zu: %d %s", i, e, err);
        CHECK(util_now() - t0 < 1.0);
        CHECK_MSG(!strstr(err, "root:x:0") && (!r.diagnostics || !strstr(r.diagnostics, "root:x:0")),
                  "case %zu leaked /etc/passwd", i);
        compile_result_release(&r);
    }
    /* a compile-time bomb: exponential macro expansion */
    const char *bomb =
        "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n"
        "#define A(x) x+x+x+x+x+x+x+x\n#define B(x) A(A(x))\n#define C(x) B(B(x))\n#define D(x) C(C(x))\n"
        "static int v[] = { D(1) };\n"
        "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return v; }\n"
        "void fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; (void)o; (void)c; }\n"
        "void fmsp_free(void *s) { (void)s; }\n";
    cc.time_limit_s = 3;
    cc.mem_bytes = (size_t)512 << 20;
    CompileResult r;
    char err[1024] = "";
    double t0 = util_now();
    FmspErr e = compile_policy_source(&cc, bomb, strlen(bomb), "bomb.c", &r, err, sizeof err);
    CHECK_MSG(e == FMSP_ERR_LIMIT, "bomb: %d %s", e, err);
    CHECK(util_now() - t0 < 10);
    compile_result_release(&r);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/fmsp-hostile-XXXXXX");
    if (!mkdtemp(tmp))
        return 1;
    honest_obj[FMSP_PURSUER] = build_honest(FMSP_PURSUER);
    honest_obj[FMSP_EVADER] = build_honest(FMSP_EVADER);
    if (!honest_obj[1] || !honest_obj[2])
        return 1;
    RUN(test_battery);
    RUN(test_honest_results_unaffected);
    RUN(test_mixed_tournament);
    RUN(test_compile_time_attacks);
    char *cmd = xasprintf("rm -rf %s", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmp);
    free(cmd);
    return harness_done("test_hostile");
}
