/*
 * test_engine_publish.c — the engine's score stream (fd_sink.score): which
 * inputs publish a LeadScore, the held change and its timer in the lead's
 * time, what survives an export/import (a restore) and a reload, and the
 * TTL keeping a lead whose LeadScore is held. Virtual time throughout.
 */
#include <criterion/criterion.h>

#include "engine_fixture.h"

#define MIN (60 * FD_MS_SECOND)

static fd_rules rules;
static fd_engine *e;
static fx_log *out;
static fd_sink sink;
static char err[256];

static void setup(void)
{
	fx_config(&rules);
	rules.publish_min_change = 1.0;
	rules.publish_min_interval_ms = 5 * MIN;
	out = calloc(1, sizeof *out);
	sink = fx_sink(out);
	sink.score = fx_on_score;
	e = fd_engine_new(&rules, 0);
}

static void teardown(void)
{
	char why[256];
	cr_expect_eq(fd_engine_check(e, why, sizeof why), 0, "engine inconsistent: %s", why);
	fd_engine_free(e);
	free(out);
}

TestSuite(publish_engine, .init = setup, .fini = teardown);

static void event(const char *lead, const char *id, const char *type, int64_t at, int64_t pos)
{
	fd_engagement ev = { .event_id = id, .lead_id = lead, .occurred_at_ms = at, .type = type,
	                     .partition = 0, .position = pos };
	cr_assert_eq(fd_engine_engagement(e, &ev, at, &sink, err, sizeof err), FD_OK, "%s", err);
}

/* The first event publishes; a second one a minute later is held, its
 * timer due five minutes after the first; the timer publishes what the
 * lead says then, as of its own time. */
Test(publish_engine, a_change_within_the_interval_is_published_when_it_ends)
{
	event("ann", "e1", "email_click", T0, 1);
	cr_assert_eq(out->n_sc, 1);
	cr_assert_float_eq(out->sc[0].engagement, 3.0, 1e-9);
	cr_assert_eq(out->sc[0].as_of, T0);
	cr_assert_eq(fd_engine_next_deadline(e), INT64_MAX, "nothing held");
	event("ann", "e2", "email_click", T0 + MIN, 2);
	cr_assert_eq(out->n_sc, 1, "held");
	cr_assert_eq(fd_engine_next_deadline(e), T0 + 5 * MIN);
	event("ann", "e3", "email_click", T0 + 2 * MIN, 3);
	cr_assert_eq(out->n_sc, 1, "still held, one timer");
	cr_assert_eq(fd_engine_advance(e, T0 + 5 * MIN - 1, &sink), 0);
	cr_assert_eq(fd_engine_advance(e, T0 + 5 * MIN, &sink), 1);
	cr_assert_eq(out->n_sc, 2);
	cr_assert_eq(out->sc[1].as_of, T0 + 2 * MIN, "as of the lead's own latest time");
	cr_assert_gt(out->sc[1].engagement, 8.99);
	cr_assert_lt(out->sc[1].engagement, 9.0);
	cr_assert_eq(fd_engine_next_deadline(e), INT64_MAX);
}

/* Less than a point publishes nothing and arms nothing; a page view does
 * not move an email click's points by a full point once decayed. */
Test(publish_engine, a_change_below_a_point_publishes_nothing)
{
	event("bob", "e1", "email_click", T0, 1);
	fd_profile p = { .lead_id = "bob", .updated_at_ms = T0 + HOUR, .job_title = "Intern",
	                 .partition = 0, .position = 1 };
	cr_assert_eq(fd_engine_profile(e, &p, T0 + HOUR, &sink, err, sizeof err), FD_OK, "%s", err);
	cr_assert_eq(out->n_sc, 1, "fit 0 and grade D as before: nothing to say");
	cr_assert_eq(fd_engine_next_deadline(e), INT64_MAX);
}

/* A stage change is published at once, inside the interval; a grade
 * change too. */
Test(publish_engine, stage_and_grade_changes_are_published_at_once)
{
	event("cat", "e1", "email_click", T0, 1);
	event("cat", "e2", "demo_request", T0 + MIN, 2); /* hand raise: MQL */
	cr_assert_eq(out->n_tr, 1);
	cr_assert_eq(out->tr[0].to, FD_STAGE_MQL);
	cr_assert_eq(out->n_sc, 2);
	cr_assert_eq(out->sc[1].stage, FD_STAGE_MQL);
	fd_profile p = { .lead_id = "cat", .updated_at_ms = T0 + 2 * MIN, .seniority = "VP",
	                 .industry = "Software", .partition = 0, .position = 1 };
	cr_assert_eq(fd_engine_profile(e, &p, T0 + 2 * MIN, &sink, err, sizeof err), FD_OK, "%s",
	             err);
	cr_assert_eq(out->n_sc, 3, "a new grade");
	cr_assert_float_eq(out->sc[2].fit, 50.0, 1e-9);
	cr_assert_neq(out->sc[2].grade, out->sc[1].grade);
}

