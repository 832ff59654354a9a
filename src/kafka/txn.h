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
 * The commit is asynchronous: the loop never waits for a broker round trip
 * to commit a transaction. fd_txn_commit_start closes the epoch (its
 * LeadScores and state records go into the transaction, written by the
 * steps below) and so fixes the offsets; from then until fd_txn_committing() is false the caller must
 * put nothing into the transaction: no input, no deadline, no output (they
 * would belong to a transaction whose offsets are already sent). The
 * commit then goes on in four steps, each advanced by fd_txn_commit_step
 * without waiting:
 *
 *   write     the closed epoch's LeadScores and state records, at most
 *             FD_CHANGELOG_EMIT_STEP leads per step (fd_txn_writing: call
 *             the next step at once), while the producer has room.
 *   offsets   rd_kafka_send_offsets_to_transaction always waits for its
 *             round trips (librdkafka 2.0.2 waits with RD_POLL_INFINITE
 *             whatever the timeout says, and the call is not resumable),
 *             so it runs on a thread of its own, which writes a byte to
 *             fd_txn_notify_fd when it returns. It does not poll any queue
 *             of ours, so no callback of ours runs on that thread. It runs
 *             while the records of the transaction are being delivered:
 *             both are round trips, nothing orders them. A retriable error
 *             sends the same offsets and group metadata again.
 *   delivery  every record of the transaction acknowledged (the producer's
 *             queue empty), so that the commit below never waits for one.
 *   end       rd_kafka_commit_transaction is resumable: called with a short
 *             timeout (FD_TXN_STEP_MS) it returns a retriable timeout while
 *             EndTxn goes on in the background, and a later call resumes.
 *             It polls the producer's queue (delivery reports), so it is
 *             called from the loop's thread only.
 *
 * Then the next transaction begins. fd_txn_commit does the same, waiting,
 * within a deadline: the drain (stop, revoke), which also finishes a commit
 * that is in flight.
 *
 * What it is not: at-least-once never calls it (commit.c commits there);
 * no event loop (the daemon watches the notify fd and calls the steps).
 */
#ifndef FD_KAFKA_TXN_H
#define FD_KAFKA_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "funneld/engine.h"
#include "kafka/kafka.h"

/* The longest one fd_txn_commit_step may wait for librdkafka (its
 * commit_transaction call): the first, local phase of that call must end
 * within it, the rest resumes at the next step. */
#define FD_TXN_STEP_MS 10
/* transaction.timeout.ms: the coordinator aborts a transaction open longer
 * than this, so a commit in flight for longer will not succeed (the
 * daemon's health check says so, see fd_txn_commit_age_ms). */
#define FD_TXN_TIMEOUT_MS 60000

/* NULL on allocation failure (or no pipe for the notify fd). */
fd_txn *fd_txn_new(void);
/* Joins the offsets thread first if it still runs (see fd_txn_join). */
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

/* Begin committing the open transaction without waiting: close the epoch
 * (evictions; its LeadScores and state records are written by the first
 * steps: changelog.c), which fixes the offsets sent after them. Returns true when a commit is in flight (hold input
 * and deadlines until fd_txn_committing() is false); false when nothing
 * was started: no transaction, a failed context, records still waiting for
 * room in the producer (try again at the next tick), or a doomed
 * transaction, aborted instead (then the next one begins when `reopen`). */
bool fd_txn_commit_start(fd_kafka *k, fd_engine *e, bool reopen);

/* Advance a commit in flight as far as it goes without waiting (at most
 * FD_TXN_STEP_MS inside librdkafka). When it completes, the next
 * transaction begins if `reopen`; an abortable error aborts instead (and
 * rolls back, and reopens likewise); a fatal one fails the context. Call
 * it when the notify fd is readable, when delivery reports were served,
 * and every few milliseconds while fd_txn_committing(). */
void fd_txn_commit_step(fd_kafka *k, fd_engine *e, bool reopen);

/* Is a commit in flight (started and neither committed nor aborted)? */
bool fd_txn_committing(const fd_kafka *k);
/* ... and in its first step, writing the epoch's records (more work to do
 * at once, not a broker to wait for)? */
bool fd_txn_writing(const fd_kafka *k);

/* How long the commit in flight has been going on (monotonic ms), 0 when
 * none is. */
int64_t fd_txn_commit_age_ms(const fd_kafka *k);

/* Readable when the offsets thread has returned (read it empty, then call
 * fd_txn_commit_step). Valid from fd_txn_new to fd_txn_free. */
int fd_txn_notify_fd(const fd_kafka *k);

/* Commit, waiting at most `timeout_ms`: finish the commit in flight, or
 * start one and finish it (records waiting for room in the producer are
 * handed over first). 0 when the transaction was committed, aborted
 * instead, or there was none (then the next one begins if `reopen`); -1
 * when it did not complete in time: still in flight (fd_txn_committing;
 * offsets and EndTxn may still reach the brokers) or not started (records
 * still waiting for room), or the context failed. */
int fd_txn_commit(fd_kafka *k, fd_engine *e, bool reopen, int64_t timeout_ms);

/* Abort, roll the state back to the last commit and rewind the consumer;
 * then begin the next transaction when `reopen`. Waits for the offsets
 * thread first if a commit was in flight. */
void fd_txn_abort(fd_kafka *k, fd_engine *e, bool reopen);

/* Wait for the offsets thread if it runs (it ends within librdkafka's own
 * timeout for the call, SEND_OFFSETS_TIMEOUT_MS in txn.c). Before the
 * producer is destroyed. */
void fd_txn_join(fd_kafka *k);

#endif
