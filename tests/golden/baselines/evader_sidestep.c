/*
 * evader_sidestep - the matador: flee, then step aside at the last moment.
 *
 * Far from the car it flees (wall-aware). When the car is close and heading
 * almost straight at it, it runs perpendicular to the car's heading, towards
 * the side it is already on, so the car, which cannot turn tighter than R,
 * overshoots. This is the classic homicidal-chauffeur dodge.
 */
#include "fmsp_policy.h"

FMSP_SIDE(FMSP_EVADER);

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return NULL;
}

static void away_from_walls(const FmspParams *p, const FmspState *s, double *fx, double *fy)
{
    if (!p->walls)
        return;
    const double range = 2.5;
    double gaps[4] = {p->H - s->xe, s->xe + p->H, p->H - s->ye, s->ye + p->H};
    double dirs[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
    for (int i = 0; i < 4; i++) {
        double g = gaps[i] < 0.05 ? 0.05 : gaps[i];
        if (g < range) {
            *fx += 0.5 * (range - g) / g * dirs[i][0];
            *fy += 0.5 * (range - g) / g * dirs[i][1];
        }
    }
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    (void)self;
    const FmspState *s = &obs->state;
    const FmspParams *p = &obs->params;
    double dx = s->xe - s->xp, dy = s->ye - s->yp;
    double d = sqrt(dx * dx + dy * dy) + 1e-9;
    double hx = cos(s->theta), hy = sin(s->theta);
    double ahead = (dx * hx + dy * hy) / d;      /* cos of angle off the nose */
    double side = hx * dy - hy * dx;             /* > 0: evader left of the car */
    double fx, fy;
    if (d < 1.6 * p->R && ahead > 0.7) {
        double sign = side > 1e-6 ? 1.0 : (side < -1e-6 ? -1.0 : (s->last_u > 0 ? -1.0 : 1.0));
        fx = -hy * sign;
        fy = hx * sign;
        away_from_walls(p, s, &fx, &fy);
    } else {
        fx = dx / d;
        fy = dy / d;
        away_from_walls(p, s, &fx, &fy);
    }
    double n = sqrt(fx * fx + fy * fy) + 1e-12;
    out->vx = p->ve * fx / n;
    out->vy = p->ve * fy / n;
}

void fmsp_free(void *self)
{
    (void)self;
}
