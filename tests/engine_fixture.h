/*
 * engine_fixture.h — a fixed engine configuration built in C (independent of
 * the config file syntax) and a sink that records every output, for the
 * engine's unit tests and benchmarks. Header-only; each test binary includes
 * it once.
 *
 * The fixture config, in words:
 *   half-life 10 d; buckets 1 d; windows 7 d and 30 d; future skew 5 min
 *   page_view 1 (low, cap 5 per 1 d), email_click 3, content_download 10
 *   (high), pricing_view 15 (high), webinar_attended 20 (high),
 *   event_attended 5, demo_request 0 (hand raise), unsubscribe -20
 *   fit: seniority one_of VP/Director +30, industry = Software +20,
 *   employee_count in [200, 5000) +15, job_title prefix "Head of" +10;
 *   grades A >= 60, B >= 40, C >= 20
 *   disqualifiers: personal_email (email_domain gmail.com/yahoo.com),
 *   student (job_title contains "student"), unserved_country (country not
 *   in US/DE/FR), revenue_below_floor (annual_revenue < 1e6)
 *   MQL: A >= 40, B >= 60, C >= 90, D never; hand raise on; fast track
 *   sources "event" for grades A..C
 *   REJECT BAD_FIT/DUPLICATE/COMPETITOR -> DISQUALIFIED; review 90 d,
 *   BAD_TIMING 60 d, LOST 180 d; review -> MQL; re-MQL cool-down 14 d
 *   SLAs: mql_first_touch (MQL, scope MQL+SAL, TOUCH/ACCEPT/REJECT/QUALIFY,
 *   48 h, warn 0.75, partner 24 h); mql_follow_up (starts on TOUCH in
 *   MQL..SQL, TOUCH, 30 d, warn 0.8); sal_decision (SAL, exit, 2 d, warn 0.5,
 *   expiry -> MQL); mql_decision (MQL, scope MQL+SAL, exit, 90 d, warn 0.8,
 *   expiry -> NURTURE)
 *   context: 5 recent activities, 3 top interests
 */
#ifndef FUNNELD_TEST_ENGINE_FIXTURE_H
#define FUNNELD_TEST_ENGINE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/engine.h"

#define DAY FD_MS_DAY
#define HOUR FD_MS_HOUR
#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

static inline void fx_rule(fd_rules *c, const char *type, double pts, fd_intent in,
                           double cap, int64_t cap_window)
{
	fd_event_rule *r = &c->event_types[c->n_event_types++];
	memset(r, 0, sizeof *r);
	snprintf(r->type, sizeof r->type, "%s", type);
	r->points = pts;
	r->intent = in;
	r->cap_points = cap;
	r->cap_window_ms = cap_window;
}

static inline fd_match fx_match(fd_field f, fd_match_op op, int negate, const char *v1,
                                const char *v2, const char *v3)
{
	fd_match m;
	memset(&m, 0, sizeof m);
	m.field = f;
	m.op = op;
	m.negate = negate != 0;
	const char *vs[3] = { v1, v2, v3 };
	for (int i = 0; i < 3; i++)
		if (vs[i])
			snprintf(m.values[m.n_values++], FD_NAME_MAX, "%s", vs[i]);
	return m;
}

static inline void fx_fit(fd_rules *c, const char *name, fd_match m, double pts)
{
	fd_fit_rule *r = &c->fit_rules[c->n_fit_rules++];
	snprintf(r->name, sizeof r->name, "%s", name);
	r->match = m;
	r->points = pts;
}

static inline void fx_dq(fd_rules *c, const char *name, fd_match m)
{
	fd_disqualifier *d = &c->disqualifiers[c->n_disqualifiers++];
	snprintf(d->name, sizeof d->name, "%s", name);
	d->match = m;
}

static inline fd_sla_def *fx_sla(fd_rules *c, const char *name, fd_stage stage,
                                 uint32_t scope, uint32_t satisfied, bool exit_ok,
                                 int64_t duration, double warn)
{
	fd_sla_def *s = &c->slas[c->n_slas++];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->stage = stage;
	s->scope = scope | (1u << stage);
	s->satisfied_by = satisfied;
	s->satisfied_by_exit = exit_ok;
	s->duration_ms = duration;
	s->warning_fraction = warn;
	return s;
}

#define ST(x) (1u << FD_STAGE_##x)
#define ACT(x) (1u << FD_ACT_##x)

