/*
 * End-to-end tests: the whole service (nginx, both FastCGI worker pools,
 * MariaDB) seen from outside, over HTTP, against the contract in the README
 * and API docs. Black-box: only requests and answers.
 *
 * Environment:
 *   CIRCLE_TEST_BASE_PORT  nginx's loopback port (8080)
 *   CIRCLE_TEST_DB_STOP    shell command that stops the database
 *   CIRCLE_TEST_DB_START   shell command that starts it again
 *     (without both, the database outage test is skipped)
 *
 * Every read sends the last Circle-Commit seen as Circle-Wait-For, so the
 * suite passes as well when the query side reads from a replica.
 *
 * Every circle gets a name with a random suffix, so runs never clash with
 * each other or with data left by earlier runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "e2e_assert.h"
#include "http_client.h"

#define CT_JSON "Content-Type: application/json"
#define ID_LEN 36

static unsigned short port = 8080;

/* ------------------------------------------------------------ helpers */

/* The response of one request; the test fails if no answer came. */
static void
req(struct http_response *r, const char *method, const char *target, const char *const *headers,
    const char *body, size_t body_len)
{
	struct http_request q = {
		.method = method,
		.target = target,
		.headers = headers,
		.body = body,
		.body_len = body_len,
		.timeout_ms = 20000,
	};

	if (http_send(port, &q, r) != 0)
		fail_msg("no HTTP answer to %s %s", method, target);
}

static void
get(struct http_response *r, const char *target)
{
	req(r, "GET", target, NULL, NULL, 0);
}

/* A JSON request: Content-Type application/json plus one optional header. */
static void
send_json(struct http_response *r, const char *method, const char *target, const char *body,
	  const char *extra)
{
	const char *h[] = {CT_JSON, extra, NULL};

	req(r, method, target, h, body, strlen(body));
}

/* Same, with two optional headers. */
static void
send_json2(struct http_response *r, const char *method, const char *target, const char *body,
	   const char *h1, const char *h2)
{
	const char *h[] = {CT_JSON, h1, h2, NULL};

	if (!h1) {
		h[1] = h2;
		h[2] = NULL;
	}
	req(r, method, target, h, body, strlen(body));
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return s;
}

/* Twelve random lower-case letters. */
static void
random_letters(char out[13])
{
	unsigned char b[12];

	assert_int_equal(getrandom(b, sizeof(b), 0), (ssize_t)sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		out[i] = (char)('a' + b[i] % 26);
	out[12] = '\0';
}

/* prefix + random letters: a name no other run uses. Caller frees. */
static char *
uniq(const char *prefix)
{
	char r[13];

	random_letters(r);
	return xasprintf("%s%s", prefix, r);
}

/* s as a JSON string literal (with quotes). Caller frees. */
static char *
jenc(const char *s)
{
	json_object *o = json_object_new_string(s);
	char *out = strdup(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	assert_non_null(out);
	return out;
}

static char *
create_body(const char *name, int capacity)
{
	char *n = jenc(name), *b = xasprintf("{\"circle_name\":%s,\"capacity\":%d}", n, capacity);

	free(n);
	return b;
}

static int
is_lower_uuid(const char *s)
{
	if (strlen(s) != ID_LEN)
		return 0;
	for (int i = 0; i < ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* A circle object with exactly the four members; NULL id skips that check. */
static void
assert_circle_obj(json_object *o, const char *id, const char *name, int capacity, int version)
{
	assert_int_equal(json_object_object_length(o), 4);
	assert_true(is_lower_uuid(jstr(o, "circle_id")));
	if (id)
		assert_string_equal(jstr(o, "circle_id"), id);
	assert_string_equal(jstr(o, "circle_name"), name);
	assert_int_equal(jint(o, "capacity"), capacity);
	assert_int_equal(jint(o, "version"), version);
}

static void
assert_etag(const struct http_response *r, int version)
{
	char want[32];
	const char *etag = http_header(r, "ETag");

	snprintf(want, sizeof(want), "\"%d\"", version);
	if (!etag || strcmp(etag, want) != 0)
		fail_msg("ETag %s, expected %s", etag ? etag : "(none)", want);
}

/* A circle answer: status, JSON, ETag and body. */
static void
assert_circle_response(const struct http_response *r, int status, const char *id, const char *name,
		       int capacity, int version)
{
	json_object *o;

	assert_status(r, status);
	assert_content_type(r, "application/json");
	assert_etag(r, version);
	o = body_json(r);
	assert_circle_obj(o, id, name, capacity, version);
	json_object_put(o);
}

/* Creates a circle and copies its id into id. */
static void
create(const char *name, int capacity, char id[ID_LEN + 1])
{
	struct http_response r;
	char *b = create_body(name, capacity);
	json_object *o;

	send_json(&r, "POST", "/circle", b, NULL);
	assert_circle_response(&r, 201, NULL, name, capacity, 1);
	o = body_json(&r);
	memcpy(id, jstr(o, "circle_id"), ID_LEN + 1);
	json_object_put(o);
	free(b);
	http_response_free(&r);
}

static void
create_named(const char *prefix, int capacity, char id[ID_LEN + 1], char **name)
{
	*name = uniq(prefix);
	create(*name, capacity, id);
}

static char *
path_of(const char *id)
{
	return xasprintf("/circle/%s", id);
}

static char *
if_match(int version)
{
	return xasprintf("If-Match: \"%d\"", version);
}

/* PUT (or PATCH) body to the circle, asserting the status. */
static void
update_expect(const char *method, const char *id, const char *body, const char *extra, int status,
	      struct http_response *r)
{
	char *p = path_of(id);

	send_json(r, method, p, body, extra);
	assert_status(r, status);
	free(p);
}

static int
circle_version(const char *id)
{
	struct http_response r;
	char *p = path_of(id);
	json_object *o;
	int v;

	get(&r, p);
	assert_status(&r, 200);
	o = body_json(&r);
	v = (int)jint(o, "version");
	json_object_put(o);
	http_response_free(&r);
	free(p);
	return v;
}

/*
 * The events array of a circle's whole history, every page of it read along
 * next_after (a page holds at most 1000 events) into the first page's array.
 * Caller puts *whole.
 */
static json_object *
history(const char *id, json_object **whole)
{
	struct http_response r;
	char *p = xasprintf("/circle/%s/events", id);
	json_object *o, *ev, *next = NULL;

	get(&r, p);
	assert_status(&r, 200);
	assert_content_type(&r, "application/json");
	o = body_json(&r);
	assert_string_equal(jstr(o, "circle_id"), id);
	ev = member(o, "events");
	assert_true(json_object_is_type(ev, json_type_array));
	http_response_free(&r);
	free(p);
	while (json_object_object_get_ex(o, "next_after", &next) && next != NULL) {
		int64_t after = json_object_get_int64(next);
		json_object *page, *more;

		assert_true(json_object_is_type(next, json_type_int));
		p = xasprintf("/circle/%s/events?after=%lld", id, (long long)after);
		get(&r, p);
		assert_status(&r, 200);
		page = body_json(&r);
		more = member(page, "events");
		assert_true(json_object_is_type(more, json_type_array));
		for (size_t i = 0; i < json_object_array_length(more); i++)
			json_object_array_add(ev,
					      json_object_get(json_object_array_get_idx(more, i)));
		/* the next page's cursor moves forward, or the loop would not end */
		if (json_object_object_get_ex(page, "next_after", &next) && next != NULL)
			assert_true(json_object_get_int64(next) > after);
		json_object_object_add(o, "next_after", next ? json_object_get(next) : NULL);
		json_object_put(page);
		http_response_free(&r);
		free(p);
	}
	*whole = o;
	return ev;
}

static int
run_shell(const char *what)
{
	const char *cmd = getenv(what);

	if (!cmd || !*cmd)
		return -1;
	return system(cmd);
}

/* ------------------------------------------------------------ basics */

static void
test_version(void **state)
{
	struct http_response r;
	json_object *o;

	(void)state;
	get(&r, "/version");
	assert_status(&r, 200);
	assert_content_type(&r, "application/json");
	o = body_json(&r);
	assert_string_equal(jstr(o, "name"), "circle");
	assert_true(strlen(jstr(o, "version")) > 0);
	json_object_put(o);
	http_response_free(&r);
}

static void
test_health(void **state)
{
	struct http_response r;
	json_object *o;

	(void)state;
	get(&r, "/health");
	assert_status(&r, 200);
	assert_content_type(&r, "application/json");
	o = body_json(&r);
	assert_string_equal(jstr(o, "status"), "ok");
	json_object_put(o);
	http_response_free(&r);
}

static void
test_create(void **state)
{
	struct http_response r, g;
	char *name = uniq("football"), *b = create_body(name, 20), *p;
	json_object *o;
	const char *id;

	(void)state;
	send_json(&r, "POST", "/circle", b, NULL);
	assert_circle_response(&r, 201, NULL, name, 20, 1);
	o = body_json(&r);
	id = jstr(o, "circle_id");
	p = path_of(id);
	assert_non_null(http_header(&r, "Location"));
	assert_string_equal(http_header(&r, "Location"), p);

	get(&g, p);
	assert_circle_response(&g, 200, id, name, 20, 1);
	http_response_free(&g);
	free(p);
	json_object_put(o);
	http_response_free(&r);
	free(b);
	free(name);
}

/* ------------------------------------------------------------ field rules */

/* POST a raw body; expect 400 invalid_field naming field. */
static void
refuse_field(const char *body, const char *field)
{
	struct http_response r;

	send_json(&r, "POST", "/circle", body, NULL);
	assert_problem_member(&r, 400, "invalid_field", "field", field);
	http_response_free(&r);
}

static void
refuse_name(const char *json_literal)
{
	char *b = xasprintf("{\"circle_name\":%s,\"capacity\":5}", json_literal);

	refuse_field(b, "circle_name");
	free(b);
}

static void
refuse_capacity(const char *json_literal)
{
	char *n = uniq("cap"),
	     *b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":%s}", n, json_literal);

	refuse_field(b, "capacity");
	free(b);
	free(n);
}

/* A name of exactly count code points: random letters, then fill. */
static char *
name_of_length(size_t count, const char *fill)
{
	char r[13];
	size_t fl = strlen(fill), cap = 12 + count * fl + 1, len;
	char *s = malloc(cap);

	assert_non_null(s);
	random_letters(r);
	memcpy(s, r, 12);
	len = 12;
	for (size_t i = 12; i < count; i++) {
		memcpy(s + len, fill, fl);
		len += fl;
	}
	s[len] = '\0';
	return s;
}

static void
test_name_length(void **state)
{
	/* Counted in code points, not bytes: 100 fit, whether each takes one,
	 * three or four bytes; 101 do not. */
	static const struct {
		size_t count;
		const char *fill;
		bool fits;
	} names[] = {
		{100, "x", true},
		{101, "x", false},
		{100, "\xe6\x97\xa5", true},
		{100, "\xf0\x9f\x98\x80", true},
		{101, "\xe6\x97\xa5", false},
	};
	char id[ID_LEN + 1];

	(void)state;
	refuse_name("\"\"");
	/* One code point: a single letter may already be taken by an earlier
	 * run, so a clash is an accepted answer too. */
	{
		struct http_response r;
		char letter[13], *b;

		random_letters(letter);
		b = xasprintf("{\"circle_name\":\"%c\",\"capacity\":3}", letter[0]);
		send_json(&r, "POST", "/circle", b, NULL);
		if (r.status != 201)
			expect_problem(&r, 409, "duplicate_name");
		http_response_free(&r);
		free(b);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *s = name_of_length(names[i].count, names[i].fill);

		if (names[i].fits) {
			create(s, 3, id);
		} else {
			char *lit = jenc(s);

			refuse_name(lit);
			free(lit);
		}
		free(s);
	}
}

static void
test_name_stored_exactly(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], rnd[13], *b, *want;

	(void)state;
	/* Leading and inner spaces and non-ASCII are kept as sent. */
	want = uniq("  Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac ");
	create(want, 7, id);
	free(want);
	/* Escapes decode to the characters they stand for. */
	random_letters(rnd);
	b = xasprintf("{\"circle_name\":\"esc\\u00e9\\ud83d\\ude00\\u3042%s\",\"capacity\":5}",
		      rnd);
	want = xasprintf("esc\xc3\xa9\xf0\x9f\x98\x80\xe3\x81\x82%s", rnd);
	send_json(&r, "POST", "/circle", b, NULL);
	assert_circle_response(&r, 201, NULL, want, 5, 1);
	http_response_free(&r);
	free(want);
	free(b);
}

static void
test_name_control_chars(void **state)
{
	static const char *const bad[] = {
		"\"a\\u0000b\"",
		"\"a\\u0001b\"",
		"\"a\\u001fb\"",
		"\"a\\nb\"",
		"\"a\\tb\"",
		"\"a\\u007fb\"",
		"\"a\\u0080b\"",
		"\"a\\u0085b\"",
		"\"a\\u009fb\"",
		"\"a\xc2\x85"
		"b\"",
		"\"a\x7f"
		"b\"",
	};
	struct http_response r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuse_name(bad[i]);
	/* A raw control byte inside a JSON string is not JSON at all; either
	 * refusal is a 400. */
	send_json(&r, "POST", "/circle", "{\"circle_name\":\"a\tb\",\"capacity\":5}", NULL);
	assert_status(&r, 400);
	assert_content_type(&r, "application/problem+json");
	http_response_free(&r);
}

static void
test_name_unpaired_surrogate(void **state)
{
	(void)state;
	refuse_name("\"a\\ud83db\"");
	refuse_name("\"a\\ude00b\"");
	refuse_name("\"\\ud83d\"");
}

static void
test_name_whitespace_only(void **state)
{
	static const char *const bad[] = {
		"\" \"",       "\"   \"",
		"\"\\u3000\"", "\"\xe3\x80\x80\"",
		"\"\\u00a0\"", "\"\\u2003 \\u3000\"",
		"\"\\u2028\"", "\"\\u1680\"",
		"\"\\u205f\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuse_name(bad[i]);
}

static void
test_name_type(void **state)
{
	(void)state;
	refuse_name("null");
	refuse_name("5");
	refuse_name("true");
	refuse_name("[\"a\"]");
	refuse_name("{\"a\":1}");
}

static void
test_capacity_rules(void **state)
{
	static const char *const bad[] = {
		"3.0",  "1e3", "1E1", "30e-1", "\"5\"", "null",
		"2",    "0",   "-1",  "-3",    "32768", "99999999999999999999",
		"true", "[5]", "{}",  "-0",    "5.5",
	};
	char id[ID_LEN + 1], *n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refuse_capacity(bad[i]);
	create_named("capmin", 3, id, &n);
	free(n);
	create_named("capmax", 32767, id, &n);
	free(n);
}

/* ------------------------------------------------------------ refusals */

static void
test_invalid_json(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"}",
		"not json",
		"{\"circle_name\":\"x\",\"capacity\":5",
		"{\"circle_name\":\"x\",\"capacity\":5} x",
		"{\"circle_name\":\"x\",\"capacity\":5}{}",
		"{'circle_name':'x','capacity':5}",
		"{\"circle_name\":\"x\",\"capacity\":5,}",
		"[]",
		"[{\"circle_name\":\"x\",\"capacity\":5}]",
		"\"x\"",
		"5",
		"null",
		"true",
		/* not UTF-8: a lone continuation byte, an invalid lead, an overlong
		 * slash, an encoded surrogate, a truncated sequence */
		"{\"circle_name\":\"a\x80z\",\"capacity\":5}",
		"{\"circle_name\":\"a\xff\xfez\",\"capacity\":5}",
		"{\"circle_name\":\"a\xc0\xafz\",\"capacity\":5}",
		"{\"circle_name\":\"a\xed\xa0\x80z\",\"capacity\":5}",
		"{\"circle_name\":\"a\xe6\x97\",\"capacity\":5}",
		/* the same member twice */
		"{\"circle_name\":\"a\",\"circle_name\":\"b\",\"capacity\":5}",
		"{\"circle_name\":\"a\",\"capacity\":5,\"capacity\":5}",
	};
	struct http_response r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_json(&r, "POST", "/circle", bad[i], NULL);
		if (r.status != 400)
			fail_msg("body #%zu: status %d: %s", i, r.status, r.body);
		expect_problem(&r, 400, "invalid_json");
		http_response_free(&r);
	}
}

static void
test_unknown_field(void **state)
{
	struct http_response r;
	char *n = uniq("unknown"), *b;

	(void)state;
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":5,\"color\":\"red\"}", n);
	send_json(&r, "POST", "/circle", b, NULL);
	assert_problem_member(&r, 400, "unknown_field", "field", "color");
	http_response_free(&r);
	free(b);
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":5,\"circle_id\":\"x\"}", n);
	send_json(&r, "POST", "/circle", b, NULL);
	assert_problem_member(&r, 400, "unknown_field", "field", "circle_id");
	http_response_free(&r);
	free(b);
	free(n);
}

