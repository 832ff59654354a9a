/*
 * log.c — stderr or journald logging, lead ids redacted (see log.h).
 */
#include "base/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

enum { OUT_UNSET = -1, OUT_PLAIN = 0, OUT_PREFIX, OUT_JOURNAL };

/* Set at start-up by main, and by a reload (see log.h). */
static int log_level = FD_LOG_INFO;
static int log_out = OUT_UNSET;
static fd_redact log_redact; /* off until fd_log_set_redact */

static const char *const level_names[] = { "emerg", "alert", "crit", "error",
	                                       "warning", "notice", "info", "debug" };

static int clamp_level(int level)
{
	return level < 0 ? 0 : level > 7 ? 7 : level;
}

bool fd_log_journal_stream_is(const char *env, uint64_t dev, uint64_t ino)
{
	if (!env)
		return false;
	char *end;
	unsigned long long d = strtoull(env, &end, 10);
	if (end == env || *end != ':')
		return false;
	const char *i = end + 1;
	unsigned long long n = strtoull(i, &end, 10);
	if (end == i || *end)
		return false;
	return d == dev && n == ino;
}

void fd_log_init(int level)
{
	log_level = clamp_level(level);
	const char *p = getenv("FUNNELD_LOG_PREFIX");
	struct stat st;
	if (p && strcmp(p, "1") == 0)
		log_out = OUT_PREFIX;
	else if (fstat(STDERR_FILENO, &st) == 0 &&
	         fd_log_journal_stream_is(getenv("JOURNAL_STREAM"), (uint64_t)st.st_dev,
	                                  (uint64_t)st.st_ino))
		log_out = OUT_JOURNAL;
	else
		log_out = OUT_PLAIN;
}

void fd_log_set_redact(bool on, const char *key)
{
	fd_redact_init(&log_redact, on, key);
}

int fd_log_enabled(int level)
{
	return level <= log_level;
}

bool fd_log_journal(void)
{
	if (log_out == OUT_UNSET)
		fd_log_init(log_level);
	return log_out == OUT_JOURNAL;
}

const char *fd_log_id(const char *id, char buf[FD_REDACT_TOKEN_LEN + 1])
{
	return fd_redact_id(&log_redact, id, buf);
}

size_t fd_log_journal_fields(int level, const fd_log_fields *f, const fd_redact *r,
                             const char *msg, char out[FD_LOG_JOURNAL_FIELDS][FD_LOG_FIELD_MAX])
{
	size_t n = 0;
	snprintf(out[n++], FD_LOG_FIELD_MAX, "MESSAGE=%s", msg);
	snprintf(out[n++], FD_LOG_FIELD_MAX, "PRIORITY=%d", clamp_level(level));
	snprintf(out[n++], FD_LOG_FIELD_MAX, "SYSLOG_IDENTIFIER=funneld");
	if (!f)
		return n;
	char token[FD_REDACT_TOKEN_LEN + 1];
	if (f->lead_id)
		snprintf(out[n++], FD_LOG_FIELD_MAX, "LEAD_ID=%s", fd_redact_id(r, f->lead_id, token));
	if (f->stage && *f->stage)
		snprintf(out[n++], FD_LOG_FIELD_MAX, "STAGE=%s", f->stage);
	if (f->trigger && *f->trigger)
		snprintf(out[n++], FD_LOG_FIELD_MAX, "TRIGGER=%s", f->trigger);
	if (f->partition >= 0)
		snprintf(out[n++], FD_LOG_FIELD_MAX, "PARTITION=%" PRId32, f->partition);
	if (f->topic && *f->topic)
		snprintf(out[n++], FD_LOG_FIELD_MAX, "TOPIC=%s", f->topic);
	return n;
}

static void write_stderr(int out, int level, const char *msg)
{
	if (out != OUT_PLAIN) {
		fprintf(stderr, "<%d>%s\n", level, msg);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7s %s\n", tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	        level_names[clamp_level(level)], msg);
}

static void emit(int level, const fd_log_fields *f, const char *msg)
{
	if (log_out == OUT_UNSET)
		fd_log_init(log_level);
	if (log_out == OUT_JOURNAL) {
		char fields[FD_LOG_JOURNAL_FIELDS][FD_LOG_FIELD_MAX];
		struct iovec iov[FD_LOG_JOURNAL_FIELDS];
		size_t n = fd_log_journal_fields(level, f, &log_redact, msg, fields);
		for (size_t i = 0; i < n; i++)
			iov[i] = (struct iovec){ fields[i], strlen(fields[i]) };
		if (sd_journal_sendv(iov, (int)n) >= 0)
			return;
		write_stderr(OUT_PREFIX, level, msg); /* the journal refused it */
		return;
	}
	write_stderr(log_out, level, msg);
}

void fd_log_write(int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit(level, NULL, msg);
}

void fd_log_lead_write(int level, const fd_log_fields *f, const char *fmt, ...)
{
	char body[2048], msg[2304];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	char token[FD_REDACT_TOKEN_LEN + 1];
	if (f && f->lead_id)
		snprintf(msg, sizeof msg, "lead %s: %s", fd_redact_id(&log_redact, f->lead_id, token),
		         body);
	else
		snprintf(msg, sizeof msg, "%s", body);
	emit(level, f, msg);
}
