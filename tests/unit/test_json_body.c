/*
 * The strict JSON checker and the command bodies: what is valid JSON, what
 * is refused and with which code, member by member.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/json_body.h"

static enum cerr
check_len(const char *s, size_t len)
{
	struct cerr_info info = {0};
	enum cerr rc = json_body_validate(s, len, NULL, NULL, &info);

	if (rc != CE_OK) {
		assert_int_equal(info.code, rc);
		assert_non_null(info.detail);
	}
	return rc;
}

static enum cerr
check(const char *s)
{
	return check_len(s, strlen(s));
}

static void
test_valid_documents(void **state)
{
	static const char *const ok[] = {
		"{}",
		" \t\r\n{ } \n",
		"{\"a\":1}",
		"{\"a\":{\"b\":[1,2,{\"c\":null}]}}",
		"{\"n\":-0}",
		"{\"n\":1e3}",
		"{\"n\":3.0}",
		"{\"n\":99999999999999999999}",
		"{\"n\":1E+2}",
		"{\"n\":-1.5e-3}",
		"{\"n\":0.0}",
		"{\"t\":true,\"f\":false}",
		"{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"s\":\"\\u00e9\\u0000\"}",
		"{\"s\":\"\\ud83d\\ude00\"}",
		"{\"s\":\"\\uD83D\\uDE00\"}",
		"{\"s\":\"caf\xc3\xa9\"}",
		"{\"s\":\"\xf0\x9f\x98\x80\"}",
		"{\"s\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"}",
		"{\"a\":1,\"b\":{\"a\":2}}",
		"{\"a\":{\"a\":{\"a\":1}}}",
		"{\"x\":[{\"a\":1},{\"a\":2}]}",
		"{\"a\\u0000\":1,\"a\":2}",
		"{\"\":1,\" \":2}",
		"{\"a\":[]}",
		"{\"a\":[[],[[]]]}",
		"{\"e\":1e-999,\"f\":1e999}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (check(ok[i]) != CE_OK)
			fail_msg("refused valid JSON: %s", ok[i]);
	}
}

static void
test_not_json(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"\n",
		"[]",
		"\"x\"",
		"1",
		"null",
		"true",
		"{\"a\":1,}",
		"{,}",
		"{\"a\":1}x",
		"{\"a\":1}{}",
		"{\"a\":1} 1",
		"{'a':1}",
		"{a:1}",
		"{\"a\" 1}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":.5}",
		"{\"a\":+1}",
		"{\"a\":-}",
		"{\"a\":1e}",
		"{\"a\":1e+}",
		"{\"a\":tru}",
		"{\"a\":TRUE}",
		"{\"a\":nul}",
		"{\"a\":NaN}",
		"{\"a\":Infinity}",
		"{\"a\":-Infinity}",
		"{\"a\":0x10}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\":\"\\u12g4\"}",
		"{\"a\":\"\\U0041\"}",
		"{\"a\":\"abc",
		"{\"a\":1",
		"{",
		"{\"a\"",
		"{\"a\":",
		"{\"a\":[1,2}",
		"{\"a\":[1,]}",
		"{\"a\":[,1]}",
		"{\"a\":\"\t\"}",
		"{\"a\":\"\n\"}",
		"{\"a\":\"\x1f\"}",
		"{\"a\":1}}",
		"{\"a\":1]",
		"{\"a\":[}",
		"{\"a\":'x'}",
		"{\"a\":1 2}",
		"{\"a\":\"x\" \"y\"}",
		"{\"a\":\"\\\"}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check(bad[i]) != CE_INVALID_JSON)
			fail_msg("accepted invalid JSON: %s", bad[i]);
	}
}

static void
test_empty_and_null_buffer(void **state)
{
	struct cerr_info info = {0};

	(void)state;
	assert_int_equal(json_body_validate(NULL, 0, NULL, NULL, &info), CE_INVALID_JSON);
	assert_string_equal(info.detail, "the body is empty");
	assert_int_equal(json_body_validate("{}", 0, NULL, NULL, &info), CE_INVALID_JSON);
	assert_int_equal(json_body_validate("   ", 3, NULL, NULL, &info), CE_INVALID_JSON);
	assert_string_equal(info.detail, "the body is empty");
	assert_int_equal(json_body_validate("[1]", 3, NULL, NULL, &info), CE_INVALID_JSON);
	assert_string_equal(info.detail, "the body is not a JSON object");
}

static void
test_surrogates(void **state)
{
	static const char *const lone[] = {
		"\\ud800",  "\\udc00",        "\\udbff",        "\\udfff",        "a\\ud83db",
		"\\ud800x", "\\ud800\\u0041", "\\ud800\\ud800", "\\udc00\\ud800",
	};
	char body[128];
	size_t i;

	(void)state;
	/* unpaired surrogate escapes are JSON text, but never a name */
	for (i = 0; i < sizeof lone / sizeof lone[0]; i++) {
		struct create_body out;
		struct cerr_info info = {0};

		snprintf(body, sizeof body, "{\"circle_name\":\"%s\",\"capacity\":5}", lone[i]);
		assert_int_equal(check(body), CE_OK);
		assert_int_equal(json_body_create(body, strlen(body), &out, &info),
				 CE_INVALID_FIELD);
		assert_string_equal(info.subject, "circle_name");
	}
	/* broken escapes stay invalid JSON */
	assert_int_equal(check("{\"a\":\"\\ud800\\\"}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"a\":\"\\ud800\\u\"}"), CE_INVALID_JSON);
	/* a key holding one is a member the contract does not have */
	{
		struct create_body out;
		struct cerr_info info = {0};
		const char *b = "{\"\\udc00\":1,\"circle_name\":\"x\",\"capacity\":5}";

		assert_int_equal(json_body_create(b, strlen(b), &out, &info), CE_UNKNOWN_FIELD);
	}
	/* pairs are fine, at both ends of the range */
	assert_int_equal(check("{\"a\":\"\\ud800\\udc00\"}"), CE_OK);
	assert_int_equal(check("{\"a\":\"\\udbff\\udfff\"}"), CE_OK);
	assert_int_equal(check("{\"a\":\"\\ud7ff\\ue000\"}"), CE_OK);
}