static void
test_missing_field(void **state)
{
	struct http_response r;

	(void)state;
	send_json(&r, "POST", "/circle", "{\"capacity\":5}", NULL);
	assert_problem_member(&r, 400, "missing_field", "field", "circle_name");
	http_response_free(&r);
	send_json(&r, "POST", "/circle", "{\"circle_name\":\"missing\"}", NULL);
	assert_problem_member(&r, 400, "missing_field", "field", "capacity");
	http_response_free(&r);
}

static void
test_media_type(void **state)
{
	static const char *const bad[] = {
		"Content-Type: text/plain",
		"Content-Type: application/jsonx",
		"Content-Type: application/x-www-form-urlencoded",
		"Content-Type: application/json-patch+json",
		"Content-Type: text/json",
		NULL,
	};
	struct http_response r;
	char *n, *b;

	(void)state;
	n = uniq("media");
	b = create_body(n, 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *h[] = {bad[i], NULL};

		req(&r, "POST", "/circle", h, b, strlen(b));
		expect_problem(&r, 415, "unsupported_media_type");
		http_response_free(&r);
	}
	{
		const char *h[] = {"Content-Type: application/json; charset=utf-8", NULL};

		req(&r, "POST", "/circle", h, b, strlen(b));
		assert_circle_response(&r, 201, NULL, n, 5, 1);
		http_response_free(&r);
	}
	free(b);
	free(n);
}

static void
test_payload_too_large(void **state)
{
	struct http_response r;
	size_t len = 64 * 1024 + 1;
	char *b = malloc(len + 1);

	(void)state;
	assert_non_null(b);
	/* A JSON body just over 64 KiB. */
	memset(b, ' ', len);
	memcpy(b, "{\"circle_name\":\"x\",\"capacity\":5}", 32);
	b[len] = '\0';
	{
		const char *h[] = {CT_JSON, NULL};

		req(&r, "POST", "/circle", h, b, len);
		expect_problem(&r, 413, "payload_too_large");
		http_response_free(&r);
		/* Exactly 64 KiB is allowed through: a name too long, not 413. */
		memcpy(b, "{\"circle_name\":\"", 16);
		memset(b + 16, 'y', len - 1 - 16 - 16);
		memcpy(b + len - 1 - 16, "\",\"capacity\":5} ", 16);
		req(&r, "POST", "/circle", h, b, len - 1);
		assert_problem_member(&r, 400, "invalid_field", "field", "circle_name");
		http_response_free(&r);
	}
	free(b);
}

static void
test_nginx_errors(void **state)
{
	struct http_response r;
	size_t big = 1024 * 1024;
	char *b = malloc(big), *hdr;

	(void)state;
	assert_non_null(b);
	memset(b, 'a', big);
	{
		const char *h[] = {CT_JSON, NULL};

		req(&r, "POST", "/circle", h, b, big);
		expect_problem(&r, 413, "payload_too_large");
		http_response_free(&r);
	}
	free(b);
	/* A 16 KiB header is more than nginx takes. */
	hdr = malloc(16 * 1024 + 16);
	assert_non_null(hdr);
	memcpy(hdr, "X-Big: ", 7);
	memset(hdr + 7, 'b', 16 * 1024);
	hdr[7 + 16 * 1024] = '\0';
	{
		const char *h[] = {hdr, NULL};

		req(&r, "GET", "/health", h, NULL, 0);
		assert_true(r.status == 431 || r.status == 400);
		expect_problem(&r, r.status, r.status == 431 ? "header_too_large" : "bad_request");
		http_response_free(&r);
	}
	free(hdr);
	/* A request line nginx cannot parse. */
	assert_int_equal(http_send_raw(port, "GARBAGE\r\n\r\n", 11, 0, 10000, &r), 0);
	expect_problem(&r, 400, "bad_request");
	http_response_free(&r);
	/* A URI longer than nginx's buffers. */
	{
		size_t n = 12000;
		char *t = malloc(n + 2);

		assert_non_null(t);
		t[0] = '/';
		memset(t + 1, 'u', n);
		t[n + 1] = '\0';
		get(&r, t);
		expect_problem(&r, 414, "uri_too_long");
		http_response_free(&r);
		free(t);
	}
}

static void
test_unknown_path(void **state)
{
	static const char *const paths[] = {
		"/",
		"/nope",
		"/circles",
		"/circle/00000000-0000-0000-0000-000000000000/nope",
		"/version/x",
		"/health/",
		"/circle/00000000-0000-0000-0000-000000000000/versions",
		"/circle/00000000-0000-0000-0000-000000000000/versions/1/x",
	};
	struct http_response r;

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		get(&r, paths[i]);
		if (r.status != 404)
			fail_msg("GET %s: %d %s", paths[i], r.status, r.body);
		expect_problem(&r, 404, "not_found");
		http_response_free(&r);
	}
	send_json(&r, "POST", "/nope", "{}", NULL);
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
}

/* The method is refused with 405 and Allow lists every method in want. */
static void
expect_405(const char *method, const char *path, const char *const *want)
{
	struct http_response r;
	const char *allow;

	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		req(&r, method, path, NULL, NULL, 0);
	else
		send_json(&r, method, path, "{}", NULL);
	if (strcmp(method, "HEAD") == 0) {
		assert_status(&r, 405);
	} else {
		if (r.status != 405)
			fail_msg("%s %s: %d %s", method, path, r.status, r.body);
		expect_problem(&r, 405, "method_not_allowed");
	}
	allow = http_header(&r, "Allow");
	if (!allow)
		fail_msg("%s %s: 405 without Allow", method, path);
	for (; *want; want++)
		if (!strstr(allow, *want))
			fail_msg("%s %s: Allow \"%s\" lacks %s", method, path, allow, *want);
	http_response_free(&r);
}

static void
test_method_not_allowed(void **state)
{
	static const char *const coll[] = {"GET", "POST", NULL};
	static const char *const item[] = {"GET", "PUT", "PATCH", "DELETE", NULL};
	static const char *const ro[] = {"GET", NULL};
	const char *id = "/circle/00000000-0000-0000-0000-000000000000";

	(void)state;
	expect_405("DELETE", "/circle", coll);
	expect_405("PUT", "/circle", coll);
	expect_405("PATCH", "/circle", coll);
	expect_405("POST", id, item);
	expect_405("POST", "/version", ro);
	expect_405("DELETE", "/health", ro);
	expect_405("PUT", "/circle/00000000-0000-0000-0000-000000000000/events", ro);
	expect_405("POST", "/circle/00000000-0000-0000-0000-000000000000/versions/1", ro);
}

/* ------------------------------------------------------------ names */

static void
expect_duplicate(const char *name)
{
	struct http_response r;
	char *b = create_body(name, 5);

	send_json(&r, "POST", "/circle", b, NULL);
	if (r.status != 409)
		fail_msg("\"%s\" did not clash: %d %s", name, r.status, r.body);
	expect_problem(&r, 409, "duplicate_name");
	http_response_free(&r);
	free(b);
}

/* ASCII letters to their fullwidth forms (U+FF21..). */
static char *
fullwidth(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	assert_non_null(out);
	for (; *s; s++) {
		unsigned cp = 0xFF00u + (unsigned)(unsigned char)*s - 0x20u;

		*o++ = (char)(0xE0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char)(0x80 | (cp & 0x3F));
	}
	*o = '\0';
	return out;
}

static void
test_duplicate_names(void **state)
{
	char id[ID_LEN + 1], r[13], *n, *v, *fw;

	(void)state;
	random_letters(r);
	n = xasprintf("Football%s", r);
	create(n, 10, id);
	expect_duplicate(n);
	v = xasprintf("FOOTBALL%s", r);
	for (char *c = v; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	expect_duplicate(v);
	free(v);
	v = xasprintf("football%s", r);
	expect_duplicate(v);
	free(v);
	fw = fullwidth(n);
	expect_duplicate(fw);
	free(fw);
	v = xasprintf("Football%s ", r);
	expect_duplicate(v);
	free(v);
	v = xasprintf("Football%s   ", r);
	expect_duplicate(v);
	free(v);
	v = xasprintf("Foot\xe2\x80\x8b"
		      "ball%s",
		      r);
	expect_duplicate(v);
	free(v);
	free(n);

	/* Accents matter: "Café" and "Cafe" are two names. */
	random_letters(r);
	n = xasprintf("Caf\xc3\xa9%s", r);
	create(n, 5, id);
	free(n);
	n = xasprintf("Cafe%s", r);
	create(n, 5, id);
	free(n);
}

static void
test_duplicate_name_on_update(void **state)
{
	struct http_response r;
	char a[ID_LEN + 1], b[ID_LEN + 1], *na, *nb, *body, *up;

	(void)state;
	create_named("dupA", 5, a, &na);
	create_named("dupB", 5, b, &nb);
	body = xasprintf("{\"circle_name\":\"%s\",\"version\":1}", na);
	update_expect("PUT", b, body, NULL, 409, &r);
	expect_problem(&r, 409, "duplicate_name");
	http_response_free(&r);
	free(body);
	/* Its own name in other case is no clash with itself. */
	up = strdup(na);
	for (char *c = up; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	body = xasprintf("{\"circle_name\":\"%s\",\"version\":1}", up);
	update_expect("PUT", a, body, NULL, 200, &r);
	assert_circle_response(&r, 200, a, up, 5, 2);
	http_response_free(&r);
	free(body);
	free(up);
	free(na);
	free(nb);
}

/* ------------------------------------------------------------ get */

static void
test_get(void **state)
{
	static const char *const bad_ids[] = {
		"not-a-uuid",
		"00000000-0000-0000-0000-00000000000",
		"00000000-0000-0000-0000-0000000000000",
		"0000000g-0000-0000-0000-000000000000",
		"{00000000-0000-0000-0000-000000000000}",
		"00000000000000000000000000000000",
		"00000000-0000-0000-0000_000000000000",
		"%20",
	};
	struct http_response r;
	char id[ID_LEN + 1], up[ID_LEN + 1], *n, *p;

	(void)state;
	create_named("get", 12, id, &n);
	p = path_of(id);
	get(&r, p);
	assert_circle_response(&r, 200, id, n, 12, 1);
	http_response_free(&r);
	free(p);

	for (int i = 0; i <= ID_LEN; i++)
		up[i] = (char)toupper((unsigned char)id[i]);
	p = path_of(up);
	get(&r, p);
	assert_circle_response(&r, 200, id, n, 12, 1);
	http_response_free(&r);
	free(p);

	get(&r, "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301");
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);

	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		p = path_of(bad_ids[i]);
		get(&r, p);
		expect_problem(&r, 400, "invalid_circle_id");
		http_response_free(&r);
		free(p);
	}
	free(n);
}

static void
test_if_none_match(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], *n, *p;
	const char *h1[] = {"If-None-Match: \"1\"", NULL};
	const char *h2[] = {"If-None-Match: \"2\"", NULL};

	(void)state;
	create_named("inm", 5, id, &n);
	p = path_of(id);
	req(&r, "GET", p, h1, NULL, 0);
	assert_status(&r, 304);
	assert_int_equal(r.wire_body_len, 0);
	assert_etag(&r, 1);
	http_response_free(&r);
	req(&r, "GET", p, h2, NULL, 0);
	assert_circle_response(&r, 200, id, n, 5, 1);
	http_response_free(&r);
	free(p);
	free(n);
}

/* ------------------------------------------------------------ list */

struct id_list {
	char (*ids)[ID_LEN + 1];
	size_t n, cap;
};

static void
id_list_add(struct id_list *l, const char *id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->ids = realloc(l->ids, l->cap * sizeof(*l->ids));
		assert_non_null(l->ids);
	}
	memcpy(l->ids[l->n++], id, ID_LEN + 1);
}

/* One page; checks its shape and returns the parsed body. */
static json_object *
list_page(const char *target, json_object **circles)
{
	struct http_response r;
	json_object *o;

	get(&r, target);
	assert_status(&r, 200);
	assert_content_type(&r, "application/json");
	o = body_json(&r);
	*circles = member(o, "circles");
	assert_true(json_object_is_type(*circles, json_type_array));
	(void)member(o, "next_after");
	http_response_free(&r);
	return o;
}

/* Every live circle, walking the pages of 1000. */
static void
list_all(struct id_list *all)
{
	char target[128] = "/circle?limit=1000";
	int pages = 0;

	for (;;) {
		json_object *circles, *o = list_page(target, &circles), *next;
		size_t n = json_object_array_length(circles);

		assert_true(n <= 1000);
		for (size_t i = 0; i < n; i++) {
			json_object *c = json_object_array_get_idx(circles, i), *d = NULL;

			/* the four members, and a description only when it has one */
			if (json_object_object_get_ex(c, "description", &d)) {
				assert_true(json_object_is_type(d, json_type_string));
				assert_true(json_object_get_string_len(d) > 0);
				assert_int_equal(json_object_object_length(c), 5);
			} else {
				assert_int_equal(json_object_object_length(c), 4);
			}
			if (all->n > 0)
				assert_true(strcmp(all->ids[all->n - 1], jstr(c, "circle_id")) < 0);
			id_list_add(all, jstr(c, "circle_id"));
		}
		next = member(o, "next_after");
		if (json_object_is_type(next, json_type_null)) {
			json_object_put(o);
			break;
		}
		assert_true(n > 0);
		assert_string_equal(json_object_get_string(next), all->ids[all->n - 1]);
		snprintf(target, sizeof(target), "/circle?limit=1000&after=%s",
			 json_object_get_string(next));
		json_object_put(o);
		assert_true(++pages < 1000);
	}
}

static int
id_list_has(const struct id_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->ids[i], id) == 0)
			return 1;
	return 0;
}

static void
test_list(void **state)
{
	struct id_list all = {0};
	char ids[3][ID_LEN + 1], *n, target[160];
	json_object *circles, *o, *o2, *circles2;

	(void)state;
	for (int i = 0; i < 3; i++) {
		create_named("list", 5 + i, ids[i], &n);
		free(n);
	}
	list_all(&all);
	for (int i = 0; i < 3; i++)
		assert_true(id_list_has(&all, ids[i]));
	assert_true(all.n >= 3);

	/* A small page is the head of a big one from the same place. */
	snprintf(target, sizeof(target), "/circle?limit=2&after=%s", ids[0]);
	o = list_page(target, &circles);
	snprintf(target, sizeof(target), "/circle?limit=1000&after=%s", ids[0]);
	o2 = list_page(target, &circles2);
	assert_true(json_object_array_length(circles) <= 2);
	for (size_t i = 0; i < json_object_array_length(circles); i++) {
		json_object *c = json_object_array_get_idx(circles, i);

		assert_true(strcmp(jstr(c, "circle_id"), ids[0]) > 0);
		assert_string_equal(jstr(c, "circle_id"),
				    jstr(json_object_array_get_idx(circles2, i), "circle_id"));
	}
	if (json_object_array_length(circles2) > 2)
		assert_string_equal(jstr(o, "next_after"),
				    jstr(json_object_array_get_idx(circles, 1), "circle_id"));
	json_object_put(o);
	json_object_put(o2);

	/* The last page says so; after the last id there is nothing. */
	if (all.n >= 2) {
		snprintf(target, sizeof(target), "/circle?limit=1&after=%s", all.ids[all.n - 2]);
		o = list_page(target, &circles);
		if (json_object_array_length(circles) == 1 &&
		    strcmp(jstr(json_object_array_get_idx(circles, 0), "circle_id"),
			   all.ids[all.n - 1]) == 0)
			assert_true(json_object_is_type(member(o, "next_after"), json_type_null));
		json_object_put(o);
	}
	snprintf(target, sizeof(target), "/circle?after=ffffffff-ffff-ffff-ffff-ffffffffffff");
	o = list_page(target, &circles);
	assert_int_equal(json_object_array_length(circles), 0);
	assert_true(json_object_is_type(member(o, "next_after"), json_type_null));
	json_object_put(o);

	/* Default limit 100; unknown parameters ignored. */
	o = list_page("/circle", &circles);
	assert_true(json_object_array_length(circles) <= 100);
	json_object_put(o);
	o = list_page("/circle?limit=1&colour=red", &circles);
	assert_true(json_object_array_length(circles) <= 1);
	json_object_put(o);
	free(all.ids);
}

