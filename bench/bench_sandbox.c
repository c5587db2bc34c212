/*
 * bench_sandbox.c - the price of safety, in CPU time, side by side.
 *
 * 1. Three workloads played in-process (dlopen, no isolation) and sandboxed
 *    (a jailed worker per policy per match), one thread each: trivial
 *    policies (pure pursuit against flee: a few floating-point operations
 *    per act, so the process round trip dominates), lookahead policies (each
 *    act simulates ahead with fmsp_step), and the baselines' whole cross-play
 *    tournament. CPU time is the referee's plus every worker's (getrusage of
 *    self and of reaped children): the machine may be busy, so wall-clock
 *    ratios are printed too but mean less. Each figure is the best of five
 *    alternating runs.
 * 2. The floor under any process isolation: a bare pipe round trip between
 *    two processes (no sandbox, no policy), on any two CPUs and on one.
 * 3. Worker start: runner_new + runner_free of one policy, repeated.
 * 4. Compile: the jailed compiler against the same gcc command run bare.
 * usage: bench_sandbox [POLICY_DIR] (default policies/baselines/cartag)
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "match/tournament.h"

static double cpu_now(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return (double)self.ru_utime.tv_sec + self.ru_utime.tv_usec * 1e-6 + (double)self.ru_stime.tv_sec +
           self.ru_stime.tv_usec * 1e-6 + (double)kids.ru_utime.tv_sec + kids.ru_utime.tv_usec * 1e-6 +
           (double)kids.ru_stime.tv_sec + kids.ru_stime.tv_usec * 1e-6;
}

static char *compiled(const char *dir, const char *name)
{
    CompileConfig cc;
    compile_config_default(&cc);
    char *path = xasprintf("%s/%s.c", dir, name);
    CompileResult r;
    char err[1024];
    if (compile_policy_file(&cc, path, &r, err, sizeof err)) {
        fprintf(stderr, "bench_sandbox: %s\n", err);
        exit(1);
    }
    char *obj = xstrdup(r.object_path);
    compile_result_release(&r);
    free(path);
    return obj;
}

/* Plays one pairing (or, with p == NULL, the whole tournament of dir). */
static void play(const char *dir, const char *p, const char *e, RunnerMode mode, int episodes,
                 double *cpu, double *wall, long *steps)
{
    MatchConfig m;
    match_config_default(&m);
    m.mode = mode;
    m.episodes = episodes;
    char err[512];
    double c0 = cpu_now(), w0 = util_now();
    *steps = 0;
    if (p) {
        MatchResult r;
        if (match_play(&m, p, e, NULL, NULL, &r, err, sizeof err)) {
            fprintf(stderr, "bench_sandbox: %s\n", err);
            exit(1);
        }
        for (int i = 0; i < r.n; i++)
            *steps += r.episodes[i].steps;
        match_result_release(&r);
    } else {
        CompileConfig cc;
        compile_config_default(&cc);
        Tournament t;
        tournament_init(&t, &m);
        char *diag = NULL;
        if (tournament_add_path(&t, &cc, dir, &diag, err, sizeof err) ||
            tournament_run(&t, 1, NULL, NULL, err, sizeof err)) {
            fprintf(stderr, "bench_sandbox: %s\n", err);
            exit(1);
        }
        free(diag);
        for (int i = 0; i < t.n_pursuers * t.n_evaders; i++)
            for (int k = 0; k < t.results[i].n; k++)
                *steps += t.results[i].episodes[k].steps;
        tournament_release(&t);
    }
    *cpu = cpu_now() - c0;
    *wall = util_now() - w0;
}

/* CPU microseconds per round trip of a request the size of a 20-episode
 * ACT between two processes; same_cpu pins both to the current CPU. */
