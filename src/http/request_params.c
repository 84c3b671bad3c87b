/*
 * Query-string and path-segment parsing: percent-decoding of the
 * '&'-separated parameters, the list parameters, DELETE's version, and the
 * {id} and {n} segments, each to the letter of the contract.
 */
#include <string.h>

#include "http/request_headers.h"
#include "http/request_params.h"
#include "query/queries.h"

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
			hi = text_hex_digit(s[i + 1]);
			lo = text_hex_digit(s[i + 2]);
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
params_get(const char *query, const char *name, char *out, size_t out_size)
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
params_list(const char *query, unsigned *limit, char after[CIRCLE_ID_LEN + 1], bool *has_after,
	    struct cerr_info *info)
{
	char val[64];
	uint64_t n;
	int rc;

	*limit = LIST_LIMIT_DEFAULT;
	*has_after = false;
	rc = params_get(query, "limit", val, sizeof(val));
	if (rc < 0 || (rc == 1 && (text_positive(val, strlen(val), &n) != 0 || n > LIST_LIMIT_MAX)))
		return cerr_set(info, CE_INVALID_PARAMETER, "limit",
				"limit must be an integer from 1 to 1000");
	if (rc == 1)
		*limit = (unsigned)n;
	rc = params_get(query, "after", val, sizeof(val));
	if (rc < 0 || (rc == 1 && !text_uuid_lower(val, strlen(val), after)))
		return cerr_set(info, CE_INVALID_PARAMETER, "after", "after must be a circle id");
	*has_after = rc == 1;
	return CE_OK;
}

enum cerr
params_history(const char *query, uint32_t *after, unsigned *limit, struct cerr_info *info)
{
	char val[1024]; /* a long valid number saturates, as in If-Match */
	uint64_t n = 0;
	int rc;

	*after = 0;
	*limit = HISTORY_LIMIT_DEFAULT;
	rc = params_get(query, "after", val, sizeof(val));
	if (rc < 0 ||
	    (rc == 1 && strcmp(val, "0") != 0 && text_positive(val, strlen(val), &n) != 0))
		return cerr_set(info, CE_INVALID_PARAMETER, "after",
				"after must be a version: 0 or a positive integer without "
				"leading zeros");
	if (rc == 1 && strcmp(val, "0") != 0)
		*after = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	rc = params_get(query, "limit", val, sizeof(val));
	if (rc < 0 ||
	    (rc == 1 && (text_positive(val, strlen(val), &n) != 0 || n > HISTORY_LIMIT_MAX)))
		return cerr_set(info, CE_INVALID_PARAMETER, "limit",
				"limit must be an integer from 1 to 1000");
	if (rc == 1)
		*limit = (unsigned)n;
	return CE_OK;
}

enum cerr
params_feed(const char *query, uint64_t *after, unsigned *limit, struct cerr_info *info)
{
	char val[64];
	uint64_t n = 0;
	int rc;

	*after = 0;
	*limit = FEED_LIMIT_DEFAULT;
	rc = params_get(query, "after", val, sizeof(val));
	/* "0" is the start; otherwise as every other number of the API */
	if (rc < 0 || (rc == 1 && strcmp(val, "0") != 0 &&
		       (text_positive(val, strlen(val), &n) != 0 || n > FEED_AFTER_MAX)))
		return cerr_set(info, CE_INVALID_PARAMETER, "after",
				"after must be a feed position: an integer from 0 to "
				"9223372036854775807 without leading zeros");
	*after = n;
	rc = params_get(query, "limit", val, sizeof(val));
	if (rc < 0 || (rc == 1 && (text_positive(val, strlen(val), &n) != 0 || n > FEED_LIMIT_MAX)))
		return cerr_set(info, CE_INVALID_PARAMETER, "limit",
				"limit must be an integer from 1 to 1000");
	if (rc == 1)
		*limit = (unsigned)n;
	return CE_OK;
}

enum cerr
params_version(const char *query, bool *has, uint64_t *version, struct cerr_info *info)
{
	char val[1024]; /* a long valid number saturates, as in If-Match */
	int rc = params_get(query, "version", val, sizeof(val));

	*has = false;
	if (rc == 0)
		return CE_OK;
	if (rc < 0 || text_positive(val, strlen(val), version) != 0)
		return cerr_set(info, CE_INVALID_PARAMETER, "version",
				"version must be a positive integer without leading zeros");
	*has = true;
	return CE_OK;
}

enum cerr
path_circle_id(const char *seg, size_t len, char out[CIRCLE_ID_LEN + 1], struct cerr_info *info)
{
	if (!text_uuid_lower(seg, len, out))
		return cerr_set(
			info, CE_INVALID_CIRCLE_ID, NULL,
			"the circle id must be a UUID like 0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10");
	return CE_OK;
}

enum cerr
path_version(const char *seg, size_t len, uint32_t *n, struct cerr_info *info)
{
	uint64_t v;

	if (seg == NULL || text_positive(seg, len, &v) != 0)
		return cerr_set(info, CE_INVALID_PARAMETER, "n",
				"the version must be a positive integer without leading zeros");
	if (v > UINT32_MAX)
		return cerr_set(info, CE_NOT_FOUND, NULL, "the circle has no such version");
	*n = (uint32_t)v;
	return CE_OK;
}
