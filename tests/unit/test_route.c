/*
 * The route table: every path and method, 404 and 405 with Allow, HEAD as
 * GET, and the side check that keeps writes out of the query worker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/route.h"

static const char id[] = "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10";

static enum route_result
find(const char *method, const char *path, enum http_route *rid, struct http_params *p, char *allow)
{
	const struct route *r = NULL;
	enum route_result rr = route_find(method, path, &r, p, allow, 64);

	if (rr == ROUTE_MATCH)
		*rid = r->id;
	return rr;
}

static void
expect_route(const char *method, const char *path, enum http_route want)
{
	struct http_params p;
	enum http_route got = ROUTE__MAX;
	char allow[64];

	if (find(method, path, &got, &p, allow) != ROUTE_MATCH)
		fail_msg("%s %s: no route", method, path);
	if (got != want)
		fail_msg("%s %s: route %d, want %d", method, path, got, want);
}

static void
expect_405(const char *method, const char *path, const char *allow_want)
{
	struct http_params p;
	enum http_route got;
	char allow[64];

	if (find(method, path, &got, &p, allow) != ROUTE_NO_METHOD)
		fail_msg("%s %s: not a 405", method, path);
	if (strcmp(allow, allow_want) != 0)
		fail_msg("%s %s: Allow [%s], want [%s]", method, path, allow, allow_want);
}

static void
expect_404(const char *method, const char *path)
{
	struct http_params p;
	enum http_route got;
	char allow[64];

	if (find(method, path, &got, &p, allow) != ROUTE_NO_PATH)
		fail_msg("%s %s: not a 404", method, path);
}

static void
test_every_route(void **state)
{
	char path[128];

	(void)state;
	expect_route("GET", "/version", ROUTE_VERSION);
	expect_route("HEAD", "/version", ROUTE_VERSION);
	expect_route("GET", "/health", ROUTE_HEALTH);
	expect_route("HEAD", "/health", ROUTE_HEALTH);
	expect_route("GET", "/circle", ROUTE_LIST);
	expect_route("HEAD", "/circle", ROUTE_LIST);
	expect_route("POST", "/circle", ROUTE_CREATE);
	snprintf(path, sizeof(path), "/circle/%s", id);
	expect_route("GET", path, ROUTE_GET);
	expect_route("HEAD", path, ROUTE_GET);
	expect_route("PUT", path, ROUTE_PUT);
	expect_route("PATCH", path, ROUTE_PATCH);
	expect_route("DELETE", path, ROUTE_DELETE);
	snprintf(path, sizeof(path), "/circle/%s/events", id);
	expect_route("GET", path, ROUTE_EVENTS);
	expect_route("HEAD", path, ROUTE_EVENTS);
	snprintf(path, sizeof(path), "/circle/%s/versions/3", id);
	expect_route("GET", path, ROUTE_AT_VERSION);
	expect_route("HEAD", path, ROUTE_AT_VERSION);
	expect_route("GET", "/events", ROUTE_FEED);
	expect_route("HEAD", "/events", ROUTE_FEED);
	/* a malformed id or n still routes: the handler answers 400 */
	expect_route("GET", "/circle/not-a-uuid", ROUTE_GET);
	expect_route("DELETE", "/circle/x", ROUTE_DELETE);
	expect_route("GET", "/circle/x%2Fevents", ROUTE_GET);
	expect_route("GET", "/circle/x/versions/0", ROUTE_AT_VERSION);
}

static void
test_params(void **state)
{
	struct http_params p;
	enum http_route got;
	char allow[64], path[128];

	(void)state;
	snprintf(path, sizeof(path), "/circle/%s/versions/42", id);
	assert_int_equal(find("GET", path, &got, &p, allow), ROUTE_MATCH);
	assert_int_equal(p.id_len, 36);
	assert_memory_equal(p.id, id, 36);
	assert_int_equal(p.n_len, 2);
	assert_memory_equal(p.n, "42", 2);
	assert_int_equal(find("GET", "/circle", &got, &p, allow), ROUTE_MATCH);
	assert_null(p.id);
	assert_null(p.n);
}

