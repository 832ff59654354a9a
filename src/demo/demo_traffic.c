/*
 * demo_traffic.c — the synthetic lead population and its engagement (see
 * demo_traffic.h).
 *
 * Each lead is a few dozen bytes: persona, its random stream, arrival and
 * stop times and a step counter. Its profile is drawn when it arrives and
 * its events one at a time from the agenda, so a large population costs
 * little memory. Pools of names, titles and content are plain tables below;
 * event *types* come from the configuration (roles such as "visit" or
 * "hand raise" are resolved to configured types once, at start).
 */
#include "demo/demo_traffic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "demo/demo_agenda.h"
#include "demo/demo_kafka.h"
#include "demo/demo_rng.h"
#include "funneld/rules.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MIN_MS(m) ((int64_t)((m) * (double)FD_MS_MINUTE))
#define HOUR_MS(h) ((int64_t)((h) * (double)FD_MS_HOUR))

enum { TASK_ARRIVE = 0, TASK_STEP = 1 };

/* What a persona does, resolved to a configured event type at start. */
typedef enum role {
	R_VISIT = 0,
	R_EMAIL_OPEN,
	R_EMAIL_CLICK,
	R_CONTENT,
	R_WEBINAR,
	R_PRICING,
	R_FORM,
	R_HAND_RAISE,
	R_CONTACT,
	R_EVENT,
	R_CAREERS,
	R_UNSUBSCRIBE,
	R_BOT,
	R_COUNT
} role;

typedef struct content {
	const char *id;
	const char *url;
} content;

static const content visit_pages[] = {
	{ "product", "/product" },
	{ "customers", "/customers" },
	{ "integrations", "/integrations/salesforce" },
	{ "blog-scoring-101", "/blog/lead-scoring-101" },
	{ "blog-mql-vs-sql", "/blog/mql-vs-sql" },
	{ "security", "/security" },
};
static const content emails[] = {
	{ "newsletter-jan", "" },
	{ "nurture-sla", "" },
	{ "webinar-invite", "" },
};
static const content downloads[] = {
	{ "ebook-sla-playbook", "/resources/mql-sla-playbook" },
	{ "report-handoff-2026", "/resources/state-of-handoff-2026" },
	{ "paper-lead-scoring", "/resources/lead-scoring" },
	{ "guide-revops", "/resources/revops-metrics" },
};
static const content webinars[] = {
	{ "webinar-scoring", "/webinars/scoring-sales-trusts" },
	{ "webinar-revops-live", "/webinars/revops-live" },
};
static const content pricing_page = { "pricing", "/pricing" };
static const content form_page = { "roi-calculator", "/resources/roi-calculator" };
static const content demo_page = { "demo", "/demo" };
static const content contact_page = { "contact-sales", "/contact" };
static const content booth = { "revops-summit", "/events/revops-summit" };
static const content careers_page = { "careers", "/careers" };
static const content unsubscribe_page = { "unsubscribe", "/email/preferences" };

typedef struct job {
	const char *title, *seniority, *department;
	bool senior;
} job;

static const job jobs[] = {
	{ "VP Marketing", "VP", "Marketing", true },
	{ "VP Revenue Operations", "VP", "Operations", true },
	{ "Chief Marketing Officer", "C-Level", "Marketing", true },
	{ "Chief Revenue Officer", "C-Level", "Sales", true },
	{ "Head of Growth", "Director", "Marketing", true },
	{ "Director of Demand Generation", "Director", "Marketing", true },
	{ "Director of Sales Operations", "Director", "Sales", true },
	{ "Marketing Operations Manager", "Manager", "Marketing", false },
	{ "Revenue Operations Analyst", "Individual Contributor", "Operations", false },
	{ "Content Marketing Specialist", "Individual Contributor", "Marketing", false },
	{ "Sales Development Representative", "Individual Contributor", "Sales", false },
	{ "Software Engineer", "Individual Contributor", "Engineering", false },
	{ "IT Manager", "Manager", "IT", false },
	{ "Office Manager", "Manager", "Operations", false },
};
static const char *const industries[] = { "Software", "Software", "Financial Services",
	                                      "Healthcare", "Manufacturing", "Retail",
	                                      "Logistics", "Media" };