static void
test_list_bad_parameters(void **state)
{
	static const char *const bad_limit[] = {
		"limit=0",    "limit=1001", "limit=-1",  "limit=abc",
		"limit=1.5",  "limit=",     "limit=1e2", "limit=99999999999999999999",
		"limit=%201",
	};
	static const char *const bad_after[] = {
		"after=x",
		"after=",
		"after=00000000-0000-0000-0000-00000000000g",
		"after=00000000-0000-0000-0000-0000000000000",
	};
	struct http_response r;
	char target[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_limit) / sizeof(bad_limit[0]); i++) {
		snprintf(target, sizeof(target), "/circle?%s", bad_limit[i]);
		get(&r, target);
		if (r.status != 400)
			fail_msg("GET %s: %d", target, r.status);
		assert_problem_member(&r, 400, "invalid_parameter", "parameter", "limit");
		http_response_free(&r);
	}
	for (size_t i = 0; i < sizeof(bad_after) / sizeof(bad_after[0]); i++) {
		snprintf(target, sizeof(target), "/circle?%s", bad_after[i]);
		get(&r, target);
		if (r.status != 400)
			fail_msg("GET %s: %d", target, r.status);
		assert_problem_member(&r, 400, "invalid_parameter", "parameter", "after");
		http_response_free(&r);
	}
	get(&r, "/circle?limit=1000");
	assert_status(&r, 200);
	http_response_free(&r);
	get(&r, "/circle?limit=1");
	assert_status(&r, 200);
	http_response_free(&r);
}

static void
test_list_hides_deleted(void **state)
{
	struct http_response r;
	struct id_list all = {0};
	char id[ID_LEN + 1], *n, *p;
	const char *h[] = {"If-Match: \"1\"", NULL};

	(void)state;
	create_named("listdel", 5, id, &n);
	p = path_of(id);
	req(&r, "DELETE", p, h, NULL, 0);
	assert_status(&r, 204);
	http_response_free(&r);
	list_all(&all);
	assert_false(id_list_has(&all, id));
	free(all.ids);
	free(p);
	free(n);
}

/* ------------------------------------------------------------ update */

static void
test_update(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], *n, *n2, *b, *im;

	(void)state;
	create_named("upd", 10, id, &n);
	update_expect("PUT", id, "{\"capacity\":11,\"version\":1}", NULL, 200, &r);
	assert_circle_response(&r, 200, id, n, 11, 2);
	http_response_free(&r);

	update_expect("PATCH", id, "{\"capacity\":12,\"version\":2}", NULL, 200, &r);
	assert_circle_response(&r, 200, id, n, 12, 3);
	http_response_free(&r);

	im = if_match(3);
	update_expect("PUT", id, "{\"capacity\":13}", im, 200, &r);
	assert_circle_response(&r, 200, id, n, 13, 4);
	http_response_free(&r);
	free(im);

	n2 = uniq("upd2");
	b = xasprintf("{\"circle_name\":\"%s\"}", n2);
	im = if_match(4);
	update_expect("PATCH", id, b, im, 200, &r);
	assert_circle_response(&r, 200, id, n2, 13, 5);
	http_response_free(&r);
	free(im);
	free(b);

	/* Body version and If-Match that agree. */
	im = if_match(5);
	update_expect("PUT", id, "{\"capacity\":14,\"version\":5}", im, 200, &r);
	assert_circle_response(&r, 200, id, n2, 14, 6);
	http_response_free(&r);
	free(im);

	/* Both members at once. */
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":15,\"version\":6}", n);
	update_expect("PUT", id, b, NULL, 200, &r);
	assert_circle_response(&r, 200, id, n, 15, 7);
	http_response_free(&r);
	free(b);
	assert_int_equal(circle_version(id), 7);
	free(n2);
	free(n);
}

/*
 * Descriptions: carried by every answer when set and absent otherwise,
 * changed alone, removed with "", shown by the history and by a replayed
 * version, kept across snapshots and repeats under an Idempotency-Key; a bad
 * one is 400 invalid_field and changes nothing.
 */
static void
assert_description(const struct http_response *r, const char *want)
{
	json_object *o = body_json(r), *d = NULL;

	if (want == NULL) {
		assert_false(json_object_object_get_ex(o, "description", &d));
	} else {
		assert_true(json_object_object_get_ex(o, "description", &d));
		assert_true(json_object_is_type(d, json_type_string));
		assert_string_equal(json_object_get_string(d), want);
	}
	json_object_put(o);
}

/* A circle answer with exactly its five members, the description last. */
static void
assert_described_circle(const struct http_response *r, int status, const char *id, const char *name,
			int capacity, int version, const char *description)
{
	json_object *o;

	assert_status(r, status);
	assert_content_type(r, "application/json");
	assert_etag(r, version);
	o = body_json(r);
	assert_int_equal(json_object_object_length(o), 5);
	if (id)
		assert_string_equal(jstr(o, "circle_id"), id);
	assert_string_equal(jstr(o, "circle_name"), name);
	assert_int_equal(jint(o, "capacity"), capacity);
	assert_int_equal(jint(o, "version"), version);
	json_object_put(o);
	assert_description(r, description);
}

static void
get_described(const char *target, int status, const char *id, const char *name, int capacity,
	      int version, const char *description)
{
	struct http_response r;

	get(&r, target);
	if (description)
		assert_described_circle(&r, status, id, name, capacity, version, description);
	else
		assert_circle_response(&r, status, id, name, capacity, version);
	http_response_free(&r);
}

static void
test_descriptions(void **state)
{
	static const char *const bad[] = {
		"null",          "5",         "true",          "[\"x\"]",       "{}",
		"\"a\\u0001b\"", "\"a\\nb\"", "\"a\\u007fb\"", "\"a\\u0085b\"", "\"\\ud800\"",
		"\"x\\udc00\"",
	};
	struct http_response r;
	char id[ID_LEN + 1], *n, *b, *p, *long_desc, *max_desc, target[160];
	json_object *whole, *ev, *data, *d;
	const char *desc = "Tuesdays at 6, room \xe2\x80\x9c"
			   "101\xe2\x80\x9d \xf0\x9f\x8e\xb2";
	size_t i;

	(void)state;
	n = uniq("desc");
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":12,\"description\":\"%s\"}", n, desc);
	send_json(&r, "POST", "/circle", b, NULL);
	assert_described_circle(&r, 201, NULL, n, 12, 1, desc);
	{
		json_object *o = body_json(&r);

		memcpy(id, jstr(o, "circle_id"), ID_LEN + 1);
		json_object_put(o);
	}
	http_response_free(&r);
	free(b);
	p = path_of(id);
	get_described(p, 200, id, n, 12, 1, desc);

	/* only the description changed: a new version */
	update_expect("PATCH", id, "{\"description\":\"  Fridays  \",\"version\":1}", NULL, 200,
		      &r);
	assert_described_circle(&r, 200, id, n, 12, 2, "  Fridays  ");
	http_response_free(&r);
	/* the same value: no new version */
	update_expect("PUT", id, "{\"description\":\"  Fridays  \",\"version\":2}", NULL, 200, &r);
	assert_described_circle(&r, 200, id, n, 12, 2, "  Fridays  ");
	http_response_free(&r);
	/* other members leave it alone */
	update_expect("PUT", id, "{\"capacity\":13,\"version\":2}", NULL, 200, &r);
	assert_described_circle(&r, 200, id, n, 13, 3, "  Fridays  ");
	http_response_free(&r);
	/* "" removes it: no member at all */
	update_expect("PUT", id, "{\"description\":\"\",\"version\":3}", NULL, 200, &r);
	assert_circle_response(&r, 200, id, n, 13, 4);
	http_response_free(&r);
	get_described(p, 200, id, n, 13, 4, NULL);
	/* removing none is no change */
	update_expect("PATCH", id, "{\"description\":\"\",\"version\":4}", NULL, 200, &r);
	assert_circle_response(&r, 200, id, n, 13, 4);
	http_response_free(&r);

	/* bad descriptions: 400 naming the member, nothing changes */
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		b = xasprintf("{\"description\":%s,\"version\":4}", bad[i]);
		update_expect("PATCH", id, b, NULL, 400, &r);
		assert_problem_member(&r, 400, "invalid_field", "field", "description");
		http_response_free(&r);
		free(b);
	}
	long_desc = name_of_length(501, "x");
	b = xasprintf("{\"description\":\"%s\",\"version\":4}", long_desc);
	update_expect("PUT", id, b, NULL, 400, &r);
	assert_problem_member(&r, 400, "invalid_field", "field", "description");
	http_response_free(&r);
	free(b);
	get_described(p, 200, id, n, 13, 4, NULL);
	/* a create with a bad one creates nothing: its name stays free */
	{
		char *n2 = uniq("desc-bad");

		b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":3,\"description\":\"%s\"}", n2,
			      long_desc);
		send_json(&r, "POST", "/circle", b, NULL);
		assert_problem_member(&r, 400, "invalid_field", "field", "description");
		http_response_free(&r);
		free(b);
		b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":3,\"description\":\"\"}", n2);
		send_json(&r, "POST", "/circle", b, NULL);
		/* "" is no description: the answer has no member */
		assert_circle_response(&r, 201, NULL, n2, 3, 1);
		http_response_free(&r);
		free(b);
		free(n2);
	}
	/* 500 code points of four bytes fit */
	max_desc = name_of_length(500, "\xf0\x9f\x98\x80");
	b = xasprintf("{\"description\":\"%s\",\"version\":4}", max_desc);
	update_expect("PUT", id, b, NULL, 200, &r);
	assert_described_circle(&r, 200, id, n, 13, 5, max_desc);
	http_response_free(&r);
	free(b);

	/* past a snapshot (every 10 versions) the description is still there */
	for (int v = 5; v < 12; v++) {
		b = xasprintf("{\"capacity\":%d,\"version\":%d}", 20 + v, v);
		update_expect("PATCH", id, b, NULL, 200, &r);
		assert_described_circle(&r, 200, id, n, 20 + v, v + 1, max_desc);
		http_response_free(&r);
		free(b);
	}
	get_described(p, 200, id, n, 31, 12, max_desc);

	/* the history: created with it, changed, removed (""), set again */
	ev = history(id, &whole);
	assert_int_equal(json_object_array_length(ev), 12);
	data = member(json_object_array_get_idx(ev, 0), "data");
	assert_string_equal(jstr(data, "description"), desc);
	assert_int_equal(json_object_object_length(data), 4);
	data = member(json_object_array_get_idx(ev, 1), "data");
	assert_int_equal(json_object_object_length(data), 2);
	assert_string_equal(jstr(data, "description"), "  Fridays  ");
	data = member(json_object_array_get_idx(ev, 2), "data");
	assert_false(json_object_object_get_ex(data, "description", &d));
	data = member(json_object_array_get_idx(ev, 3), "data");
	assert_int_equal(json_object_object_length(data), 2);
	assert_string_equal(jstr(data, "description"), "");
	data = member(json_object_array_get_idx(ev, 4), "data");
	assert_string_equal(jstr(data, "description"), max_desc);
	json_object_put(whole);
	/* each version as it was */
	snprintf(target, sizeof(target), "%s/versions/1", p);
	get_described(target, 200, id, n, 12, 1, desc);
	snprintf(target, sizeof(target), "%s/versions/3", p);
	get_described(target, 200, id, n, 13, 3, "  Fridays  ");
	snprintf(target, sizeof(target), "%s/versions/4", p);
	get_described(target, 200, id, n, 13, 4, NULL);
	snprintf(target, sizeof(target), "%s/versions/11", p);
	get_described(target, 200, id, n, 30, 11, max_desc);

	/* the list carries it too */
	{
		snprintf(target, sizeof(target), "/circle?limit=1000");
		for (;;) {
			json_object *next = NULL, *o, *circles;
			bool found = false;

			get(&r, target);
			assert_status(&r, 200);
			o = body_json(&r);
			circles = member(o, "circles");
			for (i = 0; i < json_object_array_length(circles); i++) {
				json_object *c = json_object_array_get_idx(circles, i);

				if (strcmp(jstr(c, "circle_id"), id) == 0) {
					assert_string_equal(jstr(c, "description"), max_desc);
					found = true;
				} else if (json_object_object_get_ex(c, "description", &d)) {
					assert_true(json_object_get_string_len(d) > 0);
				}
			}
			assert_true(json_object_object_get_ex(o, "next_after", &next));
			http_response_free(&r);
			if (found || json_object_is_type(next, json_type_null)) {
				assert_true(found);
				json_object_put(o);
				break;
			}
			snprintf(target, sizeof(target), "/circle?limit=1000&after=%s",
				 json_object_get_string(next));
			json_object_put(o);
		}
	}

	/* a repeat under the same Idempotency-Key answers the same body */
	{
		char *n3 = uniq("desc-key"), *key = xasprintf("Idempotency-Key: %s", n3);

		b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":4,\"description\":\"keyed\"}",
			      n3);
		send_json(&r, "POST", "/circle", b, key);
		assert_described_circle(&r, 201, NULL, n3, 4, 1, "keyed");
		http_response_free(&r);
		send_json(&r, "POST", "/circle", b, key);
		assert_described_circle(&r, 201, NULL, n3, 4, 1, "keyed");
		http_response_free(&r);
		free(b);
		/* the same key with another description is another request */
		b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":4,\"description\":\"other\"}",
			      n3);
		send_json(&r, "POST", "/circle", b, key);
		expect_problem(&r, 422, "idempotency_key_reused");
		http_response_free(&r);
		free(b);
		free(key);
		free(n3);
	}
	free(max_desc);
	free(long_desc);
	free(p);
	free(n);
}

static void
test_update_preconditions(void **state)
{
	static const char *const bad_if_match[] = {
		"If-Match: 1",      "If-Match: W/\"1\"",      "If-Match: *",
		"If-Match: \"01\"", "If-Match: \"1\", \"2\"", "If-Match: \"\"",
		"If-Match: \"0\"",  "If-Match: \"-1\"",       "If-Match: \"1",
		"If-Match: \"x\"",  "If-Match: \"1.0\"",
	};
	struct http_response r;
	char id[ID_LEN + 1], *n;
	json_object *o;

	(void)state;
	create_named("pre", 10, id, &n);
	update_expect("PUT", id, "{\"capacity\":11,\"version\":1}", NULL, 200, &r);
	http_response_free(&r);

	update_expect("PUT", id, "{\"capacity\":12}", NULL, 428, &r);
	expect_problem(&r, 428, "precondition_required");
	http_response_free(&r);

	update_expect("PUT", id, "{\"capacity\":12,\"version\":1}", NULL, 409, &r);
	o = assert_problem(&r, 409, "version_mismatch");
	assert_int_equal(jint(o, "current_version"), 2);
	json_object_put(o);
	http_response_free(&r);

	update_expect("PATCH", id, "{\"capacity\":12}", "If-Match: \"7\"", 409, &r);
	o = assert_problem(&r, 409, "version_mismatch");
	assert_int_equal(jint(o, "current_version"), 2);
	json_object_put(o);
	http_response_free(&r);

	for (size_t i = 0; i < sizeof(bad_if_match) / sizeof(bad_if_match[0]); i++) {
		update_expect("PUT", id, "{\"capacity\":12}", bad_if_match[i], 400, &r);
		assert_problem_member(&r, 400, "invalid_header", "header", "If-Match");
		http_response_free(&r);
	}
	/* Two If-Match fields are a list too; nginx itself may refuse the
	 * duplicate before the worker sees it. */
	{
		char *p = path_of(id);

		send_json2(&r, "PUT", p, "{\"capacity\":12}", "If-Match: \"2\"", "If-Match: \"2\"");
		if (r.status == 400 && strstr(r.body, "\"bad_request\""))
			expect_problem(&r, 400, "bad_request");
		else
			assert_problem_member(&r, 400, "invalid_header", "header", "If-Match");
		http_response_free(&r);
		free(p);
	}

	update_expect("PUT", id, "{\"capacity\":12,\"version\":2}", "If-Match: \"1\"", 400, &r);
	assert_problem_member(&r, 400, "invalid_field", "field", "version");
	http_response_free(&r);

	/* version in the body must be a positive integer. */
	update_expect("PUT", id, "{\"capacity\":12,\"version\":\"2\"}", NULL, 400, &r);
	assert_problem_member(&r, 400, "invalid_field", "field", "version");
	http_response_free(&r);
	update_expect("PUT", id, "{\"capacity\":12,\"version\":2.0}", NULL, 400, &r);
	assert_problem_member(&r, 400, "invalid_field", "field", "version");
	http_response_free(&r);
	update_expect("PUT", id, "{\"capacity\":12,\"version\":null}", NULL, 400, &r);
	assert_problem_member(&r, 400, "invalid_field", "field", "version");
	http_response_free(&r);

	update_expect("PUT", id, "{\"version\":2}", NULL, 400, &r);
	expect_problem(&r, 400, "nothing_to_update");
	http_response_free(&r);
	update_expect("PUT", id, "{}", "If-Match: \"2\"", 400, &r);
	expect_problem(&r, 400, "nothing_to_update");
	http_response_free(&r);

	update_expect("PUT", id, "{\"capacity\":2,\"version\":2}", NULL, 400, &r);
	assert_problem_member(&r, 400, "invalid_field", "field", "capacity");
	http_response_free(&r);
	update_expect("PUT", id, "{\"circle_name\":\"\",\"version\":2}", NULL, 400, &r);
	assert_problem_member(&r, 400, "invalid_field", "field", "circle_name");
	http_response_free(&r);
	update_expect("PUT", id, "{\"circle_name\":null,\"version\":2}", NULL, 400, &r);
	assert_problem_member(&r, 400, "invalid_field", "field", "circle_name");
	http_response_free(&r);
	update_expect("PUT", id, "{\"capacity\":12,\"version\":2,\"x\":1}", NULL, 400, &r);
	assert_problem_member(&r, 400, "unknown_field", "field", "x");
	http_response_free(&r);

	{
		const char *h[] = {"Content-Type: text/plain", NULL};
		char *p = path_of(id);

		req(&r, "PUT", p, h, "{\"capacity\":12,\"version\":2}", 27);
		expect_problem(&r, 415, "unsupported_media_type");
		http_response_free(&r);
		free(p);
	}

	assert_int_equal(circle_version(id), 2);
	free(n);
}

