/*
 * bench_timer.c — throughput and memory of the engine's two core containers.
 *
 * Deadline queue (src/engine/timer.c) with 10 million pending timers: add,
 * pop, remove and update rates and bytes per timer. Lead table
 * (src/engine/table.c) with 1 million leads under 24-byte random ids: insert
 * rate with and without pre-sizing, the longest single insert (the rehash
 * pause), uniform and Zipf-skewed lookup rates, and bytes per lead split
 * into slots, record headers and keys.
 *
 * It prints figures and judges nothing: no thresholds, no exit status. Runs
 * in well under a minute on two cores; all inputs come from a fixed seed, so
 * two runs do the same work. Usage: bench_timer [timers] [leads]
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/table.h"
#include "engine/timer.h"
#include "support/bench.h"

#define ID_LEN 24
#define RECORD_SIZE 256 /* stand-in for the engine's lead record */

static uint64_t rng_state = 0x5eed;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL) {
		fprintf(stderr, "bench_timer: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static void report(const char *what, size_t ops, double seconds)
{
	printf("  %-44s %10.2f Mops/s  (%zu ops, %.3f s)\n", what, (double)ops / seconds / 1e6,
	       ops, seconds);
}

/* ---- deadline queue ------------------------------------------------------ */

static void bench_timers(size_t n)
{
	const int64_t horizon = INT64_C(90) * 24 * 3600 * 1000; /* 90 days in ms */
	size_t batch = n / 10;
	printf("deadline queue, %zu pending timers (4-ary heap)\n", n);

	fd_timers *t = fd_timers_new(n);
	/* handles[key]: 0 once the timer has fired or been removed */
	fd_timer_handle *handles = xmalloc(n * sizeof *handles);
	int64_t *dues = xmalloc(n * sizeof *dues);
	for (size_t i = 0; i < n; i++)
		dues[i] = (int64_t)(rng_next() % (uint64_t)horizon);

	double t0 = bench_seconds();
	for (size_t i = 0; i < n; i++)
		handles[i] = fd_timers_add(t, dues[i], i);
	report("add (empty -> N, random due, pre-sized)", n, bench_seconds() - t0);
	printf("  %-44s %10.1f bytes/timer  (%zu bytes total)\n", "memory at N",
	       (double)fd_timers_memory(t) / (double)fd_timers_count(t), fd_timers_memory(t));

	/* Pop the earliest tenth, then put as many back: the queue stays at N. */
	t0 = bench_seconds();
	int64_t due;
	uint64_t key;
	for (size_t i = 0; i < batch; i++) {
		fd_timers_pop_due(t, INT64_MAX, &due, &key);
		handles[key] = 0;
	}
	report("pop_due (N -> 0.9 N)", batch, bench_seconds() - t0);

	size_t refill = 0;
	t0 = bench_seconds();
	for (size_t i = 0; i < n && refill < batch; i++) {
		if (handles[i] == 0) {
			handles[i] = fd_timers_add(t, dues[i] + horizon, i);
			refill++;
		}
	}
	report("add (0.9 N -> N, later than all pending)", refill, bench_seconds() - t0);

	/* Remove a tenth of the timers, chosen at random. */
	size_t *victims = xmalloc(batch * sizeof *victims);
	for (size_t i = 0; i < batch; i++)
		victims[i] = (size_t)(rng_next() % n);
	size_t removed = 0;
	t0 = bench_seconds();
	for (size_t i = 0; i < batch; i++) {
		if (fd_timers_remove(t, handles[victims[i]])) {
			handles[victims[i]] = 0;
			removed++;
		}
	}
	report("remove (random handles, N -> 0.9 N)", batch, bench_seconds() - t0);
	printf("  %-44s %10zu\n", "  of which were pending", removed);

	refill = 0;
	for (size_t i = 0; i < n && refill < removed; i++) {
		if (handles[i] == 0) {
			handles[i] = fd_timers_add(t, dues[i], i);
			refill++;
		}
	}

	/* Push random timers a random amount later (an SLA extended). */
	t0 = bench_seconds();
	for (size_t i = 0; i < batch; i++) {
		size_t k = victims[i];
		fd_timers_update(t, handles[k], dues[k] + (int64_t)(rng_next() % 86400000));
	}
	report("update (random handles, at N)", batch, bench_seconds() - t0);

	/* Hold model: fire one, schedule one, the steady state of a busy day. */
	t0 = bench_seconds();
	for (size_t i = 0; i < batch; i++) {
		fd_timers_pop_due(t, INT64_MAX, &due, &key);
		handles[key] = fd_timers_add(t, due + (int64_t)(rng_next() % horizon), key);
	}
	report("pop_due + add pairs (steady at N)", batch, bench_seconds() - t0);

	size_t left = fd_timers_count(t);
	t0 = bench_seconds();
	while (fd_timers_pop_due(t, INT64_MAX, NULL, NULL))
		;
	report("pop_due (drain N -> 0)", left, bench_seconds() - t0);

	free(victims);
	free(dues);
	free(handles);
	fd_timers_free(t);
}

/* ---- lead table ---------------------------------------------------------- */

static void random_id(char *out)
{
	static const char alphabet[] =
	        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	for (int i = 0; i < ID_LEN; i++)
		out[i] = alphabet[rng_next() % 62];
}

/* Ranks 0..n-1 drawn with P(rank k) proportional to 1/(k+1)^s. */
static uint32_t *zipf_draws(size_t n, size_t draws, double s)
{
	double *cdf = xmalloc(n * sizeof *cdf);
	double sum = 0;
	for (size_t k = 0; k < n; k++) {
		sum += 1.0 / pow((double)(k + 1), s);
		cdf[k] = sum;
	}
	uint32_t *out = xmalloc(draws * sizeof *out);
	for (size_t i = 0; i < draws; i++) {
		double u = (double)(rng_next() >> 11) * 0x1.0p-53 * sum;
		size_t lo = 0, hi = n - 1;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		out[i] = (uint32_t)lo;
	}
	free(cdf);
	return out;
}

static void bench_table(size_t n)
{
	printf("\nlead table, %zu leads, %d-byte random ids, %d-byte records\n", n, ID_LEN,
	       RECORD_SIZE);
	char *ids = xmalloc(n * ID_LEN);
	for (size_t i = 0; i < n; i++)
		random_id(ids + i * ID_LEN);

	/* Pre-sized: no growth during the run. */
	fd_table *t = fd_table_new(RECORD_SIZE, n);
	double t0 = bench_seconds();
	for (size_t i = 0; i < n; i++)
		fd_table_put(t, ids + i * ID_LEN, ID_LEN, NULL);
	report("insert (pre-sized for N)", n, bench_seconds() - t0);
	fd_table_free(t);

	/* From empty, timing every insert to find the rehash pauses. */
	t = fd_table_new(RECORD_SIZE, 0);
	double worst = 0;
	size_t worst_at = 0;
	t0 = bench_seconds();
	for (size_t i = 0; i < n; i++) {
		double a = bench_seconds();
		fd_table_put(t, ids + i * ID_LEN, ID_LEN, NULL);
		double d = bench_seconds() - a;
		if (d > worst) {
			worst = d;
			worst_at = i;
		}
	}
	report("insert (from empty, growing)", n, bench_seconds() - t0);
	printf("  %-44s %10.2f ms  (insert #%zu, at %zu leads)\n", "longest single insert (rehash)",
	       worst * 1e3, worst_at + 1, worst_at);

	size_t count = fd_table_count(t);
	size_t mem = fd_table_memory(t);
	size_t slots = 1;
	while (slots * 3 < count * 4)
		slots *= 2;
	size_t record_bytes = (size_t)((count + FD_TABLE_CHUNK_RECORDS - 1) / FD_TABLE_CHUNK_RECORDS) *
	                      FD_TABLE_CHUNK_RECORDS * (16 + RECORD_SIZE);
	double per = (double)mem / (double)count;
	printf("  %-44s %10.1f bytes/lead  (%zu bytes total)\n", "memory at N", per, mem);
	printf("  %-44s %10.1f slots (%zu x 8 B, load %.2f)\n", "", (double)slots * 8 / (double)count,
	       slots, (double)count / (double)slots);
	printf("  %-44s %10.1f record header + record (16 + %d B, chunk slack incl.)\n", "",
	       (double)record_bytes / (double)count, RECORD_SIZE);
	printf("  %-44s %10.1f keys and bookkeeping (key %d B + NUL, 8-byte classes)\n", "",
	       per - (double)slots * 8 / (double)count - (double)record_bytes / (double)count,
	       ID_LEN);
	printf("  %-44s %10.1f bytes/lead beyond the record itself\n", "overhead",
	       per - RECORD_SIZE);

	size_t lookups = 10 * n;
	uint32_t *pick = xmalloc(lookups * sizeof *pick);
	for (size_t i = 0; i < lookups; i++)
		pick[i] = (uint32_t)(rng_next() % n);
	size_t hits = 0;
	t0 = bench_seconds();
	for (size_t i = 0; i < lookups; i++)
		hits += fd_table_get(t, ids + (size_t)pick[i] * ID_LEN, ID_LEN) != NULL;
	report("lookup hit, uniform", lookups, bench_seconds() - t0);

	/* Zipf over a random ranking of the leads: hot leads are scattered. */
	uint32_t *rank_to_lead = xmalloc(n * sizeof *rank_to_lead);
	for (size_t i = 0; i < n; i++)
		rank_to_lead[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(rng_next() % (i + 1));
		uint32_t tmp = rank_to_lead[i];
		rank_to_lead[i] = rank_to_lead[j];
		rank_to_lead[j] = tmp;
	}
	uint32_t *ranks = zipf_draws(n, lookups, 0.99);
	t0 = bench_seconds();
	for (size_t i = 0; i < lookups; i++)
		hits += fd_table_get(t, ids + (size_t)rank_to_lead[ranks[i]] * ID_LEN, ID_LEN) != NULL;
	report("lookup hit, Zipf s=0.99", lookups, bench_seconds() - t0);

	char miss[ID_LEN];
	size_t misses = n;
	t0 = bench_seconds();
	for (size_t i = 0; i < misses; i++) {
		memcpy(miss, ids + (size_t)pick[i] * ID_LEN, ID_LEN);
		miss[0] = '#'; /* not in the alphabet: never present */
		hits += fd_table_get(t, miss, ID_LEN) != NULL;
	}
	report("lookup miss", misses, bench_seconds() - t0);
	printf("  %-44s %10zu (of %zu)\n", "hits", hits, 2 * lookups);

	t0 = bench_seconds();
	for (size_t i = 0; i < n; i += 2)
		fd_table_remove(t, ids + i * ID_LEN, ID_LEN);
	report("remove (every other lead)", n / 2, bench_seconds() - t0);
	t0 = bench_seconds();
	for (size_t i = 0; i < n; i += 2)
		fd_table_put(t, ids + i * ID_LEN, ID_LEN, NULL);
	report("re-insert (reusing freed records and keys)", n / 2, bench_seconds() - t0);
	printf("  %-44s %10.1f bytes/lead (unchanged: nothing leaked)\n", "memory after churn",
	       (double)fd_table_memory(t) / (double)fd_table_count(t));

	free(ranks);
	free(rank_to_lead);
	free(pick);
	fd_table_free(t);
	free(ids);
}

int main(int argc, char **argv)
{
	size_t timers = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	size_t leads = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	double t0 = bench_seconds();
	if (timers > 0)
		bench_timers(timers);
	if (leads > 0)
		bench_table(leads);
	printf("\ntotal %.1f s\n", bench_seconds() - t0);
	return 0;
}
