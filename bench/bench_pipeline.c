/*
 * bench_pipeline.c — end-to-end throughput of the daemon through librdkafka's
 * mock cluster: protobuf EngagementEvents are preloaded into the input
 * topic, then the daemon (the same code as `funneld run`) consumes, scores,
 * produces outputs and commits. Prints events/s from the daemon's start to
 * the moment every input was applied and every output acknowledged.
 *
 *   bench_pipeline [events] [leads] [partitions]   (defaults 150000 20000 3)
 *
 * Not a test; the mock cluster keeps at most 100,000 messages or 5 MB per
 * partition (DESIGN section 9), so keep events/partitions below ~60,000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "support/bench.h"

extern const char fd_default_config[];

typedef struct watch {
	fd_daemon *d;
	struct event *ev;
	uint64_t target;
	double first_at, done_at;
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
		fd_daemon_stop(w->d);
		return;
	}
	struct timeval tv = { 0, 2000 };
	evtimer_add(w->ev, &tv);
}

int main(int argc, char **argv)
{
	long n_events = argc > 1 ? atol(argv[1]) : 150000;
	long n_leads = argc > 2 ? atol(argv[2]) : 20000;
	int partitions = argc > 3 ? atoi(argv[3]) : 3;
	char err[1024];
	fd_log_init(FD_LOG_WARNING);

	rd_kafka_conf_t *mconf = rd_kafka_conf_new();
	rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof err);
	rd_kafka_mock_cluster_t *mc = mrk ? rd_kafka_mock_cluster_new(mrk, 1) : NULL;
	if (!mc) {
		fprintf(stderr, "mock cluster: %s\n", err);
		return 1;
	}
	const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);

	char o1[256], o2[64];
	snprintf(o1, sizeof o1, "kafka.bootstrap.servers=%s", bootstrap);
	snprintf(o2, sizeof o2, "processing.commit_interval=500ms");
	const char *ovr[] = { o1, o2 };
	fd_config *cfg = calloc(1, sizeof *cfg);
	if (fd_config_load_string(cfg, "(built-in)", fd_default_config, ovr, 2, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const char *topics[] = { cfg->settings.topics.engagement, cfg->settings.topics.profiles, cfg->settings.topics.activities,
		                     cfg->settings.topics.transitions, cfg->settings.topics.sla, cfg->settings.topics.scores,
		                     cfg->settings.topics.dead_letters, cfg->settings.topics.changelog };
	for (size_t i = 0; i < 8; i++)
		rd_kafka_mock_topic_create(mc, topics[i], partitions, 1);

	/* preload: keyed by lead with murmur2, as funneld's contract requires */
	double preload = bench_preload(bootstrap, cfg->settings.topics.engagement, n_events, n_leads);
	if (preload < 0)
		return 1;

	struct event_base *base = event_base_new();
	fd_daemon_options opt = { .cfg = cfg, .base = base, .clock = fd_clock_wall() };
	fd_daemon *d = fd_daemon_new(&opt, NULL, err, sizeof err);
	if (!d || fd_daemon_start(d, 10000, err, sizeof err) != 0) {
		fprintf(stderr, "daemon: %s\n", err);
		return 1;
	}
	watch w = { d, NULL, (uint64_t)n_events, 0, 0 };
	w.ev = evtimer_new(base, on_watch, &w);
	struct timeval tv = { 0, 1000 };
	evtimer_add(w.ev, &tv);
	double start = bench_seconds();
	event_base_dispatch(base);
	fd_daemon_stats st;
	fd_daemon_stats_get(d, &st);
	double dt = w.done_at - start, steady = w.done_at - w.first_at;
	printf("pipeline: %ld events, %ld leads, %d partitions (preloaded in %.2f s)\n", n_events,
	       n_leads, partitions, preload);
	printf("  %.0f events/s from the first record applied to the last output acknowledged "
	       "(%.2f s: consume, decode, score, produce %llu outputs; %llu commits)\n",
	       (double)n_events / steady, steady, (unsigned long long)st.produced,
	       (unsigned long long)st.commits);
	printf("  %.0f events/s including start-up and the consumer group join (%.2f s)\n",
	       (double)n_events / dt, dt);
	event_free(w.ev);
	fd_daemon_free(d);
	event_base_free(base);
	fd_config_free(cfg);
	free(cfg);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(mrk);
	return 0;
}
