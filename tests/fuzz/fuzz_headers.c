/*
 * Fuzzes what a request says outside its body (http/request_headers.h,
 * http/request_params.h): If-Match, If-None-Match, Idempotency-Key,
 * Circle-Wait-For, Content-Type, the query parameters of the list, the feed
 * and DELETE, and the {id} and {n} path segments.
 *
 * The whole input is each header value and the query string (as the C
 * string FastCGI hands over, so up to its first NUL), and the raw bytes are
 * each path segment (not terminated, so an over-read is caught). Each
 * parser is held to a plain reference written here from the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "http/request_headers.h"
#include "http/request_params.h"
#include "query/queries.h"

/* The contract's "positive decimal without leading zeros", saturating. */
static bool
ref_positive(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || s[0] == '0')
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			v = UINT64_MAX;
	}
	*out = v;
	return true;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* If-Match: one strong tag "V" with optional spaces and tabs around. */
static bool
ref_if_match(const char *s, uint64_t *v)
{
	size_t b = strspn(s, " \t"), n = strlen(s);

	/* s[b] is not blank, so an all-blank s ends with n below b + 3 */
	while (n > 0 && is_ows(s[n - 1]))
		n--;
	if (n < b + 3 || s[b] != '"' || s[n - 1] != '"')
		return false;
	return ref_positive(s + b + 1, n - b - 2, v);
}

static bool
ref_idempotency_key(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > TEXT_IDEMPOTENCY_KEY_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E)
			return false;
	return true;
}

static bool
is_lower_id(const char *s)
{
	size_t i;

	if (strlen(s) != CIRCLE_ID_LEN || !text_uuid_valid(s, CIRCLE_ID_LEN))
		return false;
	for (i = 0; i < CIRCLE_ID_LEN; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return false;
	return true;
}

static void
fuzz_if_match(const char *s)
{
	struct cerr_info info = {0};
	uint64_t v = 0, want = 0;
	enum cerr rc = headers_if_match(s, &v, &info);

	FUZZ_CHECK((rc == CE_OK) == ref_if_match(s, &want));
	if (rc == CE_OK) {
		FUZZ_CHECK(v == want && v >= 1);
		/* a tag good enough for If-Match is one If-None-Match knows */
		if (v <= UINT32_MAX)
			FUZZ_CHECK(headers_none_match(s, (uint32_t)v));
	} else {
		FUZZ_CHECK(rc == CE_INVALID_HEADER && info.code == rc);
		FUZZ_CHECK(info.subject != NULL && strcmp(info.subject, "If-Match") == 0);
		FUZZ_CHECK(info.detail != NULL);
	}
}

static void
fuzz_none_match(const char *s)
{
	static const uint32_t versions[] = {0, 1, 3, 10, 4294967295u};
	size_t i, n = strlen(s);
	bool any = false;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char tag[16];
		bool m = headers_none_match(s, versions[i]);

		any = any || m;
		/* a match needs the tag's text, or "*" */
		snprintf(tag, sizeof(tag), "\"%u\"", (unsigned)versions[i]);
		if (m)
			FUZZ_CHECK(strstr(s, tag) != NULL || strchr(s, '*') != NULL);
	}
	/* "*" alone, spaces and tabs around, matches every version */
	{
		size_t b = strspn(s, " \t");

		if (b < n && s[b] == '*' && b + 1 + strspn(s + b + 1, " \t") == n)
			FUZZ_CHECK(any && headers_none_match(s, 12345));
	}
	FUZZ_CHECK(!headers_none_match(NULL, 1));
}

static void
fuzz_idempotency_key(const char *s)
{
	struct cerr_info info = {0};
	enum cerr rc = headers_idempotency_key(s, &info);

	FUZZ_CHECK((rc == CE_OK) == ref_idempotency_key(s));
	if (rc != CE_OK)
		FUZZ_CHECK(rc == CE_INVALID_HEADER && info.subject != NULL &&
			   strcmp(info.subject, "Idempotency-Key") == 0);
}

/* One number of a GTID, parsed another way: digits only, no leading zero,
 * at most max (strtoull saturates and says so). */
static bool
ref_gtid_number(const char *s, size_t n, unsigned long long max)
{
	char buf[32];
	unsigned long long v;

	if (n == 0 || n >= sizeof(buf) || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, NULL, 10);
	return errno == 0 && v <= max;
}

/* A commit token by splitting on ',' and '-'. */
static bool
ref_wait_for(const char *s)
{
	size_t len = strlen(s);
	const char *p = s;

	if (len == 0 || len > COMMIT_TOKEN_MAX)
		return false;
	for (;;) {
		size_t el = strcspn(p, ","), a, b;

		a = strcspn(p, "-");
		if (a >= el)
			return false;
		b = a + 1 + strcspn(p + a + 1, "-");
		if (b >= el || memchr(p + b + 1, '-', el - b - 1) != NULL)
			return false;
		if (!ref_gtid_number(p, a, UINT32_MAX) ||
		    !ref_gtid_number(p + a + 1, b - a - 1, UINT32_MAX) ||
		    !ref_gtid_number(p + b + 1, el - b - 1, UINT64_MAX))
			return false;
		if (p[el] == '\0')
			return true;
		p += el + 1;
	}
}

