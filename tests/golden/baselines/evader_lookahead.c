/*
 * evader_lookahead - plan the escape by simulating the chase.
 *
 * Every step it tries 16 flight directions, each held for a short while and
 * then continued as a wall-aware flight, simulating the car with fmsp_step
 * as an intercepting pursuer that turns at full lock towards the predicted
 * evader. It keeps the direction whose simulated capture comes latest
 * (or whose closest approach is largest), preferring its previous choice on
 * ties so it does not dither.
 */
#include <stdlib.h>

#include "fmsp_policy.h"

FMSP_SIDE(FMSP_EVADER);

typedef struct Plan {
    double last_dir;
} Plan;

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return calloc(1, sizeof(Plan));
}

static double car_model(const FmspState *s)
{
    double e = fmsp_wrap_angle(atan2(s->ye - s->yp, s->xe - s->xp) - s->theta);
    return fmsp_clamp(4.0 * e, -1.0, 1.0);
}

static void flight(const FmspParams *p, const FmspState *s, double *vx, double *vy)
{
    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;
    double fx = dx / d, fy = dy / d;
    if (p->walls) {
        double gaps[4] = {p->H - s->xe, s->xe + p->H, p->H - s->ye, s->ye + p->H};
        double dirs[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
        for (int i = 0; i < 4; i++) {
            double g = gaps[i] < 0.05 ? 0.05 : gaps[i];
            if (g < 2.5) {
                fx += 0.5 * (2.5 - g) / g * dirs[i][0];
                fy += 0.5 * (2.5 - g) / g * dirs[i][1];
            }
        }
    }
    double n = sqrt(fx * fx + fy * fy) + 1e-12;
    *vx = p->ve * fx / n;
    *vy = p->ve * fy / n;
}

/* Higher is better: survival time, then closest approach. */
static double rollout(const FmspParams *p, const FmspState *start, double dir, int hold, int horizon)
{
    FmspState s = *start;
    double closest = 1e9;
    for (int k = 0; k < horizon; k++) {
        double vx, vy;
        if (k < hold) {
            vx = p->ve * cos(dir);
            vy = p->ve * sin(dir);
        } else {
            flight(p, &s, &vx, &vy);
        }
        if (fmsp_step(p, &s, car_model(&s), vx, vy))
            return k;
        double d = fmsp_distance(&s);
        if (d < closest)
            closest = d;
    }
    return horizon + closest;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    Plan *plan = self;
    const FmspParams *p = &obs->params;
    const FmspState *s = &obs->state;
    int horizon = (int)(2.0 / p->dt);
    if (horizon < 8)
        horizon = 8;
    if (horizon > 100)
        horizon = 100;
    int hold = horizon / 3;
    double best = -1, best_dir = 0;
    for (int i = 0; i < 17; i++) {
        double dir = i < 16 ? -M_PI + i * (M_PI / 8) : (plan ? plan->last_dir : 0);
        double v = rollout(p, s, dir, hold, horizon) + (i == 16 ? 0.05 : 0);
        if (v > best) {
            best = v;
            best_dir = dir;
        }
    }
    if (plan)
        plan->last_dir = best_dir;
    out->vx = p->ve * cos(best_dir);
    out->vy = p->ve * sin(best_dir);
}

void fmsp_free(void *self)
{
    free(self);
}
