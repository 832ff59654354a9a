/*
 * inputs.c — the public input decoders, fd_wire_decode_engagement /
 * _profile / _activity: pick the encoding, strip the Confluent framing,
 * unpack protobuf with the generated protobuf-c code (or hand the text to
 * json.c), and fill the engine's structs.
 *
 * The unpacked protobuf-c message stays alive in the arena and the structs
 * point into it; nothing is copied. Checks are about form only (a lead id,
 * a time, a known enum value); whether the input makes sense for the lead
 * is the engine's call.
 */
#include <string.h>

#include "funneld/v1/inputs.pb-c.h"

#include "wire/wire_internal.h"

#define PB_ERR(...) fd_wire_fail(errstr, errstr_size, "protobuf: " __VA_ARGS__)

/* The protobuf bytes inside buf for a protobuf encoding, after the
 * Confluent framing when there is one. */
static int protobuf_payload(fd_encoding enc, const void *buf, size_t len, fd_wire_arena *a,
                            const uint8_t **payload, size_t *payload_len,
                            char *errstr, size_t errstr_size)
{
	if (enc == FD_ENCODING_PROTOBUF) {
		*payload = buf;
		*payload_len = len;
		return 0;
	}
	int64_t schema_id;
	if (fd_wire_confluent_unframe(buf, len, payload, payload_len, &schema_id,
	                              errstr, errstr_size) != 0)
		return -1;
	fd_wire_arena_set_schema_id(a, schema_id);
	return 0;
}

static bool is_protobuf(fd_encoding enc)
{
	return enc == FD_ENCODING_PROTOBUF || enc == FD_ENCODING_CONFLUENT_PROTOBUF;
}

/* ---- EngagementEvent ----------------------------------------------------- */

static int protobuf_engagement(fd_encoding enc, const void *buf, size_t len,
                               fd_wire_arena *a, fd_engagement *out,
                               char *errstr, size_t errstr_size)
{
	const uint8_t *p;
	size_t n;
	if (protobuf_payload(enc, buf, len, a, &p, &n, errstr, errstr_size) != 0)
		return -1;
	Funneld__V1__EngagementEvent *m = funneld__v1__engagement_event__unpack(NULL, n, p);
	if (!m)
		return PB_ERR("malformed EngagementEvent");
	fd_wire_arena_hold_message(a, &m->base);
	if (fd_wire_pb_text(&funneld__v1__engagement_event__descriptor, p, n, errstr, errstr_size) != 0)
		return -1;

	out->event_id = fd_wire_str_in(m->event_id);
	out->lead_id = fd_wire_str_in(m->lead_id);
	out->account_id = fd_wire_str_in(m->account_id);
	out->occurred_at_ms = m->occurred_at_ms;
	out->type = fd_wire_str_in(m->type);
	out->channel = fd_wire_str_in(m->channel);
	out->content_id = fd_wire_str_in(m->content_id);
	out->url = fd_wire_str_in(m->url);
	out->campaign = fd_wire_str_in(m->campaign);

	if (!*out->lead_id)
		return PB_ERR("missing lead_id");
	if (out->occurred_at_ms == 0)
		return PB_ERR("missing occurred_at_ms");
	if (out->occurred_at_ms < 0)
		return PB_ERR("invalid occurred_at_ms %lld", (long long)out->occurred_at_ms);
	if (!*out->type)
		return PB_ERR("missing type");

	if (m->n_properties > 0) {
		fd_wire_property *props = fd_wire_arena_alloc(a, m->n_properties * sizeof(*props));
		if (!props)
			return PB_ERR("out of memory");
		for (size_t i = 0; i < m->n_properties; i++) {
			props[i].key = fd_wire_str_in(m->properties[i]->key);
			props[i].value = fd_wire_str_in(m->properties[i]->value);
		}
		fd_wire_arena_set_properties(a, props, m->n_properties);
	}
	return 0;
}

/* ---- LeadProfile --------------------------------------------------------- */

static int protobuf_profile(fd_encoding enc, const void *buf, size_t len,
                            fd_wire_arena *a, fd_profile *out,
                            char *errstr, size_t errstr_size)
{
	const uint8_t *p;
	size_t n;
	if (protobuf_payload(enc, buf, len, a, &p, &n, errstr, errstr_size) != 0)
		return -1;
	Funneld__V1__LeadProfile *m = funneld__v1__lead_profile__unpack(NULL, n, p);
	if (!m)
		return PB_ERR("malformed LeadProfile");
	fd_wire_arena_hold_message(a, &m->base);
	if (fd_wire_pb_text(&funneld__v1__lead_profile__descriptor, p, n, errstr, errstr_size) != 0)
		return -1;

	out->lead_id = fd_wire_str_in(m->lead_id);
	out->updated_at_ms = m->updated_at_ms;
	out->email = fd_wire_str_in(m->email);
	out->job_title = fd_wire_str_in(m->job_title);
	out->seniority = fd_wire_str_in(m->seniority);
	out->department = fd_wire_str_in(m->department);
	out->industry = fd_wire_str_in(m->industry);
	out->country = fd_wire_str_in(m->country);
	out->employee_count = m->employee_count;
	out->annual_revenue = m->annual_revenue;
	out->lead_source = fd_wire_str_in(m->lead_source);
	out->owner_id = fd_wire_str_in(m->owner_id);
	if (m->n_technologies > 0) {
		/* protobuf-c never leaves a repeated string element NULL */
		const char **tech = fd_wire_arena_alloc(a, m->n_technologies * sizeof(*tech));
		if (!tech)
			return PB_ERR("out of memory");
		for (size_t i = 0; i < m->n_technologies; i++)
			tech[i] = fd_wire_str_in(m->technologies[i]);
		out->technologies = tech;
		out->n_technologies = m->n_technologies;
	}

	if (!*out->lead_id)
		return PB_ERR("missing lead_id");
	if (out->updated_at_ms < 0)
		return PB_ERR("invalid updated_at_ms %lld", (long long)out->updated_at_ms);
	if (out->employee_count < 0)
		return PB_ERR("negative employee_count %lld", (long long)out->employee_count);
	if (out->annual_revenue < 0)
		return PB_ERR("negative annual_revenue %lld", (long long)out->annual_revenue);
	return 0;
}

