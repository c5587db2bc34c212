/*
 * search_pairs.c - the cache of pair results: a match between two fixed
 * policies with the fixed evaluation seed always gives the same result, so
 * each pair is played once per run (reloaded from the evaluations table on
 * resume). Open addressing; policy ids start at 1, so 0 marks a free cell.
 */
#include "search_internal.h"

/* ------------------------------------------------------------ pair cache */

static size_t pair_hash(int64_t a, int64_t b, size_t cap)
{
    uint64_t x = (uint64_t)a * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)b + 0x632BE59BD9B4E019ULL);
    x ^= x >> 31;
    return (size_t)(x * 0xBF58476D1CE4E5B9ULL >> 7) & (cap - 1);
}

int search_pair_get(const PairCache *c, int64_t a, int64_t b, double *score, double *ci)
{
    if (!c->cap)
        return 0;
    for (size_t i = pair_hash(a, b, c->cap);; i = (i + 1) & (c->cap - 1)) {
        if (c->a[i] == 0)
            return 0;
        if (c->a[i] == a && c->b[i] == b) {
            *score = c->score[i];
            if (ci)
                *ci = c->ci[i];
            return 1;
        }
    }
}

void search_pair_put(PairCache *c, int64_t a, int64_t b, double score, double ci);

static void pair_grow(PairCache *c)
{
    PairCache old = *c;
    c->cap = old.cap ? old.cap * 2 : 1024;
    c->n = 0;
    c->a = xcalloc(c->cap, sizeof *c->a);
    c->b = xcalloc(c->cap, sizeof *c->b);
    c->score = xcalloc(c->cap, sizeof *c->score);
    c->ci = xcalloc(c->cap, sizeof *c->ci);
    for (size_t i = 0; i < old.cap; i++)
        if (old.a[i])
            search_pair_put(c, old.a[i], old.b[i], old.score[i], old.ci[i]);
    free(old.a);
    free(old.b);
    free(old.score);
    free(old.ci);
}

/* Policy ids start at 1, so a == 0 marks an empty cell. */
void search_pair_put(PairCache *c, int64_t a, int64_t b, double score, double ci)
{
    if ((c->n + 1) * 2 > c->cap)
        pair_grow(c);
    size_t i = pair_hash(a, b, c->cap);
    while (c->a[i] != 0 && !(c->a[i] == a && c->b[i] == b))
        i = (i + 1) & (c->cap - 1);
    if (c->a[i] == 0)
        c->n++;
    c->a[i] = a;
    c->b[i] = b;
    c->score[i] = score;
    c->ci[i] = ci;
}

void search_reload_pair(void *ctx, int64_t policy, int64_t opponent, double score, double ci)
{
    search_pair_put(ctx, policy, opponent, score, ci);
}

void search_pair_release(PairCache *c)
{
    free(c->a);
    free(c->b);
    free(c->score);
    free(c->ci);
    memset(c, 0, sizeof *c);
}
