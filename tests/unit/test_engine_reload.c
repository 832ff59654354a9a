/*
 * test_engine_reload.c — a reload without a stall (fd_engine_adopt): the
 * new engine answers for every lead at once, a lead moves to the new rules
 * on first touch or when a deadline of its comes due, fd_engine_migrate
 * moves the rest in bounded batches, the result is the same as moving every
 * lead at once, and memory is never doubled.
 */
#include <criterion/criterion.h>
#include <inttypes.h>

#include "engine_fixture.h"

static fd_rules old_rules, new_rules;
static fd_engine *e, *eager;
static fx_log *out, *out_eager;
static fd_sink sink, sink_eager;
static char err[256];

static void setup(void)
{
	fx_config(&old_rules);
	new_rules = old_rules;
	new_rules.event_types[fd_rules_event_type(&new_rules, "email_click")].points = 30;
	out = calloc(1, sizeof *out);
	out_eager = calloc(1, sizeof *out_eager);
	sink = fx_sink(out);
	sink_eager = fx_sink(out_eager);
	e = fd_engine_new(&old_rules, 0);
	eager = NULL;
}

static void teardown(void)
{
	char why[256];
	cr_expect_eq(fd_engine_check(e, why, sizeof why), 0, "engine inconsistent: %s", why);
	if (eager)
		cr_expect_eq(fd_engine_check(eager, why, sizeof why), 0, "eager engine: %s", why);
	fd_engine_free(e);
	fd_engine_free(eager);
	free(out);
	free(out_eager);
}

TestSuite(reload, .init = setup, .fini = teardown);

static fd_status click(fd_engine *en, const fd_sink *s, const char *lead, const char *id,
                       int64_t at, int64_t position)
{
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at,
	                     .type = "email_click", .channel = "email", .content_id = "guide",
	                     .partition = 1, .position = position };
	return fd_engine_engagement(en, &ev, at, s, err, sizeof err);
}

static fd_status demo(fd_engine *en, const fd_sink *s, const char *lead, int64_t at, int64_t pos)
{
	fd_engagement ev = { .event_id = "demo", .lead_id = lead, .occurred_at_ms = at,
	                     .type = "demo_request", .partition = 1, .position = pos };
	return fd_engine_engagement(en, &ev, at, s, err, sizeof err);
}

/* Leads prefix0..prefix(n-1), one click each. */
static void populate(const char *prefix, int n)
{
	char id[32];
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "%s%d", prefix, i);
		cr_assert_eq(click(e, &sink, id, "c1", T0, 1), FD_OK, "%s", err);
	}
}

/* The running engine replaced by one on `rules` that takes it over. */
static void reload(const fd_rules *rules)
{
	fd_engine *next = fd_engine_new(rules, 0);
	cr_assert_not_null(next);
	cr_assert_eq(fd_engine_adopt(next, e), 0);
	e = next;
}

static uint64_t leads(void)
{
	fd_engine_stats st;
	fd_engine_stats_get(e, &st);
	return st.leads;
}

static size_t n_ids;
static void count_id(void *ctx, const char *id, int32_t partition)
{
	(void)ctx;
	(void)id;
	(void)partition;
	n_ids++;
}

Test(reload, every_lead_answers_while_the_move_goes_on)
{
	populate("lead-", 100);
	reload(&new_rules);
	cr_assert_eq(leads(), 100);
	cr_assert_eq(fd_engine_migrating(e), 100);
	fd_engine_stats st;
	fd_engine_stats_get(e, &st);
	cr_assert_eq(st.migrating, 100);
	cr_assert_eq(st.per_stage[FD_STAGE_LEAD], 100);
	cr_assert_eq(st.events_applied, 100, "the counters carry over");

	fd_lead_view v;
	cr_assert(fd_engine_lead(e, "lead-5", T0, &v), "a lead not moved yet is found");
	cr_assert_float_eq(v.score.engagement, 3.0, 1e-9);
	cr_assert_eq(fd_engine_migrating(e), 99, "a view moves the lead");
	fd_lead_state s;
	cr_assert(fd_engine_export(e, "lead-6", &s));
	cr_assert_str_eq(s.lead_id, "lead-6");
	cr_assert_eq(fd_engine_migrating(e), 98);
	cr_assert(fd_engine_remove(e, "lead-7"), "a lead not moved yet is removed where it is");
	cr_assert_not(fd_engine_remove(e, "lead-7"));
	cr_assert_eq(leads(), 99);
	cr_assert_eq(fd_engine_migrating(e), 97);
	n_ids = 0;
	fd_engine_foreach(e, -1, count_id, NULL);
	cr_assert_eq(n_ids, 99, "foreach sees the leads of both engines");
	n_ids = 0;
	fd_engine_foreach(e, 2, count_id, NULL);
	cr_assert_eq(n_ids, 0);

	cr_assert_eq(fd_engine_migrate(e, 10), 10, "a batch moves exactly its size");
	cr_assert_eq(fd_engine_migrating(e), 87);
	cr_assert_eq(fd_engine_migrate(e, 1000), 87);
	cr_assert_eq(fd_engine_migrating(e), 0);
	cr_assert_eq(fd_engine_migrate(e, 1000), 0);
	cr_assert_eq(leads(), 99);
	fd_engine_stats_get(e, &st);
	cr_assert_eq(st.migrating, 0);
	cr_assert_eq(st.per_stage[FD_STAGE_LEAD], 99);
}

