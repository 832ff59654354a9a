/*
 * daemon.c — `funneld run`: the engine between the Kafka layer's consumer
 * and producer, on a libevent loop (see daemon.h).
 *
 * Flow of one input record: the consumer decodes it (per-topic encoding) →
 * the engine applies it → every output goes to the producer with the open
 * epoch's token → the record's offset is noted in the epoch. Bad input
 * (undecodable, no lead id, refused by the lifecycle, lead cap) goes to the
 * dead-letter topic untouched and counts as an output of the epoch like any
 * other: its offset is committed only once the dead letter is durable.
 *
 * Loop events: the consumer queue and the producer's main queue wake the
 * loop through io-event pipes (never a blocking poll); a timer fires due SLA
 * deadlines; one housekeeping tick per commit interval fires timers, closes
 * the epoch, commits what is committable and pets the systemd watchdog; a
 * restore timer restores assigned partitions in bounded steps; signals
 * drain, stop and reload.
 *
 * exactly_once commits without waiting (txn.h): from the tick that starts
 * a commit until it completes, no input is read and no deadline fires
 * (their outputs would land in a transaction whose offsets are fixed);
 * the admin server, signals, restores and the tick go on. The commit
 * advances when the offsets thread's pipe is readable, when delivery
 * reports arrive, and on a short timer. A commit in flight for longer than
 * the transaction timeout stops the watchdog pings and turns /healthz to
 * 503: the coordinator has aborted that transaction by then, and the loop
 * turning is no sign of health.
 *
 * What it is not: no Kafka client code (src/kafka), no decoding (src/wire),
 * no decisions (src/engine).
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <systemd/sd-daemon.h>

#include "base/hist.h"
#include "base/log.h"
#include "base/ratelimit.h"
#include "base/route.h"
#include "daemon/admin.h"
#include "daemon/observe.h"
#include "daemon/reload.h"
#include "kafka/changelog.h"
#include "kafka/commit.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/restore.h"
#include "kafka/txn.h"

#define BATCHES_PER_WAKE 16        /* then yield to the loop */
#define PREFETCH_AHEAD 8           /* inputs whose leads are prefetched ahead */
#define DEADLINE_TIMER_MAX_MS 3600e3 /* re-arm at least hourly (the clock may jump) */
#define DEFAULT_TICK_MS 1000
#define DRAIN_POLL_MS 50
#define START_RETRY_MS 1000        /* between start attempts while brokers are away */
#define START_METADATA_MS 2000     /* the first attempt's metadata request waits this long, */
#define START_METADATA_MAX_MS 30000 /* doubling after each failed attempt up to this (a slow
                                       broker's round trips must fit in one attempt) */
#define START_LOG_MS 30000         /* "waiting for the brokers" again after this long */
#define START_STOP_WAIT_S 1        /* a stop waits this long for a start attempt in flight */
#define LEAD_CAP_LOG_MS 10000      /* the lead-cap line, at most this often */
#define MISROUTED_LOG_MS 60000     /* a misrouted-input line, at most this often */
#define MIGRATE_RETRY_MS 100       /* a reload's move that ran out of memory tries again */
#define OUTQ_DEFAULT 100000        /* librdkafka's queue.buffering.max.messages */
#define COMMIT_POLL_MS 20          /* exactly_once: between two steps of a commit in flight */
#define TIMED_MAX 16               /* events whose callbacks are timed (turn histogram) */

/* One of the daemon's event callbacks, timed: the loop's turn histogram
 * records how long each ran (the time the loop could not look at anything
 * else). */
typedef struct timed_cb {
	struct fd_daemon *d;
	event_callback_fn fn;
} timed_cb;

struct fd_daemon {
	fd_config cfg;              /* a copy; the Kafka property list is not kept */
	fd_clock clock;
	struct event_base *base;
	fd_sink tap;
	char config_path[1024];
	char **overrides;
	size_t n_overrides;

	fd_engine *engine;
	fd_kafka *k;

	int cq_pipe[2], pq_pipe[2];
	rd_kafka_queue_t *cq, *pq;
	struct event *cq_ev, *more_ev, *wake_ev, *pq_ev, *tick_ev, *deadline_ev, *restore_ev;
	struct event *migrate_ev;   /* a reload's move of the leads, a batch per turn */
	struct event *emit_ev;      /* at-least-once: the closed epoch's records, a step per turn */
	int64_t migrate_started;    /* monotonic ms */
	struct event *txn_ev, *commit_ev; /* exactly_once: the offsets thread's pipe, the steps */
	struct event *sig_ev[3];
	fd_admin *admin;
	/* start without blocking the loop (fd_daemon_start_async): each attempt
	 * (metadata, changelog topic, transactions) runs on a thread of its
	 * own, which writes a byte to start_pipe when done */
	struct event *start_ev, *start_done_ev;
	int start_pipe[2];
	pthread_t start_thread;
	bool start_running;         /* an attempt is on its thread */
	bool start_failed;          /* refused to start: exit 1 */
	int start_rc;               /* the attempt's answer (see start_attempt) */
	int start_metadata_ms;      /* the next attempt's metadata timeout */
	char start_err[512];
	char waiting[832];          /* /readyz and STATUS= while starting */
	char bootstrap[256];        /* bootstrap.servers, for those messages */
	int64_t start_logged_at;    /* monotonic ms of the last "waiting" line */
	timed_cb timed[TIMED_MAX];  /* what each event runs (see timed()) */
	size_t n_timed;
	fd_hist turns;              /* how long each callback held the loop */
	fd_observe observe;         /* per input record: its time, its event's age */
	const fd_input *applying;   /* the input being applied (log fields), or NULL */

	bool started, stopping, stopped;
	bool incomplete;            /* the drain gave up: exit non-zero */
	int64_t last_full_log;
	fd_ratelimit misrouted_log; /* per input topic and reason */
	/* backpressure: inputs are not read while the producer holds more than
	 * outq_high records (delivery reports pending), again below outq_low */
	size_t outq_high, outq_low;
	bool held;
	bool commit_stalled;        /* exactly_once: a commit in flight longer than the
	                               transaction timeout (logged once) */
	char health[160];           /* why /healthz says 503 */
};

/* Records the producer holds: in librdkafka's queue (delivery reports
 * pending) and in its overflow. */
static size_t outq(const fd_daemon *d)
{
	return (size_t)rd_kafka_outq_len(d->k->producer) + fd_producer_overflow(d->k);
}

static int64_t now_ms(const fd_daemon *d)
{
	return d->clock.now(d->clock.ctx);
}

