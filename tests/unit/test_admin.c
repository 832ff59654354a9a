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
 */
#include <criterion/criterion.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <strings.h>
#include <sys/socket.h>

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
} fake_source;

static fd_engine *src_engine(void *ctx) { return ((fake_source *)ctx)->engine; }
static void src_stats(void *ctx, fd_kafka_stats *out) { *out = ((fake_source *)ctx)->stats; }
static bool src_ready(void *ctx) { return ((fake_source *)ctx)->ready; }
static const char *src_status(void *ctx) { return ((fake_source *)ctx)->status; }
static int64_t src_now(void *ctx) { return ((fake_source *)ctx)->now; }

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
		           .restored_leads = 11, .evicted = 4, .refused_full = 1 },
		.ready = true,
		.now = T0,
	};
	source = (fd_admin_source){ src_engine, src_stats, src_ready, src_status, src_now, &fake };
	admin = fd_admin_new(base, "127.0.0.1", 0, &source, err, sizeof err);
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

/* Send `raw` as is on a new connection, read until the server closes it. */
static reply request(const char *raw)
{
	client c = { .in = evbuffer_new() };
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	cr_assert_not_null(bev);
	bufferevent_setcb(bev, client_read, NULL, client_event, &c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fd_admin_port(admin));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof sin), 0);
	bufferevent_write(bev, raw, strlen(raw));
	struct event *timer = evtimer_new(base, client_timeout, &c);
	struct timeval five = { 5, 0 };
	evtimer_add(timer, &five);
	while (!c.done && !c.timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(timer);
	bufferevent_free(bev);
	cr_assert(!c.timed_out, "no complete response within 5 s");

	size_t len = evbuffer_get_length(c.in);
	char *text = malloc(len + 1);
	evbuffer_remove(c.in, text, len);
	text[len] = '\0';
	evbuffer_free(c.in);
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
		"funneld_dead_letters_total 3",
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
		"funneld_ready 1",
		"# TYPE funneld_leads gauge",
		"funneld_leads 3",
		"# TYPE funneld_leads_by_stage gauge",
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
		"funneld_transitions_total 4",
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
	/* carl (last input T0-3d) is evicted by a 4 d TTL; bob (T0+2h) is not */
	cr_assert_eq(fd_engine_evict(eng, T0 + 48 * HOUR, 4 * DAY, 100, NULL, NULL), 1);
	fake.now = T0 + 48 * HOUR;
	reply r = get("/v1/funnel");
	cr_assert_eq(r.status, 200);
	json_object *o = json_of(r);
	cr_assert_eq(int_at(o, "as_of_ms"), T0 + 48 * HOUR);
	cr_assert_eq(int_at(o, "leads"), 2);
	cr_assert_eq(int_at(o, "leads_seen"), 3);
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

/* ---- lifecycle --------------------------------------------------------------------- */

Test(admin, port_in_use_is_reported_in_errstr)
{
	char msg[256], want[256];
	fd_admin *second = fd_admin_new(base, "127.0.0.1", fd_admin_port(admin), &source, msg,
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
	cr_assert_null(fd_admin_new(base, "127.0.0.1", 0, &none, msg, sizeof msg));
	cr_assert_str_eq(msg, "admin HTTP: no event loop, engine or clock to serve");
}
