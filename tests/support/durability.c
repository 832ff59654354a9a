/*
 * durability.c — the durability suite's helpers (see durability.h), built
 * once into the funneld_testsupport library with the harness.
 *
 * Processes are spawned like the harness's (posix_spawn, a process group
 * of their own, a log file as stdout and stderr) but kept here, up to
 * DUR_MAX_PROCS per test; Kafka clients assign partitions themselves (no
 * group join). State is per test process: the seed, the processes.
 *
 * What it is not: a second harness (the broker, the producer, the
 * overrides and the report hook that kills leftovers are harness.c's).
 */
#include "durability.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "funneld/v1/outputs.pb-c.h"
#include "funneld/wire.h"

#define DUR_MAX_PROCS 96

/* ---- seed and PRNG ----------------------------------------------------------- */

static uint64_t dur_seed_value;
static bool dur_seed_set;

void dur_trace(const char *fmt, ...)
{
	char line[10240];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
	char path[1200];
	snprintf(path, sizeof path, "%s/durability.log", it_dir());
	FILE *f = fopen(path, "a");
	if (f) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
}

uint64_t dur_seed(const char *test)
{
	if (!dur_seed_set) {
		const char *env = getenv("FUNNELD_TEST_SEED");
		if (env && *env) {
			dur_seed_value = strtoull(env, NULL, 0);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			dur_seed_value = ((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^
			                 ((uint64_t)getpid() << 32);
			dur_seed_value %= 1000000000u; /* short enough to retype */
		}
		dur_seed_set = true;
	}
	dur_trace("%s: seed %" PRIu64 " (rerun with FUNNELD_TEST_SEED=%" PRIu64 ")", test,
	          dur_seed_value, dur_seed_value);
	return dur_seed_value;
}

/* splitmix64 */
static uint64_t dur_rand(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

int dur_rand_range(uint64_t *s, int lo, int hi)
{
	return lo + (int)(dur_rand(s) % (uint64_t)(hi - lo + 1));
}

/* True with probability pct/100. */
static bool dur_chance(uint64_t *s, int pct)
{
	return (int)(dur_rand(s) % 100) < pct;
}

int64_t dur_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dur_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- daemon processes of our own ------------------------------------------------- */

static dur_proc *dur_procs[DUR_MAX_PROCS];
static size_t dur_n_procs;

extern char **environ;

static char *dur_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0, got;
	char *buf = malloc(cap);
	cr_assert_not_null(buf);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static char *dur_str(const char *s)
{
	return (char *)(uintptr_t)s;
}

/* environ without the variables that drop log timestamps */
static char **dur_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 1, sizeof *env);
	cr_assert_not_null(env);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "JOURNAL_STREAM=", 15) != 0 &&
		    strncmp(environ[i], "FUNNELD_LOG_PREFIX=", 19) != 0)
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

/* `funneld CMD [-c] CONF -o (harness overrides) -o (extra)` with stdout and
 * stderr appended to DIR/NAME.log. */
static dur_proc *dur_spawn(const char *name, const char *cmd, const char *const *extra)
{
	cr_assert_lt(dur_n_procs, DUR_MAX_PROCS, "too many processes");
	dur_proc *p = calloc(1, sizeof *p);
	cr_assert_not_null(p);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->log, sizeof p->log, "%s/%s.log", it_dir(), name);

	size_t n_over, n_extra = 0;
	const char *const *over = it_overrides(&n_over);
	while (extra && extra[n_extra])
		n_extra++;
	char **argv = calloc(4 + 2 * (n_over + n_extra) + 1, sizeof *argv);
	cr_assert_not_null(argv);
	size_t k = 0;
	argv[k++] = dur_str(FUNNELD_BIN);
	argv[k++] = dur_str(cmd);
	if (strcmp(cmd, "run") == 0)
		argv[k++] = dur_str("-c");
	argv[k++] = dur_str(it_conf_path());
	for (size_t i = 0; i < n_over; i++) {
		argv[k++] = dur_str("-o");
		argv[k++] = dur_str(over[i]);
	}
	for (size_t i = 0; i < n_extra; i++) {
		argv[k++] = dur_str("-o");
		argv[k++] = dur_str(extra[i]);
	}
	argv[k] = NULL;

	int log = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	cr_assert(log >= 0, "cannot open %s: %s", p->log, strerror(errno));
	int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert(null_in >= 0);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	cr_assert_eq(posix_spawn_file_actions_init(&fa), 0);
	cr_assert_eq(posix_spawnattr_init(&attr), 0);
	posix_spawn_file_actions_adddup2(&fa, null_in, 0);
	posix_spawn_file_actions_adddup2(&fa, log, 1);
	posix_spawn_file_actions_adddup2(&fa, log, 2);
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGHUP);
	sigaddset(&defaults, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                    POSIX_SPAWN_SETPGROUP);
	char **env = dur_env();
	p->start_ms = it_now_ms();
	int rc = posix_spawn(&p->pid, FUNNELD_BIN, &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(env);
	free(argv);
	close(null_in);
	close(log);
	cr_assert_eq(rc, 0, "posix_spawn %s: %s", FUNNELD_BIN, strerror(rc));
	char path[1200];
	snprintf(path, sizeof path, "%s/pids", it_dir());
	FILE *f = fopen(path, "a");
	if (f) {
		fprintf(f, "%d\n", (int)p->pid);
		fclose(f);
	}
	dur_procs[dur_n_procs++] = p;
	return p;
}

static bool dur_poll_exit(dur_proc *p)
{
	if (p->reaped)
		return true;
	int st;
	pid_t r = waitpid(p->pid, &st, WNOHANG);
	if (r == p->pid || (r < 0 && errno == ECHILD)) {
		p->reaped = true;
		p->status = r == p->pid ? st : -1;
		p->end_ms = it_now_ms();
		return true;
	}
	return false;
}

bool dur_wait_exit(dur_proc *p, int timeout_ms, int *status)
{
	int64_t deadline = dur_mono_ms() + timeout_ms;
	while (!dur_poll_exit(p)) {
		if (dur_mono_ms() >= deadline)
			return false;
		dur_sleep_ms(10);
	}
	p->expect_running = false;
	if (status)
		*status = p->status;
	return true;
}

char *dur_log(const dur_proc *p)
{
	char *text = dur_read_file(p->log);
	return text ? text : strdup("");
}

void dur_assert_alive(dur_proc *p, const char *when)
{
	if (!dur_poll_exit(p))
		return;
	char *log = dur_log(p);
	cr_assert_fail("%s exited (status 0x%x) %s; log tail:\n%s", p->name, p->status, when,
	               it_tail(log, 4000));
	free(log);
}

void dur_check_alive(void)
{
	for (size_t i = 0; i < dur_n_procs; i++)
		if (dur_procs[i]->expect_running)
			dur_assert_alive(dur_procs[i], "unexpectedly");
}

void dur_check_config(const char *const *extra)
{
	static int serial;
	char name[64];
	snprintf(name, sizeof name, "dur-check-config-%d", ++serial);
	dur_proc *p = dur_spawn(name, "check-config", extra);
	int status = 0;
	cr_assert(dur_wait_exit(p, IT_WAIT_MS, &status), "check-config did not finish in %d ms",
	          IT_WAIT_MS);
	char *text = dur_log(p);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "funneld check-config refuses the test configuration (status 0x%x):\n%s", status, text);
	free(text);
}

dur_proc *dur_daemon(const char *name, const char *const *extra)
{
	dur_proc *p = dur_spawn(name, "run", extra);
	p->expect_running = true;
	return p;
}

static void dur_signal(dur_proc *p, int sig)
{
	p->expect_running = false;
	if (!dur_poll_exit(p))
		kill(p->pid, sig);
}

int64_t dur_kill9(dur_proc *p)
{
	dur_signal(p, SIGKILL);
	cr_assert(dur_wait_exit(p, 10000, NULL), "%s survived SIGKILL for 10 s", p->name);
	return p->end_ms;
}

