/*
 * bench_tournament.c - the price of safety and the cost of compiling.
 *
 * 1. The baselines' full cross-play tournament, sandboxed (one worker
 *    process per policy per match, seccomp, lockstep batches) and in-process
 *    (dlopen, no isolation), on one thread each so the ratio is not muddied
 *    by scheduling: episodes per second and the ratio.
 * 2. The sandboxed tournament at batch sizes 1 and 20: what lockstep
 *    batching saves.
 * 3. Compile time per policy: cold (the compiler runs) and cached.
 * usage: bench_tournament [POLICY_DIR] (default policies/baselines/cartag)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/util.h"
#include "match/tournament.h"

static double run(const char *dir, RunnerMode mode, int batch, int episodes, int *n_eps)
{
    MatchConfig m;
    match_config_default(&m);
    m.mode = mode;
    m.episodes = episodes;
    m.batch = batch;
    CompileConfig cc;
    compile_config_default(&cc);
    Tournament t;
    tournament_init(&t, &m);
    char err[512];
    char *diag = NULL;
    if (tournament_add_path(&t, &cc, dir, &diag, err, sizeof err)) {
        fprintf(stderr, "bench_tournament: %s\n", err);
        exit(1);
    }
    free(diag);
    if (tournament_run(&t, 1, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "bench_tournament: %s\n", err);
        exit(1);
    }
    double sec = t.seconds;
    *n_eps = t.n_pursuers * t.n_evaders * episodes;
    tournament_release(&t);
    return sec;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "policies/baselines/cartag";
    int n;
    run(dir, RUNNER_SANDBOX, 20, 2, &n); /* warm the compile cache */
    double in = run(dir, RUNNER_INPROC, 20, 20, &n);
    double sb = run(dir, RUNNER_SANDBOX, 20, 20, &n);
    printf("bench_tournament: %d episodes in-process %.3f s (%.0f episodes/s), sandboxed %.3f s "
           "(%.0f episodes/s): sandbox/in-process time ratio %.2f\n",
           n, in, n / in, sb, n / sb, sb / in);
    double b1 = run(dir, RUNNER_SANDBOX, 1, 20, &n);
    printf("bench_tournament: sandboxed batch 1: %.3f s, batch 20: %.3f s (batching is %.1fx faster)\n",
           b1, sb, b1 / sb);

    /* compile time: a fresh cache, then the same again */
    char tmpl[] = "/tmp/fmsp-bench-cache-XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    CompileConfig cc;
    compile_config_default(&cc);
    snprintf(cc.cache_dir, sizeof cc.cache_dir, "%s", tmpl);
    char **files;
    int nf;
    char err[512];
    if (util_list_c_files(dir, &files, &nf, err, sizeof err) || nf == 0)
        return 1;
    double cold = 0, warm = 0;
    for (int pass = 0; pass < 2; pass++) {
        double t0 = util_now();
        for (int i = 0; i < nf; i++) {
            CompileResult r;
            if (compile_policy_file(&cc, files[i], &r, err, sizeof err))
                fprintf(stderr, "bench_tournament: %s\n", err);
            compile_result_release(&r);
        }
        *(pass ? &warm : &cold) = (util_now() - t0) / nf;
    }
    printf("bench_tournament: compile per policy: cold %.1f ms, cached %.3f ms (%d policies)\n",
           cold * 1e3, warm * 1e3, nf);
    for (int i = 0; i < nf; i++)
        free(files[i]);
    free(files);
    char *cmd = xasprintf("rm -rf %s", tmpl);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpl);
    free(cmd);
    return 0;
}
