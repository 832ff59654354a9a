/*
 * config.c — loads funneld's libconfig file into a validated fd_config.
 *
 * Steps, in order: parse the text with libconfig; apply the `-o path=value`
 * overrides to the parsed tree (typed by the setting table, so an override is
 * validated exactly like the file); fill the defaults; walk every group and
 * list element of the tree against fd_config_table, storing what is known and
 * refusing what is not; then check the rules that span settings. The first
 * problem stops the load and is reported as "file:line: what is wrong", or
 * "-o path=value: what is wrong" when an override brought it in.
 *
 * Override paths are the file's own paths: "scoring.half_life=14d"; list
 * elements by index, in libconfig's syntax "slas.[0].duration=24h" (the
 * friendlier "slas[0].duration" is accepted too); arrays as comma-separated
 * values ("frequency.windows=7d,30d"). Below `kafka.`, a path that is not a
 * row of the table names a librdkafka property ("kafka.linger.ms=5") and
 * replaces it wherever the file set it, nested or in kafka.properties. An
 * override sets or replaces one setting, creating the groups on its way; it
 * cannot add or remove list elements, and one that creates mql.matrix from
 * nothing creates a matrix listing only its own grade.
 *
 * This file does not interpret the settings (the engine and the Kafka layer
 * do), keeps no state between calls, and never exits or logs: the caller
 * decides what an error means (exit 78 at start-up, keep the old config on
 * SIGHUP). librdkafka is used only to check Kafka property names and values
 * on a scratch rd_kafka_conf_t that is thrown away.
 */
#include "config/config_table.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

#define FD_CFG_PATH_MAX 256
#define FD_CFG_WHERE_MAX 2048        /* "file:line" or "-o path=value" */
#define FD_CFG_MAX_ITEMS 64          /* longest array accepted anywhere */
#define FD_CFG_MAX_SEGMENTS 16       /* depth of an override path */
#define FD_CFG_FILE_MAX (16u << 20)  /* a bigger config file is a mistake */
#define FD_CFG_MAX_FIELD_PROPS 4     /* Kafka properties kept in fields */

_Static_assert(sizeof(fd_stage) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fd_intent) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fd_field) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fd_encoding) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fd_guarantee) == sizeof(int), "enums are stored as int");
_Static_assert(FD_REASON_COUNT <= 32 && FD_ACT_COUNT <= 32 && FD_STAGE_COUNT <= 32,
               "sets are 32-bit masks");

/* An override; libconfig settings it created point here through their hook,
 * which is how an error finds out that it came from the command line. */
typedef struct fd_config_override {
	const char *text;
} fd_config_override;

typedef struct fd_config_ctx {
	fd_config *cfg;
	const char *name;               /* file name for messages */
	const char *include_dir;        /* @include files are relative to it */
	char *errstr;
	size_t errstr_size;
	config_t *lc;                   /* the parsed tree; NULL for defaults */
	rd_kafka_conf_t *kconf;         /* scratch, to validate properties */
	fd_config_override *overrides;
	size_t n_overrides;
	const config_setting_t **prop_at; /* where kafka_props[i] was set */
	size_t prop_cap;
	const fd_config_def *field_prop_row[FD_CFG_MAX_FIELD_PROPS];
	const config_setting_t *field_prop_at[FD_CFG_MAX_FIELD_PROPS];
	int n_field_props;
} fd_config_ctx;

/* A setting's value before it is checked and stored: from the tree, from a
 * default or from an override's text. Strings are borrowed. */
typedef enum fd_config_vkind {
	FD_CFG_V_INT,
	FD_CFG_V_FLOAT,
	FD_CFG_V_BOOL,
	FD_CFG_V_STRING,
	FD_CFG_V_ARRAY
} fd_config_vkind;

typedef struct fd_config_value {
	fd_config_vkind kind;
	int64_t i;
	double f;
	bool b;
	const char *s;
	size_t n;
	const char *items[FD_CFG_MAX_ITEMS];
	const config_setting_t *item_at[FD_CFG_MAX_ITEMS]; /* NULL: not from the tree */
} fd_config_value;

/* ---- enumerations ---------------------------------------------------------- */

static const char *fd_config_stage_name(int i)
{
	return fd_stage_name((fd_stage)i);
}

static const char *fd_config_activity_name(int i)
{
	return fd_activity_kind_name((fd_activity_kind)i);
}

static const char *fd_config_reason_name(int i)
{
	return fd_reason_name((fd_reason)i);
}

static const char *fd_config_field_name(int i)
{
	return fd_field_name((fd_field)i);
}

static const char *fd_config_intent_name(int i)
{
	return fd_intent_name((fd_intent)i);
}


static const char *const fd_config_grade_names[] = { "A", "B", "C", "D" };
static const char *const fd_config_encoding_names[] = { "protobuf", "confluent-protobuf", "json" };
static const int fd_config_encoding_values[] = {
	FD_ENCODING_PROTOBUF, FD_ENCODING_CONFLUENT_PROTOBUF, FD_ENCODING_JSON
};
static const char *const fd_config_guarantee_names[] = { "at_least_once", "exactly_once" };
static const int fd_config_guarantee_values[] = { FD_AT_LEAST_ONCE, FD_EXACTLY_ONCE };
static const char *const fd_config_unknown_type_names[] = { "invalid", "zero" };
static const char *const fd_config_review_stage_names[] = { "LEAD", "MQL" };
static const int fd_config_review_stage_values[] = { FD_STAGE_LEAD, FD_STAGE_MQL };
static const char *const fd_config_log_level_names[] = {
	"emerg", "alert", "crit", "err", "error", "warning", "warn", "notice", "info", "debug"
};
static const int fd_config_log_level_values[] = { 0, 1, 2, 3, 3, 4, 4, 5, 6, 7 };

static const fd_config_enum fd_config_stages = {
	.what = "stage", .n = FD_STAGE_COUNT, .name_of = fd_config_stage_name
};
static const fd_config_enum fd_config_activities = {
	.what = "activity kind", .n = FD_ACT_COUNT, .name_of = fd_config_activity_name
};
static const fd_config_enum fd_config_reasons = {
	.what = "reason", .first = FD_REASON_NONE + 1, .n = FD_REASON_COUNT,
	.name_of = fd_config_reason_name
};
static const fd_config_enum fd_config_intents = {
	.what = "intent", .n = FD_INTENT_COUNT, .name_of = fd_config_intent_name
};
static const fd_config_enum fd_config_fields = {
	.what = "field", .n = FD_FIELD_COUNT, .name_of = fd_config_field_name
};
static const fd_config_enum fd_config_grades = {
	.what = "grade", .n = FD_GRADE_COUNT, .names = fd_config_grade_names
};
static const fd_config_enum fd_config_encodings = {
	.what = "encoding", .n = 3, .names = fd_config_encoding_names,
	.values = fd_config_encoding_values
};
static const fd_config_enum fd_config_guarantees = {
	.what = "guarantee", .n = 2, .names = fd_config_guarantee_names,
	.values = fd_config_guarantee_values
};
static const fd_config_enum fd_config_unknown_types = {
	.what = "choice", .n = 2, .names = fd_config_unknown_type_names
};
static const fd_config_enum fd_config_review_stages = {
	.what = "review stage", .n = 2, .names = fd_config_review_stage_names,
	.values = fd_config_review_stage_values
};
static const fd_config_enum fd_config_log_levels = {
	.what = "log level", .n = 10, .names = fd_config_log_level_names,
	.values = fd_config_log_level_values
};

static const char *fd_config_enum_name(const fd_config_enum *e, int i)
{
	return e->names != NULL ? e->names[i] : e->name_of(i);
}

static int fd_config_enum_value(const fd_config_enum *e, int i)
{
	return e->values != NULL ? e->values[i] : i;
}

/* -1 when `name` is none of e's names. */
static int fd_config_enum_lookup(const fd_config_enum *e, const char *name)
{
	for (int i = e->first; i < e->n; i++)
		if (strcasecmp(fd_config_enum_name(e, i), name) == 0)
			return fd_config_enum_value(e, i);
	return -1;
}

/* "LEAD, MQL or SAL"; with `or_tail`, "a, b, or 0..7" */
static void fd_config_enum_list(const fd_config_enum *e, const char *or_tail, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = e->first; i < e->n && used < size; i++) {
		const char *sep = i == e->first ? "" : (i + 1 == e->n && or_tail == NULL) ? " or " : ", ";
		int w = snprintf(buf + used, size - used, "%s%s", sep, fd_config_enum_name(e, i));
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (or_tail != NULL && used < size)
		snprintf(buf + used, size - used, ", or %s", or_tail);
}


/* ---- the table ------------------------------------------------------------- */

static int fd_config_check_event(fd_config_ctx *ctx, const config_setting_t *elem,
                                 void *array, int index, const char *shown);
static int fd_config_check_fit_rule(fd_config_ctx *ctx, const config_setting_t *elem,
                                    void *array, int index, const char *shown);
static int fd_config_check_disqualifier(fd_config_ctx *ctx, const config_setting_t *elem,
                                        void *array, int index, const char *shown);
static int fd_config_check_sla(fd_config_ctx *ctx, const config_setting_t *elem,
                               void *array, int index, const char *shown);
static int fd_config_check_sla_override(fd_config_ctx *ctx, const config_setting_t *elem,
                                        void *array, int index, const char *shown);

#define FD_CFG_OFF(f) offsetof(fd_config, settings.f)
#define FD_ENG_OFF(f) offsetof(fd_config, rules.f)
#define FD_CFG_DAYS(n) ((double)(n) * (double)FD_MS_DAY)
#define FD_CFG_POINTS_MAX 1e9

static const fd_config_def fd_config_event_rows[] = {
	{ .path = "type", .type = FD_CFG_STRING, .flags = FD_CFG_F_REQUIRED | FD_CFG_F_NONEMPTY | FD_CFG_F_IDENT,
	  .offset = offsetof(fd_event_rule, type), .size = FD_NAME_MAX,
	  .doc = "the EngagementEvent type this rule scores" },
	{ .path = "points", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_REQUIRED,
	  .min = -FD_CFG_POINTS_MAX, .max = FD_CFG_POINTS_MAX, .offset = offsetof(fd_event_rule, points),
	  .doc = "points per event before decay; negative points are allowed" },
	{ .path = "intent", .type = FD_CFG_ENUM, .def = "low", .names = &fd_config_intents,
	  .offset = offsetof(fd_event_rule, intent), .size = sizeof(fd_intent),
	  .doc = "low, high (high-intent recency) or hand_raise (MQL on its own)" },
	{ .path = "cap.points", .type = FD_CFG_FLOAT, .def = "0", .min = 0, .max = FD_CFG_POINTS_MAX,
	  .offset = offsetof(fd_event_rule, cap_points),
	  .doc = "most points this type earns per cap window; 0: no cap" },
	{ .path = "cap.window", .type = FD_CFG_DURATION, .def = "0", .min = 0, .max = FD_CFG_DAYS(3650),
	  .offset = offsetof(fd_event_rule, cap_window_ms),
	  .doc = "tumbling cap window, aligned to the Unix epoch" },
};

