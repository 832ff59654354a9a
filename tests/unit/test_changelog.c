/*
 * test_changelog.c — the changelog writer's closing set and its queue of
 * state records waiting for their epoch, without a broker: the producer
 * queues what it is given and nothing is acknowledged unless a test says
 * so (fd_epochs_ack with the epoch's id, which is its outputs' token).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kafka/changelog.h"
#include "kafka/kafka.h"

extern const char fd_default_config[];

static fd_config cfg;
static fd_kafka *k;
static fd_engine *eng;
static char err[512];
static int64_t t0; /* every event occurs a minute before it: no decay between them */

static void setup(void)
{
	/* nothing listens there: the clients are created, never connected
	 * (the test must not depend on a broker) */
	const char *o[] = { "kafka.bootstrap.servers=127.0.0.1:1", "admin.address=" };
	fd_config_defaults(&cfg);
	cr_assert_eq(fd_config_load_string(&cfg, "(built-in)", fd_default_config, o, 2, err,
	                                   sizeof err), 0, "%s", err);
	fd_kafka_hooks none = { 0 };
	k = fd_kafka_new(&cfg.settings, fd_clock_wall(), none, err, sizeof err);
	cr_assert_not_null(k, "%s", err);
	eng = fd_engine_new(&cfg.rules, 0);
	cr_assert_not_null(eng);
	fd_clock wall = fd_clock_wall();
	t0 = wall.now(wall.ctx);
}

static void teardown(void)
{
	k->failed = true; /* no flush: nothing would ever be delivered */
	fd_kafka_free(k);
	fd_engine_free(eng);
	fd_config_free(&cfg);
}

TestSuite(changelog, .init = setup, .fini = teardown);

/* An event of lead `id` (the n-th: its own event id and offset). */
static void event_of(const char *id, int32_t partition, int n)
{
	fd_sink none = { 0 };
	int64_t now = t0;
	char event_id[64];
	snprintf(event_id, sizeof event_id, "%s-%d", id, n);
	fd_engagement ev = { .event_id = event_id, .lead_id = id, .occurred_at_ms = now - 60000,
		                 .type = "page_view", .partition = partition, .position = n };
	cr_assert_eq(fd_engine_engagement(eng, &ev, now, &none, err, sizeof err), FD_OK, "%s", err);
	fd_changelog_mark(k->changelog, id);
}

static void lead_on(const char *id, int32_t partition)
{
	event_of(id, partition, 1);
}

/* A lost partition's unwritten state records are dropped, the others kept
 * in order. */
Test(changelog, purge_drops_only_the_lost_partitions_records)
{
	lead_on("p0-a", 0);
	lead_on("p1-a", 1);
	lead_on("p0-b", 0);
	lead_on("p2-a", 2);
	/* an output of the open epoch that is never acknowledged holds the
	 * state records back */
	(void)fd_epochs_output(k->epochs);
	cr_assert(fd_changelog_close_epoch(k->changelog, eng));
	cr_assert_eq(fd_changelog_emit(k->changelog, eng, SIZE_MAX), 0);
	/* four leads, and the checkpoints of partitions 0, 1 and 2 */
	cr_assert_eq(fd_changelog_deferred(k->changelog), 7);
	cr_assert_eq(fd_changelog_purge(k->changelog, 0), 3);
	cr_assert_eq(fd_changelog_deferred(k->changelog), 4);
	cr_assert_eq(fd_changelog_purge(k->changelog, 0), 0);
	cr_assert_eq(fd_changelog_purge(k->changelog, 1), 2);
	cr_assert_eq(fd_changelog_purge(k->changelog, 2), 2);
	cr_assert_eq(fd_changelog_deferred(k->changelog), 0);
}

/* Closing an epoch writes nothing: its leads' state records are written a
 * bounded step at a time. */
Test(changelog, a_closed_epoch_is_written_a_step_at_a_time)
{
	fd_changelog *cl = k->changelog;
	const char *ids[] = { "a", "b", "c", "d", "e" };
	for (size_t i = 0; i < 5; i++)
		lead_on(ids[i], 0);
	(void)fd_epochs_output(k->epochs); /* unacknowledged: nothing is released */
	cr_assert(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_changelog_emitting(cl), 5);
	cr_assert_eq(fd_changelog_deferred(cl), 1, "partition 0's checkpoint, taken at the close");
	cr_assert_eq(fd_changelog_emit(cl, eng, 2), 3);
	cr_assert_eq(fd_changelog_deferred(cl), 3);
	cr_assert_eq(fd_changelog_emit(cl, eng, 2), 1);
	cr_assert_eq(fd_changelog_emit(cl, eng, 2), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 6);
	cr_assert_eq(fd_changelog_emitting(cl), 0);
	cr_assert_eq(fd_changelog_emit(cl, eng, 2), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 6, "nothing is written twice");
}

/* The next epoch does not close while the last one is being written; its
 * changed leads wait in the open epoch meanwhile. */
