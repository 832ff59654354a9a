/*
 * bench.c — the benchmarks' shared helpers (see bench.h).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "funneld/v1/inputs.pb-c.h"
#include "kafka/topic.h"

double bench_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long bench_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

uint64_t bench_next(uint64_t *state)
{
	uint64_t s = *state;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return *state = s;
}

static rd_kafka_t *client(const char *bootstrap, rd_kafka_type_t type, const char *const *kv)
{
	char err[512];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
	for (; kv && kv[0]; kv += 2)
		if (rd_kafka_conf_set(c, kv[0], kv[1], err, sizeof err) != RD_KAFKA_CONF_OK) {
			fprintf(stderr, "%s\n", err);
			rd_kafka_conf_destroy(c);
			return NULL;
		}
	rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
	if (!rk)
		fprintf(stderr, "client: %s\n", err);
	return rk;
}

int bench_create_topics(const char *bootstrap, const char *const *names, size_t n,
                        int partitions, const char *cleanup)
{
	char err[512];
	rd_kafka_t *rk = client(bootstrap, RD_KAFKA_PRODUCER, NULL);
	if (!rk)
		return -1;
	const char *const configs[] = { "cleanup.policy", cleanup, NULL };
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((rc = fd_topic_create(rk, names[i], partitions, cleanup ? configs : NULL, 60000, err,
		                          sizeof err)) != 0)
			fprintf(stderr, "%s\n", err);
	rd_kafka_destroy(rk);
	return rc;
}

double bench_preload(const char *bootstrap, const char *topic, long events, long leads)
{
	static const char *const kv[] = { "linger.ms", "20", "queue.buffering.max.messages", "1000000",
		                              "partitioner", "murmur2_random", NULL };
	rd_kafka_t *prod = client(bootstrap, RD_KAFKA_PRODUCER, kv);
	if (!prod)
		return -1;
	static const char *types[] = { "page_view", "email_open", "email_click", "content_download",
		                           "webinar_attended", "pricing_view" };
	int64_t t0 = (int64_t)time(NULL) * 1000 - 10LL * 86400 * 1000;
	uint64_t s = 0x9e3779b97f4a7c15u;
	double p0 = bench_seconds();
	for (long i = 0; i < events; i++) {
		bench_next(&s);
		char lead[32], id[32];
		snprintf(lead, sizeof lead, "lead-%07ld", (long)(s % (uint64_t)leads));
		snprintf(id, sizeof id, "ev-%ld", i);
		Funneld__V1__EngagementEvent ev;
		funneld__v1__engagement_event__init(&ev);
		ev.event_id = id;
		ev.lead_id = lead;
		ev.occurred_at_ms = t0 + i * 5;
		ev.type = (char *)(uintptr_t)types[(s >> 20) % 6];
		ev.channel = (char *)(uintptr_t)"web";
		size_t len = funneld__v1__engagement_event__get_packed_size(&ev);
		uint8_t *buf = malloc(len);
		funneld__v1__engagement_event__pack(&ev, buf);
		while (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(lead, strlen(lead)),
		                         RD_KAFKA_V_VALUE(buf, len),
		                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END) ==
		       RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(prod, 10);
	}
	rd_kafka_flush(prod, 300000);
	rd_kafka_destroy(prod);
	return bench_seconds() - p0;
}

bench_read bench_plain_read(const char *bootstrap, const char *topic, int partitions, long n)
{
	char gid[64];
	snprintf(gid, sizeof gid, "bench-plain-%d", (int)getpid());
	const char *const kv[] = { "group.id", gid, "enable.auto.commit", "false", NULL };
	bench_read r = { 0 };
	rd_kafka_t *rk = client(bootstrap, RD_KAFKA_CONSUMER, kv);
	if (!rk)
		return r;
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
	for (int p = 0; p < partitions; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	double start = bench_seconds(), first = 0, last = 0, give_up = start + 600;
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	while (r.records < n && bench_seconds() < give_up) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (!m->err) {
			if (r.records++ == 0)
				first = bench_seconds();
			last = bench_seconds();
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	if (r.records == n && last > first) {
		r.from_start = (double)r.records / (last - start);
		r.from_first = (double)r.records / (last - first);
	}
	return r;
}

bool bench_huge_pages(void)
{
	const char *v = getenv("BENCH_HUGE_PAGES");
	return v && strcmp(v, "1") == 0;
}
