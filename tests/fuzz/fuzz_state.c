/*
 * fuzz_state.c — libFuzzer target for the changelog codec (src/wire/state.c).
 *
 * The input is a LeadState record as read back from the changelog, in
 * either encoding (compact or v1). When it decodes, every string is read to
 * its end (so AddressSanitizer sees any dangling or unterminated pointer),
 * every count must lie within its array, and the state must re-encode,
 * decode again and re-encode to the same bytes (the encoder accepts
 * everything the decoder produces and is lossless on what it writes). The
 * state's v1 encoding must decode to a state with the same compact bytes
 * (the two encodings carry the same thing). The target is pure: no files,
 * no clock.
 *
 * Build: cmake -DFUNNELD_FUZZ=ON -DFUNNELD_SANITIZE=ON -DCMAKE_C_COMPILER=clang
 *        -DFUNNELD_TESTS=OFF -DFUNNELD_BENCH=OFF; then e.g.
 *        mkdir run && ./fuzz_state -max_total_time=60 run tests/fuzz/corpus/state
 * (the seeds there are plain LeadState records, no selector byte: mql,
 * nurture, disqualified and minimal in v1, written by funneld 0.1.0;
 * compact-<stage> from bench_state (BENCH_STATE_DUMP=DIR); compact-mql-v1
 * and compact-full the v1 mql seed and the unit tests' full_state() in the
 * compact encoding).
 * Not a unit test: tests/unit/test_wire_state.c pins the behaviour.
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

static void touch_count(int n, int max)
{
	if (n < 0 || n > max)
		abort();
}

static void touch_state(const fd_lead_state *st)
{
	touch(st->lead_id);
	if (!*st->lead_id || (unsigned)st->stage >= FD_STAGE_COUNT ||
	    (unsigned)st->grade >= FD_GRADE_COUNT)
		abort();
	touch(st->owner_id);
	touch(st->lead_source);
	touch(st->disqualified_by);
	touch_count(st->n_freq, FD_FREQ_BUCKETS);
	touch_count(st->n_seen, FD_SEEN_MAX);
	touch_count(st->n_caps, FD_MAX_EVENT_TYPES);
	touch_count(st->n_slas, FD_MAX_SLAS);
	touch_count(st->n_recent, FD_MAX_CONTEXT);
	touch_count(st->n_interests, FD_MAX_CONTEXT);
	touch_count(st->n_breakdown, FD_MAX_EVENT_TYPES);
	for (int i = 0; i < st->n_caps; i++)
		touch(st->caps[i].type);
	for (int i = 0; i < st->n_slas; i++)
		touch(st->slas[i].name);
	for (int i = 0; i < st->n_recent; i++) {
		touch(st->recent[i].type);
		touch(st->recent[i].content_id);
		touch(st->recent[i].channel);
	}
	for (int i = 0; i < st->n_interests; i++)
		touch(st->interests[i].content_id);
	for (int i = 0; i < st->n_breakdown; i++)
		touch(st->breakdown[i].type);
}

/* Encode, decode and encode again: the two encodings must be identical.
 * The same through v1: v1, decode, encode gives those bytes too. */
static void check_state(const fd_lead_state *st)
{
	uint8_t *first, *second, *old, *third;
	size_t first_len, second_len, old_len, third_len;
	fd_lead_state back;
	char err[128];

	if (fd_wire_encode_lead_state(st, &first, &first_len) != 0 ||
	    fd_wire_encode_lead_state_v1(st, &old, &old_len) != 0)
		abort();
	if (fd_wire_decode_lead_state(first, first_len, arena, &back, err, sizeof(err)) != 0)
		abort();
	touch_state(&back);
	if (fd_wire_encode_lead_state(&back, &second, &second_len) != 0)
		abort();
	if (first_len != second_len || memcmp(first, second, first_len) != 0)
		abort();
	if (fd_wire_decode_lead_state(old, old_len, arena, &back, err, sizeof(err)) != 0)
		abort();
	touch_state(&back);
	if (fd_wire_encode_lead_state(&back, &third, &third_len) != 0)
		abort();
	if (first_len != third_len || memcmp(first, third, first_len) != 0)
		abort();
	free(first);
	free(second);
	free(old);
	free(third);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fd_lead_state st;
	char err[256];

	if (!arena && !(arena = fd_wire_arena_new()))
		abort();
	if (fd_wire_decode_lead_state(data, size, arena, &st, err, sizeof(err)) == 0) {
		touch_state(&st);
		check_state(&st);
	}
	fd_wire_arena_reset(arena);
	return 0;
}
