/*
 * test_admin.c — the admin HTTP server over real sockets: a bare engine
 * (engine_fixture.h) driven through a few leads, a fake source with fixed
 * daemon counters and a virtual clock, and a tiny HTTP/1.1 client running
 * on the same event_base as the server (bufferevents, bounded by a timeout
 * event). Status codes, content types and bodies are asserted exactly.
 *
 * The leads (all events at T0 unless said otherwise):
 *   "ann+test@acme.com"  A-grade profile (fit 65); content_download "ebook"
 *                        (email), webinar_attended "webinar-ai", pricing_view
 *                        "pricing" (web) → 45 points → MQL by score at T0
 *   "bob"                demo_request → MQL; ACCEPT at T0+1h → SAL;
 *                        QUALIFY at T0+2h → SQL
 *   "carl"               one page_view at T0-3d, stays LEAD
 *
 * The abusive-client tests (slowloris, thousands of idle connections, accept
 * failing with EMFILE, ill-formed UTF-8 in ids) open raw sockets beside
 * that client, restart the server under small limits where the defaults
 * would make them slow, and bound every wait with a timer on the loop.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "daemon/admin.h"
#include "base/log.h"
#include "engine_fixture.h"

#define ANN "ann+test@acme.com"

/* ---- the fake source --------------------------------------------------------- */

typedef struct fake_source {
	fd_engine *engine;
	fd_kafka_stats stats;
	bool ready;
	const char *status;
	int64_t now;
	const char *unhealthy;
	fd_hist turns;
	fd_hist event_age, record_time;
	fd_lag_entry lag[4];
	size_t n_lag;
} fake_source;

static fd_engine *src_engine(void *ctx) { return ((fake_source *)ctx)->engine; }
static void src_stats(void *ctx, fd_kafka_stats *out) { *out = ((fake_source *)ctx)->stats; }
static bool src_ready(void *ctx) { return ((fake_source *)ctx)->ready; }
static const char *src_status(void *ctx) { return ((fake_source *)ctx)->status; }
static int64_t src_now(void *ctx) { return ((fake_source *)ctx)->now; }
static const char *src_unhealthy(void *ctx) { return ((fake_source *)ctx)->unhealthy; }
static void src_turns(void *ctx, fd_hist *out) { *out = ((fake_source *)ctx)->turns; }
static void src_records(void *ctx, fd_hist *age, fd_hist *took)
{
	*age = ((fake_source *)ctx)->event_age;
	*took = ((fake_source *)ctx)->record_time;
}
static size_t src_lag(void *ctx, const fd_lag_entry **out)
{
	*out = ((fake_source *)ctx)->lag;
	return ((fake_source *)ctx)->n_lag;
}

/* ---- fixture ----------------------------------------------------------------- */

static fd_rules cfg;
static fd_engine *eng;
static fx_log *out;
static fd_sink sink;
static char err[256];
static struct event_base *base;
static fake_source fake;
static fd_admin_source source;
static fd_admin *admin;

#define POOL 64
static char *raw_pool[POOL];
static size_t n_raw;
static json_object *json_pool[POOL];
static size_t n_json;

static void setup(void)
{
	fd_log_init(FD_LOG_WARNING);
	fx_config(&cfg);
	eng = fd_engine_new(&cfg, 0);
	cr_assert_not_null(eng);
	out = calloc(1, sizeof *out);
	sink = fx_sink(out);
	base = event_base_new();
	cr_assert_not_null(base);
	fake = (fake_source){
		.engine = eng,
		.stats = { .consumed = 42, .dead_letters = 3, .produced = 17, .delivered = 16,
		           .commits = 5, .scores = 7, .state_records = 9, .restoring = 0,
		           .restored_leads = 11, .evicted = 4, .refused_full = 1, .cut = 2,
		           .dl_topics = { "funneld.engagement", "funneld.profiles", "funneld.activities",
		                          "funneld.transitions", "funneld.sla", "funneld.scores",
		                          "funneld.changelog", "other" } },
		.ready = true,
		.now = T0,
	};
	fake.stats.dead_letters_by[FD_IN_ENGAGEMENT][FD_DL_UNDECODABLE] = 1;
	fake.stats.dead_letters_by[FD_IN_ACTIVITIES][FD_DL_REFUSED] = 1;
	fake.stats.dead_letters_by[FD_DL_TOPIC_TRANSITIONS][FD_DL_TOO_LARGE] = 1;
	fake.stats.transitions_by[FD_STAGE_LEAD][FD_STAGE_MQL][FD_TRIGGER_SCORE_THRESHOLD] = 1;
	fake.stats.transitions_by[FD_STAGE_LEAD][FD_STAGE_MQL][FD_TRIGGER_HAND_RAISE] = 1;
	fake.stats.transitions_by[FD_STAGE_MQL][FD_STAGE_SAL][FD_TRIGGER_SALES_ACCEPT] = 1;
	fake.stats.transitions_by[FD_STAGE_SAL][FD_STAGE_SQL][FD_TRIGGER_SALES_QUALIFY] = 1;
	fd_hist_init(&fake.event_age, &fd_hist_event_age);
	fd_hist_init(&fake.record_time, &fd_hist_record_time);
	source = (fd_admin_source){ src_engine, src_stats,     src_ready, src_status,
		                        src_now,    src_unhealthy, src_turns, &fake,
		                        src_records, src_lag };
	admin = fd_admin_new(base, "127.0.0.1", 0, NULL, &source, err, sizeof err);
	cr_assert_not_null(admin, "%s", err);
	cr_assert_gt(fd_admin_port(admin), 0);
}

static void teardown(void)
{
	for (size_t i = 0; i < n_json; i++)
		json_object_put(json_pool[i]);
	for (size_t i = 0; i < n_raw; i++)
		free(raw_pool[i]);
	fd_admin_free(admin);
	event_base_free(base);
	fd_engine_free(eng);
	free(out);
}

TestSuite(admin, .init = setup, .fini = teardown);

/* ---- driving the engine --------------------------------------------------------- */

static void ev(const char *lead, const char *id, const char *type, int64_t at, const char *channel,
               const char *content)
{
	fd_engagement e = { .event_id = id, .lead_id = lead, .occurred_at_ms = at, .type = type,
	                    .channel = channel, .content_id = content };
	cr_assert_eq(fd_engine_engagement(eng, &e, at, &sink, err, sizeof err), FD_OK, "%s", err);
}

static void act(const char *lead, const char *id, fd_activity_kind kind, int64_t at)
{
	fd_activity a = { .activity_id = id, .lead_id = lead, .occurred_at_ms = at,
	                  .rep_id = "rep-7", .kind = kind };
	cr_assert_eq(fd_engine_activity(eng, &a, at, &sink, err, sizeof err), FD_OK, "%s", err);
}

static void leads(void)
{
	fd_profile p = { .lead_id = ANN, .updated_at_ms = T0 - HOUR, .email = "ann@acme.com",
	                 .job_title = "VP Engineering", .seniority = "VP", .industry = "Software",
	                 .country = "US", .employee_count = 1000, .annual_revenue = 50000000 };
	cr_assert_eq(fd_engine_profile(eng, &p, T0 - HOUR, &sink, err, sizeof err), FD_OK, "%s", err);
	ev(ANN, "a1", "content_download", T0, "email", "ebook");
	ev(ANN, "a2", "webinar_attended", T0, "web", "webinar-ai");
	ev(ANN, "a3", "pricing_view", T0, "web", "pricing");

	ev("bob", "b1", "demo_request", T0, "web", "demo");
	act("bob", "b2", FD_ACT_ACCEPT, T0 + HOUR);
	act("bob", "b3", FD_ACT_QUALIFY, T0 + 2 * HOUR);

	ev("carl", "c1", "page_view", T0 - 3 * DAY, "web", "home");
}

/* ---- a tiny HTTP client on the same loop ------------------------------------------ */

typedef struct client {
	struct evbuffer *in;
	bool done, timed_out;
} client;

