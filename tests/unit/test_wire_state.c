/*
 * test_wire_state.c — the changelog codec (src/wire/state.c) alone and with
 * the engine: a hand-built fd_lead_state encoded, read back with the
 * generated protobuf-c code, decoded and compared field by field (doubles
 * bit for bit) and re-encoded to identical bytes; the exact reasons for
 * malformed records (crafted with the protobuf-c API, never with the code
 * under test); and an engine lead exported, encoded, decoded, imported into
 * a fresh engine and exported again to the same bytes.
 *
 * Engine configuration: engine_fixture.h. No Kafka.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine_fixture.h"
#include "funneld/v1/state.pb-c.h"
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

TestSuite(wire_state, .init = setup, .fini = teardown);

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

static bytes encode(const fd_lead_state *st)
{
	bytes b;
	cr_assert_eq(fd_wire_encode_lead_state(st, &b.data, &b.len), 0, "errno %d", errno);
	cr_assert_not_null(b.data);
	return b;
}

static void assert_same_bytes(bytes a, bytes b)
{
	cr_assert_eq(a.len, b.len, "%zu bytes vs %zu", a.len, b.len);
	cr_assert(memcmp(a.data, b.data, a.len) == 0, "bytes differ");
}

static void assert_same_double(double got, double want, const char *what)
{
	uint64_t g, w;
	memcpy(&g, &got, sizeof g);
	memcpy(&w, &want, sizeof w);
	cr_assert_eq(g, w, "%s: %a (0x%016llx) vs %a (0x%016llx)", what, got,
	             (unsigned long long)g, want, (unsigned long long)w);
}

/* Strings the hand-built state points to, distinct per entry. */
static char cap_types[FD_MAX_EVENT_TYPES][24];
static char sla_names[FD_MAX_SLAS][24];
static char recent_types[FD_MAX_CONTEXT][24];
static char recent_contents[FD_MAX_CONTEXT][24];
static char recent_channels[FD_MAX_CONTEXT][24];
static char interest_ids[FD_MAX_CONTEXT][24];
static char breakdown_types[FD_MAX_EVENT_TYPES][24];

/* Every field non-default, every array at its capacity; doubles chosen so a
 * lossy conversion (float, decimal text) would show. */
static fd_lead_state full_state(void)
{
	fd_lead_state st;
	memset(&st, 0, sizeof(st));
	st.lead_id = "lead-42";
	st.partition = 7;
	st.stage = FD_STAGE_NURTURE;
	st.stage_entered_ms = T0 + 3 * DAY + 17;
	st.engagement = 0.1 + 0.2;
	st.engagement_as_of_ms = T0 + 2 * DAY + 5;
	st.fit = 65.0 / 3.0;
	st.grade = FD_GRADE_C;
	st.last_event_ms = T0 + 2 * DAY + 5;
	st.last_high_intent_ms = T0 + DAY + 1;
	st.review_at_ms = T0 + 63 * DAY + 17;
	st.profile_updated_ms = T0 - 4 * DAY;
	st.owner_id = "rep-9";
	st.lead_source = "partner";
	st.disqualified_by = "student";
	st.freq_head = 20454;
	for (int i = 0; i < FD_FREQ_BUCKETS; i++)
		st.freq[i] = (uint32_t)(i * 1000003u + 1u);
	st.freq[3] = UINT32_MAX;
	st.n_freq = FD_FREQ_BUCKETS;
	for (int i = 0; i < FD_SEEN_MAX; i++)
		st.seen[i] = 0x9e3779b97f4a7c15u * (uint64_t)(i + 1);
	st.seen[0] = UINT64_MAX;
	st.n_seen = FD_SEEN_MAX;
	for (int i = 0; i < FD_MAX_EVENT_TYPES; i++) {
		snprintf(cap_types[i], sizeof cap_types[i], "type_%d", i);
		st.caps[i].type = cap_types[i];
		st.caps[i].window = 20450 + i;
		st.caps[i].awarded = 1.0 / (i + 3);
	}
	st.n_caps = FD_MAX_EVENT_TYPES;
	for (int i = 0; i < FD_MAX_SLAS; i++) {
		snprintf(sla_names[i], sizeof sla_names[i], "sla_%d", i);
		st.slas[i].name = sla_names[i];
		st.slas[i].started_at_ms = T0 + i * HOUR;
		st.slas[i].due_at_ms = T0 + i * HOUR + 48 * HOUR;
		st.slas[i].warned = i % 2 == 0;
		st.slas[i].done = i % 3 == 0;
	}
	st.n_slas = FD_MAX_SLAS;
	for (int i = 0; i < FD_MAX_CONTEXT; i++) {
		snprintf(recent_types[i], sizeof recent_types[i], "event_%d", i);
		snprintf(recent_contents[i], sizeof recent_contents[i], "content-%d", i);
		snprintf(recent_channels[i], sizeof recent_channels[i], "channel-%d", i % 5);
		st.recent[i].type = recent_types[i];
		st.recent[i].content_id = recent_contents[i];
		st.recent[i].channel = recent_channels[i];
		st.recent[i].occurred_at_ms = T0 + 2 * DAY - i * HOUR;
		snprintf(interest_ids[i], sizeof interest_ids[i], "whitepaper-%d", i);
		st.interests[i].content_id = interest_ids[i];
		st.interests[i].score = 100.0 / (i + 7);
	}
	st.n_recent = FD_MAX_CONTEXT;
	st.n_interests = FD_MAX_CONTEXT;
	for (int i = 0; i < FD_MAX_EVENT_TYPES; i++) {
		snprintf(breakdown_types[i], sizeof breakdown_types[i], "kind_%d", i);
		st.breakdown[i].type = breakdown_types[i];
		st.breakdown[i].points = i % 4 == 3 ? -20.0 / (i + 1) : 10.0 / (i + 1);
	}
	st.n_breakdown = FD_MAX_EVENT_TYPES;
	st.positions[FD_INPUT_ENGAGEMENT] = 1234567890123;
	st.positions[FD_INPUT_PROFILE] = 42;
	st.positions[FD_INPUT_ACTIVITY] = 7;
	st.published = (fd_published){ T0 + DAY + 3, 12.75f, 65.0f / 3.0f, FD_STAGE_MQL, FD_GRADE_B,
		                           FD_PUBLISHED_EVER | FD_PUBLISHED_HELD };
	return st;
}

