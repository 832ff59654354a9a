/*
 * config/schema.h — the one table that describes every funneld setting.
 *
 * Each row names a setting by its libconfig path ("scoring.half_life"), says
 * what type it has, its default (written the way `-o path=value` would write
 * it), its range, where it is stored in fd_config, and what it is for. The
 * loader (config.c) uses the rows to apply defaults, to validate scalars and
 * to refuse unknown settings, override.c to type `-o` overrides; the
 * annotated config/funneld.conf and the unit tests are checked against it.
 * schema.c holds the rows.
 *
 * List sections (event types, fit rules, disqualifiers, SLAs) are rows too:
 * their `sub` table describes one element, with offsets relative to the
 * element struct, and a `check` hook (check.c) validates what spans several
 * settings (duplicates, exactly-one-of, cross references). Rules that span
 * sections (grade order, window/bucket, distinct topics) live in check.c.
 *
 * This header is internal to src/config and its unit test; the other layers
 * only ever see the validated fd_config of config/config.h.
 */
#ifndef FD_CONFIG_SCHEMA_H
#define FD_CONFIG_SCHEMA_H

#include <stddef.h>

#include <libconfig.h>

#include "config/config.h"

typedef enum fd_config_type {
	FD_CFG_INT,            /* libconfig integer; stored as int */
	FD_CFG_INT64,          /* libconfig integer; stored as int64_t */
	FD_CFG_FLOAT,          /* integer or float; stored as double */
	FD_CFG_BOOL,           /* true/false; stored as bool */
	FD_CFG_STRING,         /* stored in char[size] */
	FD_CFG_DURATION,       /* string such as "48h"; stored as int64_t ms */
	FD_CFG_ENUM,           /* string, one of `names`; stored as int or bool
	                          (by `size`) */
	FD_CFG_ENUM_SET,       /* array of `names`; stored as a uint32_t mask of
	                          1 << value */
	FD_CFG_STRING_ARRAY,   /* array of strings; char[cap][size] + int count
	                          at `aux` */
	FD_CFG_DURATION_ARRAY, /* array of durations; int64_t[cap] + int count
	                          at `aux` */
	FD_CFG_GROUP,          /* group whose members are `sub`; only the members
	                          it lists are present (presence flags reset) */
	FD_CFG_LIST,           /* list of groups, each described by `sub`;
	                          elements of `size` bytes at `offset`, count at
	                          `aux`, at most `cap` */
	FD_CFG_KAFKA,          /* group of librdkafka properties: a member's path
	                          below it, dots and all, is the property name */
	FD_CFG_KAFKA_LIST,     /* array of "name=value" librdkafka properties */
	FD_CFG_KAFKA_PROP      /* one librdkafka property with a default; stored
	                          in char[size] at `offset` when size > 0, else in
	                          the property list */
} fd_config_type;

enum {
	FD_CFG_F_REQUIRED = 1u << 0,  /* list element member that must be set */
	FD_CFG_F_PRESENCE = 1u << 1,  /* storing it sets the bool at `aux` */
	FD_CFG_F_NONEMPTY = 1u << 2,  /* string: not ""; array: >= 1 element */
	FD_CFG_F_IDENT = 1u << 3,     /* string(s) of [A-Za-z0-9_.:-] */
	FD_CFG_F_TOPIC = 1u << 4,     /* a Kafka topic name; topics are distinct */
	FD_CFG_F_INT_OK = 1u << 5,    /* enum: an integer in [min, max] is valid */
	FD_CFG_F_MAX_OPEN = 1u << 6   /* range is [min, max), not [min, max] */
};

/* The names an enum-typed setting accepts, case-insensitively. Either
 * `names` or `name_of` gives the i-th name (i in [first, n)); the stored
 * value is values[i], or i when `values` is NULL. */
typedef struct fd_config_enum {
	const char *what;              /* "stage", for messages */
	int first, n;
	const char *const *names;
	const char *(*name_of)(int i);
	const int *values;
} fd_config_enum;

struct fd_config_ctx;
typedef struct fd_config_def fd_config_def;

/* Validates list element `index` of `array` once all its members are
 * stored; `shown` is its path for messages ("slas.[2]"). 0 or -1 with the
 * error written through the context. */
typedef int (*fd_config_check_fn)(struct fd_config_ctx *ctx, const config_setting_t *elem,
                                  void *array, int index, const char *shown);

struct fd_config_def {
	const char *path;      /* relative to the table's base */
	fd_config_type type;
	unsigned flags;        /* FD_CFG_F_* */
	const char *def;       /* default, in -o syntax (arrays: "a,b"); NULL:
	                          none (zero) */
	double min, max;       /* numbers; durations in ms; enum integers */
	size_t offset;         /* where it is stored, from the base */
	size_t size;           /* string buffer / enum storage / element size */
	size_t aux;            /* count (arrays, lists) or presence flag */
	int cap;               /* max elements of an array or list */
	const fd_config_enum *names;
	const fd_config_def *sub;
	size_t n_sub;
	fd_config_check_fn check;
	const char *doc;
};

/* Every top-level setting; offsets are from fd_config. */
extern const fd_config_def fd_config_table[];
extern const size_t fd_config_table_size;

#endif /* FD_CONFIG_SCHEMA_H */