typedef struct reply {
	int status;
	char content_type[128];
	char allow[64];
	char content_length[32];
	const char *body;   /* NUL-terminated, inside the pooled raw response */
	size_t body_len;
} reply;

static void client_read(struct bufferevent *bev, void *arg)
{
	client *c = arg;
	evbuffer_add_buffer(c->in, bufferevent_get_input(bev));
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	client *c = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		evbuffer_add_buffer(c->in, bufferevent_get_input(bev));
		c->done = true;
	}
}

static void client_timeout(evutil_socket_t fd, short what, void *arg)
{
	((client *)arg)->timed_out = true;
}

/* header value of `name` in the header block [h, end), or "" */
static void header(const char *h, const char *end, const char *name, char *outv, size_t size)
{
	size_t n = strlen(name);
	outv[0] = '\0';
	for (const char *line = h; line < end;) {
		const char *eol = strstr(line, "\r\n");
		if (!eol || eol > end)
			eol = end;
		if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;
			while (*v == ' ')
				v++;
			snprintf(outv, size, "%.*s", (int)(eol - v), v);
			return;
		}
		line = eol + 2;
	}
}

static struct sockaddr_in server_address(void)
{
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fd_admin_port(admin));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* Connect a client and send `raw` as is; the loop does the rest. */
static struct bufferevent *client_start(client *c, const char *raw)
{
	*c = (client){ .in = evbuffer_new() };
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	cr_assert_not_null(bev);
	bufferevent_setcb(bev, client_read, NULL, client_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	struct sockaddr_in sin = server_address();
	cr_assert_eq(bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof sin), 0);
	bufferevent_write(bev, raw, strlen(raw));
	return bev;
}

/* The response `c` read, parsed; frees c->in. */
static reply client_reply(client *c)
{
	size_t len = evbuffer_get_length(c->in);
	char *text = malloc(len + 1);
	evbuffer_remove(c->in, text, len);
	text[len] = '\0';
	evbuffer_free(c->in);
	c->in = NULL;
	cr_assert_lt(n_raw, POOL);
	raw_pool[n_raw++] = text;

	reply r;
	memset(&r, 0, sizeof r);
	cr_assert_eq(sscanf(text, "HTTP/1.%*d %d", &r.status), 1, "not an HTTP response: %s", text);
	char *sep = strstr(text, "\r\n\r\n");
	cr_assert_not_null(sep, "no end of headers: %s", text);
	header(text, sep, "Content-Type", r.content_type, sizeof r.content_type);
	header(text, sep, "Allow", r.allow, sizeof r.allow);
	header(text, sep, "Content-Length", r.content_length, sizeof r.content_length);
	r.body = sep + 4;
	r.body_len = len - (size_t)(r.body - text);
	return r;
}

/* Send `raw` as is on a new connection, read until the server closes it. */
static reply request(const char *raw)
{
	client c;
	struct bufferevent *bev = client_start(&c, raw);
	struct event *timer = evtimer_new(base, client_timeout, &c);
	struct timeval five = { 5, 0 };
	evtimer_add(timer, &five);
	while (!c.done && !c.timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(timer);
	bufferevent_free(bev);
	cr_assert(!c.timed_out, "no complete response within 5 s");
	return client_reply(&c);
}

static reply call(const char *method, const char *target)
{
	char raw[4096];
	snprintf(raw, sizeof raw,
	         "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", method, target);
	return request(raw);
}

static reply get(const char *target)
{
	return call("GET", target);
}

static json_object *json_of(reply r)
{
	cr_assert_str_eq(r.content_type, "application/json");
	json_object *o = json_tokener_parse(r.body);
	cr_assert_not_null(o, "not JSON: %s", r.body);
	cr_assert_lt(n_json, POOL);
	json_pool[n_json++] = o;
	return o;
}

/* o["a"]["b"][2]...: keys, or "#N" for an array index */
static json_object *at(json_object *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	char *save = NULL;
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		if (k[0] == '#') {
			cr_assert(json_object_is_type(o, json_type_array), "%s: not an array", path);
			size_t i = (size_t)atoi(k + 1);
			cr_assert_lt(i, json_object_array_length(o), "%s: index out of range", path);
			o = json_object_array_get_idx(o, i);
		} else {
			json_object *v;
			cr_assert(json_object_object_get_ex(o, k, &v), "%s: no key %s", path, k);
			o = v;
		}
	}
	return o;
}

static const char *str_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	cr_assert(json_object_is_type(v, json_type_string), "%s: not a string", path);
	return json_object_get_string(v);
}

static int64_t int_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	cr_assert(json_object_is_type(v, json_type_int), "%s: not an integer", path);
	return json_object_get_int64(v);
}

static double num_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	cr_assert(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double),
	          "%s: not a number", path);
	return json_object_get_double(v);
}

static bool null_at(json_object *o, const char *path)
{
	return at(o, path) == NULL;
}

static size_t len_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	cr_assert(json_object_is_type(v, json_type_array), "%s: not an array", path);
	return json_object_array_length(v);
}

/* How many lines of the body start with `prefix`? */
static size_t count_lines(const char *body, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	for (const char *p = body; p && *p;) {
		if (strncmp(p, prefix, len) == 0)
			n++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/* Does the body hold exactly this line? */
static bool has_line(const char *body, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = body; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len == n && memcmp(p, line, n) == 0)
			return true;
		p = eol ? eol + 1 : NULL;
	}
	return false;
}

/* ---- health and readiness ----------------------------------------------------------- */

