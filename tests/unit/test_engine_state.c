/*
 * test_engine_state.c — what crash recovery relies on: replayed records
 * (by Kafka position) change nothing; a lead exported and imported into a
 * fresh engine behaves exactly like the original afterwards (same outputs,
 * same ids, same timers); removal, per-partition iteration and TTL eviction.
 */
#include <criterion/criterion.h>

#include "engine_fixture.h"

static fd_rules cfg;
static fd_engine *a, *b;
static fx_log *out_a, *out_b;
static fd_sink sink_a, sink_b;
static char err[256];

static void setup(void)
{
	fx_config(&cfg);
	a = fd_engine_new(&cfg, 0);
	b = fd_engine_new(&cfg, 0);
	out_a = calloc(1, sizeof *out_a);
	out_b = calloc(1, sizeof *out_b);
	sink_a = fx_sink(out_a);
	sink_b = fx_sink(out_b);
}

static void teardown(void)
{
	/* exports, imports and transplants leave both engines consistent */
	char why[256];
	cr_expect_eq(fd_engine_check(a, why, sizeof why), 0, "engine a inconsistent: %s", why);
	cr_expect_eq(fd_engine_check(b, why, sizeof why), 0, "engine b inconsistent: %s", why);
	fd_engine_free(a);
	fd_engine_free(b);
	free(out_a);
	free(out_b);
}

TestSuite(state, .init = setup, .fini = teardown);

static fd_status ev_at(fd_engine *e, fd_sink *s, const char *lead, const char *id, const char *type,
                       int64_t at, int64_t position)
{
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at, .type = type,
	                     .channel = "web", .content_id = "ebook", .partition = 2,
	                     .position = position };
	return fd_engine_engagement(e, &ev, at, s, err, sizeof err);
}

static fd_status act_at(fd_engine *e, fd_sink *s, const char *lead, const char *id,
                        fd_activity_kind kind, fd_reason reason, int64_t at, int64_t position)
{
	fd_activity x = { .activity_id = id, .lead_id = lead, .occurred_at_ms = at, .rep_id = "rep-1",
	                  .kind = kind, .reason = reason, .partition = 2, .position = position };
	return fd_engine_activity(e, &x, at, s, err, sizeof err);
}

static fd_status profile_at(fd_engine *e, fd_sink *s, const char *lead, int64_t at, int64_t pos)
{
	fd_profile p = { .lead_id = lead, .updated_at_ms = at, .seniority = "VP", .industry = "Software",
	                 .country = "US", .employee_count = 800, .lead_source = "partner",
	                 .owner_id = "owner-9", .partition = 2, .position = pos };
	return fd_engine_profile(e, &p, at, s, err, sizeof err);
}

/* Copy every lead of `from` into `to` through export/import. */
static void transplant(fd_engine *from, fd_engine *to)
{
	static const char *ids[] = { "x", "y", "z" };
	for (size_t i = 0; i < 3; i++) {
		fd_lead_state st;
		if (!fd_engine_export(from, ids[i], &st))
			continue;
		cr_assert_eq(fd_engine_import(to, &st, err, sizeof err), FD_OK, "%s", err);
	}
}

static void assert_same_outputs(size_t from_tr_a, size_t from_sla_a)
{
	cr_assert_eq(out_a->n_tr - from_tr_a, out_b->n_tr, "transitions %zu vs %zu",
	             out_a->n_tr - from_tr_a, out_b->n_tr);
	cr_assert_eq(out_a->n_sla - from_sla_a, out_b->n_sla);
	for (size_t i = 0; i < out_b->n_tr; i++) {
		const fx_transition *x = &out_a->tr[from_tr_a + i], *y = &out_b->tr[i];
		cr_assert_str_eq(x->id, y->id);
		cr_assert_eq(x->from, y->from);
		cr_assert_eq(x->to, y->to);
		cr_assert_eq(x->at, y->at);
		cr_assert_str_eq(x->owner, y->owner);
		cr_assert_float_eq(x->score.engagement, y->score.engagement, 1e-9);
		cr_assert_eq(x->score.fit, y->score.fit);
		cr_assert_eq(x->score.frequency[0], y->score.frequency[0]);
		cr_assert_eq(x->score.frequency[1], y->score.frequency[1]);
		cr_assert_eq(x->n_recent, y->n_recent);
		for (size_t k = 0; k < x->n_recent; k++) {
			cr_assert_str_eq(x->recent_type[k], y->recent_type[k]);
			cr_assert_eq(x->recent_at[k], y->recent_at[k]);
		}
		cr_assert_eq(x->n_interests, y->n_interests);
		cr_assert_eq(x->n_breakdown, y->n_breakdown);
		for (size_t k = 0; k < x->n_breakdown; k++)
			cr_assert_float_eq(x->breakdown_points[k], y->breakdown_points[k], 1e-4);
	}
	for (size_t i = 0; i < out_b->n_sla; i++) {
		const fx_sla_event *x = &out_a->sla[from_sla_a + i], *y = &out_b->sla[i];
		cr_assert_str_eq(x->id, y->id);
		cr_assert_eq(x->kind, y->kind);
		cr_assert_eq(x->at, y->at);
		cr_assert_eq(x->due, y->due);
		cr_assert_str_eq(x->owner, y->owner);
	}
}

