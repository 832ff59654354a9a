/*
 * engine.c — the pure funneld engine: applies engagement events, profiles and
 * sales activities to leads, runs the lifecycle and the SLAs, and fires
 * deadlines (see funneld/engine.h for the contract).
 *
 * What it is not: it never reads a clock, never allocates per call beyond a
 * new lead's records, never logs and never encodes anything. Decoding,
 * Kafka, persistence and wall clocks live outside, in src/wire, src/kafka
 * and src/daemon.
 *
 * Order of effects for one input (it is part of the contract, since outputs
 * must be reproducible byte for byte):
 *   activity: SLA satisfactions (MET) → stage change (transition, then SLA
 *             exits and entries) → SLAs started by the activity;
 *   event:    scores → MQL / fast-track decision (transition, SLAs);
 *   profile:  fit → disqualify / requalify → MQL decision;
 *   timers:   in (due, key) order; a BREACH with an expiry action is
 *             followed by its transition.
 */
#include "funneld/engine.h"

#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/ident.h"
#include "base/table.h"
#include "engine/fit.h"
#include "engine/intern.h"
#include "engine/lead.h"
#include "engine/lifecycle.h"
#include "engine/partition.h"
#include "engine/publish.h"
#include "engine/score.h"
#include "engine/timer.h"

#define REVIEW_SLOT 0xffu
#define SCORE_SLOT 0xfeu  /* a held LeadScore (publish.h) */
#define GROW_STEP_PER_EVICT 16384 /* table positions fd_engine_evict copies */
#define GROW_STEP_PER_INPUT 8     /* ... and each input */
#define TYPE_SLOTS 256 /* > 2 * FD_MAX_EVENT_TYPES, power of two */
#define STAGE_BIT(s) (1u << (s))

struct fd_engine {
	fd_rules cfg;
	fd_table *leads;
	fd_timers *timers;
	fd_intern *strings;
	size_t max_leads;
	/* after a reload, the engine of the former rules: its leads move here
	 * one by one (on first touch, when a deadline of theirs comes due, or
	 * by fd_engine_migrate) and it is freed once empty. It may have a
	 * former engine of its own (a reload before the last one finished). */
	fd_engine *former;
	uint32_t migrate_cursor; /* where fd_engine_migrate goes on in `former` */
	fd_lead_state *moving;   /* a moving lead's state (allocated on the first move) */
	fd_parts *parts;        /* per partition: stream time, the funnel */
	int64_t ttl_ms;         /* idle leads (fd_engine_set_lead_ttl); 0: none */
	int funnel_days;        /* day buckets per partition (fd_engine_set_funnel_days) */
	size_t evict_scan;      /* leads one fd_engine_evict call looks at; 0: all */
	uint32_t evict_cursor;  /* where the next call goes on */

	/* context block layout */
	size_t ctx_size;
	size_t off_slots, off_recent, off_caps, off_breakdown, off_interests, off_seen;
	int n_seen;        /* duplicate_ids, clamped to 1..FD_SEEN_MAX */
	size_t hot_bytes;   /* record prefix touched by an engagement event */
	int cap_index[FD_MAX_EVENT_TYPES]; /* event type -> cap slot, or -1 */
	uint8_t type_slots[TYPE_SLOTS];    /* open addressing: event type index + 1 */
	int n_capped;

	fd_engine_stats stats;

	/* output scratch: valid during one callback / until the next call */
	fd_recent_activity out_recent[FD_MAX_CONTEXT];
	fd_interest out_interests[FD_MAX_CONTEXT];
	fd_breakdown out_breakdown[FD_MAX_EVENT_TYPES];
	char out_reason[FD_NAME_MAX + 32];
	char out_cause[FD_NAME_MAX * 2 + 64];
};

/* ---- context block ------------------------------------------------------- */

/* The context block follows the core record in the same table record, so
 * one lookup brings both into adjacent cache lines. */
static char *lead_ctx(const fd_lead *l)
{
	return (char *)(uintptr_t)(l + 1);
}

static fd_sla_slot *lead_slots(const fd_engine *e, const fd_lead *l)
{
	return (fd_sla_slot *)(lead_ctx(l) + e->off_slots);
}

static fd_recent *lead_recent(const fd_engine *e, const fd_lead *l)
{
	return (fd_recent *)(lead_ctx(l) + e->off_recent);
}

static fd_cap_state *lead_caps(const fd_engine *e, const fd_lead *l)
{
	return (fd_cap_state *)(lead_ctx(l) + e->off_caps);
}

static float *lead_breakdown(const fd_engine *e, const fd_lead *l)
{
	return (float *)(lead_ctx(l) + e->off_breakdown);
}

