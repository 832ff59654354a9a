/*
 * demo_kafka.h — the demo's own Kafka clients against the embedded mock
 * cluster: a producer and a consumer configured for it, and the three
 * input records (engagement, profile, sales activity) encoded in the
 * encoding their topic is configured with and produced keyed by lead id.
 *
 * This is the upstream side a real deployment has elsewhere (web tracking,
 * CRM, enrichment). It is not the daemon's Kafka layer and shares nothing
 * with it but the wire contract.
 */
#ifndef FD_DAEMON_DEMO_KAFKA_H
#define FD_DAEMON_DEMO_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config/config.h"
#include "funneld/engine.h"

/* A producer for `bootstrap`. NULL with errstr on failure. */
rd_kafka_t *fd_demo_kafka_producer(const char *bootstrap, const char *client_id, char *errstr,
                                   size_t errstr_size);

/* A consumer for `bootstrap` in consumer group `group` (no subscription:
 * the caller assigns partitions). Reads from the beginning, commits
 * nothing. NULL with errstr on failure. */
rd_kafka_t *fd_demo_kafka_consumer(const char *bootstrap, const char *client_id,
                                   const char *group, char *errstr, size_t errstr_size);

/* An embedded mock cluster of `brokers` brokers, its own handle in *handle,
 * with every topic of `t` created with `partitions` partitions (replication
 * factor 1). The cluster's thread blocks every signal: librdkafka 2.0's mock
 * thread ends at the first EINTR of its poll(), frees the cluster, and the
 * later destroy reads freed memory, so a SIGTERM must never reach it. NULL
 * with errstr on failure (*handle is then NULL too). Free with
 * fd_demo_kafka_mock_free. */
rd_kafka_mock_cluster_t *fd_demo_kafka_mock(int brokers, int partitions, const fd_topics *t,
                                            rd_kafka_t **handle, char *errstr,
                                            size_t errstr_size);

/* Destroy the cluster, then its handle. NULLs are no-ops. */
void fd_demo_kafka_mock_free(rd_kafka_mock_cluster_t *mc, rd_kafka_t *handle);

/* Flush for at most timeout_ms, then destroy. NULL is a no-op. */
void fd_demo_kafka_producer_free(rd_kafka_t *rk, int timeout_ms);

/* Encode one input in `enc` (protobuf, Confluent-framed protobuf with schema
 * id 1, or JSON with the message's own field names) and produce it to
 * `topic`, keyed by its lead id. Strings may be NULL (absent). Returns 0, or
 * -1 when it could not be encoded or queued (the caller counts it). */
int fd_demo_kafka_send_engagement(rd_kafka_t *rk, const char *topic, fd_encoding enc,
                                  const fd_engagement *ev);
int fd_demo_kafka_send_profile(rd_kafka_t *rk, const char *topic, fd_encoding enc,
                               const fd_profile *p);
int fd_demo_kafka_send_activity(rd_kafka_t *rk, const char *topic, fd_encoding enc,
                                const fd_activity *a);

#endif
