/*
 * cli_crossplay.h - what `fmsp tournament` and `fmsp compare` share: policies
 * gathered from sources (run databases and policy files or folders), the
 * cross-play matrix played in parallel and kept in a results file (JSON
 * lines; a cell is reused only when both policies' compiled hashes, the
 * domain's settings, the seed and the episode count match), interruptible.
 */
#ifndef FMSP_CLI_CROSSPLAY_H
#define FMSP_CLI_CROSSPLAY_H

#include "cli.h"
#include <jansson.h>

#include "eval/ratings.h"
#include "match/tournament.h"

/* What a policy is, besides its entry: where it came from and its code
 * embedding: the built-in code embedding of its source, for every policy
 * alike, whatever its run stored (NULL only without a source). */
typedef struct CrossInfo {
    int source;      /* index of the source it came from */
    int baseline;    /* a human-designed baseline */
    float *embedding;/* owned, dim floats, or NULL */
    int dim;
} CrossInfo;

typedef struct CrossPlay {
    Tournament t;          /* side 1 in t.pursuers, side 2 in t.evaders */
    CrossInfo *info[2];    /* per side, parallel to the entries */
    int n_sources;
    char **source_name;    /* short names (file name without .db) */
    MatchResult *known;    /* n1 * n2 results once played (n == 0: not played) */
    int reused;            /* cells taken from the results file */
} CrossPlay;

void crossplay_init(CrossPlay *x, const MatchConfig *cfg);
void crossplay_release(CrossPlay *x);

/*
 * Adds a source: a run database (".db": its archive; with `all`, every
 * valid candidate and its baselines too) or a policy file or folder.
 * 0, or an exit code after printing why (cmd names the command).
 */
int crossplay_add(CrossPlay *x, const CompileConfig *cc, const char *path, int all,
                  const char *cmd);

/* Plays every cell not in results_path (may be NULL), appending each as it
 * finishes; 0, CLI_EXIT_INTERRUPTED or 1 after printing why. */
int crossplay_play(CrossPlay *x, const char *results_path, int jobs, int quiet, const char *cmd);

/* Side 1's mean scores (n1 * n2) and episode counts, as arrays for src/eval. */
void crossplay_matrix(const CrossPlay *x, double *score, double *games);

/* What `fmsp tournament` and the report show of a played cross-play: the
 * matrix, Elo (maximum likelihood, 95% intervals), the maximum-entropy Nash
 * equilibrium of the meta-game and each source's exploitability as a
 * uniform mixture (src/eval/ratings.h has the definitions). */
typedef struct CrossRatings {
    int n1, n2;
    double *score, *games;       /* n1 x n2, side 1's mean score and episodes */
    double *elo, *elo_ci;        /* n1 + n2: side 1's then side 2's */
    double *p, *q, *rp, *cp;     /* Nash mixtures (n1, n2) and payoffs against them */
    NashResult nash;
    int elo_ok, nash_ok;
    double *exploit[2];          /* per source, per side; NAN when it has none there */
} CrossRatings;

void crossplay_ratings(const CrossPlay *x, CrossRatings *r);
void crossplay_ratings_release(CrossRatings *r);

/* The report's "crossplay" section (docs/report-format.md). */
json_t *crossplay_report_json(const CrossPlay *x, const CrossRatings *r);

#endif
