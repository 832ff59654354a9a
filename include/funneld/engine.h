/*
 * funneld/engine.h — the pure engine: lead table, scoring, lifecycle, SLAs
 * and timers.
 *
 * The engine never reads a clock and does no I/O. Every entry point takes
 * `now` (milliseconds since the Unix epoch, wall clock in the daemon, a
 * virtual clock in tests and replay). Scoring uses event time; SLA
 * deadlines are absolute timestamps in the lead state; fd_engine_advance()
 * fires every deadline <= now.
 *
 * Inputs are decoded structs whose strings are borrowed for the duration of
 * the call. Outputs (transitions, SLA events, "lead changed" notices) are
 * delivered synchronously through the caller's fd_sink; everything an output
 * points to is valid only during the callback. When an entry point returns an
 * error, no callback was called and no state changed.
 *
 * Determinism: the same sequence of calls with the same arguments produces
 * the same outputs, byte for byte, including transition_id / sla_event_id
 * (hashes of the cause, never of a clock or a counter).
 */
#ifndef FUNNELD_ENGINE_H
#define FUNNELD_ENGINE_H

#include "funneld/rules.h"

typedef struct fd_engine fd_engine;

/* ---- inputs -------------------------------------------------------------- */

typedef struct fd_engagement {
	const char *event_id;     /* required for duplicate suppression; may be "" */
	const char *lead_id;      /* required */
	const char *account_id;
	int64_t occurred_at_ms;   /* required, > 0 */
	const char *type;         /* must be a configured type (see config) */
	const char *channel;
	const char *content_id;
	const char *url;
	const char *campaign;
	int32_t partition;        /* input partition that owns the lead */
	int64_t position;         /* Kafka offset + 1; 0: not from Kafka (see below) */
} fd_engagement;

typedef struct fd_profile {
	const char *lead_id;      /* required */
	int64_t updated_at_ms;    /* older than the last applied update: ignored */
	const char *email;
	const char *job_title;
	const char *seniority;
	const char *department;
	const char *industry;
	const char *country;
	int64_t employee_count;   /* 0: unknown */
	int64_t annual_revenue;   /* 0: unknown */
	const char *const *technologies;
	size_t n_technologies;
	const char *lead_source;
	const char *owner_id;
	int32_t partition;
	int64_t position;
} fd_profile;

typedef struct fd_activity {
	const char *activity_id;
	const char *lead_id;      /* required */
	int64_t occurred_at_ms;   /* required, > 0 */
	const char *rep_id;
	fd_activity_kind kind;
	fd_reason reason;
	const char *note;
	int32_t review_after_days; /* 0: configured default */
	int32_t partition;
	int64_t position;
} fd_activity;

/* Replays: a lead remembers, per input kind (engagement, profile,
 * activity), the position of the last record it applied. A record whose
 * position is not after that is a replay and returns FD_DUPLICATE without
 * touching anything, so reprocessing input after a crash never counts twice.
 * Positions are per partition and a lead lives on one partition. */

/* ---- outputs ------------------------------------------------------------- */

#define FD_ID_HEX 32 /* ids are 128-bit, as 32 lower-case hex digits */

typedef struct fd_score_snapshot {
	double engagement;        /* decayed to the snapshot time */
	double fit;
	int grade;                /* FD_GRADE_* */
	double recency_days;      /* since the last event; -1: never */
	double high_intent_recency_days; /* since the last high-intent or hand-raise event; -1: never */
	uint32_t frequency[FD_MAX_WINDOWS]; /* events in each configured window */
	int n_windows;
	int64_t as_of_ms;
} fd_score_snapshot;

typedef struct fd_recent_activity {
	const char *type;
	const char *content_id;
	const char *channel;
	int64_t occurred_at_ms;
} fd_recent_activity;

typedef struct fd_interest {
	const char *content_id;
	double score;             /* decayed points earned on this content */
} fd_interest;

typedef struct fd_breakdown {
	const char *type;
	double points;            /* decayed points of this type */
} fd_breakdown;

