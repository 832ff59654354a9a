/*
 * client.c — librdkafka client configurations (see client.h), and what
 * funneld logs of librdkafka's errors and log lines.
 *
 * While a broker is down librdkafka reports the refused connection twice a
 * second, forever, through its log callback (FAIL) and its error callback
 * (_TRANSPORT) alike. Each such line is written the first time, then at
 * most once per FD_KAFKA_LOG_WINDOW_MS with the count of the ones held back
 * (base/ratelimit.h); the key is the text without librdkafka's varying
 * tail ("(after 0ms in state CONNECT, 1 identical error(s) suppressed)"),
 * so the two callbacks' copies of one error count as one line. The table
 * is process-wide, behind a mutex: librdkafka calls the log callback from
 * its own threads.
 */
#include "kafka/client.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "base/clock.h"
#include "base/grow.h"
#include "base/log.h"
#include "base/ratelimit.h"
#include "kafka/restore.h"
#include "kafka/txn.h"

#define TXN_MESSAGE_TIMEOUT "55000" /* message.timeout.ms under exactly_once:
                                       below the transaction timeout */
/* Defaults for latency, each overridable by a kafka.* property:
 * an output waits at most this long for its batch (librdkafka's default is
 * 5 ms, half the 10 ms budget from an input to its transition) */
#define PRODUCER_LINGER_MS "2"
/* an empty fetch is answered after this long (librdkafka's default is
 * 500 ms; a broker answers a fetch as soon as data arrives, but the
 * fetcher waits this long before its next request after an empty answer,
 * and librdkafka's mock cluster always waits it): ten short requests a
 * second per broker while idle */
#define CONSUMER_FETCH_WAIT_MS "10"
#define READER_FETCH_WAIT_MS "10"   /* the restore reader polls without
                                       waiting: keep fetches short */

/* Write `prefix``text` at `level` unless the same line was written less
 * than FD_KAFKA_LOG_WINDOW_MS ago; then it is counted, and the next one
 * written says how many were held back. */
static void log_limited(fd_kafka *k, int level, const char *prefix, const char *text)
{
	if (!fd_log_enabled(level))
		return;
	/* the key: the text without librdkafka's thread tag ("[thrd:...]: ",
	   log lines only) and its varying tail */
	const char *body = text;
	if (strncmp(body, "[thrd:", 6) == 0 && strstr(body, "]: ") != NULL)
		body = strstr(body, "]: ") + 3;
	char key[FD_RATELIMIT_KEY_MAX];
	snprintf(key, sizeof key, "%s", body);
	char *tail = strstr(key, " (after ");
	if (tail)
		*tail = '\0';
	uint64_t held = 0;
	/* librdkafka logs from its own threads */
	pthread_mutex_lock(&k->log_lock);
	bool write = fd_ratelimit_allow(&k->log_limit, key, fd_clock_monotonic_ms(), &held);
	pthread_mutex_unlock(&k->log_lock);
	if (!write)
		return;
	if (held > 0)
		fd_log_write(level, "%s%s (and %llu more like it in the last %d s)", prefix, text,
		             (unsigned long long)held, FD_KAFKA_LOG_WINDOW_MS / 1000);
	else
		fd_log_write(level, "%s%s", prefix, text);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	fd_kafka *k = opaque;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char buf[512];
		rd_kafka_fatal_error(rk, buf, sizeof buf);
		fd_kafka_fail(k, FD_LOG_CRIT, "fatal Kafka error: %s", buf);
		return;
	}
	/* transport errors, all brokers down, ...: librdkafka keeps retrying */
	char prefix[96];
	snprintf(prefix, sizeof prefix, "kafka: %s: ", rd_kafka_err2name((rd_kafka_resp_err_t)err));
	log_limited(k, FD_LOG_WARNING, prefix, reason);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	fd_kafka *k = rd_kafka_opaque(rk);
	/* properties set for both clients are ignored by the one they do not
	 * concern: that is expected, not worth a warning */
	if (strcmp(fac, "CONFWARN") == 0)
		level = 7;
	int ours = level <= 3 ? FD_LOG_ERR : level == 4 ? FD_LOG_WARNING : FD_LOG_DEBUG;
	if (ours == FD_LOG_DEBUG) { /* debugging: every line */
		fd_log(ours, "librdkafka %s: %s", fac, buf);
		return;
	}
	char prefix[64];
	snprintf(prefix, sizeof prefix, "librdkafka %s: ", fac);
	log_limited(k, ours, prefix, buf);
}

