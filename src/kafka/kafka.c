/*
 * kafka.c — the Kafka layer's shared context (see kafka.h): creating and
 * destroying the clients and every module's state, the one failure path,
 * and what a partition leaving this instance takes with it.
 */
#include "kafka/kafka.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "base/log.h"
#include "kafka/changelog.h"
#include "kafka/client.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/restore.h"
#include "kafka/txn.h"

#define FLUSH_ON_FREE_MS (10 * 1000)

fd_kafka *fd_kafka_new(const fd_settings *cfg, fd_clock clock, fd_kafka_hooks hooks,
                       char *errstr, size_t errstr_size)
{
	fd_kafka *k = calloc(1, sizeof *k);
	if (!k) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	k->cfg = cfg;
	k->clock = clock;
	pthread_mutex_init(&k->log_lock, NULL);
	fd_ratelimit_init(&k->log_limit, FD_KAFKA_LOG_WINDOW_MS);
	k->hooks = hooks;
	k->eos = cfg->guarantee == FD_EXACTLY_ONCE;
	const char *dl_topics[FD_DL_TOPICS] = {
		[FD_IN_ENGAGEMENT] = cfg->topics.engagement,  [FD_IN_PROFILES] = cfg->topics.profiles,
		[FD_IN_ACTIVITIES] = cfg->topics.activities,  [FD_DL_TOPIC_TRANSITIONS] = cfg->topics.transitions,
		[FD_DL_TOPIC_SLA] = cfg->topics.sla,          [FD_DL_TOPIC_SCORES] = cfg->topics.scores,
		[FD_DL_TOPIC_CHANGELOG] = cfg->topics.changelog, [FD_DL_TOPIC_OTHER] = "other",
	};
	memcpy(k->stats.dl_topics, dl_topics, sizeof dl_topics);

	rd_kafka_conf_t *rc = fd_client_conf(k, FD_CLIENT_READER, errstr, errstr_size);
	if (!rc || !(k->restore = fd_restore_new(cfg->topics.changelog, rc, errstr, errstr_size)))
		goto fail;
	rd_kafka_conf_t *pc = fd_client_conf(k, FD_CLIENT_PRODUCER, errstr, errstr_size);
	if (!pc)
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(pc, fd_producer_delivered);
	if (!(k->producer = fd_client_new(RD_KAFKA_PRODUCER, pc, "producer", errstr, errstr_size)))
		goto fail;
	rd_kafka_conf_t *cc = fd_client_conf(k, FD_CLIENT_CONSUMER, errstr, errstr_size);
	if (!cc)
		goto fail;
	rd_kafka_conf_set_rebalance_cb(cc, fd_consumer_rebalance);
	if (!(k->consumer = fd_client_new(RD_KAFKA_CONSUMER, cc, "consumer", errstr, errstr_size)))
		goto fail;
	rd_kafka_poll_set_consumer(k->consumer);

	k->epochs = fd_epochs_new();
	k->input = fd_consumer_new((size_t)cfg->order_buffer, cfg->max_idle_ms,
	                          cfg->max_lag_wait_ms);
	k->changelog = fd_changelog_new(k);
	k->txn = fd_txn_new();
	if (!k->epochs || !k->input || !k->changelog || !k->txn) {
		snprintf(errstr, errstr_size, "out of memory");
		goto fail;
	}
	return k;
fail:
	fd_kafka_free(k);
	return NULL;
}

void fd_kafka_free(fd_kafka *k)
{
	if (!k)
		return;
	if (k->input && k->consumer)
		fd_consumer_forget(k, -1, false); /* their messages go before the handle */
	if (k->consumer) {
		/* librdkafka 2.0.2 (Debian 12) asserts when a cooperative-sticky
		 * consumer that never got an assignment is destroyed (upstream
		 * issue 4312, fixed in 2.3.0). It was closed (it left the group);
		 * the rest of its memory goes with the process. */
		if (k->ever_assigned || !k->subscribed)
			rd_kafka_destroy(k->consumer);
		else
			fd_log(FD_LOG_DEBUG, "consumer never assigned: not destroyed (librdkafka 2.0.2 bug)");
	}
	if (k->producer) {
		/* no transactional call may outlive the producer (txn.c's thread) */
		fd_txn_join(k);
		rd_kafka_flush(k->producer, k->failed || k->abandon ? 0 : FLUSH_ON_FREE_MS);
		rd_kafka_destroy(k->producer);
	}
	fd_producer_overflow_free(k);
	fd_restore_free(k->restore);
	fd_consumer_free(k->input);
	fd_changelog_free(k->changelog);
	fd_txn_free(k->txn);
	fd_epochs_free(k->epochs);
	pthread_mutex_destroy(&k->log_lock);
	fd_lag_free(&k->lag);
	free(k->lag_scratch);
	free(k);
}

