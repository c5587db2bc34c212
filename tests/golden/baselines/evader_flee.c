/*
 * evader_flee - run straight away from the car at full speed.
 *
 * The simplest evader. In the open plane it only delays capture (the car is
 * twice as fast); in the arena it runs itself into a wall.
 */
#include "fmsp_policy.h"

FMSP_SIDE(FMSP_EVADER);

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return NULL; /* stateless */
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    (void)self;
    const FmspState *s = &obs->state;
    double dx = s->xe - s->xp, dy = s->ye - s->yp;
    double d = sqrt(dx * dx + dy * dy);
    if (d < 1e-9) {
        dx = 1.0;
        dy = 0.0;
        d = 1.0;
    }
    out->vx = obs->params.ve * dx / d;
    out->vy = obs->params.ve * dy / d;
}

void fmsp_free(void *self)
{
    (void)self;
}