static void timeval_ms(struct timeval *tv, int64_t ms)
{
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

/* ---- the engine's outputs ---------------------------------------------------------- */

static void on_transition(void *ctx, const fd_transition *t)
{
	fd_daemon *d = ctx;
	fd_producer_transition(d->k, t);
	/* an input's partition and topic; a deadline's transition has neither */
	const fd_input *in = d->applying;
	fd_log_fields f = { t->lead_id, fd_stage_name(t->to_stage), fd_trigger_name(t->trigger),
		                in ? in->msg->partition : -1,
		                in ? rd_kafka_topic_name(in->msg->rkt) : NULL };
	fd_log_lead(FD_LOG_INFO, &f, "%s -> %s (%s%s%s)", fd_stage_name(t->from_stage),
	            fd_stage_name(t->to_stage), fd_trigger_name(t->trigger), *t->reason ? ": " : "",
	            t->reason);
	if (d->tap.transition)
		d->tap.transition(d->tap.ctx, t);
}

static void on_sla(void *ctx, const fd_sla_event *e)
{
	fd_daemon *d = ctx;
	fd_producer_sla(d->k, e);
	if (d->tap.sla)
		d->tap.sla(d->tap.ctx, e);
}

static void on_lead_changed(void *ctx, const char *lead_id)
{
	fd_daemon *d = ctx;
	fd_changelog_mark(d->k->changelog, lead_id);
}

static void on_before_change(void *ctx, const char *lead_id, bool exists)
{
	fd_daemon *d = ctx;
	if (d->k->eos)
		fd_txn_before_change(d->k, d->engine, lead_id, exists);
	fd_changelog_before_change(d->k->changelog, d->engine, lead_id);
}

static void on_score(void *ctx, const fd_lead_view *v)
{
	fd_daemon *d = ctx;
	fd_producer_score(d->k, v);
}

static fd_sink engine_sink(fd_daemon *d)
{
	fd_sink s = { on_transition, on_sla, on_lead_changed, d, on_before_change, on_score };
	return s;
}

/* ---- timers ------------------------------------------------------------------------ */

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
	if (delay > DEADLINE_TIMER_MAX_MS)
		delay = DEADLINE_TIMER_MAX_MS;
	struct timeval tv;
	timeval_ms(&tv, (int64_t)delay);
	evtimer_add(d->deadline_ev, &tv);
}

static void fire_due(fd_daemon *d)
{
	/* while a partition is being restored, a lead may still be replaced by
	 * a newer changelog record: no deadline fires before that is over; nor
	 * while a transaction commits (its outputs would join it too late) */
	if (d->k->stats.restoring > 0 || fd_txn_committing(d->k))
		return;
	fd_sink sink = engine_sink(d);
	fd_engine_advance(d->engine, now_ms(d), &sink);
	schedule_deadline(d);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fire_due(arg);
}

/* at-least-once: a step of the closed epoch's LeadScores and state
 * records, while the producer has room (its queue's event comes back) */
static void write_step(fd_daemon *d)
{
	fd_kafka *k = d->k;
	if (d->stopping || !fd_changelog_emitting(k->changelog) || outq(d) >= d->outq_high)
		return;
	if (fd_changelog_emit(k->changelog, d->engine, FD_CHANGELOG_EMIT_STEP) > 0) {
		static const struct timeval now = { 0, 0 };
		evtimer_add(d->emit_ev, &now);
		return;
	}
	fd_commit_ready(k, false);
}

static void on_emit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	write_step(arg);
}

/* at-least-once: close the open epoch (its records are written from the
 * next turn on) and commit what is acknowledged */
static void close_and_commit(fd_daemon *d)
{
	fd_kafka *k = d->k;
	fd_producer_flush(k);
	/* while the brokers acknowledge nothing (an outage), intervals past
	 * the bound stay in the open epoch: one more interval's positions and
	 * a changed-lead set that cannot outgrow the leads, instead of a new
	 * epoch and a queue of state records every tick. Under backpressure
	 * too: the scores and states would only fill the producer's queue.
	 * And while the last closed epoch is still being written */
	if (!d->held &&
	    fd_epochs_closed(k->epochs) < (size_t)d->cfg.settings.max_pending_intervals &&
	    fd_changelog_close_epoch(k->changelog, d->engine))
		write_step(d);
	rd_kafka_poll(k->producer, 0);
	fd_changelog_release(k->changelog);
	fd_commit_ready(k, false);
}

/* exactly_once: advance the commit in flight; once it completed (or
 * aborted), read input and fire deadlines again. The drain finishes a
 * commit itself when stopping. */
static void commit_progress(fd_daemon *d)
{
	fd_kafka *k = d->k;
	if (d->stopping || !fd_txn_committing(k))
		return;
	fd_txn_commit_step(k, d->engine, true);
	if (k->failed) {
		fd_daemon_stop(d);
		return;
	}
	if (fd_txn_committing(k)) {
		/* writing the epoch's records: the next step after one turn;
		 * otherwise the brokers are waited for */
		struct timeval tv;
		timeval_ms(&tv, fd_txn_writing(k) ? 0 : COMMIT_POLL_MS);
		if (fd_txn_writing(k) || !evtimer_pending(d->commit_ev, NULL))
			evtimer_add(d->commit_ev, &tv);
		return;
	}
	static const struct timeval now = { 0, 0 };
	evtimer_del(d->commit_ev);
	d->commit_stalled = false;
	fire_due(d);
	evtimer_add(d->more_ev, &now);
}

static void on_commit_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	commit_progress(arg);
}

static void drain_pipe(int fd);

static void on_offsets_sent(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	drain_pipe(fd);
	commit_progress(arg);
}

/* A commit in flight longer than the transaction timeout: the coordinator
 * aborted that transaction, librdkafka has not said so yet (a broker that
 * does not answer). Not healthy, though the loop turns. */
static bool commit_stalled(fd_daemon *d)
{
	int64_t age = fd_txn_commit_age_ms(d->k);
	if (age <= FD_TXN_TIMEOUT_MS)
		return false;
	if (!d->commit_stalled) {
		fd_log(FD_LOG_ERR, "the transaction has been committing for %" PRId64 " s, longer than "
		       "its timeout: /healthz answers 503 and the watchdog is no longer notified",
		       age / 1000);
		d->commit_stalled = true;
	}
	return true;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fd_daemon *d = arg;
	if (d->stopped)
		return;
	if (d->k->eos) {
		if (fd_txn_committing(d->k)) {
			commit_progress(d);
		} else {
			fire_due(d);
			if (fd_txn_commit_start(d->k, d->engine, !d->stopping))
				commit_progress(d);
		}
	} else {
		fire_due(d);
		close_and_commit(d);
	}
	if (d->k->failed)
		fd_daemon_stop(d);
	if (!d->stopped && !commit_stalled(d))
		sd_notify(0, "WATCHDOG=1");
}