static fd_interest_slot *lead_interests(const fd_engine *e, const fd_lead *l)
{
	return (fd_interest_slot *)(lead_ctx(l) + e->off_interests);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void layout_ctx(fd_engine *e)
{
	const fd_rules *c = &e->cfg;
	size_t off = 0;
	e->n_capped = 0;
	for (int i = 0; i < FD_MAX_EVENT_TYPES; i++)
		e->cap_index[i] = -1;
	for (int i = 0; i < c->n_event_types; i++)
		if (c->event_types[i].cap_points > 0)
			e->cap_index[i] = e->n_capped++;
	/* what every engagement event touches first, the SLA slots (touched
	 * only by stage changes and timers) last: batches prefetch the hot
	 * part only (fd_table_set_hot_bytes) */
	e->n_seen = c->duplicate_ids <= 0 ? FD_SEEN_DEFAULT
	            : c->duplicate_ids > FD_SEEN_MAX ? FD_SEEN_MAX : c->duplicate_ids;
	e->off_seen = off;
	off = align8(off + sizeof(uint64_t) * (size_t)e->n_seen);
	e->off_caps = off;
	off = align8(off + sizeof(fd_cap_state) * (size_t)e->n_capped);
	e->off_breakdown = off;
	off = align8(off + sizeof(float) * (size_t)c->n_event_types);
	e->off_interests = off;
	off = align8(off + sizeof(fd_interest_slot) * (size_t)c->top_interests);
	e->off_recent = off;
	off = align8(off + sizeof(fd_recent) * (size_t)c->recent_activities);
	e->hot_bytes = sizeof(fd_lead) + off;
	e->off_slots = off;
	off = align8(off + sizeof(fd_sla_slot) * (size_t)c->n_slas);
	e->ctx_size = off ? off : 8;
}

/* ---- event type lookup (hot path: one hash, usually one strcmp) ----------- */

static uint32_t type_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void index_types(fd_engine *e)
{
	memset(e->type_slots, 0, sizeof e->type_slots);
	for (int i = 0; i < e->cfg.n_event_types; i++) {
		uint32_t k = type_hash(e->cfg.event_types[i].type) & (TYPE_SLOTS - 1);
		while (e->type_slots[k])
			k = (k + 1) & (TYPE_SLOTS - 1);
		e->type_slots[k] = (uint8_t)(i + 1);
	}
}

static int find_type(const fd_engine *e, const char *type)
{
	uint32_t k = type_hash(type) & (TYPE_SLOTS - 1);
	while (e->type_slots[k]) {
		int i = e->type_slots[k] - 1;
		if (strcmp(e->cfg.event_types[i].type, type) == 0)
			return i;
		k = (k + 1) & (TYPE_SLOTS - 1);
	}
	return -1;
}

/* ---- engine lifecycle ------------------------------------------------------ */

fd_engine *fd_engine_new(const fd_rules *cfg, size_t expected_leads)
{
	fd_engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->cfg = *cfg;
	if (e->cfg.recent_activities > FD_MAX_CONTEXT)
		e->cfg.recent_activities = FD_MAX_CONTEXT;
	if (e->cfg.top_interests > FD_MAX_CONTEXT)
		e->cfg.top_interests = FD_MAX_CONTEXT;
	layout_ctx(e);
	index_types(e);
	e->leads = fd_table_new(sizeof(fd_lead) + e->ctx_size, expected_leads ? expected_leads : 1024);
	if (!e->leads)
		goto fail;
	fd_table_set_hot_bytes(e->leads, e->hot_bytes);
	e->timers = fd_timers_new(expected_leads / 4 + 64);
	if (!e->timers)
		goto fail;
	e->strings = fd_intern_new();
	if (!e->strings)
		goto fail;
	e->funnel_days = FD_FUNNEL_DAYS_DEFAULT;
	e->parts = fd_parts_new(e->funnel_days);
	if (!e->parts)
		goto fail;
	return e;
fail:
	fd_engine_free(e);
	return NULL;
}

void fd_engine_free(fd_engine *e)
{
	if (!e)
		return;
	fd_engine_free(e->former);
	free(e->moving);
	fd_table_free(e->leads);
	fd_intern_free(e->strings);
	fd_timers_free(e->timers);
	fd_parts_free(e->parts);
	free(e);
}

void fd_engine_set_huge_pages(fd_engine *e, bool on)
{
	fd_table_set_huge_pages(e->leads, on);
}

void fd_engine_set_max_leads(fd_engine *e, size_t max_leads)
{
	e->max_leads = max_leads;
}

void fd_engine_carry_stats(fd_engine *to, const fd_engine *from)
{
	fd_engine_stats keep = to->stats; /* what the import recomputed */
	to->stats = from->stats;
	memcpy(to->stats.per_stage, keep.per_stage, sizeof keep.per_stage);
	/* SLA counters are per SLA index: only valid if the list is unchanged */
	bool same = to->cfg.n_slas == from->cfg.n_slas;
	for (int i = 0; same && i < to->cfg.n_slas; i++)
		same = strcmp(to->cfg.slas[i].name, from->cfg.slas[i].name) == 0;
	if (!same) {
		memset(to->stats.sla_warned_by, 0, sizeof to->stats.sla_warned_by);
		memset(to->stats.sla_breached_by, 0, sizeof to->stats.sla_breached_by);
		memset(to->stats.sla_met_by, 0, sizeof to->stats.sla_met_by);
	}
}

const fd_rules *fd_rules_get(const fd_engine *e)
{
	return &e->cfg;
}

size_t fd_engine_lead_record_size(void)
{
	return sizeof(fd_lead);
}

/* ---- helpers --------------------------------------------------------------- */

static bool empty(const char *s)
{
	return !s || !*s;
}

static const char *lead_id_of(const fd_engine *e, const fd_lead *l)
{
	size_t len;
	return fd_table_key(e->leads, l, &len);
}

static fd_lead *find_lead(const fd_engine *e, const char *id)
{
	return fd_table_get(e->leads, id, strlen(id));
}

/* Leads here and in former engines (not moved yet after a reload). */
static size_t all_leads(const fd_engine *e)
{
	size_t n = 0;
	for (; e; e = e->former)
		n += fd_table_count(e->leads);
	return n;
}

/* The former engine holding lead `id` (*out: its record), or NULL. */
static fd_engine *former_of(const fd_engine *e, const char *id, fd_lead **out)
{
	for (fd_engine *f = e->former; f; f = f->former)
		if ((*out = find_lead(f, id)) != NULL)
			return f;
	return NULL;
}

static bool export_lead(fd_engine *e, fd_lead *l, fd_lead_state *st);
static fd_status import_lead(fd_engine *e, const fd_lead_state *st, fd_lead **out, char *errstr,
                             size_t errstr_size);

/* Move the lead `l` of former engine `f` here: exported under the rules it
 * was kept by, imported under these (fd_engine_import takes it out of
 * `f`). NULL, with the lead left where it was, when memory runs out. */
static fd_lead *move_in(fd_engine *e, fd_engine *f, fd_lead *l)
{
	if (!e->moving && !(e->moving = malloc(sizeof *e->moving)))
		return NULL;
	char err[128];
	fd_lead *moved = NULL;
	export_lead(f, l, e->moving);
	if (import_lead(e, e->moving, &moved, err, sizeof err) != FD_OK)
		moved = NULL;
	return moved;
}

/* The lead `id` if it exists, moved here first when a former engine holds
 * it. FD_OK with *out NULL: no such lead; FD_ERR_NOMEM: it could not be
 * moved (and nothing changed). */
static fd_status lookup(fd_engine *e, const char *id, fd_lead **out, char *errstr,
                        size_t errstr_size)
{
	/* a growth of the table ends soon under any traffic, inserts or not
	 * (until then a lookup may look in two slot arrays) */
	fd_table_step(e->leads, GROW_STEP_PER_INPUT);
	*out = find_lead(e, id);
	fd_lead *old;
	fd_engine *f;
	if (*out || !e->former || !(f = former_of(e, id, &old)))
		return FD_OK;
	if ((*out = move_in(e, f, old)) == NULL) {
		snprintf(errstr, errstr_size, "out of memory moving lead to the reloaded rules");
		return FD_ERR_NOMEM;
	}
	return FD_OK;
}

/* lookup() for the entry points that answer true/false */
static fd_lead *touch(fd_engine *e, const char *id)
{
	fd_lead *l = NULL;
	char err[96];
	if (empty(id) || lookup(e, id, &l, err, sizeof err) != FD_OK)
		return NULL;
	return l;
}

/* May a new lead `id` be created? Checked before anything is touched (an
 * entry point that fails calls no callback). `replacing`: an import of a
 * lead that exists takes its place and is never refused at the cap. */
static fd_status creatable(fd_engine *e, const char *id, bool replacing, char *errstr,
                           size_t errstr_size)
{
	if (strlen(id) > 255) {
		snprintf(errstr, errstr_size, "lead_id longer than 255 bytes");
		return FD_ERR_INVALID;
	}
	if (!replacing && e->max_leads && all_leads(e) >= e->max_leads) {
		e->stats.leads_refused_full++;
		snprintf(errstr, errstr_size, "lead cap reached (%zu leads in memory): new lead refused",
		         e->max_leads);
		return FD_ERR_FULL;
	}
	return FD_OK;
}

/* The lead `id`, created if new (after creatable() said it may be). */
static fd_status create_lead(fd_engine *e, const char *id, fd_lead **out,
                             char *errstr, size_t errstr_size)
{
	size_t n = strlen(id);
	fd_lead *l = fd_table_get(e->leads, id, n);
	if (l) {
		*out = l;
		return FD_OK;
	}
	bool created;
	l = fd_table_put(e->leads, id, n, &created);
	if (!l) {
		snprintf(errstr, errstr_size, "out of memory creating lead");
		return FD_ERR_NOMEM;
	}
	l->engagement_as_of = INT64_MIN;
	l->profile_updated_ms = INT64_MIN;
	l->freq_head = INT64_MIN;
	l->stage = FD_STAGE_LEAD;
	l->grade = (uint8_t)fd_fit_grade(&e->cfg, 0.0);
	l->dq_rule = -1;
	e->stats.per_stage[FD_STAGE_LEAD]++;
	e->stats.entered[FD_STAGE_LEAD]++;
	*out = l;
	return FD_OK;
}

/* Hash of an input id for duplicate suppression (kind 0 events, 1
 * activities); never 0, which marks an empty slot. */
static uint64_t seen_hash(unsigned kind, const char *id)
{
	uint64_t h = fd_table_hash(id, strlen(id)) ^ (UINT64_C(0x9e3779b97f4a7c15) * (kind + 1));
	h ^= h >> 31;
	return h ? h : 1;
}

static uint64_t *lead_seen(const fd_engine *e, const fd_lead *l)
{
	return (uint64_t *)(void *)(lead_ctx(l) + e->off_seen);
}

static bool seen_contains(const fd_engine *e, const fd_lead *l, uint64_t h)
{
	const uint64_t *seen = lead_seen(e, l);
	for (int i = 0; i < e->n_seen; i++)
		if (seen[i] == h)
			return true;
	return false;
}

static void seen_add(const fd_engine *e, fd_lead *l, uint64_t h)
{
	lead_seen(e, l)[l->seen_next] = h;
	l->seen_next = (uint8_t)((l->seen_next + 1) % e->n_seen);
}

/* A replayed record (position not after the last applied one)? */
static bool replayed(const fd_lead *l, int kind, int64_t position)
{
	return position > 0 && position <= l->positions[kind];
}

static void note_input(fd_lead *l, int kind, int32_t partition, int64_t position, int64_t t)
{
	if (position > l->positions[kind])
		l->positions[kind] = position;
	l->partition = partition;
	if (t > l->last_input_ms)
		l->last_input_ms = t;
}

static void remove_lead(fd_engine *e, fd_lead *l);
static void before_change(const fd_sink *out, const char *lead_id, bool exists);

/* Idle (fd_engine_set_lead_ttl): its partition's stream time is more than
 * the TTL past its last input, and nothing is pending on it. */
static bool idle(const fd_engine *e, const fd_lead *l)
{
	if (e->ttl_ms <= 0 || l->review_timer || l->score_timer)
		return false;
	/* both in [0, FD_TIME_MAX]: the difference cannot overflow */
	int64_t stream = fd_parts_stream_time(e->parts, l->partition);
	if (stream <= l->last_input_ms || stream - l->last_input_ms <= e->ttl_ms)
		return false;
	const fd_sla_slot *slots = lead_slots(e, l);
	for (int i = 0; i < e->cfg.n_slas; i++)
		if (slots[i].state == FD_SLOT_OPEN)
			return false;
	return true;
}

/* An idle lead's input: the lead goes first, as a sweep before the input
 * would have removed it (its next state record replaces it in the
 * changelog); *l becomes NULL. */
static void expire(fd_engine *e, fd_lead **l, const fd_sink *out)
{
	before_change(out, lead_id_of(e, *l), true);
	remove_lead(e, *l);
	e->stats.leads_evicted++;
	*l = NULL;
}

/* A new lead `id`, counted in its partition's funnel on the day of `t`. */
static fd_status new_lead(fd_engine *e, const char *id, int32_t partition, int64_t t,
                          fd_lead **out, char *errstr, size_t errstr_size)
{
	fd_status st = create_lead(e, id, out, errstr, errstr_size);
	if (st == FD_OK)
		fd_parts_count_entry(e->parts, partition, FD_STAGE_LEAD, false, t);
	return st;
}

static uint64_t timer_key(const fd_engine *e, const fd_lead *l, unsigned slot)
{
	return ((uint64_t)fd_table_index(e->leads, l) << 8) | slot;
}

static void before_change(const fd_sink *out, const char *lead_id, bool exists)
{
	if (out && out->before_change)
		out->before_change(out->ctx, lead_id, exists);
}

static void changed(const fd_sink *out, const char *lead_id)
{
	if (out && out->lead_changed)
		out->lead_changed(out->ctx, lead_id);
}

static void publish(fd_engine *e, fd_lead *l, int64_t now, bool recheck, const fd_sink *out);
static void hold_score(fd_engine *e, fd_lead *l, int64_t due);
static int64_t held_until(const fd_engine *e, const fd_lead *l);
static void view(fd_engine *e, const fd_lead *l, int64_t now, fd_lead_view *v);

/* The lead's own latest time: its LeadScore is taken as of it. */
static int64_t lead_time(const fd_lead *l)
{
	return l->last_input_ms > l->stage_entered_ms ? l->last_input_ms : l->stage_entered_ms;
}

/* Lead `l` changed: its state is due, its score may be (in its time). */
static void after_change(fd_engine *e, fd_lead *l, const fd_sink *out)
{
	changed(out, lead_id_of(e, l));
	publish(e, l, lead_time(l), false, out);
}

static bool in_sources(const fd_engine *e, const char *s)
{
	if (empty(s))
		return false;
	for (int i = 0; i < e->cfg.n_fast_track_sources; i++)
		if (strcasecmp(s, e->cfg.fast_track_sources[i]) == 0)
			return true;
	return false;
}

/* ---- score snapshot and handoff context ---------------------------------- */

/* Engagement and context values on the lead's as-of basis, decayed to t. */
static double decay_factor(const fd_engine *e, const fd_lead *l, int64_t t)
{
	if (l->engagement_as_of == INT64_MIN || t <= l->engagement_as_of)
		return 1.0;
	return exp2(-(double)(t - l->engagement_as_of) / (double)e->cfg.half_life_ms);
}

static void snapshot(const fd_engine *e, const fd_lead *l, int64_t t, fd_score_snapshot *s)
{
	const fd_rules *c = &e->cfg;
	if (l->engagement_as_of != INT64_MIN && t < l->engagement_as_of)
		t = l->engagement_as_of;
	memset(s, 0, sizeof *s);
	s->as_of_ms = t;
	s->engagement = l->engagement * decay_factor(e, l, t);
	s->fit = l->fit;
	s->grade = l->grade;
	s->recency_days = l->last_event_ms ? (double)(t - l->last_event_ms) / (double)FD_MS_DAY : -1.0;
	s->high_intent_recency_days =
		l->last_high_intent_ms ? (double)(t - l->last_high_intent_ms) / (double)FD_MS_DAY : -1.0;
	s->n_windows = c->n_windows;
	int64_t at = fd_floor_div(t, c->bucket_ms);
	for (int w = 0; w < c->n_windows; w++)
		s->frequency[w] = fd_freq_count(l->freq, l->freq_head, at, c->windows_ms[w] / c->bucket_ms);
}

/* Fill the scratch context arrays for lead l at time t. */
static void context(fd_engine *e, const fd_lead *l, int64_t t,
                    size_t *n_recent, size_t *n_interests, size_t *n_breakdown)
{
	const fd_rules *c = &e->cfg;
	const fd_recent *r = lead_recent(e, l);
	for (size_t i = 0; i < l->n_recent; i++) {
		fd_recent_activity *o = &e->out_recent[i];
		o->type = r[i].type ? c->event_types[r[i].type - 1].type : "";
		o->content_id = fd_intern_str(e->strings, r[i].content);
		o->channel = fd_intern_str(e->strings, r[i].channel);
		o->occurred_at_ms = r[i].at_ms;
	}
	*n_recent = l->n_recent;

	double f = decay_factor(e, l, t);
	const fd_interest_slot *in = lead_interests(e, l);
	size_t k = 0;
	for (size_t i = 0; i < l->n_interests; i++) {
		e->out_interests[k].content_id = fd_intern_str(e->strings, in[i].content);
		e->out_interests[k].score = (double)in[i].score * f;
		k++;
	}
	/* best first; ties by content id for determinism (K <= 32: insertion sort) */
	for (size_t i = 1; i < k; i++) {
		fd_interest x = e->out_interests[i];
		size_t j = i;
		while (j > 0 && (e->out_interests[j - 1].score < x.score ||
		                 (e->out_interests[j - 1].score == x.score &&
		                  strcmp(e->out_interests[j - 1].content_id, x.content_id) > 0))) {
			e->out_interests[j] = e->out_interests[j - 1];
			j--;
		}
		e->out_interests[j] = x;
	}
	*n_interests = k;

	const float *b = lead_breakdown(e, l);
	size_t nb = 0;
	for (int i = 0; i < c->n_event_types; i++) {
		if (b[i] == 0.0f)
			continue;
		e->out_breakdown[nb].type = c->event_types[i].type;
		e->out_breakdown[nb].points = (double)b[i] * f;
		nb++;
	}
	*n_breakdown = nb;
}

/* ---- SLA engine ------------------------------------------------------------ */

static int64_t sla_duration(const fd_engine *e, const fd_sla_def *d, const fd_lead *l)
{
	const char *src = fd_intern_str(e->strings, l->source);
	if (*src)
		for (int i = 0; i < d->n_overrides; i++)
			if (strcasecmp(src, d->overrides[i].source) == 0)
				return d->overrides[i].duration_ms;
	return d->duration_ms;
}

static int64_t sla_warn_at(const fd_sla_def *d, const fd_sla_slot *s)
{
	return s->started_ms + (int64_t)((double)(s->due_ms - s->started_ms) * d->warning_fraction);
}

static void sla_schedule(fd_engine *e, fd_lead *l, int idx)
{
	const fd_sla_def *d = &e->cfg.slas[idx];
	fd_sla_slot *s = &lead_slots(e, l)[idx];
	int64_t at = s->due_ms;
	if (d->warning_fraction > 0 && !s->warned)
		at = sla_warn_at(d, s);
	if (s->timer)
		fd_timers_remove(e->timers, s->timer);
	s->timer = fd_timers_add(e->timers, at, timer_key(e, l, (unsigned)idx));
}

static void sla_emit(fd_engine *e, fd_lead *l, int idx, fd_sla_kind kind, int64_t at,
                     const fd_sink *out)
{
	const fd_sla_def *d = &e->cfg.slas[idx];
	const fd_sla_slot *s = &lead_slots(e, l)[idx];
	fd_sla_event ev;
	memset(&ev, 0, sizeof ev);
	ev.lead_id = lead_id_of(e, l);
	ev.sla = d->name;
	ev.kind = kind;
	ev.stage = (fd_stage)l->stage;
	ev.owner_id = fd_intern_str(e->strings, l->owner);
	ev.started_at_ms = s->started_ms;
	ev.due_at_ms = s->due_ms;
	ev.occurred_at_ms = at;
	ev.elapsed_ms = at - s->started_ms;
	fd_ident id;
	fd_ident_init(&id);
	fd_ident_str(&id, "sla");
	fd_ident_str(&id, ev.lead_id);
	fd_ident_str(&id, d->name);
	fd_ident_i64(&id, (int64_t)kind);
	fd_ident_i64(&id, s->started_ms);
	fd_ident_i64(&id, at);
	fd_ident_hex(&id, ev.sla_event_id);
	switch (kind) {
	case FD_SLA_WARNING: e->stats.sla_warnings++; e->stats.sla_warned_by[idx]++; break;
	case FD_SLA_BREACH: e->stats.sla_breaches++; e->stats.sla_breached_by[idx]++; break;
	case FD_SLA_MET: e->stats.sla_met++; e->stats.sla_met_by[idx]++; break;
	default: break;
	}
	fd_parts_count_sla(e->parts, l->partition, idx, kind, at);
	if (out && out->sla)
		out->sla(out->ctx, &ev);
}

static void sla_open(fd_engine *e, fd_lead *l, int idx, int64_t t)
{
	const fd_sla_def *d = &e->cfg.slas[idx];
	fd_sla_slot *s = &lead_slots(e, l)[idx];
	s->state = FD_SLOT_OPEN;
	s->warned = 0;
	s->started_ms = t;
	s->due_ms = t + sla_duration(e, d, l);
	s->timer = 0;
	sla_schedule(e, l, idx);
}

static void sla_close(fd_engine *e, fd_sla_slot *s, uint8_t state)
{
	if (s->timer)
		fd_timers_remove(e->timers, s->timer);
	s->timer = 0;
	s->state = state;
}

/* ---- transitions ---------------------------------------------------------- */

static void cancel_review(fd_engine *e, fd_lead *l)
{
	if (l->review_timer)
		fd_timers_remove(e->timers, l->review_timer);
	l->review_timer = 0;
	l->review_at_ms = 0;
}

static int review_days(const fd_engine *e, fd_trigger trigger, fd_reason reason, int32_t asked)
{
	if (asked > 0)
		return asked;
	if (trigger == FD_TRIGGER_SALES_LOST)
		return e->cfg.lost_review_days;
	if ((unsigned)reason < FD_REASON_COUNT && e->cfg.nurture_reason_days[reason] > 0)
		return e->cfg.nurture_reason_days[reason];
	return e->cfg.nurture_review_days;
}

/* What caused a move; printed as the transition's cause_id only when a move
 * happens ("event:ID", "activity:ID", or "KIND@TIME[:DETAIL]" without an id). */
typedef struct cause {
	const char *kind;
	const char *id;
	int64_t at;
	const char *detail;
} cause;

static const char *cause_text(fd_engine *e, const cause *c)
{
	if (!empty(c->id))
		snprintf(e->out_cause, sizeof e->out_cause, "%s:%s", c->kind, c->id);
	else if (!empty(c->detail))
		snprintf(e->out_cause, sizeof e->out_cause, "%s@%" PRId64 ":%s", c->kind, c->at,
		         c->detail);
	else
		snprintf(e->out_cause, sizeof e->out_cause, "%s@%" PRId64, c->kind, c->at);
	return e->out_cause;
}

typedef struct move {
	fd_stage to;
	fd_trigger trigger;
	const char *reason;
	const cause *cause;
	int64_t at;
	int review_days; /* entering NURTURE */
} move;

static void enter_stage(fd_engine *e, fd_lead *l, const move *m, const fd_sink *out)
{
	const fd_rules *c = &e->cfg;
	fd_stage from = (fd_stage)l->stage;
	int64_t t = m->at > l->stage_entered_ms ? m->at : l->stage_entered_ms;

	/* stage bookkeeping first, so the snapshot and SLAs see the new stage */
	e->stats.per_stage[from]--;
	e->stats.per_stage[m->to]++;
	e->stats.entered[m->to]++;
	e->stats.transitions++;
	fd_parts_count_entry(e->parts, l->partition, m->to, true, t);
	l->stage = (uint8_t)m->to;
	l->stage_entered_ms = t;
	if (from == FD_STAGE_NURTURE)
		cancel_review(e, l);
	if (m->to == FD_STAGE_NURTURE) {
		cancel_review(e, l);
		l->review_at_ms = t + (int64_t)m->review_days * FD_MS_DAY;
		l->review_timer = fd_timers_add(e->timers, l->review_at_ms,
		                                timer_key(e, l, REVIEW_SLOT));
	}

	fd_transition tr;
	memset(&tr, 0, sizeof tr);
	tr.lead_id = lead_id_of(e, l);
	tr.from_stage = from;
	tr.to_stage = m->to;
	tr.trigger = m->trigger;
	tr.reason = m->reason ? m->reason : "";
	tr.cause_id = cause_text(e, m->cause);
	tr.occurred_at_ms = t;
	tr.owner_id = fd_intern_str(e->strings, l->owner);
	tr.lead_source = fd_intern_str(e->strings, l->source);
	tr.review_at_ms = m->to == FD_STAGE_NURTURE ? l->review_at_ms : 0;
	snapshot(e, l, t, &tr.score);
	context(e, l, tr.score.as_of_ms, &tr.n_recent, &tr.n_interests, &tr.n_breakdown);
	tr.recent = e->out_recent;
	tr.interests = e->out_interests;
	tr.breakdown = e->out_breakdown;
	fd_ident id;
	fd_ident_init(&id);
	fd_ident_str(&id, "transition");
	fd_ident_str(&id, tr.lead_id);
	fd_ident_str(&id, tr.cause_id);
	fd_ident_i64(&id, (int64_t)from);
	fd_ident_i64(&id, (int64_t)m->to);
	fd_ident_i64(&id, (int64_t)m->trigger);
	fd_ident_i64(&id, t);
	fd_ident_hex(&id, tr.transition_id);
	if (out && out->transition)
		out->transition(out->ctx, &tr);

	/* SLAs: leaving a scope closes (MET if exit satisfies), entering a
	 * stage opens the SLAs that start there */
	fd_sla_slot *slots = lead_slots(e, l);
	for (int i = 0; i < c->n_slas; i++) {
		const fd_sla_def *d = &c->slas[i];
		if (slots[i].state == FD_SLOT_FREE || (d->scope & STAGE_BIT(m->to)))
			continue;
		if (slots[i].state == FD_SLOT_OPEN && d->satisfied_by_exit) {
			sla_close(e, &slots[i], FD_SLOT_OPEN);
			sla_emit(e, l, i, FD_SLA_MET, t, out);
		}
		sla_close(e, &slots[i], FD_SLOT_FREE);
	}
	for (int i = 0; i < c->n_slas; i++) {
		const fd_sla_def *d = &c->slas[i];
		if (d->stage == m->to && d->start_on == 0 && slots[i].state == FD_SLOT_FREE)
			sla_open(e, l, i, t);
	}
}

/* Decide LEAD/NURTURE -> MQL (or SAL by fast track) after scores changed. */
static void maybe_qualify(fd_engine *e, fd_lead *l, int64_t t, const cause *why,
                          const fd_event_rule *rule, const char *channel, const fd_sink *out)
{
	const fd_rules *c = &e->cfg;
	if (!fd_lifecycle_scoring_stage((fd_stage)l->stage))
		return;
	int grade = l->grade;
	bool cooling = l->stage == FD_STAGE_NURTURE && t < l->stage_entered_ms + c->remql_cooldown_ms;
	bool hand = rule && rule->intent == FD_INTENT_HAND_RAISE && c->hand_raise_mql;
	double eng = l->engagement * decay_factor(e, l, t);
	bool score_ok = !cooling && l->engagement_as_of != INT64_MIN &&
	                c->mql_enabled_for_grade[grade] && eng >= c->mql_engagement[grade];
	bool ft_grade = grade <= c->fast_track_min_grade;
	bool channel_ft = rule && !cooling && ft_grade && in_sources(e, channel);
	if (!hand && !score_ok && !channel_ft)
		return;
	const char *src = fd_intern_str(e->strings, l->source);
	bool source_ft = ft_grade && in_sources(e, src);
	move m = { .cause = why, .at = t };
	if (channel_ft || source_ft) {
		m.to = FD_STAGE_SAL;
		m.trigger = FD_TRIGGER_FAST_TRACK;
		m.reason = channel_ft ? channel : src;
	} else if (hand) {
		m.to = FD_STAGE_MQL;
		m.trigger = FD_TRIGGER_HAND_RAISE;
		m.reason = rule->type;
	} else {
		m.to = FD_STAGE_MQL;
		m.trigger = FD_TRIGGER_SCORE_THRESHOLD;
		snprintf(e->out_reason, sizeof e->out_reason, "mql.matrix.%c", fd_grade_letter(grade));
		m.reason = e->out_reason;
	}
	enter_stage(e, l, &m, out);
}

/* ---- engagement ------------------------------------------------------------ */

/* *slot (an id the lead holds) becomes `s`. */
static void set_string(fd_engine *e, uint32_t *slot, const char *s)
{
	uint32_t id = fd_intern_ref(e->strings, s);
	fd_intern_drop(e->strings, *slot);
	*slot = id;
}

static void add_recent(fd_engine *e, fd_lead *l, int type_plus1, uint32_t content,
                       uint32_t channel, int64_t t)
{
	int cap = e->cfg.recent_activities;
	if (cap <= 0)
		return;
	fd_recent *r = lead_recent(e, l);
	int n = l->n_recent;
	/* newest first; equal times keep arrival order (newer arrival first) */
	int pos = 0;
	while (pos < n && r[pos].at_ms > t)
		pos++;
	if (pos >= cap)
		return; /* older than everything kept */
	int last = n < cap ? n : cap - 1;
	if (n == cap) { /* the oldest goes, and its strings with it */
		fd_intern_drop(e->strings, r[cap - 1].content);
		fd_intern_drop(e->strings, r[cap - 1].channel);
	}
	for (int i = last; i > pos; i--)
		r[i] = r[i - 1];
	r[pos].at_ms = t;
	r[pos].content = content;
	r[pos].channel = channel;
	fd_intern_hold(e->strings, content);
	fd_intern_hold(e->strings, channel);
	r[pos].type = (uint32_t)type_plus1;
	if (n < cap)
		l->n_recent++;
}

static void add_interest(fd_engine *e, fd_lead *l, uint32_t content, double pts)
{
	int k = e->cfg.top_interests;
	if (k <= 0 || content == 0 || pts <= 0)
		return;
	fd_interest_slot *in = lead_interests(e, l);
	for (int i = 0; i < l->n_interests; i++) {
		if (in[i].content == content) {
			in[i].score += (float)pts;
			return;
		}
	}
	if (l->n_interests < k) {
		in[l->n_interests].content = content;
		in[l->n_interests].score = (float)pts;
		l->n_interests++;
		fd_intern_hold(e->strings, content);
		return;
	}
	/* the lowest score goes; among equals, the one the export lists last
	 * (greatest content id, see context()), so the choice never depends on
	 * slot order, which a restore changes */
	int min = 0;
	for (int i = 1; i < k; i++)
		if (in[i].score < in[min].score ||
		    (in[i].score == in[min].score &&
		     strcmp(fd_intern_str(e->strings, in[i].content),
		            fd_intern_str(e->strings, in[min].content)) > 0))
			min = i;
	if ((float)pts > in[min].score) {
		fd_intern_drop(e->strings, in[min].content);
		in[min].content = content;
		in[min].score = (float)pts;
		fd_intern_hold(e->strings, content);
	}
}

static void rescale_context(fd_engine *e, fd_lead *l, double f)
{
	if (f == 1.0)
		return;
	float *b = lead_breakdown(e, l);
	for (int i = 0; i < e->cfg.n_event_types; i++)
		b[i] = (float)((double)b[i] * f);
	fd_interest_slot *in = lead_interests(e, l);
	for (int i = 0; i < l->n_interests; i++)
		in[i].score = (float)((double)in[i].score * f);
}

static fd_status check_time(int64_t at, int64_t now, int64_t skew, const char *what,
                            char *errstr, size_t errstr_size)
{
	if (at <= 0) {
		snprintf(errstr, errstr_size, "%s missing or not positive", what);
		return FD_ERR_INVALID;
	}
	if (at > FD_TIME_MAX) {
		snprintf(errstr, errstr_size, "%s %" PRId64 " is after the year 9999", what, at);
		return FD_ERR_INVALID;
	}
	/* at - skew cannot overflow: at <= FD_TIME_MAX, skew clamped to 0..30 days */
	skew = skew < 0 ? 0 : skew > 30 * FD_MS_DAY ? 30 * FD_MS_DAY : skew;
	if (at - skew > now) {
		snprintf(errstr, errstr_size, "%s %" PRId64 " is more than %" PRId64 " ms in the future",
		         what, at, skew);
		return FD_ERR_INVALID;
	}
	return FD_OK;
}

fd_status fd_engine_engagement(fd_engine *e, const fd_engagement *ev, int64_t now,
                               const fd_sink *out, char *errstr, size_t errstr_size)
{
	const fd_rules *c = &e->cfg;
	fd_status st;
	if (empty(ev->lead_id)) {
		snprintf(errstr, errstr_size, "engagement event without lead_id");
		goto invalid;
	}
	if (check_time(ev->occurred_at_ms, now, c->max_future_skew_ms, "occurred_at_ms", errstr,
	               errstr_size) != FD_OK)
		goto invalid;
	int type = empty(ev->type) ? -1 : find_type(e, ev->type);
	if (type < 0 && !c->unknown_types_score_zero) {
		snprintf(errstr, errstr_size, "unknown event type '%s'", ev->type ? ev->type : "");
		goto invalid;
	}
	const fd_event_rule *rule = type >= 0 ? &c->event_types[type] : NULL;

	fd_lead *l;
	if ((st = lookup(e, ev->lead_id, &l, errstr, errstr_size)) != FD_OK)
		return st;
	if (l && replayed(l, FD_INPUT_ENGAGEMENT, ev->position)) {
		e->stats.events_duplicate++;
		fd_parts_note(e->parts, ev->partition, ev->occurred_at_ms);
		return FD_DUPLICATE;
	}
	if (!l && (st = creatable(e, ev->lead_id, false, errstr, errstr_size)) != FD_OK)
		return st;
	if (l && idle(e, l))
		expire(e, &l, out);
	before_change(out, ev->lead_id, l != NULL);
	if (!l && (st = new_lead(e, ev->lead_id, ev->partition, ev->occurred_at_ms, &l, errstr,
	                         errstr_size)) != FD_OK)
		return st;
	if (replayed(l, FD_INPUT_ENGAGEMENT, ev->position)) {
		e->stats.events_duplicate++;
		fd_parts_note(e->parts, ev->partition, ev->occurred_at_ms);
		return FD_DUPLICATE;
	}
	uint64_t h = 0;
	if (!empty(ev->event_id)) {
		h = seen_hash(0, ev->event_id);
		if (seen_contains(e, l, h)) {
			e->stats.events_duplicate++;
			/* the position moved: persist it like any other change, so the
			 * saved state never depends on where a commit fell */
			note_input(l, FD_INPUT_ENGAGEMENT, ev->partition, ev->position, 0);
			fd_parts_note(e->parts, ev->partition, ev->occurred_at_ms);
			changed(out, lead_id_of(e, l));
			return FD_DUPLICATE;
		}
		seen_add(e, l, h);
	}
	int64_t t = ev->occurred_at_ms;
	note_input(l, FD_INPUT_ENGAGEMENT, ev->partition, ev->position, t);
	fd_parts_note(e->parts, ev->partition, t);
	cause why = { "event", ev->event_id, t, ev->type };

	double pts = rule ? rule->points : 0.0;
	if (rule && e->cap_index[type] >= 0) {
		fd_cap_state *cs = &lead_caps(e, l)[e->cap_index[type]];
		pts = fd_score_cap(&cs->window, &cs->awarded, pts, rule->cap_points, t,
		                   rule->cap_window_ms);
	}
	double late;
	double f = fd_score_add(&l->engagement, &l->engagement_as_of, pts, t, c->half_life_ms, &late);
	rescale_context(e, l, f);
	if (type >= 0)
		lead_breakdown(e, l)[type] += (float)(pts * late);
	/* references for this call; what keeps a string holds its own */
	uint32_t content = fd_intern_ref(e->strings, ev->content_id);
	uint32_t channel = fd_intern_ref(e->strings, ev->channel);
	add_interest(e, l, content, pts * late);
	fd_freq_add(l->freq, &l->freq_head, fd_floor_div(t, c->bucket_ms));
	if (t > l->last_event_ms)
		l->last_event_ms = t;
	if (rule && rule->intent != FD_INTENT_LOW && t > l->last_high_intent_ms)
		l->last_high_intent_ms = t;
	add_recent(e, l, type + 1, content, channel, t);
	if (l->source == 0 && channel) {
		l->source = channel;
		fd_intern_hold(e->strings, channel);
	}
	fd_intern_drop(e->strings, content);
	fd_intern_drop(e->strings, channel);
	e->stats.events_applied++;

	int64_t when = l->engagement_as_of;
	maybe_qualify(e, l, when, &why, rule, ev->channel, out);
	after_change(e, l, out);
	return FD_OK;
invalid:
	e->stats.events_invalid++;
	return FD_ERR_INVALID;
}

/* ---- profiles ------------------------------------------------------------- */

fd_status fd_engine_profile(fd_engine *e, const fd_profile *p, int64_t now,
                            const fd_sink *out, char *errstr, size_t errstr_size)
{
	const fd_rules *c = &e->cfg;
	fd_status st;
	if (empty(p->lead_id)) {
		snprintf(errstr, errstr_size, "profile without lead_id");
		return FD_ERR_INVALID;
	}
	if ((st = check_time(p->updated_at_ms, now, c->max_future_skew_ms, "updated_at_ms",
	                     errstr, errstr_size)) != FD_OK)
		return st;
	fd_lead *l;
	if ((st = lookup(e, p->lead_id, &l, errstr, errstr_size)) != FD_OK)
		return st;
	if (l && replayed(l, FD_INPUT_PROFILE, p->position)) {
		e->stats.profiles_stale++;
		fd_parts_note(e->parts, p->partition, p->updated_at_ms);
		return FD_DUPLICATE;
	}
	/* an idle lead is as good as gone: the profile meets a new lead */
	bool gone = l && idle(e, l);
	if (l && !gone && l->profile_updated_ms != INT64_MIN &&
	    p->updated_at_ms < l->profile_updated_ms) {
		e->stats.profiles_stale++;
		before_change(out, p->lead_id, true);
		note_input(l, FD_INPUT_PROFILE, p->partition, p->position, 0);
		fd_parts_note(e->parts, p->partition, p->updated_at_ms);
		changed(out, lead_id_of(e, l));
		return FD_STALE;
	}
	if (!l && (st = creatable(e, p->lead_id, false, errstr, errstr_size)) != FD_OK)
		return st;
	if (gone)
		expire(e, &l, out);
	before_change(out, p->lead_id, l != NULL);
	if (!l && (st = new_lead(e, p->lead_id, p->partition, p->updated_at_ms, &l, errstr,
	                         errstr_size)) != FD_OK)
		return st;
	note_input(l, FD_INPUT_PROFILE, p->partition, p->position, p->updated_at_ms);
	fd_parts_note(e->parts, p->partition, p->updated_at_ms);

	fd_fit_result fit;
	fd_fit_evaluate(c, p, &fit);
	l->fit = (float)fit.points;
	l->grade = (uint8_t)fit.grade;
	l->profile_updated_ms = p->updated_at_ms;
	if (!empty(p->owner_id))
		set_string(e, &l->owner, p->owner_id);
	if (!empty(p->lead_source))
		set_string(e, &l->source, p->lead_source);
	e->stats.profiles_applied++;

	int64_t t = p->updated_at_ms;
	cause why = { "profile", NULL, t, NULL };
	fd_stage stage = (fd_stage)l->stage;
	if (fit.disqualifier >= 0 && fd_lifecycle_fit_disqualifiable(stage)) {
		l->dq_rule = (int8_t)fit.disqualifier;
		move m = { FD_STAGE_DISQUALIFIED, FD_TRIGGER_DISQUALIFIED_BY_FIT,
		           c->disqualifiers[fit.disqualifier].name, &why, t, 0 };
		enter_stage(e, l, &m, out);
	} else if (fit.disqualifier >= 0 && stage == FD_STAGE_DISQUALIFIED && l->dq_rule >= 0) {
		l->dq_rule = (int8_t)fit.disqualifier; /* still out, maybe by another rule */
	} else if (fit.disqualifier < 0 && stage == FD_STAGE_DISQUALIFIED && l->dq_rule >= 0) {
		int prev = l->dq_rule;
		l->dq_rule = -1;
		move m = { FD_STAGE_LEAD, FD_TRIGGER_REQUALIFIED_BY_FIT,
		           c->disqualifiers[prev].name, &why, t, 0 };
		enter_stage(e, l, &m, out);
		maybe_qualify(e, l, t > l->engagement_as_of ? t : l->engagement_as_of,
		              &why, NULL, NULL, out);
	} else {
		maybe_qualify(e, l, t > l->engagement_as_of ? t : l->engagement_as_of,
		              &why, NULL, NULL, out);
	}
	after_change(e, l, out);
	return FD_OK;
}

/* ---- sales activities ------------------------------------------------------ */

fd_status fd_engine_activity(fd_engine *e, const fd_activity *a, int64_t now,
                             const fd_sink *out, char *errstr, size_t errstr_size)
{
	const fd_rules *c = &e->cfg;
	fd_status st;
	if (empty(a->lead_id)) {
		snprintf(errstr, errstr_size, "sales activity without lead_id");
		return FD_ERR_INVALID;
	}
	if ((st = check_time(a->occurred_at_ms, now, c->max_future_skew_ms, "occurred_at_ms",
	                     errstr, errstr_size)) != FD_OK)
		return st;
	if ((unsigned)a->kind >= FD_ACT_COUNT) {
		snprintf(errstr, errstr_size, "unknown activity kind %d", (int)a->kind);
		return FD_ERR_INVALID;
	}
	if ((unsigned)a->reason >= FD_REASON_COUNT) {
		snprintf(errstr, errstr_size, "unknown reason %d", (int)a->reason);
		return FD_ERR_INVALID;
	}
	if (a->kind == FD_ACT_ASSIGN && empty(a->rep_id)) {
		snprintf(errstr, errstr_size, "ASSIGN without rep_id");
		return FD_ERR_INVALID;
	}
	if (a->review_after_days < 0 || a->review_after_days > 3650) {
		snprintf(errstr, errstr_size, "review_after_days %d out of range 0..3650",
		         (int)a->review_after_days);
		return FD_ERR_INVALID;
	}
	fd_lead *l;
	if ((st = lookup(e, a->lead_id, &l, errstr, errstr_size)) != FD_OK)
		return st;
	if (l && replayed(l, FD_INPUT_ACTIVITY, a->position)) {
		e->stats.activities_duplicate++;
		fd_parts_note(e->parts, a->partition, a->occurred_at_ms);
		return FD_DUPLICATE;
	}
	/* an idle lead is as good as gone: the activity meets a new lead (and
	 * nothing changes if it is refused) */
	bool gone = l && idle(e, l);
	uint64_t h = empty(a->activity_id) ? 0 : seen_hash(1, a->activity_id);
	if (l && !gone && h && seen_contains(e, l, h)) {
		e->stats.activities_duplicate++;
		fd_parts_note(e->parts, a->partition, a->occurred_at_ms);
		return FD_DUPLICATE;
	}
	fd_stage stage = l && !gone ? (fd_stage)l->stage : FD_STAGE_LEAD;
	fd_lifecycle_step step;
	if (fd_lifecycle_activity(c, stage, a->kind, a->reason, &step, errstr, errstr_size) != 0) {
		e->stats.activities_refused++;
		return FD_ERR_REFUSED;
	}
	if (!l && (st = creatable(e, a->lead_id, false, errstr, errstr_size)) != FD_OK)
		return st;
	if (gone)
		expire(e, &l, out);
	before_change(out, a->lead_id, l != NULL);
	if (!l && (st = new_lead(e, a->lead_id, a->partition, a->occurred_at_ms, &l, errstr,
	                         errstr_size)) != FD_OK)
		return st;
	if (h)
		seen_add(e, l, h);
	note_input(l, FD_INPUT_ACTIVITY, a->partition, a->position, a->occurred_at_ms);
	fd_parts_note(e->parts, a->partition, a->occurred_at_ms);
	cause why = { "activity", a->activity_id, a->occurred_at_ms, fd_activity_kind_name(a->kind) };
	int64_t t = a->occurred_at_ms > l->stage_entered_ms ? a->occurred_at_ms : l->stage_entered_ms;

	/* the rep who assigns or accepts owns the lead; a touch claims an unowned one */
	if (!empty(a->rep_id) && (a->kind == FD_ACT_ASSIGN || a->kind == FD_ACT_ACCEPT || l->owner == 0))
		set_string(e, &l->owner, a->rep_id);
	e->stats.activities_applied++;

	uint32_t kbit = 1u << a->kind;
	fd_sla_slot *slots = lead_slots(e, l);
	for (int i = 0; i < c->n_slas; i++) {
		if (slots[i].state != FD_SLOT_OPEN || !(c->slas[i].satisfied_by & kbit))
			continue;
		if (t < slots[i].started_ms)
			continue;
		sla_close(e, &slots[i], FD_SLOT_OPEN);
		sla_emit(e, l, i, FD_SLA_MET, t, out);
		slots[i].state = FD_SLOT_DONE;
	}
	if (step.changes_stage) {
		move m = { step.to, step.trigger, "", &why, t, 0 };
		if (a->kind == FD_ACT_REJECT || a->kind == FD_ACT_LOST)
			m.reason = a->reason != FD_REASON_NONE ? fd_reason_name(a->reason) : "";
		if (step.to == FD_STAGE_NURTURE)
			m.review_days = review_days(e, step.trigger, a->reason, a->review_after_days);
		if (step.to == FD_STAGE_DISQUALIFIED)
			l->dq_rule = -1;
		enter_stage(e, l, &m, out);
	}
	for (int i = 0; i < c->n_slas; i++) {
		const fd_sla_def *d = &c->slas[i];
		if (slots[i].state == FD_SLOT_FREE && (d->start_on & kbit) &&
		    (d->scope & STAGE_BIT(l->stage)))
			sla_open(e, l, i, t);
	}
	after_change(e, l, out);
	return FD_OK;
}

/* ---- timers --------------------------------------------------------------- */

static void fire(fd_engine *e, int64_t due, uint64_t key, const fd_sink *out)
{
	const fd_rules *c = &e->cfg;
	fd_lead *l = fd_table_at(e->leads, (uint32_t)(key >> 8));
	unsigned slot = (unsigned)(key & 0xff);
	if (!l)
		return;
	before_change(out, lead_id_of(e, l), true);
	if (slot == SCORE_SLOT) {
		l->score_timer = 0;
		l->published.flags &= (uint8_t)~FD_PUBLISHED_HELD;
		changed(out, lead_id_of(e, l)); /* what was published is state */
		publish(e, l, lead_time(l), true, out);
		return;
	}
	if (slot == REVIEW_SLOT) {
		l->review_timer = 0;
		if (l->stage != FD_STAGE_NURTURE)
			return;
		cause why = { "review", NULL, due, NULL };
		move m = { c->review_stage, FD_TRIGGER_REVIEW_DUE, "", &why, due,
		           c->nurture_review_days };
		enter_stage(e, l, &m, out);
		after_change(e, l, out);
		return;
	}
	if ((int)slot >= c->n_slas)
		return;
	const fd_sla_def *d = &c->slas[slot];
	fd_sla_slot *s = &lead_slots(e, l)[slot];
	s->timer = 0;
	if (s->state != FD_SLOT_OPEN)
		return;
	if (!s->warned && d->warning_fraction > 0 && due < s->due_ms) {
		s->warned = 1;
		sla_emit(e, l, (int)slot, FD_SLA_WARNING, due, out);
		sla_schedule(e, l, (int)slot);
		after_change(e, l, out);
		return;
	}
	sla_emit(e, l, (int)slot, FD_SLA_BREACH, s->due_ms, out);
	s->state = FD_SLOT_DONE;
	if (d->has_expiry_action && l->stage != d->expiry_stage) {
		cause why = { "sla", NULL, s->started_ms, d->name };
		move m = { d->expiry_stage, FD_TRIGGER_SLA_EXPIRED, d->name, &why, s->due_ms,
		           c->nurture_review_days };
		if (d->expiry_stage == FD_STAGE_DISQUALIFIED)
			l->dq_rule = -1;
		enter_stage(e, l, &m, out);
	}
	after_change(e, l, out);
}

size_t fd_engine_advance(fd_engine *e, int64_t now, const fd_sink *out)
{
	size_t n = 0;
	int64_t due;
	uint64_t key;
	/* time ends with the year 9999 (FD_TIME_MAX): a clock beyond it would
	 * run every recurring deadline (nurture review, SLA, review...) for
	 * millions of years of virtual time */
	if (now > FD_TIME_MAX)
		now = FD_TIME_MAX;
	/* a lead kept by former rules whose deadline is due moves here first:
	 * its deadlines are then those of the current rules */
	for (fd_engine *f = e->former; f; f = f->former)
		while (fd_timers_peek(f->timers, &due, &key) && due <= now) {
			fd_lead *l = fd_table_at(f->leads, (uint32_t)(key >> 8));
			if (!l || !move_in(e, f, l))
				return n; /* out of memory: the next call tries again */
		}
	while (fd_timers_pop_due(e->timers, now, &due, &key)) {
		fire(e, due, key, out);
		n++;
	}
	return n;
}

int64_t fd_engine_next_deadline(const fd_engine *e)
{
	int64_t next = INT64_MAX;
	for (; e; e = e->former) {
		int64_t t = fd_timers_next(e->timers);
		if (t < next)
			next = t;
	}
	return next;
}

void fd_engine_prefetch(const fd_engine *e, const char *lead_id, int stage)
{
	if (empty(lead_id))
		return;
	if (stage == 0)
		fd_table_prefetch(e->leads, lead_id, strlen(lead_id));
	else
		fd_table_prefetch_record(e->leads, lead_id, strlen(lead_id));
}

/* ---- persisted state ------------------------------------------------------ */

bool fd_engine_export(fd_engine *e, const char *lead_id, fd_lead_state *st)
{
	fd_lead *l = touch(e, lead_id);
	return l && export_lead(e, l, st);
}

static bool export_lead(fd_engine *e, fd_lead *l, fd_lead_state *st)
{
	const fd_rules *c = &e->cfg;
	memset(st, 0, sizeof *st);
	st->lead_id = lead_id_of(e, l);
	st->partition = l->partition;
	st->stage = (fd_stage)l->stage;
	st->stage_entered_ms = l->stage_entered_ms;
	bool scored = l->engagement_as_of != INT64_MIN;
	st->engagement = scored ? l->engagement : 0.0;
	st->engagement_as_of_ms = scored ? l->engagement_as_of : 0;
	st->fit = l->fit;
	st->grade = l->grade;
	st->last_event_ms = l->last_event_ms;
	st->last_high_intent_ms = l->last_high_intent_ms;
	st->review_at_ms = l->review_at_ms;
	st->profile_updated_ms = l->profile_updated_ms == INT64_MIN ? 0 : l->profile_updated_ms;
	st->last_input_ms = l->last_input_ms;
	st->owner_id = fd_intern_str(e->strings, l->owner);
	st->lead_source = fd_intern_str(e->strings, l->source);
	st->disqualified_by = l->dq_rule >= 0 ? c->disqualifiers[l->dq_rule].name : "";
	if (l->freq_head != INT64_MIN) {
		st->freq_head = l->freq_head;
		st->n_freq = FD_FREQ_BUCKETS;
		for (int i = 0; i < FD_FREQ_BUCKETS; i++) {
			int64_t b = l->freq_head - i;
			st->freq[i] = b < 0 ? 0 : l->freq[(size_t)(b % FD_FREQ_BUCKETS)];
		}
		while (st->n_freq > 0 && st->freq[st->n_freq - 1] == 0)
			st->n_freq--;
		if (st->n_freq == 0)
			st->n_freq = 1; /* keep the head */
	}
	const uint64_t *seen = lead_seen(e, l);
	for (int i = 0; i < e->n_seen; i++) {
		uint64_t h = seen[(l->seen_next + i) % e->n_seen];
		if (h)
			st->seen[st->n_seen++] = h;
	}
	const fd_cap_state *caps = lead_caps(e, l);
	for (int i = 0; i < c->n_event_types; i++) {
		int k = e->cap_index[i];
		if (k < 0 || (caps[k].window == 0 && caps[k].awarded == 0))
			continue;
		fd_state_cap *sc = &st->caps[st->n_caps++];
		sc->type = c->event_types[i].type;
		sc->window = caps[k].window;
		sc->awarded = caps[k].awarded;
	}
	const fd_sla_slot *slots = lead_slots(e, l);
	for (int i = 0; i < c->n_slas; i++) {
		if (slots[i].state == FD_SLOT_FREE)
			continue;
		fd_state_sla *ss = &st->slas[st->n_slas++];
		ss->name = c->slas[i].name;
		ss->started_at_ms = slots[i].started_ms;
		ss->due_at_ms = slots[i].due_ms;
		ss->warned = slots[i].warned != 0;
		ss->done = slots[i].state == FD_SLOT_DONE;
	}
	size_t nr, ni, nb;
	/* context() decays to the time given; the as-of time keeps the basis */
	context(e, l, scored ? l->engagement_as_of : 0, &nr, &ni, &nb);
	for (size_t i = 0; i < nr; i++)
		st->recent[i] = e->out_recent[i];
	st->n_recent = (int)nr;
	for (size_t i = 0; i < ni; i++)
		st->interests[i] = e->out_interests[i];
	st->n_interests = (int)ni;
	for (size_t i = 0; i < nb; i++)
		st->breakdown[i] = e->out_breakdown[i];
	st->n_breakdown = (int)nb;
	for (int k = 0; k < FD_INPUT_KINDS; k++)
		st->positions[k] = l->positions[k];
	st->published = l->published;
	return true;
}

static void remove_timers(fd_engine *e, fd_lead *l)
{
	fd_sla_slot *slots = lead_slots(e, l);
	for (int i = 0; i < e->cfg.n_slas; i++)
		if (slots[i].timer) {
			fd_timers_remove(e->timers, slots[i].timer);
			slots[i].timer = 0;
		}
	if (l->review_timer) {
		fd_timers_remove(e->timers, l->review_timer);
		l->review_timer = 0;
	}
	if (l->score_timer) {
		fd_timers_remove(e->timers, l->score_timer);
		l->score_timer = 0;
	}
}

/* Every string reference a lead holds (see intern.h). */
static void drop_strings(fd_engine *e, fd_lead *l)
{
	fd_intern_drop(e->strings, l->owner);
	fd_intern_drop(e->strings, l->source);
	l->owner = l->source = 0;
	fd_recent *r = lead_recent(e, l);
	for (int i = 0; i < l->n_recent; i++) {
		fd_intern_drop(e->strings, r[i].content);
		fd_intern_drop(e->strings, r[i].channel);
	}
	l->n_recent = 0;
	fd_interest_slot *in = lead_interests(e, l);
	for (int i = 0; i < l->n_interests; i++)
		fd_intern_drop(e->strings, in[i].content);
	l->n_interests = 0;
}

static void remove_lead(fd_engine *e, fd_lead *l)
{
	remove_timers(e, l);
	drop_strings(e, l);
	e->stats.per_stage[l->stage]--;
	fd_table_remove_record(e->leads, l);
}

bool fd_engine_remove(fd_engine *e, const char *lead_id)
{
	if (empty(lead_id))
		return false;
	fd_lead *l = find_lead(e, lead_id);
	fd_engine *f = e;
	if (!l && !(f = former_of(e, lead_id, &l)))
		return false;
	remove_lead(f, l);
	return true;
}

static int type_by_name(const fd_engine *e, const char *name)
{
	return empty(name) ? -1 : find_type(e, name);
}

static int sla_by_name(const fd_engine *e, const char *name)
{
	for (int i = 0; i < e->cfg.n_slas && !empty(name); i++)
		if (strcmp(e->cfg.slas[i].name, name) == 0)
			return i;
	return -1;
}

fd_status fd_engine_import(fd_engine *e, const fd_lead_state *st, char *errstr, size_t errstr_size)
{
	fd_lead *l;
	return import_lead(e, st, &l, errstr, errstr_size);
}

/* fd_engine_import, *out: the lead's record here */
static fd_status import_lead(fd_engine *e, const fd_lead_state *st, fd_lead **out, char *errstr,
                             size_t errstr_size)
{
	const fd_rules *c = &e->cfg;
	if (empty(st->lead_id)) {
		snprintf(errstr, errstr_size, "lead state without lead_id");
		return FD_ERR_INVALID;
	}
	if ((unsigned)st->stage >= FD_STAGE_COUNT) {
		snprintf(errstr, errstr_size, "lead state with unknown stage %d", (int)st->stage);
		return FD_ERR_INVALID;
	}
	/* the strings first: `st` may point into this engine's own pool (an
	 * export of the lead it replaces), which removing the lead may empty */
	uint32_t owner = fd_intern_ref(e->strings, st->owner_id);
	uint32_t source = fd_intern_ref(e->strings, st->lead_source);
	uint32_t interests[FD_MAX_CONTEXT], contents[FD_MAX_CONTEXT], channels[FD_MAX_CONTEXT];
	float scores[FD_MAX_CONTEXT];
	int ni = 0, nr = 0;
	for (int i = 0; i < st->n_interests && ni < c->top_interests && ni < FD_MAX_CONTEXT; i++) {
		if ((interests[ni] = fd_intern_ref(e->strings, st->interests[i].content_id)) != 0)
			scores[ni++] = (float)st->interests[i].score;
	}
	for (int i = 0; i < st->n_recent && nr < c->recent_activities && nr < FD_MAX_CONTEXT; i++, nr++) {
		contents[nr] = fd_intern_ref(e->strings, st->recent[i].content_id);
		channels[nr] = fd_intern_ref(e->strings, st->recent[i].channel);
	}
	fd_lead *l = find_lead(e, st->lead_id);
	/* a lead a former engine still holds is replaced too (and, like any
	 * replaced lead, never refused at the cap); `st` may be its export, so
	 * it leaves that engine only once `st` has been read */
	fd_lead *old = NULL;
	fd_engine *f = l || !e->former ? NULL : former_of(e, st->lead_id, &old);
	fd_status rc = creatable(e, st->lead_id, l != NULL || f != NULL, errstr, errstr_size);
	if (rc == FD_OK && l)
		remove_lead(e, l);
	if (rc == FD_OK)
		rc = create_lead(e, st->lead_id, &l, errstr, errstr_size);
	if (rc != FD_OK) {
		fd_intern_drop(e->strings, owner);
		fd_intern_drop(e->strings, source);
		for (int i = 0; i < ni; i++)
			fd_intern_drop(e->strings, interests[i]);
		for (int i = 0; i < nr; i++) {
			fd_intern_drop(e->strings, contents[i]);
			fd_intern_drop(e->strings, channels[i]);
		}
		return rc;
	}
	e->stats.per_stage[FD_STAGE_LEAD]--;
	e->stats.entered[FD_STAGE_LEAD]--; /* restored, not new */
	e->stats.per_stage[st->stage]++;
	l->stage = (uint8_t)st->stage;
	l->partition = st->partition;
	l->stage_entered_ms = st->stage_entered_ms;
	l->engagement = st->engagement;
	l->engagement_as_of = st->engagement_as_of_ms ? st->engagement_as_of_ms : INT64_MIN;
	l->fit = (float)st->fit;
	l->grade = (uint8_t)(st->grade >= 0 && st->grade < FD_GRADE_COUNT ? st->grade : FD_GRADE_D);
	l->last_event_ms = st->last_event_ms;
	l->last_high_intent_ms = st->last_high_intent_ms;
	l->profile_updated_ms = st->profile_updated_ms ? st->profile_updated_ms : INT64_MIN;
	l->owner = owner;   /* the references taken above pass to the lead */
	l->source = source;
	l->dq_rule = -1;
	for (int i = 0; i < c->n_disqualifiers && !empty(st->disqualified_by); i++)
		if (strcmp(c->disqualifiers[i].name, st->disqualified_by) == 0)
			l->dq_rule = (int8_t)i;
	if (st->n_freq > 0) {
		l->freq_head = st->freq_head;
		for (int i = 0; i < st->n_freq && i < FD_FREQ_BUCKETS; i++) {
			int64_t b = st->freq_head - i;
			if (b >= 0)
				l->freq[(size_t)(b % FD_FREQ_BUCKETS)] =
					(uint16_t)(st->freq[i] > UINT16_MAX ? UINT16_MAX : st->freq[i]);
		}
	}
	int first = st->n_seen > e->n_seen ? st->n_seen - e->n_seen : 0;
	for (int i = first; i < st->n_seen; i++)
		seen_add(e, l, st->seen[i]);
	for (int i = 0; i < st->n_caps; i++) {
		int t = type_by_name(e, st->caps[i].type);
		if (t < 0 || e->cap_index[t] < 0)
			continue;
		fd_cap_state *cs = &lead_caps(e, l)[e->cap_index[t]];
		cs->window = st->caps[i].window;
		cs->awarded = st->caps[i].awarded;
	}
	float *b = lead_breakdown(e, l);
	for (int i = 0; i < st->n_breakdown; i++) {
		int t = type_by_name(e, st->breakdown[i].type);
		if (t >= 0)
			b[t] = (float)st->breakdown[i].points;
	}
	fd_interest_slot *in = lead_interests(e, l);
	for (int k = 0; k < ni; k++) {
		in[k].content = interests[k];
		in[k].score = scores[k];
	}
	l->n_interests = (uint8_t)ni;
	fd_recent *r = lead_recent(e, l);
	for (int i = 0; i < nr; i++) {
		fd_recent *x = &r[l->n_recent++];
		x->at_ms = st->recent[i].occurred_at_ms;
		x->content = contents[i];
		x->channel = channels[i];
		int t = type_by_name(e, st->recent[i].type);
		x->type = t >= 0 ? (uint32_t)(t + 1) : 0;
	}
	for (int k = 0; k < FD_INPUT_KINDS; k++)
		l->positions[k] = st->positions[k];
	l->last_input_ms = st->last_input_ms;

	/* timers */
	fd_sla_slot *slots = lead_slots(e, l);
	for (int i = 0; i < st->n_slas; i++) {
		int k = sla_by_name(e, st->slas[i].name);
		if (k < 0)
			continue;
		fd_sla_slot *sl = &slots[k];
		sl->started_ms = st->slas[i].started_at_ms;
		sl->due_ms = st->slas[i].due_at_ms;
		sl->warned = st->slas[i].warned;
		sl->state = st->slas[i].done ? FD_SLOT_DONE : FD_SLOT_OPEN;
		sl->timer = 0;
		if (sl->state == FD_SLOT_OPEN)
			sla_schedule(e, l, k);
	}
	if (l->stage == FD_STAGE_NURTURE && st->review_at_ms > 0) {
		l->review_at_ms = st->review_at_ms;
		l->review_timer = fd_timers_add(e->timers, l->review_at_ms,
		                                timer_key(e, l, REVIEW_SLOT));
	}
	l->published = st->published;
	if (l->published.flags & FD_PUBLISHED_HELD)
		hold_score(e, l, held_until(e, l));
	if (f)
		remove_lead(f, old);
	*out = l;
	return FD_OK;
}

void fd_engine_foreach(fd_engine *e, int32_t partition,
                       void (*fn)(void *ctx, const char *lead_id, int32_t partition), void *ctx)
{
	for (; e; e = e->former) {
		uint32_t cur = 0;
		fd_lead *l;
		while ((l = fd_table_next(e->leads, &cur)) != NULL)
			if (partition < 0 || l->partition == partition)
				fn(ctx, lead_id_of(e, l), l->partition);
	}
}

void fd_engine_set_evict_scan(fd_engine *e, size_t leads_per_call)
{
	e->evict_scan = leads_per_call;
}

void fd_engine_set_lead_ttl(fd_engine *e, int64_t ttl_ms)
{
	e->ttl_ms = ttl_ms;
}

size_t fd_engine_evict(fd_engine *e, size_t max,
                       void (*fn)(void *ctx, const char *lead_id, int32_t partition), void *ctx)
{
	size_t n = 0, scanned = 0;
	size_t budget = e->evict_scan ? e->evict_scan : SIZE_MAX;
	/* the periodic call also moves a growth of the lead table along when
	 * few inserts do it (lookups look in two arrays until it is done) */
	fd_table_step(e->leads, (uint32_t)(budget < GROW_STEP_PER_EVICT ? budget : GROW_STEP_PER_EVICT));
	if (e->ttl_ms <= 0)
		return 0;
	/* from where the last call stopped to the end, then from the start
	 * back to there: each lead looked at once per sweep, a bounded slice
	 * of them per call */
	uint32_t start = e->evict_cursor, cur = start;
	bool second = false;
	fd_lead *l;
	while (n < max && scanned < budget) {
		if ((l = fd_table_next(e->leads, &cur)) == NULL || (second && cur > start)) {
			if (second || start == 0) {
				cur = 0; /* the sweep is complete: the next call starts over */
				break;
			}
			second = true;
			cur = 0;
			continue;
		}
		scanned++;
		if (!idle(e, l))
			continue;
		if (fn)
			fn(ctx, lead_id_of(e, l), l->partition);
		remove_lead(e, l);
		e->stats.leads_evicted++;
		n++;
	}
	e->evict_cursor = cur;
	return n;
}

/* ---- inspection ------------------------------------------------------------ */

bool fd_engine_lead(fd_engine *e, const char *lead_id, int64_t now, fd_lead_view *v)
{
	fd_lead *l = touch(e, lead_id);
	if (!l)
		return false;
	view(e, l, now, v);
	return true;
}

static void view(fd_engine *e, const fd_lead *l, int64_t now, fd_lead_view *v)
{
	const fd_rules *c = &e->cfg;
	memset(v, 0, sizeof *v);
	v->lead_id = lead_id_of(e, l);
	v->stage = (fd_stage)l->stage;
	v->stage_entered_ms = l->stage_entered_ms;
	v->owner_id = fd_intern_str(e->strings, l->owner);
	v->lead_source = fd_intern_str(e->strings, l->source);
	v->disqualified_by = l->dq_rule >= 0 ? c->disqualifiers[l->dq_rule].name : "";
	v->review_at_ms = l->review_at_ms;
	v->remql_after_ms = l->stage == FD_STAGE_NURTURE ? l->stage_entered_ms + c->remql_cooldown_ms : 0;
	snapshot(e, l, now, &v->score);
	const fd_sla_slot *slots = lead_slots(e, l);
	for (int i = 0; i < c->n_slas && v->n_open_slas < FD_MAX_OPEN_SLAS; i++) {
		if (slots[i].state != FD_SLOT_OPEN)
			continue;
		fd_open_sla *o = &v->open_slas[v->n_open_slas++];
		o->name = c->slas[i].name;
		o->started_at_ms = slots[i].started_ms;
		o->due_at_ms = slots[i].due_ms;
		o->warned = slots[i].warned != 0;
	}
	context(e, l, v->score.as_of_ms, &v->n_recent, &v->n_interests, &v->n_breakdown);
	v->recent = e->out_recent;
	v->interests = e->out_interests;
	v->breakdown = e->out_breakdown;
}

/* ---- the score stream ----------------------------------------------------- */

/* Ask again at `due` (a held LeadScore); without a timer (no memory) the
 * hold ends: the lead's next change asks. */
static void hold_score(fd_engine *e, fd_lead *l, int64_t due)
{
	if (l->score_timer)
		fd_timers_remove(e->timers, l->score_timer);
	l->score_timer = fd_timers_add(e->timers, due, timer_key(e, l, SCORE_SLOT));
	if (!l->score_timer)
		l->published.flags &= (uint8_t)~FD_PUBLISHED_HELD;
}

/* When a restored held LeadScore is asked again: the interval after the
 * last one, under the current rules. */
static int64_t held_until(const fd_engine *e, const fd_lead *l)
{
	int64_t due;
	if (__builtin_add_overflow(l->published.at_ms, e->cfg.publish_min_interval_ms, &due))
		due = INT64_MAX;
	return due;
}

/* Is the lead's LeadScore worth publishing at `now` (the lead's time)?
 * Only with a score sink: without one nothing is decided or remembered. */
static void publish(fd_engine *e, fd_lead *l, int64_t now, bool recheck, const fd_sink *out)
{
	if (!out || !out->score)
		return;
	fd_score_policy p = { e->cfg.publish_min_change, e->cfg.publish_min_interval_ms };
	int64_t at = lead_time(l), due = 0;
	/* what the policy reads, as snapshot() computes it (the rest of the
	 * snapshot only for a LeadScore that goes out) */
	fd_score_snapshot s;
	s.engagement = l->engagement * decay_factor(e, l, at);
	s.fit = l->fit;
	s.grade = l->grade;
	switch (fd_publish_decide(&p, &l->published, &s, (fd_stage)l->stage, now, recheck, &due)) {
	case FD_PUBLISH_NOW: {
		fd_lead_view v;
		view(e, l, at, &v);
		out->score(out->ctx, &v);
		break;
	}
	case FD_PUBLISH_HOLD:
		hold_score(e, l, due);
		break;
	case FD_PUBLISH_NO:
		break;
	}
}

void fd_engine_stats_get(const fd_engine *e, fd_engine_stats *s)
{
	*s = e->stats; /* the counters: carried over by a reload */
	memset(s->per_stage, 0, sizeof s->per_stage);
	s->leads = s->pending_timers = s->bytes_core = s->bytes_context = s->strings = 0;
	s->migrating = 0;
	/* what is held: here and in former engines not emptied yet */
	for (const fd_engine *f = e; f; f = f->former) {
		size_t leads = fd_table_count(f->leads);
		s->leads += leads;
		if (f != e)
			s->migrating += leads;
		for (int i = 0; i < FD_STAGE_COUNT; i++)
			s->per_stage[i] += f->stats.per_stage[i];
		s->pending_timers += fd_timers_count(f->timers);
		/* the context block shares the table record; count it apart */
		s->bytes_core += fd_table_memory(f->leads) - leads * f->ctx_size;
		s->bytes_context += leads * f->ctx_size + fd_intern_memory(f->strings) +
		                    fd_timers_memory(f->timers);
		s->strings += fd_intern_count(f->strings);
	}
}

int fd_engine_adopt(fd_engine *e, fd_engine *former)
{
	if (fd_table_count(e->leads) > 0 || e->former)
		return -1;
	fd_engine_carry_stats(e, former);
	/* the partitions move over at once (they are small), their SLA
	 * counters re-indexed by name */
	int map[FD_MAX_SLAS];
	for (int i = 0; i < e->cfg.n_slas; i++) {
		map[i] = -1;
		for (int j = 0; j < former->cfg.n_slas; j++)
			if (strcmp(e->cfg.slas[i].name, former->cfg.slas[j].name) == 0)
				map[i] = j;
	}
	fd_parts *mine = e->parts;
	e->parts = former->parts;
	former->parts = mine;
	fd_parts_remap(e->parts, map, e->cfg.n_slas);
	fd_parts_set_max_days(e->parts, e->funnel_days);
	fd_table_drain(former->leads);
	e->former = former;
	e->migrate_cursor = 0;
	return 0;
}

size_t fd_engine_migrate(fd_engine *e, size_t max)
{
	size_t moved = 0;
	while (e->former && moved < max) {
		fd_engine *f = e->former;
		fd_lead *l = fd_table_next(f->leads, &e->migrate_cursor);
		if (!l) {
			/* empty (the cursor passed every record: nothing is added
			 * to a former engine): free it, go on with its own former */
			if (fd_table_count(f->leads) > 0)
				return moved; /* cannot happen; never free a lead */
			e->former = f->former;
			f->former = NULL;
			e->migrate_cursor = 0;
			fd_engine_free(f);
			continue;
		}
		if (!move_in(e, f, l))
			return moved;
		moved++;
	}
	return moved;
}

size_t fd_engine_migrating(const fd_engine *e)
{
	return all_leads(e) - fd_table_count(e->leads);
}

void fd_engine_score_id(const fd_lead_view *v, char out[FD_ID_HEX + 1])
{
	char text[512];
	snprintf(text, sizeof text, "%s|%d|%" PRId64 "|%.17g|%.17g|%d|%s", v->lead_id, (int)v->stage,
	         v->score.as_of_ms, v->score.engagement, v->score.fit, v->score.grade, v->owner_id);
	fd_ident id;
	fd_ident_init(&id);
	fd_ident_str(&id, "score");
	fd_ident_str(&id, text);
	fd_ident_hex(&id, out);
}

/* ---- self-check ------------------------------------------------------------------- */

static int check_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int check_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errstr, errstr_size, fmt, ap);
	va_end(ap);
	return -1;
}

