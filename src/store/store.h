/*
 * store.h - the run database: one SQLite file per FMSP run.
 *
 * Everything a run computes lives here, committed transactionally, so a run
 * can always be resumed (even after kill -9) and inspected (`fmsp show`).
 * Tables (see store.c for the exact schema):
 *   meta         key/value: schema version, the run config (JSON), status
 *   policies     every candidate ever produced, good or failed: side, source,
 *                hash, origin (baseline|seed|builtin|model), iteration,
 *                parents (JSON array of ids), status (ok|refused|compile_error|
 *                fault|rejected|edit_failed|no_code), reason, embedding (BLOB
 *                of floats), quality, novelty, in_archive
 *   evaluations  policy vs opponent results: means, episodes, faults, iteration
 *   model_calls  every request/response: iteration, side, purpose, prompt,
 *                response, tokens, latency, cost, error, http status
 *   requests     the planned request of an iteration (side, parents, seed,
 *                task): written when planned, so a resumed run re-issues the
 *                same request instead of planning anew
 *   iterations   one row per completed iteration: the commit point
 *   events       free-form log: iteration, kind, detail
 *   transcripts  samples of Gandalf matches: policy, opponent, iteration, text
 * The API key is never stored: callers pass prompts and responses only.
 *
 * Concurrency: one Store per process, used from one thread. WAL mode,
 * synchronous=NORMAL (a kill -9 loses at most the uncommitted iteration).
 */
#ifndef FMSP_STORE_H
#define FMSP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

typedef struct Store Store;

/* Opens (creating when create != 0) the run database at path. Refuses to
 * create over an existing file and to open a file that is not an fmsp run
 * database (FMSP_ERR_DB with a message naming the file). */
FmspErr store_open(const char *path, int create, Store **out, char *err, size_t errlen);

/* Deletes a run database and its WAL, shared-memory and journal files. */
void store_remove_files(const char *path);

/* Claims the database for this process as its one writer (a run), until
 * store_close; readers (show, export) never claim. FMSP_ERR_DB at once,
 * with a message, when another process holds it. */
FmspErr store_claim_writer(Store *s, char *err, size_t errlen);
void store_close(Store *s);

/* Caps the database at `pages` pages (of 4 KiB); past it writes fail as on a
 * full disk. For quotas, and for tests of the full-disk path. */
FmspErr store_limit_pages(Store *s, long pages);

/* Hard caps: one text or blob value (a source, a prompt, a response) is at
 * most STORE_MAX_VALUE bytes (longer: FMSP_ERR_TOOBIG, nothing written; a
 * longer value in a damaged file is refused on reading); an embedding has
 * at most STORE_MAX_EMBED_DIM floats. */
#define STORE_MAX_VALUE (64 * 1024 * 1024)
#define STORE_MAX_EMBED_DIM 65536

/* PRAGMA quick_check: FMSP_OK, or FMSP_ERR_DB with what is damaged. */
FmspErr store_check(Store *s);

/* Last error message of the store (static storage inside the Store). */
const char *store_errmsg(const Store *s);

/* Transactions: everything between begin and commit lands together. */
FmspErr store_begin(Store *s);
FmspErr store_commit(Store *s);
FmspErr store_rollback(Store *s);

/* meta key/value (value is text; heap copy returned, NULL if absent). */
FmspErr store_meta_set(Store *s, const char *key, const char *value);
FmspErr store_meta_get(Store *s, const char *key, char **value);

typedef struct StorePolicy {
    int64_t id;            /* assigned by store_policy_add */
    int side;              /* FMSP_PURSUER / FMSP_EVADER */
    int iteration;         /* -1 for baselines and seeds */
    const char *origin;    /* "baseline" | "seed" | "builtin" | "model" */
    const char *name;      /* short display name, may be NULL */
    const char *source;    /* C source, may be NULL when there was no code */
    const char *hash;      /* SHA-256 of source (checked on every read), may be NULL */
    const char *parents;   /* JSON array of parent ids, e.g. "[3,7]" */
    const char *status;    /* ok | refused | compile_error | fault | rejected | edit_failed | no_code */
    const char *reason;    /* why (diagnostics, fault detail, novelty verdict) */
    const float *embedding;/* may be NULL */
    int embedding_dim;
    double quality;        /* NAN when not evaluated */
    double novelty;        /* distance to nearest archive neighbour, NAN if n/a */
    int in_archive;
} StorePolicy;

/* Inserts a policy; sets p->id. */
FmspErr store_policy_add(Store *s, StorePolicy *p);

/* Updates quality / in_archive / status+reason of an existing policy. */
/* quality: mean score against `opponents` opponents; ci95: the half-width of
 * its 95% interval (NAN when unknown) */
FmspErr store_policy_set_quality(Store *s, int64_t id, double quality, double ci95,
                                 int opponents);
FmspErr store_policy_set_archive(Store *s, int64_t id, int in_archive);
FmspErr store_policy_set_status(Store *s, int64_t id, const char *status, const char *reason);

/* A policy read back: every string and the embedding are heap copies owned
 * by the struct; free with store_policy_row_release. */
