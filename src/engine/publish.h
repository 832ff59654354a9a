/*
 * publish.h — the score stream's policy: is a lead's LeadScore worth
 * publishing now?
 *
 * A lead's score moves with every event; the score stream (LeadScore
 * records, a compacted topic read as "the current score of each lead")
 * says it when it matters: when the stage or the grade changed, or when
 * the engagement or the fit moved by at least min_change points since the
 * last published value, and then at most once per min_interval per lead. A
 * change that comes too soon is held: the caller asks again once the
 * interval has passed (the engine arms a timer), and publishes what the
 * lead says then. So the last published score of a lead is never further
 * than min_change points from its state, except for up to min_interval.
 *
 * Time is the lead's own (event time), so the same inputs make the same
 * decisions whenever and however often they are replayed.
 *
 * Pure: the caller keeps an fd_published per lead and passes the time.
 */
#ifndef FD_ENGINE_PUBLISH_H
#define FD_ENGINE_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "funneld/engine.h"

typedef struct fd_score_policy {
	double min_change;        /* points of engagement or fit; 0: every change */
	int64_t min_interval_ms;  /* between two publications; 0: none */
} fd_score_policy;

typedef enum fd_publish {
	FD_PUBLISH_NO = 0,   /* nothing worth saying (or a hold is already asked) */
	FD_PUBLISH_NOW,      /* publish now (recorded in *last) */
	FD_PUBLISH_HOLD      /* worth it but too soon: ask again, recheck, at *due */
} fd_publish;

/* Decide for a lead whose current score is `s` in `stage`, at `now`, and
 * update *last: on FD_PUBLISH_NOW it records the publication; on
 * FD_PUBLISH_HOLD it marks the lead held and sets *due. While held, a
 * change that is not worth publishing at once answers FD_PUBLISH_NO: the
 * question is already asked. `recheck`: this is the asking again (the
 * hold ends; the interval is taken as passed, whatever `now` says). */
fd_publish fd_publish_decide(const fd_score_policy *p, fd_published *last,
                             const fd_score_snapshot *s, fd_stage stage, int64_t now,
                             bool recheck, int64_t *due);

#endif
