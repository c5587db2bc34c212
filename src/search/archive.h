/*
 * archive.h - the in-memory archive of one side: policies with their
 * embeddings and current quality, and the decisions the search algorithms
 * make on it (nearest neighbours, novelty, dimensionless MAP-Elites).
 *
 * The run database is the source of truth; an Archive is rebuilt from it on
 * resume. Entries are kept in insertion order (ids ascending) so that every
 * choice made from the archive is deterministic.
 */
#ifndef FMSP_ARCHIVE_H
#define FMSP_ARCHIVE_H

#include <stdint.h>

typedef struct ArchiveEntry {
    int64_t id;              /* policy id in the run database */
    char *name;              /* owned */
    char *source;            /* owned */
    char *object_path;       /* owned: compiled object in the cache */
    float *embedding;        /* owned, dim floats, L2-normalised */
    int dim;
    double quality;          /* mean score vs the current opponent set; NAN unknown */
    double quality_ci;       /* its 95% half-width; NAN unknown */
    int origin_baseline;     /* 1 for a human-designed seed */
} ArchiveEntry;

typedef struct Archive {
    int side;
    ArchiveEntry *entries;
    int n, cap;
} Archive;

void archive_init(Archive *a, int side);
void archive_release(Archive *a);

/* Appends e, taking ownership of its heap fields; returns its index. */
int archive_add(Archive *a, const ArchiveEntry *e);

/* Removes entry i (frees it); later entries shift down. */
void archive_remove(Archive *a, int i);

/* Replaces entry i by e (frees the old one, takes ownership of e's fields). */
void archive_replace(Archive *a, int i, const ArchiveEntry *e);

/* Index of entry with id, or -1. */
int archive_find(const Archive *a, int64_t id);

/* Cosine distance 1 - cos(a, b) in [0, 2]; 1 when either is zero. */
double archive_distance(const float *x, const float *y, int dim);

/* Index of the nearest entry to emb (-1 if empty); *dist gets the distance. */
int archive_nearest(const Archive *a, const float *emb, int dim, double *dist);

/* Up to k nearest entries to emb, nearest first, excluding index `skip`
 * (-1: none); returns how many were written to out. */
int archive_knn(const Archive *a, const float *emb, int dim, int k, int skip, int *out);

/* Index of the entry with the highest quality (-1 if none is scored). */
int archive_best(const Archive *a);

typedef enum QdVerdict {
    QD_INSERT,  /* novel: distance to the nearest neighbour > threshold */
    QD_REPLACE, /* not novel, but better than its nearest neighbour */
    QD_REJECT   /* not novel and not better */
} QdVerdict;

/* Dimensionless MAP-Elites: decides the fate of a candidate. *neighbour and
 * *dist describe the nearest entry (-1 / 2.0 when the archive is empty). */
QdVerdict archive_qd_decide(const Archive *a, const float *emb, int dim, double quality,
                            double threshold, int *neighbour, double *dist);

#endif
