/*
 * builtin.c - the `builtin` backend: an offline program-synthesis operator.
 *
 * NOT a foundation model: a non-FM baseline operator that lets every search
 * run with no network and no key, and a yardstick for what the model adds.
 * It does not read prompts; it works from the structured hint (task, side,
 * parent sources, seed) and the grammar in genome.h:
 *
 *   NEW      a random genome.
 *   IMPROVE  the first parent's genome, crossed with the other parents
 *            (component groups taken whole), then a small mutation.
 *   NOVEL    the first parent re-chosen component by component, preferring
 *            choices no parent uses, until it is far from all of them.
 *   REPAIR   a fresh small mutation of the parent (our own code always
 *            compiles; a model's broken parent has no genome, so we start
 *            from a random one).
 *   JUDGE    "yes" when parents[0] is far from every other parent: genome
 *            distance when both carry a genome, else token-set Jaccard.
 *
 * A parent without a "fmsp-genome v1" line (written by a model, or a human
 * baseline) counts as a random genome drawn from the request's RNG. Every
 * answer is a pure function of (hint seed, config seed, parents), shaped like
 * a model's answer: one sentence, then the source in a ```c block.
 *
 * The backend keeps no state, so `complete` is thread-safe. Token figures
 * are whitespace-separated words of prompt and answer (a rough stand-in:
 * there is no tokenizer), cost is 0 and no HTTP is involved.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "fm_backend.h"
#include "fmsp_policy.h"
#include "genome.h"

#define BUILTIN_MAX_PARENTS 16

/* Genome distance above which a candidate counts as interestingly new. */
#define JUDGE_GENOME_DISTANCE 0.12
/* Token-set Jaccard distance used instead for parents without genomes. */
#define JUDGE_TOKEN_DISTANCE 0.25

static const char *task_label(FmTask t)
{
    switch (t) {
    case FM_TASK_IMPROVE:
        return "improvement";
    case FM_TASK_NOVEL:
        return "novelty";
    case FM_TASK_REPAIR:
        return "repair";
    case FM_TASK_JUDGE:
        return "judge";
    default:
        return "new policy";
    }
}

/* Token-set Jaccard distance over identifiers and numbers, each token hashed
 * into a 4096-bit set (collisions only make sources look closer). */
static double token_distance(const char *a, const char *b)
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
            d = token_distance(h->parents[0], h->parents[i]) *
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

static void builtin_complete(void *state, const FmConfig *cfg, const FmRequest *req,
                             FmResponse *resp)
{
    (void)state;
    double t0 = util_now();
    const FmHint *h = req->hint;
    long prompt_words = fm_count_words(req->system);
    for (int i = 0; i < req->n_messages; i++)
        prompt_words += fm_count_words(req->messages[i].content);
    resp->prompt_tokens = prompt_words;
    resp->attempts = 1;
    resp->http_status = 0;
    resp->cost_usd = 0;
    if (!h) {
        resp->err = FMSP_ERR_ARG;
        snprintf(resp->error, sizeof resp->error,
                 "the builtin operator needs a structured hint (it does not read prose)");
        return;
    }
    FmspRng rng;
    fmsp_rng_seed(&rng, h->seed ^ (cfg ? cfg->seed * 0x9E3779B97F4A7C15ULL : 0));
    if (h->task == FM_TASK_JUDGE) {
        resp->text = judge_answer(h);
    } else {
        int side = h->side == FMSP_EVADER ? FMSP_EVADER : FMSP_PURSUER;
        Genome g;
        child_genome(h, side, &rng, &g);
        char what[320];
        genome_describe(&g, what, sizeof what);
        char *code = genome_source(&g, task_label(h->task));
        resp->text = xasprintf("Builtin operator (offline program synthesis, not a model), %s: "
                               "%s.\n\n```c\n%s```\n",
                               task_label(h->task), what, code);
        free(code);
    }
    resp->completion_tokens = fm_count_words(resp->text);
    resp->latency_s = util_now() - t0;
}

static void builtin_destroy(void *state)
{
    (void)state;
}

static const FmBackendOps builtin_ops = {builtin_complete, builtin_destroy};

FmspErr fm_builtin_open(const FmConfig *cfg, void **state, const FmBackendOps **ops, char *err,
                        size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    *state = NULL;
    *ops = &builtin_ops;
    return FMSP_OK;
}