/* librdkafka's statistics (the consumer's, every admin.lag_interval),
 * served by the consumer's poll in the loop's thread: the lag of each
 * assigned input partition (lag.h). A document that does not parse, or
 * memory that runs out, leaves the last figures in place. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
	(void)rk;
	(void)json_len;
	fd_kafka *k = opaque;
	const char *topics[FD_IN_TOPICS];
	for (int i = 0; i < FD_IN_TOPICS; i++)
		topics[i] = fd_kafka_input_topic(k, i);
	char err[128];
	for (int attempt = 0; attempt < 2; attempt++) {
		long n = fd_lag_parse(json, topics, FD_IN_TOPICS, k->lag_scratch, k->lag_scratch_cap,
		                      err, sizeof err);
		if (n < 0) {
			fd_log(FD_LOG_DEBUG, "librdkafka %s", err);
			break;
		}
		if ((size_t)n <= k->lag_scratch_cap) {
			if (fd_lag_update(&k->lag, k->lag_scratch, (size_t)n) != 0)
				fd_log(FD_LOG_WARNING, "out of memory keeping the consumer lag");
			break;
		}
		if (fd_grow(&k->lag_scratch, &k->lag_scratch_cap, (size_t)n, sizeof *k->lag_scratch,
		            16) != 0)
			break;
	}
	return 0; /* librdkafka frees the document */
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
               size_t errstr_size)
{
	char e[512];
	if (rd_kafka_conf_set(conf, name, value, e, sizeof e) != RD_KAFKA_CONF_OK) {
		snprintf(errstr, errstr_size, "kafka property %s=%s: %s", name, value, e);
		return -1;
	}
	return 0;
}

/* The kafka.* property `name` the configuration gives, or NULL. */
static const char *user_property(const fd_settings *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_kafka_props; i++)
		if (strcmp(cfg->kafka_props[i].name, name) == 0)
			return cfg->kafka_props[i].value;
	return NULL;
}

size_t fd_client_instance_id(const char *host, const char *unit, char *out, size_t size)
{
	if (size == 0)
		return 0;
	size_t n = 0;
	const char *parts[2] = { host, unit };
	for (int p = 0; p < 2; p++) {
		if (p == 1 && n + 1 < size && n < FD_CLIENT_INSTANCE_ID_MAX)
			out[n++] = '-';
		for (const char *c = parts[p]; *c && n + 1 < size && n < FD_CLIENT_INSTANCE_ID_MAX; c++) {
			bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			          (*c >= '0' && *c <= '9') || *c == '.' || *c == '_' || *c == '-';
			out[n++] = ok ? *c : '_';
		}
	}
	out[n] = '\0';
	return n;
}

/* Static membership by default for a systemd service: group.instance.id
 * "HOST-UNIT" (funneld@eu.service on db7: "db7-funneld_eu.service"), so a
 * restart within the session timeout takes its partitions back without a
 * rebalance. Not outside systemd (two daemons on one host would fence each
 * other), nor when the configuration names one (an empty one: none). */
static int instance_id(rd_kafka_conf_t *conf, const fd_settings *cfg, char *errstr, size_t size)
{
	if (user_property(cfg, "group.instance.id") || !getenv("NOTIFY_SOCKET"))
		return 0;
	char *unit = NULL;
	if (sd_pid_get_unit(0, &unit) < 0 || !unit)
		return 0;
	char host[256] = "localhost", id[FD_CLIENT_INSTANCE_ID_MAX + 1];
	(void)gethostname(host, sizeof host - 1);
	fd_client_instance_id(host, unit, id, sizeof id);
	free(unit);
	fd_log(FD_LOG_INFO, "static group membership: group.instance.id=%s "
	       "(kafka.group.instance.id changes it, \"\" turns it off)", id);
	return set(conf, "group.instance.id", id, errstr, size);
}

static int user_properties(rd_kafka_conf_t *conf, const fd_settings *cfg, char *errstr,
                           size_t size)
{
	for (int i = 0; i < cfg->n_kafka_props; i++) {
		const char *name = cfg->kafka_props[i].name;
		if (strcmp(name, "group.instance.id") == 0 && !cfg->kafka_props[i].value[0])
			continue; /* "": no static membership */
		char e[512];
		rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, name, cfg->kafka_props[i].value, e,
		                                          sizeof e);
		if (r == RD_KAFKA_CONF_INVALID) {
			snprintf(errstr, size, "kafka property %s: %s", name, e);
			return -1;
		}
		if (r == RD_KAFKA_CONF_UNKNOWN) {
			snprintf(errstr, size, "unknown kafka property %s", name);
			return -1;
		}
	}
	return 0;
}

