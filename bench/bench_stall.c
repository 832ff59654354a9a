/*
 * bench_stall.c — the longest stretch of work between two turns of the
 * daemon's loop at millions of leads, for the work that grows with the
 * table: the TTL sweep at each commit tick, a SIGHUP reload, and the
 * table's own growth. Not a test: it asserts nothing and prints figures
 * for the machine it runs on.
 *
 *   [BENCH_HUGE_PAGES=1] bench_stall [leads] [config]
 *                                    (defaults: 5000000, config/funneld.conf;
 *                                     the variable turns state.huge_pages on)
 *
 * The engine runs the shipped configuration. A "turn" is what the loop does
 * between two looks at its inputs: one batch of 256 engagement events
 * (random leads), plus whatever the phase adds. Phases:
 *   fill     every lead created by its first event (one turn per batch);
 *            the longest turn includes the table's growth
 *   serve    turns of events only: the ceiling every other phase is
 *            compared with (same engine, same batch)
 *   ttl      a commit tick every 20 turns runs fd_engine_evict with the
 *            shipped state.ttl_scan, as the daemon does
 *   reload   the daemon's SIGHUP path (fd_reload_engine: new engine,
 *            fd_engine_adopt), then turns that each move state.reload_batch
 *            leads (fd_engine_migrate) besides their events, until every
 *            lead is under the new rules
 *   eager    for comparison, what a reload did before: every lead exported
 *            and imported into the new engine in one go
 * For each: the longest turn, the 99th percentile, and RSS.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "daemon/reload.h"
#include "funneld/engine.h"
#include "support/bench.h"

#define BATCH 256
#define T0 INT64_C(1767225600000) /* 2026-01-01 */

static const char *types[] = { "page_view",    "page_view",        "email_open",
                               "email_click",  "content_download", "pricing_view",
                               "webinar_attended", "form_submit" };

typedef struct turns {
	double *ms;
	size_t n, cap;
	long rss_peak_kb;
} turns;

static void turn_add(turns *t, double ms)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4096;
		t->ms = realloc(t->ms, t->cap * sizeof *t->ms);
		if (!t->ms)
			exit(1);
	}
	t->ms[t->n++] = ms;
	if (t->n % 64 == 0) {
		long rss = bench_rss_kb();
		if (rss > t->rss_peak_kb)
			t->rss_peak_kb = rss;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *phase, turns *t, double ceiling_max)
{
	qsort(t->ms, t->n, sizeof *t->ms, cmp_double);
	double max = t->n ? t->ms[t->n - 1] : 0, p99 = t->n ? t->ms[t->n * 99 / 100] : 0;
	char ratio[32] = "     -";
	if (ceiling_max > 0)
		snprintf(ratio, sizeof ratio, "%6.2f", max / ceiling_max);
	printf("  %-8s %9zu turns   longest %8.2f ms   p99 %6.3f ms   longest/serve %s   "
	       "RSS peak %6.0f MiB\n",
	       phase, t->n, max, p99, ratio, (double)t->rss_peak_kb / 1024.0);
	free(t->ms);
	memset(t, 0, sizeof *t);
}

typedef struct load {
	fd_engine *e;
	size_t leads;
	uint64_t rng;
	uint64_t seq;
	int64_t now;
} load;

static void noop_tr(void *c, const fd_transition *t) { (void)c; (void)t; }
static void noop_sla(void *c, const fd_sla_event *s) { (void)c; (void)s; }
static void noop_changed(void *c, const char *id) { (void)c; (void)id; }

/* One batch of events; `lead` < 0: random leads, else leads lead..lead+n. */
static void events(load *l, long first, size_t n)
{
	static const fd_sink sink = { noop_tr, noop_sla, noop_changed, NULL, NULL };
	char id[24], evid[24], err[128];
	for (size_t i = 0; i < n; i++) {
		uint64_t r = bench_next(&l->rng);
		size_t lead = first >= 0 ? (size_t)first + i : (size_t)(r % l->leads);
		snprintf(id, sizeof id, "lead-%08zu", lead);
		snprintf(evid, sizeof evid, "e%" PRIu64, l->seq++);
		const char *type = (r >> 40) % 400 == 0 ? "demo_request" : types[(r >> 32) % 8];
		fd_engagement ev = { .event_id = evid, .lead_id = id, .occurred_at_ms = l->now,
		                     .type = type, .channel = "web", .content_id = "guide-1",
		                     .partition = (int32_t)(lead % 64), .position = 0 };
		fd_engine_engagement(l->e, &ev, l->now, &sink, err, sizeof err);
	}
	l->now += 10;
}

static double since_ms(double t0)
{
	return (bench_seconds() - t0) * 1e3;
}

typedef struct moving {
	fd_engine *from, *to;
	fd_lead_state *st;
} moving;

static void move_one(void *ctx, const char *id, int32_t partition)
{
	(void)partition;
	moving *m = ctx;
	char err[128];
	if (fd_engine_export(m->from, id, m->st))
		fd_engine_import(m->to, m->st, err, sizeof err);
}