static const char *const home_countries[] = { "US", "US", "US", "GB", "DE", "CA", "FR", "NL",
	                                          "SE" };
static const char *const far_countries[] = { "BR", "IN", "AU", "JP", "ZA" };
static const char *const companies[] = {
	"northwind", "globex", "initech", "hooli", "vandelay", "acme-robotics",
	"umbrella-health", "stark-logistics", "wayne-media", "pied-piper", "tyrell-systems",
	"cyberdyne", "soylent-foods", "wonka-retail", "oceanic-air", "massive-dynamic",
	"aperture-labs", "dunder-mifflin", "prestige-worldwide", "blue-sun",
};
static const char *const first_names[] = { "ana", "ben", "chloe", "dev", "emma", "farid",
	                                       "grace", "hiro", "ines", "jonas", "kemi", "lars",
	                                       "maya", "nico", "olga", "priya", "quinn", "raul",
	                                       "sofia", "tom", "uma", "victor", "wen", "yusuf" };
static const char *const last_names[] = { "adams", "berg", "costa", "dubois", "evans",
	                                      "fischer", "garcia", "hansen", "ito", "jensen",
	                                      "khan", "lopez", "meyer", "novak", "okafor",
	                                      "petit", "rossi", "silva", "tanaka", "weber" };
static const char *const technologies[] = { "Salesforce", "HubSpot", "Marketo", "Segment",
	                                        "Snowflake", "Kafka", "Outreach", "Gong" };
static const char *const sources[] = { "web", "web", "paid", "partner", "organic" };
static const char *const student_suffixes[] = { ", MSc Marketing", ", Business School",
	                                            ", Growth Team" };

/* Shares of the population, in persona order (browser takes the rest). */
static const double shares[FD_DEMO_PERSONA_COUNT] = { 0.14, 0.22, 0.07, 0.05, 0.02, 0.10,
	                                                  0.40 };

typedef struct demo_lead {
	fd_demo_rng rng;
	int64_t arrive_ms;
	int64_t stop_ms;        /* no events after this */
	uint32_t steps;         /* events sent */
	uint8_t persona;
	uint8_t company;        /* index into companies[] (account id) */
	uint8_t visits_first;   /* buyer: visits before the hand raise */
	uint8_t page;           /* bot: the page it hammers */
	bool paid;              /* first visit came from an ad */
} demo_lead;

struct fd_demo_traffic {
	const fd_config *cfg;
	rd_kafka_t *producer;
	int n_leads;
	demo_lead *leads;
	fd_demo_agenda agenda;
	uint64_t seed;
	int role_type[R_COUNT];        /* index into cfg->rules.event_types, or -1 */
	int student_rule, competitor_rule, personal_rule; /* disqualifier indexes, or -1 */
	const char *booth_source;
	fd_demo_traffic_stats stats;
};

const char *fd_demo_persona_name(fd_demo_persona p)
{
	static const char *const names[FD_DEMO_PERSONA_COUNT] = {
		"buyer", "researcher", "student", "competitor", "bot", "booth", "browser"
	};
	return (unsigned)p < FD_DEMO_PERSONA_COUNT ? names[p] : "?";
}

void fd_demo_lead_id(int index, char *buf, size_t size)
{
	snprintf(buf, size, "lead-%04d", index + 1);
}

int fd_demo_lead_index(const char *lead_id, int n_leads)
{
	if (strncmp(lead_id, "lead-", 5) != 0)
		return -1;
	char *end;
	long n = strtol(lead_id + 5, &end, 10);
	if (*end != '\0' || n < 1 || n > n_leads)
		return -1;
	return (int)n - 1;
}

/* ---- configuration lookups ----------------------------------------------- */

static int type_named(const fd_rules *ec, const char *name)
{
	return fd_rules_event_type(ec, name);
}

