/*
 * test_hist.c — the loop-turn histogram: which bucket a duration lands in
 * at each boundary, cumulative counts, sum and longest.
 */
#include <criterion/criterion.h>

#include "base/hist.h"

Test(hist, a_value_on_a_bound_lands_in_that_bucket)
{
	fd_hist h = { 0 };
	fd_hist_add(&h, 50);
	fd_hist_add(&h, 51);
	fd_hist_add(&h, 0);
	fd_hist_add(&h, -7);
	fd_hist_add(&h, 5000000);
	fd_hist_add(&h, 5000001);
	cr_assert_eq(h.counts[0], 3, "0, -7 (as 0) and 50");
	cr_assert_eq(h.counts[1], 1, "51");
	cr_assert_eq(h.counts[FD_HIST_BUCKETS - 2], 1, "5 s");
	cr_assert_eq(h.counts[FD_HIST_BUCKETS - 1], 1, "above every bound");
	cr_assert_eq(h.count, 6);
	cr_assert_eq(h.sum_us, 50 + 51 + 5000000 + 5000001);
	cr_assert_eq(h.max_us, 5000001);
	cr_assert_eq(fd_hist_bound(0), 50);
	cr_assert_eq(fd_hist_bound(FD_HIST_BUCKETS - 2), 5000000);
	cr_assert_eq(fd_hist_bound(FD_HIST_BUCKETS - 1), INT64_MAX);
}

Test(hist, cumulative_counts_add_up_to_the_count)
{
	fd_hist h = { 0 };
	for (int64_t us = 0; us <= 2000; us++)
		fd_hist_add(&h, us);
	cr_assert_eq(fd_hist_cumulative(&h, 0), 51, "0..50");
	cr_assert_eq(fd_hist_cumulative(&h, 1), 101, "0..100");
	cr_assert_eq(fd_hist_cumulative(&h, 5), 2001, "0..2000 (the 2 ms bucket)");
	cr_assert_eq(fd_hist_cumulative(&h, FD_HIST_BUCKETS - 1), h.count);
	cr_assert_eq(h.max_us, 2000);
	for (size_t i = 1; i < FD_HIST_BUCKETS; i++)
		cr_assert_gt(fd_hist_bound(i), fd_hist_bound(i - 1), "bounds increase");
}

/* An input's age, in milliseconds from 5 ms to a week: a value on a bound
 * lands in it, a backfill's year-old event above every bound, and the sum
 * (in ms) does not overflow at a year per record. */
Test(hist, the_event_age_scale_counts_milliseconds_up_to_a_week)
{
	fd_hist h;
	fd_hist_init(&h, &fd_hist_event_age);
	cr_assert_eq(fd_hist_scale_of(&h)->n, 20);
	cr_assert_eq(fd_hist_scale_of(&h)->per_second, 1000);
	fd_hist_add(&h, 5);                            /* first bucket */
	fd_hist_add(&h, 6);                            /* 10 ms */
	fd_hist_add(&h, 3600000);                      /* on the 1 h bound */
	fd_hist_add(&h, 604800000);                    /* on the 7 d bound */
	fd_hist_add(&h, 365LL * 24 * 3600 * 1000);     /* a year: above every bound */
	cr_assert_eq(h.counts[0], 1);
	cr_assert_eq(h.counts[1], 1);
	cr_assert_eq(fd_hist_upper(&h, 15), 3600000);
	cr_assert_eq(h.counts[15], 1);
	cr_assert_eq(fd_hist_upper(&h, 18), 604800000);
	cr_assert_eq(h.counts[18], 1);
	cr_assert_eq(h.counts[19], 1);
	cr_assert_eq(fd_hist_upper(&h, 19), INT64_MAX);
	cr_assert_eq(fd_hist_cumulative(&h, 18), 4);
	cr_assert_eq(fd_hist_cumulative(&h, 19), 5);
	cr_assert_eq(h.sum_us, 5 + 6 + 3600000 + 604800000 + 365ULL * 24 * 3600 * 1000);
	for (size_t i = 1; i < 20; i++)
		cr_assert_gt(fd_hist_upper(&h, i), fd_hist_upper(&h, i - 1), "bounds increase");
}

Test(hist, the_record_time_scale_counts_microseconds_up_to_100_ms)
{
	fd_hist h;
	fd_hist_init(&h, &fd_hist_record_time);
	cr_assert_eq(fd_hist_scale_of(&h)->n, 15);
	fd_hist_add(&h, 0);
	fd_hist_add(&h, 1);
	fd_hist_add(&h, 2);
	fd_hist_add(&h, 100000);
	fd_hist_add(&h, 100001);
	cr_assert_eq(h.counts[0], 2, "0 and 1 µs");
	cr_assert_eq(h.counts[1], 1, "2 µs");
	cr_assert_eq(h.counts[13], 1, "100 ms");
	cr_assert_eq(h.counts[14], 1, "above every bound");
	cr_assert_eq(fd_hist_cumulative(&h, 14), 5);
	cr_assert_eq(h.max_us, 100001);
}

Test(hist, a_zeroed_histogram_follows_the_loop_turn_scale)
{
	fd_hist h = { 0 };
	cr_assert_eq(fd_hist_scale_of(&h), &fd_hist_loop_turns);
	for (size_t i = 0; i < FD_HIST_BUCKETS; i++)
		cr_assert_eq(fd_hist_upper(&h, i), fd_hist_bound(i));
}
