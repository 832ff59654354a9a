/*
 * observe.c — per-record latency histograms (see observe.h).
 */
#include "daemon/observe.h"

void fd_observe_init(fd_observe *o)
{
	*o = (fd_observe){ 0 };
	fd_hist_init(&o->event_age, &fd_hist_event_age);
	fd_hist_init(&o->record_time, &fd_hist_record_time);
}

int64_t fd_observe_event_time(int64_t event_ms, int64_t kafka_ms)
{
	if (event_ms > 0)
		return event_ms;
	return kafka_ms >= 0 ? kafka_ms : -1;
}

void fd_observe_record(fd_observe *o, int64_t event_ms, int64_t kafka_ms, bool outputs,
                       int64_t took_us, int64_t now_ms)
{
	fd_hist_add(&o->record_time, took_us);
	if (!outputs)
		return;
	int64_t at = fd_observe_event_time(event_ms, kafka_ms);
	if (at < 0) {
		o->undated++;
		return;
	}
	/* an event up to scoring.max_future_skew ahead counts as age 0 */
	fd_hist_add(&o->event_age, now_ms > at ? now_ms - at : 0);
}
