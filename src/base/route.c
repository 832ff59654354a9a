/*
 * route.c — partitioners and the co-partitioning check (see route.h).
 */
#include "base/route.h"

#include <string.h>

uint32_t fd_route_murmur2(const void *key, size_t len)
{
	/* MurmurHash2 as Kafka's Java client runs it: seed 0x9747b28c, words
	 * read little-endian */
	const uint32_t m = 0x5bd1e995;
	const unsigned char *d = key;
	uint32_t h = 0x9747b28cu ^ (uint32_t)len;
	while (len >= 4) {
		uint32_t k = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 |
		             (uint32_t)d[3] << 24;
		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
		d += 4;
		len -= 4;
	}
	switch (len) {
	case 3:
		h ^= (uint32_t)d[2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)d[1] << 8;
		/* fall through */
	case 1:
		h ^= (uint32_t)d[0];
		h *= m;
		break;
	default:
		break;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

uint32_t fd_route_crc32(const void *key, size_t len)
{
	/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), four bits at a time */
	static const uint32_t nibble[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
		0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	const unsigned char *d = key;
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		c ^= d[i];
		c = (c >> 4) ^ nibble[c & 15];
		c = (c >> 4) ^ nibble[c & 15];
	}
	return c ^ 0xffffffffu;
}

uint32_t fd_route_fnv1a(const void *key, size_t len)
{
	/* 32-bit FNV-1a, then its absolute value as a signed number (Sarama's
	 * hash partitioner, which librdkafka follows) */
	const unsigned char *d = key;
	uint32_t h = 0x811c9dc5u;
	for (size_t i = 0; i < len; i++) {
		h ^= d[i];
		h *= 0x01000193u;
	}
	if (h & 0x80000000u && h != 0x80000000u)
		h = ~h + 1;
	return h;
}

int32_t fd_route_partition(fd_partitioner p, const void *key, size_t len, int32_t partitions)
{
	if (partitions <= 0)
		return -1;
	uint32_t n = (uint32_t)partitions;
	switch (p) {
	case FD_PARTITIONER_MURMUR2:
		return (int32_t)((fd_route_murmur2(key, len) & 0x7fffffffu) % n);
	case FD_PARTITIONER_CONSISTENT:
		return (int32_t)(fd_route_crc32(key, len) % n);
	case FD_PARTITIONER_FNV1A:
		return (int32_t)(fd_route_fnv1a(key, len) % n);
	case FD_PARTITIONER_NONE:
		break;
	}
	return -1;
}

fd_misroute fd_route_check(fd_partitioner p, const void *key, size_t key_len, const char *lead_id,
                           int32_t partition, int32_t partitions)
{
	if (key == NULL)
		return FD_ROUTE_NO_KEY;
	if (lead_id && (strlen(lead_id) != key_len || memcmp(key, lead_id, key_len) != 0))
		return FD_ROUTE_KEY_MISMATCH;
	int32_t want = fd_route_partition(p, key, key_len, partitions);
	if (want >= 0 && want != partition)
		return FD_ROUTE_WRONG_PARTITION;
	return FD_ROUTE_OK;
}

const char *fd_route_reason_name(fd_misroute r)
{
	switch (r) {
	case FD_ROUTE_OK:
		return "ok";
	case FD_ROUTE_NO_KEY:
		return "no_key";
	case FD_ROUTE_KEY_MISMATCH:
		return "key_mismatch";
	case FD_ROUTE_WRONG_PARTITION:
		return "wrong_partition";
	case FD_ROUTE_REASONS:
		break;
	}
	return "?";
}

const char *fd_route_partitioner_name(fd_partitioner p)
{
	switch (p) {
	case FD_PARTITIONER_MURMUR2:
		return "murmur2";
	case FD_PARTITIONER_CONSISTENT:
		return "consistent";
	case FD_PARTITIONER_FNV1A:
		return "fnv1a";
	case FD_PARTITIONER_NONE:
		break;
	}
	return "none";
}
