/*
 * search_internal.h - what the search's modules share and nothing else
 * sees: the Search and its slots, the small helpers every module uses, and
 * the functions one module offers another. The modules:
 *   search.c         creation, resumption, deciding and the loop
 *   search_slot.c    planning an iteration, asking the model, checking the answer
 *   search_eval.c    quality (evaluation, re-scoring) and the end-of-run report
 *   search_load.c    policies into the run: compiling, embedding, behaviour
 *                    probes, archives and samples saved and restored
 *   search_pairs.c   the cache of pair results
 */
#ifndef FMSP_SEARCH_INTERNAL_H
#define FMSP_SEARCH_INTERNAL_H

#include "search.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../core/util.h"
#include "../fm/embed.h"
#include "../fm/extract.h"
#include "../domains/cartag/cartag.h"
#include "../domains/domain.h"
#include "archive.h"
#include "prompt.h"

#define MAX_PARENTS 8
#define MAX_MESSAGES 16
#define CALL_KEYS_PER_ITERATION 16
#define JUDGE_ATTEMPT 15
#define SMOKE_EPISODES 2
#define SEARCH_MAX_NET_FAILURES 3
/* Bytes of one match's transcript sample kept, and of a parent's shown. */
#define TRANSCRIPT_CAP 2400
#define PROMPT_TRANSCRIPTS_CAP 6000

typedef struct PairCache {
    int64_t *a, *b;
    double *score, *ci;   /* the policy's mean score and its 95% half-width */
    size_t cap, n;
} PairCache;

/* What novelty measures: the code, what the policy does (its behaviour
 * against the domain's probe), or both (the two unit vectors joined and
 * scaled, so cosine distance is the mean of the two distances). */
enum { SPACE_CODE, SPACE_BEHAVIOUR, SPACE_BOTH };

/* A quality: the mean own-side score against `opponents` opponents, and the
 * half-width of its 95% interval over the episodes played (the opponents are
 * fixed, so each pair's episode noise is the only randomness: the pairs'
 * standard errors add in quadrature and divide by the count). */
typedef struct Quality {
    double mean, ci;
    int opponents;
} Quality;

/* ------------------------------------------------------------------ slots */

typedef enum SlotState { SLOT_FREE, SLOT_WAITING, SLOT_READY } SlotState;

typedef struct Slot {
    SlotState state;
    int iteration, side;
    FmTask task;
    uint64_t seed;
    int64_t parents[MAX_PARENTS];
    int n_parents;
    char *parent_sources[MAX_PARENTS];
    char *system;
    char *messages[MAX_MESSAGES]; /* user, assistant, user, ... */
    int n_messages;
    int attempt;                  /* model calls made (or replayed) so far */
    /* the candidate */
    char *source;
    const char *status;           /* NULL while undecided; "ok" or a failure */
    char *reason;
    CompileResult compiled;
    int has_object;
    float *embedding;
} Slot;

struct Search {
    const Domain *dom;   /* the game (cfg.domain) */
    SearchStop stopped;  /* why the last search_run returned FMSP_OK */
    int net_fail_streak; /* model calls failed in a row by the network/HTTP */
    SearchConfig cfg;
    CompileConfig cc;
    Store *db;
    FmClient *fm;
    Archive arch[2];
    Archive base[2];          /* baselines: fixed opponents */
    int64_t *sample[2];       /* opponent ids (other side's archive) for side s */
    int n_sample[2];
    PairCache pairs;
    Slot *slots;
    int k;                    /* ring size = cfg.in_flight */
    int last_done;
    int failures, accepted;
    double t0;
    long calls, failed_calls, tokens;
    double cost;
    int threads;
    int dim;                  /* embedding dimension (code, behaviour or both joined) */
    int reporting;            /* search_report: measure, record nothing (the run's data
                                 stay what the search did, however often it reports) */
    int code_dim;             /* dimension of one embedder vector */
    int space;                /* SPACE_*: what novelty measures */
    char *probe_obj[2];       /* behaviour probes (objects), per side; NULL: none */
    EmbedRemote *remote;      /* NULL: the built-in embedding */
};

static inline int sidx(int side)
{
    return side == DOMAIN_SIDE_1 ? 0 : 1;
}

static inline int other(int side)
{
    return side == DOMAIN_SIDE_1 ? DOMAIN_SIDE_2 : DOMAIN_SIDE_1;
}

/* Sides alternate, or follow the campaign's phases: side 1 for phases[0]
 * iterations (red team), side 2 for phases[1] (blue team), then side 1
 * (red team again, and any iterations a raised budget adds). */
static inline int side_of_iteration(const Search *s, int it)
{
    const int *ph = s->cfg.phases;
    if (ph[0] + ph[1] + ph[2] == 0)
        return it % 2 == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2;
    return it < ph[0] ? DOMAIN_SIDE_1 : it < ph[0] + ph[1] ? DOMAIN_SIDE_2 : DOMAIN_SIDE_1;
}

static inline uint64_t mix(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t x = seed ^ (a * 0xD6E8FEB86659FD93ULL) ^ (b * 0xA0761D6478BD642FULL);
    return fmsp_splitmix64(&x);
}

static inline void slot_clear(Slot *sl)
{
    for (int i = 0; i < sl->n_parents; i++)
        free(sl->parent_sources[i]);
    free(sl->system);
    for (int i = 0; i < sl->n_messages; i++)
        free(sl->messages[i]);
    free(sl->source);
    free(sl->reason);
    if (sl->has_object)
        compile_result_release(&sl->compiled);
    free(sl->embedding);
    memset(sl, 0, sizeof *sl);
}

static inline FmspErr db_fail(Search *s, FmspErr e, char *err, size_t errlen, const char *what)
{
    fmsp_errf(err, errlen, "run database: %s: %s", what, store_errmsg(s->db));
    return e;
}

/* search_pairs.c */
int search_pair_get(const PairCache *c, int64_t a, int64_t b, double *score, double *ci);
void search_pair_put(PairCache *c, int64_t a, int64_t b, double score, double ci);
void search_reload_pair(void *ctx, int64_t policy, int64_t opponent, double score, double ci);
void search_pair_release(PairCache *c);

/* search_load.c */
int search_space_parse(const char *name);
FmspErr search_embed_policy(Search *s, int side, const char *source, const char *object,
                            float **out, int *probe, char *err, size_t errlen);
FmspErr search_open_probes(Search *s, char *err, size_t errlen);
FmspErr search_save_archive_order(Search *s);
FmspErr search_load_archives(Search *s, char *err, size_t errlen);
FmspErr search_save_samples(Search *s);
void search_load_samples(Search *s);

/* search_eval.c */
FmspErr search_evaluate(Search *s, int side, int64_t id, const char *object, int iteration,
                        Quality *quality, double *per_score, double *per_ci, char **detail,
                        char *err, size_t errlen);
int search_uses_quality(const Search *s);
FmspErr search_rescore(Search *s, int iteration, char *err, size_t errlen);

/* search_slot.c */
FmspErr search_slot_plan(Search *s, Slot *sl, int it, char *err, size_t errlen);
int search_call_key(int iteration, int attempt);
char *search_slot_prompt_text(const Slot *sl);
FmspErr search_slot_submit(Search *s, Slot *sl, FmResponse *recorded, int *have_recorded,
                           char *err, size_t errlen);
FmspErr search_record_call(Search *s, Slot *sl, const FmResponse *r, const char *purpose,
                           char *err, size_t errlen);
FmspErr search_slot_on_answer(Search *s, Slot *sl, FmResponse *r, char *err, size_t errlen);

#endif