Test(reload, the_next_input_is_scored_by_the_new_rules)
{
	cr_assert_eq(click(e, &sink, "x", "c1", T0, 1), FD_OK);
	reload(&new_rules);
	/* the old click keeps its 3 points; the new one earns the new 30 */
	cr_assert_eq(click(e, &sink, "x", "c2", T0, 2), FD_OK);
	cr_assert_eq(fd_engine_migrating(e), 0, "the input moved the lead");
	fd_lead_view v;
	cr_assert(fd_engine_lead(e, "x", T0, &v));
	cr_assert_float_eq(v.score.engagement, 33.0, 1e-9);
	/* a replay of a record applied before the reload is still one */
	cr_assert_eq(click(e, &sink, "x", "c1", T0, 1), FD_DUPLICATE);
}

/* Every lead moved lazily ends exactly as if all had been moved at once at
 * the reload (export under the old rules, import under the new). */
Test(reload, the_move_equals_an_eager_one)
{
	char id[16];
	eager = fd_engine_new(&new_rules, 0);
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "l%d", i);
		cr_assert_eq(click(e, &sink, id, "c1", T0 + i * HOUR, 1), FD_OK);
		if (i % 3 == 0)
			cr_assert_eq(demo(e, &sink, id, T0 + i * HOUR + 1, 2), FD_OK);
	}
	for (int i = 0; i < 40; i++) {
		fd_lead_state s;
		snprintf(id, sizeof id, "l%d", i);
		cr_assert(fd_engine_export(e, id, &s));
		cr_assert_eq(fd_engine_import(eager, &s, err, sizeof err), FD_OK, "%s", err);
	}
	reload(&new_rules);
	fd_engine_migrate(e, 7);
	for (int i = 0; i < 40; i += 5) { /* some move on touch */
		fd_lead_view v;
		snprintf(id, sizeof id, "l%d", i);
		cr_assert(fd_engine_lead(e, id, T0, &v));
	}
	while (fd_engine_migrate(e, 4) > 0)
		;
	cr_assert_eq(fd_engine_migrating(e), 0);
	for (int i = 0; i < 40; i++) {
		fd_lead_state a, b;
		snprintf(id, sizeof id, "l%d", i);
		cr_assert(fd_engine_export(e, id, &a));
		cr_assert(fd_engine_export(eager, id, &b));
		cr_assert_eq(a.stage, b.stage, "%s", id);
		cr_assert_eq(a.engagement, b.engagement, "%s", id);
		cr_assert_eq(a.engagement_as_of_ms, b.engagement_as_of_ms);
		cr_assert_eq(a.n_slas, b.n_slas, "%s", id);
		for (int k = 0; k < a.n_slas; k++) {
			cr_assert_str_eq(a.slas[k].name, b.slas[k].name);
			cr_assert_eq(a.slas[k].due_at_ms, b.slas[k].due_at_ms);
		}
		cr_assert_eq(a.n_recent, b.n_recent);
		cr_assert_eq(a.n_seen, b.n_seen);
		cr_assert_eq(a.positions[FD_INPUT_ENGAGEMENT], b.positions[FD_INPUT_ENGAGEMENT]);
	}
	/* and from here they behave the same: every deadline, same ids and times */
	cr_assert_eq(fd_engine_next_deadline(e), fd_engine_next_deadline(eager));
	size_t fired = fd_engine_advance(e, T0 + 200 * DAY, &sink);
	cr_assert_eq(fd_engine_advance(eager, T0 + 200 * DAY, &sink_eager), fired);
	cr_assert_gt(fired, 0);
	/* the same SLA events (deadlines due at the same time may come in
	 * another order: leads sit elsewhere in the two tables) */
	size_t from = out->n_sla - out_eager->n_sla;
	for (size_t i = 0; i < out_eager->n_sla; i++) {
		bool found = false;
		for (size_t j = from; j < out->n_sla && !found; j++)
			found = strcmp(out->sla[j].id, out_eager->sla[i].id) == 0 &&
			        out->sla[j].at == out_eager->sla[i].at;
		cr_assert(found, "SLA event %s at %" PRId64 " missing after the lazy move",
		          out_eager->sla[i].id, out_eager->sla[i].at);
	}
}

/* A lead nobody touches moves when its deadline comes due, before it fires:
 * no deadline fires under rules that are gone. */