static void
test_update_unchanged(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], *n, *b;
	json_object *whole, *ev;

	(void)state;
	create_named("same", 10, id, &n);
	update_expect("PUT", id, "{\"capacity\":10,\"version\":1}", NULL, 200, &r);
	assert_circle_response(&r, 200, id, n, 10, 1);
	http_response_free(&r);
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":10,\"version\":1}", n);
	update_expect("PATCH", id, b, NULL, 200, &r);
	assert_circle_response(&r, 200, id, n, 10, 1);
	http_response_free(&r);
	free(b);
	ev = history(id, &whole);
	assert_int_equal(json_object_array_length(ev), 1);
	json_object_put(whole);
	/* Only what changed is in the event. */
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":11,\"version\":1}", n);
	update_expect("PUT", id, b, NULL, 200, &r);
	assert_circle_response(&r, 200, id, n, 11, 2);
	http_response_free(&r);
	free(b);
	ev = history(id, &whole);
	assert_int_equal(json_object_array_length(ev), 2);
	{
		json_object *data = member(json_object_array_get_idx(ev, 1), "data");

		assert_int_equal(json_object_object_length(data), 2);
		assert_string_equal(jstr(data, "type"), "circle_updated");
		assert_int_equal(jint(data, "capacity"), 11);
	}
	json_object_put(whole);
	free(n);
}

static void
test_update_missing_circles(void **state)
{
	struct http_response r;
	const char *unknown = "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301";

	(void)state;
	send_json(&r, "PUT", unknown, "{\"capacity\":5,\"version\":1}", NULL);
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
	send_json(&r, "PUT", "/circle/nope", "{\"capacity\":5,\"version\":1}", NULL);
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	req(&r, "DELETE", unknown, (const char *[]){"If-Match: \"1\"", NULL}, NULL, 0);
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
	req(&r, "DELETE", "/circle/nope?version=1", NULL, NULL, 0);
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
}

/* The order of the checks: the first that fails answers. */
static void
test_check_order(void **state)
{
	struct http_response r;
	const char *unknown = "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301";
	char id[ID_LEN + 1], other[ID_LEN + 1], *n, *n2, *p, *b;

	(void)state;
	/* bad id before everything */
	{
		const char *h[] = {"Content-Type: text/plain", "If-Match: junk", NULL};

		req(&r, "PUT", "/circle/nope", h, "{{", 2);
		expect_problem(&r, 400, "invalid_circle_id");
		http_response_free(&r);
	}
	send_json(&r, "PUT", "/circle/nope", "{{", NULL);
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	/* media type before body */
	{
		const char *h[] = {"Content-Type: text/plain", NULL};

		req(&r, "PUT", unknown, h, "{{", 2);
		expect_problem(&r, 415, "unsupported_media_type");
		http_response_free(&r);
		req(&r, "POST", "/circle", h, "{{", 2);
		expect_problem(&r, 415, "unsupported_media_type");
		http_response_free(&r);
	}
	/* body before headers */
	send_json(&r, "PUT", unknown, "{{", "If-Match: junk");
	expect_problem(&r, 400, "invalid_json");
	http_response_free(&r);
	send_json(&r, "PUT", unknown, "{\"capacity\":1}", "If-Match: junk");
	assert_problem_member(&r, 400, "invalid_field", "field", "capacity");
	http_response_free(&r);
	/* headers before existence */
	send_json(&r, "PUT", unknown, "{\"capacity\":5}", "If-Match: junk");
	assert_problem_member(&r, 400, "invalid_header", "header", "If-Match");
	http_response_free(&r);
	send_json(&r, "PUT", unknown, "{\"capacity\":5,\"version\":2}", "If-Match: \"1\"");
	assert_problem_member(&r, 400, "invalid_field", "field", "version");
	http_response_free(&r);
	/* existence before the version's presence */
	send_json(&r, "PUT", unknown, "{\"capacity\":5}", NULL);
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
	/* the version's presence, then its match, then the name */
	create_named("order", 5, id, &n);
	create_named("order2", 5, other, &n2);
	p = path_of(id);
	b = xasprintf("{\"circle_name\":\"%s\"}", n2);
	send_json(&r, "PUT", p, b, NULL);
	expect_problem(&r, 428, "precondition_required");
	http_response_free(&r);
	send_json(&r, "PUT", p, b, "If-Match: \"9\"");
	expect_problem(&r, 409, "version_mismatch");
	http_response_free(&r);
	send_json(&r, "PUT", p, b, "If-Match: \"1\"");
	expect_problem(&r, 409, "duplicate_name");
	http_response_free(&r);
	free(b);
	/* queries: the id, then the parameters, then existence */
	get(&r, "/circle/nope/versions/x");
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	get(&r, "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301/versions/x");
	expect_problem(&r, 400, "invalid_parameter");
	http_response_free(&r);
	free(p);
	free(n);
	free(n2);
}

/* ------------------------------------------------------------ concurrency */

struct racer {
	pthread_barrier_t *start;
	const char *method, *target, *body;
	const char *headers[4];
	int status;
	char *body_out;
	int failed;
};

static void *
race(void *arg)
{
	struct racer *rc = arg;
	struct http_response r;
	struct http_request q = {
		.method = rc->method,
		.target = rc->target,
		.headers = rc->headers,
		.body = rc->body,
		.body_len = strlen(rc->body),
		.timeout_ms = 30000,
	};

	pthread_barrier_wait(rc->start);
	if (http_send(port, &q, &r) != 0) {
		rc->failed = 1;
		return NULL;
	}
	rc->status = r.status;
	rc->body_out = strdup(r.body);
	http_response_free(&r);
	return NULL;
}

/* Runs n copies of one request at once (each its own connection). */
static void
race_run(struct racer *rs, int n)
{
	pthread_t t[32];
	pthread_barrier_t start;

	assert_true(n <= 32);
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		rs[i].start = &start;
		assert_int_equal(pthread_create(&t[i], NULL, race, &rs[i]), 0);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < n; i++)
		if (rs[i].failed)
			fail_msg("racer %d got no answer", i);
}

static void
test_concurrent_updates(void **state)
{
	struct racer rs[20];
	char *bodies[20];
	char id[ID_LEN + 1], *n, *p;
	int ok = 0, conflict = 0, winner = -1;
	json_object *whole, *ev;

	(void)state;
	create_named("race", 5, id, &n);
	p = path_of(id);
	memset(rs, 0, sizeof(rs));
	for (int i = 0; i < 20; i++) {
		bodies[i] = xasprintf("{\"capacity\":%d,\"version\":1}", 100 + i);
		rs[i].method = "PUT";
		rs[i].target = p;
		rs[i].body = bodies[i];
		rs[i].headers[0] = CT_JSON;
	}
	race_run(rs, 20);
	for (int i = 0; i < 20; i++) {
		if (rs[i].status == 200) {
			ok++;
			winner = i;
		} else if (rs[i].status == 409 && strstr(rs[i].body_out, "version_mismatch")) {
			conflict++;
		} else {
			fail_msg("racer %d: %d %s", i, rs[i].status, rs[i].body_out);
		}
	}
	assert_int_equal(ok, 1);
	assert_int_equal(conflict, 19);
	assert_int_equal(circle_version(id), 2);
	ev = history(id, &whole);
	assert_int_equal(json_object_array_length(ev), 2);
	assert_int_equal(jint(member(json_object_array_get_idx(ev, 1), "data"), "capacity"),
			 100 + winner);
	json_object_put(whole);
	for (int i = 0; i < 20; i++) {
		free(bodies[i]);
		free(rs[i].body_out);
	}
	free(p);
	free(n);
}

/* ------------------------------------------------------------ history */

static void
assert_rfc3339_utc(const char *s)
{
	/* 2026-11-26T08:35:48[.fraction]Z */
	size_t n = strlen(s);
	static const char *const shape = "dddd-dd-ddTdd:dd:dd";

	assert_true(n >= 20);
	for (size_t i = 0; i < 19; i++) {
		if (shape[i] == 'd')
			assert_true(isdigit((unsigned char)s[i]));
		else
			assert_int_equal(s[i], shape[i]);
	}
	assert_int_equal(s[n - 1], 'Z');
	if (n > 20) {
		assert_int_equal(s[19], '.');
		for (size_t i = 20; i < n - 1; i++)
			assert_true(isdigit((unsigned char)s[i]));
	}
}

/* Checks an event's envelope and returns its data. */
static json_object *
check_event(json_object *e, int version, const char *type)
{
	json_object *data = member(e, "data");

	assert_true(is_lower_uuid(jstr(e, "event_id")));
	assert_int_equal(jint(e, "version"), version);
	assert_string_equal(jstr(e, "event_type"), type);
	assert_rfc3339_utc(jstr(e, "occurred_at"));
	assert_string_equal(jstr(data, "type"), type);
	return data;
}

static void
test_events_seed_example(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], rnd[13], *foot, *base, *b;
	json_object *whole, *ev, *d;

	(void)state;
	random_letters(rnd);
	foot = xasprintf("football %s", rnd);
	base = xasprintf("baseball %s", rnd);
	create(foot, 20, id);
	update_expect("PUT", id, "{\"capacity\":30,\"version\":1}", NULL, 200, &r);
	http_response_free(&r);
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":40,\"version\":2}", base);
	update_expect("PUT", id, b, NULL, 200, &r);
	assert_circle_response(&r, 200, id, base, 40, 3);
	http_response_free(&r);

	ev = history(id, &whole);
	assert_int_equal(json_object_array_length(ev), 3);
	d = check_event(json_object_array_get_idx(ev, 0), 1, "circle_created");
	assert_int_equal(json_object_object_length(d), 3);
	assert_string_equal(jstr(d, "name"), foot);
	assert_int_equal(jint(d, "capacity"), 20);
	d = check_event(json_object_array_get_idx(ev, 1), 2, "circle_updated");
	assert_int_equal(json_object_object_length(d), 2);
	assert_int_equal(jint(d, "capacity"), 30);
	d = check_event(json_object_array_get_idx(ev, 2), 3, "circle_updated");
	assert_int_equal(json_object_object_length(d), 3);
	assert_string_equal(jstr(d, "name"), base);
	assert_int_equal(jint(d, "capacity"), 40);
	/* distinct event ids, times in order */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			assert_string_not_equal(
				jstr(json_object_array_get_idx(ev, (size_t)i), "event_id"),
				jstr(json_object_array_get_idx(ev, (size_t)j), "event_id"));
	assert_true(strcmp(jstr(json_object_array_get_idx(ev, 0), "occurred_at"),
			   jstr(json_object_array_get_idx(ev, 2), "occurred_at")) <= 0);
	json_object_put(whole);

	get(&r, "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301/events");
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
	get(&r, "/circle/nope/events");
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	free(b);
	free(foot);
	free(base);
}

static void
test_history_and_versions(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], *n, target[128];
	json_object *whole, *ev;
	/* the state after each version: name index and capacity */
	int caps[52];
	char *names[52];
	static const char *const bad_n[] = {"0", "01", "x", "-1", "1.5", "%31", "1x", "+1", ""};

	(void)state;
	create_named("hist", 3, id, &n);
	caps[1] = 3;
	names[1] = strdup(n);
	for (int v = 1; v <= 50; v++) {
		char *b;

		if (v % 10 == 0) {
			char *nn = xasprintf("%s-%d", n, v);

			b = xasprintf("{\"circle_name\":\"%s\",\"version\":%d}", nn, v);
			names[v + 1] = nn;
			caps[v + 1] = caps[v];
		} else {
			caps[v + 1] = 3 + v;
			names[v + 1] = strdup(names[v]);
			b = xasprintf("{\"capacity\":%d,\"version\":%d}", caps[v + 1], v);
		}
		update_expect(v % 2 ? "PUT" : "PATCH", id, b, NULL, 200, &r);
		assert_circle_response(&r, 200, id, names[v + 1], caps[v + 1], v + 1);
		http_response_free(&r);
		free(b);
	}
	ev = history(id, &whole);
	assert_int_equal(json_object_array_length(ev), 51);
	for (int v = 1; v <= 51; v++) {
		json_object *e = json_object_array_get_idx(ev, (size_t)v - 1);

		check_event(e, v, v == 1 ? "circle_created" : "circle_updated");
	}
	json_object_put(whole);

	for (int v = 1; v <= 51; v++) {
		snprintf(target, sizeof(target), "/circle/%s/versions/%d", id, v);
		get(&r, target);
		assert_status(&r, 200);
		assert_content_type(&r, "application/json");
		{
			json_object *o = body_json(&r);

			assert_circle_obj(o, id, names[v], caps[v], v);
			json_object_put(o);
		}
		http_response_free(&r);
	}
	snprintf(target, sizeof(target), "/circle/%s/versions/52", id);
	get(&r, target);
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
	snprintf(target, sizeof(target), "/circle/%s/versions/99999999999999999999", id);
	get(&r, target);
	assert_true(r.status == 404 || r.status == 400);
	http_response_free(&r);
	for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		snprintf(target, sizeof(target), "/circle/%s/versions/%s", id, bad_n[i]);
		get(&r, target);
		if (bad_n[i][0] == '\0') {
			/* /versions/ names no version: no such path or a bad one */
			assert_true(r.status == 404 || r.status == 400);
		} else {
			if (r.status != 400)
				fail_msg("GET %s: %d", target, r.status);
			expect_problem(&r, 400, "invalid_parameter");
		}
		http_response_free(&r);
	}
	get(&r, "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301/versions/1");
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
	get(&r, "/circle/nope/versions/1");
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	for (int v = 1; v <= 51; v++)
		free(names[v]);
	free(n);
}

/* ------------------------------------------------------------ history pages */

/* One page of the history: its versions must run from..to; next_after as given (0: null). */
static void
expect_page(const char *id, const char *query, int from, int to, int next_after)
{
	struct http_response r;
	char *t = xasprintf("/circle/%s/events%s%s", id, *query ? "?" : "", query);
	json_object *o, *ev, *next;
	size_t n;

	get(&r, t);
	if (r.status != 200)
		fail_msg("GET %s: %d %s", t, r.status, r.body);
	assert_content_type(&r, "application/json");
	o = body_json(&r);
	assert_string_equal(jstr(o, "circle_id"), id);
	ev = member(o, "events");
	assert_true(json_object_is_type(ev, json_type_array));
	n = json_object_array_length(ev);
	if (n != (size_t)(to >= from ? to - from + 1 : 0))
		fail_msg("GET %s: %zu events, want %d..%d", t, n, from, to);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(jint(json_object_array_get_idx(ev, i), "version"), from + (int)i);
	assert_true(json_object_object_get_ex(o, "next_after", &next));
	if (next_after == 0) {
		if (next != NULL)
			fail_msg("GET %s: next_after %s, want null", t,
				 json_object_to_json_string(next));
	} else {
		assert_true(json_object_is_type(next, json_type_int));
		assert_int_equal(json_object_get_int64(next), next_after);
	}
	json_object_put(o);
	http_response_free(&r);
	free(t);
}

