/*
 * The direct JSON writer against json-c: a circle written by
 * circle_json_write() is byte for byte the text json-c makes of
 * circle_json_new(), whatever bytes its name or description holds (the
 * description a member only when there is one); integers at their
 * limits; escapes spelled out; long strings; the body buffer kept between
 * answers; response heads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "http/circle_json.h"
#include "http/http.h"
#include "http/json_out.h"

/* What json-c writes for c, the way the responses serialise. */
static void
assert_same_as_json_c(const struct circle *c)
{
	json_object *obj = circle_json_new(c);
	const char *want;
	struct json_out o;

	assert_non_null(obj);
	want = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	json_out_init(&o);
	circle_json_write(&o, c);
	assert_false(o.failed);
	assert_int_equal(o.len, strlen(want));
	assert_string_equal(o.buf, want);
	json_out_release(&o);
	json_object_put(obj);
}

static void
circle_with_name(struct circle *c, const char *name, size_t len)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->id, "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10");
	memcpy(c->name, name, len);
	c->name[len] = '\0';
	c->capacity = 20;
	c->version = 3;
}

static void
test_plain_and_utf8_names(void **state)
{
	static const char *const names[] = {
		"football", "Café", "ＦＯＯＴＢＡＬＬ", "a/b", "\xf0\x9f\x98\x80 emoji", "x",
	};
	struct circle c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		circle_with_name(&c, names[i], strlen(names[i]));
		assert_same_as_json_c(&c);
	}
}

/* Every byte from 1 to 255 in a name, one at a time and all together: the
 * store could hold what the API would refuse. */
static void
test_every_byte(void **state)
{
	char all[256];
	struct circle c;
	int b;

	(void)state;
	for (b = 1; b < 256; b++) {
		char one[3] = {'a', (char)b, '\0'};

		circle_with_name(&c, one, 2);
		assert_same_as_json_c(&c);
	}
	for (b = 1; b <= 255 && b <= CIRCLE_NAME_MAX_BYTES; b++)
		all[b - 1] = (char)b;
	circle_with_name(&c, all, 255);
	assert_same_as_json_c(&c);
}

static void
test_limits(void **state)
{
	struct circle c;
	char num[JSON_OUT_INT_MAX + 1];
	size_t n;

	(void)state;
	circle_with_name(&c, "\"\\\"", 3);
	c.capacity = 32767;
	c.version = UINT32_MAX;
	assert_same_as_json_c(&c);
	c.capacity = -1;
	c.version = 0;
	assert_same_as_json_c(&c);

	n = json_out_format_int(num, INT64_MIN);
	num[n] = '\0';
	assert_string_equal(num, "-9223372036854775808");
	n = json_out_format_int(num, INT64_MAX);
	num[n] = '\0';
	assert_string_equal(num, "9223372036854775807");
	n = json_out_format_int(num, 0);
	num[n] = '\0';
	assert_string_equal(num, "0");
}

/*
 * A description: no member when there is none, the last member when there is
 * one, escaped as json-c escapes it, at every length up to the longest.
 */
static void
test_descriptions(void **state)
{
	static const char *const texts[] = {
		"Fridays at the old hall",
		"Caf\xc3\xa9 \"Chez \\o/\"",
		"\xf0\x9f\x98\x80",
		"  ",
		"a/b\x7f",
	};
	struct circle c;
	struct json_out o;
	size_t i;
	int b;

	(void)state;
	circle_with_name(&c, "Club", 4);
	assert_same_as_json_c(&c);
	json_out_init(&o);
	circle_json_write(&o, &c);
	assert_false(o.failed);
	assert_string_equal(o.buf, "{\"circle_id\":\"0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10\","
				   "\"circle_name\":\"Club\",\"capacity\":20,\"version\":3}");
	json_out_release(&o);

	strcpy(c.description, "Fridays \"8pm\"\\\n");
	assert_same_as_json_c(&c);
	json_out_init(&o);
	circle_json_write(&o, &c);
	assert_false(o.failed);
	assert_string_equal(o.buf, "{\"circle_id\":\"0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10\","
				   "\"circle_name\":\"Club\",\"capacity\":20,\"version\":3,"
				   "\"description\":\"Fridays \\\"8pm\\\"\\\\\\n\"}");
	json_out_release(&o);

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		strcpy(c.description, texts[i]);
		assert_same_as_json_c(&c);
	}
	/* every byte, as for names: the store could hold what the API refuses */
	for (b = 1; b < 256; b++) {
		c.description[0] = 'd';
		c.description[1] = (char)b;
		c.description[2] = '\0';
		assert_same_as_json_c(&c);
	}
	/* the longest: 500 four-byte characters, and 2000 quotes to escape */
	for (i = 0; i < CIRCLE_DESCRIPTION_MAX_BYTES; i += 4)
		memcpy(c.description + i, "\xf0\x9f\x98\x80", 4);
	c.description[CIRCLE_DESCRIPTION_MAX_BYTES] = '\0';
	assert_same_as_json_c(&c);
	memset(c.description, '"', CIRCLE_DESCRIPTION_MAX_BYTES);
	assert_same_as_json_c(&c);
}

