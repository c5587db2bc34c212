/*
 * fm.h - the foundation-model interface: send a chat request, get text and
 * token usage back, several requests in flight at once.
 *
 * Backends (FmBackend): OpenAI-compatible chat completions, Anthropic
 * Messages, `builtin` (an offline program-synthesis operator: NOT a model,
 * labelled everywhere as a non-FM baseline operator) and `replay` (answers
 * from a recorded run). The API key is read from the environment variable
 * named in FmConfig (never stored in FmConfig itself, never logged).
 *
 * Asynchronous use: fm_submit() queues a request and returns at once;
 * fm_wait() returns finished responses in completion order, so the search
 * can evaluate one candidate while others are still being generated.
 * fm_complete() is the blocking convenience for one request.
 *
 * Ownership: the client copies everything in a request at submit time; a
 * response's heap fields are owned by the response until fm_response_release.
 */
#ifndef FMSP_FM_H
#define FMSP_FM_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

typedef enum FmBackend {
    FM_OPENAI,    /* OpenAI-compatible /chat/completions */
    FM_ANTHROPIC, /* Anthropic /v1/messages */
    FM_BUILTIN,   /* offline program-synthesis operator (not a model) */
    FM_REPLAY     /* answers from a recorded run database */
} FmBackend;

typedef struct FmConfig {
    FmBackend backend;
    char base_url[512];    /* e.g. https://api.openai.com/v1 ; http://127.0.0.1:8080/v1 */
    char model[128];
    char api_key_env[64];  /* name of the env var holding the key, e.g. OPENAI_API_KEY */
    double temperature;    /* default 0.8 */
    int max_tokens;        /* default 4096 */
    double timeout_s;      /* whole-request timeout (default 120) */
    double connect_timeout_s; /* default 10 */
    int max_retries;       /* on 429 / 5xx / timeouts (default 4) */
    double backoff_base_s; /* first retry delay before jitter (default 1) */
    double backoff_max_s;  /* cap on one delay (default 60) */
    size_t max_response_bytes; /* hard cap on a response body (default 4 MiB) */
    int max_in_flight;     /* concurrent requests (default 4) */
    double price_in_per_mtok;  /* USD per million prompt tokens, for cost estimates */
    double price_out_per_mtok; /* USD per million completion tokens */
    uint64_t seed;         /* builtin operator's seed */
    char replay_db[1024];  /* replay: run database to answer from */
} FmConfig;

/* Defaults for a backend (base URL, key variable, model) and limits. */
void fm_config_default(FmConfig *cfg, FmBackend backend);

/* Parses "openai" | "anthropic" | "builtin" | "replay". */
FmspErr fm_backend_parse(const char *name, FmBackend *out);
const char *fm_backend_name(FmBackend backend);

typedef struct FmMessage {
    const char *role;    /* "user" or "assistant" */
    const char *content;
} FmMessage;

/*
 * Structured context that travels with a request. Network backends ignore it
 * (they read the prompt text); the builtin operator works from it, since it
 * does not read prose. parents are full policy sources.
 */
typedef enum FmTask { FM_TASK_NEW, FM_TASK_IMPROVE, FM_TASK_NOVEL, FM_TASK_REPAIR, FM_TASK_JUDGE } FmTask;
typedef struct FmHint {
    FmTask task;
    int side;                 /* 1 or 2: the domain's side */
    const char *const *parents;
    int n_parents;
    uint64_t seed;            /* per-request seed, for reproducibility */
    const char *domain;       /* "cartag" (NULL too) or "gandalf" */
} FmHint;

typedef struct FmRequest {
    const char *system;       /* may be NULL */
    const FmMessage *messages;
    int n_messages;
    const FmHint *hint;       /* may be NULL */
    uint64_t tag;             /* caller's id, returned with the response */
    int key;                  /* replay: index of the call in the recorded run */
    const volatile int *cancel; /* set by the client: backends stop when *cancel != 0 */
} FmRequest;

typedef struct FmResponse {
    uint64_t tag;
    FmspErr err;              /* FMSP_OK or why it failed after retries */
    char error[512];          /* cause, e.g. "HTTP 429 after 5 attempts" */
    char *text;               /* assistant text, heap; NULL on error */
    char *raw;                /* raw response body (capped), heap; may be NULL */
    long prompt_tokens;
    long completion_tokens;
    double latency_s;         /* wall time including retries */
    double cost_usd;          /* estimate from the configured prices */
    int http_status;          /* last HTTP status, 0 for offline backends */
    int attempts;
} FmResponse;

typedef struct FmClient FmClient;

/* Creates a client; FMSP_ERR_ARG (message in err) for a bad config, e.g. a
 * network backend whose key variable is unset. */
FmspErr fm_client_new(const FmConfig *cfg, FmClient **out, char *err, size_t errlen);
void fm_client_free(FmClient *c);

/* Queues a request (blocks only while max_in_flight are already queued). */
FmspErr fm_submit(FmClient *c, const FmRequest *req);

/* Waits up to timeout_s (<0: forever) for one finished response. Returns
 * FMSP_OK and fills *out, or FMSP_ERR_LIMIT on timeout, or FMSP_ERR_NOTFOUND
 * when nothing is in flight. */
FmspErr fm_wait(FmClient *c, double timeout_s, FmResponse *out);

/* Number of requests submitted and not yet returned by fm_wait. */
int fm_in_flight(const FmClient *c);

/* Cancels everything: requests in flight stop as soon as their transfer
 * notices (within ~0.1 s; no further retries) and queued ones never start;
 * each still comes back from fm_wait with err FMSP_ERR_INTERRUPTED. Final
 * for the client. Thread-safe. */
void fm_cancel(FmClient *c);

/* Blocking: submit and wait for this one request. */
FmspErr fm_complete(FmClient *c, const FmRequest *req, FmResponse *out);

void fm_response_release(FmResponse *r);

#endif