void fd_kafka_fail(fd_kafka *k, int level, const char *fmt, ...)
{
	k->failed = true;
	if (!fd_log_enabled(level))
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fd_log_write(level, "%s", buf);
}

const char *fd_kafka_input_topic(const fd_kafka *k, int index)
{
	const fd_topics *t = &k->cfg->topics;
	return index == FD_IN_ENGAGEMENT ? t->engagement
	       : index == FD_IN_PROFILES ? t->profiles
	                                 : t->activities;
}

fd_dl_class fd_kafka_dl_class_of(const char *reason)
{
	static const struct {
		const char *prefix;
		fd_dl_class c;
	} by_prefix[] = {
		{ "refused", FD_DL_REFUSED },     { "lead cap", FD_DL_LEAD_CAP },
		{ "invalid", FD_DL_INVALID },     { "misrouted", FD_DL_MISROUTED },
		{ "output too large", FD_DL_TOO_LARGE },
	};
	for (size_t i = 0; reason && i < sizeof by_prefix / sizeof by_prefix[0]; i++)
		if (strncmp(reason, by_prefix[i].prefix, strlen(by_prefix[i].prefix)) == 0)
			return by_prefix[i].c;
	return FD_DL_OTHER;
}

const char *fd_kafka_dl_class_name(fd_dl_class c)
{
	static const char *const names[FD_DL_COUNT] = {
		[FD_DL_UNDECODABLE] = "undecodable", [FD_DL_INVALID] = "invalid",
		[FD_DL_REFUSED] = "refused_transition", [FD_DL_LEAD_CAP] = "lead_cap",
		[FD_DL_TOO_LARGE] = "too_large", [FD_DL_MISROUTED] = "misrouted",
		[FD_DL_OTHER] = "other",
	};
	return (unsigned)c < FD_DL_COUNT ? names[c] : "other";
}

int fd_kafka_dl_topic(const fd_kafka *k, const char *name)
{
	for (int i = 0; i < FD_DL_TOPIC_OTHER; i++)
		if (strcmp(name, k->stats.dl_topics[i]) == 0)
			return i;
	return FD_DL_TOPIC_OTHER;
}

void fd_kafka_count_dead_letter(fd_kafka *k, const char *topic, fd_dl_class c)
{
	if ((unsigned)c >= FD_DL_COUNT)
		c = FD_DL_OTHER;
	k->stats.dead_letters++;
	k->stats.dead_letters_by[fd_kafka_dl_topic(k, topic)][c]++;
}

int64_t fd_kafka_now(const fd_kafka *k)
{
	return k->clock.now(k->clock.ctx);
}

typedef struct id_list {
	char **ids;
	size_t n, cap;
} id_list;

static void collect_id(void *ctx, const char *lead_id, int32_t partition)
{
	(void)partition;
	id_list *l = ctx;
	if (fd_grow(&l->ids, &l->cap, l->n + 1, sizeof *l->ids, 1024) != 0)
		return;
	char *copy = strdup(lead_id);
	if (copy)
		l->ids[l->n++] = copy;
}

void fd_kafka_drop_partition(fd_kafka *k, fd_engine *e, int32_t p)
{
	id_list l = { 0 };
	fd_engine_foreach(e, p, collect_id, &l);
	for (size_t i = 0; i < l.n; i++) {
		fd_engine_remove(e, l.ids[i]);
		fd_changelog_unmark(k->changelog, l.ids[i]);
		free(l.ids[i]);
	}
	free(l.ids);
	fd_engine_partition_drop(e, p);
	for (int t = 0; t < FD_IN_TOPICS; t++)
		fd_epochs_forget(k->epochs, t, p);
	fd_lag_forget(&k->lag, p);
	/* after a revoke the drain released them all; after a loss, a state
	 * record written now could land after the next owner's */
	size_t purged = fd_changelog_purge(k->changelog, p);
	fd_log(FD_LOG_INFO, "partition %" PRId32 ": %zu leads dropped from memory, %zu unwritten "
	       "state records discarded", p, l.n, purged);
}
