/*
 * config.c — loads funneld's libconfig file into a validated fd_config: the
 * functions of config.h, and the walk that stores every setting by the
 * table.
 *
 * Steps, in order: parse the text with libconfig; apply the `-o path=value`
 * overrides to the parsed tree (override.c, typed by the table, so an
 * override is validated exactly like the file); fill the defaults; walk
 * every group and list element of the tree against fd_config_table
 * (schema.c), storing what is known and refusing what is not, with each
 * list element checked by its row's hook (check.c); then check the rules
 * that span sections (check.c) and add the Kafka properties left at their
 * defaults. The first problem stops the load and is reported as "file:line:
 * what is wrong", or "-o path=value: what is wrong" when an override brought
 * it in; the error helpers the other files share are here.
 *
 * This file does not interpret the settings (the engine and the Kafka layer
 * do), keeps no state between calls, and never exits or logs: the caller
 * decides what an error means (exit 78 at start-up, keep the old config on
 * SIGHUP). librdkafka is used only to check Kafka property names and values
 * on a scratch rd_kafka_conf_t that is thrown away.
 */
#include "config/config_internal.h"
#include "config/scan.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

#define FD_CFG_FILE_MAX (16u << 20)  /* a bigger config file is a mistake */

/* ---- enumerations ---------------------------------------------------------- */

static const char *fd_config_enum_name(const fd_config_enum *e, int i)
{
	return e->names != NULL ? e->names[i] : e->name_of(i);
}

static int fd_config_enum_value(const fd_config_enum *e, int i)
{
	return e->values != NULL ? e->values[i] : i;
}

/* -1 when `name` is none of e's names. */
static int fd_config_enum_lookup(const fd_config_enum *e, const char *name)
{
	for (int i = e->first; i < e->n; i++)
		if (strcasecmp(fd_config_enum_name(e, i), name) == 0)
			return fd_config_enum_value(e, i);
	return -1;
}

/* "LEAD, MQL or SAL"; with `or_tail`, "a, b, or 0..7" */
static void fd_config_enum_list(const fd_config_enum *e, const char *or_tail, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = e->first; i < e->n && used < size; i++) {
		const char *sep = i == e->first ? "" : (i + 1 == e->n && or_tail == NULL) ? " or " : ", ";
		int w = snprintf(buf + used, size - used, "%s%s", sep, fd_config_enum_name(e, i));
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (or_tail != NULL && used < size)
		snprintf(buf + used, size - used, ", or %s", or_tail);
}

/* ---- errors ---------------------------------------------------------------- */

/* The name of the file a setting or a parse error is in: libconfig knows
 * included files by their name as written in @include, which is relative
 * to the including file's directory. */
static void fd_config_file_name(const fd_config_ctx *ctx, const char *file, char *buf, size_t size)
{
	if (file == NULL)
		snprintf(buf, size, "%s", ctx->name);
	else if (file[0] != '/' && ctx->include_dir != NULL && strcmp(ctx->include_dir, ".") != 0)
		snprintf(buf, size, "%s/%s", ctx->include_dir, file);
	else
		snprintf(buf, size, "%s", file);
}

/* "file:line", or "-o path=value" when `at` (or a group holding it) was
 * created by an override, or just the file name when there is no setting to
 * point at. */
void fd_config_where(const fd_config_ctx *ctx, const config_setting_t *at, char *buf, size_t size)
{
	for (const config_setting_t *s = at; s != NULL; s = config_setting_parent(s)) {
		const fd_config_override *o = config_setting_get_hook(s);
		if (o != NULL) {
			snprintf(buf, size, "-o %s", o->text);
			return;
		}
	}
	if (at == NULL) {
		snprintf(buf, size, "%s", ctx->name);
		return;
	}
	char file[FD_CFG_PATH_MAX + 1024];
	fd_config_file_name(ctx, config_setting_source_file(at), file, sizeof file);
	snprintf(buf, size, "%s:%u", file, config_setting_source_line(at));
}

static void fd_config_vput(fd_config_ctx *ctx, const char *where, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void fd_config_vput(fd_config_ctx *ctx, const char *where, const char *fmt, va_list ap)
{
	if (ctx->errstr == NULL || ctx->errstr_size == 0)
		return;
	char what[1024];
	vsnprintf(what, sizeof what, fmt, ap);
	snprintf(ctx->errstr, ctx->errstr_size, "%s: %s", where, what);
}

int fd_config_fail(fd_config_ctx *ctx, const config_setting_t *at, const char *fmt, ...)
{
	char where[FD_CFG_WHERE_MAX];
	fd_config_where(ctx, at, where, sizeof where);
	va_list ap;
	va_start(ap, fmt);
	fd_config_vput(ctx, where, fmt, ap);
	va_end(ap);
	return -1;
}

/* For problems with an override's own text, before any setting exists. */
int fd_config_fail_override(fd_config_ctx *ctx, const char *text, const char *fmt, ...)
{
	char where[FD_CFG_WHERE_MAX];
	snprintf(where, sizeof where, "-o %s", text);
	va_list ap;
	va_start(ap, fmt);
	fd_config_vput(ctx, where, fmt, ap);
	va_end(ap);
	return -1;
}

const char *fd_config_got(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	case CONFIG_TYPE_GROUP: return "a group";
	default: return "nothing";
	}
}

/* pure: reads only *row. Saying so also tells the analyzer that a call
 * leaves row->type as it was. */
static const char *fd_config_expected(const fd_config_def *row) __attribute__((pure));

