/*
 * test_engine.c — the engine's rules pinned with a virtual clock: decay,
 * order independence, caps, duplicates, frequency, fit and disqualifiers,
 * every lifecycle transition and refusal, SLA warning/breach/met at exact
 * deadlines, overrides, expiry actions, nurture reviews, re-MQL cool-down,
 * handoff context and deterministic ids. Configuration: engine_fixture.h.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>

#include "engine_fixture.h"

static fd_rules cfg;
static fd_engine *eng;
static fx_log *out;
static fd_sink sink;
static char err[256];

static void setup(void)
{
	fx_config(&cfg);
	eng = fd_engine_new(&cfg, 0);
	cr_assert_not_null(eng);
	out = calloc(1, sizeof *out);
	sink = fx_sink(out);
	err[0] = '\0';
}

static void teardown(void)
{
	/* whatever a test did, the engine is consistent after it */
	char why[256];
	cr_expect_eq(fd_engine_check(eng, why, sizeof why), 0, "engine inconsistent: %s", why);
	fd_engine_free(eng);
	free(out);
}

TestSuite(engine, .init = setup, .fini = teardown);

/* ---- input helpers ------------------------------------------------------- */

static fd_status ev_full(const char *lead, const char *id, const char *type, int64_t at,
                         const char *channel, const char *content)
{
	fd_engagement e = { .event_id = id, .lead_id = lead, .occurred_at_ms = at, .type = type,
	                    .channel = channel, .content_id = content };
	return fd_engine_engagement(eng, &e, at, &sink, err, sizeof err);
}

static fd_status ev(const char *lead, const char *id, const char *type, int64_t at)
{
	return ev_full(lead, id, type, at, "web", NULL);
}

static fd_status act(const char *lead, const char *id, fd_activity_kind kind, fd_reason reason,
                     int64_t at)
{
	fd_activity a = { .activity_id = id, .lead_id = lead, .occurred_at_ms = at,
	                  .rep_id = "rep-7", .kind = kind, .reason = reason };
	return fd_engine_activity(eng, &a, at, &sink, err, sizeof err);
}

/* A-grade profile: VP (30) + Software (20) + 1000 employees (15) = 65 */
static fd_status profile_a(const char *lead, int64_t at)
{
	fd_profile p = { .lead_id = lead, .updated_at_ms = at, .email = "ann@acme.com",
	                 .job_title = "VP Engineering", .seniority = "VP", .industry = "Software",
	                 .country = "US", .employee_count = 1000, .annual_revenue = 50000000 };
	return fd_engine_profile(eng, &p, at, &sink, err, sizeof err);
}

static fd_lead_view view(const char *lead, int64_t now)
{
	fd_lead_view v;
	cr_assert(fd_engine_lead(eng, lead, now, &v), "lead %s unknown", lead);
	return v;
}

static fd_stage stage_of(const char *lead)
{
	return view(lead, T0).stage;
}

/* Lead "m" in MQL at T0 by hand raise (grade D, no profile). */
static void make_mql(const char *lead, int64_t at)
{
	cr_assert_eq(ev(lead, "hr", "demo_request", at), FD_OK);
	cr_assert_eq(stage_of(lead), FD_STAGE_MQL);
}

static const fx_transition *last_tr(void)
{
	cr_assert(out->n_tr > 0);
	return &out->tr[out->n_tr - 1];
}

/* ---- scoring ------------------------------------------------------------- */

Test(engine, decay_after_exactly_one_half_life_is_half)
{
	cr_assert_eq(ev("a", "e1", "content_download", T0), FD_OK);
	cr_assert_float_eq(view("a", T0).score.engagement, 10.0, 0.0);
	cr_assert_eq(view("a", T0 + 10 * DAY).score.engagement, 5.0);
	cr_assert_eq(view("a", T0 + 20 * DAY).score.engagement, 2.5);
	cr_assert_eq(ev("a", "e2", "content_download", T0 + 10 * DAY), FD_OK);
	cr_assert_eq(view("a", T0 + 10 * DAY).score.engagement, 15.0);
}

Test(engine, late_event_is_decayed_to_as_of_time)
{
	cr_assert_eq(ev("a", "e1", "content_download", T0 + 10 * DAY), FD_OK);
	cr_assert_eq(ev("a", "e0", "content_download", T0), FD_OK); /* one half-life late */
	cr_assert_eq(view("a", T0 + 10 * DAY).score.engagement, 15.0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

Test(engine, score_is_order_independent_on_shuffled_input)
{
	static const char *types[] = { "email_click", "content_download", "pricing_view",
	                               "webinar_attended", "unsubscribe", "event_attended" };
	enum { N = 300 };
	struct { char id[16]; const char *type; int64_t at; char content[16]; } evs[N];
	for (int i = 0; i < N; i++) {
		snprintf(evs[i].id, sizeof evs[i].id, "e%d", i);
		evs[i].type = types[rnd() % 6];
		evs[i].at = T0 + (int64_t)(rnd() % (uint64_t)(25 * DAY));
		snprintf(evs[i].content, sizeof evs[i].content, "c%d", (int)(rnd() % 4));
	}
	for (int i = 0; i < N; i++)
		cr_assert_eq(ev_full("sorted", evs[i].id, evs[i].type, evs[i].at, "email",
		                     evs[i].content), FD_OK);
	for (int i = N - 1; i > 0; i--) {
		int j = (int)(rnd() % (uint64_t)(i + 1));
		__typeof__(evs[0]) tmp = evs[i];
		evs[i] = evs[j];
		evs[j] = tmp;
	}
	for (int i = 0; i < N; i++)
		cr_assert_eq(ev_full("shuffled", evs[i].id, evs[i].type, evs[i].at, "email",
		                     evs[i].content), FD_OK);
	int64_t now = T0 + 26 * DAY;
	fd_lead_view a = view("sorted", now);
	double ea = a.score.engagement;
	uint32_t f7 = a.score.frequency[0], f30 = a.score.frequency[1];
	size_t nb = a.n_breakdown;
	double b0 = a.breakdown[0].points;
	fd_lead_view b = view("shuffled", now);
	cr_assert(fabs(ea - b.score.engagement) <= 1e-9 * fabs(ea) + 1e-9,
	          "sorted %.17g shuffled %.17g", ea, b.score.engagement);
	cr_assert_eq(f7, b.score.frequency[0]);
	cr_assert_eq(f30, b.score.frequency[1]);
	cr_assert_eq(f30, N);
	cr_assert_eq(nb, b.n_breakdown);
	cr_assert(fabs(b0 - b.breakdown[0].points) <= 1e-4 * fabs(b0) + 1e-4);
	/* the score is the closed-form sum */
	double expect = 0;
	for (int i = 0; i < N; i++) {
		double pts = 0;
		for (int k = 0; k < cfg.n_event_types; k++)
			if (strcmp(cfg.event_types[k].type, evs[i].type) == 0)
				pts = cfg.event_types[k].points;
		expect += pts * exp2(-(double)(now - evs[i].at) / (double)(10 * DAY));
	}
	cr_assert(fabs(expect - ea) <= 1e-9 * fabs(expect) + 1e-9);
}

Test(engine, cap_limits_points_per_type_per_window_and_resets_next_window)
{
	char id[16];
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof id, "pv%d", i);
		cr_assert_eq(ev("bot", id, "page_view", T0 + HOUR), FD_OK);
	}
	cr_assert_eq(view("bot", T0 + HOUR).score.engagement, 5.0);
	cr_assert_eq(view("bot", T0 + HOUR).score.frequency[0], 8); /* capped points, counted events */
	for (int i = 8; i < 16; i++) {
		snprintf(id, sizeof id, "pv%d", i);
		cr_assert_eq(ev("bot", id, "page_view", T0 + DAY + HOUR), FD_OK);
	}
	double expect = 5.0 * exp2(-0.1) + 5.0;
	cr_assert(fabs(view("bot", T0 + DAY + HOUR).score.engagement - expect) < 1e-12);
	cr_assert_eq(stage_of("bot"), FD_STAGE_LEAD);
}

