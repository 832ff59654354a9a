/*
 * changelog.c — the state changelog, written (see changelog.h): the set of
 * leads changed since the last epoch close, the FIFO of state records
 * waiting for their epoch's outputs, tombstones, partition checkpoints, and
 * the topic's creation.
 */
#include "kafka/changelog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/log.h"
#include "base/table.h"
#include "funneld/wire.h"
#include "kafka/producer.h"
#include "kafka/topic.h"
#include "kafka/txn.h"

#define METADATA_TIMEOUT_MS 10000
#define CREATE_TOPIC_TIMEOUT_MS 30000
#define DIRTY_FIRST 1024      /* initial size of the changed-lead set */
#define DEFERRED_FIRST 1024

/* a state record waiting for its epoch's outputs */
typedef struct deferred {
	uint64_t epoch;          /* 0 until its epoch closes */
	int32_t partition;
	char *key;
	size_t key_len;          /* a checkpoint's key starts with a NUL byte */
	uint8_t *value;          /* NULL: tombstone */
	size_t len;
} deferred;

struct fd_changelog {
	fd_kafka *k;
	fd_table *dirty;         /* lead ids changed in the open epoch */
	/* lead ids changed in the epoch that closed last, written a few per
	 * turn (fd_changelog_emit); record: 1 once written */
	fd_table *closing;
	size_t closing_left;     /* ... not written yet */
	uint32_t cursor;         /* where fd_changelog_emit goes on */
	uint64_t closing_epoch;  /* its id (0 while it closes) */
	deferred *q;             /* FIFO: [head, n) */
	size_t n, cap, head;
	fd_lead_state *st;       /* scratch for exports */
};

fd_changelog *fd_changelog_new(fd_kafka *k)
{
	fd_changelog *cl = calloc(1, sizeof *cl);
	if (!cl)
		return NULL;
	cl->k = k;
	cl->dirty = fd_table_new(1, DIRTY_FIRST);
	cl->closing = fd_table_new(1, DIRTY_FIRST);
	cl->st = malloc(sizeof *cl->st);
	if (!cl->dirty || !cl->closing || !cl->st) {
		fd_changelog_free(cl);
		return NULL;
	}
	return cl;
}

void fd_changelog_free(fd_changelog *cl)
{
	if (!cl)
		return;
	for (size_t i = cl->head; i < cl->n; i++) {
		free(cl->q[i].key);
		free(cl->q[i].value);
	}
	free(cl->q);
	fd_table_free(cl->dirty);
	fd_table_free(cl->closing);
	free(cl->st);
	free(cl);
}

/* ---- the topic ------------------------------------------------------------------- */

int fd_changelog_ensure(fd_changelog *cl, int partitions, char *errstr, size_t errstr_size)
{
	rd_kafka_t *admin = cl->k->producer;
	const char *topic = cl->k->cfg->topics.changelog;
	int have = fd_topic_partitions(admin, topic, METADATA_TIMEOUT_MS);
	if (have == -2) {
		snprintf(errstr, errstr_size, "changelog %s: metadata unavailable", topic);
		return -1;
	}
	if (have == partitions)
		return 0;
	if (have > 0) {
		snprintf(errstr, errstr_size, "changelog topic %s has %d partitions, the inputs have %d: "
		         "a lead's state must live on its input partition number", topic, have,
		         partitions);
		return -1;
	}
	static const char *const compacted[] = { "cleanup.policy", "compact", NULL };
	if (fd_topic_create(admin, topic, partitions, compacted, CREATE_TOPIC_TIMEOUT_MS, errstr,
	                    errstr_size) != 0)
		return -1;
	fd_log(FD_LOG_NOTICE, "created changelog topic %s (%d partitions, compacted)", topic,
	       partitions);
	return 0;
}

/* ---- changed leads ---------------------------------------------------------------- */

void fd_changelog_mark(fd_changelog *cl, const char *lead_id)
{
	bool created;
	char tok[FD_REDACT_TOKEN_LEN + 1];
	if (!fd_table_put(cl->dirty, lead_id, strlen(lead_id), &created))
		fd_log(FD_LOG_WARNING, "out of memory marking lead %s for a score update",
		       fd_log_id(lead_id, tok));
}

/* The entry of `lead_id` in the closing set, if it still waits. */
static uint8_t *waiting(const fd_changelog *cl, const char *lead_id)
{
	if (cl->closing_left == 0)
		return NULL;
	uint8_t *done = fd_table_get(cl->closing, lead_id, strlen(lead_id));
	return done && !*done ? done : NULL;
}

void fd_changelog_unmark(fd_changelog *cl, const char *lead_id)
{
	fd_table_remove(cl->dirty, lead_id, strlen(lead_id));
	uint8_t *done = waiting(cl, lead_id);
	if (done) {
		*done = 1;
		cl->closing_left--;
	}
}

