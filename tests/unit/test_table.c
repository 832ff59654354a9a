/*
 * test_table.c — unit tests for the lead table (src/engine/table.c).
 *
 * Pins find-or-insert semantics, zeroed records, stable record addresses and
 * indices across growth, binary keys (embedded NULs, 0 and 255 bytes),
 * iteration, backward-shift deletion inside long collision runs, and checks
 * the table against a simple reference over a long random run. It does not
 * measure speed (bench/bench_timer.c does).
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "base/table.h"

typedef struct test_lead {
	uint32_t id;
	uint32_t touches;
	char pad[40];
} test_lead;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static size_t lead_key(char *buf, uint32_t i)
{
	return (size_t)snprintf(buf, 32, "lead-%08u", i);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

Test(table, put_creates_a_zeroed_record_that_get_finds)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	bool created = false;
	test_lead *a = fd_table_put(t, "alice", 5, &created);
	cr_assert_not_null(a);
	cr_assert(created);
	cr_assert(all_zero(a, sizeof *a));
	a->id = 17;
	cr_assert_eq(fd_table_get(t, "alice", 5), a);
	cr_assert_eq(fd_table_count(t), 1);
	fd_table_free(t);
}

Test(table, put_of_an_existing_key_returns_its_record_untouched)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	test_lead *a = fd_table_put(t, "alice", 5, NULL);
	a->id = 17;
	bool created = true;
	test_lead *again = fd_table_put(t, "alice", 5, &created);
	cr_assert_eq(again, a);
	cr_assert_not(created);
	cr_assert_eq(again->id, 17);
	cr_assert_eq(fd_table_count(t), 1);
	fd_table_free(t);
}

Test(table, get_and_remove_of_absent_keys_report_absence)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	cr_assert_null(fd_table_get(t, "nobody", 6));
	cr_assert_not(fd_table_remove(t, "nobody", 6));
	fd_table_put(t, "alice", 5, NULL);
	cr_assert_null(fd_table_get(t, "alic", 4), "a prefix is a different key");
	cr_assert_null(fd_table_get(t, "alicex", 6));
	cr_assert(fd_table_remove(t, "alice", 5));
	cr_assert_null(fd_table_get(t, "alice", 5));
	cr_assert_not(fd_table_remove(t, "alice", 5));
	cr_assert_eq(fd_table_count(t), 0);
	fd_table_free(t);
}

Test(table, a_reinserted_key_gets_a_zeroed_record)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	test_lead *a = fd_table_put(t, "alice", 5, NULL);
	memset(a, 0xab, sizeof *a);
	cr_assert(fd_table_remove(t, "alice", 5));
	bool created = false;
	test_lead *b = fd_table_put(t, "bob", 3, &created);
	cr_assert(created);
	cr_assert_eq(b, a, "freed record memory is reused");
	cr_assert(all_zero(b, sizeof *b));
	fd_table_free(t);
}

Test(table, keys_with_embedded_nul_bytes_are_distinct)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	const char *keys[] = { "a", "a\0", "a\0b", "a\0c", "\0", "" };
	const size_t lens[] = { 1, 2, 3, 3, 1, 0 };
	void *recs[6];
	for (int i = 0; i < 6; i++) {
		bool created = false;
		recs[i] = fd_table_put(t, keys[i], lens[i], &created);
		cr_assert(created, "key %d", i);
	}
	cr_assert_eq(fd_table_count(t), 6);
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(fd_table_get(t, keys[i], lens[i]), recs[i], "key %d", i);
		size_t len = 99;
		const char *k = fd_table_key(t, recs[i], &len);
		cr_assert_eq(len, lens[i]);
		cr_assert_eq(memcmp(k, keys[i], len), 0);
		cr_assert_eq(k[len], '\0', "the copy is NUL-terminated");
	}
	cr_assert(fd_table_remove(t, "a\0b", 3));
	cr_assert_null(fd_table_get(t, "a\0b", 3));
	cr_assert_eq(fd_table_get(t, "a\0c", 3), recs[3]);
	fd_table_free(t);
}

Test(table, keys_up_to_255_bytes_are_stored_and_longer_ones_refused)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	char key[257];
	for (int i = 0; i < 257; i++)
		key[i] = (char)('a' + i % 26);
	for (size_t len = 200; len <= 255; len++) {
		bool created = false;
		test_lead *r = fd_table_put(t, key, len, &created);
		cr_assert_not_null(r, "len %zu", len);
		cr_assert(created);
		r->id = (uint32_t)len;
	}
	for (size_t len = 200; len <= 255; len++) {
		test_lead *r = fd_table_get(t, key, len);
		cr_assert_eq(r->id, len);
		size_t klen;
		const char *k = fd_table_key(t, r, &klen);
		cr_assert_eq(klen, len);
		cr_assert_eq(memcmp(k, key, len), 0);
	}
	bool created = true;
	cr_assert_null(fd_table_put(t, key, 256, &created));
	cr_assert_not(created);
	cr_assert_null(fd_table_get(t, key, 256));
	cr_assert_not(fd_table_remove(t, key, 256));
	cr_assert_eq(fd_table_count(t), 56);
	fd_table_free(t);
}

Test(table, records_are_aligned_for_any_type)
{
	const size_t sizes[] = { 0, 1, 7, 24, 100 };
	for (int s = 0; s < 5; s++) {
		fd_table *t = fd_table_new(sizes[s], 0);
		char key[32];
		for (uint32_t i = 0; i < 5000; i++) {
			void *r = fd_table_put(t, key, lead_key(key, i), NULL);
			cr_assert_not_null(r);
			cr_assert_eq((uintptr_t)r % FD_TABLE_RECORD_ALIGN, 0, "size %zu", sizes[s]);
		}
		fd_table_free(t);
	}
}

Test(table, record_addresses_stay_stable_while_growing_to_a_million)
{
	enum { N = 1000000 };
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	test_lead **recs = malloc(N * sizeof *recs);
	char key[32];
	for (uint32_t i = 0; i < N; i++) {
		bool created = false;
		recs[i] = fd_table_put(t, key, lead_key(key, i), &created);
		cr_assert_not_null(recs[i]);
		cr_assert(created);
		recs[i]->id = i;
	}
	cr_assert_eq(fd_table_count(t), N);
	for (uint32_t i = 0; i < N; i++) {
		test_lead *r = fd_table_get(t, key, lead_key(key, i));
		if (r != recs[i] || r->id != i)
			cr_assert_fail("lead %u moved or changed", i);
		if (fd_table_at(t, fd_table_index(t, r)) != r)
			cr_assert_fail("lead %u: index round trip", i);
	}
	free(recs);
	fd_table_free(t);
}

Test(table, index_and_at_round_trip_and_at_refuses_dead_indices)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	void *a = fd_table_put(t, "a", 1, NULL);
	void *b = fd_table_put(t, "b", 1, NULL);
	void *c = fd_table_put(t, "c", 1, NULL);
	cr_assert_eq(fd_table_index(t, a), 0);
	cr_assert_eq(fd_table_index(t, b), 1);
	cr_assert_eq(fd_table_index(t, c), 2);
	cr_assert_eq(fd_table_at(t, 1), b);
	cr_assert_null(fd_table_at(t, 3), "never used");
	cr_assert_null(fd_table_at(t, UINT32_MAX));
	cr_assert(fd_table_remove(t, "b", 1));
	cr_assert_null(fd_table_at(t, 1), "removed");
	cr_assert_eq(fd_table_at(t, 2), c);
	void *d = fd_table_put(t, "d", 1, NULL);
	cr_assert_eq(fd_table_index(t, d), 1, "a freed index is reused");
	cr_assert_eq(fd_table_at(t, 1), d);
	fd_table_free(t);
}

Test(table, iteration_visits_every_live_record_once_in_index_order)
{
	enum { N = 20000 };
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	char key[32];
	for (uint32_t i = 0; i < N; i++) {
		test_lead *r = fd_table_put(t, key, lead_key(key, i), NULL);
		r->id = i;
	}
	for (uint32_t i = 0; i < N; i += 3)
		cr_assert(fd_table_remove(t, key, lead_key(key, i)));
	uint8_t *seen = calloc(N, 1);
	uint32_t cursor = 0, visited = 0;
	int64_t last_index = -1;
	test_lead *r;
	while ((r = fd_table_next(t, &cursor)) != NULL) {
		cr_assert_neq(r->id % 3, 0, "removed lead %u visited", r->id);
		cr_assert_eq(seen[r->id], 0, "lead %u visited twice", r->id);
		seen[r->id] = 1;
		int64_t index = fd_table_index(t, r);
		cr_assert_gt(index, last_index);
		last_index = index;
		visited++;
	}
	cr_assert_eq(visited, fd_table_count(t));
	cr_assert_eq(visited, N - (N + 2) / 3);
	cr_assert_null(fd_table_next(t, &cursor), "stays at the end");
	free(seen);
	fd_table_free(t);
}

Test(table, removing_the_current_record_during_iteration_is_safe)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	char key[32];
	for (uint32_t i = 0; i < 1000; i++)
		((test_lead *)fd_table_put(t, key, lead_key(key, i), NULL))->id = i;
	uint32_t cursor = 0, visited = 0;
	test_lead *r;
	while ((r = fd_table_next(t, &cursor)) != NULL) {
		visited++;
		if (r->id % 2 == 0)
			fd_table_remove_record(t, r);
	}
	cr_assert_eq(visited, 1000);
	cr_assert_eq(fd_table_count(t), 500);
	for (uint32_t i = 0; i < 1000; i++) {
		test_lead *x = fd_table_get(t, key, lead_key(key, i));
		if (i % 2 == 0)
			cr_assert_null(x);
		else
			cr_assert_eq(x->id, i);
	}
	fd_table_free(t);
}

Test(table, remove_accepts_the_tables_own_key_copy)
{
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	void *r = fd_table_put(t, "carol", 5, NULL);
	size_t len;
	const char *k = fd_table_key(t, r, &len);
	cr_assert(fd_table_remove(t, k, len));
	cr_assert_eq(fd_table_count(t), 0);
	cr_assert_null(fd_table_get(t, "carol", 5));
	fd_table_free(t);
}

Test(table, hash_is_pinned_and_sees_every_byte_and_the_length)
{
	/* Pinned values: the hash must not change across hosts or releases
	 * without a deliberate decision (it may be used for sharding). */
	cr_assert_eq(fd_table_hash("", 0), UINT64_C(0xa494f02a77f7d6a7));
	cr_assert_eq(fd_table_hash("lead-00000001", 13), UINT64_C(0x0d1fc93176c4ee8d));
	cr_assert_neq(fd_table_hash("a", 1), fd_table_hash("a\0", 2));
	cr_assert_neq(fd_table_hash("abcdefgh", 8), fd_table_hash("abcdefgh\0", 9));
	char key[64];
	memset(key, 'x', sizeof key);
	uint64_t base = fd_table_hash(key, sizeof key);
	for (size_t i = 0; i < sizeof key; i++) {
		key[i] ^= 1;
		cr_assert_neq(fd_table_hash(key, sizeof key), base, "byte %zu", i);
		key[i] ^= 1;
	}
}

