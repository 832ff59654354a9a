/*
 * test_order.c — the three inputs are applied in event-time order per
 * partition, whatever topic is read first or faster (issue 11 item 1).
 *
 * One script of inputs whose outcome depends on their order across topics:
 *   js  profile, page view, demo request (MQL), then ACCEPT (SAL) and
 *       QUALIFY (SQL): read ahead, the activities were refused and the lead
 *       stayed MQL;
 *   fo  events worth 42 points, enough for an MQL with fit A only: half of
 *       them get their profile before the events, half between them (the
 *       MQL's cause then differs);
 *   dq  a demo request (MQL), then a personal e-mail in a profile
 *       (DISQUALIFIED), then an ACCEPT (refused);
 *   xx  an ACCEPT before the demo request (refused in every order);
 *   pv  page views of leads of their own: volume, so that queues fill.
 * Every run reads the same records at the same offsets of a topic set of
 * its own on one broker, and must give what the first run gave: the same
 * transitions, SLA events and dead letters by id, byte for byte, and the
 * same last score and changelog record per lead (durability.h).
 *
 *   in_order_feed_equals_every_skewed_feed: the reference is produced in
 *     event-time order across topics, then each of the six orders of the
 *     topics (all of one topic, then all of the next); each set is read by
 *     a daemon of its own started after.
 *   a_slow_topic_is_waited_for (mock): the same, each input topic led by
 *     a broker of its own and one of them 300 ms slower per request.
 *   live_lagging_input (mock): a running daemon; the engagement topic is
 *     300 ms slower per request and has a backlog of about 5 MB (several
 *     fetches a partition); the sales activities that answer the demo
 *     requests at its end are produced once the daemon's first outputs
 *     show it is reading it. They go fast, and wait: every js lead reaches
 *     SQL, none is refused. (Before, they were applied on arrival, ahead of
 *     the demo requests, and refused.)
 *
 * Shipped config, except the harness's (broker, group, commit interval,
 * no admin) and, like the crash test, lifecycle.nurture.review_days=3650:
 * no review falls due while a run reads its inputs (the times are ten
 * hours old; nothing else is due).
 */
#include "harness.h"
#include "durability.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/types.h"
#include "funneld/wire.h"

#define PARTITIONS 2
#define N_JS 24
#define N_FO 24
#define N_DQ 12
#define N_XX 8
#define N_PV 160
#define PV_EACH 8
#define N_PV_LIVE 4000 /* about 5 MB of page views: several fetches a partition */
#define PV_EACH_LIVE 12

static void init(void)
{
	/* three brokers on the mock: each input topic can have a leader, and
	   a speed, of its own */
	it_setup_brokers(PARTITIONS, it_real_broker() ? 1 : 3);
	it_override("lifecycle.nurture.review_days=3650");
}

TestSuite(order, .init = init, .fini = dur_teardown, .timeout = 500);

/* ---- the script --------------------------------------------------------------- */

typedef struct spec {
	int64_t at;
	int topic;          /* DUR_IN_* */
	int seq;            /* creation order: ties keep it */
	char lead[32];
	char id[48];
	const char *type;   /* engagement */
	int fit;            /* profile */
	fd_activity_kind kind;
} spec;

#define SPECS_MAX 50000

typedef struct specs {
	spec v[SPECS_MAX];
	int n;
} specs;

static spec *add(specs *s, int topic, const char *lead, int64_t at)
{
	cr_assert_lt(s->n, SPECS_MAX);
	spec *x = &s->v[s->n];
	memset(x, 0, sizeof *x);
	x->seq = s->n++;
	x->topic = topic;
	x->at = at;
	snprintf(x->lead, sizeof x->lead, "%s", lead);
	snprintf(x->id, sizeof x->id, "%s-%d", lead, x->seq);
	return x;
}

static void ev(specs *s, const char *lead, int64_t at, const char *type)
{
	add(s, DUR_IN_ENGAGEMENT, lead, at)->type = type;
}

static void prof(specs *s, const char *lead, int64_t at, int fit)
{
	add(s, DUR_IN_PROFILES, lead, at)->fit = fit;
}

static void act(specs *s, const char *lead, int64_t at, fd_activity_kind kind)
{
	add(s, DUR_IN_ACTIVITIES, lead, at)->kind = kind;
}

static int by_time(const void *a, const void *b)
{
	const spec *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq - y->seq;
}

