/*
 * transcript.h - readable samples of Gandalf matches, for the prompts that
 * show the model what its parent's attacks made the target answer, and for
 * a defender the attacks that got through.
 *
 * A collector gathers a match's trace lines (MatchConfig.trace); the sample
 * is the first attempt that found the password and the first that did not,
 * each exchange as prompt, verdicts, what the attacker saw and its guess.
 * The passwords themselves are not shown (a leaking reply shows one).
 */
#ifndef FMSP_GANDALF_TRANSCRIPT_H
#define FMSP_GANDALF_TRANSCRIPT_H

#include <stddef.h>

void *gandalf_transcript_new(void);
void gandalf_transcript_collect(void *t, int episode, const char *line);
char *gandalf_transcript_sample(void *t, const char *opponent, size_t cap);
void gandalf_transcript_free(void *t);

/* A copy of the collected trace lines (heap; NULL when none). */
char *gandalf_transcript_lines(void *t);

#endif
