/*
 * pursuer_intercept - aim at the interception point, not at the evader.
 *
 * Assumes the evader keeps the velocity it used last step and solves
 * |E + V t - P| = vp t for the earliest t (a quadratic), then steers at
 * E + V t. Close in (within a turning radius) it falls back to pure pursuit,
 * where the prediction is least reliable.
 */
#include "fmsp_policy.h"

FMSP_SIDE(FMSP_PURSUER);

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return NULL;
}

/* Earliest t >= 0 with |d + v t| = speed * t, or -1 if none. */
static double intercept_time(double dx, double dy, double vx, double vy, double speed)
{
    double a = vx * vx + vy * vy - speed * speed;
    double b = 2.0 * (dx * vx + dy * vy);
    double c = dx * dx + dy * dy;
    if (fabs(a) < 1e-12)
        return b < 0 ? -c / b : -1.0;
    double disc = b * b - 4 * a * c;
    if (disc < 0)
        return -1.0;
    double r = sqrt(disc);
    double t1 = (-b - r) / (2 * a), t2 = (-b + r) / (2 * a);
    double t = t1 > 0 && (t1 < t2 || t2 <= 0) ? t1 : t2;
    return t > 0 ? t : -1.0;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    (void)self;
    const FmspState *s = &obs->state;
    const FmspParams *p = &obs->params;
    double dx = s->xe - s->xp, dy = s->ye - s->yp;
    double tx = s->xe, ty = s->ye;
    if (sqrt(dx * dx + dy * dy) > p->R) {
        double t = intercept_time(dx, dy, s->last_vx, s->last_vy, p->vp);
        if (t > 0) {
            t = fmsp_clamp(t, 0.0, 0.5 * p->T);
            tx = s->xe + s->last_vx * t;
            ty = s->ye + s->last_vy * t;
            if (p->walls) {
                tx = fmsp_clamp(tx, -p->H, p->H);
                ty = fmsp_clamp(ty, -p->H, p->H);
            }
        }
    }
    double error = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);
    out->u = fmsp_clamp(4.0 * error, -1.0, 1.0);
}

void fmsp_free(void *self)
{
    (void)self;
}
