/*
 * test_config.c — the config loader: the shipped config/funneld.conf, the
 * built-in defaults, every class of error with its exact "file:line: ..."
 * message, `-o path=value` overrides, and the `funneld check-config`
 * command run as a separate process.
 *
 * Inline configs go through fd_config_load_string() with the name "t.conf",
 * so messages read "t.conf:LINE: ...". Not tested here: what the engine or
 * the Kafka layer do with the settings.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/schema.h"
#include "config/config.h"

#define SHIPPED FUNNELD_SOURCE_DIR "/config/funneld.conf"
#define ST(x) (1u << FD_STAGE_##x)
#define ACT(x) (1u << FD_ACT_##x)
#define RS(x) (1u << FD_REASON_##x)

extern char **environ;

/* The least a configuration needs to load: one engagement event type, a
 * hand raise so that leads can qualify. */
#define EVENTS "events = ( { type = \"demo_request\"; points = 10.0; intent = \"hand_raise\"; } );"
#define USABLE "scoring = { " EVENTS " };\n"

static fd_config *cfg;
static char err[2048];

static void setup(void)
{
	cfg = calloc(1, sizeof *cfg);
	cr_assert_not_null(cfg);
	err[0] = '\0';
}

static void teardown(void)
{
	fd_config_free(cfg);
	free(cfg);
}

TestSuite(config, .init = setup, .fini = teardown);

static int load_o(const char *text, const char *const *o, size_t n)
{
	return fd_config_load_string(cfg, "t.conf", text, o, n, err, sizeof err);
}

static void expect_error(const char *text, const char *const *o, size_t n, const char *want)
{
	cr_assert_eq(load_o(text, o, n), -1, "loaded, expected: %s", want);
	cr_expect_str_eq(err, want);
	/* a failed load leaves nothing behind */
	cr_expect_eq(cfg->settings.n_kafka_props, 0);
	cr_expect_null(cfg->settings.kafka_props);
	cr_expect_eq(cfg->rules.n_slas, 0);
}

static void expect_ok(const char *text, const char *const *o, size_t n)
{
	cr_assert_eq(load_o(text, o, n), 0, "refused: %s", err);
}

/* 1-based line of the first line of `path` containing `needle`, or 0 */
static int line_of(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "r");
	cr_assert_not_null(fp);
	char line[1024];
	int n = 0, found = 0;
	while (fgets(line, sizeof line, fp) != NULL) {
		n++;
		if (strstr(line, needle) != NULL) {
			found = n;
			break;
		}
	}
	fclose(fp);
	return found;
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	cr_assert_not_null(fp);
	static char buf[1 << 17];
	size_t len = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	return strdup(buf);
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* ---- the shipped file ------------------------------------------------------- */

Test(config, shipped_config_loads)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	cr_expect_str_eq(cfg->path, SHIPPED);
	cr_expect_str_eq(err, "");
}

Test(config, shipped_config_has_the_seed_slas)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	const fd_rules *ec = &cfg->rules;
	cr_assert_eq(ec->n_slas, 4);

	const fd_sla_def *s = &ec->slas[fd_rules_sla(ec, "mql_first_touch")];
	cr_expect_eq(s->stage, FD_STAGE_MQL);
	cr_expect_eq(s->duration_ms, 48 * FD_MS_HOUR);
	cr_expect_eq(s->warning_fraction, 0.75);
	cr_expect_eq(s->scope, ST(MQL) | ST(SAL));
	cr_expect_eq(s->satisfied_by, ACT(TOUCH) | ACT(ACCEPT) | ACT(REJECT) | ACT(QUALIFY));
	cr_expect_eq(s->start_on, 0);
	cr_expect_not(s->satisfied_by_exit);
	cr_expect_not(s->has_expiry_action);
	cr_assert_eq(s->n_overrides, 1);
	cr_expect_str_eq(s->overrides[0].source, "event");
	cr_expect_eq(s->overrides[0].duration_ms, 4 * FD_MS_HOUR);

	s = &ec->slas[fd_rules_sla(ec, "mql_follow_up")];
	cr_expect_eq(s->stage, FD_STAGE_MQL);
	cr_expect_eq(s->start_on, ACT(TOUCH));
	cr_expect_eq(s->scope, ST(MQL) | ST(SAL) | ST(SQL));
	cr_expect_eq(s->satisfied_by, ACT(TOUCH));
	cr_expect_eq(s->duration_ms, 30 * FD_MS_DAY);
	cr_expect_eq(s->warning_fraction, 0.8);

	s = &ec->slas[fd_rules_sla(ec, "sal_decision")];
	cr_expect_eq(s->stage, FD_STAGE_SAL);
	cr_expect_eq(s->scope, ST(SAL));
	cr_expect(s->satisfied_by_exit);
	cr_expect_eq(s->satisfied_by, 0);
	cr_expect_eq(s->duration_ms, 2 * FD_MS_DAY);
	cr_expect_eq(s->warning_fraction, 0.5);
	cr_expect(s->has_expiry_action);
	cr_expect_eq(s->expiry_stage, FD_STAGE_MQL);

	s = &ec->slas[fd_rules_sla(ec, "mql_decision")];
	cr_expect_eq(s->stage, FD_STAGE_MQL);
	cr_expect_eq(s->scope, ST(MQL) | ST(SAL));
	cr_expect(s->satisfied_by_exit);
	cr_expect_eq(s->duration_ms, 90 * FD_MS_DAY);
	cr_expect_eq(s->warning_fraction, 0.8);
	cr_expect(s->has_expiry_action);
	cr_expect_eq(s->expiry_stage, FD_STAGE_NURTURE);
}

Test(config, shipped_config_lines_point_into_the_file)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	const fd_rules *ec = &cfg->rules;
	cr_expect_eq(ec->slas[0].line, line_of(SHIPPED, "{ name = \"mql_first_touch\";"));
	cr_expect_eq(ec->event_types[0].line, line_of(SHIPPED, "{ type = \"page_view\";"));
	cr_expect_eq(ec->fit_rules[0].line, line_of(SHIPPED, "{ name = \"vp_or_above\";"));
	cr_expect_eq(ec->disqualifiers[0].line, line_of(SHIPPED, "{ name = \"unserved_country\";"));
	cr_expect_gt(ec->slas[0].line, 0);
}

Test(config, shipped_config_event_types)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	const fd_rules *ec = &cfg->rules;
	static const char *const types[] = {
		"page_view", "email_open", "email_click", "content_download", "webinar_attended",
		"event_attended", "form_submit", "pricing_view", "demo_request", "contact_request",
		"unsubscribe", "careers_page_view",
	};
	cr_assert_eq(ec->n_event_types, 12);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		cr_expect_geq(fd_rules_event_type(ec, types[i]), 0, "%s missing", types[i]);

	const fd_event_rule *r = &ec->event_types[fd_rules_event_type(ec, "page_view")];
	cr_expect_eq(r->points, 1.0);
	cr_expect_eq(r->intent, FD_INTENT_LOW);
	cr_expect_eq(r->cap_points, 10.0);
	cr_expect_eq(r->cap_window_ms, FD_MS_DAY);
	r = &ec->event_types[fd_rules_event_type(ec, "demo_request")];
	cr_expect_eq(r->intent, FD_INTENT_HAND_RAISE);
	cr_expect_eq(r->cap_points, 0);
	r = &ec->event_types[fd_rules_event_type(ec, "contact_request")];
	cr_expect_eq(r->intent, FD_INTENT_HAND_RAISE);
	r = &ec->event_types[fd_rules_event_type(ec, "pricing_view")];
	cr_expect_eq(r->intent, FD_INTENT_HIGH);
	r = &ec->event_types[fd_rules_event_type(ec, "unsubscribe")];
	cr_expect_eq(r->points, -20.0);
	r = &ec->event_types[fd_rules_event_type(ec, "careers_page_view")];
	cr_expect_lt(r->points, 0);
}

Test(config, shipped_config_fit_rules_and_disqualifiers)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	const fd_rules *ec = &cfg->rules;
	cr_assert_eq(ec->n_fit_rules, 6);
	const fd_fit_rule *vp = &ec->fit_rules[0];
	cr_expect_str_eq(vp->name, "vp_or_above");
	cr_expect_eq(vp->match.field, FD_FIELD_SENIORITY);
	cr_expect_eq(vp->match.op, FD_MATCH_ONE_OF);
	cr_assert_eq(vp->match.n_values, 3);
	cr_expect_str_eq(vp->match.values[0], "VP");
	cr_expect_str_eq(vp->match.values[2], "Director");
	cr_expect_eq(vp->points, 20.0);
	const fd_fit_rule *ind = &ec->fit_rules[1];
	cr_expect_eq(ind->match.op, FD_MATCH_EQUALS);
	cr_expect_eq(ind->match.n_values, 1);
	cr_expect_str_eq(ind->match.values[0], "Software");
	const fd_fit_rule *size = &ec->fit_rules[2];
	cr_expect_eq(size->match.op, FD_MATCH_RANGE);
	cr_expect(size->match.has_min && size->match.has_max);
	cr_expect_eq(size->match.min, 200);
	cr_expect_eq(size->match.max, 5000);

	cr_assert_eq(ec->n_disqualifiers, 5);
	cr_expect_str_eq(ec->disqualifiers[0].name, "unserved_country");
	cr_expect(ec->disqualifiers[0].match.negate);
	cr_expect_str_eq(ec->disqualifiers[1].name, "personal_email");
	cr_expect_eq(ec->disqualifiers[1].match.field, FD_FIELD_EMAIL_DOMAIN);
	cr_expect_not(ec->disqualifiers[1].match.negate);
	const fd_disqualifier *rev = &ec->disqualifiers[4];
	cr_expect_str_eq(rev->name, "revenue_below_floor");
	cr_expect_eq(rev->match.op, FD_MATCH_RANGE);
	cr_expect_not(rev->match.has_min);
	cr_expect(rev->match.has_max);
	cr_expect_eq(rev->match.max, 1000000.0);
	cr_expect_eq(ec->grade_min[0], 60.0);
	cr_expect_eq(ec->grade_min[1], 40.0);
	cr_expect_eq(ec->grade_min[2], 20.0);
}

