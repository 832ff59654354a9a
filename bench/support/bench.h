/*
 * bench.h — what the benchmarks share: clocks, RSS, topic creation on a
 * real cluster, the synthetic engagement preload and the plain-consumer
 * ceiling every transport figure is divided by.
 */
#ifndef FUNNELD_BENCH_H
#define FUNNELD_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in seconds. */
double bench_seconds(void);

/* VmRSS of this process in KiB, -1 when /proc is not there. */
long bench_rss_kb(void);

/* BENCH_HUGE_PAGES=1 in the environment: run the engine with transparent
 * huge pages (state.huge_pages). */
bool bench_huge_pages(void);

/* xorshift64: the generator of every synthetic input. */
uint64_t bench_next(uint64_t *state);

/* Creates topics (cleanup.policy `cleanup` unless NULL) with `partitions`
 * partitions each and waits until every partition has a leader: a topic
 * created a moment before a client starts is otherwise not yet in its
 * metadata. 0, or -1 with the reason on stderr. */
int bench_create_topics(const char *bootstrap, const char *const *names, size_t n,
                        int partitions, const char *cleanup);

/* Produces `events` protobuf EngagementEvents over `leads` leads (lead-NNNNNNN,
 * xorshift over leads and six event types, 5 ms apart in event time, ten days
 * ago) keyed by lead id with the murmur2 partitioner, so a lead's events stay
 * on one partition as funneld's contract requires. Returns the seconds it
 * took, to the last acknowledgement. */
double bench_preload(const char *bootstrap, const char *topic, long events, long leads);

/* The transport ceiling: a plain consumer (no group, every partition
 * assigned from the beginning, records only counted) reads `n` records. */
typedef struct bench_read {
	long records;
	double from_start; /* records/s from the assignment to the last record */
	double from_first; /* records/s from the first record to the last */
} bench_read;
bench_read bench_plain_read(const char *bootstrap, const char *topic, int partitions, long n);

#endif
