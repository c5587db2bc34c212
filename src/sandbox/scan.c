/*
 * scan.c - the policy source scanner (see scan.h).
 *
 * Works in two passes over a cleaned copy of the source:
 *   1. clean: splice backslash-newlines, replace comments by a space, keep a
 *      line number for every byte, and mark the bytes inside string and
 *      character literals so identifier checks skip them;
 *   2. walk logical lines: a line whose first token is `#` (or the digraph
 *      `%:`, or the trigraph `??=`) is a directive and is checked by name;
 *      every identifier outside literals is checked against the deny list.
 * Token pasting (`##`) is refused because it could assemble a denied
 * identifier (`as##m`) that no text search would see.
 */
#include "scan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "fmsp_policy.h"

const char *const scan_allowed_headers[] = {
    "assert.h", "ctype.h",  "errno.h",  "float.h",     "inttypes.h",    "iso646.h",
    "limits.h", "math.h",   "stdalign.h", "stdarg.h",  "stdbool.h",     "stddef.h",
    "stdint.h", "stdio.h",  "stdlib.h", "stdnoreturn.h", "string.h",    NULL,
};

/* Identifiers refused anywhere outside literals, with the reason. */
static const struct {
    const char *name;
    const char *why;
} denied[] = {
    {"asm", "inline assembly is not allowed"},
    {"__asm", "inline assembly is not allowed"},
    {"__asm__", "inline assembly is not allowed"},
    {"_Pragma", "_Pragma is not allowed (use #pragma with an allowed pragma)"},
    {"__has_include", "__has_include is not allowed (it probes the file system)"},
    {"__has_include_next", "__has_include_next is not allowed (it probes the file system)"},
    {"constructor", "constructors are not allowed (nothing may run at load time); rename the identifier"},
    {"__constructor__", "constructors are not allowed (nothing may run at load time)"},
    {"destructor", "destructors are not allowed (nothing may run at unload time); rename the identifier"},
    {"__destructor__", "destructors are not allowed (nothing may run at unload time)"},
    {"section", "the 'section' attribute is not allowed; rename the identifier"},
    {"__section__", "the 'section' attribute is not allowed"},
    {"alias", "the 'alias' attribute is not allowed; rename the identifier"},
    {"__alias__", "the 'alias' attribute is not allowed"},
    {"ifunc", "the 'ifunc' attribute is not allowed; rename the identifier"},
    {"__ifunc__", "the 'ifunc' attribute is not allowed"},
    {"weakref", "the 'weakref' attribute is not allowed; rename the identifier"},
    {"__weakref__", "the 'weakref' attribute is not allowed"},
    {"symver", "the 'symver' attribute is not allowed; rename the identifier"},
    {"__symver__", "the 'symver' attribute is not allowed"},
};

/* Pragmas allowed after `#pragma` (first word, or "GCC <word>"). */
static const char *const allowed_pragmas[] = {"once", "pack", "STDC", NULL};
static const char *const allowed_gcc_pragmas[] = {
    "optimize", "unroll", "ivdep", "diagnostic", "push_options", "pop_options", "target", NULL};

typedef struct Clean {
    char *text;    /* cleaned source */
    int *line;     /* original line of each byte */
    char *literal; /* 1 inside a string or character literal (quotes included) */
    size_t len;
} Clean;

static void clean_free(Clean *c)
{
    free(c->text);
    free(c->line);
    free(c->literal);
}

static void clean_push(Clean *c, char ch, int line, char lit)
{
    c->text[c->len] = ch;
    c->line[c->len] = line;
    c->literal[c->len] = lit;
    c->len++;
}

/* Pass 1. Returns 0, or -1 with why set for an unterminated comment. */
static int clean_source(const char *src, size_t len, Clean *c, char *why, size_t whylen)
{
    /* splice backslash-newline first, keeping line numbers */
    char *sp = xmalloc(len + 1);
    int *spl = xmalloc(sizeof(int) * (len + 1));
    size_t n = 0;
    int line = 1;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\\' && i + 1 < len && src[i + 1] == '\n') {
            i++;
            line++;
            continue;
        }
        if (src[i] == '\\' && i + 2 < len && src[i + 1] == '\r' && src[i + 2] == '\n') {
            i += 2;
            line++;
            continue;
        }
        sp[n] = src[i];
        spl[n++] = line;
        if (src[i] == '\n')
            line++;
    }
    c->text = xmalloc(n + 1);
    c->line = xmalloc(sizeof(int) * (n + 1));
    c->literal = xmalloc(n + 1);
    c->len = 0;
    int rc = 0;
    for (size_t i = 0; i < n;) {
        char ch = sp[i];
        if (ch == '/' && i + 1 < n && sp[i + 1] == '/') {
            while (i < n && sp[i] != '\n')
                i++;
            clean_push(c, ' ', spl[i < n ? i : n - 1], 0);
            continue;
        }
        if (ch == '/' && i + 1 < n && sp[i + 1] == '*') {
            int start = spl[i];
            i += 2;
            while (i + 1 < n && !(sp[i] == '*' && sp[i + 1] == '/')) {
                if (sp[i] == '\n')
                    clean_push(c, '\n', spl[i], 0); /* keep line structure */
                i++;
            }
            if (i + 1 >= n) {
                fmsp_errf(why, whylen, "line %d: unterminated comment", start);
                rc = -1;
                break;
            }
            i += 2;
            clean_push(c, ' ', spl[i - 1], 0);
            continue;
        }
        if (ch == '"' || ch == '\'') {
            char q = ch;
            clean_push(c, ch, spl[i], 1);
            i++;
            while (i < n && sp[i] != q && sp[i] != '\n') {
                if (sp[i] == '\\' && i + 1 < n && sp[i + 1] != '\n') {
                    clean_push(c, sp[i], spl[i], 1);
                    i++;
                }
                clean_push(c, sp[i], spl[i], 1);
                i++;
            }
            if (i < n && sp[i] == q) {
                clean_push(c, q, spl[i], 1);
                i++;
            }
            continue;
        }
        clean_push(c, ch, spl[i], 0);
        i++;
    }
    c->text[c->len] = 0;
    free(sp);
    free(spl);
    return rc;
}

