/*
 * fuzz_engine.c — libFuzzer target for the pure engine (src/engine/): any
 * sequence of engagement events, profiles, sales activities, clock moves,
 * removals, evictions, restores and reloads (fd_engine_adopt: leads moved
 * lazily to other rules), on the fixture rules of
 * tests/engine_fixture.h (so the event types, SLAs and disqualifiers
 * exist).
 *
 * The input is a small bytecode: one op byte, then the op's operands, each
 * drawn from a small pool (leads, event types, channels, content ids,
 * activity kinds and reasons, profile values, Kafka positions) so that ops
 * meet the same leads; missing bytes read as 0. Times are deltas from a
 * virtual clock `now` (seconds, hours, days, backwards, raw 64-bit values)
 * or absolute extremes (0, 1, -1, INT64_MIN, INT64_MAX, ...): see
 * read_delta(), read_absolute() and the op table in step().
 *
 * After every op, for every lead, only through funneld/engine.h:
 *  - fd_engine_lead: scores, recency, interests and breakdown finite, stage
 *    and grade in range, open SLAs within their array;
 *  - the exported state encodes (fd_wire_encode_lead_state); a lead whose
 *    record changed got a lead_changed callback (the daemon writes the
 *    changelog on it); for a changed lead, fd_engine_import into a second
 *    engine and export again give the same LeadState bytes;
 *  - stats: pending_timers = the open SLAs (fd_state_sla.done == false) of
 *    all exported states + the leads in NURTURE with a review date;
 *    leads and per_stage match the exported stages; no pending timer means
 *    fd_engine_next_deadline() == INT64_MAX;
 * and for the ops themselves: after fd_engine_advance(now) nothing is due
 * at or before now (FD_TIME_MAX for a later now); an entry point that returns an error called no output
 * callback and left the lead's state as it was; before_change(exists)
 * agrees with what fd_engine_export can see at that moment; every
 * transition and SLA event is well formed (enums in range, finite scores,
 * elapsed = occurred - started) and encodes with the wire encoders; a lead
 * restored from its own changelog record (export, encode, decode, import)
 * exports the same bytes. Finally the whole input runs a second time on
 * fresh engines and must produce the same outputs byte for byte (engine.h:
 * determinism), and everything is freed (LeakSanitizer).
 *
 * Times include the extremes on purpose: engine.h promises that any int64
 * `now` is safe and that input times outside [1, FD_TIME_MAX] are refused.
 * Far-future jumps are rarer than the rest (see read_delta), and one
 * advance goes at most 20 years past the next deadline (see advance()):
 * taking a lead in the MQL/NURTURE cycle to the year 9999 in one call
 * fires ~50,000 timers, seconds of the fuzzer's time.
 *
 * Defects this target found, fixed since (a7efd27), each kept as a
 * regression input in tests/fuzz/crashes/fuzz_engine/: before_change
 * called for a new lead the entry point then refused (lead cap, id over
 * 255 bytes); fd_freq_count reading a negative bucket for a snapshot less
 * than a window after the epoch; fd_engine_evict's now - ttl_ms
 * overflowing; fd_engine_import of an existing lead over the cap losing
 * the lead.
 *
 * Build: cmake -DFUNNELD_FUZZ=ON -DFUNNELD_SANITIZE=ON -DCMAKE_C_COMPILER=clang
 *        -DFUNNELD_TESTS=OFF -DFUNNELD_BENCH=OFF; then e.g.
 *        mkdir run && ./fuzz_engine -max_total_time=60 run tests/fuzz/corpus/engine
 * (or scripts/fuzz.sh, which builds and runs every target). The seeds are
 * bytecode programs written by tests/fuzz/gen_engine_seeds.py, which says
 * what each one does; run it again after changing the bytecode.
 * Not a unit test: tests/unit/test_engine.c pins the behaviour.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_fixture.h"
#include "funneld/engine.h"
#include "funneld/wire.h"

#define FUZZ_NAME "fuzz_engine"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_OPS 160
#define ADVANCE_SPAN (20 * 365 * DAY)

static fd_rules rules;
/* what a SIGHUP may bring: the same rules, other points and SLA timing,
 * fewer SLAs and a smaller context (another record layout) */
