/*
 * iso8601.c — ISO-8601 / RFC 3339 timestamps, to and from milliseconds
 * since the Unix epoch: parsing for JSON inputs (Segment `timestamp`), and
 * formatting for CloudEvents `ce_time` headers.
 *
 * What it is not: no local time, no time zone database (an explicit offset
 * or Z is required), no clock reads.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "funneld/wire.h"

/* ---- ISO-8601 timestamps ------------------------------------------------- */

/* Read exactly `n` digits. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, 1 <= y <= 9999). */
static int64_t days_since_epoch(int y, int m, int d)
{
	static const int before_month[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	/* leap days in years [1, y): every 4th, minus centuries, plus every 400th */
	int64_t prev = y - 1;
	int64_t days = (int64_t)(y - 1970) * 365 + (prev / 4 - prev / 100 + prev / 400) -
	               (1969 / 4 - 1969 / 100 + 1969 / 400);
	days += before_month[m - 1] + (m > 2 && leap_year(y) ? 1 : 0);
	return days + d - 1;
}

int fd_iso8601_parse(const char *text, int64_t *out_ms)
{
	static const int month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = text;
	int y, mo, d, h, mi, s, ms = 0;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &s))
		return -1;
	if (*p == '.' || *p == ',') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		/* keep milliseconds, drop finer digits */
		int n = 0;
		for (; isdigit((unsigned char)*p); p++) {
			if (n < 3) {
				ms = ms * 10 + (*p - '0');
				n++;
			}
		}
		for (; n < 3; n++)
			ms *= 10;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
		offset_min = sign * (oh * 60 + om);
	} else {
		return -1; /* no zone: local time is ambiguous */
	}
	if (*p)
		return -1;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days[mo - 1] + (mo == 2 && leap_year(y) ? 1 : 0) ||
	    h > 23 || mi > 59 || s > 60)
		return -1;

	int64_t secs = days_since_epoch(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s -
	               (int64_t)offset_min * 60;
	*out_ms = secs * 1000 + ms;
	return 0;
}

void fd_iso8601_format(int64_t ms, char *buf, size_t size)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
