/*
 * json.c — JSON input decoding: Segment `track` / `page` / `identify` calls
 * and plain objects spelled with the proto field names, into fd_engagement,
 * fd_profile and fd_activity.
 *
 * Strings in the decoded structs point into the json-c document, which the
 * arena holds until the next decode (integer ids and non-string property
 * values use the text json-c caches in the same document); only normalised
 * event names and pointer arrays are allocated in the arena. The JSON text
 * must be one UTF-8 object, with nothing but whitespace around it.
 *
 * Not here: deciding whether an event type is configured or an activity
 * fits the lead's stage (the engine does), and JSON output (the outputs are
 * protobuf; the admin API renders its own JSON).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/utf8.h"
#include "wire/wire_internal.h"

/* Every JSON error starts with "json: "; needs errstr/errstr_size in scope.
 * The -1 is spelled out: fd_wire_fail always returns it, but the static
 * analyzer looks neither into another file nor into a variadic function. */
#define JSON_ERR(...) (fd_wire_fail(errstr, errstr_size, "json: " __VA_ARGS__), -1)

/* ---- document and member access ----------------------------------------- */

static bool only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return false;
	return true;
}

/* Parse buf[0..len) as one JSON object held by the arena. */
static int parse_object(const char *buf, size_t len, fd_wire_arena *a,
                        json_object **root, char *errstr, size_t errstr_size)
{
	size_t start = 0;
	while (start < len && only_space(buf + start, 1))
		start++;
	if (start == len)
		return JSON_ERR("empty document");
	if (buf[start] != '{')
		return JSON_ERR("top-level value must be an object");
	if (len - start > INT_MAX)
		return JSON_ERR("document too large");

	json_tokener *tok = fd_wire_arena_tokener(a);
	if (!tok)
		return JSON_ERR("out of memory");
	/* trailing characters are checked below, with a clearer message */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
	                            JSON_TOKENER_ALLOW_TRAILING_CHARS);
	json_object *doc = json_tokener_parse_ex(tok, buf + start, (int)(len - start));
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (!doc || jerr != json_tokener_success) {
		if (doc)
			json_object_put(doc);
		if (jerr == json_tokener_continue)
			return JSON_ERR("truncated document");
		return JSON_ERR("parse error at offset %zu: %s",
		                start + json_tokener_get_parse_end(tok),
		                json_tokener_error_desc(jerr));
	}
	fd_wire_arena_hold_json(a, doc);
	size_t end = start + json_tokener_get_parse_end(tok);
	if (!only_space(buf + end, len - end))
		return JSON_ERR("trailing data at offset %zu", end);
	*root = doc;
	return 0;
}

/* The member `name` of `obj`, or NULL when absent or null. */
static json_object *member(json_object *obj, const char *name)
{
	json_object *v = NULL;
	if (!obj || !json_object_object_get_ex(obj, name, &v))
		return NULL;
	return v;
}

/* The first of two spellings (snake_case, camelCase) that is present. */
static json_object *member2(json_object *obj, const char *name, const char *alt)
{
	json_object *v = member(obj, name);
	return v ? v : member(obj, alt);
}

/* `v` as an object, or NULL when absent; error when it is something else. */
static int get_object(json_object *v, const char *label, json_object **out,
                      char *errstr, size_t errstr_size)
{
	*out = NULL;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return JSON_ERR("%s must be an object", label);
	*out = v;
	return 0;
}

/* A string field: "" when absent. Ids (`id_like`) may also be integers,
 * printed into the arena. */
