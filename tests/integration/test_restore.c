/*
 * test_restore.c — the restore queue (src/kafka/restore.c) against a real
 * broker process (the dev-broker, or Apache Kafka with
 * FUNNELD_IT_BROKER=kafka): every queued changelog partition is read at
 * once by one reader, a partition revoked mid-restore leaves the others
 * going, a partition assigned while a restore runs joins it, and (on
 * Apache Kafka) a partition whose log starts past offset 0 is read from its
 * start.
 *
 * The test drives the module as the daemon's restore timer does
 * (fd_restore_work until FD_RESTORE_DONE, waiting FD_RESTORE_IDLE_MS or
 * FD_RESTORE_RETRY_MS when it says so) on a changelog of its own, written
 * here, and checks the engine it restores into lead by lead. A step imports
 * at most FD_RESTORE_STEP_RECORDS records: a partition of BIG records is
 * still being read after the first step that imported any of it, which is
 * what makes "mid-restore" exact without timing anything.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "funneld/wire.h"
#include "kafka/kafka.h"
#include "kafka/restore.h"

#define CHANGELOG "restore-it.changelog"
#define PARTITIONS 4
#define BIG (4 * FD_RESTORE_STEP_RECORDS) /* records of a partition read over several steps */

static fd_config cfg;
static fd_kafka *k;
static fd_engine *eng;
static char err[512];

static void init(void)
{
	it_setup(PARTITIONS);
	it_override("topics.changelog=%s", CHANGELOG);
	it_broker_ok("create " CHANGELOG " 4"); /* PARTITIONS */
	it_load_config(&cfg);
	fd_kafka_hooks none = { 0 };
	k = fd_kafka_new(&cfg.settings, fd_clock_wall(), none, err, sizeof err);
	cr_assert_not_null(k, "%s", err);
	eng = fd_engine_new(&cfg.rules, 0);
	cr_assert_not_null(eng);
}

static void fini(void)
{
	k->failed = true; /* nothing was produced: no flush */
	fd_kafka_free(k);
	fd_engine_free(eng);
	fd_config_free(&cfg);
	it_teardown();
}

TestSuite(restore, .init = init, .fini = fini, .timeout = 300);

static void lead_id(char *out, size_t size, int32_t p, int i)
{
	snprintf(out, size, "p%" PRId32 "-lead-%05d", p, i);
}

/* A LeadState record of lead i of partition p: stage MQL and owner "new",
 * or LEAD and "old" (an older record of the same lead). */
static void write_state(int32_t p, int i, bool newer)
{
	char id[64];
	lead_id(id, sizeof id, p, i);
	fd_lead_state st;
	memset(&st, 0, sizeof st);
	st.lead_id = id;
	st.partition = p;
	st.stage = newer ? FD_STAGE_MQL : FD_STAGE_LEAD;
	st.stage_entered_ms = IT_T0;
	st.grade = FD_GRADE_D;
	st.owner_id = newer ? "new" : "old";
	st.lead_source = "";
	st.disqualified_by = "";
	uint8_t *buf;
	size_t len;
	cr_assert_eq(fd_wire_encode_lead_state(&st, &buf, &len), 0);
	it_produce_async(CHANGELOG, p, id, buf, len);
	free(buf);
}

static void write_tombstone(int32_t p, int i)
{
	char id[64];
	lead_id(id, sizeof id, p, i);
	it_produce_async(CHANGELOG, p, id, NULL, 0);
}

/* `n` leads on partition p, one record each (flushed). */
static void write_partition(int32_t p, int n)
{
	for (int i = 0; i < n; i++)
		write_state(p, i, true);
	it_flush(IT_WAIT_MS);
}

static void count_lead(void *ctx, const char *lead, int32_t partition)
{
	(void)lead;
	(void)partition;
	(*(size_t *)ctx)++;
}

static size_t leads_of(int32_t p)
{
	size_t n = 0;
	fd_engine_foreach(eng, p, count_lead, &n);
	return n;
}

