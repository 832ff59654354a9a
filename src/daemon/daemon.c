/*
 * daemon.c — `funneld run`: the engine between a Kafka consumer and an
 * idempotent producer, on a libevent loop (see daemon.h).
 *
 * Flow of one input record: decode (per-topic encoding) → engine → every
 * output is encoded and handed to the producer with the open epoch's token
 * → the record's offset is noted in the epoch. Bad input (undecodable, no
 * lead id, refused by the lifecycle, lead cap) goes to the dead-letter topic
 * untouched, with funneld.error.* headers, and counts as an output of the
 * epoch like any other: its offset is committed only once the dead letter is
 * durable.
 *
 * Loop events: the consumer queue and the producer's main queue wake the
 * loop through io-event pipes (never a blocking poll); a timer fires due SLA
 * deadlines; one housekeeping tick per commit interval fires timers, emits
 * the LeadScores of leads changed since the last tick, closes the epoch,
 * commits what is committable and pets the systemd watchdog; signals drain
 * and stop.
 *
 * What it is not: it keeps no state across restarts (the changelog is
 * src/kafka's job), decodes nothing itself (src/wire) and decides nothing
 * (src/engine).
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <systemd/sd-daemon.h>

#include "daemon/admin.h"
#include "base/log.h"
#include "base/grow.h"
#include "base/ident.h"
#include "base/table.h"
#include "funneld/wire.h"
#include "kafka/changelog.h"
#include "kafka/epochs.h"

#define BATCH 64            /* input records decoded and applied per batch */
#define BATCHES_PER_WAKE 16 /* then yield to the loop */

enum { IN_ENGAGEMENT = 0, IN_PROFILES = 1, IN_ACTIVITIES = 2 };

typedef struct pending_input {
	rd_kafka_message_t *msg;
	int topic;
	int decoded;            /* 0 ok, -1 undecodable */
	char reason[256];
	fd_engagement ev;
	fd_profile profile;
	fd_activity activity;
	const char *lead_id;
} pending_input;

struct fd_daemon {
	fd_config cfg;
	fd_clock clock;
	struct event_base *base;
	fd_sink tap;
	char config_path[1024];
	char **overrides;
	size_t n_overrides;

	fd_engine *engine;
	fd_epochs *epochs;
	fd_table *dirty;        /* lead ids whose LeadScore and state are due at the next tick */
	fd_changelog *changelog;
	int partitions;         /* of each input topic */

	/* changelog records waiting for their epoch's outputs (FIFO) */
	struct deferred {
		uint64_t epoch;
		int32_t partition;
		char *key;
		uint8_t *value;     /* NULL: tombstone */
		size_t len;
	} *deferred;
	size_t n_deferred, cap_deferred, head_deferred;
	int64_t last_full_log;
	int64_t dl_log_at;        /* dead-letter log lines: at most one a second */
	uint64_t dl_suppressed;

	rd_kafka_t *consumer, *producer;
	rd_kafka_queue_t *cq, *pq;
	int cq_pipe[2], pq_pipe[2];
	struct event *cq_ev, *pq_ev, *tick_ev, *deadline_ev;
	struct event *sig_ev[3];

	fd_wire_arena *arenas[BATCH];
	pending_input batch[BATCH];

	bool started, stopping, stopped, fatal;
	bool ever_assigned;     /* see fd_daemon_free */

	/* partitions assigned but paused until their state is restored */
	int32_t *restore_queue;  /* waiting; the one in progress is the changelog's */
	size_t n_restore, cap_restore;
	int32_t *restored;       /* restored, paused until the queue is empty */
	size_t n_restored, cap_restored;
	fd_restore_stats restore_stats;
	struct event *restore_ev;
	fd_position rewound[64];  /* partitions rewound in the current batch */
	size_t n_rewound;
	char status[256];
	fd_admin *admin;

	/* exactly_once: one transaction per commit interval */
	bool eos, in_txn;
	bool txn_doomed;         /* an output was refused: this transaction must abort */
	fd_table *undo;          /* lead id -> pre-image for rollback */
	fd_wire_arena *undo_arena;
	fd_lead_state *scratch;
	fd_position *rewind;     /* where each input partition stood at the txn start */
	size_t n_rewind, cap_rewind;
	int exit_code;
	fd_daemon_stats stats;
	int64_t last_commit_log;
};

/* ---- clock ------------------------------------------------------------------ */

static int64_t now_ms(const fd_daemon *d)
{
	return d->clock.now(d->clock.ctx);
}

/* ---- producing ---------------------------------------------------------------- */

/* exactly_once: a produce refused inside the open transaction (it already
 * needs aborting) loses nothing: the transaction aborts at the next commit
 * point and the input is read again. Returns true when handled so. */
static bool txn_refused(fd_daemon *d, const char *topic, rd_kafka_resp_err_t err)
{
	if (!d->eos || !d->in_txn)
		return false;
	if (!d->txn_doomed)
		fd_log(FD_LOG_WARNING, "produce to %s refused in the open transaction: %s; it will be "
		       "aborted and its input read again", topic, rd_kafka_err2str(err));
	d->txn_doomed = true;
	return true;
}

/* Hand one record to the producer, retrying while its queue is full. Takes
 * ownership of `value` (malloc'ed) and `hdrs`. */
static void produce(fd_daemon *d, const char *topic, const char *key, void *value, size_t len,
                    rd_kafka_headers_t *hdrs)
{
	uint64_t token = fd_epochs_output(d->epochs);
	for (;;) {
		rd_kafka_resp_err_t err = rd_kafka_producev(
			d->producer, RD_KAFKA_V_TOPIC(topic),
			/* RD_KAFKA_V_KEY itself casts the key to void *; it is only copied.
			 * NOLINTNEXTLINE(clang-diagnostic-cast-qual) */
			RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
			RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
			RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)token),
			RD_KAFKA_V_END);
		if (!err) {
			d->stats.produced++;
			return;
		}
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			rd_kafka_poll(d->producer, 100); /* serve delivery reports, then retry */
			continue;
		}
		free(value);
		rd_kafka_headers_destroy(hdrs);
		if (txn_refused(d, topic, err))
			return;
		fd_log(FD_LOG_ERR, "produce to %s failed: %s; stopping without committing",
		       topic, rd_kafka_err2str(err));
		d->fatal = true;
		d->exit_code = 1;
		fd_daemon_stop(d);
		return;
	}
}

static rd_kafka_headers_t *ce_headers(const fd_daemon *d, const char *type, const char *id,
                                      int64_t at_ms)
{
	char when[64];
	fd_iso8601_format(at_ms, when, sizeof when);
	rd_kafka_headers_t *h = rd_kafka_headers_new(6);
	rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
	rd_kafka_header_add(h, "ce_type", -1, type, -1);
	rd_kafka_header_add(h, "ce_id", -1, id, -1);
	rd_kafka_header_add(h, "ce_time", -1, when, -1);
	rd_kafka_header_add(h, "ce_source", -1, d->cfg.settings.ce_source, -1);
	rd_kafka_header_add(h, "content-type", -1, "application/x-protobuf", -1);
	return h;
}

static void on_transition(void *ctx, const fd_transition *t)
{
	fd_daemon *d = ctx;
	uint8_t *buf;
	size_t len;
	if (fd_wire_encode_transition(t, &buf, &len) != 0) {
		fd_log(FD_LOG_ERR, "cannot encode transition %s of lead %s", t->transition_id, t->lead_id);
		return;
	}
	produce(d, d->cfg.settings.topics.transitions, t->lead_id, buf, len,
	        ce_headers(d, "funneld.v1.StageTransition", t->transition_id, t->occurred_at_ms));
	fd_log(FD_LOG_INFO, "lead %s: %s -> %s (%s%s%s)", t->lead_id, fd_stage_name(t->from_stage),
	       fd_stage_name(t->to_stage), fd_trigger_name(t->trigger), *t->reason ? ": " : "",
	       t->reason);
	if (d->tap.transition)
		d->tap.transition(d->tap.ctx, t);
}

static void on_sla(void *ctx, const fd_sla_event *e)
{
	fd_daemon *d = ctx;
	uint8_t *buf;
	size_t len;
	if (fd_wire_encode_sla_event(e, &buf, &len) != 0) {
		fd_log(FD_LOG_ERR, "cannot encode SLA event %s of lead %s", e->sla_event_id, e->lead_id);
		return;
	}
	produce(d, d->cfg.settings.topics.sla, e->lead_id, buf, len,
	        ce_headers(d, "funneld.v1.SlaEvent", e->sla_event_id, e->occurred_at_ms));
	if (d->tap.sla)
		d->tap.sla(d->tap.ctx, e);
}

static void on_lead_changed(void *ctx, const char *lead_id)
{
	fd_daemon *d = ctx;
	bool created;
	if (!fd_table_put(d->dirty, lead_id, strlen(lead_id), &created))
		fd_log(FD_LOG_WARNING, "out of memory marking lead %s for a score update", lead_id);
}

static void on_before_change(void *ctx, const char *lead_id, bool exists);
static void txn_commit(fd_daemon *d);