/* Every field of two states, exactly: counts, strings, doubles bit for bit,
 * and the array entries up to the counts. */
static void assert_same_state(const fd_lead_state *got, const fd_lead_state *want)
{
	cr_assert_str_eq(got->lead_id, want->lead_id);
	cr_assert_eq(got->partition, want->partition);
	cr_assert_eq(got->stage, want->stage);
	cr_assert_eq(got->stage_entered_ms, want->stage_entered_ms);
	assert_same_double(got->engagement, want->engagement, "engagement");
	cr_assert_eq(got->engagement_as_of_ms, want->engagement_as_of_ms);
	assert_same_double(got->fit, want->fit, "fit");
	cr_assert_eq(got->grade, want->grade);
	cr_assert_eq(got->last_event_ms, want->last_event_ms);
	cr_assert_eq(got->last_high_intent_ms, want->last_high_intent_ms);
	cr_assert_eq(got->review_at_ms, want->review_at_ms);
	cr_assert_eq(got->profile_updated_ms, want->profile_updated_ms);
	cr_assert_str_eq(got->owner_id, want->owner_id ? want->owner_id : "");
	cr_assert_str_eq(got->lead_source, want->lead_source ? want->lead_source : "");
	cr_assert_str_eq(got->disqualified_by, want->disqualified_by ? want->disqualified_by : "");

	cr_assert_eq(got->n_freq, want->n_freq);
	if (want->n_freq > 0)
		cr_assert_eq(got->freq_head, want->freq_head);
	for (int i = 0; i < want->n_freq; i++)
		cr_assert_eq(got->freq[i], want->freq[i], "freq[%d]", i);
	cr_assert_eq(got->n_seen, want->n_seen);
	for (int i = 0; i < want->n_seen; i++)
		cr_assert_eq(got->seen[i], want->seen[i], "seen[%d]", i);
	cr_assert_eq(got->n_caps, want->n_caps);
	for (int i = 0; i < want->n_caps; i++) {
		cr_assert_str_eq(got->caps[i].type, want->caps[i].type);
		cr_assert_eq(got->caps[i].window, want->caps[i].window);
		assert_same_double(got->caps[i].awarded, want->caps[i].awarded, "cap awarded");
	}
	cr_assert_eq(got->n_slas, want->n_slas);
	for (int i = 0; i < want->n_slas; i++) {
		cr_assert_str_eq(got->slas[i].name, want->slas[i].name);
		cr_assert_eq(got->slas[i].started_at_ms, want->slas[i].started_at_ms);
		cr_assert_eq(got->slas[i].due_at_ms, want->slas[i].due_at_ms);
		cr_assert_eq(got->slas[i].warned, want->slas[i].warned, "slas[%d].warned", i);
		cr_assert_eq(got->slas[i].done, want->slas[i].done, "slas[%d].done", i);
	}
	cr_assert_eq(got->n_recent, want->n_recent);
	for (int i = 0; i < want->n_recent; i++) {
		cr_assert_str_eq(got->recent[i].type, want->recent[i].type);
		cr_assert_str_eq(got->recent[i].content_id, want->recent[i].content_id);
		cr_assert_str_eq(got->recent[i].channel, want->recent[i].channel);
		cr_assert_eq(got->recent[i].occurred_at_ms, want->recent[i].occurred_at_ms);
	}
	cr_assert_eq(got->n_interests, want->n_interests);
	for (int i = 0; i < want->n_interests; i++) {
		cr_assert_str_eq(got->interests[i].content_id, want->interests[i].content_id);
		assert_same_double(got->interests[i].score, want->interests[i].score, "interest");
	}
	cr_assert_eq(got->n_breakdown, want->n_breakdown);
	for (int i = 0; i < want->n_breakdown; i++) {
		cr_assert_str_eq(got->breakdown[i].type, want->breakdown[i].type);
		assert_same_double(got->breakdown[i].points, want->breakdown[i].points, "breakdown");
	}
	for (int k = 0; k < FD_INPUT_KINDS; k++)
		cr_assert_eq(got->positions[k], want->positions[k], "positions[%d]", k);
	cr_assert_eq(got->published.flags, want->published.flags);
	if (want->published.flags) {
		cr_assert_eq(got->published.at_ms, want->published.at_ms);
		cr_assert(memcmp(&got->published.engagement, &want->published.engagement,
		                 sizeof(float)) == 0, "published engagement");
		cr_assert(memcmp(&got->published.fit, &want->published.fit, sizeof(float)) == 0,
		          "published fit");
		cr_assert_eq(got->published.stage, want->published.stage);
		cr_assert_eq(got->published.grade, want->published.grade);
	}
}

