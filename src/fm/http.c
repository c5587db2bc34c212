/*
 * http.c - the network backends: OpenAI-compatible chat completions and the
 * Anthropic Messages API, over libcurl.
 *
 * One request = one POST, retried on 429, 5xx, timeouts and connection
 * failures with exponential backoff and full jitter (Retry-After honoured,
 * in seconds or as an HTTP date, capped by backoff_max_s), never on other
 * 4xx. Every transfer has a connect timeout, a total timeout and a stall
 * detector, and a hard cap on the response body (the write callback aborts
 * past max_response_bytes). The API key is read once at open from the
 * environment variable the config names; it goes only into the request
 * header, never into a response, an error message or a log.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../core/util.h"
#include "fm_backend.h"
#include "fmsp_policy.h"

typedef struct Http {
    int anthropic;
    char *key;
    char url[600];
    pthread_mutex_t rng_lock;
    uint64_t rng;
} Http;

typedef struct Body {
    char *data;
    size_t len, cap;
    int too_big;
    double retry_after; /* seconds, <0 if none */
} Body;

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    Body *b = ud;
    size_t got = size * n;
    if (b->len + got > b->cap) {
        b->too_big = 1;
        return 0; /* aborts the transfer */
    }
    memcpy(b->data + b->len, ptr, got);
    b->len += got;
    b->data[b->len] = 0;
    return got;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
    Body *b = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0) {
        char value[128];
        size_t vl = len - 12 < sizeof value - 1 ? len - 12 : sizeof value - 1;
        memcpy(value, ptr + 12, vl);
        value[vl] = 0;
        char *end;
        double secs = strtod(value, &end);
        if (end != value && secs >= 0) {
            b->retry_after = secs;
        } else {
            time_t when = curl_getdate(value, NULL);
            if (when > 0) {
                double d = difftime(when, time(NULL));
                b->retry_after = d > 0 ? d : 0;
            }
        }
    }
    return len;
}

static char *build_body(const Http *h, const FmConfig *cfg, const FmRequest *req)
{
    json_t *msgs = json_array();
    if (req->system && !h->anthropic)
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content", req->system));
    for (int i = 0; i < req->n_messages; i++)
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", req->messages[i].role,
                                              "content", req->messages[i].content));
    json_t *root = json_pack("{s:s, s:o, s:f, s:i}", "model", cfg->model, "messages", msgs,
                             "temperature", cfg->temperature, "max_tokens", cfg->max_tokens);
    if (req->system && h->anthropic)
        json_object_set_new(root, "system", json_string(req->system));
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

/* Parses a 200 answer into resp; FMSP_ERR_PARSE with a reason otherwise. */
static FmspErr parse_answer(const Http *h, const char *body, FmResponse *resp)
{
    json_error_t je;
    json_t *root = json_loads(body, 0, &je);
    if (!root) {
        snprintf(resp->error, sizeof resp->error, "malformed JSON in the response: %s", je.text);
        return FMSP_ERR_PARSE;
    }
    FmspErr e = FMSP_OK;
    if (h->anthropic) {
        json_t *content = json_object_get(root, "content");
        size_t n = json_array_size(content), total = 0;
        for (size_t i = 0; i < n; i++) {
            const char *t = json_string_value(json_object_get(json_array_get(content, i), "text"));
            total += t ? strlen(t) : 0;
        }
        if (!json_is_array(content)) {
            snprintf(resp->error, sizeof resp->error, "the response has no content blocks");
            e = FMSP_ERR_PARSE;
        } else {
            resp->text = xcalloc(total + 1, 1);
            for (size_t i = 0; i < n; i++) {
                const char *t = json_string_value(json_object_get(json_array_get(content, i), "text"));
                if (t)
                    strcat(resp->text, t);
            }
        }
        json_t *u = json_object_get(root, "usage");
        resp->prompt_tokens = (long)json_integer_value(json_object_get(u, "input_tokens"));
        resp->completion_tokens = (long)json_integer_value(json_object_get(u, "output_tokens"));
    } else {
        json_t *msg = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
        const char *t = json_string_value(json_object_get(msg, "content"));
        const char *refusal = json_string_value(json_object_get(msg, "refusal"));
        if (t) {
            resp->text = xstrdup(t);
        } else if (refusal) {
            snprintf(resp->error, sizeof resp->error, "the model refused: %.200s", refusal);
            e = FMSP_ERR_PARSE;
        } else {
            snprintf(resp->error, sizeof resp->error, "the response has no message content");
            e = FMSP_ERR_PARSE;
        }
        json_t *u = json_object_get(root, "usage");
        resp->prompt_tokens = (long)json_integer_value(json_object_get(u, "prompt_tokens"));
        resp->completion_tokens = (long)json_integer_value(json_object_get(u, "completion_tokens"));
    }
    json_decref(root);
    return e;
}