typedef struct StorePolicyRow {
    int64_t id;
    int side, iteration, in_archive;
    char *origin, *name, *source, *hash, *parents, *status, *reason;
    float *embedding;
    int embedding_dim;
    double quality, novelty;
    double quality_ci;     /* 95% half-width of quality, NAN when unknown (older runs) */
    int quality_opponents; /* opponents quality was measured against, 0 when unknown */
    int corrupt;           /* the source does not match its stored SHA-256: the database
                              was damaged or edited; do not use the source */
} StorePolicyRow;

void store_policy_row_release(StorePolicyRow *r);

/* Reads one policy by id (FMSP_ERR_NOTFOUND if absent). */
FmspErr store_policy_get(Store *s, int64_t id, StorePolicyRow *out);

/* Lists policies: side 0 = both; archive_only selects in_archive = 1;
 * ordered by id. *rows is a heap array of n rows; free each row and the array
 * with store_policy_rows_free. */
FmspErr store_policy_list(Store *s, int side, int archive_only, StorePolicyRow **rows, int *n);
void store_policy_rows_free(StorePolicyRow *rows, int n);

typedef struct StoreEval {
    int64_t policy_id, opponent_id;
    int iteration;
    double policy_score;   /* mean score of the policy (its own side's score) */
    double ci95;
    int episodes, policy_faults, opponent_faults;
    const char *fault_summary; /* may be NULL */
} StoreEval;
FmspErr store_eval_add(Store *s, const StoreEval *e);

/* Calls fn for every evaluation with a score, in the order they were stored. */
FmspErr store_eval_each(Store *s, void (*fn)(void *ctx, int64_t policy_id, int64_t opponent_id,
                                              double score, double ci95),
                        void *ctx);

typedef struct StoreCall {
    int64_t id;            /* assigned */
    int iteration;         /* iteration the call belongs to */
    int side;
    const char *purpose;   /* "generate" | "repair" | "judge" | "embed" */
    const char *backend;   /* "openai" | "anthropic" | "builtin" | "replay" */
    const char *model;
    const char *prompt;    /* full prompt text (system + messages), never the key */
    const char *response;  /* assistant text, may be NULL */
    long prompt_tokens, completion_tokens;
    double latency_s, cost_usd;
    int http_status, attempts;
    const char *error;     /* NULL when ok */
    int key;               /* position of the call in the run: replay answers
                              call number `key` with this response */
} StoreCall;
FmspErr store_call_add(Store *s, StoreCall *c);

/* The recorded response of call `key` (for replay and resume): heap text or
 * NULL with FMSP_ERR_NOTFOUND. error is set (heap) when the call failed. */
FmspErr store_call_get(Store *s, int key, char **response, char **error, long *prompt_tokens,
                       long *completion_tokens);

/* Sum of tokens and cost and the number of calls and failed calls. */
FmspErr store_call_totals(Store *s, long *calls, long *failed, long *tokens, double *cost);

/* Planned request of an iteration (JSON text chosen by the search). */
FmspErr store_request_put(Store *s, int iteration, const char *json);
FmspErr store_request_get(Store *s, int iteration, char **json); /* NOTFOUND if none */

/* Marks an iteration complete (call inside the iteration's transaction). */
FmspErr store_iteration_done(Store *s, int iteration, const char *summary_json);
/* Highest completed iteration, -1 if none. */
FmspErr store_last_iteration(Store *s, int *iteration);

FmspErr store_event(Store *s, int iteration, const char *kind, const char *detail);

/* Transcripts (Gandalf): a sample of what happened in a policy's match
 * against an opponent at an iteration, as text for prompts and people. The
 * table is made by store_claim_writer (databases from before lack it). */
FmspErr store_transcript_add(Store *s, int64_t policy_id, int64_t opponent_id, int iteration,
                             const char *text);

/* The transcripts of policy_id at iteration joined with newlines, at most
 * cap bytes of whole transcripts; *out NULL when there are none. */
FmspErr store_transcripts_get(Store *s, int64_t policy_id, int iteration, size_t cap, char **out);

/* ---- whole tables, for reports (store_list.c); free with free() or the
 * matching _free. An absent table (older databases) reads as empty. */

typedef struct StoreEvalRow {
    int64_t policy_id, opponent_id;
    int iteration;
    double score, ci95;        /* the policy's own mean score and its 95% half-width */
    int episodes, policy_faults, opponent_faults;
} StoreEvalRow;
FmspErr store_eval_list(Store *s, StoreEvalRow **rows, int *n);

typedef struct StoreCallRow {
    int64_t id;
    int key, iteration, side;
    char *purpose, *backend, *model, *prompt, *error;
    long prompt_tokens, completion_tokens;
    double cost_usd;           /* NAN when unknown */
} StoreCallRow;
FmspErr store_call_list(Store *s, StoreCallRow **rows, int *n);
void store_call_rows_free(StoreCallRow *rows, int n);

typedef struct StoreIterationRow {
    int iteration;
    char *summary;             /* JSON: side, status, archive sizes, members */
} StoreIterationRow;
FmspErr store_iteration_list(Store *s, StoreIterationRow **rows, int *n);
void store_iteration_rows_free(StoreIterationRow *rows, int n);

/* The latest transcript sample of policy against opponent (NULL if none). */
FmspErr store_transcript_pair(Store *s, int64_t policy_id, int64_t opponent_id, char **text);

#endif
