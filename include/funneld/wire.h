/*
 * funneld/wire.h — the codecs between Kafka record values and the engine's
 * structs: decoders for the three inputs (plain protobuf, protobuf in the
 * Confluent Schema Registry framing, Segment-shaped or plain JSON) and
 * deterministic protobuf encoders (and matching decoders) for the outputs.
 *
 * The codecs are pure: no I/O, no clock, no global state, no logging. They
 * do not judge business validity (whether an event type is configured, whether
 * an activity fits a stage): that is the engine's job. They do reject what
 * cannot be turned into a well-formed struct — bad framing, malformed bytes,
 * a missing lead id or time, a wrong JSON type, an unknown enum value — and
 * say why in errstr, in a form fit for the funneld.error.reason dead-letter
 * header ("json: missing userId", "confluent: bad magic byte 0x7b ...").
 * Every message starts with the encoding it failed in: "protobuf:",
 * "confluent:" or "json:" ("lead state:" for the changelog codec).
 *
 * The wire contract is proto/funneld/v1/ (*.proto); the generated protobuf-c
 * types (funneld/v1/NAME.pb-c.h, in the build tree) stay out of this header so
 * that callers need only the engine's structs. Code that handles the
 * protobuf-c types itself maps enums with the fd_wire_*_to_proto /
 * _from_proto functions below, never by cast.
 */
#ifndef FUNNELD_WIRE_H
#define FUNNELD_WIRE_H

#include "funneld/engine.h"

/* How a topic's records are encoded (chosen per topic in the config). */
typedef enum fd_encoding {
	FD_ENCODING_PROTOBUF = 0,
	FD_ENCODING_CONFLUENT_PROTOBUF, /* magic 0, schema id, message indexes */
	FD_ENCODING_JSON                /* Segment track/page/identify shapes */
} fd_encoding;

/* ---- the arena: memory behind decoded structs ----------------------------- */

/* Owns everything a decoded struct points to (the unpacked protobuf-c
 * message, the parsed JSON document, normalised strings, arrays). Each
 * decode call first releases what the arena held from the previous call, so
 * a decoded struct stays valid until the next decode into the same arena,
 * fd_wire_arena_reset() or fd_wire_arena_free(). One arena per thread (or
 * per consumer loop); it keeps a small buffer across resets so the steady
 * state does not allocate for it. */
typedef struct fd_wire_arena fd_wire_arena;

/* Returns NULL on allocation failure. */
fd_wire_arena *fd_wire_arena_new(void);
/* Release the last decoded message (safe on a fresh arena). */
void fd_wire_arena_reset(fd_wire_arena *a);
/* Release everything; NULL is a no-op. */
void fd_wire_arena_free(fd_wire_arena *a);

/* One entry of an engagement event's free-form properties. */
typedef struct fd_wire_property {
	const char *key;
	const char *value;
} fd_wire_property;

/* The properties of the engagement event last decoded into `a` (protobuf
 * `properties` map in wire order; JSON `properties` object in document order,
 * non-string values as their JSON text, nulls left out). Sets *props (owned by
 * the arena) and returns the count; 0 after any other decode. The engine does
 * not use them; they are here for logs, the demo and future rules. */
size_t fd_wire_arena_properties(const fd_wire_arena *a, const fd_wire_property **props);

/* The Schema Registry schema id of the message last decoded into `a` with
 * FD_ENCODING_CONFLUENT_PROTOBUF, or -1. */
int64_t fd_wire_arena_schema_id(const fd_wire_arena *a);

/* ---- decoding the inputs ------------------------------------------------- */

/*
 * Decode one record value into *out. On success return 0; every string in
 * *out is non-NULL ("" when absent) and owned by `a`. On error return -1,
 * write the reason to errstr (NUL-terminated, truncated to errstr_size; errstr
 * may be NULL when errstr_size is 0) and leave *out zeroed.
 *
 * FD_ENCODING_PROTOBUF: the value is the message (EngagementEvent,
 * LeadProfile, SalesActivity).
 *
 * FD_ENCODING_CONFLUENT_PROTOBUF: byte 0 is the magic 0, bytes 1-4 the
 * big-endian schema id, then the message-index array (zigzag varint count,
 * then that many zigzag varint indexes; a single 0 byte means [0]), then the
 * message. The indexes are checked for well-formedness and skipped: the
 * payload is decoded as the topic's message type whatever the registered
 * schema's layout.
 *
 * FD_ENCODING_JSON: one JSON object, either
 *  - a Segment call: an object whose "type" is "track", "page" or
 *    "identify" (or that carries userId/anonymousId/messageId).
 *    userId -> lead_id (required), messageId -> event_id, timestamp
 *    (required; ISO-8601 "2026-01-02T03:04:05.678Z", "...+02:00", fraction
 *    optional) -> occurred_at_ms / updated_at_ms.
 *    track: event -> type, normalised (lower case, spaces and dashes to
 *      underscores, and the Segment spec's past-tense names to funneld's
 *      types: "Demo Requested" -> demo_request, "Email Link Clicked" ->
 *      email_click, ...); properties.channel, .content_id, .account_id
 *      (else context.groupId), .url (else context.page.url), .campaign (else
 *      context.campaign.name).
 *    page: type "page_view"; url from properties.url or context.page.url;
 *      content_id from properties.content_id or the call's name; channel
 *      from properties.channel, else "web".
 *    identify (profiles only): traits.email, .title / .job_title,
 *      .seniority, .department, .industry (else company.industry), .country
 *      (else address.country), .employees / .employee_count (else
 *      company.employee_count), .annual_revenue, .technologies (array of
 *      strings), .lead_source, .owner_id; camelCase spellings are accepted
 *      too.
 *  - otherwise the message's own fields, by proto name (lead_id) or
 *    protobuf-JSON name (leadId); int64 as a number or a decimal string;
 *    enums by name, with or without their prefix ("ACCEPT",
 *    "ACTIVITY_KIND_ACCEPT", case-insensitive) or by number.
 * Integers must be integral; string fields must be strings (ids may also be
 * integers); null counts as absent.
 *
 * Required everywhere: lead_id. Engagement: occurred_at_ms > 0 and type.
 * Activity: occurred_at_ms > 0 and a known kind; reason known if present.
 */
