/*
 * ratings.c - Elo by maximum likelihood, the maximum-entropy Nash equilibrium
 * of the cross-play meta-game, and exploitability.
 *
 * Definitions (the data layout is in ratings.h):
 *
 * Elo. The Bradley-Terry model (Bradley & Terry 1952) on the Elo scale:
 * with r = R * ln(10)/400, P(a beats b) = sigmoid(r_a - r_b). A cell with g
 * games and score s is g*s wins of the row and g*(1-s) of the column; the
 * log-likelihood is concave and invariant under adding a constant to every
 * rating, so the fit is done in the subspace sum(r) = 0. The prior adds, for
 * every policy, prior_games/2 wins and prior_games/2 losses against a virtual
 * opponent rated at the mean of all ratings (concave, shift-invariant, zero
 * gradient at r = mean). Hunter (2004, "MM algorithms for generalized
 * Bradley-Terry models", Ann. Statist. 32) gives the classic MM iteration;
 * we use Newton's method with a backtracking line search instead because it
 * converges quadratically and its Hessian is the observed information the
 * confidence intervals need anyway. Newton solves
 * (-H + c J/N) d = grad (J the all-ones matrix): the c J/N term fixes the
 * shift; with -H's null space exactly the constants (a connected comparison
 * graph) its inverse is pinv(-H) + J/(cN), so var(r_i - mean r) is the
 * diagonal minus 1/(cN).
 *
 * Nash averaging (Balduzzi, Tuyls, Perolat & Graepel, "Re-evaluating
 * evaluation", NeurIPS 2018; OpenSpiel's evaluation tools follow it): the
 * meta-game A = score - 0.5 is zero-sum; each side plays the maximum-entropy
 * mixture among its equilibrium strategies, and a policy is rated by its
 * payoff against the other side's mixture. Computed in three steps:
 *   1. the value v by the simplex method on the shifted game B = A + shift
 *      (B >= 1): max 1^T y s.t. B y <= 1, y >= 0 has optimum 1/(v + shift);
 *   2. the rows in the support of some equilibrium: for each row k not yet
 *      seen positive, an LP maximising p_k over the optimal set
 *      {p : A^T p >= v - slack} (each solution marks all rows above
 *      SUPPORT_MIN). The slack, 1e-13, only absorbs rounding in v; it is
 *      raised (1e-11, then 1e-9) if the set then looks empty;
 *   3. maximum entropy over that optimal set restricted to those rows, by its
 *      convex dual: p_i proportional to exp(sum_j lambda_j A_ij), minimising
 *      log sum_i exp((A lambda)_i) - (v - slack) sum_j lambda_j over
 *      lambda >= 0 by projected Newton (Bertsekas 1982) with a
 *      Levenberg-Marquardt ridge. Step 2 is what lets the dual attain its
 *      optimum (there is a feasible point with every retained p_i > 0), so
 *      rows in no equilibrium get exactly 0 and the dual converges to a
 *      projected gradient of 1e-13.
 * The column side is the same with the game -A^T. Identical rows have
 * identical (A lambda)_i and so get equal shares. Adding a copy of a row
 * leaves the column side's optimal set, hence q and every row's payoff,
 * unchanged; the column payoffs are unchanged whenever the row equilibrium is
 * unique (with several row equilibria the copy tilts max entropy towards it).
 * Checked against sampled points of the optimal set on 3000 random small
 * games (quantised scores, copies): none had higher entropy, beyond the
 * ~1e-9 that points using the slack can gain.
 *
 * Exploitability of a mixture (the one-sided half of NashConv): the gap
 * between the game value and what the mixture guarantees, in score units.
 */
#include "ratings.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

#define ELO_SCALE (400.0 / M_LN10) /* Elo points per natural-logit unit */
#define ELO_MAX_ITER 200
#define ELO_TOL 1e-10    /* Newton step, natural units */
#define LP_EPS 1e-12     /* pivot and reduced-cost tolerance */
#define SUPPORT_MIN 1e-7 /* an LP mass above this puts a row in the support */
#define DUAL_TOL 1e-13   /* projected-gradient tolerance of the entropy dual */
#define DUAL_MAX_ITER 500
#define EQ_CHECK 1e-9 /* the answer must satisfy A^T p >= v - EQ_CHECK */

