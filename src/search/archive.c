/* archive.c - per-side archive: storage, nearest neighbours, QD decisions. */
#include "archive.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

void archive_init(Archive *a, int side)
{
    memset(a, 0, sizeof *a);
    a->side = side;
}

static void entry_free(ArchiveEntry *e)
{
    free(e->name);
    free(e->source);
    free(e->object_path);
    free(e->embedding);
    memset(e, 0, sizeof *e);
}

void archive_release(Archive *a)
{
    for (int i = 0; i < a->n; i++)
        entry_free(&a->entries[i]);
    free(a->entries);
    memset(a, 0, sizeof *a);
}

int archive_add(Archive *a, const ArchiveEntry *e)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->entries = xrealloc(a->entries, sizeof *a->entries * (size_t)a->cap);
    }
    a->entries[a->n] = *e;
    return a->n++;
}

void archive_remove(Archive *a, int i)
{
    if (i < 0 || i >= a->n)
        return;
    entry_free(&a->entries[i]);
    memmove(&a->entries[i], &a->entries[i + 1], sizeof *a->entries * (size_t)(a->n - i - 1));
    a->n--;
}

void archive_replace(Archive *a, int i, const ArchiveEntry *e)
{
    if (i < 0 || i >= a->n)
        return;
    entry_free(&a->entries[i]);
    a->entries[i] = *e;
}

int archive_find(const Archive *a, int64_t id)
{
    for (int i = 0; i < a->n; i++)
        if (a->entries[i].id == id)
            return i;
    return -1;
}

double archive_distance(const float *x, const float *y, int dim)
{
    double dot = 0, nx = 0, ny = 0;
    for (int i = 0; i < dim; i++) {
        dot += (double)x[i] * y[i];
        nx += (double)x[i] * x[i];
        ny += (double)y[i] * y[i];
    }
    if (nx <= 0 || ny <= 0)
        return 1.0;
    double d = 1.0 - dot / sqrt(nx * ny);
    return d < 0 ? 0 : d;
}

int archive_nearest(const Archive *a, const float *emb, int dim, double *dist)
{
    int best = -1;
    double bd = 2.0;
    for (int i = 0; i < a->n; i++) {
        if (a->entries[i].dim != dim)
            continue;
        double d = archive_distance(emb, a->entries[i].embedding, dim);
        if (best < 0 || d < bd) {
            best = i;
            bd = d;
        }
    }
    if (dist)
        *dist = bd;
    return best;
}

int archive_knn(const Archive *a, const float *emb, int dim, int k, int skip, int *out)
{
    int m = 0;
    double dists[64];
    if (k > 64)
        k = 64;
    for (int i = 0; i < a->n; i++) {
        if (i == skip || a->entries[i].dim != dim)
            continue;
        double d = archive_distance(emb, a->entries[i].embedding, dim);
        /* insertion into the sorted top-k (stable: earlier index wins ties) */
        int pos = m;
        while (pos > 0 && dists[pos - 1] > d)
            pos--;
        if (pos >= k)
            continue;
        int last = m < k ? m : k - 1;
        for (int j = last; j > pos; j--) {
            dists[j] = dists[j - 1];
            out[j] = out[j - 1];
        }
        dists[pos] = d;
        out[pos] = i;
        if (m < k)
            m++;
    }
    return m;
}

int archive_best(const Archive *a)
{
    int best = -1;
    for (int i = 0; i < a->n; i++) {
        double q = a->entries[i].quality;
        if (isnan(q))
            continue;
        if (best < 0 || q > a->entries[best].quality)
            best = i;
    }
    return best;
}

QdVerdict archive_qd_decide(const Archive *a, const float *emb, int dim, double quality,
                            double threshold, int *neighbour, double *dist)
{
    double d;
    int nb = archive_nearest(a, emb, dim, &d);
    if (neighbour)
        *neighbour = nb;
    if (dist)
        *dist = d;
    if (nb < 0 || d > threshold)
        return QD_INSERT;
    double nq = a->entries[nb].quality;
    if (!isnan(quality) && (isnan(nq) || quality > nq))
        return QD_REPLACE;
    return QD_REJECT;
}