static fd_table *fresh_set(fd_changelog *cl, fd_table *old)
{
	fd_table *fresh = fd_table_new(1, DIRTY_FIRST);
	if (!fresh) {
		fd_kafka_fail(cl->k, FD_LOG_CRIT, "out of memory resetting the changed leads");
		return old;
	}
	fd_table_free(old);
	return fresh;
}

void fd_changelog_unmark_all(fd_changelog *cl)
{
	cl->dirty = fresh_set(cl, cl->dirty);
	if (fd_table_count(cl->closing) > 0)
		cl->closing = fresh_set(cl, cl->closing);
	cl->closing_left = 0;
	cl->cursor = 0;
}

/* ---- state records ---------------------------------------------------------------- */

/* One changelog record, explicitly on the lead's input partition. Takes
 * ownership of key and value. */
static void produce_state(fd_changelog *cl, int32_t partition, char *key, size_t key_len,
                          uint8_t *value, size_t len, uint64_t token)
{
	fd_kafka *k = cl->k;
	fd_record r = { k->cfg->topics.changelog, partition, key, key_len, value, len, NULL,
		            token };
	if (fd_producer_send(k, &r) == 0)
		k->stats.state_records++;
	free(key);
}

/* A state record (NULL value: tombstone) of epoch `epoch` (0: the open
 * one, tagged when it closes), keyed by key[0..key_len). Takes `value`. */
static int defer(fd_changelog *cl, uint64_t epoch, int32_t partition, const char *key,
                 size_t key_len, uint8_t *value, size_t len)
{
	char *copy = malloc(key_len + 1);
	if (!copy)
		return -1;
	memcpy(copy, key, key_len);
	copy[key_len] = '\0';
	if (cl->k->eos) {
		/* one transaction holds outputs, state and offsets: no order to keep */
		fd_epochs *ep = cl->k->epochs;
		produce_state(cl, partition, copy, key_len, value, len,
		              epoch ? fd_epochs_output_to(ep, epoch) : fd_epochs_output(ep));
		return 0;
	}
	if (cl->n == cl->cap && cl->head > 0) {
		memmove(cl->q, cl->q + cl->head, (cl->n - cl->head) * sizeof *cl->q);
		cl->n -= cl->head;
		cl->head = 0;
	}
	if (fd_grow(&cl->q, &cl->cap, cl->n + 1, sizeof *cl->q, DEFERRED_FIRST) != 0) {
		free(copy);
		return -1;
	}
	cl->q[cl->n++] = (deferred){ epoch, partition, copy, key_len, value, len };
	return 0;
}

/* The state record of lead `id` (deferred with its epoch), as it is now:
 * it has not changed since the epoch closed, or this is called before it
 * does. */
static void emit(fd_changelog *cl, fd_engine *e, const char *id)
{
	fd_kafka *k = cl->k;
	fd_lead_state *st = cl->st;
	uint8_t *buf;
	size_t n;
	if (!fd_engine_export(e, id, st))
		return; /* removed since */
	char tok[FD_REDACT_TOKEN_LEN + 1];
	if (fd_wire_encode_lead_state(st, &buf, &n) != 0) {
		/* never commit past a state we could not write */
		fd_kafka_fail(k, FD_LOG_CRIT, "cannot encode the state of lead %s; stopping",
		              fd_log_id(id, tok));
	} else if (defer(cl, cl->closing_epoch, st->partition, id, strlen(id), buf, n) != 0) {
		free(buf);
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory deferring the state of lead %s",
		              fd_log_id(id, tok));
	}
}

size_t fd_changelog_emit(fd_changelog *cl, fd_engine *e, size_t max)
{
	void *rec;
	for (size_t i = 0; i < max && cl->closing_left > 0 &&
	                   (rec = fd_table_next(cl->closing, &cl->cursor)) != NULL;) {
		uint8_t *done = rec;
		if (*done)
			continue;
		size_t len;
		emit(cl, e, fd_table_key(cl->closing, rec, &len));
		*done = 1;
		cl->closing_left--;
		i++;
	}
	if (cl->closing_left == 0 && fd_table_count(cl->closing) > 0) {
		/* every lead of the closing epoch is out: its state may go */
		cl->closing = fresh_set(cl, cl->closing);
		cl->cursor = 0;
		fd_changelog_release(cl);
	}
	return cl->closing_left;
}

size_t fd_changelog_emitting(const fd_changelog *cl)
{
	return cl->closing_left;
}

