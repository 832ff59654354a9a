/*
 * route.h — is an input record on the partition its lead lives on?
 *
 * Co-partitioning only holds when every producer of the three input topics
 * keys a record by its lead id and hashes the key with the same
 * partitioner: Java clients and funneld use murmur2, librdkafka and kcat
 * default to CRC32 ("consistent"), Sarama to FNV-1a. A record that breaks
 * the rule is not lost, but its lead may end up on two partitions (two
 * instances, two states). fd_route_check says which rule a record breaks;
 * fd_route_partition is each partitioner's choice, bit for bit the one its
 * client makes for a non-empty key.
 *
 * Pure: no allocation, no state.
 */
#ifndef FD_BASE_ROUTE_H
#define FD_BASE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

typedef enum fd_partitioner {
	FD_PARTITIONER_MURMUR2 = 0, /* Kafka's Java client, librdkafka murmur2(_random) */
	FD_PARTITIONER_CONSISTENT,  /* librdkafka consistent(_random): CRC-32 */
	FD_PARTITIONER_FNV1A,       /* librdkafka fnv1a(_random), Sarama */
	FD_PARTITIONER_NONE         /* not checked: any partition is right */
} fd_partitioner;

typedef enum fd_misroute {
	FD_ROUTE_OK = 0,
	FD_ROUTE_NO_KEY,            /* a record without a key */
	FD_ROUTE_KEY_MISMATCH,      /* its key is not its lead id */
	FD_ROUTE_WRONG_PARTITION,   /* its key hashes to another partition */
	FD_ROUTE_REASONS
} fd_misroute;

/* The hashes, as the clients compute them. */
uint32_t fd_route_murmur2(const void *key, size_t len);
uint32_t fd_route_crc32(const void *key, size_t len);
uint32_t fd_route_fnv1a(const void *key, size_t len);

/* The partition `p` puts `key` on among `partitions` (> 0); -1 for
 * FD_PARTITIONER_NONE. */
int32_t fd_route_partition(fd_partitioner p, const void *key, size_t len, int32_t partitions);

/* A record of lead `lead_id` read from `partition` of a topic with
 * `partitions` partitions, keyed `key` (NULL: none): the first rule it
 * breaks, in the order of the enum, or FD_ROUTE_OK. */
fd_misroute fd_route_check(fd_partitioner p, const void *key, size_t key_len, const char *lead_id,
                           int32_t partition, int32_t partitions);

/* "no_key", "key_mismatch", "wrong_partition" (metric labels); "ok". */
const char *fd_route_reason_name(fd_misroute r);

/* "murmur2", "consistent", "fnv1a", "none" (the configuration's names). */
const char *fd_route_partitioner_name(fd_partitioner p);

#endif