Test(engine, duplicate_event_id_counts_once)
{
	cr_assert_eq(ev("a", "same", "pricing_view", T0), FD_OK);
	cr_assert_eq(ev("a", "same", "pricing_view", T0), FD_DUPLICATE);
	cr_assert_eq(ev("a", "other", "email_click", T0), FD_OK);
	cr_assert_eq(ev("a", "same", "pricing_view", T0 + HOUR), FD_DUPLICATE);
	fd_lead_view v = view("a", T0);
	cr_assert_eq(v.score.engagement, 18.0);
	cr_assert_eq(v.score.frequency[0], 2);
	fd_engine_stats s;
	fd_engine_stats_get(eng, &s);
	cr_assert_eq(s.events_duplicate, 2);
	cr_assert_eq(s.events_applied, 2);
}

/* The window is exact: an id among the lead's last duplicate_ids applied
 * ids (events and activities together) counts once, one further back
 * counts again; the window survives export and import. */
static void window_case(int n)
{
	fd_engine_free(eng);
	cfg.duplicate_ids = n;
	eng = fd_engine_new(&cfg, 0);
	char id[32];
	/* e0 .. e(n-1): e0 is the oldest of the last n */
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "e%d", i);
		cr_assert_eq(ev("w", id, "page_view", T0 + i), FD_OK);
	}
	cr_assert_eq(ev("w", "e0", "page_view", T0 + n), FD_DUPLICATE,
	             "window %d: the oldest of the last %d ids was not a duplicate", n, n);
	/* one more id pushes e0 out */
	cr_assert_eq(ev("w", "x", "page_view", T0 + n), FD_OK);
	cr_assert_eq(ev("w", "e1", "page_view", T0 + n), n > 1 ? FD_DUPLICATE : FD_OK);
	/* through the state record: the same window */
	fd_lead_state *st = malloc(sizeof *st);
	cr_assert(fd_engine_export(eng, "w", st));
	cr_assert_eq(st->n_seen, n);
	fd_engine *copy = fd_engine_new(&cfg, 0);
	cr_assert_eq(fd_engine_import(copy, st, err, sizeof err), FD_OK, "%s", err);
	/* the newest id: x, or e1 when the window holds one id */
	fd_engagement e = { .event_id = n > 1 ? "x" : "e1", .lead_id = "w",
		                .occurred_at_ms = T0 + n, .type = "page_view" };
	cr_assert_eq(fd_engine_engagement(copy, &e, T0 + n, &sink, err, sizeof err), FD_DUPLICATE);
	e.event_id = "e0";
	cr_assert_eq(fd_engine_engagement(copy, &e, T0 + n, &sink, err, sizeof err), FD_OK,
	             "window %d: e0 fell out before the import, not after", n);
	fd_engine_free(copy);
	free(st);
}

Test(engine, duplicate_window_boundary_default_and_configured)
{
	window_case(FD_SEEN_DEFAULT);
	window_case(1);
	window_case(3);
	window_case(FD_SEEN_MAX);
}

/* e1..e5 then e1: once (the old fixed memory of 4 ids counted it twice) */
Test(engine, duplicate_after_five_other_ids_counts_once)
{
	static const char *const ids[] = { "e1", "e2", "e3", "e4", "e5" };
	for (int i = 0; i < 5; i++)
		cr_assert_eq(ev("f", ids[i], "page_view", T0 + i), FD_OK);
	cr_assert_eq(ev("f", "e1", "page_view", T0 + 5), FD_DUPLICATE);
}

Test(engine, negative_points_lower_the_score)
{
	cr_assert_eq(ev("a", "e1", "content_download", T0), FD_OK);
	cr_assert_eq(ev("a", "e2", "unsubscribe", T0), FD_OK);
	cr_assert_eq(view("a", T0).score.engagement, -10.0);
}

Test(engine, frequency_windows_are_exact_to_the_bucket)
{
	int64_t days[] = { 0, 1, 6, 7, 20, 31 };
	char id[16];
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof id, "e%d", i);
		cr_assert_eq(ev("f", id, "email_click", T0 + days[i] * DAY + HOUR), FD_OK);
	}
	/* at day 31: 7 d = days 25..31, 30 d = days 2..31 */
	fd_lead_view v = view("f", T0 + 31 * DAY + 2 * HOUR);
	cr_assert_eq(v.score.frequency[0], 1);
	cr_assert_eq(v.score.frequency[1], 4);
	/* a second lead, events on days 0, 1, 6, 7: at day 7, 23:59:59.999 the
	 * 7 d window is days 1..7 and the 30 d window days 0..7 */
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof id, "e%d", i);
		cr_assert_eq(ev("g", id, "email_click", T0 + days[i] * DAY + HOUR), FD_OK);
	}
	v = view("g", T0 + 8 * DAY - 1);
	cr_assert_eq(v.score.frequency[0], 3);
	cr_assert_eq(v.score.frequency[1], 4);
	/* one millisecond later, day 8: day 1 leaves the 7 d window */
	v = view("g", T0 + 8 * DAY);
	cr_assert_eq(v.score.frequency[0], 2);
	cr_assert_eq(v.score.frequency[1], 4);
}

Test(engine, frequency_counts_late_events_in_their_own_bucket)
{
	cr_assert_eq(ev("f", "a", "email_click", T0 + 3 * DAY), FD_OK);
	cr_assert_eq(ev("f", "b", "email_click", T0 + 1 * DAY), FD_OK);
	cr_assert_eq(ev("f", "c", "email_click", T0 + 2 * DAY), FD_OK);
	fd_lead_view v = view("f", T0 + 3 * DAY);
	cr_assert_eq(v.score.frequency[0], 3);
	v = view("f", T0 + 9 * DAY);
	cr_assert_eq(v.score.frequency[0], 1); /* days 3..9 */
}

Test(engine, recency_is_days_since_last_and_last_high_intent_event)
{
	cr_assert_eq(ev("r", "a", "pricing_view", T0), FD_OK);
	cr_assert_eq(ev("r", "b", "email_click", T0 + DAY), FD_OK);
	fd_lead_view v = view("r", T0 + 3 * DAY);
	cr_assert_eq(v.score.recency_days, 2.0);
	cr_assert_eq(v.score.high_intent_recency_days, 3.0);
}

Test(engine, event_too_far_in_the_future_is_invalid_and_changes_nothing)
{
	fd_engagement e = { .event_id = "x", .lead_id = "a", .occurred_at_ms = T0 + 5 * FD_MS_MINUTE + 1,
	                    .type = "email_click" };
	cr_assert_eq(fd_engine_engagement(eng, &e, T0, &sink, err, sizeof err), FD_ERR_INVALID);
	cr_assert_str_eq(err, "occurred_at_ms 1767225900001 is more than 300000 ms in the future");
	fd_lead_view v;
	cr_assert_not(fd_engine_lead(eng, "a", T0, &v));
	e.occurred_at_ms = T0 + 5 * FD_MS_MINUTE;
	cr_assert_eq(fd_engine_engagement(eng, &e, T0, &sink, err, sizeof err), FD_OK);
}

Test(engine, unknown_event_type_and_missing_lead_are_invalid)
{
	cr_assert_eq(ev("a", "x", "tiktok_like", T0), FD_ERR_INVALID);
	cr_assert_str_eq(err, "unknown event type 'tiktok_like'");
	cr_assert_eq(ev("", "x", "email_click", T0), FD_ERR_INVALID);
	cr_assert_str_eq(err, "engagement event without lead_id");
	fd_engine_stats s;
	fd_engine_stats_get(eng, &s);
	cr_assert_eq(s.leads, 0);
	cr_assert_eq(s.events_invalid, 2);
}

/* ---- fit ------------------------------------------------------------------ */

