/*
 * search.c - the FMSP loop (see search.h for the iteration life cycle).
 *
 * Data: two Archives (index side-1) of the policies currently kept, the
 * fixed human baselines of each side (always opponents, never archive
 * members unless seeded), the opponent sample of each side (ids of the other
 * side's archive chosen at the last re-scoring, stored in meta so a resumed
 * run uses the same), a cache of pair results (a match between two fixed
 * policies with the fixed evaluation seed always gives the same result), and
 * a ring of K slots, one per iteration in flight: slot i % K holds iteration i.
 *
 * Invariants: iterations are decided and committed strictly in order
 * (next_final); iteration i is planned only after iteration i-K is committed;
 * a model call has the key iteration*16 + attempt and is made at most once
 * per run (a recorded answer is reused); every write of an iteration lands in
 * one transaction with its `iterations` row.
 */
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

static volatile sig_atomic_t stop_requested;

void search_stop(void)
{
    stop_requested = 1;
    match_interrupt(1); /* abandon the evaluation in progress: it is redone on resume */
}

/* ------------------------------------------------------------ pair cache */

typedef struct PairCache {
    int64_t *a, *b;
    double *score, *ci;   /* the policy's mean score and its 95% half-width */
    size_t cap, n;
} PairCache;

static size_t pair_hash(int64_t a, int64_t b, size_t cap)
{
    uint64_t x = (uint64_t)a * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)b + 0x632BE59BD9B4E019ULL);
    x ^= x >> 31;
    return (size_t)(x * 0xBF58476D1CE4E5B9ULL >> 7) & (cap - 1);
}

static int pair_get(const PairCache *c, int64_t a, int64_t b, double *score, double *ci)
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

static void pair_put(PairCache *c, int64_t a, int64_t b, double score, double ci);

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
            pair_put(c, old.a[i], old.b[i], old.score[i], old.ci[i]);
    free(old.a);
    free(old.b);
    free(old.score);
    free(old.ci);
}

/* Policy ids start at 1, so a == 0 marks an empty cell. */
static void pair_put(PairCache *c, int64_t a, int64_t b, double score, double ci)
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

static void reload_pair(void *ctx, int64_t policy, int64_t opponent, double score, double ci)
{
    pair_put(ctx, policy, opponent, score, ci);
}

static void pair_release(PairCache *c)
{
    free(c->a);
    free(c->b);
    free(c->score);
    free(c->ci);
    memset(c, 0, sizeof *c);
}

/* Bytes of one match's transcript sample kept, and of a parent's shown. */
#define TRANSCRIPT_CAP 2400
#define PROMPT_TRANSCRIPTS_CAP 6000

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

static int sidx(int side)
{
    return side == DOMAIN_SIDE_1 ? 0 : 1;
}

static int other(int side)
{
    return side == DOMAIN_SIDE_1 ? DOMAIN_SIDE_2 : DOMAIN_SIDE_1;
}

/* Sides alternate, or follow the campaign's phases: side 1 for phases[0]
 * iterations (red team), side 2 for phases[1] (blue team), then side 1
 * (red team again, and any iterations a raised budget adds). */
static int side_of_iteration(const Search *s, int it)
{
    const int *ph = s->cfg.phases;
    if (ph[0] + ph[1] + ph[2] == 0)
        return it % 2 == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2;
    return it < ph[0] ? DOMAIN_SIDE_1 : it < ph[0] + ph[1] ? DOMAIN_SIDE_2 : DOMAIN_SIDE_1;
}

static uint64_t mix(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t x = seed ^ (a * 0xD6E8FEB86659FD93ULL) ^ (b * 0xA0761D6478BD642FULL);
    return fmsp_splitmix64(&x);
}

static void slot_clear(Slot *sl)
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

static FmspErr db_fail(Search *s, FmspErr e, char *err, size_t errlen, const char *what)
{
    fmsp_errf(err, errlen, "run database: %s: %s", what, store_errmsg(s->db));
    return e;
}

/* ------------------------------------------------------- policy loading */

/* Compiles source into entry->object_path; 0 on success. */
static FmspErr compile_into(Search *s, const char *name, const char *source, char **object_path,
                            char *err, size_t errlen)
{
    CompileResult r;
    FmspErr e = compile_policy_source(&s->cc, source, strlen(source), name, &r, err, errlen);
    if (!e)
        *object_path = xstrdup(r.object_path);
    compile_result_release(&r);
    return e;
}

/* What novelty measures: the code, what the policy does (its behaviour
 * against the domain's probe), or both (the two unit vectors joined and
 * scaled, so cosine distance is the mean of the two distances). */
enum { SPACE_CODE, SPACE_BEHAVIOUR, SPACE_BOTH };

static int space_parse(const char *name)
{
    return strcmp(name, "behaviour") == 0 ? SPACE_BEHAVIOUR
           : strcmp(name, "both") == 0    ? SPACE_BOTH
                                          : SPACE_CODE;
}

/* The embedding of a text (heap, s->code_dim floats), or NULL with err set
 * when the remote endpoint fails or answers with another dimension. */
static float *embed_text(Search *s, const char *text, char *err, size_t errlen)
{
    if (!s->remote) {
        float *v = xcalloc(EMBED_DIM, sizeof(float));
        embed_builtin(text, v, EMBED_DIM);
        return v;
    }
    float *v;
    int dim;
    if (embed_remote(s->remote, text, &v, &dim, err, errlen))
        return NULL;
    if (s->code_dim == 0) {
        s->code_dim = dim;
        s->dim = s->space == SPACE_BOTH ? 2 * dim : dim;
    }
    if (dim != s->code_dim) {
        fmsp_errf(err, errlen, "the embeddings endpoint answered %d dimensions, expected %d", dim,
                  s->code_dim);
        free(v);
        return NULL;
    }
    return v;
}

/* What a policy does: its probe match's behaviour text (heap), or NULL with
 * *e and err set (an engine error: the probe is not the policy's fault).
 * The match is collected through the domain's step hook (probe_new) or its
 * transcript (domain.h). */
static char *behaviour_of(Search *s, int side, const char *object, FmspErr *e, char *err,
                          size_t errlen)
{
    const Domain *dom = s->dom;
    const char *probe = s->probe_obj[sidx(side)];
    MatchConfig mc = s->cfg.eval;
    mc.episodes = 2;
    mc.first_episode = 0;
    mc.seed = mix(s->cfg.seed, 0x50524F4245ULL, 0); /* "PROBE": the same for every policy */
    void *collected;
    MatchStepFn on_step = NULL;
    if (dom->probe_new) {
        mc.trace = NULL;
        collected = dom->probe_new(&mc);
        on_step = dom->probe_step;
    } else {
        mc.trace = dom->transcript_collect;
        mc.trace_ctx = collected = dom->transcript_new();
    }
    MatchResult r;
    *e = match_play(&mc, side == DOMAIN_SIDE_1 ? object : probe,
                    side == DOMAIN_SIDE_1 ? probe : object, on_step, on_step ? collected : NULL,
                    &r, err, errlen);
    char *text = NULL;
    if (!*e) {
        text = dom->behaviour_text(collected, side);
        match_result_release(&r);
    }
    if (dom->probe_new)
        dom->probe_free(collected);
    else
        dom->transcript_free(collected);
    return text;
}

/* The embedding of a policy in the run's novelty space (heap, s->dim
 * floats): FMSP_OK, or an error with err set: FMSP_ERR_NET from the
 * embeddings endpoint, or (*probe set) an engine error of the behaviour
 * probe's match. */
static FmspErr embed_policy(Search *s, int side, const char *source, const char *object,
                            float **out, int *probe, char *err, size_t errlen)
{
    *out = NULL;
    *probe = 0;
    float *code = NULL, *act = NULL;
    FmspErr e = FMSP_OK;
    if (s->space != SPACE_BEHAVIOUR && !(code = embed_text(s, source, err, errlen)))
        return FMSP_ERR_NET;
    if (s->space != SPACE_CODE) {
        char *text = behaviour_of(s, side, object, &e, err, errlen);
        *probe = e != FMSP_OK;
        if (!e && !(act = embed_text(s, text ? text : "", err, errlen)))
            e = FMSP_ERR_NET;
        free(text);
    }
    if (e) {
        free(code);
        return e;
    }
    if (s->space == SPACE_BOTH) {
        float *v = xmalloc(sizeof(float) * (size_t)(2 * s->code_dim));
        for (int i = 0; i < s->code_dim; i++) {
            v[i] = code[i] * (float)M_SQRT1_2;
            v[s->code_dim + i] = act[i] * (float)M_SQRT1_2;
        }
        free(code);
        free(act);
        *out = v;
    } else {
        *out = code ? code : act;
    }
    return FMSP_OK;
}

/* Compiles the domain's behaviour probes (when novelty looks at behaviour). */
static FmspErr open_probes(Search *s, char *err, size_t errlen)
{
    if (s->space == SPACE_CODE)
        return FMSP_OK;
    if (!s->dom->behaviour_text) {
        fmsp_errf(err, errlen, "%s has no behaviour descriptors: novelty can only measure code",
                  s->dom->title);
        return FMSP_ERR_ARG;
    }
    for (int k = 0; k < 2; k++) {
        const char *src = s->dom->probe_source[k + 1];
        char name[32];
        snprintf(name, sizeof name, "probe_%s", s->dom->side_name[k + 1]);
        FmspErr e = compile_into(s, name, src, &s->probe_obj[k], err, errlen);
        if (e)
            return e;
    }
    return FMSP_OK;
}

/* The archives' order lives in meta "archive_order" as {"1":[ids],"2":[ids]}:
 * a replacement takes its predecessor's place, so after a reload the
 * archive is in the same order a live run has, and every choice made by
 * position (parents, neighbours) is the same after a resume. */
static FmspErr save_archive_order(Search *s)
{
    json_t *o = json_object();
    for (int k = 0; k < 2; k++) {
        json_t *a = json_array();
        for (int i = 0; i < s->arch[k].n; i++)
            json_array_append_new(a, json_integer(s->arch[k].entries[i].id));
        json_object_set_new(o, k == 0 ? "1" : "2", a);
    }
    char *text = json_dumps(o, JSON_SORT_KEYS);
    json_decref(o);
    FmspErr e = store_meta_set(s->db, "archive_order", text);
    free(text);
    return e;
}

