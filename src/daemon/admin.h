/*
 * admin.h — the admin HTTP server: health, readiness, Prometheus metrics,
 * one lead's state and the funnel, on the daemon's libevent loop (evhttp).
 *
 * The server reads everything through an fd_admin_source: callbacks, so it
 * depends on neither fd_daemon's internals nor a particular clock, and tests
 * can serve a bare engine. It runs on the caller's event_base, in the loop's
 * thread, between two events: nothing it reads can change under it, and it
 * takes no locks. It never modifies the engine (fd_engine_lead only decays a
 * copy of the scores to `now`).
 *
 * Endpoints (GET and HEAD; any other method gets 405 with a JSON error and
 * "Allow: GET, HEAD", CONNECT included, on a connection libevent keeps
 * open whatever the headers say; TRACE is refused by libevent with 501;
 * unknown paths get 404 with {"error": "..."}; a query string is ignored
 * except by /v1/funnel;
 * every reply has a Content-Length, whatever HTTP version the request
 * names):
 *
 *   /healthz       200 text/plain "ok\n" while the loop runs; 503 with the
 *                  source's reason when it says the daemon is unhealthy
 *                  though the loop turns (a commit stalled).
 *   /readyz        200 {"ready":true}, or 503 {"ready":false,"status":"..."}
 *                  with the source's status text.
 *   /metrics       Prometheus text exposition 0.0.4 (see admin.c for every
 *                  metric, its type and where it comes from).
 *   /v1/leads/{id} 200: the lead as of src->now() (stage, scores, open SLAs,
 *                  handoff context), or 404. {id} is percent-decoded ("%40"
 *                  is '@'; '+' stays '+', as in any URL path).
 *   /v1/funnel     200: the funnel of the partitions this instance holds
 *                  (listed): stage entries, conversion rates between
 *                  consecutive stages, SLA compliance, over ?since= and
 *                  ?until= (RFC 3339 or ms; both optional), and leads per
 *                  stage now; 400 with a JSON error for another parameter
 *                  or a bad time (exact definitions at the top of admin.c).
 *
 * JSON conventions: times are ms since the Unix epoch; a time or string
 * that is not set (0, "", recency -1) is null; a rate with a zero
 * denominator is null. Every JSON body is valid UTF-8 whatever the engine or
 * the client put in a string: a byte that does not belong to a well-formed
 * UTF-8 sequence (overlong forms, surrogates, code points past U+10FFFF,
 * truncated sequences) is written as U+FFFD, one per maximal ill-formed
 * subpart, and control characters are escaped (\u00XX, or \n, \t, \r,
 * \b, \f). Prometheus label values get the same U+FFFD treatment.
 *
 * Bounds (what one client can hold):
 *   - connections: at most limits->max_connections open at once. At the cap
 *     the server stops accepting (the listener is disabled) and further
 *     clients wait in the kernel's listen backlog (128) until a connection
 *     closes; it never accepts and then drops them. fd_admin_connections
 *     tells how many are open.
 *   - time: a connection is closed limits->request_timeout_ms after it was
 *     accepted, whatever it is doing (a client sending a header byte now and
 *     then, a slow reader of the reply). The deadline is per connection, not
 *     per request: keep-alive requests share it, and a client that wants
 *     more reconnects. libevent's own 10 s timeout without progress also
 *     applies.
 *   - size: request headers (request line included) 8 KiB, bodies 1 KiB.
 *     Beyond them libevent answers by itself, with its small HTML error page
 *     (not JSON): 400 for headers or a request line over 8 KiB, 413 for a
 *     body; then it closes the connection. So does a malformed request line
 *     (400) and TRACE (501).
 *   - lead ids: 255 bytes once percent-decoded (the engine's limit); longer
 *     ones get 404 with a JSON error, as long as the request line fits the
 *     8 KiB above.
 *   - accept errors: when accept() fails (EMFILE or ENFILE at the fd limit,
 *     ENOBUFS, ENOMEM), the listener is paused for 100 ms, doubling up to
 *     1 s while the failures go on (reset by the next accepted connection),
 *     instead of spinning on a listening socket that stays readable; pending
 *     clients wait in the backlog meanwhile. The failure is logged at most
 *     once every 10 s, with a count of the ones not logged since.
 *
 * What it is not: no TLS, no authentication (bind it to loopback or a
 * management network), no writes.
 */
