/*
 * restore.h — a partition's state comes back before the partition is
 * processed: the changelog topic is read from the beginning to the end it
 * had when the restore began, and every lead is imported into the engine
 * (the last record per lead wins, a tombstone removes it). That end is the
 * high watermark the partition's first fetch reports, and the reader's
 * end-of-partition events say when it is reached (restore.c): nothing on
 * the loop waits for a broker's answer.
 *
 * Assigned partitions stay paused (consumer.c) and are restored together:
 * one reader is assigned every queued changelog partition at once, and a
 * partition assigned while a restore runs joins it (incremental assign) at
 * the next step instead of waiting for the others. The work is cut into
 * bounded steps on the loop (FD_RESTORE_STEP_RECORDS records or
 * FD_RESTORE_STEP_US, whichever comes first), so the admin server and the
 * other partitions keep being served. A partition revoked mid-restore
 * leaves the reader alone; the others go on. When nothing is queued or
 * being read any more, the daemon fires the deadlines that passed while
 * nobody owned those leads, then every restored partition resumes
 * together, so inputs never overtake a deadline that was already due.
 *
 * Reading uses a consumer of its own, without a group (assign only, no
 * commits). Records written after the restore began belong to the instance
 * that owns the partition now, which is us, and we have not written any yet.
 *
 * What it is not: the writing side is changelog.c; a cache or a query path
 * (the engine holds the state).
 */
#ifndef FD_KAFKA_RESTORE_H
#define FD_KAFKA_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "funneld/engine.h"
#include "kafka/kafka.h"

#define FD_RESTORE_STEP_RECORDS 5000 /* records imported per step, at most */
#define FD_RESTORE_STEP_US 2000      /* and a step stops after about this long */
#define FD_RESTORE_IDLE_MS 5         /* retry delay when a step read nothing */
#define FD_RESTORE_RETRY_MS 200      /* retry delay after a transient error */

typedef struct fd_restore_stats {
	uint64_t records;      /* changelog records read */
	uint64_t leads;        /* leads imported (last record per lead wins) */
	uint64_t tombstones;
	uint64_t bad;          /* undecodable records skipped (logged) */
	uint64_t refused;      /* new leads refused at state.max_leads (counted, in
	                          the summary line only) */
	double seconds;
} fd_restore_stats;

/* The reader's bulk-read defaults, on `conf`: a prefetch queue large enough
 * that librdkafka 2.0.2's fetcher, which stops at the queue's limit and
 * looks again only up to a second later, never lets it run dry while the
 * steps import (queued.min.messages 1,000,000, queued.max.messages.kbytes
 * 131,072: at most about 130 MB buffered, during a restore only), and
 * fetch responses of 16 MB at most (fetch.max.bytes). fd_client_conf applies
 * them before the user's Kafka properties, which may override them.
 * 0, or -1 with errstr. */
int fd_restore_conf_defaults(rd_kafka_conf_t *conf, char *errstr, size_t errstr_size);

/* A reader of `topic`. `conf` (fd_client_conf's FD_CLIENT_READER, or the
 * caller's, with fd_restore_conf_defaults or not) is consumed on success
 * and on failure. It reads from offset 0 with auto.offset.reset=earliest
 * (set here): no offset lookup before the first fetch, and a log start
 * beyond 0 (or one that moves during the restore) restarts at the new
 * start, never at the end. */
fd_restore *fd_restore_new(const char *topic, rd_kafka_conf_t *conf, char *errstr,
                           size_t errstr_size);
void fd_restore_free(fd_restore *r);

/* ---- the queue, on the daemon's loop ------------------------------------------- */

/* Queue partition p (already paused): the next fd_restore_work assigns it
 * to the reader, with every other queued one, and it joins the restore in
 * progress. A partition already pending is not queued twice. -1 on
 * allocation failure. */
int fd_restore_enqueue(fd_kafka *k, int32_t p);

/* Partition p is revoked: drop it from the queue, take it from the reader
 * if it is being read (the others go on; the leads it imported so far are
 * the caller's to drop, fd_kafka_drop_partition), forget it if it waits to
 * resume. True when it was pending: call fd_restore_work again soon. */
bool fd_restore_forget(fd_kafka *k, int32_t p);

/* Is partition p queued for or in its restore? */
bool fd_restore_pending(const fd_restore *r, int32_t p);

/* Partitions the reader is reading now (queued ones join at the next step). */
size_t fd_restore_reading(const fd_restore *r);

typedef enum fd_restore_result {
	FD_RESTORE_FAILED = -1, /* the context failed: never process a partition
	                           without its state */
	FD_RESTORE_DONE = 0,    /* nothing queued: restored partitions may resume */
	FD_RESTORE_MORE = 1,    /* call again at once */
	FD_RESTORE_IDLE = 2,    /* nothing to read yet: call again in
	                           FD_RESTORE_IDLE_MS */
	FD_RESTORE_RETRY = 3    /* the changelog partition is not ready (a young
	                           topic, a moving leader): call again in
	                           FD_RESTORE_RETRY_MS; after 60 s it fails */
} fd_restore_result;

/* One bounded step: assign the queued partitions to the reader, then import
 * up to FD_RESTORE_STEP_RECORDS records (for FD_RESTORE_STEP_US at most) of
 * whichever partitions the reader returns. A transient error (unknown
 * partition, no leader, transport) is retried, not fatal; 60 s without a
 * record or an end of partition of any partition being read fails the
 * restore (one partition may wait its turn while the fetches carry others,
 * so the limit is the whole restore's). */
fd_restore_result fd_restore_work(fd_kafka *k, fd_engine *e);

/* Restored partitions waiting to resume. */
size_t fd_restore_restored(const fd_restore *r);

/* Resume every restored partition (after the due deadlines fired). */
void fd_restore_resume(fd_kafka *k);

/* "restoring partitions 3, 4, 7 (offsets 1200 of 5000)" for /readyz: the
 * partitions being read then the queued ones (at most about 160
 * characters of them, then "and N more"), and how far the reader is,
 * summed over the partitions whose end is known. Valid until the next
 * call. */
const char *fd_restore_status(fd_restore *r);

/* ---- blocking (benchmarks, tools) ------------------------------------------------ */

/* Restore partitions parts[0..n) together, by the same steps as
 * fd_restore_work, into `e`; *stats sums them (seconds: the whole). Only
 * while the queue above is empty. 0, or -1 with errstr when one cannot be
 * read. */
int fd_restore_partitions(fd_restore *r, const int32_t *parts, size_t n, fd_engine *e,
                          fd_restore_stats *stats, char *errstr, size_t errstr_size);

#endif