/* Puts each archive back in its stored order (runs from before the order
 * was stored keep id order). */
static void restore_archive_order(Search *s)
{
    char *text = NULL;
    if (store_meta_get(s->db, "archive_order", &text) || !text)
        return;
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    for (int k = 0; k < 2 && o; k++) {
        json_t *ids = json_object_get(o, k == 0 ? "1" : "2");
        Archive *a = &s->arch[k];
        int pos = 0;
        for (size_t j = 0; j < json_array_size(ids); j++) {
            int i = archive_find(a, json_integer_value(json_array_get(ids, j)));
            if (i < pos)
                continue; /* unknown, or already placed */
            ArchiveEntry t = a->entries[pos];
            a->entries[pos] = a->entries[i];
            a->entries[i] = t;
            pos++;
        }
    }
    json_decref(o);
}

/* Loads archive members and baselines from the database (create & resume). */
static FmspErr load_archives(Search *s, char *err, size_t errlen)
{
    StorePolicyRow *rows;
    int n;
    if (store_policy_list(s->db, 0, 0, &rows, &n))
        return db_fail(s, FMSP_ERR_DB, err, errlen, "listing policies");
    FmspErr e = FMSP_OK;
    for (int i = 0; i < n && !e; i++) {
        StorePolicyRow *r = &rows[i];
        int is_base = strcmp(r->origin, "baseline") == 0;
        if (!r->in_archive && !is_base)
            continue;
        if (r->corrupt) {
            fmsp_errf(err, errlen, "policy #%lld's source does not match its stored hash: the run "
                                   "database was damaged or edited", (long long)r->id);
            e = FMSP_ERR_DB;
            break;
        }
        for (int pass = 0; pass < 2 && !e; pass++) {
            if (pass == 0 && !r->in_archive)
                continue;
            if (pass == 1 && !is_base)
                continue;
            ArchiveEntry en = {0};
            en.id = r->id;
            en.name = xstrdup(r->name ? r->name : "policy");
            en.source = xstrdup(r->source ? r->source : "");
            e = compile_into(s, en.name, en.source, &en.object_path, err, errlen);
            if (e) {
                free(en.name);
                free(en.source);
                break;
            }
            if (r->embedding && r->embedding_dim > 0 && (s->dim == 0 || r->embedding_dim == s->dim)) {
                s->dim = r->embedding_dim;
                en.embedding = xmalloc(sizeof(float) * (size_t)s->dim);
                memcpy(en.embedding, r->embedding, sizeof(float) * (size_t)s->dim);
            } else {
                int probe;
                e = embed_policy(s, r->side, en.source, en.object_path, &en.embedding, &probe, err,
                                 errlen);
                if (e) {
                    free(en.name);
                    free(en.source);
                    free(en.object_path);
                    break;
                }
            }
            en.dim = s->dim;
            en.quality = r->quality;
            en.quality_ci = r->quality_ci;
            en.origin_baseline = is_base;
            archive_add(pass == 0 ? &s->arch[sidx(r->side)] : &s->base[sidx(r->side)], &en);
        }
    }
    store_policy_rows_free(rows, n);
    if (!e)
        restore_archive_order(s);
    return e;
}

/* Opponent samples live in meta "opponents" as {"1":[ids],"2":[ids]}. */
static FmspErr save_samples(Search *s)
{
    json_t *o = json_object();
    for (int k = 0; k < 2; k++) {
        json_t *a = json_array();
        for (int i = 0; i < s->n_sample[k]; i++)
            json_array_append_new(a, json_integer(s->sample[k][i]));
        json_object_set_new(o, k == 0 ? "1" : "2", a);
    }
    char *text = json_dumps(o, JSON_SORT_KEYS);
    json_decref(o);
    FmspErr e = store_meta_set(s->db, "opponents", text);
    free(text);
    return e;
}

static void load_samples(Search *s)
{
    char *text = NULL;
    if (store_meta_get(s->db, "opponents", &text) || !text)
        return;
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    for (int k = 0; k < 2 && o; k++) {
        json_t *a = json_object_get(o, k == 0 ? "1" : "2");
        size_t n = json_array_size(a);
        free(s->sample[k]);
        s->sample[k] = xcalloc(n + 1, sizeof(int64_t));
        s->n_sample[k] = 0;
        for (size_t i = 0; i < n; i++)
            s->sample[k][s->n_sample[k]++] = json_integer_value(json_array_get(a, i));
    }
    json_decref(o);
}

/* ------------------------------------------------------------- evaluation */

/* Object path of an opponent id: baselines first, then the archive. */
static const ArchiveEntry *find_entry(const Search *s, int side, int64_t id)
{
    int i = archive_find(&s->base[sidx(side)], id);
    if (i >= 0)
        return &s->base[sidx(side)].entries[i];
    i = archive_find(&s->arch[sidx(side)], id);
    return i >= 0 ? &s->arch[sidx(side)].entries[i] : NULL;
}

/* The opponents of `side`: every baseline of the other side plus the sample. */
static int opponents_of(const Search *s, int side, int64_t *out, int cap)
{
    int n = 0, o = sidx(other(side));
    for (int i = 0; i < s->base[o].n && n < cap; i++)
        out[n++] = s->base[o].entries[i].id;
    for (int i = 0; i < s->n_sample[sidx(side)] && n < cap; i++) {
        int64_t id = s->sample[sidx(side)][i];
        int dup = 0;
        for (int j = 0; j < n; j++)
            dup |= out[j] == id;
        if (!dup && find_entry(s, other(side), id))
            out[n++] = id;
    }
    return n;
}

/* A quality: the mean own-side score against `opponents` opponents, and the
 * half-width of its 95% interval over the episodes played (the opponents are
 * fixed, so each pair's episode noise is the only randomness: the pairs'
 * standard errors add in quadrature and divide by the count). */
typedef struct Quality {
    double mean, ci;
    int opponents;
} Quality;

/*
 * Quality of policy (id, object) of `side` against its opponents. Plays the
 * pairs not in the cache (in parallel), records them in the evaluations
 * table. per_score/per_ci (may be NULL; room for 256) get each opponent's
 * pair, in opponents_of order; *detail (heap, may be NULL) lists them.
 */
static FmspErr evaluate(Search *s, int side, int64_t id, const char *object, int iteration,
                        Quality *quality, double *per_score, double *per_ci, char **detail,
                        char *err, size_t errlen)
{
    int64_t opp[256];
    int n = opponents_of(s, side, opp, 256);
    MatchJob *jobs = xcalloc((size_t)n + 1, sizeof *jobs);
    int *which = xcalloc((size_t)n + 1, sizeof *which);
    int nj = 0;
    for (int i = 0; i < n; i++) {
        double sc;
        if (id > 0 && pair_get(&s->pairs, id, opp[i], &sc, NULL))
            continue;
        const ArchiveEntry *o = find_entry(s, other(side), opp[i]);
        jobs[nj].obj[0] = side == DOMAIN_SIDE_1 ? object : o->object_path;
        jobs[nj].obj[1] = side == DOMAIN_SIDE_1 ? o->object_path : object;
        /* a domain with transcripts keeps a sample of each candidate's
         * matches, for the prompts that build on it */
        if (id > 0 && s->dom->transcript_new)
            jobs[nj].trace_ctx = s->dom->transcript_new();
        which[nj++] = i;
    }
    MatchConfig mc = s->cfg.eval;
    if (s->dom->transcript_new)
        mc.trace = s->dom->transcript_collect;
    FmspErr e = nj ? match_play_many(&mc, jobs, nj, s->threads, NULL, NULL, err, errlen)
                   : FMSP_OK;
    double *scores = xcalloc((size_t)n + 1, sizeof *scores);
    double *cis = xcalloc((size_t)n + 1, sizeof *cis);
    for (int i = 0; i < n; i++)
        if (id > 0)
            pair_get(&s->pairs, id, opp[i], &scores[i], &cis[i]);
    for (int j = 0; j < nj && !e; j++) {
        const MatchResult *r = &jobs[j].result;
        double own = side == DOMAIN_SIDE_1 ? r->mean[0] : r->mean[1];
        scores[which[j]] = own;
        cis[which[j]] = r->ci95[sidx(side)];
        if (id > 0 && !s->reporting) {
            pair_put(&s->pairs, id, opp[which[j]], own, r->ci95[sidx(side)]);
            StoreEval ev = {id, opp[which[j]], iteration, own, r->ci95[sidx(side)], r->n,
                            side == DOMAIN_SIDE_1 ? r->faults[0] : r->faults[1],
                            side == DOMAIN_SIDE_1 ? r->faults[1] : r->faults[0], NULL};
            if (store_eval_add(s->db, &ev))
                e = db_fail(s, FMSP_ERR_DB, err, errlen, "recording an evaluation");
            if (!e && jobs[j].trace_ctx) {
                const ArchiveEntry *o = find_entry(s, other(side), opp[which[j]]);
                char *sample = s->dom->transcript_sample(jobs[j].trace_ctx, o ? o->name : "?",
                                                         TRANSCRIPT_CAP);
                if (sample && store_transcript_add(s->db, id, opp[which[j]], iteration, sample))
                    e = db_fail(s, FMSP_ERR_DB, err, errlen, "recording a transcript");
                free(sample);
                /* a paid-for model saw these: every exchange is kept */
                char *full = !e && s->dom->record_every_exchange(&s->cfg.eval)
                                 ? s->dom->transcript_full(jobs[j].trace_ctx)
                                 : NULL;
                if (full) {
                    char *record = xasprintf("{\"policy\": %lld, \"opponent\": %lld}\n%s",
                                             (long long)id, (long long)opp[which[j]], full);
                    if (store_event(s->db, iteration, "exchanges", record))
                        e = db_fail(s, FMSP_ERR_DB, err, errlen, "recording exchanges");
                    free(record);
                    free(full);
                }
            }
        }
    }
    for (int j = 0; j < nj; j++) {
        match_result_release(&jobs[j].result);
        if (jobs[j].trace_ctx)
            s->dom->transcript_free(jobs[j].trace_ctx);
    }
    double sum = 0, var = 0;
    for (int i = 0; i < n; i++) {
        sum += scores[i];
        var += (cis[i] / 1.96) * (cis[i] / 1.96);
        if (per_score && i < 256)
            per_score[i] = scores[i];
        if (per_ci && i < 256)
            per_ci[i] = cis[i];
    }
    quality->mean = n ? sum / n : NAN;
    quality->ci = n ? 1.96 * sqrt(var) / n : NAN;
    quality->opponents = n;
    if (detail) {
        size_t cap = 64 + (size_t)n * 80, len = 0;
        char *d = xmalloc(cap);
        d[0] = 0;
        for (int i = 0; i < n; i++) {
            const ArchiveEntry *o = find_entry(s, other(side), opp[i]);
            len += (size_t)snprintf(d + len, cap - len, "%s%s %.2f", i ? ", " : "vs ",
                                    o ? o->name : "?", scores[i]);
            if (len >= cap)
                break;
        }
        *detail = d;
    }
    free(scores);
    free(cis);
    free(jobs);
    free(which);
    return e;
}

