/*
 * merge.h — co-partitioned input queues merged in event-time order, the way
 * Kafka Streams' PartitionGroup does it for a task.
 *
 * Records are pushed into a queue per (partition number, input) in the
 * order they were read, each with its timestamp. For each partition number,
 * the next record out is the head with the lowest timestamp over that
 * partition's inputs (ties: the lower input rank, then read order); a
 * queue's own records keep their read order whatever their timestamps.
 *
 * A partition whose queue for some input is empty waits for that input,
 * as Kafka Streams' max.task.idle.ms does: the record it is about to
 * deliver may be older. An input known to be caught up (the reader saw the
 * end of it and nothing since) is waited for max_idle_ms (a producer may
 * still send an older record; 0: not at all); one that is not (records on
 * the broker not read yet, a position not known yet) max_lag_ms. The wait
 * counts from when the queue was first seen empty while the others held
 * records; once it ran out, the others go on without it ("forced": the
 * order then depends on what was read) until it delivers again.
 *
 * Pure: the caller passes `now` (a monotonic clock in ms), owns the items
 * (opaque pointers) and does the reading. Partitions are small non-negative
 * numbers (an array indexed by them).
 */
#ifndef FD_BASE_MERGE_H
#define FD_BASE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_MERGE_INPUTS 3

typedef struct fd_merge fd_merge;

typedef struct fd_merge_out {
	void *item;
	int32_t partition;
	int input;
} fd_merge_out;

/* `inputs` queues per partition (at most FD_MERGE_INPUTS); rank[i] orders
 * input i among equal timestamps (lower first). NULL on allocation failure
 * or bad arguments. */
fd_merge *fd_merge_new(int inputs, const int *rank, int64_t max_idle_ms, int64_t max_lag_ms);
void fd_merge_free(fd_merge *m);

void fd_merge_set_waits(fd_merge *m, int64_t max_idle_ms, int64_t max_lag_ms);

/* Append an item. 0, or -1 (allocation failure: nothing changed). Clears
 * the queue's caught-up mark. */
int fd_merge_push(fd_merge *m, int32_t partition, int input, int64_t ts, void *item);

/* The reader reached the end of (partition, input) with nothing more
 * (true), or does not know where it stands any more (false: a seek). */
void fd_merge_caught_up(fd_merge *m, int32_t partition, int input, bool caught_up);

/* Up to `max` ready items, in merge order, one partition after another
 * (the next call starts at the partition after the last one served).
 * Returns how many. */
size_t fd_merge_pop(fd_merge *m, int64_t now, fd_merge_out *out, size_t max);

/* When a waiting partition's idle time runs out (INT64_MAX: none waits),
 * as of the last fd_merge_pop that returned fewer than it was asked for. */
int64_t fd_merge_wake_at(const fd_merge *m);

/* Remove every item of `partition` (-1: of all partitions), calling fn for
 * each queue's items in read order. A queue that held some is no longer
 * caught up (the caller moves its reader back to them); an empty one keeps
 * its marks. */
void fd_merge_drop(fd_merge *m, int32_t partition,
                   void (*fn)(void *ctx, void *item, int32_t partition, int input), void *ctx);

/* Forget what is known of `partition`'s inputs (-1: of all): none is
 * caught up until the reader says so again (a new assignment). */
void fd_merge_forget(fd_merge *m, int32_t partition);

/* Items in (partition, input)'s queue; in all queues. */
size_t fd_merge_queued(const fd_merge *m, int32_t partition, int input);
size_t fd_merge_total(const fd_merge *m);

/* Items that went out forced (an input waited for in vain), since
 * creation. */
uint64_t fd_merge_forced(const fd_merge *m);

#endif
