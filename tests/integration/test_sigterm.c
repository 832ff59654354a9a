/*
 * test_sigterm.c — SIGTERM stops funneld cleanly: it stops consuming,
 * flushes its outputs, commits and exits 0, so that nothing is lost and
 * a successor in the same group resumes exactly where it stopped.
 *
 * The commit interval is set to 60 s here, longer than each test, so the
 * commit observed after the stop is the drain's own, not a periodic one.
 * The restart test checks the successor really took over: the leads it
 * must finish are produced after the first daemon was told to stop.
 */
#include "harness.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "funneld/v1/outputs.pb-c.h"

static void init(void)
{
	it_setup(3);
	it_override("processing.commit_interval=60s");
	/* librdkafka 2.0.2's mock keeps a group that its last member left
	 * "joining" for session.timeout.ms - 1 s before it answers the next
	 * JoinGroup (a real broker answers after group.initial.rebalance.delay):
	 * a short session timeout keeps the successor's wait short */
	it_override("kafka.session.timeout.ms=6000");
}

TestSuite(sigterm, .init = init, .fini = it_teardown, .timeout = 150);

static void lead_name(char *out, size_t size, int i)
{
	snprintf(out, size, "term-%03d", i);
}

/* Demo requests from leads term-FROM .. term-(TO-1). */
static void produce_leads(const char *topic, int from, int to, bool sync)
{
	const int64_t at = it_now_ms() - 10 * 60000;
	for (int i = from; i < to; i++) {
		char lead[32], id[48];
		lead_name(lead, sizeof lead, i);
		snprintf(id, sizeof id, "ev-%s", lead);
		fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at + i,
		                     .type = "demo_request", .channel = "web", .content_id = "demo-form" };
		it_bytes b = it_pb_engagement(&ev);
		if (sync)
			it_produce(topic, IT_PARTITION_BY_KEY, lead, b.data, b.len, NULL, 0, NULL);
		else
			it_produce_async(topic, IT_PARTITION_BY_KEY, lead, b.data, b.len);
		free(b.data);
	}
	if (!sync)
		it_flush(IT_WAIT_MS);
}

static int leads_with(const it_reader *r, const char *topic, int n)
{
	int done = 0;
	for (int i = 0; i < n; i++) {
		char lead[32];
		lead_name(lead, sizeof lead, i);
		done += it_reader_count_of(r, topic, lead) > 0;
	}
	return done;
}

/* Wait (bounded) for a SIGTERMed daemon to exit 0. */
static void expect_exit_0(it_proc *d)
{
	int64_t t0 = it_now_ms();
	int status = 0;
	bool exited = it_proc_wait_exit(d, IT_WAIT_MS, &status);
	char *log = it_proc_log(d);
	cr_assert(exited, "funneld run still running %d ms after SIGTERM; log tail:\n%s", IT_WAIT_MS,
	          it_tail(log, 4000));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "funneld run after SIGTERM: status 0x%x (want exit 0); log tail:\n%s", status,
	          it_tail(log, 4000));
	fprintf(stderr, "sigterm: exited 0 %" PRId64 " ms after SIGTERM\n", it_now_ms() - t0);
	free(log);
}

static void stop_and_expect_exit_0(it_proc *d)
{
	it_assert_running(d, "before SIGTERM");
	it_proc_signal(d, SIGTERM);
	expect_exit_0(d);
}

/* The last LeadScore of lead i shows MQL? */
static bool score_is_mql(const it_reader *r, const char *topic, int i)
{
	char lead[32];
	lead_name(lead, sizeof lead, i);
	size_t n = it_reader_count_of(r, topic, lead);
	if (n == 0)
		return false;
	const it_msg *m = it_reader_nth(r, topic, lead, n - 1);
	Funneld__V1__LeadScore *s = funneld__v1__lead_score__unpack(NULL, m->len, m->value);
	if (!s)
		return false;
	bool ok = s->stage == FUNNELD__V1__STAGE__STAGE_MQL && strcmp(s->lead_id, lead) == 0;
	funneld__v1__lead_score__free_unpacked(s, NULL);
	return ok;
}

