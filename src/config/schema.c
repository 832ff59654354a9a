/*
 * schema.c — the rows of fd_config_table: every setting funneld reads, with
 * its type, default, range, storage and description, and the names each
 * enumerated setting accepts.
 *
 * The table is data. What a row means is decided elsewhere: config.c stores
 * values by it, override.c types `-o` values by it, check.c holds the
 * `check` hooks the list rows name. Adding a setting is adding a row here,
 * with its `doc`, and writing it out in config/funneld.conf (the unit test
 * checks both). This file reads nothing, validates nothing and has no state.
 */
#include "config/config_internal.h"

#include <stddef.h>

_Static_assert(sizeof(fd_stage) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fd_intent) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fd_field) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fd_encoding) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fd_guarantee) == sizeof(int), "enums are stored as int");
_Static_assert(FD_REASON_COUNT <= 32 && FD_ACT_COUNT <= 32 && FD_STAGE_COUNT <= 32,
               "sets are 32-bit masks");

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
static const char *const fd_config_partitioner_names[] = { "murmur2", "consistent", "fnv1a",
	                                                       "none" };
static const int fd_config_partitioner_values[] = { FD_PARTITIONER_MURMUR2,
	                                                FD_PARTITIONER_CONSISTENT,
	                                                FD_PARTITIONER_FNV1A, FD_PARTITIONER_NONE };
