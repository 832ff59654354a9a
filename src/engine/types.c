/*
 * types.c — canonical names of the domain vocabulary (stages, sales activity
 * kinds, rejection reasons, intent classes, triggers, SLA event kinds,
 * grades) and the duration syntax used by the config file.
 *
 * The names here are the single spelling used by the config file, the logs
 * and the admin JSON; parsing accepts them in any ASCII case. This file is
 * pure: no state, no I/O, no locale. It does not know the protobuf enum
 * values (the codecs map those) and it does not decide what a name means
 * in a given context (the config loader and the engine do).
 */
#include "funneld/types.h"

#include <stdint.h>
#include <string.h>

static const char *const fd_stage_names[FD_STAGE_COUNT] = {
	[FD_STAGE_LEAD] = "LEAD",
	[FD_STAGE_MQL] = "MQL",
	[FD_STAGE_SAL] = "SAL",
	[FD_STAGE_SQL] = "SQL",
	[FD_STAGE_OPPORTUNITY] = "OPPORTUNITY",
	[FD_STAGE_CUSTOMER] = "CUSTOMER",
	[FD_STAGE_NURTURE] = "NURTURE",
	[FD_STAGE_DISQUALIFIED] = "DISQUALIFIED",
};

static const char *const fd_activity_kind_names[FD_ACT_COUNT] = {
	[FD_ACT_ASSIGN] = "ASSIGN",
	[FD_ACT_TOUCH] = "TOUCH",
	[FD_ACT_ACCEPT] = "ACCEPT",
	[FD_ACT_REJECT] = "REJECT",
	[FD_ACT_REVERT] = "REVERT",
	[FD_ACT_QUALIFY] = "QUALIFY",
	[FD_ACT_OPPORTUNITY] = "OPPORTUNITY",
	[FD_ACT_WON] = "WON",
	[FD_ACT_LOST] = "LOST",
};

static const char *const fd_reason_names[FD_REASON_COUNT] = {
	[FD_REASON_NONE] = "NONE",
	[FD_REASON_BAD_FIT] = "BAD_FIT",
	[FD_REASON_BAD_TIMING] = "BAD_TIMING",
	[FD_REASON_NO_BUDGET] = "NO_BUDGET",
	[FD_REASON_NO_RESPONSE] = "NO_RESPONSE",
	[FD_REASON_DUPLICATE] = "DUPLICATE",
	[FD_REASON_COMPETITOR] = "COMPETITOR",
	[FD_REASON_OTHER] = "OTHER",
};

static const char *const fd_intent_names[FD_INTENT_COUNT] = {
	[FD_INTENT_LOW] = "low",
	[FD_INTENT_HIGH] = "high",
	[FD_INTENT_HAND_RAISE] = "hand_raise",
};

static const char *const fd_trigger_names[FD_TRIGGER_COUNT] = {
	[FD_TRIGGER_SCORE_THRESHOLD] = "score_threshold",
	[FD_TRIGGER_HAND_RAISE] = "hand_raise",
	[FD_TRIGGER_FAST_TRACK] = "fast_track",
	[FD_TRIGGER_SALES_ACCEPT] = "sales_accept",
	[FD_TRIGGER_SALES_REJECT] = "sales_reject",
	[FD_TRIGGER_SALES_REVERT] = "sales_revert",
	[FD_TRIGGER_SALES_QUALIFY] = "sales_qualify",
	[FD_TRIGGER_SALES_OPPORTUNITY] = "sales_opportunity",
	[FD_TRIGGER_SALES_WON] = "sales_won",
	[FD_TRIGGER_SALES_LOST] = "sales_lost",
	[FD_TRIGGER_REVIEW_DUE] = "review_due",
	[FD_TRIGGER_SLA_EXPIRED] = "sla_expired",
	[FD_TRIGGER_DISQUALIFIED_BY_FIT] = "disqualified_by_fit",
	[FD_TRIGGER_REQUALIFIED_BY_FIT] = "requalified_by_fit",
};

static const char *const fd_sla_kind_names[FD_SLA_KIND_COUNT] = {
	[FD_SLA_WARNING] = "WARNING",
	[FD_SLA_BREACH] = "BREACH",
	[FD_SLA_MET] = "MET",
};