void dur_stop_clean(dur_proc *p, int timeout_ms)
{
	dur_assert_alive(p, "before SIGTERM");
	dur_signal(p, SIGTERM);
	int status = 0;
	bool exited = dur_wait_exit(p, timeout_ms, &status);
	char *log = dur_log(p);
	cr_assert(exited, "%s still running %d ms after SIGTERM; log tail:\n%s", p->name, timeout_ms,
	          it_tail(log, 4000));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "%s after SIGTERM: status 0x%x (want exit 0); log tail:\n%s", p->name, status,
	          it_tail(log, 4000));
	free(log);
}

void dur_teardown(void)
{
	for (size_t i = 0; i < dur_n_procs; i++) {
		dur_proc *p = dur_procs[i];
		if (!dur_poll_exit(p)) {
			kill(p->pid, SIGTERM);
			if (!dur_wait_exit(p, 5000, NULL)) {
				kill(p->pid, SIGKILL);
				(void)dur_wait_exit(p, 5000, NULL);
			}
		}
	}
	for (size_t i = 0; i < dur_n_procs; i++)
		free(dur_procs[i]);
	dur_n_procs = 0;
	it_teardown();
}

/* ---- logs ----------------------------------------------------------------------------- */

int64_t dur_line_time(const char *line)
{
	int y, mo, d, h, mi, s, ms;
	if (sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &s, &ms) != 7)
		return -1;
	struct tm tm = { 0 };
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

size_t dur_count_lines(const char *text, const char *needle)
{
	size_t n = 0;
	const char *line = text;
	size_t nl = strlen(needle);
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *hit = strstr(line, needle);
		if (hit && (size_t)(hit - line) + nl <= len)
			n++;
		line += len + (end != NULL);
	}
	return n;
}

bool dur_find_line(const char *text, const char *needle, char *out, size_t size)
{
	const char *line = text;
	size_t nl = strlen(needle);
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *hit = strstr(line, needle);
		if (hit && (size_t)(hit - line) + nl <= len) {
			snprintf(out, size, "%.*s", (int)len, line);
			return true;
		}
		line += len + (end != NULL);
	}
	return false;
}

bool dur_restored_all(const dur_proc *p, const char *topic)
{
	char *log = dur_log(p);
	size_t assigned = 0, restored = dur_count_lines(log, ": restored ");
	char pat[300];
	snprintf(pat, sizeof pat, " %s[", topic);
	bool any = false;
	const char *line = log;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		if (strstr(copy, "assigned: ")) {
			any = true;
			for (const char *q = strstr(copy, "assigned:"); (q = strstr(q + 1, pat)) != NULL;)
				assigned++;
		}
		free(copy);
		line += len + (end != NULL);
	}
	free(log);
	return any && restored >= assigned;
}

/* ---- topic sets --------------------------------------------------------------------- */

static const char *const dur_out_names[DUR_OUTS] = { "transitions", "sla", "scores",
	                                                 "dead-letters", "changelog" };

void dur_set_init(dur_set *s, const char *prefix)
{
	memset(s, 0, sizeof *s);
	s->partitions = it_partitions();
	fd_config cfg;
	it_load_config(&cfg);
	const fd_topics *t = &cfg.settings.topics;
	if (!prefix) {
		snprintf(s->group, sizeof s->group, "%s", it_group());
		snprintf(s->in[0], sizeof s->in[0], "%s", t->engagement);
		snprintf(s->in[1], sizeof s->in[1], "%s", t->profiles);
		snprintf(s->in[2], sizeof s->in[2], "%s", t->activities);
		snprintf(s->out[0], sizeof s->out[0], "%s", t->transitions);
		snprintf(s->out[1], sizeof s->out[1], "%s", t->sla);
		snprintf(s->out[2], sizeof s->out[2], "%s", t->scores);
		snprintf(s->out[3], sizeof s->out[3], "%s", t->dead_letters);
		snprintf(s->out[4], sizeof s->out[4], "%s", t->changelog);
	} else {
		snprintf(s->group, sizeof s->group, "%s-%s", it_group(), prefix);
		static const char *const in[3] = { "engagement", "profiles", "activities" };
		for (int i = 0; i < 3; i++)
			snprintf(s->in[i], sizeof s->in[i], "%s.%s", prefix, in[i]);
		for (int i = 0; i < DUR_OUTS; i++)
			snprintf(s->out[i], sizeof s->out[i], "%s.%s", prefix, dur_out_names[i]);
		char cmd[400];
		for (int i = 0; i < 3; i++) {
			snprintf(cmd, sizeof cmd, "create %s %d", s->in[i], s->partitions);
			it_broker_ok(cmd);
		}
		for (int i = 0; i < DUR_OUTS; i++) {
			snprintf(cmd, sizeof cmd, "create %s %d", s->out[i], s->partitions);
			it_broker_ok(cmd);
		}
	}
	fd_config_free(&cfg);
	int k = 0;
	snprintf(s->over[k++], sizeof s->over[0], "kafka.group.id=%s", s->group);
	snprintf(s->over[k++], sizeof s->over[0], "topics.engagement=%s", s->in[0]);
	snprintf(s->over[k++], sizeof s->over[0], "topics.profiles=%s", s->in[1]);
	snprintf(s->over[k++], sizeof s->over[0], "topics.activities=%s", s->in[2]);
	snprintf(s->over[k++], sizeof s->over[0], "topics.transitions=%s", s->out[0]);
	snprintf(s->over[k++], sizeof s->over[0], "topics.sla=%s", s->out[1]);
	snprintf(s->over[k++], sizeof s->over[0], "topics.scores=%s", s->out[2]);
	snprintf(s->over[k++], sizeof s->over[0], "topics.dead_letters=%s", s->out[3]);
	snprintf(s->over[k++], sizeof s->over[0], "topics.changelog=%s", s->out[4]);
	for (int i = 0; i < k; i++)
		s->extra[i] = s->over[i];
	s->extra[k] = NULL;
}

void dur_set_free(dur_set *s)
{
	if (s->offsets)
		rd_kafka_destroy(s->offsets);
	s->offsets = NULL;
}

const char *const *dur_set_args(const dur_set *s, const char *const *more)
{
	static const char *args[64];
	size_t k = 0;
	for (size_t i = 0; s->extra[i]; i++)
		args[k++] = s->extra[i];
	for (size_t i = 0; more && more[i] && k < 63; i++)
		args[k++] = more[i];
	args[k] = NULL;
	return args;
}

static rd_kafka_t *dur_client(const char *group, const char *client_id)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char err[512];
	cr_assert_eq(rd_kafka_conf_set(c, "bootstrap.servers", it_bootstrap(), err, sizeof err),
	             RD_KAFKA_CONF_OK, "%s", err);
	cr_assert_eq(rd_kafka_conf_set(c, "group.id", group, err, sizeof err), RD_KAFKA_CONF_OK, "%s",
	             err);
	cr_assert_eq(rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err),
	             RD_KAFKA_CONF_OK, "%s", err);
	cr_assert_eq(rd_kafka_conf_set(c, "client.id", client_id, err, sizeof err), RD_KAFKA_CONF_OK,
	             "%s", err);
	cr_assert_eq(rd_kafka_conf_set(c, "log_level", "0", err, sizeof err), RD_KAFKA_CONF_OK, "%s",
	             err);
	cr_assert_eq(rd_kafka_conf_set(c, "fetch.wait.max.ms", "50", err, sizeof err),
	             RD_KAFKA_CONF_OK, "%s", err);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
	cr_assert_not_null(rk, "cannot create a Kafka client: %s", err);
	return rk;
}

