/*
 * fieldgenome.h - genomes described by a table of fields: the variation,
 * distance and text form the builtin operators of every domain share.
 *
 * A genome is a plain struct whose first member is `int side` (1 or 2);
 * each field names a member by its offset, a side, a component group (the
 * unit crossover moves whole), a type and a range. Each domain keeps its own
 * table and struct (src/domains/cartag/genome.c, src/domains/gandalf/
 * operator.c) and its code generation; the operations below only read the
 * table, so the same seed gives the same draws in every domain's order.
 */
#ifndef FMSP_FIELDGENOME_H
#define FMSP_FIELDGENOME_H

#include <stddef.h>

#include "fmsp_rng.h"

typedef enum { FG_CAT, FG_INT, FG_REAL } FgType;

typedef struct FgField {
    const char *name;
    int side;
    int group;                 /* component group: crossover unit */
    FgType type;
    double lo, hi;             /* range; for FG_CAT, 0 .. count-1 */
    const char *const *labels; /* FG_CAT: the names of the choices */
    size_t off;                /* offset of an int (FG_CAT, FG_INT) or a double */
} FgField;

typedef struct FgSchema {
    const FgField *fields;
    int n_fields, n_groups;
    size_t size;               /* sizeof the genome struct */
    const char *tag;           /* text form's tag, e.g. "fmsp-genome v1 " */
    const char *side_word[3];  /* [1], [2]: "pursuer", "evader"... */
    int swap_floor_after;      /* mutate: after this many attempts that changed
                                  nothing, choices swap with p >= 0.1 (0: never) */
} FgSchema;

double fg_get(const FgField *f, const void *g);
void fg_set(const FgField *f, void *g, double v); /* clamped; reals kept to 1e-4 */

void fg_random(const FgSchema *s, void *g, int side, FmspRng *rng);
/* Numbers move with p = rate by sigma x range, choices swap with p = swap;
 * repeated until something changed (at most 16 times). */
void fg_mutate(const FgSchema *s, void *g, FmspRng *rng, double rate, double sigma, double swap);
/* Each component group taken from donor with p = 1/2 (same side only). */
void fg_crossover(const FgSchema *s, void *g, const void *donor, FmspRng *rng);
/* Re-chooses g preferring choices none of others[n] (stride s->size) uses. */
void fg_novelize(const FgSchema *s, void *g, const void *others, int n, FmspRng *rng);
/* In [0, 1]: choices count twice, numbers by their share of the range;
 * 1 across sides. */
double fg_distance(const FgSchema *s, const void *a, const void *b);
int fg_equal(const FgSchema *s, const void *a, const void *b);
/* "TAG side: name=value ..." (heap), and its parser: 1 when source holds a
 * whole line of the schema (every field of its side), else 0. */
char *fg_line(const FgSchema *s, const void *g);
int fg_parse(const FgSchema *s, const char *source, void *g);

/* For sources without a genome line: token-set Jaccard distance over
 * identifiers and numbers, in [0, 1]. */
double fg_token_distance(const char *a, const char *b);

#endif
