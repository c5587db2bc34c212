/*
 * test_builtin.c - the builtin program-synthesis operator (a non-FM baseline
 * operator, not a model): its genomes, generated code and backend answers.
 *
 * Checks: generated sources compile warning-free with gcc and pass the
 * sandbox's scanner and compiler; answers are deterministic in (seed,
 * parents); genome text round-trips exactly; mutation, crossover and novelty
 * behave as specified; NEW answers cover many component combinations; a
 * generated policy plays whole episodes with finite controls; JUDGE answers
 * by genome or token distance.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "fm/extract.h"
#include "fm/fm_backend.h"
#include "domains/cartag/genome.h"
#include "fmsp_policy.h"
#include "domains/cartag/cartag.h"
#include "harness.h"
#include "sandbox/compile.h"

static const FmBackendOps *ops;
static void *backend;
static FmConfig config;

/* Asks the operator; returns the heap answer text (NULL on error). */
static char *ask(FmTask task, int side, const char *const *parents, int n, uint64_t seed,
                 FmResponse *out)
{
    FmHint hint = {task, side, parents, n, seed, "cartag"};
    FmMessage msg = {"user", "write a policy please"};
    FmRequest req = {"system prompt", &msg, 1, &hint, 7, 0, NULL};
    FmResponse r;
    memset(&r, 0, sizeof r);
    ops->complete(backend, &config, &req, &r);
    char *text = r.text ? xstrdup(r.text) : NULL;
    if (out)
        *out = r;
    else
        fm_response_release(&r);
    return text;
}

/* The C source inside an answer's ```c fence (heap), or NULL. */
static char *answer_source(const char *text)
{
    const char *a = text ? strstr(text, "```c\n") : NULL;
    const char *b = a ? strstr(a + 5, "```") : NULL;
    return b ? xstrndup(a + 5, (size_t)(b - a - 5)) : NULL;
}

static Genome random_genome(int side, uint64_t seed)
{
    FmspRng rng;
    fmsp_rng_seed(&rng, seed);
    Genome g;
    genome_random(&g, side, &rng);
    return g;
}