bool dur_committed_at_end(dur_set *s, char *diag, size_t diag_size)
{
	if (!s->offsets)
		s->offsets = dur_client(s->group, "dur-offsets");
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(3 * s->partitions);
	for (int t = 0; t < 3; t++)
		for (int p = 0; p < s->partitions; p++)
			rd_kafka_topic_partition_list_add(l, s->in[t], p);
	bool ok = true;
	size_t off = 0;
	diag[0] = '\0';
	rd_kafka_resp_err_t err = rd_kafka_committed(s->offsets, l, 5000);
	if (err) {
		snprintf(diag, diag_size, "committed offsets not readable: %s", rd_kafka_err2str(err));
		ok = false;
	}
	for (int i = 0; ok && i < l->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &l->elems[i];
		int64_t lo = 0, hi = 0;
		rd_kafka_resp_err_t e =
			rd_kafka_query_watermark_offsets(s->offsets, tp->topic, tp->partition, &lo, &hi, 5000);
		if (e) {
			snprintf(diag, diag_size, "end offset of %s[%d]: %s", tp->topic, (int)tp->partition,
			         rd_kafka_err2str(e));
			ok = false;
			break;
		}
		int64_t committed = tp->err ? RD_KAFKA_OFFSET_INVALID : tp->offset;
		if (!(committed == hi || (hi == 0 && committed < 0))) {
			ok = false;
			if (off < diag_size)
				off += (size_t)snprintf(diag + off, diag_size - off,
				                        "%s[%d] committed %" PRId64 " end %" PRId64 "; ", tp->topic,
				                        (int)tp->partition, committed, hi);
		}
	}
	rd_kafka_topic_partition_list_destroy(l);
	return ok;
}

/* ---- input scripts ------------------------------------------------------------------------ */

/* Takes ownership of b.data. */
static void dur_script_add(dur_script *sc, int phase, int topic, int32_t partition, const char *key,
                           it_bytes b)
{
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 256;
		sc->recs = realloc(sc->recs, sc->cap * sizeof *sc->recs);
		cr_assert_not_null(sc->recs);
	}
	dur_rec *r = &sc->recs[sc->n++];
	r->phase = phase;
	r->topic = topic;
	r->partition = partition;
	r->key = strdup(key);
	r->value = b.data;
	r->len = b.len;
	if (phase + 1 > sc->phases)
		sc->phases = phase + 1;
}

void dur_script_free(dur_script *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->recs[i].key);
		free(sc->recs[i].value);
	}
	free(sc->recs);
	memset(sc, 0, sizeof *sc);
}

void dur_produce(const dur_set *s, const dur_script *sc, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		const dur_rec *r = &sc->recs[i];
		it_produce_async(s->in[r->topic], r->partition, r->key, r->value, r->len);
	}
	it_flush(IT_WAIT_MS);
}

size_t dur_phase_start(const dur_script *sc, int phase)
{
	size_t i = 0;
	while (i < sc->n && sc->recs[i].phase < phase)
		i++;
	return i;
}

uint32_t dur_fnv(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* ---- the scripted scenario (crash and scale-out: see durability.h) ------------------------- */

static const char *const dur_types[] = { "page_view", "email_open", "email_click",
	                                     "content_download", "webinar_attended", "event_attended",
	                                     "form_submit", "pricing_view", "demo_request",
	                                     "unsubscribe", "careers_page_view" };
static const int dur_type_weights[] = { 30, 15, 12, 10, 6, 3, 6, 6, 5, 4, 3 };
static const char *const dur_contents[] = { "blog-kafka", "ebook-scoring", "webinar-slas",
	                                        "pricing", "demo-form", "case-study" };
static const char *const dur_channels[] = { "web", "email", "paid", "partner" };

static const char *dur_pick_type(uint64_t *rng)
{
	int total = 0;
	for (size_t i = 0; i < sizeof dur_type_weights / sizeof dur_type_weights[0]; i++)
		total += dur_type_weights[i];
	int x = dur_rand_range(rng, 0, total - 1);
	for (size_t i = 0; i < sizeof dur_type_weights / sizeof dur_type_weights[0]; i++) {
		if (x < dur_type_weights[i])
			return dur_types[i];
		x -= dur_type_weights[i];
	}
	return dur_types[0];
}

void dur_add_event(dur_script *sc, int phase, int32_t p, const char *lead, const char *id,
                   int64_t at, const char *type, const char *content, const char *channel)
{
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at, .type = type,
		                 .channel = channel, .content_id = content, .campaign = "dur" };
	dur_script_add(sc, phase, DUR_IN_ENGAGEMENT, p, lead, it_pb_engagement(&ev));
}

void dur_add_activity(dur_script *sc, int phase, int32_t p, const char *lead, const char *id,
                      int64_t at, fd_activity_kind kind, fd_reason reason, const char *rep)
{
	fd_activity a = { .activity_id = id, .lead_id = lead, .occurred_at_ms = at, .rep_id = rep,
		              .kind = kind, .reason = reason, .note = "dur" };
	dur_script_add(sc, phase, DUR_IN_ACTIVITIES, p, lead, it_pb_activity(&a));
}

void dur_add_profile(dur_script *sc, int phase, int32_t p, const char *lead, int64_t at,
                     int fit, const char *source, const char *owner)
{
	static const char *const tech[] = { "kafka", "postgres" };
	fd_profile pr = { .lead_id = lead, .updated_at_ms = at, .lead_source = source,
		              .owner_id = owner, .technologies = tech, .n_technologies = 2 };
	char email[128];
	switch (fit) {
	case 0: /* A: 70 */
		snprintf(email, sizeof email, "%s@acme.example", lead);
		pr.job_title = "VP Marketing";
		pr.seniority = "VP";
		pr.industry = "Software";
		pr.employee_count = 1000;
		pr.country = "US";
		pr.annual_revenue = 50000000;
		break;
	case 1: /* B: 40 */
		snprintf(email, sizeof email, "%s@beta.example", lead);
		pr.job_title = "Marketing Manager";
		pr.seniority = "Manager";
		pr.industry = "Software";
		pr.employee_count = 800;
		pr.country = "DE";
		pr.annual_revenue = 20000000;
		break;
	case 2: /* C: 20 */
		snprintf(email, sizeof email, "%s@gamma.example", lead);
		pr.job_title = "Engineer";
		pr.seniority = "Staff";
		pr.industry = "Retail";
		pr.employee_count = 300;
		pr.country = "GB";
		pr.annual_revenue = 9000000;
		break;
	default: /* disqualified: personal e-mail */
		snprintf(email, sizeof email, "%s@gmail.com", lead);
		pr.job_title = "Founder";
		pr.country = "US";
		break;
	}
	pr.email = email;
	dur_script_add(sc, phase, DUR_IN_PROFILES, p, lead, it_pb_profile(&pr));
}

static void dur_add_junk(dur_script *sc, int phase, int topic, int32_t p, const char *key,
                         uint64_t *rng)
{
	it_bytes b;
	b.len = (size_t)dur_rand_range(rng, 3, 40);
	b.data = malloc(b.len);
	cr_assert_not_null(b.data);
	b.data[0] = 0xff; /* field 31, wire type 7: never a valid protobuf */
	for (size_t i = 1; i < b.len; i++)
		b.data[i] = (uint8_t)dur_rand(rng);
	dur_script_add(sc, phase, topic, p, key, b);
}

