/*
 * ratings.h - the evidence math of a cross-play matrix: Elo ratings, the
 * maximum-entropy Nash equilibrium (Nash averaging) and exploitability.
 *
 * The data is a two-sided cross-play matrix. Side-1 policies i = 0..n1-1 are
 * the rows, side-2 policies j = 0..n2-1 the columns. score[i*n2+j] in [0,1] is
 * side 1's mean score in that pairing over games[i*n2+j] episodes; a cell with
 * 0 episodes (or a non-finite or negative count, or a NaN score) was not
 * played. `games` may be NULL: every cell was played, once. Side 2's score in a pairing is taken
 * to be 1 - score: the meta-game is treated as constant-sum (a draw is 0.5
 * for both). Scores outside [0,1] are clamped into it.
 *
 * All functions are pure: they read the caller's arrays, write only the
 * caller's output arrays and free everything they allocate. Definitions and
 * sources are in ratings.c's opening comment.
 */
#ifndef FMSP_RATINGS_H
#define FMSP_RATINGS_H

/*
 * Elo ratings of all n1 + n2 policies (rows first, then columns) by maximum
 * likelihood under the Bradley-Terry/Elo model
 *     P(a beats b) = 1 / (1 + 10^((R_b - R_a)/400)),
 * each cell counting games*score wins for the row and games*(1-score) for the
 * column (fractional wins are fine). The prior: every policy also plays
 * `prior_games` virtual games at 50% against a virtual opponent rated at the
 * mean of all ratings; it keeps ratings finite when a policy wins or loses
 * everything, and pulls a policy with no games to the mean. Callers
 * normally pass 1.0; 0 gives the plain MLE.
 * Ratings (n1 + n2) are shifted so their mean is 1500. ci95 (may be NULL)
 * gets each rating's 95% half-width, 1.96 standard deviations of the rating
 * relative to the population mean, from the observed information (the
 * pseudo-inverse of the log-likelihood's negative Hessian).
 * Returns 0, or -1 on bad arguments or when there is no finite fit (prior 0
 * and some group of policies never lost, or never won, against the rest:
 * a perfect record, or policies not connected by played games) or Newton's
 * method does not converge; then rating and ci95 are NaN.
 */
int elo_fit(const double *score, const double *games, int n1, int n2, double prior_games,
            double *rating, double *ci95);

/* What nash_maxent found besides the mixtures. */
typedef struct NashResult {
    double value;     /* the row's equilibrium payoff in score - 0.5 units (column: -value) */
    int support_rows; /* rows with positive probability in some equilibrium */
    int support_cols; /* columns with positive probability in some equilibrium */
} NashResult;

/*
 * Maximum-entropy Nash equilibrium of the two-player zero-sum game with row
 * payoff A[i*n2+j] = score - 0.5 (the column's payoff is -A). Unplayed cells
 * count as 0, a draw. p (n1) and q (n2) get the mixtures: among all
 * equilibrium strategies of each side, the one of maximum entropy (it is
 * unique; it gives identical policies equal shares and every strategy that
 * is in some equilibrium's support positive mass). row_payoff[i] =
 * sum_j A[i][j] q[j] and col_payoff[j] = -sum_i p[i] A[i][j] are each
 * policy's payoff against the other side's equilibrium (Nash averaging); in
 * the support they equal value and -value, elsewhere they are lower.
 * Any output may be NULL. Mixtures are accurate to about 1e-9.
 * Returns 0, or -1 on bad arguments or a numerical failure.
 */
int nash_maxent(const double *score, const double *games, int n1, int n2, double *p, double *q,
                double *row_payoff, double *col_payoff, NashResult *res);

/*
 * Exploitability of a mixture w (n1 weights summing to 1, e.g. an archive's
 * uniform mixture) of side-1 policies against the pooled side-2 population:
 * the best side-2 response's score against w minus side 2's equilibrium
 * score 0.5 - value. Equivalently value - min_j sum_i w_i A[i][j] with A and
 * value as in nash_maxent: 0 means w is an equilibrium strategy (nothing on
 * side 2 does better against it than the game allows), 1 is the maximum.
 * Every cell counts as played (there is no games argument); a NaN score is
 * a draw, as in nash_maxent.
 * Returns NAN on bad arguments.
 */
double exploitability_rows(const double *score, int n1, int n2, const double *w);

/* The same for a mixture w (n2 weights) of side-2 policies: the best side-1
 * response's score minus 0.5 + value, i.e. max_i sum_j A[i][j] w_j - value. */
double exploitability_cols(const double *score, int n1, int n2, const double *w);

#endif