/* ---- shared small helpers ---- */

/* A cell counts when it has games and a score (NaN: not played). */
static int cell_played(const double *score, const double *games, int idx)
{
    if (isnan(score[idx]))
        return 0;
    if (!games)
        return 1;
    double g = games[idx];
    return isfinite(g) && g > 0;
}

static double cell_score(const double *score, int idx)
{
    double s = score[idx];
    if (s < 0)
        return 0;
    return s > 1 ? 1 : s;
}

/* Cholesky factorisation in place (lower triangle); 0, or -1 when a is not
 * numerically positive definite. */
static int cholesky(double *a, int n)
{
    for (int j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (int k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0))
            return -1;
        d = sqrt(d);
        a[j * n + j] = d;
        for (int i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (int k = 0; k < j; k++)
                s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / d;
        }
    }
    return 0;
}

/* Solves L L^T x = b in place with the factor from cholesky(). */
static void cholesky_solve(const double *l, int n, double *b)
{
    for (int i = 0; i < n; i++) {
        double s = b[i];
        for (int k = 0; k < i; k++)
            s -= l[i * n + k] * b[k];
        b[i] = s / l[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = b[i];
        for (int k = i + 1; k < n; k++)
            s -= l[k * n + i] * b[k];
        b[i] = s / l[i * n + i];
    }
}

/* log(sigmoid(x)) without overflow. */
static double log_sigmoid(double x)
{
    return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

static double sigmoid(double x)
{
    return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

/* ---- Elo ---- */

typedef struct EloProblem {
    const double *score, *games;
    int n1, n2, n;
    double prior_games;
} EloProblem;

/* Log-likelihood at r; when grad is not NULL also its gradient and the
 * negative Hessian (n x n) in hess. */
static double elo_eval(const EloProblem *ep, const double *r, double *grad, double *hess)
{
    int n = ep->n;
    double ll = 0;
    if (grad) {
        memset(grad, 0, (size_t)n * sizeof *grad);
        memset(hess, 0, (size_t)n * n * sizeof *hess);
    }
    for (int i = 0; i < ep->n1; i++) {
        for (int j = 0; j < ep->n2; j++) {
            int idx = i * ep->n2 + j;
            if (!cell_played(ep->score, ep->games, idx))
                continue;
            double g = ep->games ? ep->games[idx] : 1.0;
            double wins = g * cell_score(ep->score, idx), losses = g - wins;
            int a = i, b = ep->n1 + j;
            double d = r[a] - r[b];
            ll += wins * log_sigmoid(d) + losses * log_sigmoid(-d);
            if (!grad)
                continue;
            double pr = sigmoid(d), w = g * pr * (1 - pr);
            grad[a] += wins - g * pr;
            grad[b] -= wins - g * pr;
            hess[a * n + a] += w;
            hess[b * n + b] += w;
            hess[a * n + b] -= w;
            hess[b * n + a] -= w;
        }
    }
    if (ep->prior_games > 0) {
        /* f_i = (g/2)(log s(d_i) + log s(-d_i)), d_i = r_i - mean(r). */
        double mean = 0, sum_f1 = 0, sum_f2 = 0;
        for (int i = 0; i < n; i++)
            mean += r[i];
        mean /= n;
        double *f1 = grad ? xcalloc((size_t)n, sizeof *f1) : NULL;
        double *f2 = grad ? xcalloc((size_t)n, sizeof *f2) : NULL;
        for (int i = 0; i < n; i++) {
            double d = r[i] - mean;
            ll += 0.5 * ep->prior_games * (log_sigmoid(d) + log_sigmoid(-d));
            if (!grad)
                continue;
            double pr = sigmoid(d);
            f1[i] = 0.5 * ep->prior_games * (1 - 2 * pr);
            f2[i] = ep->prior_games * pr * (1 - pr); /* minus the second derivative */
            sum_f1 += f1[i];
            sum_f2 += f2[i];
        }
        if (grad) {
            /* d d_i / d r_k = delta_ik - 1/n. */
            for (int k = 0; k < n; k++)
                grad[k] += f1[k] - sum_f1 / n;
            for (int a = 0; a < n; a++)
                for (int b = 0; b < n; b++)
                    hess[a * n + b] +=
                        (a == b ? f2[a] : 0) - (f2[a] + f2[b]) / n + sum_f2 / ((double)n * n);
            free(f1);
            free(f2);
        }
    }
    return ll;
}

/*
 * With no prior the MLE exists iff, for every split of the policies into
 * two groups, each group has some win against the other (Ford 1957; Hunter
 * 2004, Assumption 1): the "has beaten" digraph is strongly connected.
 * Checked by a forward and a backward search from policy 0.
 */
static int elo_mle_exists(const EloProblem *ep)
{
    int n = ep->n, ok = 1;
    int *seen = xcalloc((size_t)n, sizeof *seen), *stack = xcalloc((size_t)n, sizeof *stack);
    for (int dir = 0; dir < 2 && ok; dir++) {
        memset(seen, 0, (size_t)n * sizeof *seen);
        int top = 0, reached = 1;
        stack[top++] = 0;
        seen[0] = 1;
        while (top > 0) {
            int u = stack[--top];
            for (int v = 0; v < n; v++) {
                if (seen[v] || (u < ep->n1) == (v < ep->n1))
                    continue;
                int row = u < ep->n1 ? u : v, col = (u < ep->n1 ? v : u) - ep->n1;
                int idx = row * ep->n2 + col;
                if (!cell_played(ep->score, ep->games, idx))
                    continue;
                double s = cell_score(ep->score, idx);
                /* dir 0 follows "u has beaten v", dir 1 "v has beaten u". */
                int u_won = u == row ? s > 0 : s < 1, v_won = v == row ? s > 0 : s < 1;
                if (dir == 0 ? u_won : v_won) {
                    seen[v] = 1;
                    reached++;
                    stack[top++] = v;
                }
            }
        }
        ok = reached == n;
    }
    free(seen);
    free(stack);
    return ok;
}

int elo_fit(const double *score, const double *games, int n1, int n2, double prior_games,
            double *rating, double *ci95)
{
    if (!score || !rating || n1 < 1 || n2 < 1 || !(prior_games >= 0) || !isfinite(prior_games))
        return -1;
    EloProblem ep = {score, games, n1, n2, n1 + n2, prior_games};
    int n = ep.n, status = -1;
    if (prior_games == 0 && !elo_mle_exists(&ep)) {
        for (int i = 0; i < n; i++) {
            rating[i] = NAN;
            if (ci95)
                ci95[i] = NAN;
        }
        return -1;
    }
    double *r = xcalloc((size_t)n, sizeof *r), *trial = xcalloc((size_t)n, sizeof *trial);
    double *grad = xcalloc((size_t)n, sizeof *grad), *step = xcalloc((size_t)n, sizeof *step);
    double *hess = xcalloc((size_t)n * n, sizeof *hess);
    double shift_weight = 1;

    double ll = elo_eval(&ep, r, NULL, NULL);
    for (int iter = 0; iter < ELO_MAX_ITER; iter++) {
        elo_eval(&ep, r, grad, hess);
        double diag = 0;
        for (int i = 0; i < n; i++)
            diag += hess[i * n + i];
        shift_weight = diag / n > 1 ? diag / n : 1;
        for (int i = 0; i < n * n; i++)
            hess[i] += shift_weight / n;
        if (cholesky(hess, n))
            break;
        memcpy(step, grad, (size_t)n * sizeof *step);
        cholesky_solve(hess, n, step);
        double slope = 0, max_step = 0;
        for (int i = 0; i < n; i++) {
            slope += step[i] * grad[i];
            max_step = fmax(max_step, fabs(step[i]));
        }
        if (max_step < ELO_TOL) {
            status = 0;
            break;
        }
        double alpha = 2, next = ll;
        int accepted = 0;
        for (int k = 0; k < 50 && !accepted; k++) {
            alpha *= 0.5;
            for (int i = 0; i < n; i++)
                trial[i] = r[i] + alpha * step[i];
            next = elo_eval(&ep, trial, NULL, NULL);
            accepted = next >= ll + 1e-4 * alpha * slope - 1e-13 * fabs(ll);
        }
        if (!accepted)
            break;
        memcpy(r, trial, (size_t)n * sizeof *r);
        ll = next;
    }

    double mean = 0;
    for (int i = 0; i < n; i++)
        mean += r[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        rating[i] = status ? NAN : 1500 + (r[i] - mean) * ELO_SCALE;
    if (ci95) {
        /* hess holds the factor of (-H + cJ/n) at r when status == 0. */
        for (int i = 0; i < n; i++) {
            if (status) {
                ci95[i] = NAN;
                continue;
            }
            memset(step, 0, (size_t)n * sizeof *step);
            step[i] = 1;
            cholesky_solve(hess, n, step);
            double var = step[i] - 1 / (shift_weight * n);
            ci95[i] = 1.96 * sqrt(var > 0 ? var : 0) * ELO_SCALE;
        }
    }
    free(r);
    free(trial);
    free(grad);
    free(step);
    free(hess);
    return status;
}

/* ---- a dense two-phase simplex ---- */

/*
 * maximise c^T x subject to A x <= b, x >= 0; A is m x n row-major, b of any
 * sign. Dictionary form (Chvatal, "Linear Programming", 1983): d is an
 * (m+2) x (n+2) tableau whose row m is the objective, row m+1 the phase-1
 * objective, column n the artificial variable x0 and column n+1 the right-
 * hand side. basic[i] / nonbasic[j] name variables: 0..n-1 structural,
 * n..n+m-1 slacks, -1 the artificial one. Dantzig's rule with Bland's rule
 * after a run of degenerate pivots, so it cannot cycle.
 */
enum { LP_OPTIMAL, LP_INFEASIBLE, LP_UNBOUNDED, LP_STALLED };

typedef struct Lp {
    int m, n, width;
    int *basic, *nonbasic;
    double *d;
} Lp;

#define LPD(lp, i, j) ((lp)->d[(size_t)(i) * (lp)->width + (j)])

static void lp_pivot(Lp *lp, int r, int s)
{
    int rows = lp->m + 2, cols = lp->n + 2;
    double inv = 1.0 / LPD(lp, r, s);
    for (int i = 0; i < rows; i++) {
        if (i == r || LPD(lp, i, s) == 0)
            continue;
        double f = LPD(lp, i, s) * inv;
        for (int j = 0; j < cols; j++)
            if (j != s)
                LPD(lp, i, j) -= LPD(lp, r, j) * f;
    }
    for (int j = 0; j < cols; j++)
        if (j != s)
            LPD(lp, r, j) *= inv;
    for (int i = 0; i < rows; i++)
        if (i != r)
            LPD(lp, i, s) *= -inv;
    LPD(lp, r, s) = inv;
    int t = lp->basic[r];
    lp->basic[r] = lp->nonbasic[s];
    lp->nonbasic[s] = t;
}

static int lp_simplex(Lp *lp, int phase)
{
    int obj = phase == 1 ? lp->m + 1 : lp->m, degenerate = 0;
    long max_iter = 200L * (lp->m + lp->n) + 1000;
    for (long iter = 0; iter < max_iter; iter++) {
        int bland = degenerate > 20, s = -1;
        for (int j = 0; j <= lp->n; j++) {
            if (phase == 2 && lp->nonbasic[j] == -1)
                continue;
            double cj = LPD(lp, obj, j);
            if (cj >= -LP_EPS)
                continue;
            if (s < 0 || (bland ? lp->nonbasic[j] < lp->nonbasic[s]
                                : (cj < LPD(lp, obj, s) ||
                                   (cj == LPD(lp, obj, s) && lp->nonbasic[j] < lp->nonbasic[s]))))
                s = j;
        }
        if (s < 0)
            return LP_OPTIMAL;
        int r = -1;
        double best = 0;
        for (int i = 0; i < lp->m; i++) {
            double a = LPD(lp, i, s);
            if (a <= LP_EPS)
                continue;
            double ratio = LPD(lp, i, lp->n + 1) / a;
            if (r < 0 || ratio < best || (ratio == best && lp->basic[i] < lp->basic[r])) {
                r = i;
                best = ratio;
            }
        }
        if (r < 0)
            return LP_UNBOUNDED;
        degenerate = best <= LP_EPS ? degenerate + 1 : 0;
        lp_pivot(lp, r, s);
    }
    return LP_STALLED;
}

/* Solves the LP; x (n) gets the solution, *objective its value. */
static int lp_solve(int m, int n, const double *a, const double *b, const double *c, double *x,
                    double *objective)
{
    Lp lp = {m, n, n + 2, NULL, NULL, NULL};
    lp.basic = xcalloc((size_t)m, sizeof *lp.basic);
    lp.nonbasic = xcalloc((size_t)n + 1, sizeof *lp.nonbasic);
    lp.d = xcalloc((size_t)(m + 2) * (n + 2), sizeof *lp.d);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++)
            LPD(&lp, i, j) = a[(size_t)i * n + j];
        lp.basic[i] = n + i;
        LPD(&lp, i, n) = -1;
        LPD(&lp, i, n + 1) = b[i];
    }
    for (int j = 0; j < n; j++) {
        lp.nonbasic[j] = j;
        LPD(&lp, m, j) = -c[j];
    }
    lp.nonbasic[n] = -1;
    LPD(&lp, m + 1, n) = 1;

    int status = LP_OPTIMAL, r = 0;
    for (int i = 1; i < m; i++)
        if (LPD(&lp, i, n + 1) < LPD(&lp, r, n + 1))
            r = i;
    if (m > 0 && LPD(&lp, r, n + 1) < -LP_EPS) {
        lp_pivot(&lp, r, n);
        status = lp_simplex(&lp, 1);
        if (status == LP_OPTIMAL && LPD(&lp, m + 1, n + 1) < -1e-9)
            status = LP_INFEASIBLE;
        for (int i = 0; status == LP_OPTIMAL && i < m; i++) {
            if (lp.basic[i] != -1)
                continue;
            int s = -1; /* drive the artificial variable out of the basis */
            for (int j = 0; j <= n; j++)
                if (s < 0 || fabs(LPD(&lp, i, j)) > fabs(LPD(&lp, i, s)))
                    s = j;
            lp_pivot(&lp, i, s);
        }
    }
    if (status == LP_OPTIMAL)
        status = lp_simplex(&lp, 2);
    if (status == LP_OPTIMAL) {
        memset(x, 0, (size_t)n * sizeof *x);
        for (int i = 0; i < m; i++)
            if (lp.basic[i] >= 0 && lp.basic[i] < n)
                x[lp.basic[i]] = LPD(&lp, i, n + 1);
        *objective = LPD(&lp, m, n + 1);
    }
    free(lp.basic);
    free(lp.nonbasic);
    free(lp.d);
    return status;
}

/* ---- the zero-sum meta-game ---- */

/* A = score - 0.5, unplayed cells 0. Heap, caller frees. */
static double *game_matrix(const double *score, const double *games, int n1, int n2)
{
    double *a = xcalloc((size_t)n1 * n2, sizeof *a);
    for (int k = 0; k < n1 * n2; k++)
        a[k] = cell_played(score, games, k) ? cell_score(score, k) - 0.5 : 0;
    return a;
}

/* The row player's value of the m x n game a; 0, or -1 if the LP failed. */
static int game_value(const double *a, int m, int n, double *value)
{
    double lo = a[0];
    for (int k = 1; k < m * n; k++)
        lo = fmin(lo, a[k]);
    double shift = 1 - lo, z = 0;
    int longest = m > n ? m : n;
    double *b = xcalloc((size_t)m * n, sizeof *b), *ones = xcalloc((size_t)longest, sizeof *ones);
    double *y = xcalloc((size_t)n, sizeof *y);
    for (int k = 0; k < m * n; k++)
        b[k] = a[k] + shift;
    for (int k = 0; k < longest; k++)
        ones[k] = 1;
    int status = lp_solve(m, n, b, ones, ones, y, &z);
    free(b);
    free(ones);
    free(y);
    if (status != LP_OPTIMAL || !(z > 0))
        return -1;
    *value = 1 / z - shift;
    return 0;
}

/*
 * Marks in_support[i] for the rows of the m x n game a (row maximises,
 * value v) that carry mass above SUPPORT_MIN in some point of the optimal set
 * {p in simplex : A^T p >= v - slack}. Returns how many, or -1.
 */
static int row_support(const double *a, int m, int n, double v, double slack, int *in_support)
{
    /* Variables p (m); constraints -B^T p <= -(v' + shift) (n of them) and
     * sum p <= 1. With B > 0 the last one is tight at any optimum with
     * p_k > 0, and any feasible p scaled to sum 1 is still optimal. */
    double lo = a[0];
    for (int k = 1; k < m * n; k++)
        lo = fmin(lo, a[k]);
    double shift = 1 - lo, target = v - slack + shift, obj = 0;
    double *lhs = xcalloc((size_t)(n + 1) * m, sizeof *lhs);
    double *rhs = xcalloc((size_t)n + 1, sizeof *rhs);
    double *c = xcalloc((size_t)m, sizeof *c), *p = xcalloc((size_t)m, sizeof *p);
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++)
            lhs[(size_t)j * m + i] = -(a[(size_t)i * n + j] + shift);
        rhs[j] = -target;
    }
    for (int i = 0; i < m; i++)
        lhs[(size_t)n * m + i] = 1;
    rhs[n] = 1;
    memset(in_support, 0, (size_t)m * sizeof *in_support);
    int count = 0, failed = 0;
    for (int k = 0; k < m && !failed; k++) {
        if (in_support[k])
            continue;
        memset(c, 0, (size_t)m * sizeof *c);
        c[k] = 1;
        if (lp_solve(n + 1, m, lhs, rhs, c, p, &obj) != LP_OPTIMAL) {
            failed = 1;
            break;
        }
        for (int i = 0; i < m; i++) {
            if (!in_support[i] && p[i] > SUPPORT_MIN) {
                in_support[i] = 1;
                count++;
            }
        }
    }
    free(lhs);
    free(rhs);
    free(c);
    free(p);
    return failed || count == 0 ? -1 : count;
}

