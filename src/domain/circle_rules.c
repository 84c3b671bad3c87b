/*
 * The field rules of a circle (name, capacity) and of its id. Inputs come
 * straight from clients, so nothing here trusts a length, a byte or a NUL.
 */
#include <stdint.h>

#include "domain/circle.h"

/*
 * Decodes one UTF-8 sequence from s[0..len) into *cp and returns its length,
 * or 0 when the bytes are not well-formed UTF-8 (RFC 3629): overlong forms,
 * surrogates and code points above U+10FFFF are refused here, by the ranges
 * allowed for the second byte.
 */
static size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char b0 = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;
	uint32_t v;

	if (b0 < 0x80) {
		*cp = b0;
		return 1;
	}
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		n = 2;
		v = b0 & 0x1Fu;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		n = 3;
		v = b0 & 0x0Fu;
		if (b0 == 0xE0)
			lo = 0xA0; /* below is an overlong form */
		else if (b0 == 0xED)
			hi = 0x9F; /* above is a surrogate, U+D800-DFFF */
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		n = 4;
		v = b0 & 0x07u;
		if (b0 == 0xF0)
			lo = 0x90; /* below is an overlong form */
		else if (b0 == 0xF4)
			hi = 0x8F; /* above is beyond U+10FFFF */
	} else {
		return 0; /* continuation byte, C0/C1, F5-FF */
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char b = s[i];

		if (b < lo || b > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
		v = (v << 6) | (b & 0x3Fu);
	}
	*cp = v;
	return n;
}

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
		size_t n = utf8_decode(p + off, len - off, &cp);

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

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool
circle_id_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len != CIRCLE_ID_LEN)
		return false;
	for (i = 0; i < CIRCLE_ID_LEN; i++) {
		bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash_here ? s[i] != '-' : !is_hex(s[i]))
			return false;
	}
	return true;
}

void
circle_id_normalize(const char *s, char *out)
{
	size_t i;

	/* ASCII only on purpose: tolower() would depend on the locale */
	for (i = 0; i < CIRCLE_ID_LEN; i++) {
		char c = s[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[CIRCLE_ID_LEN] = '\0';
}
