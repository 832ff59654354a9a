/*
 * test_wire.c — the codecs of src/wire/ alone: every input encoding decoded
 * to exact field values, the exact dead-letter reasons for malformed input,
 * and the outputs encoded, read back with the generated protobuf-c code,
 * and checked for determinism.
 *
 * Input bytes are built here by hand (protobuf-c's generated pack functions,
 * Confluent framing written byte by byte, JSON literals), never with the
 * code under test. No engine, no Kafka.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "funneld/v1/inputs.pb-c.h"
#include "funneld/v1/outputs.pb-c.h"
#include "funneld/wire.h"

/* ---- fixtures and helpers ------------------------------------------------- */

static fd_wire_arena *arena;
static char err[256];

static void setup(void)
{
	arena = fd_wire_arena_new();
	cr_assert_not_null(arena);
	err[0] = '\0';
}

static void teardown(void)
{
	fd_wire_arena_free(arena);
}

TestSuite(wire, .init = setup, .fini = teardown);

typedef struct bytes {
	uint8_t *data;
	size_t len;
} bytes;

static bytes pack_message(const ProtobufCMessage *m)
{
	bytes b;
	b.len = protobuf_c_message_get_packed_size(m);
	b.data = malloc(b.len ? b.len : 1);
	cr_assert_not_null(b.data);
	cr_assert_eq(protobuf_c_message_pack(m, b.data), b.len);
	return b;
}

/* Confluent framing: magic 0, big-endian schema id, then `index` (already
 * encoded message-index bytes), then the payload. */
static bytes confluent_frame(uint32_t schema_id, const uint8_t *index, size_t n_index,
                             bytes payload)
{
	bytes b;
	b.len = 5 + n_index + payload.len;
	b.data = malloc(b.len);
	cr_assert_not_null(b.data);
	b.data[0] = 0;
	b.data[1] = (uint8_t)(schema_id >> 24);
	b.data[2] = (uint8_t)(schema_id >> 16);
	b.data[3] = (uint8_t)(schema_id >> 8);
	b.data[4] = (uint8_t)schema_id;
	memcpy(b.data + 5, index, n_index);
	memcpy(b.data + 5 + n_index, payload.data, payload.len);
	return b;
}

static bytes sample_engagement_bytes(void)
{
	Funneld__V1__EngagementEvent m;
	Funneld__V1__EngagementEvent__PropertiesEntry e1, e2;
	Funneld__V1__EngagementEvent__PropertiesEntry *entries[2] = { &e1, &e2 };

	funneld__v1__engagement_event__init(&m);
	funneld__v1__engagement_event__properties_entry__init(&e1);
	funneld__v1__engagement_event__properties_entry__init(&e2);
	m.event_id = "evt-1";
	m.lead_id = "lead-42";
	m.account_id = "acct-7";
	m.occurred_at_ms = 1767323045678;
	m.type = "webinar_attended";
	m.channel = "event";
	m.content_id = "webinar-kafka-101";
	m.url = "https://example.com/webinars/kafka-101";
	m.campaign = "q1-launch";
	e1.key = "utm_source";
	e1.value = "newsletter";
	e2.key = "duration_min";
	e2.value = "45";
	m.n_properties = 2;
	m.properties = entries;
	return pack_message(&m.base);
}

static void assert_sample_engagement(const fd_engagement *ev)
{
	cr_assert_str_eq(ev->event_id, "evt-1");
	cr_assert_str_eq(ev->lead_id, "lead-42");
	cr_assert_str_eq(ev->account_id, "acct-7");
	cr_assert_eq(ev->occurred_at_ms, 1767323045678);
	cr_assert_str_eq(ev->type, "webinar_attended");
	cr_assert_str_eq(ev->channel, "event");
	cr_assert_str_eq(ev->content_id, "webinar-kafka-101");
	cr_assert_str_eq(ev->url, "https://example.com/webinars/kafka-101");
	cr_assert_str_eq(ev->campaign, "q1-launch");
}

static bytes sample_profile_bytes(void)
{
	Funneld__V1__LeadProfile m;
	char *tech[] = { "kafka", "postgres", "kubernetes" };

	funneld__v1__lead_profile__init(&m);
	m.lead_id = "lead-42";
	m.updated_at_ms = 1767000000000;
	m.email = "ada@example.com";
	m.job_title = "VP Engineering";
	m.seniority = "vp";
	m.department = "engineering";
	m.industry = "software";
	m.country = "DE";
	m.employee_count = 850;
	m.annual_revenue = 120000000;
	m.n_technologies = 3;
	m.technologies = tech;
	m.lead_source = "webinar";
	m.owner_id = "rep-9";
	return pack_message(&m.base);
}

static void assert_sample_profile(const fd_profile *p)
{
	cr_assert_str_eq(p->lead_id, "lead-42");
	cr_assert_eq(p->updated_at_ms, 1767000000000);
	cr_assert_str_eq(p->email, "ada@example.com");
	cr_assert_str_eq(p->job_title, "VP Engineering");
	cr_assert_str_eq(p->seniority, "vp");
	cr_assert_str_eq(p->department, "engineering");
	cr_assert_str_eq(p->industry, "software");
	cr_assert_str_eq(p->country, "DE");
	cr_assert_eq(p->employee_count, 850);
	cr_assert_eq(p->annual_revenue, 120000000);
	cr_assert_eq(p->n_technologies, 3);
	cr_assert_str_eq(p->technologies[0], "kafka");
	cr_assert_str_eq(p->technologies[1], "postgres");
	cr_assert_str_eq(p->technologies[2], "kubernetes");
	cr_assert_str_eq(p->lead_source, "webinar");
	cr_assert_str_eq(p->owner_id, "rep-9");
}

static bytes sample_activity_bytes(Funneld__V1__ActivityKind kind)
{
	Funneld__V1__SalesActivity m;

	funneld__v1__sales_activity__init(&m);
	m.activity_id = "act-3";
	m.lead_id = "lead-42";
	m.occurred_at_ms = 1767400000000;
	m.rep_id = "rep-9";
	m.kind = kind;
	m.reason = FUNNELD__V1__REASON__REASON_BAD_TIMING;
	m.note = "budget next quarter";
	m.review_after_days = 60;
	return pack_message(&m.base);
}

static int decode_json_engagement(const char *json, fd_engagement *ev)
{
	return fd_wire_decode_engagement(FD_ENCODING_JSON, json, strlen(json), arena, ev,
	                                 err, sizeof(err));
}

static int decode_json_profile(const char *json, fd_profile *p)
{
	return fd_wire_decode_profile(FD_ENCODING_JSON, json, strlen(json), arena, p,
	                              err, sizeof(err));
}

static int decode_json_activity(const char *json, fd_activity *act)
{
	return fd_wire_decode_activity(FD_ENCODING_JSON, json, strlen(json), arena, act,
	                               err, sizeof(err));
}

/* ---- protobuf inputs ------------------------------------------------------ */

Test(wire, protobuf_engagement_decodes_every_field)
{
	bytes b = sample_engagement_bytes();
	fd_engagement ev;

	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &ev,
	                                       err, sizeof(err)), 0, "%s", err);
	assert_sample_engagement(&ev);

	const fd_wire_property *props;
	cr_assert_eq(fd_wire_arena_properties(arena, &props), 2);
	cr_assert_str_eq(props[0].key, "utm_source");
	cr_assert_str_eq(props[0].value, "newsletter");
	cr_assert_str_eq(props[1].key, "duration_min");
	cr_assert_str_eq(props[1].value, "45");
	cr_assert_eq(fd_wire_arena_schema_id(arena), -1);
	free(b.data);
}

Test(wire, protobuf_absent_strings_decode_as_empty_not_null)
{
	Funneld__V1__EngagementEvent m;
	funneld__v1__engagement_event__init(&m);
	m.lead_id = "lead-1";
	m.occurred_at_ms = 5;
	m.type = "page_view";
	bytes b = pack_message(&m.base);
	fd_engagement ev;

	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &ev,
	                                       err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(ev.event_id, "");
	cr_assert_str_eq(ev.account_id, "");
	cr_assert_str_eq(ev.channel, "");
	cr_assert_str_eq(ev.content_id, "");
	cr_assert_str_eq(ev.url, "");
	cr_assert_str_eq(ev.campaign, "");
	free(b.data);
}

