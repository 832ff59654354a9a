/*
 * test_pipeline.c — `funneld run` end to end on a scripted scenario: five
 * leads' profiles, engagement events and sales activities go in through
 * Kafka; the exact stage transitions, SLA events, lead scores and dead
 * letters come out.
 *
 * The leads:
 *   it-hand     fit A; a demo request (2026-01-01 01:00) makes it an MQL by
 *               hand raise; nobody touches it, so mql_first_touch warns and
 *               breaches, mql_decision warns and breaches and recycles it to
 *               NURTURE (review in 10 years: lifecycle.nurture.review_days
 *               is set to 3650, so nothing else is due before 2036)
 *   it-score    fit B; six events over six days cross the B threshold (60)
 *               on the sixth: MQL by score, then the same SLA path
 *   it-dq       gmail address: DISQUALIFIED by profile; its demo request
 *               does nothing
 *   it-qual     fit A; a contact request six hours ago, ACCEPT an hour
 *               later, QUALIFY an hour after that: MQL, SAL, SQL, with
 *               mql_first_touch, sal_decision and mql_decision MET; its
 *               deadlines are all in the future, so no timer fires
 *   it-refused  ACCEPT while in LEAD: refused, dead-lettered
 *
 * Every SLA deadline of the old leads is long past, and nothing arrives for
 * them after the input that opens their SLAs, so the outputs do not depend
 * on when the daemon's wall clock fires them. Inputs for one lead on
 * different topics are sequenced through outputs (profiles are applied
 * once their LeadScore shows the fit; activities are sent once the MQL
 * they act on is out), because a consumer interleaves topics freely.
 *
 * Expectations come from two sources: the engine library run in-process on
 * the same structs in the same per-lead order, with the same config (file
 * and overrides), encoded with src/wire — compared byte for byte with what
 * the daemon produced — and hand-written values for the key outputs, so the
 * daemon is not only compared with its own library.
 */
#include "harness.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "funneld/engine.h"
#include "funneld/v1/outputs.pb-c.h"
#include "funneld/wire.h"

#define CE_SOURCE "it-pipeline-source"
#define N_LEADS 5

static const char *const leads[N_LEADS] = { "it-hand", "it-score", "it-dq", "it-qual", "it-refused" };

static void init(void)
{
	it_setup(3);
	it_override("processing.ce_source=%s", CE_SOURCE);
	it_override("lifecycle.nurture.review_days=3650");
	it_override("state.lead_ttl=0");
}

TestSuite(pipeline, .init = init, .fini = it_teardown, .timeout = 150);

/* ---- the engine's expectations ------------------------------------------------- */

enum { OUT_TRANSITION = 0, OUT_SLA = 1 };

typedef struct expected {
	char lead[64];
	int kind;
	uint8_t *buf;
	size_t len;
} expected;

static expected exp_out[64];
static size_t n_exp;

static void on_transition(void *ctx, const fd_transition *t)
{
	cr_assert_lt(n_exp, 64);
	expected *x = &exp_out[n_exp++];
	snprintf(x->lead, sizeof x->lead, "%s", t->lead_id);
	x->kind = OUT_TRANSITION;
	cr_assert_eq(fd_wire_encode_transition(t, &x->buf, &x->len), 0);
}

static void on_sla(void *ctx, const fd_sla_event *e)
{
	cr_assert_lt(n_exp, 64);
	expected *x = &exp_out[n_exp++];
	snprintf(x->lead, sizeof x->lead, "%s", e->lead_id);
	x->kind = OUT_SLA;
	cr_assert_eq(fd_wire_encode_sla_event(e, &x->buf, &x->len), 0);
}

static size_t exp_count(const char *lead, int kind)
{
	size_t n = 0;
	for (size_t i = 0; i < n_exp; i++)
		n += strcmp(exp_out[i].lead, lead) == 0 && exp_out[i].kind == kind;
	return n;
}

static const expected *exp_nth(const char *lead, int kind, size_t nth)
{
	for (size_t i = 0; i < n_exp; i++)
		if (strcmp(exp_out[i].lead, lead) == 0 && exp_out[i].kind == kind && nth-- == 0)
			return &exp_out[i];
	return NULL;
}

/* ---- decoding and describing outputs ------------------------------------------------ */

static Funneld__V1__StageTransition *tr_unpack(const uint8_t *buf, size_t len)
{
	Funneld__V1__StageTransition *t = funneld__v1__stage_transition__unpack(NULL, len, buf);
	cr_assert_not_null(t, "a transitions record is not a StageTransition (%zu bytes)", len);
	return t;
}

static Funneld__V1__SlaEvent *sla_unpack(const uint8_t *buf, size_t len)
{
	Funneld__V1__SlaEvent *e = funneld__v1__sla_event__unpack(NULL, len, buf);
	cr_assert_not_null(e, "an sla record is not an SlaEvent (%zu bytes)", len);
	return e;
}