/* ---- collisions: backward-shift deletion --------------------------------- */

/* Fill keys[from..from+n) with distinct "c<number>" keys whose hash has the
 * given top `bits` bits, scanning numbers from *next on. */
static void find_colliding(char (*keys)[16], size_t *lens, int from, int n, uint32_t home,
                           int bits, uint32_t *next)
{
	for (int i = from; i < from + n;) {
		char buf[16];
		size_t len = (size_t)snprintf(buf, sizeof buf, "c%u", (*next)++);
		if ((uint32_t)(fd_table_hash(buf, len) >> (64 - bits)) == home) {
			memcpy(keys[i], buf, len + 1);
			lens[i] = len;
			i++;
		}
	}
}

Test(table, removals_inside_long_collision_runs_keep_every_other_key_findable)
{
	/* expected = 1000 gives 2048 slots (11 bits), which 400 keys never grow.
	 * Three clusters: 200 keys on one home slot, 100 on a home three slots
	 * later (their runs merge), 100 on the last slot (the run wraps around
	 * to slot 0). */
	enum { N = 400, BITS = 11 };
	fd_table *t = fd_table_new(sizeof(test_lead), 1000);
	char(*keys)[16] = malloc(N * sizeof *keys);
	size_t lens[N];
	uint32_t next = 0;
	find_colliding(keys, lens, 0, 200, 700, BITS, &next);
	find_colliding(keys, lens, 200, 100, 703, BITS, &next);
	find_colliding(keys, lens, 300, 100, (1u << BITS) - 1, BITS, &next);

	for (uint32_t i = 0; i < N; i++) {
		bool created = false;
		test_lead *r = fd_table_put(t, keys[i], lens[i], &created);
		cr_assert(created);
		r->id = i;
	}

	uint32_t order[N];
	for (uint32_t i = 0; i < N; i++)
		order[i] = i;
	uint64_t rng = 99;
	for (uint32_t i = N - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rng_next(&rng) % (i + 1));
		uint32_t tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	bool removed[N] = { false };
	for (uint32_t k = 0; k < N; k++) {
		uint32_t victim = order[k];
		cr_assert(fd_table_remove(t, keys[victim], lens[victim]));
		removed[victim] = true;
		for (uint32_t i = 0; i < N; i++) {
			test_lead *r = fd_table_get(t, keys[i], lens[i]);
			if (removed[i] ? r != NULL : (r == NULL || r->id != i))
				cr_assert_fail("after removing %u of %u: key %u wrong", k + 1, N, i);
		}
		cr_assert_eq(fd_table_count(t), N - k - 1);
	}
	free(keys);
	fd_table_free(t);
}

