/*
 * fuzz_admin.c — libFuzzer target for the admin HTTP server's request
 * handling (src/daemon/admin.c): routing, lead id decoding and every body
 * it writes, reached the way a client reaches them, over a loopback TCP
 * connection to a real fd_admin on the target's own event_base, so evhttp
 * parses the request line, the target and the headers exactly as it does
 * in the daemon.
 *
 * The input is one HTTP request as text: a request line ("METHOD TARGET
 * VERSION", any bytes but '\n'), header lines up to an empty line, then a
 * body. The target sends the request line and the headers as they are,
 * except Content-Length, Transfer-Encoding and Expect (a body the server
 * waits for would hang the exchange); the body is sent, with its
 * Content-Length, only for POST, PUT and PATCH. Behind the request the same
 * connection carries, pipelined, the same request as GET when it was a HEAD
 * (to compare the two), then "GET /healthz" (a sentinel: the byte after a
 * reply must start the next one, so a wrong Content-Length or a HEAD reply
 * with a body shows). The client then resets the connection and the loop
 * runs until the server counts no connection open.
 *
 * The server's source: an engine with the fixture rules (engine_fixture.h)
 * and a dozen leads whose ids are awkward but valid UTF-8 ('%', '/', '?',
 * '#', '+', spaces, a tab, multi-byte text, an id that is a prefix of
 * another, "A" beside "%41", 255 bytes), one lead with ill-formed UTF-8 in
 * its context strings, fixed daemon counters and a clock at T0. Whether it
 * is ready (with a status text holding quotes, a control character and
 * ill-formed UTF-8) and whether it has an engine follows from a hash of the
 * input, so every route is fuzzed in every state.
 *
 * Checked after every request (fail() aborts, libFuzzer keeps the input):
 *   - a complete request gets a reply, and ASan/LSan/UBSan stay quiet;
 *   - a reply libevent writes itself (its HTML page) is 400, 413 or 501;
 *     every other one is 200, 400, 404, 405 or 503, with Cache-Control
 *     no-store and one of the three content types admin.h names;
 *   - a JSON body is one object json-c parses strictly, then "\n"; every
 *     body is strict UTF-8 with no NUL (fd_utf8_valid);
 *   - /metrics is Prometheus text 0.0.4: "# HELP" / "# TYPE" lines (counter,
 *     gauge, histogram), each sample `name{label="value",...} value` of a
 *     declared family (a histogram's _bucket, _sum, _count), a finite
 *     non-negative number; histogram buckets cumulative, +Inf equal to
 *     _count; funneld_ready and funneld_leads as the source says;
 *   - when the request line splits as libevent splits it, the reply is
 *     what admin.h documents for the path evhttp_uri_parse finds in it,
 *     decoded by this file's own percent-decoder: the route, 405 with
 *     "Allow: GET, HEAD" for another method, 503 without an engine; for
 *     /v1/leads/{id}, an existing lead is found by any percent-encoding of
 *     its exact id and only by that (lead_id and stage are that lead's),
 *     an unknown id gets 404 naming it, a NUL 400, over 255 bytes 404;
 *   - a HEAD reply has no body, and the status, content type and
 *     Content-Length of the GET it mirrors; the sentinel's reply follows
 *     whole (neither is sent when a header line starts with a NUL:
 *     libevent ends the headers there and reads the rest as another
 *     request, so only the first reply is awaited);
 *   - once the client has gone, no connection stays open.
 * Before the first input, every lead is requested by two encodings of its
 * id (each byte as %XX, and only what a path must encode) and must be
 * found.
 *
 * Not fuzzed here: the connection cap, the deadlines and accept failures
 * (timing, covered by tests/unit/test_admin.c), and libevent's own parsing
 * beyond what reaches admin.c.
 *
 * Seeds: tests/fuzz/corpus/admin/ (one request per file); dictionary
 * tests/fuzz/admin.dict. Run it with scripts/fuzz.sh 60 fuzz_admin (about
 * 4,500 executions a second on one core). FUNNELD_FUZZ_VERBOSE=1 prints
 * the bytes the server sent back for each input.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>

#include "base/log.h"
#include "base/utf8.h"
#include "daemon/admin.h"
#include "engine_fixture.h"
#include "funneld/engine.h"

#define FUZZ_NAME "fuzz_admin"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_INPUT 16384          /* bytes of an input used (past the 8 KiB header limit) */
#define EXCHANGE_TIMEOUT_MS 5000 /* a reply that takes longer is a hang */
#define LEADS_PREFIX "/v1/leads/"
#define LEAD_ID_MAX 255
#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define SENTINEL "GET /healthz HTTP/1.1\r\nHost: sentinel\r\n\r\n"

