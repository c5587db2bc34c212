/*
 * test_eval.c - the evidence math against hand-computed values: Elo by
 * maximum likelihood, the maximum-entropy Nash equilibrium (including
 * intransitive and degenerate games), exploitability, PCA and the QD-score.
 */
#include <stdint.h>

#include "eval/agreement.h"
#include "eval/qd.h"
#include "match/match.h"
#include "eval/ratings.h"
#include "harness.h"

#define ELO_UNIT (400.0 / M_LN10)

static double sum(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}

/* ---- Elo ---- */

static void test_elo_even(void)
{
    double score[1] = {0.5}, games[1] = {10}, r[2], ci[2];
    CHECK_INT(elo_fit(score, games, 1, 1, 0, r, ci), 0);
    CHECK_NEAR(r[0], 1500, 1e-9);
    CHECK_NEAR(r[1], 1500, 1e-9);
    CHECK_INT(elo_fit(score, games, 1, 1, 1.0, r, NULL), 0);
    CHECK_NEAR(r[0], 1500, 1e-9);
    CHECK_NEAR(r[1], 1500, 1e-9);
}

static void test_elo_three_to_one(void)
{
    /* 75% is odds 3:1, so R_row - R_col = 400 log10(3) = 190.848... */
    double score[1] = {0.75}, games[1] = {100}, r[2], ci[2];
    CHECK_INT(elo_fit(score, games, 1, 1, 0, r, ci), 0);
    CHECK_NEAR(r[0] - r[1], 400 * log10(3.0), 1e-7);
    CHECK_NEAR(r[0] + r[1], 3000, 1e-9);
    /* Var(r_0 - mean) = 1/(4 g p(1-p)) in logits: p(1-p) = 3/16, g = 100,
     * so sd = sqrt(1/75) logits and the half-width 1.96 sd * 400/ln 10. */
    double want = 1.96 * sqrt(1.0 / 75) * ELO_UNIT;
    CHECK_NEAR(ci[0], want, 1e-6);
    CHECK_NEAR(ci[1], want, 1e-6);

    /* The prior (1 virtual game at 50% each) pulls the gap in, slightly. */
    CHECK_INT(elo_fit(score, games, 1, 1, 1.0, r, NULL), 0);
    double gap = r[0] - r[1];
    CHECK(gap < 400 * log10(3.0) - 0.5);
    CHECK(gap > 400 * log10(3.0) - 10);

    /* Ten times the games: the interval shrinks by sqrt(10) exactly. */
    double many[1] = {1000}, ci_many[2];
    CHECK_INT(elo_fit(score, many, 1, 1, 0, r, ci_many), 0);
    CHECK_NEAR(ci[0] / ci_many[0], sqrt(10.0), 1e-6);
}

static void test_elo_symmetric_chain(void)
{
    /* Rows and columns share a strong and a weak player: strong v strong
     * and weak v weak draw, strong beats weak 70%. The data fits the model
     * exactly: strong - weak = 400 log10(7/3) on both sides. */
    double score[4] = {0.5, 0.7, 0.3, 0.5}, games[4] = {20, 20, 20, 20}, r[4];
    CHECK_INT(elo_fit(score, games, 2, 2, 0, r, NULL), 0);
    double gap = 400 * log10(7.0 / 3.0);
    CHECK_NEAR(r[0], 1500 + gap / 2, 1e-7);
    CHECK_NEAR(r[1], 1500 - gap / 2, 1e-7);
    CHECK_NEAR(r[2], r[0], 1e-7);
    CHECK_NEAR(r[3], r[1], 1e-7);
    CHECK_NEAR(sum(r, 4), 6000, 1e-7);

    /* A three-step chain a > b > c with equal steps, rows a and c against
     * column b: a beats b 60%, c loses to b 60%; symmetric about b. */
    double chain[2] = {0.6, 0.4}, chain_games[2] = {50, 50}, rc[3];
    CHECK_INT(elo_fit(chain, chain_games, 2, 1, 0, rc, NULL), 0);
    CHECK_NEAR(rc[2], 1500, 1e-7);
    CHECK_NEAR(rc[0] - rc[2], 400 * log10(1.5), 1e-7);
    CHECK_NEAR(rc[2] - rc[1], 400 * log10(1.5), 1e-7);
}

static void test_elo_monotone(void)
{
    double prev = -1e9;
    for (int k = 0; k <= 10; k++) {
        double s = k / 10.0, score[2] = {s, 0.5}, games[2] = {10, 10}, r[3];
        CHECK_INT(elo_fit(score, games, 1, 2, 1.0, r, NULL), 0);
        CHECK(r[0] > prev);
        CHECK(isfinite(r[0]));
        prev = r[0];
    }
}

