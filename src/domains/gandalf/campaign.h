/*
 * campaign.h - the per-level table of a Gandalf campaign (the paper's
 * red-team / blue-team / red-team protocol).
 *
 * For every fixed defence level (the defender baselines): was it broken in
 * the red-team phase, by which attacker, at what success rate; was it
 * patched in the blue-team phase (a defender against which every attacker
 * that broke the level fails), by which defender, with what utility; and did
 * the second red-team phase break that defender again. Every cell is played
 * afresh on held-out passwords (a seed the search never used), so the table
 * is evidence, not the search's own training scores.
 */
#ifndef FMSP_GANDALF_CAMPAIGN_H
#define FMSP_GANDALF_CAMPAIGN_H

#include <stdio.h>

#include "../../match/match.h"

typedef struct CampaignPolicy {
    const char *name;
    const char *object; /* compiled policy */
    int phase;          /* 0 a baseline; 1 red team, 2 blue team, 3 red team again */
} CampaignPolicy;

typedef struct CampaignRow {
    char level[64];
    double level_utility;
    int broken;                 /* a phase-1 attacker extracted the password at least once */
    char broken_by[64];
    double broken_rate, broken_ci;
    int patched;                /* a phase-2 defender stops every attacker that broke it */
    char patched_by[64];        /* the patching defender (else the best try) */
    double patched_utility;
    double patched_rate;        /* best breaker's success against it */
    int level_rebroken;         /* a phase-3 attacker breaks the level itself */
    char level_rebroken_by[64];
    double level_rebroken_rate;
    int rebroken;               /* a phase-3 attacker breaks that defender */
    char rebroken_by[64];
    double rebroken_rate;
} CampaignRow;

/*
 * Plays the cells the table needs (cfg: the run's match settings; episodes
 * per cell and the held-out seed are taken from it) and fills rows (one per
 * phase-0 defender, in order; *n_rows set). Engine errors only.
 */
FmspErr gandalf_campaign_table(const MatchConfig *cfg, const CampaignPolicy *attackers, int na,
                               const CampaignPolicy *defenders, int nd, CampaignRow **rows,
                               int *n_rows, char *err, size_t errlen);

/* Prints the table with its header (what was measured, over how many
 * attempts, the target, and the simulation's label when it applies). */
void gandalf_campaign_print(FILE *out, const MatchConfig *cfg, const CampaignRow *rows, int n);

#endif
