/*
 * admin.c — the admin HTTP server (see admin.h): libevent's evhttp on the
 * daemon's loop, JSON by json-c, Prometheus text by hand.
 *
 * Every request is answered synchronously from the source's callbacks: the
 * engine's counters and lead views are in memory, so there is nothing to
 * wait for and no state kept between requests.
 *
 * Metrics (/metrics, Prometheus text 0.0.4). Always:
 *   funneld_build_info{version,librdkafka,libevent} gauge 1
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_open_fds, process_max_fds, process_start_time_seconds
 *                                      the standard process metrics (procstat.h;
 *                                      absent where /proc cannot be read)
 * From the daemon (src->stats):
 *   funneld_records_consumed_total    counter  input records handled
 *   funneld_dead_letters_total{topic,reason} counter records sent to dead
 *                                      letters, by the topic they came from
 *                                      and reason class (fd_dl_class); the
 *                                      input topics always, every class; an
 *                                      output topic once one was cut
 *   funneld_transitions_total{from,to,trigger} counter stage transitions
 *                                      handed to the producer (the pairs
 *                                      seen, at most 8 x 8 x 14)
 *   funneld_outputs_produced_total    counter  output records handed to the producer
 *   funneld_outputs_delivered_total   counter  ... acknowledged by the broker
 *   funneld_commits_total             counter  input offset commits
 *   funneld_scores_emitted_total      counter  LeadScore records emitted
 *   funneld_state_records_total       counter  changelog records (tombstones included)
 *   funneld_partitions_restoring      gauge    partitions being restored now
 *   funneld_leads_restored_total      counter  leads restored from the changelog
 *   funneld_leads_evicted_total       counter  leads evicted by the TTL
 *   funneld_leads_refused_total       counter  new leads refused at the lead cap
 *   funneld_inputs_forced_total       counter  inputs applied without waiting for a
 *                                              lagging input of their partition
 *   funneld_inputs_buffered           gauge    inputs held for the event-time merge
 *   funneld_inputs_misrouted_total{input,reason} counter inputs without a key, keyed
 *                                              by another id, or on another partition
 *                                              than their key hashes to
 *   funneld_ready                     gauge    1 when /readyz answers 200
 * From the daemon's loop (src->loop_turns):
 *   funneld_loop_turn_seconds         histogram how long each callback held the
 *                                      loop (input batches, ticks, deadlines,
 *                                      changelog steps, restores, signals)
 *   funneld_loop_turn_longest_seconds gauge    the longest of them since start
 * From the daemon's records (src->records):
 *   funneld_event_to_output_seconds   histogram from an input's event time (its
 *                                      Kafka timestamp when it has none) to its
 *                                      outputs handed to the producer; inputs
 *                                      with outputs only; 5 ms .. 7 days
 *   funneld_record_processing_seconds histogram decode + apply + encode of one
 *                                      input record; 1 µs .. 100 ms
 * From librdkafka's statistics (src->lag, every admin.lag_interval):
 *   funneld_consumer_lag{topic,partition} gauge messages behind the high
 *                                      watermark, per assigned input partition
 *                                      (absent while unknown; gone on revoke)
 * From the engine (fd_engine_stats_get; absent while there is no engine):
 *   funneld_leads                     gauge    leads in memory
 *   funneld_leads_by_stage{stage}     gauge    leads in memory per stage
 *   funneld_stage_entries_total{stage} counter transitions into each stage
 *   funneld_sla_events_total{sla,kind} counter per configured SLA and
 *                                      WARNING/BREACH/MET
 *   funneld_events_{applied,duplicate,invalid}_total            counters
 *   funneld_profiles_{applied,stale}_total                      counters
 *   funneld_activities_{applied,refused,duplicate}_total        counters
 *   funneld_pending_timers            gauge    armed SLA/review timers
 *   funneld_memory_bytes{part}        gauge    "core" (records, table, ids)
 *                                      and "context" (history, SLAs, timers)
 * Engine counters count since the process started.
 *
 * Funnel (/v1/funnel). The funnel is state (see "partitions" in
 * funneld/engine.h): counted per input partition in UTC days of event
 * time, persisted to the changelog as the partitions' checkpoints and
 * moved with them. The reply covers the partitions this instance holds
 * ("partitions": assigned and restored) and sums them; ?since= and ?until=
 * (RFC 3339 or ms, until exclusive) choose a window, widened to whole UTC
 * days ("window" says which; "exact" is false when a bounded window
 * reaches into days folded by state.funnel_days). `entered[s]` counts the
 * entries into stage s in the window (re-entries count again:
 * NURTURE→MQL, SAL→MQL on revert); entered[LEAD] counts leads created (a
 * lead created again after its eviction counts again). The conversion
 * rate from stage a to the next stage b is entered[b] / entered[a], for
 * LEAD→MQL, MQL→SAL, SAL→SQL, SQL→OPPORTUNITY and OPPORTUNITY→CUSTOMER.
 * These are entry ratios, not cohort conversions: fast tracks skip MQL and
 * re-entries count twice, so a rate can exceed 1. SLA compliance is met /
 * (met + breached), null before any SLA closed; warned is reported beside
 * it (a warned SLA can still be met). `leads` and `leads_by_stage` are the
 * leads in memory now, whatever the window.
 *
 * Connections (the bounds are in admin.h). libevent 2.1 has no hook that
 * sees a connection being accepted with the connection itself
 * (evhttp_set_newreqcb is 2.2), so the server follows each one in two steps.
 * At accept, evhttp asks us for the connection's bufferevent (on_accept, the
 * evhttp_set_bevcb callback): that is where a connection is counted, the
 * listener disabled at the cap, and a reference taken on the bufferevent.
 * Later in the same loop turn (attach), the evhttp_connection is read back
 * from the bufferevent's callback argument, which evhttp sets to it, and
 * given a close callback and the deadline timer; if evhttp has already
 * freed it, the callbacks are gone and the connection is only uncounted.
 * From then on the close callback uncounts it and cancels its timer, whoever
 * closes it (the client, libevent's timeouts, evhttp_free), and the timer,
 * when it fires first, detaches the close callback and frees the connection.
 *
 * What it is not: no routing table (five paths), no keep-alive tuning, no
 * access log beyond debug-level lines.
 */
#include "daemon/admin.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <json-c/json.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "daemon/procstat.h"

#ifndef FUNNELD_VERSION
#define FUNNELD_VERSION "unknown"
#endif
#include "funneld/wire.h"

#define ADMIN_MAX_HEADERS 8192     /* request line + headers */
#define ADMIN_MAX_BODY 1024        /* nothing we serve takes a body */
#define ADMIN_IDLE_TIMEOUT_S 10    /* libevent's: no progress for this long */
#define ADMIN_LEAD_ID_MAX 255      /* the engine's limit */
#define LEADS_PREFIX "/v1/leads/"

