/*
 * test_merge.c — co-partitioned queues merged in event-time order
 * (src/base/merge.c), on a virtual monotonic clock.
 *
 * Items are small integers cast to pointers: what comes out, in which
 * order, is asserted exactly.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "base/merge.h"

enum { ENG = 0, PROF = 1, ACT = 2 };
static const int RANK[3] = { 1, 0, 2 }; /* profiles, then engagement, then activities */

static void *it(intptr_t v)
{
	return (void *)v;
}

static intptr_t val(const fd_merge_out *o)
{
	return (intptr_t)o->item;
}

/* Pop everything ready at `now` into vals; how many. */
static size_t drain(fd_merge *m, int64_t now, intptr_t *vals, size_t max)
{
	fd_merge_out out[64];
	size_t n = fd_merge_pop(m, now, out, max < 64 ? max : 64);
	for (size_t i = 0; i < n; i++)
		vals[i] = val(&out[i]);
	return n;
}

static void all_caught_up(fd_merge *m, int32_t p)
{
	for (int i = 0; i < 3; i++)
		fd_merge_caught_up(m, p, i, true);
}

Test(merge, lowest_timestamp_first_across_inputs_read_order_within_one)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 1000);
	/* read order: all the activities first, then engagement, then profiles */
	cr_assert_eq(fd_merge_push(m, 0, ACT, 30, it(3)), 0);
	cr_assert_eq(fd_merge_push(m, 0, ACT, 10, it(1)), 0); /* older, but after 3 in its topic */
	cr_assert_eq(fd_merge_push(m, 0, ENG, 20, it(2)), 0);
	cr_assert_eq(fd_merge_push(m, 0, ENG, 40, it(4)), 0);
	cr_assert_eq(fd_merge_push(m, 0, PROF, 5, it(0)), 0);
	all_caught_up(m, 0); /* nothing else to come */
	fd_merge_caught_up(m, 0, ACT, true);
	/* pushing cleared nothing here: the marks came after the pushes */
	intptr_t v[8];
	size_t n = drain(m, 0, v, 8);
	cr_assert_eq(n, 5);
	/* 0 (prof 5); then act head 30 vs eng 20 -> 2; act 30 vs eng 40 -> 3;
	   act 10 (its own order kept) vs eng 40 -> 1; then 4 */
	intptr_t want[] = { 0, 2, 3, 1, 4 };
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(v[i], want[i], "at %zu: %ld", i, (long)v[i]);
	cr_expect_eq(fd_merge_total(m), 0);
	cr_expect_eq(fd_merge_forced(m), 0);
	fd_merge_free(m);
}

Test(merge, equal_timestamps_go_by_rank)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 1000);
	fd_merge_push(m, 2, ACT, 7, it(30));
	fd_merge_push(m, 2, ENG, 7, it(10));
	fd_merge_push(m, 2, PROF, 7, it(20));
	all_caught_up(m, 2);
	intptr_t v[4];
	cr_assert_eq(drain(m, 0, v, 4), 3);
	cr_expect_eq(v[0], 20);
	cr_expect_eq(v[1], 10);
	cr_expect_eq(v[2], 30);
	fd_merge_free(m);
}

/* An input not known to be caught up is waited for, max_idle_ms at most;
 * what it delivers in time goes first when older. */
Test(merge, an_input_not_caught_up_is_waited_for)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 500);
	fd_merge_caught_up(m, 0, PROF, true);
	fd_merge_push(m, 0, ENG, 100, it(1));
	intptr_t v[4];
	cr_assert_eq(drain(m, 1000, v, 4), 0, "activities were never read: wait");
	cr_expect_eq(fd_merge_wake_at(m), 1500);
	cr_assert_eq(drain(m, 1499, v, 4), 0);
	fd_merge_push(m, 0, ACT, 50, it(0)); /* the older record arrives in time */
	fd_merge_caught_up(m, 0, ACT, true);
	cr_assert_eq(drain(m, 1499, v, 4), 2);
	cr_expect_eq(v[0], 0);
	cr_expect_eq(v[1], 1);
	cr_expect_eq(fd_merge_forced(m), 0);
	fd_merge_free(m);
}

