/*
 * print.c — writes a validated fd_config back out as a libconfig file:
 * every setting of the table (schema.c), defaults included, in the table's
 * order, nested by the dots of its path (`funneld check-config --print`).
 *
 * The text loads again to the same fd_config (the unit test checks the
 * round trip): numbers are written with the fewest digits that read back
 * exactly, floats always with a dot (an integer literal beyond 32 bits would
 * not survive libconfig 1.5), durations in their shortest exact unit,
 * strings escaped, enumerations by their first name. A list element's match
 * writes only its operator's setting, optional settings (PRESENCE) only
 * when present; the Kafka properties, funneld's defaults among them, are
 * written as one "name=value" list, since not every librdkafka name nests
 * by its dots.
 *
 * What it is not: a copy of the file (comments, order and @include are
 * gone) nor a validator (it trusts what fd_config_load stored).
 */
#include "config/config_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FD_CFG_INDENT 2

/* ---- values ------------------------------------------------------------------ */

static void fd_config_print_indent(FILE *out, int depth)
{
	fprintf(out, "%*s", depth * FD_CFG_INDENT, "");
}

/* The inside of a libconfig string literal: '"' and '\' escaped, control
 * bytes as \xNN. */
static void fd_config_print_escaped(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

static void fd_config_print_string(FILE *out, const char *s)
{
	fputc('"', out);
	fd_config_print_escaped(out, s);
	fputc('"', out);
}

/* The fewest digits that read back as x: "10.0", "0.25", "1e+18", always
 * with a dot or an exponent so that libconfig reads a float. */
static void fd_config_print_float(FILE *out, double x)
{
	char buf[40];
	bool done = false;
	double mag = x < 0 ? -x : x;
	if (mag == 0 || (mag >= 1e-4 && mag < 1e15)) {
		for (int decimals = 1; decimals <= 8 && !done; decimals++) {
			snprintf(buf, sizeof buf, "%.*f", decimals, x);
			done = strtod(buf, NULL) == x;
		}
	}
	for (int prec = 1; prec <= 17 && !done; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, x);
		done = strtod(buf, NULL) == x;
	}
	fprintf(out, "%s%s", buf, strpbrk(buf, ".eE") == NULL ? ".0" : "");
}

static const char *fd_config_print_enum_name(const fd_config_enum *e, int value)
{
	for (int i = e->first; i < e->n; i++) {
		int v = e->values != NULL ? e->values[i] : i;
		if (v == value)
			return e->names != NULL ? e->names[i] : e->name_of(i);
	}
	return NULL;
}

static void fd_config_print_mask(FILE *out, const fd_config_enum *e, uint32_t mask)
{
	fputs("[", out);
	const char *sep = " ";
	for (int i = e->first; i < e->n; i++) {
		int v = e->values != NULL ? e->values[i] : i;
		if (v < 0 || v >= 32 || !(mask & (UINT32_C(1) << v)))
			continue;
		mask &= ~(UINT32_C(1) << v); /* a value with two names, once */
		fputs(sep, out);
		fd_config_print_string(out, e->names != NULL ? e->names[i] : e->name_of(i));
		sep = ", ";
	}
	fputs(" ]", out);
}

static const void *fd_config_at(const void *base, size_t offset)
{
	return (const char *)base + offset;
}

static int fd_config_get_int(const void *base, size_t offset)
{
	int x;
	memcpy(&x, fd_config_at(base, offset), sizeof x);
	return x;
}

static int64_t fd_config_get_int64(const void *base, size_t offset)
{
	int64_t x;
	memcpy(&x, fd_config_at(base, offset), sizeof x);
	return x;
}

static bool fd_config_get_bool(const void *base, size_t offset)
{
	bool x;
	memcpy(&x, fd_config_at(base, offset), sizeof x);
	return x;
}

/* ---- the match of a fit rule or disqualifier ----------------------------------- */

/* The operator a list element's match row belongs to, or -1 for rows that
 * are not an operator's. */
