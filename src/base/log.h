/*
 * log.h — logging for a daemon under systemd or in a terminal.
 *
 * Three ways out, chosen by fd_log_init:
 *   - journald's native protocol (sd_journal_send) when stderr is the
 *     journal stream systemd connected: $JOURNAL_STREAM names the device
 *     and inode of that stream and they match stderr's (as systemd.exec(5)
 *     tells services to check). Every line carries MESSAGE, PRIORITY and
 *     SYSLOG_IDENTIFIER=funneld, and a line about a lead the fields it
 *     knows of LEAD_ID, STAGE, TRIGGER, PARTITION, TOPIC (journalctl
 *     LEAD_ID=... or -o verbose). If the journal refuses a line it goes to
 *     stderr with the prefix below.
 *   - stderr with the syslog priority prefix "<N>" that journald
 *     understands (FUNNELD_LOG_PREFIX=1 forces it, e.g. under another
 *     supervisor that reads it);
 *   - stderr with a UTC timestamp and the level name (a terminal, a file).
 *
 * Lead ids are often e-mail addresses: with redaction on (log.redact_ids,
 * the default) a lead is shown, in the text and in LEAD_ID alike, as its
 * token (redact.h), never as its id. Code that names a lead logs it with
 * fd_log_lead (which writes "lead ID: ..." and the fields) or passes the id
 * through fd_log_id.
 *
 * The level is checked before anything is formatted. The threshold, the
 * way out and the redaction key are process-wide state set by main before
 * anything else runs, and again by a reload (the one exception to "no
 * global mutable state outside main", kept here so every module can log
 * without threading a logger through).
 */
#ifndef FD_BASE_LOG_H
#define FD_BASE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/redact.h"

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

/* What a line about a lead knows; NULL strings and partition -1: unknown. */
typedef struct fd_log_fields {
	const char *lead_id;        /* the id itself: shown redacted per the setting */
	const char *stage;
	const char *trigger;
	int32_t partition;
	const char *topic;
} fd_log_fields;

#define FD_LOG_JOURNAL_FIELDS 8     /* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and five more */
#define FD_LOG_FIELD_MAX 2304       /* one field, "NAME=value" */

/* Set the threshold (0..7) and detect journald. */
void fd_log_init(int level);

/* Lead ids as tokens keyed by `key` (on), or as they are (off). Off until
 * called: main calls it with the configuration's log.redact_ids. */
void fd_log_set_redact(bool on, const char *key);

/* Would a message at `level` be written? */
int fd_log_enabled(int level);

/* Does logging go to the journal's native protocol? */
bool fd_log_journal(void);

/* The text to show for lead `id` (its token while redaction is on). */
const char *fd_log_id(const char *id, char buf[FD_REDACT_TOKEN_LEN + 1]);

void fd_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line about a lead: "lead ID: " then the message, and under journald the
 * fields of `f`. */
void fd_log_lead_write(int level, const fd_log_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define fd_log(level, ...)                         \
	do {                                           \
		if (fd_log_enabled(level))                 \
			fd_log_write((level), __VA_ARGS__);    \
	} while (0)

#define fd_log_lead(level, f, ...)                          \
	do {                                                    \
		if (fd_log_enabled(level))                          \
			fd_log_lead_write((level), (f), __VA_ARGS__);   \
	} while (0)

/* ---- pure parts, for tests ---------------------------------------------------- */

/* Is $JOURNAL_STREAM (`env`, "DEVICE:INODE" in decimal) the stream with
 * this device and inode? NULL or malformed: no. */
bool fd_log_journal_stream_is(const char *env, uint64_t dev, uint64_t ino);

/* The journal fields of one line, "NAME=value" each, into out[0..]: MESSAGE
 * (`msg`), PRIORITY, SYSLOG_IDENTIFIER=funneld, then those of `f` (may be
 * NULL) that are known, LEAD_ID redacted by `r`. Values longer than a
 * field are cut. Returns how many. */
size_t fd_log_journal_fields(int level, const fd_log_fields *f, const fd_redact *r,
                             const char *msg, char out[FD_LOG_JOURNAL_FIELDS][FD_LOG_FIELD_MAX]);

#endif
