/*
 * test_docs.c - the policy-writing guide cannot drift from the code: its
 * complete examples must equal the baseline files they name (without their
 * top comment), and every function the guide lists must exist in the header.
 */
#include "core/util.h"
#include "harness.h"

static char *root_path(const char *rel)
{
    const char *r = getenv("FMSP_ROOT");
    return xasprintf("%s/%s", r ? r : ".", rel);
}

static char *read_rel(const char *rel)
{
    char *p = root_path(rel), *s = NULL, err[256];
    util_read_file(p, 1 << 20, &s, NULL, err, sizeof err);
    free(p);
    return s;
}

/* The code block that follows the first mention of `name` after "## Complete examples". */
static char *doc_block(const char *doc, const char *name)
{
    const char *sec = strstr(doc, "## Complete examples");
    const char *at = sec ? strstr(sec, name) : NULL;
    const char *open = at ? strstr(at, "```c\n") : NULL;
    const char *close = open ? strstr(open + 5, "```") : NULL;
    return close ? xstrndup(open + 5, (size_t)(close - open - 5)) : NULL;
}

static void check_example(const char *doc, const char *file)
{
    char *rel = xasprintf("policies/baselines/cartag/%s", file);
    char *src = read_rel(rel);
    char *block = doc_block(doc, file);
    CHECK_MSG(src && block, "%s: missing", file);
    if (src && block) {
        const char *body = strstr(src, "*/\n");
        body = body ? body + 3 : src;
        while (*body == '\n')
            body++;
        CHECK_MSG(strcmp(body, block) == 0, "docs/writing-policies.md example differs from %s", rel);
    }
    free(rel);
    free(src);
    free(block);
}

static void test_examples_match_baselines(void)
{
    char *doc = read_rel("docs/writing-policies.md");
    CHECK(doc != NULL);
    if (!doc)
        return;
    check_example(doc, "pursuer_pure_pursuit.c");
    check_example(doc, "evader_random_walk.c");
    free(doc);
}

static void test_documented_api_exists(void)
{
    char *policy = read_rel("include/fmsp_policy.h"), *rng = read_rel("include/fmsp_rng.h");
    char *hdr = policy && rng ? xasprintf("%s%s", policy, rng) : NULL;
    free(policy);
    free(rng);
    const char *names[] = {"fmsp_step", "fmsp_done", "fmsp_distance", "fmsp_wrap_angle",
                           "fmsp_clamp", "fmsp_rng_uniform", "fmsp_rng_range", "fmsp_rng_normal",
                           "fmsp_rng_u64", "fmsp_rng_seed", "FMSP_SIDE", "last_vx", "max_steps"};
    for (size_t i = 0; hdr && i < sizeof names / sizeof names[0]; i++)
        CHECK_MSG(strstr(hdr, names[i]) != NULL, "%s is documented but not in the header", names[i]);
    free(hdr);
}

int main(void)
{
    RUN(test_examples_match_baselines);
    RUN(test_documented_api_exists);
    return harness_done("test_docs");
}