static int fd_config_match_op_of(const char *path)
{
	static const struct {
		const char *path;
		fd_match_op op;
	} rows[] = {
		{ "equals", FD_MATCH_EQUALS },      { "one_of", FD_MATCH_ONE_OF },
		{ "prefix", FD_MATCH_PREFIX },      { "contains", FD_MATCH_CONTAINS },
		{ "range.min", FD_MATCH_RANGE },    { "range.max", FD_MATCH_RANGE },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (strcmp(rows[i].path, path) == 0)
			return (int)rows[i].op;
	return -1;
}

/* The fd_match of a list element whose table has a "field" row, or NULL. */
static const fd_match *fd_config_element_match(const fd_config_def *rows, size_t n,
                                               const void *base)
{
	const fd_config_def *field = fd_config_row(rows, n, "field");
	if (field == NULL || field->type != FD_CFG_ENUM)
		return NULL;
	return (const fd_match *)fd_config_at(base, field->offset - offsetof(fd_match, field));
}

/* ---- settings ------------------------------------------------------------------ */

typedef struct fd_config_printer {
	FILE *out;
	const fd_config *cfg;
} fd_config_printer;

static void fd_config_print_level(const fd_config_printer *p, const fd_config_def *rows, size_t n,
                                  const void *base, const char *prefix, int depth);

static void fd_config_print_kafka(const fd_config_printer *p, const char *name, int depth)
{
	const fd_settings *s = &p->cfg->settings;
	FILE *out = p->out;
	fd_config_print_indent(out, depth);
	fprintf(out, "%s = {\n", name);
	fd_config_print_indent(out, depth + 1);
	fputs("properties = [\n", out);
	for (int i = -1; i < s->n_kafka_props; i++) {
		fd_config_print_indent(out, depth + 2);
		fputc('"', out);
		fd_config_print_escaped(out, i < 0 ? "group.id" : s->kafka_props[i].name);
		fputc('=', out);
		fd_config_print_escaped(out, i < 0 ? s->group_id : s->kafka_props[i].value);
		fputs(i + 1 < s->n_kafka_props ? "\",\n" : "\"\n", out);
	}
	fd_config_print_indent(out, depth + 1);
	fputs("];\n", out);
	fd_config_print_indent(out, depth);
	fputs("};\n", out);
}

static void fd_config_print_list(const fd_config_printer *p, const fd_config_def *row,
                                 const char *name, const void *base, int depth)
{
	FILE *out = p->out;
	int count = fd_config_get_int(base, row->aux);
	fd_config_print_indent(out, depth);
	if (count == 0) {
		fprintf(out, "%s = ( );\n", name);
		return;
	}
	fprintf(out, "%s = (\n", name);
	for (int i = 0; i < count; i++) {
		const void *elem = fd_config_at(base, row->offset + (size_t)i * row->size);
		fd_config_print_indent(out, depth + 1);
		fputs("{\n", out);
		fd_config_print_level(p, row->sub, row->n_sub, elem, "", depth + 2);
		fd_config_print_indent(out, depth + 1);
		fputs(i + 1 < count ? "},\n" : "}\n", out);
	}
	fd_config_print_indent(out, depth);
	fputs(");\n", out);
}

/* One row whose path below the current level is `name` (no dots). */
static void fd_config_print_row(const fd_config_printer *p, const fd_config_def *row,
                                const char *name, const void *base, int depth)
{
	FILE *out = p->out;
	switch (row->type) {
	case FD_CFG_KAFKA:
		fd_config_print_kafka(p, name, depth);
		return;
	case FD_CFG_KAFKA_LIST:
	case FD_CFG_KAFKA_PROP:
		return; /* in the kafka group's list */
	case FD_CFG_LIST:
		fd_config_print_list(p, row, name, base, depth);
		return;
	case FD_CFG_GROUP:
		fd_config_print_indent(out, depth);
		fprintf(out, "%s = {\n", name);
		fd_config_print_level(p, row->sub, row->n_sub, fd_config_at(base, row->offset), "",
		                      depth + 1);
		fd_config_print_indent(out, depth);
		fputs("};\n", out);
		return;
	default:
		break;
	}
	if ((row->flags & FD_CFG_F_PRESENCE) && !fd_config_get_bool(base, row->aux))
		return;

	fd_config_print_indent(out, depth);
	fprintf(out, "%s = ", name);
	char buf[64];
	switch (row->type) {
	case FD_CFG_INT:
		fprintf(out, "%d", fd_config_get_int(base, row->offset));
		break;
	case FD_CFG_INT64: {
		int64_t x = fd_config_get_int64(base, row->offset);
		fprintf(out, "%" PRId64 "%s", x, x < INT32_MIN || x > INT32_MAX ? "L" : "");
		break;
	}
	case FD_CFG_FLOAT: {
		double x;
		memcpy(&x, fd_config_at(base, row->offset), sizeof x);
		fd_config_print_float(out, x);
		break;
	}
	case FD_CFG_BOOL:
		fputs(fd_config_get_bool(base, row->offset) ? "true" : "false", out);
		break;
	case FD_CFG_STRING:
		fd_config_print_string(out, fd_config_at(base, row->offset));
		break;
	case FD_CFG_DURATION:
		fd_config_format_ms(fd_config_get_int64(base, row->offset), buf, sizeof buf);
		fd_config_print_string(out, buf);
		break;
	case FD_CFG_ENUM: {
		int x = row->size == sizeof(bool) ? (int)fd_config_get_bool(base, row->offset)
		                                  : fd_config_get_int(base, row->offset);
		const char *enum_name = fd_config_print_enum_name(row->names, x);
		if (enum_name != NULL)
			fd_config_print_string(out, enum_name);
		else
			fprintf(out, "%d", x); /* an integer-valued enum (log.level) */
		break;
	}
	case FD_CFG_ENUM_SET: {
		uint32_t mask;
		memcpy(&mask, fd_config_at(base, row->offset), sizeof mask);
		fd_config_print_mask(out, row->names, mask);
		break;
	}
	case FD_CFG_STRING_ARRAY:
	case FD_CFG_DURATION_ARRAY: {
		int count = fd_config_get_int(base, row->aux);
		fputs("[", out);
		for (int i = 0; i < count; i++) {
			fputs(i == 0 ? " " : ", ", out);
			if (row->type == FD_CFG_STRING_ARRAY) {
				fd_config_print_string(out, fd_config_at(base, row->offset + (size_t)i * row->size));
			} else {
				fd_config_format_ms(fd_config_get_int64(base, row->offset + (size_t)i * sizeof(int64_t)),
				                    buf, sizeof buf);
				fd_config_print_string(out, buf);
			}
		}
		fputs(" ]", out);
		break;
	}
	default:
		break;
	}
	fputs(";\n", out);
}

/* Is `row` one that this element does not write: another operator's
 * setting of a match? */
static bool fd_config_print_skip(const fd_match *m, const fd_config_def *row)
{
	if (m == NULL)
		return false;
	int op = fd_config_match_op_of(row->path);
	return op >= 0 && op != (int)m->op;
}

/* Every row of `rows` below `prefix` ("" or "topics."), each group of
 * rows sharing their next path segment written once, as a group. */
static void fd_config_print_level(const fd_config_printer *p, const fd_config_def *rows, size_t n,
                                  const void *base, const char *prefix, int depth)
{
	size_t plen = strlen(prefix);
	const fd_match *m = fd_config_element_match(rows, n, base);
	for (size_t i = 0; i < n; i++) {
		const fd_config_def *row = &rows[i];
		if (strncmp(row->path, prefix, plen) != 0 || fd_config_print_skip(m, row))
			continue;
		const char *rest = row->path + plen;
		size_t seg = strcspn(rest, ".");
		/* written already, with an earlier row of the same segment? */
		bool done = false;
		for (size_t j = 0; j < i && !done; j++)
			done = !fd_config_print_skip(m, &rows[j]) && strncmp(rows[j].path, prefix, plen) == 0 &&
			       strncmp(rows[j].path + plen, rest, seg) == 0 &&
			       (rows[j].path[plen + seg] == '.' || rows[j].path[plen + seg] == '\0');
		if (done)
			continue;
		char name[FD_CFG_PATH_MAX];
		snprintf(name, sizeof name, "%.*s", (int)seg, rest);
		if (rest[seg] == '\0') {
			fd_config_print_row(p, row, name, base, depth);
			continue;
		}
		char sub[FD_CFG_PATH_MAX];
		if (snprintf(sub, sizeof sub, "%.*s.", (int)(plen + seg), row->path) < 0)
			continue;
		fd_config_print_indent(p->out, depth);
		fprintf(p->out, "%s = {\n", name);
		fd_config_print_level(p, rows, n, base, sub, depth + 1);
		fd_config_print_indent(p->out, depth);
		fputs("};\n", p->out);
	}
}

int fd_config_print(const fd_config *cfg, FILE *out)
{
	fd_config_printer p = { out, cfg };
	fprintf(out, "# funneld: the configuration %s as loaded: every setting, defaults and -o\n"
	             "# overrides applied\n",
	        cfg->path[0] != '\0' ? cfg->path : "(defaults)");
	fd_config_print_level(&p, fd_config_table, fd_config_table_size, cfg, "", 0);
	fflush(out);
	return ferror(out) ? -1 : 0;
}