Test(state, replayed_positions_change_nothing)
{
	cr_assert_eq(ev_at(a, &sink_a, "x", "e1", "pricing_view", T0, 11), FD_OK);
	cr_assert_eq(ev_at(a, &sink_a, "x", "e2", "pricing_view", T0, 12), FD_OK);
	/* a replay after a crash: same positions, even with other event ids */
	cr_assert_eq(ev_at(a, &sink_a, "x", "e1-again", "pricing_view", T0, 12), FD_DUPLICATE);
	cr_assert_eq(ev_at(a, &sink_a, "x", "e0", "pricing_view", T0, 3), FD_DUPLICATE);
	fd_lead_view v;
	cr_assert(fd_engine_lead(a, "x", T0, &v));
	cr_assert_eq(v.score.engagement, 30.0);
	cr_assert_eq(act_at(a, &sink_a, "x", "as", FD_ACT_ASSIGN, FD_REASON_NONE, T0, 5), FD_OK);
	cr_assert_eq(act_at(a, &sink_a, "x", "as2", FD_ACT_ASSIGN, FD_REASON_NONE, T0, 5),
	             FD_DUPLICATE);
	/* positions are per input kind: profile position 1 is new */
	cr_assert_eq(profile_at(a, &sink_a, "x", T0, 1), FD_OK);
	cr_assert_eq(profile_at(a, &sink_a, "x", T0, 1), FD_DUPLICATE);
	/* position 0 means "not from Kafka": never a replay */
	cr_assert_eq(ev_at(a, &sink_a, "x", "e9", "email_click", T0, 0), FD_OK);
}

static void part_one(fd_engine *e, fd_sink *s)
{
	cr_assert_eq(profile_at(e, s, "x", T0 - HOUR, 1), FD_OK);
	cr_assert_eq(ev_at(e, s, "x", "1", "webinar_attended", T0, 1), FD_OK);
	cr_assert_eq(ev_at(e, s, "x", "2", "webinar_attended", T0 + HOUR, 2), FD_OK);
	cr_assert_eq(ev_at(e, s, "x", "2b", "webinar_attended", T0 + HOUR, 3), FD_OK); /* MQL */
	cr_assert_eq(act_at(e, s, "x", "t1", FD_ACT_TOUCH, FD_REASON_NONE, T0 + 2 * HOUR, 1), FD_OK);
	cr_assert_eq(ev_at(e, s, "y", "3", "demo_request", T0 + 3 * HOUR, 4), FD_OK);
	for (int i = 0; i < 7; i++) {
		char id[16];
		snprintf(id, sizeof id, "pv%d", i);
		cr_assert_eq(ev_at(e, s, "z", id, "page_view", T0 + 4 * HOUR, 5 + i), FD_OK);
	}
	cr_assert_eq(act_at(e, s, "y", "r1", FD_ACT_ACCEPT, FD_REASON_NONE, T0 + 5 * HOUR, 2), FD_OK);
	fd_engine_advance(e, T0 + 30 * HOUR, s); /* y: SAL decision warning at T0+29h */
}