Test(engine, fit_points_and_grade_from_profile)
{
	cr_assert_eq(profile_a("p", T0), FD_OK);
	fd_lead_view v = view("p", T0);
	cr_assert_eq(v.score.fit, 65.0);
	cr_assert_eq(v.score.grade, FD_GRADE_A);
	fd_profile q = { .lead_id = "q", .updated_at_ms = T0, .seniority = "director",
	                 .employee_count = 5000, .job_title = "Head of IT" };
	cr_assert_eq(fd_engine_profile(eng, &q, T0, &sink, err, sizeof err), FD_OK);
	v = view("q", T0);
	cr_assert_eq(v.score.fit, 40.0); /* 30 + 10; 5000 is outside [200, 5000) */
	cr_assert_eq(v.score.grade, FD_GRADE_B);
	q.employee_count = 200;
	q.updated_at_ms = T0 + 1;
	cr_assert_eq(fd_engine_profile(eng, &q, T0 + 1, &sink, err, sizeof err), FD_OK);
	cr_assert_eq(view("q", T0).score.fit, 55.0);
}

Test(engine, stale_profile_is_ignored)
{
	cr_assert_eq(profile_a("p", T0 + HOUR), FD_OK);
	fd_profile old = { .lead_id = "p", .updated_at_ms = T0, .seniority = "intern" };
	cr_assert_eq(fd_engine_profile(eng, &old, T0 + HOUR, &sink, err, sizeof err), FD_STALE);
	cr_assert_eq(view("p", T0).score.fit, 65.0);
}

Test(engine, missing_field_never_matches_a_negated_disqualifier)
{
	fd_profile p = { .lead_id = "p", .updated_at_ms = T0, .industry = "Software" };
	cr_assert_eq(fd_engine_profile(eng, &p, T0, &sink, err, sizeof err), FD_OK);
	cr_assert_eq(stage_of("p"), FD_STAGE_LEAD);
	p.country = "BR";
	p.updated_at_ms = T0 + 1;
	cr_assert_eq(fd_engine_profile(eng, &p, T0 + 1, &sink, err, sizeof err), FD_OK);
	cr_assert_eq(stage_of("p"), FD_STAGE_DISQUALIFIED);
	cr_assert_str_eq(last_tr()->reason, "unserved_country");
}

Test(engine, profile_update_disqualifies_an_mql_with_the_rule_name_and_requalifies)
{
	make_mql("m", T0);
	fd_profile p = { .lead_id = "m", .updated_at_ms = T0 + HOUR, .job_title = "PhD Student",
	                 .country = "DE" };
	cr_assert_eq(fd_engine_profile(eng, &p, T0 + HOUR, &sink, err, sizeof err), FD_OK);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_MQL);
	cr_assert_eq(t->to, FD_STAGE_DISQUALIFIED);
	cr_assert_eq(t->trigger, FD_TRIGGER_DISQUALIFIED_BY_FIT);
	cr_assert_str_eq(t->reason, "student");
	cr_assert_eq(t->at, T0 + HOUR);
	cr_assert_str_eq(view("m", T0).disqualified_by, "student");
	/* mql_decision is satisfied by leaving MQL; first touch closes silently */
	cr_assert_eq(out->n_sla, 1);
	cr_assert_str_eq(out->sla[0].sla, "mql_decision");
	cr_assert_eq(out->sla[0].kind, FD_SLA_MET);
	cr_assert_eq(out->sla[0].elapsed, HOUR);
	cr_assert_eq(fd_engine_next_deadline(eng), INT64_MAX);

	/* a hand raise while disqualified does nothing */
	size_t n = out->n_tr;
	cr_assert_eq(ev("m", "hr2", "demo_request", T0 + 2 * HOUR), FD_OK);
	cr_assert_eq(out->n_tr, n);

	p.job_title = "Engineering Manager";
	p.updated_at_ms = T0 + 3 * HOUR;
	cr_assert_eq(fd_engine_profile(eng, &p, T0 + 3 * HOUR, &sink, err, sizeof err), FD_OK);
	t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_DISQUALIFIED);
	cr_assert_eq(t->to, FD_STAGE_LEAD);
	cr_assert_eq(t->trigger, FD_TRIGGER_REQUALIFIED_BY_FIT);
	cr_assert_str_eq(t->reason, "student");
}

Test(engine, profile_does_not_disqualify_after_sales_qualified)
{
	make_mql("m", T0);
	cr_assert_eq(act("m", "a1", FD_ACT_ACCEPT, FD_REASON_NONE, T0 + HOUR), FD_OK);
	cr_assert_eq(act("m", "a2", FD_ACT_QUALIFY, FD_REASON_NONE, T0 + 2 * HOUR), FD_OK);
	fd_profile p = { .lead_id = "m", .updated_at_ms = T0 + 3 * HOUR, .email = "x@gmail.com" };
	cr_assert_eq(fd_engine_profile(eng, &p, T0 + 3 * HOUR, &sink, err, sizeof err), FD_OK);
	cr_assert_eq(stage_of("m"), FD_STAGE_SQL);
}

/* ---- MQL decisions -------------------------------------------------------- */

Test(engine, score_threshold_mql_fires_at_exactly_the_threshold)
{
	cr_assert_eq(profile_a("s", T0 - HOUR), FD_OK);
	cr_assert_eq(ev("s", "e1", "pricing_view", T0), FD_OK);
	cr_assert_eq(ev("s", "e2", "pricing_view", T0), FD_OK);
	cr_assert_eq(ev("s", "e3", "email_click", T0), FD_OK); /* 33 */
	cr_assert_eq(out->n_tr, 0);
	cr_assert_eq(ev_full("s", "e4", "email_click", T0, "email", NULL), FD_OK); /* 36 */
	cr_assert_eq(ev_full("s", "e5", "email_click", T0, "email", NULL), FD_OK); /* 39 */
	cr_assert_eq(out->n_tr, 0);
	cr_assert_eq(ev_full("s", "e6", "page_view", T0, "web", "pricing"), FD_OK); /* 40 */
	cr_assert_eq(out->n_tr, 1);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_LEAD);
	cr_assert_eq(t->to, FD_STAGE_MQL);
	cr_assert_eq(t->trigger, FD_TRIGGER_SCORE_THRESHOLD);
	cr_assert_str_eq(t->reason, "mql.matrix.A");
	cr_assert_str_eq(t->cause, "event:e6");
	cr_assert_eq(t->at, T0);
	cr_assert_eq(t->score.engagement, 40.0);
	cr_assert_eq(t->score.fit, 65.0);
	cr_assert_eq(t->score.grade, FD_GRADE_A);
}

Test(engine, grade_d_never_mqls_by_score)
{
	for (int i = 0; i < 10; i++) {
		char id[16];
		snprintf(id, sizeof id, "w%d", i);
		cr_assert_eq(ev("d", id, "webinar_attended", T0), FD_OK);
	}
	cr_assert_eq(view("d", T0).score.engagement, 200.0);
	cr_assert_eq(stage_of("d"), FD_STAGE_LEAD);
}

Test(engine, hand_raise_mqls_regardless_of_score)
{
	cr_assert_eq(ev("h", "d1", "demo_request", T0), FD_OK);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->to, FD_STAGE_MQL);
	cr_assert_eq(t->trigger, FD_TRIGGER_HAND_RAISE);
	cr_assert_str_eq(t->reason, "demo_request");
	cr_assert_eq(t->score.engagement, 0.0);
}

Test(engine, fast_track_source_goes_straight_to_sal)
{
	cr_assert_eq(profile_a("b", T0 - HOUR), FD_OK);
	cr_assert_eq(ev_full("b", "scan", "event_attended", T0, "event", "booth-42"), FD_OK);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_LEAD);
	cr_assert_eq(t->to, FD_STAGE_SAL);
	cr_assert_eq(t->trigger, FD_TRIGGER_FAST_TRACK);
	cr_assert_str_eq(t->reason, "event");
	/* SAL decision SLA starts at once */
	fd_lead_view v = view("b", T0);
	cr_assert_eq(v.n_open_slas, 1);
	cr_assert_str_eq(v.open_slas[0].name, "sal_decision");
	cr_assert_eq(v.open_slas[0].due_at_ms, T0 + 2 * DAY);
}