static int get_string(fd_wire_arena *a, json_object *v, const char *label, bool id_like,
                      const char **out, char *errstr, size_t errstr_size)
{
	*out = "";
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		*out = json_object_get_string(v);
		/* "\u0000" decodes to a NUL inside the string: as a C string it
		 * would end there ("u\u0000evil" would be lead "u"); json-c's UTF-8
		 * check lets overlong forms, surrogates and code points above
		 * U+10FFFF through */
		size_t len = (size_t)json_object_get_string_len(v), bad = fd_utf8_check(*out, len);
		if (bad < len)
			return JSON_ERR("%s %s at byte %zu", label,
			                (*out)[bad] ? "is not valid UTF-8" : "contains a NUL character", bad);
		return 0;
	}
	if (id_like && json_object_is_type(v, json_type_int)) {
		/* json-c saturates what does not fit: distinct ids would collide */
		errno = 0;
		int64_t i = json_object_get_int64(v);
		if (errno == ERANGE || i == INT64_MIN || i == INT64_MAX)
			return JSON_ERR("%s is an integer out of range; send ids as strings", label);
		/* the text is cached in (and owned by) the json object */
		*out = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		return *out ? 0 : JSON_ERR("out of memory");
	}
	return JSON_ERR("%s must be a string", label);
}

/* Strict decimal integer text: optional '-', digits only. */
static int parse_decimal(const char *s, int64_t *out)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* An integer field: 0 when absent. Accepts a JSON integer, an integral
 * double, or a decimal string (protobuf JSON writes int64 as strings). */
static int get_int64(json_object *v, const char *label, int64_t *out,
                     char *errstr, size_t errstr_size)
{
	*out = 0;
	if (!v)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int: {
		int64_t i = json_object_get_int64(v);
		if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			return JSON_ERR("%s is out of range", label);
		*out = i;
		return 0;
	}
	case json_type_double: {
		double d = json_object_get_double(v);
		/* 2^63 is exactly representable; anything below it fits */
		if (!isfinite(d) || d != floor(d) || d < -9223372036854775808.0 ||
		    d >= 9223372036854775808.0)
			return JSON_ERR("%s must be an integer", label);
		*out = (int64_t)d;
		return 0;
	}
	case json_type_string:
		if (parse_decimal(json_object_get_string(v), out) == 0)
			return 0;
		return JSON_ERR("%s must be an integer", label);
	default:
		return JSON_ERR("%s must be an integer", label);
	}
}

/* A required ISO-8601 timestamp field. */
static int get_timestamp(json_object *v, const char *label, int64_t *out,
                         char *errstr, size_t errstr_size)
{
	if (!v)
		return JSON_ERR("missing %s", label);
	if (!json_object_is_type(v, json_type_string))
		return JSON_ERR("%s must be an ISO-8601 string", label);
	const char *text = json_object_get_string(v);
	if (fd_iso8601_parse(text, out) != 0)
		return JSON_ERR("invalid %s \"%.64s\"", label, text);
	if (*out <= 0) /* as the protobuf path: times are after the epoch */
		return JSON_ERR("%s \"%.64s\" is not after 1970-01-01T00:00:00Z", label, text);
	return 0;
}

/* Record the `properties` object as the arena's property list: strings as
 * they are, other values as their JSON text, nulls left out. */
static int collect_properties(fd_wire_arena *a, json_object *props,
                              char *errstr, size_t errstr_size)
{
	size_t n = props ? (size_t)json_object_object_length(props) : 0;
	if (n == 0)
		return 0;
	fd_wire_property *out = fd_wire_arena_alloc(a, n * sizeof(*out));
	if (!out)
		return JSON_ERR("out of memory");
	size_t k = 0;
	struct json_object_iterator it = json_object_iter_begin(props);
	struct json_object_iterator end = json_object_iter_end(props);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		json_object *v = json_object_iter_peek_value(&it);
		if (!v)
			continue;
		out[k].key = json_object_iter_peek_name(&it);
		out[k].value = json_object_is_type(v, json_type_string)
			? json_object_get_string(v)
			: json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		if (json_object_is_type(v, json_type_string) &&
		    !fd_utf8_valid(out[k].value, (size_t)json_object_get_string_len(v)))
			return JSON_ERR("properties.%.64s is not text (invalid UTF-8 or a NUL character)",
			                out[k].key);
		k++;
	}
	fd_wire_arena_set_properties(a, out, k);
	return 0;
}

/* ---- Segment calls ------------------------------------------------------- */

