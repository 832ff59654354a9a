/*
 * bench_transport.c — end-to-end throughput of the daemon on a real Kafka
 * cluster, side by side with its ceiling measured in the same run: a plain
 * librdkafka consumer reading the same preloaded input topic.
 *
 *   bench_transport BOOTSTRAP [events] [leads] [partitions]
 *                   (defaults 1000000 100000 8; start a cluster with
 *                    `scripts/kafka.sh start`, which prints BOOTSTRAP)
 *
 * 1. preload `events` protobuf EngagementEvents over `leads` leads into a
 *    fresh engagement topic (profiles and activities empty, co-partitioned);
 * 2. ceiling: a plain consumer (no group, every partition assigned from the
 *    beginning, messages only counted) reads them all: records/s;
 * 3. funneld at_least_once, then exactly_once, each in a consumer group and
 *    on output and changelog topics of its own (so neither restores the
 *    other's state): events/s from the first record applied to the last
 *    output acknowledged (exactly_once: committed), and the ratio to the
 *    ceiling;
 * 4. latency at a fixed rate, in both guarantees: the funneld binary
 *    (`funneld run`, the shipped config, its own topics) fed RATE events/s
 *    for SECS s by a paced producer; one event in PROBE_EVERY is a demo
 *    request of a new lead, and the time from its produce to its MQL
 *    transition reaching a read_committed consumer is recorded: p50, p99,
 *    p99.9, max.
 *
 *   environment: BENCH_RATE (default 50000), BENCH_SECS (default 20)
 *
 * Not a test: it asserts nothing and prints figures for the machine and
 * cluster it runs on. Topics are named bench-PID.*, so runs never mix.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>

#include "base/log.h"
#include "daemon/daemon.h"
#include "funneld/v1/inputs.pb-c.h"
#include "funneld/wire.h"
#include "support/bench.h"

extern char **environ;

extern const char fd_default_config[];

static rd_kafka_conf_t *conf_for(const char *bootstrap)
{
	char err[512];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
	return c;
}

static const char *const all_topics[] = { "engagement", "profiles", "activities", "transitions",
	                                        "sla", "scores", "dead_letters", "changelog" };

/* The overrides of one run: its own group, transactional id and topics
 * PREFIX.RUN.*; the inputs are PREFIX.* (shared by the runs) unless
 * `own_inputs`. Returns how many were written to o. */
#define MAX_OVERRIDES 16
static int run_overrides(char o[][300], const char *bootstrap, const char *prefix, const char *run,
                         bool eos, bool own_inputs)
{
	int k = 0;
	snprintf(o[k++], 300, "kafka.bootstrap.servers=%s", bootstrap);
	snprintf(o[k++], 300, "kafka.group.id=%s-%s", prefix, run);
	snprintf(o[k++], 300, "processing.guarantee=%s", eos ? "exactly_once" : "at_least_once");
	snprintf(o[k++], 300, "processing.transactional_id=%s-%s", prefix, run);
	snprintf(o[k++], 300, "admin.address=");
	for (int i = 0; i < 8; i++)
		if (i < 3 && !own_inputs)
			snprintf(o[k++], 300, "topics.%s=%s.%s", all_topics[i], prefix, all_topics[i]);
		else
			snprintf(o[k++], 300, "topics.%s=%s.%s.%s", all_topics[i], prefix, run, all_topics[i]);
	return k;
}

typedef struct watch {
	fd_daemon *d;
	struct event *ev;
	uint64_t target;
	double first_at, done_at;
	bool eos;
} watch;

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	watch *w = arg;
	fd_daemon_stats s;
	fd_daemon_stats_get(w->d, &s);
	if (s.consumed > 0 && w->first_at == 0)
		w->first_at = bench_seconds();
	if (s.consumed >= w->target && s.delivered == s.produced) {
		w->done_at = bench_seconds();
		fd_daemon_stop(w->d); /* drains: exactly_once commits the last transaction */
		return;
	}
	struct timeval tv = { 0, 2000 };
	evtimer_add(w->ev, &tv);
}

/* funneld on the preloaded inputs in group `run`, outputs on topics of its
 * own; returns events/s from the first record applied to the end. */
