/*
 * epochs.c — output epochs and committable input positions (see epochs.h).
 *
 * Epochs are numbered from 1; tokens are epoch numbers. Closed epochs wait
 * in a FIFO with their pending count and position snapshot; the open epoch
 * is the FIFO's tail. Sizes are tiny (a few epochs in flight, one entry per
 * input partition), so plain arrays and linear scans are the right tool.
 */
#include "kafka/epochs.h"

#include "base/grow.h"

#include <stdlib.h>
#include <string.h>

typedef struct epoch {
	uint64_t id;
	uint64_t pending;
	fd_position *positions;  /* snapshot at close */
	size_t n_positions;
	bool closed;
	bool released;
} epoch;

struct fd_epochs {
	fd_position *positions;  /* live positions */
	size_t n_positions, cap_positions;
	epoch *epochs;           /* FIFO: [head, n) ; the last one is open */
	size_t head, n, cap;
	uint64_t next_id;
	uint64_t pending;
	fd_position *out;        /* last committable snapshot handed out */
	size_t n_out;
};

static epoch *open_epoch(fd_epochs *ep)
{
	return &ep->epochs[ep->n - 1];
}

static int push_epoch(fd_epochs *ep)
{
	if (ep->head > 0 && ep->head == ep->n) {
		ep->head = ep->n = 0;
	}
	if (ep->n == ep->cap) {
		if (ep->head > 0) {
			memmove(ep->epochs, ep->epochs + ep->head, (ep->n - ep->head) * sizeof *ep->epochs);
			ep->n -= ep->head;
			ep->head = 0;
		} else if (fd_grow(&ep->epochs, &ep->cap, ep->n + 1, sizeof *ep->epochs, 8) != 0) {
			return -1;
		}
	}
	epoch *e = &ep->epochs[ep->n++];
	memset(e, 0, sizeof *e);
	e->id = ep->next_id++;
	return 0;
}

fd_epochs *fd_epochs_new(void)
{
	fd_epochs *ep = calloc(1, sizeof *ep);
	if (!ep)
		return NULL;
	ep->next_id = 1;
	if (push_epoch(ep) != 0) {
		free(ep);
		return NULL;
	}
	return ep;
}

void fd_epochs_free(fd_epochs *ep)
{
	if (!ep)
		return;
	for (size_t i = ep->head; i < ep->n; i++)
		free(ep->epochs[i].positions);
	free(ep->epochs);
	free(ep->positions);
	free(ep->out);
	free(ep);
}

int fd_epochs_input(fd_epochs *ep, int topic, int32_t partition, int64_t offset)
{
	for (size_t i = 0; i < ep->n_positions; i++) {
		fd_position *p = &ep->positions[i];
		if (p->topic == topic && p->partition == partition) {
			if (offset + 1 > p->offset)
				p->offset = offset + 1;
			return 0;
		}
	}
	if (fd_grow(&ep->positions, &ep->cap_positions, ep->n_positions + 1, sizeof *ep->positions,
	            16) != 0)
		return -1;
	ep->positions[ep->n_positions++] = (fd_position){ topic, partition, offset + 1 };
	return 0;
}

uint64_t fd_epochs_output(fd_epochs *ep)
{
	epoch *e = open_epoch(ep);
	e->pending++;
	ep->pending++;
	return e->id;
}

void fd_epochs_ack(fd_epochs *ep, uint64_t token)
{
	for (size_t i = ep->head; i < ep->n; i++) {
		if (ep->epochs[i].id == token) {
			if (ep->epochs[i].pending > 0) {
				ep->epochs[i].pending--;
				ep->pending--;
			}
			return;
		}
	}
}

uint64_t fd_epochs_close(fd_epochs *ep)
{
	epoch *e = open_epoch(ep);
	fd_position *snap = NULL;
	if (ep->n_positions) {
		snap = malloc(ep->n_positions * sizeof *snap);
		if (!snap)
			return 0;
		memcpy(snap, ep->positions, ep->n_positions * sizeof *snap);
	}
	e->positions = snap;
	e->n_positions = ep->n_positions;
	e->closed = true;
	uint64_t id = e->id;
	return push_epoch(ep) == 0 ? id : 0;
}

uint64_t fd_epochs_deferred_ready(const fd_epochs *ep)
{
	for (size_t i = ep->head; i < ep->n; i++) {
		const epoch *e = &ep->epochs[i];
		if (!e->closed)
			return 0;
		if (e->released)
			continue;
		return e->pending == 0 ? e->id : 0;
	}
	return 0;
}

uint64_t fd_epochs_output_to(fd_epochs *ep, uint64_t id)
{
	for (size_t i = ep->head; i < ep->n; i++) {
		if (ep->epochs[i].id == id) {
			ep->epochs[i].pending++;
			ep->pending++;
			return id;
		}
	}
	return fd_epochs_output(ep);
}

void fd_epochs_released(fd_epochs *ep, uint64_t id)
{
	for (size_t i = ep->head; i < ep->n; i++)
		if (ep->epochs[i].id == id)
			ep->epochs[i].released = true;
}

size_t fd_epochs_committable(fd_epochs *ep, const fd_position **out)
{
	size_t last = SIZE_MAX;
	for (size_t i = ep->head; i < ep->n; i++) {
		epoch *e = &ep->epochs[i];
		if (!e->closed || !e->released || e->pending > 0)
			break;
		last = i;
	}
	if (last == SIZE_MAX)
		return 0;
	free(ep->out);
	ep->out = ep->epochs[last].positions;
	ep->n_out = ep->epochs[last].n_positions;
	ep->epochs[last].positions = NULL;
	for (size_t i = ep->head; i < last; i++)
		free(ep->epochs[i].positions);
	ep->head = last + 1;
	*out = ep->out;
	return ep->n_out;
}

static void drop(fd_position *p, size_t *n, int topic, int32_t partition)
{
	for (size_t i = 0; i < *n; i++) {
		if (p[i].topic == topic && p[i].partition == partition) {
			p[i] = p[--*n];
			return;
		}
	}
}

void fd_epochs_forget(fd_epochs *ep, int topic, int32_t partition)
{
	drop(ep->positions, &ep->n_positions, topic, partition);
	for (size_t i = ep->head; i < ep->n; i++)
		if (ep->epochs[i].positions)
			drop(ep->epochs[i].positions, &ep->epochs[i].n_positions, topic, partition);
}

size_t fd_epochs_closed(const fd_epochs *ep)
{
	size_t n = 0;
	for (size_t i = ep->head; i < ep->n; i++)
		n += ep->epochs[i].closed;
	return n;
}

uint64_t fd_epochs_pending(const fd_epochs *ep)
{
	return ep->pending;
}

size_t fd_epochs_positions(const fd_epochs *ep, const fd_position **out)
{
	*out = ep->positions;
	return ep->n_positions;
}

int fd_epochs_set_positions(fd_epochs *ep, const fd_position *p, size_t n)
{
	ep->n_positions = 0;
	for (size_t i = 0; i < n; i++)
		if (fd_epochs_input(ep, p[i].topic, p[i].partition, p[i].offset - 1) != 0)
			return -1;
	return 0;
}
