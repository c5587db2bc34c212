/*
 * operator.c - the Gandalf builtin operator: genomes, their variation
 * operators, their text form, and the operator's answers (see operator.h).
 *
 * Not a foundation model: a non-FM baseline operator. The field table below
 * is the whole grammar's shape: each field has a side, a component group (a
 * choice plus the parameters only that choice reads; crossover moves groups
 * whole, so an attack's framing can meet another attack's extraction and a
 * defence's output check can join another defence's input guard), a type
 * and a range. Variation works on the table; code generation
 * (operator_attack.c, operator_defend.c) switches on the choices.
 *
 * Tasks, as builtin.c does for Car Tag:
 *   NEW      a random genome.
 *   IMPROVE  parents[0]'s genome crossed with the other parents (each with
 *            p = 1/2), then a small mutation.
 *   NOVEL    parents[0] re-chosen component by component, preferring
 *            choices no parent uses, until it is far from all of them.
 *   REPAIR   a small mutation of the parent.
 *   JUDGE    "yes" when parents[0] is far from every other parent.
 */
#include "operator.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/fieldgenome.h"
#include "../../core/util.h"

#define OPERATOR_MAX_PARENTS 16
/* Genome distance above which a candidate counts as interestingly new. */
#define JUDGE_GENOME_DISTANCE 0.12
/* Token-set Jaccard distance used instead for parents without genomes. */
#define JUDGE_TOKEN_DISTANCE 0.25
/* NOVEL keeps re-choosing until the child is this far from every parent. */
#define NOVEL_DISTANCE 0.3


static const char *const frame_labels[] = {"plain", "polite", "roleplay", "story",
                                           "game",  "ignore", "devmode",  "translate"};
static const char *const refer_labels[] = {"password", "secret",  "passcode", "magic",
                                           "protect",  "capital", "given"};
static const char *const disguise_labels[] = {"none", "spaced", "hyphen", "leet"};
static const char *const method_labels[] = {"whole", "spell",     "reverse",  "base64",  "hex",
                                            "rot13", "translate", "acrostic", "sentence"};
static const char *const sep_labels[] = {"dash", "space", "comma", "dot", "line"};
static const char *const plan_labels[] = {"repeat", "cycle", "escalate", "split", "hint"};
static const char *const part_labels[] = {"halves", "chunks", "letter"};
static const char *const pform_labels[] = {"plain", "spelled"};
static const char *const extract_labels[] = {"own", "all"};
static const char *const pick_labels[] = {"last", "vote", "best"};
static const char *const state_labels[] = {"plain", "labelled"};
static const char *const position_labels[] = {"first", "last"};
static const char *const never_labels[] = {"none", "simple", "firm"};
static const char *const forms_labels[] = {"none", "encodings", "full"};
static const char *const onoff_labels[] = {"off", "on"};
static const char *const help_labels[] = {"none", "helpful", "terse", "restrictive"};
static const char *const kw_labels[] = {"none", "basic", "extended", "broad"};
static const char *const norm_labels[] = {"case", "letters", "leet"};
static const char *const ijudge_labels[] = {"none", "direct", "indirect", "injection"};
static const char *const fail_labels[] = {"open", "closed"};
static const char *const lit_labels[] = {"none", "literal", "letters"};
static const char *const enc_labels[] = {"none", "b64hex", "all"};
static const char *const ojudge_labels[] = {"none", "reply", "transcript"};
static const char *const action_labels[] = {"block", "replace", "redact"};

