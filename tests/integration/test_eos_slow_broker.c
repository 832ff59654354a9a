/*
 * test_eos_slow_broker.c — exactly_once against a slow broker: the loop
 * never waits for a transaction's commit, nor for a restore's end.
 *
 * The broker answers every request 3 s late (dev-broker "rtt"), so one
 * commit (AddOffsetsToTxn, TxnOffsetCommit, AddPartitionsToTxn with the
 * produce, EndTxn) takes several round trips, about 10 s.
 *
 * a_slow_commit_never_freezes_the_loop: 60 hand raises arrive while the
 *   broker is slow. Verified: commits complete meanwhile (/metrics
 *   funneld_commits_total), /healthz answers every probe within
 *   HEALTH_MAX_MS (100 ms) throughout (measured: about 20 ms, under ASan
 *   on a loaded machine too; a loop that waits for the commit does not
 *   answer within dur_http_get's 5 s);
 *   SIGTERM, sent while a commit is in flight, finishes it and exits 0
 *   within processing.shutdown_timeout plus one round trip (the consumer's
 *   LeaveGroup) and a margin; a restart on a fast broker loses nothing and
 *   doubles nothing: a read_committed reader sees exactly one MQL
 *   transition per lead (the mock shows aborted records too, so an abort
 *   would show as a second copy), and a lead's next input after the
 *   restart meets the state the first run committed.
 *
 * a_restore_from_a_slow_broker_keeps_the_loop_turning: the state of 30
 *   leads is committed, the daemon stops, the broker turns slow and a new
 *   daemon restores the three partitions from the changelog. Verified:
 *   /healthz answers within HEALTH_MAX_MS from "funneld running" until
 *   every partition is restored and resumed (the restore used to wait for a
 *   watermark query, one round trip per partition), and the restored state
 *   is the committed one: an ACCEPT for each lead moves it MQL -> SAL.
 *
 * The mock broker only: Apache Kafka has no request-latency injection.
 */
#include "durability.h"
#include "harness.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "funneld/v1/outputs.pb-c.h"

#define PARTITIONS 3
#define RTT_MS 3000
#define SHUTDOWN_MS 20000
#define HEALTH_MAX_MS 100

/* the mock only: no cluster to start on Apache Kafka (the tests skip) */
static void init(void)
{
	if (it_real_broker())
		return;
	it_setup(PARTITIONS);
	it_override("processing.guarantee=exactly_once");
	it_override("processing.commit_interval=500ms");
	it_override("processing.shutdown_timeout=20s");
	it_override("admin.address=127.0.0.1");
	it_override("admin.port=0");
	/* heartbeats take one round trip each: a session well above it. The
	 * mock lets a successor join session.timeout - 1 s after the last
	 * member left (see test_sigterm) */
	it_override("kafka.session.timeout.ms=10000");
	it_override("kafka.heartbeat.interval.ms=1000");
	it_override("state.lead_ttl=0");
}

TestSuite(eos_slow_broker, .init = init, .fini = dur_teardown, .timeout = 300);

/* An ACCEPT by rep "rep-slow" for each lead PREFIX-from .. PREFIX-(to-1). */
static void send_accepts(const char *prefix, int from, int to)
{
	int64_t at = it_now_ms() - 60000;
	for (int i = from; i < to; i++) {
		char lead[32], id[64];
		it_lead_name(lead, sizeof lead, prefix, i);
		snprintf(id, sizeof id, "acc-%s", lead);
		fd_activity a = { .activity_id = id, .lead_id = lead, .occurred_at_ms = at,
			              .rep_id = "rep-slow", .kind = FD_ACT_ACCEPT };
		it_send_activity(&a);
	}
}

/* The to_stage of the n-th transition of `lead`. */
static int to_stage(const it_reader *r, const char *topic, const char *lead, size_t n)
{
	const it_msg *m = it_reader_nth(r, topic, lead, n);
	Funneld__V1__StageTransition *t =
		funneld__v1__stage_transition__unpack(NULL, m->len, m->value);
	cr_assert_not_null(t, "a transition of %s does not decode", lead);
	int stage = (int)t->to_stage;
	funneld__v1__stage_transition__free_unpacked(t, NULL);
	return stage;
}

#define LEADS 60