typedef struct fd_transition {
	char transition_id[FD_ID_HEX + 1];
	const char *lead_id;
	fd_stage from_stage;
	fd_stage to_stage;
	fd_trigger trigger;
	const char *reason;       /* rule, reason or SLA name; "" if none */
	const char *cause_id;     /* event_id / activity_id / timer cause */
	int64_t occurred_at_ms;
	const char *owner_id;     /* "" if none */
	const char *lead_source;  /* "" if unknown */
	int64_t review_at_ms;     /* entering NURTURE: review date; else 0 */
	fd_score_snapshot score;
	const fd_recent_activity *recent; size_t n_recent;   /* newest first */
	const fd_interest *interests; size_t n_interests;    /* best first */
	const fd_breakdown *breakdown; size_t n_breakdown;   /* config order, non-zero only */
} fd_transition;

typedef struct fd_sla_event {
	char sla_event_id[FD_ID_HEX + 1];
	const char *lead_id;
	const char *sla;          /* SLA name */
	fd_sla_kind kind;
	fd_stage stage;           /* the lead's stage when it happened */
	const char *owner_id;
	int64_t started_at_ms;
	int64_t due_at_ms;
	int64_t occurred_at_ms;   /* WARNING: warn time; BREACH: due time;
	                             MET: the satisfying input's time */
	int64_t elapsed_ms;       /* occurred_at - started_at */
} fd_sla_event;

struct fd_lead_view; /* below */

typedef struct fd_sink {
	void (*transition)(void *ctx, const fd_transition *t);
	void (*sla)(void *ctx, const fd_sla_event *e);
	/* the lead's persisted state changed (scores, stage, SLAs) */
	void (*lead_changed)(void *ctx, const char *lead_id);
	void *ctx;
	/* optional (after ctx, so 4-member initialisers leave it NULL): called
	 * before the engine modifies a lead (`exists`) or creates it
	 * (!`exists`), while its old state can still be exported; the daemon
	 * keeps pre-images to roll an aborted transaction back */
	void (*before_change)(void *ctx, const char *lead_id, bool exists);
	/* optional: the lead's LeadScore is worth publishing (the score
	 * stream's policy, rules publish_min_*), as of the lead's own latest
	 * time. Without it the engine decides nothing and remembers nothing
	 * about the stream. */
	void (*score)(void *ctx, const struct fd_lead_view *v);
} fd_sink;

/* ---- status -------------------------------------------------------------- */

typedef enum fd_status {
	FD_OK = 0,
	FD_DUPLICATE = 1,        /* event/activity id already applied: ignored */
	FD_STALE = 2,            /* profile older than the one applied: ignored */
	FD_ERR_INVALID = -1,     /* malformed input (missing lead id, bad time, unknown type) */
	FD_ERR_REFUSED = -2,     /* activity does not fit the lead's stage */
	FD_ERR_FULL = -3,        /* lead cap reached: new lead refused */
	FD_ERR_NOMEM = -4
} fd_status;

/* ---- lifecycle of the engine --------------------------------------------- */

/* Create an engine for `cfg` (copied). `expected_leads` sizes the table
 * (0: small default; it grows). Returns NULL on allocation failure. */
fd_engine *fd_engine_new(const fd_rules *cfg, size_t expected_leads);
void fd_engine_free(fd_engine *e);

/* Transparent huge pages for the lead table's memory from now on: higher
 * throughput at millions of leads, but a first touch of each 2 MiB may
 * stall for the kernel's memory compaction (state.huge_pages). */
void fd_engine_set_huge_pages(fd_engine *e, bool on);

/* Refuse new leads beyond `max_leads` (0: unbounded). */
void fd_engine_set_max_leads(fd_engine *e, size_t max_leads);
/* fd_engine_evict looks at this many leads per call, going on from where
 * the last call stopped (0, the default: all of them every call). */
void fd_engine_set_evict_scan(fd_engine *e, size_t leads_per_call);

/* ---- entry points -------------------------------------------------------- */

/* Apply one engagement event. FD_OK, FD_DUPLICATE or an error; on error
 * errstr says why (for the dead-letter reason). */
fd_status fd_engine_engagement(fd_engine *e, const fd_engagement *ev, int64_t now,
                               const fd_sink *out, char *errstr, size_t errstr_size);

fd_status fd_engine_profile(fd_engine *e, const fd_profile *p, int64_t now,
                            const fd_sink *out, char *errstr, size_t errstr_size);

