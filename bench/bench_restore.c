/*
 * bench_restore.c — how fast a partition's state comes back from the
 * changelog, and what a restored lead costs in memory.
 *
 *   bench_restore [leads] [partitions]      (defaults 1000000 128)
 *
 * 1. An engine is driven with synthetic traffic (profile + a few events per
 *    lead, some MQLs with open SLAs); every lead is exported and encoded as
 *    a LeadState record.
 * 2. Decode + import of all records into a fresh engine, in memory: the
 *    CPU cost of a restore without Kafka.
 * 3. The records are produced into the changelog topic of an in-process mock
 *    cluster (partition = lead's partition), then every partition is
 *    restored at once with fd_restore_partitions (the daemon's steps, one
 *    reader for all partitions, the reader's defaults of
 *    fd_restore_conf_defaults) into a fresh engine: leads/s end to end, and
 *    bytes per lead of the restored engine. BENCH_READER="name=value ..."
 *    adds reader properties (to measure which fetch settings matter).
 *    With BENCH_KAFKA=BOOTSTRAP (scripts/kafka.sh start prints it) the
 *    topic is a compacted one on that Apache Kafka cluster instead. On
 *    either, a plain consumer reading the same topic in the same run gives
 *    the ceiling: restore leads/s against plain records/s.
 * The mock keeps at most 100,000 records or 5 MB per partition (DESIGN
 * section 9): records are ~200 B (compact encoding), so keep
 * leads/partitions under ~25,000.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "../tests/engine_fixture.h"
#include "base/log.h"
#include "base/table.h"
#include "funneld/wire.h"
#include "kafka/restore.h"
#include "support/bench.h"

typedef struct rec {
	char id[16];
	int32_t partition;
	uint8_t *buf;
	size_t len;
} rec;

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	int parts = argc > 2 ? atoi(argv[2]) : 128;
	char err[512];
	fd_log_init(FD_LOG_WARNING);
	fd_rules cfg;
	fx_config(&cfg);

	/* 1. state to restore */
	fd_engine *src = fd_engine_new(&cfg, n);
	rec *recs = calloc(n, sizeof *recs);
	fd_sink none = { 0 };
	static const char *types[] = { "page_view", "email_click", "content_download", "pricing_view" };
	for (size_t i = 0; i < n; i++) {
		rec *r = &recs[i];
		snprintf(r->id, sizeof r->id, "lead-%08zu", i % 100000000);
		r->partition = (int32_t)(fd_table_hash(r->id, strlen(r->id)) % (uint64_t)parts);
		fd_profile p = { .lead_id = r->id, .updated_at_ms = T0, .seniority = (i & 1) ? "VP" : "Engineer",
		                 .industry = "Software", .country = "US", .employee_count = 500,
		                 .partition = r->partition, .position = 1 };
		fd_engine_profile(src, &p, T0, &none, err, sizeof err);
		for (int k = 0; k < 4; k++) {
			char eid[24];
			snprintf(eid, sizeof eid, "%zu-%d", i, k);
			fd_engagement ev = { .event_id = eid, .lead_id = r->id, .occurred_at_ms = T0 + k * HOUR,
			                     .type = types[(i + (size_t)k) % 4], .channel = "web",
			                     .content_id = (k & 1) ? "pricing" : "blog",
			                     .partition = r->partition, .position = k + 1 };
			fd_engine_engagement(src, &ev, T0 + k * HOUR, &none, err, sizeof err);
		}
		if (i % 10 == 0) {
			fd_engagement ev = { .event_id = "d", .lead_id = r->id, .occurred_at_ms = T0 + 5 * HOUR,
			                     .type = "demo_request", .partition = r->partition, .position = 9 };
			fd_engine_engagement(src, &ev, T0 + 5 * HOUR, &none, err, sizeof err);
		}
	}
	fd_lead_state *st = malloc(sizeof *st);
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (!fd_engine_export(src, recs[i].id, st) ||
		    fd_wire_encode_lead_state(st, &recs[i].buf, &recs[i].len) != 0)
			return 1;
		bytes += recs[i].len;
	}
	fd_engine_free(src);
	printf("restore benchmark: %zu leads, %d partitions, LeadState records %.0f B on average\n",
	       n, parts, (double)bytes / (double)n);

	/* 2. decode + import only */
	{
		long rss0 = bench_rss_kb();
		fd_engine *e = fd_engine_new(&cfg, n);
		fd_wire_arena *a = fd_wire_arena_new();
		double t0 = bench_seconds();
		for (size_t i = 0; i < n; i++) {
			if (fd_wire_decode_lead_state(recs[i].buf, recs[i].len, a, st, err, sizeof err) != 0 ||
			    fd_engine_import(e, st, err, sizeof err) != FD_OK) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			fd_wire_arena_reset(a);
		}
		double dt = bench_seconds() - t0;
		fd_engine_stats s;
		fd_engine_stats_get(e, &s);
		long rss1 = bench_rss_kb();
		printf("  decode + import, in memory: %.0f leads/s (%.2f s); restored engine: core %.0f B/lead, "
		       "context %.0f B/lead, RSS growth %.0f B/lead, %llu pending timers\n",
		       (double)n / dt, dt, (double)s.bytes_core / (double)s.leads,
		       (double)s.bytes_context / (double)s.leads, (double)(rss1 - rss0) * 1024.0 / (double)n,
		       (unsigned long long)s.pending_timers);
		fd_wire_arena_free(a);
		fd_engine_free(e);
	}

	/* 3. through the mock cluster, or Apache Kafka with BENCH_KAFKA=BOOTSTRAP */
	const char *real = getenv("BENCH_KAFKA");
	rd_kafka_t *mrk = NULL;
	rd_kafka_mock_cluster_t *mc = NULL;
	const char *bootstrap = real;
	char topic[64];
	snprintf(topic, sizeof topic, "bench-restore-%d.changelog", (int)getpid());
	if (real) {
		const char *names[] = { topic };
		if (bench_create_topics(real, names, 1, parts, "compact") != 0)
			return 1;
	} else {
		mrk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
		mc = rd_kafka_mock_cluster_new(mrk, 1);
		bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
		rd_kafka_mock_topic_create(mc, topic, parts, 1);
	}
	rd_kafka_conf_t *pconf = rd_kafka_conf_new();
	rd_kafka_conf_set(pconf, "bootstrap.servers", bootstrap, err, sizeof err);
	rd_kafka_conf_set(pconf, "linger.ms", "50", err, sizeof err);
	rd_kafka_conf_set(pconf, "queue.buffering.max.messages", "2000000", err, sizeof err);
	rd_kafka_conf_set(pconf, "queue.buffering.max.kbytes", "2000000", err, sizeof err);
	rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
	for (size_t i = 0; i < n; i++) {
		while (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(topic),
		                         RD_KAFKA_V_PARTITION(recs[i].partition),
		                         RD_KAFKA_V_KEY(recs[i].id, strlen(recs[i].id)),
		                         RD_KAFKA_V_VALUE(recs[i].buf, recs[i].len),
		                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END) ==
		       RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(prod, 10);
		recs[i].buf = NULL;
	}
	rd_kafka_flush(prod, 120000);
	rd_kafka_destroy(prod);

	rd_kafka_conf_t *rconf = rd_kafka_conf_new();
	rd_kafka_conf_set(rconf, "bootstrap.servers", bootstrap, err, sizeof err);
	rd_kafka_conf_set(rconf, "group.id", "bench.restore", err, sizeof err);
	rd_kafka_conf_set(rconf, "fetch.wait.max.ms", "10", err, sizeof err);
	if (fd_restore_conf_defaults(rconf, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* BENCH_READER="name=value name=value ...": more reader properties, to measure
	 * which fetch settings matter */
	char *extra = getenv("BENCH_READER") ? strdup(getenv("BENCH_READER")) : NULL;
	for (char *save = NULL, *kv = extra ? strtok_r(extra, " ", &save) : NULL; kv;
	     kv = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			fprintf(stderr, "BENCH_READER: %s: want name=value\n", kv);
			return 1;
		}
		*eq = '\0';
		if (rd_kafka_conf_set(rconf, kv, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
			fprintf(stderr, "BENCH_READER: %s\n", err);
			return 1;
		}
	}
	free(extra);
	double plain = bench_plain_read(bootstrap, topic, parts, (long)n).from_start;
	fd_restore *cl = fd_restore_new(topic, rconf, err, sizeof err);
	if (!cl) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	long rss0 = bench_rss_kb();
	fd_engine *e = fd_engine_new(&cfg, n);
	double t0 = bench_seconds();
	int32_t *all = malloc((size_t)parts * sizeof *all);
	for (int p = 0; p < parts; p++)
		all[p] = p;
	fd_restore_stats rs;
	if (fd_restore_partitions(cl, all, (size_t)parts, e, &rs, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	free(all);
	uint64_t restored = rs.leads, records = rs.records;
	double dt = bench_seconds() - t0;
	fd_engine_stats s;
	fd_engine_stats_get(e, &s);
	long rss1 = bench_rss_kb();
	printf("  through %s: %.0f leads/s (%llu leads from %llu records in %.2f s)\n",
	       real ? "Apache Kafka" : "the mock cluster", (double)restored / dt,
	       (unsigned long long)restored, (unsigned long long)records, dt);
	if (plain > 0)
		printf("  plain read of the same topic: %.0f records/s; restore / plain read: %.2f\n", plain,
		       ((double)restored / dt) / plain);
	printf("  restored engine at %llu leads: core %.0f B/lead (record %zu B + slot + header/id), "
	       "context %.0f B/lead, RSS growth %.0f B/lead\n",
	       (unsigned long long)s.leads, (double)s.bytes_core / (double)s.leads,
	       fd_engine_lead_record_size(), (double)s.bytes_context / (double)s.leads,
	       (double)(rss1 - rss0) * 1024.0 / (double)s.leads);
	fd_engine_free(e);
	fd_restore_free(cl);
	if (mc) {
		rd_kafka_mock_cluster_destroy(mc);
		rd_kafka_destroy(mrk);
	}
	for (size_t i = 0; i < n; i++)
		free(recs[i].buf);
	free(recs);
	free(st);
	return 0;
}