/* Rows shared by fit rules and disqualifiers; `base` is the offset of their
 * fd_match. */
#define FD_CFG_MATCH_ROWS(base)                                                                  \
	{ .path = "field", .type = FD_CFG_ENUM, .flags = FD_CFG_F_REQUIRED, .names = &fd_config_fields, \
	  .offset = (base) + offsetof(fd_match, field), .size = sizeof(fd_field),                     \
	  .doc = "the profile field tested" },                                                        \
	{ .path = "not", .type = FD_CFG_BOOL, .def = "false", .offset = (base) + offsetof(fd_match, negate), \
	  .doc = "negate: match a present value that fails the test" },                               \
	{ .path = "equals", .type = FD_CFG_STRING, .flags = FD_CFG_F_NONEMPTY,                         \
	  .offset = (base) + offsetof(fd_match, values), .size = FD_NAME_MAX,                          \
	  .doc = "the value equals this (ASCII case-insensitive)" },                                   \
	{ .path = "one_of", .type = FD_CFG_STRING_ARRAY, .flags = FD_CFG_F_NONEMPTY,                   \
	  .offset = (base) + offsetof(fd_match, values), .size = FD_NAME_MAX,                          \
	  .aux = (base) + offsetof(fd_match, n_values), .cap = FD_MAX_MATCH_VALUES,                    \
	  .doc = "the value equals one of these" },                                                   \
	{ .path = "prefix", .type = FD_CFG_STRING_ARRAY, .flags = FD_CFG_F_NONEMPTY,                   \
	  .offset = (base) + offsetof(fd_match, values), .size = FD_NAME_MAX,                          \
	  .aux = (base) + offsetof(fd_match, n_values), .cap = FD_MAX_MATCH_VALUES,                    \
	  .doc = "the value starts with one of these" },                                              \
	{ .path = "contains", .type = FD_CFG_STRING_ARRAY, .flags = FD_CFG_F_NONEMPTY,                 \
	  .offset = (base) + offsetof(fd_match, values), .size = FD_NAME_MAX,                          \
	  .aux = (base) + offsetof(fd_match, n_values), .cap = FD_MAX_MATCH_VALUES,                    \
	  .doc = "the value contains one of these" },                                                 \
	{ .path = "range.min", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_PRESENCE, .min = -1e18, .max = 1e18, \
	  .offset = (base) + offsetof(fd_match, min), .aux = (base) + offsetof(fd_match, has_min),      \
	  .doc = "numeric fields: value >= min" },                                                    \
	{ .path = "range.max", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_PRESENCE, .min = -1e18, .max = 1e18, \
	  .offset = (base) + offsetof(fd_match, max), .aux = (base) + offsetof(fd_match, has_max),      \
	  .doc = "numeric fields: value < max" }

static const fd_config_def fd_config_fit_rule_rows[] = {
	{ .path = "name", .type = FD_CFG_STRING, .flags = FD_CFG_F_REQUIRED | FD_CFG_F_NONEMPTY | FD_CFG_F_IDENT,
	  .offset = offsetof(fd_fit_rule, name), .size = FD_NAME_MAX,
	  .doc = "rule name, shown in score explanations" },
	{ .path = "points", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_REQUIRED,
	  .min = -FD_CFG_POINTS_MAX, .max = FD_CFG_POINTS_MAX, .offset = offsetof(fd_fit_rule, points),
	  .doc = "fit points when the rule matches" },
	FD_CFG_MATCH_ROWS(offsetof(fd_fit_rule, match)),
};

static const fd_config_def fd_config_disqualifier_rows[] = {
	{ .path = "name", .type = FD_CFG_STRING, .flags = FD_CFG_F_REQUIRED | FD_CFG_F_NONEMPTY | FD_CFG_F_IDENT,
	  .offset = offsetof(fd_disqualifier, name), .size = FD_NAME_MAX,
	  .doc = "rule name; becomes the transition's reason" },
	FD_CFG_MATCH_ROWS(offsetof(fd_disqualifier, match)),
};

static const fd_config_def fd_config_sla_override_rows[] = {
	{ .path = "source", .type = FD_CFG_STRING, .flags = FD_CFG_F_REQUIRED | FD_CFG_F_NONEMPTY | FD_CFG_F_IDENT,
	  .offset = offsetof(fd_sla_override, source), .size = FD_NAME_MAX,
	  .doc = "lead source this duration applies to" },
	{ .path = "duration", .type = FD_CFG_DURATION, .flags = FD_CFG_F_REQUIRED,
	  .min = FD_MS_SECOND, .max = FD_CFG_DAYS(3650), .offset = offsetof(fd_sla_override, duration_ms),
	  .doc = "the SLA's duration for that source" },
};

static const fd_config_def fd_config_sla_rows[] = {
	{ .path = "name", .type = FD_CFG_STRING, .flags = FD_CFG_F_REQUIRED | FD_CFG_F_NONEMPTY | FD_CFG_F_IDENT,
	  .offset = offsetof(fd_sla_def, name), .size = FD_NAME_MAX, .doc = "SLA name, in SlaEvent.sla" },
	{ .path = "stage", .type = FD_CFG_ENUM, .flags = FD_CFG_F_REQUIRED, .names = &fd_config_stages,
	  .offset = offsetof(fd_sla_def, stage), .size = sizeof(fd_stage),
	  .doc = "the SLA opens when the lead enters this stage" },
	{ .path = "start_on", .type = FD_CFG_ENUM_SET, .names = &fd_config_activities,
	  .offset = offsetof(fd_sla_def, start_on),
	  .doc = "open on the first of these activities while in stage instead" },
	{ .path = "scope", .type = FD_CFG_ENUM_SET, .names = &fd_config_stages,
	  .offset = offsetof(fd_sla_def, scope),
	  .doc = "stages during which it stays open (default: the stage)" },
	{ .path = "satisfied_by", .type = FD_CFG_ENUM_SET, .names = &fd_config_activities,
	  .offset = offsetof(fd_sla_def, satisfied_by), .doc = "activity kinds that meet it" },
	{ .path = "satisfied_by_exit", .type = FD_CFG_BOOL, .def = "false",
	  .offset = offsetof(fd_sla_def, satisfied_by_exit), .doc = "leaving the scope meets it" },
	{ .path = "duration", .type = FD_CFG_DURATION, .flags = FD_CFG_F_REQUIRED,
	  .min = FD_MS_SECOND, .max = FD_CFG_DAYS(3650), .offset = offsetof(fd_sla_def, duration_ms),
	  .doc = "time allowed" },
	{ .path = "warning", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_MAX_OPEN, .def = "0", .min = 0, .max = 1,
	  .offset = offsetof(fd_sla_def, warning_fraction),
	  .doc = "WARNING at this fraction of the duration; 0: none" },
	{ .path = "overrides", .type = FD_CFG_LIST, .offset = offsetof(fd_sla_def, overrides),
	  .size = sizeof(fd_sla_override), .aux = offsetof(fd_sla_def, n_overrides),
	  .cap = FD_MAX_SLA_OVERRIDES, .sub = fd_config_sla_override_rows,
	  .n_sub = sizeof fd_config_sla_override_rows / sizeof fd_config_sla_override_rows[0],
	  .check = fd_config_check_sla_override, .doc = "per lead source durations" },
	{ .path = "on_expiry", .type = FD_CFG_ENUM, .flags = FD_CFG_F_PRESENCE, .names = &fd_config_stages,
	  .offset = offsetof(fd_sla_def, expiry_stage), .size = sizeof(fd_stage),
	  .aux = offsetof(fd_sla_def, has_expiry_action),
	  .doc = "on BREACH, move the lead to this stage" },
};

static const fd_config_def fd_config_matrix_rows[] = {
	{ .path = "A", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_PRESENCE, .def = "40", .min = 0,
	  .max = FD_CFG_POINTS_MAX, .offset = FD_ENG_OFF(mql_engagement[FD_GRADE_A]),
	  .aux = FD_ENG_OFF(mql_enabled_for_grade[FD_GRADE_A]), .doc = "engagement for an A lead to MQL" },
	{ .path = "B", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_PRESENCE, .def = "60", .min = 0,
	  .max = FD_CFG_POINTS_MAX, .offset = FD_ENG_OFF(mql_engagement[FD_GRADE_B]),
	  .aux = FD_ENG_OFF(mql_enabled_for_grade[FD_GRADE_B]), .doc = "engagement for a B lead to MQL" },
	{ .path = "C", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_PRESENCE, .def = "90", .min = 0,
	  .max = FD_CFG_POINTS_MAX, .offset = FD_ENG_OFF(mql_engagement[FD_GRADE_C]),
	  .aux = FD_ENG_OFF(mql_enabled_for_grade[FD_GRADE_C]), .doc = "engagement for a C lead to MQL" },
	{ .path = "D", .type = FD_CFG_FLOAT, .flags = FD_CFG_F_PRESENCE, .min = 0,
	  .max = FD_CFG_POINTS_MAX, .offset = FD_ENG_OFF(mql_engagement[FD_GRADE_D]),
	  .aux = FD_ENG_OFF(mql_enabled_for_grade[FD_GRADE_D]), .doc = "engagement for a D lead to MQL" },
};

#define FD_CFG_TOPIC_ROW(key, field, dflt)                                                  \
	{ .path = "topics." key, .type = FD_CFG_STRING, .flags = FD_CFG_F_NONEMPTY | FD_CFG_F_TOPIC, \
	  .def = (dflt), .offset = FD_CFG_OFF(topics.field), .size = FD_TOPIC_MAX, .doc = key " topic" }
#define FD_CFG_ENCODING_ROW(key, field)                                                     \
	{ .path = "topics." key "_encoding", .type = FD_CFG_ENUM, .def = "protobuf",            \
	  .names = &fd_config_encodings, .offset = FD_CFG_OFF(topics.field),                     \
	  .size = sizeof(fd_encoding), .doc = key " encoding" }
#define FD_CFG_REASON_DAYS_ROW(name, reason, dflt)                                          \
	{ .path = "lifecycle.nurture.reason_days." name, .type = FD_CFG_INT, .def = (dflt),     \
	  .min = 0, .max = 3650, .offset = FD_ENG_OFF(nurture_reason_days[reason]),             \
	  .doc = "review delay after a " name " rejection; 0: review_days" }