Test(config, shipped_config_kafka_properties)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	cr_expect_eq(cfg->settings.n_kafka_props, 1);
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "bootstrap.servers"), "localhost:9092");
	cr_expect_str_eq(cfg->settings.group_id, "funneld");
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "group.id"), "funneld");
	cr_expect_null(fd_config_kafka_prop(cfg, "security.protocol"));
}

/* The table's storage of `row` in a and b holds the same value. */
static bool same_setting(const fd_config_def *row, const void *a, const void *b)
{
	const char *x = (const char *)a + row->offset;
	const char *y = (const char *)b + row->offset;
	switch (row->type) {
	case FD_CFG_INT: return memcmp(x, y, sizeof(int)) == 0;
	case FD_CFG_INT64:
	case FD_CFG_DURATION: return memcmp(x, y, sizeof(int64_t)) == 0;
	case FD_CFG_FLOAT: return memcmp(x, y, sizeof(double)) == 0;
	case FD_CFG_BOOL: return memcmp(x, y, sizeof(bool)) == 0;
	case FD_CFG_ENUM: return memcmp(x, y, row->size) == 0;
	case FD_CFG_ENUM_SET: return memcmp(x, y, sizeof(uint32_t)) == 0;
	case FD_CFG_STRING: return strcmp(x, y) == 0;
	case FD_CFG_KAFKA_PROP: return row->size == 0 || strcmp(x, y) == 0;
	case FD_CFG_STRING_ARRAY:
	case FD_CFG_DURATION_ARRAY:
		return memcmp((const char *)a + row->aux, (const char *)b + row->aux, sizeof(int)) == 0 &&
		       memcmp(x, y, (size_t)row->cap * (row->type == FD_CFG_STRING_ARRAY ? row->size : 8)) == 0;
	default: return true; /* lists and groups: the example rules */
	}
}

Test(config, shipped_config_settings_equal_the_builtin_defaults)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	fd_config *defaults = calloc(1, sizeof *defaults);
	fd_config_defaults(defaults);
	for (size_t i = 0; i < fd_config_table_size; i++)
		cr_expect(same_setting(&fd_config_table[i], cfg, defaults), "%s differs from its default",
		          fd_config_table[i].path);
	/* the matrix is a group with its own rows */
	for (int g = 0; g < FD_GRADE_COUNT; g++) {
		cr_expect_eq(cfg->rules.mql_enabled_for_grade[g], defaults->rules.mql_enabled_for_grade[g]);
		cr_expect_eq(cfg->rules.mql_engagement[g], defaults->rules.mql_engagement[g]);
	}
	fd_config_free(defaults);
	free(defaults);
}

Test(config, shipped_config_writes_out_every_setting_of_the_table)
{
	config_t lc;
	config_init(&lc);
	cr_assert_eq(config_read_file(&lc, SHIPPED), CONFIG_TRUE);
	for (size_t i = 0; i < fd_config_table_size; i++) {
		const char *path = fd_config_table[i].path;
		/* per-reason review days: only the non-zero ones are written out */
		if (strncmp(path, "lifecycle.nurture.reason_days.", 30) == 0 &&
		    strcmp(fd_config_table[i].def, "0") == 0)
			continue;
		cr_expect_not_null(config_lookup(&lc, path), "%s is not in the shipped file", path);
	}
	config_destroy(&lc);
}

static void expect_documented(const fd_config_def *rows, size_t n, const char *parent)
{
	for (size_t i = 0; i < n; i++) {
		cr_expect(rows[i].doc != NULL && rows[i].doc[0] != '\0', "%s%s has no description", parent,
		          rows[i].path);
		if (rows[i].sub != NULL)
			expect_documented(rows[i].sub, rows[i].n_sub, rows[i].path);
	}
}

Test(config, every_setting_in_the_table_is_described)
{
	expect_documented(fd_config_table, fd_config_table_size, "");
}

/* ---- defaults ----------------------------------------------------------------- */

Test(config, defaults_are_the_documented_values)
{
	fd_config_defaults(cfg);
	const fd_rules *ec = &cfg->rules;
	cr_expect_eq(ec->half_life_ms, 30 * FD_MS_DAY);
	cr_expect_eq(ec->max_future_skew_ms, 5 * FD_MS_MINUTE);
	cr_expect_not(ec->unknown_types_score_zero);
	cr_expect_eq(ec->n_event_types, 0);
	cr_expect_eq(ec->bucket_ms, FD_MS_DAY);
	cr_assert_eq(ec->n_windows, 2);
	cr_expect_eq(ec->windows_ms[0], 7 * FD_MS_DAY);
	cr_expect_eq(ec->windows_ms[1], 30 * FD_MS_DAY);
	cr_expect_eq(ec->grade_min[0], 60.0);
	cr_expect_eq(ec->grade_min[1], 40.0);
	cr_expect_eq(ec->grade_min[2], 20.0);
	cr_expect(ec->mql_enabled_for_grade[FD_GRADE_A]);
	cr_expect(ec->mql_enabled_for_grade[FD_GRADE_B]);
	cr_expect(ec->mql_enabled_for_grade[FD_GRADE_C]);
	cr_expect_not(ec->mql_enabled_for_grade[FD_GRADE_D]);
	cr_expect_eq(ec->mql_engagement[FD_GRADE_A], 40.0);
	cr_expect_eq(ec->mql_engagement[FD_GRADE_B], 60.0);
	cr_expect_eq(ec->mql_engagement[FD_GRADE_C], 90.0);
	cr_expect(ec->hand_raise_mql);
	cr_assert_eq(ec->n_fast_track_sources, 1);
	cr_expect_str_eq(ec->fast_track_sources[0], "event");
	cr_expect_eq(ec->fast_track_min_grade, FD_GRADE_C);
	cr_expect_eq(ec->reject_disqualifies, RS(BAD_FIT) | RS(DUPLICATE) | RS(COMPETITOR));
	cr_expect_eq(ec->nurture_review_days, 90);
	cr_expect_eq(ec->nurture_reason_days[FD_REASON_BAD_TIMING], 90);
	cr_expect_eq(ec->nurture_reason_days[FD_REASON_NO_BUDGET], 180);
	cr_expect_eq(ec->nurture_reason_days[FD_REASON_OTHER], 0);
	cr_expect_eq(ec->lost_review_days, 180);
	cr_expect_eq(ec->review_stage, FD_STAGE_MQL);
	cr_expect_eq(ec->remql_cooldown_ms, 14 * FD_MS_DAY);
	cr_expect_eq(ec->n_slas, 0);
	cr_expect_eq(ec->recent_activities, 10);
	cr_expect_eq(ec->top_interests, 5);

	cr_expect_str_eq(cfg->settings.group_id, "funneld");
	cr_expect_str_eq(cfg->settings.topics.engagement, "funneld.engagement");
	cr_expect_str_eq(cfg->settings.topics.profiles, "funneld.profiles");
	cr_expect_str_eq(cfg->settings.topics.activities, "funneld.activities");
	cr_expect_eq(cfg->settings.topics.engagement_encoding, FD_ENCODING_PROTOBUF);
	cr_expect_str_eq(cfg->settings.topics.transitions, "funneld.transitions");
	cr_expect_str_eq(cfg->settings.topics.sla, "funneld.sla");
	cr_expect_str_eq(cfg->settings.topics.scores, "funneld.scores");
	cr_expect_str_eq(cfg->settings.topics.dead_letters, "funneld.dead-letters");
	cr_expect_str_eq(cfg->settings.topics.changelog, "funneld.changelog");
	cr_expect_eq(cfg->settings.guarantee, FD_AT_LEAST_ONCE);
	cr_expect_eq(cfg->settings.commit_interval_ms, FD_MS_SECOND);
	cr_expect_str_eq(cfg->settings.ce_source, "funneld");
	cr_expect_eq(cfg->settings.lead_ttl_ms, 180 * FD_MS_DAY);
	cr_expect_eq(cfg->settings.max_leads, 5000000);
	cr_expect_str_eq(cfg->settings.admin_address, "127.0.0.1");
	cr_expect_eq(cfg->settings.admin_port, 8080);
	cr_expect_eq(cfg->settings.log_level, 6);
	cr_expect_eq(cfg->settings.lag_interval_ms, 5 * FD_MS_SECOND);
	cr_expect(cfg->settings.log_redact_ids);
	cr_expect_str_eq(cfg->settings.log_redact_key, "");
}

Test(config, defaults_allocate_nothing)
{
	fd_config_defaults(cfg);
	cr_expect_eq(cfg->settings.n_kafka_props, 0);
	cr_expect_null(cfg->settings.kafka_props);
}

Test(config, minimal_file_loads_as_the_defaults_plus_its_event_and_bootstrap_servers)
{
	expect_ok(USABLE, NULL, 0);
	fd_config *defaults = calloc(1, sizeof *defaults);
	fd_config_defaults(defaults);
	cr_assert_eq(cfg->rules.n_event_types, 1);
	defaults->rules.n_event_types = 1;
	defaults->rules.event_types[0] = cfg->rules.event_types[0];
	cr_expect_eq(memcmp(&cfg->rules, &defaults->rules, sizeof cfg->rules), 0);
	cr_expect_eq(memcmp(&cfg->settings.topics, &defaults->settings.topics, sizeof cfg->settings.topics), 0);
	cr_expect_eq(cfg->settings.n_kafka_props, 1);
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "bootstrap.servers"), "localhost:9092");
	free(defaults);
}