#ifndef FD_DAEMON_ADMIN_H
#define FD_DAEMON_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "base/hist.h"
#include "funneld/engine.h"
#include "kafka/kafka.h"

typedef struct fd_admin fd_admin;

/* What the server reads, called from the loop thread on each request. */
typedef struct fd_admin_source {
	/* required: the engine to inspect; may return NULL while there is none
	 * (lead and funnel requests then get 503, /metrics omits the engine's
	 * series) */
	fd_engine *(*engine)(void *ctx);
	/* optional: the daemon's counters (NULL: all zero) */
	void (*stats)(void *ctx, fd_kafka_stats *out);
	/* optional: started, partitions assigned, nothing restoring (NULL:
	 * always ready) */
	bool (*ready)(void *ctx);
	/* optional: why not ready, e.g. "restoring partitions 0, 3"; read only
	 * when ready() is false; NULL or NULL result: "not ready" */
	const char *(*status)(void *ctx);
	/* required: the daemon's clock, ms since the epoch (virtual in the
	 * demo); lead views are computed as of this time */
	int64_t (*now)(void *ctx);
	/* optional: NULL when healthy, else why not (the /healthz 503 body);
	 * NULL callback: healthy while the loop answers */
	const char *(*unhealthy)(void *ctx);
	/* optional: how long the daemon's callbacks held the loop (NULL: the
	 * histogram is not exported) */
	void (*loop_turns)(void *ctx, fd_hist *out);
	void *ctx;
	/* optional (after ctx, so older initialisers leave them NULL): the
	 * per-record histograms, event time to outputs (ms scale) and
	 * processing time (µs scale) (NULL: not exported) */
	void (*records)(void *ctx, fd_hist *event_age, fd_hist *record_time);
	/* optional: the consumer lag of each assigned input partition, sorted
	 * by topic and partition; *out valid until the loop's next turn (NULL:
	 * no funneld_consumer_lag) */
	size_t (*lag)(void *ctx, const fd_lag_entry **out);
} fd_admin_source;

/* What a client may hold (config keys admin.*). Both must be positive. */
typedef struct fd_admin_limits {
	int max_connections;        /* open connections at most (admin.max_connections; 64) */
	int64_t request_timeout_ms; /* from accept to the last byte of the reply
	                             * (admin.request_timeout; 5000) */
} fd_admin_limits;

/* Listen on `address`:`port` (port 0: an ephemeral port, see
 * fd_admin_port) and serve requests on `base` within `limits` (NULL: the
 * defaults of the config keys; `*limits` is copied). `*src` is copied;
 * `base` and whatever src->ctx points to must outlive the server. Call it,
 * and fd_admin_free, in the loop's thread. Logs one info line with the
 * address and port it listens on. Returns NULL with errstr on failure,
 * e.g. "admin HTTP: cannot listen on 127.0.0.1:8080: Address already in
 * use", and errno saying why: EINVAL (an argument), EADDRNOTAVAIL (the
 * address does not resolve), bind(2)'s error (EADDRINUSE, EACCES, ...),
 * ENOMEM or EIO (the server could not be created). */
fd_admin *fd_admin_new(struct event_base *base, const char *address, int port,
                       const fd_admin_limits *limits, const fd_admin_source *src, char *errstr,
                       size_t errstr_size);

/* The port actually bound. */
int fd_admin_port(const fd_admin *a);

/* Connections open now: accepted and not yet closed (never more than
 * limits->max_connections). */
size_t fd_admin_connections(const fd_admin *a);

/* Close the listener and every open connection (requests in flight are
 * dropped). Call before event_base_free(). NULL is a no-op. */
void fd_admin_free(fd_admin *a);

#endif