static const char *fd_config_expected(const fd_config_def *row)
{
	switch (row->type) {
	case FD_CFG_INT:
	case FD_CFG_INT64: return "an integer";
	case FD_CFG_FLOAT: return "a number";
	case FD_CFG_BOOL: return "true or false";
	case FD_CFG_STRING: return "a string";
	case FD_CFG_DURATION: return "a duration string such as \"48h\"";
	case FD_CFG_ENUM: return (row->flags & FD_CFG_F_INT_OK) ? "a name or a number" : "a string";
	case FD_CFG_ENUM_SET:
	case FD_CFG_STRING_ARRAY: return "an array of strings such as [\"a\", \"b\"]";
	case FD_CFG_DURATION_ARRAY: return "an array of durations such as [\"7d\", \"30d\"]";
	case FD_CFG_GROUP:
	case FD_CFG_KAFKA: return "a group { ... }";
	case FD_CFG_LIST: return "a list ( { ... }, ... )";
	case FD_CFG_KAFKA_LIST: return "an array of \"name=value\" strings";
	case FD_CFG_KAFKA_PROP: return "a string, number or boolean";
	}
	return "something else";
}

/* Shortest exact spelling of a duration: "48h", "7d", "250ms", "0". */
void fd_config_format_ms(int64_t ms, char *buf, size_t size)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "d", FD_MS_DAY }, { "h", FD_MS_HOUR }, { "m", FD_MS_MINUTE }, { "s", FD_MS_SECOND },
	};
	if (ms == 0) {
		snprintf(buf, size, "0");
		return;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%lldms", (long long)ms);
}

/* ---- paths and lookups ----------------------------------------------------- */

void fd_config_join(char *out, size_t size, const char *a, const char *b)
{
	if (a[0] == '\0')
		snprintf(out, size, "%s", b);
	else
		snprintf(out, size, "%s.%s", a, b);
}

const fd_config_def *fd_config_row(const fd_config_def *table, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].path, path) == 0)
			return &table[i];
	return NULL;
}

/* Does some row live below `path` (so `path` is a group on the way)? */
bool fd_config_rows_under(const fd_config_def *table, size_t n, const char *path)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < n; i++)
		if (strncmp(table[i].path, path, len) == 0 && table[i].path[len] == '.')
			return true;
	return false;
}

/* Member of `group` at a dotted relative path, or NULL. */
static const config_setting_t *fd_config_member(const config_setting_t *group, const char *path)
{
	char buf[FD_CFG_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	const config_setting_t *s = group;
	for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		if (s == NULL || !config_setting_is_group(s))
			return NULL;
		s = config_setting_get_member(s, tok);
	}
	return s;
}

const config_setting_t *fd_config_lookup(const fd_config_ctx *ctx, const char *path)
{
	if (ctx->lc == NULL)
		return NULL;
	return fd_config_member(config_root_setting(ctx->lc), path);
}

/* ---- values: from the tree, from text -------------------------------------- */

static int fd_config_value_from_setting(fd_config_ctx *ctx, const fd_config_def *row,
                                        const config_setting_t *s, const char *shown,
                                        fd_config_value *v)
{
	int t = config_setting_type(s);
	bool is_int = t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;

	memset(v, 0, sizeof *v);
	switch (row->type) {
	case FD_CFG_INT:
	case FD_CFG_INT64:
		if (is_int) {
			v->kind = FD_CFG_V_INT;
			v->i = config_setting_get_int64(s);
			return 0;
		}
		break;
	case FD_CFG_FLOAT:
		if (is_int || t == CONFIG_TYPE_FLOAT) {
			v->kind = FD_CFG_V_FLOAT;
			v->f = is_int ? (double)config_setting_get_int64(s) : config_setting_get_float(s);
			return 0;
		}
		break;
	case FD_CFG_BOOL:
		if (t == CONFIG_TYPE_BOOL) {
			v->kind = FD_CFG_V_BOOL;
			v->b = config_setting_get_bool(s) != 0;
			return 0;
		}
		break;
	case FD_CFG_STRING:
	case FD_CFG_DURATION:
	case FD_CFG_ENUM:
		if (t == CONFIG_TYPE_STRING) {
			v->kind = FD_CFG_V_STRING;
			v->s = config_setting_get_string(s);
			return 0;
		}
		if (row->type == FD_CFG_ENUM && (row->flags & FD_CFG_F_INT_OK) && is_int) {
			v->kind = FD_CFG_V_INT;
			v->i = config_setting_get_int64(s);
			return 0;
		}
		break;
	case FD_CFG_ENUM_SET:
	case FD_CFG_STRING_ARRAY:
	case FD_CFG_DURATION_ARRAY:
		if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
			int len = config_setting_length(s);
			if (len > FD_CFG_MAX_ITEMS)
				return fd_config_fail(ctx, s, "%s: too many values (%d)", shown, len);
			v->kind = FD_CFG_V_ARRAY;
			for (int i = 0; i < len; i++) {
				const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
				if (config_setting_type(e) != CONFIG_TYPE_STRING)
					return fd_config_fail(ctx, e, "%s: expected %s, got %s in it", shown,
					                      fd_config_expected(row), fd_config_got(e));
				v->items[i] = config_setting_get_string(e);
				v->item_at[i] = e;
			}
			v->n = (size_t)len;
			return 0;
		}
		break;
	default:
		break;
	}
	return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
	                      fd_config_got(s));
}

static bool fd_config_parse_int(const char *text, int64_t *out)
{
	if (text[0] == '\0' || text[0] == ' ')
		return false;
	errno = 0;
	char *end;
	long long x = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = x;
	return true;
}

/* Type `text` (a default, or an override's value) as `row` wants it. Array
 * items are split on commas, in place, with blanks around them trimmed.
 * Returns NULL, or what was expected. */
