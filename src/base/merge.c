/*
 * merge.c — co-partitioned input queues merged in event-time order (see
 * merge.h).
 *
 * Each queue is a ring that doubles when full. Partitions holding items are
 * listed in `active`, in the order they got their first item; fd_merge_pop
 * walks that list from a cursor so that every partition gets its turn.
 */
#include "base/merge.h"

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

#define UNSET INT64_MIN
#define RING_FIRST 16

typedef struct entry {
	int64_t ts;
	void *item;
} entry;

typedef struct queue {
	entry *ring;
	size_t cap, head, len;
	int64_t empty_since;  /* when it was first seen empty while others held items */
	bool caught_up;
} queue;

typedef struct part {
	queue q[FD_MERGE_INPUTS];
	size_t total;
} part;

struct fd_merge {
	int inputs;
	int rank[FD_MERGE_INPUTS];
	int64_t max_idle_ms;      /* an empty input read to its end is waited for */
	int64_t max_lag_ms;       /* an empty input not known to be at its end */
	part *parts;
	size_t n_parts;
	int32_t *active;
	size_t n_active, cap_active;
	size_t cursor;
	size_t total;
	int64_t wake_at;
	uint64_t forced;
};

static void queue_reset(queue *q)
{
	q->head = 0;
	q->len = 0;
	q->empty_since = UNSET;
	q->caught_up = false;
}

fd_merge *fd_merge_new(int inputs, const int *rank, int64_t max_idle_ms, int64_t max_lag_ms)
{
	if (inputs < 1 || inputs > FD_MERGE_INPUTS || max_idle_ms < 0 || max_lag_ms < 0)
		return NULL;
	fd_merge *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->inputs = inputs;
	for (int i = 0; i < inputs; i++)
		m->rank[i] = rank ? rank[i] : i;
	m->max_idle_ms = max_idle_ms;
	m->max_lag_ms = max_lag_ms;
	m->wake_at = INT64_MAX;
	return m;
}

void fd_merge_free(fd_merge *m)
{
	if (!m)
		return;
	for (size_t p = 0; p < m->n_parts; p++)
		for (int i = 0; i < m->inputs; i++)
			free(m->parts[p].q[i].ring);
	free(m->parts);
	free(m->active);
	free(m);
}

void fd_merge_set_waits(fd_merge *m, int64_t max_idle_ms, int64_t max_lag_ms)
{
	m->max_idle_ms = max_idle_ms < 0 ? 0 : max_idle_ms;
	m->max_lag_ms = max_lag_ms < 0 ? 0 : max_lag_ms;
}

/* The partition's slot, the array grown to hold it; NULL on failure. */
static part *part_at(fd_merge *m, int32_t partition)
{
	if (partition < 0)
		return NULL;
	size_t p = (size_t)partition;
	if (p >= m->n_parts) {
		size_t n = m->n_parts ? m->n_parts : 8;
		while (n <= p)
			n *= 2;
		part *x = realloc(m->parts, n * sizeof *x);
		if (!x)
			return NULL;
		memset(x + m->n_parts, 0, (n - m->n_parts) * sizeof *x);
		for (size_t i = m->n_parts; i < n; i++)
			for (int j = 0; j < FD_MERGE_INPUTS; j++)
				x[i].q[j].empty_since = UNSET;
		m->parts = x;
		m->n_parts = n;
	}
	return &m->parts[p];
}

static const part *part_find(const fd_merge *m, int32_t partition)
{
	return partition >= 0 && (size_t)partition < m->n_parts ? &m->parts[partition] : NULL;
}

static int ring_grow(queue *q)
{
	size_t n = q->cap ? q->cap * 2 : RING_FIRST;
	if (n > SIZE_MAX / sizeof(entry))
		return -1;
	entry *x = malloc(n * sizeof *x);
	if (!x)
		return -1;
	for (size_t i = 0; i < q->len; i++)
		x[i] = q->ring[(q->head + i) % q->cap];
	free(q->ring);
	q->ring = x;
	q->cap = n;
	q->head = 0;
	return 0;
}

static void active_remove(fd_merge *m, int32_t partition)
{
	for (size_t i = 0; i < m->n_active; i++) {
		if (m->active[i] != partition)
			continue;
		memmove(m->active + i, m->active + i + 1, (m->n_active - i - 1) * sizeof *m->active);
		m->n_active--;
		if (i < m->cursor)
			m->cursor--;
		if (m->cursor >= m->n_active)
			m->cursor = 0;
		return;
	}
}

int fd_merge_push(fd_merge *m, int32_t partition, int input, int64_t ts, void *item)
{
	if (input < 0 || input >= m->inputs)
		return -1;
	part *p = part_at(m, partition);
	if (!p)
		return -1;
	queue *q = &p->q[input];
	if (q->len == q->cap && ring_grow(q) != 0)
		return -1;
	if (p->total == 0 &&
	    fd_grow(&m->active, &m->cap_active, m->n_active + 1, sizeof *m->active, 16) != 0)
		return -1;
	q->ring[(q->head + q->len) % q->cap] = (entry){ ts, item };
	q->len++;
	q->caught_up = false;
	q->empty_since = UNSET;
	if (p->total++ == 0)
		m->active[m->n_active++] = partition;
	m->total++;
	return 0;
}

