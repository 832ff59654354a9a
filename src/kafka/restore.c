/*
 * restore.c — reading a partition's state back, and the queue of
 * partitions waiting for it (see restore.h).
 */
#include "kafka/restore.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/log.h"
#include "funneld/wire.h"
#include "kafka/client.h"
#include "kafka/consumer.h"

#define NO_PROGRESS_S 60            /* a restore that reads nothing this long fails */
#define BLOCKING_STEP_RECORDS 10000

struct fd_restore {
	char topic[FD_TOPIC_MAX];
	rd_kafka_t *reader;
	fd_wire_arena *arena;
	fd_lead_state state;
	/* the restore in progress */
	int32_t partition;       /* -1: none */
	int64_t end;             /* high watermark of the first fetch; -1: none yet */
	int64_t position;        /* next offset to read */
	double started;
	double last_progress;
	bool waiting;            /* the partition is not ready (logged once per restore) */
	fd_restore_stats stats;
	/* partitions assigned but paused until their state is restored */
	int32_t *queue;          /* waiting; the one in progress is `partition` */
	size_t n_queue, cap_queue;
	int32_t *restored;       /* restored, paused until the queue is empty */
	size_t n_restored, cap_restored;
	char status[256];
};

fd_restore *fd_restore_new(const char *topic, rd_kafka_conf_t *conf, char *errstr,
                           size_t errstr_size)
{
	fd_restore *r = calloc(1, sizeof *r);
	if (!r) {
		rd_kafka_conf_destroy(conf);
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	snprintf(r->topic, sizeof r->topic, "%s", topic);
	r->partition = -1;
	char e[512];
	if (rd_kafka_conf_set(conf, "enable.partition.eof", "true", e, sizeof e) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof e)) {
		rd_kafka_conf_destroy(conf);
		snprintf(errstr, errstr_size, "changelog reader: %s", e);
		free(r);
		return NULL;
	}
	r->reader = fd_client_new(RD_KAFKA_CONSUMER, conf, "changelog reader", errstr, errstr_size);
	r->arena = r->reader ? fd_wire_arena_new() : NULL;
	if (!r->arena) {
		if (r->reader)
			snprintf(errstr, errstr_size, "out of memory");
		fd_restore_free(r);
		return NULL;
	}
	return r;
}

void fd_restore_free(fd_restore *r)
{
	if (!r)
		return;
	if (r->reader) {
		rd_kafka_consumer_close(r->reader);
		rd_kafka_destroy(r->reader);
	}
	fd_wire_arena_free(r->arena);
	free(r->queue);
	free(r->restored);
	free(r);
}

static double mono(void)
{
	return (double)fd_clock_monotonic_ms() / 1e3;
}

static void apply_record(fd_restore *cl, const rd_kafka_message_t *m, fd_engine *e,
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
	if (rc == FD_ERR_FULL) {
		st->refused++; /* one line per partition, not per lead */
	} else if (rc != FD_OK) {
		st->bad++;
		fd_log(FD_LOG_ERR, "changelog %s [%" PRId32 "] @%" PRId64 ": %s", cl->topic,
		       m->partition, m->offset, err);
	} else if (!existed) {
		st->leads++;
	}
}

/* Errors a broker or a young topic recovers from by itself: a changelog
 * created a moment ago is not yet in the reader's metadata, or its leader
 * is moving. */
static bool transient(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
		return true;
	default:
		return false;
	}
}

/* Assign the partition from its beginning. Where it ends is learnt from
 * the fetches, without a request of our own that the loop would wait for
 * (see step). 0, or -1 with errstr. */
static int begin(fd_restore *cl, int32_t partition, char *errstr, size_t errstr_size)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, cl->topic, partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_resp_err_t err = rd_kafka_assign(cl->reader, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (err) {
		snprintf(errstr, errstr_size, "changelog %s [%" PRId32 "]: assign: %s", cl->topic,
		         partition, rd_kafka_err2str(err));
		return -1;
	}
	cl->partition = partition;
	cl->started = cl->last_progress = mono();
	cl->end = -1;
	cl->position = 0;
	cl->waiting = false;
	return 0;
}

/* The end is the high watermark that the first fetch answering this
 * assignment reported (librdkafka caches it from every fetch response,
 * before it queues the response's records or its end-of-partition event):
 * at least the end the partition had when the restore began. */