static const char *const fd_config_misrouted_names[] = { "process", "dead_letter" };
static const int fd_config_misrouted_values[] = { FD_MISROUTED_PROCESS,
	                                              FD_MISROUTED_DEAD_LETTER };
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
static const fd_config_enum fd_config_partitioners = {
	.what = "partitioner", .n = 4, .names = fd_config_partitioner_names,
	.values = fd_config_partitioner_values
};
static const fd_config_enum fd_config_misrouted = {
	.what = "policy", .n = 2, .names = fd_config_misrouted_names,
	.values = fd_config_misrouted_values
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

/* ---- the table ------------------------------------------------------------- */

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

	{ .path = "processing.shutdown_timeout", .type = FD_CFG_DURATION, .def = "30s", .min = 100,
	  .max = (double)FD_MS_HOUR, .offset = FD_CFG_OFF(shutdown_timeout_ms),
	  .doc = "a stop waits this long for the brokers to acknowledge the outputs; then it "
	         "exits 1 without committing their inputs" },
	{ .path = "processing.max_pending_intervals", .type = FD_CFG_INT, .def = "120", .min = 2,
	  .max = 100000, .offset = FD_CFG_OFF(max_pending_intervals),
	  .doc = "commit intervals whose outputs wait for the brokers kept apart; beyond, the "
	         "next ones merge into one (memory stays bounded in an outage)" },
	{ .path = "processing.dead_letter_max_payload", .type = FD_CFG_INT64, .def = "65536",
	  .min = 0, .max = 900000, .offset = FD_CFG_OFF(dead_letter_max_payload),
	  .doc = "a record no broker takes (too large) becomes a dead letter with the first this "
	         "many bytes of its value" },

	{ .path = "processing.max_idle", .type = FD_CFG_DURATION, .def = "0", .min = 0,
	  .max = (double)FD_MS_HOUR, .offset = FD_CFG_OFF(max_idle_ms),
	  .doc = "inputs are applied in event-time order per partition; an input read to its "
	         "end with nothing new is waited for this long, for a producer that may still "
	         "send an older record (Kafka Streams' max.task.idle.ms; 0: not at all)" },
	{ .path = "processing.max_lag_wait", .type = FD_CFG_DURATION, .def = "10s", .min = 0,
	  .max = (double)FD_MS_HOUR, .offset = FD_CFG_OFF(max_lag_wait_ms),
	  .doc = "an input not read to its end (records on the broker not read yet: it lags, "
	         "its broker is slow, it was just assigned) is waited for this long before the "
	         "others go on without it (0: not at all)" },
	{ .path = "processing.partitioner", .type = FD_CFG_ENUM, .def = "murmur2",
	  .names = &fd_config_partitioners, .offset = FD_CFG_OFF(partitioner),
	  .size = sizeof(fd_partitioner),
	  .doc = "the partitioner the input producers hash lead ids with: murmur2 (Java "
	         "clients), consistent (CRC-32: librdkafka's and kcat's default), fnv1a "
	         "(Sarama), none (the partition is not checked)" },
	{ .path = "processing.misrouted", .type = FD_CFG_ENUM, .def = "process",
	  .names = &fd_config_misrouted, .offset = FD_CFG_OFF(misrouted),
	  .size = sizeof(fd_misrouted_policy),
	  .doc = "an input record without a key, keyed by another id than its lead's, or on "
	         "another partition than its key hashes to: process (counted and logged) or "
	         "dead_letter" },
	{ .path = "processing.order_buffer", .type = FD_CFG_INT, .def = "4096", .min = 256,
	  .max = 1000000, .offset = FD_CFG_OFF(order_buffer),
	  .doc = "input records read and decoded but held back to be merged in event-time "
	         "order, at most (restart to change)" },

	/* state */
	{ .path = "state.lead_ttl", .type = FD_CFG_DURATION, .def = "180d", .min = 0,
	  .max = FD_CFG_DAYS(3650), .offset = FD_CFG_OFF(lead_ttl_ms),
	  .doc = "evict leads without input for this long in their partition's stream time "
	         "(the greatest event time it has seen), with nothing pending; \"0\": never" },
	{ .path = "state.ttl_scan", .type = FD_CFG_INT64, .def = "65536", .min = 1, .max = 2e9,
	  .offset = FD_CFG_OFF(ttl_scan),
	  .doc = "leads the TTL looks at per commit interval (a sweep of the table spread over "
	         "intervals: bounded work per tick)" },
	{ .path = "state.funnel_days", .type = FD_CFG_INT64, .def = "400", .min = 1, .max = 36500,
	  .offset = FD_CFG_OFF(funnel_days),
	  .doc = "funnel counters kept per partition in buckets of one UTC day of event time, "
	         "this many days (older days fold into one bucket): the windows /v1/funnel "
	         "answers exactly" },
	{ .path = "state.reload_batch", .type = FD_CFG_INT64, .def = "256", .min = 1, .max = 1e7,
	  .offset = FD_CFG_OFF(reload_batch),
	  .doc = "after a SIGHUP, leads moved to the new rules per turn of the loop (the rest "
	         "move on first touch): bounded work per turn" },
	{ .path = "state.huge_pages", .type = FD_CFG_BOOL, .def = "false",
	  .offset = FD_CFG_OFF(huge_pages),
	  .doc = "transparent huge pages for the lead table: ~1.3x engine throughput at millions "
	         "of leads, but page faults that may stall a loop turn for memory compaction" },
	{ .path = "state.max_leads", .type = FD_CFG_INT64, .def = "5000000", .min = 0, .max = 2e9,
	  .offset = FD_CFG_OFF(max_leads), .doc = "hard cap on leads in memory; 0: none" },

	/* admin */
	{ .path = "admin.address", .type = FD_CFG_STRING, .def = "127.0.0.1",
	  .offset = FD_CFG_OFF(admin_address), .size = FD_NAME_MAX,
	  .doc = "admin HTTP listen address; \"\" disables it" },
	{ .path = "admin.port", .type = FD_CFG_INT, .def = "8080", .min = 0, .max = 65535,
	  .offset = FD_CFG_OFF(admin_port), .doc = "admin HTTP port; 0: an ephemeral port (logged)" },
	{ .path = "admin.max_connections", .type = FD_CFG_INT, .def = "64", .min = 1, .max = 10000,
	  .offset = FD_CFG_OFF(admin_max_connections),
	  .doc = "admin HTTP connections open at once; more wait in the listen backlog" },
	{ .path = "admin.request_timeout", .type = FD_CFG_DURATION, .def = "5s", .min = 100,
	  .max = (double)FD_MS_HOUR, .offset = FD_CFG_OFF(admin_request_timeout_ms),
	  .doc = "admin HTTP: a connection is closed this long after it was accepted, answered "
	         "or not (keep-alive requests share it)" },

	{ .path = "admin.lag_interval", .type = FD_CFG_DURATION, .def = "5s", .min = 0,
	  .max = (double)FD_MS_HOUR, .offset = FD_CFG_OFF(lag_interval_ms),
	  .doc = "how often librdkafka reports the consumer lag of each assigned partition "
	         "(funneld_consumer_lag; its statistics.interval.ms); \"0\": never" },

	/* log */
	{ .path = "log.level", .type = FD_CFG_ENUM, .flags = FD_CFG_F_INT_OK, .def = "info",
	  .min = 0, .max = 7, .names = &fd_config_log_levels, .offset = FD_CFG_OFF(log_level),
	  .size = sizeof(int), .doc = "syslog level name or 0..7" },
	{ .path = "log.redact_ids", .type = FD_CFG_BOOL, .def = "true",
	  .offset = FD_CFG_OFF(log_redact_ids),
	  .doc = "lead ids (often e-mail addresses) appear in log lines as a 12-hex-digit keyed "
	         "hash, the same for the same id wherever log.redact_key is the same" },
	{ .path = "log.redact_key", .type = FD_CFG_STRING, .def = "",
	  .offset = FD_CFG_OFF(log_redact_key), .size = FD_NAME_MAX,
	  .doc = "the key of that hash (SipHash-2-4); \"\": kafka.group.id. Set a secret one so "
	         "that a token cannot be matched to a guessed address" },

	/* scoring */
	{ .path = "scoring.half_life", .type = FD_CFG_DURATION, .def = "30d", .min = FD_MS_SECOND,
	  .max = FD_CFG_DAYS(3650), .offset = FD_ENG_OFF(half_life_ms),
	  .doc = "engagement points halve every half_life" },
	{ .path = "scoring.max_future_skew", .type = FD_CFG_DURATION, .def = "5m",
	  .min = FD_MS_SECOND, .max = FD_CFG_DAYS(30), .offset = FD_ENG_OFF(max_future_skew_ms),
	  .doc = "events further ahead of now are invalid (1s..30d: the check cannot be turned "
	         "off)" },
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

	{ .path = "scoring.publish_min_change", .type = FD_CFG_FLOAT, .def = "1.0", .min = 0,
	  .max = 1e6, .offset = FD_ENG_OFF(publish_min_change),
	  .doc = "a LeadScore is published when the engagement or the fit moved by this many "
	         "points since the lead's last one, or its stage or grade changed (0: every "
	         "change)" },
	{ .path = "scoring.publish_min_interval", .type = FD_CFG_DURATION, .def = "5m", .min = 0,
	  .max = FD_CFG_DAYS(1), .offset = FD_ENG_OFF(publish_min_interval_ms),
	  .doc = "a lead's LeadScores at most this often in its own time (stage and grade changes "
	         "excepted); a change held back is published when the interval has passed" },
	{ .path = "scoring.duplicate_ids", .type = FD_CFG_INT, .def = "8", .min = 1,
	  .max = FD_SEEN_MAX, .offset = FD_ENG_OFF(duplicate_ids),
	  .doc = "an event or activity id equal to one of the lead's last this many ids counts "
	         "once" },

	/* context */
	{ .path = "context.recent_activities", .type = FD_CFG_INT, .def = "10", .min = 1,
	  .max = FD_MAX_CONTEXT, .offset = FD_ENG_OFF(recent_activities),
	  .doc = "last activities carried by a transition" },
	{ .path = "context.top_interests", .type = FD_CFG_INT, .def = "5", .min = 1,
	  .max = FD_MAX_CONTEXT, .offset = FD_ENG_OFF(top_interests),
	  .doc = "top content ids carried by a transition" },
};

const size_t fd_config_table_size = sizeof fd_config_table / sizeof fd_config_table[0];