Test(reload, a_due_deadline_moves_its_lead_first)
{
	cr_assert_eq(demo(e, &sink, "m", T0, 1), FD_OK); /* MQL: mql_first_touch, warning at 36 h */
	size_t sla_before = out->n_sla;
	fd_rules r = new_rules;
	r.slas[fd_rules_sla(&r, "mql_first_touch")].warning_fraction = 0.5; /* 24 h */
	reload(&r);
	cr_assert_eq(fd_engine_next_deadline(e), T0 + 36 * HOUR,
	             "the former engine's deadline counts until the lead moves");
	cr_assert_eq(fd_engine_advance(e, T0 + 12 * HOUR, &sink), 0);
	cr_assert_eq(fd_engine_migrating(e), 1, "nothing due: the lead stays where it is");
	/* at 36 h the old warning is due: the lead moves, and its warning is
	 * now at 24 h (passed), so it fires once, at 24 h */
	cr_assert_eq(fd_engine_advance(e, T0 + 36 * HOUR, &sink), 1);
	cr_assert_eq(fd_engine_migrating(e), 0);
	cr_assert_eq(out->n_sla, sla_before + 1);
	cr_assert_eq(out->sla[sla_before].kind, FD_SLA_WARNING);
	cr_assert_eq(out->sla[sla_before].at, T0 + 24 * HOUR);
	cr_assert_eq(fd_engine_next_deadline(e), T0 + 48 * HOUR);
}

Test(reload, the_cap_counts_leads_not_moved_yet)
{
	populate("c", 10);
	reload(&new_rules);
	fd_engine_set_max_leads(e, 10);
	cr_assert_eq(click(e, &sink, "new", "c1", T0, 1), FD_ERR_FULL);
	cr_assert_eq(click(e, &sink, "c3", "c2", T0, 2), FD_OK, "an existing lead is never refused");
	/* an import (a restore record) of a lead not moved yet replaces it */
	fd_lead_state s;
	fd_engine *other = fd_engine_new(&old_rules, 0);
	cr_assert_eq(click(other, &sink, "c4", "c9", T0, 7), FD_OK);
	cr_assert(fd_engine_export(other, "c4", &s));
	cr_assert_eq(fd_engine_import(e, &s, err, sizeof err), FD_OK, "%s", err);
	fd_engine_free(other);
	cr_assert_eq(leads(), 10);
	cr_assert_eq(fd_engine_migrating(e), 8);
	cr_assert(fd_engine_export(e, "c4", &s));
	cr_assert_eq(s.positions[FD_INPUT_ENGAGEMENT], 7, "the imported state won");
}

Test(reload, a_reload_during_a_reload)
{
	populate("r", 30);
	reload(&new_rules);
	cr_assert_eq(fd_engine_migrate(e, 10), 10);
	reload(&old_rules);
	cr_assert_eq(leads(), 30);
	cr_assert_eq(fd_engine_migrating(e), 30);
	fd_lead_view v;
	cr_assert(fd_engine_lead(e, "r29", T0, &v), "a lead two reloads back is found");
	cr_assert_eq(click(e, &sink, "r0", "c2", T0, 2), FD_OK);
	cr_assert(fd_engine_lead(e, "r0", T0, &v));
	cr_assert_float_eq(v.score.engagement, 6.0, 1e-9, "scored by the latest rules");
	char why[256];
	cr_assert_eq(fd_engine_check(e, why, sizeof why), 0, "%s", why);
	size_t moved = 0, n;
	while ((n = fd_engine_migrate(e, 7)) > 0)
		moved += n;
	cr_assert_eq(moved, 28);
	cr_assert_eq(fd_engine_migrating(e), 0);
	cr_assert_eq(leads(), 30);
}

/* The two engines together never hold much more than one: the former
 * gives its record chunks back as they empty, and the new table is sized
 * once. Measured by the engine's own accounting. */
Test(reload, memory_is_never_doubled)
{
	enum { N = 40000 };
	populate("mem-", N);
	fd_engine_stats st;
	fd_engine_stats_get(e, &st);
	size_t before = st.bytes_core + st.bytes_context, peak = 0;
	fd_engine *next = fd_engine_new(&new_rules, N);
	cr_assert_eq(fd_engine_adopt(next, e), 0);
	e = next;
	while (fd_engine_migrate(e, 1000) > 0) {
		fd_engine_stats_get(e, &st);
		size_t now = st.bytes_core + st.bytes_context;
		if (now > peak)
			peak = now;
	}
	fd_engine_stats_get(e, &st);
	size_t after = st.bytes_core + st.bytes_context;
	cr_assert_eq(st.leads, N);
	cr_assert_lt(peak, before + before / 4, "peak %zu bytes during the move, %zu before", peak,
	             before);
	cr_assert_lt(after, before + before / 8, "%zu bytes after the move, %zu before", after, before);
}

Test(reload, adopt_refuses_an_engine_with_leads)
{
	fd_engine *other = fd_engine_new(&new_rules, 0);
	cr_assert_eq(click(other, &sink, "z", "c1", T0, 1), FD_OK);
	cr_assert_eq(fd_engine_adopt(other, e), -1);
	fd_engine_free(other);
}