const char *fd_config_value_from_text(const fd_config_def *row, char *text, fd_config_value *v)
{
	memset(v, 0, sizeof *v);
	switch (row->type) {
	case FD_CFG_INT:
	case FD_CFG_INT64:
		v->kind = FD_CFG_V_INT;
		return fd_config_parse_int(text, &v->i) ? NULL : fd_config_expected(row);
	case FD_CFG_FLOAT: {
		char *end;
		errno = 0;
		v->kind = FD_CFG_V_FLOAT;
		v->f = strtod(text, &end);
		if (text[0] == '\0' || text[0] == ' ' || *end != '\0' || errno != 0 || !isfinite(v->f))
			return fd_config_expected(row);
		return NULL;
	}
	case FD_CFG_BOOL: {
		static const char *const yes[] = { "true", "yes", "on", "1" };
		static const char *const no[] = { "false", "no", "off", "0" };
		v->kind = FD_CFG_V_BOOL;
		for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
			if (strcasecmp(text, yes[i]) == 0) {
				v->b = true;
				return NULL;
			}
			if (strcasecmp(text, no[i]) == 0) {
				v->b = false;
				return NULL;
			}
		}
		return fd_config_expected(row);
	}
	case FD_CFG_ENUM:
		if ((row->flags & FD_CFG_F_INT_OK) && fd_config_parse_int(text, &v->i)) {
			v->kind = FD_CFG_V_INT;
			return NULL;
		}
		v->kind = FD_CFG_V_STRING;
		v->s = text;
		return NULL;
	case FD_CFG_STRING:
	case FD_CFG_DURATION:
	case FD_CFG_KAFKA_PROP:
		v->kind = FD_CFG_V_STRING;
		v->s = text;
		return NULL;
	case FD_CFG_ENUM_SET:
	case FD_CFG_STRING_ARRAY:
	case FD_CFG_DURATION_ARRAY: {
		v->kind = FD_CFG_V_ARRAY;
		char *p = text;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return NULL; /* empty array */
		for (;;) {
			if (v->n == FD_CFG_MAX_ITEMS)
				return "fewer values";
			char *comma = strchr(p, ',');
			char *end = comma != NULL ? comma : p + strlen(p);
			while (end > p && end[-1] == ' ')
				end--;
			*end = '\0';
			v->items[v->n++] = p;
			if (comma == NULL)
				return NULL;
			p = comma + 1;
			while (*p == ' ')
				p++;
		}
	}
	default:
		return fd_config_expected(row);
	}
}

/* ---- storing one value ----------------------------------------------------- */

static int fd_config_check_text(fd_config_ctx *ctx, const fd_config_def *row, const char *text,
                                const config_setting_t *at, const char *shown)
{
	size_t len = strlen(text);
	if (row->size > 0 && len >= row->size)
		return fd_config_fail(ctx, at, "%s: \"%.40s...\" is longer than %zu characters", shown, text,
		                      row->size - 1);
	if (len == 0 && (row->flags & FD_CFG_F_NONEMPTY))
		return fd_config_fail(ctx, at, "%s: must not be empty", shown);
	for (const char *p = text; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (c < 0x20 || c == 0x7f)
			return fd_config_fail(ctx, at, "%s: control character in \"%s\"", shown, text);
		if ((row->flags & FD_CFG_F_TOPIC) && !alnum && c != '.' && c != '_' && c != '-')
			return fd_config_fail(ctx, at,
			                      "%s: \"%s\" is not a valid Kafka topic name "
			                      "(letters, digits, '.', '_' and '-')",
			                      shown, text);
		if ((row->flags & FD_CFG_F_IDENT) && !alnum && c != '.' && c != '_' && c != '-' && c != ':')
			return fd_config_fail(ctx, at,
			                      "%s: \"%s\" may only contain letters, digits, '.', '_', '-' and ':'",
			                      shown, text);
	}
	if ((row->flags & FD_CFG_F_TOPIC) && (strcmp(text, ".") == 0 || strcmp(text, "..") == 0))
		return fd_config_fail(ctx, at, "%s: \"%s\" is not a valid Kafka topic name", shown, text);
	return 0;
}

static int fd_config_range_fail(fd_config_ctx *ctx, const fd_config_def *row,
                                const config_setting_t *at, const char *shown, const char *value,
                                const char *lo, const char *hi)
{
	return fd_config_fail(ctx, at, "%s: %s is out of range [%s, %s%c", shown, value, lo, hi,
	                      (row->flags & FD_CFG_F_MAX_OPEN) ? ')' : ']');
}

static bool fd_config_in_range(const fd_config_def *row, double x)
{
	if (x < row->min)
		return false;
	return (row->flags & FD_CFG_F_MAX_OPEN) ? x < row->max : x <= row->max;
}

static int fd_config_duration(fd_config_ctx *ctx, const fd_config_def *row, const char *text,
                              const config_setting_t *at, const char *shown, int64_t *out)
{
	if (fd_duration_parse(text, out) != 0)
		return fd_config_fail(ctx, at,
		                      "%s: bad duration \"%s\" (use a count and a unit: ms, s, m, h, d or w, "
		                      "e.g. \"48h\")",
		                      shown, text);
	if (!fd_config_in_range(row, (double)*out)) {
		char lo[32], hi[32];
		fd_config_format_ms((int64_t)row->min, lo, sizeof lo);
		fd_config_format_ms((int64_t)row->max, hi, sizeof hi);
		return fd_config_range_fail(ctx, row, at, shown, text, lo, hi);
	}
	return 0;
}

static int fd_config_enum_item(fd_config_ctx *ctx, const fd_config_def *row, const char *name,
                               const config_setting_t *at, const char *shown, int *out)
{
	int v = fd_config_enum_lookup(row->names, name);
	if (v < 0) {
		char list[512], tail[64];
		snprintf(tail, sizeof tail, "%lld..%lld", (long long)row->min, (long long)row->max);
		fd_config_enum_list(row->names, (row->flags & FD_CFG_F_INT_OK) ? tail : NULL, list,
		                    sizeof list);
		fd_config_fail(ctx, at, "%s: unknown %s \"%s\" (expected %s)", shown,
		               row->names->what, name, list);
		return -1; /* spelled out: the analyzer does not look into variadic functions */
	}
	*out = v;
	return 0;
}

static void fd_config_put(void *base, size_t offset, const void *src, size_t size)
{
	memcpy((char *)base + offset, src, size);
}

/* Check `v` against `row` and store it in `base`. `at` is where it came from
 * (NULL for a default). */
