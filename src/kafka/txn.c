/*
 * txn.c — exactly_once transactions, pre-images and rollback, and the
 * asynchronous commit (see txn.h).
 */
#include "kafka/producer.h"
#include "kafka/txn.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/grow.h"
#include "base/log.h"
#include "base/table.h"
#include "funneld/wire.h"
#include "kafka/changelog.h"
#include "kafka/commit.h"
#include "kafka/consumer.h"

#define INIT_TIMEOUT_MS (60 * 1000)
#define SEND_OFFSETS_TIMEOUT_MS (30 * 1000)
#define ABORT_TIMEOUT_MS (60 * 1000)
#define REWIND_TIMEOUT_MS (10 * 1000)
#define RETRY_BACKOFF_MS 100       /* before sending offsets again after a retriable error */
#define WAIT_POLL_MS 20            /* fd_txn_commit: between looks at the offsets thread */
/* The loop's commit waits for the producer's queue to empty before it
 * calls commit_transaction (which would otherwise flush inside the call),
 * but not longer than this: after an abortable error that "requires an
 * epoch bump" (skipped sequence numbers) librdkafka keeps the records
 * until the transaction ends, so the queue never empties, and only
 * commit_transaction reports the error that aborts it. */
#define DELIVERY_WAIT_MS 1000
#define UNDO_FIRST 1024

typedef struct undo_rec {
	uint8_t *bytes;   /* encoded LeadState; NULL: the lead did not exist */
	size_t len;
} undo_rec;

/* Where a commit in flight stands (see txn.h). */
typedef enum commit_phase {
	PHASE_NONE = 0,   /* no commit in flight */
	PHASE_WRITE,      /* the closed epoch's LeadScores and state records, a step at a time */
	PHASE_OFFSETS,    /* the offsets thread sends the offsets (deliveries go on meanwhile) */
	PHASE_DELIVERY,   /* offsets in the transaction: waiting for the last acknowledgement */
	PHASE_END         /* rd_kafka_commit_transaction called, resumed until it answers */
} commit_phase;

/* The offsets thread's job. The loop's thread writes every field before
 * pthread_create and reads `error` after pthread_join; the thread itself
 * reads producer, offsets and md, writes error, then sets done and writes
 * a byte to notify[1]. Nothing else is shared. */
typedef struct offsets_job {
	pthread_t thread;
	bool running;                                /* started, not joined yet */
	atomic_bool done;                            /* the thread returned */
	rd_kafka_t *producer;
	const rd_kafka_topic_partition_list_t *offsets;
	const rd_kafka_consumer_group_metadata_t *md;
	rd_kafka_error_t *error;
	int notify[2];                               /* pipe: [0] watched by the loop */
} offsets_job;

struct fd_txn {
	fd_table *undo;            /* lead id -> pre-image */
	fd_wire_arena *arena;
	fd_lead_state *scratch;
	fd_position *rewind;       /* where each input partition stood at the start */
	size_t n_rewind, cap_rewind;
	/* the commit in flight */
	commit_phase phase;
	int64_t started_ms;        /* monotonic, when it began */
	int64_t retry_at_ms;       /* monotonic: send the offsets again from then on; 0: no retry due */
	int64_t delivery_ms;       /* monotonic: when PHASE_DELIVERY began */
	rd_kafka_topic_partition_list_t *offsets; /* fixed at the start, kept for retries */
	rd_kafka_consumer_group_metadata_t *md;
	offsets_job job;
};

static void free_undo(fd_table *undo)
{
	uint32_t cur = 0;
	undo_rec *u;
	while ((u = fd_table_next(undo, &cur)) != NULL)
		free(u->bytes);
	fd_table_free(undo);
}

fd_txn *fd_txn_new(void)
{
	fd_txn *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->job.notify[0] = t->job.notify[1] = -1;
	atomic_init(&t->job.done, false);
	t->undo = fd_table_new(sizeof(undo_rec), UNDO_FIRST);
	t->arena = fd_wire_arena_new();
	t->scratch = malloc(sizeof *t->scratch);
	if (!t->undo || !t->arena || !t->scratch || pipe(t->job.notify) != 0) {
		fd_txn_free(t);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(t->job.notify[i], F_SETFL, fcntl(t->job.notify[i], F_GETFL) | O_NONBLOCK);
		fcntl(t->job.notify[i], F_SETFD, FD_CLOEXEC);
	}
	return t;
}

