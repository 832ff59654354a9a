/*
 * test_observe.c — the per-record histograms on a virtual clock: the age
 * of an input's event when its outputs are handed over (event time, else
 * the Kafka timestamp), only for inputs with outputs; the processing time
 * of every record.
 */
#include <criterion/criterion.h>

#include "daemon/observe.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01 */

Test(observe, the_age_is_taken_from_the_event_time_else_the_kafka_timestamp)
{
	cr_assert_eq(fd_observe_event_time(T0, T0 + 5000), T0);
	cr_assert_eq(fd_observe_event_time(0, T0 + 5000), T0 + 5000);
	cr_assert_eq(fd_observe_event_time(0, -1), -1);

	fd_observe o;
	fd_observe_init(&o);
	fd_observe_record(&o, T0, T0 + 9, true, 12, T0 + 40);            /* 40 ms */
	fd_observe_record(&o, 0, T0 + 1000, true, 3, T0 + 4 * 3600000);  /* ~4 h, by Kafka time */
	fd_observe_record(&o, T0 + 60000, -1, true, 1, T0);              /* ahead of the clock: 0 */
	fd_observe_record(&o, 0, -1, true, 1, T0);                       /* no time at all */
	fd_observe_record(&o, T0, -1, false, 250, T0 + 86400000);        /* no outputs */
	cr_assert_eq(o.event_age.count, 3);
	cr_assert_eq(o.event_age.sum_us, 40 + (4 * 3600000 - 1000), "ms");
	cr_assert_eq(o.event_age.counts[0], 1, "0 ms");
	cr_assert_eq(o.event_age.counts[3], 1, "40 ms: the 50 ms bucket");
	cr_assert_eq(o.event_age.counts[16], 1, "4 h - 1 s: the 4 h bucket");
	cr_assert_eq(o.undated, 1);
	cr_assert_eq(o.record_time.count, 5, "every record is timed");
	cr_assert_eq(o.record_time.sum_us, 12 + 3 + 1 + 1 + 250);
	cr_assert_eq(o.record_time.max_us, 250);
}
