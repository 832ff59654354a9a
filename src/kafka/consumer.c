/*
 * consumer.c — the input topics as one group member (see consumer.h).
 */
#include "kafka/consumer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "funneld/wire.h"
#include "kafka/restore.h"

#define SEEK_TIMEOUT_MS 5000
#define MAX_REWOUND 64        /* partitions rewound in one batch */

struct fd_consumer {
	fd_wire_arena *arenas[FD_CONSUMER_BATCH];
	fd_input batch[FD_CONSUMER_BATCH];
	fd_position rewound[MAX_REWOUND];
	size_t n_rewound;
	int partitions;           /* of each input topic */
};

fd_consumer *fd_consumer_new(void)
{
	fd_consumer *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	for (int i = 0; i < FD_CONSUMER_BATCH; i++)
		if (!(c->arenas[i] = fd_wire_arena_new())) {
			fd_consumer_free(c);
			return NULL;
		}
	return c;
}

void fd_consumer_free(fd_consumer *c)
{
	if (!c)
		return;
	for (int i = 0; i < FD_CONSUMER_BATCH; i++) {
		if (c->batch[i].msg)
			rd_kafka_message_destroy(c->batch[i].msg);
		fd_wire_arena_free(c->arenas[i]);
	}
	free(c);
}

int fd_consumer_check_topics(fd_kafka *k, int timeout_ms, char *errstr, size_t errstr_size)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err = rd_kafka_metadata(k->consumer, 1, NULL, &md, timeout_ms);
	if (err) {
		snprintf(errstr, errstr_size, "metadata: %s", rd_kafka_err2str(err));
		return 0;
	}
	const char *names[FD_IN_TOPICS];
	int counts[FD_IN_TOPICS];
	for (int i = 0; i < FD_IN_TOPICS; i++) {
		names[i] = fd_kafka_input_topic(k, i);
		counts[i] = -1;
	}
	for (int t = 0; t < md->topic_cnt; t++)
		for (int i = 0; i < FD_IN_TOPICS; i++)
			if (strcmp(md->topics[t].topic, names[i]) == 0 && !md->topics[t].err)
				counts[i] = md->topics[t].partition_cnt;
	rd_kafka_metadata_destroy(md);
	for (int i = 0; i < FD_IN_TOPICS; i++) {
		if (counts[i] < 0) {
			snprintf(errstr, errstr_size, "input topic %s does not exist (create the topics "
			         "%s, %s and %s with the same partition count)",
			         names[i], names[0], names[1], names[2]);
			return -1;
		}
	}
	if (counts[0] != counts[1] || counts[0] != counts[2]) {
		snprintf(errstr, errstr_size, "input topics are not co-partitioned: %s has %d "
		         "partitions, %s has %d, %s has %d; every lead must live on the same "
		         "partition number of all three",
		         names[0], counts[0], names[1], counts[1], names[2], counts[2]);
		return -1;
	}
	fd_log(FD_LOG_INFO, "input topics %s, %s, %s: %d partitions each", names[0], names[1],
	       names[2], counts[0]);
	k->input->partitions = counts[0];
	return 1;
}

int fd_consumer_partitions(const fd_kafka *k)
{
	return k->input->partitions;
}