/* One fd_restore_work call, waiting afterwards as the daemon's timer
 * would. */
static fd_restore_result work(void)
{
	fd_restore_result rc = fd_restore_work(k, eng);
	cr_assert_neq(rc, FD_RESTORE_FAILED, "the restore failed");
	if (rc == FD_RESTORE_IDLE)
		usleep(FD_RESTORE_IDLE_MS * 1000);
	else if (rc == FD_RESTORE_RETRY)
		usleep(FD_RESTORE_RETRY_MS * 1000);
	return rc;
}

static void work_until_done(void)
{
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	while (work() != FD_RESTORE_DONE)
		cr_assert_lt(it_now_ms(), deadline, "not restored within %d ms: %s", IT_WAIT_MS,
		             fd_restore_status(k->restore));
}

/* Lead i of partition p is in the engine with its newest record. */
static void assert_restored(int32_t p, int i)
{
	char id[64];
	lead_id(id, sizeof id, p, i);
	fd_lead_view v;
	cr_assert(fd_engine_lead(eng, id, IT_T0, &v), "%s was not restored", id);
	cr_assert_eq(v.stage, FD_STAGE_MQL, "%s: stage %d, not its newest record's", id, (int)v.stage);
	cr_assert_str_eq(v.owner_id, "new", "%s", id);
}

/* Four partitions, each with leads written twice (the newer record last),
 * a tenth of them deleted by a tombstone after that: the queued partitions
 * are all handed to the reader by the first step, and each lead comes back
 * as its last record says. */
Test(restore, queued_partitions_are_read_together_and_the_last_record_wins)
{
	enum { LEADS = 1000 };
	for (int32_t p = 0; p < PARTITIONS; p++)
		for (int i = 0; i < LEADS; i++)
			write_state(p, i, false);
	it_flush(IT_WAIT_MS);
	for (int32_t p = 0; p < PARTITIONS; p++)
		for (int i = 0; i < LEADS; i++)
			write_state(p, i, true);
	it_flush(IT_WAIT_MS);
	for (int32_t p = 0; p < PARTITIONS; p++)
		for (int i = 0; i < LEADS; i += 10)
			write_tombstone(p, i);
	it_flush(IT_WAIT_MS);

	for (int32_t p = 0; p < PARTITIONS; p++)
		cr_assert_eq(fd_restore_enqueue(k, p), 0);
	cr_assert_eq(k->stats.restoring, PARTITIONS);
	cr_assert_eq(fd_restore_reading(k->restore), 0, "nothing is read before the first step");
	cr_assert_str_eq(fd_restore_status(k->restore), "restoring partitions 0, 1, 2, 3");

	work();
	/* no partition waits for another: all four are read (or done) */
	cr_assert_eq(fd_restore_reading(k->restore) + fd_restore_restored(k->restore), PARTITIONS,
	             "%zu read, %zu restored after the first step",
	             fd_restore_reading(k->restore), fd_restore_restored(k->restore));
	cr_assert_eq(k->stats.restoring, fd_restore_reading(k->restore),
	             "partitions still queued behind others");

	work_until_done();
	cr_assert_eq(fd_restore_restored(k->restore), PARTITIONS);
	cr_assert_eq(k->stats.restoring, 0);
	cr_assert_eq(fd_restore_reading(k->restore), 0);
	for (int32_t p = 0; p < PARTITIONS; p++) {
		cr_assert_eq(leads_of(p), LEADS - LEADS / 10, "partition %" PRId32, p);
		for (int i = 0; i < LEADS; i++) {
			char id[64];
			lead_id(id, sizeof id, p, i);
			fd_lead_view v;
			if (i % 10 == 0)
				cr_assert_not(fd_engine_lead(eng, id, IT_T0, &v), "%s was deleted", id);
			else
				assert_restored(p, i);
		}
	}
	cr_assert_eq(k->stats.restored_leads, PARTITIONS * (LEADS - LEADS / 10));
	fd_restore_resume(k);
	cr_assert_eq(fd_restore_restored(k->restore), 0);
}