Test(engine, fast_track_needs_the_minimum_grade)
{
	cr_assert_eq(ev_full("b", "scan", "event_attended", T0, "event", "booth-42"), FD_OK);
	cr_assert_eq(out->n_tr, 0); /* grade D */
	cr_assert_eq(stage_of("b"), FD_STAGE_LEAD);
}

/* ---- lifecycle by sales activities --------------------------------------- */

Test(engine, full_funnel_mql_sal_sql_opportunity_customer)
{
	make_mql("f", T0);
	cr_assert_eq(act("f", "a1", FD_ACT_ACCEPT, FD_REASON_NONE, T0 + HOUR), FD_OK);
	cr_assert_eq(last_tr()->to, FD_STAGE_SAL);
	cr_assert_eq(last_tr()->trigger, FD_TRIGGER_SALES_ACCEPT);
	cr_assert_str_eq(last_tr()->owner, "rep-7");
	cr_assert_eq(act("f", "a2", FD_ACT_QUALIFY, FD_REASON_NONE, T0 + 2 * HOUR), FD_OK);
	cr_assert_eq(last_tr()->to, FD_STAGE_SQL);
	cr_assert_eq(last_tr()->trigger, FD_TRIGGER_SALES_QUALIFY);
	cr_assert_eq(act("f", "a3", FD_ACT_OPPORTUNITY, FD_REASON_NONE, T0 + 3 * HOUR), FD_OK);
	cr_assert_eq(last_tr()->to, FD_STAGE_OPPORTUNITY);
	cr_assert_eq(last_tr()->trigger, FD_TRIGGER_SALES_OPPORTUNITY);
	cr_assert_eq(act("f", "a4", FD_ACT_WON, FD_REASON_NONE, T0 + 4 * HOUR), FD_OK);
	cr_assert_eq(last_tr()->to, FD_STAGE_CUSTOMER);
	cr_assert_eq(last_tr()->trigger, FD_TRIGGER_SALES_WON);
	cr_assert_eq(out->n_tr, 5);
	/* SLAs: first touch MET by ACCEPT (1 h), SAL decision MET by QUALIFY
	 * (1 h), MQL decision MET on leaving SAL (2 h) */
	cr_assert_eq(out->n_sla, 3);
	cr_assert_str_eq(out->sla[0].sla, "mql_first_touch");
	cr_assert_eq(out->sla[0].kind, FD_SLA_MET);
	cr_assert_eq(out->sla[0].elapsed, HOUR);
	cr_assert_eq(out->sla[0].stage, FD_STAGE_MQL);
	cr_assert_str_eq(out->sla[1].sla, "sal_decision");
	cr_assert_eq(out->sla[1].elapsed, HOUR);
	cr_assert_str_eq(out->sla[2].sla, "mql_decision");
	cr_assert_eq(out->sla[2].elapsed, 2 * HOUR);
	cr_assert_eq(out->sla[2].at, T0 + 2 * HOUR);
	cr_assert_eq(fd_engine_next_deadline(eng), INT64_MAX);
}

Test(engine, revert_sends_sal_back_to_mql)
{
	make_mql("r", T0);
	cr_assert_eq(act("r", "a1", FD_ACT_ACCEPT, FD_REASON_NONE, T0 + HOUR), FD_OK);
	cr_assert_eq(act("r", "a2", FD_ACT_REVERT, FD_REASON_OTHER, T0 + 2 * HOUR), FD_OK);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_SAL);
	cr_assert_eq(t->to, FD_STAGE_MQL);
	cr_assert_eq(t->trigger, FD_TRIGGER_SALES_REVERT);
	/* the first-touch SLA was met in this MQL/SAL visit: not restarted;
	 * the MQL decision keeps running from the first MQL entry */
	fd_lead_view v = view("r", T0);
	cr_assert_eq(v.n_open_slas, 1);
	cr_assert_str_eq(v.open_slas[0].name, "mql_decision");
	cr_assert_eq(v.open_slas[0].started_at_ms, T0);
}

Test(engine, reject_bad_timing_nurtures_with_review_date_and_review_fires)
{
	make_mql("n", T0);
	cr_assert_eq(act("n", "a1", FD_ACT_REJECT, FD_REASON_BAD_TIMING, T0 + HOUR), FD_OK);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->to, FD_STAGE_NURTURE);
	cr_assert_eq(t->trigger, FD_TRIGGER_SALES_REJECT);
	cr_assert_str_eq(t->reason, "BAD_TIMING");
	cr_assert_eq(t->review_at, T0 + HOUR + 60 * DAY);
	cr_assert_eq(view("n", T0).review_at_ms, T0 + HOUR + 60 * DAY);
	size_t n = out->n_tr;
	cr_assert_eq(fd_engine_advance(eng, T0 + HOUR + 60 * DAY - 1, &sink), 0);
	cr_assert_eq(out->n_tr, n);
	cr_assert_eq(fd_engine_advance(eng, T0 + HOUR + 60 * DAY, &sink), 1);
	t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_NURTURE);
	cr_assert_eq(t->to, FD_STAGE_MQL);
	cr_assert_eq(t->trigger, FD_TRIGGER_REVIEW_DUE);
	cr_assert_eq(t->at, T0 + HOUR + 60 * DAY);
	/* a new MQL visit: first touch runs again */
	fd_lead_view v = view("n", T0);
	cr_assert_eq(v.n_open_slas, 2);
	cr_assert_str_eq(v.open_slas[0].name, "mql_first_touch");
	cr_assert_eq(v.open_slas[0].due_at_ms, T0 + HOUR + 60 * DAY + 48 * HOUR);
}

Test(engine, reject_review_after_days_overrides_the_default)
{
	make_mql("n", T0);
	fd_activity a = { .activity_id = "a1", .lead_id = "n", .occurred_at_ms = T0,
	                  .rep_id = "rep", .kind = FD_ACT_REJECT, .reason = FD_REASON_NO_BUDGET,
	                  .review_after_days = 30 };
	cr_assert_eq(fd_engine_activity(eng, &a, T0, &sink, err, sizeof err), FD_OK);
	cr_assert_eq(last_tr()->review_at, T0 + 30 * DAY);
}

Test(engine, reject_bad_fit_disqualifies)
{
	make_mql("x", T0);
	cr_assert_eq(act("x", "a1", FD_ACT_REJECT, FD_REASON_BAD_FIT, T0 + HOUR), FD_OK);
	cr_assert_eq(last_tr()->to, FD_STAGE_DISQUALIFIED);
	cr_assert_str_eq(last_tr()->reason, "BAD_FIT");
	cr_assert_str_eq(view("x", T0).disqualified_by, "");
}

Test(engine, lost_deal_goes_to_nurture_with_lost_review_days)
{
	make_mql("l", T0);
	cr_assert_eq(act("l", "a1", FD_ACT_ACCEPT, FD_REASON_NONE, T0), FD_OK);
	cr_assert_eq(act("l", "a2", FD_ACT_QUALIFY, FD_REASON_NONE, T0), FD_OK);
	cr_assert_eq(act("l", "a3", FD_ACT_OPPORTUNITY, FD_REASON_NONE, T0), FD_OK);
	cr_assert_eq(act("l", "a4", FD_ACT_LOST, FD_REASON_COMPETITOR, T0 + DAY), FD_OK);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_OPPORTUNITY);
	cr_assert_eq(t->to, FD_STAGE_NURTURE);
	cr_assert_eq(t->trigger, FD_TRIGGER_SALES_LOST);
	cr_assert_str_eq(t->reason, "COMPETITOR");
	cr_assert_eq(t->review_at, T0 + DAY + 180 * DAY);
}

Test(engine, duplicate_activity_is_ignored)
{
	make_mql("d", T0);
	cr_assert_eq(act("d", "a1", FD_ACT_ACCEPT, FD_REASON_NONE, T0), FD_OK);
	size_t n = out->n_tr;
	cr_assert_eq(act("d", "a1", FD_ACT_ACCEPT, FD_REASON_NONE, T0), FD_DUPLICATE);
	cr_assert_eq(out->n_tr, n);
}