/* Fire due deadlines, close the open epoch, wait (bounded) until every
 * output and state record is acknowledged, then commit synchronously
 * (exactly_once: commit the transaction). */
static void drain(fd_daemon *d)
{
	fd_kafka *k = d->k;
	if (d->incomplete)
		return; /* a drain gave up already (a stop, then its revoke): no second wait */
	int64_t t0 = fd_clock_monotonic_ms();
	fire_due(d); /* not while a commit is in flight: that commit is the drain's */
	if (k->eos) {
		/* finish the commit in flight, or commit now; bounded. A revoke
		 * is served by the consumer's poll, which consume() does not call
		 * while a commit is in flight, or by its close, after the stop's
		 * own drain: so it finds no commit in flight today, and would
		 * finish one before returning if it did */
		if (fd_txn_commit(k, d->engine, !d->stopping, d->cfg.settings.shutdown_timeout_ms) == 0 ||
		    k->failed)
			return;
		if (d->stopping) {
			/* not committed: its inputs are read again after the restart */
			d->incomplete = true;
			k->abandon = true;
		} else if (fd_txn_committing(k)) {
			/* a revoke: the offsets of the partitions leaving may still
			 * commit after it returned; never go on from there */
			fd_kafka_fail(k, FD_LOG_CRIT, "rebalance: the transaction did not commit within "
			              "processing.shutdown_timeout; stopping");
		} else {
			/* a revoke: nothing of the partitions leaving may commit later
			 * without their offsets */
			fd_txn_abort(k, d->engine, true);
		}
		return;
	}
	/* the last closed epoch's records, then the open epoch's, only while
	 * the producer's queue has room: never wait on it */
	fd_changelog *cl = k->changelog;
	bool closed = false;
	while (!k->failed) {
		if (outq(d) < d->outq_high) {
			fd_changelog_emit(cl, d->engine, FD_CHANGELOG_EMIT_STEP);
			if (!closed && !fd_changelog_emitting(cl))
				closed = fd_changelog_close_epoch(cl, d->engine);
			fd_changelog_release(cl);
		}
		if (closed && !fd_changelog_emitting(cl) && fd_epochs_pending(k->epochs) == 0 &&
		    fd_changelog_deferred(cl) == 0)
			break;
		if (fd_clock_monotonic_ms() - t0 > d->cfg.settings.shutdown_timeout_ms) {
			fd_log(FD_LOG_ERR, "drain: %" PRIu64 " outputs still unacknowledged after %" PRId64
			       " ms (processing.shutdown_timeout)%s; their inputs stay uncommitted",
			       fd_epochs_pending(k->epochs), d->cfg.settings.shutdown_timeout_ms,
			       closed ? "" : ", the last interval not written for a full queue");
			d->incomplete = true;
			k->abandon = true;
			break;
		}
		if (fd_changelog_emitting(cl) && outq(d) < d->outq_high)
			continue; /* more to write, room for it */
		rd_kafka_poll(k->producer, DRAIN_POLL_MS);
		fd_producer_flush(k);
	}
	/* what is acknowledged is committed; after a timeout without waiting
	 * for the answer (the consumer's close sends it) */
	fd_commit_ready(k, !d->incomplete);
}

/* ---- input ------------------------------------------------------------------------- */

static void lead_cap_reached(fd_daemon *d)
{
	fd_kafka *k = d->k;
	k->stats.refused_full++;
	int64_t t = now_ms(d);
	if (t - d->last_full_log < LEAD_CAP_LOG_MS)
		return;
	d->last_full_log = t;
	fd_log(FD_LOG_ERR, "lead cap of %" PRId64 " reached: new leads go to dead letters (%" PRIu64
	       " refused so far)", d->cfg.settings.max_leads, k->stats.refused_full);
}

/* Is the record on the partition its lead lives on (base/route.h)? Counted
 * and logged (rate-limited, without the id) when not; false when the
 * policy makes it a dead letter (written here). */
static bool routed(fd_daemon *d, const fd_input *in)
{
	fd_kafka *k = d->k;
	const rd_kafka_message_t *m = in->msg;
	const fd_settings *cfg = &d->cfg.settings;
	int32_t partitions = fd_consumer_partitions(k);
	fd_misroute r = fd_route_check(cfg->partitioner, m->key, m->key_len, in->lead_id,
	                               m->partition, partitions);
	if (r == FD_ROUTE_OK)
		return true;
	k->stats.misrouted[in->topic][r]++;
	char why[256];
	if (r == FD_ROUTE_WRONG_PARTITION)
		snprintf(why, sizeof why, "misrouted: its key hashes (%s) to partition %" PRId32
		         " of %" PRId32 ", not %" PRId32,
		         fd_route_partitioner_name(cfg->partitioner),
		         fd_route_partition(cfg->partitioner, m->key, m->key_len, partitions), partitions,
		         m->partition);
	else
		snprintf(why, sizeof why, "misrouted: %s",
		         r == FD_ROUTE_NO_KEY ? "no key (inputs are keyed by lead id)"
		                              : "its key is not its lead id");
	bool dead = cfg->misrouted == FD_MISROUTED_DEAD_LETTER;
	char key[128];
	snprintf(key, sizeof key, "%s %s", rd_kafka_topic_name(m->rkt), fd_route_reason_name(r));
	uint64_t held = 0;
	if (fd_ratelimit_allow(&d->misrouted_log, key, fd_clock_monotonic_ms(), &held)) {
		char more[96] = "";
		if (held > 0)
			snprintf(more, sizeof more, " (and %" PRIu64 " more like it in the last %d s)", held,
			         MISROUTED_LOG_MS / 1000);
		fd_log(FD_LOG_WARNING, "%s [%" PRId32 "] offset %" PRId64 ": %s; %s%s "
		       "(processing.partitioner, processing.misrouted)",
		       rd_kafka_topic_name(m->rkt), m->partition, m->offset, why,
		       dead ? "sent to the dead letters" : "applied all the same", more);
	}
	if (dead)
		fd_producer_dead_letter_as(k, m, FD_DL_MISROUTED, why);
	return !dead;
}

/* The record's event time as the engine saw it (0: none or undecodable). */
static int64_t input_event_ms(const fd_input *in)
{
	if (in->decoded != 0)
		return 0;
	switch (in->topic) {
	case FD_IN_ENGAGEMENT: return in->ev.occurred_at_ms;
	case FD_IN_PROFILES: return in->profile.updated_at_ms;
	case FD_IN_ACTIVITIES: return in->activity.occurred_at_ms;
	default: return 0;
	}
}