static void test_elo_edges(void)
{
    /* A perfect record has no finite MLE: prior 0 fails, the prior fixes it. */
    double score[1] = {1.0}, games[1] = {10}, r[2], ci[2];
    CHECK_INT(elo_fit(score, games, 1, 1, 0, r, NULL), -1);
    CHECK_INT(elo_fit(score, games, 1, 1, 1.0, r, ci), 0);
    CHECK(r[0] > 1700 && r[0] < 2500);
    CHECK_NEAR(r[0] + r[1], 3000, 1e-9);
    CHECK(ci[0] > 0 && isfinite(ci[0]));

    /* An unplayed cell is ignored (its score is garbage); a policy with no
     * games sits at the mean with the prior and makes prior 0 fail. */
    double s2[2] = {0.75, 123.0}, g2[2] = {100, 0}, r3[3];
    CHECK_INT(elo_fit(s2, g2, 1, 2, 1.0, r3, NULL), 0);
    CHECK_NEAR(r3[2], 1500, 1e-7);
    CHECK(r3[0] > r3[1]);
    CHECK_INT(elo_fit(s2, g2, 1, 2, 0, r3, NULL), -1);
    /* NULL games: every cell played once. */
    CHECK_INT(elo_fit(score, NULL, 1, 1, 1.0, r, NULL), 0);
    CHECK(r[0] > r[1]);

    CHECK_INT(elo_fit(score, games, 0, 1, 1.0, r, NULL), -1);
    CHECK_INT(elo_fit(score, games, 1, 1, -1, r, NULL), -1);
    CHECK_INT(elo_fit(NULL, games, 1, 1, 1, r, NULL), -1);
}

/* ---- Nash ---- */

/* Checks the equilibrium conditions of (p, q) for the game A = score - 0.5
 * (all cells played): mixtures, p^T A >= v, A q <= v, payoffs. */
static void check_equilibrium(const double *score, int n1, int n2, const double *p, const double *q,
                              const double *rowpay, const double *colpay, double v)
{
    CHECK_NEAR(sum(p, n1), 1, 1e-12);
    CHECK_NEAR(sum(q, n2), 1, 1e-12);
    for (int i = 0; i < n1; i++)
        CHECK(p[i] >= 0);
    for (int j = 0; j < n2; j++)
        CHECK(q[j] >= 0);
    for (int j = 0; j < n2; j++) {
        double pay = 0;
        for (int i = 0; i < n1; i++)
            pay += p[i] * (score[i * n2 + j] - 0.5);
        CHECK_MSG(pay >= v - 1e-9, "column %d: %.17g < %.17g", j, pay, v);
        CHECK_NEAR(colpay[j], -pay, 1e-12);
    }
    for (int i = 0; i < n1; i++) {
        double pay = 0;
        for (int j = 0; j < n2; j++)
            pay += (score[i * n2 + j] - 0.5) * q[j];
        CHECK_MSG(pay <= v + 1e-9, "row %d: %.17g > %.17g", i, pay, v);
        CHECK_NEAR(rowpay[i], pay, 1e-12);
    }
}

static const double RPS[9] = {0.5, 0, 1, 1, 0.5, 0, 0, 1, 0.5};

static void test_nash_rps(void)
{
    double p[3], q[3], rp[3], cp[3];
    NashResult res;
    CHECK_INT(nash_maxent(RPS, NULL, 3, 3, p, q, rp, cp, &res), 0);
    for (int i = 0; i < 3; i++) {
        CHECK_NEAR(p[i], 1.0 / 3, 1e-9);
        CHECK_NEAR(q[i], 1.0 / 3, 1e-9);
        CHECK_NEAR(rp[i], 0, 1e-9);
        CHECK_NEAR(cp[i], 0, 1e-9);
    }
    CHECK_NEAR(res.value, 0, 1e-12);
    CHECK_INT(res.support_rows, 3);
    CHECK_INT(res.support_cols, 3);
    check_equilibrium(RPS, 3, 3, p, q, rp, cp, res.value);
}

static void test_nash_matching_pennies(void)
{
    double score[4] = {1, 0, 0, 1}, p[2], q[2], rp[2], cp[2];
    NashResult res;
    CHECK_INT(nash_maxent(score, NULL, 2, 2, p, q, rp, cp, &res), 0);
    CHECK_NEAR(p[0], 0.5, 1e-9);
    CHECK_NEAR(q[1], 0.5, 1e-9);
    CHECK_NEAR(res.value, 0, 1e-12);
    check_equilibrium(score, 2, 2, p, q, rp, cp, res.value);
}