void fd_changelog_before_change(fd_changelog *cl, fd_engine *e, const char *lead_id)
{
	uint8_t *done = waiting(cl, lead_id);
	if (!done)
		return;
	emit(cl, e, lead_id);
	*done = 1;
	if (--cl->closing_left == 0)
		fd_changelog_emit(cl, e, 0); /* the epoch's last lead: release it */
}

typedef struct evicting {
	fd_changelog *cl;
	fd_engine *e;
} evicting;

static void tombstone(void *ctx, const char *lead_id, int32_t partition)
{
	evicting *ev = ctx;
	fd_kafka *k = ev->cl->k;
	if (k->eos)
		fd_txn_before_change(k, ev->e, lead_id, true);
	/* its last change first, or the tombstone would come before it */
	fd_changelog_before_change(ev->cl, ev->e, lead_id);
	char tok[FD_REDACT_TOKEN_LEN + 1];
	if (defer(ev->cl, 0, partition, lead_id, strlen(lead_id), NULL, 0) != 0)
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory deferring the tombstone of lead %s",
		              fd_log_id(lead_id, tok));
	k->stats.evicted++;
}

/* The checkpoint record of `partition`, in the open epoch. */
static void checkpoint(fd_changelog *cl, fd_engine *e, int32_t partition)
{
	fd_partition_state ps;
	uint8_t *buf;
	size_t n;
	if (!fd_engine_partition_export(e, partition, &ps))
		return; /* dropped since */
	if (fd_wire_encode_partition_state(&ps, &buf, &n) != 0) {
		fd_kafka_fail(cl->k, FD_LOG_CRIT, "cannot encode the checkpoint of partition %" PRId32
		              "; stopping", partition);
	} else if (defer(cl, 0, partition, FD_WIRE_CHECKPOINT_KEY, FD_WIRE_CHECKPOINT_KEY_LEN, buf,
	                 n) != 0) {
		free(buf);
		fd_kafka_fail(cl->k, FD_LOG_CRIT, "out of memory deferring the checkpoint of partition %"
		              PRId32, partition);
	}
}

bool fd_changelog_close_epoch(fd_changelog *cl, fd_engine *e)
{
	if (cl->closing_left > 0)
		return false; /* the last epoch's leads are still being written */
	/* the changed leads are the closing epoch's, emitted by
	 * fd_changelog_emit from now on */
	fd_table *emptied = cl->closing;
	cl->closing = cl->dirty;
	cl->closing_left = fd_table_count(cl->closing);
	cl->cursor = 0;
	cl->closing_epoch = 0; /* the open epoch, until it is closed below */
	cl->dirty = fd_table_count(emptied) == 0 ? emptied : fresh_set(cl, emptied);
	evicting ev = { cl, e };
	fd_engine_evict(e, FD_CHANGELOG_EVICT_MAX, tombstone, &ev);
	/* the partitions whose stream time or funnel moved: their checkpoints
	 * join the epoch, whose offsets they match */
	int32_t changed[64];
	size_t n;
	while ((n = fd_engine_partitions_take_changed(e, changed, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			checkpoint(cl, e, changed[i]);
	uint64_t id = fd_epochs_close(cl->k->epochs);
	for (size_t i = cl->head; i < cl->n; i++)
		if (cl->q[i].epoch == 0)
			cl->q[i].epoch = id;
	cl->closing_epoch = id;
	fd_changelog_emit(cl, e, 0); /* resets an epoch without changed leads */
	fd_changelog_release(cl);
	return true;
}

void fd_changelog_release(fd_changelog *cl)
{
	fd_epochs *ep = cl->k->epochs;
	uint64_t id;
	while ((id = fd_epochs_deferred_ready(ep)) != 0) {
		if (id == cl->closing_epoch && cl->closing_left > 0)
			break; /* its leads are not all written yet */
		while (cl->head < cl->n && cl->q[cl->head].epoch == id) {
			deferred *x = &cl->q[cl->head++];
			produce_state(cl, x->partition, x->key, x->key_len, x->value, x->len,
			              fd_epochs_output_to(ep, id));
		}
		fd_epochs_released(ep, id);
		if (cl->head == cl->n)
			cl->head = cl->n = 0;
	}
}

size_t fd_changelog_purge(fd_changelog *cl, int32_t partition)
{
	size_t kept = cl->head, purged = 0;
	for (size_t i = cl->head; i < cl->n; i++) {
		if (cl->q[i].partition == partition) {
			free(cl->q[i].key);
			free(cl->q[i].value);
			purged++;
		} else {
			cl->q[kept++] = cl->q[i];
		}
	}
	cl->n = kept;
	if (cl->head == cl->n)
		cl->head = cl->n = 0;
	return purged;
}

size_t fd_changelog_deferred(const fd_changelog *cl)
{
	return cl->n - cl->head;
}