Test(wire, protobuf_profile_decodes_every_field)
{
	bytes b = sample_profile_bytes();
	fd_profile p;

	cr_assert_eq(fd_wire_decode_profile(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &p,
	                                    err, sizeof(err)), 0, "%s", err);
	assert_sample_profile(&p);
	free(b.data);
}

Test(wire, protobuf_activity_maps_kind_and_reason_explicitly)
{
	bytes b = sample_activity_bytes(FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_REJECT);
	fd_activity act;

	cr_assert_eq(fd_wire_decode_activity(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &act,
	                                     err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(act.activity_id, "act-3");
	cr_assert_str_eq(act.lead_id, "lead-42");
	cr_assert_eq(act.occurred_at_ms, 1767400000000);
	cr_assert_str_eq(act.rep_id, "rep-9");
	cr_assert_eq(act.kind, FD_ACT_REJECT);
	cr_assert_eq(act.reason, FD_REASON_BAD_TIMING);
	cr_assert_str_eq(act.note, "budget next quarter");
	cr_assert_eq(act.review_after_days, 60);
	free(b.data);
}

Test(wire, protobuf_every_activity_kind_round_trips)
{
	static const struct {
		Funneld__V1__ActivityKind proto;
		fd_activity_kind kind;
	} cases[] = {
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_ASSIGN, FD_ACT_ASSIGN },
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_TOUCH, FD_ACT_TOUCH },
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_ACCEPT, FD_ACT_ACCEPT },
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_REJECT, FD_ACT_REJECT },
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_REVERT, FD_ACT_REVERT },
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_QUALIFY, FD_ACT_QUALIFY },
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_OPPORTUNITY, FD_ACT_OPPORTUNITY },
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_WON, FD_ACT_WON },
		{ FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_LOST, FD_ACT_LOST },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bytes b = sample_activity_bytes(cases[i].proto);
		fd_activity act;
		cr_assert_eq(fd_wire_decode_activity(FD_ENCODING_PROTOBUF, b.data, b.len, arena,
		                                     &act, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(act.kind, cases[i].kind, "case %zu", i);
		free(b.data);
	}
}

/* ---- Confluent framing ---------------------------------------------------- */

Test(wire, confluent_engagement_with_index_shorthand)
{
	bytes payload = sample_engagement_bytes();
	const uint8_t index[] = { 0x00 }; /* the single 0 byte: [0] */
	bytes b = confluent_frame(0x01020304, index, sizeof(index), payload);
	fd_engagement ev;

	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, b.data, b.len,
	                                       arena, &ev, err, sizeof(err)), 0, "%s", err);
	assert_sample_engagement(&ev);
	cr_assert_eq(fd_wire_arena_schema_id(arena), 0x01020304);
	free(b.data);
	free(payload.data);
}

Test(wire, confluent_engagement_with_explicit_index_array)
{
	bytes payload = sample_engagement_bytes();
	/* count 2 (zigzag 4), indexes 1 (zigzag 2) and 70 (zigzag 140: 0x8c 0x01) */
	const uint8_t index[] = { 0x04, 0x02, 0x8c, 0x01 };
	bytes b = confluent_frame(42, index, sizeof(index), payload);
	fd_engagement ev;

	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, b.data, b.len,
	                                       arena, &ev, err, sizeof(err)), 0, "%s", err);
	assert_sample_engagement(&ev);
	cr_assert_eq(fd_wire_arena_schema_id(arena), 42);
	free(b.data);
	free(payload.data);
}

Test(wire, confluent_profile_and_activity_decode)
{
	const uint8_t index[] = { 0x00 };
	bytes pp = sample_profile_bytes();
	bytes pb = confluent_frame(7, index, sizeof(index), pp);
	fd_profile p;
	cr_assert_eq(fd_wire_decode_profile(FD_ENCODING_CONFLUENT_PROTOBUF, pb.data, pb.len,
	                                    arena, &p, err, sizeof(err)), 0, "%s", err);
	assert_sample_profile(&p);

	bytes ap = sample_activity_bytes(FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_ACCEPT);
	bytes ab = confluent_frame(8, index, sizeof(index), ap);
	fd_activity act;
	cr_assert_eq(fd_wire_decode_activity(FD_ENCODING_CONFLUENT_PROTOBUF, ab.data, ab.len,
	                                     arena, &act, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(act.kind, FD_ACT_ACCEPT);
	cr_assert_str_eq(act.lead_id, "lead-42");
	cr_assert_eq(fd_wire_arena_schema_id(arena), 8);
	free(pp.data);
	free(pb.data);
	free(ap.data);
	free(ab.data);
}

Test(wire, confluent_bad_magic_byte_is_rejected)
{
	const char *json = "{\"userId\":\"x\"}";
	fd_engagement ev;
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, json, strlen(json),
	                                       arena, &ev, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "confluent: bad magic byte 0x7b (expected 0x00)");
}

Test(wire, confluent_truncated_header_is_rejected)
{
	const uint8_t b[] = { 0x00, 0x00, 0x01 };
	fd_engagement ev;
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, b, sizeof(b),
	                                       arena, &ev, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "confluent: truncated header (3 of 5 bytes)");
}

Test(wire, confluent_truncated_index_array_is_rejected)
{
	fd_engagement ev;
	/* header only: the index array is missing */
	const uint8_t header_only[] = { 0x00, 0x00, 0x00, 0x00, 0x2a };
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, header_only,
	                                       sizeof(header_only), arena, &ev,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "confluent: truncated message-index array");

	/* count 3 (zigzag 6) but only one index */
	const uint8_t short_array[] = { 0x00, 0x00, 0x00, 0x00, 0x2a, 0x06, 0x02 };
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, short_array,
	                                       sizeof(short_array), arena, &ev,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "confluent: truncated message-index array");

	/* a varint cut in the middle */
	const uint8_t cut_varint[] = { 0x00, 0x00, 0x00, 0x00, 0x2a, 0x02, 0x80 };
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, cut_varint,
	                                       sizeof(cut_varint), arena, &ev,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "confluent: truncated message-index array");
}

Test(wire, confluent_negative_index_count_is_rejected)
{
	const uint8_t b[] = { 0x00, 0x00, 0x00, 0x00, 0x2a, 0x01 }; /* zigzag 1 = -1 */
	fd_engagement ev;
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, b, sizeof(b),
	                                       arena, &ev, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "confluent: negative message-index count -1");
}

Test(wire, confluent_empty_value_is_rejected)
{
	fd_engagement ev;
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, "", 0,
	                                       arena, &ev, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "confluent: empty message");
}

/* ---- protobuf errors ------------------------------------------------------ */