/* Wait for the offsets thread, if one runs; its result stays in job.error. */
static void join_job(fd_txn *t)
{
	if (!t->job.running)
		return;
	pthread_join(t->job.thread, NULL);
	t->job.running = false;
}

/* Forget the commit in flight (its thread joined): offsets, metadata and
 * any result not read. */
static void clear_commit(fd_txn *t)
{
	join_job(t);
	if (t->job.error)
		rd_kafka_error_destroy(t->job.error);
	t->job.error = NULL;
	if (t->offsets)
		rd_kafka_topic_partition_list_destroy(t->offsets);
	t->offsets = NULL;
	if (t->md)
		rd_kafka_consumer_group_metadata_destroy(t->md);
	t->md = NULL;
	t->phase = PHASE_NONE;
	t->started_ms = t->retry_at_ms = t->delivery_ms = 0;
}

void fd_txn_free(fd_txn *t)
{
	if (!t)
		return;
	clear_commit(t);
	if (t->undo)
		free_undo(t->undo);
	fd_wire_arena_free(t->arena);
	free(t->scratch);
	free(t->rewind);
	for (int i = 0; i < 2; i++)
		if (t->job.notify[i] >= 0)
			close(t->job.notify[i]);
	free(t);
}

void fd_txn_join(fd_kafka *k)
{
	if (k->txn)
		join_job(k->txn);
}

static void clear_undo(fd_kafka *k)
{
	fd_txn *t = k->txn;
	fd_table *fresh = fd_table_new(sizeof(undo_rec), UNDO_FIRST);
	if (!fresh) {
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory resetting the pre-images");
		return;
	}
	free_undo(t->undo);
	t->undo = fresh;
}

void fd_txn_before_change(fd_kafka *k, fd_engine *e, const char *lead_id, bool exists)
{
	fd_txn *t = k->txn;
	bool created;
	undo_rec *u = fd_table_put(t->undo, lead_id, strlen(lead_id), &created);
	char tok[FD_REDACT_TOKEN_LEN + 1];
	if (!u) {
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory keeping the pre-image of lead %s",
		              fd_log_id(lead_id, tok));
		return;
	}
	if (!created || !exists)
		return; /* first change in this transaction only */
	if (!fd_engine_export(e, lead_id, t->scratch) ||
	    fd_wire_encode_lead_state(t->scratch, &u->bytes, &u->len) != 0)
		fd_kafka_fail(k, FD_LOG_CRIT, "cannot keep the pre-image of lead %s; stopping",
		              fd_log_id(lead_id, tok));
}

/* Put every lead changed in the aborted transaction back as it was. */
static void rollback(fd_kafka *k, fd_engine *e)
{
	fd_txn *t = k->txn;
	uint32_t cur = 0;
	undo_rec *u;
	size_t n = 0;
	char err[256];
	while ((u = fd_table_next(t->undo, &cur)) != NULL) {
		size_t len;
		const char *id = fd_table_key(t->undo, u, &len);
		fd_engine_remove(e, id);
		if (u->bytes) {
			if (fd_wire_decode_lead_state(u->bytes, u->len, t->arena, t->scratch, err,
			                              sizeof err) != 0 ||
			    fd_engine_import(e, t->scratch, err, sizeof err) != FD_OK)
			{
				char tok[FD_REDACT_TOKEN_LEN + 1];
				fd_kafka_fail(k, FD_LOG_CRIT, "rollback of lead %s failed: %s; stopping",
				              fd_log_id(id, tok), err);
			}
			fd_wire_arena_reset(t->arena);
		}
		n++;
	}
	clear_undo(k);
	fd_engine_partitions_rollback(e);
	fd_log(FD_LOG_WARNING, "transaction aborted: %zu leads rolled back to the last commit", n);
}

static void note_rewind(fd_txn *t, int topic, int32_t partition, int64_t offset)
{
	for (size_t i = 0; i < t->n_rewind; i++)
		if (t->rewind[i].topic == topic && t->rewind[i].partition == partition)
			return;
	if (fd_grow(&t->rewind, &t->cap_rewind, t->n_rewind + 1, sizeof *t->rewind, 64) != 0)
		return;
	t->rewind[t->n_rewind++] = (fd_position){ topic, partition, offset };
}

void fd_txn_input(fd_kafka *k, int topic, int32_t partition, int64_t offset)
{
	note_rewind(k->txn, topic, partition, offset);
}

