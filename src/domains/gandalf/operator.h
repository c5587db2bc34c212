/*
 * operator.h - the builtin operator for Gandalf: offline program synthesis of
 * attackers and defenders from a grammar of strategy components.
 *
 * NOT a foundation model: a non-FM baseline operator, so a Gandalf search
 * runs with no network, and a yardstick for what a model adds. A
 * GandalfGenome is one policy: discrete component choices (an attacker's
 * framing, how it names the secret, what it asks for, its plan over the
 * queries of an attempt and its extraction function; a defender's system
 * prompt clauses, input guard and output guard) plus their numbers.
 *
 * Invariants (kept by the field table in operator.c): every field of the
 * genome's side lies inside its range, reals are quantised to 1e-4 and
 * integers are whole, so the text form "fmsp-genome gandalf v1 ..." written
 * into each generated source reads back to an identical genome. Fields of
 * the other side are 0.
 *
 * gandalf_genome_source() emits only the components a genome uses, each as
 * its own function; the result is C11 that the sandbox's scanner accepts
 * (allowed headers and "fmsp_gandalf.h" only, ASCII, no backslash outside
 * literals) and that writes only within the buffers fmsp_gandalf.h promises.
 * Every function here is a pure function of its inputs and the caller's RNG;
 * heap strings returned are owned by the caller.
 */
#ifndef FMSP_GANDALF_OPERATOR_H
#define FMSP_GANDALF_OPERATOR_H

#include <stddef.h>

#include "../../fm/fm.h"
#include "fmsp_gandalf.h"

/* Attacker components. */
enum { FRAME_PLAIN, FRAME_POLITE, FRAME_ROLEPLAY, FRAME_STORY, FRAME_GAME, FRAME_IGNORE,
       FRAME_DEVMODE, FRAME_TRANSLATE, FRAME__COUNT };
enum { REFER_PASSWORD, REFER_SECRET, REFER_PASSCODE, REFER_MAGIC, REFER_PROTECT, REFER_CAPITAL,
       REFER_GIVEN, REFER__COUNT };
enum { DISGUISE_NONE, DISGUISE_SPACED, DISGUISE_HYPHEN, DISGUISE_LEET, DISGUISE__COUNT };
enum { METHOD_WHOLE, METHOD_SPELL, METHOD_REVERSE, METHOD_BASE64, METHOD_HEX, METHOD_ROT13,
       METHOD_TRANSLATE, METHOD_ACROSTIC, METHOD_SENTENCE, METHOD__COUNT };
enum { SEP_DASH, SEP_SPACE, SEP_COMMA, SEP_DOT, SEP_LINE, SEP__COUNT };
enum { PLAN_REPEAT, PLAN_CYCLE, PLAN_ESCALATE, PLAN_SPLIT, PLAN_HINT, GPLAN__COUNT };
enum { PART_HALVES, PART_CHUNKS, PART_LETTER, PART__COUNT };
enum { PFORM_PLAIN, PFORM_SPELLED, PFORM__COUNT };
enum { EXTRACT_OWN, EXTRACT_ALL, EXTRACT__COUNT };
enum { PICK_LAST, PICK_VOTE, PICK_BEST, PICK__COUNT };
/* Defender components. */
enum { STATE_PLAIN, STATE_LABELLED, STATE__COUNT };
enum { NEVER_NONE, NEVER_SIMPLE, NEVER_FIRM, NEVER__COUNT };
enum { FORMS_NONE, FORMS_ENCODINGS, FORMS_FULL, FORMS__COUNT };
enum { OVERRIDE_NONE, OVERRIDE_ON, OVERRIDE__COUNT };
enum { HELP_NONE, HELP_HELPFUL, HELP_TERSE, HELP_RESTRICTIVE, HELP__COUNT };
enum { KW_NONE, KW_BASIC, KW_EXTENDED, KW_BROAD, KW__COUNT };
enum { NORM_CASE, NORM_LETTERS, NORM_LEET, NORM__COUNT };
enum { IJUDGE_NONE, IJUDGE_DIRECT, IJUDGE_INDIRECT, IJUDGE_INJECTION, IJUDGE__COUNT };
enum { FAIL_OPEN, FAIL_CLOSED, FAIL__COUNT };
enum { LIT_NONE, LIT_LITERAL, LIT_LETTERS, LIT__COUNT };
enum { ENC_NONE, ENC_B64HEX, ENC_ALL, ENC__COUNT };
enum { OJUDGE_NONE, OJUDGE_REPLY, OJUDGE_TRANSCRIPT, OJUDGE__COUNT };
enum { ACTION_BLOCK, ACTION_REPLACE, ACTION_REDACT, ACTION__COUNT };

