/*
 * rules.c — lookups over the engine's rules (funneld/rules.h): event types
 * and SLAs by name, profile field names.
 *
 * What it is not: no validation (src/config validates a whole fd_rules
 * before the engine sees it) and no evaluation (fit.c, score.c,
 * lifecycle.c).
 */
#include "funneld/rules.h"

#include <string.h>

static const char *const field_names[FD_FIELD_COUNT] = {
	[FD_FIELD_EMAIL] = "email",
	[FD_FIELD_EMAIL_DOMAIN] = "email_domain",
	[FD_FIELD_JOB_TITLE] = "job_title",
	[FD_FIELD_SENIORITY] = "seniority",
	[FD_FIELD_DEPARTMENT] = "department",
	[FD_FIELD_INDUSTRY] = "industry",
	[FD_FIELD_COUNTRY] = "country",
	[FD_FIELD_EMPLOYEE_COUNT] = "employee_count",
	[FD_FIELD_ANNUAL_REVENUE] = "annual_revenue",
	[FD_FIELD_TECHNOLOGIES] = "technologies",
	[FD_FIELD_LEAD_SOURCE] = "lead_source",
};

const char *fd_field_name(fd_field f)
{
	if ((int)f < 0 || f >= FD_FIELD_COUNT)
		return "?";
	return field_names[f];
}

int fd_rules_event_type(const fd_rules *r, const char *type)
{
	for (int i = 0; i < r->n_event_types; i++)
		if (strcmp(r->event_types[i].type, type) == 0)
			return i;
	return -1;
}

int fd_rules_sla(const fd_rules *r, const char *name)
{
	for (int i = 0; i < r->n_slas; i++)
		if (strcmp(r->slas[i].name, name) == 0)
			return i;
	return -1;
}