static fd_rules reloaded[3];
static fd_wire_arena *arena;
static volatile size_t sink; /* keeps the string reads from being optimised out */


static void touch(const char *s)
{
	CHECK(s != NULL);
	sink += strlen(s);
}

/* ---- pools ----------------------------------------------------------------- */

enum { N_LEADS = 8 };
static char lead_ids[N_LEADS][260];

static const char *const event_types[] = {
	"page_view", "email_click", "content_download", "pricing_view", "webinar_attended",
	"event_attended", "demo_request", "unsubscribe", "no_such_type", "",
};
static const char *const channels[] = { "", "web", "event", "email", "partner", "EVENT" };
static const char *const contents[] = { "", "c1", "c2", "c3", "c4", "c5" };
static const char *const reps[] = { "", "rep-1", "rep-2" };
static const char *const seniorities[] = { "", "VP", "Director", "intern" };
static const char *const industries[] = { "", "Software", "software", "Retail" };
static const char *const titles[] = { "", "Head of Data", "student helper", "CTO" };
static const char *const emails[] = { "", "ada@acme.com", "bob@gmail.com", "x@", "@yahoo.com", "noat" };
static const char *const countries[] = { "", "US", "DE", "CN", "fr" };
static const char *const sources[] = { "", "event", "partner", "web" };
static const char *const owners[] = { "", "rep-1", "rep-3" };
static const char *const techs[] = { "kafka", "postgres", "" };
static const int64_t employees[] = { 0, 1, 199, 200, 4999, 5000, INT64_MAX };
static const int64_t revenues[] = { 0, 999999, 1000000, 50000000, INT64_MAX };
static const int32_t review_days[] = { 0, 1, 30, 3650, 3651, -1, INT32_MAX };
static const int64_t ttls[] = { 0, 1, DAY, 180 * DAY, INT64_MAX };

#define PICK(pool, b) ((pool)[(b) % (sizeof(pool) / sizeof((pool)[0]))])

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fx_config(&rules);
	for (int i = 0; i < 3; i++)
		reloaded[i] = rules;
	reloaded[1].event_types[fd_rules_event_type(&rules, "email_click")].points = 30;
	reloaded[1].slas[0].warning_fraction = 0.5;
	reloaded[1].slas[0].duration_ms /= 2;
	reloaded[2].n_slas = 2;
	reloaded[2].recent_activities = 2;
	reloaded[2].top_interests = 1;
	snprintf(lead_ids[0], sizeof lead_ids[0], "lead-a");
	snprintf(lead_ids[1], sizeof lead_ids[1], "lead-b");
	snprintf(lead_ids[2], sizeof lead_ids[2], "lead-c");
	snprintf(lead_ids[3], sizeof lead_ids[3], "12345");
	snprintf(lead_ids[4], sizeof lead_ids[4], "l\xc3\xa9" "ad");
	memset(lead_ids[5], 'x', 255); /* the longest id the engine takes */
	memset(lead_ids[6], 'y', 256); /* one byte too long */
	lead_ids[7][0] = '\0';         /* missing */
	arena = fd_wire_arena_new();
	if (!arena)
		abort();
	return 0;
}

/* ---- reading the bytecode ------------------------------------------------------ */

typedef struct reader {
	const uint8_t *p;
	size_t n;
} reader;

static uint8_t u8(reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static uint64_t u64(reader *r)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | u8(r);
	return v;
}

static uint16_t u16(reader *r)
{
	uint16_t hi = u8(r);
	return (uint16_t)((hi << 8) | u8(r));
}