int main(int argc, char **argv)
{
	size_t n_leads = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	char path[1024];
	if (argc > 2)
		snprintf(path, sizeof path, "%s", argv[2]);
	else
		snprintf(path, sizeof path, "%s/config/funneld.conf", FUNNELD_SOURCE_DIR);
	fd_config cfg;
	char err[1024];
	if (fd_config_load(&cfg, path, NULL, 0, err, sizeof err) != 0) {
		fprintf(stderr, "bench_stall: %s\n", err);
		return 1;
	}
	if (bench_huge_pages())
		cfg.settings.huge_pages = true;
	const fd_settings *s = &cfg.settings;
	printf("bench_stall: %zu leads, shipped rules (%s), batch %d events per turn, "
	       "state.ttl_scan %" PRId64 ", state.reload_batch %" PRId64 ", state.huge_pages %s\n",
	       n_leads, path, BATCH, s->ttl_scan, s->reload_batch, s->huge_pages ? "true" : "false");

	load l = { .e = fd_engine_new(&cfg.rules, 0), .leads = n_leads, .rng = 0x9e3779b97f4a7c15u,
	           .now = T0 };
	fd_engine_set_max_leads(l.e, n_leads + 1);
	fd_engine_set_evict_scan(l.e, (size_t)s->ttl_scan);
	fd_engine_set_lead_ttl(l.e, s->lead_ttl_ms);
	fd_engine_set_huge_pages(l.e, s->huge_pages);
	turns t = { 0 };

	/* fill: the table grows from its default size, as in the daemon */
	for (size_t i = 0; i < n_leads; i += BATCH) {
		double t0 = bench_seconds();
		events(&l, (long)i, i + BATCH <= n_leads ? BATCH : n_leads - i);
		turn_add(&t, since_ms(t0));
	}
	fd_engine_stats st;
	fd_engine_stats_get(l.e, &st);
	printf("  %zu leads in memory, %.0f bytes each (engine's accounting)\n", (size_t)st.leads,
	       (double)(st.bytes_core + st.bytes_context) / (double)st.leads);
	report("fill", &t, 0);

	enum { SERVE_TURNS = 20000, TICK_EVERY = 20 };
	for (int i = 0; i < SERVE_TURNS; i++) {
		double t0 = bench_seconds();
		events(&l, -1, BATCH);
		turn_add(&t, since_ms(t0));
	}
	qsort(t.ms, t.n, sizeof *t.ms, cmp_double);
	double serve_max = t.ms[t.n - 1];
	report("serve", &t, serve_max);

	/* ttl: a full sweep's worth of ticks (nothing idle: the scan is the cost) */
	size_t ticks = n_leads / (size_t)s->ttl_scan + 1;
	for (size_t i = 0; i < ticks * TICK_EVERY; i++) {
		double t0 = bench_seconds();
		events(&l, -1, BATCH);
		if (i % TICK_EVERY == 0)
			fd_engine_evict(l.e, SIZE_MAX, NULL, NULL);
		turn_add(&t, since_ms(t0));
	}
	report("ttl", &t, serve_max);

	/* reload, as SIGHUP does it now (scoring changed: a real rules change) */
	fd_config fresh = cfg;
	fresh.rules.half_life_ms = cfg.rules.half_life_ms * 2;
	long rss_before = bench_rss_kb();
	double r0 = bench_seconds();
	fd_engine *next = fd_reload_engine(l.e, &fresh, err, sizeof err);
	if (!next) {
		fprintf(stderr, "bench_stall: %s\n", err);
		return 1;
	}
	l.e = next;
	double swap_ms = since_ms(r0);
	turn_add(&t, swap_ms); /* the swap itself is a turn */
	while (fd_engine_migrating(l.e) > 0) {
		double t0 = bench_seconds();
		events(&l, -1, BATCH);
		fd_engine_migrate(l.e, (size_t)s->reload_batch);
		turn_add(&t, since_ms(t0));
	}
	double reload_s = bench_seconds() - r0;
	size_t reload_turns = t.n;
	long rss_after = bench_rss_kb();
	report("reload", &t, serve_max);
	printf("           the swap %.2f ms; %zu turns, %.2f s until every lead is under the new "
	       "rules; RSS %.0f MiB before, %.0f MiB after\n",
	       swap_ms, reload_turns, reload_s, (double)rss_before / 1024.0,
	       (double)rss_after / 1024.0);

	/* eager, for comparison: one stall for the whole table */
	fd_engine *eager = fd_engine_new(&cfg.rules, n_leads);
	moving m = { l.e, eager, malloc(sizeof(fd_lead_state)) };
	double e0 = bench_seconds();
	fd_engine_foreach(l.e, -1, move_one, &m);
	turn_add(&t, since_ms(e0));
	t.rss_peak_kb = bench_rss_kb();
	report("eager", &t, serve_max);
	free(m.st);
	fd_engine_free(eager);
	fd_engine_free(l.e);
	fd_config_free(&cfg);
	return 0;
}
