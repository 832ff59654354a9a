/*
 * demo_rng.h — the demo's random numbers: splitmix64 to derive seeds,
 * xorshift64* to draw. Header-only and stateless apart from the caller's
 * fd_demo_rng, so every lead (traffic) and every sales decision can have its
 * own stream derived from (seed, lead, episode): a run is reproducible per
 * seed whatever order Kafka delivers things in.
 *
 * Not for anything but synthetic data: no rand(), no cryptography.
 */
#ifndef FD_DAEMON_DEMO_RNG_H
#define FD_DAEMON_DEMO_RNG_H

#include <stdint.h>

typedef struct fd_demo_rng {
	uint64_t state; /* never 0 */
} fd_demo_rng;

/* splitmix64's finaliser: a well-mixed 64-bit value from any input. */
static inline uint64_t fd_demo_mix(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* A stream for (seed, a, b): e.g. (seed, lead, episode). */
static inline fd_demo_rng fd_demo_rng_for(uint64_t seed, uint64_t a, uint64_t b)
{
	fd_demo_rng r = { fd_demo_mix(fd_demo_mix(fd_demo_mix(seed) ^ a) ^ b) | 1 };
	return r;
}

static inline uint64_t fd_demo_rng_next(fd_demo_rng *r)
{
	uint64_t x = r->state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->state = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* Uniform in [0, 1). */
static inline double fd_demo_rng_unit(fd_demo_rng *r)
{
	return (double)(fd_demo_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [lo, hi). */
static inline double fd_demo_rng_range(fd_demo_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * fd_demo_rng_unit(r);
}

/* Uniform in [0, n), n > 0. */
static inline int fd_demo_rng_below(fd_demo_rng *r, int n)
{
	return (int)(fd_demo_rng_unit(r) * n);
}

#endif
