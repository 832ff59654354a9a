/*
 * client.h — librdkafka client configurations for the three roles: the
 * group consumer of the inputs, the idempotent (or transactional) producer
 * of every output, and the group-less reader that restores the changelog.
 *
 * Common properties come from the config (kafka.*), then each role's own,
 * which the user cannot override where correctness depends on them (manual
 * commits, cooperative-sticky assignment, idempotence, acks=all, murmur2
 * partitioning, the transactional id). The reader's bulk-read defaults
 * (fd_restore_conf_defaults) come before the config's, which may override
 * them. Producer-only or consumer-only properties given by the user go to
 * every client; librdkafka ignores the ones that do not apply (its CONFWARN
 * lines are logged at debug level).
 *
 * What it is not: no callbacks of its own beyond errors and logs (each role's
 * module installs its own: rebalance in consumer.c, delivery reports in
 * producer.c).
 */
#ifndef FD_KAFKA_CLIENT_H
#define FD_KAFKA_CLIENT_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "kafka/kafka.h"

typedef enum fd_client_role {
	FD_CLIENT_CONSUMER,
	FD_CLIENT_PRODUCER,
	FD_CLIENT_READER
} fd_client_role;

/* A configuration for `role` whose callbacks get `k` as opaque. NULL with
 * errstr ("kafka property NAME: why", "unknown kafka property NAME") on a
 * property librdkafka refuses. The caller owns the result. */
rd_kafka_conf_t *fd_client_conf(fd_kafka *k, fd_client_role role, char *errstr,
                                size_t errstr_size);

#define FD_CLIENT_INSTANCE_ID_MAX 249 /* Kafka's longest group.instance.id */

/* The default group.instance.id of a systemd service: "HOST-UNIT", every
 * character Kafka does not take in an id ([a-zA-Z0-9._-]) as '_', at most
 * FD_CLIENT_INSTANCE_ID_MAX. Its length. */
size_t fd_client_instance_id(const char *host, const char *unit, char *out, size_t size);

/* Create a client of `type` from `conf` (consumed on success and on
 * failure). NULL with errstr "WHAT: why" on failure. */
rd_kafka_t *fd_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
                          char *errstr, size_t errstr_size);

#endif