void dur_scenario(dur_script *sc, uint64_t seed, int partitions, dur_scenario_size size,
                  int64_t recent)
{
	uint64_t rng = seed ^ UINT64_C(0x5eed5eed5eed);
	char lead[64], id[96];
	const int64_t H = FD_MS_HOUR, D = FD_MS_DAY;
	int *mx_fit = calloc((size_t)size.mixed, sizeof *mx_fit);
	cr_assert_not_null(mx_fit);

	/* phase 0 */
	for (int i = 0; i < size.mixed; i++) {
		snprintf(lead, sizeof lead, "mx-%03d", i);
		int32_t p = (int32_t)(dur_fnv(lead) % (uint32_t)partitions);
		int x = dur_rand_range(&rng, 0, 9);
		mx_fit[i] = x < 6 ? 0 : x < 8 ? 1 : 3;
		dur_add_profile(sc, 0, p, lead, recent - 10 * H, mx_fit[i], "website", "");
		if (dur_chance(&rng, 25)) {
			bool newer = dur_chance(&rng, 50);
			dur_add_profile(sc, 0, p, lead, recent - 10 * H + (newer ? H : -H), mx_fit[i],
			                "website", newer ? "rep-owner" : "rep-stale");
		}
	}
	for (int i = 0; i < size.old; i += 3) {
		snprintf(lead, sizeof lead, "op-%03d", i);
		int32_t p = (int32_t)(dur_fnv(lead) % (uint32_t)partitions);
		int fit = dur_rand_range(&rng, 0, 2);
		const char *src = dur_chance(&rng, 20) ? "event" : "website";
		dur_add_profile(sc, 0, p, lead, IT_T0 - D, fit, src, dur_chance(&rng, 50) ? "rep-op" : "");
	}
	for (int i = 0; i < size.orphans; i++) {
		snprintf(lead, sizeof lead, "ao-%03d", i);
		int32_t p = (int32_t)(dur_fnv(lead) % (uint32_t)partitions);
		snprintf(id, sizeof id, "act-%s", lead);
		dur_add_activity(sc, 0, p, lead, id, recent, dur_chance(&rng, 50) ? FD_ACT_ACCEPT : FD_ACT_QUALIFY,
		                 FD_REASON_NONE, "rep-ao");
	}
	for (int i = 0; i < 4; i++) {
		snprintf(lead, sizeof lead, "junk-p-%d", i);
		dur_add_junk(sc, 0, DUR_IN_PROFILES, i % partitions, lead, &rng);
	}

	/* phase 1 */
	for (int i = 0; i < size.mixed; i++) {
		snprintf(lead, sizeof lead, "mx-%03d", i);
		int32_t p = (int32_t)(dur_fnv(lead) % (uint32_t)partitions);
		snprintf(id, sizeof id, "ev-%s-1", lead);
		dur_add_event(sc, 1, p, lead, id, recent - 2 * H, "page_view", "pricing", "web");
		snprintf(id, sizeof id, "ev-%s-2", lead);
		dur_add_event(sc, 1, p, lead, id, recent, "demo_request", "demo-form", "web");
	}
	for (int i = 0; i < size.old; i++) {
		bool op = i % 3 == 0;
		snprintf(lead, sizeof lead, "%s-%03d", op ? "op" : "eo", i);
		int32_t p = (int32_t)(dur_fnv(lead) % (uint32_t)partitions);
		int n = dur_rand_range(&rng, 1, 10);
		int64_t at = IT_T0 + dur_rand_range(&rng, 0, 20) * D + dur_rand_range(&rng, 0, 23) * H;
		for (int k = 0; k < n; k++) {
			int64_t t = at;
			if (dur_chance(&rng, 15))
				t -= dur_rand_range(&rng, 1, 48) * H; /* late */
			int dup = dur_chance(&rng, 8) && k > 0 ? dur_rand_range(&rng, 0, k - 1) : -1;
			snprintf(id, sizeof id, "ev-%s-%d", lead, dup >= 0 ? dup : k);
			dur_add_event(sc, 1, p, lead, id, t, dur_pick_type(&rng),
			              dur_contents[dur_rand_range(&rng, 0, 5)],
			              dur_channels[dur_rand_range(&rng, 0, 3)]);
			at += dur_rand_range(&rng, 1, 60) * H;
		}
	}
	for (int i = 0; i < 2; i++) {
		snprintf(lead, sizeof lead, "bad-%d", i);
		int32_t p = (int32_t)(dur_fnv(lead) % (uint32_t)partitions);
		snprintf(id, sizeof id, "ev-%s", lead);
		if (i == 0)
			dur_add_event(sc, 1, p, lead, id, IT_T0, "teleport", "x", "web");
		else
			dur_add_event(sc, 1, p, lead, id, it_now_ms() + 2 * D, "page_view", "x", "web");
	}
	for (int i = 0; i < 4; i++) {
		snprintf(lead, sizeof lead, "junk-e-%d", i);
		dur_add_junk(sc, 1, DUR_IN_ENGAGEMENT, i % partitions, lead, &rng);
	}

	/* phase 2 */
	for (int i = 0; i < size.mixed; i++) {
		snprintf(lead, sizeof lead, "mx-%03d", i);
		int32_t p = (int32_t)(dur_fnv(lead) % (uint32_t)partitions);
		char rep[32];
		snprintf(rep, sizeof rep, "rep-%d", i % 7);
		int64_t t = recent + H;
		int plan = dur_rand_range(&rng, 0, 9);
		int k = 0;
#define DUR_ACT(kind, reason)                                                            \
	do {                                                                                 \
		snprintf(id, sizeof id, "act-%s-%d", lead, k++);                                 \
		dur_add_activity(sc, 2, p, lead, id, t, (kind), (reason), rep);                  \
		t += H;                                                                          \
	} while (0)
		if (mx_fit[i] == 3) {
			DUR_ACT(FD_ACT_ACCEPT, FD_REASON_NONE); /* refused: disqualified */
			continue;
		}
		switch (plan) {
		case 0: case 1: case 2:
			DUR_ACT(FD_ACT_ACCEPT, FD_REASON_NONE);
			DUR_ACT(FD_ACT_QUALIFY, FD_REASON_NONE);
			break;
		case 3: case 4:
			DUR_ACT(FD_ACT_TOUCH, FD_REASON_NONE);
			DUR_ACT(FD_ACT_ACCEPT, FD_REASON_NONE);
			break;
		case 5:
			DUR_ACT(FD_ACT_REJECT, FD_REASON_BAD_TIMING);
			break;
		case 6:
			DUR_ACT(FD_ACT_ACCEPT, FD_REASON_NONE);
			DUR_ACT(FD_ACT_REVERT, FD_REASON_NONE);
			break;
		case 7:
			DUR_ACT(FD_ACT_QUALIFY, FD_REASON_NONE); /* refused in MQL */
			DUR_ACT(FD_ACT_ACCEPT, FD_REASON_NONE);
			break;
		default:
			break;
		}
#undef DUR_ACT
		if (k > 0 && dur_chance(&rng, 20)) {
			/* the first activity again, same id */
			snprintf(id, sizeof id, "act-%s-0", lead);
			dur_add_activity(sc, 2, p, lead, id, recent + H, plan == 5 ? FD_ACT_REJECT
			                 : plan == 3 || plan == 4 ? FD_ACT_TOUCH
			                 : plan == 7 ? FD_ACT_QUALIFY : FD_ACT_ACCEPT,
			                 plan == 5 ? FD_REASON_BAD_TIMING : FD_REASON_NONE, rep);
		}
	}
	for (int i = 0; i < size.old; i += 2) {
		bool op = i % 3 == 0;
		snprintf(lead, sizeof lead, "%s-%03d", op ? "op" : "eo", i);
		int32_t p = (int32_t)(dur_fnv(lead) % (uint32_t)partitions);
		int64_t at = IT_T0 + dur_rand_range(&rng, 130, 150) * D;
		snprintf(id, sizeof id, "ev-%s-late-1", lead);
		dur_add_event(sc, 2, p, lead, id, at, dur_chance(&rng, 50) ? "demo_request" : "webinar_attended",
		              "webinar-slas", "web");
		snprintf(id, sizeof id, "ev-%s-late-2", lead);
		dur_add_event(sc, 2, p, lead, id, at + 3 * H, "pricing_view", "pricing", "web");
	}
	for (int i = 0; i < 3; i++) {
		snprintf(lead, sizeof lead, "junk-a-%d", i);
		dur_add_junk(sc, 2, DUR_IN_ACTIVITIES, i % partitions, lead, &rng);
	}
	free(mx_fit);
}

int64_t dur_recent_base(void)
{
	return (it_now_ms() / FD_MS_HOUR) * FD_MS_HOUR - 10 * FD_MS_HOUR;
}

