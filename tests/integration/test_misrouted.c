/*
 * test_misrouted.c — input records off their lead's partition are counted
 * per input and reason, logged, and applied or dead-lettered as
 * processing.misrouted says (issue 11 item 2).
 *
 * Four records, each to an explicit partition:
 *   ok     engagement of lead "rt-ok", on its murmur2 partition, keyed by it
 *   wrong  engagement of "rt-wrong" on another partition (where CRC-32,
 *          kcat's default, would put it when that differs)
 *   nokey  profile of "rt-nokey" on its murmur2 partition, without a key
 *   other  engagement of "rt-other" keyed "someone-else"
 * Shipped config (partitioner murmur2) but for the harness's overrides and
 * an admin port (the test reads /metrics and /v1/leads); the second test
 * sets processing.misrouted=dead_letter, the policy it is about.
 */
#include "harness.h"
#include "durability.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/route.h"

#define PARTITIONS 4

static void init(void)
{
	it_setup(PARTITIONS);
	it_override("admin.address=127.0.0.1");
	it_override("admin.port=0");
}

TestSuite(misrouted, .init = init, .fini = dur_teardown, .timeout = 120);

static int32_t murmur2_of(const char *key)
{
	return fd_route_partition(FD_PARTITIONER_MURMUR2, key, strlen(key), PARTITIONS);
}

static int64_t at_ms(void)
{
	return (it_now_ms() / 1000) * 1000 - 3600 * 1000;
}

/* Produce the four records; returns the admin port once all are committed. */
static int feed(it_proc *d, fd_config *cfg)
{
	int port = it_admin_port(d, IT_WAIT_MS);
	const fd_topics *t = &cfg->settings.topics;
	int64_t at = at_ms();
	fd_engagement ev = { .event_id = "e-ok", .lead_id = "rt-ok", .occurred_at_ms = at,
		                 .type = "page_view" };
	it_bytes b = it_pb_engagement(&ev);
	it_produce(t->engagement, murmur2_of("rt-ok"), "rt-ok", b.data, b.len, NULL, 0, NULL);
	free(b.data);

	ev.event_id = "e-wrong";
	ev.lead_id = "rt-wrong";
	int32_t right = murmur2_of("rt-wrong");
	int32_t crc = fd_route_partition(FD_PARTITIONER_CONSISTENT, "rt-wrong", 8, PARTITIONS);
	int32_t wrong = crc != right ? crc : (right + 1) % PARTITIONS;
	b = it_pb_engagement(&ev);
	it_produce(t->engagement, wrong, "rt-wrong", b.data, b.len, NULL, 0, NULL);
	free(b.data);

	fd_profile pr = { .lead_id = "rt-nokey", .updated_at_ms = at, .country = "US" };
	b = it_pb_profile(&pr);
	it_produce(t->profiles, murmur2_of("rt-nokey"), NULL, b.data, b.len, NULL, 0, NULL);
	free(b.data);

	ev.event_id = "e-other";
	ev.lead_id = "rt-other";
	b = it_pb_engagement(&ev);
	it_produce(t->engagement, murmur2_of("someone-else"), "someone-else", b.data, b.len, NULL, 0,
	           NULL);
	free(b.data);
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);
	return port;
}

/* The value of `line` (a whole sample line's name and labels) in /metrics. */
static double sample(int port, const char *line)
{
	char *body = NULL;
	cr_assert_eq(dur_http_get(port, "/metrics", &body), 200);
	const char *p = strstr(body, line);
	cr_assert_not_null(p, "no \"%s\" in /metrics", line);
	double v = strtod(p + strlen(line), NULL);
	free(body);
	return v;
}

static int lead_status(int port, const char *lead)
{
	char path[128], *body = NULL;
	snprintf(path, sizeof path, "/v1/leads/%s", lead);
	int status = dur_http_get(port, path, &body);
	free(body);
	return status;
}

/* The four leads answer /v1/leads with 200 (applied) or `status` (the
 * three misrouted ones). */
static void expect_leads(int port, int status)
{
	cr_expect_eq(lead_status(port, "rt-ok"), 200);
	cr_expect_eq(lead_status(port, "rt-wrong"), status);
	cr_expect_eq(lead_status(port, "rt-nokey"), status);
	cr_expect_eq(lead_status(port, "rt-other"), status);
}

static void expect_counts(int port)
{
	cr_expect_eq(sample(port, "funneld_inputs_misrouted_total{input=\"engagement\",reason=\"wrong_partition\"} "), 1);
	cr_expect_eq(sample(port, "funneld_inputs_misrouted_total{input=\"engagement\",reason=\"key_mismatch\"} "), 1);
	cr_expect_eq(sample(port, "funneld_inputs_misrouted_total{input=\"profiles\",reason=\"no_key\"} "), 1);
	cr_expect_eq(sample(port, "funneld_inputs_misrouted_total{input=\"engagement\",reason=\"no_key\"} "), 0);
	cr_expect_eq(sample(port, "funneld_inputs_misrouted_total{input=\"activities\",reason=\"wrong_partition\"} "), 0);
}

Test(misrouted, counted_logged_and_applied_by_default)
{
	fd_config cfg;
	it_load_config(&cfg);
	it_proc *d = it_daemon_start(NULL);
	int port = feed(d, &cfg);
	expect_counts(port);
	expect_leads(port, 200); /* applied all the same */
	it_stop_daemon(d);
	char *log = it_proc_log(d);
	cr_expect_not_null(strstr(log, "misrouted: its key hashes (murmur2) to partition"), "%s",
	                   it_tail(log, 4000));
	cr_expect_not_null(strstr(log, "misrouted: no key"), "%s", it_tail(log, 4000));
	cr_expect_not_null(strstr(log, "misrouted: its key is not its lead id"), "%s",
	                   it_tail(log, 4000));
	cr_expect_null(strstr(log, "rt-wrong"), "the log line names no lead id");
	free(log);
	it_reader *r = it_reader_open((const char *const[]){ cfg.settings.topics.dead_letters, NULL });
	it_reader_poll(r, 500);
	cr_expect_eq(it_reader_count(r), 0, "no dead letter under the default policy");
	it_reader_close(r);
	fd_config_free(&cfg);
}

Test(misrouted, dead_lettered_on_request)
{
	it_override("processing.misrouted=dead_letter");
	fd_config cfg;
	it_load_config(&cfg);
	it_proc *d = it_daemon_start(NULL);
	int port = feed(d, &cfg);
	expect_counts(port);
	expect_leads(port, 404);
	it_reader *r = it_reader_open((const char *const[]){ cfg.settings.topics.dead_letters, NULL });
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count(r) >= 3, "3 dead letters");
	int seen = 0;
	for (size_t i = 0; i < it_reader_count(r); i++) {
		const char *why = it_header_str(it_reader_at(r, i), "funneld.error.reason", NULL);
		cr_assert_not_null(why);
		cr_expect_eq(strncmp(why, "misrouted: ", 11), 0, "%s", why);
		seen += strstr(why, "hashes (murmur2) to partition") != NULL;
	}
	cr_expect_eq(it_reader_count(r), 3);
	cr_expect_eq(seen, 1);
	it_reader_close(r);
	it_stop_daemon(d);
	fd_config_free(&cfg);
}
