/*
 * Event payload codec over json-c. The decoder is strict because the text
 * comes from storage that another program could have written: strict JSON,
 * valid UTF-8, a shallow depth, no trailing bytes, no duplicate members, no
 * member the event type (in the payload's schema version) does not have.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "domain/text.h"
#include "codec/json_member.h"

/* An object holding only scalars needs depth 1; 2 lets nesting fail on type. */
#define EVENT_JSON_DEPTH 2

/* The data members a payload can hold, as a mask. */
enum {
	MEMBER_NAME = 1u << 0,
	MEMBER_CAPACITY = 1u << 1,
	MEMBER_DESCRIPTION = 1u << 2,
};

/*
 * Every schema version this build reads, indexed by its number. `members`
 * are the data members its payloads may hold; upcast() turns an event read
 * in that version's shape into the next version's shape, so a payload of
 * version v goes through upcast v, v+1, ... up to EVENT_SCHEMA_VERSION.
 * Adding version 3: a row here with its members, the upcast of version 2
 * into it, and EVENT_SCHEMA_VERSION 3; the encoder writes the newest shape.
 */
struct schema {
	unsigned members;
	void (*upcast)(struct circle_event *ev); /* NULL for the newest */
};

/* Version 1 knew no descriptions: its events have none, which is how
 * version 2 says so (no member); nothing else changed. */
static void
upcast_v1(struct circle_event *ev)
{
	ev->has_description = false;
	ev->description[0] = '\0';
}

static const struct schema schemas[EVENT_SCHEMA_VERSION + 1] = {
	[1] = {MEMBER_NAME | MEMBER_CAPACITY, upcast_v1},
	[2] = {MEMBER_NAME | MEMBER_CAPACITY | MEMBER_DESCRIPTION, NULL},
};

bool
event_schema_known(unsigned long v)
{
	return v >= 1 && v <= EVENT_SCHEMA_VERSION && schemas[v].members != 0;
}

/* A description as it may stand in an event of type t. */
static bool
description_ok(enum circle_event_type t, const char *s, size_t len)
{
	if (t == CIRCLE_CREATED && len == 0)
		return false;
	return circle_check_description(s, len, NULL) == CE_OK;
}

json_object *
event_json_data(const struct circle_event *ev)
{
	json_object *obj = NULL;
	const char *type;
	size_t name_len = 0, description_len = 0;
	bool ok;

	if (ev == NULL || (type = circle_event_type_name(ev->type)) == NULL)
		return NULL;
	switch (ev->type) {
	case CIRCLE_CREATED: ok = ev->has_name && ev->has_capacity; break;
	case CIRCLE_UPDATED: ok = ev->has_name || ev->has_capacity || ev->has_description; break;
	default: ok = !ev->has_name && !ev->has_capacity && !ev->has_description; break;
	}
	if (!ok)
		return NULL;
	/* never store what the decoder would refuse to read back */
	if (ev->has_name) {
		name_len = strnlen(ev->name, sizeof ev->name);
		if (name_len == sizeof ev->name ||
		    circle_check_name(ev->name, name_len, NULL) != CE_OK)
			return NULL;
	}
	if (ev->has_capacity && circle_check_capacity(ev->capacity, NULL) != CE_OK)
		return NULL;
	if (ev->has_description) {
		description_len = strnlen(ev->description, sizeof ev->description);
		if (description_len == sizeof ev->description ||
		    !description_ok(ev->type, ev->description, description_len))
			return NULL;
	}

	if ((obj = json_object_new_object()) == NULL)
		goto fail;
	if (json_member_add(obj, "type", json_object_new_string(type)) != 0)
		goto fail;
	if (ev->has_name &&
	    json_member_add(obj, "name", json_object_new_string_len(ev->name, (int)name_len)) != 0)
		goto fail;
	if (ev->has_capacity &&
	    json_member_add(obj, "capacity", json_object_new_int(ev->capacity)) != 0)
		goto fail;
	if (ev->has_description &&
	    json_member_add(obj, "description",
			    json_object_new_string_len(ev->description, (int)description_len)) != 0)
		goto fail;
	return obj;
fail:
	json_object_put(obj);
	return NULL;
}