static void
test_utf8(void **state)
{
	static const char *const bad[] = {
		"{\"a\":\"\xff\"}",
		"{\"a\":\"\xfe\"}",
		"{\"a\":\"\x80\"}",
		"{\"a\":\"\xc0\x80\"}",     /* overlong NUL */
		"{\"a\":\"\xc1\xbf\"}",     /* overlong */
		"{\"a\":\"\xe0\x80\xaf\"}", /* overlong '/' */
		"{\"a\":\"\xed\xa0\x80\"}", /* encoded surrogate */
		"{\"a\":\"\xed\xbf\xbf\"}",
		"{\"a\":\"\xe2\x82\"}", /* truncated */
		"{\"a\":\"\xf0\x9f\x98\"}",
		"{\"a\":\"\xf4\x90\x80\x80\"}", /* beyond U+10FFFF */
		"{\"a\":\"\xf5\x80\x80\x80\"}",
		"{\"a\":\"\xf0\x80\x80\x80\"}", /* overlong */
		"{\"\xff\":1}",
		"{\"a\":1}\xc3\xa9", /* outside any string */
		"{\"a\":\xc3\xa9}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (check(bad[i]) != CE_INVALID_JSON)
			fail_msg("accepted bad UTF-8 #%zu", i);
	}
	/* a NUL byte is not JSON anywhere */
	assert_int_equal(check_len("{\"a\":\"x\0\"}", 9), CE_INVALID_JSON);
	assert_int_equal(check_len("{\"a\":1}\0", 8), CE_INVALID_JSON);
}

static void
test_bom(void **state)
{
	struct cerr_info info = {0};

	(void)state;
	assert_int_equal(json_body_validate("\xef\xbb\xbf{}", 5, NULL, NULL, &info),
			 CE_INVALID_JSON);
	assert_string_equal(info.detail, "the body starts with a byte order mark");
	assert_int_equal(check("{\"a\":\"\xef\xbb\xbf\"}"),
			 CE_OK); /* inside a string: a character */
}

