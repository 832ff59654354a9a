/*
 * producer.h — every record funneld writes goes through one path: outputs
 * (transitions, SLA events, LeadScores, with CloudEvents headers), dead
 * letters (the input untouched plus funneld.error.* headers) and changelog
 * records.
 *
 * fd_producer_send hands a record to librdkafka with the open epoch's token
 * (or a given one), retrying while the producer's queue is full (serving
 * delivery reports meanwhile). A record the producer refuses is lost to
 * nobody: inside an exactly_once transaction it dooms the transaction (it
 * aborts at the next commit point and its input is read again); otherwise
 * it is fatal (fd_kafka_fail: nothing after it is committed, a restart
 * replays). Delivery reports acknowledge tokens in the epochs; a permanent
 * delivery failure is fatal the same way.
 *
 * What it is not: no encoding decisions (src/wire encodes) and no ordering
 * between records (the changelog writer defers state records).
 */
#ifndef FD_KAFKA_PRODUCER_H
#define FD_KAFKA_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "funneld/engine.h"
#include "kafka/kafka.h"

/* One record to produce. `value` (malloc'ed, may be NULL) and `headers`
 * (may be NULL) pass to the producer whatever the outcome. */
typedef struct fd_record {
	const char *topic;
	int32_t partition;          /* RD_KAFKA_PARTITION_UA: by the partitioner */
	const void *key;
	size_t key_len;
	void *value;
	size_t len;
	rd_kafka_headers_t *headers;
	uint64_t token;             /* the epoch output token (fd_epochs_output*) */
} fd_record;

/* The one produce path. 0 when handed over (to librdkafka, or, while its
 * queue is full, to the overflow FIFO that fd_producer_flush empties in
 * order); -1 when refused (handled: the transaction is doomed or the
 * context failed). Never waits. */
int fd_producer_send(fd_kafka *k, const fd_record *r);

/* Hand the overflow to librdkafka, oldest first, while its queue takes
 * them (call when delivery reports made room). Returns how many wait. */
size_t fd_producer_flush(fd_kafka *k);
/* Records waiting in the overflow. */
size_t fd_producer_overflow(const fd_kafka *k);
/* Forget the overflow (an aborted transaction: those records must never
 * be written); and free it (fd_kafka_free). */
void fd_producer_overflow_drop(fd_kafka *k);
void fd_producer_overflow_free(fd_kafka *k);

/* An output of epoch `epoch` (0: the open one), keyed by lead id, with
 * CloudEvents headers (ce_type `type`, ce_id `id`, ce_time `at_ms`). Takes
 * `value`. */
int fd_producer_output(fd_kafka *k, uint64_t epoch, const char *topic, const char *lead_id,
                       void *value, size_t len, const char *type, const char *id, int64_t at_ms);

/* Encode and produce a transition / an SLA event / a LeadScore (an
 * encoding failure is logged and the record skipped, as before any
 * produce). */
void fd_producer_transition(fd_kafka *k, const fd_transition *t);
void fd_producer_sla(fd_kafka *k, const fd_sla_event *e);
void fd_producer_score(fd_kafka *k, const fd_lead_view *v);

/* The input record `m`, untouched, to the dead-letter topic with
 * funneld.error.{reason,topic,partition,offset} headers; an output of the
 * open epoch, counted by input topic and reason class. Log lines are
 * rate-limited to one a second. */
void fd_producer_dead_letter(fd_kafka *k, const rd_kafka_message_t *m, const char *reason);
/* The same, counted under reason class `c` in funneld_dead_letters_total
 * (fd_producer_dead_letter takes the class from the reason's first words:
 * fd_kafka_dl_class_of). */
void fd_producer_dead_letter_as(fd_kafka *k, const rd_kafka_message_t *m, fd_dl_class c,
                                const char *reason);

/* librdkafka's delivery report callback (installed by fd_kafka_new). */
void fd_producer_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

#endif
