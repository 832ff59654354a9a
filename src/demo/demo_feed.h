/*
 * demo_feed.h — what the newcomer reads during `funneld demo`: a banner,
 * one line per stage transition and SLA warning/breach as the daemon
 * publishes them (read from the daemon's tap), and a closing summary
 * (leads per stage, funnel conversion, SLA compliance, personas).
 *
 * It only observes: it counts what it printed and asks the engine for the
 * final per-stage numbers; it never changes anything. MET events are
 * counted for compliance but not printed (one per satisfied SLA would
 * drown the interesting lines).
 */
#ifndef FD_DAEMON_DEMO_FEED_H
#define FD_DAEMON_DEMO_FEED_H

#include <stdbool.h>
#include <stdio.h>

#include "daemon/daemon.h"
#include "demo/demo.h"
#include "demo/demo_sales.h"
#include "demo/demo_traffic.h"
#include "funneld/engine.h"

typedef struct fd_demo_feed fd_demo_feed;

/* `cfg` and `traffic` are borrowed and must outlive the feed. Lines go to
 * `out`, with ANSI colours when `color`. NULL when out of memory. */
fd_demo_feed *fd_demo_feed_new(const fd_config *cfg, const fd_demo_traffic *traffic, int leads,
                               bool color, FILE *out);

/* The sink to pass as the daemon's tap (transition and sla only). What it
 * is given is held, not printed: the daemon publishes in its own order
 * (partitions are independent; an SLA timer fires on the clock while an
 * older input is still on its way), and the feed prints in virtual-time
 * order, see fd_demo_feed_flush. */
fd_sink fd_demo_feed_sink(fd_demo_feed *f);

/* Print the held lines of virtual time up to `upto`, oldest first (equal
 * times in the order the tap saw them), each new day under its header.
 * A line older than one already printed (it came later than the caller's
 * hold allowed for) is printed at once and counted (fd_demo_feed_late). */
void fd_demo_feed_flush(fd_demo_feed *f, int64_t upto);

/* Lines printed out of order so far. */
uint64_t fd_demo_feed_late(const fd_demo_feed *f);

/* What the demo is about to do, before the first line. */
void fd_demo_feed_banner(fd_demo_feed *f, const fd_demo_options *o, const char *bootstrap,
                         int64_t start_ms);

/* Take the engine's numbers for the summary (stage counts, open SLAs, bot
 * scores) as of `now`. Call it before fd_daemon_stop(): a stopping daemon
 * hands its partitions back, and their leads leave the engine. */
void fd_demo_feed_capture(fd_demo_feed *f, fd_engine *engine, int64_t now);

typedef struct fd_demo_totals {
	double real_s;                 /* real seconds the clock ran */
	int64_t start_ms, end_ms;      /* virtual span */
	fd_daemon_stats daemon;
	fd_demo_traffic_stats traffic;
	fd_demo_sales_stats sales;
} fd_demo_totals;

/* The closing summary (engine numbers from the last capture), after every
 * line still held. */
void fd_demo_feed_summary(fd_demo_feed *f, const fd_demo_totals *t);

void fd_demo_feed_free(fd_demo_feed *f);

#endif