static void test_nash_dominated(void)
{
    /* RPS plus a fourth row (0.4, 0, 0.9): against the unique column
     * equilibrium (uniform) it earns (0.4 + 0 + 0.9)/3 - 0.5 = -1/15 < 0,
     * so it is in no equilibrium and gets exactly 0. */
    double score[12];
    memcpy(score, RPS, sizeof RPS);
    score[9] = 0.4, score[10] = 0, score[11] = 0.9;
    double p[4], q[3], rp[4], cp[3];
    NashResult res;
    CHECK_INT(nash_maxent(score, NULL, 4, 3, p, q, rp, cp, &res), 0);
    CHECK(p[3] == 0);
    for (int i = 0; i < 3; i++) {
        CHECK_NEAR(p[i], 1.0 / 3, 1e-9);
        CHECK_NEAR(q[i], 1.0 / 3, 1e-9);
    }
    CHECK_NEAR(rp[3], -1.0 / 15, 1e-9);
    CHECK_INT(res.support_rows, 3);
    check_equilibrium(score, 4, 3, p, q, rp, cp, res.value);

    /* A strictly dominated row in a 2x2: row 1 < row 0 everywhere, the
     * column then picks 0.6 < 0.8: a saddle point with value 0.1. */
    double s2[4] = {0.8, 0.6, 0.3, 0.5}, p2[2], q2[2], rp2[2], cp2[2];
    CHECK_INT(nash_maxent(s2, NULL, 2, 2, p2, q2, rp2, cp2, &res), 0);
    CHECK(p2[1] == 0 && q2[0] == 0);
    CHECK_NEAR(p2[0], 1, 1e-12);
    CHECK_NEAR(res.value, 0.1, 1e-12);
    CHECK_NEAR(rp2[1], 0.0, 1e-12);
    CHECK_NEAR(cp2[0], -0.3, 1e-12);
}

static void test_nash_duplicate(void)
{
    /* RPS with rock duplicated: the equilibrium is unique up to the split
     * between the copies, which max entropy makes equal (1/6 each); q and
     * every payoff are those of plain RPS. */
    double score[12] = {0.5, 0, 1, 1, 0.5, 0, 0, 1, 0.5, 0.5, 0, 1};
    double p[4], q[3], rp[4], cp[3];
    NashResult res;
    CHECK_INT(nash_maxent(score, NULL, 4, 3, p, q, rp, cp, &res), 0);
    CHECK_NEAR(p[0], 1.0 / 6, 1e-9);
    CHECK_NEAR(p[3], 1.0 / 6, 1e-9);
    CHECK_NEAR(p[1], 1.0 / 3, 1e-9);
    CHECK_NEAR(p[2], 1.0 / 3, 1e-9);
    for (int j = 0; j < 3; j++) {
        CHECK_NEAR(q[j], 1.0 / 3, 1e-9);
        CHECK_NEAR(cp[j], 0, 1e-9);
    }
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(rp[i], 0, 1e-9);
    check_equilibrium(score, 4, 3, p, q, rp, cp, res.value);

    /* The 2x3 game of test_nash_2x3 with row 0 copied: no payoff moves. */
    double base[6] = {1.0, 0.2, 0.6, 0.0, 0.7, 0.5};
    double copy[9] = {1.0, 0.2, 0.6, 0.0, 0.7, 0.5, 1.0, 0.2, 0.6};
    double bp[2], bq[3], brp[2], bcp[3], cp3[3], crp[3], cq[3], cpp[3];
    CHECK_INT(nash_maxent(base, NULL, 2, 3, bp, bq, brp, bcp, NULL), 0);
    CHECK_INT(nash_maxent(copy, NULL, 3, 3, cpp, cq, crp, cp3, NULL), 0);
    CHECK_NEAR(cpp[0], bp[0] / 2, 1e-9);
    CHECK_NEAR(cpp[2], bp[0] / 2, 1e-9);
    CHECK_NEAR(cpp[1], bp[1], 1e-9);
    CHECK_NEAR(crp[0], brp[0], 1e-9);
    CHECK_NEAR(crp[2], brp[0], 1e-9);
    CHECK_NEAR(crp[1], brp[1], 1e-9);
    for (int j = 0; j < 3; j++) {
        CHECK_NEAR(cq[j], bq[j], 1e-9);
        CHECK_NEAR(cp3[j], bcp[j], 1e-9);
    }
}

static void test_nash_maxent_segment(void)
{
    /* Rows (A = score - 0.5): r0 = (0, 0), r1 = (0.5, -0.5), r2 = r3 =
     * (-0.5, 0.5). Value 0; the row equilibria are every p with
     * p1 = p2 + p3, a whole polytope. By symmetry p2 = p3 = c, p1 = 2c,
     * p0 = 1 - 4c; d/dc of the entropy: 4 log(1-4c) - 2 log(2c) - 2 log c
     * = 0, i.e. (1-4c)^2 = 2c^2, c = 1/(4 + sqrt 2). The column equilibrium
     * is unique: q = (1/2, 1/2). */
    double score[8] = {0.5, 0.5, 1, 0, 0, 1, 0, 1}, p[4], q[2], rp[4], cp[2];
    NashResult res;
    CHECK_INT(nash_maxent(score, NULL, 4, 2, p, q, rp, cp, &res), 0);
    double c = 1 / (4 + sqrt(2.0));
    CHECK_NEAR(p[0], 1 - 4 * c, 1e-9);
    CHECK_NEAR(p[1], 2 * c, 1e-9);
    CHECK_NEAR(p[2], c, 1e-9);
    CHECK_NEAR(p[3], c, 1e-9);
    CHECK_NEAR(q[0], 0.5, 1e-9);
    CHECK_NEAR(res.value, 0, 1e-12);
    CHECK_INT(res.support_rows, 4);
    check_equilibrium(score, 4, 2, p, q, rp, cp, res.value);

    /* All draws: every strategy is optimal, max entropy is uniform. */
    double draws[6] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, dp[2], dq[3];
    CHECK_INT(nash_maxent(draws, NULL, 2, 3, dp, dq, NULL, NULL, NULL), 0);
    CHECK_NEAR(dp[0], 0.5, 1e-9);
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(dq[j], 1.0 / 3, 1e-9);
}