#define ADMIN_DEFAULT_MAX_CONNECTIONS 64     /* admin.max_connections */
#define ADMIN_DEFAULT_REQUEST_TIMEOUT_MS 5000 /* admin.request_timeout */
#define ADMIN_BACKOFF_MIN_MS 100   /* first pause after a failed accept */
#define ADMIN_BACKOFF_MAX_MS 1000  /* doubling up to this */
#define ADMIN_ACCEPT_LOG_EVERY_MS 10000 /* one log line at most per this */

typedef struct admin_conn admin_conn;

/* One accepted connection, from accept until it closes. Owned by the
 * server's list; freed by conn_release. */
struct admin_conn {
	fd_admin *admin;
	struct bufferevent *bev;         /* our reference until attached, then NULL */
	struct evhttp_connection *evcon; /* NULL until attached */
	struct event *timer;             /* the attach step, then the deadline */
	admin_conn *prev, *next;
};

struct fd_admin {
	struct evhttp *http;
	struct evhttp_bound_socket *listener;
	struct evconnlistener *lev;      /* the listener evhttp accepts on */
	fd_admin_source src;
	int port;
	size_t max_connections;
	struct timeval request_timeout;
	int64_t request_timeout_ms;

	size_t open;                     /* connections counted, see admin_conn */
	admin_conn *conns;
	bool accepting;                  /* the listener is enabled */
	bool closing;                    /* fd_admin_free is under way */

	struct event *backoff;           /* re-enables the listener after accept failed */
	bool backing_off;
	int backoff_ms;                  /* the last pause; 0 after an accept */
	bool reported;                   /* an accept failure was logged ... */
	int64_t reported_at_ms;          /* ... then (monotonic clock) */
	unsigned long unreported;        /* failures not logged since */

	fd_admin *next_server;           /* admin_servers */
};

/* libevent 2.1 calls a listener's error callback with the listener's user
 * data, which evhttp sets to the evhttp itself, and offers no way from an
 * evhttp back to anything of ours. So the live servers are listed here,
 * for that callback alone (admin_of_http). Touched only in the loop's
 * thread: by fd_admin_new, fd_admin_free and the callback. */
static fd_admin *admin_servers;

/* ---- UTF-8 ---------------------------------------------------------------- */

static const char utf8_replacement[3] = { '\xEF', '\xBF', '\xBD' }; /* U+FFFD */

/* The length of the well-formed UTF-8 sequence (RFC 3629) that starts
 * s[0..n), n >= 1; or 0 with *bad set to the length of its maximal
 * ill-formed subpart (1 or more), which the callers replace with one U+FFFD
 * (Unicode's "substitution of maximal subparts"). base/utf8.h only says
 * where the first bad byte is; replacing needs the subpart's length. */
static size_t utf8_sequence(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90; /* no overlong forms */
		else if (c == 0xF4)
			hi = 0x8F; /* nothing past U+10FFFF */
	} else {
		*bad = 1; /* 80..C1 (continuation, overlong lead), F5..FF */
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

/* A JSON string of `s` (NULL: null) with every ill-formed UTF-8 subpart
 * replaced by U+FFFD; json-c escapes the control characters. */
static json_object *j_string(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s), bad = 0;
	if (n > INT_MAX / 3)
		return NULL;
	size_t i = fd_utf8_check(s, n); /* no NUL before n: strlen */
	if (i == n) /* the usual case: nothing to replace */
		return json_object_new_string_len(s, (int)n);

	char *clean = malloc(3 * n + 1); /* a byte becomes at most 3 */
	if (!clean)
		return NULL;
	memcpy(clean, s, i);
	size_t out = i;
	while (i < n) {
		size_t len = utf8_sequence((const unsigned char *)s + i, n - i, &bad);
		if (len) {
			memcpy(clean + out, s + i, len);
			out += len;
			i += len;
		} else {
			memcpy(clean + out, utf8_replacement, sizeof utf8_replacement);
			out += sizeof utf8_replacement;
			i += bad;
		}
	}
	json_object *o = json_object_new_string_len(clean, (int)out);
	free(clean);
	return o;
}

/* ---- replies ------------------------------------------------------------- */

/* Every reply goes out here, with its Content-Length whatever the request
 * was: libevent 2.1 writes one only for HTTP/1.1, or 1.0 with keep-alive,
 * and never for HEAD or CONNECT (it takes both for bodiless), yet keeps
 * some of those connections open (a CONNECT always; any version with
 * "Connection: keep-alive", "HTTP/0.1" included), where a reply without
 * its length has no end. It still writes a HEAD reply's body, so for HEAD
 * the body is dropped once measured. */
static void send_reply(struct evhttp_request *req, int code, const char *content_type,
                       struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char len[24];
	snprintf(len, sizeof len, "%zu", evbuffer_get_length(body));
	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Content-Length", len);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
		evbuffer_drain(body, evbuffer_get_length(body));
	evhttp_send_reply(req, code, NULL, body);
	evbuffer_free(body);
}