/* ---- errors --------------------------------------------------------------------- */

Test(config, parse_error_names_file_and_line)
{
	expect_error("log = { level = \"info\"; };\n"
	             "admin = { port = ; };\n",
	             NULL, 0, "t.conf:2: syntax error");
}

/* libconfig says "duplicate setting name" and no more: the message names
 * the setting and where it was first set. */
Test(config, duplicate_setting_names_the_setting_and_its_first_line)
{
	expect_error("admin = {\n  port = 1;\n  port = 2;\n};\n", NULL, 0,
	             "t.conf:3: duplicate setting 'admin.port' (first at line 2)");
	expect_error("log = { level = \"info\"; };\n\nlog = { level = 7; };\n", NULL, 0,
	             "t.conf:3: duplicate setting 'log' (first at line 1)");
	expect_error("slas = (\n"
	             "  { name = \"a\"; stage = \"MQL\"; },\n"
	             "  { name = \"b\"; stage = \"MQL\";\n"
	             "    duration = \"1h\"; /* a } in a comment */ duration = \"2h\"; }\n"
	             ");\n",
	             NULL, 0, "t.conf:4: duplicate setting 'slas.[1].duration' (first at line 4)");
}

Test(config, duplicate_setting_in_an_included_file_names_file_and_setting)
{
	char dir[] = "/tmp/funneld-config-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char main_path[128], part_path[128];
	snprintf(main_path, sizeof main_path, "%s/main.conf", dir);
	snprintf(part_path, sizeof part_path, "%s/part.conf", dir);
	write_text(part_path, "port = 9000;\n");
	write_text(main_path, "admin = {\n  port = 8000;\n@include \"part.conf\"\n};\n");
	cr_expect_eq(fd_config_load(cfg, main_path, NULL, 0, err, sizeof err), -1);
	char want[300];
	snprintf(want, sizeof want, "%s/part.conf:1: duplicate setting 'admin.port' (first at %s:2)",
	         dir, main_path);
	cr_expect_str_eq(err, want);
	unlink(part_path);
	unlink(main_path);
	rmdir(dir);
}

/* A '}' too many closes the group it is in; what follows still parses at
 * the level above, and libconfig fails only at that group's own '}'. The
 * message points at the extra one, told by the indentation. */
static void expect_stray_brace(const char *brace, const char *before, const char *group,
                               const char *why)
{
	char *text = read_text(SHIPPED);
	char *at = strstr(text, before);
	cr_assert_not_null(at, "%s is not in the shipped file", before);
	int line = 1;
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	size_t len = strlen(text), add = strlen(brace);
	char *broken = malloc(len + add + 1);
	cr_assert_not_null(broken);
	memcpy(broken, text, (size_t)(at - text));
	memcpy(broken + (at - text), brace, add);
	memcpy(broken + (at - text) + add, at, len - (size_t)(at - text) + 1);

	cr_assert_eq(load_o(broken, NULL, 0), -1);
	char want[128];
	snprintf(want, sizeof want, "t.conf:%d: unbalanced '}': it closes '%s' (opened at line ", line,
	         group);
	cr_expect_eq(strncmp(err, want, strlen(want)), 0, "want %s..., got %s", want, err);
	cr_expect_not_null(strstr(err, why), "%s", err);
	cr_expect_not_null(strstr(err, "(libconfig stops later, at line "), "%s", err);
	free(broken);
	free(text);
}

Test(config, stray_closing_brace_is_reported_where_it_is)
{
	expect_stray_brace("}\n", "  # Hard cap on leads", "state",
	                   "though the lines after it are indented as its members");
	expect_stray_brace("  }\n", "  # Hard cap on leads", "state",
	                   "and is not indented like the line that opened it");
	expect_stray_brace("    }\n", "  # Connections open at once", "admin",
	                   "and is not indented like the line that opened it");
	expect_stray_brace("}\n", "  # Points halve every half_life", "scoring",
	                   "though the lines after it are indented as its members");
}

Test(config, stray_closing_brace_at_a_group_end_names_both_candidates)
{
	expect_error("log = {\n  level = \"info\";\n}\n};\nadmin = { port = 1; };\n", NULL, 0,
	             "t.conf:4: syntax error: this '}' closes nothing; 'log' (opened at line 1) was "
	             "already closed at line 3, so one of the two is extra");
	expect_error("}\n", NULL, 0, "t.conf:1: syntax error: this '}' closes nothing");
}

/* libconfig 1.5 keeps the low 32 bits of an integer written without L. */
Test(config, integer_that_libconfig_would_truncate_is_refused_with_name_and_line)
{
	expect_error("state = {\n  max_leads = 5000000000;\n};\n", NULL, 0,
	             "t.conf:2: state.max_leads: 5000000000 does not fit in a 32-bit integer, "
	             "libconfig reads it as 705032704 (a 64-bit integer needs the L suffix: "
	             "5000000000L)");
	fd_config_free(cfg);
	expect_error("state = {\n  max_leads = 5000000000L;\n};\n", NULL, 0,
	             "t.conf:2: state.max_leads: 5000000000 is out of range [0, 2000000000]");
	fd_config_free(cfg);
	expect_error("admin = { port = -4294967216; };\n", NULL, 0,
	             "t.conf:1: admin.port: -4294967216 does not fit in a 32-bit integer, libconfig "
	             "reads it as 80 (a 64-bit integer needs the L suffix: -4294967216L)");
	fd_config_free(cfg);
	expect_error("admin = { port = 0x100001F90; };\n", NULL, 0,
	             "t.conf:1: admin.port: 0x100001F90 does not fit in a 32-bit integer, libconfig "
	             "reads it as 8080 (a 64-bit integer needs the L suffix: 0x100001F90L)");
	fd_config_free(cfg);
	expect_error("state = { ttl_scan = 99999999999999999999L; };\n", NULL, 0,
	             "t.conf:1: state.ttl_scan: 99999999999999999999L does not fit in a 64-bit integer");
	fd_config_free(cfg);
	/* a float setting written as an integer, in a list element */
	expect_error("fit = { rules = (\n"
	             "  { name = \"us\"; field = \"country\"; equals = \"US\";\n"
	             "    points = 4294967306; }\n"
	             "); };\n",
	             NULL, 0,
	             "t.conf:3: fit.rules.[0].points: 4294967306 does not fit in a 32-bit integer, "
	             "libconfig reads it as 10 (a 64-bit integer needs the L suffix: 4294967306L)");
	fd_config_free(cfg);
	/* a Kafka property: librdkafka would have been given the wrong number */
	expect_error("kafka = { linger = { ms = 4294967306; }; };\n", NULL, 0,
	             "t.conf:1: kafka.linger.ms: 4294967306 does not fit in a 32-bit integer, libconfig "
	             "reads it as 10 (a 64-bit integer needs the L suffix: 4294967306L)");
	fd_config_free(cfg);
	/* what fits is what it says */
	const char *o[] = { "state.max_leads=4294967306" };
	expect_error("state = { ttl_scan = 2000000000; max_leads = 2147483647; };\n", o, 1,
	             "-o state.max_leads=4294967306: state.max_leads: 4294967306 is out of range "
	             "[0, 2000000000]");
}

Test(config, integer_truncated_in_an_included_file_is_refused_there)
{
	char dir[] = "/tmp/funneld-config-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char main_path[128], part_path[128];
	snprintf(main_path, sizeof main_path, "%s/main.conf", dir);
	snprintf(part_path, sizeof part_path, "%s/part.conf", dir);
	write_text(part_path, "\nmax_leads = 5000000000;\n");
	write_text(main_path, "state = {\n@include \"part.conf\"\n};\n");
	cr_expect_eq(fd_config_load(cfg, main_path, NULL, 0, err, sizeof err), -1);
	char want[300];
	snprintf(want, sizeof want,
	         "%s/part.conf:2: state.max_leads: 5000000000 does not fit in a 32-bit integer, "
	         "libconfig reads it as 705032704 (a 64-bit integer needs the L suffix: 5000000000L)",
	         dir);
	cr_expect_str_eq(err, want);
	unlink(part_path);
	unlink(main_path);
	rmdir(dir);
}

Test(config, unknown_top_level_setting)
{
	expect_error("log = { level = \"info\"; };\n\nscorin = { };\n", NULL, 0,
	             "t.conf:3: unknown setting 'scorin'");
}

Test(config, unknown_nested_setting)
{
	expect_error("scoring = {\n  half_life = \"30d\";\n  half_lfe = \"30d\";\n};\n", NULL, 0,
	             "t.conf:3: unknown setting 'scoring.half_lfe'");
}

Test(config, unknown_setting_in_a_list_element)
{
	expect_error("scoring = { events = (\n"
	             "  { type = \"a\"; points = 1.0; },\n"
	             "  { type = \"b\";\n"
	             "    pointz = 1.0; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:4: unknown setting 'scoring.events.[1].pointz'");
}

Test(config, unknown_setting_in_a_nested_group_of_a_list_element)
{
	expect_error("scoring = { events = (\n"
	             "  { type = \"a\"; points = 1.0; cap = { points = 1.0; windw = \"1d\"; }; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:2: unknown setting 'scoring.events.[0].cap.windw'");
}

Test(config, wrong_type_integer_for_string)
{
	expect_error("topics = {\n  engagement = 5;\n};\n", NULL, 0,
	             "t.conf:2: topics.engagement: expected a string, got an integer");
}

Test(config, wrong_type_duration_must_be_a_string)
{
	expect_error("scoring = { half_life = 30; };\n", NULL, 0,
	             "t.conf:1: scoring.half_life: expected a duration string such as \"48h\", got an integer");
}

Test(config, wrong_type_float_for_integer)
{
	expect_error("admin = { port = 80.5; };\n", NULL, 0,
	             "t.conf:1: admin.port: expected an integer, got a float");
}

