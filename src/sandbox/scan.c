/*
 * scan.c - the policy source scanner (see scan.h).
 *
 * The scanner is only useful if it reads the source exactly as gcc
 * (-std=gnu11, as compile.c runs it) does: any place where the two lexers
 * disagree lets a policy hide a refused construct inside what the scanner
 * takes for a comment or a string while gcc sees code. So the scanner
 * implements the subset of gcc's lexing that honest policies use, and
 * refuses, with the line and the construct, whatever lies outside that
 * subset. It works in three passes:
 *
 *   0. splice: physical lines to logical lines. "\r\n" is a newline; a
 *      UTF-8 byte-order mark at the very start is dropped; backslash-newline
 *      is removed. Refused: NUL bytes, a carriage return not followed by a
 *      newline, a backslash followed by blanks before the end of the line,
 *      and trigraphs (anywhere, comments and strings included).
 *   1. clean: comments become a space (a block comment keeps its newlines),
 *      every byte keeps its original line number, and bytes inside string
 *      and character literals are marked so identifier checks skip them.
 *      Refused: unterminated comments and literals, raw string literals,
 *      and, outside comments and literals, backslashes (universal character
 *      names) and non-ASCII bytes.
 *   2. walk logical lines: a line whose first token is `#` or `%:` is a
 *      directive and is checked by name (#include of allowed headers only;
 *      no #include_next, #import, #embed, #line, line markers, or pragmas
 *      outside a short list); every identifier outside literals is checked
 *      against the deny list. Token pasting (`##`) is refused because it
 *      could assemble a denied identifier (`as##m`) that no text search
 *      would see.
 *
 * gcc 12 behaviour these rules rest on, each checked with `gcc -E -std=gnu11`
 * (tests/test_scan.c has a case for each):
 *   - a lone '\r' ends a line, like '\n': "#define X 1\r#include \"f\""
 *     includes f, and "// c\rasm(...)" compiles the asm;
 *   - backslash, then spaces, tabs, form feeds or vertical tabs, then a
 *     newline is a line splice (with only a warning), so it can continue a
 *     // comment over the next line;
 *   - raw strings R"d(...)d" (and LR, uR, UR, u8R) are lexed in gnu11 mode,
 *     even when R is a macro: quotes, backslashes, and comment openers
 *     inside them are plain characters;
 *   - a byte-order mark is skipped at the start of the file only (so
 *     "<BOM>#include" is a directive); elsewhere, and for other non-ASCII
 *     bytes such as a no-break space, gcc does not treat them as blanks;
 *   - trigraphs are not replaced in gnu11 (the trigraph for '#' does not
 *     start a directive, the one for '\\' splices nothing), but they are in
 *     the ISO modes, so they are refused rather than trusted either way;
 *   - `# 1 "/etc/passwd"` and `#line 1 "/etc/passwd"` make gcc's diagnostics
 *     quote lines of that file;
 *   - a directive may follow a block comment on its line (also one that
 *     began on an earlier line), and may start with the digraph `%:`;
 *   - an unterminated ' or " runs to the end of the line (also in #if 0
 *     blocks, where it hides a comment opener from gcc).
 */
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "fmsp_policy.h"

