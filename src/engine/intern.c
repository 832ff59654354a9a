/*
 * intern.c — reference-counted string pool over fd_table (see intern.h).
 * The table owns the string copies; a record is the reference count; an id
 * is the table's stable record index plus one.
 */
#include "engine/intern.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/table.h"

struct fd_intern {
	fd_table *table;
};

fd_intern *fd_intern_new(void)
{
	fd_intern *in = calloc(1, sizeof *in);
	if (!in)
		return NULL;
	in->table = fd_table_new(sizeof(uint32_t), 1024);
	if (!in->table) {
		free(in);
		return NULL;
	}
	return in;
}

void fd_intern_free(fd_intern *in)
{
	if (!in)
		return;
	fd_table_free(in->table);
	free(in);
}

uint32_t fd_intern_ref(fd_intern *in, const char *s)
{
	if (!s || !*s)
		return 0;
	uint32_t *refs = fd_table_put(in->table, s, strlen(s), NULL);
	if (!refs)
		return 0;
	if (*refs < UINT32_MAX) /* a saturated count is never dropped: kept */
		(*refs)++;
	return fd_table_index(in->table, refs) + 1;
}

void fd_intern_hold(fd_intern *in, uint32_t id)
{
	uint32_t *refs = id ? fd_table_at(in->table, id - 1) : NULL;
	if (refs && *refs < UINT32_MAX)
		(*refs)++;
}

void fd_intern_drop(fd_intern *in, uint32_t id)
{
	uint32_t *refs = id ? fd_table_at(in->table, id - 1) : NULL;
	if (!refs || *refs == 0 || *refs == UINT32_MAX)
		return;
	if (--*refs == 0)
		fd_table_remove_record(in->table, refs);
}

const char *fd_intern_str(const fd_intern *in, uint32_t id)
{
	if (id == 0)
		return "";
	void *rec = fd_table_at(in->table, id - 1);
	if (!rec)
		return "";
	size_t len;
	return fd_table_key(in->table, rec, &len);
}

uint32_t fd_intern_refs(const fd_intern *in, uint32_t id)
{
	const uint32_t *refs = id ? fd_table_at(in->table, id - 1) : NULL;
	return refs ? *refs : 0;
}

uint32_t fd_intern_ids(const fd_intern *in)
{
	return fd_table_indices(in->table);
}

size_t fd_intern_count(const fd_intern *in)
{
	return fd_table_count(in->table);
}

size_t fd_intern_memory(const fd_intern *in)
{
	return sizeof *in + fd_table_memory(in->table);
}
