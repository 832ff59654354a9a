/*
 * test_procstat.c — the process metrics' parsing, on sample text of
 * /proc/PID/stat and /proc/stat (a command name with spaces and
 * parentheses, as the kernel writes it), and one read of this process.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "daemon/procstat.h"

/* funneld's own line, with an awkward command name: fields counted from
 * the last ')' (utime 1234, stime 566, starttime 250000, rss 3000). */
static const char stat_line[] =
	"4242 (funn) eld (x)) S 1 4242 4242 0 -1 4194560 3000 0 0 0 1234 566 0 0 20 0 5 0 "
	"250000 123456789 3000 18446744073709551615 1 1 0 0 0 0 0 4096 17000 0 0 0 17 1 0 0 0 0 0\n";

Test(procstat, parse_stat_counts_fields_from_the_last_parenthesis)
{
	fd_procstat_raw r;
	cr_assert_eq(fd_procstat_parse_stat(stat_line, &r), 0);
	cr_assert_eq(r.utime_ticks, 1234);
	cr_assert_eq(r.stime_ticks, 566);
	cr_assert_eq(r.start_ticks, 250000);
	cr_assert_eq(r.rss_pages, 3000);
}

Test(procstat, parse_stat_refuses_a_truncated_line)
{
	fd_procstat_raw r;
	cr_assert_eq(fd_procstat_parse_stat("4242 (funneld) S 1 4242 4242 0 -1 4194560\n", &r), -1);
	cr_assert_eq(fd_procstat_parse_stat("no parenthesis", &r), -1);
	cr_assert_eq(fd_procstat_parse_stat(NULL, &r), -1);
}

Test(procstat, btime_and_the_figures_in_seconds_and_bytes)
{
	int64_t btime = 0;
	cr_assert_eq(fd_procstat_parse_btime("cpu  1 2 3\nintr 9 9 9\nctxt 77\nbtime 1764290000\n"
	                                     "processes 900\n",
	                                     &btime),
	             0);
	cr_assert_eq(btime, 1764290000);
	cr_assert_eq(fd_procstat_parse_btime("cpu 1\nctxt 2\n", &btime), -1);
	fd_procstat_raw r;
	cr_assert_eq(fd_procstat_parse_stat(stat_line, &r), 0);
	fd_procstat p = { 0 };
	fd_procstat_compute(&r, 100, 4096, 1764290000, &p);
	cr_assert_eq(p.cpu_seconds, 18.0, "(1234 + 566) / 100");
	cr_assert_eq(p.resident_bytes, 3000 * 4096);
	cr_assert_eq(p.start_time_seconds, 1764292500.0, "boot + 250000 / 100");
}

Test(procstat, read_gives_this_process_figures)
{
	fd_procstat p;
	cr_assert_eq(fd_procstat_read(&p), 0);
	struct rlimit lim;
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &lim), 0);
	cr_assert_eq(p.max_fds, (uint64_t)lim.rlim_cur);
	cr_assert_geq(p.open_fds, 3, "stdin, stdout, stderr at least");
	cr_assert_lt(p.start_time_seconds, (double)time(NULL) + 1);
	cr_assert_gt(p.start_time_seconds, (double)time(NULL) - 600);
	cr_assert_gt(p.resident_bytes, 0);
}

/* Under the shipped unit (ProcSubset=pid) /proc/stat is hidden: the boot
 * time then comes from the clocks, within a second or two of the kernel's. */
Test(procstat, the_boot_time_without_proc_stat_comes_from_the_clocks)
{
	int64_t kernel = 0, clocks = 0;
	cr_assert_eq(fd_procstat_boot_time("/proc/stat", &kernel), 0);
	cr_assert_eq(fd_procstat_boot_time("/nonexistent/stat", &clocks), 0);
	cr_assert_leq(llabs(kernel - clocks), 2, "kernel %lld, clocks %lld", (long long)kernel,
	              (long long)clocks);
}
