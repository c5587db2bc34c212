/*
 * fm.c - the model client: configuration, a pool of worker threads running
 * a backend, and the submit / wait queue (fm.h).
 *
 * Jobs are deep copies of requests (callers' memory is not retained). The
 * pool has max_in_flight threads; each takes the oldest job, runs the
 * backend, and appends the response to the done list. fm_wait takes the
 * oldest finished response; fm_complete waits for its own tag only, so it
 * can be used while other requests are in flight.
 */
#include "fm.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/util.h"
#include "fm_backend.h"

typedef struct Job {
    FmRequest req;
    FmHint hint;
    FmMessage *messages;
    char **parents;
    struct Job *next;
} Job;

typedef struct Done {
    FmResponse resp;
    struct Done *next;
} Done;

struct FmClient {
    FmConfig cfg;
    void *state;
    const FmBackendOps *ops;
    pthread_mutex_t lock;
    pthread_cond_t work, finished;
    Job *queue, *queue_tail;
    Done *done, *done_tail;
    int in_flight; /* submitted and not yet returned */
    int stopping;
    volatile int cancel; /* fm_cancel: backends abort, queued jobs are not run */
    pthread_t *threads;
    int n_threads;
};

static const char *const backend_names[] = {"openai", "anthropic", "builtin", "replay"};

const char *fm_backend_name(FmBackend b)
{
    return (unsigned)b < 4 ? backend_names[b] : "?";
}

FmspErr fm_backend_parse(const char *name, FmBackend *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, backend_names[i]) == 0) {
            *out = (FmBackend)i;
            return FMSP_OK;
        }
    return FMSP_ERR_ARG;
}

void fm_config_default(FmConfig *c, FmBackend backend)
{
    memset(c, 0, sizeof *c);
    c->backend = backend;
    c->temperature = 0.8;
    c->max_tokens = 4096;
    c->timeout_s = 120;
    c->connect_timeout_s = 10;
    c->max_retries = 4;
    c->backoff_base_s = 1;
    c->backoff_max_s = 60;
    c->max_response_bytes = (size_t)4 << 20;
    c->max_in_flight = 4;
    if (backend == FM_OPENAI) {
        snprintf(c->base_url, sizeof c->base_url, "https://api.openai.com/v1");
        snprintf(c->model, sizeof c->model, "gpt-4o-mini");
        snprintf(c->api_key_env, sizeof c->api_key_env, "OPENAI_API_KEY");
    } else if (backend == FM_ANTHROPIC) {
        snprintf(c->base_url, sizeof c->base_url, "https://api.anthropic.com/v1");
        snprintf(c->model, sizeof c->model, "claude-3-5-haiku-latest");
        snprintf(c->api_key_env, sizeof c->api_key_env, "ANTHROPIC_API_KEY");
    } else if (backend == FM_BUILTIN) {
        snprintf(c->model, sizeof c->model, "builtin-synthesis-v1");
    } else {
        snprintf(c->model, sizeof c->model, "replay");
    }
}

long fm_count_words(const char *s)
{
    long n = 0;
    int in = 0;
    for (; s && *s; s++) {
        if (isspace((unsigned char)*s))
            in = 0;
        else if (!in) {
            in = 1;
            n++;
        }
    }
    return n;
}

static void job_free(Job *j)
{
    free((char *)j->req.system);
    for (int i = 0; i < j->req.n_messages; i++) {
        free((char *)j->messages[i].role);
        free((char *)j->messages[i].content);
    }
    free(j->messages);
    for (int i = 0; i < j->hint.n_parents; i++)
        free(j->parents[i]);
    free(j->parents);
    free(j);
}

static Job *job_copy(const FmRequest *r)
{
    Job *j = xcalloc(1, sizeof *j);
    j->req = *r;
    j->req.system = r->system ? xstrdup(r->system) : NULL;
    j->messages = xcalloc((size_t)r->n_messages + 1, sizeof *j->messages);
    for (int i = 0; i < r->n_messages; i++) {
        j->messages[i].role = xstrdup(r->messages[i].role ? r->messages[i].role : "user");
        j->messages[i].content = xstrdup(r->messages[i].content ? r->messages[i].content : "");
    }
    j->req.messages = j->messages;
    if (r->hint) {
        j->hint = *r->hint;
        j->parents = xcalloc((size_t)r->hint->n_parents + 1, sizeof *j->parents);
        for (int i = 0; i < r->hint->n_parents; i++)
            j->parents[i] = xstrdup(r->hint->parents[i] ? r->hint->parents[i] : "");
        j->hint.parents = (const char *const *)j->parents;
        j->req.hint = &j->hint;
    }
    return j;
}

static void *worker(void *arg)
{
    FmClient *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->queue && !c->stopping)
            pthread_cond_wait(&c->work, &c->lock);
        if (!c->queue) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        Job *j = c->queue;
        c->queue = j->next;
        if (!c->queue)
            c->queue_tail = NULL;
        pthread_mutex_unlock(&c->lock);

        Done *d = xcalloc(1, sizeof *d);
        double t0 = util_now();
        j->req.cancel = &c->cancel;
        if (c->cancel) {
            d->resp.err = FMSP_ERR_INTERRUPTED;
            snprintf(d->resp.error, sizeof d->resp.error, "cancelled before it was sent");
        } else {
            c->ops->complete(c->state, &c->cfg, &j->req, &d->resp);
        }
        d->resp.tag = j->req.tag;
        d->resp.latency_s = util_now() - t0;
        d->resp.cost_usd = (d->resp.prompt_tokens * c->cfg.price_in_per_mtok +
                            d->resp.completion_tokens * c->cfg.price_out_per_mtok) / 1e6;
        if (d->resp.attempts == 0)
            d->resp.attempts = 1;
        job_free(j);

        pthread_mutex_lock(&c->lock);
        if (c->done_tail)
            c->done_tail->next = d;
        else
            c->done = d;
        c->done_tail = d;
        pthread_cond_broadcast(&c->finished);
        pthread_mutex_unlock(&c->lock);
    }
}