/* a + b, saturated: the target itself must not overflow. */
static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* A time step: small and large, forwards and backwards, the fixture's SLA
 * edges, or (k == 5 only: a jump to the year 9999 runs thousands of
 * nurture cycles per lead, which is slow) any 64-bit value. */
static int64_t read_delta(reader *r)
{
	static const int64_t edges[] = {
		48 * HOUR, 36 * HOUR, 24 * HOUR, 18 * HOUR, 2 * DAY, DAY, 30 * DAY, 24 * DAY,
		90 * DAY, 72 * DAY, 14 * DAY, 60 * DAY, 180 * DAY, 1, -1, 5 * FD_MS_MINUTE + 1,
	};
	uint8_t k = u8(r);
	switch (k % 8) {
	case 0: return (int64_t)u16(r) * FD_MS_SECOND;
	case 1: return -(int64_t)u16(r) * FD_MS_SECOND;
	case 2: return (int64_t)u16(r) * FD_MS_MINUTE;
	case 3: return (int64_t)u8(r) * DAY;
	case 4: return -(int64_t)u8(r) * DAY;
	case 5:
		if (k == 5)
			return (int64_t)u64(r);
		return k & 8 ? -(int64_t)u16(r) * DAY : (int64_t)u16(r) * HOUR;
	case 6: return 0;
	default: return PICK(edges, u8(r));
	}
}

/* An absolute time: near the fixture's T0 or the epoch, the negative
 * extremes, or (k >= 0xf8 only, for the same reason) the far future. */
static int64_t read_absolute(reader *r)
{
	static const int64_t near[] = {
		T0, 1, 0, -1, DAY, 7 * DAY, 31 * DAY, 100 * DAY, T0 - 365 * DAY, T0 + 365 * DAY,
		INT64_MIN, INT64_MIN + DAY,
	};
	static const int64_t far[] = {
		INT64_MAX, INT64_MAX - DAY, FD_TIME_MAX, FD_TIME_MAX + 1, INT64_C(1) << 53,
		T0 + 100 * 365 * DAY, FD_TIME_MAX - 90 * DAY,
	};
	uint8_t k = u8(r);
	if (k == 0xff)
		return (int64_t)u64(r);
	if (k >= 0xf8)
		return far[k - 0xf8];
	return PICK(near, k);
}

/* ---- one run ------------------------------------------------------------------ */

typedef struct run {
	bool checks;         /* the first run checks, the second only records */
	fd_engine *a;        /* the engine under test */
	fd_engine *b;        /* the import mirror */
	int64_t now;
	int64_t seq;         /* Kafka positions */
	/* each pool lead's changelog record at the last check, and whether
	 * lead_changed was called for it since */
	uint8_t *saved[N_LEADS];
	size_t saved_len[N_LEADS];
	bool changed[N_LEADS];
	uint64_t hash;       /* of every output, byte for byte */
	size_t n_outputs;    /* callbacks in the current entry point call */
	size_t n_before;
} run;

static void mix(run *r, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		r->hash = (r->hash ^ b[i]) * UINT64_C(0x100000001b3);
}

static void mix_i64(run *r, int64_t v)
{
	mix(r, &v, sizeof v);
}

static void on_score(void *ctx, const fd_lead_view *v)
{
	run *r = ctx;
	r->n_outputs++;
	if (r->checks) {
		touch(v->lead_id);
		touch(v->owner_id);
		CHECK(*v->lead_id);
		CHECK(isfinite(v->score.engagement) && isfinite(v->score.fit));
		CHECK((unsigned)v->stage < FD_STAGE_COUNT && (unsigned)v->score.grade < FD_GRADE_COUNT);
	}
	uint8_t *buf;
	size_t len;
	CHECK(fd_wire_encode_lead_score(v, v->score.as_of_ms, &buf, &len) == 0);
	mix(r, buf, len);
	free(buf);
}