Test(merge, after_max_idle_the_others_go_forced)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 500);
	fd_merge_caught_up(m, 0, PROF, true);
	fd_merge_push(m, 0, ENG, 100, it(1));
	fd_merge_push(m, 0, ENG, 200, it(2));
	intptr_t v[4];
	cr_assert_eq(drain(m, 1000, v, 4), 0);
	cr_assert_eq(drain(m, 1500, v, 4), 2);
	cr_expect_eq(v[0], 1);
	cr_expect_eq(v[1], 2);
	cr_expect_eq(fd_merge_forced(m), 2);
	cr_expect_eq(fd_merge_wake_at(m), INT64_MAX);
	/* still empty, still forced: the next record does not wait again */
	fd_merge_push(m, 0, ENG, 300, it(3));
	cr_assert_eq(drain(m, 1501, v, 4), 1);
	cr_expect_eq(fd_merge_forced(m), 3);
	/* once it delivered, it is waited for afresh when it empties again */
	fd_merge_push(m, 0, ACT, 400, it(4));
	fd_merge_push(m, 0, ENG, 500, it(5));
	cr_assert_eq(drain(m, 1502, v, 4), 1);
	cr_expect_eq(v[0], 4);
	cr_expect_eq(fd_merge_wake_at(m), 2002);
	cr_assert_eq(drain(m, 2001, v, 4), 0);
	cr_assert_eq(drain(m, 2002, v, 4), 1);
	cr_expect_eq(v[0], 5);
	cr_expect_eq(fd_merge_forced(m), 4);
	fd_merge_free(m);
}

/* A caught-up input is waited for max_idle_ms: a producer may still send
 * an older record. */
Test(merge, a_caught_up_input_is_waited_for_max_idle)
{
	fd_merge *m = fd_merge_new(3, RANK, 100, 500);
	all_caught_up(m, 0);
	fd_merge_push(m, 0, ENG, 100, it(1));
	intptr_t v[4];
	cr_assert_eq(drain(m, 1000, v, 4), 0);
	cr_expect_eq(fd_merge_wake_at(m), 1100);
	fd_merge_push(m, 0, ACT, 90, it(0)); /* late, older */
	fd_merge_caught_up(m, 0, ACT, true);
	cr_assert_eq(drain(m, 1050, v, 4), 0, "profiles are still waited for");
	cr_expect_eq(fd_merge_wake_at(m), 1100);
	cr_assert_eq(drain(m, 1100, v, 4), 1, "then activities, empty again, are");
	cr_expect_eq(v[0], 0);
	cr_expect_eq(fd_merge_wake_at(m), 1200);
	cr_assert_eq(drain(m, 1200, v, 4), 1);
	cr_expect_eq(v[0], 1);
	cr_expect_eq(fd_merge_forced(m), 2);
	/* an input not known to be at its end is waited for max_lag_ms */
	fd_merge_set_waits(m, 0, 500);
	fd_merge_push(m, 0, ENG, 200, it(2));
	fd_merge_caught_up(m, 0, PROF, false);
	fd_merge_caught_up(m, 0, ACT, true);
	cr_assert_eq(drain(m, 2000, v, 4), 0);
	cr_expect_eq(fd_merge_wake_at(m), 2500);
	cr_assert_eq(drain(m, 2500, v, 4), 1);
	fd_merge_free(m);
}

Test(merge, zero_idle_never_waits)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 0);
	fd_merge_push(m, 0, ENG, 100, it(1));
	intptr_t v[4];
	cr_assert_eq(drain(m, 0, v, 4), 1);
	cr_expect_eq(fd_merge_forced(m), 0);
	fd_merge_free(m);
}

/* A seek makes the position unknown again: caught up no more. */
Test(merge, caught_up_false_waits_again)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 500);
	all_caught_up(m, 0);
	fd_merge_caught_up(m, 0, ACT, false);
	fd_merge_push(m, 0, ENG, 100, it(1));
	intptr_t v[4];
	cr_assert_eq(drain(m, 0, v, 4), 0);
	fd_merge_free(m);
}

/* A push clears the queue's caught-up mark: its end has to be seen again. */
Test(merge, a_push_clears_caught_up)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 500);
	all_caught_up(m, 0);
	fd_merge_push(m, 0, ACT, 10, it(1));
	fd_merge_push(m, 0, ENG, 20, it(2));
	intptr_t v[4];
	cr_assert_eq(drain(m, 0, v, 4), 1, "act 10 goes; then act is empty and not caught up");
	cr_expect_eq(v[0], 1);
	fd_merge_caught_up(m, 0, ACT, true);
	cr_assert_eq(drain(m, 0, v, 4), 1);
	cr_expect_eq(v[0], 2);
	fd_merge_free(m);
}

/* Partitions are independent: one waiting does not hold another back,
 * and each gets its turn. */
