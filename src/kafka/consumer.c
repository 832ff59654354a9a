/*
 * consumer.c — the input topics as one group member (see consumer.h).
 */
#include "kafka/consumer.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/merge.h"
#include "funneld/wire.h"
#include "kafka/restore.h"

#define SEEK_TIMEOUT_MS 5000
#define MAX_REWOUND 64        /* partitions rewound in one read */
#define QUEUE_MIN 16          /* a queue's pause threshold, at least */

/* Equal event times across inputs: a profile first (fit before the events
 * it scores), then engagement, then sales activities (the touch after what
 * it answers). */
static const int RANK[FD_IN_TOPICS] = {
	[FD_IN_PROFILES] = 0, [FD_IN_ENGAGEMENT] = 1, [FD_IN_ACTIVITIES] = 2
};

/* A read record: its decoded form and the arena behind it. */
typedef struct slot {
	fd_input in;
	fd_wire_arena *arena;
} slot;

struct fd_consumer {
	slot *slots;              /* order_buffer of them, arenas made on first use */
	size_t n_slots;
	slot **free;              /* the unused ones */
	size_t n_free;
	fd_merge *merge;          /* read, decoded, waiting for their turn */
	fd_input *batch[FD_CONSUMER_BATCH]; /* handed to the daemon */
	slot *stray[FD_CONSUMER_BATCH];     /* records of no input topic */
	size_t n_stray;
	fd_position rewound[MAX_REWOUND];
	size_t n_rewound;
	int partitions;           /* of each input topic */
	uint8_t *held;            /* [partition * FD_IN_TOPICS + topic]: paused, queue full */
	size_t n_held;
};

fd_consumer *fd_consumer_new(size_t order_buffer, int64_t max_idle_ms, int64_t max_lag_ms)
{
	fd_consumer *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	if (order_buffer < FD_CONSUMER_BATCH)
		order_buffer = FD_CONSUMER_BATCH;
	c->slots = calloc(order_buffer, sizeof *c->slots);
	c->free = calloc(order_buffer, sizeof(slot *));
	c->merge = fd_merge_new(FD_IN_TOPICS, RANK, max_idle_ms, max_lag_ms);
	if (!c->slots || !c->free || !c->merge) {
		fd_consumer_free(c);
		return NULL;
	}
	c->n_slots = order_buffer;
	for (size_t i = 0; i < order_buffer; i++)
		c->free[c->n_free++] = &c->slots[order_buffer - 1 - i];
	return c;
}

void fd_consumer_free(fd_consumer *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_slots; i++) {
		if (c->slots[i].in.msg)
			rd_kafka_message_destroy(c->slots[i].in.msg);
		fd_wire_arena_free(c->slots[i].arena);
	}
	fd_merge_free(c->merge);
	free(c->slots);
	free(c->free);
	free(c->held);
	free(c);
}

static void slot_release(fd_consumer *c, slot *s)
{
	if (s->in.msg)
		rd_kafka_message_destroy(s->in.msg);
	s->in.msg = NULL;
	if (s->arena)
		fd_wire_arena_reset(s->arena);
	c->free[c->n_free++] = s;
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

/* ---- flow: a full queue pauses its topic-partition ---------------------------- */

/* The queue length at which (partition, topic) stops being fetched: the
 * buffer shared out over every queue of every input partition. */
static size_t queue_cap(const fd_consumer *c)
{
	size_t queues = (size_t)(c->partitions > 0 ? c->partitions : 1) * FD_IN_TOPICS;
	size_t cap = c->n_slots / queues;
	return cap < QUEUE_MIN ? QUEUE_MIN : cap;
}

static uint8_t *held_flag(fd_consumer *c, int32_t p, int topic)
{
	size_t i = (size_t)p * FD_IN_TOPICS + (size_t)topic;
	if (i >= c->n_held) {
		size_t n = c->n_held ? c->n_held : 64;
		while (n <= i)
			n *= 2;
		uint8_t *x = realloc(c->held, n);
		if (!x)
			return NULL;
		memset(x + c->n_held, 0, n - c->n_held);
		c->held = x;
		c->n_held = n;
	}
	return &c->held[i];
}

static void pause_one(fd_kafka *k, int topic, int32_t p, bool pause)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, fd_kafka_input_topic(k, topic), p);
	rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(k->consumer, l)
	                                : rd_kafka_resume_partitions(k->consumer, l);
	if (err)
		fd_log(FD_LOG_ERR, "%s %s [%" PRId32 "]: %s", pause ? "pause" : "resume",
		       fd_kafka_input_topic(k, topic), p, rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_destroy(l);
}

