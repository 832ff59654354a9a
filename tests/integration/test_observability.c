/*
 * test_observability.c — what an operator sees of a real run: /metrics
 * scraped from `funneld run` against the broker, with exact counts, passed
 * through promtool and compared with the names the alert rules and the
 * Grafana dashboard use (scripts/monitoring.sh); and lead ids in the log,
 * redacted by default and shown when log.redact_ids is off.
 *
 * The inputs: 20 demo requests ten minutes old (LEAD -> MQL, hand_raise),
 * one engagement record that is not protobuf (undecodable: dated by its Kafka
 * timestamp, seconds old), one ACCEPT for a lead in LEAD dated 2026-01-01
 * (refused, months old).
 *
 * metrics_of_a_real_run_count_exactly_and_pass_promtool. Verified:
 *   funneld_transitions_total has one series, {LEAD, MQL, hand_raise} 20;
 *   funneld_dead_letters_total {engagement, undecodable} 1 and
 *   {activities, refused_transition} 1; 22 records consumed, timed
 *   (funneld_record_processing_seconds_count 22) and aged
 *   (funneld_event_to_output_seconds: 1 within 5 min, 21 within 15 min, 21
 *   within a week, 22 in all); funneld_consumer_lag 0 on both engagement
 *   partitions once everything is committed (admin.lag_interval=100ms);
 *   funneld_build_info with the version; `promtool check metrics` accepts
 *   the scrape and every metric of monitoring/ is in it. promtool comes from
 *   Debian's prometheus package: without it (outside CI) that last step is
 *   reported skipped; in CI its absence fails the test.
 *
 * lead_ids_are_redacted_in_the_log_by_default / ..._shown_when_redaction_is_off:
 *   the daemon's log has "lead TOKEN: LEAD -> MQL (hand_raise)" for each lead,
 *   TOKEN its SipHash token under the group id (the default key), and no id;
 *   with -o log.redact_ids=false the ids themselves.
 */
#include "durability.h"
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/redact.h"

#define LEADS 20

static void init(void)
{
	it_setup(2);
	it_override("admin.address=127.0.0.1");
	it_override("admin.port=0");
	it_override("admin.lag_interval=100ms");
}

TestSuite(observability, .init = init, .fini = it_teardown, .timeout = 180);

static char *scrape(int port)
{
	char *body = NULL;
	cr_assert_eq(dur_http_get(port, "/metrics", &body), 200, "GET /metrics");
	return body;
}

static bool has_line(const char *body, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = body; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len == n && memcmp(p, line, n) == 0)
			return true;
		p = eol ? eol + 1 : NULL;
	}
	return false;
}

