/*
 * harness.c — the integration-test harness (see harness.h). Built once into
 * the funneld_testsupport library that every integration test links.
 *
 * Process handling is plain POSIX: posix_spawn with pipes (dev-broker) or
 * a log file (funneld run) as stdio, waitpid with WNOHANG polled against a
 * deadline. Kafka is librdkafka: one producer per test, consumers that
 * assign partitions themselves (no group join, so reading starts at once).
 *
 * What it is not: a fixture for the engine (tests/engine_fixture.h) or a
 * Kafka mock (the dev-broker is the mock).
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/hooks.h>

#include "funneld/v1/inputs.pb-c.h"
#include "kafka/topic.h"

extern char **environ;

#define IT_MAX_PROCS 16
#define IT_MAX_OVERRIDES 64
#define IT_TERM_GRACE_MS 5000

struct it_proc {
	pid_t pid;
	bool reaped;
	bool expect_running; /* a daemon the test has not yet signalled or awaited */
	int status;
	char log[1200];
	char name[64];
};

typedef struct it_delivery {
	bool done;
	rd_kafka_resp_err_t err;
	int32_t partition;
	int64_t offset;
} it_delivery;

static struct {
	bool active;
	char dir[1024];
	char conf[1100];
	char group[160];
	char bootstrap[256];
	int partitions;

	char *overrides[IT_MAX_OVERRIDES];
	size_t n_overrides;
	fd_config cfg;
	bool cfg_loaded;

	bool real;       /* FUNNELD_IT_BROKER=kafka: Apache Kafka via scripts/kafka.sh */
	int brokers;     /* brokers of the cluster, mock or real (it_setup_brokers) */
	char kafka_dir[1100];
	it_proc broker;
	int broker_in;   /* write end of the broker's stdin */
	int broker_out;  /* read end of its stdout */
	char broker_buf[4096];
	size_t broker_len;

	it_proc *procs[IT_MAX_PROCS];
	size_t n_procs;
	int n_daemons;

	rd_kafka_t *producer;
	uint64_t async_sent, async_delivered, async_failed;
	rd_kafka_resp_err_t async_last_err;
} it;

static void *it_unconst(const void *p)
{
	return (void *)(uintptr_t)p;
}

static char *it_str(const char *s)
{
	return it_unconst(s ? s : "");
}

int64_t it_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t it_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void it_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const char *it_dir(void) { return it.dir; }
const char *it_conf_path(void) { return it.conf; }
const char *it_bootstrap(void) { return it.bootstrap; }
const char *it_group(void) { return it.group; }
int it_partitions(void) { return it.partitions; }

const char *it_tail(const char *text, size_t max)
{
	size_t n = strlen(text);
	return n > max ? text + n - max : text;
}

/* ---- files ------------------------------------------------------------------ */

static char *it_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static void it_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text), "short write to %s", path);
	cr_assert_eq(fclose(f), 0, "cannot write %s", path);
}

static void it_clean_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	char p[1400];
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		(void)unlink(p);
	}
	closedir(d);
}

static void it_test_dir(char *out, size_t size, const char *suite, const char *test)
{
	snprintf(out, size, "%s/it-tmp/%s.%s", FUNNELD_BINARY_DIR, suite, test);
}

/* ---- processes ---------------------------------------------------------------- */

static pid_t it_spawn(char *const argv[], int in_fd, int out_fd, int err_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	pid_t pid = -1;

	cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
	cr_assert_eq(posix_spawnattr_init(&attr), 0);
	posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGHUP);
	sigaddset(&defaults, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	/* a process group of its own: signals aimed at the test's group (a
	 * terminal's ^C, a runner stopping its worker) do not reach it; the
	 * harness stops it by pid */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                    POSIX_SPAWN_SETPGROUP);
	int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	cr_assert_eq(rc, 0, "posix_spawn %s: %s", argv[0], strerror(rc));

	/* remembered for the runner-side hook, should this worker crash */
	char path[1200];
	snprintf(path, sizeof path, "%s/pids", it.dir);
	FILE *f = fopen(path, "a");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	return pid;
}

static int it_open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

static bool it_poll_exit(it_proc *p)
{
	if (p->reaped)
		return true;
	int st;
	pid_t r = waitpid(p->pid, &st, WNOHANG);
	if (r == p->pid) {
		p->reaped = true;
		p->status = st;
		return true;
	}
	if (r < 0 && errno == ECHILD) {
		p->reaped = true;
		p->status = -1;
		return true;
	}
	return false;
}

pid_t it_proc_pid(const it_proc *p) { return p->pid; }
const char *it_proc_log_path(const it_proc *p) { return p->log; }

void it_proc_signal(it_proc *p, int sig)
{
	p->expect_running = false;
	if (!it_poll_exit(p))
		kill(p->pid, sig);
}

bool it_proc_running(it_proc *p)
{
	return !it_poll_exit(p);
}

bool it_proc_wait_exit(it_proc *p, int timeout_ms, int *status)
{
	int64_t deadline = it_mono_ms() + timeout_ms;
	while (!it_poll_exit(p)) {
		if (it_mono_ms() >= deadline)
			return false;
		it_sleep_ms(20);
	}
	p->expect_running = false;
	if (status)
		*status = p->status;
	return true;
}

char *it_proc_log(const it_proc *p)
{
	char *text = it_read_file(p->log);
	return text ? text : strdup("");
}

size_t it_proc_log_count(const it_proc *p, const char *needle)
{
	char *log = it_proc_log(p);
	size_t n = 0;
	for (const char *at = log; at && (at = strstr(at, needle)) != NULL; at += strlen(needle))
		n++;
	free(log);
	return n;
}

void it_assert_running(it_proc *p, const char *when)
{
	if (it_proc_running(p))
		return;
	char *log = it_proc_log(p);
	cr_assert_fail("%s exited (status 0x%x) %s; log tail:\n%s", p->name, p->status, when,
	               it_tail(log, 4000));
	free(log);
}

void it_check_daemons(void)
{
	for (size_t i = 0; i < it.n_procs; i++)
		if (it.procs[i]->expect_running)
			it_assert_running(it.procs[i], "unexpectedly");
}

static void it_stop_proc(it_proc *p)
{
	if (p->pid <= 0 || it_poll_exit(p))
		return;
	kill(p->pid, SIGTERM);
	if (!it_proc_wait_exit(p, IT_TERM_GRACE_MS, NULL)) {
		kill(p->pid, SIGKILL);
		(void)it_proc_wait_exit(p, IT_TERM_GRACE_MS, NULL);
	}
}