static void on_transition(void *ctx, const fd_transition *t)
{
	run *r = ctx;
	r->n_outputs++;
	if (r->checks) {
		touch(t->lead_id);
		touch(t->reason);
		touch(t->cause_id);
		touch(t->owner_id);
		touch(t->lead_source);
		CHECK(*t->lead_id);
		CHECK(strlen(t->transition_id) == FD_ID_HEX);
		CHECK((unsigned)t->from_stage < FD_STAGE_COUNT && (unsigned)t->to_stage < FD_STAGE_COUNT);
		CHECK((unsigned)t->trigger < FD_TRIGGER_COUNT);
		CHECK(isfinite(t->score.engagement) && isfinite(t->score.fit));
		CHECK(isfinite(t->score.recency_days) && isfinite(t->score.high_intent_recency_days));
		CHECK((unsigned)t->score.grade < FD_GRADE_COUNT);
		CHECK(t->n_recent <= FD_MAX_CONTEXT && t->n_interests <= FD_MAX_CONTEXT &&
		      t->n_breakdown <= FD_MAX_EVENT_TYPES);
		for (size_t i = 0; i < t->n_recent; i++) {
			touch(t->recent[i].type);
			touch(t->recent[i].content_id);
			touch(t->recent[i].channel);
		}
		for (size_t i = 0; i < t->n_interests; i++) {
			touch(t->interests[i].content_id);
			CHECK(isfinite(t->interests[i].score));
		}
		for (size_t i = 0; i < t->n_breakdown; i++) {
			touch(t->breakdown[i].type);
			CHECK(isfinite(t->breakdown[i].points));
		}
	}
	uint8_t *buf;
	size_t len;
	CHECK(fd_wire_encode_transition(t, &buf, &len) == 0);
	mix(r, buf, len);
	free(buf);
}

static void on_sla(void *ctx, const fd_sla_event *e)
{
	run *r = ctx;
	r->n_outputs++;
	if (r->checks) {
		touch(e->lead_id);
		touch(e->sla);
		touch(e->owner_id);
		CHECK(strlen(e->sla_event_id) == FD_ID_HEX);
		CHECK((unsigned)e->kind < FD_SLA_KIND_COUNT && (unsigned)e->stage < FD_STAGE_COUNT);
		CHECK(fd_rules_sla(&rules, e->sla) >= 0);
		CHECK((uint64_t)e->elapsed_ms == (uint64_t)e->occurred_at_ms - (uint64_t)e->started_at_ms);
	}
	uint8_t *buf;
	size_t len;
	CHECK(fd_wire_encode_sla_event(e, &buf, &len) == 0);
	mix(r, buf, len);
	free(buf);
}

/* The pool index of a lead id (every lead the engine has comes from it). */
static int lead_index(const char *lead_id)
{
	for (int i = 0; i < N_LEADS; i++)
		if (strcmp(lead_ids[i], lead_id) == 0)
			return i;
	fail("a lead id the target never used");
	return -1;
}

static void on_changed(void *ctx, const char *lead_id)
{
	run *r = ctx;
	r->n_outputs++;
	r->changed[lead_index(lead_id)] = true;
	mix(r, lead_id, strlen(lead_id) + 1);
}

static void on_before_change(void *ctx, const char *lead_id, bool exists)
{
	run *r = ctx;
	r->n_before++;
	if (r->checks) {
		fd_lead_state st;
		CHECK(fd_engine_export(r->a, lead_id, &st) == exists);
	}
}

/* The lead's changelog record, malloc'ed; NULL when the lead is unknown. */
static uint8_t *state_bytes(fd_engine *e, const char *lead_id, size_t *len)
{
	fd_lead_state st;
	uint8_t *buf;
	if (!fd_engine_export(e, lead_id, &st))
		return NULL;
	CHECK(fd_wire_encode_lead_state(&st, &buf, len) == 0);
	return buf;
}

static bool same_bytes(const uint8_t *x, size_t xn, const uint8_t *y, size_t yn)
{
	if (!x || !y)
		return x == y;
	return xn == yn && memcmp(x, y, xn) == 0;
}