static int type_with_intent(const fd_rules *ec, fd_intent intent, bool need_cap)
{
	for (int i = 0; i < ec->n_event_types; i++) {
		const fd_event_rule *r = &ec->event_types[i];
		if (r->intent == intent && r->points > 0 && (!need_cap || r->cap_points > 0))
			return i;
	}
	return -1;
}

static int first_of(int a, int b)
{
	return a >= 0 ? a : b;
}

static void resolve_roles(fd_demo_traffic *t)
{
	const fd_rules *ec = &t->cfg->rules;
	int *r = t->role_type;
	r[R_VISIT] = first_of(type_named(ec, "page_view"), type_with_intent(ec, FD_INTENT_LOW, false));
	if (r[R_VISIT] < 0 && ec->n_event_types > 0)
		r[R_VISIT] = 0;
	r[R_EMAIL_OPEN] = first_of(type_named(ec, "email_open"), r[R_VISIT]);
	r[R_EMAIL_CLICK] = first_of(type_named(ec, "email_click"), r[R_EMAIL_OPEN]);
	r[R_CONTENT] = first_of(first_of(type_named(ec, "content_download"),
	                                 type_with_intent(ec, FD_INTENT_HIGH, false)), r[R_VISIT]);
	r[R_WEBINAR] = first_of(type_named(ec, "webinar_attended"), r[R_CONTENT]);
	r[R_PRICING] = first_of(type_named(ec, "pricing_view"), r[R_CONTENT]);
	r[R_FORM] = first_of(type_named(ec, "form_submit"), r[R_CONTENT]);
	r[R_HAND_RAISE] = first_of(type_named(ec, "demo_request"),
	                           type_with_intent(ec, FD_INTENT_HAND_RAISE, false));
	r[R_CONTACT] = first_of(type_named(ec, "contact_request"), r[R_HAND_RAISE]);
	r[R_EVENT] = first_of(type_named(ec, "event_attended"), r[R_CONTENT]);
	r[R_CAREERS] = type_named(ec, "careers_page_view");
	r[R_UNSUBSCRIBE] = type_named(ec, "unsubscribe");
	int pv = type_named(ec, "page_view");
	r[R_BOT] = pv >= 0 && ec->event_types[pv].cap_points > 0
	               ? pv
	               : first_of(type_with_intent(ec, FD_INTENT_LOW, true), r[R_VISIT]);
}

static bool name_has(const char *name, const char *word)
{
	return strstr(name, word) != NULL;
}

/* The disqualifier on `field` a persona can be built from: one whose name
 * contains `word` first, else (when `any`) the first usable one that is not
 * `except`. Only positive equals/one_of/prefix/contains tests qualify. */
static int find_rule(const fd_rules *ec, fd_field field, const char *word, bool any,
                     int except)
{
	int fallback = -1;
	for (int i = 0; i < ec->n_disqualifiers; i++) {
		const fd_match *m = &ec->disqualifiers[i].match;
		if (m->field != field || m->negate || m->n_values == 0 || m->op == FD_MATCH_RANGE ||
		    i == except)
			continue;
		if (name_has(ec->disqualifiers[i].name, word))
			return i;
		if (any && fallback < 0)
			fallback = i;
	}
	return fallback;
}

/* ---- profiles ------------------------------------------------------------ */

typedef struct profile_text {
	char email[128], title[FD_NAME_MAX + 32], country[8];
	const char *tech[3];
	fd_profile p;
} profile_text;

static const char *pick(fd_demo_rng *r, const char *const *pool, size_t n)
{
	return pool[fd_demo_rng_below(r, (int)n)];
}

