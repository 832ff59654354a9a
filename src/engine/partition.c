/*
 * partition.c — the engine's per-partition state: stream time and the
 * funnel counters in UTC day buckets (see partition.h and "partitions" in
 * funneld/engine.h).
 *
 * Bounded: one record per partition number, at most max_days buckets each
 * (a sorted array; a day older than every kept one, or the oldest one when
 * a new day would exceed the bound, folds into `before`). Partitions are
 * found by number in a directory that grows to the highest number seen
 * (at most FD_PARTITION_MAX entries).
 *
 * Save points (exactly_once): with one set, the first change of a
 * partition after it copies the partition (`saved`); a rollback swaps the
 * copies back. A partition created after the save point has no copy and
 * goes.
 *
 * What it is not: it never reads a clock, logs or allocates beyond the
 * buckets and the copies; on allocation failure a count is lost, never the
 * state.
 */
#include "engine/partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

typedef struct part {
	int64_t stream_ms;
	fd_funnel_counts before;
	fd_funnel_day *days;     /* ascending, distinct */
	size_t n_days, cap_days;
	bool changed;            /* since fd_parts_take_changed */
	uint64_t gen;            /* the save point its copy belongs to */
	struct part *saved;      /* its state at that save point; NULL: created since */
} part;

struct fd_parts {
	part **dir;              /* by partition number; NULL: none */
	size_t n_dir;
	int max_days;
	uint64_t gen;            /* the current save point; 0: none */
};

fd_parts *fd_parts_new(int max_days)
{
	fd_parts *s = calloc(1, sizeof *s);
	if (s)
		fd_parts_set_max_days(s, max_days);
	return s;
}

static void part_free(part *p)
{
	if (!p)
		return;
	part_free(p->saved);
	free(p->days);
	free(p);
}

void fd_parts_free(fd_parts *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_dir; i++)
		part_free(s->dir[i]);
	free(s->dir);
	free(s);
}

void fd_parts_set_max_days(fd_parts *s, int max_days)
{
	s->max_days = max_days < 1 ? 1 : max_days;
}

static part *find(const fd_parts *s, int32_t p)
{
	return p >= 0 && (size_t)p < s->n_dir ? s->dir[p] : NULL;
}

static part *create(fd_parts *s, int32_t p)
{
	if (p < 0 || p >= FD_PARTITION_MAX)
		return NULL;
	if ((size_t)p >= s->n_dir) {
		size_t n = (size_t)p + 1;
		part **dir = realloc(s->dir, n * sizeof(part *));
		if (!dir)
			return NULL;
		memset(dir + s->n_dir, 0, (n - s->n_dir) * sizeof(part *));
		s->dir = dir;
		s->n_dir = n;
	}
	if (!s->dir[p]) {
		s->dir[p] = calloc(1, sizeof **s->dir);
		if (s->dir[p])
			s->dir[p]->gen = s->gen; /* created since the save point: no copy */
	}
	return s->dir[p];
}

static part *copy_of(const part *p)
{
	part *c = malloc(sizeof *c);
	if (!c)
		return NULL;
	*c = *p;
	c->saved = NULL;
	c->days = NULL;
	c->cap_days = c->n_days;
	if (p->n_days > 0) {
		c->days = malloc(p->n_days * sizeof *c->days);
		if (!c->days) {
			free(c);
			return NULL;
		}
		memcpy(c->days, p->days, p->n_days * sizeof *c->days);
	}
	return c;
}

/* Partition `p`, created if new, about to change: copied first after a
 * save point. */
static part *writable(fd_parts *s, int32_t p)
{
	part *pt = create(s, p);
	if (!pt)
		return NULL;
	if (s->gen && pt->gen != s->gen) {
		part_free(pt->saved);
		pt->saved = copy_of(pt);
		pt->gen = s->gen;
	}
	pt->changed = true;
	return pt;
}

void fd_parts_note(fd_parts *s, int32_t partition, int64_t t)
{
	part *pt = find(s, partition);
	if (pt && pt->stream_ms >= t)
		return; /* the common case: nothing moves, nothing to copy */
	pt = writable(s, partition);
	if (pt && t > pt->stream_ms)
		pt->stream_ms = t;
}

int64_t fd_parts_stream_time(const fd_parts *s, int32_t partition)
{
	const part *pt = find(s, partition);
	return pt ? pt->stream_ms : 0;
}

static int64_t day_of(int64_t t)
{
	int64_t d = t / FD_MS_DAY;
	return t % FD_MS_DAY < 0 ? d - 1 : d;
}

static void add_counts(fd_funnel_counts *to, const fd_funnel_counts *from)
{
	for (int i = 0; i < FD_STAGE_COUNT; i++)
		to->entered[i] += from->entered[i];
	to->transitions += from->transitions;
	for (int i = 0; i < FD_MAX_SLAS; i++) {
		to->sla_warned[i] += from->sla_warned[i];
		to->sla_breached[i] += from->sla_breached[i];
		to->sla_met[i] += from->sla_met[i];
	}
}