/* ---- the dev-broker ------------------------------------------------------------- */

/* One line from the broker's stdout, at most timeout_ms; false on timeout
 * or EOF. */
static bool it_broker_line(char *out, size_t size, int timeout_ms)
{
	int64_t deadline = it_mono_ms() + timeout_ms;
	for (;;) {
		char *nl = memchr(it.broker_buf, '\n', it.broker_len);
		if (nl) {
			size_t n = (size_t)(nl - it.broker_buf);
			snprintf(out, size, "%.*s", (int)n, it.broker_buf);
			memmove(it.broker_buf, nl + 1, it.broker_len - n - 1);
			it.broker_len -= n + 1;
			return true;
		}
		int64_t left = deadline - it_mono_ms();
		if (left <= 0)
			return false;
		struct pollfd pfd = { it.broker_out, POLLIN, 0 };
		int r = poll(&pfd, 1, (int)(left > 200 ? 200 : left));
		if (r < 0 && errno != EINTR)
			return false;
		if (r <= 0)
			continue;
		if (it.broker_len + 1 >= sizeof it.broker_buf)
			return false;
		ssize_t got = read(it.broker_out, it.broker_buf + it.broker_len,
		                   sizeof it.broker_buf - it.broker_len - 1);
		if (got <= 0)
			return false;
		it.broker_len += (size_t)got;
	}
}

static void it_kafka_start(void);
static const char *it_kafka_command(const char *cmd);
static void it_kafka_stop(void);

static void it_broker_start(void)
{
	if (it.real) {
		it_kafka_start();
		return;
	}
	int in[2], out[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	for (int i = 0; i < 2; i++) {
		fcntl(in[i], F_SETFD, FD_CLOEXEC);
		fcntl(out[i], F_SETFD, FD_CLOEXEC);
	}
	snprintf(it.broker.name, sizeof it.broker.name, "dev-broker");
	snprintf(it.broker.log, sizeof it.broker.log, "%s/broker.log", it.dir);
	int log = it_open_log(it.broker.log);
	char parts[16], nodes[16];
	snprintf(parts, sizeof parts, "%d", it.partitions);
	snprintf(nodes, sizeof nodes, "%d", it.brokers > 0 ? it.brokers : 1);
	char *argv[] = { it_str(FUNNELD_BIN), it_str("dev-broker"), it_str("-c"), it.conf,
	                 it_str("--partitions"), parts, it_str("--brokers"), nodes, NULL };
	it.broker.pid = it_spawn(argv, in[0], out[1], log);
	close(in[0]);
	close(out[1]);
	close(log);
	it.broker_in = in[1];
	it.broker_out = out[0];
	signal(SIGPIPE, SIG_IGN);

	char line[256];
	if (!it_broker_line(line, sizeof line, IT_WAIT_MS)) {
		bool exited = it_proc_wait_exit(&it.broker, 1000, NULL);
		char *text = it_proc_log(&it.broker);
		cr_assert_fail("dev-broker printed no bootstrap address (%s); its log:\n%s",
		               exited ? "it exited" : "timed out", it_tail(text, 4000));
	}
	cr_assert(strchr(line, ':') != NULL, "dev-broker's first line is not HOST:PORT: '%s'", line);
	snprintf(it.bootstrap, sizeof it.bootstrap, "%s", line);
}

const char *it_broker_command(const char *cmd)
{
	if (it.real)
		return it_kafka_command(cmd);
	static char reply[512];
	char buf[512];
	int n = snprintf(buf, sizeof buf, "%s\n", cmd);
	cr_assert_eq(write(it.broker_in, buf, (size_t)n), n, "cannot write '%s' to the dev-broker", cmd);
	if (!it_broker_line(reply, sizeof reply, 10000))
		cr_assert_fail("dev-broker did not answer '%s' within 10 s", cmd);
	return reply;
}

void it_broker_ok(const char *cmd)
{
	const char *reply = it_broker_command(cmd);
	cr_assert(strncmp(reply, "ok", 2) == 0, "%s answered '%s' to '%s'", it.real ? "kafka" : "dev-broker",
	          reply, cmd);
}

bool it_real_broker(void)
{
	const char *b = getenv("FUNNELD_IT_BROKER");
	return b && strcmp(b, "kafka") == 0;
}

void it_require_mock(const char *why)
{
	if (it_real_broker())
		cr_skip_test("mock-only (%s)", why);
}

/* ---- environment ------------------------------------------------------------------ */

static void it_invalidate_cfg(void)
{
	if (it.cfg_loaded)
		fd_config_free(&it.cfg);
	it.cfg_loaded = false;
}

void it_override(const char *fmt, ...)
{
	cr_assert_lt(it.n_overrides, IT_MAX_OVERRIDES, "too many overrides");
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof buf, "override too long");
	char *s = strdup(buf);
	cr_assert_not_null(s);
	it.overrides[it.n_overrides++] = s;
	it_invalidate_cfg();
}

const char *const *it_overrides(size_t *n)
{
	*n = it.n_overrides;
	return (const char *const *)it.overrides;
}

void it_load_config(fd_config *cfg)
{
	char err[1024];
	int rc = fd_config_load(cfg, it.conf, (const char *const *)it.overrides, it.n_overrides,
	                        err, sizeof err);
	cr_assert_eq(rc, 0, "the test configuration does not load: %s", err);
}

static const fd_config *it_cfg(void)
{
	if (!it.cfg_loaded) {
		it_load_config(&it.cfg);
		it.cfg_loaded = true;
	}
	return &it.cfg;
}

static void it_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "[test client %s] %d %s: %s\n", rd_kafka_name(rk), level, fac, buf);
}

static void it_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	if (getenv("IT_VERBOSE"))
		fprintf(stderr, "[test client %s] error %s: %s\n", rd_kafka_name(rk),
		        rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void it_conf_set(rd_kafka_conf_t *c, const char *name, const char *value)
{
	char err[512];
	cr_assert_eq(rd_kafka_conf_set(c, name, value, err, sizeof err), RD_KAFKA_CONF_OK,
	             "librdkafka %s=%s: %s", name, value, err);
}

static rd_kafka_conf_t *it_kafka_conf(void)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	it_conf_set(c, "bootstrap.servers", it.bootstrap);
	rd_kafka_conf_set_log_cb(c, it_kafka_log);
	rd_kafka_conf_set_error_cb(c, it_kafka_error);
	return c;
}