/* Three partitions of BIG records: once a step has imported some of one
 * (at most FD_RESTORE_STEP_RECORDS in all, so all three are still being
 * read), that one is revoked and its leads dropped, as the daemon does. The
 * other two are restored in full; nothing of the revoked one comes back,
 * not even records the reader had fetched already. */
Test(restore, a_partition_revoked_mid_restore_leaves_the_others_going)
{
	for (int32_t p = 0; p < 3; p++)
		write_partition(p, BIG);
	for (int32_t p = 0; p < 3; p++)
		cr_assert_eq(fd_restore_enqueue(k, p), 0);

	int32_t victim = -1;
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	while (victim < 0) {
		work();
		cr_assert_lt(it_now_ms(), deadline, "nothing read within %d ms", IT_WAIT_MS);
		for (int32_t p = 0; p < 3 && victim < 0; p++)
			if (leads_of(p) > 0)
				victim = p;
	}
	cr_assert_leq(leads_of(victim), FD_RESTORE_STEP_RECORDS);
	cr_assert_eq(fd_restore_reading(k->restore), 3, "every partition is still being read");

	cr_assert(fd_restore_forget(k, victim), "partition %" PRId32 " was not pending", victim);
	fd_kafka_drop_partition(k, eng, victim);
	cr_assert_eq(leads_of(victim), 0);
	cr_assert_not(fd_restore_pending(k->restore, victim));
	cr_assert_eq(fd_restore_reading(k->restore), 2);
	cr_assert_eq(k->stats.restoring, 2);

	work_until_done();
	cr_assert_eq(fd_restore_restored(k->restore), 2);
	cr_assert_eq(leads_of(victim), 0, "records of partition %" PRId32 " imported after its "
	             "revocation", victim);
	for (int32_t p = 0; p < 3; p++) {
		if (p == victim)
			continue;
		cr_assert_eq(leads_of(p), BIG, "partition %" PRId32, p);
		for (int i = 0; i < BIG; i++)
			assert_restored(p, i);
	}
	cr_assert_eq(k->stats.restored_leads, 2 * BIG);
}

/* Partition 1 is assigned while partition 0 (BIG records) is being read:
 * the next step hands it to the reader, which then reads both; it does not
 * wait for partition 0 to finish. */
Test(restore, a_partition_assigned_during_a_restore_joins_it)
{
	write_partition(0, BIG);
	write_partition(1, BIG);
	cr_assert_eq(fd_restore_enqueue(k, 0), 0);
	int64_t deadline = it_now_ms() + IT_WAIT_MS;
	while (leads_of(0) == 0) {
		cr_assert_neq(work(), FD_RESTORE_DONE);
		cr_assert_lt(it_now_ms(), deadline, "nothing read within %d ms", IT_WAIT_MS);
	}
	/* at most one step of records: partition 0 is still being read */
	cr_assert(fd_restore_pending(k->restore, 0));

	cr_assert_eq(fd_restore_enqueue(k, 1), 0);
	cr_assert_eq(k->stats.restoring, 2);
	cr_assert_eq(fd_restore_reading(k->restore), 1);
	cr_assert_neq(work(), FD_RESTORE_DONE);
	/* two steps of records at most: partition 0 is not done, and 1 is read
	 * beside it */
	cr_assert_eq(fd_restore_reading(k->restore), 2, "partition 1 waits for partition 0");
	cr_assert_eq(strncmp(fd_restore_status(k->restore), "restoring partitions 0, 1", 25), 0,
	             "status: %s", fd_restore_status(k->restore));

	work_until_done();
	cr_assert_eq(fd_restore_restored(k->restore), 2);
	for (int32_t p = 0; p < 2; p++) {
		cr_assert_eq(leads_of(p), BIG, "partition %" PRId32, p);
		for (int i = 0; i < BIG; i++)
			assert_restored(p, i);
	}
	cr_assert_eq(k->stats.restored_leads, 2 * BIG);
}

