/*
 * agreement.c - Spearman correlation of two distance matrices with a Mantel
 * permutation test (agreement.h). Ranks are computed once; a relabelling
 * only re-indexes db's ranks, so each permutation is one pass over pairs.
 */
#include "eval/agreement.h"

#include <math.h>
#include <stdlib.h>

#include "core/util.h"
#include "fmsp_rng.h"

typedef struct Ranked {
    double v;
    int at;
} Ranked;

static int by_value(const void *a, const void *b)
{
    const Ranked *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v ? 1 : x->at - y->at;
}

/* Average ranks of v[m] into r[m]. */
static void ranks(const double *v, int m, double *r)
{
    Ranked *s = xmalloc(sizeof *s * (size_t)m);
    for (int i = 0; i < m; i++)
        s[i] = (Ranked){v[i], i};
    qsort(s, (size_t)m, sizeof *s, by_value);
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && s[j + 1].v == s[i].v)
            j++;
        for (int k = i; k <= j; k++)
            r[s[k].at] = (i + j) / 2.0 + 1;
        i = j + 1;
    }
    free(s);
}

/* Pearson correlation of ra (pair order) with rb read through the point
 * relabelling perm (rb is an n x n matrix of ranks). */
static double pearson(const double *ra, const double *rbm, const int *perm, int n, double mean,
                      double sa, double sb)
{
    double cov = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++, k++) {
            int pi = perm[i], pj = perm[j];
            double b = pi < pj ? rbm[pi * n + pj] : rbm[pj * n + pi];
            cov += (ra[k] - mean) * (b - mean);
        }
    return cov / (sa * sb);
}

double agreement_spearman(const double *da, const double *db, int n, int perms, uint64_t seed,
                          double *p)
{
    if (p)
        *p = NAN;
    if (n < 3)
        return NAN;
    int m = n * (n - 1) / 2;
    double *a = xmalloc(sizeof *a * (size_t)m), *b = xmalloc(sizeof *b * (size_t)m);
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++, k++) {
            a[k] = da[i * n + j];
            b[k] = db[i * n + j];
        }
    double *ra = xmalloc(sizeof *ra * (size_t)m), *rb = xmalloc(sizeof *rb * (size_t)m);
    ranks(a, m, ra);
    ranks(b, m, rb);
    /* ranks run 1..m, so both means are (m + 1) / 2 */
    double mean = (m + 1) / 2.0, sa = 0, sb = 0;
    for (int i = 0; i < m; i++) {
        sa += (ra[i] - mean) * (ra[i] - mean);
        sb += (rb[i] - mean) * (rb[i] - mean);
    }
    sa = sqrt(sa);
    sb = sqrt(sb);
    double rho = NAN;
    if (sa > 0 && sb > 0) {
        double *rbm = xcalloc((size_t)n * (size_t)n, sizeof *rbm);
        k = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++, k++)
                rbm[i * n + j] = rb[k];
        int *perm = xmalloc(sizeof *perm * (size_t)n);
        for (int i = 0; i < n; i++)
            perm[i] = i;
        rho = pearson(ra, rbm, perm, n, mean, sa, sb);
        if (p && perms > 0) {
            FmspRng rng;
            fmsp_rng_seed(&rng, seed);
            int extreme = 0;
            for (int t = 0; t < perms; t++) {
                for (int i = n - 1; i > 0; i--) {
                    int j = (int)(fmsp_rng_u64(&rng) % (uint64_t)(i + 1));
                    int tmp = perm[i];
                    perm[i] = perm[j];
                    perm[j] = tmp;
                }
                extreme += fabs(pearson(ra, rbm, perm, n, mean, sa, sb)) >= fabs(rho) - 1e-12;
            }
            *p = (1.0 + extreme) / (1.0 + perms);
        }
        free(perm);
        free(rbm);
    }
    free(a);
    free(b);
    free(ra);
    free(rb);
    return rho;
}
