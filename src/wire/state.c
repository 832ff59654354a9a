/*
 * state.c — the changelog codec: an engine lead state (fd_lead_state) to and
 * from the LeadState record funneld writes to its compacted changelog topic
 * and reads back on start, on partition assignment and when a transaction
 * is rolled back. It writes the compact encoding (state.proto,
 * LeadState.Compact) and reads both that and v1 (state_v1.c).
 *
 * The compact encoding is written and read here by hand, not by protobuf-c:
 * the same bytes protobuf-c would pack (a unit test holds them to that),
 * without one allocation per string and repeated field. Encoding first
 * gathers what the record refers to (the string table, deltas, which kind
 * each list of numbers takes), then writes the fields in field-number
 * order into a scratch buffer sized by an upper bound, then copies them out
 * at their exact size; the bytes are a pure function of the struct.
 *
 * Decoding reads the record's top level (is field 27 there?), hands a v1
 * record to state_v1.c, and reads a compact one into compact_in: the last
 * value of each single field, the values of each repeated one, counted past
 * what fd_lead_state holds so that the error says how many. Then it checks
 * the whole (references, lengths that must agree, numbers given twice) and
 * fills fd_lead_state; strings are copied into the arena, NUL-terminated,
 * except the vocabulary's, which point at constants. Like v1, a record with
 * more entries than an array holds is refused, not truncated.
 *
 * Not here: Kafka keys, tombstones and the decision which leads to write
 * (the Kafka layer), resolving names against the current config (the
 * engine's fd_engine_import drops names it no longer knows).
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_internal.h"

#define ST_ERR(...) fd_wire_fail(errstr, errstr_size, "lead state: " __VA_ARGS__)

/* ---- shared -------------------------------------------------------------- */

static bool count_ok(int n, int max)
{
	return n >= 0 && n <= max;
}

bool fd_wire_state_encodable(const fd_lead_state *st)
{
	return st->lead_id && *st->lead_id &&
	       fd_wire_stage_to_proto(st->stage) != 0 &&
	       st->grade >= FD_GRADE_A && st->grade < FD_GRADE_COUNT &&
	       count_ok(st->n_freq, FD_FREQ_BUCKETS) &&
	       count_ok(st->n_seen, FD_SEEN_MAX) &&
	       count_ok(st->n_caps, FD_MAX_EVENT_TYPES) &&
	       count_ok(st->n_slas, FD_MAX_SLAS) &&
	       count_ok(st->n_recent, FD_MAX_CONTEXT) &&
	       count_ok(st->n_interests, FD_MAX_CONTEXT) &&
	       count_ok(st->n_breakdown, FD_MAX_EVENT_TYPES) &&
	       (!(st->published.flags & FD_PUBLISHED_EVER) ||
	        (fd_wire_stage_to_proto((fd_stage)st->published.stage) != 0 &&
	         st->published.grade < FD_GRADE_COUNT));
}

/* LeadState.Compact field numbers (state.proto). */
enum {
	C_STRINGS = 1,
	C_STAGE = 2,
	C_LAST_INPUT = 3,
	C_LAST_EVENT = 4,
	C_AS_OF = 5,
	C_ENGAGEMENT = 6,
	C_FIT_WHOLE = 7,
	C_RECENT_IDS = 8,
	C_FREQ = 9,
	C_RECENT_REFS = 10,
	C_RECENT_TIMES = 11,
	C_INTEREST_REFS = 12,
	C_INTEREST_SCORES = 13,
	C_BREAKDOWN_REFS = 14,
	C_BREAKDOWN_POINTS = 15,
	C_ENGAGEMENT_WHOLE = 16,
	C_GRADE = 17,
	C_PARTITION = 18,
	C_STAGE_ENTERED = 19,
	C_HIGH_INTENT = 20,
	C_PROFILE_UPDATED = 21,
	C_REVIEW_AT = 22,
	C_OWNER = 23,
	C_SOURCE = 24,
	C_DISQUALIFIED_BY = 25,
	C_FIT_FLOAT = 26,
	C_FIT_DOUBLE = 27,
	C_POSITIONS = 28,
	C_CAP_REFS = 29,
	C_CAP_WINDOWS = 30,
	C_CAP_WHOLE = 31,
	C_CAP_DOUBLE = 32,
	C_SLA_REFS = 33,
	C_SLA_STARTED = 34,
	C_SLA_DUE = 35,
	C_INTEREST_DOUBLE = 36,
	C_BREAKDOWN_DOUBLE = 37,
	C_FIELDS
};

/* LeadState fields the compact encoding uses at the top level. */
enum { F_LEAD_ID = 1, F_COMPACT = 27, F_PUBLISHED = 40 };

/* Protobuf wire types. */
enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };

/* Most strings a record refers to: three per recent activity, one per
 * interest, breakdown entry, cap and SLA, lead_source, disqualified_by. */
#define MAX_REFS (3 * FD_MAX_CONTEXT + FD_MAX_CONTEXT + 2 * FD_MAX_EVENT_TYPES + FD_MAX_SLAS + 2)

/* The shared vocabulary (state.proto, LeadState.Compact): names of the
 * product's own vocabulary, referred to without spelling them out. Append
 * only: a word's number is part of the wire contract. */
static const char *const vocabulary[] = {
	/* SLAs (DESIGN section 5, config/funneld.conf) */
	"mql_first_touch", "mql_follow_up", "sal_decision", "mql_decision",
	/* engagement types (DESIGN section 3, config/funneld.conf) */
	"page_view", "email_open", "email_click", "content_download", "webinar_attended",
	"event_attended", "form_submit", "demo_request", "contact_request", "pricing_view",
	"unsubscribe", "careers_page_view",
	/* channels (DESIGN section 3) */
	"web", "email", "event", "paid", "partner",
	/* disqualifiers (DESIGN section 4, config/funneld.conf) */
	"unserved_country", "personal_email", "competitor", "student", "revenue_below_floor",
};
#define N_VOCABULARY (sizeof vocabulary / sizeof vocabulary[0])

/* Whole numbers are kept exactly as integers up to 2^53. */
#define WHOLE_MAX 9007199254740992.0

/* Arithmetic on times is done on their two's complement bits, as uint64:
 * deltas wrap, and every int64 has exactly one code. zigzag is protobuf's
 * sint64 mapping on those bits. */
