/*
 * evader_isaacs_dodge - Isaacs' dodge for the homicidal chauffeur, timed by
 * simulation.
 *
 * Theory (Isaacs, Differential Games, 1965, the homicidal chauffeur): a
 * slower but agile evader cannot outrun the car, but the car cannot turn
 * inside its turning circles (radius R either side of its heading). While
 * the car is far, or not coming at it, the evader flees (wall-aware). When
 * the car is committed towards it and a flight would be caught, it waits
 * until the car is too close to turn tightly enough after it, then steps
 * across the car's nose, perpendicular to the car's velocity, into the
 * turning circle on its own side: step too early and the car turns after
 * you, too late and the capture disc reaches you. Once the car has passed
 * it keeps to the centre of the circle the car is orbiting (unreachable
 * while the car turns at full lock), or flees when the car drives off.
 *
 * The timing comes from fmsp_step: each step near the car it simulates 12
 * dodge directions (60-140 degrees off the car's heading, both sides)
 * against two car models (pure pursuit, and pursuit of the point the
 * evader's velocity leads to) and compares the best closest approach if it
 * dodges now with the best if it flees one more step first; it dodges when
 * waiting no longer pays. When every dodge is predicted to be caught it
 * still takes the textbook one (perpendicular, own side) at once.
 */
#include <stdlib.h>

#include "fmsp_policy.h"

FMSP_SIDE(FMSP_EVADER);

#define DODGE_ANGLES 6
#define CAR_MODELS 2

typedef struct Dodge {
    int dodging; /* 1 from the moment the dodge starts until the car has passed */
    double dir;  /* world direction of the current dodge */
} Dodge;

void *fmsp_create(const FmspParams *params, FmspRng *rng)
{
    (void)params;
    (void)rng;
    return calloc(1, sizeof(Dodge));
}

/* Car models: 0 pure pursuit (gain 4), 1 pursuit of the point the evader's
 * last velocity leads to by the time the car could get there. */
static double car_model(const FmspParams *p, const FmspState *s, int model)
{
    double tx = s->xe, ty = s->ye;
    if (model == 1) {
        double lead = fmsp_clamp(fmsp_distance(s) / p->vp, 0.0, 1.5);
        tx += s->last_vx * lead;
        ty += s->last_vy * lead;
    }
    double e = fmsp_wrap_angle(atan2(ty - s->yp, tx - s->xp) - s->theta);
    return fmsp_clamp(4.0 * e, -1.0, 1.0);
}

