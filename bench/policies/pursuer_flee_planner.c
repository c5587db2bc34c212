/*
 * pursuer_flee_planner - an upper-bound probe, not a baseline.
 *
 * Every 5 steps it simulates, with the referee's own fmsp_step and an exact
 * model of evader_flee (run straight away from the car), 25 manoeuvres: a
 * constant turn u in {-1, -0.5, 0, 0.5, 1} held for 0.5 .. 8 s, then pure
 * pursuit to the end of the episode. It flies the manoeuvre that captures
 * soonest, or pure pursuit if none beats it. Against evader_flee it therefore
 * knows its opponent exactly; bench/pursuit_bound.sh uses it to show how
 * little room the baseline evaders leave above pure pursuit.
 */
#include "fmsp_policy.h"

#include <stdlib.h>

FMSP_SIDE(FMSP_PURSUER);

typedef struct Plan {
    double u;  /* the turn being flown */
    int left;  /* steps before the next replan */
} Plan;

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return calloc(1, sizeof(Plan));
}

static double pursue(const FmspState *s)
{
    double e = fmsp_wrap_angle(atan2(s->ye - s->yp, s->xe - s->xp) - s->theta);
    return fmsp_clamp(4.0 * e, -1.0, 1.0);
}

/* Steps until capture when flying u for `hold` steps then pursuing. */
static int rollout(FmspState s, const FmspParams *p, double u, int hold, int horizon)
{
    for (int k = 0; k < horizon; k++) {
        double dx = s.xe - s.xp, dy = s.ye - s.yp, d = sqrt(dx * dx + dy * dy) + 1e-9;
        if (fmsp_step(p, &s, k < hold ? u : pursue(&s), p->ve * dx / d, p->ve * dy / d))
            return k;
    }
    return horizon + 1;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    Plan *pl = self;
    const FmspState *s = &obs->state;
    const FmspParams *p = &obs->params;
    if (!pl) {
        out->u = pursue(s);
        return;
    }
    if (pl->left > 0) {
        pl->left--;
        out->u = pl->u;
        return;
    }
    static const double us[] = {-1, -0.5, 0, 0.5, 1};
    static const int holds[] = {10, 20, 40, 80, 160};
    int horizon = p->max_steps - s->step;
    int best = rollout(*s, p, 0, 0, horizon), found = 0;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            int t = rollout(*s, p, us[i], holds[j], horizon);
            if (t < best) {
                best = t;
                pl->u = us[i];
                found = 1;
            }
        }
    if (found) {
        pl->left = 4;
        out->u = pl->u;
    } else {
        out->u = pursue(s);
    }
}

void fmsp_free(void *self)
{
    free(self);
}
