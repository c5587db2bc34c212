/*
 * test_match.c - the referee: determinism (a golden checksum of a seeded
 * match), results independent of batch size and of isolation mode, common
 * random numbers across pairings, load faults, and the tournament.
 */
#include "core/util.h"
#include "domains/cartag/cartag.h"
#include "harness.h"
#include "match/tournament.h"

#define GOLDEN_STEPS 3507
#define GOLDEN_MEAN 0.6346875

static char *pursuer_obj, *evader_obj, *random_obj;

static char *compile(const char *path)
{
    CompileConfig cc;
    compile_config_default(&cc);
    CompileResult r;
    char err[512];
    char *full = xasprintf("%s/%s", getenv("FMSP_ROOT") ? getenv("FMSP_ROOT") : ".", path);
    FmspErr e = compile_policy_file(&cc, full, &r, err, sizeof err);
    free(full);
    if (e) {
        fprintf(stderr, "cannot compile %s: %s\n", path, err);
        compile_result_release(&r);
        return NULL;
    }
    char *o = xstrdup(r.object_path);
    compile_result_release(&r);
    return o;
}

/* Checksum of every step of every episode: the golden trace in one number. */
typedef struct Trace {
    uint64_t hash;
    long steps;
} Trace;

static void on_step(void *ctx, int ep, const FmspState *s, const FmspControl *pc, const FmspControl *ec)
{
    Trace *t = ctx;
    double v[6] = {s->xp, s->yp, s->theta, s->xe, s->ye, (double)ep};
    for (int i = 0; i < 6; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], 8);
        t->hash = (t->hash ^ bits) * 0x100000001B3ULL;
    }
    t->steps++;
    (void)pc;
    (void)ec;
}

static MatchConfig cfg(void)
{
    MatchConfig m;
    match_config_default(&m);
    m.episodes = 12;
    m.batch = 12;
    return m;
}

static void test_deterministic(void)
{
    MatchConfig m = cfg();
    Trace a = {0xcbf29ce484222325ULL, 0}, b = a;
    MatchResult ra, rb;
    char err[256];
    CHECK(match_play(&m, pursuer_obj, evader_obj, on_step, &a, &ra, err, sizeof err) == FMSP_OK);
    CHECK(match_play(&m, pursuer_obj, evader_obj, on_step, &b, &rb, err, sizeof err) == FMSP_OK);
    CHECK(a.hash == b.hash && a.steps == b.steps && a.steps > 100);
    CHECK(ra.mean[0] == rb.mean[0]);
    m.seed = 2;
    Trace c = {0xcbf29ce484222325ULL, 0};
    MatchResult rc;
    CHECK(match_play(&m, pursuer_obj, evader_obj, on_step, &c, &rc, err, sizeof err) == FMSP_OK);
    CHECK(c.hash != a.hash);
    match_result_release(&ra);
    match_result_release(&rb);
    match_result_release(&rc);
}

/* Golden values for pure pursuit vs flee, seed 1, 12 episodes (arena).
 * If the dynamics, the seeding or the referee change, this changes. */
static void test_golden(void)
{
    MatchConfig m = cfg();
    MatchResult r;
    char err[256];
    CHECK(match_play(&m, pursuer_obj, evader_obj, NULL, NULL, &r, err, sizeof err) == FMSP_OK);
    long steps = 0;
    for (int i = 0; i < r.n; i++)
        steps += r.episodes[i].steps;
    CHECK_INT(r.captures, 12);
    CHECK_INT(steps, GOLDEN_STEPS);
    CHECK_NEAR(r.mean[0], GOLDEN_MEAN, 1e-12);
    match_result_release(&r);
}

static void test_batch_and_mode_invariant(void)
{
    char err[256];
    MatchResult ref;
    MatchConfig m = cfg();
    CHECK(match_play(&m, pursuer_obj, random_obj, NULL, NULL, &ref, err, sizeof err) == FMSP_OK);
    int batches[] = {1, 5, 64};
    for (int i = 0; i < 3; i++) {
        m.batch = batches[i];
        MatchResult r;
        CHECK(match_play(&m, pursuer_obj, random_obj, NULL, NULL, &r, err, sizeof err) == FMSP_OK);
        for (int k = 0; k < r.n; k++)
            CHECK_MSG(r.episodes[k].steps == ref.episodes[k].steps, "batch %d episode %d", batches[i], k);
        match_result_release(&r);
    }
    m.batch = 12;
    m.mode = RUNNER_INPROC;
    MatchResult in;
    CHECK(match_play(&m, pursuer_obj, random_obj, NULL, NULL, &in, err, sizeof err) == FMSP_OK);
    CHECK(in.mean[0] == ref.mean[0]);
    match_result_release(&in);
    match_result_release(&ref);
}