/* ---- Apache Kafka (FUNNELD_IT_BROKER=kafka) ----------------------------------- */

/* Run `scripts/kafka.sh ARGS...` for this test's cluster (FUNNELD_KAFKA_DIR
 * = the scratch directory's kafka/); its stderr goes to broker.log. Returns
 * the last line it printed (static buffer); asserts it succeeded within
 * timeout_ms. */
static const char *it_kafka_script(const char *const *args, int timeout_ms)
{
	static char last[512];
	char script[1200];
	snprintf(script, sizeof script, "%s/scripts/kafka.sh", FUNNELD_SOURCE_DIR);
	char *argv[12] = { it_str("/bin/bash"), script };
	size_t k = 2;
	for (size_t i = 0; args[i] && k < 11; i++)
		argv[k++] = it_str(args[i]);
	argv[k] = NULL;
	setenv("FUNNELD_KAFKA_DIR", it.kafka_dir, 1);
	int out[2];
	cr_assert_eq(pipe(out), 0);
	/* only the script's stdout may hold the write end: the brokers it
	 * leaves running must not keep the pipe open */
	fcntl(out[0], F_SETFD, FD_CLOEXEC);
	fcntl(out[1], F_SETFD, FD_CLOEXEC);
	int log = it_open_log(it.broker.log);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t pid = it_spawn(argv, null, out[1], log);
	close(out[1]);
	close(log);
	close(null);
	char buf[8192];
	size_t len = 0;
	int64_t deadline = it_mono_ms() + timeout_ms;
	for (;;) {
		int64_t left = deadline - it_mono_ms();
		struct pollfd pfd = { out[0], POLLIN, 0 };
		int r = left > 0 ? poll(&pfd, 1, (int)(left > 500 ? 500 : left)) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 && left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(out[0]);
			cr_assert_fail("scripts/kafka.sh %s: no answer within %d ms (log: %s)", args[0],
			               timeout_ms, it.broker.log);
		}
		if (r <= 0)
			continue;
		ssize_t got = read(out[0], buf + len, sizeof buf - len - 1);
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len >= sizeof buf - 1) /* keep the tail */
			len = 0;
	}
	close(out[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	buf[len] = '\0';
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	const char *nl = strrchr(buf, '\n');
	snprintf(last, sizeof last, "%.511s", nl ? nl + 1 : buf);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *text = it_read_file(it.broker.log);
		cr_assert_fail("scripts/kafka.sh %s failed (status %d); its log:\n%s", args[0], status,
		               text ? it_tail(text, 4000) : "(none)");
	}
	return last;
}

void it_create_topic(const char *name, int partitions, const char *const *configs)
{
	rd_kafka_conf_t *c = it_kafka_conf();
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
	cr_assert_not_null(rk, "admin client: %s", err);
	int rc = fd_topic_create(rk, name, partitions, configs, IT_WAIT_MS, err, sizeof err);
	rd_kafka_destroy(rk);
	cr_assert_eq(rc, 0, "%s", err);
}

/* A cluster of its own, then the topics dev-broker would create: the three
 * inputs and the four outputs with the test's partition count (the daemon
 * creates its changelog itself, compacted); none with partitions 0. */
static void it_kafka_start(void)
{
	snprintf(it.broker.name, sizeof it.broker.name, "kafka");
	snprintf(it.broker.log, sizeof it.broker.log, "%s/broker.log", it.dir);
	snprintf(it.kafka_dir, sizeof it.kafka_dir, "%s/kafka", it.dir);
	char owner[32], brokers[16];
	snprintf(owner, sizeof owner, "%d", (int)getpid());
	snprintf(brokers, sizeof brokers, "%d", it.brokers > 0 ? it.brokers : 1);
	const char *args[] = { "start", "--brokers", brokers, "--owner", owner, NULL };
	/* the first run may fetch the broker with Maven */
	const char *line = it_kafka_script(args, 600000);
	cr_assert(strchr(line, ':') != NULL, "scripts/kafka.sh start printed no bootstrap: '%s'", line);
	snprintf(it.bootstrap, sizeof it.bootstrap, "%s", line);
	fd_config cfg;
	fd_config_defaults(&cfg);
	char err[1024];
	cr_assert_eq(fd_config_load(&cfg, it.conf, NULL, 0, err, sizeof err), 0, "%s", err);
	const fd_topics *t = &cfg.settings.topics;
	const char *names[] = { t->engagement, t->profiles, t->activities, t->transitions, t->sla,
		                    t->scores, t->dead_letters };
	for (size_t i = 0; it.partitions > 0 && i < sizeof names / sizeof names[0]; i++)
		it_create_topic(names[i], it.partitions, NULL);
	fd_config_free(&cfg);
}

/* dev-broker's commands, on a real cluster: "create T N", "down I" (kill -9
 * node I), "up I" (restart it); the mock's fault injections (request
 * errors, rtt) have no equivalent: a test that needs them calls
 * it_require_mock(). */
static const char *it_kafka_command(const char *cmd)
{
	char name[256];
	int n;
	if (sscanf(cmd, "create %255s %d", name, &n) == 2) {
		it_create_topic(name, n, NULL);
		return "ok";
	}
	if (sscanf(cmd, "down %d", &n) == 1) {
		char node[16];
		snprintf(node, sizeof node, "%d", n);
		const char *args[] = { "kill", node, NULL };
		it_kafka_script(args, IT_WAIT_MS);
		return "ok";
	}
	if (sscanf(cmd, "up %d", &n) == 1) {
		char node[16];
		snprintf(node, sizeof node, "%d", n);
		const char *args[] = { "restart", node, NULL };
		it_kafka_script(args, 120000);
		return "ok";
	}
	cr_assert_fail("'%s' has no equivalent on a real broker (call it_require_mock first)", cmd);
	return "error";
}

static void it_kafka_stop(void)
{
	if (!it.kafka_dir[0])
		return;
	const char *args[] = { "stop", NULL };
	it_kafka_script(args, 60000);
	it.kafka_dir[0] = '\0';
}

void it_setup_sized(int partitions, const char *input_max_bytes, const char *dl_max_bytes)
{
	if (!it_real_broker()) {
		it_setup(partitions); /* the mock takes records of any size */
		return;
	}
	it_setup(0);
	fd_config cfg;
	it_load_config(&cfg);
	const fd_topics *t = &cfg.settings.topics;
	const char *in[] = { "max.message.bytes", input_max_bytes, NULL };
	const char *dl[] = { "max.message.bytes", dl_max_bytes, NULL };
	const char *inputs[] = { t->engagement, t->profiles, t->activities };
	for (int i = 0; i < 3; i++)
		it_create_topic(inputs[i], partitions, input_max_bytes ? in : NULL);
	it_create_topic(t->transitions, partitions, NULL);
	it_create_topic(t->sla, partitions, NULL);
	it_create_topic(t->scores, partitions, NULL);
	it_create_topic(t->dead_letters, partitions, dl_max_bytes ? dl : NULL);
	fd_config_free(&cfg);
}