FmspErr fm_client_new(const FmConfig *cfg, FmClient **out, char *err, size_t errlen)
{
    *out = NULL;
    FmBackendOpen open = NULL;
    switch (cfg->backend) {
    case FM_BUILTIN:
        open = fm_builtin_open;
        break;
    case FM_REPLAY:
        open = fm_replay_open;
        break;
    case FM_OPENAI:
    case FM_ANTHROPIC:
        open = fm_http_open;
        break;
    default:
        fmsp_errf(err, errlen, "unknown model backend");
        return FMSP_ERR_ARG;
    }
    FmClient *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    if (c->cfg.max_in_flight < 1)
        c->cfg.max_in_flight = 1;
    if (c->cfg.max_in_flight > 64)
        c->cfg.max_in_flight = 64;
    FmspErr e = open(&c->cfg, &c->state, &c->ops, err, errlen);
    if (e) {
        free(c);
        return e;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->work, NULL);
    pthread_cond_init(&c->finished, NULL);
    c->threads = xcalloc((size_t)c->cfg.max_in_flight, sizeof *c->threads);
    for (int i = 0; i < c->cfg.max_in_flight; i++)
        if (pthread_create(&c->threads[c->n_threads], NULL, worker, c) == 0)
            c->n_threads++;
    if (c->n_threads == 0) {
        fmsp_errf(err, errlen, "cannot start model client threads");
        fm_client_free(c);
        return FMSP_ERR_INTERNAL;
    }
    *out = c;
    return FMSP_OK;
}

void fm_cancel(FmClient *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->cancel = 1;
    pthread_mutex_unlock(&c->lock);
}

void fm_client_free(FmClient *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    /* queued jobs that never started are dropped */
    while (c->queue) {
        Job *j = c->queue;
        c->queue = j->next;
        job_free(j);
    }
    pthread_cond_broadcast(&c->work);
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < c->n_threads; i++)
        pthread_join(c->threads[i], NULL);
    while (c->done) {
        Done *d = c->done;
        c->done = d->next;
        fm_response_release(&d->resp);
        free(d);
    }
    if (c->ops && c->ops->destroy)
        c->ops->destroy(c->state);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->work);
    pthread_cond_destroy(&c->finished);
    free(c->threads);
    free(c);
}

FmspErr fm_submit(FmClient *c, const FmRequest *req)
{
    Job *j = job_copy(req);
    pthread_mutex_lock(&c->lock);
    if (c->queue_tail)
        c->queue_tail->next = j;
    else
        c->queue = j;
    c->queue_tail = j;
    c->in_flight++;
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->lock);
    return FMSP_OK;
}

static void deadline_in(struct timespec *ts, double seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    double ns = ts->tv_nsec + seconds * 1e9;
    ts->tv_sec += (time_t)(ns / 1e9);
    ts->tv_nsec = (long)(ns - (double)(time_t)(ns / 1e9) * 1e9);
}

/* Removes and returns the first done response with tag (any tag if !only). */
static Done *take(FmClient *c, int only, uint64_t tag)
{
    Done *prev = NULL;
    for (Done *d = c->done; d; prev = d, d = d->next) {
        if (only && d->resp.tag != tag)
            continue;
        if (prev)
            prev->next = d->next;
        else
            c->done = d->next;
        if (c->done_tail == d)
            c->done_tail = prev;
        c->in_flight--;
        return d;
    }
    return NULL;
}

static FmspErr wait_for(FmClient *c, double timeout_s, int only, uint64_t tag, FmResponse *out)
{
    struct timespec ts;
    if (timeout_s >= 0)
        deadline_in(&ts, timeout_s);
    pthread_mutex_lock(&c->lock);
    Done *d;
    while (!(d = take(c, only, tag))) {
        if (c->in_flight == 0) {
            pthread_mutex_unlock(&c->lock);
            return FMSP_ERR_NOTFOUND;
        }
        if (timeout_s < 0) {
            pthread_cond_wait(&c->finished, &c->lock);
        } else if (pthread_cond_timedwait(&c->finished, &c->lock, &ts) == ETIMEDOUT) {
            d = take(c, only, tag);
            if (d)
                break;
            pthread_mutex_unlock(&c->lock);
            return FMSP_ERR_LIMIT;
        }
    }
    pthread_mutex_unlock(&c->lock);
    *out = d->resp;
    free(d);
    return FMSP_OK;
}

FmspErr fm_wait(FmClient *c, double timeout_s, FmResponse *out)
{
    memset(out, 0, sizeof *out);
    return wait_for(c, timeout_s, 0, 0, out);
}

int fm_in_flight(const FmClient *c)
{
    pthread_mutex_lock((pthread_mutex_t *)&c->lock);
    int n = c->in_flight;
    pthread_mutex_unlock((pthread_mutex_t *)&c->lock);
    return n;
}

FmspErr fm_complete(FmClient *c, const FmRequest *req, FmResponse *out)
{
    memset(out, 0, sizeof *out);
    FmspErr e = fm_submit(c, req);
    if (e)
        return e;
    return wait_for(c, -1, 1, req->tag, out);
}

void fm_response_release(FmResponse *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->raw);
    r->text = NULL;
    r->raw = NULL;
}
