/*
 * demo_agenda.c — the virtual-time to-do list (see demo_agenda.h): a plain
 * array-backed binary heap. Not a timer wheel and not thread-safe; the
 * demo's actors live on one loop.
 */
#include "demo/demo_agenda.h"

#include "base/grow.h"

#include <stdlib.h>

static bool before(const fd_demo_task *x, const fd_demo_task *y)
{
	return x->at_ms < y->at_ms || (x->at_ms == y->at_ms && x->seq < y->seq);
}

int fd_demo_agenda_add(fd_demo_agenda *a, int64_t at_ms, int32_t lead, uint32_t what,
                       uint32_t gen)
{
	if (fd_grow(&a->heap, &a->cap, a->n + 1, sizeof *a->heap, 256) != 0)
		return -1;
	fd_demo_task t = { at_ms, a->seq++, lead, what, gen };
	size_t i = a->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&t, &a->heap[parent]))
			break;
		a->heap[i] = a->heap[parent];
		i = parent;
	}
	a->heap[i] = t;
	return 0;
}

int64_t fd_demo_agenda_next(const fd_demo_agenda *a)
{
	return a->n > 0 ? a->heap[0].at_ms : INT64_MAX;
}

bool fd_demo_agenda_pop(fd_demo_agenda *a, int64_t now, fd_demo_task *out)
{
	if (a->n == 0 || a->heap[0].at_ms > now)
		return false;
	*out = a->heap[0];
	fd_demo_task last = a->heap[--a->n];
	size_t i = 0;
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= a->n)
			break;
		if (child + 1 < a->n && before(&a->heap[child + 1], &a->heap[child]))
			child++;
		if (!before(&a->heap[child], &last))
			break;
		a->heap[i] = a->heap[child];
		i = child;
	}
	if (a->n > 0)
		a->heap[i] = last;
	return true;
}

void fd_demo_agenda_free(fd_demo_agenda *a)
{
	free(a->heap);
	a->heap = NULL;
	a->n = a->cap = 0;
}