static void learn_end(fd_restore *cl)
{
	int64_t lo, hi;
	if (cl->end < 0 &&
	    rd_kafka_get_watermark_offsets(cl->reader, cl->topic, cl->partition, &lo, &hi) ==
	        RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
		cl->end = hi;
}

static void cancel(fd_restore *cl)
{
	if (cl->partition >= 0)
		rd_kafka_assign(cl->reader, NULL);
	cl->partition = -1;
}

static int finish(fd_restore *cl, fd_restore_stats *st)
{
	cancel(cl);
	st->seconds = mono() - cl->started;
	return 1;
}

/* Import up to `max` records. 1: the partition is restored; 0: not yet
 * (call again); 2: not yet, and the partition is not ready (a transient
 * error: call again a little later); -1: failed (errstr).
 *
 * The end: with enable.partition.eof the reader reports reaching the end
 * of what a fetch may return, the high watermark (read_uncommitted) or the
 * last stable offset (read_committed, librdkafka's default; see
 * rdkafka_fetcher.c in 2.0.2). The restore is over at a record or an
 * end-of-partition event at or past `end` (learn_end). Under read_committed
 * an open transaction of a previous owner holds the last stable offset
 * below the end: the restore waits for that transaction to commit or
 * abort, as it did when the end came from a watermark query. */
static int step(fd_restore *cl, fd_engine *e, size_t max, fd_restore_stats *st, char *errstr,
                size_t errstr_size)
{
	if (cl->partition < 0) {
		snprintf(errstr, errstr_size, "no restore in progress");
		return -1;
	}
	bool not_ready = false;
	for (size_t i = 0; i < max; i++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cl->reader, 0);
		if (!m)
			break;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			cl->last_progress = mono();
			learn_end(cl);
			cl->position = m->offset;
			/* no watermark known: this event is the end */
			bool done = cl->end < 0 || m->offset >= cl->end;
			rd_kafka_message_destroy(m);
			if (done)
				return finish(cl, st);
			continue;
		}
		if (m->err) {
			if (transient(m->err)) {
				/* a young changelog not in the metadata yet, a moving
				 * leader: librdkafka retries; the no-progress limit holds */
				if (!cl->waiting)
					fd_log(FD_LOG_INFO, "partition %" PRId32 ": changelog %s: %s; retrying for "
					       "up to %d s", cl->partition, cl->topic, rd_kafka_message_errstr(m),
					       NO_PROGRESS_S);
				cl->waiting = true;
				not_ready = true;
			} else {
				fd_log(FD_LOG_WARNING, "changelog restore: %s", rd_kafka_message_errstr(m));
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		cl->last_progress = mono();
		learn_end(cl);
		int64_t off = m->offset;
		cl->position = off + 1;
		apply_record(cl, m, e, st);
		rd_kafka_message_destroy(m);
		fd_wire_arena_reset(cl->arena);
		if (cl->end >= 0 && off >= cl->end - 1)
			return finish(cl, st);
	}
	if (mono() - cl->last_progress > NO_PROGRESS_S) {
		snprintf(errstr, errstr_size, "changelog %s [%" PRId32 "]: no progress for %d s",
		         cl->topic, cl->partition, NO_PROGRESS_S);
		cancel(cl);
		return -1;
	}
	return not_ready ? 2 : 0;
}

int fd_restore_partition(fd_restore *cl, int32_t partition, fd_engine *e,
                         fd_restore_stats *st, char *errstr, size_t errstr_size)
{
	memset(st, 0, sizeof *st);
	if (begin(cl, partition, errstr, errstr_size) != 0)
		return -1;
	for (;;) {
		int rc = step(cl, e, BLOCKING_STEP_RECORDS, st, errstr, errstr_size);
		if (rc < 0)
			return -1;
		if (rc == 1)
			return 0;
		/* wait a little for the next fetch */
		rd_kafka_poll(cl->reader, rc == 2 ? FD_RESTORE_RETRY_MS : FD_RESTORE_IDLE_MS);
	}
}

/* ---- the queue ------------------------------------------------------------------ */

static void count(fd_kafka *k)
{
	fd_restore *r = k->restore;
	k->stats.restoring = r->n_queue + (r->partition >= 0 ? 1 : 0);
}

int fd_restore_enqueue(fd_kafka *k, int32_t p)
{
	fd_restore *r = k->restore;
	if (fd_grow(&r->queue, &r->cap_queue, r->n_queue + 1, sizeof *r->queue, 64) != 0)
		return -1;
	r->queue[r->n_queue++] = p;
	count(k);
	return 0;
}

bool fd_restore_forget(fd_kafka *k, int32_t p)
{
	fd_restore *r = k->restore;
	bool cancelled = r->partition == p;
	for (size_t i = 0; i < r->n_restored; i++)
		if (r->restored[i] == p) {
			r->restored[i] = r->restored[--r->n_restored];
			break;
		}
	if (r->partition == p)
		cancel(r);
	for (size_t i = 0; i < r->n_queue; i++)
		if (r->queue[i] == p) {
			memmove(r->queue + i, r->queue + i + 1, (r->n_queue - i - 1) * sizeof *r->queue);
			r->n_queue--;
			break;
		}
	count(k);
	return cancelled;
}

bool fd_restore_pending(const fd_restore *r, int32_t p)
{
	if (r->partition == p)
		return true;
	for (size_t i = 0; i < r->n_queue; i++)
		if (r->queue[i] == p)
			return true;
	return false;
}

fd_restore_result fd_restore_work(fd_kafka *k, fd_engine *e)
{
	fd_restore *r = k->restore;
	char err[512];
	if (r->partition < 0) {
		if (r->n_queue == 0) {
			count(k);
			return FD_RESTORE_DONE;
		}
		int32_t p = r->queue[0];
		memset(&r->stats, 0, sizeof r->stats);
		fd_log(FD_LOG_NOTICE, "partition %" PRId32 ": restoring from %s", p, r->topic);
		if (begin(r, p, err, sizeof err) != 0) {
			fd_kafka_fail(k, FD_LOG_CRIT, "partition %" PRId32 ": restore failed: %s; stopping",
			              p, err);
			return FD_RESTORE_FAILED;
		}
		memmove(r->queue, r->queue + 1, --r->n_queue * sizeof *r->queue);
		count(k);
	}
	int32_t p = r->partition;
	fd_restore_stats *st = &r->stats;
	uint64_t before = st->records;
	int rc = step(r, e, FD_RESTORE_STEP_RECORDS, st, err, sizeof err);
	if (rc < 0) {
		fd_kafka_fail(k, FD_LOG_CRIT, "partition %" PRId32 ": restore failed: %s; stopping", p,
		              err);
		return FD_RESTORE_FAILED;
	}
	if (rc == 2 && st->records == before)
		return FD_RESTORE_RETRY;
	if (rc != 1)
		return st->records == before ? FD_RESTORE_IDLE : FD_RESTORE_MORE;
	k->stats.restored_leads += st->leads;
	k->stats.refused_full += st->refused;
	fd_log(st->refused ? FD_LOG_WARNING : FD_LOG_NOTICE, "partition %" PRId32 ": restored %" PRIu64
	       " leads from %" PRIu64 " records (%" PRIu64 " tombstones, %" PRIu64 " bad, %" PRIu64
	       " refused at the lead cap) in %.3f s (%.0f leads/s); resuming", p, st->leads, st->records,
	       st->tombstones, st->bad, st->refused, st->seconds,
	       st->seconds > 0 ? (double)st->leads / st->seconds : 0.0);
	count(k);
	if (fd_grow(&r->restored, &r->cap_restored, r->n_restored + 1, sizeof *r->restored, 64) != 0) {
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory resuming restored partitions");
		return FD_RESTORE_FAILED;
	}
	r->restored[r->n_restored++] = p;
	return k->stats.restoring > 0 ? FD_RESTORE_MORE : FD_RESTORE_DONE;
}

size_t fd_restore_restored(const fd_restore *r)
{
	return r->n_restored;
}

void fd_restore_resume(fd_kafka *k)
{
	fd_restore *r = k->restore;
	if (r->n_restored == 0 || k->stats.restoring > 0)
		return;
	for (size_t i = 0; i < r->n_restored; i++)
		fd_consumer_pause(k, r->restored[i], false);
	fd_log(FD_LOG_NOTICE, "%zu restored partition(s) resumed", r->n_restored);
	r->n_restored = 0;
}

const char *fd_restore_status(fd_restore *r)
{
	size_t off = (size_t)snprintf(r->status, sizeof r->status, "restoring partitions");
	int32_t cur = r->partition;
	/* how far the current one is: the end as the fetches report it
	 * (learn_end), or the watermark librdkafka has cached: no request */
	int64_t end = r->end, lo, hi;
	if (cur >= 0 && end < 0 &&
	    rd_kafka_get_watermark_offsets(r->reader, r->topic, cur, &lo, &hi) ==
	        RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
		end = hi;
	if (cur >= 0 && end > 0 && off < sizeof r->status)
		off += (size_t)snprintf(r->status + off, sizeof r->status - off,
		                        " %" PRId32 " (offset %" PRId64 " of %" PRId64 ")", cur,
		                        r->position < end ? r->position : end, end);
	else if (cur >= 0 && off < sizeof r->status)
		off += (size_t)snprintf(r->status + off, sizeof r->status - off, " %" PRId32, cur);
	for (size_t i = 0; i < r->n_queue && off < sizeof r->status; i++)
		off += (size_t)snprintf(r->status + off, sizeof r->status - off, "%s%" PRId32,
		                        i || cur >= 0 ? ", " : " ", r->queue[i]);
	return r->status;
}
