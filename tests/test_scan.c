/* test_scan.c - the policy source scanner: refusals, false positives, and
 * the places where its lexer must agree with gcc's or refuse. */
#include "harness.h"
#include "fmsp_policy.h"
#include "core/util.h"
#include "sandbox/scan.h"

#include <unistd.h>

static const char head[] = "#include \"fmsp_policy.h\"\nFMSP_SIDE(FMSP_PURSUER);\n";

static FmspErr scan(const char *body, char *why, size_t n, int *side)
{
    char src[4096];
    snprintf(src, sizeof src, "%s%s", head, body);
    return scan_policy_source(src, strlen(src), side, why, n);
}

static void expect_refused(const char *body, const char *reason)
{
    char why[512] = "";
    int side;
    FmspErr e = scan(body, why, sizeof why, &side);
    CHECK_MSG(e == FMSP_ERR_REFUSED, "not refused: %s", body);
    CHECK_MSG(strstr(why, reason) != NULL, "'%s' gave '%s', wanted '%s'", body, why, reason);
}

static void expect_ok(const char *body)
{
    char why[512] = "";
    int side;
    FmspErr e = scan(body, why, sizeof why, &side);
    CHECK_MSG(e == FMSP_OK, "refused '%s': %s", body, why);
    CHECK_INT(side, FMSP_PURSUER);
}

static void test_includes(void)
{
    expect_refused("#include \"/etc/passwd\"\n", "line 3: #include \"/etc/passwd\" is not allowed");
    expect_refused("#include \"/dev/zero\"\n", "/dev/zero");
    expect_refused("#include \"../../../etc/shadow\"\n", "shadow");
    expect_refused("#include <sys/socket.h>\n", "sys/socket.h");
    expect_refused("#include <unistd.h>\n", "unistd.h");
    expect_refused("#define F \"/etc/passwd\"\n#include F\n", "macro includes are not allowed");
    expect_refused("#include_next <math.h>\n", "include_next");
    expect_refused("#import \"x.h\"\n", "import");
    expect_refused("  #  include </etc/passwd>\n", "/etc/passwd");
    expect_refused("#/* sneaky */include \"/etc/passwd\"\n", "/etc/passwd");
    expect_refused("%:include \"/etc/passwd\"\n", "/etc/passwd");
    expect_refused("#inc\\\nlude \"/etc/passwd\"\n", "/etc/passwd");
    expect_refused("#if __has_include(\"/etc/passwd\")\n#endif\n", "__has_include");
    expect_ok("#include <math.h>\n#include <stdlib.h>\n#include <string.h>\n#include <stdio.h>\n");
    expect_ok("#include \"fmsp_policy.h\"\n");
}

static void test_code_constructs(void)
{
    expect_refused("asm(\".incbin \\\"/etc/passwd\\\"\");\n", "inline assembly");
    expect_refused("void f(void) { __asm__ volatile(\"nop\"); }\n", "inline assembly");
    expect_refused("__attribute__((constructor)) static void f(void) {}\n", "constructors");
    expect_refused("__attribute__((destructor)) static void f(void) {}\n", "destructors");
    expect_refused("int x __attribute__((section(\".init_array\")));\n", "section");
    expect_refused("#define CAT(a, b) a##b\n", "token pasting");
    expect_refused("_Pragma(\"GCC dependency \\\"/etc/passwd\\\"\")\n", "_Pragma");
    expect_refused("#pragma GCC dependency \"/etc/passwd\"\n", "#pragma GCC dependency");
    expect_refused("#pragma weird\n", "#pragma weird");
    expect_refused("/* unterminated\n", "unterminated comment");
    expect_ok("#pragma once\n#pragma GCC optimize(\"O3\")\n#pragma GCC unroll 4\n");
}

static void test_no_false_positives(void)
{
    expect_ok("/* asm constructor section #include \"/etc/passwd\" */\n");
    expect_ok("// asm(\"x\"); #include <unistd.h>\n");
    expect_ok("static const char *s = \"asm #include </etc/passwd> ## constructor\";\n");
    expect_ok("static char c = '#';\nstatic int plasma, asmx, my_section_count, constructors_n;\n");
    expect_ok("#define SQ(x) ((x) * (x))\nstatic const char *t = \"#x\";\n");
}

