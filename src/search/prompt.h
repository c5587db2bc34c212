/*
 * prompt.h - the text the foundation model is shown.
 *
 * The system prompt carries the game and the domain's policy API guide
 * (docs/writing-policies.md, docs/writing-gandalf-policies.md, built into
 * the binary). The user prompt depends
 * on the task: write a new policy (open-loop), improve the incumbent given
 * its results (vFMSP), write something interestingly different from a parent
 * and its nearest neighbours (NSSP), or either of the two (QDSP); repair a
 * failed attempt; or judge novelty with a yes/no answer. Every function
 * returns a heap string the caller frees. Sources shown are capped so a
 * prompt stays bounded whatever the archive holds.
 */
#ifndef FMSP_PROMPT_H
#define FMSP_PROMPT_H

#include "../domains/domain.h"
#include "../fm/fm.h"

/* Longest source shown in a prompt (longer ones are cut with a marker). */
#define PROMPT_SOURCE_CAP 12000

typedef struct PromptPolicy {
    const char *name;
    const char *source;
    double quality;       /* NAN when unknown */
    const char *results;  /* e.g. per-opponent scores, may be NULL */
    const char *transcripts; /* samples of its matches (Gandalf), may be NULL */
} PromptPolicy;

typedef enum PromptAlgo { PROMPT_OPENLOOP, PROMPT_VFMSP, PROMPT_NSSP, PROMPT_QDSP } PromptAlgo;

typedef struct PromptSpec {
    PromptAlgo algo;
    FmTask task;              /* FM_TASK_NEW / IMPROVE / NOVEL */
    int side;
    const Domain *domain;
    const MatchConfig *game;  /* the run's game settings, described by the domain; may be NULL */
    const PromptPolicy *parents; /* parents[0] is the one to build on */
    int n_parents;
    const char *opponents;    /* description of what quality is measured against */
} PromptSpec;

char *prompt_system(const Domain *d);
char *prompt_user(const PromptSpec *spec);

/* Follow-up after a failed candidate: reason is the compiler diagnostics,
 * the failed edit, or the runtime fault. */
char *prompt_repair(const char *reason);

/* Yes/no question: is candidate interestingly different from others? */
char *prompt_judge(const Domain *d, int side, const char *candidate, const char *const *others,
                   int n_others);

/* Parses a judge answer: 1 yes, 0 no, -1 unclear. */
int prompt_judge_parse(const char *answer);

/* The built-in copies of docs/writing-policies.md and docs/writing-gandalf-policies.md. */
extern const char fmsp_doc_writing_policies[];
extern const char fmsp_doc_writing_gandalf[];

#endif
