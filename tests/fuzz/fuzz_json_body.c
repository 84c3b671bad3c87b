/*
 * Fuzzes the request body parsers (http/json_body.h): the strict JSON check
 * and the create and update bodies, on the same bytes.
 *
 * Properties: whatever the checker accepts, json-c in strict mode accepts
 * too, as one object; an accepted create body has a name that passes
 * circle_check_name() and equals json-c's reading of "circle_name", and a
 * capacity in range that equals json-c's integer, and a description (when
 * given) that passes circle_check_description() and equals json-c's
 * reading; an accepted update agrees with the create on every shared
 * member; every refusal names a subject the
 * contract allows, with a detail; an echoed unknown name is a short C
 * string of valid UTF-8.
 */
#include <string.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "http/json_body.h"

/* A strict json-c parse of buf, or NULL. */
static json_object *
jsonc_parse(const char *buf, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_BODY_MAX_DEPTH + 2);
	json_object *obj = NULL;

	if (tok == NULL || len > (size_t)INT32_MAX)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
			    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(obj);
		obj = NULL;
	}
out:
	if (tok != NULL)
		json_tokener_free(tok);
	return obj;
}

/* Every byte of s[0..n) is part of well-formed UTF-8. */
static bool
utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char b = p[i];
		size_t k, j;
		unsigned char lo = 0x80, hi = 0xBF;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			k = 2;
		else if (b >= 0xE0 && b <= 0xEF)
			k = 3;
		else if (b >= 0xF0 && b <= 0xF4)
			k = 4;
		else
			return false;
		if (b == 0xE0)
			lo = 0xA0;
		if (b == 0xED)
			hi = 0x9F;
		if (b == 0xF0)
			lo = 0x90;
		if (b == 0xF4)
			hi = 0x8F;
		if (n - i < k)
			return false;
		for (j = 1; j < k; j++) {
			if (p[i + j] < lo || p[i + j] > hi)
				return false;
			lo = 0x80;
			hi = 0xBF;
		}
		i += k;
	}
	return true;
}

static bool
subject_is(const struct cerr_info *info, const char *a, const char *b, const char *c)
{
	const char *s = info->subject;

	return s != NULL && ((a != NULL && strcmp(s, a) == 0) || (b != NULL && strcmp(s, b) == 0) ||
			     (c != NULL && strcmp(s, c) == 0));
}

/* The refusal of a body parser is one the contract knows, fully described. */
static void
check_refusal(enum cerr rc, const struct cerr_info *info, const char *unknown, bool update)
{
	FUZZ_CHECK(info->code == rc);
	FUZZ_CHECK(info->detail != NULL && info->detail[0] != '\0');
	switch (rc) {
	case CE_INVALID_JSON:
	case CE_INTERNAL: /* out of memory only */ break;
	case CE_UNKNOWN_FIELD: {
		size_t n = strlen(unknown);

		FUZZ_CHECK(info->subject == unknown);
		FUZZ_CHECK(n <= JSON_BODY_NAME_ECHO);
		/* cut at a character boundary: control characters may be there */
		FUZZ_CHECK(utf8_ok(unknown, n));
		break;
	}
	case CE_MISSING_FIELD:
		FUZZ_CHECK(!update && subject_is(info, "circle_name", "capacity", NULL));
		break;
	case CE_INVALID_FIELD:
		FUZZ_CHECK(subject_is(info, "circle_name", "capacity", update ? "version" : NULL) ||
			   subject_is(info, "description", NULL, NULL));
		break;
	case CE_NOTHING_TO_UPDATE: FUZZ_CHECK(update); break;
	default: FUZZ_CHECK(!"a body parser answered a code it does not have");
	}
}

/* The member json-c read for key, or NULL. */
static json_object *
member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* True when the body holds a \\u escape of a surrogate: json-c 0.16 decodes
 * some valid pairs (\\ud837\\ude00) to U+FFFD, so it is no reference there;
 * the unit tests pin those bytes instead. */
static bool
has_surrogate_escape(const char *buf, size_t size)
{
	size_t i;

	for (i = 0; i + 3 < size; i++)
		if (buf[i] == '\\' && buf[i + 1] == 'u' && (buf[i + 2] | 0x20) == 'd' &&
		    buf[i + 3] != '\0' && strchr("89abcdefABCDEF", buf[i + 3]) != NULL)
			return true;
	return false;
}

static void
check_name_matches(json_object *doc, const char *name)
{
	json_object *v = member(doc, "circle_name");

	FUZZ_CHECK(v != NULL && json_object_is_type(v, json_type_string));
	FUZZ_CHECK((size_t)json_object_get_string_len(v) == strlen(name));
	FUZZ_CHECK(memcmp(json_object_get_string(v), name, strlen(name)) == 0);
}

static void
check_description_matches(json_object *doc, const char *description)
{
	json_object *v = member(doc, "description");

	FUZZ_CHECK(v != NULL && json_object_is_type(v, json_type_string));
	FUZZ_CHECK((size_t)json_object_get_string_len(v) == strlen(description));
	FUZZ_CHECK(memcmp(json_object_get_string(v), description, strlen(description)) == 0);
}