static size_t count_lines(const char *body, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (const char *p = body; p && *p;) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

static void send_inputs(const fd_config *cfg)
{
	it_send_hand_raises("obs", 0, LEADS);
	/* field 1 (event_id) says 16 bytes follow, 2 do: not an EngagementEvent */
	static const char junk[] = "\x0a\x10" "ab";
	it_produce(cfg->settings.topics.engagement, 0, "obs-junk", junk, 4, NULL, 0, NULL);
	fd_activity a = { .activity_id = "obs-a1", .lead_id = "obs-refused", .occurred_at_ms = IT_T0,
		              .rep_id = "rep-1", .kind = FD_ACT_ACCEPT };
	it_send_activity(&a);
}

/* Wait for the 20 transitions and the 2 dead letters. */
static void wait_outputs(const fd_config *cfg)
{
	it_reader *r = it_reader_outputs();
	const char *T = cfg->settings.topics.transitions, *D = cfg->settings.topics.dead_letters;
	IT_WAIT_UNTIL(r, IT_WAIT_MS,
	              it_reader_count_of(r, T, NULL) >= LEADS && it_reader_count_of(r, D, NULL) >= 2,
	              "%zu transitions, %zu dead letters", it_reader_count_of(r, T, NULL),
	              it_reader_count_of(r, D, NULL));
	it_reader_close(r);
}

Test(observability, metrics_of_a_real_run_count_exactly_and_pass_promtool)
{
	fd_config cfg;
	it_load_config(&cfg);
	it_proc *d = it_daemon_start(NULL);
	int port = it_admin_port(d, IT_WAIT_MS);
	send_inputs(&cfg);
	wait_outputs(&cfg);
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);

	/* the lag follows the commits at the next statistics */
	char *body = NULL;
	int64_t end = it_now_ms() + IT_WAIT_MS;
	for (;;) {
		free(body);
		body = scrape(port);
		if (has_line(body, "funneld_consumer_lag{topic=\"funneld.engagement\",partition=\"0\"} 0") &&
		    has_line(body, "funneld_consumer_lag{topic=\"funneld.engagement\",partition=\"1\"} 0"))
			break;
		it_check_daemons();
		cr_assert_lt(it_now_ms(), end, "no lag of 0 on both engagement partitions:\n%s", body);
		dur_sleep_ms(100);
	}
	static const char *const lines[] = {
		"funneld_transitions_total{from=\"LEAD\",to=\"MQL\",trigger=\"hand_raise\"} 20",
		"funneld_dead_letters_total{topic=\"funneld.engagement\",reason=\"undecodable\"} 1",
		"funneld_dead_letters_total{topic=\"funneld.activities\",reason=\"refused_transition\"} 1",
		"funneld_dead_letters_total{topic=\"funneld.engagement\",reason=\"invalid\"} 0",
		"funneld_records_consumed_total 22",
		"funneld_record_processing_seconds_count 22",
		"funneld_event_to_output_seconds_bucket{le=\"300\"} 1",
		"funneld_event_to_output_seconds_bucket{le=\"900\"} 21",
		"funneld_event_to_output_seconds_bucket{le=\"604800\"} 21",
		"funneld_event_to_output_seconds_bucket{le=\"+Inf\"} 22",
		"funneld_event_to_output_seconds_count 22",
		"funneld_ready 1",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		cr_assert(has_line(body, lines[i]), "missing line: %s\n%s", lines[i], body);
	cr_assert_eq(count_lines(body, "funneld_transitions_total{"), 1, "%s", body);
	cr_assert_eq(count_lines(body, "funneld_build_info{version=\"" FUNNELD_TEST_VERSION "\","), 1,
	             "%s", body);
	cr_assert_eq(count_lines(body, "process_start_time_seconds "), 1, "%s", body);

	/* promtool, and the names of monitoring/ against this scrape */
	char path[1024], cmd[2400];
	snprintf(path, sizeof path, "%s/metrics.txt", it_dir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(body, f);
	fclose(f);
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		const char *ci = getenv("CI");
		cr_assert(!ci || strcmp(ci, "true") != 0, "promtool missing in CI (scripts/deps.sh)");
		fprintf(stderr, "observability: promtool not installed (Debian package prometheus): "
		                "scripts/monitoring.sh skipped\n");
	} else {
		snprintf(cmd, sizeof cmd, "%s/scripts/monitoring.sh '%s' >&2", FUNNELD_SOURCE_DIR, path);
		int rc = system(cmd);
		cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "scripts/monitoring.sh failed on %s",
		          path);
	}
	free(body);
	it_stop_daemon(d);
	fd_config_free(&cfg);
}

/* Run the inputs, stop, and return the daemon's log. */
static char *log_of_a_run(const char *const *extra)
{
	fd_config cfg;
	it_load_config(&cfg);
	it_proc *d = it_daemon_start(extra);
	send_inputs(&cfg);
	wait_outputs(&cfg);
	it_stop_daemon(d);
	fd_config_free(&cfg);
	return it_proc_log(d);
}

Test(observability, lead_ids_are_redacted_in_the_log_by_default)
{
	char *log = log_of_a_run(NULL);
	fd_redact r;
	fd_redact_init(&r, true, it_group()); /* log.redact_key "": the group id */
	for (int i = 0; i < LEADS; i++) {
		char lead[32], tok[FD_REDACT_TOKEN_LEN + 1], want[128];
		it_lead_name(lead, sizeof lead, "obs", i);
		snprintf(want, sizeof want, "lead %s: LEAD -> MQL (hand_raise: demo_request)\n",
		         fd_redact_id(&r, lead, tok));
		cr_assert_not_null(strstr(log, want), "no \"%s\" in the log:\n%s", want, it_tail(log, 4000));
	}
	cr_assert_null(strstr(log, "obs-0"), "a lead id in the log:\n%s", it_tail(log, 4000));
	cr_assert_null(strstr(log, "obs-refused"), "a lead id in the log");
	free(log);
}

Test(observability, lead_ids_are_shown_when_redaction_is_off)
{
	const char *extra[] = { "log.redact_ids=false", NULL };
	char *log = log_of_a_run(extra);
	for (int i = 0; i < LEADS; i++) {
		char lead[32], want[128];
		it_lead_name(lead, sizeof lead, "obs", i);
		snprintf(want, sizeof want, "lead %s: LEAD -> MQL (hand_raise: demo_request)\n", lead);
		cr_assert_not_null(strstr(log, want), "no \"%s\" in the log:\n%s", want, it_tail(log, 4000));
	}
	free(log);
}
