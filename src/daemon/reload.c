/*
 * reload.c — moving the leads to reloaded rules (see reload.h).
 */
#include "daemon/reload.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct migrate {
	fd_engine *from, *to;
	fd_lead_state *st;
	bool failed;
	char err[256];
} migrate;

static void migrate_lead(void *ctx, const char *lead_id, int32_t partition)
{
	(void)partition;
	migrate *m = ctx;
	if (m->failed)
		return;
	if (!fd_engine_export(m->from, lead_id, m->st) ||
	    fd_engine_import(m->to, m->st, m->err, sizeof m->err) != FD_OK)
		m->failed = true;
}

fd_engine *fd_reload_engine(fd_engine *cur, const fd_config *fresh, char *errstr,
                            size_t errstr_size)
{
	fd_engine *next = fd_engine_new(&fresh->rules, 0);
	migrate m = { cur, next, malloc(sizeof(fd_lead_state)), false, "" };
	if (!next || !m.st) {
		snprintf(errstr, errstr_size, "out of memory");
		fd_engine_free(next);
		free(m.st);
		return NULL;
	}
	if (fresh->settings.max_leads > 0)
		fd_engine_set_max_leads(next, (size_t)fresh->settings.max_leads);
	fd_engine_set_evict_scan(next, (size_t)fresh->settings.ttl_scan);
	fd_engine_foreach(cur, -1, migrate_lead, &m);
	free(m.st);
	if (m.failed) {
		snprintf(errstr, errstr_size, "cannot move the leads to the new rules (%s)", m.err);
		fd_engine_free(next);
		return NULL;
	}
	fd_engine_carry_stats(next, cur);
	return next;
}