/* ---- reference comparison ------------------------------------------------ */

typedef struct ref_lead {
	char key[40];
	size_t len;
	test_lead *rec; /* NULL when absent */
	uint32_t stamp;
} ref_lead;

Test(table, matches_a_reference_over_300k_random_operations)
{
	enum { KEYS = 3000, OPS = 300000 };
	uint64_t rng = 4242;
	ref_lead *ref = calloc(KEYS, sizeof *ref);
	for (int i = 0; i < KEYS; i++) {
		/* Random binary keys of 0..40 bytes; a few share prefixes. */
		ref[i].len = rng_next(&rng) % 41;
		for (size_t b = 0; b < ref[i].len; b++)
			ref[i].key[b] = (char)(rng_next(&rng) % 4 == 0 ? 0 : rng_next(&rng));
		if (i > 0 && i % 7 == 0 && ref[i - 1].len < 40) {
			/* The previous key plus a NUL byte. */
			memcpy(ref[i].key, ref[i - 1].key, ref[i - 1].len);
			ref[i].len = ref[i - 1].len + 1;
			ref[i].key[ref[i].len - 1] = 0;
		}
	}
	/* Make keys unique: a duplicate refers to the first of its kind. */
	for (int i = 0; i < KEYS; i++)
		for (int j = 0; j < i; j++)
			if (ref[j].len == ref[i].len && memcmp(ref[j].key, ref[i].key, ref[i].len) == 0)
				ref[i].len = 99; /* marks "unused" */

	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	size_t present = 0;
	for (uint32_t op = 0; op < OPS; op++) {
		ref_lead *x = &ref[rng_next(&rng) % KEYS];
		if (x->len == 99)
			continue;
		uint64_t r = rng_next(&rng) % 10;
		if (r < 4) {
			bool created = false;
			test_lead *rec = fd_table_put(t, x->key, x->len, &created);
			cr_assert_not_null(rec);
			cr_assert_eq(created, x->rec == NULL, "op %u", op);
			if (created) {
				cr_assert(all_zero(rec, sizeof *rec));
				x->rec = rec;
				present++;
			}
			cr_assert_eq(rec, x->rec, "op %u", op);
			rec->touches = x->stamp = op;
		} else if (r < 7) {
			cr_assert_eq(fd_table_get(t, x->key, x->len), x->rec, "op %u", op);
			if (x->rec != NULL)
				cr_assert_eq(x->rec->touches, x->stamp, "op %u", op);
		} else {
			cr_assert_eq(fd_table_remove(t, x->key, x->len), x->rec != NULL, "op %u", op);
			if (x->rec != NULL) {
				x->rec = NULL;
				present--;
			}
		}
		cr_assert_eq(fd_table_count(t), present, "op %u", op);
	}
	/* Iteration sees exactly the reference's live set. */
	uint32_t cursor = 0;
	size_t visited = 0;
	test_lead *rec;
	while ((rec = fd_table_next(t, &cursor)) != NULL) {
		size_t len;
		const char *k = fd_table_key(t, rec, &len);
		cr_assert_eq(fd_table_get(t, k, len), rec);
		visited++;
	}
	cr_assert_eq(visited, present);
	for (int i = 0; i < KEYS; i++)
		if (ref[i].len != 99 && ref[i].rec != NULL)
			cr_assert_eq(ref[i].rec->touches, ref[i].stamp);
	free(ref);
	fd_table_free(t);
}

