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
#include "funneld/v1/inputs.pb-c.h"

extern const char fd_default_config[];

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
		w->first_at = seconds();
	if (s.consumed >= w->target && s.delivered == s.produced) {
		w->done_at = seconds();
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

	/* preload */
	rd_kafka_conf_t *pconf = rd_kafka_conf_new();
	rd_kafka_conf_set(pconf, "bootstrap.servers", bootstrap, err, sizeof err);
	rd_kafka_conf_set(pconf, "linger.ms", "20", err, sizeof err);
	rd_kafka_conf_set(pconf, "queue.buffering.max.messages", "1000000", err, sizeof err);
	rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
	static const char *types[] = { "page_view", "email_open", "email_click", "content_download",
		                           "webinar_attended", "pricing_view" };
	int64_t t0 = (int64_t)time(NULL) * 1000 - 10LL * 86400 * 1000;
	uint64_t s = 0x9e3779b97f4a7c15u;
	double p0 = seconds();
	for (long i = 0; i < n_events; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		char lead[32], id[32];
		snprintf(lead, sizeof lead, "lead-%06ld", (long)(s % (uint64_t)n_leads));
		snprintf(id, sizeof id, "ev-%ld", i);
		Funneld__V1__EngagementEvent ev;
		funneld__v1__engagement_event__init(&ev);
		ev.event_id = id;
		ev.lead_id = lead;
		ev.occurred_at_ms = t0 + i * 5;
		ev.type = (char *)(uintptr_t)types[(s >> 20) % 6];
		ev.channel = (char *)(uintptr_t)"web";
		size_t len = funneld__v1__engagement_event__get_packed_size(&ev);
		uint8_t *buf = malloc(len);
		funneld__v1__engagement_event__pack(&ev, buf);
		int32_t part = (int32_t)((s >> 40) % (uint64_t)partitions);
		while (rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(cfg->settings.topics.engagement),
		                         RD_KAFKA_V_PARTITION(part), RD_KAFKA_V_KEY(lead, strlen(lead)),
		                         RD_KAFKA_V_VALUE(buf, len),
		                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END) ==
		       RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(prod, 10);
	}
	rd_kafka_flush(prod, 60000);
	rd_kafka_destroy(prod);
	double preload = seconds() - p0;

	struct event_base *base = event_base_new();
	fd_daemon_options opt = { .cfg = cfg, .base = base, .clock = fd_clock_wall() };
	fd_daemon *d = fd_daemon_new(&opt, err, sizeof err);
	if (!d || fd_daemon_start(d, 10000, err, sizeof err) != 0) {
		fprintf(stderr, "daemon: %s\n", err);
		return 1;
	}
	watch w = { d, NULL, (uint64_t)n_events, 0, 0 };
	w.ev = evtimer_new(base, on_watch, &w);
	struct timeval tv = { 0, 1000 };
	evtimer_add(w.ev, &tv);
	double start = seconds();
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
