/*
 * test_kafka_readme.c — real broker only: README's "Running against a real
 * Kafka" works as written. The topic-creation lines of its step 1 are
 * taken from README.md and run by a shell, with a `kafka-topics.sh` on the
 * PATH that is Kafka's own TopicCommand (scripts/kafka.sh topics) pointed
 * at this test's cluster (the one thing changed: README's --bootstrap-server
 * kafka:9092 names no host here). Then the shipped config runs on those
 * topics: a demo request makes an MQL, and the changelog and scores topics
 * are compacted as README says.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void init(void)
{
	it_setup_brokers(0, 1); /* no topics: README creates them */
}

TestSuite(kafka_readme, .init = init, .fini = it_teardown, .timeout = 300);

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot read %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The indented command block of step 1, unindented. */
static char *step1_commands(void)
{
	char *readme = read_all(FUNNELD_SOURCE_DIR "/README.md");
	const char *sec = strstr(readme, "## Running against a real Kafka");
	cr_assert_not_null(sec, "README has no 'Running against a real Kafka' section");
	const char *from = strstr(sec, "1. Create the topics");
	const char *to = from ? strstr(from, "\n2. ") : NULL;
	cr_assert(from && to, "README's step 1 not found");
	size_t cap = (size_t)(to - from) + 1, k = 0;
	char *out = malloc(cap);
	const char *line = strchr(from, '\n') + 1;
	while (line < to) {
		const char *end = strchr(line, '\n');
		if (!end || end > to)
			end = to;
		/* the commands are the lines indented by seven spaces or more */
		if (end - line > 7 && strncmp(line, "       ", 7) == 0) {
			memcpy(out + k, line + 7, (size_t)(end - line - 7));
			k += (size_t)(end - line - 7);
			out[k++] = '\n';
		}
		line = end + 1;
	}
	out[k] = '\0';
	free(readme);
	cr_assert(strstr(out, "kafka-topics.sh") != NULL, "step 1 has no kafka-topics.sh line:\n%s", out);
	return out;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static int run_shell(const char *script, const char *bin_dir, const char *log)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "PATH='%s':\"$PATH\" bash -e '%s' >'%s' 2>&1", bin_dir, script, log);
	int status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(kafka_readme, topic_commands_of_the_readme_run_as_written)
{
	char bin[1200], wrapper[1300], script[1200], log[1200], describe[1200];
	snprintf(bin, sizeof bin, "%s/bin", it_dir());
	mkdir(bin, 0755);
	snprintf(wrapper, sizeof wrapper, "%s/kafka-topics.sh", bin);
	char text[4096];
	/* kafka-topics.sh ARGS: TopicCommand with the test cluster in place of
	 * whatever --bootstrap-server README names */
	snprintf(text, sizeof text,
	         "#!/usr/bin/env bash\n"
	         "args=()\n"
	         "while [ $# -gt 0 ]; do\n"
	         "  if [ \"$1\" = --bootstrap-server ]; then args+=(--bootstrap-server '%s'); shift 2\n"
	         "  else args+=(\"$1\"); shift; fi\n"
	         "done\n"
	         "exec bash '%s/scripts/kafka.sh' topics \"${args[@]}\"\n",
	         it_bootstrap(), FUNNELD_SOURCE_DIR);
	write_file(wrapper, text, 0755);

	char *commands = step1_commands();
	snprintf(script, sizeof script, "%s/readme-step1.sh", it_dir());
	write_file(script, commands, 0644);
	snprintf(log, sizeof log, "%s/readme-step1.log", it_dir());
	int rc = run_shell(script, bin, log);
	char *out = read_all(log);
	cr_assert_eq(rc, 0, "README step 1 failed (exit %d):\n%s\n---- output:\n%s", rc, commands,
	             it_tail(out, 3000));
	free(out);
	free(commands);

	/* what README promises of the topics */
	snprintf(script, sizeof script, "%s/describe.sh", it_dir());
	write_file(script, "kafka-topics.sh --bootstrap-server kafka:9092 --describe\n", 0644);
	snprintf(describe, sizeof describe, "%s/describe.log", it_dir());
	cr_assert_eq(run_shell(script, bin, describe), 0);
	out = read_all(describe);
	fd_config cfg;
	it_load_config(&cfg);
	const fd_topics *t = &cfg.settings.topics;
	const char *all[] = { t->engagement, t->profiles, t->activities, t->transitions, t->sla,
		                  t->dead_letters, t->scores, t->changelog };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		char want[512];
		snprintf(want, sizeof want, "Topic: %s\t", all[i]);
		const char *at = strstr(out, want);
		cr_assert_not_null(at, "README created no topic %s:\n%s", all[i], it_tail(out, 3000));
		const char *eol = strchr(at, '\n');
		char head[1024];
		snprintf(head, sizeof head, "%.*s", (int)(eol ? eol - at : 200), at);
		bool compact = strstr(head, "cleanup.policy=compact") != NULL;
		bool want_compact = all[i] == t->scores || all[i] == t->changelog;
		cr_assert_eq(compact, want_compact, "%s: %s", all[i], head);
	}
	free(out);

	/* the shipped config runs on them */
	it_proc *d = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();
	fd_engagement ev = { .event_id = "readme-1", .lead_id = "readme-lead",
		                 .occurred_at_ms = it_now_ms() - 60000, .type = "demo_request",
		                 .channel = "web", .content_id = "demo-form" };
	it_send_engagement(&ev);
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, t->transitions, "readme-lead") == 1,
	              "no transition for the README's topics");
	it_stop_daemon(d);
	it_reader_close(r);
	fd_config_free(&cfg);
}
