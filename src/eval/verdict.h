/*
 * verdict.h - the one text form of a run's verdict (discovered against
 * human-designed, per side), printed from the JSON stored in the run's meta
 * "verdict" by `fmsp run`'s summary and `fmsp show` alike, so the two always
 * print the same numbers. Format of the JSON: docs/report-format.md.
 */
#ifndef FMSP_VERDICT_H
#define FMSP_VERDICT_H

#include <jansson.h>
#include <stdio.h>

/* Prints side `side`'s verdict from the stored array (if present) with
 * `indent`; returns 1 if printed, 0 if the array holds none for that side. */
int verdict_print(FILE *f, const json_t *verdicts, int side, const char *indent);

/* "0.664 +/- 0.030" into buf; "-" for a missing value. */
void verdict_fmt(char *buf, size_t n, const json_t *mean, const json_t *ci);

#endif
