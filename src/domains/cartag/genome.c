/*
 * genome.c - the builtin operator's grammar: genomes, their variation
 * operators, their text form and code generation.
 *
 * Not a foundation model: this is a non-FM baseline operator. The field
 * table below is the whole grammar: each field has a side, a component group
 * (a choice plus the parameters only that choice reads: crossover moves
 * groups whole), a type and a range. Variation works on the table; code
 * generation switches on the choices and writes only the code each chosen
 * component needs, under component-specific function names.
 *
 * Invariants kept by field_set(): every value is inside its range, reals are
 * quantised to 1e-4 and integers are whole, so genome_parse(genome_line(g))
 * gives back g exactly. Generated policies are deterministic (their only
 * randomness is the host RNG), guard every division, and bound their
 * per-step cost: the rollout counts are capped so a step simulates at most
 * a few thousand fmsp_step calls (about a millisecond).
 */
#include "genome.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/fieldgenome.h"
#include "../../core/util.h"


static const char *const aim_labels[] = {"now", "lead", "intercept", "herd", "sim"};
static const char *const herd_labels[] = {"centre", "corner"};
static const char *const steer_labels[] = {"prop", "bang", "pn", "circle"};
static const char *const pwall_labels[] = {"ignore", "avoid"};
static const char *const plan_labels[] = {"none", "const", "two"};
static const char *const emodel_labels[] = {"flee", "dodge", "last", "worst"};
static const char *const score_labels[] = {"min", "final"};
static const char *const escore_labels[] = {"min", "final", "room"};
static const char *const threat_labels[] = {"car", "ahead", "centre"};
static const char *const flight_labels[] = {"flee", "slant", "open"};
static const char *const dodge_labels[] = {"none", "inside", "cross"};
static const char *const ewall_labels[] = {"ignore", "repel"};
static const char *const eplan_labels[] = {"none", "const", "hold"};
static const char *const pmodel_labels[] = {"pure", "intercept", "worst"};

#define P FMSP_PURSUER
#define E FMSP_EVADER
#define CAT(n, s, grp, labels) \
    {#n, s, grp, FG_CAT, 0, (double)(sizeof labels / sizeof labels[0]) - 1, labels, offsetof(Genome, n)}
#define NUM(n, s, grp, t, lo, hi) {#n, s, grp, t, lo, hi, NULL, offsetof(Genome, n)}

static const FgField fields[] = {
    CAT(aim, P, 0, aim_labels),
    NUM(lead, P, 0, FG_REAL, 0.2, 3.0),
    NUM(t_max, P, 0, FG_REAL, 0.5, 6.0),
    NUM(close, P, 0, FG_REAL, 0.0, 3.0),
    CAT(herd_mode, P, 0, herd_labels),
    NUM(herd, P, 0, FG_REAL, 0.5, 4.0),
    NUM(herd_frac, P, 0, FG_REAL, 0.1, 0.6),
    CAT(steer, P, 1, steer_labels),
    NUM(gain, P, 1, FG_REAL, 1.0, 10.0),
    NUM(deadband, P, 1, FG_REAL, 0.01, 0.3),
    NUM(pn_n, P, 1, FG_REAL, 2.0, 6.0),
    NUM(pn_cone, P, 1, FG_REAL, 0.4, 1.6),
    NUM(circle_k, P, 1, FG_REAL, 0.5, 1.1),
    CAT(pwall, P, 2, pwall_labels),
    NUM(pwall_d, P, 2, FG_REAL, 0.5, 4.0),
    CAT(plan, P, 3, plan_labels),
    NUM(plan_m, P, 3, FG_INT, 3, 9),
    NUM(plan_h, P, 3, FG_INT, 10, 50),
    CAT(plan_model, P, 3, emodel_labels),
    CAT(plan_score, P, 3, score_labels),
    CAT(threat, E, 4, threat_labels),
    NUM(threat_k, E, 4, FG_REAL, 0.1, 2.0),
    CAT(flight, E, 5, flight_labels),
    NUM(slant, E, 5, FG_REAL, 0.1, 1.2),
    NUM(open_r, E, 5, FG_REAL, 1.0, 6.0),
    NUM(centre_bias, E, 5, FG_REAL, 0.0, 0.15),
    CAT(dodge, E, 6, dodge_labels),
    NUM(dodge_d, E, 6, FG_REAL, 0.5, 3.0),
    NUM(dodge_cos, E, 6, FG_REAL, 0.3, 0.97),
    NUM(dodge_ang, E, 6, FG_REAL, 1.0, 2.8),
    NUM(dodge_steps, E, 6, FG_INT, 0, 20),
    CAT(ewall, E, 7, ewall_labels),
    NUM(wall_w, E, 7, FG_REAL, 0.1, 1.5),
    NUM(wall_r, E, 7, FG_REAL, 1.0, 4.0),
    NUM(corner_w, E, 7, FG_REAL, 0.0, 1.0),
    NUM(noise, E, 8, FG_REAL, 0.0, 0.4),
    CAT(eplan, E, 9, eplan_labels),
    NUM(eplan_k, E, 9, FG_INT, 8, 32),
    NUM(eplan_h, E, 9, FG_INT, 10, 60),
    CAT(eplan_model, E, 9, pmodel_labels),
    CAT(eplan_score, E, 9, escore_labels),
    NUM(room_w, E, 9, FG_REAL, 0.1, 1.5),
    NUM(eplan_trig, E, 9, FG_REAL, 2.0, 20.0),
};
#undef P
#undef E
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

/* ------------------------------------------------------------ fields --- */

static const FgSchema schema = {fields, N_FIELDS, 10, sizeof(Genome), "fmsp-genome v1 ",
                                  {NULL, "pursuer", "evader"}, 0};

/* ---------------------------------------------------------- variation --- */

void genome_random(Genome *g, int side, FmspRng *rng)
{
    fg_random(&schema, g, side, rng);
}

void genome_mutate(Genome *g, FmspRng *rng, double rate, double sigma, double swap)
{
    fg_mutate(&schema, g, rng, rate, sigma, swap);
}

void genome_crossover(Genome *g, const Genome *donor, FmspRng *rng)
{
    fg_crossover(&schema, g, donor, rng);
}

void genome_novelize(Genome *g, const Genome *others, int n, FmspRng *rng)
{
    fg_novelize(&schema, g, others, n, rng);
}

double genome_distance(const Genome *a, const Genome *b)
{
    return fg_distance(&schema, a, b);
}

int genome_equal(const Genome *a, const Genome *b)
{
    return fg_equal(&schema, a, b);
}

/* ----------------------------------------------------------- text form --- */

char *genome_line(const Genome *g)
{
    return fg_line(&schema, g);
}

int genome_parse(const char *source, Genome *g)
{
    return fg_parse(&schema, source, g);
}

static const char *const aim_words[] = {"at the evader's current position",
                                        "at a linear prediction of the evader",
                                        "at the interception point",
                                        "at a herding point that drives the evader to the walls",
                                        "at an interception found by simulating the evader"};
static const char *const steer_words[] = {"proportional steering", "bang-bang steering",
                                          "proportional navigation",
                                          "turning-circle-aware steering"};
static const char *const threat_words[] = {"the car", "the car's predicted position",
                                           "the car as seen from its turning circle"};
static const char *const flight_words[] = {"flees straight away from", "flees at a slant from",
                                           "seeks open space away from"};

/* Every description table must name every choice of its component. */
#define SAME_COUNT(a, b) _Static_assert(sizeof a / sizeof a[0] == sizeof b / sizeof b[0], #a " vs " #b)
SAME_COUNT(aim_words, aim_labels);
SAME_COUNT(steer_words, steer_labels);
SAME_COUNT(threat_words, threat_labels);
SAME_COUNT(flight_words, flight_labels);

void genome_describe(const Genome *g, char *buf, size_t n)
{
    static const char *const plan_words[] = {"", ", checked by constant-turn rollouts",
                                             ", checked by two-segment rollouts"};
    static const char *const eplan_words[] = {"", ", choosing its heading by lookahead rollouts",
                                              ", choosing a first leg by lookahead rollouts"};
    static const char *const dodge_words[] = {"", ", sidestepping into the car's turning circle",
                                              ", cutting across the car's nose"};
    SAME_COUNT(plan_words, plan_labels);
    SAME_COUNT(eplan_words, eplan_labels);
    SAME_COUNT(dodge_words, dodge_labels);
    if (g->side == FMSP_PURSUER)
        snprintf(buf, n, "a pursuer aiming %s with %s%s%s", aim_words[g->aim],
                 steer_words[g->steer], g->pwall ? ", avoiding walls ahead" : "",
                 plan_words[g->plan]);
    else
        snprintf(buf, n, "an evader that %s %s%s%s%s", flight_words[g->flight],
                 threat_words[g->threat], dodge_words[g->dodge],
                 g->ewall ? ", repelled by walls" : "", eplan_words[g->eplan]);
}

void genome_components(const Genome *g, char *buf, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_FIELDS && off < n; i++) {
        const FgField *f = &fields[i];
        if (f->side == g->side && f->type == FG_CAT)
            off += (size_t)snprintf(buf + off, n - off, "%s%s=%s", off ? " " : "", f->name,
                                    f->labels[(int)fg_get(f, g)]);
    }
}

