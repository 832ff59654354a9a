/*
 * override.c — applies `-o path=value` to the parsed libconfig tree, before
 * the tree is walked, so that an override is validated exactly like the
 * file.
 *
 * Override paths are the file's own paths: "scoring.half_life=14d"; list
 * elements by index, in libconfig's syntax "slas.[0].duration=24h" (the
 * friendlier "slas[0].duration" is accepted too); arrays as comma-separated
 * values ("frequency.windows=7d,30d"). Below `kafka.`, a path that is not a
 * row of the table names a librdkafka property ("kafka.linger.ms=5") and
 * replaces it wherever the file set it, nested or in kafka.properties. An
 * override sets or replaces one setting, creating the groups on its way; it
 * cannot add or remove list elements, and one that creates mql.matrix from
 * nothing creates a matrix listing only its own grade. Every setting it
 * creates carries the override as its hook, so later errors about it read
 * "-o path=value: what is wrong".
 *
 * It does not store anything in fd_config or check values beyond their
 * type: config.c's walk does that for file and overrides alike.
 */
#include "config/config_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FD_CFG_MAX_SEGMENTS 16       /* depth of an override path */

typedef struct fd_config_segment {
	const char *name; /* NULL: an index */
	int index;
} fd_config_segment;

static bool fd_config_valid_name(const char *s)
{
	/* libconfig's own rule for setting names */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '*'))
		return false;
	for (s++; *s != '\0'; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		          *s == '-' || *s == '_' || *s == '*';
		if (!ok)
			return false;
	}
	return true;
}

static bool fd_config_parse_index(const char *s, int *out)
{
	/* "[12]" */
	if (s[0] != '[' || s[1] == ']')
		return false;
	int x = 0;
	const char *p = s + 1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > 100000)
			return false;
		x = x * 10 + (*p - '0');
	}
	if (p == s + 1 || p[0] != ']' || p[1] != '\0')
		return false;
	*out = x;
	return true;
}

/* Split "slas.[0].duration" (or "slas[0].duration") in place. */
static int fd_config_split_path(char *path, fd_config_segment *segs, int max)
{
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(path, ".", &save); tok != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		char *bracket = strchr(tok, '[');
		if (bracket != NULL && bracket != tok) {
			/* "name[3]": a name segment, then an index segment */
			if (n == max)
				return -1;
			segs[n].name = tok;
			segs[n].index = -1;
			n++;
			char idx[32];
			snprintf(idx, sizeof idx, "%s", bracket);
			*bracket = '\0';
			if (!fd_config_valid_name(tok) || n == max || !fd_config_parse_index(idx, &segs[n].index))
				return -1;
			segs[n].name = NULL;
			n++;
			continue;
		}
		if (n == max)
			return -1;
		if (bracket == tok) {
			if (!fd_config_parse_index(tok, &segs[n].index))
				return -1;
			segs[n].name = NULL;
		} else {
			if (!fd_config_valid_name(tok))
				return -1;
			segs[n].name = tok;
			segs[n].index = -1;
		}
		n++;
	}
	return n;
}

static int fd_config_set_setting(config_setting_t *s, const fd_config_value *v)
{
	switch (v->kind) {
	case FD_CFG_V_INT:
		if (config_setting_type(s) == CONFIG_TYPE_INT)
			return config_setting_set_int(s, (int)v->i) == CONFIG_TRUE ? 0 : -1;
		return config_setting_set_int64(s, v->i) == CONFIG_TRUE ? 0 : -1;
	case FD_CFG_V_FLOAT:
		return config_setting_set_float(s, v->f) == CONFIG_TRUE ? 0 : -1;
	case FD_CFG_V_BOOL:
		return config_setting_set_bool(s, v->b) == CONFIG_TRUE ? 0 : -1;
	case FD_CFG_V_STRING:
		return config_setting_set_string(s, v->s) == CONFIG_TRUE ? 0 : -1;
	case FD_CFG_V_ARRAY:
		for (size_t i = 0; i < v->n; i++)
			if (config_setting_set_string_elem(s, -1, v->items[i]) == NULL)
				return -1;
		return 0;
	}
	return -1;
}