/* Segment spec event names (after normalisation) that mean one of the
 * engagement types DESIGN section 3 lists. */
static const struct {
	const char *segment;
	const char *type;
} segment_aliases[] = {
	{ "demo_requested", "demo_request" },
	{ "contact_requested", "contact_request" },
	{ "pricing_viewed", "pricing_view" },
	{ "page_viewed", "page_view" },
	{ "email_opened", "email_open" },
	{ "email_clicked", "email_click" },
	{ "email_link_clicked", "email_click" },
	{ "content_downloaded", "content_download" },
	{ "form_submitted", "form_submit" },
	{ "unsubscribed", "unsubscribe" },
	{ "email_unsubscribed", "unsubscribe" },
};

/* "Demo Requested" -> "demo_requested" -> "demo_request": lower case,
 * runs of spaces, dashes and underscores to one underscore, ends trimmed,
 * then the alias table. */
static const char *normalise_event(fd_wire_arena *a, const char *name)
{
	size_t n = strlen(name);
	char *out = fd_wire_arena_alloc(a, n + 1);
	if (!out)
		return NULL;
	size_t k = 0;
	bool gap = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == ' ' || c == '-' || c == '_' || c == '\t') {
			gap = k > 0;
			continue;
		}
		if (gap)
			out[k++] = '_';
		gap = false;
		out[k++] = (char)tolower(c);
	}
	out[k] = '\0';
	for (size_t i = 0; i < sizeof(segment_aliases) / sizeof(segment_aliases[0]); i++)
		if (strcmp(out, segment_aliases[i].segment) == 0)
			return segment_aliases[i].type;
	return out;
}

static bool is_segment_call_name(const char *call)
{
	static const char *const calls[] = { "track", "page", "identify", "screen", "group", "alias" };
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (strcmp(call, calls[i]) == 0)
			return true;
	return false;
}

/* The Segment call type of `root` ("track", ...), or NULL when the object is
 * not Segment-shaped (then it is read by proto field names). */
static const char *segment_call(json_object *root)
{
	json_object *t = member(root, "type");
	const char *call = t && json_object_is_type(t, json_type_string)
		? json_object_get_string(t) : NULL;
	if (call && is_segment_call_name(call))
		return call;
	if (member(root, "userId") || member(root, "anonymousId") || member(root, "messageId"))
		return call ? call : "";
	return NULL;
}

/* userId, required. */
static int segment_user(fd_wire_arena *a, json_object *root, const char **out,
                        char *errstr, size_t errstr_size)
{
	json_object *v = member(root, "userId");
	if (!v)
		return JSON_ERR("missing userId");
	if (get_string(a, v, "userId", true, out, errstr, errstr_size) != 0)
		return -1;
	if (!**out)
		return JSON_ERR("missing userId");
	return 0;
}

