/*
 * checkpoint.c — the changelog's per-partition checkpoint record
 * (PartitionState in state.proto): a partition's stream time and funnel
 * counters, under the reserved key FD_WIRE_CHECKPOINT_KEY.
 *
 * Encoding packs one PartitionState with protobuf-c: days oldest first,
 * stages in stage order, SLAs in the engine's order, zero counters left
 * out, so a state always encodes to the same bytes. Decoding fills the
 * caller's fd_partition_state; its day array and SLA names live in the
 * arena until its next decode or reset.
 *
 * Not here: what the counters mean (src/engine/partition.c) and when the
 * record is written or read (src/kafka/changelog.c, restore.c).
 */
#include <stdlib.h>
#include <string.h>

#include "funneld/v1/state.pb-c.h"
#include "wire/wire_internal.h"

typedef Funneld__V1__PartitionState pb_state;
typedef Funneld__V1__PartitionState__Counts pb_counts;
typedef Funneld__V1__PartitionState__StageEntries pb_entries;
typedef Funneld__V1__PartitionState__SlaCounts pb_sla;

bool fd_wire_is_checkpoint_key(const void *key, size_t len)
{
	return len == FD_WIRE_CHECKPOINT_KEY_LEN &&
	       memcmp(key, FD_WIRE_CHECKPOINT_KEY, FD_WIRE_CHECKPOINT_KEY_LEN) == 0;
}

/* Room for one bucket's sub-messages (at most every stage and SLA). */
typedef struct counts_room {
	pb_counts msg;
	pb_entries entries[FD_STAGE_COUNT];
	pb_entries *entry_ptrs[FD_STAGE_COUNT];
	pb_sla slas[FD_MAX_SLAS];
	pb_sla *sla_ptrs[FD_MAX_SLAS];
} counts_room;

static void put_counts(counts_room *r, const fd_funnel_counts *c, int64_t day,
                       const fd_partition_state *st)
{
	funneld__v1__partition_state__counts__init(&r->msg);
	r->msg.day = day;
	r->msg.transitions = c->transitions;
	size_t n = 0;
	for (int s = 0; s < FD_STAGE_COUNT; s++) {
		if (!c->entered[s])
			continue;
		pb_entries *x = &r->entries[n];
		funneld__v1__partition_state__stage_entries__init(x);
		x->stage = (Funneld__V1__Stage)fd_wire_stage_to_proto((fd_stage)s);
		x->entered = c->entered[s];
		r->entry_ptrs[n++] = x;
	}
	r->msg.n_entered = n;
	r->msg.entered = r->entry_ptrs;
	n = 0;
	for (int i = 0; i < st->n_slas && i < FD_MAX_SLAS; i++) {
		if (!c->sla_warned[i] && !c->sla_breached[i] && !c->sla_met[i])
			continue;
		pb_sla *x = &r->slas[n];
		funneld__v1__partition_state__sla_counts__init(x);
		x->name = (char *)(uintptr_t)(st->sla_names[i] ? st->sla_names[i] : "");
		x->warned = c->sla_warned[i];
		x->breached = c->sla_breached[i];
		x->met = c->sla_met[i];
		r->sla_ptrs[n++] = x;
	}
	r->msg.n_slas = n;
	r->msg.slas = r->sla_ptrs;
}

int fd_wire_encode_partition_state(const fd_partition_state *st, uint8_t **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	if (st->n_slas < 0 || st->n_slas > FD_MAX_SLAS || (st->n_days && !st->days))
		return -1;
	counts_room *rooms = calloc(st->n_days + 1, sizeof *rooms);
	pb_counts **days = calloc(st->n_days + 1, sizeof(pb_counts *));
	if (!rooms || !days) {
		free(rooms);
		free(days);
		return -1;
	}
	pb_state msg;
	funneld__v1__partition_state__init(&msg);
	msg.partition = st->partition;
	msg.stream_time_ms = st->stream_time_ms;
	put_counts(&rooms[0], &st->before, 0, st);
	msg.before = &rooms[0].msg;
	for (size_t i = 0; i < st->n_days; i++) {
		put_counts(&rooms[i + 1], &st->days[i].counts, st->days[i].day, st);
		days[i] = &rooms[i + 1].msg;
	}
	msg.n_days = st->n_days;
	msg.days = days;
	size_t n = funneld__v1__partition_state__get_packed_size(&msg);
	uint8_t *out = malloc(n ? n : 1);
	if (out)
		funneld__v1__partition_state__pack(&msg, out);
	free(rooms);
	free(days);
	if (!out)
		return -1;
	*buf = out;
	*len = n;
	return 0;
}

/* The counters of one bucket; SLA names are looked up in (and added to)
 * out->sla_names. */
static int get_counts(const pb_counts *m, fd_funnel_counts *c, fd_partition_state *out,
                      char *errstr, size_t errstr_size)
{
	memset(c, 0, sizeof *c);
	if (!m)
		return 0;
	c->transitions = m->transitions;
	for (size_t i = 0; i < m->n_entered; i++) {
		fd_stage s;
		if (fd_wire_stage_from_proto((int)m->entered[i]->stage, &s) != 0)
			return fd_wire_fail(errstr, errstr_size, "partition state: unknown stage %d",
			                    (int)m->entered[i]->stage);
		c->entered[s] += m->entered[i]->entered;
	}
	for (size_t i = 0; i < m->n_slas; i++) {
		const pb_sla *x = m->slas[i];
		int k = 0;
		while (k < out->n_slas && strcmp(out->sla_names[k], x->name) != 0)
			k++;
		if (k == out->n_slas) {
			if (out->n_slas == FD_MAX_SLAS)
				return fd_wire_fail(errstr, errstr_size, "partition state: more than %d SLAs",
				                    FD_MAX_SLAS);
			out->sla_names[out->n_slas++] = x->name;
		}
		c->sla_warned[k] += x->warned;
		c->sla_breached[k] += x->breached;
		c->sla_met[k] += x->met;
	}
	return 0;
}

int fd_wire_decode_partition_state(const void *buf, size_t len, fd_wire_arena *a,
                                   fd_partition_state *out, char *errstr, size_t errstr_size)
{
	memset(out, 0, sizeof *out);
	fd_wire_arena_reset(a);
	pb_state *m = funneld__v1__partition_state__unpack(NULL, len, buf);
	if (!m)
		return fd_wire_fail(errstr, errstr_size, "partition state: not a PartitionState message");
	fd_wire_arena_hold_message(a, &m->base);
	fd_funnel_day *days = NULL;
	if (m->n_days > 0 && !(days = fd_wire_arena_alloc(a, m->n_days * sizeof *days))) {
		memset(out, 0, sizeof *out);
		return fd_wire_fail(errstr, errstr_size, "partition state: out of memory");
	}
	out->partition = m->partition;
	out->stream_time_ms = m->stream_time_ms;
	if (get_counts(m->before, &out->before, out, errstr, errstr_size) != 0)
		goto fail;
	for (size_t i = 0; i < m->n_days; i++) {
		days[i].day = m->days[i]->day;
		if (get_counts(m->days[i], &days[i].counts, out, errstr, errstr_size) != 0)
			goto fail;
	}
	out->days = days;
	out->n_days = m->n_days;
	return 0;
fail:
	memset(out, 0, sizeof *out);
	return -1;
}
