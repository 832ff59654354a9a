/*
 * demo_kafka.c — the demo's producers and consumer, and the encoding of the
 * synthetic inputs (see demo_kafka.h).
 *
 * Protobuf messages are built on the stack with the generated _init()
 * functions (the _INIT macros cast away const, which -Wcast-qual rejects)
 * and point at the caller's strings; JSON goes through json-c. Delivery
 * reports are not requested: the demo measures what the daemon did, not
 * what its own upstream delivered.
 */
#include "demo/demo_kafka.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/log.h"
#include "funneld/v1/inputs.pb-c.h"
#include "funneld/wire.h"

#define SCHEMA_ID 1 /* the Confluent framing's schema id the demo writes */

/* ---- clients ------------------------------------------------------------- */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	fd_log(level <= 3 ? FD_LOG_ERR : level == 4 ? FD_LOG_WARNING : FD_LOG_DEBUG,
	       "demo %s: librdkafka %s: %s", rd_kafka_name(rk), fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)opaque;
	fd_log(FD_LOG_WARNING, "demo %s: kafka: %s: %s", rd_kafka_name(rk),
	       rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *const *props, size_t n,
                          char *errstr, size_t errstr_size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (rd_kafka_conf_set(conf, props[i], props[i + 1], errstr, errstr_size) !=
		    RD_KAFKA_CONF_OK) {
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, errstr_size);
	if (!rk)
		rd_kafka_conf_destroy(conf);
	return rk;
}

rd_kafka_mock_cluster_t *fd_demo_kafka_mock(int brokers, int partitions, const fd_topics *t,
                                            rd_kafka_t **handle, char *errstr,
                                            size_t errstr_size)
{
	*handle = NULL;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, log_cb);
	(void)rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
	if (!rk) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	/* the mock thread inherits this thread's signal mask */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!mc) {
		snprintf(errstr, errstr_size, "cannot create the mock cluster");
		rd_kafka_destroy(rk);
		return NULL;
	}
	const char *topics[] = { t->engagement, t->profiles, t->activities, t->transitions,
		                     t->sla, t->scores, t->dead_letters, t->changelog };
	for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++) {
		rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, topics[i], partitions, 1);
		if (err) {
			snprintf(errstr, errstr_size, "create topic %s: %s", topics[i],
			         rd_kafka_err2str(err));
			fd_demo_kafka_mock_free(mc, rk);
			return NULL;
		}
	}
	*handle = rk;
	return mc;
}

void fd_demo_kafka_mock_free(rd_kafka_mock_cluster_t *mc, rd_kafka_t *handle)
{
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (handle)
		rd_kafka_destroy(handle);
}

rd_kafka_t *fd_demo_kafka_producer(const char *bootstrap, const char *client_id, char *errstr,
                                   size_t errstr_size)
{
	const char *props[] = { "bootstrap.servers", bootstrap, "client.id", client_id,
		                    "linger.ms", "5", "acks", "all" };
	return client(RD_KAFKA_PRODUCER, props, sizeof props / sizeof props[0], errstr,
	              errstr_size);
}

rd_kafka_t *fd_demo_kafka_consumer(const char *bootstrap, const char *client_id,
                                   const char *group, char *errstr, size_t errstr_size)
{
	const char *props[] = { "bootstrap.servers", bootstrap, "client.id", client_id,
		                    "group.id", group, "enable.auto.commit", "false",
		                    "enable.auto.offset.store", "false",
		                    "auto.offset.reset", "earliest", "fetch.wait.max.ms", "20" };
	rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, props, sizeof props / sizeof props[0], errstr,
	                        errstr_size);
	if (rk)
		rd_kafka_poll_set_consumer(rk);
	return rk;
}

void fd_demo_kafka_producer_free(rd_kafka_t *rk, int timeout_ms)
{
	if (!rk)
		return;
	rd_kafka_flush(rk, timeout_ms);
	rd_kafka_destroy(rk);
}

/* ---- producing ----------------------------------------------------------- */