/* s as json_out_str() writes it, compared with want. */
static void
assert_str_out(const char *s, size_t n, const char *want)
{
	struct json_out o;

	json_out_init(&o);
	json_out_str(&o, s, n);
	assert_false(o.failed);
	assert_int_equal(o.len, strlen(want));
	assert_string_equal(o.buf, want);
	json_out_release(&o);
}

/* The escapes spelled out, not only compared with json-c. */
static void
test_escapes(void **state)
{
	(void)state;
	assert_str_out("", 0, "\"\"");
	assert_str_out("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
	assert_str_out("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
	assert_str_out("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
	/* a NUL inside the given length is a control character too */
	assert_str_out("a\0b", 3, "\"a\\u0000b\"");
	/* UTF-8, non-BMP included, and bytes that are no UTF-8 go out as they are */
	assert_str_out("\xc3\xa9\xf0\x9f\x98\x80\xff\xc3", 8,
		       "\"\xc3\xa9\xf0\x9f\x98\x80\xff\xc3\"");
}

/* Strings far beyond the first buffer, each byte escaped six-fold at worst. */
static void
test_long_strings(void **state)
{
	static char in[100000];
	struct json_out o;
	struct circle c;
	size_t i;

	(void)state;
	memset(in, 0x01, sizeof(in));
	json_out_init(&o);
	json_out_lit(&o, "[");
	json_out_str(&o, in, sizeof(in));
	json_out_lit(&o, "]");
	assert_false(o.failed);
	assert_int_equal(o.len, sizeof(in) * 6 + 4);
	for (i = 0; i < sizeof(in); i++)
		assert_memory_equal(o.buf + 2 + i * 6, "\\u0001", 6);
	assert_memory_equal(o.buf + o.len - 2, "\"]", 2);
	json_out_release(&o);

	/* the longest name, all of it escaped */
	memset(in, '"', CIRCLE_NAME_MAX_BYTES);
	circle_with_name(&c, in, CIRCLE_NAME_MAX_BYTES);
	assert_same_as_json_c(&c);
	/* and the longest name of four-byte characters */
	for (i = 0; i + 4 <= CIRCLE_NAME_MAX_BYTES; i += 4)
		memcpy(in + i, "\xf0\x9f\x98\x80", 4);
	circle_with_name(&c, in, i);
	assert_same_as_json_c(&c);
}

/* Heads are written without printf; every header in its place. */
static void
test_head(void **state)
{
	struct http_response resp;
	char head[512];
	size_t n;

	(void)state;
	http_response_init(&resp);
	resp.status = 201;
	resp.content_type = "application/json";
	resp.body_len = 1234;
	http_response_etag(&resp, 4294967295u);
	strcpy(resp.location, "/circle/x");
	strcpy(resp.commit, "0-1-2");
	resp.retry_after = 7;
	n = http_response_head(&resp, head, sizeof(head));
	assert_int_equal(n, strlen(head));
	assert_string_equal(head, "Status: 201 Created\r\n"
				  "Content-Type: application/json\r\n"
				  "Content-Length: 1234\r\n"
				  "ETag: \"4294967295\"\r\n"
				  "Location: /circle/x\r\n"
				  "Circle-Commit: 0-1-2\r\n"
				  "Retry-After: 7\r\n"
				  "\r\n");
	/* one byte short of room: nothing */
	assert_int_equal(http_response_head(&resp, head, n + 1), n);
	assert_int_equal(http_response_head(&resp, head, n), 0);
	resp.status = 204;
	resp.content_type = NULL;
	resp.etag[0] = resp.location[0] = resp.commit[0] = '\0';
	resp.retry_after = 0;
	n = http_response_head(&resp, head, sizeof(head));
	assert_string_equal(head, "Status: 204 No Content\r\n\r\n");
	assert_int_equal(n, strlen(head));
}

/* A body grows past its first buffer and stays whole. */
static void
test_growth(void **state)
{
	struct json_out o;
	struct circle c;
	size_t i, len;

	(void)state;
	circle_with_name(&c, "growing", 7);
	json_out_init(&o);
	json_out_lit(&o, "[");
	for (i = 0; i < 1000; i++) {
		if (i > 0)
			json_out_lit(&o, ",");
		circle_json_write(&o, &c);
	}
	json_out_lit(&o, "]");
	assert_false(o.failed);
	len = o.len;
	assert_int_equal(strlen(o.buf), len);
	assert_true(len > 64 * 1024);
	assert_memory_equal(o.buf + len - 2, "}]", 2);
	json_out_release(&o);
}

/* A freed response's body is handed to the next writer, never twice. */
static void
test_spare_reused(void **state)
{
	struct http_response resp;
	struct json_out o, other;
	struct circle c;
	char *first;

	(void)state;
	circle_with_name(&c, "kept", 4);
	http_response_init(&resp);
	http_response_circle(&resp, 200, &c);
	assert_int_equal(resp.status, 200);
	first = resp.body;
	assert_non_null(first);
	assert_string_equal(resp.etag, "\"3\"");
	http_response_free(&resp);

	json_out_init(&o);
	assert_ptr_equal(o.buf, first);
	json_out_init(&other);
	assert_null(other.buf);
	json_out_lit(&other, "{}");
	assert_string_equal(other.buf, "{}");
	json_out_release(&other);
	json_out_release(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_utf8_names),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_descriptions),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_spare_reused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
