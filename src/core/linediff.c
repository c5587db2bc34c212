/*
 * linediff.c - LCS line diff (linediff.h): the common prefix and suffix are
 * stripped first, then a dynamic-programming table over the rest.
 */
#include "core/linediff.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct Lines {
    const char **at;
    int *len;
    int n;
} Lines;

static int split(const char *t, Lines *l)
{
    l->n = 0;
    int cap = 64;
    l->at = xmalloc(sizeof *l->at * (size_t)cap);
    l->len = xmalloc(sizeof *l->len * (size_t)cap);
    while (t && *t) {
        if (l->n == LINEDIFF_MAX_LINES)
            return -1;
        if (l->n == cap) {
            cap *= 2;
            l->at = xrealloc(l->at, sizeof *l->at * (size_t)cap);
            l->len = xrealloc(l->len, sizeof *l->len * (size_t)cap);
        }
        const char *nl = strchr(t, '\n');
        int len = nl ? (int)(nl - t) : (int)strlen(t);
        l->at[l->n] = t;
        l->len[l->n++] = len;
        t += len + (nl ? 1 : 0);
    }
    return 0;
}

static int same(const Lines *a, int i, const Lines *b, int j)
{
    return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], (size_t)a->len[i]) == 0;
}

typedef struct Op {
    char kind; /* ' ', '-', '+' */
    const char *text;
    int len;
} Op;

static void print_ops(FILE *out, const Op *ops, int n, int context)
{
    for (int i = 0; i < n;) {
        if (ops[i].kind != ' ') {
            fprintf(out, "%c%.*s\n", ops[i].kind, ops[i].len, ops[i].text);
            i++;
            continue;
        }
        int j = i;
        while (j < n && ops[j].kind == ' ')
            j++;
        /* a run of unchanged lines [i, j): keep `context` at each end that
         * touches a change */
        int keep_head = i > 0 ? context : 0, keep_tail = j < n ? context : 0;
        if (j - i <= keep_head + keep_tail + 1) {
            for (int k = i; k < j; k++)
                fprintf(out, " %.*s\n", ops[k].len, ops[k].text);
        } else {
            for (int k = i; k < i + keep_head; k++)
                fprintf(out, " %.*s\n", ops[k].len, ops[k].text);
            fprintf(out, "@@ %d unchanged lines @@\n", j - i - keep_head - keep_tail);
            for (int k = j - keep_tail; k < j; k++)
                fprintf(out, " %.*s\n", ops[k].len, ops[k].text);
        }
        i = j;
    }
}

int linediff_print(FILE *out, const char *a, const char *b, int context)
{
    Lines la = {0}, lb = {0};
    int rc = 0, ea = split(a, &la), eb = split(b, &lb);
    if (ea || eb) {
        rc = -1;
        fprintf(out, "(too long to diff: more than %d lines)\n", LINEDIFF_MAX_LINES);
    }
    if (rc == 0) {
        int pre = 0;
        while (pre < la.n && pre < lb.n && same(&la, pre, &lb, pre))
            pre++;
        int suf = 0;
        while (suf < la.n - pre && suf < lb.n - pre &&
               same(&la, la.n - 1 - suf, &lb, lb.n - 1 - suf))
            suf++;
        int n = la.n - pre - suf, m = lb.n - pre - suf;
        /* lcs[i][j]: LCS length of a[pre+i..] and b[pre+j..] (middle parts) */
        int *lcs = xcalloc((size_t)(n + 1) * (size_t)(m + 1), sizeof *lcs);
        for (int i = n - 1; i >= 0; i--)
            for (int j = m - 1; j >= 0; j--)
                lcs[i * (m + 1) + j] = same(&la, pre + i, &lb, pre + j)
                                           ? lcs[(i + 1) * (m + 1) + j + 1] + 1
                                           : (lcs[(i + 1) * (m + 1) + j] > lcs[i * (m + 1) + j + 1]
                                                  ? lcs[(i + 1) * (m + 1) + j]
                                                  : lcs[i * (m + 1) + j + 1]);
        Op *ops = xmalloc(sizeof *ops * (size_t)(la.n + lb.n + 1));
        int no = 0;
        for (int k = 0; k < pre; k++)
            ops[no++] = (Op){' ', la.at[k], la.len[k]};
        int i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && same(&la, pre + i, &lb, pre + j)) {
                ops[no++] = (Op){' ', la.at[pre + i], la.len[pre + i]};
                i++;
                j++;
            } else if (i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])) {
                ops[no++] = (Op){'-', la.at[pre + i], la.len[pre + i]};
                rc++;
                i++;
            } else {
                ops[no++] = (Op){'+', lb.at[pre + j], lb.len[pre + j]};
                rc++;
                j++;
            }
        }
        for (int k = la.n - suf; k < la.n; k++)
            ops[no++] = (Op){' ', la.at[k], la.len[k]};
        print_ops(out, ops, no, context);
        free(ops);
        free(lcs);
    }
    free(la.at);
    free(la.len);
    free(lb.at);
    free(lb.len);
    return rc;
}
