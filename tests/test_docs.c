/*
 * test_docs.c - the policy-writing guides cannot drift from the code: their
 * complete examples must equal the baseline files they name (without their
 * top comment), and every name of the API they document must exist in the
 * domain's header (Car Tag: fmsp_policy.h; Gandalf: fmsp_gandalf.h; both
 * with the shared fmsp_rng.h).
 */
#include <ctype.h>

#include "core/util.h"
#include "domains/cartag/cartag.h"
#include "domains/domain.h"
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

/* The example of doc_path (text doc) named file equals the baseline
 * policies/baselines/<domain>/<file> after its top comment. */
static void check_example(const char *doc_path, const char *doc, const char *domain,
                          const char *file)
{
    char *rel = xasprintf("policies/baselines/%s/%s", domain, file);
    char *src = read_rel(rel);
    char *block = doc_block(doc, file);
    CHECK_MSG(src && block, "%s: missing", file);
    if (src && block) {
        const char *body = strstr(src, "*/\n");
        body = body ? body + 3 : src;
        while (*body == '\n')
            body++;
        CHECK_MSG(strcmp(body, block) == 0, "%s example differs from %s", doc_path, rel);
    }
    free(rel);
    free(src);
    free(block);
}

static void test_examples_match_baselines(void)
{
    const char *path = "docs/writing-policies.md";
    char *doc = read_rel(path);
    CHECK(doc != NULL);
    if (!doc)
        return;
    check_example(path, doc, "cartag", "pursuer_pure_pursuit.c");
    check_example(path, doc, "cartag", "evader_random_walk.c");
    free(doc);
}

static void test_gandalf_examples_match_baselines(void)
{
    const char *path = "docs/writing-gandalf-policies.md";
    char *doc = read_rel(path);
    CHECK(doc != NULL);
    if (!doc)
        return;
    check_example(path, doc, "gandalf", "attacker_spell.c");
    check_example(path, doc, "gandalf", "defender_level4.c");
    free(doc);
}

static void test_documented_api_exists(void)
{
    char *policy = read_rel("include/fmsp_policy.h"), *rng = read_rel("include/fmsp_rng.h");
    char *hdr = policy && rng ? xasprintf("%s%s", policy, rng) : NULL;
    free(policy);
    free(rng);
    const char *names[] = {"fmsp_step",    "fmsp_done",        "fmsp_distance",  "fmsp_wrap_angle",
                           "fmsp_clamp",   "fmsp_rng_uniform", "fmsp_rng_range", "fmsp_rng_normal",
                           "fmsp_rng_u64", "fmsp_rng_seed",    "FMSP_SIDE",      "last_vx",
                           "max_steps"};
    for (size_t i = 0; hdr && i < sizeof names / sizeof names[0]; i++)
        CHECK_MSG(strstr(hdr, names[i]) != NULL, "%s is documented but not in the header",
                  names[i]);
    free(hdr);
}

/* 1 when word occurs in text as a whole identifier. */
static int has_identifier(const char *text, const char *word, size_t len)
{
    for (const char *p = text; (p = strstr(p, word)); p++) {
        int before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
        int after = isalnum((unsigned char)p[len]) || p[len] == '_';
        if (!before && !after)
            return 1;
    }
    return 0;
}

/* Every fmsp_* / FMSP_* / Fmsp* identifier the Gandalf guide uses (prose and
 * examples) exists in the header it documents; and the guide keeps naming
 * the parts of the API a policy needs. */
static void test_gandalf_documented_api_exists(void)
{
    char *doc = read_rel("docs/writing-gandalf-policies.md");
    char *gandalf = read_rel("include/fmsp_gandalf.h"), *rng = read_rel("include/fmsp_rng.h");
    char *hdr = gandalf && rng ? xasprintf("%s%s", gandalf, rng) : NULL;
    free(gandalf);
    free(rng);
    CHECK(doc && hdr);
    int checked = 0;
    for (const char *p = doc; doc && hdr && *p; p++) {
        if ((p > doc && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) ||
            (strncmp(p, "fmsp_", 5) && strncmp(p, "FMSP_", 5) && strncmp(p, "Fmsp", 4)))
            continue;
        size_t len = 0;
        while (isalnum((unsigned char)p[len]) || p[len] == '_')
            len++;
        char *name = xstrndup(p, len);
        CHECK_MSG(has_identifier(hdr, name, len),
                  "%s is in docs/writing-gandalf-policies.md but not in fmsp_gandalf.h", name);
        free(name);
        checked++;
        p += len - 1;
    }
    CHECK_MSG(checked > 50, "only %d API names found in the Gandalf guide", checked);
    const char *names[] = {"fmsp_create",         "fmsp_free",
                           "fmsp_attack",         "fmsp_guess",
                           "fmsp_system_prompt",  "fmsp_input_guard",
                           "fmsp_output_guard",   "fmsp_ask_yes",
                           "FMSP_TEXT_MAX",       "FMSP_SYSTEM_MAX",
                           "FMSP_MAX_QUERIES",    "FmspTranscript",
                           "FmspModel",           "FmspRng",
                           "FMSP_ALLOW",          "FMSP_BLOCK",
                           "FMSP_REPLACE",        "FMSP_INPUT_REFUSAL",
                           "FMSP_OUTPUT_REFUSAL", "FMSP_ATTACKER",
                           "FMSP_DEFENDER",       "FMSP_SIDE",
                           "fmsp_rng_seed",       "max_queries",
                           "ask_budget",          "password_min",
                           "password_max",        "{password}"};
    for (size_t i = 0; doc && hdr && i < sizeof names / sizeof names[0]; i++) {
        CHECK_MSG(strstr(hdr, names[i]) != NULL, "%s is documented but not in the header",
                  names[i]);
        CHECK_MSG(strstr(doc, names[i]) != NULL, "the Gandalf guide does not mention %s", names[i]);
    }
    free(doc);
    free(hdr);
}

/* The README names every built-in scenario and every domain. */
static void test_readme_names_scenarios_and_domains(void)
{
    char *readme = read_rel("README.md");
    CHECK(readme != NULL);
    for (int i = 0; readme && cartag_scenarios[i]; i++)
        CHECK_MSG(strstr(readme, cartag_scenarios[i]) != NULL, "README does not name scenario %s",
                  cartag_scenarios[i]);
    for (int i = 0; readme && domains[i]; i++)
        CHECK_MSG(strstr(readme, domains[i]->name) != NULL, "README does not name domain %s",
                  domains[i]->name);
    free(readme);
}

int main(void)
{
    RUN(test_examples_match_baselines);
    RUN(test_documented_api_exists);
    RUN(test_gandalf_examples_match_baselines);
    RUN(test_gandalf_documented_api_exists);
    RUN(test_readme_names_scenarios_and_domains);
    return harness_done("test_docs");
}