static void part_two(fd_engine *e, fd_sink *s)
{
	/* the duplicate event id survives the move */
	cr_assert_eq(ev_at(e, s, "z", "pv6", "page_view", T0 + 4 * HOUR, 20), FD_DUPLICATE);
	cr_assert_eq(ev_at(e, s, "z", "pv7", "page_view", T0 + 4 * HOUR, 21), FD_OK); /* capped */
	cr_assert_eq(ev_at(e, s, "x", "4", "content_download", T0 + DAY, 22), FD_OK);
	cr_assert_eq(act_at(e, s, "x", "t2", FD_ACT_TOUCH, FD_REASON_NONE, T0 + 3 * DAY, 10), FD_OK);
	cr_assert_eq(act_at(e, s, "x", "q", FD_ACT_ACCEPT, FD_REASON_NONE, T0 + 3 * DAY, 11), FD_OK);
	/* y is in SAL (accepted at T0+5h, decision due T0+53h) */
	cr_assert_eq(act_at(e, s, "y", "rj", FD_ACT_REJECT, FD_REASON_BAD_TIMING, T0 + 40 * HOUR, 12),
	             FD_OK);
	cr_assert_eq(act_at(e, s, "y", "rv", FD_ACT_REVERT, FD_REASON_NONE, T0 + 41 * HOUR, 13),
	             FD_ERR_REFUSED);
	fd_engine_advance(e, T0 + 200 * DAY, s);
}

Test(state, an_imported_lead_behaves_exactly_like_the_original)
{
	part_one(a, &sink_a);
	size_t tr = out_a->n_tr, sla = out_a->n_sla;
	transplant(a, b);
	cr_assert_eq(fd_engine_next_deadline(a), fd_engine_next_deadline(b));
	part_two(a, &sink_a);
	part_two(b, &sink_b);
	cr_assert_geq(out_b->n_tr, 3);
	cr_assert_geq(out_b->n_sla, 3);
	assert_same_outputs(tr, sla);
	/* and the states agree at the end */
	static const char *ids[] = { "x", "y", "z" };
	for (int i = 0; i < 3; i++) {
		fd_lead_view va, vb;
		cr_assert(fd_engine_lead(a, ids[i], T0 + 200 * DAY, &va));
		cr_assert(fd_engine_lead(b, ids[i], T0 + 200 * DAY, &vb));
		cr_assert_eq(va.stage, vb.stage);
		cr_assert_eq(va.review_at_ms, vb.review_at_ms);
		cr_assert_float_eq(va.score.engagement, vb.score.engagement, 1e-12);
		cr_assert_str_eq(va.owner_id, vb.owner_id);
		cr_assert_str_eq(va.lead_source, vb.lead_source);
		cr_assert_eq(va.n_open_slas, vb.n_open_slas);
	}
}

Test(state, export_import_export_is_identity)
{
	part_one(a, &sink_a);
	transplant(a, b);
	static const char *ids[] = { "x", "y", "z" };
	for (int i = 0; i < 3; i++) {
		fd_lead_state s1, s2;
		cr_assert(fd_engine_export(a, ids[i], &s1));
		fd_lead_state *copy = malloc(sizeof *copy);
		*copy = s1;
		cr_assert(fd_engine_export(b, ids[i], &s2));
		cr_assert_str_eq(copy->lead_id, s2.lead_id);
		cr_assert_eq(copy->partition, 2);
		cr_assert_eq(copy->partition, s2.partition);
		cr_assert_eq(copy->stage, s2.stage);
		cr_assert_eq(copy->stage_entered_ms, s2.stage_entered_ms);
		cr_assert_eq(copy->engagement, s2.engagement);
		cr_assert_eq(copy->engagement_as_of_ms, s2.engagement_as_of_ms);
		cr_assert_eq(copy->fit, s2.fit);
		cr_assert_eq(copy->grade, s2.grade);
		cr_assert_eq(copy->n_freq, s2.n_freq);
		cr_assert_eq(copy->freq_head, s2.freq_head);
		cr_assert_eq(copy->n_seen, s2.n_seen);
		for (int k = 0; k < copy->n_seen; k++)
			cr_assert_eq(copy->seen[k], s2.seen[k]);
		cr_assert_eq(copy->n_caps, s2.n_caps);
		cr_assert_eq(copy->n_slas, s2.n_slas);
		for (int k = 0; k < copy->n_slas; k++) {
			cr_assert_eq(copy->slas[k].due_at_ms, s2.slas[k].due_at_ms);
			cr_assert_eq(copy->slas[k].warned, s2.slas[k].warned);
			cr_assert_eq(copy->slas[k].done, s2.slas[k].done);
		}
		cr_assert_eq(copy->n_recent, s2.n_recent);
		cr_assert_eq(copy->n_interests, s2.n_interests);
		cr_assert_eq(copy->n_breakdown, s2.n_breakdown);
		for (int k = 0; k < FD_INPUT_KINDS; k++)
			cr_assert_eq(copy->positions[k], s2.positions[k]);
		free(copy);
	}
}

