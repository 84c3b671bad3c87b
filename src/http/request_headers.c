/*
 * Request header parsing, written to the letter of the contract: one strong
 * tag in If-Match, decimal versions without leading zeros, a bounded
 * printable Idempotency-Key, application/json as the only media type.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/request_headers.h"

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims spaces and tabs from both ends of s[0..*len). */
static const char *
trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && is_ows(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_ows(s[n - 1]))
		n--;
	*len = n;
	return s;
}

enum cerr
headers_if_match(const char *value, uint64_t *version, struct cerr_info *info)
{
	size_t len;
	const char *s;

	if (value == NULL)
		goto bad;
	len = strlen(value);
	s = trim(value, &len);
	if (len < 3 || s[0] != '"' || s[len - 1] != '"')
		goto bad;
	if (text_positive(s + 1, len - 2, version) != 0)
		goto bad;
	return CE_OK;
bad:
	return cerr_set(info, CE_INVALID_HEADER, "If-Match",
			"If-Match must be one strong entity tag \"V\", V a positive integer");
}

static bool
is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7F);
}

bool
headers_none_match(const char *value, uint32_t version)
{
	char want[16];
	size_t want_len, i = 0, n;
	bool matched = false;

	if (value == NULL)
		return false;
	want_len = (size_t)snprintf(want, sizeof(want), "%u", (unsigned)version);
	n = strlen(value);
	/* "*" alone matches any current representation */
	{
		size_t tl = n;
		const char *t = trim(value, &tl);

		if (tl == 1 && t[0] == '*')
			return true;
	}
	for (;;) {
		size_t start;

		while (i < n && (is_ows(value[i]) || value[i] == ','))
			i++;
		if (i >= n)
			break;
		if (n - i >= 2 && value[i] == 'W' && value[i + 1] == '/')
			i += 2;
		if (i >= n || value[i] != '"')
			return false;
		start = ++i;
		while (i < n && is_etagc((unsigned char)value[i]))
			i++;
		if (i >= n || value[i] != '"')
			return false;
		if (i - start == want_len && memcmp(value + start, want, want_len) == 0)
			matched = true;
		i++;
		while (i < n && is_ows(value[i]))
			i++;
		if (i < n && value[i] != ',')
			return false;
	}
	return matched;
}

enum cerr
headers_idempotency_key(const char *value, struct cerr_info *info)
{
	if (value == NULL || text_idempotency_key_valid(value))
		return CE_OK;
	return cerr_set(info, CE_INVALID_HEADER, "Idempotency-Key",
			"Idempotency-Key must be 1 to 255 characters from '!' to '~'");
}

/* One decimal number at *p without leading zeros, at most max; advances *p. */
static bool
gtid_number(const char **p, uint64_t max)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	if (*s == '0') {
		*p = s + 1;
		return s[1] < '0' || s[1] > '9';
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	return true;
}

enum cerr
headers_wait_for(const char *value, struct cerr_info *info)
{
	const char *p = value;

	if (value == NULL)
		return CE_OK;
	if (strnlen(value, COMMIT_TOKEN_MAX + 1) > COMMIT_TOKEN_MAX)
		goto bad;
	for (;;) {
		if (!gtid_number(&p, UINT32_MAX) || *p++ != '-' || !gtid_number(&p, UINT32_MAX) ||
		    *p++ != '-' || !gtid_number(&p, UINT64_MAX))
			goto bad;
		if (*p == '\0')
			return CE_OK;
		if (*p++ != ',')
			goto bad;
	}
bad:
	return cerr_set(info, CE_INVALID_HEADER, "Circle-Wait-For",
			"Circle-Wait-For must be a token from a Circle-Commit header");
}

static bool
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool
headers_is_json(const char *value)
{
	static const char type[] = "application/json";
	const size_t tl = sizeof(type) - 1;
	const char *p;

	if (value == NULL)
		return false;
	p = value;
	while (is_ows(*p))
		p++;
	if (strncasecmp(p, type, tl) != 0)
		return false;
	p += tl;
	while (is_ows(*p))
		p++;
	while (*p != '\0') {
		const char *name, *val;
		size_t nl, vl;

		if (*p != ';')
			return false;
		p++;
		while (is_ows(*p))
			p++;
		if (*p == '\0' || *p == ';')
			continue;
		name = p;
		while (is_tchar(*p))
			p++;
		nl = (size_t)(p - name);
		if (nl == 0 || *p != '=')
			return false;
		p++;
		if (*p == '"') {
			val = ++p;
			while (*p != '\0' && *p != '"')
				p++;
			if (*p != '"')
				return false;
			vl = (size_t)(p - val);
			p++;
		} else {
			val = p;
			while (is_tchar(*p))
				p++;
			vl = (size_t)(p - val);
		}
		/* bodies are read as UTF-8; a body declared otherwise is another type */
		if (nl == 7 && strncasecmp(name, "charset", 7) == 0 &&
		    !(vl == 5 && strncasecmp(val, "utf-8", 5) == 0))
			return false;
		while (is_ows(*p))
			p++;
	}
	return true;
}