/* Pause (partition, topic) when its queue is long and the buffer runs
 * short: a partition waiting for a lagging input must not take every slot
 * (the lagging input could not be read any more). Resume it at half its
 * length, or once the buffer is half free. A pause costs a refetch
 * (librdkafka drops what it prefetched), so only then. A partition being
 * restored stays paused whatever its queues. */
static void flow(fd_kafka *k, int32_t p, int topic)
{
	fd_consumer *c = k->input;
	uint8_t *held = held_flag(c, p, topic);
	if (!held)
		return;
	size_t queued = fd_merge_queued(c->merge, p, topic), cap = queue_cap(c);
	if (!*held && queued >= cap && c->n_free < c->n_slots / 4) {
		*held = 1;
		pause_one(k, topic, p, true);
	} else if (*held && (queued <= cap / 2 || c->n_free >= c->n_slots / 2)) {
		*held = 0;
		if (!fd_restore_pending(k->restore, p))
			pause_one(k, topic, p, false);
	}
}

/* ---- reading -------------------------------------------------------------------- */

/* Seek (partition, topic) back to `offset`, once per read: a record fetched
 * before its partition's pause took effect (it is being restored) is read
 * again once the partition is back. */
static void rewind_to(fd_kafka *k, int topic, int32_t p, int64_t offset)
{
	fd_consumer *c = k->input;
	for (size_t i = 0; i < c->n_rewound; i++)
		if (c->rewound[i].topic == topic && c->rewound[i].partition == p)
			return;
	if (c->n_rewound < MAX_REWOUND)
		c->rewound[c->n_rewound++] = (fd_position){ topic, p, offset };
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, fd_kafka_input_topic(k, topic), p)->offset = offset;
	rd_kafka_error_t *e = rd_kafka_seek_partitions(k->consumer, l, SEEK_TIMEOUT_MS);
	if (e) {
		fd_kafka_fail(k, FD_LOG_CRIT, "cannot rewind %s [%" PRId32 "] during its restore: %s",
		              fd_kafka_input_topic(k, topic), p, rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	}
	rd_kafka_topic_partition_list_destroy(l);
	fd_merge_caught_up(c->merge, p, topic, false);
}

/* The time a record is merged by: its event time, else its Kafka timestamp. */
static int64_t merge_time(const fd_input *in)
{
	int64_t t = 0;
	if (in->decoded == 0) {
		switch (in->topic) {
		case FD_IN_ENGAGEMENT:
			t = in->ev.occurred_at_ms;
			break;
		case FD_IN_PROFILES:
			t = in->profile.updated_at_ms;
			break;
		case FD_IN_ACTIVITIES:
			t = in->activity.occurred_at_ms;
			break;
		}
	}
	return t > 0 ? t : rd_kafka_message_timestamp(in->msg, NULL);
}

/* One message from librdkafka into the merge (or the strays). false when
 * it could not be kept (the reading stops). */
static bool take(fd_kafka *k, rd_kafka_message_t *m)
{
	fd_consumer *c = k->input;
	int topic = topic_index(k, rd_kafka_topic_name(m->rkt));
	if (m->err) {
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && topic >= 0)
			fd_merge_caught_up(c->merge, m->partition, topic, true);
		else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			fd_log(FD_LOG_WARNING, "consumer: %s", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
		return true;
	}
	if (topic >= 0 && fd_restore_pending(k->restore, m->partition)) {
		rewind_to(k, topic, m->partition, m->offset);
		rd_kafka_message_destroy(m);
		return true;
	}
	slot *s = c->free[--c->n_free];
	if (!s->arena && !(s->arena = fd_wire_arena_new())) {
		c->free[c->n_free++] = s;
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory decoding an input record");
		rd_kafka_message_destroy(m);
		return false;
	}
	s->in.msg = m;
	s->in.topic = topic;
	int64_t t0 = fd_clock_monotonic_us();
	decode(k, &s->in, s->arena);
	s->in.decode_us = fd_clock_monotonic_us() - t0;
	if (topic < 0) {
		c->stray[c->n_stray++] = s;
		return c->n_stray < FD_CONSUMER_BATCH;
	}
	if (fd_merge_push(c->merge, m->partition, topic, merge_time(&s->in), s) != 0) {
		slot_release(c, s);
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory queueing an input record");
		return false;
	}
	flow(k, m->partition, topic);
	return true;
}