void it_setup(int partitions)
{
	it_setup_brokers(partitions, 1);
}

void it_setup_brokers(int partitions, int brokers)
{
	memset(&it, 0, sizeof it);
	it.brokers = brokers;
	it.active = true;
	it.broker_in = it.broker_out = -1;
	it.partitions = partitions;
	it.real = it_real_broker();

	char base[1100];
	snprintf(base, sizeof base, "%s/it-tmp", FUNNELD_BINARY_DIR);
	(void)mkdir(base, 0755);
	it_test_dir(it.dir, sizeof it.dir, criterion_current_suite->name, criterion_current_test->name);
	(void)mkdir(it.dir, 0755);
	it_clean_dir(it.dir);

	char *conf = it_read_file(FUNNELD_SOURCE_DIR "/config/funneld.conf");
	cr_assert_not_null(conf, "cannot read %s/config/funneld.conf", FUNNELD_SOURCE_DIR);
	snprintf(it.conf, sizeof it.conf, "%s/funneld.conf", it.dir);
	it_write_file(it.conf, conf);
	free(conf);

	it_broker_start();

	snprintf(it.group, sizeof it.group, "it-%s-%s-%d", criterion_current_suite->name,
	         criterion_current_test->name, (int)getpid());
	it_override("kafka.bootstrap.servers=%s", it.bootstrap);
	it_override("kafka.group.id=%s", it.group);
	it_override("processing.commit_interval=200ms");
	it_override("admin.address=");
}

void it_teardown(void)
{
	if (!it.active)
		return;
	for (size_t i = 0; i < it.n_procs; i++) {
		it_stop_proc(it.procs[i]);
		free(it.procs[i]);
	}
	it.n_procs = 0;
	if (it.producer) {
		rd_kafka_flush(it.producer, 2000);
		rd_kafka_destroy(it.producer);
		it.producer = NULL;
	}
	if (it.broker_in >= 0)
		close(it.broker_in);
	if (it.real)
		it_kafka_stop();
	else
		it_stop_proc(&it.broker);
	if (it.broker_out >= 0)
		close(it.broker_out);
	it.broker_in = it.broker_out = -1;
	for (size_t i = 0; i < it.n_overrides; i++)
		free(it.overrides[i]);
	it.n_overrides = 0;
	it_invalidate_cfg();
	it.active = false;
}

/* ---- funneld run ---------------------------------------------------------------- */

static char **it_argv(const char *cmd, const char *const *extra, size_t *argc_out)
{
	size_t n_extra = 0;
	while (extra && extra[n_extra])
		n_extra++;
	size_t cap = 4 + 2 * (it.n_overrides + n_extra) + 1;
	char **argv = calloc(cap, sizeof *argv);
	cr_assert_not_null(argv);
	size_t k = 0;
	argv[k++] = it_str(FUNNELD_BIN);
	argv[k++] = it_str(cmd);
	if (strcmp(cmd, "run") == 0)
		argv[k++] = it_str("-c");
	argv[k++] = it.conf;
	for (size_t i = 0; i < it.n_overrides; i++) {
		argv[k++] = it_str("-o");
		argv[k++] = it.overrides[i];
	}
	for (size_t i = 0; i < n_extra; i++) {
		argv[k++] = it_str("-o");
		argv[k++] = it_str(extra[i]);
	}
	argv[k] = NULL;
	*argc_out = k;
	return argv;
}

static it_proc *it_proc_new(const char *name)
{
	cr_assert_lt(it.n_procs, IT_MAX_PROCS, "too many processes");
	it_proc *p = calloc(1, sizeof *p);
	cr_assert_not_null(p);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->log, sizeof p->log, "%s/%s.log", it.dir, name);
	it.procs[it.n_procs++] = p;
	return p;
}

static void it_check_config(const char *const *extra)
{
	size_t argc;
	char **argv = it_argv("check-config", extra, &argc);
	it_proc *p = it_proc_new("check-config");
	int log = it_open_log(p->log);
	int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	p->pid = it_spawn(argv, null_in, log, log);
	close(null_in);
	close(log);
	free(argv);
	int status = 0;
	cr_assert(it_proc_wait_exit(p, IT_WAIT_MS, &status), "check-config did not finish in %d ms",
	          IT_WAIT_MS);
	char *text = it_proc_log(p);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "funneld check-config refuses the test configuration (status 0x%x):\n%s", status,
	          text);
	free(text);
}

it_proc *it_daemon_start(const char *const *extra)
{
	it_check_config(extra);
	size_t argc;
	char **argv = it_argv("run", extra, &argc);
	char name[32];
	snprintf(name, sizeof name, "daemon-%d", ++it.n_daemons);
	it_proc *p = it_proc_new(name);
	int log = it_open_log(p->log);
	int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	p->pid = it_spawn(argv, null_in, log, log);
	p->expect_running = true;
	close(null_in);
	close(log);
	free(argv);
	return p;
}

/* ---- producing -------------------------------------------------------------------- */

static void it_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	it_delivery *d = m->_private;
	if (d) {
		d->done = true;
		d->err = m->err;
		d->partition = m->partition;
		d->offset = m->offset;
		return;
	}
	if (m->err) {
		it.async_failed++;
		it.async_last_err = m->err;
	} else {
		it.async_delivered++;
	}
}

static rd_kafka_t *it_producer(void)
{
	if (it.producer)
		return it.producer;
	rd_kafka_conf_t *c = it_kafka_conf();
	it_conf_set(c, "linger.ms", "5");
	it_conf_set(c, "message.timeout.ms", "60000");
	it_conf_set(c, "client.id", "it-producer");
	/* tests send records of several MB (poison pills); the topics decide */
	it_conf_set(c, "message.max.bytes", "16000000");
	rd_kafka_conf_set_dr_msg_cb(c, it_dr);
	char err[512];
	it.producer = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
	cr_assert_not_null(it.producer, "cannot create the test producer: %s", err);
	return it.producer;
}