static void send_body(struct evhttp_request *req, int code, const char *content_type,
                      const char *text, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	if (!buf || evbuffer_add(buf, text, len) != 0) {
		evbuffer_free(buf);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	send_reply(req, code, content_type, buf);
}

/* Serialise `obj`, reply with it and release it. */
static void send_json(struct evhttp_request *req, int code, json_object *obj)
{
	if (!obj) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	size_t len;
	const char *text = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	struct evbuffer *buf = evbuffer_new();
	if (!text || !buf || evbuffer_add(buf, text, len) != 0 || evbuffer_add(buf, "\n", 1) != 0) {
		evbuffer_free(buf);
		json_object_put(obj);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	json_object_put(obj);
	send_reply(req, code, "application/json", buf);
}

static void send_error(struct evhttp_request *req, int code, const char *message)
{
	json_object *o = json_object_new_object();
	if (o)
		json_object_object_add(o, "error", j_string(message));
	send_json(req, code, o);
}

/* ---- JSON values ----------------------------------------------------------- */

/* null for NULL and "" */
static json_object *j_str(const char *s)
{
	return s && *s ? j_string(s) : NULL;
}

/* null for 0 (never set) */
static json_object *j_time(int64_t ms)
{
	return ms ? json_object_new_int64(ms) : NULL;
}

/* Shortest text that reads back the same (15 digits when they suffice,
 * so 40.000000000000007 prints as 40); null for NaN and infinities. */
static json_object *j_num(double d)
{
	if (!isfinite(d))
		return NULL;
	char text[40];
	snprintf(text, sizeof text, "%.15g", d);
	if (strtod(text, NULL) != d)
		snprintf(text, sizeof text, "%.17g", d);
	return json_object_new_double_s(d, text);
}

static json_object *j_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

/* a / b, null when b is 0 */
static json_object *j_ratio(uint64_t a, uint64_t b)
{
	return b ? j_num((double)a / (double)b) : NULL;
}

/* ---- /v1/leads/{id} ---------------------------------------------------------- */

static json_object *lead_json(const fd_lead_view *v, const fd_rules *cfg)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "lead_id", j_string(v->lead_id));
	json_object_object_add(o, "stage", j_string(fd_stage_name(v->stage)));
	json_object_object_add(o, "stage_entered_ms", j_time(v->stage_entered_ms));
	json_object_object_add(o, "owner_id", j_str(v->owner_id));
	json_object_object_add(o, "lead_source", j_str(v->lead_source));
	json_object_object_add(o, "disqualified_by", j_str(v->disqualified_by));
	json_object_object_add(o, "review_at_ms", j_time(v->review_at_ms));
	json_object_object_add(o, "remql_after_ms", j_time(v->remql_after_ms));

	const fd_score_snapshot *s = &v->score;
	json_object *scores = json_object_new_object();
	char grade[2] = { fd_grade_letter(s->grade), '\0' };
	json_object_object_add(scores, "engagement", j_num(s->engagement));
	json_object_object_add(scores, "fit", j_num(s->fit));
	json_object_object_add(scores, "grade", json_object_new_string(grade));
	json_object_object_add(scores, "recency_days",
	                       s->recency_days < 0 ? NULL : j_num(s->recency_days));
	json_object_object_add(scores, "high_intent_recency_days",
	                       s->high_intent_recency_days < 0 ? NULL
	                                                       : j_num(s->high_intent_recency_days));
	json_object *freq = json_object_new_array();
	for (int i = 0; i < s->n_windows && i < FD_MAX_WINDOWS && i < cfg->n_windows; i++) {
		json_object *w = json_object_new_object();
		json_object_object_add(w, "window_ms", json_object_new_int64(cfg->windows_ms[i]));
		json_object_object_add(w, "count", json_object_new_int64(s->frequency[i]));
		json_object_array_add(freq, w);
	}
	json_object_object_add(scores, "frequency", freq);
	json_object_object_add(scores, "as_of_ms", j_time(s->as_of_ms));
	json_object_object_add(o, "scores", scores);

	json_object *slas = json_object_new_array();
	for (size_t i = 0; i < v->n_open_slas && i < FD_MAX_OPEN_SLAS; i++) {
		const fd_open_sla *sla = &v->open_slas[i];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "name", j_string(sla->name));
		json_object_object_add(x, "started_at_ms", json_object_new_int64(sla->started_at_ms));
		json_object_object_add(x, "due_at_ms", json_object_new_int64(sla->due_at_ms));
		json_object_object_add(x, "warned", json_object_new_boolean(sla->warned));
		json_object_array_add(slas, x);
	}
	json_object_object_add(o, "open_slas", slas);

	json_object *recent = json_object_new_array();
	for (size_t i = 0; i < v->n_recent; i++) {
		const fd_recent_activity *r = &v->recent[i];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "type", j_str(r->type));
		json_object_object_add(x, "content_id", j_str(r->content_id));
		json_object_object_add(x, "channel", j_str(r->channel));
		json_object_object_add(x, "occurred_at_ms", j_time(r->occurred_at_ms));
		json_object_array_add(recent, x);
	}
	json_object_object_add(o, "recent_activities", recent);

	json_object *interests = json_object_new_array();
	for (size_t i = 0; i < v->n_interests; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "content_id", j_str(v->interests[i].content_id));
		json_object_object_add(x, "score", j_num(v->interests[i].score));
		json_object_array_add(interests, x);
	}
	json_object_object_add(o, "top_interests", interests);

	json_object *breakdown = json_object_new_array();
	for (size_t i = 0; i < v->n_breakdown; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "type", j_str(v->breakdown[i].type));
		json_object_object_add(x, "points", j_num(v->breakdown[i].points));
		json_object_array_add(breakdown, x);
	}
	json_object_object_add(o, "score_breakdown", breakdown);
	return o;
}

