/*
 * daemon.h — the funneld daemon: Kafka in, engine, Kafka out, on a libevent
 * loop.
 *
 * One fd_daemon owns a consumer (the three input topics, one consumer group,
 * cooperative-sticky, manual commits), an idempotent producer (outputs and
 * dead letters) and an engine. librdkafka's queues wake the loop through
 * their io-event fds; a timer fires due SLA deadlines; one housekeeping tick
 * per commit interval emits LeadScores, closes the output epoch and commits
 * input offsets whose outputs are all acknowledged.
 *
 * The clock is injected (fd_clock): the wall clock for `funneld run`, an
 * accelerated clock for `funneld demo`. The daemon never calls time()
 * itself.
 *
 * What it is not: no decoding (src/wire), no scoring (src/engine), no
 * configuration parsing (config.c).
 */
#ifndef FD_DAEMON_DAEMON_H
#define FD_DAEMON_DAEMON_H

#include <event2/event.h>

#include "base/clock.h"
#include "config/config.h"
#include "funneld/engine.h"


typedef struct fd_daemon fd_daemon;

typedef struct fd_daemon_options {
	const fd_config *cfg;       /* copied */
	struct event_base *base;    /* the loop to run on (not owned) */
	fd_clock clock;
	bool handle_signals;        /* SIGTERM/SIGINT drain and stop, SIGHUP reloads */
	const char *config_path;    /* for SIGHUP reloads; NULL: no reload */
	const char *const *overrides; /* -o path=value, re-applied on reload (copied) */
	size_t n_overrides;
	/* Optional tap: called for every transition / SLA event the daemon
	 * publishes, after it was handed to the producer (the demo prints its
	 * feed from here). */
	fd_sink tap;
} fd_daemon_options;

/* Create the daemon: Kafka clients, engine, loop events. Does not contact the
 * broker yet. NULL with errstr on failure. */
fd_daemon *fd_daemon_new(const fd_daemon_options *opt, char *errstr, size_t errstr_size);

/* Check the input topics (exist, co-partitioned), subscribe and start
 * consuming. Retries (logging) while the broker is unreachable; returns -1
 * with errstr if the topics are missing or not co-partitioned. Blocks at
 * most `timeout_ms` waiting for metadata (-1: forever). */
int fd_daemon_start(fd_daemon *d, int timeout_ms, char *errstr, size_t errstr_size);

/* Begin a graceful stop: stop consuming, fire due timers, flush outputs,
 * commit, close the consumer; then event_base_loopexit() on the base.
 * Idempotent. */
void fd_daemon_stop(fd_daemon *d);

/* True once fd_daemon_stop() finished. */
bool fd_daemon_stopped(const fd_daemon *d);

/* Exit status the daemon wants (0 after a clean stop, non-zero after a fatal
 * Kafka error). */
int fd_daemon_exit_code(const fd_daemon *d);

void fd_daemon_free(fd_daemon *d);

/* The admin HTTP port actually bound (admin.port 0: ephemeral), -1 if the
 * server is disabled. */
int fd_daemon_admin_port(const fd_daemon *d);

/* Read-only access for the demo summary, the admin server and tests. The
 * engine holds the leads of the assigned partitions only: a stop hands the
 * partitions back and empties it, so read it before fd_daemon_stop(). */
fd_engine *fd_daemon_engine(fd_daemon *d);

typedef struct fd_daemon_stats {
	uint64_t consumed;          /* input records handled */
	uint64_t dead_letters;
	uint64_t produced;          /* output records handed to the producer */
	uint64_t delivered;         /* ... acknowledged by the broker */
	uint64_t commits;
	uint64_t scores;
	uint64_t state_records;     /* changelog records written (tombstones included) */
	uint64_t restoring;         /* partitions being restored right now */
	uint64_t restored_leads;
	uint64_t evicted;
	uint64_t refused_full;      /* new leads refused at the lead cap */
} fd_daemon_stats;

void fd_daemon_stats_get(const fd_daemon *d, fd_daemon_stats *s);

/* `funneld run`: load nothing, run `cfg` on its own loop with the wall clock
 * until SIGTERM/SIGINT. Returns the process exit status. */
int fd_daemon_run(const fd_config *cfg, const char *config_path,
                  const char *const *overrides, size_t n_overrides);

#endif
