/*
 * fuzz_wire.c — libFuzzer target for the codecs in src/wire/.
 *
 * The first input byte picks what to decode: one of the three inputs in one
 * of the three encodings, or one of the three outputs. Every decoded string
 * is read to its end (so AddressSanitizer sees any dangling or unterminated
 * pointer), and a decoded output must re-encode, decode again and re-encode
 * to the same bytes (the encoders are deterministic and lossless on what
 * they produce). The target is pure: no files, no clock.
 *
 * Build: cmake -DFUNNELD_FUZZ=ON -DFUNNELD_SANITIZE=ON -DCMAKE_C_COMPILER=clang
 *        -DFUNNELD_TESTS=OFF -DFUNNELD_BENCH=OFF; then e.g.
 *        mkdir run && ./fuzz_wire -max_total_time=60 run tests/fuzz/corpus/wire
 * (the seeds there start with the selector byte: 0-2 engagement, 3-5
 * profile, 6-8 activity in protobuf / Confluent / JSON; 9-11 transition,
 * SLA event, lead score).
 * Not a unit test: tests/unit/test_wire.c pins the behaviour.
 */
#include <stdlib.h>
#include <string.h>

#include "funneld/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fd_wire_arena *arena;
static volatile size_t sink; /* keeps the string reads from being optimised out */

static void touch(const char *s)
{
	if (!s)
		abort(); /* decoded strings are never NULL */
	sink += strlen(s);
}

static void touch_engagement(const fd_engagement *ev)
{
	touch(ev->event_id);
	touch(ev->lead_id);
	touch(ev->account_id);
	touch(ev->type);
	touch(ev->channel);
	touch(ev->content_id);
	touch(ev->url);
	touch(ev->campaign);
	const fd_wire_property *props;
	size_t n = fd_wire_arena_properties(arena, &props);
	for (size_t i = 0; i < n; i++) {
		touch(props[i].key);
		touch(props[i].value);
	}
}

static void touch_profile(const fd_profile *p)
{
	touch(p->lead_id);
	touch(p->email);
	touch(p->job_title);
	touch(p->seniority);
	touch(p->department);
	touch(p->industry);
	touch(p->country);
	touch(p->lead_source);
	touch(p->owner_id);
	for (size_t i = 0; i < p->n_technologies; i++)
		touch(p->technologies[i]);
}

static void touch_activity(const fd_activity *a)
{
	touch(a->activity_id);
	touch(a->lead_id);
	touch(a->rep_id);
	touch(a->note);
	if ((unsigned)a->kind >= FD_ACT_COUNT || (unsigned)a->reason >= FD_REASON_COUNT)
		abort();
}

/* Encode, decode and encode again: the two encodings must be identical. */
static void check_transition(const fd_transition *t)
{
	uint8_t *first, *second;
	size_t first_len, second_len;
	fd_transition back;
	char err[128];

	if (fd_wire_encode_transition(t, &first, &first_len) != 0)
		abort();
	if (fd_wire_decode_transition(first, first_len, arena, &back, err, sizeof(err)) != 0)
		abort();
	if (fd_wire_encode_transition(&back, &second, &second_len) != 0)
		abort();
	if (first_len != second_len || memcmp(first, second, first_len) != 0)
		abort();
	free(first);
	free(second);
}

static void check_sla_event(const fd_sla_event *e)
{
	uint8_t *first, *second;
	size_t first_len, second_len;
	fd_sla_event back;
	char err[128];

	if (fd_wire_encode_sla_event(e, &first, &first_len) != 0)
		abort();
	if (fd_wire_decode_sla_event(first, first_len, arena, &back, err, sizeof(err)) != 0)
		abort();
	if (fd_wire_encode_sla_event(&back, &second, &second_len) != 0)
		abort();
	if (first_len != second_len || memcmp(first, second, first_len) != 0)
		abort();
	free(first);
	free(second);
}

static void check_lead_score(const fd_lead_view *v, int64_t updated_at_ms)
{
	uint8_t *first, *second;
	size_t first_len, second_len;
	fd_lead_view back;
	int64_t updated;
	char err[128];

	if (fd_wire_encode_lead_score(v, updated_at_ms, &first, &first_len) != 0)
		abort();
	if (fd_wire_decode_lead_score(first, first_len, arena, &back, &updated,
	                              err, sizeof(err)) != 0)
		abort();
	if (fd_wire_encode_lead_score(&back, updated, &second, &second_len) != 0)
		abort();
	if (first_len != second_len || memcmp(first, second, first_len) != 0)
		abort();
	free(first);
	free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const fd_encoding encodings[] = {
		FD_ENCODING_PROTOBUF, FD_ENCODING_CONFLUENT_PROTOBUF, FD_ENCODING_JSON
	};
	char err[256];

	if (size < 1)
		return 0;
	if (!arena && !(arena = fd_wire_arena_new()))
		abort();

	unsigned pick = data[0] % 12;
	const uint8_t *buf = data + 1;
	size_t len = size - 1;
	fd_encoding enc = encodings[pick % 3];

	switch (pick / 3) {
	case 0: {
		fd_engagement ev;
		if (fd_wire_decode_engagement(enc, buf, len, arena, &ev, err, sizeof(err)) == 0)
			touch_engagement(&ev);
		break;
	}
	case 1: {
		fd_profile p;
		if (fd_wire_decode_profile(enc, buf, len, arena, &p, err, sizeof(err)) == 0)
			touch_profile(&p);
		break;
	}
	case 2: {
		fd_activity act;
		if (fd_wire_decode_activity(enc, buf, len, arena, &act, err, sizeof(err)) == 0)
			touch_activity(&act);
		break;
	}
	default:
		switch (pick % 3) {
		case 0: {
			fd_transition t;
			if (fd_wire_decode_transition(buf, len, arena, &t, err, sizeof(err)) == 0)
				check_transition(&t);
			break;
		}
		case 1: {
			fd_sla_event e;
			if (fd_wire_decode_sla_event(buf, len, arena, &e, err, sizeof(err)) == 0)
				check_sla_event(&e);
			break;
		}
		default: {
			fd_lead_view v;
			int64_t updated;
			if (fd_wire_decode_lead_score(buf, len, arena, &v, &updated,
			                              err, sizeof(err)) == 0)
				check_lead_score(&v, updated);
			break;
		}
		}
		break;
	}
	fd_wire_arena_reset(arena);
	return 0;
}
