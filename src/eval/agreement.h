/*
 * agreement.h - how well two ways of measuring distance between the same
 * policies agree (e.g. code embeddings and behaviour): Spearman's rank
 * correlation between their pairwise distances, with a Mantel permutation
 * test (pairs of one set of points are not independent, so the p-value
 * comes from relabelling the points, not from the number of pairs).
 */
#ifndef FMSP_AGREEMENT_H
#define FMSP_AGREEMENT_H

#include <stdint.h>

/*
 * da and db are n x n distance matrices (row-major; only i < j is read).
 * Returns Spearman's rho between the n(n-1)/2 pairs of the two (average
 * ranks for ties), and in *p (may be NULL) the two-sided permutation
 * p-value over `perms` random relabellings of db's points ((1 + count of
 * |rho_perm| >= |rho|) / (1 + perms)), deterministic for a given seed.
 * NAN (and *p NAN) when n < 3 or a matrix has no spread.
 */
double agreement_spearman(const double *da, const double *db, int n, int perms, uint64_t seed,
                          double *p);

#endif