Test(wire, protobuf_garbage_bytes_are_rejected_and_output_zeroed)
{
	const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x13, 0x37 };
	fd_engagement ev;
	memset(&ev, 0xab, sizeof(ev));
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, garbage, sizeof(garbage),
	                                       arena, &ev, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: malformed EngagementEvent");
	cr_assert_null(ev.lead_id);
	cr_assert_eq(ev.occurred_at_ms, 0);

	fd_profile p;
	cr_assert_eq(fd_wire_decode_profile(FD_ENCODING_PROTOBUF, garbage, sizeof(garbage),
	                                    arena, &p, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: malformed LeadProfile");

	fd_activity act;
	cr_assert_eq(fd_wire_decode_activity(FD_ENCODING_PROTOBUF, garbage, sizeof(garbage),
	                                     arena, &act, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: malformed SalesActivity");
}

Test(wire, protobuf_missing_required_fields_are_named)
{
	Funneld__V1__EngagementEvent m;
	fd_engagement ev;
	funneld__v1__engagement_event__init(&m);
	m.occurred_at_ms = 1000;
	m.type = "page_view";
	bytes b = pack_message(&m.base);
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &ev,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: missing lead_id");
	free(b.data);

	m.lead_id = "lead-1";
	m.occurred_at_ms = 0;
	b = pack_message(&m.base);
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &ev,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: missing occurred_at_ms");
	free(b.data);

	m.occurred_at_ms = 1000;
	m.type = "";
	b = pack_message(&m.base);
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &ev,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: missing type");
	free(b.data);
}

Test(wire, protobuf_unknown_activity_kind_is_rejected)
{
	bytes b = sample_activity_bytes((Funneld__V1__ActivityKind)42);
	fd_activity act;
	cr_assert_eq(fd_wire_decode_activity(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &act,
	                                     err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: unknown activity kind 42");
	free(b.data);

	b = sample_activity_bytes(FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_UNSPECIFIED);
	cr_assert_eq(fd_wire_decode_activity(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &act,
	                                     err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: missing kind");
	free(b.data);
}

Test(wire, unknown_encoding_is_rejected)
{
	fd_engagement ev;
	cr_assert_eq(fd_wire_decode_engagement((fd_encoding)9, "x", 1, arena, &ev,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "wire: unknown encoding 9");
}

Test(wire, errstr_is_truncated_to_its_size)
{
	char small[10];
	const uint8_t b[] = { 0x7b };
	fd_engagement ev;
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, b, sizeof(b),
	                                       arena, &ev, small, sizeof(small)), -1);
	cr_assert_str_eq(small, "confluent");
	/* no errstr at all is fine too */
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_CONFLUENT_PROTOBUF, b, sizeof(b),
	                                       arena, &ev, NULL, 0), -1);
}

/* ---- JSON: Segment calls -------------------------------------------------- */

Test(wire, json_segment_track_maps_every_field)
{
	const char *json =
		"{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"msg-1\","
		"\"userId\":\"lead-42\",\"anonymousId\":\"anon-1\","
		"\"timestamp\":\"2026-01-02T03:04:05.678Z\","
		"\"properties\":{\"channel\":\"web\",\"content_id\":\"pricing-page\","
		"\"account_id\":\"acct-7\",\"plan\":\"enterprise\",\"seats\":25,\"trial\":true,"
		"\"tags\":[\"a\",\"b\"],\"ignored\":null},"
		"\"context\":{\"page\":{\"url\":\"https://example.com/demo\"},"
		"\"campaign\":{\"name\":\"spring-promo\",\"source\":\"google\"}}}";
	fd_engagement ev;

	cr_assert_eq(decode_json_engagement(json, &ev), 0, "%s", err);
	cr_assert_str_eq(ev.event_id, "msg-1");
	cr_assert_str_eq(ev.lead_id, "lead-42");
	cr_assert_str_eq(ev.account_id, "acct-7");
	cr_assert_eq(ev.occurred_at_ms, 1767323045678);
	cr_assert_str_eq(ev.type, "demo_request");
	cr_assert_str_eq(ev.channel, "web");
	cr_assert_str_eq(ev.content_id, "pricing-page");
	cr_assert_str_eq(ev.url, "https://example.com/demo");
	cr_assert_str_eq(ev.campaign, "spring-promo");

	const fd_wire_property *props;
	size_t n = fd_wire_arena_properties(arena, &props);
	cr_assert_eq(n, 7);
	cr_assert_str_eq(props[3].key, "plan");
	cr_assert_str_eq(props[3].value, "enterprise");
	cr_assert_str_eq(props[4].key, "seats");
	cr_assert_str_eq(props[4].value, "25");
	cr_assert_str_eq(props[5].value, "true");
	cr_assert_str_eq(props[6].key, "tags");
	cr_assert_str_eq(props[6].value, "[\"a\",\"b\"]");
}

Test(wire, json_segment_event_names_are_normalised)
{
	static const struct {
		const char *event, *type;
	} cases[] = {
		{ "demo_request", "demo_request" },
		{ "Demo Requested", "demo_request" },
		{ "Email Link Clicked", "email_click" },
		{ "Email Opened", "email_open" },
		{ "Content Downloaded", "content_download" },
		{ "Webinar Attended", "webinar_attended" },
		{ "Form Submitted", "form_submit" },
		{ "Unsubscribed", "unsubscribe" },
		{ "Pricing Viewed", "pricing_view" },
		{ "  Case-Study  Read ", "case_study_read" },
	};
	char json[256];
	fd_engagement ev;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(json, sizeof(json),
		         "{\"type\":\"track\",\"event\":\"%s\",\"userId\":\"u\","
		         "\"timestamp\":\"2026-01-02T03:04:05Z\"}", cases[i].event);
		cr_assert_eq(decode_json_engagement(json, &ev), 0, "%s", err);
		cr_assert_str_eq(ev.type, cases[i].type, "event \"%s\"", cases[i].event);
	}
}

Test(wire, json_segment_page_becomes_page_view)
{
	const char *json =
		"{\"type\":\"page\",\"name\":\"Pricing\",\"messageId\":\"m-2\",\"userId\":\"lead-1\","
		"\"timestamp\":\"2026-01-02T05:04:05.678+02:00\","
		"\"properties\":{\"url\":\"https://example.com/pricing\",\"title\":\"Pricing\"},"
		"\"context\":{\"page\":{\"url\":\"https://example.com/ignored\"}}}";
	fd_engagement ev;

	cr_assert_eq(decode_json_engagement(json, &ev), 0, "%s", err);
	cr_assert_str_eq(ev.type, "page_view");
	cr_assert_str_eq(ev.event_id, "m-2");
	cr_assert_str_eq(ev.lead_id, "lead-1");
	cr_assert_eq(ev.occurred_at_ms, 1767323045678);
	cr_assert_str_eq(ev.url, "https://example.com/pricing");
	cr_assert_str_eq(ev.content_id, "Pricing");
	cr_assert_str_eq(ev.channel, "web");
	cr_assert_str_eq(ev.campaign, "");
	cr_assert_str_eq(ev.account_id, "");
}

Test(wire, json_segment_page_takes_url_from_context_and_content_from_properties)
{
	const char *json =
		"{\"type\":\"page\",\"name\":\"Docs\",\"userId\":\"lead-1\","
		"\"timestamp\":\"2026-01-02T03:04:05Z\","
		"\"properties\":{\"content_id\":\"doc-7\",\"channel\":\"paid\"},"
		"\"context\":{\"page\":{\"url\":\"https://example.com/docs\"},\"groupId\":\"acct-3\"}}";
	fd_engagement ev;

	cr_assert_eq(decode_json_engagement(json, &ev), 0, "%s", err);
	cr_assert_str_eq(ev.url, "https://example.com/docs");
	cr_assert_str_eq(ev.content_id, "doc-7");
	cr_assert_str_eq(ev.channel, "paid");
	cr_assert_str_eq(ev.account_id, "acct-3");
	cr_assert_str_eq(ev.event_id, "");
}

Test(wire, json_segment_identify_maps_traits_to_profile)
{
	const char *json =
		"{\"type\":\"identify\",\"userId\":\"lead-42\",\"messageId\":\"m-3\","
		"\"timestamp\":\"2026-01-02T03:04:05.678Z\","
		"\"traits\":{\"email\":\"ada@example.com\",\"title\":\"VP Engineering\","
		"\"seniority\":\"vp\",\"department\":\"engineering\",\"industry\":\"software\","
		"\"country\":\"DE\",\"employees\":850,\"annual_revenue\":\"120000000\","
		"\"technologies\":[\"kafka\",\"postgres\"],\"lead_source\":\"webinar\","
		"\"owner_id\":\"rep-9\",\"firstName\":\"Ada\"}}";
	fd_profile p;

	cr_assert_eq(decode_json_profile(json, &p), 0, "%s", err);
	cr_assert_str_eq(p.lead_id, "lead-42");
	cr_assert_eq(p.updated_at_ms, 1767323045678);
	cr_assert_str_eq(p.email, "ada@example.com");
	cr_assert_str_eq(p.job_title, "VP Engineering");
	cr_assert_str_eq(p.seniority, "vp");
	cr_assert_str_eq(p.department, "engineering");
	cr_assert_str_eq(p.industry, "software");
	cr_assert_str_eq(p.country, "DE");
	cr_assert_eq(p.employee_count, 850);
	cr_assert_eq(p.annual_revenue, 120000000);
	cr_assert_eq(p.n_technologies, 2);
	cr_assert_str_eq(p.technologies[0], "kafka");
	cr_assert_str_eq(p.technologies[1], "postgres");
	cr_assert_str_eq(p.lead_source, "webinar");
	cr_assert_str_eq(p.owner_id, "rep-9");
}

Test(wire, json_segment_identify_falls_back_to_company_and_address)
{
	const char *json =
		"{\"type\":\"identify\",\"userId\":12345,\"timestamp\":\"2026-01-02T03:04:05Z\","
		"\"traits\":{\"jobTitle\":\"CTO\",\"leadSource\":\"event\",\"ownerId\":\"rep-1\","
		"\"company\":{\"industry\":\"fintech\",\"employee_count\":40},"
		"\"address\":{\"country\":\"FR\"}}}";
	fd_profile p;

	cr_assert_eq(decode_json_profile(json, &p), 0, "%s", err);
	cr_assert_str_eq(p.lead_id, "12345");
	cr_assert_str_eq(p.job_title, "CTO");
	cr_assert_str_eq(p.lead_source, "event");
	cr_assert_str_eq(p.owner_id, "rep-1");
	cr_assert_str_eq(p.industry, "fintech");
	cr_assert_eq(p.employee_count, 40);
	cr_assert_str_eq(p.country, "FR");
	cr_assert_str_eq(p.email, "");
	cr_assert_eq(p.annual_revenue, 0);
	cr_assert_eq(p.n_technologies, 0);
}

Test(wire, json_timestamps_accept_offsets_and_fractions)
{
	static const struct {
		const char *ts;
		int64_t ms;
	} cases[] = {
		{ "2026-01-02T03:04:05.678Z", 1767323045678 },
		{ "2026-01-02T05:04:05.678+02:00", 1767323045678 },
		{ "2026-01-02T05:04:05.678+0200", 1767323045678 },
		{ "2026-01-02T03:04:05Z", 1767323045000 },
		{ "2026-01-02T03:04:05.678912345Z", 1767323045678 },
		{ "2026-03-10T12:00:00.5Z", 1773144000500 },
		{ "2024-02-29T23:59:59.999-05:30", 1709270999999 },
		{ "1970-01-01T00:00:00.001Z", 1 },
		{ "2000-03-01T00:00:00Z", 951868800000 },
		{ "2100-03-01T00:00:00z", 4107542400000 },
	};
	char json[256];
	fd_engagement ev;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(json, sizeof(json),
		         "{\"type\":\"track\",\"event\":\"x\",\"userId\":\"u\",\"timestamp\":\"%s\"}",
		         cases[i].ts);
		cr_assert_eq(decode_json_engagement(json, &ev), 0, "%s: %s", cases[i].ts, err);
		cr_assert_eq(ev.occurred_at_ms, cases[i].ms, "%s", cases[i].ts);
	}
}

Test(wire, json_invalid_timestamps_are_rejected)
{
	static const char *bad[] = {
		"2026-13-01T00:00:00Z",   /* month 13 */
		"2026-02-29T00:00:00Z",   /* not a leap year */
		"2100-02-29T00:00:00Z",   /* centuries are not leap years */
		"2026-01-02T24:00:00Z",
		"2026-01-02T03:04:05",    /* no zone */
		"2026-01-02T03:04Z",      /* no seconds */
		"2026-01-02T03:04:05.Z",  /* empty fraction */
		"2026-01-02T03:04:05+2:00",
		"2026-01-02T03:04:05Zjunk",
		"yesterday",
		"",
	};
	char json[256], want[128];
	fd_engagement ev;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
		         "{\"type\":\"track\",\"event\":\"x\",\"userId\":\"u\",\"timestamp\":\"%s\"}",
		         bad[i]);
		cr_assert_eq(decode_json_engagement(json, &ev), -1, "%s accepted", bad[i]);
		snprintf(want, sizeof(want), "json: invalid timestamp \"%s\"", bad[i]);
		cr_assert_str_eq(err, want);
	}
}