static void test_nash_saddle(void)
{
    /* Row 0's minimum 0.6 (column 0) is column 0's maximum: a pure saddle
     * with value 0.1; both equilibria are unique. */
    double score[9] = {0.6, 0.7, 0.8, 0.3, 0.9, 0.2, 0.4, 0.1, 0.9};
    double p[3], q[3], rp[3], cp[3];
    NashResult res;
    CHECK_INT(nash_maxent(score, NULL, 3, 3, p, q, rp, cp, &res), 0);
    CHECK_NEAR(p[0], 1, 1e-12);
    CHECK_NEAR(q[0], 1, 1e-12);
    CHECK(p[1] == 0 && p[2] == 0 && q[1] == 0 && q[2] == 0);
    CHECK_NEAR(res.value, 0.1, 1e-12);
    CHECK_INT(res.support_rows, 1);
    CHECK_INT(res.support_cols, 1);
    check_equilibrium(score, 3, 3, p, q, rp, cp, res.value);
}

static void test_nash_2x3(void)
{
    /*
     * score = [1.0 0.2 0.6; 0.0 0.7 0.5], A = [0.5 -0.3 0.1; -0.5 0.2 0].
     * Row plays (a, 1-a); the columns pay the row a - 0.5, 0.2 - 0.5a and
     * 0.1a. The lower envelope peaks where the first two cross:
     * a - 0.5 = 0.2 - 0.5a, a = 7/15, value 7/15 - 1/2 = -1/30 (column 2
     * then pays 7/150 > -1/30, so it is not used). Column plays
     * (b, 1-b, 0): rows get 0.8b - 0.3 and 0.2 - 0.7b, equal at b = 1/3.
     * Column payoffs -(A^T p): 1/30, 1/30, -7/150.
     */
    double score[6] = {1.0, 0.2, 0.6, 0.0, 0.7, 0.5}, p[2], q[3], rp[2], cp[3];
    NashResult res;
    CHECK_INT(nash_maxent(score, NULL, 2, 3, p, q, rp, cp, &res), 0);
    CHECK_NEAR(p[0], 7.0 / 15, 1e-9);
    CHECK_NEAR(p[1], 8.0 / 15, 1e-9);
    CHECK_NEAR(q[0], 1.0 / 3, 1e-9);
    CHECK_NEAR(q[1], 2.0 / 3, 1e-9);
    CHECK(q[2] == 0);
    CHECK_NEAR(res.value, -1.0 / 30, 1e-12);
    CHECK_NEAR(rp[0], -1.0 / 30, 1e-9);
    CHECK_NEAR(rp[1], -1.0 / 30, 1e-9);
    CHECK_NEAR(cp[0], 1.0 / 30, 1e-9);
    CHECK_NEAR(cp[1], 1.0 / 30, 1e-9);
    CHECK_NEAR(cp[2], -7.0 / 150, 1e-9);
    check_equilibrium(score, 2, 3, p, q, rp, cp, res.value);
}