static int is_ident_start(int ch)
{
    return isalpha(ch) || ch == '_' || ch == '$';
}

static int is_ident_char(int ch)
{
    return isalnum(ch) || ch == '_' || ch == '$';
}

static int header_allowed(const char *name, size_t len)
{
    if (len == strlen("fmsp_policy.h") && memcmp(name, "fmsp_policy.h", len) == 0)
        return 1;
    for (int i = 0; scan_allowed_headers[i]; i++)
        if (strlen(scan_allowed_headers[i]) == len && memcmp(name, scan_allowed_headers[i], len) == 0)
            return 1;
    return 0;
}

static int word_in(const char *w, size_t len, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == len && memcmp(w, list[i], len) == 0)
            return 1;
    return 0;
}

/* Reads an identifier at *p (skipping blanks); returns its length. */
static size_t read_word(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\f' || **p == '\v'))
        (*p)++;
    const char *s = *p;
    while (*p < end && is_ident_char((unsigned char)**p))
        (*p)++;
    return (size_t)(*p - s);
}

/* Checks one directive (text after the '#'); 0 ok, -1 refused. */
static int check_directive(const char *d, const char *end, int line, char *why, size_t whylen)
{
    const char *p = d;
    size_t wl = read_word(&p, end);
    const char *w = p - wl;
    if (wl == 0)
        return 0; /* null directive or line marker digits */
    int is_include = (wl == 7 && memcmp(w, "include", 7) == 0) ||
                     (wl == 12 && memcmp(w, "include_next", 12) == 0) ||
                     (wl == 6 && memcmp(w, "import", 6) == 0) ||
                     (wl == 5 && memcmp(w, "embed", 5) == 0);
    if (is_include) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        char close = p < end && *p == '"' ? '"' : (p < end && *p == '<' ? '>' : 0);
        if (!close) {
            fmsp_errf(why, whylen,
                      "line %d: #%.*s must name a header directly (\"fmsp_policy.h\" or "
                      "<math.h>-style); macro includes are not allowed",
                      line, (int)wl, w);
            return -1;
        }
        const char *name = ++p;
        while (p < end && *p != close)
            p++;
        size_t nl = (size_t)(p - name);
        if (wl != 7 || !header_allowed(name, nl)) {
            fmsp_errf(why, whylen,
                      "line %d: #%.*s %c%.*s%c is not allowed; a policy may include only "
                      "\"fmsp_policy.h\" and standard headers (math.h, stdlib.h, string.h, "
                      "stdint.h, stdbool.h, stddef.h, float.h, limits.h, stdio.h, ctype.h, "
                      "assert.h, errno.h, inttypes.h, iso646.h, stdalign.h, stdarg.h, "
                      "stdnoreturn.h)",
                      line, (int)wl, w, close == '"' ? '"' : '<', (int)(nl > 200 ? 200 : nl),
                      name, close);
            return -1;
        }
        return 0;
    }
    if (wl == 6 && memcmp(w, "pragma", 6) == 0) {
        size_t l1 = read_word(&p, end);
        const char *w1 = p - l1;
        if (l1 == 3 && memcmp(w1, "GCC", 3) == 0) {
            size_t l2 = read_word(&p, end);
            if (word_in(p - l2, l2, allowed_gcc_pragmas))
                return 0;
            fmsp_errf(why, whylen, "line %d: #pragma GCC %.*s is not allowed", line,
                      (int)(l2 > 40 ? 40 : l2), p - l2);
            return -1;
        }
        if (word_in(w1, l1, allowed_pragmas))
            return 0;
        fmsp_errf(why, whylen, "line %d: #pragma %.*s is not allowed", line,
                  (int)(l1 > 40 ? 40 : l1), w1);
        return -1;
    }
    return 0;
}

