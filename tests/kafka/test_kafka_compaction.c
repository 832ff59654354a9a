/*
 * test_kafka_compaction.c — real broker only: the changelog is a compacted
 * topic, and what survives compaction is enough. With the log cleaner made
 * eager (segments rolled every 100 ms, any dirty ratio cleanable,
 * tombstones kept 100 ms), the changelog shrinks to one record per lead,
 * that record is the last state the daemon wrote (beside it, the
 * partition's last checkpoint), and a restarted daemon restores every lead
 * from it; after TTL eviction wrote tombstones (once a lead's input, the
 * "clock", moved the partition's stream time a TTL past them) and the
 * cleaner removed them, a restart restores only the clock lead (the mock
 * never compacts, DESIGN section 9).
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define LEADS 40
#define UPDATES 6 /* engagement events per lead, each round committed before the next */

static const char *changelog_topic(void)
{
	static char name[256];
	fd_config cfg;
	it_load_config(&cfg);
	snprintf(name, sizeof name, "%s", cfg.settings.topics.changelog);
	fd_config_free(&cfg);
	return name;
}

static void init(void)
{
	it_setup(1);
	/* the daemon finds its changelog already there (it only checks the
	 * partition count), created with an eager cleaner */
	const char *const eager[] = { "cleanup.policy", "compact", "segment.ms", "100",
		                          "min.cleanable.dirty.ratio", "0.01", "delete.retention.ms", "100",
		                          "min.compaction.lag.ms", "0", NULL };
	it_create_topic(changelog_topic(), 1, eager);
}

TestSuite(kafka_compaction, .init = init, .fini = it_teardown, .timeout = 300);

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void lead_name(char *out, size_t size, int i)
{
	snprintf(out, size, "cmp-%03d", i);
}

/* page views only: no MQL, no SLA, so every lead is evictable by TTL */
static void produce_round(const char *topic, int round, int64_t at)
{
	for (int i = 0; i < LEADS; i++) {
		char lead[32], id[64];
		lead_name(lead, sizeof lead, i);
		snprintf(id, sizeof id, "ev-%s-%d", lead, round);
		fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at + round,
			                 .type = "page_view", .channel = "web", .content_id = "pricing" };
		it_bytes b = it_pb_engagement(&ev);
		it_produce_async(topic, IT_PARTITION_BY_KEY, lead, b.data, b.len);
		free(b.data);
	}
	it_flush(IT_WAIT_MS);
}

/* The last value per lead in the changelog as read now; returns the number
 * of records read. last[i] is malloc'ed (NULL: no record or a tombstone). */
static size_t read_changelog(uint8_t **last, size_t *len)
{
	const char *topics[] = { changelog_topic(), NULL };
	it_reader *r = it_reader_open(topics);
	it_reader_poll_to_end(r, IT_WAIT_MS);
	size_t n = it_reader_count_of(r, topics[0], NULL);
	for (int i = 0; i < LEADS; i++) {
		char lead[32];
		lead_name(lead, sizeof lead, i);
		free(last[i]);
		last[i] = NULL;
		len[i] = 0;
		size_t k = it_reader_count_of(r, topics[0], lead);
		if (k == 0)
			continue;
		const it_msg *m = it_reader_nth(r, topics[0], lead, k - 1);
		if (m->value) {
			last[i] = malloc(m->len ? m->len : 1);
			memcpy(last[i], m->value, m->len);
			len[i] = m->len;
		}
	}
	it_reader_close(r);
	return n;
}

/* Rolls the active segment (a record after segment.ms) so the cleaner can
 * reach everything before it: a tombstone for a lead that never existed,
 * which a restore ignores. */
static void roll_segment(int n)
{
	char key[32];
	snprintf(key, sizeof key, "cmp-probe-%d", n);
	sleep_ms(200);
	it_produce(changelog_topic(), 0, key, NULL, 0, NULL, 0, NULL);
}

static void wait_compacted(size_t max_records, const char *what, uint8_t **last, size_t *len)
{
	int64_t deadline = it_now_ms() + 60000;
	for (int probe = 0;; probe++) {
		roll_segment(probe);
		size_t n = read_changelog(last, len);
		if (n <= max_records)
			return;
		cr_assert_lt(it_now_ms(), deadline, "%s: the changelog still holds %zu records after 60 s, "
		             "want at most %zu", what, n, max_records);
		sleep_ms(1000);
	}
}

