/*
 * hist.h — a fixed-bucket histogram of durations, for the loop's turns.
 *
 * Buckets are Prometheus-style upper bounds in microseconds (cumulative
 * when read, like a Prometheus histogram), plus a count, a sum and the
 * longest value seen. Recording is a handful of comparisons and no
 * allocation. Not thread-safe: one loop records, the same loop reads.
 *
 * What it is not: a quantile estimator (the buckets are the resolution) or
 * a clock (the caller measures).
 */
#ifndef FD_BASE_HIST_H
#define FD_BASE_HIST_H

#include <stddef.h>
#include <stdint.h>

#define FD_HIST_BUCKETS 14

typedef struct fd_hist {
	uint64_t counts[FD_HIST_BUCKETS]; /* values <= fd_hist_bound(i) and > the one below;
	                                     the last: above every bound */
	uint64_t count;
	uint64_t sum_us;
	uint64_t max_us;
} fd_hist;

/* The upper bound of bucket i in microseconds; INT64_MAX for the last. */
int64_t fd_hist_bound(size_t i);

/* Record one duration (negative counts as 0). */
void fd_hist_add(fd_hist *h, int64_t us);

/* Values recorded at or below bucket i's bound. */
uint64_t fd_hist_cumulative(const fd_hist *h, size_t i);

#endif