static int fd_config_store(fd_config_ctx *ctx, const fd_config_def *row, void *base,
                           const fd_config_value *v, const config_setting_t *at, const char *shown)
{
	switch (row->type) {
	case FD_CFG_INT:
	case FD_CFG_INT64: {
		if (v->i < (int64_t)row->min || v->i > (int64_t)row->max)
			return fd_config_fail(ctx, at, "%s: %lld is out of range [%lld, %lld]", shown,
			                      (long long)v->i, (long long)row->min, (long long)row->max);
		if (row->type == FD_CFG_INT) {
			int x = (int)v->i;
			fd_config_put(base, row->offset, &x, sizeof x);
		} else {
			fd_config_put(base, row->offset, &v->i, sizeof v->i);
		}
		break;
	}
	case FD_CFG_FLOAT: {
		if (!isfinite(v->f))
			return fd_config_fail(ctx, at, "%s: not a finite number", shown);
		if (!fd_config_in_range(row, v->f)) {
			char x[32], lo[32], hi[32];
			snprintf(x, sizeof x, "%g", v->f);
			snprintf(lo, sizeof lo, "%g", row->min);
			snprintf(hi, sizeof hi, "%g", row->max);
			return fd_config_range_fail(ctx, row, at, shown, x, lo, hi);
		}
		fd_config_put(base, row->offset, &v->f, sizeof v->f);
		break;
	}
	case FD_CFG_BOOL:
		fd_config_put(base, row->offset, &v->b, sizeof v->b);
		break;
	case FD_CFG_STRING:
		if (fd_config_check_text(ctx, row, v->s, at, shown) < 0)
			return -1;
		fd_config_put(base, row->offset, v->s, strlen(v->s) + 1);
		break;
	case FD_CFG_DURATION: {
		int64_t ms;
		if (fd_config_duration(ctx, row, v->s, at, shown, &ms) < 0)
			return -1;
		fd_config_put(base, row->offset, &ms, sizeof ms);
		break;
	}
	case FD_CFG_ENUM: {
		int x;
		if (v->kind == FD_CFG_V_INT) {
			if (v->i < (int64_t)row->min || v->i > (int64_t)row->max)
				return fd_config_fail(ctx, at, "%s: %lld is out of range [%lld, %lld]", shown,
				                      (long long)v->i, (long long)row->min, (long long)row->max);
			x = (int)v->i;
		} else if (fd_config_enum_item(ctx, row, v->s, at, shown, &x) < 0) {
			return -1;
		}
		if (row->size == sizeof(bool)) {
			bool b = x != 0;
			fd_config_put(base, row->offset, &b, sizeof b);
		} else {
			fd_config_put(base, row->offset, &x, sizeof x);
		}
		break;
	}
	case FD_CFG_ENUM_SET: {
		uint32_t mask = 0;
		for (size_t i = 0; i < v->n; i++) {
			const config_setting_t *item_at = v->item_at[i] != NULL ? v->item_at[i] : at;
			int x;
			if (fd_config_enum_item(ctx, row, v->items[i], item_at, shown, &x) < 0)
				return -1;
			if (mask & (UINT32_C(1) << x))
				return fd_config_fail(ctx, item_at, "%s: \"%s\" is listed twice", shown, v->items[i]);
			mask |= UINT32_C(1) << x;
		}
		if (v->n == 0 && (row->flags & FD_CFG_F_NONEMPTY))
			return fd_config_fail(ctx, at, "%s: must not be empty", shown);
		fd_config_put(base, row->offset, &mask, sizeof mask);
		break;
	}
	case FD_CFG_STRING_ARRAY:
	case FD_CFG_DURATION_ARRAY: {
		if (v->n == 0 && (row->flags & FD_CFG_F_NONEMPTY))
			return fd_config_fail(ctx, at, "%s: must not be empty", shown);
		if (v->n > (size_t)row->cap)
			return fd_config_fail(ctx, at, "%s: %zu values, at most %d are allowed", shown, v->n,
			                      row->cap);
		for (size_t i = 0; i < v->n; i++) {
			const config_setting_t *item_at = v->item_at[i] != NULL ? v->item_at[i] : at;
			for (size_t j = 0; j < i; j++)
				if (strcmp(v->items[i], v->items[j]) == 0)
					return fd_config_fail(ctx, item_at, "%s: \"%s\" is listed twice", shown,
					                      v->items[i]);
			if (row->type == FD_CFG_STRING_ARRAY) {
				fd_config_def item = *row;
				item.flags |= FD_CFG_F_NONEMPTY; /* no empty element, ever */
				if (fd_config_check_text(ctx, &item, v->items[i], item_at, shown) < 0)
					return -1;
				fd_config_put(base, row->offset + i * row->size, v->items[i], strlen(v->items[i]) + 1);
			} else {
				int64_t ms;
				if (fd_config_duration(ctx, row, v->items[i], item_at, shown, &ms) < 0)
					return -1;
				fd_config_put(base, row->offset + i * sizeof ms, &ms, sizeof ms);
			}
		}
		int count = (int)v->n;
		fd_config_put(base, row->aux, &count, sizeof count);
		break;
	}
	default:
		return fd_config_fail(ctx, at, "%s: cannot be set this way", shown);
	}
	if (row->flags & FD_CFG_F_PRESENCE) {
		bool present = true;
		fd_config_put(base, row->aux, &present, sizeof present);
	}
	return 0;
}

/* ---- Kafka properties ------------------------------------------------------ */