Test(config, wrong_type_scalar_where_a_group_is_expected)
{
	expect_error("\nscoring = 5;\n", NULL, 0, "t.conf:2: scoring: expected a group { ... }, got an integer");
}

Test(config, wrong_type_array_element)
{
	expect_error("frequency = { windows = [ 7, 30 ]; };\n", NULL, 0,
	             "t.conf:1: frequency.windows: expected an array of durations such as [\"7d\", \"30d\"], "
	             "got an integer in it");
}

Test(config, integer_out_of_range)
{
	expect_error("admin = {\n  port = 70000;\n};\n", NULL, 0,
	             "t.conf:2: admin.port: 70000 is out of range [0, 65535]");
}

Test(config, duration_out_of_range)
{
	expect_error("scoring = { half_life = \"500ms\"; };\n", NULL, 0,
	             "t.conf:1: scoring.half_life: 500ms is out of range [1s, 3650d]");
}

Test(config, context_out_of_range)
{
	expect_error("context = { recent_activities = 33; };\n", NULL, 0,
	             "t.conf:1: context.recent_activities: 33 is out of range [1, 32]");
}

Test(config, bad_duration_text)
{
	expect_error("state = { lead_ttl = \"6 months\"; };\n", NULL, 0,
	             "t.conf:1: state.lead_ttl: bad duration \"6 months\" (use a count and a unit: ms, s, m, "
	             "h, d or w, e.g. \"48h\")");
}

Test(config, unknown_enum_value)
{
	expect_error("topics = { engagement_encoding = \"xml\"; };\n", NULL, 0,
	             "t.conf:1: topics.engagement_encoding: unknown encoding \"xml\" (expected protobuf, "
	             "confluent-protobuf or json)");
}

Test(config, enum_names_are_case_insensitive)
{
	expect_ok(USABLE "processing = { guarantee = \"EXACTLY_ONCE\"; };\n"
	          "lifecycle = { nurture = { on_review = \"lead\"; }; };\n",
	          NULL, 0);
	cr_expect_eq(cfg->settings.guarantee, FD_EXACTLY_ONCE);
	cr_expect_eq(cfg->rules.review_stage, FD_STAGE_LEAD);
}

Test(config, log_level_by_name_or_number)
{
	expect_ok(USABLE "log = { level = \"warning\"; };\n", NULL, 0);
	cr_expect_eq(cfg->settings.log_level, 4);
	fd_config_free(cfg);
	expect_ok(USABLE "log = { level = 7; };\n", NULL, 0);
	cr_expect_eq(cfg->settings.log_level, 7);
	fd_config_free(cfg);
	expect_error("log = { level = 8; };\n", NULL, 0, "t.conf:1: log.level: 8 is out of range [0, 7]");
}

Test(config, invalid_topic_name)
{
	expect_error("topics = { scores = \"funneld scores\"; };\n", NULL, 0,
	             "t.conf:1: topics.scores: \"funneld scores\" is not a valid Kafka topic name (letters, "
	             "digits, '.', '_' and '-')");
}

Test(config, topics_must_be_distinct)
{
	expect_error("topics = {\n  transitions = \"out\";\n  sla = \"out\";\n};\n", NULL, 0,
	             "t.conf:3: topics.sla: topic \"out\" is already used by topics.transitions");
}

Test(config, too_many_windows)
{
	expect_error("frequency = { windows = [ \"1d\", \"2d\", \"3d\", \"4d\", \"5d\" ]; };\n", NULL, 0,
	             "t.conf:1: frequency.windows: 5 values, at most 4 are allowed");
}

Test(config, window_not_a_multiple_of_the_bucket)
{
	expect_error("frequency = {\n  bucket = \"2d\";\n  windows = [ \"7d\" ];\n};\n", NULL, 0,
	             "t.conf:3: frequency.windows: 7d is not a multiple of frequency.bucket (2d)");
}

Test(config, window_needing_too_many_buckets)
{
	expect_error("frequency = {\n  windows = [ \"7d\", \"60d\" ];\n};\n", NULL, 0,
	             "t.conf:2: frequency.windows: 60d needs 60 buckets of 1d, at most 32 are kept");
}

Test(config, default_windows_checked_against_a_changed_bucket)
{
	expect_error("frequency = {\n  bucket = \"5d\";\n};\n", NULL, 0,
	             "t.conf:2: frequency.windows: 7d is not a multiple of frequency.bucket (5d)");
}

Test(config, grades_must_strictly_decrease)
{
	expect_error("fit = { grades = {\n  A = 60.0;\n  B = 60.0;\n}; };\n", NULL, 0,
	             "t.conf:3: fit.grades: B (60) must be below A (60); thresholds are strictly decreasing");
}

Test(config, duplicate_event_types)
{
	expect_error("scoring = { events = (\n"
	             "  { type = \"page_view\"; points = 1.0; },\n"
	             "  { type = \"email_open\"; points = 1.0; },\n"
	             "  { type = \"page_view\"; points = 2.0; }\n"
	             "); };\n",
	             NULL, 0,
	             "t.conf:4: scoring.events.[2].type: duplicate event type 'page_view' (first at t.conf:2)");
}

Test(config, event_missing_points)
{
	expect_error("scoring = { events = (\n  { type = \"page_view\"; }\n); };\n", NULL, 0,
	             "t.conf:2: scoring.events.[0]: missing setting 'points'");
}

Test(config, event_cap_needs_a_window)
{
	expect_error("scoring = { events = (\n"
	             "  { type = \"page_view\"; points = 1.0;\n"
	             "    cap = { points = 5.0; }; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:3: scoring.events.[0].cap: needs a window");
}

Test(config, list_element_must_be_a_group)
{
	expect_error("scoring = { events = ( \"page_view\" ); };\n", NULL, 0,
	             "t.conf:1: scoring.events.[0]: expected a group { ... }, got a string");
}

Test(config, duplicate_fit_rule_names)
{
	expect_error("fit = { rules = (\n"
	             "  { name = \"senior\"; field = \"seniority\"; equals = \"VP\"; points = 10.0; },\n"
	             "  { name = \"senior\"; field = \"seniority\"; equals = \"CEO\"; points = 20.0; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:3: fit.rules.[1].name: duplicate fit rule name 'senior' (first at t.conf:2)");
}

Test(config, duplicate_disqualifier_names)
{
	expect_error("fit = { disqualifiers = (\n"
	             "  { name = \"student\"; field = \"job_title\"; contains = [ \"student\" ]; },\n"
	             "  { name = \"student\"; field = \"job_title\"; contains = [ \"intern\" ]; }\n"
	             "); };\n",
	             NULL, 0,
	             "t.conf:3: fit.disqualifiers.[1].name: duplicate disqualifier name 'student' (first at t.conf:2)");
}

Test(config, fit_rule_with_two_tests)
{
	expect_error("fit = { rules = (\n"
	             "  { name = \"x\"; field = \"industry\"; equals = \"Software\";\n"
	             "    one_of = [ \"SaaS\" ]; points = 1.0; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:3: fit.rules.[0]: 'equals' and 'one_of' cannot be combined; use one test per rule");
}

Test(config, fit_rule_without_a_test)
{
	expect_error("fit = { rules = (\n  { name = \"x\"; field = \"industry\"; points = 1.0; }\n); };\n", NULL,
	             0, "t.conf:2: fit.rules.[0]: needs one of equals, one_of, prefix, contains or range");
}

Test(config, range_needs_a_numeric_field)
{
	expect_error("fit = { rules = (\n"
	             "  { name = \"x\"; field = \"industry\"; points = 1.0;\n"
	             "    range = { min = 1; }; }\n"
	             "); };\n",
	             NULL, 0,
	             "t.conf:3: fit.rules.[0].range: field industry is not numeric (range works on "
	             "employee_count and annual_revenue)");
}

Test(config, text_tests_refuse_numeric_fields)
{
	expect_error("fit = { disqualifiers = (\n"
	             "  { name = \"x\"; field = \"employee_count\"; equals = \"10\"; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:2: fit.disqualifiers.[0].equals: field employee_count is numeric; use range");
}

Test(config, range_min_must_be_below_max)
{
	expect_error("fit = { rules = (\n"
	             "  { name = \"x\"; field = \"employee_count\"; points = 1.0;\n"
	             "    range = { min = 500; max = 200; }; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:3: fit.rules.[0].range: min (500) must be below max (200)");
}

Test(config, range_needs_a_bound)
{
	expect_error("fit = { rules = (\n"
	             "  { name = \"x\"; field = \"annual_revenue\"; points = 1.0; range = { }; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:2: fit.rules.[0].range: needs min, max or both");
}

Test(config, unknown_profile_field)
{
	expect_error("fit = { rules = (\n"
	             "  { name = \"x\"; field = \"shoe_size\"; equals = \"42\"; points = 1.0; }\n"
	             "); };\n",
	             NULL, 0,
	             "t.conf:2: fit.rules.[0].field: unknown field \"shoe_size\" (expected email, email_domain, "
	             "job_title, seniority, department, industry, country, employee_count, annual_revenue, "
	             "technologies or lead_source)");
}

Test(config, empty_match_list)
{
	expect_error("fit = { rules = (\n"
	             "  { name = \"x\"; field = \"industry\"; one_of = [ ]; points = 1.0; }\n"
	             "); };\n",
	             NULL, 0, "t.conf:2: fit.rules.[0].one_of: must not be empty");
}

Test(config, duplicate_sla_names)
{
	expect_error("slas = (\n"
	             "  { name = \"touch\"; stage = \"MQL\"; satisfied_by = [ \"TOUCH\" ]; duration = \"48h\"; },\n"
	             "  { name = \"touch\"; stage = \"SAL\"; satisfied_by = [ \"TOUCH\" ]; duration = \"48h\"; }\n"
	             ");\n",
	             NULL, 0, "t.conf:3: slas.[1].name: duplicate SLA name 'touch' (first at t.conf:2)");
}

