/*
 * commit.h — input offsets back to the group: at-least-once commits of the
 * epochs whose outputs are all acknowledged (the bookkeeping is epochs.c),
 * and the partition lists that commits, transactions and rewinds share.
 *
 * What it is not: exactly_once sends its offsets inside the transaction
 * (txn.c); this module then commits nothing.
 */
#ifndef FD_KAFKA_COMMIT_H
#define FD_KAFKA_COMMIT_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "kafka/kafka.h"

/* A list of input topic partitions at `n` positions (offset = the next to
 * consume). The caller destroys it. */
rd_kafka_topic_partition_list_t *fd_commit_list(const fd_kafka *k, const fd_position *pos,
                                                size_t n);

/* at-least-once: commit whatever is committable (asynchronously, or
 * synchronously when `sync`, e.g. on a drain). A failed commit is logged and
 * retried with the next epoch. No-op under exactly_once or after a
 * failure. */
void fd_commit_ready(fd_kafka *k, bool sync);

#endif
