/*
 * fuzz_config.c — libFuzzer target for the config loader (src/config/):
 * libconfig text plus `-o path=value` overrides, through
 * fd_config_load_string() and fd_config_free().
 *
 * The input is the config text, then up to FUZZ_MAX_OVERRIDES override
 * strings, each after a 0 byte ("text\0scoring.half_life=14d\0slas.[0]
 * .warning=0.5"); parts past the last allowed override are ignored. When the
 * load fails, errstr must be a non-empty message and *cfg left empty. When
 * it succeeds, the config must be what config.h and rules.h promise: every
 * string setting NUL-terminated inside its buffer, every count within its
 * array, enums in range, durations positive where a zero makes no sense and
 * never negative, windows a multiple of the bucket and at most
 * FD_FREQ_BUCKETS buckets, grade thresholds strictly decreasing, SLA scopes
 * holding their stage, warning fractions in [0, 1), finite numbers, and
 * bootstrap.servers present. Then, since the engine never re-validates
 * its rules, a short fixed scenario runs through an engine built from them
 * (events of the configured types, a profile, sales activities, a year of
 * timers, an export that must encode): a config that loads must be one the
 * engine can run.
 *
 * Not fuzzed, on purpose: `@include` (libconfig would read files relative
 * to the working directory; inputs with one are skipped) and
 * librdkafka plugins (`plugin.library.paths` makes rd_kafka_conf_set
 * dlopen() the named files; inputs mentioning "plugin" are skipped).
 *
 * Build: cmake -DFUNNELD_FUZZ=ON -DFUNNELD_SANITIZE=ON -DCMAKE_C_COMPILER=clang
 *        -DFUNNELD_TESTS=OFF -DFUNNELD_BENCH=OFF; then e.g.
 *        mkdir run && LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp ./fuzz_config
 *        -max_total_time=60 -dict=tests/fuzz/config.dict run tests/fuzz/corpus/config
 * (lsan.supp: libconfig 1.5 leaks a string token on some syntax errors),
 * or scripts/fuzz.sh, which builds and runs every target. The seeds are
 * the shipped config/funneld.conf and small variants; a seed's overrides
 * follow its text after 0 bytes. FUNNELD_FUZZ_VERBOSE=1 prints what the
 * loader said about each input.
 * Not a unit test: tests/unit/test_config.c pins the behaviour.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "funneld/engine.h"
#include "funneld/wire.h"

#define FUZZ_NAME "fuzz_config"
#include "fuzz_check.h"

#define FUZZ_MAX_OVERRIDES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink; /* keeps the string reads from being optimised out */


/* A string setting: NUL-terminated inside its buffer. */
#define CHECK_STR(buf) CHECK(memchr((buf), '\0', sizeof(buf)) != NULL)

static void touch(const char *s)
{
	CHECK(s != NULL);
	sink += strlen(s);
}

static void check_match(const fd_match *m)
{
	CHECK((unsigned)m->field < FD_FIELD_COUNT);
	CHECK((unsigned)m->op < FD_MATCH_OP_COUNT);
	CHECK(m->n_values >= 0 && m->n_values <= FD_MAX_MATCH_VALUES);
	for (int i = 0; i < FD_MAX_MATCH_VALUES; i++)
		CHECK_STR(m->values[i]);
	bool numeric = m->field == FD_FIELD_EMPLOYEE_COUNT || m->field == FD_FIELD_ANNUAL_REVENUE;
	if (m->op == FD_MATCH_RANGE) {
		CHECK(numeric);
		CHECK(m->has_min || m->has_max);
		CHECK(!m->has_min || isfinite(m->min));
		CHECK(!m->has_max || isfinite(m->max));
		CHECK(!(m->has_min && m->has_max) || m->min < m->max);
	} else {
		CHECK(!numeric);
		CHECK(m->n_values >= 1);
	}
}