static int produce(rd_kafka_t *rk, const char *topic, const char *key, const void *buf,
                   size_t len)
{
	for (int attempt = 0; attempt < 50; attempt++) {
		rd_kafka_resp_err_t err = rd_kafka_producev(
			rk, RD_KAFKA_V_TOPIC(topic),
			/* RD_KAFKA_V_KEY itself casts the key to void *; it is only copied.
			 * NOLINTNEXTLINE(clang-diagnostic-cast-qual) */
			RD_KAFKA_V_KEY(key, strlen(key)),
			RD_KAFKA_V_VALUE((void *)(uintptr_t)buf, len),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
		if (!err)
			return 0;
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			fd_log(FD_LOG_WARNING, "demo: produce to %s: %s", topic, rd_kafka_err2str(err));
			return -1;
		}
		rd_kafka_poll(rk, 10);
	}
	fd_log(FD_LOG_WARNING, "demo: produce to %s: queue still full, record dropped", topic);
	return -1;
}

/* The protobuf-c structs hold char *; the demo's strings are const. */
static char *str_out(const char *s)
{
	return (char *)(uintptr_t)(s ? s : "");
}

/* Pack `msg` (plain or Confluent-framed) and produce it. */
static int send_protobuf(rd_kafka_t *rk, const char *topic, fd_encoding enc, const char *key,
                         const ProtobufCMessage *msg)
{
	size_t header = enc == FD_ENCODING_CONFLUENT_PROTOBUF ? 6 : 0;
	size_t size = protobuf_c_message_get_packed_size(msg);
	uint8_t stack[1024];
	uint8_t *buf = header + size <= sizeof stack ? stack : malloc(header + size);
	if (!buf)
		return -1;
	if (header) {
		/* magic 0, big-endian schema id, message indexes [0] */
		buf[0] = 0;
		buf[1] = (uint8_t)(SCHEMA_ID >> 24);
		buf[2] = (uint8_t)(SCHEMA_ID >> 16);
		buf[3] = (uint8_t)(SCHEMA_ID >> 8);
		buf[4] = (uint8_t)SCHEMA_ID;
		buf[5] = 0;
	}
	size_t len = header + protobuf_c_message_pack(msg, buf + header);
	int rc = produce(rk, topic, key, buf, len);
	if (buf != stack)
		free(buf);
	return rc;
}

static void json_str(json_object *o, const char *name, const char *value)
{
	if (value && *value)
		json_object_object_add(o, name, json_object_new_string(value));
}

static void json_int(json_object *o, const char *name, int64_t value)
{
	if (value)
		json_object_object_add(o, name, json_object_new_int64(value));
}

static int send_json(rd_kafka_t *rk, const char *topic, const char *key, json_object *o)
{
	if (!o)
		return -1;
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int rc = text ? produce(rk, topic, key, text, strlen(text)) : -1;
	json_object_put(o);
	return rc;
}

int fd_demo_kafka_send_engagement(rd_kafka_t *rk, const char *topic, fd_encoding enc,
                                  const fd_engagement *ev)
{
	if (enc == FD_ENCODING_JSON) {
		json_object *o = json_object_new_object();
		if (!o)
			return -1;
		json_str(o, "event_id", ev->event_id);
		json_str(o, "lead_id", ev->lead_id);
		json_str(o, "account_id", ev->account_id);
		json_int(o, "occurred_at_ms", ev->occurred_at_ms);
		json_str(o, "type", ev->type);
		json_str(o, "channel", ev->channel);
		json_str(o, "content_id", ev->content_id);
		json_str(o, "url", ev->url);
		json_str(o, "campaign", ev->campaign);
		return send_json(rk, topic, ev->lead_id, o);
	}
	Funneld__V1__EngagementEvent m;
	funneld__v1__engagement_event__init(&m);
	m.event_id = str_out(ev->event_id);
	m.lead_id = str_out(ev->lead_id);
	m.account_id = str_out(ev->account_id);
	m.occurred_at_ms = ev->occurred_at_ms;
	m.type = str_out(ev->type);
	m.channel = str_out(ev->channel);
	m.content_id = str_out(ev->content_id);
	m.url = str_out(ev->url);
	m.campaign = str_out(ev->campaign);
	return send_protobuf(rk, topic, enc, ev->lead_id, &m.base);
}