size_t fd_consumer_read(fd_kafka *k, fd_input ***batch)
{
	fd_consumer *c = k->input;
	c->n_rewound = 0;
	fd_merge_set_waits(c->merge, k->cfg->max_idle_ms, k->cfg->max_lag_wait_ms);
	while (c->n_free > 0 && !k->closed && !k->failed) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, 0);
		if (!m || !take(k, m))
			break;
	}
	size_t n = 0;
	for (size_t i = 0; i < c->n_stray; i++)
		c->batch[n++] = &c->stray[i]->in;
	c->n_stray = 0;
	fd_merge_out out[FD_CONSUMER_BATCH];
	size_t got = fd_merge_pop(c->merge, fd_clock_monotonic_ms(), out, FD_CONSUMER_BATCH - n);
	for (size_t i = 0; i < got; i++) {
		c->batch[n++] = &((slot *)out[i].item)->in;
		flow(k, out[i].partition, out[i].input);
	}
	k->stats.order_forced = fd_merge_forced(c->merge);
	k->stats.order_buffered = fd_merge_total(c->merge);
	*batch = c->batch;
	return n;
}

int64_t fd_consumer_wake_at(const fd_kafka *k)
{
	return fd_merge_wake_at(k->input->merge);
}

void fd_consumer_done(fd_kafka *k, size_t i)
{
	fd_consumer *c = k->input;
	slot *s = (slot *)(void *)((char *)c->batch[i] - offsetof(slot, in));
	slot_release(c, s);
	c->batch[i] = NULL;
}

typedef struct dropping {
	fd_consumer *c;
	rd_kafka_topic_partition_list_t *unread; /* NULL: not sought back */
	const fd_kafka *k;
} dropping;

static void drop_one(void *ctx, void *item, int32_t partition, int input)
{
	dropping *dr = ctx;
	slot *s = item;
	/* a queue's items come in read order: its first is where it goes back */
	if (dr->unread &&
	    !rd_kafka_topic_partition_list_find(dr->unread, fd_kafka_input_topic(dr->k, input),
	                                        partition))
		rd_kafka_topic_partition_list_add(dr->unread, fd_kafka_input_topic(dr->k, input),
		                                  partition)->offset = s->in.msg->offset;
	slot_release(dr->c, s);
}

void fd_consumer_forget(fd_kafka *k, int32_t p, bool unread)
{
	fd_consumer *c = k->input;
	dropping dr = { c, unread ? rd_kafka_topic_partition_list_new(FD_IN_TOPICS) : NULL, k };
	fd_merge_drop(c->merge, p, drop_one, &dr);
	if (!unread)
		fd_merge_forget(c->merge, p); /* revoked: nothing is known of a next assignment */
	for (size_t i = 0; i < c->n_held; i++)
		if (p < 0 || i / FD_IN_TOPICS == (size_t)p)
			c->held[i] = 0;
	k->stats.order_buffered = fd_merge_total(c->merge);
	if (!dr.unread)
		return;
	if (dr.unread->cnt > 0) {
		rd_kafka_error_t *e = rd_kafka_seek_partitions(k->consumer, dr.unread, SEEK_TIMEOUT_MS);
		if (e) {
			fd_kafka_fail(k, FD_LOG_CRIT, "cannot seek the inputs back to the records held for "
			              "the event-time merge: %s", rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
		}
	}
	rd_kafka_topic_partition_list_destroy(dr.unread);
}

void fd_consumer_sought(fd_kafka *k, int topic, int32_t p)
{
	fd_merge_caught_up(k->input->merge, p, topic, false);
}

void fd_consumer_pause(fd_kafka *k, int32_t p, bool pause)
{
	fd_consumer *c = k->input;
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(FD_IN_TOPICS);
	for (int i = 0; i < FD_IN_TOPICS; i++) {
		uint8_t *held = held_flag(c, p, i);
		if (pause || !held || !*held) /* a full queue stays paused */
			rd_kafka_topic_partition_list_add(l, fd_kafka_input_topic(k, i), p);
	}
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
	for (int i = 0; i < parts->cnt; i++)
		fd_consumer_forget(k, parts->elems[i].partition, false);
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
