/*
 * hist.c — fixed-bucket duration histograms (see hist.h).
 */
#include "base/hist.h"

static const int64_t loop_bounds_us[] = {
	50, 100, 250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 1000000, 5000000,
};
static const int64_t record_bounds_us[] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000,
};
#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
static const int64_t age_bounds_ms[] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, MIN_MS, 5 * MIN_MS,
	15 * MIN_MS, HOUR_MS, 4 * HOUR_MS, 24 * HOUR_MS, HOUR_MS * 24 * 7,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(N(loop_bounds_us) + 1 == FD_HIST_BUCKETS, "the default scale's buckets");
_Static_assert(N(record_bounds_us) + 1 <= FD_HIST_MAX_BUCKETS, "buckets");
_Static_assert(N(age_bounds_ms) + 1 <= FD_HIST_MAX_BUCKETS, "buckets");

const fd_hist_scale fd_hist_loop_turns = { N(loop_bounds_us) + 1, loop_bounds_us, 1000000 };
const fd_hist_scale fd_hist_record_time = { N(record_bounds_us) + 1, record_bounds_us, 1000000 };
const fd_hist_scale fd_hist_event_age = { N(age_bounds_ms) + 1, age_bounds_ms, 1000 };

void fd_hist_init(fd_hist *h, const fd_hist_scale *scale)
{
	*h = (fd_hist){ .scale = scale };
}

const fd_hist_scale *fd_hist_scale_of(const fd_hist *h)
{
	return h->scale ? h->scale : &fd_hist_loop_turns;
}

int64_t fd_hist_bound(size_t i)
{
	return i < FD_HIST_BUCKETS - 1 ? loop_bounds_us[i] : INT64_MAX;
}

int64_t fd_hist_upper(const fd_hist *h, size_t i)
{
	const fd_hist_scale *s = fd_hist_scale_of(h);
	return i + 1 < s->n ? s->bounds[i] : INT64_MAX;
}

void fd_hist_add(fd_hist *h, int64_t value)
{
	const fd_hist_scale *s = fd_hist_scale_of(h);
	if (value < 0)
		value = 0;
	size_t i = 0;
	while (i + 1 < s->n && value > s->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum_us += (uint64_t)value;
	if ((uint64_t)value > h->max_us)
		h->max_us = (uint64_t)value;
}

uint64_t fd_hist_cumulative(const fd_hist *h, size_t i)
{
	const fd_hist_scale *s = fd_hist_scale_of(h);
	uint64_t n = 0;
	for (size_t j = 0; j <= i && j < s->n; j++)
		n += h->counts[j];
	return n;
}
