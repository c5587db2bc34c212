/*
 * builtin.c - the `builtin` backend: an offline program-synthesis operator.
 *
 * NOT a foundation model: a non-FM baseline operator that lets every search
 * run with no network and no key. It does not read prompts; it works from the
 * structured hint (task, side, parent sources, seed). A policy is described
 * by a Genome: discrete strategy components (targeting, steering law,
 * lookahead search, threat model, flight rule, dodge, wall handling, noise)
 * and their continuous parameters. Code generation emits only the components
 * a genome uses, as separate functions, so different strategies give
 * visibly different code (novelty search embeds the text). The genome is
 * written into the source as a comment line, "fmsp-genome v1 ...", so a
 * parent's genome is read back for mutation and crossover; a parent without
 * one (written by a model, or a baseline) is replaced by a random genome.
 * Every answer is a pure function of (hint seed, parents).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "fm_backend.h"
#include "fmsp_policy.h"

typedef struct Genome {
    int side;
    /* pursuer */
    int target;       /* 0 now, 1 lead, 2 intercept, 3 herd */
    double lead;      /* seconds of lead (target 1) */
    double herd;      /* offset towards the centre (target 3) */
    int steer;        /* 0 proportional, 1 bang-bang, 2 proportional navigation */
    double gain;      /* proportional gain */
    double deadband;  /* bang-bang dead band, rad */
    double pn;        /* navigation constant */
    int look;         /* 0 none, 1 rollouts */
    int look_h;       /* rollout horizon, steps */
    int look_model;   /* evader model: 0 flee, 1 last velocity, 2 both */
    double reset_r;   /* straighten out when this close (in R) and facing away; 0 off */
    /* evader */
    int threat;       /* 0 car, 1 predicted car, 2 nearest turning centre */
    double threat_k;  /* seconds of prediction (threat 1) */
    int flight;       /* 0 flee, 1 slanted flee, 2 open space */
    double slant;     /* slant angle, rad */
    int dodge;        /* 0 none, 1 sidestep */
    double dodge_d;   /* dodge distance, in R */
    double dodge_cos; /* car must point within acos(dodge_cos) of us */
    double dodge_ang; /* dodge direction relative to the car heading, rad */
    double wall_w;    /* wall repulsion strength */
    double wall_r;    /* wall repulsion range */
    double noise;     /* random jitter of the direction, rad */
    int e_look;       /* 0 none, 1 rollouts */
    int e_dirs;       /* directions tried */
    int e_h;          /* rollout horizon, steps */
    int e_model;      /* car model: 0 pure pursuit, 1 intercept */
} Genome;

typedef enum { F_CAT, F_INT, F_REAL } FieldType;

typedef struct Field {
    const char *name;
    int side;
    FieldType type;
    double lo, hi;
    size_t off;
} Field;

#define FI(n, s, t, lo, hi) {#n, s, t, lo, hi, offsetof(Genome, n)}
static const Field fields[] = {
    FI(target, FMSP_PURSUER, F_CAT, 0, 3),     FI(lead, FMSP_PURSUER, F_REAL, 0, 2),
    FI(herd, FMSP_PURSUER, F_REAL, 0, 3),      FI(steer, FMSP_PURSUER, F_CAT, 0, 2),
    FI(gain, FMSP_PURSUER, F_REAL, 1, 10),     FI(deadband, FMSP_PURSUER, F_REAL, 0, 0.3),
    FI(pn, FMSP_PURSUER, F_REAL, 2, 6),        FI(look, FMSP_PURSUER, F_CAT, 0, 1),
    FI(look_h, FMSP_PURSUER, F_INT, 10, 60),   FI(look_model, FMSP_PURSUER, F_CAT, 0, 2),
    FI(reset_r, FMSP_PURSUER, F_REAL, 0, 2),   FI(threat, FMSP_EVADER, F_CAT, 0, 2),
    FI(threat_k, FMSP_EVADER, F_REAL, 0, 1.5), FI(flight, FMSP_EVADER, F_CAT, 0, 2),
    FI(slant, FMSP_EVADER, F_REAL, 0, 1.2),    FI(dodge, FMSP_EVADER, F_CAT, 0, 1),
    FI(dodge_d, FMSP_EVADER, F_REAL, 0.4, 2.5), FI(dodge_cos, FMSP_EVADER, F_REAL, 0.3, 0.97),
    FI(dodge_ang, FMSP_EVADER, F_REAL, 1.0, 2.6), FI(wall_w, FMSP_EVADER, F_REAL, 0, 1.5),
    FI(wall_r, FMSP_EVADER, F_REAL, 1, 4),     FI(noise, FMSP_EVADER, F_REAL, 0, 0.4),
    FI(e_look, FMSP_EVADER, F_CAT, 0, 1),      FI(e_dirs, FMSP_EVADER, F_INT, 8, 24),
    FI(e_h, FMSP_EVADER, F_INT, 10, 60),       FI(e_model, FMSP_EVADER, F_CAT, 0, 1),
};
#define N_FIELDS ((int)(sizeof fields / sizeof fields[0]))