static void
test_405_allow(void **state)
{
	static const char *const others[] = {"OPTIONS", "TRACE", "CONNECT", "FOO",
					     "get",     "Post",  ""};
	char path[128];
	size_t i;

	(void)state;
	expect_405("POST", "/version", "GET, HEAD");
	expect_405("DELETE", "/version", "GET, HEAD");
	expect_405("PUT", "/health", "GET, HEAD");
	expect_405("PUT", "/circle", "GET, HEAD, POST");
	expect_405("PATCH", "/circle", "GET, HEAD, POST");
	expect_405("DELETE", "/circle", "GET, HEAD, POST");
	snprintf(path, sizeof(path), "/circle/%s", id);
	expect_405("POST", path, "GET, HEAD, PUT, PATCH, DELETE");
	snprintf(path, sizeof(path), "/circle/%s/events", id);
	expect_405("POST", path, "GET, HEAD");
	expect_405("DELETE", path, "GET, HEAD");
	snprintf(path, sizeof(path), "/circle/%s/versions/1", id);
	expect_405("PUT", path, "GET, HEAD");
	expect_405("POST", "/events", "GET, HEAD");
	expect_405("DELETE", "/events", "GET, HEAD");
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		expect_405(others[i], "/version", "GET, HEAD");
		expect_405(others[i], "/circle", "GET, HEAD, POST");
		expect_405(others[i], "/circle/x", "GET, HEAD, PUT, PATCH, DELETE");
		expect_405(others[i], "/circle/x/events", "GET, HEAD");
		expect_405(others[i], "/circle/x/versions/1", "GET, HEAD");
		expect_405(others[i], "/events", "GET, HEAD");
	}
}

static void
test_404(void **state)
{
	static const char *const paths[] = {
		"",
		"/",
		"/version/",
		"/versions",
		"/Version",
		"/VERSION",
		"/health/",
		"/healthz",
		"/circle/",
		"/circles",
		"/Circle",
		"/circle//",
		"//circle",
		"/circle/x/",
		"/circle/x/events/",
		"/circle/x/event",
		"/circle/x/versions",
		"/circle/x/versions/",
		"/circle/x/versions/1/",
		"/circle/x/versions/1/x",
		"/circle/x/y",
		"/%63ircle",
		"/circle%2Fx",
		"/circle/x/%65vents",
		"/circle/x/Events",
		"circle",
		"/circle/x/events/x",
		"/circle?x",
		"/./circle",
		"/circle/../version",
		"/version?x=1",
		"/events/",
		"/event",
		"/Events",
		"/events/1",
		"/%65vents",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		expect_404("GET", paths[i]);
		expect_404("POST", paths[i]);
		expect_404("DELETE", paths[i]);
	}
}

static void
test_table_sides(void **state)
{
	const struct route *t;
	size_t n, i;

	(void)state;
	t = route_table(&n);
	assert_int_equal(n, ROUTE__MAX);
	for (i = 0; i < n; i++) {
		bool read = strcmp(t[i].method, "GET") == 0;

		assert_int_equal(t[i].side, read ? SIDE_READ : SIDE_WRITE);
	}
}

/* ---- dispatch ---- */

static int calls[ROUTE__MAX];

static void
fake(enum http_route r, struct http_response *resp)
{
	calls[r]++;
	resp->status = 200;
	resp->content_type = "application/json";
}

#define FAKE(name, r) \
	static void name(const struct http_app *a, const struct http_request *q, \
			 const struct http_params *p, struct http_response *resp) \
	{ \
		(void)a; \
		(void)q; \
		(void)p; \
		fake(r, resp); \
	}

FAKE(h_version, ROUTE_VERSION)
FAKE(h_create, ROUTE_CREATE)
FAKE(h_get, ROUTE_GET)
FAKE(h_delete, ROUTE_DELETE)

static struct http_request
request(const char *method, const char *path)
{
	struct http_request req = {0};

	req.method = method;
	req.path = path;
	req.query = "";
	return req;
}

static int
dispatch(const struct http_app *app, struct http_request *req, struct http_response *resp)
{
	http_response_init(resp);
	http_dispatch(app, req, resp);
	return resp->status;
}

