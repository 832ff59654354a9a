/*
 * timer.c — the deadline queue (see timer.h).
 *
 * A 4-ary min-heap of compact 24-byte entries {due, key, order} where
 * `order` packs the insertion sequence number (upper 39 bits) above the
 * handle's slot index (lower 25 bits). Comparing (due, key, order) is the
 * queue's total order; the slot index in the low bits never decides a
 * comparison, because sequence numbers are unique.
 *
 * A separate slot table maps a handle's slot index to the entry's heap
 * position: one 32-bit word per slot, holding a 7-bit generation above a
 * 25-bit field that is the heap position while the slot is live, or the next
 * free slot while it is on the free list. A handle is live exactly when its
 * generation matches and the entry at that heap position names the same
 * slot; a free slot's index appears in no heap entry, so no separate "live"
 * bit is needed. Slot 0 is never used, so handle 0 is never issued.
 *
 * Free slots form a FIFO list and are recycled only once more than
 * FD_TIMERS_REUSE_DELAY are free; until then the slot table grows. This
 * spaces out the reuse of any one slot so the 7-bit generation is enough to
 * reject stale handles in practice.
 *
 * Sequence numbers run out after 2^39 adds; the next add then renumbers:
 * the heap is sorted (a sorted array is a valid heap) and every entry gets
 * its rank as its new sequence number, which keeps every relative order.
 * That is an O(n log n) pause once per 2^39 adds (months at 100k adds/s).
 *
 * No I/O, no clock, no global state. Not thread-safe.
 */
#include "engine/timer.h"

#include <stdlib.h>

#define INDEX_BITS 25
#define INDEX_MASK ((UINT32_C(1) << INDEX_BITS) - 1)
#define GEN_SHIFT INDEX_BITS
#define GEN_MASK (~INDEX_MASK)
#define SLOT_LIMIT (UINT32_C(1) << INDEX_BITS) /* slot indices are < this */
#define SEQ_LIMIT (UINT64_C(1) << (64 - INDEX_BITS))
#define ARITY 4

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

_Static_assert(SEQ_LIMIT == FD_TIMERS_SEQ_LIMIT, "sequence bits and slot bits fill 64");
_Static_assert(FD_TIMERS_MAX == SLOT_LIMIT - 1, "slot 0 is never used");

typedef struct timer_entry {
	int64_t due;
	uint64_t key;
	uint64_t order; /* seq << INDEX_BITS | slot index */
} timer_entry;

struct fd_timers {
	timer_entry *heap;
	uint32_t count;      /* entries in heap[] */
	uint32_t heap_cap;
	uint32_t *slots;     /* gen << GEN_SHIFT | (heap position or next free) */
	uint32_t n_slots;    /* slots handed out so far, including unused slot 0 */
	uint32_t slot_cap;
	uint32_t free_head;  /* FIFO of free slots; 0 = empty */
	uint32_t free_tail;
	uint32_t free_count;
	uint64_t next_seq;
};

static uint32_t entry_slot(const timer_entry *e)
{
	return (uint32_t)(e->order & INDEX_MASK);
}

static bool entry_less(const timer_entry *a, const timer_entry *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	if (a->key != b->key)
		return a->key < b->key;
	return a->order < b->order;
}

/* Store `e` at heap position `pos` and point its slot at it. */
static void place(fd_timers *t, uint32_t pos, const timer_entry *e)
{
	uint32_t slot = entry_slot(e);
	t->heap[pos] = *e;
	t->slots[slot] = (t->slots[slot] & GEN_MASK) | pos;
}

static void sift_up(fd_timers *t, uint32_t pos, timer_entry e)
{
	while (pos > 0) {
		uint32_t parent = (pos - 1) / ARITY;
		if (!entry_less(&e, &t->heap[parent]))
			break;
		place(t, pos, &t->heap[parent]);
		pos = parent;
	}
	place(t, pos, &e);
}