static int fd_config_kafka_add(fd_config_ctx *ctx, const char *name, const char *value,
                               const config_setting_t *at)
{
	fd_config *cfg = ctx->cfg;
	char errbuf[512];

	if (rd_kafka_conf_set(ctx->kconf, name, value, errbuf, sizeof errbuf) != RD_KAFKA_CONF_OK) {
		/* some of librdkafka's messages end with a newline */
		size_t n = strlen(errbuf);
		while (n > 0 && (errbuf[n - 1] == '\n' || errbuf[n - 1] == ' '))
			errbuf[--n] = '\0';
		return fd_config_fail(ctx, at, "kafka.%s: %s", name, errbuf);
	}

	/* properties kept in their own field (group.id) */
	char path[FD_CFG_PATH_MAX];
	snprintf(path, sizeof path, "kafka.%s", name);
	const fd_config_def *row = fd_config_row(fd_config_table, fd_config_table_size, path);
	if (row != NULL && row->type == FD_CFG_KAFKA_PROP && row->size > 0) {
		for (int i = 0; i < ctx->n_field_props; i++) {
			if (ctx->field_prop_row[i] == row) {
				char first[FD_CFG_WHERE_MAX];
				fd_config_where(ctx, ctx->field_prop_at[i], first, sizeof first);
				return fd_config_fail(ctx, at, "kafka.%s: set twice (first at %s)", name, first);
			}
		}
		fd_config_def text_row = *row;
		text_row.flags |= FD_CFG_F_NONEMPTY;
		if (fd_config_check_text(ctx, &text_row, value, at, path) < 0)
			return -1;
		fd_config_put(cfg, row->offset, value, strlen(value) + 1);
		if (ctx->n_field_props < FD_CFG_MAX_FIELD_PROPS) {
			ctx->field_prop_row[ctx->n_field_props] = row;
			ctx->field_prop_at[ctx->n_field_props] = at;
			ctx->n_field_props++;
		}
		return 0;
	}

	/* ctx->cfg is set once, by the loader, and never NULL; the analyzer
	 * forgets that across the calls it does not follow.
	 * NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
	for (int i = 0; i < cfg->settings.n_kafka_props; i++) {
		if (strcmp(cfg->settings.kafka_props[i].name, name) == 0) {
			char first[FD_CFG_WHERE_MAX];
			fd_config_where(ctx, ctx->prop_at[i], first, sizeof first);
			return fd_config_fail(ctx, at, "kafka.%s: set twice (first at %s)", name, first);
		}
	}

	if ((size_t)cfg->settings.n_kafka_props == ctx->prop_cap) {
		size_t cap = ctx->prop_cap ? ctx->prop_cap * 2 : 8;
		fd_kafka_prop *props = realloc(cfg->settings.kafka_props, cap * sizeof *props);
		if (props == NULL)
			return fd_config_fail(ctx, at, "out of memory");
		cfg->settings.kafka_props = props;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): sizes an array of pointers */
		const config_setting_t **where = realloc(ctx->prop_at, cap * sizeof *where);
		if (where == NULL)
			return fd_config_fail(ctx, at, "out of memory");
		ctx->prop_at = where;
		ctx->prop_cap = cap;
	}
	char *n = strdup(name);
	char *v = strdup(value);
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		return fd_config_fail(ctx, at, "out of memory");
	}
	cfg->settings.kafka_props[cfg->settings.n_kafka_props].name = n;
	cfg->settings.kafka_props[cfg->settings.n_kafka_props].value = v;
	ctx->prop_at[cfg->settings.n_kafka_props] = at;
	cfg->settings.n_kafka_props++;
	return 0;
}

/* A scalar under `kafka`, whatever its libconfig type, as librdkafka text. */
static int fd_config_kafka_leaf(fd_config_ctx *ctx, const config_setting_t *s, const char *shown,
                                const char *name)
{
	char buf[64];
	const char *value;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		value = config_setting_get_string(s);
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, sizeof buf, "%lld", config_setting_get_int64(s));
		value = buf;
		break;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, sizeof buf, "%.17g", config_setting_get_float(s));
		value = buf;
		break;
	case CONFIG_TYPE_BOOL:
		value = config_setting_get_bool(s) ? "true" : "false";
		break;
	default:
		return fd_config_fail(ctx, s, "%s: expected a string, number or boolean, got %s", shown,
		                      fd_config_got(s));
	}
	return fd_config_kafka_add(ctx, name, value, s);
}

static int fd_config_kafka_list(fd_config_ctx *ctx, const fd_config_def *row,
                                const config_setting_t *s, const char *shown)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
		                      fd_config_got(s));
	int len = config_setting_length(s);
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fd_config_fail(ctx, e, "%s: expected %s, got %s in it", shown,
			                      fd_config_expected(row), fd_config_got(e));
		const char *text = config_setting_get_string(e);
		const char *eq = strchr(text, '=');
		if (eq == NULL || eq == text || (size_t)(eq - text) >= FD_CFG_PATH_MAX - 8)
			return fd_config_fail(ctx, e, "%s: expected \"name=value\", got \"%s\"", shown, text);
		char name[FD_CFG_PATH_MAX];
		snprintf(name, sizeof name, "%.*s", (int)(eq - text), text);
		if (fd_config_kafka_add(ctx, name, eq + 1, e) < 0)
			return -1;
	}
	return 0;
}

/* ---- walking the tree ------------------------------------------------------ */

static int fd_config_walk(fd_config_ctx *ctx, const config_setting_t *group, const char *shown,
                          const char *rel, const fd_config_def *table, size_t n, void *base,
                          const char *passthrough);

/* Defaults of `table` into `base`: every row with one, and the members of
 * groups; list elements start empty, Kafka properties are added by the
 * loader once it knows which the file set. */
static int fd_config_apply_defaults(fd_config_ctx *ctx, const fd_config_def *table, size_t n,
                                    void *base)
{
	for (size_t i = 0; i < n; i++) {
		const fd_config_def *row = &table[i];
		if (row->type == FD_CFG_GROUP) {
			if (fd_config_apply_defaults(ctx, row->sub, row->n_sub, (char *)base + row->offset) < 0)
				return -1;
			continue;
		}
		if (row->def == NULL || row->type == FD_CFG_LIST || row->type == FD_CFG_KAFKA ||
		    row->type == FD_CFG_KAFKA_LIST)
			continue;
		if (row->type == FD_CFG_KAFKA_PROP) {
			if (row->size > 0)
				fd_config_put(base, row->offset, row->def, strlen(row->def) + 1);
			continue;
		}
		char text[256];
		snprintf(text, sizeof text, "%s", row->def);
		fd_config_value v;
		const char *expected = fd_config_value_from_text(row, text, &v);
		if (expected != NULL)
			return fd_config_fail(ctx, NULL, "built-in default of %s: expected %s", row->path, expected);
		if (fd_config_store(ctx, row, base, &v, NULL, row->path) < 0)
			return -1;
	}
	return 0;
}