static const char *describe(int kind, const uint8_t *buf, size_t len)
{
	static char out[4][512];
	static int next;
	char *o = out[next++ % 4];
	if (kind == OUT_TRANSITION) {
		Funneld__V1__StageTransition *t = funneld__v1__stage_transition__unpack(NULL, len, buf);
		if (!t)
			return "(undecodable)";
		snprintf(o, 512,
		         "%s %s %d->%d %s/%s at %" PRId64 " eng %.17g fit %.17g grade %s recency %.17g "
		         "f7 %u f30 %u recent %zu interests %zu breakdown %zu cause %s src %s review %" PRId64
		         " hi %.17g owner %s",
		         t->transition_id, t->lead_id, t->from_stage, t->to_stage, t->trigger, t->reason,
		         t->occurred_at_ms, t->engagement_score, t->fit_score, t->grade, t->recency_days,
		         t->frequency_7d, t->frequency_30d, t->n_recent_activities, t->n_top_interests,
		         t->n_score_breakdown, t->cause_id, t->lead_source, t->review_at_ms,
		         t->high_intent_recency_days, t->owner_id);
		funneld__v1__stage_transition__free_unpacked(t, NULL);
	} else {
		Funneld__V1__SlaEvent *e = funneld__v1__sla_event__unpack(NULL, len, buf);
		if (!e)
			return "(undecodable)";
		snprintf(o, 512, "%s %s %s kind %d stage %d owner %s start %" PRId64 " due %" PRId64
		         " at %" PRId64 " elapsed %" PRId64,
		         e->sla_event_id, e->lead_id, e->sla, e->kind, e->stage, e->owner_id,
		         e->started_at_ms, e->due_at_ms, e->occurred_at_ms, e->elapsed_ms);
		funneld__v1__sla_event__free_unpacked(e, NULL);
	}
	return o;
}

/* LeadScore records of `lead` seen so far: does any show this stage and fit? */
static bool has_score(const it_reader *r, const char *topic, const char *lead,
                      Funneld__V1__Stage stage, double fit)
{
	size_t n = it_reader_count_of(r, topic, lead);
	for (size_t i = 0; i < n; i++) {
		const it_msg *m = it_reader_nth(r, topic, lead, i);
		Funneld__V1__LeadScore *s = funneld__v1__lead_score__unpack(NULL, m->len, m->value);
		if (!s)
			continue;
		bool ok = s->stage == stage && s->fit_score == fit && strcmp(s->lead_id, lead) == 0;
		funneld__v1__lead_score__free_unpacked(s, NULL);
		if (ok)
			return true;
	}
	return false;
}

/* The last LeadScore of `lead` read so far has this stage? */
static bool last_score_stage(const it_reader *r, const char *topic, const char *lead,
                             Funneld__V1__Stage stage)
{
	size_t n = it_reader_count_of(r, topic, lead);
	if (n == 0)
		return false;
	const it_msg *m = it_reader_nth(r, topic, lead, n - 1);
	Funneld__V1__LeadScore *s = funneld__v1__lead_score__unpack(NULL, m->len, m->value);
	if (!s)
		return false;
	bool ok = s->stage == stage;
	funneld__v1__lead_score__free_unpacked(s, NULL);
	return ok;
}

static bool has_transition(const it_reader *r, const char *topic, const char *lead,
                           Funneld__V1__Stage to)
{
	size_t n = it_reader_count_of(r, topic, lead);
	for (size_t i = 0; i < n; i++) {
		const it_msg *m = it_reader_nth(r, topic, lead, i);
		Funneld__V1__StageTransition *t = funneld__v1__stage_transition__unpack(NULL, m->len, m->value);
		if (!t)
			continue;
		bool ok = t->to_stage == to;
		funneld__v1__stage_transition__free_unpacked(t, NULL);
		if (ok)
			return true;
	}
	return false;
}

static size_t count_our_leads(const it_reader *r, const char *topic)
{
	size_t n = 0;
	for (size_t i = 0; i < N_LEADS; i++)
		n += it_reader_count_of(r, topic, leads[i]);
	return n;
}

static bool is_rfc3339(const char *s)
{
	int y, mo, d, h, mi, sec;
	return s && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) == 6 &&
	       y >= 2000 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && strlen(s) >= 20 &&
	       (strchr(s + 19, 'Z') || strchr(s + 19, '+') || strchr(s + 19, '-'));
}

/* CloudEvents headers of one output record; `id` is the id in the payload. */
static void check_headers(const it_msg *m, const char *lead, const char *id, const char *type_word)
{
	int n;
	cr_assert_not_null(m->key, "%s record without a key", m->topic);
	cr_assert_str_eq(m->key, lead, "%s record keyed '%s', payload lead '%s'", m->topic, m->key, lead);
	const char *ce_type = it_header_str(m, "ce_type", &n);
	cr_assert_eq(n, 1, "%s record of %s: %d ce_type headers", m->topic, lead, n);
	char lower[256];
	size_t i;
	for (i = 0; ce_type[i] && i + 1 < sizeof lower; i++)
		lower[i] = (char)((ce_type[i] >= 'A' && ce_type[i] <= 'Z') ? ce_type[i] + 32 : ce_type[i]);
	lower[i] = '\0';
	cr_assert(strstr(lower, type_word) != NULL, "%s record: ce_type '%s' does not name the message (%s)",
	          m->topic, ce_type, type_word);
	if (id) {
		const char *ce_id = it_header_str(m, "ce_id", &n);
		cr_assert_eq(n, 1, "%s record of %s: %d ce_id headers", m->topic, lead, n);
		cr_assert_str_eq(ce_id, id, "%s record of %s: ce_id '%s' but the payload's id is '%s'",
		                 m->topic, lead, ce_id, id);
	}
	const char *ce_source = it_header_str(m, "ce_source", &n);
	cr_assert_eq(n, 1, "%s record of %s: %d ce_source headers", m->topic, lead, n);
	cr_assert_str_eq(ce_source, CE_SOURCE, "%s record: ce_source '%s', configured '%s'", m->topic,
	                 ce_source, CE_SOURCE);
	const char *ce_time = it_header_str(m, "ce_time", &n);
	cr_assert_eq(n, 1, "%s record of %s: %d ce_time headers", m->topic, lead, n);
	cr_assert(is_rfc3339(ce_time), "%s record: ce_time '%s' is not an RFC 3339 time", m->topic,
	          ce_time);
}