/* ---- the invariants after each op ------------------------------------------------- */

typedef struct id_list {
	char ids[N_LEADS * 2][260];
	size_t n;
} id_list;

static void collect(void *ctx, const char *lead_id, int32_t partition)
{
	(void)partition;
	id_list *l = ctx;
	CHECK(l->n < N_LEADS * 2);
	snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", lead_id);
}

static void check_view(run *r, const char *id, int64_t at)
{
	fd_lead_view v;
	CHECK(fd_engine_lead(r->a, id, at, &v));
	CHECK(strcmp(v.lead_id, id) == 0);
	touch(v.owner_id);
	touch(v.lead_source);
	touch(v.disqualified_by);
	CHECK((unsigned)v.stage < FD_STAGE_COUNT);
	CHECK((unsigned)v.score.grade < FD_GRADE_COUNT);
	CHECK(isfinite(v.score.engagement) && isfinite(v.score.fit));
	CHECK(isfinite(v.score.recency_days) && isfinite(v.score.high_intent_recency_days));
	CHECK(v.score.n_windows == rules.n_windows);
	CHECK(v.n_open_slas <= FD_MAX_OPEN_SLAS);
	for (size_t i = 0; i < v.n_open_slas; i++)
		touch(v.open_slas[i].name);
	CHECK(v.n_recent <= (size_t)rules.recent_activities);
	CHECK(v.n_interests <= (size_t)rules.top_interests);
	CHECK(v.n_breakdown <= (size_t)rules.n_event_types);
	for (size_t i = 0; i < v.n_recent; i++) {
		touch(v.recent[i].type);
		touch(v.recent[i].content_id);
		touch(v.recent[i].channel);
	}
	for (size_t i = 0; i < v.n_interests; i++) {
		touch(v.interests[i].content_id);
		CHECK(isfinite(v.interests[i].score));
	}
	for (size_t i = 0; i < v.n_breakdown; i++) {
		touch(v.breakdown[i].type);
		CHECK(isfinite(v.breakdown[i].points));
	}
}

static void check_all(run *r)
{
	id_list leads = { .n = 0 };
	fd_engine_foreach(r->a, -1, collect, &leads);
	fd_engine_stats stats;
	fd_engine_stats_get(r->a, &stats);
	CHECK(stats.leads == leads.n);

	uint64_t timers = 0, per_stage[FD_STAGE_COUNT] = { 0 };
	bool present[N_LEADS] = { false };
	char err[256];
	for (size_t i = 0; i < leads.n; i++) {
		const char *id = leads.ids[i];
		int k = lead_index(id);
		present[k] = true;
		check_view(r, id, r->now);

		fd_lead_state st;
		CHECK(fd_engine_export(r->a, id, &st));
		CHECK((unsigned)st.stage < FD_STAGE_COUNT);
		per_stage[st.stage]++;
		for (int j = 0; j < st.n_slas; j++)
			timers += !st.slas[j].done;
		timers += st.stage == FD_STAGE_NURTURE && st.review_at_ms != 0;

		uint8_t *now_bytes;
		size_t n;
		CHECK(fd_wire_encode_lead_state(&st, &now_bytes, &n) == 0);
		if (!r->changed[k] && r->saved[k]) {
			/* the daemon writes a changelog record only on lead_changed */
			if (!same_bytes(r->saved[k], r->saved_len[k], now_bytes, n))
				fail("a lead's state changed without lead_changed");
			free(now_bytes);
			continue;
		}
		/* export, import elsewhere, export again: the same record */
		CHECK(fd_engine_import(r->b, &st, err, sizeof err) == FD_OK);
		size_t n2;
		uint8_t *mirror = state_bytes(r->b, id, &n2);
		if (!same_bytes(now_bytes, n, mirror, n2))
			fail("export -> import -> export changed the lead state");
		free(mirror);
		free(r->saved[k]);
		r->saved[k] = now_bytes;
		r->saved_len[k] = n;
		r->changed[k] = false;
	}
	for (int k = 0; k < N_LEADS; k++) {
		if (present[k])
			continue;
		free(r->saved[k]); /* removed or evicted: a new one starts afresh */
		r->saved[k] = NULL;
		r->changed[k] = false;
	}
	/* after a reload, the views above moved every lead to the new rules,
	 * which may arm other timers: count them now */
	fd_engine_stats_get(r->a, &stats);
	CHECK(stats.migrating == 0);
	CHECK(stats.pending_timers == timers);
	for (int s = 0; s < FD_STAGE_COUNT; s++)
		CHECK(stats.per_stage[s] == per_stage[s]);
	if (stats.pending_timers == 0)
		CHECK(fd_engine_next_deadline(r->a) == INT64_MAX);
}