static long restored_leads(it_proc *d)
{
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	for (;;) {
		char *log = it_proc_log(d);
		const char *at = strstr(log, ": restored ");
		long n = at ? strtol(at + strlen(": restored "), NULL, 10) : -1;
		bool bad = at && strstr(at, " 0 bad,") == NULL;
		free(log);
		cr_assert(!bad, "the restore skipped bad records");
		if (n >= 0)
			return n;
		cr_assert_lt(it_now_ms(), deadline, "no restore line within %d ms", IT_WAIT_MS);
		it_assert_running(d, "restoring");
		sleep_ms(100);
	}
}

Test(kafka_compaction, restore_from_the_compacted_changelog_and_ttl_tombstones)
{
	fd_config cfg;
	it_load_config(&cfg);
	const char *E = cfg.settings.topics.engagement;
	const int64_t at = it_now_ms() - 10 * 60000; /* ten minutes ago */
	uint8_t *before[LEADS] = { 0 }, *after[LEADS] = { 0 };
	size_t before_len[LEADS] = { 0 }, after_len[LEADS] = { 0 };

	/* 1. several state records per lead */
	it_proc *a = it_daemon_start(NULL);
	for (int round = 0; round < UPDATES; round++) {
		produce_round(E, round, at);
		/* committed only once its state records are durable: each round
		 * writes a record per lead of its own */
		it_wait_committed_at_end(it_group(), IT_WAIT_MS);
	}
	it_stop_daemon(a);
	/* the cleaner may have run already (its settings are aggressive): count
	 * what was written by the end offsets, which compaction leaves alone */
	int64_t written = it_end_offsets(changelog_topic());
	read_changelog(before, before_len);
	for (int i = 0; i < LEADS; i++)
		cr_assert_not_null(before[i], "lead %d has no state record", i);
	/* one per lead and round, and the partition's checkpoints: one per
	 * round (its first event moves the stream time), and one more per
	 * further commit interval the first round's new leads spanned */
	const int64_t min = (int64_t)LEADS * UPDATES + UPDATES, max = min - 1 + LEADS;
	cr_assert(written >= min && written <= max, "%" PRId64 " changelog records written for %d "
	          "leads in %d committed rounds, want one per lead and round and the checkpoints "
	          "(%" PRId64 " to %" PRId64 ")", written, LEADS, UPDATES, min, max);

	/* 2. compacted: one record per lead (plus the checkpoint and the
	 * probes), the last one */
	wait_compacted(LEADS + 9, "after the first run", after, after_len);
	for (int i = 0; i < LEADS; i++)
		cr_assert(after[i] && after_len[i] == before_len[i] &&
		          memcmp(after[i], before[i], before_len[i]) == 0,
		          "lead %d: compaction kept another record than the last", i);
	fprintf(stderr, "compaction: %" PRId64 " records compacted to one per lead\n", written);

	/* 3. a restart restores every lead from it */
	it_proc *b = it_daemon_start(NULL);
	cr_assert_eq(restored_leads(b), LEADS, "restored from the compacted changelog");
	it_stop_daemon(b);

	/* 4. TTL eviction: the leads' events are ten minutes old, a new lead's
	 * event of now moves the partition's stream time past them: a
	 * tombstone per lead; once the cleaner removed them, only that lead is
	 * restored */
	const char *ttl[] = { "state.lead_ttl=1m", NULL };
	it_proc *c = it_daemon_start(ttl);
	cr_assert_eq(restored_leads(c), LEADS);
	fd_engagement clock = { .event_id = "ev-clock", .lead_id = "cmp-clock",
		                    .occurred_at_ms = it_now_ms(), .type = "page_view", .channel = "web",
		                    .content_id = "pricing" };
	it_bytes cb = it_pb_engagement(&clock);
	it_produce(E, IT_PARTITION_BY_KEY, "cmp-clock", cb.data, cb.len, NULL, 0, NULL);
	free(cb.data);
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	for (;;) {
		read_changelog(after, after_len);
		int live = 0;
		for (int i = 0; i < LEADS; i++)
			live += after[i] != NULL;
		if (live == 0)
			break;
		cr_assert_lt(it_now_ms(), deadline, "%d leads still without a tombstone", live);
		sleep_ms(500);
	}
	it_stop_daemon(c);
	wait_compacted(10, "after the tombstones", after, after_len); /* probes, clock, checkpoint */
	it_proc *d = it_daemon_start(NULL);
	cr_assert_eq(restored_leads(d), 1, "leads came back after their tombstones were compacted");
	it_stop_daemon(d);
	for (int i = 0; i < LEADS; i++) {
		free(before[i]);
		free(after[i]);
	}
	fd_config_free(&cfg);
}
