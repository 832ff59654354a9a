/*
 * demo_feed.c — the demo's live feed and closing summary (see demo_feed.h).
 *
 * Lines are laid out in fixed columns and cut at LINE_MAX_COLS, counting
 * display columns (UTF-8 code points; ANSI colour codes take none), so the
 * feed reads as a table in an ordinary terminal. Times are the virtual
 * clock's, in UTC. Per lead the feed remembers only which stages it ever
 * reached and when it entered its current one, for the summary's funnel
 * and the "after 20h in MQL" detail.
 *
 * The tap's lines are formatted when they come and held, sorted by their
 * virtual time, until the demo flushes them: the daemon's partitions
 * publish independently and its SLA timers fire on the clock, so what it
 * publishes is only roughly in time order. The demo holds lines for a
 * second or so of real time, much longer than the pipeline takes.
 */
#include "demo/demo_feed.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_COLS 160
#define STAGE_BIT(s) (1u << (s))

/* columns of a feed line */
enum { COL_LEAD = 14, COL_PERSONA = 24, COL_MOVE = 35, COL_TRIGGER = 58, COL_SCORE = 89,
	   COL_DETAIL = 112 };

/* A line (or two: a handoff has its context line) waiting to be printed. */
typedef struct feed_held {
	int64_t at_ms;
	char *text;              /* whole lines, each ending in '\n' */
	int lead;                /* its lead's index, -1: none */
	uint16_t reached;        /* STAGE_BIT of the stages it shows the lead in */
	bool breach;
} feed_held;

typedef struct feed_lead {
	uint16_t reached;        /* STAGE_BIT of every stage entered */
	int64_t entered_ms;      /* when it entered its current stage; 0: unknown */
} feed_lead;

struct fd_demo_feed {
	const fd_config *cfg;
	const fd_demo_traffic *traffic;
	FILE *out;
	bool color;
	int n_leads;
	feed_lead *leads;
	int64_t day;                                   /* last day header printed */
	uint64_t sla[FD_MAX_SLAS][FD_SLA_KIND_COUNT];  /* by SLA index and kind */
	uint64_t into_mql[FD_TRIGGER_COUNT];           /* LEAD -> MQL by trigger */
	uint64_t transitions, breaches;
	/* the engine's numbers, captured before the daemon stops */
	bool captured;
	fd_engine_stats stats;
	uint64_t open[FD_MAX_SLAS];   /* SLAs still open, by SLA index */
	double bot_best;              /* highest engagement score of a bot */
	/* lines held for time order, sorted by at_ms (stable) */
	feed_held *held;
	size_t n_held, cap_held;
	char *pending;                /* the lines of the record being formatted */
	size_t pending_len, pending_cap;
	int64_t printed_ms;           /* time of the last line printed */
	uint64_t late;                /* lines printed after a newer one */
};

/* ---- formatting helpers -------------------------------------------------- */

typedef struct line {
	char buf[2048];
	size_t len;
	int cols;
	bool color, full;
} line;