FmspErr scan_policy_source(const char *src, size_t len, int *side, char *why, size_t whylen)
{
    *side = 0;
    if (memchr(src, 0, len)) {
        fmsp_errf(why, whylen, "the source contains a NUL byte");
        return FMSP_ERR_REFUSED;
    }
    Clean c;
    if (clean_source(src, len, &c, why, whylen)) {
        clean_free(&c);
        return FMSP_ERR_REFUSED;
    }
    FmspErr e = FMSP_OK;
    int sides_found = 0, first_side_line = 0;
    const char *t = c.text;
    size_t i = 0;
    while (i < c.len && !e) {
        /* one logical line: [i, eol) */
        size_t eol = i;
        while (eol < c.len && t[eol] != '\n')
            eol++;
        size_t j = i;
        while (j < eol && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\f' || t[j] == '\v'))
            j++;
        int directive = 0;
        if (j < eol && t[j] == '#' && !c.literal[j]) {
            directive = 1;
            j += 1;
        } else if (j + 1 < eol && t[j] == '%' && t[j + 1] == ':') {
            directive = 1;
            j += 2;
        } else if (j + 2 < eol && t[j] == '?' && t[j + 1] == '?' && t[j + 2] == '=') {
            directive = 1;
            j += 3;
        }
        if (directive && check_directive(t + j, t + eol, c.line[j - 1], why, whylen)) {
            e = FMSP_ERR_REFUSED;
            break;
        }
        /* identifiers and token pasting, outside literals */
        for (size_t k = i; k < eol && !e; k++) {
            if (c.literal[k])
                continue;
            if ((t[k] == '#' && k + 1 < eol && t[k + 1] == '#') ||
                (t[k] == '%' && k + 3 < eol && t[k + 1] == ':' && t[k + 2] == '%' && t[k + 3] == ':')) {
                fmsp_errf(why, whylen, "line %d: token pasting (##) is not allowed", c.line[k]);
                e = FMSP_ERR_REFUSED;
                break;
            }
            if (!is_ident_start((unsigned char)t[k]) || (k > 0 && is_ident_char((unsigned char)t[k - 1]) && !c.literal[k - 1]))
                continue;
            size_t s = k;
            while (k < eol && is_ident_char((unsigned char)t[k]) && !c.literal[k])
                k++;
            size_t wl = k - s;
            for (size_t d = 0; d < sizeof denied / sizeof denied[0]; d++) {
                if (strlen(denied[d].name) == wl && memcmp(t + s, denied[d].name, wl) == 0) {
                    fmsp_errf(why, whylen, "line %d: '%s': %s", c.line[s], denied[d].name,
                              denied[d].why);
                    e = FMSP_ERR_REFUSED;
                    break;
                }
            }
            if (!e && !directive && wl == 9 && memcmp(t + s, "FMSP_SIDE", 9) == 0) {
                size_t q = k;
                while (q < eol && (t[q] == ' ' || t[q] == '\t'))
                    q++;
                if (q < eol && t[q] == '(') {
                    const char *arg = t + q + 1;
                    const char *argend = arg;
                    while (argend < t + eol && *argend != ')')
                        argend++;
                    while (arg < argend && isspace((unsigned char)*arg))
                        arg++;
                    while (argend > arg && isspace((unsigned char)argend[-1]))
                        argend--;
                    size_t al = (size_t)(argend - arg);
                    int value = 0;
                    if ((al == 12 && memcmp(arg, "FMSP_PURSUER", 12) == 0) || (al == 1 && *arg == '1'))
                        value = FMSP_PURSUER;
                    else if ((al == 11 && memcmp(arg, "FMSP_EVADER", 11) == 0) || (al == 1 && *arg == '2'))
                        value = FMSP_EVADER;
                    if (!value) {
                        fmsp_errf(why, whylen,
                                  "line %d: FMSP_SIDE takes FMSP_PURSUER or FMSP_EVADER, not '%.*s'",
                                  c.line[s], (int)(al > 40 ? 40 : al), arg);
                        e = FMSP_ERR_REFUSED;
                        break;
                    }
                    if (sides_found++ == 0) {
                        *side = value;
                        first_side_line = c.line[s];
                    } else {
                        fmsp_errf(why, whylen,
                                  "line %d: FMSP_SIDE is declared more than once (first on line %d)",
                                  c.line[s], first_side_line);
                        e = FMSP_ERR_REFUSED;
                        break;
                    }
                }
            }
            k--; /* the for loop's k++ moves past the identifier */
        }
        i = eol + 1;
    }
    if (!e && sides_found == 0) {
        fmsp_errf(why, whylen,
                  "policy must declare FMSP_SIDE(FMSP_PURSUER) or FMSP_SIDE(FMSP_EVADER) "
                  "at file scope");
        e = FMSP_ERR_REFUSED;
    }
    clean_free(&c);
    if (e)
        *side = 0;
    return e;
}
