/*
 * topic.c — partition counts, creation and readiness of topics (topic.h).
 */
#include "kafka/topic.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

#define READY_POLL_MS 100
#define METADATA_POLL_MS 2000

/* The partition count of `topic` (-1: unknown, -2: no metadata) and whether
 * every partition has a leader. Metadata of all topics, never of the one:
 * a producer's request for a missing topic would have the broker create it
 * with its defaults (allow.auto.create.topics is on for producers). */
static int describe(rd_kafka_t *rk, const char *topic, int timeout_ms, bool *leaders)
{
	const struct rd_kafka_metadata *md = NULL;
	*leaders = false;
	if (rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return -2;
	int n = -1;
	for (int i = 0; i < md->topic_cnt; i++) {
		const struct rd_kafka_metadata_topic *t = &md->topics[i];
		if (strcmp(t->topic, topic) != 0 || t->err || t->partition_cnt <= 0)
			continue;
		n = t->partition_cnt;
		*leaders = true;
		for (int p = 0; p < n; p++)
			if (t->partitions[p].leader < 0)
				*leaders = false;
	}
	rd_kafka_metadata_destroy(md);
	return n;
}

int fd_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	bool leaders;
	return describe(rk, topic, timeout_ms, &leaders);
}

bool fd_topic_ready(rd_kafka_t *rk, const char *topic, int partitions)
{
	bool leaders;
	return describe(rk, topic, METADATA_POLL_MS, &leaders) == partitions && leaders;
}

static int create(rd_kafka_t *rk, const char *topic, int partitions, const char *const *configs,
                  int timeout_ms, char *errstr, size_t errstr_size)
{
	char e[512];
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, -1, e, sizeof e);
	if (!nt) {
		snprintf(errstr, errstr_size, "topic %s: %s", topic, e);
		return -1;
	}
	for (size_t i = 0; configs && configs[i] && configs[i + 1]; i += 2)
		rd_kafka_NewTopic_set_config(nt, configs[i], configs[i + 1]);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
	int rc = -1;
	if (!ev) {
		snprintf(errstr, errstr_size, "topic %s: CreateTopics had no answer within %d ms", topic,
		         timeout_ms);
	} else if (rd_kafka_event_error(ev)) {
		snprintf(errstr, errstr_size, "topic %s: %s", topic, rd_kafka_event_error_string(ev));
	} else {
		size_t n;
		const rd_kafka_topic_result_t **res =
			rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
		rd_kafka_resp_err_t terr = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
		if (terr && terr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
			snprintf(errstr, errstr_size, "topic %s: %s", topic,
			         rd_kafka_topic_result_error_string(res[0]));
		else
			rc = 0;
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

int fd_topic_create(rd_kafka_t *rk, const char *topic, int partitions,
                    const char *const *configs, int timeout_ms, char *errstr, size_t errstr_size)
{
	int64_t give_up = fd_clock_monotonic_ms() + timeout_ms;
	if (create(rk, topic, partitions, configs, timeout_ms, errstr, errstr_size) != 0)
		return -1;
	while (!fd_topic_ready(rk, topic, partitions)) {
		if (fd_clock_monotonic_ms() >= give_up) {
			snprintf(errstr, errstr_size, "topic %s: not every partition of %d has a leader after "
			         "%d ms", topic, partitions, timeout_ms);
			return -1;
		}
		struct timespec pause = { 0, READY_POLL_MS * 1000000L };
		nanosleep(&pause, NULL);
	}
	return 0;
}