Test(table, memory_accounts_for_slots_records_and_keys)
{
	fd_table *t = fd_table_new(64, 0);
	size_t empty = fd_table_memory(t);
	char key[32];
	for (uint32_t i = 0; i < 10000; i++)
		fd_table_put(t, key, lead_key(key, i), NULL);
	size_t full = fd_table_memory(t);
	/* At least: 10000 records of 16 + 64 bytes, 10000 keys of 16 bytes,
	 * 16384 slots of 8 bytes. */
	cr_assert_geq(full - empty, 10000 * (16 + 64) + 10000 * 16 + 16384 * 8 - 16 * 8);
	fd_table_free(t);
}

/* Ids crafted to share one home slot under a known seed pile up in one
 * probe chain there, and spread out in a table with another seed (every
 * table draws its own at random): nobody can flood the lead table without
 * knowing its seed. */
Test(table, crafted_collisions_only_collide_under_their_own_seed)
{
	const uint64_t known = 0x5eed5eed5eed5eedu;
	enum { EXPECTED = 1000, BITS = 11, N = 300 };   /* 2048 slots: no growth below 1536 */
	static char keys[N][24];
	int n = 0;
	for (uint64_t i = 0; n < N; i++) {
		char k[24];
		int len = snprintf(k, sizeof k, "crafted-%" PRIu64, i);
		if (XXH3_64bits_withSeed(k, (size_t)len, known) >> (64 - BITS) == 0)
			memcpy(keys[n++], k, sizeof k);
	}
	fd_table *same = fd_table_new_seeded(sizeof(test_lead), EXPECTED, known);
	fd_table *other = fd_table_new_seeded(sizeof(test_lead), EXPECTED, known ^ 1);
	fd_table *random = fd_table_new(sizeof(test_lead), EXPECTED);
	cr_assert(same && other && random);
	for (int i = 0; i < N; i++) {
		cr_assert_not_null(fd_table_put(same, keys[i], strlen(keys[i]), NULL));
		cr_assert_not_null(fd_table_put(other, keys[i], strlen(keys[i]), NULL));
		cr_assert_not_null(fd_table_put(random, keys[i], strlen(keys[i]), NULL));
	}
	cr_assert_geq(fd_table_longest_probe(same), N - 1, "the crafted keys did not collide: %u",
	              fd_table_longest_probe(same));
	cr_assert_lt(fd_table_longest_probe(other), 16, "another seed: a chain of %u",
	             fd_table_longest_probe(other));
	cr_assert_lt(fd_table_longest_probe(random), 16, "a random seed: a chain of %u",
	             fd_table_longest_probe(random));
	for (int i = 0; i < N; i++)
		cr_assert_not_null(fd_table_get(random, keys[i], strlen(keys[i])));
	fd_table_free(same);
	fd_table_free(other);
	fd_table_free(random);
}

