/*
 * simtarget.h - the SIMULATED Gandalf target model: a test double.
 *
 * A small deterministic rule-based responder standing in for a chat model,
 * so that Gandalf runs, tests and baselines work offline. It is not a model
 * and results on it are not claims about any real model; outputs that use
 * it must say so. simtarget.c's top comment specifies its rules, including
 * the holes deliberately left in its simulated judges.
 */
#ifndef FMSP_GANDALF_SIMTARGET_H
#define FMSP_GANDALF_SIMTARGET_H

#include <stddef.h>
#include <stdint.h>

/* Reply of the simulated target to one single-turn chat: the system prompt (the password already
 * inserted by the engine), the user's prompt. password: the run's password (the simulation "knows"
 * a password only when the system prompt contains it, case-insensitively). seed: one per query,
 * stands in for sampling at a non-zero temperature. Writes a NUL-terminated reply (at most cap-1
 * bytes) into out. Pure function of its inputs. */
void simtarget_reply(const char *system, const char *prompt, const char *password, uint64_t seed,
                     char *out, size_t cap);

/* Answer to a question a defender's guard asks (single user turn, no system prompt; the engine
 * has already replaced "{password}" by the password, and passes the password too). When the
 * question asks for a yes/no judgement it acts as the simulated judge of levels 4 and 6. */
void simtarget_ask(const char *question, const char *password, uint64_t seed, char *out, size_t cap);

#endif