static rd_kafka_resp_err_t it_enqueue(const char *topic, int32_t partition, const char *key,
                                      const void *value, size_t len, const it_header *headers,
                                      size_t n_headers, it_delivery *d)
{
	rd_kafka_t *rk = it_producer();
	rd_kafka_headers_t *hdrs = NULL;
	if (n_headers > 0) {
		hdrs = rd_kafka_headers_new(n_headers);
		for (size_t i = 0; i < n_headers; i++)
			rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
			                    headers[i].value ? (ssize_t)headers[i].size : 0);
	}
	void *v = it_unconst(value);
	rd_kafka_resp_err_t err = rd_kafka_producev(
		rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
		RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE(v, len),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
		RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
	if (err && hdrs)
		rd_kafka_headers_destroy(hdrs);
	return err;
}

int64_t it_produce(const char *topic, int32_t partition, const char *key, const void *value,
                   size_t len, const it_header *headers, size_t n_headers,
                   int32_t *partition_out)
{
	it_delivery d = { 0 };
	rd_kafka_resp_err_t err =
		it_enqueue(topic, partition, key, value, len, headers, n_headers, &d);
	cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR, "produce to %s: %s", topic,
	             rd_kafka_err2str(err));
	int64_t deadline = it_mono_ms() + IT_WAIT_MS;
	while (!d.done && it_mono_ms() < deadline)
		rd_kafka_poll(it.producer, 50);
	cr_assert(d.done, "record for %s (key %s) not delivered within %d ms", topic,
	          key ? key : "(none)", IT_WAIT_MS);
	cr_assert_eq(d.err, RD_KAFKA_RESP_ERR_NO_ERROR, "delivery to %s failed: %s", topic,
	             rd_kafka_err2str(d.err));
	if (partition_out)
		*partition_out = d.partition;
	return d.offset;
}

void it_produce_async(const char *topic, int32_t partition, const char *key, const void *value,
                      size_t len)
{
	rd_kafka_resp_err_t err = it_enqueue(topic, partition, key, value, len, NULL, 0, NULL);
	cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR, "produce to %s: %s", topic,
	             rd_kafka_err2str(err));
	it.async_sent++;
	rd_kafka_poll(it.producer, 0);
}

void it_flush(int timeout_ms)
{
	if (!it.producer)
		return;
	rd_kafka_resp_err_t err = rd_kafka_flush(it.producer, timeout_ms);
	cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR,
	             "test producer: %d record(s) still undelivered after %d ms",
	             rd_kafka_outq_len(it.producer), timeout_ms);
	cr_assert_eq(it.async_failed, 0, "test producer: %" PRIu64 " record(s) failed (last: %s)",
	             it.async_failed, rd_kafka_err2str(it.async_last_err));
	cr_assert_eq(it.async_delivered, it.async_sent);
}

/* ---- protobuf inputs ----------------------------------------------------------------- */

it_bytes it_pack(const ProtobufCMessage *m)
{
	it_bytes b;
	b.len = protobuf_c_message_get_packed_size(m);
	b.data = malloc(b.len ? b.len : 1);
	cr_assert_not_null(b.data);
	cr_assert_eq(protobuf_c_message_pack(m, b.data), b.len);
	return b;
}

it_bytes it_pb_engagement(const fd_engagement *ev)
{
	Funneld__V1__EngagementEvent m;
	funneld__v1__engagement_event__init(&m);
	m.event_id = it_str(ev->event_id);
	m.lead_id = it_str(ev->lead_id);
	m.account_id = it_str(ev->account_id);
	m.occurred_at_ms = ev->occurred_at_ms;
	m.type = it_str(ev->type);
	m.channel = it_str(ev->channel);
	m.content_id = it_str(ev->content_id);
	m.url = it_str(ev->url);
	m.campaign = it_str(ev->campaign);
	return it_pack(&m.base);
}

it_bytes it_pb_profile(const fd_profile *p)
{
	Funneld__V1__LeadProfile m;
	funneld__v1__lead_profile__init(&m);
	m.lead_id = it_str(p->lead_id);
	m.updated_at_ms = p->updated_at_ms;
	m.email = it_str(p->email);
	m.job_title = it_str(p->job_title);
	m.seniority = it_str(p->seniority);
	m.department = it_str(p->department);
	m.industry = it_str(p->industry);
	m.country = it_str(p->country);
	m.employee_count = p->employee_count;
	m.annual_revenue = p->annual_revenue;
	m.n_technologies = p->n_technologies;
	m.technologies = it_unconst(p->technologies);
	m.lead_source = it_str(p->lead_source);
	m.owner_id = it_str(p->owner_id);
	return it_pack(&m.base);
}

it_bytes it_pb_activity(const fd_activity *a)
{
	/* common.proto's numbers, written out rather than taken from src/wire */
	static const Funneld__V1__ActivityKind kinds[FD_ACT_COUNT] = {
		[FD_ACT_ASSIGN] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_ASSIGN,
		[FD_ACT_TOUCH] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_TOUCH,
		[FD_ACT_ACCEPT] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_ACCEPT,
		[FD_ACT_REJECT] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_REJECT,
		[FD_ACT_REVERT] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_REVERT,
		[FD_ACT_QUALIFY] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_QUALIFY,
		[FD_ACT_OPPORTUNITY] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_OPPORTUNITY,
		[FD_ACT_WON] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_WON,
		[FD_ACT_LOST] = FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_LOST,
	};
	static const Funneld__V1__Reason reasons[FD_REASON_COUNT] = {
		[FD_REASON_NONE] = FUNNELD__V1__REASON__REASON_UNSPECIFIED,
		[FD_REASON_BAD_FIT] = FUNNELD__V1__REASON__REASON_BAD_FIT,
		[FD_REASON_BAD_TIMING] = FUNNELD__V1__REASON__REASON_BAD_TIMING,
		[FD_REASON_NO_BUDGET] = FUNNELD__V1__REASON__REASON_NO_BUDGET,
		[FD_REASON_NO_RESPONSE] = FUNNELD__V1__REASON__REASON_NO_RESPONSE,
		[FD_REASON_DUPLICATE] = FUNNELD__V1__REASON__REASON_DUPLICATE,
		[FD_REASON_COMPETITOR] = FUNNELD__V1__REASON__REASON_COMPETITOR,
		[FD_REASON_OTHER] = FUNNELD__V1__REASON__REASON_OTHER,
	};
	cr_assert_lt((unsigned)a->kind, FD_ACT_COUNT);
	cr_assert_lt((unsigned)a->reason, FD_REASON_COUNT);
	Funneld__V1__SalesActivity m;
	funneld__v1__sales_activity__init(&m);
	m.activity_id = it_str(a->activity_id);
	m.lead_id = it_str(a->lead_id);
	m.occurred_at_ms = a->occurred_at_ms;
	m.rep_id = it_str(a->rep_id);
	m.kind = kinds[a->kind];
	m.reason = reasons[a->reason];
	m.note = it_str(a->note);
	m.review_after_days = a->review_after_days;
	return it_pack(&m.base);
}