/* ---- JSON errors ---------------------------------------------------------- */

Test(wire, json_track_without_user_id_is_rejected)
{
	fd_engagement ev;
	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"event\":\"Demo Requested\",\"anonymousId\":\"a-1\","
		"\"timestamp\":\"2026-01-02T03:04:05Z\"}", &ev), -1);
	cr_assert_str_eq(err, "json: missing userId");

	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"event\":\"x\",\"userId\":\"\","
		"\"timestamp\":\"2026-01-02T03:04:05Z\"}", &ev), -1);
	cr_assert_str_eq(err, "json: missing userId");

	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"event\":\"x\",\"userId\":null,"
		"\"timestamp\":\"2026-01-02T03:04:05Z\"}", &ev), -1);
	cr_assert_str_eq(err, "json: missing userId");
}

Test(wire, json_missing_and_mistyped_fields_are_named)
{
	fd_engagement ev;
	fd_profile p;

	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"event\":\"x\",\"userId\":\"u\"}", &ev), -1);
	cr_assert_str_eq(err, "json: missing timestamp");

	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"event\":\"x\",\"userId\":\"u\",\"timestamp\":1767323045678}",
		&ev), -1);
	cr_assert_str_eq(err, "json: timestamp must be an ISO-8601 string");

	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"userId\":\"u\",\"timestamp\":\"2026-01-02T03:04:05Z\"}",
		&ev), -1);
	cr_assert_str_eq(err, "json: missing event");

	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"event\":\"x\",\"userId\":{\"id\":1},"
		"\"timestamp\":\"2026-01-02T03:04:05Z\"}", &ev), -1);
	cr_assert_str_eq(err, "json: userId must be a string");

	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"event\":\"x\",\"userId\":\"u\","
		"\"timestamp\":\"2026-01-02T03:04:05Z\",\"properties\":[1]}", &ev), -1);
	cr_assert_str_eq(err, "json: properties must be an object");

	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"track\",\"event\":\"x\",\"userId\":\"u\","
		"\"timestamp\":\"2026-01-02T03:04:05Z\",\"properties\":{\"channel\":7}}", &ev), -1);
	cr_assert_str_eq(err, "json: properties.channel must be a string");

	cr_assert_eq(decode_json_profile(
		"{\"type\":\"identify\",\"userId\":\"u\",\"timestamp\":\"2026-01-02T03:04:05Z\","
		"\"traits\":{\"employees\":\"51-200\"}}", &p), -1);
	cr_assert_str_eq(err, "json: traits.employees must be an integer");

	cr_assert_eq(decode_json_profile(
		"{\"type\":\"identify\",\"userId\":\"u\",\"timestamp\":\"2026-01-02T03:04:05Z\","
		"\"traits\":{\"technologies\":\"kafka\"}}", &p), -1);
	cr_assert_str_eq(err, "json: traits.technologies must be an array of strings");
}

Test(wire, json_wrong_segment_call_for_the_topic_is_rejected)
{
	fd_engagement ev;
	fd_profile p;
	cr_assert_eq(decode_json_engagement(
		"{\"type\":\"identify\",\"userId\":\"u\",\"timestamp\":\"2026-01-02T03:04:05Z\"}",
		&ev), -1);
	cr_assert_str_eq(err, "json: Segment identify call is not an engagement event "
	                      "(want track or page)");
	cr_assert_eq(decode_json_profile(
		"{\"type\":\"track\",\"event\":\"x\",\"userId\":\"u\","
		"\"timestamp\":\"2026-01-02T03:04:05Z\"}", &p), -1);
	cr_assert_str_eq(err, "json: Segment track call is not a profile (want identify)");
}

