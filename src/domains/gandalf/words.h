/*
 * words.h - the passwords of Gandalf runs.
 *
 * A run draws each attempt's password from this fixed list with the run's
 * seed, so a run is reproducible and a policy-writing model cannot have
 * memorised the answers (the original game's passwords are not in it).
 */
#ifndef FMSP_GANDALF_WORDS_H
#define FMSP_GANDALF_WORDS_H

#include <stdint.h>

/* Uppercase A-Z words of 5 to 10 letters, no duplicates; static storage. */
extern const char *const gandalf_words[];
extern const int gandalf_n_words;

/* The password of attempt `attempt` of a run seeded with `seed`: a pure
 * function of the pair (a splitmix64 hash), pointing into gandalf_words. */
const char *gandalf_password(uint64_t seed, int attempt);

#endif