static uint64_t zigzag(uint64_t v)
{
	return (v << 1) ^ (0 - (v >> 63));
}

static uint64_t unzigzag(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

static uint64_t bits_of(int64_t v)
{
	return (uint64_t)v;
}

static int64_t int_of(uint64_t v)
{
	int64_t i;
	memcpy(&i, &v, sizeof i);
	return i;
}

/* t - base, wrapping */
static uint64_t delta(int64_t t, int64_t base)
{
	return bits_of(t) - bits_of(base);
}

/* A value of a "whole" field: true and *out when d is an integer in
 * [-2^53, 2^53] other than 0. */
static bool whole(double d, int64_t *out)
{
	if (!(d >= -WHOLE_MAX && d <= WHOLE_MAX) || d == 0)
		return false;
	int64_t i = (int64_t)d;
	if ((double)i != d)
		return false;
	*out = i;
	return true;
}

/* d as a float with the same value and bits (so that widening it back
 * gives d exactly). */
static bool exact_float(double d, float *out)
{
	if (isnan(d) || !(fabs(d) <= FLT_MAX || isinf(d)))
		return false;
	float f = (float)d;
	double back = f;
	uint64_t a, b;
	memcpy(&a, &back, sizeof a);
	memcpy(&b, &d, sizeof b);
	if (a != b)
		return false;
	*out = f;
	return true;
}

/* -0.0 is written as 0, as v1 does. */
static double plain_zero(double d)
{
	return d == 0 ? 0.0 : d;
}

/* ---- writing ------------------------------------------------------------- */

/* The distinct strings of one record with their references, in order of
 * first reference; `table` lists those spelt out in Compact.strings. */
typedef struct str_table {
	const char *s[MAX_REFS];
	size_t len[MAX_REFS];
	uint32_t ref[MAX_REFS];
	int n;
	int table[MAX_REFS]; /* indexes into s[] */
	int n_table;
	size_t bytes;        /* of the strings in table */
} str_table;

/* The reference of `s` (0 for "" or NULL): a vocabulary word's, or the
 * next entry of the table's. Equal strings share a reference whatever
 * their address; the engine's export hands out one address per string, so
 * the address is tried first. */
static uint32_t str_ref(str_table *t, const char *s)
{
	if (!s || !*s)
		return 0;
	for (int i = 0; i < t->n; i++)
		if (t->s[i] == s)
			return t->ref[i];
	size_t len = strlen(s);
	for (int i = 0; i < t->n; i++)
		if (t->len[i] == len && memcmp(t->s[i], s, len) == 0)
			return t->ref[i];
	uint32_t ref = 0;
	for (size_t w = 0; w < N_VOCABULARY && !ref; w++)
		if (vocabulary[w][0] == s[0] && strcmp(vocabulary[w], s) == 0)
			ref = 2 * ((uint32_t)w + 1);
	if (!ref) {
		t->table[t->n_table++] = t->n;
		t->bytes += len;
		ref = 2 * (uint32_t)t->n_table - 1;
	}
	t->s[t->n] = s;
	t->len[t->n] = len;
	t->ref[t->n++] = ref;
	return ref;
}

/* Everything of a record that is computed before writing. */
typedef struct compact_parts {
	str_table strings;
	uint64_t recent_refs[3 * FD_MAX_CONTEXT];
	uint64_t recent_times[FD_MAX_CONTEXT];
	uint64_t interest_refs[FD_MAX_CONTEXT];
	uint64_t breakdown_refs[FD_MAX_EVENT_TYPES];
	uint64_t cap_refs[FD_MAX_EVENT_TYPES];
	uint64_t cap_windows[FD_MAX_EVENT_TYPES];
	uint64_t cap_whole[FD_MAX_EVENT_TYPES];
	uint64_t sla_refs[FD_MAX_SLAS];
	uint64_t sla_started[FD_MAX_SLAS];
	uint64_t sla_due[FD_MAX_SLAS];
	uint64_t freq[1 + FD_FREQ_BUCKETS];
	uint64_t positions[FD_INPUT_KINDS];
	int n_positions;
	uint32_t source_ref, disqualified_by_ref;
	float interest_scores[FD_MAX_CONTEXT];
	float breakdown_points[FD_MAX_EVENT_TYPES];
	bool interest_floats, breakdown_floats, cap_wholes;
} compact_parts;

static void compact_prepare(const fd_lead_state *st, compact_parts *p)
{
	str_table *t = &p->strings;
	t->n = 0;
	t->n_table = 0;
	t->bytes = 0;
	int64_t prev = st->last_input_ms;
	for (int i = 0; i < st->n_recent; i++) {
		const fd_recent_activity *r = &st->recent[i];
		uint64_t *refs = &p->recent_refs[(size_t)i * 3];
		refs[0] = str_ref(t, r->type);
		refs[1] = str_ref(t, r->content_id);
		refs[2] = str_ref(t, r->channel);
		p->recent_times[i] = delta(prev, r->occurred_at_ms);
		prev = r->occurred_at_ms;
	}
	p->interest_floats = true;
	for (int i = 0; i < st->n_interests; i++) {
		p->interest_refs[i] = str_ref(t, st->interests[i].content_id);
		if (!exact_float(plain_zero(st->interests[i].score), &p->interest_scores[i]))
			p->interest_floats = false;
	}
	p->breakdown_floats = true;
	for (int i = 0; i < st->n_breakdown; i++) {
		p->breakdown_refs[i] = str_ref(t, st->breakdown[i].type);
		if (!exact_float(plain_zero(st->breakdown[i].points), &p->breakdown_points[i]))
			p->breakdown_floats = false;
	}
	p->cap_wholes = true;
	int64_t window = st->n_freq > 0 ? st->freq_head : 0;
	for (int i = 0; i < st->n_caps; i++) {
		const fd_state_cap *c = &st->caps[i];
		int64_t w = 0;
		p->cap_refs[i] = str_ref(t, c->type);
		p->cap_windows[i] = zigzag(delta(c->window, window));
		window = c->window;
		if (whole(c->awarded, &w) || c->awarded == 0)
			p->cap_whole[i] = zigzag(bits_of(w));
		else
			p->cap_wholes = false;
	}
	for (int i = 0; i < st->n_slas; i++) {
		const fd_state_sla *s = &st->slas[i];
		p->sla_refs[i] = (uint64_t)str_ref(t, s->name) << 2 | (uint64_t)s->done << 1 |
		                 (uint64_t)s->warned;
		p->sla_started[i] = zigzag(delta(s->started_at_ms, st->last_input_ms));
		p->sla_due[i] = delta(s->due_at_ms, s->started_at_ms);
	}
	p->source_ref = str_ref(t, st->lead_source);
	p->disqualified_by_ref = str_ref(t, st->disqualified_by);
	if (st->n_freq > 0) {
		p->freq[0] = bits_of(st->freq_head);
		for (int i = 0; i < st->n_freq; i++)
			p->freq[i + 1] = st->freq[i];
	}
	p->n_positions = FD_INPUT_KINDS;
	while (p->n_positions > 0 && st->positions[p->n_positions - 1] == 0)
		p->n_positions--;
	for (int k = 0; k < p->n_positions; k++)
		p->positions[k] = bits_of(st->positions[k]);
}

/* An upper bound of the Compact message's size. */
static size_t compact_bound(const fd_lead_state *st, const compact_parts *p)
{
	size_t numbers = 16 + (size_t)st->n_seen + (size_t)st->n_freq + 1 + 4 * (size_t)st->n_recent +
	                 2 * (size_t)st->n_interests + 2 * (size_t)st->n_breakdown +
	                 4 * (size_t)st->n_caps + 3 * (size_t)st->n_slas + FD_INPUT_KINDS;
	size_t strings = p->strings.bytes + 11 * (size_t)p->strings.n_table;
	strings += (st->owner_id ? strlen(st->owner_id) : 0) + 11;
	return 13 * (size_t)C_FIELDS + 10 * numbers + strings;
}

static size_t varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *w, uint64_t v)
{
	while (v >= 0x80) {
		*w++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*w++ = (uint8_t)v;
	return w;
}

static uint8_t *put_tag(uint8_t *w, int field, int wire_type)
{
	return put_varint(w, (uint64_t)field << 3 | (uint64_t)wire_type);
}

static uint8_t *put_fixed(uint8_t *w, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		*w++ = (uint8_t)(v >> (8 * i));
	return w;
}

static uint8_t *put_bytes(uint8_t *w, int field, const char *s, size_t len)
{
	w = put_tag(w, field, WT_LEN);
	w = put_varint(w, len);
	memcpy(w, s, len);
	return w + len;
}

/* A proto3 scalar: nothing when zero. */
static uint8_t *put_uint(uint8_t *w, int field, uint64_t v)
{
	return v ? put_varint(put_tag(w, field, WT_VARINT), v) : w;
}

static uint8_t *put_string(uint8_t *w, int field, const char *s)
{
	return s && *s ? put_bytes(w, field, s, strlen(s)) : w;
}

static uint8_t *put_double(uint8_t *w, int field, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	return put_fixed(put_tag(w, field, WT_FIXED64), bits, 8);
}

/* An optional time: absent when 0, else its delta to the base. */
static uint8_t *put_time(uint8_t *w, int field, int64_t t, int64_t base)
{
	return t ? put_varint(put_tag(w, field, WT_VARINT), zigzag(delta(t, base))) : w;
}

static uint8_t *put_packed(uint8_t *w, int field, const uint64_t *v, int n)
{
	if (n <= 0)
		return w;
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += varint_size(v[i]);
	w = put_varint(put_tag(w, field, WT_LEN), len);
	for (int i = 0; i < n; i++)
		w = put_varint(w, v[i]);
	return w;
}

static uint8_t *put_packed_floats(uint8_t *w, int field, const float *v, int n)
{
	if (n <= 0)
		return w;
	w = put_varint(put_tag(w, field, WT_LEN), 4 * (uint64_t)n);
	for (int i = 0; i < n; i++) {
		uint32_t bits;
		memcpy(&bits, &v[i], sizeof bits);
		w = put_fixed(w, bits, 4);
	}
	return w;
}

/* Packed doubles: `stride` bytes apart from `first` (a field of an array of
 * structs), -0.0 as 0. */
static uint8_t *put_packed_doubles(uint8_t *w, int field, const void *first, size_t stride, int n)
{
	if (n <= 0)
		return w;
	w = put_varint(put_tag(w, field, WT_LEN), 8 * (uint64_t)n);
	for (int i = 0; i < n; i++) {
		double d;
		uint64_t bits;
		memcpy(&d, (const char *)first + (size_t)i * stride, sizeof d);
		d = plain_zero(d);
		memcpy(&bits, &d, sizeof bits);
		w = put_fixed(w, bits, 8);
	}
	return w;
}

/* The Compact message's fields, in field-number order; returns the end. */
static uint8_t *put_compact(uint8_t *w, const fd_lead_state *st, const compact_parts *p)
{
	const int64_t base = st->last_input_ms;
	int64_t i64;
	float f;

	for (int i = 0; i < p->strings.n_table; i++) {
		int k = p->strings.table[i];
		w = put_bytes(w, C_STRINGS, p->strings.s[k], p->strings.len[k]);
	}
	w = put_uint(w, C_STAGE, (uint64_t)fd_wire_stage_to_proto(st->stage));
	w = put_uint(w, C_LAST_INPUT, bits_of(base));
	w = put_time(w, C_LAST_EVENT, st->last_event_ms, base);
	w = put_time(w, C_AS_OF, st->engagement_as_of_ms, base);
	if (st->engagement != 0 && !whole(st->engagement, &i64))
		w = put_double(w, C_ENGAGEMENT, st->engagement);
	if (whole(st->fit, &i64))
		w = put_uint(w, C_FIT_WHOLE, zigzag(bits_of(i64)));
	if (st->n_seen > 0) {
		w = put_varint(put_tag(w, C_RECENT_IDS, WT_LEN), 8 * (uint64_t)st->n_seen);
		for (int i = 0; i < st->n_seen; i++)
			w = put_fixed(w, st->seen[i], 8);
	}
	w = put_packed(w, C_FREQ, p->freq, st->n_freq > 0 ? st->n_freq + 1 : 0);
	w = put_packed(w, C_RECENT_REFS, p->recent_refs, 3 * st->n_recent);
	w = put_packed(w, C_RECENT_TIMES, p->recent_times, st->n_recent);
	w = put_packed(w, C_INTEREST_REFS, p->interest_refs, st->n_interests);
	if (p->interest_floats)
		w = put_packed_floats(w, C_INTEREST_SCORES, p->interest_scores, st->n_interests);
	w = put_packed(w, C_BREAKDOWN_REFS, p->breakdown_refs, st->n_breakdown);
	if (p->breakdown_floats)
		w = put_packed_floats(w, C_BREAKDOWN_POINTS, p->breakdown_points, st->n_breakdown);
	if (whole(st->engagement, &i64))
		w = put_uint(w, C_ENGAGEMENT_WHOLE, zigzag(bits_of(i64)));
	w = put_uint(w, C_GRADE, (uint64_t)st->grade);
	w = put_uint(w, C_PARTITION, bits_of(st->partition));
	w = put_time(w, C_STAGE_ENTERED, st->stage_entered_ms, base);
	w = put_time(w, C_HIGH_INTENT, st->last_high_intent_ms, base);
	w = put_time(w, C_PROFILE_UPDATED, st->profile_updated_ms, base);
	w = put_time(w, C_REVIEW_AT, st->review_at_ms, base);
	w = put_string(w, C_OWNER, st->owner_id);
	w = put_uint(w, C_SOURCE, p->source_ref);
	w = put_uint(w, C_DISQUALIFIED_BY, p->disqualified_by_ref);
	if (st->fit != 0 && !whole(st->fit, &i64)) {
		if (exact_float(st->fit, &f)) {
			uint32_t bits;
			memcpy(&bits, &f, sizeof bits);
			w = put_fixed(put_tag(w, C_FIT_FLOAT, WT_FIXED32), bits, 4);
		} else {
			w = put_double(w, C_FIT_DOUBLE, st->fit);
		}
	}
	w = put_packed(w, C_POSITIONS, p->positions, p->n_positions);
	w = put_packed(w, C_CAP_REFS, p->cap_refs, st->n_caps);
	w = put_packed(w, C_CAP_WINDOWS, p->cap_windows, st->n_caps);
	if (p->cap_wholes)
		w = put_packed(w, C_CAP_WHOLE, p->cap_whole, st->n_caps);
	else
		w = put_packed_doubles(w, C_CAP_DOUBLE, &st->caps[0].awarded, sizeof st->caps[0],
		                       st->n_caps);
	w = put_packed(w, C_SLA_REFS, p->sla_refs, st->n_slas);
	w = put_packed(w, C_SLA_STARTED, p->sla_started, st->n_slas);
	w = put_packed(w, C_SLA_DUE, p->sla_due, st->n_slas);
	if (!p->interest_floats)
		w = put_packed_doubles(w, C_INTEREST_DOUBLE, &st->interests[0].score,
		                       sizeof st->interests[0], st->n_interests);
	if (!p->breakdown_floats)
		w = put_packed_doubles(w, C_BREAKDOWN_DOUBLE, &st->breakdown[0].points,
		                       sizeof st->breakdown[0], st->n_breakdown);
	return w;
}

int fd_wire_encode_lead_state(const fd_lead_state *st, uint8_t **buf, size_t *len)
{
	uint8_t stack[4096];
	*buf = NULL;
	if (!fd_wire_state_encodable(st)) {
		errno = EINVAL;
		return -1;
	}
	compact_parts *p = malloc(sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	compact_prepare(st, p);
	size_t bound = compact_bound(st, p);
	uint8_t *body = bound <= sizeof stack ? stack : malloc(bound);
	uint8_t *out = NULL;
	if (body) {
		size_t n_body = (size_t)(put_compact(body, st, p) - body);
		size_t n_id = strlen(st->lead_id);
		size_t n_pub = fd_wire_published_size(st);
		size_t n = 1 + varint_size(n_id) + n_id + 2 + varint_size(n_body) + n_body +
		           (n_pub ? 2 + varint_size(n_pub) + n_pub : 0);
		out = malloc(n);
		if (out) {
			uint8_t *w = put_bytes(out, F_LEAD_ID, st->lead_id, n_id);
			w = put_varint(put_tag(w, F_COMPACT, WT_LEN), n_body);
			memcpy(w, body, n_body);
			if (n_pub) /* field 40, after 27 */
				fd_wire_published_put(st, put_varint(put_tag(w + n_body, F_PUBLISHED, WT_LEN),
				                                     n_pub));
			*buf = out;
			*len = n;
		}
	}
	if (body != stack)
		free(body);
	free(p);
	if (!out) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

/* What a field of Compact holds. */
typedef enum cfield_kind { K_NONE = 0, K_VARINT, K_FIXED32, K_FIXED64, K_BYTES } cfield_kind;

typedef struct cfield {
	const char *name;   /* for error messages */
	uint8_t kind;       /* cfield_kind of one value */
	uint16_t max;       /* repeated: most values kept; 0: a single value */
	uint16_t offset;    /* repeated numbers: where their values go in the pool */
} cfield;

/* The pool's slice of each repeated numeric field. */
enum {
	O_RECENT_IDS = 0,
	O_FREQ = O_RECENT_IDS + FD_SEEN_MAX,
	O_RECENT_REFS = O_FREQ + 1 + FD_FREQ_BUCKETS,
	O_RECENT_TIMES = O_RECENT_REFS + 3 * FD_MAX_CONTEXT,
	O_INTEREST_REFS = O_RECENT_TIMES + FD_MAX_CONTEXT,
	O_INTEREST_SCORES = O_INTEREST_REFS + FD_MAX_CONTEXT,
	O_BREAKDOWN_REFS = O_INTEREST_SCORES + FD_MAX_CONTEXT,
	O_BREAKDOWN_POINTS = O_BREAKDOWN_REFS + FD_MAX_EVENT_TYPES,
	O_POSITIONS = O_BREAKDOWN_POINTS + FD_MAX_EVENT_TYPES,
	O_CAP_REFS = O_POSITIONS + FD_INPUT_KINDS,
	O_CAP_WINDOWS = O_CAP_REFS + FD_MAX_EVENT_TYPES,
	O_CAP_WHOLE = O_CAP_WINDOWS + FD_MAX_EVENT_TYPES,
	O_CAP_DOUBLE = O_CAP_WHOLE + FD_MAX_EVENT_TYPES,
	O_SLA_REFS = O_CAP_DOUBLE + FD_MAX_EVENT_TYPES,
	O_SLA_STARTED = O_SLA_REFS + FD_MAX_SLAS,
	O_SLA_DUE = O_SLA_STARTED + FD_MAX_SLAS,
	O_INTEREST_DOUBLE = O_SLA_DUE + FD_MAX_SLAS,
	O_BREAKDOWN_DOUBLE = O_INTEREST_DOUBLE + FD_MAX_CONTEXT,
	VALUES_MAX = O_BREAKDOWN_DOUBLE + FD_MAX_EVENT_TYPES
};

static const cfield cfields[C_FIELDS] = {
	[C_STRINGS] = { "strings", K_BYTES, MAX_REFS },
	[C_STAGE] = { "stage", K_VARINT, 0 },
	[C_LAST_INPUT] = { "last_input_ms", K_VARINT, 0 },
	[C_LAST_EVENT] = { "last_event", K_VARINT, 0 },
	[C_AS_OF] = { "engagement_as_of", K_VARINT, 0 },
	[C_ENGAGEMENT] = { "engagement", K_FIXED64, 0 },
	[C_FIT_WHOLE] = { "fit_whole", K_VARINT, 0 },
	[C_RECENT_IDS] = { "recent_ids", K_FIXED64, FD_SEEN_MAX, O_RECENT_IDS },
	[C_FREQ] = { "freq", K_VARINT, 1 + FD_FREQ_BUCKETS, O_FREQ },
	[C_RECENT_REFS] = { "recent_refs", K_VARINT, 3 * FD_MAX_CONTEXT, O_RECENT_REFS },
	[C_RECENT_TIMES] = { "recent_times", K_VARINT, FD_MAX_CONTEXT, O_RECENT_TIMES },
	[C_INTEREST_REFS] = { "interest_refs", K_VARINT, FD_MAX_CONTEXT, O_INTEREST_REFS },
	[C_INTEREST_SCORES] = { "interest_scores", K_FIXED32, FD_MAX_CONTEXT, O_INTEREST_SCORES },
	[C_BREAKDOWN_REFS] = { "breakdown_refs", K_VARINT, FD_MAX_EVENT_TYPES, O_BREAKDOWN_REFS },
	[C_BREAKDOWN_POINTS] = { "breakdown_points", K_FIXED32, FD_MAX_EVENT_TYPES,
		                     O_BREAKDOWN_POINTS },
	[C_ENGAGEMENT_WHOLE] = { "engagement_whole", K_VARINT, 0 },
	[C_GRADE] = { "grade", K_VARINT, 0 },
	[C_PARTITION] = { "partition", K_VARINT, 0 },
	[C_STAGE_ENTERED] = { "stage_entered", K_VARINT, 0 },
	[C_HIGH_INTENT] = { "last_high_intent", K_VARINT, 0 },
	[C_PROFILE_UPDATED] = { "profile_updated", K_VARINT, 0 },
	[C_REVIEW_AT] = { "review_at", K_VARINT, 0 },
	[C_OWNER] = { "owner_id", K_BYTES, 0 },
	[C_SOURCE] = { "lead_source", K_VARINT, 0 },
	[C_DISQUALIFIED_BY] = { "disqualified_by", K_VARINT, 0 },
	[C_FIT_FLOAT] = { "fit", K_FIXED32, 0 },
	[C_FIT_DOUBLE] = { "fit_double", K_FIXED64, 0 },
	[C_POSITIONS] = { "positions", K_VARINT, FD_INPUT_KINDS, O_POSITIONS },
	[C_CAP_REFS] = { "cap_refs", K_VARINT, FD_MAX_EVENT_TYPES, O_CAP_REFS },
	[C_CAP_WINDOWS] = { "cap_windows", K_VARINT, FD_MAX_EVENT_TYPES, O_CAP_WINDOWS },
	[C_CAP_WHOLE] = { "cap_awarded_whole", K_VARINT, FD_MAX_EVENT_TYPES, O_CAP_WHOLE },
	[C_CAP_DOUBLE] = { "cap_awarded", K_FIXED64, FD_MAX_EVENT_TYPES, O_CAP_DOUBLE },
	[C_SLA_REFS] = { "sla_refs", K_VARINT, FD_MAX_SLAS, O_SLA_REFS },
	[C_SLA_STARTED] = { "sla_started", K_VARINT, FD_MAX_SLAS, O_SLA_STARTED },
	[C_SLA_DUE] = { "sla_due", K_VARINT, FD_MAX_SLAS, O_SLA_DUE },
	[C_INTEREST_DOUBLE] = { "interest_scores_double", K_FIXED64, FD_MAX_CONTEXT,
		                    O_INTEREST_DOUBLE },
	[C_BREAKDOWN_DOUBLE] = { "breakdown_points_double", K_FIXED64, FD_MAX_EVENT_TYPES,
		                     O_BREAKDOWN_DOUBLE },
};

typedef struct span {
	const uint8_t *p;
	size_t len;
} span;

/* A Compact message as read: the last value of each single field (valid
 * where `has`), every value of each repeated one (counted past `max`, kept
 * up to it). */
typedef struct compact_in {
	bool has[C_FIELDS];
	size_t n[C_FIELDS];            /* repeated fields: values seen */
	uint64_t value[C_FIELDS];      /* single numeric fields */
	span text[C_FIELDS];           /* single string fields */
	uint64_t pool[VALUES_MAX];     /* repeated numeric fields (cfield.offset) */
	span strings[MAX_REFS];
	span lead_id;
	span published;                /* LeadState.published; p NULL: absent */
} compact_in;

typedef struct reader {
	const uint8_t *p, *end;
} reader;

static bool get_varint_long(reader *r, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false; /* cut short, or more than ten bytes */
}

/* Most varints here are one byte: that case inline. */
static inline bool get_varint(reader *r, uint64_t *out)
{
	if (r->p < r->end && *r->p < 0x80) {
		*out = *r->p++;
		return true;
	}
	return get_varint_long(r, out);
}

static bool get_fixed(reader *r, int bytes, uint64_t *out)
{
	if (r->end - r->p < bytes)
		return false;
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += bytes;
	*out = v;
	return true;
}

static bool get_span(reader *r, span *out)
{
	uint64_t len;
	if (!get_varint(r, &len) || len > (uint64_t)(r->end - r->p))
		return false;
	out->p = r->p;
	out->len = (size_t)len;
	r->p += len;
	return true;
}

/* Skip a value of `wire_type`. */
static bool skip_value(reader *r, int wire_type)
{
	uint64_t v;
	span s;
	switch (wire_type) {
	case WT_VARINT: return get_varint(r, &v);
	case WT_FIXED64: return get_fixed(r, 8, &v);
	case WT_LEN: return get_span(r, &s);
	case WT_FIXED32: return get_fixed(r, 4, &v);
	default: return false; /* groups: not protobuf 3 */
	}
}

static bool get_value(reader *r, int kind, uint64_t *out)
{
	switch (kind) {
	case K_VARINT: return get_varint(r, out);
	case K_FIXED32: return get_fixed(r, 4, out);
	default: return get_fixed(r, 8, out);
	}
}

static int wire_type_of(int kind)
{
	switch (kind) {
	case K_VARINT: return WT_VARINT;
	case K_FIXED32: return WT_FIXED32;
	case K_FIXED64: return WT_FIXED64;
	default: return WT_LEN;
	}
}

static uint64_t *values_of(compact_in *c, int field)
{
	return c->pool + cfields[field].offset;
}

/* The values of repeated numeric field `field`, packed in `s`. */
static bool read_packed(compact_in *c, int field, span s)
{
	const cfield *f = &cfields[field];
	uint64_t *dst = values_of(c, field);
	size_t n = c->n[field];
	reader r = { s.p, s.p + s.len };
	if (f->kind == K_VARINT) {
		while (r.p < r.end) {
			uint64_t v;
			if (!get_varint(&r, &v))
				return false;
			if (n < f->max)
				dst[n] = v;
			n++;
		}
	} else {
		size_t size = f->kind == K_FIXED32 ? 4 : 8;
		if (s.len % size)
			return false;
		for (; r.p < r.end; r.p += size) {
			uint64_t v = 0;
			for (size_t i = 0; i < size; i++)
				v |= (uint64_t)r.p[i] << (8 * i);
			if (n < f->max)
				dst[n] = v;
			n++;
		}
	}
	c->n[field] = n;
	return true;
}

/* Read one field of Compact; false when malformed. Unknown fields are
 * skipped, as protobuf does. */
static bool read_field(compact_in *c, reader *r, int field, int wire_type)
{
	const cfield *f = field < C_FIELDS ? &cfields[field] : NULL;
	if (!f || f->kind == K_NONE)
		return skip_value(r, wire_type);
	if (f->kind == K_BYTES) {
		span s;
		if (wire_type != WT_LEN || !get_span(r, &s))
			return false;
		if (f->max == 0) {
			c->text[field] = s;
			c->has[field] = true;
		} else {
			if (c->n[field] < f->max)
				c->strings[c->n[field]] = s;
			c->n[field]++;
		}
		return true;
	}
	uint64_t v;
	if (wire_type == wire_type_of(f->kind)) {
		if (!get_value(r, f->kind, &v))
			return false;
		if (f->max == 0) {
			c->value[field] = v;
			c->has[field] = true;
		} else {
			if (c->n[field] < f->max)
				values_of(c, field)[c->n[field]] = v;
			c->n[field]++;
		}
		return true;
	}
	span s; /* packed */
	return wire_type == WT_LEN && f->max > 0 && get_span(r, &s) && read_packed(c, field, s);
}

static bool read_compact(compact_in *c, span body)
{
	reader r = { body.p, body.p + body.len };
	while (r.p < r.end) {
		uint64_t tag;
		if (!get_varint(&r, &tag) || tag >> 3 == 0 || tag >> 3 > INT32_MAX)
			return false;
		if (!read_field(c, &r, (int)(tag >> 3), (int)(tag & 7)))
			return false;
	}
	return true;
}

/* The top level of a LeadState: *compact is set when field 27 is there
 * (every occurrence read, merged, as protobuf does); *v1 when a field of
 * the v1 encoding is. False when malformed. */
static bool read_top(compact_in *c, const uint8_t *buf, size_t len, bool *compact, int *v1)
{
	reader r = { buf, buf + len };
	*compact = false;
	*v1 = 0;
	while (r.p < r.end) {
		uint64_t tag;
		span s;
		if (!get_varint(&r, &tag) || tag >> 3 == 0)
			return false;
		uint64_t field = tag >> 3;
		int wire_type = (int)(tag & 7);
		if (field == F_LEAD_ID || field == F_COMPACT || field == F_PUBLISHED) {
			if (wire_type != WT_LEN || !get_span(&r, &s))
				return false;
			if (field == F_LEAD_ID) {
				c->lead_id = s;
			} else if (field == F_PUBLISHED) {
				c->published = s;
			} else {
				*compact = true;
				if (!read_compact(c, s))
					return false;
			}
			continue;
		}
		if (field < F_COMPACT && !*v1)
			*v1 = (int)field;
		if (!skip_value(&r, wire_type))
			return false;
	}
	return true;
}

static void compact_in_init(compact_in *c)
{
	memset(c->has, 0, sizeof c->has);
	memset(c->n, 0, sizeof c->n);
	c->lead_id.p = NULL;
	c->lead_id.len = 0;
	c->published.p = NULL;
	c->published.len = 0;
}

/* A single numeric field's value, 0 when absent. */
static uint64_t scalar(const compact_in *c, int field)
{
	return c->has[field] ? c->value[field] : 0;
}

/* A single string field, empty when absent. */
static span text_of(const compact_in *c, int field)
{
	span none = { NULL, 0 };
	return c->has[field] ? c->text[field] : none;
}

/* ---- from a Compact message to fd_lead_state ----------------------------- */

/* The strings of the record, NUL-terminated, in the arena. */
typedef struct strings_out {
	const char *table[MAX_REFS];
	size_t n;
} strings_out;

static const char *copy_span(char **w, span s)
{
	char *out = *w;
	if (s.len)
		memcpy(out, s.p, s.len);
	out[s.len] = '\0';
	*w += s.len + 1;
	return out;
}

static bool nul_free(span s)
{
	return s.len == 0 || !memchr(s.p, '\0', s.len);
}

/* Copy the record's strings into the arena: lead_id and owner_id into
 * *out, the table into t. */
static int copy_strings(const compact_in *c, fd_wire_arena *a, strings_out *t, fd_lead_state *out,
                        char *errstr, size_t errstr_size)
{
	t->n = 0;
	if (!nul_free(c->lead_id))
		return ST_ERR("NUL byte in lead_id");
	span owner = text_of(c, C_OWNER);
	if (!nul_free(owner))
		return ST_ERR("NUL byte in owner_id");
	size_t bytes = c->lead_id.len + 1 + owner.len + 1;
	t->n = c->n[C_STRINGS];
	for (size_t i = 0; i < t->n; i++) {
		if (!nul_free(c->strings[i]))
			return ST_ERR("NUL byte in strings[%zu]", i);
		bytes += c->strings[i].len + 1;
	}
	char *w = fd_wire_arena_alloc(a, bytes);
	if (!w)
		return ST_ERR("out of memory");
	out->lead_id = copy_span(&w, c->lead_id);
	out->owner_id = copy_span(&w, owner);
	for (size_t i = 0; i < t->n; i++)
		t->table[i] = copy_span(&w, c->strings[i]);
	return 0;
}

/* The string of reference `ref` (0: "", 2w: vocabulary word w, 2k - 1:
 * strings[k - 1]), or NULL when there is no such string. */
static const char *deref(const strings_out *t, uint64_t ref)
{
	if (ref == 0)
		return "";
	if (ref % 2 == 0)
		return ref / 2 <= N_VOCABULARY ? vocabulary[ref / 2 - 1] : NULL;
	return (ref + 1) / 2 <= t->n ? t->table[(ref + 1) / 2 - 1] : NULL;
}

static double double_of(uint64_t bits)
{
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

static double float_of(uint64_t bits)
{
	uint32_t b = (uint32_t)bits;
	float f;
	memcpy(&f, &b, sizeof f);
	return f;
}

static double whole_of(uint64_t v)
{
	return (double)int_of(unzigzag(v));
}

/* An optional time: 0 when absent. */
static int64_t time_of(const compact_in *c, int field, int64_t base)
{
	return c->has[field] ? int_of(bits_of(base) + unzigzag(c->value[field])) : 0;
}

/* A value that has a whole, a float and a double field (0: none of them):
 * at most one present. */
static int number_of(const compact_in *c, int whole_field, int float_field, int double_field,
                     double *out, char *errstr, size_t errstr_size)
{
	const int fields[] = { whole_field, float_field, double_field };
	int present = 0;
	*out = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		int f = fields[i];
		if (!f || !c->has[f] || c->value[f] == 0)
			continue; /* proto3: a zero is no value */
		if (present)
			return ST_ERR("both %s and %s", cfields[present].name, cfields[f].name);
		present = f;
		uint64_t v = c->value[f];
		*out = i == 0 ? whole_of(v) : i == 1 ? float_of(v) : double_of(v);
	}
	return 0;
}

/* Check that every repeated field of one list has `n` values, the values
 * in exactly one of `a` and `b` when both are given. Returns the field
 * holding them (a or b), or -1 with errstr. */
static int one_column(const compact_in *c, size_t n, const char *list, int a, int b,
                      char *errstr, size_t errstr_size)
{
	if (b && c->n[a] && c->n[b])
		return ST_ERR("%s in both %s and %s", list, cfields[a].name, cfields[b].name);
	int f = b && c->n[b] ? b : a;
	if (c->n[f] != n)
		return ST_ERR("%zu %s for %zu %s", c->n[f], cfields[f].name, n, list);
	return f;
}

/* Refuse a repeated field with more values than fd_lead_state holds. */
static int check_counts(const compact_in *c, char *errstr, size_t errstr_size)
{
	for (int f = 1; f < C_FIELDS; f++)
		if (cfields[f].max > 0 && c->n[f] > cfields[f].max)
			return ST_ERR("%zu %s, at most %d", c->n[f], cfields[f].name, (int)cfields[f].max);
	return 0;
}

/* The values of repeated numeric field f of c. */
#define V(f) (c->pool + cfields[f].offset)

static int compact_lists(const compact_in *c, const strings_out *t, fd_lead_state *out,
                         char *errstr, size_t errstr_size)
{
	const int64_t base = out->last_input_ms;
	int f;
	if (c->n[C_RECENT_REFS] != 3 * c->n[C_RECENT_TIMES])
		return ST_ERR("%zu recent_refs for %zu recent_times, want 3 each",
		              c->n[C_RECENT_REFS], c->n[C_RECENT_TIMES]);
	int64_t prev = base;
	for (size_t i = 0; i < c->n[C_RECENT_TIMES]; i++) {
		fd_recent_activity *r = &out->recent[i];
		r->type = deref(t, V(C_RECENT_REFS)[3 * i]);
		r->content_id = deref(t, V(C_RECENT_REFS)[3 * i + 1]);
		r->channel = deref(t, V(C_RECENT_REFS)[3 * i + 2]);
		if (!r->type || !r->content_id || !r->channel)
			return ST_ERR("recent activity %zu refers to a string that is not there", i);
		prev = int_of(bits_of(prev) - V(C_RECENT_TIMES)[i]);
		r->occurred_at_ms = prev;
	}
	out->n_recent = (int)c->n[C_RECENT_TIMES];

	size_t n = c->n[C_INTEREST_REFS];
	if ((f = one_column(c, n, "interests", C_INTEREST_SCORES, C_INTEREST_DOUBLE, errstr,
	                    errstr_size)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		fd_interest *in = &out->interests[i];
		if (!(in->content_id = deref(t, V(C_INTEREST_REFS)[i])))
			return ST_ERR("interest %zu refers to a string that is not there", i);
		in->score = f == C_INTEREST_SCORES ? float_of(V(f)[i]) : double_of(V(f)[i]);
	}
	out->n_interests = (int)n;

	n = c->n[C_BREAKDOWN_REFS];
	if ((f = one_column(c, n, "breakdown entries", C_BREAKDOWN_POINTS, C_BREAKDOWN_DOUBLE,
	                    errstr, errstr_size)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		fd_breakdown *b = &out->breakdown[i];
		if (!(b->type = deref(t, V(C_BREAKDOWN_REFS)[i])))
			return ST_ERR("breakdown %zu refers to a string that is not there", i);
		b->points = f == C_BREAKDOWN_POINTS ? float_of(V(f)[i]) : double_of(V(f)[i]);
	}
	out->n_breakdown = (int)n;

	n = c->n[C_CAP_REFS];
	if (one_column(c, n, "caps", C_CAP_WINDOWS, 0, errstr, errstr_size) < 0 ||
	    (f = one_column(c, n, "caps", C_CAP_WHOLE, C_CAP_DOUBLE, errstr, errstr_size)) < 0)
		return -1;
	int64_t window = c->n[C_FREQ] > 1 ? int_of(V(C_FREQ)[0]) : 0;
	for (size_t i = 0; i < n; i++) {
		fd_state_cap *cap = &out->caps[i];
		if (!(cap->type = deref(t, V(C_CAP_REFS)[i])))
			return ST_ERR("cap %zu refers to a string that is not there", i);
		window = int_of(bits_of(window) + unzigzag(V(C_CAP_WINDOWS)[i]));
		cap->window = window;
		cap->awarded = f == C_CAP_WHOLE ? whole_of(V(f)[i]) : double_of(V(f)[i]);
	}
	out->n_caps = (int)n;

	n = c->n[C_SLA_REFS];
	if (one_column(c, n, "SLAs", C_SLA_STARTED, 0, errstr, errstr_size) < 0 ||
	    one_column(c, n, "SLAs", C_SLA_DUE, 0, errstr, errstr_size) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		fd_state_sla *s = &out->slas[i];
		uint64_t ref = V(C_SLA_REFS)[i];
		if (!(s->name = deref(t, ref >> 2)))
			return ST_ERR("SLA %zu refers to a string that is not there", i);
		s->warned = (ref & 1) != 0;
		s->done = (ref & 2) != 0;
		s->started_at_ms = int_of(bits_of(base) + unzigzag(V(C_SLA_STARTED)[i]));
		s->due_at_ms = int_of(bits_of(s->started_at_ms) + V(C_SLA_DUE)[i]);
	}
	out->n_slas = (int)n;

	memcpy(out->seen, V(C_RECENT_IDS), c->n[C_RECENT_IDS] * sizeof out->seen[0]);
	out->n_seen = (int)c->n[C_RECENT_IDS];
	if (c->n[C_FREQ] > 1) {
		out->freq_head = int_of(V(C_FREQ)[0]);
		for (size_t i = 1; i < c->n[C_FREQ]; i++) {
			if (V(C_FREQ)[i] > UINT32_MAX)
				return ST_ERR("frequency count %" PRIu64 " out of range", V(C_FREQ)[i]);
			out->freq[i - 1] = (uint32_t)V(C_FREQ)[i];
		}
		out->n_freq = (int)c->n[C_FREQ] - 1;
	}
	for (size_t k = 0; k < c->n[C_POSITIONS]; k++)
		out->positions[k] = int_of(V(C_POSITIONS)[k]);
	return 0;
}

#undef V

static int decode_compact(const compact_in *c, fd_wire_arena *a, fd_lead_state *out,
                          char *errstr, size_t errstr_size)
{
	strings_out t;
	if (check_counts(c, errstr, errstr_size) != 0 ||
	    copy_strings(c, a, &t, out, errstr, errstr_size) != 0)
		return -1;
	if (!*out->lead_id)
		return ST_ERR("missing lead_id");
	int stage = (int)(int32_t)scalar(c, C_STAGE);
	if (fd_wire_stage_from_proto(stage, &out->stage) != 0)
		return ST_ERR("unknown stage %d", stage);
	if (scalar(c, C_GRADE) >= FD_GRADE_COUNT)
		return ST_ERR("unknown grade %" PRIu64, scalar(c, C_GRADE));
	out->grade = (int)scalar(c, C_GRADE);
	if (!(out->lead_source = deref(&t, scalar(c, C_SOURCE))) ||
	    !(out->disqualified_by = deref(&t, scalar(c, C_DISQUALIFIED_BY))))
		return ST_ERR("lead_source or disqualified_by refers to a string that is not there");
	out->partition = (int32_t)(uint32_t)scalar(c, C_PARTITION);
	const int64_t base = int_of(scalar(c, C_LAST_INPUT));
	out->last_input_ms = base;
	out->last_event_ms = time_of(c, C_LAST_EVENT, base);
	out->engagement_as_of_ms = time_of(c, C_AS_OF, base);
	out->stage_entered_ms = time_of(c, C_STAGE_ENTERED, base);
	out->last_high_intent_ms = time_of(c, C_HIGH_INTENT, base);
	out->profile_updated_ms = time_of(c, C_PROFILE_UPDATED, base);
	out->review_at_ms = time_of(c, C_REVIEW_AT, base);
	if (number_of(c, C_ENGAGEMENT_WHOLE, 0, C_ENGAGEMENT, &out->engagement, errstr,
	              errstr_size) != 0 ||
	    number_of(c, C_FIT_WHOLE, C_FIT_FLOAT, C_FIT_DOUBLE, &out->fit, errstr, errstr_size) != 0)
		return -1;
	if (c->published.p &&
	    fd_wire_published_read(c->published.p, c->published.len, out, errstr, errstr_size) != 0)
		return -1;
	return compact_lists(c, &t, out, errstr, errstr_size);
}

/* ---- decoding: either encoding ------------------------------------------- */

static int decode_lead_state(const void *buf, size_t len, fd_wire_arena *a,
                             fd_lead_state *out, char *errstr, size_t errstr_size)
{
	compact_in c;
	bool compact;
	int v1;
	compact_in_init(&c);
	if (!read_top(&c, buf, len, &compact, &v1))
		return ST_ERR("malformed LeadState");
	if (!compact)
		return fd_wire_state_decode_v1(buf, len, a, out, errstr, errstr_size);
	if (v1)
		return ST_ERR("field %d of the v1 encoding in a compact record", v1);
	return decode_compact(&c, a, out, errstr, errstr_size);
}

int fd_wire_decode_lead_state(const void *buf, size_t len, fd_wire_arena *a,
                              fd_lead_state *out, char *errstr, size_t errstr_size)
{
	memset(out, 0, sizeof(*out));
	fd_wire_arena_reset(a);
	int rc = decode_lead_state(buf, len, a, out, errstr, errstr_size);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		fd_wire_arena_reset(a);
	}
	return rc;
}