static void test_side(void)
{
    char why[256];
    int side = 0;
    const char *ev = "#include \"fmsp_policy.h\"\nFMSP_SIDE( FMSP_EVADER );\n";
    CHECK(scan_policy_source(ev, strlen(ev), &side, why, sizeof why) == FMSP_OK);
    CHECK_INT(side, FMSP_EVADER);
    const char *none = "#include \"fmsp_policy.h\"\nint x;\n";
    CHECK(scan_policy_source(none, strlen(none), &side, why, sizeof why) == FMSP_ERR_REFUSED);
    CHECK_STR_HAS(why, "must declare FMSP_SIDE");
    const char *two = "FMSP_SIDE(FMSP_EVADER);\nFMSP_SIDE(FMSP_PURSUER);\n";
    CHECK(scan_policy_source(two, strlen(two), &side, why, sizeof why) == FMSP_ERR_REFUSED);
    CHECK_STR_HAS(why, "more than once");
    const char *bad = "FMSP_SIDE(3);\n";
    CHECK(scan_policy_source(bad, strlen(bad), &side, why, sizeof why) == FMSP_ERR_REFUSED);
    CHECK_STR_HAS(why, "FMSP_SIDE takes");
    const char *nul = "FMSP_SIDE(1);\n\0junk";
    CHECK(scan_policy_source(nul, 19, &side, why, sizeof why) == FMSP_ERR_REFUSED);
    CHECK_STR_HAS(why, "NUL");
}

/*
 * Lexer disagreements with gcc. Each source below is refused by the scanner
 * with the given message. Where gcc_sees is set, the test also runs
 * `gcc -E -P -std=gnu11` (the mode policies are compiled in) on the source
 * and checks that gcc's output contains it: HIDDEN is a macro for SMUGGLED,
 * so SMUGGLED in the output means gcc read HIDDEN as code, where the old
 * scanner saw a comment or a string (HIDDEN stands for any refused code,
 * such as asm(...)); "fmsp_smuggled.h: No such file" means gcc ran the
 * #include. A NULL gcc_sees marks a rule that refuses what the scanner
 * cannot lex exactly like gcc, without a known smuggle.
 */
#define HEAD "FMSP_SIDE(FMSP_PURSUER);\n#define HIDDEN SMUGGLED\n"

