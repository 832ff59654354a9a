/*
 * test_broker_outage.c — the broker goes away and comes back; funneld logs,
 * keeps retrying and resumes without losing anything.
 *
 * Every input is a demo request from a distinct lead with a recent event
 * time, so each yields exactly one transition (LEAD -> MQL) and no timer
 * fires during the test. At-least-once allows copies: outputs are counted
 * by distinct ce_id, and copies must be byte-identical.
 */
#include "harness.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/outputs.pb-c.h"

#define BATCH 10

static void init(void)
{
	it_setup(3);
}

TestSuite(broker_outage, .init = init, .fini = it_teardown, .timeout = 150);

static void lead_name(char *out, size_t size, int batch, int i)
{
	snprintf(out, size, "out-%d-%02d", batch, i);
}

static it_bytes demo_request(const char *lead, int64_t at)
{
	char id[64];
	snprintf(id, sizeof id, "ev-%s", lead);
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at,
	                     .type = "demo_request", .channel = "web", .content_id = "demo-form" };
	return it_pb_engagement(&ev);
}

static void produce_batch(const char *topic, int batch, bool sync, int64_t at)
{
	for (int i = 0; i < BATCH; i++) {
		char lead[32];
		lead_name(lead, sizeof lead, batch, i);
		it_bytes b = demo_request(lead, at + i);
		if (sync)
			it_produce(topic, IT_PARTITION_BY_KEY, lead, b.data, b.len, NULL, 0, NULL);
		else
			it_produce_async(topic, IT_PARTITION_BY_KEY, lead, b.data, b.len);
		free(b.data);
	}
}

/* Leads of `batch` that have at least one transition. */
static int leads_done(const it_reader *r, const char *topic, int batch)
{
	int n = 0;
	for (int i = 0; i < BATCH; i++) {
		char lead[32];
		lead_name(lead, sizeof lead, batch, i);
		n += it_reader_count_of(r, topic, lead) > 0;
	}
	return n;
}

/* Every lead of `batch`: one distinct transition (LEAD -> MQL, hand raise),
 * any copies byte-identical with the same ce_id. */
static void check_batch(const it_reader *r, const char *topic, int batch)
{
	for (int i = 0; i < BATCH; i++) {
		char lead[32];
		lead_name(lead, sizeof lead, batch, i);
		size_t n = it_reader_count_of(r, topic, lead);
		cr_assert_geq(n, 1, "no transition for %s", lead);
		const it_msg *first = it_reader_nth(r, topic, lead, 0);
		Funneld__V1__StageTransition *t =
			funneld__v1__stage_transition__unpack(NULL, first->len, first->value);
		cr_assert_not_null(t, "transition of %s does not decode", lead);
		cr_assert_str_eq(t->lead_id, lead);
		cr_assert_eq(t->from_stage, FUNNELD__V1__STAGE__STAGE_LEAD);
		cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_MQL);
		cr_assert_str_eq(t->trigger, "hand_raise");
		const char *ce_id = it_header_str(first, "ce_id", NULL);
		cr_assert(ce_id && strcmp(ce_id, t->transition_id) == 0, "%s: ce_id '%s', transition_id '%s'",
		          lead, ce_id ? ce_id : "(none)", t->transition_id);
		for (size_t k = 1; k < n; k++) {
			const it_msg *m = it_reader_nth(r, topic, lead, k);
			cr_assert(m->len == first->len && memcmp(m->value, first->value, m->len) == 0,
			          "%s: copy %zu of its transition differs from the first", lead, k);
			const char *id = it_header_str(m, "ce_id", NULL);
			cr_assert(id && strcmp(id, t->transition_id) == 0, "%s: copy %zu has ce_id '%s'", lead,
			          k, id ? id : "(none)");
		}
		funneld__v1__stage_transition__free_unpacked(t, NULL);
	}
}