/* vFMSP and QDSP decide by quality; open-loop and NSSP only record it. */
static int uses_quality(const Search *s)
{
    return s->cfg.algo == ALGO_VFMSP || s->cfg.algo == ALGO_QDSP;
}

/*
 * Refreshes the opponent samples and re-scores every archive member. A
 * sample keeps its members while they stay in the other archive; departed
 * ones are replaced, and one more (the oldest) rotates out for a new one, so
 * the sample follows the other side without every member having to play a
 * whole new set of opponents at each refresh. vFMSP's "sample" is the whole
 * other archive (its incumbent). Open-loop and NSSP ignore quality, so for
 * them the sample stays empty: quality is the score against the baselines,
 * which never changes, and the archive never needs re-scoring.
 */
static FmspErr rescore(Search *s, int iteration, char *err, size_t errlen)
{
    for (int k = 0; k < 2; k++) {
        int side = k == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2;
        const Archive *oa = &s->arch[sidx(other(side))];
        int64_t *old = s->sample[k];
        int n_old = s->n_sample[k];
        s->sample[k] = xcalloc((size_t)oa->n + 1, sizeof(int64_t));
        s->n_sample[k] = 0;
        int *pool = xmalloc(sizeof(int) * ((size_t)oa->n + 1));
        int m = 0;
        for (int i = 0; i < oa->n; i++)
            if (!oa->entries[i].origin_baseline)
                pool[m++] = i;
        int want = s->cfg.algo == ALGO_VFMSP ? m : (s->cfg.opponents < m ? s->cfg.opponents : m);
        if (!uses_quality(s))
            want = 0;
        FmspRng rng;
        fmsp_rng_seed(&rng, mix(s->cfg.seed, (uint64_t)iteration, 0x5A4D + (uint64_t)k));
        /* keep the members still there, except the oldest when rotating */
        int kept = 0;
        for (int i = 0; i < n_old; i++) {
            int at = archive_find(oa, old[i]);
            if (at < 0 || oa->entries[at].origin_baseline)
                continue;
            kept++;
            if (kept == 1 && n_old >= want && m > want && s->cfg.algo != ALGO_VFMSP)
                continue; /* rotate the oldest out */
            if (s->n_sample[k] < want)
                s->sample[k][s->n_sample[k]++] = old[i];
        }
        /* fill up with random members not yet in the sample */
        while (s->n_sample[k] < want) {
            int free_n = 0;
            for (int i = 0; i < m; i++) {
                int64_t id = oa->entries[pool[i]].id;
                int in = 0;
                for (int j = 0; j < s->n_sample[k]; j++)
                    in |= s->sample[k][j] == id;
                if (!in)
                    pool[free_n++] = pool[i];
            }
            if (free_n == 0)
                break;
            int pick = (int)(fmsp_rng_u64(&rng) % (uint64_t)free_n);
            s->sample[k][s->n_sample[k]++] = oa->entries[pool[pick]].id;
            m = free_n; /* pool now holds only the unused ones */
        }
        free(pool);
        free(old);
    }
    FmspErr e = save_samples(s);
    if (e)
        return db_fail(s, e, err, errlen, "saving opponent samples");
    for (int k = 0; k < 2 && !e; k++) {
        int side = k == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2;
        Archive *a = &s->arch[k];
        for (int i = 0; i < a->n && !e; i++) {
            Quality q;
            e = evaluate(s, side, a->entries[i].id, a->entries[i].object_path, iteration, &q,
                         NULL, NULL, NULL, err, errlen);
            if (!e) {
                a->entries[i].quality = q.mean;
                a->entries[i].quality_ci = q.ci;
                if (store_policy_set_quality(s->db, a->entries[i].id, q.mean, q.ci, q.opponents))
                    e = db_fail(s, FMSP_ERR_DB, err, errlen, "updating quality");
            }
        }
    }
    return e;
}

/* ------------------------------------------------------------ creation */

static void search_alloc(Search **out, const SearchConfig *cfg, const CompileConfig *cc)
{
    Search *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->cc = *cc;
    s->dom = domain_find(cfg->domain);
    if (!s->dom)
        s->dom = &domain_cartag;
    s->cfg.eval.domain = s->dom;
    archive_init(&s->arch[0], DOMAIN_SIDE_1);
    archive_init(&s->arch[1], DOMAIN_SIDE_2);
    archive_init(&s->base[0], DOMAIN_SIDE_1);
    archive_init(&s->base[1], DOMAIN_SIDE_2);
    s->k = cfg->in_flight < 1 ? 1 : (cfg->in_flight > 64 ? 64 : cfg->in_flight);
    s->slots = xcalloc((size_t)s->k, sizeof *s->slots);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s->threads = ncpu < 1 ? 1 : (int)ncpu;
    s->last_done = -1;
    *out = s;
}

static FmspErr open_embedder(Search *s, char *err, size_t errlen)
{
    s->space = space_parse(s->cfg.novelty_space);
    if (strcmp(s->cfg.embed, "openai") != 0) {
        s->code_dim = EMBED_DIM;
        s->dim = s->space == SPACE_BOTH ? 2 * EMBED_DIM : EMBED_DIM;
        return FMSP_OK;
    }
    const char *url = s->cfg.embed_url[0] ? s->cfg.embed_url : s->cfg.fm.base_url;
    const char *key = s->cfg.embed_key_env[0] ? s->cfg.embed_key_env : s->cfg.fm.api_key_env;
    return embed_remote_new(url, s->cfg.embed_model, key, s->cfg.fm.timeout_s, &s->remote, err,
                            errlen);
}

static FmspErr open_client(Search *s, char *err, size_t errlen)
{
    FmspErr ee = open_embedder(s, err, errlen);
    if (!ee)
        ee = open_probes(s, err, errlen);
    if (ee)
        return ee;
    FmConfig fc = s->cfg.fm;
    if (fc.max_in_flight < s->k)
        fc.max_in_flight = s->k;
    if (fc.backend == FM_BUILTIN && fc.seed == 0)
        fc.seed = s->cfg.seed;
    FmspErr e = fm_client_new(&fc, &s->fm, err, errlen);
    /* the domain's own models (Gandalf's target) answer first */
    if (!e && s->cfg.check_endpoint && s->dom->preflight)
        e = s->dom->preflight(&s->cfg.eval, err, errlen);
    if (e || !s->cfg.check_endpoint || (fc.backend != FM_OPENAI && fc.backend != FM_ANTHROPIC))
        return e;
    /* One tiny question, not part of the run (not recorded), retried once:
     * a dead endpoint, a wrong key or an unknown model stops the start. */
    FmConfig pc = fc;
    pc.max_retries = 1;
    pc.max_in_flight = 1;
    FmClient *probe;
    if ((e = fm_client_new(&pc, &probe, err, errlen)) != FMSP_OK)
        return e;
    FmMessage m = {"user", "Reply with the single word OK."};
    FmRequest req = {NULL, &m, 1, NULL, 0, -1, NULL};
    FmResponse r;
    e = fm_complete(probe, &req, &r);
    fm_client_free(probe);
    if (!e && r.err) {
        fmsp_errf(err, errlen, "the model endpoint %s (model '%s') does not answer: %s",
                  fc.base_url[0] ? fc.base_url : fm_backend_name(fc.backend), fc.model, r.error);
        e = r.err;
    } else if (e) {
        fmsp_errf(err, errlen, "cannot reach the model endpoint: %s", fmsp_strerror(e));
    }
    fm_response_release(&r);
    return e;
}

/* The simple seeds of the archives (as in the paper: start from a basic
 * policy per side); a side without one is seeded with its first baseline. */
static int is_seed_name(const Domain *d, const char *name, int side)
{
    return strcmp(name, d->simple_seed[side]) == 0;
}

/* A database whose set-up never committed (a start killed with kill -9)
 * holds nothing: it is removed so that the same command can start again.
 * Anything else at the path is left for store_open to refuse. */
static void reclaim_unset_db(const char *db_path)
{
    struct stat st;
    if (stat(db_path, &st) != 0)
        return;
    Store *db = NULL;
    char err[256];
    if (store_open(db_path, 0, &db, err, sizeof err) != FMSP_OK)
        return;
    char *cfg_json = NULL;
    int unset = store_claim_writer(db, err, sizeof err) == FMSP_OK &&
                store_meta_get(db, "config", &cfg_json) == FMSP_OK && !cfg_json;
    free(cfg_json);
    store_close(db);
    if (unset)
        store_remove_files(db_path);
}

