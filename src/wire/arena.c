/*
 * arena.c — the memory behind decoded structs (fd_wire_arena).
 *
 * A decoded fd_engagement / fd_profile / fd_activity / output struct points
 * into three kinds of memory: the unpacked protobuf-c message, the parsed
 * json-c document, and small pieces the decoder made itself (normalised
 * event names, integer ids printed as text, pointer arrays). The arena owns
 * all three until the next decode or reset. The small pieces come from a
 * bump allocator whose first chunk survives resets, so a steady stream of
 * ordinary messages does not allocate for them.
 *
 * Not a general-purpose allocator: nothing is freed individually, and an
 * arena is used by one thread at a time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_internal.h"

#define ARENA_FIRST_CHUNK 4096
#define ARENA_ALIGN _Alignof(max_align_t)

typedef struct arena_chunk {
	struct arena_chunk *next;
	size_t size;  /* usable bytes in data */
	size_t used;
	max_align_t data[];
} arena_chunk;

struct fd_wire_arena {
	arena_chunk *chunks;        /* newest first; the last one is kept on reset */
	ProtobufCMessage *message;  /* owned: protobuf_c_message_free_unpacked */
	json_object *json;          /* owned: json_object_put */
	json_tokener *tokener;      /* owned, reused across messages */
	const fd_wire_property *props;  /* points into chunk memory */
	size_t n_props;
	int64_t schema_id;
};

static arena_chunk *arena_chunk_new(size_t size)
{
	arena_chunk *c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

fd_wire_arena *fd_wire_arena_new(void)
{
	fd_wire_arena *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->chunks = arena_chunk_new(ARENA_FIRST_CHUNK);
	if (!a->chunks) {
		free(a);
		return NULL;
	}
	a->schema_id = -1;
	return a;
}

void fd_wire_arena_reset(fd_wire_arena *a)
{
	if (a->message) {
		protobuf_c_message_free_unpacked(a->message, NULL);
		a->message = NULL;
	}
	if (a->json) {
		json_object_put(a->json);
		a->json = NULL;
	}
	/* keep only the oldest (first-allocated, ARENA_FIRST_CHUNK) chunk */
	while (a->chunks->next) {
		arena_chunk *c = a->chunks;
		a->chunks = c->next;
		free(c);
	}
	a->chunks->used = 0;
	a->props = NULL;
	a->n_props = 0;
	a->schema_id = -1;
}

void fd_wire_arena_free(fd_wire_arena *a)
{
	if (!a)
		return;
	fd_wire_arena_reset(a);
	if (a->tokener)
		json_tokener_free(a->tokener);
	free(a->chunks);
	free(a);
}

void *fd_wire_arena_alloc(fd_wire_arena *a, size_t size)
{
	size_t need = (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
	arena_chunk *c = a->chunks;

	if (need < size)
		return NULL; /* overflow */
	if (need == 0)
		need = ARENA_ALIGN;
	if (c->size - c->used < need) {
		size_t chunk_size = need > ARENA_FIRST_CHUNK ? need : ARENA_FIRST_CHUNK;
		c = arena_chunk_new(chunk_size);
		if (!c)
			return NULL;
		c->next = a->chunks;
		a->chunks = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

void fd_wire_arena_hold_message(fd_wire_arena *a, ProtobufCMessage *msg)
{
	if (a->message)
		protobuf_c_message_free_unpacked(a->message, NULL);
	a->message = msg;
}

void fd_wire_arena_hold_json(fd_wire_arena *a, json_object *doc)
{
	if (a->json)
		json_object_put(a->json);
	a->json = doc;
}

json_tokener *fd_wire_arena_tokener(fd_wire_arena *a)
{
	if (!a->tokener)
		a->tokener = json_tokener_new();
	else
		json_tokener_reset(a->tokener);
	return a->tokener;
}

void fd_wire_arena_set_properties(fd_wire_arena *a, const fd_wire_property *props, size_t n)
{
	a->props = props;
	a->n_props = n;
}

void fd_wire_arena_set_schema_id(fd_wire_arena *a, int64_t schema_id)
{
	a->schema_id = schema_id;
}

size_t fd_wire_arena_properties(const fd_wire_arena *a, const fd_wire_property **props)
{
	*props = a->props;
	return a->n_props;
}

int64_t fd_wire_arena_schema_id(const fd_wire_arena *a)
{
	return a->schema_id;
}

int fd_wire_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
	if (errstr && errstr_size > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errstr, errstr_size, fmt, ap);
		va_end(ap);
	}
	return -1;
}