Test(eos_slow_broker, a_slow_commit_never_freezes_the_loop)
{
	it_require_mock("request latency injection (dev-broker rtt)");
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	it_reader *r = it_reader_outputs();

	it_proc *d = it_daemon_start(NULL);
	int port = it_admin_port(d, IT_WAIT_MS);
	it_send_hand_raises("warm", 0, 1);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, T, NULL) >= 1, "no first transition");

	it_broker_ok("rtt 1 3000");
	double c0 = dur_get_metric(port, "funneld_commits_total");
	it_send_hand_raises("slow", 0, LEADS);
	/* probes until two commits completed on the slow broker: one was in
	 * flight all along */
	int64_t worst = 0, give_up = dur_mono_ms() + 90000;
	int probes = 0;
	double c = c0;
	while (c < c0 + 2) {
		int64_t took = dur_healthz_ms(port);
		if (took > worst)
			worst = took;
		probes++;
		it_check_daemons();
		cr_assert_lt(dur_mono_ms(), give_up, "only %g commits in 90 s on the slow broker", c - c0);
		c = dur_get_metric(port, "funneld_commits_total");
		dur_sleep_ms(50);
	}
	fprintf(stderr, "eos_slow_broker: %d health probes during %g commits, the slowest answered "
	        "in %" PRId64 " ms\n", probes, c - c0, worst);
	cr_assert_lt(worst, HEALTH_MAX_MS, "/healthz took %" PRId64 " ms while a transaction "
	             "committed on the slow broker", worst);

	/* SIGTERM while the next commit is in flight (one starts every tick):
	 * it completes, within the deadline */
	int64_t t0 = dur_mono_ms();
	it_proc_signal(d, SIGTERM);
	int status = 0;
	bool exited = it_proc_wait_exit(d, SHUTDOWN_MS + 2 * RTT_MS + 10000, &status);
	int64_t took = dur_mono_ms() - t0;
	cr_assert(exited, "still running %" PRId64 " ms after SIGTERM", took);
	fprintf(stderr, "eos_slow_broker: SIGTERM to exit: %" PRId64 " ms\n", took);
	cr_assert_lt(took, SHUTDOWN_MS + RTT_MS + 2000, "SIGTERM took %" PRId64 " ms with a %d ms "
	             "shutdown timeout and a %d ms round trip", took, SHUTDOWN_MS, RTT_MS);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "status 0x%x, want exit 0 (the transaction in flight committed)", status);

	/* a restart on a fast broker: each lead's next input meets the
	 * committed state (MQL -> SAL), nothing is replayed twice */
	it_broker_ok("rtt 1 0");
	it_proc *d2 = it_daemon_start(NULL);
	send_accepts("slow", 0, LEADS);
	IT_WAIT_UNTIL(r, 120000, it_reader_count_of(r, T, NULL) >= (size_t)2 * LEADS + 1,
	              "%zu of %d transitions after the restart", it_reader_count_of(r, T, NULL),
	              2 * LEADS + 1);
	it_stop_daemon(d2);
	it_reader_poll_to_end(r, IT_WAIT_MS);
	cr_assert_eq(it_reader_count_of(r, T, "warm-0000"), 1, "warm-0000: %zu transitions",
	             it_reader_count_of(r, T, "warm-0000"));
	for (int i = 0; i < LEADS; i++) {
		char lead[32];
		it_lead_name(lead, sizeof lead, "slow", i);
		size_t n = it_reader_count_of(r, T, lead);
		cr_assert_eq(n, 2, "%s: %zu transitions, want its MQL and its SAL once each", lead, n);
		cr_assert_eq(to_stage(r, T, lead, 0), FUNNELD__V1__STAGE__STAGE_MQL, "%s", lead);
		cr_assert_eq(to_stage(r, T, lead, 1), FUNNELD__V1__STAGE__STAGE_SAL, "%s", lead);
	}
	it_reader_close(r);
	fd_config_free(&cfg);
}

#define RESTORED 30

Test(eos_slow_broker, a_restore_from_a_slow_broker_keeps_the_loop_turning)
{
	it_require_mock("request latency injection (dev-broker rtt)");
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	it_reader *r = it_reader_outputs();

	it_proc *d = it_daemon_start(NULL);
	it_send_hand_raises("rs", 0, RESTORED);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, T, NULL) >= RESTORED,
	              "%zu of %d transitions", it_reader_count_of(r, T, NULL), RESTORED);
	it_stop_daemon(d); /* the drain commits every state record */

	it_broker_ok("rtt 1 3000");
	it_proc *d2 = it_daemon_start(NULL);
	int port = it_admin_port(d2, IT_WAIT_MS);
	/* the loop turns from "funneld running" on (start-up itself waits
	 * for the brokers, before the loop) */
	int64_t deadline = dur_mono_ms() + 120000;
	while (it_proc_log_count(d2, "funneld running") == 0) {
		it_assert_running(d2, "starting on the slow broker");
		cr_assert_lt(dur_mono_ms(), deadline, "no 'funneld running' line within 120 s");
		dur_sleep_ms(20);
	}
	int64_t worst = 0;
	int probes = 0;
	while (it_proc_log_count(d2, "restored partition(s) resumed") == 0) {
		int64_t took = dur_healthz_ms(port);
		if (took > worst)
			worst = took;
		probes++;
		it_assert_running(d2, "restoring on the slow broker");
		cr_assert_lt(dur_mono_ms(), deadline, "not restored within 120 s");
		dur_sleep_ms(50);
	}
	char *log = it_proc_log(d2);
	size_t restored = dur_count_lines(log, ": restored ");
	free(log);
	fprintf(stderr, "eos_slow_broker: %d health probes during the restore of %zu partitions, "
	        "the slowest answered in %" PRId64 " ms\n", probes, restored, worst);
	cr_assert_eq(restored, PARTITIONS, "%zu partitions restored, want %d", restored, PARTITIONS);
	cr_assert_lt(worst, HEALTH_MAX_MS, "/healthz took %" PRId64 " ms during a restore from the "
	             "slow broker", worst);

	/* the restored state is the committed one */
	it_broker_ok("rtt 1 0");
	send_accepts("rs", 0, RESTORED);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, T, NULL) >= 2 * RESTORED,
	              "%zu of %d transitions after the restore", it_reader_count_of(r, T, NULL),
	              2 * RESTORED);
	it_stop_daemon(d2);
	it_reader_poll_to_end(r, IT_WAIT_MS);
	for (int i = 0; i < RESTORED; i++) {
		char lead[32];
		it_lead_name(lead, sizeof lead, "rs", i);
		size_t n = it_reader_count_of(r, T, lead);
		cr_assert_eq(n, 2, "%s: %zu transitions, want its MQL and its SAL once each", lead, n);
		cr_assert_eq(to_stage(r, T, lead, 1), FUNNELD__V1__STAGE__STAGE_SAL,
		             "%s: the ACCEPT after the restore did not make it SAL", lead);
	}
	it_reader_close(r);
	fd_config_free(&cfg);
}
