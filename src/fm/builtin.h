/*
 * builtin.h - pieces of the builtin operator (builtin.c) that each
 * domain's part of it (src/domains/<name>/operator.c) uses.
 */
#ifndef FMSP_BUILTIN_H
#define FMSP_BUILTIN_H

#include "fm.h"

/* "new policy", "improvement", "novelty", "repair", "judge". */
const char *builtin_task_label(FmTask t);

#endif