FmspErr search_create(const SearchConfig *cfg, const CompileConfig *cc, const char *db_path,
                      Search **out, char *err, size_t errlen)
{
    *out = NULL;
    if (cfg->iterations < 1) {
        fmsp_errf(err, errlen, "the iteration budget must be at least 1");
        return FMSP_ERR_ARG;
    }
    reclaim_unset_db(db_path);
    Search *s;
    search_alloc(&s, cfg, cc);
    FmspErr e = store_open(db_path, 1, &s->db, err, errlen);
    if (!e)
        e = store_claim_writer(s->db, err, errlen);
    if (e) {
        search_free(s);
        return e;
    }
    e = open_client(s, err, errlen);
    /* Baselines: compiled now (a broken one stops the run before it starts),
     * stored as origin "baseline"; the seeds also enter the archives. */
    char **files = NULL;
    int nf = 0;
    if (!e) {
        e = util_list_c_files(cfg->baselines_dir, &files, &nf, err, errlen);
        if (!e && nf == 0) {
            fmsp_errf(err, errlen, "no baseline policies (*.c) in '%s'", cfg->baselines_dir);
            e = FMSP_ERR_NOTFOUND;
        }
    }
    if (!e && store_begin(s->db))
        e = db_fail(s, FMSP_ERR_DB, err, errlen, "starting the set-up transaction");
    if (!e) {
        char *cfg_json = search_config_to_json(cfg);
        if (store_meta_set(s->db, "config", cfg_json) || store_meta_set(s->db, "status", "running"))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "saving the config");
        free(cfg_json);
    }
    int seeded[2] = {0, 0};
    for (int pass = 0; pass < 2 && !e; pass++) {
        for (int i = 0; i < nf && !e; i++) {
            char *src = NULL;
            e = util_read_file(files[i], s->cc.source_cap, &src, NULL, err, errlen);
            if (e)
                break;
            CompileResult r;
            char name[256];
            const char *b = strrchr(files[i], '/');
            snprintf(name, sizeof name, "%s", b ? b + 1 : files[i]);
            char *dot = strrchr(name, '.');
            if (dot)
                *dot = 0;
            e = compile_policy_source(&s->cc, src, strlen(src), name, &r, err, errlen);
            if (e) {
                free(src);
                compile_result_release(&r);
                break;
            }
            const Domain *of = domain_of_side_macro(r.side_macro);
            if (of && of != s->dom) {
                fmsp_errf(err, errlen, "baseline '%s' in '%s' is a %s policy, but this run plays %s",
                          name, cfg->baselines_dir, of->title, s->dom->title);
                e = FMSP_ERR_ARG;
                free(src);
                compile_result_release(&r);
                break;
            }
            int side = r.side;
            int seed = strcmp(cfg->seeds, "all") == 0 || is_seed_name(s->dom, name, side);
            /* pass 0 stores the named seeds, pass 1 the rest; a side with no
             * named seed is seeded with its first baseline */
            if ((pass == 0) != seed) {
                compile_result_release(&r);
                free(src);
                continue;
            }
            if (pass == 1 && !seeded[sidx(side)])
                seed = 1;
            {
                float *emb = NULL;
                int probe;
                e = embed_policy(s, side, src, r.object_path, &emb, &probe, err, errlen);
                if (e) {
                    compile_result_release(&r);
                    free(src);
                    break;
                }
                StorePolicy p = {0};
                p.side = side;
                p.iteration = -1;
                p.origin = "baseline";
                p.name = name;
                p.source = src;
                char src_hash[65];
                util_sha256_hex(src, strlen(src), src_hash);
                p.hash = src_hash;
                p.parents = "[]";
                p.status = "ok";
                p.reason = seed ? "human-designed baseline, archive seed" : "human-designed baseline";
                p.embedding = emb;
                p.embedding_dim = s->dim;
                p.quality = NAN;
                p.novelty = NAN;
                p.in_archive = seed;
                if (store_policy_add(s->db, &p))
                    e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing a baseline");
                if (seed)
                    seeded[sidx(side)]++;
                free(emb);
            }
            compile_result_release(&r);
            free(src);
        }
    }
    for (int i = 0; i < nf; i++)
        free(files[i]);
    free(files);
    if (!e && (seeded[0] == 0 || seeded[1] == 0)) {
        fmsp_errf(err, errlen, "the baselines in '%s' need at least one %s and one %s (of %s)",
                  cfg->baselines_dir, s->dom->side_name[1], s->dom->side_name[2], s->dom->title);
        e = FMSP_ERR_NOTFOUND;
    }
    if (!e)
        e = load_archives(s, err, errlen);
    if (!e)
        e = rescore(s, -1, err, errlen);
    if (!e && (save_archive_order(s) || store_commit(s->db)))
        e = db_fail(s, FMSP_ERR_DB, err, errlen, "committing the set-up");
    if (e) {
        /* a refused start leaves nothing behind: the same command, fixed,
         * starts afresh */
        search_free(s);
        store_remove_files(db_path);
        return e;
    }
    s->t0 = util_now();
    *out = s;
    return FMSP_OK;
}

FmspErr search_resume(const char *db_path, const CompileConfig *cc, const SearchConfig *override,
                      Search **out, char *err, size_t errlen)
{
    *out = NULL;
    Store *db;
    FmspErr e = store_open(db_path, 0, &db, err, errlen);
    if (!e && (e = store_claim_writer(db, err, errlen)) != FMSP_OK)
        store_close(db);
    if (e)
        return e;
    char *cfg_json = NULL;
    if (store_meta_get(db, "config", &cfg_json) || !cfg_json) {
        fmsp_errf(err, errlen, "'%s' has no run config: it was never set up", db_path);
        store_close(db);
        return FMSP_ERR_DB;
    }
    SearchConfig cfg;
    e = search_config_from_json(cfg_json, &cfg, err, errlen);
    free(cfg_json);
    if (e) {
        store_close(db);
        return e;
    }
    if (override) {
        if (override->iterations > 0)
            cfg.iterations = override->iterations;
        if (override->max_tokens > 0)
            cfg.max_tokens = override->max_tokens;
        if (override->max_cost > 0)
            cfg.max_cost = override->max_cost;
        cfg.max_seconds = override->max_seconds;
        cfg.check_endpoint = override->check_endpoint;
    }
    Search *s;
    search_alloc(&s, &cfg, cc);
    s->db = db;
    if (store_last_iteration(db, &s->last_done)) {
        e = db_fail(s, FMSP_ERR_DB, err, errlen, "reading progress");
    }
    int done = s->last_done + 1;
    if (!e && override && override->iterations > 0 && override->iterations <= done) {
        fmsp_errf(err, errlen, "the run has already completed %d iterations; give --iterations above "
                               "%d to do more",
                  done, done);
        e = FMSP_ERR_ARG;
    } else if (!e && done >= cfg.iterations) {
        fmsp_errf(err, errlen, "the run is finished (%d of %d iterations); give --iterations above "
                               "%d to continue it",
                  done, cfg.iterations, done);
        e = FMSP_ERR_ARG;
    }
    if (!e && override) {
        /* raised budgets become part of the run */
        char *json = search_config_to_json(&cfg);
        if (store_meta_set(db, "config", json))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "saving the new budget");
        free(json);
    }
    if (!e)
        e = open_client(s, err, errlen);
    if (!e)
        e = load_archives(s, err, errlen);
    if (!e) {
        load_samples(s);
        /* Pair results come back too: a resumed run plays (and records) no
         * match an uninterrupted one would have taken from its cache. */
        if (store_eval_each(db, reload_pair, &s->pairs))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "reading the evaluations");
    }
    if (!e) {
        long calls, failed, tokens;
        double cost;
        if (store_call_totals(db, &calls, &failed, &tokens, &cost) == FMSP_OK) {
            s->calls = calls;
            s->failed_calls = failed;
            s->tokens = tokens;
            s->cost = cost;
        }
        StorePolicyRow *rows;
        int n;
        if (store_policy_list(db, 0, 0, &rows, &n) == FMSP_OK) {
            for (int i = 0; i < n; i++) {
                if (rows[i].iteration < 0)
                    continue;
                if (strcmp(rows[i].status, "ok") != 0 && strcmp(rows[i].status, "rejected") != 0)
                    s->failures++;
            }
            store_policy_rows_free(rows, n);
        }
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < s->arch[k].n; i++)
                s->accepted += !s->arch[k].entries[i].origin_baseline;
    }
    if (e) {
        search_free(s);
        return e;
    }
    s->t0 = util_now();
    *out = s;
    return FMSP_OK;
}

/* ------------------------------------------------------------- planning */

static FmTask plan_task(const Search *s, FmspRng *rng)
{
    switch (s->cfg.algo) {
    case ALGO_OPENLOOP:
        return FM_TASK_NEW;
    case ALGO_VFMSP:
        return FM_TASK_IMPROVE;
    case ALGO_NSSP:
        return FM_TASK_NOVEL;
    default:
        return fmsp_rng_uniform(rng) < 0.5 ? FM_TASK_IMPROVE : FM_TASK_NOVEL;
    }
}

static const char *task_name(FmTask t)
{
    static const char *const names[] = {"new", "improve", "novel", "repair", "judge"};
    return (unsigned)t < 5 ? names[t] : "?";
}

static FmTask task_parse(const char *name)
{
    for (int t = 0; t < 5; t++)
        if (name && strcmp(name, task_name((FmTask)t)) == 0)
            return (FmTask)t;
    return FM_TASK_NEW;
}

static PromptAlgo prompt_algo(SearchAlgo a)
{
    return a == ALGO_OPENLOOP ? PROMPT_OPENLOOP
                              : a == ALGO_VFMSP ? PROMPT_VFMSP : a == ALGO_NSSP ? PROMPT_NSSP : PROMPT_QDSP;
}

/* Builds the prompt of a planned slot from its parents (read from the db). */
static FmspErr slot_build_prompt(Search *s, Slot *sl, char *err, size_t errlen)
{
    PromptPolicy pp[MAX_PARENTS];
    char *details[MAX_PARENTS] = {0};
    StorePolicyRow rows[MAX_PARENTS];
    int n = 0;
    FmspErr e = FMSP_OK;
    for (int i = 0; i < sl->n_parents && !e; i++) {
        if (store_policy_get(s->db, sl->parents[i], &rows[n])) {
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "reading a parent policy");
            break;
        }
        if (rows[n].corrupt) {
            fmsp_errf(err, errlen, "policy #%lld's source does not match its stored hash: the run "
                                   "database was damaged or edited", (long long)rows[n].id);
            store_policy_row_release(&rows[n]);
            e = FMSP_ERR_DB;
            break;
        }
        sl->parent_sources[i] = xstrdup(rows[n].source ? rows[n].source : "");
        pp[n].name = rows[n].name;
        pp[n].source = rows[n].source;
        pp[n].quality = rows[n].quality;
        pp[n].results = NULL;
        pp[n].transcripts = NULL;
        /* what its matches looked like when it was evaluated (Gandalf) */
        if (s->dom->transcript_new && n < 2 &&
            store_transcripts_get(s->db, rows[n].id, rows[n].iteration, PROMPT_TRANSCRIPTS_CAP,
                                  &details[n]) == FMSP_OK && details[n])
            pp[n].transcripts = details[n];
        n++;
    }
    if (!e) {
        char opp[512];
        int nb = s->base[sidx(other(sl->side))].n;
        snprintf(opp, sizeof opp, "the %d human-designed %s baselines%s", nb,
                 s->dom->side_name[other(sl->side)],
                 s->cfg.algo == ALGO_VFMSP ? " and the current opposing policy"
                                           : " and a sample of the opposing archive");
        PromptSpec spec = {prompt_algo(s->cfg.algo), sl->task, sl->side, s->dom, &s->cfg.eval,
                           pp, n, opp};
        sl->system = prompt_system(s->dom);
        sl->messages[0] = prompt_user(&spec);
        sl->n_messages = 1;
    }
    for (int i = 0; i < n; i++) {
        free(details[i]);
        store_policy_row_release(&rows[i]);
    }
    return e;
}

