/*
 * bench_engine.c — drives the pure engine with synthetic traffic and prints
 * throughput and memory per lead. Not a test: it asserts nothing and prints
 * figures for the machine it runs on.
 *
 *   [BENCH_HUGE_PAGES=1] bench_engine [leads] [events] [pipelined]
 *                                      (defaults: 1000000 leads, 10000000 events;
 *                                       "pipelined": only the prefetching runs, for profiling)
 *
 * Phases, each on a fresh engine with the shipped-like fixture config
 * (tests/engine_fixture.h):
 *   1. profiles: one profile per lead (grade mix A..D, some disqualified)
 *   2. events, uniform keys: every lead equally likely
 *   3. events, skewed keys: lead = N * u^3 (the top 1% of leads get ~21.5%
 *      of the events, the top 10% ~46%)
 * Event types are mixed (page views, clicks, downloads, pricing, webinars,
 * occasional demo requests), event time advances 10 ms per event, due SLA
 * timers are fired every 10,000 events, and sales accept some MQLs; the
 * score stream decides after every change, with the shipped policy (1
 * point, 5 minutes), and its LeadScores are counted. Inputs
 * are generated before the clock starts so only the engine is measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/engine_fixture.h"
#include "support/bench.h"

typedef struct gen {
	uint64_t s;
} gen;

static uint64_t next(gen *g)
{
	return bench_next(&g->s);
}

static double unit(gen *g)
{
	return (double)(next(g) >> 11) / 9007199254740992.0;
}

static size_t n_transitions, n_sla, n_scores;
static void on_tr(void *c, const fd_transition *t) { (void)c; (void)t; n_transitions++; }
static void on_sla(void *c, const fd_sla_event *e) { (void)c; (void)e; n_sla++; }
static void on_score(void *c, const fd_lead_view *v) { (void)c; (void)v; n_scores++; }

static const char *types[] = { "page_view", "page_view", "page_view", "email_click",
                               "email_click", "content_download", "pricing_view",
                               "webinar_attended" };

/* One synthetic input as the daemon would hold it after decoding: the lead
 * id travels with the record (sequential in memory), not in a shared table. */
typedef struct input {
	char lead[15];
	uint8_t type;
} input;

static double pass(fd_engine *e, char (*ids)[16], const input *in, char (*evids)[12],
                   size_t n_events, int64_t t_base, bool prefetch, size_t *accepted)
{
	/* the score stream decides as in the daemon (shipped policy, main) */
	fd_sink sink = { on_tr, on_sla, NULL, NULL, NULL, on_score };
	char err[256];
	double t0 = bench_seconds();
	for (size_t i = 0; i < n_events; i++) {
		int64_t now = t_base + (int64_t)i * 10;
		if (prefetch) {
			if (i + 16 < n_events)
				fd_engine_prefetch(e, in[i + 16].lead, 0);
			if (i + 8 < n_events)
				fd_engine_prefetch(e, in[i + 8].lead, 1);
		}
		fd_engagement ev = { .event_id = evids[i], .lead_id = in[i].lead,
		                     .occurred_at_ms = now,
		                     .type = in[i].type == 255 ? "demo_request" : types[in[i].type],
		                     .channel = "web", .content_id = (i & 1) ? "pricing" : "blog" };
		fd_engine_engagement(e, &ev, now, &sink, err, sizeof err);
		if ((i & 1023) == 0 && in[i].type == 255) {
			fd_activity a = { .activity_id = evids[i], .lead_id = in[i].lead,
			                  .occurred_at_ms = now, .rep_id = "rep", .kind = FD_ACT_ACCEPT };
			if (fd_engine_activity(e, &a, now, &sink, err, sizeof err) == FD_OK)
				(*accepted)++;
		}
		if (i % 10000 == 0)
			fd_engine_advance(e, now, &sink);
	}
	return bench_seconds() - t0;
}

/* Cold pass (creates the leads) then warm pass (same keys, one day later,
 * new event ids) on one engine. */
