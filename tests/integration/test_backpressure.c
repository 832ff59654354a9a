/*
 * test_backpressure.c — a slow broker never freezes the loop.
 *
 * The broker answers every request 3 s late (dev-broker "rtt") and the
 * producer's queue is small, so the outputs of 1,000 demo requests cannot
 * all wait in it: funneld stops reading inputs while its queue is half
 * full instead of spinning on a full one, and /healthz keeps answering
 * (measured throughout; the target is 100 ms, asserted with a margin for a
 * loaded CI machine: 1 s, where the spinning loop took 15 s and more).
 * SIGTERM then exits within processing.shutdown_timeout plus one round trip
 * to the broker (the consumer's LeaveGroup), with status 1: not every
 * output was acknowledged, and those inputs stay uncommitted. A restart on
 * a fast broker loses nothing: every lead has its MQL.
 *
 * Overrides, each the subject of the test: kafka.queue.buffering.max.messages
 * (a queue the burst overflows), processing.shutdown_timeout (2 s, a
 * deadline shorter than one slow round trip), admin on (the health probe).
 * The mock broker only: Apache Kafka has no request-latency injection.
 */
#include "durability.h"
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define PARTITIONS 3
#define LEADS 1000

static void init(void)
{
	it_setup(PARTITIONS);
	it_override("kafka.queue.buffering.max.messages=400");
	it_override("processing.shutdown_timeout=2s");
	it_override("admin.address=127.0.0.1");
	it_override("admin.port=0");
	/* the shipped session timeout stays: 3 s heartbeats would time out a
	 * short one. The successor then waits up to ~44 s for the mock to let
	 * it join (see test_sigterm) */
}

TestSuite(backpressure, .init = init, .fini = it_teardown, .timeout = 240);

Test(backpressure, a_slow_broker_and_a_small_queue_never_freeze_the_loop)
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
	it_send_hand_raises("bp", 0, LEADS);
	/* ten seconds of health probes while the burst meets the slow broker */
	int64_t worst = 0, end = dur_mono_ms() + 10000;
	int probes = 0;
	while (dur_mono_ms() < end) {
		int64_t took = dur_healthz_ms(port);
		if (took > worst)
			worst = took;
		probes++;
		it_check_daemons();
		dur_sleep_ms(100);
	}
	fprintf(stderr, "backpressure: %d health probes, the slowest answered in %" PRId64 " ms\n",
	        probes, worst);
	cr_assert_lt(worst, 1000, "/healthz took %" PRId64 " ms while the broker was slow", worst);
	char *log = it_proc_log(d);
	cr_assert(strstr(log, "backpressure: ") != NULL, "the queue never filled: no backpressure");
	free(log);

	/* SIGTERM with outputs still in flight: out within the deadline. Sent
	 * right after a pause begins, i.e. right after a batch went to the
	 * broker: its acknowledgement is a 3 s round trip away, beyond the 2 s
	 * shutdown timeout. (Sent at a random moment, the batch could be
	 * acknowledged inside the timeout: the drain then completes and
	 * commits, a different path, one round trip per step.) */
	size_t pauses = it_proc_log_count(d, "reading inputs paused");
	int64_t wait_end = dur_mono_ms() + 15000;
	while (it_proc_log_count(d, "reading inputs paused") == pauses) {
		cr_assert_lt(dur_mono_ms(), wait_end, "no new backpressure pause within 15 s");
		dur_sleep_ms(10);
	}
	int64_t t0 = dur_mono_ms();
	it_proc_signal(d, SIGTERM);
	int status = 0;
	cr_assert(it_proc_wait_exit(d, 15000, &status), "still running 15 s after SIGTERM");
	int64_t took = dur_mono_ms() - t0;
	/* the timeout, then the consumer's close: the answer to the final
	 * commit of what was acknowledged and leaving the group, up to two
	 * round trips (measured: 6.0 s in all) */
	cr_assert_lt(took, 2000 + 2 * 3000 + 1000, "SIGTERM took %" PRId64 " ms with a 2 s "
	             "shutdown timeout and a 3 s round trip", took);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	          "status 0x%x, want exit 1 (outputs left unacknowledged)", status);

	/* a restart on a fast broker: nothing lost */
	it_broker_ok("rtt 1 0");
	it_proc *d2 = it_daemon_start(NULL);
	IT_WAIT_UNTIL(r, 120000, it_reader_count_of(r, T, NULL) >= (size_t)LEADS + 1,
	              "%zu of %d transitions after the restart", it_reader_count_of(r, T, NULL),
	              LEADS + 1);
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);
	it_stop_daemon(d2);
	it_reader_poll_to_end(r, IT_WAIT_MS);
	for (int i = 0; i < LEADS; i++) {
		char lead[32];
		it_lead_name(lead, sizeof lead, "bp", i);
		cr_assert_geq(it_reader_count_of(r, T, lead), 1, "%s lost its MQL", lead);
	}
	it_reader_close(r);
	fd_config_free(&cfg);
}