static double pipe_round_trip_us(int same_cpu)
{
    int req[2], rep[2];
    if (pipe(req) || pipe(rep))
        return -1;
    cpu_set_t old, one;
    sched_getaffinity(0, sizeof old, &old);
    if (same_cpu) {
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu(), &one);
        sched_setaffinity(0, sizeof one, &one);
    }
    int n = 20000;
    char buf[2048] = {0};
    double c0 = cpu_now();
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < n; i++)
            if (read(req[0], buf, 1700) <= 0 || write(rep[1], buf, 640) != 640)
                _exit(1);
        _exit(0);
    }
    for (int i = 0; i < n; i++)
        if (write(req[1], buf, 1700) != 1700 || read(rep[0], buf, 640) <= 0)
            break;
    waitpid(pid, NULL, 0);
    double us = (cpu_now() - c0) / n * 1e6;
    sched_setaffinity(0, sizeof old, &old);
    close(req[0]);
    close(req[1]);
    close(rep[0]);
    close(rep[1]);
    return us;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "policies/baselines/cartag";
    char *pp = compiled(dir, "pursuer_pure_pursuit"), *ef = compiled(dir, "evader_flee");
    char *pl = compiled(dir, "pursuer_lookahead"), *el = compiled(dir, "evader_lookahead");
    struct {
        const char *name, *p, *e;
        int episodes;
    } loads[] = {{"trivial (pure_pursuit vs flee)", pp, ef, 200},
                 {"lookahead (lookahead vs lookahead)", pl, el, 20},
                 {"baseline tournament (5 x 6)", NULL, NULL, 20}};
    for (int i = 0; i < 3; i++) {
        double ci, wi, cs, ws;
        long si, ss;
        /* best of 5 alternating runs of each: the least disturbed by the machine */
        ci = wi = cs = ws = 1e30;
        for (int rep = 0; rep < 5; rep++) {
            double c, w;
            play(dir, loads[i].p, loads[i].e, RUNNER_INPROC, loads[i].episodes, &c, &w, &si);
            ci = c < ci ? c : ci;
            wi = w < wi ? w : wi;
            play(dir, loads[i].p, loads[i].e, RUNNER_SANDBOX, loads[i].episodes, &c, &w, &ss);
            cs = c < cs ? c : cs;
            ws = w < ws ? w : ws;
        }
        printf("bench_sandbox: %-36s %8ld steps: CPU in-process %.3f s, sandboxed %.3f s: "
               "%.2fx (%.2f vs %.2f us/step); wall %.2fx\n",
               loads[i].name, ss, ci, cs, cs / ci, ci / si * 1e6, cs / ss * 1e6, ws / wi);
    }

    printf("bench_sandbox: floor: a bare pipe round trip between two processes costs %.1f us of CPU "
           "(%.1f us when both share one CPU); a lockstep step needs one per side\n",
           pipe_round_trip_us(0), pipe_round_trip_us(1));

    /* worker start */
    int starts = 100;
    double c0 = cpu_now(), w0 = util_now();
    for (int i = 0; i < starts; i++) {
        Runner *r;
        char err[512];
        if (runner_new(RUNNER_SANDBOX, pp, FMSP_PURSUER, NULL, &r, err, sizeof err)) {
            fprintf(stderr, "bench_sandbox: %s\n", err);
            return 1;
        }
        runner_free(r);
    }
    printf("bench_sandbox: worker start: %.2f ms wall, %.2f ms CPU (mean of %d)\n",
           (util_now() - w0) / starts * 1e3, (cpu_now() - c0) / starts * 1e3, starts);

    /* compile: jailed vs bare, same flags, fresh caches */
    char tmpl[] = "/tmp/fmsp-bench-cc-XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    CompileConfig cc;
    compile_config_default(&cc);
    char **files;
    int nf;
    char err[512];
    if (util_list_c_files(dir, &files, &nf, err, sizeof err) || nf == 0)
        return 1;
    double jailed = 0, bare = 0;
    for (int round = 0; round < 3; round++) {
        snprintf(cc.cache_dir, sizeof cc.cache_dir, "%s/c%d", tmpl, round);
        double t0 = util_now();
        for (int i = 0; i < nf; i++) {
            CompileResult r;
            if (compile_policy_file(&cc, files[i], &r, err, sizeof err))
                fprintf(stderr, "bench_sandbox: %s\n", err);
            compile_result_release(&r);
        }
        jailed += util_now() - t0;
        t0 = util_now();
        for (int i = 0; i < nf; i++) {
            char *cmd = xasprintf("gcc -std=gnu11 -O2 -fPIC -shared -nostartfiles -fno-asm "
                                  "-Werror=implicit-function-declaration -Wall -pipe -I%s -o %s/bare.so %s -lm",
                                  cc.include_dir, tmpl, files[i]);
            if (system(cmd) != 0)
                fprintf(stderr, "bench_sandbox: bare gcc failed on %s\n", files[i]);
            free(cmd);
        }
        bare += util_now() - t0;
    }
    printf("bench_sandbox: compile per policy: jailed %.1f ms, bare gcc %.1f ms: %.2fx (%d policies x 3)\n",
           jailed / (3 * nf) * 1e3, bare / (3 * nf) * 1e3, jailed / bare, nf);
    for (int i = 0; i < nf; i++)
        free(files[i]);
    free(files);
    char *rm = xasprintf("rm -rf %s", tmpl);
    if (system(rm) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpl);
    free(rm);
    free(pp);
    free(ef);
    free(pl);
    free(el);
    return 0;
}