Test(config, sla_with_unknown_stage)
{
	expect_error("slas = (\n"
	             "  { name = \"touch\";\n"
	             "    stage = \"MQX\";\n"
	             "    satisfied_by = [ \"TOUCH\" ];\n"
	             "    duration = \"48h\"; }\n"
	             ");\n",
	             NULL, 0,
	             "t.conf:3: slas.[0].stage: unknown stage \"MQX\" (expected LEAD, MQL, SAL, SQL, "
	             "OPPORTUNITY, CUSTOMER, NURTURE or DISQUALIFIED)");
}

Test(config, sla_with_unknown_scope_stage)
{
	expect_error("slas = (\n"
	             "  { name = \"touch\"; stage = \"MQL\"; scope = [ \"MQL\", \"LOST\" ];\n"
	             "    satisfied_by = [ \"TOUCH\" ]; duration = \"48h\"; }\n"
	             ");\n",
	             NULL, 0,
	             "t.conf:2: slas.[0].scope: unknown stage \"LOST\" (expected LEAD, MQL, SAL, SQL, "
	             "OPPORTUNITY, CUSTOMER, NURTURE or DISQUALIFIED)");
}

Test(config, sla_with_unknown_activity_kind)
{
	expect_error("slas = (\n"
	             "  { name = \"touch\"; stage = \"MQL\";\n"
	             "    satisfied_by = [ \"TOUCH\", \"CALL\" ];\n"
	             "    duration = \"48h\"; }\n"
	             ");\n",
	             NULL, 0,
	             "t.conf:3: slas.[0].satisfied_by: unknown activity kind \"CALL\" (expected ASSIGN, TOUCH, "
	             "ACCEPT, REJECT, REVERT, QUALIFY, OPPORTUNITY, WON or LOST)");
}

Test(config, sla_with_unknown_expiry_stage)
{
	expect_error("slas = (\n"
	             "  { name = \"decide\"; stage = \"SAL\"; satisfied_by_exit = true; duration = \"2d\";\n"
	             "    on_expiry = \"LIMBO\"; }\n"
	             ");\n",
	             NULL, 0,
	             "t.conf:3: slas.[0].on_expiry: unknown stage \"LIMBO\" (expected LEAD, MQL, SAL, SQL, "
	             "OPPORTUNITY, CUSTOMER, NURTURE or DISQUALIFIED)");
}

Test(config, sla_scope_must_include_its_stage)
{
	expect_error("slas = (\n"
	             "  { name = \"touch\"; stage = \"MQL\";\n"
	             "    scope = [ \"SAL\" ];\n"
	             "    satisfied_by = [ \"TOUCH\" ]; duration = \"48h\"; }\n"
	             ");\n",
	             NULL, 0, "t.conf:3: slas.[0].scope: must include the SLA's stage MQL");
}

Test(config, sla_that_can_never_be_met)
{
	expect_error("slas = (\n  { name = \"x\"; stage = \"MQL\"; duration = \"48h\"; }\n);\n", NULL, 0,
	             "t.conf:2: slas.[0]: can never be met; set satisfied_by, satisfied_by_exit or both");
}

Test(config, sla_warning_must_be_below_one)
{
	expect_error("slas = (\n"
	             "  { name = \"x\"; stage = \"MQL\"; satisfied_by = [ \"TOUCH\" ]; duration = \"48h\";\n"
	             "    warning = 1.0; }\n"
	             ");\n",
	             NULL, 0, "t.conf:3: slas.[0].warning: 1 is out of range [0, 1)");
}

Test(config, sla_duration_must_be_positive)
{
	expect_error("slas = (\n"
	             "  { name = \"x\"; stage = \"MQL\"; satisfied_by = [ \"TOUCH\" ];\n"
	             "    duration = \"0\"; }\n"
	             ");\n",
	             NULL, 0, "t.conf:3: slas.[0].duration: 0 is out of range [1s, 3650d]");
}

Test(config, sla_missing_duration)
{
	expect_error("slas = (\n  { name = \"x\"; stage = \"MQL\"; satisfied_by = [ \"TOUCH\" ]; }\n);\n", NULL, 0,
	             "t.conf:2: slas.[0]: missing setting 'duration'");
}

Test(config, sla_duplicate_override_source)
{
	expect_error("slas = (\n"
	             "  { name = \"x\"; stage = \"MQL\"; satisfied_by = [ \"TOUCH\" ]; duration = \"48h\";\n"
	             "    overrides = ( { source = \"event\"; duration = \"4h\"; },\n"
	             "                  { source = \"event\"; duration = \"8h\"; } ); }\n"
	             ");\n",
	             NULL, 0,
	             "t.conf:4: slas.[0].overrides.[1].source: duplicate source 'event' (first at t.conf:3)");
}

Test(config, activity_listed_twice)
{
	expect_error("slas = (\n"
	             "  { name = \"x\"; stage = \"MQL\"; satisfied_by = [ \"TOUCH\", \"touch\" ]; duration = \"48h\"; }\n"
	             ");\n",
	             NULL, 0, "t.conf:2: slas.[0].satisfied_by: \"touch\" is listed twice");
}

Test(config, too_many_slas)
{
	char text[8192] = "slas = (\n";
	for (int i = 0; i <= FD_MAX_SLAS; i++) {
		char one[160];
		snprintf(one, sizeof one,
		         "  { name = \"s%d\"; stage = \"MQL\"; satisfied_by_exit = true; duration = \"1h\"; }%s\n", i,
		         i == FD_MAX_SLAS ? "" : ",");
		strcat(text, one);
	}
	strcat(text, ");\n");
	expect_error(text, NULL, 0, "t.conf:1: slas: 17 elements, at most 16 are allowed");
}

Test(config, reject_reasons_refuse_none)
{
	expect_error("lifecycle = { reject_disqualifies = [ \"NONE\" ]; };\n", NULL, 0,
	             "t.conf:1: lifecycle.reject_disqualifies: unknown reason \"NONE\" (expected BAD_FIT, "
	             "BAD_TIMING, NO_BUDGET, NO_RESPONSE, DUPLICATE, COMPETITOR or OTHER)");
}

Test(config, mql_matrix_lists_the_grades_that_mql)
{
	expect_ok(USABLE "mql = { matrix = { B = 50.0; D = 120; }; };\n", NULL, 0);
	const fd_rules *ec = &cfg->rules;
	cr_expect_not(ec->mql_enabled_for_grade[FD_GRADE_A]);
	cr_expect(ec->mql_enabled_for_grade[FD_GRADE_B]);
	cr_expect_eq(ec->mql_engagement[FD_GRADE_B], 50.0);
	cr_expect_not(ec->mql_enabled_for_grade[FD_GRADE_C]);
	cr_expect(ec->mql_enabled_for_grade[FD_GRADE_D]);
	cr_expect_eq(ec->mql_engagement[FD_GRADE_D], 120.0);
}

Test(config, mql_matrix_unknown_grade)
{
	expect_error("mql = { matrix = {\n  E = 10.0;\n}; };\n", NULL, 0, "t.conf:2: unknown setting 'mql.matrix.E'");
}

Test(config, nurture_reason_days)
{
	expect_ok(USABLE "lifecycle = { nurture = { reason_days = { NO_RESPONSE = 30; }; }; };\n", NULL, 0);
	cr_expect_eq(cfg->rules.nurture_reason_days[FD_REASON_NO_RESPONSE], 30);
	cr_expect_eq(cfg->rules.nurture_reason_days[FD_REASON_BAD_TIMING], 90);
	fd_config_free(cfg);
	expect_error("lifecycle = { nurture = { reason_days = { NO_REASON = 30; }; }; };\n", NULL, 0,
	             "t.conf:1: unknown setting 'lifecycle.nurture.reason_days.NO_REASON'");
}

Test(config, failed_load_frees_kafka_properties)
{
	/* properties are collected before the error further down */
	expect_error("kafka = { properties = [ \"linger.ms=5\" ]; };\nadmin = { port = -1; };\n", NULL, 0,
	             "t.conf:2: admin.port: -1 is out of range [0, 65535]");
}

Test(config, missing_file)
{
	cr_expect_eq(fd_config_load(cfg, "/nonexistent/funneld.conf", NULL, 0, err, sizeof err), -1);
	cr_expect_str_eq(err, "/nonexistent/funneld.conf: cannot open: No such file or directory");
}

Test(config, include_is_relative_to_the_including_file_and_errors_name_it)
{
	char dir[] = "/tmp/funneld-config-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char main_path[128], part_path[128];
	snprintf(main_path, sizeof main_path, "%s/main.conf", dir);
	snprintf(part_path, sizeof part_path, "%s/part.conf", dir);
	write_text(part_path, "admin = {\n  port = 9000;\n};\n");
	write_text(main_path, USABLE "log = { level = \"info\"; };\n@include \"part.conf\"\n");
	cr_expect_eq(fd_config_load(cfg, main_path, NULL, 0, err, sizeof err), 0, "%s", err);
	cr_expect_eq(cfg->settings.admin_port, 9000);
	fd_config_free(cfg);

	write_text(part_path, "admin = {\n  port = -1;\n};\n");
	cr_expect_eq(fd_config_load(cfg, main_path, NULL, 0, err, sizeof err), -1);
	char want[200];
	snprintf(want, sizeof want, "%s/part.conf:2: admin.port: -1 is out of range [0, 65535]", dir);
	cr_expect_str_eq(err, want);
	unlink(part_path);
	unlink(main_path);
	rmdir(dir);
}

/* ---- kafka -------------------------------------------------------------------- */