/* the status text of a source that is not ready, and what /readyz must
 * show of it: ill-formed UTF-8 replaced by U+FFFD, one per subpart */
#define NOT_READY_STATUS "restoring partitions 0, 3 \"x\" \\ \x01 \xff\xfe caf\xc3\xa9 \xe2\x82"
#define NOT_READY_SHOWN \
	"restoring partitions 0, 3 \"x\" \\ \x01 \xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9 \xef\xbf\xbd"

/* ---- the server and what it serves ----------------------------------------- */

enum { N_LEADS = 16 };

static struct {
	struct event_base *base;
	fd_admin *admin;
	fd_engine *engine;
	fx_log *log;
	fd_rules rules;
	struct sockaddr_in addr;
	char ids[N_LEADS][LEAD_ID_MAX + 1];
	size_t n_ids;
	bool ready;      /* this input's source state */
	bool has_engine;
} h;

static fd_engine *src_engine(void *ctx) { return h.has_engine ? h.engine : NULL; }
static bool src_ready(void *ctx) { return h.ready; }
static const char *src_status(void *ctx) { return NOT_READY_STATUS; }
static int64_t src_now(void *ctx) { return T0; }
static void src_turns(void *ctx, fd_hist *out)
{
	(void)ctx;
	*out = (fd_hist){ .counts = { 3, 1 }, .count = 5, .sum_us = 9000123, .max_us = 9000000 };
	out->counts[FD_HIST_BUCKETS - 1] = 1;
}

static void src_stats(void *ctx, fd_kafka_stats *out)
{
	memset(out, 0, sizeof *out);
	out->consumed = 42;
	out->dead_letters = 3;
	out->produced = 17;
	out->delivered = 16;
}

static void add_lead(const char *id, const char *type, const char *channel, const char *content)
{
	char err[256], event_id[32];
	CHECK(h.n_ids < N_LEADS && strlen(id) <= LEAD_ID_MAX && fd_utf8_valid(id, strlen(id)));
	snprintf(event_id, sizeof event_id, "e%zu", h.n_ids);
	fd_engagement e = { .event_id = event_id, .lead_id = id, .occurred_at_ms = T0,
		                .type = type, .channel = channel, .content_id = content };
	fd_sink sink = fx_sink(h.log);
	if (fd_engine_engagement(h.engine, &e, T0, &sink, err, sizeof err) != FD_OK) {
		fprintf(stderr, "%s: lead %s: %s\n", FUZZ_NAME, id, err);
		fail("the engine takes the fixture leads");
	}
	snprintf(h.ids[h.n_ids++], sizeof h.ids[0], "%s", id);
}

static void leads(void)
{
	char longest[LEAD_ID_MAX + 1], euros[LEAD_ID_MAX + 1];
	memset(longest, 'z', LEAD_ID_MAX);
	longest[LEAD_ID_MAX] = '\0';
	for (size_t i = 0; i < LEAD_ID_MAX; i += 3) /* 85 euro signs: 255 bytes */
		memcpy(euros + i, "\xe2\x82\xac", 3);
	euros[LEAD_ID_MAX] = '\0';

	add_lead("ann+test@acme.com", "pricing_view", "web", "pricing");
	add_lead("ann", "demo_request", "web", "demo");             /* a prefix of the one above */
	add_lead("A", "page_view", "web", "home");
	add_lead("%41", "page_view", "web", "home");                /* not "A" */
	add_lead("50% off/100%", "content_download", "email", "ebook");
	add_lead("with space", "email_click", "email", "news");
	add_lead("caf\xc3\xa9 \xe2\x82\xac/\xe6\x97\xa5\xe6\x9c\xac", "webinar_attended", "web",
	         "webinar-ai");
	add_lead("q?x=1#frag", "page_view", "web", "home");
	add_lead("+plus+", "page_view", "web", "home");
	add_lead("tab\there", "page_view", "web", "home");
	add_lead("../admin;x=1&y", "page_view", "web", "home");
	add_lead(longest, "page_view", "web", "home");
	add_lead(euros, "page_view", "web", "home");
	/* the engine keeps context strings as given: /v1/leads must not */
	add_lead("bytes", "content_download", "\xffweb\"\x01", "\xc0\xaf\xed\xa0\x80x\xf4\x90");
}

/* ---- the client ------------------------------------------------------------ */

