/*
 * evader_circle_dodge - hide inside the car's turning circle.
 *
 * The car cannot reach points close to the centres of its two turning
 * circles (radius R, left and right of its heading) without first driving
 * away. When the car is near, the evader runs towards the centre of the
 * turning circle on its own side; when the car is far it flees, keeping
 * away from walls.
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
    double hx = cos(s->theta), hy = sin(s->theta);
    double fx, fy;
    if (d < 2.5 * p->R) {
        double side = hx * dy - hy * dx >= 0 ? 1.0 : -1.0;
        double cx = s->xp - hy * side * p->R, cy = s->yp + hx * side * p->R;
        fx = cx - s->xe;
        fy = cy - s->ye;
        double n = sqrt(fx * fx + fy * fy);
        if (n < 0.1 * p->R) { /* at the centre: keep pace with it */
            fx = hx;
            fy = hy;
        }
    } else {
        fx = dx / d;
        fy = dy / d;
    }
    if (p->walls) {
        double gaps[4] = {p->H - s->xe, s->xe + p->H, p->H - s->ye, s->ye + p->H};
        double dirs[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
        for (int i = 0; i < 4; i++) {
            double g = gaps[i] < 0.05 ? 0.05 : gaps[i];
            if (g < 2.0) {
                fx += 0.4 * (2.0 - g) / g * dirs[i][0];
                fy += 0.4 * (2.0 - g) / g * dirs[i][1];
            }
        }
    }
    double n = sqrt(fx * fx + fy * fy) + 1e-12;
    out->vx = p->ve * fx / n;
    out->vy = p->ve * fy / n;
}

void fmsp_free(void *self)
{
    (void)self;
}