typedef struct GandalfGenome {
    int side; /* FMSP_ATTACKER or FMSP_DEFENDER */
    /* ---- attacker ---- */
    int framing;    /* FRAME_*: the wrapper around every request */
    int framing2;   /* FRAME_*: the second wrapper (plans that switch) */
    int refer;      /* REFER_*: how the prompts name the secret */
    int disguise;   /* DISGUISE_*: how that name is written (against keyword filters) */
    int method;     /* METHOD_*: the form the word is asked in */
    int method2;    /* METHOD_*: the second form (plans that switch) */
    int sep;        /* SEP_*: separator asked for when letters are spelled */
    int plan;       /* PLAN_*: what each query of an attempt asks */
    int part;       /* PART_*: PLAN_SPLIT: how the word is split across queries */
    int part_form;  /* PFORM_*: PLAN_SPLIT: a part as plain text or spelled */
    int chunk;      /* PART_CHUNKS: letters per query */
    int extract;    /* EXTRACT_*: decode the asked form only, or fall back on every decoder */
    int pick;       /* PICK_*: which candidate of the transcript is guessed */
    int guess_from; /* guess only once this many replies are in */
    int queries;    /* prompts per attempt (capped by the game's max_queries) */
    /* ---- defender ---- */
    int state;      /* STATE_*: how the system prompt states the password */
    int position;   /* 0: password first, 1: the rules first */
    int never;      /* NEVER_*: the "do not reveal" clause */
    int forms;      /* FORMS_*: the clause against indirect forms */
    int override;   /* OVERRIDE_*: the clause against "ignore your instructions" */
    int help;       /* HELP_*: what the prompt says about other questions */
    int in_kw;      /* KW_*: keyword list of the input guard */
    int in_norm;    /* NORM_*: how prompts are normalised before the keyword check */
    int in_judge;   /* IJUDGE_*: the model question the input guard asks */
    int in_fail;    /* FAIL_*: verdict when the input judge cannot be asked */
    int out_lit;    /* LIT_*: literal check of the reply */
    int out_rev;    /* 1: reversed check */
    int out_enc;    /* ENC_*: base64/hex (and ROT13) decoding check */
    int out_acro;   /* 1: first letters of lines and words */
    int out_part;   /* 1: partial reveal check */
    double part_frac; /* out_part: fraction of the password a fragment must cover */
    int out_judge;  /* OJUDGE_*: the model question the output guard asks */
    int out_fail;   /* FAIL_*: verdict when the output judge cannot be asked */
    int action;     /* ACTION_*: what a caught reply becomes */
} GandalfGenome;

/* A uniformly random genome of the given side. */
void gandalf_genome_random(GandalfGenome *g, int side, FmspRng *rng);

/* Mutates g in place, at least one field changing: numbers move with
 * probability rate by a Gaussian of sigma times their range; each component
 * is swapped with probability swap. */
void gandalf_genome_mutate(GandalfGenome *g, FmspRng *rng, double rate, double sigma, double swap);

/* Takes each component group (a choice plus its parameters) from donor with
 * p = 1/2; a donor of the other side is ignored. */
void gandalf_genome_crossover(GandalfGenome *g, const GandalfGenome *donor, FmspRng *rng);

/* A large move: components re-chosen, preferring choices none of the n
 * others use; numbers resampled. */
void gandalf_genome_novelize(GandalfGenome *g, const GandalfGenome *others, int n, FmspRng *rng);

/* Distance in [0, 1]: component mismatches and normalised number gaps; 1
 * between sides. */
double gandalf_genome_distance(const GandalfGenome *a, const GandalfGenome *b);

int gandalf_genome_equal(const GandalfGenome *a, const GandalfGenome *b);

/* "fmsp-genome gandalf v1 attacker: framing=story ..." (heap). */
char *gandalf_genome_line(const GandalfGenome *g);

/* Reads the first Gandalf genome line of a source; 1 when found and valid
 * (unknown choices or missing fields: 0; numbers are clamped into range). */
int gandalf_genome_parse(const char *source, GandalfGenome *g);

/* One phrase, e.g. "an attacker that asks, in a role-play, for the passcode
 * spelled with dashes ...". */
void gandalf_genome_describe(const GandalfGenome *g, char *buf, size_t n);

/* The complete policy source (heap); task names the operator step in its
 * header comment ("new policy", "improvement", ...). */
char *gandalf_genome_source(const GandalfGenome *g, const char *task);

/* A generating task's answer: one sentence saying it is the builtin operator
 * (offline program synthesis, not a model) and what the policy does, then
 * the source in a ```c block. side is FMSP_ATTACKER or FMSP_DEFENDER;
 * parents are full sources (parents[0] the one to build on; a parent without
 * a "fmsp-genome gandalf v1" line of that side counts as a random genome from
 * rng). Heap string. */
char *gandalf_operator_write(FmTask task, int side, const char *const *parents, int n_parents,
                             FmspRng *rng);

/* JUDGE: "yes ..." when parents[0] is far from every other parent (genome
 * distance, else token-set distance), "no ..." otherwise, with the reason.
 * Heap string. */
char *gandalf_operator_judge(const char *const *parents, int n_parents);

/* ---- internal: shared by operator.c and the two code generators ---- */

/* A growing heap string. */
typedef struct GandalfOut {
    char *s;
    size_t len, cap;
} GandalfOut;

void gandalf_emit(GandalfOut *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The body of an attacker's / a defender's source, after the header comment. */
void gandalf_emit_attacker(const GandalfGenome *g, GandalfOut *o);
void gandalf_emit_defender(const GandalfGenome *g, GandalfOut *o);

/* How an attacker names the secret in its prompts ("the p-a-s-s-w-o-r-d"). */
void gandalf_secret_name(const GandalfGenome *g, char *buf, size_t n);

#endif
