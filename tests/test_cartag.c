/* test_cartag.c - Car Tag dynamics against analytic results, walls, capture,
 * seeded starts, parameters and scores. */
#include "domains/cartag/cartag.h"
#include "harness.h"

static FmspParams open_params(void)
{
    FmspParams p;
    cartag_params_default(&p);
    p.walls = 0;
    return p;
}

static FmspState at(double xp, double yp, double th, double xe, double ye)
{
    FmspState s;
    memset(&s, 0, sizeof s);
    s.xp = xp;
    s.yp = yp;
    s.theta = th;
    s.xe = xe;
    s.ye = ye;
    return s;
}

/* Full left turn: the car follows the circle of radius R centred at (0, R). */
static void test_arc_matches_circle(void)
{
    FmspParams p = open_params();
    FmspState s = at(0, 0, 0, 100, 100);
    int steps = 200; /* 10 s: 10/(2 pi) of a turn */
    for (int i = 0; i < steps; i++)
        fmsp_step(&p, &s, 1.0, 0, 0);
    double t = steps * p.dt, w = p.vp / p.R;
    CHECK_NEAR(s.xp, p.R * sin(w * t), 1e-9);
    CHECK_NEAR(s.yp, p.R * (1 - cos(w * t)), 1e-9);
    CHECK_NEAR(s.theta, fmsp_wrap_angle(w * t), 1e-9);
    CHECK_NEAR(hypot(s.xp, s.yp - p.R), p.R, 1e-9);
    CHECK_NEAR(s.t, t, 1e-12);
    CHECK_INT(s.step, steps);
}

/* Right turn with half rate on a larger radius: radius R/|u|. */
static void test_partial_turn_radius(void)
{
    FmspParams p = open_params();
    p.R = 2.0;
    FmspState s = at(1, 1, M_PI / 2, 100, 100);
    for (int i = 0; i < 77; i++)
        fmsp_step(&p, &s, -0.5, 0, 0);
    /* heading +y turning right: centre at (1 + R/0.5, 1) = (5, 1) */
    CHECK_NEAR(hypot(s.xp - 5.0, s.yp - 1.0), 4.0, 1e-9);
    CHECK_NEAR(s.theta, fmsp_wrap_angle(M_PI / 2 - 0.25 * 77 * p.dt), 1e-9);
}

static void test_straight_and_clipping(void)
{
    FmspParams p = open_params();
    FmspState s = at(0, 0, M_PI / 4, 50, 50);
    for (int i = 0; i < 100; i++)
        fmsp_step(&p, &s, 0.0, 0, 0);
    CHECK_NEAR(s.xp, 5.0 * cos(M_PI / 4), 1e-12);
    CHECK_NEAR(s.yp, 5.0 * sin(M_PI / 4), 1e-12);
    /* u beyond [-1, 1] is clipped: same as u = 1. */
    FmspState a = at(0, 0, 0, 50, 50), b = a;
    fmsp_step(&p, &a, 7.0, 0, 0);
    fmsp_step(&p, &b, 1.0, 0, 0);
    CHECK(memcmp(&a, &b, sizeof a) == 0 || (a.xp == b.xp && a.yp == b.yp && a.theta == b.theta));
    CHECK_NEAR(a.last_u, 1.0, 0);
    /* tiny u is continuous with u = 0 */
    FmspState c = at(0, 0, 0, 50, 50), d = c;
    fmsp_step(&p, &c, 1e-12, 0, 0);
    fmsp_step(&p, &d, 0.0, 0, 0);
    CHECK_NEAR(c.xp, d.xp, 1e-15);
    CHECK_NEAR(c.yp, d.yp, 1e-12);
}

static void test_evader_speed_scaled(void)
{
    FmspParams p = open_params();
    FmspState s = at(-50, -50, 0, 0, 0);
    fmsp_step(&p, &s, 0, 3.0, 4.0); /* norm 5 -> scaled to 0.5 */
    CHECK_NEAR(s.xe, 0.3 * p.dt, 1e-15);
    CHECK_NEAR(s.ye, 0.4 * p.dt, 1e-15);
    CHECK_NEAR(s.last_vx, 0.3, 1e-15);
    CHECK_NEAR(s.last_vy, 0.4, 1e-15);
    FmspState q = at(-50, -50, 0, 0, 0);
    fmsp_step(&p, &q, 0, 0.1, -0.2); /* slower than ve: unchanged */
    CHECK_NEAR(q.xe, 0.1 * p.dt, 1e-15);
    CHECK_NEAR(q.ye, -0.2 * p.dt, 1e-15);
}

