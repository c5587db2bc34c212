/* transcript.c - samples of Gandalf matches for prompts (transcript.h). */
#include "transcript.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/util.h"

#define COLLECT_CAP (256u << 10) /* trace bytes kept per match */

typedef struct Collector {
    char *buf;
    size_t len, cap;
} Collector;

void *gandalf_transcript_new(void)
{
    return xcalloc(1, sizeof(Collector));
}

void gandalf_transcript_collect(void *ctx, int episode, const char *line)
{
    (void)episode;
    Collector *c = ctx;
    size_t n = strlen(line);
    if (c->len + n + 2 > COLLECT_CAP)
        return;
    if (c->len + n + 2 > c->cap) {
        c->cap = (c->len + n + 2) * 2;
        c->buf = xrealloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->len, line, n);
    c->len += n;
    c->buf[c->len++] = '\n';
    c->buf[c->len] = 0;
}

char *gandalf_transcript_lines(void *ctx)
{
    Collector *c = ctx;
    return c && c->len ? xstrdup(c->buf) : NULL;
}

void gandalf_transcript_free(void *ctx)
{
    Collector *c = ctx;
    if (c)
        free(c->buf);
    free(c);
}

/* Appends one attempt's exchanges (attempt a) to out. */
static void add_attempt(FILE *out, json_t **lines, size_t n, int a, int found, const char *opponent)
{
    fprintf(out, "vs %s, an attempt in which the password was %s:\n", opponent,
            found ? "FOUND" : "kept");
    for (size_t i = 0; i < n; i++) {
        json_t *o = lines[i];
        if (json_integer_value(json_object_get(o, "attempt")) != a ||
            strcmp(json_string_value(json_object_get(o, "type")) ?: "", "exchange") != 0)
            continue;
        const char *in = json_string_value(json_object_get(o, "input")) ?: "?";
        const char *outv = json_string_value(json_object_get(o, "output")) ?: "?";
        const char *guess = json_string_value(json_object_get(o, "guess")) ?: "";
        fprintf(out, "  query %lld: %.300s\n", (long long)json_integer_value(json_object_get(o, "query")) + 1,
                json_string_value(json_object_get(o, "prompt")) ?: "");
        fprintf(out, "    input guard: %s, output guard: %s\n", in, outv);
        fprintf(out, "    reply seen: %.300s\n", json_string_value(json_object_get(o, "reply")) ?: "");
        if (guess[0])
            fprintf(out, "    guess: %.60s%s\n", guess,
                    json_is_true(json_object_get(o, "success")) ? " (right)" : "");
    }
}

char *gandalf_transcript_sample(void *ctx, const char *opponent, size_t cap)
{
    Collector *c = ctx;
    if (!c || !c->len)
        return NULL;
    size_t n = 0, room = 64;
    json_t **lines = xmalloc(sizeof *lines * room);
    char *save = NULL;
    char *copy = xstrdup(c->buf);
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(l, 0, NULL);
        if (!o)
            continue;
        if (n == room)
            lines = xrealloc(lines, sizeof *lines * (room *= 2));
        lines[n++] = o;
    }
    free(copy);
    int found = -1, kept = -1;
    for (size_t i = 0; i < n; i++) {
        json_t *o = lines[i];
        if (strcmp(json_string_value(json_object_get(o, "type")) ?: "", "attempt") != 0)
            continue;
        int a = (int)json_integer_value(json_object_get(o, "attempt"));
        if (json_is_true(json_object_get(o, "success")) && found < 0)
            found = a;
        else if (!json_is_true(json_object_get(o, "success")) && kept < 0)
            kept = a;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (found >= 0)
        add_attempt(out, lines, n, found, 1, opponent);
    if (kept >= 0)
        add_attempt(out, lines, n, kept, 0, opponent);
    fclose(out);
    for (size_t i = 0; i < n; i++)
        json_decref(lines[i]);
    free(lines);
    if (text && len > cap) {
        text[cap > 20 ? cap - 20 : 0] = 0;
        strcat(text, "\n  [... cut]\n");
    }
    if (text && !text[0]) {
        free(text);
        text = NULL;
    }
    return text;
}