static inline void fx_config(fd_rules *c)
{
	memset(c, 0, sizeof *c);
	c->half_life_ms = 10 * DAY;
	c->max_future_skew_ms = 5 * FD_MS_MINUTE;
	fx_rule(c, "page_view", 1, FD_INTENT_LOW, 5, DAY);
	fx_rule(c, "email_click", 3, FD_INTENT_LOW, 0, 0);
	fx_rule(c, "content_download", 10, FD_INTENT_HIGH, 0, 0);
	fx_rule(c, "pricing_view", 15, FD_INTENT_HIGH, 0, 0);
	fx_rule(c, "webinar_attended", 20, FD_INTENT_HIGH, 0, 0);
	fx_rule(c, "event_attended", 5, FD_INTENT_LOW, 0, 0);
	fx_rule(c, "demo_request", 0, FD_INTENT_HAND_RAISE, 0, 0);
	fx_rule(c, "unsubscribe", -20, FD_INTENT_LOW, 0, 0);
	c->bucket_ms = DAY;
	c->n_windows = 2;
	c->windows_ms[0] = 7 * DAY;
	c->windows_ms[1] = 30 * DAY;

	fx_fit(c, "senior", fx_match(FD_FIELD_SENIORITY, FD_MATCH_ONE_OF, 0, "VP", "Director", NULL), 30);
	fx_fit(c, "software", fx_match(FD_FIELD_INDUSTRY, FD_MATCH_EQUALS, 0, "Software", NULL, NULL), 20);
	fd_match size = fx_match(FD_FIELD_EMPLOYEE_COUNT, FD_MATCH_RANGE, 0, NULL, NULL, NULL);
	size.has_min = size.has_max = true;
	size.min = 200;
	size.max = 5000;
	fx_fit(c, "mid_market", size, 15);
	fx_fit(c, "head_of", fx_match(FD_FIELD_JOB_TITLE, FD_MATCH_PREFIX, 0, "Head of", NULL, NULL), 10);
	c->grade_min[0] = 60;
	c->grade_min[1] = 40;
	c->grade_min[2] = 20;
	fx_dq(c, "personal_email",
	      fx_match(FD_FIELD_EMAIL_DOMAIN, FD_MATCH_ONE_OF, 0, "gmail.com", "yahoo.com", NULL));
	fx_dq(c, "student", fx_match(FD_FIELD_JOB_TITLE, FD_MATCH_CONTAINS, 0, "student", NULL, NULL));
	fx_dq(c, "unserved_country", fx_match(FD_FIELD_COUNTRY, FD_MATCH_ONE_OF, 1, "US", "DE", "FR"));
	fd_match rev = fx_match(FD_FIELD_ANNUAL_REVENUE, FD_MATCH_RANGE, 0, NULL, NULL, NULL);
	rev.has_max = true;
	rev.max = 1e6;
	fx_dq(c, "revenue_below_floor", rev);

	c->mql_enabled_for_grade[FD_GRADE_A] = true;
	c->mql_enabled_for_grade[FD_GRADE_B] = true;
	c->mql_enabled_for_grade[FD_GRADE_C] = true;
	c->mql_engagement[FD_GRADE_A] = 40;
	c->mql_engagement[FD_GRADE_B] = 60;
	c->mql_engagement[FD_GRADE_C] = 90;
	c->hand_raise_mql = true;
	c->n_fast_track_sources = 1;
	snprintf(c->fast_track_sources[0], FD_NAME_MAX, "event");
	c->fast_track_min_grade = FD_GRADE_C;

	c->reject_disqualifies = (1u << FD_REASON_BAD_FIT) | (1u << FD_REASON_DUPLICATE) |
	                         (1u << FD_REASON_COMPETITOR);
	c->nurture_review_days = 90;
	c->nurture_reason_days[FD_REASON_BAD_TIMING] = 60;
	c->lost_review_days = 180;
	c->review_stage = FD_STAGE_MQL;
	c->remql_cooldown_ms = 14 * DAY;

	fd_sla_def *s = fx_sla(c, "mql_first_touch", FD_STAGE_MQL, ST(SAL),
	                       ACT(TOUCH) | ACT(ACCEPT) | ACT(REJECT) | ACT(QUALIFY), false,
	                       48 * HOUR, 0.75);
	s->n_overrides = 1;
	snprintf(s->overrides[0].source, FD_NAME_MAX, "partner");
	s->overrides[0].duration_ms = 24 * HOUR;
	s = fx_sla(c, "mql_follow_up", FD_STAGE_MQL, ST(SAL) | ST(SQL), ACT(TOUCH), false,
	           30 * DAY, 0.8);
	s->start_on = ACT(TOUCH);
	s = fx_sla(c, "sal_decision", FD_STAGE_SAL, 0, 0, true, 2 * DAY, 0.5);
	s->has_expiry_action = true;
	s->expiry_stage = FD_STAGE_MQL;
	s = fx_sla(c, "mql_decision", FD_STAGE_MQL, ST(SAL), 0, true, 90 * DAY, 0.8);
	s->has_expiry_action = true;
	s->expiry_stage = FD_STAGE_NURTURE;

	c->recent_activities = 5;
	c->top_interests = 3;
}

/* ---- recording sink ------------------------------------------------------ */

