/*
 * qd.h - quality-diversity evidence: a 2-D PCA map of policy embeddings and
 * the QD-score and coverage of a set of policies on a grid over that map.
 *
 * Pure functions over caller-owned arrays; they allocate only scratch memory
 * and free it before returning. Definitions and sources are in qd.c.
 */
#ifndef FMSP_QD_H
#define FMSP_QD_H

/*
 * Principal components: the top k principal axes of n points of dimension
 * dim (row-major floats), by deterministic block power iteration on the
 * covariance (or on the n x n Gram matrix when n < dim). proj[n*k] gets each
 * centred point's coordinate on each axis (point-major: proj[i*k + c]);
 * explained[k] (may be NULL) each axis' fraction of the total variance.
 * Signs are fixed: the largest-magnitude component of each axis (the first
 * one, on ties within 1e-9) is positive. Axes beyond the data's rank, and
 * every axis of a set with no variance, project to 0 and explain 0.
 * Returns 0, or -1 on bad arguments (n < 1, k < 1, k > dim, NULL arrays,
 * non-finite coordinates).
 */
int pca_project(const float *points, int n, int dim, int k, double *proj, double *explained);

/* A QD map: a grid x grid partition of [lo, hi] in each of two components. */
typedef struct QdMap {
    int grid;
    double lo[2], hi[2];
    double qd_score; /* sum over filled cells of (best quality + offset) */
    int coverage;    /* filled cells */
} QdMap;

#define QD_MAX_GRID 4096

/*
 * QD-score and coverage of n points (proj2[i*2 + 0..1], e.g. the first two
 * components from pca_project) with qualities quality[n] on a grid x grid
 * map. The bounds are lo[2]/hi[2] when both are given (so several runs can
 * share one map: compute them over all runs' points), else the min and max
 * of each component over these points. Cell c = floor((x - lo) / (hi - lo)
 * * grid) per component, clamped into the grid (a point at hi, or outside
 * caller bounds, lands in the edge cell; a component with hi == lo maps to
 * cell 0). Each cell keeps the best quality among its points; points with a
 * non-finite coordinate or quality are skipped. out gets the bounds used.
 * offset is added to every filled cell's best quality: QD-score (Pugh,
 * Soros & Stanley 2016) assumes non-negative qualities so that filling a
 * cell never lowers it; with qualities in [0,1], as here, pass 0.
 * Returns 0, or -1 on bad arguments (grid outside 1..QD_MAX_GRID, NULLs,
 * n < 0, lo > hi).
 */
int qd_score(const double *proj2, const double *quality, int n, int grid, double offset,
             const double *lo, const double *hi, QdMap *out);

#endif