static void apply(fd_daemon *d, const fd_input *in, int64_t now)
{
	fd_kafka *k = d->k;
	const rd_kafka_message_t *m = in->msg;
	int64_t t0 = fd_clock_monotonic_us();
	uint64_t handed = k->handed;
	d->applying = in;
	k->stats.consumed++;
	if (in->decoded != 0) {
		fd_producer_dead_letter_as(k, m, FD_DL_UNDECODABLE,
		                           in->reason[0] ? in->reason : "undecodable record");
	} else if (!routed(d, in)) {
		; /* a dead letter already */
	} else {
		char err[256] = "";
		fd_sink sink = engine_sink(d);
		fd_status st = FD_OK;
		switch (in->topic) {
		case FD_IN_ENGAGEMENT:
			st = fd_engine_engagement(d->engine, &in->ev, now, &sink, err, sizeof err);
			break;
		case FD_IN_PROFILES:
			st = fd_engine_profile(d->engine, &in->profile, now, &sink, err, sizeof err);
			break;
		case FD_IN_ACTIVITIES:
			st = fd_engine_activity(d->engine, &in->activity, now, &sink, err, sizeof err);
			break;
		}
		if (st == FD_ERR_FULL)
			lead_cap_reached(d);
		if (st < 0) {
			char reason[320];
			snprintf(reason, sizeof reason, "%s: %s",
			         st == FD_ERR_REFUSED ? "refused" : st == FD_ERR_FULL ? "lead cap" : "invalid",
			         err);
			fd_producer_dead_letter_as(k, m,
			                           st == FD_ERR_REFUSED ? FD_DL_REFUSED
			                           : st == FD_ERR_FULL  ? FD_DL_LEAD_CAP
			                                                : FD_DL_INVALID,
			                           reason);
		}
	}
	if (k->eos)
		fd_txn_input(k, in->topic, m->partition, m->offset);
	fd_epochs_input(k->epochs, in->topic, m->partition, m->offset);
	d->applying = NULL;
	bool outputs = k->handed != handed;
	fd_observe_record(&d->observe, input_event_ms(in), rd_kafka_message_timestamp(m, NULL),
	                  outputs, in->decode_us + fd_clock_monotonic_us() - t0,
	                  outputs ? now_ms(d) : now);
}

/* Does the producer hold too much to take more input? Inputs stay in
 * Kafka (and in the consumer's bounded prefetch) instead of the loop
 * waiting on a full producer queue. */
static bool held_back(fd_daemon *d)
{
	size_t q = outq(d);
	if (!d->held && q >= d->outq_high) {
		d->held = true;
		fd_log(FD_LOG_NOTICE, "backpressure: %zu records wait for the brokers; reading inputs "
		       "paused until %zu", q, d->outq_low);
	}
	return d->held;
}

/* Nothing to apply now. A partition whose records wait for a lagging input
 * (the event-time merge) goes on without it when the wait runs out, even
 * if nothing else is read meanwhile: a timer comes back then. */
static void wait_for_input(fd_daemon *d)
{
	int64_t at = fd_consumer_wake_at(d->k);
	if (at == INT64_MAX)
		return;
	int64_t delay = at - fd_clock_monotonic_ms();
	struct timeval tv;
	timeval_ms(&tv, delay > 0 ? delay : 0);
	evtimer_add(d->wake_ev, &tv);
}

