/*
 * admin.c — the admin HTTP server (see admin.h): libevent's evhttp on the
 * daemon's loop, JSON by json-c, Prometheus text by hand.
 *
 * Every request is answered synchronously from the source's callbacks: the
 * engine's counters and lead views are in memory, so there is nothing to
 * wait for and no state kept between requests.
 *
 * Metrics (/metrics, Prometheus text 0.0.4). From the daemon (src->stats):
 *   funneld_records_consumed_total    counter  input records handled
 *   funneld_dead_letters_total        counter  records sent to dead letters
 *   funneld_outputs_produced_total    counter  output records handed to the producer
 *   funneld_outputs_delivered_total   counter  ... acknowledged by the broker
 *   funneld_commits_total             counter  input offset commits
 *   funneld_scores_emitted_total      counter  LeadScore records emitted
 *   funneld_state_records_total       counter  changelog records (tombstones included)
 *   funneld_partitions_restoring      gauge    partitions being restored now
 *   funneld_leads_restored_total      counter  leads restored from the changelog
 *   funneld_leads_evicted_total       counter  leads evicted by the TTL
 *   funneld_leads_refused_total       counter  new leads refused at the lead cap
 *   funneld_ready                     gauge    1 when /readyz answers 200
 * From the engine (fd_engine_stats_get; absent while there is no engine):
 *   funneld_leads                     gauge    leads in memory
 *   funneld_leads_by_stage{stage}     gauge    leads in memory per stage
 *   funneld_stage_entries_total{stage} counter transitions into each stage
 *   funneld_transitions_total         counter  stage transitions
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
 * Funnel (/v1/funnel). `entered[s]` is the number of transitions into stage
 * s since start (re-entries count again: NURTURE→MQL, SAL→MQL on revert).
 * The conversion rate from stage a to the next stage b is
 * entered[b] / entered[a], for MQL→SAL, SAL→SQL, SQL→OPPORTUNITY and
 * OPPORTUNITY→CUSTOMER. entered[LEAD] counts leads created since start
 * (restored ones excluded), so LEAD→MQL uses another base:
 * entered[MQL] / leads_seen, where leads_seen = leads in memory
 * + leads evicted by the TTL: every lead this instance has held, including
 * the ones restored from the changelog, excluding the ones a rebalance moved
 * to another instance. These are entry ratios, not cohort conversions: fast
 * tracks skip MQL and re-entries count twice, so a rate can exceed 1. SLA
 * compliance is met / (met + breached), null before any SLA closed; warned
 * is reported beside it (a warned SLA can still be met).
 *
 * What it is not: no routing table (five paths), no keep-alive tuning, no
 * access log beyond debug-level lines.
 */
#include "daemon/admin.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include "base/log.h"

#define ADMIN_MAX_HEADERS 8192     /* request line + headers */
#define ADMIN_MAX_BODY 1024        /* nothing we serve takes a body */
#define ADMIN_TIMEOUT_S 10
#define ADMIN_LEAD_ID_MAX 255      /* the engine's limit */
#define LEADS_PREFIX "/v1/leads/"

struct fd_admin {
	struct evhttp *http;
	struct evhttp_bound_socket *listener;
	fd_admin_source src;
	int port;
};

/* ---- replies ------------------------------------------------------------- */

/* Every reply goes out here. libevent 2.1 writes a HEAD reply's body (and
 * no Content-Length), so for HEAD the body is measured, then dropped. */
static void send_reply(struct evhttp_request *req, int code, const char *content_type,
                       struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char len[24];
		snprintf(len, sizeof len, "%zu", evbuffer_get_length(body));
		evhttp_add_header(h, "Content-Length", len);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
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
		json_object_object_add(o, "error", json_object_new_string(message));
	send_json(req, code, o);
}

/* ---- JSON values ----------------------------------------------------------- */

