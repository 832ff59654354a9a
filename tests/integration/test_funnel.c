/*
 * test_funnel.c — the funnel is state: /v1/funnel answers the same after a
 * restart (issue 11, item 6).
 *
 * One daemon on the shipped config (lead_ttl 180 d included) takes leads
 * through the stages on three partitions: 15 hand raises (LEAD → MQL),
 * three of them three days old so that their first-touch SLA warns and
 * breaches at once, then ACCEPT for 8 (→ SAL, first touch met) and QUALIFY
 * for 4 of those (→ SQL, sal_decision and mql_decision met by the exit).
 * /v1/funnel is read once every input is committed; the daemon is stopped
 * with SIGTERM and a new one started on the same group and changelog; once
 * it has restored its partitions, /v1/funnel gives the same stage entries,
 * transitions, conversions and SLA figures, for the same partitions, for
 * the whole history and for a window. Before partition checkpoints the
 * restarted daemon said 0 for every entry and null compliance.
 */
#include "harness.h"
#include "durability.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "funneld/wire.h"

#define PARTITIONS 3

static void init(void)
{
	it_setup(PARTITIONS);
	it_override("admin.address=127.0.0.1");
	it_override("admin.port=%d", dur_free_port());
	/* librdkafka 2.0.2's mock keeps a stopped member in the group until
	 * its session times out: a short session keeps the restart short (not
	 * below 4 s, see test_crash.c) */
	it_override("kafka.session.timeout.ms=4000");
	it_override("kafka.heartbeat.interval.ms=1000");
}

TestSuite(funnel, .init = init, .fini = dur_teardown, .timeout = 180);

static int32_t partition_of(const char *lead)
{
	return (int32_t)(dur_fnv(lead) % PARTITIONS);
}

static void send_event(const dur_set *s, const char *lead, int64_t at)
{
	char id[64];
	snprintf(id, sizeof id, "ev-%s", lead);
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at,
		                 .type = "demo_request", .channel = "web", .content_id = "demo" };
	it_bytes b = it_pb_engagement(&ev);
	it_produce_async(s->in[DUR_IN_ENGAGEMENT], partition_of(lead), lead, b.data, b.len);
	free(b.data);
}

static void send_activity(const dur_set *s, const char *lead, fd_activity_kind kind, int64_t at)
{
	char id[64];
	snprintf(id, sizeof id, "act-%s-%d", lead, (int)kind);
	fd_activity a = { .activity_id = id, .lead_id = lead, .occurred_at_ms = at,
		              .rep_id = "rep-1", .kind = kind };
	it_bytes b = it_pb_activity(&a);
	it_produce_async(s->in[DUR_IN_ACTIVITIES], partition_of(lead), lead, b.data, b.len);
	free(b.data);
}

static json_object *get_json(int port, const char *path)
{
	char *body = NULL;
	int status = dur_http_get(port, path, &body);
	cr_assert_eq(status, 200, "GET %s: %d %s", path, status, body ? body : "");
	json_object *o = json_tokener_parse(body);
	cr_assert_not_null(o, "GET %s: not JSON: %s", path, body);
	free(body);
	return o;
}

static json_object *field(json_object *o, const char *name)
{
	json_object *v = NULL;
	cr_assert(json_object_object_get_ex(o, name, &v), "no \"%s\" in %s", name,
	          json_object_to_json_string(o));
	return v;
}

static int64_t int_of(json_object *o, const char *a, const char *b)
{
	json_object *v = field(o, a);
	return json_object_get_int64(b ? field(v, b) : v);
}

/* The SLA entry `name` of a funnel reply. */
static json_object *sla(json_object *o, const char *name)
{
	json_object *slas = field(o, "slas");
	for (size_t i = 0; i < json_object_array_length(slas); i++) {
		json_object *x = json_object_array_get_idx(slas, i);
		if (strcmp(json_object_get_string(field(x, "name")), name) == 0)
			return x;
	}
	cr_assert_fail("no SLA %s in the funnel", name);
	return NULL;
}

/* What must survive: everything but the time of the answer and the leads
 * in memory (the same here too, but not the funnel's business). */
static void assert_same_funnel(json_object *before, json_object *after, const char *what)
{
	static const char *const keys[] = { "partitions", "window", "entered", "transitions",
		                                 "conversion", "slas" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *x = json_object_to_json_string(field(before, keys[i]));
		const char *y = json_object_to_json_string(field(after, keys[i]));
		cr_assert_str_eq(y, x, "%s: \"%s\" differs after the restart", what, keys[i]);
	}
}

