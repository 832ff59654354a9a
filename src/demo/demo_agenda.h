/*
 * demo_agenda.h — a to-do list in virtual time for the demo's simulated
 * actors (the traffic generator's next event per lead, the sales team's
 * pending calls and decisions).
 *
 * A binary min-heap of small tasks ordered by (virtual time, insertion
 * order). The owner drains what is due on each tick of the demo's loop, so
 * thousands of pending actions cost one libevent timer, not thousands. It
 * knows nothing about what a task means: `what` and `gen` are the owner's.
 */
#ifndef FD_DAEMON_DEMO_AGENDA_H
#define FD_DAEMON_DEMO_AGENDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fd_demo_task {
	int64_t at_ms;  /* virtual time it is due */
	uint64_t seq;   /* insertion order: equal times come out FIFO */
	int32_t lead;   /* lead index */
	uint32_t what;  /* the owner's action code */
	uint32_t gen;   /* the owner's generation stamp (to drop stale tasks) */
} fd_demo_task;

typedef struct fd_demo_agenda {
	fd_demo_task *heap;
	size_t n, cap;
	uint64_t seq;
} fd_demo_agenda; /* zero-initialised is empty */

/* Add a task. 0, or -1 when out of memory (the task is dropped). */
int fd_demo_agenda_add(fd_demo_agenda *a, int64_t at_ms, int32_t lead, uint32_t what,
                       uint32_t gen);

/* When the earliest task is due; INT64_MAX when there is none. */
int64_t fd_demo_agenda_next(const fd_demo_agenda *a);

/* Pop the earliest task due at or before `now`: true and *out, or false. */
bool fd_demo_agenda_pop(fd_demo_agenda *a, int64_t now, fd_demo_task *out);

/* Release the heap; the agenda is empty and reusable afterwards. */
void fd_demo_agenda_free(fd_demo_agenda *a);

#endif