int fd_consumer_subscribe(fd_kafka *k, char *errstr, size_t errstr_size)
{
	/* the group balances the engagement topic; profiles and activities of
	 * the same partition numbers follow (see with_co_partitions) */
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, fd_kafka_input_topic(k, FD_IN_ENGAGEMENT),
	                                  RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(k->consumer, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (err) {
		snprintf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
		return -1;
	}
	k->subscribed = true;
	return 0;
}

/* ---- batches -------------------------------------------------------------------- */

static int topic_index(const fd_kafka *k, const char *name)
{
	for (int i = 0; i < FD_IN_TOPICS; i++)
		if (strcmp(name, fd_kafka_input_topic(k, i)) == 0)
			return i;
	return -1;
}

static void decode(const fd_kafka *k, fd_input *p, fd_wire_arena *a)
{
	const rd_kafka_message_t *m = p->msg;
	const fd_topics *t = &k->cfg->topics;
	int rc = -1;
	p->reason[0] = '\0';
	switch (p->topic) {
	case FD_IN_ENGAGEMENT:
		rc = fd_wire_decode_engagement(t->engagement_encoding, m->payload, m->len, a, &p->ev,
		                               p->reason, sizeof p->reason);
		p->lead_id = p->ev.lead_id;
		p->ev.partition = m->partition;
		p->ev.position = m->offset + 1;
		break;
	case FD_IN_PROFILES:
		rc = fd_wire_decode_profile(t->profiles_encoding, m->payload, m->len, a, &p->profile,
		                            p->reason, sizeof p->reason);
		p->lead_id = p->profile.lead_id;
		p->profile.partition = m->partition;
		p->profile.position = m->offset + 1;
		break;
	case FD_IN_ACTIVITIES:
		rc = fd_wire_decode_activity(t->activities_encoding, m->payload, m->len, a, &p->activity,
		                             p->reason, sizeof p->reason);
		p->lead_id = p->activity.lead_id;
		p->activity.partition = m->partition;
		p->activity.position = m->offset + 1;
		break;
	default:
		snprintf(p->reason, sizeof p->reason, "record from unexpected topic %s",
		         rd_kafka_topic_name(m->rkt));
	}
	p->decoded = rc;
	if (rc != 0)
		p->lead_id = NULL;
}

size_t fd_consumer_read(fd_kafka *k, fd_input **batch)
{
	fd_consumer *c = k->input;
	size_t n = 0;
	c->n_rewound = 0;
	while (n < FD_CONSUMER_BATCH && !k->closed) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, 0);
		if (!m)
			break;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fd_log(FD_LOG_WARNING, "consumer: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		fd_input *p = &c->batch[n];
		p->msg = m;
		p->topic = topic_index(k, rd_kafka_topic_name(m->rkt));
		int64_t t0 = fd_clock_monotonic_us();
		decode(k, p, c->arenas[n]);
		p->decode_us = fd_clock_monotonic_us() - t0;
		n++;
	}
	*batch = c->batch;
	return n;
}

void fd_consumer_done(fd_kafka *k, size_t i)
{
	fd_consumer *c = k->input;
	rd_kafka_message_destroy(c->batch[i].msg);
	c->batch[i].msg = NULL;
	fd_wire_arena_reset(c->arenas[i]);
}

