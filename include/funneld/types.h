/*
 * funneld/types.h — the domain vocabulary shared by the engine, the codecs
 * and the config loader: lifecycle stages, sales activity kinds, rejection
 * reasons, intent classes and transition triggers, with their canonical
 * names.
 *
 * This header holds no state and does no I/O. The names returned by the
 * *_name() functions are the ones used in the config file, in logs and in
 * the JSON admin API; the numeric values are NOT the protobuf enum values
 * (the codecs map between the two).
 */
#ifndef FUNNELD_TYPES_H
#define FUNNELD_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fd_stage {
	FD_STAGE_LEAD = 0,
	FD_STAGE_MQL,
	FD_STAGE_SAL,
	FD_STAGE_SQL,
	FD_STAGE_OPPORTUNITY,
	FD_STAGE_CUSTOMER,
	FD_STAGE_NURTURE,
	FD_STAGE_DISQUALIFIED,
	FD_STAGE_COUNT
} fd_stage;

typedef enum fd_activity_kind {
	FD_ACT_ASSIGN = 0,
	FD_ACT_TOUCH,
	FD_ACT_ACCEPT,
	FD_ACT_REJECT,
	FD_ACT_REVERT,
	FD_ACT_QUALIFY,
	FD_ACT_OPPORTUNITY,
	FD_ACT_WON,
	FD_ACT_LOST,
	FD_ACT_COUNT
} fd_activity_kind;

typedef enum fd_reason {
	FD_REASON_NONE = 0,
	FD_REASON_BAD_FIT,
	FD_REASON_BAD_TIMING,
	FD_REASON_NO_BUDGET,
	FD_REASON_NO_RESPONSE,
	FD_REASON_DUPLICATE,
	FD_REASON_COMPETITOR,
	FD_REASON_OTHER,
	FD_REASON_COUNT
} fd_reason;

typedef enum fd_intent {
	FD_INTENT_LOW = 0,
	FD_INTENT_HIGH,
	FD_INTENT_HAND_RAISE,
	FD_INTENT_COUNT
} fd_intent;

typedef enum fd_trigger {
	FD_TRIGGER_SCORE_THRESHOLD = 0,
	FD_TRIGGER_HAND_RAISE,
	FD_TRIGGER_FAST_TRACK,
	FD_TRIGGER_SALES_ACCEPT,
	FD_TRIGGER_SALES_REJECT,
	FD_TRIGGER_SALES_REVERT,
	FD_TRIGGER_SALES_QUALIFY,
	FD_TRIGGER_SALES_OPPORTUNITY,
	FD_TRIGGER_SALES_WON,
	FD_TRIGGER_SALES_LOST,
	FD_TRIGGER_REVIEW_DUE,
	FD_TRIGGER_SLA_EXPIRED,
	FD_TRIGGER_DISQUALIFIED_BY_FIT,
	FD_TRIGGER_REQUALIFIED_BY_FIT,
	FD_TRIGGER_COUNT
} fd_trigger;

typedef enum fd_sla_kind {
	FD_SLA_WARNING = 0,
	FD_SLA_BREACH,
	FD_SLA_MET,
	FD_SLA_KIND_COUNT
} fd_sla_kind;

/* Grades are stored as 0..3 for A..D. */
enum { FD_GRADE_A = 0, FD_GRADE_B, FD_GRADE_C, FD_GRADE_D, FD_GRADE_COUNT };

/* Canonical upper/lower-case names ("MQL", "TOUCH", "BAD_TIMING", "high",
 * "score_threshold", "BREACH"). Never NULL for an in-range value; "?"
 * otherwise. */
const char *fd_stage_name(fd_stage s);
const char *fd_activity_kind_name(fd_activity_kind k);
const char *fd_reason_name(fd_reason r);
const char *fd_intent_name(fd_intent i);
const char *fd_trigger_name(fd_trigger t);
const char *fd_sla_kind_name(fd_sla_kind k);
char fd_grade_letter(int grade);

/* Parse a canonical name, case-insensitively. Return 0 and set *out, or -1
 * when the name is unknown. */
int fd_stage_parse(const char *name, fd_stage *out);
int fd_activity_kind_parse(const char *name, fd_activity_kind *out);
int fd_reason_parse(const char *name, fd_reason *out);
int fd_intent_parse(const char *name, fd_intent *out);
int fd_grade_parse(const char *name, int *out);

/* Durations: "250ms", "90s", "15m", "48h", "30d", "2w", or a plain integer
 * number of milliseconds. Return 0 and set *out_ms (> 0 unless the text is
 * "0"), or -1 on malformed text or overflow. */
int fd_duration_parse(const char *text, int64_t *out_ms);

/* Millisecond constants. */
#define FD_MS_SECOND INT64_C(1000)
#define FD_MS_MINUTE (60 * FD_MS_SECOND)
#define FD_MS_HOUR (60 * FD_MS_MINUTE)
#define FD_MS_DAY (24 * FD_MS_HOUR)
/* The latest time an input may carry: 9999-12-31T23:59:59.999Z. Every
 * input time is in [1, FD_TIME_MAX], so any difference of two and any sum
 * with a configured duration (at most ten years) fits in an int64. */
#define FD_TIME_MAX INT64_C(253402300799999)

#endif /* FUNNELD_TYPES_H */