static void test_nash_small(void)
{
    double one[1] = {0.7}, p[3], q[3], rp[3], cp[3];
    NashResult res;
    CHECK_INT(nash_maxent(one, NULL, 1, 1, p, q, rp, cp, &res), 0);
    CHECK_NEAR(p[0], 1, 0);
    CHECK_NEAR(q[0], 1, 0);
    CHECK_NEAR(res.value, 0.2, 1e-12);
    CHECK_NEAR(rp[0], 0.2, 1e-12);
    CHECK_NEAR(cp[0], -0.2, 1e-12);

    /* 1xN: the column plays its best reply; tied best replies split. */
    double row[3] = {0.3, 0.8, 0.1};
    CHECK_INT(nash_maxent(row, NULL, 1, 3, p, q, rp, cp, &res), 0);
    CHECK_NEAR(q[2], 1, 1e-12);
    CHECK_NEAR(res.value, -0.4, 1e-12);
    double tied[3] = {0.1, 0.1, 0.5};
    CHECK_INT(nash_maxent(tied, NULL, 1, 3, p, q, rp, cp, &res), 0);
    CHECK_NEAR(q[0], 0.5, 1e-9);
    CHECK_NEAR(q[1], 0.5, 1e-9);
    CHECK(q[2] == 0);
    CHECK_NEAR(cp[2], -0.0, 1e-12);
    /* Nx1 the same way round. */
    double col[3] = {0.3, 0.8, 0.8};
    CHECK_INT(nash_maxent(col, NULL, 3, 1, p, q, rp, cp, &res), 0);
    CHECK_NEAR(p[1], 0.5, 1e-9);
    CHECK_NEAR(p[2], 0.5, 1e-9);
    CHECK(p[0] == 0);
    CHECK_NEAR(res.value, 0.3, 1e-12);

    /* Unplayed cells are draws: column 1 was never played, A = (-0.3, 0). */
    double s[2] = {0.2, 0.9}, g[2] = {5, 0};
    CHECK_INT(nash_maxent(s, g, 1, 2, p, q, rp, cp, &res), 0);
    CHECK_NEAR(res.value, -0.3, 1e-12);
    CHECK_NEAR(q[0], 1, 1e-12);
    CHECK_NEAR(cp[1], 0, 1e-12);

    double s_nan[2] = {0.2, NAN};
    CHECK_INT(nash_maxent(s_nan, NULL, 1, 2, p, q, rp, cp, &res), 0);
    CHECK_NEAR(res.value, -0.3, 1e-12);
    CHECK_INT(nash_maxent(s, g, 0, 2, p, q, rp, cp, &res), -1);
    CHECK_INT(nash_maxent(NULL, g, 1, 2, p, q, rp, cp, &res), -1);
}

static double lcg_uniform(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 9007199254740992.0; /* 2^53 */
}

static void test_nash_random(void)
{
    uint64_t state = 12345;
    for (int trial = 0; trial < 50; trial++) {
        double score[42], p[6], q[7], rp[6], cp[7];
        for (int k = 0; k < 42; k++) {
            score[k] = lcg_uniform(&state);
            if (trial % 3 == 0) /* coarse scores: ties and degeneracy */
                score[k] = floor(score[k] * 4) / 4;
        }
        NashResult res;
        int rc = nash_maxent(score, NULL, 6, 7, p, q, rp, cp, &res);
        CHECK_MSG(rc == 0, "trial %d", trial);
        if (rc)
            continue;
        check_equilibrium(score, 6, 7, p, q, rp, cp, res.value);
        /* The value is what each side's mixture guarantees. */
        double wp[6];
        memcpy(wp, p, sizeof wp);
        CHECK_NEAR(exploitability_rows(score, 6, 7, wp), 0, 1e-9);
        CHECK_NEAR(exploitability_cols(score, 6, 7, q), 0, 1e-9);
    }
}

static void test_nash_hard(void)
{
    /* Two support rows nearly identical in one column: the dual multiplier
     * is ~250 and the covariance has rank 1 (a damped-Newton regression). */
    double near[12] = {0.8062609715789032,   0.17606788563430953, 0.14181479704264943,
                       0.96107767264695199,  0.12627998631189397, 0.055749309384146795,
                       0.052571887118122773, 0.18213314047006657, 0.92834427114014273,
                       0.75176449297053971,  0.12681165532854788, 0.51332907425347463};
    double p[40], q[40], rp[40], cp[40];
    NashResult res;
    CHECK_INT(nash_maxent(near, NULL, 4, 3, p, q, rp, cp, &res), 0);
    check_equilibrium(near, 4, 3, p, q, rp, cp, res.value);

    /* Small games with coarse scores (many ties, many equilibria) and a
     * copied first row: always solved, copies always equal. */
    uint64_t state = 777;
    for (int trial = 0; trial < 400; trial++) {
        int n1 = 2 + (int)(lcg_uniform(&state) * 5), n2 = 1 + (int)(lcg_uniform(&state) * 6);
        double score[42];
        for (int k = 0; k < n1 * n2; k++)
            score[k] = floor(lcg_uniform(&state) * 3) / 2;
        memcpy(score + (n1 - 1) * n2, score, (size_t)n2 * sizeof *score);
        int rc = nash_maxent(score, NULL, n1, n2, p, q, rp, cp, &res);
        CHECK_MSG(rc == 0, "trial %d", trial);
        if (rc)
            continue;
        check_equilibrium(score, n1, n2, p, q, rp, cp, res.value);
        CHECK_NEAR(p[0], p[n1 - 1], 1e-9);
    }

    /* 40 x 40 with a strength gradient and noise (transitive-ish, small
     * supports), scores in steps of 1/20 as from 20 games. */
    static double big[1600];
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < 40; j++) {
            double pr = 1 / (1 + exp(-(i - j) * 0.05)) + 0.3 * (lcg_uniform(&state) - 0.5);
            big[i * 40 + j] = round(fmin(1, fmax(0, pr)) * 20) / 20;
        }
    CHECK_INT(nash_maxent(big, NULL, 40, 40, p, q, rp, cp, &res), 0);
    check_equilibrium(big, 40, 40, p, q, rp, cp, res.value);
}

