/*
 * harness.h - the tiny test framework every tests/test_*.c uses.
 *
 * A test is a void function; CHECK* record failures without stopping it.
 * RUN(fn) runs one test and counts it passed when no check failed.
 * harness_done() prints "<name>: N passed, N failed" and returns the exit
 * status; tests/run.sh adds the counts up.
 */
#ifndef FMSP_HARNESS_H
#define FMSP_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_passed, harness_failed, harness_current_failed;
static const char *harness_current;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "  FAIL %s (%s:%d): %s\n", harness_current, __FILE__, __LINE__, \
                    #cond);                                                               \
            harness_current_failed = 1;                                                   \
        }                                                                                 \
    } while (0)

#define CHECK_MSG(cond, ...)                                                              \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "  FAIL %s (%s:%d): %s: ", harness_current, __FILE__, __LINE__, \
                    #cond);                                                               \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, "\n");                                                        \
            harness_current_failed = 1;                                                   \
        }                                                                                 \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                             \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%.17g vs %.17g", (double)(a),      \
              (double)(b))

#define CHECK_INT(a, b) CHECK_MSG((long long)(a) == (long long)(b), "%lld vs %lld", \
                                  (long long)(a), (long long)(b))

#define CHECK_STR_HAS(hay, needle)                                                        \
    do {                                                                                  \
        const char *hay_ = (hay);                                                         \
        CHECK_MSG(hay_ && strstr(hay_, (needle)), "'%s' not in '%s'", (needle),             \
                  hay_ ? hay_ : "(null)");                                                \
    } while (0)

#define RUN(fn)                                                                           \
    do {                                                                                  \
        harness_current = #fn;                                                            \
        harness_current_failed = 0;                                                       \
        fn();                                                                             \
        if (harness_current_failed) {                                                     \
            harness_failed++;                                                             \
            fprintf(stderr, "FAILED %s\n", #fn);                                          \
        } else {                                                                          \
            harness_passed++;                                                             \
        }                                                                                 \
    } while (0)

static inline int harness_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}

#endif