int fd_wire_decode_engagement(fd_encoding enc, const void *buf, size_t len,
                              fd_wire_arena *a, fd_engagement *out,
                              char *errstr, size_t errstr_size);
int fd_wire_decode_profile(fd_encoding enc, const void *buf, size_t len,
                           fd_wire_arena *a, fd_profile *out,
                           char *errstr, size_t errstr_size);
int fd_wire_decode_activity(fd_encoding enc, const void *buf, size_t len,
                            fd_wire_arena *a, fd_activity *out,
                            char *errstr, size_t errstr_size);

/* ---- encoding the outputs ------------------------------------------------ */

/*
 * Encode an output as protobuf (StageTransition, SlaEvent, LeadScore). On
 * success return 0 and set *buf to a malloc'ed buffer of *len bytes that the
 * caller frees with free(). Return -1 and set errno to ENOMEM on allocation
 * failure, or to EINVAL for an out-of-range enum value; *buf is then NULL.
 *
 * The bytes are a pure function of the struct: the same struct always
 * encodes to the same bytes. NULL strings encode as "". Scores keep full
 * double precision; frequency_7d / frequency_30d are score.frequency[0] /
 * [1] (0 when the config has fewer windows); grade is "A".."D".
 * fd_wire_encode_lead_score takes the snapshot time separately because the
 * view does not carry it.
 */
int fd_wire_encode_transition(const fd_transition *t, uint8_t **buf, size_t *len);
int fd_wire_encode_sla_event(const fd_sla_event *e, uint8_t **buf, size_t *len);
int fd_wire_encode_lead_score(const fd_lead_view *v, int64_t updated_at_ms,
                              uint8_t **buf, size_t *len);

/* ---- decoding the outputs (demo, tests, tools) --------------------------- */

/*
 * Decode plain-protobuf output bytes back into the engine's structs, with the
 * same arena rules and error convention as the input decoders. Fields the
 * protobuf does not carry come back as: score.n_windows = 2 (frequency[0..1]
 * filled), score.as_of_ms = occurred_at_ms (transition) or updated_at_ms
 * (lead score); for a lead score, no open SLAs, recent activity, interests or
 * breakdown, and review_at_ms = remql_after_ms = 0. An unknown stage, kind,
 * trigger or grade is an error.
 */
int fd_wire_decode_transition(const void *buf, size_t len, fd_wire_arena *a,
                              fd_transition *out, char *errstr, size_t errstr_size);
int fd_wire_decode_sla_event(const void *buf, size_t len, fd_wire_arena *a,
                             fd_sla_event *out, char *errstr, size_t errstr_size);
int fd_wire_decode_lead_score(const void *buf, size_t len, fd_wire_arena *a,
                              fd_lead_view *out, int64_t *updated_at_ms,
                              char *errstr, size_t errstr_size);

/* ---- the changelog: lead state ------------------------------------------- */

/*
 * Encode an engine lead state (fd_engine_export) as a LeadState record in
 * the compact encoding (state.proto, LeadState.Compact), with the output
 * encoders' conventions: a malloc'ed buffer the caller frees, -1 with errno
 * ENOMEM or EINVAL (empty lead id, stage or grade out of range, an n_* count
 * outside its array), and the same struct always encodes to the same bytes
 * (strings are compared by content, not address). NULL strings encode as
 * "". Lossless: every int64 time, position and window, every double's bits
 * (fit, interests and breakdown as floats only when that is exact), except
 * that -0.0 reads back as 0.0 (as with v1). Only the fields v1 carries are
 * carried; remql_after_ms is not (the engine derives it); freq_head only
 * when n_freq > 0.
 */
int fd_wire_encode_lead_state(const fd_lead_state *st, uint8_t **buf, size_t *len);

