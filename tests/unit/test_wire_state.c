/*
 * test_wire_state.c — the changelog codec (src/wire/state.c) alone and with
 * the engine. The compact encoding: its layout read back with the generated
 * protobuf-c code (what state.proto says, field by field, including the
 * vocabulary's numbers), records built with protobuf-c from the .proto
 * alone decoding to the state they describe, round trips of every field at
 * its edge values, the choice of number kinds, and the exact reasons for
 * malformed records. The v1 encoding: its mapping, and old records (built
 * with the old field numbers through protobuf-c, or read from the fuzz
 * corpus, written by funneld 0.1.0) decoding to the same state as their
 * compact encoding. With the engine: a lead exported, encoded, decoded,
 * imported into a fresh engine and exported again to the same bytes, in
 * both encodings and under a config whose types are reordered; and the
 * size of a realistic lead.
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

static bytes encode_v1(const fd_lead_state *st)
{
	bytes b;
	cr_assert_eq(fd_wire_encode_lead_state_v1(st, &b.data, &b.len), 0, "errno %d", errno);
	cr_assert_not_null(b.data);
	return b;
}

static fd_lead_state decode(bytes b)
{
	fd_lead_state st;
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &st, err, sizeof(err)), 0,
	             "%s", err);
	return st;
}

/* The Compact message of a record, unpacked by protobuf-c. */
static Funneld__V1__LeadState *unpack(bytes b)
{
	Funneld__V1__LeadState *m = funneld__v1__lead_state__unpack(NULL, b.len, b.data);
	cr_assert_not_null(m, "protobuf-c cannot unpack the record");
	return m;
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

/* Decode, compare with `st`, re-encode: the same bytes. The v1 encoding of
 * `st` decodes to the same state too, and it encodes to the same compact
 * bytes. */
static void assert_round_trip(const fd_lead_state *st)
{
	bytes first = encode(st);
	fd_lead_state back = decode(first);
	assert_same_state(&back, st);
	bytes second = encode(&back);
	assert_same_bytes(first, second);

	bytes old = encode_v1(st);
	fd_lead_state from_v1 = decode(old);
	assert_same_state(&from_v1, st);
	bytes third = encode(&from_v1);
	assert_same_bytes(first, third);
	free(first.data);
	free(second.data);
	free(old.data);
	free(third.data);
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

/* ---- v1: the mapping to LeadState ------------------------------------------ */

Test(wire_state, v1_encoder_maps_every_field_to_lead_state)
{
	fd_lead_state st = full_state();
	bytes b = encode_v1(&st);
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
	cr_assert_null(m->compact);
	cr_assert_eq(m->base.n_unknown_fields, 0);
	funneld__v1__lead_state__free_unpacked(m, NULL);
	free(b.data);
}

Test(wire_state, v1_only_non_zero_positions_become_applied_offsets)
{
	fd_lead_state st = full_state();
	st.positions[FD_INPUT_ENGAGEMENT] = 0;
	st.positions[FD_INPUT_ACTIVITY] = 0;
	bytes b = encode_v1(&st);
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
			bytes old = encode_v1(&st);
			Funneld__V1__LeadState *m = unpack(old);
			cr_assert_str_eq(m->grade, letters[g]);
			cr_assert_eq((int)m->stage, fd_wire_stage_to_proto((fd_stage)s));
			funneld__v1__lead_state__free_unpacked(m, NULL);

			bytes b = encode(&st);
			m = unpack(b);
			cr_assert_eq(m->compact->grade, (uint32_t)g);
			cr_assert_eq((int)m->compact->stage, fd_wire_stage_to_proto((fd_stage)s));
			funneld__v1__lead_state__free_unpacked(m, NULL);

			bytes both[2] = { old, b };
			for (int k = 0; k < 2; k++) {
				fd_lead_state back = decode(both[k]);
				cr_assert_eq(back.grade, g);
				cr_assert_eq(back.stage, (fd_stage)s);
				free(both[k].data);
			}
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
	/* lead_id; compact { stage LEAD (1), grade 3 }: nothing else */
	static uint8_t want[] = { 0x0a, 10, 'l', 'e', 'a', 'd', '-', 'e', 'm', 'p', 't', 'y',
		                      0xda, 0x01, 5, 0x10, 1, 0x88, 0x01, 3 };
	bytes expected = { want, sizeof want };
	assert_same_bytes(b, expected);

	fd_lead_state back = decode(b);
	cr_assert_eq(back.freq_head, 0);
	cr_assert_not_null(back.owner_id);
	cr_assert_not_null(back.lead_source);
	cr_assert_not_null(back.disqualified_by);
	st.freq_head = 0;
	assert_same_state(&back, &st);
	free(b.data);
	assert_round_trip(&st);

	bytes old = encode_v1(&st);
	Funneld__V1__LeadState *m = unpack(old);
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
	free(old.data);
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
	st.fit = -0.0;
	st.caps[0].awarded = -0.0; /* lists too */
	st.interests[1].score = -0.0;
	st.breakdown[2].points = -0.0;
	bytes first = encode(&st);
	bytes first_v1 = encode_v1(&st);
	st.engagement = 0.0;
	st.fit = 0.0;
	st.caps[0].awarded = 0.0;
	st.interests[1].score = 0.0;
	st.breakdown[2].points = 0.0;
	bytes plain = encode(&st);
	assert_same_bytes(first, plain);
	bytes plain_v1 = encode_v1(&st);
	assert_same_bytes(first_v1, plain_v1);
	free(first_v1.data);
	free(plain_v1.data);

	fd_lead_state back;
	cr_assert_eq(fd_wire_decode_lead_state(first.data, first.len, arena, &back,
	                                       err, sizeof(err)), 0, "%s", err);
	assert_same_double(back.engagement, 0.0, "engagement");
	assert_same_double(back.fit, 0.0, "fit");
	assert_same_double(back.caps[0].awarded, 0.0, "cap awarded");
	assert_same_double(back.interests[1].score, 0.0, "interest");
	assert_same_double(back.breakdown[2].points, 0.0, "breakdown");
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

	bytes again = encode_v1(&st);
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

/* ---- compact: the layout state.proto describes ----------------------------- */

/* The vocabulary of state.proto, in its order: word w is reference 2w. */
static const char *const vocabulary[] = {
	"mql_first_touch", "mql_follow_up", "sal_decision", "mql_decision", "page_view",
	"email_open", "email_click", "content_download", "webinar_attended", "event_attended",
	"form_submit", "demo_request", "contact_request", "pricing_view", "unsubscribe",
	"careers_page_view", "web", "email", "event", "paid", "partner", "unserved_country",
	"personal_email", "competitor", "student", "revenue_below_floor",
};
#define N_WORDS (sizeof vocabulary / sizeof vocabulary[0])

/* A lead the size of a demo lead, with names from both the vocabulary and
 * outside it. */
static fd_lead_state small_state(void)
{
	fd_lead_state st;
	memset(&st, 0, sizeof(st));
	st.lead_id = "lead-7";
	st.partition = 2;
	st.stage = FD_STAGE_SAL;
	st.grade = FD_GRADE_B;
	st.last_input_ms = T0 + DAY;
	st.last_event_ms = T0 + DAY;
	st.engagement_as_of_ms = T0 + DAY;
	st.engagement = 0.1 + 0.2;
	st.fit = 40;
	st.stage_entered_ms = T0 + DAY - 5;
	st.profile_updated_ms = T0 - HOUR;
	st.review_at_ms = 0;
	st.owner_id = "rep-ana";
	st.lead_source = "organic";   /* not a word */
	st.disqualified_by = "";
	st.freq_head = 20455;
	st.freq[0] = 2;
	st.freq[1] = 0;
	st.freq[2] = 1;
	st.n_freq = 3;
	st.seen[0] = 0x1122334455667788u;
	st.seen[1] = UINT64_MAX;
	st.n_seen = 2;
	fd_recent_activity recent[3] = {
		{ "webinar_attended", "webinar-scoring", "web", T0 + DAY },
		{ "page_view", "pricing", "web", T0 + DAY - 1000 },
		{ "page_visit", "", "email", T0 + DAY - 1000 }, /* a custom type, no content */
	};
	memcpy(st.recent, recent, sizeof recent);
	st.n_recent = 3;
	st.interests[0] = (fd_interest){ "webinar-scoring", 15 };
	st.interests[1] = (fd_interest){ "pricing", 0.75 };
	st.n_interests = 2;
	st.breakdown[0] = (fd_breakdown){ "page_view", 0.75 };
	st.breakdown[1] = (fd_breakdown){ "webinar_attended", 15 };
	st.n_breakdown = 2;
	st.caps[0] = (fd_state_cap){ "page_view", 20455, 1 };
	st.caps[1] = (fd_state_cap){ "email_click", 20453, 6 };
	st.n_caps = 2;
	st.slas[0] = (fd_state_sla){ "mql_first_touch", T0, T0 + 48 * HOUR, true, true };
	st.slas[1] = (fd_state_sla){ "sal_check", T0 + DAY - 5, T0 + 3 * DAY - 5, false, false };
	st.n_slas = 2;
	st.positions[FD_INPUT_ENGAGEMENT] = 1500;
	st.positions[FD_INPUT_PROFILE] = 40;
	return st;
}

Test(wire_state, compact_record_is_laid_out_as_state_proto_says)
{
	fd_lead_state st = small_state();
	bytes b = encode(&st);
	Funneld__V1__LeadState *top = unpack(b);
	/* a compact record: lead_id and compact, nothing of v1 */
	cr_assert_str_eq(top->lead_id, "lead-7");
	cr_assert_not_null(top->compact);
	cr_assert_eq(top->stage, 0);
	cr_assert_str_eq(top->grade, "");
	cr_assert_eq(top->last_input_ms, 0);
	cr_assert_eq(top->n_applied_offsets, 0);
	cr_assert_eq(top->base.n_unknown_fields, 0);
	const Funneld__V1__LeadState__Compact *c = top->compact;
	cr_assert_eq(c->base.n_unknown_fields, 0);

	/* strings outside the vocabulary, in order of first reference */
	static const char *table[] = { "webinar-scoring", "pricing", "page_visit", "sal_check",
		                           "organic" };
	cr_assert_eq(c->n_strings, 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_str_eq(c->strings[i], table[i]);
	/* references: 2w for word w, 2k - 1 for strings[k - 1], 0 for "" */
	uint32_t recent_refs[] = { 2 * 9, 1, 2 * 17, 2 * 5, 3, 2 * 17, 5, 0, 2 * 18 };
	cr_assert_eq(c->n_recent_refs, 9);
	for (size_t i = 0; i < 9; i++)
		cr_assert_eq(c->recent_refs[i], recent_refs[i], "recent_refs[%zu]", i);
	cr_assert_eq(c->n_recent_times, 3);
	cr_assert_eq(c->recent_times[0], 0);     /* last_input - newest */
	cr_assert_eq(c->recent_times[1], 1000);  /* each one before: previous - this */
	cr_assert_eq(c->recent_times[2], 0);

	cr_assert_eq(c->stage, FUNNELD__V1__STAGE__STAGE_SAL);
	cr_assert_eq(c->grade, FD_GRADE_B);
	cr_assert_eq(c->partition, 2);
	cr_assert_eq(c->last_input_ms, T0 + DAY);
	/* scalar times: present with their delta, absent when 0 */
	cr_assert_eq(c->last_event_time_case,
	             FUNNELD__V1__LEAD_STATE__COMPACT__LAST_EVENT_TIME_LAST_EVENT);
	cr_assert_eq(c->last_event, 0);
	cr_assert_eq(c->engagement_as_of, 0);
	cr_assert_eq(c->stage_entered, -5);
	cr_assert_eq(c->profile_updated, -DAY - HOUR);
	cr_assert_eq(c->last_high_intent_time_case,
	             FUNNELD__V1__LEAD_STATE__COMPACT__LAST_HIGH_INTENT_TIME__NOT_SET);
	cr_assert_eq(c->review_at_time_case, FUNNELD__V1__LEAD_STATE__COMPACT__REVIEW_AT_TIME__NOT_SET);
	/* numbers: whole, float or double */
	assert_same_double(c->engagement, 0.1 + 0.2, "engagement");
	cr_assert_eq(c->engagement_whole, 0);
	cr_assert_eq(c->fit_whole, 40);
	cr_assert_eq(c->fit, 0);
	cr_assert_eq(c->fit_double, 0);

	cr_assert_str_eq(c->owner_id, "rep-ana");
	cr_assert_eq(c->lead_source, 9);         /* strings[4] */
	cr_assert_eq(c->disqualified_by, 0);

	cr_assert_eq(c->n_recent_ids, 2);
	cr_assert_eq(c->recent_ids[0], 0x1122334455667788u);
	cr_assert_eq(c->recent_ids[1], UINT64_MAX);
	int64_t freq[] = { 20455, 2, 0, 1 };
	cr_assert_eq(c->n_freq, 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(c->freq[i], freq[i]);

	cr_assert_eq(c->n_interest_refs, 2);
	cr_assert_eq(c->interest_refs[0], 1);
	cr_assert_eq(c->interest_refs[1], 3);
	cr_assert_eq(c->n_interest_scores, 2);
	cr_assert_eq(c->interest_scores[0], 15.0f);
	cr_assert_eq(c->interest_scores[1], 0.75f);
	cr_assert_eq(c->n_interest_scores_double, 0);
	cr_assert_eq(c->n_breakdown_refs, 2);
	cr_assert_eq(c->breakdown_refs[0], 2 * 5);
	cr_assert_eq(c->breakdown_refs[1], 2 * 9);
	cr_assert_eq(c->n_breakdown_points, 2);
	cr_assert_eq(c->n_breakdown_points_double, 0);

	/* caps: windows from the freq head, then from the one before */
	cr_assert_eq(c->n_cap_refs, 2);
	cr_assert_eq(c->cap_refs[0], 2 * 5);
	cr_assert_eq(c->cap_refs[1], 2 * 7);
	cr_assert_eq(c->n_cap_windows, 2);
	cr_assert_eq(c->cap_windows[0], 0);
	cr_assert_eq(c->cap_windows[1], -2);
	cr_assert_eq(c->n_cap_awarded_whole, 2);
	cr_assert_eq(c->cap_awarded_whole[0], 1);
	cr_assert_eq(c->cap_awarded_whole[1], 6);
	cr_assert_eq(c->n_cap_awarded, 0);

	/* SLAs: (reference << 2) | done << 1 | warned, started from the base,
	 * due from started */
	cr_assert_eq(c->n_sla_refs, 2);
	cr_assert_eq(c->sla_refs[0], (2 * 1) << 2 | 3);
	cr_assert_eq(c->sla_refs[1], 7 << 2);
	cr_assert_eq(c->sla_started[0], -DAY);
	cr_assert_eq(c->sla_started[1], -5);
	cr_assert_eq(c->sla_due[0], 48 * HOUR);
	cr_assert_eq(c->sla_due[1], 2 * DAY);

	int64_t positions[] = { 1500, 40 }; /* the activity's 0 left out */
	cr_assert_eq(c->n_positions, 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(c->positions[i], positions[i]);
	funneld__v1__lead_state__free_unpacked(top, NULL);
	free(b.data);
	assert_round_trip(&st);
}

Test(wire_state, compact_bytes_are_canonical_protobuf)
{
	/* what protobuf-c packs from the unpacked record is the record again:
	 * field order, packing and zeros left out are protobuf's own */
	fd_lead_state states[] = { full_state(), small_state(), full_state() };
	states[2].fit = 0.5;
	states[2].engagement = 7;
	states[2].caps[1].awarded = 0.5;
	states[2].interests[3].score = 0.1;
	states[2].review_at_ms = 0;
	states[2].positions[FD_INPUT_PROFILE] = 0;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		bytes b = encode(&states[i]);
		Funneld__V1__LeadState *m = unpack(b);
		bytes again = pack_message(&m->base);
		assert_same_bytes(b, again);
		funneld__v1__lead_state__free_unpacked(m, NULL);
		free(b.data);
		free(again.data);
	}
}

Test(wire_state, every_vocabulary_word_keeps_its_number)
{
	fd_lead_state st;
	memset(&st, 0, sizeof(st));
	st.lead_id = "lead-words";
	st.stage = FD_STAGE_LEAD;
	for (size_t w = 0; w < N_WORDS; w++) {
		/* a copy: the word is found by content, not address */
		static char word[32];
		snprintf(word, sizeof word, "%s", vocabulary[w]);
		st.breakdown[0].type = word;
		st.breakdown[0].points = 1;
		st.n_breakdown = 1;
		bytes b = encode(&st);
		Funneld__V1__LeadState *m = unpack(b);
		cr_assert_eq(m->compact->n_strings, 0, "%s is spelt out", vocabulary[w]);
		cr_assert_eq(m->compact->breakdown_refs[0], 2 * (w + 1), "%s", vocabulary[w]);
		funneld__v1__lead_state__free_unpacked(m, NULL);
		fd_lead_state back = decode(b);
		cr_assert_str_eq(back.breakdown[0].type, vocabulary[w]);
		free(b.data);
	}
	/* near misses are spelt out */
	static const char *others[] = { "Page_View", "page_view ", "web2", "we", "x" };
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		st.breakdown[0].type = others[i];
		bytes b = encode(&st);
		Funneld__V1__LeadState *m = unpack(b);
		cr_assert_eq(m->compact->n_strings, 1);
		cr_assert_str_eq(m->compact->strings[0], others[i]);
		cr_assert_eq(m->compact->breakdown_refs[0], 1);
		funneld__v1__lead_state__free_unpacked(m, NULL);
		free(b.data);
	}
}

Test(wire_state, compact_record_built_from_the_proto_alone_decodes)
{
	/* another team's writer: protobuf-c and state.proto, nothing of ours */
	Funneld__V1__LeadState m;
	Funneld__V1__LeadState__Compact c;
	funneld__v1__lead_state__init(&m);
	funneld__v1__lead_state__compact__init(&c);
	m.lead_id = "lead-9";
	m.compact = &c;
	char *strings[] = { "ebook-7", "rep-visit", "my_sla" };
	c.n_strings = 3;
	c.strings = strings;
	c.stage = FUNNELD__V1__STAGE__STAGE_NURTURE;
	c.grade = 3;
	c.partition = -1;
	c.last_input_ms = T0;
	c.last_event_time_case = FUNNELD__V1__LEAD_STATE__COMPACT__LAST_EVENT_TIME_LAST_EVENT;
	c.last_event = -HOUR;
	c.engagement_as_of_time_case =
		FUNNELD__V1__LEAD_STATE__COMPACT__ENGAGEMENT_AS_OF_TIME_ENGAGEMENT_AS_OF;
	c.engagement_as_of = 0;
	c.review_at_time_case = FUNNELD__V1__LEAD_STATE__COMPACT__REVIEW_AT_TIME_REVIEW_AT;
	c.review_at = 90 * DAY;
	c.engagement_whole = -20;
	c.fit_double = 65.0 / 3.0;
	c.owner_id = "rep-9";
	c.lead_source = 2 * 19;        /* "event" */
	c.disqualified_by = 2 * 25;    /* "student" */
	uint64_t ids[] = { 5, 6 };
	c.n_recent_ids = 2;
	c.recent_ids = ids;
	int64_t freq[] = { 20000, 4, 0, 2 };
	c.n_freq = 4;
	c.freq = freq;
	uint32_t recent_refs[] = { 2 * 8, 1, 2 * 18, 3, 0, 0 };
	int64_t recent_times[] = { HOUR, 30 };
	c.n_recent_refs = 6;
	c.recent_refs = recent_refs;
	c.n_recent_times = 2;
	c.recent_times = recent_times;
	uint32_t interest_refs[] = { 1 };
	double interest_scores[] = { 0.1 };
	c.n_interest_refs = 1;
	c.interest_refs = interest_refs;
	c.n_interest_scores_double = 1;
	c.interest_scores_double = interest_scores;
	uint32_t breakdown_refs[] = { 2 * 8, 2 * 15 };
	float breakdown_points[] = { 8.5f, -20.0f };
	c.n_breakdown_refs = 2;
	c.breakdown_refs = breakdown_refs;
	c.n_breakdown_points = 2;
	c.breakdown_points = breakdown_points;
	uint32_t cap_refs[] = { 2 * 5 };
	int64_t cap_windows[] = { -3 };
	double cap_awarded[] = { 2.5 };
	c.n_cap_refs = 1;
	c.cap_refs = cap_refs;
	c.n_cap_windows = 1;
	c.cap_windows = cap_windows;
	c.n_cap_awarded = 1;
	c.cap_awarded = cap_awarded;
	uint32_t sla_refs[] = { 5 << 2 | 1 };
	int64_t sla_started[] = { -DAY };
	int64_t sla_due[] = { 30 * DAY };
	c.n_sla_refs = 1;
	c.sla_refs = sla_refs;
	c.n_sla_started = 1;
	c.sla_started = sla_started;
	c.n_sla_due = 1;
	c.sla_due = sla_due;
	int64_t positions[] = { 0, 0, 77 };
	c.n_positions = 3;
	c.positions = positions;
	bytes b = pack_message(&m.base);

	fd_lead_state want;
	memset(&want, 0, sizeof(want));
	want.lead_id = "lead-9";
	want.stage = FD_STAGE_NURTURE;
	want.grade = FD_GRADE_D;
	want.partition = -1;
	want.last_input_ms = T0;
	want.last_event_ms = T0 - HOUR;
	want.engagement_as_of_ms = T0;
	want.review_at_ms = T0 + 90 * DAY;
	want.engagement = -20;
	want.fit = 65.0 / 3.0;
	want.owner_id = "rep-9";
	want.lead_source = "event";
	want.disqualified_by = "student";
	want.seen[0] = 5;
	want.seen[1] = 6;
	want.n_seen = 2;
	want.freq_head = 20000;
	want.freq[0] = 4;
	want.freq[1] = 0;
	want.freq[2] = 2;
	want.n_freq = 3;
	want.recent[0] = (fd_recent_activity){ "content_download", "ebook-7", "email", T0 - HOUR };
	want.recent[1] = (fd_recent_activity){ "rep-visit", "", "", T0 - HOUR - 30 };
	want.n_recent = 2;
	want.interests[0] = (fd_interest){ "ebook-7", 0.1 };
	want.n_interests = 1;
	want.breakdown[0] = (fd_breakdown){ "content_download", 8.5 };
	want.breakdown[1] = (fd_breakdown){ "unsubscribe", -20 };
	want.n_breakdown = 2;
	want.caps[0] = (fd_state_cap){ "page_view", 19997, 2.5 };
	want.n_caps = 1;
	want.slas[0] = (fd_state_sla){ "my_sla", T0 - DAY, T0 + 29 * DAY, true, false };
	want.n_slas = 1;
	want.positions[FD_INPUT_ACTIVITY] = 77;
	fd_lead_state back = decode(b);
	assert_same_state(&back, &want);
	/* and our writer agrees, but for its own choices (no trailing zero
	 * positions here, ...), so the state round-trips */
	assert_round_trip(&want);
	free(b.data);
}

/* Protobuf bytes built by hand, for what protobuf-c would not write. */
typedef struct pb {
	uint8_t d[1024];
	size_t n;
} pb;

static void pb_varint(pb *b, uint64_t v)
{
	while (v >= 0x80) {
		b->d[b->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->d[b->n++] = (uint8_t)v;
}

static void pb_key(pb *b, unsigned field, unsigned wire_type)
{
	pb_varint(b, (uint64_t)field << 3 | wire_type);
}

static void pb_fixed64(pb *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b->d[b->n++] = (uint8_t)(v >> (8 * i));
}

static void pb_bytes(pb *b, unsigned field, const void *p, size_t n)
{
	pb_key(b, field, 2);
	pb_varint(b, n);
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

/* A record: lead_id "x" and `body` as field 27. */
static bytes compact_record(const pb *body)
{
	static pb rec;
	rec.n = 0;
	pb_bytes(&rec, 1, "x", 1);
	pb_bytes(&rec, 27, body->d, body->n);
	bytes b = { rec.d, rec.n };
	return b;
}

Test(wire_state, compact_reader_takes_what_protobuf_allows)
{
	/* a single field twice (the last wins), repeated scalars unpacked and
	 * packed (appended), unknown fields at both levels skipped, field 27
	 * twice (merged) */
	pb one = { .n = 0 }, two = { .n = 0 }, rec = { .n = 0 };
	pb_key(&one, 2, 0);
	pb_varint(&one, 1);
	pb_key(&one, 2, 0);
	pb_varint(&one, 2);
	pb_key(&one, 8, 1);
	pb_fixed64(&one, 9);
	pb_key(&one, 99, 0);
	pb_varint(&one, 133);
	uint8_t ten[8] = { 10 };
	pb_bytes(&one, 8, ten, sizeof ten);
	pb_bytes(&one, 100, "hi", 2);
	pb_key(&one, 28, 0);
	pb_varint(&one, 5);
	pb_key(&two, 17, 0);
	pb_varint(&two, 3);
	pb_bytes(&rec, 1, "x", 1);
	pb_bytes(&rec, 27, one.d, one.n);
	pb_key(&rec, 41, 0);
	pb_varint(&rec, 3);
	pb_bytes(&rec, 27, two.d, two.n);
	bytes b = { rec.d, rec.n };
	fd_lead_state st = decode(b);
	cr_assert_str_eq(st.lead_id, "x");
	cr_assert_eq(st.stage, FD_STAGE_MQL);
	cr_assert_eq(st.grade, FD_GRADE_D);
	cr_assert_eq(st.n_seen, 2);
	cr_assert_eq(st.seen[0], 9);
	cr_assert_eq(st.seen[1], 10);
	cr_assert_eq(st.positions[FD_INPUT_ENGAGEMENT], 5);

	/* an empty field 27 is a compact record (and needs a stage) */
	pb empty = { .n = 0 };
	b = compact_record(&empty);
	fd_lead_state out;
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &out, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "lead state: unknown stage 0");
}

/* ---- compact: round trips at the edges --------------------------------------- */

Test(wire_state, every_time_round_trips_at_its_extremes)
{
	static const int64_t times[] = { 0, 1, -1, T0, -T0, INT64_MIN, INT64_MAX, INT64_MIN + 1,
		                             INT64_MAX - 1, FD_TIME_MAX };
	enum { N = sizeof times / sizeof times[0] };
	fd_lead_state st = small_state();
	for (size_t b = 0; b < N; b++) {
		for (size_t t = 0; t < N; t++) {
			st.last_input_ms = times[b];
			int64_t v = times[t], w = times[(t + 3) % N];
			st.last_event_ms = v;
			st.engagement_as_of_ms = w;
			st.stage_entered_ms = v;
			st.last_high_intent_ms = w;
			st.profile_updated_ms = v;
			st.review_at_ms = w;
			st.recent[0].occurred_at_ms = v;
			st.recent[1].occurred_at_ms = w; /* later than the one before: a negative delta */
			st.recent[2].occurred_at_ms = v;
			st.slas[0].started_at_ms = v;
			st.slas[0].due_at_ms = w;
			st.slas[1].started_at_ms = w;
			st.slas[1].due_at_ms = v;
			st.caps[0].window = v;
			st.caps[1].window = w;
			st.freq_head = w;
			st.positions[FD_INPUT_ENGAGEMENT] = v;
			st.positions[FD_INPUT_PROFILE] = w;
			st.positions[FD_INPUT_ACTIVITY] = v;
			assert_round_trip(&st);
		}
	}
}

Test(wire_state, small_integers_round_trip_at_their_extremes)
{
	fd_lead_state st = small_state();
	static const int32_t partitions[] = { 0, 1, -1, INT32_MAX, INT32_MIN };
	for (size_t i = 0; i < sizeof partitions / sizeof partitions[0]; i++) {
		st.partition = partitions[i];
		assert_round_trip(&st);
	}
	st.freq[0] = UINT32_MAX;
	st.freq[1] = 0;
	st.freq[2] = 1;
	st.seen[0] = 0;
	st.seen[1] = UINT64_MAX;
	assert_round_trip(&st);
	st.n_freq = 1; /* the head and one count */
	st.freq[0] = 0;
	assert_round_trip(&st);
}

Test(wire_state, numbers_take_the_smallest_exact_kind)
{
	fd_lead_state st = small_state();
	struct {
		double v;
		int kind; /* 0 none, 1 whole, 2 float, 3 double */
	} cases[] = {
		{ 0, 0 },        { -0.0, 0 },     { 40, 1 },        { -7, 1 },
		{ 9007199254740992.0, 1 },        { -9007199254740992.0, 1 },
		{ 1152921504606846976.0, 2 },     /* 2^60: whole, but past 2^53; a float */
		{ 9007199254740994.0, 3 },        /* 2^53 + 2: neither */
		{ 0.5, 2 },      { FLT_MIN, 2 },  { INFINITY, 2 },  { -INFINITY, 2 },
		{ 65.0 / 3.0, 3 }, { 0.1, 3 },   { 5e-324, 3 },    { DBL_MAX, 3 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		st.fit = cases[i].v;
		st.engagement = cases[i].v;
		bytes b = encode(&st);
		Funneld__V1__LeadState *m = unpack(b);
		const Funneld__V1__LeadState__Compact *c = m->compact;
		int fit_kind = c->fit_whole ? 1 : c->fit != 0 ? 2 : c->fit_double != 0 ? 3 : 0;
		cr_assert_eq(fit_kind, cases[i].kind, "fit %a", cases[i].v);
		/* engagement has no float kind: a double instead */
		int eng_kind = c->engagement_whole ? 1 : c->engagement != 0 ? 3 : 0;
		int want = cases[i].kind == 2 ? 3 : cases[i].kind;
		cr_assert_eq(eng_kind, want, "engagement %a", cases[i].v);
		funneld__v1__lead_state__free_unpacked(m, NULL);
		free(b.data);
		if (cases[i].v == 0)
			st.fit = st.engagement = 0.0; /* -0.0 reads back as 0 */
		assert_round_trip(&st);
	}
	st.fit = nan("1");
	st.engagement = -nan("2");
	assert_round_trip(&st);
}

Test(wire_state, number_lists_fall_back_to_doubles_as_a_whole)
{
	fd_lead_state st = small_state();
	bytes b = encode(&st);
	Funneld__V1__LeadState *m = unpack(b);
	cr_assert_eq(m->compact->n_interest_scores, 2);
	cr_assert_eq(m->compact->n_cap_awarded_whole, 2);
	funneld__v1__lead_state__free_unpacked(m, NULL);
	free(b.data);

	st.interests[1].score = 0.1;           /* not a float */
	st.breakdown[0].points = nan("3");     /* a NaN's payload: kept as a double */
	st.caps[1].awarded = 0.25;             /* not whole */
	b = encode(&st);
	m = unpack(b);
	const Funneld__V1__LeadState__Compact *c = m->compact;
	cr_assert_eq(c->n_interest_scores, 0);
	cr_assert_eq(c->n_interest_scores_double, 2);
	assert_same_double(c->interest_scores_double[0], 15, "interest 0");
	assert_same_double(c->interest_scores_double[1], 0.1, "interest 1");
	cr_assert_eq(c->n_breakdown_points, 0);
	cr_assert_eq(c->n_breakdown_points_double, 2);
	cr_assert_eq(c->n_cap_awarded_whole, 0);
	cr_assert_eq(c->n_cap_awarded, 2);
	assert_same_double(c->cap_awarded[0], 1, "cap 0");
	funneld__v1__lead_state__free_unpacked(m, NULL);
	free(b.data);
	assert_round_trip(&st);
}

Test(wire_state, full_and_empty_lists_round_trip)
{
	fd_lead_state st = full_state(); /* every list at its capacity */
	assert_round_trip(&st);
	st.n_seen = 0;
	st.n_freq = 0;
	st.n_recent = 0;
	st.n_interests = 0;
	st.n_breakdown = 0;
	st.n_caps = 0;
	st.n_slas = 0;
	st.freq_head = 0;
	memset(st.positions, 0, sizeof st.positions);
	assert_round_trip(&st);
	/* one of each */
	st = full_state();
	st.n_seen = st.n_freq = st.n_recent = st.n_interests = st.n_breakdown = st.n_caps =
		st.n_slas = 1;
	assert_round_trip(&st);
}

/* ---- compact: what the reader refuses ---------------------------------------- */

/* Decoding `b` fails with exactly `reason` and leaves the output zeroed. */
static void assert_refused_bytes(bytes b, const char *reason)
{
	fd_lead_state st;
	memset(&st, 0xab, sizeof(st));
	cr_assert_eq(fd_wire_decode_lead_state(b.data, b.len, arena, &st, err, sizeof(err)), -1,
	             "accepted, expected \"%s\"", reason);
	cr_assert_str_eq(err, reason);
	cr_assert_null(st.lead_id);
	cr_assert_eq(st.n_recent, 0);
	cr_assert_eq(st.positions[0], 0);
}

/* A valid Compact message to break one field of: stage MQL. */
static void minimal_compact(Funneld__V1__LeadState *m, Funneld__V1__LeadState__Compact *c)
{
	funneld__v1__lead_state__init(m);
	funneld__v1__lead_state__compact__init(c);
	m->lead_id = "lead-1";
	m->compact = c;
	c->stage = FUNNELD__V1__STAGE__STAGE_MQL;
}

static void assert_compact_refused(Funneld__V1__LeadState *m, const char *reason)
{
	bytes b = pack_message(&m->base);
	assert_refused_bytes(b, reason);
	free(b.data);
}

Test(wire_state, compact_scalars_are_checked)
{
	Funneld__V1__LeadState m;
	Funneld__V1__LeadState__Compact c;
	minimal_compact(&m, &c);
	bytes ok = pack_message(&m.base);
	fd_lead_state st = decode(ok);
	cr_assert_eq(st.stage, FD_STAGE_MQL);
	free(ok.data);

	m.lead_id = "";
	assert_compact_refused(&m, "lead state: missing lead_id");
	m.lead_id = "lead-1";
	c.stage = FUNNELD__V1__STAGE__STAGE_UNSPECIFIED;
	assert_compact_refused(&m, "lead state: unknown stage 0");
	c.stage = (Funneld__V1__Stage)9;
	assert_compact_refused(&m, "lead state: unknown stage 9");
	c.stage = FUNNELD__V1__STAGE__STAGE_MQL;
	c.grade = 4;
	assert_compact_refused(&m, "lead state: unknown grade 4");
	c.grade = 0;

	/* a field of v1 beside field 27 */
	m.partition = 3;
	assert_compact_refused(&m, "lead state: field 25 of the v1 encoding in a compact record");
	m.partition = 0;
	m.stage = FUNNELD__V1__STAGE__STAGE_MQL;
	assert_compact_refused(&m, "lead state: field 2 of the v1 encoding in a compact record");
	m.stage = 0;

	/* a number in two of its fields */
	c.fit_whole = 40;
	c.fit = 0.5f;
	assert_compact_refused(&m, "lead state: both fit_whole and fit");
	c.fit_whole = 0;
	c.fit_double = 0.1;
	assert_compact_refused(&m, "lead state: both fit and fit_double");
	c.fit = 0;
	c.fit_double = 0;
	c.engagement_whole = 2;
	c.engagement = 2.5;
	assert_compact_refused(&m, "lead state: both engagement_whole and engagement");
	c.engagement = 0;

	/* references */
	c.lead_source = 3; /* strings[1]: there is none */
	assert_compact_refused(&m, "lead state: lead_source or disqualified_by refers to a string "
	                           "that is not there");
	c.lead_source = 2 * 27; /* past the vocabulary */
	assert_compact_refused(&m, "lead state: lead_source or disqualified_by refers to a string "
	                           "that is not there");
	c.lead_source = 2 * 26;
	ok = pack_message(&m.base);
	st = decode(ok);
	cr_assert_str_eq(st.lead_source, "revenue_below_floor");
	free(ok.data);
}

Test(wire_state, compact_strings_are_checked)
{
	pb body = { .n = 0 };
	pb_key(&body, 2, 0);
	pb_varint(&body, 2);
	pb_bytes(&body, 1, "a\0b", 3);
	assert_refused_bytes(compact_record(&body), "lead state: NUL byte in strings[0]");

	body.n = 0;
	pb_key(&body, 2, 0);
	pb_varint(&body, 2);
	pb_bytes(&body, 23, "rep\0", 4);
	assert_refused_bytes(compact_record(&body), "lead state: NUL byte in owner_id");

	pb rec = { .n = 0 };
	body.n = 0;
	pb_key(&body, 2, 0);
	pb_varint(&body, 2);
	pb_bytes(&rec, 1, "le\0ad", 5);
	pb_bytes(&rec, 27, body.d, body.n);
	bytes b = { rec.d, rec.n };
	assert_refused_bytes(b, "lead state: NUL byte in lead_id");
}

Test(wire_state, compact_lists_must_agree)
{
	Funneld__V1__LeadState m;
	Funneld__V1__LeadState__Compact c;
	minimal_compact(&m, &c);
	char *strings[] = { "one" };
	c.n_strings = 1;
	c.strings = strings;

	uint32_t refs[] = { 1, 1, 1, 1, 1, 1 };
	int64_t times[] = { 0, 0 };
	c.recent_refs = refs;
	c.recent_times = times;
	c.n_recent_refs = 5;
	c.n_recent_times = 2;
	assert_compact_refused(&m, "lead state: 5 recent_refs for 2 recent_times, want 3 each");
	c.n_recent_refs = 6;
	refs[4] = 3;
	assert_compact_refused(&m, "lead state: recent activity 1 refers to a string that is not "
	                           "there");
	refs[4] = 2 * 27;
	assert_compact_refused(&m, "lead state: recent activity 1 refers to a string that is not "
	                           "there");
	refs[4] = 0;
	bytes ok = pack_message(&m.base);
	fd_lead_state st = decode(ok);
	cr_assert_eq(st.n_recent, 2);
	cr_assert_str_eq(st.recent[1].content_id, "");
	free(ok.data);
	c.n_recent_refs = c.n_recent_times = 0;

	float scores[] = { 1, 2 };
	double wide[] = { 1, 2 };
	c.interest_refs = refs;
	c.n_interest_refs = 2;
	assert_compact_refused(&m, "lead state: 0 interest_scores for 2 interests");
	c.interest_scores = scores;
	c.n_interest_scores = 1;
	assert_compact_refused(&m, "lead state: 1 interest_scores for 2 interests");
	c.n_interest_scores = 2;
	c.interest_scores_double = wide;
	c.n_interest_scores_double = 2;
	assert_compact_refused(&m, "lead state: interests in both interest_scores and "
	                           "interest_scores_double");
	c.n_interest_scores = 0;
	c.n_interest_refs = 0;
	assert_compact_refused(&m, "lead state: 2 interest_scores_double for 0 interests");
	c.n_interest_scores_double = 0;

	c.breakdown_refs = refs;
	c.n_breakdown_refs = 1;
	c.breakdown_points_double = wide;
	c.n_breakdown_points_double = 2;
	assert_compact_refused(&m, "lead state: 2 breakdown_points_double for 1 breakdown entries");
	c.n_breakdown_refs = 0;
	c.n_breakdown_points_double = 0;

	int64_t windows[] = { 1 };
	int64_t awarded[] = { 1, 2 };
	c.cap_refs = refs;
	c.n_cap_refs = 1;
	c.cap_awarded_whole = awarded;
	c.n_cap_awarded_whole = 1;
	assert_compact_refused(&m, "lead state: 0 cap_windows for 1 caps");
	c.cap_windows = windows;
	c.n_cap_windows = 1;
	c.n_cap_awarded_whole = 2;
	assert_compact_refused(&m, "lead state: 2 cap_awarded_whole for 1 caps");
	c.n_cap_refs = c.n_cap_windows = c.n_cap_awarded_whole = 0;

	uint32_t sla_refs[] = { 1 << 2 };
	int64_t started[] = { 0 };
	c.sla_refs = sla_refs;
	c.n_sla_refs = 1;
	c.sla_started = started;
	c.n_sla_started = 1;
	assert_compact_refused(&m, "lead state: 0 sla_due for 1 SLAs");
	c.n_sla_refs = c.n_sla_started = 0;

	int64_t freq[] = { 7, 1, (int64_t)UINT32_MAX + 1 };
	c.freq = freq;
	c.n_freq = 3;
	assert_compact_refused(&m, "lead state: frequency count 4294967296 out of range");
	freq[2] = UINT32_MAX;
	ok = pack_message(&m.base);
	st = decode(ok);
	cr_assert_eq(st.n_freq, 2);
	cr_assert_eq(st.freq[1], UINT32_MAX);
	free(ok.data);
	c.n_freq = 1; /* a head alone: no counts */
	ok = pack_message(&m.base);
	st = decode(ok);
	cr_assert_eq(st.n_freq, 0);
	cr_assert_eq(st.freq_head, 0);
	free(ok.data);
}

Test(wire_state, every_compact_list_is_bounded)
{
	static const struct {
		unsigned field, wire_type;
		const char *name;
		int max;
	} lists[] = {
		{ 1, 2, "strings", 274 },       { 8, 1, "recent_ids", 64 },
		{ 9, 0, "freq", 33 },           { 10, 0, "recent_refs", 96 },
		{ 11, 0, "recent_times", 32 },  { 12, 0, "interest_refs", 32 },
		{ 13, 5, "interest_scores", 32 }, { 14, 0, "breakdown_refs", 64 },
		{ 15, 5, "breakdown_points", 64 }, { 28, 0, "positions", 3 },
		{ 29, 0, "cap_refs", 64 },      { 30, 0, "cap_windows", 64 },
		{ 31, 0, "cap_awarded_whole", 64 }, { 32, 1, "cap_awarded", 64 },
		{ 33, 0, "sla_refs", 16 },      { 34, 0, "sla_started", 16 },
		{ 35, 0, "sla_due", 16 },       { 36, 1, "interest_scores_double", 32 },
		{ 37, 1, "breakdown_points_double", 64 },
	};
	static pb body, rec;
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		body.n = 0;
		pb_key(&body, 2, 0);
		pb_varint(&body, 2);
		for (int k = 0; k <= lists[i].max; k++) {
			if (lists[i].wire_type == 2) {
				pb_bytes(&body, lists[i].field, "s", 1);
				continue;
			}
			pb_key(&body, lists[i].field, lists[i].wire_type);
			if (lists[i].wire_type == 0)
				pb_varint(&body, 0);
			else
				for (int j = 0; j < (lists[i].wire_type == 1 ? 8 : 4); j++)
					body.d[body.n++] = 0;
		}
		rec.n = 0;
		pb_bytes(&rec, 1, "x", 1);
		pb_bytes(&rec, 27, body.d, body.n);
		bytes b = { rec.d, rec.n };
		char want[128];
		snprintf(want, sizeof want, "lead state: %d %s, at most %d", lists[i].max + 1,
		         lists[i].name, lists[i].max);
		assert_refused_bytes(b, want);
	}
}

Test(wire_state, malformed_compact_records_are_refused)
{
	static const char *malformed = "lead state: malformed LeadState";
	pb body = { .n = 0 };
	pb_key(&body, 2, 2); /* stage as bytes */
	pb_varint(&body, 1);
	body.d[body.n++] = 1;
	assert_refused_bytes(compact_record(&body), malformed);

	body.n = 0;
	pb_bytes(&body, 8, "1234567", 7); /* packed fixed64 of 7 bytes */
	assert_refused_bytes(compact_record(&body), malformed);

	body.n = 0;
	pb_key(&body, 9, 2); /* packed varints cut inside the last one */
	pb_varint(&body, 2);
	body.d[body.n++] = 1;
	body.d[body.n++] = 0x80;
	assert_refused_bytes(compact_record(&body), malformed);

	body.n = 0;
	pb_key(&body, 3, 0); /* an eleven-byte varint */
	for (int i = 0; i < 10; i++)
		body.d[body.n++] = 0xff;
	body.d[body.n++] = 0x01;
	assert_refused_bytes(compact_record(&body), malformed);

	body.n = 0;
	pb_key(&body, 50, 3); /* a group */
	assert_refused_bytes(compact_record(&body), malformed);

	body.n = 0;
	pb_key(&body, 0, 0); /* field 0 */
	pb_varint(&body, 1);
	assert_refused_bytes(compact_record(&body), malformed);

	/* field 27 not bytes; the record cut inside field 27 */
	pb rec = { .n = 0 };
	pb_bytes(&rec, 1, "x", 1);
	pb_key(&rec, 27, 0);
	pb_varint(&rec, 1);
	bytes b = { rec.d, rec.n };
	assert_refused_bytes(b, malformed);
	fd_lead_state st = small_state();
	bytes full = encode(&st);
	for (size_t cut = 1; cut < full.len; cut++) {
		bytes part = { full.data, cut };
		fd_lead_state out;
		cr_assert_eq(fd_wire_decode_lead_state(part.data, part.len, arena, &out, err,
		                                       sizeof(err)), -1, "cut at %zu accepted", cut);
	}
	free(full.data);
}

/* ---- old records: the v1 encoding --------------------------------------------- */

/* A v1 record of `st` built by hand with the old field numbers (protobuf-c
 * and state.proto's fields 1 to 26 only), independent of the v1 encoder. */
static bytes v1_by_hand(const fd_lead_state *st)
{
	static const char *letters[] = { "A", "B", "C", "D" };
	static const char *topics[] = { "engagement", "profile", "activity" };
	static Funneld__V1__LeadState__Cap caps[FD_MAX_EVENT_TYPES], *cap_ptrs[FD_MAX_EVENT_TYPES];
	static Funneld__V1__LeadState__OpenSla slas[FD_MAX_SLAS], *sla_ptrs[FD_MAX_SLAS];
	static Funneld__V1__RecentActivity recent[FD_MAX_CONTEXT], *recent_ptrs[FD_MAX_CONTEXT];
	static Funneld__V1__Interest interests[FD_MAX_CONTEXT], *interest_ptrs[FD_MAX_CONTEXT];
	static Funneld__V1__Breakdown breakdown[FD_MAX_EVENT_TYPES],
		*breakdown_ptrs[FD_MAX_EVENT_TYPES];
	static Funneld__V1__LeadState__AppliedOffset offsets[FD_INPUT_KINDS],
		*offset_ptrs[FD_INPUT_KINDS];
	static uint32_t freq[FD_FREQ_BUCKETS];
	static uint64_t seen[FD_SEEN_MAX];
	Funneld__V1__LeadState m;
	funneld__v1__lead_state__init(&m);
	m.lead_id = (char *)(uintptr_t)st->lead_id;
	m.stage = (Funneld__V1__Stage)fd_wire_stage_to_proto(st->stage);
	m.stage_entered_ms = st->stage_entered_ms;
	m.engagement_score = st->engagement;
	m.engagement_as_of_ms = st->engagement_as_of_ms;
	m.fit_score = st->fit;
	m.grade = (char *)(uintptr_t)letters[st->grade];
	m.last_event_ms = st->last_event_ms;
	m.last_high_intent_ms = st->last_high_intent_ms;
	m.review_at_ms = st->review_at_ms;
	m.profile_updated_at_ms = st->profile_updated_ms;
	m.owner_id = (char *)(uintptr_t)st->owner_id;
	m.lead_source = (char *)(uintptr_t)st->lead_source;
	m.disqualified_by = (char *)(uintptr_t)st->disqualified_by;
	m.partition = st->partition;
	m.last_input_ms = st->last_input_ms;
	if (st->n_freq) {
		m.freq_head_bucket = st->freq_head;
		memcpy(freq, st->freq, sizeof freq);
		m.n_freq_counts = (size_t)st->n_freq;
		m.freq_counts = freq;
	}
	memcpy(seen, st->seen, sizeof seen);
	m.n_recent_ids = (size_t)st->n_seen;
	m.recent_ids = seen;
	for (int i = 0; i < st->n_caps; i++) {
		funneld__v1__lead_state__cap__init(&caps[i]);
		caps[i].type = (char *)(uintptr_t)st->caps[i].type;
		caps[i].window = st->caps[i].window;
		caps[i].awarded = st->caps[i].awarded;
		cap_ptrs[i] = &caps[i];
	}
	m.n_caps = (size_t)st->n_caps;
	m.caps = cap_ptrs;
	for (int i = 0; i < st->n_slas; i++) {
		funneld__v1__lead_state__open_sla__init(&slas[i]);
		slas[i].name = (char *)(uintptr_t)st->slas[i].name;
		slas[i].started_at_ms = st->slas[i].started_at_ms;
		slas[i].due_at_ms = st->slas[i].due_at_ms;
		slas[i].warned = st->slas[i].warned;
		slas[i].done = st->slas[i].done;
		slas[i].opened = true;
		sla_ptrs[i] = &slas[i];
	}
	m.n_open_slas = (size_t)st->n_slas;
	m.open_slas = sla_ptrs;
	for (int i = 0; i < st->n_recent; i++) {
		funneld__v1__recent_activity__init(&recent[i]);
		recent[i].type = (char *)(uintptr_t)st->recent[i].type;
		recent[i].content_id = (char *)(uintptr_t)st->recent[i].content_id;
		recent[i].channel = (char *)(uintptr_t)st->recent[i].channel;
		recent[i].occurred_at_ms = st->recent[i].occurred_at_ms;
		recent_ptrs[i] = &recent[i];
	}
	m.n_recent_activities = (size_t)st->n_recent;
	m.recent_activities = recent_ptrs;
	for (int i = 0; i < st->n_interests; i++) {
		funneld__v1__interest__init(&interests[i]);
		interests[i].content_id = (char *)(uintptr_t)st->interests[i].content_id;
		interests[i].score = st->interests[i].score;
		interest_ptrs[i] = &interests[i];
	}
	m.n_interests = (size_t)st->n_interests;
	m.interests = interest_ptrs;
	for (int i = 0; i < st->n_breakdown; i++) {
		funneld__v1__breakdown__init(&breakdown[i]);
		breakdown[i].type = (char *)(uintptr_t)st->breakdown[i].type;
		breakdown[i].points = st->breakdown[i].points;
		breakdown_ptrs[i] = &breakdown[i];
	}
	m.n_breakdown = (size_t)st->n_breakdown;
	m.breakdown = breakdown_ptrs;
	size_t n = 0;
	for (int k = 0; k < FD_INPUT_KINDS; k++) {
		if (!st->positions[k])
			continue;
		funneld__v1__lead_state__applied_offset__init(&offsets[n]);
		offsets[n].topic = (char *)(uintptr_t)topics[k];
		offsets[n].partition = st->partition;
		offsets[n].offset = st->positions[k];
		offset_ptrs[n] = &offsets[n];
		n++;
	}
	m.n_applied_offsets = n;
	m.applied_offsets = offset_ptrs;
	return pack_message(&m.base);
}

Test(wire_state, old_records_decode_to_the_same_state_as_compact_ones)
{
	fd_lead_state states[] = { full_state(), small_state(), small_state() };
	states[2].fit = 65.0 / 3.0;
	states[2].interests[0].score = 0.1;
	states[2].caps[0].awarded = 0.5;
	states[2].last_input_ms = 0;
	states[2].recent[1].occurred_at_ms = INT64_MAX;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		/* funneld 0.1.0 wrote no score stream state (field 40) */
		memset(&states[i].published, 0, sizeof states[i].published);
		bytes old = v1_by_hand(&states[i]);
		bytes compact = encode(&states[i]);
		cr_assert_lt(compact.len, old.len);
		fd_lead_state from_old = decode(old);
		assert_same_state(&from_old, &states[i]);
		bytes again = encode(&from_old);
		assert_same_bytes(again, compact);
		/* the v1 encoder writes what was written by hand */
		bytes v1 = encode_v1(&states[i]);
		assert_same_bytes(v1, old);
		free(old.data);
		free(compact.data);
		free(again.data);
		free(v1.data);
	}
}

/* The v1 seeds of the fuzz corpus are records funneld 0.1.0 wrote. */
static bytes read_file(const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/fuzz/corpus/state/%s", FUNNELD_SOURCE_DIR, name);
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	bytes b;
	b.data = malloc(65536);
	b.len = fread(b.data, 1, 65536, f);
	fclose(f);
	return b;
}

Test(wire_state, records_funneld_0_1_wrote_read_the_same_through_compact)
{
	static const char *seeds[] = { "mql", "nurture", "disqualified", "minimal" };
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		bytes old = read_file(seeds[i]);
		Funneld__V1__LeadState *m = unpack(old);
		cr_assert_null(m->compact, "%s is not a v1 record", seeds[i]);
		funneld__v1__lead_state__free_unpacked(m, NULL);
		fd_wire_arena *own = fd_wire_arena_new(); /* st outlives the round trip's decodes */
		fd_lead_state st;
		cr_assert_eq(fd_wire_decode_lead_state(old.data, old.len, own, &st, err, sizeof(err)), 0,
		             "%s: %s", seeds[i], err);
		bytes v1 = encode_v1(&st);
		assert_same_bytes(v1, old);   /* the v1 encoder is the one that wrote it */
		assert_round_trip(&st);       /* and compact carries all of it */
		free(v1.data);
		free(old.data);
		fd_wire_arena_free(own);
	}
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

Test(wire_state, v1_records_restore_the_same_lead_as_compact_ones)
{
	engine_run a, from_v1, from_compact;
	run_init(&a);
	run_init(&from_v1);
	run_init(&from_compact);
	drive_lead(&a);
	fd_lead_state st;
	cr_assert(fd_engine_export(a.eng, "lead-x", &st));
	bytes compact = encode(&st);
	bytes old = encode_v1(&st);
	fd_lead_state back = decode(old);
	cr_assert_eq(fd_engine_import(from_v1.eng, &back, err, sizeof(err)), FD_OK, "%s", err);
	back = decode(compact);
	cr_assert_eq(fd_engine_import(from_compact.eng, &back, err, sizeof(err)), FD_OK, "%s", err);
	engine_run *runs[] = { &from_v1, &from_compact };
	for (int k = 0; k < 2; k++) {
		fd_lead_state again;
		cr_assert(fd_engine_export(runs[k]->eng, "lead-x", &again));
		bytes b = encode(&again);
		assert_same_bytes(b, compact);
		free(b.data);
	}
	free(compact.data);
	free(old.data);
	run_free(&a);
	run_free(&from_v1);
	run_free(&from_compact);
}

Test(wire_state, names_survive_a_reload_that_reorders_types_and_slas)
{
	engine_run a;
	run_init(&a);
	drive_lead(&a);
	fd_lead_state st;
	cr_assert(fd_engine_export(a.eng, "lead-x", &st));
	bytes compact = encode(&st);
	bytes old = encode_v1(&st);

	/* the new rules: event types and SLAs in reverse order, a new type in
	 * front, page_view's cap gone */
	fd_rules cfg;
	fx_config(&cfg);
	fd_rules moved = cfg;
	moved.n_event_types = 0;
	fx_rule(&moved, "webinar_live", 12, FD_INTENT_HIGH, 0, 0);
	for (int i = cfg.n_event_types - 1; i >= 0; i--) {
		moved.event_types[moved.n_event_types] = cfg.event_types[i];
		if (strcmp(cfg.event_types[i].type, "page_view") == 0)
			moved.event_types[moved.n_event_types].cap_points = 0;
		moved.n_event_types++;
	}
	for (int i = 0; i < cfg.n_slas; i++)
		moved.slas[i] = cfg.slas[cfg.n_slas - 1 - i];

	bytes imported[2];
	bytes records[2] = { old, compact };
	for (int k = 0; k < 2; k++) {
		fd_engine *e = fd_engine_new(&moved, 0);
		fd_lead_state back = decode(records[k]);
		cr_assert_eq(fd_engine_import(e, &back, err, sizeof(err)), FD_OK, "%s", err);
		fd_lead_state again;
		cr_assert(fd_engine_export(e, "lead-x", &again));
		/* every name the new rules know is still there, by name */
		cr_assert_eq(again.n_slas, st.n_slas);
		for (int i = 0; i < again.n_slas; i++) {
			bool found = false;
			for (int j = 0; j < st.n_slas; j++)
				found |= strcmp(again.slas[i].name, st.slas[j].name) == 0 &&
				         again.slas[i].due_at_ms == st.slas[j].due_at_ms;
			cr_assert(found, "SLA %s", again.slas[i].name);
		}
		cr_assert_eq(again.n_breakdown, st.n_breakdown);
		cr_assert_eq(again.n_recent, st.n_recent);
		for (int i = 0; i < again.n_recent; i++)
			cr_assert_str_eq(again.recent[i].type, st.recent[i].type);
		cr_assert_eq(again.n_caps, st.n_caps - 1, "page_view's cap is dropped");
		imported[k] = encode(&again);
		fd_engine_free(e);
	}
	assert_same_bytes(imported[0], imported[1]);
	free(imported[0].data);
	free(imported[1].data);
	free(compact.data);
	free(old.data);
	run_free(&a);
}

Test(wire_state, a_realistic_lead_is_less_than_half_its_v1_size)
{
	engine_run a;
	run_init(&a);
	drive_lead(&a);
	fd_lead_state st;
	cr_assert(fd_engine_export(a.eng, "lead-x", &st));
	bytes compact = encode(&st);
	bytes old = encode_v1(&st);
	/* the fixture's lead: 5 recent activities, 3 interests, 8 remembered
	 * ids, 3 SLAs; names from the vocabulary */
	cr_assert_eq(st.n_recent, 5);
	cr_assert_eq(st.n_seen, 8);
	cr_log_info("lead-x: v1 %zu bytes, compact %zu bytes", old.len, compact.len);
	cr_assert_leq(compact.len, 330, "compact %zu bytes", compact.len);
	cr_assert_leq(2 * compact.len, old.len, "compact %zu bytes, v1 %zu", compact.len, old.len);
	free(compact.data);
	free(old.data);
	run_free(&a);
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

	/* the same field after a compact record's Compact */
	fd_lead_state st = full_state();
	memset(&st.published, 0, sizeof st.published);
	bytes b = encode(&st);
	pub.stage = FUNNELD__V1__STAGE__STAGE_MQL;
	pub.grade = "E";
	size_t n = protobuf_c_message_get_packed_size(&pub.base);
	uint8_t *rec = malloc(b.len + 3 + n);
	cr_assert_not_null(rec);
	memcpy(rec, b.data, b.len);
	/* tag 40, wire type LEN: the varint 0xc2 0x02; then a 1-byte length */
	rec[b.len] = (uint8_t)(((40 << 3) | 2) & 0x7f) | 0x80;
	rec[b.len + 1] = (uint8_t)(((40 << 3) | 2) >> 7);
	uint8_t *w = rec + b.len + 2;
	*w++ = (uint8_t)n;
	protobuf_c_message_pack(&pub.base, w);
	fd_lead_state back;
	cr_assert_neq(fd_wire_decode_lead_state(rec, b.len + 3 + n, arena, &back, err, sizeof err),
	              0);
	cr_assert_str_eq(err, "lead state: unknown published grade \"E\"");
	free(rec);
	free(b.data);
}

/* ---- partition checkpoints (PartitionState) ------------------------------------ */

static fd_partition_state checkpoint_state(fd_funnel_day days[2])
{
	memset(days, 0, 2 * sizeof *days);
	days[0].day = 20454; /* 2026-01-01 */
	days[0].counts.entered[FD_STAGE_LEAD] = 7;
	days[0].counts.entered[FD_STAGE_MQL] = 3;
	days[0].counts.transitions = 4;
	days[0].counts.sla_met[0] = 1;
	days[0].counts.sla_met[1] = 2;
	days[1].day = 20456;
	days[1].counts.entered[FD_STAGE_DISQUALIFIED] = 1;
	days[1].counts.transitions = 1;
	days[1].counts.sla_breached[0] = 5;
	days[1].counts.sla_warned[0] = 6;
	fd_partition_state ps;
	memset(&ps, 0, sizeof ps);
	ps.partition = 11;
	ps.stream_time_ms = T0 + 2 * DAY + 17;
	ps.before.entered[FD_STAGE_CUSTOMER] = UINT64_MAX; /* every counter keeps 64 bits */
	ps.before.transitions = 9;
	ps.days = days;
	ps.n_days = 2;
	ps.sla_names[0] = "mql_first_touch";
	ps.sla_names[1] = "custom sla";
	ps.n_slas = 2;
	return ps;
}

static void assert_same_counts(const fd_funnel_counts *got, const fd_funnel_counts *want)
{
	for (int s = 0; s < FD_STAGE_COUNT; s++)
		cr_assert_eq(got->entered[s], want->entered[s], "entered[%d]", s);
	cr_assert_eq(got->transitions, want->transitions);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(got->sla_warned[i], want->sla_warned[i]);
		cr_assert_eq(got->sla_breached[i], want->sla_breached[i]);
		cr_assert_eq(got->sla_met[i], want->sla_met[i]);
	}
}

/* A checkpoint decodes to what was encoded (SLA names in the order the
 * record first names them, here the same), and encodes again to the same
 * bytes. */
Test(wire_state, a_partition_checkpoint_round_trips)
{
	fd_funnel_day days[2];
	fd_partition_state ps = checkpoint_state(days);
	bytes b;
	cr_assert_eq(fd_wire_encode_partition_state(&ps, &b.data, &b.len), 0);
	fd_partition_state got;
	cr_assert_eq(fd_wire_decode_partition_state(b.data, b.len, arena, &got, err, sizeof err), 0,
	             "%s", err);
	cr_assert_eq(got.partition, 11);
	cr_assert_eq(got.stream_time_ms, T0 + 2 * DAY + 17);
	cr_assert_eq(got.n_slas, 2);
	cr_assert_str_eq(got.sla_names[0], "mql_first_touch");
	cr_assert_str_eq(got.sla_names[1], "custom sla");
	assert_same_counts(&got.before, &ps.before);
	cr_assert_eq(got.n_days, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(got.days[i].day, days[i].day);
		assert_same_counts(&got.days[i].counts, &days[i].counts);
	}
	bytes again;
	cr_assert_eq(fd_wire_encode_partition_state(&got, &again.data, &again.len), 0);
	assert_same_bytes(again, b);
	/* what protobuf-c sees: zeros left out, stages by their proto numbers */
	Funneld__V1__PartitionState *m = funneld__v1__partition_state__unpack(NULL, b.len, b.data);
	cr_assert_not_null(m);
	cr_assert_eq(m->n_days, 2);
	cr_assert_eq(m->days[0]->n_entered, 2);
	cr_assert_eq(m->days[0]->n_slas, 2);
	cr_assert_str_eq(m->days[0]->slas[0]->name, "mql_first_touch");
	cr_assert_str_eq(m->days[0]->slas[1]->name, "custom sla");
	cr_assert_eq(m->days[0]->slas[1]->met, 2);
	cr_assert_eq(m->days[1]->n_slas, 1);
	cr_assert_str_eq(m->days[1]->slas[0]->name, "mql_first_touch");
	funneld__v1__partition_state__free_unpacked(m, NULL);
	free(again.data);
	free(b.data);
}

/* The reserved key is no lead's, and the two records cannot be taken for
 * one another: a checkpoint does not decode as a LeadState (an older
 * reader skips it), a lead record does not decode as a checkpoint. */
Test(wire_state, checkpoints_and_lead_records_are_told_apart)
{
	cr_assert_eq(FD_WIRE_CHECKPOINT_KEY_LEN, 18);
	cr_assert(fd_wire_is_checkpoint_key("\0funneld.partition", 18));
	cr_assert_not(fd_wire_is_checkpoint_key("funneld.partition", 17));
	cr_assert_not(fd_wire_is_checkpoint_key("\0funneld.partition", 17));
	cr_assert_not(fd_wire_is_checkpoint_key("", 0));

	fd_funnel_day days[2];
	fd_partition_state ps = checkpoint_state(days);
	bytes cp;
	cr_assert_eq(fd_wire_encode_partition_state(&ps, &cp.data, &cp.len), 0);
	fd_lead_state st;
	cr_assert_eq(fd_wire_decode_lead_state(cp.data, cp.len, arena, &st, err, sizeof err), -1);
	cr_assert_null(funneld__v1__lead_state__unpack(NULL, cp.len, cp.data));

	fd_lead_state lead = full_state();
	bytes lb = encode(&lead);
	fd_partition_state got;
	cr_assert_eq(fd_wire_decode_partition_state(lb.data, lb.len, arena, &got, err, sizeof err),
	             -1);
	cr_assert_eq(got.n_days, 0);
	cr_assert_eq(got.partition, 0);
	free(lb.data);
	free(cp.data);

	/* an unknown stage number is refused, not miscounted */
	Funneld__V1__PartitionState__StageEntries se = FUNNELD__V1__PARTITION_STATE__STAGE_ENTRIES__INIT;
	se.stage = 99;
	se.entered = 1;
	Funneld__V1__PartitionState__StageEntries *sep = &se;
	Funneld__V1__PartitionState__Counts c = FUNNELD__V1__PARTITION_STATE__COUNTS__INIT;
	c.n_entered = 1;
	c.entered = &sep;
	Funneld__V1__PartitionState m = FUNNELD__V1__PARTITION_STATE__INIT;
	m.before = &c;
	bytes bad = pack_message(&m.base);
	cr_assert_eq(fd_wire_decode_partition_state(bad.data, bad.len, arena, &got, err, sizeof err),
	             -1);
	cr_assert_str_eq(err, "partition state: unknown stage 99");
	free(bad.data);
}