/* One candidate profile: `good` draws from the target segment. */
static void draw_profile(const fd_demo_traffic *t, demo_lead *l, fd_demo_rng *r, bool good,
                         const char *lead_id, profile_text *pt)
{
	const job *j;
	if (good && fd_demo_rng_unit(r) < 0.8) {
		do
			j = &jobs[fd_demo_rng_below(r, (int)N_ELEMS(jobs))];
		while (!j->senior);
	} else {
		j = &jobs[fd_demo_rng_below(r, (int)N_ELEMS(jobs))];
	}
	l->company = (uint8_t)fd_demo_rng_below(r, (int)N_ELEMS(companies));
	const char *country = good || fd_demo_rng_unit(r) < 0.95
	                          ? pick(r, home_countries, N_ELEMS(home_countries))
	                          : pick(r, far_countries, N_ELEMS(far_countries));
	int64_t employees = good ? (int64_t)fd_demo_rng_range(r, 200, 4000)
	                         : (int64_t)exp(fd_demo_rng_range(r, log(5.0), log(20000.0)));
	snprintf(pt->email, sizeof pt->email, "%s.%s@%s.example",
	         pick(r, first_names, N_ELEMS(first_names)),
	         pick(r, last_names, N_ELEMS(last_names)), companies[l->company]);
	snprintf(pt->title, sizeof pt->title, "%s", j->title);
	snprintf(pt->country, sizeof pt->country, "%s", country);
	size_t n_tech = 1 + (size_t)fd_demo_rng_below(r, 3);
	for (size_t i = 0; i < n_tech; i++)
		pt->tech[i] = pick(r, technologies, N_ELEMS(technologies));
	memset(&pt->p, 0, sizeof pt->p);
	pt->p.lead_id = lead_id;
	pt->p.updated_at_ms = l->arrive_ms;
	pt->p.email = pt->email;
	pt->p.job_title = pt->title;
	pt->p.seniority = j->seniority;
	pt->p.department = j->department;
	pt->p.industry = good && fd_demo_rng_unit(r) < 0.8 ? "Software"
	                                                   : pick(r, industries, N_ELEMS(industries));
	pt->p.country = pt->country;
	pt->p.employee_count = employees;
	pt->p.annual_revenue = employees * (int64_t)fd_demo_rng_range(r, 80e3, 250e3);
	pt->p.technologies = pt->tech;
	pt->p.n_technologies = n_tech;
	pt->p.lead_source = l->persona == FD_DEMO_BOOTH ? t->booth_source
	                                                : pick(r, sources, N_ELEMS(sources));
	l->paid = strcmp(pt->p.lead_source, "paid") == 0;
}

/* A value of disqualifier `rule` turned into a field value that matches
 * it: "student" -> "Student, MSc Marketing" for contains/prefix. */
static void rule_value(const fd_rules *ec, int rule, fd_demo_rng *r, bool decorate,
                       char *buf, size_t size)
{
	const fd_match *m = &ec->disqualifiers[rule].match;
	const char *v = m->values[m->op == FD_MATCH_EQUALS ? 0 : fd_demo_rng_below(r, m->n_values)];
	if (decorate && (m->op == FD_MATCH_CONTAINS || m->op == FD_MATCH_PREFIX))
		snprintf(buf, size, "%c%s%s", v[0] >= 'a' && v[0] <= 'z' ? v[0] - 'a' + 'A' : v[0],
		         v + 1, pick(r, student_suffixes, N_ELEMS(student_suffixes)));
	else
		snprintf(buf, size, "%s", v);
}

static bool persona_fits(const fd_demo_traffic *t, fd_demo_persona p, const fd_fit_result *f)
{
	const fd_rules *ec = &t->cfg->rules;
	switch (p) {
	case FD_DEMO_BUYER:
		return f->disqualifier < 0 && f->grade == FD_GRADE_A;
	case FD_DEMO_RESEARCHER:
		return f->disqualifier < 0 && f->grade <= FD_GRADE_B && ec->mql_enabled_for_grade[f->grade];
	case FD_DEMO_STUDENT:
		return f->disqualifier == t->student_rule;
	case FD_DEMO_COMPETITOR:
		return f->disqualifier == t->competitor_rule;
	case FD_DEMO_BOT:
		return f->disqualifier < 0 && (f->grade == FD_GRADE_B || f->grade == FD_GRADE_C);
	case FD_DEMO_BOOTH:
		return f->disqualifier < 0 &&
		       f->grade <= (ec->n_fast_track_sources ? ec->fast_track_min_grade : FD_GRADE_C);
	default:
		return true;
	}
}