static bool mentions_broker_trouble(const char *log)
{
	static const char *const words[] = { "broker", "connect", "retry", "retrying", "unreachable",
		                                 "transport", "down", "timed out" };
	size_t n = strlen(log);
	char *lower = malloc(n + 1);
	cr_assert_not_null(lower);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)log[i]);
	bool found = strstr(lower, it_bootstrap()) != NULL;
	for (size_t i = 0; i < sizeof words / sizeof words[0] && !found; i++)
		found = strstr(lower, words[i]) != NULL;
	free(lower);
	return found;
}

static void outage_run(const char *const *extra)
{
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	const int64_t at = it_now_ms() - 10 * 60000;

	it_proc *d = it_daemon_start(extra);
	it_reader *r = it_reader_outputs();

	produce_batch(cfg.settings.topics.engagement, 1, true, at);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_done(r, T, 1) == BATCH,
	              "batch 1: %d of %d leads have their transition after %d ms", leads_done(r, T, 1),
	              BATCH, IT_WAIT_MS);
	char *log = it_proc_log(d);
	size_t log_before = strlen(log);
	free(log);

	it_broker_ok("down 1");
	it_reader_poll(r, 2000); /* the outage: two seconds without a broker */
	it_assert_running(d, "while the broker was down");
	produce_batch(cfg.settings.topics.engagement, 2, false, at + 1000);
	it_reader_poll(r, 1000);
	it_broker_ok("up 1");
	it_flush(IT_WAIT_MS);

	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_done(r, T, 2) == BATCH,
	              "batch 2: %d of %d leads have their transition %d ms after the broker came back",
	              leads_done(r, T, 2), BATCH, IT_WAIT_MS);
	it_reader_poll(r, 500);
	it_assert_running(d, "after the broker came back");

	check_batch(r, T, 1);
	check_batch(r, T, 2);
	cr_assert_eq(it_distinct_header(r, T, "ce_id"), 2 * BATCH, "%zu distinct transitions, want %d",
	             it_distinct_header(r, T, "ce_id"), 2 * BATCH);
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);

	log = it_proc_log(d);
	cr_assert_gt(strlen(log), log_before, "funneld logged nothing about the outage");
	free(log);
	it_reader_close(r);
	fd_config_free(&cfg);
}

Test(broker_outage, broker_down_mid_stream_then_back_loses_nothing)
{
	outage_run(NULL);
}

/* The same outage with the unacknowledged intervals bounded at 2 (the
 * shipped 120 is two minutes at the shipped interval, longer than this
 * outage): the intervals past the bound merge, and still nothing is lost
 * or counted twice and the offsets reach the end. */
Test(broker_outage, intervals_merged_during_an_outage_lose_nothing)
{
	const char *bound[] = { "processing.max_pending_intervals=2", NULL };
	outage_run(bound);
}

Test(broker_outage, broker_down_at_start_keeps_retrying_then_runs)
{
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	const int64_t at = it_now_ms() - 10 * 60000;

	it_broker_ok("down 1");
	it_proc *d = it_daemon_start(NULL);
	int status;
	cr_assert(!it_proc_wait_exit(d, 3000, &status),
	          "funneld run exited (status 0x%x) while the broker was unreachable instead of "
	          "retrying; log:\n%s",
	          status, it_tail(it_proc_log(d), 4000));
	char *log = it_proc_log(d);
	cr_assert(mentions_broker_trouble(log),
	          "after 3 s without a broker, funneld's log says nothing about it:\n%s",
	          it_tail(log, 4000));
	free(log);

	produce_batch(cfg.settings.topics.engagement, 1, false, at);
	it_broker_ok("up 1");
	it_flush(IT_WAIT_MS);

	it_reader *r = it_reader_outputs();
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_done(r, T, 1) == BATCH,
	              "%d of %d leads have their transition %d ms after the broker came up",
	              leads_done(r, T, 1), BATCH, IT_WAIT_MS);
	it_reader_poll(r, 500);
	it_assert_running(d, "after the broker came up");
	check_batch(r, T, 1);
	cr_assert_eq(it_distinct_header(r, T, "ce_id"), BATCH);
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);
	it_reader_close(r);
	fd_config_free(&cfg);
}