static void consume(fd_daemon *d)
{
	fd_kafka *k = d->k;
	for (int round = 0; round < BATCHES_PER_WAKE && !d->stopping; round++) {
		if (fd_txn_committing(k))
			return; /* commit_progress comes back */
		if (held_back(d))
			return; /* on_producer_queue comes back */
		fd_input **batch;
		size_t n = fd_consumer_read(k, &batch);
		if (n == 0) {
			wait_for_input(d);
			return;
		}
		int64_t now = now_ms(d);
		/* lookups for the next records are prefetched while applying */
		for (size_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
			if (batch[i]->lead_id)
				fd_engine_prefetch(d->engine, batch[i]->lead_id, 1);
		fd_sink sink = engine_sink(d);
		for (size_t i = 0; i < n; i++) {
			if (i + PREFETCH_AHEAD < n && batch[i + PREFETCH_AHEAD]->lead_id)
				fd_engine_prefetch(d->engine, batch[i + PREFETCH_AHEAD]->lead_id, 1);
			/* deadlines already due fire before the next input, never
			 * depending on where a batch happens to end (replays see the
			 * same order) */
			if (fd_engine_next_deadline(d->engine) <= now && k->stats.restoring == 0)
				fd_engine_advance(d->engine, now, &sink);
			apply(d, batch[i], now);
			fd_consumer_done(k, i);
		}
		fire_due(d);
		if (k->failed) {
			fd_daemon_stop(d);
			return;
		}
	}
	/* more may be waiting: come back after other events had their turn.
	 * Not event_active(): libevent runs an event activated from a callback
	 * in the same pass, before it polls again, so timers, signals and the
	 * admin server would wait until the queue is empty. A zero timeout is
	 * taken after the next poll. */
	static const struct timeval now = { 0, 0 };
	evtimer_add(d->more_ev, &now);
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fd_daemon *d = arg;
	if (!d->stopping)
		consume(d);
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
	rd_kafka_poll(d->k->producer, 0);
	fd_producer_flush(d->k); /* delivery reports made room */
	if (d->held && outq(d) <= d->outq_low) {
		static const struct timeval now = { 0, 0 };
		d->held = false;
		fd_log(FD_LOG_NOTICE, "backpressure: released; reading inputs again");
		if (!d->stopping)
			evtimer_add(d->more_ev, &now);
	}
	if (!d->stopped && !d->k->eos) {
		fd_changelog_release(d->k->changelog);
		fd_commit_ready(d->k, false);
		if (!evtimer_pending(d->emit_ev, NULL))
			write_step(d); /* room again for the closed epoch's records */
	}
	if (!d->stopped && fd_txn_committing(d->k))
		commit_progress(d); /* the last acknowledgement may have come */
	if (d->k->failed && !d->stopping)
		fd_daemon_stop(d);
}

/* ---- rebalance and restore ---------------------------------------------------------- */

static void schedule_restore(fd_daemon *d, int delay_ms)
{
	struct timeval tv;
	timeval_ms(&tv, delay_ms);
	evtimer_add(d->restore_ev, &tv);
}

static void on_assigned(void *ctx)
{
	schedule_restore(ctx, 0);
}

static void on_revoked(void *ctx, const int32_t *partitions, size_t n, bool lost)
{
	fd_daemon *d = ctx;
	fd_kafka *k = d->k;
	if (!lost && !k->failed)
		drain(d);
	else if (lost && k->eos && k->in_txn)
		fd_txn_abort(k, d->engine, !d->stopping); /* nothing of the lost partitions may commit */
	for (size_t i = 0; i < n; i++) {
		if (fd_restore_forget(k, partitions[i]))
			schedule_restore(d, 0);
		fd_kafka_drop_partition(k, d->engine, partitions[i]);
	}
}

/* One slice of restore work, then back to the loop. Once every assigned
 * partition is back, deadlines that passed while nobody owned these leads
 * fire, once, then all of them resume together. */
static void on_restore(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fd_daemon *d = arg;
	if (d->stopping)
		return;
	switch (fd_restore_work(d->k, d->engine)) {
	case FD_RESTORE_FAILED:
		fd_daemon_stop(d);
		return;
	case FD_RESTORE_IDLE:
		schedule_restore(d, FD_RESTORE_IDLE_MS);
		return;
	case FD_RESTORE_RETRY:
		schedule_restore(d, FD_RESTORE_RETRY_MS);
		return;
	case FD_RESTORE_MORE:
		schedule_restore(d, 0);
		return;
	case FD_RESTORE_DONE:
		if (fd_restore_restored(d->k->restore) > 0) {
			fire_due(d);
			fd_restore_resume(d->k);
		}
		return;
	}
}

/* ---- admin HTTP -------------------------------------------------------------------- */

static fd_engine *admin_engine(void *ctx)
{
	return ((fd_daemon *)ctx)->engine;
}

static void admin_stats(void *ctx, fd_kafka_stats *out)
{
	fd_daemon_stats_get(ctx, out);
}

static bool admin_ready(void *ctx)
{
	fd_daemon *d = ctx;
	return d->started && d->k->ever_assigned && d->k->stats.restoring == 0 && !d->stopping;
}

static const char *admin_status(void *ctx)
{
	fd_daemon *d = ctx;
	if (d->stopping)
		return "stopping";
	if (!d->started)
		return d->waiting[0] ? d->waiting : "starting: waiting for the brokers";
	if (!d->k->ever_assigned)
		return "waiting for a partition assignment";
	return fd_restore_status(d->k->restore);
}

static int64_t admin_now(void *ctx)
{
	return now_ms(ctx);
}

static const char *admin_unhealthy(void *ctx)
{
	fd_daemon *d = ctx;
	if (!commit_stalled(d))
		return NULL;
	snprintf(d->health, sizeof d->health, "the transaction has been committing for %" PRId64
	         " s (longer than its timeout)", fd_txn_commit_age_ms(d->k) / 1000);
	return d->health;
}

/* ---- reload and signals ------------------------------------------------------------ */

/* SIGHUP: validate the file first; on success move every lead into an
 * engine built on the new rules and swap, all or nothing. Settings that
 * need new Kafka clients (brokers, group, topics, guarantee) keep their old
 * values until a restart, and the log says so. */
static void admin_loop_turns(void *ctx, fd_hist *out)
{
	const fd_daemon *d = ctx;
	*out = d->turns;
}

static void admin_records(void *ctx, fd_hist *event_age, fd_hist *record_time)
{
	const fd_daemon *d = ctx;
	*event_age = d->observe.event_age;
	*record_time = d->observe.record_time;
}

static size_t admin_lag(void *ctx, const fd_lag_entry **out)
{
	const fd_daemon *d = ctx;
	*out = d->k->lag.entries;
	return d->k->lag.n;
}

static void reload(fd_daemon *d)
{
	char err[1024];
	if (!d->config_path[0]) {
		fd_log(FD_LOG_ERR, "SIGHUP: no configuration file to reload");
		return;
	}
	fd_config *fresh = calloc(1, sizeof *fresh);
	if (!fresh)
		return;
	fd_settings *cur = &d->cfg.settings, *next = &fresh->settings;
	if (fd_config_load(fresh, d->config_path, (const char *const *)d->overrides, d->n_overrides,
	                   err, sizeof err) != 0) {
		fd_log(FD_LOG_ERR, "SIGHUP: keeping the running configuration: %s", err);
		goto out;
	}
	fd_engine *engine = fd_reload_engine(d->engine, fresh, err, sizeof err);
	if (!engine) {
		fd_log(FD_LOG_ERR, "SIGHUP: %s; keeping the running configuration", err);
		goto out;
	}
	d->engine = engine; /* it owns the former engine, emptied batch by batch */
	if (strcmp(next->topics.engagement, cur->topics.engagement) != 0 ||
	    strcmp(next->topics.profiles, cur->topics.profiles) != 0 ||
	    strcmp(next->topics.activities, cur->topics.activities) != 0 ||
	    strcmp(next->group_id, cur->group_id) != 0 || next->guarantee != cur->guarantee)
		fd_log(FD_LOG_WARNING, "SIGHUP: topics, group and guarantee changes take effect at the "
		       "next restart");
	/* everything else applies now */
	d->cfg.rules = fresh->rules;
	cur->topics.engagement_encoding = next->topics.engagement_encoding;
	cur->topics.profiles_encoding = next->topics.profiles_encoding;
	cur->topics.activities_encoding = next->topics.activities_encoding;
	cur->lead_ttl_ms = next->lead_ttl_ms;
	cur->funnel_days = next->funnel_days;
	cur->max_leads = next->max_leads;
	cur->max_idle_ms = next->max_idle_ms;
	cur->max_lag_wait_ms = next->max_lag_wait_ms;
	cur->log_level = next->log_level;
	memcpy(cur->ce_source, next->ce_source, sizeof cur->ce_source);
	fd_log_init(next->log_level);
	cur->log_redact_ids = next->log_redact_ids;
	memcpy(cur->log_redact_key, next->log_redact_key, sizeof cur->log_redact_key);
	fd_log_set_redact(cur->log_redact_ids,
	                  cur->log_redact_key[0] ? cur->log_redact_key : cur->group_id);
	if (next->commit_interval_ms != cur->commit_interval_ms && d->started) {
		cur->commit_interval_ms = next->commit_interval_ms;
		struct timeval tv;
		timeval_ms(&tv, next->commit_interval_ms);
		event_add(d->tick_ev, &tv);
	}
	schedule_deadline(d);
	cur->reload_batch = next->reload_batch;
	fd_log(FD_LOG_NOTICE, "SIGHUP: %s reloaded; %zu leads move to the new rules in the "
	       "background (at once when touched)", d->config_path, fd_engine_migrating(d->engine));
	d->migrate_started = fd_clock_monotonic_ms();
	static const struct timeval now = { 0, 0 };
	evtimer_add(d->migrate_ev, &now);
out:
	fd_config_free(fresh);
	free(fresh);
}

/* A batch of a reload's move per turn of the loop, until every lead is
 * under the new rules. */
static void on_migrate(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fd_daemon *d = arg;
	if (d->stopping)
		return;
	size_t moved = fd_engine_migrate(d->engine, (size_t)d->cfg.settings.reload_batch);
	if (fd_engine_migrating(d->engine) == 0) {
		fd_log(FD_LOG_NOTICE, "reload: every lead is under the new rules (%" PRId64 " ms)",
		       fd_clock_monotonic_ms() - d->migrate_started);
		return;
	}
	struct timeval tv;
	timeval_ms(&tv, moved > 0 ? 0 : MIGRATE_RETRY_MS); /* none moved: out of memory */
	evtimer_add(d->migrate_ev, &tv);
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

/* ---- set-up ------------------------------------------------------------------------ */

static void timed(evutil_socket_t fd, short what, void *arg)
{
	timed_cb *t = arg;
	fd_daemon *d = t->d;
	int64_t t0 = fd_clock_monotonic_us();
	t->fn(fd, what, d);
	fd_hist_add(&d->turns, fd_clock_monotonic_us() - t0);
}

/* The argument for an event whose callback `fn` is to be timed. */
static timed_cb *timed_arg(fd_daemon *d, event_callback_fn fn)
{
	if (d->n_timed == TIMED_MAX)
		abort(); /* a new event without room: a programming error */
	timed_cb *t = &d->timed[d->n_timed++];
	t->d = d;
	t->fn = fn;
	return t;
}

/* Wake the loop when librdkafka queues something on q. */
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
	*ev = event_new(d->base, p[0], EV_READ | EV_PERSIST, timed, timed_arg(d, cb));
	return *ev && event_add(*ev, NULL) == 0 ? 0 : -1;
}

static int copy_options(fd_daemon *d, const fd_daemon_options *opt)
{
	d->cfg = *opt->cfg;
	d->cfg.settings.kafka_props = NULL; /* not owned: read from opt->cfg during new */
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
			return -1;
		for (size_t i = 0; i < opt->n_overrides; i++)
			if (!(d->overrides[d->n_overrides++] = strdup(opt->overrides[i])))
				return -1;
	}
	return 0;
}