/* Draw until the config's own fit rules agree with the persona (bounded;
 * the last draw is kept otherwise). */
static void make_profile(const fd_demo_traffic *t, int index, demo_lead *l, const char *lead_id,
                         profile_text *pt)
{
	const fd_rules *ec = &t->cfg->rules;
	fd_demo_rng r = fd_demo_rng_for(t->seed, (uint64_t)index, UINT64_C(0x9f0f11e));
	fd_demo_persona p = (fd_demo_persona)l->persona;
	bool good = p == FD_DEMO_BUYER || p == FD_DEMO_COMPETITOR ||
	            ((p == FD_DEMO_RESEARCHER || p == FD_DEMO_BOOTH) && fd_demo_rng_unit(&r) < 0.6);
	for (int attempt = 0; attempt < 500; attempt++) {
		draw_profile(t, l, &r, good, lead_id, pt);
		if (p == FD_DEMO_STUDENT && t->student_rule >= 0)
			rule_value(ec, t->student_rule, &r, true, pt->title, sizeof pt->title);
		if (p == FD_DEMO_COMPETITOR && t->competitor_rule >= 0) {
			char domain[FD_NAME_MAX];
			rule_value(ec, t->competitor_rule, &r, false, domain, sizeof domain);
			snprintf(pt->email, sizeof pt->email, "%s.%s@%s",
			         pick(&r, first_names, N_ELEMS(first_names)),
			         pick(&r, last_names, N_ELEMS(last_names)), domain);
		}
		if (p == FD_DEMO_BROWSER && t->personal_rule >= 0 && fd_demo_rng_unit(&r) < 0.1) {
			char domain[FD_NAME_MAX];
			rule_value(ec, t->personal_rule, &r, false, domain, sizeof domain);
			snprintf(pt->email, sizeof pt->email, "%s.%s@%s",
			         pick(&r, first_names, N_ELEMS(first_names)),
			         pick(&r, last_names, N_ELEMS(last_names)), domain);
		}
		fd_fit_result f;
		fd_fit_evaluate(ec, &pt->p, &f);
		if (persona_fits(t, p, &f))
			return;
	}
}

/* ---- events -------------------------------------------------------------- */

static void send_event(fd_demo_traffic *t, int index, demo_lead *l, int64_t at, role ro,
                       const content *c, const char *channel, const char *campaign)
{
	int type = t->role_type[ro];
	if (type < 0)
		return;
	char lead_id[24], event_id[48], account[48];
	fd_demo_lead_id(index, lead_id, sizeof lead_id);
	snprintf(event_id, sizeof event_id, "ev-%s-%u", lead_id + 5, (unsigned)l->steps);
	snprintf(account, sizeof account, "acct-%s", companies[l->company]);
	fd_engagement ev = {
		.event_id = event_id,
		.lead_id = lead_id,
		.account_id = account,
		.occurred_at_ms = at,
		.type = t->cfg->rules.event_types[type].type,
		.channel = channel,
		.content_id = c->id,
		.url = c->url,
		.campaign = campaign,
	};
	if (fd_demo_kafka_send_engagement(t->producer, t->cfg->settings.topics.engagement,
	                                  t->cfg->settings.topics.engagement_encoding, &ev) == 0) {
		t->stats.events++;
		t->stats.events_by_persona[l->persona]++;
	} else {
		t->stats.failed++;
	}
}

static const content *any_of(fd_demo_rng *r, const content *pool, size_t n)
{
	return &pool[fd_demo_rng_below(r, (int)n)];
}

static void visit(fd_demo_traffic *t, int i, demo_lead *l, int64_t at)
{
	bool ad = l->paid && l->steps == 0;
	send_event(t, i, l, at, R_VISIT, any_of(&l->rng, visit_pages, N_ELEMS(visit_pages)),
	           ad ? "paid" : "web", ad ? "paid-search-brand" : "");
}

static void email(fd_demo_traffic *t, int i, demo_lead *l, int64_t at, bool click)
{
	send_event(t, i, l, at, click ? R_EMAIL_CLICK : R_EMAIL_OPEN,
	           any_of(&l->rng, emails, N_ELEMS(emails)), "email", "nurture-q1");
}

