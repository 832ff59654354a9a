/*
 * test_timer.c — unit tests for the deadline queue (src/engine/timer.c).
 *
 * Pins the queue's order (due, then key, then insertion), the exact boundary
 * of pop_due, handle validity (removed, fired and recycled handles are
 * rejected), sequence renumbering, and checks the queue against a
 * brute-force reference over a long random run. It does not measure speed
 * (bench/bench_timer.c does).
 */
#include <criterion/criterion.h>

#include <stdlib.h>

#include "engine/timer.h"

#define SLOT_MASK ((UINT32_C(1) << 25) - 1)

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

/* Pop one due timer and say which of hs[0..n) it was (-1: none popped or
 * not one of them). */
static int pop_which(fd_timers *t, int64_t now, const fd_timer_handle *hs, int n)
{
	bool before[64];
	cr_assert(n <= 64);
	for (int i = 0; i < n; i++)
		before[i] = fd_timers_get(t, hs[i], NULL, NULL);
	if (!fd_timers_pop_due(t, now, NULL, NULL))
		return -1;
	int which = -1;
	for (int i = 0; i < n; i++) {
		if (before[i] && !fd_timers_get(t, hs[i], NULL, NULL)) {
			cr_assert_eq(which, -1, "one pop ended two timers");
			which = i;
		}
	}
	return which;
}

Test(timer, pops_in_due_order)
{
	fd_timers *t = fd_timers_new(0);
	const int64_t dues[] = { 50, 10, 30, 20, 40 };
	for (int i = 0; i < 5; i++)
		cr_assert_neq(fd_timers_add(t, dues[i], (uint64_t)i), 0);
	cr_assert_eq(fd_timers_count(t), 5);

	const int64_t want_due[] = { 10, 20, 30, 40, 50 };
	const uint64_t want_key[] = { 1, 3, 2, 4, 0 };
	for (int i = 0; i < 5; i++) {
		int64_t due = -1;
		uint64_t key = 99;
		cr_assert(fd_timers_pop_due(t, 1000, &due, &key));
		cr_assert_eq(due, want_due[i]);
		cr_assert_eq(key, want_key[i]);
	}
	cr_assert_eq(fd_timers_count(t), 0);
	cr_assert_not(fd_timers_pop_due(t, INT64_MAX, NULL, NULL));
	fd_timers_free(t);
}

Test(timer, equal_due_pops_by_key_ascending)
{
	fd_timers *t = fd_timers_new(4);
	const uint64_t keys[] = { 5, 3, UINT64_MAX, 0, 9 };
	for (int i = 0; i < 5; i++)
		fd_timers_add(t, 77, keys[i]);
	const uint64_t want[] = { 0, 3, 5, 9, UINT64_MAX };
	for (int i = 0; i < 5; i++) {
		uint64_t key;
		int64_t due;
		cr_assert(fd_timers_pop_due(t, 77, &due, &key));
		cr_assert_eq(due, 77);
		cr_assert_eq(key, want[i]);
	}
	fd_timers_free(t);
}

Test(timer, equal_due_and_key_pop_in_insertion_order)
{
	fd_timers *t = fd_timers_new(0);
	fd_timer_handle hs[4];
	/* Added in this order, with due times that would pop them differently;
	 * then all moved to one due time, so only insertion order separates
	 * them (updating, last first, does not change a timer's place). */
	hs[0] = fd_timers_add(t, 100, 7);
	hs[1] = fd_timers_add(t, 5, 7);
	hs[2] = fd_timers_add(t, 50, 7);
	hs[3] = fd_timers_add(t, 1, 7);
	for (int i = 3; i >= 0; i--)
		cr_assert(fd_timers_update(t, hs[i], 10));
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pop_which(t, 10, hs, 4), i);
	fd_timers_free(t);
}

Test(timer, next_is_int64_max_when_empty_and_earliest_otherwise)
{
	fd_timers *t = fd_timers_new(0);
	cr_assert_eq(fd_timers_next(t), INT64_MAX);
	fd_timers_add(t, 300, 1);
	fd_timers_add(t, -20, 2);
	fd_timers_add(t, 100, 3);
	cr_assert_eq(fd_timers_next(t), -20);
	cr_assert(fd_timers_pop_due(t, -20, NULL, NULL));
	cr_assert_eq(fd_timers_next(t), 100);
	fd_timers_free(t);
}