/* ---- SalesActivity ------------------------------------------------------- */

static int protobuf_activity(fd_encoding enc, const void *buf, size_t len,
                             fd_wire_arena *a, fd_activity *out,
                             char *errstr, size_t errstr_size)
{
	const uint8_t *p;
	size_t n;
	if (protobuf_payload(enc, buf, len, a, &p, &n, errstr, errstr_size) != 0)
		return -1;
	Funneld__V1__SalesActivity *m = funneld__v1__sales_activity__unpack(NULL, n, p);
	if (!m)
		return PB_ERR("malformed SalesActivity");
	fd_wire_arena_hold_message(a, &m->base);
	if (fd_wire_pb_text(&funneld__v1__sales_activity__descriptor, p, n, errstr, errstr_size) != 0)
		return -1;

	out->activity_id = fd_wire_str_in(m->activity_id);
	out->lead_id = fd_wire_str_in(m->lead_id);
	out->occurred_at_ms = m->occurred_at_ms;
	out->rep_id = fd_wire_str_in(m->rep_id);
	out->note = fd_wire_str_in(m->note);
	out->review_after_days = m->review_after_days;

	if (!*out->lead_id)
		return PB_ERR("missing lead_id");
	if (out->occurred_at_ms == 0)
		return PB_ERR("missing occurred_at_ms");
	if (out->occurred_at_ms < 0)
		return PB_ERR("invalid occurred_at_ms %lld", (long long)out->occurred_at_ms);
	if (m->kind == FUNNELD__V1__ACTIVITY_KIND__ACTIVITY_KIND_UNSPECIFIED)
		return PB_ERR("missing kind");
	if (fd_wire_activity_kind_from_proto((int)m->kind, &out->kind) != 0)
		return PB_ERR("unknown activity kind %d", (int)m->kind);
	if (fd_wire_reason_from_proto((int)m->reason, &out->reason) != 0)
		return PB_ERR("unknown reason %d", (int)m->reason);
	if (out->review_after_days < 0)
		return PB_ERR("negative review_after_days %d", (int)out->review_after_days);
	return 0;
}

/* ---- public entry points ------------------------------------------------- */

/* Shared tail of the three decoders: on failure leave nothing behind. */
static int finish(int rc, fd_wire_arena *a, void *out, size_t out_size)
{
	if (rc != 0) {
		memset(out, 0, out_size);
		fd_wire_arena_reset(a);
	}
	return rc;
}

static int unknown_encoding(fd_encoding enc, char *errstr, size_t errstr_size)
{
	return fd_wire_fail(errstr, errstr_size, "wire: unknown encoding %d", (int)enc);
}

int fd_wire_decode_engagement(fd_encoding enc, const void *buf, size_t len,
                              fd_wire_arena *a, fd_engagement *out,
                              char *errstr, size_t errstr_size)
{
	int rc;
	memset(out, 0, sizeof(*out));
	fd_wire_arena_reset(a);
	if (is_protobuf(enc))
		rc = protobuf_engagement(enc, buf, len, a, out, errstr, errstr_size);
	else if (enc == FD_ENCODING_JSON)
		rc = fd_wire_json_engagement(buf, len, a, out, errstr, errstr_size);
	else
		rc = unknown_encoding(enc, errstr, errstr_size);
	return finish(rc, a, out, sizeof(*out));
}

int fd_wire_decode_profile(fd_encoding enc, const void *buf, size_t len,
                           fd_wire_arena *a, fd_profile *out,
                           char *errstr, size_t errstr_size)
{
	int rc;
	memset(out, 0, sizeof(*out));
	fd_wire_arena_reset(a);
	if (is_protobuf(enc))
		rc = protobuf_profile(enc, buf, len, a, out, errstr, errstr_size);
	else if (enc == FD_ENCODING_JSON)
		rc = fd_wire_json_profile(buf, len, a, out, errstr, errstr_size);
	else
		rc = unknown_encoding(enc, errstr, errstr_size);
	return finish(rc, a, out, sizeof(*out));
}

int fd_wire_decode_activity(fd_encoding enc, const void *buf, size_t len,
                            fd_wire_arena *a, fd_activity *out,
                            char *errstr, size_t errstr_size)
{
	int rc;
	memset(out, 0, sizeof(*out));
	fd_wire_arena_reset(a);
	if (is_protobuf(enc))
		rc = protobuf_activity(enc, buf, len, a, out, errstr, errstr_size);
	else if (enc == FD_ENCODING_JSON)
		rc = fd_wire_json_activity(buf, len, a, out, errstr, errstr_size);
	else
		rc = unknown_encoding(enc, errstr, errstr_size);
	return finish(rc, a, out, sizeof(*out));
}