/* null for NULL and "" */
static json_object *j_str(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
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
	json_object_object_add(o, "lead_id", json_object_new_string(v->lead_id));
	json_object_object_add(o, "stage", json_object_new_string(fd_stage_name(v->stage)));
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
		json_object_object_add(x, "name", json_object_new_string(sla->name));
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
				json_object_object_add(o, "error", json_object_new_string("unknown lead"));
				json_object_object_add(o, "lead_id", json_object_new_string(id));
			}
			send_json(req, HTTP_NOTFOUND, o);
		}
	}
	free(id);
}

/* ---- /v1/funnel -------------------------------------------------------------- */

static void serve_funnel(fd_admin *a, struct evhttp_request *req)
{
	fd_engine *e = a->src.engine(a->src.ctx);
	if (!e) {
		send_error(req, HTTP_SERVUNAVAIL, "engine not running");
		return;
	}
	fd_engine_stats s;
	fd_engine_stats_get(e, &s);
	const fd_rules *cfg = fd_rules_get(e);
	uint64_t seen = s.leads + s.leads_evicted;

	json_object *o = json_object_new_object();
	if (!o) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	json_object_object_add(o, "as_of_ms", json_object_new_int64(a->src.now(a->src.ctx)));
	json_object_object_add(o, "leads", j_u64(s.leads));
	json_object_object_add(o, "leads_seen", j_u64(seen));
	json_object *by_stage = json_object_new_object();
	json_object *entered = json_object_new_object();
	for (int st = 0; st < FD_STAGE_COUNT; st++) {
		json_object_object_add(by_stage, fd_stage_name((fd_stage)st), j_u64(s.per_stage[st]));
		json_object_object_add(entered, fd_stage_name((fd_stage)st), j_u64(s.entered[st]));
	}
	json_object_object_add(o, "leads_by_stage", by_stage);
	json_object_object_add(o, "entered", entered);

	static const fd_stage path[] = { FD_STAGE_LEAD, FD_STAGE_MQL, FD_STAGE_SAL, FD_STAGE_SQL,
		                             FD_STAGE_OPPORTUNITY, FD_STAGE_CUSTOMER };
	json_object *conv = json_object_new_array();
	for (size_t i = 0; i + 1 < sizeof path / sizeof path[0]; i++) {
		fd_stage from = path[i], to = path[i + 1];
		uint64_t base = from == FD_STAGE_LEAD ? seen : s.entered[from];
		uint64_t converted = s.entered[to];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "from", json_object_new_string(fd_stage_name(from)));
		json_object_object_add(x, "to", json_object_new_string(fd_stage_name(to)));
		json_object_object_add(x, "converted", j_u64(converted));
		json_object_object_add(x, "base", j_u64(base));
		json_object_object_add(x, "rate", j_ratio(converted, base));
		json_object_array_add(conv, x);
	}
	json_object_object_add(o, "conversion", conv);

	json_object *slas = json_object_new_array();
	for (int i = 0; i < cfg->n_slas && i < FD_MAX_SLAS; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "name", json_object_new_string(cfg->slas[i].name));
		json_object_object_add(x, "met", j_u64(s.sla_met_by[i]));
		json_object_object_add(x, "breached", j_u64(s.sla_breached_by[i]));
		json_object_object_add(x, "warned", j_u64(s.sla_warned_by[i]));
		json_object_object_add(x, "compliance",
		                       j_ratio(s.sla_met_by[i], s.sla_met_by[i] + s.sla_breached_by[i]));
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

