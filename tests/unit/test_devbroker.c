/*
 * test_devbroker.c — `funneld dev-broker` run as a process: how it reads
 * its commands from stdin, whatever stdin is (a pipe, a regular file,
 * /dev/null), and that it prints nothing but its own lines.
 *
 * Each test waits for what the broker writes (its bootstrap address, its
 * answers) with a bound, never for a fixed time. Not tested here: the
 * fault injection itself (the integration tests use it).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct broker {
	pid_t pid;
	int out;            /* its stdout, read end */
	int err_fd;         /* its stderr, a temporary file */
	char seen[4096];    /* stdout so far */
	size_t len;
} broker;

/* Start `funneld dev-broker` with stdin from `stdin_path` (a file opened
 * read-only) or, when NULL, from the pipe whose write end lands in
 * *stdin_w. */
static void start(broker *b, const char *stdin_path, int *stdin_w)
{
	memset(b, 0, sizeof *b);
	int out[2], in[2] = { -1, -1 };
	cr_assert_eq(pipe(out), 0);
	if (stdin_path == NULL)
		cr_assert_eq(pipe(in), 0);
	char err_path[] = "/tmp/funneld-devbroker-err-XXXXXX";
	b->err_fd = mkstemp(err_path);
	cr_assert(b->err_fd >= 0);
	unlink(err_path);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (stdin_path != NULL)
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, stdin_path, O_RDONLY, 0);
	else
		posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, b->err_fd, STDERR_FILENO);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	if (stdin_path == NULL)
		posix_spawn_file_actions_addclose(&fa, in[1]);
	char *argv[] = { (char *)(uintptr_t)FUNNELD_BIN, (char *)(uintptr_t) "dev-broker",
		             (char *)(uintptr_t) "--partitions", (char *)(uintptr_t) "1", NULL };
	cr_assert_eq(posix_spawn(&b->pid, FUNNELD_BIN, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	b->out = out[0];
	if (stdin_path == NULL) {
		close(in[0]);
		*stdin_w = in[1];
	}
}

/* Read stdout until it holds `want` (30 s at most). */
static void expect_output(broker *b, const char *want)
{
	for (int waited_ms = 0; strstr(b->seen, want) == NULL;) {
		cr_assert_lt(waited_ms, 30000, "no \"%s\" on stdout within 30 s; got: %s", want, b->seen);
		struct pollfd p = { .fd = b->out, .events = POLLIN };
		int rc = poll(&p, 1, 100);
		waited_ms += 100;
		if (rc <= 0)
			continue;
		ssize_t n = read(b->out, b->seen + b->len, sizeof b->seen - 1 - b->len);
		cr_assert_gt(n, 0, "stdout closed before \"%s\"; got: %s", want, b->seen);
		b->len += (size_t)n;
		b->seen[b->len] = '\0';
	}
}

/* Wait for the process to exit (30 s at most); its exit status. */
static int wait_exit(broker *b)
{
	int status = 0;
	pid_t done = 0;
	for (int waited_ms = 0; waited_ms < 30000 && done == 0; waited_ms += 10) {
		done = waitpid(b->pid, &status, WNOHANG);
		if (done == 0)
			usleep(10 * 1000);
	}
	if (done == 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, &status, 0);
		cr_assert_fail("dev-broker did not exit within 30 s");
	}
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void read_stderr(broker *b, char *buf, size_t size)
{
	lseek(b->err_fd, 0, SEEK_SET);
	ssize_t n = read(b->err_fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(b->err_fd);
	close(b->out);
}

/* A service or a test harness gives it /dev/null: libevent's epoll backend
 * cannot watch that (EPERM), and printed "[warn] Epoll ADD(1) on fd 0
 * failed" on stderr. */
Test(devbroker, stdin_from_dev_null_prints_no_warning)
{
	broker b;
	start(&b, "/dev/null", NULL);
	expect_output(&b, "\n"); /* the bootstrap address */
	cr_expect_eq(strncmp(b.seen, "127.0.0.1:", 10), 0, "%s", b.seen);
	kill(b.pid, SIGTERM);
	cr_expect_eq(wait_exit(&b), 0);
	char err[4096];
	read_stderr(&b, err, sizeof err);
	cr_expect_null(strstr(err, "[warn]"), "%s", err);
	cr_expect_null(strstr(err, "poll"), "%s", err);
	cr_expect_not_null(strstr(err, "dev-broker: signal 15, stopping"), "%s", err);
}

/* Every thread but the main one blocks SIGTERM, the mock cluster's too:
 * librdkafka 2.0's mock thread, given the signal, saw its poll() fail with
 * EINTR, ended, freed the cluster, and the destroy that followed read freed
 * memory (valgrind caught it in CI). */
Test(devbroker, only_the_main_thread_takes_signals)
{
	broker b;
	start(&b, "/dev/null", NULL);
	expect_output(&b, "\n");
	char exe[64], target[4096];
	snprintf(exe, sizeof exe, "/proc/%d/exe", (int)b.pid);
	ssize_t n = readlink(exe, target, sizeof target - 1);
	target[n > 0 ? n : 0] = '\0';
	if (strstr(target, "funneld") == NULL) {
		/* under valgrind (scripts/valgrind.sh traces children) the process
		   is valgrind's, which keeps the guest's signal masks to itself:
		   /proc shows its own */
		kill(b.pid, SIGTERM);
		(void)wait_exit(&b);
		close(b.err_fd);
		close(b.out);
		cr_skip_test("%s is not funneld's executable", target);
	}
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/task", (int)b.pid);
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	int others = 0, mock = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		int tid = atoi(e->d_name);
		if (tid <= 0)
			continue;
		char path[128], line[256], name[64] = "";
		unsigned long long blocked = 0;
		snprintf(path, sizeof path, "%s/%d/status", dir, tid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* the thread has ended */
		while (fgets(line, sizeof line, f)) {
			(void)sscanf(line, "Name: %63s", name);
			(void)sscanf(line, "SigBlk: %llx", &blocked);
		}
		fclose(f);
		int term_blocked = (blocked >> (SIGTERM - 1)) & 1;
		if (tid == (int)b.pid) {
			cr_expect_eq(term_blocked, 0, "the main thread blocks SIGTERM");
			continue;
		}
		others++;
		mock += strcmp(name, "rdk:mock") == 0;
		cr_expect_eq(term_blocked, 1, "thread %d (%s) takes SIGTERM", tid, name);
	}
	closedir(d);
	cr_expect_gt(others, 0);
	cr_expect_eq(mock, 1, "no rdk:mock thread");
	kill(b.pid, SIGTERM);
	cr_expect_eq(wait_exit(&b), 0);
	char err[4096];
	read_stderr(&b, err, sizeof err);
}

/* `dev-broker < commands.txt` runs the file's commands in order. */
Test(devbroker, commands_from_a_regular_file_run_in_order)
{
	char path[] = "/tmp/funneld-devbroker-cmds-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	const char *cmds = "create extra.topic 2\nrtt 1 5\nfrobnicate\nquit";
	cr_assert_eq(write(fd, cmds, strlen(cmds)), (ssize_t)strlen(cmds));
	close(fd);
	broker b;
	start(&b, path, NULL);
	expect_output(&b, "ok quit\n");
	cr_expect_eq(wait_exit(&b), 0);
	const char *nl = strchr(b.seen, '\n');
	cr_assert_not_null(nl);
	cr_expect_str_eq(nl + 1, "ok create\nok rtt\nerror unknown command: frobnicate\nok quit\n");
	char err[4096];
	read_stderr(&b, err, sizeof err);
	cr_expect_null(strstr(err, "[warn]"), "%s", err);
	unlink(path);
}

/* A pipe is watched: a command is answered as it comes. */
Test(devbroker, commands_from_a_pipe_are_answered_as_they_come)
{
	broker b;
	int w = -1;
	start(&b, NULL, &w);
	expect_output(&b, "\n");
	cr_assert_eq(write(w, "up 1\n", 5), 5);
	expect_output(&b, "ok up\n");
	cr_assert_eq(write(w, "quit\n", 5), 5);
	expect_output(&b, "ok quit\n");
	cr_expect_eq(wait_exit(&b), 0);
	close(w);
	char err[4096];
	read_stderr(&b, err, sizeof err);
	cr_expect_null(strstr(err, "[warn]"), "%s", err);
}
