/*
 * intern.c — string pool over fd_table (see intern.h). The table owns the
 * string copies; an id is the table's stable record index plus one.
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

uint32_t fd_intern_id(fd_intern *in, const char *s)
{
	if (!s || !*s)
		return 0;
	bool created;
	void *rec = fd_table_put(in->table, s, strlen(s), &created);
	if (!rec)
		return 0;
	return fd_table_index(in->table, rec) + 1;
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

size_t fd_intern_memory(const fd_intern *in)
{
	return sizeof *in + fd_table_memory(in->table);
}
