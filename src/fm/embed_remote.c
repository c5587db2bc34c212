/*
 * embed_remote.c - code embeddings from an OpenAI-compatible endpoint.
 *
 * Same discipline as the chat clients: connect and total timeouts, a stall
 * detector, a capped response body, retries with backoff on 429/5xx and
 * network errors (3 attempts), and the key only in the request header.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/util.h"
#include "embed.h"

#define EMBED_RESPONSE_CAP ((size_t)16 << 20)
#define EMBED_MAX_DIM 65536

struct EmbedRemote {
    char url[600];
    char model[128];
    char *key;
    double timeout_s;
};

typedef struct Buf {
    char *data;
    size_t len;
    int too_big;
} Buf;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    Buf *b = ud;
    size_t got = size * n;
    if (b->len + got > EMBED_RESPONSE_CAP) {
        b->too_big = 1;
        return 0;
    }
    b->data = xrealloc(b->data, b->len + got + 1);
    memcpy(b->data + b->len, p, got);
    b->len += got;
    b->data[b->len] = 0;
    return got;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_curl(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

FmspErr embed_remote_new(const char *base_url, const char *model, const char *key_env,
                         double timeout_s, EmbedRemote **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *key = key_env && *key_env ? getenv(key_env) : NULL;
    if (!key || !*key) {
        fmsp_errf(err, errlen, "%s is not set; the embeddings endpoint needs a key (or use --embed builtin)",
                  key_env && *key_env ? key_env : "the embeddings key variable");
        return FMSP_ERR_ARG;
    }
    if (!base_url || (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8))) {
        fmsp_errf(err, errlen, "embeddings URL '%s' must start with http:// or https://",
                  base_url ? base_url : "");
        return FMSP_ERR_ARG;
    }
    pthread_once(&once, init_curl);
    EmbedRemote *r = xcalloc(1, sizeof *r);
    size_t bl = strlen(base_url);
    while (bl && base_url[bl - 1] == '/')
        bl--;
    snprintf(r->url, sizeof r->url, "%.*s/embeddings", (int)bl, base_url);
    snprintf(r->model, sizeof r->model, "%s", model ? model : "text-embedding-3-small");
    r->key = xstrdup(key);
    r->timeout_s = timeout_s > 0 ? timeout_s : 60;
    *out = r;
    return FMSP_OK;
}

void embed_remote_free(EmbedRemote *r)
{
    if (!r)
        return;
    memset(r->key, 0, strlen(r->key));
    free(r->key);
    free(r);
}

static FmspErr parse(const char *body, float **vec, int *dim, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(body, 0, &je);
    json_t *arr = json_object_get(json_array_get(json_object_get(root, "data"), 0), "embedding");
    size_t n = json_array_size(arr);
    if (!root || !json_is_array(arr) || n == 0 || n > EMBED_MAX_DIM) {
        fmsp_errf(err, errlen, "embeddings response has no usable data[0].embedding%s%s",
                  root ? "" : ": ", root ? "" : je.text);
        json_decref(root);
        return FMSP_ERR_PARSE;
    }
    float *v = xmalloc(sizeof(float) * n);
    double norm = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(arr, i);
        double d = json_number_value(x);
        if (!json_is_number(x) || !isfinite(d)) {
            free(v);
            json_decref(root);
            fmsp_errf(err, errlen, "embeddings response has a non-numeric value at %zu", i);
            return FMSP_ERR_PARSE;
        }
        v[i] = (float)d;
        norm += d * d;
    }
    if (norm > 0)
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(v[i] / sqrt(norm));
    json_decref(root);
    *vec = v;
    *dim = (int)n;
    return FMSP_OK;
}

FmspErr embed_remote(EmbedRemote *r, const char *text, float **vec, int *dim, char *err,
                     size_t errlen)
{
    *vec = NULL;
    *dim = 0;
    json_t *req = json_pack("{s:s, s:s}", "model", r->model, "input", text ? text : "");
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    char auth[700];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->key);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, auth);
    memset(auth, 0, sizeof auth);
    FmspErr e = FMSP_ERR_NET;
    for (int attempt = 1; attempt <= 3; attempt++) {
        CURL *c = curl_easy_init();
        Buf b = {0};
        curl_easy_setopt(c, CURLOPT_URL, r->url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(r->timeout_s * 1000));
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        int retry = 0;
        if (b.too_big) {
            fmsp_errf(err, errlen, "embeddings response larger than %zu bytes", EMBED_RESPONSE_CAP);
            e = FMSP_ERR_TOOBIG;
        } else if (rc != CURLE_OK) {
            fmsp_errf(err, errlen, "embeddings request: %s", curl_easy_strerror(rc));
            retry = 1;
        } else if (status != 200) {
            fmsp_errf(err, errlen, "embeddings request: HTTP %ld", status);
            retry = status == 429 || status >= 500;
        } else {
            e = parse(b.data ? b.data : "", vec, dim, err, errlen);
        }
        free(b.data);
        if (!retry || e == FMSP_OK)
            break;
        usleep((useconds_t)(250000u << (attempt - 1)));
    }
    curl_slist_free_all(hdr);
    free(body);
    if (err)
        util_scrub(err, strlen(err), r->key);
    return e;
}