static double get(const Genome *g, const Field *f)
{
    const char *p = (const char *)g + f->off;
    return f->type == F_REAL ? *(const double *)p : (double)*(const int *)p;
}

static void set(Genome *g, const Field *f, double v)
{
    char *p = (char *)g + f->off;
    v = v < f->lo ? f->lo : (v > f->hi ? f->hi : v);
    if (f->type == F_REAL)
        *(double *)p = v;
    else
        *(int *)p = (int)lround(v);
}

static void genome_random(Genome *g, int side, FmspRng *rng)
{
    memset(g, 0, sizeof *g);
    g->side = side;
    for (int i = 0; i < N_FIELDS; i++) {
        const Field *f = &fields[i];
        if (f->side != side)
            continue;
        if (f->type == F_REAL)
            set(g, f, fmsp_rng_range(rng, f->lo, f->hi));
        else
            set(g, f, f->lo + (double)(fmsp_rng_u64(rng) % (uint64_t)(f->hi - f->lo + 1)));
    }
}

/* strength: chance per field; novel: resample instead of jitter */
static void genome_mutate(Genome *g, FmspRng *rng, double strength, int novel)
{
    int changed = 0;
    for (int attempt = 0; attempt < 4 && !changed; attempt++) {
        for (int i = 0; i < N_FIELDS; i++) {
            const Field *f = &fields[i];
            if (f->side != g->side || fmsp_rng_uniform(rng) >= strength)
                continue;
            double v = get(g, f);
            if (f->type == F_CAT || novel) {
                double nv = f->type == F_REAL ? fmsp_rng_range(rng, f->lo, f->hi)
                                              : f->lo + (double)(fmsp_rng_u64(rng) % (uint64_t)(f->hi - f->lo + 1));
                set(g, f, nv);
            } else {
                set(g, f, v + 0.15 * (f->hi - f->lo) * fmsp_rng_normal(rng));
            }
            changed |= get(g, f) != v;
        }
    }
}

static void genome_cross(Genome *g, const Genome *donor, FmspRng *rng)
{
    for (int i = 0; i < N_FIELDS; i++)
        if (fields[i].side == g->side && fmsp_rng_uniform(rng) < 0.5)
            set(g, &fields[i], get(donor, &fields[i]));
}

/* Distance in [0, 1]: categorical mismatches and normalised differences. */
static double genome_distance(const Genome *a, const Genome *b)
{
    double d = 0;
    int n = 0;
    for (int i = 0; i < N_FIELDS; i++) {
        const Field *f = &fields[i];
        if (f->side != a->side)
            continue;
        double x = get(a, f), y = get(b, f);
        d += f->type == F_CAT ? (x != y) : fabs(x - y) / (f->hi - f->lo);
        n++;
    }
    return n ? d / n : 1;
}

/* "fmsp-genome v1 pursuer target=2 lead=0.500 ..." */
static char *genome_line(const Genome *g)
{
    char *s = xasprintf("fmsp-genome v1 %s", g->side == FMSP_PURSUER ? "pursuer" : "evader");
    for (int i = 0; i < N_FIELDS; i++) {
        const Field *f = &fields[i];
        if (f->side != g->side)
            continue;
        char *t = f->type == F_REAL ? xasprintf("%s %s=%.4f", s, f->name, get(g, f))
                                    : xasprintf("%s %s=%d", s, f->name, (int)get(g, f));
        free(s);
        s = t;
    }
    return s;
}

