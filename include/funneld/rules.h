/*
 * funneld/rules.h — the engine's rules, as plain data: scoring (event types,
 * points, caps, decay, frequency windows), fit (rules, grades,
 * disqualifiers), the MQL matrix, lifecycle (nurture, review, re-MQL) and
 * SLAs.
 *
 * The config layer (src/config) builds an fd_rules from the file and
 * validates it completely, so the engine never re-validates; tests and
 * replay may fill one by hand. Fixed capacities keep the struct a flat
 * value: it can be copied, compared and swapped atomically on SIGHUP, and
 * owns no heap memory.
 *
 * What it is not: no Kafka, topics, admin or logging settings (those are
 * the daemon's, in src/config/config.h).
 */
#ifndef FUNNELD_RULES_H
#define FUNNELD_RULES_H

#include "funneld/types.h"

#define FD_NAME_MAX 64        /* event types, rule names, SLA names, values */
#define FD_TOPIC_MAX 250      /* Kafka's own topic name limit is 249 */
#define FD_MAX_EVENT_TYPES 64
#define FD_MAX_FIT_RULES 64
#define FD_MAX_DISQUALIFIERS 32
#define FD_MAX_MATCH_VALUES 32
#define FD_MAX_SLAS 16
#define FD_MAX_SLA_OVERRIDES 8
#define FD_MAX_SOURCES 16
#define FD_MAX_WINDOWS 4
#define FD_FREQ_BUCKETS 32     /* frequency buckets kept per lead */
#define FD_MAX_CONTEXT 32      /* max recent activities / top interests */

/* Profile fields a fit rule or disqualifier can test. Missing values (empty
 * string, 0 for numbers, no technologies) never match any rule, negated or
 * not. email_domain is the part of email after '@'. String comparisons are
 * ASCII case-insensitive. technologies matches when any element matches. */
typedef enum fd_field {
	FD_FIELD_EMAIL = 0,
	FD_FIELD_EMAIL_DOMAIN,
	FD_FIELD_JOB_TITLE,
	FD_FIELD_SENIORITY,
	FD_FIELD_DEPARTMENT,
	FD_FIELD_INDUSTRY,
	FD_FIELD_COUNTRY,
	FD_FIELD_EMPLOYEE_COUNT, /* numeric */
	FD_FIELD_ANNUAL_REVENUE, /* numeric */
	FD_FIELD_TECHNOLOGIES,
	FD_FIELD_LEAD_SOURCE,
	FD_FIELD_COUNT
} fd_field;

typedef enum fd_match_op {
	FD_MATCH_EQUALS = 0, /* values[0] */
	FD_MATCH_ONE_OF,     /* any of values[] */
	FD_MATCH_PREFIX,     /* starts with any of values[] */
	FD_MATCH_CONTAINS,   /* contains any of values[] as a substring */
	FD_MATCH_RANGE,      /* numeric fields only: min <= x < max */
	FD_MATCH_OP_COUNT
} fd_match_op;

typedef struct fd_match {
	fd_field field;
	fd_match_op op;
	bool negate; /* "not": matches a present value that fails the test */
	int n_values;
	char values[FD_MAX_MATCH_VALUES][FD_NAME_MAX];
	bool has_min, has_max;
	double min, max;
} fd_match;

typedef struct fd_event_rule {
	char type[FD_NAME_MAX];
	double points;             /* may be negative */
	fd_intent intent;
	double cap_points;         /* > 0: max points per cap window; 0: none */
	int64_t cap_window_ms;     /* tumbling, aligned to the Unix epoch */
	int line;                  /* config line, for diagnostics */
} fd_event_rule;

typedef struct fd_fit_rule {
	char name[FD_NAME_MAX];
	fd_match match;
	double points;
	int line;
} fd_fit_rule;

typedef struct fd_disqualifier {
	char name[FD_NAME_MAX];  /* becomes the transition's reason */
	fd_match match;
	int line;
} fd_disqualifier;

typedef struct fd_sla_override {
	char source[FD_NAME_MAX]; /* lead source (profile lead_source, else first channel) */
	int64_t duration_ms;
} fd_sla_override;

