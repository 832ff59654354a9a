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
 * "Allow: GET, HEAD"; TRACE and CONNECT are refused by libevent with 501;
 * unknown paths get 404 with {"error": "..."}; a query string is ignored):
 *
 *   /healthz       200 text/plain "ok\n" while the loop runs.
 *   /readyz        200 {"ready":true}, or 503 {"ready":false,"status":"..."}
 *                  with the source's status text.
 *   /metrics       Prometheus text exposition 0.0.4 (see admin.c for every
 *                  metric, its type and where it comes from).
 *   /v1/leads/{id} 200: the lead as of src->now() (stage, scores, open SLAs,
 *                  handoff context), or 404. {id} is percent-decoded ("%40"
 *                  is '@'; '+' stays '+', as in any URL path).
 *   /v1/funnel     200: leads per stage now, stage entries since start,
 *                  conversion rates between consecutive stages, SLA
 *                  compliance (exact definitions at the top of admin.c).
 *
 * JSON conventions: times are ms since the Unix epoch; a time or string
 * that is not set (0, "", recency -1) is null; a rate with a zero
 * denominator is null.
 *
 * Bounds: request headers (request line included) 8 KiB, bodies 1 KiB
 * (larger: 413 from libevent), lead ids 255 bytes (the engine's limit),
 * 10 s read/write timeout per connection.
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

#include "kafka/kafka.h"
#include "funneld/engine.h"

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
	void *ctx;
} fd_admin_source;

/* Listen on `address`:`port` (port 0: an ephemeral port, see
 * fd_admin_port) and serve requests on `base`. `*src` is copied; `base` and
 * whatever src->ctx points to must outlive the server. Returns NULL with
 * errstr on failure, e.g. "admin HTTP: cannot listen on 127.0.0.1:8080:
 * Address already in use". */
fd_admin *fd_admin_new(struct event_base *base, const char *address, int port,
                       const fd_admin_source *src, char *errstr, size_t errstr_size);

/* The port actually bound. */
int fd_admin_port(const fd_admin *a);

/* Close the listener and every open connection (requests in flight are
 * dropped). Call before event_base_free(). NULL is a no-op. */
void fd_admin_free(fd_admin *a);

#endif