/* An accepted description: within its rule, and what json-c read. */
static void
check_description(json_object *doc, const char *description, const char *buf, size_t size)
{
	size_t n = strlen(description);

	FUZZ_CHECK(n <= CIRCLE_DESCRIPTION_MAX_BYTES);
	FUZZ_CHECK(circle_check_description(description, n, NULL) == CE_OK);
	if (!has_surrogate_escape(buf, size))
		check_description_matches(doc, description);
}

static void
check_capacity_matches(json_object *doc, int capacity)
{
	json_object *v = member(doc, "capacity");

	FUZZ_CHECK(v != NULL && json_object_is_type(v, json_type_int));
	FUZZ_CHECK(json_object_get_int64(v) == capacity);
}

struct seen {
	size_t members;
	/* json-c cuts keys at NUL and folds unpaired surrogate escapes into
	 * U+FFFD, so keys we keep apart it may merge: counts may differ */
	bool lossy_name;
};

/* Counts the top-level members, as a check that callbacks see each once. */
static void
count_member(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct seen *seen = ctx;

	FUZZ_CHECK(name != NULL || name_len == 0);
	FUZZ_CHECK(value != NULL && value_len > 0);
	if (name_len > 0 && memchr(name, '\0', name_len) != NULL)
		seen->lossy_name = true;
	for (size_t i = 0; i + 1 < name_len; i++)
		if ((unsigned char)name[i] == 0xED && (unsigned char)name[i + 1] >= 0xA0)
			seen->lossy_name = true;
	seen->members++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct cerr_info vinfo = {0}, cinfo = {0}, uinfo = {0};
	struct create_body *cb = malloc(sizeof(*cb));
	struct update_body *ub = malloc(sizeof(*ub));
	json_object *doc = NULL;
	enum cerr vrc, crc, urc;
	struct seen seen = {0, false};

	if (cb == NULL || ub == NULL)
		goto out;
	vrc = json_body_validate(buf, size, count_member, &seen, &vinfo);
	crc = json_body_create(buf, size, cb, &cinfo);
	urc = json_body_update(buf, size, ub, &uinfo);
	doc = jsonc_parse(buf, size);

	if (vrc == CE_OK) {
		/* a body strict enough for this checker is JSON to anyone */
		FUZZ_CHECK(doc != NULL && json_object_is_type(doc, json_type_object));
		FUZZ_CHECK(seen.lossy_name ||
			   (size_t)json_object_object_length(doc) == seen.members);
		FUZZ_CHECK(utf8_ok(buf, size));
	} else {
		FUZZ_CHECK(vrc == CE_INVALID_JSON || vrc == CE_INTERNAL);
		FUZZ_CHECK(vinfo.detail != NULL);
		/* the command parsers validate first and fail the same way */
		FUZZ_CHECK(crc == vrc && urc == vrc);
	}

	if (crc == CE_OK) {
		size_t n = strlen(cb->name);

		FUZZ_CHECK(n >= 1 && n <= CIRCLE_NAME_MAX_BYTES);
		FUZZ_CHECK(circle_check_name(cb->name, n, NULL) == CE_OK);
		FUZZ_CHECK(circle_check_capacity(cb->capacity, NULL) == CE_OK);
		if (!has_surrogate_escape(buf, size))
			check_name_matches(doc, cb->name);
		check_capacity_matches(doc, cb->capacity);
		if (cb->has_description)
			check_description(doc, cb->description, buf, size);
		else
			FUZZ_CHECK(member(doc, "description") == NULL);
		/* the update takes a superset of the members: it must agree */
		FUZZ_CHECK(urc == CE_OK);
		FUZZ_CHECK(ub->has_name && ub->has_capacity && !ub->has_version);
		FUZZ_CHECK(strcmp(ub->name, cb->name) == 0 && ub->capacity == cb->capacity);
		FUZZ_CHECK(ub->has_description == cb->has_description);
		FUZZ_CHECK(!cb->has_description || strcmp(ub->description, cb->description) == 0);
	} else {
		check_refusal(crc, &cinfo, cb->unknown, false);
	}

	if (urc == CE_OK) {
		FUZZ_CHECK(ub->has_name || ub->has_capacity || ub->has_description);
		if (ub->has_description)
			check_description(doc, ub->description, buf, size);
		if (ub->has_name) {
			size_t n = strlen(ub->name);

			FUZZ_CHECK(circle_check_name(ub->name, n, NULL) == CE_OK);
			if (!has_surrogate_escape(buf, size))
				check_name_matches(doc, ub->name);
		}
		if (ub->has_capacity) {
			FUZZ_CHECK(circle_check_capacity(ub->capacity, NULL) == CE_OK);
			check_capacity_matches(doc, ub->capacity);
		}
		if (ub->has_version) {
			json_object *v = member(doc, "version");

			FUZZ_CHECK(ub->version >= 1);
			FUZZ_CHECK(v != NULL && (json_object_is_type(v, json_type_int)));
			/* json-c saturates at INT64_MAX, the body at UINT64_MAX */
			FUZZ_CHECK(json_object_get_int64(v) == INT64_MAX ||
				   (uint64_t)json_object_get_int64(v) == ub->version);
		}
	} else {
		check_refusal(urc, &uinfo, ub->unknown, true);
	}
out:
	json_object_put(doc);
	free(cb);
	free(ub);
	return 0;
}