/* The error message an API put in its body, if any (first 200 bytes). */
static void api_error(const char *body, char *out, size_t n)
{
    out[0] = 0;
    json_t *root = body ? json_loads(body, 0, NULL) : NULL;
    json_t *err = json_object_get(root, "error");
    const char *m = json_string_value(json_object_get(err, "message"));
    if (!m)
        m = json_string_value(err);
    if (m)
        snprintf(out, n, ": %.200s", m);
    json_decref(root);
}

static double jitter(Http *h)
{
    pthread_mutex_lock(&h->rng_lock);
    uint64_t x = fmsp_splitmix64(&h->rng);
    pthread_mutex_unlock(&h->rng_lock);
    return (double)(x >> 11) * 0x1.0p-53;
}

/* curl's progress hook: a cancelled request stops its transfer. */
static int on_progress(void *cancel, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return cancel && *(const volatile int *)cancel;
}

static void http_complete(void *state, const FmConfig *cfg, const FmRequest *req, FmResponse *resp)
{
    Http *h = state;
    char *body = build_body(h, cfg, req);
    CURL *curl = curl_easy_init();
    if (!curl || !body) {
        resp->err = FMSP_ERR_INTERNAL;
        snprintf(resp->error, sizeof resp->error, "cannot set up an HTTP request");
        free(body);
        if (curl)
            curl_easy_cleanup(curl);
        return;
    }
    struct curl_slist *hdr = NULL;
    char auth[700];
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    if (h->anthropic) {
        snprintf(auth, sizeof auth, "x-api-key: %s", h->key);
        hdr = curl_slist_append(hdr, auth);
        hdr = curl_slist_append(hdr, "anthropic-version: 2023-06-01");
    } else {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", h->key);
        hdr = curl_slist_append(hdr, auth);
    }
    memset(auth, 0, sizeof auth); /* the key lives on only inside curl's list */
    Body b = {0};
    b.cap = cfg->max_response_bytes ? cfg->max_response_bytes : (4u << 20);
    b.data = xmalloc(b.cap + 1);
    int max_attempts = cfg->max_retries + 1;
    for (int attempt = 1; attempt <= max_attempts; attempt++) {
        b.len = 0;
        b.data[0] = 0;
        b.too_big = 0;
        b.retry_after = -1;
        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, h->url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &b);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout_s * 1000));
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(cfg->timeout_s * 1000));
        /* a stalled body: under 1 byte/s for 30 s (or the whole timeout) */
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                         (long)(cfg->timeout_s < 30 ? cfg->timeout_s + 1 : 30));
        curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b.cap);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        if (req->cancel) {
            curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
            curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
            curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)req->cancel);
        }
        CURLcode rc = curl_easy_perform(curl);
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        resp->http_status = (int)status;
        resp->attempts = attempt;
        int retry = 0;
        if (rc == CURLE_ABORTED_BY_CALLBACK || (req->cancel && *req->cancel && rc != CURLE_OK)) {
            resp->err = FMSP_ERR_INTERRUPTED;
            snprintf(resp->error, sizeof resp->error, "cancelled while in flight");
            break;
        } else if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
            resp->err = FMSP_ERR_TOOBIG;
            snprintf(resp->error, sizeof resp->error,
                     "the response is larger than the %zu-byte limit", b.cap);
        } else if (rc != CURLE_OK) {
            resp->err = FMSP_ERR_NET;
            snprintf(resp->error, sizeof resp->error, "%s after %d attempt%s",
                     curl_easy_strerror(rc), attempt, attempt == 1 ? "" : "s");
            retry = 1;
        } else if (status == 200) {
            resp->err = parse_answer(h, b.data, resp);
            if (!resp->err)
                resp->error[0] = 0;
        } else {
            char detail[256];
            api_error(b.data, detail, sizeof detail);
            resp->err = FMSP_ERR_NET;
            snprintf(resp->error, sizeof resp->error, "HTTP %ld after %d attempt%s%s", status,
                     attempt, attempt == 1 ? "" : "s", detail);
            retry = status == 429 || status >= 500;
        }
        if (!retry || attempt == max_attempts)
            break;
        double delay = cfg->backoff_base_s * (double)(1u << (attempt - 1 < 20 ? attempt - 1 : 20));
        if (delay > cfg->backoff_max_s)
            delay = cfg->backoff_max_s;
        delay *= jitter(h); /* full jitter */
        if (b.retry_after >= 0)
            delay = b.retry_after < cfg->backoff_max_s ? b.retry_after : cfg->backoff_max_s;
        /* back off, in slices, so a cancel is noticed */
        for (double slept = 0; slept < delay && !(req->cancel && *req->cancel); slept += 0.05)
            usleep((useconds_t)((delay - slept < 0.05 ? delay - slept : 0.05) * 1e6));
        if (req->cancel && *req->cancel) {
            resp->err = FMSP_ERR_INTERRUPTED;
            snprintf(resp->error, sizeof resp->error, "cancelled between retries");
            break;
        }
    }
    /* a server may quote the key back (some do in a 401): nothing it sent
     * is stored, shown or put in a prompt with the key in it */
    util_scrub(b.data, b.len, h->key);
    util_scrub(resp->error, strlen(resp->error), h->key);
    if (resp->text)
        util_scrub(resp->text, strlen(resp->text), h->key);
    if (b.len)
        resp->raw = xstrndup(b.data, b.len < 65536 ? b.len : 65536);
    free(b.data);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(curl);
    free(body);
}