/* The entropy dual: f(lambda) = log sum_i exp((M lambda)_i) - t sum lambda,
 * with x = softmax(M lambda), grad_j = (M^T x)_j - t, hess = Cov_x(M). */
static double dual_eval(const double *mat, int s, int n, double t, const double *lambda, double *x,
                        double *grad, double *hess)
{
    double zmax = -INFINITY, sum = 0, lsum = 0;
    for (int i = 0; i < s; i++) {
        double z = 0;
        for (int j = 0; j < n; j++)
            z += mat[(size_t)i * n + j] * lambda[j];
        x[i] = z;
        zmax = fmax(zmax, z);
    }
    for (int i = 0; i < s; i++) {
        x[i] = exp(x[i] - zmax);
        sum += x[i];
    }
    for (int i = 0; i < s; i++)
        x[i] /= sum;
    for (int j = 0; j < n; j++)
        lsum += lambda[j];
    double f = zmax + log(sum) - t * lsum;
    if (!grad)
        return f;
    for (int j = 0; j < n; j++) {
        double g = 0;
        for (int i = 0; i < s; i++)
            g += x[i] * mat[(size_t)i * n + j];
        grad[j] = g;
    }
    for (int j = 0; j < n; j++) {
        for (int k = j; k < n; k++) {
            double h = 0;
            for (int i = 0; i < s; i++)
                h += x[i] * mat[(size_t)i * n + j] * mat[(size_t)i * n + k];
            h -= grad[j] * grad[k];
            hess[j * n + k] = hess[k * n + j] = h;
        }
    }
    for (int j = 0; j < n; j++)
        grad[j] -= t;
    return f;
}