static int segment_engagement(fd_wire_arena *a, json_object *root, const char *call,
                              fd_engagement *out, char *errstr, size_t errstr_size)
{
	bool page = strcmp(call, "page") == 0;
	if (!page && strcmp(call, "track") != 0) {
		if (!*call)
			return JSON_ERR("missing type");
		return JSON_ERR("Segment %s call is not an engagement event (want track or page)", call);
	}
	if (segment_user(a, root, &out->lead_id, errstr, errstr_size) != 0)
		return -1;
	if (get_string(a, member(root, "messageId"), "messageId", true, &out->event_id,
	               errstr, errstr_size) != 0)
		return -1;
	if (get_timestamp(member(root, "timestamp"), "timestamp", &out->occurred_at_ms,
	                  errstr, errstr_size) != 0)
		return -1;

	json_object *props, *context, *context_page, *context_campaign;
	if (get_object(member(root, "properties"), "properties", &props, errstr, errstr_size) ||
	    get_object(member(root, "context"), "context", &context, errstr, errstr_size) ||
	    get_object(member(context, "page"), "context.page", &context_page, errstr, errstr_size) ||
	    get_object(member(context, "campaign"), "context.campaign", &context_campaign,
	               errstr, errstr_size))
		return -1;

	if (page) {
		out->type = "page_view";
	} else {
		const char *event;
		if (get_string(a, member(root, "event"), "event", false, &event, errstr, errstr_size))
			return -1;
		if (!*event)
			return JSON_ERR("missing event");
		out->type = normalise_event(a, event);
		if (!out->type)
			return JSON_ERR("out of memory");
		if (!*out->type)
			return JSON_ERR("invalid event \"%.64s\"", event);
	}

	if (get_string(a, member(props, "channel"), "properties.channel", false,
	               &out->channel, errstr, errstr_size) ||
	    get_string(a, member(props, "content_id"), "properties.content_id", true,
	               &out->content_id, errstr, errstr_size) ||
	    get_string(a, member(props, "account_id"), "properties.account_id", true,
	               &out->account_id, errstr, errstr_size) ||
	    get_string(a, member(props, "url"), "properties.url", false,
	               &out->url, errstr, errstr_size) ||
	    get_string(a, member(props, "campaign"), "properties.campaign", false,
	               &out->campaign, errstr, errstr_size))
		return -1;
	if (!*out->account_id &&
	    get_string(a, member(context, "groupId"), "context.groupId", true,
	               &out->account_id, errstr, errstr_size))
		return -1;
	if (!*out->url &&
	    get_string(a, member(context_page, "url"), "context.page.url", false,
	               &out->url, errstr, errstr_size))
		return -1;
	if (!*out->campaign &&
	    get_string(a, member(context_campaign, "name"), "context.campaign.name", false,
	               &out->campaign, errstr, errstr_size))
		return -1;
	if (page) {
		if (!*out->content_id &&
		    get_string(a, member(root, "name"), "name", false, &out->content_id,
		               errstr, errstr_size))
			return -1;
		if (!*out->channel)
			out->channel = "web";
	}
	return collect_properties(a, props, errstr, errstr_size);
}

/* Look a trait up under its snake_case and camelCase names. */
static int trait_string(fd_wire_arena *a, json_object *traits, const char *name,
                        const char *alt, const char **out, char *errstr, size_t errstr_size)
{
	const char *used = member(traits, name) || !alt ? name : alt;
	char label[64];
	snprintf(label, sizeof(label), "traits.%s", used);
	return get_string(a, member(traits, used), label, true, out, errstr, errstr_size);
}

static int trait_int64(json_object *obj, const char *prefix, const char *name,
                       const char *alt, int64_t *out, char *errstr, size_t errstr_size)
{
	const char *used = member(obj, name) || !alt ? name : alt;
	char label[64];
	snprintf(label, sizeof(label), "%s.%s", prefix, used);
	return get_int64(member(obj, used), label, out, errstr, errstr_size);
}

/* An array of strings into an arena pointer array. */
static int get_string_array(fd_wire_arena *a, json_object *v, const char *label,
                            const char *const **out, size_t *n_out,
                            char *errstr, size_t errstr_size)
{
	*out = NULL;
	*n_out = 0;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return JSON_ERR("%s must be an array of strings", label);
	size_t n = json_object_array_length(v);
	if (n == 0)
		return 0;
	const char **items = fd_wire_arena_alloc(a, n * sizeof(*items));
	if (!items)
		return JSON_ERR("out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(v, i);
		if (!item || !json_object_is_type(item, json_type_string))
			return JSON_ERR("%s must be an array of strings", label);
		items[i] = json_object_get_string(item);
	}
	*out = items;
	*n_out = n;
	return 0;
}

