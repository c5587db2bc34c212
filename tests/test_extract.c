/* test_extract.c - code from model answers, search/replace edits, embeddings. */
#include "core/util.h"
#include "fm/embed.h"
#include "fm/extract.h"
#include "harness.h"
#include "search/archive.h"

static const char *policy = "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\nvoid fmsp_act(void) {}\n";

static char *get(const char *text, FmspErr *e, char *why, size_t n)
{
    char *code = NULL;
    *e = extract_policy_code(text, &code, why, n);
    return code;
}

static void test_fence_styles(void)
{
    const char *fmts[] = {"Here it is:\n```c\n%s```\nEnjoy.", "```C\n%s```", "```\n%s```",
                          "~~~c\n%s~~~\n", "  ```c\n%s  ```\n", "```cpp\n%s```"};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char *text = xasprintf(fmts[i], policy);
        char why[256];
        FmspErr e;
        char *code = get(text, &e, why, sizeof why);
        CHECK_MSG(e == FMSP_OK && code && strcmp(code, policy) == 0, "format %zu: %s", i,
                  code ? code : why);
        free(code);
        free(text);
    }
}

static void test_choices(void)
{
    char why[256];
    FmspErr e;
    /* an explanation snippet, then the file: the file wins */
    char *two = xasprintf("Idea:\n```c\nu = 1.0;\n```\nCode:\n```c\n%s```\n", policy);
    char *code = get(two, &e, why, sizeof why);
    CHECK(e == FMSP_OK && code && strstr(code, "FMSP_SIDE"));
    free(code);
    free(two);
    /* truncated answer: unterminated last block */
    char *cut = xasprintf("```c\n%s", policy);
    code = get(cut, &e, why, sizeof why);
    CHECK(e == FMSP_OK && code && strstr(code, "fmsp_act"));
    free(code);
    free(cut);
    /* no fence, bare code */
    char *bare = xasprintf("Sure.\n%s", policy);
    code = get(bare, &e, why, sizeof why);
    CHECK(e == FMSP_OK && code && strncmp(code, "#include", 8) == 0);
    free(code);
    free(bare);
    /* no code */
    code = get("I cannot help with that.", &e, why, sizeof why);
    CHECK(e == FMSP_ERR_PARSE && code == NULL);
    CHECK_STR_HAS(why, "no C code");
    code = get("", &e, why, sizeof why);
    CHECK(e == FMSP_ERR_PARSE);
}

static void test_edits(void)
{
    const char *parent = "int a = 1;\nint b = 2;   \nint c = 3;\nint b2 = 2;\n";
    const char *ok = "Change:\n<<<<<<< SEARCH\nint a = 1;\n=======\nint a = 10;\n>>>>>>> REPLACE\n"
                     "<<<<<<< SEARCH\nint c = 3;\n=======\nint c = 30;\nint d = 4;\n>>>>>>> REPLACE\n";
    CHECK(extract_has_edits(ok));
    CHECK(!extract_has_edits(policy));
    char *out = NULL, why[256];
    CHECK(extract_apply_edits(parent, ok, &out, why, sizeof why) == FMSP_OK);
    CHECK(out && strstr(out, "int a = 10;") && strstr(out, "int d = 4;") && strstr(out, "int b = 2;"));
    free(out);
    /* trailing white space differs: still applies */
    const char *ws = "<<<<<<< SEARCH\nint b = 2;\n=======\nint b = 20;\n>>>>>>> REPLACE\n";
    CHECK(extract_apply_edits(parent, ws, &out, why, sizeof why) == FMSP_OK);
    CHECK(out && strstr(out, "int b = 20;"));
    free(out);
    const char *missing = "<<<<<<< SEARCH\nint a = 1;\n=======\nx\n>>>>>>> REPLACE\n"
                          "<<<<<<< SEARCH\nint zzz;\n=======\ny\n>>>>>>> REPLACE\n";
    CHECK(extract_apply_edits(parent, missing, &out, why, sizeof why) == FMSP_ERR_PARSE && !out);
    CHECK_STR_HAS(why, "edit 2: SEARCH text not found");
    const char *ambiguous = "<<<<<<< SEARCH\n= 2;\n=======\n= 5;\n>>>>>>> REPLACE\n";
    CHECK(extract_apply_edits(parent, ambiguous, &out, why, sizeof why) == FMSP_ERR_PARSE);
    CHECK_STR_HAS(why, "matches 2 places");
    const char *broken = "<<<<<<< SEARCH\nint a = 1;\n";
    CHECK(extract_apply_edits(parent, broken, &out, why, sizeof why) == FMSP_ERR_PARSE);
}

static double dist(const char *a, const char *b)
{
    float x[EMBED_DIM], y[EMBED_DIM];
    embed_builtin(a, x, EMBED_DIM);
    embed_builtin(b, y, EMBED_DIM);
    return archive_distance(x, y, EMBED_DIM);
}

static void test_embedding(void)
{
    const char *a = "double f(double x) { return 2.0 * x + atan2(x, 1); }";
    const char *a_fmt = "double f(double x)\n{\n    // twice x\n    return 2.0*x + atan2(x,1);\n}\n";
    const char *a_num = "double f(double x) { return 7.5 * x + atan2(x, 3); }";
    const char *b = "int g(int *v, int n) { int s = 0; for (int i = 0; i < n; i++) s += v[i]; return s; }";
    CHECK_NEAR(dist(a, a_fmt), 0.0, 1e-6);
    CHECK_NEAR(dist(a, a_num), 0.0, 1e-6);
    CHECK(dist(a, b) > 0.5);
    float v[EMBED_DIM];
    embed_builtin(a, v, EMBED_DIM);
    double n = 0;
    for (int i = 0; i < EMBED_DIM; i++)
        n += v[i] * v[i];
    CHECK_NEAR(n, 1.0, 1e-5);
    embed_builtin("", v, EMBED_DIM);
    CHECK(v[0] == 0 && v[EMBED_DIM - 1] == 0);
}

int main(void)
{
    RUN(test_fence_styles);
    RUN(test_choices);
    RUN(test_edits);
    RUN(test_embedding);
    return harness_done("test_extract");
}
