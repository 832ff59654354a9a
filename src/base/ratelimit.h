/*
 * ratelimit.h — how often a repeating log line is written: the first time,
 * then at most once per window with a count of the ones held back.
 *
 * Lines are told apart by a key (the caller's: the text without what
 * varies from one occurrence to the next). A key seen for the first time,
 * or again after a window with none held back, is written as it is; within
 * the window after a written one it is held back and counted; the first
 * occurrence after the window is written with that count ("and 59 more
 * like it"). A fixed table remembers the most recently seen keys; the one
 * seen longest ago makes room for a new one.
 *
 * Pure: the caller passes the time and does the writing and the locking
 * (librdkafka calls its log callback from its own threads). Nothing is
 * allocated.
 */
#ifndef FD_BASE_RATELIMIT_H
#define FD_BASE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define FD_RATELIMIT_KEYS 32
#define FD_RATELIMIT_KEY_MAX 192   /* longer keys are told apart by their start */

typedef struct fd_ratelimit_key {
	char key[FD_RATELIMIT_KEY_MAX];
	int64_t written_ms;            /* when it was last written */
	int64_t seen_ms;               /* when it last occurred */
	uint64_t held;                 /* occurrences held back since written_ms */
	bool used;
} fd_ratelimit_key;

typedef struct fd_ratelimit {
	int64_t window_ms;
	fd_ratelimit_key keys[FD_RATELIMIT_KEYS];
} fd_ratelimit;

/* An empty table with the given window. */
void fd_ratelimit_init(fd_ratelimit *rl, int64_t window_ms);

/* One occurrence of `key` at `now_ms`: true when it is to be written, with
 * *held the number of occurrences held back since the last one written
 * (0: write it as it is); false when it is held back (counted). */
bool fd_ratelimit_allow(fd_ratelimit *rl, const char *key, int64_t now_ms, uint64_t *held);

#endif