typedef struct reply {
	int status;
	char content_type[128];
	char cache_control[32];
	char allow[32];
	bool has_length;
	size_t length;     /* Content-Length, when has_length */
	const char *body;  /* inside the received bytes */
	size_t body_len;
	size_t end;        /* offset just past this reply */
} reply;

typedef struct exchange {
	struct evbuffer *in;
	bool head;         /* the request is a HEAD: a GET of it follows */
	bool eof;          /* the server closed (or reset) the connection */
	bool done;
	bool timed_out;
	size_t expected;   /* replies to wait for */
	size_t n_replies;
	reply replies[3];
	bool partial;      /* bytes after the last complete reply that are not a reply */
} exchange;

static size_t header_value(const char *head, const char *end, const char *name, char *out,
                           size_t size)
{
	size_t n = strlen(name);
	out[0] = '\0';
	for (const char *line = head; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;
			while (v < eol && *v == ' ')
				v++;
			size_t len = (size_t)(eol - v);
			if (len && v[len - 1] == '\r')
				len--;
			if (len >= size)
				len = size - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return len + 1;
		}
		line = eol + 1;
	}
	return 0;
}

/* One reply at buf[0..n): 1 when complete, 0 when more bytes may complete
 * it, -1 when it is not a reply. `head`: the reply to a HEAD (no body). */
static int parse_reply(const char *buf, size_t n, bool head, bool eof, reply *r)
{
	memset(r, 0, sizeof *r);
	const char *end = NULL;
	for (size_t i = 0; i + 3 < n; i++) {
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i + 2;
			break;
		}
	}
	if (!end)
		return n >= 5 && memcmp(buf, "HTTP/", 5) != 0 ? -1 : 0;
	int major, minor;
	if (sscanf(buf, "HTTP/%d.%d %3d ", &major, &minor, &r->status) != 3)
		return -1;
	header_value(buf, end, "Content-Type", r->content_type, sizeof r->content_type);
	header_value(buf, end, "Cache-Control", r->cache_control, sizeof r->cache_control);
	header_value(buf, end, "Allow", r->allow, sizeof r->allow);
	char length[24];
	if (header_value(buf, end, "Content-Length", length, sizeof length)) {
		char *stop;
		unsigned long long v = strtoull(length, &stop, 10);
		if (!*length || *stop)
			return -1;
		r->has_length = true;
		r->length = (size_t)v;
	}
	size_t at = (size_t)(end - buf) + 2;
	r->body = buf + at;
	if (head) {
		r->body_len = 0;
	} else if (r->has_length) {
		if (n - at < r->length)
			return 0;
		r->body_len = r->length;
	} else {
		if (!eof)
			return 0;
		r->body_len = n - at;
	}
	r->end = at + r->body_len;
	return 1;
}

static void exchange_progress(exchange *x)
{
	size_t n = evbuffer_get_length(x->in);
	const char *buf = (const char *)evbuffer_pullup(x->in, -1);
	size_t at = 0;
	x->n_replies = 0;
	x->partial = false;
	while (x->n_replies < x->expected && at < n) {
		reply *r = &x->replies[x->n_replies];
		int rc = parse_reply(buf + at, n - at, x->head && x->n_replies == 0, x->eof, r);
		if (rc <= 0) {
			x->partial = rc < 0 || x->eof;
			break;
		}
		r->end += at;
		at = r->end;
		x->n_replies++;
	}
	if (x->n_replies == x->expected || x->eof)
		x->done = true;
}

static void client_read(struct bufferevent *bev, void *arg)
{
	exchange *x = arg;
	evbuffer_add_buffer(x->in, bufferevent_get_input(bev));
	exchange_progress(x);
	if (x->done)
		event_base_loopbreak(h.base);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	exchange *x = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		evbuffer_add_buffer(x->in, bufferevent_get_input(bev));
		x->eof = true;
		exchange_progress(x);
		event_base_loopbreak(h.base);
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
	event_base_loopbreak(h.base);
}

/* Send `request` (the bytes of one or more requests), wait for `expected`
 * replies or the end of the connection, reset it, and wait until the
 * server has let it go. x->in holds the replies; the caller frees it. */
