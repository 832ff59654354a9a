/*
 * state_v1.c — the v1 encoding of the changelog's LeadState record (fields
 * 1 to 26 of state.proto): what funneld 0.1.0 wrote, and what a group whose
 * older instances must still read the changelog asks for
 * (fd_wire_encode_lead_state_v1). Every version reads it.
 *
 * Encoding points a stack LeadState at the state's strings (no copies) and
 * its sub-messages at one malloc'ed block sized by the fixed arrays of
 * fd_lead_state, then packs once. protobuf-c writes fields in field-number
 * order and LeadState has no maps, so the bytes are a pure function of the
 * struct; a lead that did not change re-encodes to the same record.
 *
 * Decoding fills the fixed arrays of fd_lead_state in place; its strings
 * point into the unpacked message the arena holds. A record with more
 * entries than an array holds is refused, not truncated: a silently
 * shortened state would lose duplicate suppression or SLA clocks.
 *
 * Not here: the compact encoding funneld writes, and telling the two apart
 * on reading (state.c).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/state.pb-c.h"

#include "wire/wire_internal.h"

#define ST_ERR(...) fd_wire_fail(errstr, errstr_size, "lead state: " __VA_ARGS__)

/* AppliedOffset.topic for positions[FD_INPUT_*]: the input's role, not the
 * configured Kafka topic name. */
static const char *const input_topic[FD_INPUT_KINDS] = {
	[FD_INPUT_ENGAGEMENT] = "engagement",
	[FD_INPUT_PROFILE] = "profile",
	[FD_INPUT_ACTIVITY] = "activity",
};

/* ---- encoding ------------------------------------------------------------ */

/* The sub-messages and scalar arrays of one LeadState, at the capacity of
 * fd_lead_state's arrays; one allocation per encode (about 12 KiB). */
typedef struct state_parts {
	uint32_t freq[FD_FREQ_BUCKETS];
	uint64_t seen[FD_SEEN_MAX];
	Funneld__V1__LeadState__Cap caps[FD_MAX_EVENT_TYPES];
	Funneld__V1__LeadState__Cap *cap_ptrs[FD_MAX_EVENT_TYPES];
	Funneld__V1__LeadState__OpenSla slas[FD_MAX_SLAS];
	Funneld__V1__LeadState__OpenSla *sla_ptrs[FD_MAX_SLAS];
	Funneld__V1__RecentActivity recent[FD_MAX_CONTEXT];
	Funneld__V1__RecentActivity *recent_ptrs[FD_MAX_CONTEXT];
	Funneld__V1__Interest interests[FD_MAX_CONTEXT];
	Funneld__V1__Interest *interest_ptrs[FD_MAX_CONTEXT];
	Funneld__V1__Breakdown breakdown[FD_MAX_EVENT_TYPES];
	Funneld__V1__Breakdown *breakdown_ptrs[FD_MAX_EVENT_TYPES];
	Funneld__V1__LeadState__AppliedOffset offsets[FD_INPUT_KINDS];
	Funneld__V1__LeadState__AppliedOffset *offset_ptrs[FD_INPUT_KINDS];
} state_parts;

