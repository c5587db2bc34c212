/*
 * target.h - the model a Gandalf defender protects, behind one interface:
 * the simulated target (simtarget.h, a rule-based test double, labelled as
 * such in every output) or a chat model through the fm clients (OpenAI-
 * compatible or Anthropic), configured apart from the model that writes
 * policies. Every call is made here, by the engine: policies never reach a
 * model, a key or the network.
 *
 * A target is safe to share between threads (the fm client is).
 */
#ifndef FMSP_GANDALF_TARGET_H
#define FMSP_GANDALF_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/err.h"
#include "settings.h"

typedef struct GandalfTarget GandalfTarget;

/* Opens the target of s. FMSP_ERR_ARG with a message for a bad config
 * (e.g. the key variable is unset). */
FmspErr gandalf_target_open(const GandalfSettings *s, GandalfTarget **out, char *err, size_t errlen);
void gandalf_target_free(GandalfTarget *t);

/* 1 for the simulated target. */
int gandalf_target_simulated(const GandalfTarget *t);

/*
 * The defended model's reply to one single-turn query: system prompt (the
 * password inserted), the attacker's prompt. seed stands in for sampling
 * (the simulated target; a real model samples by itself). Writes at most
 * cap-1 bytes into out. FMSP_ERR_NET (message in err) when a model call
 * failed after its retries.
 */
FmspErr gandalf_target_reply(GandalfTarget *t, const char *system, const char *prompt,
                             const char *password, uint64_t seed, char *out, size_t cap,
                             char *err, size_t errlen);

/* A guard's question (no system prompt; "{password}" already replaced). */
FmspErr gandalf_target_ask(GandalfTarget *t, const char *question, const char *password,
                           uint64_t seed, char *out, size_t cap, char *err, size_t errlen);

/* Model calls made and failed so far. */
void gandalf_target_counts(const GandalfTarget *t, long *calls, long *failed, long *tokens);

#endif
