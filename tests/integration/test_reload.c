/*
 * test_reload.c — SIGHUP reloads the configuration atomically: a broken
 * file is refused with file:line and the daemon keeps running on the old
 * rules; a valid file takes effect for the next input, and the leads
 * already in memory keep their state.
 *
 * The rule changed is mql.hand_raise: before the reload a demo request
 * makes its lead an MQL; after `hand_raise = false` it does not.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/outputs.pb-c.h"

static void init(void)
{
	it_setup(2);
}

TestSuite(reload, .init = init, .fini = it_teardown, .timeout = 120);

static void demo_request(const char *lead, const char *id)
{
	int64_t t = it_now_ms() - 60 * 1000;
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = t,
	                     .type = "demo_request", .channel = "web" };
	it_send_engagement(&ev);
}

/* Replace the first occurrence of `from` with `to` in the config copy. */
static void edit_config(const char *from, const char *to)
{
	FILE *f = fopen(it_conf_path(), "r");
	cr_assert_not_null(f);
	static char text[1 << 17];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	char *at = strstr(text, from);
	cr_assert_not_null(at, "config has no '%s'", from);
	f = fopen(it_conf_path(), "w");
	cr_assert_not_null(f);
	fwrite(text, 1, (size_t)(at - text), f);
	fputs(to, f);
	fputs(at + strlen(from), f);
	fclose(f);
}

static size_t transitions_of(it_reader *r, const char *topic, const char *lead)
{
	return it_reader_count_of(r, topic, lead);
}

Test(reload, broken_file_is_refused_and_a_valid_one_applies_to_the_next_input)
{
	fd_config cfg;
	it_load_config(&cfg);
	const char *tr_topic = cfg.settings.topics.transitions;
	const char *scores = cfg.settings.topics.scores;
	it_proc *d = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();

	demo_request("before", "e1");
	IT_WAIT_UNTIL(r, IT_WAIT_MS, transitions_of(r, tr_topic, "before") == 1,
	              "no MQL for 'before'");

	/* a broken file: refused with file:line, the daemon keeps going */
	edit_config("hand_raise = true;", "hand_raise = maybe;");
	it_proc_signal(d, SIGHUP);
	int64_t deadline = it_now_ms() + 10000;
	while (it_proc_log_count(d, "SIGHUP: keeping the running configuration") == 0 &&
	       it_now_ms() < deadline)
		it_reader_poll(r, 100);
	char *log = it_proc_log(d);
	cr_assert(strstr(log, "SIGHUP: keeping the running configuration") != NULL, "%s",
	          it_tail(log, 2000));
	char where[1300];
	snprintf(where, sizeof where, "%s:", it_conf_path());
	cr_assert(strstr(log, where) != NULL, "the refusal names no file:line: %s", it_tail(log, 1000));
	free(log);
	it_assert_running(d, "after a broken reload");
	demo_request("still-old", "e2");
	IT_WAIT_UNTIL(r, IT_WAIT_MS, transitions_of(r, tr_topic, "still-old") == 1,
	              "the old rules stopped applying after a refused reload");

	/* a valid change */
	edit_config("hand_raise = maybe;", "hand_raise = false;");
	it_proc_signal(d, SIGHUP);
	deadline = it_now_ms() + 10000;
	while (it_proc_log_count(d, "reloaded;") == 0 && it_now_ms() < deadline)
		it_reader_poll(r, 100);
	cr_assert(it_proc_log_count(d, "reloaded; 2 leads move to the new rules in the background") > 0);
	deadline = it_now_ms() + 10000;
	while (it_proc_log_count(d, "reload: every lead is under the new rules") == 0 &&
	       it_now_ms() < deadline)
		it_reader_poll(r, 100);
	cr_assert(it_proc_log_count(d, "reload: every lead is under the new rules") > 0,
	          "the background move never finished");
	demo_request("after", "e3");
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, scores, "after") >= 1,
	              "no LeadScore for 'after'");
	it_reader_poll(r, 1000);
	cr_assert_eq(transitions_of(r, tr_topic, "after"), 0,
	             "a hand raise still made an MQL after hand_raise = false");
	/* the earlier leads kept their stage */
	cr_assert_eq(transitions_of(r, tr_topic, "before"), 1);
	it_assert_running(d, "after the reload");
	it_reader_close(r);
	fd_config_free(&cfg);
}
