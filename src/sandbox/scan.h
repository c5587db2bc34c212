/*
 * scan.h - checks untrusted policy source before any compiler sees it.
 *
 * The compiler would happily read any file named in an #include (and print
 * parts of it in its diagnostics), read files for `#pragma GCC dependency`,
 * embed files through inline assembly (`.incbin`), and emit constructors
 * that run at load time. The scanner refuses all of these from the text,
 * after removing comments and line splices, with a message that names the
 * line and the construct, so the author (often a model) can fix it. Its
 * lexer must agree with gcc's, so it also refuses what it cannot lex exactly
 * like gcc -std=gnu11 (lone carriage returns, raw strings, trigraphs,
 * backslash-blank-newline, non-ASCII code; see scan.c). It also reads the
 * FMSP_SIDE declaration.
 */
#ifndef FMSP_SCAN_H
#define FMSP_SCAN_H

#include <stddef.h>

#include "../core/err.h"

/* Standard headers a policy may include (NULL-terminated), besides its
 * domain's API header ("fmsp_policy.h", "fmsp_gandalf.h"). */
extern const char *const scan_allowed_headers[];

typedef struct ScanInfo {
    int side;             /* 1 or 2: the side FMSP_SIDE names */
    char side_macro[16];  /* as written: "FMSP_PURSUER", "FMSP_ATTACKER", "1"... (the
                             macro tells the domain; a bare number does not) */
} ScanInfo;

/*
 * Scans len bytes of source. FMSP_OK with *info filled, or FMSP_ERR_REFUSED
 * with the reason in why ("line 3: #include \"/etc/passwd\" is not
 * allowed; ...").
 */
FmspErr scan_policy(const char *src, size_t len, ScanInfo *info, char *why, size_t whylen);

/* scan_policy, for callers that need only the side (1 or 2). */
FmspErr scan_policy_source(const char *src, size_t len, int *side, char *why, size_t whylen);

#endif
