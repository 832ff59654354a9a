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