Test(config, kafka_nested_and_listed_properties)
{
	expect_ok(USABLE "kafka = {\n"
	          "  bootstrap = { servers = \"b1:9092,b2:9092\"; };\n"
	          "  security = { protocol = \"SASL_SSL\"; };\n"
	          "  linger = { ms = 5; };\n"
	          "  enable = { idempotence = true; };\n"
	          "  properties = [ \"sasl.mechanisms=PLAIN\", \"sasl.username=u\", \"client.id=a=b\" ];\n"
	          "};\n",
	          NULL, 0);
	cr_expect_eq(cfg->settings.n_kafka_props, 7);
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "bootstrap.servers"), "b1:9092,b2:9092");
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "security.protocol"), "SASL_SSL");
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "linger.ms"), "5");
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "enable.idempotence"), "true");
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "sasl.mechanisms"), "PLAIN");
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "client.id"), "a=b");
	cr_expect_str_eq(cfg->settings.group_id, "funneld");
}

Test(config, kafka_group_id_from_the_property_list)
{
	expect_ok(USABLE "kafka = { properties = [ \"group.id=scoring\" ]; };\n", NULL, 0);
	cr_expect_str_eq(cfg->settings.group_id, "scoring");
	cr_expect_eq(cfg->settings.n_kafka_props, 1); /* just bootstrap.servers */
}

Test(config, kafka_unknown_property_is_refused_by_librdkafka)
{
	expect_error("kafka = {\n  bootstrap = { severs = \"x\"; };\n};\n", NULL, 0,
	             "t.conf:2: kafka.bootstrap.severs: No such configuration property: \"bootstrap.severs\"");
}

Test(config, kafka_property_set_twice)
{
	expect_error("kafka = {\n"
	             "  linger = { ms = 5; };\n"
	             "  properties = [ \"linger.ms=10\" ];\n"
	             "};\n",
	             NULL, 0, "t.conf:3: kafka.linger.ms: set twice (first at t.conf:2)");
}

Test(config, kafka_listed_property_needs_an_equals_sign)
{
	expect_error("kafka = { properties = [ \"linger.ms\" ]; };\n", NULL, 0,
	             "t.conf:1: kafka.properties: expected \"name=value\", got \"linger.ms\"");
}

/* ---- overrides ------------------------------------------------------------------- */

Test(config, override_a_duration)
{
	const char *o[] = { "scoring.half_life=14d" };
	expect_ok("scoring = { half_life = \"30d\"; " EVENTS " };\n", o, 1);
	cr_expect_eq(cfg->rules.half_life_ms, 14 * FD_MS_DAY);
}

Test(config, override_a_setting_the_file_does_not_have)
{
	const char *o[] = { "admin.port=9090", "processing.commit_interval=250ms", "topics.engagement=web.events" };
	expect_ok(USABLE, o, 3);
	cr_expect_eq(cfg->settings.admin_port, 9090);
	cr_expect_eq(cfg->settings.commit_interval_ms, 250);
	cr_expect_str_eq(cfg->settings.topics.engagement, "web.events");
}

Test(config, override_fixes_a_bad_value_before_validation)
{
	const char *o[] = { "scoring.half_life=10d" };
	expect_ok("scoring = { half_life = \"ten days\"; " EVENTS " };\n", o, 1);
	cr_expect_eq(cfg->rules.half_life_ms, 10 * FD_MS_DAY);
}

Test(config, later_override_wins)
{
	const char *o[] = { "admin.port=9000", "admin.port=9001" };
	expect_ok(USABLE, o, 2);
	cr_expect_eq(cfg->settings.admin_port, 9001);
}

Test(config, override_typed_values)
{
	const char *o[] = {
		"mql.hand_raise=false", "fit.grades.A=75.5", "log.level=3", "state.max_leads=12",
		"scoring.unknown_types=zero", "frequency.windows=7d, 14d,28d",
		"lifecycle.reject_disqualifies=BAD_FIT", "mql.fast_track.sources=event,partner",
	};
	/* without hand raises, leads qualify by score: a fit rule makes grade A
	   reachable */
	expect_ok(USABLE "fit = { rules = ( { name = \"us\"; field = \"country\"; equals = \"US\"; "
	          "points = 80.0; } ); };\n",
	          o, sizeof o / sizeof o[0]);
	const fd_rules *ec = &cfg->rules;
	cr_expect_not(ec->hand_raise_mql);
	cr_expect_eq(ec->grade_min[0], 75.5);
	cr_expect_eq(cfg->settings.log_level, 3);
	cr_expect_eq(cfg->settings.max_leads, 12);
	cr_expect(ec->unknown_types_score_zero);
	cr_assert_eq(ec->n_windows, 3);
	cr_expect_eq(ec->windows_ms[1], 14 * FD_MS_DAY);
	cr_expect_eq(ec->windows_ms[2], 28 * FD_MS_DAY);
	cr_expect_eq(ec->reject_disqualifies, RS(BAD_FIT));
	cr_assert_eq(ec->n_fast_track_sources, 2);
	cr_expect_str_eq(ec->fast_track_sources[1], "partner");
}

Test(config, override_list_element_paths)
{
	const char *o[] = { "slas.[0].duration=24h", "slas[0].warning=0.5", "slas.[0].overrides.[0].duration=2h",
		                "scoring.events.[1].points=2.5", "fit.rules.[0].one_of=VP,CEO" };
	cr_assert_eq(fd_config_load(cfg, SHIPPED, o, sizeof o / sizeof o[0], err, sizeof err), 0, "%s", err);
	const fd_rules *ec = &cfg->rules;
	cr_expect_eq(ec->slas[0].duration_ms, 24 * FD_MS_HOUR);
	cr_expect_eq(ec->slas[0].warning_fraction, 0.5);
	cr_expect_eq(ec->slas[0].overrides[0].duration_ms, 2 * FD_MS_HOUR);
	cr_expect_eq(ec->event_types[1].points, 2.5);
	cr_assert_eq(ec->fit_rules[0].match.n_values, 2);
	cr_expect_str_eq(ec->fit_rules[0].match.values[1], "CEO");
}

Test(config, override_adds_a_grade_to_the_matrix)
{
	const char *o[] = { "mql.matrix.D=150" };
	cr_assert_eq(fd_config_load(cfg, SHIPPED, o, 1, err, sizeof err), 0, "%s", err);
	cr_expect(cfg->rules.mql_enabled_for_grade[FD_GRADE_A]);
	cr_expect(cfg->rules.mql_enabled_for_grade[FD_GRADE_D]);
	cr_expect_eq(cfg->rules.mql_engagement[FD_GRADE_D], 150.0);
}

Test(config, override_kafka_property_replaces_the_nested_one)
{
	const char *o[] = { "kafka.bootstrap.servers=broker:9092", "kafka.linger.ms=5" };
	cr_assert_eq(fd_config_load(cfg, SHIPPED, o, 2, err, sizeof err), 0, "%s", err);
	cr_expect_eq(cfg->settings.n_kafka_props, 2);
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "bootstrap.servers"), "broker:9092");
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "linger.ms"), "5");
}

Test(config, override_kafka_property_replaces_the_listed_one)
{
	const char *o[] = { "kafka.security.protocol=SSL", "kafka.group.id=other" };
	expect_ok(USABLE "kafka = { properties = [ \"security.protocol=SASL_SSL\", \"group.id=g\", \"linger.ms=1\" ]; };\n",
	          o, 2);
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "security.protocol"), "SSL");
	cr_expect_str_eq(fd_config_kafka_prop(cfg, "linger.ms"), "1");
	cr_expect_str_eq(cfg->settings.group_id, "other");
	cr_expect_eq(cfg->settings.n_kafka_props, 3);
}

Test(config, override_kafka_unknown_property)
{
	const char *o[] = { "kafka.bootstrap.severs=x" };
	expect_error("", o, 1, "-o kafka.bootstrap.severs=x: kafka.bootstrap.severs: No such configuration property: "
	                       "\"bootstrap.severs\"");
}

Test(config, override_unknown_setting)
{
	const char *o[] = { "scoring.half_lfe=3d" };
	expect_error("", o, 1, "-o scoring.half_lfe=3d: unknown setting 'scoring.half_lfe'");
}

Test(config, override_unknown_setting_in_a_list_element)
{
	const char *o[] = { "slas.[0].deadline=3d" };
	expect_error("", o, 1, "-o slas.[0].deadline=3d: unknown setting 'slas.[0].deadline'");
}

Test(config, override_without_equals_sign)
{
	const char *o[] = { "scoring.half_life" };
	expect_error("", o, 1, "-o scoring.half_life: expected path=value");
}

Test(config, override_with_a_value_of_the_wrong_type)
{
	const char *o[] = { "admin.port=http" };
	expect_error("", o, 1, "-o admin.port=http: admin.port: expected an integer");
}

Test(config, override_with_a_value_out_of_range)
{
	const char *o[] = { "admin.port=65536" };
	expect_error("admin = { port = 8080; };\n", o, 1, "-o admin.port=65536: admin.port: 65536 is out of range [0, 65535]");
}

Test(config, override_with_a_bad_duration)
{
	const char *o[] = { "scoring.half_life=2 weeks" };
	expect_error("", o, 1,
	             "-o scoring.half_life=2 weeks: scoring.half_life: bad duration \"2 weeks\" (use a count and a "
	             "unit: ms, s, m, h, d or w, e.g. \"48h\")");
}

Test(config, override_of_a_whole_list_is_refused)
{
	const char *o[] = { "slas=none" };
	expect_error("", o, 1, "-o slas=none: 'slas' is a list; set a setting of one element, e.g. slas.[0].name");
}

Test(config, override_of_a_missing_list_element)
{
	const char *o[] = { "slas.[7].duration=1h" };
	expect_error("slas = (\n  { name = \"x\"; stage = \"MQL\"; satisfied_by_exit = true; duration = \"1h\"; }\n);\n",
	             o, 1, "-o slas.[7].duration=1h: 'slas' has no element [7] (it has 1)");
}