static void
test_duplicates(void **state)
{
	struct cerr_info info = {0};

	(void)state;
	assert_int_equal(check("{\"a\":1,\"a\":2}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"a\":1,\"a\":1}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"a\":1,\"\\u0061\":2}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"\\u0061\":1,\"\\u0041\":2}"), CE_OK);
	assert_int_equal(check("{\"/\":1,\"\\/\":2}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"\xc3\xa9\":1,\"\\u00e9\":2}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"x\":{\"a\":1,\"a\":2}}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"x\":[{\"a\":1,\"b\":0,\"a\":1}]}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"x\":[[[{\"k\":{\"a\":1,\"a\":2}}]]]}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"a\":{},\"b\":{},\"a\":{}}"), CE_INVALID_JSON);
	assert_int_equal(check("{\"circle_name\":\"x\",\"capacity\":3,\"circle_name\":\"y\"}"),
			 CE_INVALID_JSON);
	assert_int_equal(json_body_validate("{\"a\":1,\"a\":2}", 13, NULL, NULL, &info),
			 CE_INVALID_JSON);
	assert_string_equal(info.detail, "an object names the same member twice");
}

static char *
many_members(size_t n, bool dup_last)
{
	char *s = malloc(n * 16 + 16);
	size_t i, at = 0;

	assert_non_null(s);
	s[at++] = '{';
	for (i = 0; i < n; i++)
		at += (size_t)sprintf(s + at, "%s\"k%zu\":%zu", i ? "," : "",
				      dup_last && i == n - 1 ? (size_t)0 : i, i);
	s[at++] = '}';
	s[at] = '\0';
	return s;
}

static void
test_many_members(void **state)
{
	char *s;

	(void)state;
	s = many_members(6000, false);
	assert_int_equal(check(s), CE_OK);
	free(s);
	s = many_members(6000, true);
	assert_int_equal(check(s), CE_INVALID_JSON);
	free(s);
}

/* {"a": + (depth - 1) arrays + 1 + closers + } */
static char *
nested(size_t depth)
{
	char *s = malloc(2 * depth + 16);
	size_t i, at = 0;

	assert_non_null(s);
	at += (size_t)sprintf(s, "{\"a\":");
	for (i = 1; i < depth; i++)
		s[at++] = '[';
	s[at++] = '1';
	for (i = 1; i < depth; i++)
		s[at++] = ']';
	s[at++] = '}';
	s[at] = '\0';
	return s;
}

static void
test_depth(void **state)
{
	struct cerr_info info = {0};
	char *s;

	(void)state;
	s = nested(32);
	assert_int_equal(check(s), CE_OK);
	free(s);
	s = nested(33);
	assert_int_equal(json_body_validate(s, strlen(s), NULL, NULL, &info), CE_INVALID_JSON);
	assert_string_equal(info.detail, "the body nests objects and arrays deeper than 32");
	free(s);
	s = nested(10000);
	assert_int_equal(check(s), CE_INVALID_JSON);
	free(s);
	/* objects count like arrays; unclosed openers too */
	{
		char buf[60000];
		size_t i, at = 0;

		for (i = 0; i < 10000; i++) {
			memcpy(buf + at, "{\"a\":", 5);
			at += 5;
		}
		assert_int_equal(check_len(buf, at), CE_INVALID_JSON);
		memset(buf, '[', sizeof(buf));
		buf[0] = '{';
		assert_int_equal(check_len(buf, sizeof(buf)), CE_INVALID_JSON);
	}
}

struct seen {
	int n;
	char names[4][16];
	char values[4][32];
};

static void
record(void *ctx, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct seen *s = ctx;

	if (s->n < 4) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%.*s", (int)name_len, name);
		snprintf(s->values[s->n], sizeof(s->values[0]), "%.*s", (int)value_len, value);
	}
	s->n++;
}