static void research(fd_demo_traffic *t, int i, demo_lead *l, int64_t at, double u)
{
	if (u < 0.35)
		send_event(t, i, l, at, R_CONTENT, any_of(&l->rng, downloads, N_ELEMS(downloads)),
		           "web", "q1-handoff-content");
	else if (u < 0.50)
		send_event(t, i, l, at, R_WEBINAR, any_of(&l->rng, webinars, N_ELEMS(webinars)), "web",
		           "q1-webinars");
	else if (u < 0.62)
		send_event(t, i, l, at, R_PRICING, &pricing_page, "web", "");
	else if (u < 0.67)
		send_event(t, i, l, at, R_FORM, &form_page, "web", "");
	else if (u < 0.85)
		visit(t, i, l, at);
	else
		email(t, i, l, at, true);
}

/* Send lead i's next event and schedule the one after; returns the delay
 * to the next one in minutes (<= 0: no more). */
static double step(fd_demo_traffic *t, int i, demo_lead *l, int64_t at)
{
	fd_demo_rng *r = &l->rng;
	double u = fd_demo_rng_unit(r);
	switch ((fd_demo_persona)l->persona) {
	case FD_DEMO_BUYER:
		if (l->steps + 1u < l->visits_first) {
			visit(t, i, l, at);
			return fd_demo_rng_range(r, 20, 120);
		}
		if (l->steps + 1u == l->visits_first) {
			send_event(t, i, l, at, R_PRICING, &pricing_page, "web", "");
			return fd_demo_rng_range(r, 10, 90);
		}
		if (l->steps == l->visits_first && t->role_type[R_HAND_RAISE] >= 0) {
			send_event(t, i, l, at, u < 0.8 ? R_HAND_RAISE : R_CONTACT,
			           u < 0.8 ? &demo_page : &contact_page, "web", "");
			return fd_demo_rng_range(r, 6 * 60, 20 * 60);
		}
		if (t->role_type[R_HAND_RAISE] < 0 && u < 0.7) /* no hand raise: score it */
			research(t, i, l, at, fd_demo_rng_unit(r) * 0.62);
		else if (u < 0.5)
			email(t, i, l, at, false);
		else
			visit(t, i, l, at);
		return fd_demo_rng_range(r, 8 * 60, 30 * 60);
	case FD_DEMO_RESEARCHER:
		research(t, i, l, at, u);
		return fd_demo_rng_range(r, 3 * 60, 16 * 60);
	case FD_DEMO_STUDENT:
		if (u < 0.5)
			send_event(t, i, l, at, R_CONTENT, any_of(r, downloads, N_ELEMS(downloads)), "web",
			           "q1-handoff-content");
		else if (u < 0.8)
			visit(t, i, l, at);
		else
			send_event(t, i, l, at, R_WEBINAR, any_of(r, webinars, N_ELEMS(webinars)), "web",
			           "q1-webinars");
		return fd_demo_rng_range(r, 6 * 60, 30 * 60);
	case FD_DEMO_COMPETITOR:
		if (u < 0.4)
			send_event(t, i, l, at, R_PRICING, &pricing_page, "web", "");
		else if (u < 0.8)
			visit(t, i, l, at);
		else
			send_event(t, i, l, at, R_CONTENT, any_of(r, downloads, N_ELEMS(downloads)), "web",
			           "q1-handoff-content");
		return fd_demo_rng_range(r, 2 * 60, 10 * 60);
	case FD_DEMO_BOT:
		send_event(t, i, l, at, R_BOT, &visit_pages[l->page], "web", "");
		return fd_demo_rng_range(r, 1, 5);
	case FD_DEMO_BOOTH:
		if (l->steps == 0) {
			send_event(t, i, l, at, R_EVENT, &booth, t->booth_source, "revops-summit-2026");
			return fd_demo_rng_range(r, 10 * 60, 30 * 60);
		}
		if (u < 0.6)
			email(t, i, l, at, u < 0.25);
		else
			visit(t, i, l, at);
		return fd_demo_rng_range(r, 12 * 60, 36 * 60);
	case FD_DEMO_BROWSER:
	default:
		if (u < 0.40) {
			email(t, i, l, at, false);
		} else if (u < 0.55) {
			email(t, i, l, at, true);
		} else if (u < 0.85) { /* NOLINT(bugprone-branch-clone): the last else falls back here */
			visit(t, i, l, at);
		} else if (u < 0.90) {
			send_event(t, i, l, at, R_CONTENT, any_of(r, downloads, N_ELEMS(downloads)), "web",
			           "q1-handoff-content");
		} else if (u < 0.95 && t->role_type[R_CAREERS] >= 0) {
			send_event(t, i, l, at, R_CAREERS, &careers_page, "web", "");
		} else if (t->role_type[R_UNSUBSCRIBE] >= 0) {
			send_event(t, i, l, at, R_UNSUBSCRIBE, &unsubscribe_page, "email", "nurture-q1");
			return 0; /* gone */
		} else {
			visit(t, i, l, at);
		}
		return fd_demo_rng_range(r, 8 * 60, 48 * 60);
	}
}

