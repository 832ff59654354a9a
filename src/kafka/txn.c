/*
 * txn.c — exactly_once transactions, pre-images and rollback (see txn.h).
 */
#include "kafka/producer.h"
#include "kafka/txn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/log.h"
#include "base/table.h"
#include "funneld/wire.h"
#include "kafka/changelog.h"
#include "kafka/commit.h"

#define INIT_TIMEOUT_MS (60 * 1000)
#define SEND_OFFSETS_TIMEOUT_MS (30 * 1000)
#define COMMIT_TIMEOUT_MS (60 * 1000)
#define ABORT_TIMEOUT_MS (60 * 1000)
#define REWIND_TIMEOUT_MS (10 * 1000)
#define UNDO_FIRST 1024

typedef struct undo_rec {
	uint8_t *bytes;   /* encoded LeadState; NULL: the lead did not exist */
	size_t len;
} undo_rec;

struct fd_txn {
	fd_table *undo;            /* lead id -> pre-image */
	fd_wire_arena *arena;
	fd_lead_state *scratch;
	fd_position *rewind;       /* where each input partition stood at the start */
	size_t n_rewind, cap_rewind;
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
	t->undo = fd_table_new(sizeof(undo_rec), UNDO_FIRST);
	t->arena = fd_wire_arena_new();
	t->scratch = malloc(sizeof *t->scratch);
	if (!t->undo || !t->arena || !t->scratch) {
		fd_txn_free(t);
		return NULL;
	}
	return t;
}

void fd_txn_free(fd_txn *t)
{
	if (!t)
		return;
	if (t->undo)
		free_undo(t->undo);
	fd_wire_arena_free(t->arena);
	free(t->scratch);
	free(t->rewind);
	free(t);
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
	if (!u) {
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory keeping the pre-image of %s", lead_id);
		return;
	}
	if (!created || !exists)
		return; /* first change in this transaction only */
	if (!fd_engine_export(e, lead_id, t->scratch) ||
	    fd_wire_encode_lead_state(t->scratch, &u->bytes, &u->len) != 0)
		fd_kafka_fail(k, FD_LOG_CRIT, "cannot keep the pre-image of %s; stopping", lead_id);
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
				fd_kafka_fail(k, FD_LOG_CRIT, "rollback of %s failed: %s; stopping", id, err);
			fd_wire_arena_reset(t->arena);
		}
		n++;
	}
	clear_undo(k);
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
	if (t->n_rewind == 0)
		return;
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
 * failed). */
static int check(fd_kafka *k, fd_engine *e, bool reopen, rd_kafka_error_t *error,
                 const char *what)
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
		fd_log(FD_LOG_WARNING, "%s: %s: retrying", what, rd_kafka_error_string(error));
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

void fd_txn_commit(fd_kafka *k, fd_engine *e, bool reopen)
{
	if (!k->in_txn || k->failed)
		return;
	if (k->txn_doomed) {
		fd_txn_abort(k, e, reopen);
		return;
	}
	/* a transaction commits only what librdkafka holds: records still
	 * waiting for room go first; until they have, the commit waits for a
	 * later tick */
	if (fd_producer_flush(k) > 0)
		return;
	fd_changelog_close_epoch(k->changelog, e, fd_kafka_now(k), k->cfg->lead_ttl_ms);
	const fd_position *pos;
	size_t n = fd_epochs_positions(k->epochs, &pos);
	int rc;
	if (n > 0) {
		rd_kafka_topic_partition_list_t *l = fd_commit_list(k, pos, n);
		rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(k->consumer);
		do {
			rc = check(k, e, reopen,
			           rd_kafka_send_offsets_to_transaction(k->producer, l, md,
			                                                SEND_OFFSETS_TIMEOUT_MS),
			           "send offsets to transaction");
		} while (rc == 1 && !k->failed);
		rd_kafka_consumer_group_metadata_destroy(md);
		rd_kafka_topic_partition_list_destroy(l);
		if (rc != 0)
			return;
	}
	do {
		rc = check(k, e, reopen, rd_kafka_commit_transaction(k->producer, COMMIT_TIMEOUT_MS),
		           "commit transaction");
	} while (rc == 1 && !k->failed);
	if (rc != 0)
		return;
	k->in_txn = false;
	k->stats.commits++;
	clear_undo(k);
	if (reopen)
		begin(k);
}
