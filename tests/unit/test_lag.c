/*
 * test_lag.c — consumer lag from librdkafka's statistics: a statistics
 * document written by hand in librdkafka 2.0's shape (the fields that
 * matter, a few that do not, the internal -1 partition, a partition the
 * consumer does not want, a topic funneld does not read), parsed into
 * exact entries; the table keeps assigned partitions only and forgets a
 * revoked one at once.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kafka/kafka.h"
#include "kafka/lag.h"

static const char *const inputs[] = { "funneld.engagement", "funneld.profiles",
	                                  "funneld.activities" };

/* What librdkafka's consumer emits every statistics.interval.ms, trimmed
 * to two topics of three partitions plus the noise around them. */
static const char sample[] =
	"{\"name\":\"funneld-consumer#consumer-1\",\"client_id\":\"funneld-consumer\","
	"\"type\":\"consumer\",\"ts\":5021593151,\"time\":1764300000,\"replyq\":0,"
	"\"brokers\":{\"127.0.0.1:40123/1\":{\"name\":\"127.0.0.1:40123/1\",\"nodeid\":1,"
	"\"state\":\"UP\",\"rtt\":{\"min\":120,\"max\":900,\"avg\":300}}},"
	"\"topics\":{"
	"\"funneld.engagement\":{\"topic\":\"funneld.engagement\",\"age\":5003,"
	"\"metadata_age\":4000,\"partitions\":{"
	"\"0\":{\"partition\":0,\"broker\":1,\"leader\":1,\"desired\":true,\"unknown\":false,"
	"\"fetch_state\":\"active\",\"committed_offset\":120,\"hi_offset\":1620,"
	"\"ls_offset\":1620,\"consumer_lag\":1500,\"consumer_lag_stored\":1490},"
	"\"1\":{\"partition\":1,\"broker\":1,\"leader\":1,\"desired\":true,\"unknown\":false,"
	"\"fetch_state\":\"active\",\"committed_offset\":-1001,\"hi_offset\":40,"
	"\"consumer_lag\":-1,\"consumer_lag_stored\":-1},"
	"\"2\":{\"partition\":2,\"broker\":1,\"leader\":1,\"desired\":false,\"unknown\":false,"
	"\"fetch_state\":\"none\",\"consumer_lag\":77},"
	"\"-1\":{\"partition\":-1,\"broker\":-1,\"leader\":-1,\"desired\":false,"
	"\"consumer_lag\":-1}}},"
	"\"funneld.profiles\":{\"topic\":\"funneld.profiles\",\"partitions\":{"
	"\"0\":{\"partition\":0,\"desired\":true,\"consumer_lag\":0},"
	"\"1\":{\"partition\":1,\"desired\":true,\"consumer_lag\":3}}},"
	"\"funneld.transitions\":{\"topic\":\"funneld.transitions\",\"partitions\":{"
	"\"0\":{\"partition\":0,\"desired\":true,\"consumer_lag\":9}}}},"
	"\"cgrp\":{\"state\":\"up\",\"join_state\":\"steady\",\"assignment_size\":6}}";

Test(lag, parse_reads_the_lag_of_every_wanted_partition_of_the_inputs)
{
	fd_lag_entry e[8];
	char err[128];
	long n = fd_lag_parse(sample, inputs, 3, e, 8, err, sizeof err);
	cr_assert_eq(n, 4, "%s", err);
	cr_assert_str_eq(e[0].topic, "funneld.engagement");
	cr_assert_eq(e[0].partition, 0);
	cr_assert_eq(e[0].lag, 1500);
	cr_assert_str_eq(e[1].topic, "funneld.engagement");
	cr_assert_eq(e[1].partition, 1);
	cr_assert_eq(e[1].lag, -1, "unknown stays unknown");
	cr_assert_str_eq(e[2].topic, "funneld.profiles");
	cr_assert_eq(e[2].partition, 0);
	cr_assert_eq(e[2].lag, 0);
	cr_assert_str_eq(e[3].topic, "funneld.profiles");
	cr_assert_eq(e[3].partition, 1);
	cr_assert_eq(e[3].lag, 3);
}

