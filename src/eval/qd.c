/*
 * qd.c - the PCA map of policy embeddings and the QD-score on it.
 *
 * The FMSP paper measures diversity on a "PCA map of policy embeddings": the
 * embeddings are projected onto their first two principal components, the
 * plane is cut into a grid, and the QD-score (Pugh, Soros & Stanley 2016,
 * "Quality diversity: a new frontier for evolutionary computation", Front.
 * Robot. AI) is the sum over filled cells of the best quality in the cell;
 * coverage is the number of filled cells.
 *
 * PCA: the points are centred; S is the smaller of the covariance X^T X
 * (dim x dim) and the Gram matrix X X^T (n x n), which share their non-zero
 * eigenvalues (an eigenvector u of X X^T gives the axis X^T u). The top k
 * eigenpairs come from block power iteration (subspace iteration, Golub &
 * Van Loan 8.2.4) with a Rayleigh-Ritz step every iteration and a block of
 * k + 6 vectors, so that near-equal leading eigenvalues do not slow it
 * down; the block's start is a fixed pseudo-random matrix, so the result is
 * a function of the input alone. Explained variance is eigenvalue / trace(S).
 */
#include "qd.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

#define PCA_OVERSAMPLE 6
#define PCA_MAX_ITER 1000
#define PCA_RESIDUAL 1e-11 /* ||S u - theta u|| relative to the top eigenvalue */
#define PCA_RANK_TOL 1e-12 /* eigenvalues below this fraction of the trace are 0 */

/* Eigen-decomposition of the symmetric p x p matrix t (destroyed) by cyclic
 * Jacobi rotations: eigenvalues in theta, eigenvectors in the columns of q,
 * sorted by decreasing eigenvalue. */
static void jacobi_eigen(double *t, int p, double *theta, double *q)
{
    for (int i = 0; i < p; i++)
        for (int j = 0; j < p; j++)
            q[i * p + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, total = 0;
        for (int i = 0; i < p; i++)
            for (int j = 0; j < p; j++) {
                if (i == j)
                    total += t[i * p + j] * t[i * p + j];
                else
                    off += t[i * p + j] * t[i * p + j];
            }
        if (off <= 1e-30 * (total + off) || off == 0)
            break;
        for (int a = 0; a < p - 1; a++) {
            for (int b = a + 1; b < p; b++) {
                double tab = t[a * p + b];
                if (tab == 0)
                    continue;
                double zeta = (t[b * p + b] - t[a * p + a]) / (2 * tab);
                double tn = (zeta >= 0 ? 1 : -1) / (fabs(zeta) + sqrt(1 + zeta * zeta));
                double c = 1 / sqrt(1 + tn * tn), s = c * tn;
                for (int k = 0; k < p; k++) { /* t <- t J: columns a and b */
                    double ta = t[k * p + a], tb = t[k * p + b];
                    t[k * p + a] = c * ta - s * tb;
                    t[k * p + b] = s * ta + c * tb;
                }
                for (int k = 0; k < p; k++) { /* t <- J^T t: rows a and b */
                    double ta = t[a * p + k], tb = t[b * p + k];
                    t[a * p + k] = c * ta - s * tb;
                    t[b * p + k] = s * ta + c * tb;
                }
                for (int k = 0; k < p; k++) {
                    double qa = q[k * p + a], qb = q[k * p + b];
                    q[k * p + a] = c * qa - s * qb;
                    q[k * p + b] = s * qa + c * qb;
                }
            }
        }
    }
    for (int i = 0; i < p; i++)
        theta[i] = t[i * p + i];
    for (int i = 0; i < p; i++) { /* selection sort, columns of q with theta */
        int best = i;
        for (int j = i + 1; j < p; j++)
            if (theta[j] > theta[best])
                best = j;
        if (best == i)
            continue;
        double tmp = theta[i];
        theta[i] = theta[best];
        theta[best] = tmp;
        for (int k = 0; k < p; k++) {
            tmp = q[k * p + i];
            q[k * p + i] = q[k * p + best];
            q[k * p + best] = tmp;
        }
    }
}

/* Deterministic start entries in [-1, 1). */
static double start_entry(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / 4503599627370496.0 - 1.0; /* 2^52 */
}

/* Orthonormalises the p vectors of length m in v (vector c at v + c*m) by
 * modified Gram-Schmidt, twice; a vector that vanishes is replaced by a fresh
 * start vector. */
