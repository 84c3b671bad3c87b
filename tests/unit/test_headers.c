/*
 * Header, query-parameter and path-segment parsing at and beyond its bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/request_headers.h"
#include "http/request_params.h"

static void
test_if_match(void **state)
{
	static const char *const bad[] = {
		"",       " ",           "1",       "\"\"",    "\"0\"", "\"01\"",
		"\"-1\"", "\"1.0\"",     "W/\"1\"", "w/\"1\"", "*",     "\"1\", \"2\"",
		"\"1\",", "\"1\" \"2\"", "\"1",     "1\"",     "'1'",   "\"1 \"",
		"\" 1\"", "\"+1\"",      "\"1\"x",  "\"1\"\n", "\"a\"",
	};
	struct cerr_info info = {0};
	uint64_t v = 0;
	size_t i;

	(void)state;
	assert_int_equal(headers_if_match("\"1\"", &v, &info), CE_OK);
	assert_true(v == 1);
	assert_int_equal(headers_if_match(" \t\"42\"\t ", &v, &info), CE_OK);
	assert_true(v == 42);
	assert_int_equal(headers_if_match("\"99999999999999999999999\"", &v, &info), CE_OK);
	assert_true(v == UINT64_MAX);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&info, 0, sizeof(info));
		if (headers_if_match(bad[i], &v, &info) != CE_INVALID_HEADER)
			fail_msg("accepted If-Match: [%s]", bad[i]);
		assert_string_equal(info.subject, "If-Match");
	}
	assert_int_equal(headers_if_match(NULL, &v, &info), CE_INVALID_HEADER);
}

static void
test_if_none_match(void **state)
{
	(void)state;
	assert_true(headers_none_match("\"3\"", 3));
	assert_true(headers_none_match("W/\"3\"", 3));
	assert_true(headers_none_match("*", 3));
	assert_true(headers_none_match("  *  ", 3));
	assert_true(headers_none_match("\"1\", \"2\", \"3\"", 3));
	assert_true(headers_none_match("\"1\",W/\"3\"", 3));
	assert_true(headers_none_match(" , \"3\" ,", 3));
	assert_true(headers_none_match("\"4294967295\"", UINT32_MAX));
	assert_false(headers_none_match(NULL, 3));
	assert_false(headers_none_match("", 3));
	assert_false(headers_none_match("\"4\"", 3));
	assert_false(headers_none_match("\"03\"", 3));
	assert_false(headers_none_match("3", 3));
	assert_false(headers_none_match("\"3\" x", 3));
	assert_false(headers_none_match("\"1\", 3", 3)); /* malformed: matches nothing */
	assert_false(headers_none_match("\"3", 3));
	assert_false(headers_none_match("*, \"1\"", 3));
	assert_false(headers_none_match("w/\"3\"", 3));
	assert_false(headers_none_match("\"3 \"", 3));
}

static void
test_idempotency_key(void **state)
{
	char key[300];
	struct cerr_info info = {0};

	(void)state;
	assert_int_equal(headers_idempotency_key(NULL, &info), CE_OK);
	assert_int_equal(headers_idempotency_key("a", &info), CE_OK);
	assert_int_equal(headers_idempotency_key("!~\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", &info),
			 CE_OK);
	memset(key, 'k', 255);
	key[255] = '\0';
	assert_int_equal(headers_idempotency_key(key, &info), CE_OK);
	key[255] = 'k';
	key[256] = '\0';
	assert_int_equal(headers_idempotency_key(key, &info), CE_INVALID_HEADER);
	assert_string_equal(info.subject, "Idempotency-Key");
	assert_int_equal(headers_idempotency_key("", &info), CE_INVALID_HEADER);
	assert_int_equal(headers_idempotency_key("a b", &info), CE_INVALID_HEADER);
	assert_int_equal(headers_idempotency_key(" a", &info), CE_INVALID_HEADER);
	assert_int_equal(headers_idempotency_key("a\t", &info), CE_INVALID_HEADER);
	assert_int_equal(headers_idempotency_key("a\x7f", &info), CE_INVALID_HEADER);
	assert_int_equal(headers_idempotency_key("caf\xc3\xa9", &info), CE_INVALID_HEADER);
	assert_int_equal(headers_idempotency_key("\x01", &info), CE_INVALID_HEADER);
}

