/*
 * kafka.h — the Kafka layer's shared context: one fd_kafka per daemon,
 * passed to every module of src/kafka instead of the daemon's struct.
 *
 * It holds what the modules share: the settings, the clock, the consumer
 * and the producer, the epochs (at-least-once commit bookkeeping), the
 * transaction flags, the counters and the one failure state; and the
 * modules' own state (consumer batch, changelog writer, transaction undo,
 * restore queue), each behind its module's prefix:
 *
 *   client.c     librdkafka client configuration and creation
 *   consumer.c   batches, decoding, rebalance, co-partitioning, pause/resume
 *   producer.c   the one produce path, outputs, dead letters, delivery reports
 *   commit.c     at-least-once commits of acknowledged epochs (epochs.c)
 *   txn.c        exactly_once transactions, pre-images and rollback
 *   changelog.c  LeadScores and state records of changed leads, tombstones
 *   restore.c    reading a partition's state back before it is processed
 *
 * Failure: a module that meets a fatal error (a produce refused outside a
 * transaction, a fenced producer, an unrestorable partition) calls
 * fd_kafka_fail(); nothing is committed after that and the daemon stops at
 * its next turn with exit status 1. The layer never stops the loop itself.
 *
 * What it is not: no event loop (the daemon wakes the layer), no decisions
 * (the engine), no encoding (src/wire).
 */
#ifndef FD_KAFKA_KAFKA_H
#define FD_KAFKA_KAFKA_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "base/clock.h"
#include "base/ratelimit.h"
#include "config/config.h"
#include "funneld/engine.h"
#include "kafka/epochs.h"
#include "kafka/lag.h"

#define FD_KAFKA_OVERSIZE_MAX 64
#define FD_KAFKA_LOG_WINDOW_MS 30000 /* a repeating librdkafka line, at most this often */

/* The input topics, by index (epochs and positions use the same numbers). */
enum { FD_IN_ENGAGEMENT = 0, FD_IN_PROFILES = 1, FD_IN_ACTIVITIES = 2, FD_IN_TOPICS = 3 };

/* What a dead letter is about (its funneld.error.reason says more): the
 * `reason` label of funneld_dead_letters_total, a fixed set so that the
 * metric's cardinality stays bounded whatever the inputs say. */
typedef enum fd_dl_class {
	FD_DL_UNDECODABLE = 0,      /* the value does not decode (encoding, ids, UTF-8) */
	FD_DL_INVALID,              /* decoded, refused by the engine (times, type, lead id) */
	FD_DL_REFUSED,              /* an activity that does not fit the lead's stage */
	FD_DL_LEAD_CAP,             /* a new lead past state.max_leads */
	FD_DL_TOO_LARGE,            /* an output no broker takes, cut */
	FD_DL_MISROUTED,            /* key and partition disagree (the partitioner rule) */
	FD_DL_OTHER,
	FD_DL_COUNT
} fd_dl_class;

/* The topic a dead letter came from: the inputs, then funneld's outputs
 * (a record too large for them), then anything else. */
enum {
	FD_DL_TOPIC_TRANSITIONS = FD_IN_TOPICS,
	FD_DL_TOPIC_SLA,
	FD_DL_TOPIC_SCORES,
	FD_DL_TOPIC_CHANGELOG,
	FD_DL_TOPIC_OTHER,
	FD_DL_TOPICS
};

typedef struct fd_kafka_stats {
	uint64_t consumed;          /* input records handled */
	uint64_t dead_letters;      /* all of them (the sum of dead_letters_by) */
	uint64_t dead_letters_by[FD_DL_TOPICS][FD_DL_COUNT];
	const char *dl_topics[FD_DL_TOPICS]; /* the configured names ("other" last) */
	/* transitions handed to the producer, by from stage, to stage, trigger */
	uint64_t transitions_by[FD_STAGE_COUNT][FD_STAGE_COUNT][FD_TRIGGER_COUNT];
	uint64_t produced;          /* output records handed to the producer */
	uint64_t delivered;         /* ... acknowledged by the broker */
	uint64_t commits;
	uint64_t scores;
	uint64_t state_records;     /* changelog records written (tombstones included) */
	uint64_t restoring;         /* partitions being restored right now */
	uint64_t restored_leads;
	uint64_t evicted;
	uint64_t refused_full;      /* new leads refused at the lead cap */
	uint64_t order_forced;      /* inputs applied without waiting any longer
	                               for a lagging input (consumer.c) */
	uint64_t order_buffered;    /* input records read, held for the merge */
	uint64_t misrouted[FD_IN_TOPICS][FD_ROUTE_REASONS]; /* per input and reason
	                               (base/route.h; daemon.c) */
	uint64_t cut;               /* records too large for any broker, written as
	                               dead letters with their value cut (producer.c) */
} fd_kafka_stats;