static void arrive(fd_demo_traffic *t, int i, demo_lead *l)
{
	char lead_id[24];
	fd_demo_lead_id(i, lead_id, sizeof lead_id);
	profile_text pt;
	make_profile(t, i, l, lead_id, &pt);
	if (fd_demo_kafka_send_profile(t->producer, t->cfg->settings.topics.profiles,
	                               t->cfg->settings.topics.profiles_encoding, &pt.p) == 0)
		t->stats.profiles++;
	else
		t->stats.failed++;
	t->stats.arrived++;
	/* the first event comes well after the profile, so the daemon knows the
	 * lead's fit when it scores it */
	double first_min = fd_demo_rng_range(&l->rng, 30, 90);
	(void)fd_demo_agenda_add(&t->agenda, l->arrive_ms + MIN_MS(first_min), i, TASK_STEP, 0);
}

int64_t fd_demo_traffic_next_due(const fd_demo_traffic *t)
{
	return fd_demo_agenda_next(&t->agenda);
}

void fd_demo_traffic_tick(fd_demo_traffic *t, int64_t now)
{
	fd_demo_task task;
	for (int budget = 50000; budget > 0 && fd_demo_agenda_pop(&t->agenda, now, &task); budget--) {
		demo_lead *l = &t->leads[task.lead];
		if (task.what == TASK_ARRIVE) {
			arrive(t, task.lead, l);
			continue;
		}
		double next_min = step(t, task.lead, l, task.at_ms);
		l->steps++;
		int64_t next = task.at_ms + MIN_MS(next_min);
		if (next_min > 0 && next <= l->stop_ms)
			(void)fd_demo_agenda_add(&t->agenda, next, task.lead, TASK_STEP, 0);
	}
	rd_kafka_poll(t->producer, 0);
}

/* ---- population ---------------------------------------------------------- */

static bool persona_available(const fd_demo_traffic *t, fd_demo_persona p)
{
	if (p == FD_DEMO_STUDENT)
		return t->student_rule >= 0;
	if (p == FD_DEMO_COMPETITOR)
		return t->competitor_rule >= 0;
	return true;
}

