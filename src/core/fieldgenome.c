/*
 * fieldgenome.c - table-driven genomes (fieldgenome.h). The order of random
 * draws is part of the contract: runs are reproduced from their seed, so any
 * change here changes every builtin run (tests/test_golden.c pins them).
 */
#include "core/fieldgenome.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static int side_of(const void *g)
{
    return *(const int *)g;
}

double fg_get(const FgField *f, const void *g)
{
    const char *p = (const char *)g + f->off;
    return f->type == FG_REAL ? *(const double *)p : (double)*(const int *)p;
}

void fg_set(const FgField *f, void *g, double v)
{
    char *p = (char *)g + f->off;
    if (!isfinite(v))
        v = f->lo;
    v = v < f->lo ? f->lo : (v > f->hi ? f->hi : v);
    if (f->type == FG_REAL)
        *(double *)p = round(v * 1e4) / 1e4;
    else
        *(int *)p = (int)lround(v);
}

static int rng_below(FmspRng *rng, int n)
{
    return n <= 1 ? 0 : (int)(fmsp_rng_u64(rng) % (uint64_t)n);
}

static void randomize(const FgField *f, void *g, FmspRng *rng)
{
    if (f->type == FG_REAL)
        fg_set(f, g, fmsp_rng_range(rng, f->lo, f->hi));
    else
        fg_set(f, g, f->lo + rng_below(rng, (int)(f->hi - f->lo) + 1));
}

void fg_random(const FgSchema *s, void *g, int side, FmspRng *rng)
{
    memset(g, 0, s->size);
    side = side == 2 ? 2 : 1;
    *(int *)g = side;
    for (int i = 0; i < s->n_fields; i++)
        if (s->fields[i].side == side)
            randomize(&s->fields[i], g, rng);
}

void fg_mutate(const FgSchema *s, void *g, FmspRng *rng, double rate, double sigma, double swap)
{
    void *before = xmalloc(s->size);
    memcpy(before, g, s->size);
    for (int attempt = 0; attempt < 16 && fg_equal(s, g, before); attempt++) {
        for (int i = 0; i < s->n_fields; i++) {
            const FgField *f = &s->fields[i];
            if (f->side != side_of(g))
                continue;
            if (f->type == FG_CAT) {
                if (fmsp_rng_uniform(rng) < swap) {
                    int n = (int)f->hi + 1, cur = (int)fg_get(f, g);
                    fg_set(f, g, (cur + 1 + rng_below(rng, n - 1)) % n);
                }
            } else if (fmsp_rng_uniform(rng) < rate) {
                double step = sigma * (f->hi - f->lo) * fmsp_rng_normal(rng);
                if (f->type == FG_INT && fabs(step) < 1.0)
                    step = step < 0 ? -1.0 : 1.0;
                fg_set(f, g, fg_get(f, g) + step);
            }
        }
        /* a genome with few numbers may not move on numbers alone */
        if (s->swap_floor_after && attempt >= s->swap_floor_after && fg_equal(s, g, before))
            swap = swap > 0.1 ? swap : 0.1;
    }
    free(before);
}

void fg_crossover(const FgSchema *s, void *g, const void *donor, FmspRng *rng)
{
    if (side_of(donor) != side_of(g))
        return;
    for (int grp = 0; grp < s->n_groups; grp++) {
        if (fmsp_rng_uniform(rng) >= 0.5)
            continue;
        for (int i = 0; i < s->n_fields; i++)
            if (s->fields[i].group == grp && s->fields[i].side == side_of(g))
                fg_set(&s->fields[i], g, fg_get(&s->fields[i], donor));
    }
}

void fg_novelize(const FgSchema *s, void *g, const void *others, int n, FmspRng *rng)
{
    for (int i = 0; i < s->n_fields; i++) {
        const FgField *f = &s->fields[i];
        if (f->side != side_of(g))
            continue;
        if (f->type != FG_CAT) {
            if (fmsp_rng_uniform(rng) < 0.6)
                randomize(f, g, rng);
            continue;
        }
        /* prefer a choice no neighbour uses; else any other choice */
        int count = (int)f->hi + 1, unused[16], n_unused = 0;
        for (int v = 0; v < count && v < 16; v++) {
            int used = 0;
            for (int k = 0; k < n; k++) {
                const void *o = (const char *)others + (size_t)k * s->size;
                used |= side_of(o) == side_of(g) && (int)fg_get(f, o) == v;
            }
            if (!used)
                unused[n_unused++] = v;
        }
        if (n_unused > 0 && fmsp_rng_uniform(rng) < 0.7)
            fg_set(f, g, unused[rng_below(rng, n_unused)]);
        else if (fmsp_rng_uniform(rng) < 0.5)
            randomize(f, g, rng);
    }
}

