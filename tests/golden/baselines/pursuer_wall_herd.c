/*
 * pursuer_wall_herd - come at the evader from the open side.
 *
 * An evader flees away from the car; if the car approaches from the centre
 * of the arena, fleeing drives the evader into a wall or corner where it has
 * fewer ways out. From afar the car aims at a point offset from the evader
 * towards the arena centre; near the evader, or in the open plane, it
 * switches to intercept-style pursuit.
 */
#include "fmsp_policy.h"

FMSP_SIDE(FMSP_PURSUER);

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
    double dist = sqrt(dx * dx + dy * dy);
    /* lead the evader a little along its last velocity */
    double lead = fmsp_clamp(dist / p->vp, 0.0, 2.0);
    double tx = s->xe + s->last_vx * lead, ty = s->ye + s->last_vy * lead;
    if (p->walls && dist > 2.5 * p->R) {
        /* offset towards the centre: approach from the open side */
        double cx = -s->xe, cy = -s->ye;
        double cn = sqrt(cx * cx + cy * cy);
        if (cn > 1e-9) {
            double off = fmsp_clamp(0.35 * dist, 0.0, 3.0);
            tx += off * cx / cn;
            ty += off * cy / cn;
        }
        tx = fmsp_clamp(tx, -p->H, p->H);
        ty = fmsp_clamp(ty, -p->H, p->H);
    }
    double error = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);
    out->u = fmsp_clamp(4.0 * error, -1.0, 1.0);
}

void fmsp_free(void *self)
{
    (void)self;
}