static void
test_history_pages(void **state)
{
	static const char *const bad[][2] = {
		{"after=-1", "after"},        {"after=01", "after"},   {"after=x", "after"},
		{"after=", "after"},          {"after=1.0", "after"},  {"after=1&after=2", "after"},
		{"limit=0", "limit"},         {"limit=1001", "limit"}, {"limit=abc", "limit"},
		{"limit=1.5", "limit"},       {"limit=", "limit"},     {"limit=010", "limit"},
		{"limit=5&limit=5", "limit"},
	};
	struct http_response r;
	char id[ID_LEN + 1], *t, *name = uniq("pages");

	(void)state;
	create(name, 3, id);
	free(name);
	for (int v = 1; v < 25; v++) {
		char *b = xasprintf("{\"capacity\":%d,\"version\":%d}", 3 + v, v);
		update_expect("PUT", id, b, NULL, 200, &r);
		http_response_free(&r);
		free(b);
	}
	/* the default page holds the whole short history */
	expect_page(id, "", 1, 25, 0);
	expect_page(id, "after=0", 1, 25, 0);
	/* pages of 10: next_after is the last version returned while more follow */
	expect_page(id, "limit=10", 1, 10, 10);
	expect_page(id, "after=10&limit=10", 11, 20, 20);
	expect_page(id, "after=20&limit=10", 21, 25, 0);
	/* a page that ends exactly at the last event: nothing follows */
	expect_page(id, "limit=25", 1, 25, 0);
	expect_page(id, "after=24&limit=1", 25, 25, 0);
	expect_page(id, "limit=1", 1, 1, 1);
	expect_page(id, "limit=1000", 1, 25, 0);
	/* past the end: an empty last page */
	expect_page(id, "after=25", 0, -1, 0);
	expect_page(id, "after=4294967296", 0, -1, 0);
	expect_page(id, "after=99999999999999999999999", 0, -1, 0);
	/* unknown parameters are ignored */
	expect_page(id, "foo=bar&limit=5", 1, 5, 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = xasprintf("/circle/%s/events?%s", id, bad[i][0]);
		get(&r, t);
		if (r.status != 400)
			fail_msg("GET %s: %d %s", t, r.status, r.body);
		assert_problem_member(&r, 400, "invalid_parameter", "parameter", bad[i][1]);
		http_response_free(&r);
		free(t);
	}
	/* the id first, then the parameters, then existence */
	get(&r, "/circle/nope/events?limit=0");
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	get(&r, "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301/events?limit=0");
	assert_problem_member(&r, 400, "invalid_parameter", "parameter", "limit");
	http_response_free(&r);
	get(&r, "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301/events?after=5");
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
	/* HEAD: the same status and headers, no body */
	t = xasprintf("/circle/%s/events?limit=2", id);
	req(&r, "HEAD", t, NULL, NULL, 0);
	assert_status(&r, 200);
	assert_int_equal(r.body_len, 0);
	http_response_free(&r);
	free(t);
	/* a deleted circle's pages go on to the delete */
	t = xasprintf("/circle/%s?version=25", id);
	req(&r, "DELETE", t, NULL, NULL, 0);
	assert_status(&r, 204);
	http_response_free(&r);
	free(t);
	expect_page(id, "after=20&limit=5", 21, 25, 25);
	expect_page(id, "after=25&limit=5", 26, 26, 0);
}

/* ------------------------------------------------------------ contract edges */

static void
test_edges_nginx(void **state)
{
	static const struct {
		const char *path, *allow;
	} trace[] = {
		{"/version", "GET, HEAD"},
		{"/health", "GET, HEAD"},
		{"/circle", "GET, HEAD, POST"},
		{"/circle?limit=5", "GET, HEAD, POST"},
		{"/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301", "GET, HEAD, PUT, PATCH, DELETE"},
		{"/circle/nope", "GET, HEAD, PUT, PATCH, DELETE"},
		{"/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301/events", "GET, HEAD"},
		{"/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301/versions/1", "GET, HEAD"},
	};
	static const char *const versions[] = {"HTTP/2.0", "HTTP/3.0", "HTTP/1.2"};
	struct http_response r;

	(void)state;
	/* a Transfer-Encoding nginx does not implement */
	{
		static const char raw[] = "POST /circle HTTP/1.1\r\nHost: x\r\nContent-Type: "
					  "application/json\r\nTransfer-Encoding: gzip\r\n\r\n";

		assert_int_equal(http_send_raw(port, raw, sizeof(raw) - 1, 0, 10000, &r), 0);
		expect_problem(&r, 501, "not_implemented");
		http_response_free(&r);
	}
	/* an HTTP version nginx does not speak (HTTP/1.2 it takes as 1.1) */
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		char *raw = xasprintf("GET /version %s\r\nHost: x\r\nConnection: close\r\n\r\n",
				      versions[i]);

		assert_int_equal(http_send_raw(port, raw, strlen(raw), 0, 10000, &r), 0);
		if (r.status == 505)
			expect_problem(&r, 505, "http_version_not_supported");
		else if (strcmp(versions[i], "HTTP/1.2") != 0)
			fail_msg("%s: %d %s", versions[i], r.status, r.body);
		http_response_free(&r);
		free(raw);
	}
	/* TRACE: nginx refuses it itself, with the path's Allow */
	for (size_t i = 0; i < sizeof(trace) / sizeof(trace[0]); i++) {
		const char *allow;

		req(&r, "TRACE", trace[i].path, NULL, NULL, 0);
		if (r.status != 405)
			fail_msg("TRACE %s: %d %s", trace[i].path, r.status, r.body);
		expect_problem(&r, 405, "method_not_allowed");
		allow = http_header(&r, "Allow");
		if (!allow || strcmp(allow, trace[i].allow) != 0)
			fail_msg("TRACE %s: Allow \"%s\", want \"%s\"", trace[i].path,
				 allow ? allow : "(none)", trace[i].allow);
		http_response_free(&r);
	}
	/* ... and the worker's Allow for another method is the same */
	req(&r, "OPTIONS", "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301", NULL, NULL, 0);
	expect_problem(&r, 405, "method_not_allowed");
	assert_string_equal(http_header(&r, "Allow"), "GET, HEAD, PUT, PATCH, DELETE");
	http_response_free(&r);
	req(&r, "TRACE", "/nope", NULL, NULL, 0);
	expect_problem(&r, 404, "not_found");
	http_response_free(&r);
	/* an encoded NUL inside a circle id is a malformed id like any other */
	get(&r, "/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301%00");
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	get(&r, "/circle/3f2504e0%00-4f89-41d3-9a0c-0305e82c3301/events");
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	get(&r, "/circle/%00/versions/1");
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	send_json(&r, "PUT", "/circle/abc%00def", "{\"capacity\":5,\"version\":1}", NULL);
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
	req(&r, "DELETE", "/circle/%00", NULL, NULL, 0);
	expect_problem(&r, 400, "invalid_circle_id");
	http_response_free(&r);
}

static void
test_edges_headers(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], *name = uniq("twokeys"), *b = create_body(name, 5), *p;
	char *key = xasprintf("Idempotency-Key: %s", name);

	(void)state;
	/* a repeated Idempotency-Key, the same value or two: 400, nothing created */
	send_json2(&r, "POST", "/circle", b, key, key);
	assert_problem_member(&r, 400, "invalid_header", "header", "Idempotency-Key");
	http_response_free(&r);
	send_json2(&r, "POST", "/circle", b, key, "Idempotency-Key: other");
	assert_problem_member(&r, 400, "invalid_header", "header", "Idempotency-Key");
	http_response_free(&r);
	send_json(&r, "POST", "/circle", b, key);
	assert_status(&r, 201);
	http_response_free(&r);
	free(b);
	/* versions too large to hold: two different ones disagree (400), two
	 * equal ones are merely another version (409) */
	free(name);
	name = uniq("huge");
	create(name, 5, id);
	p = path_of(id);
	send_json(&r, "PUT", p, "{\"capacity\":6,\"version\":99999999999999999999999}",
		  "If-Match: \"99999999999999999999998\"");
	assert_problem_member(&r, 400, "invalid_field", "field", "version");
	http_response_free(&r);
	send_json(&r, "PATCH", p, "{\"capacity\":6,\"version\":18446744073709551616}",
		  "If-Match: \"18446744073709551617\"");
	assert_problem_member(&r, 400, "invalid_field", "field", "version");
	http_response_free(&r);
	send_json(&r, "PUT", p, "{\"capacity\":6,\"version\":99999999999999999999999}",
		  "If-Match: \"99999999999999999999999\"");
	expect_problem(&r, 409, "version_mismatch");
	http_response_free(&r);
	{
		char *t = xasprintf("%s?version=99999999999999999999999", p);
		const char *h[] = {"If-Match: \"99999999999999999999998\"", NULL};

		req(&r, "DELETE", t, h, NULL, 0);
		assert_problem_member(&r, 400, "invalid_field", "field", "version");
		http_response_free(&r);
		free(t);
	}
	assert_int_equal(circle_version(id), 1);
	free(p);
	free(key);
	free(name);
}

/* The per-client rate limit: a burst from one client address is answered
 * 429 once it is spent; other clients are not held back. Requests from
 * 127.0.0.1, as every other test sends them, are not counted at all. */
/* Connections open at once from one client address: more than the burst
 * the shipped limit lets through (100). */
#define RATE_BURST_CONNECTIONS 250