/* A draining table (the former engine after a reload) takes no new record
 * and gives each chunk back once its last record is removed; lookups,
 * iteration and fd_table_at skip what was given back. */
Test(table, a_draining_table_gives_empty_chunks_back)
{
	enum { N = 3 * FD_TABLE_CHUNK_RECORDS };
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	char key[16];
	for (uint32_t i = 0; i < N; i++) {
		snprintf(key, sizeof key, "k%u", i);
		((test_lead *)fd_table_put(t, key, strlen(key), NULL))->id = i;
	}
	size_t full = fd_table_memory(t);
	fd_table_drain(t);
	cr_assert_null(fd_table_put(t, "new", 3, NULL), "a draining table takes no new key");
	cr_assert_not_null(fd_table_put(t, "k5", 2, NULL), "an existing key is still found");
	/* empty the first chunk in index order, and one record of the second */
	for (uint32_t i = 0; i <= FD_TABLE_CHUNK_RECORDS; i++) {
		snprintf(key, sizeof key, "k%u", i);
		cr_assert(fd_table_remove(t, key, strlen(key)));
	}
	size_t chunk = FD_TABLE_CHUNK_RECORDS;
	cr_assert_lt(fd_table_memory(t), full, "the empty chunk went back");
	cr_assert_geq(full - fd_table_memory(t), chunk * sizeof(test_lead),
	              "%zu bytes given back", full - fd_table_memory(t));
	cr_assert_null(fd_table_at(t, 0));
	cr_assert_null(fd_table_at(t, FD_TABLE_CHUNK_RECORDS));
	cr_assert_not_null(fd_table_at(t, FD_TABLE_CHUNK_RECORDS + 1));
	uint32_t cursor = 0, seen = 0;
	test_lead *r;
	while ((r = fd_table_next(t, &cursor)) != NULL) {
		cr_assert_gt(r->id, FD_TABLE_CHUNK_RECORDS, "record %u was removed", r->id);
		seen++;
	}
	cr_assert_eq(seen, N - FD_TABLE_CHUNK_RECORDS - 1);
	cr_assert_eq(fd_table_count(t), seen);
	snprintf(key, sizeof key, "k%u", N - 1);
	cr_assert_not_null(fd_table_get(t, key, strlen(key)));
	fd_table_free(t);
}

