/*
 * Building and formatting responses. A response owns its body; every header
 * lives inline in the struct, so one free releases everything. When memory
 * runs out while building, the response degrades to a bodiless 500 instead
 * of failing to answer at all.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http/http.h"
#include "http/json_out.h"
#include "http/problem.h"

static const char media_json[] = "application/json";
static const char media_problem[] = "application/problem+json";

/* Bodies up to this size are kept for the next answer (a page of 100
 * circles without long descriptions fits); bigger ones are freed, so a rare
 * big page does not stay. */
#define SPARE_MAX (64u * 1024u)

static char *spare;
static size_t spare_cap;

char *
http_body_spare(size_t *cap)
{
	char *buf = spare;

	*cap = spare_cap;
	spare = NULL;
	spare_cap = 0;
	return buf;
}

void
http_body_return(char *buf, size_t cap)
{
	if (buf == NULL)
		return;
	if (cap > SPARE_MAX || cap <= spare_cap) {
		free(buf);
		return;
	}
	free(spare);
	spare = buf;
	spare_cap = cap;
}

void
http_body_spare_free(void)
{
	free(spare);
	spare = NULL;
	spare_cap = 0;
}

void
http_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 500;
}

void
http_response_free(struct http_response *resp)
{
	if (resp == NULL)
		return;
	http_body_return(resp->body, resp->body_cap);
	http_response_init(resp);
}

/* Replaces the body with a copy of obj's text; -1 when out of memory. */
static int
set_body(struct http_response *resp, json_object *obj, const char *type)
{
	size_t len = 0;
	const char *text;
	char *copy;

	text = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		return -1;
	copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, text, len + 1);
	free(resp->body);
	resp->body = copy;
	resp->body_len = len;
	resp->body_cap = len + 1;
	resp->content_type = type;
	return 0;
}

/* The last resort when even a problem body cannot be built. */
static void
bare_500(struct http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->body_cap = 0;
	resp->content_type = NULL;
	resp->status = 500;
	resp->etag[0] = '\0';
	resp->location[0] = '\0';
	resp->commit[0] = '\0';
}

void
http_response_json(struct http_response *resp, int status, json_object *obj)
{
	if (obj == NULL || set_body(resp, obj, media_json) != 0) {
		http_response_fail(resp, CE_INTERNAL, "out of memory");
		return;
	}
	resp->status = status;
}

void
http_response_take_json(struct http_response *resp, int status, char *body, size_t len)
{
	if (body == NULL) {
		http_response_fail(resp, CE_INTERNAL, "out of memory");
		return;
	}
	free(resp->body);
	resp->body = body;
	resp->body_len = len;
	/* all that is known of its allocation */
	resp->body_cap = len + 1;
	resp->content_type = media_json;
	resp->status = status;
}

void
http_response_json_out(struct http_response *resp, int status, struct json_out *o)
{
	if (o->failed || o->buf == NULL) {
		json_out_release(o);
		http_response_fail(resp, CE_INTERNAL, "out of memory");
		return;
	}
	free(resp->body);
	resp->body = o->buf;
	resp->body_len = o->len;
	resp->body_cap = o->cap;
	resp->content_type = media_json;
	resp->status = status;
	memset(o, 0, sizeof(*o));
}

void
http_response_error(struct http_response *resp, const struct cerr_info *info)
{
	const struct problem_kind *k = problem_kind(info != NULL ? info->code : CE_INTERNAL);
	json_object *obj = problem_json_new(info);

	/* a problem describes the request, never the resource: drop its headers */
	resp->etag[0] = '\0';
	resp->location[0] = '\0';
	resp->commit[0] = '\0';
	resp->retry_after = k->status == 503 ? 1 : 0;
	if (obj == NULL || set_body(resp, obj, media_problem) != 0) {
		json_object_put(obj);
		bare_500(resp);
		return;
	}
	json_object_put(obj);
	resp->status = k->status;
}