void fd_consumer_rewind(fd_kafka *k, const fd_input *in)
{
	fd_consumer *c = k->input;
	const rd_kafka_message_t *m = in->msg;
	for (size_t i = 0; i < c->n_rewound; i++)
		if (c->rewound[i].topic == in->topic && c->rewound[i].partition == m->partition)
			return;
	if (c->n_rewound < MAX_REWOUND)
		c->rewound[c->n_rewound++] = (fd_position){ in->topic, m->partition, m->offset };
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
		m->offset;
	rd_kafka_error_t *e = rd_kafka_seek_partitions(k->consumer, l, SEEK_TIMEOUT_MS);
	if (e) {
		fd_kafka_fail(k, FD_LOG_CRIT, "cannot rewind %s [%" PRId32 "] during its restore: %s",
		              rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	}
	rd_kafka_topic_partition_list_destroy(l);
}

void fd_consumer_pause(fd_kafka *k, int32_t p, bool pause)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(FD_IN_TOPICS);
	for (int i = 0; i < FD_IN_TOPICS; i++)
		rd_kafka_topic_partition_list_add(l, fd_kafka_input_topic(k, i), p);
	rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(k->consumer, l)
	                                : rd_kafka_resume_partitions(k->consumer, l);
	if (err)
		fd_log(FD_LOG_ERR, "%s partition %" PRId32 ": %s", pause ? "pause" : "resume", p,
		       rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_destroy(l);
}

void fd_consumer_close(fd_kafka *k)
{
	if (k->closed)
		return;
	k->closed = true;
	rd_kafka_resp_err_t err = rd_kafka_consumer_close(k->consumer);
	if (err)
		fd_log(FD_LOG_WARNING, "consumer close: %s", rd_kafka_err2str(err));
}

/* ---- rebalance ------------------------------------------------------------------ */

static void log_partitions(const char *what, const rd_kafka_topic_partition_list_t *parts)
{
	char buf[1024];
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < parts->cnt && off < sizeof buf; i++) {
		int n = snprintf(buf + off, sizeof buf - off, "%s%s[%" PRId32 "]", i ? " " : "",
		                 parts->elems[i].topic, parts->elems[i].partition);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	fd_log(FD_LOG_NOTICE, "%s: %s", what, parts->cnt ? buf : "(none)");
}

/* The group balances the engagement topic; the profiles and activities
 * partitions of the same number follow (co-partitioning: every input about a
 * lead must reach the instance holding the lead). */
static rd_kafka_topic_partition_list_t *with_co_partitions(const fd_kafka *k,
                                                           const rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *all = rd_kafka_topic_partition_list_new(parts->cnt * 3);
	for (int i = 0; i < parts->cnt; i++)
		for (int t = 0; t < FD_IN_TOPICS; t++)
			rd_kafka_topic_partition_list_add(all, fd_kafka_input_topic(k, t),
			                                  parts->elems[i].partition);
	return all;
}

static void assigned(fd_kafka *k, rd_kafka_t *rk, bool cooperative,
                     const rd_kafka_topic_partition_list_t *parts,
                     rd_kafka_topic_partition_list_t *all)
{
	k->ever_assigned = true;
	log_partitions("assigned", all);
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t ret = RD_KAFKA_RESP_ERR_NO_ERROR;
	if (cooperative)
		error = rd_kafka_incremental_assign(rk, all);
	else
		ret = rd_kafka_assign(rk, all);
	/* paused until restored: nothing of these partitions is read before
	 * their leads are back (see restore.h) */
	for (int i = 0; i < parts->cnt && !error && !ret; i++) {
		fd_consumer_pause(k, parts->elems[i].partition, true);
		if (fd_lag_assign(&k->lag, parts->elems[i].partition) != 0)
			fd_log(FD_LOG_WARNING, "out of memory: no consumer lag for partition %" PRId32,
			       parts->elems[i].partition);
		if (fd_restore_enqueue(k, parts->elems[i].partition) != 0)
			fd_kafka_fail(k, FD_LOG_CRIT, "out of memory queueing partition %" PRId32
			              " for restore", parts->elems[i].partition);
	}
	if (k->hooks.assigned)
		k->hooks.assigned(k->hooks.ctx);
	if (error) {
		fd_log(FD_LOG_ERR, "incremental rebalance: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (ret) {
		fd_log(FD_LOG_ERR, "assign: %s", rd_kafka_err2str(ret));
	}
}

static void revoked(fd_kafka *k, rd_kafka_t *rk, bool cooperative,
                    const rd_kafka_topic_partition_list_t *parts,
                    rd_kafka_topic_partition_list_t *all)
{
	bool lost = rd_kafka_assignment_lost(rk);
	log_partitions(lost ? "lost" : "revoked", all);
	int32_t *ps = calloc((size_t)parts->cnt + 1, sizeof *ps);
	if (!ps) {
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory revoking partitions");
	} else {
		for (int i = 0; i < parts->cnt; i++)
			ps[i] = parts->elems[i].partition;
		if (k->hooks.revoked)
			k->hooks.revoked(k->hooks.ctx, ps, (size_t)parts->cnt, lost);
		free(ps);
	}
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t ret = RD_KAFKA_RESP_ERR_NO_ERROR;
	if (cooperative)
		error = rd_kafka_incremental_unassign(rk, all);
	else
		ret = rd_kafka_assign(rk, NULL);
	if (error) {
		fd_log(FD_LOG_ERR, "incremental rebalance: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (ret) {
		fd_log(FD_LOG_ERR, "assign: %s", rd_kafka_err2str(ret));
	}
}

void fd_consumer_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	fd_kafka *k = opaque;
	bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_topic_partition_list_t *all = with_co_partitions(k, parts);
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		assigned(k, rk, cooperative, parts, all);
	} else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
		revoked(k, rk, cooperative, parts, all);
	} else {
		fd_log(FD_LOG_ERR, "rebalance failed: %s", rd_kafka_err2str(err));
		rd_kafka_resp_err_t ret = rd_kafka_assign(rk, NULL);
		if (ret)
			fd_log(FD_LOG_ERR, "assign: %s", rd_kafka_err2str(ret));
	}
	rd_kafka_topic_partition_list_destroy(all);
}
