/*
 * test_kafka_brokers.c — real broker only: a three-node cluster with every
 * topic replicated three times; one node killed with kill -9 mid-stream,
 * then restarted, changes nothing a consumer of the outputs can see: every
 * lead gets its transition exactly once, the daemon never stops, and every
 * input offset ends up committed. (All nodes down at once is
 * kafka/test_broker_outage, on one node.)
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define PHASE 100 /* leads per phase */

static void init(void)
{
	it_setup_brokers(3, 3);
}

TestSuite(kafka_brokers, .init = init, .fini = it_teardown, .timeout = 300);

static void expect_each_once(it_reader *r, const char *T, int n, const char *when)
{
	IT_WAIT_UNTIL(r, 60000, it_reader_count_of(r, T, NULL) >= (size_t)n,
	              "%s: %zu of %d transitions", when, it_reader_count_of(r, T, NULL), n);
	it_reader_poll_to_end(r, IT_WAIT_MS);
	for (int i = 0; i < n; i++) {
		char lead[32];
		it_lead_name(lead, sizeof lead, "rf3", i);
		cr_assert_eq(it_reader_count_of(r, T, lead), 1, "%s: %s has %zu transitions, want 1",
		             when, lead, it_reader_count_of(r, T, lead));
	}
}

Test(kafka_brokers, one_of_three_nodes_killed_and_restarted_changes_nothing_visible)
{
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	it_proc *d = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();
	it_send_hand_raises("rf3", 0, PHASE);
	expect_each_once(r, T, PHASE, "three nodes");

	it_broker_ok("down 2"); /* kill -9 */
	it_send_hand_raises("rf3", PHASE, 2 * PHASE);
	expect_each_once(r, T, 2 * PHASE, "node 2 down");
	it_assert_running(d, "with node 2 down");

	it_broker_ok("up 2");
	it_send_hand_raises("rf3", 2 * PHASE, 3 * PHASE);
	expect_each_once(r, T, 3 * PHASE, "node 2 back");
	it_wait_committed_at_end(it_group(), 60000);
	cr_assert_eq(it_distinct_header(r, T, "ce_id"), (size_t)(3 * PHASE));

	it_stop_daemon(d);
	it_reader_close(r);
	fd_config_free(&cfg);
}
