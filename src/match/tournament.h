/*
 * tournament.h - cross-play of every pursuer against every evader.
 *
 * A Tournament holds the compiled entries (each a policy source file, its
 * side read from FMSP_SIDE) and a result matrix results[p * n_evaders + e]
 * of MatchResult. All matches use the same MatchConfig and therefore the
 * same episode seeds (common random numbers). Matches run on `jobs` threads;
 * each match runs its own two sandboxed workers.
 */
#ifndef FMSP_TOURNAMENT_H
#define FMSP_TOURNAMENT_H

#include "../sandbox/compile.h"
#include "match.h"

typedef struct TourEntry {
    char *name;            /* file name without .c */
    char *path;            /* source path */
    int side;              /* FMSP_PURSUER or FMSP_EVADER */
    CompileResult compiled;
} TourEntry;

typedef struct Tournament {
    TourEntry *pursuers;
    int n_pursuers;
    TourEntry *evaders;
    int n_evaders;
    MatchConfig cfg;
    MatchResult *results;  /* n_pursuers * n_evaders, filled by tournament_run */
    double seconds;        /* wall time of tournament_run */
} Tournament;

/* Called after each match finishes (from worker threads, serialised). */
typedef void (*TourProgressFn)(void *ctx, int done, int total, const TourEntry *p,
                               const TourEntry *e, const MatchResult *r);

void tournament_init(Tournament *t, const MatchConfig *cfg);
void tournament_release(Tournament *t);

/*
 * Adds a policy file, or every *.c file of a folder (sorted by name), after
 * compiling it. A policy that fails to compile or is refused returns that
 * error with the diagnostics in diag (heap, caller frees) and err naming
 * the file.
 */
FmspErr tournament_add_path(Tournament *t, const CompileConfig *cc, const char *path,
                            char **diag, char *err, size_t errlen);

/* Adds an already compiled object (no source); name and side as given. */
void tournament_add_object(Tournament *t, const char *name, int side, const char *object_path);

/* Plays all pairings on `jobs` threads. */
FmspErr tournament_run(Tournament *t, int jobs, TourProgressFn progress, void *ctx,
                       char *err, size_t errlen);

/* Mean pursuer score of pursuer i over all evaders, and mean evader score of
 * evader j over all pursuers. */
double tournament_pursuer_mean(const Tournament *t, int i);
double tournament_evader_mean(const Tournament *t, int j);
/* Their 95% half-widths over the episodes (the opponents fixed). */
double tournament_pursuer_ci(const Tournament *t, int i);
double tournament_evader_ci(const Tournament *t, int j);

#endif