/* The reader starts at offset 0 without an offset lookup: on a partition
 * whose log starts later (records deleted, by retention or by hand) it
 * reads from the log's start, never from its end. Apache Kafka only: the
 * mock has no DeleteRecords. */
Test(restore, a_partition_whose_log_starts_past_0_is_read_from_its_start)
{
	if (!it_real_broker())
		cr_skip_test("needs DeleteRecords (Apache Kafka)");
	enum { LEADS = 100, DELETED = 40 };
	write_partition(0, LEADS);

	rd_kafka_conf_t *c = rd_kafka_conf_new();
	cr_assert_eq(rd_kafka_conf_set(c, "bootstrap.servers", it_bootstrap(), err, sizeof err),
	             RD_KAFKA_CONF_OK, "%s", err);
	rd_kafka_t *admin = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
	cr_assert_not_null(admin, "%s", err);
	rd_kafka_topic_partition_list_t *before = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(before, CHANGELOG, 0)->offset = DELETED;
	rd_kafka_DeleteRecords_t *del = rd_kafka_DeleteRecords_new(before);
	rd_kafka_queue_t *q = rd_kafka_queue_new(admin);
	rd_kafka_DeleteRecords(admin, &del, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, IT_WAIT_MS);
	cr_assert_not_null(ev, "no DeleteRecords answer within %d ms", IT_WAIT_MS);
	cr_assert_eq(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR, "DeleteRecords: %s",
	             rd_kafka_event_error_string(ev));
	const rd_kafka_topic_partition_list_t *done =
		rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
	cr_assert_eq(done->cnt, 1);
	cr_assert_eq(done->elems[0].err, RD_KAFKA_RESP_ERR_NO_ERROR, "DeleteRecords: %s",
	             rd_kafka_err2str(done->elems[0].err));
	cr_assert_eq(done->elems[0].offset, DELETED, "the log starts at %" PRId64,
	             done->elems[0].offset);
	rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_DeleteRecords_destroy(del);
	rd_kafka_topic_partition_list_destroy(before);
	rd_kafka_destroy(admin);

	cr_assert_eq(fd_restore_enqueue(k, 0), 0);
	work_until_done();
	cr_assert_eq(leads_of(0), LEADS - DELETED);
	for (int i = DELETED; i < LEADS; i++)
		assert_restored(0, i);
	cr_assert_eq(k->stats.restored_leads, LEADS - DELETED);
}

/* /readyz's status with many partitions: the first ones by number, then
 * how many more, within the status buffer. */
Test(restore, status_names_the_first_partitions_and_counts_the_rest)
{
	enum { MANY = 300 };
	for (int32_t p = 0; p < MANY; p++)
		cr_assert_eq(fd_restore_enqueue(k, p), 0);
	const char *status = fd_restore_status(k->restore);
	const char *and = strstr(status, " and ");
	cr_assert_not_null(and, "status: %s", status);
	size_t listed = 1;
	for (const char *c = status; c < and; c++)
		listed += *c == ',';
	cr_assert_geq(listed, 30, "status: %s", status);
	char want[512];
	size_t off = (size_t)snprintf(want, sizeof want, "restoring partitions");
	for (size_t i = 0; i < listed; i++)
		off += (size_t)snprintf(want + off, sizeof want - off, "%s%zu", i ? ", " : " ", i);
	snprintf(want + off, sizeof want - off, " and %zu more", MANY - listed);
	cr_assert_str_eq(status, want);
	cr_assert_lt(strlen(status), 256);
}

/* A checkpoint record of partition `p` (its number in the record: `says`),
 * under the reserved key, written with the daemon's own producer. */