static void
test_member_callback(void **state)
{
	const char *body = "{ \"\\u0061\" : 1e3 , \"b\":{\"c\":[1, 2]},\"d\" :\"x\\ty\"}";
	struct seen s = {0};

	(void)state;
	assert_int_equal(json_body_validate(body, strlen(body), record, &s, NULL), CE_OK);
	assert_int_equal(s.n, 3); /* nested members are not reported */
	assert_string_equal(s.names[0], "a");
	assert_string_equal(s.values[0], "1e3");
	assert_string_equal(s.names[1], "b");
	assert_string_equal(s.values[1], "{\"c\":[1, 2]}");
	assert_string_equal(s.names[2], "d");
	assert_string_equal(s.values[2], "\"x\\ty\"");
}

static void
test_decode_string(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(
		json_body_decode_string("\"a\\u00e9\\ud83d\\ude00\"", 21, out, sizeof(out)), 7);
	assert_memory_equal(out, "a\xc3\xa9\xf0\x9f\x98\x80", 7);
	assert_int_equal(json_body_decode_string("\"\"", 2, out, sizeof(out)), 0);
	assert_true(json_body_decode_string("5", 1, out, sizeof(out)) == (size_t)-1);
	assert_true(json_body_decode_string("\"abcdef\"", 8, out, 3) == (size_t)-1);
	assert_true(json_body_decode_string("\"ab\"x", 5, out, sizeof(out)) == (size_t)-1);
}

/* ---- create ---- */

static enum cerr
create(const char *body, struct create_body *out, struct cerr_info *info)
{
	memset(info, 0, sizeof(*info));
	return json_body_create(body, strlen(body), out, info);
}

/* Checks that a body parser answered code naming subject (NULL: none). */
static void
expect_answer(const char *body, enum cerr rc, const struct cerr_info *info, enum cerr code,
	      const char *subject)
{
	if (rc != code)
		fail_msg("%s: got %d, want %d", body, rc, code);
	if (subject == NULL)
		assert_null(info->subject);
	else if (info->subject == NULL || strcmp(info->subject, subject) != 0)
		fail_msg("%s: subject %s, want %s", body, info->subject ? info->subject : "(null)",
			 subject);
}

static void
expect_create(const char *body, enum cerr code, const char *subject)
{
	struct create_body out;
	struct cerr_info info;
	enum cerr rc = create(body, &out, &info);

	expect_answer(body, rc, &info, code, subject);
}

static void
test_create_ok(void **state)
{
	struct create_body out;
	struct cerr_info info;

	(void)state;
	assert_int_equal(create("{\"circle_name\":\"football\",\"capacity\":20}", &out, &info),
			 CE_OK);
	assert_string_equal(out.name, "football");
	assert_int_equal(out.capacity, 20);
	/* escaped member names and names stored exactly as sent */
	assert_int_equal(
		create("{\"capacity\":3,\"\\u0063ircle_name\":\" Caf\\u00e9 \"}", &out, &info),
		CE_OK);
	assert_string_equal(out.name, " Caf\xc3\xa9 ");
	assert_int_equal(out.capacity, 3);
	assert_int_equal(create("{\"circle_name\":\"x\",\"capacity\":32767}", &out, &info), CE_OK);
	assert_int_equal(out.capacity, 32767);
	/* surrogate pairs decode to their code point (json-c 0.16 turns this
	 * one, U+1DE00, into U+FFFD; we must not) */
	assert_int_equal(
		create("{\"circle_name\":\"chess \\ud837\\ude00\",\"capacity\":4}", &out, &info),
		CE_OK);
	assert_string_equal(out.name, "chess \xf0\x9d\xb8\x80");
	assert_int_equal(create("{\"circle_name\":\"\\uD83D\\uDE00\",\"capacity\":4}", &out, &info),
			 CE_OK);
	assert_string_equal(out.name, "\xf0\x9f\x98\x80");
}