/*
 * The same state in the v1 encoding (LeadState fields 1 to 26), which
 * funneld 0.1 reads and the compact encoding replaced: for a group whose
 * older instances must still read what newer ones write (README,
 * "Upgrading"), and for tests and benchmarks. Same conventions. Mapping:
 * grade 0..3 -> "A".."D"; freq (newest first) -> freq_counts with
 * freq_head_bucket (0 when n_freq is 0); seen (oldest first) -> recent_ids;
 * slas -> open_slas with opened = true; positions[FD_INPUT_*] -> one
 * AppliedOffset {"engagement" | "profile" | "activity", partition, position}
 * per non-zero position; remql_after_ms is written as 0 (the engine derives
 * it). Doubles keep their bits, except that -0.0 is not written (proto3
 * leaves zeros out) and reads back as 0.0.
 */
int fd_wire_encode_lead_state_v1(const fd_lead_state *st, uint8_t **buf, size_t *len);

/*
 * Decode a LeadState record, in either encoding (compact when field 27 is
 * present, v1 otherwise), into *out for fd_engine_import, with the arena
 * rules of the other decoders: every string is non-NULL and valid until
 * the arena's next decode or reset (names of the compact encoding's shared
 * vocabulary point at constants); on error -1, a "lead state: ..." reason
 * in errstr and *out zeroed. Both encodings of a state decode to the same
 * struct. Refused: malformed bytes, a missing lead_id, an unknown stage or
 * grade, a repeated field with more entries than the fd_lead_state array
 * holds. v1 only: an applied offset with an unknown or repeated topic or on
 * another partition than the lead's; open_slas entries with opened = false
 * (waiting for their start activity) are skipped; remql_after_ms is
 * ignored. Compact only: a field of v1 beside field 27, a string reference
 * with no string, a NUL byte in a string, lists whose arrays disagree in
 * length, a number in two of its fields at once, a frequency count past
 * 2^32 - 1. Unknown fields are skipped. Names are not checked against any
 * config.
 */
int fd_wire_decode_lead_state(const void *buf, size_t len, fd_wire_arena *a,
                              fd_lead_state *out, char *errstr, size_t errstr_size);

/* ---- the changelog: partition checkpoints ---------------------------------- */

/*
 * A partition's checkpoint (state.proto, PartitionState: stream time and
 * funnel counters, see "partitions" in funneld/engine.h) is keyed by the
 * reserved key below: a NUL byte, then "funneld.partition". No lead's key
 * can be it: lead ids are C strings, non-empty, so their first byte is
 * never NUL. A checkpoint goes on the changelog partition of its number.
 */
#define FD_WIRE_CHECKPOINT_KEY "\0funneld.partition"
#define FD_WIRE_CHECKPOINT_KEY_LEN (sizeof FD_WIRE_CHECKPOINT_KEY - 1)

/* Is key[0..len) a checkpoint's key (not a lead's)? */
bool fd_wire_is_checkpoint_key(const void *key, size_t len);

/* Encode a partition's state (fd_engine_partition_export): a malloc'ed
 * buffer the caller frees; -1 on allocation failure or an n_slas out of
 * range. The same state always encodes to the same bytes. Counters are
 * written by stage and by SLA name, zeros left out. */
int fd_wire_encode_partition_state(const fd_partition_state *st, uint8_t **buf, size_t *len);

/* Decode a PartitionState record into *out for fd_engine_partition_import
 * (days and SLA names valid until the arena's next decode or reset); -1
 * with a "partition state: ..." reason and *out zeroed on malformed bytes,
 * an unknown stage or more than FD_MAX_SLAS SLA names. */
int fd_wire_decode_partition_state(const void *buf, size_t len, fd_wire_arena *a,
                                   fd_partition_state *out, char *errstr, size_t errstr_size);

/* ---- enum mapping to the proto enum numbers ------------------------------ */

/* *_to_proto return the funneld.v1 enum number, or 0 (UNSPECIFIED) for an
 * out-of-range value. *_from_proto return 0 and set *out, or -1 for
 * UNSPECIFIED or an unknown number (fd_wire_reason_from_proto maps
 * REASON_UNSPECIFIED to FD_REASON_NONE and succeeds). */
int fd_wire_stage_to_proto(fd_stage s);
int fd_wire_stage_from_proto(int v, fd_stage *out);
int fd_wire_activity_kind_to_proto(fd_activity_kind k);
int fd_wire_activity_kind_from_proto(int v, fd_activity_kind *out);
int fd_wire_reason_to_proto(fd_reason r);
int fd_wire_reason_from_proto(int v, fd_reason *out);
int fd_wire_sla_kind_to_proto(fd_sla_kind k);
int fd_wire_sla_kind_from_proto(int v, fd_sla_kind *out);

/* ---- ISO-8601 timestamps (iso8601.c) --------------------------------------- */

/* Parse an ISO-8601 / RFC 3339 date-time with a 'Z' or +-hh:mm offset into
 * milliseconds since the Unix epoch. Returns 0 or -1. */
int fd_iso8601_parse(const char *text, int64_t *out_ms);

/* Format `ms` as "YYYY-MM-DDThh:mm:ss.mmmZ" (UTC); 25 bytes with the NUL. */
void fd_iso8601_format(int64_t ms, char *buf, size_t size);

#endif /* FUNNELD_WIRE_H */