const fd_config_def fd_config_table[] = {
	/* kafka */
	{ .path = "kafka", .type = FD_CFG_KAFKA, .doc = "librdkafka properties, nested by their dots" },
	{ .path = "kafka.bootstrap.servers", .type = FD_CFG_KAFKA_PROP, .def = "localhost:9092",
	  .doc = "brokers to bootstrap from" },
	{ .path = "kafka.group.id", .type = FD_CFG_KAFKA_PROP, .def = "funneld",
	  .offset = FD_CFG_OFF(group_id), .size = sizeof(((fd_config *)0)->settings.group_id),
	  .doc = "consumer group; instances sharing it split the partitions" },
	{ .path = "kafka.properties", .type = FD_CFG_KAFKA_LIST,
	  .doc = "more librdkafka properties as \"name=value\" strings" },

	/* topics */
	FD_CFG_TOPIC_ROW("engagement", engagement, "funneld.engagement"),
	FD_CFG_ENCODING_ROW("engagement", engagement_encoding),
	FD_CFG_TOPIC_ROW("profiles", profiles, "funneld.profiles"),
	FD_CFG_ENCODING_ROW("profiles", profiles_encoding),
	FD_CFG_TOPIC_ROW("activities", activities, "funneld.activities"),
	FD_CFG_ENCODING_ROW("activities", activities_encoding),
	FD_CFG_TOPIC_ROW("transitions", transitions, "funneld.transitions"),
	FD_CFG_TOPIC_ROW("sla", sla, "funneld.sla"),
	FD_CFG_TOPIC_ROW("scores", scores, "funneld.scores"),
	FD_CFG_TOPIC_ROW("dead_letters", dead_letters, "funneld.dead-letters"),
	FD_CFG_TOPIC_ROW("changelog", changelog, "funneld.changelog"),

	/* processing */
	{ .path = "processing.guarantee", .type = FD_CFG_ENUM, .def = "at_least_once",
	  .names = &fd_config_guarantees, .offset = FD_CFG_OFF(guarantee), .size = sizeof(fd_guarantee),
	  .doc = "at_least_once or exactly_once (Kafka transactions)" },
	{ .path = "processing.commit_interval", .type = FD_CFG_DURATION, .def = "1s",
	  .min = 10, .max = (double)FD_MS_HOUR, .offset = FD_CFG_OFF(commit_interval_ms),
	  .doc = "how often offsets, changelog and score snapshots are committed" },
	{ .path = "processing.ce_source", .type = FD_CFG_STRING, .flags = FD_CFG_F_NONEMPTY,
	  .def = "funneld", .offset = FD_CFG_OFF(ce_source), .size = sizeof(((fd_config *)0)->settings.ce_source),
	  .doc = "CloudEvents ce_source header of every output" },
	{ .path = "processing.transactional_id", .type = FD_CFG_STRING, .def = "",
	  .offset = FD_CFG_OFF(transactional_id),
	  .size = sizeof(((fd_config *)0)->settings.transactional_id),
	  .doc = "exactly_once: the producer's transactional.id; \"\": group id + host name" },

	/* state */
	{ .path = "state.lead_ttl", .type = FD_CFG_DURATION, .def = "180d", .min = 0,
	  .max = FD_CFG_DAYS(3650), .offset = FD_CFG_OFF(lead_ttl_ms),
	  .doc = "evict leads inactive this long with no open SLA; \"0\": never" },
	{ .path = "state.max_leads", .type = FD_CFG_INT64, .def = "5000000", .min = 0, .max = 2e9,
	  .offset = FD_CFG_OFF(max_leads), .doc = "hard cap on leads in memory; 0: none" },

	/* admin */
	{ .path = "admin.address", .type = FD_CFG_STRING, .def = "127.0.0.1",
	  .offset = FD_CFG_OFF(admin_address), .size = FD_NAME_MAX,
	  .doc = "admin HTTP listen address; \"\" disables it" },
	{ .path = "admin.port", .type = FD_CFG_INT, .def = "8080", .min = 1, .max = 65535,
	  .offset = FD_CFG_OFF(admin_port), .doc = "admin HTTP port" },

	/* log */
	{ .path = "log.level", .type = FD_CFG_ENUM, .flags = FD_CFG_F_INT_OK, .def = "info",
	  .min = 0, .max = 7, .names = &fd_config_log_levels, .offset = FD_CFG_OFF(log_level),
	  .size = sizeof(int), .doc = "syslog level name or 0..7" },

	/* scoring */
	{ .path = "scoring.half_life", .type = FD_CFG_DURATION, .def = "30d", .min = FD_MS_SECOND,
	  .max = FD_CFG_DAYS(3650), .offset = FD_ENG_OFF(half_life_ms),
	  .doc = "engagement points halve every half_life" },
	{ .path = "scoring.max_future_skew", .type = FD_CFG_DURATION, .def = "5m", .min = 0,
	  .max = FD_CFG_DAYS(30), .offset = FD_ENG_OFF(max_future_skew_ms),
	  .doc = "events further ahead of now are invalid" },
	{ .path = "scoring.unknown_types", .type = FD_CFG_ENUM, .def = "invalid",
	  .names = &fd_config_unknown_types, .offset = FD_ENG_OFF(unknown_types_score_zero),
	  .size = sizeof(bool), .doc = "invalid (dead letter) or zero (count, no points)" },
	{ .path = "scoring.events", .type = FD_CFG_LIST, .offset = FD_ENG_OFF(event_types),
	  .size = sizeof(fd_event_rule), .aux = FD_ENG_OFF(n_event_types), .cap = FD_MAX_EVENT_TYPES,
	  .sub = fd_config_event_rows, .n_sub = sizeof fd_config_event_rows / sizeof fd_config_event_rows[0],
	  .check = fd_config_check_event, .doc = "the meaning of each engagement event type" },

	/* frequency */
	{ .path = "frequency.bucket", .type = FD_CFG_DURATION, .def = "1d", .min = FD_MS_MINUTE,
	  .max = FD_CFG_DAYS(365), .offset = FD_ENG_OFF(bucket_ms),
	  .doc = "resolution of the rolling counts" },
	{ .path = "frequency.windows", .type = FD_CFG_DURATION_ARRAY, .flags = FD_CFG_F_NONEMPTY,
	  .def = "7d,30d", .min = FD_MS_MINUTE, .max = FD_CFG_DAYS(3650), .offset = FD_ENG_OFF(windows_ms),
	  .aux = FD_ENG_OFF(n_windows), .cap = FD_MAX_WINDOWS,
	  .doc = "rolling count windows; the first two are frequency_7d/_30d" },

	/* fit */
	{ .path = "fit.rules", .type = FD_CFG_LIST, .offset = FD_ENG_OFF(fit_rules),
	  .size = sizeof(fd_fit_rule), .aux = FD_ENG_OFF(n_fit_rules), .cap = FD_MAX_FIT_RULES,
	  .sub = fd_config_fit_rule_rows,
	  .n_sub = sizeof fd_config_fit_rule_rows / sizeof fd_config_fit_rule_rows[0],
	  .check = fd_config_check_fit_rule, .doc = "fit points from profile fields" },
	{ .path = "fit.grades.A", .type = FD_CFG_FLOAT, .def = "60", .min = -FD_CFG_POINTS_MAX,
	  .max = FD_CFG_POINTS_MAX, .offset = FD_ENG_OFF(grade_min[0]), .doc = "fit >= this: grade A" },
	{ .path = "fit.grades.B", .type = FD_CFG_FLOAT, .def = "40", .min = -FD_CFG_POINTS_MAX,
	  .max = FD_CFG_POINTS_MAX, .offset = FD_ENG_OFF(grade_min[1]), .doc = "fit >= this: grade B" },
	{ .path = "fit.grades.C", .type = FD_CFG_FLOAT, .def = "20", .min = -FD_CFG_POINTS_MAX,
	  .max = FD_CFG_POINTS_MAX, .offset = FD_ENG_OFF(grade_min[2]),
	  .doc = "fit >= this: grade C; below: D" },
	{ .path = "fit.disqualifiers", .type = FD_CFG_LIST, .offset = FD_ENG_OFF(disqualifiers),
	  .size = sizeof(fd_disqualifier), .aux = FD_ENG_OFF(n_disqualifiers), .cap = FD_MAX_DISQUALIFIERS,
	  .sub = fd_config_disqualifier_rows,
	  .n_sub = sizeof fd_config_disqualifier_rows / sizeof fd_config_disqualifier_rows[0],
	  .check = fd_config_check_disqualifier, .doc = "hard disqualifiers" },

	/* mql */
	{ .path = "mql.matrix", .type = FD_CFG_GROUP, .sub = fd_config_matrix_rows,
	  .n_sub = sizeof fd_config_matrix_rows / sizeof fd_config_matrix_rows[0],
	  .doc = "engagement needed to MQL, by grade; an unlisted grade never MQLs by score" },
	{ .path = "mql.hand_raise", .type = FD_CFG_BOOL, .def = "true", .offset = FD_ENG_OFF(hand_raise_mql),
	  .doc = "a hand-raise event MQLs a lead that is not disqualified" },
	{ .path = "mql.fast_track.sources", .type = FD_CFG_STRING_ARRAY,
	  .flags = FD_CFG_F_IDENT | FD_CFG_F_NONEMPTY, .def = "event",
	  .offset = FD_ENG_OFF(fast_track_sources), .size = FD_NAME_MAX,
	  .aux = FD_ENG_OFF(n_fast_track_sources), .cap = FD_MAX_SOURCES,
	  .doc = "lead sources that go straight to SAL" },
	{ .path = "mql.fast_track.min_grade", .type = FD_CFG_ENUM, .def = "C", .names = &fd_config_grades,
	  .offset = FD_ENG_OFF(fast_track_min_grade), .size = sizeof(int),
	  .doc = "worst grade that is fast-tracked" },

	/* lifecycle */
	{ .path = "lifecycle.reject_disqualifies", .type = FD_CFG_ENUM_SET,
	  .def = "BAD_FIT,DUPLICATE,COMPETITOR", .names = &fd_config_reasons,
	  .offset = FD_ENG_OFF(reject_disqualifies),
	  .doc = "REJECT reasons that disqualify instead of nurturing" },
	{ .path = "lifecycle.nurture.review_days", .type = FD_CFG_INT, .def = "90", .min = 1, .max = 3650,
	  .offset = FD_ENG_OFF(nurture_review_days), .doc = "default nurture review delay" },
	FD_CFG_REASON_DAYS_ROW("BAD_FIT", FD_REASON_BAD_FIT, "0"),
	FD_CFG_REASON_DAYS_ROW("BAD_TIMING", FD_REASON_BAD_TIMING, "90"),
	FD_CFG_REASON_DAYS_ROW("NO_BUDGET", FD_REASON_NO_BUDGET, "180"),
	FD_CFG_REASON_DAYS_ROW("NO_RESPONSE", FD_REASON_NO_RESPONSE, "0"),
	FD_CFG_REASON_DAYS_ROW("DUPLICATE", FD_REASON_DUPLICATE, "0"),
	FD_CFG_REASON_DAYS_ROW("COMPETITOR", FD_REASON_COMPETITOR, "0"),
	FD_CFG_REASON_DAYS_ROW("OTHER", FD_REASON_OTHER, "0"),
	{ .path = "lifecycle.nurture.lost_review_days", .type = FD_CFG_INT, .def = "180", .min = 1,
	  .max = 3650, .offset = FD_ENG_OFF(lost_review_days), .doc = "review delay after a LOST deal" },
	{ .path = "lifecycle.nurture.on_review", .type = FD_CFG_ENUM, .def = "MQL",
	  .names = &fd_config_review_stages, .offset = FD_ENG_OFF(review_stage), .size = sizeof(fd_stage),
	  .doc = "where a due review sends the lead: MQL or LEAD" },
	{ .path = "lifecycle.nurture.remql_cooldown", .type = FD_CFG_DURATION, .def = "14d", .min = 0,
	  .max = FD_CFG_DAYS(3650), .offset = FD_ENG_OFF(remql_cooldown_ms),
	  .doc = "time in NURTURE before the score alone can MQL again" },

	/* slas */
	{ .path = "slas", .type = FD_CFG_LIST, .offset = FD_ENG_OFF(slas), .size = sizeof(fd_sla_def),
	  .aux = FD_ENG_OFF(n_slas), .cap = FD_MAX_SLAS, .sub = fd_config_sla_rows,
	  .n_sub = sizeof fd_config_sla_rows / sizeof fd_config_sla_rows[0],
	  .check = fd_config_check_sla, .doc = "service level agreements" },

	/* context */
	{ .path = "context.recent_activities", .type = FD_CFG_INT, .def = "10", .min = 1,
	  .max = FD_MAX_CONTEXT, .offset = FD_ENG_OFF(recent_activities),
	  .doc = "last activities carried by a transition" },
	{ .path = "context.top_interests", .type = FD_CFG_INT, .def = "5", .min = 1,
	  .max = FD_MAX_CONTEXT, .offset = FD_ENG_OFF(top_interests),
	  .doc = "top content ids carried by a transition" },
};