/* ---- runs -------------------------------------------------------------------------------- */

void dur_barrier(dur_set *s, dur_proc *d, int timeout_ms, const char *when)
{
	char diag[2048] = "";
	int64_t deadline = dur_mono_ms() + timeout_ms;
	while (!dur_committed_at_end(s, diag, sizeof diag)) {
		if (d)
			dur_assert_alive(d, when);
		dur_check_alive();
		cr_assert(dur_mono_ms() < deadline, "%s: inputs not all committed within %d ms: %s", when,
		          timeout_ms, diag);
		dur_sleep_ms(50);
	}
}

void dur_wait_restored(dur_set *s, dur_proc *d, int timeout_ms)
{
	int64_t deadline = dur_mono_ms() + timeout_ms;
	while (!dur_restored_all(d, s->in[0])) {
		dur_assert_alive(d, "while waiting for its partitions");
		dur_check_alive();
		cr_assert(dur_mono_ms() < deadline, "%s was not assigned and restored within %d ms",
		          d->name, timeout_ms);
		dur_sleep_ms(20);
	}
}

dur_reader *dur_reference_run(dur_set *ref, const dur_script *sc, const char *test)
{
	int64_t t0 = dur_mono_ms();
	dur_proc *d = dur_daemon("reference", dur_set_args(ref, NULL));
	for (int ph = 0; ph < sc->phases; ph++) {
		dur_produce(ref, sc, dur_phase_start(sc, ph), dur_phase_start(sc, ph + 1));
		dur_barrier(ref, d, 60000, "reference run");
	}
	dur_stop_clean(d, IT_WAIT_MS);
	dur_reader *r = dur_reader_open(ref);
	dur_reader_catch_up(r, IT_WAIT_MS);
	dur_trace("%s: reference run done in %" PRId64 " ms, %zu output records", test,
	        dur_mono_ms() - t0, dur_reader_count(r));
	return r;
}

/* ---- reading outputs ------------------------------------------------------------------------ */

struct dur_reader {
	rd_kafka_t *rk;
	const dur_set *set;
	dur_msg *msgs;
	size_t n, cap;
};

size_t dur_reader_count(const dur_reader *r)
{
	return r->n;
}

dur_reader *dur_reader_open(const dur_set *s)
{
	static int serial;
	dur_reader *r = calloc(1, sizeof *r);
	cr_assert_not_null(r);
	r->set = s;
	char group[300];
	snprintf(group, sizeof group, "dur-reader-%d-%d", (int)getpid(), ++serial);
	r->rk = dur_client(group, "dur-reader");
	rd_kafka_poll_set_consumer(r->rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(DUR_OUTS * s->partitions);
	for (int t = 0; t < DUR_OUTS; t++)
		for (int p = 0; p < s->partitions; p++)
			rd_kafka_topic_partition_list_add(l, s->out[t], p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_resp_err_t e = rd_kafka_assign(r->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "assign: %s", rd_kafka_err2str(e));
	return r;
}

static void dur_msg_fill(const dur_reader *r, dur_msg *o, const rd_kafka_message_t *m)
{
	memset(o, 0, sizeof *o);
	const char *topic = rd_kafka_topic_name(m->rkt);
	o->kind = -1;
	for (int t = 0; t < DUR_OUTS; t++)
		if (strcmp(topic, r->set->out[t]) == 0)
			o->kind = t;
	cr_assert_geq(o->kind, 0, "record from unexpected topic %s", topic);
	o->partition = m->partition;
	o->offset = m->offset;
	o->read_ms = it_now_ms();
	if (o->kind == DUR_OUT_CHANGELOG && fd_wire_is_checkpoint_key(m->key, m->key_len)) {
		/* a partition's checkpoint: one key per partition, named so
		 * (its real key starts with a NUL byte) */
		o->key = malloc(64);
		cr_assert_not_null(o->key);
		snprintf(o->key, 64, DUR_CHECKPOINT_KEY "%" PRId32, m->partition);
	} else if (m->key) {
		o->key = malloc(m->key_len + 1);
		cr_assert_not_null(o->key);
		memcpy(o->key, m->key, m->key_len);
		o->key[m->key_len] = '\0';
	}
	if (m->payload) {
		o->value = malloc(m->len + 1);
		cr_assert_not_null(o->value);
		memcpy(o->value, m->payload, m->len);
		o->value[m->len] = 0;
		o->len = m->len;
	}
	rd_kafka_headers_t *h = NULL;
	char dl_topic[256] = "", dl_part[32] = "", dl_off[32] = "";
	if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h) {
		size_t cap = 256;
		o->hdrs = malloc(cap);
		cr_assert_not_null(o->hdrs);
		const char *name;
		const void *val;
		size_t size;
		for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &size) == 0; i++) {
			size_t need = o->hdrs_len + strlen(name) + 1 + 8 + (val ? size : 0);
			while (need > cap)
				cap *= 2;
			o->hdrs = realloc(o->hdrs, cap);
			cr_assert_not_null(o->hdrs);
			memcpy(o->hdrs + o->hdrs_len, name, strlen(name) + 1);
			o->hdrs_len += strlen(name) + 1;
			uint64_t sz = val ? (uint64_t)size : UINT64_MAX;
			memcpy(o->hdrs + o->hdrs_len, &sz, 8);
			o->hdrs_len += 8;
			if (val) {
				memcpy(o->hdrs + o->hdrs_len, val, size);
				o->hdrs_len += size;
			}
			char *dst = NULL;
			size_t dst_size = 0;
			if (strcmp(name, "ce_id") == 0)
				dst = o->id, dst_size = sizeof o->id;
			else if (strcmp(name, "funneld.error.reason") == 0)
				dst = o->reason, dst_size = sizeof o->reason;
			else if (strcmp(name, "funneld.error.topic") == 0)
				dst = dl_topic, dst_size = sizeof dl_topic;
			else if (strcmp(name, "funneld.error.partition") == 0)
				dst = dl_part, dst_size = sizeof dl_part;
			else if (strcmp(name, "funneld.error.offset") == 0)
				dst = dl_off, dst_size = sizeof dl_off;
			if (dst && val)
				snprintf(dst, dst_size, "%.*s", (int)size, (const char *)val);
		}
	}
	if (o->kind == DUR_OUT_DEAD_LETTERS) {
		const char *role = "?";
		for (int t = 0; t < 3; t++)
			if (strcmp(dl_topic, r->set->in[t]) == 0)
				role = t == 0 ? "engagement" : t == 1 ? "profiles" : "activities";
		snprintf(o->id, sizeof o->id, "%s/%s/%s", role, dl_part, dl_off);
	}
}

void dur_reader_poll(dur_reader *r, int ms)
{
	int64_t deadline = dur_mono_ms() + ms;
	for (;;) {
		int64_t left = deadline - dur_mono_ms();
		rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, left > 0 ? (int)(left < 50 ? left : 50) : 0);
		if (m) {
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
				if (r->n == r->cap) {
					r->cap = r->cap ? r->cap * 2 : 1024;
					r->msgs = realloc(r->msgs, r->cap * sizeof *r->msgs);
					cr_assert_not_null(r->msgs);
				}
				dur_msg_fill(r, &r->msgs[r->n++], m);
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		if (left <= 0)
			break;
	}
}

