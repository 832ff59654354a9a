/*
 * changelog.h — the state changelog topic: one compacted LeadState record per
 * lead, keyed by lead id, on the partition number of the input partition
 * that owns the lead (set explicitly, never by a partitioner).
 *
 * This module creates and checks the topic and restores a partition's leads
 * into an engine. Writing records is the daemon's job (it orders them after
 * the outputs of their epoch, see daemon.c). What it is not: a cache or a
 * query path; the engine holds the state.
 */
#ifndef FD_KAFKA_CHANGELOG_H
#define FD_KAFKA_CHANGELOG_H

#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "funneld/engine.h"

typedef struct fd_changelog fd_changelog;

/* `conf` carries the connection properties (bootstrap, security) and is
 * consumed (owned) on success and on failure. */
fd_changelog *fd_changelog_new(const char *topic, rd_kafka_conf_t *conf, char *errstr,
                               size_t errstr_size);
void fd_changelog_free(fd_changelog *cl);

/* Make sure the topic exists with `partitions` partitions and
 * cleanup.policy=compact, creating it if missing (through `admin`, any
 * client handle). -1 with errstr when it exists with another partition
 * count or cannot be created. */
int fd_changelog_ensure(fd_changelog *cl, rd_kafka_t *admin, int partitions, char *errstr,
                        size_t errstr_size);

typedef struct fd_restore_stats {
	uint64_t records;      /* changelog records read */
	uint64_t leads;        /* leads imported (last record per lead wins) */
	uint64_t tombstones;
	uint64_t bad;          /* undecodable records skipped (logged) */
	double seconds;
} fd_restore_stats;

/* Incremental restore of one partition at a time, for an event loop:
 * begin (queries the end offset, assigns the reader), then step until it
 * returns 1. A step reads at most `max` records and never waits; it
 * returns 1 when the partition is restored, 0 when there is more to read,
 * -1 on error (errstr). Cancel abandons the current restore (the caller
 * drops what was imported). */
int fd_changelog_restore_begin(fd_changelog *cl, int32_t partition, char *errstr,
                               size_t errstr_size);
int fd_changelog_restore_step(fd_changelog *cl, fd_engine *e, size_t max, fd_restore_stats *stats,
                              char *errstr, size_t errstr_size);
void fd_changelog_restore_cancel(fd_changelog *cl);

/* The partition being restored, or -1. */
int32_t fd_changelog_restoring(const fd_changelog *cl);

/* Read changelog partition `partition` from the beginning to its end and
 * import every lead into `e` (a tombstone removes it). Blocking; returns 0,
 * or -1 with errstr when the partition cannot be read. */
int fd_changelog_restore(fd_changelog *cl, int32_t partition, fd_engine *e,
                         fd_restore_stats *stats, char *errstr, size_t errstr_size);

#endif