fd_status fd_engine_activity(fd_engine *e, const fd_activity *a, int64_t now,
                             const fd_sink *out, char *errstr, size_t errstr_size);

/* Optional latency hiding for batches: call with stage 0 for the input
 * ~16 positions ahead and stage 1 for the input ~8 ahead of the one being
 * applied; the lead's table slot, then its record, are then in cache when
 * its turn comes. No effect on results. */
void fd_engine_prefetch(const fd_engine *e, const char *lead_id, int stage);

/* Fire every SLA warning/deadline and nurture review due at or before `now`,
 * in deadline order. Returns the number of timers fired. A `now` past
 * FD_TIME_MAX counts as FD_TIME_MAX: what is due later never fires. Input
 * times must lie in [1, FD_TIME_MAX] and at most max_future_skew past
 * `now`; any int64 `now` is safe everywhere. */
size_t fd_engine_advance(fd_engine *e, int64_t now, const fd_sink *out);

/* The engine's own consistency (for tests and fuzzing, O(leads + strings)):
 * every interned string is referred to exactly as often as its count says,
 * none is left without a reference, the leads per stage match the stats,
 * and every pending timer belongs to a lead. 0, or -1 with what is wrong. */
int fd_engine_check(const fd_engine *e, char *errstr, size_t errstr_size);

/* Earliest pending deadline, or INT64_MAX when none. */
int64_t fd_engine_next_deadline(const fd_engine *e);

/* ---- persisted state (changelog) -------------------------------------------- */

enum { FD_INPUT_ENGAGEMENT = 0, FD_INPUT_PROFILE, FD_INPUT_ACTIVITY, FD_INPUT_KINDS };
#define FD_SEEN_MAX 64     /* most recent input ids a lead can remember */
#define FD_SEEN_DEFAULT 8  /* ... and does unless duplicate_ids says otherwise */

typedef struct fd_state_sla {
	const char *name;
	int64_t started_at_ms;
	int64_t due_at_ms;
	bool warned;
	bool done;                /* met or breached in this scope visit */
} fd_state_sla;

typedef struct fd_state_cap {
	const char *type;
	int64_t window;           /* floor(t / cap_window_ms) */
	double awarded;
} fd_state_cap;

/* Everything the engine knows about one lead, as plain data (the changelog
 * codec turns it into a LeadState record). Scores of breakdown and
 * interests are on the engagement_as_of basis, like engagement. Times that
 * were never set are 0. Strings are borrowed: from the engine on export
 * (valid until its next call), from the caller on import. */
#define FD_PUBLISHED_EVER 1 /* a LeadScore was published */
#define FD_PUBLISHED_HELD 2 /* a change waits for the interval (a timer asks again) */

/* What the score stream last said about a lead (src/engine/publish.h):
 * part of its state, so a restored lead goes on from there. Zeroed:
 * nothing yet. */
typedef struct fd_published {
	int64_t at_ms;       /* when, in the lead's time */
	float engagement;
	float fit;
	uint8_t stage;
	uint8_t grade;
	uint8_t flags;       /* FD_PUBLISHED_* */
} fd_published;

typedef struct fd_lead_state {
	const char *lead_id;
	int32_t partition;
	fd_stage stage;
	int64_t stage_entered_ms;
	double engagement;
	int64_t engagement_as_of_ms;   /* 0: no event yet */
	double fit;
	int grade;
	int64_t last_event_ms;
	int64_t last_high_intent_ms;
	int64_t review_at_ms;
	int64_t profile_updated_ms;    /* 0: no profile yet */
	int64_t last_input_ms;         /* newest input of any kind (TTL eviction) */
	const char *owner_id;
	const char *lead_source;
	const char *disqualified_by;   /* disqualifier rule name, "" */
	int64_t freq_head;             /* newest bucket index; meaningful when n_freq > 0 */
	uint32_t freq[FD_FREQ_BUCKETS]; /* newest first */
	int n_freq;
	uint64_t seen[FD_SEEN_MAX];    /* oldest first */
	int n_seen;
	fd_state_cap caps[FD_MAX_EVENT_TYPES];
	int n_caps;
	fd_state_sla slas[FD_MAX_SLAS];
	int n_slas;
	fd_recent_activity recent[FD_MAX_CONTEXT];
	int n_recent;
	fd_interest interests[FD_MAX_CONTEXT];
	int n_interests;
	fd_breakdown breakdown[FD_MAX_EVENT_TYPES];
	int n_breakdown;
	int64_t positions[FD_INPUT_KINDS]; /* last applied position per input kind */
	fd_published published;        /* the score stream */
} fd_lead_state;