static void begin(fd_kafka *k)
{
	if (k->failed || k->in_txn)
		return;
	rd_kafka_error_t *error = rd_kafka_begin_transaction(k->producer);
	if (error) {
		fd_kafka_fail(k, FD_LOG_CRIT, "begin transaction: %s; stopping",
		              rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		return;
	}
	k->in_txn = true;
	const fd_position *pos;
	size_t n = fd_epochs_positions(k->epochs, &pos);
	k->txn->n_rewind = 0;
	for (size_t i = 0; i < n; i++)
		note_rewind(k->txn, pos[i].topic, pos[i].partition, pos[i].offset);
}

int fd_txn_init(fd_kafka *k, char *errstr, size_t errstr_size)
{
	rd_kafka_error_t *error = rd_kafka_init_transactions(k->producer, INIT_TIMEOUT_MS);
	if (error) {
		snprintf(errstr, errstr_size, "init transactions: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		return -1;
	}
	begin(k);
	if (k->failed) {
		snprintf(errstr, errstr_size, "cannot begin the first transaction");
		return -1;
	}
	return 0;
}

/* Rewind the consumer to where the aborted transaction began. */
static void rewind_inputs(fd_kafka *k)
{
	fd_txn *t = k->txn;
	if (fd_epochs_set_positions(k->epochs, t->rewind, t->n_rewind) != 0)
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory rewinding the input positions");
	/* what the event-time merge held goes back first: partitions without
	   input in the transaction read it again, the others are sought
	   further back below */
	fd_consumer_forget(k, -1, true);
	if (t->n_rewind == 0)
		return;
	for (size_t i = 0; i < t->n_rewind; i++)
		fd_consumer_sought(k, t->rewind[i].topic, t->rewind[i].partition);
	rd_kafka_topic_partition_list_t *l = fd_commit_list(k, t->rewind, t->n_rewind);
	rd_kafka_error_t *se = rd_kafka_seek_partitions(k->consumer, l, REWIND_TIMEOUT_MS);
	if (se) {
		fd_kafka_fail(k, FD_LOG_CRIT, "rewind after abort: %s; stopping",
		              rd_kafka_error_string(se));
		rd_kafka_error_destroy(se);
	} else {
		for (int i = 0; i < l->cnt; i++)
			if (l->elems[i].err)
				fd_log(FD_LOG_WARNING, "rewind %s [%" PRId32 "]: %s", l->elems[i].topic,
				       l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
	}
	rd_kafka_topic_partition_list_destroy(l);
}

void fd_txn_abort(fd_kafka *k, fd_engine *e, bool reopen)
{
	/* no other transactional call while the offsets thread is in one */
	clear_commit(k->txn);
	/* what waits for room belongs to this transaction: never written */
	fd_producer_overflow_drop(k);
	rd_kafka_error_t *error = rd_kafka_abort_transaction(k->producer, ABORT_TIMEOUT_MS);
	k->in_txn = false;
	k->txn_doomed = false;
	if (error) {
		fd_kafka_fail(k, FD_LOG_CRIT, "abort transaction: %s; stopping",
		              rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		return;
	}
	rollback(k, e);
	fd_changelog_unmark_all(k->changelog);
	rewind_inputs(k);
	k->txn->n_rewind = 0;
	if (reopen)
		begin(k);
}

/* 0: no error; 1: retriable (retry the call); -1: handled (aborted or
 * failed). Takes `error`. */
static int check(fd_kafka *k, fd_engine *e, bool reopen, rd_kafka_error_t *error,
                 const char *what, bool quiet_timeout)
{
	if (!error)
		return 0;
	int rc;
	if (rd_kafka_error_is_fatal(error)) {
		fd_kafka_fail(k, FD_LOG_CRIT, "%s: fatal: %s (fenced or broken producer); stopping "
		              "without committing", what, rd_kafka_error_string(error));
		rc = -1;
	} else if (rd_kafka_error_txn_requires_abort(error)) {
		fd_log(FD_LOG_WARNING, "%s: %s: aborting the transaction", what,
		       rd_kafka_error_string(error));
		rc = -2;
	} else if (rd_kafka_error_is_retriable(error)) {
		/* commit_transaction's timeout is how the commit goes on in the
		 * background: not worth a line each step */
		bool quiet = quiet_timeout && rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__TIMED_OUT;
		fd_log(quiet ? FD_LOG_DEBUG : FD_LOG_WARNING, "%s: %s: retrying", what,
		       rd_kafka_error_string(error));
		rc = 1;
	} else {
		fd_log(FD_LOG_ERR, "%s: %s: aborting the transaction", what, rd_kafka_error_string(error));
		rc = -2;
	}
	rd_kafka_error_destroy(error);
	if (rc == -2) {
		fd_txn_abort(k, e, reopen);
		rc = -1;
	}
	return rc;
}

/* ---- the commit ------------------------------------------------------------------ */

static void *send_offsets(void *arg)
{
	offsets_job *job = arg;
	job->error = rd_kafka_send_offsets_to_transaction(job->producer, job->offsets, job->md,
	                                                  SEND_OFFSETS_TIMEOUT_MS);
	atomic_store(&job->done, true);
	ssize_t n = write(job->notify[1], "o", 1); /* full pipe: a byte is there already */
	(void)n;
	return NULL;
}

/* Start the offsets thread (signals stay with the loop's thread). Without
 * a thread (pthread_create failed), send them from this one, waiting. */
static void start_job(fd_kafka *k)
{
	fd_txn *t = k->txn;
	offsets_job *job = &t->job;
	job->producer = k->producer;
	job->offsets = t->offsets;
	job->md = t->md;
	job->error = NULL;
	atomic_store(&job->done, false);
	t->retry_at_ms = 0;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&job->thread, NULL, send_offsets, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		job->running = true;
		return;
	}
	fd_log(FD_LOG_WARNING, "cannot start a thread for the transaction's offsets (%s): sending "
	       "them from the loop", strerror(rc));
	send_offsets(job);
}

/* The commit completed: count it, forget the pre-images (the partitions'
 * save point moves here), begin the next transaction when `reopen`. */
static void committed(fd_kafka *k, fd_engine *e, bool reopen)
{
	fd_txn *t = k->txn;
	fd_log(FD_LOG_DEBUG, "transaction committed in %" PRId64 " ms",
	       fd_clock_monotonic_ms() - t->started_ms);
	clear_commit(t);
	k->in_txn = false;
	k->stats.commits++;
	clear_undo(k);
	fd_engine_partitions_save(e);
	/* the epochs closed so far are committed with it: forget them, or
	 * they pile up one per commit */
	fd_changelog_release(k->changelog);
	const fd_position *pos;
	(void)fd_epochs_committable(k->epochs, &pos);
	if (reopen)
		begin(k);
}

bool fd_txn_commit_start(fd_kafka *k, fd_engine *e, bool reopen)
{
	fd_txn *t = k->txn;
	if (!k->in_txn || k->failed || t->phase != PHASE_NONE)
		return false;
	if (k->txn_doomed) {
		fd_txn_abort(k, e, reopen);
		return false;
	}
	/* a transaction commits only what librdkafka holds: records still
	 * waiting for room go first; until they have, the commit waits for a
	 * later tick */
	if (fd_producer_flush(k) > 0)
		return false;
	fd_changelog_close_epoch(k->changelog, e);
	if (k->failed)
		return false;
	t->started_ms = fd_clock_monotonic_ms();
	t->phase = PHASE_WRITE;
	return true;
}

/* The closed epoch is written: send the offsets (no input was read since
 * the epoch closed, so the live positions are its own). */
static void send_offsets_start(fd_kafka *k)
{
	fd_txn *t = k->txn;
	const fd_position *pos;
	size_t n = fd_epochs_positions(k->epochs, &pos);
	if (n == 0) {
		t->phase = PHASE_DELIVERY;
		return;
	}
	t->offsets = fd_commit_list(k, pos, n);
	t->md = rd_kafka_consumer_group_metadata(k->consumer);
	t->phase = PHASE_OFFSETS;
	start_job(k);
}

/* One step of the commit in flight: waits only inside commit_transaction
 * (at most end_wait_ms); with `queue_empty`, calls that only once every
 * record of the transaction was acknowledged. */
static void advance(fd_kafka *k, fd_engine *e, bool reopen, int end_wait_ms, bool queue_empty)
{
	fd_txn *t = k->txn;
	if (t->phase == PHASE_NONE || k->failed)
		return;
	if (t->phase == PHASE_WRITE) {
		/* a step per call while the producer takes them */
		if (fd_producer_flush(k) > 0 ||
		    fd_changelog_emit(k->changelog, e, FD_CHANGELOG_EMIT_STEP) > 0 || k->failed)
			return;
		send_offsets_start(k);
		return;
	}
	if (t->phase == PHASE_OFFSETS) {
		if (t->job.running && !atomic_load(&t->job.done))
			return;
		if (t->retry_at_ms) {
			if (fd_clock_monotonic_ms() < t->retry_at_ms)
				return;
			start_job(k);
			return;
		}
		join_job(t);
		rd_kafka_error_t *error = t->job.error;
		t->job.error = NULL;
		int rc = check(k, e, reopen, error, "send offsets to transaction", false);
		if (rc < 0)
			return; /* aborted (commit cleared) or failed */
		if (rc > 0) {
			/* the same offsets and group metadata again, after a pause */
			t->retry_at_ms = fd_clock_monotonic_ms() + RETRY_BACKOFF_MS;
			return;
		}
		t->phase = PHASE_DELIVERY;
	}
	if (k->txn_doomed) {
		fd_txn_abort(k, e, reopen);
		return;
	}
	if (t->phase == PHASE_DELIVERY) {
		if (!t->delivery_ms)
			t->delivery_ms = fd_clock_monotonic_ms();
		if (fd_producer_flush(k) > 0)
			return;
		if (queue_empty && rd_kafka_outq_len(k->producer) > 0 &&
		    fd_clock_monotonic_ms() - t->delivery_ms < DELIVERY_WAIT_MS)
			return;
		t->phase = PHASE_END;
	}
	/* Resumable: a timeout means EndTxn is on its way; the next call
	 * resumes. Its first phase is local and not resumable: a call whose
	 * timeout ends before librdkafka's thread ran it starts over at the
	 * next one, which is why the wait is short but not zero. */
	int rc = check(k, e, reopen, rd_kafka_commit_transaction(k->producer, end_wait_ms),
	               "commit transaction", true);
	if (rc == 0)
		committed(k, e, reopen);
}

void fd_txn_commit_step(fd_kafka *k, fd_engine *e, bool reopen)
{
	advance(k, e, reopen, FD_TXN_STEP_MS, true);
}

bool fd_txn_committing(const fd_kafka *k)
{
	return k->txn && k->txn->phase != PHASE_NONE;
}

bool fd_txn_writing(const fd_kafka *k)
{
	return k->txn && k->txn->phase == PHASE_WRITE;
}

int64_t fd_txn_commit_age_ms(const fd_kafka *k)
{
	if (!fd_txn_committing(k))
		return 0;
	return fd_clock_monotonic_ms() - k->txn->started_ms;
}

int fd_txn_notify_fd(const fd_kafka *k)
{
	return k->txn->job.notify[0];
}

int fd_txn_commit(fd_kafka *k, fd_engine *e, bool reopen, int64_t timeout_ms)
{
	fd_txn *t = k->txn;
	int64_t deadline = fd_clock_monotonic_ms() + timeout_ms;
	if (t->phase == PHASE_NONE) {
		if (!k->in_txn || k->failed)
			return k->failed ? -1 : 0;
		/* records waiting for room first: served as acknowledgements come */
		while (!k->txn_doomed && fd_producer_flush(k) > 0 && !k->failed &&
		       fd_clock_monotonic_ms() < deadline)
			rd_kafka_poll(k->producer, WAIT_POLL_MS);
		if (!fd_txn_commit_start(k, e, reopen)) {
			if (k->failed || fd_producer_overflow(k) > 0) {
				fd_log(FD_LOG_ERR, "the transaction could not commit within %" PRId64 " ms: "
				       "records still wait for room in the producer", timeout_ms);
				return -1;
			}
			return 0; /* doomed: aborted */
		}
	}
	while (t->phase != PHASE_NONE && !k->failed) {
		int64_t left = deadline - fd_clock_monotonic_ms();
		if (left <= 0) {
			fd_log(FD_LOG_ERR, "the transaction did not commit within %" PRId64 " ms",
			       timeout_ms);
			return -1;
		}
		bool waiting = (t->phase == PHASE_WRITE && fd_producer_flush(k) > 0) ||
		               (t->phase == PHASE_OFFSETS &&
		                ((t->job.running && !atomic_load(&t->job.done)) ||
		                 (t->retry_at_ms && fd_clock_monotonic_ms() < t->retry_at_ms))) ||
		               (t->phase == PHASE_DELIVERY && fd_producer_flush(k) > 0);
		if (waiting) {
			/* delivery reports meanwhile, and a bounded pause */
			rd_kafka_poll(k->producer, (int)(left < WAIT_POLL_MS ? left : WAIT_POLL_MS));
			continue;
		}
		/* commit_transaction flushes the producer itself, within the time left */
		advance(k, e, reopen, (int)(left > INT_MAX ? INT_MAX : left), false);
	}
	return k->failed ? -1 : 0;
}
