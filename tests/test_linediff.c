/*
 * test_linediff.c - the line diff `fmsp show --code` prints: exact output
 * on small cases (a change between unchanged lines, insertions,
 * deletions, folding of long unchanged runs, no trailing newline) and the
 * size cap.
 */
#include <stdlib.h>
#include <string.h>

#include "core/linediff.h"
#include "core/util.h"
#include "harness.h"

static char *diff(const char *a, const char *b, int context, int *changed)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *changed = linediff_print(f, a, b, context);
    fclose(f);
    return buf;
}

static void test_change_between(void)
{
    int n;
    char *d = diff("a\nb\nc\nd\ne\n", "a\nb\nX\nd\nY\n", 5, &n);
    CHECK_INT(n, 4);
    CHECK_MSG(!strcmp(d, " a\n b\n-c\n+X\n d\n-e\n+Y\n"), "%s", d);
    free(d);
    d = diff("a\nb\n", "a\nb\n", 5, &n);
    CHECK_INT(n, 0);
    CHECK_MSG(!strcmp(d, "@@ 2 unchanged lines @@\n"), "%s", d); /* nothing to show around */
    free(d);
}

static void test_insert_delete(void)
{
    int n;
    char *d = diff("a\nc\n", "a\nb\nc\nd", 5, &n);
    CHECK_INT(n, 2);
    CHECK_MSG(!strcmp(d, " a\n+b\n c\n+d\n"), "%s", d);
    free(d);
    d = diff("a\nb\nc\n", "", 5, &n);
    CHECK_INT(n, 3);
    CHECK_MSG(!strcmp(d, "-a\n-b\n-c\n"), "%s", d);
    free(d);
}

static void test_folding(void)
{
    int n;
    char *d = diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\n5\n6\n7\n8\nX\n", 2, &n);
    CHECK_INT(n, 2);
    CHECK_MSG(!strcmp(d, "@@ 6 unchanged lines @@\n 7\n 8\n-9\n+X\n"), "%s", d);
    free(d);
}

static void test_cap(void)
{
    size_t lines = LINEDIFF_MAX_LINES + 1;
    char *big = xmalloc(lines * 2 + 1);
    for (size_t i = 0; i < lines; i++)
        memcpy(big + 2 * i, "x\n", 2);
    big[lines * 2] = 0;
    int n;
    char *d = diff(big, "x\n", 3, &n);
    CHECK_INT(n, -1);
    CHECK_STR_HAS(d, "too long to diff");
    free(d);
    free(big);
}

int main(void)
{
    RUN(test_change_between);
    RUN(test_insert_delete);
    RUN(test_folding);
    RUN(test_cap);
    return harness_done("test_linediff");
}