static const struct {
    const char *src;
    const char *reason;
    const char *gcc_sees;
} smuggles[] = {
    /* gcc ends a line at a lone CR: the comment ends, HIDDEN is code */
    {HEAD "// note\rHIDDEN;\n", "line 3: a carriage return not followed by a newline", "SMUGGLED"},
    /* gcc runs the #include; the old scanner saw one #define line */
    {HEAD "#define A 1\r#include \"fmsp_smuggled.h\"\n", "line 3: a carriage return not followed",
     "fmsp_smuggled.h: No such file"},
    /* gcc splices backslash-blanks-newline: line 4 continues the // comment,
     * so its '/' '*' opens nothing and HIDDEN on line 5 is code */
    {HEAD "// note \\ \n/*\nHIDDEN; // */\n", "line 3: a backslash followed by spaces", "SMUGGLED"},
    {HEAD "// note \\\t\r\n/*\r\nHIDDEN; // */\r\n", "line 3: a backslash followed by spaces",
     "SMUGGLED"},
    {HEAD "// note \\\f\n/*\nHIDDEN; // */\n", "line 3: a backslash followed by spaces",
     "SMUGGLED"},
    /* raw strings: the quote inside ends nothing for gcc, so HIDDEN is code
     * (and the // comment swallows the scanner's "closing" quote) */
    {HEAD "const char *s = R\"( \" )\"; HIDDEN; // \"\n",
     "line 3: raw string literals are not allowed", "SMUGGLED"},
    {HEAD "const char *s = R\"x( \" )x\"; HIDDEN; // \"\n", "line 3: raw string literals",
     "SMUGGLED"},
    {HEAD "const void *s = LR\"( \" )\"; HIDDEN; // \"\n", "line 3: raw string literals",
     "SMUGGLED"},
    {HEAD "const void *s = uR\"( \" )\"; HIDDEN; // \"\n", "line 3: raw string literals",
     "SMUGGLED"},
    {HEAD "const void *s = UR\"( \" )\"; HIDDEN; // \"\n", "line 3: raw string literals",
     "SMUGGLED"},
    {HEAD "const char *s = u8R\"( \" )\"; HIDDEN; // \"\n", "line 3: raw string literals",
     "SMUGGLED"},
    /* a comment opener inside a raw string opens nothing for gcc */
    {HEAD "const char *s = R\"(\" /* )\"; HIDDEN; // */\n", "line 3: raw string literals",
     "SMUGGLED"},
    /* the prefix joined to the quote by a splice is still a raw string */
    {HEAD "const char *s = R\\\n\"( \" )\"; HIDDEN; // \"\n", "line 3: raw string literals",
     "SMUGGLED"},
    /* gcc skips a byte-order mark at the start: line 1 is a directive */
    {"\xef\xbb\xbf#include \"fmsp_smuggled.h\"\n" HEAD,
     "line 1: #include \"fmsp_smuggled.h\" is not allowed", "fmsp_smuggled.h: No such file"},
    /* line markers and #line: gcc takes the file name (and would quote the
     * named file's lines in diagnostics) */
    {HEAD "# 7 \"SMUGGLED\"\nconst char *f = __FILE__;\n", "line 3: line markers",
     "= \"SMUGGLED\""},
    {HEAD "#7 \"SMUGGLED\"\nconst char *f = __FILE__;\n", "line 3: line markers", "= \"SMUGGLED\""},
    {HEAD "%: 7 \"SMUGGLED\"\nconst char *f = __FILE__;\n", "line 3: line markers",
     "= \"SMUGGLED\""},
    {HEAD "#line 7 \"SMUGGLED\"\nconst char *f = __FILE__;\n",
     "line 3: #line directives are not allowed", "= \"SMUGGLED\""},
    {HEAD "/* x */ #line 7 \"SMUGGLED\"\nconst char *f = __FILE__;\n", "line 3: #line directives",
     "= \"SMUGGLED\""},
    /* directives after comments, also one that began on an earlier line */
    {HEAD "/**/ #include \"fmsp_smuggled.h\"\n", "line 3: #include \"fmsp_smuggled.h\"",
     "fmsp_smuggled.h: No such file"},
    {HEAD "/*\n*/ #include \"fmsp_smuggled.h\"\n", "line 4: #include \"fmsp_smuggled.h\"",
     "fmsp_smuggled.h: No such file"},
    {HEAD "%:include \"fmsp_smuggled.h\"\n", "line 3: #include \"fmsp_smuggled.h\"",
     "fmsp_smuggled.h: No such file"},
    /* a comment opener inside a // comment opens nothing */
    {HEAD "// a /* b\nHIDDEN asm(\"nop\"); // */\n", "line 4: 'asm'", "SMUGGLED"},
    /* an unterminated ' runs to the end of its line for gcc, even in #if 0,
     * so the comment opener after it opens nothing */
    {HEAD "#if 0\ndon't /*\n#endif\nHIDDEN; // */\n", "line 4: unterminated character literal",
     "SMUGGLED"},
    {HEAD "const char *s = \"abc;\n", "line 3: unterminated string literal", NULL},
    /* universal character names: gcc reads \u00e9 as part of an identifier
     * (and \u0061 as 'a', with an error) */
    {HEAD "static int x\\u00e9 = 1;\n", "line 3: a backslash outside a string", NULL},
    {HEAD "int \\u0061sm;\n", "line 3: a backslash outside a string", NULL},
    /* non-ASCII outside literals: a UTF-8 identifier; a no-break space,
     * which gcc does not take for a blank */
    {HEAD "static int caf\xc3\xa9 = 1;\n", "line 3: non-ASCII characters", NULL},
    {HEAD "\xc2\xa0#include \"fmsp_smuggled.h\"\n", "line 3: non-ASCII characters", NULL},
    /* trigraphs: gnu11 ignores them, the ISO modes do not (the one for a
     * backslash would splice this comment with the next line) */
    {HEAD "// note ?\?/\nint x;\n", "line 3: the trigraph ?\?/ is not allowed", NULL},
    {HEAD "?\?=include \"fmsp_smuggled.h\"\n", "line 3: the trigraph ?\?= is not allowed", NULL},
    {HEAD "static const char *s = \"what?\?!\";\n", "line 3: the trigraph ?\?! is not allowed",
     NULL},
    /* file-reading forms, also spelled with digraphs */
    {HEAD "#embed \"fmsp_smuggled.h\"\n", "line 3: #embed \"fmsp_smuggled.h\" is not allowed",
     NULL},
    {HEAD "%:pragma GCC dependency \"/etc/passwd\"\n", "line 3: #pragma GCC dependency", NULL},
    {HEAD "#if __has_include_next(<math.h>)\n#endif\n", "line 3: '__has_include_next'", NULL},
    {HEAD "#include <math.h\n", "line 3: #include <math.h", NULL},
};

