/*
 * wire_internal.h — what the files of src/wire/ share and nothing else
 * does: the arena's allocation hooks, the error-string helper, the
 * Confluent unframing step and the per-encoding input decoders that the
 * public fd_wire_decode_* entry points dispatch to.
 *
 * Not a public API: include/funneld/wire.h is. Nothing here does I/O.
 */
#ifndef FUNNELD_WIRE_INTERNAL_H
#define FUNNELD_WIRE_INTERNAL_H

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>

#include "funneld/wire.h"

/* ---- arena (arena.c) ----------------------------------------------------- */

/* Allocate `size` bytes (suitably aligned for any type), valid until the
 * arena is reset. Returns NULL on allocation failure. */
void *fd_wire_arena_alloc(fd_wire_arena *a, size_t size);

/* Take ownership of an unpacked protobuf-c message / a parsed JSON document;
 * the arena frees it on reset. At most one of each is held. */
void fd_wire_arena_hold_message(fd_wire_arena *a, ProtobufCMessage *msg);
void fd_wire_arena_hold_json(fd_wire_arena *a, json_object *doc);
/* The arena's reusable JSON tokener (created on first use); NULL on
 * allocation failure. */
json_tokener *fd_wire_arena_tokener(fd_wire_arena *a);
/* Record the decoded event's properties (array owned by the arena) and the
 * Confluent schema id. */
void fd_wire_arena_set_properties(fd_wire_arena *a, const fd_wire_property *props, size_t n);
void fd_wire_arena_set_schema_id(fd_wire_arena *a, int64_t schema_id);

/* Write a formatted reason to errstr (when errstr_size > 0) and return -1,
 * so that error paths read `return fd_wire_fail(errstr, sz, "...")`. */
int fd_wire_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- Confluent Schema Registry framing (framing.c) ----------------------- */

/* Check the framing of buf[0..len) and point *payload / *payload_len at the
 * protobuf message after it; *schema_id gets the schema id. Returns 0, or -1
 * with a "confluent: ..." reason. */
int fd_wire_confluent_unframe(const uint8_t *buf, size_t len,
                              const uint8_t **payload, size_t *payload_len,
                              int64_t *schema_id,
                              char *errstr, size_t errstr_size);

/* ---- JSON inputs (json.c) ------------------------------------------------ */

int fd_wire_json_engagement(const char *buf, size_t len, fd_wire_arena *a,
                            fd_engagement *out, char *errstr, size_t errstr_size);
int fd_wire_json_profile(const char *buf, size_t len, fd_wire_arena *a,
                         fd_profile *out, char *errstr, size_t errstr_size);
int fd_wire_json_activity(const char *buf, size_t len, fd_wire_arena *a,
                          fd_activity *out, char *errstr, size_t errstr_size);

/* ---- the changelog codec (state.c, state_v1.c) ---------------------------- */

/* What both encoders refuse with EINVAL: what the decoder would reject (an
 * empty lead id, a stage or grade out of range, a count outside its
 * array). */
bool fd_wire_state_encodable(const fd_lead_state *st);

/* LeadState.published (field 40, both encodings; state_v1.c packs it with
 * protobuf-c). fd_wire_published_size: the bytes of the field's body (the
 * packed Published message), 0 when the lead published nothing;
 * fd_wire_published_put writes that body at w and returns the end (the
 * caller writes the tag and length). fd_wire_published_read decodes a
 * body into out->published: 0, or -1 with a "lead state: ..." reason. */
size_t fd_wire_published_size(const fd_lead_state *st);
uint8_t *fd_wire_published_put(const fd_lead_state *st, uint8_t *w);
int fd_wire_published_read(const uint8_t *body, size_t len, fd_lead_state *out, char *errstr,
                           size_t errstr_size);

/* Decode a v1 LeadState record (one without field 27) into *out, which the
 * caller zeroed; strings point into the unpacked message `a` then holds.
 * 0, or -1 with a "lead state: ..." reason. */
int fd_wire_state_decode_v1(const void *buf, size_t len, fd_wire_arena *a, fd_lead_state *out,
                            char *errstr, size_t errstr_size);

/* ---- protobuf helpers ---------------------------------------------------- */

/* protobuf-c's message structs hold `char *` even where we only read (the
 * encoders point them at the engine's const strings for the duration of one
 * pack call). This is the one place that drops the qualifier; NULL becomes
 * "". */
static inline char *fd_wire_str_out(const char *s)
{
	return (char *)(uintptr_t)(s ? s : "");
}

/* An unpacked string field: never NULL. */
/* Every string field of the protobuf message `d` in p[0..n) is valid UTF-8
 * without NUL (pbtext.c): 0, or -1 with the field named in errstr. Call
 * after a successful unpack (a malformed message passes: the unpacker
 * refused it already). */
int fd_wire_pb_text(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                    char *errstr, size_t errstr_size);

static inline const char *fd_wire_str_in(const char *s)
{
	return s ? s : "";
}

#endif /* FUNNELD_WIRE_INTERNAL_H */
