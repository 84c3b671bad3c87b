/*
 * Building and formatting responses. A response owns its body; every header
 * lives inline in the struct, so one free releases everything. When memory
 * runs out while building, the response degrades to a bodiless 500 instead
 * of failing to answer at all.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http/http.h"
#include "http/problem.h"

static const char media_json[] = "application/json";
static const char media_problem[] = "application/problem+json";

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
	free(resp->body);
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
	resp->content_type = media_json;
	resp->status = status;
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
	snprintf(resp->etag, sizeof(resp->etag), "\"%" PRIu64 "\"", version);
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

/* Appends a formatted piece; returns -1 once buf is full. */
static int
put(char *buf, size_t size, size_t *at, const char *name, const char *value)
{
	int n;

	if (*at >= size)
		return -1;
	n = snprintf(buf + *at, size - *at, "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= size - *at)
		return -1;
	*at += (size_t)n;
	return 0;
}

size_t
http_response_head(const struct http_response *resp, char *buf, size_t size)
{
	char num[32];
	size_t at = 0;

	snprintf(num, sizeof(num), "%d %s", resp->status, http_status_reason(resp->status));
	if (put(buf, size, &at, "Status", num) != 0)
		return 0;
	if (resp->content_type != NULL &&
	    put(buf, size, &at, "Content-Type", resp->content_type) != 0)
		return 0;
	/* RFC 9110 forbids Content-Length on 204; a 304 states the 200's length */
	if (resp->status != 204) {
		snprintf(num, sizeof(num), "%zu", resp->body_len);
		if (put(buf, size, &at, "Content-Length", num) != 0)
			return 0;
	}
	if (resp->etag[0] != '\0' && put(buf, size, &at, "ETag", resp->etag) != 0)
		return 0;
	if (resp->location[0] != '\0' && put(buf, size, &at, "Location", resp->location) != 0)
		return 0;
	if (resp->allow[0] != '\0' && put(buf, size, &at, "Allow", resp->allow) != 0)
		return 0;
	if (resp->commit[0] != '\0' && put(buf, size, &at, "Circle-Commit", resp->commit) != 0)
		return 0;
	if (resp->retry_after != 0) {
		snprintf(num, sizeof(num), "%u", resp->retry_after);
		if (put(buf, size, &at, "Retry-After", num) != 0)
			return 0;
	}
	if (size - at < 3)
		return 0;
	memcpy(buf + at, "\r\n", 3);
	return at + 2;
}