Test(config, error_caused_by_an_override_points_at_it)
{
	const char *o[] = { "scoring.events.[1].type=a" };
	expect_error("scoring = { events = (\n"
	             "  { type = \"a\"; points = 1.0; },\n"
	             "  { type = \"b\"; points = 1.0; }\n"
	             "); };\n",
	             o, 1,
	             "-o scoring.events.[1].type=a: scoring.events.[1].type: duplicate event type 'a' (first at t.conf:2)");
}

/* ---- lookups ----------------------------------------------------------------------- */

Test(config, event_type_and_sla_lookups)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	cr_expect_eq(fd_rules_event_type(&cfg->rules, "page_view"), 0);
	cr_expect_eq(fd_rules_event_type(&cfg->rules, "careers_page_view"), 11);
	cr_expect_eq(fd_rules_event_type(&cfg->rules, "Page_View"), -1);
	cr_expect_eq(fd_rules_event_type(&cfg->rules, "tweet"), -1);
	cr_expect_eq(fd_rules_sla(&cfg->rules, "mql_decision"), 3);
	cr_expect_eq(fd_rules_sla(&cfg->rules, "nope"), -1);
}

Test(config, field_names)
{
	cr_expect_str_eq(fd_field_name(FD_FIELD_EMAIL_DOMAIN), "email_domain");
	cr_expect_str_eq(fd_field_name(FD_FIELD_LEAD_SOURCE), "lead_source");
	cr_expect_str_eq(fd_field_name(FD_FIELD_COUNT), "?");
}

/* ---- funneld check-config, as a process --------------------------------------------- */

typedef struct run_result {
	int status;
	char out[65536];
	char err[8192];
} run_result;

static void slurp(int fd, char *buf, size_t size)
{
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Run FUNNELD_BIN with `args` (NULL-terminated, without argv[0]). */
static void run_funneld(const char *const *args, run_result *r)
{
	char out_path[] = "/tmp/funneld-out-XXXXXX", err_path[] = "/tmp/funneld-err-XXXXXX";
	int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
	cr_assert(out_fd >= 0 && err_fd >= 0);
	unlink(out_path);
	unlink(err_path);

	char *argv[32];
	size_t n = 0;
	argv[n++] = (char *)(uintptr_t)FUNNELD_BIN;
	for (; args[n - 1] != NULL && n < 31; n++)
		argv[n] = (char *)(uintptr_t)args[n - 1];
	argv[n] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	pid_t pid;
	cr_assert_eq(posix_spawn(&pid, FUNNELD_BIN, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	/* bounded: a command that does not return is a failure, not a hang */
	int status = 0;
	pid_t done = 0;
	for (int waited_ms = 0; waited_ms < 30000 && done == 0; waited_ms += 10) {
		done = waitpid(pid, &status, WNOHANG);
		if (done == 0)
			usleep(10 * 1000);
	}
	if (done == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		cr_assert_fail("funneld %s did not exit within 30 s", args[0]);
	}
	cr_assert_eq(done, pid);
	cr_assert(WIFEXITED(status));
	r->status = WEXITSTATUS(status);
	slurp(out_fd, r->out, sizeof r->out);
	slurp(err_fd, r->err, sizeof r->err);
}

Test(config, check_config_accepts_the_shipped_file)
{
	run_result r;
	const char *args[] = { "check-config", SHIPPED, NULL };
	run_funneld(args, &r);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.out, "configuration OK\n");
	cr_expect_str_eq(r.err, "");
}

Test(config, check_config_refuses_a_broken_copy_with_file_and_line)
{
	char *text = read_text(SHIPPED);
	const char *needle = "  half_life = \"30d\";";
	char *at = strstr(text, needle);
	cr_assert_not_null(at);
	memcpy(at, "  half_lfe  = \"30d\";", strlen(needle));
	char path[] = "/tmp/funneld-broken-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	free(text);

	run_result r;
	const char *args[] = { "check-config", path, NULL };
	run_funneld(args, &r);
	char want[256];
	snprintf(want, sizeof want, "%s:%d: unknown setting 'scoring.half_lfe'\n", path,
	         line_of(SHIPPED, needle));
	cr_expect_eq(r.status, 78);
	cr_expect_str_eq(r.err, want);
	cr_expect_str_eq(r.out, "");
	unlink(path);
}

Test(config, check_config_applies_overrides)
{
	run_result r;
	const char *ok[] = { "check-config", SHIPPED, "-o", "scoring.half_life=14d", "-oadmin.port=9000", NULL };
	run_funneld(ok, &r);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.out, "configuration OK\n");

	const char *bad[] = { "check-config", "-o", "admin.port=65536", SHIPPED, NULL };
	run_funneld(bad, &r);
	cr_expect_eq(r.status, 78);
	cr_expect_str_eq(r.err, "-o admin.port=65536: admin.port: 65536 is out of range [0, 65535]\n");
}

Test(config, check_config_without_a_file_is_a_usage_error)
{
	run_result r;
	const char *args[] = { "check-config", NULL };
	run_funneld(args, &r);
	cr_expect_eq(r.status, 64);
	cr_expect_eq(strncmp(r.err, "funneld: check-config needs a FILE\n", 35), 0, "%s", r.err);
}

Test(config, unknown_command_is_a_usage_error)
{
	run_result r;
	const char *args[] = { "frobnicate", NULL };
	run_funneld(args, &r);
	cr_expect_eq(r.status, 64);
	cr_expect_eq(strncmp(r.err, "funneld: unknown command 'frobnicate'\n", 38), 0, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "usage: funneld COMMAND"));
	cr_expect_str_eq(r.out, "");
}

Test(config, unknown_option_is_a_usage_error)
{
	run_result r;
	const char *args[] = { "check-config", "--frobnicate", SHIPPED, NULL };
	run_funneld(args, &r);
	cr_expect_eq(r.status, 64);
	cr_expect_eq(strncmp(r.err, "funneld: unknown option '--frobnicate'\n", 39), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "");
}

