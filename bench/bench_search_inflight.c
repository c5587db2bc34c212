/*
 * bench_search_inflight.c - does evaluation overlap with waiting for the
 * model? A loopback model server answers every request after a fixed delay
 * D; a QDSP search runs N iterations with K requests in flight. If waiting
 * and evaluating overlap, candidates/s approaches the bound K / D (as long
 * as evaluating one candidate takes less than D / K). Prints the measured
 * rate, the bound and their ratio for K = 1, 4, 8.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "search/search.h"

static int start_server(pid_t *pid)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    *pid = fork();
    if (*pid == 0) {
        dup2(pfd[1], 1);
        char *bin = xasprintf("%s/tests/support/mock_llm_server", getenv("FMSP_BUILD") ? getenv("FMSP_BUILD") : "build");
        execl(bin, bin, "bench-key", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char line[32] = "";
    ssize_t n = read(pfd[0], line, sizeof line - 1);
    close(pfd[0]);
    line[n > 0 ? n : 0] = 0;
    return atoi(line);
}

int main(int argc, char **argv)
{
    int delay_ms = argc > 1 ? atoi(argv[1]) : 250;
    int iterations = argc > 2 ? atoi(argv[2]) : 24;
    pid_t server;
    int port = start_server(&server);
    if (port <= 0) {
        fprintf(stderr, "bench_search_inflight: cannot start the mock server (set FMSP_BUILD)\n");
        return 1;
    }
    setenv("FMSP_BENCH_KEY", "bench-key", 1);
    char tmp[] = "/tmp/fmsp-bench-inflight-XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    int ks[3] = {1, 4, 8};
    for (int i = 0; i < 3; i++) {
        SearchConfig cfg;
        search_config_default(&cfg);
        cfg.iterations = iterations;
        cfg.in_flight = ks[i];
        cfg.eval.episodes = 2;
        cfg.eval.batch = 2;
        cfg.eval.params.T = 5;
        cfg.eval.params.max_steps = 100;
        cfg.opponents = 1;
        cfg.max_repairs = 0;
        const char *root = getenv("FMSP_ROOT");
        snprintf(cfg.baselines_dir, sizeof cfg.baselines_dir, "%s/policies/baselines/cartag", root ? root : ".");
        fm_config_default(&cfg.fm, FM_OPENAI);
        snprintf(cfg.fm.base_url, sizeof cfg.fm.base_url, "http://127.0.0.1:%d/v1", port);
        snprintf(cfg.fm.model, sizeof cfg.fm.model, "delay-%d", delay_ms);
        snprintf(cfg.fm.api_key_env, sizeof cfg.fm.api_key_env, "FMSP_BENCH_KEY");
        cfg.fm.max_in_flight = ks[i];
        CompileConfig cc;
        compile_config_default(&cc);
        char *db = xasprintf("%s/k%d.db", tmp, ks[i]);
        char err[512];
        Search *s;
        if (search_create(&cfg, &cc, db, &s, err, sizeof err)) {
            fprintf(stderr, "bench_search_inflight: %s\n", err);
            return 1;
        }
        double t0 = util_now();
        if (search_run(s, NULL, NULL, err, sizeof err))
            fprintf(stderr, "bench_search_inflight: %s\n", err);
        double t = util_now() - t0;
        search_free(s);
        double rate = iterations / t, bound = ks[i] / (delay_ms / 1000.0);
        printf("bench_search_inflight: delay %d ms, %d in flight: %.2f candidates/s, bound %.2f, "
               "ratio %.2f\n",
               delay_ms, ks[i], rate, bound, rate / bound);
        free(db);
    }
    kill(server, SIGKILL);
    waitpid(server, NULL, 0);
    char *cmd = xasprintf("rm -rf %s", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmp);
    free(cmd);
    return 0;
}
