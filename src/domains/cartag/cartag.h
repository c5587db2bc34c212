/*
 * cartag.h - Car Tag, the pursuer-evader game (shared/specs/cartag.md).
 *
 * The dynamics themselves live in include/fmsp_policy.h (fmsp_step) so that
 * policies simulate with exactly the code the referee judges with. This
 * module adds what only the host needs: named scenarios, parameter
 * overrides, seeded starts, the episode-seed schedule (common random numbers
 * across pairings) and scores.
 */
#ifndef FMSP_CARTAG_H
#define FMSP_CARTAG_H

#include <stdint.h>

#include "../../core/err.h"
#include "fmsp_policy.h"

/* Names of the built-in scenarios, NULL-terminated: arena, open, open-capture,
 * open-threshold. */
extern const char *const cartag_scenarios[];

/* Default parameters (the `arena` scenario). */
void cartag_params_default(FmspParams *p);

/* Fills p with the named scenario; FMSP_ERR_NOTFOUND for an unknown name. */
FmspErr cartag_scenario(const char *name, FmspParams *p, char *err, size_t errlen);

/*
 * Applies one override "key=value" (keys: vp R ve l dt T H walls) and
 * recomputes max_steps. FMSP_ERR_ARG with a message on a bad key or value.
 */
FmspErr cartag_params_set(FmspParams *p, const char *assignment, char *err, size_t errlen);

/* Checks the parameters are finite, positive and consistent. */
FmspErr cartag_params_validate(const FmspParams *p, char *err, size_t errlen);

/* Seed of episode i of a match with match_seed (same for every pairing). */
uint64_t cartag_episode_seed(uint64_t match_seed, int episode);

/* Seed of a side's policy RNG in an episode. */
uint64_t cartag_policy_seed(uint64_t episode_seed, int side);

/* Start state of an episode from its seed (spec: "Start of an episode"). */
void cartag_reset(const FmspParams *p, uint64_t episode_seed, FmspState *s);

/* 1 if all three control fields are finite. */
int cartag_control_finite(const FmspControl *c);

/* Evader score of a finished episode: t_capture / T, or 1 if never captured. */
double cartag_evader_score(const FmspParams *p, const FmspState *s);

#endif
