/*
 * outputs.c — protobuf encoding of funneld's outputs (StageTransition,
 * SlaEvent, LeadScore) from the engine's structs, and decoding them back
 * for the demo, tests and tools.
 *
 * Encoding builds the protobuf-c message on the stack, pointing at the
 * engine's strings (no copies), and packs it once into a malloc'ed buffer.
 * Messages are set up with the generated _init() functions: the _INIT
 * macros cast away const, which -Wcast-qual rejects.
 * protobuf-c writes fields in field-number order and these messages have no
 * maps, so the bytes are a pure function of the struct: an at-least-once
 * replay re-sends byte-identical records.
 *
 * Not here: Kafka keys and headers (the producer adds them), JSON rendering
 * (the admin API and demo format their own), the changelog's LeadState
 * (state.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/outputs.pb-c.h"

#include "wire/wire_internal.h"

#define PB_ERR(...) fd_wire_fail(errstr, errstr_size, "protobuf: " __VA_ARGS__)

/* ---- encoding ------------------------------------------------------------ */

static uint32_t frequency(const fd_score_snapshot *s, int window)
{
	return s->n_windows > window ? s->frequency[window] : 0;
}

/* "A".."D"; the caller has checked the range. */
static char *grade_text(int grade, char buf[2])
{
	buf[0] = fd_grade_letter(grade);
	buf[1] = '\0';
	return buf;
}

/* Pack `msg` into a fresh malloc'ed buffer. */
static int pack(const ProtobufCMessage *msg, uint8_t **buf, size_t *len)
{
	size_t size = protobuf_c_message_get_packed_size(msg);
	uint8_t *out = malloc(size ? size : 1);
	if (!out) {
		errno = ENOMEM;
		return -1;
	}
	*len = protobuf_c_message_pack(msg, out);
	*buf = out;
	return 0;
}

static int invalid(uint8_t **buf)
{
	*buf = NULL;
	errno = EINVAL;
	return -1;
}

int fd_wire_encode_transition(const fd_transition *t, uint8_t **buf, size_t *len)
{
	Funneld__V1__StageTransition m;
	Funneld__V1__RecentActivity *recent = NULL, **recent_ptrs = NULL;
	Funneld__V1__Interest *interests = NULL, **interest_ptrs = NULL;
	Funneld__V1__Breakdown *breakdown = NULL, **breakdown_ptrs = NULL;
	char grade[2];
	int rc = -1;

	*buf = NULL;
	funneld__v1__stage_transition__init(&m);
	int from = fd_wire_stage_to_proto(t->from_stage), to = fd_wire_stage_to_proto(t->to_stage);
	if (!from || !to || (unsigned)t->trigger >= FD_TRIGGER_COUNT ||
	    (unsigned)t->score.grade >= FD_GRADE_COUNT)
		return invalid(buf);

	m.transition_id = fd_wire_str_out(t->transition_id);
	m.lead_id = fd_wire_str_out(t->lead_id);
	m.from_stage = (Funneld__V1__Stage)from;
	m.to_stage = (Funneld__V1__Stage)to;
	m.trigger = fd_wire_str_out(fd_trigger_name(t->trigger));
	m.reason = fd_wire_str_out(t->reason);
	m.occurred_at_ms = t->occurred_at_ms;
	m.owner_id = fd_wire_str_out(t->owner_id);
	m.engagement_score = t->score.engagement;
	m.fit_score = t->score.fit;
	m.grade = grade_text(t->score.grade, grade);
	m.recency_days = t->score.recency_days;
	m.frequency_7d = frequency(&t->score, 0);
	m.frequency_30d = frequency(&t->score, 1);
	m.cause_id = fd_wire_str_out(t->cause_id);
	m.lead_source = fd_wire_str_out(t->lead_source);
	m.review_at_ms = t->review_at_ms;
	m.high_intent_recency_days = t->score.high_intent_recency_days;

	if (t->n_recent > 0) {
		recent = calloc(t->n_recent, sizeof(*recent));
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): sizes an array of pointers */
		recent_ptrs = calloc(t->n_recent, sizeof(*recent_ptrs));
		if (!recent || !recent_ptrs)
			goto fail_nomem;
		for (size_t i = 0; i < t->n_recent; i++) {
			funneld__v1__recent_activity__init(&recent[i]);
			recent[i].type = fd_wire_str_out(t->recent[i].type);
			recent[i].content_id = fd_wire_str_out(t->recent[i].content_id);
			recent[i].channel = fd_wire_str_out(t->recent[i].channel);
			recent[i].occurred_at_ms = t->recent[i].occurred_at_ms;
			recent_ptrs[i] = &recent[i];
		}
		m.n_recent_activities = t->n_recent;
		m.recent_activities = recent_ptrs;
	}
	if (t->n_interests > 0) {
		interests = calloc(t->n_interests, sizeof(*interests));
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): sizes an array of pointers */
		interest_ptrs = calloc(t->n_interests, sizeof(*interest_ptrs));
		if (!interests || !interest_ptrs)
			goto fail_nomem;
		for (size_t i = 0; i < t->n_interests; i++) {
			funneld__v1__interest__init(&interests[i]);
			interests[i].content_id = fd_wire_str_out(t->interests[i].content_id);
			interests[i].score = t->interests[i].score;
			interest_ptrs[i] = &interests[i];
		}
		m.n_top_interests = t->n_interests;
		m.top_interests = interest_ptrs;
	}
	if (t->n_breakdown > 0) {
		breakdown = calloc(t->n_breakdown, sizeof(*breakdown));
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): sizes an array of pointers */
		breakdown_ptrs = calloc(t->n_breakdown, sizeof(*breakdown_ptrs));
		if (!breakdown || !breakdown_ptrs)
			goto fail_nomem;
		for (size_t i = 0; i < t->n_breakdown; i++) {
			funneld__v1__breakdown__init(&breakdown[i]);
			breakdown[i].type = fd_wire_str_out(t->breakdown[i].type);
			breakdown[i].points = t->breakdown[i].points;
			breakdown_ptrs[i] = &breakdown[i];
		}
		m.n_score_breakdown = t->n_breakdown;
		m.score_breakdown = breakdown_ptrs;
	}

	rc = pack(&m.base, buf, len);
	goto done;