static int display_cols(const char *s, size_t n)
{
	int c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static void raw(line *l, const char *s)
{
	size_t n = strlen(s);
	if (l->len + n < sizeof l->buf) {
		memcpy(l->buf + l->len, s, n + 1);
		l->len += n;
	}
}

/* Append formatted text in colour `sgr` (NULL: none), cut at the line's
 * width with an ellipsis. */
static void put(line *l, const char *sgr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(line *l, const char *sgr, const char *fmt, ...)
{
	if (l->full)
		return;
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	size_t n = strlen(text);
	int cols = display_cols(text, n);
	if (l->cols + cols > LINE_MAX_COLS) {
		/* keep what fits, leaving a column for the ellipsis */
		int room = LINE_MAX_COLS - l->cols - 1, c = 0;
		size_t i = 0;
		while (i < n) {
			if (((unsigned char)text[i] & 0xC0) != 0x80) {
				if (c == room)
					break;
				c++;
			}
			i++;
		}
		l->full = true;
		if (room < 0)
			return; /* exactly full already */
		text[i] = '\0';
		strncat(text, "…", sizeof text - strlen(text) - 1);
		cols = room + 1;
	}
	if (sgr && l->color) {
		raw(l, "\033[");
		raw(l, sgr);
		raw(l, "m");
	}
	raw(l, text);
	if (sgr && l->color)
		raw(l, "\033[0m");
	l->cols += cols;
}

/* Spaces up to column `col` (at least one after text). */
static void pad(line *l, int col)
{
	if (l->full)
		return;
	int n = col > l->cols ? col - l->cols : (l->cols > 0 ? 1 : 0);
	for (int i = 0; i < n && l->len + 1 < sizeof l->buf; i++)
		l->buf[l->len++] = ' ';
	l->buf[l->len] = '\0';
	l->cols += n;
}

static void emit(fd_demo_feed *f, line *l)
{
	while (l->len > 0 && l->buf[l->len - 1] == ' ')
		l->buf[--l->len] = '\0';
	fputs(l->buf, f->out);
	fputc('\n', f->out);
}

/* A line of the tap's record being formatted: kept until hold(). */
static void emit_held(fd_demo_feed *f, line *l)
{
	while (l->len > 0 && l->buf[l->len - 1] == ' ')
		l->buf[--l->len] = '\0';
	size_t need = f->pending_len + l->len + 2;
	if (need > f->pending_cap) {
		size_t cap = need * 2;
		char *p = realloc(f->pending, cap);
		if (!p)
			return; /* out of memory: the line is lost, not the demo */
		f->pending = p;
		f->pending_cap = cap;
	}
	memcpy(f->pending + f->pending_len, l->buf, l->len);
	f->pending_len += l->len;
	f->pending[f->pending_len++] = '\n';
	f->pending[f->pending_len] = '\0';
}

/* The record formatted since the last hold() waits for its turn, after
 * every held line of the same or an earlier time; what it counts for the
 * day headers ("so far") counts when it is printed. */
static void hold(fd_demo_feed *f, int64_t at_ms, const char *lead_id, uint16_t reached,
                 bool breach)
{
	if (f->pending_len == 0)
		return;
	char *text = malloc(f->pending_len + 1);
	if (text && f->n_held == f->cap_held) {
		size_t cap = f->cap_held ? f->cap_held * 2 : 64;
		feed_held *h = realloc(f->held, cap * sizeof *h);
		if (h) {
			f->held = h;
			f->cap_held = cap;
		}
	}
	if (!text || f->n_held == f->cap_held) {
		free(text);
		f->pending_len = 0;
		return;
	}
	memcpy(text, f->pending, f->pending_len + 1);
	f->pending_len = 0;
	size_t lo = 0, hi = f->n_held; /* first held line later than at_ms */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->held[mid].at_ms <= at_ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&f->held[lo + 1], &f->held[lo], (f->n_held - lo) * sizeof *f->held);
	f->held[lo] = (feed_held){ at_ms, text, fd_demo_lead_index(lead_id, f->n_leads), reached,
		                       breach };
	f->n_held++;
}

/* "Jan 05 14:20" (UTC); with_day: "Mon Jan 05 14:20". */
static void fmt_time(int64_t ms, bool with_day, char *buf, size_t size)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, size, with_day ? "%a %b %d %H:%M" : "%b %d %H:%M", &tm);
}

/* "48h00m", "5d03h", "12m". */
static void fmt_span(int64_t ms, char *buf, size_t size)
{
	if (ms < 0)
		ms = 0;
	int64_t min = ms / FD_MS_MINUTE;
	if (min < 60)
		snprintf(buf, size, "%" PRId64 "m", min);
	else if (min < INT64_C(96) * 60)
		snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", min / 60, min % 60);
	else
		snprintf(buf, size, "%" PRId64 "d%02" PRId64 "h", min / (INT64_C(24) * 60),
		         (min / 60) % 24);
}

static const char *stage_color(fd_stage s)
{
	switch (s) {
	case FD_STAGE_MQL: return "32";
	case FD_STAGE_SAL: return "36";
	case FD_STAGE_SQL: return "34;1";
	case FD_STAGE_OPPORTUNITY: return "35";
	case FD_STAGE_CUSTOMER: return "32;1";
	case FD_STAGE_NURTURE: return "33";
	case FD_STAGE_DISQUALIFIED: return "31";
	default: return NULL;
	}
}

static bool by_scoring(fd_trigger t)
{
	return t == FD_TRIGGER_SCORE_THRESHOLD || t == FD_TRIGGER_HAND_RAISE ||
	       t == FD_TRIGGER_FAST_TRACK || t == FD_TRIGGER_REVIEW_DUE;
}

/* ---- per-line state ------------------------------------------------------- */

