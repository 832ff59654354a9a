/*
 * observe.h — what the daemon measures of each input record, for
 * /metrics: how long the record took (decode + apply + encode of its
 * outputs, on the monotonic clock) and how old its event was when its
 * outputs were handed to the producer (the daemon's clock against the
 * record's event time, or its Kafka timestamp when it carries none).
 *
 * Pure: the caller measures and passes `now`; a replay or a test passes a
 * virtual clock. Only records that caused at least one output (a
 * transition, an SLA event, a LeadScore, a dead letter) count in the age:
 * a record that changes nothing observable has no output to be late.
 *
 * What it is not: no clock reads, no exposition (admin.c writes the
 * histograms out).
 */
#ifndef FD_DAEMON_OBSERVE_H
#define FD_DAEMON_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/hist.h"

typedef struct fd_observe {
	fd_hist event_age;          /* ms: event time -> outputs handed over (fd_hist_event_age) */
	fd_hist record_time;        /* µs: one record's decode + apply + encode (fd_hist_record_time) */
	uint64_t undated;           /* records with outputs but neither an event time nor a
	                               Kafka timestamp (not in event_age) */
} fd_observe;

void fd_observe_init(fd_observe *o);

/* The time that dates an input record: its event time when it has one
 * (> 0), else its Kafka timestamp (>= 0), else -1. */
int64_t fd_observe_event_time(int64_t event_ms, int64_t kafka_ms);

/* One input record done: `event_ms` its event time (0: none), `kafka_ms`
 * its Kafka timestamp (-1: none), `outputs` whether it caused any, `took_us`
 * how long it was worked on, `now_ms` when its outputs were handed over. */
void fd_observe_record(fd_observe *o, int64_t event_ms, int64_t kafka_ms, bool outputs,
                       int64_t took_us, int64_t now_ms);

#endif