static void assert_close(double got, double want, double rel, const char *what)
{
	double tol = fabs(want) * rel + 1e-12;
	cr_assert(fabs(got - want) <= tol, "%s: got %.17g, want %.17g", what, got, want);
}

/* ---- the scenario ------------------------------------------------------------------------ */

#define H_AT (IT_T0 + FD_MS_HOUR)       /* it-hand's demo request */
#define S_AT (IT_T0 + 6 * FD_MS_DAY)    /* it-score's threshold-crossing event */

static const char *const techs[] = { "kafka", "postgres" };

static const fd_profile profiles[N_LEADS] = {
	{ .lead_id = "it-hand", .updated_at_ms = IT_T0, .email = "hana@acme.example",
	  .job_title = "VP Marketing", .seniority = "VP", .department = "marketing",
	  .industry = "Software", .country = "US", .employee_count = 1000,
	  .annual_revenue = 50000000, .technologies = techs, .n_technologies = 2,
	  .lead_source = "website", .owner_id = "rep-h" },
	{ .lead_id = "it-score", .updated_at_ms = IT_T0, .email = "sam@globex.example",
	  .job_title = "Head of Growth", .seniority = "Director", .industry = "Software",
	  .country = "DE", .employee_count = 100, .annual_revenue = 20000000,
	  .lead_source = "webinar", .owner_id = "rep-s" },
	{ .lead_id = "it-dq", .updated_at_ms = IT_T0, .email = "dora@gmail.com",
	  .job_title = "Analyst", .country = "US", .annual_revenue = 5000000, .owner_id = "rep-d" },
	{ .lead_id = "it-qual", .updated_at_ms = IT_T0, .email = "quinn@initech.example",
	  .job_title = "Chief Revenue Officer", .seniority = "C-Level", .industry = "Software",
	  .country = "GB", .employee_count = 800, .annual_revenue = 80000000,
	  .lead_source = "partner" },
	{ .lead_id = "it-refused", .updated_at_ms = IT_T0, .email = "rae@umbrella.example",
	  .job_title = "Manager", .seniority = "Manager", .industry = "Retail", .country = "FR",
	  .employee_count = 50, .annual_revenue = 2000000, .owner_id = "rep-r" },
};

/* fit by hand from config/funneld.conf's rules */
static const double fits[N_LEADS] = {
	20 + 15 + 15 + 10 + 5 + 5, /* VP, Software, 1000 staff, "VP ...", "marketing", US: A */
	20 + 15 + 10 + 5 + 5,      /* Director, Software, "Head of", "growth", DE: B */
	5,                         /* US only: D (and disqualified) */
	20 + 15 + 15 + 10 + 5 + 5, /* C-Level, Software, 800, "Chief", "revenue", GB: A */
	5,                         /* FR only: D */
};

static const fd_engagement score_events[] = {
	{ .event_id = "ev-s-1", .lead_id = "it-score", .occurred_at_ms = IT_T0 + 1 * FD_MS_DAY,
	  .type = "webinar_attended", .channel = "web", .content_id = "webinar-kafka" },
	{ .event_id = "ev-s-2", .lead_id = "it-score", .occurred_at_ms = IT_T0 + 2 * FD_MS_DAY,
	  .type = "content_download", .channel = "email", .content_id = "ebook-scoring" },
	{ .event_id = "ev-s-3", .lead_id = "it-score", .occurred_at_ms = IT_T0 + 3 * FD_MS_DAY,
	  .type = "pricing_view", .channel = "web", .content_id = "pricing" },
	{ .event_id = "ev-s-4", .lead_id = "it-score", .occurred_at_ms = IT_T0 + 4 * FD_MS_DAY,
	  .type = "webinar_attended", .channel = "web", .content_id = "webinar-slas" },
	{ .event_id = "ev-s-5", .lead_id = "it-score", .occurred_at_ms = IT_T0 + 5 * FD_MS_DAY,
	  .type = "content_download", .channel = "email", .content_id = "ebook-scoring" },
	{ .event_id = "ev-s-6", .lead_id = "it-score", .occurred_at_ms = S_AT,
	  .type = "form_submit", .channel = "web", .content_id = "contact-sales" },
};
static const double score_points[] = { 15, 8, 10, 15, 8, 10 };

static const fd_engagement hand_event = {
	.event_id = "ev-h-1", .lead_id = "it-hand", .occurred_at_ms = H_AT, .type = "demo_request",
	.channel = "web", .content_id = "demo-form", .url = "https://acme.example/demo",
	.campaign = "q1-launch"
};

static const fd_engagement dq_event = {
	.event_id = "ev-d-1", .lead_id = "it-dq", .occurred_at_ms = IT_T0 + 2 * FD_MS_HOUR,
	.type = "demo_request", .channel = "web", .content_id = "demo-form"
};

static const fd_activity refused_accept = {
	.activity_id = "act-r-1", .lead_id = "it-refused", .occurred_at_ms = IT_T0 + 3 * FD_MS_HOUR,
	.rep_id = "rep-r", .kind = FD_ACT_ACCEPT
};