static int fd_config_setting_type_of(const fd_config_value *v)
{
	switch (v->kind) {
	case FD_CFG_V_INT:
		return (v->i >= INT32_MIN && v->i <= INT32_MAX) ? CONFIG_TYPE_INT : CONFIG_TYPE_INT64;
	case FD_CFG_V_FLOAT: return CONFIG_TYPE_FLOAT;
	case FD_CFG_V_BOOL: return CONFIG_TYPE_BOOL;
	case FD_CFG_V_STRING: return CONFIG_TYPE_STRING;
	case FD_CFG_V_ARRAY: return CONFIG_TYPE_ARRAY;
	}
	return CONFIG_TYPE_NONE;
}

/* The libconfig tree has no per-element delete by value, so the properties
 * array loses the entries an override replaces, back to front. */
static void fd_config_drop_listed_prop(fd_config_ctx *ctx, const char *name)
{
	config_setting_t *list = config_lookup(ctx->lc, "kafka.properties");
	if (list == NULL || !config_setting_is_aggregate(list))
		return;
	size_t len = strlen(name);
	for (int i = config_setting_length(list) - 1; i >= 0; i--) {
		const char *text = config_setting_get_string_elem(list, i);
		if (text != NULL && strncmp(text, name, len) == 0 && text[len] == '=')
			config_setting_remove_elem(list, (unsigned)i);
	}
}