const char *const scan_allowed_headers[] = {
    "assert.h", "ctype.h", "errno.h",    "float.h",       "inttypes.h", "iso646.h",
    "limits.h", "math.h",  "stdalign.h", "stdarg.h",      "stdbool.h",  "stddef.h",
    "stdint.h", "stdio.h", "stdlib.h",   "stdnoreturn.h", "string.h",   NULL,
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
    {"__has_embed", "__has_embed is not allowed (it probes the file system)"},
    {"constructor",
     "constructors are not allowed (nothing may run at load time); rename the identifier"},
    {"__constructor__", "constructors are not allowed (nothing may run at load time)"},
    {"destructor",
     "destructors are not allowed (nothing may run at unload time); rename the identifier"},
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

/* Prefixes that make a following '"' open a raw string literal in gcc. */
static const char *const raw_string_prefixes[] = {"R", "LR", "uR", "UR", "u8R", NULL};

/* Text with the original line of each byte; pass 1 also marks literals. */
typedef struct Clean {
    char *text;    /* NUL-terminated */
    int *line;     /* original line of each byte */
    char *literal; /* 1 inside a string or character literal (quotes included) */
    size_t len;
} Clean;

static void clean_init(Clean *c, size_t cap)
{
    c->text = xmalloc(cap + 1);
    c->line = xmalloc(sizeof(int) * (cap + 1));
    c->literal = xmalloc(cap + 1);
    c->len = 0;
}

static void clean_release(Clean *c)
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

/* Identifier characters as gcc sees them in ASCII ('$' included, as in gcc's
 * default); not <ctype.h>, whose answer for bytes >= 0x80 depends on the
 * locale. Non-ASCII bytes never reach an identifier check (pass 1). */
static int is_ident_start(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '$';
}

static int is_ident_char(int ch)
{
    return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

/* Horizontal white space for gcc, which also allows it between a backslash
 * and the newline of a splice. */
static int is_blank(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\f' || ch == '\v';
}

static int is_trigraph_end(int ch)
{
    return ch != 0 && strchr("=/'()!<>-", ch) != NULL;
}

/* Length of the newline at src[i] ("\n" or "\r\n"), or 0. */
static size_t newline_at(const char *src, size_t len, size_t i)
{
    if (i < len && src[i] == '\n')
        return 1;
    if (i + 1 < len && src[i] == '\r' && src[i + 1] == '\n')
        return 2;
    return 0;
}

/* Pass 0: physical lines into out (caller-initialised, capacity len).
 * Returns 0, or -1 with why set. */
static int splice_source(const char *src, size_t len, Clean *out, char *why, size_t whylen)
{
    int line = 1;
    size_t i = 0;
    if (len >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0)
        i = 3; /* gcc skips a UTF-8 byte-order mark at the start of the file */
    while (i < len) {
        char ch = src[i];
        if (ch == '\0') {
            fmsp_errf(why, whylen, "line %d: the source contains a NUL byte", line);
            return -1;
        }
        if (ch == '\r') {
            if (!newline_at(src, len, i)) {
                fmsp_errf(why, whylen,
                          "line %d: a carriage return not followed by a newline is not allowed "
                          "(gcc would end the line there)",
                          line);
                return -1;
            }
            i++; /* "\r\n" is a newline */
            continue;
        }
        if (ch == '?' && i + 2 < len && src[i + 1] == '?' && is_trigraph_end(src[i + 2])) {
            fmsp_errf(why, whylen,
                      "line %d: the trigraph ??%c is not allowed, even in a comment or string "
                      "(some C modes replace it by another character); separate the question "
                      "marks",
                      line, src[i + 2]);
            return -1;
        }
        if (ch == '\\') {
            size_t k = i + 1;
            while (k < len && is_blank((unsigned char)src[k]))
                k++;
            size_t nl = newline_at(src, len, k);
            if (nl && k > i + 1) {
                fmsp_errf(why, whylen,
                          "line %d: a backslash followed by spaces before the end of the line is "
                          "not allowed (gcc would splice the lines)",
                          line);
                return -1;
            }
            if (nl) {
                i = k + nl;
                line++;
                continue;
            }
        }
        clean_push(out, ch, line, 0);
        if (ch == '\n')
            line++;
        i++;
    }
    out->text[out->len] = 0;
    return 0;
}

static int word_in(const char *w, size_t len, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == len && memcmp(w, list[i], len) == 0)
            return 1;
    return 0;
}

/* 1, with the prefix's line in *line, if the bytes just pushed to c end with
 * a raw-string prefix that begins a token (gcc: only a whole identifier-like
 * token R, LR, ... is a prefix, so xR"..." is no raw string). */
static int ends_with_raw_prefix(const Clean *c, int *line)
{
    size_t s = c->len;
    while (s > 0 && !c->literal[s - 1] && is_ident_char((unsigned char)c->text[s - 1]))
        s--;
    if (!word_in(c->text + s, c->len - s, raw_string_prefixes))
        return 0;
    *line = c->line[s];
    return 1;
}

/* Pass 1 over the spliced text sp into c. Returns 0, or -1 with why set. */
static int clean_source(const Clean *sp, Clean *c, char *why, size_t whylen)
{
    const char *s = sp->text;
    size_t n = sp->len;
    for (size_t i = 0; i < n;) {
        char ch = s[i];
        if (ch == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n')
                i++;
            clean_push(c, ' ', sp->line[i < n ? i : n - 1], 0);
            continue;
        }
        if (ch == '/' && i + 1 < n && s[i + 1] == '*') {
            int start = sp->line[i];
            i += 2;
            while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/')) {
                if (s[i] == '\n')
                    clean_push(c, '\n', sp->line[i], 0); /* keep line structure */
                i++;
            }
            if (i + 1 >= n) {
                fmsp_errf(why, whylen, "line %d: unterminated comment", start);
                return -1;
            }
            i += 2;
            clean_push(c, ' ', sp->line[i - 1], 0);
            continue;
        }
        if (ch == '"' || ch == '\'') {
            int prefix_line;
            if (ch == '"' && ends_with_raw_prefix(c, &prefix_line)) {
                fmsp_errf(why, whylen,
                          "line %d: raw string literals are not allowed (write an ordinary "
                          "string, or put a space between the prefix and the quote)",
                          prefix_line);
                return -1;
            }
            int start = sp->line[i];
            clean_push(c, ch, start, 1);
            i++;
            while (i < n && s[i] != ch && s[i] != '\n') {
                if (s[i] == '\\' && i + 1 < n && s[i + 1] != '\n') {
                    clean_push(c, s[i], sp->line[i], 1);
                    i++;
                }
                clean_push(c, s[i], sp->line[i], 1);
                i++;
            }
            if (i >= n || s[i] != ch) {
                fmsp_errf(why, whylen,
                          "line %d: unterminated %s literal (a %c without its closing %c)", start,
                          ch == '"' ? "string" : "character", ch, ch);
                return -1;
            }
            clean_push(c, ch, sp->line[i], 1);
            i++;
            continue;
        }
        if (ch == '\\') {
            fmsp_errf(why, whylen,
                      "line %d: a backslash outside a string or character literal is not allowed "
                      "(universal character names such as \\u00e9 may not be used in code)",
                      sp->line[i]);
            return -1;
        }
        if ((unsigned char)ch >= 0x80) {
            fmsp_errf(why, whylen,
                      "line %d: non-ASCII characters are allowed only inside comments and string "
                      "or character literals",
                      sp->line[i]);
            return -1;
        }
        clean_push(c, ch, sp->line[i], 0);
        i++;
    }
    c->text[c->len] = 0;
    return 0;
}