/* ------------------------------------------------------ code emission --- */

typedef struct Out {
    char *s;
    size_t len, cap;
} Out;

static void emit(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(Out *o, const char *fmt, ...)
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

/* The same wall clamp appears in several aim points. */
static void emit_clamp_target(Out *o)
{
    emit(o, "    if (p->walls) {\n"
            "        *tx = fmsp_clamp(*tx, -p->H, p->H);\n"
            "        *ty = fmsp_clamp(*ty, -p->H, p->H);\n"
            "    }\n");
}

static void emit_intercept_time(Out *o)
{
    emit(o, "/* Earliest t > 0 with |d + v t| = speed t (the pursuit triangle), or -1. */\n"
            "static double intercept_time(double dx, double dy, double vx, double vy, double speed)\n"
            "{\n"
            "    double a = vx * vx + vy * vy - speed * speed;\n"
            "    double b = 2.0 * (dx * vx + dy * vy);\n"
            "    double c = dx * dx + dy * dy;\n"
            "    if (fabs(a) < 1e-12)\n"
            "        return b < -1e-12 ? -c / b : -1.0;\n"
            "    double disc = b * b - 4.0 * a * c;\n"
            "    if (disc < 0)\n"
            "        return -1.0;\n"
            "    double r = sqrt(disc);\n"
            "    double t1 = (-b - r) / (2.0 * a), t2 = (-b + r) / (2.0 * a);\n"
            "    double t = t1 > 0 && (t1 < t2 || t2 <= 0) ? t1 : t2;\n"
            "    return t > 0 ? t : -1.0;\n"
            "}\n\n");
}

static void gen_aim(const Genome *g, Out *o)
{
    if (g->aim == AIM_INTERCEPT || g->aim == AIM_HERD)
        emit_intercept_time(o);
    if (g->aim == AIM_HERD) {
        if (g->herd_mode == 0)
            emit(o, "/* Herding: shift the aim point towards the arena centre, so the car comes\n"
                    " * from the open side and the evader's flight runs it into a wall. */\n"
                    "static void herd_offset(const FmspState *s, const FmspParams *p, double dist,\n"
                    "                        double *tx, double *ty)\n"
                    "{\n"
                    "    double cn = sqrt(s->xe * s->xe + s->ye * s->ye);\n"
                    "    if (!p->walls || cn < 1e-9 || dist < %.4f * p->R)\n"
                    "        return;\n"
                    "    double off = fmsp_clamp(%.4f * dist, 0.0, %.4f);\n"
                    "    *tx -= off * s->xe / cn;\n"
                    "    *ty -= off * s->ye / cn;\n"
                    "}\n\n",
                 g->close + 1.0, g->herd_frac, g->herd);
        else
            emit(o, "/* Herding: stand between the evader and the open space, on the far side\n"
                    " * from its nearest corner, so that fleeing pushes it into that corner. */\n"
                    "static void herd_offset(const FmspState *s, const FmspParams *p, double dist,\n"
                    "                        double *tx, double *ty)\n"
                    "{\n"
                    "    if (!p->walls || dist < %.4f * p->R)\n"
                    "        return;\n"
                    "    double cx = s->xe >= 0 ? p->H : -p->H, cy = s->ye >= 0 ? p->H : -p->H;\n"
                    "    double ax = s->xe - cx, ay = s->ye - cy, an = sqrt(ax * ax + ay * ay);\n"
                    "    if (an < 1e-9)\n"
                    "        return;\n"
                    "    double off = fmsp_clamp(%.4f * dist, 0.0, %.4f);\n"
                    "    *tx += off * ax / an;\n"
                    "    *ty += off * ay / an;\n"
                    "}\n\n",
                 g->close + 1.0, g->herd_frac, g->herd);
    }
    switch (g->aim) {
    case AIM_SIM:
        emit(o, "/* Aim: simulated interception. Steps the evader forward at its last velocity\n"
                " * with the referee's dynamics (so it slides along walls) until the car, going\n"
                " * straight at full speed, could be there first (at most %.2f s); straight\n"
                " * at it within %.2f R. */\n"
                "static void aim_point(const FmspState *s, const FmspParams *p, double *tx, double *ty)\n"
                "{\n"
                "    FmspState future = *s;\n"
                "    *tx = s->xe;\n"
                "    *ty = s->ye;\n"
                "    if (fmsp_distance(s) <= %.4f * p->R)\n"
                "        return;\n"
                "    int n = (int)(%.4f / p->dt);\n"
                "    for (int k = 1; k <= n && k <= 200; k++) {\n"
                "        fmsp_step(p, &future, 0.0, s->last_vx, s->last_vy);\n"
                "        *tx = future.xe;\n"
                "        *ty = future.ye;\n"
                "        if (hypot(*tx - s->xp, *ty - s->yp) <= p->vp * k * p->dt)\n"
                "            break;\n"
                "    }\n"
                "}\n\n",
             g->t_max, g->close, g->close, g->t_max);
        if (g->plan != PLAN_NONE)
            emit(o, "/* Rollouts aim straight at the evader: the simulated aim is too costly there. */\n"
                "static void rollout_aim(const FmspState *s, const FmspParams *p, double *tx, double *ty)\n"
                "{\n"
                "    (void)p;\n"
                "    *tx = s->xe;\n"
                "    *ty = s->ye;\n"
                "}\n\n");
        break;
    case AIM_NOW:
        emit(o, "/* Aim: pure pursuit, straight at where the evader is now. */\n"
                "static void aim_point(const FmspState *s, const FmspParams *p, double *tx, double *ty)\n"
                "{\n"
                "    (void)p;\n"
                "    *tx = s->xe;\n"
                "    *ty = s->ye;\n"
                "}\n\n");
        break;
    case AIM_LEAD:
        emit(o, "/* Aim: lead the evader, extrapolating its last velocity for the time the\n"
                " * car needs to get there (at most %.2f s); straight at it within %.2f R. */\n"
                "static void aim_point(const FmspState *s, const FmspParams *p, double *tx, double *ty)\n"
                "{\n"
                "    double dx = s->xe - s->xp, dy = s->ye - s->yp;\n"
                "    double dist = sqrt(dx * dx + dy * dy);\n"
                "    *tx = s->xe;\n"
                "    *ty = s->ye;\n"
                "    if (dist > %.4f * p->R) {\n"
                "        double lead = fmsp_clamp(dist / p->vp, 0.0, %.4f);\n"
                "        *tx += s->last_vx * lead;\n"
                "        *ty += s->last_vy * lead;\n"
                "    }\n",
             g->lead, g->close, g->close, g->lead);
        emit_clamp_target(o);
        emit(o, "}\n\n");
        break;
    default:
        emit(o, "/* Aim: the interception point, assuming the evader keeps its last velocity\n"
                " * (at most %.2f s ahead)%s; straight at it within %.2f R. */\n"
                "static void aim_point(const FmspState *s, const FmspParams *p, double *tx, double *ty)\n"
                "{\n"
                "    double dx = s->xe - s->xp, dy = s->ye - s->yp;\n"
                "    double dist = sqrt(dx * dx + dy * dy);\n"
                "    *tx = s->xe;\n"
                "    *ty = s->ye;\n"
                "    if (dist <= %.4f * p->R)\n"
                "        return;\n"
                "    double t = intercept_time(dx, dy, s->last_vx, s->last_vy, p->vp);\n"
                "    if (t > 0) {\n"
                "        t = fmsp_clamp(t, 0.0, %.4f);\n"
                "        *tx += s->last_vx * t;\n"
                "        *ty += s->last_vy * t;\n"
                "    }\n",
             g->t_max, g->aim == AIM_HERD ? ", shifted to herd it" : "", g->close, g->close,
             g->t_max);
        if (g->aim == AIM_HERD)
            emit(o, "    herd_offset(s, p, dist, tx, ty);\n");
        emit_clamp_target(o);
        emit(o, "}\n\n");
        break;
    }
}

/* Emits the steering law; returns 1 when it keeps memory (proportional navigation). */
static int gen_steer(const Genome *g, Out *o)
{
    switch (g->steer) {
    case STEER_PROP:
        emit(o, "/* Steering: proportional to the heading error, gain %.2f, saturated. */\n"
                "static double steer_law(const FmspState *s, const FmspParams *p, double tx, double ty)\n"
                "{\n"
                "    (void)p;\n"
                "    double err = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);\n"
                "    return fmsp_clamp(%.4f * err, -1.0, 1.0);\n"
                "}\n\n",
             g->gain, g->gain);
        return 0;
    case STEER_BANG:
        emit(o, "/* Steering: bang-bang, full lock towards the aim point outside a dead band\n"
                " * of %.3f rad, straight inside it. */\n"
                "static double steer_law(const FmspState *s, const FmspParams *p, double tx, double ty)\n"
                "{\n"
                "    (void)p;\n"
                "    double err = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);\n"
                "    if (fabs(err) < %.4f)\n"
                "        return 0.0;\n"
                "    return err > 0 ? 1.0 : -1.0;\n"
                "}\n\n",
             g->deadband, g->deadband);
        return 0;
    case STEER_CIRCLE:
        emit(o, "/* 1 when (tx, ty) lies inside the turning circle on its side: the car cannot\n"
                " * reach it by turning, it must first drive away and loop back. */\n"
                "static int inside_turn_circle(const FmspState *s, const FmspParams *p, double tx, double ty)\n"
                "{\n"
                "    double hx = cos(s->theta), hy = sin(s->theta);\n"
                "    double side = hx * (ty - s->yp) - hy * (tx - s->xp) >= 0 ? 1.0 : -1.0;\n"
                "    double cx = s->xp - hy * side * p->R, cy = s->yp + hx * side * p->R;\n"
                "    return hypot(tx - cx, ty - cy) < %.4f * p->R;\n"
                "}\n\n"
                "/* Steering: straighten out while the target is inside the turning circle\n"
                " * (to open the distance), otherwise proportional with gain %.2f. */\n"
                "static double steer_law(const FmspState *s, const FmspParams *p, double tx, double ty)\n"
                "{\n"
                "    if (inside_turn_circle(s, p, tx, ty))\n"
                "        return 0.0;\n"
                "    double err = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);\n"
                "    return fmsp_clamp(%.4f * err, -1.0, 1.0);\n"
                "}\n\n",
             g->circle_k, g->gain, g->gain);
        return 0;
    default:
        emit(o, "typedef struct Navigator {\n"
                "    double last_los; /* line-of-sight angle at the previous step */\n"
                "    int have_los;\n"
                "} Navigator;\n\n"
                "/* Steering: proportional navigation. Turns at N = %.2f times the rotation\n"
                " * rate of the line of sight, which holds the bearing constant (a collision\n"
                " * course); beyond %.2f rad of heading error it turns at full lock first. */\n"
                "static double pn_command(Navigator *nav, const FmspState *s, const FmspParams *p,\n"
                "                         double tx, double ty)\n"
                "{\n"
                "    double los = atan2(ty - s->yp, tx - s->xp);\n"
                "    double err = fmsp_wrap_angle(los - s->theta);\n"
                "    double rate = 0.0;\n"
                "    if (nav && nav->have_los)\n"
                "        rate = fmsp_wrap_angle(los - nav->last_los) / p->dt;\n"
                "    if (nav) {\n"
                "        nav->last_los = los;\n"
                "        nav->have_los = 1;\n"
                "    }\n"
                "    if (fabs(err) > %.4f)\n"
                "        return err > 0 ? 1.0 : -1.0;\n"
                "    return fmsp_clamp(%.4f * rate * p->R / p->vp + 1.5 * err, -1.0, 1.0);\n"
                "}\n\n",
             g->pn_n, g->pn_cone, g->pn_cone, g->pn_n);
        return 1;
    }
}

static void gen_pwall(const Genome *g, Out *o)
{
    if (g->pwall != PWALL_AVOID)
        return;
    emit(o, "/* Walls: when the point %.2f R ahead is outside the arena and the evader is\n"
            " * not closer than that, turn towards the arena centre instead. */\n"
            "static double avoid_walls(const FmspState *s, const FmspParams *p, double u)\n"
            "{\n"
            "    if (!p->walls)\n"
            "        return u;\n"
            "    double reach = %.4f * p->R, margin = p->H - 0.25 * p->R;\n"
            "    double ax = s->xp + reach * cos(s->theta), ay = s->yp + reach * sin(s->theta);\n"
            "    if ((fabs(ax) < margin && fabs(ay) < margin) || fmsp_distance(s) < reach)\n"
            "        return u;\n"
            "    double to_centre = fmsp_wrap_angle(atan2(-s->yp, -s->xp) - s->theta);\n"
            "    return to_centre >= 0 ? 1.0 : -1.0;\n"
            "}\n\n",
         g->pwall_d, g->pwall_d);
}

static void gen_pplan(const Genome *g, Out *o, int memory_steer)
{
    if (g->plan == PLAN_NONE)
        return;
    int h = g->plan_h;
    emit(o, "typedef void (*EvaderModel)(const FmspParams *p, const FmspState *s, double *vx, double *vy);\n\n");
    int use_flee = g->plan_model == EMODEL_FLEE || g->plan_model == EMODEL_DODGE ||
                   g->plan_model == EMODEL_WORST;
    if (use_flee)
        emit(o, "/* Evader model: flees straight away from the car at full speed. */\n"
                "static void model_flee(const FmspParams *p, const FmspState *s, double *vx, double *vy)\n"
                "{\n"
                "    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;\n"
                "    *vx = p->ve * dx / d;\n"
                "    *vy = p->ve * dy / d;\n"
                "}\n\n");
    if (g->plan_model == EMODEL_DODGE || g->plan_model == EMODEL_WORST)
        emit(o, "/* Evader model: the matador; flees, but steps perpendicular to the car's\n"
                " * heading when the car is close and pointing at it. */\n"
                "static void model_dodge(const FmspParams *p, const FmspState *s, double *vx, double *vy)\n"
                "{\n"
                "    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;\n"
                "    double hx = cos(s->theta), hy = sin(s->theta);\n"
                "    if (d < 1.6 * p->R && (dx * hx + dy * hy) / d > 0.7) {\n"
                "        double side = hx * dy - hy * dx >= 0 ? 1.0 : -1.0;\n"
                "        *vx = -p->ve * hy * side;\n"
                "        *vy = p->ve * hx * side;\n"
                "        return;\n"
                "    }\n"
                "    model_flee(p, s, vx, vy);\n"
                "}\n\n");
    if (g->plan_model == EMODEL_LAST || g->plan_model == EMODEL_WORST)
        emit(o, "/* Evader model: keeps the velocity it used last step. */\n"
                "static void model_last(const FmspParams *p, const FmspState *s, double *vx, double *vy)\n"
                "{\n"
                "    (void)p;\n"
                "    *vx = s->last_vx;\n"
                "    *vy = s->last_vy;\n"
                "}\n\n");
    switch (g->plan_model) {
    case EMODEL_FLEE:
        emit(o, "#define N_MODELS 1\nstatic const EvaderModel models[N_MODELS] = {model_flee};\n\n");
        break;
    case EMODEL_DODGE:
        emit(o, "#define N_MODELS 1\nstatic const EvaderModel models[N_MODELS] = {model_dodge};\n\n");
        break;
    case EMODEL_LAST:
        emit(o, "#define N_MODELS 1\nstatic const EvaderModel models[N_MODELS] = {model_last};\n\n");
        break;
    default:
        emit(o, "/* A manoeuvre is judged by its worst outcome over all three models. */\n"
                "#define N_MODELS 3\n"
                "static const EvaderModel models[N_MODELS] = {model_flee, model_dodge, model_last};\n\n");
        break;
    }
    const char *base = memory_steer ? "rollout_steer" : "steer_law";
    const char *aim_fn = g->aim == AIM_SIM ? "rollout_aim" : "aim_point";
    if (memory_steer)
        emit(o, "/* Memoryless stand-in for navigation inside rollouts: gain-4 pursuit. */\n"
                "static double rollout_steer(const FmspState *s, const FmspParams *p, double tx, double ty)\n"
                "{\n"
                "    (void)p;\n"
                "    double err = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);\n"
                "    return fmsp_clamp(4.0 * err, -1.0, 1.0);\n"
                "}\n\n");
    const char *tail = g->plan_score == SCORE_MIN ? "closest" : "fmsp_distance(&s)";
    if (g->plan == PLAN_CONST) {
        emit(o, "/* Plays \"turn u0 for hold steps, then the base law\" for %d steps against\n"
                " * an evader model with fmsp_step. Returns the capture step, or %d plus the\n"
                " * %s distance when the evader survives: lower is better. */\n"
                "static double rollout(const FmspParams *p, FmspState s, EvaderModel model, double u0, int hold)\n"
                "{\n",
             h, h, g->plan_score == SCORE_MIN ? "closest" : "final");
        if (g->plan_score == SCORE_MIN)
            emit(o, "    double closest = 1e9;\n");
        emit(o, "    for (int k = 0; k < %d; k++) {\n"
                "        double vx, vy, u = u0;\n"
                "        model(p, &s, &vx, &vy);\n"
                "        if (k >= hold) {\n"
                "            double tx, ty;\n"
                "            %s(&s, p, &tx, &ty);\n"
                "            u = %s(&s, p, tx, ty);\n"
                "        }\n"
                "        if (fmsp_step(p, &s, u, vx, vy))\n"
                "            return k;\n",
             h, aim_fn, base);
        if (g->plan_score == SCORE_MIN)
            emit(o, "        double d = fmsp_distance(&s);\n"
                    "        if (d < closest)\n"
                    "            closest = d;\n");
        emit(o, "    }\n    return %d.0 + %s;\n}\n\n", h, tail);
        emit(o, "/* Worst outcome of a manoeuvre over the models; stops once it is no better\n"
                " * than bound. */\n"
                "static double worst_case(const FmspParams *p, const FmspState *s, double u0, int hold,\n"
                "                         double bound)\n"
                "{\n"
                "    double worst = -1.0;\n"
                "    for (int m = 0; m < N_MODELS && worst < bound; m++) {\n"
                "        double v = rollout(p, *s, models[m], u0, hold);\n"
                "        if (v > worst)\n"
                "            worst = v;\n"
                "    }\n"
                "    return worst;\n"
                "}\n\n");
        emit(o, "/* Planner: tries %d constant turns, each held for %d or %d steps; keeps the\n"
                " * base command unless a manoeuvre captures sooner under every model. */\n"
                "static double plan_manoeuvre(const FmspState *s, const FmspParams *p, double u)\n"
                "{\n"
                "    static const int holds[2] = {%d, %d};\n"
                "    double best = worst_case(p, s, u, 1, 1e18);\n"
                "    double chosen = u;\n"
                "    for (int i = 0; i < %d; i++) {\n"
                "        double turn = -1.0 + 2.0 * i / %d.0;\n"
                "        for (int j = 0; j < 2; j++) {\n"
                "            double v = worst_case(p, s, turn, holds[j], best - 0.05);\n"
                "            if (v < best - 0.05) {\n"
                "                best = v;\n"
                "                chosen = turn;\n"
                "            }\n"
                "        }\n"
                "    }\n"
                "    return chosen;\n"
                "}\n\n",
             g->plan_m, h / 6 + 1, h / 3 + 1, h / 6 + 1, h / 3 + 1, g->plan_m, g->plan_m - 1);
    } else {
        int seg = h / 4 + 1;
        emit(o, "/* Plays the two-segment manoeuvre \"turn u1 for %d steps, then u2 for %d\n"
                " * steps, then the base law\" for %d steps against an evader model. Returns\n"
                " * the capture step, or %d plus the %s distance: lower is better. */\n"
                "static double rollout_two(const FmspParams *p, FmspState s, EvaderModel model, double u1,\n"
                "                          double u2, int seg)\n"
                "{\n",
             seg, seg, h, h, g->plan_score == SCORE_MIN ? "closest" : "final");
        if (g->plan_score == SCORE_MIN)
            emit(o, "    double closest = 1e9;\n");
        emit(o, "    for (int k = 0; k < %d; k++) {\n"
                "        double vx, vy, u;\n"
                "        model(p, &s, &vx, &vy);\n"
                "        if (k < seg) {\n"
                "            u = u1;\n"
                "        } else if (k < 2 * seg) {\n"
                "            u = u2;\n"
                "        } else {\n"
                "            double tx, ty;\n"
                "            %s(&s, p, &tx, &ty);\n"
                "            u = %s(&s, p, tx, ty);\n"
                "        }\n"
                "        if (fmsp_step(p, &s, u, vx, vy))\n"
                "            return k;\n",
             h, aim_fn, base);
        if (g->plan_score == SCORE_MIN)
            emit(o, "        double d = fmsp_distance(&s);\n"
                    "        if (d < closest)\n"
                    "            closest = d;\n");
        emit(o, "    }\n    return %d.0 + %s;\n}\n\n", h, tail);
        emit(o, "/* Planner: first legs from %d turn rates, second legs hard left, straight\n"
                " * or hard right; a sequence replaces the base command only when its worst\n"
                " * case over the models captures sooner. */\n"
                "static double plan_manoeuvre(const FmspState *s, const FmspParams *p, double u)\n"
                "{\n"
                "    double best = -1.0;\n"
                "    for (int m = 0; m < N_MODELS; m++) {\n"
                "        double v = rollout_two(p, *s, models[m], u, u, 1);\n"
                "        if (v > best)\n"
                "            best = v;\n"
                "    }\n"
                "    double chosen = u;\n"
                "    for (int i = 0; i < %d; i++) {\n"
                "        for (int j = -1; j <= 1; j++) {\n"
                "            double u1 = -1.0 + 2.0 * i / %d.0, worst = -1.0;\n"
                "            for (int m = 0; m < N_MODELS && worst < best - 0.05; m++) {\n"
                "                double v = rollout_two(p, *s, models[m], u1, (double)j, %d);\n"
                "                if (v > worst)\n"
                "                    worst = v;\n"
                "            }\n"
                "            if (worst < best - 0.05) {\n"
                "                best = worst;\n"
                "                chosen = u1;\n"
                "            }\n"
                "        }\n"
                "    }\n"
                "    return chosen;\n"
                "}\n\n",
             g->plan_m, g->plan_m, g->plan_m - 1, seg);
    }
}

static void gen_pursuer(const Genome *g, Out *o)
{
    int pn = g->steer == STEER_PN;
    emit(o, "#include <math.h>\n");
    if (pn)
        emit(o, "#include <stdlib.h>\n");
    emit(o, "\n#include \"fmsp_policy.h\"\n\nFMSP_SIDE(FMSP_PURSUER);\n\n");
    gen_aim(g, o);
    gen_steer(g, o);
    gen_pwall(g, o);
    gen_pplan(g, o, pn);
    emit(o, "void *fmsp_create(const FmspParams *params, FmspRng *rng)\n{\n"
            "    (void)params;\n    (void)rng;\n");
    emit(o, pn ? "    return calloc(1, sizeof(Navigator));\n}\n\n" : "    return NULL; /* stateless */\n}\n\n");
    emit(o, "void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)\n{\n"
            "    const FmspState *s = &obs->state;\n"
            "    const FmspParams *p = &obs->params;\n"
            "    double tx, ty;\n"
            "    aim_point(s, p, &tx, &ty);\n");
    if (pn)
        emit(o, "    double u = pn_command(self, s, p, tx, ty);\n");
    else
        emit(o, "    (void)self;\n    double u = steer_law(s, p, tx, ty);\n");
    if (g->pwall == PWALL_AVOID)
        emit(o, "    u = avoid_walls(s, p, u);\n");
    if (g->plan != PLAN_NONE)
        emit(o, "    u = plan_manoeuvre(s, p, u);\n");
    emit(o, "    out->u = fmsp_clamp(u, -1.0, 1.0);\n}\n\n");
    emit(o, "void fmsp_free(void *self)\n{\n%s}\n", pn ? "    free(self);\n" : "    (void)self;\n");
}

/* ------------------------------------------------------------- evader --- */

static void gen_threat(const Genome *g, Out *o)
{
    switch (g->threat) {
    case THREAT_CAR:
        emit(o, "/* Threat: the car where it is now. */\n"
                "static void threat_point(const FmspState *s, const FmspParams *p, double *qx, double *qy)\n"
                "{\n"
                "    (void)p;\n"
                "    *qx = s->xp;\n"
                "    *qy = s->yp;\n"
                "}\n\n");
        break;
    case THREAT_AHEAD:
        emit(o, "/* Threat: where the car will be in %.2f s if it keeps its last turn command,\n"
                " * simulated with the referee's own dynamics. */\n"
                "static void threat_point(const FmspState *s, const FmspParams *p, double *qx, double *qy)\n"
                "{\n"
                "    FmspState future = *s;\n"
                "    int n = (int)(%.4f / p->dt + 0.5);\n"
                "    for (int k = 0; k < n && k < 200; k++)\n"
                "        fmsp_step(p, &future, s->last_u, 0.0, 0.0);\n"
                "    *qx = future.xp;\n"
                "    *qy = future.yp;\n"
                "}\n\n",
             g->threat_k, g->threat_k);
        break;
    default:
        emit(o, "/* Threat: the car seen from its turning circle on our side. The car cannot\n"
                " * reach that circle's centre quickly, so the threat is the reflection of\n"
                " * the centre through the car: fleeing from it bends into the circle. */\n"
                "static void threat_point(const FmspState *s, const FmspParams *p, double *qx, double *qy)\n"
                "{\n"
                "    double hx = cos(s->theta), hy = sin(s->theta);\n"
                "    double side = hx * (s->ye - s->yp) - hy * (s->xe - s->xp) >= 0 ? 1.0 : -1.0;\n"
                "    double cx = s->xp - hy * side * p->R, cy = s->yp + hx * side * p->R;\n"
                "    *qx = 2.0 * s->xp - cx;\n"
                "    *qy = 2.0 * s->yp - cy;\n"
                "}\n\n");
        break;
    }
}

static void gen_flight(const Genome *g, Out *o)
{
    switch (g->flight) {
    case FLIGHT_FLEE:
        emit(o, "/* Flight: straight away from the threat. */\n"
                "static void flight_direction(const FmspState *s, const FmspParams *p, double *fx, double *fy)\n"
                "{\n"
                "    double qx, qy;\n"
                "    threat_point(s, p, &qx, &qy);\n"
                "    double dx = s->xe - qx, dy = s->ye - qy, d = sqrt(dx * dx + dy * dy) + 1e-9;\n"
                "    *fx = dx / d;\n"
                "    *fy = dy / d;\n"
                "}\n\n");
        break;
    case FLIGHT_SLANT:
        emit(o, "/* Flight: away from the threat, slanted by %.2f rad to the side of the car's\n"
                " * heading we are already on, so the car must keep turning. */\n"
                "static void flight_direction(const FmspState *s, const FmspParams *p, double *fx, double *fy)\n"
                "{\n"
                "    double qx, qy;\n"
                "    threat_point(s, p, &qx, &qy);\n"
                "    double dx = s->xe - qx, dy = s->ye - qy;\n"
                "    double side = cos(s->theta) * dy - sin(s->theta) * dx >= 0 ? 1.0 : -1.0;\n"
                "    double a = atan2(dy, dx) + side * %.4f;\n"
                "    *fx = cos(a);\n"
                "    *fy = sin(a);\n"
                "}\n\n",
             g->slant, g->slant);
        break;
    default:
        emit(o, "/* Flight: towards the most open of 16 points %.2f away: far from the\n"
                " * threat, with a pull of %.3f towards the arena centre. */\n"
                "static void flight_direction(const FmspState *s, const FmspParams *p, double *fx, double *fy)\n"
                "{\n"
                "    double qx, qy, best = -1e18;\n"
                "    threat_point(s, p, &qx, &qy);\n"
                "    *fx = 1.0;\n"
                "    *fy = 0.0;\n"
                "    for (int i = 0; i < 16; i++) {\n"
                "        double a = i * (M_PI / 8.0);\n"
                "        double px = s->xe + %.4f * cos(a), py = s->ye + %.4f * sin(a);\n"
                "        if (p->walls) {\n"
                "            px = fmsp_clamp(px, -p->H, p->H);\n"
                "            py = fmsp_clamp(py, -p->H, p->H);\n"
                "        }\n"
                "        double score = hypot(px - qx, py - qy) - %.4f * hypot(px, py);\n"
                "        if (score > best) {\n"
                "            best = score;\n"
                "            *fx = cos(a);\n"
                "            *fy = sin(a);\n"
                "        }\n"
                "    }\n"
                "}\n\n",
             g->open_r, g->centre_bias, g->open_r, g->open_r, g->centre_bias);
        break;
    }
}

static void gen_dodge(const Genome *g, Out *o)
{
    if (g->dodge == DODGE_NONE)
        return;
    if (g->dodge == DODGE_INSIDE)
        emit(o, "/* Dodge: when the car is within %.2f R and pointing at us (cosine above\n"
                " * %.2f), step off at %.2f rad from its heading towards our side, into its\n"
                " * turning circle, where it cannot turn tightly enough to follow. */\n"
                "static int dodge_direction(const FmspState *s, const FmspParams *p, double *fx, double *fy)\n"
                "{\n"
                "    double rx = s->xe - s->xp, ry = s->ye - s->yp, r = sqrt(rx * rx + ry * ry) + 1e-9;\n"
                "    double hx = cos(s->theta), hy = sin(s->theta);\n"
                "    if (r > %.4f * p->R || (rx * hx + ry * hy) / r < %.4f)\n"
                "        return 0;\n"
                "    double side = hx * ry - hy * rx >= 0 ? 1.0 : -1.0;\n"
                "    double a = s->theta + side * %.4f;\n"
                "    *fx = cos(a);\n"
                "    *fy = sin(a);\n"
                "    return 1;\n"
                "}\n\n",
             g->dodge_d, g->dodge_cos, g->dodge_ang, g->dodge_d, g->dodge_cos, g->dodge_ang);
    else
        emit(o, "/* Dodge: when the car is within %.2f R and pointing at us (cosine above\n"
                " * %.2f), cut across its nose to the side it is NOT turning towards, at\n"
                " * %.2f rad from its heading: it must reverse its turn to follow. */\n"
                "static int dodge_direction(const FmspState *s, const FmspParams *p, double *fx, double *fy)\n"
                "{\n"
                "    double rx = s->xe - s->xp, ry = s->ye - s->yp, r = sqrt(rx * rx + ry * ry) + 1e-9;\n"
                "    double hx = cos(s->theta), hy = sin(s->theta);\n"
                "    if (r > %.4f * p->R || (rx * hx + ry * hy) / r < %.4f)\n"
                "        return 0;\n"
                "    double turning = s->last_u != 0.0 ? s->last_u : hx * ry - hy * rx;\n"
                "    double side = turning > 0 ? -1.0 : 1.0;\n"
                "    double a = s->theta + side * %.4f;\n"
                "    *fx = cos(a);\n"
                "    *fy = sin(a);\n"
                "    return 1;\n"
                "}\n\n",
             g->dodge_d, g->dodge_cos, g->dodge_ang, g->dodge_d, g->dodge_cos, g->dodge_ang);
}

static void gen_ewall(const Genome *g, Out *o)
{
    if (g->ewall == EWALL_IGNORE)
        return;
    emit(o, "/* Walls: a push away from each wall closer than %.2f, growing as 1/gap%s. */\n"
            "static void wall_repulsion(const FmspState *s, const FmspParams *p, double *fx, double *fy)\n"
            "{\n"
            "    if (!p->walls)\n"
            "        return;\n"
            "    double gaps[4] = {p->H - s->xe, s->xe + p->H, p->H - s->ye, s->ye + p->H};\n"
            "    static const double push[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};\n"
            "    int near = 0;\n"
            "    for (int i = 0; i < 4; i++) {\n"
            "        double gap = gaps[i] < 0.05 ? 0.05 : gaps[i];\n"
            "        if (gap < %.4f) {\n"
            "            *fx += %.4f * (%.4f - gap) / gap * push[i][0];\n"
            "            *fy += %.4f * (%.4f - gap) / gap * push[i][1];\n"
            "            near++;\n"
            "        }\n"
            "    }\n",
         g->wall_r, g->corner_w > 0.01 ? "; in a corner, a pull to the centre" : "", g->wall_r,
         g->wall_w, g->wall_r, g->wall_w, g->wall_r);
    if (g->corner_w > 0.01)
        emit(o, "    double c = sqrt(s->xe * s->xe + s->ye * s->ye) + 1e-9;\n"
                "    if (near >= 2) {\n"
                "        *fx -= %.4f * s->xe / c;\n"
                "        *fy -= %.4f * s->ye / c;\n"
                "    }\n",
             g->corner_w, g->corner_w);
    else
        emit(o, "    (void)near;\n");
    emit(o, "}\n\n");
}

static void gen_eplan(const Genome *g, Out *o)
{
    if (g->eplan == EPLAN_NONE)
        return;
    int h = g->eplan_h;
    emit(o, "typedef double (*CarModel)(const FmspState *s, const FmspParams *p);\n\n");
    if (g->eplan_model != PMODEL_INTERCEPT)
        emit(o, "/* Car model: pure pursuit with gain 4. */\n"
                "static double model_pure_pursuit(const FmspState *s, const FmspParams *p)\n"
                "{\n"
                "    (void)p;\n"
                "    double err = fmsp_wrap_angle(atan2(s->ye - s->yp, s->xe - s->xp) - s->theta);\n"
                "    return fmsp_clamp(4.0 * err, -1.0, 1.0);\n"
                "}\n\n");
    if (g->eplan_model != PMODEL_PURE) {
        emit_intercept_time(o);
        emit(o, "/* Car model: steers at the interception point of our current velocity. */\n"
                "static double model_intercept(const FmspState *s, const FmspParams *p)\n"
                "{\n"
                "    double dx = s->xe - s->xp, dy = s->ye - s->yp;\n"
                "    double tx = s->xe, ty = s->ye;\n"
                "    double t = intercept_time(dx, dy, s->last_vx, s->last_vy, p->vp);\n"
                "    if (t > 0 && dx * dx + dy * dy > p->R * p->R) {\n"
                "        t = fmsp_clamp(t, 0.0, 0.5 * p->T);\n"
                "        tx += s->last_vx * t;\n"
                "        ty += s->last_vy * t;\n"
                "    }\n"
                "    double err = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);\n"
                "    return fmsp_clamp(4.0 * err, -1.0, 1.0);\n"
                "}\n\n");
    }
    if (g->eplan_model == PMODEL_PURE)
        emit(o, "#define N_CARS 1\nstatic const CarModel cars[N_CARS] = {model_pure_pursuit};\n\n");
    else if (g->eplan_model == PMODEL_INTERCEPT)
        emit(o, "#define N_CARS 1\nstatic const CarModel cars[N_CARS] = {model_intercept};\n\n");
    else
        emit(o, "/* A heading is judged by its worse outcome against both car models. */\n"
                "#define N_CARS 2\n"
                "static const CarModel cars[N_CARS] = {model_pure_pursuit, model_intercept};\n\n");
    int need_closest = g->eplan_score != SCORE_FINAL;
    static const char *const score_words[] = {"closest", "final", "closest plus weighted wall room"};
    char tail[160];
    if (g->eplan_score == SCORE_ROOM) {
        snprintf(tail, sizeof tail, "closest + %.4f * wall_room(&s, p)", g->room_w);
        emit(o, "/* Room to manoeuvre: distance to the nearest wall, capped at 3 R. */\n"
                "static double wall_room(const FmspState *s, const FmspParams *p)\n"
                "{\n"
                "    if (!p->walls)\n"
                "        return 3.0 * p->R;\n"
                "    double gap = fmin(p->H - fabs(s->xe), p->H - fabs(s->ye));\n"
                "    return fmin(gap, 3.0 * p->R);\n"
                "}\n\n");
    } else {
        snprintf(tail, sizeof tail, "%s", need_closest ? "closest" : "fmsp_distance(&s)");
    }
    if (g->eplan == EPLAN_CONST) {
        emit(o, "/* Runs at heading a for %d steps against a car model with fmsp_step.\n"
                " * Returns the steps survived, plus the %s distance if never caught:\n"
                " * higher is better. */\n"
                "static double rollout(const FmspParams *p, FmspState s, CarModel car, double a)\n"
                "{\n"
                "    double vx = p->ve * cos(a), vy = p->ve * sin(a);\n",
             h, score_words[g->eplan_score]);
        if (need_closest)
            emit(o, "    double closest = 1e9;\n");
        emit(o, "    for (int k = 0; k < %d; k++) {\n"
                "        if (fmsp_step(p, &s, car(&s, p), vx, vy))\n"
                "            return k;\n",
             h);
    } else {
        int hold = h / 3 + 1;
        emit(o, "/* Runs at heading a for %d steps, then by the rule-based flight, for %d\n"
                " * steps in all against a car model. Returns the steps survived, plus the\n"
                " * %s distance if never caught: higher is better. */\n"
                "static double rollout(const FmspParams *p, FmspState s, CarModel car, double a)\n"
                "{\n",
             hold, h, score_words[g->eplan_score]);
        if (need_closest)
            emit(o, "    double closest = 1e9;\n");
        emit(o, "    for (int k = 0; k < %d; k++) {\n"
                "        double dir = k < %d ? a : base_direction(&s, p, NULL);\n"
                "        if (fmsp_step(p, &s, car(&s, p), p->ve * cos(dir), p->ve * sin(dir)))\n"
                "            return k;\n",
             h, hold);
    }
    if (need_closest)
        emit(o, "        double d = fmsp_distance(&s);\n"
                "        if (d < closest)\n"
                "            closest = d;\n");
    emit(o, "    }\n    return %d.0 + %s;\n}\n\n", h, tail);
    emit(o, "/* Worse outcome of heading a over the car models; stops once it cannot beat\n"
            " * bound. */\n"
            "static double worst_case(const FmspParams *p, const FmspState *s, double a, double bound)\n"
            "{\n"
            "    double worst = 1e18;\n"
            "    for (int m = 0; m < N_CARS && worst > bound; m++) {\n"
            "        double v = rollout(p, *s, cars[m], a);\n"
            "        if (v < worst)\n"
            "            worst = v;\n"
            "    }\n"
            "    return worst;\n"
            "}\n\n");
    emit(o, "/* Planner: when the car is within %.2f R, tries %d headings and the rule's\n"
            " * own (and the last chosen one, slightly preferred) and keeps the one that\n"
            " * survives longest. */\n"
            "static double plan_escape(const FmspState *s, const FmspParams *p, double a, Mind *mind)\n"
            "{\n"
            "    if (fmsp_distance(s) > %.4f * p->R)\n"
            "        return a;\n"
            "    double best = worst_case(p, s, a, -1e18);\n"
            "    if (mind && mind->has_dir) {\n"
            "        double v = worst_case(p, s, mind->last_dir, best) + 0.05;\n"
            "        if (v > best) {\n"
            "            best = v;\n"
            "            a = mind->last_dir;\n"
            "        }\n"
            "    }\n"
            "    for (int i = 0; i < %d; i++) {\n"
            "        double c = -M_PI + i * (2.0 * M_PI / %d.0);\n"
            "        double v = worst_case(p, s, c, best);\n"
            "        if (v > best) {\n"
            "            best = v;\n"
            "            a = c;\n"
            "        }\n"
            "    }\n"
            "    if (mind) {\n"
            "        mind->last_dir = a;\n"
            "        mind->has_dir = 1;\n"
            "    }\n"
            "    return a;\n"
            "}\n\n",
         g->eplan_trig, g->eplan_k, g->eplan_trig, g->eplan_k, g->eplan_k);
}

static void gen_evader(const Genome *g, Out *o)
{
    int noise = g->noise > 0.02, hold = g->dodge != DODGE_NONE && g->dodge_steps > 0;
    int plan = g->eplan != EPLAN_NONE;
    int mind = noise || hold || plan;
    emit(o, "#include <math.h>\n");
    if (mind)
        emit(o, "#include <stdlib.h>\n");
    emit(o, "\n#include \"fmsp_policy.h\"\n\nFMSP_SIDE(FMSP_EVADER);\n\n");
    if (mind) {
        emit(o, "typedef struct Mind {\n");
        if (noise)
            emit(o, "    FmspRng *rng;      /* host RNG: reproducible jitter */\n");
        if (hold)
            emit(o, "    int dodge_left;    /* steps left of the current dodge */\n"
                    "    double dodge_dir;  /* its heading */\n");
        if (plan)
            emit(o, "    double last_dir;   /* heading chosen by the planner last step */\n"
                    "    int has_dir;\n");
        emit(o, "} Mind;\n\n");
    }
    gen_threat(g, o);
    gen_flight(g, o);
    gen_dodge(g, o);
    gen_ewall(g, o);
    emit(o, "/* The rule-based heading (no memory, so rollouts can use it too);\n"
            " * *dodging is set when the dodge rule fired. */\n"
            "static double base_direction(const FmspState *s, const FmspParams *p, int *dodging)\n"
            "{\n"
            "    double fx, fy;\n"
            "    flight_direction(s, p, &fx, &fy);\n");
    if (g->dodge != DODGE_NONE)
        emit(o, "    int dodged = dodge_direction(s, p, &fx, &fy);\n"
                "    if (dodging)\n"
                "        *dodging = dodged;\n");
    else
        emit(o, "    if (dodging)\n        *dodging = 0;\n");
    if (g->ewall != EWALL_IGNORE)
        emit(o, "    wall_repulsion(s, p, &fx, &fy);\n");
    emit(o, "    return atan2(fy, fx);\n}\n\n");
    gen_eplan(g, o);
    emit(o, "void *fmsp_create(const FmspParams *params, FmspRng *rng)\n{\n    (void)params;\n");
    if (mind) {
        emit(o, "    Mind *mind = calloc(1, sizeof *mind);\n");
        if (noise)
            emit(o, "    if (mind)\n        mind->rng = rng;\n");
        else
            emit(o, "    (void)rng;\n");
        emit(o, "    return mind;\n}\n\n");
    } else {
        emit(o, "    (void)rng;\n    return NULL; /* stateless */\n}\n\n");
    }
    emit(o, "void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)\n{\n"
            "    const FmspState *s = &obs->state;\n"
            "    const FmspParams *p = &obs->params;\n");
    emit(o, mind ? "    Mind *mind = self;\n" : "    (void)self;\n");
    emit(o, "    int dodging = 0;\n    double a = base_direction(s, p, &dodging);\n");
    if (hold)
        emit(o, "    /* commit to a dodge for %d steps once it starts */\n"
                "    if (mind && mind->dodge_left > 0) {\n"
                "        a = mind->dodge_dir;\n"
                "        mind->dodge_left--;\n"
                "        dodging = 1;\n"
                "    } else if (mind && dodging) {\n"
                "        mind->dodge_dir = a;\n"
                "        mind->dodge_left = %d;\n"
                "    }\n",
             g->dodge_steps, g->dodge_steps);
    if (plan)
        emit(o, "    if (!dodging)\n        a = plan_escape(s, p, a, mind);\n");
    else
        emit(o, "    (void)dodging;\n");
    if (noise)
        emit(o, "    if (mind && mind->rng)\n        a += %.4f * fmsp_rng_normal(mind->rng);\n",
             g->noise);
    emit(o, "    out->vx = p->ve * cos(a);\n    out->vy = p->ve * sin(a);\n}\n\n");
    emit(o, "void fmsp_free(void *self)\n{\n%s}\n", mind ? "    free(self);\n" : "    (void)self;\n");
}

char *genome_source(const Genome *g, const char *task)
{
    Out o = {0};
    char what[320];
    genome_describe(g, what, sizeof what);
    what[0] = (char)(what[0] - 'a' + 'A');
    char *line = genome_line(g);
    emit(&o, "/* Written by fmsp's builtin operator: offline program synthesis, NOT a foundation model. */\n"
             "/*\n * %s.\n * Operator step: %s. Generated from a grammar of strategy components.\n"
             " * %s\n */\n",
         what, task ? task : "new policy", line);
    free(line);
    if (g->side == FMSP_PURSUER)
        gen_pursuer(g, &o);
    else
        gen_evader(g, &o);
    return o.s;
}