fail_nomem:
	errno = ENOMEM;
done:
	free(breakdown_ptrs);
	free(breakdown);
	free(interest_ptrs);
	free(interests);
	free(recent_ptrs);
	free(recent);
	return rc;
}

int fd_wire_encode_sla_event(const fd_sla_event *e, uint8_t **buf, size_t *len)
{
	Funneld__V1__SlaEvent m;
	int kind = fd_wire_sla_kind_to_proto(e->kind), stage = fd_wire_stage_to_proto(e->stage);

	*buf = NULL;
	if (!kind || !stage)
		return invalid(buf);
	funneld__v1__sla_event__init(&m);
	m.sla_event_id = fd_wire_str_out(e->sla_event_id);
	m.lead_id = fd_wire_str_out(e->lead_id);
	m.sla = fd_wire_str_out(e->sla);
	m.kind = (Funneld__V1__SlaKind)kind;
	m.stage = (Funneld__V1__Stage)stage;
	m.owner_id = fd_wire_str_out(e->owner_id);
	m.started_at_ms = e->started_at_ms;
	m.due_at_ms = e->due_at_ms;
	m.occurred_at_ms = e->occurred_at_ms;
	m.elapsed_ms = e->elapsed_ms;
	return pack(&m.base, buf, len);
}

int fd_wire_encode_lead_score(const fd_lead_view *v, int64_t updated_at_ms,
                              uint8_t **buf, size_t *len)
{
	Funneld__V1__LeadScore m;
	int stage = fd_wire_stage_to_proto(v->stage);
	char grade[2];

	*buf = NULL;
	if (!stage || (unsigned)v->score.grade >= FD_GRADE_COUNT)
		return invalid(buf);
	funneld__v1__lead_score__init(&m);
	m.lead_id = fd_wire_str_out(v->lead_id);
	m.stage = (Funneld__V1__Stage)stage;
	m.engagement_score = v->score.engagement;
	m.fit_score = v->score.fit;
	m.grade = grade_text(v->score.grade, grade);
	m.recency_days = v->score.recency_days;
	m.frequency_7d = frequency(&v->score, 0);
	m.frequency_30d = frequency(&v->score, 1);
	m.updated_at_ms = updated_at_ms;
	m.owner_id = fd_wire_str_out(v->owner_id);
	m.high_intent_recency_days = v->score.high_intent_recency_days;
	m.lead_source = fd_wire_str_out(v->lead_source);
	m.stage_entered_ms = v->stage_entered_ms;
	m.disqualified_by = fd_wire_str_out(v->disqualified_by);
	return pack(&m.base, buf, len);
}

