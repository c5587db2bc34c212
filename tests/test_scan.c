/* test_scan.c - the policy source scanner: refusals and false positives. */
#include "harness.h"
#include "fmsp_policy.h"
#include "sandbox/scan.h"

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

int main(void)
{
    RUN(test_includes);
    RUN(test_code_constructs);
    RUN(test_no_false_positives);
    RUN(test_side);
    return harness_done("test_scan");
}