/* What was published, and a hold, are state: a lead exported and imported
 * into another engine (a restore) goes on where it was, its timer re-armed
 * at the same time; the same inputs after it publish the same records. */
Test(publish_engine, a_restored_lead_goes_on_from_what_it_published)
{
	event("dan", "e1", "email_click", T0, 1);
	event("dan", "e2", "email_click", T0 + MIN, 2);
	fd_lead_state *st = malloc(sizeof *st);
	cr_assert(fd_engine_export(e, "dan", st));
	cr_assert_eq(st->published.at_ms, T0);
	cr_assert_eq(st->published.flags, FD_PUBLISHED_EVER | FD_PUBLISHED_HELD);
	fd_engine *restored = fd_engine_new(&rules, 0);
	cr_assert_eq(fd_engine_import(restored, st, err, sizeof err), FD_OK, "%s", err);
	cr_assert_eq(fd_engine_next_deadline(restored), T0 + 5 * MIN);
	fx_log *log2 = calloc(1, sizeof *log2);
	fd_sink sink2 = fx_sink(log2);
	sink2.score = fx_on_score;
	cr_assert_eq(fd_engine_advance(restored, T0 + 5 * MIN, &sink2), 1);
	cr_assert_eq(fd_engine_advance(e, T0 + 5 * MIN, &sink), 1);
	cr_assert_eq(log2->n_sc, 1);
	cr_assert_eq(out->n_sc, 2);
	cr_assert_str_eq(log2->sc[0].id, out->sc[1].id, "the same LeadScore, the same id");
	char why[256];
	cr_assert_eq(fd_engine_check(restored, why, sizeof why), 0, "%s", why);
	free(st);
	free(log2);
	fd_engine_free(restored);
}

/* The TTL keeps a lead whose LeadScore is held until it is published. */
Test(publish_engine, the_ttl_keeps_a_lead_with_a_held_score)
{
	event("eve", "e1", "email_click", T0, 1);
	event("eve", "e2", "email_click", T0 + MIN, 2);
	fd_engine_set_lead_ttl(e, DAY);
	event("clock", "c1", "page_view", T0 + 400 * DAY, 1); /* the partition's stream moves */
	cr_assert_eq(out->n_sc, 2, "eve's first, the clock lead's first");
	cr_assert_eq(fd_engine_evict(e, 100, NULL, NULL), 0);
	cr_assert_eq(fd_engine_advance(e, T0 + 400 * DAY, &sink), 1);
	cr_assert_eq(out->n_sc, 3);
	cr_assert_eq(fd_engine_evict(e, 100, NULL, NULL), 1);
}

/* A reload keeps what each lead published and its hold. */
Test(publish_engine, a_reload_keeps_the_score_stream)
{
	event("fay", "e1", "email_click", T0, 1);
	event("fay", "e2", "email_click", T0 + MIN, 2);
	fd_rules next = rules;
	next.publish_min_interval_ms = 10 * MIN;
	fd_engine *n = fd_engine_new(&next, 0);
	fd_engine_adopt(n, e);
	e = n;
	cr_assert_eq(fd_engine_migrate(e, 100), 1);
	cr_assert_eq(fd_engine_next_deadline(e), T0 + 10 * MIN, "re-armed under the new interval");
	event("fay", "e3", "email_click", T0 + 2 * MIN, 3);
	cr_assert_eq(out->n_sc, 1, "still held after the move");
	cr_assert_eq(fd_engine_advance(e, T0 + 10 * MIN, &sink), 1);
	cr_assert_eq(out->n_sc, 2);
}

/* Without a score sink the engine decides nothing: no LeadScore state, no
 * timer. */
Test(publish_engine, without_a_score_sink_nothing_is_decided)
{
	sink.score = NULL;
	event("gus", "e1", "email_click", T0, 1);
	event("gus", "e2", "email_click", T0 + MIN, 2);
	fd_lead_state *st = malloc(sizeof *st);
	cr_assert(fd_engine_export(e, "gus", st));
	cr_assert_eq(st->published.flags, 0);
	cr_assert_eq(fd_engine_next_deadline(e), INT64_MAX);
	free(st);
}