/* Decode, compare with `st`, re-encode: the same bytes. */
static void assert_round_trip(const fd_lead_state *st)
{
	bytes first = encode(st);
	fd_lead_state back;
	cr_assert_eq(fd_wire_decode_lead_state(first.data, first.len, arena, &back,
	                                       err, sizeof(err)), 0, "%s", err);
	assert_same_state(&back, st);
	bytes second = encode(&back);
	assert_same_bytes(first, second);
	free(first.data);
	free(second.data);
}

/* A valid LeadState to break one field of. */
static void minimal_message(Funneld__V1__LeadState *m)
{
	funneld__v1__lead_state__init(m);
	m->lead_id = "lead-1";
	m->stage = FUNNELD__V1__STAGE__STAGE_MQL;
	m->grade = "B";
}

/* Decoding `m` fails with exactly `reason` and leaves the output zeroed. */
static void assert_rejected(const Funneld__V1__LeadState *m, const char *reason)
{
	bytes b = pack_message(&m->base);
	fd_lead_state st;
	memset(&st, 0xab, sizeof(st));
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &st, err, sizeof(err)), -1,
	             "accepted, expected \"%s\"", reason);
	cr_assert_str_eq(err, reason);
	cr_assert_null(st.lead_id);
	cr_assert_eq(st.n_recent, 0);
	cr_assert_eq(st.positions[0], 0);
	free(b.data);
}

/* ---- encoding: the mapping to LeadState ------------------------------------ */

Test(wire_state, full_state_maps_every_field_to_lead_state)
{
	fd_lead_state st = full_state();
	bytes b = encode(&st);
	Funneld__V1__LeadState *m = funneld__v1__lead_state__unpack(NULL, b.len, b.data);
	cr_assert_not_null(m);

	cr_assert_str_eq(m->lead_id, "lead-42");
	cr_assert_eq(m->partition, 7);
	cr_assert_eq(m->stage, FUNNELD__V1__STAGE__STAGE_NURTURE);
	cr_assert_eq(m->stage_entered_ms, T0 + 3 * DAY + 17);
	assert_same_double(m->engagement_score, 0.1 + 0.2, "engagement_score");
	cr_assert_eq(m->engagement_as_of_ms, T0 + 2 * DAY + 5);
	assert_same_double(m->fit_score, 65.0 / 3.0, "fit_score");
	cr_assert_str_eq(m->grade, "C");
	cr_assert_eq(m->last_event_ms, T0 + 2 * DAY + 5);
	cr_assert_eq(m->last_high_intent_ms, T0 + DAY + 1);
	cr_assert_eq(m->review_at_ms, T0 + 63 * DAY + 17);
	cr_assert_eq(m->remql_after_ms, 0);
	cr_assert_eq(m->profile_updated_at_ms, T0 - 4 * DAY);
	cr_assert_str_eq(m->owner_id, "rep-9");
	cr_assert_str_eq(m->lead_source, "partner");
	cr_assert_str_eq(m->disqualified_by, "student");

	cr_assert_eq(m->freq_head_bucket, 20454);
	cr_assert_eq(m->n_freq_counts, FD_FREQ_BUCKETS);
	cr_assert_eq(m->freq_counts[0], 1);
	cr_assert_eq(m->freq_counts[3], UINT32_MAX);
	cr_assert_eq(m->freq_counts[31], 31 * 1000003u + 1u);
	cr_assert_eq(m->n_recent_ids, FD_SEEN_MAX);
	cr_assert_eq(m->recent_ids[0], UINT64_MAX);
	cr_assert_eq(m->recent_ids[7], 0x9e3779b97f4a7c15u * 8);

	cr_assert_eq(m->n_caps, FD_MAX_EVENT_TYPES);
	cr_assert_str_eq(m->caps[63]->type, "type_63");
	cr_assert_eq(m->caps[63]->window, 20450 + 63);
	cr_assert_eq(m->n_open_slas, FD_MAX_SLAS);
	cr_assert_str_eq(m->open_slas[3]->name, "sla_3");
	cr_assert_eq(m->open_slas[3]->started_at_ms, T0 + 3 * HOUR);
	cr_assert_eq(m->open_slas[3]->due_at_ms, T0 + 51 * HOUR);
	cr_assert(!m->open_slas[3]->warned);
	cr_assert(m->open_slas[3]->done);
	for (size_t i = 0; i < m->n_open_slas; i++)
		cr_assert(m->open_slas[i]->opened, "open_slas[%zu].opened", i);
	cr_assert_eq(m->n_recent_activities, FD_MAX_CONTEXT);
	cr_assert_str_eq(m->recent_activities[31]->type, "event_31");
	cr_assert_str_eq(m->recent_activities[31]->content_id, "content-31");
	cr_assert_str_eq(m->recent_activities[31]->channel, "channel-1");
	cr_assert_eq(m->recent_activities[31]->occurred_at_ms, T0 + 2 * DAY - 31 * HOUR);
	cr_assert_eq(m->n_interests, FD_MAX_CONTEXT);
	cr_assert_str_eq(m->interests[0]->content_id, "whitepaper-0");
	cr_assert_eq(m->n_breakdown, FD_MAX_EVENT_TYPES);
	assert_same_double(m->breakdown[3]->points, -5.0, "breakdown[3]");

	cr_assert_eq(m->n_applied_offsets, 3);
	cr_assert_str_eq(m->applied_offsets[0]->topic, "engagement");
	cr_assert_eq(m->applied_offsets[0]->partition, 7);
	cr_assert_eq(m->applied_offsets[0]->offset, 1234567890123);
	cr_assert_str_eq(m->applied_offsets[1]->topic, "profile");
	cr_assert_eq(m->applied_offsets[1]->partition, 7);
	cr_assert_eq(m->applied_offsets[1]->offset, 42);
	cr_assert_str_eq(m->applied_offsets[2]->topic, "activity");
	cr_assert_eq(m->applied_offsets[2]->partition, 7);
	cr_assert_eq(m->applied_offsets[2]->offset, 7);
	cr_assert_eq(m->base.n_unknown_fields, 0);
	funneld__v1__lead_state__free_unpacked(m, NULL);
	free(b.data);
}

