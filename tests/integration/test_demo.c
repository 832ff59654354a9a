/*
 * test_demo.c — `funneld demo`, the newcomer's first command, run as a
 * process: with no Kafka and no config it shows MQLs, handoffs to sales and
 * SLA breaches, prints the summary and exits 0, whether it ends by
 * --duration or by Ctrl-C.
 *
 * A smoke test of the whole assembly (mock cluster, traffic, sales team,
 * daemon, feed); the numbers themselves are not pinned, the feed's shape
 * is. Not tested here: the daemon's guarantees (the other integration
 * tests) or the personas' exact counts.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct demo_run {
	pid_t pid;
	int out;          /* the demo's stdout */
	char *text;       /* everything read so far, NUL-terminated */
	size_t len, cap;
	int status;       /* wait status once exited */
	bool exited;
} demo_run;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start `funneld demo ARGS...`; stderr goes to FUNNELD_BINARY_DIR/NAME.stderr. */
static void demo_start(demo_run *r, const char *name, char *const argv[])
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	char errlog[1024];
	snprintf(errlog, sizeof errlog, "%s/%s.stderr", FUNNELD_BINARY_DIR, name);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errlog, O_WRONLY | O_CREAT | O_TRUNC,
	                                 0644);
	memset(r, 0, sizeof *r);
	int rc = posix_spawn(&r->pid, FUNNELD_BIN, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	cr_assert_eq(rc, 0, "spawn %s: %s", FUNNELD_BIN, strerror(rc));
	r->out = p[0];
	r->cap = 1 << 16;
	r->text = calloc(1, r->cap);
	cr_assert_not_null(r->text);
}

/* Read what the demo printed for at most `ms`, until `want` appears (NULL:
 * until it exits). Returns true when `want` was seen (or the demo exited). */
static bool demo_read(demo_run *r, const char *want, int64_t ms)
{
	int64_t deadline = mono_ms() + ms;
	while (!(want && strstr(r->text, want))) {
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return false;
		struct pollfd pfd = { r->out, POLLIN, 0 };
		int n = poll(&pfd, 1, (int)(left < 1000 ? left : 1000));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		if (r->len + 4096 + 1 > r->cap) {
			r->cap *= 2;
			r->text = realloc(r->text, r->cap);
			cr_assert_not_null(r->text);
		}
		ssize_t got = read(r->out, r->text + r->len, 4096);
		if (got <= 0) { /* EOF: the demo closed stdout, i.e. exited */
			cr_assert_eq(waitpid(r->pid, &r->status, 0), r->pid);
			r->exited = true;
			return want == NULL || strstr(r->text, want) != NULL;
		}
		r->len += (size_t)got;
		r->text[r->len] = '\0';
	}
	return true;
}

static void demo_finish(demo_run *r)
{
	if (!r->exited) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &r->status, 0);
	}
	close(r->out);
	free(r->text);
}

/* At least one line containing `needle`. */
static void expect_line(const demo_run *r, const char *needle, const char *what)
{
	cr_expect_not_null(strstr(r->text, needle), "no %s (\"%s\") in the demo's output:\n%s", what,
	                   needle, r->text);
}

static void expect_clean_exit(const demo_run *r)
{
	cr_assert(r->exited, "the demo did not exit in time; output so far:\n%s", r->text);
	cr_expect(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
	          "the demo exited with status %d (see %s/*.stderr)", r->status, FUNNELD_BINARY_DIR);
}

/* The feed's lines ("Jan 05 08:00  lead-0042 ...") up to the summary are
 * in virtual-time order: the daemon publishes per partition and fires SLA
 * timers on the clock, so the feed holds lines until older ones cannot
 * come any more; and the traffic and the sales team send their records in
 * one time order. */
static void expect_feed_in_time_order(const demo_run *r)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *end = strstr(r->text, "── summary");
	long prev = -1;
	int lines = 0;
	for (const char *p = r->text; p && *p && (!end || p < end); p = strchr(p, '\n'), p = p ? p + 1 : p) {
		char mon[4];
		int day, hour, minute;
		if (sscanf(p, "%3s %d %d:%d  lead-", mon, &day, &hour, &minute) != 4)
			continue;
		const char *m = strstr(months, mon);
		if (!m)
			continue;
		long at = (((long)(m - months) / 3 * 32 + day) * 24 + hour) * 60 + minute;
		lines++;
		cr_expect_geq(at, prev, "feed line out of virtual-time order: %.60s\noutput:\n%s", p,
		              r->text);
		if (at < prev)
			return;
		prev = at;
	}
	cr_expect_gt(lines, 10, "too few feed lines to judge:\n%s", r->text);
}

TestSuite(demo, .timeout = 60);

Test(demo, shows_mqls_handoffs_and_sla_breaches_then_a_summary)
{
	char *const argv[] = { "funneld", "demo", "--duration", "25", "--speed", "20000",
		                   "--leads", "120", NULL };
	demo_run r;
	demo_start(&r, "demo_smoke", argv);
	demo_read(&r, NULL, 45000);
	expect_clean_exit(&r);
	expect_line(&r, "→ MQL", "MQL transition");
	expect_line(&r, "→ SAL", "handoff to sales");
	expect_line(&r, "BREACH", "SLA breach");
	expect_line(&r, "── summary", "summary header");
	expect_line(&r, "SLA compliance", "SLA compliance table");
	expect_line(&r, "OPPORTUNITY → CUSTOMER", "funnel conversion row");
	expect_feed_in_time_order(&r);
	demo_finish(&r);
}

Test(demo, ctrl_c_stops_it_cleanly_with_a_summary)
{
	char *const argv[] = { "funneld", "demo", "--duration", "0", "--speed", "20000",
		                   "--leads", "60", NULL };
	demo_run r;
	demo_start(&r, "demo_sigint", argv);
	cr_assert(demo_read(&r, "→ SAL", 20000), "no handoff within 20 s; output:\n%s", r.text);
	kill(r.pid, SIGINT);
	demo_read(&r, NULL, 15000);
	expect_clean_exit(&r);
	expect_line(&r, "── summary", "summary header");
	demo_finish(&r);
}
