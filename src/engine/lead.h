/*
 * lead.h — the per-lead state the engine keeps, split in two:
 *
 *  - fd_lead, the core record (scores, stage, times, frequency buckets),
 *    stored by value in the lead
 *    table, one per lead; its size is what "bytes of core state per lead"
 *    measures;
 *  - the lead's context block, stored right after the core record in the
 *    same table record, whose layout is computed from the config at engine
 *    creation (see layout_ctx in engine.c): the hashes of the last
 *    duplicate_ids input ids (a ring; seen_next in the core), open SLA slots,
 *    per-type cap windows, score breakdown by event type, the last N
 *    activities and the top K interests.
 *
 * Internal to the engine (and, later, the state changelog codec); not part
 * of the public API.
 */
#ifndef FD_ENGINE_LEAD_H
#define FD_ENGINE_LEAD_H

#include <stdint.h>

#include "funneld/rules.h"

enum { FD_SLOT_FREE = 0, FD_SLOT_OPEN = 1, FD_SLOT_DONE = 2 };

/* One SLA instance. FREE: not running in this scope visit; OPEN: running;
 * DONE: met or breached, not restarted until the lead leaves the scope. */
typedef struct fd_sla_slot {
	int64_t started_ms;
	int64_t due_ms;
	uint32_t timer;   /* pending fd_timers handle, 0 if none */
	uint8_t state;    /* FD_SLOT_* */
	uint8_t warned;
} fd_sla_slot;

typedef struct fd_recent {
	int64_t at_ms;
	uint32_t content;  /* intern id */
	uint32_t channel;  /* intern id */
	uint32_t type;     /* event rule index + 1; 0 = unknown type */
} fd_recent;

typedef struct fd_cap_state {
	int64_t window;
	double awarded;
} fd_cap_state;

typedef struct fd_interest_slot {
	uint32_t content;  /* intern id; 0 = empty */
	float score;       /* on the lead's engagement as-of basis */
} fd_interest_slot;

typedef struct fd_lead {
	double engagement;          /* on the as-of basis below */
	int64_t engagement_as_of;   /* INT64_MIN: no event yet */
	int64_t last_event_ms;      /* 0: never */
	int64_t last_high_intent_ms;
	int64_t stage_entered_ms;
	int64_t review_at_ms;       /* NURTURE review date, 0 if none */
	int64_t profile_updated_ms; /* INT64_MIN: no profile yet */
	int64_t freq_head;          /* newest frequency bucket, INT64_MIN: none */
	int64_t positions[3];       /* last applied Kafka position per input kind */
	int64_t last_input_ms;      /* newest input time of any kind (TTL) */
	fd_published published;     /* what the score stream last said */
	uint16_t freq[FD_FREQ_BUCKETS];
	float fit;
	uint32_t owner;             /* intern ids */
	uint32_t source;
	uint32_t review_timer;      /* fd_timers handle, 0 if none */
	uint32_t score_timer;       /* a held LeadScore is asked again (publish.h) */
	int32_t partition;          /* input partition that owns the lead */
	uint8_t stage;              /* fd_stage */
	uint8_t grade;
	int8_t dq_rule;             /* disqualifier index when DISQUALIFIED by fit, else -1 */
	uint8_t seen_next;
	uint8_t n_recent;
	uint8_t n_interests;
	/* the context block follows */
} fd_lead;

#endif
