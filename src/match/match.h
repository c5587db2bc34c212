/*
 * match.h - the referee: plays a pursuer against an evader for N episodes.
 *
 * The game state lives only here. Each side's policy runs in a Runner
 * (normally a sandboxed worker process); episodes are played in lockstep
 * batches so one process round trip serves a whole batch. Episode i always
 * starts from cartag_episode_seed(seed, i), so every pairing of a tournament
 * sees the same starts (common random numbers).
 *
 * Faults: the faulting side scores 0 for the episode and the other side 1
 * (both 0 if both fault in the same step); the reason is kept. When a
 * worker dies serving several episodes at once, they are all suspects
 * (FAULT_LOST): each is replayed from its start alone, in a fresh worker,
 * where a fault can only be its own; so an honest policy's results never
 * depend on its opponent's other episodes, and every fault is charged
 * exactly. A side whose workers die more than MATCH_MAX_DEATHS times in one
 * match, or use more than limits.match_cpu_s of CPU in it, forfeits its
 * remaining episodes instead of forcing more replays or hogging the run.
 */
#ifndef FMSP_MATCH_H
#define FMSP_MATCH_H

#include <stdint.h>

#include "../core/err.h"
#include "../sandbox/runner.h"
#include "fmsp_policy.h"

#define MATCH_MAX_DEATHS 8

typedef struct MatchConfig {
    FmspParams params;
    int episodes;        /* default 20 */
    int first_episode;   /* index of the first episode played (default 0) */
    uint64_t seed;       /* match seed (default 1) */
    int batch;           /* episodes per lockstep batch, 1..RUNNER_MAX_BATCH (default 20) */
    RunnerMode mode;     /* RUNNER_SANDBOX unless the code is trusted */
    RunnerLimits limits;
} MatchConfig;

void match_config_default(MatchConfig *cfg);

/* Asks every match in progress to stop at its next lockstep step (and new
 * ones not to start): match_play then returns FMSP_ERR_INTERRUPTED. Async-
 * signal safe; match_interrupt(0) clears it. */
void match_interrupt(int on);

typedef struct EpisodeResult {
    uint64_t seed;        /* episode seed */
    int steps;            /* steps played */
    int captured;
    double pursuer_score; /* in [0, 1] */
    double evader_score;  /* in [0, 1] */
    Fault pursuer_fault;
    Fault evader_fault;
} EpisodeResult;

typedef struct MatchResult {
    int n;
    EpisodeResult *episodes; /* n entries, owned */
    double pursuer_mean;
    double evader_mean;
    double pursuer_ci95;     /* half-width of the 95% confidence interval */
    int captures;
    int pursuer_faults;      /* episodes the pursuer lost by a fault */
    int evader_faults;
    int replays;             /* episodes replayed after a worker death */
} MatchResult;

/* Called after every step of every episode (for traces); may be NULL. */
typedef void (*MatchStepFn)(void *ctx, int episode, const FmspState *state,
                            const FmspControl *pursuer, const FmspControl *evader);

/*
 * Plays the match between two compiled policy objects. Returns FMSP_OK with
 * *out filled (policy faults are results, not errors), or an engine error
 * (FMSP_ERR_SANDBOX, FMSP_ERR_ARG) with err set.
 */
FmspErr match_play(const MatchConfig *cfg, const char *pursuer_obj, const char *evader_obj,
                   MatchStepFn on_step, void *ctx, MatchResult *out, char *err,
                   size_t errlen);

void match_result_release(MatchResult *res);

/* Mean and 95% CI half-width (Student t) of n values. */
void stats_mean_ci(const double *v, int n, double *mean, double *ci95);


/* One match of a batch played by match_play_many. */
typedef struct MatchJob {
    const char *pursuer_obj;
    const char *evader_obj;
    MatchResult result; /* filled */
    FmspErr err;        /* engine error of this match, FMSP_OK normally */
} MatchJob;

/* Called after each job finishes (serialised, from any thread). */
typedef void (*MatchJobDoneFn)(void *ctx, int job, int done, int total);

/*
 * Plays n matches on up to `threads` threads (each match runs its own
 * workers). Returns the first engine error (message in err); results of the
 * jobs that succeeded are kept either way.
 */
FmspErr match_play_many(const MatchConfig *cfg, MatchJob *jobs, int n, int threads,
                        MatchJobDoneFn done_fn, void *ctx, char *err, size_t errlen);

#endif
