/*
 * restore.h — a partition's state comes back before the partition is
 * processed: the changelog topic is read from the beginning to the end it
 * had when the restore began, and every lead is imported into the engine
 * (the last record per lead wins, a tombstone removes it). That end is the
 * high watermark the partition's first fetch reports, and the reader's
 * end-of-partition events say when it is reached (restore.c): nothing on
 * the loop waits for a broker's answer.
 *
 * Assigned partitions stay paused (consumer.c) and wait in a queue; one is
 * restored at a time, in bounded steps on the loop (the admin server and
 * the other partitions keep being served). When the queue is empty, the
 * daemon fires the deadlines that passed while nobody owned those leads,
 * then every restored partition resumes together, so inputs never overtake
 * a deadline that was already due.
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

#define FD_RESTORE_STEP_RECORDS 5000 /* records imported per step */
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

/* A reader of `topic`. `conf` (fd_client_conf's FD_CLIENT_READER, or the
 * caller's) is consumed on success and on failure. */
fd_restore *fd_restore_new(const char *topic, rd_kafka_conf_t *conf, char *errstr,
                           size_t errstr_size);
void fd_restore_free(fd_restore *r);

/* ---- the queue, on the daemon's loop ------------------------------------------- */

/* Queue partition p (already paused). -1 on allocation failure. */
int fd_restore_enqueue(fd_kafka *k, int32_t p);

/* Partition p is revoked: drop it from the queue, cancel its restore if in
 * progress (returns true: call fd_restore_work again soon), forget it if it
 * waits to resume. */
bool fd_restore_forget(fd_kafka *k, int32_t p);

/* Is partition p waiting for or in its restore? */
bool fd_restore_pending(const fd_restore *r, int32_t p);

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

/* One bounded step: begin the next queued partition, or import up to
 * FD_RESTORE_STEP_RECORDS records of the current one. A transient error
 * (unknown partition, no leader, transport) is retried, not fatal. */
fd_restore_result fd_restore_work(fd_kafka *k, fd_engine *e);

/* Restored partitions waiting to resume. */
size_t fd_restore_restored(const fd_restore *r);

/* Resume every restored partition (after the due deadlines fired). */
void fd_restore_resume(fd_kafka *k);

/* "restoring partitions 3, 4, 7" for /readyz. */
const char *fd_restore_status(fd_restore *r);

/* ---- one partition, blocking (benchmarks, tools) --------------------------------- */

/* Read partition `partition` from the beginning to its end and import every
 * lead into `e`. 0, or -1 with errstr when it cannot be read. */
int fd_restore_partition(fd_restore *r, int32_t partition, fd_engine *e,
                         fd_restore_stats *stats, char *errstr, size_t errstr_size);

#endif
