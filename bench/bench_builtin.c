/*
 * bench_builtin.c - how strong are the builtin operator's policies?
 *
 * The builtin operator is NOT a model: it is the non-FM baseline operator
 * (src/domains/cartag/genome.h). This benchmark checks its grammar contains policies
 * stronger than the human baselines: it samples genomes per side, compiles
 * each with gcc, loads it in-process (trusted code, no sandbox) and plays
 * every baseline of the other side for a few episodes with the referee's
 * seeds and starts (cartag_episode_seed, cartag_reset, cartag_policy_seed).
 * It prints the baselines' own means against the same opponents, the best
 * sampled genomes and the comparison.
 *
 * Usage: bench_builtin [N per side (30)] [episodes per pairing (10)] [seed (1)]
 * Environment: FMSP_INCLUDE (the policy header dir), FMSP_ROOT (repo root),
 * BENCH_GENOMES (a file of "fmsp-genome v1 ..." lines to play as well).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "domains/cartag/genome.h"
#include "fmsp_policy.h"
#include "domains/cartag/cartag.h"

typedef struct Policy {
    char name[128];
    void *handle;
    void *(*create)(const FmspParams *, FmspRng *);
    void (*act)(void *, const FmspObs *, FmspControl *);
    void (*free_fn)(void *);
    int side;
    char *genome; /* heap genome line, NULL for baselines */
    double score; /* mean score of its side against the other side's baselines */
} Policy;

static char tmpdir[] = "/tmp/fmsp-bench-builtin.XXXXXX";

static int policy_load(Policy *p, const char *so)
{
    p->handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!p->handle)
        return 0;
    p->create = (void *(*)(const FmspParams *, FmspRng *))dlsym(p->handle, "fmsp_create");
    p->act = (void (*)(void *, const FmspObs *, FmspControl *))dlsym(p->handle, "fmsp_act");
    p->free_fn = (void (*)(void *))dlsym(p->handle, "fmsp_free");
    const int *side = dlsym(p->handle, "fmsp_policy_side");
    p->side = side ? *side : 0;
    return p->create && p->act && p->free_fn && p->side;
}

/* Pursuer score of one episode (1 - evader score); -1 on a non-finite control. */
static double play(const Policy *pu, const Policy *ev, const FmspParams *prm, uint64_t es)
{
    FmspState s;
    cartag_reset(prm, es, &s);
    FmspRng rp, re;
    fmsp_rng_seed(&rp, cartag_policy_seed(es, FMSP_PURSUER));
    fmsp_rng_seed(&re, cartag_policy_seed(es, FMSP_EVADER));
    void *a = pu->create(prm, &rp), *b = ev->create(prm, &re);
    while (!fmsp_done(prm, &s)) {
        FmspObs obs = {s, *prm};
        FmspControl cp = {0}, ce = {0};
        pu->act(a, &obs, &cp);
        ev->act(b, &obs, &ce);
        if (!cartag_control_finite(&cp) || !cartag_control_finite(&ce)) {
            pu->free_fn(a);
            ev->free_fn(b);
            return -1;
        }
        fmsp_step(prm, &s, cp.u, ce.vx, ce.vy);
    }
    pu->free_fn(a);
    ev->free_fn(b);
    return 1.0 - cartag_evader_score(prm, &s);
}

/* Mean pursuer score of the pairing over the match's episodes. */
static double match(const Policy *pu, const Policy *ev, const FmspParams *prm, uint64_t seed, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double v = play(pu, ev, prm, cartag_episode_seed(seed, i));
        if (v < 0) /* a fault loses the episode for the faulty side: count the worst */
            v = 0.5;
        sum += v;
    }
    return sum / n;
}

static void compile_all(const char *dir)
{
    char *inc = getenv("FMSP_INCLUDE") ? xstrdup(getenv("FMSP_INCLUDE")) : realpath("include", NULL);
    if (!inc)
        inc = xstrdup("include");
    char *cmd = xasprintf("cd %s && ls *.c | xargs -P 2 -I{} gcc -std=gnu11 -O2 -fPIC -shared "
                          "-nostartfiles -Werror=implicit-function-declaration -I%s -o {}.so {} -lm",
                          dir, inc);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_builtin: some compiles failed\n");
    free(cmd);
    free(inc);
}

