/*
 * test_engine_partition.c — the engine's per-partition state: stream time
 * (the greatest event time each partition brought), idle leads counted in
 * it rather than by the wall clock, the funnel counted per UTC day of
 * event time with old days folded, export/import of a partition (the
 * checkpoint) and the exactly_once save point. Every time is virtual.
 */
#include <criterion/criterion.h>

#include "engine_fixture.h"

#define SHIPPED_TTL (180 * DAY) /* config/funneld.conf: state.lead_ttl */

static fd_rules cfg;
static fd_engine *e;
static fx_log *out;
static fd_sink sink;
static char err[256];

static void setup(void)
{
	fx_config(&cfg);
	e = fd_engine_new(&cfg, 0);
	cr_assert_not_null(e);
	out = calloc(1, sizeof *out);
	sink = fx_sink(out);
}

static void teardown(void)
{
	char why[256];
	cr_expect_eq(fd_engine_check(e, why, sizeof why), 0, "%s", why);
	fd_engine_free(e);
	free(out);
}

TestSuite(partition, .init = setup, .fini = teardown);

/* Engagement event `id` of `lead` on partition `p` at `at` (the wall
 * clock: `now`), Kafka position `pos`. */
static fd_status ev_on(fd_engine *x, int32_t p, const char *lead, const char *id,
                       const char *type, int64_t at, int64_t now, int64_t pos)
{
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at, .type = type,
		                 .channel = "web", .content_id = "ebook", .partition = p,
		                 .position = pos };
	return fd_engine_engagement(x, &ev, now, &sink, err, sizeof err);
}

static fd_status profile_on(fd_engine *x, int32_t p, const char *lead, int64_t at, int64_t now,
                            int64_t pos)
{
	fd_profile pr = { .lead_id = lead, .updated_at_ms = at, .seniority = "VP",
		              .industry = "Software", .country = "US", .employee_count = 800,
		              .partition = p, .position = pos };
	return fd_engine_profile(x, &pr, now, &sink, err, sizeof err);
}

static fd_status act_on(fd_engine *x, int32_t p, const char *lead, const char *id,
                        fd_activity_kind kind, int64_t at, int64_t pos)
{
	fd_activity a = { .activity_id = id, .lead_id = lead, .occurred_at_ms = at,
		              .rep_id = "rep-1", .kind = kind, .partition = p, .position = pos };
	return fd_engine_activity(x, &a, at, &sink, err, sizeof err);
}

static fd_funnel_counts funnel(fd_engine *x, int32_t p, int64_t from_day, int64_t to_day,
                               bool *exact)
{
	fd_funnel_counts f;
	memset(&f, 0, sizeof f);
	cr_assert(fd_engine_funnel(x, p, from_day, to_day, &f, exact), "partition %d", (int)p);
	return f;
}

/* ---- stream time -------------------------------------------------------------------- */

Test(partition, stream_time_is_the_greatest_event_time_each_partition_took)
{
	cr_assert_eq(fd_engine_stream_time(e, 1), 0);
	cr_assert_eq(ev_on(e, 1, "ann", "a1", "page_view", T0, T0, 1), FD_OK);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0);
	/* an older record of any input does not move it back */
	cr_assert_eq(profile_on(e, 1, "ann", T0 - DAY, T0, 1), FD_OK);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0);
	/* a refused activity is not taken: no move */
	cr_assert_eq(act_on(e, 1, "ann", "r1", FD_ACT_QUALIFY, T0 + 5 * DAY, 1), FD_ERR_REFUSED);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0);
	cr_assert_eq(act_on(e, 1, "ann", "s1", FD_ACT_ASSIGN, T0 + 2 * HOUR, 2), FD_OK);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0 + 2 * HOUR);
	/* a replay counts (a maximum: replaying changes nothing it had not
	 * seen), an invalid record does not */
	cr_assert_eq(ev_on(e, 1, "ann", "a2", "page_view", T0 + 3 * HOUR, T0 + 3 * HOUR, 1),
	             FD_DUPLICATE);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0 + 3 * HOUR);
	cr_assert_eq(ev_on(e, 1, "ann", "a3", "page_view", T0 + DAY, T0, 5), FD_ERR_INVALID);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0 + 3 * HOUR);
	/* each partition has its own */
	cr_assert_eq(ev_on(e, 2, "bob", "b1", "page_view", T0 - DAY, T0, 1), FD_OK);
	cr_assert_eq(fd_engine_stream_time(e, 2), T0 - DAY);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0 + 3 * HOUR);
	int32_t parts[4];
	cr_assert_eq(fd_engine_partitions(e, parts, 4), 2);
	cr_assert_eq(parts[0], 1);
	cr_assert_eq(parts[1], 2);
}

