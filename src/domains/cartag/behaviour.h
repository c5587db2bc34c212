/*
 * behaviour.h - what a Car Tag policy *does*, for novelty in behaviour
 * space (docs/search.md, "Novelty").
 *
 * Code embeddings measure surface code; two pursuers written differently
 * may steer the same way. A policy's behaviour is read from one short match
 * against a fixed probe opponent (the run's settings, a fixed seed): an
 * evader faces a pure-pursuit car, a pursuer a fleeing evader that steps
 * across the car's nose when it comes close. The match's steps reach a
 * collector through match_play's step hook (never MatchConfig.trace, so
 * evaluations store no Car Tag transcripts), and the collector turns them
 * into a text of coarse tokens in the frame of the game, one line per half
 * second of game time, which is embedded like code.
 */
#ifndef FMSP_CARTAG_BEHAVIOUR_H
#define FMSP_CARTAG_BEHAVIOUR_H

#include "../../match/match.h"

/* The probe opponents' sources: the pursuer evaders face, the evader
 * pursuers face. */
extern const char cartag_probe_source_pursuer[];
extern const char cartag_probe_source_evader[];

/* A collector for a match of cfg's settings (cfg->episodes episodes, its
 * params); heap, freed by cartag_probe_free (NULL accepted). */
void *cartag_probe_new(const MatchConfig *cfg);

/* The step hook (a MatchStepFn) whose ctx is a collector. */
void cartag_probe_step(void *probe, int episode, const FmspState *state, const FmspControl *pursuer,
                       const FmspControl *evader);

void cartag_probe_free(void *probe);

/* The behaviour text of side's policy from the collected steps (heap;
 * never NULL). Deterministic: the same steps give the same text. */
char *cartag_behaviour_text(void *probe, int side);

#endif