static void
test_create_members(void **state)
{
	(void)state;
	expect_create("{\"capacity\":20}", CE_MISSING_FIELD, "circle_name");
	expect_create("{\"circle_name\":\"a\"}", CE_MISSING_FIELD, "capacity");
	expect_create("{}", CE_MISSING_FIELD, "circle_name");
	expect_create("{\"circle_name\":\"a\",\"capacity\":3,\"extra\":1}", CE_UNKNOWN_FIELD,
		      "extra");
	/* unknown wins over missing and invalid: the body's shape comes first */
	expect_create("{\"circle_name\":null,\"zzz\":1}", CE_UNKNOWN_FIELD, "zzz");
	expect_create("{\"circle_name\":\"a\",\"capacity\":3,\"version\":1}", CE_UNKNOWN_FIELD,
		      "version");
	expect_create("{\"Circle_name\":\"a\",\"capacity\":3}", CE_UNKNOWN_FIELD, "Circle_name");
	expect_create("{\"circle_name\\u0000\":\"a\",\"capacity\":3}", CE_UNKNOWN_FIELD,
		      "circle_name");
	/* invalid JSON wins over everything */
	expect_create("{\"zzz\":1,}", CE_INVALID_JSON, NULL);
	expect_create("{\"circle_name\":\"a\",\"circle_name\":\"b\",\"capacity\":3}",
		      CE_INVALID_JSON, NULL);
	expect_create("[{\"circle_name\":\"a\",\"capacity\":3}]", CE_INVALID_JSON, NULL);
	expect_create("", CE_INVALID_JSON, NULL);
}

static void
test_unknown_name_echo(void **state)
{
	char body[600];
	struct create_body out;
	struct cerr_info info;

	(void)state;
	memset(body, 0, sizeof(body));
	strcpy(body, "{\"");
	memset(body + 2, 'x', 300);
	strcat(body, "\":1}");
	assert_int_equal(create(body, &out, &info), CE_UNKNOWN_FIELD);
	assert_int_equal(strlen(info.subject), JSON_BODY_NAME_ECHO);
	/* cut at a character boundary: 127 ASCII then a 2-byte character */
	memset(body, 0, sizeof(body));
	strcpy(body, "{\"");
	memset(body + 2, 'y', 127);
	strcat(body, "\xc3\xa9\":1}");
	assert_int_equal(create(body, &out, &info), CE_UNKNOWN_FIELD);
	assert_int_equal(strlen(info.subject), 127);
}

static void
test_create_capacity(void **state)
{
	static const char *const bad[] = {
		"3.0",
		"1e3",
		"1E1",
		"30e-1",
		"\"5\"",
		"null",
		"true",
		"false",
		"[]",
		"{}",
		"[3]",
		"-0",
		"0",
		"2",
		"-3",
		"32768",
		"99999999999999999999",
		"-99999999999999999999",
		"9223372036854775807",
		"9223372036854775808",
		"-9223372036854775809",
		"4294967299",
		"1.5",
	};
	char body[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"circle_name\":\"a\",\"capacity\":%s}", bad[i]);
		expect_create(body, CE_INVALID_FIELD, "capacity");
	}
	expect_create("{\"circle_name\":\"a\",\"capacity\":3}", CE_OK, NULL);
}

static void
test_create_name(void **state)
{
	static const char *const bad[] = {
		"null",
		"5",
		"true",
		"[\"a\"]",
		"{}",
		"\"\"",
		"\"   \"",
		"\"\\t\"",
		"\"\\u0000\"",
		"\"a\\u0000b\"",
		"\"a\\u001fb\"",
		"\"a\\u007f\"",
		"\"\\u0085x\"",
		"\"\\u3000\"",
		"\"\\u3000 \\u2003\"",
	};
	char body[2048];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"circle_name\":%s,\"capacity\":3}", bad[i]);
		expect_create(body, CE_INVALID_FIELD, "circle_name");
	}
	/* 100 characters pass, 101 do not; 100 four-byte characters pass */
	strcpy(body, "{\"circle_name\":\"");
	memset(body + strlen(body), 'n', 100);
	strcpy(body + 16 + 100, "\",\"capacity\":3}");
	expect_create(body, CE_OK, NULL);
	strcpy(body, "{\"circle_name\":\"");
	memset(body + strlen(body), 'n', 101);
	strcpy(body + 16 + 101, "\",\"capacity\":3}");
	expect_create(body, CE_INVALID_FIELD, "circle_name");
	strcpy(body, "{\"circle_name\":\"");
	for (i = 0; i < 100; i++)
		strcat(body, "\xf0\x9f\x98\x80");
	strcat(body, "\",\"capacity\":3}");
	expect_create(body, CE_OK, NULL);
	strcpy(body, "{\"circle_name\":\"");
	for (i = 0; i < 101; i++)
		strcat(body, "\\ud83d\\ude00");
	strcat(body, "\",\"capacity\":3}");
	expect_create(body, CE_INVALID_FIELD, "circle_name");
}