Test(wire, json_malformed_documents_are_rejected)
{
	fd_engagement ev;
	cr_assert_eq(decode_json_engagement("", &ev), -1);
	cr_assert_str_eq(err, "json: empty document");
	cr_assert_eq(decode_json_engagement("[1,2]", &ev), -1);
	cr_assert_str_eq(err, "json: top-level value must be an object");
	cr_assert_eq(decode_json_engagement("{\"userId\":\"u\"", &ev), -1);
	cr_assert_str_eq(err, "json: truncated document");
	cr_assert_eq(decode_json_engagement("{\"userId\":}", &ev), -1);
	cr_assert(strncmp(err, "json: parse error at offset 10: ", 32) == 0, "%s", err);
	cr_assert_eq(decode_json_engagement("{\"type\":\"page\"} {}", &ev), -1);
	cr_assert_str_eq(err, "json: trailing data at offset 16");
	/* surrounding whitespace is fine */
	cr_assert_eq(decode_json_engagement(
		" \n{\"type\":\"page\",\"userId\":\"u\",\"timestamp\":\"2026-01-02T03:04:05Z\"}\n",
		&ev), 0, "%s", err);
}

/* ---- JSON: plain objects with the proto field names ------------------------ */

Test(wire, json_plain_engagement_uses_proto_field_names)
{
	const char *json =
		"{\"event_id\":\"evt-1\",\"lead_id\":\"lead-42\",\"account_id\":\"acct-7\","
		"\"occurred_at_ms\":1767323045678,\"type\":\"webinar_attended\","
		"\"channel\":\"event\",\"content_id\":\"webinar-kafka-101\","
		"\"url\":\"https://example.com/webinars/kafka-101\",\"campaign\":\"q1-launch\","
		"\"properties\":{\"utm_source\":\"newsletter\"}}";
	fd_engagement ev;

	cr_assert_eq(decode_json_engagement(json, &ev), 0, "%s", err);
	assert_sample_engagement(&ev);
	const fd_wire_property *props;
	cr_assert_eq(fd_wire_arena_properties(arena, &props), 1);
	cr_assert_str_eq(props[0].value, "newsletter");
}

Test(wire, json_plain_engagement_accepts_protobuf_json_names)
{
	const char *json =
		"{\"eventId\":\"evt-1\",\"leadId\":\"lead-42\",\"accountId\":\"acct-7\","
		"\"occurredAtMs\":\"1767323045678\",\"type\":\"webinar_attended\","
		"\"channel\":\"event\",\"contentId\":\"webinar-kafka-101\","
		"\"url\":\"https://example.com/webinars/kafka-101\",\"campaign\":\"q1-launch\"}";
	fd_engagement ev;

	cr_assert_eq(decode_json_engagement(json, &ev), 0, "%s", err);
	assert_sample_engagement(&ev);
}

Test(wire, json_plain_profile_uses_proto_field_names)
{
	const char *json =
		"{\"lead_id\":\"lead-42\",\"updated_at_ms\":1767000000000,"
		"\"email\":\"ada@example.com\",\"job_title\":\"VP Engineering\",\"seniority\":\"vp\","
		"\"department\":\"engineering\",\"industry\":\"software\",\"country\":\"DE\","
		"\"employee_count\":850,\"annualRevenue\":1.2e8,"
		"\"technologies\":[\"kafka\",\"postgres\",\"kubernetes\"],"
		"\"lead_source\":\"webinar\",\"owner_id\":\"rep-9\"}";
	fd_profile p;

	cr_assert_eq(decode_json_profile(json, &p), 0, "%s", err);
	assert_sample_profile(&p);
}

Test(wire, json_plain_activity_accepts_bare_and_prefixed_enum_names)
{
	const char *json =
		"{\"activity_id\":\"act-3\",\"lead_id\":\"lead-42\",\"occurred_at_ms\":1767400000000,"
		"\"rep_id\":\"rep-9\",\"kind\":\"REJECT\",\"reason\":\"BAD_TIMING\","
		"\"note\":\"budget next quarter\",\"review_after_days\":60}";
	fd_activity act;

	cr_assert_eq(decode_json_activity(json, &act), 0, "%s", err);
	cr_assert_str_eq(act.activity_id, "act-3");
	cr_assert_str_eq(act.lead_id, "lead-42");
	cr_assert_eq(act.occurred_at_ms, 1767400000000);
	cr_assert_str_eq(act.rep_id, "rep-9");
	cr_assert_eq(act.kind, FD_ACT_REJECT);
	cr_assert_eq(act.reason, FD_REASON_BAD_TIMING);
	cr_assert_str_eq(act.note, "budget next quarter");
	cr_assert_eq(act.review_after_days, 60);

	cr_assert_eq(decode_json_activity(
		"{\"leadId\":\"l\",\"occurredAtMs\":\"5\",\"kind\":\"ACTIVITY_KIND_ACCEPT\","
		"\"reason\":\"REASON_UNSPECIFIED\"}", &act), 0, "%s", err);
	cr_assert_eq(act.kind, FD_ACT_ACCEPT);
	cr_assert_eq(act.reason, FD_REASON_NONE);
	cr_assert_str_eq(act.activity_id, "");
	cr_assert_eq(act.review_after_days, 0);

	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":5,\"kind\":\"touch\"}", &act), 0, "%s", err);
	cr_assert_eq(act.kind, FD_ACT_TOUCH);

	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":5,\"kind\":9,\"reason\":1}", &act), 0,
		"%s", err);
	cr_assert_eq(act.kind, FD_ACT_LOST);
	cr_assert_eq(act.reason, FD_REASON_BAD_FIT);
}

Test(wire, json_unknown_activity_kind_is_rejected)
{
	fd_activity act;
	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":5,\"kind\":\"PROMOTE\"}", &act), -1);
	cr_assert_str_eq(err, "json: unknown activity kind \"PROMOTE\"");

	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":5,\"kind\":\"ACTIVITY_KIND_UNSPECIFIED\"}",
		&act), -1);
	cr_assert_str_eq(err, "json: unknown activity kind \"ACTIVITY_KIND_UNSPECIFIED\"");

	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":5,\"kind\":12}", &act), -1);
	cr_assert_str_eq(err, "json: unknown activity kind 12");

	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":5}", &act), -1);
	cr_assert_str_eq(err, "json: missing kind");

	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":5,\"kind\":\"REJECT\",\"reason\":\"BORED\"}",
		&act), -1);
	cr_assert_str_eq(err, "json: unknown reason \"BORED\"");

	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":5,\"kind\":\"REJECT\","
		"\"review_after_days\":-1}", &act), -1);
	cr_assert_str_eq(err, "json: review_after_days must be between 0 and 2147483647");
}

Test(wire, json_plain_required_fields_are_named)
{
	fd_activity act;
	fd_engagement ev;
	fd_profile p;
	cr_assert_eq(decode_json_activity("{\"occurred_at_ms\":5,\"kind\":\"TOUCH\"}", &act), -1);
	cr_assert_str_eq(err, "json: missing lead_id");
	cr_assert_eq(decode_json_activity("{\"lead_id\":\"l\",\"kind\":\"TOUCH\"}", &act), -1);
	cr_assert_str_eq(err, "json: missing occurred_at_ms");
	cr_assert_eq(decode_json_activity(
		"{\"lead_id\":\"l\",\"occurred_at_ms\":1.5,\"kind\":\"TOUCH\"}", &act), -1);
	cr_assert_str_eq(err, "json: occurred_at_ms must be an integer");
	cr_assert_eq(decode_json_engagement("{\"lead_id\":\"l\",\"occurred_at_ms\":5}", &ev), -1);
	cr_assert_str_eq(err, "json: missing type");
	cr_assert_eq(decode_json_profile("{\"email\":\"a@b.c\"}", &p), -1);
	cr_assert_str_eq(err, "json: missing lead_id");
}

/* ---- outputs -------------------------------------------------------------- */

static const fd_recent_activity sample_recent[] = {
	{ "demo_request", "demo-form", "web", 1767323045678 },
	{ "webinar_attended", "webinar-kafka-101", "event", 1767200000000 },
	{ "email_click", "", "email", 1767100000000 },
};
static const fd_interest sample_interests[] = {
	{ "webinar-kafka-101", 12.5 },
	{ "pricing", 3.25 },
};
static const fd_breakdown sample_breakdown[] = {
	{ "webinar_attended", 20.0 },
	{ "email_click", 4.5 },
	{ "unsubscribe", -10.0 },
};