/* 50 genomes per side compile with gcc -Wall -Werror (no warning at all). */
static void test_random_genomes_compile_cleanly(void)
{
    char dir[] = "/tmp/fmsp-test-builtin.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    for (int side = 1; side <= 2; side++)
        for (int i = 0; i < 50; i++) {
            Genome g = random_genome(side, 1000u * (unsigned)side + (unsigned)i);
            char *src = genome_source(&g, "test");
            char *path = xasprintf("%s/g%d_%02d.c", dir, side, i);
            CHECK(util_write_file(path, src, strlen(src), NULL, 0) == FMSP_OK);
            free(path);
            free(src);
        }
    const char *inc = getenv("FMSP_INCLUDE") ? getenv("FMSP_INCLUDE") : "include";
    char *cmd = xasprintf("cd %s && ls *.c | xargs -P 2 -I{} gcc -std=gnu11 -O1 -fPIC -shared "
                          "-nostartfiles -Wall -Wextra -Werror -Wno-unused-parameter "
                          "-Werror=implicit-function-declaration -I%s -o {}.so {} -lm 2>&1",
                          dir, inc);
    FILE *f = popen(cmd, "r");
    char diag[4096] = "";
    size_t n = f ? fread(diag, 1, sizeof diag - 1, f) : 0;
    diag[n] = '\0';
    int status = f ? pclose(f) : -1;
    CHECK_MSG(status == 0 && n == 0, "gcc said: %s", diag);
    free(cmd);
    cmd = xasprintf("ls %s/*.so | wc -l", dir);
    f = popen(cmd, "r");
    int count = 0;
    if (f) {
        if (fscanf(f, "%d", &count) != 1)
            count = 0;
        pclose(f);
    }
    CHECK_INT(count, 100);
    free(cmd);
    cmd = xasprintf("rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    free(cmd);
}

typedef struct Loaded {
    void *handle;
    void *(*create)(const FmspParams *, FmspRng *);
    void (*act)(void *, const FmspObs *, FmspControl *);
    void (*free_fn)(void *);
} Loaded;

/* Plays one episode of a loaded policy against a simple opponent (pure
 * pursuit or flee); returns the steps played, -1 on a non-finite control. */
static int play_against_simple(const Loaded *pol, int side, const FmspParams *prm, uint64_t es)
{
    FmspState s;
    cartag_reset(prm, es, &s);
    FmspRng rng;
    fmsp_rng_seed(&rng, cartag_policy_seed(es, side));
    void *self = pol->create(prm, &rng);
    while (!fmsp_done(prm, &s)) {
        FmspObs obs = {s, *prm};
        FmspControl c = {0};
        pol->act(self, &obs, &c);
        if (!cartag_control_finite(&c)) {
            pol->free_fn(self);
            return -1;
        }
        double dx = s.xe - s.xp, dy = s.ye - s.yp, d = sqrt(dx * dx + dy * dy) + 1e-9;
        if (side == FMSP_PURSUER)
            fmsp_step(prm, &s, c.u, prm->ve * dx / d, prm->ve * dy / d);
        else
            fmsp_step(prm, &s, fmsp_clamp(4.0 * fmsp_wrap_angle(atan2(dy, dx) - s.theta), -1, 1),
                      c.vx, c.vy);
    }
    pol->free_fn(self);
    return s.step;
}

/* Answers of every task go through the sandbox's scanner and compiler and
 * the compiled policies play episodes with finite controls. */
static void test_answers_compile_in_sandbox_and_play(void)
{
    CompileConfig cc;
    compile_config_default(&cc);
    FmspParams prm;
    cartag_params_default(&prm);
    prm.T = 8.0;
    prm.max_steps = 160;
    const FmTask tasks[4] = {FM_TASK_NEW, FM_TASK_IMPROVE, FM_TASK_NOVEL, FM_TASK_REPAIR};
    int played = 0;
    for (int side = 1; side <= 2; side++) {
        char *parent = NULL;
        for (int i = 0; i < 12; i++) {
            const char *pp[1] = {parent};
            char *text = ask(tasks[i % 4], side, pp, parent ? 1 : 0, 500u + (unsigned)i, NULL);
            char *src = answer_source(text);
            CHECK(src != NULL);
            CompileResult res;
            char err[512] = "";
            FmspErr e = compile_policy_source(&cc, src ? src : "", src ? strlen(src) : 0,
                                              "builtin.c", &res, err, sizeof err);
            CHECK_MSG(e == FMSP_OK, "%s: %s", err, res.diagnostics ? res.diagnostics : "");
            if (e == FMSP_OK) {
                CHECK_INT(res.side, side);
                Loaded pol = {0};
                pol.handle = dlopen(res.object_path, RTLD_NOW | RTLD_LOCAL);
                CHECK(pol.handle != NULL);
                if (pol.handle) {
                    pol.create = (void *(*)(const FmspParams *, FmspRng *))dlsym(pol.handle, "fmsp_create");
                    pol.act = (void (*)(void *, const FmspObs *, FmspControl *))dlsym(pol.handle, "fmsp_act");
                    pol.free_fn = (void (*)(void *))dlsym(pol.handle, "fmsp_free");
                    CHECK(pol.create && pol.act && pol.free_fn);
                    if (pol.create && pol.act && pol.free_fn) {
                        int steps = play_against_simple(&pol, side, &prm, 77u + (unsigned)i);
                        CHECK_MSG(steps > 0 && steps <= prm.max_steps, "steps %d", steps);
                        played++;
                    }
                    dlclose(pol.handle);
                }
            }
            compile_result_release(&res);
            free(parent);
            parent = src; /* the next request improves / repairs this one */
            free(text);
        }
        free(parent);
    }
    CHECK_INT(played, 24);
}

static void test_answer_shape_and_accounting(void)
{
    FmResponse r;
    char *text = ask(FM_TASK_NEW, FMSP_EVADER, NULL, 0, 42, &r);
    CHECK(r.err == FMSP_OK);
    CHECK_STR_HAS(text, "not a model");
    CHECK(strncmp(text, "Builtin operator", 16) == 0);
    CHECK(strchr(text, '\n') > strstr(text, "."));      /* one sentence on the first line */
    char *src = answer_source(text);
    CHECK(src && strncmp(src, "/* Written by fmsp's builtin operator", 37) == 0);
    CHECK_STR_HAS(src, "NOT a foundation model");
    CHECK_STR_HAS(src, "FMSP_SIDE(FMSP_EVADER);");
    CHECK_STR_HAS(src, "fmsp-genome v1 evader:");
    /* the engine's code extractor finds the same source */
    char *code = NULL, why[256] = "";
    CHECK_MSG(extract_policy_code(text, &code, why, sizeof why) == FMSP_OK, "%s", why);
    CHECK(code && src && strstr(code, "fmsp-genome v1 evader:") && strstr(code, "fmsp_free"));
    free(code);
    CHECK_INT(r.prompt_tokens, 6); /* "system prompt" + "write a policy please" */
    CHECK(r.completion_tokens == fm_count_words(text));
    CHECK(r.completion_tokens > 50);
    CHECK_INT(r.attempts, 1);
    CHECK_INT(r.http_status, 0);
    CHECK(r.cost_usd == 0.0);
    fm_response_release(&r);
    free(src);
    free(text);
    /* no hint: a clear error, no text */
    FmMessage msg = {"user", "hello"};
    FmRequest req = {NULL, &msg, 1, NULL, 1, 0, NULL};
    memset(&r, 0, sizeof r);
    ops->complete(backend, &config, &req, &r);
    CHECK(r.err == FMSP_ERR_ARG && r.text == NULL);
    CHECK_STR_HAS(r.error, "hint");
    fm_response_release(&r);
}

static void test_deterministic(void)
{
    const char *parents[2];
    char *p0 = ask(FM_TASK_NEW, FMSP_PURSUER, NULL, 0, 1, NULL);
    char *p1 = ask(FM_TASK_NEW, FMSP_PURSUER, NULL, 0, 2, NULL);
    parents[0] = p0;
    parents[1] = p1;
    const FmTask tasks[4] = {FM_TASK_NEW, FM_TASK_IMPROVE, FM_TASK_NOVEL, FM_TASK_REPAIR};
    for (int t = 0; t < 4; t++) {
        char *a = ask(tasks[t], FMSP_PURSUER, parents, 2, 99, NULL);
        char *b = ask(tasks[t], FMSP_PURSUER, parents, 2, 99, NULL);
        char *c = ask(tasks[t], FMSP_PURSUER, parents, 2, 100, NULL);
        CHECK(a && b && strcmp(a, b) == 0);
        CHECK(a && c && strcmp(a, c) != 0);
        free(a);
        free(b);
        free(c);
    }
    /* the configured seed is part of the answer too */
    char *a = ask(FM_TASK_NEW, FMSP_EVADER, NULL, 0, 5, NULL);
    config.seed = 12345;
    char *b = ask(FM_TASK_NEW, FMSP_EVADER, NULL, 0, 5, NULL);
    config.seed = 0;
    CHECK(strcmp(a, b) != 0);
    free(a);
    free(b);
    free(p0);
    free(p1);
}

static void test_genome_round_trip(void)
{
    for (int i = 0; i < 400; i++) {
        int side = i % 2 ? FMSP_EVADER : FMSP_PURSUER;
        Genome g = random_genome(side, (uint64_t)i * 31 + 7), back;
        char *line = genome_line(&g);
        CHECK(genome_parse(line, &back) && genome_equal(&g, &back));
        char *src = genome_source(&g, "test");
        CHECK(genome_parse(src, &back) && genome_equal(&g, &back));
        CHECK(memcmp(&g, &back, sizeof g) == 0);
        free(src);
        free(line);
    }
    /* hostile or foreign text: no genome */
    Genome g;
    CHECK(!genome_parse(NULL, &g));
    CHECK(!genome_parse("int main(void) { return 0; }", &g));
    CHECK(!genome_parse("/* fmsp-genome v1 robot: aim=now */", &g));
    CHECK(!genome_parse("/* fmsp-genome v1 pursuer: aim=now */", &g)); /* fields missing */
    Genome p = random_genome(FMSP_PURSUER, 3);
    char *line = genome_line(&p);
    char *bad = xstrdup(line);
    char *steer = strstr(bad, "steer=");
    memcpy(steer + 6, "zzzz", 4); /* an unknown choice */
    CHECK(!genome_parse(bad, &g));
    free(bad);
    /* out-of-range numbers are clamped into range, not trusted */
    char *big = xasprintf("%s", line);
    char *gain = strstr(big, " gain=");
    memcpy(gain + 6, "99999", 5);
    CHECK(genome_parse(big, &g));
    CHECK(g.gain <= 10.0);
    free(big);
    free(line);
}

static void test_mutation_and_crossover(void)
{
    FmspRng rng;
    fmsp_rng_seed(&rng, 9);
    for (int i = 0; i < 200; i++) {
        int side = i % 2 ? FMSP_EVADER : FMSP_PURSUER;
        Genome g = random_genome(side, (uint64_t)i), m = g;
        genome_mutate(&m, &rng, 0.25, 0.08, 0.06);
        CHECK(m.side == side);
        CHECK(!genome_equal(&g, &m));
        CHECK(genome_distance(&g, &m) > 0 && genome_distance(&g, &m) < 0.5);
    }
    /* crossover takes whole components from each parent */
    int from_a = 0, from_b = 0, mixed = 0;
    for (int i = 0; i < 100; i++) {
        Genome a = random_genome(FMSP_PURSUER, 5000u + (unsigned)i);
        Genome b = random_genome(FMSP_PURSUER, 9000u + (unsigned)i), c = a;
        genome_crossover(&c, &b, &rng);
        int aim_from_b = c.aim == b.aim && c.lead == b.lead && c.t_max == b.t_max;
        int aim_from_a = c.aim == a.aim && c.lead == a.lead && c.t_max == a.t_max;
        CHECK(aim_from_a || aim_from_b);
        int plan_a = c.plan == a.plan && c.plan_h == a.plan_h && c.plan_m == a.plan_m;
        int plan_b = c.plan == b.plan && c.plan_h == b.plan_h && c.plan_m == b.plan_m;
        CHECK(plan_a || plan_b);
        from_a += genome_distance(&c, &a) < genome_distance(&c, &b);
        from_b += genome_distance(&c, &b) < genome_distance(&c, &a);
        mixed += genome_distance(&c, &a) > 0 && genome_distance(&c, &b) > 0;
    }
    CHECK(from_a > 10 && from_b > 10 && mixed > 50);
    /* the other side's genome is no donor */
    Genome a = random_genome(FMSP_PURSUER, 1), e = random_genome(FMSP_EVADER, 2), c = a;
    genome_crossover(&c, &e, &rng);
    CHECK(genome_equal(&a, &c));
}

static Genome answer_genome(const char *text)
{
    Genome g;
    memset(&g, 0, sizeof g);
    CHECK(genome_parse(text, &g));
    return g;
}

/* IMPROVE stays near its parent and mixes in donors; NOVEL moves farther. */
static void test_improve_vs_novel(void)
{
    double improve = 0, novel = 0;
    int donor_used = 0;
    const int n = 30;
    for (int i = 0; i < n; i++) {
        int side = i % 2 ? FMSP_EVADER : FMSP_PURSUER;
        Genome pa = random_genome(side, 100u + (unsigned)i), pb = random_genome(side, 300u + (unsigned)i);
        char *sa = genome_source(&pa, "test"), *sb = genome_source(&pb, "test");
        const char *parents[2] = {sa, sb};
        char *ti = ask(FM_TASK_IMPROVE, side, parents, 2, 7000u + (unsigned)i, NULL);
        char *tn = ask(FM_TASK_NOVEL, side, parents, 2, 7000u + (unsigned)i, NULL);
        Genome gi = answer_genome(ti), gn = answer_genome(tn);
        CHECK(gi.side == side && gn.side == side);
        CHECK(!genome_equal(&gi, &pa));
        improve += genome_distance(&gi, &pa);
        novel += fmin(genome_distance(&gn, &pa), genome_distance(&gn, &pb));
        donor_used += genome_distance(&gi, &pb) < genome_distance(&pa, &pb) - 0.05;
        free(ti);
        free(tn);
        free(sa);
        free(sb);
    }
    improve /= n;
    novel /= n;
    CHECK_MSG(novel > 2.0 * improve, "novel %.3f improve %.3f", novel, improve);
    CHECK_MSG(donor_used >= 5, "donor used %d times", donor_used);
}

/* A parent without a genome (a model's or a human's) is replaced by a random
 * genome drawn deterministically from the seed. */
static void test_parent_without_genome(void)
{
    const char *parents[1] = {"#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n/* broken */"};
    char *a = ask(FM_TASK_REPAIR, FMSP_PURSUER, parents, 1, 11, NULL);
    char *b = ask(FM_TASK_REPAIR, FMSP_PURSUER, parents, 1, 11, NULL);
    CHECK(a && b && strcmp(a, b) == 0);
    Genome g = answer_genome(a);
    CHECK(g.side == FMSP_PURSUER);
    free(a);
    free(b);
    /* a parent of the wrong side is not used either */
    Genome e = random_genome(FMSP_EVADER, 4);
    char *se = genome_source(&e, "test");
    parents[0] = se;
    char *c = ask(FM_TASK_IMPROVE, FMSP_PURSUER, parents, 1, 12, NULL);
    CHECK(answer_genome(c).side == FMSP_PURSUER);
    CHECK_STR_HAS(c, "FMSP_SIDE(FMSP_PURSUER)");
    free(c);
    free(se);
}

/* 100 NEW answers span many component combinations, and the code differs
 * in structure, not only in numbers. */
static void test_diversity(void)
{
    for (int side = 1; side <= 2; side++) {
        char combos[100][256];
        int distinct = 0, n_funcs_min = 1000, n_funcs_max = 0;
        for (int i = 0; i < 100; i++) {
            char *text = ask(FM_TASK_NEW, side, NULL, 0, 20000u + (unsigned)i, NULL);
            Genome g = answer_genome(text);
            char key[256];
            genome_components(&g, key, sizeof key);
            int seen = 0;
            for (int k = 0; k < distinct && !seen; k++)
                seen = strcmp(combos[k], key) == 0;
            if (!seen && distinct < 100)
                snprintf(combos[distinct++], sizeof combos[0], "%s", key);
            int funcs = 0;
            for (const char *p = text; (p = strstr(p, "\nstatic ")); p++)
                funcs++;
            n_funcs_min = funcs < n_funcs_min ? funcs : n_funcs_min;
            n_funcs_max = funcs > n_funcs_max ? funcs : n_funcs_max;
            free(text);
        }
        CHECK_MSG(distinct >= 60, "side %d: only %d distinct combinations", side, distinct);
        CHECK_MSG(n_funcs_max >= n_funcs_min + 4, "static definitions %d..%d", n_funcs_min,
                  n_funcs_max);
    }
    /* different components give different helper functions */
    Genome a = random_genome(FMSP_PURSUER, 1), b = a;
    a.aim = AIM_NOW;
    a.steer = STEER_PROP;
    a.plan = PLAN_NONE;
    b.aim = AIM_HERD;
    b.steer = STEER_PN;
    b.plan = PLAN_TWO;
    char *sa = genome_source(&a, "t"), *sb = genome_source(&b, "t");
    CHECK(!strstr(sa, "intercept_time") && strstr(sb, "intercept_time"));
    CHECK(!strstr(sa, "herd_offset") && strstr(sb, "herd_offset"));
    CHECK(!strstr(sa, "pn_command") && strstr(sb, "pn_command"));
    CHECK(!strstr(sa, "rollout_two") && strstr(sb, "rollout_two"));
    free(sa);
    free(sb);
}

static void test_judge(void)
{
    Genome a = random_genome(FMSP_EVADER, 1), near = a, far = random_genome(FMSP_EVADER, 2);
    near.noise = a.noise < 0.2 ? a.noise + 0.01 : a.noise - 0.01;
    far.flight = (a.flight + 1) % FLIGHT__COUNT;
    far.dodge = (a.dodge + 1) % DODGE__COUNT;
    far.eplan = (a.eplan + 1) % EPLAN__COUNT;
    char *sa = genome_source(&a, "t"), *sn = genome_source(&near, "t"), *sf = genome_source(&far, "t");
    const char *same[2] = {sa, sn};
    const char *diff[2] = {sa, sf};
    char *t1 = ask(FM_TASK_JUDGE, FMSP_EVADER, same, 2, 1, NULL);
    char *t2 = ask(FM_TASK_JUDGE, FMSP_EVADER, diff, 2, 1, NULL);
    CHECK(t1 && strncmp(t1, "no", 2) == 0);
    CHECK(t2 && strncmp(t2, "yes", 3) == 0);
    CHECK_STR_HAS(t2, "genome distance");
    /* without genomes: token sets */
    const char *plain_same[2] = {"int a = b + c; return a;", "int a = b + c;  return a;"};
    const char *plain_diff[2] = {"double flee(void) { return sqrt(x); }",
                                 "int main(int argc, char **argv) { while (k) k--; }"};
    char *t3 = ask(FM_TASK_JUDGE, FMSP_EVADER, plain_same, 2, 1, NULL);
    char *t4 = ask(FM_TASK_JUDGE, FMSP_EVADER, plain_diff, 2, 1, NULL);
    CHECK(t3 && strncmp(t3, "no", 2) == 0);
    CHECK(t4 && strncmp(t4, "yes", 3) == 0);
    CHECK_STR_HAS(t4, "token-set distance");
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    free(sa);
    free(sn);
    free(sf);
}

int main(void)
{
    fm_config_default(&config, FM_BUILTIN);
    config.seed = 0;
    char err[256];
    if (fm_builtin_open(&config, &backend, &ops, err, sizeof err) != FMSP_OK) {
        fprintf(stderr, "fm_builtin_open: %s\n", err);
        return 1;
    }
    RUN(test_answer_shape_and_accounting);
    RUN(test_deterministic);
    RUN(test_genome_round_trip);
    RUN(test_mutation_and_crossover);
    RUN(test_improve_vs_novel);
    RUN(test_parent_without_genome);
    RUN(test_diversity);
    RUN(test_judge);
    RUN(test_random_genomes_compile_cleanly);
    RUN(test_answers_compile_in_sandbox_and_play);
    ops->destroy(backend);
    return harness_done("test_builtin");
}
