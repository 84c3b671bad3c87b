/*
 * See json_out.h. The buffer comes from, and goes back to, the one spare
 * slot of response.c, so a worker that answers request after request
 * allocates no body memory once the first answers have been written.
 */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/json_out.h"

/* Room for the text of one circle, so most bodies never grow. */
#define JSON_OUT_FIRST 1024

static bool
reserve(struct json_out *o, size_t more)
{
	size_t want, cap;
	char *p;

	if (o->failed)
		return false;
	if (more < o->cap - o->len)
		return true;
	if (more > SIZE_MAX / 2 - o->len - 1) {
		o->failed = true;
		return false;
	}
	want = o->len + more + 1;
	cap = o->cap > 0 ? o->cap : JSON_OUT_FIRST;
	while (cap < want)
		cap *= 2;
	p = realloc(o->buf, cap);
	if (p == NULL) {
		o->failed = true;
		return false;
	}
	o->buf = p;
	o->cap = cap;
	return true;
}

void
json_out_init(struct json_out *o)
{
	memset(o, 0, sizeof(*o));
	o->buf = http_body_spare(&o->cap);
	if (o->buf != NULL)
		o->buf[0] = '\0';
}

void
json_out_release(struct json_out *o)
{
	http_body_return(o->buf, o->cap);
	memset(o, 0, sizeof(*o));
}

void
json_out_raw(struct json_out *o, const char *s, size_t n)
{
	if (!reserve(o, n))
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Nonzero for the bytes a JSON string must escape (json-c's choice). */
static const unsigned char needs_escape[256] = {
	1,         1,          1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
	1,         1,          1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
	['"'] = 1, ['\\'] = 1,
};

char *
json_out_room(struct json_out *o, size_t n)
{
	return reserve(o, n) ? o->buf + o->len : NULL;
}

void
json_out_end(struct json_out *o, char *end)
{
	*end = '\0';
	o->len = (size_t)(end - o->buf);
}

char *
json_put_str(char *d, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run;

	*d++ = '"';
	while (i < n) {
		unsigned char c;

		/* the bytes that go out as they are, copied as one run */
		for (run = i; run < n && !needs_escape[(unsigned char)s[run]]; run++)
			;
		memcpy(d, s + i, run - i);
		d += run - i;
		if (run == n)
			break;
		c = (unsigned char)s[run];
		i = run + 1;
		*d++ = '\\';
		switch (c) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '\b': *d++ = 'b'; break;
		case '\f': *d++ = 'f'; break;
		case '\n': *d++ = 'n'; break;
		case '\r': *d++ = 'r'; break;
		case '\t': *d++ = 't'; break;
		default:
			*d++ = 'u';
			*d++ = '0';
			*d++ = '0';
			*d++ = hex[c >> 4];
			*d++ = hex[c & 0xf];
			break;
		}
	}
	*d++ = '"';
	return d;
}

void
json_out_str(struct json_out *o, const char *s, size_t n)
{
	char *d;

	if (n > SIZE_MAX / 8 || (d = json_out_room(o, JSON_PUT_STR_MAX(n))) == NULL)
		return;
	json_out_end(o, json_put_str(d, s, n));
}

size_t
json_out_format_int(char out[JSON_OUT_INT_MAX], int64_t v)
{
	char tmp[JSON_OUT_INT_MAX];
	/* the magnitude as unsigned, so INT64_MIN has one too */
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		out[len++] = '-';
	while (n > 0)
		out[len++] = tmp[--n];
	return len;
}

char *
json_put_int(char *d, int64_t v)
{
	return d + json_out_format_int(d, v);
}