static int fd_config_required(fd_config_ctx *ctx, const fd_config_def *row,
                              const config_setting_t *elem, const char *shown)
{
	for (size_t i = 0; i < row->n_sub; i++) {
		const fd_config_def *sub = &row->sub[i];
		if ((sub->flags & FD_CFG_F_REQUIRED) && fd_config_member(elem, sub->path) == NULL)
			return fd_config_fail(ctx, elem, "%s: missing setting '%s'", shown, sub->path);
	}
	return 0;
}

static int fd_config_apply_list(fd_config_ctx *ctx, const fd_config_def *row,
                                const config_setting_t *s, void *base, const char *shown)
{
	int t = config_setting_type(s);
	int len = config_setting_length(s);
	if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && len == 0))
		return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
		                      fd_config_got(s));
	if (len > row->cap)
		return fd_config_fail(ctx, s, "%s: %d elements, at most %d are allowed", shown, len, row->cap);

	char *array = (char *)base + row->offset;
	for (int i = 0; i < len; i++) {
		const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);
		char elem_shown[FD_CFG_PATH_MAX];
		if (snprintf(elem_shown, sizeof elem_shown, "%s.[%d]", shown, i) < 0)
			elem_shown[0] = '\0';
		if (!config_setting_is_group(elem))
			return fd_config_fail(ctx, elem, "%s: expected a group { ... }, got %s", elem_shown,
			                      fd_config_got(elem));
		void *elem_base = array + (size_t)i * row->size;
		memset(elem_base, 0, row->size);
		if (fd_config_apply_defaults(ctx, row->sub, row->n_sub, elem_base) < 0 ||
		    fd_config_walk(ctx, elem, elem_shown, "", row->sub, row->n_sub, elem_base, NULL) < 0 ||
		    fd_config_required(ctx, row, elem, elem_shown) < 0)
			return -1;
		if (row->check != NULL && row->check(ctx, elem, array, i, elem_shown) < 0)
			return -1;
	}
	fd_config_put(base, row->aux, &len, sizeof len);
	return 0;
}

static int fd_config_apply(fd_config_ctx *ctx, const fd_config_def *row, const config_setting_t *s,
                           void *base, const char *shown, const char *rel,
                           const fd_config_def *table, size_t n)
{
	switch (row->type) {
	case FD_CFG_GROUP:
		if (!config_setting_is_group(s))
			return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
			                      fd_config_got(s));
		/* a group lists its members: what it leaves out is absent */
		for (size_t i = 0; i < row->n_sub; i++) {
			if (row->sub[i].flags & FD_CFG_F_PRESENCE) {
				bool absent = false;
				fd_config_put((char *)base + row->offset, row->sub[i].aux, &absent, sizeof absent);
			}
		}
		return fd_config_walk(ctx, s, shown, "", row->sub, row->n_sub, (char *)base + row->offset, NULL);
	case FD_CFG_LIST:
		return fd_config_apply_list(ctx, row, s, base, shown);
	case FD_CFG_KAFKA:
		if (!config_setting_is_group(s))
			return fd_config_fail(ctx, s, "%s: expected %s, got %s", shown, fd_config_expected(row),
			                      fd_config_got(s));
		return fd_config_walk(ctx, s, shown, rel, table, n, base, row->path);
	case FD_CFG_KAFKA_LIST:
		return fd_config_kafka_list(ctx, row, s, shown);
	case FD_CFG_KAFKA_PROP:
		return fd_config_kafka_leaf(ctx, s, shown, strchr(row->path, '.') + 1);
	default: {
		fd_config_value v;
		if (fd_config_value_from_setting(ctx, row, s, shown, &v) < 0)
			return -1;
		return fd_config_store(ctx, row, base, &v, s, shown);
	}
	}
}

/* Every member of `group` (shown as `shown`, at `rel` in `table`) must be a
 * row of the table, a group leading to rows, or, below a passthrough row
 * (`passthrough` names it), a Kafka property. */
static int fd_config_walk(fd_config_ctx *ctx, const config_setting_t *group, const char *shown,
                          const char *rel, const fd_config_def *table, size_t n, void *base,
                          const char *passthrough)
{
	int len = config_setting_length(group);
	for (int i = 0; i < len; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		char m_rel[FD_CFG_PATH_MAX], m_shown[FD_CFG_PATH_MAX];
		fd_config_join(m_rel, sizeof m_rel, rel, name);
		fd_config_join(m_shown, sizeof m_shown, shown, name);

		const fd_config_def *row = fd_config_row(table, n, m_rel);
		if (row != NULL) {
			if (fd_config_apply(ctx, row, m, base, m_shown, m_rel, table, n) < 0)
				return -1;
			continue;
		}
		if (passthrough != NULL) {
			int rc = config_setting_is_group(m)
			             ? fd_config_walk(ctx, m, m_shown, m_rel, table, n, base, passthrough)
			             : fd_config_kafka_leaf(ctx, m, m_shown, m_rel + strlen(passthrough) + 1);
			if (rc < 0)
				return -1;
			continue;
		}
		if (fd_config_rows_under(table, n, m_rel)) {
			if (!config_setting_is_group(m))
				return fd_config_fail(ctx, m, "%s: expected a group { ... }, got %s", m_shown,
				                      fd_config_got(m));
			if (fd_config_walk(ctx, m, m_shown, m_rel, table, n, base, NULL) < 0)
				return -1;
			continue;
		}
		return fd_config_fail(ctx, m, "unknown setting '%s'", m_shown);
	}
	return 0;
}