/* A connection from src to nginx with req sent on it; -1 when it failed. */
static int
send_from(const char *src, const char *raw)
{
	struct sockaddr_in sa;
	struct timeval tv = {30, 0};
	size_t len = strlen(raw), off = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, src, &sa.sin_addr) != 1 ||
	    bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	while (off < len) {
		ssize_t n = send(fd, raw + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Reads the whole answer on fd (until nginx closes) into a new string. */
static char *
read_answer(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	while ((n = recv(fd, buf + len, cap - len - 1, 0)) > 0) {
		len += (size_t)n;
		if (cap - len < 512) {
			char *more = realloc(buf, cap * 2);

			assert_non_null(more);
			buf = more;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

/*
 * The per-client rate limit: a burst of requests from one client address,
 * all sent before any answer is read (so the workers' speed does not
 * matter), is answered 429 past the burst nginx lets through, with
 * Retry-After and a problem body; other clients are not held back.
 * Requests from 127.0.0.1, as every other test sends them, are not counted.
 */
static void
test_rate_limit(void **state)
{
	static const char raw[] = "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static int fds[RATE_BURST_CONNECTIONS];
	int ok = 0, limited = 0, i;
	struct http_response r;

	(void)state;
	for (i = 0; i < RATE_BURST_CONNECTIONS; i++) {
		fds[i] = send_from("127.0.0.2", raw);
		if (fds[i] < 0)
			fail_msg("cannot send from 127.0.0.2 (connection %d)", i);
	}
	for (i = 0; i < RATE_BURST_CONNECTIONS; i++) {
		char *a = read_answer(fds[i]);

		if (strncmp(a, "HTTP/1.1 200 ", 13) == 0) {
			ok++;
		} else if (strncmp(a, "HTTP/1.1 429 ", 13) == 0) {
			limited++;
			if (!strcasestr(a, "\r\nRetry-After: 1\r\n") ||
			    !strcasestr(a, "\r\nContent-Type: application/problem+json") ||
			    !strstr(a, "\"code\":\"rate_limited\"") || !strstr(a, "\"status\":429"))
				fail_msg("a 429 without Retry-After or problem body: %s", a);
		} else {
			fail_msg("answer %d of the burst: %.200s", i, a);
		}
		free(a);
	}
	printf("  a burst of %d from 127.0.0.2: %d answered, %d limited (429)\n",
	       RATE_BURST_CONNECTIONS, ok, limited);
	assert_true(ok >= 100);
	assert_true(limited > 0);
	/* the same burst, one request after another, from 127.0.0.1: never limited */
	for (i = 0; i < RATE_BURST_CONNECTIONS; i++) {
		get(&r, "/version");
		assert_status(&r, 200);
		http_response_free(&r);
	}
}

/* ------------------------------------------------------------ delete */

static void
test_delete(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], id2[ID_LEN + 1], *n, *p, target[128];
	json_object *whole, *ev, *d, *o;

	(void)state;
	create_named("del", 5, id, &n);
	p = path_of(id);
	update_expect("PUT", id, "{\"capacity\":6,\"version\":1}", NULL, 200, &r);
	http_response_free(&r);

	req(&r, "DELETE", p, NULL, NULL, 0);
	expect_problem(&r, 428, "precondition_required");
	http_response_free(&r);
	req(&r, "DELETE", p, (const char *[]){"If-Match: \"1\"", NULL}, NULL, 0);
	o = assert_problem(&r, 409, "version_mismatch");
	assert_int_equal(jint(o, "current_version"), 2);
	json_object_put(o);
	http_response_free(&r);
	req(&r, "DELETE", p, (const char *[]){"If-Match: W/\"2\"", NULL}, NULL, 0);
	assert_problem_member(&r, 400, "invalid_header", "header", "If-Match");
	http_response_free(&r);

	req(&r, "DELETE", p, (const char *[]){"If-Match: \"2\"", NULL}, NULL, 0);
	assert_status(&r, 204);
	assert_int_equal(r.wire_body_len, 0);
	http_response_free(&r);

	get(&r, p);
	expect_problem(&r, 410, "gone");
	http_response_free(&r);
	send_json(&r, "PUT", p, "{\"capacity\":7,\"version\":3}", NULL);
	expect_problem(&r, 410, "gone");
	http_response_free(&r);
	req(&r, "DELETE", p, (const char *[]){"If-Match: \"3\"", NULL}, NULL, 0);
	expect_problem(&r, 410, "gone");
	http_response_free(&r);

	ev = history(id, &whole);
	assert_int_equal(json_object_array_length(ev), 3);
	d = check_event(json_object_array_get_idx(ev, 2), 3, "circle_deleted");
	assert_int_equal(json_object_object_length(d), 1);
	json_object_put(whole);

	snprintf(target, sizeof(target), "/circle/%s/versions/3", id);
	get(&r, target);
	expect_problem(&r, 410, "gone");
	http_response_free(&r);
	snprintf(target, sizeof(target), "/circle/%s/versions/2", id);
	get(&r, target);
	assert_status(&r, 200);
	http_response_free(&r);

	/* The name is free again. */
	create(n, 9, id2);
	assert_string_not_equal(id, id2);
	free(p);
	free(n);
}

static void
test_delete_query_version(void **state)
{
	static const char *const bad[] = {"01", "abc", "0", "-1", "", "1.0", "1x"};
	struct http_response r;
	char id[ID_LEN + 1], *n, target[160];

	(void)state;
	create_named("delq", 5, id, &n);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(target, sizeof(target), "/circle/%s?version=%s", id, bad[i]);
		req(&r, "DELETE", target, NULL, NULL, 0);
		if (r.status != 400)
			fail_msg("DELETE %s: %d %s", target, r.status, r.body);
		assert_problem_member(&r, 400, "invalid_parameter", "parameter", "version");
		http_response_free(&r);
	}
	snprintf(target, sizeof(target), "/circle/%s?version=2", id);
	req(&r, "DELETE", target, NULL, NULL, 0);
	expect_problem(&r, 409, "version_mismatch");
	http_response_free(&r);
	/* ?version and If-Match disagreeing is a 400 */
	snprintf(target, sizeof(target), "/circle/%s?version=1", id);
	req(&r, "DELETE", target, (const char *[]){"If-Match: \"2\"", NULL}, NULL, 0);
	assert_status(&r, 400);
	assert_content_type(&r, "application/problem+json");
	http_response_free(&r);
	req(&r, "DELETE", target, NULL, NULL, 0);
	assert_status(&r, 204);
	http_response_free(&r);
	snprintf(target, sizeof(target), "/circle/%s", id);
	get(&r, target);
	expect_problem(&r, 410, "gone");
	http_response_free(&r);
	free(n);
}

/* ------------------------------------------------------------ idempotency */

static char *
idem_header(const char *key)
{
	return xasprintf("Idempotency-Key: %s", key);
}

static void
test_idempotency(void **state)
{
	struct http_response r1, r2;
	char *n = uniq("idem"), *key = uniq("key-"), *h = idem_header(key), *b, *b2, *b3;
	json_object *o1, *o2, *whole, *ev;
	const char *id;

	(void)state;
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":8}", n);
	send_json(&r1, "POST", "/circle", b, h);
	assert_circle_response(&r1, 201, NULL, n, 8, 1);
	o1 = body_json(&r1);
	id = jstr(o1, "circle_id");

	send_json(&r2, "POST", "/circle", b, h);
	assert_circle_response(&r2, 201, id, n, 8, 1);
	assert_string_equal(http_header(&r2, "Location"), http_header(&r1, "Location"));
	http_response_free(&r2);

	/* The same JSON value, reordered and respaced. */
	b2 = xasprintf("  {\n \"capacity\" : 8 ,\t\"circle_name\":\"%s\" }  ", n);
	send_json(&r2, "POST", "/circle", b2, h);
	assert_circle_response(&r2, 201, id, n, 8, 1);
	o2 = body_json(&r2);
	assert_true(json_object_equal(o1, o2));
	json_object_put(o2);
	http_response_free(&r2);

	b3 = xasprintf("{\"circle_name\":\"%s\",\"capacity\":9}", n);
	send_json(&r2, "POST", "/circle", b3, h);
	expect_problem(&r2, 422, "idempotency_key_reused");
	http_response_free(&r2);

	ev = history(id, &whole);
	assert_int_equal(json_object_array_length(ev), 1);
	json_object_put(whole);

	json_object_put(o1);
	http_response_free(&r1);
	free(b);
	free(b2);
	free(b3);
	free(h);
	free(key);
	free(n);
}

static void
test_idempotency_refused_then_retried(void **state)
{
	struct http_response r;
	char *n = uniq("idemretry"), *key = uniq("k"), *h = idem_header(key), *b;

	(void)state;
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":1}", n);
	send_json(&r, "POST", "/circle", b, h);
	assert_problem_member(&r, 400, "invalid_field", "field", "capacity");
	http_response_free(&r);
	free(b);
	b = xasprintf("{\"circle_name\":\"%s\",\"capacity\":4}", n);
	send_json(&r, "POST", "/circle", b, h);
	assert_circle_response(&r, 201, NULL, n, 4, 1);
	http_response_free(&r);
	free(b);
	free(h);
	free(key);
	free(n);
}

static void
test_idempotency_key_syntax(void **state)
{
	struct http_response r;
	char *n = uniq("idemkey"), *b = create_body(n, 5), *h;
	char longkey[300];

	(void)state;
	static const char *const bad[] = {
		"Idempotency-Key: ",
		"Idempotency-Key: a b",
		"Idempotency-Key: caf\xc3\xa9",
		"Idempotency-Key: a\x7f",
		"Idempotency-Key: tab\there",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_json(&r, "POST", "/circle", b, bad[i]);
		if (r.status != 400)
			fail_msg("%s: %d %s", bad[i], r.status, r.body);
		assert_problem_member(&r, 400, "invalid_header", "header", "Idempotency-Key");
		http_response_free(&r);
	}
	memset(longkey, 'k', 256);
	longkey[256] = '\0';
	h = idem_header(longkey);
	send_json(&r, "POST", "/circle", b, h);
	assert_problem_member(&r, 400, "invalid_header", "header", "Idempotency-Key");
	http_response_free(&r);
	free(h);
	/* 255 visible characters is the longest key. */
	random_letters(longkey);
	memset(longkey + 12, '~', 255 - 12);
	longkey[255] = '\0';
	h = idem_header(longkey);
	send_json(&r, "POST", "/circle", b, h);
	assert_circle_response(&r, 201, NULL, n, 5, 1);
	http_response_free(&r);
	free(h);
	free(b);
	free(n);
}

static void
test_idempotency_concurrent(void **state)
{
	struct racer rs[10];
	char *n = uniq("idemrace"), *key = uniq("race-"), *h = idem_header(key),
	     *b = create_body(n, 6);
	json_object *first = NULL, *whole, *ev;
	struct http_response r;

	(void)state;
	memset(rs, 0, sizeof(rs));
	for (int i = 0; i < 10; i++) {
		rs[i].method = "POST";
		rs[i].target = "/circle";
		rs[i].body = b;
		rs[i].headers[0] = CT_JSON;
		rs[i].headers[1] = h;
	}
	race_run(rs, 10);
	for (int i = 0; i < 10; i++) {
		struct http_response fake = {.body = rs[i].body_out,
					     .body_len = strlen(rs[i].body_out)};
		json_object *o;

		if (rs[i].status != 201)
			fail_msg("racer %d: %d %s", i, rs[i].status, rs[i].body_out);
		o = body_json(&fake);
		if (!first)
			first = o;
		else {
			assert_true(json_object_equal(first, o));
			json_object_put(o);
		}
	}
	ev = history(jstr(first, "circle_id"), &whole);
	assert_int_equal(json_object_array_length(ev), 1);
	json_object_put(whole);
	/* Only one circle has that name. */
	send_json(&r, "POST", "/circle", b, NULL);
	expect_problem(&r, 409, "duplicate_name");
	http_response_free(&r);
	json_object_put(first);
	for (int i = 0; i < 10; i++)
		free(rs[i].body_out);
	free(b);
	free(h);
	free(key);
	free(n);
}

/* How many events a circle's history holds. */
static size_t
event_count(const char *id)
{
	json_object *whole, *ev = history(id, &whole);
	size_t n = json_object_array_length(ev);

	json_object_put(whole);
	return n;
}

/* Sends a keyed write and returns its answer in *r (which the caller frees). */
static void
keyed(struct http_response *r, const char *method, const char *target, const char *body,
      const char *key, const char *extra)
{
	char *h = idem_header(key);
	const char *hs[] = {CT_JSON, h, extra, NULL};

	req(r, method, target, hs, body, body ? strlen(body) : 0);
	free(h);
}

/* Two answers are the same answer: status, ETag, body. */
static void
assert_same_answer(const struct http_response *a, const struct http_response *b)
{
	const char *ea = http_header(a, "ETag"), *eb = http_header(b, "ETag");

	assert_int_equal(a->status, b->status);
	if ((ea == NULL) != (eb == NULL) || (ea && strcmp(ea, eb) != 0))
		fail_msg("ETag %s, then %s", ea ? ea : "(none)", eb ? eb : "(none)");
	assert_int_equal(a->body_len, b->body_len);
	if (a->body_len > 0)
		assert_memory_equal(a->body, b->body, a->body_len);
}

static void
test_idempotency_put_patch_delete(void **state)
{
	struct http_response r1, r2;
	char id[ID_LEN + 1], *p, *k1 = uniq("put-"), *k2 = uniq("patch-"), *k3 = uniq("same-"),
				 *k4 = uniq("del-"), *k5 = uniq("refused-"), *im, *nm;

	(void)state;
	create_named("idemput", 10, id, &nm);
	free(nm);
	p = path_of(id);

	/* PUT: the repeat answers the first answer again, nothing appended */
	keyed(&r1, "PUT", p, "{\"capacity\": 11, \"version\": 1}", k1, NULL);
	assert_status(&r1, 200);
	assert_etag(&r1, 2);
	keyed(&r2, "PUT", p, " {\"version\":1,\n\"capacity\":11} ", k1, NULL);
	assert_same_answer(&r1, &r2);
	http_response_free(&r2);
	assert_int_equal(event_count(id), 2);
	/* the same key with another request: another body, method, If-Match
	 * in place of the body's version, another path */
	keyed(&r2, "PUT", p, "{\"capacity\": 12, \"version\": 1}", k1, NULL);
	expect_problem(&r2, 422, "idempotency_key_reused");
	http_response_free(&r2);
	keyed(&r2, "PATCH", p, "{\"capacity\": 11, \"version\": 1}", k1, NULL);
	expect_problem(&r2, 422, "idempotency_key_reused");
	http_response_free(&r2);
	im = if_match(1);
	keyed(&r2, "PUT", p, "{\"capacity\": 11}", k1, im);
	expect_problem(&r2, 422, "idempotency_key_reused");
	http_response_free(&r2);
	free(im);
	keyed(&r2, "DELETE", p, NULL, k1, "If-Match: \"2\"");
	expect_problem(&r2, 422, "idempotency_key_reused");
	http_response_free(&r2);
	keyed(&r2, "POST", "/circle", "{\"circle_name\": \"idem-x\", \"capacity\": 11}", k1, NULL);
	expect_problem(&r2, 422, "idempotency_key_reused");
	http_response_free(&r2);
	http_response_free(&r1);
	assert_int_equal(circle_version(id), 2);

	/* PATCH, and its repeat after the circle moved on: still the first answer */
	im = if_match(2);
	keyed(&r1, "PATCH", p, "{\"capacity\": 13}", k2, im);
	assert_status(&r1, 200);
	assert_etag(&r1, 3);
	update_expect("PUT", id, "{\"capacity\": 14, \"version\": 3}", NULL, 200, &r2);
	http_response_free(&r2);
	keyed(&r2, "PATCH", p, "{\"capacity\": 13}", k2, im);
	assert_same_answer(&r1, &r2);
	http_response_free(&r2);
	http_response_free(&r1);
	free(im);
	assert_int_equal(event_count(id), 4);

	/* an update that changes nothing is remembered with its answer too */
	keyed(&r1, "PUT", p, "{\"capacity\": 14, \"version\": 4}", k3, NULL);
	assert_status(&r1, 200);
	assert_etag(&r1, 4);
	keyed(&r2, "PUT", p, "{\"capacity\": 14, \"version\": 4}", k3, NULL);
	assert_same_answer(&r1, &r2);
	http_response_free(&r2);
	http_response_free(&r1);
	assert_int_equal(event_count(id), 4);

	/* only successes are remembered: a refused write frees its key */
	keyed(&r1, "PUT", p, "{\"capacity\": 15, \"version\": 1}", k5, NULL);
	expect_problem(&r1, 409, "version_mismatch");
	http_response_free(&r1);
	keyed(&r1, "PUT", p, "{\"capacity\": 15, \"version\": 4}", k5, NULL);
	assert_status(&r1, 200);
	assert_etag(&r1, 5);
	http_response_free(&r1);

	/* DELETE: 204 again, nothing appended; ?version is part of the request */
	im = if_match(5);
	keyed(&r1, "DELETE", p, NULL, k4, im);
	assert_int_equal(r1.status, 204);
	keyed(&r2, "DELETE", p, NULL, k4, im);
	assert_same_answer(&r1, &r2);
	http_response_free(&r2);
	http_response_free(&r1);
	free(im);
	{
		char *q = xasprintf("%s?version=5", p);

		keyed(&r2, "DELETE", q, NULL, k4, NULL);
		expect_problem(&r2, 422, "idempotency_key_reused");
		http_response_free(&r2);
		free(q);
	}
	assert_int_equal(event_count(id), 6);

	free(p);
	free(k1);
	free(k2);
	free(k3);
	free(k4);
	free(k5);
}

/* Keyed PUTs racing with one key: every one answers the one update. */
static void
test_idempotency_put_concurrent(void **state)
{
	struct racer rs[10];
	char id[ID_LEN + 1], *p, *key = uniq("putrace-"), *h = idem_header(key);
	const char *b = "{\"capacity\": 21, \"version\": 1}";
	char *first = NULL, *nm;

	(void)state;
	create_named("idemputrace", 20, id, &nm);
	free(nm);
	p = path_of(id);
	memset(rs, 0, sizeof(rs));
	for (int i = 0; i < 10; i++) {
		rs[i].method = "PUT";
		rs[i].target = p;
		rs[i].body = b;
		rs[i].headers[0] = CT_JSON;
		rs[i].headers[1] = h;
	}
	race_run(rs, 10);
	for (int i = 0; i < 10; i++) {
		if (rs[i].status != 200)
			fail_msg("racer %d: %d %s", i, rs[i].status, rs[i].body_out);
		if (first == NULL)
			first = rs[i].body_out;
		else
			assert_string_equal(first, rs[i].body_out);
	}
	assert_non_null(strstr(first, "\"version\":2"));
	assert_int_equal(event_count(id), 2);
	assert_int_equal(circle_version(id), 2);
	for (int i = 0; i < 10; i++)
		free(rs[i].body_out);
	free(p);
	free(h);
	free(key);
}

/* ------------------------------------------------------------ HEAD */

/* HEAD answers GET's status and headers, with no body. */
static void
head_matches_get(const char *target)
{
	struct http_response g, h;
	const char *const keys[] = {"Content-Type", "ETag", "Allow", "Location"};
	char len[32];

	get(&g, target);
	req(&h, "HEAD", target, NULL, NULL, 0);
	if (h.status != g.status)
		fail_msg("HEAD %s: %d, GET: %d", target, h.status, g.status);
	assert_int_equal(h.wire_body_len, 0);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *a = http_header(&g, keys[i]), *b = http_header(&h, keys[i]);

		if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
			fail_msg("HEAD %s: %s \"%s\", GET's \"%s\"", target, keys[i],
				 b ? b : "(none)", a ? a : "(none)");
	}
	snprintf(len, sizeof(len), "%zu", g.body_len);
	if (!http_header(&h, "Content-Length") ||
	    strcmp(http_header(&h, "Content-Length"), len) != 0)
		fail_msg("HEAD %s: Content-Length %s, GET's body is %s bytes", target,
			 http_header(&h, "Content-Length") ? http_header(&h, "Content-Length")
							   : "(none)",
			 len);
	http_response_free(&g);
	http_response_free(&h);
}

/*
 * Read-your-writes: every successful write names itself in Circle-Commit,
 * a read that sends it back is answered with the write in it, and at once
 * when the database already has the write (always, on a single database);
 * a malformed token is 400 invalid_header.
 */
static void
test_read_your_writes(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], *n, *p, *b, *h;
	const char *t;
	double slowest = 0;

	(void)state;
	n = uniq("ryw");
	b = create_body(n, 5);
	send_json(&r, "POST", "/circle", b, NULL);
	assert_status(&r, 201);
	t = http_header(&r, "Circle-Commit");
	assert_non_null(t);
	assert_true(strlen(t) >= 1 && strlen(t) <= 255);
	for (const char *c = t; *c; c++)
		assert_true(*c >= 0x21 && *c <= 0x7E);
	h = xasprintf("Circle-Wait-For: %s", t);
	{
		json_object *o = body_json(&r);

		snprintf(id, sizeof(id), "%s", jstr(o, "circle_id"));
		json_object_put(o);
	}
	http_response_free(&r);
	p = path_of(id);
	for (int i = 0; i < 10; i++) {
		const char *hh[] = {h, NULL};
		double t0 = now_seconds(), dt;

		req(&r, i % 2 ? "HEAD" : "GET", p, hh, NULL, 0);
		dt = now_seconds() - t0;
		if (dt > slowest)
			slowest = dt;
		assert_status(&r, 200);
		assert_null(http_header(&r, "Circle-Commit"));
		http_response_free(&r);
	}
	/* The change feed waits like every read: the same token, then a bad one. */
	for (int i = 0; i < 4; i++) {
		const char *hh[] = {h, NULL};
		double t0 = now_seconds(), dt;

		req(&r, "GET", "/events?limit=1", hh, NULL, 0);
		dt = now_seconds() - t0;
		if (dt > slowest)
			slowest = dt;
		assert_status(&r, 200);
		assert_null(http_header(&r, "Circle-Commit"));
		http_response_free(&r);
	}
	{
		const char *bad[] = {"Circle-Wait-For: 0-1-", NULL};

		req(&r, "GET", "/events", bad, NULL, 0);
		assert_problem_member(&r, 400, "invalid_header", "header", "Circle-Wait-For");
		http_response_free(&r);
	}
	/* The wait bound is 5 s: a read that waited for nothing is far below. */
	if (slowest > 2.0)
		fail_msg("a read of a write the database had took %.3f s", slowest);
	{
		const char *bad[] = {"Circle-Wait-For: yesterday", NULL};

		req(&r, "GET", p, bad, NULL, 0);
		assert_problem_member(&r, 400, "invalid_header", "header", "Circle-Wait-For");
		http_response_free(&r);
	}
	/* An update and a delete name themselves too. */
	update_expect("PUT", id, "{\"capacity\":6,\"version\":1}", NULL, 200, &r);
	assert_non_null(http_header(&r, "Circle-Commit"));
	http_response_free(&r);
	{
		const char *hd[] = {"If-Match: \"2\"", NULL};

		req(&r, "DELETE", p, hd, NULL, 0);
		assert_status(&r, 204);
		assert_non_null(http_header(&r, "Circle-Commit"));
		http_response_free(&r);
	}
	/* A refused write names nothing. */
	send_json(&r, "POST", "/circle", "{}", NULL);
	assert_status(&r, 400);
	assert_null(http_header(&r, "Circle-Commit"));
	http_response_free(&r);
	free(h);
	free(p);
	free(b);
	free(n);
}