static void count_ref(uint32_t *counts, uint32_t n, uint32_t id)
{
	if (id && id <= n)
		counts[id - 1]++;
}

int fd_engine_check(const fd_engine *e, char *errstr, size_t errstr_size)
{
	/* every string is referred to exactly as often as its count says */
	uint32_t n = fd_intern_ids(e->strings);
	uint32_t *counts = calloc((size_t)n + 1, sizeof *counts);
	if (!counts)
		return check_fail(errstr, errstr_size, "out of memory");
	uint64_t per_stage[FD_STAGE_COUNT] = { 0 };
	size_t timers = 0;
	uint32_t cur = 0;
	const fd_lead *l;
	int rc = 0;
	while ((l = fd_table_next(e->leads, &cur)) != NULL) {
		per_stage[l->stage < FD_STAGE_COUNT ? l->stage : 0]++;
		count_ref(counts, n, l->owner);
		count_ref(counts, n, l->source);
		const fd_recent *r = lead_recent(e, l);
		for (int i = 0; i < l->n_recent; i++) {
			count_ref(counts, n, r[i].content);
			count_ref(counts, n, r[i].channel);
		}
		const fd_interest_slot *in = lead_interests(e, l);
		for (int i = 0; i < l->n_interests; i++)
			count_ref(counts, n, in[i].content);
		const fd_sla_slot *slots = lead_slots(e, l);
		for (int i = 0; i < e->cfg.n_slas; i++)
			timers += slots[i].timer != 0;
		timers += l->review_timer != 0;
		timers += l->score_timer != 0;
		if (rc == 0 && (l->score_timer != 0) != ((l->published.flags & FD_PUBLISHED_HELD) != 0))
			rc = check_fail(errstr, errstr_size, "lead %s: %s LeadScore without its timer",
			                lead_id_of(e, l), l->score_timer ? "no held" : "a held");
		if (l->stage >= FD_STAGE_COUNT && rc == 0)
			rc = check_fail(errstr, errstr_size, "lead %s: stage %d", lead_id_of(e, l), l->stage);
	}
	size_t strings = 0;
	for (uint32_t id = 1; rc == 0 && id <= n; id++) {
		uint32_t refs = fd_intern_refs(e->strings, id);
		strings += refs > 0;
		if (refs != counts[id - 1] && refs != UINT32_MAX)
			rc = check_fail(errstr, errstr_size, "string %u \"%s\": %u references counted, %u "
			                "held", id, fd_intern_str(e->strings, id), refs, counts[id - 1]);
	}
	free(counts);
	if (rc == 0 && strings != fd_intern_count(e->strings))
		rc = check_fail(errstr, errstr_size, "%zu strings in the pool, %zu referred to",
		                fd_intern_count(e->strings), strings);
	for (int s = 0; rc == 0 && s < FD_STAGE_COUNT; s++)
		if (per_stage[s] != e->stats.per_stage[s])
			rc = check_fail(errstr, errstr_size, "%" PRIu64 " leads in %s, the count says %" PRIu64,
			                per_stage[s], fd_stage_name((fd_stage)s), e->stats.per_stage[s]);
	if (rc == 0 && timers != fd_timers_count(e->timers))
		rc = check_fail(errstr, errstr_size, "%zu timers held by leads, %zu pending", timers,
		                fd_timers_count(e->timers));
	/* former engines (a reload in progress): each consistent, and a lead
	 * lives in exactly one engine */
	for (const fd_engine *f = e->former; rc == 0 && f; f = f->former) {
		if (fd_engine_check(f, errstr, errstr_size) != 0)
			return -1;
		cur = 0;
		while (rc == 0 && (l = fd_table_next(f->leads, &cur)) != NULL)
			for (const fd_engine *g = e; rc == 0 && g != f; g = g->former)
				if (find_lead(g, lead_id_of(f, l)))
					rc = check_fail(errstr, errstr_size, "lead %s held twice (reload)",
					                lead_id_of(f, l));
	}
	return rc;
}