/* The properties with a built-in default (bootstrap.servers) that neither
 * the file nor an override set. */
static int fd_config_kafka_defaults(fd_config_ctx *ctx)
{
	for (size_t i = 0; i < fd_config_table_size; i++) {
		const fd_config_def *row = &fd_config_table[i];
		if (row->type != FD_CFG_KAFKA_PROP || row->size > 0 || row->def == NULL)
			continue;
		const char *name = strchr(row->path, '.') + 1;
		if (fd_config_kafka_prop(ctx->cfg, name) == NULL &&
		    fd_config_kafka_add(ctx, name, row->def, NULL) < 0)
			return -1;
	}
	return 0;
}

/* ---- what libconfig does not say ------------------------------------------------ */

/* libconfig's parse error, made precise where the scanner can tell more:
 * which setting a duplicate name is, and which '}' is the extra one. */
static void fd_config_parse_error(fd_config_ctx *ctx, const char *text)
{
	const config_t *lc = ctx->lc;
	const char *what = config_error_text(lc);
	int line = config_error_line(lc);
	char file[FD_CFG_PATH_MAX + 1024];
	fd_config_file_name(ctx, config_error_file(lc), file, sizeof file);
	if (ctx->errstr == NULL || ctx->errstr_size == 0)
		return;

	fd_config_scan_opts so = {
		.include_dir = ctx->include_dir, .error_file = config_error_file(lc), .error_line = line,
	};
	fd_config_scan_report r;
	if (line <= 0 || fd_config_scan(text, &so, &r) < 0)
		memset(&r, 0, sizeof r);

	char *out = ctx->errstr;
	size_t size = ctx->errstr_size;
	if (r.dup_path[0] != '\0') {
		char first[FD_CFG_PATH_MAX + 1024];
		const char *err_file = config_error_file(lc);
		bool same_file = err_file == NULL ? r.dup_first_file[0] == '\0'
		                                  : strcmp(r.dup_first_file, err_file) == 0;
		if (same_file) {
			snprintf(first, sizeof first, "line %d", r.dup_first_line);
		} else {
			char other[FD_CFG_PATH_MAX + 1024];
			fd_config_file_name(ctx, r.dup_first_file[0] != '\0' ? r.dup_first_file : NULL, other,
			                    sizeof other);
			if (snprintf(first, sizeof first, "%s:%d", other, r.dup_first_line) < 0)
				first[0] = '\0';
		}
		snprintf(out, size, "%s:%d: duplicate setting '%s' (first at %s)", file, line, r.dup_path,
		         first);
		return;
	}
	char early[FD_CFG_SCAN_PATH_MAX + 8];
	snprintf(early, sizeof early, r.early_path[0] != '\0' ? "'%s'" : "the group", r.early_path);
	if (r.closer != 0 && r.early_suspect != 0) {
		snprintf(out, size,
		         "%s:%d: unbalanced '%c': it closes %s (opened at line %d) early, %s "
		         "(libconfig stops later, at line %d: %s)",
		         file, r.early_close_line, r.early_closer, early, r.early_open_line,
		         r.early_suspect == FD_CFG_SCAN_SUSPECT_FOLLOWERS
		             ? "though the lines after it are indented as its members"
		             : "and is not indented like the line that opened it",
		         line, what);
		return;
	}
	if (r.closer != 0 && r.early_close_line > 0) {
		snprintf(out, size,
		         "%s:%d: %s: this '%c' closes nothing; %s (opened at line %d) was already closed "
		         "at line %d, so one of the two is extra",
		         file, line, what, r.closer, early, r.early_open_line, r.early_close_line);
		return;
	}
	if (r.closer != 0) {
		snprintf(out, size, "%s:%d: %s: this '%c' closes nothing", file, line, what, r.closer);
		return;
	}
	snprintf(out, size, "%s:%d: %s", file, line, what);
}

/* The setting at a scanner path ("slas.[0].x"), or NULL. */
static const config_setting_t *fd_config_at_path(const config_t *lc, const char *path)
{
	char buf[FD_CFG_SCAN_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	const config_setting_t *s = config_root_setting(lc);
	for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok != NULL && s != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		if (tok[0] == '[')
			s = config_setting_is_aggregate(s)
			        ? config_setting_get_elem(s, (unsigned)strtoul(tok + 1, NULL, 10))
			        : NULL;
		else
			s = config_setting_is_group(s) ? config_setting_get_member(s, tok) : NULL;
	}
	return s;
}

/* An integer literal the scanner says libconfig may not store as written:
 * refused when the setting it made holds another value. */
static int fd_config_on_integer(void *arg, const fd_config_scan_int *lit)
{
	fd_config_ctx *ctx = arg;
	ctx->int_refused = false;
	const config_setting_t *s = fd_config_at_path(ctx->lc, lit->path);
	if (s == NULL || config_setting_get_hook(s) != NULL ||
	    (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) ||
	    (int)config_setting_source_line(s) != lit->line)
		return 0;
	const char *file = config_setting_source_file(s);
	if ((file == NULL) != (lit->file == NULL) || (file != NULL && strcmp(file, lit->file) != 0))
		return 0; /* not the setting the scanner meant */
	ctx->int_refused = true;
	if (!lit->fits64) {
		fd_config_fail(ctx, s, "%s: %s does not fit in a 64-bit integer", lit->path, lit->literal);
		return 1;
	}
	long long stored = config_setting_get_int64(s);
	if (stored == lit->value) {
		ctx->int_refused = false;
		return 0;
	}
	fd_config_fail(ctx, s,
	               "%s: %s does not fit in a 32-bit integer, libconfig reads it as %lld (a 64-bit "
	               "integer needs the L suffix: %sL)",
	               lit->path, lit->literal, stored, lit->literal);
	return 1;
}