/* Reads a genome back from source; 0 if there is none. */
static int genome_parse(const char *src, Genome *g)
{
    const char *p = src ? strstr(src, "fmsp-genome v1 ") : NULL;
    if (!p)
        return 0;
    p += strlen("fmsp-genome v1 ");
    memset(g, 0, sizeof *g);
    if (strncmp(p, "pursuer", 7) == 0)
        g->side = FMSP_PURSUER;
    else if (strncmp(p, "evader", 6) == 0)
        g->side = FMSP_EVADER;
    else
        return 0;
    const char *end = strstr(p, "*/");
    if (!end)
        end = p + strlen(p);
    int seen = 0;
    for (int i = 0; i < N_FIELDS; i++) {
        const Field *f = &fields[i];
        if (f->side != g->side)
            continue;
        char key[40];
        snprintf(key, sizeof key, " %s=", f->name);
        const char *k = strstr(p, key);
        if (!k || k > end)
            return 0;
        set(g, f, strtod(k + strlen(key), NULL));
        seen++;
    }
    return seen > 0;
}

/* ------------------------------------------------------------ codegen */

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
    if (o->len + (size_t)n + 1 > o->cap) {
        o->cap = (o->len + (size_t)n + 1) * 2;
        o->s = xrealloc(o->s, o->cap);
    }
    vsnprintf(o->s + o->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    o->len += (size_t)n;
}

static const char *const target_names[] = {"current position", "linear lead", "interception point",
                                           "herding offset"};
static const char *const steer_names[] = {"proportional", "bang-bang", "proportional navigation"};
static const char *const threat_names[] = {"the car", "the car's predicted position",
                                           "the car's nearest turning centre"};
static const char *const flight_names[] = {"flee", "slanted flee", "open-space seeking"};

static void describe(const Genome *g, char *buf, size_t n)
{
    if (g->side == FMSP_PURSUER)
        snprintf(buf, n, "a pursuer aiming at the %s with %s steering%s%s",
                 target_names[g->target], steer_names[g->steer],
                 g->look ? ", checked by lookahead rollouts" : "",
                 g->reset_r > 0.3 ? ", straightening out when overshooting" : "");
    else
        snprintf(buf, n, "an evader using %s away from %s%s%s%s", flight_names[g->flight],
                 threat_names[g->threat], g->dodge ? ", with a sidestep dodge" : "",
                 g->wall_w > 0.1 ? ", wall repulsion" : "",
                 g->e_look ? ", choosing its direction by lookahead rollouts" : "");
}

