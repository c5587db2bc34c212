/*
 * fmsp_rng.h - the deterministic RNG every fmsp policy API shares
 * (xoshiro256** seeded through splitmix64). The host seeds one per episode
 * and side, so a policy that draws its randomness from it is reproducible.
 * Included by the domain headers (fmsp_policy.h, fmsp_gandalf.h); a policy
 * includes its domain's header, not this one.
 */
#ifndef FMSP_RNG_H
#define FMSP_RNG_H

#include <math.h>
#include <stdint.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Deterministic RNG (xoshiro256**); seeded by the host. */
typedef struct FmspRng {
    uint64_t s[4];
} FmspRng;

static inline uint64_t fmsp_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Seeds rng from one 64-bit value (a policy may seed private RNGs too). */
static inline void fmsp_rng_seed(FmspRng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = fmsp_splitmix64(&seed);
}

static inline uint64_t fmsp_rng_u64(FmspRng *rng)
{
    uint64_t *s = rng->s;
    uint64_t r = s[1] * 5;
    r = ((r << 7) | (r >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return r;
}

/* Uniform in [0, 1). */
static inline double fmsp_rng_uniform(FmspRng *rng)
{
    return (double)(fmsp_rng_u64(rng) >> 11) * 0x1.0p-53;
}

/* Uniform in [lo, hi). */
static inline double fmsp_rng_range(FmspRng *rng, double lo, double hi)
{
    return lo + (hi - lo) * fmsp_rng_uniform(rng);
}

/* Standard normal (Box-Muller; uses two uniforms). */
static inline double fmsp_rng_normal(FmspRng *rng)
{
    double u1 = 1.0 - fmsp_rng_uniform(rng); /* (0, 1] */
    double u2 = fmsp_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

#endif /* FMSP_RNG_H */
