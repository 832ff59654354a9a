/*
 * test_poison.c — a record that no broker takes never stops funneld.
 *
 * Between valid demo requests on the engagement topic: 2 MiB of garbage
 * (its dead letter is larger than the producer's message.max.bytes, 1 MB)
 * and a valid 2 MiB EngagementEvent with 100,000 properties (applied like
 * any other). The daemon is restarted in between. Every valid lead becomes
 * an MQL exactly once; the garbage becomes a dead letter with the first
 * processing.dead_letter_max_payload bytes (65536, the default) of its value and
 * headers saying so (funneld.error.payload "truncated", .size, .cut, plus the
 * usual reason, topic, partition and offset); the valid giant is not a dead
 * letter; offsets are committed to the end; the daemon exits 0 on SIGTERM.
 *
 * On Apache Kafka the dead-letter topic also refuses records above 20,000
 * bytes (max.message.bytes), which only the broker knows: a 100,000-byte
 * garbage record is accepted by the producer and refused in its delivery
 * report (at-least-once) or when its transaction commits (exactly_once,
 * the transaction aborts and its replay cuts the record); its 65536-byte
 * cut is refused too, and both garbage records end as dead letters
 * without value (funneld.error.payload "omitted").
 *
 * At-least-once on both brokers, exactly_once on Apache Kafka. The inputs accept 4 MiB records on Apache
 * Kafka (max.message.bytes): the test's own topics; the mock takes any size.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/inputs.pb-c.h"

#define PARTITIONS 3
#define BIG (2u << 20)
#define MID 100000
#define KEEP 65536
#define N_PROPERTIES 100000

static void init(void)
{
	/* on Apache Kafka: inputs take 4 MiB records, dead letters 20,000 bytes */
	it_setup_sized(PARTITIONS, "4194304", "20000");
	if (!it_real_broker())
		/* librdkafka 2.0.2's mock keeps a group its last member left
		 * "joining" for session.timeout.ms - 1 s before it answers the next
		 * JoinGroup (Apache Kafka answers at once): the restart would wait
		 * 44 s with the shipped session timeout */
		it_override("kafka.session.timeout.ms=6000");
}

TestSuite(poison, .init = init, .fini = it_teardown, .timeout = 300);

static void hand_raise(const char *lead)
{
	char id[64];
	snprintf(id, sizeof id, "ev-%s", lead);
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = it_now_ms() - 60000,
		                 .type = "demo_request", .channel = "web" };
	it_send_engagement(&ev);
}

typedef struct garbage {
	const char *key;
	uint8_t *value;
	size_t len;
	int32_t partition;
	int64_t offset;
} garbage;

/* `len` bytes that are not protobuf (field 15, wire type 7: no such type) */
static garbage send_garbage(const char *topic, const char *key, size_t len)
{
	garbage g = { key, malloc(len), len, 0, 0 };
	cr_assert_not_null(g.value);
	for (size_t i = 0; i < len; i++)
		g.value[i] = (uint8_t)(0x7f ^ (i * 131));
	g.value[0] = 0x7f;
	g.offset = it_produce(topic, IT_PARTITION_BY_KEY, key, g.value, len, NULL, 0, &g.partition);
	return g;
}

/* A valid demo request of more than 2 MiB: 100,000 properties */
static void send_giant(const char *topic, const char *lead)
{
	char id[64];
	snprintf(id, sizeof id, "ev-%s", lead);
	it_bytes b = it_pb_giant(lead, id, it_now_ms() - 60000, N_PROPERTIES);
	cr_assert_gt(b.len, (size_t)BIG, "the giant is only %zu bytes", b.len);
	it_produce(topic, IT_PARTITION_BY_KEY, lead, b.data, b.len, NULL, 0, NULL);
	free(b.data);
}

static const char *header(const it_msg *m, const char *name)
{
	int count;
	const char *v = it_header_str(m, name, &count);
	cr_assert_eq(count, 1, "dead letter %s: %d '%s' headers, want 1", m->key, count, name);
	return v;
}

