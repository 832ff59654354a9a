/*
 * test_log.c — logging: lead ids redacted as keyed SipHash tokens (the
 * reference test vectors, stable tokens per key), a line about a lead with
 * redaction on carries its token and never its id, with it off the id; the
 * journal fields of a line; journald detected only when $JOURNAL_STREAM
 * names stderr's device and inode.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/redact.h"

/* SipHash-2-4 with the key 00 01 .. 0f of its paper's appendix, on the
 * messages 00 01 .. (n-1). */
Test(log, siphash_matches_the_reference_vectors)
{
	uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
	unsigned char msg[16];
	for (int i = 0; i < 16; i++)
		msg[i] = (unsigned char)i;
	cr_assert_eq(fd_redact_siphash(k0, k1, msg, 0), 0x726fdb47dd0e0e31ULL);
	cr_assert_eq(fd_redact_siphash(k0, k1, msg, 8), 0x93f5f5799a932462ULL);
	cr_assert_eq(fd_redact_siphash(k0, k1, msg, 15), 0xa129ca6149be45e5ULL);
}

Test(log, a_token_is_12_hex_digits_stable_per_key)
{
	fd_redact a, a2, b, off;
	fd_redact_init(&a, true, "funneld");
	fd_redact_init(&a2, true, "funneld");
	fd_redact_init(&b, true, "another-secret");
	fd_redact_init(&off, false, "funneld");
	char t1[FD_REDACT_TOKEN_LEN + 1], t2[FD_REDACT_TOKEN_LEN + 1], t3[FD_REDACT_TOKEN_LEN + 1];
	const char *x = fd_redact_id(&a, "ann@acme.com", t1);
	cr_assert_eq(strlen(x), 12);
	cr_assert_eq(strspn(x, "0123456789abcdef"), 12);
	cr_assert_str_eq(fd_redact_id(&a2, "ann@acme.com", t2), x, "same key, same token");
	cr_assert_str_neq(fd_redact_id(&b, "ann@acme.com", t3), x, "another key, another token");
	cr_assert_str_neq(fd_redact_id(&a, "bob@acme.com", t3), x);
	cr_assert_str_eq(fd_redact_id(&off, "ann@acme.com", t3), "ann@acme.com");
	cr_assert_str_eq(fd_redact_id(&a, NULL, t3), "");
	/* the key is SipHash of its text under (0,0) and (1,0) */
	cr_assert_eq(a.k0, fd_redact_siphash(0, 0, "funneld", 7));
	cr_assert_eq(a.k1, fd_redact_siphash(1, 0, "funneld", 7));
	char want[FD_REDACT_TOKEN_LEN + 1];
	snprintf(want, sizeof want, "%012llx",
	         (unsigned long long)(fd_redact_siphash(a.k0, a.k1, "ann@acme.com", 12) >> 16));
	cr_assert_str_eq(x, want);
}

