/*
 * timer.h — the deadline queue behind SLAs and nurture reviews.
 *
 * fd_timers is a priority queue of (due_ms, key) pairs: add, remove, update,
 * peek and pop the earliest, each O(log n), sized for tens of millions of
 * pending deadlines. The key is opaque to the queue (the engine packs a lead
 * index and what the deadline is for). The queue never reads a clock: the
 * caller passes `now` to fd_timers_pop_due(). It does no I/O, holds no global
 * state and is not thread-safe (one queue per engine, one thread).
 *
 * It is not a timer wheel and it does not call anybody back: the caller
 * drains due entries in a loop and acts on them.
 *
 * Order is total and deterministic: by due_ms, then key ascending, then the
 * order in which the timers were added (fd_timers_update keeps a timer's
 * place in that insertion order). The same sequence of calls always pops in
 * the same order.
 *
 * Handles. fd_timers_add returns a handle that stays valid until the timer
 * fires (pop) or is removed; the handle's slot is then recycled. A handle
 * carries a 7-bit generation and slots are recycled first-in first-out and
 * only once FD_TIMERS_REUSE_DELAY other slots are free, so a stale handle is
 * rejected (remove/update return false) unless its slot was recycled 128
 * times since, i.e. after at least 2 million other timers ended. That is a
 * safety net, not a licence: callers drop a handle when its timer fires or
 * is removed.
 *
 * Memory: 24 bytes per pending timer in the heap plus 4 bytes per handle
 * slot, with array doubling slack (see fd_timers_memory).
 */
#ifndef FD_ENGINE_TIMER_H
#define FD_ENGINE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fd_timers fd_timers;
typedef uint32_t fd_timer_handle; /* 0 is never a valid handle */

/* At most this many timers can be pending at once (2^25 - 1); an add beyond
 * it fails like an allocation failure. */
#define FD_TIMERS_MAX ((size_t)((UINT32_C(1) << 25) - 1))
/* Free handle slots are recycled only while more than this many are free. */
#define FD_TIMERS_REUSE_DELAY 16384
/* Insertion sequence numbers are below this; reaching it renumbers. */
#define FD_TIMERS_SEQ_LIMIT (UINT64_C(1) << 39)

/* Create an empty queue with room for `capacity_hint` timers before it has
 * to grow (0 is fine). NULL on allocation failure. Free with
 * fd_timers_free(), which releases everything the queue holds. */
fd_timers *fd_timers_new(size_t capacity_hint);
void fd_timers_free(fd_timers *t); /* NULL is a no-op */

/* Schedule `key` at due_ms; returns a handle, or 0 on allocation failure
 * (or when FD_TIMERS_MAX timers are already pending). */
fd_timer_handle fd_timers_add(fd_timers *t, int64_t due_ms, uint64_t key);

/* Remove a pending timer; false if the handle is not pending (already fired,
 * removed, or never issued by this queue). */
bool fd_timers_remove(fd_timers *t, fd_timer_handle h);

/* Change the due time of a pending timer (its key and its place in insertion
 * order are kept); false if the handle is not pending. */
bool fd_timers_update(fd_timers *t, fd_timer_handle h, int64_t due_ms);

/* Look at a pending timer without changing it: true and *due_ms, *key set
 * (either pointer may be NULL) if the handle is pending, else false. */
bool fd_timers_get(const fd_timers *t, fd_timer_handle h, int64_t *due_ms, uint64_t *key);

/* Earliest due time, INT64_MAX if empty. */
int64_t fd_timers_next(const fd_timers *t);

/* The earliest timer, left in place: true and *due_ms, *key set (either
 * pointer may be NULL), or false when none is pending. */
bool fd_timers_peek(const fd_timers *t, int64_t *due_ms, uint64_t *key);

/* If the earliest timer is due (due_ms <= now), remove it, store its due and
 * key (either pointer may be NULL), and return true; else false. */
bool fd_timers_pop_due(fd_timers *t, int64_t now, int64_t *due_ms, uint64_t *key);

size_t fd_timers_count(const fd_timers *t);

/* Bytes held by the queue: the struct plus the allocated capacity of its
 * arrays (not just the part in use). */
size_t fd_timers_memory(const fd_timers *t);

/* Testing only: move the next insertion sequence number forward (never
 * back, at most to FD_TIMERS_SEQ_LIMIT), so tests can drive the queue across
 * the renumbering that otherwise happens once every 2^39 adds. */
void fd_timers_test_set_next_seq(fd_timers *t, uint64_t seq);

#endif