static void engine_apply_profile(fd_engine *e, const fd_profile *p, const fd_sink *sink)
{
	char err[256] = "";
	fd_status st = fd_engine_profile(e, p, it_now_ms(), sink, err, sizeof err);
	cr_assert_eq(st, FD_OK, "engine refused profile %s: %s", p->lead_id, err);
}

static void engine_apply_event(fd_engine *e, const fd_engagement *ev, const fd_sink *sink)
{
	char err[256] = "";
	fd_status st = fd_engine_engagement(e, ev, it_now_ms(), sink, err, sizeof err);
	cr_assert_eq(st, FD_OK, "engine refused event %s: %s", ev->event_id, err);
}

/* Compare the daemon's records of one lead on one topic with the engine's,
 * byte for byte, in order. */
static void compare_lead(const it_reader *r, const char *topic, const char *lead, int kind)
{
	size_t want = exp_count(lead, kind), got = it_reader_count_of(r, topic, lead);
	if (got != want) {
		char list[4096] = "";
		size_t off = 0;
		for (size_t i = 0; i < got && off < sizeof list; i++) {
			const it_msg *m = it_reader_nth(r, topic, lead, i);
			off += (size_t)snprintf(list + off, sizeof list - off, "\n  got  %s",
			                        describe(kind, m->value, m->len));
		}
		for (size_t i = 0; i < want && off < sizeof list; i++) {
			const expected *x = exp_nth(lead, kind, i);
			off += (size_t)snprintf(list + off, sizeof list - off, "\n  want %s",
			                        describe(kind, x->buf, x->len));
		}
		cr_assert_fail("%s: %zu record(s) for %s, the engine made %zu:%s", topic, got, lead,
		               want, list);
	}
	int32_t partition = -1;
	for (size_t i = 0; i < want; i++) {
		const it_msg *m = it_reader_nth(r, topic, lead, i);
		const expected *x = exp_nth(lead, kind, i);
		if (partition < 0)
			partition = m->partition;
		cr_assert_eq(m->partition, partition, "%s: records of %s on partitions %d and %d", topic,
		             lead, (int)partition, (int)m->partition);
		cr_assert(m->len == x->len && memcmp(m->value, x->buf, x->len) == 0,
		          "%s: record %zu of %s differs from the engine's encoding\n  got  %s\n  want %s",
		          topic, i, lead, describe(kind, m->value, m->len), describe(kind, x->buf, x->len));
	}
}

static Funneld__V1__StageTransition *got_tr(const it_reader *r, const char *topic,
                                            const char *lead, size_t i)
{
	const it_msg *m = it_reader_nth(r, topic, lead, i);
	cr_assert_not_null(m, "no transition %zu for %s", i, lead);
	return tr_unpack(m->value, m->len);
}

static Funneld__V1__SlaEvent *got_sla(const it_reader *r, const char *topic, const char *lead,
                                      size_t i)
{
	const it_msg *m = it_reader_nth(r, topic, lead, i);
	cr_assert_not_null(m, "no SLA event %zu for %s", i, lead);
	return sla_unpack(m->value, m->len);
}

static void check_sla(const Funneld__V1__SlaEvent *e, const char *lead, const char *sla,
                      Funneld__V1__SlaKind kind, Funneld__V1__Stage stage, const char *owner,
                      int64_t started, int64_t due, int64_t at)
{
	cr_assert_str_eq(e->lead_id, lead);
	cr_assert_str_eq(e->sla, sla, "%s: SLA '%s', want '%s'", lead, e->sla, sla);
	cr_assert_eq(e->kind, kind, "%s %s: kind %d, want %d", lead, sla, e->kind, kind);
	cr_assert_eq(e->stage, stage, "%s %s: stage %d, want %d", lead, sla, e->stage, stage);
	cr_assert_str_eq(e->owner_id, owner, "%s %s: owner '%s', want '%s'", lead, sla, e->owner_id, owner);
	cr_assert_eq(e->started_at_ms, started, "%s %s: started %" PRId64 ", want %" PRId64, lead, sla,
	             e->started_at_ms, started);
	cr_assert_eq(e->due_at_ms, due, "%s %s: due %" PRId64 ", want %" PRId64, lead, sla, e->due_at_ms, due);
	cr_assert_eq(e->occurred_at_ms, at, "%s %s: occurred %" PRId64 ", want %" PRId64, lead, sla,
	             e->occurred_at_ms, at);
	cr_assert_eq(e->elapsed_ms, at - started, "%s %s: elapsed %" PRId64 ", want %" PRId64, lead, sla,
	             e->elapsed_ms, at - started);
	cr_assert_eq(strlen(e->sla_event_id), 32, "%s %s: sla_event_id '%s' is not 32 hex digits",
	             lead, sla, e->sla_event_id);
}