static void gen_pursuer(const Genome *g, Out *o)
{
    int mem = g->steer == 2;
    if (mem)
        emit(o, "#include <stdlib.h>\n\n");
    emit(o, "#include \"fmsp_policy.h\"\n\nFMSP_SIDE(FMSP_PURSUER);\n\n");
    if (mem)
        emit(o, "typedef struct Memory {\n    double last_los;\n    int have_los;\n} Memory;\n\n");
    /* targeting */
    emit(o, "/* Where to aim: the %s. */\n", target_names[g->target]);
    emit(o, "static void aim_point(const FmspState *s, const FmspParams *p, double *tx, double *ty)\n{\n");
    if (g->target == 0) {
        emit(o, "    (void)p;\n    *tx = s->xe;\n    *ty = s->ye;\n");
    } else if (g->target == 1) {
        emit(o, "    double lead = %.4f;\n", g->lead);
        emit(o, "    *tx = s->xe + s->last_vx * lead;\n    *ty = s->ye + s->last_vy * lead;\n");
        emit(o, "    if (p->walls) {\n        *tx = fmsp_clamp(*tx, -p->H, p->H);\n        *ty = fmsp_clamp(*ty, -p->H, p->H);\n    }\n");
    } else {
        emit(o, "    double dx = s->xe - s->xp, dy = s->ye - s->yp;\n");
        emit(o, "    double a = s->last_vx * s->last_vx + s->last_vy * s->last_vy - p->vp * p->vp;\n");
        emit(o, "    double b = 2.0 * (dx * s->last_vx + dy * s->last_vy), c = dx * dx + dy * dy;\n");
        emit(o, "    double disc = b * b - 4.0 * a * c, t = 0;\n");
        emit(o, "    if (fabs(a) > 1e-12 && disc >= 0) {\n        double r = sqrt(disc);\n");
        emit(o, "        double t1 = (-b - r) / (2 * a), t2 = (-b + r) / (2 * a);\n");
        emit(o, "        t = t1 > 0 && (t1 < t2 || t2 <= 0) ? t1 : (t2 > 0 ? t2 : 0);\n    }\n");
        emit(o, "    t = fmsp_clamp(t, 0.0, 0.25 * p->T);\n");
        emit(o, "    *tx = s->xe + s->last_vx * t;\n    *ty = s->ye + s->last_vy * t;\n");
        if (g->target == 3) {
            emit(o, "    /* come from the centre's side so the evader runs into a wall */\n");
            emit(o, "    double cn = sqrt(s->xe * s->xe + s->ye * s->ye), dist = sqrt(c);\n");
            emit(o, "    if (p->walls && cn > 1e-9 && dist > 2.0 * p->R) {\n");
            emit(o, "        double off = fmsp_clamp(0.3 * dist, 0.0, %.4f);\n", g->herd);
            emit(o, "        *tx -= off * s->xe / cn;\n        *ty -= off * s->ye / cn;\n    }\n");
        }
        emit(o, "    if (p->walls) {\n        *tx = fmsp_clamp(*tx, -p->H, p->H);\n        *ty = fmsp_clamp(*ty, -p->H, p->H);\n    }\n");
    }
    emit(o, "}\n\n");
    /* steering (the rollout version is memoryless) */
    emit(o, "/* %s steering towards (tx, ty). */\n", steer_names[g->steer]);
    emit(o, "static double steer_to(const FmspState *s, double tx, double ty)\n{\n");
    emit(o, "    double err = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);\n");
    if (g->reset_r > 0.3) {
        emit(o, "    /* too close and facing away: straighten out to gain room for the turn */\n");
        emit(o, "    double dx = s->xe - s->xp, dy = s->ye - s->yp;\n");
        emit(o, "    if (dx * dx + dy * dy < %.4f && fabs(err) > 1.9)\n        return 0.0;\n",
             g->reset_r * g->reset_r);
    }
    if (g->steer == 1)
        emit(o, "    if (fabs(err) < %.4f)\n        return 0.0;\n    return err > 0 ? 1.0 : -1.0;\n", g->deadband);
    else
        emit(o, "    return fmsp_clamp(%.4f * err, -1.0, 1.0);\n", g->steer == 2 ? 3.0 : g->gain);
    emit(o, "}\n\n");
    if (g->look) {
        emit(o, "/* Evader model %d for rollouts. */\n", g->look_model);
        emit(o, "static void model_evader(const FmspParams *p, const FmspState *s, int m, double *vx, double *vy)\n{\n");
        emit(o, "    if (m == 1) {\n        *vx = s->last_vx;\n        *vy = s->last_vy;\n        return;\n    }\n");
        emit(o, "    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;\n");
        emit(o, "    *vx = p->ve * dx / d;\n    *vy = p->ve * dy / d;\n}\n\n");
        emit(o, "/* Steps to capture holding u0 for `hold` steps, then steering (horizon if none). */\n");
        emit(o, "static int rollout(const FmspParams *p, FmspState s, int m, double u0, int hold)\n{\n");
        emit(o, "    for (int k = 0; k < %d; k++) {\n", g->look_h);
        emit(o, "        double vx, vy, tx, ty;\n        model_evader(p, &s, m, &vx, &vy);\n");
        emit(o, "        aim_point(&s, p, &tx, &ty);\n");
        emit(o, "        double u = k < hold ? u0 : steer_to(&s, tx, ty);\n");
        emit(o, "        if (fmsp_step(p, &s, u, vx, vy))\n            return k;\n    }\n    return %d;\n}\n\n", g->look_h);
    }
    emit(o, "void *fmsp_create(const FmspParams *params, FmspRng *rng)\n{\n    (void)params;\n    (void)rng;\n");
    emit(o, mem ? "    return calloc(1, sizeof(Memory));\n}\n\n" : "    return NULL;\n}\n\n");
    emit(o, "void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)\n{\n");
    emit(o, "    const FmspState *s = &obs->state;\n    const FmspParams *p = &obs->params;\n");
    emit(o, "    double tx, ty;\n    aim_point(s, p, &tx, &ty);\n    double u = steer_to(s, tx, ty);\n");
    if (mem) {
        emit(o, "    Memory *m = self;\n    double los = atan2(ty - s->yp, tx - s->xp);\n");
        emit(o, "    if (m && m->have_los && fabs(fmsp_wrap_angle(los - s->theta)) < 1.0)\n");
        emit(o, "        u = fmsp_clamp(%.4f * fmsp_wrap_angle(los - m->last_los) / p->dt * p->R / p->vp"
                " + 1.5 * fmsp_wrap_angle(los - s->theta), -1.0, 1.0);\n", g->pn);
        emit(o, "    if (m) {\n        m->last_los = los;\n        m->have_los = 1;\n    }\n");
    } else {
        emit(o, "    (void)self;\n");
    }
    if (g->look) {
        int m0 = g->look_model == 1 ? 1 : 0, m1 = g->look_model == 0 ? 0 : 1;
        emit(o, "    /* take a manoeuvre only if it captures sooner under every model */\n");
        emit(o, "    int base = rollout(p, *s, %d, u, 0);\n", m0);
        if (m1 != m0)
            emit(o, "    int b2 = rollout(p, *s, %d, u, 0);\n    if (b2 > base)\n        base = b2;\n", m1);
        emit(o, "    static const double turns[5] = {-1.0, -0.5, 0.0, 0.5, 1.0};\n");
        emit(o, "    for (int i = 0; i < 5; i++) {\n");
        emit(o, "        int t = rollout(p, *s, %d, turns[i], %d);\n", m0, g->look_h / 3);
        if (m1 != m0)
            emit(o, "        if (t < base) {\n            int t2 = rollout(p, *s, %d, turns[i], %d);\n            if (t2 > t)\n                t = t2;\n        }\n", m1, g->look_h / 3);
        emit(o, "        if (t < base) {\n            base = t;\n            u = turns[i];\n        }\n    }\n");
    }
    emit(o, "    out->u = u;\n}\n\n");
    emit(o, "void fmsp_free(void *self)\n{\n%s}\n", mem ? "    free(self);\n" : "    (void)self;\n");
}