static feed_lead *lead_of(fd_demo_feed *f, const char *lead_id)
{
	int i = fd_demo_lead_index(lead_id, f->n_leads);
	return i >= 0 ? &f->leads[i] : NULL;
}

static const char *persona_of(const fd_demo_feed *f, const char *lead_id)
{
	int i = fd_demo_lead_index(lead_id, f->n_leads);
	return i >= 0 ? fd_demo_persona_name(fd_demo_traffic_persona(f->traffic, i)) : "";
}

static uint64_t reached_count(const fd_demo_feed *f, uint32_t mask)
{
	uint64_t n = 0;
	for (int i = 0; i < f->n_leads; i++)
		if ((f->leads[i].reached & mask) == mask)
			n++;
	return n;
}

/* A header line when the virtual day changes, with the funnel so far. */
static void day_header(fd_demo_feed *f, int64_t at_ms)
{
	int64_t day = at_ms / FD_MS_DAY;
	if (day <= f->day)
		return;
	f->day = day;
	fd_demo_traffic_stats ts;
	fd_demo_traffic_stats_get(f->traffic, &ts);
	char when[32];
	fmt_time(day * FD_MS_DAY, true, when, sizeof when);
	when[10] = '\0'; /* "Mon Jan 05" */
	line l = { .color = f->color };
	put(&l, "1", "── %s ", when);
	put(&l, "2", "── so far: %d leads, %" PRIu64 " MQL, %" PRIu64 " SAL, %" PRIu64 " SQL, %" PRIu64
	    " opportunities, %" PRIu64 " customers, %" PRIu64 " SLA breaches ──",
	    ts.arrived, reached_count(f, STAGE_BIT(FD_STAGE_MQL)),
	    reached_count(f, STAGE_BIT(FD_STAGE_SAL)), reached_count(f, STAGE_BIT(FD_STAGE_SQL)),
	    reached_count(f, STAGE_BIT(FD_STAGE_OPPORTUNITY)),
	    reached_count(f, STAGE_BIT(FD_STAGE_CUSTOMER)), f->breaches);
	emit(f, &l);
}

static void line_start(fd_demo_feed *f, line *l, int64_t at_ms, const char *lead_id)
{
	char when[32];
	fmt_time(at_ms, false, when, sizeof when);
	put(l, "2", "%s", when);
	pad(l, COL_LEAD);
	put(l, "1", "%s", lead_id);
	pad(l, COL_PERSONA);
	put(l, "2", "%s", persona_of(f, lead_id));
	pad(l, COL_MOVE);
}

/* ---- the tap ------------------------------------------------------------- */

static int more_points_first(const void *a, const void *b)
{
	double x = (*(const fd_breakdown *const *)a)->points;
	double y = (*(const fd_breakdown *const *)b)->points;
	return (x < y) - (x > y);
}

/* The second line of a handoff: what sales gets to open the conversation
 * (recent activity, top interests, where the points came from). */
static void handoff_context(fd_demo_feed *f, const fd_transition *t)
{
	if (t->n_recent == 0 && t->n_interests == 0)
		return;
	line l = { .color = f->color };
	pad(&l, COL_PERSONA);
	put(&l, "2", "↳ recent ");
	for (size_t i = 0; i < t->n_recent && i < 2; i++)
		put(&l, NULL, "%s%s%s%s", i ? ", " : "", t->recent[i].type,
		    *t->recent[i].content_id ? " " : "", t->recent[i].content_id);
	if (t->n_interests > 0) {
		put(&l, "2", " · top ");
		put(&l, NULL, "%s", t->interests[0].content_id);
	}
	if (t->n_breakdown > 0) {
		/* where most of the score came from first */
		const fd_breakdown *by_points[FD_MAX_EVENT_TYPES];
		size_t n = t->n_breakdown < FD_MAX_EVENT_TYPES ? t->n_breakdown : FD_MAX_EVENT_TYPES;
		for (size_t i = 0; i < n; i++)
			by_points[i] = &t->breakdown[i];
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): sizes an array of pointers */
		qsort(by_points, n, sizeof by_points[0], more_points_first);
		put(&l, "2", " · points ");
		for (size_t i = 0; i < n && i < 3; i++)
			put(&l, NULL, "%s%s %.0f", i ? ", " : "", by_points[i]->type, by_points[i]->points);
	}
	emit_held(f, &l);
}