static int by_score_desc(const void *x, const void *y)
{
    const Policy *a = x, *b = y;
    return (a->score < b->score) - (a->score > b->score);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 30;
    int episodes = argc > 2 ? atoi(argv[2]) : 10;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    const char *root = getenv("FMSP_ROOT") ? getenv("FMSP_ROOT") : ".";
    if (!mkdtemp(tmpdir))
        return 1;
    /* baselines */
    char *cmd = xasprintf("cp %s/policies/baselines/cartag/*.c %s/", root, tmpdir);
    if (system(cmd) != 0)
        return 1;
    free(cmd);
    /* genomes */
    FmspRng rng;
    fmsp_rng_seed(&rng, seed * 7919);
    for (int side = 1; side <= 2; side++)
        for (int i = 0; i < n; i++) {
            Genome g;
            genome_random(&g, side, &rng);
            char *src = genome_source(&g, "benchmark");
            char *path = xasprintf("%s/zz_%s_%03d.c", tmpdir, side == 1 ? "p" : "e", i);
            util_write_file(path, src, strlen(src), NULL, 0);
            free(path);
            free(src);
        }
    const char *extra = getenv("BENCH_GENOMES");
    FILE *gf = extra ? fopen(extra, "r") : NULL;
    char gl[4096];
    for (int i = 0; gf && fgets(gl, sizeof gl, gf); i++) {
        Genome g;
        if (!genome_parse(gl, &g))
            continue;
        char *src = genome_source(&g, "benchmark");
        char *path = xasprintf("%s/zz_x%s_%03d.c", tmpdir, g.side == 1 ? "p" : "e", i);
        util_write_file(path, src, strlen(src), NULL, 0);
        free(path);
        free(src);
    }
    if (gf)
        fclose(gf);
    double t0 = util_now();
    compile_all(tmpdir);
    printf("compiled %d sources in %.1f s\n", 2 * n + 11, util_now() - t0);

    Policy base[2][16], gen[2][512];
    int nb[2] = {0, 0}, ng[2] = {0, 0};
    cmd = xasprintf("ls %s/*.so", tmpdir);
    FILE *ls = popen(cmd, "r");
    free(cmd);
    char line[1024];
    while (ls && fgets(line, sizeof line, ls)) {
        line[strcspn(line, "\n")] = '\0';
        Policy p;
        memset(&p, 0, sizeof p);
        if (!policy_load(&p, line)) {
            fprintf(stderr, "cannot load %s: %s\n", line, dlerror());
            continue;
        }
        const char *base_name = strrchr(line, '/') + 1;
        snprintf(p.name, sizeof p.name, "%.*s", (int)(strlen(base_name) - 5), base_name);
        int sd = p.side - 1;
        if (strncmp(p.name, "zz_", 3) == 0) {
            char *src_path = xasprintf("%.*s", (int)strlen(line) - 3, line);
            char *src = NULL;
            size_t len;
            if (util_read_file(src_path, 1 << 20, &src, &len, NULL, 0) == FMSP_OK) {
                Genome g;
                if (genome_parse(src, &g))
                    p.genome = genome_line(&g);
            }
            free(src);
            free(src_path);
            if (ng[sd] < 512)
                gen[sd][ng[sd]++] = p;
        } else if (nb[sd] < 16) {
            base[sd][nb[sd]++] = p;
        }
    }
    if (ls)
        pclose(ls);
    FmspParams prm;
    cartag_params_default(&prm);
    /* baselines against baselines */
    for (int i = 0; i < nb[0]; i++) {
        double sum = 0;
        for (int j = 0; j < nb[1]; j++)
            sum += match(&base[0][i], &base[1][j], &prm, seed, episodes);
        base[0][i].score = sum / nb[1];
    }
    for (int j = 0; j < nb[1]; j++) {
        double sum = 0;
        for (int i = 0; i < nb[0]; i++)
            sum += 1.0 - match(&base[0][i], &base[1][j], &prm, seed, episodes);
        base[1][j].score = sum / nb[0];
    }
    /* generated policies against the baselines */
    t0 = util_now();
    for (int sd = 0; sd < 2; sd++)
        for (int k = 0; k < ng[sd]; k++) {
            double sum = 0;
            for (int j = 0; j < nb[1 - sd]; j++)
                sum += sd == 0 ? match(&gen[0][k], &base[1][j], &prm, seed, episodes)
                               : 1.0 - match(&base[0][j], &gen[1][k], &prm, seed, episodes);
            gen[sd][k].score = sum / nb[1 - sd];
        }
    printf("played the genomes in %.1f s\n", util_now() - t0);
    for (int sd = 0; sd < 2; sd++) {
        qsort(base[sd], (size_t)nb[sd], sizeof(Policy), by_score_desc);
        qsort(gen[sd], (size_t)ng[sd], sizeof(Policy), by_score_desc);
        const char *side = sd == 0 ? "pursuer" : "evader";
        printf("\n%s side: mean score against the %d %s baselines, %d episodes each\n", side,
               nb[1 - sd], sd == 0 ? "evader" : "pursuer", episodes);
        for (int i = 0; i < nb[sd]; i++)
            printf("  baseline %-24s %.3f\n", base[sd][i].name, base[sd][i].score);
        for (int i = 0; i < ng[sd] && i < 5; i++) {
            printf("  builtin  %-24s %.3f  %s\n   per opponent:", gen[sd][i].name, gen[sd][i].score,
                   gen[sd][i].genome ? gen[sd][i].genome : "?");
            for (int j = 0; j < nb[1 - sd]; j++)
                printf(" %s %.2f", base[1 - sd][j].name + (sd == 0 ? 7 : 8),
                       sd == 0 ? match(&gen[0][i], &base[1][j], &prm, seed, episodes)
                               : 1.0 - match(&base[0][j], &gen[1][i], &prm, seed, episodes));
            printf("\n");
        }
        printf("   best baseline per opponent:");
        for (int j = 0; nb[sd] > 0 && j < nb[1 - sd]; j++)
            printf(" %s %.2f", base[1 - sd][j].name + (sd == 0 ? 7 : 8),
                   sd == 0 ? match(&base[0][0], &base[1][j], &prm, seed, episodes)
                           : 1.0 - match(&base[0][j], &base[1][0], &prm, seed, episodes));
        printf("\n");
        double mean = 0;
        for (int i = 0; i < ng[sd]; i++)
            mean += gen[sd][i].score;
        int better = 0;
        for (int i = 0; i < ng[sd]; i++)
            better += nb[sd] > 0 && gen[sd][i].score > base[sd][0].score;
        printf("  %s: best builtin %.3f vs best baseline %.3f (%s); %d of %d sampled genomes beat it; "
               "sample mean %.3f\n",
               side, ng[sd] ? gen[sd][0].score : 0, nb[sd] ? base[sd][0].score : 0,
               nb[sd] ? base[sd][0].name : "-", better, ng[sd], ng[sd] ? mean / ng[sd] : 0);
    }
    cmd = xasprintf("rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_builtin: could not remove %s\n", tmpdir);
    free(cmd);
    return 0;
}
