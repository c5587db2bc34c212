/*
 * linediff.h - a line diff of two texts (longest common subsequence of
 * lines), printed as " ", "-" and "+" lines, for `fmsp show --code` (a
 * candidate against its parent). Texts are capped so the quadratic table
 * stays small: past LINEDIFF_MAX_LINES lines the diff says it was not made.
 */
#ifndef FMSP_LINEDIFF_H
#define FMSP_LINEDIFF_H

#include <stdio.h>

#define LINEDIFF_MAX_LINES 4000

/* Writes the diff of a (old) to b (new); returns the number of changed
 * lines (- and +), or -1 when a text is too long to diff. context: lines
 * kept around changes (others are folded into "@@ N unchanged lines"). */
int linediff_print(FILE *out, const char *a, const char *b, int context);

#endif