static void on_transition(void *ctx, const fd_transition *t)
{
	fd_demo_feed *f = ctx;
	feed_lead *fl = lead_of(f, t->lead_id);
	int64_t since = fl && fl->entered_ms ? t->occurred_at_ms - fl->entered_ms : -1;
	if (fl)
		fl->entered_ms = t->occurred_at_ms;
	f->transitions++;
	if (t->from_stage == FD_STAGE_LEAD && t->to_stage == FD_STAGE_MQL &&
	    (unsigned)t->trigger < FD_TRIGGER_COUNT)
		f->into_mql[t->trigger]++;

	line l = { .color = f->color };
	line_start(f, &l, t->occurred_at_ms, t->lead_id);
	put(&l, stage_color(t->from_stage), "%s", fd_stage_name(t->from_stage));
	put(&l, NULL, " → ");
	put(&l, stage_color(t->to_stage), "%s", fd_stage_name(t->to_stage));
	pad(&l, COL_TRIGGER);
	if (*t->reason)
		put(&l, NULL, "%s (%s)", fd_trigger_name(t->trigger), t->reason);
	else
		put(&l, NULL, "%s", fd_trigger_name(t->trigger));
	pad(&l, COL_SCORE);
	put(&l, NULL, "score %5.1f fit %3.0f %c", t->score.engagement, t->score.fit,
	    fd_grade_letter(t->score.grade));
	pad(&l, COL_DETAIL);

	/* details: who has it, how long it sat in the stage it left, when it
	 * comes back from nurture */
	const char *sep = "";
	if (*t->owner_id) {
		put(&l, NULL, "%s", t->owner_id);
		sep = " · ";
	}
	if (since >= 0 && !by_scoring(t->trigger) && t->trigger != FD_TRIGGER_DISQUALIFIED_BY_FIT) {
		char span[32];
		fmt_span(since, span, sizeof span);
		put(&l, "2", "%safter %s in %s", sep, span, fd_stage_name(t->from_stage));
		sep = " · ";
	}
	if (t->review_at_ms) {
		char when[32];
		fmt_time(t->review_at_ms, false, when, sizeof when);
		when[6] = '\0'; /* "Apr 05" */
		put(&l, NULL, "%sreview %s", sep, when);
	}
	emit_held(f, &l);
	if (by_scoring(t->trigger))
		handoff_context(f, t);
	hold(f, t->occurred_at_ms, t->lead_id,
	     (uint16_t)(STAGE_BIT(t->from_stage) | STAGE_BIT(t->to_stage)), false);
}

static void on_sla(void *ctx, const fd_sla_event *e)
{
	fd_demo_feed *f = ctx;
	int sla = fd_rules_sla(&f->cfg->rules, e->sla);
	if (sla >= 0 && (unsigned)e->kind < FD_SLA_KIND_COUNT)
		f->sla[sla][e->kind]++;
	if (e->kind == FD_SLA_MET)
		return;

	line l = { .color = f->color };
	line_start(f, &l, e->occurred_at_ms, e->lead_id);
	put(&l, "2", "SLA ");
	put(&l, NULL, "%s", e->sla);
	pad(&l, COL_TRIGGER);
	char elapsed[32], limit[32], due[32];
	fmt_span(e->elapsed_ms, elapsed, sizeof elapsed);
	fmt_span(e->due_at_ms - e->started_at_ms, limit, sizeof limit);
	fmt_time(e->due_at_ms, false, due, sizeof due);
	if (e->kind == FD_SLA_BREACH) {
		put(&l, "31;1", "BREACH");
		put(&l, NULL, "  (due %s, %s elapsed)", due, elapsed);
	} else {
		put(&l, "33", "warning");
		put(&l, NULL, " (%s of %s used, due %s)", elapsed, limit, due);
	}
	pad(&l, COL_DETAIL);
	put(&l, NULL, "in %s · %s", fd_stage_name(e->stage), *e->owner_id ? e->owner_id : "no owner");
	emit_held(f, &l);
	hold(f, e->occurred_at_ms, e->lead_id, 0, e->kind == FD_SLA_BREACH);
}