Test(wire_state, only_non_zero_positions_become_applied_offsets)
{
	fd_lead_state st = full_state();
	st.positions[FD_INPUT_ENGAGEMENT] = 0;
	st.positions[FD_INPUT_ACTIVITY] = 0;
	bytes b = encode(&st);
	Funneld__V1__LeadState *m = funneld__v1__lead_state__unpack(NULL, b.len, b.data);
	cr_assert_not_null(m);
	cr_assert_eq(m->n_applied_offsets, 1);
	cr_assert_str_eq(m->applied_offsets[0]->topic, "profile");
	cr_assert_eq(m->applied_offsets[0]->offset, 42);
	funneld__v1__lead_state__free_unpacked(m, NULL);
	free(b.data);
	assert_round_trip(&st);
}

Test(wire_state, every_grade_and_stage_maps_explicitly)
{
	static const char *letters[FD_GRADE_COUNT] = { "A", "B", "C", "D" };
	fd_lead_state st = full_state();
	for (int g = 0; g < FD_GRADE_COUNT; g++) {
		for (int s = 0; s < FD_STAGE_COUNT; s++) {
			st.grade = g;
			st.stage = (fd_stage)s;
			bytes b = encode(&st);
			Funneld__V1__LeadState *m = funneld__v1__lead_state__unpack(NULL, b.len, b.data);
			cr_assert_not_null(m);
			cr_assert_str_eq(m->grade, letters[g]);
			cr_assert_eq((int)m->stage, fd_wire_stage_to_proto((fd_stage)s));
			funneld__v1__lead_state__free_unpacked(m, NULL);

			fd_lead_state back;
			cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &back,
			                                       err, sizeof(err)), 0, "%s", err);
			cr_assert_eq(back.grade, g);
			cr_assert_eq(back.stage, (fd_stage)s);
			free(b.data);
		}
	}
}

/* ---- round trips ----------------------------------------------------------- */

Test(wire_state, full_state_decodes_to_every_field_and_reencodes_identically)
{
	fd_lead_state st = full_state();
	assert_round_trip(&st);
}

Test(wire_state, encoding_is_deterministic_and_independent_of_string_addresses)
{
	fd_lead_state st = full_state();
	bytes a = encode(&st);
	bytes b = encode(&st);
	assert_same_bytes(a, b);

	char lead[] = "lead-42", sla[] = "sla_5", content[] = "content-9";
	fd_lead_state copy = st;
	copy.lead_id = lead;
	copy.slas[5].name = sla;
	copy.recent[9].content_id = content;
	/* entries past the counts and the head of an empty ring do not matter */
	copy.n_seen = 3;
	st.n_seen = 3;
	copy.seen[5] = 12345;
	bytes c = encode(&st);
	bytes d = encode(&copy);
	assert_same_bytes(c, d);
	free(a.data);
	free(b.data);
	free(c.data);
	free(d.data);
}

Test(wire_state, empty_arrays_and_zero_times_round_trip)
{
	fd_lead_state st;
	memset(&st, 0, sizeof(st));
	st.lead_id = "lead-empty";
	st.stage = FD_STAGE_LEAD;
	st.grade = FD_GRADE_D;
	st.freq_head = 999; /* not meaningful with n_freq 0: not written */

	bytes b = encode(&st);
	Funneld__V1__LeadState *m = funneld__v1__lead_state__unpack(NULL, b.len, b.data);
	cr_assert_not_null(m);
	cr_assert_eq(m->freq_head_bucket, 0);
	cr_assert_eq(m->n_freq_counts, 0);
	cr_assert_eq(m->n_recent_ids, 0);
	cr_assert_eq(m->n_caps, 0);
	cr_assert_eq(m->n_open_slas, 0);
	cr_assert_eq(m->n_recent_activities, 0);
	cr_assert_eq(m->n_interests, 0);
	cr_assert_eq(m->n_breakdown, 0);
	cr_assert_eq(m->n_applied_offsets, 0);
	cr_assert_str_eq(m->owner_id, "");
	funneld__v1__lead_state__free_unpacked(m, NULL);

	fd_lead_state back;
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &back, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(back.freq_head, 0);
	cr_assert_not_null(back.owner_id);
	cr_assert_not_null(back.lead_source);
	cr_assert_not_null(back.disqualified_by);
	st.freq_head = 0;
	assert_same_state(&back, &st);
	free(b.data);
	assert_round_trip(&st);
}

