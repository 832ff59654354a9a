/*
 * test_publish.c — the score stream's policy: which changes publish a
 * LeadScore, when a change is held and when it is asked again, at the
 * boundaries of min_change and min_interval and at extreme times.
 */
#include <criterion/criterion.h>

#include "engine/publish.h"

static const fd_score_policy policy = { .min_change = 1.0, .min_interval_ms = 30000 };

static fd_score_snapshot score(double engagement, double fit, int grade)
{
	fd_score_snapshot s = { .engagement = engagement, .fit = fit, .grade = grade };
	return s;
}

Test(publish, the_first_score_of_a_lead_is_published)
{
	fd_published last = { 0 };
	fd_score_snapshot s = score(0.5, 0, FD_GRADE_D);
	int64_t due = -1;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 1000, false, &due),
	             FD_PUBLISH_NOW);
	cr_assert_eq(last.at_ms, 1000);
	cr_assert_float_eq(last.engagement, 0.5f, 1e-9);
	cr_assert_eq(last.flags, FD_PUBLISHED_EVER);
	cr_assert_eq(due, -1, "no due time when published");
}

Test(publish, a_change_below_min_change_is_not_published)
{
	fd_published last = { 0 };
	fd_score_snapshot s = score(10, 20, FD_GRADE_B);
	int64_t due;
	fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 0, false, &due);
	s.engagement = 10.99;
	s.fit = 19.01;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 100000, false, &due),
	             FD_PUBLISH_NO);
	s.engagement = 11.0; /* exactly min_change: published */
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 100000, false, &due),
	             FD_PUBLISH_NOW);
	s.engagement = 11.5;
	s.fit = 21.0; /* the fit alone moved enough */
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 200000, false, &due),
	             FD_PUBLISH_NOW);
	s.engagement = 10.0; /* down counts as much as up */
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 300000, false, &due),
	             FD_PUBLISH_NOW);
}

/* Too soon: held once with the due time, the same question while held
 * answers NO, the recheck at the due time publishes what the lead says. */
Test(publish, a_change_too_soon_is_held_until_the_interval_passed)
{
	fd_published last = { 0 };
	fd_score_snapshot s = score(10, 0, FD_GRADE_D);
	int64_t due = 0;
	fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 5000, false, &due);
	s.engagement = 15;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 34999, false, &due),
	             FD_PUBLISH_HOLD);
	cr_assert_eq(due, 35000);
	cr_assert(last.flags & FD_PUBLISHED_HELD);
	cr_assert_float_eq(last.engagement, 10.0f, 1e-9, "nothing published yet");
	s.engagement = 18;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 34999, false, &due),
	             FD_PUBLISH_NO, "held already: the recheck will come");
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 35000, true, &due),
	             FD_PUBLISH_NOW);
	cr_assert_eq(last.at_ms, 35000);
	cr_assert_float_eq(last.engagement, 18.0f, 1e-9);
	cr_assert_eq(last.flags, FD_PUBLISHED_EVER, "the hold ended");
}

/* A recheck that finds the score back within min_change publishes nothing
 * and ends the hold. */
Test(publish, a_recheck_with_nothing_left_to_say_ends_the_hold)
{
	fd_published last = { 0 };
	fd_score_snapshot s = score(10, 0, FD_GRADE_D);
	int64_t due;
	fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 0, false, &due);
	s.engagement = 12;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 10, false, &due),
	             FD_PUBLISH_HOLD);
	s.engagement = 10.5;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 30000, true, &due),
	             FD_PUBLISH_NO);
	cr_assert_eq(last.flags, FD_PUBLISHED_EVER);
}

/* Stage and grade changes are published at once, inside the interval, and
 * a hold in progress stays (its recheck is still to come). */
Test(publish, stage_and_grade_changes_are_published_at_once)
{
	fd_published last = { 0 };
	fd_score_snapshot s = score(10, 0, FD_GRADE_D);
	int64_t due;
	fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 0, false, &due);
	s.engagement = 20;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, 1, false, &due),
	             FD_PUBLISH_HOLD);
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_MQL, 2, false, &due),
	             FD_PUBLISH_NOW);
	cr_assert_eq(last.stage, FD_STAGE_MQL);
	cr_assert(last.flags & FD_PUBLISHED_HELD, "its recheck is still queued");
	s.grade = FD_GRADE_A;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_MQL, 3, false, &due),
	             FD_PUBLISH_NOW);
	cr_assert_eq(last.grade, FD_GRADE_A);
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_MQL, 4, false, &due),
	             FD_PUBLISH_NO, "nothing new");
}

Test(publish, min_change_zero_publishes_every_change_and_no_interval_holds_none)
{
	fd_score_policy every = { 0, 0 };
	fd_published last = { 0 };
	fd_score_snapshot s = score(10, 0, FD_GRADE_D);
	int64_t due;
	for (int64_t t = 0; t < 5; t++)
		cr_assert_eq(fd_publish_decide(&every, &last, &s, FD_STAGE_LEAD, t, false, &due),
		             FD_PUBLISH_NOW);
	fd_score_policy no_interval = { 1.0, 0 };
	s.engagement = 11;
	cr_assert_eq(fd_publish_decide(&no_interval, &last, &s, FD_STAGE_LEAD, 5, false, &due),
	             FD_PUBLISH_NOW);
}

/* Any int64 times: a clock gone back holds; a due time past INT64_MAX is
 * INT64_MAX; the longest elapsed time is not too soon. */
Test(publish, extreme_times_do_not_overflow)
{
	fd_published last = { 0 };
	fd_score_snapshot s = score(10, 0, FD_GRADE_D);
	int64_t due;
	fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, INT64_MAX - 10, false, &due);
	s.engagement = 20;
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, INT64_MIN, false, &due),
	             FD_PUBLISH_HOLD, "the clock went back");
	cr_assert_eq(due, INT64_MAX);
	last = (fd_published){ .at_ms = INT64_MIN, .engagement = 10, .flags = FD_PUBLISHED_EVER };
	cr_assert_eq(fd_publish_decide(&policy, &last, &s, FD_STAGE_LEAD, INT64_MAX, false, &due),
	             FD_PUBLISH_NOW);
}