/* What the layer asks of the daemon during a rebalance (called from inside
 * the consumer's poll). */
typedef struct fd_kafka_hooks {
	/* partitions were assigned, paused and queued for restore */
	void (*assigned)(void *ctx);
	/* partitions are about to be revoked (lost: without a chance to
	 * commit); the daemon drains or aborts and forgets their leads */
	void (*revoked)(void *ctx, const int32_t *partitions, size_t n, bool lost);
	void *ctx;
} fd_kafka_hooks;

typedef struct fd_consumer fd_consumer;
typedef struct fd_overflow fd_overflow;
typedef struct fd_changelog fd_changelog;
typedef struct fd_txn fd_txn;
typedef struct fd_restore fd_restore;

typedef struct fd_kafka {
	const fd_settings *cfg;     /* the daemon's settings (not owned; a reload
	                               updates them in place) */
	fd_clock clock;
	fd_kafka_hooks hooks;
	rd_kafka_t *consumer, *producer;
	fd_epochs *epochs;
	bool eos;                   /* guarantee exactly_once */
	bool in_txn;                /* a transaction is open (txn.c) */
	bool txn_doomed;            /* an output was refused: it must abort */
	bool subscribed;            /* joined the group (see fd_kafka_free) */
	bool ever_assigned;
	bool closed;                /* the consumer left the group */
	bool failed;                /* fatal: stop without committing */
	bool abandon;               /* a stop gave up waiting: do not wait for the brokers */
	fd_kafka_stats stats;
	int64_t dl_log_at;          /* dead-letter log lines: one a second */
	uint64_t dl_suppressed;
	/* exactly_once: fingerprints of records a broker refused as too large
	 * (the transaction aborted); their replay is cut at once (producer.c) */
	uint64_t oversize[FD_KAFKA_OVERSIZE_MAX];
	size_t n_oversize;
	/* records the producer's full queue did not take yet, in order
	 * (producer.c): the loop never waits on a full queue */
	fd_overflow *overflow;
	/* librdkafka's log and error lines, rate-limited (client.c; its
	 * threads call in) */
	pthread_mutex_t log_lock;
	fd_ratelimit log_limit;
	fd_consumer *input;
	fd_changelog *changelog;
	fd_txn *txn;
	fd_restore *restore;
	/* consumer lag of the assigned input partitions (librdkafka's
	 * statistics, client.c), and room to parse a document into */
	fd_lag lag;
	fd_lag_entry *lag_scratch;
	size_t lag_scratch_cap;
	/* records handed to fd_producer_send so far (to librdkafka or its
	 * overflow): the daemon sees whether an input caused any output */
	uint64_t handed;
} fd_kafka;

/* Create the clients (not connected yet), the epochs and every module's
 * state. `cfg` must outlive the context; its Kafka properties are read
 * during the call only. NULL with errstr on failure. */
fd_kafka *fd_kafka_new(const fd_settings *cfg, fd_clock clock, fd_kafka_hooks hooks,
                       char *errstr, size_t errstr_size);

/* Destroy everything: flushes the producer (briefly; not at all after a
 * failure). NULL is a no-op. */
void fd_kafka_free(fd_kafka *k);

/* A fatal error: log it at `level` (FD_LOG_CRIT or FD_LOG_ERR) and
 * remember it. */
void fd_kafka_fail(fd_kafka *k, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Partition p leaves this instance (revoked: after its state was written;
 * lost: without writing anything): forget every lead of it, its pending
 * changelog marks and its positions. */
void fd_kafka_drop_partition(fd_kafka *k, fd_engine *e, int32_t p);

/* The configured name of input topic `index` (FD_IN_*). */
const char *fd_kafka_input_topic(const fd_kafka *k, int index);

/* The reason class of a dead letter from its reason text, for callers
 * that do not say it: "refused..." FD_DL_REFUSED, "lead cap..."
 * FD_DL_LEAD_CAP, "invalid..." FD_DL_INVALID, "misrouted..."
 * FD_DL_MISROUTED, "output too large..." FD_DL_TOO_LARGE, else
 * FD_DL_OTHER. */
fd_dl_class fd_kafka_dl_class_of(const char *reason);
/* The class's label value: undecodable, invalid, refused_transition,
 * lead_cap, too_large, misrouted, other. */
const char *fd_kafka_dl_class_name(fd_dl_class c);
/* The FD_DL_TOPIC_* (or FD_IN_*) slot of topic `name`. */
int fd_kafka_dl_topic(const fd_kafka *k, const char *name);
/* Count one dead letter of `topic` (a name) and class `c`. */
void fd_kafka_count_dead_letter(fd_kafka *k, const char *topic, fd_dl_class c);

/* Wall-clock milliseconds by the context's clock. */
int64_t fd_kafka_now(const fd_kafka *k);

#endif