static void orthonormalise(double *v, int m, int p, uint64_t *state)
{
    for (int c = 0; c < p; c++) {
        double *vc = v + (size_t)c * m;
        for (int attempt = 0; attempt < 8; attempt++) {
            double before = 0, norm = 0;
            for (int i = 0; i < m; i++)
                before += vc[i] * vc[i];
            for (int pass = 0; pass < 2; pass++) {
                for (int b = 0; b < c; b++) {
                    const double *vb = v + (size_t)b * m;
                    double dot = 0;
                    for (int i = 0; i < m; i++)
                        dot += vb[i] * vc[i];
                    for (int i = 0; i < m; i++)
                        vc[i] -= dot * vb[i];
                }
            }
            for (int i = 0; i < m; i++)
                norm += vc[i] * vc[i];
            if (norm > 1e-20 * before && norm > 0) {
                norm = sqrt(norm);
                for (int i = 0; i < m; i++)
                    vc[i] /= norm;
                break;
            }
            for (int i = 0; i < m; i++)
                vc[i] = start_entry(state);
        }
    }
}

/* Top eigenpairs of the symmetric PSD m x m matrix s: theta[keff] and unit
 * eigenvectors u (vector c at u + c*m). */
static void top_eigen(const double *s, int m, int keff, double *theta, double *u)
{
    int p = keff + PCA_OVERSAMPLE < m ? keff + PCA_OVERSAMPLE : m;
    double *v = xcalloc((size_t)p * m, sizeof *v), *w = xcalloc((size_t)p * m, sizeof *w);
    double *t = xcalloc((size_t)p * p, sizeof *t), *q = xcalloc((size_t)p * p, sizeof *q);
    double *th = xcalloc((size_t)p, sizeof *th), *su = xcalloc((size_t)p * m, sizeof *su);
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    for (int k = 0; k < p * m; k++)
        v[k] = start_entry(&state);
    orthonormalise(v, m, p, &state);
    for (int iter = 0; iter < PCA_MAX_ITER; iter++) {
        for (int c = 0; c < p; c++) /* w = S v */
            for (int i = 0; i < m; i++) {
                double acc = 0;
                for (int j = 0; j < m; j++)
                    acc += s[(size_t)i * m + j] * v[(size_t)c * m + j];
                w[(size_t)c * m + i] = acc;
            }
        for (int a = 0; a < p; a++) /* Rayleigh-Ritz: t = v^T S v */
            for (int b = 0; b < p; b++) {
                double acc = 0;
                for (int i = 0; i < m; i++)
                    acc += v[(size_t)a * m + i] * w[(size_t)b * m + i];
                t[a * p + b] = acc;
            }
        for (int a = 0; a < p; a++) /* symmetrise against rounding */
            for (int b = a + 1; b < p; b++)
                t[a * p + b] = t[b * p + a] = 0.5 * (t[a * p + b] + t[b * p + a]);
        jacobi_eigen(t, p, th, q);
        /* Ritz vectors u = v q and s u = w q. */
        memset(u, 0, (size_t)keff * m * sizeof *u);
        memset(su, 0, (size_t)p * m * sizeof *su);
        for (int c = 0; c < p; c++)
            for (int b = 0; b < p; b++) {
                double coef = q[b * p + c];
                for (int i = 0; i < m; i++) {
                    if (c < keff)
                        u[(size_t)c * m + i] += coef * v[(size_t)b * m + i];
                    su[(size_t)c * m + i] += coef * w[(size_t)b * m + i];
                }
            }
        double worst = 0;
        for (int c = 0; c < keff; c++) {
            double r = 0;
            for (int i = 0; i < m; i++) {
                double e = su[(size_t)c * m + i] - th[c] * u[(size_t)c * m + i];
                r += e * e;
            }
            worst = fmax(worst, sqrt(r));
        }
        if (p == m || worst <= PCA_RESIDUAL * fmax(th[0], 1e-300))
            break;
        memcpy(v, su, (size_t)p * m * sizeof *v);
        orthonormalise(v, m, p, &state);
    }
    memcpy(theta, th, (size_t)keff * sizeof *theta);
    free(v);
    free(w);
    free(t);
    free(q);
    free(th);
    free(su);
}