static int watch_signals(fd_daemon *d)
{
	int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	for (int i = 0; i < 3; i++) {
		d->sig_ev[i] = evsignal_new(d->base, sigs[i], timed, timed_arg(d, on_signal));
		if (!d->sig_ev[i] || event_add(d->sig_ev[i], NULL) != 0)
			return -1;
	}
	return 0;
}

fd_daemon *fd_daemon_new(const fd_daemon_options *opt, bool *config_error, char *errstr,
                         size_t errstr_size)
{
	if (config_error)
		*config_error = false;
	fd_daemon *d = calloc(1, sizeof *d);
	if (d)
		fd_ratelimit_init(&d->misrouted_log, MISROUTED_LOG_MS);
	if (!d) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	d->cq_pipe[0] = d->cq_pipe[1] = d->pq_pipe[0] = d->pq_pipe[1] = -1;
	fd_observe_init(&d->observe);
	d->start_pipe[0] = d->start_pipe[1] = -1;
	if (copy_options(d, opt) != 0) {
		snprintf(errstr, errstr_size, "out of memory");
		goto fail;
	}
	/* the clients read the Kafka properties from the caller's config */
	d->cfg.settings.kafka_props = opt->cfg->settings.kafka_props;
	d->cfg.settings.n_kafka_props = opt->cfg->settings.n_kafka_props;
	fd_kafka_hooks hooks = { on_assigned, on_revoked, d };
	d->k = fd_kafka_new(&d->cfg.settings, d->clock, hooks, errstr, errstr_size);
	d->cfg.settings.kafka_props = NULL;
	d->cfg.settings.n_kafka_props = 0;
	if (!d->k)
		goto fail;
	size_t blen = sizeof d->bootstrap;
	if (rd_kafka_conf_get(rd_kafka_conf(d->k->consumer), "bootstrap.servers", d->bootstrap,
	                      &blen) != RD_KAFKA_CONF_OK)
		snprintf(d->bootstrap, sizeof d->bootstrap, "?");
	d->cq = rd_kafka_queue_get_consumer(d->k->consumer);
	d->pq = rd_kafka_queue_get_main(d->k->producer);
	/* reading stops at half the producer's queue, so batches and the
	 * scores and states of an interval fit in what is left; again at 1/4 */
	char buf[32];
	size_t len = sizeof buf, limit = OUTQ_DEFAULT;
	if (rd_kafka_conf_get(rd_kafka_conf(d->k->producer), "queue.buffering.max.messages", buf,
	                      &len) == RD_KAFKA_CONF_OK && strtoul(buf, NULL, 10) > 0)
		limit = strtoul(buf, NULL, 10);
	d->outq_high = limit / 2;
	d->outq_low = limit / 4;

	d->engine = fd_engine_new(&d->cfg.rules, 0);
	if (!d->engine) {
		snprintf(errstr, errstr_size, "out of memory");
		goto fail;
	}
	if (d->cfg.settings.max_leads > 0)
		fd_engine_set_max_leads(d->engine, (size_t)d->cfg.settings.max_leads);
	fd_engine_set_evict_scan(d->engine, (size_t)d->cfg.settings.ttl_scan);
	fd_engine_set_lead_ttl(d->engine, d->cfg.settings.lead_ttl_ms);
	fd_engine_set_funnel_days(d->engine, (int)d->cfg.settings.funnel_days);
	fd_engine_set_huge_pages(d->engine, d->cfg.settings.huge_pages);
	if (d->cfg.settings.guarantee == FD_EXACTLY_ONCE)
		fd_engine_partitions_save(d->engine); /* what an aborted transaction goes back to */
	d->tick_ev = event_new(d->base, -1, EV_PERSIST, timed, timed_arg(d, on_tick));
	d->deadline_ev = evtimer_new(d->base, timed, timed_arg(d, on_deadline));
	d->restore_ev = evtimer_new(d->base, timed, timed_arg(d, on_restore));
	d->more_ev = evtimer_new(d->base, timed, timed_arg(d, on_more));
	d->wake_ev = evtimer_new(d->base, timed, timed_arg(d, on_more));
	d->emit_ev = evtimer_new(d->base, timed, timed_arg(d, on_emit));
	d->migrate_ev = evtimer_new(d->base, timed, timed_arg(d, on_migrate));
	d->commit_ev = evtimer_new(d->base, timed, timed_arg(d, on_commit_step));
	if (!d->tick_ev || !d->deadline_ev || !d->restore_ev || !d->more_ev || !d->wake_ev ||
	    !d->migrate_ev ||
	    !d->commit_ev || !d->emit_ev) {
		snprintf(errstr, errstr_size, "libevent: cannot create timers");
		goto fail;
	}
	if (queue_event(d, d->pq, d->pq_pipe, &d->pq_ev, on_producer_queue) != 0) {
		snprintf(errstr, errstr_size, "cannot watch the producer queue: %s", strerror(errno));
		goto fail;
	}
	if (d->k->eos) {
		d->txn_ev = event_new(d->base, fd_txn_notify_fd(d->k), EV_READ | EV_PERSIST, timed,
		                      timed_arg(d, on_offsets_sent));
		if (!d->txn_ev || event_add(d->txn_ev, NULL) != 0) {
			snprintf(errstr, errstr_size, "libevent: cannot watch the transaction's offsets");
			goto fail;
		}
	}
	const fd_settings *s = &d->cfg.settings;
	if (s->admin_address[0]) {
		fd_admin_source src = { admin_engine, admin_stats,     admin_ready,      admin_status,
			                    admin_now,    admin_unhealthy, admin_loop_turns, d,
			                    admin_records, admin_lag };
		fd_admin_limits lim = { s->admin_max_connections, s->admin_request_timeout_ms };
		d->admin = fd_admin_new(d->base, s->admin_address, s->admin_port, &lim, &src, errstr,
		                        errstr_size);
		if (!d->admin) {
			if (config_error)
				*config_error = errno != ENOMEM && errno != EIO;
			goto fail;
		}
	}
	if (opt->handle_signals && watch_signals(d) != 0) {
		snprintf(errstr, errstr_size, "libevent: cannot watch signals");
		goto fail;
	}
	return d;
fail:
	fd_daemon_free(d);
	return NULL;
}