/* The script in event-time order across the topics (the "in-order feed"),
 * with pv_leads leads of pv_each page views; `pv_first` puts the page
 * views first in time and the js leads after them (the live test: their
 * demo requests sit at the end of the engagement backlog). */
static void build(dur_script *sc, int64_t base, int pv_leads, int pv_each, bool pv_first)
{
	static specs s;
	s.n = 0;
	const int64_t S = 1000, M = 60 * S;
	char lead[32];
	int64_t js_base = pv_first ? base + 30 * M : base;
	for (int i = 0; i < N_JS; i++) {
		snprintf(lead, sizeof lead, "js-%03d", i);
		int64_t t = js_base + i * 7 * S;
		prof(&s, lead, t, 0);
		ev(&s, lead, t + 1 * M, "page_view");
		ev(&s, lead, t + 2 * M, "demo_request");
		act(&s, lead, t + 3 * M, FD_ACT_ACCEPT);
		act(&s, lead, t + 4 * M, FD_ACT_QUALIFY);
	}
	for (int i = 0; i < N_FO; i++) {
		snprintf(lead, sizeof lead, "fo-%03d", i);
		int64_t t = base + i * 11 * S;
		prof(&s, lead, t + (i % 2 ? 200 : 30) * S, 0);
		ev(&s, lead, t + 60 * S, "webinar_attended");
		ev(&s, lead, t + 120 * S, "content_download");
		for (int k = 0; k < 3; k++)
			ev(&s, lead, t + (150 + 20 * k) * S, "email_click");
		ev(&s, lead, t + 300 * S, "form_submit");
	}
	for (int i = 0; i < N_DQ; i++) {
		snprintf(lead, sizeof lead, "dq-%03d", i);
		int64_t t = base + i * 13 * S;
		ev(&s, lead, t + 1 * M, "demo_request");
		prof(&s, lead, t + 2 * M, 3);
		act(&s, lead, t + 3 * M, FD_ACT_ACCEPT);
	}
	for (int i = 0; i < N_XX; i++) {
		snprintf(lead, sizeof lead, "xx-%03d", i);
		int64_t t = base + i * 17 * S;
		act(&s, lead, t, FD_ACT_ACCEPT);
		ev(&s, lead, t + 1 * M, "demo_request");
	}
	for (int i = 0; i < pv_leads; i++) {
		snprintf(lead, sizeof lead, "pv-%04d", i);
		for (int k = 0; k < pv_each; k++)
			ev(&s, lead, base + (int64_t)(i * pv_each + k) * 30, "page_view");
	}
	qsort(s.v, (size_t)s.n, sizeof s.v[0], by_time);
	for (int i = 0; i < s.n; i++) {
		const spec *x = &s.v[i];
		int32_t p = (int32_t)(dur_fnv(x->lead) % PARTITIONS);
		switch (x->topic) {
		case DUR_IN_ENGAGEMENT:
			dur_add_event(sc, 0, p, x->lead, x->id, x->at, x->type, "blog-kafka", "web");
			break;
		case DUR_IN_PROFILES:
			dur_add_profile(sc, 0, p, x->lead, x->at, x->fit, "website", "rep-1");
			break;
		default:
			dur_add_activity(sc, 0, p, x->lead, x->id, x->at, x->kind, FD_REASON_NONE, "rep-1");
			break;
		}
	}
}

/* Produce the script's records of `topic` (every topic: -1), in script
 * order, to the set's input topics; flushed. */
static void produce(const dur_set *s, const dur_script *sc, int topic)
{
	for (size_t i = 0; i < sc->n; i++) {
		const dur_rec *r = &sc->recs[i];
		if (topic < 0 || r->topic == topic)
			it_produce_async(s->in[r->topic], r->partition, r->key, r->value, r->len);
	}
	it_flush(IT_WAIT_MS);
}

/* A daemon on `s` reads what is there; stopped once it committed all. */
static dur_reader *run(dur_set *s, const char *name)
{
	dur_proc *d = dur_daemon(name, dur_set_args(s, NULL));
	dur_barrier(s, d, 60000, name);
	dur_stop_clean(d, IT_WAIT_MS);
	dur_reader *r = dur_reader_open(s);
	dur_reader_catch_up(r, IT_WAIT_MS);
	return r;
}

/* ---- what the order decides ---------------------------------------------------- */

