/*
 * hist.c — fixed-bucket duration histogram (see hist.h).
 */
#include "base/hist.h"

/* 50 µs to 5 s: the loop's turns are meant to stay under ~2 ms */
static const int64_t bounds_us[FD_HIST_BUCKETS - 1] = {
	50, 100, 250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 1000000, 5000000,
};

int64_t fd_hist_bound(size_t i)
{
	return i < FD_HIST_BUCKETS - 1 ? bounds_us[i] : INT64_MAX;
}

void fd_hist_add(fd_hist *h, int64_t us)
{
	if (us < 0)
		us = 0;
	size_t i = 0;
	while (i < FD_HIST_BUCKETS - 1 && us > bounds_us[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum_us += (uint64_t)us;
	if ((uint64_t)us > h->max_us)
		h->max_us = (uint64_t)us;
}

uint64_t fd_hist_cumulative(const fd_hist *h, size_t i)
{
	uint64_t n = 0;
	for (size_t j = 0; j <= i && j < FD_HIST_BUCKETS; j++)
		n += h->counts[j];
	return n;
}
