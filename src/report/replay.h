/*
 * replay.h - one traced Car Tag episode as the report's replay object
 * (docs/report-format.md, "Replay"): the game's parameters and one frame
 * [xp, yp, theta, xe, ye] per step, for the page to animate.
 */
#ifndef FMSP_REPORT_REPLAY_H
#define FMSP_REPORT_REPLAY_H

#include <jansson.h>

#include "match/match.h"

/* Plays episode 0 of cfg's seed between two compiled policies (side 1's
 * obj1, side 2's obj2) and returns the replay, or NULL with err set. */
json_t *report_replay(const MatchConfig *cfg, const char *obj1, const char *obj2,
                      const char *name1, const char *name2, char *err, size_t errlen);

#endif