/* The properties funneld needs whatever the configuration says (set after
 * the kafka.* properties). */
static int producer_properties(rd_kafka_conf_t *conf, const fd_settings *cfg, char *errstr,
                               size_t size)
{
	if (set(conf, "enable.idempotence", "true", errstr, size) ||
	    set(conf, "acks", "all", errstr, size) ||
	    set(conf, "partitioner", "murmur2_random", errstr, size))
		return -1;
	if (cfg->guarantee != FD_EXACTLY_ONCE) /* at-least-once: never give up on an output */
		return set(conf, "message.timeout.ms", "0", errstr, size);
	char tid[FD_NAME_MAX * 4], txn_timeout[32];
	snprintf(txn_timeout, sizeof txn_timeout, "%d", FD_TXN_TIMEOUT_MS);
	if (cfg->transactional_id[0]) {
		snprintf(tid, sizeof tid, "%s", cfg->transactional_id);
	} else {
		char host[128] = "localhost";
		gethostname(host, sizeof host - 1);
		snprintf(tid, sizeof tid, "%s-%s", cfg->group_id, host);
	}
	return set(conf, "transactional.id", tid, errstr, size) ||
	       set(conf, "transaction.timeout.ms", txn_timeout, errstr, size) ||
	       set(conf, "message.timeout.ms", TXN_MESSAGE_TIMEOUT, errstr, size) ? -1 : 0;
}

rd_kafka_conf_t *fd_client_conf(fd_kafka *k, fd_client_role role, char *errstr, size_t size)
{
	const fd_settings *cfg = k->cfg;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	const char *id = role == FD_CLIENT_CONSUMER   ? "funneld-consumer"
	                 : role == FD_CLIENT_PRODUCER ? "funneld-producer"
	                                              : "funneld-restore";
	char stats_ms[32];
	snprintf(stats_ms, sizeof stats_ms, "%lld", (long long)cfg->lag_interval_ms);
	if (role == FD_CLIENT_CONSUMER && cfg->lag_interval_ms > 0)
		rd_kafka_conf_set_stats_cb(conf, stats_cb);
	/* defaults first, then the kafka.* properties, then what funneld needs */
	if (set(conf, "client.id", id, errstr, size) ||
	    (role == FD_CLIENT_CONSUMER &&
	     (set(conf, "fetch.wait.max.ms", CONSUMER_FETCH_WAIT_MS, errstr, size) ||
	      set(conf, "statistics.interval.ms", stats_ms, errstr, size))) ||
	    (role == FD_CLIENT_READER &&
	     (set(conf, "fetch.wait.max.ms", READER_FETCH_WAIT_MS, errstr, size) ||
	      fd_restore_conf_defaults(conf, errstr, size) != 0)) ||
	    (role == FD_CLIENT_PRODUCER && set(conf, "linger.ms", PRODUCER_LINGER_MS, errstr, size)) ||
	    (role == FD_CLIENT_CONSUMER && instance_id(conf, cfg, errstr, size)) ||
	    user_properties(conf, cfg, errstr, size))
		goto fail;
	switch (role) {
	case FD_CLIENT_CONSUMER:
		if (set(conf, "group.id", cfg->group_id, errstr, size) ||
		    set(conf, "enable.auto.commit", "false", errstr, size) ||
		    set(conf, "enable.auto.offset.store", "false", errstr, size) ||
		    set(conf, "auto.offset.reset", "earliest", errstr, size) ||
		    /* the event-time merge needs to know when an input is read
		       to its end (consumer.c) */
		    set(conf, "enable.partition.eof", "true", errstr, size) ||
		    set(conf, "partition.assignment.strategy", "cooperative-sticky", errstr, size))
			goto fail;
		break;
	case FD_CLIENT_READER: {
		/* assign() needs a group.id in librdkafka 2.0.2; the reader never
		 * subscribes nor commits, so it never joins this group */
		char gid[FD_NAME_MAX * 2 + 16];
		snprintf(gid, sizeof gid, "%s.restore", cfg->group_id);
		if (set(conf, "group.id", gid, errstr, size))
			goto fail;
		break;
	}
	case FD_CLIENT_PRODUCER:
		if (producer_properties(conf, cfg, errstr, size))
			goto fail;
		break;
	}
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

rd_kafka_t *fd_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
                          char *errstr, size_t errstr_size)
{
	char e[512];
	rd_kafka_t *rk = rd_kafka_new(type, conf, e, sizeof e);
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(errstr, errstr_size, "%s: %s", what, e);
	}
	return rk;
}
