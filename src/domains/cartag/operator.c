/*
 * operator.c - Car Tag's part of the builtin operator (src/fm/builtin.c):
 * a child genome for each task from the grammar in genome.h, written as a
 * model-shaped answer, and the yes/no novelty judgement.
 *
 *   NEW      a random genome.
 *   IMPROVE  the first parent's genome, crossed with the other parents
 *            (component groups taken whole), then a small mutation.
 *   NOVEL    the first parent re-chosen component by component, preferring
 *            choices no parent uses, until it is far from all of them.
 *   REPAIR   a fresh small mutation of the parent.
 *   JUDGE    "yes" when parents[0] is far from every other parent: genome
 *            distance when both carry a genome, else token-set Jaccard.
 *
 * A parent without a "fmsp-genome v1" line (written by a model, or a human
 * baseline) counts as a random genome drawn from the request's RNG.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../core/util.h"
#include "../../core/fieldgenome.h"
#include "../../fm/builtin.h"
#include "genome.h"
#include "operator.h"

#define BUILTIN_MAX_PARENTS 16

/* Genome distance above which a candidate counts as interestingly new. */
#define JUDGE_GENOME_DISTANCE 0.12
/* Token-set Jaccard distance used instead for parents without genomes. */
#define JUDGE_TOKEN_DISTANCE 0.25

/* Parent i's genome of the requested side, or a random one from rng. */
static void parent_genome(const FmHint *h, int i, int side, FmspRng *rng, Genome *g)
{
    if (i < h->n_parents && genome_parse(h->parents[i], g) && g->side == side)
        return;
    genome_random(g, side, rng);
}

static char *judge_answer(const FmHint *h)
{
    Genome cand, other;
    int have = h->n_parents > 0 && genome_parse(h->parents[0], &cand);
    double nearest = 1.0;
    const char *how = "genome distance";
    for (int i = 1; i < h->n_parents && i < BUILTIN_MAX_PARENTS; i++) {
        double d;
        if (have && genome_parse(h->parents[i], &other) && other.side == cand.side) {
            d = genome_distance(&cand, &other);
        } else {
            /* rescaled so the two thresholds are one */
            d = fg_token_distance(h->parents[0], h->parents[i]) *
                (JUDGE_GENOME_DISTANCE / JUDGE_TOKEN_DISTANCE);
            how = "token-set distance";
        }
        if (d < nearest)
            nearest = d;
    }
    int novel = h->n_parents < 2 || nearest > JUDGE_GENOME_DISTANCE;
    return xasprintf("%s (builtin operator, not a model: %s to the nearest is %.3f, threshold %.3f)\n",
                     novel ? "yes" : "no", how, nearest, JUDGE_GENOME_DISTANCE);
}

/* The child genome for a generating task. */
static void child_genome(const FmHint *h, int side, FmspRng *rng, Genome *g)
{
    if (h->task == FM_TASK_NEW || h->n_parents == 0) {
        genome_random(g, side, rng);
        return;
    }
    parent_genome(h, 0, side, rng, g);
    if (h->task == FM_TASK_REPAIR) {
        genome_mutate(g, rng, 0.15, 0.05, 0.0);
    } else if (h->task == FM_TASK_NOVEL) {
        Genome others[BUILTIN_MAX_PARENTS];
        int n = 0;
        for (int i = 0; i < h->n_parents && n < BUILTIN_MAX_PARENTS; i++)
            parent_genome(h, i, side, rng, &others[n++]);
        for (int tries = 0; tries < 8; tries++) {
            genome_novelize(g, others, n, rng);
            double nearest = 1.0;
            for (int i = 0; i < n; i++) {
                double d = genome_distance(g, &others[i]);
                nearest = d < nearest ? d : nearest;
            }
            if (nearest > 0.3)
                break;
        }
    } else {
        for (int i = 1; i < h->n_parents && i < BUILTIN_MAX_PARENTS; i++) {
            if (fmsp_rng_uniform(rng) < 0.5) {
                Genome donor;
                parent_genome(h, i, side, rng, &donor);
                genome_crossover(g, &donor, rng);
            }
        }
        genome_mutate(g, rng, 0.25, 0.08, 0.06);
    }
}

char *cartag_operator_write(FmTask task, int side, const char *const *parents, int n_parents,
                            FmspRng *rng)
{
    FmHint h = {task, side, parents, n_parents, 0, "cartag"};
    side = side == FMSP_EVADER ? FMSP_EVADER : FMSP_PURSUER;
    Genome g;
    child_genome(&h, side, rng, &g);
    char what[320];
    genome_describe(&g, what, sizeof what);
    char *code = genome_source(&g, builtin_task_label(task));
    char *text = xasprintf("Builtin operator (offline program synthesis, not a model), %s: "
                           "%s.\n\n```c\n%s```\n",
                           builtin_task_label(task), what, code);
    free(code);
    return text;
}

char *cartag_operator_judge(const char *const *parents, int n_parents)
{
    FmHint h = {FM_TASK_JUDGE, 0, parents, n_parents, 0, "cartag"};
    return judge_answer(&h);
}