static void test_exploitability(void)
{
    double uniform[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, rock[3] = {1, 0, 0};
    CHECK_NEAR(exploitability_rows(RPS, 3, 3, uniform), 0, 1e-12);
    CHECK_NEAR(exploitability_cols(RPS, 3, 3, uniform), 0, 1e-12);
    /* Pure rock: paper scores 1 against it, side 2's equilibrium score is
     * 0.5, so 0.5. */
    CHECK_NEAR(exploitability_rows(RPS, 3, 3, rock), 0.5, 1e-12);
    CHECK_NEAR(exploitability_cols(RPS, 3, 3, rock), 0.5, 1e-12);
    /* The 2x3 game: value -1/30; row 0 alone is held to -0.3 by column 1. */
    double score[6] = {1.0, 0.2, 0.6, 0.0, 0.7, 0.5}, w[2] = {1, 0};
    CHECK_NEAR(exploitability_rows(score, 2, 3, w), -1.0 / 30 + 0.3, 1e-12);
    CHECK(isnan(exploitability_rows(score, 0, 3, w)));
}

/* ---- PCA ---- */

static void test_pca_line(void)
{
    /* Points c + t (1, 2, 3), t = -2..2: one axis (1,2,3)/sqrt 14 holds all
     * the variance; point t projects to t sqrt 14. */
    float pts[15];
    for (int i = 0; i < 5; i++)
        for (int d = 0; d < 3; d++)
            pts[i * 3 + d] = (float)(10 * d + (i - 2) * (d + 1));
    double proj[10], ex[2];
    CHECK_INT(pca_project(pts, 5, 3, 2, proj, ex), 0);
    CHECK_NEAR(ex[0], 1, 1e-9);
    CHECK_NEAR(ex[1], 0, 1e-9);
    for (int i = 0; i < 5; i++) {
        CHECK_NEAR(proj[i * 2], (i - 2) * sqrt(14.0), 1e-9);
        CHECK_NEAR(proj[i * 2 + 1], 0, 1e-9);
    }
}

/* 16 points of the ellipse (3 cos t, sin t) rotated by 30 degrees and
 * placed in coordinates (d0, d1) of dim-dimensional space. */
static void ellipse(float *pts, int dim, int d0, int d1, double flip)
{
    double c = cos(M_PI / 6), s = sin(M_PI / 6);
    memset(pts, 0, 16 * (size_t)dim * sizeof *pts);
    for (int i = 0; i < 16; i++) {
        double t = 2 * M_PI * i / 16, x = 3 * cos(t), y = sin(t);
        pts[i * dim + d0] = (float)(flip * (c * x - s * y) + 5);
        pts[i * dim + d1] = (float)(flip * (s * x + c * y) - 1);
    }
}

static void test_pca_ellipse(void)
{
    /* Covariance over the 16 even angles: diag(9/2, 1/2) rotated, so the
     * axes are (cos 30, sin 30) and (-sin 30, cos 30) (largest component
     * positive) with variance shares 9/10 and 1/10; the projections give
     * back (3 cos t, sin t). Once with the covariance (n > dim), once with
     * the Gram matrix (16 points in 40 dimensions). */
    int dims[2] = {2, 40};
    for (int k = 0; k < 2; k++) {
        int dim = dims[k];
        float *pts = calloc(16 * (size_t)dim, sizeof *pts);
        double proj[32], again[32], ex[2], neg[32];
        ellipse(pts, dim, k ? 7 : 0, k ? 3 : 1, 1);
        CHECK_INT(pca_project(pts, 16, dim, 2, proj, ex), 0);
        CHECK_NEAR(ex[0], 0.9, 1e-6);
        CHECK_NEAR(ex[1], 0.1, 1e-6);
        for (int i = 0; i < 16; i++) {
            double t = 2 * M_PI * i / 16;
            CHECK_NEAR(proj[i * 2], 3 * cos(t), 1e-5);
            CHECK_NEAR(proj[i * 2 + 1], sin(t), 1e-5);
        }
        /* Deterministic, and the sign follows the axis, not the data. */
        CHECK_INT(pca_project(pts, 16, dim, 2, again, NULL), 0);
        CHECK(memcmp(proj, again, sizeof proj) == 0);
        ellipse(pts, dim, k ? 7 : 0, k ? 3 : 1, -1);
        CHECK_INT(pca_project(pts, 16, dim, 2, neg, NULL), 0);
        for (int i = 0; i < 32; i++)
            CHECK_NEAR(neg[i], -proj[i], 1e-5);
        free(pts);
    }
}

static void test_pca_edges(void)
{
    float same[6] = {1, 2, 3, 1, 2, 3}, one[3] = {4, 5, 6};
    double proj[6] = {9, 9, 9, 9, 9, 9}, ex[2] = {9, 9};
    CHECK_INT(pca_project(same, 2, 3, 2, proj, ex), 0);
    for (int i = 0; i < 4; i++)
        CHECK(proj[i] == 0);
    CHECK(ex[0] == 0 && ex[1] == 0);
    CHECK_INT(pca_project(one, 1, 3, 2, proj, ex), 0);
    CHECK(proj[0] == 0 && proj[1] == 0 && ex[0] == 0);
    /* Two distinct points: one axis, the second projects to 0. */
    float two[6] = {0, 0, 0, 2, 0, 0};
    CHECK_INT(pca_project(two, 2, 3, 2, proj, ex), 0);
    CHECK_NEAR(proj[0], -1, 1e-12);
    CHECK_NEAR(proj[2], 1, 1e-12);
    CHECK(proj[1] == 0 && proj[3] == 0);
    CHECK_NEAR(ex[0], 1, 1e-12);
    float bad[3] = {1, NAN, 0};
    CHECK_INT(pca_project(bad, 1, 3, 1, proj, NULL), -1);
    CHECK_INT(pca_project(one, 1, 3, 4, proj, NULL), -1);
    CHECK_INT(pca_project(one, 0, 3, 1, proj, NULL), -1);
}

/* ---- QD-score ---- */

static void test_qd_cells(void)
{
    /* Bounds from the points: [0,1] x [0,1], 2 x 2 cells of side 0.5.
     * (0,0) and (0.1,0.1) share cell (0,0): best 0.5; (1,1) is on the upper
     * edge, cell (1,1): 0.8; (0.9,0.2) is cell (1,0): 0.3. Coverage 3,
     * QD-score 0.5 + 0.8 + 0.3 = 1.6, with offset 1: 4.6. */
    double pts[8] = {0, 0, 1, 1, 0.1, 0.1, 0.9, 0.2}, quality[4] = {0.2, 0.8, 0.5, 0.3};
    QdMap map;
    CHECK_INT(qd_score(pts, quality, 4, 2, 0, NULL, NULL, &map), 0);
    CHECK_INT(map.coverage, 3);
    CHECK_NEAR(map.qd_score, 1.6, 1e-12);
    CHECK_NEAR(map.lo[0], 0, 0);
    CHECK_NEAR(map.hi[1], 1, 0);
    CHECK_INT(qd_score(pts, quality, 4, 2, 1.0, NULL, NULL, &map), 0);
    CHECK_NEAR(map.qd_score, 4.6, 1e-12);
    /* One cell: everything in it, the best is 0.8. */
    CHECK_INT(qd_score(pts, quality, 4, 1, 0, NULL, NULL, &map), 0);
    CHECK_INT(map.coverage, 1);
    CHECK_NEAR(map.qd_score, 0.8, 1e-12);
    /* A NaN quality is skipped (same bounds given: the NaN point must not
     * set them either). */
    double nanq[4] = {0.2, NAN, 0.5, 0.3}, lo[2] = {0, 0}, hi[2] = {1, 1};
    CHECK_INT(qd_score(pts, nanq, 4, 2, 0, lo, hi, &map), 0);
    CHECK_INT(map.coverage, 2);
    CHECK_NEAR(map.qd_score, 0.8, 1e-12);
    /* Empty set. */
    CHECK_INT(qd_score(NULL, NULL, 0, 4, 0, NULL, NULL, &map), 0);
    CHECK_INT(map.coverage, 0);
    CHECK_INT(qd_score(pts, quality, 4, 0, 0, NULL, NULL, &map), -1);
}

static void test_qd_shared_bounds(void)
{
    /* One map [0,4] x [0,4], 4 x 4 cells of side 1, for two runs. Run A's
     * points spread over 3 cells; run B's cluster in one cell, which its own
     * bounds would have stretched to a full grid. */
    double lo[2] = {0, 0}, hi[2] = {4, 4};
    double a[6] = {0.5, 0.5, 3.5, 3.5, 1.5, 0.5}, qa[3] = {0.5, 0.5, 0.5};
    double b[6] = {2.1, 2.1, 2.2, 2.9, 2.9, 2.5}, qb[3] = {0.9, 0.1, 0.4};
    QdMap ma, mb, own;
    CHECK_INT(qd_score(a, qa, 3, 4, 0, lo, hi, &ma), 0);
    CHECK_INT(qd_score(b, qb, 3, 4, 0, lo, hi, &mb), 0);
    CHECK_INT(ma.coverage, 3);
    CHECK_NEAR(ma.qd_score, 1.5, 1e-12);
    CHECK_INT(mb.coverage, 1);
    CHECK_NEAR(mb.qd_score, 0.9, 1e-12);
    CHECK_NEAR(mb.hi[0], 4, 0);
    CHECK_INT(qd_score(b, qb, 3, 4, 0, NULL, NULL, &own), 0);
    CHECK_INT(own.coverage, 3);
    /* Outside the given bounds: clamped into the edge cells. */
    double out[4] = {-1, -1, 9, 9}, qo[2] = {0.25, 0.75};
    CHECK_INT(qd_score(out, qo, 2, 4, 0, lo, hi, &ma), 0);
    CHECK_INT(ma.coverage, 2);
    CHECK_NEAR(ma.qd_score, 1.0, 1e-12);
    double bad_lo[2] = {5, 0};
    CHECK_INT(qd_score(out, qo, 2, 4, 0, bad_lo, hi, &ma), -1);
}


/* Distance matrix of n points on a line (|x_i - x_j|), through f. */
static void line_dist(const double *x, int n, double *d, double (*f)(double))
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            d[i * n + j] = f(fabs(x[i] - x[j]));
}