void dur_reader_catch_up(dur_reader *r, int timeout_ms)
{
	const dur_set *s = r->set;
	int n = DUR_OUTS * s->partitions;
	int64_t *hi = calloc((size_t)n, sizeof *hi);
	cr_assert_not_null(hi);
	for (int t = 0; t < DUR_OUTS; t++)
		for (int p = 0; p < s->partitions; p++) {
			int64_t lo;
			rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
				r->rk, s->out[t], p, &lo, &hi[t * s->partitions + p], 5000);
			cr_assert_eq(e, 0, "end offset of %s[%d]: %s", s->out[t], p, rd_kafka_err2str(e));
		}
	int64_t deadline = dur_mono_ms() + timeout_ms;
	char diag[1024];
	for (;;) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
		for (int t = 0; t < DUR_OUTS; t++)
			for (int p = 0; p < s->partitions; p++)
				rd_kafka_topic_partition_list_add(l, s->out[t], p);
		rd_kafka_position(r->rk, l);
		bool done = true;
		diag[0] = '\0';
		size_t off = 0;
		for (int i = 0; i < l->cnt; i++) {
			int64_t want = hi[i];
			int64_t pos = l->elems[i].offset;
			if (want > 0 && (pos < 0 || pos < want)) {
				done = false;
				if (off < sizeof diag)
					off += (size_t)snprintf(diag + off, sizeof diag - off,
					                        "%s[%d] at %" PRId64 " of %" PRId64 "; ", l->elems[i].topic,
					                        (int)l->elems[i].partition, pos, want);
			}
		}
		rd_kafka_topic_partition_list_destroy(l);
		if (done)
			break;
		cr_assert(dur_mono_ms() < deadline, "output reader did not reach the end offsets in %d ms: %s",
		          timeout_ms, diag);
		dur_reader_poll(r, 50);
	}
	free(hi);
}

void dur_reader_close(dur_reader *r)
{
	if (!r)
		return;
	rd_kafka_consumer_close(r->rk);
	rd_kafka_destroy(r->rk);
	for (size_t i = 0; i < r->n; i++) {
		free(r->msgs[i].key);
		free(r->msgs[i].value);
		free(r->msgs[i].hdrs);
	}
	free(r->msgs);
	free(r);
}

size_t dur_count(const dur_reader *r, int kind, const char *key)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->msgs[i].kind == kind && (!key || (r->msgs[i].key && strcmp(r->msgs[i].key, key) == 0));
	return n;
}

const dur_msg *dur_nth(const dur_reader *r, int kind, const char *key, size_t nth)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->msgs[i].kind == kind && (!key || (r->msgs[i].key && strcmp(r->msgs[i].key, key) == 0)) &&
		    nth-- == 0)
			return &r->msgs[i];
	return NULL;
}

static bool dur_bytes_eq(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	if (!a || !b)
		return a == b && na == nb;
	return na == nb && memcmp(a, b, na) == 0;
}

static bool dur_str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Same record, byte for byte: key, value and (unless `values_only`) headers. */
/* dur_compare_checkpoints_exactly: compare checkpoints byte for byte */
static bool dur_exact_checkpoints;

void dur_compare_checkpoints_exactly(bool on)
{
	dur_exact_checkpoints = on;
}

bool dur_is_checkpoint(const dur_msg *m)
{
	return m->kind == DUR_OUT_CHANGELOG && m->key &&
	       strncmp(m->key, DUR_CHECKPOINT_KEY, strlen(DUR_CHECKPOINT_KEY)) == 0;
}

/* The stream time of a checkpoint record; -1 if it does not decode. */
static int64_t dur_stream_time(const dur_msg *m)
{
	fd_wire_arena *a = fd_wire_arena_new();
	fd_partition_state ps;
	char err[128];
	int64_t t = -1;
	if (a && m->value &&
	    fd_wire_decode_partition_state(m->value, m->len, a, &ps, err, sizeof err) == 0)
		t = ps.stream_time_ms;
	fd_wire_arena_free(a);
	return t;
}

static bool dur_same(const dur_msg *a, const dur_msg *b, bool headers)
{
	return dur_str_eq(a->key, b->key) && dur_bytes_eq(a->value, a->len, b->value, b->len) &&
	       (!headers || dur_bytes_eq(a->hdrs, a->hdrs_len, b->hdrs, b->hdrs_len));
}

/* ---- describing records for failure messages --------------------------------------------- */

const char *dur_describe(const dur_msg *m)
{
	static char bufs[4][900];
	static int next;
	char *o = bufs[next++ % 4];
	if (!m)
		return "(none)";
	int n = snprintf(o, 900, "%s[%d]@%" PRId64 " key %s id %s: ", dur_out_names[m->kind],
	                 (int)m->partition, m->offset, m->key ? m->key : "(null)", m->id);
	size_t off = n > 0 ? (size_t)n : 0;
	if (!m->value) {
		snprintf(o + off, 900 - off, "null value");
		return o;
	}
	switch (m->kind) {
	case DUR_OUT_TRANSITIONS: {
		Funneld__V1__StageTransition *t = funneld__v1__stage_transition__unpack(NULL, m->len, m->value);
		if (t) {
			snprintf(o + off, 900 - off, "%d->%d %s/%s at %" PRId64 " eng %.17g fit %.17g owner '%s'",
			         t->from_stage, t->to_stage, t->trigger, t->reason, t->occurred_at_ms,
			         t->engagement_score, t->fit_score, t->owner_id);
			funneld__v1__stage_transition__free_unpacked(t, NULL);
		}
		break;
	}
	case DUR_OUT_SLA: {
		Funneld__V1__SlaEvent *e = funneld__v1__sla_event__unpack(NULL, m->len, m->value);
		if (e) {
			snprintf(o + off, 900 - off, "%s kind %d stage %d due %" PRId64 " at %" PRId64, e->sla,
			         e->kind, e->stage, e->due_at_ms, e->occurred_at_ms);
			funneld__v1__sla_event__free_unpacked(e, NULL);
		}
		break;
	}
	case DUR_OUT_SCORES: {
		Funneld__V1__LeadScore *s = funneld__v1__lead_score__unpack(NULL, m->len, m->value);
		if (s) {
			snprintf(o + off, 900 - off, "stage %d updated %" PRId64 " eng %.17g fit %.17g", s->stage,
			         s->updated_at_ms, s->engagement_score, s->fit_score);
			funneld__v1__lead_score__free_unpacked(s, NULL);
		}
		break;
	}
	case DUR_OUT_CHANGELOG: {
		fd_wire_arena *a = fd_wire_arena_new();
		fd_lead_state *s = malloc(sizeof *s);
		char err[128];
		fd_partition_state ps;
		if (dur_is_checkpoint(m) && a &&
		    fd_wire_decode_partition_state(m->value, m->len, a, &ps, err, sizeof err) == 0) {
			fd_funnel_counts sum;
			memset(&sum, 0, sizeof sum);
			for (size_t i = 0; i < ps.n_days; i++)
				for (int st = 0; st < FD_STAGE_COUNT; st++)
					sum.entered[st] += ps.days[i].counts.entered[st];
			snprintf(o + off, 900 - off, "checkpoint: stream time %" PRId64 ", %zu days, "
			         "entered LEAD %" PRIu64 " MQL %" PRIu64 " SAL %" PRIu64 " NURTURE %" PRIu64,
			         ps.stream_time_ms, ps.n_days, sum.entered[FD_STAGE_LEAD],
			         sum.entered[FD_STAGE_MQL], sum.entered[FD_STAGE_SAL],
			         sum.entered[FD_STAGE_NURTURE]);
		} else if (a && s &&
		           fd_wire_decode_lead_state(m->value, m->len, a, s, err, sizeof err) == 0) {
			snprintf(o + off, 900 - off, "stage %s entered %" PRId64 " eng %.17g as of %" PRId64
			         " fit %.17g owner '%s' open slas %d last input %" PRId64
			         " applied engagement@%" PRId64 " profile@%" PRId64 " activity@%" PRId64,
			         fd_stage_name(s->stage), s->stage_entered_ms, s->engagement,
			         s->engagement_as_of_ms, s->fit, s->owner_id, s->n_slas, s->last_input_ms,
			         s->positions[FD_INPUT_ENGAGEMENT], s->positions[FD_INPUT_PROFILE],
			         s->positions[FD_INPUT_ACTIVITY]);
		}
		free(s);
		fd_wire_arena_free(a);
		break;
	}
	default:
		snprintf(o + off, 900 - off, "%zu bytes, reason '%s'", m->len, m->reason);
	}
	return o;
}