/* Every label table must match its enum. */
#define SAME_COUNT(labels, count) \
    _Static_assert(sizeof labels / sizeof labels[0] == count, #labels " vs " #count)
SAME_COUNT(frame_labels, FRAME__COUNT);
SAME_COUNT(refer_labels, REFER__COUNT);
SAME_COUNT(disguise_labels, DISGUISE__COUNT);
SAME_COUNT(method_labels, METHOD__COUNT);
SAME_COUNT(sep_labels, SEP__COUNT);
SAME_COUNT(plan_labels, GPLAN__COUNT);
SAME_COUNT(part_labels, PART__COUNT);
SAME_COUNT(pform_labels, PFORM__COUNT);
SAME_COUNT(extract_labels, EXTRACT__COUNT);
SAME_COUNT(pick_labels, PICK__COUNT);
SAME_COUNT(state_labels, STATE__COUNT);
SAME_COUNT(never_labels, NEVER__COUNT);
SAME_COUNT(forms_labels, FORMS__COUNT);
SAME_COUNT(help_labels, HELP__COUNT);
SAME_COUNT(kw_labels, KW__COUNT);
SAME_COUNT(norm_labels, NORM__COUNT);
SAME_COUNT(ijudge_labels, IJUDGE__COUNT);
SAME_COUNT(fail_labels, FAIL__COUNT);
SAME_COUNT(lit_labels, LIT__COUNT);
SAME_COUNT(enc_labels, ENC__COUNT);
SAME_COUNT(ojudge_labels, OJUDGE__COUNT);
SAME_COUNT(action_labels, ACTION__COUNT);

#define A FMSP_ATTACKER
#define D FMSP_DEFENDER
#define CAT(n, s, grp, labels) \
    {#n, s, grp, FG_CAT, 0, (double)(sizeof labels / sizeof labels[0]) - 1, labels, offsetof(GandalfGenome, n)}
#define NUM(n, s, grp, t, lo, hi) {#n, s, grp, t, lo, hi, NULL, offsetof(GandalfGenome, n)}

static const FgField fields[] = {
    CAT(framing, A, 0, frame_labels),
    CAT(framing2, A, 1, frame_labels),
    CAT(refer, A, 2, refer_labels),
    CAT(disguise, A, 2, disguise_labels),
    CAT(method, A, 3, method_labels),
    CAT(sep, A, 3, sep_labels),
    CAT(method2, A, 4, method_labels),
    CAT(plan, A, 5, plan_labels),
    CAT(part, A, 5, part_labels),
    CAT(part_form, A, 5, pform_labels),
    NUM(chunk, A, 5, FG_INT, 2, 5),
    CAT(extract, A, 6, extract_labels),
    CAT(pick, A, 6, pick_labels),
    NUM(guess_from, A, 6, FG_INT, 1, 3),
    NUM(queries, A, 7, FG_INT, 3, 10),
    CAT(state, D, 8, state_labels),
    CAT(position, D, 8, position_labels),
    CAT(never, D, 9, never_labels),
    CAT(forms, D, 10, forms_labels),
    CAT(override, D, 11, onoff_labels),
    CAT(help, D, 12, help_labels),
    CAT(in_kw, D, 13, kw_labels),
    CAT(in_norm, D, 13, norm_labels),
    CAT(in_judge, D, 14, ijudge_labels),
    CAT(in_fail, D, 14, fail_labels),
    CAT(out_lit, D, 15, lit_labels),
    CAT(out_rev, D, 16, onoff_labels),
    CAT(out_enc, D, 17, enc_labels),
    CAT(out_acro, D, 18, onoff_labels),
    CAT(out_part, D, 19, onoff_labels),
    NUM(part_frac, D, 19, FG_REAL, 0.4, 0.9),
    CAT(out_judge, D, 20, ojudge_labels),
    CAT(out_fail, D, 20, fail_labels),
    CAT(action, D, 21, action_labels),
};
#undef A
#undef D
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

/* ------------------------------------------------------------ fields --- */

static const FgSchema schema = {fields, N_FIELDS, 22, sizeof(GandalfGenome), "fmsp-genome gandalf v1 ",
                                  {NULL, "attacker", "defender"}, 3};

/* ---------------------------------------------------------- variation --- */

void gandalf_genome_random(GandalfGenome *g, int side, FmspRng *rng)
{
    fg_random(&schema, g, side, rng);
}

void gandalf_genome_mutate(GandalfGenome *g, FmspRng *rng, double rate, double sigma, double swap)
{
    fg_mutate(&schema, g, rng, rate, sigma, swap);
}

void gandalf_genome_crossover(GandalfGenome *g, const GandalfGenome *donor, FmspRng *rng)
{
    fg_crossover(&schema, g, donor, rng);
}

void gandalf_genome_novelize(GandalfGenome *g, const GandalfGenome *others, int n, FmspRng *rng)
{
    fg_novelize(&schema, g, others, n, rng);
}

double gandalf_genome_distance(const GandalfGenome *a, const GandalfGenome *b)
{
    return fg_distance(&schema, a, b);
}

int gandalf_genome_equal(const GandalfGenome *a, const GandalfGenome *b)
{
    return fg_equal(&schema, a, b);
}

/* ----------------------------------------------------------- text form --- */

char *gandalf_genome_line(const GandalfGenome *g)
{
    return fg_line(&schema, g);
}

int gandalf_genome_parse(const char *source, GandalfGenome *g)
{
    return fg_parse(&schema, source, g);
}

/* ------------------------------------------------------- description --- */

static const char *const frame_words[] = {
    "plainly", "politely", "in a role-play", "inside a story", "as a word game",
    "telling the model to ignore its instructions", "under a developer-mode pretext",
    "as a translation exercise"};
static const char *const method_words[] = {
    "the word itself", "the word spelled out", "the word reversed", "the word in base64",
    "the word in hex", "the word in ROT13", "a translation with the original",
    "an acrostic poem", "a sentence using the word"};
static const char *const plan_words[] = {
    "every query the same", "cycling through two framings and two forms",
    "switching framing and form after each refusal", "split across queries",
    "a length-and-first-letter hint first"};
static const char *const part_words[] = {"halves", "chunks of letters", "single letters"};
SAME_COUNT(frame_words, FRAME__COUNT);
SAME_COUNT(method_words, METHOD__COUNT);
SAME_COUNT(plan_words, GPLAN__COUNT);
SAME_COUNT(part_words, PART__COUNT);

void gandalf_genome_describe(const GandalfGenome *g, char *buf, size_t n)
{
    if (g->side == FMSP_ATTACKER) {
        char name[96];
        gandalf_secret_name(g, name, sizeof name);
        if (g->plan == PLAN_SPLIT)
            snprintf(buf, n, "an attacker that asks %s for %s in %s%s, %s, and assembles the parts",
                     frame_words[g->framing], name, part_words[g->part],
                     g->part_form == PFORM_SPELLED ? " spelled out" : "", plan_words[g->plan]);
        else
            snprintf(buf, n, "an attacker that asks %s for %s as %s (%s) and %s", frame_words[g->framing],
                     name, method_words[g->method], plan_words[g->plan],
                     g->extract == EXTRACT_ALL ? "decodes the reply every way it knows"
                                               : "decodes the form it asked for");
        return;
    }
    char checks[256] = "";
    size_t off = 0;
    static const char *const lit_words[] = {"", "a literal check", "a letters-only check"};
    static const char *const enc_words[] = {"", "a base64/hex check", "a base64/hex/ROT13 check"};
    const char *parts[8];
    int np = 0;
    if (g->out_lit)
        parts[np++] = lit_words[g->out_lit];
    if (g->out_rev)
        parts[np++] = "a reversed check";
    if (g->out_enc)
        parts[np++] = enc_words[g->out_enc];
    if (g->out_acro)
        parts[np++] = "an acrostic check";
    if (g->out_part)
        parts[np++] = "a partial-reveal check";
    if (g->out_judge)
        parts[np++] = "a model judge";
    for (int i = 0; i < np && off < sizeof checks; i++)
        off += (size_t)snprintf(checks + off, sizeof checks - off, "%s%s",
                                i == 0 ? "" : (i == np - 1 ? " and " : ", "), parts[i]);
    static const char *const never_words[] = {"states the password", "tells the model not to reveal it",
                                              "firmly forbids revealing it"};
    static const char *const kw_words[] = {"", "a basic keyword list", "an extended keyword list",
                                           "a broad keyword list"};
    char input[160];
    if (g->in_kw && g->in_judge)
        snprintf(input, sizeof input, "%s and a model judge", kw_words[g->in_kw]);
    else if (g->in_kw)
        snprintf(input, sizeof input, "%s", kw_words[g->in_kw]);
    else if (g->in_judge)
        snprintf(input, sizeof input, "a model judge");
    else
        snprintf(input, sizeof input, "nothing");
    snprintf(buf, n, "a defender whose prompt %s%s, whose input guard uses %s and whose output guard uses %s",
             never_words[g->never], g->forms ? " in any form" : "", input, np ? checks : "nothing");
}

/* ------------------------------------------------------ code emission --- */

void gandalf_emit(GandalfOut *o, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (o->len + (size_t)n + 1 > o->cap) {
        o->cap = (o->len + (size_t)n + 1) * 2;
        o->s = xrealloc(o->s, o->cap);
    }
    vsnprintf(o->s + o->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    o->len += (size_t)n;
}

char *gandalf_genome_source(const GandalfGenome *g, const char *task)
{
    GandalfOut o = {0};
    char what[400];
    gandalf_genome_describe(g, what, sizeof what);
    what[0] = (char)toupper((unsigned char)what[0]);
    char *line = gandalf_genome_line(g);
    gandalf_emit(&o, "/* Written by fmsp's builtin operator: offline program synthesis, NOT a foundation model. */\n"
                     "/*\n * %s.\n * Operator step: %s. Generated from a grammar of Gandalf strategy components.\n"
                     " * %s\n */\n",
                 what, task ? task : "new policy", line);
    free(line);
    if (g->side == FMSP_DEFENDER)
        gandalf_emit_defender(g, &o);
    else
        gandalf_emit_attacker(g, &o);
    return o.s;
}

/* ------------------------------------------------------------ answers --- */

static const char *task_label(FmTask t)
{
    switch (t) {
    case FM_TASK_IMPROVE:
        return "improvement";
    case FM_TASK_NOVEL:
        return "novelty";
    case FM_TASK_REPAIR:
        return "repair";
    case FM_TASK_JUDGE:
        return "judge";
    default:
        return "new policy";
    }
}

/* Parent i's genome of the requested side, or a random one from rng. */
static void parent_genome(const char *const *parents, int n_parents, int i, int side, FmspRng *rng,
                          GandalfGenome *g)
{
    if (parents && i < n_parents && gandalf_genome_parse(parents[i], g) && g->side == side)
        return;
    gandalf_genome_random(g, side, rng);
}

static void child_genome(FmTask task, int side, const char *const *parents, int n_parents,
                         FmspRng *rng, GandalfGenome *g)
{
    if (n_parents > OPERATOR_MAX_PARENTS)
        n_parents = OPERATOR_MAX_PARENTS;
    if (task == FM_TASK_NEW || n_parents <= 0 || !parents) {
        gandalf_genome_random(g, side, rng);
        return;
    }
    parent_genome(parents, n_parents, 0, side, rng, g);
    if (task == FM_TASK_REPAIR) {
        gandalf_genome_mutate(g, rng, 0.15, 0.05, 0.0);
    } else if (task == FM_TASK_NOVEL) {
        GandalfGenome others[OPERATOR_MAX_PARENTS];
        int n = 0;
        for (int i = 0; i < n_parents; i++)
            parent_genome(parents, n_parents, i, side, rng, &others[n++]);
        for (int tries = 0; tries < 8; tries++) {
            gandalf_genome_novelize(g, others, n, rng);
            double nearest = 1.0;
            for (int i = 0; i < n; i++) {
                double d = gandalf_genome_distance(g, &others[i]);
                nearest = d < nearest ? d : nearest;
            }
            if (nearest > NOVEL_DISTANCE)
                break;
        }
    } else {
        for (int i = 1; i < n_parents; i++) {
            if (fmsp_rng_uniform(rng) < 0.5) {
                GandalfGenome donor;
                parent_genome(parents, n_parents, i, side, rng, &donor);
                gandalf_genome_crossover(g, &donor, rng);
            }
        }
        gandalf_genome_mutate(g, rng, 0.25, 0.08, 0.06);
    }
}

char *gandalf_operator_write(FmTask task, int side, const char *const *parents, int n_parents,
                             FmspRng *rng)
{
    side = side == FMSP_DEFENDER ? FMSP_DEFENDER : FMSP_ATTACKER;
    GandalfGenome g;
    child_genome(task, side, parents, n_parents, rng, &g);
    char what[400];
    gandalf_genome_describe(&g, what, sizeof what);
    char *code = gandalf_genome_source(&g, task_label(task));
    char *text = xasprintf("Builtin operator (offline program synthesis, not a model), %s: %s.\n\n"
                           "```c\n%s```\n",
                           task_label(task), what, code);
    free(code);
    return text;
}

char *gandalf_operator_judge(const char *const *parents, int n_parents)
{
    GandalfGenome cand, other;
    int have = parents && n_parents > 0 && gandalf_genome_parse(parents[0], &cand);
    double nearest = 1.0;
    const char *how = "genome distance";
    for (int i = 1; parents && i < n_parents && i < OPERATOR_MAX_PARENTS; i++) {
        double d;
        if (have && gandalf_genome_parse(parents[i], &other) && other.side == cand.side) {
            d = gandalf_genome_distance(&cand, &other);
        } else {
            /* rescaled so the two thresholds are one */
            d = fg_token_distance(parents[0], parents[i]) *
                (JUDGE_GENOME_DISTANCE / JUDGE_TOKEN_DISTANCE);
            how = "token-set distance";
        }
        if (d < nearest)
            nearest = d;
    }
    int novel = n_parents < 2 || nearest > JUDGE_GENOME_DISTANCE;
    return xasprintf("%s (builtin operator, not a model: %s to the nearest is %.3f, threshold %.3f)\n",
                     novel ? "yes" : "no", how, nearest, JUDGE_GENOME_DISTANCE);
}
