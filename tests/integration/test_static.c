/*
 * test_static.c — static group membership (issue 11 item 5): a daemon
 * killed and started again with the same group.instance.id gets its
 * partitions back at once, without waiting for its former self's session
 * to time out (the shipped config leaves librdkafka's 45 s), and processes.
 *
 * As a systemd service funneld takes "HOST-UNIT" as its group.instance.id
 * by default; the harness's daemons are not services, so the test names
 * one (kafka.group.instance.id), which is what that default amounts to.
 * Apache Kafka only: librdkafka 2.0.2's mock cluster does not implement
 * static membership.
 */
#include "harness.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PARTITIONS 4
#define SESSION_MS 45000 /* librdkafka's session.timeout.ms, which the shipped config keeps */

static void init(void)
{
	it_setup(PARTITIONS);
	it_override("kafka.group.instance.id=it-static-1");
}

TestSuite(static_membership, .init = init, .fini = it_teardown, .timeout = 240);

/* Wait until `d` logged `n` lines containing `needle`; ms it took. */
static int64_t wait_log(it_proc *d, const char *needle, size_t n)
{
	int64_t t0 = it_now_ms();
	while (it_proc_log_count(d, needle) < n) {
		it_assert_running(d, needle);
		cr_assert_lt(it_now_ms() - t0, 2 * SESSION_MS, "no %zu \"%s\" lines within %d ms", n,
		             needle, 2 * SESSION_MS);
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return it_now_ms() - t0;
}

Test(static_membership, a_killed_instance_gets_its_partitions_back_at_once)
{
	if (!it_real_broker())
		cr_skip_test("librdkafka 2.0.2's mock cluster has no static membership");
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	it_reader *r = it_reader_outputs();

	it_proc *d = it_daemon_start(NULL);
	wait_log(d, "restored", PARTITIONS);
	it_send_hand_raises("st-a", 0, 20);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, T, NULL) >= 20, "first transitions");

	it_proc_signal(d, SIGKILL);
	cr_assert(it_proc_wait_exit(d, IT_WAIT_MS, NULL));

	it_proc *d2 = it_daemon_start(NULL);
	int64_t took = wait_log(d2, "restored", PARTITIONS);
	fprintf(stderr, "static: partitions back %" PRId64 " ms after the restart\n", took);
	/* without static membership the group waits for the killed member's
	   session (45 s) before it assigns its partitions to anyone */
	cr_expect_lt(took, SESSION_MS / 3, "partitions back after %" PRId64 " ms", took);
	it_send_hand_raises("st-b", 0, 20);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, T, NULL) >= 40, "transitions after the restart");
	it_stop_daemon(d2);
	it_reader_close(r);
	fd_config_free(&cfg);
}
