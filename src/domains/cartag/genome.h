/*
 * genome.h - the grammar of the builtin program-synthesis operator.
 *
 * The builtin operator is NOT a foundation model: it is a non-FM baseline
 * operator that writes Car Tag policies from a grammar of strategy
 * components. A Genome is one policy: discrete component choices (how the
 * pursuer picks its aim point, steers, treats walls, plans; how the evader
 * models the threat, flees, dodges, uses the walls, plans) and the
 * continuous parameters of each component.
 *
 * Invariants: every field of the genome's side lies inside its range (the
 * field table in genome.c), reals are quantised to 1e-4 and integers are
 * whole, so the text form "fmsp-genome v1 ..." written into each generated
 * source reads back to an identical genome. Fields of the other side are 0.
 *
 * genome_source() emits only the components a genome uses, each as its own
 * function, so different component choices give visibly different code.
 * Every function here is a pure function of its inputs (and the caller's
 * RNG); heap strings returned are owned by the caller.
 */
#ifndef FMSP_GENOME_H
#define FMSP_GENOME_H

#include <stddef.h>

#include "fmsp_policy.h"

/* Pursuer components. */
enum { AIM_NOW, AIM_LEAD, AIM_INTERCEPT, AIM_HERD, AIM_SIM, AIM__COUNT };
enum { STEER_PROP, STEER_BANG, STEER_PN, STEER_CIRCLE, STEER__COUNT };
enum { PWALL_IGNORE, PWALL_AVOID, PWALL__COUNT };
enum { PLAN_NONE, PLAN_CONST, PLAN_TWO, PLAN__COUNT };
enum { EMODEL_FLEE, EMODEL_DODGE, EMODEL_LAST, EMODEL_WORST, EMODEL__COUNT };
/* Evader components. */
enum { THREAT_CAR, THREAT_AHEAD, THREAT_CENTRE, THREAT__COUNT };
enum { FLIGHT_FLEE, FLIGHT_SLANT, FLIGHT_OPEN, FLIGHT__COUNT };
enum { DODGE_NONE, DODGE_INSIDE, DODGE_CROSS, DODGE__COUNT };
enum { EWALL_IGNORE, EWALL_REPEL, EWALL__COUNT };
enum { EPLAN_NONE, EPLAN_CONST, EPLAN_HOLD, EPLAN__COUNT };
enum { PMODEL_PURE, PMODEL_INTERCEPT, PMODEL_WORST, PMODEL__COUNT };
enum { SCORE_MIN, SCORE_FINAL, SCORE_ROOM, SCORE__COUNT }; /* ROOM: evader only */

typedef struct Genome {
    int side; /* FMSP_PURSUER or FMSP_EVADER */
    /* ---- pursuer ---- */
    int aim;            /* AIM_* */
    double lead;        /* AIM_LEAD: most seconds of extrapolation */
    double t_max;       /* AIM_INTERCEPT/HERD/SIM: longest interception time, s */
    double close;       /* aim straight at the evader within close*R */
    int herd_mode;      /* AIM_HERD: 0 from the centre's side, 1 away from the nearest corner */
    double herd;        /* AIM_HERD: largest offset of the aim point */
    double herd_frac;   /* AIM_HERD: offset per unit of distance */
    int steer;          /* STEER_* */
    double gain;        /* proportional gain (PROP, CIRCLE) */
    double deadband;    /* STEER_BANG: dead band, rad */
    double pn_n;        /* STEER_PN: navigation constant */
    double pn_cone;     /* STEER_PN: full lock beyond this heading error, rad */
    double circle_k;    /* STEER_CIRCLE: "inside" radius, in R */
    int pwall;          /* PWALL_* */
    double pwall_d;     /* PWALL_AVOID: look-ahead distance, in R */
    int plan;           /* PLAN_* */
    int plan_m;         /* number of turn values tried */
    int plan_h;         /* rollout horizon, steps */
    int plan_model;     /* EMODEL_* */
    int plan_score;     /* SCORE_*: tie-break of uncaptured rollouts */
    /* ---- evader ---- */
    int threat;         /* THREAT_* */
    double threat_k;    /* THREAT_AHEAD: seconds of car motion predicted */
    int flight;         /* FLIGHT_* */
    double slant;       /* FLIGHT_SLANT: angle added to the flight, rad */
    double open_r;      /* FLIGHT_OPEN: radius of the candidate points */
    double centre_bias; /* FLIGHT_OPEN: pull towards the centre */
    int dodge;          /* DODGE_* */
    double dodge_d;     /* dodge when closer than this, in R */
    double dodge_cos;   /* ... and the car points within acos(dodge_cos) of us */
    double dodge_ang;   /* dodge direction relative to the car heading, rad */
    int dodge_steps;    /* keep a dodge for this many steps once started */
    int ewall;          /* EWALL_* */
    double wall_w;      /* repulsion strength */
    double wall_r;      /* repulsion range */
    double corner_w;    /* extra pull to the centre near a corner */
    double noise;       /* std of the direction jitter, rad (0.02 or less: off) */
    int eplan;          /* EPLAN_* */
    int eplan_k;        /* directions tried */
    int eplan_h;        /* rollout horizon, steps */
    int eplan_model;    /* PMODEL_* */
    int eplan_score;    /* SCORE_*: min or final distance, or ROOM (min distance
                           plus room to the walls at the end) */
    double room_w;      /* SCORE_ROOM: weight of the room to the walls */
    double eplan_trig;  /* plan only when the car is within this many R */
} Genome;

/* A uniformly random genome of the given side. */
void genome_random(Genome *g, int side, FmspRng *rng);

/*
 * Mutates g in place and guarantees at least one field changes: each number
 * moves with probability rate by a Gaussian of sigma times its range; each
 * component is swapped with probability swap.
 */
void genome_mutate(Genome *g, FmspRng *rng, double rate, double sigma, double swap);

/* Takes each component (choice plus its parameters) from donor with p = 1/2. */
void genome_crossover(Genome *g, const Genome *donor, FmspRng *rng);

/*
 * A large move for novelty search: components are re-chosen, preferring
 * choices none of the n others use; numbers are resampled.
 */
void genome_novelize(Genome *g, const Genome *others, int n, FmspRng *rng);

/* Distance in [0, 1]: component mismatches and normalised parameter gaps.
 * Genomes of different sides are at distance 1. */
double genome_distance(const Genome *a, const Genome *b);

int genome_equal(const Genome *a, const Genome *b);

/* "fmsp-genome v1 pursuer: aim=intercept t_max=3.2000 ..." (heap). */
char *genome_line(const Genome *g);

/* Reads the first genome line of a source; 1 when found and valid. */
int genome_parse(const char *source, Genome *g);

/* One-phrase description, e.g. "a pursuer aiming at the interception point ...". */
void genome_describe(const Genome *g, char *buf, size_t n);

/* Names of the component choices, e.g. "aim=herd steer=pn pwall=ignore plan=two". */
void genome_components(const Genome *g, char *buf, size_t n);

/* The complete policy source (heap); task names the operator step in its
 * header comment ("new policy", "improvement", ...). */
char *genome_source(const Genome *g, const char *task);

#endif