static int64_t it_send(const char *topic, const char *key, it_bytes b)
{
	int64_t off = it_produce(topic, IT_PARTITION_BY_KEY, key, b.data, b.len, NULL, 0, NULL);
	free(b.data);
	return off;
}

it_bytes it_pb_giant(const char *lead, const char *event_id, int64_t at, size_t n_properties)
{
	Funneld__V1__EngagementEvent ev;
	funneld__v1__engagement_event__init(&ev);
	ev.event_id = (char *)(uintptr_t)event_id;
	ev.lead_id = (char *)(uintptr_t)lead;
	ev.occurred_at_ms = at;
	ev.type = (char *)(uintptr_t)"demo_request";
	ev.channel = (char *)(uintptr_t)"web";
	Funneld__V1__EngagementEvent__PropertiesEntry *e = calloc(n_properties, sizeof *e);
	Funneld__V1__EngagementEvent__PropertiesEntry **ptr = calloc(n_properties, sizeof *ptr);
	char (*keys)[32] = calloc(n_properties, sizeof *keys);
	cr_assert(e && ptr && keys);
	for (size_t i = 0; i < n_properties; i++) {
		funneld__v1__engagement_event__properties_entry__init(&e[i]);
		snprintf(keys[i], sizeof keys[i], "utm_%06zu", i);
		e[i].key = keys[i];
		e[i].value = (char *)(uintptr_t)"campaign-value";
		ptr[i] = &e[i];
	}
	ev.n_properties = n_properties;
	ev.properties = ptr;
	it_bytes b = it_pack(&ev.base);
	free(e);
	free(ptr);
	free(keys);
	return b;
}

int64_t it_send_engagement(const fd_engagement *ev)
{
	return it_send(it_cfg()->settings.topics.engagement, ev->lead_id, it_pb_engagement(ev));
}

void it_lead_name(char *out, size_t size, const char *prefix, int i)
{
	snprintf(out, size, "%s-%04d", prefix, i);
}

void it_send_hand_raises(const char *prefix, int from, int to)
{
	const char *topic = it_cfg()->settings.topics.engagement;
	const int64_t at = it_now_ms() - 10 * 60000;
	for (int i = from; i < to; i++) {
		char lead[64], id[80];
		it_lead_name(lead, sizeof lead, prefix, i);
		snprintf(id, sizeof id, "ev-%s", lead);
		fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at + i,
			                 .type = "demo_request", .channel = "web", .content_id = "demo-form" };
		it_bytes b = it_pb_engagement(&ev);
		it_produce_async(topic, IT_PARTITION_BY_KEY, lead, b.data, b.len);
		free(b.data);
	}
	it_flush(IT_WAIT_MS);
}

int it_admin_port(it_proc *p, int timeout_ms)
{
	int64_t deadline = it_mono_ms() + timeout_ms;
	for (;;) {
		char *log = it_proc_log(p);
		const char *at = log ? strstr(log, "admin HTTP on http://") : NULL;
		const char *colon = at ? strchr(at + strlen("admin HTTP on http://"), ':') : NULL;
		int port = colon ? atoi(colon + 1) : -1;
		free(log);
		if (port > 0)
			return port;
		it_assert_running(p, "before its admin HTTP line");
		cr_assert_lt(it_mono_ms(), deadline, "no 'admin HTTP on' line within %d ms", timeout_ms);
		it_sleep_ms(20);
	}
}

void it_stop_daemon(it_proc *p)
{
	int status = 0;
	it_proc_signal(p, SIGTERM);
	cr_assert(it_proc_wait_exit(p, IT_WAIT_MS, &status), "%s still runs %d ms after SIGTERM",
	          p->name, IT_WAIT_MS);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "%s did not stop cleanly after SIGTERM (status 0x%x)", p->name, status);
}

int64_t it_send_profile(const fd_profile *p)
{
	return it_send(it_cfg()->settings.topics.profiles, p->lead_id, it_pb_profile(p));
}

int64_t it_send_activity(const fd_activity *a)
{
	return it_send(it_cfg()->settings.topics.activities, a->lead_id, it_pb_activity(a));
}

/* ---- reading outputs ------------------------------------------------------------------- */

struct it_reader {
	rd_kafka_t *rk;
	it_msg *msgs;
	size_t n, cap;
};

static int it_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	int64_t deadline = it_mono_ms() + timeout_ms;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	cr_assert_not_null(rkt);
	int count = -1;
	rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
	while (count < 0 && it_mono_ms() < deadline) {
		const struct rd_kafka_metadata *md = NULL;
		last = rd_kafka_metadata(rk, 0, rkt, &md, 2000);
		if (last == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
		    md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0)
			count = md->topics[0].partition_cnt;
		else if (last == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1)
			last = md->topics[0].err;
		if (md)
			rd_kafka_metadata_destroy(md);
		if (count < 0)
			it_sleep_ms(100);
	}
	rd_kafka_topic_destroy(rkt);
	cr_assert(count > 0, "no metadata for topic %s within %d ms: %s", topic, timeout_ms,
	          rd_kafka_err2str(last));
	return count;
}

it_reader *it_reader_open(const char *const *topics)
{
	static int serial;
	it_reader *r = calloc(1, sizeof *r);
	cr_assert_not_null(r);
	rd_kafka_conf_t *c = it_kafka_conf();
	char group[200];
	snprintf(group, sizeof group, "it-reader-%d-%d", (int)getpid(), ++serial);
	it_conf_set(c, "group.id", group);
	it_conf_set(c, "enable.auto.commit", "false");
	it_conf_set(c, "auto.offset.reset", "earliest");
	it_conf_set(c, "client.id", "it-reader");
	char err[512];
	r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
	cr_assert_not_null(r->rk, "cannot create the test reader: %s", err);
	rd_kafka_poll_set_consumer(r->rk);
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
	for (size_t t = 0; topics[t]; t++) {
		int n = it_partition_count(r->rk, topics[t], IT_WAIT_MS);
		for (int p = 0; p < n; p++)
			rd_kafka_topic_partition_list_add(list, topics[t], p)->offset =
				RD_KAFKA_OFFSET_BEGINNING;
	}
	rd_kafka_resp_err_t e = rd_kafka_assign(r->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "assign: %s", rd_kafka_err2str(e));
	return r;
}

