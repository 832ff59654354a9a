/*
 * test_startup.c — what `funneld run` says and does while it starts: the
 * admin HTTP server on an ephemeral port (admin.port = 0, as the demo
 * uses) in one log line with the port it got; a configured admin port
 * that is already taken, which is a configuration error (exit 78,
 * EX_CONFIG, like any other), not a run-time one; and brokers that refuse
 * connections, which librdkafka reports twice a second: one line, then at
 * most one every 30 s with a count (the count itself is unit-tested in
 * tests/unit/test_ratelimit.c, with a fake clock).
 *
 * Not tested here: the admin endpoints (tests/unit/test_admin.c).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void init(void)
{
	it_setup(1);
}

TestSuite(startup, .init = init, .fini = it_teardown, .timeout = 120);

/* A listening socket on 127.0.0.1 and a port the kernel chose. */
static int listen_somewhere(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(fd, 1), 0);
	socklen_t len = sizeof sin;
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

Test(startup, admin_port_zero_takes_a_free_port_and_says_which_in_one_line)
{
	const char *extra[] = { "admin.address=127.0.0.1", "admin.port=0", NULL };
	it_proc *d = it_daemon_start(extra); /* check-config accepts it first */
	int port = it_admin_port(d, IT_WAIT_MS);
	cr_expect_gt(port, 0);

	/* the port answers */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_expect_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	close(fd);

	char line[128];
	snprintf(line, sizeof line,
	         "admin HTTP on http://127.0.0.1:%d/ (healthz, readyz, metrics, v1/leads/ID, "
	         "v1/funnel; at most 64 connections, 5000 ms each)\n",
	         port);
	cr_expect_eq(it_proc_log_count(d, line), 1);
	cr_expect_eq(it_proc_log_count(d, "admin HTTP"), 1, "%s", it_proc_log(d));
	it_stop_daemon(d);
}

Test(startup, admin_port_in_use_is_a_configuration_error)
{
	int port;
	int taken = listen_somewhere(&port);
	char o[64];
	snprintf(o, sizeof o, "admin.port=%d", port);
	const char *extra[] = { "admin.address=127.0.0.1", o, NULL };
	it_proc *d = it_daemon_start(extra);
	int status = 0;
	cr_assert(it_proc_wait_exit(d, IT_WAIT_MS, &status), "funneld run did not exit");
	cr_assert(WIFEXITED(status));
	cr_expect_eq(WEXITSTATUS(status), 78);
	char want[256];
	snprintf(want, sizeof want,
	         "admin HTTP: cannot listen on 127.0.0.1:%d: Address already in use (admin.address, "
	         "admin.port: 0 takes any free port, an empty address turns the server off)\n",
	         port);
	cr_expect_eq(it_proc_log_count(d, want), 1, "%s", it_proc_log(d));
	close(taken);
}

Test(startup, refused_connections_are_logged_once_not_twice_a_second)
{
	int port;
	close(listen_somewhere(&port)); /* a port nothing listens on */
	char o[64];
	snprintf(o, sizeof o, "kafka.bootstrap.servers=127.0.0.1:%d", port);
	const char *extra[] = { o, NULL };
	it_proc *d = it_daemon_start(extra);
	/* the daemon says it is waiting 5 s after it started; librdkafka has
	   retried the connection about ten times by then */
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	while (it_proc_log_count(d, "waiting for the brokers") == 0) {
		it_assert_running(d, "while the brokers are away");
		cr_assert_lt(it_now_ms(), deadline, "no 'waiting for the brokers' line");
		usleep(50 * 1000);
	}
	char *log = it_proc_log(d);
	cr_expect_eq(it_proc_log_count(d, "Connection refused"), 1, "%s", log);
	free(log);
	/* a stop while it waits for the brokers is not what this tests */
	it_proc_signal(d, SIGKILL);
	int status;
	cr_assert(it_proc_wait_exit(d, IT_WAIT_MS, &status));
}
