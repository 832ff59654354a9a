/*
 * demo.c — `funneld demo`: puts the pieces on one libevent loop and runs
 * them on an accelerated clock (see demo.h).
 *
 *   embedded mock cluster (librdkafka's, in-process, every configured topic)
 *   traffic generator  ──profiles, engagement──▶ inputs ─┐
 *   sales team         ──activities────────────▶ inputs ─┼─▶ the daemon ─▶ outputs
 *        ▲                                               │        │
 *        └──────────── transitions topic ◀───────────────┘        └─ tap ─▶ feed (stdout)
 *
 * The clock is virtual: now = 2026-01-05 08:00 UTC + real time elapsed x
 * speed. It stands still until the daemon has consumed its first record
 * (its consumer group takes a few real seconds to form), so the story
 * starts when the daemon is listening. One demo tick (every TICK_MS real)
 * lets the traffic generator and the sales team act on everything due;
 * --duration and SIGINT/SIGTERM stop the daemon (which drains), then the
 * summary is printed and everything is released.
 *
 * What it is not: a benchmark, or a test of the daemon's guarantees (the
 * integration tests do that); it is a guided tour.
 */
#include "demo/demo.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "daemon/daemon.h"
#include "demo/demo_feed.h"
#include "demo/demo_kafka.h"
#include "demo/demo_sales.h"
#include "demo/demo_traffic.h"
#include "base/log.h"

#define TICK_MS 20
#define FEED_HOLD_MS 1500 /* real time a feed line waits for older ones */
#define VIRTUAL_START_MS INT64_C(1767600000000) /* Mon 2026-01-05 08:00:00 UTC */
#define WARMUP_LIMIT_S 60                        /* give up if the daemon never consumes */
#define FLUSH_MS 5000

typedef struct demo_clock {
	int64_t virtual_ms;     /* virtual time at mono_us (or for good, when stopped) */
	int64_t mono_us;
	double speed;
	bool running;
} demo_clock;

typedef struct demo {
	const fd_demo_options *o;
	struct event_base *base;
	rd_kafka_t *mock_handle;
	rd_kafka_mock_cluster_t *mock;
	fd_config *cfg;
	demo_clock clock;
	fd_daemon *daemon;
	fd_demo_traffic *traffic;
	fd_demo_sales *sales;
	fd_demo_feed *feed;
	int64_t feed_hold_ms;   /* virtual: FEED_HOLD_MS at the demo's speed */
	struct event *tick_ev, *duration_ev, *sig_ev[2];
	int64_t warmup_started_us, clock_started_us;
	double real_s;
	bool stopping;
	int rc;
} demo;

void fd_demo_defaults(fd_demo_options *o)
{
	o->duration_s = 90;
	o->speed = 7200;
	o->leads = 300;
	o->seed = 42;
	o->partitions = 3;
	o->color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
}

/* ---- the accelerated clock ------------------------------------------------ */

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t clock_now(void *ctx)
{
	const demo_clock *c = ctx;
	if (!c->running)
		return c->virtual_ms;
	return c->virtual_ms + (int64_t)((double)(mono_us() - c->mono_us) * c->speed / 1000.0);
}

static void clock_start(demo_clock *c)
{
	c->mono_us = mono_us();
	c->running = true;
}

static void clock_freeze(demo_clock *c)
{
	c->virtual_ms = clock_now(c);
	c->running = false;
}

/* ---- the configuration the daemon runs with -------------------------------- */

/* Set Kafka property `name` in cfg (replacing it if present). */
static int set_kafka_prop(fd_config *cfg, const char *name, const char *value)
{
	char *v = strdup(value);
	if (!v)
		return -1;
	for (int i = 0; i < cfg->settings.n_kafka_props; i++) {
		if (strcmp(cfg->settings.kafka_props[i].name, name) == 0) {
			free(cfg->settings.kafka_props[i].value);
			cfg->settings.kafka_props[i].value = v;
			return 0;
		}
	}
	char *n = strdup(name);
	fd_kafka_prop *props = n ? realloc(cfg->settings.kafka_props,
	                                   (size_t)(cfg->settings.n_kafka_props + 1) * sizeof *props)
	                         : NULL;
	if (!props) {
		free(n);
		free(v);
		return -1;
	}
	cfg->settings.kafka_props = props;
	props[cfg->settings.n_kafka_props].name = n;
	props[cfg->settings.n_kafka_props].value = v;
	cfg->settings.n_kafka_props++;
	return 0;
}

/* A copy of `cfg` pointed at the embedded cluster. The file's Kafka
 * properties (brokers, security, ...) are for a real cluster and are left
 * out; everything else (topics, rules, SLAs) is kept. */
