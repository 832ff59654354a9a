/*
 * test_kafka_fencing.c — real broker only: a second funneld started with
 * the same transactional id fences the first. The first stops without
 * committing and exits non-zero; nothing it produced after the fence is
 * visible to a read_committed consumer; its group's offsets stay where its
 * last committed transaction left them; the second instance, restoring the
 * first one's committed state from the changelog, produces every output
 * exactly once across the fence.
 *
 * The second instance runs in a group of its own, so both read every input
 * and the only thing they share is the transactional id (the mock cannot
 * show any of this: it does not fence, DESIGN section 9).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 10 /* leads per phase */

static void init(void)
{
	it_setup(2);
	it_override("processing.guarantee=exactly_once");
	/* both instances must share it: that is the misconfiguration under test */
	it_override("processing.transactional_id=it-fence-%d", (int)getpid());
}

TestSuite(kafka_fencing, .init = init, .fini = it_teardown, .timeout = 240);

static bool log_has(const it_proc *p, const char *needle)
{
	char *log = it_proc_log(p);
	bool has = log && strstr(log, needle) != NULL;
	free(log);
	return has;
}

Test(kafka_fencing, second_instance_with_the_same_transactional_id_fences_the_first)
{
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	it_proc *a = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();
	it_send_hand_raises("fence", 0, N);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, T, NULL) == N, "%zu of %d transitions from the "
	              "first instance", it_reader_count_of(r, T, NULL), N);

	char group_b[256];
	snprintf(group_b, sizeof group_b, "kafka.group.id=%s-b", it_group());
	const char *extra[] = { group_b, NULL };
	it_proc *b = it_daemon_start(extra);
	/* init_transactions, which fences the first instance, precedes this line */
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	while (!log_has(b, "funneld running")) {
		cr_assert_lt(it_now_ms(), deadline, "the second instance did not start within %d ms",
		             IT_WAIT_MS);
		it_assert_running(b, "starting");
		struct timespec ms100 = { 0, 100 * 1000 * 1000 };
		nanosleep(&ms100, NULL);
	}
	it_send_hand_raises("fence", N, 2 * N);

	int status = 0;
	cr_assert(it_proc_wait_exit(a, IT_WAIT_MS, &status),
	          "the fenced instance still runs %d ms after the second one started", IT_WAIT_MS);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0,
	          "the fenced instance exited with status 0x%x, want a non-zero exit", status);
	char *log = it_proc_log(a);
	cr_assert(strstr(log, "fatal") != NULL, "the fenced instance never said 'fatal':\n%s",
	          it_tail(log, 3000));
	free(log);

	/* the second instance restored the first one's committed state from the
	 * shared changelog, so phase 1 replays as duplicates: each lead has
	 * exactly one transition, phase 2's from the second instance only (the
	 * first instance's were in a fenced transaction, never visible) */
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, T, NULL) >= 2 * N,
	              "%zu transitions, want %d", it_reader_count_of(r, T, NULL), 2 * N);
	it_reader_poll_to_end(r, IT_WAIT_MS);
	for (int i = 0; i < 2 * N; i++) {
		char lead[32];
		it_lead_name(lead, sizeof lead, "fence", i);
		cr_assert_eq(it_reader_count_of(r, T, lead), 1, "%s: %zu transitions, want exactly 1",
		             lead, it_reader_count_of(r, T, lead));
	}
	cr_assert_eq(it_distinct_header(r, T, "ce_id"), (size_t)(2 * N));
	/* the fenced group never committed phase 2; the second group did */
	char diag[512];
	cr_assert(!it_committed_at_end(it_group(), diag, sizeof diag),
	          "the fenced instance's group committed phase 2");
	char gb[256];
	snprintf(gb, sizeof gb, "%s-b", it_group());
	it_wait_committed_at_end(gb, IT_WAIT_MS);
	it_stop_daemon(b);
	it_reader_close(r);
	fd_config_free(&cfg);
}
