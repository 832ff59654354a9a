/*
 * check.c — the rules a single setting cannot check on its own: the `check`
 * hooks of the list rows (a duplicate name, exactly one match test per rule,
 * a cap with both points and window, an SLA that can be met) and, once
 * everything is stored, the rules across sections (grade thresholds
 * decrease, frequency windows fit the bucket, topics are distinct) and
 * what would load but never work (no engagement event types; no way for a
 * lead to qualify: no hand raise, no reachable grade in the MQL matrix
 * with points to earn, no reachable fast-track grade).
 *
 * Each check reads what config.c already stored and typed, fills in what
 * follows from it (a rule's line, a match's operator, an SLA's default
 * scope) and reports the first problem through fd_config_fail, pointing at
 * the setting that caused it. It does not parse, type or range-check values
 * (config.c does, by the table) and never changes the tree.
 */
#include "config/config_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- list element checks --------------------------------------------------- */

static const config_setting_t *fd_config_sibling_member(const config_setting_t *elem, int index,
                                                        const char *member)
{
	const config_setting_t *list = config_setting_parent(elem);
	const config_setting_t *other = config_setting_get_elem(list, (unsigned)index);
	const config_setting_t *m = other != NULL ? config_setting_get_member(other, member) : NULL;
	return m != NULL ? m : other;
}

/* "name 'x' is used twice" with where the first one is. */
static int fd_config_duplicate(fd_config_ctx *ctx, const config_setting_t *elem, int first,
                               const char *member, const char *shown, const char *what,
                               const char *value)
{
	char where[FD_CFG_WHERE_MAX];
	fd_config_where(ctx, fd_config_sibling_member(elem, first, member), where, sizeof where);
	return fd_config_fail(ctx, config_setting_get_member(elem, member),
	                      "%s.%s: duplicate %s '%s' (first at %s)", shown, member, what, value, where);
}

int fd_config_check_event(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
                          int index, const char *shown)
{
	fd_event_rule *rules = array;
	fd_event_rule *r = &rules[index];
	r->line = (int)config_setting_source_line(elem);
	for (int j = 0; j < index; j++)
		if (strcmp(rules[j].type, r->type) == 0)
			return fd_config_duplicate(ctx, elem, j, "type", shown, "event type", r->type);

	const config_setting_t *cap = config_setting_get_member(elem, "cap");
	if (r->cap_points > 0 && r->cap_window_ms == 0)
		return fd_config_fail(ctx, cap, "%s.cap: needs a window", shown);
	if (r->cap_window_ms > 0 && r->cap_points == 0)
		return fd_config_fail(ctx, cap, "%s.cap: needs points > 0", shown);
	if (r->cap_points > 0 && r->points <= 0)
		return fd_config_fail(ctx, cap, "%s.cap: only positive points can be capped", shown);
	return 0;
}

static bool fd_config_numeric_field(fd_field f)
{
	return f == FD_FIELD_EMPLOYEE_COUNT || f == FD_FIELD_ANNUAL_REVENUE;
}