/* A label value, escaped as the exposition format wants (\\, \", \n). */
static void label_value(struct evbuffer *b, const char *v)
{
	for (const char *p = v; *p; p++) {
		switch (*p) {
		case '\\': evbuffer_add(b, "\\\\", 2); break;
		case '"': evbuffer_add(b, "\\\"", 2); break;
		case '\n': evbuffer_add(b, "\\n", 2); break;
		default: evbuffer_add(b, p, 1); break;
		}
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
	metric_family(b, "funneld_leads_by_stage", "gauge", "Leads in memory per lifecycle stage.");
	for (int st = 0; st < FD_STAGE_COUNT; st++)
		evbuffer_add_printf(b, "funneld_leads_by_stage{stage=\"%s\"} %" PRIu64 "\n",
		                    fd_stage_name((fd_stage)st), s.per_stage[st]);
	metric_family(b, "funneld_stage_entries_total", "counter",
	              "Transitions into each lifecycle stage.");
	for (int st = 0; st < FD_STAGE_COUNT; st++)
		evbuffer_add_printf(b, "funneld_stage_entries_total{stage=\"%s\"} %" PRIu64 "\n",
		                    fd_stage_name((fd_stage)st), s.entered[st]);
	metric(b, "funneld_transitions_total", "counter", "Lifecycle stage transitions.",
	       s.transitions);

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
	metric(b, "funneld_records_consumed_total", "counter", "Input records handled.", d.consumed);
	metric(b, "funneld_dead_letters_total", "counter", "Records sent to the dead-letter topic.",
	       d.dead_letters);
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
	metric(b, "funneld_ready", "gauge", "1 when /readyz answers 200.", source_ready(a) ? 1 : 0);
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
	                       json_object_new_string(status && *status ? status : "not ready"));
	send_json(req, HTTP_SERVUNAVAIL, o);
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
	default: return "?";
	}
}

static void on_request(struct evhttp_request *req, void *arg)
{
	fd_admin *a = arg;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	fd_log(FD_LOG_DEBUG, "admin HTTP: %s %s", method_name(method), evhttp_request_get_uri(req));
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
		send_body(req, HTTP_OK, "text/plain; charset=utf-8", "ok\n", 3);
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
                       const fd_admin_source *src, char *errstr, size_t errstr_size)
{
	if (!base || !src || !src->engine || !src->now) {
		snprintf(errstr, errstr_size, "admin HTTP: no event loop, engine or clock to serve");
		return NULL;
	}
	if (!address || !*address || port < 0 || port > 65535) {
		snprintf(errstr, errstr_size, "admin HTTP: invalid address \"%s\" or port %d",
		         address ? address : "", port);
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
		return NULL;
	}
	freeaddrinfo(ai);

	fd_admin *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(errstr, errstr_size, "admin HTTP: out of memory");
		return NULL;
	}
	a->src = *src;
	a->http = evhttp_new(base);
	if (!a->http) {
		snprintf(errstr, errstr_size, "admin HTTP: cannot create the server");
		goto fail;
	}
	evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY);
	evhttp_set_timeout(a->http, ADMIN_TIMEOUT_S);
	/* let the usual write methods through so they get a proper 405 with
	 * Allow; libevent answers the rest (TRACE, CONNECT) with 501 */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                                        EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(a->http, on_request, a);

	errno = 0;
	a->listener = evhttp_bind_socket_with_handle(a->http, address, (ev_uint16_t)port);
	if (!a->listener) {
		int err = errno;
		snprintf(errstr, errstr_size, "admin HTTP: cannot listen on %s: %s", where,
		         err ? strerror(err) : "bind failed");
		goto fail;
	}
	a->port = bound_port(a->listener);
	if (a->port < 0) {
		snprintf(errstr, errstr_size, "admin HTTP: cannot read the bound port of %s: %s",
		         where, strerror(errno));
		goto fail;
	}
	endpoint_name(address, a->port, where, sizeof where);
	fd_log(FD_LOG_INFO, "admin HTTP: listening on %s", where);
	return a;

fail:
	fd_admin_free(a);
	return NULL;
}

int fd_admin_port(const fd_admin *a)
{
	return a->port;
}

void fd_admin_free(fd_admin *a)
{
	if (!a)
		return;
	if (a->http)
		evhttp_free(a->http); /* closes the listener and open connections */
	free(a);
}
