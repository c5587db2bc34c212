/* embed.c - hashed n-gram embedding of C source (see embed.h). */
#include "embed.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static uint64_t fnv(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001B3ULL;
    return h;
}

/* Next token of the source at p: sets tok and len; returns 0 at the end. */
static int next_token(const char **p, const char **tok, size_t *len)
{
    const char *s = *p;
    for (;;) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (s[0] == '/' && s[1] == '/') {
            while (*s && *s != '\n')
                s++;
            continue;
        }
        if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            s = e ? e + 2 : s + strlen(s);
            continue;
        }
        if (s[0] == '#') { /* preprocessor lines carry includes, not strategy */
            while (*s && *s != '\n')
                s++;
            continue;
        }
        break;
    }
    if (!*s) {
        *p = s;
        return 0;
    }
    const char *start = s;
    if (isalpha((unsigned char)*s) || *s == '_') {
        while (isalnum((unsigned char)*s) || *s == '_')
            s++;
        *tok = start;
        *len = (size_t)(s - start);
    } else if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
        while (isalnum((unsigned char)*s) || *s == '.' || ((*s == '-' || *s == '+') && (s[-1] == 'e' || s[-1] == 'E')))
            s++;
        *tok = "#";
        *len = 1;
    } else if (*s == '"' || *s == '\'') {
        char q = *s++;
        while (*s && *s != q) {
            if (*s == '\\' && s[1])
                s++;
            s++;
        }
        if (*s)
            s++;
        *tok = "\"";
        *len = 1;
    } else {
        s++;
        *tok = start;
        *len = 1;
    }
    *p = s;
    return 1;
}

void embed_builtin(const char *source, float *out, int dim)
{
    memset(out, 0, sizeof(float) * (size_t)dim);
    if (!source || dim <= 0)
        return;
    uint64_t h[3] = {0, 0, 0}; /* hashes of the last three tokens */
    const char *p = source, *tok;
    size_t len;
    int count = 0;
    while (next_token(&p, &tok, &len)) {
        h[2] = h[1];
        h[1] = h[0];
        h[0] = fnv(tok, len, 0xcbf29ce484222325ULL);
        count++;
        for (int n = 1; n <= 3 && n <= count; n++) {
            uint64_t g = 0x9E3779B97F4A7C15ULL * (uint64_t)n;
            for (int k = 0; k < n; k++)
                g = (g ^ h[k]) * 0x100000001B3ULL;
            g ^= g >> 29;
            float sign = (g >> 63) ? -1.0f : 1.0f;
            out[(g >> 7) % (uint64_t)dim] += sign;
        }
    }
    double norm = 0;
    for (int i = 0; i < dim; i++)
        norm += (double)out[i] * out[i];
    if (norm > 0) {
        float inv = (float)(1.0 / sqrt(norm));
        for (int i = 0; i < dim; i++)
            out[i] *= inv;
    }
}