Test(config, help_lists_commands_and_options)
{
	run_result r;
	const char *args[] = { "--help", NULL };
	run_funneld(args, &r);
	cr_expect_eq(r.status, 0);
	static const char *const words[] = {
		"\n  run ", "\n  check-config [--print] FILE", "\n  demo ", "\n  dev-broker ",
		"-c, --config FILE", "-o, --set path=value",
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		cr_expect_not_null(strstr(r.out, words[i]), "--help lacks \"%s\"", words[i]);
}

Test(config, version_prints_name_and_version)
{
	run_result r;
	const char *args[] = { "--version", NULL };
	run_funneld(args, &r);
	cr_expect_eq(r.status, 0);
	cr_expect_eq(strncmp(r.out, "funneld ", 8), 0, "%s", r.out);
	cr_expect_eq(r.out[strlen(r.out) - 1], '\n');
}

/* A value that would turn a safety check off is refused, in the file and
 * on the command line. */
Test(config, max_future_skew_cannot_disable_the_future_check)
{
	cr_assert_eq(load_o("scoring = { max_future_skew = \"0\"; };\n", NULL, 0), -1);
	cr_expect(strstr(err, "t.conf:1:") == err && strstr(err, "scoring.max_future_skew") != NULL,
	          "%s", err);
	fd_config_free(cfg);
	const char *o[] = { "scoring.max_future_skew=0" };
	cr_assert_eq(load_o("", o, 1), -1);
	cr_expect(strstr(err, "scoring.max_future_skew") != NULL, "%s", err);
	fd_config_free(cfg);
	expect_ok("scoring = { max_future_skew = \"1s\"; " EVENTS " };\n", NULL, 0);
}

/* admin.port = 0 asks for an ephemeral port (the daemon logs the one it got) */
Test(config, admin_port_zero_is_an_ephemeral_port)
{
	expect_ok(USABLE "admin = { port = 0; };\n", NULL, 0);
	cr_expect_eq(cfg->settings.admin_port, 0);
}

/* ---- what would load but never work ------------------------------------------- */

/* An empty file was "configuration OK", and every event then went to the
 * dead letters. */
Test(config, empty_file_is_refused_every_event_would_be_refused)
{
	expect_error("", NULL, 0,
	             "t.conf: scoring.events: no engagement event types, so every engagement event "
	             "would be refused as a dead letter; list the types your sources send, with their "
	             "points (see config/funneld.conf)");
	fd_config_free(cfg);
	expect_error("# nothing yet\nscoring = {\n  events = ( );\n};\n", NULL, 0,
	             "t.conf:3: scoring.events: no engagement event types, so every engagement event "
	             "would be refused as a dead letter; list the types your sources send, with their "
	             "points (see config/funneld.conf)");
	fd_config_free(cfg);
	expect_error("scoring = {\n  unknown_types = \"zero\";\n};\n", NULL, 0,
	             "t.conf:1: scoring.events: no engagement event types, so every engagement event "
	             "would count for nothing; list the types your sources send, with their points "
	             "(see config/funneld.conf)");
	fd_config_free(cfg);
	/* the override is not what is wrong: the file is named */
	const char *o[] = { "scoring.unknown_types=zero" };
	expect_error("", o, 1,
	             "t.conf: scoring.events: no engagement event types, so every engagement event "
	             "would count for nothing; list the types your sources send, with their points "
	             "(see config/funneld.conf)");
}

Test(config, no_way_for_a_lead_to_qualify_is_refused)
{
	/* no hand raise, no fit rules (every lead is grade D, fit 0), and the
	   default matrix lists A, B and C */
	expect_error("scoring = {\n"
	             "  events = ( { type = \"page_view\"; points = 1.0; } );\n"
	             "};\n",
	             NULL, 0,
	             "t.conf:2: no lead can ever become an MQL: no event type has intent "
	             "\"hand_raise\"; mql.matrix lists no grade a lead can have (fit rules give 0 to "
	             "0: grade D only); and fast track (mql.fast_track) needs grade C or better");
	fd_config_free(cfg);
	/* hand raises turned off; fit can reach 30 (grades C and D), the matrix
	   lists A only */
	expect_error(USABLE "fit = { rules = ( { name = \"us\"; field = \"country\"; equals = \"US\"; "
	             "points = 30.0; } ); };\n"
	             "mql = {\n  hand_raise = false;\n  matrix = { A = 40.0; };\n"
	             "  fast_track = { min_grade = \"B\"; };\n};\n",
	             NULL, 0,
	             "t.conf:3: no lead can ever become an MQL: mql.hand_raise is false; mql.matrix lists "
	             "no grade a lead can have (fit rules give 0 to 30: grades C and D); and fast track "
	             "(mql.fast_track) needs grade B or better");
	fd_config_free(cfg);
	/* an override can be what breaks it */
	const char *o[] = { "mql.hand_raise=false" };
	expect_error(USABLE, o, 1,
	             "-o mql.hand_raise=false: no lead can ever become an MQL: mql.hand_raise is false; "
	             "mql.matrix lists no grade a lead can have (fit rules give 0 to 0: grade D only); "
	             "and fast track (mql.fast_track) needs grade C or better");
	fd_config_free(cfg);
	/* grade D is listed, but no event earns points */
	expect_error("scoring = { events = ( { type = \"unsubscribe\"; points = -5.0; } ); };\n"
	             "mql = { matrix = { D = 10.0; }; };\n",
	             NULL, 0,
	             "t.conf:2: no lead can ever become an MQL: no event type has intent "
	             "\"hand_raise\"; no event type has positive points; and fast track "
	             "(mql.fast_track) needs grade C or better");
}

Test(config, each_way_to_qualify_is_enough)
{
	/* a hand raise */
	expect_ok(USABLE, NULL, 0);
	fd_config_free(cfg);
	/* the score, for a grade every lead has */
	expect_ok("scoring = { events = ( { type = \"page_view\"; points = 1.0; } ); };\n"
	          "mql = { matrix = { D = 50.0; }; };\n",
	          NULL, 0);
	fd_config_free(cfg);
	/* a threshold of 0 needs no points */
	expect_ok("scoring = { events = ( { type = \"unsubscribe\"; points = -5.0; } ); };\n"
	          "mql = { matrix = { D = 0.0; }; };\n",
	          NULL, 0);
	fd_config_free(cfg);
	/* the score, for a grade a fit rule can reach */
	expect_ok("scoring = { events = ( { type = \"page_view\"; points = 1.0; } ); };\n"
	          "fit = { rules = ( { name = \"vp\"; field = \"seniority\"; equals = \"vp\"; "
	          "points = 25.0; } ); };\n",
	          NULL, 0);
	fd_config_free(cfg);
	/* fast track, for every grade */
	expect_ok("scoring = { events = ( { type = \"badge_scan\"; points = 0.0; } ); };\n"
	          "mql = { fast_track = { min_grade = \"D\"; }; };\n",
	          NULL, 0);
}

Test(config, check_config_refuses_an_empty_file)
{
	char path[] = "/tmp/funneld-empty-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	run_result r;
	const char *args[] = { "check-config", path, NULL };
	run_funneld(args, &r);
	char want[512];
	snprintf(want, sizeof want,
	         "%s: scoring.events: no engagement event types, so every engagement event would be "
	         "refused as a dead letter; list the types your sources send, with their points (see "
	         "config/funneld.conf)\n",
	         path);
	cr_expect_eq(r.status, 78);
	cr_expect_str_eq(r.err, want);
	cr_expect_str_eq(r.out, "");
	unlink(path);
}

/* ---- check-config --print: the effective configuration ------------------------- */

/* a and b hold the same configuration: the same bytes, but for the source
 * lines of list elements (the printed text has its own) and the path */
static void expect_same_config(const fd_config *a, const fd_config *b)
{
	fd_config *x = malloc(sizeof *x), *y = malloc(sizeof *y);
	cr_assert(x != NULL && y != NULL);
	memcpy(x, a, sizeof *x);
	memcpy(y, b, sizeof *y);
	fd_config *both[] = { x, y };
	for (int k = 0; k < 2; k++) {
		fd_rules *r = &both[k]->rules;
		for (int i = 0; i < FD_MAX_EVENT_TYPES; i++)
			r->event_types[i].line = 0;
		for (int i = 0; i < FD_MAX_FIT_RULES; i++)
			r->fit_rules[i].line = 0;
		for (int i = 0; i < FD_MAX_DISQUALIFIERS; i++)
			r->disqualifiers[i].line = 0;
		for (int i = 0; i < FD_MAX_SLAS; i++)
			r->slas[i].line = 0;
		both[k]->settings.kafka_props = NULL;
		memset(both[k]->path, 0, sizeof both[k]->path);
	}
	cr_expect_eq(memcmp(&x->rules, &y->rules, sizeof x->rules), 0, "the rules differ");
	cr_expect_eq(memcmp(&x->settings, &y->settings, sizeof x->settings), 0, "the settings differ");
	cr_assert_eq(a->settings.n_kafka_props, b->settings.n_kafka_props);
	for (int i = 0; i < a->settings.n_kafka_props; i++) {
		cr_expect_str_eq(a->settings.kafka_props[i].name, b->settings.kafka_props[i].name);
		cr_expect_str_eq(a->settings.kafka_props[i].value, b->settings.kafka_props[i].value);
	}
	free(x);
	free(y);
}

/* Print *cfg, load the text back, and expect the same configuration. */
static void expect_round_trip(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	cr_assert_not_null(mem);
	cr_assert_eq(fd_config_print(cfg, mem), 0);
	fclose(mem);
	fd_config *again = calloc(1, sizeof *again);
	cr_assert_not_null(again);
	char again_err[2048];
	cr_assert_eq(fd_config_load_string(again, "printed.conf", text, NULL, 0, again_err,
	                                   sizeof again_err),
	             0, "%s\n%s", again_err, text);
	expect_same_config(cfg, again);
	fd_config_free(again);
	free(again);
	free(text);
}

Test(config, printed_shipped_config_loads_back_the_same)
{
	cr_assert_eq(fd_config_load(cfg, SHIPPED, NULL, 0, err, sizeof err), 0, "%s", err);
	expect_round_trip();
	fd_config_free(cfg);
	const char *o[] = {
		"scoring.half_life=14d", "fit.grades.A=60.123456789", "mql.matrix.D=123456789.125",
		"kafka.client.id=a\"b\\c=d", "kafka.linger.ms=7", "log.level=3",
		"processing.guarantee=exactly_once", "topics.engagement_encoding=json",
		"scoring.unknown_types=zero", "state.max_leads=0", "admin.port=0",
		"slas.[0].on_expiry=NURTURE", "frequency.windows=7d,14d,28d",
	};
	cr_assert_eq(fd_config_load(cfg, SHIPPED, o, sizeof o / sizeof o[0], err, sizeof err), 0, "%s",
	             err);
	expect_round_trip();
}

Test(config, printed_config_keeps_every_kind_of_setting)
{
	expect_ok("scoring = {\n"
	          "  events = (\n"
	          "    { type = \"demo_request\"; points = 10.0; intent = \"hand_raise\"; },\n"
	          "    { type = \"unsubscribe\"; points = -0.1; },\n"
	          "    { type = \"page_view\"; points = 0.3333333333333333; cap = { points = 2.5; window = \"90m\"; }; }\n"
	          "  );\n"
	          "};\n"
	          "fit = {\n"
	          "  rules = ( { name = \"big\"; field = \"employee_count\"; range = { min = 1000; }; points = 7; },\n"
	          "            { name = \"tab\"; field = \"industry\"; not = true; equals = \"a\\\"b\\\\c\"; points = -3; } );\n"
	          "  disqualifiers = ( );\n"
	          "};\n"
	          "mql = { matrix = { D = 0.0; }; };\n"
	          "slas = ( { name = \"s\"; stage = \"SAL\"; satisfied_by_exit = true; duration = \"1500ms\"; } );\n"
	          "kafka = { properties = [ \"sasl.password=p=w \\\\ \\\"x\\\" \\t\" ]; };\n"
	          "log = { level = 0; };\n",
	          NULL, 0);
	expect_round_trip();
}

Test(config, check_config_print_writes_the_effective_configuration)
{
	char path[] = "/tmp/funneld-printed-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	run_result r;
	const char *args[] = { "check-config", "--print", SHIPPED, "-o", "admin.port=9001",
		                   "-o", "scoring.half_life=7d", NULL };
	run_funneld(args, &r);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.err, "configuration OK\n");
	cr_expect_eq(strncmp(r.out, "# funneld: the configuration ", 29), 0, "%.80s", r.out);
	cr_assert_lt(strlen(r.out), sizeof r.out - 1, "the printed configuration was cut");
	write_text(path, r.out);

	/* it loads again, to what the file and the overrides give */
	const char *o[] = { "admin.port=9001", "scoring.half_life=7d" };
	cr_assert_eq(fd_config_load(cfg, SHIPPED, o, 2, err, sizeof err), 0, "%s", err);
	fd_config *printed = calloc(1, sizeof *printed);
	cr_assert_eq(fd_config_load(printed, path, NULL, 0, err, sizeof err), 0, "%s", err);
	cr_expect_eq(printed->settings.admin_port, 9001);
	cr_expect_eq(printed->rules.half_life_ms, 7 * FD_MS_DAY);
	expect_same_config(cfg, printed);
	fd_config_free(printed);
	free(printed);
	unlink(path);

	const char *bad[] = { "check-config", "--print=yes", SHIPPED, NULL };
	run_funneld(bad, &r);
	cr_expect_eq(r.status, 64);
	cr_expect_eq(strncmp(r.err, "funneld: option '--print' takes no value\n", 41), 0, "%s", r.err);
}