static void check_rules(const fd_rules *r)
{
	CHECK(r->half_life_ms > 0);
	CHECK(r->max_future_skew_ms >= 0);
	CHECK(r->n_event_types >= 0 && r->n_event_types <= FD_MAX_EVENT_TYPES);
	for (int i = 0; i < r->n_event_types; i++) {
		const fd_event_rule *e = &r->event_types[i];
		CHECK_STR(e->type);
		CHECK(e->type[0] != '\0');
		CHECK(isfinite(e->points) && isfinite(e->cap_points));
		CHECK((unsigned)e->intent < FD_INTENT_COUNT);
		CHECK(e->cap_points >= 0 && e->cap_window_ms >= 0);
		CHECK((e->cap_points > 0) == (e->cap_window_ms > 0));
		for (int j = 0; j < i; j++)
			CHECK(strcmp(r->event_types[j].type, e->type) != 0);
	}
	CHECK(r->bucket_ms > 0);
	CHECK(r->n_windows >= 1 && r->n_windows <= FD_MAX_WINDOWS);
	for (int i = 0; i < r->n_windows; i++) {
		CHECK(r->windows_ms[i] > 0);
		CHECK(r->windows_ms[i] % r->bucket_ms == 0);
		CHECK(r->windows_ms[i] / r->bucket_ms <= FD_FREQ_BUCKETS);
	}

	CHECK(r->n_fit_rules >= 0 && r->n_fit_rules <= FD_MAX_FIT_RULES);
	for (int i = 0; i < r->n_fit_rules; i++) {
		CHECK_STR(r->fit_rules[i].name);
		CHECK(isfinite(r->fit_rules[i].points));
		check_match(&r->fit_rules[i].match);
	}
	for (int i = 0; i < 3; i++)
		CHECK(isfinite(r->grade_min[i]));
	CHECK(r->grade_min[0] > r->grade_min[1] && r->grade_min[1] > r->grade_min[2]);
	CHECK(r->n_disqualifiers >= 0 && r->n_disqualifiers <= FD_MAX_DISQUALIFIERS);
	for (int i = 0; i < r->n_disqualifiers; i++) {
		CHECK_STR(r->disqualifiers[i].name);
		check_match(&r->disqualifiers[i].match);
	}

	for (int g = 0; g < FD_GRADE_COUNT; g++)
		CHECK(isfinite(r->mql_engagement[g]) && r->mql_engagement[g] >= 0);
	CHECK(r->n_fast_track_sources >= 0 && r->n_fast_track_sources <= FD_MAX_SOURCES);
	for (int i = 0; i < FD_MAX_SOURCES; i++)
		CHECK_STR(r->fast_track_sources[i]);
	CHECK(r->fast_track_min_grade >= 0 && r->fast_track_min_grade < FD_GRADE_COUNT);

	CHECK((r->reject_disqualifies >> FD_REASON_COUNT) == 0);
	CHECK(r->nurture_review_days > 0 && r->lost_review_days > 0);
	for (int i = 0; i < FD_REASON_COUNT; i++)
		CHECK(r->nurture_reason_days[i] >= 0);
	CHECK(r->review_stage == FD_STAGE_MQL || r->review_stage == FD_STAGE_LEAD);
	CHECK(r->remql_cooldown_ms >= 0);

	CHECK(r->n_slas >= 0 && r->n_slas <= FD_MAX_SLAS);
	for (int i = 0; i < r->n_slas; i++) {
		const fd_sla_def *s = &r->slas[i];
		CHECK_STR(s->name);
		CHECK((unsigned)s->stage < FD_STAGE_COUNT);
		CHECK(s->scope & (1u << s->stage));
		CHECK((s->scope >> FD_STAGE_COUNT) == 0);
		CHECK((s->start_on >> FD_ACT_COUNT) == 0 && (s->satisfied_by >> FD_ACT_COUNT) == 0);
		CHECK(s->duration_ms > 0);
		CHECK(s->warning_fraction >= 0 && s->warning_fraction < 1);
		CHECK(s->n_overrides >= 0 && s->n_overrides <= FD_MAX_SLA_OVERRIDES);
		for (int j = 0; j < s->n_overrides; j++) {
			CHECK_STR(s->overrides[j].source);
			CHECK(s->overrides[j].duration_ms > 0);
		}
		CHECK(!s->has_expiry_action || (unsigned)s->expiry_stage < FD_STAGE_COUNT);
	}
	CHECK(r->duplicate_ids >= 0 && r->duplicate_ids <= FD_SEEN_MAX);
	CHECK(r->recent_activities >= 1 && r->recent_activities <= FD_MAX_CONTEXT);
	CHECK(r->top_interests >= 1 && r->top_interests <= FD_MAX_CONTEXT);
}

