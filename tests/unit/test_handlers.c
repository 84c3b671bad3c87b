/*
 * Whole requests through http_dispatch(), the real use cases and in-memory
 * fakes of both ports: every status a handler can answer, and the order in
 * which the command checks run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "command/commands.h"
#include "http/handlers.h"
#include "query/circle_reader.h"

#include "../fakes/memory_apps.h"
#include "../fakes/memory_ports.h"

/* ---- one in-memory world behind both ports ---- */

static struct memory_ports mem;
static struct http_app cmd_app, qry_app;

static int
setup(void **state)
{
	(void)state;
	memory_ports_init(&mem);
	memory_apps_init(&mem, &cmd_app, &qry_app);
	return 0;
}

/* ---- requests ---- */

struct call {
	const char *method, *path, *query, *ctype, *body, *if_match, *inm, *key;
};

/* Circle-Wait-For of every request sent while it is set (NULL: none). */
static const char *wait_for;

static struct http_response resp;
static json_object *doc;

/* Sends c to the worker of its method's side; resp and doc hold the answer. */
static int
send_req(const struct call *c)
{
	struct http_request req = {0};
	bool read = strcmp(c->method, "GET") == 0 || strcmp(c->method, "HEAD") == 0;

	json_object_put(doc);
	doc = NULL;
	http_response_free(&resp);
	req.method = c->method;
	req.path = c->path;
	req.query = c->query != NULL ? c->query : "";
	req.content_type = c->ctype;
	req.body = c->body;
	req.body_len = c->body != NULL ? strlen(c->body) : 0;
	req.if_match = c->if_match;
	req.if_none_match = c->inm;
	req.idempotency_key = c->key;
	req.wait_for = wait_for;
	http_response_init(&resp);
	http_dispatch(read ? &qry_app : &cmd_app, &req, &resp);
	if (resp.body != NULL)
		doc = json_tokener_parse(resp.body);
	return resp.status;
}