/* The policy API headers, one per domain. */
static const char *const api_headers[] = {"fmsp_policy.h", "fmsp_gandalf.h", NULL};

static int header_allowed(const char *name, size_t len)
{
    return word_in(name, len, api_headers) || word_in(name, len, scan_allowed_headers);
}

/* Reads an identifier at *p (skipping blanks); returns its length. */
static size_t read_word(const char **p, const char *end)
{
    while (*p < end && is_blank((unsigned char)**p))
        (*p)++;
    const char *s = *p;
    while (*p < end && is_ident_char((unsigned char)**p))
        (*p)++;
    return (size_t)(*p - s);
}

/* Checks an #include-like directive w (length wl; p after it); 0 ok, -1 refused. */
static int check_include(const char *w, size_t wl, const char *p, const char *end, int line,
                         char *why, size_t whylen)
{
    while (p < end && is_blank((unsigned char)*p))
        p++;
    char close = p < end && *p == '"' ? '"' : (p < end && *p == '<' ? '>' : 0);
    if (!close) {
        fmsp_errf(why, whylen,
                  "line %d: #%.*s must name a header directly (\"fmsp_policy.h\", \"fmsp_gandalf.h\" or "
                  "<math.h>-style); macro includes are not allowed",
                  line, (int)wl, w);
        return -1;
    }
    const char *name = ++p;
    while (p < end && *p != close)
        p++;
    size_t nl = (size_t)(p - name);
    if (wl != 7 || p == end || !header_allowed(name, nl)) {
        fmsp_errf(why, whylen,
                  "line %d: #%.*s %c%.*s%c is not allowed; a policy may include only its "
                  "domain's header (\"fmsp_policy.h\", \"fmsp_gandalf.h\") and standard headers (math.h, stdlib.h, string.h, "
                  "stdint.h, stdbool.h, stddef.h, float.h, limits.h, stdio.h, ctype.h, "
                  "assert.h, errno.h, inttypes.h, iso646.h, stdalign.h, stdarg.h, "
                  "stdnoreturn.h)",
                  line, (int)wl, w, close == '"' ? '"' : '<', (int)(nl > 200 ? 200 : nl), name,
                  close);
        return -1;
    }
    return 0;
}

/* Checks `#pragma` (p after the word); 0 ok, -1 refused. */
static int check_pragma(const char *p, const char *end, int line, char *why, size_t whylen)
{
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
    fmsp_errf(why, whylen, "line %d: #pragma %.*s is not allowed", line, (int)(l1 > 40 ? 40 : l1),
              w1);
    return -1;
}

/* Checks one directive (text after the '#'); 0 ok, -1 refused. */
static int check_directive(const char *d, const char *end, int line, char *why, size_t whylen)
{
    const char *p = d;
    size_t wl = read_word(&p, end);
    const char *w = p - wl;
    if (wl > 0 && w[0] >= '0' && w[0] <= '9') {
        fmsp_errf(why, whylen,
                  "line %d: line markers (# followed by a number) are not allowed (they make "
                  "the compiler quote other files)",
                  line);
        return -1;
    }
    if (wl == 0)
        return 0; /* the null directive */
    if ((wl == 7 && memcmp(w, "include", 7) == 0) ||
        (wl == 12 && memcmp(w, "include_next", 12) == 0) ||
        (wl == 6 && memcmp(w, "import", 6) == 0) || (wl == 5 && memcmp(w, "embed", 5) == 0))
        return check_include(w, wl, p, end, line, why, whylen);
    if (wl == 4 && memcmp(w, "line", 4) == 0) {
        fmsp_errf(why, whylen,
                  "line %d: #line directives are not allowed (they make the compiler quote "
                  "other files)",
                  line);
        return -1;
    }
    if (wl == 6 && memcmp(w, "pragma", 6) == 0)
        return check_pragma(p, end, line, why, whylen);
    return 0;
}

