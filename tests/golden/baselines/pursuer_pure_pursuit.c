/*
 * pursuer_pure_pursuit - turn towards where the evader is now.
 *
 * The classic baseline: the turn command is proportional to the angle
 * between the car's heading and the line of sight, saturated at full lock.
 * It never predicts, so an agile evader that sidesteps at the last moment
 * makes it overshoot and loop around.
 */
#include "fmsp_policy.h"

FMSP_SIDE(FMSP_PURSUER);

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
    double bearing = atan2(s->ye - s->yp, s->xe - s->xp);
    double error = fmsp_wrap_angle(bearing - s->theta);
    out->u = fmsp_clamp(4.0 * error, -1.0, 1.0);
}

void fmsp_free(void *self)
{
    (void)self;
}