it_reader *it_reader_outputs(void)
{
	const fd_topics *t = &it_cfg()->settings.topics;
	const char *topics[] = { t->transitions, t->sla, t->scores, t->dead_letters, NULL };
	return it_reader_open(topics);
}

static void it_msg_copy(it_msg *o, const rd_kafka_message_t *m)
{
	memset(o, 0, sizeof *o);
	snprintf(o->topic, sizeof o->topic, "%s", rd_kafka_topic_name(m->rkt));
	o->partition = m->partition;
	o->offset = m->offset;
	if (m->key) {
		o->key = malloc(m->key_len + 1);
		cr_assert_not_null(o->key);
		memcpy(o->key, m->key, m->key_len);
		o->key[m->key_len] = '\0';
		o->key_len = m->key_len;
	}
	if (m->payload) {
		o->value = malloc(m->len + 1);
		cr_assert_not_null(o->value);
		memcpy(o->value, m->payload, m->len);
		o->value[m->len] = '\0';
		o->len = m->len;
	}
	rd_kafka_headers_t *hdrs = NULL;
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
		size_t n = rd_kafka_header_cnt(hdrs);
		o->header_names = calloc(n ? n : 1, sizeof *o->header_names);
		o->header_values = calloc(n ? n : 1, sizeof *o->header_values);
		o->header_sizes = calloc(n ? n : 1, sizeof *o->header_sizes);
		cr_assert(o->header_names && o->header_values && o->header_sizes);
		for (size_t i = 0; i < n; i++) {
			const char *name;
			const void *val;
			size_t size;
			if (rd_kafka_header_get_all(hdrs, i, &name, &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
				break;
			o->header_names[i] = strdup(name);
			if (val) {
				o->header_values[i] = malloc(size + 1);
				cr_assert_not_null(o->header_values[i]);
				memcpy(o->header_values[i], val, size);
				o->header_values[i][size] = '\0';
			}
			o->header_sizes[i] = size;
			o->n_headers = i + 1;
		}
	}
}

void it_reader_poll(it_reader *r, int ms)
{
	int64_t deadline = it_mono_ms() + ms;
	for (;;) {
		int64_t left = deadline - it_mono_ms();
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, left > 0 ? (int)left : 0);
		if (m) {
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
				if (r->n == r->cap) {
					r->cap = r->cap ? r->cap * 2 : 64;
					r->msgs = realloc(r->msgs, r->cap * sizeof *r->msgs);
					cr_assert_not_null(r->msgs);
				}
				it_msg_copy(&r->msgs[r->n++], m);
			}
			rd_kafka_message_destroy(m);
			continue; /* drain what is ready before honouring the deadline */
		}
		if (left <= 0)
			break;
	}
}

void it_reader_poll_to_end(it_reader *r, int timeout_ms)
{
	rd_kafka_topic_partition_list_t *a = NULL;
	rd_kafka_resp_err_t e = rd_kafka_assignment(r->rk, &a);
	cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "assignment: %s", rd_kafka_err2str(e));
	int64_t *lo = calloc((size_t)a->cnt + 1, sizeof *lo), *hi = calloc((size_t)a->cnt + 1, sizeof *hi);
	cr_assert(lo && hi);
	for (int i = 0; i < a->cnt; i++) {
		e = rd_kafka_query_watermark_offsets(r->rk, a->elems[i].topic, a->elems[i].partition,
		                                     &lo[i], &hi[i], IT_WAIT_MS);
		cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "end offset of %s[%d]: %s", a->elems[i].topic,
		             (int)a->elems[i].partition, rd_kafka_err2str(e));
	}
	int64_t deadline = it_mono_ms() + timeout_ms;
	for (;;) {
		it_reader_poll(r, 100);
		rd_kafka_position(r->rk, a);
		int behind = -1;
		for (int i = 0; i < a->cnt && behind < 0; i++)
			if (hi[i] > lo[i] && a->elems[i].offset < hi[i])
				behind = i;
		if (behind < 0)
			break;
		cr_assert_lt(it_mono_ms(), deadline, "the reader is at %" PRId64 " of %s[%d], the end "
		             "was %" PRId64 ", after %d ms", a->elems[behind].offset,
		             a->elems[behind].topic, (int)a->elems[behind].partition, hi[behind],
		             timeout_ms);
	}
	free(lo);
	free(hi);
	rd_kafka_topic_partition_list_destroy(a);
}

size_t it_reader_count(const it_reader *r) { return r->n; }
const it_msg *it_reader_at(const it_reader *r, size_t i) { return i < r->n ? &r->msgs[i] : NULL; }

static bool it_msg_match(const it_msg *m, const char *topic, const char *key)
{
	if (topic && strcmp(m->topic, topic) != 0)
		return false;
	if (key && (!m->key || strcmp(m->key, key) != 0))
		return false;
	return true;
}

size_t it_reader_count_of(const it_reader *r, const char *topic, const char *key)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += it_msg_match(&r->msgs[i], topic, key);
	return n;
}

const it_msg *it_reader_nth(const it_reader *r, const char *topic, const char *key, size_t nth)
{
	for (size_t i = 0; i < r->n; i++)
		if (it_msg_match(&r->msgs[i], topic, key) && nth-- == 0)
			return &r->msgs[i];
	return NULL;
}

void it_reader_close(it_reader *r)
{
	if (!r)
		return;
	rd_kafka_consumer_close(r->rk);
	rd_kafka_destroy(r->rk);
	for (size_t i = 0; i < r->n; i++) {
		it_msg *m = &r->msgs[i];
		for (size_t h = 0; h < m->n_headers; h++) {
			free(m->header_names[h]);
			free(m->header_values[h]);
		}
		free(m->header_names);
		free(m->header_values);
		free(m->header_sizes);
		free(m->key);
		free(m->value);
	}
	free(r->msgs);
	free(r);
}

const char *it_header_str(const it_msg *m, const char *name, int *count)
{
	static char bufs[8][1024];
	static int next;
	const char *found = NULL;
	int n = 0;
	for (size_t i = 0; i < m->n_headers; i++) {
		if (strcmp(m->header_names[i], name) != 0)
			continue;
		if (n++ == 0) {
			char *b = bufs[next++ % 8];
			snprintf(b, sizeof bufs[0], "%.*s", (int)m->header_sizes[i],
			         m->header_values[i] ? (const char *)m->header_values[i] : "");
			found = m->header_values[i] ? b : NULL;
		}
	}
	if (count)
		*count = n;
	return found;
}

