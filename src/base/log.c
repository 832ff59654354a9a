/*
 * log.c — stderr logging with journald priority prefixes (see log.h).
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set once at start-up by main (see log.h); read-only afterwards. */
static int log_level = FD_LOG_INFO;
static int log_journal = -1;

static const char *const level_names[] = { "emerg", "alert", "crit", "error",
	                                       "warning", "notice", "info", "debug" };

void fd_log_init(int level)
{
	log_level = level < 0 ? 0 : level > 7 ? 7 : level;
	const char *p = getenv("FUNNELD_LOG_PREFIX");
	log_journal = (p && strcmp(p, "1") == 0) || getenv("JOURNAL_STREAM") != NULL;
}

int fd_log_enabled(int level)
{
	return level <= log_level;
}

void fd_log_write(int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (log_journal < 0)
		fd_log_init(log_level);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", level, msg);
		return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7s %s\n", tm.tm_year + 1900,
	        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	        level_names[level < 0 ? 0 : level > 7 ? 7 : level], msg);
}