const size_t fd_config_table_size = sizeof fd_config_table / sizeof fd_config_table[0];

/* ---- errors ---------------------------------------------------------------- */

/* The name of the file a setting or a parse error is in: libconfig knows
 * included files by their name as written in @include, which is relative
 * to the including file's directory. */
static void fd_config_file_name(const fd_config_ctx *ctx, const char *file, char *buf, size_t size)
{
	if (file == NULL)
		snprintf(buf, size, "%s", ctx->name);
	else if (file[0] != '/' && ctx->include_dir != NULL && strcmp(ctx->include_dir, ".") != 0)
		snprintf(buf, size, "%s/%s", ctx->include_dir, file);
	else
		snprintf(buf, size, "%s", file);
}

/* "file:line", or "-o path=value" when `at` (or a group holding it) was
 * created by an override, or just the file name when there is no setting to
 * point at. */
static void fd_config_where(const fd_config_ctx *ctx, const config_setting_t *at,
                            char *buf, size_t size)
{
	for (const config_setting_t *s = at; s != NULL; s = config_setting_parent(s)) {
		const fd_config_override *o = config_setting_get_hook(s);
		if (o != NULL) {
			snprintf(buf, size, "-o %s", o->text);
			return;
		}
	}
	if (at == NULL) {
		snprintf(buf, size, "%s", ctx->name);
		return;
	}
	char file[FD_CFG_PATH_MAX + 1024];
	fd_config_file_name(ctx, config_setting_source_file(at), file, sizeof file);
	snprintf(buf, size, "%s:%u", file, config_setting_source_line(at));
}

static void fd_config_vput(fd_config_ctx *ctx, const char *where, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void fd_config_vput(fd_config_ctx *ctx, const char *where, const char *fmt, va_list ap)
{
	if (ctx->errstr == NULL || ctx->errstr_size == 0)
		return;
	char what[1024];
	vsnprintf(what, sizeof what, fmt, ap);
	snprintf(ctx->errstr, ctx->errstr_size, "%s: %s", where, what);
}

static int fd_config_fail(fd_config_ctx *ctx, const config_setting_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fd_config_fail(fd_config_ctx *ctx, const config_setting_t *at, const char *fmt, ...)
{
	char where[FD_CFG_WHERE_MAX];
	fd_config_where(ctx, at, where, sizeof where);
	va_list ap;
	va_start(ap, fmt);
	fd_config_vput(ctx, where, fmt, ap);
	va_end(ap);
	return -1;
}

/* For problems with an override's own text, before any setting exists. */
static int fd_config_fail_override(fd_config_ctx *ctx, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fd_config_fail_override(fd_config_ctx *ctx, const char *text, const char *fmt, ...)
{
	char where[FD_CFG_WHERE_MAX];
	snprintf(where, sizeof where, "-o %s", text);
	va_list ap;
	va_start(ap, fmt);
	fd_config_vput(ctx, where, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *fd_config_got(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	case CONFIG_TYPE_GROUP: return "a group";
	default: return "nothing";
	}
}

/* pure: reads only *row. Saying so also tells the analyzer that a call
 * leaves row->type as it was. */
static const char *fd_config_expected(const fd_config_def *row) __attribute__((pure));

static const char *fd_config_expected(const fd_config_def *row)
{
	switch (row->type) {
	case FD_CFG_INT:
	case FD_CFG_INT64: return "an integer";
	case FD_CFG_FLOAT: return "a number";
	case FD_CFG_BOOL: return "true or false";
	case FD_CFG_STRING: return "a string";
	case FD_CFG_DURATION: return "a duration string such as \"48h\"";
	case FD_CFG_ENUM: return (row->flags & FD_CFG_F_INT_OK) ? "a name or a number" : "a string";
	case FD_CFG_ENUM_SET:
	case FD_CFG_STRING_ARRAY: return "an array of strings such as [\"a\", \"b\"]";
	case FD_CFG_DURATION_ARRAY: return "an array of durations such as [\"7d\", \"30d\"]";
	case FD_CFG_GROUP:
	case FD_CFG_KAFKA: return "a group { ... }";
	case FD_CFG_LIST: return "a list ( { ... }, ... )";
	case FD_CFG_KAFKA_LIST: return "an array of \"name=value\" strings";
	case FD_CFG_KAFKA_PROP: return "a string, number or boolean";
	}
	return "something else";
}

/* Shortest exact spelling of a duration: "48h", "7d", "250ms", "0". */
static void fd_config_format_ms(int64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "d", FD_MS_DAY }, { "h", FD_MS_HOUR }, { "m", FD_MS_MINUTE }, { "s", FD_MS_SECOND },
	};
	if (ms == 0) {
		snprintf(buf, size, "0");
		return;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%lldms", (long long)ms);
}

/* ---- paths and lookups ----------------------------------------------------- */

static void fd_config_join(char *out, size_t size, const char *a, const char *b)
{
	if (a[0] == '\0')
		snprintf(out, size, "%s", b);
	else
		snprintf(out, size, "%s.%s", a, b);
}

static const fd_config_def *fd_config_row(const fd_config_def *table, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].path, path) == 0)
			return &table[i];
	return NULL;
}

/* Does some row live below `path` (so `path` is a group on the way)? */
static bool fd_config_rows_under(const fd_config_def *table, size_t n, const char *path)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < n; i++)
		if (strncmp(table[i].path, path, len) == 0 && table[i].path[len] == '.')
			return true;
	return false;
}

/* Member of `group` at a dotted relative path, or NULL. */
static const config_setting_t *fd_config_member(const config_setting_t *group, const char *path)
{
	char buf[FD_CFG_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	const config_setting_t *s = group;
	for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		if (s == NULL || !config_setting_is_group(s))
			return NULL;
		s = config_setting_get_member(s, tok);
	}
	return s;
}

static const config_setting_t *fd_config_lookup(const fd_config_ctx *ctx, const char *path)
{
	if (ctx->lc == NULL)
		return NULL;
	return fd_config_member(config_root_setting(ctx->lc), path);
}

/* ---- values: from the tree, from text -------------------------------------- */

static int fd_config_value_from_setting(fd_config_ctx *ctx, const fd_config_def *row,
                                        const config_setting_t *s, const char *shown,
                                        fd_config_value *v)
{
	int t = config_setting_type(s);
	bool is_int = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;

	memset(v, 0, sizeof *v);
	switch (row->type) {
	case FD_CFG_INT:
	case FD_CFG_INT64:
		if (is_int) {
			v->kind = FD_CFG_V_INT;
			v->i = config_setting_get_int64(s);
			return 0;
		}
		break;
	case FD_CFG_FLOAT:
		if (is_int || t == CONFIG_TYPE_FLOAT) {
			v->kind = FD_CFG_V_FLOAT;
			v->f = is_int ? (double)config_setting_get_int64(s) : config_setting_get_float(s);
			return 0;
		}
		break;
	case FD_CFG_BOOL:
		if (t == CONFIG_TYPE_BOOL) {
			v->kind = FD_CFG_V_BOOL;
			v->b = config_setting_get_bool(s) != 0;
			return 0;
		}
		break;
	case FD_CFG_STRING:
	case FD_CFG_DURATION:
	case FD_CFG_ENUM:
		if (t == CONFIG_TYPE_STRING) {
			v->kind = FD_CFG_V_STRING;
			v->s = config_setting_get_string(s);
			return 0;
		}
		if (row->type == FD_CFG_ENUM && (row->flags & FD_CFG_F_INT_OK) && is_int) {
			v->kind = FD_CFG_V_INT;
			v->i = config_setting_get_int64(s);
			return 0;
		}
		break;
	case FD_CFG_ENUM_SET:
	case FD_CFG_STRING_ARRAY:
	case FD_CFG_DURATION_ARRAY:
		if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
			int len = config_setting_length(s);
			if (len > FD_CFG_MAX_ITEMS)
				return fd_config_fail(ctx, s, "%s: too many values (%d)", shown, len);
			v->kind = FD_CFG_V_ARRAY;
			for (int i = 0; i < len; i++) {
				const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
				if (config_setting_type(e) != CONFIG_TYPE_STRING)
					return fd_config_fail(ctx, e, "%s: expected %s, got %s in it", shown,
					                      fd_config_expected(row), fd_config_got(e));
				v->items[i] = config_setting_get_string(e);
				v->item_at[i] = e;
			}
			v->n = (size_t)len;
			return 0;
		}
		break;
	default:
		break;
	}
	return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
	                      fd_config_got(s));
}

