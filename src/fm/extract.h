/*
 * extract.h - turns a model's answer into policy source.
 *
 * Models answer in many shapes: a ```c block, ``` or ~~~ without a language,
 * several blocks (an explanation snippet, then the file), an answer cut off
 * inside its last block, bare code with no fence, or search/replace edits
 * against the parent they were shown. These functions accept all of them
 * and say precisely what was wrong otherwise. Returned strings are heap
 * copies owned by the caller.
 */
#ifndef FMSP_EXTRACT_H
#define FMSP_EXTRACT_H

#include <stddef.h>

#include "../core/err.h"

/*
 * The policy source in text: the fenced block that declares FMSP_SIDE and
 * defines fmsp_act (else the one with either, else the longest); an
 * unterminated final block counts (a truncated answer); with no fence, the
 * text from its first #include if it defines fmsp_act. FMSP_ERR_PARSE with
 * why when there is no code.
 */
FmspErr extract_policy_code(const char *text, char **code, char *why, size_t whylen);

/* 1 if text holds at least one <<<<<<< SEARCH ... >>>>>>> REPLACE block. */
int extract_has_edits(const char *text);

/*
 * Applies every search/replace block of text to parent, all or nothing.
 * Each SEARCH must match exactly one place (exactly, or else ignoring
 * trailing white space on each line). FMSP_ERR_PARSE with why ("edit 2:
 * SEARCH text not found in the parent") on failure.
 */
FmspErr extract_apply_edits(const char *parent, const char *text, char **out, char *why,
                            size_t whylen);

#endif