static fd_sink engine_sink(fd_daemon *d)
{
	fd_sink s = { on_transition, on_sla, on_lead_changed, d, NULL };
	if (d->eos)
		s.before_change = on_before_change;
	return s;
}

/* The record, untouched, plus funneld.error.* headers. */
static void dead_letter(fd_daemon *d, const rd_kafka_message_t *m, const char *reason)
{
	rd_kafka_headers_t *orig = NULL, *h;
	if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
		h = rd_kafka_headers_copy(orig);
	else
		h = rd_kafka_headers_new(4);
	char num[32];
	rd_kafka_header_add(h, "funneld.error.reason", -1, reason, -1);
	rd_kafka_header_add(h, "funneld.error.topic", -1, rd_kafka_topic_name(m->rkt), -1);
	snprintf(num, sizeof num, "%" PRId32, m->partition);
	rd_kafka_header_add(h, "funneld.error.partition", -1, num, -1);
	snprintf(num, sizeof num, "%" PRId64, m->offset);
	rd_kafka_header_add(h, "funneld.error.offset", -1, num, -1);
	void *value = NULL;
	if (m->len) {
		value = malloc(m->len);
		if (!value) {
			rd_kafka_headers_destroy(h);
			fd_log(FD_LOG_CRIT, "out of memory writing a dead letter");
			d->fatal = true;
			d->exit_code = 1;
			fd_daemon_stop(d);
			return;
		}
		memcpy(value, m->payload, m->len);
	}
	uint64_t token = fd_epochs_output(d->epochs);
	rd_kafka_resp_err_t err;
	while ((err = rd_kafka_producev(d->producer, RD_KAFKA_V_TOPIC(d->cfg.settings.topics.dead_letters),
	                                RD_KAFKA_V_KEY(m->key, m->key_len),
	                                RD_KAFKA_V_VALUE(value, m->len),
	                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
	                                RD_KAFKA_V_HEADERS(h),
	                                RD_KAFKA_V_OPAQUE((void *)(uintptr_t)token),
	                                RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(d->producer, 100);
	if (err) {
		free(value);
		rd_kafka_headers_destroy(h);
		if (txn_refused(d, d->cfg.settings.topics.dead_letters, err))
			return;
		fd_log(FD_LOG_ERR, "dead letter for %s [%" PRId32 "] @%" PRId64 " failed: %s",
		       rd_kafka_topic_name(m->rkt), m->partition, m->offset, rd_kafka_err2str(err));
		d->fatal = true;
		d->exit_code = 1;
		fd_daemon_stop(d);
		return;
	}
	/* value is librdkafka's now (RD_KAFKA_MSG_F_FREE), but the analyzer takes
	 * any function declared in a system header for one that never frees.
	 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	d->stats.produced++;
	d->stats.dead_letters++;
	int64_t t = now_ms(d);
	if (t - d->dl_log_at < (int64_t)(1000 * d->clock.speed)) {
		d->dl_suppressed++;
		return;
	}
	fd_log(FD_LOG_WARNING, "dead letter: %s [%" PRId32 "] @%" PRId64 ": %s (%" PRIu64
	       " more since the last line)", rd_kafka_topic_name(m->rkt), m->partition, m->offset,
	       reason, d->dl_suppressed);
	d->dl_log_at = t;
	d->dl_suppressed = 0;
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	fd_daemon *d = opaque;
	if (m->err && d->eos) {
		/* the transaction will not commit: commit_transaction reports it
		 * as abortable and the abort path replays the input */
		fd_log(FD_LOG_WARNING, "delivery to %s failed in the open transaction: %s",
		       rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
		return;
	}
	if (m->err) {
		/* message.timeout.ms is infinite: only permanent errors get here.
		 * The epoch is never acknowledged, so nothing after it is
		 * committed; stop and let a restart replay. */
		fd_log(FD_LOG_ERR, "delivery to %s failed: %s; stopping without committing",
		       rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
		d->fatal = true;
		d->exit_code = 1;
		return;
	}
	d->stats.delivered++;
	fd_epochs_ack(d->epochs, (uint64_t)(uintptr_t)m->_private);
}

/* ---- exactly-once: pre-images of the open transaction ----------------------------------- */

typedef struct undo_rec {
	uint8_t *bytes;   /* encoded LeadState; NULL: the lead did not exist */
	size_t len;
} undo_rec;

static void clear_undo(fd_daemon *d)
{
	uint32_t cur = 0;
	undo_rec *u;
	while ((u = fd_table_next(d->undo, &cur)) != NULL)
		free(u->bytes);
	fd_table_free(d->undo);
	d->undo = fd_table_new(sizeof(undo_rec), 1024);
}

static void on_before_change(void *ctx, const char *lead_id, bool exists)
{
	fd_daemon *d = ctx;
	bool created;
	undo_rec *u = fd_table_put(d->undo, lead_id, strlen(lead_id), &created);
	if (!u) {
		fd_log(FD_LOG_CRIT, "out of memory keeping the pre-image of %s", lead_id);
		d->fatal = true;
		d->exit_code = 1;
		return;
	}
	if (!created || !exists)
		return; /* first change in this transaction only */
	if (!fd_engine_export(d->engine, lead_id, d->scratch) ||
	    fd_wire_encode_lead_state(d->scratch, &u->bytes, &u->len) != 0) {
		fd_log(FD_LOG_CRIT, "cannot keep the pre-image of %s; stopping", lead_id);
		d->fatal = true;
		d->exit_code = 1;
	}
}

/* Put every lead changed in the aborted transaction back as it was. */
static void rollback(fd_daemon *d)
{
	uint32_t cur = 0;
	undo_rec *u;
	size_t n = 0;
	char err[256];
	while ((u = fd_table_next(d->undo, &cur)) != NULL) {
		size_t len;
		const char *id = fd_table_key(d->undo, u, &len);
		fd_engine_remove(d->engine, id);
		if (u->bytes) {
			if (fd_wire_decode_lead_state(u->bytes, u->len, d->undo_arena, d->scratch, err,
			                              sizeof err) != 0 ||
			    fd_engine_import(d->engine, d->scratch, err, sizeof err) != FD_OK) {
				fd_log(FD_LOG_CRIT, "rollback of %s failed: %s; stopping", id, err);
				d->fatal = true;
				d->exit_code = 1;
			}
			fd_wire_arena_reset(d->undo_arena);
		}
		n++;
	}
	clear_undo(d);
	fd_log(FD_LOG_WARNING, "transaction aborted: %zu leads rolled back to the last commit", n);
}

static void note_rewind(fd_daemon *d, int topic, int32_t partition, int64_t offset)
{
	for (size_t i = 0; i < d->n_rewind; i++)
		if (d->rewind[i].topic == topic && d->rewind[i].partition == partition)
			return;
	if (fd_grow(&d->rewind, &d->cap_rewind, d->n_rewind + 1, sizeof *d->rewind, 64) != 0)
		return;
	d->rewind[d->n_rewind++] = (fd_position){ topic, partition, offset };
}

/* ---- scores, timers, commits ---------------------------------------------------------- */

static void produce_state(fd_daemon *d, int32_t partition, char *key, uint8_t *value, size_t len,
                          uint64_t token);

static int defer(fd_daemon *d, int32_t partition, const char *key, uint8_t *value, size_t len)
{
	if (d->eos) {
		/* one transaction holds outputs, state and offsets: no ordering to keep */
		char *k = strdup(key);
		if (!k)
			return -1;
		produce_state(d, partition, k, value, len, fd_epochs_output(d->epochs));
		return 0;
	}
	if (d->n_deferred == d->cap_deferred) {
		if (d->head_deferred > 0) {
			memmove(d->deferred, d->deferred + d->head_deferred,
			        (d->n_deferred - d->head_deferred) * sizeof *d->deferred);
			d->n_deferred -= d->head_deferred;
			d->head_deferred = 0;
		}
		if (fd_grow(&d->deferred, &d->cap_deferred, d->n_deferred + 1, sizeof *d->deferred,
		            1024) != 0)
			return -1;
	}
	char *k = strdup(key);
	if (!k)
		return -1;
	struct deferred *x = &d->deferred[d->n_deferred++];
	x->epoch = 0; /* set when the epoch closes */
	x->partition = partition;
	x->key = k;
	x->value = value;
	x->len = len;
	return 0;
}

/* One changelog record, explicitly on the lead's input partition. Takes
 * ownership of key and value. */
static void produce_state(fd_daemon *d, int32_t partition, char *key, uint8_t *value, size_t len,
                          uint64_t token)
{
	rd_kafka_resp_err_t err;
	while ((err = rd_kafka_producev(
			d->producer, RD_KAFKA_V_TOPIC(d->cfg.settings.topics.changelog), RD_KAFKA_V_PARTITION(partition),
			RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(value, len),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
			RD_KAFKA_V_OPAQUE((void *)(uintptr_t)token), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(d->producer, 100);
	if (err) {
		free(value);
		if (!txn_refused(d, d->cfg.settings.topics.changelog, err)) {
			fd_log(FD_LOG_ERR, "changelog record for %s: %s; stopping without committing", key,
			       rd_kafka_err2str(err));
			d->fatal = true;
			d->exit_code = 1;
		}
	} else {
		d->stats.produced++;
		d->stats.state_records++;
	}
	free(key);
}

/* Changelog records of every epoch whose outputs are all acknowledged, in
 * epoch order. (exactly_once produces them at once, see defer.) */
static void release_deferred(fd_daemon *d)
{
	uint64_t id;
	while ((id = fd_epochs_deferred_ready(d->epochs)) != 0) {
		while (d->head_deferred < d->n_deferred && d->deferred[d->head_deferred].epoch == id) {
			struct deferred *x = &d->deferred[d->head_deferred++];
			produce_state(d, x->partition, x->key, x->value, x->len,
			              fd_epochs_output_to(d->epochs, id));
		}
		fd_epochs_released(d->epochs, id);
		if (d->head_deferred == d->n_deferred)
			d->head_deferred = d->n_deferred = 0;
	}
}

/* A LeadScore's id: a hash of what it says. */
static void score_id(const char *lead_id, const fd_lead_view *v, char out[FD_ID_HEX + 1])
{
	char text[512];
	snprintf(text, sizeof text, "%s|%d|%" PRId64 "|%.17g|%.17g|%d|%s", lead_id, (int)v->stage,
	         v->score.as_of_ms, v->score.engagement, v->score.fit, v->score.grade, v->owner_id);
	fd_ident id;
	fd_ident_init(&id);
	fd_ident_str(&id, "score");
	fd_ident_str(&id, text);
	fd_ident_hex(&id, out);
}

/* LeadScore (an output of the open epoch) and the state record (deferred)
 * of every lead changed since the last tick. */
static void emit_changed(fd_daemon *d, int64_t now)
{
	if (fd_table_count(d->dirty) == 0)
		return;
	uint32_t cur = 0;
	void *rec;
	fd_lead_state *st = malloc(sizeof *st);
	if (!st) {
		fd_log(FD_LOG_CRIT, "out of memory writing state");
		d->fatal = true;
		return;
	}
	while ((rec = fd_table_next(d->dirty, &cur)) != NULL) {
		size_t len;
		const char *id = fd_table_key(d->dirty, rec, &len);
		if (!fd_engine_export(d->engine, id, st))
			continue; /* removed since */
		/* the snapshot is taken at the lead's own latest time, not the wall
		 * clock, so a replay after a crash yields the same record and id */
		int64_t at = st->last_input_ms > st->stage_entered_ms ? st->last_input_ms
		                                                      : st->stage_entered_ms;
		fd_lead_view v;
		uint8_t *buf;
		size_t n;
		if (fd_engine_lead(d->engine, id, at, &v) &&
		    fd_wire_encode_lead_score(&v, v.score.as_of_ms, &buf, &n) == 0) {
			char ident[FD_ID_HEX + 1];
			score_id(id, &v, ident);
			produce(d, d->cfg.settings.topics.scores, id, buf, n,
			        ce_headers(d, "funneld.v1.LeadScore", ident, v.score.as_of_ms));
			d->stats.scores++;
		}
		if (fd_wire_encode_lead_state(st, &buf, &n) != 0) {
			/* never commit past a state we could not write */
			fd_log(FD_LOG_CRIT, "cannot encode the state of lead %s; stopping", id);
			d->fatal = true;
			d->exit_code = 1;
		} else if (defer(d, st->partition, id, buf, n) != 0) {
			free(buf);
			fd_log(FD_LOG_CRIT, "out of memory deferring the state of %s", id);
			d->fatal = true;
			d->exit_code = 1;
		}
	}
	free(st);
	fd_table_free(d->dirty);
	d->dirty = fd_table_new(1, 1024);
}

static void tombstone(void *ctx, const char *lead_id, int32_t partition)
{
	fd_daemon *d = ctx;
	if (d->eos)
		on_before_change(d, lead_id, true);
	if (defer(d, partition, lead_id, NULL, 0) != 0) {
		fd_log(FD_LOG_CRIT, "out of memory deferring the tombstone of %s", lead_id);
		d->fatal = true;
	}
	d->stats.evicted++;
}

/* Close the open epoch: changed leads' scores and states, evictions, then
 * release whatever is ready. */
static void close_epoch(fd_daemon *d, int64_t now)
{
	emit_changed(d, now);
	if (d->cfg.settings.lead_ttl_ms > 0)
		fd_engine_evict(d->engine, now, d->cfg.settings.lead_ttl_ms, 10000, tombstone, d);
	uint64_t id = fd_epochs_close(d->epochs);
	for (size_t i = d->head_deferred; i < d->n_deferred; i++)
		if (d->deferred[i].epoch == 0)
			d->deferred[i].epoch = id;
	release_deferred(d);
}

static void schedule_deadline(fd_daemon *d);

static void fire_due(fd_daemon *d)
{
	/* while a partition is being restored, a lead may still be replaced by
	 * a newer changelog record: no deadline fires before that is over */
	if (d->stats.restoring > 0)
		return;
	fd_sink sink = engine_sink(d);
	fd_engine_advance(d->engine, now_ms(d), &sink);
	schedule_deadline(d);
}

static const char *input_topic_name(const fd_daemon *d, int topic)
{
	return topic == IN_ENGAGEMENT ? d->cfg.settings.topics.engagement
	       : topic == IN_PROFILES ? d->cfg.settings.topics.profiles
	                               : d->cfg.settings.topics.activities;
}

static void commit_ready(fd_daemon *d, bool sync)
{
	const fd_position *pos;
	if (d->eos)
		return; /* offsets go into the transaction */
	size_t n = fd_epochs_committable(d->epochs, &pos);
	if (n == 0 || d->fatal)
		return;
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(l, input_topic_name(d, pos[i].topic),
		                                  pos[i].partition)->offset = pos[i].offset;
	rd_kafka_resp_err_t err = rd_kafka_commit(d->consumer, l, sync ? 0 : 1);
	if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
		fd_log(FD_LOG_WARNING, "commit failed: %s (will retry with the next epoch)",
		       rd_kafka_err2str(err));
	else
		d->stats.commits++;
	rd_kafka_topic_partition_list_destroy(l);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fire_due(arg);
}

static void schedule_deadline(fd_daemon *d)
{
	if (d->stopped)
		return;
	int64_t next = fd_engine_next_deadline(d->engine);
	if (next == INT64_MAX) {
		evtimer_del(d->deadline_ev);
		return;
	}
	double delay = (double)(next - now_ms(d)) / d->clock.speed;
	if (delay < 0)
		delay = 0;
	if (delay > 3600e3)
		delay = 3600e3;
	struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)((int64_t)delay % 1000) * 1000 };
	evtimer_add(d->deadline_ev, &tv);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fd_daemon *d = arg;
	if (d->stopped)
		return;
	fire_due(d);
	if (d->eos) {
		txn_commit(d);
	} else {
		close_epoch(d, now_ms(d));
		rd_kafka_poll(d->producer, 0);
		release_deferred(d);
		commit_ready(d, false);
	}
	if (d->fatal)
		fd_daemon_stop(d);
	sd_notify(0, "WATCHDOG=1");
}

/* ---- consuming -------------------------------------------------------------------- */

static int topic_index(const fd_daemon *d, const char *name)
{
	if (strcmp(name, d->cfg.settings.topics.engagement) == 0)
		return IN_ENGAGEMENT;
	if (strcmp(name, d->cfg.settings.topics.profiles) == 0)
		return IN_PROFILES;
	if (strcmp(name, d->cfg.settings.topics.activities) == 0)
		return IN_ACTIVITIES;
	return -1;
}

static void decode(fd_daemon *d, pending_input *p, fd_wire_arena *a)
{
	const rd_kafka_message_t *m = p->msg;
	int rc = -1;
	p->reason[0] = '\0';
	switch (p->topic) {
	case IN_ENGAGEMENT:
		rc = fd_wire_decode_engagement(d->cfg.settings.topics.engagement_encoding, m->payload, m->len, a,
		                               &p->ev, p->reason, sizeof p->reason);
		p->lead_id = p->ev.lead_id;
		p->ev.partition = m->partition;
		p->ev.position = m->offset + 1;
		break;
	case IN_PROFILES:
		rc = fd_wire_decode_profile(d->cfg.settings.topics.profiles_encoding, m->payload, m->len, a,
		                            &p->profile, p->reason, sizeof p->reason);
		p->lead_id = p->profile.lead_id;
		p->profile.partition = m->partition;
		p->profile.position = m->offset + 1;
		break;
	case IN_ACTIVITIES:
		rc = fd_wire_decode_activity(d->cfg.settings.topics.activities_encoding, m->payload, m->len, a,
		                             &p->activity, p->reason, sizeof p->reason);
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

static bool restoring(const fd_daemon *d, int32_t p);

static void apply(fd_daemon *d, pending_input *p, int64_t now)
{
	const rd_kafka_message_t *m = p->msg;
	if (restoring(d, m->partition)) {
		/* fetched before the pause took effect: read it again later (once
		 * per partition and batch: the first record is the earliest) */
		for (size_t i = 0; i < d->n_rewound; i++)
			if (d->rewound[i].topic == p->topic && d->rewound[i].partition == m->partition)
				return;
		if (d->n_rewound < sizeof d->rewound / sizeof d->rewound[0])
			d->rewound[d->n_rewound++] = (fd_position){ p->topic, m->partition, m->offset };
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
			m->offset;
		rd_kafka_error_t *e = rd_kafka_seek_partitions(d->consumer, l, 5000);
		if (e) {
			fd_log(FD_LOG_CRIT, "cannot rewind %s [%" PRId32 "] during its restore: %s",
			       rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
			d->fatal = true;
			d->exit_code = 1;
		}
		rd_kafka_topic_partition_list_destroy(l);
		return;
	}
	d->stats.consumed++;
	if (p->decoded != 0) {
		dead_letter(d, m, p->reason[0] ? p->reason : "undecodable record");
	} else {
		char err[256] = "";
		fd_sink sink = engine_sink(d);
		fd_status st = FD_OK;
		switch (p->topic) {
		case IN_ENGAGEMENT:
			st = fd_engine_engagement(d->engine, &p->ev, now, &sink, err, sizeof err);
			break;
		case IN_PROFILES:
			st = fd_engine_profile(d->engine, &p->profile, now, &sink, err, sizeof err);
			break;
		case IN_ACTIVITIES:
			st = fd_engine_activity(d->engine, &p->activity, now, &sink, err, sizeof err);
			break;
		}
		if (st == FD_ERR_FULL) {
			d->stats.refused_full++;
			int64_t t = now_ms(d);
			if (t - d->last_full_log >= 10000) { /* rate-limited */
				d->last_full_log = t;
				fd_log(FD_LOG_ERR, "lead cap of %" PRId64 " reached: new leads go to dead "
				       "letters (%" PRIu64 " refused so far)", d->cfg.settings.max_leads,
				       d->stats.refused_full);
			}
		}
		if (st < 0) {
			char reason[320];
			snprintf(reason, sizeof reason, "%s: %s",
			         st == FD_ERR_REFUSED ? "refused" : st == FD_ERR_FULL ? "lead cap" : "invalid",
			         err);
			dead_letter(d, m, reason);
		}
	}
	if (d->eos)
		note_rewind(d, p->topic, m->partition, m->offset);
	fd_epochs_input(d->epochs, p->topic, m->partition, m->offset);
}

/* Read up to BATCH records without blocking; returns how many. Errors and
 * rebalance events are served on the way (rd_kafka_consumer_poll calls the
 * rebalance callback). */
static size_t read_batch(fd_daemon *d)
{
	size_t n = 0;
	while (n < BATCH && !d->stopping) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(d->consumer, 0);
		if (!m)
			break;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fd_log(FD_LOG_WARNING, "consumer: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		pending_input *p = &d->batch[n];
		p->msg = m;
		p->topic = topic_index(d, rd_kafka_topic_name(m->rkt));
		decode(d, p, d->arenas[n]);
		n++;
	}
	return n;
}

static void consume(fd_daemon *d)
{
	for (int round = 0; round < BATCHES_PER_WAKE && !d->stopping; round++) {
		size_t n = read_batch(d);
		if (n == 0)
			return;
		int64_t now = now_ms(d);
		d->n_rewound = 0;
		/* lookups for the next records are prefetched while applying */
		for (size_t i = 0; i < n && i < 8; i++)
			if (d->batch[i].lead_id)
				fd_engine_prefetch(d->engine, d->batch[i].lead_id, 1);
		fd_sink sink = engine_sink(d);
		for (size_t i = 0; i < n; i++) {
			if (i + 8 < n && d->batch[i + 8].lead_id)
				fd_engine_prefetch(d->engine, d->batch[i + 8].lead_id, 1);
			/* deadlines already due fire before the next input, never
			 * depending on where a batch happens to end (replays see the
			 * same order) */
			if (fd_engine_next_deadline(d->engine) <= now && d->stats.restoring == 0)
				fd_engine_advance(d->engine, now, &sink);
			apply(d, &d->batch[i], now);
			rd_kafka_message_destroy(d->batch[i].msg);
			d->batch[i].msg = NULL;
			fd_wire_arena_reset(d->arenas[i]);
		}
		fire_due(d);
	}
	/* more may be waiting: come back after other events had their turn */
	event_active(d->cq_ev, EV_READ, 0);
}

static void drain_pipe(int fd)
{
	char buf[256];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

static void on_consumer_queue(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	fd_daemon *d = arg;
	drain_pipe(fd);
	if (!d->stopping)
		consume(d);
}

static void on_producer_queue(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	fd_daemon *d = arg;
	drain_pipe(fd);
	rd_kafka_poll(d->producer, 0);
	if (!d->stopped && !d->eos) {
		release_deferred(d);
		commit_ready(d, false);
	}
	if (d->fatal && !d->stopping)
		fd_daemon_stop(d);
}

/* ---- exactly-once transactions -------------------------------------------------- */

static void txn_abort(fd_daemon *d);

/* 0: no error; 1: retriable (retry the call); -1: handled (aborted or fatal). */
static int txn_error(fd_daemon *d, rd_kafka_error_t *error, const char *what)
{
	if (!error)
		return 0;
	int rc;
	if (rd_kafka_error_is_fatal(error)) {
		fd_log(FD_LOG_CRIT, "%s: fatal: %s (fenced or broken producer); stopping without "
		       "committing", what, rd_kafka_error_string(error));
		d->fatal = true;
		d->exit_code = 1;
		rc = -1;
	} else if (rd_kafka_error_txn_requires_abort(error)) {
		fd_log(FD_LOG_WARNING, "%s: %s: aborting the transaction", what,
		       rd_kafka_error_string(error));
		rc = -2;
	} else if (rd_kafka_error_is_retriable(error)) {
		fd_log(FD_LOG_WARNING, "%s: %s: retrying", what, rd_kafka_error_string(error));
		rc = 1;
	} else {
		fd_log(FD_LOG_ERR, "%s: %s: aborting the transaction", what, rd_kafka_error_string(error));
		rc = -2;
	}
	rd_kafka_error_destroy(error);
	if (rc == -2) {
		txn_abort(d);
		rc = -1;
	}
	return rc;
}

static void txn_begin(fd_daemon *d)
{
	if (d->fatal || d->in_txn)
		return;
	rd_kafka_error_t *error = rd_kafka_begin_transaction(d->producer);
	if (error) {
		fd_log(FD_LOG_CRIT, "begin transaction: %s; stopping", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		d->fatal = true;
		d->exit_code = 1;
		return;
	}
	d->in_txn = true;
	const fd_position *pos;
	size_t n = fd_epochs_positions(d->epochs, &pos);
	d->n_rewind = 0;
	for (size_t i = 0; i < n; i++)
		note_rewind(d, pos[i].topic, pos[i].partition, pos[i].offset);
}

/* Abort, roll the state back to the last commit and rewind the consumer so
 * the same input is read again. */
static void txn_abort(fd_daemon *d)
{
	rd_kafka_error_t *error = rd_kafka_abort_transaction(d->producer, 60 * 1000);
	d->in_txn = false;
	d->txn_doomed = false;
	if (error) {
		fd_log(FD_LOG_CRIT, "abort transaction: %s; stopping", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		d->fatal = true;
		d->exit_code = 1;
		return;
	}
	rollback(d);
	fd_table_free(d->dirty);
	d->dirty = fd_table_new(1, 1024);
	if (fd_epochs_set_positions(d->epochs, d->rewind, d->n_rewind) != 0)
		d->fatal = true;
	if (d->n_rewind) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)d->n_rewind);
		for (size_t i = 0; i < d->n_rewind; i++)
			rd_kafka_topic_partition_list_add(l, input_topic_name(d, d->rewind[i].topic),
			                                  d->rewind[i].partition)->offset = d->rewind[i].offset;
		rd_kafka_error_t *se = rd_kafka_seek_partitions(d->consumer, l, 10 * 1000);
		if (se) {
			fd_log(FD_LOG_CRIT, "rewind after abort: %s; stopping", rd_kafka_error_string(se));
			rd_kafka_error_destroy(se);
			d->fatal = true;
			d->exit_code = 1;
		} else {
			for (int i = 0; i < l->cnt; i++)
				if (l->elems[i].err)
					fd_log(FD_LOG_WARNING, "rewind %s [%" PRId32 "]: %s", l->elems[i].topic,
					       l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
		}
		rd_kafka_topic_partition_list_destroy(l);
	}
	d->n_rewind = 0;
	if (!d->stopping)
		txn_begin(d);
}

/* Close the epoch and commit outputs, changelog and input offsets in one
 * transaction; then open the next one unless stopping. */
static void txn_commit(fd_daemon *d)
{
	if (!d->in_txn || d->fatal)
		return;
	if (d->txn_doomed) {
		txn_abort(d);
		return;
	}
	close_epoch(d, now_ms(d));
	const fd_position *pos;
	size_t n = fd_epochs_positions(d->epochs, &pos);
	if (n > 0) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
		for (size_t i = 0; i < n; i++)
			rd_kafka_topic_partition_list_add(l, input_topic_name(d, pos[i].topic),
			                                  pos[i].partition)->offset = pos[i].offset;
		rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(d->consumer);
		int rc;
		do {
			rc = txn_error(d, rd_kafka_send_offsets_to_transaction(d->producer, l, md, 30 * 1000),
			               "send offsets to transaction");
		} while (rc == 1 && !d->fatal);
		rd_kafka_consumer_group_metadata_destroy(md);
		rd_kafka_topic_partition_list_destroy(l);
		if (rc != 0)
			return;
	}
	int rc;
	do {
		rc = txn_error(d, rd_kafka_commit_transaction(d->producer, 60 * 1000),
		               "commit transaction");
	} while (rc == 1 && !d->fatal);
	if (rc != 0)
		return;
	d->in_txn = false;
	d->stats.commits++;
	clear_undo(d);
	if (!d->stopping)
		txn_begin(d);
}

/* Close the open epoch, wait (bounded) until every output and state record
 * is acknowledged, then commit synchronously (exactly_once: commit the
 * transaction). */
static void drain(fd_daemon *d)
{
	if (d->eos) {
		fire_due(d);
		txn_commit(d);
		return;
	}
	fire_due(d);
	close_epoch(d, now_ms(d));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!d->fatal) {
		release_deferred(d);
		if (fd_epochs_pending(d->epochs) == 0 && d->head_deferred == d->n_deferred)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 60) {
			fd_log(FD_LOG_ERR, "drain: %" PRIu64 " outputs still unacknowledged after 60 s; "
			       "their inputs stay uncommitted", fd_epochs_pending(d->epochs));
			break;
		}
		rd_kafka_poll(d->producer, 50);
	}
	commit_ready(d, true);
}

/* ---- rebalance -------------------------------------------------------------------- */

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
static rd_kafka_topic_partition_list_t *with_co_partitions(const fd_daemon *d,
                                                           const rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *all = rd_kafka_topic_partition_list_new(parts->cnt * 3);
	for (int i = 0; i < parts->cnt; i++) {
		int32_t p = parts->elems[i].partition;
		rd_kafka_topic_partition_list_add(all, d->cfg.settings.topics.engagement, p);
		rd_kafka_topic_partition_list_add(all, d->cfg.settings.topics.profiles, p);
		rd_kafka_topic_partition_list_add(all, d->cfg.settings.topics.activities, p);
	}
	return all;
}

typedef struct id_list {
	char **ids;
	size_t n, cap;
} id_list;

static void collect_id(void *ctx, const char *lead_id, int32_t partition)
{
	(void)partition;
	id_list *l = ctx;
	if (fd_grow(&l->ids, &l->cap, l->n + 1, sizeof *l->ids, 1024) != 0)
		return;
	char *copy = strdup(lead_id);
	if (copy)
		l->ids[l->n++] = copy;
}

/* Forget every lead of partition p (revoked: after its state was written;
 * lost: without writing anything). */
static void drop_partition(fd_daemon *d, int32_t p)
{
	id_list l = { 0 };
	fd_engine_foreach(d->engine, p, collect_id, &l);
	for (size_t i = 0; i < l.n; i++) {
		fd_engine_remove(d->engine, l.ids[i]);
		fd_table_remove(d->dirty, l.ids[i], strlen(l.ids[i]));
		free(l.ids[i]);
	}
	free(l.ids);
	for (int t = 0; t < 3; t++)
		fd_epochs_forget(d->epochs, t, p);
	fd_log(FD_LOG_INFO, "partition %" PRId32 ": %zu leads dropped from memory", p, l.n);
}

/* ---- restore: assigned partitions stay paused until their state is back ---- */

static bool restoring(const fd_daemon *d, int32_t p)
{
	if (fd_changelog_restoring(d->changelog) == p)
		return true;
	for (size_t i = 0; i < d->n_restore; i++)
		if (d->restore_queue[i] == p)
			return true;
	return false;
}

static void update_restoring(fd_daemon *d)
{
	d->stats.restoring = d->n_restore + (fd_changelog_restoring(d->changelog) >= 0 ? 1 : 0);
}

static void pause_or_resume(fd_daemon *d, int32_t p, bool pause)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(3);
	rd_kafka_topic_partition_list_add(l, d->cfg.settings.topics.engagement, p);
	rd_kafka_topic_partition_list_add(l, d->cfg.settings.topics.profiles, p);
	rd_kafka_topic_partition_list_add(l, d->cfg.settings.topics.activities, p);
	rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(d->consumer, l)
	                                : rd_kafka_resume_partitions(d->consumer, l);
	if (err)
		fd_log(FD_LOG_ERR, "%s partition %" PRId32 ": %s", pause ? "pause" : "resume", p,
		       rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_destroy(l);
}

static void schedule_restore(fd_daemon *d, int delay_ms)
{
	struct timeval tv = { delay_ms / 1000, (suseconds_t)(delay_ms % 1000) * 1000 };
	evtimer_add(d->restore_ev, &tv);
}

/* Every assigned partition is back: deadlines that passed while nobody
 * owned these leads fire now, once, then all of them resume together
 * (inputs never overtake a deadline that was already due). */
static void resume_restored(fd_daemon *d)
{
	if (d->n_restored == 0 || d->stats.restoring > 0)
		return;
	fire_due(d);
	for (size_t i = 0; i < d->n_restored; i++)
		pause_or_resume(d, d->restored[i], false);
	fd_log(FD_LOG_NOTICE, "%zu restored partition(s) resumed", d->n_restored);
	d->n_restored = 0;
}

/* One slice of restore work, then back to the loop (the admin server and
 * the other partitions keep being served). */
static void on_restore(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fd_daemon *d = arg;
	char err[512];
	if (d->stopping)
		return;
	if (fd_changelog_restoring(d->changelog) < 0) {
		if (d->n_restore == 0) {
			update_restoring(d);
			resume_restored(d);
			return;
		}
		int32_t p = d->restore_queue[0];
		memmove(d->restore_queue, d->restore_queue + 1, --d->n_restore * sizeof *d->restore_queue);
		memset(&d->restore_stats, 0, sizeof d->restore_stats);
		fd_log(FD_LOG_NOTICE, "partition %" PRId32 ": restoring from %s", p,
		       d->cfg.settings.topics.changelog);
		if (fd_changelog_restore_begin(d->changelog, p, err, sizeof err) != 0) {
			fd_log(FD_LOG_CRIT, "partition %" PRId32 ": restore failed: %s; stopping", p, err);
			d->fatal = true; /* never process a partition without its state */
			d->exit_code = 1;
			fd_daemon_stop(d);
			return;
		}
		update_restoring(d);
	}
	int32_t p = fd_changelog_restoring(d->changelog);
	fd_restore_stats *st = &d->restore_stats;
	uint64_t before = st->records;
	int rc = fd_changelog_restore_step(d->changelog, d->engine, 5000, st, err, sizeof err);
	if (rc < 0) {
		fd_log(FD_LOG_CRIT, "partition %" PRId32 ": restore failed: %s; stopping", p, err);
		d->fatal = true;
		d->exit_code = 1;
		fd_daemon_stop(d);
		return;
	}
	if (rc == 0) {
		schedule_restore(d, st->records == before ? 5 : 0);
		return;
	}
	d->stats.restored_leads += st->leads;
	fd_log(FD_LOG_NOTICE, "partition %" PRId32 ": restored %" PRIu64 " leads from %" PRIu64
	       " records (%" PRIu64 " tombstones, %" PRIu64 " bad) in %.3f s (%.0f leads/s); resuming",
	       p, st->leads, st->records, st->tombstones, st->bad, st->seconds,
	       st->seconds > 0 ? (double)st->leads / st->seconds : 0.0);
	update_restoring(d);
	if (fd_grow(&d->restored, &d->cap_restored, d->n_restored + 1, sizeof *d->restored, 64) != 0) {
		d->fatal = true;
		d->exit_code = 1;
		return;
	}
	d->restored[d->n_restored++] = p;
	if (d->stats.restoring > 0) {
		schedule_restore(d, 0);
		return;
	}
	resume_restored(d);
}

static void forget_restore(fd_daemon *d, int32_t p)
{
	for (size_t i = 0; i < d->n_restored; i++)
		if (d->restored[i] == p) {
			d->restored[i] = d->restored[--d->n_restored];
			break;
		}
	if (fd_changelog_restoring(d->changelog) == p) {
		fd_changelog_restore_cancel(d->changelog);
		schedule_restore(d, 0);
	}
	for (size_t i = 0; i < d->n_restore; i++)
		if (d->restore_queue[i] == p) {
			memmove(d->restore_queue + i, d->restore_queue + i + 1,
			        (d->n_restore - i - 1) * sizeof *d->restore_queue);
			d->n_restore--;
			break;
		}
	update_restoring(d);
}

static int enqueue_restore(fd_daemon *d, int32_t p)
{
	if (fd_grow(&d->restore_queue, &d->cap_restore, d->n_restore + 1, sizeof *d->restore_queue,
	            64) != 0)
		return -1;
	d->restore_queue[d->n_restore++] = p;
	update_restoring(d);
	return 0;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	fd_daemon *d = opaque;
	bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t ret = RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_topic_partition_list_t *all = with_co_partitions(d, parts);
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		d->ever_assigned = true;
		log_partitions("assigned", all);
		if (cooperative)
			error = rd_kafka_incremental_assign(rk, all);
		else
			ret = rd_kafka_assign(rk, all);
		/* paused until restored: nothing of these partitions is read before
		 * their leads are back (see on_restore) */
		for (int i = 0; i < parts->cnt && !error && !ret; i++) {
			pause_or_resume(d, parts->elems[i].partition, true);
			if (enqueue_restore(d, parts->elems[i].partition) != 0) {
				d->fatal = true;
				d->exit_code = 1;
			}
		}
		schedule_restore(d, 0);
	} else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
		bool lost = rd_kafka_assignment_lost(rk);
		log_partitions(lost ? "lost" : "revoked", all);
		if (!lost && !d->fatal)
			drain(d);
		else if (lost && d->eos && d->in_txn)
			txn_abort(d); /* nothing of the lost partitions may commit */
		for (int i = 0; i < parts->cnt; i++) {
			forget_restore(d, parts->elems[i].partition);
			drop_partition(d, parts->elems[i].partition);
		}
		if (cooperative)
			error = rd_kafka_incremental_unassign(rk, all);
		else
			ret = rd_kafka_assign(rk, NULL);
	} else {
		fd_log(FD_LOG_ERR, "rebalance failed: %s", rd_kafka_err2str(err));
		ret = rd_kafka_assign(rk, NULL);
	}
	rd_kafka_topic_partition_list_destroy(all);
	if (error) {
		fd_log(FD_LOG_ERR, "incremental rebalance: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (ret) {
		fd_log(FD_LOG_ERR, "assign: %s", rd_kafka_err2str(ret));
	}
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	fd_daemon *d = opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char buf[512];
		rd_kafka_fatal_error(rk, buf, sizeof buf);
		fd_log(FD_LOG_CRIT, "fatal Kafka error: %s", buf);
		d->fatal = true;
		d->exit_code = 1;
		return;
	}
	/* transport errors, all brokers down, ...: librdkafka keeps retrying */
	fd_log(FD_LOG_WARNING, "kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* properties set for both clients are ignored by the one they do not
	 * concern: that is expected, not worth a warning */
	if (strcmp(fac, "CONFWARN") == 0)
		level = 7;
	fd_log(level <= 3 ? FD_LOG_ERR : level == 4 ? FD_LOG_WARNING : FD_LOG_DEBUG,
	       "librdkafka %s: %s", fac, buf);
}

/* ---- admin HTTP -------------------------------------------------------------------- */

static fd_engine *admin_engine(void *ctx)
{
	return ((fd_daemon *)ctx)->engine;
}

static void admin_stats(void *ctx, fd_daemon_stats *out)
{
	fd_daemon_stats_get(ctx, out);
}

static bool admin_ready(void *ctx)
{
	fd_daemon *d = ctx;
	return d->started && d->ever_assigned && d->stats.restoring == 0 && !d->stopping;
}

static const char *admin_status(void *ctx)
{
	fd_daemon *d = ctx;
	if (d->stopping)
		return "stopping";
	if (!d->started)
		return "starting: waiting for the brokers";
	if (!d->ever_assigned)
		return "waiting for a partition assignment";
	size_t off = (size_t)snprintf(d->status, sizeof d->status, "restoring partitions");
	int32_t cur = fd_changelog_restoring(d->changelog);
	if (cur >= 0 && off < sizeof d->status)
		off += (size_t)snprintf(d->status + off, sizeof d->status - off, " %" PRId32, cur);
	for (size_t i = 0; i < d->n_restore && off < sizeof d->status; i++)
		off += (size_t)snprintf(d->status + off, sizeof d->status - off, "%s%" PRId32,
		                        i || cur >= 0 ? ", " : " ", d->restore_queue[i]);
	return d->status;
}

static int64_t admin_now(void *ctx)
{
	return now_ms(ctx);
}

/* ---- set-up ----------------------------------------------------------------------- */

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                    size_t errstr_size)
{
	char e[512];
	if (rd_kafka_conf_set(conf, name, value, e, sizeof e) != RD_KAFKA_CONF_OK) {
		snprintf(errstr, errstr_size, "kafka property %s=%s: %s", name, value, e);
		return -1;
	}
	return 0;
}

/* Common properties from the config, then the role's own. Producer-only or
 * consumer-only properties given by the user are applied to every client;
 * librdkafka ignores the ones that do not apply (its CONFWARN lines are
 * logged at debug level, see log_cb). */
enum { ROLE_CONSUMER, ROLE_PRODUCER, ROLE_READER };

static rd_kafka_conf_t *client_conf(fd_daemon *d, int role, char *errstr, size_t size)
{
	bool consumer = role == ROLE_CONSUMER;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_opaque(conf, d);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	if (conf_set(conf, "client.id", role == ROLE_CONSUMER   ? "funneld-consumer"
	                                : role == ROLE_PRODUCER ? "funneld-producer"
	                                                        : "funneld-restore",
	             errstr, size))
		goto fail;
	for (int i = 0; i < d->cfg.settings.n_kafka_props; i++) {
		const char *name = d->cfg.settings.kafka_props[i].name;
		char e[512];
		rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, name, d->cfg.settings.kafka_props[i].value, e,
		                                          sizeof e);
		if (r == RD_KAFKA_CONF_INVALID) {
			snprintf(errstr, size, "kafka property %s: %s", name, e);
			goto fail;
		}
		if (r == RD_KAFKA_CONF_UNKNOWN) {
			snprintf(errstr, size, "unknown kafka property %s", name);
			goto fail;
		}
	}
	if (consumer) {
		if (conf_set(conf, "group.id", d->cfg.settings.group_id, errstr, size) ||
		    conf_set(conf, "enable.auto.commit", "false", errstr, size) ||
		    conf_set(conf, "enable.auto.offset.store", "false", errstr, size) ||
		    conf_set(conf, "auto.offset.reset", "earliest", errstr, size) ||
		    conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", errstr, size))
			goto fail;
		rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	} else if (role == ROLE_READER) {
		/* assign() needs a group.id in librdkafka 2.0.2; the reader never
		 * subscribes nor commits, so it never joins this group */
		char gid[FD_NAME_MAX * 2 + 16];
		snprintf(gid, sizeof gid, "%s.restore", d->cfg.settings.group_id);
		if (conf_set(conf, "group.id", gid, errstr, size) ||
		    conf_set(conf, "fetch.wait.max.ms", "10", errstr, size))
			goto fail;
	} else if (role == ROLE_PRODUCER) {
		if (conf_set(conf, "enable.idempotence", "true", errstr, size) ||
		    conf_set(conf, "acks", "all", errstr, size) ||
		    conf_set(conf, "linger.ms", "5", errstr, size) ||
		    conf_set(conf, "partitioner", "murmur2_random", errstr, size))
			goto fail;
		if (d->cfg.settings.guarantee == FD_EXACTLY_ONCE) {
			char tid[FD_NAME_MAX * 4];
			if (d->cfg.settings.transactional_id[0]) {
				snprintf(tid, sizeof tid, "%s", d->cfg.settings.transactional_id);
			} else {
				char host[128] = "localhost";
				gethostname(host, sizeof host - 1);
				snprintf(tid, sizeof tid, "%s-%s", d->cfg.settings.group_id, host);
			}
			if (conf_set(conf, "transactional.id", tid, errstr, size) ||
			    conf_set(conf, "transaction.timeout.ms", "60000", errstr, size) ||
			    conf_set(conf, "message.timeout.ms", "55000", errstr, size))
				goto fail;
		} else if (conf_set(conf, "message.timeout.ms", "0", errstr, size)) {
			/* at-least-once: never give up on an output */
			goto fail;
		}
		rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
	}
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

static int queue_event(fd_daemon *d, rd_kafka_queue_t *q, int p[2], struct event **ev,
                       event_callback_fn cb)
{
	if (pipe(p) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
		fcntl(p[i], F_SETFD, FD_CLOEXEC);
	}
	rd_kafka_queue_io_event_enable(q, p[1], "1", 1);
	*ev = event_new(d->base, p[0], EV_READ | EV_PERSIST, cb, d);
	return *ev && event_add(*ev, NULL) == 0 ? 0 : -1;
}

typedef struct migrate {
	fd_engine *from, *to;
	fd_lead_state *st;
	int failed;
	char err[256];
} migrate;

static void migrate_lead(void *ctx, const char *lead_id, int32_t partition)
{
	(void)partition;
	migrate *m = ctx;
	if (m->failed)
		return;
	if (!fd_engine_export(m->from, lead_id, m->st) ||
	    fd_engine_import(m->to, m->st, m->err, sizeof m->err) != FD_OK)
		m->failed = 1;
}

/* SIGHUP: validate the file first; on success move every lead into an
 * engine built on the new rules (scores, fit, lifecycle, SLAs: timers are
 * re-armed from each lead's state) and swap, all or nothing. Settings that
 * need new Kafka clients (brokers, group, topics, guarantee) keep their old
 * values until a restart, and the log says so. */
static void reload(fd_daemon *d)
{
	char err[1024];
	fd_config *fresh = calloc(1, sizeof *fresh);
	if (!fresh)
		return;
	if (!d->config_path[0]) {
		fd_log(FD_LOG_ERR, "SIGHUP: no configuration file to reload");
		goto out;
	}
	if (fd_config_load(fresh, d->config_path, (const char *const *)d->overrides, d->n_overrides,
	                   err, sizeof err) != 0) {
		fd_log(FD_LOG_ERR, "SIGHUP: keeping the running configuration: %s", err);
		goto out;
	}
	fd_engine *next = fd_engine_new(&fresh->rules, 0);
	migrate m = { d->engine, next, malloc(sizeof(fd_lead_state)), 0, "" };
	if (!next || !m.st) {
		fd_log(FD_LOG_ERR, "SIGHUP: out of memory; keeping the running configuration");
		fd_engine_free(next);
		free(m.st);
		goto out;
	}
	if (fresh->settings.max_leads > 0)
		fd_engine_set_max_leads(next, (size_t)fresh->settings.max_leads);
	fd_engine_foreach(d->engine, -1, migrate_lead, &m);
	free(m.st);
	if (m.failed) {
		fd_log(FD_LOG_ERR, "SIGHUP: cannot move the leads to the new rules (%s); keeping the "
		       "running configuration", m.err);
		fd_engine_free(next);
		goto out;
	}
	fd_engine_carry_stats(next, d->engine);
	fd_engine_free(d->engine);
	d->engine = next;
	if (strcmp(fresh->settings.topics.engagement, d->cfg.settings.topics.engagement) != 0 ||
	    strcmp(fresh->settings.topics.profiles, d->cfg.settings.topics.profiles) != 0 ||
	    strcmp(fresh->settings.topics.activities, d->cfg.settings.topics.activities) != 0 ||
	    strcmp(fresh->settings.group_id, d->cfg.settings.group_id) != 0 || fresh->settings.guarantee != d->cfg.settings.guarantee)
		fd_log(FD_LOG_WARNING, "SIGHUP: topics, group and guarantee changes take effect at the "
		       "next restart");
	/* everything else applies now */
	d->cfg.rules = fresh->rules;
	d->cfg.settings.topics.engagement_encoding = fresh->settings.topics.engagement_encoding;
	d->cfg.settings.topics.profiles_encoding = fresh->settings.topics.profiles_encoding;
	d->cfg.settings.topics.activities_encoding = fresh->settings.topics.activities_encoding;
	d->cfg.settings.lead_ttl_ms = fresh->settings.lead_ttl_ms;
	d->cfg.settings.max_leads = fresh->settings.max_leads;
	d->cfg.settings.log_level = fresh->settings.log_level;
	memcpy(d->cfg.settings.ce_source, fresh->settings.ce_source, sizeof d->cfg.settings.ce_source);
	fd_log_init(fresh->settings.log_level);
	if (fresh->settings.commit_interval_ms != d->cfg.settings.commit_interval_ms && d->started) {
		d->cfg.settings.commit_interval_ms = fresh->settings.commit_interval_ms;
		struct timeval tv = { (time_t)(fresh->settings.commit_interval_ms / 1000),
			                  (suseconds_t)(fresh->settings.commit_interval_ms % 1000) * 1000 };
		event_add(d->tick_ev, &tv);
	}
	schedule_deadline(d);
	fd_engine_stats st;
	fd_engine_stats_get(d->engine, &st);
	fd_log(FD_LOG_NOTICE, "SIGHUP: %s reloaded; %" PRIu64 " leads moved to the new rules",
	       d->config_path, st.leads);
out:
	fd_config_free(fresh);
	free(fresh);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	fd_daemon *d = arg;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	if (d->stopping) {
		fd_log(FD_LOG_WARNING, "second signal: exiting at once");
		_exit(1);
	}
	fd_log(FD_LOG_NOTICE, "signal %d: draining", (int)sig);
	fd_daemon_stop(d);
}

fd_daemon *fd_daemon_new(const fd_daemon_options *opt, char *errstr, size_t errstr_size)
{
	fd_daemon *d = calloc(1, sizeof *d);
	if (!d) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	d->cq_pipe[0] = d->cq_pipe[1] = d->pq_pipe[0] = d->pq_pipe[1] = -1;
	d->cfg = *opt->cfg;
	d->cfg.settings.kafka_props = NULL; /* not owned: we only read opt->cfg's during new */
	d->cfg.settings.n_kafka_props = 0;
	d->clock = opt->clock.now ? opt->clock : fd_clock_wall();
	if (d->clock.speed <= 0)
		d->clock.speed = 1;
	d->base = opt->base;
	d->tap = opt->tap;
	if (opt->config_path)
		snprintf(d->config_path, sizeof d->config_path, "%s", opt->config_path);
	if (opt->n_overrides) {
		d->overrides = calloc(opt->n_overrides, sizeof *d->overrides);
		if (!d->overrides)
			goto fail;
		for (size_t i = 0; i < opt->n_overrides; i++)
			if (!(d->overrides[d->n_overrides++] = strdup(opt->overrides[i])))
				goto fail;
	}

	/* client configs read the Kafka properties from the caller's config */
	d->cfg.settings.kafka_props = opt->cfg->settings.kafka_props;
	d->cfg.settings.n_kafka_props = opt->cfg->settings.n_kafka_props;
	rd_kafka_conf_t *cc = client_conf(d, ROLE_CONSUMER, errstr, errstr_size);
	rd_kafka_conf_t *pc = cc ? client_conf(d, ROLE_PRODUCER, errstr, errstr_size) : NULL;
	rd_kafka_conf_t *rc = pc ? client_conf(d, ROLE_READER, errstr, errstr_size) : NULL;
	if (rc)
		d->changelog = fd_changelog_new(d->cfg.settings.topics.changelog, rc, errstr, errstr_size);
	if (cc && pc && !d->changelog) {
		rd_kafka_conf_destroy(cc);
		rd_kafka_conf_destroy(pc);
		cc = pc = NULL;
	}
	d->cfg.settings.kafka_props = NULL;
	d->cfg.settings.n_kafka_props = 0;
	if (!cc || !pc) {
		if (cc)
			rd_kafka_conf_destroy(cc);
		goto fail;
	}
	char e[512];
	d->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, e, sizeof e);
	if (!d->producer) {
		rd_kafka_conf_destroy(pc);
		rd_kafka_conf_destroy(cc);
		snprintf(errstr, errstr_size, "producer: %s", e);
		goto fail;
	}
	d->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, e, sizeof e);
	if (!d->consumer) {
		rd_kafka_conf_destroy(cc);
		snprintf(errstr, errstr_size, "consumer: %s", e);
		goto fail;
	}
	rd_kafka_poll_set_consumer(d->consumer);
	d->cq = rd_kafka_queue_get_consumer(d->consumer);
	d->pq = rd_kafka_queue_get_main(d->producer);

	d->engine = fd_engine_new(&d->cfg.rules, 0);
	d->epochs = fd_epochs_new();
	d->dirty = fd_table_new(1, 1024);
	d->eos = d->cfg.settings.guarantee == FD_EXACTLY_ONCE;
	d->undo = fd_table_new(sizeof(undo_rec), 1024);
	d->undo_arena = fd_wire_arena_new();
	d->scratch = malloc(sizeof *d->scratch);
	if (!d->engine || !d->epochs || !d->dirty || !d->undo || !d->undo_arena || !d->scratch) {
		snprintf(errstr, errstr_size, "out of memory");
		goto fail;
	}
	if (d->cfg.settings.max_leads > 0)
		fd_engine_set_max_leads(d->engine, (size_t)d->cfg.settings.max_leads);
	for (int i = 0; i < BATCH; i++)
		if (!(d->arenas[i] = fd_wire_arena_new())) {
			snprintf(errstr, errstr_size, "out of memory");
			goto fail;
		}
	d->tick_ev = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	d->deadline_ev = evtimer_new(d->base, on_deadline, d);
	d->restore_ev = evtimer_new(d->base, on_restore, d);
	if (!d->tick_ev || !d->deadline_ev || !d->restore_ev) {
		snprintf(errstr, errstr_size, "libevent: cannot create timers");
		goto fail;
	}
	if (queue_event(d, d->pq, d->pq_pipe, &d->pq_ev, on_producer_queue) != 0) {
		snprintf(errstr, errstr_size, "cannot watch the producer queue: %s", strerror(errno));
		goto fail;
	}
	if (d->cfg.settings.admin_address[0]) {
		fd_admin_source src = { admin_engine, admin_stats, admin_ready, admin_status, admin_now, d };
		d->admin = fd_admin_new(d->base, d->cfg.settings.admin_address, d->cfg.settings.admin_port, &src, errstr,
		                        errstr_size);
		if (!d->admin)
			goto fail;
		fd_log(FD_LOG_INFO, "admin HTTP on http://%s:%d/ (healthz, readyz, metrics, v1/leads/ID, "
		       "v1/funnel)", d->cfg.settings.admin_address, fd_admin_port(d->admin));
	}
	if (opt->handle_signals) {
		int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
		for (int i = 0; i < 3; i++) {
			d->sig_ev[i] = evsignal_new(d->base, sigs[i], on_signal, d);
			if (!d->sig_ev[i] || event_add(d->sig_ev[i], NULL) != 0) {
				snprintf(errstr, errstr_size, "libevent: cannot watch signals");
				goto fail;
			}
		}
	}
	return d;
fail:
	fd_daemon_free(d);
	return NULL;
}

/* Input topics exist and have one partition count. 1: ok, 0: broker not
 * reachable (retry), -1: refused (errstr). */
static int check_topics(fd_daemon *d, char *errstr, size_t errstr_size)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err = rd_kafka_metadata(d->consumer, 1, NULL, &md, 5000);
	if (err) {
		fd_log(FD_LOG_WARNING, "waiting for the brokers: metadata: %s", rd_kafka_err2str(err));
		return 0;
	}
	const char *names[3] = { d->cfg.settings.topics.engagement, d->cfg.settings.topics.profiles,
		                     d->cfg.settings.topics.activities };
	int counts[3] = { -1, -1, -1 };
	for (int t = 0; t < md->topic_cnt; t++)
		for (int i = 0; i < 3; i++)
			if (strcmp(md->topics[t].topic, names[i]) == 0 && !md->topics[t].err)
				counts[i] = md->topics[t].partition_cnt;
	rd_kafka_metadata_destroy(md);
	for (int i = 0; i < 3; i++) {
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
	d->partitions = counts[0];
	return 1;
}

int fd_daemon_start(fd_daemon *d, int timeout_ms, char *errstr, size_t errstr_size)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc = check_topics(d, errstr, errstr_size);
		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long waited = (long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (timeout_ms >= 0 && waited >= timeout_ms) {
			snprintf(errstr, errstr_size, "brokers not reachable after %d ms", timeout_ms);
			return -1;
		}
		struct timespec pause = { 1, 0 };
		nanosleep(&pause, NULL);
	}
	if (fd_changelog_ensure(d->changelog, d->producer, d->partitions, errstr, errstr_size) != 0)
		return -1;
	if (d->eos) {
		rd_kafka_error_t *error = rd_kafka_init_transactions(d->producer, 60 * 1000);
		if (error) {
			snprintf(errstr, errstr_size, "init transactions: %s", rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
			return -1;
		}
		txn_begin(d);
		if (d->fatal) {
			snprintf(errstr, errstr_size, "cannot begin the first transaction");
			return -1;
		}
	}
	/* the group balances the engagement topic; profiles and activities of
	 * the same partition numbers follow (see with_co_partitions) */
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, d->cfg.settings.topics.engagement, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(d->consumer, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (err) {
		snprintf(errstr, errstr_size, "subscribe: %s", rd_kafka_err2str(err));
		return -1;
	}
	if (queue_event(d, d->cq, d->cq_pipe, &d->cq_ev, on_consumer_queue) != 0) {
		snprintf(errstr, errstr_size, "cannot watch the consumer queue: %s", strerror(errno));
		return -1;
	}
	int64_t ms = d->cfg.settings.commit_interval_ms > 0 ? d->cfg.settings.commit_interval_ms : 1000;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	event_add(d->tick_ev, &tv);
	event_active(d->cq_ev, EV_READ, 0); /* records may already be queued */
	d->started = true;
	sd_notify(0, "READY=1");
	fd_log(FD_LOG_NOTICE, "funneld running: group %s, commit interval %" PRId64 " ms",
	       d->cfg.settings.group_id, ms);
	return 0;
}

void fd_daemon_stop(fd_daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	sd_notify(0, "STOPPING=1");
	if (d->cq_ev)
		event_del(d->cq_ev);
	if (d->started && !d->fatal)
		drain(d);
	if (d->started) {
		rd_kafka_resp_err_t err = rd_kafka_consumer_close(d->consumer);
		if (err)
			fd_log(FD_LOG_WARNING, "consumer close: %s", rd_kafka_err2str(err));
	}
	if (d->tick_ev)
		event_del(d->tick_ev);
	if (d->deadline_ev)
		event_del(d->deadline_ev);
	if (d->restore_ev)
		event_del(d->restore_ev);
	d->stopped = true;
	fd_log(FD_LOG_NOTICE, "stopped: %" PRIu64 " records in, %" PRIu64 " out (%" PRIu64
	       " dead letters), %" PRIu64 " commits", d->stats.consumed, d->stats.produced,
	       d->stats.dead_letters, d->stats.commits);
	event_base_loopexit(d->base, NULL);
}

bool fd_daemon_stopped(const fd_daemon *d)
{
	return d->stopped;
}

int fd_daemon_exit_code(const fd_daemon *d)
{
	return d->fatal ? (d->exit_code ? d->exit_code : 1) : d->exit_code;
}

int fd_daemon_admin_port(const fd_daemon *d)
{
	return d->admin ? fd_admin_port(d->admin) : -1;
}

fd_engine *fd_daemon_engine(fd_daemon *d)
{
	return d->engine;
}

void fd_daemon_stats_get(const fd_daemon *d, fd_daemon_stats *s)
{
	*s = d->stats;
}

void fd_daemon_free(fd_daemon *d)
{
	if (!d)
		return;
	for (int i = 0; i < 3; i++)
		if (d->sig_ev[i])
			event_free(d->sig_ev[i]);
	if (d->cq_ev)
		event_free(d->cq_ev);
	if (d->pq_ev)
		event_free(d->pq_ev);
	if (d->tick_ev)
		event_free(d->tick_ev);
	if (d->deadline_ev)
		event_free(d->deadline_ev);
	if (d->restore_ev)
		event_free(d->restore_ev);
	fd_admin_free(d->admin);
	free(d->restore_queue);
	free(d->restored);
	if (d->cq) {
		rd_kafka_queue_io_event_enable(d->cq, -1, NULL, 0);
		rd_kafka_queue_destroy(d->cq);
	}
	if (d->pq) {
		rd_kafka_queue_io_event_enable(d->pq, -1, NULL, 0);
		rd_kafka_queue_destroy(d->pq);
	}
	if (d->consumer) {
		/* librdkafka 2.0.2 (Debian 12) asserts when a cooperative-sticky
		 * consumer that never got an assignment is destroyed (upstream
		 * issue 4312, fixed in 2.3.0). It was closed above (it left the
		 * group); the rest of its memory goes with the process. */
		if (d->ever_assigned || !d->started)
			rd_kafka_destroy(d->consumer);
		else
			fd_log(FD_LOG_DEBUG, "consumer never assigned: not destroyed (librdkafka 2.0.2 bug)");
	}
	if (d->producer) {
		rd_kafka_flush(d->producer, d->fatal ? 0 : 10 * 1000);
		rd_kafka_destroy(d->producer);
	}
	for (int i = 0; i < 2; i++) {
		if (d->cq_pipe[i] >= 0)
			close(d->cq_pipe[i]);
		if (d->pq_pipe[i] >= 0)
			close(d->pq_pipe[i]);
	}
	for (int i = 0; i < BATCH; i++)
		fd_wire_arena_free(d->arenas[i]);
	fd_changelog_free(d->changelog);
	for (size_t i = d->head_deferred; i < d->n_deferred; i++) {
		free(d->deferred[i].key);
		free(d->deferred[i].value);
	}
	free(d->deferred);
	fd_table_free(d->dirty);
	if (d->undo) {
		clear_undo(d);
		fd_table_free(d->undo);
	}
	fd_wire_arena_free(d->undo_arena);
	free(d->scratch);
	free(d->rewind);
	fd_epochs_free(d->epochs);
	fd_engine_free(d->engine);
	for (size_t i = 0; i < d->n_overrides; i++)
		free(d->overrides[i]);
	free(d->overrides);
	free(d);
}

int fd_daemon_run(const fd_config *cfg, const char *config_path,
                  const char *const *overrides, size_t n_overrides)
{
	char err[1024];
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	if (!base) {
		fd_log(FD_LOG_CRIT, "libevent: cannot create the event loop");
		return 1;
	}
	fd_daemon_options opt = { .cfg = cfg, .base = base, .clock = fd_clock_wall(),
		                      .handle_signals = true, .config_path = config_path,
		                      .overrides = overrides, .n_overrides = n_overrides };
	fd_daemon *d = fd_daemon_new(&opt, err, sizeof err);
	if (!d) {
		fd_log(FD_LOG_CRIT, "%s", err);
		event_base_free(base);
		return 1;
	}
	int rc;
	if (fd_daemon_start(d, -1, err, sizeof err) != 0) {
		fd_log(FD_LOG_CRIT, "refusing to run: %s", err);
		rc = 1;
	} else {
		event_base_dispatch(base);
		rc = fd_daemon_exit_code(d);
	}
	fd_daemon_free(d);
	event_base_free(base);
	return rc;
}