static bool fd_config_parse_int(const char *text, int64_t *out)
{
	if (text[0] == '\0' || text[0] == ' ')
		return false;
	errno = 0;
	char *end;
	long long x = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = x;
	return true;
}

/* Type `text` (a default, or an override's value) as `row` wants it. Array
 * items are split on commas, in place, with blanks around them trimmed.
 * Returns NULL, or what was expected. */
static const char *fd_config_value_from_text(const fd_config_def *row, char *text,
                                             fd_config_value *v)
{
	memset(v, 0, sizeof *v);
	switch (row->type) {
	case FD_CFG_INT:
	case FD_CFG_INT64:
		v->kind = FD_CFG_V_INT;
		return fd_config_parse_int(text, &v->i) ? NULL : fd_config_expected(row);
	case FD_CFG_FLOAT: {
		char *end;
		errno = 0;
		v->kind = FD_CFG_V_FLOAT;
		v->f = strtod(text, &end);
		if (text[0] == '\0' || text[0] == ' ' || *end != '\0' || errno != 0 || !isfinite(v->f))
			return fd_config_expected(row);
		return NULL;
	}
	case FD_CFG_BOOL: {
		static const char *const yes[] = { "true", "yes", "on", "1" };
		static const char *const no[] = { "false", "no", "off", "0" };
		v->kind = FD_CFG_V_BOOL;
		for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
			if (strcasecmp(text, yes[i]) == 0) {
				v->b = true;
				return NULL;
			}
			if (strcasecmp(text, no[i]) == 0) {
				v->b = false;
				return NULL;
			}
		}
		return fd_config_expected(row);
	}
	case FD_CFG_ENUM:
		if ((row->flags & FD_CFG_F_INT_OK) && fd_config_parse_int(text, &v->i)) {
			v->kind = FD_CFG_V_INT;
			return NULL;
		}
		v->kind = FD_CFG_V_STRING;
		v->s = text;
		return NULL;
	case FD_CFG_STRING:
	case FD_CFG_DURATION:
	case FD_CFG_KAFKA_PROP:
		v->kind = FD_CFG_V_STRING;
		v->s = text;
		return NULL;
	case FD_CFG_ENUM_SET:
	case FD_CFG_STRING_ARRAY:
	case FD_CFG_DURATION_ARRAY: {
		v->kind = FD_CFG_V_ARRAY;
		char *p = text;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return NULL; /* empty array */
		for (;;) {
			if (v->n == FD_CFG_MAX_ITEMS)
				return "fewer values";
			char *comma = strchr(p, ',');
			char *end = comma != NULL ? comma : p + strlen(p);
			while (end > p && end[-1] == ' ')
				end--;
			*end = '\0';
			v->items[v->n++] = p;
			if (comma == NULL)
				return NULL;
			p = comma + 1;
			while (*p == ' ')
				p++;
		}
	}
	default:
		return fd_config_expected(row);
	}
}

/* ---- storing one value ----------------------------------------------------- */

static int fd_config_check_text(fd_config_ctx *ctx, const fd_config_def *row, const char *text,
                                const config_setting_t *at, const char *shown)
{
	size_t len = strlen(text);
	if (row->size > 0 && len >= row->size)
		return fd_config_fail(ctx, at, "%s: \"%.40s...\" is longer than %zu characters", shown, text,
		                      row->size - 1);
	if (len == 0 && (row->flags & FD_CFG_F_NONEMPTY))
		return fd_config_fail(ctx, at, "%s: must not be empty", shown);
	for (const char *p = text; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (c < 0x20 || c == 0x7f)
			return fd_config_fail(ctx, at, "%s: control character in \"%s\"", shown, text);
		if ((row->flags & FD_CFG_F_TOPIC) && !alnum && c != '.' && c != '_' && c != '-')
			return fd_config_fail(ctx, at,
			                      "%s: \"%s\" is not a valid Kafka topic name "
			                      "(letters, digits, '.', '_' and '-')",
			                      shown, text);
		if ((row->flags & FD_CFG_F_IDENT) && !alnum && c != '.' && c != '_' && c != '-' && c != ':')
			return fd_config_fail(ctx, at,
			                      "%s: \"%s\" may only contain letters, digits, '.', '_', '-' and ':'",
			                      shown, text);
	}
	if ((row->flags & FD_CFG_F_TOPIC) && (strcmp(text, ".") == 0 || strcmp(text, "..") == 0))
		return fd_config_fail(ctx, at, "%s: \"%s\" is not a valid Kafka topic name", shown, text);
	return 0;
}

static int fd_config_range_fail(fd_config_ctx *ctx, const fd_config_def *row,
                                const config_setting_t *at, const char *shown, const char *value,
                                const char *lo, const char *hi)
{
	return fd_config_fail(ctx, at, "%s: %s is out of range [%s, %s%c", shown, value, lo, hi,
	                      (row->flags & FD_CFG_F_MAX_OPEN) ? ')' : ']');
}

static bool fd_config_in_range(const fd_config_def *row, double x)
{
	if (x < row->min)
		return false;
	return (row->flags & FD_CFG_F_MAX_OPEN) ? x < row->max : x <= row->max;
}

static int fd_config_duration(fd_config_ctx *ctx, const fd_config_def *row, const char *text,
                              const config_setting_t *at, const char *shown, int64_t *out)
{
	if (fd_duration_parse(text, out) != 0)
		return fd_config_fail(ctx, at,
		                      "%s: bad duration \"%s\" (use a count and a unit: ms, s, m, h, d or w, "
		                      "e.g. \"48h\")",
		                      shown, text);
	if (!fd_config_in_range(row, (double)*out)) {
		char lo[32], hi[32];
		fd_config_format_ms((int64_t)row->min, lo, sizeof lo);
		fd_config_format_ms((int64_t)row->max, hi, sizeof hi);
		return fd_config_range_fail(ctx, row, at, shown, text, lo, hi);
	}
	return 0;
}

static int fd_config_enum_item(fd_config_ctx *ctx, const fd_config_def *row, const char *name,
                               const config_setting_t *at, const char *shown, int *out)
{
	int v = fd_config_enum_lookup(row->names, name);
	if (v < 0) {
		char list[512], tail[64];
		snprintf(tail, sizeof tail, "%lld..%lld", (long long)row->min, (long long)row->max);
		fd_config_enum_list(row->names, (row->flags & FD_CFG_F_INT_OK) ? tail : NULL, list,
		                    sizeof list);
		fd_config_fail(ctx, at, "%s: unknown %s \"%s\" (expected %s)", shown,
		               row->names->what, name, list);
		return -1; /* spelled out: the analyzer does not look into variadic functions */
	}
	*out = v;
	return 0;
}

static void fd_config_put(void *base, size_t offset, const void *src, size_t size)
{
	memcpy((char *)base + offset, src, size);
}

/* Check `v` against `row` and store it in `base`. `at` is where it came from
 * (NULL for a default). */
static int fd_config_store(fd_config_ctx *ctx, const fd_config_def *row, void *base,
                           const fd_config_value *v, const config_setting_t *at, const char *shown)
{
	switch (row->type) {
	case FD_CFG_INT:
	case FD_CFG_INT64: {
		if (v->i < (int64_t)row->min || v->i > (int64_t)row->max)
			return fd_config_fail(ctx, at, "%s: %lld is out of range [%lld, %lld]", shown,
			                      (long long)v->i, (long long)row->min, (long long)row->max);
		if (row->type == FD_CFG_INT) {
			int x = (int)v->i;
			fd_config_put(base, row->offset, &x, sizeof x);
		} else {
			fd_config_put(base, row->offset, &v->i, sizeof v->i);
		}
		break;
	}
	case FD_CFG_FLOAT: {
		if (!isfinite(v->f))
			return fd_config_fail(ctx, at, "%s: not a finite number", shown);
		if (!fd_config_in_range(row, v->f)) {
			char x[32], lo[32], hi[32];
			snprintf(x, sizeof x, "%g", v->f);
			snprintf(lo, sizeof lo, "%g", row->min);
			snprintf(hi, sizeof hi, "%g", row->max);
			return fd_config_range_fail(ctx, row, at, shown, x, lo, hi);
		}
		fd_config_put(base, row->offset, &v->f, sizeof v->f);
		break;
	}
	case FD_CFG_BOOL:
		fd_config_put(base, row->offset, &v->b, sizeof v->b);
		break;
	case FD_CFG_STRING:
		if (fd_config_check_text(ctx, row, v->s, at, shown) < 0)
			return -1;
		fd_config_put(base, row->offset, v->s, strlen(v->s) + 1);
		break;
	case FD_CFG_DURATION: {
		int64_t ms;
		if (fd_config_duration(ctx, row, v->s, at, shown, &ms) < 0)
			return -1;
		fd_config_put(base, row->offset, &ms, sizeof ms);
		break;
	}
	case FD_CFG_ENUM: {
		int x;
		if (v->kind == FD_CFG_V_INT) {
			if (v->i < (int64_t)row->min || v->i > (int64_t)row->max)
				return fd_config_fail(ctx, at, "%s: %lld is out of range [%lld, %lld]", shown,
				                      (long long)v->i, (long long)row->min, (long long)row->max);
			x = (int)v->i;
		} else if (fd_config_enum_item(ctx, row, v->s, at, shown, &x) < 0) {
			return -1;
		}
		if (row->size == sizeof(bool)) {
			bool b = x != 0;
			fd_config_put(base, row->offset, &b, sizeof b);
		} else {
			fd_config_put(base, row->offset, &x, sizeof x);
		}
		break;
	}
	case FD_CFG_ENUM_SET: {
		uint32_t mask = 0;
		for (size_t i = 0; i < v->n; i++) {
			const config_setting_t *item_at = v->item_at[i] != NULL ? v->item_at[i] : at;
			int x;
			if (fd_config_enum_item(ctx, row, v->items[i], item_at, shown, &x) < 0)
				return -1;
			if (mask & (UINT32_C(1) << x))
				return fd_config_fail(ctx, item_at, "%s: \"%s\" is listed twice", shown, v->items[i]);
			mask |= UINT32_C(1) << x;
		}
		if (v->n == 0 && (row->flags & FD_CFG_F_NONEMPTY))
			return fd_config_fail(ctx, at, "%s: must not be empty", shown);
		fd_config_put(base, row->offset, &mask, sizeof mask);
		break;
	}
	case FD_CFG_STRING_ARRAY:
	case FD_CFG_DURATION_ARRAY: {
		if (v->n == 0 && (row->flags & FD_CFG_F_NONEMPTY))
			return fd_config_fail(ctx, at, "%s: must not be empty", shown);
		if (v->n > (size_t)row->cap)
			return fd_config_fail(ctx, at, "%s: %zu values, at most %d are allowed", shown, v->n,
			                      row->cap);
		for (size_t i = 0; i < v->n; i++) {
			const config_setting_t *item_at = v->item_at[i] != NULL ? v->item_at[i] : at;
			for (size_t j = 0; j < i; j++)
				if (strcmp(v->items[i], v->items[j]) == 0)
					return fd_config_fail(ctx, item_at, "%s: \"%s\" is listed twice", shown,
					                      v->items[i]);
			if (row->type == FD_CFG_STRING_ARRAY) {
				fd_config_def item = *row;
				item.flags |= FD_CFG_F_NONEMPTY; /* no empty element, ever */
				if (fd_config_check_text(ctx, &item, v->items[i], item_at, shown) < 0)
					return -1;
				fd_config_put(base, row->offset + i * row->size, v->items[i], strlen(v->items[i]) + 1);
			} else {
				int64_t ms;
				if (fd_config_duration(ctx, row, v->items[i], item_at, shown, &ms) < 0)
					return -1;
				fd_config_put(base, row->offset + i * sizeof ms, &ms, sizeof ms);
			}
		}
		int count = (int)v->n;
		fd_config_put(base, row->aux, &count, sizeof count);
		break;
	}
	default:
		return fd_config_fail(ctx, at, "%s: cannot be set this way", shown);
	}
	if (row->flags & FD_CFG_F_PRESENCE) {
		bool present = true;
		fd_config_put(base, row->aux, &present, sizeof present);
	}
	return 0;
}

