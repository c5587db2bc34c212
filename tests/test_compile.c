/* test_compile.c - contained compilation: objects, cache, diagnostics, errors. */
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "fmsp_policy.h"
#include "harness.h"
#include "sandbox/compile.h"
#include "sandbox/elfcheck.h"

static const char good[] =
    "#include \"fmsp_policy.h\"\n"
    "FMSP_SIDE(FMSP_EVADER);\n"
    "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return NULL; }\n"
    "void fmsp_act(void *self, const FmspObs *o, FmspControl *c) { (void)self; c->vx = o->params.ve; }\n"
    "void fmsp_free(void *self) { (void)self; }\n";

static CompileConfig cfg(void)
{
    CompileConfig c;
    compile_config_default(&c);
    return c;
}

static void test_compiles_and_caches(void)
{
    CompileConfig c = cfg();
    CompileResult a, b;
    char err[512] = "";
    CHECK_MSG(compile_policy_source(&c, good, strlen(good), "good.c", &a, err, sizeof err) == FMSP_OK, "%s", err);
    CHECK_INT(a.side, FMSP_EVADER);
    struct stat st;
    CHECK(stat(a.object_path, &st) == 0 && st.st_size > 0);
    CHECK(elfcheck_policy_file(a.object_path, err, sizeof err) == FMSP_OK);
    CHECK(compile_policy_source(&c, good, strlen(good), "good.c", &b, err, sizeof err) == FMSP_OK);
    CHECK(b.cached == 1);
    CHECK(strcmp(a.object_path, b.object_path) == 0);
    CHECK(strcmp(a.hash, b.hash) == 0);
    /* any change to the source changes the key */
    char *changed = xasprintf("%s// comment\n", good);
    CompileResult d;
    CHECK(compile_policy_source(&c, changed, strlen(changed), "good.c", &d, err, sizeof err) == FMSP_OK);
    CHECK(strcmp(d.hash, a.hash) != 0);
    free(changed);
    compile_result_release(&a);
    compile_result_release(&b);
    compile_result_release(&d);
}

static void test_compile_error_diagnostics(void)
{
    CompileConfig c = cfg();
    const char *bad = "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n"
                      "void fmsp_act(void *s, const FmspObs *o, FmspControl *c) { c->u = undefined_thing; }\n";
    CompileResult r;
    char err[512] = "";
    CHECK(compile_policy_source(&c, bad, strlen(bad), "mine.c", &r, err, sizeof err) == FMSP_ERR_COMPILE);
    CHECK_STR_HAS(err, "mine.c");
    CHECK_STR_HAS(r.diagnostics, "mine.c:3:");
    CHECK_STR_HAS(r.diagnostics, "undefined_thing");
    CHECK(r.object_path[0] == 0);
    compile_result_release(&r);
    /* implicit declarations are errors, so a typo is caught here, not at load */
    const char *implicit = "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n"
                           "void fmsp_act(void *s, const FmspObs *o, FmspControl *c) { c->u = sqr(2.0); }\n";
    CHECK(compile_policy_source(&c, implicit, strlen(implicit), "x.c", &r, err, sizeof err) == FMSP_ERR_COMPILE);
    compile_result_release(&r);
}

static void test_missing_entry_point(void)
{
    CompileConfig c = cfg();
    const char *src = "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n"
                      "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return NULL; }\n"
                      "void fmsp_free(void *self) { (void)self; }\n";
    CompileResult r;
    char err[512] = "";
    CHECK(compile_policy_source(&c, src, strlen(src), "half.c", &r, err, sizeof err) == FMSP_ERR_REFUSED);
    CHECK_STR_HAS(err, "does not define fmsp_act");
    compile_result_release(&r);
}

static void test_forbidden_import(void)
{
    CompileConfig c = cfg();
    const char *src = "#include \"fmsp_policy.h\"\n#include <stdlib.h>\nFMSP_SIDE(FMSP_PURSUER);\n"
                      "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return getenv(\"HOME\"); }\n"
                      "void fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; (void)o; (void)c; }\n"
                      "void fmsp_free(void *self) { (void)self; }\n";
    CompileResult r;
    char err[512] = "";
    CHECK(compile_policy_source(&c, src, strlen(src), "env.c", &r, err, sizeof err) == FMSP_ERR_REFUSED);
    CHECK_STR_HAS(err, "getenv");
    compile_result_release(&r);
}

static void test_bad_compiler_and_limits(void)
{
    CompileConfig c = cfg();
    snprintf(c.cc, sizeof c.cc, "/nonexistent/cc");
    CompileResult r;
    char err[512] = "";
    CHECK(compile_policy_source(&c, good, strlen(good), "good.c", &r, err, sizeof err) == FMSP_ERR_IO);
    CHECK_STR_HAS(err, "/nonexistent/cc");
    compile_result_release(&r);
    c = cfg();
    c.source_cap = 100;
    CHECK(compile_policy_source(&c, good, strlen(good), "good.c", &r, err, sizeof err) == FMSP_ERR_TOOBIG);
    CHECK_STR_HAS(err, "limit");
    compile_result_release(&r);
    CHECK(compile_policy_file(&c, "/nonexistent/policy.c", &r, err, sizeof err) == FMSP_ERR_NOTFOUND);
    CHECK_STR_HAS(err, "/nonexistent/policy.c");
    compile_result_release(&r);
}