static void
fuzz_wait_for(const char *s)
{
	struct cerr_info info = {0};
	enum cerr rc = headers_wait_for(s, &info);

	FUZZ_CHECK((rc == CE_OK) == ref_wait_for(s));
	if (rc != CE_OK)
		FUZZ_CHECK(rc == CE_INVALID_HEADER && info.subject != NULL &&
			   strcmp(info.subject, "Circle-Wait-For") == 0);
}

static void
fuzz_content_type(const char *s)
{
	const char *p = s;

	if (!headers_is_json(s))
		return;
	while (is_ows(*p))
		p++;
	FUZZ_CHECK(strncasecmp(p, "application/json", 16) == 0);
	p += 16;
	/* "application/jsonx" is another type */
	FUZZ_CHECK(*p == '\0' || *p == ';' || is_ows(*p));
}

static void
fuzz_query(const char *q)
{
	static const size_t sizes[] = {1, 2, 8, 37, 64};
	struct cerr_info info = {0};
	char after[CIRCLE_ID_LEN + 1];
	unsigned limit = 0;
	bool has_after = false, has = false;
	uint64_t version = 0;
	enum cerr rc;
	size_t i;

	rc = params_list(q, &limit, after, &has_after, &info);
	if (rc == CE_OK) {
		FUZZ_CHECK(limit >= 1 && limit <= LIST_LIMIT_MAX);
		if (has_after)
			FUZZ_CHECK(is_lower_id(after));
	} else {
		FUZZ_CHECK(
			rc == CE_INVALID_PARAMETER && info.subject != NULL &&
			(strcmp(info.subject, "limit") == 0 || strcmp(info.subject, "after") == 0));
	}
	memset(&info, 0, sizeof(info));
	rc = params_feed(q, &version, &limit, &info);
	if (rc == CE_OK)
		FUZZ_CHECK(version <= FEED_AFTER_MAX && limit >= 1 && limit <= FEED_LIMIT_MAX);
	else
		FUZZ_CHECK(
			rc == CE_INVALID_PARAMETER && info.subject != NULL &&
			(strcmp(info.subject, "limit") == 0 || strcmp(info.subject, "after") == 0));
	memset(&info, 0, sizeof(info));
	version = 0;
	rc = params_version(q, &has, &version, &info);
	if (rc == CE_OK)
		FUZZ_CHECK(!has || version >= 1);
	else
		FUZZ_CHECK(rc == CE_INVALID_PARAMETER && info.subject != NULL &&
			   strcmp(info.subject, "version") == 0 && !has);

	/* tight output buffers: an answer of 1 always fits, terminated */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *out = malloc(sizes[i]);
		int r;

		if (out == NULL)
			return;
		r = params_get(q, "limit", out, sizes[i]);
		FUZZ_CHECK(r >= -1 && r <= 1);
		if (r == 1)
			FUZZ_CHECK(strlen(out) < sizes[i]);
		free(out);
	}
}

static void
fuzz_segments(const char *seg, size_t len)
{
	struct cerr_info info = {0};
	char id[CIRCLE_ID_LEN + 1];
	uint64_t p = 0, want = 0;
	uint32_t n = 0;
	enum cerr rc;

	rc = path_circle_id(seg, len, id, &info);
	FUZZ_CHECK((rc == CE_OK) == text_uuid_valid(seg, len));
	if (rc == CE_OK) {
		size_t i;

		FUZZ_CHECK(is_lower_id(id));
		for (i = 0; i < CIRCLE_ID_LEN; i++)
			FUZZ_CHECK(id[i] == seg[i] || id[i] == seg[i] - 'A' + 'a');
	} else {
		FUZZ_CHECK(rc == CE_INVALID_CIRCLE_ID);
	}

	FUZZ_CHECK((text_positive(seg, len, &p) == 0) == ref_positive(seg, len, &want));
	memset(&info, 0, sizeof(info));
	rc = path_version(seg, len, &n, &info);
	if (!ref_positive(seg, len, &want)) {
		FUZZ_CHECK(rc == CE_INVALID_PARAMETER && info.subject != NULL &&
			   strcmp(info.subject, "n") == 0);
	} else {
		FUZZ_CHECK(p == want);
		if (want > UINT32_MAX)
			FUZZ_CHECK(rc == CE_NOT_FOUND);
		else
			FUZZ_CHECK(rc == CE_OK && n == want && n >= 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char *seg = malloc(size > 0 ? size : 1);

	if (s == NULL || seg == NULL)
		goto out;
	memcpy(s, data, size);
	s[size] = '\0';
	/* exactly size bytes, no terminator: a segment borrowed from a path */
	memcpy(seg, data, size);

	fuzz_if_match(s);
	fuzz_none_match(s);
	fuzz_idempotency_key(s);
	fuzz_wait_for(s);
	fuzz_content_type(s);
	fuzz_query(s);
	fuzz_segments(seg, size);
out:
	free(s);
	free(seg);
	return 0;
}