/*
 * Maximum entropy x over {x in simplex(s) : M^T x >= t} for the s x n
 * matrix mat, by projected Newton on the dual (lambda >= 0). Returns 0 when
 * the projected gradient is below DUAL_TOL, 1 when it stopped short (x is
 * then the last iterate), -1 on a numerical failure.
 */
static int maxent_dual(const double *mat, int s, int n, double t, double *x)
{
    double *lambda = xcalloc((size_t)n, sizeof *lambda), *trial = xcalloc((size_t)n, sizeof *trial);
    double *grad = xcalloc((size_t)n, sizeof *grad), *hess = xcalloc((size_t)n * n, sizeof *hess);
    double *sub = xcalloc((size_t)n * n, sizeof *sub), *dir = xcalloc((size_t)n, sizeof *dir);
    int *free_idx = xcalloc((size_t)n, sizeof *free_idx), status = 1;
    /* Levenberg-Marquardt weight: the ridge is theta * (projected gradient),
     * which keeps steps bounded where the covariance is singular (redundant
     * constraints, or fewer support rows than constraints) and still gives
     * fast local convergence (Yamashita & Fukushima 2001). */
    double theta = 1;
    double f = dual_eval(mat, s, n, t, lambda, x, grad, hess);
    for (int iter = 0; iter < DUAL_MAX_ITER; iter++) {
        double resid = 0;
        for (int j = 0; j < n; j++)
            resid = fmax(resid, fabs(lambda[j] - fmax(0, lambda[j] - grad[j])));
        if (resid <= DUAL_TOL) {
            status = 0;
            break;
        }
        /* Bertsekas' active set: at (or within resid of) the bound, pushing out. */
        double near = fmin(1e-6, resid), mu = theta * resid;
        int nf = 0;
        for (int j = 0; j < n; j++) {
            if (!(lambda[j] <= near && grad[j] > 0))
                free_idx[nf++] = j;
            else
                dir[j] = -grad[j] / (hess[j * n + j] + mu);
        }
        for (int a = 0; a < nf; a++) {
            for (int b = 0; b < nf; b++)
                sub[a * nf + b] = hess[free_idx[a] * n + free_idx[b]];
            sub[a * nf + a] += mu;
        }
        if (nf > 0) {
            if (cholesky(sub, nf)) {
                status = -1;
                break;
            }
            for (int a = 0; a < nf; a++)
                trial[a] = -grad[free_idx[a]];
            cholesky_solve(sub, nf, trial);
            for (int a = 0; a < nf; a++)
                dir[free_idx[a]] = trial[a];
        }
        double alpha = 2, next = f;
        int accepted = 0;
        for (int k = 0; k < 40 && !accepted; k++) {
            double decrease = 0;
            alpha *= 0.5;
            for (int j = 0; j < n; j++) {
                trial[j] = fmax(0, lambda[j] + alpha * dir[j]);
                decrease += grad[j] * (trial[j] - lambda[j]);
            }
            next = dual_eval(mat, s, n, t, trial, x, NULL, NULL);
            accepted = next <= f + 1e-4 * decrease + 1e-15 * fabs(f);
        }
        if (!accepted) {
            theta *= 100;
            if (theta > 1e12)
                break; /* at the floor of double precision */
            continue;
        }
        theta = alpha == 1 ? fmax(theta / 4, 1e-4) : theta * 4;
        memcpy(lambda, trial, (size_t)n * sizeof *lambda);
        f = dual_eval(mat, s, n, t, lambda, x, grad, hess);
    }
    dual_eval(mat, s, n, t, lambda, x, NULL, NULL);
    free(lambda);
    free(trial);
    free(grad);
    free(hess);
    free(sub);
    free(dir);
    free(free_idx);
    return status;
}