int
event_json_add_members(json_object *obj, const struct circle_event *ev)
{
	const char *type = circle_event_type_name(ev->type);

	if (type == NULL ||
	    json_member_add(obj, "event_id", json_object_new_string(ev->event_id)) != 0 ||
	    json_member_add(obj, "version", json_object_new_int64(ev->version)) != 0 ||
	    json_member_add(obj, "event_type", json_object_new_string(type)) != 0 ||
	    json_member_add(obj, "occurred_at", json_object_new_string(ev->occurred_at)) != 0 ||
	    json_member_add(obj, "data", event_json_data(ev)) != 0)
		return -1;
	return 0;
}

int
event_json_encode(const struct circle_event *ev, char **out)
{
	json_object *obj = NULL;
	const char *text;
	int rc = -1;

	if (out == NULL)
		return -1;
	*out = NULL;
	if ((obj = event_json_data(ev)) == NULL)
		goto out;
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || (*out = strdup(text)) == NULL)
		goto out;
	rc = 0;
out:
	json_object_put(obj);
	return rc;
}

/* The value of the \uXXXX escape at s (s[0] is the backslash), or -1. */
static long
escape_value(const char *s, size_t left)
{
	uint32_t v;

	if (left < 6 || s[1] != 'u' || text_hex(s + 2, 4, &v) != 0)
		return -1;
	return (long)v;
}

/*
 * What json-c lets through silently, found in the text it parsed: it keeps
 * the last of two members with the same key, cuts a key at an escaped NUL
 * ("name\u0000x" reads as "name"), and turns an unpaired surrogate escape
 * into U+FFFD. The text is valid JSON whose members must all be scalars, so
 * counting ':' outside strings gives the member count, which exposes
 * duplicates and any nesting a duplicate would have hidden.
 * Returns that count, or -1 for an escaped NUL or an unpaired surrogate.
 */
static long
scan_text(const char *s, size_t len)
{
	size_t i;
	long n = 0;
	bool in_string = false;

	for (i = 0; i < len; i++) {
		char c = s[i];
		long v;

		if (!in_string) {
			if (c == '"')
				in_string = true;
			else if (c == ':')
				n++;
			continue;
		}
		if (c == '"') {
			in_string = false;
			continue;
		}
		if (c != '\\')
			continue;
		if ((v = escape_value(s + i, len - i)) < 0) {
			i++; /* a one-letter escape: its letter cannot end the string */
			continue;
		}
		if (v == 0 || (v >= 0xDC00 && v <= 0xDFFF))
			return -1;
		if (v >= 0xD800 && v <= 0xDBFF) {
			long low = escape_value(s + i + 6, len - i - 6);
			if (low < 0xDC00 || low > 0xDFFF)
				return -1;
			i += 6;
		}
		i += 5;
	}
	return n;
}

/* A name as it may stand in an event of type t (any type: the rule is one). */
static bool
name_ok(enum circle_event_type t, const char *s, size_t len)
{
	(void)t;
	return len > 0 && circle_check_name(s, len, NULL) == CE_OK;
}

/* A string member into dst (size bytes with its NUL) when ok() takes it; the
 * rules refuse U+0000 too, so an escaped NUL cannot cut the text short. */
static enum cerr
read_text(json_object *val, const struct circle_event *ev,
	  bool (*ok)(enum circle_event_type, const char *, size_t), char *dst, size_t size,
	  bool *has)
{
	const char *s;
	int len;

	if (!json_object_is_type(val, json_type_string))
		return CE_INTERNAL;
	s = json_object_get_string(val);
	len = json_object_get_string_len(val);
	if (s == NULL || len < 0 || (size_t)len >= size || !ok(ev->type, s, (size_t)len))
		return CE_INTERNAL;
	memcpy(dst, s, (size_t)len);
	dst[len] = '\0';
	*has = true;
	return CE_OK;
}

static enum cerr
read_capacity(json_object *val, struct circle_event *ev)
{
	int64_t v;

	/* json-c gives 3.0 and 1e3 the double type: both refused here */
	if (!json_object_is_type(val, json_type_int))
		return CE_INTERNAL;
	v = json_object_get_int64(val);
	if (circle_check_capacity(v, NULL) != CE_OK)
		return CE_INTERNAL;
	ev->capacity = (int)v;
	ev->has_capacity = true;
	return CE_OK;
}