static void check_settings(const fd_config *cfg)
{
	const fd_settings *s = &cfg->settings;
	CHECK_STR(cfg->path);
	CHECK(s->n_kafka_props >= 0);
	CHECK(s->n_kafka_props == 0 || s->kafka_props != NULL);
	for (int i = 0; i < s->n_kafka_props; i++) {
		touch(s->kafka_props[i].name);
		touch(s->kafka_props[i].value);
	}
	/* config.h: the loader adds bootstrap.servers when the file does not */
	CHECK(fd_config_kafka_prop(cfg, "bootstrap.servers") != NULL);
	CHECK_STR(s->group_id);
	CHECK_STR(s->topics.engagement);
	CHECK_STR(s->topics.profiles);
	CHECK_STR(s->topics.activities);
	CHECK_STR(s->topics.transitions);
	CHECK_STR(s->topics.sla);
	CHECK_STR(s->topics.scores);
	CHECK_STR(s->topics.dead_letters);
	CHECK_STR(s->topics.changelog);
	CHECK((unsigned)s->topics.engagement_encoding <= FD_ENCODING_JSON);
	CHECK((unsigned)s->topics.profiles_encoding <= FD_ENCODING_JSON);
	CHECK((unsigned)s->topics.activities_encoding <= FD_ENCODING_JSON);
	CHECK(s->guarantee == FD_AT_LEAST_ONCE || s->guarantee == FD_EXACTLY_ONCE);
	CHECK(s->commit_interval_ms > 0);
	CHECK(s->dead_letter_max_payload >= 0);
	CHECK_STR(s->ce_source);
	CHECK_STR(s->transactional_id);
	CHECK(s->lead_ttl_ms >= 0);
	CHECK(s->max_leads >= 0);
	CHECK_STR(s->admin_address);
	CHECK(s->admin_port >= 0 && s->admin_port <= 65535);
	CHECK(s->admin_max_connections >= 1);
	CHECK(s->admin_request_timeout_ms > 0);
	CHECK(s->log_level >= 0 && s->log_level <= 7);
}

/* ---- the engine must run whatever loads ----------------------------------- */

static void on_transition(void *ctx, const fd_transition *t)
{
	(void)ctx;
	touch(t->lead_id);
	touch(t->reason);
	touch(t->cause_id);
	CHECK(isfinite(t->score.engagement) && isfinite(t->score.fit));
}

static void on_sla(void *ctx, const fd_sla_event *e)
{
	(void)ctx;
	touch(e->sla);
	CHECK((unsigned)e->kind < FD_SLA_KIND_COUNT);
}