static void test_elfcheck_rejects_junk(void)
{
    char err[256];
    char junk[128] = "\177ELF garbage";
    CHECK(elfcheck_policy(junk, sizeof junk, err, sizeof err) == FMSP_ERR_REFUSED);
    CHECK(elfcheck_policy(junk, 3, err, sizeof err) == FMSP_ERR_REFUSED);
}

/* With the scanner off, the object check alone refuses load-time code:
 * constructors, destructors, indirect functions (IRELATIVE relocations and
 * IFUNC symbols), each with its own reason. */
static void test_elfcheck_refuses_load_time_code(void)
{
    static const struct {
        const char *code, *reason;
    } cases[] = {
        {"static volatile int v;\n__attribute__((constructor)) static void c(void) { v = 1; }\n",
         "load-time code"},
        {"static volatile int v;\n__attribute__((destructor)) static void d(void) { v = 1; }\n",
         "load-time code"},
        {"static void impl(void) {}\nstatic void *res(void) { return (void *)impl; }\n"
         "static void f(void) __attribute__((ifunc(\"res\")));\nvoid (*volatile fp)(void) = f;\n",
         "load time"},
        {"static void impl(void) {}\nstatic void *res(void) { return (void *)impl; }\n"
         "void g(void) __attribute__((ifunc(\"res\")));\n", "indirect function"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *src = xasprintf("#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n%s"
                              "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
                              "void fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; (void)o; c->u = 1; }\n"
                              "void fmsp_free(void *s) { (void)s; }\n",
                              cases[i].code);
        CompileConfig c = cfg();
        c.unchecked = 1; /* no scanner, no object check: get the object built */
        CompileResult r;
        char err[512] = "";
        CHECK_MSG(compile_policy_source(&c, src, strlen(src), "lt.c", &r, err, sizeof err) == FMSP_OK,
                  "case %zu: %s", i, err);
        if (r.object_path[0]) {
            CHECK_MSG(elfcheck_policy_file(r.object_path, err, sizeof err) == FMSP_ERR_REFUSED, "case %zu", i);
            CHECK_MSG(strstr(err, cases[i].reason) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                      cases[i].reason);
        }
        compile_result_release(&r);
        /* and the whole checked path refuses it too */
        c.unchecked = 0;
        CHECK(compile_policy_source(&c, src, strlen(src), "lt.c", &r, err, sizeof err) == FMSP_ERR_REFUSED);
        compile_result_release(&r);
        free(src);
    }
}

/* A call to a function nobody defines is named at compile time, not left
 * to fail anonymously inside the worker's loader. */
static void test_undefined_symbol_named(void)
{
    const char *src = "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\nextern int helper_missing(int);\n"
                      "void *fmsp_create(const FmspParams *p, FmspRng *r) { (void)p; (void)r; return 0; }\n"
                      "void fmsp_act(void *s, const FmspObs *o, FmspControl *c) { (void)s; (void)o; c->u = helper_missing(1); }\n"
                      "void fmsp_free(void *s) { (void)s; }\n";
    CompileConfig c = cfg();
    CompileResult r;
    char err[512] = "";
    CHECK(compile_policy_source(&c, src, strlen(src), "u.c", &r, err, sizeof err) == FMSP_ERR_REFUSED);
    CHECK_STR_HAS(err, "'helper_missing'");
    CHECK_STR_HAS(r.diagnostics, "undefined symbol");
    compile_result_release(&r);
}

/* Every policy the project ships (baselines and benchmark probes) compiles
 * through the contained compiler and passes the object check. */
static void test_shipped_policies_compile(void)
{
    static const char *const dirs[] = {"policies/baselines/cartag", "bench/policies"};
    const char *root = getenv("FMSP_ROOT");
    CompileConfig c = cfg();
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char *dir = xasprintf("%s/%s", root ? root : ".", dirs[d]), err[512] = "";
        char **files = NULL;
        int n = 0;
        CHECK_MSG(util_list_c_files(dir, &files, &n, err, sizeof err) == FMSP_OK, "%s", err);
        CHECK_MSG(n > 0, "no policies in %s", dir);
        for (int i = 0; i < n; i++) {
            char *src = NULL;
            size_t len = 0;
            CompileResult r;
            CHECK_MSG(util_read_file(files[i], 1 << 20, &src, &len, err, sizeof err) == FMSP_OK, "%s", err);
            if (src)
                CHECK_MSG(compile_policy_source(&c, src, len, files[i], &r, err, sizeof err) == FMSP_OK,
                          "%s: %s", files[i], err);
            free(src);
            free(files[i]);
        }
        free(files);
        free(dir);
    }
}

int main(void)
{
    RUN(test_compiles_and_caches);
    RUN(test_compile_error_diagnostics);
    RUN(test_missing_entry_point);
    RUN(test_forbidden_import);
    RUN(test_bad_compiler_and_limits);
    RUN(test_elfcheck_rejects_junk);
    RUN(test_elfcheck_refuses_load_time_code);
    RUN(test_undefined_symbol_named);
    RUN(test_shipped_policies_compile);
    return harness_done("test_compile");
}