/* ---- Kafka properties ------------------------------------------------------ */

static int fd_config_kafka_add(fd_config_ctx *ctx, const char *name, const char *value,
                               const config_setting_t *at)
{
	fd_config *cfg = ctx->cfg;
	char errbuf[512];

	if (rd_kafka_conf_set(ctx->kconf, name, value, errbuf, sizeof errbuf) != RD_KAFKA_CONF_OK)
		return fd_config_fail(ctx, at, "kafka.%s: %s", name, errbuf);

	/* properties kept in their own field (group.id) */
	char path[FD_CFG_PATH_MAX];
	snprintf(path, sizeof path, "kafka.%s", name);
	const fd_config_def *row = fd_config_row(fd_config_table, fd_config_table_size, path);
	if (row != NULL && row->type == FD_CFG_KAFKA_PROP && row->size > 0) {
		for (int i = 0; i < ctx->n_field_props; i++) {
			if (ctx->field_prop_row[i] == row) {
				char first[FD_CFG_WHERE_MAX];
				fd_config_where(ctx, ctx->field_prop_at[i], first, sizeof first);
				return fd_config_fail(ctx, at, "kafka.%s: set twice (first at %s)", name, first);
			}
		}
		fd_config_def text_row = *row;
		text_row.flags |= FD_CFG_F_NONEMPTY;
		if (fd_config_check_text(ctx, &text_row, value, at, path) < 0)
			return -1;
		fd_config_put(cfg, row->offset, value, strlen(value) + 1);
		if (ctx->n_field_props < FD_CFG_MAX_FIELD_PROPS) {
			ctx->field_prop_row[ctx->n_field_props] = row;
			ctx->field_prop_at[ctx->n_field_props] = at;
			ctx->n_field_props++;
		}
		return 0;
	}

	/* ctx->cfg is set once, by the loader, and never NULL; the analyzer
	 * forgets that across the calls it does not follow.
	 * NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	for (int i = 0; i < cfg->settings.n_kafka_props; i++) {
		if (strcmp(cfg->settings.kafka_props[i].name, name) == 0) {
			char first[FD_CFG_WHERE_MAX];
			fd_config_where(ctx, ctx->prop_at[i], first, sizeof first);
			return fd_config_fail(ctx, at, "kafka.%s: set twice (first at %s)", name, first);
		}
	}

	if ((size_t)cfg->settings.n_kafka_props == ctx->prop_cap) {
		size_t cap = ctx->prop_cap ? ctx->prop_cap * 2 : 8;
		fd_kafka_prop *props = realloc(cfg->settings.kafka_props, cap * sizeof *props);
		if (props == NULL)
			return fd_config_fail(ctx, at, "out of memory");
		cfg->settings.kafka_props = props;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): sizes an array of pointers */
		const config_setting_t **where = realloc(ctx->prop_at, cap * sizeof *where);
		if (where == NULL)
			return fd_config_fail(ctx, at, "out of memory");
		ctx->prop_at = where;
		ctx->prop_cap = cap;
	}
	char *n = strdup(name);
	char *v = strdup(value);
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		return fd_config_fail(ctx, at, "out of memory");
	}
	cfg->settings.kafka_props[cfg->settings.n_kafka_props].name = n;
	cfg->settings.kafka_props[cfg->settings.n_kafka_props].value = v;
	ctx->prop_at[cfg->settings.n_kafka_props] = at;
	cfg->settings.n_kafka_props++;
	return 0;
}

/* A scalar under `kafka`, whatever its libconfig type, as librdkafka text. */
static int fd_config_kafka_leaf(fd_config_ctx *ctx, const config_setting_t *s, const char *shown,
                                const char *name)
{
	char buf[64];
	const char *value;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		value = config_setting_get_string(s);
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, sizeof buf, "%lld", config_setting_get_int64(s));
		value = buf;
		break;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, sizeof buf, "%.17g", config_setting_get_float(s));
		value = buf;
		break;
	case CONFIG_TYPE_BOOL:
		value = config_setting_get_bool(s) ? "true" : "false";
		break;
	default:
		return fd_config_fail(ctx, s, "%s: expected a string, number or boolean, got %s", shown,
		                      fd_config_got(s));
	}
	return fd_config_kafka_add(ctx, name, value, s);
}

static int fd_config_kafka_list(fd_config_ctx *ctx, const fd_config_def *row,
                                const config_setting_t *s, const char *shown)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
		                      fd_config_got(s));
	int len = config_setting_length(s);
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fd_config_fail(ctx, e, "%s: expected %s, got %s in it", shown,
			                      fd_config_expected(row), fd_config_got(e));
		const char *text = config_setting_get_string(e);
		const char *eq = strchr(text, '=');
		if (eq == NULL || eq == text || (size_t)(eq - text) >= FD_CFG_PATH_MAX - 8)
			return fd_config_fail(ctx, e, "%s: expected \"name=value\", got \"%s\"", shown, text);
		char name[FD_CFG_PATH_MAX];
		snprintf(name, sizeof name, "%.*s", (int)(eq - text), text);
		if (fd_config_kafka_add(ctx, name, eq + 1, e) < 0)
			return -1;
	}
	return 0;
}

/* ---- walking the tree ------------------------------------------------------ */

static int fd_config_walk(fd_config_ctx *ctx, const config_setting_t *group, const char *shown,
                          const char *rel, const fd_config_def *table, size_t n, void *base,
                          const char *passthrough);

/* Defaults of `table` into `base`: every row with one, and the members of
 * groups; list elements start empty, Kafka properties are added by the
 * loader once it knows which the file set. */
static int fd_config_apply_defaults(fd_config_ctx *ctx, const fd_config_def *table, size_t n,
                                    void *base)
{
	for (size_t i = 0; i < n; i++) {
		const fd_config_def *row = &table[i];
		if (row->type == FD_CFG_GROUP) {
			if (fd_config_apply_defaults(ctx, row->sub, row->n_sub, (char *)base + row->offset) < 0)
				return -1;
			continue;
		}
		if (row->def == NULL || row->type == FD_CFG_LIST || row->type == FD_CFG_KAFKA ||
		    row->type == FD_CFG_KAFKA_LIST)
			continue;
		if (row->type == FD_CFG_KAFKA_PROP) {
			if (row->size > 0)
				fd_config_put(base, row->offset, row->def, strlen(row->def) + 1);
			continue;
		}
		char text[256];
		snprintf(text, sizeof text, "%s", row->def);
		fd_config_value v;
		const char *expected = fd_config_value_from_text(row, text, &v);
		if (expected != NULL)
			return fd_config_fail(ctx, NULL, "built-in default of %s: expected %s", row->path, expected);
		if (fd_config_store(ctx, row, base, &v, NULL, row->path) < 0)
			return -1;
	}
	return 0;
}

static int fd_config_required(fd_config_ctx *ctx, const fd_config_def *row,
                              const config_setting_t *elem, const char *shown)
{
	for (size_t i = 0; i < row->n_sub; i++) {
		const fd_config_def *sub = &row->sub[i];
		if ((sub->flags & FD_CFG_F_REQUIRED) && fd_config_member(elem, sub->path) == NULL)
			return fd_config_fail(ctx, elem, "%s: missing setting '%s'", shown, sub->path);
	}
	return 0;
}

static int fd_config_apply_list(fd_config_ctx *ctx, const fd_config_def *row,
                                const config_setting_t *s, void *base, const char *shown)
{
	int t = config_setting_type(s);
	int len = config_setting_length(s);
	if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && len == 0))
		return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
		                      fd_config_got(s));
	if (len > row->cap)
		return fd_config_fail(ctx, s, "%s: %d elements, at most %d are allowed", shown, len, row->cap);

	char *array = (char *)base + row->offset;
	for (int i = 0; i < len; i++) {
		const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);
		char elem_shown[FD_CFG_PATH_MAX];
		if (snprintf(elem_shown, sizeof elem_shown, "%s.[%d]", shown, i) < 0)
			elem_shown[0] = '\0';
		if (!config_setting_is_group(elem))
			return fd_config_fail(ctx, elem, "%s: expected a group { ... }, got %s", elem_shown,
			                      fd_config_got(elem));
		void *elem_base = array + (size_t)i * row->size;
		memset(elem_base, 0, row->size);
		if (fd_config_apply_defaults(ctx, row->sub, row->n_sub, elem_base) < 0 ||
		    fd_config_walk(ctx, elem, elem_shown, "", row->sub, row->n_sub, elem_base, NULL) < 0 ||
		    fd_config_required(ctx, row, elem, elem_shown) < 0)
			return -1;
		if (row->check != NULL && row->check(ctx, elem, array, i, elem_shown) < 0)
			return -1;
	}
	fd_config_put(base, row->aux, &len, sizeof len);
	return 0;
}

