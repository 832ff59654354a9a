/*
 * log.h — logging to stderr for a daemon under systemd or in a terminal.
 *
 * Under systemd (JOURNAL_STREAM set, or FUNNELD_LOG_PREFIX=1) each line
 * starts with the syslog priority prefix "<N>" that journald understands;
 * in a terminal it starts with a UTC timestamp and the level name. The level
 * is checked before anything is formatted.
 *
 * The threshold is process-wide state set once by main before anything else
 * runs (the one exception to "no global mutable state outside main", kept
 * here so every module can log without threading a logger through).
 */
#ifndef FD_BASE_LOG_H
#define FD_BASE_LOG_H

enum {
	FD_LOG_EMERG = 0,
	FD_LOG_ALERT,
	FD_LOG_CRIT,
	FD_LOG_ERR,
	FD_LOG_WARNING,
	FD_LOG_NOTICE,
	FD_LOG_INFO,
	FD_LOG_DEBUG
};

/* Set the threshold (0..7) and detect journald. */
void fd_log_init(int level);

/* Would a message at `level` be written? */
int fd_log_enabled(int level);

void fd_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fd_log(level, ...)                         \
	do {                                           \
		if (fd_log_enabled(level))                 \
			fd_log_write((level), __VA_ARGS__);    \
	} while (0)

#endif