/* Runs `gcc -E -P -std=gnu11` on src; returns its output (caller frees) or NULL. */
static char *gcc_preprocess(const char *src)
{
    char path[] = "/tmp/fmsp-test-scan-XXXXXX.c";
    int fd = mkstemps(path, 2);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    fputs(src, f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "gcc -E -P -std=gnu11 -w %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    char *out = NULL;
    if (p) {
        size_t cap = 1 << 16, len = 0, got;
        out = calloc(1, cap + 1);
        while ((got = fread(out + len, 1, cap - len, p)) > 0)
            len += got;
        pclose(p);
    }
    unlink(path);
    return out;
}

static void test_lexer_disagreements(void)
{
    for (size_t i = 0; i < sizeof smuggles / sizeof smuggles[0]; i++) {
        char why[512] = "";
        int side = 9;
        FmspErr e =
            scan_policy_source(smuggles[i].src, strlen(smuggles[i].src), &side, why, sizeof why);
        CHECK_MSG(e == FMSP_ERR_REFUSED, "case %zu not refused", i);
        CHECK_INT(side, 0);
        CHECK_MSG(strstr(why, smuggles[i].reason) != NULL, "case %zu gave '%s', wanted '%s'", i,
                  why, smuggles[i].reason);
        if (!smuggles[i].gcc_sees)
            continue;
        char *out = gcc_preprocess(smuggles[i].src);
        CHECK_MSG(out && strstr(out, smuggles[i].gcc_sees),
                  "case %zu: gcc -E did not show '%s': %s", i, smuggles[i].gcc_sees,
                  out ? out : "(gcc did not run)");
        free(out);
    }
}

/* What gcc lexes the same way as the scanner stays allowed. */
static void test_lexer_agreements(void)
{
    expect_ok("// a splice continues this comment \\\nasm(\"nop\");\n");
    expect_ok("// a CRLF splice too \\\r\nasm(\"nop\");\r\n");
    expect_ok("#define TWO \\\r\n  2\r\nstatic int two = TWO;\r\n");
    expect_ok("/* caf\xc3\xa9 */\nstatic const char *s = \"na\xc3\xafve\", c = '\\'';\n");
    expect_ok("static const void *w = L\"wide\", *u = u8\"utf\";\nstatic int q = 1 ? 2 : 3;\n");
    expect_ok("#define R\nstatic const char *s = R \"(not raw)\";\n");
    expect_ok("static const char *s = \"?\?\", *t = \"\\\\\";\n");
    expect_ok("#\n#pragma once\n");
}

/* Every shipped policy passes as written, with Windows line endings, and
 * with a byte-order mark as well. */
static void test_shipped_policies_crlf(void)
{
    static const char *const dirs[] = {"policies/baselines/cartag", "bench/policies"};
    const char *root = getenv("FMSP_ROOT");
    int scanned = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char *dir = xasprintf("%s/%s", root ? root : ".", dirs[d]), err[512] = "";
        char **files = NULL;
        int n = 0;
        CHECK_MSG(util_list_c_files(dir, &files, &n, err, sizeof err) == FMSP_OK, "%s", err);
        for (int i = 0; i < n; i++) {
            char *src = NULL;
            size_t len = 0;
            CHECK_MSG(util_read_file(files[i], 1 << 20, &src, &len, err, sizeof err) == FMSP_OK,
                      "%s", err);
            char *crlf = xmalloc(2 * len + 4);
            size_t cl = 3;
            memcpy(crlf, "\xef\xbb\xbf", 3);
            for (size_t k = 0; k < len; k++) {
                if (src[k] == '\n')
                    crlf[cl++] = '\r';
                crlf[cl++] = src[k];
            }
            char why[512] = "";
            int side_lf = 0, side_crlf = 0, side_bom = 0;
            CHECK_MSG(scan_policy_source(src, len, &side_lf, why, sizeof why) == FMSP_OK, "%s: %s",
                      files[i], why);
            CHECK_MSG(scan_policy_source(crlf + 3, cl - 3, &side_crlf, why, sizeof why) == FMSP_OK,
                      "%s (CRLF): %s", files[i], why);
            CHECK_MSG(scan_policy_source(crlf, cl, &side_bom, why, sizeof why) == FMSP_OK,
                      "%s (BOM, CRLF): %s", files[i], why);
            CHECK(side_lf != 0 && side_crlf == side_lf && side_bom == side_lf);
            scanned++;
            free(crlf);
            free(src);
            free(files[i]);
        }
        free(files);
        free(dir);
    }
    CHECK_MSG(scanned >= 2, "only %d shipped policies found", scanned);
}

int main(void)
{
    RUN(test_includes);
    RUN(test_code_constructs);
    RUN(test_no_false_positives);
    RUN(test_side);
    RUN(test_lexer_disagreements);
    RUN(test_lexer_agreements);
    RUN(test_shipped_policies_crlf);
    return harness_done("test_scan");
}
