/*
 * test_demo_agenda.c — unit tests for the demo's virtual-time agenda
 * (src/daemon/demo_agenda.c) and its random streams (demo_rng.h), the two
 * pieces that make a demo run reproducible per seed.
 *
 * Pins the agenda's order (time, then insertion), the exact boundary of
 * pop (due at or before now), and its behaviour against a sorted reference
 * over a long random run; and that a stream depends only on (seed, a, b).
 * The demo as a whole is tested as a process (integration/test_demo.c).
 */
#include <criterion/criterion.h>

#include <stdlib.h>

#include "demo/demo_agenda.h"
#include "demo/demo_rng.h"

Test(demo_agenda, pops_in_time_order_and_fifo_on_equal_times)
{
	fd_demo_agenda a = { 0 };
	cr_assert_eq(fd_demo_agenda_add(&a, 300, 1, 10, 0), 0);
	cr_assert_eq(fd_demo_agenda_add(&a, 100, 2, 20, 0), 0);
	cr_assert_eq(fd_demo_agenda_add(&a, 300, 3, 30, 7), 0);
	cr_assert_eq(fd_demo_agenda_add(&a, 200, 4, 40, 0), 0);
	const int32_t want[] = { 2, 4, 1, 3 };
	fd_demo_task t;
	for (size_t i = 0; i < 4; i++) {
		cr_assert(fd_demo_agenda_pop(&a, 1000, &t));
		cr_expect_eq(t.lead, want[i], "pop %zu: lead %d, want %d", i, t.lead, want[i]);
	}
	cr_expect_eq(t.what, 30u);
	cr_expect_eq(t.gen, 7u);
	cr_expect_not(fd_demo_agenda_pop(&a, 1000, &t));
	fd_demo_agenda_free(&a);
}

Test(demo_agenda, pop_takes_only_what_is_due_at_or_before_now)
{
	fd_demo_agenda a = { 0 };
	fd_demo_agenda_add(&a, 500, 1, 0, 0);
	fd_demo_task t;
	cr_expect_not(fd_demo_agenda_pop(&a, 499, &t));
	cr_expect(fd_demo_agenda_pop(&a, 500, &t));
	cr_expect_eq(t.at_ms, 500);
	cr_expect_not(fd_demo_agenda_pop(&a, 500, &t));
	fd_demo_agenda_free(&a);
}

static int by_time_then_seq(const void *x, const void *y)
{
	const fd_demo_task *a = x, *b = y;
	if (a->at_ms != b->at_ms)
		return a->at_ms < b->at_ms ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* What the demo merges its two generators by: the earliest due time. */
Test(demo_agenda, next_is_the_earliest_due_time)
{
	fd_demo_agenda a = { 0 };
	cr_expect_eq(fd_demo_agenda_next(&a), INT64_MAX);
	cr_assert_eq(fd_demo_agenda_add(&a, 300, 1, 0, 0), 0);
	cr_assert_eq(fd_demo_agenda_add(&a, 100, 2, 0, 0), 0);
	cr_assert_eq(fd_demo_agenda_add(&a, 200, 3, 0, 0), 0);
	cr_expect_eq(fd_demo_agenda_next(&a), 100);
	fd_demo_task t;
	cr_assert(fd_demo_agenda_pop(&a, 100, &t));
	cr_expect_eq(fd_demo_agenda_next(&a), 200);
	cr_assert(fd_demo_agenda_pop(&a, 1000, &t));
	cr_assert(fd_demo_agenda_pop(&a, 1000, &t));
	cr_expect_eq(fd_demo_agenda_next(&a), INT64_MAX);
	fd_demo_agenda_free(&a);
}

Test(demo_agenda, matches_a_sorted_reference_over_a_random_run)
{
	enum { N = 20000 };
	fd_demo_agenda a = { 0 };
	fd_demo_task *ref = calloc(N, sizeof *ref);
	cr_assert_not_null(ref);
	fd_demo_rng r = fd_demo_rng_for(1, 2, 3);
	size_t n_ref = 0, popped = 0;
	int64_t now = 0;
	for (int i = 0; i < N; i++) {
		int64_t at = now + fd_demo_rng_below(&r, 1000);
		cr_assert_eq(fd_demo_agenda_add(&a, at, i, 0, 0), 0);
		ref[n_ref++] = (fd_demo_task){ at, (uint64_t)i, i, 0, 0 };
		if (i % 7 == 0) { /* advance and drain what is due */
			now += fd_demo_rng_below(&r, 300);
			qsort(ref + popped, n_ref - popped, sizeof *ref, by_time_then_seq);
			fd_demo_task t;
			while (fd_demo_agenda_pop(&a, now, &t)) {
				cr_assert_lt(popped, n_ref);
				cr_assert_eq(t.lead, ref[popped].lead, "at %zu", popped);
				popped++;
			}
			cr_assert(popped == n_ref || ref[popped].at_ms > now);
		}
	}
	fd_demo_agenda_free(&a);
	free(ref);
}

Test(demo_rng, a_stream_depends_only_on_seed_and_its_coordinates)
{
	fd_demo_rng x = fd_demo_rng_for(42, 7, 1), y = fd_demo_rng_for(42, 7, 1);
	fd_demo_rng z = fd_demo_rng_for(42, 8, 1), w = fd_demo_rng_for(43, 7, 1);
	uint64_t a = fd_demo_rng_next(&x);
	cr_expect_eq(a, fd_demo_rng_next(&y));
	cr_expect_neq(a, fd_demo_rng_next(&z));
	cr_expect_neq(a, fd_demo_rng_next(&w));
	for (int i = 0; i < 10000; i++) {
		double u = fd_demo_rng_unit(&x);
		cr_assert(u >= 0 && u < 1, "%g", u);
		int b = fd_demo_rng_below(&x, 6);
		cr_assert(b >= 0 && b < 6, "%d", b);
	}
}
