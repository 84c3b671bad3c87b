/*
 * Header, query and path-segment parsing, written to the letter of the
 * contract: one strong tag in If-Match, decimal versions without leading
 * zeros, a bounded printable Idempotency-Key, application/json as the only
 * media type.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/headers.h"
#include "query/queries.h"

int
parse_positive(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || s[0] < '1' || s[0] > '9')
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		/* keep reading digits after saturating: a letter later still fails */
		if (v > (UINT64_MAX - d) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + d;
	}
	*out = v;
	return 0;
}

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
	if (parse_positive(s + 1, len - 2, version) != 0)
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
	size_t i;

	if (value == NULL)
		return CE_OK;
	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x21 || c > 0x7E || i >= IDEMPOTENCY_KEY_MAX)
			goto bad;
	}
	if (i == 0)
		goto bad;
	return CE_OK;
bad:
	return cerr_set(info, CE_INVALID_HEADER, "Idempotency-Key",
			"Idempotency-Key must be 1 to 255 characters from '!' to '~'");
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

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..len) into out[size] with a NUL; -1 when malformed,
 * too long, or when it decodes to a NUL byte. */
static int
unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
query_param(const char *query, const char *name, char *out, size_t out_size)
{
	const char *p = query != NULL ? query : "";
	int found = 0;

	while (*p != '\0') {
		const char *amp = strchr(p, '&');
		size_t plen = amp != NULL ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', plen);
		size_t nlen = eq != NULL ? (size_t)(eq - p) : plen;
		char key[32];

		if (unescape(p, nlen, key, sizeof(key)) == 0 && strcmp(key, name) == 0) {
			if (found)
				return -1;
			found = 1;
			if (eq == NULL)
				return -1;
			if (unescape(eq + 1, plen - nlen - 1, out, out_size) != 0)
				return -1;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	return found;
}

enum cerr
query_list_params(const char *query, unsigned *limit, char after[CIRCLE_ID_LEN + 1],
		  bool *has_after, struct cerr_info *info)
{
	char val[64];
	uint64_t n;
	int rc;

	*limit = LIST_LIMIT_DEFAULT;
	*has_after = false;
	rc = query_param(query, "limit", val, sizeof(val));
	if (rc < 0 ||
	    (rc == 1 && (parse_positive(val, strlen(val), &n) != 0 || n > LIST_LIMIT_MAX)))
		return cerr_set(info, CE_INVALID_PARAMETER, "limit",
				"limit must be an integer from 1 to 1000");
	if (rc == 1)
		*limit = (unsigned)n;
	rc = query_param(query, "after", val, sizeof(val));
	if (rc < 0 || (rc == 1 && !circle_id_valid(val, strlen(val))))
		return cerr_set(info, CE_INVALID_PARAMETER, "after", "after must be a circle id");
	if (rc == 1) {
		circle_id_normalize(val, after);
		*has_after = true;
	}
	return CE_OK;
}

enum cerr
query_feed_params(const char *query, uint64_t *after, unsigned *limit, struct cerr_info *info)
{
	char val[64];
	uint64_t n = 0;
	int rc;

	*after = 0;
	*limit = FEED_LIMIT_DEFAULT;
	rc = query_param(query, "after", val, sizeof(val));
	/* "0" is the start; otherwise as every other number of the API */
	if (rc < 0 || (rc == 1 && strcmp(val, "0") != 0 &&
		       (parse_positive(val, strlen(val), &n) != 0 || n > FEED_AFTER_MAX)))
		return cerr_set(info, CE_INVALID_PARAMETER, "after",
				"after must be a feed position: an integer from 0 to "
				"9223372036854775807 without leading zeros");
	*after = n;
	rc = query_param(query, "limit", val, sizeof(val));
	if (rc < 0 ||
	    (rc == 1 && (parse_positive(val, strlen(val), &n) != 0 || n > FEED_LIMIT_MAX)))
		return cerr_set(info, CE_INVALID_PARAMETER, "limit",
				"limit must be an integer from 1 to 1000");
	if (rc == 1)
		*limit = (unsigned)n;
	return CE_OK;
}

enum cerr
query_version(const char *query, bool *has, uint64_t *version, struct cerr_info *info)
{
	char val[1024]; /* a long valid number saturates, as in If-Match */
	int rc = query_param(query, "version", val, sizeof(val));

	*has = false;
	if (rc == 0)
		return CE_OK;
	if (rc < 0 || parse_positive(val, strlen(val), version) != 0)
		return cerr_set(info, CE_INVALID_PARAMETER, "version",
				"version must be a positive integer without leading zeros");
	*has = true;
	return CE_OK;
}

enum cerr
path_circle_id(const char *seg, size_t len, char out[CIRCLE_ID_LEN + 1], struct cerr_info *info)
{
	if (seg == NULL || !circle_id_valid(seg, len))
		return cerr_set(
			info, CE_INVALID_CIRCLE_ID, NULL,
			"the circle id must be a UUID like 0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10");
	circle_id_normalize(seg, out);
	return CE_OK;
}

enum cerr
path_version(const char *seg, size_t len, uint32_t *n, struct cerr_info *info)
{
	uint64_t v;

	if (seg == NULL || parse_positive(seg, len, &v) != 0)
		return cerr_set(info, CE_INVALID_PARAMETER, "n",
				"the version must be a positive integer without leading zeros");
	if (v > UINT32_MAX)
		return cerr_set(info, CE_NOT_FOUND, NULL, "the circle has no such version");
	*n = (uint32_t)v;
	return CE_OK;
}