/* ---- idle leads: the partition's time, not the wall clock ------------------------------ */

/* History more than a year old fed into a fresh engine whose wall clock
 * says today: under the shipped 180-day TTL every lead stays, and goes on
 * from where it was at its next record. */
Test(partition, year_old_history_keeps_its_leads_under_the_shipped_ttl)
{
	fd_engine_set_lead_ttl(e, SHIPPED_TTL);
	const int64_t today = T0 + 400 * DAY, old = T0 - 30 * DAY;
	cr_assert_eq(profile_on(e, 0, "old", old, today, 1), FD_OK);
	cr_assert_eq(ev_on(e, 0, "old", "o1", "content_download", old, today, 1), FD_OK);
	cr_assert_eq(ev_on(e, 0, "old", "o2", "webinar_attended", old, today, 2), FD_OK);
	cr_assert_eq(ev_on(e, 0, "other", "x1", "page_view", old + DAY, today, 1), FD_OK);
	cr_assert_eq(fd_engine_evict(e, 100, NULL, NULL), 0);
	fd_lead_state st;
	cr_assert(fd_engine_export(e, "old", &st));
	cr_assert_eq(st.fit, 65.0); /* VP 30 + Software 20 + 800 employees 15 */
	cr_assert_eq(st.engagement, 30.0);
	/* its next record, 100 days on: the lead goes on (no new lead) */
	cr_assert_eq(ev_on(e, 0, "old", "o3", "page_view", old + 100 * DAY, today, 3), FD_OK);
	cr_assert(fd_engine_export(e, "old", &st));
	cr_assert_eq(st.fit, 65.0);
	cr_assert_eq(st.n_seen, 3);
	cr_assert_eq(funnel(e, 0, INT64_MIN, INT64_MAX, NULL).entered[FD_STAGE_LEAD], 2);
	fd_engine_stats s;
	fd_engine_stats_get(e, &s);
	cr_assert_eq(s.leads_evicted, 0);
	/* the partition's own stream moving a TTL past the lead's last input
	 * evicts it: exactly the TTL keeps it, one ms more does not */
	cr_assert_eq(ev_on(e, 0, "other", "x2", "page_view", old + 100 * DAY + SHIPPED_TTL, today, 2),
	             FD_OK);
	cr_assert_eq(fd_engine_evict(e, 100, NULL, NULL), 0);
	cr_assert_eq(ev_on(e, 0, "other", "x3", "page_view", old + 100 * DAY + SHIPPED_TTL + 1,
	                   today, 3), FD_OK);
	cr_assert_eq(fd_engine_evict(e, 100, NULL, NULL), 1);
	fd_lead_view v;
	cr_assert_not(fd_engine_lead(e, "old", today, &v));
	cr_assert(fd_engine_lead(e, "other", today, &v));
	/* another partition's stream does not count */
	cr_assert_eq(ev_on(e, 5, "p5", "y1", "page_view", T0, today, 1), FD_OK);
	cr_assert_eq(ev_on(e, 6, "p6", "z1", "page_view", today, today, 1), FD_OK);
	cr_assert_eq(fd_engine_evict(e, 100, NULL, NULL), 0);
}

/* The outcome does not depend on when the sweep runs: an idle lead's next
 * input finds a new lead, swept or not. Two engines take the same records;
 * one sweeps between them, the other never does. */
