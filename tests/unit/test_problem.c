/*
 * The error table (every code to its status, title and problem code), the
 * problem+json body, and the response header block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "http/http.h"
#include "http/problem.h"

struct row {
	enum cerr code;
	int status;
	const char *problem;
	const char *member;
};

static const struct row rows[] = {
	{CE_INVALID_JSON, 400, "invalid_json", NULL},
	{CE_UNKNOWN_FIELD, 400, "unknown_field", "field"},
	{CE_MISSING_FIELD, 400, "missing_field", "field"},
	{CE_INVALID_FIELD, 400, "invalid_field", "field"},
	{CE_INVALID_CIRCLE_ID, 400, "invalid_circle_id", NULL},
	{CE_INVALID_PARAMETER, 400, "invalid_parameter", "parameter"},
	{CE_INVALID_HEADER, 400, "invalid_header", "header"},
	{CE_NOTHING_TO_UPDATE, 400, "nothing_to_update", NULL},
	{CE_NOT_FOUND, 404, "not_found", NULL},
	{CE_GONE, 410, "gone", NULL},
	{CE_METHOD_NOT_ALLOWED, 405, "method_not_allowed", NULL},
	{CE_PRECONDITION_REQUIRED, 428, "precondition_required", NULL},
	{CE_VERSION_MISMATCH, 409, "version_mismatch", NULL},
	{CE_DUPLICATE_NAME, 409, "duplicate_name", NULL},
	{CE_IDEMPOTENCY_KEY_REUSED, 422, "idempotency_key_reused", NULL},
	{CE_IDEMPOTENCY_KEY_TAKEN, 500, "internal", NULL},
	{CE_PAYLOAD_TOO_LARGE, 413, "payload_too_large", NULL},
	{CE_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type", NULL},
	{CE_UNAVAILABLE, 503, "service_unavailable", NULL},
	{CE_NOT_CAUGHT_UP, 503, "not_caught_up", NULL},
	{CE_INTERNAL, 500, "internal", NULL},
	{CE_OK, 500, "internal", NULL},
};

static void
test_table(void **state)
{
	bool covered[CE__MAX] = {false};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct problem_kind *k = problem_kind(rows[i].code);

		covered[rows[i].code] = true;
		assert_int_equal(k->status, rows[i].status);
		assert_string_equal(k->code, rows[i].problem);
		assert_string_equal(k->title, http_status_reason(k->status));
		if (rows[i].member == NULL)
			assert_null(k->member);
		else
			assert_string_equal(k->member, rows[i].member);
	}
	for (i = 0; i < CE__MAX; i++)
		if (!covered[i])
			fail_msg("error code %zu has no test row", i);
	/* out of range falls back to internal */
	assert_int_equal(problem_kind(CE__MAX)->status, 500);
	assert_int_equal(problem_kind((enum cerr) - 1)->status, 500);
}

static json_object *
member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

static void
test_body_every_code(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cerr_info info;
		json_object *obj;

		cerr_set(&info, rows[i].code, "subj", "a detail");
		obj = problem_json_new(&info);
		assert_non_null(obj);
		assert_int_equal(json_object_get_int(member(obj, "status")), rows[i].status);
		assert_string_equal(json_object_get_string(member(obj, "code")), rows[i].problem);
		assert_string_equal(json_object_get_string(member(obj, "title")),
				    http_status_reason(rows[i].status));
		assert_string_equal(json_object_get_string(member(obj, "detail")), "a detail");
		if (rows[i].member != NULL)
			assert_string_equal(json_object_get_string(member(obj, rows[i].member)),
					    "subj");
		assert_int_equal(json_object_object_length(obj),
				 4 + (rows[i].member != NULL) +
					 (rows[i].code == CE_VERSION_MISMATCH));
		json_object_put(obj);
	}
}

static void
test_body_details(void **state)
{
	struct cerr_info info;
	json_object *obj;

	(void)state;
	cerr_set(&info, CE_VERSION_MISMATCH, NULL, "stale");
	info.current_version = 7;
	obj = problem_json_new(&info);
	assert_int_equal(json_object_get_int(member(obj, "current_version")), 7);
	json_object_put(obj);

	/* no detail: the title stands in; no subject: no member */
	cerr_set(&info, CE_INVALID_FIELD, NULL, NULL);
	obj = problem_json_new(&info);
	assert_string_equal(json_object_get_string(member(obj, "detail")), "Bad Request");
	assert_null(member(obj, "field"));
	json_object_put(obj);

	obj = problem_json_new(NULL);
	assert_int_equal(json_object_get_int(member(obj, "status")), 500);
	json_object_put(obj);
}