static int fd_config_check_match(fd_config_ctx *ctx, const config_setting_t *elem, fd_match *m,
                                 const char *shown)
{
	static const char *const ops[FD_MATCH_OP_COUNT] = {
		[FD_MATCH_EQUALS] = "equals", [FD_MATCH_ONE_OF] = "one_of", [FD_MATCH_PREFIX] = "prefix",
		[FD_MATCH_CONTAINS] = "contains", [FD_MATCH_RANGE] = "range",
	};
	int found = -1;
	for (int op = 0; op < FD_MATCH_OP_COUNT; op++) {
		const config_setting_t *s = config_setting_get_member(elem, ops[op]);
		if (s == NULL)
			continue;
		if (found >= 0) {
			/* point at the one an override brought in, if any */
			const config_setting_t *first = config_setting_get_member(elem, ops[found]);
			const config_setting_t *at = config_setting_get_hook(first) != NULL ? first : s;
			return fd_config_fail(ctx, at, "%s: '%s' and '%s' cannot be combined; use one test per rule",
			                      shown, ops[found], ops[op]);
		}
		found = op;
	}
	if (found < 0)
		return fd_config_fail(ctx, elem, "%s: needs one of equals, one_of, prefix, contains or range",
		                      shown);
	m->op = (fd_match_op)found;
	if (m->op == FD_MATCH_EQUALS)
		m->n_values = 1;

	const config_setting_t *op_at = config_setting_get_member(elem, ops[found]);
	bool numeric = fd_config_numeric_field(m->field);
	if (m->op == FD_MATCH_RANGE && !numeric)
		return fd_config_fail(ctx, op_at,
		                      "%s.range: field %s is not numeric (range works on employee_count and "
		                      "annual_revenue)",
		                      shown, fd_field_name(m->field));
	if (m->op != FD_MATCH_RANGE && numeric)
		return fd_config_fail(ctx, op_at, "%s.%s: field %s is numeric; use range", shown, ops[found],
		                      fd_field_name(m->field));
	if (m->op == FD_MATCH_RANGE) {
		if (!m->has_min && !m->has_max)
			return fd_config_fail(ctx, op_at, "%s.range: needs min, max or both", shown);
		if (m->has_min && m->has_max && !(m->min < m->max))
			return fd_config_fail(ctx, op_at, "%s.range: min (%g) must be below max (%g)", shown,
			                      m->min, m->max);
	}
	return 0;
}

int fd_config_check_fit_rule(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
                             int index, const char *shown)
{
	fd_fit_rule *rules = array;
	fd_fit_rule *r = &rules[index];
	r->line = (int)config_setting_source_line(elem);
	for (int j = 0; j < index; j++)
		if (strcmp(rules[j].name, r->name) == 0)
			return fd_config_duplicate(ctx, elem, j, "name", shown, "fit rule name", r->name);
	return fd_config_check_match(ctx, elem, &r->match, shown);
}

int fd_config_check_disqualifier(fd_config_ctx *ctx, const config_setting_t *elem,
                                 void *array, int index, const char *shown)
{
	fd_disqualifier *rules = array;
	fd_disqualifier *r = &rules[index];
	r->line = (int)config_setting_source_line(elem);
	for (int j = 0; j < index; j++)
		if (strcmp(rules[j].name, r->name) == 0)
			return fd_config_duplicate(ctx, elem, j, "name", shown, "disqualifier name", r->name);
	return fd_config_check_match(ctx, elem, &r->match, shown);
}

int fd_config_check_sla_override(fd_config_ctx *ctx, const config_setting_t *elem,
                                 void *array, int index, const char *shown)
{
	fd_sla_override *o = array;
	for (int j = 0; j < index; j++)
		if (strcmp(o[j].source, o[index].source) == 0)
			return fd_config_duplicate(ctx, elem, j, "source", shown, "source", o[index].source);
	return 0;
}

int fd_config_check_sla(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
                        int index, const char *shown)
{
	fd_sla_def *slas = array;
	fd_sla_def *s = &slas[index];
	s->line = (int)config_setting_source_line(elem);
	for (int j = 0; j < index; j++)
		if (strcmp(slas[j].name, s->name) == 0)
			return fd_config_duplicate(ctx, elem, j, "name", shown, "SLA name", s->name);

	uint32_t own = UINT32_C(1) << s->stage;
	const config_setting_t *scope = config_setting_get_member(elem, "scope");
	if (scope == NULL)
		s->scope = own;
	else if (!(s->scope & own))
		return fd_config_fail(ctx, scope, "%s.scope: must include the SLA's stage %s", shown,
		                      fd_stage_name(s->stage));
	if (s->satisfied_by == 0 && !s->satisfied_by_exit)
		return fd_config_fail(ctx, elem, "%s: can never be met; set satisfied_by, satisfied_by_exit or both",
		                      shown);
	if (s->has_expiry_action && s->expiry_stage == s->stage)
		return fd_config_fail(ctx, config_setting_get_member(elem, "on_expiry"),
		                      "%s.on_expiry: %s is the SLA's own stage", shown, fd_stage_name(s->stage));
	return 0;
}

/* ---- rules across sections ------------------------------------------------- */