typedef struct fd_sla_def {
	char name[FD_NAME_MAX];
	fd_stage stage;             /* the SLA opens when the lead enters it... */
	uint32_t start_on;          /* ...or, if non-zero, on the first activity of
	                               one of these kinds (bit 1<<fd_activity_kind)
	                               while in `stage` */
	uint32_t scope;             /* stages (bit 1<<fd_stage) during which it stays
	                               open; always includes `stage` */
	uint32_t satisfied_by;      /* activity kinds that satisfy it (MET) */
	bool satisfied_by_exit;     /* leaving the scope is MET (else: closed
	                               silently) */
	int64_t duration_ms;
	double warning_fraction;    /* 0 < f < 1: WARNING at started + f*duration;
	                               0: no warning */
	int n_overrides;
	fd_sla_override overrides[FD_MAX_SLA_OVERRIDES];
	bool has_expiry_action;
	fd_stage expiry_stage;      /* on BREACH, move the lead here (trigger
	                               sla_expired, reason = SLA name) */
	int line;
} fd_sla_def;

typedef struct fd_rules {
	/* scoring */
	int64_t half_life_ms;
	int64_t max_future_skew_ms;  /* events further in the future than now +
	                                this are invalid */
	int n_event_types;
	fd_event_rule event_types[FD_MAX_EVENT_TYPES];
	bool unknown_types_score_zero; /* false: unknown type is invalid input */
	/* the score stream (fd_sink.score): a LeadScore when the stage or
	 * grade changed or the engagement or fit moved by publish_min_change
	 * points (0: every change), at most once per publish_min_interval_ms
	 * of the lead's time (0: no limit) */
	double publish_min_change;
	int64_t publish_min_interval_ms;

	/* frequency */
	int64_t bucket_ms;
	int n_windows;
	int64_t windows_ms[FD_MAX_WINDOWS]; /* each a multiple of bucket_ms and
	                                        <= FD_FREQ_BUCKETS buckets; the
	                                        first two are reported as
	                                        frequency_7d and frequency_30d */

	/* fit */
	int n_fit_rules;
	fd_fit_rule fit_rules[FD_MAX_FIT_RULES];
	double grade_min[3];        /* fit >= grade_min[0] -> A, [1] -> B, [2] -> C,
	                               else D; strictly decreasing */
	int n_disqualifiers;
	fd_disqualifier disqualifiers[FD_MAX_DISQUALIFIERS];

	/* MQL */
	bool mql_enabled_for_grade[FD_GRADE_COUNT];
	double mql_engagement[FD_GRADE_COUNT]; /* engagement >= this for the grade */
	bool hand_raise_mql;
	int n_fast_track_sources;
	char fast_track_sources[FD_MAX_SOURCES][FD_NAME_MAX];
	int fast_track_min_grade;   /* FD_GRADE_*: fast track needs grade <= this */

	/* lifecycle */
	uint32_t reject_disqualifies; /* reasons (bit 1<<fd_reason) that send a
	                                 REJECT to DISQUALIFIED instead of NURTURE */
	int nurture_review_days;      /* default review delay */
	int nurture_reason_days[FD_REASON_COUNT]; /* 0: use the default */
	int lost_review_days;
	fd_stage review_stage;        /* where a due review sends the lead
	                                 (MQL or LEAD) */
	int64_t remql_cooldown_ms;    /* NURTURE -> MQL by score only after this long
	                                 in NURTURE */

	/* SLAs */
	int n_slas;
	fd_sla_def slas[FD_MAX_SLAS];

	/* duplicates: an event or activity id equal to one of the lead's last
	 * `duplicate_ids` applied ids (1..FD_SEEN_MAX; 0: the default, 8)
	 * counts once */
	int duplicate_ids;

	/* handoff context */
	int recent_activities;  /* N last activities carried by a transition */
	int top_interests;      /* K top content ids */
} fd_rules;

/* Index of the event rule for `type`, or -1. */
int fd_rules_event_type(const fd_rules *r, const char *type);
/* Index of the SLA named `name`, or -1. */
int fd_rules_sla(const fd_rules *r, const char *name);

/* Config-file name of a profile field ("email_domain"); "?" if out of
 * range. */
const char *fd_field_name(fd_field f);

/* ---- fit: evaluating the rules on one profile ------------------------------ */

typedef struct fd_profile fd_profile;

typedef struct fd_fit_result {
	double points;
	int grade;          /* FD_GRADE_* */
	int disqualifier;   /* index of the first matching disqualifier, or -1 */
} fd_fit_result;

/* Fit points, grade and the first matching disqualifier of profile p. */
void fd_fit_evaluate(const fd_rules *r, const fd_profile *p, fd_fit_result *out);

/* Grade for a fit score under r's thresholds. */
int fd_fit_grade(const fd_rules *r, double fit);

#endif /* FUNNELD_RULES_H */