static int segment_profile(fd_wire_arena *a, json_object *root, const char *call,
                           fd_profile *out, char *errstr, size_t errstr_size)
{
	if (strcmp(call, "identify") != 0) {
		if (!*call)
			return JSON_ERR("missing type");
		return JSON_ERR("Segment %s call is not a profile (want identify)", call);
	}
	if (segment_user(a, root, &out->lead_id, errstr, errstr_size) != 0)
		return -1;
	if (get_timestamp(member(root, "timestamp"), "timestamp", &out->updated_at_ms,
	                  errstr, errstr_size) != 0)
		return -1;

	json_object *traits, *company, *address;
	if (get_object(member(root, "traits"), "traits", &traits, errstr, errstr_size) ||
	    get_object(member(traits, "company"), "traits.company", &company, errstr, errstr_size) ||
	    get_object(member(traits, "address"), "traits.address", &address, errstr, errstr_size))
		return -1;

	if (trait_string(a, traits, "email", NULL, &out->email, errstr, errstr_size) ||
	    trait_string(a, traits, "seniority", NULL, &out->seniority, errstr, errstr_size) ||
	    trait_string(a, traits, "department", NULL, &out->department, errstr, errstr_size) ||
	    trait_string(a, traits, "industry", NULL, &out->industry, errstr, errstr_size) ||
	    trait_string(a, traits, "country", NULL, &out->country, errstr, errstr_size) ||
	    trait_string(a, traits, "lead_source", "leadSource", &out->lead_source,
	                 errstr, errstr_size) ||
	    trait_string(a, traits, "owner_id", "ownerId", &out->owner_id, errstr, errstr_size))
		return -1;
	/* title is Segment's reserved trait; job_title is ours */
	if (member(traits, "title")) {
		if (trait_string(a, traits, "title", NULL, &out->job_title, errstr, errstr_size))
			return -1;
	} else if (trait_string(a, traits, "job_title", "jobTitle", &out->job_title,
	                        errstr, errstr_size)) {
		return -1;
	}
	if (!*out->industry &&
	    get_string(a, member(company, "industry"), "traits.company.industry", false,
	               &out->industry, errstr, errstr_size))
		return -1;
	if (!*out->country &&
	    get_string(a, member(address, "country"), "traits.address.country", false,
	               &out->country, errstr, errstr_size))
		return -1;

	if (member(traits, "employees")) {
		if (trait_int64(traits, "traits", "employees", NULL, &out->employee_count,
		                errstr, errstr_size))
			return -1;
	} else if (member2(traits, "employee_count", "employeeCount")) {
		if (trait_int64(traits, "traits", "employee_count", "employeeCount",
		                &out->employee_count, errstr, errstr_size))
			return -1;
	} else if (trait_int64(company, "traits.company", "employee_count", "employees",
	                       &out->employee_count, errstr, errstr_size)) {
		return -1;
	}
	if (trait_int64(traits, "traits", "annual_revenue", "annualRevenue",
	                &out->annual_revenue, errstr, errstr_size))
		return -1;
	if (out->employee_count < 0)
		return JSON_ERR("negative employee count %lld", (long long)out->employee_count);
	if (out->annual_revenue < 0)
		return JSON_ERR("negative annual revenue %lld", (long long)out->annual_revenue);

	return get_string_array(a, member(traits, "technologies"), "traits.technologies",
	                        &out->technologies, &out->n_technologies, errstr, errstr_size);
}

/* ---- plain objects with the proto field names ---------------------------- */

/* Field names: proto name and protobuf-JSON (lowerCamelCase) name. */
#define F(snake, camel) member2(root, snake, camel), snake

static int plain_engagement(fd_wire_arena *a, json_object *root, fd_engagement *out,
                            char *errstr, size_t errstr_size)
{
	json_object *props;
	if (get_string(a, F("event_id", "eventId"), true, &out->event_id, errstr, errstr_size) ||
	    get_string(a, F("lead_id", "leadId"), true, &out->lead_id, errstr, errstr_size) ||
	    get_string(a, F("account_id", "accountId"), true, &out->account_id,
	               errstr, errstr_size) ||
	    get_int64(F("occurred_at_ms", "occurredAtMs"), &out->occurred_at_ms,
	              errstr, errstr_size) ||
	    get_string(a, F("type", "type"), false, &out->type, errstr, errstr_size) ||
	    get_string(a, F("channel", "channel"), false, &out->channel, errstr, errstr_size) ||
	    get_string(a, F("content_id", "contentId"), true, &out->content_id,
	               errstr, errstr_size) ||
	    get_string(a, F("url", "url"), false, &out->url, errstr, errstr_size) ||
	    get_string(a, F("campaign", "campaign"), false, &out->campaign, errstr, errstr_size) ||
	    get_object(F("properties", "properties"), &props, errstr, errstr_size))
		return -1;
	if (!*out->lead_id)
		return JSON_ERR("missing lead_id");
	if (out->occurred_at_ms == 0)
		return JSON_ERR("missing occurred_at_ms");
	if (out->occurred_at_ms < 0)
		return JSON_ERR("invalid occurred_at_ms %lld", (long long)out->occurred_at_ms);
	if (!*out->type)
		return JSON_ERR("missing type");
	return collect_properties(a, props, errstr, errstr_size);
}

