/*
 * test_bad_input.c — the bad-input matrix, through the real daemon with the
 * shipped config: every row is a record a careless or hostile producer could
 * write, with its documented outcome (a dead letter whose reason names the
 * problem, or applied), and a valid demo request right behind it on the same
 * partition must still make its lead an MQL (the partition keeps flowing).
 *
 * The shipped config reads protobuf on every input topic: the JSON and
 * Schema Registry rows of the matrix (wrong types, missing fields, deep
 * nesting, 1e400, wrong magic, unknown schema id) are the decoders' and are
 * pinned in tests/unit/test_wire.c and the fuzz targets; here each topic's
 * bytes are protobuf, broken in every way protobuf can be.
 *
 * Rows that are applied are checked by what they lead to: an MQL transition,
 * the engagement in a lead's state record (duplicate ids beyond the window
 * count again, within it once), a customer who stays a customer when its profile matches
 * a disqualifier.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/inputs.pb-c.h"
#include "funneld/v1/outputs.pb-c.h"
#include "funneld/wire.h"

#define PARTITIONS 3
#define MINUTE 60000

static void init(void)
{
	/* on Apache Kafka the inputs take the 100,000-property record (~2.6 MB) */
	it_setup_sized(PARTITIONS, "4194304", NULL);
}

TestSuite(bad_input, .init = init, .fini = it_teardown, .timeout = 300);

static int32_t partition_of(const char *key, size_t len)
{
	return rd_kafka_msg_partitioner_murmur2(NULL, key, len, PARTITIONS, NULL, NULL);
}

typedef struct row {
	const char *name;
	const char *topic;
	char *key;           /* malloc'ed; "" for an empty key */
	it_bytes value;
	const char *dead_letter; /* a substring of the reason, or NULL: applied */
	const char *mql;     /* applied: this lead must become an MQL (or NULL) */
	int32_t partition;
	int64_t offset;
	char sentinel[48];   /* a demo request right behind it, same partition */
} row;

static char *dup_str(const char *s)
{
	char *c = strdup(s);
	cr_assert_not_null(c);
	return c;
}

static it_bytes pb_event(const char *event_id, const char *lead, int64_t at, const char *type)
{
	fd_engagement ev = { .event_id = event_id, .lead_id = lead, .occurred_at_ms = at,
		                 .type = type, .channel = "web" };
	return it_pb_engagement(&ev);
}

/* EngagementEvent bytes by hand: a lead id protobuf-c's packer cannot write */
static it_bytes raw_lead(const char *lead, size_t len, int64_t at)
{
	it_bytes b = { malloc(64 + len), 0 };
	uint8_t *p = b.data;
	size_t n = 0;
	p[n++] = (1 << 3) | 2;
	p[n++] = 1;
	p[n++] = 'x';
	p[n++] = (2 << 3) | 2;
	p[n++] = (uint8_t)len;
	memcpy(p + n, lead, len);
	n += len;
	p[n++] = (4 << 3) | 0;
	for (uint64_t v = (uint64_t)at; ; v >>= 7) {
		p[n++] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		if (v <= 0x7f)
			break;
	}
	p[n++] = (5 << 3) | 2;
	p[n++] = 12;
	memcpy(p + n, "demo_request", 12);
	n += 12;
	b.len = n;
	return b;
}

/* A lead name on partition p, not used before. */
static void name_on(char *out, size_t size, const char *prefix, int32_t p)
{
	for (int i = 0;; i++) {
		snprintf(out, size, "%s-%d", prefix, i);
		if (partition_of(out, strlen(out)) == p)
			return;
	}
}

/* The row's record, then a demo request of a new lead on the engagement
 * topic's partition of the same number (the same task: every input of a
 * partition number goes through the same instance and loop). A row on
 * another topic is known to be passed by the committed offsets. */
static void send_row(row *r, int i, const char *engagement, int64_t now)
{
	size_t klen = strlen(r->key);
	r->partition = klen ? partition_of(r->key, klen) : 0;
	r->offset = it_produce(r->topic, r->partition, r->key, r->value.data, r->value.len, NULL, 0,
	                       NULL);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "ok-%02d", i);
	name_on(r->sentinel, sizeof r->sentinel, prefix, r->partition);
	it_bytes b = pb_event(r->sentinel, r->sentinel, now - MINUTE, "demo_request");
	it_produce(engagement, r->partition, r->sentinel, b.data, b.len, NULL, 0, NULL);
	free(b.data);
}

