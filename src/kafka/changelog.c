/*
 * changelog.c — create/check the changelog topic and restore partitions
 * from it (see changelog.h).
 *
 * Restoring uses a consumer of its own, without a group (assign only, no
 * commits): read from the beginning up to the high watermark seen when the
 * restore started. Records written after that belong to the instance that
 * owns the partition now, which is us, and we have not written any yet.
 */
#include "kafka/changelog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "funneld/wire.h"

struct fd_changelog {
	char topic[FD_TOPIC_MAX];
	rd_kafka_t *reader;
	fd_wire_arena *arena;
	fd_lead_state state;
	/* the restore in progress */
	int32_t partition;       /* -1: none */
	int64_t end;             /* high watermark when it began */
	double started;
	double last_progress;
};

fd_changelog *fd_changelog_new(const char *topic, rd_kafka_conf_t *conf, char *errstr,
                               size_t errstr_size)
{
	fd_changelog *cl = calloc(1, sizeof *cl);
	char e[512];
	if (!cl) {
		rd_kafka_conf_destroy(conf);
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	snprintf(cl->topic, sizeof cl->topic, "%s", topic);
	cl->partition = -1;
	if (rd_kafka_conf_set(conf, "enable.partition.eof", "true", e, sizeof e) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof e) ||
	    rd_kafka_conf_set(conf, "client.id", "funneld-restore", e, sizeof e)) {
		rd_kafka_conf_destroy(conf);
		snprintf(errstr, errstr_size, "changelog reader: %s", e);
		free(cl);
		return NULL;
	}
	cl->reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
	if (!cl->reader) {
		rd_kafka_conf_destroy(conf);
		snprintf(errstr, errstr_size, "changelog reader: %s", e);
		free(cl);
		return NULL;
	}
	cl->arena = fd_wire_arena_new();
	if (!cl->arena) {
		snprintf(errstr, errstr_size, "out of memory");
		fd_changelog_free(cl);
		return NULL;
	}
	return cl;
}

void fd_changelog_free(fd_changelog *cl)
{
	if (!cl)
		return;
	if (cl->reader) {
		rd_kafka_consumer_close(cl->reader);
		rd_kafka_destroy(cl->reader);
	}
	fd_wire_arena_free(cl->arena);
	free(cl);
}

static int partition_count(rd_kafka_t *rk, const char *topic, int *count)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
	if (err)
		return -1;
	*count = -1;
	for (int i = 0; i < md->topic_cnt; i++)
		if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err)
			*count = md->topics[i].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return 0;
}