static void
test_error_response(void **state)
{
	struct http_response resp;
	struct cerr_info info;
	char head[512];
	size_t n;

	(void)state;
	http_response_init(&resp);
	http_response_etag(&resp, 3);
	cerr_set(&info, CE_INVALID_HEADER, "If-Match", "bad \"tag\"");
	http_response_error(&resp, &info);
	assert_int_equal(resp.status, 400);
	assert_string_equal(resp.content_type, "application/problem+json");
	assert_string_equal(resp.etag, ""); /* an error never carries the ETag */
	assert_string_equal(resp.body, "{\"status\":400,\"title\":\"Bad Request\","
				       "\"code\":\"invalid_header\",\"detail\":\"bad \\\"tag\\\"\","
				       "\"header\":\"If-Match\"}");
	assert_int_equal(resp.body_len, strlen(resp.body));
	n = http_response_head(&resp, head, sizeof(head));
	assert_true(n > 0);
	assert_int_equal(n, strlen(head));
	snprintf(head + n, sizeof(head) - n, "|");
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "Status: 400 Bad Request\r\n"
			 "Content-Type: application/problem+json\r\n"
			 "Content-Length: %zu\r\n\r\n|",
			 resp.body_len);
		assert_string_equal(head, want);
	}
	http_response_free(&resp);

	http_response_init(&resp);
	http_response_fail(&resp, CE_UNAVAILABLE, "down");
	assert_int_equal(resp.status, 503);
	assert_int_equal(resp.retry_after, 1);
	n = http_response_head(&resp, head, sizeof(head));
	assert_non_null(strstr(head, "Retry-After: 1\r\n"));
	http_response_free(&resp);
}

static void
test_success_heads(void **state)
{
	struct http_response resp;
	json_object *obj = json_object_new_object();
	char head[512];

	(void)state;
	json_object_object_add(obj, "a", json_object_new_string("x/y\xc3\xa9"));
	http_response_init(&resp);
	http_response_json(&resp, 201, obj);
	json_object_put(obj);
	http_response_etag(&resp, 1);
	snprintf(resp.location, sizeof(resp.location), "/circle/abc");
	assert_string_equal(resp.body, "{\"a\":\"x/y\xc3\xa9\"}");
	assert_true(http_response_head(&resp, head, sizeof(head)) > 0);
	assert_string_equal(head,
			    "Status: 201 Created\r\nContent-Type: application/json\r\n"
			    "Content-Length: 13\r\nETag: \"1\"\r\nLocation: /circle/abc\r\n\r\n");
	http_response_free(&resp);

	/* 204: no body, no Content-Type, and no Content-Length (RFC 9110) */
	http_response_init(&resp);
	resp.status = 204;
	assert_true(http_response_head(&resp, head, sizeof(head)) > 0);
	assert_string_equal(head, "Status: 204 No Content\r\n\r\n");

	/* 405 carries Allow */
	http_response_fail(&resp, CE_METHOD_NOT_ALLOWED, "no");
	snprintf(resp.allow, sizeof(resp.allow), "GET, HEAD");
	assert_true(http_response_head(&resp, head, sizeof(head)) > 0);
	assert_non_null(strstr(head, "Status: 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(head, "\r\nAllow: GET, HEAD\r\n"));

	/* a buffer too small is refused, not overrun */
	assert_int_equal(http_response_head(&resp, head, 20), 0);
	assert_int_equal(http_response_head(&resp, head, 0), 0);
	http_response_free(&resp);

	/* null object: a 500 problem */
	http_response_init(&resp);
	http_response_json(&resp, 200, NULL);
	assert_int_equal(resp.status, 500);
	http_response_free(&resp);
	http_response_free(NULL);
	assert_string_equal(http_status_reason(299), "Unknown");
}

/*
 * The problem pages nginx answers by itself (nginx/circle.conf) use the same
 * status and code as the workers for the errors both can answer: a client
 * tells errors apart by code whoever answered.
 */
static void
test_nginx_pages_share_codes(void **state)
{
	static const struct {
		enum cerr code;
		int status;
	} shared[] = {
		{CE_NOT_FOUND, 404}, {CE_METHOD_NOT_ALLOWED, 405}, {CE_PAYLOAD_TOO_LARGE, 413},
		{CE_INTERNAL, 500},  {CE_UNAVAILABLE, 503},
	};
	char conf[65536], want[160];
	size_t n, i;
	FILE *f;

	(void)state;
	f = fopen(TOP_SRCDIR "/nginx/circle.conf", "r");
	assert_non_null(f);
	n = fread(conf, 1, sizeof(conf) - 1, f);
	fclose(f);
	conf[n] = '\0';
	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		const struct problem_kind *k = problem_kind(shared[i].code);

		assert_int_equal(k->status, shared[i].status);
		snprintf(want, sizeof(want), "'{\"status\":%d,\"title\":\"%s\",\"code\":\"%s\"",
			 k->status, k->title, k->code);
		if (strstr(conf, want) == NULL)
			fail_msg("nginx/circle.conf has no %d page starting %s", k->status, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_body_every_code),
		cmocka_unit_test(test_body_details),
		cmocka_unit_test(test_error_response),
		cmocka_unit_test(test_success_heads),
		cmocka_unit_test(test_nginx_pages_share_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