/* ---- decoding ------------------------------------------------------------ */

static int parse_trigger(const char *name, fd_trigger *out)
{
	for (int i = 0; i < FD_TRIGGER_COUNT; i++) {
		if (strcmp(name, fd_trigger_name((fd_trigger)i)) == 0) {
			*out = (fd_trigger)i;
			return 0;
		}
	}
	return -1;
}

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

static int decode_transition(const void *buf, size_t len, fd_wire_arena *a,
                             fd_transition *out, char *errstr, size_t errstr_size)
{
	Funneld__V1__StageTransition *m = funneld__v1__stage_transition__unpack(NULL, len, buf);
	if (!m)
		return PB_ERR("malformed StageTransition");
	fd_wire_arena_hold_message(a, &m->base);

	const char *id = fd_wire_str_in(m->transition_id);
	if (strlen(id) > FD_ID_HEX)
		return PB_ERR("transition_id longer than %d characters", FD_ID_HEX);
	memcpy(out->transition_id, id, strlen(id) + 1);
	out->lead_id = fd_wire_str_in(m->lead_id);
	if (fd_wire_stage_from_proto((int)m->from_stage, &out->from_stage) != 0)
		return PB_ERR("unknown from_stage %d", (int)m->from_stage);
	if (fd_wire_stage_from_proto((int)m->to_stage, &out->to_stage) != 0)
		return PB_ERR("unknown to_stage %d", (int)m->to_stage);
	const char *trigger = fd_wire_str_in(m->trigger);
	if (parse_trigger(trigger, &out->trigger) != 0)
		return PB_ERR("unknown trigger \"%.64s\"", trigger);
	out->reason = fd_wire_str_in(m->reason);
	out->cause_id = fd_wire_str_in(m->cause_id);
	out->occurred_at_ms = m->occurred_at_ms;
	out->owner_id = fd_wire_str_in(m->owner_id);
	out->lead_source = fd_wire_str_in(m->lead_source);
	out->review_at_ms = m->review_at_ms;

	out->score.engagement = m->engagement_score;
	out->score.fit = m->fit_score;
	const char *grade = fd_wire_str_in(m->grade);
	if (parse_grade(grade, &out->score.grade) != 0)
		return PB_ERR("unknown grade \"%.8s\"", grade);
	out->score.recency_days = m->recency_days;
	out->score.high_intent_recency_days = m->high_intent_recency_days;
	out->score.frequency[0] = m->frequency_7d;
	out->score.frequency[1] = m->frequency_30d;
	out->score.n_windows = 2;
	out->score.as_of_ms = m->occurred_at_ms;

	if (m->n_recent_activities > 0) {
		fd_recent_activity *r = fd_wire_arena_alloc(a, m->n_recent_activities * sizeof(*r));
		if (!r)
			return PB_ERR("out of memory");
		for (size_t i = 0; i < m->n_recent_activities; i++) {
			const Funneld__V1__RecentActivity *src = m->recent_activities[i];
			r[i].type = fd_wire_str_in(src->type);
			r[i].content_id = fd_wire_str_in(src->content_id);
			r[i].channel = fd_wire_str_in(src->channel);
			r[i].occurred_at_ms = src->occurred_at_ms;
		}
		out->recent = r;
		out->n_recent = m->n_recent_activities;
	}
	if (m->n_top_interests > 0) {
		fd_interest *in = fd_wire_arena_alloc(a, m->n_top_interests * sizeof(*in));
		if (!in)
			return PB_ERR("out of memory");
		for (size_t i = 0; i < m->n_top_interests; i++) {
			in[i].content_id = fd_wire_str_in(m->top_interests[i]->content_id);
			in[i].score = m->top_interests[i]->score;
		}
		out->interests = in;
		out->n_interests = m->n_top_interests;
	}
	if (m->n_score_breakdown > 0) {
		fd_breakdown *b = fd_wire_arena_alloc(a, m->n_score_breakdown * sizeof(*b));
		if (!b)
			return PB_ERR("out of memory");
		for (size_t i = 0; i < m->n_score_breakdown; i++) {
			b[i].type = fd_wire_str_in(m->score_breakdown[i]->type);
			b[i].points = m->score_breakdown[i]->points;
		}
		out->breakdown = b;
		out->n_breakdown = m->n_score_breakdown;
	}
	return 0;
}

