/*
 * Event payload codec over json-c. The decoder is strict because the text
 * comes from storage that another program could have written: strict JSON,
 * valid UTF-8, a shallow depth, no trailing bytes, no duplicate members, no
 * member the event type does not have.
 */
#include <stdlib.h>
#include <string.h>

#include "codec/event_json.h"
#include "domain/text.h"
#include "codec/json_member.h"

/* An object holding only scalars needs depth 1; 2 lets nesting fail on type. */
#define EVENT_JSON_DEPTH 2

json_object *
event_json_data(const struct circle_event *ev)
{
	json_object *obj = NULL;
	const char *type;
	size_t name_len = 0;
	bool ok;

	if (ev == NULL || (type = circle_event_type_name(ev->type)) == NULL)
		return NULL;
	switch (ev->type) {
	case CIRCLE_CREATED: ok = ev->has_name && ev->has_capacity; break;
	case CIRCLE_UPDATED: ok = ev->has_name || ev->has_capacity; break;
	default: ok = !ev->has_name && !ev->has_capacity; break;
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
	return obj;
fail:
	json_object_put(obj);
	return NULL;
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

static enum cerr
read_name(json_object *val, struct circle_event *ev)
{
	const char *s;
	int len;

	if (!json_object_is_type(val, json_type_string))
		return CE_INTERNAL;
	s = json_object_get_string(val);
	len = json_object_get_string_len(val);
	/* the rule refuses U+0000 too, so an escaped NUL cannot cut the name */
	if (s == NULL || len <= 0 || circle_check_name(s, (size_t)len, NULL) != CE_OK)
		return CE_INTERNAL;
	memcpy(ev->name, s, (size_t)len);
	ev->name[len] = '\0';
	ev->has_name = true;
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

/* Checks obj against the shape of type t and reads its data into *ev. */
static enum cerr
read_members(json_object *obj, enum circle_event_type t, const char *event_type,
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
		if (strcmp(key, "name") == 0)
			rc = read_name(val, ev);
		else if (strcmp(key, "capacity") == 0)
			rc = read_capacity(val, ev);
		else
			rc = CE_INTERNAL;
		if (rc != CE_OK)
			return rc;
	}
	if (!seen_type)
		return CE_INTERNAL;
	if (t == CIRCLE_CREATED && !(ev->has_name && ev->has_capacity))
		return CE_INTERNAL;
	if (t == CIRCLE_UPDATED && !ev->has_name && !ev->has_capacity)
		return CE_INTERNAL;
	return CE_OK;
}

enum cerr
event_json_decode(const char *event_type, const char *payload, size_t len, struct circle_event *ev)
{
	struct json_tokener *tok = NULL;
	json_object *obj = NULL;
	struct circle_event tmp;
	enum cerr rc = CE_INTERNAL;
	int t;

	if (ev == NULL || payload == NULL || len == 0 || len > EVENT_JSON_MAX_LEN)
		goto out;
	if ((t = circle_event_type_parse(event_type)) < 0)
		goto out;
	if ((tok = json_tokener_new_ex(EVENT_JSON_DEPTH)) == NULL)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, payload, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)
		goto out;
	if (!json_object_is_type(obj, json_type_object) ||
	    scan_text(payload, len) != json_object_object_length(obj))
		goto out;

	memset(&tmp, 0, sizeof tmp);
	tmp.type = (enum circle_event_type)t;
	if ((rc = read_members(obj, tmp.type, event_type, &tmp)) != CE_OK)
		goto out;
	ev->type = tmp.type;
	ev->has_name = tmp.has_name;
	memcpy(ev->name, tmp.name, sizeof ev->name);
	ev->has_capacity = tmp.has_capacity;
	ev->capacity = tmp.capacity;
	rc = CE_OK;
out:
	json_object_put(obj);
	if (tok != NULL)
		json_tokener_free(tok);
	return rc;
}