/* Transitions of `prefix` leads into `to`; dead letters of their keys. */
static size_t entries(const dur_reader *r, const char *prefix, fd_stage to)
{
	size_t n = 0;
	fd_wire_arena *a = fd_wire_arena_new();
	for (size_t i = 0; i < dur_count(r, DUR_OUT_TRANSITIONS, NULL); i++) {
		const dur_msg *m = dur_nth(r, DUR_OUT_TRANSITIONS, NULL, i);
		fd_transition t;
		char err[256];
		cr_assert_eq(fd_wire_decode_transition(m->value, m->len, a, &t, err, sizeof err), 0, "%s",
		             err);
		if (strncmp(t.lead_id, prefix, strlen(prefix)) == 0 && t.to_stage == to)
			n++;
		fd_wire_arena_reset(a);
	}
	fd_wire_arena_free(a);
	return n;
}

static size_t refused(const dur_reader *r, const char *prefix)
{
	size_t n = 0;
	for (size_t i = 0; i < dur_count(r, DUR_OUT_DEAD_LETTERS, NULL); i++) {
		const dur_msg *m = dur_nth(r, DUR_OUT_DEAD_LETTERS, NULL, i);
		if (m->key && strncmp(m->key, prefix, strlen(prefix)) == 0)
			n++;
	}
	return n;
}

/* The js leads' outcome in event-time order. */
static void expect_js_outcome(const dur_reader *r, const char *what)
{
	cr_expect_eq(entries(r, "js-", FD_STAGE_MQL), N_JS, "%s: js MQL", what);
	cr_expect_eq(entries(r, "js-", FD_STAGE_SAL), N_JS, "%s: js SAL", what);
	cr_expect_eq(entries(r, "js-", FD_STAGE_SQL), N_JS, "%s: js SQL", what);
	cr_expect_eq(refused(r, "js-"), 0, "%s: js refusals", what);
}

/* The outcome of event-time order, asserted on a run. */
static void expect_event_time_outcome(const dur_reader *r, const char *what)
{
	expect_js_outcome(r, what);
	cr_expect_eq(entries(r, "fo-", FD_STAGE_MQL), N_FO, "%s: fo MQL", what);
	cr_expect_eq(entries(r, "dq-", FD_STAGE_MQL), N_DQ, "%s: dq MQL", what);
	cr_expect_eq(entries(r, "dq-", FD_STAGE_DISQUALIFIED), N_DQ, "%s: dq DISQUALIFIED", what);
	cr_expect_eq(refused(r, "dq-"), N_DQ, "%s: dq ACCEPT refused", what);
	cr_expect_eq(entries(r, "xx-", FD_STAGE_SAL), 0, "%s: xx SAL", what);
	cr_expect_eq(refused(r, "xx-"), N_XX, "%s: xx ACCEPT refused", what);
	cr_expect_eq(dur_count(r, DUR_OUT_DEAD_LETTERS, NULL), N_DQ + N_XX, "%s: dead letters",
	             what);
	cr_expect_eq(refused(r, "pv-"), 0, "%s: pv refusals", what);
}

/* A run against the reference: its outcome, then every output; the run's
 * reader and set are done with. */
static void judge(const dur_reader *want, dur_reader *got, dur_set *s, const char *name)
{
	expect_event_time_outcome(got, name);
	dur_compare(want, got, name);
	dur_reader_close(got);
	dur_set_free(s);
}

static const int ORDERS[6][3] = {
	{ DUR_IN_ENGAGEMENT, DUR_IN_PROFILES, DUR_IN_ACTIVITIES },
	{ DUR_IN_ENGAGEMENT, DUR_IN_ACTIVITIES, DUR_IN_PROFILES },
	{ DUR_IN_PROFILES, DUR_IN_ENGAGEMENT, DUR_IN_ACTIVITIES },
	{ DUR_IN_PROFILES, DUR_IN_ACTIVITIES, DUR_IN_ENGAGEMENT },
	{ DUR_IN_ACTIVITIES, DUR_IN_ENGAGEMENT, DUR_IN_PROFILES },
	{ DUR_IN_ACTIVITIES, DUR_IN_PROFILES, DUR_IN_ENGAGEMENT },
};

static const char *const ROLE[3] = { "e", "p", "a" };

/* The reference: the in-order feed, records produced in event-time order
 * across the topics, then read. */