static double ident(double v) { return v; }

/* Quality's interval: pair standard errors in quadrature over the count. */
static void test_mean_of_means_ci(void)
{
    double ci[3] = {1.96, 1.96, 0};
    CHECK_NEAR(stats_mean_of_means_ci(ci, 2), 1.96 * sqrt(2.0) / 2, 1e-12);
    CHECK_NEAR(stats_mean_of_means_ci(ci, 3), 1.96 * sqrt(2.0) / 3, 1e-12);
    CHECK_NEAR(stats_mean_of_means_ci(ci + 2, 1), 0, 1e-12);
    CHECK(isnan(stats_mean_of_means_ci(ci, 0)));
}

static void test_agreement_hand(void)
{
    /* 3 points, pairs (0,1), (0,2), (1,2): distances 1, 2, 3 and 3, 1, 2.
     * Ranks 1 2 3 against 3 1 2: covariance -1, variances 2 and 2: -0.5 */
    double a[9] = {0, 1, 2, 1, 0, 3, 2, 3, 0}, b[9] = {0, 3, 1, 3, 0, 2, 1, 2, 0};
    CHECK_NEAR(agreement_spearman(a, b, 3, 0, 1, NULL), -0.5, 1e-12);
    /* ties take average ranks: 1 1 2 against 1 2 3 -> ranks 1.5 1.5 3 and
     * 1 2 3: covariance 1.5, variances 1.5 and 2: 1.5 / sqrt(3) */
    double c[9] = {0, 1, 1, 1, 0, 2, 1, 2, 0};
    CHECK_NEAR(agreement_spearman(c, a, 3, 0, 1, NULL), 1.5 / sqrt(3.0), 1e-12);
    /* too few points, or no spread: undefined */
    CHECK(isnan(agreement_spearman(a, b, 2, 0, 1, NULL)));
    double z[9] = {0};
    CHECK(isnan(agreement_spearman(z, a, 3, 0, 1, NULL)));
}