static void serve_lead(fd_admin *a, struct evhttp_request *req, const char *encoded_id)
{
	fd_engine *e = a->src.engine(a->src.ctx);
	if (!e) {
		send_error(req, HTTP_SERVUNAVAIL, "engine not running");
		return;
	}
	if (!*encoded_id) {
		send_error(req, HTTP_NOTFOUND, "no lead id: use /v1/leads/{id}");
		return;
	}
	size_t len = 0;
	char *id = evhttp_uridecode(encoded_id, 0, &len);
	if (!id) {
		send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	if (len != strlen(id)) {
		send_error(req, HTTP_BADREQUEST, "lead id contains a NUL byte");
	} else if (len > ADMIN_LEAD_ID_MAX) {
		send_error(req, HTTP_NOTFOUND, "unknown lead (ids are at most 255 bytes)");
	} else {
		fd_lead_view v;
		if (fd_engine_lead(e, id, a->src.now(a->src.ctx), &v)) {
			send_json(req, HTTP_OK, lead_json(&v, fd_rules_get(e)));
		} else {
			json_object *o = json_object_new_object();
			if (o) {
				json_object_object_add(o, "error", j_string("unknown lead"));
				json_object_object_add(o, "lead_id", j_string(id));
			}
			send_json(req, HTTP_NOTFOUND, o);
		}
	}
	free(id);
}

/* ---- /v1/funnel -------------------------------------------------------------- */

/* A time parameter: milliseconds since the epoch (digits, optionally
 * signed) or an RFC 3339 date-time. 0, or -1 with why in errstr. */
static int time_param(const char *name, const char *v, int64_t *out, char *errstr,
                      size_t errstr_size)
{
	const char *p = v + (*v == '-' || *v == '+');
	bool number = *p != '\0';
	for (; *p && number; p++)
		number = *p >= '0' && *p <= '9';
	if (number) {
		errno = 0;
		char *end;
		long long ms = strtoll(v, &end, 10);
		if (errno == 0 && *end == '\0' && ms >= 0 && ms <= FD_TIME_MAX) {
			*out = ms;
			return 0;
		}
	} else if (fd_iso8601_parse(v, out) == 0 && *out >= 0 && *out <= FD_TIME_MAX) {
		return 0;
	}
	snprintf(errstr, errstr_size, "%s: \"%.64s\" is neither an RFC 3339 date-time (e.g. "
	         "2026-01-31T00:00:00Z) nor milliseconds since the epoch in 0..%" PRId64,
	         name, v, (int64_t)FD_TIME_MAX);
	return -1;
}

/* The window asked for: ?since= and ?until= (either may be absent). 0, or
 * -1 with why in errstr (unknown or repeated parameter, bad time, since
 * after until). */
static int funnel_window(struct evhttp_request *req, bool *has_since, int64_t *since,
                         bool *has_until, int64_t *until, char *errstr, size_t errstr_size)
{
	*has_since = *has_until = false;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	if (!query || !*query)
		return 0;
	struct evkeyvalq params; /* initialised by the parse, cleared by it on failure */
	if (evhttp_parse_query_str(query, &params) != 0) {
		snprintf(errstr, errstr_size, "malformed query string");
		return -1;
	}
	int rc = 0;
	for (struct evkeyval *kv = params.tqh_first; kv && rc == 0; kv = kv->next.tqe_next) {
		bool is_since = strcmp(kv->key, "since") == 0;
		if (!is_since && strcmp(kv->key, "until") != 0) {
			snprintf(errstr, errstr_size, "unknown parameter \"%.64s\": /v1/funnel takes "
			         "since and until", kv->key);
			rc = -1;
		} else if (is_since ? *has_since : *has_until) {
			snprintf(errstr, errstr_size, "%s given twice", kv->key);
			rc = -1;
		} else {
			rc = time_param(kv->key, kv->value, is_since ? since : until, errstr, errstr_size);
			*(is_since ? has_since : has_until) = true;
		}
	}
	evhttp_clear_headers(&params);
	if (rc == 0 && *has_since && *has_until && *since >= *until) {
		snprintf(errstr, errstr_size, "since must be before until");
		rc = -1;
	}
	return rc;
}

static int64_t utc_day(int64_t ms)
{
	return ms / FD_MS_DAY; /* ms >= 0 */
}

static void serve_funnel(fd_admin *a, struct evhttp_request *req)
{
	fd_engine *e = a->src.engine(a->src.ctx);
	if (!e) {
		send_error(req, HTTP_SERVUNAVAIL, "engine not running");
		return;
	}
	char why[256];
	bool has_since, has_until;
	int64_t since = 0, until = 0;
	if (funnel_window(req, &has_since, &since, &has_until, &until, why, sizeof why) != 0) {
		send_error(req, HTTP_BADREQUEST, why);
		return;
	}
	/* whole UTC days: the buckets the counters are kept in */
	int64_t from_day = has_since ? utc_day(since) : INT64_MIN;
	int64_t to_day = has_until ? utc_day(until - 1) : INT64_MAX;

	fd_engine_stats s;
	fd_engine_stats_get(e, &s);
	const fd_rules *cfg = fd_rules_get(e);
	size_t n_parts = fd_engine_partitions(e, NULL, 0);
	int32_t *parts = malloc((n_parts ? n_parts : 1) * sizeof *parts);
	json_object *o = parts ? json_object_new_object() : NULL;
	if (!o) {
		free(parts);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	n_parts = fd_engine_partitions(e, parts, n_parts);
	fd_funnel_counts f;
	memset(&f, 0, sizeof f);
	bool exact = true;
	json_object *plist = json_object_new_array();
	for (size_t i = 0; i < n_parts; i++) {
		fd_engine_funnel(e, parts[i], from_day, to_day, &f, &exact);
		json_object_array_add(plist, json_object_new_int(parts[i]));
	}
	free(parts);

	json_object_object_add(o, "as_of_ms", json_object_new_int64(a->src.now(a->src.ctx)));
	json_object_object_add(o, "partitions", plist);
	json_object *window = json_object_new_object();
	json_object_object_add(window, "since_ms",
	                       has_since ? json_object_new_int64(from_day * FD_MS_DAY) : NULL);
	json_object_object_add(window, "until_ms",
	                       has_until ? json_object_new_int64((to_day + 1) * FD_MS_DAY) : NULL);
	json_object_object_add(window, "exact", json_object_new_boolean(exact));
	json_object_object_add(o, "window", window);
	json_object_object_add(o, "leads", j_u64(s.leads));
	json_object *by_stage = json_object_new_object();
	json_object *entered = json_object_new_object();
	for (int st = 0; st < FD_STAGE_COUNT; st++) {
		json_object_object_add(by_stage, fd_stage_name((fd_stage)st), j_u64(s.per_stage[st]));
		json_object_object_add(entered, fd_stage_name((fd_stage)st), j_u64(f.entered[st]));
	}
	json_object_object_add(o, "leads_by_stage", by_stage);
	json_object_object_add(o, "entered", entered);
	json_object_object_add(o, "transitions", j_u64(f.transitions));

	static const fd_stage path[] = { FD_STAGE_LEAD, FD_STAGE_MQL, FD_STAGE_SAL, FD_STAGE_SQL,
		                             FD_STAGE_OPPORTUNITY, FD_STAGE_CUSTOMER };
	json_object *conv = json_object_new_array();
	for (size_t i = 0; i + 1 < sizeof path / sizeof path[0]; i++) {
		fd_stage from = path[i], to = path[i + 1];
		uint64_t base = f.entered[from], converted = f.entered[to];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "from", j_string(fd_stage_name(from)));
		json_object_object_add(x, "to", j_string(fd_stage_name(to)));
		json_object_object_add(x, "converted", j_u64(converted));
		json_object_object_add(x, "base", j_u64(base));
		json_object_object_add(x, "rate", j_ratio(converted, base));
		json_object_array_add(conv, x);
	}
	json_object_object_add(o, "conversion", conv);

	json_object *slas = json_object_new_array();
	for (int i = 0; i < cfg->n_slas && i < FD_MAX_SLAS; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "name", j_string(cfg->slas[i].name));
		json_object_object_add(x, "met", j_u64(f.sla_met[i]));
		json_object_object_add(x, "breached", j_u64(f.sla_breached[i]));
		json_object_object_add(x, "warned", j_u64(f.sla_warned[i]));
		json_object_object_add(x, "compliance",
		                       j_ratio(f.sla_met[i], f.sla_met[i] + f.sla_breached[i]));
		json_object_array_add(slas, x);
	}
	json_object_object_add(o, "slas", slas);
	send_json(req, HTTP_OK, o);
}

/* ---- /metrics -------------------------------------------------------------- */

static void metric_family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric(struct evbuffer *b, const char *name, const char *type, const char *help,
                   uint64_t value)
{
	metric_family(b, name, type, help);
	evbuffer_add_printf(b, "%s %" PRIu64 "\n", name, value);
}

/* A label value, escaped as the exposition format wants (\\, \", \n),
 * ill-formed UTF-8 replaced by U+FFFD. */
static void label_value(struct evbuffer *b, const char *v)
{
	size_t n = strlen(v), bad = 0;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_sequence((const unsigned char *)v + i, n - i, &bad);
		if (!len) { /* the format is UTF-8 */
			evbuffer_add(b, utf8_replacement, sizeof utf8_replacement);
			i += bad;
			continue;
		}
		switch (v[i]) {
		case '\\': evbuffer_add(b, "\\\\", 2); break;
		case '"': evbuffer_add(b, "\\\"", 2); break;
		case '\n': evbuffer_add(b, "\\n", 2); break;
		default: evbuffer_add(b, v + i, len); break;
		}
		i += len;
	}
}

static bool source_ready(const fd_admin *a)
{
	return !a->src.ready || a->src.ready(a->src.ctx);
}

