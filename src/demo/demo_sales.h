/*
 * demo_sales.h — the demo's simulated sales team: it reads the daemon's
 * StageTransition output from Kafka like a real sales-alerting consumer
 * would, and answers with SalesActivity records on the activities input
 * topic, in virtual time.
 *
 * Policy (each decision drawn from the lead's own random stream, so a seed
 * replays the same team):
 *   MQL          ASSIGN soon; TOUCH + ACCEPT within the first-touch SLA for
 *                ~75%, late (after the breach) for ~15%, never for ~10%
 *   SAL          decided within the SAL SLA for ~85% (late for the rest,
 *                which the SLA's expiry action overtakes): QUALIFY ~60%,
 *                REVERT ~15%, REJECT BAD_TIMING with a review date ~15%,
 *                REJECT BAD_FIT ~10%
 *   SQL          TOUCH, then OPPORTUNITY (~90%) or LOST NO_BUDGET
 *   OPPORTUNITY  WON (~40%) or LOST (~60%) after a few virtual days
 * SLA deadlines are read from the configuration (the SLA that opens on MQL
 * and is met by TOUCH, the one that opens on SAL), with per-source
 * overrides. A lead that moves on cancels what was planned for its old
 * stage, so the team never sends an activity the lifecycle would refuse.
 */
#ifndef FD_DAEMON_DEMO_SALES_H
#define FD_DAEMON_DEMO_SALES_H

#include <stdint.h>

#include "config/config.h"
#include "funneld/types.h"

typedef struct fd_demo_sales fd_demo_sales;

typedef struct fd_demo_sales_stats {
	uint64_t transitions_read;         /* StageTransitions consumed */
	uint64_t undecodable;
	uint64_t activities[FD_ACT_COUNT]; /* produced, by kind */
	uint64_t failed;                   /* could not be produced */
	uint64_t cancelled;                /* planned, overtaken by a stage change */
} fd_demo_sales_stats;

/* Create the team: a consumer assigned to partitions 0..partitions-1 of
 * the transitions topic from the beginning, and a producer for the
 * activities topic. `cfg` is borrowed and must outlive the team. NULL with
 * errstr on failure. */
fd_demo_sales *fd_demo_sales_new(const fd_config *cfg, const char *bootstrap, int partitions,
                                 int leads, uint64_t seed, char *errstr, size_t errstr_size);

/* Read the transitions that arrived (without blocking) and plan the
 * team's answers; `now` is the virtual time: an answer is never planned
 * before it (a transition read late is answered late, not in the past, so
 * that activities go out in virtual-time order). */
void fd_demo_sales_read(fd_demo_sales *s, int64_t now);

/* Send every planned activity due at or before virtual time `until`, in
 * time order. */
void fd_demo_sales_tick(fd_demo_sales *s, int64_t until);

/* Virtual time of the next planned activity; INT64_MAX: none. */
int64_t fd_demo_sales_next_due(const fd_demo_sales *s);

void fd_demo_sales_stats_get(const fd_demo_sales *s, fd_demo_sales_stats *st);

/* Close the consumer, flush the producer (at most timeout_ms), release
 * everything. NULL is a no-op. */
void fd_demo_sales_free(fd_demo_sales *s, int timeout_ms);

#endif