/* Checks obj against the shape of type t in a version whose payloads may
 * hold `members`, and reads its data into *ev. */
static enum cerr
read_members(json_object *obj, enum circle_event_type t, const char *event_type, unsigned members,
	     struct circle_event *ev)
{
	bool seen_type = false;

	json_object_object_foreach(obj, key, val)
	{
		enum cerr rc;

		if (strcmp(key, "type") == 0) {
			if (!json_object_is_type(val, json_type_string) ||
			    strcmp(json_object_get_string(val), event_type) != 0 ||
			    (size_t)json_object_get_string_len(val) != strlen(event_type))
				return CE_INTERNAL;
			seen_type = true;
			continue;
		}
		if (t == CIRCLE_DELETED)
			return CE_INTERNAL;
		if ((members & MEMBER_NAME) && strcmp(key, "name") == 0)
			rc = read_text(val, ev, name_ok, ev->name, sizeof ev->name, &ev->has_name);
		else if ((members & MEMBER_CAPACITY) && strcmp(key, "capacity") == 0)
			rc = read_capacity(val, ev);
		else if ((members & MEMBER_DESCRIPTION) && strcmp(key, "description") == 0)
			rc = read_text(val, ev, description_ok, ev->description,
				       sizeof ev->description, &ev->has_description);
		else
			rc = CE_INTERNAL;
		if (rc != CE_OK)
			return rc;
	}
	if (!seen_type)
		return CE_INTERNAL;
	if (t == CIRCLE_CREATED && !(ev->has_name && ev->has_capacity))
		return CE_INTERNAL;
	if (t == CIRCLE_UPDATED && !ev->has_name && !ev->has_capacity && !ev->has_description)
		return CE_INTERNAL;
	return CE_OK;
}

static void
say(char *why, const char *text)
{
	if (why != NULL)
		snprintf(why, EVENT_JSON_WHY_MAX, "%s", text);
}

enum cerr
event_json_decode(unsigned long schema_version, const char *event_type, const char *payload,
		  size_t len, struct circle_event *ev, char why[EVENT_JSON_WHY_MAX])
{
	struct json_tokener *tok = NULL;
	json_object *obj = NULL;
	struct circle_event tmp;
	enum cerr rc = CE_INTERNAL;
	unsigned long v;
	int t;

	say(why, "");
	if (!event_schema_known(schema_version)) {
		/* never read a shape as another: a newer build wrote it, or the
		 * row is damaged; either way a person must look */
		if (why != NULL)
			snprintf(why, EVENT_JSON_WHY_MAX,
				 "schema version %lu is not one this build reads (1 to %d)",
				 schema_version, EVENT_SCHEMA_VERSION);
		goto out;
	}
	if (ev == NULL || payload == NULL || len == 0 || len > EVENT_JSON_MAX_LEN) {
		say(why, "the payload is empty or too long");
		goto out;
	}
	if ((t = circle_event_type_parse(event_type)) < 0) {
		say(why, "the event type is unknown");
		goto out;
	}
	if ((tok = json_tokener_new_ex(EVENT_JSON_DEPTH)) == NULL) {
		say(why, "out of memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, payload, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len || !json_object_is_type(obj, json_type_object) ||
	    scan_text(payload, len) != json_object_object_length(obj)) {
		say(why, "the payload is not one strict JSON object");
		goto out;
	}

	memset(&tmp, 0, sizeof tmp);
	tmp.type = (enum circle_event_type)t;
	rc = read_members(obj, tmp.type, event_type, schemas[schema_version].members, &tmp);
	if (rc != CE_OK) {
		say(why, "the payload does not have the shape of its type and schema version");
		goto out;
	}
	for (v = schema_version; schemas[v].upcast != NULL; v++)
		schemas[v].upcast(&tmp);
	ev->type = tmp.type;
	ev->has_name = tmp.has_name;
	memcpy(ev->name, tmp.name, sizeof ev->name);
	ev->has_capacity = tmp.has_capacity;
	ev->capacity = tmp.capacity;
	ev->has_description = tmp.has_description;
	memcpy(ev->description, tmp.description, sizeof ev->description);
	rc = CE_OK;
out:
	json_object_put(obj);
	if (tok != NULL)
		json_tokener_free(tok);
	return rc;
}