static void test_agreement_permutation(void)
{
    enum { N = 10 };
    double x[N], y[N], da[N * N], db[N * N], dc[N * N];
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (double)(s >> 11) / 9007199254740992.0;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        y[i] = (double)(s >> 11) / 9007199254740992.0;
    }
    line_dist(x, N, da, ident);
    line_dist(x, N, db, sqrt); /* monotone: the same ranks */
    line_dist(y, N, dc, ident); /* unrelated points */
    double p;
    CHECK_NEAR(agreement_spearman(da, db, N, 999, 7, &p), 1.0, 1e-12);
    CHECK(p < 0.01);
    double rho = agreement_spearman(da, dc, N, 999, 7, &p);
    CHECK(fabs(rho) < 0.5);
    CHECK(p > 0.05);
    /* the same seed gives the same p-value */
    double p2;
    agreement_spearman(da, dc, N, 999, 7, &p2);
    CHECK(p == p2);
}

int main(void)
{
    RUN(test_elo_even);
    RUN(test_elo_three_to_one);
    RUN(test_elo_symmetric_chain);
    RUN(test_elo_monotone);
    RUN(test_elo_edges);
    RUN(test_nash_rps);
    RUN(test_nash_matching_pennies);
    RUN(test_nash_dominated);
    RUN(test_nash_duplicate);
    RUN(test_nash_maxent_segment);
    RUN(test_nash_saddle);
    RUN(test_nash_2x3);
    RUN(test_nash_small);
    RUN(test_nash_random);
    RUN(test_nash_hard);
    RUN(test_exploitability);
    RUN(test_pca_line);
    RUN(test_pca_ellipse);
    RUN(test_pca_edges);
    RUN(test_qd_cells);
    RUN(test_qd_shared_bounds);
    RUN(test_mean_of_means_ci);
    RUN(test_agreement_hand);
    RUN(test_agreement_permutation);
    return harness_done("test_eval");
}