/* ---- comparing runs -------------------------------------------------------------------------- */

static int dur_cmp_id(const void *a, const void *b)
{
	const dur_msg *x = *(const dur_msg *const *)a, *y = *(const dur_msg *const *)b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int dur_cmp_key(const void *a, const void *b)
{
	const dur_msg *x = *(const dur_msg *const *)a, *y = *(const dur_msg *const *)b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	int c = strcmp(x->key ? x->key : "", y->key ? y->key : "");
	if (c)
		return c;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* One output of a run, grouped: the first copy of each id (transitions,
 * SLA events, dead letters) or the last record of each key (scores,
 * changelog). */
typedef struct dur_index {
	const dur_msg **items;
	size_t n;
	size_t copies;       /* records beyond the first per id (ids only) */
	size_t keys_moved;   /* keys seen on two partitions (keyed only) */
} dur_index;

typedef struct dur_diag {
	char text[8192];
	size_t off;
	size_t problems;
} dur_diag;

static void dur_note(dur_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dur_note(dur_diag *d, const char *fmt, ...)
{
	d->problems++;
	if (d->problems > 12 || d->off >= sizeof d->text - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->text + d->off, sizeof d->text - d->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->off += (size_t)n;
	if (d->off >= sizeof d->text)
		d->off = sizeof d->text - 1;
}

/* Group by id; copies of one id must be byte-identical (headers too). */
static dur_index dur_by_id(const dur_reader *r, int kind, const char *run, dur_diag *d)
{
	dur_index ix = { 0 };
	const dur_msg **all = calloc(r->n + 1, sizeof *all);
	cr_assert_not_null(all);
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->msgs[i].kind == kind)
			all[n++] = &r->msgs[i];
	qsort(all, n, sizeof *all, dur_cmp_id);
	ix.items = calloc(n + 1, sizeof *ix.items);
	cr_assert_not_null(ix.items);
	for (size_t i = 0; i < n; i++) {
		if (!all[i]->id[0])
			dur_note(d, "\n%s: %s record without an id: %s", run, dur_out_names[kind],
			         dur_describe(all[i]));
		if (ix.n > 0 && strcmp(ix.items[ix.n - 1]->id, all[i]->id) == 0) {
			ix.copies++;
			if (!dur_same(ix.items[ix.n - 1], all[i], true))
				dur_note(d, "\n%s: two %s records with id %s differ:\n    %s\n    %s", run,
				         dur_out_names[kind], all[i]->id, dur_describe(ix.items[ix.n - 1]),
				         dur_describe(all[i]));
			continue;
		}
		ix.items[ix.n++] = all[i];
	}
	free(all);
	return ix;
}

/* Last record per key (by offset; a key must stay on one partition). */
static dur_index dur_by_key(const dur_reader *r, int kind, const char *run, dur_diag *d)
{
	dur_index ix = { 0 };
	const dur_msg **all = calloc(r->n + 1, sizeof *all);
	cr_assert_not_null(all);
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->msgs[i].kind == kind)
			all[n++] = &r->msgs[i];
	qsort(all, n, sizeof *all, dur_cmp_key);
	ix.items = calloc(n + 1, sizeof *ix.items);
	cr_assert_not_null(ix.items);
	for (size_t i = 0; i < n; i++) {
		if (ix.n > 0 && dur_str_eq(ix.items[ix.n - 1]->key, all[i]->key)) {
			if (ix.items[ix.n - 1]->partition != all[i]->partition) {
				ix.keys_moved++;
				dur_note(d, "\n%s: %s key %s on partitions %d and %d", run, dur_out_names[kind],
				         all[i]->key ? all[i]->key : "(null)", (int)ix.items[ix.n - 1]->partition,
				         (int)all[i]->partition);
			}
			ix.items[ix.n - 1] = all[i]; /* sorted by offset: the later one */
			continue;
		}
		ix.items[ix.n++] = all[i];
	}
	free(all);
	return ix;
}

static int dur_cmp_ix(const dur_msg *a, const dur_msg *b, bool keyed)
{
	return keyed ? strcmp(a->key ? a->key : "", b->key ? b->key : "") : strcmp(a->id, b->id);
}

/* Both indexes hold the same ids/keys with the same bytes. Dead letters
 * are compared without their headers (funneld.error.topic names the run's
 * own topic); their reason, partition and offset are compared through the
 * id and reason. */
static void dur_match(const dur_index *ref, const dur_index *got, int kind, bool keyed, dur_diag *d,
                      size_t *missing, size_t *extra)
{
	size_t i = 0, j = 0;
	*missing = *extra = 0;
	while (i < ref->n || j < got->n) {
		int c = i == ref->n ? 1 : j == got->n ? -1 : dur_cmp_ix(ref->items[i], got->items[j], keyed);
		if (c < 0) {
			(*missing)++;
			dur_note(d, "\nmissing %s (in the reference run only): %s", dur_out_names[kind],
			         dur_describe(ref->items[i]));
			i++;
		} else if (c > 0) {
			(*extra)++;
			dur_note(d, "\nextra %s (not in the reference run): %s", dur_out_names[kind],
			         dur_describe(got->items[j]));
			j++;
		} else {
			const dur_msg *a = ref->items[i], *b = got->items[j];
			/* a checkpoint's stream time is exact; its funnel counters may
			 * miss or repeat what the commit interval a kill -9 cut off
			 * counted, unless they commit with the leads (exactly_once:
			 * dur_compare_checkpoints_exactly) */
			bool same = kind == DUR_OUT_DEAD_LETTERS
				            ? dur_same(a, b, false) && strcmp(a->reason, b->reason) == 0
				        : dur_is_checkpoint(a) && !dur_exact_checkpoints
				            ? dur_stream_time(a) == dur_stream_time(b) && dur_stream_time(a) >= 0
				            : dur_same(a, b, kind != DUR_OUT_CHANGELOG) && a->partition == b->partition;
			if (!same)
				dur_note(d, "\n%s %s differs from the reference run:\n    want %s\n    got  %s",
				         dur_out_names[kind], keyed ? (a->key ? a->key : "(null)") : a->id,
				         dur_describe(a), dur_describe(b));
			i++;
			j++;
		}
	}
}

dur_summary dur_compare(const dur_reader *ref, const dur_reader *got, const char *what)
{
	dur_diag d = { .off = 0 };
	dur_summary sum;
	memset(&sum, 0, sizeof sum);
	size_t missing[DUR_OUTS] = { 0 }, extra[DUR_OUTS] = { 0 };
	for (int kind = 0; kind < DUR_OUTS; kind++) {
		bool keyed = kind == DUR_OUT_SCORES || kind == DUR_OUT_CHANGELOG;
		dur_index a = keyed ? dur_by_key(ref, kind, "reference run", &d)
		                    : dur_by_id(ref, kind, "reference run", &d);
		dur_index b = keyed ? dur_by_key(got, kind, what, &d) : dur_by_id(got, kind, what, &d);
		dur_match(&a, &b, kind, keyed, &d, &missing[kind], &extra[kind]);
		sum.ids[kind] = b.n;
		sum.copies[kind] = b.copies;
		sum.records[kind] = dur_count(got, kind, NULL);
		free(a.items);
		free(b.items);
	}
	dur_trace("%s: compared with the reference run: transitions %zu (+%zu copies), SLA "
	        "events %zu (+%zu), dead letters %zu (+%zu), leads with scores %zu (%zu records), "
	        "leads in the changelog %zu (%zu records); %zu problem(s)",
	        what, sum.ids[0], sum.copies[0], sum.ids[1], sum.copies[1], sum.ids[3], sum.copies[3],
	        sum.ids[2], sum.records[2], sum.ids[4], sum.records[4], d.problems);
	if (d.problems)
		dur_trace("%s: the differences:%s", what, d.text);
	cr_assert_eq(d.problems, 0,
	             "%s differs from the uninterrupted run (%zu problems; missing/extra: transitions "
	             "%zu/%zu, sla %zu/%zu, scores %zu/%zu, dead letters %zu/%zu, changelog %zu/%zu):%s",
	             what, d.problems, missing[0], extra[0], missing[1], extra[1], missing[2], extra[2],
	             missing[3], extra[3], missing[4], extra[4], d.text);
	return sum;
}

dur_summary dur_check_copies(const dur_reader *got, const char *what)
{
	dur_diag d = { .off = 0 };
	dur_summary sum;
	memset(&sum, 0, sizeof sum);
	for (int kind = 0; kind < DUR_OUTS; kind++) {
		bool keyed = kind == DUR_OUT_SCORES || kind == DUR_OUT_CHANGELOG;
		dur_index b = keyed ? dur_by_key(got, kind, what, &d) : dur_by_id(got, kind, what, &d);
		sum.ids[kind] = b.n;
		sum.copies[kind] = b.copies;
		sum.records[kind] = dur_count(got, kind, NULL);
		free(b.items);
	}
	if (d.problems)
		dur_trace("%s: %zu problem(s):%s", what, d.problems, d.text);
	cr_assert_eq(d.problems, 0, "%s: %zu problem(s):%s", what, d.problems, d.text);
	return sum;
}

/* ---- partition ownership ------------------------------------------------------------------- */

size_t dur_ownership(const dur_proc *p, int instance, const char *topic, dur_owned *out,
                     size_t max)
{
	char *log = dur_log(p);
	size_t n = 0;
	int64_t open_from[256];
	for (int i = 0; i < 256; i++)
		open_from[i] = -1;
	char pat[300];
	snprintf(pat, sizeof pat, "%s[", topic);
	int64_t last_ts = p->start_ms;
	const char *line = log;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		int64_t ts = dur_line_time(copy);
		if (ts > 0)
			last_ts = ts;
		const char *a = strstr(copy, " assigned: ");
		if (ts > 0 && a) {
			for (const char *q = a; (q = strstr(q, pat)) != NULL; q++) {
				if (q != a && q[-1] != ' ')
					continue;
				int part = atoi(q + strlen(pat));
				if (part >= 0 && part < 256 && open_from[part] < 0)
					open_from[part] = ts;
			}
		}
		int part;
		const char *dropped = strstr(copy, "leads dropped from memory");
		const char *pp = strstr(copy, " partition ");
		if (ts > 0 && dropped && pp && sscanf(pp, " partition %d:", &part) == 1 && part >= 0 &&
		    part < 256 && open_from[part] >= 0 && n < max) {
			out[n++] = (dur_owned){ instance, part, open_from[part], ts };
			open_from[part] = -1;
		}
		free(copy);
		line += len + (end != NULL);
	}
	free(log);
	int64_t gone = p->reaped ? p->end_ms : INT64_MAX;
	if (gone < last_ts)
		gone = last_ts;
	for (int i = 0; i < 256 && n < max; i++)
		if (open_from[i] >= 0)
			out[n++] = (dur_owned){ instance, i, open_from[i], gone };
	return n;
}

static int dur_cmp_owned(const void *a, const void *b)
{
	const dur_owned *x = a, *y = b;
	if (x->partition != y->partition)
		return x->partition < y->partition ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from;
}

void dur_assert_exclusive_ownership(dur_proc *const *procs, size_t n_procs, const char *topic,
                                    int partitions)
{
	dur_owned all[1024];
	size_t n = 0;
	for (size_t i = 0; i < n_procs; i++)
		n += dur_ownership(procs[i], (int)i, topic, all + n, 1024 - n);
	qsort(all, n, sizeof *all, dur_cmp_owned);
	int64_t t0 = INT64_MAX;
	for (size_t i = 0; i < n; i++)
		if (all[i].from < t0)
			t0 = all[i].from;
	char text[8192];
	size_t off = 0;
	for (size_t i = 0; i < n && off < sizeof text; i++)
		off += (size_t)snprintf(text + off, sizeof text - off, "  partition %d: %s from +%" PRId64
		                        " ms to %s%" PRId64 " ms\n", (int)all[i].partition,
		                        procs[all[i].instance]->name, all[i].from - t0,
		                        all[i].to == INT64_MAX ? "(still) +" : "+",
		                        (all[i].to == INT64_MAX ? it_now_ms() : all[i].to) - t0);
	dur_trace("ownership of %s partitions:\n%s", topic, text);
	for (int p = 0; p < partitions; p++) {
		bool seen = false;
		for (size_t i = 0; i < n; i++)
			seen |= all[i].partition == p;
		cr_assert(seen, "partition %d of %s was never assigned to any instance:\n%s", p, topic, text);
	}
	for (size_t i = 1; i < n; i++) {
		if (all[i].partition != all[i - 1].partition)
			continue;
		for (size_t j = i; j-- > 0 && all[j].partition == all[i].partition;) {
			cr_assert(all[i].from >= all[j].to,
			          "partition %d owned by %s and %s at once (%s from +%" PRId64 " to +%" PRId64
			          ", %s from +%" PRId64 "):\n%s",
			          (int)all[i].partition, procs[all[j].instance]->name,
			          procs[all[i].instance]->name, procs[all[j].instance]->name, all[j].from - t0,
			          all[j].to - t0, procs[all[i].instance]->name, all[i].from - t0, text);
		}
	}
}

/* ---- admin HTTP ------------------------------------------------------------------------------- */

int dur_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	struct sockaddr_in sa = { 0 };
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0, "bind: %s", strerror(errno));
	socklen_t len = sizeof sa;
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

