/*
 * publish.c — the score stream's policy (see publish.h).
 */
#include "engine/publish.h"

#include <math.h>

static bool moved(double now, float then, double min_change)
{
	return fabs(now - (double)then) >= min_change;
}

/* Is `now` less than `interval` after `at`? Any int64 times: a clock gone
 * back is too soon. */
static bool too_soon(int64_t now, int64_t at, int64_t interval)
{
	int64_t elapsed;
	if (__builtin_sub_overflow(now, at, &elapsed))
		return now < at;
	return elapsed < interval;
}

fd_publish fd_publish_decide(const fd_score_policy *p, fd_published *last,
                             const fd_score_snapshot *s, fd_stage stage, int64_t now,
                             bool recheck, int64_t *due)
{
	if (recheck)
		last->flags &= (uint8_t)~FD_PUBLISHED_HELD;
	bool ever = last->flags & FD_PUBLISHED_EVER;
	bool now_worth = !ever || p->min_change <= 0 || last->stage != (uint8_t)stage ||
	                 last->grade != (uint8_t)s->grade;
	if (!now_worth) {
		if (!moved(s->engagement, last->engagement, p->min_change) &&
		    !moved(s->fit, last->fit, p->min_change))
			return FD_PUBLISH_NO;
		/* a recheck comes when the interval has passed (a timer the
		 * caller armed at *due): `now` may still be the lead's older time */
		if (p->min_interval_ms > 0 && !recheck && too_soon(now, last->at_ms, p->min_interval_ms)) {
			if (last->flags & FD_PUBLISHED_HELD)
				return FD_PUBLISH_NO;
			last->flags |= FD_PUBLISHED_HELD;
			if (__builtin_add_overflow(last->at_ms, p->min_interval_ms, due))
				*due = INT64_MAX;
			return FD_PUBLISH_HOLD;
		}
	}
	last->at_ms = now;
	last->engagement = (float)s->engagement;
	last->fit = (float)s->fit;
	last->stage = (uint8_t)stage;
	last->grade = (uint8_t)s->grade;
	last->flags = FD_PUBLISHED_EVER | (last->flags & FD_PUBLISHED_HELD);
	return FD_PUBLISH_NOW;
}