static const it_msg *dead_letter_at(const it_reader *rd, const char *dl, const char *topic,
                                    int32_t p, int64_t off)
{
	char ps[16], os[32];
	snprintf(ps, sizeof ps, "%" PRId32, p);
	snprintf(os, sizeof os, "%" PRId64, off);
	const it_msg *found = NULL;
	for (size_t i = 0; i < it_reader_count(rd); i++) {
		const it_msg *m = it_reader_at(rd, i);
		if (strcmp(m->topic, dl) != 0)
			continue;
		const char *mt = it_header_str(m, "funneld.error.topic", NULL);
		const char *mp = it_header_str(m, "funneld.error.partition", NULL);
		const char *mo = it_header_str(m, "funneld.error.offset", NULL);
		if (mt && mp && mo && strcmp(mt, topic) == 0 && strcmp(mp, ps) == 0 &&
		    strcmp(mo, os) == 0) {
			cr_assert_null(found, "two dead letters for %s [%s] @%s", topic, ps, os);
			found = m;
		}
	}
	return found;
}

/* The engagement of `lead` in its last changelog record (its state: the
 * score stream may hold a change back for publish_min_interval). */
static double last_engagement(const char *changelog, const char *lead)
{
	const char *topics[] = { changelog, NULL };
	it_reader *rd = it_reader_open(topics);
	it_reader_poll_to_end(rd, IT_WAIT_MS);
	size_t n = it_reader_count_of(rd, changelog, lead);
	cr_assert_gt(n, 0, "no state record for %s", lead);
	const it_msg *m = it_reader_nth(rd, changelog, lead, n - 1);
	fd_wire_arena *a = fd_wire_arena_new();
	fd_lead_state *st = malloc(sizeof *st);
	char why[256];
	cr_assert(a && st);
	cr_assert_eq(fd_wire_decode_lead_state(m->value, m->len, a, st, why, sizeof why), 0, "%s",
	             why);
	double v = st->engagement;
	free(st);
	fd_wire_arena_free(a);
	it_reader_close(rd);
	return v;
}