/* Export lead `lead_id`; false when unknown. */
bool fd_engine_export(fd_engine *e, const char *lead_id, fd_lead_state *out);

/* Replace (or create) a lead from a state record, re-arming its timers
 * (SLA warnings and deadlines, nurture review). Names the current config no
 * longer has (event types, SLAs, disqualifiers) are dropped. Deadlines
 * already past fire at the next fd_engine_advance(). FD_ERR_FULL at the lead
 * cap, FD_ERR_INVALID for a state without lead id. */
fd_status fd_engine_import(fd_engine *e, const fd_lead_state *st, char *errstr, size_t errstr_size);

/* Forget a lead and its timers (revoked partition, tombstone). */
bool fd_engine_remove(fd_engine *e, const char *lead_id);

/* Call `fn` for every lead of `partition` (-1: every lead). The callback may
 * not change the engine; collect ids and act afterwards. */
void fd_engine_foreach(fd_engine *e, int32_t partition,
                       void (*fn)(void *ctx, const char *lead_id, int32_t partition), void *ctx);

/* Idle leads (state.lead_ttl; 0, the default: none is ever idle). A lead
 * is idle when the stream time of its partition (fd_engine_stream_time) is
 * more than ttl_ms past the lead's last input (last_input_ms) and nothing
 * is pending on it (no open SLA, no nurture review, no held LeadScore).
 * Not the wall clock: history older than the TTL keeps its leads until the
 * partition's own stream moves a TTL past them, and a partition without
 * new input never makes a lead idle. An idle lead is as good as evicted:
 * the next input of an idle lead that no sweep removed yet starts it from
 * zero (what it would have found had the sweep run first), so the outcome
 * never depends on when fd_engine_evict runs. */
void fd_engine_set_lead_ttl(fd_engine *e, int64_t ttl_ms);

/* Evict up to `max` idle leads (see fd_engine_set_lead_ttl): `fn` is
 * called with each id before it is removed (to write a tombstone).
 * Returns how many were evicted. Looks at every lead, or, after
 * fd_engine_set_evict_scan(e, n), at the next n leads from where the last
 * call stopped (a sweep spread over calls: bounded work per call). */
size_t fd_engine_evict(fd_engine *e, size_t max,
                       void (*fn)(void *ctx, const char *lead_id, int32_t partition), void *ctx);

/* ---- partitions: stream time and the funnel ---------------------------------- */

/* The engine keeps, per input partition number it has seen (or been told
 * to open), a small state of its own, persisted to the changelog as a
 * checkpoint beside the partition's leads and moved with the partition:
 *   - stream time: the greatest event time of the partition's records the
 *     engine took (applied, or recognised as a duplicate or a stale
 *     profile): occurred_at_ms of engagement events and sales activities,
 *     updated_at_ms of profiles, the times scoring uses. A maximum, so a
 *     replay never moves it. Refused and invalid records do not count.
 *   - the funnel: entries into each stage (LEAD: leads created),
 *     transitions, SLA warnings, breaches and MET per SLA, in buckets of one
 *     UTC day of the time each happened (a transition's occurred_at_ms, an
 *     SLA event's occurred_at_ms). At most funnel_days buckets; older days
 *     fold into one "before" bucket.
 * Partition numbers are 0..FD_PARTITION_MAX-1; others are not tracked. */
#define FD_PARTITION_MAX 65536
#define FD_FUNNEL_DAYS_DEFAULT 400

typedef struct fd_funnel_counts {
	uint64_t entered[FD_STAGE_COUNT];    /* LEAD: leads created */
	uint64_t transitions;
	uint64_t sla_warned[FD_MAX_SLAS];    /* per SLA, config order */
	uint64_t sla_breached[FD_MAX_SLAS];
	uint64_t sla_met[FD_MAX_SLAS];
} fd_funnel_counts;