Test(timer, pop_due_fires_when_due_equals_now_and_not_one_ms_early)
{
	fd_timers *t = fd_timers_new(0);
	fd_timers_add(t, 1000, 42);
	int64_t due = -1;
	uint64_t key = 0;
	cr_assert_not(fd_timers_pop_due(t, 999, &due, &key));
	cr_assert_eq(due, -1, "outputs untouched when nothing is due");
	cr_assert_eq(key, 0);
	cr_assert_eq(fd_timers_count(t), 1);
	cr_assert(fd_timers_pop_due(t, 1000, &due, &key));
	cr_assert_eq(due, 1000);
	cr_assert_eq(key, 42);
	cr_assert_eq(fd_timers_count(t), 0);
	fd_timers_free(t);
}

Test(timer, pop_due_on_empty_queue_returns_false)
{
	fd_timers *t = fd_timers_new(0);
	int64_t due = 5;
	uint64_t key = 6;
	cr_assert_not(fd_timers_pop_due(t, INT64_MAX, &due, &key));
	cr_assert_eq(due, 5);
	cr_assert_eq(key, 6);
	fd_timers_free(t);
}

Test(timer, extreme_due_times_order_correctly)
{
	fd_timers *t = fd_timers_new(0);
	fd_timers_add(t, INT64_MAX, 1);
	fd_timers_add(t, INT64_MIN, 2);
	fd_timers_add(t, 0, 3);
	uint64_t key;
	cr_assert(fd_timers_pop_due(t, INT64_MIN, NULL, &key));
	cr_assert_eq(key, 2);
	cr_assert_not(fd_timers_pop_due(t, -1, NULL, NULL));
	cr_assert(fd_timers_pop_due(t, 0, NULL, &key));
	cr_assert_eq(key, 3);
	cr_assert_eq(fd_timers_next(t), INT64_MAX);
	cr_assert(fd_timers_pop_due(t, INT64_MAX, NULL, &key));
	cr_assert_eq(key, 1);
	fd_timers_free(t);
}

Test(timer, remove_takes_a_pending_timer_out_once)
{
	fd_timers *t = fd_timers_new(0);
	fd_timer_handle a = fd_timers_add(t, 10, 1);
	fd_timer_handle b = fd_timers_add(t, 20, 2);
	fd_timer_handle c = fd_timers_add(t, 30, 3);
	cr_assert(fd_timers_remove(t, a));
	cr_assert_not(fd_timers_remove(t, a), "second remove of the same handle");
	cr_assert_eq(fd_timers_count(t), 2);
	cr_assert_eq(fd_timers_next(t), 20);
	cr_assert(fd_timers_remove(t, c));
	uint64_t key;
	cr_assert(fd_timers_pop_due(t, 100, NULL, &key));
	cr_assert_eq(key, 2);
	cr_assert_not(fd_timers_remove(t, b), "a fired timer cannot be removed");
	cr_assert_eq(fd_timers_count(t), 0);
	fd_timers_free(t);
}

Test(timer, update_moves_a_timer_earlier_and_later)
{
	fd_timers *t = fd_timers_new(0);
	fd_timer_handle a = fd_timers_add(t, 10, 1);
	fd_timer_handle b = fd_timers_add(t, 20, 2);
	fd_timers_add(t, 30, 3);
	cr_assert(fd_timers_update(t, b, 5));
	cr_assert_eq(fd_timers_next(t), 5);
	cr_assert(fd_timers_update(t, a, 40));
	int64_t due;
	uint64_t key;
	cr_assert(fd_timers_get(t, a, &due, &key));
	cr_assert_eq(due, 40);
	cr_assert_eq(key, 1);
	const uint64_t want[] = { 2, 3, 1 };
	for (int i = 0; i < 3; i++) {
		cr_assert(fd_timers_pop_due(t, 40, NULL, &key));
		cr_assert_eq(key, want[i]);
	}
	cr_assert_not(fd_timers_update(t, a, 1), "a fired timer cannot be updated");
	fd_timers_free(t);
}

Test(timer, handle_zero_and_unissued_handles_are_rejected)
{
	fd_timers *t = fd_timers_new(0);
	fd_timer_handle h = fd_timers_add(t, 1, 1);
	cr_assert_neq(h, 0);
	cr_assert_not(fd_timers_remove(t, 0));
	cr_assert_not(fd_timers_update(t, 0, 5));
	cr_assert_not(fd_timers_get(t, 0, NULL, NULL));
	cr_assert_not(fd_timers_remove(t, h + 1), "slot never handed out");
	cr_assert_not(fd_timers_remove(t, h ^ (UINT32_C(1) << 25)), "wrong generation");
	cr_assert_not(fd_timers_remove(t, UINT32_MAX));
	cr_assert_eq(fd_timers_count(t), 1);
	fd_timers_free(t);
}