static int plain_profile(fd_wire_arena *a, json_object *root, fd_profile *out,
                         char *errstr, size_t errstr_size)
{
	if (get_string(a, F("lead_id", "leadId"), true, &out->lead_id, errstr, errstr_size) ||
	    get_int64(F("updated_at_ms", "updatedAtMs"), &out->updated_at_ms,
	              errstr, errstr_size) ||
	    get_string(a, F("email", "email"), false, &out->email, errstr, errstr_size) ||
	    get_string(a, F("job_title", "jobTitle"), false, &out->job_title,
	               errstr, errstr_size) ||
	    get_string(a, F("seniority", "seniority"), false, &out->seniority,
	               errstr, errstr_size) ||
	    get_string(a, F("department", "department"), false, &out->department,
	               errstr, errstr_size) ||
	    get_string(a, F("industry", "industry"), false, &out->industry, errstr, errstr_size) ||
	    get_string(a, F("country", "country"), false, &out->country, errstr, errstr_size) ||
	    get_int64(F("employee_count", "employeeCount"), &out->employee_count,
	              errstr, errstr_size) ||
	    get_int64(F("annual_revenue", "annualRevenue"), &out->annual_revenue,
	              errstr, errstr_size) ||
	    get_string_array(a, F("technologies", "technologies"), &out->technologies,
	                     &out->n_technologies, errstr, errstr_size) ||
	    get_string(a, F("lead_source", "leadSource"), false, &out->lead_source,
	               errstr, errstr_size) ||
	    get_string(a, F("owner_id", "ownerId"), true, &out->owner_id, errstr, errstr_size))
		return -1;
	if (!*out->lead_id)
		return JSON_ERR("missing lead_id");
	if (out->updated_at_ms < 0)
		return JSON_ERR("invalid updated_at_ms %lld", (long long)out->updated_at_ms);
	if (out->employee_count < 0)
		return JSON_ERR("negative employee_count %lld", (long long)out->employee_count);
	if (out->annual_revenue < 0)
		return JSON_ERR("negative annual_revenue %lld", (long long)out->annual_revenue);
	return 0;
}

/* Strip an optional enum prefix ("ACTIVITY_KIND_"), case-insensitively. */
static const char *strip_prefix(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncasecmp(name, prefix, n) == 0 ? name + n : name;
}

