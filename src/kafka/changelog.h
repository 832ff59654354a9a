/*
 * changelog.h — the state changelog topic, written: one compacted LeadState
 * record per changed lead per commit interval, keyed by lead id, on the
 * partition number of the input partition that owns the lead (set
 * explicitly, never by a partitioner); a tombstone for an evicted lead; and
 * per input partition whose stream time or funnel changed in the interval,
 * one PartitionState checkpoint under the reserved key
 * FD_WIRE_CHECKPOINT_KEY (funneld/wire.h), in the same epoch as the leads.
 * (LeadScores are the engine's score stream, produced like transitions:
 * producer.c.)
 *
 * Closing an epoch takes no time: its set of changed leads becomes the
 * closing set, and a new one starts for the next epoch. The closing set's
 * records are encoded and produced a bounded number of leads per call of
 * fd_changelog_emit, across the next interval, so the loop never stalls
 * for the whole set. A lead of the closing set that is about to change
 * again is written first (fd_changelog_before_change), as it was when the
 * epoch closed; so each record is the state its epoch's inputs led to. The
 * next epoch closes only once the closing set is written.
 *
 * Order (at-least-once): a state record is deferred until every other
 * output of its epoch is acknowledged, and released in epoch order (see
 * epochs.h), so a lead's state is never durable before the outputs that led
 * to it. exactly_once needs no order (one transaction holds all): records
 * are produced at once.
 *
 * What it is not: the reading side is restore.c; the engine holds the
 * state, this module only snapshots the leads the engine says changed.
 */
#ifndef FD_KAFKA_CHANGELOG_H
#define FD_KAFKA_CHANGELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "funneld/engine.h"
#include "kafka/kafka.h"

fd_changelog *fd_changelog_new(fd_kafka *k);
void fd_changelog_free(fd_changelog *cl);

/* Make sure the topic exists with `partitions` partitions and
 * cleanup.policy=compact, creating it if missing. -1 with errstr when it
 * exists with another partition count or cannot be created. */
int fd_changelog_ensure(fd_changelog *cl, int partitions, char *errstr, size_t errstr_size);

/* Lead `lead_id` changed: its state is due when the open epoch closes. */
void fd_changelog_mark(fd_changelog *cl, const char *lead_id);
/* Forget a pending mark, open or closing (the lead left memory with its
 * partition). */
void fd_changelog_unmark(fd_changelog *cl, const char *lead_id);
/* Forget every pending mark, open and closing (an aborted transaction). */
void fd_changelog_unmark_all(fd_changelog *cl);

/* Close the open epoch: its changed leads become the closing set, idle
 * leads (fd_engine_set_lead_ttl) get tombstones (at most
 * FD_CHANGELOG_EVICT_MAX per call, after their last state), the changed
 * partitions their checkpoints, then release what is ready. false, and
 * nothing done, while the last closing set is still being written
 * (fd_changelog_emitting): the epoch stays open. */
#define FD_CHANGELOG_EVICT_MAX 10000
bool fd_changelog_close_epoch(fd_changelog *cl, fd_engine *e);

/* Write the state record of up to `max` leads of the closing set; once the
 * set is written, release what is ready. Returns how many leads are
 * left. */
#define FD_CHANGELOG_EMIT_STEP 256
size_t fd_changelog_emit(fd_changelog *cl, fd_engine *e, size_t max);
/* Leads of the closing set not written yet. */
size_t fd_changelog_emitting(const fd_changelog *cl);
/* The engine is about to change lead `lead_id`: if it waits in the closing
 * set, write it now. */
void fd_changelog_before_change(fd_changelog *cl, fd_engine *e, const char *lead_id);

/* Produce the deferred records of every epoch whose outputs are all
 * acknowledged, in epoch order. */
void fd_changelog_release(fd_changelog *cl);

/* Deferred records not yet released. */
size_t fd_changelog_deferred(const fd_changelog *cl);
/* Forget the state records of `partition` not handed to the producer yet
 * (it was lost: its next owner writes its state now); returns how many. */
size_t fd_changelog_purge(fd_changelog *cl, int32_t partition);

#endif