static void
test_content_type(void **state)
{
	static const char *const ok[] = {
		"application/json",
		"APPLICATION/JSON",
		"Application/Json",
		"application/json; charset=utf-8",
		"application/json;charset=UTF-8",
		"application/json ; charset=\"utf-8\"",
		" application/json ",
		"application/json; foo=bar",
		"application/json;",
		"application/json; ;",
		"application/json; charset=utf-8; x=y",
	};
	static const char *const bad[] = {
		"",
		"text/plain",
		"application/xml",
		"application/jsonx",
		"application/json-patch+json",
		"application/problem+json",
		"application/ json",
		"application /json",
		"json",
		"application/json charset=utf-8",
		"application/json; charset=latin1",
		"application/json; charset=utf-16",
		"application/json; charset",
		"application/json; =x",
		"application/json; charset=\"utf-8",
		"text/json",
		"*/*",
		"application/*",
		"multipart/form-data",
		"application/x-www-form-urlencoded",
	};
	size_t i;

	(void)state;
	assert_false(headers_is_json(NULL));
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!headers_is_json(ok[i]))
			fail_msg("refused Content-Type: [%s]", ok[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (headers_is_json(bad[i]))
			fail_msg("accepted Content-Type: [%s]", bad[i]);
}

static void
test_query_param(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(params_get("", "limit", out, sizeof(out)), 0);
	assert_int_equal(params_get(NULL, "limit", out, sizeof(out)), 0);
	assert_int_equal(params_get("limit=5", "limit", out, sizeof(out)), 1);
	assert_string_equal(out, "5");
	assert_int_equal(params_get("a=1&limit=%35%30&b", "limit", out, sizeof(out)), 1);
	assert_string_equal(out, "50");
	assert_int_equal(params_get("%6cimit=7", "limit", out, sizeof(out)), 1);
	assert_string_equal(out, "7");
	assert_int_equal(params_get("limits=5&xlimit=3", "limit", out, sizeof(out)), 0);
	assert_int_equal(params_get("limit=", "limit", out, sizeof(out)), 1);
	assert_string_equal(out, "");
	assert_int_equal(params_get("limit", "limit", out, sizeof(out)), -1);
	assert_int_equal(params_get("limit=1&limit=1", "limit", out, sizeof(out)), -1);
	assert_int_equal(params_get("limit=%4", "limit", out, sizeof(out)), -1);
	assert_int_equal(params_get("limit=%zz", "limit", out, sizeof(out)), -1);
	assert_int_equal(params_get("limit=%00", "limit", out, sizeof(out)), -1);
	assert_int_equal(params_get("limit=123456789012345678", "limit", out, sizeof(out)), -1);
	assert_int_equal(params_get("&&limit=2&&", "limit", out, sizeof(out)), 1);
	assert_string_equal(out, "2");
	assert_int_equal(params_get("x=%zz&limit=2", "limit", out, sizeof(out)), 1);
}

static enum cerr
list_params(const char *q, unsigned *limit, char *after, bool *has_after, struct cerr_info *info)
{
	memset(info, 0, sizeof(*info));
	return params_list(q, limit, after, has_after, info);
}

static void
test_list_params(void **state)
{
	static const char *const bad_limit[] = {
		"limit=0",
		"limit=1001",
		"limit=-1",
		"limit=01",
		"limit=",
		"limit",
		"limit=1.5",
		"limit=ten",
		"limit=1e2",
		"limit=+5",
		"limit=%20%35",
		"limit=5&limit=6",
		"limit=99999999999999999999999",
	};
	static const char *const bad_after[] = {
		"after=",
		"after",
		"after=x",
		"after=0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1",
		"after=0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a100",
		"after=0191f6c41c1e7c4a9a432f0e1d9b5a10",
		"after={0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10}",
		"after=0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1g",
	};
	char after[CIRCLE_ID_LEN + 1];
	struct cerr_info info;
	bool has_after;
	unsigned limit;
	size_t i;

	(void)state;
	assert_int_equal(list_params("", &limit, after, &has_after, &info), CE_OK);
	assert_int_equal(limit, 100);
	assert_false(has_after);
	assert_int_equal(list_params("limit=1", &limit, after, &has_after, &info), CE_OK);
	assert_int_equal(limit, 1);
	assert_int_equal(list_params("limit=1000&x=y&unknown", &limit, after, &has_after, &info),
			 CE_OK);
	assert_int_equal(limit, 1000);
	assert_int_equal(list_params("after=0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10", &limit, after,
				     &has_after, &info),
			 CE_OK);
	assert_true(has_after);
	assert_string_equal(after, "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10");
	for (i = 0; i < sizeof(bad_limit) / sizeof(bad_limit[0]); i++) {
		if (list_params(bad_limit[i], &limit, after, &has_after, &info) !=
		    CE_INVALID_PARAMETER)
			fail_msg("accepted %s", bad_limit[i]);
		assert_string_equal(info.subject, "limit");
	}
	for (i = 0; i < sizeof(bad_after) / sizeof(bad_after[0]); i++) {
		if (list_params(bad_after[i], &limit, after, &has_after, &info) !=
		    CE_INVALID_PARAMETER)
			fail_msg("accepted %s", bad_after[i]);
		assert_string_equal(info.subject, "after");
	}
}

static void
test_feed_params(void **state)
{
	static const char *const bad_after[] = {
		"after=",
		"after",
		"after=-1",
		"after=00",
		"after=01",
		"after=+1",
		"after=1.0",
		"after=1e3",
		"after=abc",
		"after=%20",
		"after=9223372036854775808",
		"after=18446744073709551615",
		"after=99999999999999999999999999",
		"after=1&after=2",
	};
	static const char *const bad_limit[] = {
		"limit=0",
		"limit=1001",
		"limit=-1",
		"limit=01",
		"limit=",
		"limit",
		"limit=1.5",
		"limit=ten",
		"limit=1e2",
		"limit=+5",
		"limit=%20",
		"limit=5&limit=6",
		"limit=99999999999999999999999",
	};
	struct cerr_info info = {0};
	uint64_t after = 99;
	unsigned limit = 99;
	size_t i;

	(void)state;
	assert_int_equal(params_feed("", &after, &limit, &info), CE_OK);
	assert_true(after == 0);
	assert_int_equal(limit, 100);
	assert_int_equal(params_feed("after=0&limit=1", &after, &limit, &info), CE_OK);
	assert_true(after == 0);
	assert_int_equal(limit, 1);
	assert_int_equal(params_feed("limit=1000&after=41&x=1&y", &after, &limit, &info), CE_OK);
	assert_true(after == 41);
	assert_int_equal(limit, 1000);
	assert_int_equal(params_feed("after=%34%32", &after, &limit, &info), CE_OK);
	assert_true(after == 42);
	assert_int_equal(params_feed("after=9223372036854775807", &after, &limit, &info), CE_OK);
	assert_true(after == 9223372036854775807ULL);
	for (i = 0; i < sizeof(bad_after) / sizeof(bad_after[0]); i++) {
		memset(&info, 0, sizeof(info));
		if (params_feed(bad_after[i], &after, &limit, &info) != CE_INVALID_PARAMETER)
			fail_msg("accepted %s", bad_after[i]);
		assert_string_equal(info.subject, "after");
	}
	for (i = 0; i < sizeof(bad_limit) / sizeof(bad_limit[0]); i++) {
		memset(&info, 0, sizeof(info));
		if (params_feed(bad_limit[i], &after, &limit, &info) != CE_INVALID_PARAMETER)
			fail_msg("accepted %s", bad_limit[i]);
		assert_string_equal(info.subject, "limit");
	}
}

static void
test_version_param(void **state)
{
	struct cerr_info info = {0};
	uint64_t v = 0;
	bool has = true;

	(void)state;
	assert_int_equal(params_version("", &has, &v, &info), CE_OK);
	assert_false(has);
	assert_int_equal(params_version("other=1", &has, &v, &info), CE_OK);
	assert_false(has);
	assert_int_equal(params_version("version=7", &has, &v, &info), CE_OK);
	assert_true(has);
	assert_true(v == 7);
	assert_int_equal(params_version("version=99999999999999999999999", &has, &v, &info), CE_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(params_version("version=0", &has, &v, &info), CE_INVALID_PARAMETER);
	assert_string_equal(info.subject, "version");
	assert_int_equal(params_version("version=01", &has, &v, &info), CE_INVALID_PARAMETER);
	assert_int_equal(params_version("version=%221%22", &has, &v, &info), CE_INVALID_PARAMETER);
	assert_int_equal(params_version("version=", &has, &v, &info), CE_INVALID_PARAMETER);
	assert_int_equal(params_version("version", &has, &v, &info), CE_INVALID_PARAMETER);
	assert_int_equal(params_version("version=-1", &has, &v, &info), CE_INVALID_PARAMETER);
	assert_int_equal(params_version("version=1&version=1", &has, &v, &info),
			 CE_INVALID_PARAMETER);
}

static void
test_path_segments(void **state)
{
	static const char id[] = "0191F6C4-1c1e-7C4A-9a43-2f0e1d9b5a10";
	char out[CIRCLE_ID_LEN + 1];
	struct cerr_info info = {0};
	uint32_t n = 0;

	(void)state;
	assert_int_equal(path_circle_id(id, strlen(id), out, &info), CE_OK);
	assert_string_equal(out, "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10");
	assert_int_equal(path_circle_id(id, 35, out, &info), CE_INVALID_CIRCLE_ID);
	assert_int_equal(path_circle_id("abc", 3, out, &info), CE_INVALID_CIRCLE_ID);
	assert_int_equal(path_circle_id("%30191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1", 38, out, &info),
			 CE_INVALID_CIRCLE_ID);
	assert_int_equal(path_circle_id(NULL, 0, out, &info), CE_INVALID_CIRCLE_ID);

	assert_int_equal(path_version("1", 1, &n, &info), CE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(path_version("4294967295", 10, &n, &info), CE_OK);
	assert_true(n == UINT32_MAX);
	assert_int_equal(path_version("4294967296", 10, &n, &info), CE_NOT_FOUND);
	assert_int_equal(path_version("99999999999999999999999", 23, &n, &info), CE_NOT_FOUND);
	assert_int_equal(path_version("0", 1, &n, &info), CE_INVALID_PARAMETER);
	assert_string_equal(info.subject, "n");
	assert_int_equal(path_version("01", 2, &n, &info), CE_INVALID_PARAMETER);
	assert_int_equal(path_version("-1", 2, &n, &info), CE_INVALID_PARAMETER);
	assert_int_equal(path_version("1x", 2, &n, &info), CE_INVALID_PARAMETER);
	assert_int_equal(path_version("%31", 3, &n, &info), CE_INVALID_PARAMETER);
	assert_int_equal(path_version("", 0, &n, &info), CE_INVALID_PARAMETER);
}

static void
test_wait_for(void **state)
{
	static const char *const good[] = {
		"0-1-2",
		"0-0-0",
		"4294967295-4294967295-18446744073709551615",
		"0-1-134,1-2-5,7-3-9",
	};
	static const char *const bad[] = {
		"",
		"x",
		"0",
		"0-1",
		"0-1-",
		"-1-2",
		"0--2",
		"0-1-2,",
		",0-1-2",
		"0-1-2,,1-1-1",
		"0-01-2",
		"00-1-2",
		"0-1-02",
		"0-1-2 ",
		" 0-1-2",
		"0-1-2;1-1-1",
		"+0-1-2",
		"4294967296-1-2",
		"0-4294967296-2",
		"0-1-18446744073709551616",
		"0-1-99999999999999999999999",
		"0-1-2\n",
	};
	struct cerr_info info = {0};
	char longest[COMMIT_TOKEN_MAX + 2];
	size_t i;

	(void)state;
	assert_int_equal(headers_wait_for(NULL, &info), CE_OK);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (headers_wait_for(good[i], &info) != CE_OK)
			fail_msg("refused \"%s\"", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (headers_wait_for(bad[i], &info) != CE_INVALID_HEADER)
			fail_msg("took \"%s\"", bad[i]);
		assert_string_equal(info.subject, "Circle-Wait-For");
	}
	/* 255 characters are a token, 256 are not */
	strcpy(longest, "0-1-1");
	while (strlen(longest) + 6 <= COMMIT_TOKEN_MAX)
		strcat(longest, ",0-1-1");
	while (strlen(longest) < COMMIT_TOKEN_MAX) {
		memmove(longest + 5, longest + 4, strlen(longest + 4) + 1);
		longest[4] = '1';
	}
	assert_int_equal(strlen(longest), COMMIT_TOKEN_MAX);
	assert_int_equal(headers_wait_for(longest, &info), CE_OK);
	strcat(longest, "1");
	assert_int_equal(headers_wait_for(longest, &info), CE_INVALID_HEADER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_if_match),        cmocka_unit_test(test_if_none_match),
		cmocka_unit_test(test_idempotency_key), cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_query_param),     cmocka_unit_test(test_list_params),
		cmocka_unit_test(test_version_param),   cmocka_unit_test(test_path_segments),
		cmocka_unit_test(test_feed_params),     cmocka_unit_test(test_wait_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
