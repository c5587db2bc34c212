/* extract.c - code blocks and search/replace edits from model answers. */
#include "extract.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"

typedef struct Block {
    const char *start; /* first byte of content */
    size_t len;
} Block;

#define MAX_BLOCKS 32

/* 1 if the line at p opens or closes a fence (``` or ~~~, 3 or more). */
static int is_fence(const char *p, char *kind)
{
    while (*p == ' ' || *p == '\t')
        p++;
    if ((p[0] == '`' && p[1] == '`' && p[2] == '`') || (p[0] == '~' && p[1] == '~' && p[2] == '~')) {
        *kind = p[0];
        return 1;
    }
    return 0;
}

static const char *next_line(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl ? nl + 1 : p + strlen(p);
}

static int find_blocks(const char *text, Block *blocks)
{
    int n = 0;
    const char *p = text;
    while (*p && n < MAX_BLOCKS) {
        char kind;
        if (!is_fence(p, &kind)) {
            p = next_line(p);
            continue;
        }
        const char *content = next_line(p);
        const char *q = content;
        char k2;
        while (*q && !(is_fence(q, &k2) && k2 == kind))
            q = next_line(q);
        blocks[n].start = content;
        blocks[n].len = (size_t)(q - content);
        n++;
        p = *q ? next_line(q) : q;
    }
    return n;
}

static int has(const char *s, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(s + i, needle, nl) == 0)
            return 1;
    return 0;
}

FmspErr extract_policy_code(const char *text, char **code, char *why, size_t whylen)
{
    *code = NULL;
    if (!text || !*text) {
        fmsp_errf(why, whylen, "the answer is empty");
        return FMSP_ERR_PARSE;
    }
    Block b[MAX_BLOCKS];
    int n = find_blocks(text, b);
    int best = -1, best_score = -1;
    for (int i = 0; i < n; i++) {
        int score = has(b[i].start, b[i].len, "FMSP_SIDE") * 2 + has(b[i].start, b[i].len, "fmsp_act") * 2;
        if (score > best_score || (score == best_score && b[i].len > b[best].len)) {
            best = i;
            best_score = score;
        }
    }
    if (best >= 0 && b[best].len > 0) {
        *code = xstrndup(b[best].start, b[best].len);
        return FMSP_OK;
    }
    const char *inc = strstr(text, "#include");
    if (inc && strstr(inc, "fmsp_act")) {
        while (inc > text && inc[-1] != '\n')
            inc--;
        *code = xstrdup(inc);
        return FMSP_OK;
    }
    fmsp_errf(why, whylen, "the answer contains no C code: put the complete policy file in a "
                           "```c fenced block");
    return FMSP_ERR_PARSE;
}

static const char search_mark[] = "<<<<<<< SEARCH";
static const char divider[] = "=======";
static const char replace_mark[] = ">>>>>>> REPLACE";

int extract_has_edits(const char *text)
{
    const char *s = text ? strstr(text, search_mark) : NULL;
    return s && strstr(s, divider) && strstr(s, replace_mark);
}

/* Removes trailing blanks from every line (heap copy). */
static char *rstrip_lines(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0, line_start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n') {
            while (o > line_start && (out[o - 1] == ' ' || out[o - 1] == '\t' || out[o - 1] == '\r'))
                o--;
            out[o++] = '\n';
            line_start = o;
        } else {
            out[o++] = s[i];
        }
    }
    while (o > line_start && (out[o - 1] == ' ' || out[o - 1] == '\t' || out[o - 1] == '\r'))
        o--;
    out[o] = 0;
    return out;
}

static int count_matches(const char *hay, const char *needle, const char **first)
{
    int n = 0;
    size_t nl = strlen(needle);
    *first = NULL;
    if (nl == 0)
        return 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += 1) {
        if (!n)
            *first = p;
        n++;
    }
    return n;
}

/* Replaces [at, at+len) in *doc with repl. */
static void splice(char **doc, size_t at, size_t len, const char *repl)
{
    size_t dl = strlen(*doc), rl = strlen(repl);
    char *out = xmalloc(dl - len + rl + 1);
    memcpy(out, *doc, at);
    memcpy(out + at, repl, rl);
    memcpy(out + at + rl, *doc + at + len, dl - at - len + 1);
    free(*doc);
    *doc = out;
}

FmspErr extract_apply_edits(const char *parent, const char *text, char **out, char *why,
                            size_t whylen)
{
    *out = NULL;
    char *doc = xstrdup(parent ? parent : "");
    const char *p = text;
    int k = 0;
    while ((p = strstr(p, search_mark))) {
        k++;
        const char *s = next_line(p);
        const char *d = strstr(s, divider);
        const char *r = d ? strstr(d, replace_mark) : NULL;
        if (!d || !r) {
            fmsp_errf(why, whylen, "edit %d: a SEARCH block without its ======= and >>>>>>> "
                                   "REPLACE lines",
                      k);
            free(doc);
            return FMSP_ERR_PARSE;
        }
        /* search text: from s up to the newline before the divider */
        size_t sl = (size_t)(d - s);
        if (sl > 0 && s[sl - 1] == '\n')
            sl--;
        const char *nstart = next_line(d);
        size_t rl = nstart <= r ? (size_t)(r - nstart) : 0;
        if (rl > 0 && nstart[rl - 1] == '\n')
            rl--;
        char *search = xstrndup(s, sl), *repl = xstrndup(nstart, rl);
        const char *at;
        int m = count_matches(doc, search, &at);
        if (m == 1) {
            splice(&doc, (size_t)(at - doc), strlen(search), repl);
        } else {
            /* retry ignoring trailing white space on every line */
            char *nd = rstrip_lines(doc, strlen(doc)), *ns = rstrip_lines(search, strlen(search));
            int m2 = count_matches(nd, ns, &at);
            if (m2 == 1) {
                free(doc);
                doc = nd;
                nd = NULL;
                splice(&doc, (size_t)(at - doc), strlen(ns), repl);
            } else {
                if (m2 == 0 && sl == 0)
                    fmsp_errf(why, whylen, "edit %d: the SEARCH text is empty", k);
                else if (m2 == 0)
                    fmsp_errf(why, whylen, "edit %d: SEARCH text not found in the parent", k);
                else
                    fmsp_errf(why, whylen, "edit %d: SEARCH text matches %d places; include more "
                                           "lines to make it unique",
                              k, m2);
                free(nd);
                free(ns);
                free(search);
                free(repl);
                free(doc);
                return FMSP_ERR_PARSE;
            }
            free(nd);
            free(ns);
        }
        free(search);
        free(repl);
        p = r + strlen(replace_mark);
    }
    if (k == 0) {
        fmsp_errf(why, whylen, "no edit blocks found");
        free(doc);
        return FMSP_ERR_PARSE;
    }
    *out = doc;
    return FMSP_OK;
}