Test(partition, an_idle_lead_meets_its_next_input_as_new_whether_swept_or_not)
{
	fd_engine *other = fd_engine_new(&cfg, 0);
	fx_log *out2 = calloc(1, sizeof *out2);
	fd_sink sink2 = fx_sink(out2);
	fd_engine *x[2] = { e, other };
	fd_sink *sk[2] = { &sink, &sink2 };
	for (int i = 0; i < 2; i++) {
		fd_engine_set_lead_ttl(x[i], 30 * DAY);
		fd_engagement a1 = { .event_id = "a1", .lead_id = "ann", .occurred_at_ms = T0,
			                 .type = "pricing_view", .channel = "web", .partition = 0,
			                 .position = 1 };
		fd_engagement c1 = { .event_id = "c1", .lead_id = "clock", .occurred_at_ms = T0 + 31 * DAY,
			                 .type = "page_view", .channel = "web", .partition = 0,
			                 .position = 1 };
		cr_assert_eq(fd_engine_engagement(x[i], &a1, T0 + 40 * DAY, sk[i], err, sizeof err), FD_OK);
		cr_assert_eq(fd_engine_engagement(x[i], &c1, T0 + 40 * DAY, sk[i], err, sizeof err), FD_OK);
		if (i == 0)
			cr_assert_eq(fd_engine_evict(x[i], 100, NULL, NULL), 1);
		/* the same event id again: to a new lead it is new */
		fd_engagement a2 = { .event_id = "a1", .lead_id = "ann", .occurred_at_ms = T0 + 32 * DAY,
			                 .type = "email_click", .channel = "web", .partition = 0,
			                 .position = 2 };
		cr_assert_eq(fd_engine_engagement(x[i], &a2, T0 + 40 * DAY, sk[i], err, sizeof err), FD_OK);
	}
	fd_lead_state s0, s1;
	cr_assert(fd_engine_export(e, "ann", &s0));
	cr_assert_eq(s0.engagement, 3.0, "only the email click");
	cr_assert_eq(s0.engagement_as_of_ms, T0 + 32 * DAY);
	cr_assert(fd_engine_export(other, "ann", &s1));
	cr_assert_eq(s1.engagement, s0.engagement);
	cr_assert_eq(s1.engagement_as_of_ms, s0.engagement_as_of_ms);
	cr_assert_eq(s1.n_seen, 1);
	cr_assert_eq(s0.n_seen, 1);
	cr_assert_eq(s1.positions[FD_INPUT_ENGAGEMENT], 2);
	fd_engine_stats st0, st1;
	fd_engine_stats_get(e, &st0);
	fd_engine_stats_get(other, &st1);
	cr_assert_eq(st0.leads_evicted, 1);
	cr_assert_eq(st1.leads_evicted, 1);
	cr_assert_eq(funnel(e, 0, INT64_MIN, INT64_MAX, NULL).entered[FD_STAGE_LEAD], 3);
	cr_assert_eq(funnel(other, 0, INT64_MIN, INT64_MAX, NULL).entered[FD_STAGE_LEAD], 3);
	char why[256];
	cr_assert_eq(fd_engine_check(other, why, sizeof why), 0, "%s", why);
	fd_engine_free(other);
	free(out2);
}

/* A refused activity of an idle lead changes nothing: the lead stays as
 * it was until an input it takes, or a sweep. */
Test(partition, a_refused_activity_leaves_an_idle_lead_alone)
{
	fd_engine_set_lead_ttl(e, DAY);
	cr_assert_eq(ev_on(e, 0, "ann", "a1", "email_click", T0, T0, 1), FD_OK);
	cr_assert_eq(ev_on(e, 0, "clock", "c1", "page_view", T0 + 10 * DAY, T0 + 10 * DAY, 1), FD_OK);
	cr_assert_eq(act_on(e, 0, "ann", "q1", FD_ACT_QUALIFY, T0 + 11 * DAY, 1), FD_ERR_REFUSED);
	fd_lead_state st;
	cr_assert(fd_engine_export(e, "ann", &st));
	cr_assert_eq(st.engagement, 3.0);
	cr_assert_eq(st.last_input_ms, T0);
	cr_assert_eq(st.n_seen, 1);
	fd_engine_stats s;
	fd_engine_stats_get(e, &s);
	cr_assert_eq(s.leads_evicted, 0);
	cr_assert_eq(fd_engine_evict(e, 100, NULL, NULL), 1);
}

/* A profile older than an idle lead's own is not stale: it meets a new
 * lead, as it would have after a sweep. */
Test(partition, an_idle_leads_next_profile_meets_a_new_lead)
{
	fd_engine_set_lead_ttl(e, DAY);
	cr_assert_eq(profile_on(e, 0, "ann", T0, T0, 1), FD_OK);
	cr_assert_eq(profile_on(e, 0, "ann", T0 - HOUR, T0, 2), FD_STALE, "not idle yet");
	cr_assert_eq(ev_on(e, 0, "clock", "c1", "page_view", T0 + 2 * DAY, T0 + 2 * DAY, 1), FD_OK);
	cr_assert_eq(profile_on(e, 0, "ann", T0 - 2 * HOUR, T0 + 2 * DAY, 3), FD_OK);
	fd_lead_state st;
	cr_assert(fd_engine_export(e, "ann", &st));
	cr_assert_eq(st.profile_updated_ms, T0 - 2 * HOUR);
	cr_assert_eq(st.positions[FD_INPUT_PROFILE], 3);
	cr_assert_eq(funnel(e, 0, INT64_MIN, INT64_MAX, NULL).entered[FD_STAGE_LEAD], 3);
}

