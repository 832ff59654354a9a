/*
 * demo_sales.c — the simulated sales team (see demo_sales.h).
 *
 * Every transition read from Kafka bumps the lead's generation and plans
 * the team's answer on the agenda in virtual time; a planned activity whose
 * generation is stale when it falls due is dropped (the lead moved on, e.g.
 * the SAL SLA expired and sent it back to MQL). The consumer is assigned
 * the partitions directly (no group join to wait for) and polled on the
 * demo's tick; nothing blocks.
 *
 * Not here: any knowledge of scores or rules beyond the SLA durations; the
 * team reacts to what funneld published, as a real one would.
 */
#include "demo/demo_sales.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "demo/demo_agenda.h"
#include "demo/demo_kafka.h"
#include "demo/demo_rng.h"
#include "demo/demo_traffic.h"
#include "base/log.h"
#include "funneld/wire.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define HOURS(h) ((int64_t)((h) * (double)FD_MS_HOUR))
#define SALT UINT64_C(0x5a1e5)

static const char *const reps[] = { "rep-ana", "rep-ben", "rep-chloe", "rep-dev", "rep-eli",
	                                "rep-fay" };

/* A planned activity, packed into the agenda's `what`. */
#define PLAN(kind, reason, days) ((uint32_t)(kind) | (uint32_t)(reason) << 8 | (uint32_t)(days) << 16)
#define PLAN_KIND(w) ((fd_activity_kind)((w) & 0xff))
#define PLAN_REASON(w) ((fd_reason)(((w) >> 8) & 0xff))
#define PLAN_DAYS(w) ((int32_t)((w) >> 16))

typedef struct sales_lead {
	uint32_t gen;                     /* bumped by every transition */
	uint8_t entered[FD_STAGE_COUNT];  /* times the lead entered each stage */
	uint8_t rep;                      /* 1 + index into reps[]; 0: none yet */
	bool owned;                       /* assigned (by us or upstream) */
} sales_lead;

struct fd_demo_sales {
	const fd_config *cfg;
	int64_t now;                /* virtual time of the last read: nothing is planned before */
	rd_kafka_t *consumer, *producer;
	fd_wire_arena *arena;
	int n_leads;
	sales_lead *leads;
	fd_demo_agenda agenda;
	uint64_t seed;
	int first_touch_sla, sal_sla;     /* indexes in cfg->rules.slas, or -1 */
	fd_demo_sales_stats stats;
};

/* ---- SLAs the team works against ------------------------------------------ */

static int find_sla(const fd_rules *ec, fd_stage stage, int need_kind)
{
	for (int i = 0; i < ec->n_slas; i++) {
		const fd_sla_def *d = &ec->slas[i];
		if (d->stage == stage && d->start_on == 0 &&
		    (need_kind < 0 || (d->satisfied_by & (1u << need_kind))))
			return i;
	}
	return -1;
}

static int64_t sla_duration(const fd_demo_sales *s, int sla, const char *source, int64_t dflt)
{
	if (sla < 0)
		return dflt;
	const fd_sla_def *d = &s->cfg->rules.slas[sla];
	for (int i = 0; i < d->n_overrides; i++)
		if (source && strcmp(d->overrides[i].source, source) == 0)
			return d->overrides[i].duration_ms;
	return d->duration_ms;
}

/* ---- planning ------------------------------------------------------------ */

static void plan(fd_demo_sales *s, int idx, const sales_lead *l, int64_t at, fd_activity_kind kind,
                 fd_reason reason, int days)
{
	if (at < s->now)
		at = s->now; /* what was sent up to now is not followed by the past */
	(void)fd_demo_agenda_add(&s->agenda, at, idx, PLAN(kind, reason, days), l->gen);
}

static int64_t frac(fd_demo_rng *r, int64_t base, double lo, double hi, int64_t span)
{
	return base + (int64_t)(fd_demo_rng_range(r, lo, hi) * (double)span);
}