Test(wire_state, state_without_engagement_yet_round_trips)
{
	/* a lead known from its profile only: engagement_as_of_ms 0 */
	fd_lead_state st = full_state();
	st.engagement = 0.0;
	st.engagement_as_of_ms = 0;
	st.last_event_ms = 0;
	st.last_high_intent_ms = 0;
	st.n_freq = 0;
	st.freq_head = 0;
	st.n_recent = 0;
	st.n_interests = 0;
	st.n_breakdown = 0;
	st.n_caps = 0;
	st.positions[FD_INPUT_ENGAGEMENT] = 0;
	assert_round_trip(&st);

	fd_lead_state back;
	bytes b = encode(&st);
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &back, err, sizeof(err)), 0);
	cr_assert_eq(back.engagement_as_of_ms, 0);
	cr_assert_eq(back.profile_updated_ms, T0 - 4 * DAY);
	free(b.data);
}

Test(wire_state, awkward_doubles_keep_their_bits)
{
	fd_lead_state st = full_state();
	st.fit = 5e-324; /* smallest subnormal */
	st.caps[0].awarded = INFINITY;
	st.interests[0].score = -INFINITY;
	st.breakdown[0].points = nan("");
	st.breakdown[1].points = -DBL_MAX;
	assert_round_trip(&st);
}

Test(wire_state, negative_zero_reads_back_as_zero_with_the_same_bytes)
{
	/* proto3 does not write a zero scalar and protobuf-c counts -0.0 as zero:
	 * the sign is lost, the value and the bytes are not */
	fd_lead_state st = full_state();
	st.engagement = -0.0;
	st.caps[0].awarded = -0.0; /* sub-messages too */
	bytes first = encode(&st);
	st.engagement = 0.0;
	st.caps[0].awarded = 0.0;
	bytes plain = encode(&st);
	assert_same_bytes(first, plain);

	fd_lead_state back;
	cr_assert_eq(fd_wire_decode_lead_state(first.data, first.len, arena, &back,
	                                       err, sizeof(err)), 0, "%s", err);
	assert_same_double(back.engagement, 0.0, "engagement");
	assert_same_double(back.caps[0].awarded, 0.0, "cap awarded");
	free(first.data);
	free(plain.data);
}

Test(wire_state, decoded_strings_live_until_the_next_decode)
{
	fd_lead_state st = full_state();
	bytes b = encode(&st);
	fd_lead_state back;
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &back, err, sizeof(err)), 0);
	memset(b.data, 0, b.len); /* the decoded struct does not point into the input */
	free(b.data);
	cr_assert_str_eq(back.lead_id, "lead-42");
	cr_assert_str_eq(back.caps[63].type, "type_63");
	cr_assert_str_eq(back.recent[0].channel, "channel-0");
}

/* ---- encoder refusals ------------------------------------------------------ */

static void assert_refused(const fd_lead_state *st)
{
	uint8_t *buf = (uint8_t *)err;
	size_t len = 0;
	errno = 0;
	cr_assert_eq(fd_wire_encode_lead_state(st, &buf, &len), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_null(buf);
}

Test(wire_state, encoder_refuses_what_the_decoder_would_reject)
{
	fd_lead_state st = full_state();
	st.lead_id = "";
	assert_refused(&st);
	st.lead_id = NULL;
	assert_refused(&st);

	st = full_state();
	st.stage = FD_STAGE_COUNT;
	assert_refused(&st);
	st = full_state();
	st.grade = FD_GRADE_COUNT;
	assert_refused(&st);
	st.grade = -1;
	assert_refused(&st);

	st = full_state();
	st.n_recent = FD_MAX_CONTEXT + 1;
	assert_refused(&st);
	st = full_state();
	st.n_seen = FD_SEEN_MAX + 1;
	assert_refused(&st);
	st = full_state();
	st.n_freq = -1;
	assert_refused(&st);
	st = full_state();
	st.n_breakdown = FD_MAX_EVENT_TYPES + 1;
	assert_refused(&st);
}

/* ---- decoder errors -------------------------------------------------------- */

Test(wire_state, garbage_is_rejected_and_output_zeroed)
{
	const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0x13, 0x37 };
	fd_lead_state st;
	memset(&st, 0xab, sizeof(st));
	cr_assert_eq(fd_wire_decode_lead_state(garbage, sizeof(garbage), arena, &st,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "lead state: malformed LeadState");
	cr_assert_null(st.lead_id);
	cr_assert_eq(st.n_slas, 0);

	/* a valid record cut inside its last field */
	fd_lead_state full = full_state();
	bytes b = encode(&full);
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len - 1, arena, &st,
	                                       err, sizeof(err)), -1);
	cr_assert_str_eq(err, "lead state: malformed LeadState");
	free(b.data);
}