static int fd_config_apply(fd_config_ctx *ctx, const fd_config_def *row, const config_setting_t *s,
                           void *base, const char *shown, const char *rel,
                           const fd_config_def *table, size_t n)
{
	switch (row->type) {
	case FD_CFG_GROUP:
		if (!config_setting_is_group(s))
			return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
			                      fd_config_got(s));
		/* a group lists its members: what it leaves out is absent */
		for (size_t i = 0; i < row->n_sub; i++) {
			if (row->sub[i].flags & FD_CFG_F_PRESENCE) {
				bool absent = false;
				fd_config_put((char *)base + row->offset, row->sub[i].aux, &absent, sizeof absent);
			}
		}
		return fd_config_walk(ctx, s, shown, "", row->sub, row->n_sub, (char *)base + row->offset, NULL);
	case FD_CFG_LIST:
		return fd_config_apply_list(ctx, row, s, base, shown);
	case FD_CFG_KAFKA:
		if (!config_setting_is_group(s))
			return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
			                      fd_config_got(s));
		return fd_config_walk(ctx, s, shown, rel, table, n, base, row->path);
	case FD_CFG_KAFKA_LIST:
		return fd_config_kafka_list(ctx, row, s, shown);
	case FD_CFG_KAFKA_PROP:
		return fd_config_kafka_leaf(ctx, s, shown, strchr(row->path, '.') + 1);
	default: {
		fd_config_value v;
		if (fd_config_value_from_setting(ctx, row, s, shown, &v) < 0)
			return -1;
		return fd_config_store(ctx, row, base, &v, s, shown);
	}
	}
}

/* Every member of `group` (shown as `shown`, at `rel` in `table`) must be a
 * row of the table, a group leading to rows, or, below a passthrough row
 * (`passthrough` names it), a Kafka property. */
static int fd_config_walk(fd_config_ctx *ctx, const config_setting_t *group, const char *shown,
                          const char *rel, const fd_config_def *table, size_t n, void *base,
                          const char *passthrough)
{
	int len = config_setting_length(group);
	for (int i = 0; i < len; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		char m_rel[FD_CFG_PATH_MAX], m_shown[FD_CFG_PATH_MAX];
		fd_config_join(m_rel, sizeof m_rel, rel, name);
		fd_config_join(m_shown, sizeof m_shown, shown, name);

		const fd_config_def *row = fd_config_row(table, n, m_rel);
		if (row != NULL) {
			if (fd_config_apply(ctx, row, m, base, m_shown, m_rel, table, n) < 0)
				return -1;
			continue;
		}
		if (passthrough != NULL) {
			int rc = config_setting_is_group(m)
			             ? fd_config_walk(ctx, m, m_shown, m_rel, table, n, base, passthrough)
			             : fd_config_kafka_leaf(ctx, m, m_shown, m_rel + strlen(passthrough) + 1);
			if (rc < 0)
				return -1;
			continue;
		}
		if (fd_config_rows_under(table, n, m_rel)) {
			if (!config_setting_is_group(m))
				return fd_config_fail(ctx, m, "%s: expected a group { ... }, got %s", m_shown,
				                      fd_config_got(m));
			if (fd_config_walk(ctx, m, m_shown, m_rel, table, n, base, NULL) < 0)
				return -1;
			continue;
		}
		return fd_config_fail(ctx, m, "unknown setting '%s'", m_shown);
	}
	return 0;
}

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

static int fd_config_check_event(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
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

static int fd_config_check_fit_rule(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
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

static int fd_config_check_disqualifier(fd_config_ctx *ctx, const config_setting_t *elem,
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

static int fd_config_check_sla_override(fd_config_ctx *ctx, const config_setting_t *elem,
                                        void *array, int index, const char *shown)
{
	fd_sla_override *o = array;
	for (int j = 0; j < index; j++)
		if (strcmp(o[j].source, o[index].source) == 0)
			return fd_config_duplicate(ctx, elem, j, "source", shown, "source", o[index].source);
	return 0;
}

static int fd_config_check_sla(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
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

static int fd_config_kafka_defaults(fd_config_ctx *ctx)
{
	for (size_t i = 0; i < fd_config_table_size; i++) {
		const fd_config_def *row = &fd_config_table[i];
		if (row->type != FD_CFG_KAFKA_PROP || row->size > 0 || row->def == NULL)
			continue;
		const char *name = strchr(row->path, '.') + 1;
		if (fd_config_kafka_prop(ctx->cfg, name) == NULL &&
		    fd_config_kafka_add(ctx, name, row->def, NULL) < 0)
			return -1;
	}
	return 0;
}

/* ---- overrides --------------------------------------------------------------- */

typedef struct fd_config_segment {
	const char *name; /* NULL: an index */
	int index;
} fd_config_segment;

static bool fd_config_valid_name(const char *s)
{
	/* libconfig's own rule for setting names */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '*'))
		return false;
	for (s++; *s != '\0'; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		          *s == '-' || *s == '_' || *s == '*';
		if (!ok)
			return false;
	}
	return true;
}

static bool fd_config_parse_index(const char *s, int *out)
{
	/* "[12]" */
	if (s[0] != '[' || s[1] == ']')
		return false;
	int x = 0;
	const char *p = s + 1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > 100000)
			return false;
		x = x * 10 + (*p - '0');
	}
	if (p == s + 1 || p[0] != ']' || p[1] != '\0')
		return false;
	*out = x;
	return true;
}

/* Split "slas.[0].duration" (or "slas[0].duration") in place. */
static int fd_config_split_path(char *path, fd_config_segment *segs, int max)
{
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(path, ".", &save); tok != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		char *bracket = strchr(tok, '[');
		if (bracket != NULL && bracket != tok) {
			/* "name[3]": a name segment, then an index segment */
			if (n == max)
				return -1;
			segs[n].name = tok;
			segs[n].index = -1;
			n++;
			char idx[32];
			snprintf(idx, sizeof idx, "%s", bracket);
			*bracket = '\0';
			if (!fd_config_valid_name(tok) || n == max || !fd_config_parse_index(idx, &segs[n].index))
				return -1;
			segs[n].name = NULL;
			n++;
			continue;
		}
		if (n == max)
			return -1;
		if (bracket == tok) {
			if (!fd_config_parse_index(tok, &segs[n].index))
				return -1;
			segs[n].name = NULL;
		} else {
			if (!fd_config_valid_name(tok))
				return -1;
			segs[n].name = tok;
			segs[n].index = -1;
		}
		n++;
	}
	return n;
}

static int fd_config_set_setting(config_setting_t *s, const fd_config_value *v)
{
	switch (v->kind) {
	case FD_CFG_V_INT:
		if (config_setting_type(s) == CONFIG_TYPE_INT)
			return config_setting_set_int(s, (int)v->i) == CONFIG_TRUE ? 0 : -1;
		return config_setting_set_int64(s, v->i) == CONFIG_TRUE ? 0 : -1;
	case FD_CFG_V_FLOAT:
		return config_setting_set_float(s, v->f) == CONFIG_TRUE ? 0 : -1;
	case FD_CFG_V_BOOL:
		return config_setting_set_bool(s, v->b) == CONFIG_TRUE ? 0 : -1;
	case FD_CFG_V_STRING:
		return config_setting_set_string(s, v->s) == CONFIG_TRUE ? 0 : -1;
	case FD_CFG_V_ARRAY:
		for (size_t i = 0; i < v->n; i++)
			if (config_setting_set_string_elem(s, -1, v->items[i]) == NULL)
				return -1;
		return 0;
	}
	return -1;
}

static int fd_config_setting_type_of(const fd_config_value *v)
{
	switch (v->kind) {
	case FD_CFG_V_INT:
		return (v->i >= INT32_MIN && v->i <= INT32_MAX) ? CONFIG_TYPE_INT : CONFIG_TYPE_INT64;
	case FD_CFG_V_FLOAT: return CONFIG_TYPE_FLOAT;
	case FD_CFG_V_BOOL: return CONFIG_TYPE_BOOL;
	case FD_CFG_V_STRING: return CONFIG_TYPE_STRING;
	case FD_CFG_V_ARRAY: return CONFIG_TYPE_ARRAY;
	}
	return CONFIG_TYPE_NONE;
}

/* The libconfig tree has no per-element delete by value, so the properties
 * array loses the entries an override replaces, back to front. */
static void fd_config_drop_listed_prop(fd_config_ctx *ctx, const char *name)
{
	config_setting_t *list = config_lookup(ctx->lc, "kafka.properties");
	if (list == NULL || !config_setting_is_aggregate(list))
		return;
	size_t len = strlen(name);
	for (int i = config_setting_length(list) - 1; i >= 0; i--) {
		const char *text = config_setting_get_string_elem(list, i);
		if (text != NULL && strncmp(text, name, len) == 0 && text[len] == '=')
			config_setting_remove_elem(list, (unsigned)i);
	}
}