void fd_demo_feed_flush(fd_demo_feed *f, int64_t upto)
{
	size_t k = 0;
	for (; k < f->n_held && f->held[k].at_ms <= upto; k++) {
		const feed_held *h = &f->held[k];
		if (h->at_ms < f->printed_ms)
			f->late++;
		else
			f->printed_ms = h->at_ms;
		day_header(f, h->at_ms);
		if (h->lead >= 0)
			f->leads[h->lead].reached |= h->reached;
		f->breaches += h->breach;
		fputs(h->text, f->out);
		free(h->text);
	}
	if (k == 0)
		return;
	memmove(f->held, f->held + k, (f->n_held - k) * sizeof *f->held);
	f->n_held -= k;
	fflush(f->out);
}

uint64_t fd_demo_feed_late(const fd_demo_feed *f)
{
	return f->late;
}

fd_sink fd_demo_feed_sink(fd_demo_feed *f)
{
	fd_sink s = { on_transition, on_sla, NULL, f };
	return s;
}

/* ---- banner -------------------------------------------------------------- */

void fd_demo_feed_banner(fd_demo_feed *f, const fd_demo_options *o, const char *bootstrap,
                         int64_t start_ms)
{
	const fd_rules *ec = &f->cfg->rules;
	char start[32], per_second[32], span[32];
	fmt_time(start_ms, true, start, sizeof start);
	fmt_span((int64_t)(o->speed * 1000), per_second, sizeof per_second);
	line l = { .color = f->color };
	put(&l, "1", "funneld demo");
	put(&l, NULL, " — %d synthetic leads (seed %" PRIu64 "), a simulated sales team and the "
	    "daemon, on an embedded Kafka at %s", o->leads, o->seed, bootstrap);
	emit(f, &l);
	if (o->duration_s > 0) {
		fmt_span((int64_t)(o->duration_s * o->speed * 1000), span, sizeof span);
		fprintf(f->out, "clock: 1 real second = %s virtual, from %s UTC; running %g s (%s "
		        "virtual), Ctrl-C stops early\n", per_second, start, o->duration_s, span);
	} else {
		fprintf(f->out, "clock: 1 real second = %s virtual, from %s UTC; Ctrl-C stops\n",
		        per_second, start);
	}
	/* the rules in one breath, from the config */
	l = (line){ .color = f->color };
	put(&l, "2", "rules: ");
	put(&l, NULL, "MQL at score");
	const char *sep = " ";
	for (int g = 0; g < FD_GRADE_COUNT; g++) {
		if (!ec->mql_enabled_for_grade[g])
			continue;
		put(&l, NULL, "%s≥ %g (%c)", sep, ec->mql_engagement[g], fd_grade_letter(g));
		sep = ", ";
	}
	if (ec->hand_raise_mql)
		put(&l, NULL, " or on a hand raise");
	if (ec->n_fast_track_sources > 0)
		put(&l, NULL, "; %s leads fast-track to SAL", ec->fast_track_sources[0]);
	emit(f, &l);
	l = (line){ .color = f->color };
	put(&l, "2", "SLAs: ");
	for (int i = 0; i < ec->n_slas; i++) {
		char d[32];
		fmt_span(ec->slas[i].duration_ms, d, sizeof d);
		put(&l, NULL, "%s%s %s", i ? ", " : "", ec->slas[i].name, d);
	}
	if (ec->n_slas == 0)
		put(&l, NULL, "none configured");
	emit(f, &l);
	fprintf(f->out, "\n");
	fflush(f->out);
}

/* ---- summary ------------------------------------------------------------- */

static void heading(fd_demo_feed *f, const char *text)
{
	line l = { .color = f->color };
	put(&l, "1", "%s", text);
	emit(f, &l);
}