/* The smallest payoff p guarantees in the m x n game a. */
static double guaranteed(const double *a, int m, int n, const double *p)
{
    double worst = INFINITY;
    for (int j = 0; j < n; j++) {
        double pay = 0;
        for (int i = 0; i < m; i++)
            pay += p[i] * a[(size_t)i * n + j];
        worst = fmin(worst, pay);
    }
    return worst;
}

/*
 * Max-entropy equilibrium strategy p (m) of the row player of the m x n game
 * a with value v; returns the support size, or -1. The optimal set is
 * relaxed by a slack that starts far below the accuracy asked for and grows
 * only if rounding in the value makes the set look empty.
 */
static int maxent_side(const double *a, int m, int n, double v, double *p)
{
    static const double slacks[] = {1e-13, 1e-11, 1e-9};
    int *in_support = xcalloc((size_t)m, sizeof *in_support), result = -1;
    double *sub = xcalloc((size_t)m * n, sizeof *sub), *x = xcalloc((size_t)m, sizeof *x);
    for (size_t k = 0; k < sizeof slacks / sizeof *slacks && result < 0; k++) {
        int count = row_support(a, m, n, v, slacks[k], in_support);
        if (count <= 0)
            continue;
        for (int i = 0, r = 0; i < m; i++)
            if (in_support[i])
                memcpy(sub + (size_t)r++ * n, a + (size_t)i * n, (size_t)n * sizeof *sub);
        if (maxent_dual(sub, count, n, v - slacks[k], x) < 0)
            continue;
        memset(p, 0, (size_t)m * sizeof *p);
        for (int i = 0, r = 0; i < m; i++)
            if (in_support[i])
                p[i] = x[r++];
        if (guaranteed(a, m, n, p) >= v - EQ_CHECK)
            result = count;
    }
    free(sub);
    free(x);
    free(in_support);
    return result;
}

