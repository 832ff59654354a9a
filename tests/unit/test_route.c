/*
 * test_route.c — the partitioners and the co-partitioning check
 * (src/base/route.c): known test vectors, then bit for bit against
 * librdkafka's own partitioners on many keys.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "base/route.h"

static int32_t murmur2_signed(const char *s)
{
	return (int32_t)fd_route_murmur2(s, strlen(s));
}

/* Kafka's own test vectors (clients/src/test/.../UtilsTest.java). */
Test(route, murmur2_matches_kafkas_vectors)
{
	cr_expect_eq(murmur2_signed("21"), -973932308);
	cr_expect_eq(murmur2_signed("foobar"), -790332482);
	cr_expect_eq(murmur2_signed("a-little-bit-long-string"), -985981536);
	cr_expect_eq(murmur2_signed("a-little-bit-longer-string"), -1486304829);
	cr_expect_eq(murmur2_signed("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
	cr_expect_eq(murmur2_signed("abc"), 479470107);
}

Test(route, crc32_and_fnv1a_vectors)
{
	cr_expect_eq(fd_route_crc32("123456789", 9), 0xcbf43926u);
	cr_expect_eq(fd_route_crc32("", 0), 0u);
	/* FNV-1a 32: "" 0x811c9dc5, "a" 0xe40c292c, "foobar" 0xbf9cf968; all
	   negative as int32, so their absolute values */
	cr_expect_eq(fd_route_fnv1a("", 0), 0x7ee3623bu);
	cr_expect_eq(fd_route_fnv1a("a", 1), 0x1bf3d6d4u);
	cr_expect_eq(fd_route_fnv1a("foobar", 6), 0x40630698u);
}

/* Every partitioner agrees with librdkafka's for many keys and counts. */
Test(route, same_partition_as_librdkafka)
{
	char key[64];
	for (int i = 0; i < 20000; i++) {
		int len = snprintf(key, sizeof key, "lead-%d@acme%d.example", i * 7919, i % 13);
		/* some odd lengths and bytes too */
		if (i % 5 == 0)
			key[len++] = (char)(0x80 + i % 100);
		int32_t n = 1 + i % 97;
		cr_assert_eq(fd_route_partition(FD_PARTITIONER_MURMUR2, key, (size_t)len, n),
		             rd_kafka_msg_partitioner_murmur2(NULL, key, (size_t)len, n, NULL, NULL),
		             "murmur2 %s over %d", key, n);
		cr_assert_eq(fd_route_partition(FD_PARTITIONER_CONSISTENT, key, (size_t)len, n),
		             rd_kafka_msg_partitioner_consistent(NULL, key, (size_t)len, n, NULL, NULL),
		             "consistent %s over %d", key, n);
		cr_assert_eq(fd_route_partition(FD_PARTITIONER_FNV1A, key, (size_t)len, n),
		             rd_kafka_msg_partitioner_fnv1a(NULL, key, (size_t)len, n, NULL, NULL),
		             "fnv1a %s over %d", key, n);
	}
	cr_expect_eq(fd_route_partition(FD_PARTITIONER_NONE, "x", 1, 8), -1);
	cr_expect_eq(fd_route_partition(FD_PARTITIONER_MURMUR2, "x", 1, 0), -1);
}

Test(route, check_names_the_first_broken_rule)
{
	const char *lead = "ann@acme.example";
	size_t n = strlen(lead);
	int32_t p = fd_route_partition(FD_PARTITIONER_MURMUR2, lead, n, 12);
	int32_t other = (p + 1) % 12;
	cr_expect_eq(fd_route_check(FD_PARTITIONER_MURMUR2, lead, n, lead, p, 12), FD_ROUTE_OK);
	cr_expect_eq(fd_route_check(FD_PARTITIONER_MURMUR2, NULL, 0, lead, p, 12), FD_ROUTE_NO_KEY);
	cr_expect_eq(fd_route_check(FD_PARTITIONER_MURMUR2, "bob", 3, lead, p, 12),
	             FD_ROUTE_KEY_MISMATCH);
	/* a key that is a prefix of the id is not the id */
	cr_expect_eq(fd_route_check(FD_PARTITIONER_MURMUR2, lead, n - 1, lead, p, 12),
	             FD_ROUTE_KEY_MISMATCH);
	cr_expect_eq(fd_route_check(FD_PARTITIONER_MURMUR2, lead, n, lead, other, 12),
	             FD_ROUTE_WRONG_PARTITION);
	cr_expect_eq(fd_route_check(FD_PARTITIONER_NONE, lead, n, lead, other, 12), FD_ROUTE_OK);
	/* the CRC-32 partition is right for "consistent" and, unless they
	   happen to agree, wrong for murmur2 */
	int32_t c = fd_route_partition(FD_PARTITIONER_CONSISTENT, lead, n, 12);
	cr_expect_eq(fd_route_check(FD_PARTITIONER_CONSISTENT, lead, n, lead, c, 12), FD_ROUTE_OK);
	cr_expect_eq(fd_route_check(FD_PARTITIONER_MURMUR2, lead, n, lead, c, 12),
	             c == p ? FD_ROUTE_OK : FD_ROUTE_WRONG_PARTITION);
	cr_expect_str_eq(fd_route_reason_name(FD_ROUTE_WRONG_PARTITION), "wrong_partition");
	cr_expect_str_eq(fd_route_partitioner_name(FD_PARTITIONER_CONSISTENT), "consistent");
}