static void plan_mql(fd_demo_sales *s, int idx, sales_lead *l, fd_demo_rng *r, int64_t t0,
                     const char *source)
{
	int64_t due = sla_duration(s, s->first_touch_sla, source, 48 * FD_MS_HOUR);
	if (!l->owned)
		plan(s, idx, l, t0 + HOURS(fd_demo_rng_range(r, 0.2, 2.0)), FD_ACT_ASSIGN, 0, 0);
	if (l->entered[FD_STAGE_MQL] >= 3) {
		/* third time round: the rep gives up on it */
		plan(s, idx, l, frac(r, t0, 0.2, 0.6, due), FD_ACT_REJECT, FD_REASON_NO_RESPONSE, 0);
		return;
	}
	double u = fd_demo_rng_unit(r);
	int64_t touch;
	if (u < 0.75)
		touch = frac(r, t0, 0.10, 0.85, due);     /* in time */
	else if (u < 0.90)
		touch = frac(r, t0, 1.05, 1.50, due);     /* late: after the breach */
	else
		return;                                   /* never: the lead waits */
	plan(s, idx, l, touch, FD_ACT_TOUCH, 0, 0);
	plan(s, idx, l, frac(r, touch, 0.01, 0.08, due), FD_ACT_ACCEPT, 0, 0);
}

static void plan_sal(fd_demo_sales *s, int idx, sales_lead *l, fd_demo_rng *r, int64_t t0,
                     const char *source)
{
	int64_t due = sla_duration(s, s->sal_sla, source, 2 * FD_MS_DAY);
	if (!l->owned) { /* fast-tracked: nobody had it yet */
		plan(s, idx, l, t0 + HOURS(fd_demo_rng_range(r, 0.1, 1.0)), FD_ACT_ASSIGN, 0, 0);
		plan(s, idx, l, t0 + HOURS(fd_demo_rng_range(r, 1.0, 6.0)), FD_ACT_TOUCH, 0, 0);
	}
	bool late = fd_demo_rng_unit(r) < 0.15;
	int64_t at = late ? frac(r, t0, 1.05, 1.40, due) : frac(r, t0, 0.05, 0.65, due);
	double u = fd_demo_rng_unit(r);
	if (u < 0.60 || (u < 0.75 && l->entered[FD_STAGE_SAL] > 1))
		plan(s, idx, l, at, FD_ACT_QUALIFY, 0, 0);
	else if (u < 0.75)
		plan(s, idx, l, at, FD_ACT_REVERT, 0, 0);
	else if (u < 0.90)
		plan(s, idx, l, at, FD_ACT_REJECT, FD_REASON_BAD_TIMING, 30 * (1 + fd_demo_rng_below(r, 3)));
	else
		plan(s, idx, l, at, FD_ACT_REJECT, FD_REASON_BAD_FIT, 0);
}

static void plan_sql(fd_demo_sales *s, int idx, sales_lead *l, fd_demo_rng *r, int64_t t0)
{
	plan(s, idx, l, t0 + HOURS(fd_demo_rng_range(r, 4, 30)), FD_ACT_TOUCH, 0, 0);
	if (fd_demo_rng_unit(r) < 0.9)
		plan(s, idx, l, t0 + HOURS(fd_demo_rng_range(r, 12, 48)), FD_ACT_OPPORTUNITY, 0, 0);
	else
		plan(s, idx, l, t0 + HOURS(fd_demo_rng_range(r, 24, 72)), FD_ACT_LOST,
		     FD_REASON_NO_BUDGET, 0);
}

static void plan_opportunity(fd_demo_sales *s, int idx, sales_lead *l, fd_demo_rng *r, int64_t t0)
{
	static const fd_reason lost[] = { FD_REASON_NO_BUDGET, FD_REASON_NO_BUDGET,
		                              FD_REASON_COMPETITOR, FD_REASON_BAD_TIMING,
		                              FD_REASON_OTHER };
	plan(s, idx, l, t0 + HOURS(fd_demo_rng_range(r, 6, 24)), FD_ACT_TOUCH, 0, 0);
	int64_t at = t0 + HOURS(fd_demo_rng_range(r, 24, 72));
	if (fd_demo_rng_unit(r) < 0.4)
		plan(s, idx, l, at, FD_ACT_WON, 0, 0);
	else
		plan(s, idx, l, at, FD_ACT_LOST, lost[fd_demo_rng_below(r, (int)N_ELEMS(lost))], 0);
}