Test(timer, stale_handle_does_not_touch_the_timer_that_reused_its_slot)
{
	fd_timers *t = fd_timers_new(0);
	const int n = FD_TIMERS_REUSE_DELAY + 8;
	fd_timer_handle *hs = malloc((size_t)n * sizeof *hs);
	for (int i = 0; i < n; i++)
		hs[i] = fd_timers_add(t, i, (uint64_t)i);
	for (int i = 0; i < n; i++)
		cr_assert(fd_timers_remove(t, hs[i]));
	/* Enough free slots now: the next add recycles the first one freed. */
	fd_timer_handle fresh = fd_timers_add(t, 500, 9999);
	cr_assert_eq(fresh & SLOT_MASK, hs[0] & SLOT_MASK, "slot was recycled");
	cr_assert_neq(fresh, hs[0]);

	cr_assert_not(fd_timers_remove(t, hs[0]));
	cr_assert_not(fd_timers_update(t, hs[0], 1));
	cr_assert_not(fd_timers_get(t, hs[0], NULL, NULL));
	int64_t due;
	uint64_t key;
	cr_assert(fd_timers_get(t, fresh, &due, &key));
	cr_assert_eq(due, 500);
	cr_assert_eq(key, 9999);
	cr_assert_eq(fd_timers_count(t), 1);
	free(hs);
	fd_timers_free(t);
}

Test(timer, slots_are_not_recycled_while_few_are_free)
{
	fd_timers *t = fd_timers_new(0);
	fd_timer_handle a = fd_timers_add(t, 1, 1);
	cr_assert(fd_timers_remove(t, a));
	fd_timer_handle b = fd_timers_add(t, 1, 1);
	cr_assert_neq(b & SLOT_MASK, a & SLOT_MASK);
	cr_assert_not(fd_timers_remove(t, a));
	cr_assert(fd_timers_remove(t, b));
	fd_timers_free(t);
}

Test(timer, insertion_order_survives_sequence_renumbering)
{
	fd_timers *t = fd_timers_new(0);
	fd_timer_handle hs[8];
	hs[0] = fd_timers_add(t, 10, 7);
	hs[1] = fd_timers_add(t, 10, 7);
	fd_timers_add(t, 3, 1); /* unrelated, earlier */
	fd_timers_test_set_next_seq(t, FD_TIMERS_SEQ_LIMIT - 2);
	hs[2] = fd_timers_add(t, 10, 7);
	hs[3] = fd_timers_add(t, 10, 7);
	hs[4] = fd_timers_add(t, 10, 7); /* renumbers first */
	hs[5] = fd_timers_add(t, 10, 7);
	hs[6] = fd_timers_add(t, 2, 7);
	cr_assert(fd_timers_update(t, hs[6], 10)); /* keeps its place: last */
	cr_assert_eq(fd_timers_count(t), 8);

	uint64_t key;
	cr_assert(fd_timers_pop_due(t, 10, NULL, &key));
	cr_assert_eq(key, 1);
	for (int i = 0; i < 7; i++)
		cr_assert_eq(pop_which(t, 10, hs, 7), i);
	cr_assert_eq(fd_timers_count(t), 0);
	fd_timers_free(t);
}

Test(timer, memory_covers_heap_and_slots)
{
	fd_timers *t = fd_timers_new(1000);
	size_t empty = fd_timers_memory(t);
	cr_assert_geq(empty, 1000 * (24 + 4));
	for (int i = 0; i < 1000; i++)
		fd_timers_add(t, i, 0);
	cr_assert_eq(fd_timers_memory(t), empty, "a sized queue does not grow");
	fd_timers_add(t, 0, 0);
	cr_assert_gt(fd_timers_memory(t), empty);
	fd_timers_free(t);
}

/* ---- brute-force reference ------------------------------------------------ */

typedef struct ref_timer {
	int64_t due;
	uint64_t key;
	uint64_t seq;
	fd_timer_handle h;
	bool live;
} ref_timer;

/* The reference's next timer among r[live_idx[0..n)], or -1. */
static int ref_earliest(const ref_timer *r, const size_t *live_idx, size_t n)
{
	int best = -1;
	for (size_t k = 0; k < n; k++) {
		size_t i = live_idx[k];
		if (best < 0 || r[i].due < r[best].due ||
		    (r[i].due == r[best].due &&
		     (r[i].key < r[best].key ||
		      (r[i].key == r[best].key && r[i].seq < r[best].seq))))
			best = (int)i;
	}
	return best;
}