/*
 * Plans iteration `it` into slot sl: reuses the stored plan when there is
 * one (resume), otherwise chooses parents from the current archive with the
 * iteration's RNG and stores the plan before anything is asked.
 */
static FmspErr slot_plan(Search *s, Slot *sl, int it, char *err, size_t errlen)
{
    slot_clear(sl);
    sl->iteration = it;
    sl->side = side_of_iteration(s, it);
    sl->state = SLOT_WAITING;
    char *plan = NULL;
    FmspErr e = store_request_get(s->db, it, &plan);
    if (e == FMSP_OK && plan) {
        json_t *o = json_loads(plan, 0, NULL);
        free(plan);
        if (!o) {
            fmsp_errf(err, errlen, "stored plan of iteration %d is corrupt", it);
            return FMSP_ERR_DB;
        }
        sl->task = task_parse(json_string_value(json_object_get(o, "task")));
        sl->seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
        json_t *pa = json_object_get(o, "parents");
        for (size_t i = 0; i < json_array_size(pa) && sl->n_parents < MAX_PARENTS; i++)
            sl->parents[sl->n_parents++] = json_integer_value(json_array_get(pa, i));
        json_decref(o);
        return slot_build_prompt(s, sl, err, errlen);
    }
    free(plan);
    FmspRng rng;
    fmsp_rng_seed(&rng, mix(s->cfg.seed, (uint64_t)it, 0x504C414E));
    sl->task = plan_task(s, &rng);
    sl->seed = fmsp_rng_u64(&rng);
    const Archive *a = &s->arch[sidx(sl->side)];
    if (sl->task != FM_TASK_NEW && a->n > 0) {
        int pi;
        if (s->cfg.algo == ALGO_VFMSP) {
            pi = archive_best(a);
            if (pi < 0)
                pi = 0;
        } else {
            pi = (int)(fmsp_rng_u64(&rng) % (uint64_t)a->n);
        }
        sl->parents[sl->n_parents++] = a->entries[pi].id;
        if (s->cfg.algo != ALGO_VFMSP) {
            int nn[MAX_PARENTS];
            int k = s->cfg.neighbours < MAX_PARENTS - 1 ? s->cfg.neighbours : MAX_PARENTS - 1;
            int m = archive_knn(a, a->entries[pi].embedding, a->entries[pi].dim, k, pi, nn);
            for (int i = 0; i < m; i++)
                sl->parents[sl->n_parents++] = a->entries[nn[i]].id;
        }
    }
    json_t *o = json_pack("{s:i, s:i, s:s, s:I}", "iteration", it, "side", sl->side, "task",
                          task_name(sl->task), "seed", (json_int_t)sl->seed);
    json_t *pa = json_array();
    for (int i = 0; i < sl->n_parents; i++)
        json_array_append_new(pa, json_integer(sl->parents[i]));
    json_object_set_new(o, "parents", pa);
    char *text = json_dumps(o, JSON_SORT_KEYS);
    json_decref(o);
    e = store_request_put(s->db, it, text);
    free(text);
    if (e)
        return db_fail(s, e, err, errlen, "storing a plan");
    return slot_build_prompt(s, sl, err, errlen);
}

/* -------------------------------------------------- generate and check */

static int call_key(int iteration, int attempt)
{
    return iteration * CALL_KEYS_PER_ITERATION + attempt;
}

/* The full prompt text of a slot's conversation, as recorded. */
static char *slot_prompt_text(const Slot *sl)
{
    size_t len = strlen(sl->system ? sl->system : "") + 64;
    for (int i = 0; i < sl->n_messages; i++)
        len += strlen(sl->messages[i]) + 32;
    char *t = xmalloc(len);
    size_t off = (size_t)snprintf(t, len, "[system]\n%s\n", sl->system ? sl->system : "");
    for (int i = 0; i < sl->n_messages; i++)
        off += (size_t)snprintf(t + off, len - off, "[%s]\n%s\n", i % 2 ? "assistant" : "user",
                                sl->messages[i]);
    return t;
}

/* Submits the slot's next model call, unless it is already recorded, in
 * which case *recorded gets the stored answer (heap) to process at once. */
static FmspErr slot_submit(Search *s, Slot *sl, FmResponse *recorded, int *have_recorded,
                           char *err, size_t errlen)
{
    *have_recorded = 0;
    int key = call_key(sl->iteration, sl->attempt);
    char *text = NULL, *cerr = NULL;
    long pt = 0, ct = 0;
    if (store_call_get(s->db, key, &text, &cerr, &pt, &ct) == FMSP_OK) {
        memset(recorded, 0, sizeof *recorded);
        recorded->tag = (uint64_t)key;
        recorded->text = text;
        recorded->err = cerr ? FMSP_ERR_NET : FMSP_OK;
        if (cerr)
            snprintf(recorded->error, sizeof recorded->error, "%s", cerr);
        free(cerr);
        recorded->prompt_tokens = pt;
        recorded->completion_tokens = ct;
        *have_recorded = 1;
        return FMSP_OK;
    }
    FmMessage msgs[MAX_MESSAGES];
    for (int i = 0; i < sl->n_messages; i++) {
        msgs[i].role = i % 2 ? "assistant" : "user";
        msgs[i].content = sl->messages[i];
    }
    FmHint hint = {sl->attempt == 0 ? sl->task : FM_TASK_REPAIR, sl->side,
                   (const char *const *)sl->parent_sources, sl->n_parents,
                   mix(sl->seed, (uint64_t)sl->attempt, 0x4841), s->dom->name};
    const char *failed[1];
    if (sl->attempt > 0 && sl->source) {
        failed[0] = sl->source;
        hint.parents = failed;
        hint.n_parents = 1;
    }
    FmRequest req = {sl->system, msgs, sl->n_messages, &hint, (uint64_t)key, key, NULL};
    FmspErr e = fm_submit(s->fm, &req);
    if (e)
        fmsp_errf(err, errlen, "cannot queue a model request: %s", fmsp_strerror(e));
    return e;
}

static void slot_fail(Slot *sl, const char *status, const char *reason)
{
    sl->status = status;
    free(sl->reason);
    sl->reason = xstrdup(reason ? reason : "");
    sl->state = SLOT_READY;
}

/* Records a model call (own transaction: it is paid for, keep it). */
static FmspErr record_call(Search *s, Slot *sl, const FmResponse *r, const char *purpose,
                           char *err, size_t errlen)
{
    char *prompt = slot_prompt_text(sl);
    StoreCall c = {0};
    c.iteration = sl->iteration;
    c.side = sl->side;
    c.purpose = purpose;
    c.backend = fm_backend_name(s->cfg.fm.backend);
    c.model = s->cfg.fm.model;
    c.prompt = prompt;
    c.response = r->text;
    c.prompt_tokens = r->prompt_tokens;
    c.completion_tokens = r->completion_tokens;
    c.latency_s = r->latency_s;
    c.cost_usd = r->cost_usd;
    c.http_status = r->http_status;
    c.attempts = r->attempts;
    c.error = r->err ? r->error : NULL;
    c.key = (int)r->tag;
    FmspErr e = store_call_add(s->db, &c);
    free(prompt);
    if (e)
        return db_fail(s, e, err, errlen, "recording a model call");
    s->calls++;
    s->failed_calls += r->err != FMSP_OK;
    s->tokens += r->prompt_tokens + r->completion_tokens;
    s->cost += r->cost_usd;
    return FMSP_OK;
}

/* Plays a short match against the first baseline of the other side.
 * 1: played cleanly; 0: the policy faulted (why); -1: the engine failed
 * (*engine set, why holds the cause). */
static int smoke_test(Search *s, Slot *sl, char *why, size_t whylen, FmspErr *engine)
{
    const Archive *ob = &s->base[sidx(other(sl->side))];
    if (ob->n == 0)
        return 1;
    MatchConfig mc = s->cfg.eval;
    mc.episodes = SMOKE_EPISODES;
    mc.batch = SMOKE_EPISODES;
    mc.seed = mix(s->cfg.seed, 0x534D4F4B, 0);
    MatchResult r;
    char err[512];
    const char *mine = sl->compiled.object_path, *theirs = ob->entries[0].object_path;
    FmspErr e = match_play(&mc, sl->side == DOMAIN_SIDE_1 ? mine : theirs,
                           sl->side == DOMAIN_SIDE_1 ? theirs : mine, NULL, NULL, &r, err,
                           sizeof err);
    if (e) {
        fmsp_errf(why, whylen, "%s", err);
        *engine = e;
        return -1;
    }
    int ok = 1;
    for (int i = 0; i < r.n && ok; i++) {
        const Fault *f = sl->side == DOMAIN_SIDE_1 ? &r.episodes[i].fault[0]
                                                  : &r.episodes[i].fault[1];
        if (f->kind != FAULT_NONE) {
            fmsp_errf(why, whylen, "runtime fault in a test episode (%s): %s",
                      fault_name(f->kind), f->detail);
            ok = 0;
        }
    }
    match_result_release(&r);
    return ok;
}

/*
 * Processes a model answer for a slot: extract (or apply edits), compile,
 * smoke-test. On a fixable failure with repairs left, appends the answer and
 * a repair prompt and submits again. Leaves the slot READY or WAITING.
 */