static int parse_kind(json_object *v, fd_activity_kind *out, char *errstr, size_t errstr_size)
{
	if (!v)
		return JSON_ERR("missing kind");
	if (json_object_is_type(v, json_type_int)) {
		int64_t n = json_object_get_int64(v);
		if (n < INT_MIN || n > INT_MAX || fd_wire_activity_kind_from_proto((int)n, out) != 0)
			return JSON_ERR("unknown activity kind %lld", (long long)n);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return JSON_ERR("kind must be a string");
	const char *text = json_object_get_string(v);
	const char *name = strip_prefix(text, "ACTIVITY_KIND_");
	for (int k = 0; k < FD_ACT_COUNT; k++) {
		if (strcasecmp(name, fd_activity_kind_name((fd_activity_kind)k)) == 0) {
			*out = (fd_activity_kind)k;
			return 0;
		}
	}
	if (!*text)
		return JSON_ERR("missing kind");
	return JSON_ERR("unknown activity kind \"%.64s\"", text);
}

static int parse_reason(json_object *v, fd_reason *out, char *errstr, size_t errstr_size)
{
	*out = FD_REASON_NONE;
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		int64_t n = json_object_get_int64(v);
		if (n < INT_MIN || n > INT_MAX || fd_wire_reason_from_proto((int)n, out) != 0)
			return JSON_ERR("unknown reason %lld", (long long)n);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return JSON_ERR("reason must be a string");
	const char *text = json_object_get_string(v);
	const char *name = strip_prefix(text, "REASON_");
	if (!*name || strcasecmp(name, "UNSPECIFIED") == 0 || strcasecmp(name, "NONE") == 0)
		return 0;
	for (int r = 0; r < FD_REASON_COUNT; r++) {
		if (r != FD_REASON_NONE && strcasecmp(name, fd_reason_name((fd_reason)r)) == 0) {
			*out = (fd_reason)r;
			return 0;
		}
	}
	return JSON_ERR("unknown reason \"%.64s\"", text);
}

static int plain_activity(fd_wire_arena *a, json_object *root, fd_activity *out,
                          char *errstr, size_t errstr_size)
{
	int64_t days;
	if (get_string(a, F("activity_id", "activityId"), true, &out->activity_id,
	               errstr, errstr_size) ||
	    get_string(a, F("lead_id", "leadId"), true, &out->lead_id, errstr, errstr_size) ||
	    get_int64(F("occurred_at_ms", "occurredAtMs"), &out->occurred_at_ms,
	              errstr, errstr_size) ||
	    get_string(a, F("rep_id", "repId"), true, &out->rep_id, errstr, errstr_size) ||
	    get_string(a, F("note", "note"), false, &out->note, errstr, errstr_size) ||
	    get_int64(F("review_after_days", "reviewAfterDays"), &days, errstr, errstr_size))
		return -1;
	if (!*out->lead_id)
		return JSON_ERR("missing lead_id");
	if (out->occurred_at_ms == 0)
		return JSON_ERR("missing occurred_at_ms");
	if (out->occurred_at_ms < 0)
		return JSON_ERR("invalid occurred_at_ms %lld", (long long)out->occurred_at_ms);
	if (parse_kind(member(root, "kind"), &out->kind, errstr, errstr_size) ||
	    parse_reason(member(root, "reason"), &out->reason, errstr, errstr_size))
		return -1;
	if (days < 0 || days > INT32_MAX)
		return JSON_ERR("review_after_days must be between 0 and %d", INT32_MAX);
	out->review_after_days = (int32_t)days;
	return 0;
}

#undef F

/* ---- entry points -------------------------------------------------------- */

int fd_wire_json_engagement(const char *buf, size_t len, fd_wire_arena *a,
                            fd_engagement *out, char *errstr, size_t errstr_size)
{
	json_object *root;
	if (parse_object(buf, len, a, &root, errstr, errstr_size) != 0)
		return -1;
	const char *call = segment_call(root);
	if (call)
		return segment_engagement(a, root, call, out, errstr, errstr_size);
	return plain_engagement(a, root, out, errstr, errstr_size);
}

int fd_wire_json_profile(const char *buf, size_t len, fd_wire_arena *a,
                         fd_profile *out, char *errstr, size_t errstr_size)
{
	json_object *root;
	if (parse_object(buf, len, a, &root, errstr, errstr_size) != 0)
		return -1;
	const char *call = segment_call(root);
	if (call)
		return segment_profile(a, root, call, out, errstr, errstr_size);
	return plain_profile(a, root, out, errstr, errstr_size);
}

int fd_wire_json_activity(const char *buf, size_t len, fd_wire_arena *a,
                          fd_activity *out, char *errstr, size_t errstr_size)
{
	json_object *root;
	if (parse_object(buf, len, a, &root, errstr, errstr_size) != 0)
		return -1;
	return plain_activity(a, root, out, errstr, errstr_size);
}