static void run_engine(const fd_rules *rules)
{
	static const fd_activity_kind kinds[] = {
		FD_ACT_ASSIGN, FD_ACT_TOUCH, FD_ACT_ACCEPT, FD_ACT_QUALIFY, FD_ACT_OPPORTUNITY,
		FD_ACT_LOST, FD_ACT_REJECT,
	};
	const int64_t t0 = INT64_C(1767225600000); /* 2026-01-01 */
	fd_sink out = { on_transition, on_sla, NULL, NULL, NULL };
	char err[256];
	fd_engine *e = fd_engine_new(rules, 4);
	CHECK(e != NULL);

	fd_profile p = {
		.lead_id = "l", .updated_at_ms = t0, .email = "ada@example.com",
		.job_title = "Head of Data", .seniority = "VP", .department = "", .industry = "Software",
		.country = "DE", .employee_count = 800, .annual_revenue = 50000000,
		.lead_source = "event", .owner_id = "",
	};
	(void)fd_engine_profile(e, &p, t0, &out, err, sizeof err);
	int64_t t = t0;
	for (int i = 0; i < rules->n_event_types && i < 6; i++) {
		t += FD_MS_HOUR;
		fd_engagement ev = {
			.event_id = "", .lead_id = "l", .account_id = "", .occurred_at_ms = t,
			.type = rules->event_types[i].type, .channel = "event", .content_id = "c",
			.url = "", .campaign = "",
		};
		(void)fd_engine_engagement(e, &ev, t, &out, err, sizeof err);
	}
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		t += FD_MS_HOUR;
		fd_activity a = {
			.activity_id = "", .lead_id = "l", .occurred_at_ms = t, .rep_id = "rep",
			.kind = kinds[i], .reason = FD_REASON_BAD_TIMING, .note = "",
		};
		(void)fd_engine_activity(e, &a, t, &out, err, sizeof err);
		(void)fd_engine_advance(e, t + 3 * FD_MS_DAY, &out);
	}
	(void)fd_engine_advance(e, t + 400 * FD_MS_DAY, &out);

	fd_lead_view v;
	CHECK(fd_engine_lead(e, "l", t + 400 * FD_MS_DAY, &v));
	CHECK(isfinite(v.score.engagement) && isfinite(v.score.fit));
	fd_lead_state st;
	CHECK(fd_engine_export(e, "l", &st));
	uint8_t *buf;
	size_t len;
	CHECK(fd_wire_encode_lead_state(&st, &buf, &len) == 0);
	free(buf);
	fd_engine_free(e);
}

/* ---- entry point ------------------------------------------------------------- */

static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	for (; *s; s++)
		if (strncasecmp(s, word, n) == 0)
			return true;
	return false;
}

/* An @include directive: libconfig's scanner takes one at the start of a
 * line, after blanks (case-insensitively here, to be safe). */
static bool has_include(const char *s)
{
	for (const char *line = s; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncasecmp(line, "@include", 8) == 0)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* the text, then each override after a 0 byte */
	const char *overrides[FUZZ_MAX_OVERRIDES];
	size_t n_overrides = 0;
	size_t len = strlen(text);
	bool skip = has_include(text) || has_word(text, "plugin");
	for (size_t at = len; at < size && n_overrides < FUZZ_MAX_OVERRIDES; ) {
		const char *o = text + at + 1;
		overrides[n_overrides++] = o;
		skip = skip || has_word(o, "plugin");
		at += 1 + strlen(o);
	}
	if (skip) {
		free(text);
		return 0;
	}

	fd_config cfg;
	char err[512];
	memset(err, 'x', sizeof err);
	int rc = fd_config_load_string(&cfg, "fuzz.conf", text, overrides, n_overrides, err,
	                               sizeof err);
	CHECK(memchr(err, '\0', sizeof err) != NULL);
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUNNELD_FUZZ_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz_config: %s (%zu overrides)\n", rc == 0 ? "loaded" : err,
		        n_overrides);
	if (rc == 0) {
		CHECK(err[0] == '\0');
		check_settings(&cfg);
		check_rules(&cfg.rules);
		run_engine(&cfg.rules);
	} else {
		CHECK(rc == -1);
		CHECK(err[0] != '\0');
		CHECK(cfg.settings.kafka_props == NULL && cfg.settings.n_kafka_props == 0);
	}
	fd_config_free(&cfg);
	free(text);
	return 0;
}