/* ---- the funnel per day ---------------------------------------------------------------- */

/* Entries count on the UTC day of the time they happened; SLA events too;
 * a window is a range of days. */
Test(partition, the_funnel_counts_by_utc_day)
{
	cr_assert_eq(ev_on(e, 3, "ann", "a1", "page_view", T0 - HOUR, T0, 1), FD_OK);
	cr_assert_eq(ev_on(e, 3, "ann", "a2", "demo_request", T0 + HOUR, T0 + HOUR, 2), FD_OK);
	cr_assert_eq(act_on(e, 3, "ann", "t1", FD_ACT_ACCEPT, T0 + DAY, 1), FD_OK);
	/* sal_decision (2 d, warning at half, expiry back to MQL) warns on
	 * day 2 and breaches on day 3 */
	cr_assert_eq(fd_engine_advance(e, T0 + 3 * DAY + HOUR, &sink), 2);
	const int64_t d0 = T0 / DAY;
	fd_funnel_counts f = funnel(e, 3, d0 - 1, d0 - 1, NULL);
	cr_assert_eq(f.entered[FD_STAGE_LEAD], 1);
	cr_assert_eq(f.transitions, 0);
	f = funnel(e, 3, d0, d0, NULL);
	cr_assert_eq(f.entered[FD_STAGE_LEAD], 0);
	cr_assert_eq(f.entered[FD_STAGE_MQL], 1);
	cr_assert_eq(f.transitions, 1);
	f = funnel(e, 3, d0 + 1, d0 + 1, NULL);
	cr_assert_eq(f.entered[FD_STAGE_SAL], 1);
	cr_assert_eq(f.sla_met[0], 1, "mql_first_touch met by the ACCEPT");
	cr_assert_eq(f.sla_met[3], 0, "mql_decision runs on in SAL");
	f = funnel(e, 3, d0 + 2, d0 + 2, NULL);
	cr_assert_eq(f.sla_warned[2], 1);
	cr_assert_eq(f.sla_breached[2], 0);
	f = funnel(e, 3, d0 + 3, INT64_MAX, NULL);
	cr_assert_eq(f.sla_breached[2], 1);
	cr_assert_eq(f.entered[FD_STAGE_MQL], 1, "the expiry action: back to MQL");
	f = funnel(e, 3, INT64_MIN, INT64_MAX, NULL);
	cr_assert_eq(f.entered[FD_STAGE_LEAD], 1);
	cr_assert_eq(f.entered[FD_STAGE_MQL], 2);
	cr_assert_eq(f.entered[FD_STAGE_SAL], 1);
	cr_assert_eq(f.transitions, 3);
	fd_funnel_counts none;
	memset(&none, 0, sizeof none);
	cr_assert_not(fd_engine_funnel(e, 4, INT64_MIN, INT64_MAX, &none, NULL));
}

/* At most funnel_days buckets: the oldest folds into "before" (counted
 * only without a lower bound; a bounded window that reaches into it says
 * it is not exact); a day older than every kept one goes there at once. */