static void pct(char *buf, size_t size, uint64_t num, uint64_t den)
{
	if (den == 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%", 100.0 * (double)num / (double)den);
}

static void summary_funnel(fd_demo_feed *f, uint64_t leads)
{
	static const fd_stage path[] = { FD_STAGE_LEAD, FD_STAGE_MQL, FD_STAGE_SAL, FD_STAGE_SQL,
		                             FD_STAGE_OPPORTUNITY, FD_STAGE_CUSTOMER };
	heading(f, "funnel (leads that ever reached each stage)");
	for (size_t i = 0; i + 1 < sizeof path / sizeof path[0]; i++) {
		fd_stage a = path[i], b = path[i + 1];
		uint64_t from = a == FD_STAGE_LEAD ? leads : reached_count(f, STAGE_BIT(a));
		uint64_t to = a == FD_STAGE_LEAD ? reached_count(f, STAGE_BIT(b))
		                                 : reached_count(f, STAGE_BIT(a) | STAGE_BIT(b));
		char name[48], rate[16];
		snprintf(name, sizeof name, "%s → %s", fd_stage_name(a), fd_stage_name(b));
		pct(rate, sizeof rate, to, from);
		fprintf(f->out, "  %-*s %6" PRIu64 " of %-6" PRIu64 " %7s", 24 + 2, name, to, from, rate);
		if (a == FD_STAGE_LEAD)
			fprintf(f->out, "   (%" PRIu64 " by score, %" PRIu64 " by hand raise)",
			        f->into_mql[FD_TRIGGER_SCORE_THRESHOLD], f->into_mql[FD_TRIGGER_HAND_RAISE]);
		if (b == FD_STAGE_SAL) {
			uint64_t fast = reached_count(f, STAGE_BIT(FD_STAGE_SAL)) -
			                reached_count(f, STAGE_BIT(FD_STAGE_SAL) | STAGE_BIT(FD_STAGE_MQL));
			if (fast)
				fprintf(f->out, "   (+%" PRIu64 " fast-tracked straight to SAL)", fast);
		}
		fputc('\n', f->out);
	}
}

static void summary_slas(fd_demo_feed *f)
{
	const fd_rules *ec = &f->cfg->rules;
	if (ec->n_slas == 0)
		return;
	heading(f, "SLA compliance               met  breached  compliance  warnings  still open");
	for (int s = 0; s < ec->n_slas; s++) {
		uint64_t met = f->sla[s][FD_SLA_MET], breach = f->sla[s][FD_SLA_BREACH];
		char rate[16];
		pct(rate, sizeof rate, met, met + breach);
		fprintf(f->out, "  %-24s %6" PRIu64 "  %8" PRIu64 "  %10s  %8" PRIu64 "  %10" PRIu64 "\n",
		        ec->slas[s].name, met, breach, rate, f->sla[s][FD_SLA_WARNING], f->open[s]);
	}
}

static void summary_personas(fd_demo_feed *f, const fd_demo_totals *t)
{
	heading(f, "personas            leads     MQL     SAL     SQL     won  nurture  disqualified");
	uint64_t n[FD_DEMO_PERSONA_COUNT][6] = { { 0 } };
	static const fd_stage cols[6] = { FD_STAGE_MQL, FD_STAGE_SAL, FD_STAGE_SQL,
		                              FD_STAGE_CUSTOMER, FD_STAGE_NURTURE,
		                              FD_STAGE_DISQUALIFIED };
	for (int i = 0; i < f->n_leads; i++) {
		fd_demo_persona p = fd_demo_traffic_persona(f->traffic, i);
		if ((unsigned)p >= FD_DEMO_PERSONA_COUNT)
			continue;
		for (int c = 0; c < 6; c++)
			if (f->leads[i].reached & STAGE_BIT(cols[c]))
				n[p][c]++;
	}
	for (int p = 0; p < FD_DEMO_PERSONA_COUNT; p++) {
		if (t->traffic.leads[p] == 0)
			continue;
		fprintf(f->out, "  %-16s %6d  %6" PRIu64 "  %6" PRIu64 "  %6" PRIu64 "  %6" PRIu64
		        "  %7" PRIu64 "  %12" PRIu64 "\n",
		        fd_demo_persona_name((fd_demo_persona)p), t->traffic.leads[p], n[p][0], n[p][1],
		        n[p][2], n[p][3], n[p][4], n[p][5]);
	}
	/* the bots: how far the cap let them get */
	if (t->traffic.events_by_persona[FD_DEMO_BOT] > 0 && t->traffic.bot_type && f->captured) {
		double best = f->bot_best;
		int rule = fd_rules_event_type(&f->cfg->rules, t->traffic.bot_type);
		const fd_event_rule *r = rule >= 0 ? &f->cfg->rules.event_types[rule] : NULL;
		fprintf(f->out, "  bots sent %" PRIu64 " %s events; the highest bot score is %.1f",
		        t->traffic.events_by_persona[FD_DEMO_BOT], t->traffic.bot_type, best);
		if (r && r->cap_points > 0) {
			char w[32];
			fmt_span(r->cap_window_ms, w, sizeof w);
			fprintf(f->out, " (%s is capped at %g points per %s)", r->type, r->cap_points, w);
		}
		fputc('\n', f->out);
	}
}

void fd_demo_feed_capture(fd_demo_feed *f, fd_engine *engine, int64_t now)
{
	const fd_rules *ec = &f->cfg->rules;
	fd_engine_stats_get(engine, &f->stats);
	memset(f->open, 0, sizeof f->open);
	f->bot_best = 0;
	for (int i = 0; i < f->n_leads; i++) {
		char id[24];
		fd_lead_view v;
		fd_demo_lead_id(i, id, sizeof id);
		if (!fd_engine_lead(engine, id, now, &v))
			continue;
		for (size_t k = 0; k < v.n_open_slas; k++) {
			int s = fd_rules_sla(ec, v.open_slas[k].name);
			if (s >= 0)
				f->open[s]++;
		}
		if (fd_demo_traffic_persona(f->traffic, i) == FD_DEMO_BOT && v.score.engagement > f->bot_best)
			f->bot_best = v.score.engagement;
	}
	f->captured = true;
}

void fd_demo_feed_summary(fd_demo_feed *f, const fd_demo_totals *t)
{
	fd_demo_feed_flush(f, INT64_MAX);
	const fd_engine_stats es = f->stats;
	char from[32], to[32], span[32];
	fmt_time(t->start_ms, true, from, sizeof from);
	fmt_time(t->end_ms, true, to, sizeof to);
	fmt_span(t->end_ms - t->start_ms, span, sizeof span);

	fputc('\n', f->out);
	line l = { .color = f->color };
	put(&l, "1", "── summary ");
	put(&l, NULL, "── %.0f s real, %s → %s virtual (%s) ──", t->real_s, from, to, span);
	emit(f, &l);
	uint64_t activities = 0;
	for (int k = 0; k < FD_ACT_COUNT; k++)
		activities += t->sales.activities[k];
	fprintf(f->out, "inputs: %" PRIu64 " profiles, %" PRIu64 " engagement events, %" PRIu64
	        " sales activities; the daemon consumed %" PRIu64 " records, published %" PRIu64
	        " transitions and %" PRIu64 " SLA events, %" PRIu64 " dead letters\n\n",
	        t->traffic.profiles, t->traffic.events, activities, t->daemon.consumed,
	        es.transitions, es.sla_warnings + es.sla_breaches + es.sla_met,
	        t->daemon.dead_letters);

	heading(f, "leads per stage now");
	uint64_t widest = 1;
	for (int s = 0; s < FD_STAGE_COUNT; s++)
		if (es.per_stage[s] > widest)
			widest = es.per_stage[s];
	for (int s = 0; s < FD_STAGE_COUNT; s++) {
		int bar = (int)((es.per_stage[s] * 40 + widest - 1) / widest);
		l = (line){ .color = f->color };
		put(&l, NULL, "  %-14s %6" PRIu64 "  ", fd_stage_name((fd_stage)s), es.per_stage[s]);
		static const char block[] = "▇"; /* 3 bytes of UTF-8 */
		char bars[40 * (sizeof block - 1) + 1];
		size_t used = 0;
		for (int b = 0; b < bar && used + sizeof block <= sizeof bars; b++) {
			memcpy(bars + used, block, sizeof block - 1);
			used += sizeof block - 1;
		}
		bars[used] = '\0';
		put(&l, stage_color((fd_stage)s), "%s", bars);
		emit(f, &l);
	}
	fputc('\n', f->out);
	summary_funnel(f, es.leads);
	fputc('\n', f->out);
	summary_slas(f);
	fputc('\n', f->out);
	summary_personas(f, t);
	fflush(f->out);
}

/* ---- lifetime ------------------------------------------------------------ */

fd_demo_feed *fd_demo_feed_new(const fd_config *cfg, const fd_demo_traffic *traffic, int leads,
                               bool color, FILE *out)
{
	fd_demo_feed *f = calloc(1, sizeof *f);
	if (!f || !(f->leads = calloc((size_t)(leads > 0 ? leads : 1), sizeof *f->leads))) {
		free(f);
		return NULL;
	}
	f->cfg = cfg;
	f->traffic = traffic;
	f->n_leads = leads;
	f->color = color;
	f->out = out;
	f->day = INT64_MIN;
	f->printed_ms = INT64_MIN;
	return f;
}

void fd_demo_feed_free(fd_demo_feed *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_held; i++)
		free(f->held[i].text);
	free(f->held);
	free(f->pending);
	free(f->leads);
	free(f);
}
