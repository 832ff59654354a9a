/*
 * procstat.c — process metrics from /proc (see procstat.h).
 */
#include "daemon/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int fd_procstat_parse_stat(const char *text, fd_procstat_raw *out)
{
	const char *p = text ? strrchr(text, ')') : NULL;
	if (!p || p[1] != ' ')
		return -1;
	p += 2; /* field 3, the state */
	fd_procstat_raw r = { 0 };
	for (int field = 3; field <= 24; field++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -1;
		if (field >= 14) {
			char *end;
			errno = 0;
			long long v = strtoll(p, &end, 10);
			if (end == p || errno)
				return -1;
			if (field == 14)
				r.utime_ticks = (uint64_t)v;
			else if (field == 15)
				r.stime_ticks = (uint64_t)v;
			else if (field == 22)
				r.start_ticks = (uint64_t)v;
			else if (field == 24)
				r.rss_pages = v;
		}
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	*out = r;
	return 0;
}

int fd_procstat_parse_btime(const char *text, int64_t *btime)
{
	for (const char *line = text; line && *line;) {
		if (strncmp(line, "btime ", 6) == 0) {
			char *end;
			long long v = strtoll(line + 6, &end, 10);
			if (end == line + 6)
				return -1;
			*btime = v;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

void fd_procstat_compute(const fd_procstat_raw *raw, long ticks, long page_size, int64_t btime,
                         fd_procstat *out)
{
	if (ticks <= 0)
		ticks = 100;
	out->cpu_seconds = (double)(raw->utime_ticks + raw->stime_ticks) / (double)ticks;
	out->resident_bytes = raw->rss_pages > 0 ? (uint64_t)raw->rss_pages * (uint64_t)page_size : 0;
	out->start_time_seconds = (double)btime + (double)raw->start_ticks / (double)ticks;
}

/* The whole of a small /proc file into buf (NUL-terminated). */
static int read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* The btime line of the file at `path`, read line by line: the "intr" line
 * before it can be tens of kilobytes. */
static int read_btime(const char *path, int64_t *btime)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;
	while (rc != 0 && getline(&line, &cap, f) > 0)
		rc = fd_procstat_parse_btime(line, btime);
	free(line);
	fclose(f);
	return rc;
}

int fd_procstat_boot_time(const char *path, int64_t *btime)
{
	if (read_btime(path, btime) == 0)
		return 0;
	/* hidden (systemd's ProcSubset=pid, as the shipped unit sets): the
	 * wall clock less the time since boot */
	struct timespec wall, boot;
	if (clock_gettime(CLOCK_REALTIME, &wall) != 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
		return -1;
	*btime = (int64_t)wall.tv_sec - (int64_t)boot.tv_sec;
	return 0;
}

int fd_procstat_read(fd_procstat *out)
{
	char stat[1024];
	fd_procstat_raw raw;
	int64_t btime = 0;
	if (read_text("/proc/self/stat", stat, sizeof stat) != 0 ||
	    fd_procstat_parse_stat(stat, &raw) != 0)
		return -1;
	if (fd_procstat_boot_time("/proc/stat", &btime) != 0)
		return -1;
	fd_procstat r;
	fd_procstat_compute(&raw, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), btime, &r);
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	uint64_t n = 0;
	for (struct dirent *e; (e = readdir(dir));)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	r.open_fds = n > 0 ? n - 1 : 0; /* the listing's own descriptor */
	struct rlimit lim;
	r.max_fds = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY
	                ? (uint64_t)lim.rlim_cur
	                : 0;
	*out = r;
	return 0;
}