static dur_reader *reference(dur_set *ref, const dur_script *sc)
{
	produce(ref, sc, -1);
	dur_reader *r = run(ref, "reference");
	expect_event_time_outcome(r, "reference");
	return r;
}

Test(order, in_order_feed_equals_every_skewed_feed)
{
	dur_script sc = { 0 };
	build(&sc, dur_recent_base(), N_PV, PV_EACH, false);
	dur_trace("order: %zu records", sc.n);
	dur_set ref;
	dur_set_init(&ref, "ref");
	dur_reader *want = reference(&ref, &sc);
	for (int o = 0; o < 6; o++) {
		char name[32];
		snprintf(name, sizeof name, "skew-%s%s%s", ROLE[ORDERS[o][0]], ROLE[ORDERS[o][1]],
		         ROLE[ORDERS[o][2]]);
		dur_set s;
		dur_set_init(&s, name);
		for (int k = 0; k < 3; k++)
			produce(&s, &sc, ORDERS[o][k]);
		judge(want, run(&s, name), &s, name);
	}
	dur_reader_close(want);
	dur_set_free(&ref);
	dur_script_free(&sc);
}

/* Each input topic on a broker of its own; one of them slow. */
static void lead_topics(const dur_set *s, int slow_topic, int rtt_ms)
{
	char cmd[400];
	for (int t = 0; t < 3; t++) {
		snprintf(cmd, sizeof cmd, "leader %s -1 %d", s->in[t], t + 1);
		it_broker_ok(cmd);
	}
	snprintf(cmd, sizeof cmd, "rtt %d %d", slow_topic + 1, rtt_ms);
	it_broker_ok(cmd);
}

Test(order, a_slow_topic_is_waited_for)
{
	it_require_mock("per-topic leaders and round-trip times are the mock's fault injection");
	dur_script sc = { 0 };
	build(&sc, dur_recent_base(), N_PV, PV_EACH, false);
	dur_set ref;
	dur_set_init(&ref, "ref");
	dur_reader *want = reference(&ref, &sc);
	for (int slow = 0; slow < 3; slow++) {
		char name[32];
		snprintf(name, sizeof name, "slow-%s", ROLE[slow]);
		dur_set s;
		dur_set_init(&s, name);
		produce(&s, &sc, -1);
		lead_topics(&s, slow, 300);
		dur_reader *got = run(&s, name);
		it_broker_ok("rtt 1 0");
		it_broker_ok("rtt 2 0");
		it_broker_ok("rtt 3 0");
		judge(want, got, &s, name);
	}
	dur_reader_close(want);
	dur_set_free(&ref);
	dur_script_free(&sc);
}

Test(order, live_lagging_input)
{
	it_require_mock("the engagement topic's slow reads are the mock's fault injection");
	dur_script sc = { 0 };
	/* the pv volume first in time, then the js leads: their demo requests
	   sit at the end of the engagement backlog */
	build(&sc, dur_recent_base(), N_PV_LIVE, PV_EACH_LIVE, true);
	dur_set s;
	dur_set_init(&s, "live");
	lead_topics(&s, DUR_IN_ENGAGEMENT, 300);
	dur_proc *d = dur_daemon("live", dur_set_args(&s, NULL));
	dur_wait_restored(&s, d, 60000);
	produce(&s, &sc, DUR_IN_PROFILES);
	produce(&s, &sc, DUR_IN_ENGAGEMENT);
	/* the daemon is reading the backlog: the first pv transitions... */
	dur_reader *r = dur_reader_open(&s);
	int64_t deadline = dur_mono_ms() + IT_WAIT_MS;
	while (dur_count(r, DUR_OUT_SCORES, NULL) == 0) {
		dur_assert_alive(d, "reading the engagement backlog");
		cr_assert_lt(dur_mono_ms(), deadline, "no output within %d ms", IT_WAIT_MS);
		dur_reader_poll(r, 20);
	}
	/* ...and only then the activities, which go fast */
	produce(&s, &sc, DUR_IN_ACTIVITIES);
	dur_barrier(&s, d, 60000, "live");
	dur_stop_clean(d, IT_WAIT_MS);
	dur_reader_catch_up(r, IT_WAIT_MS);
	/* only the js leads' engagement was still to be read when their
	   activities came; the others' activities came after their
	   engagement was applied (late, as far as funneld can know) */
	expect_js_outcome(r, "live");
	dur_reader_close(r);
	dur_set_free(&s);
	dur_script_free(&sc);
}