static void exchange_run(exchange *x, const char *request, size_t len)
{
	x->in = evbuffer_new();
	struct bufferevent *bev = bufferevent_socket_new(h.base, -1, BEV_OPT_CLOSE_ON_FREE);
	struct event *timer = evtimer_new(h.base, on_timeout, &x->timed_out);
	CHECK(x->in && bev && timer);
	bufferevent_setcb(bev, client_read, NULL, client_event, x);
	CHECK(bufferevent_socket_connect(bev, (struct sockaddr *)&h.addr, sizeof h.addr) == 0);
	CHECK(bufferevent_write(bev, request, len) == 0);
	CHECK(bufferevent_enable(bev, EV_READ) == 0);

	struct timeval tv = { EXCHANGE_TIMEOUT_MS / 1000, 0 };
	evtimer_add(timer, &tv);
	while (!x->done && !x->timed_out)
		event_base_loop(h.base, EVLOOP_ONCE);
	if (x->timed_out) {
		fprintf(stderr, "%s: %zu replies, received: %.*s\n", FUZZ_NAME, x->n_replies,
		        (int)evbuffer_get_length(x->in), (const char *)evbuffer_pullup(x->in, -1));
		fail("no reply (or no end of the connection) within 5 s");
	}

	/* reset: no TIME_WAIT left behind, whoever closes first */
	struct linger lin = { 1, 0 };
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin);
	bufferevent_free(bev);
	while (fd_admin_connections(h.admin) > 0 && !x->timed_out)
		event_base_loop(h.base, EVLOOP_ONCE);
	if (x->timed_out)
		fail("a connection stays open after its client has gone");
	event_free(timer);
}

/* ---- what a reply must be ---------------------------------------------------- */

/* this file's own percent-decoder ("%XX" with two hex digits is a byte,
 * anything else stays; '+' stays '+'), to check admin.c's against */
static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t percent_decode(const char *in, char *out)
{
	size_t n = 0;
	for (size_t i = 0; in[i]; i++) {
		int hi, lo;
		if (in[i] == '%' && (hi = hex(in[i + 1])) >= 0 && (lo = hex(in[i + 2])) >= 0) {
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[n++] = in[i];
		}
	}
	out[n] = '\0';
	return n;
}

typedef enum route {
	ROUTE_UNKNOWN,      /* the oracle does not apply: only the general checks */
	ROUTE_NOT_ALLOWED,  /* 405 */
	ROUTE_HEALTHZ,
	ROUTE_READYZ,
	ROUTE_METRICS,
	ROUTE_FUNNEL,
	ROUTE_LEAD,
	ROUTE_NOT_FOUND,
} route;

typedef struct expectation {
	route route;
	char id[MAX_INPUT + 1]; /* ROUTE_LEAD: the decoded id */
	size_t id_len;
	bool has_id;            /* there was an id after the prefix */
	bool has_query;         /* ROUTE_FUNNEL: parameters that may be refused (400) */
} expectation;

/* What admin.h says the reply to this request line must be. The line is
 * split as libevent 2.1 splits it: the method up to the first space, the
 * version after the last one (trailing spaces dropped), the target
 * between. */
static void expect_for(const char *line, size_t len, expectation *e)
{
	memset(e, 0, sizeof *e);
	e->route = ROUTE_UNKNOWN;
	if (memchr(line, '\0', len) || memchr(line, '\r', len))
		return;
	while (len && line[len - 1] == ' ')
		len--;
	const char *sp1 = memchr(line, ' ', len), *sp2 = NULL;
	for (const char *p = line + len; p > line; p--)
		if (p[-1] == ' ') {
			sp2 = p - 1;
			break;
		}
	if (!sp1 || sp2 == sp1 || len < strlen("GET / HTTP/1.0"))
		return;
	size_t mlen = (size_t)(sp1 - line);
	static const char *const others[] = { "POST",    "PUT",    "DELETE",
		                                  "PATCH",   "OPTIONS", "CONNECT" };
	if ((mlen == 3 && memcmp(line, "GET", 3) == 0) || (mlen == 4 && memcmp(line, "HEAD", 4) == 0)) {
		/* routed below */
	} else {
		for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
			if (mlen == strlen(others[i]) && memcmp(line, others[i], mlen) == 0)
				e->route = ROUTE_NOT_ALLOWED;
		return;
	}
	char *target = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	CHECK(target);
	struct evhttp_uri *uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path)
		e->route = ROUTE_UNKNOWN;
	else if (strcmp(path, "/healthz") == 0)
		e->route = ROUTE_HEALTHZ;
	else if (strcmp(path, "/readyz") == 0)
		e->route = ROUTE_READYZ;
	else if (strcmp(path, "/metrics") == 0)
		e->route = ROUTE_METRICS;
	else if (strcmp(path, "/v1/funnel") == 0) {
		e->route = ROUTE_FUNNEL;
		const char *q = evhttp_uri_get_query(uri);
		e->has_query = q && *q;
	}
	else if (strncmp(path, LEADS_PREFIX, strlen(LEADS_PREFIX)) == 0) {
		e->route = ROUTE_LEAD;
		const char *enc = path + strlen(LEADS_PREFIX);
		e->has_id = *enc != '\0';
		if (strlen(enc) <= MAX_INPUT)
			e->id_len = percent_decode(enc, e->id);
		else
			e->route = ROUTE_UNKNOWN;
	} else {
		e->route = ROUTE_NOT_FOUND;
	}
	if (uri)
		evhttp_uri_free(uri);
	free(target);
}