/* Fold the oldest days until at most `max` are kept. */
static void fold(part *pt, size_t max)
{
	if (pt->n_days <= max || !pt->days)
		return;
	size_t n = pt->n_days - max;
	for (size_t i = 0; i < n; i++)
		add_counts(&pt->before, &pt->days[i].counts);
	memmove(pt->days, pt->days + n, max * sizeof *pt->days);
	pt->n_days = max;
}

/* The counters of day `day` (a new bucket if needed; `before` for a day
 * older than every kept one when no bucket is free); NULL without
 * memory. */
static fd_funnel_counts *bucket(const fd_parts *s, part *pt, int64_t day)
{
	size_t lo = 0, hi = pt->n_days;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pt->days[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pt->n_days && pt->days[lo].day == day)
		return &pt->days[lo].counts;
	size_t max = (size_t)s->max_days;
	if (lo == 0 && pt->n_days >= max)
		return &pt->before;
	if (fd_grow(&pt->days, &pt->cap_days, pt->n_days + 1, sizeof *pt->days, 8) != 0)
		return NULL;
	memmove(pt->days + lo + 1, pt->days + lo, (pt->n_days - lo) * sizeof *pt->days);
	memset(&pt->days[lo], 0, sizeof pt->days[lo]);
	pt->days[lo].day = day;
	pt->n_days++;
	if (pt->n_days > max) {
		size_t gone = pt->n_days - max; /* 1, unless max_days was lowered */
		fold(pt, max);
		if (lo < gone)
			return &pt->before; /* the new day folded with them */
		lo -= gone;
	}
	return &pt->days[lo].counts;
}

void fd_parts_count_entry(fd_parts *s, int32_t partition, fd_stage stage, bool transition,
                          int64_t t)
{
	part *pt = writable(s, partition);
	fd_funnel_counts *c = pt && (unsigned)stage < FD_STAGE_COUNT ? bucket(s, pt, day_of(t)) : NULL;
	if (!c)
		return;
	c->entered[stage]++;
	if (transition)
		c->transitions++;
}

void fd_parts_count_sla(fd_parts *s, int32_t partition, int sla, fd_sla_kind kind, int64_t t)
{
	part *pt = writable(s, partition);
	fd_funnel_counts *c = pt && sla >= 0 && sla < FD_MAX_SLAS ? bucket(s, pt, day_of(t)) : NULL;
	if (!c)
		return;
	switch (kind) {
	case FD_SLA_WARNING: c->sla_warned[sla]++; break;
	case FD_SLA_BREACH: c->sla_breached[sla]++; break;
	case FD_SLA_MET: c->sla_met[sla]++; break;
	default: break;
	}
}

size_t fd_parts_list(const fd_parts *s, int32_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_dir; i++)
		if (s->dir[i]) {
			if (n < max)
				out[n] = (int32_t)i;
			n++;
		}
	return n;
}

int fd_parts_open(fd_parts *s, int32_t partition)
{
	bool fresh = !find(s, partition);
	part *pt = create(s, partition);
	if (pt && fresh)
		pt->gen = s->gen ? s->gen - 1 : 0; /* committed as it is: a rollback keeps it */
	return pt ? 0 : -1;
}

void fd_parts_drop(fd_parts *s, int32_t partition)
{
	part *pt = find(s, partition);
	if (!pt)
		return;
	part_free(pt);
	s->dir[partition] = NULL;
}

bool fd_parts_export(fd_parts *s, int32_t partition, const char *const *names, int n_names,
                     fd_partition_state *out)
{
	const part *pt = find(s, partition);
	memset(out, 0, sizeof *out);
	if (!pt)
		return false;
	out->partition = partition;
	out->stream_time_ms = pt->stream_ms;
	out->before = pt->before;
	out->days = pt->days;
	out->n_days = pt->n_days;
	out->n_slas = n_names < FD_MAX_SLAS ? n_names : FD_MAX_SLAS;
	for (int i = 0; i < out->n_slas; i++)
		out->sla_names[i] = names[i];
	return true;
}

/* `c`'s SLA counters re-indexed: new index i takes old index map[i]. */
static void remap_counts(fd_funnel_counts *c, const int *map, int n)
{
	fd_funnel_counts old = *c;
	memset(c->sla_warned, 0, sizeof c->sla_warned);
	memset(c->sla_breached, 0, sizeof c->sla_breached);
	memset(c->sla_met, 0, sizeof c->sla_met);
	for (int i = 0; i < n && i < FD_MAX_SLAS; i++) {
		int o = map[i];
		if (o < 0 || o >= FD_MAX_SLAS)
			continue;
		c->sla_warned[i] = old.sla_warned[o];
		c->sla_breached[i] = old.sla_breached[o];
		c->sla_met[i] = old.sla_met[o];
	}
}

static void remap_part(part *pt, const int *map, int n)
{
	for (; pt; pt = pt->saved) {
		remap_counts(&pt->before, map, n);
		for (size_t i = 0; i < pt->n_days; i++)
			remap_counts(&pt->days[i].counts, map, n);
	}
}

