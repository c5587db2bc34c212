/*
 * operator.h - Car Tag's part of the builtin operator (a non-FM baseline
 * operator; see src/fm/builtin.c and genome.h). Heap strings.
 */
#ifndef FMSP_CARTAG_OPERATOR_H
#define FMSP_CARTAG_OPERATOR_H

#include "../../fm/fm.h"
#include "fmsp_policy.h"

/* A generating task's answer: one sentence, then the source in a ```c block. */
char *cartag_operator_write(FmTask task, int side, const char *const *parents, int n_parents,
                            FmspRng *rng);

/* "yes ..." / "no ..." with the reason: is parents[0] far from the others? */
char *cartag_operator_judge(const char *const *parents, int n_parents);

#endif