/* ---- update ---- */

static enum cerr
update(const char *body, struct update_body *out, struct cerr_info *info)
{
	memset(info, 0, sizeof(*info));
	return json_body_update(body, strlen(body), out, info);
}

static void
expect_update(const char *body, enum cerr code, const char *subject)
{
	struct update_body out;
	struct cerr_info info;
	enum cerr rc = update(body, &out, &info);

	expect_answer(body, rc, &info, code, subject);
}

static void
test_update(void **state)
{
	struct update_body out;
	struct cerr_info info;

	(void)state;
	assert_int_equal(update("{\"capacity\":5}", &out, &info), CE_OK);
	assert_true(out.has_capacity);
	assert_false(out.has_name);
	assert_false(out.has_version);
	assert_int_equal(out.capacity, 5);
	assert_int_equal(update("{\"circle_name\":\"b\",\"version\":2}", &out, &info), CE_OK);
	assert_true(out.has_name);
	assert_string_equal(out.name, "b");
	assert_true(out.has_version);
	assert_true(out.version == 2);
	assert_int_equal(
		update("{\"circle_name\":\"b\",\"version\":99999999999999999999}", &out, &info),
		CE_OK);
	assert_true(out.version == UINT64_MAX);
	assert_int_equal(update("{\"capacity\":3,\"version\":4294967296}", &out, &info), CE_OK);
	assert_true(out.version == 4294967296ULL);

	expect_update("{}", CE_NOTHING_TO_UPDATE, NULL);
	expect_update("{\"version\":1}", CE_NOTHING_TO_UPDATE, NULL);
	expect_update("{\"version\":0}", CE_INVALID_FIELD, "version");
	expect_update("{\"capacity\":3,\"version\":0}", CE_INVALID_FIELD, "version");
	expect_update("{\"capacity\":3,\"version\":-1}", CE_INVALID_FIELD, "version");
	expect_update("{\"capacity\":3,\"version\":-0}", CE_INVALID_FIELD, "version");
	expect_update("{\"capacity\":3,\"version\":1.0}", CE_INVALID_FIELD, "version");
	expect_update("{\"capacity\":3,\"version\":1e0}", CE_INVALID_FIELD, "version");
	expect_update("{\"capacity\":3,\"version\":\"1\"}", CE_INVALID_FIELD, "version");
	expect_update("{\"capacity\":3,\"version\":null}", CE_INVALID_FIELD, "version");
	expect_update("{\"capacity\":null}", CE_INVALID_FIELD, "capacity");
	expect_update("{\"capacity\":3.0}", CE_INVALID_FIELD, "capacity");
	expect_update("{\"circle_name\":null}", CE_INVALID_FIELD, "circle_name");
	expect_update("{\"circle_name\":\"\"}", CE_INVALID_FIELD, "circle_name");
	expect_update("{\"capacity\":3,\"circle_id\":\"x\"}", CE_UNKNOWN_FIELD, "circle_id");
	expect_update("{\"capacity\":3,\"capacity\":4}", CE_INVALID_JSON, NULL);
	expect_update("\"capacity\"", CE_INVALID_JSON, NULL);
}

/* A body of `count` copies of unit as the description member's value. */
static char *
description_body(const char *prefix, const char *unit, size_t count)
{
	size_t len = strlen(unit), plen = strlen(prefix), i;
	char *b = malloc(plen + len * count + 64);

	assert_non_null(b);
	memcpy(b, prefix, plen);
	memcpy(b + plen, "\"description\":\"", 15);
	plen += 15;
	for (i = 0; i < count; i++)
		memcpy(b + plen + i * len, unit, len);
	strcpy(b + plen + count * len, "\"}");
	return b;
}