/* Put lead `id` in `stage` (through the real paths). */
static void drive_to(const char *id, fd_stage stage)
{
	char aid[48];
	int k = 0;
#define A(kind, reason)                                                           \
	do {                                                                          \
		snprintf(aid, sizeof aid, "%s-%d", id, k++);                              \
		cr_assert_eq(act(id, aid, kind, reason, T0 + k * HOUR), FD_OK, "%s", err); \
	} while (0)
	if (stage == FD_STAGE_LEAD) {
		cr_assert_eq(profile_a(id, T0), FD_OK);
		return;
	}
	if (stage == FD_STAGE_DISQUALIFIED) {
		fd_profile p = { .lead_id = id, .updated_at_ms = T0, .email = "kid@yahoo.com" };
		cr_assert_eq(fd_engine_profile(eng, &p, T0, &sink, err, sizeof err), FD_OK);
		cr_assert_eq(stage_of(id), FD_STAGE_DISQUALIFIED);
		return;
	}
	make_mql(id, T0);
	if (stage == FD_STAGE_MQL)
		return;
	if (stage == FD_STAGE_NURTURE) {
		A(FD_ACT_REJECT, FD_REASON_NO_RESPONSE);
		return;
	}
	A(FD_ACT_ACCEPT, FD_REASON_NONE);
	if (stage == FD_STAGE_SAL)
		return;
	A(FD_ACT_QUALIFY, FD_REASON_NONE);
	if (stage == FD_STAGE_SQL)
		return;
	A(FD_ACT_OPPORTUNITY, FD_REASON_NONE);
	if (stage == FD_STAGE_OPPORTUNITY)
		return;
	A(FD_ACT_WON, FD_REASON_NONE);
#undef A
}

Test(engine, every_activity_that_does_not_fit_the_stage_is_refused_and_changes_nothing)
{
	static const bool allowed[FD_STAGE_COUNT][FD_ACT_COUNT] = {
		/*                 ASSIGN TOUCH ACCEPT REJECT REVERT QUALIFY OPP  WON  LOST */
		[FD_STAGE_LEAD] = { 1, 0, 0, 0, 0, 0, 0, 0, 0 },
		[FD_STAGE_MQL] = { 1, 1, 1, 1, 0, 0, 0, 0, 0 },
		[FD_STAGE_SAL] = { 1, 1, 0, 1, 1, 1, 0, 0, 0 },
		[FD_STAGE_SQL] = { 1, 1, 0, 1, 0, 0, 1, 0, 1 },
		[FD_STAGE_OPPORTUNITY] = { 1, 1, 0, 0, 0, 0, 0, 1, 1 },
		[FD_STAGE_CUSTOMER] = { 1, 0, 0, 0, 0, 0, 0, 0, 0 },
		[FD_STAGE_NURTURE] = { 1, 0, 0, 0, 0, 0, 0, 0, 0 },
		[FD_STAGE_DISQUALIFIED] = { 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	};
	int refused = 0;
	for (int s = 0; s < FD_STAGE_COUNT; s++) {
		for (int k = 0; k < FD_ACT_COUNT; k++) {
			char id[32];
			snprintf(id, sizeof id, "lead-%d-%d", s, k);
			drive_to(id, (fd_stage)s);
			cr_assert_eq(stage_of(id), (fd_stage)s);
			size_t n_tr = out->n_tr, n_sla = out->n_sla;
			fd_lead_view before = view(id, T0 + DAY);
			double eng_before = before.score.engagement;
			size_t open_before = before.n_open_slas;
			fd_status st = act(id, "probe", (fd_activity_kind)k, FD_REASON_BAD_TIMING,
			                   T0 + DAY);
			if (allowed[s][k]) {
				cr_assert_eq(st, FD_OK, "%s in %s: %s", fd_activity_kind_name(k),
				             fd_stage_name(s), err);
				continue;
			}
			refused++;
			cr_assert_eq(st, FD_ERR_REFUSED, "%s in %s accepted", fd_activity_kind_name(k),
			             fd_stage_name(s));
			cr_assert_eq(out->n_tr, n_tr);
			cr_assert_eq(out->n_sla, n_sla);
			fd_lead_view after = view(id, T0 + DAY);
			cr_assert_eq(after.stage, (fd_stage)s);
			cr_assert_eq(after.score.engagement, eng_before);
			cr_assert_eq(after.n_open_slas, open_before);
		}
	}
	cr_assert_eq(refused, 51);
	fd_engine_stats st;
	fd_engine_stats_get(eng, &st);
	cr_assert_eq(st.activities_refused, 51);
}

Test(engine, refusal_reason_names_the_stage_and_where_it_is_allowed)
{
	cr_assert_eq(act("new", "a1", FD_ACT_ACCEPT, FD_REASON_NONE, T0), FD_ERR_REFUSED);
	cr_assert_str_eq(err, "ACCEPT not allowed in stage LEAD (allowed in: MQL)");
	fd_lead_view v;
	cr_assert_not(fd_engine_lead(eng, "new", T0, &v)); /* a refusal creates no lead */
	make_mql("m", T0);
	cr_assert_eq(act("m", "a2", FD_ACT_WON, FD_REASON_NONE, T0), FD_ERR_REFUSED);
	cr_assert_str_eq(err, "WON not allowed in stage MQL (allowed in: OPPORTUNITY)");
	cr_assert_eq(act("m", "a3", FD_ACT_REJECT, FD_REASON_NONE, T0), FD_ERR_REFUSED);
	cr_assert_str_eq(err, "REJECT needs a reason");
}

Test(engine, assign_sets_the_owner_carried_by_outputs)
{
	fd_activity a = { .activity_id = "as1", .lead_id = "o", .occurred_at_ms = T0,
	                  .rep_id = "rep-42", .kind = FD_ACT_ASSIGN };
	cr_assert_eq(fd_engine_activity(eng, &a, T0, &sink, err, sizeof err), FD_OK);
	cr_assert_eq(out->n_tr, 0);
	cr_assert_str_eq(view("o", T0).owner_id, "rep-42");
	cr_assert_eq(ev("o", "d", "demo_request", T0 + HOUR), FD_OK);
	cr_assert_str_eq(last_tr()->owner, "rep-42");
	cr_assert_eq(fd_engine_advance(eng, T0 + HOUR + 36 * HOUR, &sink), 1);
	cr_assert_str_eq(out->sla[0].owner, "rep-42");
}

/* ---- SLAs ------------------------------------------------------------------ */

Test(engine, sla_warning_and_breach_fire_at_exact_deadlines)
{
	make_mql("s", T0);
	cr_assert_eq(fd_engine_next_deadline(eng), T0 + 36 * HOUR);
	cr_assert_eq(fd_engine_advance(eng, T0 + 36 * HOUR - 1, &sink), 0);
	cr_assert_eq(out->n_sla, 0);
	cr_assert_eq(fd_engine_advance(eng, T0 + 36 * HOUR, &sink), 1);
	cr_assert_eq(out->n_sla, 1);
	fx_sla_event *w = &out->sla[0];
	cr_assert_str_eq(w->sla, "mql_first_touch");
	cr_assert_eq(w->kind, FD_SLA_WARNING);
	cr_assert_eq(w->started, T0);
	cr_assert_eq(w->due, T0 + 48 * HOUR);
	cr_assert_eq(w->at, T0 + 36 * HOUR);
	cr_assert_eq(w->elapsed, 36 * HOUR);
	cr_assert_eq(w->stage, FD_STAGE_MQL);
	cr_assert_eq(fd_engine_advance(eng, T0 + 48 * HOUR - 1, &sink), 0);
	cr_assert_eq(fd_engine_advance(eng, T0 + 48 * HOUR, &sink), 1);
	fx_sla_event *b = &out->sla[1];
	cr_assert_eq(b->kind, FD_SLA_BREACH);
	cr_assert_eq(b->at, T0 + 48 * HOUR);
	cr_assert_eq(b->elapsed, 48 * HOUR);
	cr_assert_str_neq(w->id, b->id);
	/* no expiry action on first touch: still MQL */
	cr_assert_eq(stage_of("s"), FD_STAGE_MQL);
}

Test(engine, sla_met_just_before_the_deadline_never_breaches)
{
	make_mql("s", T0);
	fd_engine_advance(eng, T0 + 40 * HOUR, &sink); /* warning */
	cr_assert_eq(act("s", "t1", FD_ACT_TOUCH, FD_REASON_NONE, T0 + 48 * HOUR - 1), FD_OK);
	cr_assert_eq(out->n_sla, 2);
	fx_sla_event *m = &out->sla[1];
	cr_assert_str_eq(m->sla, "mql_first_touch");
	cr_assert_eq(m->kind, FD_SLA_MET);
	cr_assert_eq(m->at, T0 + 48 * HOUR - 1);
	cr_assert_eq(m->elapsed, 48 * HOUR - 1);
	cr_assert_str_eq(m->owner, "rep-7");
	size_t n = out->n_sla;
	fd_engine_advance(eng, T0 + 49 * HOUR, &sink);
	cr_assert_eq(out->n_sla, n);
}

Test(engine, sla_late_deadline_fires_once_with_its_own_time)
{
	make_mql("s", T0);
	/* the daemon was away for three days: both fire once, in order, stamped
	 * with their own deadlines */
	cr_assert_eq(fd_engine_advance(eng, T0 + 3 * DAY, &sink), 2);
	cr_assert_eq(out->sla[0].kind, FD_SLA_WARNING);
	cr_assert_eq(out->sla[0].at, T0 + 36 * HOUR);
	cr_assert_eq(out->sla[1].kind, FD_SLA_BREACH);
	cr_assert_eq(out->sla[1].at, T0 + 48 * HOUR);
	cr_assert_eq(fd_engine_advance(eng, T0 + 3 * DAY, &sink), 0);
}

Test(engine, sla_per_source_override_shortens_the_deadline)
{
	fd_profile p = { .lead_id = "p", .updated_at_ms = T0 - HOUR, .lead_source = "partner" };
	cr_assert_eq(fd_engine_profile(eng, &p, T0, &sink, err, sizeof err), FD_OK);
	make_mql("p", T0);
	fd_lead_view v = view("p", T0);
	cr_assert_str_eq(v.open_slas[0].name, "mql_first_touch");
	cr_assert_eq(v.open_slas[0].due_at_ms, T0 + 24 * HOUR);
	cr_assert_eq(fd_engine_next_deadline(eng), T0 + 18 * HOUR);
	fd_engine_advance(eng, T0 + 24 * HOUR, &sink);
	cr_assert_eq(out->n_sla, 2);
	cr_assert_eq(out->sla[1].kind, FD_SLA_BREACH);
	cr_assert_eq(out->sla[1].at, T0 + 24 * HOUR);
}

Test(engine, follow_up_sla_starts_on_first_touch_and_is_met_by_the_next)
{
	make_mql("f", T0);
	cr_assert_eq(act("f", "t1", FD_ACT_TOUCH, FD_REASON_NONE, T0 + HOUR), FD_OK);
	fd_lead_view v = view("f", T0);
	cr_assert_eq(v.n_open_slas, 2);
	cr_assert_str_eq(v.open_slas[0].name, "mql_follow_up");
	cr_assert_eq(v.open_slas[0].due_at_ms, T0 + HOUR + 30 * DAY);
	cr_assert_eq(act("f", "t2", FD_ACT_TOUCH, FD_REASON_NONE, T0 + 10 * DAY), FD_OK);
	fx_sla_event *m = &out->sla[out->n_sla - 1];
	cr_assert_str_eq(m->sla, "mql_follow_up");
	cr_assert_eq(m->kind, FD_SLA_MET);
	cr_assert_eq(m->elapsed, 10 * DAY - HOUR);
	/* once per visit: a third touch starts nothing */
	cr_assert_eq(act("f", "t3", FD_ACT_TOUCH, FD_REASON_NONE, T0 + 11 * DAY), FD_OK);
	v = view("f", T0);
	cr_assert_eq(v.n_open_slas, 1);
	cr_assert_str_eq(v.open_slas[0].name, "mql_decision");
}

Test(engine, sal_decision_expiry_reverts_to_mql)
{
	make_mql("s", T0);
	cr_assert_eq(act("s", "a1", FD_ACT_ACCEPT, FD_REASON_NONE, T0 + HOUR), FD_OK);
	size_t n_sla = out->n_sla;
	cr_assert_eq(fd_engine_advance(eng, T0 + HOUR + 2 * DAY, &sink), 2);
	cr_assert_eq(out->n_sla, n_sla + 2);
	cr_assert_eq(out->sla[n_sla].kind, FD_SLA_WARNING);
	cr_assert_eq(out->sla[n_sla].at, T0 + HOUR + DAY);
	cr_assert_eq(out->sla[n_sla + 1].kind, FD_SLA_BREACH);
	cr_assert_str_eq(out->sla[n_sla + 1].sla, "sal_decision");
	const fx_transition *t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_SAL);
	cr_assert_eq(t->to, FD_STAGE_MQL);
	cr_assert_eq(t->trigger, FD_TRIGGER_SLA_EXPIRED);
	cr_assert_str_eq(t->reason, "sal_decision");
	cr_assert_eq(t->at, T0 + HOUR + 2 * DAY);
}