Test(state, deadlines_that_passed_before_import_fire_once)
{
	cr_assert_eq(ev_at(a, &sink_a, "x", "d", "demo_request", T0, 1), FD_OK);
	transplant(a, b);
	/* nobody owned the lead for three days */
	cr_assert_eq(fd_engine_advance(b, T0 + 3 * DAY, &sink_b), 2);
	cr_assert_eq(out_b->n_sla, 2);
	cr_assert_eq(out_b->sla[0].kind, FD_SLA_WARNING);
	cr_assert_eq(out_b->sla[1].kind, FD_SLA_BREACH);
	cr_assert_eq(out_b->sla[1].at, T0 + 48 * HOUR);
	cr_assert_eq(fd_engine_advance(b, T0 + 3 * DAY, &sink_b), 0);
}

static size_t n_seen_ids;
static char seen_ids[8][16];
static void collect(void *ctx, const char *id, int32_t partition)
{
	(void)ctx;
	(void)partition;
	snprintf(seen_ids[n_seen_ids++], 16, "%s", id);
}

Test(state, remove_and_foreach_by_partition)
{
	fd_engagement e1 = { .event_id = "1", .lead_id = "p0", .occurred_at_ms = T0,
	                     .type = "email_click", .partition = 0, .position = 1 };
	fd_engagement e2 = { .event_id = "1", .lead_id = "p1", .occurred_at_ms = T0,
	                     .type = "email_click", .partition = 1, .position = 1 };
	cr_assert_eq(fd_engine_engagement(a, &e1, T0, &sink_a, err, sizeof err), FD_OK);
	cr_assert_eq(fd_engine_engagement(a, &e2, T0, &sink_a, err, sizeof err), FD_OK);
	n_seen_ids = 0;
	fd_engine_foreach(a, 1, collect, NULL);
	cr_assert_eq(n_seen_ids, 1);
	cr_assert_str_eq(seen_ids[0], "p1");
	cr_assert(fd_engine_remove(a, "p1"));
	cr_assert_not(fd_engine_remove(a, "p1"));
	fd_engine_stats st;
	fd_engine_stats_get(a, &st);
	cr_assert_eq(st.leads, 1);
	cr_assert_eq(st.per_stage[FD_STAGE_LEAD], 1);
}

/* Idle is counted in the partition's stream time: the greatest event time
 * its records brought, here moved by other leads' events. */
Test(state, ttl_evicts_idle_leads_without_pending_deadlines)
{
	fd_engine_set_lead_ttl(a, 5 * DAY);
	cr_assert_eq(ev_at(a, &sink_a, "idle", "1", "email_click", T0, 1), FD_OK);
	cr_assert_eq(ev_at(a, &sink_a, "sla", "2", "demo_request", T0, 2), FD_OK); /* open SLAs */
	cr_assert_eq(fd_engine_evict(a, 100, NULL, NULL), 0, "the stream is at T0");
	cr_assert_eq(ev_at(a, &sink_a, "fresh", "3", "email_click", T0 + 9 * DAY, 3), FD_OK);
	cr_assert_eq(fd_engine_stream_time(a, 2), T0 + 9 * DAY);
	n_seen_ids = 0;
	size_t n = fd_engine_evict(a, 100, collect, NULL);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(seen_ids[0], "idle");
	fd_lead_view v;
	cr_assert_not(fd_engine_lead(a, "idle", T0, &v));
	cr_assert(fd_engine_lead(a, "sla", T0, &v));
	cr_assert(fd_engine_lead(a, "fresh", T0, &v));
	fd_engine_stats st;
	fd_engine_stats_get(a, &st);
	cr_assert_eq(st.leads_evicted, 1);
	/* the TTL boundary: idle for exactly the TTL is kept */
	cr_assert_eq(ev_at(a, &sink_a, "clock", "4", "page_view", T0 + 14 * DAY, 4), FD_OK);
	cr_assert_eq(fd_engine_evict(a, 100, NULL, NULL), 0);
	cr_assert_eq(ev_at(a, &sink_a, "clock", "5", "page_view", T0 + 14 * DAY + 1, 5), FD_OK);
	cr_assert_eq(fd_engine_evict(a, 100, NULL, NULL), 1);
	cr_assert_not(fd_engine_lead(a, "fresh", T0, &v));
	/* no TTL: nothing is idle */
	fd_engine_set_lead_ttl(a, 0);
	cr_assert_eq(ev_at(a, &sink_a, "clock", "6", "page_view", T0 + 400 * DAY, 6), FD_OK);
	cr_assert_eq(fd_engine_evict(a, 100, NULL, NULL), 0);
}