void fd_parts_remap(fd_parts *s, const int *map, int n)
{
	for (size_t i = 0; i < s->n_dir; i++)
		if (s->dir[i])
			remap_part(s->dir[i], map, n);
}

static int by_day(const void *a, const void *b)
{
	int64_t x = ((const fd_funnel_day *)a)->day, y = ((const fd_funnel_day *)b)->day;
	return (x > y) - (x < y);
}

fd_status fd_parts_import(fd_parts *s, const fd_partition_state *st, const char *const *names,
                          int n_names, char *errstr, size_t errstr_size)
{
	if (st->partition < 0 || st->partition >= FD_PARTITION_MAX) {
		snprintf(errstr, errstr_size, "partition %d out of range 0..%d", (int)st->partition,
		         FD_PARTITION_MAX - 1);
		return FD_ERR_INVALID;
	}
	part *fresh = calloc(1, sizeof *fresh);
	if (!fresh || (st->n_days > 0 && !(fresh->days = malloc(st->n_days * sizeof *fresh->days)))) {
		free(fresh);
		snprintf(errstr, errstr_size, "out of memory importing partition %d", (int)st->partition);
		return FD_ERR_NOMEM;
	}
	/* the checkpoint's SLA order to ours, by name */
	int map[FD_MAX_SLAS];
	for (int i = 0; i < FD_MAX_SLAS; i++)
		map[i] = -1;
	for (int i = 0; i < n_names && i < FD_MAX_SLAS; i++) {
		for (int j = 0; j < st->n_slas && j < FD_MAX_SLAS; j++)
			if (st->sla_names[j] && strcmp(st->sla_names[j], names[i]) == 0)
				map[i] = j;
	}
	fresh->stream_ms = st->stream_time_ms;
	fresh->before = st->before;
	remap_counts(&fresh->before, map, n_names);
	if (st->n_days > 0)
		memcpy(fresh->days, st->days, st->n_days * sizeof *fresh->days);
	fresh->cap_days = st->n_days;
	if (st->n_days > 1)
		qsort(fresh->days, st->n_days, sizeof *fresh->days, by_day);
	size_t n = 0;
	for (size_t i = 0; i < st->n_days; i++) {
		remap_counts(&fresh->days[i].counts, map, n_names);
		if (n > 0 && fresh->days[n - 1].day == fresh->days[i].day)
			add_counts(&fresh->days[n - 1].counts, &fresh->days[i].counts);
		else
			fresh->days[n++] = fresh->days[i];
	}
	fresh->n_days = n;
	fold(fresh, (size_t)s->max_days);
	if (!create(s, st->partition)) {
		part_free(fresh);
		snprintf(errstr, errstr_size, "out of memory importing partition %d", (int)st->partition);
		return FD_ERR_NOMEM;
	}
	/* the imported state is the committed one: a save point in force
	 * copies it at its first change */
	part_free(s->dir[st->partition]);
	fresh->gen = s->gen ? s->gen - 1 : 0;
	s->dir[st->partition] = fresh;
	return FD_OK;
}

size_t fd_parts_take_changed(fd_parts *s, int32_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_dir && n < max; i++)
		if (s->dir[i] && s->dir[i]->changed) {
			s->dir[i]->changed = false;
			out[n++] = (int32_t)i;
		}
	return n;
}

bool fd_parts_funnel(const fd_parts *s, int32_t partition, int64_t from_day, int64_t to_day,
                     fd_funnel_counts *sum, bool *exact)
{
	const part *pt = find(s, partition);
	if (!pt)
		return false;
	bool folded = false;
	for (int i = 0; i < FD_STAGE_COUNT && !folded; i++)
		folded = pt->before.entered[i] != 0;
	for (int i = 0; i < FD_MAX_SLAS && !folded; i++)
		folded = pt->before.sla_warned[i] || pt->before.sla_breached[i] || pt->before.sla_met[i];
	if (from_day == INT64_MIN)
		add_counts(sum, &pt->before);
	else if (folded && exact && (pt->n_days == 0 || from_day < pt->days[0].day))
		*exact = false;
	for (size_t i = 0; i < pt->n_days; i++)
		if (pt->days[i].day >= from_day && pt->days[i].day <= to_day)
			add_counts(sum, &pt->days[i].counts);
	return true;
}

void fd_parts_save(fd_parts *s)
{
	s->gen++;
	for (size_t i = 0; i < s->n_dir; i++)
		if (s->dir[i]) {
			part_free(s->dir[i]->saved);
			s->dir[i]->saved = NULL;
		}
}

void fd_parts_rollback(fd_parts *s)
{
	for (size_t i = 0; s->gen && i < s->n_dir; i++) {
		part *pt = s->dir[i];
		if (!pt || pt->gen != s->gen)
			continue;
		part *back = pt->saved;
		pt->saved = NULL;
		part_free(pt);
		s->dir[i] = back; /* NULL: created since, gone */
		if (back)
			back->changed = true;
	}
	fd_parts_save(s);
}