/* An entry point's result: on error, no output and no state change. */
static void check_status(run *r, fd_status st, const char *lead_id, const uint8_t *before,
                         size_t before_len)
{
	CHECK(st == FD_OK || st == FD_DUPLICATE || st == FD_STALE || st == FD_ERR_INVALID ||
	      st == FD_ERR_REFUSED || st == FD_ERR_FULL);
	if (st >= 0)
		return;
	CHECK(r->n_outputs == 0);
	CHECK(r->n_before == 0);
	size_t n;
	uint8_t *after = state_bytes(r->a, lead_id, &n);
	if (!same_bytes(before, before_len, after, n))
		fail("an entry point failed but changed the lead state");
	free(after);
}

/* ---- ops ------------------------------------------------------------------------ */

static int64_t read_position(run *r, reader *in)
{
	uint8_t m = u8(in);
	switch (m % 4) {
	case 0: return 0;
	case 1: return ++r->seq;
	case 2: return r->seq;
	default: return m >> 2;
	}
}

static const char *read_id(reader *in, const char *prefix, char *buf, size_t size)
{
	uint8_t b = u8(in);
	if (b == 0)
		return "";
	snprintf(buf, size, "%s%u", prefix, b % 24u);
	return buf;
}

/* Operands are read one statement at a time: the order in which an
 * initialiser list's expressions are evaluated is unspecified. */
/* After an entry point: its status joins the run's digest, the checks
 * compare the lead with `before` (its state bytes before the call, taken
 * when checking; freed here). */
static void settle(run *r, fd_status st, const char *lead, uint8_t *before, size_t n)
{
	mix_i64(r, st);
	if (r->checks)
		check_status(r, st, lead, before, n);
	free(before);
}

static void op_engagement(run *r, reader *in, const fd_sink *out)
{
	char event_id[16], err[256];
	fd_engagement ev = { .account_id = "acct", .url = "", .campaign = "" };
	const char *lead = lead_ids[u8(in) % N_LEADS];
	ev.lead_id = lead;
	ev.event_id = read_id(in, "e", event_id, sizeof event_id);
	ev.type = PICK(event_types, u8(in));
	ev.channel = PICK(channels, u8(in));
	ev.content_id = PICK(contents, u8(in));
	ev.occurred_at_ms = sat_add(r->now, read_delta(in));
	ev.position = read_position(r, in);
	ev.partition = u8(in) % 3;
	fd_engine_prefetch(r->a, lead, 0);
	fd_engine_prefetch(r->a, lead, 1);
	size_t n = 0;
	uint8_t *before = r->checks ? state_bytes(r->a, lead, &n) : NULL;
	fd_status st = fd_engine_engagement(r->a, &ev, r->now, out, err, sizeof err);
	settle(r, st, lead, before, n);
}