static void sift_down(fd_timers *t, uint32_t pos, timer_entry e)
{
	for (;;) {
		uint64_t first = (uint64_t)pos * ARITY + 1;
		if (first >= t->count)
			break;
		/* The 16 grandchildren are contiguous: fetch them while this
		 * level is compared (~1.7x faster pops on a 10M heap). */
		uint64_t grand = first * ARITY + 1;
		if (grand < t->count) {
			const char *g = (const char *)&t->heap[grand];
			for (size_t off = 0; off < (size_t)ARITY * ARITY * sizeof *t->heap; off += 64)
				PREFETCH(g + off);
		}
		uint32_t best = (uint32_t)first;
		uint32_t end = first + ARITY < t->count ? (uint32_t)first + ARITY : t->count;
		for (uint32_t c = best + 1; c < end; c++)
			if (entry_less(&t->heap[c], &t->heap[best]))
				best = c;
		if (!entry_less(&t->heap[best], &e))
			break;
		place(t, pos, &t->heap[best]);
		pos = best;
	}
	place(t, pos, &e);
}

/* Put `e` (already in the heap at pos) where it belongs after its due time
 * changed or it replaced another entry. */
static void reposition(fd_timers *t, uint32_t pos, timer_entry e)
{
	if (pos > 0 && entry_less(&e, &t->heap[(pos - 1) / ARITY]))
		sift_up(t, pos, e);
	else
		sift_down(t, pos, e);
}

static void remove_at(fd_timers *t, uint32_t pos)
{
	t->count--;
	if (pos == t->count)
		return;
	reposition(t, pos, t->heap[t->count]);
}

/* Heap position of a pending handle, or -1. */
static int64_t find(const fd_timers *t, fd_timer_handle h)
{
	uint32_t slot = h & INDEX_MASK;
	if (slot == 0 || slot >= t->n_slots)
		return -1;
	uint32_t word = t->slots[slot];
	if ((word & GEN_MASK) != (h & GEN_MASK))
		return -1;
	uint32_t pos = word & INDEX_MASK;
	if (pos >= t->count || entry_slot(&t->heap[pos]) != slot)
		return -1;
	return pos;
}

static void free_slot(fd_timers *t, uint32_t slot)
{
	uint32_t gen = ((t->slots[slot] >> GEN_SHIFT) + 1) << GEN_SHIFT;
	t->slots[slot] = gen; /* next free = 0: end of list */
	if (t->free_tail != 0)
		t->slots[t->free_tail] = (t->slots[t->free_tail] & GEN_MASK) | slot;
	else
		t->free_head = slot;
	t->free_tail = slot;
	t->free_count++;
}

/* Make room for one more entry and one more slot. False on allocation
 * failure, with nothing changed. */
static bool reserve_one(fd_timers *t)
{
	if (t->count == t->heap_cap) {
		uint32_t cap = t->heap_cap < 16 ? 16 : t->heap_cap * 2;
		if (cap > FD_TIMERS_MAX)
			cap = FD_TIMERS_MAX;
		timer_entry *heap = realloc(t->heap, (size_t)cap * sizeof *heap);
		if (heap == NULL)
			return false;
		t->heap = heap;
		t->heap_cap = cap;
	}
	bool need_new_slot = t->free_count <= FD_TIMERS_REUSE_DELAY && t->n_slots < SLOT_LIMIT;
	if (need_new_slot && t->n_slots == t->slot_cap) {
		uint32_t cap = t->slot_cap < 16 ? 16 : t->slot_cap * 2;
		if (cap > SLOT_LIMIT)
			cap = SLOT_LIMIT;
		uint32_t *slots = realloc(t->slots, (size_t)cap * sizeof *slots);
		if (slots == NULL) {
			/* Recycling a little early beats failing the add. */
			if (t->free_count > 0)
				return true;
			return false;
		}
		t->slots = slots;
		t->slot_cap = cap;
	}
	return true;
}

static uint32_t take_slot(fd_timers *t)
{
	bool recycle = t->free_count > FD_TIMERS_REUSE_DELAY || t->n_slots == t->slot_cap;
	if (recycle && t->free_count > 0) {
		uint32_t slot = t->free_head;
		t->free_head = t->slots[slot] & INDEX_MASK;
		if (t->free_head == 0)
			t->free_tail = 0;
		t->free_count--;
		return slot;
	}
	uint32_t slot = t->n_slots++;
	t->slots[slot] = 0;
	return slot;
}

static int cmp_entries(const void *a, const void *b)
{
	const timer_entry *x = a, *y = b;
	return entry_less(x, y) ? -1 : entry_less(y, x) ? 1 : 0;
}

/* Sequence numbers exhausted: give every entry its rank instead. */
static void renumber(fd_timers *t)
{
	qsort(t->heap, t->count, sizeof *t->heap, cmp_entries);
	for (uint32_t i = 0; i < t->count; i++) {
		timer_entry e = t->heap[i];
		e.order = (uint64_t)i << INDEX_BITS | entry_slot(&e);
		place(t, i, &e);
	}
	t->next_seq = t->count;
}

