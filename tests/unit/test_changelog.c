/*
 * test_changelog.c — the changelog writer's queue of state records waiting
 * for their epoch, without a broker: the producer queues what it is given
 * and nothing is ever acknowledged, so every state record stays deferred.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kafka/changelog.h"
#include "kafka/kafka.h"

extern const char fd_default_config[];

static fd_config cfg;
static fd_kafka *k;
static fd_engine *eng;
static char err[512];

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
}

static void teardown(void)
{
	k->failed = true; /* no flush: nothing would ever be delivered */
	fd_kafka_free(k);
	fd_engine_free(eng);
	fd_config_free(&cfg);
}

TestSuite(changelog, .init = setup, .fini = teardown);

static void lead_on(const char *id, int32_t partition)
{
	fd_sink none = { 0 };
	fd_clock wall = fd_clock_wall();
	int64_t now = wall.now(wall.ctx);
	fd_engagement ev = { .event_id = id, .lead_id = id, .occurred_at_ms = now - 60000,
		                 .type = "page_view", .partition = partition, .position = 1 };
	cr_assert_eq(fd_engine_engagement(eng, &ev, now, &none, err, sizeof err), FD_OK, "%s", err);
	fd_changelog_mark(k->changelog, id);
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
	fd_changelog_close_epoch(k->changelog, eng, 0, 0);
	cr_assert_eq(fd_changelog_deferred(k->changelog), 4);
	cr_assert_eq(fd_changelog_purge(k->changelog, 0), 2);
	cr_assert_eq(fd_changelog_deferred(k->changelog), 2);
	cr_assert_eq(fd_changelog_purge(k->changelog, 0), 0);
	cr_assert_eq(fd_changelog_purge(k->changelog, 1), 1);
	cr_assert_eq(fd_changelog_purge(k->changelog, 2), 1);
	cr_assert_eq(fd_changelog_deferred(k->changelog), 0);
}