static FmspErr slot_on_answer(Search *s, Slot *sl, FmResponse *r, char *err, size_t errlen)
{
    for (;;) {
        sl->attempt++;
        if (r->err) {
            slot_fail(sl, "model_error", r->error[0] ? r->error : fmsp_strerror(r->err));
            fm_response_release(r);
            return FMSP_OK;
        }
        char *text = r->text ? r->text : xstrdup("");
        r->text = NULL;
        char why[4096] = "";
        const char *fail_status = NULL;
        char *code = NULL;
        if (sl->n_parents > 0 && extract_has_edits(text)) {
            if (extract_apply_edits(sl->parent_sources[0], text, &code, why, sizeof why)) {
                fail_status = "edit_failed";
            }
        } else if (extract_policy_code(text, &code, why, sizeof why)) {
            fail_status = "no_code";
        }
        if (!fail_status) {
            free(sl->source);
            sl->source = code;
            code = NULL;
            char name[64];
            snprintf(name, sizeof name, "it%d.c", sl->iteration);
            if (sl->has_object)
                compile_result_release(&sl->compiled);
            char cerr[512] = "";
            FmspErr ce = compile_policy_source(&s->cc, sl->source, strlen(sl->source), name,
                                               &sl->compiled, cerr, sizeof cerr);
            sl->has_object = 1;
            FmspErr engine = FMSP_OK;
            if (ce == FMSP_ERR_IO) {
                /* the engine could not compile (disk full, no jail): not the
                 * candidate's fault; stop, and the iteration is redone on resume */
                engine = ce;
                snprintf(why, sizeof why, "%s", cerr);
            } else if (ce) {
                fail_status = ce == FMSP_ERR_REFUSED ? "refused" : "compile_error";
                snprintf(why, sizeof why, "%s%s%s", cerr,
                         sl->compiled.diagnostics ? "\n" : "",
                         sl->compiled.diagnostics ? sl->compiled.diagnostics : "");
                compile_result_release(&sl->compiled);
                sl->has_object = 0;
            } else if (domain_of_side_macro(sl->compiled.side_macro) &&
                       domain_of_side_macro(sl->compiled.side_macro) != s->dom) {
                fail_status = "refused";
                snprintf(why, sizeof why, "the policy is written for %s (FMSP_SIDE(%s)); this run "
                                          "plays %s: include \"%s\" and declare FMSP_SIDE(%s)",
                         domain_of_side_macro(sl->compiled.side_macro)->title,
                         sl->compiled.side_macro, s->dom->title, s->dom->header,
                         s->dom->side_macro[sl->side]);
            } else if (sl->compiled.side != sl->side) {
                fail_status = "refused";
                snprintf(why, sizeof why, "the policy declares the wrong side: this iteration "
                                          "needs FMSP_SIDE(%s)",
                         s->dom->side_macro[sl->side]);
            } else {
                int played = smoke_test(s, sl, why, sizeof why, &engine);
                if (played == 0)
                    fail_status = "fault";
            }
            if (engine) {
                compile_result_release(&sl->compiled);
                sl->has_object = 0;
                free(code);
                free(text);
                fm_response_release(r);
                fmsp_errf(err, errlen, "%s", why);
                return engine;
            }
        }
        free(code);
        fm_response_release(r);
        if (!fail_status) {
            free(text);
            char eerr[512] = "";
            int probe;
            FmspErr ee = embed_policy(s, sl->side, sl->source, sl->compiled.object_path,
                                      &sl->embedding, &probe, eerr, sizeof eerr);
            if (ee && probe) { /* the behaviour probe failed for engine reasons: stop */
                fmsp_errf(err, errlen, "%s", eerr);
                return ee;
            }
            if (ee) {
                slot_fail(sl, "embed_error", eerr);
                return FMSP_OK;
            }
            sl->status = "ok";
            sl->state = SLOT_READY;
            return FMSP_OK;
        }
        if (sl->attempt > s->cfg.max_repairs || sl->n_messages + 2 > MAX_MESSAGES) {
            free(text);
            slot_fail(sl, fail_status, why);
            return FMSP_OK;
        }
        /* Repair: the model sees its answer and what went wrong. */
        sl->messages[sl->n_messages++] = text[0] ? text : (free(text), xstrdup("(empty answer)"));
        const char *prefix = strcmp(fail_status, "edit_failed") == 0
                                 ? "Your edits could not be applied; send the whole file. "
                                 : "";
        char *reason = xasprintf("%s%s", prefix, why);
        sl->messages[sl->n_messages++] = prompt_repair(reason);
        free(reason);
        free(sl->reason);
        sl->reason = xstrdup(why);
        int have;
        FmspErr e = slot_submit(s, sl, r, &have, err, errlen);
        if (e || !have)
            return e;
        /* recorded repair answer: loop to process it */
    }
}

/* ------------------------------------------------------------- deciding */

/* Asks the model whether the candidate is novel (1 yes, 0 no, -1 unclear). */
static int judge_novel(Search *s, Slot *sl, char *err, size_t errlen, FmspErr *e)
{
    const Archive *a = &s->arch[sidx(sl->side)];
    int nn[4];
    int m = archive_knn(a, sl->embedding, s->dim, 3, -1, nn);
    const char *others[4];
    for (int i = 0; i < m; i++)
        others[i] = a->entries[nn[i]].source;
    int key = call_key(sl->iteration, JUDGE_ATTEMPT);
    char *text = NULL, *cerr = NULL;
    long pt, ct;
    FmResponse r = {0};
    if (store_call_get(s->db, key, &text, &cerr, &pt, &ct) == FMSP_OK) {
        int v = cerr ? -1 : prompt_judge_parse(text);
        free(text);
        free(cerr);
        return v;
    }
    char *q = prompt_judge(s->dom, sl->side, sl->source, others, m);
    FmMessage msg = {"user", q};
    const char *cand[4] = {sl->source, others[0], others[1], others[2]};
    FmHint hint = {FM_TASK_JUDGE, sl->side, cand, m + 1, mix(sl->seed, JUDGE_ATTEMPT, 0x4A),
                   s->dom->name};
    FmRequest req = {NULL, &msg, 1, &hint, (uint64_t)key, key, NULL};
    *e = fm_complete(s->fm, &req, &r);
    int v = -1;
    if (*e == FMSP_OK) {
        Slot tmp = {0};
        tmp.iteration = sl->iteration;
        tmp.side = sl->side;
        tmp.messages[0] = q;
        tmp.n_messages = 1;
        *e = record_call(s, &tmp, &r, "judge", err, errlen);
        v = r.err ? -1 : prompt_judge_parse(r.text);
    } else {
        fmsp_errf(err, errlen, "judge request failed: %s", fmsp_strerror(*e));
    }
    fm_response_release(&r);
    free(q);
    return v;
}

/* The iteration's row: which side moved, how, and a snapshot of both
 * archives after it ("members": per side [id, quality, 95% half-width]),
 * from which quality and QD-score curves are drawn without replaying. */
static char *iteration_summary(const Search *s, int side, const char *status)
{
    json_t *root = json_object();
    json_object_set_new(root, "side", json_integer(side));
    json_object_set_new(root, "status", json_string(status));
    json_t *sizes = json_array(), *members = json_array();
    for (int k = 0; k < 2; k++) {
        const Archive *a = &s->arch[k];
        json_array_append_new(sizes, json_integer(a->n));
        json_t *list = json_array();
        for (int i = 0; i < a->n; i++) {
            const ArchiveEntry *en = &a->entries[i];
            json_t *m = json_array();
            json_array_append_new(m, json_integer(en->id));
            json_array_append_new(m, isnan(en->quality) ? json_null() : json_real(en->quality));
            json_array_append_new(m, isnan(en->quality_ci) ? json_null()
                                                            : json_real(en->quality_ci));
            json_array_append_new(list, m);
        }
        json_array_append_new(members, list);
    }
    json_object_set_new(root, "archive", sizes);
    json_object_set_new(root, "members", members);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(root);
    return text ? text : xstrdup("{}");
}

static ArchiveEntry slot_to_entry(const Search *s, Slot *sl, int dim, int64_t id, double quality)
{
    ArchiveEntry en = {0};
    en.id = id;
    en.name = xasprintf("%s_it%d", s->dom->side_name[sl->side], sl->iteration);
    en.source = xstrdup(sl->source);
    en.object_path = xstrdup(sl->compiled.object_path);
    en.embedding = xmalloc(sizeof(float) * (size_t)dim);
    memcpy(en.embedding, sl->embedding, sizeof(float) * (size_t)dim);
    en.dim = dim;
    en.quality = quality;
    return en;
}

/*
 * Decides the READY slot of iteration next_final and commits it with every
 * write it causes. The algorithms differ only here.
 */
