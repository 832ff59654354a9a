/*
 * test_downtime.c — SLA deadlines that pass while funneld is stopped fire
 * exactly once, right after the restart restores the leads.
 *
 * mql_first_touch (48 h) gets a warning fraction of 0.99996 here, so its
 * WARNING is due 6.912 s before its BREACH and both can be placed within
 * seconds of the wall clock. Four leads raise their hand (demo_request)
 * at times chosen against t0, the moment the inputs are produced:
 *
 *   dt-both     warning at t0 + 4.1 s, deadline at t0 + 11 s: both pass
 *               while the daemon is down
 *   dt-breach   warning at t0 - 0.9 s (fires before the stop), deadline at
 *               t0 + 6 s (passes while down)
 *   dt-past     warning and deadline a minute in the past: both fire
 *               before the stop, never again
 *   dt-future   deadline 47 h ahead: nothing fires
 *
 * The first daemon processes them and is stopped with SIGTERM before
 * dt-both's warning is due (the test fails if the stop came too late to
 * prove anything); the test waits until dt-both's deadline has passed
 * (the one deliberate sleep: at most ~11 s after t0) and starts a second
 * daemon in the same group.
 *
 * Verified: exactly one WARNING and one BREACH record of mql_first_touch
 * per lead that reached them (by record count, so no duplicates either),
 * with the right due and occurred times; dt-both's and dt-breach's
 * post-downtime events read only after the restart, and the restart's
 * "restored partition(s) resumed" line after dt-both's deadline; one MQL
 * transition per lead; nothing for dt-future; every input committed.
 * Not verified: mql_decision (90 days) and the other SLAs (not due).
 */
#include "harness.h"
#include "durability.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/outputs.pb-c.h"

#define WARNING_FRACTION "0.99996"
#define WARN_BEFORE_MS 6912 /* 48 h * (1 - 0.99996) */

static void init(void)
{
	it_setup(3);
	it_override("kafka.session.timeout.ms=4000");
	it_override("kafka.heartbeat.interval.ms=1000");
	it_override("slas.[0].warning=%s", WARNING_FRACTION);
}

TestSuite(downtime, .init = init, .fini = dur_teardown, .timeout = 120);

typedef struct lead_case {
	const char *id;
	int64_t occurred;   /* set from t0 */
	int warnings, breaches;  /* expected mql_first_touch records */
	bool warning_after_restart, breach_after_restart;
} lead_case;

static size_t count_sla(const dur_reader *r, const char *lead, const char *sla, int kind,
                        int64_t *due, int64_t *at, int64_t *read_ms)
{
	size_t n = 0;
	for (size_t i = 0; i < dur_count(r, DUR_OUT_SLA, lead); i++) {
		const dur_msg *m = dur_nth(r, DUR_OUT_SLA, lead, i);
		Funneld__V1__SlaEvent *e = funneld__v1__sla_event__unpack(NULL, m->len, m->value);
		cr_assert_not_null(e, "an SLA record of %s does not decode", lead);
		if (strcmp(e->sla, sla) == 0 && (int)e->kind == kind) {
			n++;
			if (due)
				*due = e->due_at_ms;
			if (at)
				*at = e->occurred_at_ms;
			if (read_ms)
				*read_ms = m->read_ms;
		}
		funneld__v1__sla_event__free_unpacked(e, NULL);
	}
	return n;
}

static bool seen(const dur_reader *r, const char *lead, int kind)
{
	return count_sla(r, lead, "mql_first_touch", kind, NULL, NULL, NULL) > 0;
}

