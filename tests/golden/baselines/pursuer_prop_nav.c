/*
 * pursuer_prop_nav - proportional navigation, as in guided missiles.
 *
 * Turns at N times the rotation rate of the line of sight, which drives the
 * bearing to the target constant (a collision course) without predicting
 * the target explicitly. PN is poor when the target is far off the nose, so
 * beyond 60 degrees of bearing error it turns towards the target first.
 * Keeps the previous line-of-sight angle in its state.
 */
#include <stdlib.h>

#include "fmsp_policy.h"

FMSP_SIDE(FMSP_PURSUER);

typedef struct Pn {
    double last_los;
    int have_last;
} Pn;

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    Pn *pn = calloc(1, sizeof *pn);
    return pn;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    Pn *pn = self;
    const FmspState *s = &obs->state;
    const FmspParams *p = &obs->params;
    double los = atan2(s->ye - s->yp, s->xe - s->xp);
    double error = fmsp_wrap_angle(los - s->theta);
    double los_rate = 0;
    if (pn && pn->have_last)
        los_rate = fmsp_wrap_angle(los - pn->last_los) / p->dt;
    if (pn) {
        pn->last_los = los;
        pn->have_last = 1;
    }
    const double N = 4.0;
    double u;
    if (fabs(error) > M_PI / 3)
        u = error > 0 ? 1.0 : -1.0;
    else
        u = N * los_rate * p->R / p->vp + 1.5 * error;
    out->u = fmsp_clamp(u, -1.0, 1.0);
}

void fmsp_free(void *self)
{
    free(self);
}