/* ---- partitions ---------------------------------------------------------------------- */

void fd_engine_set_funnel_days(fd_engine *e, int days)
{
	e->funnel_days = days < 1 ? 1 : days;
	fd_parts_set_max_days(e->parts, e->funnel_days);
}

int64_t fd_engine_stream_time(const fd_engine *e, int32_t partition)
{
	return fd_parts_stream_time(e->parts, partition);
}

size_t fd_engine_partitions(const fd_engine *e, int32_t *out, size_t max)
{
	return fd_parts_list(e->parts, out, max);
}

int fd_engine_partition_open(fd_engine *e, int32_t partition)
{
	return fd_parts_open(e->parts, partition);
}

void fd_engine_partition_drop(fd_engine *e, int32_t partition)
{
	fd_parts_drop(e->parts, partition);
}

/* The SLA names in config order. */
static int sla_names(const fd_engine *e, const char *names[FD_MAX_SLAS])
{
	int n = e->cfg.n_slas < FD_MAX_SLAS ? e->cfg.n_slas : FD_MAX_SLAS;
	for (int i = 0; i < n; i++)
		names[i] = e->cfg.slas[i].name;
	return n;
}

bool fd_engine_partition_export(fd_engine *e, int32_t partition, fd_partition_state *out)
{
	const char *names[FD_MAX_SLAS];
	int n = sla_names(e, names);
	return fd_parts_export(e->parts, partition, names, n, out);
}

fd_status fd_engine_partition_import(fd_engine *e, const fd_partition_state *st, char *errstr,
                                     size_t errstr_size)
{
	const char *names[FD_MAX_SLAS];
	int n = sla_names(e, names);
	return fd_parts_import(e->parts, st, names, n, errstr, errstr_size);
}

size_t fd_engine_partitions_take_changed(fd_engine *e, int32_t *out, size_t max)
{
	return fd_parts_take_changed(e->parts, out, max);
}

bool fd_engine_funnel(const fd_engine *e, int32_t partition, int64_t from_day, int64_t to_day,
                      fd_funnel_counts *sum, bool *exact)
{
	return fd_parts_funnel(e->parts, partition, from_day, to_day, sum, exact);
}

void fd_engine_partitions_save(fd_engine *e)
{
	fd_parts_save(e->parts);
}

void fd_engine_partitions_rollback(fd_engine *e)
{
	fd_parts_rollback(e->parts);
}