/* libconfig 1.5 keeps the low 32 bits of an integer written without L: find
 * the literals it changed. */
static int fd_config_check_integers(fd_config_ctx *ctx, const char *text)
{
	fd_config_scan_opts so = { .include_dir = ctx->include_dir, .on_int = fd_config_on_integer,
		                       .arg = ctx };
	fd_config_scan_report r;
	ctx->int_refused = false;
	if (fd_config_scan(text, &so, &r) < 0)
		return fd_config_fail(ctx, NULL, "out of memory");
	return ctx->int_refused ? -1 : 0;
}

/* ---- loading ----------------------------------------------------------------- */

static int fd_config_load_text(fd_config *cfg, const char *name, const char *text,
                               const char *include_dir, const char *const *overrides,
                               size_t n_overrides, char *errstr, size_t errstr_size)
{
	config_t lc;
	fd_config_ctx ctx = {
		.cfg = cfg, .name = name, .include_dir = include_dir, .errstr = errstr,
		.errstr_size = errstr_size,
	};
	int rc = -1;

	memset(cfg, 0, sizeof *cfg);
	if (errstr != NULL && errstr_size > 0)
		errstr[0] = '\0';
	config_init(&lc);
	ctx.lc = &lc;
	if (include_dir != NULL)
		config_set_include_dir(&lc, include_dir);

	ctx.kconf = rd_kafka_conf_new();
	if (n_overrides > 0)
		ctx.overrides = calloc(n_overrides, sizeof *ctx.overrides);
	if (ctx.kconf == NULL || (n_overrides > 0 && ctx.overrides == NULL)) {
		fd_config_fail(&ctx, NULL, "out of memory");
		goto fail;
	}

	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		fd_config_parse_error(&ctx, text);
		goto fail;
	}

	for (size_t i = 0; i < n_overrides; i++) {
		ctx.overrides[i].text = overrides[i];
		if (fd_config_apply_override(&ctx, &ctx.overrides[i]) < 0)
			goto fail;
	}
	if (fd_config_check_integers(&ctx, text) < 0)
		goto fail;

	if (fd_config_apply_defaults(&ctx, fd_config_table, fd_config_table_size, cfg) < 0 ||
	    fd_config_walk(&ctx, config_root_setting(&lc), "", "", fd_config_table, fd_config_table_size,
	                   cfg, NULL) < 0 ||
	    fd_config_check_across(&ctx) < 0 || fd_config_kafka_defaults(&ctx) < 0)
		goto fail;

	snprintf(cfg->path, sizeof cfg->path, "%s", name);
	rc = 0;
	goto out;

fail:
	fd_config_free(cfg);
	memset(cfg, 0, sizeof *cfg);
out:
	free(ctx.prop_at);
	free(ctx.overrides);
	if (ctx.kconf != NULL)
		rd_kafka_conf_destroy(ctx.kconf);
	config_destroy(&lc);
	return rc;
}

int fd_config_load_string(fd_config *cfg, const char *name, const char *text,
                          const char *const *overrides, size_t n_overrides, char *errstr,
                          size_t errstr_size)
{
	return fd_config_load_text(cfg, name, text, NULL, overrides, n_overrides, errstr, errstr_size);
}

int fd_config_load(fd_config *cfg, const char *path, const char *const *overrides,
                   size_t n_overrides, char *errstr, size_t errstr_size)
{
	char *text = NULL;
	char *dir = NULL;
	int rc = -1;
	FILE *fp = NULL;

	if (errstr == NULL)
		errstr_size = 0;
	memset(cfg, 0, sizeof *cfg);
	fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(errstr, errstr_size, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	text = malloc(FD_CFG_FILE_MAX + 1);
	if (text == NULL) {
		snprintf(errstr, errstr_size, "%s: out of memory", path);
		goto out;
	}
	size_t len = fread(text, 1, FD_CFG_FILE_MAX + 1, fp);
	if (ferror(fp)) {
		snprintf(errstr, errstr_size, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (len > FD_CFG_FILE_MAX) {
		snprintf(errstr, errstr_size, "%s: larger than %u bytes", path, FD_CFG_FILE_MAX);
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(errstr, errstr_size, "%s: contains a NUL byte; not a text file", path);
		goto out;
	}
	text[len] = '\0';

	/* @include "x" is relative to the including file's directory */
	dir = strdup(path);
	if (dir == NULL) {
		snprintf(errstr, errstr_size, "%s: out of memory", path);
		goto out;
	}
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	rc = fd_config_load_text(cfg, path, text, dir, overrides, n_overrides, errstr, errstr_size);
out:
	if (fp != NULL)
		fclose(fp);
	free(dir);
	free(text);
	return rc;
}

void fd_config_defaults(fd_config *cfg)
{
	char scratch[256];
	fd_config_ctx ctx = {
		.cfg = cfg, .name = "defaults", .errstr = scratch, .errstr_size = sizeof scratch,
	};
	memset(cfg, 0, sizeof *cfg);
	/* cannot fail: the unit tests load a minimal file, which takes the
	   same path with errors reported */
	(void)fd_config_apply_defaults(&ctx, fd_config_table, fd_config_table_size, cfg);
}

void fd_config_free(fd_config *cfg)
{
	for (int i = 0; i < cfg->settings.n_kafka_props; i++) {
		free(cfg->settings.kafka_props[i].name);
		free(cfg->settings.kafka_props[i].value);
	}
	free(cfg->settings.kafka_props);
	cfg->settings.kafka_props = NULL;
	cfg->settings.n_kafka_props = 0;
}



const char *fd_config_kafka_prop(const fd_config *cfg, const char *name)
{
	if (strcmp(name, "group.id") == 0)
		return cfg->settings.group_id;
	for (int i = 0; i < cfg->settings.n_kafka_props; i++)
		if (strcmp(cfg->settings.kafka_props[i].name, name) == 0)
			return cfg->settings.kafka_props[i].value;
	return NULL;
}