Test(timer, matches_brute_force_reference_over_100k_random_ops)
{
	enum { OPS = 100000 };
	uint64_t rng = 20240611;
	fd_timers *t = fd_timers_new(0);
	ref_timer *ref = calloc(OPS, sizeof *ref);
	size_t n_ref = 0, live = 0;
	int64_t now = 0;
	/* Indices of live reference timers, for picking one at random. */
	size_t *live_idx = malloc(OPS * sizeof *live_idx);

	for (int op = 0; op < OPS; op++) {
		uint64_t r = rng_below(&rng, 100);
		if (r < 40 || live == 0) {
			int64_t due = now + (int64_t)rng_below(&rng, 200) - 20;
			uint64_t key = rng_below(&rng, 8);
			fd_timer_handle h = fd_timers_add(t, due, key);
			cr_assert_neq(h, 0);
			ref[n_ref] = (ref_timer){ due, key, n_ref, h, true };
			live_idx[live++] = n_ref++;
		} else if (r < 55) {
			size_t pick = rng_below(&rng, live);
			ref_timer *x = &ref[live_idx[pick]];
			cr_assert(fd_timers_remove(t, x->h), "op %d", op);
			x->live = false;
			live_idx[pick] = live_idx[--live];
		} else if (r < 60) {
			/* A dead handle (removed or fired) must be refused. */
			size_t i = rng_below(&rng, n_ref);
			if (!ref[i].live) {
				cr_assert_not(fd_timers_remove(t, ref[i].h), "op %d", op);
				cr_assert_not(fd_timers_update(t, ref[i].h, now), "op %d", op);
			}
		} else if (r < 75) {
			size_t pick = rng_below(&rng, live);
			ref_timer *x = &ref[live_idx[pick]];
			x->due = now + (int64_t)rng_below(&rng, 200) - 20;
			cr_assert(fd_timers_update(t, x->h, x->due), "op %d", op);
		} else {
			now += (int64_t)rng_below(&rng, 30);
			for (;;) {
				int e = ref_earliest(ref, live_idx, live);
				bool ref_due = e >= 0 && ref[e].due <= now;
				int64_t due;
				uint64_t key;
				bool got = fd_timers_pop_due(t, now, &due, &key);
				cr_assert_eq(got, ref_due, "op %d", op);
				if (!got)
					break;
				cr_assert_eq(due, ref[e].due, "op %d", op);
				cr_assert_eq(key, ref[e].key, "op %d", op);
				cr_assert_not(fd_timers_get(t, ref[e].h, NULL, NULL),
				              "op %d: the popped timer is the reference's", op);
				ref[e].live = false;
				for (size_t k = 0; k < live; k++) {
					if (live_idx[k] == (size_t)e) {
						live_idx[k] = live_idx[--live];
						break;
					}
				}
			}
		}
		cr_assert_eq(fd_timers_count(t), live, "op %d", op);
		int e = ref_earliest(ref, live_idx, live);
		cr_assert_eq(fd_timers_next(t), e < 0 ? INT64_MAX : ref[e].due, "op %d", op);
	}
	free(live_idx);
	free(ref);
	fd_timers_free(t);
}

typedef struct due_key {
	int64_t due;
	uint64_t key;
} due_key;

static int cmp_due_key(const void *a, const void *b)
{
	const due_key *x = a, *y = b;
	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

Test(timer, million_adds_pop_in_sorted_order)
{
	enum { N = 1000000 };
	uint64_t rng = 7;
	fd_timers *t = fd_timers_new(0);
	due_key *want = malloc(N * sizeof *want);
	for (int i = 0; i < N; i++) {
		want[i].due = (int64_t)rng_below(&rng, 10000000);
		want[i].key = (uint64_t)i;
		cr_assert_neq(fd_timers_add(t, want[i].due, want[i].key), 0);
	}
	cr_assert_eq(fd_timers_count(t), N);
	qsort(want, N, sizeof *want, cmp_due_key);
	for (int i = 0; i < N; i++) {
		int64_t due;
		uint64_t key;
		cr_assert(fd_timers_pop_due(t, INT64_MAX, &due, &key));
		if (due != want[i].due || key != want[i].key)
			cr_assert_fail("pop %d: got (%lld, %llu), want (%lld, %llu)", i,
			               (long long)due, (unsigned long long)key,
			               (long long)want[i].due, (unsigned long long)want[i].key);
	}
	cr_assert_eq(fd_timers_count(t), 0);
	free(want);
	fd_timers_free(t);
}
