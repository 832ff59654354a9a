/*
 * lag.h — consumer lag per input partition, from librdkafka's statistics.
 *
 * librdkafka emits a JSON document every statistics.interval.ms
 * (admin.lag_interval) through the consumer's stats callback, served by the
 * consumer's poll in the loop's thread. fd_lag_parse reads the document
 * (pure: text in, entries out) and fd_lag_update keeps, per input topic and
 * partition, the last `consumer_lag` librdkafka reported: the partition's
 * high watermark (last stable offset under read_committed) minus the
 * group's committed offset; -1 while either is unknown (just assigned,
 * nothing committed yet). Only partitions assigned to this instance are
 * kept: fd_lag_assign adds one to the set, fd_lag_forget removes it and
 * its entries at once (a revoke or a loss), so a document written before
 * the revoke cannot bring it back.
 *
 * What it is not: no alerting (rules on funneld_consumer_lag do that), no
 * lag of the restore reader or of the producer.
 */
#ifndef FD_KAFKA_LAG_H
#define FD_KAFKA_LAG_H

#include <stddef.h>
#include <stdint.h>

#include "funneld/rules.h"

typedef struct fd_lag_entry {
	char topic[FD_TOPIC_MAX];
	int32_t partition;
	int64_t lag;                /* messages; -1: unknown */
} fd_lag_entry;

typedef struct fd_lag {
	fd_lag_entry *entries;      /* by topic, then partition */
	size_t n, cap;
	int32_t *assigned;          /* partition numbers this instance owns */
	size_t n_assigned, cap_assigned;
} fd_lag;

/* Read the partitions of the topics named in `topics` (n_topics of them)
 * out of a librdkafka statistics document: every partition >= 0 the
 * consumer wants ("desired": true; librdkafka's internal -1 partition is
 * left out), with its "consumer_lag". Up to `max` entries go to `out`, in
 * the document's order; returns how many were found (more than `max` when
 * some did not fit), or -1 when `json` is not a statistics document
 * (errstr says why). */
long fd_lag_parse(const char *json, const char *const *topics, size_t n_topics,
                  fd_lag_entry *out, size_t max, char *errstr, size_t errstr_size);

/* Partition p is assigned to this instance / is not any more (its entries
 * go at once). -1 on allocation failure for assign. */
int fd_lag_assign(fd_lag *l, int32_t p);
void fd_lag_forget(fd_lag *l, int32_t p);

/* Replace the table with `fresh` (a whole document's entries), keeping
 * only assigned partitions, sorted by topic then partition. -1 on
 * allocation failure (the table is then unchanged). */
int fd_lag_update(fd_lag *l, const fd_lag_entry *fresh, size_t n);

/* Free the table's memory (the struct itself is the caller's). */
void fd_lag_free(fd_lag *l);

#endif
