/*
 * pursuer_lookahead - plan by simulating the game forward.
 *
 * Every step it tries a handful of manoeuvres (hold a turn of u in
 * {-1, -0.5, 0, 0.5, 1} for k steps, then pure pursuit) with fmsp_step, the
 * referee's own dynamics, against two models of the evader (fleeing
 * straight away at full speed, and keeping its last velocity), and takes a
 * manoeuvre only if it captures sooner than plain pursuit under both
 * models; otherwise it pursues. About 2 x 16 x 50 simulated steps per step.
 */
#include "fmsp_policy.h"

FMSP_SIDE(FMSP_PURSUER);

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return NULL;
}

static double pursuit_u(const FmspState *s)
{
    double e = fmsp_wrap_angle(atan2(s->ye - s->yp, s->xe - s->xp) - s->theta);
    return fmsp_clamp(4.0 * e, -1.0, 1.0);
}

/* model 0: flee straight away; model 1: keep the last velocity */
static void evader_model(const FmspParams *p, const FmspState *s, int model, double *vx, double *vy)
{
    if (model == 1) {
        *vx = s->last_vx;
        *vy = s->last_vy;
        return;
    }
    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;
    *vx = p->ve * dx / d;
    *vy = p->ve * dy / d;
}

/* Simulates a manoeuvre; returns the steps to capture (horizon if none). */
static int rollout(const FmspParams *p, const FmspState *start, int model, double u0, int hold,
                   int horizon)
{
    FmspState s = *start;
    for (int k = 0; k < horizon; k++) {
        double vx, vy;
        evader_model(p, &s, model, &vx, &vy);
        double u = k < hold ? u0 : pursuit_u(&s);
        if (fmsp_step(p, &s, u, vx, vy))
            return k;
    }
    return horizon;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    (void)self;
    const FmspParams *p = &obs->params;
    const FmspState *s = &obs->state;
    static const double us[5] = {-1.0, -0.5, 0.0, 0.5, 1.0};
    static const int holds[3] = {4, 12, 24};
    int horizon = (int)(2.5 / p->dt);
    if (horizon < 10)
        horizon = 10;
    if (horizon > 120)
        horizon = 120;
    double best_u = pursuit_u(s);
    int best_worst = 0;
    for (int m = 0; m < 2; m++) {
        int t = rollout(p, s, m, best_u, horizon, horizon);
        best_worst = t > best_worst ? t : best_worst;
    }
    for (int i = 0; i < 5; i++)
        for (int h = 0; h < 3; h++) {
            int worst = 0;
            for (int m = 0; m < 2 && worst < best_worst; m++) {
                int t = rollout(p, s, m, us[i], holds[h], horizon);
                worst = t > worst ? t : worst;
            }
            if (worst < best_worst) {
                best_worst = worst;
                best_u = us[i];
            }
        }
    out->u = best_u;
}

void fmsp_free(void *self)
{
    (void)self;
}