static FmspErr slot_finalize(Search *s, Slot *sl, char *err, size_t errlen)
{
    if (store_begin(s->db))
        return db_fail(s, FMSP_ERR_DB, err, errlen, "starting an iteration");
    FmspErr e = FMSP_OK;
    Archive *a = &s->arch[sidx(sl->side)];
    char parents[256];
    size_t off = (size_t)snprintf(parents, sizeof parents, "[");
    for (int i = 0; i < sl->n_parents && off < sizeof parents - 24; i++)
        off += (size_t)snprintf(parents + off, sizeof parents - off, "%s%lld", i ? "," : "",
                                (long long)sl->parents[i]);
    snprintf(parents + off, sizeof parents - off, "]");
    char name[64];
    snprintf(name, sizeof name, "%s_it%d", s->dom->side_name[sl->side],
             sl->iteration);
    StorePolicy p = {0};
    p.side = sl->side;
    p.iteration = sl->iteration;
    p.origin = s->cfg.fm.backend == FM_BUILTIN ? "builtin" : "model";
    p.name = name;
    p.source = sl->source;
    p.parents = parents;
    p.quality = NAN;
    p.novelty = NAN;
    char hash[65];
    if (sl->source) {
        util_sha256_hex(sl->source, strlen(sl->source), hash);
        p.hash = hash;
    }
    char reason[1024] = "";
    if (strcmp(sl->status, "ok") != 0) {
        p.status = sl->status;
        p.reason = sl->reason;
        s->failures++;
        if (store_policy_add(s->db, &p))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing a failed candidate");
    } else {
        double dist;
        int nb = archive_nearest(a, sl->embedding, s->dim, &dist);
        p.novelty = nb >= 0 ? dist : NAN;
        p.embedding = sl->embedding;
        p.embedding_dim = s->dim;
        p.status = "ok";
        int novel = nb < 0 || dist > s->cfg.novelty;
        if (novel && s->cfg.judge && (s->cfg.algo == ALGO_NSSP || s->cfg.algo == ALGO_QDSP)) {
            int v = judge_novel(s, sl, err, errlen, &e);
            if (v == 0)
                novel = 0;
        }
        /* NSSP rejects a non-novel candidate before any evaluation. */
        int evaluate_it = !e && !(s->cfg.algo == ALGO_NSSP && !novel);
        /* The row goes in first: evaluations refer to its id. */
        p.reason = "pending";
        if (!e && store_policy_add(s->db, &p))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing a candidate");
        Quality qq = {NAN, NAN, 0};
        char *detail = NULL;
        if (!e && evaluate_it)
            e = evaluate(s, sl->side, p.id, sl->compiled.object_path, sl->iteration, &qq, NULL,
                         NULL, &detail, err, errlen);
        double q = qq.mean;
        if (!e && !isnan(q) && store_policy_set_quality(s->db, p.id, q, qq.ci, qq.opponents))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing quality");
        int insert = 0, replace = -1;
        const char *verdict = "rejected";
        if (!e) {
            switch (s->cfg.algo) {
            case ALGO_OPENLOOP:
                insert = 1;
                snprintf(reason, sizeof reason, "kept (open-loop keeps every valid policy)");
                break;
            case ALGO_VFMSP: {
                int inc = archive_best(a);
                /* the incumbent is re-scored against the same opponents first */
                Quality iqq = {NAN, NAN, 0};
                if (inc >= 0)
                    e = evaluate(s, sl->side, a->entries[inc].id, a->entries[inc].object_path,
                                 sl->iteration, &iqq, NULL, NULL, NULL, err, errlen);
                double iq = iqq.mean;
                if (!e && inc >= 0) {
                    a->entries[inc].quality = iq;
                    a->entries[inc].quality_ci = iqq.ci;
                }
                if (!e && (inc < 0 || q > iq)) {
                    replace = inc;
                    insert = inc < 0;
                    snprintf(reason, sizeof reason, "new incumbent: %.3f > %.3f", q, iq);
                } else if (!e) {
                    snprintf(reason, sizeof reason, "not better than the incumbent: %.3f <= %.3f",
                             q, iq);
                }
                break;
            }
            case ALGO_NSSP:
                insert = novel;
                snprintf(reason, sizeof reason, "%s: distance %.3f to nearest %s threshold %.3f",
                         novel ? "novel" : "not novel", dist, novel ? ">" : "<=", s->cfg.novelty);
                break;
            case ALGO_QDSP: {
                int nbi;
                double d2;
                /* novelty was decided above (distance, and the judge if asked);
                 * the threshold below only routes to the right branch */
                QdVerdict v = archive_qd_decide(a, sl->embedding, s->dim, q,
                                                novel ? -1.0 : 2.0, &nbi, &d2);
                if (v == QD_INSERT) {
                    insert = 1;
                    snprintf(reason, sizeof reason, "novel: distance %.3f > %.3f", dist,
                             s->cfg.novelty);
                } else if (v == QD_REPLACE) {
                    replace = nbi;
                    snprintf(reason, sizeof reason,
                             "replaces its nearest neighbour %s: quality %.3f > %.3f",
                             a->entries[nbi].name, q, a->entries[nbi].quality);
                } else {
                    snprintf(reason, sizeof reason,
                             "not novel (distance %.3f) and not better than %s (%.3f <= %.3f)",
                             dist, nb >= 0 ? a->entries[nb].name : "?", q,
                             nb >= 0 ? a->entries[nb].quality : NAN);
                }
                break;
            }
            }
        }
        if (!e && (insert || replace >= 0)) {
            verdict = replace >= 0 ? "replaced" : "inserted";
            if (replace >= 0) {
                if (store_policy_set_archive(s->db, a->entries[replace].id, 0))
                    e = db_fail(s, FMSP_ERR_DB, err, errlen, "updating the archive");
                ArchiveEntry en = slot_to_entry(s, sl, s->dim, p.id, q);
                en.quality_ci = qq.ci;
                archive_replace(a, replace, &en);
            } else {
                ArchiveEntry en = slot_to_entry(s, sl, s->dim, p.id, q);
                en.quality_ci = qq.ci;
                archive_add(a, &en);
            }
            if (!e && store_policy_set_archive(s->db, p.id, 1))
                e = db_fail(s, FMSP_ERR_DB, err, errlen, "updating the archive");
            s->accepted++;
        }
        if (!e) {
            char *full = xasprintf("%s%s%s", reason, detail ? "; " : "", detail ? detail : "");
            if (store_policy_set_status(s->db, p.id, strcmp(verdict, "rejected") ? "ok" : "rejected",
                                        full))
                e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing the verdict");
            free(full);
        }
        free(detail);
        if (!e) {
            char *ev = xasprintf("%s %s (%s)", name, verdict, reason);
            store_event(s->db, sl->iteration, verdict, ev);
            free(ev);
        }
    }
    int due = s->cfg.algo == ALGO_VFMSP ||
              (uses_quality(s) && s->cfg.rescore_every > 0 &&
               (sl->iteration + 1) % s->cfg.rescore_every == 0);
    if (!e && due)
        e = rescore(s, sl->iteration, err, errlen);
    if (!e) {
        char *summary = iteration_summary(s, sl->side, sl->status);
        if (save_archive_order(s) || store_iteration_done(s->db, sl->iteration, summary) ||
            store_commit(s->db))
            e = db_fail(s, FMSP_ERR_DB, err, errlen, "committing an iteration");
        free(summary);
    }
    if (e) {
        store_rollback(s->db);
        return e;
    }
    s->last_done = sl->iteration;
    slot_clear(sl);
    return FMSP_OK;
}

/* ----------------------------------------------------------------- loop */

static void fill_progress(const Search *s, SearchProgress *p)
{
    memset(p, 0, sizeof *p);
    p->iteration = s->last_done;
    p->iterations = s->cfg.iterations;
    for (int k = 0; k < 2; k++) {
        const Archive *a = &s->arch[k];
        p->side[k].archive = a->n;
        p->side[k].best = NAN;
        double sum = 0;
        int m = 0;
        for (int i = 0; i < a->n; i++) {
            double q = a->entries[i].quality;
            if (isnan(q))
                continue;
            sum += q;
            m++;
            if (isnan(p->side[k].best) || q > p->side[k].best) {
                p->side[k].best = q;
                p->side[k].best_ci = a->entries[i].quality_ci;
            }
        }
        p->side[k].mean = m ? sum / m : NAN;
    }
    p->calls = s->calls;
    p->failed_calls = s->failed_calls;
    p->tokens = s->tokens;
    p->cost = s->cost;
    p->failures = s->failures;
    p->accepted = s->accepted;
    p->seconds = util_now() - s->t0;
}

/* 1 while the budgets allow planning another iteration. */
static int budget_left(const Search *s, int next_plan)
{
    if (stop_requested || next_plan >= s->cfg.iterations)
        return 0;
    if (s->cfg.max_tokens > 0 && s->tokens >= s->cfg.max_tokens)
        return 0;
    if (s->cfg.max_cost > 0 && s->cost >= s->cfg.max_cost)
        return 0;
    if (s->cfg.max_seconds > 0 && util_now() - s->t0 >= s->cfg.max_seconds)
        return 0;
    return 1;
}

static FmspErr plan_and_submit(Search *s, int it, char *err, size_t errlen)
{
    Slot *sl = &s->slots[it % s->k];
    FmspErr e = slot_plan(s, sl, it, err, errlen);
    if (e)
        return e;
    FmResponse rec;
    int have;
    e = slot_submit(s, sl, &rec, &have, err, errlen);
    if (!e && have)
        e = slot_on_answer(s, sl, &rec, err, errlen);
    return e;
}

/* Stores iteration it's plan without asking the model (see search_run). */
static FmspErr plan_only(Search *s, int it, char *err, size_t errlen)
{
    Slot tmp;
    memset(&tmp, 0, sizeof tmp);
    FmspErr e = slot_plan(s, &tmp, it, err, errlen);
    slot_clear(&tmp);
    return e;
}

SearchStop search_stopped(const Search *s)
{
    return s->stopped;
}