Test(wire_state, missing_lead_id_is_rejected)
{
	Funneld__V1__LeadState m;
	minimal_message(&m);
	m.lead_id = "";
	assert_rejected(&m, "lead state: missing lead_id");

	/* an empty record too */
	fd_lead_state st;
	cr_assert_eq(fd_wire_decode_lead_state("", 0, arena, &st, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "lead state: missing lead_id");
}

Test(wire_state, unknown_stage_and_grade_are_rejected)
{
	Funneld__V1__LeadState m;
	minimal_message(&m);
	m.stage = (Funneld__V1__Stage)42;
	assert_rejected(&m, "lead state: unknown stage 42");
	m.stage = FUNNELD__V1__STAGE__STAGE_UNSPECIFIED;
	assert_rejected(&m, "lead state: unknown stage 0");

	minimal_message(&m);
	m.grade = "E";
	assert_rejected(&m, "lead state: unknown grade \"E\"");
	m.grade = "a";
	assert_rejected(&m, "lead state: unknown grade \"a\"");
	m.grade = "";
	assert_rejected(&m, "lead state: unknown grade \"\"");
}

Test(wire_state, too_many_recent_activities_is_an_error_not_an_overflow)
{
	enum { N = FD_MAX_CONTEXT + 1 };
	Funneld__V1__RecentActivity recent[N], *ptrs[N];
	for (int i = 0; i < N; i++) {
		funneld__v1__recent_activity__init(&recent[i]);
		recent[i].type = "page_view";
		recent[i].occurred_at_ms = T0 + i;
		ptrs[i] = &recent[i];
	}
	Funneld__V1__LeadState m;
	minimal_message(&m);
	m.n_recent_activities = N;
	m.recent_activities = ptrs;
	assert_rejected(&m, "lead state: 33 recent_activities, at most 32");

	/* exactly at capacity is fine */
	m.n_recent_activities = FD_MAX_CONTEXT;
	bytes b = pack_message(&m.base);
	fd_lead_state st;
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &st, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(st.n_recent, FD_MAX_CONTEXT);
	cr_assert_eq(st.recent[31].occurred_at_ms, T0 + 31);
	free(b.data);
}

Test(wire_state, every_repeated_field_is_bounded)
{
	enum { N = 65 };
	uint32_t counts[N] = { 0 };
	uint64_t ids[N] = { 0 };
	Funneld__V1__LeadState__Cap caps[N], *cap_ptrs[N];
	Funneld__V1__LeadState__OpenSla slas[N], *sla_ptrs[N];
	Funneld__V1__Interest interests[N], *interest_ptrs[N];
	Funneld__V1__Breakdown breakdown[N], *breakdown_ptrs[N];
	for (int i = 0; i < N; i++) {
		funneld__v1__lead_state__cap__init(&caps[i]);
		cap_ptrs[i] = &caps[i];
		funneld__v1__lead_state__open_sla__init(&slas[i]);
		slas[i].opened = true;
		sla_ptrs[i] = &slas[i];
		funneld__v1__interest__init(&interests[i]);
		interest_ptrs[i] = &interests[i];
		funneld__v1__breakdown__init(&breakdown[i]);
		breakdown_ptrs[i] = &breakdown[i];
	}
	Funneld__V1__LeadState m;

	minimal_message(&m);
	m.n_freq_counts = FD_FREQ_BUCKETS + 1;
	m.freq_counts = counts;
	assert_rejected(&m, "lead state: 33 freq_counts, at most 32");

	minimal_message(&m);
	m.n_recent_ids = FD_SEEN_MAX + 1;
	m.recent_ids = ids;
	assert_rejected(&m, "lead state: 65 recent_ids, at most 64");

	minimal_message(&m);
	m.n_caps = FD_MAX_EVENT_TYPES + 1;
	m.caps = cap_ptrs;
	assert_rejected(&m, "lead state: 65 caps, at most 64");

	minimal_message(&m);
	m.n_open_slas = FD_MAX_SLAS + 1;
	m.open_slas = sla_ptrs;
	assert_rejected(&m, "lead state: 17 open_slas, at most 16");

	minimal_message(&m);
	m.n_interests = FD_MAX_CONTEXT + 1;
	m.interests = interest_ptrs;
	assert_rejected(&m, "lead state: 33 interests, at most 32");

	minimal_message(&m);
	m.n_breakdown = FD_MAX_EVENT_TYPES + 1;
	m.breakdown = breakdown_ptrs;
	assert_rejected(&m, "lead state: 65 breakdown, at most 64");
}

Test(wire_state, applied_offsets_must_name_a_known_input_once_on_the_lead_partition)
{
	Funneld__V1__LeadState__AppliedOffset o[4], *ptrs[4];
	static char *topics[4] = { "engagement", "profile", "activity", "profile" };
	for (int i = 0; i < 4; i++) {
		funneld__v1__lead_state__applied_offset__init(&o[i]);
		o[i].topic = topics[i];
		o[i].partition = 2;
		o[i].offset = 100 + i;
		ptrs[i] = &o[i];
	}
	Funneld__V1__LeadState m;
	minimal_message(&m);
	m.partition = 2;
	m.applied_offsets = ptrs;

	m.n_applied_offsets = 4;
	assert_rejected(&m, "lead state: 4 applied_offsets, at most 3");

	/* out of order is fine */
	ptrs[0] = &o[2];
	ptrs[2] = &o[0];
	m.n_applied_offsets = 3;
	bytes b = pack_message(&m.base);
	fd_lead_state st;
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &st, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(st.partition, 2);
	cr_assert_eq(st.positions[FD_INPUT_ENGAGEMENT], 100);
	cr_assert_eq(st.positions[FD_INPUT_PROFILE], 101);
	cr_assert_eq(st.positions[FD_INPUT_ACTIVITY], 102);
	free(b.data);

	ptrs[2] = &o[3]; /* profile twice */
	assert_rejected(&m, "lead state: two applied_offsets for topic \"profile\"");
	ptrs[2] = &o[0];

	o[1].topic = "leads.profile.v1";
	assert_rejected(&m, "lead state: unknown applied_offsets topic \"leads.profile.v1\"");
	o[1].topic = "profile";

	o[1].partition = 3;
	assert_rejected(&m, "lead state: applied offset of \"profile\" on partition 3, "
	                    "lead on partition 2");
}

Test(wire_state, waiting_slas_are_skipped_and_remql_after_is_ignored)
{
	Funneld__V1__LeadState__OpenSla s[2], *ptrs[2] = { &s[0], &s[1] };
	funneld__v1__lead_state__open_sla__init(&s[0]);
	s[0].name = "mql_follow_up"; /* waits for its first TOUCH */
	funneld__v1__lead_state__open_sla__init(&s[1]);
	s[1].name = "mql_first_touch";
	s[1].started_at_ms = T0;
	s[1].due_at_ms = T0 + 48 * HOUR;
	s[1].warned = true;
	s[1].opened = true;
	Funneld__V1__LeadState m;
	minimal_message(&m);
	m.remql_after_ms = T0 + 14 * DAY;
	m.n_open_slas = 2;
	m.open_slas = ptrs;

	bytes b = pack_message(&m.base);
	fd_lead_state st;
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &st, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(st.n_slas, 1);
	cr_assert_str_eq(st.slas[0].name, "mql_first_touch");
	cr_assert_eq(st.slas[0].started_at_ms, T0);
	cr_assert_eq(st.slas[0].due_at_ms, T0 + 48 * HOUR);
	cr_assert(st.slas[0].warned);
	cr_assert(!st.slas[0].done);
	free(b.data);

	bytes again = encode(&st);
	Funneld__V1__LeadState *back = funneld__v1__lead_state__unpack(NULL, again.len, again.data);
	cr_assert_not_null(back);
	cr_assert_eq(back->remql_after_ms, 0);
	cr_assert_eq(back->n_open_slas, 1);
	funneld__v1__lead_state__free_unpacked(back, NULL);
	free(again.data);
}

Test(wire_state, errstr_is_truncated_and_may_be_absent)
{
	char small[11];
	const uint8_t garbage[] = { 0xff };
	fd_lead_state st;
	cr_assert_eq(fd_wire_decode_lead_state(garbage, 1, arena, &st, small, sizeof(small)), -1);
	cr_assert_str_eq(small, "lead state");
	cr_assert_eq(fd_wire_decode_lead_state(garbage, 1, arena, &st, NULL, 0), -1);
}

/* ---- with the engine ------------------------------------------------------- */

typedef struct engine_run {
	fd_rules cfg;
	fd_engine *eng;
	fx_log *log;
	fd_sink sink;
	int64_t position;          /* of the last engagement */
	int64_t activity_position; /* of the last activity */
} engine_run;

static void run_init(engine_run *r)
{
	fx_config(&r->cfg);
	r->eng = fd_engine_new(&r->cfg, 0);
	cr_assert_not_null(r->eng);
	r->log = calloc(1, sizeof(*r->log));
	cr_assert_not_null(r->log);
	r->sink = fx_sink(r->log);
	r->position = 1000;
	r->activity_position = 70;
}

static void run_free(engine_run *r)
{
	fd_engine_free(r->eng);
	free(r->log);
}

static void run_event(engine_run *r, const char *id, const char *type, int64_t at,
                      const char *channel, const char *content)
{
	fd_engagement e = { .event_id = id, .lead_id = "lead-x", .occurred_at_ms = at,
	                    .type = type, .channel = channel, .content_id = content,
	                    .partition = 3, .position = ++r->position };
	cr_assert_eq(fd_engine_engagement(r->eng, &e, at, &r->sink, err, sizeof(err)), FD_OK,
	             "%s %s", id, err);
}

static void run_activity(engine_run *r, const char *id, fd_activity_kind kind, int64_t at)
{
	fd_activity a = { .activity_id = id, .lead_id = "lead-x", .occurred_at_ms = at,
	                  .rep_id = "rep-7", .kind = kind, .partition = 3, .position = ++r->activity_position };
	cr_assert_eq(fd_engine_activity(r->eng, &a, at, &r->sink, err, sizeof(err)), FD_OK,
	             "%s %s", id, err);
}

/* A-grade lead through profile, capped page views, downloads, a hand raise
 * (MQL, SLAs open), an assignment, a first-touch warning and a late first
 * touch (first-touch SLA warned and met, follow-up SLA started). */
static void drive_lead(engine_run *r)
{
	fd_profile p = { .lead_id = "lead-x", .updated_at_ms = T0, .email = "ann@acme.com",
	                 .job_title = "VP Engineering", .seniority = "VP", .industry = "Software",
	                 .country = "US", .employee_count = 1000, .annual_revenue = 50000000,
	                 .lead_source = "partner", .partition = 3, .position = 55 };
	cr_assert_eq(fd_engine_profile(r->eng, &p, T0, &r->sink, err, sizeof(err)), FD_OK, "%s", err);
	char id[16];
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof id, "pv%d", i);
		run_event(r, id, "page_view", T0 + i * HOUR, "web", i % 2 ? "pricing" : "blog-1");
	}
	run_event(r, "dl1", "content_download", T0 + 9 * HOUR, "email", "ebook-7");
	run_event(r, "pv-next", "page_view", T0 + DAY + HOUR, "web", "blog-2");
	run_event(r, "hr", "demo_request", T0 + DAY + 2 * HOUR, "web", "demo");
	run_activity(r, "a1", FD_ACT_ASSIGN, T0 + DAY + 3 * HOUR);
	/* mql_first_touch, 24 h for a partner lead, warns at 18 h */
	cr_assert_eq(fd_engine_advance(r->eng, T0 + DAY + 22 * HOUR, &r->sink), 1);
	run_activity(r, "t1", FD_ACT_TOUCH, T0 + DAY + 23 * HOUR);
	run_event(r, "dl2", "content_download", T0 + 3 * DAY, "email", "ebook-8");
}