Test(pipeline, scripted_scenario_yields_exact_transitions_and_sla_events)
{
	fd_config cfg;
	it_load_config(&cfg);
	const fd_topics *topics = &cfg.settings.topics;
	const char *T = topics->transitions, *SLA = topics->sla, *SC = topics->scores,
	           *DL = topics->dead_letters;

	fd_engine *engine = fd_engine_new(&cfg.rules, 0);
	cr_assert_not_null(engine);
	fd_sink sink = { on_transition, on_sla, NULL, NULL };

	/* it-qual acts in the recent past: its deadlines are all in the future */
	const int64_t q_at = (it_now_ms() / FD_MS_MINUTE) * FD_MS_MINUTE - 6 * FD_MS_HOUR;
	const fd_engagement qual_event = {
		.event_id = "ev-q-1", .lead_id = "it-qual", .occurred_at_ms = q_at,
		.type = "contact_request", .channel = "web", .content_id = "contact-form"
	};
	const fd_activity qual_acts[2] = {
		{ .activity_id = "act-q-1", .lead_id = "it-qual", .occurred_at_ms = q_at + FD_MS_HOUR,
		  .rep_id = "rep-q", .kind = FD_ACT_ACCEPT, .note = "booked a call" },
		{ .activity_id = "act-q-2", .lead_id = "it-qual", .occurred_at_ms = q_at + 2 * FD_MS_HOUR,
		  .rep_id = "rep-q", .kind = FD_ACT_QUALIFY },
	};

	it_proc *daemon = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();

	/* phase 1: profiles; applied once each lead's LeadScore shows its fit */
	for (size_t i = 0; i < N_LEADS; i++) {
		it_send_profile(&profiles[i]);
		engine_apply_profile(engine, &profiles[i], &sink);
		fd_lead_view v;
		cr_assert(fd_engine_lead(engine, leads[i], it_now_ms(), &v));
		assert_close(v.score.fit, fits[i], 0, "engine fit");
	}
	for (size_t i = 0; i < N_LEADS; i++) {
		Funneld__V1__Stage st = i == 2 ? FUNNELD__V1__STAGE__STAGE_DISQUALIFIED
		                               : FUNNELD__V1__STAGE__STAGE_LEAD;
		IT_WAIT_UNTIL(r, IT_WAIT_MS, has_score(r, SC, leads[i], st, fits[i]),
		              "no LeadScore for %s with stage %d and fit %g within %d ms", leads[i], st,
		              fits[i], IT_WAIT_MS);
	}

	/* phase 2: engagement */
	it_send_engagement(&hand_event);
	engine_apply_event(engine, &hand_event, &sink);
	for (size_t i = 0; i < sizeof score_events / sizeof score_events[0]; i++) {
		it_send_engagement(&score_events[i]);
		engine_apply_event(engine, &score_events[i], &sink);
	}
	it_send_engagement(&dq_event);
	engine_apply_event(engine, &dq_event, &sink);
	it_send_engagement(&qual_event);
	engine_apply_event(engine, &qual_event, &sink);
	fd_engine_advance(engine, it_now_ms(), &sink);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, has_transition(r, T, "it-qual", FUNNELD__V1__STAGE__STAGE_MQL),
	              "it-qual's MQL transition did not arrive within %d ms", IT_WAIT_MS);

	/* phase 3: sales activities */
	for (size_t i = 0; i < 2; i++) {
		it_send_activity(&qual_acts[i]);
		char err[256] = "";
		cr_assert_eq(fd_engine_activity(engine, &qual_acts[i], it_now_ms(), &sink, err, sizeof err),
		             FD_OK, "%s", err);
	}
	it_send_activity(&refused_accept);
	char err[256] = "";
	cr_assert_eq(fd_engine_activity(engine, &refused_accept, it_now_ms(), &sink, err, sizeof err),
	             FD_ERR_REFUSED);
	fd_engine_advance(engine, it_now_ms(), &sink);

	/* the hand-written totals: 8 transitions, 11 SLA events, 1 dead letter */
	cr_assert_eq(n_exp, 19, "the engine made %zu outputs; the scenario expects 19", n_exp);
	IT_WAIT_UNTIL(r, IT_WAIT_MS,
	              count_our_leads(r, T) >= 8 && count_our_leads(r, SLA) >= 11 &&
	                  it_reader_count_of(r, DL, "it-refused") >= 1,
	              "within %d ms: %zu of 8 transitions, %zu of 11 SLA events, %zu of 1 dead letter",
	              IT_WAIT_MS, count_our_leads(r, T), count_our_leads(r, SLA),
	              it_reader_count_of(r, DL, "it-refused"));
	/* every lead's last LeadScore shows its final stage */
	static const Funneld__V1__Stage final_stage[N_LEADS] = {
		FUNNELD__V1__STAGE__STAGE_NURTURE, FUNNELD__V1__STAGE__STAGE_NURTURE,
		FUNNELD__V1__STAGE__STAGE_DISQUALIFIED, FUNNELD__V1__STAGE__STAGE_SQL,
		FUNNELD__V1__STAGE__STAGE_LEAD
	};
	for (size_t i = 0; i < N_LEADS; i++)
		IT_WAIT_UNTIL(r, IT_WAIT_MS, last_score_stage(r, SC, leads[i], final_stage[i]),
		              "the last LeadScore of %s does not show stage %d within %d ms", leads[i],
		              final_stage[i], IT_WAIT_MS);
	it_reader_poll(r, 1000); /* anything extra would show up now */
	it_assert_running(daemon, "after the scenario");

	/* byte for byte against the engine, per lead, in order */
	for (size_t i = 0; i < N_LEADS; i++) {
		compare_lead(r, T, leads[i], OUT_TRANSITION);
		compare_lead(r, SLA, leads[i], OUT_SLA);
	}
	cr_assert_eq(count_our_leads(r, T), 8);
	cr_assert_eq(count_our_leads(r, SLA), 11);
	cr_assert_eq(it_reader_count_of(r, DL, "it-refused"), 1);
	for (size_t i = 0; i < N_LEADS; i++)
		if (i != 4)
			cr_assert_eq(it_reader_count_of(r, DL, leads[i]), 0, "dead letter for %s", leads[i]);

	/* headers of every transition and SLA event */
	for (size_t i = 0; i < N_LEADS; i++) {
		for (size_t k = 0; k < it_reader_count_of(r, T, leads[i]); k++) {
			Funneld__V1__StageTransition *t = got_tr(r, T, leads[i], k);
			cr_assert_str_eq(t->lead_id, leads[i]);
			cr_assert_eq(strlen(t->transition_id), 32);
			check_headers(it_reader_nth(r, T, leads[i], k), leads[i], t->transition_id, "transition");
			funneld__v1__stage_transition__free_unpacked(t, NULL);
		}
		for (size_t k = 0; k < it_reader_count_of(r, SLA, leads[i]); k++) {
			Funneld__V1__SlaEvent *e = got_sla(r, SLA, leads[i], k);
			check_headers(it_reader_nth(r, SLA, leads[i], k), leads[i], e->sla_event_id, "sla");
			funneld__v1__sla_event__free_unpacked(e, NULL);
		}
		/* LeadScores: keyed, typed, and at most one per lead per snapshot time */
		size_t n = it_reader_count_of(r, SC, leads[i]);
		cr_assert_geq(n, 1, "no LeadScore for %s", leads[i]);
		int64_t prev = INT64_MIN;
		for (size_t k = 0; k < n; k++) {
			const it_msg *m = it_reader_nth(r, SC, leads[i], k);
			Funneld__V1__LeadScore *s = funneld__v1__lead_score__unpack(NULL, m->len, m->value);
			cr_assert_not_null(s, "a scores record of %s is not a LeadScore", leads[i]);
			cr_assert_str_eq(s->lead_id, leads[i]);
			cr_assert_gt(s->updated_at_ms, prev,
			             "two LeadScores of %s with updated_at %" PRId64 " then %" PRId64, leads[i],
			             prev, s->updated_at_ms);
			prev = s->updated_at_ms;
			check_headers(m, leads[i], NULL, "score");
			funneld__v1__lead_score__free_unpacked(s, NULL);
		}
	}

	/* ---- hand-written expectations ---- */
	Funneld__V1__StageTransition *t;
	Funneld__V1__SlaEvent *e;

	/* it-hand: LEAD -> MQL by hand raise */
	t = got_tr(r, T, "it-hand", 0);
	cr_assert_eq(t->from_stage, FUNNELD__V1__STAGE__STAGE_LEAD);
	cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_MQL);
	cr_assert_str_eq(t->trigger, "hand_raise");
	cr_assert_str_eq(t->reason, "demo_request");
	cr_assert_eq(t->occurred_at_ms, H_AT);
	cr_assert_str_eq(t->owner_id, "rep-h");
	cr_assert_str_eq(t->lead_source, "website");
	cr_assert_str_eq(t->cause_id, "event:ev-h-1");
	cr_assert_eq(t->engagement_score, 30.0);
	cr_assert_eq(t->fit_score, 70.0);
	cr_assert_str_eq(t->grade, "A");
	cr_assert_eq(t->recency_days, 0.0);
	cr_assert_eq(t->high_intent_recency_days, 0.0);
	cr_assert_eq(t->frequency_7d, 1);
	cr_assert_eq(t->frequency_30d, 1);
	cr_assert_eq(t->review_at_ms, 0);
	cr_assert_eq(t->n_recent_activities, 1);
	cr_assert_str_eq(t->recent_activities[0]->type, "demo_request");
	cr_assert_str_eq(t->recent_activities[0]->content_id, "demo-form");
	cr_assert_str_eq(t->recent_activities[0]->channel, "web");
	cr_assert_eq(t->recent_activities[0]->occurred_at_ms, H_AT);
	cr_assert_eq(t->n_top_interests, 1);
	cr_assert_str_eq(t->top_interests[0]->content_id, "demo-form");
	cr_assert_eq(t->top_interests[0]->score, 30.0);
	cr_assert_eq(t->n_score_breakdown, 1);
	cr_assert_str_eq(t->score_breakdown[0]->type, "demo_request");
	cr_assert_eq(t->score_breakdown[0]->points, 30.0);
	funneld__v1__stage_transition__free_unpacked(t, NULL);

	/* it-hand: nobody touched it; 90 days later mql_decision recycles it */
	t = got_tr(r, T, "it-hand", 1);
	cr_assert_eq(t->from_stage, FUNNELD__V1__STAGE__STAGE_MQL);
	cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_NURTURE);
	cr_assert_str_eq(t->trigger, "sla_expired");
	cr_assert_str_eq(t->reason, "mql_decision");
	cr_assert_eq(t->occurred_at_ms, H_AT + 90 * FD_MS_DAY);
	cr_assert_eq(t->review_at_ms, H_AT + 90 * FD_MS_DAY + 3650 * FD_MS_DAY);
	cr_assert_eq(t->engagement_score, 30.0 / 8, "90 days = three 30-day half-lives: %.17g",
	             t->engagement_score);
	cr_assert_eq(t->recency_days, 90.0);
	cr_assert_eq(t->frequency_7d, 0);
	cr_assert_eq(t->frequency_30d, 0);
	cr_assert_eq(t->n_score_breakdown, 1);
	cr_assert_eq(t->score_breakdown[0]->points, 30.0 / 8);
	funneld__v1__stage_transition__free_unpacked(t, NULL);

	/* it-hand's SLA events, in deadline order */
	e = got_sla(r, SLA, "it-hand", 0);
	check_sla(e, "it-hand", "mql_first_touch", FUNNELD__V1__SLA_KIND__SLA_KIND_WARNING,
	          FUNNELD__V1__STAGE__STAGE_MQL, "rep-h", H_AT, H_AT + 48 * FD_MS_HOUR,
	          H_AT + 36 * FD_MS_HOUR);
	funneld__v1__sla_event__free_unpacked(e, NULL);
	e = got_sla(r, SLA, "it-hand", 1);
	check_sla(e, "it-hand", "mql_first_touch", FUNNELD__V1__SLA_KIND__SLA_KIND_BREACH,
	          FUNNELD__V1__STAGE__STAGE_MQL, "rep-h", H_AT, H_AT + 48 * FD_MS_HOUR,
	          H_AT + 48 * FD_MS_HOUR);
	funneld__v1__sla_event__free_unpacked(e, NULL);
	e = got_sla(r, SLA, "it-hand", 2);
	check_sla(e, "it-hand", "mql_decision", FUNNELD__V1__SLA_KIND__SLA_KIND_WARNING,
	          FUNNELD__V1__STAGE__STAGE_MQL, "rep-h", H_AT, H_AT + 90 * FD_MS_DAY,
	          H_AT + 72 * FD_MS_DAY);
	funneld__v1__sla_event__free_unpacked(e, NULL);
	e = got_sla(r, SLA, "it-hand", 3);
	check_sla(e, "it-hand", "mql_decision", FUNNELD__V1__SLA_KIND__SLA_KIND_BREACH,
	          FUNNELD__V1__STAGE__STAGE_MQL, "rep-h", H_AT, H_AT + 90 * FD_MS_DAY,
	          H_AT + 90 * FD_MS_DAY);
	funneld__v1__sla_event__free_unpacked(e, NULL);

	/* it-score: MQL by score on its sixth event, fit B (threshold 60) */
	double eng = 0;
	for (size_t i = 0; i < 6; i++)
		eng += score_points[i] *
		       exp2(-(double)(S_AT - score_events[i].occurred_at_ms) / (double)(30 * FD_MS_DAY));
	t = got_tr(r, T, "it-score", 0);
	cr_assert_eq(t->from_stage, FUNNELD__V1__STAGE__STAGE_LEAD);
	cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_MQL);
	cr_assert_str_eq(t->trigger, "score_threshold");
	cr_assert_str_eq(t->reason, "mql.matrix.B");
	cr_assert_eq(t->occurred_at_ms, S_AT);
	cr_assert_str_eq(t->cause_id, "event:ev-s-6");
	cr_assert_str_eq(t->owner_id, "rep-s");
	cr_assert_str_eq(t->grade, "B");
	cr_assert_eq(t->fit_score, 55.0);
	assert_close(t->engagement_score, eng, 1e-9, "it-score engagement");
	cr_assert_geq(t->engagement_score, 60.0);
	cr_assert_eq(t->frequency_7d, 6);
	cr_assert_eq(t->frequency_30d, 6);
	cr_assert_eq(t->recency_days, 0.0);
	cr_assert_eq(t->n_recent_activities, 6);
	for (size_t i = 0; i < 6; i++) {
		const fd_engagement *ev = &score_events[5 - i]; /* newest first */
		cr_assert_str_eq(t->recent_activities[i]->type, ev->type);
		cr_assert_str_eq(t->recent_activities[i]->content_id, ev->content_id);
		cr_assert_str_eq(t->recent_activities[i]->channel, ev->channel);
		cr_assert_eq(t->recent_activities[i]->occurred_at_ms, ev->occurred_at_ms);
	}
	cr_assert_eq(t->n_top_interests, 5);
	cr_assert_str_eq(t->top_interests[0]->content_id, "ebook-scoring");
	assert_close(t->top_interests[0]->score,
	             8 * exp2(-4.0 / 30) + 8 * exp2(-1.0 / 30), 1e-6, "ebook-scoring interest");
	cr_assert_str_eq(t->top_interests[1]->content_id, "webinar-slas");
	cr_assert_str_eq(t->top_interests[2]->content_id, "webinar-kafka");
	cr_assert_str_eq(t->top_interests[3]->content_id, "contact-sales");
	cr_assert_str_eq(t->top_interests[4]->content_id, "pricing");
	/* config order, non-zero only */
	cr_assert_eq(t->n_score_breakdown, 4);
	cr_assert_str_eq(t->score_breakdown[0]->type, "content_download");
	cr_assert_str_eq(t->score_breakdown[1]->type, "webinar_attended");
	cr_assert_str_eq(t->score_breakdown[2]->type, "form_submit");
	cr_assert_str_eq(t->score_breakdown[3]->type, "pricing_view");
	assert_close(t->score_breakdown[1]->points, 15 * exp2(-5.0 / 30) + 15 * exp2(-2.0 / 30), 1e-6,
	             "webinar_attended points");
	funneld__v1__stage_transition__free_unpacked(t, NULL);
	t = got_tr(r, T, "it-score", 1);
	cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_NURTURE);
	cr_assert_str_eq(t->trigger, "sla_expired");
	cr_assert_str_eq(t->reason, "mql_decision");
	cr_assert_eq(t->occurred_at_ms, S_AT + 90 * FD_MS_DAY);
	funneld__v1__stage_transition__free_unpacked(t, NULL);
	cr_assert_eq(it_reader_count_of(r, SLA, "it-score"), 4);
	e = got_sla(r, SLA, "it-score", 3);
	check_sla(e, "it-score", "mql_decision", FUNNELD__V1__SLA_KIND__SLA_KIND_BREACH,
	          FUNNELD__V1__STAGE__STAGE_MQL, "rep-s", S_AT, S_AT + 90 * FD_MS_DAY,
	          S_AT + 90 * FD_MS_DAY);
	funneld__v1__sla_event__free_unpacked(e, NULL);

	/* it-dq: disqualified by its profile; its demo request changed nothing */
	cr_assert_eq(it_reader_count_of(r, T, "it-dq"), 1);
	t = got_tr(r, T, "it-dq", 0);
	cr_assert_eq(t->from_stage, FUNNELD__V1__STAGE__STAGE_LEAD);
	cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_DISQUALIFIED);
	cr_assert_str_eq(t->trigger, "disqualified_by_fit");
	cr_assert_str_eq(t->reason, "personal_email");
	cr_assert_eq(t->occurred_at_ms, IT_T0);
	cr_assert_str_eq(t->owner_id, "rep-d");
	cr_assert_str_eq(t->grade, "D");
	funneld__v1__stage_transition__free_unpacked(t, NULL);
	cr_assert_eq(it_reader_count_of(r, SLA, "it-dq"), 0);

	/* it-qual: MQL, accepted, qualified */
	cr_assert_eq(it_reader_count_of(r, T, "it-qual"), 3);
	t = got_tr(r, T, "it-qual", 0);
	cr_assert_str_eq(t->trigger, "hand_raise");
	cr_assert_str_eq(t->reason, "contact_request");
	cr_assert_eq(t->occurred_at_ms, q_at);
	cr_assert_str_eq(t->owner_id, "");
	cr_assert_str_eq(t->lead_source, "partner");
	funneld__v1__stage_transition__free_unpacked(t, NULL);
	t = got_tr(r, T, "it-qual", 1);
	cr_assert_eq(t->from_stage, FUNNELD__V1__STAGE__STAGE_MQL);
	cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_SAL);
	cr_assert_str_eq(t->trigger, "sales_accept");
	cr_assert_str_eq(t->reason, "");
	cr_assert_eq(t->occurred_at_ms, q_at + FD_MS_HOUR);
	cr_assert_str_eq(t->owner_id, "rep-q");
	cr_assert_str_eq(t->cause_id, "activity:act-q-1");
	cr_assert_eq(t->engagement_score, 30.0 * exp2(-1.0 / (30 * 24)));
	funneld__v1__stage_transition__free_unpacked(t, NULL);
	t = got_tr(r, T, "it-qual", 2);
	cr_assert_eq(t->from_stage, FUNNELD__V1__STAGE__STAGE_SAL);
	cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_SQL);
	cr_assert_str_eq(t->trigger, "sales_qualify");
	cr_assert_eq(t->occurred_at_ms, q_at + 2 * FD_MS_HOUR);
	cr_assert_str_eq(t->owner_id, "rep-q");
	funneld__v1__stage_transition__free_unpacked(t, NULL);
	cr_assert_eq(it_reader_count_of(r, SLA, "it-qual"), 3);
	e = got_sla(r, SLA, "it-qual", 0);
	check_sla(e, "it-qual", "mql_first_touch", FUNNELD__V1__SLA_KIND__SLA_KIND_MET,
	          FUNNELD__V1__STAGE__STAGE_MQL, "rep-q", q_at, q_at + 48 * FD_MS_HOUR, q_at + FD_MS_HOUR);
	funneld__v1__sla_event__free_unpacked(e, NULL);
	e = got_sla(r, SLA, "it-qual", 1);
	check_sla(e, "it-qual", "sal_decision", FUNNELD__V1__SLA_KIND__SLA_KIND_MET,
	          FUNNELD__V1__STAGE__STAGE_SQL, "rep-q", q_at + FD_MS_HOUR,
	          q_at + FD_MS_HOUR + 2 * FD_MS_DAY, q_at + 2 * FD_MS_HOUR);
	funneld__v1__sla_event__free_unpacked(e, NULL);
	e = got_sla(r, SLA, "it-qual", 2);
	check_sla(e, "it-qual", "mql_decision", FUNNELD__V1__SLA_KIND__SLA_KIND_MET,
	          FUNNELD__V1__STAGE__STAGE_SQL, "rep-q", q_at, q_at + 90 * FD_MS_DAY,
	          q_at + 2 * FD_MS_HOUR);
	funneld__v1__sla_event__free_unpacked(e, NULL);

	/* it-refused: no transition, one dead letter */
	cr_assert_eq(it_reader_count_of(r, T, "it-refused"), 0);
	cr_assert_eq(it_reader_count_of(r, SLA, "it-refused"), 0);
	const char *reason = it_header_str(it_reader_nth(r, DL, "it-refused", 0), "funneld.error.reason", NULL);
	cr_assert(reason && strstr(reason, "ACCEPT") && strstr(reason, "LEAD"),
	          "dead letter reason '%s' does not say ACCEPT was refused in LEAD", reason ? reason : "(none)");

	it_reader_close(r);
	for (size_t i = 0; i < n_exp; i++)
		free(exp_out[i].buf);
	fd_engine_free(engine);
	fd_config_free(&cfg);
}