static void engine_metrics(struct evbuffer *b, fd_engine *e)
{
	fd_engine_stats s;
	fd_engine_stats_get(e, &s);
	const fd_rules *cfg = fd_rules_get(e);

	metric(b, "funneld_leads", "gauge", "Leads in memory.", s.leads);
	metric(b, "funneld_leads_migrating", "gauge",
	       "Leads not moved yet to the rules of the last SIGHUP reload (0 once done).",
	       s.migrating);
	metric_family(b, "funneld_leads_by_stage", "gauge", "Leads in memory per lifecycle stage.");
	for (int st = 0; st < FD_STAGE_COUNT; st++)
		evbuffer_add_printf(b, "funneld_leads_by_stage{stage=\"%s\"} %" PRIu64 "\n",
		                    fd_stage_name((fd_stage)st), s.per_stage[st]);
	metric_family(b, "funneld_stage_entries_total", "counter",
	              "Transitions into each lifecycle stage.");
	for (int st = 0; st < FD_STAGE_COUNT; st++)
		evbuffer_add_printf(b, "funneld_stage_entries_total{stage=\"%s\"} %" PRIu64 "\n",
		                    fd_stage_name((fd_stage)st), s.entered[st]);

	metric_family(b, "funneld_sla_events_total", "counter",
	              "SLA events per configured SLA and kind (WARNING, BREACH, MET).");
	for (int i = 0; i < cfg->n_slas && i < FD_MAX_SLAS; i++) {
		const uint64_t by_kind[FD_SLA_KIND_COUNT] = {
			[FD_SLA_WARNING] = s.sla_warned_by[i],
			[FD_SLA_BREACH] = s.sla_breached_by[i],
			[FD_SLA_MET] = s.sla_met_by[i],
		};
		for (int k = 0; k < FD_SLA_KIND_COUNT; k++) {
			evbuffer_add_printf(b, "funneld_sla_events_total{sla=\"");
			label_value(b, cfg->slas[i].name);
			evbuffer_add_printf(b, "\",kind=\"%s\"} %" PRIu64 "\n",
			                    fd_sla_kind_name((fd_sla_kind)k), by_kind[k]);
		}
	}

	metric(b, "funneld_events_applied_total", "counter", "Engagement events applied.",
	       s.events_applied);
	metric(b, "funneld_events_duplicate_total", "counter",
	       "Engagement events ignored as duplicates or replays.", s.events_duplicate);
	metric(b, "funneld_events_invalid_total", "counter",
	       "Engagement events refused as invalid.", s.events_invalid);
	metric(b, "funneld_profiles_applied_total", "counter", "Lead profiles applied.",
	       s.profiles_applied);
	metric(b, "funneld_profiles_stale_total", "counter",
	       "Lead profiles ignored as older than the one applied.", s.profiles_stale);
	metric(b, "funneld_activities_applied_total", "counter", "Sales activities applied.",
	       s.activities_applied);
	metric(b, "funneld_activities_refused_total", "counter",
	       "Sales activities refused because they do not fit the lead's stage.",
	       s.activities_refused);
	metric(b, "funneld_activities_duplicate_total", "counter",
	       "Sales activities ignored as duplicates or replays.", s.activities_duplicate);
	metric(b, "funneld_pending_timers", "gauge", "Armed SLA and nurture review timers.",
	       s.pending_timers);
	metric_family(b, "funneld_memory_bytes", "gauge",
	              "Engine memory: core (lead records, table, ids) and context "
	              "(activity history, interests, breakdown, SLAs, timers).");
	evbuffer_add_printf(b, "funneld_memory_bytes{part=\"core\"} %zu\n", s.bytes_core);
	evbuffer_add_printf(b, "funneld_memory_bytes{part=\"context\"} %zu\n", s.bytes_context);
}

/* Input records off their lead's partition, per input and reason (the
 * input's role, not its topic name: dashboards outlive a rename). */
static void misrouted_metrics(struct evbuffer *b, const fd_kafka_stats *d)
{
	static const char *const inputs[FD_IN_TOPICS] = {
		[FD_IN_ENGAGEMENT] = "engagement", [FD_IN_PROFILES] = "profiles",
		[FD_IN_ACTIVITIES] = "activities"
	};
	metric_family(b, "funneld_inputs_misrouted_total", "counter",
	              "Input records without a key, keyed by another id than their lead's, or on "
	              "another partition than their key hashes to (processing.partitioner).");
	for (int t = 0; t < FD_IN_TOPICS; t++)
		for (int r = FD_ROUTE_NO_KEY; r < FD_ROUTE_REASONS; r++)
			evbuffer_add_printf(b,
			                    "funneld_inputs_misrouted_total{input=\"%s\",reason=\"%s\"} %"
			                    PRIu64 "\n",
			                    inputs[t], fd_route_reason_name((fd_misroute)r), d->misrouted[t][r]);
}

/* A histogram in seconds: cumulative buckets by upper bound, +Inf equal
 * to the count. */
static void histogram(struct evbuffer *b, const char *name, const char *help, const fd_hist *h)
{
	const fd_hist_scale *scale = fd_hist_scale_of(h);
	double unit = (double)scale->per_second;
	metric_family(b, name, "histogram", help);
	for (size_t i = 0; i + 1 < scale->n; i++)
		evbuffer_add_printf(b, "%s_bucket{le=\"%.6g\"} %" PRIu64 "\n", name,
		                    (double)fd_hist_upper(h, i) / unit, fd_hist_cumulative(h, i));
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
	evbuffer_add_printf(b, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name,
	                    (double)h->sum_us / unit, name, h->count);
}

static void turn_metrics(struct evbuffer *b, const fd_admin *a)
{
	fd_hist h;
	a->src.loop_turns(a->src.ctx, &h);
	histogram(b, "funneld_loop_turn_seconds",
	          "How long each of the daemon's callbacks held the event loop.", &h);
	metric_family(b, "funneld_loop_turn_longest_seconds", "gauge",
	              "The longest time one of the daemon's callbacks held the event loop.");
	evbuffer_add_printf(b, "funneld_loop_turn_longest_seconds %.6f\n", (double)h.max_us / 1e6);
}

static void record_metrics(struct evbuffer *b, const fd_admin *a)
{
	fd_hist age, took;
	a->src.records(a->src.ctx, &age, &took);
	histogram(b, "funneld_event_to_output_seconds",
	          "From an input record's event time (its Kafka timestamp when it has none) to its "
	          "outputs handed to the producer, for inputs that caused outputs.",
	          &age);
	histogram(b, "funneld_record_processing_seconds",
	          "Decode, apply and encode of one input record (monotonic clock).", &took);
}

static void lag_metrics(struct evbuffer *b, const fd_admin *a)
{
	const fd_lag_entry *lag = NULL;
	size_t n = a->src.lag(a->src.ctx, &lag);
	metric_family(b, "funneld_consumer_lag", "gauge",
	              "Records of an assigned input partition not yet committed by this group "
	              "(librdkafka's consumer_lag; absent while unknown).");
	for (size_t i = 0; i < n; i++) {
		if (lag[i].lag < 0)
			continue;
		evbuffer_add_printf(b, "funneld_consumer_lag{topic=\"");
		label_value(b, lag[i].topic);
		evbuffer_add_printf(b, "\",partition=\"%" PRId32 "\"} %" PRId64 "\n", lag[i].partition,
		                    lag[i].lag);
	}
}

