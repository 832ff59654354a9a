/*
 * test_start.c — funneld started while no broker answers: the loop runs
 * from the first moment, so /readyz says what it waits for, SIGTERM is
 * served at once, and the daemon starts by itself when the brokers come.
 *
 * The shipped config, with the admin server on (an ephemeral port): the
 * harness turns it off by default.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "durability.h"

static void init(void)
{
	it_setup(3);
}

TestSuite(start, .init = init, .fini = it_teardown, .timeout = 180);

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static const char *const admin_on[] = { "admin.address=127.0.0.1", "admin.port=0", NULL };

/* GET /readyz: the status, and whether the body says `needle`. */
static int readyz(int port, const char *needle, bool *says)
{
	char *body = NULL;
	int status = dur_http_get(port, "/readyz", &body);
	*says = body && strstr(body, needle) != NULL;
	free(body);
	return status;
}

/* No broker answers: /readyz answers 503 with what it waits for, and
 * SIGTERM ends the daemon within 2 s, exit status 0 (nothing to commit). */
Test(start, with_no_broker_the_daemon_answers_and_stops_at_once)
{
	it_broker_ok("down 1");
	it_proc *d = it_daemon_start(admin_on);
	int port = it_admin_port(d, IT_WAIT_MS);
	cr_assert_gt(port, 0, "no admin port in the log");
	bool says = false;
	int status = 0;
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	/* the first attempt's answer (at most a second) names the brokers */
	while (!((status = readyz(port, "waiting for the brokers", &says)) == 503 && says) &&
	       it_now_ms() < deadline)
		pause_ms(50);
	cr_assert_eq(status, 503);
	cr_assert(says, "/readyz does not say it waits for the brokers");
	cr_assert_geq(it_proc_log_count(d, "waiting for the brokers"), 1);
	int64_t t0 = it_now_ms();
	it_proc_signal(d, SIGTERM);
	int st = -1;
	cr_assert(it_proc_wait_exit(d, 2000, &st), "still running 2 s after SIGTERM");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	cr_log_info("SIGTERM while waiting for the brokers: out in %lld ms",
	            (long long)(it_now_ms() - t0));
	it_broker_ok("up 1");
}

/* The brokers come after the daemon: it starts by itself, reads the input
 * that waited, and /readyz turns 200. */
Test(start, the_daemon_starts_when_the_brokers_come)
{
	it_broker_ok("down 1");
	it_proc *d = it_daemon_start(admin_on);
	int port = it_admin_port(d, IT_WAIT_MS);
	cr_assert_gt(port, 0);
	bool says = false;
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	while (!(readyz(port, "waiting for the brokers", &says) == 503 && says) &&
	       it_now_ms() < deadline)
		pause_ms(50);
	cr_assert(says, "/readyz does not say it waits for the brokers");
	it_assert_running(d, "while no broker answered");
	it_broker_ok("up 1");
	it_reader *rd = it_reader_outputs();
	it_send_hand_raises("late", 0, 3);
	fd_config cfg;
	it_load_config(&cfg);
	const char *T = cfg.settings.topics.transitions;
	IT_WAIT_UNTIL(rd, IT_WAIT_MS, it_reader_count_of(rd, T, NULL) == 3,
	              "%zu of 3 MQLs after the brokers came", it_reader_count_of(rd, T, NULL));
	deadline = it_now_ms() + IT_WAIT_MS;
	while (readyz(port, "\"ready\":true", &says) != 200 && it_now_ms() < deadline)
		pause_ms(50);
	cr_assert(says, "/readyz is not 200 once running");
	it_stop_daemon(d);
	it_reader_close(rd);
	fd_config_free(&cfg);
}
