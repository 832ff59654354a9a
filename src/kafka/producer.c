/*
 * producer.c — the one produce path, outputs, dead letters and delivery
 * reports (see producer.h).
 */
#include "kafka/producer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "funneld/wire.h"

#define QUEUE_FULL_POLL_MS 100   /* serve delivery reports, then retry */
#define DEAD_LETTER_LOG_MS 1000  /* at most one dead-letter line a second */

/* exactly_once: a produce refused inside the open transaction (it already
 * needs aborting) loses nothing: the transaction aborts at the next commit
 * point and the input is read again. Returns true when handled so. */
static bool txn_refused(fd_kafka *k, const char *topic, rd_kafka_resp_err_t err)
{
	if (!k->eos || !k->in_txn)
		return false;
	if (!k->txn_doomed)
		fd_log(FD_LOG_WARNING, "produce to %s refused in the open transaction: %s; it will be "
		       "aborted and its input read again", topic, rd_kafka_err2str(err));
	k->txn_doomed = true;
	return true;
}

int fd_producer_send(fd_kafka *k, const fd_record *r)
{
	rd_kafka_resp_err_t err;
	/* RD_KAFKA_V_KEY itself casts the key to void *; it is only copied.
	 * NOLINTBEGIN(clang-diagnostic-cast-qual) */
	while ((err = rd_kafka_producev(
			k->producer, RD_KAFKA_V_TOPIC(r->topic), RD_KAFKA_V_PARTITION(r->partition),
			RD_KAFKA_V_KEY(r->key, r->key_len), RD_KAFKA_V_VALUE(r->value, r->len),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_HEADERS(r->headers),
			RD_KAFKA_V_OPAQUE((void *)(uintptr_t)r->token), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(k->producer, QUEUE_FULL_POLL_MS);
	/* NOLINTEND(clang-diagnostic-cast-qual) */
	if (!err) {
		/* value is librdkafka's now (RD_KAFKA_MSG_F_FREE), but the analyzer
		 * takes any function declared in a system header for one that never
		 * frees. NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		k->stats.produced++;
		return 0;
	}
	free(r->value);
	if (r->headers)
		rd_kafka_headers_destroy(r->headers);
	if (!txn_refused(k, r->topic, err))
		fd_kafka_fail(k, FD_LOG_ERR, "produce to %s failed: %s; stopping without committing",
		              r->topic, rd_kafka_err2str(err));
	return -1;
}

static rd_kafka_headers_t *ce_headers(const fd_kafka *k, const char *type, const char *id,
                                      int64_t at_ms)
{
	char when[64];
	fd_iso8601_format(at_ms, when, sizeof when);
	rd_kafka_headers_t *h = rd_kafka_headers_new(6);
	rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
	rd_kafka_header_add(h, "ce_type", -1, type, -1);
	rd_kafka_header_add(h, "ce_id", -1, id, -1);
	rd_kafka_header_add(h, "ce_time", -1, when, -1);
	rd_kafka_header_add(h, "ce_source", -1, k->cfg->ce_source, -1);
	rd_kafka_header_add(h, "content-type", -1, "application/x-protobuf", -1);
	return h;
}

int fd_producer_output(fd_kafka *k, const char *topic, const char *lead_id, void *value,
                       size_t len, const char *type, const char *id, int64_t at_ms)
{
	fd_record r = { topic, RD_KAFKA_PARTITION_UA, lead_id, strlen(lead_id), value, len,
		            ce_headers(k, type, id, at_ms), fd_epochs_output(k->epochs) };
	return fd_producer_send(k, &r);
}

void fd_producer_transition(fd_kafka *k, const fd_transition *t)
{
	uint8_t *buf;
	size_t len;
	if (fd_wire_encode_transition(t, &buf, &len) != 0) {
		fd_log(FD_LOG_ERR, "cannot encode transition %s of lead %s", t->transition_id, t->lead_id);
		return;
	}
	fd_producer_output(k, k->cfg->topics.transitions, t->lead_id, buf, len,
	                   "funneld.v1.StageTransition", t->transition_id, t->occurred_at_ms);
}

void fd_producer_sla(fd_kafka *k, const fd_sla_event *e)
{
	uint8_t *buf;
	size_t len;
	if (fd_wire_encode_sla_event(e, &buf, &len) != 0) {
		fd_log(FD_LOG_ERR, "cannot encode SLA event %s of lead %s", e->sla_event_id, e->lead_id);
		return;
	}
	fd_producer_output(k, k->cfg->topics.sla, e->lead_id, buf, len, "funneld.v1.SlaEvent",
	                   e->sla_event_id, e->occurred_at_ms);
}

void fd_producer_dead_letter(fd_kafka *k, const rd_kafka_message_t *m, const char *reason)
{
	rd_kafka_headers_t *orig = NULL, *h;
	if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
		h = rd_kafka_headers_copy(orig);
	else
		h = rd_kafka_headers_new(4);
	char num[32];
	rd_kafka_header_add(h, "funneld.error.reason", -1, reason, -1);
	rd_kafka_header_add(h, "funneld.error.topic", -1, rd_kafka_topic_name(m->rkt), -1);
	snprintf(num, sizeof num, "%" PRId32, m->partition);
	rd_kafka_header_add(h, "funneld.error.partition", -1, num, -1);
	snprintf(num, sizeof num, "%" PRId64, m->offset);
	rd_kafka_header_add(h, "funneld.error.offset", -1, num, -1);
	void *value = NULL;
	if (m->len) {
		value = malloc(m->len);
		if (!value) {
			rd_kafka_headers_destroy(h);
			fd_kafka_fail(k, FD_LOG_CRIT, "out of memory writing a dead letter");
			return;
		}
		memcpy(value, m->payload, m->len);
	}
	fd_record r = { k->cfg->topics.dead_letters, RD_KAFKA_PARTITION_UA, m->key, m->key_len,
		            value, m->len, h, fd_epochs_output(k->epochs) };
	if (fd_producer_send(k, &r) != 0)
		return;
	/* value is librdkafka's now (RD_KAFKA_MSG_F_FREE), which the analyzer
	 * cannot see through fd_producer_send.
	 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	k->stats.dead_letters++;
	int64_t t = fd_kafka_now(k);
	if (t - k->dl_log_at < (int64_t)(DEAD_LETTER_LOG_MS * k->clock.speed)) {
		k->dl_suppressed++;
		return;
	}
	fd_log(FD_LOG_WARNING, "dead letter: %s [%" PRId32 "] @%" PRId64 ": %s (%" PRIu64
	       " more since the last line)", rd_kafka_topic_name(m->rkt), m->partition, m->offset,
	       reason, k->dl_suppressed);
	k->dl_log_at = t;
	k->dl_suppressed = 0;
}

void fd_producer_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	fd_kafka *k = opaque;
	if (m->err && k->eos) {
		/* the transaction will not commit: commit_transaction reports it
		 * as abortable and the abort path replays the input */
		fd_log(FD_LOG_WARNING, "delivery to %s failed in the open transaction: %s",
		       rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
		return;
	}
	if (m->err) {
		/* message.timeout.ms is infinite: only permanent errors get here.
		 * The epoch is never acknowledged, so nothing after it is
		 * committed; stop and let a restart replay. */
		fd_kafka_fail(k, FD_LOG_ERR, "delivery to %s failed: %s; stopping without committing",
		              rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
		return;
	}
	k->stats.delivered++;
	fd_epochs_ack(k->epochs, (uint64_t)(uintptr_t)m->_private);
}