static void op_profile(run *r, reader *in, const fd_sink *out)
{
	char err[256];
	const char *tech[3];
	fd_profile p = { .department = "" };
	const char *lead = lead_ids[u8(in) % N_LEADS];
	p.lead_id = lead;
	p.n_technologies = u8(in) % 4;
	for (size_t i = 0; i < p.n_technologies; i++)
		tech[i] = PICK(techs, u8(in));
	p.technologies = p.n_technologies ? tech : NULL;
	p.email = PICK(emails, u8(in));
	p.job_title = PICK(titles, u8(in));
	p.seniority = PICK(seniorities, u8(in));
	p.industry = PICK(industries, u8(in));
	p.country = PICK(countries, u8(in));
	p.employee_count = PICK(employees, u8(in));
	p.annual_revenue = PICK(revenues, u8(in));
	p.lead_source = PICK(sources, u8(in));
	p.owner_id = PICK(owners, u8(in));
	p.updated_at_ms = sat_add(r->now, read_delta(in));
	p.position = read_position(r, in);
	p.partition = u8(in) % 3;
	size_t n = 0;
	uint8_t *before = r->checks ? state_bytes(r->a, lead, &n) : NULL;
	fd_status st = fd_engine_profile(r->a, &p, r->now, out, err, sizeof err);
	settle(r, st, lead, before, n);
}

static void op_activity(run *r, reader *in, const fd_sink *out)
{
	char activity_id[16], err[256];
	fd_activity a = { .note = "" };
	const char *lead = lead_ids[u8(in) % N_LEADS];
	a.lead_id = lead;
	a.activity_id = read_id(in, "a", activity_id, sizeof activity_id);
	a.rep_id = PICK(reps, u8(in));
	a.kind = (fd_activity_kind)(u8(in) % (FD_ACT_COUNT + 1));
	a.reason = (fd_reason)(u8(in) % (FD_REASON_COUNT + 1));
	a.review_after_days = PICK(review_days, u8(in));
	a.occurred_at_ms = sat_add(r->now, read_delta(in));
	a.position = read_position(r, in);
	a.partition = u8(in) % 3;
	size_t n = 0;
	uint8_t *before = r->checks ? state_bytes(r->a, lead, &n) : NULL;
	fd_status st = fd_engine_activity(r->a, &a, r->now, out, err, sizeof err);
	settle(r, st, lead, before, n);
}

/* Advance the engine to now, or to ADVANCE_SPAN past the next deadline if
 * that comes first: a lead in the MQL/NURTURE cycle fires ~6 timers every
 * 180 days, so one jump to the year 9999 would cost ~50,000 fires per lead
 * and the fuzzer's time. A later op advances further. */
static void advance(run *r, const fd_sink *out)
{
	int64_t limit = sat_add(fd_engine_next_deadline(r->a), ADVANCE_SPAN);
	int64_t to = r->now < limit ? r->now : limit;
	size_t fired = fd_engine_advance(r->a, to, out);
	mix_i64(r, (int64_t)fired);
	/* engine.h: a now past FD_TIME_MAX counts as FD_TIME_MAX */
	if (r->checks)
		CHECK(fd_engine_next_deadline(r->a) > (to < FD_TIME_MAX ? to : FD_TIME_MAX));
}

/* Restore a lead from its own changelog record, as the daemon does on a
 * partition assignment: it must come back as it was. */
static void op_restore(run *r, reader *in)
{
	const char *lead = lead_ids[u8(in) % N_LEADS];
	size_t n;
	uint8_t *before = state_bytes(r->a, lead, &n);
	if (!before)
		return;
	fd_lead_state st;
	char err[256];
	if (fd_wire_decode_lead_state(before, n, arena, &st, err, sizeof err) != 0)
		fail("a lead state the engine exported does not decode");
	CHECK(fd_engine_import(r->a, &st, err, sizeof err) == FD_OK);
	fd_wire_arena_reset(arena);
	r->changed[lead_index(lead)] = true;
	size_t n2;
	uint8_t *after = state_bytes(r->a, lead, &n2);
	if (r->checks && !same_bytes(before, n, after, n2))
		fail("a lead restored from its own record differs");
	free(before);
	free(after);
}