static void run_events(const fd_rules *cfg, char (*ids)[16], size_t n_leads,
                       const input *in, char (*evids)[12], size_t n_events, const char *label,
                       bool prefetch)
{
	fd_engine *e = fd_engine_new(cfg, n_leads);
	fd_engine_set_huge_pages(e, bench_huge_pages());
	long rss0 = bench_rss_kb();
	n_transitions = n_sla = n_scores = 0;
	size_t accepted = 0;
	double cold = pass(e, ids, in, evids, n_events, T0, prefetch, &accepted);
	for (size_t i = 0; i < n_events; i++)
		evids[i][0] = (char)(evids[i][0] == 'w' ? 'x' : 'w'); /* fresh ids */
	double warm = pass(e, ids, in, evids, n_events, T0 + DAY, prefetch, &accepted);
	fd_engine_stats st;
	fd_engine_stats_get(e, &st);
	long rss1 = bench_rss_kb();
	printf("%-30s cold %9.0f events/s, warm %9.0f events/s  (%zu events per pass; %llu leads, %zu transitions, %zu SLA events, %zu accepts, %zu LeadScores)\n",
	       label, (double)n_events / cold, (double)n_events / warm, n_events,
	       (unsigned long long)st.leads, n_transitions, n_sla, accepted, n_scores);
	printf("%-30s core %.1f B/lead (record %zu B + table slot + header + id), context %.1f B/lead, RSS growth %.1f B/lead\n",
	       "", (double)st.bytes_core / (double)st.leads, fd_engine_lead_record_size(),
	       (double)st.bytes_context / (double)st.leads,
	       (double)(rss1 - rss0) * 1024.0 / (double)st.leads);
	fd_engine_free(e);
}

int main(int argc, char **argv)
{
	size_t n_leads = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	size_t n_events = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000;
	fd_rules cfg;
	fx_config(&cfg);
	cfg.publish_min_change = 1.0; /* the shipped score stream policy */
	cfg.publish_min_interval_ms = 5 * 60 * 1000;

	char (*ids)[16] = malloc(n_leads * sizeof *ids);
	char (*evids)[12] = malloc(n_events * sizeof *evids);
	input *uni = malloc(n_events * sizeof *uni);
	input *skew = malloc(n_events * sizeof *skew);
	if (!ids || !evids || !uni || !skew)
		return 1;
	for (size_t i = 0; i < n_leads; i++)
		snprintf(ids[i], sizeof ids[i], "lead-%08u", (unsigned)(i % 100000000u));
	gen g = { 0x243f6a8885a308d3u };
	for (size_t i = 0; i < n_events; i++) {
		snprintf(evids[i], sizeof evids[i], "w%x", (unsigned)i);
		uint8_t ty = (uint8_t)(next(&g) % 8);
		if (next(&g) % 200 == 0)
			ty = 255; /* demo request */
		memcpy(uni[i].lead, ids[next(&g) % n_leads], sizeof uni[i].lead);
		uni[i].type = ty;
		double u = unit(&g);
		memcpy(skew[i].lead, ids[(size_t)((double)n_leads * u * u * u)], sizeof skew[i].lead);
		skew[i].type = ty;
	}

	printf("funneld engine benchmark: %zu leads, %zu events per run, sizeof(lead record) = %zu B\n",
	       n_leads, n_events, fd_engine_lead_record_size());

	/* profiles */
	{
		fd_engine *e = fd_engine_new(&cfg, n_leads);
		fd_engine_set_huge_pages(e, bench_huge_pages());
		fd_sink sink = { on_tr, on_sla, NULL, NULL };
		char err[256];
		static const char *sen[] = { "VP", "Director", "Manager", "Engineer" };
		static const char *ind[] = { "Software", "Retail", "Software", "Banking" };
		double t0 = bench_seconds();
		for (size_t i = 0; i < n_leads; i++) {
			fd_profile p = { .lead_id = ids[i], .updated_at_ms = T0, .seniority = sen[i % 4],
			                 .industry = ind[(i / 4) % 4], .country = (i % 50) ? "US" : "BR",
			                 .employee_count = (int64_t)(i % 3000), .email = "x@acme.com" };
			fd_engine_profile(e, &p, T0, &sink, err, sizeof err);
		}
		double dt = bench_seconds() - t0;
		printf("%-28s %10.0f profiles/s\n", "profiles (1 per lead)", (double)n_leads / dt);
		fd_engine_free(e);
	}
	bool only_pipelined = argc > 3 && strcmp(argv[3], "pipelined") == 0;
	if (!only_pipelined)
		run_events(&cfg, ids, n_leads, uni, evids, n_events, "events, uniform, one by one", false);
	run_events(&cfg, ids, n_leads, uni, evids, n_events, "events, uniform, pipelined", true);
	if (!only_pipelined)
		run_events(&cfg, ids, n_leads, skew, evids, n_events, "events, skewed, one by one", false);
	run_events(&cfg, ids, n_leads, skew, evids, n_events, "events, skewed, pipelined", true);

	/* timers: pending SLA deadlines */
	free(ids);
	free(evids);
	free(uni);
	free(skew);
	return 0;
}