Test(engine, mql_decision_expiry_recycles_to_nurture_after_90_days)
{
	make_mql("s", T0);
	cr_assert_eq(act("s", "t1", FD_ACT_TOUCH, FD_REASON_NONE, T0 + HOUR), FD_OK);
	cr_assert_eq(act("s", "t2", FD_ACT_TOUCH, FD_REASON_NONE, T0 + 20 * DAY), FD_OK);
	out->n_sla = 0;
	fd_engine_advance(eng, T0 + 90 * DAY, &sink);
	cr_assert_eq(out->n_sla, 2);
	cr_assert_eq(out->sla[0].kind, FD_SLA_WARNING);
	cr_assert_eq(out->sla[0].at, T0 + 72 * DAY);
	cr_assert_eq(out->sla[1].kind, FD_SLA_BREACH);
	cr_assert_eq(out->sla[1].at, T0 + 90 * DAY);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->to, FD_STAGE_NURTURE);
	cr_assert_eq(t->trigger, FD_TRIGGER_SLA_EXPIRED);
	cr_assert_str_eq(t->reason, "mql_decision");
	cr_assert_eq(t->review_at, T0 + 90 * DAY + 90 * DAY);
}

/* ---- nurture and re-MQL ---------------------------------------------------- */

Test(engine, re_mql_by_score_waits_for_the_cool_down)
{
	cr_assert_eq(profile_a("c", T0 - HOUR), FD_OK);
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof id, "w%d", i);
		cr_assert_eq(ev("c", id, "webinar_attended", T0), FD_OK);
	}
	cr_assert_eq(stage_of("c"), FD_STAGE_MQL);
	cr_assert_eq(act("c", "r1", FD_ACT_REJECT, FD_REASON_NO_BUDGET, T0 + HOUR), FD_OK);
	cr_assert_eq(stage_of("c"), FD_STAGE_NURTURE);
	cr_assert_eq(view("c", T0).remql_after_ms, T0 + HOUR + 14 * DAY);
	size_t n = out->n_tr;
	/* day 13: 80 * 2^-1.3 + 15 = 47.5 >= 40, but cooling down */
	cr_assert_eq(ev("c", "p1", "pricing_view", T0 + 13 * DAY), FD_OK);
	cr_assert(view("c", T0 + 13 * DAY).score.engagement >= 40.0);
	cr_assert_eq(out->n_tr, n);
	cr_assert_eq(ev("c", "p2", "email_click", T0 + HOUR + 14 * DAY - 1), FD_OK);
	cr_assert_eq(out->n_tr, n);
	cr_assert_eq(ev("c", "p3", "email_click", T0 + HOUR + 14 * DAY), FD_OK);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->from, FD_STAGE_NURTURE);
	cr_assert_eq(t->to, FD_STAGE_MQL);
	cr_assert_eq(t->trigger, FD_TRIGGER_SCORE_THRESHOLD);
	cr_assert_eq(t->at, T0 + HOUR + 14 * DAY);
}

