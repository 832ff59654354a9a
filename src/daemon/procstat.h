/*
 * procstat.h — the standard Prometheus process metrics of this process
 * (process_cpu_seconds_total, process_resident_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds), read from
 * Linux's /proc and getrlimit(2) when /metrics is scraped.
 *
 * The parsing is pure (text in, numbers out) and tested on sample text;
 * fd_procstat_read does the reading: /proc/self/stat, /proc/self/fd, and
 * the boot time from /proc/stat, or, where that is hidden (the shipped
 * unit's ProcSubset=pid), from the wall clock less CLOCK_BOOTTIME.
 *
 * What it is not: portable beyond Linux (where /proc is missing the
 * metrics are absent), and no cache: each scrape reads afresh (two small
 * files and a directory listing).
 */
#ifndef FD_DAEMON_PROCSTAT_H
#define FD_DAEMON_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>

/* Fields of /proc/self/stat (proc(5)), in the kernel's units. */
typedef struct fd_procstat_raw {
	uint64_t utime_ticks;       /* field 14: user CPU, clock ticks */
	uint64_t stime_ticks;       /* field 15: system CPU, clock ticks */
	uint64_t start_ticks;       /* field 22: start, clock ticks after boot */
	int64_t rss_pages;          /* field 24: resident set, pages */
} fd_procstat_raw;

typedef struct fd_procstat {
	double cpu_seconds;         /* user + system */
	uint64_t resident_bytes;
	double start_time_seconds;  /* since the Unix epoch */
	uint64_t open_fds;
	uint64_t max_fds;           /* RLIMIT_NOFILE's soft limit */
} fd_procstat;

/* Parse the text of /proc/PID/stat. The command name (field 2) may hold
 * spaces and parentheses: fields are counted from its last ')'. 0, or -1
 * when the text is not such a line. */
int fd_procstat_parse_stat(const char *text, fd_procstat_raw *out);

/* The boot time (the "btime" line of /proc/stat), seconds since the
 * epoch. 0, or -1 when there is none. */
int fd_procstat_parse_btime(const char *text, int64_t *btime);

/* The metrics from the raw fields: `ticks` per second (sysconf
 * _SC_CLK_TCK), `page_size` bytes, `btime` the boot time. open_fds and
 * max_fds are left as they are. */
void fd_procstat_compute(const fd_procstat_raw *raw, long ticks, long page_size, int64_t btime,
                         fd_procstat *out);

/* The boot time, seconds since the epoch: the btime line of the file at
 * `path` (/proc/stat), or, when it cannot be read, the wall clock less
 * CLOCK_BOOTTIME (within a second of it). 0, or -1. */
int fd_procstat_boot_time(const char *path, int64_t *btime);

/* Read this process's figures. 0, or -1 when /proc cannot be read (then
 * *out is unchanged). */
int fd_procstat_read(fd_procstat *out);

#endif
