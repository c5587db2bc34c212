/*
 * evader_random_walk - wander at random (a weak reference point).
 *
 * Picks a new random heading from the host RNG about once a second and
 * walks at full speed, bouncing off walls. It ignores the car entirely, so
 * any strategy worth the name should beat it.
 */
#include <stdlib.h>

#include "fmsp_policy.h"

FMSP_SIDE(FMSP_EVADER);

typedef struct Walk {
    FmspRng *rng;
    double heading;
    int next_change;
} Walk;

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    Walk *w = calloc(1, sizeof *w);
    if (w)
        w->rng = rng;
    return w;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    Walk *w = self;
    const FmspState *s = &obs->state;
    const FmspParams *p = &obs->params;
    if (!w)
        return;
    if (s->step >= w->next_change) {
        w->heading = fmsp_rng_range(w->rng, -M_PI, M_PI);
        w->next_change = s->step + 10 + (int)(fmsp_rng_uniform(w->rng) * 2.0 / p->dt);
    }
    double vx = cos(w->heading), vy = sin(w->heading);
    if (p->walls) {
        if ((s->xe > p->H - 0.5 && vx > 0) || (s->xe < -p->H + 0.5 && vx < 0))
            vx = -vx;
        if ((s->ye > p->H - 0.5 && vy > 0) || (s->ye < -p->H + 0.5 && vy < 0))
            vy = -vy;
        w->heading = atan2(vy, vx);
    }
    out->vx = p->ve * vx;
    out->vy = p->ve * vy;
}

void fmsp_free(void *self)
{
    free(self);
}