/* The first of `paths` present in the tree, to point an error at. */
static const config_setting_t *fd_config_first_of(const fd_config_ctx *ctx, const char *const *paths,
                                                  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *s = fd_config_lookup(ctx, paths[i]);
		if (s != NULL)
			return s;
	}
	return NULL;
}

static int fd_config_check_grades(fd_config_ctx *ctx)
{
	const double *g = ctx->cfg->rules.grade_min;
	static const char *const paths[] = { "fit.grades.A", "fit.grades.B", "fit.grades.C" };
	for (int i = 1; i < 3; i++) {
		if (g[i] < g[i - 1])
			continue;
		const char *const at[] = { paths[i], paths[i - 1], "fit.grades", "fit" };
		return fd_config_fail(ctx, fd_config_first_of(ctx, at, 4),
		                      "fit.grades: %c (%g) must be below %c (%g); thresholds are strictly "
		                      "decreasing",
		                      'A' + i, g[i], 'A' + i - 1, g[i - 1]);
	}
	return 0;
}

static int fd_config_check_windows(fd_config_ctx *ctx)
{
	const fd_rules *ec = &ctx->cfg->rules;
	static const char *const at[] = { "frequency.windows", "frequency.bucket", "frequency" };
	char bucket[32], window[32];
	fd_config_format_ms(ec->bucket_ms, bucket, sizeof bucket);
	for (int i = 0; i < ec->n_windows; i++) {
		fd_config_format_ms(ec->windows_ms[i], window, sizeof window);
		if (ec->windows_ms[i] % ec->bucket_ms != 0)
			return fd_config_fail(ctx, fd_config_first_of(ctx, at, 3),
			                      "frequency.windows: %s is not a multiple of frequency.bucket (%s)",
			                      window, bucket);
		if (ec->windows_ms[i] / ec->bucket_ms > FD_FREQ_BUCKETS)
			return fd_config_fail(ctx, fd_config_first_of(ctx, at, 3),
			                      "frequency.windows: %s needs %lld buckets of %s, at most %d are kept",
			                      window, (long long)(ec->windows_ms[i] / ec->bucket_ms), bucket,
			                      FD_FREQ_BUCKETS);
	}
	return 0;
}

static int fd_config_check_topics(fd_config_ctx *ctx)
{
	for (size_t i = 0; i < fd_config_table_size; i++) {
		const fd_config_def *a = &fd_config_table[i];
		if (!(a->flags & FD_CFG_F_TOPIC))
			continue;
		for (size_t j = i + 1; j < fd_config_table_size; j++) {
			const fd_config_def *b = &fd_config_table[j];
			if (!(b->flags & FD_CFG_F_TOPIC))
				continue;
			const char *ta = (const char *)ctx->cfg + a->offset;
			const char *tb = (const char *)ctx->cfg + b->offset;
			if (strcmp(ta, tb) != 0)
				continue;
			const char *const at[] = { b->path, a->path, "topics" };
			return fd_config_fail(ctx, fd_config_first_of(ctx, at, 3),
			                      "%s: topic \"%s\" is already used by %s", b->path, tb, a->path);
		}
	}
	return 0;
}

/* ---- what would load but never work --------------------------------------- */

/* No event types: every engagement event is refused (or worth nothing). */
static int fd_config_check_events(fd_config_ctx *ctx)
{
	const fd_rules *r = &ctx->cfg->rules;
	if (r->n_event_types > 0)
		return 0;
	/* point at the file's own settings, not at an override that created
	   the group on its way (it is not what is wrong) */
	const config_setting_t *where = fd_config_lookup(ctx, "scoring.events");
	if (where == NULL) {
		where = fd_config_lookup(ctx, "scoring");
		if (where != NULL && config_setting_get_hook(where) != NULL)
			where = NULL;
	}
	return fd_config_fail(ctx, where,
	                      "scoring.events: no engagement event types, so every engagement event "
	                      "would %s; list the types your sources send, with their points (see "
	                      "config/funneld.conf)",
	                      r->unknown_types_score_zero ? "count for nothing"
	                                                  : "be refused as a dead letter");
}