size_t it_distinct_header(const it_reader *r, const char *topic, const char *name)
{
	size_t distinct = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!it_msg_match(&r->msgs[i], topic, NULL))
			continue;
		const char *v = it_header_str(&r->msgs[i], name, NULL);
		if (!v)
			continue;
		char mine[1024];
		snprintf(mine, sizeof mine, "%s", v);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			if (!it_msg_match(&r->msgs[j], topic, NULL))
				continue;
			const char *w = it_header_str(&r->msgs[j], name, NULL);
			seen = w && strcmp(w, mine) == 0;
		}
		distinct += !seen;
	}
	return distinct;
}

/* ---- offsets ---------------------------------------------------------------------------- */

static rd_kafka_t *it_offsets_client(const char *group)
{
	rd_kafka_conf_t *c = it_kafka_conf();
	it_conf_set(c, "group.id", group);
	it_conf_set(c, "enable.auto.commit", "false");
	it_conf_set(c, "client.id", "it-offsets");
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
	cr_assert_not_null(rk, "cannot create the offsets client: %s", err);
	return rk;
}

int64_t it_end_offsets(const char *topic)
{
	char group[64];
	snprintf(group, sizeof group, "it-offsets-%d", (int)getpid());
	rd_kafka_t *rk = it_offsets_client(group);
	int n = it_partition_count(rk, topic, IT_WAIT_MS);
	int64_t sum = 0;
	for (int p = 0; p < n; p++) {
		int64_t lo = 0, hi = 0;
		rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, IT_WAIT_MS);
		cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "end offset of %s[%d]: %s", topic, p,
		             rd_kafka_err2str(e));
		sum += hi;
	}
	rd_kafka_destroy(rk);
	return sum;
}

static bool it_committed_check(rd_kafka_t *rk, char *diag, size_t diag_size)
{
	const fd_topics *t = &it_cfg()->settings.topics;
	const char *topics[] = { t->engagement, t->profiles, t->activities };
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
	for (size_t i = 0; i < 3; i++) {
		int n = it_partition_count(rk, topics[i], IT_WAIT_MS);
		for (int p = 0; p < n; p++)
			rd_kafka_topic_partition_list_add(list, topics[i], p);
	}
	bool ok = true;
	size_t off = 0;
	diag[0] = '\0';
	rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, 5000);
	if (err) {
		snprintf(diag, diag_size, "committed offsets not readable: %s", rd_kafka_err2str(err));
		ok = false;
	}
	for (int i = 0; ok && i < list->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &list->elems[i];
		int64_t lo = 0, hi = 0;
		rd_kafka_resp_err_t e =
			rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, 5000);
		if (e) {
			snprintf(diag, diag_size, "end offset of %s[%d] not readable: %s", tp->topic,
			         (int)tp->partition, rd_kafka_err2str(e));
			ok = false;
			break;
		}
		int64_t committed = tp->err ? RD_KAFKA_OFFSET_INVALID : tp->offset;
		bool same = committed == hi || (hi == 0 && committed < 0);
		if (!same) {
			ok = false;
			if (off < diag_size)
				off += (size_t)snprintf(diag + off, diag_size - off,
				                        "%s[%d]: committed %" PRId64 ", end %" PRId64 "; ",
				                        tp->topic, (int)tp->partition, committed, hi);
		}
	}
	rd_kafka_topic_partition_list_destroy(list);
	return ok;
}

bool it_committed_at_end(const char *group, char *diag, size_t diag_size)
{
	rd_kafka_t *rk = it_offsets_client(group);
	bool ok = it_committed_check(rk, diag, diag_size);
	rd_kafka_destroy(rk);
	return ok;
}

void it_wait_committed_at_end(const char *group, int timeout_ms)
{
	rd_kafka_t *rk = it_offsets_client(group);
	char diag[2048] = "";
	int64_t deadline = it_mono_ms() + timeout_ms;
	bool ok;
	while (!(ok = it_committed_check(rk, diag, sizeof diag)) && it_mono_ms() < deadline)
		it_sleep_ms(200);
	rd_kafka_destroy(rk);
	cr_assert(ok, "group %s: committed offsets did not reach the end offsets within %d ms: %s",
	          group, timeout_ms, diag);
}

/* ---- runner-side report hook ------------------------------------------------------------------
 *
 * Runs in Criterion's runner process after each test: prints the logs of a
 * failed test and kills any funneld process the test left behind (a worker
 * that crashed never ran its .fini). A pid is killed only if its command
 * line names this test's scratch directory, so a recycled pid is safe.
 * The hook lives in this object file, which the linker takes from the
 * library for every test that calls the harness (durability.c calls it
 * too), and for no other. */

static bool it_pid_is_ours(int pid, const char *dir)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	bool bin = n > 0 && strcmp(buf, FUNNELD_BIN) == 0;
	bool in_dir = false;
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		buf[n] = '\0';
		if (strstr(buf + i, dir) != NULL)
			in_dir = true;
	}
	return bin && in_dir;
}

static void it_print_logs(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char p[1400];
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 4, ".log") != 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		char *text = it_read_file(p);
		if (!text)
			continue;
		fprintf(stderr, "---- %s (last 16 KB) ----\n%s\n---- end of %s ----\n", p,
		        it_tail(text, 16384), e->d_name);
		free(text);
	}
	closedir(d);
}

static void it_after_test(struct criterion_test_stats *stats)
{
	char dir[1024];
	it_test_dir(dir, sizeof dir, stats->test->category, stats->test->name);
	bool failed = stats->test_status == CR_STATUS_FAILED || stats->crashed || stats->timed_out;
	if (failed)
		it_print_logs(dir);
	char path[1200];
	snprintf(path, sizeof path, "%s/pids", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	int pid;
	while (fscanf(f, "%d", &pid) == 1) {
		if (pid > 0 && it_pid_is_ours(pid, dir)) {
			fprintf(stderr, "harness: killing leftover process %d of %s::%s\n", pid,
			        stats->test->category, stats->test->name);
			kill(pid, SIGKILL);
		}
	}
	fclose(f);
}

ReportHook(POST_FINI)(struct criterion_test_stats *stats)
{
	it_after_test(stats);
}