static void fill_lists(const fd_lead_state *st, state_parts *p, Funneld__V1__LeadState *m)
{
	if (st->n_freq > 0) {
		memcpy(p->freq, st->freq, (size_t)st->n_freq * sizeof(p->freq[0]));
		m->freq_head_bucket = st->freq_head;
		m->n_freq_counts = (size_t)st->n_freq;
		m->freq_counts = p->freq;
	}
	if (st->n_seen > 0) {
		memcpy(p->seen, st->seen, (size_t)st->n_seen * sizeof(p->seen[0]));
		m->n_recent_ids = (size_t)st->n_seen;
		m->recent_ids = p->seen;
	}
	for (int i = 0; i < st->n_caps; i++) {
		Funneld__V1__LeadState__Cap *c = &p->caps[i];
		funneld__v1__lead_state__cap__init(c);
		c->type = fd_wire_str_out(st->caps[i].type);
		c->window = st->caps[i].window;
		c->awarded = st->caps[i].awarded;
		p->cap_ptrs[i] = c;
	}
	m->n_caps = (size_t)st->n_caps;
	m->caps = p->cap_ptrs;
	for (int i = 0; i < st->n_slas; i++) {
		Funneld__V1__LeadState__OpenSla *s = &p->slas[i];
		funneld__v1__lead_state__open_sla__init(s);
		s->name = fd_wire_str_out(st->slas[i].name);
		s->started_at_ms = st->slas[i].started_at_ms;
		s->due_at_ms = st->slas[i].due_at_ms;
		s->warned = st->slas[i].warned;
		s->opened = true; /* the engine exports only SLAs whose clock runs or ran */
		s->done = st->slas[i].done;
		p->sla_ptrs[i] = s;
	}
	m->n_open_slas = (size_t)st->n_slas;
	m->open_slas = p->sla_ptrs;
	for (int i = 0; i < st->n_recent; i++) {
		Funneld__V1__RecentActivity *r = &p->recent[i];
		funneld__v1__recent_activity__init(r);
		r->type = fd_wire_str_out(st->recent[i].type);
		r->content_id = fd_wire_str_out(st->recent[i].content_id);
		r->channel = fd_wire_str_out(st->recent[i].channel);
		r->occurred_at_ms = st->recent[i].occurred_at_ms;
		p->recent_ptrs[i] = r;
	}
	m->n_recent_activities = (size_t)st->n_recent;
	m->recent_activities = p->recent_ptrs;
	for (int i = 0; i < st->n_interests; i++) {
		Funneld__V1__Interest *in = &p->interests[i];
		funneld__v1__interest__init(in);
		in->content_id = fd_wire_str_out(st->interests[i].content_id);
		in->score = st->interests[i].score;
		p->interest_ptrs[i] = in;
	}
	m->n_interests = (size_t)st->n_interests;
	m->interests = p->interest_ptrs;
	for (int i = 0; i < st->n_breakdown; i++) {
		Funneld__V1__Breakdown *b = &p->breakdown[i];
		funneld__v1__breakdown__init(b);
		b->type = fd_wire_str_out(st->breakdown[i].type);
		b->points = st->breakdown[i].points;
		p->breakdown_ptrs[i] = b;
	}
	m->n_breakdown = (size_t)st->n_breakdown;
	m->breakdown = p->breakdown_ptrs;
	size_t n = 0;
	for (int k = 0; k < FD_INPUT_KINDS; k++) {
		if (st->positions[k] == 0)
			continue;
		Funneld__V1__LeadState__AppliedOffset *o = &p->offsets[n];
		funneld__v1__lead_state__applied_offset__init(o);
		o->topic = fd_wire_str_out(input_topic[k]);
		o->partition = st->partition;
		o->offset = st->positions[k];
		p->offset_ptrs[n++] = o;
	}
	m->n_applied_offsets = n;
	m->applied_offsets = p->offset_ptrs;
}

/* ---- LeadState.published: both encodings ---------------------------------- */

/* *pub from st->published; false when the lead published nothing. */
static bool published_fill(const fd_lead_state *st, Funneld__V1__LeadState__Published *pub,
                           char grade[2])
{
	if (!(st->published.flags & FD_PUBLISHED_EVER))
		return false;
	funneld__v1__lead_state__published__init(pub);
	pub->at_ms = st->published.at_ms;
	pub->engagement_score = st->published.engagement;
	pub->fit_score = st->published.fit;
	pub->stage = (Funneld__V1__Stage)fd_wire_stage_to_proto((fd_stage)st->published.stage);
	grade[0] = fd_grade_letter(st->published.grade);
	grade[1] = '\0';
	pub->grade = grade;
	pub->held = (st->published.flags & FD_PUBLISHED_HELD) != 0;
	return true;
}

static int published_from(const Funneld__V1__LeadState__Published *pub, fd_lead_state *out,
                          char *errstr, size_t errstr_size)
{
	fd_stage stage;
	const char *grade = fd_wire_str_in(pub->grade);
	int g = -1;
	for (int i = FD_GRADE_A; i < FD_GRADE_COUNT; i++)
		if (grade[0] == fd_grade_letter(i) && grade[1] == '\0')
			g = i;
	if (fd_wire_stage_from_proto((int)pub->stage, &stage) != 0)
		return ST_ERR("unknown published stage %d", (int)pub->stage);
	if (g < 0)
		return ST_ERR("unknown published grade \"%.8s\"", grade);
	if (!isfinite(pub->engagement_score) || !isfinite(pub->fit_score))
		return ST_ERR("published score not finite");
	out->published = (fd_published){ pub->at_ms, pub->engagement_score, pub->fit_score,
		                             (uint8_t)stage, (uint8_t)g,
		                             (uint8_t)(FD_PUBLISHED_EVER |
		                                       (pub->held ? FD_PUBLISHED_HELD : 0)) };
	return 0;
}

size_t fd_wire_published_size(const fd_lead_state *st)
{
	Funneld__V1__LeadState__Published pub;
	char grade[2];
	return published_fill(st, &pub, grade) ? protobuf_c_message_get_packed_size(&pub.base) : 0;
}

uint8_t *fd_wire_published_put(const fd_lead_state *st, uint8_t *w)
{
	Funneld__V1__LeadState__Published pub;
	char grade[2];
	if (!published_fill(st, &pub, grade))
		return w;
	return w + protobuf_c_message_pack(&pub.base, w);
}

