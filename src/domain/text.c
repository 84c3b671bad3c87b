/* See text.h. */
#include <string.h>

#include "domain/text.h"

size_t
text_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char b0 = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n, i;
	uint32_t v;

	if (b0 < 0x80) {
		n = 1;
		v = b0;
		goto done;
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
	/* the second byte's range alone refuses overlongs, surrogates and
	 * code points beyond U+10FFFF */
	for (i = 1; i < n; i++) {
		unsigned char b = s[i];

		if (b < lo || b > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
		v = (v << 6) | (b & 0x3Fu);
	}
done:
	if (cp != NULL)
		*cp = v;
	return n;
}

int
text_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
text_hex(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (n > 8)
		return -1;
	for (i = 0; i < n; i++) {
		int d = text_hex_digit(s[i]);

		if (d < 0)
			return -1;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
}

bool
text_lower_hex(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int
text_decimal(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		/* keep reading digits after saturating: a letter later still fails */
		if (d > max || v > (max - d) / 10)
			v = max;
		else
			v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
text_positive(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || s[0] == '0')
		return -1;
	return text_decimal(s, len, UINT64_MAX, out);
}

bool
text_uuid_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len != TEXT_UUID_LEN)
		return false;
	for (i = 0; i < TEXT_UUID_LEN; i++) {
		bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash_here ? s[i] != '-' : text_hex_digit(s[i]) < 0)
			return false;
	}
	return true;
}

/* A hex digit in lower case, 0 for any other byte. ASCII only on purpose:
 * tolower() would depend on the locale. */
static const char hex_lower[256] = {
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5',
	['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9', ['a'] = 'a', ['b'] = 'b',
	['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['A'] = 'a', ['B'] = 'b',
	['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
};

/* The hex digits of s[from..to) lowered into out; the AND of what the table
 * gave, whose bit 0x20 every hex digit has and a 0 (any other byte) lacks. */
static unsigned
hex_run_lower(const char *s, size_t from, size_t to, char *out)
{
	unsigned all = 0xff;

	for (size_t i = from; i < to; i++) {
		unsigned char l = (unsigned char)hex_lower[(unsigned char)s[i]];

		out[i] = (char)l;
		all &= l;
	}
	return all;
}

bool
text_uuid_lower(const char *s, size_t len, char out[TEXT_UUID_LEN + 1])
{
	char tmp[TEXT_UUID_LEN + 1];
	unsigned all;

	/* checks and lowers in one pass with no branch a byte: it runs for
	 * every id read from the database; out is untouched unless s is valid */
	if (s == NULL || len != TEXT_UUID_LEN || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
	    s[23] != '-')
		return false;
	all = hex_run_lower(s, 0, 8, tmp) & hex_run_lower(s, 9, 13, tmp) &
	      hex_run_lower(s, 14, 18, tmp) & hex_run_lower(s, 19, 23, tmp) &
	      hex_run_lower(s, 24, TEXT_UUID_LEN, tmp);
	if (!(all & 0x20))
		return false;
	tmp[8] = tmp[13] = tmp[18] = tmp[23] = '-';
	tmp[TEXT_UUID_LEN] = '\0';
	memcpy(out, tmp, sizeof(tmp));
	return true;
}

bool
text_idempotency_key_valid(const char *s)
{
	size_t i, len;

	if (s == NULL)
		return false;
	len = strnlen(s, TEXT_IDEMPOTENCY_KEY_MAX + 1);
	if (len == 0 || len > TEXT_IDEMPOTENCY_KEY_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7E)
			return false;
	}
	return true;
}