/* Adds a push away from walls closer than 2.5 to the direction (fx, fy). */
static void away_from_walls(const FmspParams *p, const FmspState *s, double *fx, double *fy)
{
    if (!p->walls)
        return;
    const double range = 2.5;
    double gaps[4] = {p->H - s->xe, s->xe + p->H, p->H - s->ye, s->ye + p->H};
    double dirs[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
    for (int i = 0; i < 4; i++) {
        double g = gaps[i] < 0.05 ? 0.05 : gaps[i];
        if (g < range) {
            *fx += 0.5 * (range - g) / g * dirs[i][0];
            *fy += 0.5 * (range - g) / g * dirs[i][1];
        }
    }
}

/* What the evader does when not dodging: sit at the centre of the circle the
 * car is orbiting when it can, otherwise flee (wall-aware). */
static void escape(const FmspParams *p, const FmspState *s, double *vx, double *vy)
{
    double hx = cos(s->theta), hy = sin(s->theta);
    double fx, fy;
    if (fabs(s->last_u) > 0.8) {
        double r = p->R / s->last_u; /* signed: > 0 centre on the car's left */
        double cx = s->xp - hy * r, cy = s->yp + hx * r;
        double gx = cx - s->xe, gy = cy - s->ye, g = sqrt(gx * gx + gy * gy);
        if (g < 0.7 * fabs(r)) {
            double speed = fmin(p->ve, g / p->dt);
            *vx = g > 1e-9 ? speed * gx / g : 0.0;
            *vy = g > 1e-9 ? speed * gy / g : 0.0;
            return;
        }
    }
    double dx = s->xe - s->xp, dy = s->ye - s->yp, d = sqrt(dx * dx + dy * dy) + 1e-9;
    fx = dx / d;
    fy = dy / d;
    away_from_walls(p, s, &fx, &fy);
    double n = sqrt(fx * fx + fy * fy) + 1e-12;
    *vx = p->ve * fx / n;
    *vy = p->ve * fy / n;
}

/* 1 while the evader is still ahead of the car's nose. */
static int ahead_of_car(const FmspState *s)
{
    return (s->xe - s->xp) * cos(s->theta) + (s->ye - s->yp) * sin(s->theta) > 0;
}

/* Closest approach over the horizon (0 on capture): hold direction dir (if
 * dodge) while the car has not passed, then escape; the car plays `model`. */
static double rollout(const FmspParams *p, const FmspState *start, int dodge, double dir, int model,
                      int horizon)
{
    FmspState s = *start;
    double closest = fmsp_distance(&s);
    int holding = dodge;
    for (int k = 0; k < horizon; k++) {
        double vx, vy;
        if (holding && ahead_of_car(&s)) {
            vx = p->ve * cos(dir);
            vy = p->ve * sin(dir);
        } else {
            holding = 0;
            escape(p, &s, &vx, &vy);
        }
        if (fmsp_step(p, &s, car_model(p, &s, model), vx, vy))
            return 0.0;
        double d = fmsp_distance(&s);
        if (d < closest)
            closest = d;
    }
    return closest;
}

/* The closest approach under the less favourable car model. */
static double worst_rollout(const FmspParams *p, const FmspState *s, int dodge, double dir,
                            int horizon)
{
    double worst = 1e9;
    for (int m = 0; m < CAR_MODELS && worst > 0.0; m++) {
        double c = rollout(p, s, dodge, dir, m, horizon);
        worst = c < worst ? c : worst;
    }
    return worst;
}

/* The best dodge from s: its worst-model closest approach, its direction in
 * *dir. Candidates are angles off the car's heading, on both sides. */
static double best_dodge(const FmspParams *p, const FmspState *s, int horizon, double prefer,
                         double *dir)
{
    /* perpendicular first, on the side the evader is on: ties (every dodge
     * caught) keep Isaacs' textbook step across the nose */
    static const double offs[DODGE_ANGLES] = {90, 105, 75, 120, 60, 140};
    double lat = cos(s->theta) * (s->ye - s->yp) - sin(s->theta) * (s->xe - s->xp);
    double own = lat >= 0 ? 1.0 : -1.0;
    double best = -1.0;
    *dir = prefer;
    for (int k = 0; k < 2; k++) {
        double side = k == 0 ? own : -own;
        for (int i = 0; i < DODGE_ANGLES; i++) {
            double a = fmsp_wrap_angle(s->theta + side * offs[i] * M_PI / 180.0);
            double score = worst_rollout(p, s, 1, a, horizon);
            if (fabs(fmsp_wrap_angle(a - prefer)) < 0.2)
                score += 0.02 * p->R; /* keep the previous direction: no dither */
            if (score > best) {
                best = score;
                *dir = a;
            }
        }
    }
    return best;
}

void fmsp_act(void *self, const FmspObs *obs, FmspControl *out)
{
    Dodge *st = self;
    const FmspState *s = &obs->state;
    const FmspParams *p = &obs->params;
    double vx, vy;
    escape(p, s, &vx, &vy);
    out->vx = vx;
    out->vy = vy;
    if (!st)
        return;
    double d = fmsp_distance(s);
    int horizon = (int)(3.0 * p->R / p->vp / p->dt);
    horizon = horizon < 10 ? 10 : (horizon > 150 ? 150 : horizon);
    double safe = p->l + 0.05 * p->R;
    if (st->dodging && (!ahead_of_car(s) || d > 3.0 * p->R))
        st->dodging = 0;
    if (!st->dodging) {
        /* far, or the car not coming at us: flee */
        double dx = s->xe - s->xp, dy = s->ye - s->yp;
        double off_nose = fabs(fmsp_wrap_angle(atan2(dy, dx) - s->theta));
        if (d > 4.0 * p->R || off_nose > M_PI / 2)
            return;
        double flight = worst_rollout(p, s, 0, 0.0, horizon);
        if (flight > safe)
            return;
        /* the car will catch a flight: dodge now, or flee one step more? */
        double now_dir, later_dir;
        double now = best_dodge(p, s, horizon, st->dir, &now_dir);
        FmspState later = *s;
        fmsp_step(p, &later, car_model(p, &later, 0), vx, vy);
        double wait = later.captured ? -p->l : best_dodge(p, &later, horizon, now_dir, &later_dir);
        if (wait >= now && wait > safe)
            return; /* the dodge will work as well a step later: keep fleeing */
        st->dodging = 1;
        st->dir = now_dir;
    } else {
        best_dodge(p, s, horizon, st->dir, &st->dir);
    }
    out->vx = p->ve * cos(st->dir);
    out->vy = p->ve * sin(st->dir);
}

void fmsp_free(void *self)
{
    free(self);
}