Test(wire_state, engine_export_encode_decode_import_export_is_byte_identical)
{
	engine_run a, b;
	run_init(&a);
	run_init(&b);
	drive_lead(&a);

	fd_lead_state st;
	cr_assert(fd_engine_export(a.eng, "lead-x", &st));
	/* the drive reached what the codec must carry */
	cr_assert_eq(st.stage, FD_STAGE_MQL);
	cr_assert_eq(st.partition, 3);
	cr_assert_gt(st.n_freq, 1);
	cr_assert_gt(st.n_seen, 0);
	cr_assert_gt(st.n_caps, 0);
	cr_assert_eq(st.n_slas, 3);
	cr_assert_str_eq(st.slas[0].name, "mql_first_touch");
	cr_assert(st.slas[0].warned && st.slas[0].done);
	cr_assert_str_eq(st.slas[1].name, "mql_follow_up");
	cr_assert(!st.slas[1].warned && !st.slas[1].done);
	cr_assert_gt(st.n_recent, 1);
	cr_assert_gt(st.n_interests, 1);
	cr_assert_gt(st.n_breakdown, 1);
	cr_assert_neq(st.positions[FD_INPUT_ENGAGEMENT], 0);
	cr_assert_eq(st.positions[FD_INPUT_PROFILE], 55);
	cr_assert_neq(st.positions[FD_INPUT_ACTIVITY], 0);
	cr_assert_str_eq(st.owner_id, "rep-7");
	bytes first = encode(&st);

	fd_lead_state decoded;
	cr_assert_eq(fd_wire_decode_lead_state(first.data, first.len, arena, &decoded,
	                                       err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fd_engine_import(b.eng, &decoded, err, sizeof(err)), FD_OK, "%s", err);

	fd_lead_state again;
	cr_assert(fd_engine_export(b.eng, "lead-x", &again));
	bytes second = encode(&again);
	assert_same_bytes(first, second);

	/* and the restored lead still suppresses a replay */
	fd_engagement replay = { .event_id = "dl2", .lead_id = "lead-x",
	                         .occurred_at_ms = T0 + 3 * DAY, .type = "content_download",
	                         .partition = 3, .position = a.position };
	cr_assert_eq(fd_engine_engagement(b.eng, &replay, T0 + 3 * DAY, &b.sink, err, sizeof(err)),
	             FD_DUPLICATE);

	free(first.data);
	free(second.data);
	run_free(&a);
	run_free(&b);
}

/* The score stream's state: present with every field (held or not), absent
 * when nothing was published; a bad stage or grade in it is refused. */
Test(wire_state, published_score_state_round_trips)
{
	fd_lead_state st = full_state();
	assert_round_trip(&st);
	bytes b = encode(&st);
	Funneld__V1__LeadState *m = funneld__v1__lead_state__unpack(NULL, b.len, b.data);
	cr_assert_not_null(m);
	cr_assert_not_null(m->published);
	cr_assert_eq(m->published->at_ms, T0 + DAY + 3);
	cr_assert_float_eq(m->published->engagement_score, 12.75f, 0);
	cr_assert_eq(m->published->stage, FUNNELD__V1__STAGE__STAGE_MQL);
	cr_assert_str_eq(m->published->grade, "B");
	cr_assert(m->published->held);
	funneld__v1__lead_state__free_unpacked(m, NULL);
	free(b.data);
	st.published.flags = FD_PUBLISHED_EVER;
	assert_round_trip(&st);
	memset(&st.published, 0, sizeof st.published);
	assert_round_trip(&st);
	b = encode(&st);
	m = funneld__v1__lead_state__unpack(NULL, b.len, b.data);
	cr_assert_null(m->published, "nothing published: no field");
	funneld__v1__lead_state__free_unpacked(m, NULL);
	free(b.data);
}

Test(wire_state, a_published_score_with_a_bad_grade_is_refused)
{
	Funneld__V1__LeadState m;
	minimal_message(&m);
	Funneld__V1__LeadState__Published pub;
	funneld__v1__lead_state__published__init(&pub);
	pub.stage = FUNNELD__V1__STAGE__STAGE_MQL;
	pub.grade = "E";
	m.published = &pub;
	assert_rejected(&m, "lead state: unknown published grade \"E\"");
	pub.grade = "A";
	pub.stage = 0;
	assert_rejected(&m, "lead state: unknown published stage 0");
}