Test(admin, healthz_says_ok_in_plain_text)
{
	reply r = get("/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
	cr_assert_str_eq(r.body, "ok\n");
}

Test(admin, healthz_is_503_with_the_reason_when_the_source_says_unhealthy)
{
	fake.unhealthy = "the transaction has been committing for 61 s (longer than its timeout)";
	reply r = get("/healthz");
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
	cr_assert_str_eq(r.body, "unhealthy: the transaction has been committing for 61 s (longer "
	                         "than its timeout)\n");
	fake.unhealthy = NULL;
	r = get("/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
}

Test(admin, head_gets_the_headers_without_a_body)
{
	reply r = call("HEAD", "/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
	cr_assert_str_eq(r.content_length, "3");
	cr_assert_eq(r.body_len, 0);
	r = call("HEAD", "/v1/leads/nobody");
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(r.content_type, "application/json");
	cr_assert_eq(r.body_len, 0);
}

Test(admin, head_keeps_a_persistent_connection_in_step)
{
	/* a HEAD body on the wire would be read as the next response */
	reply r = request("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	                  "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	cr_assert_eq(r.status, 200);
	cr_assert_eq(strncmp(r.body, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", r.body);
	const char *second = strstr(r.body, "\r\n\r\n");
	cr_assert_not_null(second);
	cr_assert_str_eq(second + 4, "{\"ready\":true}\n");
}

Test(admin, readyz_is_200_when_ready)
{
	reply r = get("/readyz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "{\"ready\":true}\n");
}

Test(admin, readyz_is_503_with_the_status_text_when_not_ready)
{
	fake.ready = false;
	fake.status = "restoring partitions 0, 3";
	reply r = get("/readyz");
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(r.content_type, "application/json");
	cr_assert_str_eq(r.body, "{\"ready\":false,\"status\":\"restoring partitions 0, 3\"}\n");
	fake.status = NULL;
	r = get("/readyz");
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(r.body, "{\"ready\":false,\"status\":\"not ready\"}\n");
}

/* ---- metrics ---------------------------------------------------------------------- */

Test(admin, metrics_expose_daemon_and_engine_counters)
{
	leads();
	cr_assert_eq(fd_engine_advance(eng, T0 + 48 * HOUR, &sink), 2); /* ann: warning, breach */
	reply r = get("/metrics");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	const char *b = r.body;
	static const char *const lines[] = {
		"# HELP funneld_records_consumed_total Input records handled.",
		"# TYPE funneld_records_consumed_total counter",
		"funneld_records_consumed_total 42",
		"# HELP funneld_dead_letters_total Records sent to the dead-letter topic, by the topic "
		"they came from and reason class.",
		"# TYPE funneld_dead_letters_total counter",
		"funneld_dead_letters_total{topic=\"funneld.engagement\",reason=\"undecodable\"} 1",
		"funneld_dead_letters_total{topic=\"funneld.engagement\",reason=\"invalid\"} 0",
		"funneld_dead_letters_total{topic=\"funneld.engagement\",reason=\"lead_cap\"} 0",
		"funneld_dead_letters_total{topic=\"funneld.profiles\",reason=\"other\"} 0",
		"funneld_dead_letters_total{topic=\"funneld.activities\",reason=\"refused_transition\"} 1",
		"funneld_dead_letters_total{topic=\"funneld.activities\",reason=\"misrouted\"} 0",
		"funneld_dead_letters_total{topic=\"funneld.transitions\",reason=\"too_large\"} 1",
		"# TYPE funneld_transitions_total counter",
		"funneld_transitions_total{from=\"LEAD\",to=\"MQL\",trigger=\"score_threshold\"} 1",
		"funneld_transitions_total{from=\"LEAD\",to=\"MQL\",trigger=\"hand_raise\"} 1",
		"funneld_transitions_total{from=\"MQL\",to=\"SAL\",trigger=\"sales_accept\"} 1",
		"funneld_transitions_total{from=\"SAL\",to=\"SQL\",trigger=\"sales_qualify\"} 1",
		"funneld_outputs_produced_total 17",
		"funneld_outputs_delivered_total 16",
		"funneld_commits_total 5",
		"funneld_scores_emitted_total 7",
		"funneld_state_records_total 9",
		"# TYPE funneld_partitions_restoring gauge",
		"funneld_partitions_restoring 0",
		"funneld_leads_restored_total 11",
		"funneld_leads_evicted_total 4",
		"funneld_leads_refused_total 1",
		"# TYPE funneld_records_cut_total counter",
		"funneld_records_cut_total 2",
		"funneld_ready 1",
		"# TYPE funneld_leads gauge",
		"funneld_leads 3",
		"# TYPE funneld_leads_by_stage gauge",
		"# TYPE funneld_leads_migrating gauge",
		"funneld_leads_migrating 0",
		"funneld_leads_by_stage{stage=\"LEAD\"} 1",
		"funneld_leads_by_stage{stage=\"MQL\"} 1",
		"funneld_leads_by_stage{stage=\"SAL\"} 0",
		"funneld_leads_by_stage{stage=\"SQL\"} 1",
		"funneld_leads_by_stage{stage=\"DISQUALIFIED\"} 0",
		"# TYPE funneld_stage_entries_total counter",
		"funneld_stage_entries_total{stage=\"MQL\"} 2",
		"funneld_stage_entries_total{stage=\"SAL\"} 1",
		"funneld_stage_entries_total{stage=\"SQL\"} 1",
		"funneld_stage_entries_total{stage=\"CUSTOMER\"} 0",
		"# TYPE funneld_sla_events_total counter",
		"funneld_sla_events_total{sla=\"mql_first_touch\",kind=\"WARNING\"} 1",
		"funneld_sla_events_total{sla=\"mql_first_touch\",kind=\"BREACH\"} 1",
		"funneld_sla_events_total{sla=\"mql_first_touch\",kind=\"MET\"} 1",
		"funneld_sla_events_total{sla=\"mql_follow_up\",kind=\"MET\"} 0",
		"funneld_sla_events_total{sla=\"sal_decision\",kind=\"MET\"} 1",
		"funneld_sla_events_total{sla=\"mql_decision\",kind=\"MET\"} 1",
		"funneld_sla_events_total{sla=\"mql_decision\",kind=\"BREACH\"} 0",
		"funneld_events_applied_total 5",
		"funneld_events_duplicate_total 0",
		"funneld_events_invalid_total 0",
		"funneld_profiles_applied_total 1",
		"funneld_activities_applied_total 2",
		"funneld_activities_refused_total 0",
		"# TYPE funneld_pending_timers gauge",
		"funneld_pending_timers 1", /* ann's mql_decision warning at 72 d */
		"# TYPE funneld_memory_bytes gauge",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		cr_assert(has_line(b, lines[i]), "missing line: %s\n%s", lines[i], b);
	cr_assert_not_null(strstr(b, "\nfunneld_memory_bytes{part=\"core\"} "));
	cr_assert_not_null(strstr(b, "\nfunneld_memory_bytes{part=\"context\"} "));
	/* every sample belongs to a family announced by HELP and TYPE */
	cr_assert_not_null(strstr(b, "# HELP funneld_sla_events_total "));
	cr_assert_eq(b[r.body_len - 1], '\n');
	/* 3 input topics x 7 classes, and the one output topic cut; the
	 * transition pairs seen, no others */
	cr_assert_eq(count_lines(b, "funneld_dead_letters_total{"), 3 * 7 + 1, "%s", b);
	cr_assert_eq(count_lines(b, "funneld_transitions_total{"), 4, "%s", b);
	cr_assert_null(strstr(b, "\nfunneld_transitions_total "), "no unlabelled total");
	cr_assert_null(strstr(b, "\nfunneld_dead_letters_total "), "no unlabelled total");
}

/* The per-record histograms: event time to outputs in seconds from
 * milliseconds (5 ms .. a week), processing time from microseconds. */
Test(admin, metrics_expose_the_event_to_output_and_processing_histograms)
{
	fd_hist_add(&fake.event_age, 3);                      /* 5 ms bucket */
	fd_hist_add(&fake.event_age, 1200);                   /* 2.5 s */
	fd_hist_add(&fake.event_age, 2 * 3600 * 1000);        /* 4 h (a catch-up) */
	fd_hist_add(&fake.event_age, 30LL * 24 * 3600 * 1000); /* a month: above every bound */
	fd_hist_add(&fake.record_time, 1);
	fd_hist_add(&fake.record_time, 7);
	fd_hist_add(&fake.record_time, 150000);
	reply r = get("/metrics");
	cr_assert_eq(r.status, 200);
	static const char *const lines[] = {
		"# HELP funneld_event_to_output_seconds From an input record's event time (its Kafka "
		"timestamp when it has none) to its outputs handed to the producer, for inputs that "
		"caused outputs.",
		"# TYPE funneld_event_to_output_seconds histogram",
		"funneld_event_to_output_seconds_bucket{le=\"0.005\"} 1",
		"funneld_event_to_output_seconds_bucket{le=\"0.01\"} 1",
		"funneld_event_to_output_seconds_bucket{le=\"1\"} 1",
		"funneld_event_to_output_seconds_bucket{le=\"2.5\"} 2",
		"funneld_event_to_output_seconds_bucket{le=\"3600\"} 2",
		"funneld_event_to_output_seconds_bucket{le=\"14400\"} 3",
		"funneld_event_to_output_seconds_bucket{le=\"86400\"} 3",
		"funneld_event_to_output_seconds_bucket{le=\"604800\"} 3",
		"funneld_event_to_output_seconds_bucket{le=\"+Inf\"} 4",
		"funneld_event_to_output_seconds_sum 2599201.203000",
		"funneld_event_to_output_seconds_count 4",
		"# HELP funneld_record_processing_seconds Decode, apply and encode of one input record "
		"(monotonic clock).",
		"# TYPE funneld_record_processing_seconds histogram",
		"funneld_record_processing_seconds_bucket{le=\"1e-06\"} 1",
		"funneld_record_processing_seconds_bucket{le=\"5e-06\"} 1",
		"funneld_record_processing_seconds_bucket{le=\"1e-05\"} 2",
		"funneld_record_processing_seconds_bucket{le=\"0.1\"} 2",
		"funneld_record_processing_seconds_bucket{le=\"+Inf\"} 3",
		"funneld_record_processing_seconds_sum 0.150008",
		"funneld_record_processing_seconds_count 3",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		cr_assert(has_line(r.body, lines[i]), "missing line: %s\n%s", lines[i], r.body);
	cr_assert_eq(count_lines(r.body, "funneld_event_to_output_seconds_bucket{"), 20);
	cr_assert_eq(count_lines(r.body, "funneld_record_processing_seconds_bucket{"), 15);
}

/* Lag per assigned partition, as librdkafka reported it; an unknown lag
 * (-1) has no sample. */
Test(admin, metrics_expose_the_consumer_lag_of_assigned_partitions)
{
	fake.lag[0] = (fd_lag_entry){ "funneld.activities", 0, 0 };
	fake.lag[1] = (fd_lag_entry){ "funneld.engagement", 0, 1500 };
	fake.lag[2] = (fd_lag_entry){ "funneld.engagement", 2, -1 };
	fake.lag[3] = (fd_lag_entry){ "funneld.profiles", 0, 7 };
	fake.n_lag = 4;
	reply r = get("/metrics");
	cr_assert_eq(r.status, 200);
	static const char *const lines[] = {
		"# TYPE funneld_consumer_lag gauge",
		"funneld_consumer_lag{topic=\"funneld.activities\",partition=\"0\"} 0",
		"funneld_consumer_lag{topic=\"funneld.engagement\",partition=\"0\"} 1500",
		"funneld_consumer_lag{topic=\"funneld.profiles\",partition=\"0\"} 7",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		cr_assert(has_line(r.body, lines[i]), "missing line: %s\n%s", lines[i], r.body);
	cr_assert_eq(count_lines(r.body, "funneld_consumer_lag{"), 3, "%s", r.body);
	fake.n_lag = 0; /* all revoked */
	r = get("/metrics");
	cr_assert_eq(count_lines(r.body, "funneld_consumer_lag{"), 0, "%s", r.body);
}

/* Build info and the standard process metrics, of this very process. */
Test(admin, metrics_expose_build_info_and_process_metrics)
{
	reply r = get("/metrics");
	cr_assert_eq(r.status, 200);
	char want[256];
	snprintf(want, sizeof want,
	         "funneld_build_info{version=\"%s\",librdkafka=\"%s\",libevent=\"%s\"} 1",
	         FUNNELD_TEST_VERSION, rd_kafka_version_str(), event_get_version());
	cr_assert(has_line(r.body, want), "missing line: %s\n%s", want, r.body);
	struct rlimit lim;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &lim), 0);
	snprintf(want, sizeof want, "process_max_fds %llu", (unsigned long long)lim.rlim_cur);
	cr_assert(has_line(r.body, want), "missing line: %s\n%s", want, r.body);
	static const char *const families[] = {
		"# TYPE process_cpu_seconds_total counter",
		"# TYPE process_resident_memory_bytes gauge",
		"# TYPE process_open_fds gauge",
		"# TYPE process_max_fds gauge",
		"# TYPE process_start_time_seconds gauge",
	};
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		cr_assert(has_line(r.body, families[i]), "missing line: %s", families[i]);
	/* the start time is this process's, within a minute of now */
	const char *st = strstr(r.body, "\nprocess_start_time_seconds ");
	cr_assert_not_null(st);
	double start = strtod(st + strlen("\nprocess_start_time_seconds "), NULL);
	cr_assert_lt(fabs(start - (double)time(NULL)), 60.0, "start %f", start);
	const char *rss = strstr(r.body, "\nprocess_resident_memory_bytes ");
	cr_assert_not_null(rss);
	cr_assert_gt(strtod(rss + strlen("\nprocess_resident_memory_bytes "), NULL), 1e5);
}

Test(admin, metrics_follow_readiness_and_omit_the_engine_when_there_is_none)
{
	fake.ready = false;
	fake.engine = NULL;
	fake.stats.restoring = 2;
	reply r = get("/metrics");
	cr_assert_eq(r.status, 200);
	cr_assert(has_line(r.body, "funneld_ready 0"));
	cr_assert(has_line(r.body, "funneld_partitions_restoring 2"));
	cr_assert_null(strstr(r.body, "funneld_leads "));
	cr_assert_null(strstr(r.body, "funneld_leads_by_stage"));
	r = get("/v1/funnel");
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(r.body, "{\"error\":\"engine not running\"}\n");
	r = get("/v1/leads/bob");
	cr_assert_eq(r.status, 503);
}

/* The loop's turn histogram, in the exposition format's histogram shape:
 * cumulative buckets by upper bound in seconds, +Inf equal to the count. */
Test(admin, metrics_expose_the_loop_turn_histogram)
{
	fd_hist_add(&fake.turns, 40);      /* 50 µs bucket */
	fd_hist_add(&fake.turns, 1500);    /* 2 ms */
	fd_hist_add(&fake.turns, 1800);    /* 2 ms */
	fd_hist_add(&fake.turns, 7000000); /* above every bound */
	reply r = get("/metrics");
	cr_assert_eq(r.status, 200);
	static const char *const lines[] = {
		"# HELP funneld_loop_turn_seconds How long each of the daemon's callbacks held the "
		"event loop.",
		"# TYPE funneld_loop_turn_seconds histogram",
		"funneld_loop_turn_seconds_bucket{le=\"5e-05\"} 1",
		"funneld_loop_turn_seconds_bucket{le=\"0.0001\"} 1",
		"funneld_loop_turn_seconds_bucket{le=\"0.001\"} 1",
		"funneld_loop_turn_seconds_bucket{le=\"0.002\"} 3",
		"funneld_loop_turn_seconds_bucket{le=\"5\"} 3",
		"funneld_loop_turn_seconds_bucket{le=\"+Inf\"} 4",
		"funneld_loop_turn_seconds_sum 7.003340",
		"funneld_loop_turn_seconds_count 4",
		"# TYPE funneld_loop_turn_longest_seconds gauge",
		"funneld_loop_turn_longest_seconds 7.000000",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		cr_assert(has_line(r.body, lines[i]), "missing line: %s\n%s", lines[i], r.body);
}

/* ---- one lead --------------------------------------------------------------------- */

Test(admin, lead_shows_stage_scores_open_slas_and_context)
{
	leads();
	reply r = get("/v1/leads/ann%2Btest%40acme.com");
	cr_assert_eq(r.status, 200);
	json_object *o = json_of(r);
	cr_assert_str_eq(str_at(o, "lead_id"), ANN);
	cr_assert_str_eq(str_at(o, "stage"), "MQL");
	cr_assert_eq(int_at(o, "stage_entered_ms"), T0);
	cr_assert(null_at(o, "owner_id"));
	cr_assert_str_eq(str_at(o, "lead_source"), "email"); /* no profile source: first channel */
	cr_assert(null_at(o, "disqualified_by"));
	cr_assert(null_at(o, "review_at_ms"));

	cr_assert_eq(num_at(o, "scores.engagement"), 45.0);
	cr_assert_eq(num_at(o, "scores.fit"), 65.0);
	cr_assert_str_eq(str_at(o, "scores.grade"), "A");
	cr_assert_eq(num_at(o, "scores.recency_days"), 0.0);
	cr_assert_eq(num_at(o, "scores.high_intent_recency_days"), 0.0);
	cr_assert_eq(len_at(o, "scores.frequency"), 2);
	cr_assert_eq(int_at(o, "scores.frequency.#0.window_ms"), 7 * DAY);
	cr_assert_eq(int_at(o, "scores.frequency.#0.count"), 3);
	cr_assert_eq(int_at(o, "scores.frequency.#1.window_ms"), 30 * DAY);
	cr_assert_eq(int_at(o, "scores.frequency.#1.count"), 3);

	cr_assert_eq(len_at(o, "open_slas"), 2);
	cr_assert_str_eq(str_at(o, "open_slas.#0.name"), "mql_first_touch");
	cr_assert_eq(int_at(o, "open_slas.#0.started_at_ms"), T0);
	cr_assert_eq(int_at(o, "open_slas.#0.due_at_ms"), T0 + 48 * HOUR);
	cr_assert_eq(json_object_get_boolean(at(o, "open_slas.#0.warned")), 0);
	cr_assert_str_eq(str_at(o, "open_slas.#1.name"), "mql_decision");
	cr_assert_eq(int_at(o, "open_slas.#1.due_at_ms"), T0 + 90 * DAY);

	/* newest first; equal times list the latest arrival first */
	cr_assert_eq(len_at(o, "recent_activities"), 3);
	cr_assert_str_eq(str_at(o, "recent_activities.#0.type"), "pricing_view");
	cr_assert_str_eq(str_at(o, "recent_activities.#0.content_id"), "pricing");
	cr_assert_str_eq(str_at(o, "recent_activities.#0.channel"), "web");
	cr_assert_eq(int_at(o, "recent_activities.#0.occurred_at_ms"), T0);
	cr_assert_str_eq(str_at(o, "recent_activities.#1.type"), "webinar_attended");
	cr_assert_str_eq(str_at(o, "recent_activities.#2.type"), "content_download");
	cr_assert_str_eq(str_at(o, "recent_activities.#2.channel"), "email");

	cr_assert_eq(len_at(o, "top_interests"), 3);
	cr_assert_str_eq(str_at(o, "top_interests.#0.content_id"), "webinar-ai");
	cr_assert_eq(num_at(o, "top_interests.#0.score"), 20.0);
	cr_assert_str_eq(str_at(o, "top_interests.#1.content_id"), "pricing");
	cr_assert_str_eq(str_at(o, "top_interests.#2.content_id"), "ebook");
	cr_assert_eq(num_at(o, "top_interests.#2.score"), 10.0);

	/* config order */
	cr_assert_eq(len_at(o, "score_breakdown"), 3);
	cr_assert_str_eq(str_at(o, "score_breakdown.#0.type"), "content_download");
	cr_assert_eq(num_at(o, "score_breakdown.#0.points"), 10.0);
	cr_assert_str_eq(str_at(o, "score_breakdown.#1.type"), "pricing_view");
	cr_assert_str_eq(str_at(o, "score_breakdown.#2.type"), "webinar_attended");
	cr_assert_eq(num_at(o, "score_breakdown.#2.points"), 20.0);
}

Test(admin, lead_view_is_as_of_the_source_clock)
{
	leads();
	fake.now = T0 + 10 * DAY; /* one half-life later */
	json_object *o = json_of(get("/v1/leads/ann+test%40acme.com"));
	cr_assert_eq(num_at(o, "scores.engagement"), 22.5);
	cr_assert_eq(num_at(o, "scores.recency_days"), 10.0);
	cr_assert_eq(int_at(o, "scores.as_of_ms"), T0 + 10 * DAY);
	cr_assert_eq(num_at(o, "top_interests.#0.score"), 10.0);
}

Test(admin, lead_with_owner_never_seen_times_are_null)
{
	leads();
	json_object *o = json_of(get("/v1/leads/bob"));
	cr_assert_str_eq(str_at(o, "stage"), "SQL");
	cr_assert_eq(int_at(o, "stage_entered_ms"), T0 + 2 * HOUR);
	cr_assert_str_eq(str_at(o, "owner_id"), "rep-7");
	cr_assert_str_eq(str_at(o, "scores.grade"), "D");
	cr_assert_eq(len_at(o, "open_slas"), 0);
	o = json_of(get("/v1/leads/carl"));
	cr_assert_str_eq(str_at(o, "stage"), "LEAD");
	cr_assert(null_at(o, "scores.high_intent_recency_days"));
	cr_assert_eq(num_at(o, "scores.recency_days"), 3.0);
}

Test(admin, unknown_lead_is_404_json)
{
	leads();
	reply r = get("/v1/leads/nobody%40example.com");
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(r.body, "{\"error\":\"unknown lead\",\"lead_id\":\"nobody@example.com\"}\n");
	r = get("/v1/leads/");
	cr_assert_eq(r.status, 404);
	json_of(r);
	r = get("/v1/leads/a%00b");
	cr_assert_eq(r.status, 400);
	json_of(r);
	char target[600] = "/v1/leads/";
	memset(target + strlen(target), 'x', 300);
	r = get(target);
	cr_assert_eq(r.status, 404);
}

/* ---- funnel ---------------------------------------------------------------------- */

Test(admin, funnel_counts_stages_conversions_and_sla_compliance)
{
	leads();
	cr_assert_eq(fd_engine_advance(eng, T0 + 48 * HOUR, &sink), 2); /* ann: warning, breach */
	/* carl (last input T0-3d) is idle under a 3 d TTL in the partition's
	 * stream time (T0+2h, bob's last activity); bob (T0+2h) is not */
	fd_engine_set_lead_ttl(eng, 3 * DAY);
	cr_assert_eq(fd_engine_evict(eng, 100, NULL, NULL), 1);
	fake.now = T0 + 48 * HOUR;
	reply r = get("/v1/funnel");
	cr_assert_eq(r.status, 200);
	json_object *o = json_of(r);
	cr_assert_eq(int_at(o, "as_of_ms"), T0 + 48 * HOUR);
	cr_assert_eq(int_at(o, "leads"), 2);
	cr_assert_eq(len_at(o, "partitions"), 1);
	cr_assert_eq(int_at(o, "partitions.#0"), 0);
	cr_assert(null_at(o, "window.since_ms"));
	cr_assert(null_at(o, "window.until_ms"));
	cr_assert(json_object_get_boolean(at(o, "window.exact")));
	cr_assert_eq(int_at(o, "transitions"), 4); /* ann MQL; bob MQL, SAL, SQL */
	cr_assert_eq(int_at(o, "leads_by_stage.LEAD"), 0);
	cr_assert_eq(int_at(o, "leads_by_stage.MQL"), 1);
	cr_assert_eq(int_at(o, "leads_by_stage.SQL"), 1);
	cr_assert_eq(int_at(o, "leads_by_stage.NURTURE"), 0);
	cr_assert_eq(int_at(o, "entered.LEAD"), 3); /* leads created */
	cr_assert_eq(int_at(o, "entered.MQL"), 2);
	cr_assert_eq(int_at(o, "entered.SAL"), 1);
	cr_assert_eq(int_at(o, "entered.SQL"), 1);
	cr_assert_eq(int_at(o, "entered.OPPORTUNITY"), 0);

	cr_assert_eq(len_at(o, "conversion"), 5);
	cr_assert_str_eq(str_at(o, "conversion.#0.from"), "LEAD");
	cr_assert_str_eq(str_at(o, "conversion.#0.to"), "MQL");
	cr_assert_eq(int_at(o, "conversion.#0.converted"), 2);
	cr_assert_eq(int_at(o, "conversion.#0.base"), 3);
	cr_assert_float_eq(num_at(o, "conversion.#0.rate"), 2.0 / 3.0, 1e-12);
	cr_assert_str_eq(str_at(o, "conversion.#1.from"), "MQL");
	cr_assert_str_eq(str_at(o, "conversion.#1.to"), "SAL");
	cr_assert_eq(num_at(o, "conversion.#1.rate"), 0.5);
	cr_assert_eq(num_at(o, "conversion.#2.rate"), 1.0);
	cr_assert_str_eq(str_at(o, "conversion.#3.to"), "OPPORTUNITY");
	cr_assert_eq(num_at(o, "conversion.#3.rate"), 0.0);
	cr_assert_str_eq(str_at(o, "conversion.#4.from"), "OPPORTUNITY");
	cr_assert_str_eq(str_at(o, "conversion.#4.to"), "CUSTOMER");
	cr_assert_eq(int_at(o, "conversion.#4.base"), 0);
	cr_assert(null_at(o, "conversion.#4.rate"));

	cr_assert_eq(len_at(o, "slas"), 4);
	cr_assert_str_eq(str_at(o, "slas.#0.name"), "mql_first_touch");
	cr_assert_eq(int_at(o, "slas.#0.met"), 1);
	cr_assert_eq(int_at(o, "slas.#0.breached"), 1);
	cr_assert_eq(int_at(o, "slas.#0.warned"), 1);
	cr_assert_eq(num_at(o, "slas.#0.compliance"), 0.5);
	cr_assert_str_eq(str_at(o, "slas.#1.name"), "mql_follow_up");
	cr_assert(null_at(o, "slas.#1.compliance"));
	cr_assert_str_eq(str_at(o, "slas.#2.name"), "sal_decision");
	cr_assert_eq(num_at(o, "slas.#2.compliance"), 1.0);
	cr_assert_str_eq(str_at(o, "slas.#3.name"), "mql_decision");
	cr_assert_eq(int_at(o, "slas.#3.met"), 1);
	cr_assert_eq(num_at(o, "slas.#3.compliance"), 1.0);
}

/* The counters are kept per UTC day of the time each thing happened: carl
 * created 2025-12-29, ann 2025-12-31 (her profile); on 2026-01-01 bob is
 * created, ann and bob enter MQL, bob SAL and SQL and meets three SLAs;
 * ann's first-touch SLA warns at 36 h (2026-01-02) and breaches at 48 h
 * (2026-01-03). */
Test(admin, funnel_answers_a_window_of_utc_days)
{
	leads();
	cr_assert_eq(fd_engine_advance(eng, T0 + 48 * HOUR, &sink), 2);

	reply r = get("/v1/funnel?since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z");
	cr_assert_eq(r.status, 200);
	json_object *o = json_of(r);
	cr_assert_eq(int_at(o, "window.since_ms"), T0);
	cr_assert_eq(int_at(o, "window.until_ms"), T0 + DAY);
	cr_assert(json_object_get_boolean(at(o, "window.exact")));
	cr_assert_eq(int_at(o, "entered.LEAD"), 1);
	cr_assert_eq(int_at(o, "entered.MQL"), 2);
	cr_assert_eq(int_at(o, "entered.SAL"), 1);
	cr_assert_eq(int_at(o, "entered.SQL"), 1);
	cr_assert_eq(int_at(o, "transitions"), 4);
	cr_assert_eq(int_at(o, "conversion.#0.base"), 1);
	cr_assert_eq(int_at(o, "conversion.#0.converted"), 2);
	cr_assert_eq(int_at(o, "slas.#0.met"), 1);
	cr_assert_eq(int_at(o, "slas.#0.breached"), 0);
	cr_assert_eq(int_at(o, "slas.#0.warned"), 0);
	cr_assert_eq(int_at(o, "leads"), 3); /* in memory now, whatever the window */

	/* milliseconds work too; a bound inside a day takes the whole day */
	char target[128];
	snprintf(target, sizeof target, "/v1/funnel?since=%" PRId64, T0 + DAY + HOUR);
	o = json_of(get(target));
	cr_assert_eq(int_at(o, "window.since_ms"), T0 + DAY);
	cr_assert(null_at(o, "window.until_ms"));
	cr_assert_eq(int_at(o, "entered.LEAD"), 0);
	cr_assert_eq(int_at(o, "entered.MQL"), 0);
	cr_assert_eq(int_at(o, "transitions"), 0);
	cr_assert_eq(int_at(o, "slas.#0.warned"), 1);
	cr_assert_eq(int_at(o, "slas.#0.breached"), 1);
	cr_assert_eq(num_at(o, "slas.#0.compliance"), 0.0);

	o = json_of(get("/v1/funnel?until=2025-12-31T12:00:00%2B00:00"));
	cr_assert_eq(int_at(o, "window.until_ms"), T0);
	cr_assert_eq(int_at(o, "entered.LEAD"), 2); /* carl, ann */
	cr_assert_eq(int_at(o, "entered.MQL"), 0);
	cr_assert(null_at(o, "conversion.#1.rate"));
}

Test(admin, funnel_refuses_bad_parameters_with_json_400)
{
	static const char *const bad[][2] = {
		{ "/v1/funnel?since=yesterday", "since: \"yesterday\" is neither an RFC 3339 "
		                                "date-time" },
		{ "/v1/funnel?until=2026-13-01T00:00:00Z", "until: \"2026-13-01T00:00:00Z\" is "
		                                           "neither" },
		{ "/v1/funnel?since=-5", "since: \"-5\" is neither" },
		{ "/v1/funnel?partition=3", "unknown parameter \"partition\": /v1/funnel takes since "
		                            "and until" },
		{ "/v1/funnel?since=1&since=2", "since given twice" },
		{ "/v1/funnel?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
		  "since must be before until" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		reply r = get(bad[i][0]);
		cr_assert_eq(r.status, 400, "%s", bad[i][0]);
		cr_assert_str_eq(r.content_type, "application/json");
		json_object *o = json_of(r);
		cr_assert_not_null(strstr(str_at(o, "error"), bad[i][1]), "%s: %s", bad[i][0],
		                   str_at(o, "error"));
	}
}

/* ---- errors and hostile input ------------------------------------------------------ */

Test(admin, unknown_path_is_404_json)
{
	reply r = get("/nope");
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(str_at(json_of(r), "error"),
	                 "not found: try /healthz, /readyz, /metrics, /v1/leads/{id} or /v1/funnel");
	cr_assert_eq(get("/healthz/").status, 404);
}

Test(admin, query_strings_are_ignored)
{
	reply r = get("/healthz?verbose=1");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
}

Test(admin, write_methods_are_405_with_allow)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		reply r = call(methods[i], "/v1/funnel");
		cr_assert_eq(r.status, 405, "%s", methods[i]);
		cr_assert_str_eq(r.allow, "GET, HEAD");
		cr_assert_str_eq(str_at(json_of(r), "error"),
		                 "method not allowed: the admin API is read-only (GET)");
	}
	reply r = request("POST /v1/leads/bob HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	                  "Content-Length: 2\r\n\r\n{}");
	cr_assert_eq(r.status, 405);
}

Test(admin, connect_is_405_with_a_length_on_a_connection_that_stays_in_step)
{
	/* libevent never closes a CONNECT's connection and writes no length
	 * for its reply: without one, the 405 would have no end (fuzz_admin) */
	static const char error[] =
		"{\"error\":\"method not allowed: the admin API is read-only (GET)\"}\n";
	reply r = request("CONNECT localhost:8080 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	                  "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	cr_assert_eq(r.status, 405);
	cr_assert_str_eq(r.allow, "GET, HEAD");
	cr_assert_str_eq(r.content_type, "application/json");
	char length[24];
	snprintf(length, sizeof length, "%zu", strlen(error));
	cr_assert_str_eq(r.content_length, length);
	cr_assert_eq(strncmp(r.body, error, strlen(error)), 0, "%s", r.body);
	const char *next = r.body + strlen(error);
	cr_assert_eq(strncmp(next, "HTTP/1.1 200 OK\r\n", 17), 0, "%s", next);
	cr_assert_str_eq(strstr(next, "\r\n\r\n") + 4, "{\"ready\":true}\n");
}

Test(admin, every_reply_has_a_length_whatever_the_http_version)
{
	/* libevent writes a length only for HTTP/1.1 and keep-alive 1.0, yet
	 * keeps other connections open too ("HTTP/0.1" with keep-alive, the
	 * input in tests/fuzz/crashes/fuzz_admin): a reply must not depend on
	 * the close to end */
	reply r = request("GET /healthz HTTP/1.0\r\n\r\n");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.content_length, "3");
	cr_assert_str_eq(r.body, "ok\n");
	r = call("GET", "/v1/funnel"); /* the one length libevent would write anyway */
	cr_assert_eq((size_t)atoi(r.content_length), r.body_len);
}

Test(admin, malformed_and_oversized_requests_are_refused_and_the_server_lives_on)
{
	reply r = request("GARBAGE\r\n\r\n");
	cr_assert_eq(r.status, 400);

	char *big = malloc(20000);
	int n = snprintf(big, 20000, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ");
	memset(big + n, 'a', 16000);
	memcpy(big + n + 16000, "\r\n\r\n", 5);
	r = request(big);
	free(big);
	cr_assert_eq(r.status, 400); /* libevent 2.1 answers headers over the limit with 400 */

	big = malloc(20000);
	n = snprintf(big, 20000, "POST /v1/funnel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	                         "Content-Length: 4096\r\n\r\n");
	memset(big + n, 'b', 4096);
	big[n + 4096] = '\0';
	r = request(big);
	free(big);
	cr_assert_eq(r.status, 413);

	r = get("/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
}

/* ---- abusive clients ----------------------------------------------------------------- */

static void set_flag(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* A timer that sets *fired after `ms`; the caller frees it. */
static struct event *alarm_in(int ms, bool *fired)
{
	*fired = false;
	struct event *ev = evtimer_new(base, set_flag, fired);
	cr_assert_not_null(ev);
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };
	evtimer_add(ev, &tv);
	return ev;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Replace setup()'s server with one under these limits. */
static void restart_admin(int max_connections, int64_t request_timeout_ms)
{
	fd_admin_free(admin);
	fd_admin_limits lim = { .max_connections = max_connections,
		                    .request_timeout_ms = request_timeout_ms };
	admin = fd_admin_new(base, "127.0.0.1", 0, &lim, &source, err, sizeof err);
	cr_assert_not_null(admin, "%s", err);
}

/* A non-blocking connection to the server that the loop knows nothing
 * about; -1 with errno when no socket can be had. */
static int connect_raw(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in sin = server_address();
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Sockets this process holds: the listener, the clients, and the server's
 * side of every connection it has accepted and not closed. */
static size_t open_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	cr_assert_not_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		char target[64];
		ssize_t len = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
		if (len > 0 && strncmp(target, "socket:", 7) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* A slowloris: one byte of a request that never ends every DRIBBLE_MS. */
#define SLOW_CAP 4
#define SLOW_CLIENTS (SLOW_CAP + 4)
#define SLOW_DEADLINE_MS 300
#define DRIBBLE_MS 50

typedef struct slow_client {
	struct bufferevent *bev;
	size_t sent;
	int64_t closed_at; /* by the server (EOF or reset); 0 while open */
} slow_client;

static void slow_drain(struct bufferevent *bev, void *arg)
{
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void slow_event(struct bufferevent *bev, short what, void *arg)
{
	slow_client *s = arg;
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) && !s->closed_at)
		s->closed_at = now_ms();
}

static void dribble(evutil_socket_t fd, short what, void *arg)
{
	static const char start[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	slow_client *slow = arg;
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		if (slow[i].closed_at)
			continue;
		char byte = slow[i].sent < sizeof start - 1 ? start[slow[i].sent] : 'a';
		bufferevent_write(slow[i].bev, &byte, 1);
		slow[i].sent++;
	}
}

static int slow_open(const slow_client *slow)
{
	int n = 0;
	for (int i = 0; i < SLOW_CLIENTS; i++)
		n += !slow[i].closed_at;
	return n;
}

Test(admin, slow_header_clients_are_cut_at_the_request_deadline_and_free_their_slots)
{
	/* A 300 ms deadline instead of the default 5 s (admin.request_timeout
	 * allows 100 ms): the slow clients fill the cap twice over, so the
	 * fresh client waits out two deadlines, and the test takes well under
	 * a second instead of ten. */
	restart_admin(SLOW_CAP, SLOW_DEADLINE_MS);
	signal(SIGPIPE, SIG_IGN); /* the dribble may write into a closed connection */
	slow_client slow[SLOW_CLIENTS];
	memset(slow, 0, sizeof slow);
	struct sockaddr_in sin = server_address();
	int64_t start = now_ms();
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		slow[i].bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		cr_assert_not_null(slow[i].bev);
		bufferevent_setcb(slow[i].bev, slow_drain, NULL, slow_event, &slow[i]);
		bufferevent_enable(slow[i].bev, EV_READ | EV_WRITE);
		cr_assert_eq(bufferevent_socket_connect(slow[i].bev, (struct sockaddr *)&sin, sizeof sin),
		             0);
	}
	struct event *drip = event_new(base, -1, EV_PERSIST, dribble, slow);
	struct timeval every = { 0, (suseconds_t)DRIBBLE_MS * 1000 };
	event_add(drip, &every);
	bool late;
	struct event *guard = alarm_in(3000, &late);

	/* the server takes SLOW_CAP of them; the others wait in the backlog */
	size_t most = 0;
	while (!late && fd_admin_connections(admin) < SLOW_CAP) {
		event_base_loop(base, EVLOOP_ONCE);
		if (fd_admin_connections(admin) > most)
			most = fd_admin_connections(admin);
	}
	cr_assert(!late, "the server never took %d slow clients", SLOW_CAP);

	/* a fresh client behind them all gets in once deadlines free slots */
	client fresh;
	int64_t asked = now_ms(), answered = 0;
	struct bufferevent *fresh_bev =
		client_start(&fresh, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	while (!late && (!fresh.done || slow_open(slow) > 0)) {
		event_base_loop(base, EVLOOP_ONCE);
		if (fd_admin_connections(admin) > most)
			most = fd_admin_connections(admin);
		if (fresh.done && !answered)
			answered = now_ms();
	}
	event_free(drip);
	event_free(guard);
	bufferevent_free(fresh_bev);
	for (int i = 0; i < SLOW_CLIENTS; i++)
		bufferevent_free(slow[i].bev);

	cr_assert_eq(slow_open(slow), 0, "%d of %d slow clients still open after 3 s",
	             slow_open(slow), SLOW_CLIENTS);
	for (int i = 0; i < SLOW_CLIENTS; i++)
		cr_assert_geq(slow[i].closed_at - start, SLOW_DEADLINE_MS - 20,
		              "slow client %d closed after %" PRId64 " ms, before its deadline", i,
		              slow[i].closed_at - start);
	cr_assert(fresh.done, "the fresh client got no answer within 3 s");
	reply r = client_reply(&fresh);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
	cr_assert_lt(answered - asked, 2000, "answered after %" PRId64 " ms", answered - asked);
	cr_assert_leq(most, SLOW_CAP, "%zu connections open at once", most);
}

#define MANY_CAP 16
#define MANY_CLIENTS 2000

Test(admin, connections_past_the_cap_wait_in_the_backlog)
{
	restart_admin(MANY_CAP, 5000); /* nothing may time out during the test */
	/* room for the clients and 512 fds more (the soft limit is often 1024) */
	const rlim_t want = MANY_CLIENTS + 512;
	struct rlimit old, more;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	more = old;
	if (more.rlim_cur < want)
		more.rlim_cur = more.rlim_max < want ? more.rlim_max : want;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &more), 0);
	cr_assert_gt(more.rlim_cur, 512 + (rlim_t)8 * MANY_CAP, "RLIMIT_NOFILE too low for this test");
	size_t n = (size_t)(more.rlim_cur - 512);
	if (n > MANY_CLIENTS)
		n = MANY_CLIENTS;

	size_t before = open_sockets();
	int *fds = calloc(n, sizeof *fds);
	for (size_t i = 0; i < n; i++) {
		fds[i] = connect_raw();
		cr_assert_geq(fds[i], 0, "client %zu: %s", i, strerror(errno));
	}
	bool late;
	struct event *guard = alarm_in(300, &late);
	size_t most = 0;
	while (!late) {
		event_base_loop(base, EVLOOP_ONCE);
		if (fd_admin_connections(admin) > most)
			most = fd_admin_connections(admin);
	}
	event_free(guard);
	size_t held = open_sockets() - before - n; /* the server's side */
	size_t counted = fd_admin_connections(admin);

	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	cr_assert_eq(held, MANY_CAP, "the server holds %zu connections (cap %d)", held, MANY_CAP);
	cr_assert_eq(counted, MANY_CAP);
	cr_assert_leq(most, MANY_CAP);

	/* the clients went away: the server closes its sides and takes the
	 * backlog in slices of MANY_CAP, /healthz included */
	reply r = get("/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
	cr_assert_leq(fd_admin_connections(admin), MANY_CAP);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
}

Test(admin, accept_failures_at_the_fd_limit_back_off_instead_of_spinning)
{
	/* stderr into a file to count the lines logged: fd_log's, and the
	 * warnings libevent prints when nobody handles accept errors */
	fflush(stderr);
	FILE *log = tmpfile();
	cr_assert_not_null(log);
	int saved_stderr = dup(2);
	cr_assert_geq(saved_stderr, 0);
	cr_assert_geq(dup2(fileno(log), 2), 0);

	/* leave 16 fds, take them all with connections waiting in the backlog:
	 * the server's accept() then fails with EMFILE */
	struct rlimit old;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	int lowest = dup(0);
	close(lowest);
	struct rlimit low = { .rlim_cur = (rlim_t)lowest + 16, .rlim_max = old.rlim_max };
	int limit_set = setrlimit(RLIMIT_NOFILE, &low);
	int fds[64], failure = 0;
	size_t n = 0;
	while (limit_set == 0 && n < 64) {
		int fd = connect_raw();
		if (fd < 0) {
			failure = errno;
			break;
		}
		fds[n++] = fd;
	}

	/* 600 ms of it: back-off pauses of 100, 200, then 400 ms mean three
	 * accept attempts; a spinning listener makes thousands */
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	bool late;
	struct event *guard = alarm_in(600, &late);
	unsigned turns = 0;
	while (!late) {
		event_base_loop(base, EVLOOP_ONCE);
		turns++;
	}
	getrusage(RUSAGE_SELF, &r1);
	event_free(guard);

	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	setrlimit(RLIMIT_NOFILE, &old);
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	rewind(log);
	char line[512], first[512] = "";
	size_t lines = 0;
	while (fgets(line, sizeof line, log)) {
		if (!lines++)
			snprintf(first, sizeof first, "%s", line);
	}
	fclose(log);

	cr_assert_eq(limit_set, 0, "setrlimit: %s", strerror(errno));
	cr_assert_eq(failure, EMFILE, "the clients stopped on %s", strerror(failure));
	cr_assert_gt(n, 0);
	double cpu_ms = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1e3 +
	                (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e3 +
	                (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e3 +
	                (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e3;
	cr_assert_lt(turns, 40, "%u loop turns in 600 ms", turns);
	cr_assert_lt(cpu_ms, 200.0, "%.0f ms of CPU in 600 ms", cpu_ms);
	cr_assert_geq(lines, 1, "nothing logged");
	cr_assert_leq(lines, 2, "%zu lines logged, the first: %s", lines, first);
	cr_assert_not_null(strstr(first, "admin HTTP: cannot accept a connection: Too many open files"),
	                   "%s", first);

	/* the fds are back: the server takes the backlog, then this */
	reply r = get("/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
}

static void break_loop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(base);
}

/* A blocking connection that is established when this returns. */
static int connect_now(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sin = server_address();
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0, "%s", strerror(errno));
	return fd;
}

static bool closed_by_peer(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char byte;
	return poll(&p, 1, 1000) == 1 && recv(fd, &byte, 1, 0) == 0;
}

Test(admin, freeing_the_server_closes_every_connection_even_one_accepted_this_turn)
{
	int idle = connect_now();
	bool late;
	struct event *guard = alarm_in(2000, &late);
	while (!late && fd_admin_connections(admin) < 1)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(guard);
	cr_assert_eq(fd_admin_connections(admin), 1);

	/* a timer due in the same turn runs after the accept and before the
	 * step that attaches the new connection: break the loop there */
	int fresh = connect_now();
	struct event *brk = evtimer_new(base, break_loop, NULL);
	struct timeval zero = { 0, 0 };
	evtimer_add(brk, &zero);
	event_base_loop(base, EVLOOP_ONCE);
	event_free(brk);
	cr_assert_eq(fd_admin_connections(admin), 2);
	cr_assert_geq(event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE), 1,
	              "the attach step already ran");

	fd_admin_free(admin);
	admin = NULL;
	cr_assert(closed_by_peer(idle));
	cr_assert(closed_by_peer(fresh));
	close(idle);
	close(fresh);
}

/* Strict UTF-8 (RFC 3629), written apart from admin.c's: decode each code
 * point, then refuse overlong forms, surrogates and anything past
 * U+10FFFF. */
static bool utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		unsigned c = s[i];
		size_t n;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 2, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			n = 3, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			n = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n > len - i)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n;
	}
	return true;
}

/* A JSON reply whose body is valid UTF-8 with no raw control character
 * (but the final newline). */
static json_object *clean_json(reply r)
{
	cr_assert(utf8_valid(r.body, r.body_len), "not UTF-8: %s", r.body);
	for (size_t i = 0; i + 1 < r.body_len; i++)
		cr_assert_geq((unsigned char)r.body[i], 0x20, "raw control character at %zu: %s", i,
		              r.body);
	return json_of(r);
}

#define FFFD "\xEF\xBF\xBD"

Test(admin, json_is_valid_utf8_whatever_bytes_the_lead_id_holds)
{
	leads();
	static const struct {
		const char *target, *id;
	} cases[] = {
		{ "/v1/leads/%FF%FE", FFFD FFFD },
		{ "/v1/leads/%C0%AF", FFFD FFFD },                 /* an overlong '/' */
		{ "/v1/leads/%ED%A0%80", FFFD FFFD FFFD },         /* a surrogate */
		{ "/v1/leads/%F4%90%80%80", FFFD FFFD FFFD FFFD }, /* past U+10FFFF */
		{ "/v1/leads/x%E2%82", "x" FFFD },                 /* a truncated euro sign */
		{ "/v1/leads/%E2%82%ACx%F0%9F%98", "\xE2\x82\xAC" "x" FFFD },
		{ "/v1/leads/caf%C3%A9", "caf\xC3\xA9" },          /* valid: as is */
		{ "/v1/leads/a%01b%1Fc%0Ad%09e%7F", "a\x01" "b\x1F" "c\nd\te\x7F" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		reply r = get(cases[i].target);
		cr_assert_eq(r.status, 404, "%s", cases[i].target);
		json_object *o = clean_json(r);
		cr_assert_str_eq(str_at(o, "error"), "unknown lead");
		cr_assert_str_eq(str_at(o, "lead_id"), cases[i].id, "%s", cases[i].target);
	}
	reply r = get("/v1/leads/a%01b%1Fc");
	cr_assert_str_eq(r.body, "{\"error\":\"unknown lead\",\"lead_id\":\"a\\u0001b\\u001fc\"}\n");

	/* over 255 bytes: a JSON 404, whatever the bytes */
	char target[1024] = "/v1/leads/";
	memset(target + strlen(target), 'x', 300);
	r = get(target);
	cr_assert_eq(r.status, 404);
	cr_assert_str_eq(str_at(clean_json(r), "error"), "unknown lead (ids are at most 255 bytes)");
	for (size_t i = 0, at = strlen("/v1/leads/"); i < 300; i++, at += 3)
		memcpy(target + at, "%FF", 4);
	r = get(target);
	cr_assert_eq(r.status, 404);
	clean_json(r);

	/* a request line past the 8 KiB header limit never reaches us:
	 * libevent answers 400 with its own HTML page (see admin.h) */
	char *big = malloc(10000);
	int n = snprintf(big, 10000, "GET /v1/leads/");
	memset(big + n, 'x', 9000);
	snprintf(big + n + 9000, 10000 - (size_t)n - 9000,
	         " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	r = request(big);
	free(big);
	cr_assert_eq(r.status, 400);
	cr_assert_eq(strncmp(r.content_type, "text/html", 9), 0, "%s", r.content_type);
	cr_assert_eq(get("/healthz").status, 200);
}

/* ---- lifecycle --------------------------------------------------------------------- */

Test(admin, port_in_use_is_reported_in_errstr)
{
	char msg[256], want[256];
	fd_admin *second = fd_admin_new(base, "127.0.0.1", fd_admin_port(admin), NULL, &source, msg,
	                                sizeof msg);
	cr_assert_null(second);
	snprintf(want, sizeof want, "admin HTTP: cannot listen on 127.0.0.1:%d: Address already in use",
	         fd_admin_port(admin));
	cr_assert_str_eq(msg, want);
}

Test(admin, a_source_without_engine_or_clock_is_refused)
{
	char msg[256];
	fd_admin_source none = { 0 };
	cr_assert_null(fd_admin_new(base, "127.0.0.1", 0, NULL, &none, msg, sizeof msg));
	cr_assert_str_eq(msg, "admin HTTP: no event loop, engine or clock to serve");
}