static void gen_evader(const Genome *g, Out *o)
{
    int mem = g->noise > 0.02 || g->e_look;
    if (mem)
        emit(o, "#include <stdlib.h>\n\n");
    emit(o, "#include \"fmsp_policy.h\"\n\nFMSP_SIDE(FMSP_EVADER);\n\n");
    if (mem)
        emit(o, "typedef struct Memory {\n    FmspRng *rng;\n} Memory;\n\n");
    emit(o, "/* The point to get away from: %s. */\n", threat_names[g->threat]);
    emit(o, "static void threat(const FmspState *s, const FmspParams *p, double *qx, double *qy)\n{\n");
    if (g->threat == 0) {
        emit(o, "    (void)p;\n    *qx = s->xp;\n    *qy = s->yp;\n");
    } else if (g->threat == 1) {
        emit(o, "    *qx = s->xp + p->vp * %.4f * cos(s->theta);\n    *qy = s->yp + p->vp * %.4f * sin(s->theta);\n",
             g->threat_k, g->threat_k);
    } else {
        emit(o, "    /* the car cannot reach near its turning centres quickly: the threat is\n"
                "     * the car itself unless we are close to one of those centres */\n");
        emit(o, "    double hx = cos(s->theta), hy = sin(s->theta);\n");
        emit(o, "    double side = hx * (s->ye - s->yp) - hy * (s->xe - s->xp) >= 0 ? 1.0 : -1.0;\n");
        emit(o, "    double cx = s->xp - hy * side * p->R, cy = s->yp + hx * side * p->R;\n");
        emit(o, "    *qx = 2.0 * s->xp - cx;\n    *qy = 2.0 * s->yp - cy;\n");
    }
    emit(o, "}\n\n");
    emit(o, "/* Base direction: %s. */\n", flight_names[g->flight]);
    emit(o, "static void base_direction(const FmspState *s, const FmspParams *p, double *fx, double *fy)\n{\n");
    emit(o, "    double qx, qy;\n    threat(s, p, &qx, &qy);\n");
    emit(o, "    double dx = s->xe - qx, dy = s->ye - qy, d = sqrt(dx * dx + dy * dy) + 1e-9;\n");
    if (g->flight == 0) {
        emit(o, "    *fx = dx / d;\n    *fy = dy / d;\n");
    } else if (g->flight == 1) {
        emit(o, "    /* slant the flight to the side we are already on */\n");
        emit(o, "    double side = cos(s->theta) * dy - sin(s->theta) * dx >= 0 ? 1.0 : -1.0;\n");
        emit(o, "    double a = atan2(dy, dx) + side * %.4f;\n    *fx = cos(a);\n    *fy = sin(a);\n", g->slant);
    } else {
        emit(o, "    /* head for the candidate point farthest from the threat */\n");
        emit(o, "    double best = -1, bx = dx / d, by = dy / d;\n");
        emit(o, "    for (int i = 0; i < 12; i++) {\n        double a = i * (M_PI / 6);\n");
        emit(o, "        double px = s->xe + 3.0 * cos(a), py = s->ye + 3.0 * sin(a);\n");
        emit(o, "        if (p->walls) {\n            px = fmsp_clamp(px, -p->H, p->H);\n            py = fmsp_clamp(py, -p->H, p->H);\n        }\n");
        emit(o, "        double score = hypot(px - qx, py - qy) - 0.05 * hypot(px, py);\n");
        emit(o, "        if (score > best) {\n            best = score;\n            bx = cos(a);\n            by = sin(a);\n        }\n    }\n");
        emit(o, "    *fx = bx;\n    *fy = by;\n");
    }
    if (g->dodge) {
        emit(o, "    /* sidestep when the car is close and pointing at us */\n");
        emit(o, "    double rx = s->xe - s->xp, ry = s->ye - s->yp, r = sqrt(rx * rx + ry * ry) + 1e-9;\n");
        emit(o, "    double hx = cos(s->theta), hy = sin(s->theta);\n");
        emit(o, "    if (r < %.4f * p->R && (rx * hx + ry * hy) / r > %.4f) {\n", g->dodge_d, g->dodge_cos);
        emit(o, "        double side = hx * ry - hy * rx >= 0 ? 1.0 : -1.0;\n");
        emit(o, "        double a = s->theta + side * %.4f;\n        *fx = cos(a);\n        *fy = sin(a);\n    }\n", g->dodge_ang);
    }
    if (g->wall_w > 0.1) {
        emit(o, "    if (p->walls) {\n        double gaps[4] = {p->H - s->xe, s->xe + p->H, p->H - s->ye, s->ye + p->H};\n");
        emit(o, "        static const double push[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};\n");
        emit(o, "        for (int i = 0; i < 4; i++) {\n            double gap = gaps[i] < 0.05 ? 0.05 : gaps[i];\n");
        emit(o, "            if (gap < %.4f) {\n                *fx += %.4f * (%.4f - gap) / gap * push[i][0];\n",
             g->wall_r, g->wall_w, g->wall_r);
        emit(o, "                *fy += %.4f * (%.4f - gap) / gap * push[i][1];\n            }\n        }\n    }\n",
             g->wall_w, g->wall_r);
    }
    emit(o, "}\n\n");
    if (g->e_look) {
        emit(o, "/* Car model for rollouts: %s. */\n", g->e_model ? "intercepting pursuit" : "pure pursuit");
        emit(o, "static double model_car(const FmspState *s)\n{\n");
        if (g->e_model)
            emit(o, "    double tx = s->xe + s->last_vx, ty = s->ye + s->last_vy;\n");
        else
            emit(o, "    double tx = s->xe, ty = s->ye;\n");
        emit(o, "    return fmsp_clamp(4.0 * fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta), -1.0, 1.0);\n}\n\n");
        emit(o, "/* Survival score of running in direction a for the whole horizon. */\n");
        emit(o, "static double rollout(const FmspParams *p, FmspState s, double a)\n{\n");
        emit(o, "    double closest = 1e9, vx = p->ve * cos(a), vy = p->ve * sin(a);\n");
        emit(o, "    for (int k = 0; k < %d; k++) {\n", g->e_h);
        emit(o, "        if (fmsp_step(p, &s, model_car(&s), vx, vy))\n            return k;\n");
        emit(o, "        double d = fmsp_distance(&s);\n        if (d < closest)\n            closest = d;\n    }\n");
        emit(o, "    return %d + closest;\n}\n\n", g->e_h);
    }
    emit(o, "void *fmsp_create(const FmspParams *params, FmspRng *rng)\n{\n    (void)params;\n");
    if (mem)
        emit(o, "    Memory *m = calloc(1, sizeof *m);\n    if (m)\n        m->rng = rng;\n    return m;\n}\n\n");
    else
        emit(o, "    (void)rng;\n    return NULL;\n}\n\n");
    emit(o, "void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)\n{\n");
    emit(o, "    const FmspState *s = &obs->state;\n    const FmspParams *p = &obs->params;\n");
    emit(o, "    double fx, fy;\n    base_direction(s, p, &fx, &fy);\n    double a = atan2(fy, fx);\n");
    if (mem)
        emit(o, "    Memory *m = self;\n");
    else
        emit(o, "    (void)self;\n");
    if (g->e_look) {
        emit(o, "    /* try %d directions plus the base one; keep the best survivor */\n", g->e_dirs);
        emit(o, "    double best = rollout(p, *s, a) + 0.5;\n");
        emit(o, "    for (int i = 0; i < %d; i++) {\n        double c = -M_PI + i * (2.0 * M_PI / %d);\n", g->e_dirs, g->e_dirs);
        emit(o, "        double v = rollout(p, *s, c);\n        if (v > best) {\n            best = v;\n            a = c;\n        }\n    }\n");
    }
    if (g->noise > 0.02)
        emit(o, "    if (m && m->rng)\n        a += %.4f * fmsp_rng_normal(m->rng);\n", g->noise);
    emit(o, "    out->vx = p->ve * cos(a);\n    out->vy = p->ve * sin(a);\n}\n\n");
    emit(o, "void fmsp_free(void *self)\n{\n%s}\n", mem ? "    free(self);\n" : "    (void)self;\n");
}