Test(bad_input, every_row_has_its_documented_outcome_and_the_partition_keeps_flowing)
{
	fd_config cfg;
	it_load_config(&cfg);
	const fd_topics *t = &cfg.settings.topics;
	const int64_t now = it_now_ms();
	static char huge_id[65536];
	memset(huge_id, 'x', sizeof huge_id - 1);

	row rows[] = {
		{ "empty key", t->engagement, dup_str(""), pb_event("e", "bi-empty-key", now - MINUTE, "demo_request"), NULL, "bi-empty-key" },
		{ "key is not the lead id", t->engagement, dup_str("someone-else"), pb_event("e", "bi-other-key", now - MINUTE, "demo_request"), NULL, "bi-other-key" },
		{ "64 KiB lead id", t->engagement, dup_str("bi-huge"), pb_event("e", huge_id, now - MINUTE, "demo_request"), "longer than 255 bytes", NULL },
		{ "empty value", t->engagement, dup_str("bi-empty"), { NULL, 0 }, "missing lead_id", NULL },
		{ "truncated protobuf", t->engagement, dup_str("bi-trunc"), { NULL, 0 }, "malformed EngagementEvent", NULL },
		{ "invalid UTF-8 lead id", t->engagement, dup_str("bi-utf8"), raw_lead("bi-\xff\xfe", 5, now - MINUTE), "invalid UTF-8", NULL },
		{ "NUL in the lead id", t->engagement, dup_str("bi-nul"), raw_lead("u\0evil", 6, now - MINUTE), "a NUL byte", NULL },
		{ "time 0", t->engagement, dup_str("bi-t0"), pb_event("e", "bi-t0", 0, "demo_request"), "missing occurred_at_ms", NULL },
		{ "negative time", t->engagement, dup_str("bi-tneg"), pb_event("e", "bi-tneg", -5, "demo_request"), "invalid occurred_at_ms", NULL },
		{ "a day in the future", t->engagement, dup_str("bi-future"), pb_event("e", "bi-future", now + 24 * 60 * MINUTE, "demo_request"), "in the future", NULL },
		{ "after the year 9999", t->engagement, dup_str("bi-9999"), pb_event("e", "bi-9999", INT64_MAX, "demo_request"), "after the year 9999", NULL },
		{ "far past (1971)", t->engagement, dup_str("bi-1971"), pb_event("e", "bi-1971", 31536000000, "demo_request"), NULL, NULL },
		{ "unknown event type", t->engagement, dup_str("bi-type"), pb_event("e", "bi-type", now - MINUTE, "telepathy"), "unknown event type", NULL },
		{ "100,000 properties", t->engagement, dup_str("bi-props"), it_pb_giant("bi-props", "giant", now - MINUTE, 100000), NULL, "bi-props" },
		{ "ACCEPT for a lead in LEAD", t->activities, dup_str("bi-accept"), { NULL, 0 }, "refused", NULL },
		{ "truncated activity", t->activities, dup_str("bi-act-trunc"), { NULL, 0 }, "protobuf: ", NULL },
		{ "profile without lead id", t->profiles, dup_str("bi-prof"), { NULL, 0 }, "missing lead_id", NULL },
	};
	const size_t n = sizeof rows / sizeof rows[0];
	/* the rows whose bytes need more than a helper call */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].name, "truncated protobuf") == 0) {
			rows[i].value = pb_event("e", "bi-trunc", now - MINUTE, "demo_request");
			rows[i].value.len -= 3;
		} else if (strcmp(rows[i].name, "ACCEPT for a lead in LEAD") == 0) {
			fd_activity a = { .activity_id = "a", .lead_id = "bi-accept",
				              .occurred_at_ms = now - MINUTE, .rep_id = "rep", .kind = FD_ACT_ACCEPT };
			rows[i].value = it_pb_activity(&a);
		} else if (strcmp(rows[i].name, "truncated activity") == 0) {
			fd_activity a = { .activity_id = "a", .lead_id = "bi-act-trunc",
				              .occurred_at_ms = now - MINUTE, .rep_id = "rep", .kind = FD_ACT_TOUCH };
			rows[i].value = it_pb_activity(&a);
			rows[i].value.len -= 2;
		} else if (strcmp(rows[i].name, "profile without lead id") == 0) {
			fd_profile p = { .lead_id = "", .updated_at_ms = now - MINUTE, .country = "US" };
			rows[i].value = it_pb_profile(&p);
		}
	}

	it_reader *rd = it_reader_outputs();
	it_proc *d = it_daemon_start(NULL);
	for (size_t i = 0; i < n; i++)
		send_row(&rows[i], (int)i, t->engagement, now);

	/* duplicates: e1..e9 (page views, one point each) then e1 again, nine
	 * ids back, beyond the window of 8: counted; then e9 again, within it:
	 * not. 10 points, all at the same time (no decay). */
	char id[16];
	for (int i = 1; i <= 9; i++) {
		snprintf(id, sizeof id, "e%d", i);
		it_bytes b = pb_event(id, "bi-dups", now - MINUTE, "page_view");
		it_produce(t->engagement, IT_PARTITION_BY_KEY, "bi-dups", b.data, b.len, NULL, 0, NULL);
		free(b.data);
	}
	static const char *const again[] = { "e1", "e9" };
	for (int i = 0; i < 2; i++) {
		it_bytes b = pb_event(again[i], "bi-dups", now - MINUTE, "page_view");
		it_produce(t->engagement, IT_PARTITION_BY_KEY, "bi-dups", b.data, b.len, NULL, 0, NULL);
		free(b.data);
	}

	/* a customer whose profile turns to a disqualifier stays a customer */
	fd_engagement hr = { .event_id = "hr", .lead_id = "bi-customer", .occurred_at_ms = now - 10 * MINUTE,
		                 .type = "demo_request", .channel = "web" };
	it_send_engagement(&hr);
	/* the activities only once it is an MQL: funneld does not order its
	 * inputs by event time across topics yet (an ACCEPT read before the
	 * demo request would be refused) */
	IT_WAIT_UNTIL(rd, IT_WAIT_MS, it_reader_count_of(rd, t->transitions, "bi-customer") == 1,
	              "bi-customer never became an MQL");
	static const fd_activity_kind path[] = { FD_ACT_ACCEPT, FD_ACT_QUALIFY, FD_ACT_OPPORTUNITY,
		                                     FD_ACT_WON };
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof id, "c%d", i);
		fd_activity a = { .activity_id = id, .lead_id = "bi-customer",
			              .occurred_at_ms = now - (9 - i) * MINUTE, .rep_id = "rep-1", .kind = path[i] };
		it_send_activity(&a);
	}
	IT_WAIT_UNTIL(rd, IT_WAIT_MS, it_reader_count_of(rd, t->transitions, "bi-customer") == 5,
	              "bi-customer is not a customer: %zu transitions",
	              it_reader_count_of(rd, t->transitions, "bi-customer"));
	fd_profile flip = { .lead_id = "bi-customer", .updated_at_ms = now - MINUTE,
		                .email = "someone@gmail.com", .country = "US" };
	it_send_profile(&flip);

	it_wait_committed_at_end(it_group(), IT_WAIT_MS);
	it_assert_running(d, "after the bad-input matrix");
	it_stop_daemon(d);
	it_reader_poll_to_end(rd, IT_WAIT_MS);

	const char *T = t->transitions, *DL = t->dead_letters;
	size_t dead = 0;
	for (size_t i = 0; i < n; i++) {
		row *r = &rows[i];
		cr_expect_eq(it_reader_count_of(rd, T, r->sentinel), 1, "%s: the demo request behind it "
		             "(%s) made %zu transitions, want 1", r->name, r->sentinel,
		             it_reader_count_of(rd, T, r->sentinel));
		const it_msg *m = dead_letter_at(rd, DL, r->topic, r->partition, r->offset);
		if (r->dead_letter) {
			dead++;
			cr_expect_not_null(m, "%s: no dead letter", r->name);
			const char *reason = m ? it_header_str(m, "funneld.error.reason", NULL) : NULL;
			cr_expect(reason && strstr(reason, r->dead_letter) != NULL,
			          "%s: reason '%s' does not say '%s'", r->name, reason ? reason : "(none)",
			          r->dead_letter);
			const char *topic = m ? it_header_str(m, "funneld.error.topic", NULL) : NULL;
			cr_expect(topic && strcmp(topic, r->topic) == 0, "%s: error topic %s", r->name,
			          topic ? topic : "(none)");
		} else {
			cr_expect_null(m, "%s: dead-lettered: %s", r->name,
			               m ? it_header_str(m, "funneld.error.reason", NULL) : "");
			if (r->mql)
				cr_expect_eq(it_reader_count_of(rd, T, r->mql), 1, "%s: %s made %zu transitions, "
				             "want its MQL", r->name, r->mql, it_reader_count_of(rd, T, r->mql));
		}
	}
	cr_expect_eq(it_reader_count_of(rd, DL, NULL), dead, "%zu dead letters, want %zu",
	             it_reader_count_of(rd, DL, NULL), dead);
	/* a demo request from 1971 is applied: an MQL then, and since nobody
	 * touched it in 55 years, the shipped SLAs recycle it to NURTURE and
	 * its reviews back to MQL, every deadline that passed firing in order
	 * (how many depends on today's date) */
	cr_expect_geq(it_reader_count_of(rd, T, "bi-1971"), 1, "the 1971 demo request made no MQL");
	cr_expect_eq(last_engagement(t->changelog, "bi-dups"), 10.0,
	             "e1 nine ids back counts again, e9 within the window does not");
	/* MQL, SAL, SQL, OPPORTUNITY, CUSTOMER: and no DISQUALIFIED after */
	cr_expect_eq(it_reader_count_of(rd, T, "bi-customer"), 5, "the customer made %zu transitions",
	             it_reader_count_of(rd, T, "bi-customer"));
	for (size_t i = 0; i < n; i++) {
		free(rows[i].key);
		free(rows[i].value.data);
	}
	it_reader_close(rd);
	fd_config_free(&cfg);
}