Test(partition, old_days_fold_into_one_bucket)
{
	fd_engine_set_funnel_days(e, 3);
	const int64_t d0 = T0 / DAY;
	char id[16];
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof id, "lead-%d", i);
		cr_assert_eq(ev_on(e, 0, id, "e", "page_view", T0 + i * DAY, T0 + 4 * DAY, 1), FD_OK);
	}
	fd_partition_state ps;
	cr_assert(fd_engine_partition_export(e, 0, &ps));
	cr_assert_eq(ps.n_days, 3);
	cr_assert_eq(ps.days[0].day, d0 + 1);
	cr_assert_eq(ps.days[2].day, d0 + 3);
	cr_assert_eq(ps.before.entered[FD_STAGE_LEAD], 1);
	bool exact = true;
	cr_assert_eq(funnel(e, 0, INT64_MIN, INT64_MAX, &exact).entered[FD_STAGE_LEAD], 4);
	cr_assert(exact);
	cr_assert_eq(funnel(e, 0, d0 + 1, INT64_MAX, &exact).entered[FD_STAGE_LEAD], 3);
	cr_assert(exact);
	cr_assert_eq(funnel(e, 0, d0, INT64_MAX, &exact).entered[FD_STAGE_LEAD], 3);
	cr_assert_not(exact, "day d0 was folded");
	/* late: older than every kept day */
	cr_assert_eq(ev_on(e, 0, "late", "e", "page_view", T0 - 5 * DAY, T0 + 4 * DAY, 1), FD_OK);
	cr_assert(fd_engine_partition_export(e, 0, &ps));
	cr_assert_eq(ps.n_days, 3);
	cr_assert_eq(ps.before.entered[FD_STAGE_LEAD], 2);
	/* a new day at the end folds the oldest kept one */
	cr_assert_eq(ev_on(e, 0, "new", "e", "page_view", T0 + 4 * DAY, T0 + 4 * DAY, 1), FD_OK);
	cr_assert(fd_engine_partition_export(e, 0, &ps));
	cr_assert_eq(ps.n_days, 3);
	cr_assert_eq(ps.days[0].day, d0 + 2);
	cr_assert_eq(ps.before.entered[FD_STAGE_LEAD], 3);
	cr_assert_eq(funnel(e, 0, INT64_MIN, INT64_MAX, NULL).entered[FD_STAGE_LEAD], 6);
}

/* ---- the checkpoint: export, import, rollback ---------------------------------------- */

/* A partition exported and imported elsewhere answers the same; SLA
 * counters follow their names, not their order; a name the rules lack is
 * dropped. Stream time comes with it, so idleness is the same after a
 * restore. */
Test(partition, a_partition_moves_whole_through_export_and_import)
{
	fd_engine_set_lead_ttl(e, 5 * DAY);
	cr_assert_eq(ev_on(e, 7, "ann", "a1", "demo_request", T0, T0, 1), FD_OK);
	cr_assert_eq(act_on(e, 7, "ann", "t1", FD_ACT_TOUCH, T0 + HOUR, 1), FD_OK);
	fd_partition_state ps;
	cr_assert(fd_engine_partition_export(e, 7, &ps));
	cr_assert_eq(ps.partition, 7);
	cr_assert_eq(ps.stream_time_ms, T0 + HOUR);
	cr_assert_eq(ps.n_slas, 4);
	cr_assert_str_eq(ps.sla_names[0], "mql_first_touch");

	fd_rules other_rules = cfg;
	/* the same SLAs in another order, one gone */
	other_rules.slas[0] = cfg.slas[3];
	other_rules.slas[1] = cfg.slas[0];
	other_rules.slas[2] = cfg.slas[2];
	other_rules.n_slas = 3;
	fd_engine *b = fd_engine_new(&other_rules, 0);
	cr_assert_eq(fd_engine_partition_import(b, &ps, err, sizeof err), FD_OK, "%s", err);
	cr_assert_eq(fd_engine_stream_time(b, 7), T0 + HOUR);
	fd_funnel_counts fa = funnel(e, 7, INT64_MIN, INT64_MAX, NULL);
	fd_funnel_counts fb = funnel(b, 7, INT64_MIN, INT64_MAX, NULL);
	cr_assert_eq(fb.entered[FD_STAGE_LEAD], 1);
	cr_assert_eq(fb.entered[FD_STAGE_MQL], 1);
	cr_assert_eq(fb.transitions, fa.transitions);
	cr_assert_eq(fa.sla_met[0], 1);
	cr_assert_eq(fb.sla_met[1], 1, "mql_first_touch is second in b's rules");
	cr_assert_eq(fb.sla_met[0], 0);

	fd_partition_state bad = ps;
	bad.partition = -1;
	cr_assert_eq(fd_engine_partition_import(b, &bad, err, sizeof err), FD_ERR_INVALID);
	cr_assert_str_eq(err, "partition -1 out of range 0..65535");
	fd_engine_partition_drop(b, 7);
	int32_t parts[2];
	cr_assert_eq(fd_engine_partitions(b, parts, 2), 0);
	fd_engine_free(b);
}

/* exactly_once: an aborted transaction takes the partitions back to the
 * save point (the last commit), one created since goes, the rest is left. */
