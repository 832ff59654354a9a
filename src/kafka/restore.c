/*
 * restore.c — reading a partition's state back, and the queue of
 * partitions waiting for it (see restore.h).
 */
#include "kafka/restore.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/grow.h"
#include "base/log.h"
#include "funneld/wire.h"
#include "kafka/client.h"
#include "kafka/consumer.h"

#define NO_PROGRESS_S 60   /* a restore that reads nothing this long fails */
#define CLOCK_EVERY 16     /* records between two looks at the step's time budget */
#define LIST_MAX 160       /* characters of partition numbers in a status or log line */

/* A changelog partition the reader is reading. */
typedef struct part {
	int32_t partition;
	int64_t end;             /* high watermark of its first fetch; -1: none yet */
	int64_t position;        /* next offset to read */
	double started;
	fd_restore_stats stats;
} part;

struct fd_restore {
	char topic[FD_TOPIC_MAX];
	rd_kafka_t *reader;
	fd_wire_arena *arena;
	fd_lead_state state;
	fd_partition_state checkpoint;
	double now;              /* monotonic seconds, read at most every CLOCK_EVERY records */
	double last_progress;    /* a record or an end of partition was read */
	bool warned;             /* a partition not ready was logged (once per restore) */
	/* partitions assigned to us, paused until their state is restored */
	int32_t *queue;          /* not read yet: they join the reader at the next step */
	size_t n_queue, cap_queue;
	part *reading;           /* assigned to the reader, in the order they joined */
	size_t n_reading, cap_reading;
	size_t hint;             /* reading[hint] had the last record: records come in runs */
	part *finished;          /* restored during the current step */
	size_t n_finished, cap_finished;
	int32_t *restored;       /* restored, paused until nothing is pending */
	size_t n_restored, cap_restored;
	char status[256];
};

int fd_restore_conf_defaults(rd_kafka_conf_t *conf, char *errstr, size_t errstr_size)
{
	static const char *const props[][2] = {
		{ "queued.min.messages", "1000000" },
		{ "queued.max.messages.kbytes", "131072" },
		{ "fetch.max.bytes", "16777216" },
	};
	for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
		char e[512];
		if (rd_kafka_conf_set(conf, props[i][0], props[i][1], e, sizeof e) != RD_KAFKA_CONF_OK) {
			snprintf(errstr, errstr_size, "changelog reader: %s=%s: %s", props[i][0],
			         props[i][1], e);
			return -1;
		}
	}
	return 0;
}

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
	char e[512];
	if (rd_kafka_conf_set(conf, "enable.partition.eof", "true", e, sizeof e) ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof e) ||
	    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", e, sizeof e)) {
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
	free(r->reading);
	free(r->finished);
	free(r->restored);
	free(r);
}

static double mono(void)
{
	return (double)fd_clock_monotonic_us() / 1e6;
}

/* A partition's checkpoint (its stream time and funnel), under the
 * reserved key no lead has. */
static void apply_checkpoint(fd_restore *r, const rd_kafka_message_t *m, fd_engine *e,
                             fd_restore_stats *st)
{
	char err[256];
	if (m->len == 0 || !m->payload)
		return; /* never written; nothing to forget */
	int rc = fd_wire_decode_partition_state(m->payload, m->len, r->arena, &r->checkpoint, err,
	                                        sizeof err);
	if (rc == 0 && r->checkpoint.partition != m->partition) {
		snprintf(err, sizeof err, "partition state of partition %" PRId32 " on partition %"
		         PRId32, r->checkpoint.partition, m->partition);
		rc = -1;
	}
	if (rc == 0 && fd_engine_partition_import(e, &r->checkpoint, err, sizeof err) == FD_OK)
		return;
	st->bad++;
	fd_log(FD_LOG_ERR, "changelog %s [%" PRId32 "] @%" PRId64 ": %s (checkpoint skipped)",
	       r->topic, m->partition, m->offset, err);
}

