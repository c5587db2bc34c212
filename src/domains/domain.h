/*
 * domain.h - a game fmsp can search in, as a module.
 *
 * A domain supplies its two sides and their names, the policy API header a
 * policy of either side is written against, the policy-writing guide shown
 * to the model, its human-designed baselines, its referee (how a match is
 * played and scored, through match_play), and its part of the builtin
 * operator. The search, the store, the sandbox and the CLI ask the domain
 * for these and know nothing else about the game. docs/adding-a-domain.md
 * shows how to add one.
 */
#ifndef FMSP_DOMAIN_H
#define FMSP_DOMAIN_H

#include "../fm/fm.h"
#include "../match/match.h"
#include "fmsp_rng.h"

/* A domain's two sides: Car Tag's pursuer and evader, Gandalf's attacker
 * and defender. Side 1's policy is always a match's first. */
enum { DOMAIN_SIDE_1 = 1, DOMAIN_SIDE_2 = 2 };

typedef struct Domain {
    const char *name;           /* "cartag": --domain, the run database, FmHint.domain */
    const char *title;          /* "Car Tag" */
    const char *side_name[3];   /* [1], [2]: "pursuer", "evader" */
    const char *side_macro[3];  /* [1], [2]: "FMSP_PURSUER", "FMSP_EVADER" */
    const char *header;         /* the policy API header: "fmsp_policy.h" */
    const char *guide;          /* the policy-writing guide, built into the binary */
    const char *baselines;      /* folder of its baselines under policies/baselines/ */
    const char *simple_seed[3]; /* the baseline that seeds each side's archive (--seeds simple) */
    const char *side_long[3];   /* [1], [2]: "pursuer (the car)", for prompts */
    const char *persona;        /* the system prompt's opening: who the model is asked to be */
    const char *answer_format;  /* the prompts' "Answer format" section */
    /* One paragraph for prompts on the game's settings in this run. */
    void (*describe)(const MatchConfig *cfg, char *buf, size_t cap);
    /* The referee (called by match_play). */
    FmspErr (*play)(const MatchConfig *cfg, const char *obj1, const char *obj2,
                    MatchStepFn on_step, void *ctx, MatchResult *out, char *err, size_t errlen);
    /* The builtin operator's part: an answer for a generating task, and the
     * yes/no novelty judgement (heap strings; see src/fm/builtin.c). */
    char *(*operator_write)(FmTask task, int side, const char *const *parents, int n_parents,
                            FmspRng *rng);
    char *(*operator_judge)(const char *const *parents, int n_parents);
    /* Optional (NULL for Car Tag): transcripts of matches, for prompts. A
     * collector takes a match's trace lines (MatchConfig.trace); a sample
     * is readable text of at most cap bytes (heap, NULL when empty). */
    void *(*transcript_new)(void);
    MatchTraceFn transcript_collect;
    char *(*transcript_sample)(void *t, const char *opponent, size_t cap);
    void (*transcript_free)(void *t);
    /* With transcripts: the whole trace of the match (heap JSON lines), and
     * whether a run must keep it all (Gandalf: when the target is a real
     * model, every exchange it was paid for is kept in the run database). */
    char *(*transcript_full)(void *t);
    int (*record_every_exchange)(const MatchConfig *cfg);
    /* Optional: behaviour for novelty. A policy of side s plays
     * probe_source[s] (a fixed opponent, compiled like any policy) for a
     * short match with a fixed seed; behaviour_text turns what was
     * collected of that match into text to embed (heap). What is collected:
     * the steps, through match_play's step hook, when probe_new is set
     * (Car Tag: probe_new makes a collector for the match's settings,
     * probe_step is the hook, probe_free frees it; only the probe match
     * uses them, so evaluations keep no transcripts); else the transcript
     * (Gandalf: transcript_new, transcript_collect, transcript_free). */
    const char *probe_source[3];
    char *(*behaviour_text)(void *collected, int side);
    void *(*probe_new)(const MatchConfig *cfg);
    MatchStepFn probe_step;
    void (*probe_free)(void *probe);
    /* Optional: checks the domain's own models before a run starts (a dead
     * endpoint or a wrong key stops the start with the cause). */
    FmspErr (*preflight)(const MatchConfig *cfg, char *err, size_t errlen);
} Domain;

extern const Domain domain_cartag;
extern const Domain domain_gandalf;

/* Every domain, NULL-terminated. */
extern const Domain *const domains[];

/* The domain of that name, or NULL. */
const Domain *domain_find(const char *name);

/* The domain whose header defines a side macro ("FMSP_ATTACKER"), or NULL
 * (a bare number names no domain). */
const Domain *domain_of_side_macro(const char *macro);

/* "cartag, gandalf", for messages. */
const char *domain_names(void);

/* The referees. */
FmspErr cartag_play(const MatchConfig *cfg, const char *pursuer_obj, const char *evader_obj,
                    MatchStepFn on_step, void *ctx, MatchResult *out, char *err, size_t errlen);
FmspErr gandalf_play(const MatchConfig *cfg, const char *attacker_obj, const char *defender_obj,
                     MatchStepFn on_step, void *ctx, MatchResult *out, char *err, size_t errlen);

#endif