/* The expected figures (see the top of the file). */
static void assert_figures(json_object *f)
{
	cr_assert_str_eq(json_object_to_json_string(field(f, "partitions")), "[ 0, 1, 2 ]");
	cr_assert_eq(int_of(f, "entered", "LEAD"), 15);
	cr_assert_eq(int_of(f, "entered", "MQL"), 15);
	cr_assert_eq(int_of(f, "entered", "SAL"), 8);
	cr_assert_eq(int_of(f, "entered", "SQL"), 4);
	cr_assert_eq(int_of(f, "entered", "NURTURE"), 0);
	cr_assert_eq(int_of(f, "transitions", NULL), 27);
	json_object *ft = sla(f, "mql_first_touch");
	cr_assert_eq(int_of(ft, "met", NULL), 8);
	cr_assert_eq(int_of(ft, "breached", NULL), 3);
	cr_assert_eq(int_of(ft, "warned", NULL), 3);
	cr_assert_float_eq(json_object_get_double(field(ft, "compliance")), 8.0 / 11.0, 1e-12);
	cr_assert_eq(int_of(sla(f, "sal_decision"), "met", NULL), 4);
	cr_assert_eq(int_of(sla(f, "mql_decision"), "met", NULL), 4);
	json_object *conv = field(f, "conversion");
	cr_assert_float_eq(json_object_get_double(field(json_object_array_get_idx(conv, 1), "rate")),
	                   8.0 / 15.0, 1e-12);
}

Test(funnel, the_funnel_survives_a_restart)
{
	dur_set s;
	dur_set_init(&s, NULL);
	dur_check_config(dur_set_args(&s, NULL));
	dur_proc *d = dur_daemon("first", dur_set_args(&s, NULL));
	int port = dur_admin_port(d, IT_WAIT_MS);
	dur_wait_restored(&s, d, IT_WAIT_MS);

	const int64_t recent = dur_recent_base();
	char lead[32];
	for (int i = 0; i < 12; i++) {
		snprintf(lead, sizeof lead, "fn-%02d", i);
		send_event(&s, lead, recent);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(lead, sizeof lead, "late-%d", i);
		send_event(&s, lead, recent - 3 * FD_MS_DAY);
	}
	it_flush(IT_WAIT_MS);
	dur_barrier(&s, d, IT_WAIT_MS, "hand raises");
	for (int i = 0; i < 8; i++) {
		snprintf(lead, sizeof lead, "fn-%02d", i);
		send_activity(&s, lead, FD_ACT_ACCEPT, recent + 60000);
	}
	it_flush(IT_WAIT_MS);
	dur_barrier(&s, d, IT_WAIT_MS, "accepts");
	for (int i = 0; i < 4; i++) {
		snprintf(lead, sizeof lead, "fn-%02d", i);
		send_activity(&s, lead, FD_ACT_QUALIFY, recent + 120000);
	}
	it_flush(IT_WAIT_MS);
	dur_barrier(&s, d, IT_WAIT_MS, "qualifications");

	json_object *before = get_json(port, "/v1/funnel");
	assert_figures(before);
	char window[128];
	snprintf(window, sizeof window, "/v1/funnel?since=%" PRId64 "&until=%" PRId64,
	         recent - FD_MS_DAY, recent + FD_MS_DAY);
	json_object *before_window = get_json(port, window);
	dur_trace("funnel before the restart: %s", json_object_to_json_string(before));

	dur_stop_clean(d, IT_WAIT_MS);
	dur_proc *d2 = dur_daemon("second", dur_set_args(&s, NULL));
	port = dur_admin_port(d2, IT_WAIT_MS);
	dur_wait_restored(&s, d2, IT_WAIT_MS);
	json_object *after = get_json(port, "/v1/funnel");
	dur_trace("funnel after the restart: %s", json_object_to_json_string(after));
	assert_figures(after);
	assert_same_funnel(before, after, "/v1/funnel");
	json_object *after_window = get_json(port, window);
	assert_same_funnel(before_window, after_window, window);
	cr_assert_eq(int_of(after, "leads", NULL), 15);

	json_object_put(before);
	json_object_put(after);
	json_object_put(before_window);
	json_object_put(after_window);
	dur_stop_clean(d2, IT_WAIT_MS);
	dur_set_free(&s);
}