static int fd_config_apply_override(fd_config_ctx *ctx, fd_config_override *o)
{
	const char *text = o->text;
	const char *eq = strchr(text, '=');
	if (eq == NULL || eq == text)
		return fd_config_fail_override(ctx, text, "expected path=value");
	if ((size_t)(eq - text) >= FD_CFG_PATH_MAX)
		return fd_config_fail_override(ctx, text, "path too long");

	char path[FD_CFG_PATH_MAX], split[FD_CFG_PATH_MAX];
	snprintf(path, sizeof path, "%.*s", (int)(eq - text), text);
	snprintf(split, sizeof split, "%s", path);
	fd_config_segment segs[FD_CFG_MAX_SEGMENTS];
	int nseg = fd_config_split_path(split, segs, FD_CFG_MAX_SEGMENTS);
	if (nseg <= 0 || segs[nseg - 1].name == NULL)
		return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);

	/* 1. what the path names, according to the table */
	const fd_config_def *table = fd_config_table;
	size_t n = fd_config_table_size;
	const fd_config_def *target = NULL;
	const char *kafka_name = NULL; /* librdkafka property it sets, if any */
	char kafka_buf[FD_CFG_PATH_MAX] = "";
	char rel[FD_CFG_PATH_MAX] = "";
	for (int i = 0; i < nseg; i++) {
		if (segs[i].name == NULL)
			return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);
		char joined[FD_CFG_PATH_MAX];
		fd_config_join(joined, sizeof joined, rel, segs[i].name);
		snprintf(rel, sizeof rel, "%s", joined);
		const fd_config_def *row = fd_config_row(table, n, rel);
		if (row == NULL) {
			if (fd_config_rows_under(table, n, rel))
				continue;
			return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);
		}
		if (i == nseg - 1) {
			target = row;
			break;
		}
		if (row->type == FD_CFG_KAFKA) {
			/* a row of its own (kafka.group.id), or a property named by the
			   rest of the path, dots and all */
			target = fd_config_row(table, n, path);
			if (target != NULL)
				break;
			for (int j = i + 1; j < nseg; j++) {
				if (segs[j].name == NULL)
					return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);
				fd_config_join(joined, sizeof joined, kafka_buf, segs[j].name);
				snprintf(kafka_buf, sizeof kafka_buf, "%s", joined);
			}
			kafka_name = kafka_buf;
			break;
		}
		if (row->type == FD_CFG_LIST && segs[i + 1].name == NULL) {
			i++;
			if (i == nseg - 1)
				break; /* a whole element */
			table = row->sub;
			n = row->n_sub;
			rel[0] = '\0';
			continue;
		}
		if (row->type == FD_CFG_GROUP) {
			table = row->sub;
			n = row->n_sub;
			rel[0] = '\0';
			continue;
		}
		return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);
	}

	fd_config_value v;
	char value[1024];
	if (strlen(eq + 1) >= sizeof value)
		return fd_config_fail_override(ctx, text, "value longer than %zu characters", sizeof value - 1);
	snprintf(value, sizeof value, "%s", eq + 1);
	if (kafka_name != NULL) {
		memset(&v, 0, sizeof v);
		v.kind = FD_CFG_V_STRING;
		v.s = value;
	} else if (target == NULL || target->type == FD_CFG_GROUP || target->type == FD_CFG_KAFKA) {
		return fd_config_fail_override(ctx, text, "'%s' is a group; set one of its settings", path);
	} else if (target->type == FD_CFG_LIST) {
		return fd_config_fail_override(ctx, text,
		                               "'%s' is a list; set a setting of one element, e.g. %s.[0].%s",
		                               path, path, target->sub[0].path);
	} else if (target->type == FD_CFG_KAFKA_LIST) {
		return fd_config_fail_override(ctx, text,
		                               "'%s' is a list; set a property with -o kafka.NAME=VALUE", path);
	} else {
		if (target->type == FD_CFG_KAFKA_PROP)
			kafka_name = strchr(target->path, '.') + 1;
		const char *expected = fd_config_value_from_text(target, value, &v);
		if (expected != NULL)
			return fd_config_fail_override(ctx, text, "%s: expected %s", path, expected);
	}

	/* 2. the same path in the tree, creating groups on the way */
	config_setting_t *cur = config_root_setting(ctx->lc);
	char walked[FD_CFG_PATH_MAX] = ""; /* the path so far, for messages */
	for (int i = 0; i < nseg - 1; i++) {
		config_setting_t *next;
		if (segs[i].name == NULL) {
			next = config_setting_get_elem(cur, (unsigned)segs[i].index);
			if (next == NULL)
				return fd_config_fail_override(ctx, text, "'%s' has no element [%d] (it has %d)", walked,
				                               segs[i].index, config_setting_length(cur));
			char idx[16];
			snprintf(idx, sizeof idx, "[%d]", segs[i].index);
			char joined[FD_CFG_PATH_MAX];
			fd_config_join(joined, sizeof joined, walked, idx);
			snprintf(walked, sizeof walked, "%s", joined);
		} else {
			char joined[FD_CFG_PATH_MAX];
			fd_config_join(joined, sizeof joined, walked, segs[i].name);
			snprintf(walked, sizeof walked, "%s", joined);
			next = config_setting_get_member(cur, segs[i].name);
			bool want_list = segs[i + 1].name == NULL;
			if (next == NULL && want_list)
				return fd_config_fail_override(ctx, text, "'%s' has no element [%d] (it is not set)",
				                               walked, segs[i + 1].index);
			if (next == NULL) {
				next = config_setting_add(cur, segs[i].name, CONFIG_TYPE_GROUP);
				if (next == NULL)
					return fd_config_fail_override(ctx, text, "cannot add '%s'", segs[i].name);
				config_setting_set_hook(next, o);
			} else if (want_list ? !config_setting_is_list(next) : !config_setting_is_group(next)) {
				return fd_config_fail(ctx, next, "%s: expected %s, got %s", walked,
				                      want_list ? "a list" : "a group { ... }", fd_config_got(next));
			}
		}
		cur = next;
	}
	const char *leaf = segs[nseg - 1].name;
	if (config_setting_get_member(cur, leaf) != NULL)
		config_setting_remove(cur, leaf);
	config_setting_t *s = config_setting_add(cur, leaf, fd_config_setting_type_of(&v));
	if (s == NULL || fd_config_set_setting(s, &v) < 0)
		return fd_config_fail_override(ctx, text, "cannot set '%s'", path);
	config_setting_set_hook(s, o);

	if (kafka_name != NULL)
		fd_config_drop_listed_prop(ctx, kafka_name);
	return 0;
}

/* ---- loading ----------------------------------------------------------------- */

static int fd_config_load_text(fd_config *cfg, const char *name, const char *text,
                               const char *include_dir, const char *const *overrides,
                               size_t n_overrides, char *errstr, size_t errstr_size)
{
	config_t lc;
	fd_config_ctx ctx = {
		.cfg = cfg, .name = name, .include_dir = include_dir, .errstr = errstr,
		.errstr_size = errstr_size,
	};
	int rc = -1;

	memset(cfg, 0, sizeof *cfg);
	if (errstr != NULL && errstr_size > 0)
		errstr[0] = '\0';
	config_init(&lc);
	ctx.lc = &lc;
	if (include_dir != NULL)
		config_set_include_dir(&lc, include_dir);

	ctx.kconf = rd_kafka_conf_new();
	if (n_overrides > 0)
		ctx.overrides = calloc(n_overrides, sizeof *ctx.overrides);
	if (ctx.kconf == NULL || (n_overrides > 0 && ctx.overrides == NULL)) {
		fd_config_fail(&ctx, NULL, "out of memory");
		goto fail;
	}

	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		char file[FD_CFG_PATH_MAX + 1024];
		fd_config_file_name(&ctx, config_error_file(&lc), file, sizeof file);
		if (errstr != NULL && errstr_size > 0)
			snprintf(errstr, errstr_size, "%s:%d: %s", file, config_error_line(&lc),
			         config_error_text(&lc));
		goto fail;
	}

	ctx.n_overrides = n_overrides;
	for (size_t i = 0; i < n_overrides; i++) {
		ctx.overrides[i].text = overrides[i];
		if (fd_config_apply_override(&ctx, &ctx.overrides[i]) < 0)
			goto fail;
	}

	if (fd_config_apply_defaults(&ctx, fd_config_table, fd_config_table_size, cfg) < 0 ||
	    fd_config_walk(&ctx, config_root_setting(&lc), "", "", fd_config_table, fd_config_table_size,
	                   cfg, NULL) < 0 ||
	    fd_config_check_grades(&ctx) < 0 || fd_config_check_windows(&ctx) < 0 ||
	    fd_config_check_topics(&ctx) < 0 || fd_config_kafka_defaults(&ctx) < 0)
		goto fail;

	snprintf(cfg->path, sizeof cfg->path, "%s", name);
	rc = 0;
	goto out;

fail:
	fd_config_free(cfg);
	memset(cfg, 0, sizeof *cfg);
out:
	free(ctx.prop_at);
	free(ctx.overrides);
	if (ctx.kconf != NULL)
		rd_kafka_conf_destroy(ctx.kconf);
	config_destroy(&lc);
	return rc;
}

int fd_config_load_string(fd_config *cfg, const char *name, const char *text,
                          const char *const *overrides, size_t n_overrides, char *errstr,
                          size_t errstr_size)
{
	return fd_config_load_text(cfg, name, text, NULL, overrides, n_overrides, errstr, errstr_size);
}

int fd_config_load(fd_config *cfg, const char *path, const char *const *overrides,
                   size_t n_overrides, char *errstr, size_t errstr_size)
{
	char *text = NULL;
	char *dir = NULL;
	int rc = -1;
	FILE *fp = NULL;

	if (errstr == NULL)
		errstr_size = 0;
	memset(cfg, 0, sizeof *cfg);
	fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	text = malloc(FD_CFG_FILE_MAX + 1);
	if (text == NULL) {
		snprintf(errstr, errstr_size, "%s: out of memory", path);
		goto out;
	}
	size_t len = fread(text, 1, FD_CFG_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		snprintf(errstr, errstr_size, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (len > FD_CFG_FILE_MAX) {
		snprintf(errstr, errstr_size, "%s: larger than %u bytes", path, FD_CFG_FILE_MAX);
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(errstr, errstr_size, "%s: contains a NUL byte; not a text file", path);
		goto out;
	}
	text[len] = '\0';

	/* @include "x" is relative to the including file's directory */
	dir = strdup(path);
	if (dir == NULL) {
		snprintf(errstr, errstr_size, "%s: out of memory", path);
		goto out;
	}
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	rc = fd_config_load_text(cfg, path, text, dir, overrides, n_overrides, errstr, errstr_size);
out:
	if (fp != NULL)
		fclose(fp);
	free(dir);
	free(text);
	return rc;
}

void fd_config_defaults(fd_config *cfg)
{
	char scratch[256];
	fd_config_ctx ctx = {
		.cfg = cfg, .name = "defaults", .errstr = scratch, .errstr_size = sizeof scratch,
	};
	memset(cfg, 0, sizeof *cfg);
	/* cannot fail: the unit tests load an empty file, which takes the same
	   path with errors reported */
	(void)fd_config_apply_defaults(&ctx, fd_config_table, fd_config_table_size, cfg);
}

void fd_config_free(fd_config *cfg)
{
	for (int i = 0; i < cfg->settings.n_kafka_props; i++) {
		free(cfg->settings.kafka_props[i].name);
		free(cfg->settings.kafka_props[i].value);
	}
	free(cfg->settings.kafka_props);
	cfg->settings.kafka_props = NULL;
	cfg->settings.n_kafka_props = 0;
}



const char *fd_config_kafka_prop(const fd_config *cfg, const char *name)
{
	if (strcmp(name, "group.id") == 0)
		return cfg->settings.group_id;
	for (int i = 0; i < cfg->settings.n_kafka_props; i++)
		if (strcmp(cfg->settings.kafka_props[i].name, name) == 0)
			return cfg->settings.kafka_props[i].value;
	return NULL;
}