static void test_walls_clamp_and_keep_heading(void)
{
    FmspParams p;
    cartag_params_default(&p);
    FmspState s = at(9.99, 0, 0, -9.99, 5);
    fmsp_step(&p, &s, 0, -0.5, 0);
    CHECK_NEAR(s.xp, 10.0, 0);
    CHECK_NEAR(s.theta, 0.0, 0);
    CHECK_NEAR(s.xe, -10.0, 0);
    CHECK_NEAR(s.ye, 5.0, 0);
    /* sliding: heading 45 degrees into the wall keeps moving in y */
    FmspState t = at(10, 0, M_PI / 4, -5, -5);
    fmsp_step(&p, &t, 0, 0, 0);
    CHECK_NEAR(t.xp, 10.0, 0);
    CHECK_NEAR(t.yp, p.dt * sin(M_PI / 4), 1e-12);
    /* open plane: no clamp */
    FmspParams o = open_params();
    FmspState u = at(9.99, 0, 0, 50, 50);
    fmsp_step(&o, &u, 0, 0, 0);
    CHECK_NEAR(u.xp, 10.04, 1e-12);
}

static void test_capture(void)
{
    FmspParams p = open_params();
    /* car heads straight at a still evader 1.0 away: distance after step k
     * is 1 - 0.05k; capture when <= 0.3, i.e. k = 14. */
    FmspState s = at(0, 0, 0, 1.0, 0);
    int k = 0;
    while (!fmsp_step(&p, &s, 0, 0, 0))
        k++;
    CHECK_INT(k + 1, 14);
    CHECK(s.captured);
    CHECK_NEAR(cartag_evader_score(&p, &s), 14 * p.dt / p.T, 1e-12);
    CHECK(fmsp_done(&p, &s));
    /* never captured: evader score 1 */
    FmspState e = at(0, 0, 0, 100, 0);
    e.step = p.max_steps;
    CHECK(fmsp_done(&p, &e));
    CHECK_NEAR(cartag_evader_score(&p, &e), 1.0, 0);
}

static void test_reset_seeded_and_valid(void)
{
    FmspParams p;
    cartag_params_default(&p);
    FmspState a, b, c;
    cartag_reset(&p, 42, &a);
    cartag_reset(&p, 42, &b);
    cartag_reset(&p, 43, &c);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(a.xp != c.xp);
    for (uint64_t seed = 0; seed < 2000; seed++) {
        cartag_reset(&p, cartag_episode_seed(7, (int)seed), &a);
        double d = fmsp_distance(&a);
        if (!(d >= 4.0 && d <= 10.0 && fabs(a.xp) <= 10 && fabs(a.ye) <= 10 &&
              a.theta >= -M_PI && a.theta < M_PI && a.step == 0 && !a.captured)) {
            CHECK_MSG(0, "bad start for seed %llu: d=%g", (unsigned long long)seed, d);
            break;
        }
    }
}

static void test_episode_seeds(void)
{
    CHECK(cartag_episode_seed(1, 0) != cartag_episode_seed(1, 1));
    CHECK(cartag_episode_seed(1, 0) != cartag_episode_seed(2, 0));
    CHECK(cartag_episode_seed(1, 5) == cartag_episode_seed(1, 5));
    uint64_t es = cartag_episode_seed(1, 0);
    CHECK(cartag_policy_seed(es, FMSP_PURSUER) != cartag_policy_seed(es, FMSP_EVADER));
}