Test(merge, partitions_take_turns_and_wait_alone)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 500);
	all_caught_up(m, 1);
	all_caught_up(m, 3);
	fd_merge_push(m, 0, ENG, 1, it(100)); /* partition 0: nothing caught up */
	for (int i = 0; i < 3; i++) {
		fd_merge_push(m, 1, ENG, i, it(10 + i));
		fd_merge_push(m, 3, ENG, i, it(30 + i));
	}
	intptr_t v[8];
	cr_assert_eq(drain(m, 0, v, 2), 2);
	cr_expect_eq(v[0], 10);
	cr_expect_eq(v[1], 11);
	cr_assert_eq(drain(m, 0, v, 8), 4, "partition 3 next, then the rest of 1");
	cr_expect_eq(v[0], 30);
	cr_expect_eq(v[1], 31);
	cr_expect_eq(v[2], 32);
	cr_expect_eq(v[3], 12);
	cr_expect_eq(fd_merge_wake_at(m), 500);
	cr_expect_eq(fd_merge_total(m), 1);
	fd_merge_free(m);
}

static void collect(void *ctx, void *item, int32_t partition, int input)
{
	intptr_t *seen = ctx;
	seen[seen[0] + 1] = (intptr_t)item * 100 + partition * 10 + input;
	seen[0]++;
}

Test(merge, drop_hands_back_a_partitions_items_in_read_order)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 500);
	fd_merge_push(m, 0, ENG, 1, it(1));
	fd_merge_push(m, 2, ENG, 1, it(2));
	fd_merge_push(m, 2, ACT, 0, it(3));
	fd_merge_push(m, 2, ENG, 2, it(4));
	intptr_t seen[8] = { 0 };
	fd_merge_drop(m, 2, collect, seen);
	cr_assert_eq(seen[0], 3);
	cr_expect_eq(seen[1], 220);
	cr_expect_eq(seen[2], 420);
	cr_expect_eq(seen[3], 322);
	cr_expect_eq(fd_merge_total(m), 1);
	cr_expect_eq(fd_merge_queued(m, 2, ENG), 0);
	cr_expect_eq(fd_merge_queued(m, 0, ENG), 1);
	fd_merge_drop(m, -1, collect, seen);
	cr_expect_eq(seen[0], 4);
	cr_expect_eq(fd_merge_total(m), 0);
	intptr_t v[4];
	cr_expect_eq(drain(m, 10000, v, 4), 0);
	fd_merge_free(m);
}

/* Dropping keeps what is known of the queues that held nothing (their
 * readers do not move); the ones that held records are no longer caught
 * up (they are read again). fd_merge_forget forgets everything. */
Test(merge, drop_keeps_the_marks_of_empty_queues)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 500);
	fd_merge_push(m, 0, ENG, 10, it(1));
	all_caught_up(m, 0);
	fd_merge_drop(m, -1, NULL, NULL);
	fd_merge_push(m, 0, ACT, 20, it(2));
	fd_merge_caught_up(m, 0, ACT, true);
	intptr_t v[4];
	cr_assert_eq(drain(m, 0, v, 4), 0, "engagement held a record: not caught up any more");
	fd_merge_caught_up(m, 0, ENG, true);
	cr_assert_eq(drain(m, 0, v, 4), 1, "profiles kept theirs");
	fd_merge_push(m, 0, ACT, 30, it(3));
	fd_merge_caught_up(m, 0, ACT, true);
	fd_merge_forget(m, 0);
	cr_assert_eq(drain(m, 0, v, 4), 0, "forgotten: nothing is caught up");
	fd_merge_free(m);
}

/* Rings grow past their first size and keep order across the wrap. */
Test(merge, queues_grow_and_keep_order)
{
	fd_merge *m = fd_merge_new(3, RANK, 0, 500);
	all_caught_up(m, 5);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(fd_merge_push(m, 5, ENG, i, it(i)), 0);
	intptr_t v[64];
	cr_assert_eq(drain(m, 0, v, 25), 25);
	for (int i = 0; i < 25; i++)
		cr_assert_eq(v[i], i);
	for (int i = 40; i < 80; i++) /* the ring wraps, then grows */
		cr_assert_eq(fd_merge_push(m, 5, ENG, i, it(i)), 0);
	fd_merge_caught_up(m, 5, ENG, true);
	cr_assert_eq(drain(m, 0, v, 64), 55);
	for (int i = 0; i < 55; i++)
		cr_assert_eq(v[i], 25 + i);
	cr_expect_eq(fd_merge_total(m), 0);
	fd_merge_free(m);
}

Test(merge, bad_arguments)
{
	cr_expect_null(fd_merge_new(0, NULL, 0, 0));
	cr_expect_null(fd_merge_new(4, NULL, 0, 0));
	cr_expect_null(fd_merge_new(3, NULL, -1, 0));
	cr_expect_null(fd_merge_new(3, NULL, 0, -1));
	fd_merge *m = fd_merge_new(2, NULL, 0, 0);
	cr_expect_eq(fd_merge_push(m, -1, 0, 0, it(1)), -1);
	cr_expect_eq(fd_merge_push(m, 0, 2, 0, it(1)), -1);
	cr_expect_eq(fd_merge_total(m), 0);
	fd_merge_free(m);
}