static fd_config *demo_config(const fd_config *cfg, const char *bootstrap)
{
	fd_config *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	*c = *cfg;
	c->settings.kafka_props = NULL;
	c->settings.n_kafka_props = 0;
	/* the mock cluster holds an empty fetch for fetch.wait.max.ms (500 ms
	 * by default, an hour of virtual time) even when records arrive */
	if (set_kafka_prop(c, "bootstrap.servers", bootstrap) != 0 ||
	    set_kafka_prop(c, "fetch.wait.max.ms", "20") != 0) {
		fd_config_free(c);
		free(c);
		return NULL;
	}
	snprintf(c->settings.group_id, sizeof c->settings.group_id, "funneld-demo-%ld", (long)getpid());
	/* the admin HTTP server on an ephemeral loopback port: demos never
	 * collide with each other or with a running daemon */
	if (c->settings.admin_address[0]) {
		snprintf(c->settings.admin_address, sizeof c->settings.admin_address, "127.0.0.1");
		c->settings.admin_port = 0;
	}
	return c;
}

/* ---- the embedded cluster -------------------------------------------------- */

static int start_cluster(demo *d, const fd_config *cfg, char *errstr, size_t errstr_size)
{
	d->mock = fd_demo_kafka_mock(1, d->o->partitions, &cfg->settings.topics, &d->mock_handle,
	                             errstr, errstr_size);
	if (!d->mock)
		return -1;
	return 0;
}

/* ---- the loop -------------------------------------------------------------- */

/* Stop the clock and take the engine's numbers while it still holds
 * every lead. */
static void end_story(demo *d)
{
	if (d->clock.running)
		d->real_s = (double)(mono_us() - d->clock_started_us) / 1e6;
	clock_freeze(&d->clock);
	fd_demo_feed_capture(d->feed, fd_daemon_engine(d->daemon), clock_now(&d->clock));
}

