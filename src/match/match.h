/*
 * match.h - a match: side 1's policy against side 2's for N episodes,
 * played by the domain's referee (Car Tag: src/domains/cartag/referee.c,
 * pursuer = side 1, evader = side 2; Gandalf: src/domains/gandalf/
 * referee.c, attacker = side 1, defender = side 2).
 *
 * Every referee keeps the game state to itself and runs each side's policy
 * in a Runner (normally a sandboxed worker process). Episode i of a match
 * with seed S is the same in every pairing (common random numbers). Faults:
 * the faulting side scores 0 for the episode and the other side its full
 * score; the reason is kept. A side whose workers die more than
 * MATCH_MAX_DEATHS times in one match, or use more than
 * limits.match_cpu_s of CPU in it, forfeits its remaining episodes. Car
 * Tag's lockstep batches replay alone every episode a dying worker was
 * serving (FAULT_LOST), so blame is exact.
 */
#ifndef FMSP_MATCH_H
#define FMSP_MATCH_H

#include <stdint.h>

#include "../core/err.h"
#include "../domains/gandalf/settings.h"
#include "../sandbox/runner.h"
#include "fmsp_policy.h"

struct Domain;

/* A text transcript line of an episode (see match_play). */
typedef void (*MatchTraceFn)(void *ctx, int episode, const char *line);

#define MATCH_MAX_DEATHS 8

typedef struct MatchConfig {
    const struct Domain *domain; /* NULL: Car Tag */
    FmspParams params;   /* Car Tag's game parameters */
    GandalfSettings gandalf; /* Gandalf's game and target model */
    int episodes;        /* default 20 */
    int first_episode;   /* index of the first episode played (default 0) */
    uint64_t seed;       /* match seed (default 1) */
    int batch;           /* episodes per lockstep batch, 1..RUNNER_MAX_BATCH (default 20) */
    RunnerMode mode;     /* RUNNER_SANDBOX unless the code is trusted */
    RunnerLimits limits;
    MatchTraceFn trace;  /* text traces (Gandalf transcripts); may be NULL */
    void *trace_ctx;
} MatchConfig;

void match_config_default(MatchConfig *cfg);

/* Asks every match in progress to stop at its next lockstep step (and new
 * ones not to start): match_play then returns FMSP_ERR_INTERRUPTED. Async-
 * signal safe; match_interrupt(0) clears it. */
void match_interrupt(int on);

typedef struct EpisodeResult {
    uint64_t seed;        /* episode seed */
    int steps;            /* steps played (Gandalf: queries sent) */
    int captured;         /* side 1 won outright (Car Tag: capture; Gandalf: the
                             password was guessed) */
    double score[2];      /* side 1's and side 2's, in [0, 1] */
    Fault fault[2];
} EpisodeResult;

typedef struct MatchResult {
    int n;
    EpisodeResult *episodes; /* n entries, owned */
    double mean[2];          /* mean score of side 1, side 2 */
    double ci95[2];          /* half-width of the 95% confidence interval (Student t) */
    int captures;            /* episodes side 1 won outright */
    int faults[2];           /* episodes each side lost by a fault */
    int replays;             /* episodes replayed after a worker death */
    double utility;          /* Gandalf: the defender's utility (benign questions
                                answered correctly), a factor of its score; else 0 */
} MatchResult;

/* Called after every step of every episode (for traces); may be NULL.
 * Car Tag's hook: the state after the step and both controls. Domains
 * with text transcripts report through MatchConfig.trace instead: one JSON
 * object per exchange (Gandalf: prompt, verdicts, reply, guess). */
typedef void (*MatchStepFn)(void *ctx, int episode, const FmspState *state,
                            const FmspControl *pursuer, const FmspControl *evader);

/*
 * Plays the match between side 1's and side 2's compiled policy objects
 * with the domain's referee. Returns FMSP_OK with *out filled (policy
 * faults are results, not errors), or an engine error (FMSP_ERR_SANDBOX,
 * FMSP_ERR_NET for a target model that keeps failing, FMSP_ERR_ARG,
 * FMSP_ERR_INTERRUPTED) with err set.
 */
FmspErr match_play(const MatchConfig *cfg, const char *obj1, const char *obj2,
                   MatchStepFn on_step, void *ctx, MatchResult *out, char *err, size_t errlen);

void match_result_release(MatchResult *res);

/* Fills the means, intervals and counts of out from its episodes. */
void match_summarise(MatchResult *out);

/* 1 once match_interrupt(1) was called (for referees). */
int match_interrupted(void);

/* Mean and 95% CI half-width (Student t) of n values. */
void stats_mean_ci(const double *v, int n, double *mean, double *ci95);

/* The 95% half-width of a mean of n independent means with half-widths
 * ci95[n] (fixed opponents: each pair's standard error in quadrature, over
 * n); NAN for n < 1. One definition for quality, eval and tournament. */
double stats_mean_of_means_ci(const double *ci95, int n);


/* One match of a batch played by match_play_many. */
typedef struct MatchJob {
    const char *obj[2];     /* side 1's, side 2's compiled policy */
    void *trace_ctx;        /* with MatchConfig.trace: this match's context */
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