static json_object *parse_json(const reply *r)
{
	CHECK(r->body_len >= 2 && r->body[r->body_len - 1] == '\n');
	json_tokener *tok = json_tokener_new();
	CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, r->body, (int)r->body_len - 1);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != r->body_len - 1) {
		fprintf(stderr, "%s: body: %.*s\n", FUZZ_NAME, (int)r->body_len, r->body);
		fail("a JSON body is one JSON value, then \"\\n\"");
	}
	json_tokener_free(tok);
	CHECK(json_object_is_type(o, json_type_object));
	return o;
}

static const char *str_at(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* The metric name at *p; advances past it. */
static size_t metric_name(const char **p, const char *end)
{
	const char *s = *p;
	while (*p < end && name_char(**p, *p == s))
		(*p)++;
	return (size_t)(*p - s);
}

/* Prometheus text 0.0.4, line by line. */
static void check_metrics(const reply *r)
{
	char families[64][64];
	bool histogram[64];
	size_t n_families = 0;
	bool saw_ready = false, saw_leads = false;
	double last_bucket = -1, inf_bucket = -1;
	const char *p = r->body, *end = r->body + r->body_len;
	CHECK(r->body_len > 0 && end[-1] == '\n');
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		CHECK(eol);
		if (*p == '#') {
			if (eol - p > 7 && (memcmp(p, "# TYPE ", 7) == 0 || memcmp(p, "# HELP ", 7) == 0)) {
				bool type = p[2] == 'T';
				const char *q = p + 7, *name = q;
				size_t n = metric_name(&q, eol);
				CHECK(n > 0 && n < sizeof families[0] && q < eol && *q == ' ');
				if (type) {
					q++;
					size_t tlen = (size_t)(eol - q);
					bool hist = tlen == 9 && memcmp(q, "histogram", 9) == 0;
					CHECK((tlen == 7 && memcmp(q, "counter", 7) == 0) ||
					      (tlen == 5 && memcmp(q, "gauge", 5) == 0) || hist);
					for (size_t i = 0; i < n_families; i++)
						CHECK(strncmp(families[i], name, n) != 0 || families[i][n] != '\0');
					CHECK(n_families < sizeof families / sizeof families[0]);
					memcpy(families[n_families], name, n);
					histogram[n_families] = hist;
					families[n_families++][n] = '\0';
					last_bucket = inf_bucket = -1;
				}
			}
			p = eol + 1;
			continue;
		}
		const char *name = p;
		size_t n = metric_name(&p, eol);
		CHECK(n > 0);
		bool declared = false;
		const char *suffix = "";
		for (size_t i = 0; i < n_families; i++) {
			size_t fl = strlen(families[i]);
			if (fl == n && memcmp(families[i], name, n) == 0) {
				declared = !histogram[i];
			} else if (histogram[i] && n > fl && memcmp(families[i], name, fl) == 0) {
				static const char *const parts[] = { "_bucket", "_sum", "_count" };
				for (int k = 0; k < 3; k++)
					if (n - fl == strlen(parts[k]) && memcmp(name + fl, parts[k], n - fl) == 0) {
						declared = true;
						suffix = parts[k];
					}
			}
		}
		CHECK(declared);
		bool bucket = strcmp(suffix, "_bucket") == 0, inf = false;
		CHECK(!bucket || (p + 5 < eol && memcmp(p, "{le=\"", 5) == 0));
		if (bucket)
			inf = p + 10 < eol && memcmp(p, "{le=\"+Inf\"}", 11) == 0;
		if (p < eol && *p == '{') {
			p++;
			for (;;) {
				CHECK(metric_name(&p, eol) > 0);
				CHECK(p + 1 < eol && p[0] == '=' && p[1] == '"');
				p += 2;
				while (p < eol && *p != '"') {
					if (*p == '\\') {
						CHECK(p + 1 < eol && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'));
						p++;
					}
					p++;
				}
				CHECK(p < eol);
				p++;
				if (p < eol && *p == ',') {
					p++;
					continue;
				}
				CHECK(p < eol && *p == '}');
				p++;
				break;
			}
		}
		CHECK(p < eol && *p == ' ');
		p++;
		CHECK(p < eol);
		char value[32];
		size_t vlen = (size_t)(eol - p);
		CHECK(vlen < sizeof value);
		memcpy(value, p, vlen);
		value[vlen] = '\0';
		char *stop;
		double dv = strtod(value, &stop);
		CHECK(*stop == '\0' && value[0] >= '0' && value[0] <= '9' && isfinite(dv) && dv >= 0);
		unsigned long long v = (unsigned long long)dv;
		if (bucket) {
			CHECK(dv >= last_bucket); /* cumulative */
			last_bucket = dv;
			if (inf)
				inf_bucket = dv;
		}
		if (strcmp(suffix, "_count") == 0)
			CHECK(dv == inf_bucket);
		if (n == strlen("funneld_ready") && memcmp(name, "funneld_ready", n) == 0) {
			CHECK(v == (h.ready ? 1u : 0u));
			saw_ready = true;
		}
		if (n == strlen("funneld_leads") && memcmp(name, "funneld_leads", n) == 0) {
			CHECK(v == h.n_ids);
			saw_leads = true;
		}
		p = eol + 1;
	}
	CHECK(saw_ready);
	CHECK(saw_leads == h.has_engine);
}

static const char *known_lead(const expectation *e)
{
	for (size_t i = 0; i < h.n_ids; i++)
		if (strlen(h.ids[i]) == e->id_len && memcmp(h.ids[i], e->id, e->id_len) == 0)
			return h.ids[i];
	return NULL;
}

/* What admin.h says /v1/leads/{id} answers, in the order it decides. */
static int lead_status(const expectation *e)
{
	if (!h.has_engine)
		return 503;
	if (!e->has_id)
		return 404; /* no id */
	if (strlen(e->id) != e->id_len)
		return 400; /* a NUL byte */
	if (e->id_len > LEAD_ID_MAX)
		return 404; /* longer than any lead's */
	return known_lead(e) ? 200 : 404;
}

/* A reply admin.c wrote (not libevent's error page): the general checks,
 * then, when the oracle applies, the exact outcome. */
static void check_admin_reply(const reply *r, const expectation *e, bool head)
{
	CHECK(r->status == 200 || r->status == 400 || r->status == 404 || r->status == 405 ||
	      r->status == 503);
	CHECK(strcmp(r->cache_control, "no-store") == 0);
	bool json = strcmp(r->content_type, CT_JSON) == 0;
	bool text = strcmp(r->content_type, CT_TEXT) == 0;
	bool metrics = strcmp(r->content_type, CT_METRICS) == 0;
	CHECK(json || text || metrics);
	CHECK(r->status == 200 || json); /* every error is JSON */
	if (r->status == 405)
		CHECK(strcmp(r->allow, "GET, HEAD") == 0);
	if (head) {
		CHECK(r->has_length);
	} else {
		CHECK(fd_utf8_valid(r->body, r->body_len));
	}

	switch (e->route) {
	case ROUTE_UNKNOWN:
		break;
	case ROUTE_NOT_ALLOWED:
		CHECK(r->status == 405 && json);
		break;
	case ROUTE_HEALTHZ:
		CHECK(r->status == 200 && text);
		break;
	case ROUTE_READYZ:
		CHECK(r->status == (h.ready ? 200 : 503) && json);
		break;
	case ROUTE_METRICS:
		CHECK(r->status == 200 && metrics);
		break;
	case ROUTE_FUNNEL:
		/* ?since= and ?until= are read; anything else in a query is a 400 */
		CHECK((r->status == (h.has_engine ? 200 : 503) ||
		       (h.has_engine && e->has_query && r->status == 400)) && json);
		break;
	case ROUTE_NOT_FOUND:
		CHECK(r->status == 404 && json);
		break;
	case ROUTE_LEAD:
		CHECK(r->status == lead_status(e) && json);
		break;
	}
	if (head)
		return;

	if (text)
		CHECK(r->body_len == 3 && memcmp(r->body, "ok\n", 3) == 0);
	if (metrics)
		check_metrics(r);
	if (!json)
		return;
	json_object *o = parse_json(r);
	if (r->status != 200 && r->status != 503)
		CHECK(str_at(o, "error") != NULL);
	if (e->route == ROUTE_READYZ && !h.ready) {
		const char *status = str_at(o, "status");
		CHECK(status && strcmp(status, NOT_READY_SHOWN) == 0);
	}
	if (e->route == ROUTE_LEAD && r->status == 200) {
		/* that lead, and no other */
		const char *id = known_lead(e), *shown = str_at(o, "lead_id"), *stage = str_at(o, "stage");
		fd_lead_view v;
		CHECK(id && shown && strcmp(shown, id) == 0);
		CHECK(fd_engine_lead(h.engine, id, T0, &v));
		CHECK(stage && strcmp(stage, fd_stage_name(v.stage)) == 0);
	}
	if (e->route == ROUTE_LEAD && r->status == 404 && e->has_id && e->id_len <= LEAD_ID_MAX &&
	    fd_utf8_valid(e->id, e->id_len)) {
		const char *shown = str_at(o, "lead_id");
		CHECK(shown && strcmp(shown, e->id) == 0);
	}
	json_object_put(o);
}

/* libevent's own error page (evhttp_send_error), not a reply of admin.c */
static bool is_libevent_page(const reply *r)
{
	return strncmp(r->content_type, "text/html", 9) == 0;
}

/* ---- one input ------------------------------------------------------------- */

static bool dropped_header(const char *line, size_t len)
{
	static const char *const names[] = { "content-length", "transfer-encoding", "expect" };
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return false;
	const char *s = line, *t = colon;
	while (s < t && (*s == ' ' || *s == '\t'))
		s++;
	while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
		t--;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((size_t)(t - s) == strlen(names[i]) && strncasecmp(s, names[i], (size_t)(t - s)) == 0)
			return true;
	return false;
}

static uint32_t fnv1a(const uint8_t *data, size_t size)
{
	uint32_t v = 2166136261u;
	for (size_t i = 0; i < size; i++)
		v = (v ^ data[i]) * 16777619u;
	return v;
}

/* Exchange one request (input format at the top) and check the replies. */
static void serve(const char *data, size_t size)
{
	const char *end = data + size;
	const char *eol = memchr(data, '\n', size);
	const char *line = data;
	size_t line_len = eol ? (size_t)(eol - data) : size;
	const char *p = eol ? eol + 1 : end;
	if (line_len && line[line_len - 1] == '\r')
		line_len--;

	struct evbuffer *headers = evbuffer_new();
	struct evbuffer *req = evbuffer_new();
	CHECK(headers && req);
	while (p < end) {
		const char *hend = memchr(p, '\n', (size_t)(end - p));
		size_t len = hend ? (size_t)(hend - p) : (size_t)(end - p);
		const char *next = hend ? hend + 1 : end;
		if (len && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			p = next;
			break;
		}
		if (!dropped_header(p, len)) {
			evbuffer_add(headers, p, len);
			evbuffer_add(headers, "\r\n", 2);
		}
		p = next;
	}
	const char *body = p;
	size_t body_len = (size_t)(end - p);
	bool with_body = body_len > 0 &&
	                 ((line_len >= 5 && memcmp(line, "POST ", 5) == 0) ||
	                  (line_len >= 4 && memcmp(line, "PUT ", 4) == 0) ||
	                  (line_len >= 6 && memcmp(line, "PATCH ", 6) == 0));
	bool head = line_len >= 5 && memcmp(line, "HEAD ", 5) == 0;
	if (with_body)
		evbuffer_add_printf(headers, "Content-Length: %zu\r\n", body_len);
	size_t headers_len = evbuffer_get_length(headers);
	const char *hbytes = headers_len ? (const char *)evbuffer_pullup(headers, -1) : "";
	/* libevent reads a header line as a C string: one that starts with a
	 * NUL ends the headers, and the rest is read as a request of its own,
	 * so nothing is pipelined behind such a request and only its first
	 * reply is waited for */
	bool in_step = !memchr(hbytes, '\0', headers_len);

	evbuffer_add(req, line, line_len);
	evbuffer_add(req, "\r\n", 2);
	evbuffer_add(req, hbytes, headers_len);
	evbuffer_add(req, "\r\n", 2);
	if (with_body)
		evbuffer_add(req, body, body_len);
	if (head && in_step) { /* the same as a GET */
		evbuffer_add(req, "GET", 3);
		evbuffer_add(req, line + 4, line_len - 4);
		evbuffer_add(req, "\r\n", 2);
		evbuffer_add(req, hbytes, headers_len);
		evbuffer_add(req, "\r\n", 2);
	}
	if (in_step)
		evbuffer_add(req, SENTINEL, strlen(SENTINEL));

	exchange x = { .head = head, .expected = !in_step ? 1 : head ? 3 : 2 };
	size_t req_len = evbuffer_get_length(req);
	exchange_run(&x, (const char *)evbuffer_pullup(req, -1), req_len);
	evbuffer_free(req);
	evbuffer_free(headers);

	expectation *e = malloc(sizeof *e);
	CHECK(e);
	expect_for(line, line_len, e);
	if (getenv("FUNNELD_FUZZ_VERBOSE"))
		fprintf(stderr, "%s: %zu replies, eof %d, received:\n%.*s\n", FUZZ_NAME, x.n_replies,
		        x.eof, (int)evbuffer_get_length(x.in), (const char *)evbuffer_pullup(x.in, -1));
	if (x.n_replies == 0) {
		fprintf(stderr, "%s: %zu bytes received, eof %d\n", FUZZ_NAME, evbuffer_get_length(x.in),
		        x.eof);
		fail("a complete request gets a reply");
	}
	const reply *r = &x.replies[0];
	if (is_libevent_page(r)) {
		/* the request never reached admin.c */
		CHECK(r->status == 400 || r->status == 413 || r->status == 501);
		CHECK(e->route == ROUTE_UNKNOWN || r->status != 501);
	} else {
		check_admin_reply(r, e, head);
		bool ours = true;
		for (size_t i = 1; i < x.n_replies && ours; i++) {
			const reply *n = &x.replies[i];
			if (is_libevent_page(n)) {
				ours = false; /* and the connection ends */
			} else if (head && i == 1) { /* the GET it mirrors */
				check_admin_reply(n, e, false);
				CHECK(n->status == r->status);
				CHECK(strcmp(n->content_type, r->content_type) == 0);
				CHECK(r->length == n->body_len);
			} else { /* the sentinel */
				CHECK(n->status == 200 && n->body_len == 3 && memcmp(n->body, "ok\n", 3) == 0);
			}
		}
		if (ours) /* nothing but whole replies after replies of ours */
			CHECK(!x.partial);
	}
	free(e);
	evbuffer_free(x.in);
}

/* "/v1/leads/" and `id` with every byte as %XX (all) or only the bytes a
 * path cannot hold as they are */
static void lead_target(const char *id, bool all, char *out, size_t size)
{
	static const char keep[] = "-._~!$&'()*+,;=:@";
	size_t n = (size_t)snprintf(out, size, "GET %s", LEADS_PREFIX);
	for (const unsigned char *c = (const unsigned char *)id; *c; c++) {
		bool plain = !all && *c < 0x80 && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		                                   (*c >= '0' && *c <= '9') || strchr(keep, *c));
		CHECK(n + 4 < size);
		if (plain)
			out[n++] = (char)*c;
		else
			n += (size_t)snprintf(out + n, size - n, "%%%02X", *c);
	}
	snprintf(out + n, size - n, " HTTP/1.1\nHost: x\n");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN); /* a write to a reset connection */
	fd_log_init(FD_LOG_ERR);
	fx_config(&h.rules);
	h.engine = fd_engine_new(&h.rules, N_LEADS);
	h.log = calloc(1, sizeof *h.log);
	h.base = event_base_new();
	CHECK(h.engine && h.log && h.base);
	leads();

	static fd_admin_source source = { src_engine, src_stats, src_ready,  src_status,
		                              src_now,    NULL,      src_turns, NULL };
	char err[256];
	h.admin = fd_admin_new(h.base, "127.0.0.1", 0, NULL, &source, err, sizeof err);
	if (!h.admin) {
		fprintf(stderr, "%s: %s\n", FUZZ_NAME, err);
		fail("the admin server starts");
	}
	h.addr.sin_family = AF_INET;
	h.addr.sin_port = htons((uint16_t)fd_admin_port(h.admin));
	h.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	/* every lead, by two encodings of its exact id */
	h.ready = h.has_engine = true;
	char request[4 * LEAD_ID_MAX + 64];
	for (size_t i = 0; i < h.n_ids; i++) {
		for (int all = 0; all < 2; all++) {
			lead_target(h.ids[i], all, request, sizeof request);
			expectation *e = malloc(sizeof *e);
			CHECK(e);
			expect_for(request, strcspn(request, "\n"), e);
			CHECK(e->route == ROUTE_LEAD && known_lead(e) == h.ids[i]);
			free(e);
			serve(request, strlen(request));
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		size = MAX_INPUT;
	uint32_t hash = fnv1a(data, size);
	h.ready = hash % 4 != 0;
	h.has_engine = hash % 8 != 1;
	serve((const char *)data, size);
	return 0;
}