/* Growth is spread over operations: right after the table doubles, most
 * keys are still in the old slot array. Every operation must see one
 * table: lookups, both kinds of removal (of keys copied and not copied
 * yet), reinsertion, iteration; then the old array goes. */
Test(table, a_growth_under_way_is_invisible_to_every_operation)
{
	enum { N = 12289 }; /* (N) * 4 > 16384 * 3: the N-th insert doubles 2^14 slots */
	fd_table *t = fd_table_new(sizeof(test_lead), 0);
	char key[32];
	test_lead **recs = calloc(N, sizeof *recs);
	size_t before = 0;
	for (uint32_t i = 0; i < N; i++) {
		if (i == N - 1)
			before = fd_table_memory(t);
		lead_key(key, i);
		recs[i] = fd_table_put(t, key, strlen(key), NULL);
		recs[i]->id = i;
	}
	size_t growing = fd_table_memory(t);
	cr_assert_geq(growing - before, ((size_t)32768) * 8,
	              "the last insert started a growth to 2^15 slots (%zu -> %zu bytes)", before,
	              growing);
	for (uint32_t i = 0; i < N; i++) {
		lead_key(key, i);
		cr_assert_eq(fd_table_get(t, key, strlen(key)), recs[i], "key %u lost in the growth", i);
	}
	/* remove a third by record, a third by key */
	for (uint32_t i = 0; i < N; i++) {
		lead_key(key, i);
		if (i % 3 == 0)
			fd_table_remove_record(t, recs[i]);
		else if (i % 3 == 1)
			cr_assert(fd_table_remove(t, key, strlen(key)));
		else
			continue;
		recs[i] = NULL;
	}
	cr_assert_eq(fd_table_count(t), N / 3);
	for (uint32_t i = 0; i < N; i++) {
		lead_key(key, i);
		cr_assert_eq(fd_table_get(t, key, strlen(key)), recs[i], "key %u after removals", i);
	}
	/* put them back (records recycled), then finish the growth in steps */
	for (uint32_t i = 0; i < N; i++) {
		if (recs[i])
			continue;
		lead_key(key, i);
		bool created = false;
		recs[i] = fd_table_put(t, key, strlen(key), &created);
		cr_assert(created && all_zero(recs[i], sizeof *recs[i]), "key %u", i);
		recs[i]->id = i;
	}
	fd_table_step(t, 100);
	for (uint32_t i = 0; i < N; i++) {
		lead_key(key, i);
		cr_assert_eq(fd_table_get(t, key, strlen(key)), recs[i]);
		cr_assert_eq(recs[i]->id, i);
	}
	fd_table_step(t, UINT32_MAX);
	cr_assert_eq(fd_table_memory(t), growing - ((size_t)16384) * 8, "the old array went");
	uint32_t cursor = 0, seen = 0;
	test_lead *r;
	while ((r = fd_table_next(t, &cursor)) != NULL) {
		lead_key(key, r->id);
		cr_assert_eq(fd_table_get(t, key, strlen(key)), r);
		seen++;
	}
	cr_assert_eq(seen, N);
	cr_assert_eq(fd_table_count(t), N);
	cr_assert_lt(fd_table_longest_probe(t), 64);
	free(recs);
	fd_table_free(t);
}
