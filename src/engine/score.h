/*
 * score.h — engagement arithmetic: exponential decay, rolling frequency
 * buckets and per-type caps.
 *
 * Pure functions over small values the engine keeps per lead. The decayed
 * score is kept as (value, as_of): a newer event decays the value forward to
 * its own time and adds its points; a late event adds its points decayed to
 * as_of. Either way value == sum(points_i * 2^(-(as_of - t_i)/half_life)),
 * whatever the arrival order (up to floating-point rounding).
 */
#ifndef FD_ENGINE_SCORE_H
#define FD_ENGINE_SCORE_H

#include <stdint.h>

#include "funneld/rules.h"

/* value * 2^(-dt/half_life), dt >= 0. */
double fd_score_decay(double value, int64_t dt_ms, int64_t half_life_ms);

/* Add `points` earned at time t to (*value, *as_of). Returns the factor by
 * which the previous value was decayed (1 when t <= *as_of): the caller
 * applies it to every other quantity kept on the same as_of basis. *as_of ==
 * INT64_MIN means "no score yet". */
double fd_score_add(double *value, int64_t *as_of, double points, int64_t t,
                    int64_t half_life_ms, double *late_factor);

/* Frequency buckets: a ring of FD_FREQ_BUCKETS counters; *head is the index
 * (time / bucket_ms) of the newest bucket, INT64_MIN when empty. Counts
 * saturate at UINT16_MAX. Events older than the ring are not counted. */
void fd_freq_add(uint16_t buckets[FD_FREQ_BUCKETS], int64_t *head, int64_t bucket_index);

/* Events in the `n` buckets ending at bucket `at` (inclusive). */
uint32_t fd_freq_count(const uint16_t buckets[FD_FREQ_BUCKETS], int64_t head,
                       int64_t at, int64_t n);

/* Apply a per-type cap: cap windows are tumbling and aligned to the epoch;
 * (*window, *awarded) is the newest window seen for this type and the points
 * awarded in it. An event in an older window counts against the newest
 * window's budget. Negative points are never capped. Returns the points to
 * award. */
double fd_score_cap(int64_t *window, double *awarded, double points, double cap,
                    int64_t t, int64_t cap_window_ms);

/* floor(a / b) for b > 0, correct for negative a. */
int64_t fd_floor_div(int64_t a, int64_t b);

#endif
