/*
 * daemon.h — the funneld daemon: the Kafka layer and the engine composed on
 * a libevent loop.
 *
 * One fd_daemon owns an engine and a Kafka context (src/kafka: the group
 * consumer of the three inputs, the producer of every output, the
 * changelog, transactions, restore). librdkafka's queues wake the loop
 * through their io-event fds; a timer fires due SLA deadlines; one
 * housekeeping tick per commit interval closes the epoch (LeadScores, state
 * records, evictions) and commits (exactly_once: starts a commit that the
 * loop advances without waiting for the brokers); signals drain, stop and
 * reload; the admin HTTP server answers from the same loop.
 *
 * The clock is injected (fd_clock): the wall clock for `funneld run`, an
 * accelerated clock for `funneld demo`. The daemon never calls time()
 * itself.
 *
 * What it is not: no Kafka client code (src/kafka), no decoding (src/wire),
 * no scoring (src/engine), no configuration parsing (src/config).
 */
#ifndef FD_DAEMON_DAEMON_H
#define FD_DAEMON_DAEMON_H

#include <event2/event.h>

#include "base/clock.h"
#include "config/config.h"
#include "funneld/engine.h"
#include "kafka/kafka.h"

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

/* Create the daemon: Kafka clients, engine, loop events, the admin HTTP
 * server. Does not contact the broker yet. NULL with errstr on failure;
 * then *config_error (when not NULL) says whether the configuration asked
 * for what this host cannot give (the admin server cannot listen on
 * admin.address:admin.port: taken, not an address of this host, not
 * allowed), which `funneld run` reports as a configuration error (exit
 * 78, EX_CONFIG). */
fd_daemon *fd_daemon_new(const fd_daemon_options *opt, bool *config_error, char *errstr,
                         size_t errstr_size);

/* Check the input topics (exist, co-partitioned), subscribe and start
 * consuming. Retries (logging) while the broker is unreachable; returns -1
 * with errstr if the topics are missing or not co-partitioned. Blocks at
 * most `timeout_ms` waiting for metadata (-1: forever). */
int fd_daemon_start(fd_daemon *d, int timeout_ms, char *errstr, size_t errstr_size);

/* The same without blocking: returns at once, and the loop (which must run
 * next) starts the daemon when the brokers answer. Each attempt runs on a
 * thread of its own, retried every second while no broker answers; the
 * admin server, signals and systemd's STATUS= say what it waits for
 * meanwhile (/readyz 503 "starting: waiting for the brokers (...): ..."),
 * and a stop is served within one attempt (1 s). Missing or
 * non-co-partitioned topics stop the daemon with exit status 1. -1 with
 * errstr only when the loop's events cannot be set up. */
int fd_daemon_start_async(fd_daemon *d, char *errstr, size_t errstr_size);

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

/* The daemon's counters are the Kafka layer's (kafka/kafka.h). */
typedef fd_kafka_stats fd_daemon_stats;

void fd_daemon_stats_get(const fd_daemon *d, fd_daemon_stats *s);

/* `funneld run`: load nothing, run `cfg` on its own loop with the wall clock
 * until SIGTERM/SIGINT. Returns the process exit status. */
int fd_daemon_run(const fd_config *cfg, const char *config_path,
                  const char *const *overrides, size_t n_overrides);

#endif