static void on_transition(fd_demo_sales *s, const fd_transition *t)
{
	int idx = fd_demo_lead_index(t->lead_id, s->n_leads);
	if (idx < 0 || (unsigned)t->to_stage >= FD_STAGE_COUNT)
		return;
	sales_lead *l = &s->leads[idx];
	l->gen++;
	if (l->entered[t->to_stage] < UINT8_MAX)
		l->entered[t->to_stage]++;
	if (t->owner_id[0])
		l->owned = true;
	fd_demo_rng r = fd_demo_rng_for(s->seed ^ SALT, (uint64_t)idx,
	                                (uint64_t)t->to_stage << 8 | l->entered[t->to_stage]);
	if (!l->rep)
		l->rep = (uint8_t)(1 + fd_demo_rng_below(&r, (int)N_ELEMS(reps)));
	int64_t t0 = t->occurred_at_ms;
	switch (t->to_stage) {
	case FD_STAGE_MQL:
		plan_mql(s, idx, l, &r, t0, t->lead_source);
		break;
	case FD_STAGE_SAL:
		plan_sal(s, idx, l, &r, t0, t->lead_source);
		break;
	case FD_STAGE_SQL:
		plan_sql(s, idx, l, &r, t0);
		break;
	case FD_STAGE_OPPORTUNITY:
		plan_opportunity(s, idx, l, &r, t0);
		break;
	default:
		break; /* LEAD, NURTURE, DISQUALIFIED, CUSTOMER: nothing to do */
	}
}

/* ---- acting -------------------------------------------------------------- */

static const char *note_for(fd_activity_kind kind, fd_reason reason, fd_demo_rng *r)
{
	static const char *const touch[] = { "called, left a voicemail", "intro email sent",
		                                 "discovery call booked", "LinkedIn message sent" };
	switch (kind) {
	case FD_ACT_ASSIGN: return "round-robin assignment";
	case FD_ACT_TOUCH: return touch[fd_demo_rng_below(r, (int)N_ELEMS(touch))];
	case FD_ACT_ACCEPT: return "fits our ICP, taking it";
	case FD_ACT_REVERT: return "accepted by mistake: other territory";
	case FD_ACT_QUALIFY: return "pain confirmed, champion identified";
	case FD_ACT_OPPORTUNITY: return "proposal requested";
	case FD_ACT_WON: return "contract signed";
	case FD_ACT_REJECT:
		return reason == FD_REASON_BAD_TIMING ? "budget cycle starts next quarter"
		       : reason == FD_REASON_BAD_FIT  ? "too small for our product"
		                                      : "no answer after five attempts";
	case FD_ACT_LOST:
		return reason == FD_REASON_COMPETITOR ? "went with a competitor"
		       : reason == FD_REASON_NO_BUDGET ? "no budget this year"
		                                       : "project postponed";
	default: return "";
	}
}

static void act(fd_demo_sales *s, const fd_demo_task *task)
{
	sales_lead *l = &s->leads[task->lead];
	if (task->gen != l->gen) {
		s->stats.cancelled++;
		return;
	}
	fd_activity_kind kind = PLAN_KIND(task->what);
	fd_reason reason = PLAN_REASON(task->what);
	char lead_id[24], activity_id[64];
	fd_demo_lead_id(task->lead, lead_id, sizeof lead_id);
	snprintf(activity_id, sizeof activity_id, "act-%s-%u-%s", lead_id + 5, (unsigned)task->gen,
	         fd_activity_kind_name(kind));
	fd_demo_rng r = fd_demo_rng_for(s->seed ^ SALT, (uint64_t)task->lead, task->seq);
	fd_activity a = {
		.activity_id = activity_id,
		.lead_id = lead_id,
		.occurred_at_ms = task->at_ms,
		.rep_id = reps[(l->rep ? l->rep : 1) - 1],
		.kind = kind,
		.reason = reason,
		.note = note_for(kind, reason, &r),
		.review_after_days = PLAN_DAYS(task->what),
	};
	if (fd_demo_kafka_send_activity(s->producer, s->cfg->settings.topics.activities,
	                                s->cfg->settings.topics.activities_encoding, &a) != 0) {
		s->stats.failed++;
		return;
	}
	s->stats.activities[kind]++;
	if (kind == FD_ACT_ASSIGN)
		l->owned = true;
}

