/*
 * consumer.h — the three input topics, as one consumer group member:
 * subscription (the group balances the engagement topic; profiles and
 * activities partitions of the same numbers follow, co-partitioning),
 * batches of decoded records, pause/resume and rewinds, and the rebalance
 * callback (assigned partitions are paused and queued for restore;
 * revoked ones are handed to the daemon first).
 *
 * Batches never block: a read takes what librdkafka already fetched, each
 * record decoded (per-topic encoding) into an arena of its own that lives
 * until fd_consumer_done, and merges the three inputs of each partition
 * number in event-time order (base/merge.h): a full queue pauses its
 * topic-partition until half of it is applied.
 *
 * What it is not: no decisions about a record (the daemon applies it to the
 * engine and dead-letters what the engine refuses); no commits (commit.c,
 * txn.c).
 */
#ifndef FD_KAFKA_CONSUMER_H
#define FD_KAFKA_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "funneld/engine.h"
#include "kafka/kafka.h"

#define FD_CONSUMER_BATCH 64 /* input records decoded and applied per batch */

/* One input record, decoded. */
typedef struct fd_input {
	rd_kafka_message_t *msg;
	int topic;                  /* FD_IN_*, -1: unexpected topic */
	int decoded;                /* 0 ok, -1 undecodable (reason says why) */
	char reason[256];
	fd_engagement ev;           /* the one of these three that `topic` says */
	fd_profile profile;
	fd_activity activity;
	const char *lead_id;        /* NULL when undecodable */
	int64_t decode_us;          /* how long decoding took (monotonic clock) */
} fd_input;

/* order_buffer records at most held for the event-time merge (see
 * base/merge.h), which waits max_idle_ms for an empty input read to its
 * end and max_lag_ms for one that is not (the settings' values are read
 * again at each read: a reload changes them). */
fd_consumer *fd_consumer_new(size_t order_buffer, int64_t max_idle_ms, int64_t max_lag_ms);
void fd_consumer_free(fd_consumer *c);

/* Input topics exist and have one partition count (a metadata request
 * waiting at most timeout_ms). 1: ok, 0: no broker answered (retry;
 * errstr says why), -1: refused (errstr). */
int fd_consumer_check_topics(fd_kafka *k, int timeout_ms, char *errstr, size_t errstr_size);

/* Partitions of each input topic (after a successful check). */
int fd_consumer_partitions(const fd_kafka *k);

/* Join the group. -1 with errstr. */
int fd_consumer_subscribe(fd_kafka *k, char *errstr, size_t errstr_size);

/* Read what librdkafka already fetched (never blocking) into the merge, then
 * hand out up to FD_CONSUMER_BATCH records in event-time order per
 * partition; *batch points at them. Errors and rebalances are served on
 * the way. A record fetched for a partition being restored is not kept:
 * its topic-partition is sought back to it. */
size_t fd_consumer_read(fd_kafka *k, fd_input ***batch);

/* When a partition waiting for a lagging input goes on without it
 * (monotonic ms; INT64_MAX: none waits), as of the last read that handed
 * out less than a full batch. */
int64_t fd_consumer_wake_at(const fd_kafka *k);

/* Release record i of the last batch (its message and arena). */
void fd_consumer_done(fd_kafka *k, size_t i);

/* Forget the records held for partition p (-1: all), read but not handed
 * out (a revoke; a rewind after an abort). With `unread`, each
 * topic-partition that held some is sought back to the first of them, so
 * they are read again (a rewind then moves the ones it covers further
 * back), and no longer counts as caught up; without, everything known of
 * the partition is forgotten (a revoke). */
void fd_consumer_forget(fd_kafka *k, int32_t p, bool unread);

/* (topic, p) was sought back by someone else (a rewind after an abort):
 * its end has to be seen again before it counts as caught up. */
void fd_consumer_sought(fd_kafka *k, int topic, int32_t p);

/* Pause or resume partition p of all three inputs. */
void fd_consumer_pause(fd_kafka *k, int32_t p, bool pause);

/* Leave the group (once). */
void fd_consumer_close(fd_kafka *k);

/* librdkafka's rebalance callback (installed by fd_kafka_new). */
void fd_consumer_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque);

#endif