void
http_response_fail(struct http_response *resp, enum cerr code, const char *detail)
{
	struct cerr_info info;

	cerr_set(&info, code, NULL, detail);
	http_response_error(resp, &info);
}

void
http_response_etag(struct http_response *resp, uint64_t version)
{
	char num[JSON_OUT_INT_MAX];
	size_t n;

	/* every version fits (at most ten digits); anything else has no ETag */
	if (version > INT64_MAX ||
	    (n = json_out_format_int(num, (int64_t)version)) + 3 > sizeof(resp->etag)) {
		resp->etag[0] = '\0';
		return;
	}
	resp->etag[0] = '"';
	memcpy(resp->etag + 1, num, n);
	resp->etag[n + 1] = '"';
	resp->etag[n + 2] = '\0';
}

#define REASON_CASE(n) \
	case n: return HTTP_REASON_##n;

const char *
http_status_reason(int status)
{
	switch (status) {
		REASON_CASE(200)
		REASON_CASE(201)
		REASON_CASE(204)
		REASON_CASE(304)
		REASON_CASE(400)
		REASON_CASE(404)
		REASON_CASE(405)
		REASON_CASE(409)
		REASON_CASE(410)
		REASON_CASE(413)
		REASON_CASE(415)
		REASON_CASE(422)
		REASON_CASE(428)
		REASON_CASE(500)
		REASON_CASE(503)
	default: return "Unknown";
	}
}

/*
 * Appends "name: value\r\n"; returns -1 once buf is full. Plain copies, no
 * printf: a head is written for every answer.
 */
static int
put(char *buf, size_t size, size_t *at, const char *name, const char *value, size_t value_len)
{
	size_t nl = strlen(name);

	if (*at > size || nl + value_len + 4 > size - *at)
		return -1;
	memcpy(buf + *at, name, nl);
	*at += nl;
	memcpy(buf + *at, ": ", 2);
	*at += 2;
	memcpy(buf + *at, value, value_len);
	*at += value_len;
	memcpy(buf + *at, "\r\n", 2);
	*at += 2;
	return 0;
}

/* A header whose value is a string; absent ("") ones are not written. */
static int
put_str(char *buf, size_t size, size_t *at, const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return 0;
	return put(buf, size, at, name, value, strlen(value));
}

static int
put_num(char *buf, size_t size, size_t *at, const char *name, uint64_t v)
{
	char num[JSON_OUT_INT_MAX];
	size_t n;

	if (v > INT64_MAX)
		return -1;
	n = json_out_format_int(num, (int64_t)v);
	return put(buf, size, at, name, num, n);
}

size_t
http_response_head(const struct http_response *resp, char *buf, size_t size)
{
	char status[64];
	const char *reason = http_status_reason(resp->status);
	size_t at = 0, sl, rl = strlen(reason);

	if (resp->status < 0 || resp->status > 999 || rl + 5 > sizeof(status))
		return 0;
	sl = json_out_format_int(status, resp->status);
	status[sl++] = ' ';
	memcpy(status + sl, reason, rl);
	sl += rl;
	if (put(buf, size, &at, "Status", status, sl) != 0 ||
	    put_str(buf, size, &at, "Content-Type", resp->content_type) != 0)
		return 0;
	/* RFC 9110 forbids Content-Length on 204; a 304 states the 200's length */
	if (resp->status != 204 && put_num(buf, size, &at, "Content-Length", resp->body_len) != 0)
		return 0;
	if (put_str(buf, size, &at, "ETag", resp->etag) != 0 ||
	    put_str(buf, size, &at, "Location", resp->location) != 0 ||
	    put_str(buf, size, &at, "Allow", resp->allow) != 0 ||
	    put_str(buf, size, &at, "Circle-Commit", resp->commit) != 0)
		return 0;
	if (resp->retry_after != 0 &&
	    put_num(buf, size, &at, "Retry-After", resp->retry_after) != 0)
		return 0;
	if (size - at < 3)
		return 0;
	memcpy(buf + at, "\r\n", 3);
	return at + 2;
}
