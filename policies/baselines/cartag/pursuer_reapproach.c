/*
 * pursuer_reapproach - back off from a dodge, turn round, come again.
 *
 * Theory: the car cannot reach points inside its turning circles (radius R
 * either side of its heading) without first driving away; an evader that
 * has dodged into one, or sits near the centre of the circle the car is
 * orbiting, is safe from a car that keeps turning after it (Isaacs,
 * Differential Games, 1965; the standard pursuer reply in the homicidal
 * chauffeur's "swerve" phase). So the car pursues (gain 4) until the evader
 * is too deep inside a turning circle to be reached, then drives straight
 * away until it is 2.5 R off, room enough to turn round and re-approach head
 * on, then pursues again. In the arena it bends the retreat away from a wall
 * ahead instead of sliding along it.
 */
#include <stdlib.h>

#include "fmsp_policy.h"

FMSP_SIDE(FMSP_PURSUER);

typedef struct Reapproach {
    int retreating; /* 1 while driving off to gain room */
} Reapproach;

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return calloc(1, sizeof(Reapproach));
}

/* 1 when the evader is so deep inside one of the car's turning circles that
 * a full-lock turn passes farther than the capture radius from it. */
static int inside_turning_circle(const FmspParams *p, const FmspState *s)
{
    double hx = cos(s->theta), hy = sin(s->theta);
    for (int side = -1; side <= 1; side += 2) {
        double cx = s->xp - hy * side * p->R, cy = s->yp + hx * side * p->R;
        double g = hypot(s->xe - cx, s->ye - cy);
        if (g < p->R - p->l)
            return 1;
    }
    return 0;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    Reapproach *st = self;
    const FmspState *s = &obs->state;
    const FmspParams *p = &obs->params;
    double bearing = atan2(s->ye - s->yp, s->xe - s->xp);
    double error = fmsp_wrap_angle(bearing - s->theta);
    out->u = fmsp_clamp(4.0 * error, -1.0, 1.0);
    if (!st)
        return;
    double d = fmsp_distance(s);
    if (!st->retreating && inside_turning_circle(p, s))
        st->retreating = 1;
    else if (st->retreating && d > 2.5 * p->R)
        st->retreating = 0;
    if (!st->retreating)
        return;
    out->u = 0.0;
    if (p->walls) {
        /* a wall within two turning radii ahead: bend towards the centre */
        double ax = s->xp + 2.0 * p->R * cos(s->theta), ay = s->yp + 2.0 * p->R * sin(s->theta);
        if (fabs(ax) > p->H || fabs(ay) > p->H) {
            double to_centre = fmsp_wrap_angle(atan2(-s->yp, -s->xp) - s->theta);
            out->u = to_centre >= 0 ? 1.0 : -1.0;
        }
    }
}

void fmsp_free(void *self)
{
    free(self);
}