static fd_transition sample_transition(void)
{
	fd_transition t;
	memset(&t, 0, sizeof(t));
	strcpy(t.transition_id, "0123456789abcdef0123456789abcdef");
	t.lead_id = "lead-42";
	t.from_stage = FD_STAGE_LEAD;
	t.to_stage = FD_STAGE_MQL;
	t.trigger = FD_TRIGGER_HAND_RAISE;
	t.reason = "demo_request";
	t.cause_id = "evt-1";
	t.occurred_at_ms = 1767323045678;
	t.owner_id = "rep-9";
	t.lead_source = "webinar";
	t.review_at_ms = 0;
	t.score.engagement = 41.234567890123;
	t.score.fit = 35.5;
	t.score.grade = FD_GRADE_B;
	t.score.recency_days = 0.25;
	t.score.high_intent_recency_days = -1;
	t.score.frequency[0] = 4;
	t.score.frequency[1] = 9;
	t.score.frequency[2] = 99; /* a third window is not on the wire */
	t.score.n_windows = 3;
	t.score.as_of_ms = 1767323045678;
	t.recent = sample_recent;
	t.n_recent = 3;
	t.interests = sample_interests;
	t.n_interests = 2;
	t.breakdown = sample_breakdown;
	t.n_breakdown = 3;
	return t;
}

Test(wire, transition_encodes_every_field)
{
	fd_transition t = sample_transition();
	uint8_t *buf;
	size_t len;

	cr_assert_eq(fd_wire_encode_transition(&t, &buf, &len), 0);
	Funneld__V1__StageTransition *m = funneld__v1__stage_transition__unpack(NULL, len, buf);
	cr_assert_not_null(m);
	cr_assert_str_eq(m->transition_id, "0123456789abcdef0123456789abcdef");
	cr_assert_str_eq(m->lead_id, "lead-42");
	cr_assert_eq(m->from_stage, FUNNELD__V1__STAGE__STAGE_LEAD);
	cr_assert_eq(m->to_stage, FUNNELD__V1__STAGE__STAGE_MQL);
	cr_assert_str_eq(m->trigger, "hand_raise");
	cr_assert_str_eq(m->reason, "demo_request");
	cr_assert_eq(m->occurred_at_ms, 1767323045678);
	cr_assert_str_eq(m->owner_id, "rep-9");
	cr_assert_eq(m->engagement_score, 41.234567890123);
	cr_assert_eq(m->fit_score, 35.5);
	cr_assert_str_eq(m->grade, "B");
	cr_assert_eq(m->recency_days, 0.25);
	cr_assert_eq(m->frequency_7d, 4);
	cr_assert_eq(m->frequency_30d, 9);
	cr_assert_str_eq(m->cause_id, "evt-1");
	cr_assert_str_eq(m->lead_source, "webinar");
	cr_assert_eq(m->review_at_ms, 0);
	cr_assert_eq(m->high_intent_recency_days, -1.0);

	cr_assert_eq(m->n_recent_activities, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(m->recent_activities[i]->type, sample_recent[i].type);
		cr_assert_str_eq(m->recent_activities[i]->content_id, sample_recent[i].content_id);
		cr_assert_str_eq(m->recent_activities[i]->channel, sample_recent[i].channel);
		cr_assert_eq(m->recent_activities[i]->occurred_at_ms,
		             sample_recent[i].occurred_at_ms);
	}
	cr_assert_eq(m->n_top_interests, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_str_eq(m->top_interests[i]->content_id, sample_interests[i].content_id);
		cr_assert_eq(m->top_interests[i]->score, sample_interests[i].score);
	}
	cr_assert_eq(m->n_score_breakdown, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_str_eq(m->score_breakdown[i]->type, sample_breakdown[i].type);
		cr_assert_eq(m->score_breakdown[i]->points, sample_breakdown[i].points);
	}
	funneld__v1__stage_transition__free_unpacked(m, NULL);
	free(buf);
}

Test(wire, transition_encoding_is_deterministic)
{
	fd_transition t = sample_transition();
	uint8_t *a, *b, *c;
	size_t alen, blen, clen;

	cr_assert_eq(fd_wire_encode_transition(&t, &a, &alen), 0);
	cr_assert_eq(fd_wire_encode_transition(&t, &b, &blen), 0);
	cr_assert_eq(alen, blen);
	cr_assert(memcmp(a, b, alen) == 0);

	/* a copy with equal strings at other addresses encodes the same */
	char lead[] = "lead-42";
	fd_transition copy = t;
	copy.lead_id = lead;
	cr_assert_eq(fd_wire_encode_transition(&copy, &c, &clen), 0);
	cr_assert_eq(alen, clen);
	cr_assert(memcmp(a, c, alen) == 0);
	free(a);
	free(b);
	free(c);
}