Test(engine, hand_raise_re_mqls_during_the_cool_down)
{
	make_mql("c", T0);
	cr_assert_eq(act("c", "r1", FD_ACT_REJECT, FD_REASON_BAD_TIMING, T0 + HOUR), FD_OK);
	cr_assert_eq(ev("c", "hr2", "demo_request", T0 + DAY), FD_OK);
	cr_assert_eq(last_tr()->from, FD_STAGE_NURTURE);
	cr_assert_eq(last_tr()->to, FD_STAGE_MQL);
	cr_assert_eq(last_tr()->trigger, FD_TRIGGER_HAND_RAISE);
	/* leaving NURTURE cancels the review */
	cr_assert_eq(view("c", T0).review_at_ms, 0);
	size_t n = out->n_tr;
	fd_engine_advance(eng, T0 + HOUR + 61 * DAY, &sink); /* past the old review date */
	cr_assert_eq(out->n_tr, n);
}

/* ---- context and ids -------------------------------------------------------- */

Test(engine, transition_carries_recent_activities_interests_and_breakdown)
{
	/* all at T0 so no decay: equal times list the latest arrival first */
	cr_assert_eq(ev_full("c", "1", "content_download", T0, "email", "ebook"), FD_OK);
	cr_assert_eq(ev_full("c", "2", "email_click", T0, "email", "newsletter"), FD_OK);
	cr_assert_eq(ev_full("c", "3", "content_download", T0, "web", "ebook"), FD_OK);
	cr_assert_eq(ev_full("c", "4", "webinar_attended", T0, "web", "webinar-ai"), FD_OK);
	cr_assert_eq(ev_full("c", "5", "page_view", T0, "web", "pricing"), FD_OK);
	cr_assert_eq(ev_full("c", "6", "page_view", T0, "web", "docs"), FD_OK);
	cr_assert_eq(ev_full("c", "7", "demo_request", T0, "web", "demo"), FD_OK);
	const fx_transition *t = last_tr();
	cr_assert_eq(t->trigger, FD_TRIGGER_HAND_RAISE);
	cr_assert_eq(t->n_recent, 5);
	cr_assert_str_eq(t->recent_type[0], "demo_request");
	cr_assert_str_eq(t->recent_content[0], "demo");
	cr_assert_eq(t->recent_at[0], T0);
	cr_assert_str_eq(t->recent_type[1], "page_view");
	cr_assert_str_eq(t->recent_content[1], "docs");
	cr_assert_str_eq(t->recent_type[4], "content_download");
	cr_assert_str_eq(t->recent_content[4], "ebook");
	/* ebook 20 and webinar-ai 20 tie (content id order), newsletter 3 */
	cr_assert_eq(t->n_interests, 3);
	cr_assert_str_eq(t->interest[0], "ebook");
	cr_assert_eq(t->interest_score[0], 20.0);
	cr_assert_str_eq(t->interest[1], "webinar-ai");
	cr_assert_str_eq(t->interest[2], "newsletter");
	cr_assert_eq(t->interest_score[2], 3.0);
	/* breakdown in config order, zero types omitted */
	cr_assert_eq(t->n_breakdown, 4);
	cr_assert_str_eq(t->breakdown_type[0], "page_view");
	cr_assert_eq(t->breakdown_points[0], 2.0);
	cr_assert_str_eq(t->breakdown_type[1], "email_click");
	cr_assert_eq(t->breakdown_points[1], 3.0);
	cr_assert_str_eq(t->breakdown_type[2], "content_download");
	cr_assert_eq(t->breakdown_points[2], 20.0);
	cr_assert_str_eq(t->breakdown_type[3], "webinar_attended");
	cr_assert_eq(t->breakdown_points[3], 20.0);
	cr_assert_eq(t->score.engagement, 45.0);
	cr_assert_eq(t->score.frequency[0], 7);
	cr_assert_eq(t->score.recency_days, 0.0);
}

static void scenario(void)
{
	cr_assert_eq(profile_a("x", T0 - HOUR), FD_OK);
	cr_assert_eq(ev("x", "1", "webinar_attended", T0), FD_OK);
	cr_assert_eq(ev("x", "2", "webinar_attended", T0 + HOUR), FD_OK);
	cr_assert_eq(ev("x", "3", "webinar_attended", T0 + HOUR), FD_OK);
	cr_assert_eq(act("x", "a", FD_ACT_ACCEPT, FD_REASON_NONE, T0 + 2 * HOUR), FD_OK);
	fd_engine_advance(eng, T0 + 10 * DAY, &sink);
	make_mql("y", T0);
	fd_engine_advance(eng, T0 + 100 * DAY, &sink);
}

Test(engine, ids_are_deterministic_and_distinct)
{
	scenario();
	fx_log *first = out;
	fd_engine_free(eng);
	eng = fd_engine_new(&cfg, 0);
	out = calloc(1, sizeof *out);
	sink = fx_sink(out);
	scenario();
	cr_assert_eq(out->n_tr, first->n_tr);
	cr_assert_eq(out->n_sla, first->n_sla);
	cr_assert_geq(out->n_tr, 4);
	cr_assert_geq(out->n_sla, 6);
	for (size_t i = 0; i < out->n_tr; i++) {
		cr_assert_str_eq(out->tr[i].id, first->tr[i].id);
		cr_assert_eq(strlen(out->tr[i].id), 32);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(out->tr[i].id, out->tr[j].id);
	}
	for (size_t i = 0; i < out->n_sla; i++) {
		cr_assert_str_eq(out->sla[i].id, first->sla[i].id);
		for (size_t j = 0; j < i; j++)
			cr_assert_str_neq(out->sla[i].id, out->sla[j].id);
	}
	free(first);
}

Test(engine, lead_cap_refuses_new_leads_and_counts_them)
{
	fd_engine_set_max_leads(eng, 2);
	cr_assert_eq(ev("a", "1", "email_click", T0), FD_OK);
	cr_assert_eq(ev("b", "1", "email_click", T0), FD_OK);
	cr_assert_eq(ev("c", "1", "email_click", T0), FD_ERR_FULL);
	cr_assert_str_eq(err, "lead cap reached (2 leads in memory): new lead refused");
	cr_assert_eq(ev("a", "2", "email_click", T0), FD_OK);
	fd_engine_stats s;
	fd_engine_stats_get(eng, &s);
	cr_assert_eq(s.leads, 2);
	cr_assert_eq(s.leads_refused_full, 1);
}

Test(engine, stats_count_leads_per_stage)
{
	make_mql("a", T0);
	make_mql("b", T0);
	cr_assert_eq(ev("c", "1", "email_click", T0), FD_OK);
	cr_assert_eq(act("b", "x", FD_ACT_ACCEPT, FD_REASON_NONE, T0), FD_OK);
	fd_engine_stats s;
	fd_engine_stats_get(eng, &s);
	cr_assert_eq(s.per_stage[FD_STAGE_LEAD], 1);
	cr_assert_eq(s.per_stage[FD_STAGE_MQL], 1);
	cr_assert_eq(s.per_stage[FD_STAGE_SAL], 1);
	cr_assert_eq(s.transitions, 3);
	cr_assert_leq(fd_engine_lead_record_size(), 256);
}

/* Times at the ends of int64 are refused or handled without overflow (the
 * ASan/UBSan run of this test fails on any signed overflow). */
