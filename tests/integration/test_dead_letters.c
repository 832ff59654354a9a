/*
 * test_dead_letters.c — what funneld cannot use goes to the dead-letter
 * topic untouched (key, value, headers) with funneld.error.reason, .topic,
 * .partition and .offset headers, and the partition keeps flowing.
 *
 * Three bad records, each produced to an explicit partition so their
 * coordinates are known: bytes that are not protobuf on the engagement
 * topic, a well-formed EngagementEvent without lead_id, and an ACCEPT for a
 * lead still in LEAD (refused by the lifecycle). Right after the garbage,
 * on the same partition, a valid demo request must still make its lead an
 * MQL.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/inputs.pb-c.h"
#include "funneld/v1/outputs.pb-c.h"
#include "funneld/wire.h"

static void init(void)
{
	it_setup(3);
}

TestSuite(dead_letters, .init = init, .fini = it_teardown, .timeout = 120);

typedef struct sent {
	const char *key;
	const char *topic;
	int32_t partition;
	int64_t offset;
	it_bytes value;
	it_header headers[2];
	size_t n_headers;
	const char *reason_has; /* a substring the reason must contain */
} sent;

static bool is_error_header(const char *name)
{
	return strncmp(name, "funneld.error.", 14) == 0;
}

static void check_dead_letter(const it_reader *r, const char *dl_topic, const sent *s)
{
	size_t n = it_reader_count_of(r, dl_topic, s->key);
	cr_assert_eq(n, 1, "%zu dead letters keyed %s, want 1", n, s->key);
	const it_msg *m = it_reader_nth(r, dl_topic, s->key, 0);

	cr_assert_eq(m->key_len, strlen(s->key));
	cr_assert(m->len == s->value.len && memcmp(m->value, s->value.data, m->len) == 0,
	          "dead letter %s: value changed (%zu bytes, sent %zu)", s->key, m->len, s->value.len);

	/* the original headers, in order, byte for byte */
	size_t k = 0;
	for (size_t i = 0; i < m->n_headers; i++) {
		if (is_error_header(m->header_names[i]))
			continue;
		cr_assert_lt(k, s->n_headers, "dead letter %s: unexpected header '%s'", s->key,
		             m->header_names[i]);
		const it_header *h = &s->headers[k++];
		cr_assert_str_eq(m->header_names[i], h->name, "dead letter %s: header %zu is '%s', sent '%s'",
		                 s->key, k - 1, m->header_names[i], h->name);
		cr_assert(m->header_sizes[i] == h->size && m->header_values[i] &&
		              memcmp(m->header_values[i], h->value, h->size) == 0,
		          "dead letter %s: header '%s' changed", s->key, h->name);
	}
	cr_assert_eq(k, s->n_headers, "dead letter %s: %zu of %zu original headers kept", s->key, k,
	             s->n_headers);

	int count;
	const char *reason = it_header_str(m, "funneld.error.reason", &count);
	cr_assert_eq(count, 1, "dead letter %s: %d funneld.error.reason headers", s->key, count);
	cr_assert(reason && *reason, "dead letter %s: empty reason", s->key);
	cr_assert(strstr(reason, s->reason_has) != NULL,
	          "dead letter %s: reason '%s' does not mention '%s'", s->key, reason, s->reason_has);

	const char *topic = it_header_str(m, "funneld.error.topic", &count);
	cr_assert_eq(count, 1, "dead letter %s: %d funneld.error.topic headers", s->key, count);
	cr_assert_str_eq(topic, s->topic, "dead letter %s: error topic '%s', want '%s'", s->key, topic,
	                 s->topic);

	char want[32];
	const char *partition = it_header_str(m, "funneld.error.partition", &count);
	cr_assert_eq(count, 1, "dead letter %s: %d funneld.error.partition headers", s->key, count);
	snprintf(want, sizeof want, "%d", (int)s->partition);
	cr_assert_str_eq(partition, want, "dead letter %s: error partition '%s', want %s", s->key,
	                 partition, want);

	const char *offset = it_header_str(m, "funneld.error.offset", &count);
	cr_assert_eq(count, 1, "dead letter %s: %d funneld.error.offset headers", s->key, count);
	snprintf(want, sizeof want, "%" PRId64, s->offset);
	cr_assert_str_eq(offset, want, "dead letter %s: error offset '%s', want %s", s->key, offset,
	                 want);
}

