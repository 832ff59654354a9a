/*
 * test_kafka_group.c — real broker only: the consumer group with Kafka's
 * own coordinator, under the shipped config (cooperative-sticky, the
 * shipped session timeout).
 *
 *  - a second instance that joins gets partitions by revocation from the
 *    first (cooperative), restores them and processes them within JOIN_MS
 *    of its start;
 *  - an instance that stops heartbeating (SIGSTOP: alive but silent) loses
 *    its partitions when its session runs out; the survivor restores them
 *    and processes what arrives on them; the frozen one, resumed, stops
 *    cleanly.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define PARTITIONS 4
#define BATCH 40
#define JOIN_MS 30000      /* stated bound: the joiner processes within this */
#define TAKEOVER_MS 90000  /* the shipped session timeout (45 s) plus a restore */

static void init(void)
{
	it_setup(PARTITIONS);
}

TestSuite(kafka_group, .init = init, .fini = it_teardown, .timeout = 300);

static int leads_done(const it_reader *r, const char *T, int from, int to)
{
	int n = 0;
	for (int i = from; i < to; i++) {
		char lead[32];
		it_lead_name(lead, sizeof lead, "grp", i);
		n += it_reader_count_of(r, T, lead) > 0;
	}
	return n;
}

/* How many times `needle` occurs in p's log. */
static int log_count(const it_proc *p, const char *needle)
{
	char *log = it_proc_log(p);
	int n = 0;
	for (const char *at = log; (at = strstr(at, needle)) != NULL; at += strlen(needle))
		n++;
	free(log);
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

Test(kafka_group, joiner_takes_partitions_incrementally_and_a_silent_member_is_replaced)
{
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	it_reader *r = it_reader_outputs();
	it_proc *a = it_daemon_start(NULL);
	it_send_hand_raises("grp", 0, BATCH);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_done(r, T, 0, BATCH) == BATCH, "first instance: %d of %d",
	              leads_done(r, T, 0, BATCH), BATCH);

	/* a second member joins: it is processing within JOIN_MS */
	int64_t t_join = it_now_ms();
	it_proc *b = it_daemon_start(NULL);
	int64_t deadline = t_join + JOIN_MS;
	while (log_count(b, "restored partition(s) resumed") == 0) {
		cr_assert_lt(it_now_ms(), deadline, "the second member was not processing %d ms after "
		             "its start", JOIN_MS);
		it_check_daemons();
		sleep_ms(100);
	}
	int64_t joined_ms = it_now_ms() - t_join;
	/* Incremental: the first member gives partitions up by revocation. It
	 * may also report the rest "lost" a moment later: librdkafka 2.0.2
	 * (Debian 12) takes an offset commit refused with ILLEGAL_GENERATION
	 * during the follow-up rebalance for a lost assignment (see the issue
	 * notes); those partitions are then restored by whoever gets them, and
	 * nothing is lost either way, as the counts below check. */
	cr_assert_gt(log_count(a, "revoked: "), 0, "the first member gave nothing up");
	fprintf(stderr, "group: the first member reported %d lost assignment(s) during the join\n",
	        log_count(a, "lost: "));
	it_send_hand_raises("grp", BATCH, 2 * BATCH);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_done(r, T, BATCH, 2 * BATCH) == BATCH,
	              "two members: %d of %d", leads_done(r, T, BATCH, 2 * BATCH), BATCH);
	fprintf(stderr, "group: the second member processed %" PRId64 " ms after its start\n",
	        joined_ms);

	/* the first member goes silent: the survivor takes everything over */
	int64_t t_stop = it_now_ms();
	it_proc_signal(a, SIGSTOP);
	it_send_hand_raises("grp", 2 * BATCH, 3 * BATCH);
	deadline = t_stop + TAKEOVER_MS;
	while (leads_done(r, T, 2 * BATCH, 3 * BATCH) < BATCH) {
		cr_assert_lt(it_now_ms(), deadline, "%d of %d leads processed %d ms after the first "
		             "member went silent", leads_done(r, T, 2 * BATCH, 3 * BATCH), BATCH,
		             TAKEOVER_MS);
		it_assert_running(b, "taking over");
		it_reader_poll(r, 200);
	}
	fprintf(stderr, "group: the survivor took over %" PRId64 " ms after the first member went "
	        "silent\n", it_now_ms() - t_stop);
	cr_assert_gt(log_count(b, "restored partition(s) resumed"), 1, "no second restore");

	int status = 0;
	it_proc_signal(a, SIGCONT);
	it_proc_signal(a, SIGTERM);
	cr_assert(it_proc_wait_exit(a, IT_WAIT_MS, &status) && WIFEXITED(status),
	          "the resumed member did not exit (0x%x)", status);
	it_send_hand_raises("grp", 3 * BATCH, 4 * BATCH);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, leads_done(r, T, 3 * BATCH, 4 * BATCH) == BATCH,
	              "after the first member left: %d of %d", leads_done(r, T, 3 * BATCH, 4 * BATCH),
	              BATCH);
	it_stop_daemon(b);
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);
	it_reader_close(r);
	fd_config_free(&cfg);
}
