/*
 * reload.c — the engine on reloaded rules (see reload.h).
 */
#include "daemon/reload.h"

#include <stdio.h>

fd_engine *fd_reload_engine(fd_engine *cur, const fd_config *fresh, char *errstr,
                            size_t errstr_size)
{
	fd_engine_stats st;
	fd_engine_stats_get(cur, &st);
	/* the table sized for every lead now: the move never grows it */
	fd_engine *next = fd_engine_new(&fresh->rules, (size_t)st.leads);
	if (!next) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	if (fresh->settings.max_leads > 0)
		fd_engine_set_max_leads(next, (size_t)fresh->settings.max_leads);
	fd_engine_set_evict_scan(next, (size_t)fresh->settings.ttl_scan);
	fd_engine_set_lead_ttl(next, fresh->settings.lead_ttl_ms);
	fd_engine_set_funnel_days(next, (int)fresh->settings.funnel_days);
	fd_engine_set_huge_pages(next, fresh->settings.huge_pages);
	fd_engine_adopt(next, cur);
	return next;
}