/* Dead letters by topic and reason class: every class of the input
 * topics (so that rates start from zero), output topics once counted. */
static void dead_letter_metrics(struct evbuffer *b, const fd_kafka_stats *d)
{
	metric_family(b, "funneld_dead_letters_total", "counter",
	              "Records sent to the dead-letter topic, by the topic they came from and "
	              "reason class.");
	for (int t = 0; t < FD_DL_TOPICS; t++) {
		const char *topic = d->dl_topics[t] ? d->dl_topics[t] : "other";
		for (int c = 0; c < FD_DL_COUNT; c++) {
			if (t >= FD_IN_TOPICS && d->dead_letters_by[t][c] == 0)
				continue;
			evbuffer_add_printf(b, "funneld_dead_letters_total{topic=\"");
			label_value(b, topic);
			evbuffer_add_printf(b, "\",reason=\"%s\"} %" PRIu64 "\n",
			                    fd_kafka_dl_class_name((fd_dl_class)c), d->dead_letters_by[t][c]);
		}
	}
}

static void transition_metrics(struct evbuffer *b, const fd_kafka_stats *d)
{
	metric_family(b, "funneld_transitions_total", "counter",
	              "Lifecycle stage transitions, by stage left, stage entered and trigger.");
	for (int from = 0; from < FD_STAGE_COUNT; from++)
		for (int to = 0; to < FD_STAGE_COUNT; to++)
			for (int t = 0; t < FD_TRIGGER_COUNT; t++)
				if (d->transitions_by[from][to][t])
					evbuffer_add_printf(
						b, "funneld_transitions_total{from=\"%s\",to=\"%s\",trigger=\"%s\"} %" PRIu64
						   "\n",
						fd_stage_name((fd_stage)from), fd_stage_name((fd_stage)to),
						fd_trigger_name((fd_trigger)t), d->transitions_by[from][to][t]);
}

static void process_metrics(struct evbuffer *b)
{
	metric_family(b, "funneld_build_info", "gauge",
	              "The funneld version and the library versions it runs with.");
	evbuffer_add_printf(b, "funneld_build_info{version=\"");
	label_value(b, FUNNELD_VERSION);
	evbuffer_add_printf(b, "\",librdkafka=\"");
	label_value(b, rd_kafka_version_str());
	evbuffer_add_printf(b, "\",libevent=\"");
	label_value(b, event_get_version());
	evbuffer_add_printf(b, "\"} 1\n");
	fd_procstat p;
	if (fd_procstat_read(&p) != 0)
		return;
	metric_family(b, "process_cpu_seconds_total", "counter",
	              "Total user and system CPU time spent in seconds.");
	evbuffer_add_printf(b, "process_cpu_seconds_total %.2f\n", p.cpu_seconds);
	metric_family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	evbuffer_add_printf(b, "process_resident_memory_bytes %" PRIu64 "\n", p.resident_bytes);
	metric_family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	evbuffer_add_printf(b, "process_open_fds %" PRIu64 "\n", p.open_fds);
	metric_family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
	evbuffer_add_printf(b, "process_max_fds %" PRIu64 "\n", p.max_fds);
	metric_family(b, "process_start_time_seconds", "gauge",
	              "Start time of the process since unix epoch in seconds.");
	evbuffer_add_printf(b, "process_start_time_seconds %.2f\n", p.start_time_seconds);
}

static void serve_metrics(fd_admin *a, struct evhttp_request *req)
{
	fd_kafka_stats d;
	memset(&d, 0, sizeof d);
	if (a->src.stats)
		a->src.stats(a->src.ctx, &d);
	struct evbuffer *b = evbuffer_new();
	if (!b) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	process_metrics(b);
	metric(b, "funneld_records_consumed_total", "counter", "Input records handled.", d.consumed);
	dead_letter_metrics(b, &d);
	transition_metrics(b, &d);
	metric(b, "funneld_outputs_produced_total", "counter",
	       "Output records handed to the producer.", d.produced);
	metric(b, "funneld_outputs_delivered_total", "counter",
	       "Output records acknowledged by the broker.", d.delivered);
	metric(b, "funneld_commits_total", "counter", "Input offset commits.", d.commits);
	metric(b, "funneld_scores_emitted_total", "counter", "LeadScore records emitted.", d.scores);
	metric(b, "funneld_state_records_total", "counter",
	       "Changelog records written, tombstones included.", d.state_records);
	metric(b, "funneld_partitions_restoring", "gauge",
	       "Partitions being restored from the changelog.", d.restoring);
	metric(b, "funneld_leads_restored_total", "counter", "Leads restored from the changelog.",
	       d.restored_leads);
	metric(b, "funneld_leads_evicted_total", "counter", "Inactive leads evicted by the TTL.",
	       d.evicted);
	metric(b, "funneld_leads_refused_total", "counter", "New leads refused at the lead cap.",
	       d.refused_full);
	metric(b, "funneld_inputs_forced_total", "counter",
	       "Input records applied without waiting any longer for a lagging input of their "
	       "partition (processing.max_idle).",
	       d.order_forced);
	metric(b, "funneld_inputs_buffered", "gauge",
	       "Input records read and held for the event-time merge.", d.order_buffered);
	misrouted_metrics(b, &d);
	metric(b, "funneld_records_cut_total", "counter",
	       "Records no broker takes (too large), written as dead letters with their value cut.",
	       d.cut);
	metric(b, "funneld_ready", "gauge", "1 when /readyz answers 200.", source_ready(a) ? 1 : 0);
	if (a->src.loop_turns)
		turn_metrics(b, a);
	if (a->src.records)
		record_metrics(b, a);
	if (a->src.lag)
		lag_metrics(b, a);
	fd_engine *e = a->src.engine(a->src.ctx);
	if (e)
		engine_metrics(b, e);

	send_reply(req, HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b);
}

/* ---- routing ----------------------------------------------------------------- */

static void serve_ready(fd_admin *a, struct evhttp_request *req)
{
	json_object *o = json_object_new_object();
	if (!o) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (source_ready(a)) {
		json_object_object_add(o, "ready", json_object_new_boolean(1));
		send_json(req, HTTP_OK, o);
		return;
	}
	const char *status = a->src.status ? a->src.status(a->src.ctx) : NULL;
	json_object_object_add(o, "ready", json_object_new_boolean(0));
	json_object_object_add(o, "status",
	                       j_string(status && *status ? status : "not ready"));
	send_json(req, HTTP_SERVUNAVAIL, o);
}