static void read_transitions(fd_demo_sales *s)
{
	for (int budget = 10000; budget > 0; budget--) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(s->consumer, 0);
		if (!m)
			return;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fd_log(FD_LOG_WARNING, "demo sales: %s", rd_kafka_message_errstr(m));
		} else {
			fd_transition t;
			char err[256];
			if (fd_wire_decode_transition(m->payload, m->len, s->arena, &t, err, sizeof err) == 0) {
				s->stats.transitions_read++;
				on_transition(s, &t);
			} else {
				s->stats.undecodable++;
				fd_log(FD_LOG_WARNING, "demo sales: undecodable transition: %s", err);
			}
		}
		rd_kafka_message_destroy(m);
	}
}

void fd_demo_sales_read(fd_demo_sales *s, int64_t now)
{
	if (now > s->now)
		s->now = now;
	read_transitions(s);
}

void fd_demo_sales_tick(fd_demo_sales *s, int64_t until)
{
	fd_demo_task task;
	for (int budget = 10000; budget > 0 && fd_demo_agenda_pop(&s->agenda, until, &task); budget--)
		act(s, &task);
	rd_kafka_poll(s->producer, 0);
}

int64_t fd_demo_sales_next_due(const fd_demo_sales *s)
{
	return fd_demo_agenda_next(&s->agenda);
}

/* ---- set-up -------------------------------------------------------------- */

fd_demo_sales *fd_demo_sales_new(const fd_config *cfg, const char *bootstrap, int partitions,
                                 int leads, uint64_t seed, char *errstr, size_t errstr_size)
{
	fd_demo_sales *s = calloc(1, sizeof *s);
	if (!s || leads <= 0 || !(s->leads = calloc((size_t)leads, sizeof *s->leads)) ||
	    !(s->arena = fd_wire_arena_new())) {
		snprintf(errstr, errstr_size, "sales: out of memory");
		fd_demo_sales_free(s, 0);
		return NULL;
	}
	s->cfg = cfg;
	s->n_leads = leads;
	s->seed = seed;
	s->first_touch_sla = find_sla(&cfg->rules, FD_STAGE_MQL, FD_ACT_TOUCH);
	s->sal_sla = find_sla(&cfg->rules, FD_STAGE_SAL, -1);
	s->producer = fd_demo_kafka_producer(bootstrap, "funneld-demo-sales", errstr, errstr_size);
	if (s->producer)
		s->consumer = fd_demo_kafka_consumer(bootstrap, "funneld-demo-sales",
		                                     "funneld-demo-sales", errstr, errstr_size);
	if (!s->consumer) {
		fd_demo_sales_free(s, 0);
		return NULL;
	}
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
	for (int p = 0; p < partitions; p++)
		rd_kafka_topic_partition_list_add(parts, cfg->settings.topics.transitions, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_resp_err_t err = rd_kafka_assign(s->consumer, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (err) {
		snprintf(errstr, errstr_size, "sales: assign %s: %s", cfg->settings.topics.transitions,
		         rd_kafka_err2str(err));
		fd_demo_sales_free(s, 0);
		return NULL;
	}
	return s;
}

void fd_demo_sales_stats_get(const fd_demo_sales *s, fd_demo_sales_stats *st)
{
	*st = s->stats;
}

void fd_demo_sales_free(fd_demo_sales *s, int timeout_ms)
{
	if (!s)
		return;
	if (s->consumer) {
		rd_kafka_consumer_close(s->consumer);
		rd_kafka_destroy(s->consumer);
	}
	fd_demo_kafka_producer_free(s->producer, timeout_ms);
	fd_wire_arena_free(s->arena);
	fd_demo_agenda_free(&s->agenda);
	free(s->leads);
	free(s);
}