typedef struct fd_funnel_day {
	int64_t day;                         /* floor(ms / FD_MS_DAY): UTC days since the epoch */
	fd_funnel_counts counts;
} fd_funnel_day;

/* One partition's state as plain data (the checkpoint record). The SLA
 * counters of `before` and `days` are indexed like sla_names. Pointers are
 * borrowed: from the engine on export (valid until its next call), from the
 * caller on import. */
typedef struct fd_partition_state {
	int32_t partition;
	int64_t stream_time_ms;              /* 0: no input yet */
	fd_funnel_counts before;             /* the folded days, older than days[0] */
	const fd_funnel_day *days;           /* oldest first, distinct days */
	size_t n_days;
	const char *sla_names[FD_MAX_SLAS];
	int n_slas;
} fd_partition_state;

/* Keep at most `days` day buckets per partition (>= 1; state.funnel_days). */
void fd_engine_set_funnel_days(fd_engine *e, int days);

/* The stream time of `partition`: 0 when it has none. */
int64_t fd_engine_stream_time(const fd_engine *e, int32_t partition);

/* The partitions the engine holds a state for, ascending: up to `max` into
 * out (NULL with max 0: only count them); returns how many there are. */
size_t fd_engine_partitions(const fd_engine *e, int32_t *out, size_t max);

/* Hold a state for `partition` (empty if new): the daemon opens each
 * partition it owns once restored, so the funnel lists it before its first
 * input. -1 when the number is out of range or memory runs out. */
int fd_engine_partition_open(fd_engine *e, int32_t partition);

/* Forget the state of `partition` (revoked). */
void fd_engine_partition_drop(fd_engine *e, int32_t partition);

/* Export `partition`'s state; false when the engine holds none. */
bool fd_engine_partition_export(fd_engine *e, int32_t partition, fd_partition_state *out);

/* Replace (or create) a partition's state from a checkpoint. SLA names the
 * rules no longer have are dropped, days are sorted and merged, the oldest
 * beyond funnel_days folded. FD_ERR_INVALID for a partition number out of
 * range, FD_ERR_NOMEM. */
fd_status fd_engine_partition_import(fd_engine *e, const fd_partition_state *st, char *errstr,
                                     size_t errstr_size);

/* The partitions whose state changed since they were last taken here, up
 * to `max` into out (ascending), their changed mark cleared: the changelog
 * writes their checkpoints. Returns how many were taken. */
size_t fd_engine_partitions_take_changed(fd_engine *e, int32_t *out, size_t max);

/* The funnel of `partition` over the UTC days [from_day, to_day] (INT64_MIN
 * / INT64_MAX: unbounded; the "before" bucket counts only when from_day is
 * unbounded), added to *sum. *exact (when not NULL) is cleared when the
 * window reaches into folded days it cannot tell apart. false when the
 * engine holds no state for the partition. */
bool fd_engine_funnel(const fd_engine *e, int32_t partition, int64_t from_day, int64_t to_day,
                      fd_funnel_counts *sum, bool *exact);

/* exactly_once: a save point, and the way back to it. From
 * fd_engine_partitions_save on, the first change of each partition keeps a
 * copy of it; fd_engine_partitions_rollback puts every partition changed
 * since back as it was (one created since goes), marks them changed, and
 * starts a new save point. Without a save point nothing is copied. */
void fd_engine_partitions_save(fd_engine *e);
void fd_engine_partitions_rollback(fd_engine *e);

/* ---- inspection (admin API, tests, demo summary) -------------------------- */

#define FD_MAX_OPEN_SLAS 8

typedef struct fd_open_sla {
	const char *name;
	int64_t started_at_ms;
	int64_t due_at_ms;
	bool warned;
} fd_open_sla;

typedef struct fd_lead_view {
	const char *lead_id;
	fd_stage stage;
	int64_t stage_entered_ms;
	const char *owner_id;
	const char *lead_source;
	const char *disqualified_by; /* rule name, "" if none */
	int64_t review_at_ms;        /* 0 if none */
	int64_t remql_after_ms;      /* 0 if none */
	fd_score_snapshot score;     /* decayed to `now` */
	fd_open_sla open_slas[FD_MAX_OPEN_SLAS];
	size_t n_open_slas;
	const fd_recent_activity *recent; size_t n_recent;
	const fd_interest *interests; size_t n_interests;
	const fd_breakdown *breakdown; size_t n_breakdown;
} fd_lead_view;