/* The side macros of every domain's header and the side each names. */
static const struct {
    const char *macro;
    int side;
} side_macros[] = {
    {"FMSP_PURSUER", 1}, {"FMSP_EVADER", 2},   /* Car Tag (fmsp_policy.h) */
    {"FMSP_ATTACKER", 1}, {"FMSP_DEFENDER", 2}, /* Gandalf (fmsp_gandalf.h) */
    {"1", 1}, {"2", 2},
};

/* Reads FMSP_SIDE's argument at t[q..eol); the side it names (1 or 2) with
 * the macro copied into macro, or 0 with the argument in *arg, *arglen. */
static int read_side(const char *t, size_t q, size_t eol, const char **arg, size_t *arglen,
                     char *macro, size_t macrolen)
{
    const char *a = t + q + 1;
    const char *aend = a;
    while (aend < t + eol && *aend != ')')
        aend++;
    while (a < aend && is_blank((unsigned char)*a))
        a++;
    while (aend > a && is_blank((unsigned char)aend[-1]))
        aend--;
    size_t al = (size_t)(aend - a);
    *arg = a;
    *arglen = al;
    for (size_t i = 0; i < sizeof side_macros / sizeof side_macros[0]; i++) {
        if (strlen(side_macros[i].macro) == al && memcmp(a, side_macros[i].macro, al) == 0) {
            snprintf(macro, macrolen, "%s", side_macros[i].macro);
            return side_macros[i].side;
        }
    }
    return 0;
}

FmspErr scan_policy_source(const char *src, size_t len, int *side, char *why, size_t whylen)
{
    ScanInfo info;
    FmspErr e = scan_policy(src, len, &info, why, whylen);
    *side = info.side;
    return e;
}

FmspErr scan_policy(const char *src, size_t len, ScanInfo *info, char *why, size_t whylen)
{
    memset(info, 0, sizeof *info);
    int *side = &info->side;
    Clean sp, c;
    clean_init(&sp, len);
    clean_init(&c, len);
    if (splice_source(src, len, &sp, why, whylen) || clean_source(&sp, &c, why, whylen)) {
        clean_release(&sp);
        clean_release(&c);
        return FMSP_ERR_REFUSED;
    }
    clean_release(&sp);
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
        while (j < eol && is_blank((unsigned char)t[j]))
            j++;
        int directive = 0;
        if (j < eol && t[j] == '#' && !c.literal[j]) {
            directive = 1;
            j += 1;
        } else if (j + 1 < eol && t[j] == '%' && t[j + 1] == ':') {
            directive = 1;
            j += 2;
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
                (t[k] == '%' && k + 3 < eol && t[k + 1] == ':' && t[k + 2] == '%' &&
                 t[k + 3] == ':')) {
                fmsp_errf(why, whylen, "line %d: token pasting (##) is not allowed", c.line[k]);
                e = FMSP_ERR_REFUSED;
                break;
            }
            if (!is_ident_start((unsigned char)t[k]) ||
                (k > 0 && is_ident_char((unsigned char)t[k - 1]) && !c.literal[k - 1]))
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
                while (q < eol && is_blank((unsigned char)t[q]))
                    q++;
                if (q < eol && t[q] == '(') {
                    const char *arg;
                    size_t al;
                    int value = read_side(t, q, eol, &arg, &al, info->side_macro,
                                          sizeof info->side_macro);
                    if (!value) {
                        fmsp_errf(
                            why, whylen,
                            "line %d: FMSP_SIDE takes FMSP_PURSUER or FMSP_EVADER (Car Tag), "
                            "FMSP_ATTACKER or FMSP_DEFENDER (Gandalf), not '%.*s'",
                            c.line[s], (int)(al > 40 ? 40 : al), arg);
                        e = FMSP_ERR_REFUSED;
                        break;
                    }
                    if (sides_found++ == 0) {
                        *side = value;
                        first_side_line = c.line[s];
                    } else {
                        fmsp_errf(
                            why, whylen,
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
                  "policy must declare FMSP_SIDE at file scope: FMSP_SIDE(FMSP_PURSUER) or "
                  "FMSP_SIDE(FMSP_EVADER) in Car Tag, FMSP_SIDE(FMSP_ATTACKER) or "
                  "FMSP_SIDE(FMSP_DEFENDER) in Gandalf");
        e = FMSP_ERR_REFUSED;
    }
    clean_release(&c);
    if (e)
        memset(info, 0, sizeof *info);
    return e;
}