int fd_wire_published_read(const uint8_t *body, size_t len, fd_lead_state *out, char *errstr,
                           size_t errstr_size)
{
	Funneld__V1__LeadState__Published *pub = (Funneld__V1__LeadState__Published *)
		protobuf_c_message_unpack(&funneld__v1__lead_state__published__descriptor, NULL, len,
		                          body);
	if (!pub)
		return ST_ERR("malformed published");
	int rc = published_from(pub, out, errstr, errstr_size);
	protobuf_c_message_free_unpacked(&pub->base, NULL);
	return rc;
}

int fd_wire_encode_lead_state_v1(const fd_lead_state *st, uint8_t **buf, size_t *len)
{
	Funneld__V1__LeadState m;
	char grade[2];

	*buf = NULL;
	if (!fd_wire_state_encodable(st)) {
		errno = EINVAL;
		return -1;
	}
	state_parts *p = malloc(sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	funneld__v1__lead_state__init(&m);
	m.lead_id = fd_wire_str_out(st->lead_id);
	m.partition = st->partition;
	m.stage = (Funneld__V1__Stage)fd_wire_stage_to_proto(st->stage);
	m.stage_entered_ms = st->stage_entered_ms;
	m.engagement_score = st->engagement;
	m.engagement_as_of_ms = st->engagement_as_of_ms;
	m.fit_score = st->fit;
	grade[0] = fd_grade_letter(st->grade);
	grade[1] = '\0';
	m.grade = grade;
	m.last_event_ms = st->last_event_ms;
	m.last_high_intent_ms = st->last_high_intent_ms;
	m.review_at_ms = st->review_at_ms;
	m.remql_after_ms = 0; /* unused: the engine derives it (state.proto) */
	m.profile_updated_at_ms = st->profile_updated_ms;
	m.last_input_ms = st->last_input_ms;
	m.owner_id = fd_wire_str_out(st->owner_id);
	m.lead_source = fd_wire_str_out(st->lead_source);
	m.disqualified_by = fd_wire_str_out(st->disqualified_by);
	fill_lists(st, p, &m);
	Funneld__V1__LeadState__Published pub;
	char pub_grade[2];
	if (published_fill(st, &pub, pub_grade))
		m.published = &pub;

	int rc = 0;
	size_t size = protobuf_c_message_get_packed_size(&m.base);
	uint8_t *out = malloc(size ? size : 1);
	if (out) {
		*len = protobuf_c_message_pack(&m.base, out);
		*buf = out;
	} else {
		errno = ENOMEM;
		rc = -1;
	}
	free(p);
	return rc;
}

/* ---- decoding ------------------------------------------------------------ */

static int parse_grade(const char *text, int *out)
{
	for (int g = FD_GRADE_A; g < FD_GRADE_COUNT; g++) {
		if (text[0] == fd_grade_letter(g) && text[1] == '\0') {
			*out = g;
			return 0;
		}
	}
	return -1;
}

static int input_kind(const char *topic)
{
	for (int k = 0; k < FD_INPUT_KINDS; k++)
		if (strcmp(topic, input_topic[k]) == 0)
			return k;
	return -1;
}

/* Refuse a repeated field with more entries than fd_lead_state holds. */
#define CHECK_COUNT(n, max, field)                                                    \
	do {                                                                          \
		if ((n) > (size_t)(max))                                              \
			return ST_ERR("%zu " field ", at most %d", (size_t)(n), (int)(max)); \
	} while (0)

static int decode_lists(const Funneld__V1__LeadState *m, fd_lead_state *out,
                        char *errstr, size_t errstr_size)
{
	CHECK_COUNT(m->n_freq_counts, FD_FREQ_BUCKETS, "freq_counts");
	CHECK_COUNT(m->n_recent_ids, FD_SEEN_MAX, "recent_ids");
	CHECK_COUNT(m->n_caps, FD_MAX_EVENT_TYPES, "caps");
	CHECK_COUNT(m->n_open_slas, FD_MAX_SLAS, "open_slas");
	CHECK_COUNT(m->n_recent_activities, FD_MAX_CONTEXT, "recent_activities");
	CHECK_COUNT(m->n_interests, FD_MAX_CONTEXT, "interests");
	CHECK_COUNT(m->n_breakdown, FD_MAX_EVENT_TYPES, "breakdown");
	CHECK_COUNT(m->n_applied_offsets, FD_INPUT_KINDS, "applied_offsets");

	if (m->n_freq_counts > 0) {
		out->freq_head = m->freq_head_bucket;
		memcpy(out->freq, m->freq_counts, m->n_freq_counts * sizeof(out->freq[0]));
		out->n_freq = (int)m->n_freq_counts;
	}
	if (m->n_recent_ids > 0) {
		memcpy(out->seen, m->recent_ids, m->n_recent_ids * sizeof(out->seen[0]));
		out->n_seen = (int)m->n_recent_ids;
	}
	for (size_t i = 0; i < m->n_caps; i++) {
		fd_state_cap *c = &out->caps[out->n_caps++];
		c->type = fd_wire_str_in(m->caps[i]->type);
		c->window = m->caps[i]->window;
		c->awarded = m->caps[i]->awarded;
	}
	for (size_t i = 0; i < m->n_open_slas; i++) {
		const Funneld__V1__LeadState__OpenSla *src = m->open_slas[i];
		if (!src->opened)
			continue; /* waiting for its start activity: not tracked */
		fd_state_sla *s = &out->slas[out->n_slas++];
		s->name = fd_wire_str_in(src->name);
		s->started_at_ms = src->started_at_ms;
		s->due_at_ms = src->due_at_ms;
		s->warned = src->warned;
		s->done = src->done;
	}
	for (size_t i = 0; i < m->n_recent_activities; i++) {
		const Funneld__V1__RecentActivity *src = m->recent_activities[i];
		fd_recent_activity *r = &out->recent[out->n_recent++];
		r->type = fd_wire_str_in(src->type);
		r->content_id = fd_wire_str_in(src->content_id);
		r->channel = fd_wire_str_in(src->channel);
		r->occurred_at_ms = src->occurred_at_ms;
	}
	for (size_t i = 0; i < m->n_interests; i++) {
		fd_interest *in = &out->interests[out->n_interests++];
		in->content_id = fd_wire_str_in(m->interests[i]->content_id);
		in->score = m->interests[i]->score;
	}
	for (size_t i = 0; i < m->n_breakdown; i++) {
		fd_breakdown *b = &out->breakdown[out->n_breakdown++];
		b->type = fd_wire_str_in(m->breakdown[i]->type);
		b->points = m->breakdown[i]->points;
	}
	bool have[FD_INPUT_KINDS] = { false };
	for (size_t i = 0; i < m->n_applied_offsets; i++) {
		const Funneld__V1__LeadState__AppliedOffset *o = m->applied_offsets[i];
		const char *topic = fd_wire_str_in(o->topic);
		int k = input_kind(topic);
		if (k < 0)
			return ST_ERR("unknown applied_offsets topic \"%.64s\"", topic);
		if (have[k])
			return ST_ERR("two applied_offsets for topic \"%s\"", topic);
		/* fd_lead_state keeps one partition per lead */
		if (o->partition != m->partition)
			return ST_ERR("applied offset of \"%s\" on partition %d, lead on partition %d",
			              topic, (int)o->partition, (int)m->partition);
		have[k] = true;
		out->positions[k] = o->offset;
	}
	return 0;
}

int fd_wire_state_decode_v1(const void *buf, size_t len, fd_wire_arena *a, fd_lead_state *out,
                            char *errstr, size_t errstr_size)
{
	Funneld__V1__LeadState *m = funneld__v1__lead_state__unpack(NULL, len, buf);
	if (!m)
		return ST_ERR("malformed LeadState");
	fd_wire_arena_hold_message(a, &m->base);

	out->lead_id = fd_wire_str_in(m->lead_id);
	if (!*out->lead_id)
		return ST_ERR("missing lead_id");
	out->partition = m->partition;
	if (fd_wire_stage_from_proto((int)m->stage, &out->stage) != 0)
		return ST_ERR("unknown stage %d", (int)m->stage);
	out->stage_entered_ms = m->stage_entered_ms;
	out->engagement = m->engagement_score;
	out->engagement_as_of_ms = m->engagement_as_of_ms;
	out->fit = m->fit_score;
	const char *grade = fd_wire_str_in(m->grade);
	if (parse_grade(grade, &out->grade) != 0)
		return ST_ERR("unknown grade \"%.8s\"", grade);
	out->last_event_ms = m->last_event_ms;
	out->last_high_intent_ms = m->last_high_intent_ms;
	out->review_at_ms = m->review_at_ms;
	/* remql_after_ms: unused, the engine derives it */
	out->profile_updated_ms = m->profile_updated_at_ms;
	out->last_input_ms = m->last_input_ms;
	out->owner_id = fd_wire_str_in(m->owner_id);
	out->lead_source = fd_wire_str_in(m->lead_source);
	out->disqualified_by = fd_wire_str_in(m->disqualified_by);
	if (m->published && published_from(m->published, out, errstr, errstr_size) != 0)
		return -1;
	return decode_lists(m, out, errstr, errstr_size);
}