static double daemon_run(const char *bootstrap, const char *prefix, const char *run, bool eos,
                         long n_events, int partitions)
{
	char err[1024], o[MAX_OVERRIDES][300];
	int k = run_overrides(o, bootstrap, prefix, run, eos, false);
	const char *names[5];
	char full[5][256];
	for (int i = 0; i < 5; i++) {
		snprintf(full[i], sizeof full[i], "%s.%s.%s", prefix, run, all_topics[3 + i]);
		names[i] = full[i];
	}
	if (bench_create_topics(bootstrap, names, 4, partitions, NULL) != 0 ||
	    bench_create_topics(bootstrap, names + 4, 1, partitions, "compact") != 0)
		return 0;
	const char *ovr[MAX_OVERRIDES];
	for (int i = 0; i < k; i++)
		ovr[i] = o[i];
	fd_config *cfg = calloc(1, sizeof *cfg);
	if (fd_config_load_string(cfg, "(built-in)", fd_default_config, ovr, (size_t)k, err,
	                          sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 0;
	}
	struct event_base *base = event_base_new();
	fd_daemon_options opt = { .cfg = cfg, .base = base, .clock = fd_clock_wall() };
	fd_daemon *d = fd_daemon_new(&opt, NULL, err, sizeof err);
	if (!d || fd_daemon_start(d, 30000, err, sizeof err) != 0) {
		fprintf(stderr, "daemon: %s\n", err);
		return 0;
	}
	watch w = { d, NULL, (uint64_t)n_events, 0, 0, eos };
	w.ev = evtimer_new(base, on_watch, &w);
	struct timeval tv = { 0, 1000 };
	evtimer_add(w.ev, &tv);
	event_base_dispatch(base);
	double end = bench_seconds();
	fd_daemon_stats st;
	fd_daemon_stats_get(d, &st);
	double steady = end - w.first_at;
	printf("  funneld %-13s %8.0f events/s (%.2f s from the first record applied to the last "
	       "output %s; %llu outputs, %llu commits)\n", eos ? "exactly_once" : "at_least_once",
	       (double)n_events / steady, steady, eos ? "committed" : "acknowledged",
	       (unsigned long long)st.produced, (unsigned long long)st.commits);
	event_free(w.ev);
	fd_daemon_free(d);
	event_base_free(base);
	fd_config_free(cfg);
	free(cfg);
	return (double)n_events / steady;
}

/* ---- latency at a fixed rate ---------------------------------------------------- */

#define PROBE_EVERY 100
#define MAX_PROBES 200000

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct probes {
	const char *bootstrap, *topic;
	volatile int stop;
	int64_t lat[MAX_PROBES];
	volatile size_t n;
} probes;

/* Reads MQL transitions of probe leads (keys "probe-...") read_committed
 * and records now - ce_time (the probe's produce time, carried as its event
 * time). */
static void *probe_reader(void *arg)
{
	probes *p = arg;
	char err[512], gid[64];
	rd_kafka_conf_t *c = conf_for(p->bootstrap);
	snprintf(gid, sizeof gid, "bench-probe-%d", (int)getpid());
	rd_kafka_conf_set(c, "group.id", gid, err, sizeof err);
	rd_kafka_conf_set(c, "isolation.level", "read_committed", err, sizeof err);
	rd_kafka_conf_set(c, "fetch.wait.max.ms", "5", err, sizeof err);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, p->topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_subscribe(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	while (!p->stop) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
		if (!m)
			continue;
		rd_kafka_headers_t *h = NULL;
		const void *v;
		size_t vs;
		int64_t at;
		char text[64];
		if (!m->err && m->key_len > 6 && memcmp(m->key, "probe-", 6) == 0 &&
		    rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
		    rd_kafka_header_get_last(h, "ce_time", &v, &vs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
		    vs < sizeof text) {
			memcpy(text, v, vs);
			text[vs] = '\0';
			if (fd_iso8601_parse(text, &at) == 0 && p->n < MAX_PROBES)
				p->lat[p->n++] = wall_ms() - at;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static pid_t spawn_daemon(const char *bootstrap, const char *prefix, const char *run, bool eos)
{
	char self[1024], bin[1100], conf[1200];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(bin, sizeof bin, "%s/funneld", self);
	snprintf(conf, sizeof conf, "%s/../config/funneld.conf", self);
	if (access(conf, R_OK) != 0) /* build trees outside the source tree */
		snprintf(conf, sizeof conf, "%s/config/funneld.conf", FUNNELD_SOURCE_DIR);
	static char o[MAX_OVERRIDES][300];
	int k = run_overrides(o, bootstrap, prefix, run, eos, true);
	char *argv[2 * MAX_OVERRIDES + 5];
	int a = 0;
	argv[a++] = bin;
	argv[a++] = (char *)(uintptr_t)"run";
	argv[a++] = (char *)(uintptr_t)"-c";
	argv[a++] = conf;
	for (int i = 0; i < k; i++) {
		argv[a++] = (char *)(uintptr_t)"-o";
		argv[a++] = o[i];
	}
	argv[a] = NULL;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

static void latency_run(const char *bootstrap, const char *prefix, const char *run, bool eos,
                        int partitions, long rate, int secs)
{
	char names[8][256];
	const char *n8[8];
	for (int i = 0; i < 8; i++) {
		snprintf(names[i], sizeof names[i], "%s.%s.%s", prefix, run, all_topics[i]);
		n8[i] = names[i];
	}
	if (bench_create_topics(bootstrap, n8, 7, partitions, NULL) != 0 ||
	    bench_create_topics(bootstrap, n8 + 7, 1, partitions, "compact") != 0)
		return;
	probes *p = calloc(1, sizeof *p);
	p->bootstrap = bootstrap;
	p->topic = names[3];
	pthread_t reader;
	pthread_create(&reader, NULL, probe_reader, p);
	pid_t d = spawn_daemon(bootstrap, prefix, run, eos);
	if (d < 0) {
		fprintf(stderr, "cannot start funneld\n");
		return;
	}
	char err[512];
	rd_kafka_conf_t *c = conf_for(bootstrap);
	rd_kafka_conf_set(c, "linger.ms", "1", err, sizeof err);
	rd_kafka_conf_set(c, "partitioner", "murmur2_random", err, sizeof err);
	rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
	/* warm-up: until a first probe comes back (group joined, partitions
	 * restored) */
	long sent = 0, probes_sent = 0;
	double warm_until = bench_seconds() + 60;
	for (int i = 0; p->n == 0 && bench_seconds() < warm_until; i++) {
		char lead[48];
		snprintf(lead, sizeof lead, "probe-warm-%d", i);
		Funneld__V1__EngagementEvent ev;
		funneld__v1__engagement_event__init(&ev);
		ev.event_id = lead;
		ev.lead_id = lead;
		ev.occurred_at_ms = wall_ms();
		ev.type = (char *)(uintptr_t)"demo_request";
		ev.channel = (char *)(uintptr_t)"web";
		uint8_t buf[256];
		size_t len = funneld__v1__engagement_event__pack(&ev, buf);
		rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(names[0]), RD_KAFKA_V_KEY(lead, strlen(lead)),
		                  RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                  RD_KAFKA_V_END);
		rd_kafka_poll(prod, 200);
	}
	p->n = 0;
	/* the measured phase: RATE events/s, paced per millisecond */
	static const char *types[] = { "page_view", "email_open", "email_click", "pricing_view" };
	double t0 = bench_seconds(), end = t0 + secs;
	while (bench_seconds() < end) {
		long due = (long)((bench_seconds() - t0) * (double)rate);
		while (sent < due) {
			char lead[48], id[48];
			bool probe = sent % PROBE_EVERY == 0;
			if (probe)
				snprintf(lead, sizeof lead, "probe-%ld", probes_sent++);
			else
				snprintf(lead, sizeof lead, "lat-%06ld", sent % 50000);
			snprintf(id, sizeof id, "%s-%ld", run, sent);
			Funneld__V1__EngagementEvent ev;
			funneld__v1__engagement_event__init(&ev);
			ev.event_id = id;
			ev.lead_id = lead;
			ev.occurred_at_ms = wall_ms();
			ev.type = (char *)(uintptr_t)(probe ? "demo_request" : types[sent % 4]);
			ev.channel = (char *)(uintptr_t)"web";
			uint8_t buf[256];
			size_t len = funneld__v1__engagement_event__pack(&ev, buf);
			if (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(names[0]),
			                      RD_KAFKA_V_KEY(lead, strlen(lead)), RD_KAFKA_V_VALUE(buf, len),
			                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) != 0) {
				rd_kafka_poll(prod, 1);
				continue;
			}
			sent++;
		}
		rd_kafka_poll(prod, 0);
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	double produced_s = bench_seconds() - t0;
	rd_kafka_flush(prod, 30000);
	double wait_until = bench_seconds() + 30;
	while (p->n < (size_t)probes_sent && bench_seconds() < wait_until) {
		struct timespec ms = { 0, 50 * 1000000 };
		nanosleep(&ms, NULL);
	}
	size_t got = p->n;
	p->stop = 1;
	pthread_join(reader, NULL);
	kill(d, SIGTERM);
	waitpid(d, NULL, 0);
	rd_kafka_destroy(prod);
	qsort(p->lat, got, sizeof p->lat[0], cmp_i64);
	if (got == 0) {
		printf("  latency %-13s no probe came back\n", eos ? "exactly_once" : "at_least_once");
	} else {
		printf("  latency %-13s at %.0f events/s offered (%ld sent in %.1f s): produce -> "
		       "transition p50 %" PRId64 " ms, p99 %" PRId64 " ms, p99.9 %" PRId64 " ms, max %"
		       PRId64 " ms (%zu of %ld probes)\n", eos ? "exactly_once" : "at_least_once",
		       (double)sent / produced_s, sent, produced_s, p->lat[got / 2],
		       p->lat[got * 99 / 100], p->lat[got * 999 / 1000], p->lat[got - 1], got,
		       probes_sent);
	}
	free(p);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_transport BOOTSTRAP [events] [leads] [partitions]\n");
		return 2;
	}
	const char *bootstrap = argv[1];
	long n_events = argc > 2 ? atol(argv[2]) : 1000000;
	long n_leads = argc > 3 ? atol(argv[3]) : 100000;
	int partitions = argc > 4 ? atoi(argv[4]) : 8;
	fd_log_init(FD_LOG_WARNING);
	setvbuf(stdout, NULL, _IOLBF, 0);

	char prefix[64], in[3][128];
	snprintf(prefix, sizeof prefix, "bench-%d", (int)getpid());
	const char *inputs[3];
	static const char *const kinds[] = { "engagement", "profiles", "activities" };
	for (int i = 0; i < 3; i++) {
		snprintf(in[i], sizeof in[i], "%s.%s", prefix, kinds[i]);
		inputs[i] = in[i];
	}
	if (bench_create_topics(bootstrap, inputs, 3, partitions, NULL) != 0)
		return 1;
	double pre = bench_preload(bootstrap, inputs[0], n_events, n_leads);
	printf("transport: %ld events over %ld leads, %d partitions, Apache Kafka at %s "
	       "(preloaded in %.1f s)\n", n_events, n_leads, partitions, bootstrap, pre);
	double top = bench_plain_read(bootstrap, inputs[0], partitions, n_events).from_first;
	printf("  plain consumer  %8.0f records/s (the transport ceiling)\n", top);
	double alo = daemon_run(bootstrap, prefix, "alo", false, n_events, partitions);
	double eos = daemon_run(bootstrap, prefix, "eos", true, n_events, partitions);
	if (top > 0)
		printf("  ratio to the ceiling: at_least_once %.2f, exactly_once %.2f\n", alo / top,
		       eos / top);
	const char *r = getenv("BENCH_RATE"), *sec = getenv("BENCH_SECS");
	long rate = r ? atol(r) : 50000;
	int secs = sec ? atoi(sec) : 20;
	latency_run(bootstrap, prefix, "lat-alo", false, partitions, rate, secs);
	latency_run(bootstrap, prefix, "lat-eos", true, partitions, rate, secs);
	return 0;
}
