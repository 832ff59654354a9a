/*
 * clock.h — where `now` comes from, for the parts that run on a real loop.
 *
 * The engine never reads a clock: it takes `now`. The daemon asks an
 * fd_clock: the wall clock for `funneld run`, an accelerated clock for
 * `funneld demo`, a virtual one in tests. `speed` (virtual ms per real ms)
 * turns a virtual delay into a real timer.
 */
#ifndef FD_BASE_CLOCK_H
#define FD_BASE_CLOCK_H

#include <stdint.h>

/* A clock: `now` in ms since the epoch; `speed` virtual ms per real ms (1 for
 * the wall clock), used to turn a virtual delay into a real timer. */
typedef struct fd_clock {
	int64_t (*now)(void *ctx);
	double speed;
	void *ctx;
} fd_clock;

/* The wall clock (CLOCK_REALTIME), speed 1. */
fd_clock fd_clock_wall(void);

/* Milliseconds of CLOCK_MONOTONIC, for measuring real durations (timeouts,
 * rates), never for event time. */
int64_t fd_clock_monotonic_ms(void);
/* ... in microseconds. */
int64_t fd_clock_monotonic_us(void);

#endif
