/*
 * test_utf8.c — fd_utf8_check: strict UTF-8 (RFC 3629), no NUL.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/utf8.h"

static size_t check(const char *s, size_t n)
{
	return fd_utf8_check(s, n);
}

Test(utf8, valid_text_of_every_length)
{
	static const char *const ok[] = { "", "ascii", "j\xc3\xbcrgen", "\xe2\x82\xac", "\xe4\xbe\x8b",
		                              "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf",
		                              "\xee\x80\x80", "\xc2\x80", "\x7f" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		cr_expect_eq(check(ok[i], strlen(ok[i])), strlen(ok[i]), "case %zu refused", i);
}

Test(utf8, the_first_bad_byte_is_reported)
{
	static const struct {
		const char *s;
		size_t n, at;
	} bad[] = {
		{ "a\0b", 3, 1 },                  /* NUL */
		{ "\x80", 1, 0 },                  /* lone continuation */
		{ "ab\xc0\xaf", 4, 2 },            /* overlong '/' */
		{ "\xc1\xbf", 2, 0 },              /* overlong */
		{ "\xe0\x80\xaf", 3, 0 },          /* overlong 3 bytes */
		{ "\xf0\x80\x80\xaf", 4, 0 },      /* overlong 4 bytes */
		{ "\xed\xa0\x80", 3, 0 },          /* surrogate U+D800 */
		{ "\xed\xbf\xbf", 3, 0 },          /* surrogate U+DFFF */
		{ "\xf4\x90\x80\x80", 4, 0 },      /* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },      /* lead byte f5 */
		{ "\xff", 1, 0 },
		{ "ok\xe2\x82", 4, 2 },            /* truncated */
		{ "\xe2\x28\xa1", 3, 0 },          /* bad continuation */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect_eq(check(bad[i].s, bad[i].n), bad[i].at, "case %zu: %zu, want %zu", i,
		             check(bad[i].s, bad[i].n), bad[i].at);
		cr_expect(!fd_utf8_valid(bad[i].s, bad[i].n));
	}
}