static char *generate(const Genome *g, const char *task)
{
    Out o = {0};
    char *line = genome_line(g);
    char what[256];
    describe(g, what, sizeof what);
    emit(&o, "/*\n * %s.\n * Written by fmsp's builtin operator (%s), an offline program-synthesis\n"
             " * baseline: not a foundation model.\n * %s\n */\n",
         what, task, line);
    free(line);
    if (g->side == FMSP_PURSUER)
        gen_pursuer(g, &o);
    else
        gen_evader(g, &o);
    return o.s;
}

/* --------------------------------------------------------- the backend */

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

/* Token-set Jaccard distance, for parents without a genome. */
static double token_distance(const char *a, const char *b)
{
    /* hash tokens into a small bitmap each and compare */
    unsigned char ba[512] = {0}, bb[512] = {0};
    const char *srcs[2] = {a, b};
    unsigned char *maps[2] = {ba, bb};
    for (int k = 0; k < 2; k++) {
        const char *p = srcs[k] ? srcs[k] : "";
        while (*p) {
            while (*p && !isalnum((unsigned char)*p) && *p != '_')
                p++;
            uint32_t h = 2166136261u;
            int len = 0;
            while (isalnum((unsigned char)*p) || *p == '_') {
                h = (h ^ (unsigned char)*p++) * 16777619u;
                len++;
            }
            if (len)
                maps[k][(h >> 3) % 512] |= (unsigned char)(1u << (h & 7));
        }
    }
    int inter = 0, uni = 0;
    for (int i = 0; i < 512; i++) {
        inter += __builtin_popcount(ba[i] & bb[i]);
        uni += __builtin_popcount(ba[i] | bb[i]);
    }
    return uni ? 1.0 - (double)inter / uni : 0;
}

