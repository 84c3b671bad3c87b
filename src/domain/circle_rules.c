/*
 * The field rules of a circle: name, capacity, description and the id a
 * client gives.
 * Inputs come straight from clients, so nothing here trusts a length, a byte
 * or a NUL.
 */
#include <stdint.h>
#include <string.h>

#include "domain/circle.h"
#include "domain/text.h"

static bool
is_control(uint32_t cp)
{
	return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F);
}

/* Unicode's White_Space property, the whole list. */
static bool
is_white_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
	       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/*
 * The character rules names and descriptions share: valid UTF-8, no control
 * characters, at most max_chars code points. *chars and *only_space say what
 * was found; returns NULL or which of the messages applies.
 */
struct text_rule {
	size_t max_chars, max_bytes;
	const char *too_long, *not_utf8, *control;
};

static const char *
check_text(const struct text_rule *r, const char *s, size_t len, size_t *chars, bool *only_space)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0;

	*chars = 0;
	*only_space = true;
	/* more bytes than max_chars four-byte characters cannot pass; stop early */
	if (len > r->max_bytes)
		return r->too_long;
	while (off < len) {
		uint32_t cp;
		size_t n = text_utf8_decode(p + off, len - off, &cp);

		if (n == 0)
			return r->not_utf8;
		if (is_control(cp))
			return r->control;
		if (!is_white_space(cp))
			*only_space = false;
		off += n;
		if (++*chars > r->max_chars)
			return r->too_long;
	}
	return NULL;
}

enum cerr
circle_check_name(const char *s, size_t len, const char **detail)
{
	static const struct text_rule rule = {
		CIRCLE_NAME_MAX_CHARS,
		CIRCLE_NAME_MAX_BYTES,
		"circle_name must be at most 100 characters",
		"circle_name is not valid UTF-8",
		"circle_name must not contain control characters",
	};
	size_t chars = 0;
	bool only_space = true;
	const char *why = NULL;

	if (s == NULL || len == 0)
		why = "circle_name must not be empty";
	else if ((why = check_text(&rule, s, len, &chars, &only_space)) == NULL && only_space)
		why = "circle_name must not be only white space";
	if (detail != NULL)
		*detail = why;
	return why == NULL ? CE_OK : CE_INVALID_FIELD;
}

enum cerr
circle_check_description(const char *s, size_t len, const char **detail)
{
	static const struct text_rule rule = {
		CIRCLE_DESCRIPTION_MAX_CHARS,
		CIRCLE_DESCRIPTION_MAX_BYTES,
		"description must be at most 500 characters",
		"description is not valid UTF-8",
		"description must not contain control characters",
	};
	size_t chars = 0;
	bool only_space = true;
	const char *why = NULL;

	if (s == NULL && len > 0)
		why = "description is missing";
	else if (len > 0)
		why = check_text(&rule, s, len, &chars, &only_space);
	if (detail != NULL)
		*detail = why;
	return why == NULL ? CE_OK : CE_INVALID_FIELD;
}

enum cerr
circle_check_capacity(long long capacity, const char **detail)
{
	const char *why = NULL;

	if (capacity < CIRCLE_CAPACITY_MIN || capacity > CIRCLE_CAPACITY_MAX)
		why = "capacity must be an integer from 3 to 32767";
	if (detail != NULL)
		*detail = why;
	return why == NULL ? CE_OK : CE_INVALID_FIELD;
}

enum cerr
canonical_circle_id(const char *id, char key[CIRCLE_ID_LEN + 1], struct cerr_info *info)
{
	if (id == NULL || !text_uuid_lower(id, strnlen(id, CIRCLE_ID_LEN + 1), key))
		return cerr_set(info, CE_INVALID_CIRCLE_ID, NULL, "the circle id is not a UUID");
	return CE_OK;
}