static void serve_health(fd_admin *a, struct evhttp_request *req)
{
	const char *why = a->src.unhealthy ? a->src.unhealthy(a->src.ctx) : NULL;
	if (!why) {
		send_body(req, HTTP_OK, "text/plain; charset=utf-8", "ok\n", 3);
		return;
	}
	char body[512];
	int n = snprintf(body, sizeof body, "unhealthy: %s\n", why);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof body ? (size_t)n : sizeof body - 1;
	send_body(req, HTTP_SERVUNAVAIL, "text/plain; charset=utf-8", body, len);
}

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	default: return "?";
	}
}

/* The debug line of a request; a lead's id in its path shown as log ids
 * are (redacted by default), the query left out. */
static void log_request(enum evhttp_cmd_type method, struct evhttp_request *req, const char *path)
{
	if (!path || strncmp(path, LEADS_PREFIX, strlen(LEADS_PREFIX)) != 0) {
		fd_log_write(FD_LOG_DEBUG, "admin HTTP: %s %s", method_name(method),
		             evhttp_request_get_uri(req));
		return;
	}
	char *id = evhttp_uridecode(path + strlen(LEADS_PREFIX), 0, NULL);
	char tok[FD_REDACT_TOKEN_LEN + 1];
	fd_log_write(FD_LOG_DEBUG, "admin HTTP: %s %s%s", method_name(method), LEADS_PREFIX,
	             id ? fd_log_id(id, tok) : "?");
	free(id);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	fd_admin *a = arg;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	if (fd_log_enabled(FD_LOG_DEBUG))
		log_request(method, req, path);
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		send_error(req, HTTP_BADMETHOD, "method not allowed: the admin API is read-only (GET)");
		return;
	}
	if (!path) {
		send_error(req, HTTP_BADREQUEST, "malformed request target");
		return;
	}
	if (strcmp(path, "/healthz") == 0)
		serve_health(a, req);
	else if (strcmp(path, "/readyz") == 0)
		serve_ready(a, req);
	else if (strcmp(path, "/metrics") == 0)
		serve_metrics(a, req);
	else if (strcmp(path, "/v1/funnel") == 0)
		serve_funnel(a, req);
	else if (strncmp(path, LEADS_PREFIX, strlen(LEADS_PREFIX)) == 0)
		serve_lead(a, req, path + strlen(LEADS_PREFIX));
	else
		send_error(req, HTTP_NOTFOUND, "not found: try /healthz, /readyz, /metrics, "
		                               "/v1/leads/{id} or /v1/funnel");
}

/* ---- connections: the cap and the deadline ------------------------------------ */

/* Enable the listener when the server may accept, disable it otherwise:
 * at the cap, and while backing off after a failed accept (left alone once
 * closing). A disabled listener leaves new clients in the kernel's
 * backlog. */
static void listener_update(fd_admin *a)
{
	bool want = !a->backing_off && a->open < a->max_connections;
	if (a->closing || !a->lev || want == a->accepting)
		return;
	if ((want ? evconnlistener_enable(a->lev) : evconnlistener_disable(a->lev)) != 0) {
		fd_log(FD_LOG_ERR, "admin HTTP: cannot %s the listener", want ? "enable" : "disable");
		return;
	}
	a->accepting = want;
}

/* Uncount `c` and free it (its timer too, even from the timer's own
 * callback, which libevent allows). */
static void conn_release(admin_conn *c)
{
	fd_admin *a = c->admin;
	if (a->conns == c)
		a->conns = c->next;
	else
		c->prev->next = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->open--;
	event_free(c->timer);
	if (c->bev)
		bufferevent_decref(c->bev);
	free(c);
	listener_update(a);
}

/* evhttp_connection_set_closecb: the connection is going away, whoever
 * closes it; the deadline must not fire on it any more. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	conn_release(arg);
}

/* Second step after accept (see the top of the file): find the
 * evhttp_connection, or learn that evhttp already let it go. */
static void conn_attach(admin_conn *c)
{
	struct bufferevent *bev = c->bev;
	void *evcon = NULL;
	bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
	if (!evcon) {
		conn_release(c); /* drops our reference: the last one */
		return;
	}
	c->bev = NULL;
	c->evcon = evcon;
	evhttp_connection_set_closecb(c->evcon, on_conn_close, c);
	if (evtimer_add(c->timer, &c->admin->request_timeout) != 0)
		fd_log(FD_LOG_ERR, "admin HTTP: cannot arm a connection's deadline");
	bufferevent_decref(bev); /* the connection holds its own */
}

static void on_conn_timer(evutil_socket_t fd, short what, void *arg)
{
	admin_conn *c = arg;
	if (c->bev) {
		conn_attach(c);
		return;
	}
	struct evhttp_connection *evcon = c->evcon;
	fd_log(FD_LOG_DEBUG, "admin HTTP: closing a connection at its %" PRId64 " ms deadline",
	       c->admin->request_timeout_ms);
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	conn_release(c);
	evhttp_connection_free(evcon);
}

/* evhttp_set_bevcb: evhttp has accepted a connection and wants its
 * bufferevent. Count it here, where the listener's accept loop can still be
 * stopped: a listener disabled from this callback accepts nothing more in
 * this turn. NULL lets evhttp make its own (the connection then goes
 * uncounted; only when memory runs out). */
static struct bufferevent *on_accept(struct event_base *base, void *arg)
{
	fd_admin *a = arg;
	a->backoff_ms = 0; /* accepting works (again) */
	admin_conn *c = calloc(1, sizeof *c);
	struct bufferevent *bev = c ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
	struct event *timer = bev ? evtimer_new(base, on_conn_timer, c) : NULL;
	if (!timer) {
		fd_log(FD_LOG_ERR, "admin HTTP: out of memory for a new connection");
		if (bev)
			bufferevent_free(bev);
		free(c);
		return NULL;
	}
	/* our reference keeps `bev` (and, closed on free, its fd) valid until
	 * attach, whatever evhttp does with the connection meanwhile */
	bufferevent_incref(bev);
	*c = (admin_conn){ .admin = a, .bev = bev, .timer = timer, .next = a->conns };
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->open++;
	event_active(timer, EV_TIMEOUT, 1); /* attach, later in this turn */
	listener_update(a);
	return bev;
}

/* ---- accept failures ---------------------------------------------------------- */

static fd_admin *admin_of_http(const struct evhttp *http)
{
	for (fd_admin *a = admin_servers; a; a = a->next_server)
		if (a->http == http)
			return a;
	return NULL;
}

static void on_backoff_end(evutil_socket_t fd, short what, void *arg)
{
	fd_admin *a = arg;
	a->backing_off = false;
	listener_update(a);
}

/* evconnlistener_set_error_cb: accept() failed with something other than
 * EAGAIN, EINTR or ECONNABORTED, typically EMFILE. The listening socket
 * stays readable, so without a pause the loop would spin on it. */