int fd_config_apply_override(fd_config_ctx *ctx, fd_config_override *o)
{
	const char *text = o->text;
	const char *eq = strchr(text, '=');
	if (eq == NULL || eq == text)
		return fd_config_fail_override(ctx, text, "expected path=value");
	if ((size_t)(eq - text) >= FD_CFG_PATH_MAX)
		return fd_config_fail_override(ctx, text, "path too long");

	char path[FD_CFG_PATH_MAX], split[FD_CFG_PATH_MAX];
	snprintf(path, sizeof path, "%.*s", (int)(eq - text), text);
	snprintf(split, sizeof split, "%s", path);
	fd_config_segment segs[FD_CFG_MAX_SEGMENTS];
	int nseg = fd_config_split_path(split, segs, FD_CFG_MAX_SEGMENTS);
	if (nseg <= 0 || segs[nseg - 1].name == NULL)
		return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);

	/* 1. what the path names, according to the table */
	const fd_config_def *table = fd_config_table;
	size_t n = fd_config_table_size;
	const fd_config_def *target = NULL;
	const char *kafka_name = NULL; /* librdkafka property it sets, if any */
	char kafka_buf[FD_CFG_PATH_MAX] = "";
	char rel[FD_CFG_PATH_MAX] = "";
	for (int i = 0; i < nseg; i++) {
		if (segs[i].name == NULL)
			return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);
		char joined[FD_CFG_PATH_MAX];
		fd_config_join(joined, sizeof joined, rel, segs[i].name);
		snprintf(rel, sizeof rel, "%s", joined);
		const fd_config_def *row = fd_config_row(table, n, rel);
		if (row == NULL) {
			if (fd_config_rows_under(table, n, rel))
				continue;
			return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);
		}
		if (i == nseg - 1) {
			target = row;
			break;
		}
		if (row->type == FD_CFG_KAFKA) {
			/* a row of its own (kafka.group.id), or a property named by the
			   rest of the path, dots and all */
			target = fd_config_row(table, n, path);
			if (target != NULL)
				break;
			for (int j = i + 1; j < nseg; j++) {
				if (segs[j].name == NULL)
					return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);
				fd_config_join(joined, sizeof joined, kafka_buf, segs[j].name);
				snprintf(kafka_buf, sizeof kafka_buf, "%s", joined);
			}
			kafka_name = kafka_buf;
			break;
		}
		if (row->type == FD_CFG_LIST && segs[i + 1].name == NULL) {
			i++;
			if (i == nseg - 1)
				break; /* a whole element */
			table = row->sub;
			n = row->n_sub;
			rel[0] = '\0';
			continue;
		}
		if (row->type == FD_CFG_GROUP) {
			table = row->sub;
			n = row->n_sub;
			rel[0] = '\0';
			continue;
		}
		return fd_config_fail_override(ctx, text, "unknown setting '%s'", path);
	}

	fd_config_value v;
	char value[1024];
	if (strlen(eq + 1) >= sizeof value)
		return fd_config_fail_override(ctx, text, "value longer than %zu characters", sizeof value - 1);
	snprintf(value, sizeof value, "%s", eq + 1);
	if (kafka_name != NULL) {
		memset(&v, 0, sizeof v);
		v.kind = FD_CFG_V_STRING;
		v.s = value;
	} else if (target == NULL || target->type == FD_CFG_GROUP || target->type == FD_CFG_KAFKA) {
		return fd_config_fail_override(ctx, text, "'%s' is a group; set one of its settings", path);
	} else if (target->type == FD_CFG_LIST) {
		return fd_config_fail_override(ctx, text,
		                               "'%s' is a list; set a setting of one element, e.g. %s.[0].%s",
		                               path, path, target->sub[0].path);
	} else if (target->type == FD_CFG_KAFKA_LIST) {
		return fd_config_fail_override(ctx, text,
		                               "'%s' is a list; set a property with -o kafka.NAME=VALUE", path);
	} else {
		if (target->type == FD_CFG_KAFKA_PROP)
			kafka_name = strchr(target->path, '.') + 1;
		const char *expected = fd_config_value_from_text(target, value, &v);
		if (expected != NULL)
			return fd_config_fail_override(ctx, text, "%s: expected %s", path, expected);
	}

	/* 2. the same path in the tree, creating groups on the way */
	config_setting_t *cur = config_root_setting(ctx->lc);
	char walked[FD_CFG_PATH_MAX] = ""; /* the path so far, for messages */
	for (int i = 0; i < nseg - 1; i++) {
		config_setting_t *next;
		if (segs[i].name == NULL) {
			next = config_setting_get_elem(cur, (unsigned)segs[i].index);
			if (next == NULL)
				return fd_config_fail_override(ctx, text, "'%s' has no element [%d] (it has %d)", walked,
				                               segs[i].index, config_setting_length(cur));
			char idx[16];
			snprintf(idx, sizeof idx, "[%d]", segs[i].index);
			char joined[FD_CFG_PATH_MAX];
			fd_config_join(joined, sizeof joined, walked, idx);
			snprintf(walked, sizeof walked, "%s", joined);
		} else {
			char joined[FD_CFG_PATH_MAX];
			fd_config_join(joined, sizeof joined, walked, segs[i].name);
			snprintf(walked, sizeof walked, "%s", joined);
			next = config_setting_get_member(cur, segs[i].name);
			bool want_list = segs[i + 1].name == NULL;
			if (next == NULL && want_list)
				return fd_config_fail_override(ctx, text, "'%s' has no element [%d] (it is not set)",
				                               walked, segs[i + 1].index);
			if (next == NULL) {
				next = config_setting_add(cur, segs[i].name, CONFIG_TYPE_GROUP);
				if (next == NULL)
					return fd_config_fail_override(ctx, text, "cannot add '%s'", segs[i].name);
				config_setting_set_hook(next, o);
			} else if (want_list ? !config_setting_is_list(next) : !config_setting_is_group(next)) {
				return fd_config_fail(ctx, next, "%s: expected %s, got %s", walked,
				                      want_list ? "a list" : "a group { ... }", fd_config_got(next));
			}
		}
		cur = next;
	}
	const char *leaf = segs[nseg - 1].name;
	if (config_setting_get_member(cur, leaf) != NULL)
		config_setting_remove(cur, leaf);
	config_setting_t *s = config_setting_add(cur, leaf, fd_config_setting_type_of(&v));
	if (s == NULL || fd_config_set_setting(s, &v) < 0)
		return fd_config_fail_override(ctx, text, "cannot set '%s'", path);
	config_setting_set_hook(s, o);

	if (kafka_name != NULL)
		fd_config_drop_listed_prop(ctx, kafka_name);
	return 0;
}