double fg_distance(const FgSchema *s, const void *a, const void *b)
{
    if (side_of(a) != side_of(b))
        return 1.0;
    double sum = 0, weight = 0;
    for (int i = 0; i < s->n_fields; i++) {
        const FgField *f = &s->fields[i];
        if (f->side != side_of(a))
            continue;
        double x = fg_get(f, a), y = fg_get(f, b);
        if (f->type == FG_CAT) {
            sum += 2.0 * (x != y);
            weight += 2.0;
        } else {
            sum += fabs(x - y) / (f->hi - f->lo);
            weight += 1.0;
        }
    }
    return weight > 0 ? sum / weight : 1.0;
}

int fg_equal(const FgSchema *s, const void *a, const void *b)
{
    if (side_of(a) != side_of(b))
        return 0;
    for (int i = 0; i < s->n_fields; i++)
        if (s->fields[i].side == side_of(a) && fg_get(&s->fields[i], a) != fg_get(&s->fields[i], b))
            return 0;
    return 1;
}

char *fg_line(const FgSchema *s, const void *g)
{
    char buf[2048];
    int side = side_of(g) == 2 ? 2 : 1;
    size_t off = (size_t)snprintf(buf, sizeof buf, "%s%s:", s->tag, s->side_word[side]);
    for (int i = 0; i < s->n_fields && off < sizeof buf; i++) {
        const FgField *f = &s->fields[i];
        if (f->side != side_of(g))
            continue;
        double v = fg_get(f, g);
        if (f->type == FG_CAT)
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %s=%s", f->name,
                                    f->labels[(int)v]);
        else if (f->type == FG_INT)
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %s=%d", f->name, (int)v);
        else
            off += (size_t)snprintf(buf + off, sizeof buf - off, " %s=%.4f", f->name, v);
    }
    return xstrdup(buf);
}

int fg_parse(const FgSchema *s, const char *source, void *g)
{
    const char *p = source ? strstr(source, s->tag) : NULL;
    if (!p)
        return 0;
    p += strlen(s->tag);
    int side = 0;
    for (int k = 1; k <= 2 && !side; k++) {
        size_t n = strlen(s->side_word[k]);
        if (strncmp(p, s->side_word[k], n) == 0 && p[n] == ':')
            side = k;
    }
    if (!side)
        return 0;
    char *out = xcalloc(1, s->size);
    *(int *)out = side;
    size_t len = strcspn(p, "\n");
    const char *close = strstr(p, "*/");
    if (close && (size_t)(close - p) < len)
        len = (size_t)(close - p);
    int ok = len <= 4000;
    char line[4096];
    if (ok) {
        memcpy(line, p, len);
        line[len] = '\0';
    }
    for (int i = 0; ok && i < s->n_fields; i++) {
        const FgField *f = &s->fields[i];
        if (f->side != side)
            continue;
        char key[48];
        snprintf(key, sizeof key, " %s=", f->name);
        const char *k = strstr(line, key);
        if (!k) {
            ok = 0;
            break;
        }
        k += strlen(key);
        if (f->type == FG_CAT) {
            int found = -1;
            for (int v = 0; v <= (int)f->hi && found < 0; v++) {
                size_t n = strlen(f->labels[v]);
                if (strncmp(k, f->labels[v], n) == 0 && (k[n] == ' ' || k[n] == '\0'))
                    found = v;
            }
            if (found < 0)
                ok = 0;
            else
                fg_set(f, out, found);
        } else {
            char *end;
            double v = strtod(k, &end);
            if (end == k || !isfinite(v))
                ok = 0;
            else
                fg_set(f, out, v);
        }
    }
    if (ok)
        memcpy(g, out, s->size);
    free(out);
    return ok;
}

/* Token-set Jaccard distance over identifiers and numbers, each token hashed
 * into a 4096-bit set (collisions only make sources look closer). */
double fg_token_distance(const char *a, const char *b)
{
    unsigned char ba[512] = {0}, bb[512] = {0};
    const char *srcs[2] = {a ? a : "", b ? b : ""};
    unsigned char *maps[2] = {ba, bb};
    for (int k = 0; k < 2; k++) {
        const char *p = srcs[k];
        while (*p) {
            while (*p && !isalnum((unsigned char)*p) && *p != '_' && *p != '.')
                p++;
            uint32_t h = 2166136261u;
            int len = 0;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '.') {
                h = (h ^ (unsigned char)*p++) * 16777619u;
                len++;
            }
            if (len)
                maps[k][(h >> 3) % 512] |= (unsigned char)(1u << (h & 7));
        }
    }
    int inter = 0, uni = 0;
    for (int i = 0; i < 512; i++) {
        inter += __builtin_popcount(ba[i] & bb[i]);
        uni += __builtin_popcount(ba[i] | bb[i]);
    }
    return uni ? 1.0 - (double)inter / uni : 0.0;
}