Test(changelog, an_epoch_closes_only_after_the_last_is_written)
{
	fd_changelog *cl = k->changelog;
	lead_on("a", 0);
	lead_on("b", 0);
	(void)fd_epochs_output(k->epochs);
	cr_assert(fd_changelog_close_epoch(cl, eng));
	lead_on("c", 0);
	cr_assert_not(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_changelog_emitting(cl), 2);
	cr_assert_eq(fd_epochs_closed(k->epochs), 1);
	cr_assert_eq(fd_changelog_emit(cl, eng, SIZE_MAX), 0);
	cr_assert(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_epochs_closed(k->epochs), 2);
	cr_assert_eq(fd_changelog_emitting(cl), 1);
	cr_assert_eq(fd_changelog_emit(cl, eng, SIZE_MAX), 0);
	/* a, b, c, and partition 0's checkpoint of each epoch (c was created) */
	cr_assert_eq(fd_changelog_deferred(cl), 5);
}

/* A lead of the closing set about to change again is written at once (as
 * it was when its epoch closed), then not again by the steps; its new
 * change belongs to the open epoch. */
Test(changelog, a_lead_changing_again_is_written_first)
{
	fd_changelog *cl = k->changelog;
	lead_on("a", 0);
	lead_on("b", 0);
	(void)fd_epochs_output(k->epochs);
	cr_assert(fd_changelog_close_epoch(cl, eng));
	fd_changelog_before_change(cl, eng, "a");
	cr_assert_eq(fd_changelog_emitting(cl), 1);
	cr_assert_eq(fd_changelog_deferred(cl), 2); /* partition 0's checkpoint, a */
	fd_changelog_before_change(cl, eng, "a"); /* written already */
	fd_changelog_before_change(cl, eng, "zz"); /* not in the set */
	cr_assert_eq(fd_changelog_deferred(cl), 2);
	event_of("a", 0, 2); /* its new change: the open epoch's (the partition's is not moved) */
	cr_assert_eq(fd_changelog_emit(cl, eng, SIZE_MAX), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 3);
	cr_assert(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_changelog_emitting(cl), 1, "a, once more, for the next epoch");
	/* the last lead of a set written by before_change ends the set */
	fd_changelog_before_change(cl, eng, "a");
	cr_assert_eq(fd_changelog_emitting(cl), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 4);
	cr_assert(fd_changelog_close_epoch(cl, eng));
}

/* An epoch's state records are released once all its outputs are
 * acknowledged and all its leads written: an acknowledged epoch that is
 * half written releases nothing. */
Test(changelog, state_waits_until_the_whole_epoch_is_written)
{
	fd_changelog *cl = k->changelog;
	lead_on("a", 0);
	lead_on("b", 0);
	lead_on("c", 0);
	uint64_t epoch = fd_epochs_output(k->epochs); /* the first epoch's one output */
	cr_assert(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_changelog_emit(cl, eng, 1), 2);
	fd_epochs_ack(k->epochs, epoch);
	cr_assert_eq(fd_epochs_pending(k->epochs), 0);
	fd_changelog_release(cl);
	cr_assert_eq(fd_changelog_deferred(cl), 2, "held: two leads are not written yet");
	cr_assert_eq(k->stats.state_records, 0);
	cr_assert_eq(fd_changelog_emit(cl, eng, SIZE_MAX), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 0, "released with the set's last lead");
	cr_assert_eq(k->stats.state_records, 4, "three leads and partition 0's checkpoint");
}

/* A lead leaving with its partition is no longer written. */
Test(changelog, unmark_forgets_a_lead_of_the_closing_set)
{
	fd_changelog *cl = k->changelog;
	lead_on("a", 0);
	lead_on("b", 1);
	(void)fd_epochs_output(k->epochs);
	cr_assert(fd_changelog_close_epoch(cl, eng));
	fd_changelog_unmark(cl, "b");
	fd_changelog_unmark(cl, "b");
	cr_assert_eq(fd_changelog_emitting(cl), 1);
	cr_assert_eq(fd_changelog_emit(cl, eng, SIZE_MAX), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 3, "a, and the checkpoints of partitions 0 and 1");
	lead_on("c", 0);
	fd_changelog_unmark_all(cl);
	cr_assert(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_changelog_emitting(cl), 0);
}

/* A partition whose stream time and funnel did not move writes no
 * checkpoint; one that did writes exactly one per epoch, whatever number of
 * its leads changed. */
Test(changelog, a_checkpoint_per_changed_partition_per_epoch)
{
	fd_changelog *cl = k->changelog;
	lead_on("a", 0);
	lead_on("b", 0);
	lead_on("c", 3);
	(void)fd_epochs_output(k->epochs);
	cr_assert(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_changelog_deferred(cl), 2, "partitions 0 and 3");
	cr_assert_eq(fd_changelog_emit(cl, eng, SIZE_MAX), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 5);
	event_of("a", 0, 2); /* same time, no new lead, no transition: partition 0 unchanged */
	cr_assert(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_changelog_emit(cl, eng, SIZE_MAX), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 6, "a alone");
	lead_on("d", 3);
	cr_assert(fd_changelog_close_epoch(cl, eng));
	cr_assert_eq(fd_changelog_emit(cl, eng, SIZE_MAX), 0);
	cr_assert_eq(fd_changelog_deferred(cl), 8, "d and partition 3's checkpoint");
	cr_assert_eq(fd_changelog_purge(cl, 3), 4, "c, d and two checkpoints");
}