static void
test_descriptions(void **state)
{
	static const char *const bad[] = {
		"null",
		"5",
		"true",
		"[]",
		"{}",
		"\"a\\u0000b\"",
		"\"a\\u001fb\"",
		"\"a\\tb\"",
		"\"a\\u007f\"",
		"\"\\u009f\"",
		"\"\\ud800\"",
		"\"\\udc00x\"",
	};
	struct create_body c;
	struct update_body u;
	struct cerr_info info;
	char body[256], *b;
	size_t i;

	(void)state;
	/* optional on a create; "" and white space are fine */
	assert_int_equal(create("{\"circle_name\":\"a\",\"capacity\":3}", &c, &info), CE_OK);
	assert_false(c.has_description);
	assert_int_equal(
		create("{\"circle_name\":\"a\",\"capacity\":3,\"description\":\"\"}", &c, &info),
		CE_OK);
	assert_true(c.has_description);
	assert_string_equal(c.description, "");
	assert_int_equal(create("{\"description\":\" \\u3000 x\\u00e9 \",\"circle_name\":\"a\","
				"\"capacity\":3}",
				&c, &info),
			 CE_OK);
	assert_string_equal(c.description, " \xe3\x80\x80 x\xc3\xa9 ");
	/* an update may name it alone, "" included */
	assert_int_equal(update("{\"description\":\"\",\"version\":2}", &u, &info), CE_OK);
	assert_true(u.has_description);
	assert_false(u.has_name || u.has_capacity);
	assert_string_equal(u.description, "");
	assert_int_equal(update("{\"description\":\"x\"}", &u, &info), CE_OK);
	assert_string_equal(u.description, "x");
	/* the description's own errors */
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(body, sizeof body, "{\"description\":%s,\"version\":1}", bad[i]);
		expect_update(body, CE_INVALID_FIELD, "description");
		snprintf(body, sizeof body,
			 "{\"circle_name\":\"a\",\"capacity\":3,\"description\":%s}", bad[i]);
		expect_create(body, CE_INVALID_FIELD, "description");
	}
	/* the name and capacity are checked first */
	expect_create("{\"circle_name\":\"\",\"capacity\":3,\"description\":5}", CE_INVALID_FIELD,
		      "circle_name");
	expect_create("{\"circle_name\":\"a\",\"capacity\":2,\"description\":5}", CE_INVALID_FIELD,
		      "capacity");
	/* 500 code points of any width, not 501 */
	b = description_body("{\"version\":1,", "x", 500);
	assert_int_equal(update(b, &u, &info), CE_OK);
	free(b);
	b = description_body("{\"version\":1,", "\xf0\x9f\x98\x80", 500);
	assert_int_equal(update(b, &u, &info), CE_OK);
	assert_int_equal(strlen(u.description), CIRCLE_DESCRIPTION_MAX_BYTES);
	free(b);
	b = description_body("{\"version\":1,", "\\ud83d\\ude00", 500);
	assert_int_equal(update(b, &u, &info), CE_OK);
	free(b);
	b = description_body("{\"version\":1,", "x", 501);
	expect_update(b, CE_INVALID_FIELD, "description");
	free(b);
	b = description_body("{\"version\":1,", "\xf0\x9f\x98\x80", 501);
	expect_update(b, CE_INVALID_FIELD, "description");
	free(b);
	b = description_body("{\"circle_name\":\"a\",\"capacity\":3,", "\xc3\xa9", 501);
	expect_create(b, CE_INVALID_FIELD, "description");
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_documents),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_empty_and_null_buffer),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_many_members),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_member_callback),
		cmocka_unit_test(test_decode_string),
		cmocka_unit_test(test_create_ok),
		cmocka_unit_test(test_create_members),
		cmocka_unit_test(test_unknown_name_echo),
		cmocka_unit_test(test_create_capacity),
		cmocka_unit_test(test_create_name),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_descriptions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