Test(wire, transition_decodes_back_and_reencodes_identically)
{
	fd_transition t = sample_transition();
	uint8_t *a, *b;
	size_t alen, blen;
	fd_transition back;

	cr_assert_eq(fd_wire_encode_transition(&t, &a, &alen), 0);
	cr_assert_eq(fd_wire_decode_transition(a, alen, arena, &back, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_str_eq(back.transition_id, t.transition_id);
	cr_assert_str_eq(back.lead_id, "lead-42");
	cr_assert_eq(back.from_stage, FD_STAGE_LEAD);
	cr_assert_eq(back.to_stage, FD_STAGE_MQL);
	cr_assert_eq(back.trigger, FD_TRIGGER_HAND_RAISE);
	cr_assert_str_eq(back.reason, "demo_request");
	cr_assert_str_eq(back.cause_id, "evt-1");
	cr_assert_eq(back.score.grade, FD_GRADE_B);
	cr_assert_eq(back.score.n_windows, 2);
	cr_assert_eq(back.score.frequency[1], 9);
	cr_assert_eq(back.score.as_of_ms, t.occurred_at_ms);
	cr_assert_eq(back.n_recent, 3);
	cr_assert_str_eq(back.recent[2].channel, "email");
	cr_assert_eq(back.n_interests, 2);
	cr_assert_eq(back.interests[1].score, 3.25);
	cr_assert_eq(back.n_breakdown, 3);
	cr_assert_eq(back.breakdown[2].points, -10.0);

	cr_assert_eq(fd_wire_encode_transition(&back, &b, &blen), 0);
	cr_assert_eq(alen, blen);
	cr_assert(memcmp(a, b, alen) == 0);
	free(a);
	free(b);
}

Test(wire, transition_with_bad_enum_is_refused)
{
	fd_transition t = sample_transition();
	uint8_t *buf = (uint8_t *)&t;
	size_t len;
	t.to_stage = FD_STAGE_COUNT;
	errno = 0;
	cr_assert_eq(fd_wire_encode_transition(&t, &buf, &len), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(buf);
}

Test(wire, sla_event_encodes_every_field)
{
	fd_sla_event e;
	memset(&e, 0, sizeof(e));
	strcpy(e.sla_event_id, "fedcba9876543210fedcba9876543210");
	e.lead_id = "lead-42";
	e.sla = "mql_first_touch";
	e.kind = FD_SLA_BREACH;
	e.stage = FD_STAGE_MQL;
	e.owner_id = "rep-9";
	e.started_at_ms = 1767323045678;
	e.due_at_ms = 1767323045678 + 48 * FD_MS_HOUR;
	e.occurred_at_ms = e.due_at_ms;
	e.elapsed_ms = 48 * FD_MS_HOUR;

	uint8_t *buf, *buf2;
	size_t len, len2;
	cr_assert_eq(fd_wire_encode_sla_event(&e, &buf, &len), 0);
	Funneld__V1__SlaEvent *m = funneld__v1__sla_event__unpack(NULL, len, buf);
	cr_assert_not_null(m);
	cr_assert_str_eq(m->sla_event_id, "fedcba9876543210fedcba9876543210");
	cr_assert_str_eq(m->lead_id, "lead-42");
	cr_assert_str_eq(m->sla, "mql_first_touch");
	cr_assert_eq(m->kind, FUNNELD__V1__SLA_KIND__SLA_KIND_BREACH);
	cr_assert_eq(m->stage, FUNNELD__V1__STAGE__STAGE_MQL);
	cr_assert_str_eq(m->owner_id, "rep-9");
	cr_assert_eq(m->started_at_ms, 1767323045678);
	cr_assert_eq(m->due_at_ms, 1767323045678 + 48 * FD_MS_HOUR);
	cr_assert_eq(m->occurred_at_ms, 1767323045678 + 48 * FD_MS_HOUR);
	cr_assert_eq(m->elapsed_ms, 48 * FD_MS_HOUR);
	funneld__v1__sla_event__free_unpacked(m, NULL);

	fd_sla_event back;
	cr_assert_eq(fd_wire_decode_sla_event(buf, len, arena, &back, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(back.kind, FD_SLA_BREACH);
	cr_assert_eq(back.stage, FD_STAGE_MQL);
	cr_assert_str_eq(back.sla, "mql_first_touch");
	cr_assert_eq(fd_wire_encode_sla_event(&back, &buf2, &len2), 0);
	cr_assert_eq(len, len2);
	cr_assert(memcmp(buf, buf2, len) == 0);
	free(buf);
	free(buf2);
}

Test(wire, lead_score_encodes_snapshot_and_missing_windows_as_zero)
{
	fd_lead_view v;
	memset(&v, 0, sizeof(v));
	v.lead_id = "lead-42";
	v.stage = FD_STAGE_NURTURE;
	v.stage_entered_ms = 1767000000000;
	v.owner_id = "rep-9";
	v.lead_source = "event";
	v.disqualified_by = "";
	v.score.engagement = 7.75;
	v.score.fit = 12;
	v.score.grade = FD_GRADE_D;
	v.score.recency_days = 3.5;
	v.score.high_intent_recency_days = 10;
	v.score.frequency[0] = 6;
	v.score.frequency[1] = 1234; /* beyond n_windows: not reported */
	v.score.n_windows = 1;

	uint8_t *buf;
	size_t len;
	cr_assert_eq(fd_wire_encode_lead_score(&v, 1767400000000, &buf, &len), 0);
	Funneld__V1__LeadScore *m = funneld__v1__lead_score__unpack(NULL, len, buf);
	cr_assert_not_null(m);
	cr_assert_str_eq(m->lead_id, "lead-42");
	cr_assert_eq(m->stage, FUNNELD__V1__STAGE__STAGE_NURTURE);
	cr_assert_eq(m->engagement_score, 7.75);
	cr_assert_eq(m->fit_score, 12.0);
	cr_assert_str_eq(m->grade, "D");
	cr_assert_eq(m->recency_days, 3.5);
	cr_assert_eq(m->frequency_7d, 6);
	cr_assert_eq(m->frequency_30d, 0);
	cr_assert_eq(m->updated_at_ms, 1767400000000);
	cr_assert_str_eq(m->owner_id, "rep-9");
	cr_assert_eq(m->high_intent_recency_days, 10.0);
	cr_assert_str_eq(m->lead_source, "event");
	cr_assert_eq(m->stage_entered_ms, 1767000000000);
	cr_assert_str_eq(m->disqualified_by, "");
	funneld__v1__lead_score__free_unpacked(m, NULL);

	fd_lead_view back;
	int64_t updated;
	cr_assert_eq(fd_wire_decode_lead_score(buf, len, arena, &back, &updated,
	                                       err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(updated, 1767400000000);
	cr_assert_eq(back.stage, FD_STAGE_NURTURE);
	cr_assert_eq(back.score.grade, FD_GRADE_D);
	cr_assert_eq(back.score.frequency[0], 6);
	cr_assert_eq(back.score.frequency[1], 0);
	cr_assert_str_eq(back.lead_source, "event");
	free(buf);
}

Test(wire, output_decoders_reject_garbage_and_unknown_enums)
{
	const uint8_t garbage[] = { 0xff, 0xff, 0xff };
	fd_transition t;
	cr_assert_eq(fd_wire_decode_transition(garbage, sizeof(garbage), arena, &t,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: malformed StageTransition");

	Funneld__V1__StageTransition m;
	funneld__v1__stage_transition__init(&m);
	m.lead_id = "l";
	m.from_stage = FUNNELD__V1__STAGE__STAGE_LEAD;
	m.to_stage = FUNNELD__V1__STAGE__STAGE_MQL;
	m.trigger = "gut_feeling";
	m.grade = "A";
	bytes b = pack_message(&m.base);
	cr_assert_eq(fd_wire_decode_transition(b.data, b.len, arena, &t, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: unknown trigger \"gut_feeling\"");
	free(b.data);

	m.trigger = "hand_raise";
	m.to_stage = FUNNELD__V1__STAGE__STAGE_UNSPECIFIED;
	b = pack_message(&m.base);
	cr_assert_eq(fd_wire_decode_transition(b.data, b.len, arena, &t, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "protobuf: unknown to_stage 0");
	free(b.data);
}

/* ---- enum maps ------------------------------------------------------------ */

Test(wire, enum_maps_are_bijective_and_match_names)
{
	for (int s = 0; s < FD_STAGE_COUNT; s++) {
		int v = fd_wire_stage_to_proto((fd_stage)s);
		fd_stage back;
		cr_assert_neq(v, 0);
		cr_assert_eq(fd_wire_stage_from_proto(v, &back), 0);
		cr_assert_eq(back, (fd_stage)s);
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(&funneld__v1__stage__descriptor, v);
		char want[64];
		snprintf(want, sizeof(want), "STAGE_%s", fd_stage_name((fd_stage)s));
		cr_assert_str_eq(ev->name, want);
	}
	for (int k = 0; k < FD_ACT_COUNT; k++) {
		int v = fd_wire_activity_kind_to_proto((fd_activity_kind)k);
		fd_activity_kind back;
		cr_assert_eq(fd_wire_activity_kind_from_proto(v, &back), 0);
		cr_assert_eq(back, (fd_activity_kind)k);
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
			&funneld__v1__activity_kind__descriptor, v);
		char want[64];
		snprintf(want, sizeof(want), "ACTIVITY_KIND_%s",
		         fd_activity_kind_name((fd_activity_kind)k));
		cr_assert_str_eq(ev->name, want);
	}
	for (int r = 1; r < FD_REASON_COUNT; r++) {
		int v = fd_wire_reason_to_proto((fd_reason)r);
		fd_reason back;
		cr_assert_eq(fd_wire_reason_from_proto(v, &back), 0);
		cr_assert_eq(back, (fd_reason)r);
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(&funneld__v1__reason__descriptor, v);
		char want[64];
		snprintf(want, sizeof(want), "REASON_%s", fd_reason_name((fd_reason)r));
		cr_assert_str_eq(ev->name, want);
	}
	for (int k = 0; k < FD_SLA_KIND_COUNT; k++) {
		int v = fd_wire_sla_kind_to_proto((fd_sla_kind)k);
		fd_sla_kind back;
		cr_assert_eq(fd_wire_sla_kind_from_proto(v, &back), 0);
		cr_assert_eq(back, (fd_sla_kind)k);
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(&funneld__v1__sla_kind__descriptor, v);
		char want[64];
		snprintf(want, sizeof(want), "SLA_KIND_%s", fd_sla_kind_name((fd_sla_kind)k));
		cr_assert_str_eq(ev->name, want);
	}
	fd_reason none;
	cr_assert_eq(fd_wire_reason_from_proto(0, &none), 0);
	cr_assert_eq(none, FD_REASON_NONE);
	fd_stage st;
	cr_assert_eq(fd_wire_stage_from_proto(0, &st), -1);
	cr_assert_eq(fd_wire_stage_from_proto(99, &st), -1);
	cr_assert_eq(fd_wire_stage_to_proto(FD_STAGE_COUNT), 0);
}

/* ---- the arena ------------------------------------------------------------ */

Test(wire, arena_survives_many_messages_of_every_kind)
{
	bytes pe = sample_engagement_bytes();
	bytes pp = sample_profile_bytes();
	const char *track =
		"{\"type\":\"track\",\"event\":\"Demo Requested\",\"userId\":\"lead-42\","
		"\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"properties\":{\"a\":\"b\"}}";
	fd_engagement ev;
	fd_profile p;

	for (int i = 0; i < 500; i++) {
		cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, pe.data, pe.len, arena,
		                                       &ev, err, sizeof(err)), 0);
		cr_assert_eq(decode_json_engagement(track, &ev), 0);
		cr_assert_str_eq(ev.type, "demo_request");
		cr_assert_eq(decode_json_engagement("{", &ev), -1);
		cr_assert_eq(fd_wire_decode_profile(FD_ENCODING_PROTOBUF, pp.data, pp.len, arena,
		                                    &p, err, sizeof(err)), 0);
		const fd_wire_property *props;
		cr_assert_eq(fd_wire_arena_properties(arena, &props), 0);
	}
	assert_sample_profile(&p); /* still valid: nothing decoded since */
	fd_wire_arena_reset(arena);
	fd_wire_arena_reset(arena);
	free(pe.data);
	free(pp.data);
}

Test(wire, arena_grows_for_large_documents)
{
	/* 2000 properties: more than the arena's first chunk */
	size_t cap = 64 + 2000 * 32;
	char *json = malloc(cap);
	cr_assert_not_null(json);
	size_t n = (size_t)snprintf(json, cap,
	                            "{\"type\":\"track\",\"event\":\"x\",\"userId\":\"u\","
	                            "\"timestamp\":\"2026-01-02T03:04:05Z\",\"properties\":{");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s\"k%d\":%d", i ? "," : "", i, i);
	n += (size_t)snprintf(json + n, cap - n, "}}");

	fd_engagement ev;
	cr_assert_eq(decode_json_engagement(json, &ev), 0, "%s", err);
	const fd_wire_property *props;
	cr_assert_eq(fd_wire_arena_properties(arena, &props), 2000);
	cr_assert_str_eq(props[1999].key, "k1999");
	cr_assert_str_eq(props[1999].value, "1999");
	free(json);
}

/* ---- identities are text ----------------------------------------------------- */

/* An EngagementEvent written by hand: lead_id given as raw bytes (which
 * protobuf-c's packer cannot write: it takes C strings), plus a property
 * whose value is raw bytes too. */
static bytes engagement_with_raw(const char *lead, size_t lead_len, const char *prop,
                                 size_t prop_len)
{
	bytes b = { malloc(256 + lead_len + prop_len), 0 };
	uint8_t *p = b.data;
	size_t n = 0;
	p[n++] = (2 << 3) | 2; /* lead_id */
	p[n++] = (uint8_t)lead_len;
	memcpy(p + n, lead, lead_len);
	n += lead_len;
	p[n++] = (4 << 3) | 0; /* occurred_at_ms = 1 */
	p[n++] = 1;
	p[n++] = (5 << 3) | 2; /* type */
	p[n++] = 9;
	memcpy(p + n, "page_view", 9);
	n += 9;
	/* properties { key: "k", value: prop } as a map entry message */
	p[n++] = (10 << 3) | 2;
	p[n++] = (uint8_t)(5 + prop_len);
	p[n++] = (1 << 3) | 2;
	p[n++] = 1;
	p[n++] = 'k';
	p[n++] = (2 << 3) | 2;
	p[n++] = (uint8_t)prop_len;
	memcpy(p + n, prop, prop_len);
	n += prop_len;
	b.len = n;
	return b;
}

Test(wire, protobuf_strings_must_be_text_without_nul)
{
	fd_engagement ev;
	bytes ok = engagement_with_raw("j\xc3\xbcrgen@\xe4\xbe\x8b.jp", 14, "v", 1);
	cr_assert_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, ok.data, ok.len, arena, &ev,
	                                       err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(ev.lead_id, "j\xc3\xbcrgen@\xe4\xbe\x8b.jp");
	free(ok.data);
	fd_wire_arena_reset(arena);

	static const struct {
		const char *lead, *prop;
		size_t lead_len, prop_len;
		const char *want;
	} bad[] = {
		{ "u\0evil", "v", 6, 1, "protobuf: EngagementEvent.lead_id is not text: a NUL byte at byte 1" },
		{ "u\xff", "v", 2, 1, "protobuf: EngagementEvent.lead_id is not text: invalid UTF-8 at byte 1" },
		{ "\xc0\xaf", "v", 2, 1, "protobuf: EngagementEvent.lead_id is not text: invalid UTF-8 at byte 0" },
		{ "\xed\xa0\x80", "v", 3, 1, "protobuf: EngagementEvent.lead_id is not text: invalid UTF-8 at byte 0" },
		{ "ok", "a\xe2\x82", 2, 3, "protobuf: PropertiesEntry.value is not text: invalid UTF-8 at byte 1" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bytes b = engagement_with_raw(bad[i].lead, bad[i].lead_len, bad[i].prop, bad[i].prop_len);
		cr_expect_eq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, b.data, b.len, arena, &ev,
		                                       err, sizeof err), -1, "case %zu accepted", i);
		cr_expect_str_eq(err, bad[i].want);
		free(b.data);
		fd_wire_arena_reset(arena);
	}
}

Test(wire, json_strings_must_be_text_without_nul)
{
	fd_engagement ev;
	const char *nul = "{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"m\","
	                  "\"userId\":\"u\\u0000evil\",\"timestamp\":\"2026-01-02T03:04:05Z\"}";
	cr_assert_eq(decode_json_engagement(nul, &ev), -1, "u\\u0000evil accepted as lead %s",
	             ev.lead_id);
	cr_assert(strstr(err, "userId contains a NUL character") != NULL, "%s", err);
	const char *bad_utf8 = "{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"m\","
	                       "\"userId\":\"u\xff\",\"timestamp\":\"2026-01-02T03:04:05Z\"}";
	cr_assert_eq(decode_json_engagement(bad_utf8, &ev), -1);
	const char *prop = "{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"m\","
	                   "\"userId\":\"u\",\"timestamp\":\"2026-01-02T03:04:05Z\","
	                   "\"properties\":{\"plan\":\"a\\u0000b\"}}";
	cr_assert_eq(decode_json_engagement(prop, &ev), -1);
	cr_assert(strstr(err, "properties.plan is not text") != NULL, "%s", err);
	/* what json-c's own UTF-8 check lets through: overlong, surrogate,
	 * above U+10FFFF (found by fuzz_json) */
	static const char *const sneaky[] = { "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80" };
	for (int i = 0; i < 3; i++) {
		char doc[256];
		snprintf(doc, sizeof doc, "{\"type\":\"track\",\"event\":\"Demo Requested\","
		         "\"messageId\":\"m\",\"userId\":\"u%s\",\"timestamp\":\"2026-01-02T03:04:05Z\"}",
		         sneaky[i]);
		int rc = decode_json_engagement(doc, &ev);
		cr_expect_eq(rc, -1, "case %d accepted as lead %s", i, ev.lead_id);
	}
	/* integer ids that json-c would saturate: two leads would collide */
	const char *big = "{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"m\","
	                  "\"userId\":99999999999999999999,\"timestamp\":\"2026-01-02T03:04:05Z\"}";
	cr_assert_eq(decode_json_engagement(big, &ev), -1, "accepted as lead %s", ev.lead_id);
	cr_assert(strstr(err, "out of range") != NULL, "%s", err);
	const char *ok = "{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"m\","
	                 "\"userId\":12345,\"timestamp\":\"2026-01-02T03:04:05Z\"}";
	cr_assert_eq(decode_json_engagement(ok, &ev), 0, "%s", err);
	cr_assert_str_eq(ev.lead_id, "12345");
}

Test(wire, json_segment_times_before_1970_are_refused)
{
	fd_engagement ev;
	const char *json = "{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"m\","
	                   "\"userId\":\"u\",\"timestamp\":\"1969-12-31T23:59:59Z\"}";
	cr_assert_eq(decode_json_engagement(json, &ev), -1, "a 1969 timestamp was accepted");
	cr_assert(strstr(err, "is not after 1970-01-01T00:00:00Z") != NULL, "%s", err);
	const char *epoch = "{\"type\":\"track\",\"event\":\"Demo Requested\",\"messageId\":\"m\","
	                    "\"userId\":\"u\",\"timestamp\":\"1970-01-01T00:00:00Z\"}";
	cr_assert_eq(decode_json_engagement(epoch, &ev), -1);
}