FmspErr search_run(Search *s, SearchProgressFn progress, void *ctx, char *err, size_t errlen)
{
    int next_final = s->last_done + 1;
    int next_plan = next_final;
    int next_stored = next_final; /* iterations below have a stored plan (or are submitted) */
    FmspErr e = FMSP_OK;
    while (!e) {
        while (!e && next_plan < next_final + s->k && budget_left(s, next_plan))
            e = plan_and_submit(s, next_plan++, err, errlen);
        /* Iteration i is planned once iteration i-K is final, whatever the
         * budgets say: past a budget (or a stop) the plan is stored without
         * asking the model, so a resumed or extended run plans every
         * iteration against the archive an uninterrupted run would have. */
        if (next_stored < next_plan)
            next_stored = next_plan;
        while (!e && next_stored < next_final + s->k)
            e = plan_only(s, next_stored++, err, errlen);
        if (e || next_final >= next_plan)
            break; /* nothing planned and nothing in flight: done */
        Slot *sl = &s->slots[next_final % s->k];
        if (sl->state == SLOT_READY) {
            e = slot_finalize(s, sl, err, errlen);
            if (!e) {
                next_final++;
                if (progress) {
                    SearchProgress p;
                    fill_progress(s, &p);
                    progress(ctx, &p);
                }
            }
            continue;
        }
        if (stop_requested && s->cfg.fm.backend != FM_BUILTIN) {
            /* Interrupted while a remote model is still answering: leave
             * the in-flight iterations to the resumed run. */
            break;
        }
        FmResponse r;
        FmspErr we = fm_wait(s->fm, 0.25, &r);
        if (we == FMSP_ERR_LIMIT)
            continue; /* time to look at the stop flag again */
        if (we) {
            fmsp_errf(err, errlen, "model client: %s", fmsp_strerror(we));
            e = we;
            break;
        }
        int it = (int)(r.tag / CALL_KEYS_PER_ITERATION);
        Slot *target = &s->slots[it % s->k];
        if (target->iteration != it || target->state != SLOT_WAITING) {
            fm_response_release(&r);
            continue; /* cannot happen: every request belongs to a waiting slot */
        }
        /* A call the network failed (refused connection, bad key, unknown
         * model, 5xx after the client's retries) is not the iteration's
         * answer: it is logged and asked again, and an endpoint that keeps
         * failing stops the run with its cause, the iteration still waiting
         * for its answer (a resume asks again: an outage loses nothing). */
        if (r.err == FMSP_ERR_NET) {
            s->net_fail_streak++;
            s->calls++;
            s->failed_calls++;
            char detail[700];
            snprintf(detail, sizeof detail, "iteration %d, attempt %d: %s", target->iteration,
                     target->attempt, r.error);
            if (store_event(s->db, target->iteration, "model_call_failed", detail))
                e = db_fail(s, FMSP_ERR_DB, err, errlen, "logging a failed model call");
            if (!e && s->net_fail_streak >= SEARCH_MAX_NET_FAILURES) {
                fmsp_errf(err, errlen, "the model endpoint failed %d times in a row, last: %s",
                          s->net_fail_streak, r.error);
                e = FMSP_ERR_NET;
            }
            fm_response_release(&r);
            if (!e) {
                FmResponse rec;
                int have = 0;
                e = slot_submit(s, target, &rec, &have, err, errlen);
                if (!e && have)
                    e = slot_on_answer(s, target, &rec, err, errlen);
            }
            continue;
        }
        s->net_fail_streak = 0;
        e = record_call(s, target, &r, target->attempt ? "repair" : "generate", err, errlen);
        if (!e)
            e = slot_on_answer(s, target, &r, err, errlen);
        else
            fm_response_release(&r);
    }
    /* Stop what is still in flight (a stalled endpoint must not hold the
     * stop), keeping every answer that did arrive: it was paid for, and a
     * resumed run uses it instead of asking again. */
    if (fm_in_flight(s->fm) > 0)
        fm_cancel(s->fm);
    while (fm_in_flight(s->fm) > 0) {
        FmResponse r;
        if (fm_wait(s->fm, -1, &r))
            break;
        int it = (int)(r.tag / CALL_KEYS_PER_ITERATION);
        Slot *target = &s->slots[it % s->k];
        char rerr[256];
        if (r.err == FMSP_OK && target->iteration == it && target->state == SLOT_WAITING)
            record_call(s, target, &r, target->attempt ? "repair" : "generate", rerr, sizeof rerr);
        fm_response_release(&r);
    }
    if (e == FMSP_ERR_INTERRUPTED) {
        e = FMSP_OK; /* the abandoned iteration was rolled back; resume redoes it */
        err[0] = 0;
    }
    if (!e) {
        s->stopped = s->last_done + 1 >= s->cfg.iterations ? SEARCH_FINISHED
                     : stop_requested                      ? SEARCH_INTERRUPTED
                                                           : SEARCH_BUDGET;
        store_meta_set(s->db, "status", s->stopped == SEARCH_FINISHED ? "finished" : "interrupted");
    }
    return e;
}

FmspErr search_dry_run(Search *s, char **pursuer_prompt, char **evader_prompt, char *err,
                       size_t errlen)
{
    *pursuer_prompt = *evader_prompt = NULL;
    for (int k = 0; k < 2; k++) {
        /* the next iteration of each side */
        int it = s->last_done + 1;
        while (side_of_iteration(s, it) != (k == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2) &&
               it < s->last_done + 1 + s->cfg.iterations)
            it++;
        Slot sl = {0};
        /* Plan without storing: build from the archive as slot_plan would. */
        FmspErr e = slot_plan(s, &sl, it, err, errlen);
        if (e) {
            slot_clear(&sl);
            return e;
        }
        char *text = slot_prompt_text(&sl);
        if (sl.side == DOMAIN_SIDE_1)
            *pursuer_prompt = text;
        else
            *evader_prompt = text;
        slot_clear(&sl);
    }
    return FMSP_OK;
}

const SearchConfig *search_config(const Search *s)
{
    return &s->cfg;
}

Store *search_store(Search *s)
{
    return s->db;
}

/* Mean own-side score of a policy against every baseline of the other side. */
static FmspErr vs_baselines(Search *s, int side, int64_t id, const char *object, Quality *out,
                            double *per, char *err, size_t errlen)
{
    int64_t saved_n = s->n_sample[sidx(side)];
    s->n_sample[sidx(side)] = 0; /* opponents = baselines only */
    s->reporting = 1;
    FmspErr e = evaluate(s, side, id, object, s->last_done, out, per, NULL, NULL, err, errlen);
    s->reporting = 0;
    s->n_sample[sidx(side)] = (int)saved_n;
    return e;
}

/* The verdict as stored in meta "verdict" (docs/report-format.md). */
static json_t *verdict_json(const Search *s, int side, const SearchVerdict *v)
{
    json_t *o = json_object();
    char pool[160];
    snprintf(pool, sizeof pool, "the %d baseline %ss (the search's fixed opponents too)",
             v->opponents, s->dom->side_name[other(side)]);
    json_object_set_new(o, "side", json_integer(side));
    json_object_set_new(o, "pool", json_string(pool));
    json_object_set_new(o, "opponents", json_integer(v->opponents));
    json_object_set_new(o, "episodes", json_integer(v->episodes));
    if (v->found_id) {
        json_t *f = json_object();
        json_object_set_new(f, "id", json_integer(v->found_id));
        json_object_set_new(f, "name", json_string(v->found));
        json_object_set_new(f, "mean", json_real(v->found_mean));
        json_object_set_new(f, "ci", json_real(v->found_ci));
        json_object_set_new(o, "best_found", f);
    } else {
        json_object_set_new(o, "best_found", json_null());
    }
    json_t *bl = json_object();
    json_object_set_new(bl, "name", json_string(v->baseline));
    json_object_set_new(bl, "mean", isnan(v->base_mean) ? json_null() : json_real(v->base_mean));
    json_object_set_new(bl, "ci", isnan(v->base_ci) ? json_null() : json_real(v->base_ci));
    json_object_set_new(o, "best_baseline", bl);
    json_object_set_new(o, "margin", isnan(v->margin) ? json_null() : json_real(v->margin));
    json_object_set_new(o, "margin_ci", isnan(v->margin_ci) ? json_null()
                                                            : json_real(v->margin_ci));
    json_object_set_new(o, "result", v->result ? json_string(v->result) : json_null());
    json_object_set_new(o, "test", json_string("paired Student t over the pool's opponents, "
                                               "common seeds; beat/lose when the 95% interval "
                                               "excludes 0"));
    return o;
}

FmspErr search_report(Search *s, SearchReport *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    FmspErr e = FMSP_OK;
    json_t *all = json_array();
    for (int k = 0; k < 2 && !e; k++) {
        int side = k == 0 ? DOMAIN_SIDE_1 : DOMAIN_SIDE_2;
        SearchVerdict *v = &rep->verdict[k];
        rep->archive[k] = s->arch[k].n;
        v->opponents = s->base[1 - k].n < 256 ? s->base[1 - k].n : 256;
        v->episodes = s->cfg.eval.episodes;
        v->found_mean = v->found_ci = v->base_mean = v->base_ci = NAN;
        v->margin = v->margin_ci = NAN;
        double found[256], base[256], per[256];
        for (int i = 0; i < s->arch[k].n && !e; i++) {
            ArchiveEntry *en = &s->arch[k].entries[i];
            if (en->origin_baseline)
                continue;
            Quality q;
            e = vs_baselines(s, side, en->id, en->object_path, &q, per, err, errlen);
            if (!e && (isnan(v->found_mean) || q.mean > v->found_mean)) {
                v->found_mean = q.mean;
                v->found_ci = q.ci;
                v->found_id = en->id;
                snprintf(v->found, sizeof v->found, "%s", en->name);
                memcpy(found, per, sizeof found);
            }
        }
        for (int i = 0; i < s->base[k].n && !e; i++) {
            ArchiveEntry *en = &s->base[k].entries[i];
            Quality q;
            e = vs_baselines(s, side, en->id, en->object_path, &q, per, err, errlen);
            if (!e && (isnan(v->base_mean) || q.mean > v->base_mean)) {
                v->base_mean = q.mean;
                v->base_ci = q.ci;
                snprintf(v->baseline, sizeof v->baseline, "%s", en->name);
                memcpy(base, per, sizeof base);
            }
        }
        if (!e && v->found_id && !isnan(v->base_mean)) {
            double d[256];
            for (int j = 0; j < v->opponents; j++)
                d[j] = found[j] - base[j];
            stats_mean_ci(d, v->opponents, &v->margin, &v->margin_ci);
            v->result = v->opponents < 2                 ? "undecided"
                        : v->margin - v->margin_ci > 0 ? "beat"
                        : v->margin + v->margin_ci < 0 ? "lose"
                                                       : "tie";
            if (v->opponents < 2)
                v->margin_ci = NAN;
        }
        if (!e)
            json_array_append_new(all, verdict_json(s, side, v));
        /* distinct strategies: greedy clustering of every valid candidate */
        StorePolicyRow *rows;
        int n;
        if (!e && store_policy_list(s->db, side, 0, &rows, &n) == FMSP_OK) {
            float **reps = xcalloc((size_t)n + 1, sizeof *reps);
            int m = 0;
            for (int i = 0; i < n; i++) {
                StorePolicyRow *r = &rows[i];
                if (r->iteration < 0 || !r->embedding || r->embedding_dim != s->dim)
                    continue;
                if (strcmp(r->status, "ok") != 0 && strcmp(r->status, "rejected") != 0)
                    continue;
                int novel = 1;
                for (int j = 0; j < m && novel; j++)
                    novel = archive_distance(r->embedding, reps[j], s->dim) > s->cfg.novelty;
                if (novel)
                    reps[m++] = r->embedding;
            }
            rep->distinct[k] = m;
            free(reps);
            store_policy_rows_free(rows, n);
        }
    }
    char *text = e ? NULL : json_dumps(all, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(all);
    if (text && store_meta_set(s->db, "verdict", text))
        e = db_fail(s, FMSP_ERR_DB, err, errlen, "storing the verdict");
    free(text);
    return e;
}

void search_free(Search *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->k; i++)
        slot_clear(&s->slots[i]);
    free(s->slots);
    fm_client_free(s->fm);
    embed_remote_free(s->remote);
    free(s->probe_obj[0]);
    free(s->probe_obj[1]);
    for (int k = 0; k < 2; k++) {
        archive_release(&s->arch[k]);
        archive_release(&s->base[k]);
        free(s->sample[k]);
    }
    pair_release(&s->pairs);
    store_close(s->db);
    free(s);
}