/* Can a lead with fit in [lo, hi] have grade g? */
static bool fd_config_grade_reachable(const fd_rules *r, int g, double lo, double hi)
{
	double top = g == FD_GRADE_A ? INFINITY : r->grade_min[g - 1];    /* exclusive */
	double bottom = g == FD_GRADE_D ? -INFINITY : r->grade_min[g];    /* inclusive */
	return lo < top && hi >= bottom;
}

/* "grade D only", "grades C and D", "grades B, C and D" */
static void fd_config_grade_list(const bool *grades, char *buf, size_t size)
{
	int n = 0, seen = 0;
	for (int g = 0; g < FD_GRADE_COUNT; g++)
		n += grades[g];
	size_t used = (size_t)snprintf(buf, size, n == 1 ? "grade" : "grades");
	for (int g = 0; g < FD_GRADE_COUNT && used < size; g++) {
		if (!grades[g])
			continue;
		seen++;
		const char *sep = seen == 1 ? " " : seen == n ? " and " : ", ";
		int w = snprintf(buf + used, size - used, "%s%c", sep, fd_grade_letter(g));
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (n == 1 && used < size)
		snprintf(buf + used, size - used, " only");
}

/* A lead becomes an MQL by a hand raise, by its engagement crossing its
 * grade's threshold, or goes to SAL by fast track (an event on a fast-track
 * channel, grade good enough). Refuse a configuration where none can ever
 * happen: the funnel would never start. Fit reaches at most the sum of the
 * positive fit rules and at least the sum of the negative ones (0 without
 * a profile). */
static int fd_config_check_qualify(fd_config_ctx *ctx)
{
	const fd_rules *r = &ctx->cfg->rules;
	bool hand_type = false, positive = false;
	for (int i = 0; i < r->n_event_types; i++) {
		hand_type |= r->event_types[i].intent == FD_INTENT_HAND_RAISE;
		positive |= r->event_types[i].points > 0;
	}
	if (r->hand_raise_mql && hand_type)
		return 0;

	double lo = 0, hi = 0;
	for (int i = 0; i < r->n_fit_rules; i++) {
		double p = r->fit_rules[i].points;
		if (p < 0)
			lo += p;
		else
			hi += p;
	}
	bool reachable[FD_GRADE_COUNT];
	bool any_listed = false, listed_reachable = false;
	for (int g = 0; g < FD_GRADE_COUNT; g++) {
		reachable[g] = fd_config_grade_reachable(r, g, lo, hi);
		if (!r->mql_enabled_for_grade[g])
			continue;
		any_listed = true;
		if (!reachable[g])
			continue;
		listed_reachable = true;
		if (positive || r->mql_engagement[g] <= 0)
			return 0;
	}
	for (int g = 0; g <= r->fast_track_min_grade && g < FD_GRADE_COUNT; g++)
		if (reachable[g] && r->n_fast_track_sources > 0)
			return 0;

	char hand[64], score[256], grades[64];
	snprintf(hand, sizeof hand, "%s",
	         r->hand_raise_mql ? "no event type has intent \"hand_raise\""
	                           : "mql.hand_raise is false");
	fd_config_grade_list(reachable, grades, sizeof grades);
	if (!any_listed)
		snprintf(score, sizeof score, "mql.matrix lists no grade");
	else if (!listed_reachable)
		snprintf(score, sizeof score,
		         "mql.matrix lists no grade a lead can have (fit rules give %g to %g: %s)", lo, hi,
		         grades);
	else
		snprintf(score, sizeof score, "no event type has positive points");
	static const char *const at[] = { "mql", "scoring.events", "fit", "scoring" };
	return fd_config_fail(ctx, fd_config_first_of(ctx, at, 4),
	                      "no lead can ever become an MQL: %s; %s; and fast track "
	                      "(mql.fast_track) needs grade %c or better",
	                      hand, score, fd_grade_letter(r->fast_track_min_grade));
}

/* Grades, then windows, then topics, then what would never work: the first
 * problem is the one reported. */
int fd_config_check_across(fd_config_ctx *ctx)
{
	if (fd_config_check_grades(ctx) < 0 || fd_config_check_windows(ctx) < 0 ||
	    fd_config_check_topics(ctx) < 0 || fd_config_check_events(ctx) < 0 ||
	    fd_config_check_qualify(ctx) < 0)
		return -1;
	return 0;
}