static void test_rng(void)
{
    FmspRng a, b;
    fmsp_rng_seed(&a, 9);
    fmsp_rng_seed(&b, 9);
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double x = fmsp_rng_uniform(&a);
        CHECK(x == fmsp_rng_uniform(&b));
        if (!(x >= 0 && x < 1)) {
            CHECK(0);
            break;
        }
        sum += x;
    }
    CHECK_NEAR(sum / 10000, 0.5, 0.02);
    double n = 0, n2 = 0;
    for (int i = 0; i < 20000; i++) {
        double z = fmsp_rng_normal(&a);
        n += z;
        n2 += z * z;
    }
    CHECK_NEAR(n / 20000, 0.0, 0.05);
    CHECK_NEAR(n2 / 20000, 1.0, 0.05);
}

static void test_wrap_angle(void)
{
    CHECK_NEAR(fmsp_wrap_angle(M_PI), -M_PI, 1e-15);
    CHECK_NEAR(fmsp_wrap_angle(3 * M_PI + 0.5), -M_PI + 0.5, 1e-12);
    CHECK_NEAR(fmsp_wrap_angle(-7.0), -7.0 + 2 * M_PI, 1e-12);
    CHECK_NEAR(fmsp_wrap_angle(0.25), 0.25, 0);
}

static void test_scenarios_and_params(void)
{
    FmspParams p;
    char err[256];
    CHECK(cartag_scenario("arena", &p, err, sizeof err) == FMSP_OK && p.walls == 1);
    CHECK(cartag_scenario("open", &p, err, sizeof err) == FMSP_OK && p.walls == 0 && p.l == 0.3);
    CHECK(cartag_scenario("open-capture", &p, err, sizeof err) == FMSP_OK && p.l == 0.5);
    CHECK(cartag_scenario("open-threshold", &p, err, sizeof err) == FMSP_OK && p.walls == 0 &&
          p.l == 0.23 && p.ve == 0.5 && p.max_steps == 800);
    CHECK(cartag_scenario("moon", &p, err, sizeof err) == FMSP_ERR_NOTFOUND);
    CHECK_STR_HAS(err, "moon");
    CHECK_INT(p.max_steps, 800);
    CHECK(cartag_params_set(&p, "T=20", err, sizeof err) == FMSP_OK);
    CHECK_INT(p.max_steps, 400);
    CHECK(cartag_params_set(&p, "l=0.45", err, sizeof err) == FMSP_OK && p.l == 0.45);
    CHECK(cartag_params_set(&p, "walls=0", err, sizeof err) == FMSP_OK && p.walls == 0);
    CHECK(cartag_params_set(&p, "ve=-1", err, sizeof err) == FMSP_ERR_ARG);
    CHECK_STR_HAS(err, "ve");
    cartag_params_default(&p);
    CHECK(cartag_params_set(&p, "speed=2", err, sizeof err) == FMSP_ERR_ARG);
    CHECK_STR_HAS(err, "unknown parameter 'speed'");
    CHECK(cartag_params_set(&p, "vp=fast", err, sizeof err) == FMSP_ERR_ARG);
    CHECK_STR_HAS(err, "not a finite number");
    CHECK(cartag_params_set(&p, "dt=nan", err, sizeof err) == FMSP_ERR_ARG);
    CHECK(cartag_params_set(&p, "walls=2", err, sizeof err) == FMSP_ERR_ARG);
    CHECK(cartag_params_set(&p, "novalue", err, sizeof err) == FMSP_ERR_ARG);
    CHECK(cartag_params_set(&p, "T=1e9", err, sizeof err) == FMSP_ERR_ARG);
    FmspControl bad = {NAN, 0, 0}, good = {0.5, 0.1, 0.2}, inf = {0, INFINITY, 0};
    CHECK(!cartag_control_finite(&bad));
    CHECK(!cartag_control_finite(&inf));
    CHECK(cartag_control_finite(&good));
}

int main(void)
{
    RUN(test_arc_matches_circle);
    RUN(test_partial_turn_radius);
    RUN(test_straight_and_clipping);
    RUN(test_evader_speed_scaled);
    RUN(test_walls_clamp_and_keep_heading);
    RUN(test_capture);
    RUN(test_reset_seeded_and_valid);
    RUN(test_episode_seeds);
    RUN(test_rng);
    RUN(test_wrap_angle);
    RUN(test_scenarios_and_params);
    return harness_done("test_cartag");
}
