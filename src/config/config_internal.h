/*
 * config/config_internal.h — what the loader's files share: the context of
 * one load, a value on its way from text or tree to fd_config, and the
 * helpers more than one of them calls.
 *
 * config.c reads the file, walks the tree against the table and stores the
 * values; it defines the error, path and value helpers declared here.
 * check.c validates list elements (the table's `check` hooks) and the rules
 * across sections; override.c applies `-o path=value` to the parsed tree
 * before the walk; schema.c is the table all three read (schema.h).
 *
 * What it is not: an API. Only src/config includes it (scripts/layers.sh
 * refuses an *_internal.h from another folder); the daemon sees config.h,
 * the unit test schema.h. Nothing declared here keeps state between loads.
 */
#ifndef FD_CONFIG_CONFIG_INTERNAL_H
#define FD_CONFIG_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>
#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "config/schema.h"

#define FD_CFG_PATH_MAX 256
#define FD_CFG_WHERE_MAX 2048        /* "file:line" or "-o path=value" */
#define FD_CFG_MAX_ITEMS 64          /* longest array accepted anywhere */
#define FD_CFG_MAX_FIELD_PROPS 4     /* Kafka properties kept in fields */

/* An override; libconfig settings it created point here through their hook,
 * which is how an error finds out that it came from the command line. */
typedef struct fd_config_override {
	const char *text;
} fd_config_override;

/* One load, from the first override to the last check; fd_config_load_text
 * (config.c) owns it and frees what it holds. */
typedef struct fd_config_ctx {
	fd_config *cfg;
	const char *name;               /* file name for messages */
	const char *include_dir;        /* @include files are relative to it */
	char *errstr;
	size_t errstr_size;
	config_t *lc;                   /* the parsed tree; NULL for defaults */
	rd_kafka_conf_t *kconf;         /* scratch, to validate properties */
	fd_config_override *overrides;
	const config_setting_t **prop_at; /* where kafka_props[i] was set */
	size_t prop_cap;
	const fd_config_def *field_prop_row[FD_CFG_MAX_FIELD_PROPS];
	const config_setting_t *field_prop_at[FD_CFG_MAX_FIELD_PROPS];
	int n_field_props;
	bool int_refused;               /* an integer literal libconfig did not store as written */
} fd_config_ctx;

/* A setting's value before it is checked and stored: from the tree, from a
 * default or from an override's text. Strings are borrowed. */
typedef enum fd_config_vkind {
	FD_CFG_V_INT,
	FD_CFG_V_FLOAT,
	FD_CFG_V_BOOL,
	FD_CFG_V_STRING,
	FD_CFG_V_ARRAY
} fd_config_vkind;

typedef struct fd_config_value {
	fd_config_vkind kind;
	int64_t i;
	double f;
	bool b;
	const char *s;
	size_t n;
	const char *items[FD_CFG_MAX_ITEMS];
	const config_setting_t *item_at[FD_CFG_MAX_ITEMS]; /* NULL: not from the tree */
} fd_config_value;

/* ---- errors (config.c) ------------------------------------------------------ */

/* "file:line", or "-o path=value" when `at` (or a group holding it) was
 * created by an override, or just the file name when `at` is NULL. */
void fd_config_where(const fd_config_ctx *ctx, const config_setting_t *at, char *buf, size_t size);

/* Writes "where: what" to the caller's errstr, `at` giving the where; always
 * returns -1. */
int fd_config_fail(fd_config_ctx *ctx, const config_setting_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same for a problem with an override's own text, before any setting
 * exists: "-o path=value: what". */
int fd_config_fail_override(fd_config_ctx *ctx, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What a setting is, for messages: "an integer", "a group", ... */
const char *fd_config_got(const config_setting_t *s);

/* Shortest exact spelling of a duration: "48h", "7d", "250ms", "0". */
void fd_config_format_ms(int64_t ms, char *buf, size_t size);

/* ---- paths and values (config.c) -------------------------------------------- */

/* "a.b", or just "b" when `a` is "". */
void fd_config_join(char *out, size_t size, const char *a, const char *b);

/* The row of `table` at `path`, or NULL. */
const fd_config_def *fd_config_row(const fd_config_def *table, size_t n, const char *path);

/* Does some row live below `path` (so `path` is a group on the way)? */
bool fd_config_rows_under(const fd_config_def *table, size_t n, const char *path);

/* The setting at dotted `path` from the root of the parsed tree, or NULL
 * (always NULL when there is no tree). */
const config_setting_t *fd_config_lookup(const fd_config_ctx *ctx, const char *path);

/* Type `text` (a default, or an override's value) as `row` wants it. Array
 * items are split on commas, in place, with blanks around them trimmed.
 * Returns NULL, or what was expected. */
const char *fd_config_value_from_text(const fd_config_def *row, char *text, fd_config_value *v);

/* ---- checks (check.c) ------------------------------------------------------- */

/* The table's `check` hooks (fd_config_check_fn), one per list section. */
int fd_config_check_event(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
                          int index, const char *shown);
int fd_config_check_fit_rule(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
                             int index, const char *shown);
int fd_config_check_disqualifier(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
                                 int index, const char *shown);
int fd_config_check_sla(fd_config_ctx *ctx, const config_setting_t *elem, void *array, int index,
                        const char *shown);
int fd_config_check_sla_override(fd_config_ctx *ctx, const config_setting_t *elem, void *array,
                                 int index, const char *shown);

/* The rules that span sections, once every setting is stored: grade
 * thresholds decrease, windows fit the bucket, topics are distinct; then
 * what would never work: no event types, no way for a lead to qualify. 0,
 * or -1 with the first problem written through the context. */
int fd_config_check_across(fd_config_ctx *ctx);

/* ---- overrides (override.c) ------------------------------------------------- */

/* Apply one `-o path=value` to the parsed tree (ctx->lc), typed by the
 * table; the settings it creates carry `o` as their hook. 0, or -1 with the
 * error written through the context. */
int fd_config_apply_override(fd_config_ctx *ctx, fd_config_override *o);

#endif /* FD_CONFIG_CONFIG_INTERNAL_H */
