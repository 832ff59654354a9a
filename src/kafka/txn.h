/*
 * txn.h — exactly_once: one Kafka transaction per commit interval holding
 * the interval's outputs, its changelog records and its input offsets.
 *
 * Before the engine first changes a lead inside a transaction, the lead's
 * pre-image (its encoded state, or "did not exist") is kept. An abortable
 * error aborts the transaction, puts every changed lead back as it was,
 * forgets the leads marked for the changelog and rewinds the consumer to
 * where each input partition stood when the transaction began, so the same
 * input is read again and nothing counts twice. A fatal error (fenced
 * producer) fails the context.
 *
 * What it is not: at-least-once never calls it (commit.c commits there).
 */
#ifndef FD_KAFKA_TXN_H
#define FD_KAFKA_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "funneld/engine.h"
#include "kafka/kafka.h"

fd_txn *fd_txn_new(void);
void fd_txn_free(fd_txn *t);

/* Register the producer with the transaction coordinator (blocking, at
 * start-up) and begin the first transaction. -1 with errstr. */
int fd_txn_init(fd_kafka *k, char *errstr, size_t errstr_size);

/* The engine is about to change lead `lead_id` (`exists`) or create it:
 * keep its pre-image, once per transaction. */
void fd_txn_before_change(fd_kafka *k, fd_engine *e, const char *lead_id, bool exists);

/* The input at (topic, partition, offset) was applied: remember where the
 * partition stood, if this transaction had not seen it yet. */
void fd_txn_input(fd_kafka *k, int topic, int32_t partition, int64_t offset);

/* Close the epoch (LeadScores, state records, evictions: changelog.c) and
 * commit outputs, changelog and offsets; a doomed transaction aborts
 * instead. Then begin the next one when `reopen`. */
void fd_txn_commit(fd_kafka *k, fd_engine *e, bool reopen);

/* Abort, roll the state back to the last commit and rewind the consumer;
 * then begin the next transaction when `reopen`. */
void fd_txn_abort(fd_kafka *k, fd_engine *e, bool reopen);

#endif