int dur_admin_port(dur_proc *p, int timeout_ms)
{
	int64_t deadline = dur_mono_ms() + timeout_ms;
	for (;;) {
		char *log = dur_log(p);
		char line[1024];
		int port = -1;
		if (dur_find_line(log, "admin HTTP on http://", line, sizeof line)) {
			const char *u = strstr(line, "http://") + 7;
			const char *colon = strchr(u, ':');
			if (colon)
				port = atoi(colon + 1);
		}
		free(log);
		if (port > 0)
			return port;
		dur_assert_alive(p, "before its admin HTTP line");
		cr_assert(dur_mono_ms() < deadline, "%s logged no 'admin HTTP on' line within %d ms", p->name,
		          timeout_ms);
		dur_sleep_ms(20);
	}
}

int dur_http_get(int port, const char *path, char **body)
{
	*body = NULL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sa = { 0 };
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	char req[512];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	cr_assert_not_null(buf);
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		ssize_t got = read(fd, buf + len, cap - len - 1);
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	int status = -1;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	char *sep = strstr(buf, "\r\n\r\n");
	*body = strdup(sep ? sep + 4 : "");
	free(buf);
	return status;
}

int64_t dur_healthz_ms(int port)
{
	char *body = NULL;
	int64_t t0 = dur_mono_ms();
	int status = dur_http_get(port, "/healthz", &body);
	int64_t took = dur_mono_ms() - t0;
	free(body);
	cr_assert_eq(status, 200, "/healthz answered %d after %" PRId64 " ms", status, took);
	return took;
}

/* The value of an unlabelled metric in a Prometheus text body, or NAN. */
static double dur_metric(const char *body, const char *name)
{
	size_t nl = strlen(name);
	for (const char *line = body; line && *line;) {
		if (strncmp(line, name, nl) == 0 && line[nl] == ' ')
			return strtod(line + nl + 1, NULL);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NAN;
}

double dur_get_metric(int port, const char *name)
{
	char *body = NULL;
	int status = dur_http_get(port, "/metrics", &body);
	cr_assert_eq(status, 200, "GET /metrics on port %d: status %d", port, status);
	double v = dur_metric(body, name);
	cr_assert(!isnan(v), "metric %s missing from /metrics:\n%s", name, it_tail(body, 3000));
	free(body);
	return v;
}