static const char *
str(const char *key)
{
	json_object *v = NULL;

	if (doc == NULL || !json_object_object_get_ex(doc, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
num(const char *key)
{
	json_object *v = NULL;

	if (doc == NULL || !json_object_object_get_ex(doc, key, &v))
		return -1;
	return json_object_get_int64(v);
}

/* Asserts a problem answer: status, code and (when given) subject member. */
static void
expect_problem(const struct call *c, int status, const char *code, const char *member,
	       const char *subject)
{
	int got = send_req(c);

	if (got != status || str("code") == NULL || strcmp(str("code"), code) != 0)
		fail_msg("%s %s: %d %s, want %d %s", c->method, c->path, got,
			 str("code") ? str("code") : "-", status, code);
	assert_string_equal(resp.content_type, "application/problem+json");
	assert_int_equal(num("status"), status);
	if (member != NULL)
		assert_string_equal(str(member), subject);
}

static const char json[] = "application/json";

/* Creates a circle and returns its path in path[64]. */
static void
make(const char *name, int capacity, char path[64])
{
	char body[256];
	struct call c = {"POST", "/circle", NULL, json, body, NULL, NULL, NULL};

	snprintf(body, sizeof(body), "{\"circle_name\":\"%s\",\"capacity\":%d}", name, capacity);
	assert_int_equal(send_req(&c), 201);
	snprintf(path, 64, "%s", resp.location);
}

static int
teardown(void **state)
{
	(void)state;
	json_object_put(doc);
	doc = NULL;
	http_response_free(&resp);
	wait_for = NULL;
	return 0;
}

/* ---- create ---- */

static void
test_create(void **state)
{
	struct call c = {
		"POST", "/circle", NULL, json, "{\"circle_name\":\"football\",\"capacity\":20}",
		NULL,   NULL,      NULL};
	char loc[64];

	(void)state;
	assert_int_equal(send_req(&c), 201);
	assert_string_equal(resp.content_type, "application/json");
	assert_string_equal(resp.etag, "\"1\"");
	assert_string_equal(resp.location, "/circle/abcdef00-0000-4000-8000-000000000001");
	assert_string_equal(str("circle_id"), "abcdef00-0000-4000-8000-000000000001");
	assert_string_equal(str("circle_name"), "football");
	assert_int_equal(num("capacity"), 20);
	assert_int_equal(num("version"), 1);
	assert_int_equal(json_object_object_length(doc), 4);
	assert_false(resp.omit_body);
	snprintf(loc, sizeof(loc), "%s", resp.location);

	c.body = "{\"circle_name\":\"FOOTBALL\",\"capacity\":5}";
	expect_problem(&c, 409, "duplicate_name", NULL, NULL);
	c.ctype = "application/json; charset=UTF-8";
	c.body = "{\"capacity\":5,\"circle_name\":\"rugby\"}";
	assert_int_equal(send_req(&c), 201);
	assert_int_equal(mem.world.nevents, 2);
}

static void
test_create_refusals(void **state)
{
	struct call c = {"POST", "/circle", NULL, json, NULL, NULL, NULL, NULL};

	(void)state;
	c.body = "";
	expect_problem(&c, 400, "invalid_json", NULL, NULL);
	c.body = "{\"circle_name\":\"a\",\"capacity\":3,}";
	expect_problem(&c, 400, "invalid_json", NULL, NULL);
	c.body = "{\"circle_name\":\"a\",\"capacity\":3,\"x\":1}";
	expect_problem(&c, 400, "unknown_field", "field", "x");
	c.body = "{\"circle_name\":\"a\"}";
	expect_problem(&c, 400, "missing_field", "field", "capacity");
	c.body = "{\"circle_name\":\"a\",\"capacity\":1e3}";
	expect_problem(&c, 400, "invalid_field", "field", "capacity");
	c.body = "{\"circle_name\":\" \",\"capacity\":3}";
	expect_problem(&c, 400, "invalid_field", "field", "circle_name");
	/* media type first: missing, other, or with a foreign charset */
	c.body = "not json";
	c.ctype = NULL;
	expect_problem(&c, 415, "unsupported_media_type", NULL, NULL);
	c.ctype = "text/plain";
	expect_problem(&c, 415, "unsupported_media_type", NULL, NULL);
	c.ctype = "application/json; charset=latin1";
	expect_problem(&c, 415, "unsupported_media_type", NULL, NULL);
	/* the body before the headers */
	c.ctype = json;
	c.key = "bad key";
	expect_problem(&c, 400, "invalid_json", NULL, NULL);
	c.body = "{\"circle_name\":\"a\",\"capacity\":3}";
	expect_problem(&c, 400, "invalid_header", "header", "Idempotency-Key");
	c.key = "";
	expect_problem(&c, 400, "invalid_header", "header", "Idempotency-Key");
	assert_int_equal(mem.world.nevents, 0);
}

static void
test_idempotency(void **state)
{
	struct call c = {
		"POST", "/circle", NULL,   json, "{\"circle_name\":\"chess\",\"capacity\":8}",
		NULL,   NULL,      "key-1"};
	char first[64];

	(void)state;
	assert_int_equal(send_req(&c), 201);
	snprintf(first, sizeof(first), "%s", resp.location);
	/* the same value, spaced and ordered otherwise: the first answer again */
	c.body = " { \"capacity\" : 8 , \"circle_name\" : \"ch\\u0065ss\" } ";
	assert_int_equal(send_req(&c), 201);
	assert_string_equal(resp.location, first);
	assert_string_equal(resp.etag, "\"1\"");
	assert_int_equal(num("version"), 1);
	assert_int_equal(mem.world.nevents, 1);
	c.body = "{\"circle_name\":\"chess\",\"capacity\":9}";
	expect_problem(&c, 422, "idempotency_key_reused", NULL, NULL);
	assert_int_equal(mem.world.nevents, 1);
}

/* ---- update ---- */

static void
test_update(void **state)
{
	char path[64];
	struct call c = {"PUT", NULL, NULL, json, NULL, NULL, NULL, NULL};

	(void)state;
	make("tennis", 10, path);
	c.path = path;
	c.body = "{\"capacity\":12,\"version\":1}";
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(resp.etag, "\"2\"");
	assert_int_equal(num("capacity"), 12);
	assert_int_equal(num("version"), 2);
	/* If-Match alone, and PATCH meaning the same */
	c.method = "PATCH";
	c.body = "{\"circle_name\":\"Tennis club\"}";
	c.if_match = "\"2\"";
	assert_int_equal(send_req(&c), 200);
	assert_int_equal(num("version"), 3);
	assert_string_equal(str("circle_name"), "Tennis club");
	/* both, agreeing */
	c.body = "{\"capacity\":13,\"version\":3}";
	c.if_match = " \"3\" ";
	assert_int_equal(send_req(&c), 200);
	assert_int_equal(num("version"), 4);
	/* nothing changes: same version, no event */
	c.body = "{\"capacity\":13}";
	c.if_match = "\"4\"";
	assert_int_equal(send_req(&c), 200);
	assert_int_equal(num("version"), 4);
	assert_string_equal(resp.etag, "\"4\"");
	assert_int_equal(mem.world.nevents, 4);
	/* an id in upper case names the same circle */
	{
		char upper[64];
		size_t i;

		snprintf(upper, sizeof(upper), "%s", path);
		for (i = strlen("/circle/"); upper[i] != '\0'; i++)
			if (upper[i] >= 'a' && upper[i] <= 'f')
				upper[i] = (char)(upper[i] - 'a' + 'A');
		c.path = upper;
		c.body = "{\"capacity\":14}";
		assert_int_equal(send_req(&c), 200);
		assert_string_equal(str("circle_id"), path + strlen("/circle/"));
	}
}

/* Versions too large to hold are still compared digit for digit: two
 * different ones disagree (400), two equal ones only mismatch (409). */
static void
test_huge_versions(void **state)
{
	char path[64];
	struct call c = {"PUT", NULL, NULL, json, NULL, NULL, NULL, NULL};

	(void)state;
	make("sumo", 10, path);
	c.path = path;
	c.body = "{\"capacity\":5,\"version\":99999999999999999999999}";
	c.if_match = "\"99999999999999999999998\"";
	expect_problem(&c, 400, "invalid_field", "field", "version");
	c.if_match = "\"18446744073709551616\"";
	expect_problem(&c, 400, "invalid_field", "field", "version");
	c.if_match = "\"99999999999999999999999\"";
	expect_problem(&c, 409, "version_mismatch", NULL, NULL);
	c.body = "{\"capacity\":5,\"version\":18446744073709551615}";
	c.if_match = "\"18446744073709551615\"";
	expect_problem(&c, 409, "version_mismatch", NULL, NULL);
	c.if_match = "\"18446744073709551616\"";
	expect_problem(&c, 400, "invalid_field", "field", "version");
	/* DELETE: ?version and If-Match the same way */
	c.method = "DELETE";
	c.ctype = NULL;
	c.body = NULL;
	c.query = "version=99999999999999999999999";
	c.if_match = "\"99999999999999999999998\"";
	expect_problem(&c, 400, "invalid_field", "field", "version");
	c.if_match = "\"99999999999999999999999\"";
	expect_problem(&c, 409, "version_mismatch", NULL, NULL);
	assert_int_equal(mem.world.nevents, 1);
}

static void
test_update_order(void **state)
{
	char path[64], gone[64];
	struct call c = {"PUT", NULL, NULL, json, NULL, NULL, NULL, NULL};

	(void)state;
	make("judo", 10, path);
	make("karate", 10, gone);
	c.path = gone;
	c.if_match = "\"1\"";
	c.method = "DELETE";
	assert_int_equal(send_req(&c), 204);
	c.method = "PUT";

	/* 1. the id, before a wrong media type */
	c.path = "/circle/nope";
	c.ctype = "text/plain";
	c.body = "{";
	c.if_match = "bad";
	expect_problem(&c, 400, "invalid_circle_id", NULL, NULL);
	/* 2. the media type, before a broken body */
	c.path = "/circle/abcdef00-0000-4000-8000-0000000000ff";
	expect_problem(&c, 415, "unsupported_media_type", NULL, NULL);
	/* 3. the body, before a bad If-Match */
	c.ctype = json;
	expect_problem(&c, 400, "invalid_json", NULL, NULL);
	c.body = "{\"version\":1}";
	expect_problem(&c, 400, "nothing_to_update", NULL, NULL);
	c.body = "{\"capacity\":2}";
	expect_problem(&c, 400, "invalid_field", "field", "capacity");
	/* 4. the headers, before existence */
	c.body = "{\"capacity\":5,\"version\":1}";
	expect_problem(&c, 400, "invalid_header", "header", "If-Match");
	c.if_match = "W/\"1\"";
	expect_problem(&c, 400, "invalid_header", "header", "If-Match");
	c.if_match = "\"2\"";
	expect_problem(&c, 400, "invalid_field", "field", "version");
	/* 5. existence, before a missing version */
	c.if_match = NULL;
	c.body = "{\"capacity\":5}";
	expect_problem(&c, 404, "not_found", NULL, NULL);
	c.path = gone;
	expect_problem(&c, 410, "gone", NULL, NULL);
	/* 6. a version at all */
	c.path = path;
	expect_problem(&c, 428, "precondition_required", NULL, NULL);
	/* 7. the version matching, before the name clash */
	c.body = "{\"circle_name\":\"KARATE\",\"version\":7}";
	expect_problem(&c, 409, "version_mismatch", NULL, NULL);
	assert_int_equal(num("current_version"), 1);
	c.body = "{\"circle_name\":\"karate\",\"version\":99999999999999999999}";
	expect_problem(&c, 409, "version_mismatch", NULL, NULL);
	/* 8. the name: a deleted circle's name is free, a live one's is not */
	make("aikido", 10, gone);
	c.body = "{\"circle_name\":\"AIKIDO\",\"version\":1}";
	expect_problem(&c, 409, "duplicate_name", NULL, NULL);
	c.body = "{\"circle_name\":\"karate\",\"version\":1}";
	assert_int_equal(send_req(&c), 200);
}

/* ---- delete ---- */

static void
test_delete(void **state)
{
	char path[64];
	struct call c = {"DELETE", NULL, NULL, NULL, NULL, NULL, NULL, NULL};

	(void)state;
	make("golf", 4, path);
	c.path = path;
	expect_problem(&c, 428, "precondition_required", NULL, NULL);
	c.query = "version=01";
	expect_problem(&c, 400, "invalid_parameter", "parameter", "version");
	c.query = "version=";
	expect_problem(&c, 400, "invalid_parameter", "parameter", "version");
	c.query = "version=2";
	c.if_match = "\"1\"";
	expect_problem(&c, 400, "invalid_field", "field", "version");
	c.if_match = "*";
	expect_problem(&c, 400, "invalid_header", "header", "If-Match");
	c.if_match = NULL;
	expect_problem(&c, 409, "version_mismatch", NULL, NULL);
	assert_int_equal(num("current_version"), 1);
	c.path = "/circle/bad";
	expect_problem(&c, 400, "invalid_circle_id", NULL, NULL);
	c.path = "/circle/abcdef00-0000-4000-8000-0000000000ff";
	expect_problem(&c, 404, "not_found", NULL, NULL);
	c.path = path;
	c.query = "x=1&version=1";
	assert_int_equal(send_req(&c), 204);
	assert_null(resp.body);
	assert_null(resp.content_type);
	assert_string_equal(resp.etag, "");
	c.query = NULL;
	c.if_match = "\"2\"";
	expect_problem(&c, 410, "gone", NULL, NULL);
}

/* ---- queries ---- */

static void
test_get(void **state)
{
	char path[64], upper[64];
	struct call c = {"GET", NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	size_t len, i;

	(void)state;
	make("swim", 30, path);
	c.path = path;
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(resp.etag, "\"1\"");
	assert_string_equal(str("circle_name"), "swim");
	len = resp.body_len;
	c.inm = "\"1\"";
	assert_int_equal(send_req(&c), 304);
	assert_true(resp.omit_body);
	assert_int_equal(resp.body_len, len);
	assert_string_equal(resp.etag, "\"1\"");
	c.inm = "\"0\", W/\"1\"";
	assert_int_equal(send_req(&c), 304);
	c.inm = "*";
	assert_int_equal(send_req(&c), 304);
	c.inm = "\"2\"";
	assert_int_equal(send_req(&c), 200);
	c.inm = NULL;
	c.method = "HEAD";
	assert_int_equal(send_req(&c), 200);
	assert_true(resp.omit_body);
	assert_int_equal(resp.body_len, len);
	assert_string_equal(resp.etag, "\"1\"");
	c.method = "GET";
	snprintf(upper, sizeof(upper), "%s", path);
	for (i = 0; upper[i] != '\0'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z' && i > 8)
			upper[i] = (char)(upper[i] - 'a' + 'A');
	c.path = upper;
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(str("circle_id"), path + 8);

	c.path = "/circle/xyz";
	expect_problem(&c, 400, "invalid_circle_id", NULL, NULL);
	c.path = "/circle/abcdef00-0000-4000-8000-0000000000ff";
	expect_problem(&c, 404, "not_found", NULL, NULL);
	c.method = "HEAD";
	assert_int_equal(send_req(&c), 404);
	assert_true(resp.omit_body);
	c.method = "DELETE";
	c.path = path;
	c.if_match = "\"1\"";
	assert_int_equal(send_req(&c), 204);
	c.method = "GET";
	c.if_match = NULL;
	expect_problem(&c, 410, "gone", NULL, NULL);
}

/* ---- descriptions ---- */

static void
test_descriptions(void **state)
{
	char path[64], target[96];
	struct call w = {"POST",
			 "/circle",
			 NULL,
			 json,
			 "{\"circle_name\":\"chess\",\"capacity\":12,\"description\":\"Tuesdays\"}",
			 NULL,
			 NULL,
			 NULL};
	struct call r = {"GET", NULL, NULL, NULL, NULL, NULL, NULL, NULL};

	(void)state;
	assert_int_equal(send_req(&w), 201);
	assert_string_equal(str("description"), "Tuesdays");
	assert_int_equal(json_object_object_length(doc), 5);
	snprintf(path, sizeof(path), "%s", resp.location);
	r.path = path;
	assert_int_equal(send_req(&r), 200);
	assert_string_equal(str("description"), "Tuesdays");
	/* changed alone, then removed: no member at all */
	w.method = "PATCH";
	w.path = path;
	w.body = "{\"description\":\"Fridays\",\"version\":1}";
	assert_int_equal(send_req(&w), 200);
	assert_int_equal(num("version"), 2);
	assert_string_equal(str("description"), "Fridays");
	w.body = "{\"description\":\"\",\"version\":2}";
	assert_int_equal(send_req(&w), 200);
	assert_int_equal(num("version"), 3);
	assert_null(str("description"));
	assert_int_equal(json_object_object_length(doc), 4);
	assert_int_equal(send_req(&r), 200);
	assert_null(str("description"));
	assert_int_equal(json_object_object_length(doc), 4);
	/* a version replayed carries the description it had */
	snprintf(target, sizeof(target), "%s/versions/2", path);
	r.path = target;
	assert_int_equal(send_req(&r), 200);
	assert_string_equal(str("description"), "Fridays");
	/* refusals name the member and change nothing */
	w.body = "{\"description\":5,\"version\":3}";
	expect_problem(&w, 400, "invalid_field", "field", "description");
	w.body = "{\"description\":\"a\\u0001\",\"version\":3}";
	expect_problem(&w, 400, "invalid_field", "field", "description");
	w.body = "{\"version\":3}";
	expect_problem(&w, 400, "nothing_to_update", NULL, NULL);
	assert_int_equal(mem.world.nevents, 3);
}

static void
test_list(void **state)
{
	char p[64];
	struct call c = {"GET", "/circle", NULL, NULL, NULL, NULL, NULL, NULL};
	json_object *arr = NULL, *next = NULL;

	(void)state;
	assert_int_equal(send_req(&c), 200);
	assert_true(json_object_object_get_ex(doc, "circles", &arr));
	assert_int_equal(json_object_array_length(arr), 0);
	assert_true(json_object_object_get_ex(doc, "next_after", &next));
	assert_null(next);
	make("a1", 3, p);
	make("a2", 3, p);
	make("a3", 3, p);
	c.query = "limit=2";
	assert_int_equal(send_req(&c), 200);
	assert_true(json_object_object_get_ex(doc, "circles", &arr));
	assert_int_equal(json_object_array_length(arr), 2);
	assert_string_equal(str("next_after"), "abcdef00-0000-4000-8000-000000000003");
	c.query = "limit=2&after=abcdef00-0000-4000-8000-000000000003";
	assert_int_equal(send_req(&c), 200);
	assert_true(json_object_object_get_ex(doc, "circles", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	assert_true(json_object_object_get_ex(doc, "next_after", &next));
	assert_null(next);
	c.query = "limit=1000&foo=bar";
	assert_int_equal(send_req(&c), 200);
	c.query = "limit=1001";
	expect_problem(&c, 400, "invalid_parameter", "parameter", "limit");
	c.query = "limit=0";
	expect_problem(&c, 400, "invalid_parameter", "parameter", "limit");
	c.query = "after=zzz";
	expect_problem(&c, 400, "invalid_parameter", "parameter", "after");
	mem.world.down = true;
	c.query = NULL;
	expect_problem(&c, 503, "service_unavailable", NULL, NULL);
	assert_int_equal(resp.retry_after, 1);
}

static void
test_events_and_versions(void **state)
{
	char path[64], sub[128];
	struct call c = {"PUT", NULL, NULL, json, "{\"capacity\":4,\"version\":1}",
			 NULL,  NULL, NULL};
	json_object *arr = NULL, *e, *v;

	(void)state;
	make("go", 3, path);
	c.path = path;
	assert_int_equal(send_req(&c), 200);
	c.method = "DELETE";
	c.if_match = "\"2\"";
	assert_int_equal(send_req(&c), 204);

	c.method = "GET";
	c.if_match = NULL;
	snprintf(sub, sizeof(sub), "%s/events", path);
	c.path = sub;
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(str("circle_id"), path + 8);
	assert_true(json_object_object_get_ex(doc, "events", &arr));
	assert_int_equal(json_object_array_length(arr), 3);
	e = json_object_array_get_idx(arr, 1);
	assert_true(json_object_object_get_ex(e, "event_type", &v));
	assert_string_equal(json_object_get_string(v), "circle_updated");
	assert_true(json_object_object_get_ex(e, "version", &v));
	assert_int_equal(json_object_get_int(v), 2);
	assert_true(json_object_object_get_ex(e, "occurred_at", &v));
	assert_string_equal(json_object_get_string(v), "2026-11-26T08:35:48.123456Z");
	assert_true(json_object_object_get_ex(e, "event_id", &v));
	assert_true(json_object_object_get_ex(e, "data", &v));
	assert_string_equal(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
			    "{\"type\":\"circle_updated\",\"capacity\":4}");
	c.path = "/circle/abcdef00-0000-4000-8000-0000000000ff/events";
	expect_problem(&c, 404, "not_found", NULL, NULL);
	c.path = "/circle/x/events";
	expect_problem(&c, 400, "invalid_circle_id", NULL, NULL);

	snprintf(sub, sizeof(sub), "%s/versions/1", path);
	c.path = sub;
	assert_int_equal(send_req(&c), 200);
	assert_int_equal(num("capacity"), 3);
	assert_int_equal(num("version"), 1);
	assert_string_equal(resp.etag, "\"1\"");
	snprintf(sub, sizeof(sub), "%s/versions/2", path);
	assert_int_equal(send_req(&c), 200);
	assert_int_equal(num("capacity"), 4);
	snprintf(sub, sizeof(sub), "%s/versions/3", path);
	expect_problem(&c, 410, "gone", NULL, NULL);
	snprintf(sub, sizeof(sub), "%s/versions/4", path);
	expect_problem(&c, 404, "not_found", NULL, NULL);
	snprintf(sub, sizeof(sub), "%s/versions/4294967296", path);
	expect_problem(&c, 404, "not_found", NULL, NULL);
	snprintf(sub, sizeof(sub), "%s/versions/0", path);
	expect_problem(&c, 400, "invalid_parameter", "parameter", "n");
	snprintf(sub, sizeof(sub), "%s/versions/01", path);
	expect_problem(&c, 400, "invalid_parameter", "parameter", "n");
	c.path = "/circle/x/versions/0";
	expect_problem(&c, 400, "invalid_circle_id", NULL, NULL);
	c.path = "/circle/abcdef00-0000-4000-8000-0000000000ff/versions/1";
	expect_problem(&c, 404, "not_found", NULL, NULL);
}

static void
test_version_health_and_down(void **state)
{
	struct call c = {"GET", "/version", NULL, NULL, NULL, NULL, NULL, NULL};

	(void)state;
	mem.world.down = true;
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(str("name"), "circle");
	assert_non_null(str("version"));
	c.path = "/health";
	expect_problem(&c, 503, "service_unavailable", NULL, NULL);
	assert_int_equal(resp.retry_after, 1);
	mem.world.down = false;
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(str("status"), "ok");
	c.method = "HEAD";
	assert_int_equal(send_req(&c), 200);
	assert_true(resp.omit_body);

	mem.world.down = true;
	c.method = "POST";
	c.path = "/circle";
	c.ctype = json;
	c.body = "{\"circle_name\":\"x\",\"capacity\":3}";
	expect_problem(&c, 503, "service_unavailable", NULL, NULL);
	c.method = "PUT";
	c.path = "/circle/abcdef00-0000-4000-8000-0000000000ff";
	c.if_match = "\"1\"";
	expect_problem(&c, 503, "service_unavailable", NULL, NULL);
}

/* Every successful write answers its commit token; a refused one none. */
static void
test_commit_tokens(void **state)
{
	struct call c = {"POST", "/circle", NULL, json, "{\"circle_name\":\"a\",\"capacity\":3}",
			 NULL,   NULL,      NULL};
	char path[64];

	(void)state;
	assert_int_equal(send_req(&c), 201);
	assert_string_equal(resp.commit, "0-1-1");
	snprintf(path, sizeof(path), "%s", resp.location);
	/* a refusal committed nothing and names no position */
	expect_problem(&c, 409, "duplicate_name", NULL, NULL);
	assert_string_equal(resp.commit, "");
	c.method = "PUT";
	c.path = path;
	c.body = "{\"capacity\":4,\"version\":1}";
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(resp.commit, "0-1-2");
	/* unchanged: no commit of its own, the current position */
	c.body = "{\"capacity\":4,\"version\":2}";
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(resp.commit, "0-1-2");
	c.method = "DELETE";
	c.body = NULL;
	c.ctype = NULL;
	c.if_match = "\"2\"";
	assert_int_equal(send_req(&c), 204);
	assert_string_equal(resp.commit, "0-1-3");
	c.if_match = "\"2\"";
	expect_problem(&c, 410, "gone", NULL, NULL);
	assert_string_equal(resp.commit, "");
}

/* A read with Circle-Wait-For waits for that write after the id and
 * parameter checks; past the bound 503 not_caught_up; a malformed token 400. */
static void
test_wait_for(void **state)
{
	struct call c = {"GET", NULL, NULL, NULL, NULL, NULL, NULL, NULL};
	char path[64], events[96], at[96];

	(void)state;
	make("waited", 5, path);
	wait_for = "0-1-1";
	snprintf(events, sizeof(events), "%s/events", path);
	snprintf(at, sizeof(at), "%s/versions/1", path);
	c.path = path;
	qry_app.wait_timeout_ms = 1234;
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(mem.waited, "0-1-1");
	assert_string_equal(resp.commit, "");
	mem.behind = true;
	const char *const paths[] = {path, "/circle", events, at};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		c.path = paths[i];
		mem.waited[0] = '\0';
		expect_problem(&c, 503, "not_caught_up", NULL, NULL);
		assert_int_equal(resp.retry_after, 1);
		assert_string_equal(mem.waited, "0-1-1");
	}
	/* the id is checked first, and nothing waits for a request refused */
	c.path = "/circle/nope";
	mem.waited[0] = '\0';
	expect_problem(&c, 400, "invalid_circle_id", NULL, NULL);
	assert_string_equal(mem.waited, "");
	c.path = "/circle";
	c.query = "limit=0";
	expect_problem(&c, 400, "invalid_parameter", "parameter", "limit");
	assert_string_equal(mem.waited, "");
	c.query = NULL;
	wait_for = "0-1-x";
	expect_problem(&c, 400, "invalid_header", "header", "Circle-Wait-For");
	assert_string_equal(mem.waited, "");
	/* health and version never wait */
	wait_for = "0-1-1";
	c.path = "/health";
	assert_int_equal(send_req(&c), 200);
	c.path = "/version";
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(mem.waited, "");
	mem.behind = false;
	c.path = "/circle";
	assert_int_equal(send_req(&c), 200);
	wait_for = NULL;
}

/* The change feed is a read like the others: with Circle-Wait-For it waits
 * for that write after its parameter checks, 503 not_caught_up past the
 * bound, 400 invalid_header for a malformed token. */
static void
test_feed_wait_for(void **state)
{
	struct call c = {"GET", "/events", NULL, NULL, NULL, NULL, NULL, NULL};
	char path[64];

	(void)state;
	make("fedwait", 5, path);
	wait_for = "0-1-1";
	qry_app.wait_timeout_ms = 1234;
	mem.waited[0] = '\0';
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(mem.waited, "0-1-1");
	assert_string_equal(resp.commit, "");
	mem.behind = true;
	mem.waited[0] = '\0';
	expect_problem(&c, 503, "not_caught_up", NULL, NULL);
	assert_int_equal(resp.retry_after, 1);
	assert_string_equal(mem.waited, "0-1-1");
	/* nothing waits for a request refused */
	c.query = "limit=0";
	mem.waited[0] = '\0';
	expect_problem(&c, 400, "invalid_parameter", "parameter", "limit");
	assert_string_equal(mem.waited, "");
	c.query = "after=-1";
	expect_problem(&c, 400, "invalid_parameter", "parameter", "after");
	assert_string_equal(mem.waited, "");
	c.query = NULL;
	wait_for = "0-1-x";
	expect_problem(&c, 400, "invalid_header", "header", "Circle-Wait-For");
	assert_string_equal(mem.waited, "");
	mem.behind = false;
	wait_for = "0-1-1";
	assert_int_equal(send_req(&c), 200);
	wait_for = NULL;
}

static void
test_too_large_and_routing(void **state)
{
	struct http_request req = {0};

	(void)state;
	req.method = "POST";
	req.path = "/circle";
	req.query = "";
	req.content_type = json;
	req.body_too_large = true;
	http_response_free(&resp);
	http_response_init(&resp);
	http_dispatch(&cmd_app, &req, &resp);
	assert_int_equal(resp.status, 413);
	http_response_free(&resp);
	/* the query worker never runs a write */
	req.body_too_large = false;
	req.body = "{\"circle_name\":\"x\",\"capacity\":3}";
	req.body_len = strlen(req.body);
	http_response_init(&resp);
	http_dispatch(&qry_app, &req, &resp);
	assert_int_equal(resp.status, 500);
	assert_int_equal(mem.world.nevents, 0);
	http_response_free(&resp);
}

static void
test_feed(void **state)
{
	char a[64], b[64];
	struct call c = {"PUT", NULL, NULL, json, "{\"capacity\":4,\"version\":1}",
			 NULL,  NULL, NULL};
	json_object *arr = NULL, *e, *v;
	static const char *const bad_after[] = {
		"after=-1",       "after=x", "after=01", "after=", "after=9223372036854775808",
		"after=1&after=1"};
	static const char *const bad_limit[] = {"limit=0", "limit=1001", "limit=x",
						"limit=", "limit=1&limit=2"};
	size_t i;

	(void)state;
	make("first", 3, a);
	make("second", 5, b);
	c.path = a;
	assert_int_equal(send_req(&c), 200);

	c.method = "GET";
	c.path = "/events";
	c.body = NULL;
	c.ctype = NULL;
	assert_int_equal(send_req(&c), 200);
	assert_string_equal(resp.content_type, "application/json");
	assert_true(json_object_object_get_ex(doc, "events", &arr));
	assert_int_equal(json_object_array_length(arr), 3);
	assert_int_equal(num("next_after"), 3);
	e = json_object_array_get_idx(arr, 0);
	assert_true(json_object_object_get_ex(e, "position", &v));
	assert_int_equal(json_object_get_int64(v), 1);
	assert_true(json_object_object_get_ex(e, "circle_id", &v));
	assert_string_equal(json_object_get_string(v), a + 8);
	e = json_object_array_get_idx(arr, 2);
	/* the history entry of the event, plus position and circle_id */
	assert_string_equal(
		json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
		"{\"position\":3,\"circle_id\":\"abcdef00-0000-4000-8000-000000000001\","
		"\"event_id\":\"abcdef00-0000-4000-8000-000000000005\",\"version\":2,"
		"\"event_type\":\"circle_updated\",\"occurred_at\":\"2026-11-26T08:35:48.123456Z\","
		"\"data\":{\"type\":\"circle_updated\",\"capacity\":4}}");

	c.query = "after=1&limit=1";
	assert_int_equal(send_req(&c), 200);
	assert_true(json_object_object_get_ex(doc, "events", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	assert_int_equal(num("next_after"), 2);
	e = json_object_array_get_idx(arr, 0);
	assert_true(json_object_object_get_ex(e, "circle_id", &v));
	assert_string_equal(json_object_get_string(v), b + 8);
	/* nothing new: an empty page keeps next_after at after */
	c.query = "after=3";
	assert_int_equal(send_req(&c), 200);
	assert_true(json_object_object_get_ex(doc, "events", &arr));
	assert_int_equal(json_object_array_length(arr), 0);
	assert_int_equal(num("next_after"), 3);
	c.query = "after=9223372036854775807&limit=1000&other=x";
	assert_int_equal(send_req(&c), 200);
	assert_int_equal(num("next_after"), INT64_MAX);
	c.query = "after=0";
	c.method = "HEAD";
	assert_int_equal(send_req(&c), 200);
	assert_true(resp.omit_body);
	c.method = "GET";
	for (i = 0; i < sizeof(bad_after) / sizeof(bad_after[0]); i++) {
		c.query = bad_after[i];
		expect_problem(&c, 400, "invalid_parameter", "parameter", "after");
	}
	for (i = 0; i < sizeof(bad_limit) / sizeof(bad_limit[0]); i++) {
		c.query = bad_limit[i];
		expect_problem(&c, 400, "invalid_parameter", "parameter", "limit");
	}
	c.query = NULL;
	mem.world.down = true;
	expect_problem(&c, 503, "service_unavailable", NULL, NULL);
	mem.world.down = false;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_descriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_and_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_health_and_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_and_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_for, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_wait_for, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
