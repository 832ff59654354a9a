/*
 * fuzz_json.c — libFuzzer target for the JSON input decoders (src/wire/
 * json.c): Segment track / page / identify calls and plain objects, decoded
 * as an engagement event, a profile and a sales activity in turn.
 *
 * fuzz_wire reaches the same code behind a selector byte; this target feeds
 * the text as it is, so the seeds are plain JSON files and every input goes
 * through all three decoders. What it holds the decoders to (funneld/wire.h):
 *  - success: every string non-NULL and readable to its terminator
 *    (AddressSanitizer sees a dangling or unterminated one), lead_id not
 *    empty; engagement: occurred_at_ms > 0 and a type; activity:
 *    occurred_at_ms > 0, kind and reason in range; profile: a technologies
 *    array behind any count; properties only after an engagement decode;
 *    no schema id (-1) after a JSON decode;
 *  - failure: -1, a "json: " reason, *out all zero, no properties;
 *  - purity: a second decode of the same bytes into another arena, with
 *    errstr NULL or a tiny buffer, gives the same answer and the same
 *    fields;
 *  - ids are whole: lead_id, event_id and activity_id, read where the
 *    decoder reads them (a re-parse of the input with json-c), hold no NUL
 *    ("a\u0000b" must be refused, not cut to "a"; json.c refuses it since
 *    the "identities are text" change).
 *
 *  - ids are text: valid UTF-8 (RFC 3629: no overlong forms, surrogates or
 *    code points above U+10FFFF, which json-c's own check lets through);
 *    json.c refuses them since fuzz_json found them
 *    (tests/fuzz/crashes/fuzz_json/json-utf8-*).
 *
 * Build: cmake -DFUNNELD_FUZZ=ON -DFUNNELD_SANITIZE=ON -DCMAKE_C_COMPILER=clang
 *        -DFUNNELD_TESTS=OFF -DFUNNELD_BENCH=OFF; then e.g.
 *        mkdir run && ./fuzz_json -max_total_time=60 -dict=tests/fuzz/json.dict
 *        run tests/fuzz/corpus/json
 * (or scripts/fuzz.sh, which builds and runs every target). The seeds are
 * plain JSON documents, no selector byte.
 * Not a unit test: tests/unit/test_wire.c pins the behaviour.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/wire.h"

#define FUZZ_NAME "fuzz_json"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static fd_wire_arena *arena, *arena2;
static volatile size_t sink; /* keeps the string reads from being optimised out */


static void touch(const char *s)
{
	CHECK(s != NULL); /* decoded strings are never NULL */
	sink += strlen(s);
}

static bool same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena = fd_wire_arena_new();
	arena2 = fd_wire_arena_new();
	if (!arena || !arena2)
		abort();
	return 0;
}

/* ---- ids: no NUL, valid UTF-8 ------------------------------------------------ */

/* Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF. */
static bool valid_utf8(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	while (*s) {
		unsigned c = *s;
		int n;
		unsigned min;
		if (c < 0x80) {
			s++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (s[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

/* The member the decoder reads (null counts as absent), or NULL. */
static json_object *member(json_object *obj, const char *name)
{
	json_object *v = NULL;
	if (!obj || !json_object_object_get_ex(obj, name, &v))
		return NULL;
	return v;
}

static json_object *member2(json_object *obj, const char *name, const char *alt)
{
	json_object *v = member(obj, name);
	return v ? v : member(obj, alt);
}

/* What json.c's segment_call() decides. */
static bool segment_shaped(json_object *root)
{
	static const char *const calls[] = { "track", "page", "identify", "screen", "group", "alias" };
	json_object *t = member(root, "type");
	if (t && json_object_is_type(t, json_type_string))
		for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
			if (same(json_object_get_string(t), calls[i]))
				return true;
	return member(root, "userId") || member(root, "anonymousId") || member(root, "messageId");
}

/* The decoded id must be the whole JSON string it came from (a NUL inside
 * the string would cut it short) and, when strict, valid UTF-8. */
static void check_id(const char *decoded, json_object *from, const char *what)
{
	if (!valid_utf8(decoded)) {
		fprintf(stderr, "fuzz_json: invariant broken: %s is not valid UTF-8\n", what);
		abort();
	}
	if (from && json_object_is_type(from, json_type_string) &&
	    (size_t)json_object_get_string_len(from) != strlen(json_object_get_string(from))) {
		fprintf(stderr, "fuzz_json: invariant broken: %s holds a NUL; decoded as \"%s\"\n", what,
		        decoded);
		abort();
	}
}

enum { KIND_ENGAGEMENT, KIND_PROFILE, KIND_ACTIVITY };

static void check_ids(const char *text, size_t len, int kind, const char *lead_id,
                      const char *other_id)
{
	json_tokener *tok = json_tokener_new();
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
	                            JSON_TOKENER_ALLOW_TRAILING_CHARS);
	size_t start = 0;
	while (start < len && strchr(" \t\r\n", text[start]) && text[start])
		start++;
	json_object *root = json_tokener_parse_ex(tok, text + start, (int)(len - start));
	json_tokener_free(tok);
	if (!root)
		return;
	bool segment = kind != KIND_ACTIVITY && segment_shaped(root);
	check_id(lead_id, segment ? member(root, "userId") : member2(root, "lead_id", "leadId"),
	         "lead_id");
	if (kind == KIND_ENGAGEMENT)
		check_id(other_id, segment ? member(root, "messageId")
		                           : member2(root, "event_id", "eventId"), "event_id");
	if (kind == KIND_ACTIVITY)
		check_id(other_id, member2(root, "activity_id", "activityId"), "activity_id");
	json_object_put(root);
}

/* ---- the three decoders ---------------------------------------------------------- */

static void check_failure(int rc, const char *err, const void *out, size_t out_size)
{
	CHECK(rc == -1);
	CHECK(strncmp(err, "json: ", 6) == 0);
	CHECK(all_zero(out, out_size));
	const fd_wire_property *props;
	CHECK(fd_wire_arena_properties(arena, &props) == 0);
}

/* errstr for the second decode: NULL or 1..7 bytes, from the input. */
static char *small_err(const uint8_t *data, size_t size, char buf[8], size_t *n)
{
	*n = size ? data[size - 1] % 8 : 0;
	return *n ? buf : NULL;
}

static void engagement(const uint8_t *data, size_t size)
{
	fd_engagement ev, ev2;
	char err[256], tiny[8];
	size_t tiny_n;
	int rc = fd_wire_decode_engagement(FD_ENCODING_JSON, data, size, arena, &ev, err, sizeof err);
	if (rc != 0) {
		check_failure(rc, err, &ev, sizeof ev);
	} else {
		touch(ev.event_id);
		touch(ev.lead_id);
		touch(ev.account_id);
		touch(ev.type);
		touch(ev.channel);
		touch(ev.content_id);
		touch(ev.url);
		touch(ev.campaign);
		CHECK(*ev.lead_id);
		CHECK(*ev.type);
		CHECK(ev.occurred_at_ms > 0);
		CHECK(fd_wire_arena_schema_id(arena) == -1);
		const fd_wire_property *props;
		size_t n = fd_wire_arena_properties(arena, &props);
		CHECK(n == 0 || props != NULL);
		for (size_t i = 0; i < n; i++) {
			touch(props[i].key);
			touch(props[i].value);
		}
		check_ids((const char *)data, size, KIND_ENGAGEMENT, ev.lead_id, ev.event_id);
	}

	char *e2 = small_err(data, size, tiny, &tiny_n);
	int rc2 = fd_wire_decode_engagement(FD_ENCODING_JSON, data, size, arena2, &ev2, e2, tiny_n);
	CHECK(rc2 == rc);
	CHECK(rc2 == 0 || !e2 || memchr(e2, '\0', tiny_n) != NULL);
	if (rc == 0) {
		CHECK(same(ev.event_id, ev2.event_id) && same(ev.lead_id, ev2.lead_id) &&
		      same(ev.account_id, ev2.account_id) && same(ev.type, ev2.type) &&
		      same(ev.channel, ev2.channel) && same(ev.content_id, ev2.content_id) &&
		      same(ev.url, ev2.url) && same(ev.campaign, ev2.campaign) &&
		      ev.occurred_at_ms == ev2.occurred_at_ms && ev.partition == ev2.partition &&
		      ev.position == ev2.position);
		const fd_wire_property *p1, *p2;
		size_t n1 = fd_wire_arena_properties(arena, &p1);
		CHECK(fd_wire_arena_properties(arena2, &p2) == n1);
		for (size_t i = 0; i < n1; i++)
			CHECK(same(p1[i].key, p2[i].key) && same(p1[i].value, p2[i].value));
	}
}

static void profile(const uint8_t *data, size_t size)
{
	fd_profile p, p2;
	char err[256], tiny[8];
	size_t tiny_n;
	int rc = fd_wire_decode_profile(FD_ENCODING_JSON, data, size, arena, &p, err, sizeof err);
	if (rc != 0) {
		check_failure(rc, err, &p, sizeof p);
	} else {
		touch(p.lead_id);
		touch(p.email);
		touch(p.job_title);
		touch(p.seniority);
		touch(p.department);
		touch(p.industry);
		touch(p.country);
		touch(p.lead_source);
		touch(p.owner_id);
		CHECK(*p.lead_id);
		CHECK(p.n_technologies == 0 || p.technologies != NULL);
		for (size_t i = 0; i < p.n_technologies; i++)
			touch(p.technologies[i]);
		const fd_wire_property *props;
		CHECK(fd_wire_arena_properties(arena, &props) == 0);
		CHECK(fd_wire_arena_schema_id(arena) == -1);
		check_ids((const char *)data, size, KIND_PROFILE, p.lead_id, "");
	}

	char *e2 = small_err(data, size, tiny, &tiny_n);
	int rc2 = fd_wire_decode_profile(FD_ENCODING_JSON, data, size, arena2, &p2, e2, tiny_n);
	CHECK(rc2 == rc);
	CHECK(rc2 == 0 || !e2 || memchr(e2, '\0', tiny_n) != NULL);
	if (rc == 0) {
		CHECK(same(p.lead_id, p2.lead_id) && same(p.email, p2.email) &&
		      same(p.job_title, p2.job_title) && same(p.seniority, p2.seniority) &&
		      same(p.department, p2.department) && same(p.industry, p2.industry) &&
		      same(p.country, p2.country) && same(p.lead_source, p2.lead_source) &&
		      same(p.owner_id, p2.owner_id) && p.updated_at_ms == p2.updated_at_ms &&
		      p.employee_count == p2.employee_count && p.annual_revenue == p2.annual_revenue &&
		      p.n_technologies == p2.n_technologies);
		for (size_t i = 0; i < p.n_technologies; i++)
			CHECK(same(p.technologies[i], p2.technologies[i]));
	}
}

static void activity(const uint8_t *data, size_t size)
{
	fd_activity a, a2;
	char err[256], tiny[8];
	size_t tiny_n;
	int rc = fd_wire_decode_activity(FD_ENCODING_JSON, data, size, arena, &a, err, sizeof err);
	if (rc != 0) {
		check_failure(rc, err, &a, sizeof a);
	} else {
		touch(a.activity_id);
		touch(a.lead_id);
		touch(a.rep_id);
		touch(a.note);
		CHECK(*a.lead_id);
		CHECK(a.occurred_at_ms > 0);
		CHECK((unsigned)a.kind < FD_ACT_COUNT);
		CHECK((unsigned)a.reason < FD_REASON_COUNT);
		const fd_wire_property *props;
		CHECK(fd_wire_arena_properties(arena, &props) == 0);
		CHECK(fd_wire_arena_schema_id(arena) == -1);
		check_ids((const char *)data, size, KIND_ACTIVITY, a.lead_id, a.activity_id);
	}

	char *e2 = small_err(data, size, tiny, &tiny_n);
	int rc2 = fd_wire_decode_activity(FD_ENCODING_JSON, data, size, arena2, &a2, e2, tiny_n);
	CHECK(rc2 == rc);
	CHECK(rc2 == 0 || !e2 || memchr(e2, '\0', tiny_n) != NULL);
	if (rc == 0)
		CHECK(same(a.activity_id, a2.activity_id) && same(a.lead_id, a2.lead_id) &&
		      same(a.rep_id, a2.rep_id) && same(a.note, a2.note) &&
		      a.occurred_at_ms == a2.occurred_at_ms && a.kind == a2.kind &&
		      a.reason == a2.reason && a.review_after_days == a2.review_after_days);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	engagement(data, size);
	profile(data, size);
	activity(data, size);
	fd_wire_arena_reset(arena);
	fd_wire_arena_reset(arena2);
	return 0;
}
