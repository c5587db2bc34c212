/*
 * evader_wall_flee - flee, but keep away from walls and corners.
 *
 * The flight direction is "away from the car" plus a repulsion from each
 * wall that grows as the wall gets close, so the evader slides along walls
 * and out of corners instead of pinning itself there. A weak pull to the
 * arena centre keeps open space around it.
 */
#include "fmsp_policy.h"

FMSP_SIDE(FMSP_EVADER);

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return NULL;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    (void)self;
    const FmspState *s = &obs->state;
    const FmspParams *p = &obs->params;
    double dx = s->xe - s->xp, dy = s->ye - s->yp;
    double d = sqrt(dx * dx + dy * dy) + 1e-9;
    double fx = dx / d, fy = dy / d;
    if (p->walls) {
        const double range = 3.0;
        double gaps[4] = {p->H - s->xe, s->xe + p->H, p->H - s->ye, s->ye + p->H};
        double dirs[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
        for (int i = 0; i < 4; i++) {
            double g = gaps[i] < 0.05 ? 0.05 : gaps[i];
            if (g < range) {
                double push = (range - g) / g;
                fx += 0.6 * push * dirs[i][0];
                fy += 0.6 * push * dirs[i][1];
            }
        }
        fx += -0.03 * s->xe;
        fy += -0.03 * s->ye;
    }
    double n = sqrt(fx * fx + fy * fy);
    if (n < 1e-9) {
        fx = -dy / d;
        fy = dx / d;
        n = 1.0;
    }
    out->vx = p->ve * fx / n;
    out->vy = p->ve * fy / n;
}

void fmsp_free(void *self)
{
    (void)self;
}
