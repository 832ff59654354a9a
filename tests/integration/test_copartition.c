/*
 * test_copartition.c — `funneld run` refuses to start when its input topics
 * are not co-partitioned or one of them does not exist: non-zero exit
 * within a bounded time, and a message on stderr that names the topics
 * (and, for co-partitioning, their partition counts).
 *
 * The dev-broker creates the configured topics with 2 partitions; the odd
 * topics are created through its stdin ("create TOPIC N") and handed to the
 * daemon with -o topics.profiles=... / -o topics.activities=...
 */
#include "harness.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void init(void)
{
	it_setup(2);
}

TestSuite(copartition, .init = init, .fini = it_teardown, .timeout = 90);

/* Wait for the daemon to give up; return its log. */
static char *expect_refusal(it_proc *d)
{
	int status = 0;
	bool exited = it_proc_wait_exit(d, IT_WAIT_MS, &status);
	char *log = it_proc_log(d);
	cr_assert(exited, "funneld run still running after %d ms; log tail:\n%s", IT_WAIT_MS,
	          it_tail(log, 4000));
	cr_assert(WIFEXITED(status), "funneld run died of a signal (status 0x%x); log tail:\n%s",
	          status, it_tail(log, 4000));
	cr_assert_neq(WEXITSTATUS(status), 0, "funneld run exited 0; log tail:\n%s", it_tail(log, 4000));
	return log;
}

/* Does one line of `log` contain every one of the strings? */
static bool line_has_all(const char *log, const char *const *words)
{
	const char *line = log;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		bool all = true;
		for (size_t i = 0; words[i] && all; i++)
			all = strstr(copy, words[i]) != NULL;
		free(copy);
		if (all)
			return true;
		line += len + (end != NULL);
	}
	return false;
}

/* `count` appears in `line` as a number of its own (not inside another). */
static bool has_number(const char *text, const char *num)
{
	size_t n = strlen(num);
	for (const char *p = strstr(text, num); p; p = strstr(p + 1, num)) {
		bool left = p == text || !isdigit((unsigned char)p[-1]);
		bool right = !isdigit((unsigned char)p[n]);
		if (left && right)
			return true;
	}
	return false;
}

static bool some_line_names(const char *log, const char *topic_a, const char *count_a,
                            const char *topic_b, const char *count_b)
{
	const char *line = log;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		bool ok = strstr(copy, topic_a) && strstr(copy, topic_b) && has_number(copy, count_a) &&
		          has_number(copy, count_b);
		free(copy);
		if (ok)
			return true;
		line += len + (end != NULL);
	}
	return false;
}

Test(copartition, refuses_inputs_with_different_partition_counts)
{
	it_broker_ok("create it.profiles.odd 5");
	const char *extra[] = { "topics.profiles=it.profiles.odd", NULL };
	int64_t t0 = it_now_ms();
	it_proc *d = it_daemon_start(extra);
	char *log = expect_refusal(d);
	fprintf(stderr, "copartition: refused in %" PRId64 " ms\n", it_now_ms() - t0);
	cr_assert(some_line_names(log, "it.profiles.odd", "5", "funneld.engagement", "2"),
	          "no stderr line names it.profiles.odd with 5 partitions and funneld.engagement with "
	          "2; log:\n%s",
	          it_tail(log, 4000));
	free(log);
}

Test(copartition, refuses_a_missing_input_topic)
{
	const char *extra[] = { "topics.activities=it.activities.missing", NULL };
	it_proc *d = it_daemon_start(extra);
	char *log = expect_refusal(d);
	const char *topic[] = { "it.activities.missing", NULL };
	cr_assert(line_has_all(log, topic), "stderr does not name the missing topic; log:\n%s",
	          it_tail(log, 4000));
	/* the line that names it says what is wrong with it */
	static const char *const words[] = { "not exist", "does not exist", "missing", "unknown",
		                                 "not found", "no such" };
	bool clear = false;
	for (size_t i = 0; i < sizeof words / sizeof words[0] && !clear; i++) {
		const char *both[] = { "it.activities.missing", words[i], NULL };
		clear = line_has_all(log, both);
	}
	cr_assert(clear, "the line naming it.activities.missing does not say it is missing; log:\n%s",
	          it_tail(log, 4000));
	free(log);
}