int pca_project(const float *points, int n, int dim, int k, double *proj, double *explained)
{
    if (!points || !proj || n < 1 || dim < 1 || k < 1 || k > dim)
        return -1;
    for (long i = 0; i < (long)n * dim; i++)
        if (!isfinite(points[i]))
            return -1;
    double *xc = xcalloc((size_t)n * dim, sizeof *xc), *mean = xcalloc((size_t)dim, sizeof *mean);
    for (int i = 0; i < n; i++)
        for (int d = 0; d < dim; d++)
            mean[d] += points[(size_t)i * dim + d];
    for (int d = 0; d < dim; d++)
        mean[d] /= n;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < dim; d++)
            xc[(size_t)i * dim + d] = points[(size_t)i * dim + d] - mean[d];

    int gram = n < dim, m = gram ? n : dim, keff = k < m ? k : m;
    double *s = xcalloc((size_t)m * m, sizeof *s), trace = 0;
    if (gram) {
        for (int a = 0; a < m; a++)
            for (int b = a; b < m; b++) {
                double acc = 0;
                for (int d = 0; d < dim; d++)
                    acc += xc[(size_t)a * dim + d] * xc[(size_t)b * dim + d];
                s[(size_t)a * m + b] = acc;
            }
    } else {
        /* Sum of outer products, point by point: contiguous rows. */
        for (int i = 0; i < n; i++) {
            const double *row = xc + (size_t)i * dim;
            for (int a = 0; a < m; a++) {
                double xa = row[a], *out = s + (size_t)a * m;
                for (int b = a; b < m; b++)
                    out[b] += xa * row[b];
            }
        }
    }
    for (int a = 0; a < m; a++)
        for (int b = a + 1; b < m; b++)
            s[(size_t)b * m + a] = s[(size_t)a * m + b];
    for (int a = 0; a < m; a++)
        trace += s[(size_t)a * m + a];

    memset(proj, 0, (size_t)n * k * sizeof *proj);
    if (explained)
        memset(explained, 0, (size_t)k * sizeof *explained);
    double *theta = xcalloc((size_t)keff, sizeof *theta);
    double *u = xcalloc((size_t)keff * m, sizeof *u), *axis = xcalloc((size_t)dim, sizeof *axis);
    if (trace > 0)
        top_eigen(s, m, keff, theta, u);
    for (int c = 0; c < keff && trace > 0; c++) {
        if (!(theta[c] > PCA_RANK_TOL * trace))
            break;
        double norm = 0, big = 0;
        for (int d = 0; d < dim; d++) {
            double a = 0;
            if (gram)
                for (int i = 0; i < n; i++)
                    a += u[(size_t)c * m + i] * xc[(size_t)i * dim + d];
            else
                a = u[(size_t)c * m + d];
            axis[d] = a;
            norm += a * a;
            big = fmax(big, fabs(a));
        }
        norm = sqrt(norm);
        int lead = 0;
        while (fabs(axis[lead]) < big * (1 - 1e-9))
            lead++;
        double sign = axis[lead] < 0 ? -1 : 1;
        for (int d = 0; d < dim; d++)
            axis[d] *= sign / norm;
        for (int i = 0; i < n; i++) {
            double x = 0;
            for (int d = 0; d < dim; d++)
                x += xc[(size_t)i * dim + d] * axis[d];
            proj[(size_t)i * k + c] = x;
        }
        if (explained)
            explained[c] = theta[c] / trace;
    }
    free(xc);
    free(mean);
    free(s);
    free(theta);
    free(u);
    free(axis);
    return 0;
}

/* The grid cell of x on [lo, hi] with `grid` cells, clamped. */
static int cell_of(double x, double lo, double hi, int grid)
{
    if (!(hi > lo))
        return 0;
    double c = floor((x - lo) / (hi - lo) * grid);
    if (c < 0)
        return 0;
    return c >= grid ? grid - 1 : (int)c;
}

int qd_score(const double *proj2, const double *quality, int n, int grid, double offset,
             const double *lo, const double *hi, QdMap *out)
{
    if (!out || n < 0 || (n > 0 && (!proj2 || !quality)) || grid < 1 || grid > QD_MAX_GRID ||
        !isfinite(offset))
        return -1;
    QdMap map = {grid, {0, 0}, {0, 0}, 0, 0};
    for (int c = 0; c < 2; c++) {
        if (lo && hi) {
            if (!(lo[c] <= hi[c]) || !isfinite(lo[c]) || !isfinite(hi[c]))
                return -1;
            map.lo[c] = lo[c];
            map.hi[c] = hi[c];
            continue;
        }
        int seen = 0;
        for (int i = 0; i < n; i++) {
            double x = proj2[(size_t)i * 2 + c];
            if (!isfinite(x) || !isfinite(quality[i]) || !isfinite(proj2[(size_t)i * 2 + !c]))
                continue;
            map.lo[c] = seen ? fmin(map.lo[c], x) : x;
            map.hi[c] = seen ? fmax(map.hi[c], x) : x;
            seen = 1;
        }
    }
    double *best = xmalloc((size_t)grid * grid * sizeof *best);
    for (long cell = 0; cell < (long)grid * grid; cell++)
        best[cell] = NAN;
    for (int i = 0; i < n; i++) {
        double x = proj2[(size_t)i * 2], y = proj2[(size_t)i * 2 + 1];
        if (!isfinite(x) || !isfinite(y) || !isfinite(quality[i]))
            continue;
        long cell = (long)cell_of(x, map.lo[0], map.hi[0], grid) * grid +
                    cell_of(y, map.lo[1], map.hi[1], grid);
        if (isnan(best[cell]) || quality[i] > best[cell])
            best[cell] = quality[i];
    }
    for (long cell = 0; cell < (long)grid * grid; cell++) {
        if (isnan(best[cell]))
            continue;
        map.coverage++;
        map.qd_score += best[cell] + offset;
    }
    free(best);
    *out = map;
    return 0;
}