static void http_destroy(void *state)
{
    Http *h = state;
    if (!h)
        return;
    if (h->key) {
        memset(h->key, 0, strlen(h->key));
        free(h->key);
    }
    pthread_mutex_destroy(&h->rng_lock);
    free(h);
}

static const FmBackendOps http_ops = {http_complete, http_destroy};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

FmspErr fm_http_open(const FmConfig *cfg, void **state, const FmBackendOps **ops, char *err,
                     size_t errlen)
{
    const char *key = cfg->api_key_env[0] ? getenv(cfg->api_key_env) : NULL;
    if (!key || !*key) {
        fmsp_errf(err, errlen, "%s is not set; export your API key in it, pass --api-key-env VAR, "
                               "or use --fm builtin",
                  cfg->api_key_env[0] ? cfg->api_key_env : "the API key variable");
        return FMSP_ERR_ARG;
    }
    if (strlen(key) > 512) {
        fmsp_errf(err, errlen, "%s is longer than 512 characters", cfg->api_key_env);
        return FMSP_ERR_ARG;
    }
    if (strncmp(cfg->base_url, "http://", 7) != 0 && strncmp(cfg->base_url, "https://", 8) != 0) {
        fmsp_errf(err, errlen, "base URL '%s' must start with http:// or https://", cfg->base_url);
        return FMSP_ERR_ARG;
    }
    pthread_once(&curl_once, curl_init_once);
    Http *h = xcalloc(1, sizeof *h);
    h->anthropic = cfg->backend == FM_ANTHROPIC;
    h->key = xstrdup(key);
    size_t bl = strlen(cfg->base_url);
    while (bl > 0 && cfg->base_url[bl - 1] == '/')
        bl--;
    snprintf(h->url, sizeof h->url, "%.*s/%s", (int)bl, cfg->base_url,
             h->anthropic ? "messages" : "chat/completions");
    h->rng = cfg->seed ^ (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)h;
    pthread_mutex_init(&h->rng_lock, NULL);
    *state = h;
    *ops = &http_ops;
    return FMSP_OK;
}
