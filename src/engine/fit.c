/*
 * fit.c — fit rules, grades and hard disqualifiers (see fit.h).
 *
 * Matching is ASCII case-insensitive. A missing value (NULL or empty string,
 * 0 for the numeric fields, no technologies) never matches, negated or not:
 * an unknown country is not an "unserved country".
 */
#include "engine/fit.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool present(const char *s)
{
	return s && *s;
}

static bool str_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncasecmp(s, prefix, n) == 0;
}

static bool str_contains(const char *s, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return true;
	for (; *s; s++)
		if (strncasecmp(s, needle, n) == 0)
			return true;
	return false;
}

/* Test one present string value against the rule (without negation). */
static bool test_string(const fd_match *m, const char *v)
{
	switch (m->op) {
	case FD_MATCH_EQUALS:
		return m->n_values > 0 && strcasecmp(v, m->values[0]) == 0;
	case FD_MATCH_ONE_OF:
		for (int i = 0; i < m->n_values; i++)
			if (strcasecmp(v, m->values[i]) == 0)
				return true;
		return false;
	case FD_MATCH_PREFIX:
		for (int i = 0; i < m->n_values; i++)
			if (str_prefix(v, m->values[i]))
				return true;
		return false;
	case FD_MATCH_CONTAINS:
		for (int i = 0; i < m->n_values; i++)
			if (str_contains(v, m->values[i]))
				return true;
		return false;
	case FD_MATCH_RANGE:
	case FD_MATCH_OP_COUNT:
		break;
	}
	return false;
}

static bool test_number(const fd_match *m, double v)
{
	if (m->op != FD_MATCH_RANGE)
		return false;
	if (m->has_min && v < m->min)
		return false;
	if (m->has_max && v >= m->max)
		return false;
	return true;
}

static const char *email_domain(const char *email)
{
	if (!present(email))
		return NULL;
	const char *at = strrchr(email, '@');
	return at && at[1] ? at + 1 : NULL;
}

static const char *string_field(const fd_profile *p, fd_field f)
{
	switch (f) {
	case FD_FIELD_EMAIL: return p->email;
	case FD_FIELD_EMAIL_DOMAIN: return email_domain(p->email);
	case FD_FIELD_JOB_TITLE: return p->job_title;
	case FD_FIELD_SENIORITY: return p->seniority;
	case FD_FIELD_DEPARTMENT: return p->department;
	case FD_FIELD_INDUSTRY: return p->industry;
	case FD_FIELD_COUNTRY: return p->country;
	case FD_FIELD_LEAD_SOURCE: return p->lead_source;
	default: return NULL;
	}
}

bool fd_fit_match(const fd_match *m, const fd_profile *p)
{
	if (m->field == FD_FIELD_EMPLOYEE_COUNT || m->field == FD_FIELD_ANNUAL_REVENUE) {
		int64_t v = m->field == FD_FIELD_EMPLOYEE_COUNT ? p->employee_count
		                                                : p->annual_revenue;
		if (v == 0)
			return false;
		return test_number(m, (double)v) != m->negate;
	}
	if (m->field == FD_FIELD_TECHNOLOGIES) {
		bool any_present = false, hit = false;
		for (size_t i = 0; i < p->n_technologies; i++) {
			if (!present(p->technologies[i]))
				continue;
			any_present = true;
			if (test_string(m, p->technologies[i]))
				hit = true;
		}
		if (!any_present)
			return false;
		return hit != m->negate;
	}
	const char *v = string_field(p, m->field);
	if (!present(v))
		return false;
	return test_string(m, v) != m->negate;
}

int fd_fit_grade(const fd_rules *cfg, double fit)
{
	for (int g = 0; g < 3; g++)
		if (fit >= cfg->grade_min[g])
			return g;
	return FD_GRADE_D;
}

void fd_fit_evaluate(const fd_rules *cfg, const fd_profile *p, fd_fit_result *out)
{
	double points = 0;
	for (int i = 0; i < cfg->n_fit_rules; i++)
		if (fd_fit_match(&cfg->fit_rules[i].match, p))
			points += cfg->fit_rules[i].points;
	out->points = points;
	out->grade = fd_fit_grade(cfg, points);
	out->disqualifier = -1;
	for (int i = 0; i < cfg->n_disqualifiers; i++) {
		if (fd_fit_match(&cfg->disqualifiers[i].match, p)) {
			out->disqualifier = i;
			break;
		}
	}
}