int fd_changelog_ensure(fd_changelog *cl, rd_kafka_t *admin, int partitions, char *errstr,
                        size_t errstr_size)
{
	int have;
	if (partition_count(admin, cl->topic, &have) != 0) {
		snprintf(errstr, errstr_size, "changelog %s: metadata unavailable", cl->topic);
		return -1;
	}
	if (have == partitions)
		return 0;
	if (have > 0) {
		snprintf(errstr, errstr_size, "changelog topic %s has %d partitions, the inputs have %d: "
		         "a lead's state must live on its input partition number", cl->topic, have,
		         partitions);
		return -1;
	}
	char e[512];
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(cl->topic, partitions, -1, e, sizeof e);
	if (!nt) {
		snprintf(errstr, errstr_size, "changelog %s: %s", cl->topic, e);
		return -1;
	}
	rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
	rd_kafka_queue_t *q = rd_kafka_queue_new(admin);
	rd_kafka_CreateTopics(admin, &nt, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
	int rc = -1;
	if (!ev) {
		snprintf(errstr, errstr_size, "changelog %s: CreateTopics timed out", cl->topic);
	} else if (rd_kafka_event_error(ev)) {
		snprintf(errstr, errstr_size, "changelog %s: %s", cl->topic, rd_kafka_event_error_string(ev));
	} else {
		size_t n;
		const rd_kafka_topic_result_t **res =
			rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
		rd_kafka_resp_err_t terr = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
		if (terr && terr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			snprintf(errstr, errstr_size, "changelog %s: %s", cl->topic,
			         rd_kafka_topic_result_error_string(res[0]));
		} else {
			fd_log(FD_LOG_NOTICE, "created changelog topic %s (%d partitions, compacted)",
			       cl->topic, partitions);
			rc = 0;
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void apply_record(fd_changelog *cl, const rd_kafka_message_t *m, fd_engine *e,
                         fd_restore_stats *st)
{
	st->records++;
	if (m->len == 0 || !m->payload) {
		char id[256];
		size_t n = m->key_len < sizeof id - 1 ? m->key_len : sizeof id - 1;
		memcpy(id, m->key, n);
		id[n] = '\0';
		if (fd_engine_remove(e, id))
			st->leads--;
		st->tombstones++;
		return;
	}
	char err[256];
	if (fd_wire_decode_lead_state(m->payload, m->len, cl->arena, &cl->state, err, sizeof err) != 0) {
		st->bad++;
		fd_log(FD_LOG_ERR, "changelog %s [%" PRId32 "] @%" PRId64 ": %s (record skipped)",
		       cl->topic, m->partition, m->offset, err);
		return;
	}
	fd_lead_view v;
	bool existed = fd_engine_lead(e, cl->state.lead_id, 0, &v);
	fd_status rc = fd_engine_import(e, &cl->state, err, sizeof err);
	if (rc != FD_OK) {
		st->bad++;
		fd_log(FD_LOG_ERR, "changelog %s [%" PRId32 "] @%" PRId64 ": %s", cl->topic,
		       m->partition, m->offset, err);
	} else if (!existed) {
		st->leads++;
	}
}

int32_t fd_changelog_restoring(const fd_changelog *cl)
{
	return cl->partition;
}

int fd_changelog_restore_begin(fd_changelog *cl, int32_t partition, char *errstr,
                               size_t errstr_size)
{
	int64_t lo = 0, hi = 0;
	rd_kafka_resp_err_t err =
		rd_kafka_query_watermark_offsets(cl->reader, cl->topic, partition, &lo, &hi, 30000);
	if (err) {
		snprintf(errstr, errstr_size, "changelog %s [%" PRId32 "]: watermarks: %s", cl->topic,
		         partition, rd_kafka_err2str(err));
		return -1;
	}
	cl->partition = partition;
	cl->started = cl->last_progress = mono();
	if (hi <= lo) {
		cl->end = 0; /* empty: the first step finishes */
		return 0;
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, cl->topic, partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
	err = rd_kafka_assign(cl->reader, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (err) {
		cl->partition = -1;
		snprintf(errstr, errstr_size, "changelog %s [%" PRId32 "]: assign: %s", cl->topic,
		         partition, rd_kafka_err2str(err));
		return -1;
	}
	cl->end = hi;
	return 0;
}

void fd_changelog_restore_cancel(fd_changelog *cl)
{
	if (cl->partition >= 0)
		rd_kafka_assign(cl->reader, NULL);
	cl->partition = -1;
}

static int finish(fd_changelog *cl, fd_restore_stats *st)
{
	fd_changelog_restore_cancel(cl);
	st->seconds = mono() - cl->started;
	return 1;
}

int fd_changelog_restore_step(fd_changelog *cl, fd_engine *e, size_t max, fd_restore_stats *st,
                              char *errstr, size_t errstr_size)
{
	if (cl->partition < 0) {
		snprintf(errstr, errstr_size, "no restore in progress");
		return -1;
	}
	if (cl->end == 0)
		return finish(cl, st);
	for (size_t i = 0; i < max; i++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cl->reader, 0);
		if (!m)
			break;
		cl->last_progress = mono();
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			bool done = m->offset >= cl->end;
			rd_kafka_message_destroy(m);
			if (done)
				return finish(cl, st);
			continue;
		}
		if (m->err) {
			fd_log(FD_LOG_WARNING, "changelog restore: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		int64_t off = m->offset;
		apply_record(cl, m, e, st);
		rd_kafka_message_destroy(m);
		fd_wire_arena_reset(cl->arena);
		if (off >= cl->end - 1)
			return finish(cl, st);
	}
	if (mono() - cl->last_progress > 60) {
		snprintf(errstr, errstr_size, "changelog %s [%" PRId32 "]: no progress for 60 s", cl->topic,
		         cl->partition);
		fd_changelog_restore_cancel(cl);
		return -1;
	}
	return 0;
}

int fd_changelog_restore(fd_changelog *cl, int32_t partition, fd_engine *e,
                         fd_restore_stats *st, char *errstr, size_t errstr_size)
{
	memset(st, 0, sizeof *st);
	if (fd_changelog_restore_begin(cl, partition, errstr, errstr_size) != 0)
		return -1;
	for (;;) {
		int rc = fd_changelog_restore_step(cl, e, 10000, st, errstr, errstr_size);
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 0;
		rd_kafka_poll(cl->reader, 5); /* wait a little for the next fetch */
	}
}
