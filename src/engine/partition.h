/*
 * partition.h — the engine's per-partition state (see "partitions" in
 * funneld/engine.h): stream time, and the funnel counters in UTC day
 * buckets, for each input partition number. engine.c owns one fd_parts and
 * calls it from the entry points; the fd_engine_partition* functions are
 * thin wrappers.
 *
 * What it is not: no lead knowledge, no I/O, no clock. The SLA counters are
 * indexed by the engine's SLA order; names only appear at export, import
 * and remap.
 */
#ifndef FD_ENGINE_PARTITION_H
#define FD_ENGINE_PARTITION_H

#include "funneld/engine.h"

typedef struct fd_parts fd_parts;

/* NULL on allocation failure. `max_days` is clamped to >= 1. */
fd_parts *fd_parts_new(int max_days);
void fd_parts_free(fd_parts *s);
void fd_parts_set_max_days(fd_parts *s, int max_days);

/* A record of `partition` at event time t was taken: the stream time moves
 * to t if later. */
void fd_parts_note(fd_parts *s, int32_t partition, int64_t t);
int64_t fd_parts_stream_time(const fd_parts *s, int32_t partition);

/* Counting, in the day of `t`: an entry into `stage` (a transition when
 * `transition`, a created lead otherwise), an SLA event of SLA `sla`. */
void fd_parts_count_entry(fd_parts *s, int32_t partition, fd_stage stage, bool transition,
                          int64_t t);
void fd_parts_count_sla(fd_parts *s, int32_t partition, int sla, fd_sla_kind kind, int64_t t);

size_t fd_parts_list(const fd_parts *s, int32_t *out, size_t max);
int fd_parts_open(fd_parts *s, int32_t partition);
void fd_parts_drop(fd_parts *s, int32_t partition);

/* Export with the SLA names `names` (the engine's order). */
bool fd_parts_export(fd_parts *s, int32_t partition, const char *const *names, int n_names,
                     fd_partition_state *out);
/* Import, SLA counters mapped from st->sla_names to `names`. */
fd_status fd_parts_import(fd_parts *s, const fd_partition_state *st, const char *const *names,
                          int n_names, char *errstr, size_t errstr_size);
/* The SLA order changed (a reload): map[i] is the old index of new SLA i,
 * or -1 (counted from zero). */
void fd_parts_remap(fd_parts *s, const int *map, int n);

size_t fd_parts_take_changed(fd_parts *s, int32_t *out, size_t max);
bool fd_parts_funnel(const fd_parts *s, int32_t partition, int64_t from_day, int64_t to_day,
                     fd_funnel_counts *sum, bool *exact);
void fd_parts_save(fd_parts *s);
void fd_parts_rollback(fd_parts *s);

#endif