static void check_cut(const it_reader *r, const char *dl, const garbage *g, const char *topic,
                      const char *payload, size_t kept)
{
	cr_assert_eq(it_reader_count_of(r, dl, g->key), 1, "%zu dead letters keyed %s, want 1",
	             it_reader_count_of(r, dl, g->key), g->key);
	const it_msg *m = it_reader_nth(r, dl, g->key, 0);
	char num[32];
	cr_assert(strstr(header(m, "funneld.error.reason"), "protobuf") != NULL,
	          "reason '%s' does not say why the record was refused",
	          header(m, "funneld.error.reason"));
	cr_assert_str_eq(header(m, "funneld.error.topic"), topic);
	snprintf(num, sizeof num, "%" PRId32, g->partition);
	cr_assert_str_eq(header(m, "funneld.error.partition"), num);
	snprintf(num, sizeof num, "%" PRId64, g->offset);
	cr_assert_str_eq(header(m, "funneld.error.offset"), num);
	cr_assert_str_eq(header(m, "funneld.error.payload"), payload);
	snprintf(num, sizeof num, "%zu", g->len);
	cr_assert_str_eq(header(m, "funneld.error.size"), num);
	cr_assert(strstr(header(m, "funneld.error.cut"), "too large") != NULL,
	          "funneld.error.cut '%s' does not say the record was too large",
	          header(m, "funneld.error.cut"));
	cr_assert_eq(m->len, kept, "dead letter %s keeps %zu bytes, want %zu", g->key, m->len, kept);
	cr_assert(kept == 0 || memcmp(m->value, g->value, kept) == 0,
	          "dead letter %s: the kept bytes are not the record's first %zu", g->key, kept);
}

static void poison_run(bool eos)
{
	if (eos)
		it_override("processing.guarantee=exactly_once");
	fd_config cfg;
	it_load_config(&cfg);
	const fd_topics *t = &cfg.settings.topics;
	it_reader *r = it_reader_outputs();

	it_proc *d = it_daemon_start(NULL);
	hand_raise("poison-a");
	garbage big = send_garbage(t->engagement, "poison-garbage", BIG);
	hand_raise("poison-b");
	send_giant(t->engagement, "poison-giant");
	hand_raise("poison-c");
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, t->transitions, NULL) >= 4,
	              "%zu of 4 transitions before the restart",
	              it_reader_count_of(r, t->transitions, NULL));
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);
	it_stop_daemon(d);

	/* restarted: nothing of the above comes back, the partitions flow */
	d = it_daemon_start(NULL);
	garbage mid = { 0 };
	if (it_real_broker())
		mid = send_garbage(t->engagement, "poison-mid", MID);
	hand_raise("poison-d");
	IT_WAIT_UNTIL(r, IT_WAIT_MS, it_reader_count_of(r, t->transitions, NULL) >= 5,
	              "%zu of 5 transitions after the restart",
	              it_reader_count_of(r, t->transitions, NULL));
	it_wait_committed_at_end(it_group(), IT_WAIT_MS);
	it_assert_running(d, "after the poison pills");
	it_stop_daemon(d);
	it_reader_poll_to_end(r, IT_WAIT_MS);

	static const char *const leads[] = { "poison-a", "poison-b", "poison-giant", "poison-c",
		                                 "poison-d" };
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(it_reader_count_of(r, t->transitions, leads[i]), 1,
		             "%s: %zu transitions, want 1 (MQL)", leads[i],
		             it_reader_count_of(r, t->transitions, leads[i]));
	cr_assert_eq(it_reader_count_of(r, t->dead_letters, "poison-giant"), 0,
	             "the valid giant was dead-lettered");
	if (it_real_broker()) {
		/* refused by the producer, cut to 65536 bytes, still above the
		 * topic's 20,000: without value */
		check_cut(r, t->dead_letters, &big, t->engagement, "omitted", 0);
		/* taken by the producer, refused by the broker, then the same */
		check_cut(r, t->dead_letters, &mid, t->engagement, "omitted", 0);
	} else {
		check_cut(r, t->dead_letters, &big, t->engagement, "truncated", KEEP);
	}
	cr_assert_eq(it_reader_count_of(r, t->dead_letters, NULL), it_real_broker() ? 2u : 1u,
	             "%zu dead letters", it_reader_count_of(r, t->dead_letters, NULL));
	free(big.value);
	free(mid.value);
	it_reader_close(r);
	fd_config_free(&cfg);
}

Test(poison, two_mib_records_at_least_once)
{
	poison_run(false);
}

Test(poison, two_mib_records_exactly_once)
{
	/* the mock does not keep transactional offsets (DESIGN section 9) */
	if (!it_real_broker())
		cr_skip_test("needs a real broker (FUNNELD_IT_BROKER=kafka)");
	poison_run(true);
}