/* stderr into a scratch file for the test's lines; returns its fd. */
static int capture_stderr(char *path, size_t size)
{
	snprintf(path, size, "/tmp/funneld-log-XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	fflush(stderr);
	cr_assert_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	return fd;
}

static char *captured(const char *path)
{
	fflush(stderr);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	static char text[8192];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void plain_stderr(void)
{
	unsetenv("JOURNAL_STREAM");
	unsetenv("FUNNELD_LOG_PREFIX");
	fd_log_init(FD_LOG_INFO);
	cr_assert_not(fd_log_journal());
}

Test(log, with_redaction_a_line_about_a_lead_carries_its_token_not_its_id)
{
	char path[64];
	int fd = capture_stderr(path, sizeof path);
	plain_stderr();
	fd_log_set_redact(true, "funneld");
	fd_log_fields f = { "ann@acme.com", "MQL", "hand_raise", 3, "funneld.engagement" };
	fd_log_lead(FD_LOG_INFO, &f, "LEAD -> MQL (hand_raise)");
	char tok[FD_REDACT_TOKEN_LEN + 1];
	fd_log(FD_LOG_WARNING, "cannot keep lead %s", fd_log_id("ann@acme.com", tok));
	const char *text = captured(path);
	fd_redact r;
	fd_redact_init(&r, true, "funneld");
	char want[128];
	snprintf(want, sizeof want, " info    lead %s: LEAD -> MQL (hand_raise)\n",
	         fd_redact_id(&r, "ann@acme.com", tok));
	cr_assert_not_null(strstr(text, want), "%s", text);
	snprintf(want, sizeof want, " warning cannot keep lead %s\n", tok);
	cr_assert_not_null(strstr(text, want), "%s", text);
	cr_assert_null(strstr(text, "ann@acme.com"), "%s", text);
	cr_assert_null(strstr(text, "acme"), "%s", text);
	close(fd);
	unlink(path);
}

Test(log, without_redaction_a_line_carries_the_id)
{
	char path[64];
	int fd = capture_stderr(path, sizeof path);
	plain_stderr();
	fd_log_set_redact(false, "funneld");
	fd_log_fields f = { "ann@acme.com", "MQL", NULL, -1, NULL };
	fd_log_lead(FD_LOG_INFO, &f, "LEAD -> MQL");
	fd_log_lead(FD_LOG_DEBUG, &f, "below the threshold");
	const char *text = captured(path);
	cr_assert_not_null(strstr(text, " info    lead ann@acme.com: LEAD -> MQL\n"), "%s", text);
	cr_assert_null(strstr(text, "below the threshold"), "%s", text);
	close(fd);
	unlink(path);
}

Test(log, the_journal_fields_of_a_line_about_a_lead)
{
	fd_redact on, off;
	fd_redact_init(&on, true, "k");
	fd_redact_init(&off, false, "k");
	char out[FD_LOG_JOURNAL_FIELDS][FD_LOG_FIELD_MAX];
	fd_log_fields f = { "ann@acme.com", "SAL", "sales_accept", 7, "funneld.activities" };
	size_t n = fd_log_journal_fields(FD_LOG_NOTICE, &f, &on, "lead x: MQL -> SAL", out);
	cr_assert_eq(n, 8);
	char tok[FD_REDACT_TOKEN_LEN + 1], want[64];
	snprintf(want, sizeof want, "LEAD_ID=%s", fd_redact_id(&on, "ann@acme.com", tok));
	cr_assert_str_eq(out[0], "MESSAGE=lead x: MQL -> SAL");
	cr_assert_str_eq(out[1], "PRIORITY=5");
	cr_assert_str_eq(out[2], "SYSLOG_IDENTIFIER=funneld");
	cr_assert_str_eq(out[3], want);
	cr_assert_str_eq(out[4], "STAGE=SAL");
	cr_assert_str_eq(out[5], "TRIGGER=sales_accept");
	cr_assert_str_eq(out[6], "PARTITION=7");
	cr_assert_str_eq(out[7], "TOPIC=funneld.activities");

	n = fd_log_journal_fields(FD_LOG_ERR, &f, &off, "m", out);
	cr_assert_str_eq(out[3], "LEAD_ID=ann@acme.com");
	fd_log_fields some = { NULL, "", NULL, -1, NULL };
	n = fd_log_journal_fields(FD_LOG_ERR, &some, &on, "m", out);
	cr_assert_eq(n, 3, "only what is known");
	n = fd_log_journal_fields(9, NULL, &on, "m", out);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(out[1], "PRIORITY=7");
}

Test(log, journald_is_detected_only_when_journal_stream_names_stderr)
{
	cr_assert(fd_log_journal_stream_is("8:1234", 8, 1234));
	cr_assert_not(fd_log_journal_stream_is("8:1234", 8, 1235));
	cr_assert_not(fd_log_journal_stream_is("9:1234", 8, 1234));
	cr_assert_not(fd_log_journal_stream_is("8:1234x", 8, 1234));
	cr_assert_not(fd_log_journal_stream_is("", 8, 1234));
	cr_assert_not(fd_log_journal_stream_is(NULL, 8, 1234));

	char path[64];
	int fd = capture_stderr(path, sizeof path);
	struct stat st;
	cr_assert_eq(fstat(STDERR_FILENO, &st), 0);
	char env[64];
	unsetenv("FUNNELD_LOG_PREFIX");
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	fd_log_init(FD_LOG_INFO);
	cr_assert(fd_log_journal(), "stderr is the stream $JOURNAL_STREAM names");
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	fd_log_init(FD_LOG_INFO);
	cr_assert_not(fd_log_journal(), "stderr was redirected elsewhere: plain lines");
	fd_log(FD_LOG_INFO, "plain");
	cr_assert_not_null(strstr(captured(path), "Z info    plain\n"));
	setenv("FUNNELD_LOG_PREFIX", "1", 1);
	fd_log_init(FD_LOG_INFO);
	cr_assert_not(fd_log_journal());
	fd_log(FD_LOG_NOTICE, "prefixed");
	cr_assert_not_null(strstr(captured(path), "\n<5>prefixed\n"));
	close(fd);
	unlink(path);
}