Test(engine, extreme_times_are_refused_or_safe)
{
	static const int64_t at[] = { INT64_MAX, INT64_MAX - 1, FD_TIME_MAX + 1, -1, INT64_MIN, 0 };
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		fd_engagement e = { .event_id = "x", .lead_id = "edge", .occurred_at_ms = at[i],
		                    .type = "demo_request" };
		cr_expect_eq(fd_engine_engagement(eng, &e, INT64_MAX, &sink, err, sizeof err),
		             FD_ERR_INVALID, "occurred_at_ms %" PRId64 " accepted", at[i]);
		cr_expect_eq(fd_engine_engagement(eng, &e, INT64_MIN, &sink, err, sizeof err),
		             FD_ERR_INVALID, "occurred_at_ms %" PRId64 " accepted at now INT64_MIN", at[i]);
	}
	cr_assert_eq(out->n_tr, 0);
	/* the latest valid time, seen at the latest possible now: applied, and
	 * the lead reads back at any time */
	fd_engagement e = { .event_id = "y", .lead_id = "edge", .occurred_at_ms = FD_TIME_MAX,
	                    .type = "demo_request" };
	cr_assert_eq(fd_engine_engagement(eng, &e, INT64_MAX, &sink, err, sizeof err), FD_OK, "%s",
	             err);
	/* a future beyond the skew is refused even when now + skew would overflow */
	e.event_id = "z";
	cr_assert_eq(fd_engine_engagement(eng, &e, FD_TIME_MAX - cfg.max_future_skew_ms - 1, &sink,
	                                  err, sizeof err), FD_ERR_INVALID);
	cr_assert(strstr(err, "in the future") != NULL, "%s", err);
	static const int64_t now[] = { INT64_MIN, -1, 0, 1, FD_TIME_MAX, INT64_MAX };
	for (size_t i = 0; i < sizeof now / sizeof now[0]; i++) {
		fd_lead_view v;
		cr_assert(fd_engine_lead(eng, "edge", now[i], &v));
		cr_expect(isfinite(v.score.engagement) && isfinite(v.score.fit) &&
		          isfinite(v.score.recency_days));
		fd_engine_advance(eng, now[i], &sink);
	}
}

/* Strings are held only while a lead's context shows them: one lead sending
 * a million distinct content ids (and channels) keeps the last few, and the
 * pool's memory stays where a few strings put it; 10,000 leads doing the
 * same keep at most their own context's worth; removing the leads empties
 * the pool. The engine's own accounting is the measure. */
Test(engine, interned_strings_are_bounded_by_what_leads_show)
{
	const uint64_t per_lead = 2 * (uint64_t)cfg.recent_activities + (uint64_t)cfg.top_interests + 2;
	char id[32], content[32], channel[32];
	fd_engine_stats s;
	size_t after_first = 0;
	for (int i = 0; i < 1000000; i++) {
		snprintf(id, sizeof id, "e%d", i);
		snprintf(content, sizeof content, "asset-%d", i);
		snprintf(channel, sizeof channel, "ch-%d", i % 1000);
		cr_assert_eq(ev_full("one", id, i % 2 ? "page_view" : "content_download", T0 + i, channel,
		                     content), FD_OK, "%s", err);
		if (i == 999) {
			fd_engine_stats_get(eng, &s);
			after_first = s.bytes_context;
		}
	}
	fd_engine_stats_get(eng, &s);
	cr_assert_leq(s.strings, per_lead, "one lead holds %" PRIu64 " strings, bound %" PRIu64,
	              s.strings, per_lead);
	cr_assert_leq(s.bytes_context, after_first, "context memory grew from %zu to %zu bytes",
	              after_first, s.bytes_context);
	cr_assert_eq(fd_engine_check(eng, err, sizeof err), 0, "%s", err);

	char lead[32];
	for (int k = 0; k < 10000; k++) {
		snprintf(lead, sizeof lead, "many-%d", k);
		for (int i = 0; i < 20; i++) {
			snprintf(id, sizeof id, "m%d", i);
			snprintf(content, sizeof content, "doc-%d-%d", k, i);
			cr_assert_eq(ev_full(lead, id, "content_download", T0 + i, "web", content), FD_OK);
		}
	}
	fd_engine_stats_get(eng, &s);
	cr_assert_leq(s.strings, per_lead * 10001, "%" PRIu64 " strings for 10,001 leads", s.strings);
	/* each lead shows at most recent_activities + top_interests distinct
	 * documents of its own, plus the shared channel "web" */
	cr_assert_leq(s.strings, 10000u * (uint64_t)(cfg.recent_activities + cfg.top_interests) +
	              per_lead + 1);
	cr_assert_eq(fd_engine_check(eng, err, sizeof err), 0, "%s", err);

	cr_assert(fd_engine_remove(eng, "one"));
	for (int k = 0; k < 10000; k++) {
		snprintf(lead, sizeof lead, "many-%d", k);
		cr_assert(fd_engine_remove(eng, lead));
	}
	fd_engine_stats_get(eng, &s);
	cr_assert_eq(s.strings, 0, "%" PRIu64 " strings left without leads", s.strings);
	cr_assert_eq(fd_engine_check(eng, err, sizeof err), 0, "%s", err);
}

/* Found by fuzz_engine (tests/fuzz/crashes/fuzz_engine): each was a crash
 * or a broken promise of engine.h. */

static int n_before;
static void count_before(void *ctx, const char *lead_id, bool exists)
{
	(void)ctx;
	(void)lead_id;
	(void)exists;
	n_before++;
}

/* An entry point that fails calls no callback: before_change included. */
Test(engine, refused_new_leads_call_no_callback)
{
	fd_sink s = sink;
	s.before_change = count_before;
	fd_engine_set_max_leads(eng, 1);
	n_before = 0;
	fd_engagement a = { .event_id = "1", .lead_id = "a", .occurred_at_ms = T0, .type = "page_view" };
	cr_assert_eq(fd_engine_engagement(eng, &a, T0, &s, err, sizeof err), FD_OK);
	cr_assert_eq(n_before, 1);
	fd_engagement b = { .event_id = "2", .lead_id = "b", .occurred_at_ms = T0, .type = "page_view" };
	cr_assert_eq(fd_engine_engagement(eng, &b, T0, &s, err, sizeof err), FD_ERR_FULL);
	static char huge[300];
	memset(huge, 'h', sizeof huge - 1);
	fd_engagement c = { .event_id = "3", .lead_id = huge, .occurred_at_ms = T0, .type = "page_view" };
	cr_assert_eq(fd_engine_engagement(eng, &c, T0, &s, err, sizeof err), FD_ERR_INVALID);
	fd_profile p = { .lead_id = "b", .updated_at_ms = T0, .country = "US" };
	cr_assert_eq(fd_engine_profile(eng, &p, T0, &s, err, sizeof err), FD_ERR_FULL);
	fd_activity act = { .activity_id = "t", .lead_id = "b", .occurred_at_ms = T0, .rep_id = "r",
		                .kind = FD_ACT_ASSIGN };
	cr_assert_eq(fd_engine_activity(eng, &act, T0, &s, err, sizeof err), FD_ERR_FULL);
	cr_assert_eq(n_before, 1, "%d before_change calls for refused inputs", n_before - 1);
}

/* An import replacing a lead is never refused at the cap, even with the
 * engine above it (a lower cap after a reload): the lead is not lost. */
Test(engine, import_of_an_existing_lead_above_the_cap_keeps_it)
{
	cr_assert_eq(ev("x", "1", "page_view", T0), FD_OK);
	cr_assert_eq(ev("y", "2", "page_view", T0), FD_OK);
	fd_engine_set_max_leads(eng, 1);
	fd_lead_state *st = malloc(sizeof *st);
	cr_assert(fd_engine_export(eng, "x", st));
	cr_assert_eq(fd_engine_import(eng, st, err, sizeof err), FD_OK, "%s", err);
	fd_lead_view v;
	cr_assert(fd_engine_lead(eng, "x", T0, &v), "the lead was lost");
	/* a new one is still refused */
	st->lead_id = "z";
	cr_assert_eq(fd_engine_import(eng, st, err, sizeof err), FD_ERR_FULL);
	free(st);
}

/* Frequency windows reaching back before the epoch (an event on
 * 1970-01-02): no bucket below zero is read (UBSan found the index). */
Test(engine, frequency_windows_near_the_epoch)
{
	cr_assert_eq(ev("early", "1", "page_view", FD_MS_DAY + 1), FD_OK);
	fd_lead_view v = view("early", FD_MS_DAY + 2);
	cr_assert_eq(v.score.frequency[0], 1);
	cr_assert_eq(v.score.frequency[1], 1);
}
