/*
 * Assertions shared by the end-to-end tests: an answer's status, type,
 * JSON body and problem members, each failing the running cmocka test with
 * what was received.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <strings.h>
#include <time.h>

#include "e2e_assert.h"

/* The body parsed as JSON; the test fails if it is not. Caller puts. */
json_object *
body_json(const struct http_response *r)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	assert_non_null(tok);
	o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("body is not JSON (status %d): %.300s", r->status, r->body);
	json_tokener_free(tok);
	return o;
}

json_object *
member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("member \"%s\" missing in %s", key, json_object_to_json_string(o));
	return v;
}

const char *
jstr(json_object *o, const char *key)
{
	json_object *v = member(o, key);

	if (!json_object_is_type(v, json_type_string))
		fail_msg("member \"%s\" is not a string", key);
	return json_object_get_string(v);
}

int64_t
jint(json_object *o, const char *key)
{
	json_object *v = member(o, key);

	if (!json_object_is_type(v, json_type_int))
		fail_msg("member \"%s\" is not an integer", key);
	return json_object_get_int64(v);
}

void
assert_status(const struct http_response *r, int status)
{
	if (r->status != status)
		fail_msg("status %d, expected %d; body: %.400s", r->status, status,
			 r->body ? r->body : "");
}

void
assert_content_type(const struct http_response *r, const char *type)
{
	const char *ct = http_header(r, "Content-Type");
	size_t n = strlen(type);

	if (!ct || strncasecmp(ct, type, n) != 0 || (ct[n] != '\0' && ct[n] != ';'))
		fail_msg("Content-Type \"%s\", expected %s", ct ? ct : "(none)", type);
}

/* A problem+json answer with this status and code. Caller puts the result. */
json_object *
assert_problem(const struct http_response *r, int status, const char *code)
{
	json_object *o;

	assert_status(r, status);
	assert_content_type(r, "application/problem+json");
	o = body_json(r);
	assert_int_equal(jint(o, "status"), status);
	if (strcmp(jstr(o, "code"), code) != 0)
		fail_msg("code \"%s\", expected \"%s\"; body: %s", jstr(o, "code"), code, r->body);
	assert_true(strlen(jstr(o, "title")) > 0);
	(void)jstr(o, "detail");
	return o;
}

/* A problem whose extra member (field, parameter, header) names what failed. */
void
assert_problem_member(const struct http_response *r, int status, const char *code, const char *key,
		      const char *value)
{
	json_object *o = assert_problem(r, status, code);

	if (strcmp(jstr(o, key), value) != 0)
		fail_msg("%s \"%s\", expected \"%s\"", key, jstr(o, key), value);
	json_object_put(o);
}

void
expect_problem(const struct http_response *r, int status, const char *code)
{
	json_object_put(assert_problem(r, status, code));
}

double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
