/*
 * hist.h — a fixed-bucket histogram of durations: the loop's turns, the
 * time from an input's event time to its outputs, the time spent on one
 * input record.
 *
 * Buckets are Prometheus-style upper bounds (cumulative when read, like a
 * Prometheus histogram), plus a count, a sum and the longest value seen.
 * Each histogram follows a scale: its bounds and their unit (the loop's
 * turns and a record's processing in microseconds, an event's age in
 * milliseconds, so that a year-old backfill cannot overflow the sum). A
 * zeroed fd_hist follows the loop-turn scale. Recording is a handful of
 * comparisons and no allocation. Not thread-safe: one loop records, the
 * same loop reads.
 *
 * What it is not: a quantile estimator (the buckets are the resolution) or
 * a clock (the caller measures).
 */
#ifndef FD_BASE_HIST_H
#define FD_BASE_HIST_H

#include <stddef.h>
#include <stdint.h>

#define FD_HIST_BUCKETS 14     /* of the loop-turn scale (the default) */
#define FD_HIST_MAX_BUCKETS 24 /* of any scale */

typedef struct fd_hist_scale {
	size_t n;                  /* buckets, the last one above every bound */
	const int64_t *bounds;     /* n - 1 increasing upper bounds, in `unit`s */
	int64_t per_second;        /* units in a second: 1000000 (µs) or 1000 (ms) */
} fd_hist_scale;

/* 50 µs .. 5 s: how long one callback held the loop (meant to stay under
 * ~2 ms). The default. */
extern const fd_hist_scale fd_hist_loop_turns;
/* 1 µs .. 100 ms: decode + apply + encode of one input record. */
extern const fd_hist_scale fd_hist_record_time;
/* 5 ms .. 7 days, in ms: from an input's event time to its outputs
 * (milliseconds live, hours or days in a catch-up or a backfill). */
extern const fd_hist_scale fd_hist_event_age;

typedef struct fd_hist {
	const fd_hist_scale *scale; /* NULL: fd_hist_loop_turns */
	uint64_t counts[FD_HIST_MAX_BUCKETS]; /* values <= bound i and > the one below;
	                                          the last of the scale: above every bound */
	uint64_t count;
	uint64_t sum_us;            /* in the scale's unit (µs for the default) */
	uint64_t max_us;            /* ditto */
} fd_hist;

/* An empty histogram on `scale`. */
void fd_hist_init(fd_hist *h, const fd_hist_scale *scale);

/* The histogram's scale (the default for a zeroed one). */
const fd_hist_scale *fd_hist_scale_of(const fd_hist *h);

/* The upper bound of the default scale's bucket i in microseconds;
 * INT64_MAX for the last. */
int64_t fd_hist_bound(size_t i);

/* The upper bound of h's bucket i in its scale's unit; INT64_MAX for the
 * last. */
int64_t fd_hist_upper(const fd_hist *h, size_t i);

/* Record one value in the scale's unit (negative counts as 0). */
void fd_hist_add(fd_hist *h, int64_t value);

/* Values recorded at or below bucket i's bound. */
uint64_t fd_hist_cumulative(const fd_hist *h, size_t i);

#endif