static void
test_head(void **state)
{
	char id[ID_LEN + 1], gone[ID_LEN + 1], *n, *n2, target[160];
	struct http_response r;

	(void)state;
	create_named("head", 5, id, &n);
	create_named("headgone", 5, gone, &n2);
	snprintf(target, sizeof(target), "/circle/%s", gone);
	req(&r, "DELETE", target, (const char *[]){"If-Match: \"1\"", NULL}, NULL, 0);
	assert_status(&r, 204);
	http_response_free(&r);

	head_matches_get("/version");
	head_matches_get("/health");
	snprintf(target, sizeof(target), "/circle/%s", id);
	head_matches_get(target);
	snprintf(target, sizeof(target), "/circle?limit=2&after=%s", id);
	head_matches_get(target);
	snprintf(target, sizeof(target), "/circle/%s/events", id);
	head_matches_get(target);
	snprintf(target, sizeof(target), "/circle/%s/versions/1", id);
	head_matches_get(target);
	/* errors too */
	snprintf(target, sizeof(target), "/circle/%s", gone);
	head_matches_get(target);
	head_matches_get("/circle/3f2504e0-4f89-41d3-9a0c-0305e82c3301");
	head_matches_get("/circle/nope");
	head_matches_get("/circle?limit=0");
	head_matches_get("/nope");
	free(n);
	free(n2);
}

/* ------------------------------------------------------------ change feed */

/* One event as the feed gave it. */
struct feed_seen {
	int64_t position;
	char circle_id[ID_LEN + 1];
	char event_id[ID_LEN + 1];
	int64_t version;
	char *rest;       /* event_type, occurred_at and data as JSON text, to compare */
	char *name;       /* data.name, or NULL */
	int64_t capacity; /* data.capacity, or -1 */
	double seen_at;   /* monotonic seconds */
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The parts of a feed or history event that must agree, as one string. */
static char *
event_rest(json_object *e)
{
	json_object *t = NULL, *o = NULL, *d = NULL;

	if (!json_object_object_get_ex(e, "event_type", &t) ||
	    !json_object_object_get_ex(e, "occurred_at", &o) ||
	    !json_object_object_get_ex(e, "data", &d))
		return NULL;
	return xasprintf("%s %s %s", json_object_get_string(t), json_object_get_string(o),
			 json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
feed_seen_free(struct feed_seen *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].rest);
		free(s[i].name);
	}
	free(s);
}

/*
 * One page of the feed after `after` into *seen (grown as needed). Returns
 * the HTTP status (-1: no answer, -2: a malformed page); on 200 *next is
 * next_after. Thread-safe: it reports instead of asserting.
 */
static int
feed_page(int64_t after, int limit, struct feed_seen **seen, size_t *n, size_t *cap, int64_t *next)
{
	char target[96];
	struct http_request q = {.method = "GET", .target = target, .timeout_ms = 20000};
	struct http_response r;
	json_object *o = NULL, *evs = NULL, *na = NULL;
	int status;
	size_t i, len;
	int64_t prev = after;

	snprintf(target, sizeof(target), "/events?after=%lld&limit=%d", (long long)after, limit);
	if (http_send(port, &q, &r) != 0)
		return -1;
	status = r.status;
	if (status != 200)
		goto out;
	o = json_tokener_parse(r.body);
	if (!o || !json_object_object_get_ex(o, "events", &evs) ||
	    !json_object_object_get_ex(o, "next_after", &na) ||
	    !json_object_is_type(na, json_type_int) || !json_object_is_type(evs, json_type_array)) {
		status = -2;
		goto out;
	}
	len = json_object_array_length(evs);
	if ((int)len > limit) {
		status = -2;
		goto out;
	}
	for (i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(evs, i), *v = NULL, *d = NULL;
		struct feed_seen *s;

		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;
			struct feed_seen *grown = realloc(*seen, ncap * sizeof(**seen));

			if (!grown) {
				status = -2;
				goto out;
			}
			*seen = grown;
			*cap = ncap;
		}
		s = &(*seen)[*n];
		memset(s, 0, sizeof(*s));
		s->capacity = -1;
		s->seen_at = mono_now();
		if (!json_object_object_get_ex(e, "position", &v) ||
		    !json_object_is_type(v, json_type_int))
			break;
		s->position = json_object_get_int64(v);
		/* strictly increasing, and after `after` */
		if (s->position <= prev)
			break;
		prev = s->position;
		if (!json_object_object_get_ex(e, "circle_id", &v) ||
		    strlen(json_object_get_string(v)) != ID_LEN)
			break;
		memcpy(s->circle_id, json_object_get_string(v), ID_LEN + 1);
		if (!json_object_object_get_ex(e, "event_id", &v) ||
		    strlen(json_object_get_string(v)) != ID_LEN)
			break;
		memcpy(s->event_id, json_object_get_string(v), ID_LEN + 1);
		if (!json_object_object_get_ex(e, "version", &v) ||
		    !json_object_is_type(v, json_type_int))
			break;
		s->version = json_object_get_int64(v);
		s->rest = event_rest(e);
		if (!s->rest || !json_object_object_get_ex(e, "data", &d))
			break;
		if (json_object_object_get_ex(d, "name", &v))
			s->name = strdup(json_object_get_string(v));
		if (json_object_object_get_ex(d, "capacity", &v))
			s->capacity = json_object_get_int64(v);
		(*n)++;
	}
	if (i < len) {
		status = -2;
		goto out;
	}
	/* the last position returned, or `after` itself on an empty page */
	if (json_object_get_int64(na) != (len > 0 ? prev : after)) {
		status = -2;
		goto out;
	}
	*next = json_object_get_int64(na);
out:
	json_object_put(o);
	http_response_free(&r);
	return status;
}

/* The end of the feed now: pages through it all (checking the order) and
 * returns the last next_after; when the feed is not empty, the position
 * before its last event goes to *before_last and that event's circle to
 * last_circle (either may be NULL). */
static int64_t
feed_end_at(int64_t *before_last, char *last_circle)
{
	struct feed_seen *seen = NULL;
	size_t n = 0, cap = 0;
	int64_t after = 0, next = 0, prev = 0;

	for (;;) {
		int s = feed_page(after, 1000, &seen, &n, &cap, &next);

		if (s != 200)
			fail_msg("GET /events?after=%lld: %d", (long long)after, s);
		if (n == 0)
			break;
		prev = n > 1 ? seen[n - 2].position : after;
		if (last_circle)
			memcpy(last_circle, seen[n - 1].circle_id, ID_LEN + 1);
		after = next;
		feed_seen_free(seen, n);
		seen = NULL;
		n = cap = 0;
	}
	free(seen);
	if (before_last)
		*before_last = prev;
	return after;
}

static int64_t
feed_end(void)
{
	return feed_end_at(NULL, NULL);
}

static void
test_feed_parameters(void **state)
{
	static const char *const bad_after[] = {
		"after=-1",
		"after=x",
		"after=01",
		"after=",
		"after",
		"after=1.0",
		"after=1e3",
		"after=+1",
		"after=%20",
		"after=9223372036854775808",
		"after=99999999999999999999999",
		"after=1&after=1",
	};
	static const char *const bad_limit[] = {
		"limit=0", "limit=1001", "limit=-5",  "limit=x",
		"limit=",  "limit=01",   "limit=2.0", "limit=1&limit=1",
	};
	struct http_response r;
	json_object *o, *evs;
	char id[ID_LEN + 1], *n, *t;
	int64_t end, first, before = 0;

	(void)state;
	create_named("feedparam", 5, id, &n);
	/* our create is the last event once the sequencer numbered it, which
	 * takes moments */
	for (int i = 0;; i++) {
		char last[ID_LEN + 1] = "";

		end = feed_end_at(&before, last);
		if (strcmp(last, id) == 0)
			break;
		if (i == 500)
			fail_msg("the create is not the feed's last event within 10 s");
		usleep(20 * 1000);
	}
	/* defaults: from the start, 100 at most */
	get(&r, "/events");
	assert_status(&r, 200);
	assert_content_type(&r, "application/json");
	o = body_json(&r);
	evs = member(o, "events");
	assert_true(json_object_array_length(evs) >= 1);
	assert_true(json_object_array_length(evs) <= 100);
	first = jint(json_object_array_get_idx(evs, 0), "position");
	assert_true(first >= 1);
	json_object_put(o);
	http_response_free(&r);
	assert_true(end >= first);
	/* nothing after the end: an empty page, next_after equal to after */
	t = xasprintf("/events?after=%lld&limit=1000", (long long)end);
	get(&r, t);
	assert_status(&r, 200);
	free(t);
	t = xasprintf("{\"events\":[],\"next_after\":%lld}", (long long)end);
	assert_string_equal(r.body, t);
	http_response_free(&r);
	free(t);
	get(&r, "/events?after=9223372036854775807");
	assert_status(&r, 200);
	assert_string_equal(r.body, "{\"events\":[],\"next_after\":9223372036854775807}");
	http_response_free(&r);
	/* the last event is ours, with its circle_id; limit=1 pages one by one */
	t = xasprintf("/events?after=%lld&limit=1", (long long)before);
	get(&r, t);
	assert_status(&r, 200);
	o = body_json(&r);
	evs = member(o, "events");
	assert_int_equal(json_object_array_length(evs), 1);
	assert_string_equal(jstr(json_object_array_get_idx(evs, 0), "circle_id"), id);
	assert_int_equal(jint(json_object_array_get_idx(evs, 0), "version"), 1);
	assert_string_equal(jstr(json_object_array_get_idx(evs, 0), "event_type"),
			    "circle_created");
	assert_int_equal(jint(o, "next_after"), end);
	json_object_put(o);
	http_response_free(&r);
	free(t);
	/* HEAD: the same status and headers, no body */
	req(&r, "HEAD", "/events?limit=3", NULL, NULL, 0);
	assert_status(&r, 200);
	assert_content_type(&r, "application/json");
	assert_int_equal(r.wire_body_len, 0);
	http_response_free(&r);
	req(&r, "HEAD", "/events?limit=0", NULL, NULL, 0);
	assert_status(&r, 400);
	http_response_free(&r);
	for (size_t i = 0; i < sizeof(bad_after) / sizeof(bad_after[0]); i++) {
		t = xasprintf("/events?%s", bad_after[i]);
		get(&r, t);
		assert_problem_member(&r, 400, "invalid_parameter", "parameter", "after");
		http_response_free(&r);
		free(t);
	}
	for (size_t i = 0; i < sizeof(bad_limit) / sizeof(bad_limit[0]); i++) {
		t = xasprintf("/events?%s", bad_limit[i]);
		get(&r, t);
		assert_problem_member(&r, 400, "invalid_parameter", "parameter", "limit");
		http_response_free(&r);
		free(t);
	}
	send_json(&r, "POST", "/events", "{}", NULL);
	expect_problem(&r, 405, "method_not_allowed");
	assert_non_null(http_header(&r, "Allow"));
	assert_string_equal(http_header(&r, "Allow"), "GET, HEAD");
	http_response_free(&r);
	free(n);
}

/*
 * Several writers create, update and delete circles, with requests the
 * service refuses among them (duplicate names, stale versions), while a
 * reader polls the feed with next_after. Afterwards every acknowledged write
 * is in the feed exactly once, with its data; positions strictly increased;
 * each circle's events come in versions ascending by one and equal its
 * history; nothing refused is there. With kill_db, the database is stopped
 * and started again in the middle.
 */
#define FEED_WRITERS 4
#define FEED_CIRCLES 6
#define FEED_UPDATES 3
#define FEED_MAX_ACKS (FEED_WRITERS * FEED_CIRCLES * (FEED_UPDATES + 2))

struct feed_ack {
	char circle_id[ID_LEN + 1];
	int64_t version;
	int64_t capacity; /* -1: a delete */
	double acked_at;
};

struct feed_run {
	pthread_mutex_t mu;
	struct feed_ack acks[FEED_MAX_ACKS];
	size_t nacks;
	char circles[FEED_WRITERS * FEED_CIRCLES][ID_LEN + 1];
	size_t ncircles;
	char *refused_names[FEED_WRITERS * FEED_CIRCLES * 2]; /* never in an event of ours */
	char refused_circle[FEED_WRITERS * FEED_CIRCLES * 2][ID_LEN + 1]; /* "" for creates */
	size_t nrefused;
	int unavailable; /* 503s and lost answers: outcome unknown */
	char error[256]; /* the first unexpected answer */
	volatile int writers_done;
	int64_t start_after;
	/* the reader's */
	struct feed_seen *seen;
	size_t nseen, capseen;
	char reader_error[128];
};

struct feed_writer {
	struct feed_run *run;
	int who;
	const char *tag;
};

static void
feed_error(struct feed_run *run, const char *what, int status)
{
	pthread_mutex_lock(&run->mu);
	if (!run->error[0])
		snprintf(run->error, sizeof(run->error), "%s: %d", what, status);
	pthread_mutex_unlock(&run->mu);
}

static void
feed_ack(struct feed_run *run, const char *id, int64_t version, int64_t capacity)
{
	pthread_mutex_lock(&run->mu);
	if (run->nacks < FEED_MAX_ACKS) {
		struct feed_ack *a = &run->acks[run->nacks++];

		memcpy(a->circle_id, id, ID_LEN + 1);
		a->version = version;
		a->capacity = capacity;
		a->acked_at = mono_now();
	}
	pthread_mutex_unlock(&run->mu);
}

static void
feed_refused(struct feed_run *run, const char *name, const char *id)
{
	pthread_mutex_lock(&run->mu);
	run->refused_names[run->nrefused] = strdup(name);
	snprintf(run->refused_circle[run->nrefused], ID_LEN + 1, "%s", id ? id : "");
	run->nrefused++;
	pthread_mutex_unlock(&run->mu);
}

static unsigned feed_pace_ms;

/* Sends one write; the status, or -1 when no answer came. */
static int
feed_send(const char *method, const char *target, const char *body, const char *extra,
	  struct http_response *r)
{
	const char *h[] = {CT_JSON, extra, NULL};
	struct http_request q = {.method = method,
				 .target = target,
				 .headers = h,
				 .body = body,
				 .body_len = body ? strlen(body) : 0,
				 .timeout_ms = 20000};

	memset(r, 0, sizeof(*r));
	/* paced while the database is to be stopped, so the outage falls in
	 * the middle of the writes */
	if (feed_pace_ms)
		usleep(feed_pace_ms * 1000);
	if (http_send(port, &q, r) != 0)
		return -1;
	return r->status;
}

/* The circle's current version, or -1 when it cannot be read now. */
static int64_t
feed_version_of(const char *id)
{
	struct http_request q = {.method = "GET", .timeout_ms = 20000};
	struct http_response r;
	char target[64];
	int64_t v = -1;

	snprintf(target, sizeof(target), "/circle/%s", id);
	q.target = target;
	if (http_send(port, &q, &r) != 0)
		return -1;
	if (r.status == 200 || r.status == 410) {
		json_object *o = json_tokener_parse(r.body), *x = NULL;

		if (r.status == 410)
			v = -2;
		else if (o && json_object_object_get_ex(o, "version", &x))
			v = json_object_get_int64(x);
		json_object_put(o);
	}
	http_response_free(&r);
	return v;
}

