/*
 * fmsp_policy.h - the Car Tag policy API (version 1).
 *
 * This is the only header a policy may include besides an allow-list of
 * standard C headers. A policy is one C source file that defines:
 *
 *     FMSP_SIDE(FMSP_PURSUER);               (or FMSP_EVADER)
 *     void *fmsp_create(const FmspParams *params, FmspRng *rng);
 *     void  fmsp_act(void *self, const FmspObs *obs, FmspControl *out);
 *     void  fmsp_free(void *self);
 *
 * Lifecycle: for every episode the host calls fmsp_create once, then fmsp_act
 * once per step (until capture or time-out), then fmsp_free. `self` is
 * whatever fmsp_create returned (NULL is allowed for a stateless policy) and
 * is owned by the policy. `rng` is owned by the host and stays valid until
 * fmsp_free: it is seeded per episode and side, so a policy that draws its
 * randomness from it is reproducible. Do not use rand(), time() or
 * uninitialised memory if you want reproducible results.
 *
 * The dynamics below (fmsp_step) are the exact code the referee judges with,
 * so a policy can simulate the game forward for lookahead or tree search.
 *
 * The policy runs in a sandbox: no files, no network, no processes, no
 * signals, capped memory and CPU time per step. Writing to stdout/stderr is
 * allowed but capped. A crash, time-out or non-finite control loses the
 * episode.
 */
#ifndef FMSP_POLICY_H
#define FMSP_POLICY_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "fmsp_rng.h"

#define FMSP_POLICY_API_VERSION 1

/* Sides. */
#define FMSP_PURSUER 1 /* the car */
#define FMSP_EVADER 2  /* the pedestrian */

/* Declares the side a policy plays; put it once at file scope. */
#define FMSP_SIDE(side) const int fmsp_policy_side = (side)

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Game parameters; constant during a match. */
typedef struct FmspParams {
    double vp;     /* car speed, constant, always forward (1.0) */
    double R;      /* car minimum turning radius (1.0) */
    double ve;     /* evader maximum speed (0.5) */
    double l;      /* capture radius (0.3) */
    double dt;     /* control period, seconds (0.05) */
    double T;      /* episode length, seconds (40) */
    double H;      /* arena half-width: walls at x,y = +-H when walls != 0 (10) */
    int walls;     /* 1: square arena [-H,H]^2; 0: open plane, no walls */
    int max_steps; /* number of steps in an episode: round(T / dt) */
} FmspParams;

/* Full game state; both sides see all of it. */
typedef struct FmspState {
    double t;       /* time at the start of this step: step * dt */
    int step;       /* steps taken so far, 0-based */
    int captured;   /* 1 once the distance after a step was <= l */
    double xp, yp;  /* car position */
    double theta;   /* car heading in [-pi, pi), counter-clockwise from +x */
    double xe, ye;  /* evader position */
    double last_u;  /* car control applied in the previous step (0 at start) */
    double last_vx; /* evader velocity applied in the previous step, */
    double last_vy; /*   after scaling to at most ve (0 at start) */
} FmspState;

/* What a policy sees each step: the state and the game's parameters. */
typedef struct FmspObs {
    FmspState state;
    FmspParams params;
} FmspObs;

/*
 * A control. The pursuer sets u in [-1, 1] (turn rate (vp/R)*u, positive is
 * counter-clockwise; clipped). The evader sets (vx, vy), scaled down to speed
 * ve if longer. The fields of the other side are ignored. All fields are
 * zeroed by the host before fmsp_act is called.
 */
typedef struct FmspControl {
    double u;
    double vx, vy;
} FmspControl;

/* ----------------------------------------------------------- geometry --- */

/* Wraps an angle to [-pi, pi). */
static inline double fmsp_wrap_angle(double a)
{
    if (a >= -M_PI && a < M_PI)
        return a;
    a = fmod(a + M_PI, 2.0 * M_PI);
    if (a < 0)
        a += 2.0 * M_PI;
    return a - M_PI;
}

/* Distance between car and evader. */
static inline double fmsp_distance(const FmspState *s)
{
    double dx = s->xe - s->xp, dy = s->ye - s->yp;
    return sqrt(dx * dx + dy * dy);
}

static inline double fmsp_clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* --------------------------------------------------------- dynamics --- */

/*
 * Advances s by one step of length dt under constant controls, exactly:
 * the car along a circular arc of turn rate (vp/R)*u (a straight line when
 * u = 0), the evader along a straight line at velocity (vx, vy) scaled to at
 * most ve; then, with walls, both positions are clamped to [-H, H] (the car
 * keeps its heading). Sets s->captured when the distance after the step is
 * <= l. Returns s->captured. Controls must be finite (the referee faults a
 * policy that returns NaN or infinity before calling this).
 * This is the function the referee uses; policies may call it on copies of
 * the state to look ahead.
 */
static inline int fmsp_step(const FmspParams *p, FmspState *s, double u,
                            double vx, double vy)
{
    u = fmsp_clamp(u, -1.0, 1.0);
    double speed2 = vx * vx + vy * vy;
    if (speed2 > p->ve * p->ve) {
        double k = p->ve / sqrt(speed2);
        vx *= k;
        vy *= k;
    }
    /* Car: the chord of the arc, of length vp*dt*sinc(w*dt/2) in direction
     * theta + w*dt/2: exact for any turn rate w, stable as w -> 0. For small
     * arguments sinc uses its Taylor series, exact to double precision
     * (the first omitted term is below 3e-18 for |half| < 0.1). */
    double w = (p->vp / p->R) * u;
    double half = 0.5 * w * p->dt;
    double h2 = half * half;
    double sinc = fabs(half) < 0.1
                      ? 1.0 - h2 / 6.0 * (1.0 - h2 / 20.0 * (1.0 - h2 / 42.0 * (1.0 - h2 / 72.0)))
                      : sin(half) / half;
    double chord = p->vp * p->dt * sinc;
    double dir = s->theta + half;
    s->xp += chord * cos(dir);
    s->yp += chord * sin(dir);
    s->theta = fmsp_wrap_angle(s->theta + w * p->dt);
    /* Evader: straight line. */
    s->xe += vx * p->dt;
    s->ye += vy * p->dt;
    if (p->walls) {
        s->xp = fmsp_clamp(s->xp, -p->H, p->H);
        s->yp = fmsp_clamp(s->yp, -p->H, p->H);
        s->xe = fmsp_clamp(s->xe, -p->H, p->H);
        s->ye = fmsp_clamp(s->ye, -p->H, p->H);
    }
    s->last_u = u;
    s->last_vx = vx;
    s->last_vy = vy;
    s->step += 1;
    s->t = s->step * p->dt;
    double dx = s->xe - s->xp, dy = s->ye - s->yp;
    if (dx * dx + dy * dy <= p->l * p->l)
        s->captured = 1;
    return s->captured;
}

/* 1 when the episode is over: captured, or max_steps steps taken. */
static inline int fmsp_done(const FmspParams *p, const FmspState *s)
{
    return s->captured || s->step >= p->max_steps;
}

/* ------------------------------------------------- policy entry points --- */

/* (The engine includes every domain's header and looks entry points up by
 * name, so it leaves these declarations out.) */
#ifndef FMSP_HOST
void *fmsp_create(const FmspParams *params, FmspRng *rng);
void fmsp_act(void *self, const FmspObs *obs, FmspControl *out);
void fmsp_free(void *self);
#endif

#endif /* FMSP_POLICY_H */