/* Bounds-checked lookup: the enums may hold any int, e.g. from a corrupt
 * changelog record, so an out-of-range value must not index the table. */
static const char *fd_name_of(const char *const *names, int count, int value)
{
	if (value < 0 || value >= count || names[value] == NULL)
		return "?";
	return names[value];
}

/* ASCII-only case folding: the result must not depend on the locale. */
static int fd_ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool fd_ascii_equal_nocase(const char *a, const char *b)
{
	while (*a != '\0' && fd_ascii_lower((unsigned char)*a) == fd_ascii_lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

static int fd_index_of(const char *const *names, int count, const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < count; i++)
		if (names[i] != NULL && fd_ascii_equal_nocase(names[i], name))
			return i;
	return -1;
}

const char *fd_stage_name(fd_stage s)
{
	return fd_name_of(fd_stage_names, FD_STAGE_COUNT, (int)s);
}

const char *fd_activity_kind_name(fd_activity_kind k)
{
	return fd_name_of(fd_activity_kind_names, FD_ACT_COUNT, (int)k);
}

const char *fd_reason_name(fd_reason r)
{
	return fd_name_of(fd_reason_names, FD_REASON_COUNT, (int)r);
}

const char *fd_intent_name(fd_intent i)
{
	return fd_name_of(fd_intent_names, FD_INTENT_COUNT, (int)i);
}

const char *fd_trigger_name(fd_trigger t)
{
	return fd_name_of(fd_trigger_names, FD_TRIGGER_COUNT, (int)t);
}

const char *fd_sla_kind_name(fd_sla_kind k)
{
	return fd_name_of(fd_sla_kind_names, FD_SLA_KIND_COUNT, (int)k);
}

char fd_grade_letter(int grade)
{
	if (grade < FD_GRADE_A || grade >= FD_GRADE_COUNT)
		return '?';
	return (char)('A' + grade);
}

int fd_stage_parse(const char *name, fd_stage *out)
{
	int i = fd_index_of(fd_stage_names, FD_STAGE_COUNT, name);
	if (i < 0)
		return -1;
	*out = (fd_stage)i;
	return 0;
}

int fd_activity_kind_parse(const char *name, fd_activity_kind *out)
{
	int i = fd_index_of(fd_activity_kind_names, FD_ACT_COUNT, name);
	if (i < 0)
		return -1;
	*out = (fd_activity_kind)i;
	return 0;
}

int fd_reason_parse(const char *name, fd_reason *out)
{
	int i = fd_index_of(fd_reason_names, FD_REASON_COUNT, name);
	if (i < 0)
		return -1;
	*out = (fd_reason)i;
	return 0;
}

int fd_intent_parse(const char *name, fd_intent *out)
{
	int i = fd_index_of(fd_intent_names, FD_INTENT_COUNT, name);
	if (i < 0)
		return -1;
	*out = (fd_intent)i;
	return 0;
}

int fd_grade_parse(const char *name, int *out)
{
	if (name == NULL || name[0] == '\0' || name[1] != '\0')
		return -1;
	int c = fd_ascii_lower((unsigned char)name[0]);
	if (c < 'a' || c >= 'a' + FD_GRADE_COUNT)
		return -1;
	*out = c - 'a';
	return 0;
}

/* A duration is decimal digits followed by an optional unit. No sign, no
 * fraction, no blanks: config values are compared and diffed as text, and one
 * spelling per value keeps that honest. A bare number is milliseconds; only
 * the bare text "0" (or "00"...) yields zero, a unit needs a positive count. */
int fd_duration_parse(const char *text, int64_t *out_ms)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", FD_MS_SECOND },
		{ "m", FD_MS_MINUTE },
		{ "h", FD_MS_HOUR },
		{ "d", FD_MS_DAY },
		{ "w", 7 * FD_MS_DAY },
	};

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return -1;

	int64_t count = 0;
	const char *p = text;
	for (; *p >= '0' && *p <= '9'; p++) {
		int digit = *p - '0';
		if (count > (INT64_MAX - digit) / 10)
			return -1;
		count = count * 10 + digit;
	}

	if (*p == '\0') {
		*out_ms = count;
		return 0;
	}

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (count == 0 || count > INT64_MAX / units[i].ms)
			return -1;
		*out_ms = count * units[i].ms;
		return 0;
	}
	return -1;
}