static int scores_mql(const it_reader *r, const char *topic, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += score_is_mql(r, topic, i);
	return k;
}

Test(sigterm, sigterm_after_processing_commits_and_exits_0)
{
	fd_config cfg;
	it_load_config(&cfg);
	it_proc *d = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();
	produce_leads(cfg.settings.topics.engagement, 0, 6, true);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_with(r, cfg.settings.topics.transitions, 6) == 6,
	              "%d of 6 transitions within %d ms", leads_with(r, cfg.settings.topics.transitions, 6),
	              IT_WAIT_MS);

	stop_and_expect_exit_0(d);
	char diag[2048];
	cr_assert(it_committed_at_end(it_group(), diag, sizeof diag),
	          "after a clean stop, committed offsets are not at the end: %s", diag);
	it_reader_close(r);
	fd_config_free(&cfg);
}

/* Committing the inputs means their outputs are out, LeadScores included:
 * with a 60 s commit interval no periodic snapshot ran, so the drain must
 * emit them. */
Test(sigterm, sigterm_flushes_pending_lead_scores)
{
	fd_config cfg;
	it_load_config(&cfg);
	it_proc *d = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();
	produce_leads(cfg.settings.topics.engagement, 0, 6, true);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_with(r, cfg.settings.topics.transitions, 6) == 6,
	              "%d of 6 transitions within %d ms", leads_with(r, cfg.settings.topics.transitions, 6),
	              IT_WAIT_MS);
	stop_and_expect_exit_0(d);
	IT_WAIT_UNTIL(r, 10000, scores_mql(r, cfg.settings.topics.scores, 6) == 6,
	              "after SIGTERM, %d of 6 leads have a LeadScore showing MQL",
	              scores_mql(r, cfg.settings.topics.scores, 6));
	it_reader_close(r);
	fd_config_free(&cfg);
}

/* SIGTERM while inputs are still arriving and outputs are in flight (the
 * mock answers with 100 ms of added latency; a real broker cannot be slowed,
 * there the second half of the inputs still arrives while the daemon
 * drains): exit 0; a successor in the
 * same group finishes the job; every lead gets its transition, copies are
 * byte-identical, and the offsets end up committed at the end. */
Test(sigterm, sigterm_mid_stream_then_restart_loses_nothing)
{
	enum { N = 300, HALF = N / 2 };
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	if (!it_real_broker())
		it_broker_ok("rtt 1 100");
	it_proc *d = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();
	produce_leads(cfg.settings.topics.engagement, 0, HALF, false);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_with(r, T, N) >= 1, "no transition within %d ms", IT_WAIT_MS);
	it_proc_signal(d, SIGTERM);
	produce_leads(cfg.settings.topics.engagement, HALF, N, false); /* while it drains */
	expect_exit_0(d);
	it_reader_poll(r, 500);
	fprintf(stderr, "sigterm: %d of %d leads done before the stop\n", leads_with(r, T, N), N);

	if (!it_real_broker())
		it_broker_ok("rtt 1 0");
	it_proc *d2 = it_daemon_start(NULL);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_with(r, T, N) == N,
	              "after the restart, %d of %d leads have their transition", leads_with(r, T, N), N);
	it_reader_poll(r, 500);
	it_assert_running(d2, "after the restart");
	cr_assert_eq(it_distinct_header(r, T, "ce_id"), N, "%zu distinct transitions, want %d",
	             it_distinct_header(r, T, "ce_id"), N);
	for (int i = 0; i < N; i++) {
		char lead[32];
		lead_name(lead, sizeof lead, i);
		size_t n = it_reader_count_of(r, T, lead);
		const it_msg *first = it_reader_nth(r, T, lead, 0);
		for (size_t k = 1; k < n; k++) {
			const it_msg *m = it_reader_nth(r, T, lead, k);
			cr_assert(m->len == first->len && memcmp(m->value, first->value, m->len) == 0,
			          "%s: replayed transition differs from the first", lead);
		}
	}
	stop_and_expect_exit_0(d2);
	it_wait_committed_at_end(it_group(), 5000);
	it_reader_close(r);
	fd_config_free(&cfg);
}