fd_timers *fd_timers_new(size_t capacity_hint)
{
	fd_timers *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	if (capacity_hint > FD_TIMERS_MAX)
		capacity_hint = FD_TIMERS_MAX;
	if (capacity_hint > 0) {
		size_t n_slots = capacity_hint + FD_TIMERS_REUSE_DELAY + 1;
		if (n_slots > SLOT_LIMIT)
			n_slots = SLOT_LIMIT;
		t->heap = malloc(capacity_hint * sizeof *t->heap);
		t->slots = malloc(n_slots * sizeof *t->slots);
		if (t->heap == NULL || t->slots == NULL) {
			fd_timers_free(t);
			return NULL;
		}
		t->heap_cap = (uint32_t)capacity_hint;
		t->slot_cap = (uint32_t)n_slots;
	} else {
		t->slots = malloc(16 * sizeof *t->slots);
		if (t->slots == NULL) {
			free(t);
			return NULL;
		}
		t->slot_cap = 16;
	}
	t->slots[0] = 0; /* never handed out */
	t->n_slots = 1;
	return t;
}

void fd_timers_free(fd_timers *t)
{
	if (t == NULL)
		return;
	free(t->heap);
	free(t->slots);
	free(t);
}

fd_timer_handle fd_timers_add(fd_timers *t, int64_t due_ms, uint64_t key)
{
	if (t->count >= FD_TIMERS_MAX || !reserve_one(t))
		return 0;
	if (t->next_seq >= SEQ_LIMIT)
		renumber(t);
	uint32_t slot = take_slot(t);
	timer_entry e = {
		.due = due_ms,
		.key = key,
		.order = t->next_seq++ << INDEX_BITS | slot,
	};
	uint32_t pos = t->count++;
	sift_up(t, pos, e);
	return (t->slots[slot] & GEN_MASK) | slot;
}

bool fd_timers_remove(fd_timers *t, fd_timer_handle h)
{
	int64_t pos = find(t, h);
	if (pos < 0)
		return false;
	remove_at(t, (uint32_t)pos);
	free_slot(t, h & INDEX_MASK);
	return true;
}

bool fd_timers_update(fd_timers *t, fd_timer_handle h, int64_t due_ms)
{
	int64_t pos = find(t, h);
	if (pos < 0)
		return false;
	timer_entry e = t->heap[pos];
	e.due = due_ms;
	reposition(t, (uint32_t)pos, e);
	return true;
}

bool fd_timers_get(const fd_timers *t, fd_timer_handle h, int64_t *due_ms, uint64_t *key)
{
	int64_t pos = find(t, h);
	if (pos < 0)
		return false;
	if (due_ms != NULL)
		*due_ms = t->heap[pos].due;
	if (key != NULL)
		*key = t->heap[pos].key;
	return true;
}

int64_t fd_timers_next(const fd_timers *t)
{
	return t->count > 0 ? t->heap[0].due : INT64_MAX;
}

bool fd_timers_peek(const fd_timers *t, int64_t *due_ms, uint64_t *key)
{
	if (t->count == 0)
		return false;
	if (due_ms != NULL)
		*due_ms = t->heap[0].due;
	if (key != NULL)
		*key = t->heap[0].key;
	return true;
}

bool fd_timers_pop_due(fd_timers *t, int64_t now, int64_t *due_ms, uint64_t *key)
{
	if (t->count == 0 || t->heap[0].due > now)
		return false;
	timer_entry top = t->heap[0];
	remove_at(t, 0);
	free_slot(t, entry_slot(&top));
	if (due_ms != NULL)
		*due_ms = top.due;
	if (key != NULL)
		*key = top.key;
	return true;
}

size_t fd_timers_count(const fd_timers *t)
{
	return t->count;
}

size_t fd_timers_memory(const fd_timers *t)
{
	return sizeof *t + (size_t)t->heap_cap * sizeof *t->heap +
	       (size_t)t->slot_cap * sizeof *t->slots;
}

void fd_timers_test_set_next_seq(fd_timers *t, uint64_t seq)
{
	if (seq > SEQ_LIMIT)
		seq = SEQ_LIMIT;
	if (seq > t->next_seq)
		t->next_seq = seq;
}