static void
test_dispatch_sides(void **state)
{
	struct http_app query = {0}, command = {0};
	http_handler query_table[ROUTE__MAX] = {0}, command_table[ROUTE__MAX] = {0};
	struct http_response resp;
	struct http_request req;

	(void)state;
	memset(calls, 0, sizeof(calls));
	query.side = SIDE_READ;
	query_table[ROUTE_VERSION] = h_version;
	query_table[ROUTE_GET] = h_get;
	query.handlers = query_table;
	command.side = SIDE_WRITE;
	command_table[ROUTE_CREATE] = h_create;
	command_table[ROUTE_DELETE] = h_delete;
	command.handlers = command_table;

	req = request("GET", "/version");
	assert_int_equal(dispatch(&query, &req, &resp), 200);
	assert_false(resp.omit_body);
	http_response_free(&resp);
	req = request("HEAD", "/version");
	assert_int_equal(dispatch(&query, &req, &resp), 200);
	assert_true(resp.omit_body);
	http_response_free(&resp);
	assert_int_equal(calls[ROUTE_VERSION], 2);

	/* a write reaching the query worker, a read reaching the command one */
	req = request("POST", "/circle");
	assert_int_equal(dispatch(&query, &req, &resp), 500);
	assert_non_null(strstr(resp.body, "\"misrouted\""));
	http_response_free(&resp);
	req = request("DELETE", "/circle/x");
	assert_int_equal(dispatch(&query, &req, &resp), 500);
	http_response_free(&resp);
	req = request("GET", "/version");
	assert_int_equal(dispatch(&command, &req, &resp), 500);
	http_response_free(&resp);
	req = request("HEAD", "/circle/x");
	assert_int_equal(dispatch(&command, &req, &resp), 500);
	http_response_free(&resp);
	assert_int_equal(calls[ROUTE_CREATE] + calls[ROUTE_DELETE] + calls[ROUTE_GET], 0);

	/* a route of the right side that this app did not register */
	req = request("GET", "/health");
	assert_int_equal(dispatch(&query, &req, &resp), 500);
	http_response_free(&resp);

	req = request("POST", "/circle");
	assert_int_equal(dispatch(&command, &req, &resp), 200);
	http_response_free(&resp);
	assert_int_equal(calls[ROUTE_CREATE], 1);
}

static void
test_dispatch_errors(void **state)
{
	struct http_app app = {0};
	http_handler table[ROUTE__MAX] = {0};
	struct http_response resp;
	struct http_request req;

	(void)state;
	app.side = SIDE_READ;
	table[ROUTE_GET] = h_get;
	app.handlers = table;

	req = request("GET", "/nope");
	assert_int_equal(dispatch(&app, &req, &resp), 404);
	assert_string_equal(resp.content_type, "application/problem+json");
	assert_string_equal(resp.allow, "");
	assert_non_null(strstr(resp.body, "\"code\":\"not_found\""));
	http_response_free(&resp);

	req = request("POST", "/circle/x/events");
	assert_int_equal(dispatch(&app, &req, &resp), 405);
	assert_string_equal(resp.allow, "GET, HEAD");
	assert_non_null(strstr(resp.body, "\"code\":\"method_not_allowed\""));
	http_response_free(&resp);

	req = request("HEAD", "/nope");
	assert_int_equal(dispatch(&app, &req, &resp), 404);
	assert_true(resp.omit_body);
	assert_true(resp.body_len > 0); /* Content-Length as for GET */
	http_response_free(&resp);

	/* too large is answered before anything else, as the web server does */
	req = request("GET", "/nope");
	req.body_too_large = true;
	assert_int_equal(dispatch(&app, &req, &resp), 413);
	assert_non_null(strstr(resp.body, "\"code\":\"payload_too_large\""));
	http_response_free(&resp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route),     cmocka_unit_test(test_params),
		cmocka_unit_test(test_405_allow),       cmocka_unit_test(test_404),
		cmocka_unit_test(test_table_sides),     cmocka_unit_test(test_dispatch_sides),
		cmocka_unit_test(test_dispatch_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