void fd_merge_caught_up(fd_merge *m, int32_t partition, int input, bool caught_up)
{
	if (input < 0 || input >= m->inputs)
		return;
	part *p = part_at(m, partition);
	if (!p)
		return;
	p->q[input].caught_up = caught_up;
	p->q[input].empty_since = UNSET;
}

/* The input whose head goes next in partition p at `now`, or -1 when it
 * must wait (*deadline lowered to when its wait ends) or holds nothing.
 * *forced tells that an input neither caught up nor delivered was passed
 * over. */
static int next_input(fd_merge *m, part *p, int64_t now, int64_t *deadline, bool *forced)
{
	int best = -1;
	bool waiting = false;
	*forced = false;
	for (int i = 0; i < m->inputs; i++) {
		queue *q = &p->q[i];
		if (q->len == 0) {
			int64_t limit = q->caught_up ? m->max_idle_ms : m->max_lag_ms;
			if (limit == 0)
				continue;
			if (q->empty_since == UNSET)
				q->empty_since = now;
			if (now - q->empty_since >= limit) {
				*forced = true;
				continue;
			}
			waiting = true;
			if (q->empty_since + limit < *deadline)
				*deadline = q->empty_since + limit;
			continue;
		}
		if (best < 0)
			best = i;
		else {
			int64_t a = q->ring[q->head].ts, b = p->q[best].ring[p->q[best].head].ts;
			if (a < b || (a == b && m->rank[i] < m->rank[best]))
				best = i;
		}
	}
	return waiting ? -1 : best;
}

size_t fd_merge_pop(fd_merge *m, int64_t now, fd_merge_out *out, size_t max)
{
	size_t n = 0;
	int64_t deadline = INT64_MAX;
	size_t visits = m->n_active;
	for (size_t v = 0; v < visits && n < max && m->n_active > 0; v++) {
		if (m->cursor >= m->n_active)
			m->cursor = 0;
		int32_t partition = m->active[m->cursor];
		part *p = &m->parts[partition];
		bool forced = false;
		int i;
		while (n < max && p->total > 0 &&
		       (i = next_input(m, p, now, &deadline, &forced)) >= 0) {
			queue *q = &p->q[i];
			out[n++] = (fd_merge_out){ q->ring[q->head].item, partition, i };
			q->head = (q->head + 1) % q->cap;
			q->len--;
			p->total--;
			m->total--;
			m->forced += forced;
		}
		if (p->total == 0)
			active_remove(m, partition); /* the cursor now points at the next one */
		else
			m->cursor++;
	}
	m->wake_at = deadline;
	return n;
}

int64_t fd_merge_wake_at(const fd_merge *m)
{
	return m->wake_at;
}

static void drop_part(fd_merge *m, int32_t partition,
                      void (*fn)(void *ctx, void *item, int32_t partition, int input), void *ctx)
{
	part *p = &m->parts[partition];
	for (int i = 0; i < m->inputs; i++) {
		queue *q = &p->q[i];
		if (q->len == 0)
			continue; /* its marks still hold */
		for (size_t j = 0; j < q->len; j++)
			if (fn)
				fn(ctx, q->ring[(q->head + j) % q->cap].item, partition, i);
		m->total -= q->len;
		queue_reset(q);
	}
	if (p->total > 0)
		active_remove(m, partition);
	p->total = 0;
}

void fd_merge_drop(fd_merge *m, int32_t partition,
                   void (*fn)(void *ctx, void *item, int32_t partition, int input), void *ctx)
{
	if (partition >= 0) {
		if ((size_t)partition < m->n_parts)
			drop_part(m, partition, fn, ctx);
		return;
	}
	for (size_t p = 0; p < m->n_parts; p++)
		drop_part(m, (int32_t)p, fn, ctx);
}

void fd_merge_forget(fd_merge *m, int32_t partition)
{
	for (size_t p = 0; p < m->n_parts; p++) {
		if (partition >= 0 && (size_t)partition != p)
			continue;
		for (int i = 0; i < m->inputs; i++) {
			m->parts[p].q[i].caught_up = false;
			m->parts[p].q[i].empty_since = UNSET;
		}
	}
}

size_t fd_merge_queued(const fd_merge *m, int32_t partition, int input)
{
	const part *p = part_find(m, partition);
	return p && input >= 0 && input < m->inputs ? p->q[input].len : 0;
}

size_t fd_merge_total(const fd_merge *m)
{
	return m->total;
}

uint64_t fd_merge_forced(const fd_merge *m)
{
	return m->forced;
}