Test(dead_letters, bad_records_are_dead_lettered_untouched_and_the_partition_keeps_flowing)
{
	fd_config cfg;
	it_load_config(&cfg);
	const fd_topics *tp = &cfg.settings.topics;
	const int64_t now = it_now_ms();
	static const uint8_t binary[] = { 0x00, 0x01, 0xff, 0x7f };

	/* 1. not protobuf: field 1 announces 127 bytes, then the record ends */
	static const uint8_t garbage[] = "\x0a\x7fnot a protobuf \xff\xfe\x00 at all";
	sent bad = { .key = "dl-garbage", .topic = tp->engagement, .partition = 1,
	             .reason_has = "protobuf", .n_headers = 2 };
	bad.value.len = sizeof garbage - 1;
	bad.value.data = malloc(bad.value.len);
	memcpy(bad.value.data, garbage, bad.value.len);
	bad.headers[0] = (it_header){ "x-trace", "trace-garbage", 13 };
	bad.headers[1] = (it_header){ "x-binary", binary, sizeof binary };
	{
		fd_wire_arena *a = fd_wire_arena_new();
		fd_engagement ev;
		char err[256];
		cr_assert_neq(fd_wire_decode_engagement(FD_ENCODING_PROTOBUF, bad.value.data, bad.value.len,
		                                        a, &ev, err, sizeof err),
		              0, "precondition: the garbage must not decode");
		fd_wire_arena_free(a);
	}

	/* 2. a well-formed event without lead_id */
	fd_engagement no_lead = { .event_id = "ev-nolead", .lead_id = "", .occurred_at_ms = now - 60000,
	                          .type = "demo_request", .channel = "web" };
	sent nolead = { .key = "dl-nolead", .topic = tp->engagement, .partition = 2,
	                .reason_has = "lead_id", .n_headers = 1 };
	nolead.value = it_pb_engagement(&no_lead);
	nolead.headers[0] = (it_header){ "x-trace", "trace-nolead", 12 };

	/* 3. ACCEPT for a lead in LEAD */
	fd_activity accept = { .activity_id = "act-dl-1", .lead_id = "dl-refused",
	                       .occurred_at_ms = now - 60000, .rep_id = "rep-1", .kind = FD_ACT_ACCEPT };
	sent refused = { .key = "dl-refused", .topic = tp->activities, .partition = 0,
	                 .reason_has = "not allowed", .n_headers = 1 };
	refused.value = it_pb_activity(&accept);
	refused.headers[0] = (it_header){ "x-trace", "trace-refused", 13 };

	/* the valid record right behind the garbage */
	fd_engagement after = { .event_id = "ev-after", .lead_id = "dl-after",
	                        .occurred_at_ms = now - 30000, .type = "demo_request",
	                        .channel = "web", .content_id = "demo-form" };
	it_bytes after_bytes = it_pb_engagement(&after);

	sent *all[] = { &bad, &nolead, &refused };
	for (size_t i = 0; i < 3; i++) {
		sent *s = all[i];
		int32_t p;
		s->offset = it_produce(s->topic, s->partition, s->key, s->value.data, s->value.len,
		                       s->headers, s->n_headers, &p);
		cr_assert_eq(p, s->partition);
	}
	int32_t after_partition;
	int64_t after_offset = it_produce(tp->engagement, 1, "dl-after", after_bytes.data,
	                                  after_bytes.len, NULL, 0, &after_partition);
	cr_assert_eq(after_partition, 1);
	cr_assert_eq(after_offset, bad.offset + 1, "the valid record must follow the garbage directly");

	it_proc *daemon = it_daemon_start(NULL);
	it_reader *r = it_reader_outputs();

	IT_WAIT_UNTIL(r, IT_WAIT_MS,
	              it_reader_count_of(r, tp->dead_letters, NULL) >= 3 &&
	                  it_reader_count_of(r, tp->transitions, "dl-after") >= 1,
	              "within %d ms: %zu of 3 dead letters, %zu of 1 transition for dl-after", IT_WAIT_MS,
	              it_reader_count_of(r, tp->dead_letters, NULL),
	              it_reader_count_of(r, tp->transitions, "dl-after"));
	it_reader_poll(r, 1000); /* nothing more may come */
	it_assert_running(daemon, "after dead-lettering");

	cr_assert_eq(it_reader_count_of(r, tp->dead_letters, NULL), 3, "%zu dead letters, want 3",
	             it_reader_count_of(r, tp->dead_letters, NULL));
	for (size_t i = 0; i < 3; i++)
		check_dead_letter(r, tp->dead_letters, all[i]);

	/* the partition kept flowing: dl-after is an MQL */
	cr_assert_eq(it_reader_count_of(r, tp->transitions, "dl-after"), 1);
	const it_msg *m = it_reader_nth(r, tp->transitions, "dl-after", 0);
	Funneld__V1__StageTransition *t = funneld__v1__stage_transition__unpack(NULL, m->len, m->value);
	cr_assert_not_null(t);
	cr_assert_eq(t->from_stage, FUNNELD__V1__STAGE__STAGE_LEAD);
	cr_assert_eq(t->to_stage, FUNNELD__V1__STAGE__STAGE_MQL);
	cr_assert_str_eq(t->trigger, "hand_raise");
	cr_assert_str_eq(t->reason, "demo_request");
	cr_assert_eq(t->occurred_at_ms, after.occurred_at_ms);
	funneld__v1__stage_transition__free_unpacked(t, NULL);
	/* nothing else came of the bad records */
	cr_assert_eq(it_reader_count_of(r, tp->transitions, NULL), 1);

	/* and every input offset, bad ones included, gets committed */
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);

	it_reader_close(r);
	for (size_t i = 0; i < 3; i++)
		free(all[i]->value.data);
	free(after_bytes.data);
	fd_config_free(&cfg);
}