Test(lag, parse_counts_what_does_not_fit_and_refuses_what_is_not_a_document)
{
	fd_lag_entry e[2];
	char err[128] = "";
	cr_assert_eq(fd_lag_parse(sample, inputs, 3, e, 2, err, sizeof err), 4);
	cr_assert_eq(e[1].lag, -1);
	cr_assert_eq(fd_lag_parse("{\"name\":\"x\"", inputs, 3, e, 2, err, sizeof err), -1);
	cr_assert_str_eq(err, "statistics: not JSON");
	cr_assert_eq(fd_lag_parse("{\"name\":\"x\"}", inputs, 3, e, 2, err, sizeof err), -1);
	cr_assert_str_eq(err, "statistics: no \"topics\" object");
	cr_assert_eq(fd_lag_parse("{\"topics\":{}}", inputs, 3, e, 2, err, sizeof err), 0);
}

Test(lag, the_table_keeps_assigned_partitions_sorted_and_forgets_a_revoked_one)
{
	fd_lag_entry e[8];
	char err[128];
	long n = fd_lag_parse(sample, inputs, 3, e, 8, err, sizeof err);
	fd_lag l = { 0 };
	cr_assert_eq(fd_lag_assign(&l, 1), 0);
	cr_assert_eq(fd_lag_update(&l, e, (size_t)n), 0);
	cr_assert_eq(l.n, 2, "partition 0 is not this instance's");
	cr_assert_str_eq(l.entries[0].topic, "funneld.engagement");
	cr_assert_eq(l.entries[0].partition, 1);
	cr_assert_str_eq(l.entries[1].topic, "funneld.profiles");
	cr_assert_eq(l.entries[1].lag, 3);

	cr_assert_eq(fd_lag_assign(&l, 0), 0);
	cr_assert_eq(fd_lag_assign(&l, 0), 0, "twice is once");
	cr_assert_eq(fd_lag_update(&l, e, (size_t)n), 0);
	cr_assert_eq(l.n, 4);
	cr_assert_eq(l.entries[0].partition, 0);
	cr_assert_eq(l.entries[0].lag, 1500);
	cr_assert_eq(l.entries[1].partition, 1);
	cr_assert_eq(l.entries[2].partition, 0);
	cr_assert_str_eq(l.entries[2].topic, "funneld.profiles");

	fd_lag_forget(&l, 0); /* revoked: gone at once, and not brought back */
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.entries[0].partition, 1);
	cr_assert_eq(l.entries[1].partition, 1);
	cr_assert_eq(fd_lag_update(&l, e, (size_t)n), 0);
	cr_assert_eq(l.n, 2, "a document written before the revoke");
	fd_lag_forget(&l, 1);
	cr_assert_eq(l.n, 0);
	fd_lag_free(&l);
	/* nothing assigned, nothing reported: an empty table stays empty */
	cr_assert_eq(fd_lag_update(&l, NULL, 0), 0);
	cr_assert_eq(l.n, 0);
	fd_lag_free(&l);
}

/* The reason classes of funneld_dead_letters_total, from the reasons the
 * daemon writes. */
Test(lag, dead_letter_reasons_fall_in_a_fixed_set_of_classes)
{
	cr_assert_eq(fd_kafka_dl_class_of("refused: ACCEPT does not fit stage LEAD"), FD_DL_REFUSED);
	cr_assert_eq(fd_kafka_dl_class_of("lead cap: lead cap reached (300 leads in memory)"),
	             FD_DL_LEAD_CAP);
	cr_assert_eq(fd_kafka_dl_class_of("invalid: unknown event type 'x'"), FD_DL_INVALID);
	cr_assert_eq(fd_kafka_dl_class_of("misrouted: key hashes to partition 2"), FD_DL_MISROUTED);
	cr_assert_eq(fd_kafka_dl_class_of("output too large for funneld.transitions"),
	             FD_DL_TOO_LARGE);
	cr_assert_eq(fd_kafka_dl_class_of("protobuf: truncated"), FD_DL_OTHER);
	cr_assert_eq(fd_kafka_dl_class_of(NULL), FD_DL_OTHER);
	static const char *const names[FD_DL_COUNT] = { "undecodable", "invalid",
		                                             "refused_transition", "lead_cap",
		                                             "too_large", "misrouted", "other" };
	for (int c = 0; c < FD_DL_COUNT; c++)
		cr_assert_str_eq(fd_kafka_dl_class_name((fd_dl_class)c), names[c]);
	cr_assert_str_eq(fd_kafka_dl_class_name(FD_DL_COUNT), "other");
}
