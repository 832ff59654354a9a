/*
 * config/config.h — the validated configuration: the engine's rules and the
 * daemon's settings, as two plain structs.
 *
 * fd_rules (include/funneld/rules.h) is everything the pure engine needs;
 * fd_settings is the daemon's (Kafka, topics, guarantee, commit interval,
 * state bounds, admin HTTP, logging).
 *
 * The loader (fd_config_load) reads a libconfig file, applies `-o
 * path=value` overrides and validates everything; on success the structs
 * are complete and consistent. Fixed capacities keep them flat values that
 * can be copied and swapped atomically on SIGHUP. The only heap memory is
 * the Kafka property list, released by fd_config_free().
 *
 * What it is not: the loader's schema and helpers are private to src/config
 * (schema.h, config_internal.h).
 */
#ifndef FD_CONFIG_CONFIG_H
#define FD_CONFIG_CONFIG_H

#include <stdio.h>

#include "base/route.h"
#include "funneld/rules.h"
#include "funneld/wire.h"

typedef enum fd_guarantee {
	FD_AT_LEAST_ONCE = 0,
	FD_EXACTLY_ONCE
} fd_guarantee;

/* What becomes of an input record on the wrong partition (base/route.h). */
typedef enum fd_misrouted_policy {
	FD_MISROUTED_PROCESS = 0,   /* applied, counted, logged */
	FD_MISROUTED_DEAD_LETTER    /* not applied: a dead letter */
} fd_misrouted_policy;

typedef struct fd_kafka_prop {
	char *name;
	char *value;
} fd_kafka_prop;

typedef struct fd_topics {
	char engagement[FD_TOPIC_MAX];
	char profiles[FD_TOPIC_MAX];
	char activities[FD_TOPIC_MAX];
	fd_encoding engagement_encoding;
	fd_encoding profiles_encoding;
	fd_encoding activities_encoding;
	char transitions[FD_TOPIC_MAX];
	char sla[FD_TOPIC_MAX];
	char scores[FD_TOPIC_MAX];
	char dead_letters[FD_TOPIC_MAX];
	char changelog[FD_TOPIC_MAX];
} fd_topics;

/* The daemon's settings. */
typedef struct fd_settings {
	/* kafka: every kafka.* string is passed to librdkafka as is
	   (bootstrap.servers, security.protocol, sasl.*, ssl.*, ...) */
	int n_kafka_props;
	fd_kafka_prop *kafka_props;    /* owned; fd_config_free() releases */
	char group_id[FD_NAME_MAX * 2];
	fd_topics topics;

	/* processing */
	fd_guarantee guarantee;
	int64_t commit_interval_ms;
	char ce_source[FD_NAME_MAX * 2]; /* CloudEvents ce_source header */
	char transactional_id[FD_NAME_MAX * 2]; /* exactly_once; "": group id + host */
	int64_t dead_letter_max_payload; /* bytes of a too-large record kept in its dead letter */
	int max_pending_intervals;     /* closed, unacknowledged commit intervals kept apart */
	int64_t max_idle_ms;           /* an empty input read to its end is waited for this long */
	int64_t max_lag_wait_ms;       /* ... one not read to its end */
	int order_buffer;              /* input records held for the event-time merge */
	fd_partitioner partitioner;    /* what the input producers hash keys with */
	fd_misrouted_policy misrouted;
	int64_t shutdown_timeout_ms;   /* a stop waits this long for acknowledgements */

	/* state */
	int64_t lead_ttl_ms;           /* 0: never evict */
	int64_t max_leads;             /* hard cap on leads in memory */
	int64_t ttl_scan;              /* leads the TTL looks at per commit interval */
	int64_t funnel_days;           /* funnel day buckets kept per partition */
	int64_t reload_batch;          /* leads moved to reloaded rules per loop turn */
	bool huge_pages;               /* transparent huge pages for the lead table */

	/* admin HTTP; empty address disables it */
	char admin_address[FD_NAME_MAX];
	int admin_port;                /* 0: an ephemeral port (logged) */
	int admin_max_connections;     /* open connections at most; more wait in the backlog */
	int64_t admin_request_timeout_ms; /* a connection lives this long at most, from accept */
	int64_t lag_interval_ms;       /* librdkafka statistics (consumer lag) every; 0: off */

	/* logging: syslog priorities 0..7 */
	int log_level;
	bool log_redact_ids;           /* lead ids in log lines as keyed hashes */
	char log_redact_key[FD_NAME_MAX]; /* the hash's key; "": the group id */
} fd_settings;

typedef struct fd_config {
	char path[1024];               /* the file it came from */
	fd_rules rules;                /* for the engine */
	fd_settings settings;          /* for the daemon */
} fd_config;

/* Fill *cfg with the built-in defaults (the same as config/funneld.conf,
 * minus the example rules, which only the file carries). Allocates nothing:
 * the Kafka property list stays empty (the loader adds bootstrap.servers =
 * localhost:9092 when a file does not set it). */
void fd_config_defaults(fd_config *cfg);

/* Load and validate `path`, then apply `n_overrides` "path=value" strings
 * (libconfig paths, e.g. "scoring.half_life=14d"). On success returns 0 and
 * *cfg owns its heap memory. On error returns -1, leaves *cfg empty (safe to
 * fd_config_free) and writes "file:line: what is wrong" to errstr (or
 * "-o path=value: what is wrong" for a bad override). */
int fd_config_load(fd_config *cfg, const char *path,
                   const char *const *overrides, size_t n_overrides,
                   char *errstr, size_t errstr_size);

/* Same, from an in-memory string; `name` stands in for the file name in
 * messages. */
int fd_config_load_string(fd_config *cfg, const char *name, const char *text,
                          const char *const *overrides, size_t n_overrides,
                          char *errstr, size_t errstr_size);

void fd_config_free(fd_config *cfg);

/* Write `cfg` to `out` as a libconfig file that loads back to the same
 * fd_config (source lines aside): every setting, defaults included, Kafka
 * properties as one "name=value" list (`funneld check-config --print`).
 * 0, or -1 when writing failed. */
int fd_config_print(const fd_config *cfg, FILE *out);


/* Value of the librdkafka property `name` ("group.id" reads group_id), or
 * NULL when the configuration does not set it. */
const char *fd_config_kafka_prop(const fd_config *cfg, const char *name);


#endif /* FD_CONFIG_CONFIG_H */
