/* cartag.c - Car Tag scenarios, parameters, seeded starts and scores. */
#include "cartag.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cartag_scenarios[] = {"arena", "open", "open-capture", "open-threshold", NULL};

static void update_steps(FmspParams *p)
{
    double n = p->T / p->dt;
    p->max_steps = (isfinite(n) && n > 0 && n < 1e8) ? (int)llround(n) : 0;
}

void cartag_params_default(FmspParams *p)
{
    memset(p, 0, sizeof *p);
    p->vp = 1.0;
    p->R = 1.0;
    p->ve = 0.5;
    p->l = 0.3;
    p->dt = 0.05;
    p->T = 40.0;
    p->H = 10.0;
    p->walls = 1;
    update_steps(p);
}

FmspErr cartag_scenario(const char *name, FmspParams *p, char *err, size_t errlen)
{
    cartag_params_default(p);
    if (strcmp(name, "arena") == 0)
        return FMSP_OK;
    if (strcmp(name, "open") == 0) {
        p->walls = 0;
        return FMSP_OK;
    }
    if (strcmp(name, "open-capture") == 0) {
        p->walls = 0;
        p->l = 0.5;
        return FMSP_OK;
    }
    if (strcmp(name, "open-threshold") == 0) {
        /* measured (docs/cartag-baselines.md): where dodging starts to beat
         * the pursuit baselines; neither side's best baseline sweeps */
        p->walls = 0;
        p->l = 0.23;
        return FMSP_OK;
    }
    fmsp_errf(err, errlen,
              "unknown scenario '%s' (known: arena, open, open-capture, open-threshold)", name);
    return FMSP_ERR_NOTFOUND;
}

FmspErr cartag_params_set(FmspParams *p, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment || !eq[1]) {
        fmsp_errf(err, errlen, "parameter override '%s' is not of the form key=value", assignment);
        return FMSP_ERR_ARG;
    }
    size_t klen = (size_t)(eq - assignment);
    char *end;
    errno = 0;
    double v = strtod(eq + 1, &end);
    if (*end || errno || !isfinite(v)) {
        fmsp_errf(err, errlen, "parameter '%.*s': '%s' is not a finite number", (int)klen,
                  assignment, eq + 1);
        return FMSP_ERR_ARG;
    }
    struct { const char *key; double *field; } keys[] = {
        {"vp", &p->vp}, {"R", &p->R}, {"ve", &p->ve}, {"l", &p->l},
        {"dt", &p->dt}, {"T", &p->T}, {"H", &p->H},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].key) == klen && strncmp(keys[i].key, assignment, klen) == 0) {
            *keys[i].field = v;
            update_steps(p);
            return cartag_params_validate(p, err, errlen);
        }
    }
    if (klen == 5 && strncmp(assignment, "walls", 5) == 0) {
        if (v != 0 && v != 1) {
            fmsp_errf(err, errlen, "parameter 'walls' must be 0 or 1, not '%s'", eq + 1);
            return FMSP_ERR_ARG;
        }
        p->walls = (int)v;
        return FMSP_OK;
    }
    fmsp_errf(err, errlen, "unknown parameter '%.*s' (known: vp R ve l dt T H walls)",
              (int)klen, assignment);
    return FMSP_ERR_ARG;
}

FmspErr cartag_params_validate(const FmspParams *p, char *err, size_t errlen)
{
    /* The ranges where the game is defined as documented, each with why. */
    static const struct {
        const char *key, *why;
        double lo, hi;
        int lo_open, hi_open;
    } range[] = {
        {"vp", "the car's speed", 0, 100, 1, 0},
        {"R", "the car's turning radius", 0.01, 100, 0, 0},
        {"ve", "the evader's speed", 0, 100, 1, 0},
        {"l", "the capture radius; starts are 4 to 10 apart, so 4 or more would capture at once", 0, 4, 1, 1},
        {"dt", "the time step", 1e-4, 1, 0, 0},
        {"T", "the episode length in time units", 0, 1e4, 1, 0},
        {"H", "the arena's half-width; starts are drawn inside it 4 to 10 apart, which a wider "
              "arena makes too rare to draw", 3, 100, 0, 0},
    };
    double v[] = {p->vp, p->R, p->ve, p->l, p->dt, p->T, p->H};
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
        if (i == 6 && !p->walls && !(isfinite(v[i]) && v[i] > 0)) {
            fmsp_errf(err, errlen, "parameter 'H' must be a positive finite number (got %g)", v[i]);
            return FMSP_ERR_ARG;
        }
        if (i == 6 && !p->walls)
            continue; /* no walls: H is not used */
        int low = range[i].lo_open ? !(v[i] > range[i].lo) : !(v[i] >= range[i].lo);
        int high = range[i].hi_open ? !(v[i] < range[i].hi) : !(v[i] <= range[i].hi);
        if (!isfinite(v[i]) || low || high) {
            fmsp_errf(err, errlen, "parameter '%s' must be in %s%g, %g%s (%s); got %g", range[i].key,
                      range[i].lo_open ? "(" : "[", range[i].lo, range[i].hi,
                      range[i].hi_open ? ")" : "]", range[i].why, v[i]);
            return FMSP_ERR_ARG;
        }
    }
    if (p->max_steps < 1 || p->max_steps > 1000000) {
        fmsp_errf(err, errlen, "T/dt must give between 1 and 1000000 steps (got T=%g, dt=%g)",
                  p->T, p->dt);
        return FMSP_ERR_ARG;
    }
    return FMSP_OK;
}

uint64_t cartag_episode_seed(uint64_t match_seed, int episode)
{
    uint64_t x = match_seed ^ (0xD1B54A32D192ED03ULL * (uint64_t)(episode + 1));
    return fmsp_splitmix64(&x);
}

uint64_t cartag_policy_seed(uint64_t episode_seed, int side)
{
    uint64_t x = episode_seed + 0x5851F42D4C957F2DULL * (uint64_t)side;
    return fmsp_splitmix64(&x);
}

void cartag_reset(const FmspParams *p, uint64_t episode_seed, FmspState *s)
{
    FmspRng rng;
    fmsp_rng_seed(&rng, episode_seed);
    double h = p->walls ? p->H : 10.0;
    memset(s, 0, sizeof *s);
    s->xp = fmsp_rng_range(&rng, -h, h);
    s->yp = fmsp_rng_range(&rng, -h, h);
    s->theta = fmsp_rng_range(&rng, -M_PI, M_PI);
    /* Redraw the evader until 4 <= distance <= 10; with h >= 3 a valid
     * point always exists, and the bound keeps a pathological arena from
     * looping forever. */
    for (int tries = 0; tries < 100000; tries++) {
        s->xe = fmsp_rng_range(&rng, -h, h);
        s->ye = fmsp_rng_range(&rng, -h, h);
        double d = fmsp_distance(s);
        if (d >= 4.0 && d <= 10.0)
            break;
    }
}

int cartag_control_finite(const FmspControl *c)
{
    return isfinite(c->u) && isfinite(c->vx) && isfinite(c->vy);
}

double cartag_evader_score(const FmspParams *p, const FmspState *s)
{
    if (!s->captured)
        return 1.0;
    double v = s->t / p->T;
    return v < 0 ? 0 : (v > 1 ? 1 : v);
}