/* With a scan budget each call looks at a bounded slice of the table and
 * the next call goes on from there: a full sweep takes ceil(leads / budget)
 * calls and evicts every idle lead exactly once; times at the ends of the
 * range are safe. */
Test(state, ttl_sweep_is_spread_over_calls)
{
	char id[16];
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "idle-%d", i);
		cr_assert_eq(ev_at(a, &sink_a, id, "1", "email_click", T0, i + 1), FD_OK);
	}
	cr_assert_eq(ev_at(a, &sink_a, "clock", "1", "page_view", T0 + 10 * DAY, 1), FD_OK);
	fd_engine_set_lead_ttl(a, 5 * DAY);
	fd_engine_set_evict_scan(a, 3);
	size_t total = 0;
	for (int call = 0; call < 4; call++) {
		size_t n = fd_engine_evict(a, 100, NULL, NULL);
		cr_assert_leq(n, 3, "call %d evicted %zu leads with a budget of 3", call, n);
		total += n;
	}
	cr_assert_eq(total, 10, "%zu of 10 idle leads evicted after one sweep", total);
	cr_assert_eq(fd_engine_evict(a, 100, NULL, NULL), 0);
	/* the ends of the time range (UBSan: no overflow) */
	fd_engine_set_evict_scan(a, 0);
	cr_assert_eq(ev_at(a, &sink_a, "edge", "1", "email_click", 1, 20), FD_OK);
	cr_assert_eq(ev_at(a, &sink_a, "clock", "2", "page_view", FD_TIME_MAX, 2), FD_OK);
	fd_engine_set_lead_ttl(a, INT64_MAX);
	cr_assert_eq(fd_engine_evict(a, 100, NULL, NULL), 0);
	fd_engine_set_lead_ttl(a, FD_TIME_MAX - 1);
	cr_assert_eq(fd_engine_evict(a, 100, NULL, NULL), 0, "idle for exactly the TTL");
	fd_engine_set_lead_ttl(a, FD_TIME_MAX - 2);
	cr_assert_eq(fd_engine_evict(a, 100, NULL, NULL), 1);
}

static fd_status content_at(fd_engine *e, fd_sink *s, const char *lead, const char *id,
                            const char *type, const char *content, int64_t at, int64_t position)
{
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at, .type = type,
	                     .channel = "web", .content_id = content, .partition = 2,
	                     .position = position };
	return fd_engine_engagement(e, &ev, at, s, err, sizeof err);
}

/* Interests tied for last place: the same one makes room for a new content
 * in a restored lead as in the original, although the restore lists them in
 * another order (the export's best-first order, ties by content id). */
Test(state, interest_ties_are_broken_the_same_after_a_restore)
{
	cr_assert_eq(cfg.top_interests, 3);
	const char *contents[] = { "c-guide", "b-guide", "a-guide" };
	for (int i = 0; i < 3; i++) {
		char id[8];
		snprintf(id, sizeof id, "e%d", i);
		cr_assert_eq(content_at(a, &sink_a, "tie", id, "content_download", contents[i], T0,
		                        i + 1), FD_OK, "%s", err);
	}
	fd_lead_state *st = malloc(sizeof *st);
	cr_assert(fd_engine_export(a, "tie", st));
	cr_assert_eq(fd_engine_import(b, st, err, sizeof err), FD_OK, "%s", err);
	cr_assert_eq(content_at(a, &sink_a, "tie", "e9", "pricing_view", "d-pricing", T0, 9), FD_OK);
	cr_assert_eq(content_at(b, &sink_b, "tie", "e9", "pricing_view", "d-pricing", T0, 9), FD_OK);
	fd_lead_view va, vb;
	cr_assert(fd_engine_lead(a, "tie", T0, &va));
	const char *want[] = { "d-pricing", "a-guide", "b-guide" }; /* c-guide made room */
	cr_assert_eq(va.n_interests, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_str_eq(va.interests[i].content_id, want[i], "original, interest %d", i);
	cr_assert(fd_engine_lead(b, "tie", T0, &vb));
	cr_assert_eq(vb.n_interests, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_str_eq(vb.interests[i].content_id, want[i], "restored, interest %d", i);
	free(st);
}