static void builtin_complete(void *state, const FmConfig *cfg, const FmRequest *req, FmResponse *resp)
{
    (void)state;
    const FmHint *h = req->hint;
    long prompt_words = fm_count_words(req->system);
    for (int i = 0; i < req->n_messages; i++)
        prompt_words += fm_count_words(req->messages[i].content);
    if (!h) {
        resp->err = FMSP_ERR_ARG;
        snprintf(resp->error, sizeof resp->error,
                 "the builtin operator needs a structured hint (it does not read prose)");
        return;
    }
    FmspRng rng;
    fmsp_rng_seed(&rng, h->seed ^ cfg->seed);
    if (h->task == FM_TASK_JUDGE) {
        /* parents[0] is the candidate, the rest are its neighbours */
        Genome a, b;
        int ga = h->n_parents > 0 && genome_parse(h->parents[0], &a);
        int novel = 1;
        for (int i = 1; i < h->n_parents; i++) {
            double d = ga && genome_parse(h->parents[i], &b) && b.side == a.side
                           ? genome_distance(&a, &b)
                           : token_distance(h->parents[0], h->parents[i]);
            if (d < 0.15)
                novel = 0;
        }
        resp->text = xstrdup(novel ? "yes" : "no");
        resp->prompt_tokens = prompt_words;
        resp->completion_tokens = 1;
        return;
    }
    int side = h->side == FMSP_EVADER ? FMSP_EVADER : FMSP_PURSUER;
    Genome g;
    int have_parent = h->n_parents > 0 && genome_parse(h->parents[0], &g) && g.side == side;
    if (!have_parent || h->task == FM_TASK_NEW) {
        genome_random(&g, side, &rng);
    } else if (h->task == FM_TASK_REPAIR) {
        genome_mutate(&g, &rng, 0.2, 0);
    } else if (h->task == FM_TASK_NOVEL) {
        genome_mutate(&g, &rng, 0.6, 1);
        /* push away from every neighbour that is still close */
        for (int tries = 0; tries < 8; tries++) {
            double nearest = 1;
            for (int i = 0; i < h->n_parents; i++) {
                Genome n;
                if (genome_parse(h->parents[i], &n) && n.side == side) {
                    double d = genome_distance(&g, &n);
                    nearest = d < nearest ? d : nearest;
                }
            }
            if (nearest > 0.25)
                break;
            genome_mutate(&g, &rng, 0.5, 1);
        }
    } else {
        /* improve: recombine with another parent, then a small mutation */
        for (int i = 1; i < h->n_parents; i++) {
            Genome donor;
            if (genome_parse(h->parents[i], &donor) && donor.side == side &&
                fmsp_rng_uniform(&rng) < 0.5) {
                genome_cross(&g, &donor, &rng);
                break;
            }
        }
        genome_mutate(&g, &rng, 0.25, 0);
    }
    char *code = generate(&g, task_label(h->task));
    char what[256];
    describe(&g, what, sizeof what);
    resp->text = xasprintf("Builtin operator (offline program synthesis, not a model), %s: %s.\n\n"
                           "```c\n%s```\n",
                           task_label(h->task), what, code);
    free(code);
    resp->prompt_tokens = prompt_words;
    resp->completion_tokens = fm_count_words(resp->text);
}

static void builtin_destroy(void *state)
{
    (void)state;
}

static const FmBackendOps builtin_ops = {builtin_complete, builtin_destroy};

FmspErr fm_builtin_open(const FmConfig *cfg, void **state, const FmBackendOps **ops, char *err,
                        size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    *state = NULL;
    *ops = &builtin_ops;
    return FMSP_OK;
}