int nash_maxent(const double *score, const double *games, int n1, int n2, double *p, double *q,
                double *row_payoff, double *col_payoff, NashResult *res)
{
    if (!score || n1 < 1 || n2 < 1)
        return -1;
    double *a = game_matrix(score, games, n1, n2);
    double *at = xcalloc((size_t)n1 * n2, sizeof *at);
    double *pp = xcalloc((size_t)n1, sizeof *pp), *qq = xcalloc((size_t)n2, sizeof *qq);
    for (int i = 0; i < n1; i++)
        for (int j = 0; j < n2; j++)
            at[(size_t)j * n1 + i] = -a[(size_t)i * n2 + j];
    double v = 0;
    int rows = -1, cols = -1, status = -1;
    if (game_value(a, n1, n2, &v) == 0) {
        rows = maxent_side(a, n1, n2, v, pp);
        cols = rows > 0 ? maxent_side(at, n2, n1, -v, qq) : -1;
        status = rows > 0 && cols > 0 ? 0 : -1;
    }
    if (status == 0) {
        if (p)
            memcpy(p, pp, (size_t)n1 * sizeof *p);
        if (q)
            memcpy(q, qq, (size_t)n2 * sizeof *q);
        for (int i = 0; row_payoff && i < n1; i++) {
            double s = 0;
            for (int j = 0; j < n2; j++)
                s += a[(size_t)i * n2 + j] * qq[j];
            row_payoff[i] = s;
        }
        for (int j = 0; col_payoff && j < n2; j++) {
            double s = 0;
            for (int i = 0; i < n1; i++)
                s -= pp[i] * a[(size_t)i * n2 + j];
            col_payoff[j] = s;
        }
        if (res) {
            res->value = v;
            res->support_rows = rows;
            res->support_cols = cols;
        }
    }
    free(a);
    free(at);
    free(pp);
    free(qq);
    return status;
}

/* ---- exploitability ---- */

double exploitability_rows(const double *score, int n1, int n2, const double *w)
{
    if (!score || !w || n1 < 1 || n2 < 1)
        return NAN;
    double *a = game_matrix(score, NULL, n1, n2), v = 0;
    int ok = game_value(a, n1, n2, &v) == 0;
    double gap = v - guaranteed(a, n1, n2, w);
    free(a);
    return ok ? fmax(0, gap) : NAN;
}

double exploitability_cols(const double *score, int n1, int n2, const double *w)
{
    if (!score || !w || n1 < 1 || n2 < 1)
        return NAN;
    double *a = game_matrix(score, NULL, n1, n2), v = 0, best = -INFINITY;
    int ok = game_value(a, n1, n2, &v) == 0;
    for (int i = 0; i < n1; i++) {
        double pay = 0;
        for (int j = 0; j < n2; j++)
            pay += a[(size_t)i * n2 + j] * w[j];
        best = fmax(best, pay);
    }
    free(a);
    return ok ? fmax(0, best - v) : NAN;
}