Test(partition, rollback_goes_back_to_the_save_point)
{
	cr_assert_eq(ev_on(e, 0, "ann", "a1", "page_view", T0, T0, 1), FD_OK);
	cr_assert_eq(ev_on(e, 1, "bob", "b1", "page_view", T0, T0, 1), FD_OK);
	fd_engine_partitions_save(e);
	int32_t changed[4];
	cr_assert_eq(fd_engine_partitions_take_changed(e, changed, 4), 2);
	cr_assert_eq(fd_engine_partitions_take_changed(e, changed, 4), 0);
	cr_assert_eq(ev_on(e, 0, "carl", "c1", "demo_request", T0 + DAY, T0 + DAY, 1), FD_OK);
	cr_assert_eq(ev_on(e, 2, "dan", "d1", "page_view", T0 + DAY, T0 + DAY, 1), FD_OK);
	cr_assert_eq(funnel(e, 0, INT64_MIN, INT64_MAX, NULL).entered[FD_STAGE_MQL], 1);
	fd_engine_partitions_rollback(e);
	cr_assert_eq(fd_engine_stream_time(e, 0), T0);
	cr_assert_eq(funnel(e, 0, INT64_MIN, INT64_MAX, NULL).entered[FD_STAGE_LEAD], 1);
	cr_assert_eq(funnel(e, 0, INT64_MIN, INT64_MAX, NULL).entered[FD_STAGE_MQL], 0);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0, "untouched");
	int32_t parts[4];
	cr_assert_eq(fd_engine_partitions(e, parts, 4), 2, "partition 2 was created since");
	cr_assert_eq(fd_engine_partitions_take_changed(e, changed, 4), 1);
	cr_assert_eq(changed[0], 0, "rolled back: written again");
	/* a partition opened (assigned and restored) is committed as it is */
	cr_assert_eq(fd_engine_partition_open(e, 9), 0);
	fd_engine_partitions_rollback(e);
	cr_assert_eq(fd_engine_partitions(e, parts, 4), 3);
	cr_assert_eq(parts[2], 9);
	cr_assert_eq(fd_engine_partitions_take_changed(e, changed, 4), 0);
	fd_engine_partition_drop(e, 9);
	/* a new save point: the next rollback goes back to here */
	cr_assert_eq(ev_on(e, 1, "bob", "b2", "page_view", T0 + 2 * DAY, T0 + 2 * DAY, 2), FD_OK);
	fd_engine_partitions_save(e);
	cr_assert_eq(ev_on(e, 1, "bob", "b3", "page_view", T0 + 3 * DAY, T0 + 3 * DAY, 3), FD_OK);
	fd_engine_partitions_rollback(e);
	cr_assert_eq(fd_engine_stream_time(e, 1), T0 + 2 * DAY);
	/* leads are not the partitions' business: the daemon rolls them back */
	fd_engine_remove(e, "carl");
	fd_engine_remove(e, "dan");
}

/* A reload (fd_engine_adopt) takes the partitions over whole: stream time,
 * counters (SLA counters follow their names into the new order), the
 * changed marks. */
Test(partition, a_reload_keeps_the_partitions)
{
	cr_assert_eq(ev_on(e, 4, "ann", "a1", "demo_request", T0, T0, 1), FD_OK);
	cr_assert_eq(act_on(e, 4, "ann", "t1", FD_ACT_TOUCH, T0 + HOUR, 1), FD_OK);
	fd_rules next_rules = cfg;
	next_rules.slas[0] = cfg.slas[1];
	next_rules.slas[1] = cfg.slas[0];
	fd_engine *next = fd_engine_new(&next_rules, 0);
	cr_assert_eq(fd_engine_adopt(next, e), 0);
	e = next; /* teardown frees it, and the former engine with it */
	cr_assert_eq(fd_engine_stream_time(e, 4), T0 + HOUR);
	fd_funnel_counts f = funnel(e, 4, INT64_MIN, INT64_MAX, NULL);
	cr_assert_eq(f.entered[FD_STAGE_MQL], 1);
	cr_assert_eq(f.sla_met[1], 1, "mql_first_touch is second now");
	cr_assert_eq(f.sla_met[0], 0);
	int32_t changed[2];
	cr_assert_eq(fd_engine_partitions_take_changed(e, changed, 2), 1);
	cr_assert_eq(changed[0], 4);
}
