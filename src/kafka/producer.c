/*
 * producer.c — the one produce path, outputs, dead letters and delivery
 * reports (see producer.h).
 */
#include "kafka/producer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/grow.h"
#include "base/log.h"
#include "base/table.h"
#include "funneld/wire.h"

#define OVERFLOW_LOG_MS 10000    /* the "queue is full" line, at most this often */
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

/* ---- records no broker takes ------------------------------------------------------ */

/* A record too large for the producer (message.max.bytes) or for the topic
 * (max.message.bytes on the broker) can never be written: it becomes a dead
 * letter that can, with its value cut to processing.dead_letter_max_payload
 * bytes, then to nothing. Its headers say so. */
#define CUT_KEY_MAX 1024         /* bytes of the key a cut dead letter keeps */
#define CUT_HEADER_MAX ((size_t)256) /* bytes of each error header it keeps */

static bool refused_as_too_large(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
	       err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

static uint64_t fingerprint(const char *topic, const void *key, size_t key_len, const void *value,
                            size_t len)
{
	uint64_t h = fd_table_hash(topic, strlen(topic));
	h = h * 0x9e3779b97f4a7c15u ^ (key ? fd_table_hash(key, key_len) : 0);
	h = h * 0x9e3779b97f4a7c15u ^ (value ? fd_table_hash(value, len) : 0);
	return h ^ len;
}

static bool known_oversize(const fd_kafka *k, uint64_t fp)
{
	for (size_t i = 0; i < k->n_oversize && i < FD_KAFKA_OVERSIZE_MAX; i++)
		if (k->oversize[i] == fp)
			return true;
	return false;
}

static int send_cut(fd_kafka *k, const char *topic, const void *key, size_t key_len,
                    const void *value, size_t len, const rd_kafka_headers_t *orig, uint64_t token,
                    const char *why);

/* Produce `r` once: RD_KAFKA_RESP_ERR__QUEUE_FULL when librdkafka's queue is
 * full (nothing taken). */
static rd_kafka_resp_err_t produce(fd_kafka *k, const fd_record *r)
{
	/* RD_KAFKA_V_KEY itself casts the key to void *; it is only copied.
	 * NOLINTBEGIN(clang-diagnostic-cast-qual) */
	return rd_kafka_producev(
		k->producer, RD_KAFKA_V_TOPIC(r->topic), RD_KAFKA_V_PARTITION(r->partition),
		RD_KAFKA_V_KEY(r->key, r->key_len), RD_KAFKA_V_VALUE(r->value, r->len),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_HEADERS(r->headers),
		RD_KAFKA_V_OPAQUE((void *)(uintptr_t)r->token), RD_KAFKA_V_END);
	/* NOLINTEND(clang-diagnostic-cast-qual) */
}

/* ---- the overflow: what a full queue did not take, in order ------------------------- */

typedef struct held {
	fd_record r;              /* topic and key point into `strings` */
	char *strings;            /* topic, NUL, key */
} held;

struct fd_overflow {
	held *q;                  /* FIFO [head, n) */
	size_t head, n, cap;
	int64_t logged_at;        /* monotonic ms of the last "queue full" line */
};

static int overflow_push(fd_kafka *k, const fd_record *r)
{
	fd_overflow *o = k->overflow;
	if (!o && !(o = k->overflow = calloc(1, sizeof *o)))
		return -1;
	if (o->n == o->cap && o->head > 0) {
		memmove(o->q, o->q + o->head, (o->n - o->head) * sizeof *o->q);
		o->n -= o->head;
		o->head = 0;
	}
	size_t tlen = strlen(r->topic);
	char *strings = malloc(tlen + 1 + r->key_len + 1);
	if (!strings || fd_grow(&o->q, &o->cap, o->n + 1, sizeof *o->q, 64) != 0) {
		free(strings);
		return -1;
	}
	memcpy(strings, r->topic, tlen + 1);
	if (r->key_len)
		memcpy(strings + tlen + 1, r->key, r->key_len);
	held *h = &o->q[o->n++];
	h->r = *r;
	h->strings = strings;
	h->r.topic = strings;
	h->r.key = r->key ? strings + tlen + 1 : NULL;
	int64_t now = fd_clock_monotonic_ms();
	if (o->n - o->head == 1 && now - o->logged_at >= OVERFLOW_LOG_MS) {
		fd_log(FD_LOG_NOTICE, "the producer's queue is full: records wait in order until the "
		       "brokers acknowledge more");
		o->logged_at = now;
	}
	return 0;
}

size_t fd_producer_overflow(const fd_kafka *k)
{
	return k->overflow ? k->overflow->n - k->overflow->head : 0;
}

static int send_now(fd_kafka *k, const fd_record *r);

size_t fd_producer_flush(fd_kafka *k)
{
	fd_overflow *o = k->overflow;
	while (o && o->head < o->n && !k->failed) {
		rd_kafka_resp_err_t err = produce(k, &o->q[o->head].r);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		/* a copy: sending it again below may push to (and move) the FIFO */
		held h = o->q[o->head++];
		if (!err) {
			k->stats.produced++;
		} else {
			/* refused for another reason: as if sent now */
			send_now(k, &h.r); /* NOLINT(bugprone-unused-return-value): handled inside */
		}
		free(h.strings);
	}
	if (o && o->head == o->n)
		o->head = o->n = 0;
	return fd_producer_overflow(k);
}

void fd_producer_overflow_drop(fd_kafka *k)
{
	fd_overflow *o = k->overflow;
	if (!o)
		return;
	for (size_t i = o->head; i < o->n; i++) {
		free(o->q[i].r.value);
		if (o->q[i].r.headers)
			rd_kafka_headers_destroy(o->q[i].r.headers);
		free(o->q[i].strings);
	}
	o->head = o->n = 0;
}

void fd_producer_overflow_free(fd_kafka *k)
{
	fd_producer_overflow_drop(k);
	if (k->overflow)
		free(k->overflow->q);
	free(k->overflow);
	k->overflow = NULL;
}

int fd_producer_send(fd_kafka *k, const fd_record *r)
{
	k->handed++;
	/* behind records that wait: after them, or the order breaks */
	if (fd_producer_overflow(k) > 0 && fd_producer_flush(k) > 0) {
		if (overflow_push(k, r) == 0)
			return 0;
		fd_kafka_fail(k, FD_LOG_CRIT, "out of memory holding a record for %s", r->topic);
		free(r->value);
		if (r->headers)
			rd_kafka_headers_destroy(r->headers);
		return -1;
	}
	return send_now(k, r);
}

/* Produce `r` now: to librdkafka, to the overflow when its queue is full,
 * cut when too large, or refused. */
static int send_now(fd_kafka *k, const fd_record *r)
{
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
	bool known = k->n_oversize > 0 &&
	             known_oversize(k, fingerprint(r->topic, r->key, r->key_len, r->value, r->len));
	if (!known)
		err = produce(k, r);
	if (!err) {
		/* value is librdkafka's now (RD_KAFKA_MSG_F_FREE), but the analyzer
		 * takes any function declared in a system header for one that never
		 * frees. NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		k->stats.produced++;
		return 0;
	}
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && overflow_push(k, r) == 0)
		return 0;
	int rc = -1;
	if (refused_as_too_large(err)) {
		char why[160];
		snprintf(why, sizeof why, "%s%s (%zu bytes to %s)", rd_kafka_err2str(err),
		         known ? ", in an aborted transaction" : "", r->len, r->topic);
		rc = send_cut(k, r->topic, r->key, r->key_len, r->value, r->len, r->headers, r->token, why);
	} else if (!txn_refused(k, r->topic, err)) {
		fd_kafka_fail(k, FD_LOG_ERR, "produce to %s failed: %s; stopping without committing",
		              r->topic, rd_kafka_err2str(err));
	}
	free(r->value);
	if (r->headers)
		rd_kafka_headers_destroy(r->headers);
	return rc;
}

/* Was `h` written by send_cut? Its last header is funneld.error.size, which
 * no other record funneld writes ends with (a dead letter ends with
 * funneld.error.offset, added after the input's own headers; an output
 * with content-type), so an input cannot pass for one. */
static bool was_cut(const rd_kafka_headers_t *h)
{
	const char *name, *last = NULL;
	const void *v;
	size_t n;
	for (size_t i = 0; h && rd_kafka_header_get_all(h, i, &name, &v, &n) == 0; i++)
		last = name;
	return last && strcmp(last, "funneld.error.size") == 0;
}

/* The last header `name` of `h` as text into out (unchanged if absent). */
static void header_text(const rd_kafka_headers_t *h, const char *name, char *out, size_t size)
{
	const void *v;
	size_t n;
	if (h && rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
		snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), (const char *)v);
}

/* The dead letter standing for a record no broker takes: the record's key
 * (at most CUT_KEY_MAX bytes), the dead-letter headers funneld wrote on it
 * (reason, topic, partition, offset: the last of each name, so an input's
 * own headers of those names are not kept), the first
 * dead_letter_max_payload bytes of its value (nothing if it is that small
 * already: then the value itself is too large for the topic), and headers
 * saying what was cut. In the same epoch as the record (`token`). Decided
 * by sizes only, never by headers an input could carry. */
static int send_cut(fd_kafka *k, const char *topic, const void *key, size_t key_len,
                    const void *value, size_t len, const rd_kafka_headers_t *orig, uint64_t token,
                    const char *why)
{
	size_t max = (size_t)k->cfg->dead_letter_max_payload;
	if (len == 0 && key_len <= CUT_KEY_MAX) {
		fd_kafka_fail(k, FD_LOG_ERR, "%s refuses even a record without value (%s); stopping "
		              "without committing", topic, why);
		return -1;
	}
	size_t keep = len > max ? max : 0;
	rd_kafka_headers_t *h = rd_kafka_headers_new(8);
	static const char *const kept[] = { "funneld.error.reason", "funneld.error.topic",
		                                "funneld.error.partition", "funneld.error.offset",
		                                "funneld.error.output_topic" };
	bool dead_letter = false;
	for (size_t i = 0; orig && i < sizeof kept / sizeof kept[0]; i++) {
		const void *v;
		size_t n;
		if (rd_kafka_header_get_last(orig, kept[i], &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR)
			continue;
		dead_letter = true;
		rd_kafka_header_add(h, kept[i], -1, v, (ssize_t)(n > CUT_HEADER_MAX ? CUT_HEADER_MAX : n));
	}
	if (!dead_letter) {
		/* an output: which one, and why it is here */
		char reason[256];
		snprintf(reason, sizeof reason, "output too large for %s", topic);
		rd_kafka_header_add(h, "funneld.error.reason", -1, reason, -1);
		rd_kafka_header_add(h, "funneld.error.output_topic", -1, topic, -1);
	}
	/* a cut of a cut keeps what the first one said about the original */
	char cut[512], size[32], key_size[32] = "";
	snprintf(cut, sizeof cut, "%s", why);
	snprintf(size, sizeof size, "%zu", len);
	if (key_len > CUT_KEY_MAX)
		snprintf(key_size, sizeof key_size, "%zu", key_len);
	if (was_cut(orig)) {
		header_text(orig, "funneld.error.size", size, sizeof size);
		header_text(orig, "funneld.error.key_size", key_size, sizeof key_size);
		char first[256] = "";
		header_text(orig, "funneld.error.cut", first, sizeof first);
		snprintf(cut, sizeof cut, "%s; then %s", first, why);
	}
	rd_kafka_header_add(h, "funneld.error.payload", -1, keep ? "truncated" : "omitted", -1);
	rd_kafka_header_add(h, "funneld.error.cut", -1, cut, -1);
	if (key_size[0])
		rd_kafka_header_add(h, "funneld.error.key_size", -1, key_size, -1);
	rd_kafka_header_add(h, "funneld.error.size", -1, size, -1); /* last: see was_cut */
	void *copy = NULL;
	if (keep) {
		copy = malloc(keep);
		if (!copy) {
			rd_kafka_headers_destroy(h);
			fd_kafka_fail(k, FD_LOG_CRIT, "out of memory cutting a record for %s", topic);
			return -1;
		}
		memcpy(copy, value, keep);
	}
	fd_log(FD_LOG_WARNING, "a record for %s cannot be written: %s; it goes to %s with %zu of "
	       "%zu bytes", topic, why, k->cfg->topics.dead_letters, keep, len);
	k->stats.cut++;
	if (!dead_letter)
		fd_kafka_count_dead_letter(k, topic, FD_DL_TOO_LARGE);
	fd_record r = { k->cfg->topics.dead_letters, RD_KAFKA_PARTITION_UA, key,
		            key_len > CUT_KEY_MAX ? CUT_KEY_MAX : key_len, copy, keep, h, token };
	return fd_producer_send(k, &r);
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

int fd_producer_output(fd_kafka *k, uint64_t epoch, const char *topic, const char *lead_id,
                       void *value, size_t len, const char *type, const char *id, int64_t at_ms)
{
	uint64_t token = epoch ? fd_epochs_output_to(k->epochs, epoch) : fd_epochs_output(k->epochs);
	fd_record r = { topic, RD_KAFKA_PARTITION_UA, lead_id, strlen(lead_id), value, len,
		            ce_headers(k, type, id, at_ms), token };
	return fd_producer_send(k, &r);
}

void fd_producer_transition(fd_kafka *k, const fd_transition *t)
{
	uint8_t *buf;
	size_t len;
	if (fd_wire_encode_transition(t, &buf, &len) != 0) {
		fd_log_fields f = { t->lead_id, fd_stage_name(t->to_stage), fd_trigger_name(t->trigger),
			                -1, k->cfg->topics.transitions };
		fd_log_lead(FD_LOG_ERR, &f, "cannot encode transition %s", t->transition_id);
		return;
	}
	if (fd_producer_output(k, 0, k->cfg->topics.transitions, t->lead_id, buf, len,
	                       "funneld.v1.StageTransition", t->transition_id, t->occurred_at_ms) == 0 &&
	    (unsigned)t->from_stage < FD_STAGE_COUNT && (unsigned)t->to_stage < FD_STAGE_COUNT &&
	    (unsigned)t->trigger < FD_TRIGGER_COUNT)
		k->stats.transitions_by[t->from_stage][t->to_stage][t->trigger]++;
}

void fd_producer_sla(fd_kafka *k, const fd_sla_event *e)
{
	uint8_t *buf;
	size_t len;
	if (fd_wire_encode_sla_event(e, &buf, &len) != 0) {
		fd_log_fields f = { e->lead_id, fd_stage_name(e->stage), NULL, -1, k->cfg->topics.sla };
		fd_log_lead(FD_LOG_ERR, &f, "cannot encode SLA event %s", e->sla_event_id);
		return;
	}
	fd_producer_output(k, 0, k->cfg->topics.sla, e->lead_id, buf, len, "funneld.v1.SlaEvent",
	                   e->sla_event_id, e->occurred_at_ms);
}

void fd_producer_score(fd_kafka *k, const fd_lead_view *v)
{
	uint8_t *buf;
	size_t len;
	if (fd_wire_encode_lead_score(v, v->score.as_of_ms, &buf, &len) != 0) {
		fd_log_fields f = { v->lead_id, fd_stage_name(v->stage), NULL, -1, k->cfg->topics.scores };
		fd_log_lead(FD_LOG_ERR, &f, "cannot encode its LeadScore");
		return;
	}
	char id[FD_ID_HEX + 1];
	fd_engine_score_id(v, id);
	if (fd_producer_output(k, 0, k->cfg->topics.scores, v->lead_id, buf, len,
	                       "funneld.v1.LeadScore", id, v->score.as_of_ms) == 0)
		k->stats.scores++;
}

void fd_producer_dead_letter(fd_kafka *k, const rd_kafka_message_t *m, const char *reason)
{
	fd_producer_dead_letter_as(k, m, fd_kafka_dl_class_of(reason), reason);
}

void fd_producer_dead_letter_as(fd_kafka *k, const rd_kafka_message_t *m, fd_dl_class c,
                                const char *reason)
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
	fd_kafka_count_dead_letter(k, rd_kafka_topic_name(m->rkt), c);
	int64_t t = fd_kafka_now(k);
	if (t - k->dl_log_at < (int64_t)(DEAD_LETTER_LOG_MS * k->clock.speed)) {
		k->dl_suppressed++;
		return;
	}
	fd_log_fields f = { NULL, NULL, NULL, m->partition, rd_kafka_topic_name(m->rkt) };
	fd_log_lead(FD_LOG_WARNING, &f, "dead letter: %s [%" PRId32 "] @%" PRId64 ": %s (%" PRIu64
	            " more since the last line)", rd_kafka_topic_name(m->rkt), m->partition, m->offset,
	            reason, k->dl_suppressed);
	k->dl_log_at = t;
	k->dl_suppressed = 0;
}

void fd_producer_delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	fd_kafka *k = opaque;
	if (m->err && refused_as_too_large(m->err)) {
		/* the broker's limit for the topic is below the producer's */
		if (k->eos) {
			/* the transaction aborts; its replay cuts this record at once */
			k->oversize[k->n_oversize++ % FD_KAFKA_OVERSIZE_MAX] = fingerprint(
				rd_kafka_topic_name(m->rkt), m->key, m->key_len, m->payload, m->len);
			fd_log(FD_LOG_WARNING, "%s refused a record of %zu bytes in the open transaction: "
			       "%s; it will be replayed as a cut dead letter", rd_kafka_topic_name(m->rkt),
			       m->len, rd_kafka_err2str(m->err));
			return;
		}
		rd_kafka_headers_t *h = NULL;
		if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
			h = NULL;
		uint64_t token = (uint64_t)(uintptr_t)m->_private;
		char why[160];
		snprintf(why, sizeof why, "%s (%zu bytes to %s)", rd_kafka_err2str(m->err), m->len,
		         rd_kafka_topic_name(m->rkt));
		/* the cut record joins the same epoch before this one leaves it */
		send_cut(k, rd_kafka_topic_name(m->rkt), m->key, m->key_len, m->payload, m->len, h,
		         fd_epochs_output_to(k->epochs, token), why);
		fd_epochs_ack(k->epochs, token);
		return;
	}
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
