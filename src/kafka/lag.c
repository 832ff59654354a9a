/*
 * lag.c — consumer lag per input partition from librdkafka's statistics
 * (see lag.h). The document is parsed with json-c; the table is a sorted
 * array rebuilt at each document (a few entries per assigned partition).
 */
#include "kafka/lag.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/grow.h"

static bool wanted_topic(const char *name, const char *const *topics, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, topics[i]) == 0)
			return true;
	return false;
}

static bool int_field(json_object *o, const char *key, int64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

long fd_lag_parse(const char *json, const char *const *topics, size_t n_topics,
                  fd_lag_entry *out, size_t max, char *errstr, size_t errstr_size)
{
	json_object *root = json ? json_tokener_parse(json) : NULL;
	json_object *all;
	if (!root || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "topics", &all) ||
	    !json_object_is_type(all, json_type_object)) {
		snprintf(errstr, errstr_size, "statistics: %s",
		         root ? "no \"topics\" object" : "not JSON");
		json_object_put(root);
		return -1;
	}
	long found = 0;
	json_object_object_foreach(all, name, topic)
	{
		json_object *parts;
		if (!wanted_topic(name, topics, n_topics) || !json_object_is_type(topic, json_type_object) ||
		    !json_object_object_get_ex(topic, "partitions", &parts) ||
		    !json_object_is_type(parts, json_type_object))
			continue;
		json_object_object_foreach(parts, key, part)
		{
			(void)key;
			int64_t p, lag;
			json_object *desired;
			if (!json_object_is_type(part, json_type_object) || !int_field(part, "partition", &p) ||
			    p < 0 || p > INT32_MAX || !int_field(part, "consumer_lag", &lag) ||
			    !json_object_object_get_ex(part, "desired", &desired) ||
			    !json_object_get_boolean(desired))
				continue;
			if ((size_t)found < max) {
				fd_lag_entry *e = &out[found];
				snprintf(e->topic, sizeof e->topic, "%s", name);
				e->partition = (int32_t)p;
				e->lag = lag < 0 ? -1 : lag;
			}
			found++;
		}
	}
	json_object_put(root);
	return found;
}

static bool assigned(const fd_lag *l, int32_t p)
{
	for (size_t i = 0; i < l->n_assigned; i++)
		if (l->assigned[i] == p)
			return true;
	return false;
}

int fd_lag_assign(fd_lag *l, int32_t p)
{
	if (assigned(l, p))
		return 0;
	if (fd_grow(&l->assigned, &l->cap_assigned, l->n_assigned + 1, sizeof *l->assigned, 16) != 0)
		return -1;
	l->assigned[l->n_assigned++] = p;
	return 0;
}

void fd_lag_forget(fd_lag *l, int32_t p)
{
	for (size_t i = 0; i < l->n_assigned; i++) {
		if (l->assigned[i] == p) {
			l->assigned[i] = l->assigned[--l->n_assigned];
			break;
		}
	}
	size_t kept = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->entries[i].partition != p)
			l->entries[kept++] = l->entries[i];
	l->n = kept;
}

static int by_topic_partition(const void *a, const void *b)
{
	const fd_lag_entry *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	if (c)
		return c;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

int fd_lag_update(fd_lag *l, const fd_lag_entry *fresh, size_t n)
{
	if (fd_grow(&l->entries, &l->cap, n, sizeof *l->entries, 16) != 0)
		return -1;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (assigned(l, fresh[i].partition))
			l->entries[kept++] = fresh[i];
	l->n = kept;
	if (l->n > 1)
		qsort(l->entries, l->n, sizeof *l->entries, by_topic_partition);
	return 0;
}

void fd_lag_free(fd_lag *l)
{
	free(l->entries);
	free(l->assigned);
	*l = (fd_lag){ 0 };
}