/* What must hold before the loop reads input: the input topics exist
 * co-partitioned, the changelog topic exists, the transactional producer
 * is registered. Blocking (broker round trips): the synchronous start, or
 * a thread of its own. 1: done; 0: no broker answered (retry; errstr says
 * why); -1: refused (errstr). */
static int start_attempt(fd_daemon *d, int metadata_ms, char *errstr, size_t errstr_size)
{
	fd_kafka *k = d->k;
	int rc = fd_consumer_check_topics(k, metadata_ms, errstr, errstr_size);
	if (rc <= 0)
		return rc;
	if (fd_changelog_ensure(k->changelog, fd_consumer_partitions(k), errstr, errstr_size) != 0)
		return -1;
	if (k->eos && fd_txn_init(k, errstr, errstr_size) != 0)
		return -1;
	return 1;
}

/* The brokers are there: subscribe and start the loop's work. */
static int finish_start(fd_daemon *d, char *errstr, size_t errstr_size)
{
	fd_kafka *k = d->k;
	if (fd_consumer_subscribe(k, errstr, errstr_size) != 0)
		return -1;
	if (queue_event(d, d->cq, d->cq_pipe, &d->cq_ev, on_consumer_queue) != 0) {
		snprintf(errstr, errstr_size, "cannot watch the consumer queue: %s", strerror(errno));
		return -1;
	}
	int64_t ms = d->cfg.settings.commit_interval_ms > 0 ? d->cfg.settings.commit_interval_ms
	                                                    : DEFAULT_TICK_MS;
	struct timeval tv;
	timeval_ms(&tv, ms);
	event_add(d->tick_ev, &tv);
	event_active(d->cq_ev, EV_READ, 0); /* records may already be queued */
	d->started = true;
	d->waiting[0] = '\0';
	sd_notify(0, "READY=1\nSTATUS=running");
	fd_log(FD_LOG_NOTICE, "funneld running: group %s, commit interval %" PRId64 " ms",
	       d->cfg.settings.group_id, ms);
	return 0;
}

int fd_daemon_start(fd_daemon *d, int timeout_ms, char *errstr, size_t errstr_size)
{
	int64_t t0 = fd_clock_monotonic_ms();
	for (;;) {
		int rc = start_attempt(d, START_METADATA_MS * 5, errstr, errstr_size);
		if (rc < 0)
			return -1;
		if (rc > 0)
			break;
		if (timeout_ms >= 0 && fd_clock_monotonic_ms() - t0 >= timeout_ms) {
			char why[512];
			snprintf(why, sizeof why, "%s", errstr);
			snprintf(errstr, errstr_size, "brokers not reachable after %d ms (%s)", timeout_ms,
			         why);
			return -1;
		}
		fd_log(FD_LOG_WARNING, "waiting for the brokers: %s", errstr);
		struct timespec pause = { START_RETRY_MS / 1000, 0 };
		nanosleep(&pause, NULL);
	}
	return finish_start(d, errstr, errstr_size);
}

/* ---- start without blocking the loop ------------------------------------------- */

static void *start_thread(void *arg)
{
	fd_daemon *d = arg;
	d->start_rc = start_attempt(d, d->start_metadata_ms, d->start_err, sizeof d->start_err);
	ssize_t n = write(d->start_pipe[1], "s", 1);
	(void)n;
	return NULL;
}

/* Run one attempt on its thread (signals stay with the loop's). */
static void on_start_attempt(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fd_daemon *d = arg;
	if (d->stopping || d->start_running)
		return;
	sd_notify(0, "WATCHDOG=1"); /* the loop is alive, waiting is not hanging */
	d->start_err[0] = '\0';
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&d->start_thread, NULL, start_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		fd_log(FD_LOG_WARNING, "cannot start a thread for the start attempt (%s): retrying",
		       strerror(rc));
		struct timeval tv;
		timeval_ms(&tv, START_RETRY_MS);
		evtimer_add(d->start_ev, &tv);
		return;
	}
	d->start_running = true;
}

/* Wait for the attempt in flight (a stop, or its answer). */
static void join_start(fd_daemon *d)
{
	if (!d->start_running)
		return;
	pthread_join(d->start_thread, NULL);
	d->start_running = false;
}

static void on_start_done(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	fd_daemon *d = arg;
	drain_pipe(fd);
	join_start(d);
	if (d->stopping)
		return;
	char err[512];
	if (d->start_rc > 0) {
		if (finish_start(d, err, sizeof err) == 0)
			return;
		d->start_rc = -1;
		snprintf(d->start_err, sizeof d->start_err, "%s", err);
	}
	if (d->start_rc < 0) {
		fd_log(FD_LOG_CRIT, "refusing to run: %s", d->start_err);
		d->start_failed = true;
		fd_daemon_stop(d);
		return;
	}
	snprintf(d->waiting, sizeof d->waiting, "starting: waiting for the brokers (%s): %s",
	         d->bootstrap, d->start_err);
	if (d->start_metadata_ms < START_METADATA_MAX_MS)
		d->start_metadata_ms *= 2; /* a broker too slow for the last one gets longer */
	sd_notifyf(0, "STATUS=%s", d->waiting);
	int64_t now = fd_clock_monotonic_ms();
	if (d->start_logged_at == 0 || now - d->start_logged_at >= START_LOG_MS) {
		fd_log(FD_LOG_WARNING, "%s; retrying every %d ms", d->waiting, START_RETRY_MS);
		d->start_logged_at = now;
	}
	struct timeval tv;
	timeval_ms(&tv, START_RETRY_MS);
	evtimer_add(d->start_ev, &tv);
}