static void test_common_random_numbers(void)
{
    /* every pairing sees the same starts: episode seeds depend on the match
     * seed and the index only */
    MatchConfig m = cfg();
    MatchResult a, b;
    char err[256];
    CHECK(match_play(&m, pursuer_obj, evader_obj, NULL, NULL, &a, err, sizeof err) == FMSP_OK);
    CHECK(match_play(&m, pursuer_obj, random_obj, NULL, NULL, &b, err, sizeof err) == FMSP_OK);
    for (int i = 0; i < a.n; i++)
        CHECK(a.episodes[i].seed == b.episodes[i].seed);
    match_result_release(&a);
    match_result_release(&b);
}

static void test_wrong_side_is_a_load_fault(void)
{
    MatchConfig m = cfg();
    MatchResult r;
    char err[256];
    /* the evader object offered as the pursuer */
    CHECK(match_play(&m, evader_obj, evader_obj, NULL, NULL, &r, err, sizeof err) == FMSP_OK);
    CHECK_INT(r.faults[0], r.n);
    CHECK(r.episodes[0].fault[0].kind == FAULT_LOAD);
    CHECK_STR_HAS(r.episodes[0].fault[0].detail, "FMSP_SIDE(FMSP_EVADER)");
    CHECK(r.mean[1] == 1.0);
    match_result_release(&r);
    m.episodes = 0;
    CHECK(match_play(&m, pursuer_obj, evader_obj, NULL, NULL, &r, err, sizeof err) == FMSP_ERR_ARG);
}

static void test_tournament(void)
{
    MatchConfig m = cfg();
    m.episodes = 4;
    m.batch = 4;
    Tournament t;
    tournament_init(&t, &m);
    tournament_add_object(&t, "pp", FMSP_PURSUER, pursuer_obj);
    tournament_add_object(&t, "flee", FMSP_EVADER, evader_obj);
    tournament_add_object(&t, "rw", FMSP_EVADER, random_obj);
    char err[256];
    CHECK(tournament_run(&t, 2, NULL, NULL, err, sizeof err) == FMSP_OK);
    CHECK_INT(t.n_pursuers * t.n_evaders, 2);
    CHECK(t.results[0].n == 4 && t.results[1].n == 4);
    CHECK_NEAR(tournament_pursuer_mean(&t, 0), (t.results[0].mean[0] + t.results[1].mean[0]) / 2, 1e-12);
    tournament_release(&t);
    Tournament e;
    tournament_init(&e, &m);
    CHECK(tournament_run(&e, 1, NULL, NULL, err, sizeof err) == FMSP_ERR_ARG);
    CHECK_STR_HAS(err, "at least one pursuer");
    tournament_release(&e);
}

static void test_stats(void)
{
    double v[4] = {1, 2, 3, 4}, mean, ci;
    stats_mean_ci(v, 4, &mean, &ci);
    CHECK_NEAR(mean, 2.5, 1e-12);
    CHECK_NEAR(ci, 3.182 * sqrt(5.0 / 3.0) / 2.0, 1e-9);
    stats_mean_ci(v, 1, &mean, &ci);
    CHECK_NEAR(ci, 0, 0);
}

int main(void)
{
    pursuer_obj = compile("policies/baselines/cartag/pursuer_pure_pursuit.c");
    evader_obj = compile("policies/baselines/cartag/evader_flee.c");
    random_obj = compile("policies/baselines/cartag/evader_random_walk.c");
    if (!pursuer_obj || !evader_obj || !random_obj)
        return 1;
    RUN(test_deterministic);
    RUN(test_golden);
    RUN(test_batch_and_mode_invariant);
    RUN(test_common_random_numbers);
    RUN(test_wrong_side_is_a_load_fault);
    RUN(test_tournament);
    RUN(test_stats);
    return harness_done("test_match");
}
