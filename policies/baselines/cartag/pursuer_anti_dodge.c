/*
 * pursuer_anti_dodge - a receding-horizon search that expects the dodge.
 *
 * Theory: against a car that simply pursues, the homicidal chauffeur's
 * evader waits until the car is committed and then steps across its nose
 * into a turning circle (Isaacs, Differential Games, 1965); a planner whose
 * opponent model only flees is fooled by it (see pursuer_lookahead against
 * evader_sidestep). This car plans against the dodge itself: every step it
 * simulates, with fmsp_step, 16 manoeuvres (pure pursuit, or a turn of u in
 * {-1, -0.5, 0, 0.5, 1} held for 4, 12 or 24 steps, then pursuit) against
 * four evader models - flee, a late and an early perpendicular dodge across
 * the nose, and a run to the centre of the car's turning circle - and takes
 * the manoeuvre whose worst case over the models is best (minimax).
 * A rollout that does not capture within 3 s is valued by an estimate of
 * the time still needed: the tail chase, the turn to face the evader, and a
 * full loop if the evader is inside a turning circle.
 */
#include <stdlib.h>

#include "fmsp_policy.h"

FMSP_SIDE(FMSP_PURSUER);

#define EVADER_MODELS 4

typedef struct AntiDodge {
    int have_prev;                /* prev holds the previous step's state */
    FmspState prev;
    double misfit[EVADER_MODELS]; /* decayed error of each model's predicted velocity */
} AntiDodge;

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return calloc(1, sizeof(AntiDodge));
}

static double pursuit_u(const FmspState *s)
{
    double e = fmsp_wrap_angle(atan2(s->ye - s->yp, s->xe - s->xp) - s->theta);
    return fmsp_clamp(4.0 * e, -1.0, 1.0);
}

/* model 0: flee; 1 and 2: flee, but step perpendicular to the car's heading
 * (towards the evader's side) once the car points at it within 1 R or
 * 1.8 R; 3: run to the centre of the car's turning circle on its side. */
static void evader_model(const FmspParams *p, const FmspState *s, int model, double *vx,
                         double *vy)
{
    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;
    double hx = cos(s->theta), hy = sin(s->theta);
    double side = hx * dy - hy * dx >= 0 ? 1.0 : -1.0;
    double fx = dx / d, fy = dy / d;
    if ((model == 1 || model == 2) && (dx * hx + dy * hy) / d > 0.8 &&
        d < (model == 1 ? 1.0 : 1.8) * p->R) {
        fx = -hy * side;
        fy = hx * side;
    } else if (model == 3 && d < 2.5 * p->R) {
        fx = s->xp - hy * side * p->R - s->xe;
        fy = s->yp + hx * side * p->R - s->ye;
    }
    double n = sqrt(fx * fx + fy * fy);
    *vx = n > 1e-9 ? p->ve * fx / n : 0.0;
    *vy = n > 1e-9 ? p->ve * fy / n : 0.0;
}

/* Estimated seconds still needed to capture from s. */
static double time_to_go(const FmspParams *p, const FmspState *s)
{
    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy);
    double off = fabs(fmsp_wrap_angle(atan2(dy, dx) - s->theta));
    double t = (d - p->l) / (p->vp > p->ve ? p->vp - p->ve : 1e-3) + off * p->R / p->vp;
    double hx = cos(s->theta), hy = sin(s->theta);
    for (int side = -1; side <= 1; side += 2) {
        double cx = s->xp - hy * side * p->R, cy = s->yp + hx * side * p->R;
        if (hypot(s->xe - cx, s->ye - cy) < p->R - p->l)
            t += 2.0 * M_PI * p->R / p->vp;
    }
    return t;
}

/* Seconds to capture under a manoeuvre (u0 for `hold` steps, then pursuit)
 * against evader model `model`: simulated within the horizon, estimated
 * beyond it. */
static double rollout(const FmspParams *p, const FmspState *start, int model, double u0, int hold,
                      int horizon)
{
    FmspState s = *start;
    for (int k = 0; k < horizon; k++) {
        double vx, vy;
        evader_model(p, &s, model, &vx, &vy);
        if (fmsp_step(p, &s, k < hold ? u0 : pursuit_u(&s), vx, vy))
            return (k + 1) * p->dt;
    }
    return horizon * p->dt + time_to_go(p, &s);
}

/* Scores the evader models by how well each predicted the velocity the
 * evader just used; returns the best fit (flee until there is evidence). */
static int fit_evader_model(AntiDodge *st, const FmspParams *p, const FmspState *s)
{
    if (st->have_prev)
        for (int m = 0; m < EVADER_MODELS; m++) {
            double vx, vy;
            evader_model(p, &st->prev, m, &vx, &vy);
            st->misfit[m] = 0.95 * st->misfit[m] + hypot(vx - s->last_vx, vy - s->last_vy);
        }
    st->prev = *s;
    st->have_prev = 1;
    int best = 0;
    for (int m = 1; m < EVADER_MODELS; m++)
        if (st->misfit[m] < st->misfit[best] - 1e-9)
            best = m;
    return best;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    AntiDodge *st = self;
    const FmspParams *p = &obs->params;
    const FmspState *s = &obs->state;
    static const double us[5] = {-1.0, -0.5, 0.0, 0.5, 1.0};
    static const int holds[3] = {4, 12, 24};
    out->u = pursuit_u(s);
    if (!st)
        return;
    int model = fit_evader_model(st, p, s);
    int horizon = (int)(3.0 / p->dt);
    horizon = horizon < 10 ? 10 : (horizon > 120 ? 120 : horizon);
    double best_u = out->u, best_t = rollout(p, s, model, best_u, 0, horizon);
    for (int i = 0; i < 5; i++)
        for (int h = 0; h < 3; h++) {
            double t = rollout(p, s, model, us[i], holds[h], horizon);
            if (t < best_t - 1e-9) {
                best_t = t;
                best_u = us[i];
            }
        }
    out->u = best_u;
}

void fmsp_free(void *self)
{
    free(self);
}
