/*
 * epochs.h — when may input offsets be committed? (at-least-once)
 *
 * Everything produced between two commit ticks (outputs caused by the
 * inputs applied in that interval, the LeadScores emitted at its end, the
 * SLA events fired by its timers) belongs to one epoch. Closing an epoch
 * snapshots the next offset to consume of every input partition seen so
 * far. An epoch is committable once every output of it, and of every epoch
 * before it, was acknowledged by the broker; committing it commits the
 * snapshot. An input offset is therefore never committed before all the
 * outputs it caused are durable.
 *
 * Two phases: the changelog records of an epoch (the state its inputs led
 * to) are released only after every other output of that epoch is
 * acknowledged, and in epoch order; the epoch becomes committable once they
 * are acknowledged too. So a lead's state is never durable before the
 * outputs that led to it: a restart that restores it and skips the inputs it
 * already contains loses nothing.
 *
 * Pure bookkeeping: no Kafka calls, no clock. Positions are keyed by a small
 * topic index (0..FD_EPOCH_TOPICS-1) and a partition number.
 */
#ifndef FD_KAFKA_EPOCHS_H
#define FD_KAFKA_EPOCHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_EPOCH_TOPICS 3

typedef struct fd_position {
	int topic;          /* 0..FD_EPOCH_TOPICS-1 */
	int32_t partition;
	int64_t offset;     /* next offset to consume */
} fd_position;

typedef struct fd_epochs fd_epochs;

fd_epochs *fd_epochs_new(void);
void fd_epochs_free(fd_epochs *ep);

/* The input at (topic, partition, offset) was applied in the open epoch. */
int fd_epochs_input(fd_epochs *ep, int topic, int32_t partition, int64_t offset);

/* An output was produced in the open epoch; returns the token to attach to
 * it (as the message opaque). */
uint64_t fd_epochs_output(fd_epochs *ep);

/* The output carrying `token` was acknowledged. */
void fd_epochs_ack(fd_epochs *ep, uint64_t token);

/* Close the open epoch (snapshot positions) and open the next one. Returns
 * the closed epoch's id, 0 on allocation failure. */
uint64_t fd_epochs_close(fd_epochs *ep);

/* The oldest closed epoch whose deferred records are not released yet, if
 * all its outputs are acknowledged (and every older epoch was released):
 * its id, else 0. */
uint64_t fd_epochs_deferred_ready(const fd_epochs *ep);

/* Count a deferred record, released now, against epoch `id`. */
uint64_t fd_epochs_output_to(fd_epochs *ep, uint64_t id);

/* Every deferred record of epoch `id` was handed to the producer. */
void fd_epochs_released(fd_epochs *ep, uint64_t id);

/* If the oldest closed epochs are released and fully acknowledged, drop them and fill
 * *out (owned by ep, valid until the next call) with the positions of the
 * newest of them; returns their count, or 0 when nothing is committable. */
size_t fd_epochs_committable(fd_epochs *ep, const fd_position **out);

/* Forget a partition (revoked or lost): it is no longer in snapshots. */
void fd_epochs_forget(fd_epochs *ep, int topic, int32_t partition);

/* The live positions (next offset to consume per input partition). */
size_t fd_epochs_positions(const fd_epochs *ep, const fd_position **out);

/* Replace the live positions (an aborted transaction rewinds them). */
int fd_epochs_set_positions(fd_epochs *ep, const fd_position *p, size_t n);

/* Closed epochs not committed yet (their outputs or state records are not
 * all acknowledged). */
size_t fd_epochs_closed(const fd_epochs *ep);
/* Outputs produced and not yet acknowledged, over all epochs. */
uint64_t fd_epochs_pending(const fd_epochs *ep);

#endif