typedef struct fx_transition {
	char id[FD_ID_HEX + 1];
	char lead[64];
	fd_stage from, to;
	fd_trigger trigger;
	char reason[80];
	char cause[160];
	int64_t at;
	char owner[64];
	int64_t review_at;
	fd_score_snapshot score;
	size_t n_recent, n_interests, n_breakdown;
	char recent_type[FD_MAX_CONTEXT][32];
	char recent_content[FD_MAX_CONTEXT][32];
	int64_t recent_at[FD_MAX_CONTEXT];
	char interest[FD_MAX_CONTEXT][32];
	double interest_score[FD_MAX_CONTEXT];
	char breakdown_type[FD_MAX_EVENT_TYPES][32];
	double breakdown_points[FD_MAX_EVENT_TYPES];
} fx_transition;

typedef struct fx_sla_event {
	char id[FD_ID_HEX + 1];
	char lead[64];
	char sla[64];
	fd_sla_kind kind;
	fd_stage stage;
	char owner[64];
	int64_t started, due, at, elapsed;
} fx_sla_event;

typedef struct fx_score {
	char id[FD_ID_HEX + 1];
	char lead[64];
	fd_stage stage;
	int grade;
	double engagement, fit;
	int64_t as_of;
} fx_score;

typedef struct fx_log {
	fx_transition tr[256];
	size_t n_tr;
	fx_sla_event sla[256];
	size_t n_sla;
	size_t n_changed;
	fx_score sc[256];
	size_t n_sc;
} fx_log;

static inline void fx_on_transition(void *ctx, const fd_transition *t)
{
	fx_log *log = ctx;
	if (log->n_tr >= 256)
		abort();
	fx_transition *x = &log->tr[log->n_tr++];
	memset(x, 0, sizeof *x);
	memcpy(x->id, t->transition_id, sizeof x->id);
	snprintf(x->lead, sizeof x->lead, "%s", t->lead_id);
	x->from = t->from_stage;
	x->to = t->to_stage;
	x->trigger = t->trigger;
	snprintf(x->reason, sizeof x->reason, "%s", t->reason);
	snprintf(x->cause, sizeof x->cause, "%s", t->cause_id);
	x->at = t->occurred_at_ms;
	snprintf(x->owner, sizeof x->owner, "%s", t->owner_id);
	x->review_at = t->review_at_ms;
	x->score = t->score;
	x->n_recent = t->n_recent;
	for (size_t i = 0; i < t->n_recent; i++) {
		snprintf(x->recent_type[i], 32, "%s", t->recent[i].type);
		snprintf(x->recent_content[i], 32, "%s", t->recent[i].content_id);
		x->recent_at[i] = t->recent[i].occurred_at_ms;
	}
	x->n_interests = t->n_interests;
	for (size_t i = 0; i < t->n_interests; i++) {
		snprintf(x->interest[i], 32, "%s", t->interests[i].content_id);
		x->interest_score[i] = t->interests[i].score;
	}
	x->n_breakdown = t->n_breakdown;
	for (size_t i = 0; i < t->n_breakdown; i++) {
		snprintf(x->breakdown_type[i], 32, "%s", t->breakdown[i].type);
		x->breakdown_points[i] = t->breakdown[i].points;
	}
}

static inline void fx_on_sla(void *ctx, const fd_sla_event *e)
{
	fx_log *log = ctx;
	if (log->n_sla >= 256)
		abort();
	fx_sla_event *x = &log->sla[log->n_sla++];
	memset(x, 0, sizeof *x);
	memcpy(x->id, e->sla_event_id, sizeof x->id);
	snprintf(x->lead, sizeof x->lead, "%s", e->lead_id);
	snprintf(x->sla, sizeof x->sla, "%s", e->sla);
	x->kind = e->kind;
	x->stage = e->stage;
	snprintf(x->owner, sizeof x->owner, "%s", e->owner_id);
	x->started = e->started_at_ms;
	x->due = e->due_at_ms;
	x->at = e->occurred_at_ms;
	x->elapsed = e->elapsed_ms;
}

static inline void fx_on_changed(void *ctx, const char *lead_id)
{
	(void)lead_id;
	((fx_log *)ctx)->n_changed++;
}

/* the score stream: not in fx_sink (set sink.score to it) */
static inline void fx_on_score(void *ctx, const fd_lead_view *v)
{
	fx_log *log = ctx;
	if (log->n_sc >= 256)
		abort();
	fx_score *x = &log->sc[log->n_sc++];
	memset(x, 0, sizeof *x);
	fd_engine_score_id(v, x->id);
	snprintf(x->lead, sizeof x->lead, "%s", v->lead_id);
	x->stage = v->stage;
	x->grade = v->score.grade;
	x->engagement = v->score.engagement;
	x->fit = v->score.fit;
	x->as_of = v->score.as_of_ms;
}

static inline fd_sink fx_sink(fx_log *log)
{
	fd_sink s = { fx_on_transition, fx_on_sla, fx_on_changed, log };
	return s;
}

#endif