static int decode_sla_event(const void *buf, size_t len, fd_wire_arena *a,
                            fd_sla_event *out, char *errstr, size_t errstr_size)
{
	Funneld__V1__SlaEvent *m = funneld__v1__sla_event__unpack(NULL, len, buf);
	if (!m)
		return PB_ERR("malformed SlaEvent");
	fd_wire_arena_hold_message(a, &m->base);

	const char *id = fd_wire_str_in(m->sla_event_id);
	if (strlen(id) > FD_ID_HEX)
		return PB_ERR("sla_event_id longer than %d characters", FD_ID_HEX);
	memcpy(out->sla_event_id, id, strlen(id) + 1);
	out->lead_id = fd_wire_str_in(m->lead_id);
	out->sla = fd_wire_str_in(m->sla);
	if (fd_wire_sla_kind_from_proto((int)m->kind, &out->kind) != 0)
		return PB_ERR("unknown SLA kind %d", (int)m->kind);
	if (fd_wire_stage_from_proto((int)m->stage, &out->stage) != 0)
		return PB_ERR("unknown stage %d", (int)m->stage);
	out->owner_id = fd_wire_str_in(m->owner_id);
	out->started_at_ms = m->started_at_ms;
	out->due_at_ms = m->due_at_ms;
	out->occurred_at_ms = m->occurred_at_ms;
	out->elapsed_ms = m->elapsed_ms;
	return 0;
}

static int decode_lead_score(const void *buf, size_t len, fd_wire_arena *a,
                             fd_lead_view *out, int64_t *updated_at_ms,
                             char *errstr, size_t errstr_size)
{
	Funneld__V1__LeadScore *m = funneld__v1__lead_score__unpack(NULL, len, buf);
	if (!m)
		return PB_ERR("malformed LeadScore");
	fd_wire_arena_hold_message(a, &m->base);

	out->lead_id = fd_wire_str_in(m->lead_id);
	if (fd_wire_stage_from_proto((int)m->stage, &out->stage) != 0)
		return PB_ERR("unknown stage %d", (int)m->stage);
	out->stage_entered_ms = m->stage_entered_ms;
	out->owner_id = fd_wire_str_in(m->owner_id);
	out->lead_source = fd_wire_str_in(m->lead_source);
	out->disqualified_by = fd_wire_str_in(m->disqualified_by);
	out->score.engagement = m->engagement_score;
	out->score.fit = m->fit_score;
	const char *grade = fd_wire_str_in(m->grade);
	if (parse_grade(grade, &out->score.grade) != 0)
		return PB_ERR("unknown grade \"%.8s\"", grade);
	out->score.recency_days = m->recency_days;
	out->score.high_intent_recency_days = m->high_intent_recency_days;
	out->score.frequency[0] = m->frequency_7d;
	out->score.frequency[1] = m->frequency_30d;
	out->score.n_windows = 2;
	out->score.as_of_ms = m->updated_at_ms;
	*updated_at_ms = m->updated_at_ms;
	return 0;
}

/* Shared tail of the three decoders: on failure leave nothing behind. */
static int finish(int rc, fd_wire_arena *a, void *out, size_t out_size)
{
	if (rc != 0) {
		memset(out, 0, out_size);
		fd_wire_arena_reset(a);
	}
	return rc;
}

int fd_wire_decode_transition(const void *buf, size_t len, fd_wire_arena *a,
                              fd_transition *out, char *errstr, size_t errstr_size)
{
	memset(out, 0, sizeof(*out));
	fd_wire_arena_reset(a);
	int rc = decode_transition(buf, len, a, out, errstr, errstr_size);
	return finish(rc, a, out, sizeof(*out));
}

int fd_wire_decode_sla_event(const void *buf, size_t len, fd_wire_arena *a,
                             fd_sla_event *out, char *errstr, size_t errstr_size)
{
	memset(out, 0, sizeof(*out));
	fd_wire_arena_reset(a);
	int rc = decode_sla_event(buf, len, a, out, errstr, errstr_size);
	return finish(rc, a, out, sizeof(*out));
}

int fd_wire_decode_lead_score(const void *buf, size_t len, fd_wire_arena *a,
                              fd_lead_view *out, int64_t *updated_at_ms,
                              char *errstr, size_t errstr_size)
{
	memset(out, 0, sizeof(*out));
	*updated_at_ms = 0;
	fd_wire_arena_reset(a);
	int rc = decode_lead_score(buf, len, a, out, updated_at_ms, errstr, errstr_size);
	if (rc != 0)
		*updated_at_ms = 0;
	return finish(rc, a, out, sizeof(*out));
}