/* SIGHUP: a new engine takes the running one over (fd_engine_adopt) and
 * moves a few leads; the rest move when something names them. The mirror
 * gets the new rules too, and every lead's saved record is stale (the
 * daemon's changelog keeps the old state; a restore under the new rules
 * gives what the move gives). */
static void op_reload(run *r, reader *in)
{
	const fd_rules *next_rules = &reloaded[u8(in) % 3];
	fd_engine *next = fd_engine_new(next_rules, 0);
	if (!next)
		abort();
	CHECK(fd_engine_adopt(next, r->a) == 0);
	r->a = next;
	size_t max = u8(in) % 4;
	CHECK(fd_engine_migrate(r->a, max) <= max);
	if (r->b) {
		fd_engine_free(r->b);
		if (!(r->b = fd_engine_new(next_rules, N_LEADS)))
			abort();
	}
	for (int k = 0; k < N_LEADS; k++)
		r->changed[k] = true;
}

/* Leads move to reloaded rules when first named: the checking run's
 * check_all names every lead after each op (in foreach order), so the
 * recording run does the same, or the two would place leads differently
 * and fire same-time deadlines in another order. */
static void name_all(run *r)
{
	id_list leads = { .n = 0 };
	fd_engine_foreach(r->a, -1, collect, &leads);
	fd_lead_view v;
	for (size_t i = 0; i < leads.n; i++)
		fd_engine_lead(r->a, leads.ids[i], r->now, &v);
}

static void step(run *r, reader *in, const fd_sink *out)
{
	uint8_t op = u8(in);
	r->n_outputs = 0;
	r->n_before = 0;
	switch (op % 11) {
	case 0: op_engagement(r, in, out); break;
	case 1: op_profile(r, in, out); break;
	case 2: op_activity(r, in, out); break;
	case 3:
		r->now = sat_add(r->now, read_delta(in));
		advance(r, out);
		break;
	case 4:
		r->now = read_absolute(in);
		advance(r, out);
		break;
	case 5:
		mix_i64(r, fd_engine_remove(r->a, lead_ids[u8(in) % N_LEADS]));
		break;
	case 6: {
		int64_t ttl = PICK(ttls, u8(in));
		size_t max = u8(in) % 4;
		fd_engine_set_lead_ttl(r->a, ttl);
		mix_i64(r, (int64_t)fd_engine_evict(r->a, max, NULL, NULL));
		break;
	}
	case 7: op_restore(r, in); break;
	case 8: fd_engine_set_max_leads(r->a, u8(in) % 5); break;
	case 10: op_reload(r, in); break;
	default: {
		/* a view at any time, the far past and future included */
		const char *lead = lead_ids[u8(in) % N_LEADS];
		int64_t at = sat_add(r->now, read_delta(in));
		fd_lead_view v;
		if (r->checks && fd_engine_lead(r->a, lead, at, &v))
			check_view(r, lead, at);
		break;
	}
	}
}

static uint64_t run_program(const uint8_t *data, size_t size, bool checks)
{
	run r = { .checks = checks, .now = T0, .hash = UINT64_C(0xcbf29ce484222325) };
	r.a = fd_engine_new(&rules, N_LEADS);
	r.b = checks ? fd_engine_new(&rules, N_LEADS) : NULL;
	if (!r.a || (checks && !r.b))
		abort();
	fd_sink out = { on_transition, on_sla, on_changed, &r, on_before_change, on_score };
	reader in = { data, size };
	for (int i = 0; i < MAX_OPS && in.n > 0; i++) {
		step(&r, &in, &out);
		if (checks)
			check_all(&r);
		else
			name_all(&r);
	}
	fd_engine_free(r.a);
	fd_engine_free(r.b);
	for (int k = 0; k < N_LEADS; k++)
		free(r.saved[k]);
	return r.hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t first = run_program(data, size, true);
	uint64_t second = run_program(data, size, false);
	if (first != second)
		fail("the same calls gave different outputs (engine.h: determinism)");
	return 0;
}