static void write_checkpoint(int32_t p, int32_t says, int64_t stream_ms, uint64_t mql_entries)
{
	fd_funnel_day day;
	memset(&day, 0, sizeof day);
	day.day = IT_T0 / FD_MS_DAY;
	day.counts.entered[FD_STAGE_MQL] = mql_entries;
	day.counts.transitions = mql_entries;
	day.counts.sla_met[0] = 1;
	fd_partition_state ps;
	memset(&ps, 0, sizeof ps);
	ps.partition = says;
	ps.stream_time_ms = stream_ms;
	ps.days = &day;
	ps.n_days = 1;
	ps.sla_names[0] = cfg.rules.slas[0].name;
	ps.n_slas = 1;
	uint8_t *buf;
	size_t len;
	cr_assert_eq(fd_wire_encode_partition_state(&ps, &buf, &len), 0);
	rd_kafka_resp_err_t e = rd_kafka_producev(
		k->producer, RD_KAFKA_V_TOPIC(CHANGELOG), RD_KAFKA_V_PARTITION(p),
		RD_KAFKA_V_KEY(FD_WIRE_CHECKPOINT_KEY, FD_WIRE_CHECKPOINT_KEY_LEN),
		RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
	cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "%s", rd_kafka_err2str(e));
	free(buf);
	cr_assert_eq(rd_kafka_flush(k->producer, IT_WAIT_MS), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Partition 0's changelog has leads and two checkpoints (the last wins),
 * partition 1's has a checkpoint that names another partition (skipped as
 * bad), partition 2's only leads, as every changelog written before
 * checkpoints existed: all three are restored, each held by the engine
 * (the funnel lists it), partition 0 with its checkpoint's stream time and
 * counters, the others from zero; no checkpoint is taken for a lead. */
Test(restore, checkpoints_are_restored_and_a_changelog_without_them_still_is)
{
	write_partition(0, 3);
	write_checkpoint(0, 0, IT_T0 - FD_MS_DAY, 1);
	write_state(0, 3, true);
	write_checkpoint(0, 0, IT_T0, 2);
	write_partition(1, 2);
	write_checkpoint(1, 3, IT_T0, 9);
	write_partition(2, 4);
	it_flush(IT_WAIT_MS);
	for (int32_t p = 0; p < 3; p++)
		cr_assert_eq(fd_restore_enqueue(k, p), 0);
	work_until_done();

	int32_t parts[8];
	cr_assert_eq(fd_engine_partitions(eng, parts, 8), 3);
	cr_assert_eq(parts[0], 0);
	cr_assert_eq(parts[1], 1);
	cr_assert_eq(parts[2], 2);
	cr_assert_eq(leads_of(0), 4);
	cr_assert_eq(leads_of(1), 2);
	cr_assert_eq(leads_of(2), 4);
	cr_assert_eq(k->stats.restored_leads, 10);
	cr_assert_eq(fd_engine_stream_time(eng, 0), IT_T0);
	cr_assert_eq(fd_engine_stream_time(eng, 1), 0);
	cr_assert_eq(fd_engine_stream_time(eng, 2), 0);
	fd_funnel_counts f;
	memset(&f, 0, sizeof f);
	cr_assert(fd_engine_funnel(eng, 0, INT64_MIN, INT64_MAX, &f, NULL));
	cr_assert_eq(f.entered[FD_STAGE_MQL], 2);
	cr_assert_eq(f.transitions, 2);
	cr_assert_eq(f.sla_met[0], 1);
	cr_assert_eq(f.entered[FD_STAGE_LEAD], 0, "restored leads are not created leads");
	for (int32_t p = 1; p < 3; p++) {
		memset(&f, 0, sizeof f);
		cr_assert(fd_engine_funnel(eng, p, INT64_MIN, INT64_MAX, &f, NULL));
		cr_assert_eq(f.entered[FD_STAGE_MQL], 0, "partition %" PRId32, p);
		cr_assert_eq(f.transitions, 0);
	}
	fd_lead_view v;
	cr_assert_not(fd_engine_lead(eng, "", IT_T0, &v));
	fd_restore_resume(k);
}