int fd_demo_kafka_send_profile(rd_kafka_t *rk, const char *topic, fd_encoding enc,
                               const fd_profile *p)
{
	if (enc == FD_ENCODING_JSON) {
		json_object *o = json_object_new_object();
		if (!o)
			return -1;
		json_str(o, "lead_id", p->lead_id);
		json_int(o, "updated_at_ms", p->updated_at_ms);
		json_str(o, "email", p->email);
		json_str(o, "job_title", p->job_title);
		json_str(o, "seniority", p->seniority);
		json_str(o, "department", p->department);
		json_str(o, "industry", p->industry);
		json_str(o, "country", p->country);
		json_int(o, "employee_count", p->employee_count);
		json_int(o, "annual_revenue", p->annual_revenue);
		if (p->n_technologies) {
			json_object *arr = json_object_new_array();
			for (size_t i = 0; arr && i < p->n_technologies; i++)
				json_object_array_add(arr, json_object_new_string(p->technologies[i]));
			if (arr)
				json_object_object_add(o, "technologies", arr);
		}
		json_str(o, "lead_source", p->lead_source);
		json_str(o, "owner_id", p->owner_id);
		return send_json(rk, topic, p->lead_id, o);
	}
	enum { MAX_TECH = 8 };
	char *tech[MAX_TECH];
	size_t n_tech = p->n_technologies < MAX_TECH ? p->n_technologies : MAX_TECH;
	for (size_t i = 0; i < n_tech; i++)
		tech[i] = str_out(p->technologies[i]);
	Funneld__V1__LeadProfile m;
	funneld__v1__lead_profile__init(&m);
	m.lead_id = str_out(p->lead_id);
	m.updated_at_ms = p->updated_at_ms;
	m.email = str_out(p->email);
	m.job_title = str_out(p->job_title);
	m.seniority = str_out(p->seniority);
	m.department = str_out(p->department);
	m.industry = str_out(p->industry);
	m.country = str_out(p->country);
	m.employee_count = p->employee_count;
	m.annual_revenue = p->annual_revenue;
	m.n_technologies = n_tech;
	m.technologies = n_tech ? tech : NULL;
	m.lead_source = str_out(p->lead_source);
	m.owner_id = str_out(p->owner_id);
	return send_protobuf(rk, topic, enc, p->lead_id, &m.base);
}

int fd_demo_kafka_send_activity(rd_kafka_t *rk, const char *topic, fd_encoding enc,
                                const fd_activity *a)
{
	if (enc == FD_ENCODING_JSON) {
		json_object *o = json_object_new_object();
		if (!o)
			return -1;
		json_str(o, "activity_id", a->activity_id);
		json_str(o, "lead_id", a->lead_id);
		json_int(o, "occurred_at_ms", a->occurred_at_ms);
		json_str(o, "rep_id", a->rep_id);
		json_str(o, "kind", fd_activity_kind_name(a->kind));
		if (a->reason != FD_REASON_NONE)
			json_str(o, "reason", fd_reason_name(a->reason));
		json_str(o, "note", a->note);
		json_int(o, "review_after_days", a->review_after_days);
		return send_json(rk, topic, a->lead_id, o);
	}
	Funneld__V1__SalesActivity m;
	funneld__v1__sales_activity__init(&m);
	m.activity_id = str_out(a->activity_id);
	m.lead_id = str_out(a->lead_id);
	m.occurred_at_ms = a->occurred_at_ms;
	m.rep_id = str_out(a->rep_id);
	m.kind = (Funneld__V1__ActivityKind)fd_wire_activity_kind_to_proto(a->kind);
	m.reason = (Funneld__V1__Reason)fd_wire_reason_to_proto(a->reason);
	m.note = str_out(a->note);
	m.review_after_days = a->review_after_days;
	return send_protobuf(rk, topic, enc, a->lead_id, &m.base);
}