int fd_daemon_start_async(fd_daemon *d, char *errstr, size_t errstr_size)
{
	if (pipe(d->start_pipe) != 0) {
		snprintf(errstr, errstr_size, "cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(d->start_pipe[i], F_SETFL, fcntl(d->start_pipe[i], F_GETFL) | O_NONBLOCK);
		fcntl(d->start_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	d->start_ev = evtimer_new(d->base, timed, timed_arg(d, on_start_attempt));
	d->start_done_ev = event_new(d->base, d->start_pipe[0], EV_READ | EV_PERSIST, timed,
	                             timed_arg(d, on_start_done));
	if (!d->start_ev || !d->start_done_ev || event_add(d->start_done_ev, NULL) != 0) {
		snprintf(errstr, errstr_size, "libevent: cannot watch the start");
		return -1;
	}
	d->start_metadata_ms = START_METADATA_MS;
	snprintf(d->waiting, sizeof d->waiting, "starting: connecting to the brokers (%s)",
	         d->bootstrap);
	/* started, for systemd, once the loop runs: signals, the admin server
	   and the watchdog are served from here on, and /readyz and STATUS=
	   say what it waits for. Brokers down at boot must not fail the unit
	   (nor hold `systemctl start` or a package's install) */
	sd_notifyf(0, "READY=1\nSTATUS=%s", d->waiting);
	static const struct timeval now = { 0, 0 };
	evtimer_add(d->start_ev, &now);
	return 0;
}

void fd_daemon_stop(fd_daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	sd_notify(0, "STOPPING=1");
	if (d->start_ev)
		event_del(d->start_ev); /* an attempt in flight is not waited for: see fd_daemon_run */
	if (d->cq_ev)
		event_del(d->cq_ev);
	if (d->more_ev)
		event_del(d->more_ev);
	if (d->wake_ev)
		event_del(d->wake_ev);
	if (d->started && !d->k->failed)
		drain(d);
	if (d->started)
		fd_consumer_close(d->k);
	if (d->tick_ev)
		event_del(d->tick_ev);
	if (d->deadline_ev)
		event_del(d->deadline_ev);
	if (d->restore_ev)
		event_del(d->restore_ev);
	if (d->migrate_ev)
		event_del(d->migrate_ev);
	if (d->commit_ev)
		event_del(d->commit_ev);
	if (d->txn_ev)
		event_del(d->txn_ev);
	d->stopped = true;
	const fd_kafka_stats *s = &d->k->stats;
	fd_log(FD_LOG_NOTICE, "stopped: %" PRIu64 " records in, %" PRIu64 " out (%" PRIu64
	       " dead letters), %" PRIu64 " commits", s->consumed, s->produced, s->dead_letters,
	       s->commits);
	event_base_loopexit(d->base, NULL);
}

bool fd_daemon_stopped(const fd_daemon *d)
{
	return d->stopped;
}

int fd_daemon_exit_code(const fd_daemon *d)
{
	return (d->k && d->k->failed) || d->incomplete || d->start_failed ? 1 : 0;
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
	*s = d->k->stats;
}

void fd_daemon_free(fd_daemon *d)
{
	if (!d)
		return;
	join_start(d);
	for (int i = 0; i < 3; i++)
		if (d->sig_ev[i])
			event_free(d->sig_ev[i]);
	struct event *evs[] = { d->cq_ev,       d->more_ev,    d->wake_ev,    d->pq_ev,      d->tick_ev,
		                d->deadline_ev, d->restore_ev, d->migrate_ev, d->txn_ev,
		                d->commit_ev,   d->emit_ev,    d->start_ev,   d->start_done_ev };
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i])
			event_free(evs[i]);
	fd_admin_free(d->admin);
	rd_kafka_queue_t *qs[] = { d->cq, d->pq };
	for (size_t i = 0; i < 2; i++)
		if (qs[i]) {
			rd_kafka_queue_io_event_enable(qs[i], -1, NULL, 0);
			rd_kafka_queue_destroy(qs[i]);
		}
	fd_kafka_free(d->k);
	for (int i = 0; i < 2; i++) {
		if (d->cq_pipe[i] >= 0)
			close(d->cq_pipe[i]);
		if (d->pq_pipe[i] >= 0)
			close(d->pq_pipe[i]);
		if (d->start_pipe[i] >= 0)
			close(d->start_pipe[i]);
	}
	fd_engine_free(d->engine);
	for (size_t i = 0; i < d->n_overrides; i++)
		free(d->overrides[i]);
	free(d->overrides);
	free(d);
}

#define FD_DAEMON_EXIT_CONFIG 78 /* EX_CONFIG, as main.c's configuration errors */

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
	bool config_error = false;
	fd_daemon *d = fd_daemon_new(&opt, &config_error, err, sizeof err);
	if (!d) {
		if (config_error)
			fd_log(FD_LOG_CRIT, "%s (admin.address, admin.port: 0 takes any free port, an "
			       "empty address turns the server off)", err);
		else
			fd_log(FD_LOG_CRIT, "%s", err);
		event_base_free(base);
		return config_error ? FD_DAEMON_EXIT_CONFIG : 1;
	}
	int rc;
	if (fd_daemon_start_async(d, err, sizeof err) != 0) {
		fd_log(FD_LOG_CRIT, "refusing to run: %s", err);
		rc = 1;
	} else {
		event_base_dispatch(base);
		rc = fd_daemon_exit_code(d);
	}
	if (d->start_running) {
		/* stopped while a start attempt waits for a broker (up to its
		 * metadata timeout, 30 s at most): nothing was read or written,
		 * so after a moment the process ends without it */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += START_STOP_WAIT_S;
		if (pthread_timedjoin_np(d->start_thread, NULL, &until) != 0) {
			fd_log(FD_LOG_NOTICE, "stopped while starting (a broker request left behind)");
			fflush(NULL);
			_exit(rc); /* the clients go with the process */
		}
		d->start_running = false;
	}
	fd_daemon_free(d);
	event_base_free(base);
	return rc;
}