static void apply_record(fd_restore *r, const rd_kafka_message_t *m, fd_engine *e,
                         fd_restore_stats *st)
{
	st->records++;
	if (fd_wire_is_checkpoint_key(m->key, m->key_len)) { /* false for no key */
		apply_checkpoint(r, m, e, st);
		return;
	}
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
	if (fd_wire_decode_lead_state(m->payload, m->len, r->arena, &r->state, err, sizeof err) != 0) {
		st->bad++;
		fd_log(FD_LOG_ERR, "changelog %s [%" PRId32 "] @%" PRId64 ": %s (record skipped)",
		       r->topic, m->partition, m->offset, err);
		return;
	}
	fd_lead_view v;
	bool existed = fd_engine_lead(e, r->state.lead_id, 0, &v);
	fd_status rc = fd_engine_import(e, &r->state, err, sizeof err);
	if (rc == FD_ERR_FULL) {
		st->refused++; /* one line per partition, not per lead */
	} else if (rc != FD_OK) {
		st->bad++;
		fd_log(FD_LOG_ERR, "changelog %s [%" PRId32 "] @%" PRId64 ": %s", r->topic,
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

static bool queued(const fd_restore *r, int32_t p)
{
	for (size_t i = 0; i < r->n_queue; i++)
		if (r->queue[i] == p)
			return true;
	return false;
}

/* The partition being read, NULL if it is not (any more). */
static part *reading(fd_restore *r, int32_t p)
{
	if (r->hint < r->n_reading && r->reading[r->hint].partition == p)
		return &r->reading[r->hint];
	for (size_t i = 0; i < r->n_reading; i++)
		if (r->reading[i].partition == p) {
			r->hint = i;
			return &r->reading[i];
		}
	return NULL;
}

static void leave(fd_restore *r, part *pt)
{
	size_t i = (size_t)(pt - r->reading);
	memmove(r->reading + i, r->reading + i + 1, (r->n_reading - i - 1) * sizeof *r->reading);
	r->n_reading--;
	r->hint = 0;
}

static void append(char *buf, size_t size, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	if (*off >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

/* "3, 4, 7" at *off in buf: the partitions being read, then the queued
 * ones, about LIST_MAX characters of them, then "and N more". */
static void list_partitions(char *buf, size_t size, size_t *off, const part *reading,
                            size_t n_reading, const int32_t *queue, size_t n_queue)
{
	size_t start = *off, n = n_reading + n_queue, listed = 0;
	for (; listed < n && *off - start < LIST_MAX; listed++)
		append(buf, size, off, "%s%" PRId32, listed ? ", " : "",
		       listed < n_reading ? reading[listed].partition : queue[listed - n_reading]);
	if (listed < n)
		append(buf, size, off, " and %zu more", n - listed);
}

/* Assign or unassign partitions of the reader, on top of what it reads
 * already (the others keep their fetch position and what is prefetched).
 * A returned record of a partition taken away is outdated at once
 * (librdkafka's version barrier) and never returned. 0, or -1 with errstr. */
static int reassign(fd_restore *r, const int32_t *parts, size_t n, bool add, char *errstr,
                    size_t errstr_size)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(l, r->topic, parts[i])->offset = 0;
	rd_kafka_error_t *error = add ? rd_kafka_incremental_assign(r->reader, l)
	                              : rd_kafka_incremental_unassign(r->reader, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (!error)
		return 0;
	snprintf(errstr, errstr_size, "changelog %s: %s %zu partition(s): %s", r->topic,
	         add ? "assign" : "unassign", n, rd_kafka_error_string(error));
	rd_kafka_error_destroy(error);
	return -1;
}

static void unassign(fd_restore *r, const int32_t *parts, size_t n)
{
	char err[512];
	if (n > 0 && reassign(r, parts, n, false, err, sizeof err) != 0)
		fd_log(FD_LOG_ERR, "%s", err);
}

/* Every queued partition joins the reader, from its beginning, in one
 * call: they are read together. Where each ends is learnt from the
 * fetches, without a request of our own that the loop would wait for (see
 * consume). 0, or -1 with errstr. */
static int join(fd_restore *r, char *errstr, size_t errstr_size)
{
	if (r->n_queue == 0)
		return 0;
	if (fd_grow(&r->reading, &r->cap_reading, r->n_reading + r->n_queue, sizeof *r->reading,
	            64) != 0) {
		snprintf(errstr, errstr_size, "out of memory");
		return -1;
	}
	if (reassign(r, r->queue, r->n_queue, true, errstr, errstr_size) != 0)
		return -1;
	char list[LIST_MAX + 32];
	size_t off = 0;
	list_partitions(list, sizeof list, &off, NULL, 0, r->queue, r->n_queue);
	fd_log(FD_LOG_NOTICE, "partition%s %s: restoring from %s%s", r->n_queue > 1 ? "s" : "", list,
	       r->topic, r->n_reading > 0 ? " (joining the restore in progress)" : "");
	if (r->n_reading == 0)
		r->last_progress = r->now; /* a new restore */
	for (size_t i = 0; i < r->n_queue; i++)
		r->reading[r->n_reading++] = (part){ .partition = r->queue[i], .end = -1,
			                                 .started = r->now };
	r->n_queue = 0;
	return 0;
}

/* The end is the high watermark that the first fetch answering this
 * assignment reported (librdkafka caches it from every fetch response,
 * before it queues the response's records or its end-of-partition event):
 * at least the end the partition had when the restore began. */
static void learn_end(fd_restore *r, part *pt)
{
	int64_t lo, hi;
	if (pt->end < 0 &&
	    rd_kafka_get_watermark_offsets(r->reader, r->topic, pt->partition, &lo, &hi) ==
	        RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
		pt->end = hi;
}

/* The partition is restored: it leaves the reader at the end of the step.
 * The engine holds its state from now on, checkpoint or not (the funnel
 * lists it). */
static void finish(fd_restore *r, fd_engine *e, part *pt)
{
	if (fd_engine_partition_open(e, pt->partition) != 0)
		fd_log(FD_LOG_WARNING, "partition %" PRId32 ": no memory for its funnel", pt->partition);
	pt->stats.seconds = r->now - pt->started;
	r->finished[r->n_finished++] = *pt;
	leave(r, pt);
}

/* One message of the reader. Returns true when it made progress (a
 * record imported, a partition restored); *not_ready is set on a transient
 * error.
 *
 * The end: with enable.partition.eof the reader reports reaching the end
 * of what a fetch may return, the high watermark (read_uncommitted) or the
 * last stable offset (read_committed, librdkafka's default; see
 * rdkafka_fetcher.c in 2.0.2). A partition is restored at a record or an
 * end-of-partition event at or past its `end` (learn_end). Under
 * read_committed an open transaction of a previous owner holds the last
 * stable offset below the end: the restore waits for that transaction to
 * commit or abort, as it did when the end came from a watermark query. */
static bool consume(fd_restore *r, fd_engine *e, const rd_kafka_message_t *m, bool *not_ready)
{
	part *pt = m->rkt ? reading(r, m->partition) : NULL;
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (!pt)
			return false;
		r->last_progress = r->now;
		learn_end(r, pt);
		pt->position = m->offset;
		/* no watermark known: this event is the end */
		if (pt->end >= 0 && m->offset < pt->end)
			return false;
		finish(r, e, pt);
		return true;
	}
	if (m->err) {
		if (transient(m->err)) {
			/* a young changelog not in the metadata yet, a moving
			 * leader: librdkafka retries; the no-progress limit holds */
			if (!r->warned && pt)
				fd_log(FD_LOG_INFO, "partition %" PRId32 ": changelog %s: %s; retrying for up "
				       "to %d s", pt->partition, r->topic, rd_kafka_message_errstr(m),
				       NO_PROGRESS_S);
			else if (!r->warned)
				fd_log(FD_LOG_INFO, "changelog %s: %s; retrying for up to %d s", r->topic,
				       rd_kafka_message_errstr(m), NO_PROGRESS_S);
			r->warned = true;
			*not_ready = true;
		} else {
			fd_log(FD_LOG_WARNING, "changelog restore: %s", rd_kafka_message_errstr(m));
		}
		return false;
	}
	if (!pt)
		return false; /* a partition restored already or revoked */
	r->last_progress = r->now;
	learn_end(r, pt);
	int64_t off = m->offset;
	pt->position = off + 1;
	apply_record(r, m, e, &pt->stats);
	fd_wire_arena_reset(r->arena);
	if (pt->end >= 0 && off >= pt->end - 1)
		finish(r, e, pt);
	return true;
}

/* Drop every partition of the reader (a failed restore). */
static void cancel_all(fd_restore *r)
{
	if (r->n_reading > 0)
		rd_kafka_assign(r->reader, NULL);
	r->n_reading = r->n_queue = 0;
}

/* One bounded step: queued partitions join the reader, then up to `max`
 * messages (and FD_RESTORE_STEP_US) of any partition are consumed. The
 * partitions restored are in r->finished until the next step. 0 (and
 * *progress, *not_ready), or -1 with errstr: the restore failed. */
static int step(fd_restore *r, fd_engine *e, size_t max, bool *progress, bool *not_ready,
                char *errstr, size_t errstr_size)
{
	*progress = *not_ready = false;
	r->n_finished = 0;
	int64_t start = fd_clock_monotonic_us(), until = start + FD_RESTORE_STEP_US;
	r->now = (double)start / 1e6;
	if (r->n_reading == 0)
		r->warned = false;
	if (join(r, errstr, errstr_size) != 0) {
		cancel_all(r);
		return -1;
	}
	if (fd_grow(&r->finished, &r->cap_finished, r->n_reading, sizeof *r->finished, 64) != 0) {
		snprintf(errstr, errstr_size, "out of memory");
		cancel_all(r);
		return -1;
	}
	for (size_t i = 0; i < max && r->n_reading > 0; i++) {
		if (i % CLOCK_EVERY == CLOCK_EVERY - 1) {
			int64_t t = fd_clock_monotonic_us();
			r->now = (double)t / 1e6;
			if (t >= until)
				break;
		}
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->reader, 0);
		if (!m)
			break;
		*progress |= consume(r, e, m, not_ready);
		rd_kafka_message_destroy(m);
	}
	r->now = mono();
	if (r->n_finished > 0) {
		int32_t done[64];
		for (size_t i = 0; i < r->n_finished; i += 64) {
			size_t n = r->n_finished - i < 64 ? r->n_finished - i : 64;
			for (size_t j = 0; j < n; j++)
				done[j] = r->finished[i + j].partition;
			unassign(r, done, n);
		}
	}
	/* the restore as a whole: a partition may wait its turn while the
	 * fetches fill up with others (librdkafka 2.0.2 moves the start of its
	 * fetch requests one partition at a time) */
	if (r->n_reading > 0 && r->now - r->last_progress > NO_PROGRESS_S) {
		char list[LIST_MAX + 32];
		size_t off = 0;
		list_partitions(list, sizeof list, &off, r->reading, r->n_reading, NULL, 0);
		snprintf(errstr, errstr_size, "changelog %s: no progress for %d s (partitions %s not "
		         "restored)", r->topic, NO_PROGRESS_S, list);
		cancel_all(r);
		return -1;
	}
	return 0;
}

static void add_stats(fd_restore_stats *sum, const fd_restore_stats *st)
{
	sum->records += st->records;
	sum->leads += st->leads;
	sum->tombstones += st->tombstones;
	sum->bad += st->bad;
	sum->refused += st->refused;
}

int fd_restore_partitions(fd_restore *r, const int32_t *parts, size_t n, fd_engine *e,
                          fd_restore_stats *st, char *errstr, size_t errstr_size)
{
	memset(st, 0, sizeof *st);
	if (r->n_queue > 0 || r->n_reading > 0) {
		snprintf(errstr, errstr_size, "a restore is in progress");
		return -1;
	}
	if (fd_grow(&r->queue, &r->cap_queue, n, sizeof *r->queue, 64) != 0) {
		snprintf(errstr, errstr_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!queued(r, parts[i]))
			r->queue[r->n_queue++] = parts[i];
	double t0 = mono();
	while (r->n_queue > 0 || r->n_reading > 0) {
		bool progress, not_ready;
		if (step(r, e, FD_RESTORE_STEP_RECORDS, &progress, &not_ready, errstr, errstr_size) != 0)
			return -1;
		for (size_t i = 0; i < r->n_finished; i++)
			add_stats(st, &r->finished[i].stats);
		/* nothing read: wait a little for the next fetch, as the daemon's
		 * timer does */
		if (!progress)
			rd_kafka_poll(r->reader, not_ready ? FD_RESTORE_RETRY_MS : FD_RESTORE_IDLE_MS);
	}
	st->seconds = mono() - t0;
	return 0;
}

/* ---- the queue ------------------------------------------------------------------ */

static void count(fd_kafka *k)
{
	fd_restore *r = k->restore;
	k->stats.restoring = r->n_queue + r->n_reading;
}

int fd_restore_enqueue(fd_kafka *k, int32_t p)
{
	fd_restore *r = k->restore;
	if (fd_restore_pending(r, p))
		return 0;
	if (fd_grow(&r->queue, &r->cap_queue, r->n_queue + 1, sizeof *r->queue, 64) != 0)
		return -1;
	r->queue[r->n_queue++] = p;
	count(k);
	return 0;
}

bool fd_restore_forget(fd_kafka *k, int32_t p)
{
	fd_restore *r = k->restore;
	bool pending = false;
	for (size_t i = 0; i < r->n_restored; i++)
		if (r->restored[i] == p) {
			r->restored[i] = r->restored[--r->n_restored];
			break;
		}
	part *pt = reading(r, p);
	if (pt) {
		leave(r, pt);
		unassign(r, &p, 1);
		fd_log(FD_LOG_NOTICE, "partition %" PRId32 ": restore cancelled (revoked)", p);
		pending = true;
	}
	for (size_t i = 0; i < r->n_queue; i++)
		if (r->queue[i] == p) {
			memmove(r->queue + i, r->queue + i + 1, (r->n_queue - i - 1) * sizeof *r->queue);
			r->n_queue--;
			pending = true;
			break;
		}
	count(k);
	return pending;
}

bool fd_restore_pending(const fd_restore *r, int32_t p)
{
	for (size_t i = 0; i < r->n_reading; i++)
		if (r->reading[i].partition == p)
			return true;
	return queued(r, p);
}

size_t fd_restore_reading(const fd_restore *r)
{
	return r->n_reading;
}

fd_restore_result fd_restore_work(fd_kafka *k, fd_engine *e)
{
	fd_restore *r = k->restore;
	if (r->n_queue == 0 && r->n_reading == 0) {
		count(k);
		return FD_RESTORE_DONE;
	}
	char err[512] = "out of memory";
	bool progress = false, not_ready = false;
	if (fd_grow(&r->restored, &r->cap_restored, r->n_restored + r->n_queue + r->n_reading,
	            sizeof *r->restored, 64) != 0 ||
	    step(r, e, FD_RESTORE_STEP_RECORDS, &progress, &not_ready, err, sizeof err) != 0) {
		count(k);
		fd_kafka_fail(k, FD_LOG_CRIT, "restore failed: %s; stopping", err);
		return FD_RESTORE_FAILED;
	}
	for (size_t i = 0; i < r->n_finished; i++) {
		const part *pt = &r->finished[i];
		const fd_restore_stats *st = &pt->stats;
		k->stats.restored_leads += st->leads;
		k->stats.refused_full += st->refused;
		fd_log(st->refused ? FD_LOG_WARNING : FD_LOG_NOTICE, "partition %" PRId32 ": restored %"
		       PRIu64 " leads from %" PRIu64 " records (%" PRIu64 " tombstones, %" PRIu64 " bad, %"
		       PRIu64 " refused at the lead cap) in %.3f s (%.0f leads/s)", pt->partition, st->leads,
		       st->records, st->tombstones, st->bad, st->refused, st->seconds,
		       st->seconds > 0 ? (double)st->leads / st->seconds : 0.0);
		r->restored[r->n_restored++] = pt->partition;
	}
	count(k);
	if (r->n_queue == 0 && r->n_reading == 0)
		return FD_RESTORE_DONE;
	if (progress || r->n_queue > 0)
		return FD_RESTORE_MORE;
	return not_ready ? FD_RESTORE_RETRY : FD_RESTORE_IDLE;
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
	size_t off = 0, known = 0;
	int64_t position = 0, end = 0;
	append(r->status, sizeof r->status, &off, "restoring partitions ");
	list_partitions(r->status, sizeof r->status, &off, r->reading, r->n_reading, r->queue,
	                r->n_queue);
	for (size_t i = 0; i < r->n_reading; i++) {
		/* how far it is: the end as the fetches report it (learn_end), or
		 * the watermark librdkafka has cached: no request */
		const part *pt = &r->reading[i];
		int64_t e = pt->end, lo, hi;
		if (e < 0 && rd_kafka_get_watermark_offsets(r->reader, r->topic, pt->partition, &lo,
		                                            &hi) == RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
			e = hi;
		if (e > 0) {
			position += pt->position < e ? pt->position : e;
			end += e;
			known++;
		}
	}
	if (known > 0)
		append(r->status, sizeof r->status, &off, " (offset%s %" PRId64 " of %" PRId64 ")",
		       known > 1 ? "s" : "", position, end);
	return r->status;
}
