/*
 * The field rules of a circle: name, capacity and the id a client gives.
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

enum cerr
circle_check_name(const char *s, size_t len, const char **detail)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, chars = 0;
	bool only_space = true;
	const char *why = NULL;

	if (s == NULL || len == 0) {
		why = "circle_name must not be empty";
		goto out;
	}
	/* more bytes than 100 four-byte characters cannot pass; stop early */
	if (len > CIRCLE_NAME_MAX_BYTES) {
		why = "circle_name must be at most 100 characters";
		goto out;
	}
	while (off < len) {
		uint32_t cp;
		size_t n = text_utf8_decode(p + off, len - off, &cp);

		if (n == 0) {
			why = "circle_name is not valid UTF-8";
			goto out;
		}
		if (is_control(cp)) {
			why = "circle_name must not contain control characters";
			goto out;
		}
		if (!is_white_space(cp))
			only_space = false;
		off += n;
		if (++chars > CIRCLE_NAME_MAX_CHARS) {
			why = "circle_name must be at most 100 characters";
			goto out;
		}
	}
	if (only_space)
		why = "circle_name must not be only white space";
out:
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