static void stop(demo *d, const char *why)
{
	if (d->stopping) {
		fd_log(FD_LOG_WARNING, "demo: stopping at once");
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = true;
	end_story(d);
	event_del(d->tick_ev);
	if (d->duration_ev)
		event_del(d->duration_ev);
	if (why)
		fd_log(FD_LOG_NOTICE, "demo: %s; draining", why);
	fd_daemon_stop(d->daemon); /* drains, then leaves the loop */
}

static void on_duration(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stop(arg, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	stop(arg, sig == SIGINT ? "interrupted" : "terminated");
}

/* Start the story once the daemon has its partitions and consumed the
 * first profile. */
static void maybe_start_clock(demo *d)
{
	fd_daemon_stats st;
	fd_daemon_stats_get(d->daemon, &st);
	if (st.consumed == 0) {
		if (mono_us() - d->warmup_started_us > WARMUP_LIMIT_S * INT64_C(1000000)) {
			fd_log(FD_LOG_ERR, "demo: the daemon consumed nothing in %d s; giving up",
			       WARMUP_LIMIT_S);
			d->rc = 1;
			stop(d, NULL);
		}
		return;
	}
	clock_start(&d->clock);
	d->clock_started_us = d->clock.mono_us;
	if (d->o->duration_s > 0) {
		double s = d->o->duration_s;
		struct timeval tv = { (time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6) };
		evtimer_add(d->duration_ev, &tv);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	demo *d = arg;
	if (!d->clock.running) {
		maybe_start_clock(d);
		if (d->stopping)
			return;
	}
	int64_t now = clock_now(&d->clock);
	/* the marketing traffic and the sales team send in one virtual-time
	   order: whichever has the earlier record due goes first */
	fd_demo_sales_read(d->sales, now);
	for (int budget = 100000; budget > 0; budget--) {
		int64_t traffic = fd_demo_traffic_next_due(d->traffic);
		int64_t sales = fd_demo_sales_next_due(d->sales);
		if (traffic > now && sales > now)
			break;
		if (traffic <= sales)
			fd_demo_traffic_tick(d->traffic, traffic);
		else
			fd_demo_sales_tick(d->sales, sales);
	}
	fd_demo_feed_flush(d->feed, now - d->feed_hold_ms);
	if (fd_daemon_stopped(d->daemon) && !d->stopping) {
		/* the daemon stopped on its own (fatal Kafka error) */
		d->stopping = true;
		end_story(d);
		event_base_loopexit(d->base, NULL);
	}
}

static int add_events(demo *d)
{
	d->tick_ev = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	d->duration_ev = evtimer_new(d->base, on_duration, d);
	d->sig_ev[0] = evsignal_new(d->base, SIGINT, on_signal, d);
	d->sig_ev[1] = evsignal_new(d->base, SIGTERM, on_signal, d);
	struct timeval tick = { 0, (suseconds_t)TICK_MS * 1000 };
	return d->tick_ev && d->duration_ev && d->sig_ev[0] && d->sig_ev[1] &&
	               event_add(d->tick_ev, &tick) == 0 && event_add(d->sig_ev[0], NULL) == 0 &&
	               event_add(d->sig_ev[1], NULL) == 0
	           ? 0
	           : -1;
}

static void summary(demo *d)
{
	fd_demo_totals t = { 0 };
	t.real_s = d->real_s;
	t.start_ms = VIRTUAL_START_MS;
	t.end_ms = clock_now(&d->clock);
	fd_daemon_stats_get(d->daemon, &t.daemon);
	fd_demo_traffic_stats_get(d->traffic, &t.traffic);
	fd_demo_sales_stats_get(d->sales, &t.sales);
	fd_demo_feed_summary(d->feed, &t);
}

/* ---- fd_demo_run ------------------------------------------------------------ */

static void teardown(demo *d)
{
	if (d->tick_ev)
		event_free(d->tick_ev);
	if (d->duration_ev)
		event_free(d->duration_ev);
	for (int i = 0; i < 2; i++)
		if (d->sig_ev[i])
			event_free(d->sig_ev[i]);
	/* clients first, while the cluster still answers */
	fd_demo_sales_free(d->sales, FLUSH_MS);
	fd_demo_traffic_free(d->traffic, FLUSH_MS);
	fd_daemon_free(d->daemon);
	fd_demo_feed_free(d->feed);
	fd_demo_kafka_mock_free(d->mock, d->mock_handle);
	if (d->cfg) {
		fd_config_free(d->cfg);
		free(d->cfg);
	}
	if (d->base)
		event_base_free(d->base);
}

int fd_demo_run(const fd_config *cfg, const fd_demo_options *o)
{
	char err[1024];
	demo d = { .o = o, .rc = 1 };
	d.clock.virtual_ms = VIRTUAL_START_MS;
	d.clock.speed = o->speed > 0 ? o->speed : 1;
	d.feed_hold_ms = (int64_t)(FEED_HOLD_MS * d.clock.speed);

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* the feed replaces the daemon's per-transition info lines; -o
	 * log.level=debug still shows everything */
	if (fd_log_enabled(FD_LOG_INFO) && !fd_log_enabled(FD_LOG_DEBUG))
		fd_log_init(FD_LOG_WARNING);

	if (start_cluster(&d, cfg, err, sizeof err) != 0) {
		fd_log(FD_LOG_ERR, "demo: %s", err);
		goto out;
	}
	const char *bootstrap = rd_kafka_mock_cluster_bootstraps(d.mock);
	d.cfg = demo_config(cfg, bootstrap);
	d.base = event_base_new();
	if (!d.cfg || !d.base) {
		fd_log(FD_LOG_ERR, "demo: out of memory");
		goto out;
	}

	double virtual_run_ms = o->duration_s > 0 ? o->duration_s * o->speed * 1000.0 : 0;
	double window = virtual_run_ms > 0 ? 0.45 * virtual_run_ms : 4.0 * (double)FD_MS_DAY;
	if (window < 12.0 * (double)FD_MS_HOUR)
		window = 12.0 * (double)FD_MS_HOUR;
	if (window > 4.0 * (double)FD_MS_DAY)
		window = 4.0 * (double)FD_MS_DAY;
	d.traffic = fd_demo_traffic_new(d.cfg, bootstrap, o->leads, o->seed, VIRTUAL_START_MS,
	                                (int64_t)window, err, sizeof err);
	d.sales = d.traffic ? fd_demo_sales_new(d.cfg, bootstrap, o->partitions, o->leads, o->seed,
	                                        err, sizeof err)
	                    : NULL;
	if (!d.traffic || !d.sales) {
		fd_log(FD_LOG_ERR, "demo: %s", err);
		goto out;
	}
	d.feed = fd_demo_feed_new(d.cfg, d.traffic, o->leads, o->color, stdout);
	if (!d.feed) {
		fd_log(FD_LOG_ERR, "demo: out of memory");
		goto out;
	}

	fd_demo_feed_banner(d.feed, o, bootstrap, VIRTUAL_START_MS);
	fd_clock clock = { clock_now, d.clock.speed, &d.clock };
	fd_daemon_options opt = { .cfg = d.cfg, .base = d.base, .clock = clock,
		                      .handle_signals = false, .tap = fd_demo_feed_sink(d.feed) };
	d.daemon = fd_daemon_new(&opt, NULL, err, sizeof err);
	if (!d.daemon || fd_daemon_start(d.daemon, 10000, err, sizeof err) != 0) {
		fd_log(FD_LOG_ERR, "demo: daemon: %s", err);
		goto out;
	}
	if (fd_daemon_admin_port(d.daemon) > 0)
		printf("admin: curl http://127.0.0.1:%d/v1/funnel   (also /metrics, /readyz, /v1/leads/lead-0042)\n",
		       fd_daemon_admin_port(d.daemon));
	if (add_events(&d) != 0) {
		fd_log(FD_LOG_ERR, "demo: libevent: cannot add the demo's events");
		goto out;
	}
	d.warmup_started_us = mono_us();
	d.rc = 0;
	event_base_dispatch(d.base);

	if (!d.stopping) /* the loop ran dry: should not happen */
		end_story(&d);
	summary(&d);
	if (d.rc == 0)
		d.rc = fd_daemon_exit_code(d.daemon);
out:
	teardown(&d);
	return d.rc;
}
