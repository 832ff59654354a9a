/*
 * topic.h — topics seen through the admin API: partition counts, creation,
 * and readiness (every partition has a leader). One place for the daemon's
 * changelog, the test harness and the benchmarks.
 */
#ifndef FUNNELD_KAFKA_TOPIC_H
#define FUNNELD_KAFKA_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

/* The partition count of `topic`: -1 when the cluster does not know it,
 * -2 when the metadata could not be read within timeout_ms. */
int fd_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms);

/* Does `topic` have `partitions` partitions, each with a leader? */
bool fd_topic_ready(rd_kafka_t *rk, const char *topic, int partitions);

/* Creates `topic` with `partitions` partitions and the broker's default
 * replication, `configs` (NULL or name, value, ..., NULL) applied; an
 * existing topic is fine. Then waits until every partition has a leader: a
 * topic created a moment ago is otherwise not yet in another client's
 * metadata, and reads of it fail. 0, or -1 with the reason in errstr
 * (including "no leaders after timeout_ms"). */
int fd_topic_create(rd_kafka_t *rk, const char *topic, int partitions,
                    const char *const *configs, int timeout_ms, char *errstr, size_t errstr_size);

#endif