static void populate(fd_demo_traffic *t, int64_t start_ms, int64_t window_ms)
{
	int n = t->n_leads;
	/* stratified: slot k of n takes the persona its position falls in... */
	for (int k = 0; k < n; k++) {
		double pos = (k + 0.5) / n, acc = 0;
		fd_demo_persona p = FD_DEMO_BROWSER;
		for (int q = 0; q < FD_DEMO_PERSONA_COUNT - 1; q++) {
			acc += shares[q];
			if (pos < acc) {
				p = (fd_demo_persona)q;
				break;
			}
		}
		t->leads[k].persona = (uint8_t)(persona_available(t, p) ? p : FD_DEMO_BROWSER);
	}
	/* ...then the slots are shuffled, so lead numbers say nothing */
	fd_demo_rng r = fd_demo_rng_for(t->seed, UINT64_C(0x5eed), 0);
	for (int k = n - 1; k > 0; k--) {
		int j = fd_demo_rng_below(&r, k + 1);
		uint8_t tmp = t->leads[k].persona;
		t->leads[k].persona = t->leads[j].persona;
		t->leads[j].persona = tmp;
	}
	int64_t first = INT64_MAX;
	for (int k = 0; k < n; k++) {
		demo_lead *l = &t->leads[k];
		l->rng = fd_demo_rng_for(t->seed, (uint64_t)k, 1);
		/* front-loaded arrivals: more leads early, so the funnel fills fast */
		l->arrive_ms = start_ms + (int64_t)(pow(fd_demo_rng_unit(&l->rng), 1.6) * (double)window_ms);
		l->visits_first = (uint8_t)(2 + fd_demo_rng_below(&l->rng, 3));
		l->page = (uint8_t)fd_demo_rng_below(&l->rng, (int)N_ELEMS(visit_pages));
		/* bots storm for a couple of days, everybody else stays around */
		double days = l->persona == FD_DEMO_BOT ? fd_demo_rng_range(&l->rng, 1.5, 2.5) : 60;
		l->stop_ms = l->arrive_ms + HOUR_MS(24 * days);
		if (l->arrive_ms < first)
			first = l->arrive_ms;
		t->stats.leads[l->persona]++;
	}
	for (int k = 0; k < n; k++) {
		demo_lead *l = &t->leads[k];
		l->arrive_ms -= first - start_ms; /* the first lead arrives at once */
		l->stop_ms -= first - start_ms;
		(void)fd_demo_agenda_add(&t->agenda, l->arrive_ms, k, TASK_ARRIVE, 0);
	}
}

fd_demo_traffic *fd_demo_traffic_new(const fd_config *cfg, const char *bootstrap, int leads,
                                     uint64_t seed, int64_t start_ms,
                                     int64_t arrival_window_ms, char *errstr,
                                     size_t errstr_size)
{
	fd_demo_traffic *t = calloc(1, sizeof *t);
	if (!t || leads <= 0 || !(t->leads = calloc((size_t)leads, sizeof *t->leads))) {
		snprintf(errstr, errstr_size, "traffic: out of memory");
		free(t);
		return NULL;
	}
	t->cfg = cfg;
	t->n_leads = leads;
	t->seed = seed;
	const fd_rules *ec = &cfg->rules;
	resolve_roles(t);
	t->student_rule = find_rule(ec, FD_FIELD_JOB_TITLE, "student", true, -1);
	t->competitor_rule = find_rule(ec, FD_FIELD_EMAIL_DOMAIN, "competitor", false, -1);
	t->personal_rule = find_rule(ec, FD_FIELD_EMAIL_DOMAIN, "personal", true, t->competitor_rule);
	t->booth_source = ec->n_fast_track_sources > 0 ? ec->fast_track_sources[0] : "event";
	t->stats.bot_type = t->role_type[R_BOT] >= 0 ? ec->event_types[t->role_type[R_BOT]].type
	                                             : NULL;
	populate(t, start_ms, arrival_window_ms);
	t->producer = fd_demo_kafka_producer(bootstrap, "funneld-demo-traffic", errstr, errstr_size);
	if (!t->producer) {
		fd_demo_traffic_free(t, 0);
		return NULL;
	}
	return t;
}

fd_demo_persona fd_demo_traffic_persona(const fd_demo_traffic *t, int lead)
{
	return lead >= 0 && lead < t->n_leads ? (fd_demo_persona)t->leads[lead].persona
	                                      : FD_DEMO_PERSONA_COUNT;
}

void fd_demo_traffic_stats_get(const fd_demo_traffic *t, fd_demo_traffic_stats *s)
{
	*s = t->stats;
}

void fd_demo_traffic_free(fd_demo_traffic *t, int timeout_ms)
{
	if (!t)
		return;
	fd_demo_kafka_producer_free(t->producer, timeout_ms);
	fd_demo_agenda_free(&t->agenda);
	free(t->leads);
	free(t);
}