static void on_accept_error(struct evconnlistener *lev, void *http)
{
	int err = EVUTIL_SOCKET_ERROR();
	fd_admin *a = admin_of_http(http);
	if (!a) { /* cannot happen: the listener lives inside a live server */
		evconnlistener_disable(lev);
		return;
	}
	a->backoff_ms = a->backoff_ms ? a->backoff_ms * 2 : ADMIN_BACKOFF_MIN_MS;
	if (a->backoff_ms > ADMIN_BACKOFF_MAX_MS)
		a->backoff_ms = ADMIN_BACKOFF_MAX_MS;
	struct timeval pause = { a->backoff_ms / 1000, (suseconds_t)(a->backoff_ms % 1000) * 1000 };
	a->backing_off = true;
	listener_update(a);
	if (evtimer_add(a->backoff, &pause) != 0) { /* never leave it disabled */
		a->backing_off = false;
		listener_update(a);
	}

	int64_t now = fd_clock_monotonic_ms();
	if (a->reported && now - a->reported_at_ms < ADMIN_ACCEPT_LOG_EVERY_MS) {
		a->unreported++;
		return;
	}
	if (a->unreported)
		fd_log(FD_LOG_WARNING,
		       "admin HTTP: cannot accept a connection: %s; pausing the listener for %d ms "
		       "(%lu more failures since the last report)",
		       evutil_socket_error_to_string(err), a->backoff_ms, a->unreported);
	else
		fd_log(FD_LOG_WARNING,
		       "admin HTTP: cannot accept a connection: %s; pausing the listener for %d ms",
		       evutil_socket_error_to_string(err), a->backoff_ms);
	a->reported = true;
	a->reported_at_ms = now;
	a->unreported = 0;
}

/* ---- lifecycle --------------------------------------------------------------- */

/* "127.0.0.1:8080", "[::1]:8080" */
static void endpoint_name(const char *address, int port, char *out, size_t size)
{
	if (strchr(address, ':'))
		snprintf(out, size, "[%s]:%d", address, port);
	else
		snprintf(out, size, "%s:%d", address, port);
}

static int bound_port(struct evhttp_bound_socket *listener)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	evutil_socket_t fd = evhttp_bound_socket_get_fd(listener);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

fd_admin *fd_admin_new(struct event_base *base, const char *address, int port,
                       const fd_admin_limits *limits, const fd_admin_source *src, char *errstr,
                       size_t errstr_size)
{
	if (!base || !src || !src->engine || !src->now) {
		snprintf(errstr, errstr_size, "admin HTTP: no event loop, engine or clock to serve");
		errno = EINVAL;
		return NULL;
	}
	fd_admin_limits lim = { ADMIN_DEFAULT_MAX_CONNECTIONS, ADMIN_DEFAULT_REQUEST_TIMEOUT_MS };
	if (limits)
		lim = *limits;
	if (lim.max_connections < 1 || lim.request_timeout_ms < 1) {
		snprintf(errstr, errstr_size,
		         "admin HTTP: invalid limits: max_connections %d, request_timeout %" PRId64
		         " ms (both must be positive)",
		         lim.max_connections, lim.request_timeout_ms);
		errno = EINVAL;
		return NULL;
	}
	if (!address || !*address || port < 0 || port > 65535) {
		snprintf(errstr, errstr_size, "admin HTTP: invalid address \"%s\" or port %d",
		         address ? address : "", port);
		errno = EINVAL;
		return NULL;
	}
	char where[FD_NAME_MAX + 16];
	endpoint_name(address, port, where, sizeof where);

	/* resolve first: libevent reports resolver errors only on its own log */
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	int gai = getaddrinfo(address, NULL, &hints, &ai);
	if (gai != 0) {
		snprintf(errstr, errstr_size, "admin HTTP: cannot listen on %s: %s", where,
		         gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	freeaddrinfo(ai);

	fd_admin *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(errstr, errstr_size, "admin HTTP: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	a->src = *src;
	a->max_connections = (size_t)lim.max_connections;
	a->request_timeout_ms = lim.request_timeout_ms;
	a->request_timeout.tv_sec = (time_t)(lim.request_timeout_ms / 1000);
	a->request_timeout.tv_usec = (suseconds_t)(lim.request_timeout_ms % 1000 * 1000);
	a->backoff = evtimer_new(base, on_backoff_end, a);
	a->http = evhttp_new(base);
	if (!a->backoff || !a->http) {
		snprintf(errstr, errstr_size, "admin HTTP: cannot create the server");
		errno = EIO;
		goto fail;
	}
	evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY);
	evhttp_set_timeout(a->http, ADMIN_IDLE_TIMEOUT_S);
	evhttp_set_bevcb(a->http, on_accept, a);
	/* let the usual write methods and CONNECT through so they get a proper
	 * 405 with Allow (libevent's own 501 to a CONNECT has no length and
	 * no end, see send_reply); libevent answers TRACE with 501 */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                                        EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS |
	                                        EVHTTP_REQ_CONNECT);
	evhttp_set_gencb(a->http, on_request, a);

	errno = 0;
	a->listener = evhttp_bind_socket_with_handle(a->http, address, (ev_uint16_t)port);
	if (!a->listener) {
		int err = errno;
		snprintf(errstr, errstr_size, "admin HTTP: cannot listen on %s: %s", where,
		         err ? strerror(err) : "bind failed");
		errno = err ? err : EADDRNOTAVAIL;
		goto fail;
	}
	a->lev = evhttp_bound_socket_get_listener(a->listener);
	a->accepting = true; /* evhttp leaves it enabled */
	evconnlistener_set_error_cb(a->lev, on_accept_error);
	a->next_server = admin_servers;
	admin_servers = a;
	a->port = bound_port(a->listener);
	if (a->port < 0) {
		snprintf(errstr, errstr_size, "admin HTTP: cannot read the bound port of %s: %s",
		         where, strerror(errno));
		errno = EIO;
		goto fail;
	}
	endpoint_name(address, a->port, where, sizeof where);
	fd_log(FD_LOG_INFO, "admin HTTP on http://%s/ (healthz, readyz, metrics, v1/leads/ID, "
	                    "v1/funnel; at most %d connections, %" PRId64 " ms each)",
	       where, lim.max_connections, lim.request_timeout_ms);
	return a;

fail: {
	int err = errno;
	fd_admin_free(a);
	errno = err;
	return NULL;
}
}

int fd_admin_port(const fd_admin *a)
{
	return a->port;
}

size_t fd_admin_connections(const fd_admin *a)
{
	return a->open;
}

void fd_admin_free(fd_admin *a)
{
	if (!a)
		return;
	a->closing = true; /* no listener_update from here on */
	for (fd_admin **p = &admin_servers; *p; p = &(*p)->next_server) {
		if (*p == a) {
			*p = a->next_server;
			break;
		}
	}
	a->lev = NULL; /* evhttp_free frees it first */
	/* closes the listener, then every connection: on_conn_close releases
	 * the attached ones */
	if (a->http)
		evhttp_free(a->http);
	/* what is left was accepted in the last turn and not attached yet */
	for (admin_conn *c = a->conns, *next; c; c = next) {
		next = c->next;
		conn_release(c);
	}
	if (a->backoff)
		event_free(a->backoff);
	free(a);
}