static void *
feed_writer_main(void *arg)
{
	struct feed_writer *w = arg;
	struct feed_run *run = w->run;
	char other[96] = "";

	for (int c = 0; c < FEED_CIRCLES; c++) {
		struct http_response r;
		char name[96], body[256], target[64], id[ID_LEN + 1];
		json_object *o, *x = NULL;
		int64_t version = 1;
		int s;

		snprintf(name, sizeof(name), "%s-w%d-c%d", w->tag, w->who, c);
		snprintf(body, sizeof(body), "{\"circle_name\":\"%s\",\"capacity\":%d}", name,
			 10 + c);
		s = feed_send("POST", "/circle", body, NULL, &r);
		if (s != 201) {
			if (s == 503 || s == -1) {
				__atomic_fetch_add(&run->unavailable, 1, __ATOMIC_RELAXED);
				usleep(50 * 1000); /* the database is away: not too fast */
			} else
				feed_error(run, "create", s);
			http_response_free(&r);
			continue;
		}
		o = json_tokener_parse(r.body);
		if (!o || !json_object_object_get_ex(o, "circle_id", &x)) {
			feed_error(run, "create body", s);
			json_object_put(o);
			http_response_free(&r);
			continue;
		}
		memcpy(id, json_object_get_string(x), ID_LEN + 1);
		json_object_put(o);
		http_response_free(&r);
		feed_ack(run, id, 1, 10 + c);
		pthread_mutex_lock(&run->mu);
		memcpy(run->circles[run->ncircles++], id, ID_LEN + 1);
		pthread_mutex_unlock(&run->mu);

		/* refused: the name of this writer's last live circle */
		if (other[0]) {
			snprintf(body, sizeof(body), "{\"circle_name\":\"%s\",\"capacity\":7}",
				 other);
			s = feed_send("POST", "/circle", body, NULL, &r);
			if (s == 409)
				feed_refused(run, other, NULL);
			else if (s != 503 && s != -1)
				feed_error(run, "duplicate create", s);
			http_response_free(&r);
		}
		snprintf(target, sizeof(target), "/circle/%s", id);
		for (int u = 0; u < FEED_UPDATES; u++) {
			int64_t cap = 100 + u * 10 + c;

			snprintf(body, sizeof(body), "{\"capacity\":%lld,\"version\":%lld}",
				 (long long)cap, (long long)version);
			s = feed_send("PUT", target, body, NULL, &r);
			http_response_free(&r);
			if (s == 200) {
				version++;
				feed_ack(run, id, version, cap);
			} else if (s == 503 || s == -1 || s == 409) {
				/* unknown outcome (or lost to it): read where it is */
				__atomic_fetch_add(&run->unavailable, 1, __ATOMIC_RELAXED);
				for (int tries = 0; tries < 100; tries++) {
					int64_t v = feed_version_of(id);

					if (v > 0) {
						version = v;
						break;
					}
					usleep(100 * 1000);
				}
			} else {
				feed_error(run, "update", s);
			}
			/* refused: a stale version, and another circle's name */
			if (u == 0) {
				snprintf(body, sizeof(body), "{\"capacity\":99,\"version\":%lld}",
					 (long long)(version + 5));
				s = feed_send("PUT", target, body, NULL, &r);
				if (s != 409 && s != 503 && s != -1)
					feed_error(run, "stale update", s);
				http_response_free(&r);
			}
			if (u == 1 && other[0]) {
				snprintf(body, sizeof(body),
					 "{\"circle_name\":\"%s\",\"version\":%lld}", other,
					 (long long)version);
				s = feed_send("PATCH", target, body, NULL, &r);
				if (s == 409)
					feed_refused(run, other, id);
				else if (s != 503 && s != -1)
					feed_error(run, "duplicate rename", s);
				http_response_free(&r);
			}
		}
		if (c % 2 == 1) {
			char im[48];

			snprintf(im, sizeof(im), "If-Match: \"%lld\"", (long long)version);
			s = feed_send("DELETE", target, NULL, im, &r);
			http_response_free(&r);
			if (s == 204)
				feed_ack(run, id, version + 1, -1);
			else if (s == 503 || s == -1)
				__atomic_fetch_add(&run->unavailable, 1, __ATOMIC_RELAXED);
			else
				feed_error(run, "delete", s);
		} else {
			/* a live name, for a later refused rename */
			memcpy(other, name, sizeof(other));
		}
	}
	return NULL;
}

/* Polls the feed with next_after until the writers are done and every
 * acknowledged write is seen (or a generous deadline passes). */
static void *
feed_reader_main(void *arg)
{
	struct feed_run *run = arg;
	int64_t after = run->start_after;
	double deadline = 0;

	for (;;) {
		int64_t next = after;
		size_t before = run->nseen;
		int s = feed_page(after, 50, &run->seen, &run->nseen, &run->capseen, &next);

		if (s == 200) {
			after = next;
		} else if (s == 503 || s == -1) {
			usleep(20 * 1000); /* the database is away */
		} else {
			snprintf(run->reader_error, sizeof(run->reader_error),
				 "feed page after %lld: %d", (long long)after, s);
			return NULL;
		}
		if (run->nseen == before) {
			if (__atomic_load_n(&run->writers_done, __ATOMIC_ACQUIRE)) {
				size_t acks, found = 0;

				if (deadline == 0)
					deadline = mono_now() + 30;
				pthread_mutex_lock(&run->mu);
				acks = run->nacks;
				for (size_t a = 0; a < acks; a++)
					for (size_t i = 0; i < run->nseen; i++)
						if (run->seen[i].version == run->acks[a].version &&
						    strcmp(run->seen[i].circle_id,
							   run->acks[a].circle_id) == 0) {
							found++;
							break;
						}
				pthread_mutex_unlock(&run->mu);
				if (found == acks || mono_now() > deadline)
					return NULL;
			}
			usleep(1000);
		}
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static bool
feed_is_ours(const struct feed_run *run, const char *id)
{
	for (size_t i = 0; i < run->ncircles; i++)
		if (strcmp(run->circles[i], id) == 0)
			return true;
	return false;
}

static void
feed_exactly_once(bool kill_db)
{
	static struct feed_run run;
	struct feed_writer w[FEED_WRITERS];
	pthread_t wt[FEED_WRITERS], rt;
	double *delays;
	size_t nd = 0;
	char tag[13];

	memset(&run, 0, sizeof(run));
	pthread_mutex_init(&run.mu, NULL);
	random_letters(tag);
	feed_pace_ms = kill_db ? 30 : 0;
	run.start_after = feed_end();
	assert_int_equal(pthread_create(&rt, NULL, feed_reader_main, &run), 0);
	for (int i = 0; i < FEED_WRITERS; i++) {
		w[i].run = &run;
		w[i].who = i;
		w[i].tag = tag;
		assert_int_equal(pthread_create(&wt[i], NULL, feed_writer_main, &w[i]), 0);
	}
	if (kill_db) {
		/* in the middle of the writes: once a third are acknowledged */
		for (int i = 0; i < 20000; i++) {
			size_t acks;

			pthread_mutex_lock(&run.mu);
			acks = run.nacks;
			pthread_mutex_unlock(&run.mu);
			if (acks >= FEED_MAX_ACKS / 3)
				break;
			usleep(1000);
		}
		assert_int_equal(run_shell("CIRCLE_TEST_DB_STOP"), 0);
		usleep(500 * 1000);
		assert_int_equal(run_shell("CIRCLE_TEST_DB_START"), 0);
	}
	for (int i = 0; i < FEED_WRITERS; i++)
		pthread_join(wt[i], NULL);
	__atomic_store_n(&run.writers_done, 1, __ATOMIC_RELEASE);
	pthread_join(rt, NULL);
	if (run.error[0])
		fail_msg("unexpected answer to a write: %s", run.error);
	/* the outage did hit writes (else this test shows nothing more) */
	if (kill_db)
		assert_true(run.unavailable > 0);
	if (run.reader_error[0])
		fail_msg("%s", run.reader_error);
	assert_true(run.nacks > 0);
	if (!kill_db)
		assert_int_equal(run.nacks, FEED_WRITERS * FEED_CIRCLES * (FEED_UPDATES + 1) +
						    FEED_WRITERS * (FEED_CIRCLES / 2));

	/* every acknowledged write exactly once, with its data */
	delays = calloc(run.nacks, sizeof(*delays));
	assert_non_null(delays);
	for (size_t a = 0; a < run.nacks; a++) {
		const struct feed_ack *k = &run.acks[a];
		size_t hits = 0;

		for (size_t i = 0; i < run.nseen; i++) {
			const struct feed_seen *s = &run.seen[i];

			if (s->version != k->version || strcmp(s->circle_id, k->circle_id) != 0)
				continue;
			hits++;
			if (k->capacity >= 0)
				assert_int_equal(s->capacity, k->capacity);
			else
				assert_non_null(strstr(s->rest, "circle_deleted"));
			delays[nd++] = s->seen_at > k->acked_at ? s->seen_at - k->acked_at : 0;
		}
		if (hits != 1)
			fail_msg("acknowledged write %s v%lld is in the feed %zu times",
				 k->circle_id, (long long)k->version, hits);
	}
	/* each event once; each circle's versions ascend by one and equal
	 * its history, whatever the outcome of the writes the outage cut */
	for (size_t c = 0; c < run.ncircles; c++) {
		json_object *whole, *hist = history(run.circles[c], &whole);
		size_t len = json_object_array_length(hist), k = 0;

		for (size_t i = 0; i < run.nseen; i++) {
			const struct feed_seen *s = &run.seen[i];
			json_object *h;
			char *rest;

			if (strcmp(s->circle_id, run.circles[c]) != 0)
				continue;
			if (k >= len)
				fail_msg("circle %s: more events in the feed than in its history",
					 run.circles[c]);
			h = json_object_array_get_idx(hist, k);
			assert_int_equal(s->version, (int64_t)k + 1);
			assert_string_equal(s->event_id, jstr(h, "event_id"));
			rest = event_rest(h);
			assert_non_null(rest);
			assert_string_equal(s->rest, rest);
			free(rest);
			k++;
		}
		if (k != len)
			fail_msg("circle %s: %zu events in its history, %zu in the feed",
				 run.circles[c], len, k);
		json_object_put(whole);
	}
	for (size_t i = 0; i < run.nseen; i++)
		for (size_t j = i + 1; j < run.nseen; j++)
			if (strcmp(run.seen[i].event_id, run.seen[j].event_id) == 0)
				fail_msg("event %s twice in the feed", run.seen[i].event_id);
	/* nothing refused: a refused name is in no event but its own create */
	for (size_t r = 0; r < run.nrefused; r++) {
		size_t creates = 0;

		for (size_t i = 0; i < run.nseen; i++) {
			const struct feed_seen *s = &run.seen[i];

			if (!s->name || strcmp(s->name, run.refused_names[r]) != 0)
				continue;
			if (run.refused_circle[r][0] &&
			    strcmp(s->circle_id, run.refused_circle[r]) == 0)
				fail_msg("a refused rename is in the feed");
			if (s->version == 1)
				creates++;
		}
		if (creates > 1)
			fail_msg("a refused create of \"%s\" is in the feed", run.refused_names[r]);
		free(run.refused_names[r]);
	}
	for (size_t i = 0; i < run.nseen; i++)
		if (!feed_is_ours(&run, run.seen[i].circle_id) && !kill_db &&
		    strncmp(run.seen[i].name ? run.seen[i].name : "", tag, 12) == 0)
			fail_msg("an event of a circle no write created");
	qsort(delays, nd, sizeof(*delays), cmp_double);
	if (nd > 0)
		fprintf(stderr,
			"feed%s: %zu acknowledged writes, %zu refused, %d unknown or lost; "
			"ack->visible p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			kill_db ? " (database stopped and started)" : "", run.nacks, run.nrefused,
			run.unavailable, delays[nd / 2] * 1e3, delays[(nd * 99) / 100] * 1e3,
			delays[nd - 1] * 1e3);
	free(delays);
	feed_seen_free(run.seen, run.nseen);
	pthread_mutex_destroy(&run.mu);
}

static void
test_feed_exactly_once(void **state)
{
	(void)state;
	feed_exactly_once(false);
}

/* Stops the database: run it after every test that needs it up. */
static void
test_feed_database_kill(void **state)
{
	(void)state;
	if (!getenv("CIRCLE_TEST_DB_STOP") || !getenv("CIRCLE_TEST_DB_START"))
		skip();
	feed_exactly_once(true);
}

/* ------------------------------------------------------------ outage */

static int
health_status(void)
{
	struct http_response r;
	struct http_request q = {.method = "GET", .target = "/health", .timeout_ms = 20000};
	int s;

	if (http_send(port, &q, &r) != 0)
		return -1;
	s = r.status;
	http_response_free(&r);
	return s;
}

static void
test_database_outage(void **state)
{
	struct http_response r;
	char id[ID_LEN + 1], *n, *b, *p;
	int up = 0;

	(void)state;
	if (!getenv("CIRCLE_TEST_DB_STOP") || !getenv("CIRCLE_TEST_DB_START"))
		skip();
	create_named("outage", 5, id, &n);
	p = path_of(id);
	b = create_body(n, 5);

	assert_int_equal(run_shell("CIRCLE_TEST_DB_STOP"), 0);
	get(&r, "/health");
	if (r.status != 503)
		(void)run_shell("CIRCLE_TEST_DB_START");
	expect_problem(&r, 503, "service_unavailable");
	http_response_free(&r);
	/* A name not yet taken, so only the outage can refuse it. */
	free(b);
	free(n);
	n = uniq("outage");
	b = create_body(n, 5);
	send_json(&r, "POST", "/circle", b, NULL);
	if (r.status != 503)
		(void)run_shell("CIRCLE_TEST_DB_START");
	expect_problem(&r, 503, "service_unavailable");
	http_response_free(&r);
	get(&r, p);
	if (r.status != 503)
		(void)run_shell("CIRCLE_TEST_DB_START");
	expect_problem(&r, 503, "service_unavailable");
	http_response_free(&r);

	assert_int_equal(run_shell("CIRCLE_TEST_DB_START"), 0);
	/* The workers reconnect by themselves. */
	for (int i = 0; i < 150 && !up; i++) {
		if (health_status() == 200)
			up = 1;
		else
			usleep(200 * 1000);
	}
	if (!up)
		fail_msg("/health not 200 within 30 s of the database's return");
	for (int i = 0; i < 8; i++)
		assert_int_equal(health_status(), 200);
	/* Every command worker serves again: several creates in a row, after
	 * at most a short settling time for the first. */
	up = 0;
	for (int i = 0; i < 50 && !up; i++) {
		send_json(&r, "POST", "/circle", b, NULL);
		if (r.status == 201)
			up = 1;
		else
			usleep(200 * 1000);
		http_response_free(&r);
	}
	if (!up)
		fail_msg("no create succeeded within 10 s of the database's return");
	for (int i = 0; i < 6; i++) {
		char *n2 = uniq("after"), *b2 = create_body(n2, 5);

		send_json(&r, "POST", "/circle", b2, NULL);
		assert_status(&r, 201);
		http_response_free(&r);
		free(b2);
		free(n2);
	}
	get(&r, p);
	assert_status(&r, 200);
	http_response_free(&r);
	free(b);
	free(p);
	free(n);
}

int
main(void)
{
	const char *env = getenv("CIRCLE_TEST_BASE_PORT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_name_stored_exactly),
		cmocka_unit_test(test_name_control_chars),
		cmocka_unit_test(test_name_unpaired_surrogate),
		cmocka_unit_test(test_name_whitespace_only),
		cmocka_unit_test(test_name_type),
		cmocka_unit_test(test_capacity_rules),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_missing_field),
		cmocka_unit_test(test_media_type),
		cmocka_unit_test(test_payload_too_large),
		cmocka_unit_test(test_nginx_errors),
		cmocka_unit_test(test_unknown_path),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_duplicate_names),
		cmocka_unit_test(test_duplicate_name_on_update),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_if_none_match),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_bad_parameters),
		cmocka_unit_test(test_list_hides_deleted),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_descriptions),
		cmocka_unit_test(test_update_preconditions),
		cmocka_unit_test(test_update_unchanged),
		cmocka_unit_test(test_update_missing_circles),
		cmocka_unit_test(test_check_order),
		cmocka_unit_test(test_concurrent_updates),
		cmocka_unit_test(test_events_seed_example),
		cmocka_unit_test(test_history_and_versions),
		cmocka_unit_test(test_history_pages),
		cmocka_unit_test(test_edges_nginx),
		cmocka_unit_test(test_edges_headers),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_delete_query_version),
		cmocka_unit_test(test_idempotency),
		cmocka_unit_test(test_idempotency_refused_then_retried),
		cmocka_unit_test(test_idempotency_key_syntax),
		cmocka_unit_test(test_idempotency_concurrent),
		cmocka_unit_test(test_idempotency_put_patch_delete),
		cmocka_unit_test(test_idempotency_put_concurrent),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_feed_parameters),
		cmocka_unit_test(test_feed_exactly_once),
		cmocka_unit_test(test_read_your_writes),
		/* last: they stop the database */
		cmocka_unit_test(test_feed_database_kill),
		cmocka_unit_test(test_database_outage),
	};

	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);

		if (*end != '\0' || v < 1 || v > 65535) {
			fprintf(stderr, "CIRCLE_TEST_BASE_PORT is not a port: %s\n", env);
			return 1;
		}
		port = (unsigned short)v;
	}
	/* Reads may come from a replica: every read names the last write, as
	 * the contract asks of a client that reads its own writes. On a single
	 * database this must change nothing. */
	http_client_wait_for_writes(1);
	return cmocka_run_group_tests_name("e2e", tests, NULL, NULL);
}