/* Fill *v for lead `lead_id` as of `now`. Returns false when unknown. The
 * view's pointers stay valid until the next call on the engine. */
bool fd_engine_lead(fd_engine *e, const char *lead_id, int64_t now, fd_lead_view *v);

/* The id of the LeadScore record that reports view `v` (its ce_id): a hash
 * of what it says (lead, stage, as-of time, scores, grade, owner), so the
 * same snapshot always carries the same id, after any replay. */
void fd_engine_score_id(const fd_lead_view *v, char out[FD_ID_HEX + 1]);

typedef struct fd_engine_stats {
	uint64_t leads;
	uint64_t per_stage[FD_STAGE_COUNT];
	uint64_t events_applied, events_duplicate, events_invalid;
	uint64_t profiles_applied, profiles_stale;
	uint64_t activities_applied, activities_refused, activities_duplicate;
	uint64_t transitions, sla_warnings, sla_breaches, sla_met;
	uint64_t leads_refused_full;
	uint64_t leads_evicted;
	uint64_t entered[FD_STAGE_COUNT];   /* entries into each stage since start
	                                       (LEAD: leads created) */
	uint64_t sla_warned_by[FD_MAX_SLAS]; /* per configured SLA, config order */
	uint64_t sla_breached_by[FD_MAX_SLAS];
	uint64_t sla_met_by[FD_MAX_SLAS];
	uint64_t pending_timers;
	size_t bytes_core;      /* lead records + table slots + ids */
	size_t bytes_context;   /* activity history, interests, breakdown, SLAs, and
	                           the strings they refer to */
	uint64_t strings;       /* content ids, channels, owners, sources held: at most
	                           leads x (2 x recent_activities + top_interests + 2) */
	uint64_t migrating;     /* leads still kept by the rules before a reload
	                           (included in `leads`): see fd_engine_adopt */
} fd_engine_stats;

void fd_engine_stats_get(const fd_engine *e, fd_engine_stats *s);

/* Carry the cumulative counters of `from` over to `to` (a reload), so
 * metrics do not restart from zero. fd_engine_adopt does it. */
void fd_engine_carry_stats(fd_engine *to, const fd_engine *from);

/* ---- reload: new rules without a stall ---------------------------------------- */

/* A reload without moving every lead at once: `e`, new and empty, built on
 * the new rules, takes `former` (the running engine) over and owns it. From
 * then on `e` answers for every lead of both; a lead still kept by
 * `former` moves to `e` (exported under the old rules, imported under the
 * new, as fd_engine_import does: names the new rules lack are dropped,
 * deadlines re-armed) the first time anything names it: an input, an
 * export, a view, an import replacing it, or a deadline of its coming due
 * in fd_engine_advance (so a deadline never fires under rules that are
 * gone; one the new rules bring forward waits until the lead moves).
 * fd_engine_migrate moves the rest, a bounded number per call. `former`'s
 * memory shrinks as its leads leave (record chunks are given back as they
 * empty), so the two together hold about what one does. The cumulative
 * counters are carried over; fd_engine_stats counts the leads of both.
 * Reloading again before the move is over is fine (`former` may itself
 * have a former engine). -1 if `e` already has leads or a former engine. */
int fd_engine_adopt(fd_engine *e, fd_engine *former);

/* Move up to `max` leads from former engines (fd_engine_adopt), freeing
 * each once empty. Returns how many moved. */
size_t fd_engine_migrate(fd_engine *e, size_t max);

/* Leads still kept by former rules: 0 once a reload's move is complete. */
size_t fd_engine_migrating(const fd_engine *e);

/* The engine's configuration (SLA names for the stats arrays, ...). */
const fd_rules *fd_rules_get(const fd_engine *e);

/* sizeof the per-lead core record (for documentation and the benchmark). */
size_t fd_engine_lead_record_size(void);

#endif /* FUNNELD_ENGINE_H */
