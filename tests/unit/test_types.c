/*
 * test_types.c — the domain vocabulary: canonical names, case-insensitive
 * parsing, grade letters and the duration syntax.
 *
 * Pure functions, so no fixtures: each test pins one behaviour with exact
 * values. Not tested here: how the config loader uses these (test_config.c).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "funneld/types.h"

Test(types, stage_names_are_the_canonical_upper_case_spellings)
{
	static const char *const want[FD_STAGE_COUNT] = {
		"LEAD", "MQL", "SAL", "SQL", "OPPORTUNITY", "CUSTOMER", "NURTURE", "DISQUALIFIED",
	};
	for (int i = 0; i < FD_STAGE_COUNT; i++)
		cr_expect_str_eq(fd_stage_name((fd_stage)i), want[i]);
}

Test(types, activity_kind_names_are_the_canonical_upper_case_spellings)
{
	static const char *const want[FD_ACT_COUNT] = {
		"ASSIGN", "TOUCH", "ACCEPT", "REJECT", "REVERT", "QUALIFY", "OPPORTUNITY", "WON", "LOST",
	};
	for (int i = 0; i < FD_ACT_COUNT; i++)
		cr_expect_str_eq(fd_activity_kind_name((fd_activity_kind)i), want[i]);
}

Test(types, reason_names_include_none)
{
	static const char *const want[FD_REASON_COUNT] = {
		"NONE", "BAD_FIT", "BAD_TIMING", "NO_BUDGET", "NO_RESPONSE", "DUPLICATE", "COMPETITOR", "OTHER",
	};
	for (int i = 0; i < FD_REASON_COUNT; i++)
		cr_expect_str_eq(fd_reason_name((fd_reason)i), want[i]);
}

Test(types, intent_names_are_lower_case)
{
	cr_expect_str_eq(fd_intent_name(FD_INTENT_LOW), "low");
	cr_expect_str_eq(fd_intent_name(FD_INTENT_HIGH), "high");
	cr_expect_str_eq(fd_intent_name(FD_INTENT_HAND_RAISE), "hand_raise");
}

Test(types, trigger_names_are_lower_case_snake)
{
	static const char *const want[FD_TRIGGER_COUNT] = {
		"score_threshold", "hand_raise", "fast_track", "sales_accept", "sales_reject",
		"sales_revert", "sales_qualify", "sales_opportunity", "sales_won", "sales_lost",
		"review_due", "sla_expired", "disqualified_by_fit", "requalified_by_fit",
	};
	for (int i = 0; i < FD_TRIGGER_COUNT; i++)
		cr_expect_str_eq(fd_trigger_name((fd_trigger)i), want[i]);
}

Test(types, sla_kind_names)
{
	cr_expect_str_eq(fd_sla_kind_name(FD_SLA_WARNING), "WARNING");
	cr_expect_str_eq(fd_sla_kind_name(FD_SLA_BREACH), "BREACH");
	cr_expect_str_eq(fd_sla_kind_name(FD_SLA_MET), "MET");
}

Test(types, out_of_range_values_are_named_question_mark)
{
	cr_expect_str_eq(fd_stage_name(FD_STAGE_COUNT), "?");
	cr_expect_str_eq(fd_stage_name((fd_stage)-1), "?");
	cr_expect_str_eq(fd_activity_kind_name(FD_ACT_COUNT), "?");
	cr_expect_str_eq(fd_reason_name(FD_REASON_COUNT), "?");
	cr_expect_str_eq(fd_intent_name(FD_INTENT_COUNT), "?");
	cr_expect_str_eq(fd_trigger_name(FD_TRIGGER_COUNT), "?");
	cr_expect_str_eq(fd_sla_kind_name(FD_SLA_KIND_COUNT), "?");
}

Test(types, grade_letters_a_to_d)
{
	cr_expect_eq(fd_grade_letter(FD_GRADE_A), 'A');
	cr_expect_eq(fd_grade_letter(FD_GRADE_B), 'B');
	cr_expect_eq(fd_grade_letter(FD_GRADE_C), 'C');
	cr_expect_eq(fd_grade_letter(FD_GRADE_D), 'D');
	cr_expect_eq(fd_grade_letter(FD_GRADE_COUNT), '?');
	cr_expect_eq(fd_grade_letter(-1), '?');
}

Test(types, every_name_parses_back_to_its_value)
{
	for (int i = 0; i < FD_STAGE_COUNT; i++) {
		fd_stage s = FD_STAGE_COUNT;
		cr_expect_eq(fd_stage_parse(fd_stage_name((fd_stage)i), &s), 0);
		cr_expect_eq((int)s, i);
	}
	for (int i = 0; i < FD_ACT_COUNT; i++) {
		fd_activity_kind k = FD_ACT_COUNT;
		cr_expect_eq(fd_activity_kind_parse(fd_activity_kind_name((fd_activity_kind)i), &k), 0);
		cr_expect_eq((int)k, i);
	}
	for (int i = 0; i < FD_REASON_COUNT; i++) {
		fd_reason r = FD_REASON_COUNT;
		cr_expect_eq(fd_reason_parse(fd_reason_name((fd_reason)i), &r), 0);
		cr_expect_eq((int)r, i);
	}
	for (int i = 0; i < FD_INTENT_COUNT; i++) {
		fd_intent in = FD_INTENT_COUNT;
		cr_expect_eq(fd_intent_parse(fd_intent_name((fd_intent)i), &in), 0);
		cr_expect_eq((int)in, i);
	}
}

Test(types, parsing_ignores_ascii_case)
{
	fd_stage s;
	fd_activity_kind k;
	fd_reason r;
	fd_intent in;
	cr_expect_eq(fd_stage_parse("mql", &s), 0);
	cr_expect_eq(s, FD_STAGE_MQL);
	cr_expect_eq(fd_stage_parse("Disqualified", &s), 0);
	cr_expect_eq(s, FD_STAGE_DISQUALIFIED);
	cr_expect_eq(fd_activity_kind_parse("touch", &k), 0);
	cr_expect_eq(k, FD_ACT_TOUCH);
	cr_expect_eq(fd_reason_parse("bad_timing", &r), 0);
	cr_expect_eq(r, FD_REASON_BAD_TIMING);
	cr_expect_eq(fd_intent_parse("HAND_RAISE", &in), 0);
	cr_expect_eq(in, FD_INTENT_HAND_RAISE);
}

Test(types, unknown_names_are_refused_and_leave_the_output_alone)
{
	fd_stage s = FD_STAGE_SAL;
	cr_expect_eq(fd_stage_parse("MQLX", &s), -1);
	cr_expect_eq(fd_stage_parse("MQ", &s), -1);
	cr_expect_eq(fd_stage_parse("", &s), -1);
	cr_expect_eq(fd_stage_parse(NULL, &s), -1);
	cr_expect_eq(s, FD_STAGE_SAL);
	fd_activity_kind k = FD_ACT_WON;
	cr_expect_eq(fd_activity_kind_parse("CALL", &k), -1);
	cr_expect_eq(k, FD_ACT_WON);
	fd_reason r = FD_REASON_OTHER;
	cr_expect_eq(fd_reason_parse("BAD FIT", &r), -1);
	cr_expect_eq(r, FD_REASON_OTHER);
	fd_intent in = FD_INTENT_HIGH;
	cr_expect_eq(fd_intent_parse("medium", &in), -1);
	cr_expect_eq(in, FD_INTENT_HIGH);
}

Test(types, grade_parse_takes_one_letter_a_to_d_in_any_case)
{
	int g = -1;
	cr_expect_eq(fd_grade_parse("A", &g), 0);
	cr_expect_eq(g, FD_GRADE_A);
	cr_expect_eq(fd_grade_parse("d", &g), 0);
	cr_expect_eq(g, FD_GRADE_D);
	g = 7;
	cr_expect_eq(fd_grade_parse("E", &g), -1);
	cr_expect_eq(fd_grade_parse("AB", &g), -1);
	cr_expect_eq(fd_grade_parse("", &g), -1);
	cr_expect_eq(fd_grade_parse(NULL, &g), -1);
	cr_expect_eq(g, 7);
}

Test(types, duration_units)
{
	int64_t ms = 0;
	cr_expect_eq(fd_duration_parse("250ms", &ms), 0);
	cr_expect_eq(ms, 250);
	cr_expect_eq(fd_duration_parse("90s", &ms), 0);
	cr_expect_eq(ms, 90 * FD_MS_SECOND);
	cr_expect_eq(fd_duration_parse("15m", &ms), 0);
	cr_expect_eq(ms, 15 * FD_MS_MINUTE);
	cr_expect_eq(fd_duration_parse("48h", &ms), 0);
	cr_expect_eq(ms, 48 * FD_MS_HOUR);
	cr_expect_eq(fd_duration_parse("30d", &ms), 0);
	cr_expect_eq(ms, 30 * FD_MS_DAY);
	cr_expect_eq(fd_duration_parse("2w", &ms), 0);
	cr_expect_eq(ms, 14 * FD_MS_DAY);
}

Test(types, duration_plain_integer_is_milliseconds)
{
	int64_t ms = 0;
	cr_expect_eq(fd_duration_parse("1500", &ms), 0);
	cr_expect_eq(ms, 1500);
	cr_expect_eq(fd_duration_parse("9223372036854775807", &ms), 0);
	cr_expect_eq(ms, INT64_MAX);
}

Test(types, duration_zero_only_as_bare_number)
{
	int64_t ms = 99;
	cr_expect_eq(fd_duration_parse("0", &ms), 0);
	cr_expect_eq(ms, 0);
	ms = 99;
	cr_expect_eq(fd_duration_parse("0s", &ms), -1);
	cr_expect_eq(fd_duration_parse("0d", &ms), -1);
	cr_expect_eq(ms, 99);
}

Test(types, duration_overflow_is_refused)
{
	int64_t ms = 7;
	cr_expect_eq(fd_duration_parse("9223372036854775808", &ms), -1);
	cr_expect_eq(fd_duration_parse("99999999999999999999999", &ms), -1);
	/* INT64_MAX ms is 15250284452.47 weeks, 106751991167.3 days */
	cr_expect_eq(fd_duration_parse("15250284453w", &ms), -1);
	cr_expect_eq(fd_duration_parse("106751991168d", &ms), -1);
	cr_expect_eq(ms, 7);
	cr_expect_eq(fd_duration_parse("15250284452w", &ms), 0);
	cr_expect_eq(ms, INT64_C(15250284452) * 7 * FD_MS_DAY);
	cr_expect_eq(fd_duration_parse("106751991167d", &ms), 0);
	cr_expect_eq(ms, INT64_C(106751991167) * FD_MS_DAY);
}

Test(types, duration_malformed_text_is_refused)
{
	static const char *const bad[] = {
		"", "h", "48x", "48 h", " 48h", "48h ", "-5s", "+5s", "1.5h", "48H", "48hh", "4 8h", "48msx", "d30",
	};
	int64_t ms = 3;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(fd_duration_parse(bad[i], &ms), -1, "\"%s\" parsed", bad[i]);
	cr_expect_eq(fd_duration_parse(NULL, &ms), -1);
	cr_expect_eq(ms, 3);
}
