/*
 * config/scan.h — a second, lexical reading of a libconfig text, for what
 * libconfig 1.5 does not say.
 *
 * libconfig reports "duplicate setting name" without the name, reports an
 * extra '}' where the parse finally fails (the '}' that closes the group it
 * belonged to, often many lines later: the extra one closed that group
 * early and the settings after it still parse, at the level above), and
 * stores an integer literal that does not fit in 32 bits (no L suffix)
 * truncated to its low 32 bits without a word. This scanner tokenizes the
 * text the way libconfig 1.5's scanner does (comments, strings and their
 * escapes, names, numbers, @include lines, whose files it reads the way
 * libconfig does: include_dir/NAME) and follows the nesting of groups,
 * lists and arrays, so it can name the setting at a line, tell which
 * closing bracket is probably the extra one (from the indentation: the
 * lines after it are indented as members of the group it closed), and hand
 * every integer literal that libconfig may not store as written to a
 * callback, with the path of the setting it belongs to.
 *
 * What it is not: a parser. It never decides whether a text is valid
 * (libconfig does); config.c asks it only after libconfig has answered,
 * and uses what it says only when it agrees with libconfig (same file and
 * line, same stored setting).
 */
#ifndef FD_CONFIG_SCAN_H
#define FD_CONFIG_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#define FD_CFG_SCAN_PATH_MAX 256
#define FD_CFG_SCAN_FILE_MAX 256

/* An integer literal that libconfig may not store as written: decimal
 * beyond 32 bits without L, hexadecimal above 0x7fffffff without L, or
 * anything beyond 64 bits. */
typedef struct fd_config_scan_int {
	const char *file;     /* NULL: the main text; else as written in @include */
	int line;
	const char *path;     /* "state.max_leads", "slas.[0].x" */
	const char *literal;  /* as written, "5000000000" */
	bool fits64;          /* its value fits in int64_t */
	int64_t value;        /* that value, when it fits */
} fd_config_scan_int;

/* Return non-zero to stop the scan. */
typedef int (*fd_config_scan_int_fn)(void *arg, const fd_config_scan_int *lit);

typedef struct fd_config_scan_opts {
	const char *include_dir;      /* as given to config_set_include_dir; NULL: none */
	/* where libconfig failed (file NULL: the main text), for the
	   duplicate name and the bracket diagnosis; line 0: not asked */
	const char *error_file;
	int error_line;
	fd_config_scan_int_fn on_int; /* NULL: not asked */
	void *arg;
} fd_config_scan_opts;

/* What the scan found about libconfig's error (opts.error_line). */
typedef struct fd_config_scan_report {
	/* a setting name at the error line that its group already has */
	char dup_path[FD_CFG_SCAN_PATH_MAX]; /* "" : none */
	char dup_first_file[FD_CFG_SCAN_FILE_MAX]; /* "" : the main text */
	int dup_first_line;
	/* a closing bracket at the error line that closes nothing */
	char closer;                  /* '}', ')' or ']'; 0: none */
	int closer_line;
	/* the group (or list) that was closed before its time, and where */
	char early_path[FD_CFG_SCAN_PATH_MAX];  /* "" : unnamed */
	int early_open_line;
	int early_close_line;         /* 0: not known */
	char early_closer;
	/* why early_close_line is probably the extra one, 0: no reason to
	   think so (then either it or closer_line is) */
	int early_suspect;
} fd_config_scan_report;

enum {
	FD_CFG_SCAN_SUSPECT_FOLLOWERS = 1, /* the lines after it are indented as
	                                      members of what it closed */
	FD_CFG_SCAN_SUSPECT_INDENT = 2     /* it is not indented like the line
	                                      that opened what it closed */
};

/* Scan `text` (NUL-terminated) with `opts`; fill *report (zeroed first).
 * Calls opts->on_int for each literal it describes, in text order.
 * Returns 0, or -1 when it ran out of memory (the report is then partial). */
int fd_config_scan(const char *text, const fd_config_scan_opts *opts,
                   fd_config_scan_report *report);

#endif /* FD_CONFIG_SCAN_H */