Test(downtime, deadline_passing_while_stopped_fires_once_after_restart)
{
	dur_set s;
	dur_set_init(&s, NULL);
	dur_check_config(dur_set_args(&s, NULL));
	const int W = FUNNELD__V1__SLA_KIND__SLA_KIND_WARNING, B = FUNNELD__V1__SLA_KIND__SLA_KIND_BREACH;
	const int64_t H48 = 48 * FD_MS_HOUR;

	dur_proc *d1 = dur_daemon("daemon-before", dur_set_args(&s, NULL));
	dur_wait_restored(&s, d1, IT_WAIT_MS);
	dur_reader *r = dur_reader_open(&s);

	const int64_t t0 = it_now_ms();
	lead_case leads[4] = {
		{ "dt-both", t0 - H48 + 11000, 1, 1, true, true },
		{ "dt-breach", t0 - H48 + 6000, 1, 1, false, true },
		{ "dt-past", t0 - H48 - 60000, 1, 1, false, false },
		{ "dt-future", t0 - FD_MS_HOUR, 0, 0, false, false },
	};
	const int64_t due_both = leads[0].occurred + H48;
	const int64_t warn_both = due_both - WARN_BEFORE_MS;
	for (int i = 0; i < 4; i++) {
		char ev_id[64];
		snprintf(ev_id, sizeof ev_id, "ev-%s", leads[i].id);
		fd_engagement ev = { .event_id = ev_id, .lead_id = leads[i].id,
			                 .occurred_at_ms = leads[i].occurred, .type = "demo_request",
			                 .channel = "web", .content_id = "demo-form" };
		it_bytes b = it_pb_engagement(&ev);
		it_produce(s.in[DUR_IN_ENGAGEMENT], (int32_t)(i % 3), leads[i].id, b.data, b.len, NULL, 0,
		           NULL);
		free(b.data);
	}
	/* before the stop: four MQLs, the warnings and breaches already due */
	int64_t deadline = dur_mono_ms() + IT_WAIT_MS;
	while (!(dur_count(r, DUR_OUT_TRANSITIONS, NULL) >= 4 && seen(r, "dt-breach", W) &&
	         seen(r, "dt-past", W) && seen(r, "dt-past", B))) {
		dur_assert_alive(d1, "before the stop");
		cr_assert(dur_mono_ms() < deadline, "within %d ms of producing: %zu of 4 MQL transitions, "
		          "dt-breach warning %d, dt-past warning %d and breach %d", IT_WAIT_MS,
		          dur_count(r, DUR_OUT_TRANSITIONS, NULL), seen(r, "dt-breach", W),
		          seen(r, "dt-past", W), seen(r, "dt-past", B));
		dur_reader_poll(r, 50);
	}
	dur_barrier(&s, d1, IT_WAIT_MS, "before the stop");
	dur_stop_clean(d1, IT_WAIT_MS);
	int64_t stopped = it_now_ms();
	dur_trace("downtime: stopped at t0 + %" PRId64 " ms (dt-both: warning at t0 + %" PRId64
	        ", deadline at t0 + %" PRId64 ")", stopped - t0, warn_both - t0, due_both - t0);
	cr_assert_lt(stopped, warn_both - 300,
	             "the first daemon took until t0 + %" PRId64 " ms to process and stop; dt-both's "
	             "warning was due at t0 + %" PRId64 " ms: the downtime did not happen (machine too "
	             "slow?)", stopped - t0, warn_both - t0);
	dur_reader_catch_up(r, IT_WAIT_MS);
	cr_assert(!seen(r, "dt-both", W) && !seen(r, "dt-both", B) && !seen(r, "dt-breach", B),
	          "an SLA event that was not due yet was emitted before the stop");

	/* the downtime: dt-both's deadline passes */
	int64_t wait = due_both + 300 - it_now_ms();
	if (wait > 0)
		dur_sleep_ms((int)wait);

	int64_t restart = it_now_ms();
	dur_proc *d2 = dur_daemon("daemon-after", dur_set_args(&s, NULL));
	deadline = dur_mono_ms() + IT_WAIT_MS;
	while (!(seen(r, "dt-both", W) && seen(r, "dt-both", B) && seen(r, "dt-breach", B))) {
		dur_assert_alive(d2, "after the restart");
		cr_assert(dur_mono_ms() < deadline, "within %d ms of the restart: dt-both warning %d, "
		          "breach %d; dt-breach breach %d", IT_WAIT_MS, seen(r, "dt-both", W),
		          seen(r, "dt-both", B), seen(r, "dt-breach", B));
		dur_reader_poll(r, 50);
	}
	dur_barrier(&s, d2, IT_WAIT_MS, "after the restart");
	dur_stop_clean(d2, IT_WAIT_MS);
	dur_reader_catch_up(r, IT_WAIT_MS);

	char *log = dur_log(d2);
	char line[1024];
	cr_assert(dur_find_line(log, "restored partition(s) resumed", line, sizeof line),
	          "the restarted daemon never logged 'restored partition(s) resumed':\n%s",
	          it_tail(log, 3000));
	int64_t resumed = dur_line_time(line);
	cr_assert_gt(resumed, due_both, "the restarted daemon resumed at t0 + %" PRId64 " ms, before "
	             "dt-both's deadline (t0 + %" PRId64 " ms)", resumed - t0, due_both - t0);
	free(log);

	for (int i = 0; i < 4; i++) {
		const lead_case *c = &leads[i];
		int64_t due = 0, at = 0, read = 0;
		cr_assert_eq(dur_count(r, DUR_OUT_TRANSITIONS, c->id), 1, "%s: %zu transition records, "
		             "want exactly one (its MQL)", c->id, dur_count(r, DUR_OUT_TRANSITIONS, c->id));
		size_t w = count_sla(r, c->id, "mql_first_touch", W, &due, &at, &read);
		cr_assert_eq(w, (size_t)c->warnings, "%s: %zu mql_first_touch WARNING records, want %d",
		             c->id, w, c->warnings);
		if (w) {
			cr_assert_eq(due, c->occurred + H48, "%s: warning due_at", c->id);
			cr_assert_eq(at, c->occurred + H48 - WARN_BEFORE_MS, "%s: warning occurred_at %" PRId64
			             ", want %" PRId64, c->id, at, c->occurred + H48 - WARN_BEFORE_MS);
			cr_assert_eq(read > restart, c->warning_after_restart,
			             "%s: its WARNING was read %s the restart", c->id,
			             read > restart ? "after" : "before");
		}
		size_t b = count_sla(r, c->id, "mql_first_touch", B, &due, &at, &read);
		cr_assert_eq(b, (size_t)c->breaches, "%s: %zu mql_first_touch BREACH records, want %d",
		             c->id, b, c->breaches);
		if (b) {
			cr_assert_eq(due, c->occurred + H48, "%s: breach due_at", c->id);
			cr_assert_eq(at, c->occurred + H48, "%s: breach occurred_at", c->id);
			cr_assert_eq(read > restart, c->breach_after_restart,
			             "%s: its BREACH was read %s the restart", c->id,
			             read > restart ? "after" : "before");
		}
		cr_assert_eq(dur_count(r, DUR_OUT_SLA, c->id), w + b,
		             "%s: %zu SLA records, want only the mql_first_touch ones (%zu)", c->id,
		             dur_count(r, DUR_OUT_SLA, c->id), w + b);
	}
	dur_trace("downtime: restart at t0 + %" PRId64 " ms resumed at t0 + %" PRId64
	        " ms; every warning and breach exactly once", restart - t0, resumed - t0);
	dur_reader_close(r);
	dur_set_free(&s);
}
