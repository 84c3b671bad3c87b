/*
 * Unit tests of the byte-level rules (domain/text.h) at and beyond their
 * bounds: UTF-8 sequences, hex and decimal digits, UUID text and the
 * Idempotency-Key characters. Links libdomain.a alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/text.h"

#define ID_A "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10"

/* Decodes the whole of s as one sequence: its length, or 0. */
static size_t
utf8_one(const char *s, size_t len, uint32_t *cp)
{
	return text_utf8_decode((const unsigned char *)s, len, cp);
}

static void
test_utf8(void **state)
{
	uint32_t cp = 0;

	(void)state;
	/* the first and last code point of each length */
	assert_int_equal(utf8_one("\x00", 1, &cp), 1);
	assert_int_equal(cp, 0);
	assert_int_equal(utf8_one("\x7F", 1, &cp), 1);
	assert_int_equal(cp, 0x7F);
	assert_int_equal(utf8_one("\xC2\x80", 2, &cp), 2);
	assert_int_equal(cp, 0x80);
	assert_int_equal(utf8_one("\xDF\xBF", 2, &cp), 2);
	assert_int_equal(cp, 0x7FF);
	assert_int_equal(utf8_one("\xE0\xA0\x80", 3, &cp), 3);
	assert_int_equal(cp, 0x800);
	assert_int_equal(utf8_one("\xEF\xBF\xBF", 3, &cp), 3);
	assert_int_equal(cp, 0xFFFF);
	assert_int_equal(utf8_one("\xF0\x90\x80\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x10000);
	assert_int_equal(utf8_one("\xF4\x8F\xBF\xBF", 4, &cp), 4);
	assert_int_equal(cp, 0x10FFFF);
	/* around the surrogates */
	assert_int_equal(utf8_one("\xED\x9F\xBF", 3, &cp), 3);
	assert_int_equal(cp, 0xD7FF);
	assert_int_equal(utf8_one("\xED\xA0\x80", 3, &cp), 0); /* U+D800 */
	assert_int_equal(utf8_one("\xED\xBF\xBF", 3, &cp), 0); /* U+DFFF */
	assert_int_equal(utf8_one("\xEE\x80\x80", 3, &cp), 3);
	assert_int_equal(cp, 0xE000);
	/* overlong forms, beyond U+10FFFF, bytes that never start a sequence */
	assert_int_equal(utf8_one("\xC0\x80", 2, &cp), 0);
	assert_int_equal(utf8_one("\xC1\xBF", 2, &cp), 0);
	assert_int_equal(utf8_one("\xE0\x9F\xBF", 3, &cp), 0);
	assert_int_equal(utf8_one("\xF0\x8F\xBF\xBF", 4, &cp), 0);
	assert_int_equal(utf8_one("\xF4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(utf8_one("\xF5\x80\x80\x80", 4, &cp), 0);
	assert_int_equal(utf8_one("\xFF", 1, &cp), 0);
	assert_int_equal(utf8_one("\x80", 1, &cp), 0);
	assert_int_equal(utf8_one("\xBF", 1, &cp), 0);
	/* truncated, or a continuation byte that is not one */
	assert_int_equal(utf8_one("\xC3", 1, &cp), 0);
	assert_int_equal(utf8_one("\xE2\x82", 2, &cp), 0);
	assert_int_equal(utf8_one("\xF0\x9F\x98", 3, &cp), 0);
	assert_int_equal(utf8_one("\xC3\x28", 2, &cp), 0);
	assert_int_equal(utf8_one("\xE2\x28\xA1", 3, &cp), 0);
	assert_int_equal(utf8_one("\xC3\xC0", 2, &cp), 0);
	/* only the first sequence is read; the code point is optional */
	assert_int_equal(utf8_one("\xC3\xA9\xFF", 3, &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(utf8_one("\xF0\x9F\x98\x80", 4, NULL), 4);
}

static void
test_hex(void **state)
{
	uint32_t v = 0;

	(void)state;
	assert_int_equal(text_hex_digit('0'), 0);
	assert_int_equal(text_hex_digit('9'), 9);
	assert_int_equal(text_hex_digit('a'), 10);
	assert_int_equal(text_hex_digit('f'), 15);
	assert_int_equal(text_hex_digit('A'), 10);
	assert_int_equal(text_hex_digit('F'), 15);
	assert_int_equal(text_hex_digit('/'), -1);
	assert_int_equal(text_hex_digit(':'), -1);
	assert_int_equal(text_hex_digit('@'), -1);
	assert_int_equal(text_hex_digit('G'), -1);
	assert_int_equal(text_hex_digit('`'), -1);
	assert_int_equal(text_hex_digit('g'), -1);
	assert_int_equal(text_hex_digit('\0'), -1);
	assert_int_equal(text_hex_digit((char)0xB0), -1);

	assert_int_equal(text_hex("0000", 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(text_hex("ffff", 4, &v), 0);
	assert_int_equal(v, 0xFFFF);
	assert_int_equal(text_hex("D83d", 4, &v), 0);
	assert_int_equal(v, 0xD83D);
	assert_int_equal(text_hex("FFFFFFFF", 8, &v), 0);
	assert_true(v == 0xFFFFFFFFu);
	assert_int_equal(text_hex("12345", 4, &v), 0); /* only n digits count */
	assert_int_equal(v, 0x1234);
	v = 7;
	assert_int_equal(text_hex("12g4", 4, &v), -1);
	assert_int_equal(text_hex("123", 4, &v), -1); /* the NUL is no digit */
	assert_int_equal(text_hex("123456789", 9, &v), -1);
	assert_int_equal(v, 7);

	assert_true(text_lower_hex("0123456789abcdef"));
	assert_true(text_lower_hex("f"));
	assert_false(text_lower_hex(""));
	assert_false(text_lower_hex(NULL));
	assert_false(text_lower_hex("abcDef")); /* upper case is not ours */
	assert_false(text_lower_hex("12g4"));
	assert_false(text_lower_hex("12 34"));
	assert_false(text_lower_hex("12'"));
}

static void
test_decimal(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(text_decimal("0", 1, UINT64_MAX, &v), 0);
	assert_true(v == 0);
	assert_int_equal(text_decimal("007", 3, UINT64_MAX, &v), 0);
	assert_true(v == 7);
	assert_int_equal(text_decimal("65535", 5, 65535, &v), 0);
	assert_true(v == 65535);
	assert_int_equal(text_decimal("65536", 5, 65535, &v), 0);
	assert_true(v == 65535);
	assert_int_equal(text_decimal("18446744073709551615", 20, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(text_decimal("18446744073709551616", 20, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(text_decimal("9", 1, 0, &v), 0);
	assert_true(v == 0);
	v = 3;
	assert_int_equal(text_decimal("", 0, UINT64_MAX, &v), -1);
	assert_int_equal(text_decimal("-1", 2, UINT64_MAX, &v), -1);
	assert_int_equal(text_decimal("+1", 2, UINT64_MAX, &v), -1);
	assert_int_equal(text_decimal(" 1", 2, UINT64_MAX, &v), -1);
	assert_int_equal(text_decimal("1/", 2, UINT64_MAX, &v), -1);
	assert_int_equal(text_decimal("1:", 2, UINT64_MAX, &v), -1);
	assert_int_equal(text_decimal("99999999999999999999999x", 24, UINT64_MAX, &v), -1);
	assert_true(v == 3);
}

static void
test_positive(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(text_positive("1", 1, &v), 0);
	assert_true(v == 1);
	assert_int_equal(text_positive("4294967295", 10, &v), 0);
	assert_true(v == 4294967295ULL);
	assert_int_equal(text_positive("18446744073709551615", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(text_positive("18446744073709551616", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(text_positive("999999999999999999999999999999", 30, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(text_positive("0", 1, &v), -1);
	assert_int_equal(text_positive("01", 2, &v), -1);
	assert_int_equal(text_positive("", 0, &v), -1);
	assert_int_equal(text_positive("-1", 2, &v), -1);
	assert_int_equal(text_positive("+1", 2, &v), -1);
	assert_int_equal(text_positive("1a", 2, &v), -1);
	assert_int_equal(text_positive("1 ", 2, &v), -1);
	assert_int_equal(text_positive("99999999999999999999999x", 24, &v), -1);
	assert_int_equal(text_positive("12", 1, &v), 0); /* only len bytes count */
	assert_true(v == 1);
}

static bool
id_ok(const char *s)
{
	return text_uuid_valid(s, strlen(s));
}

static void
id_validation(void **state)
{
	char out[TEXT_UUID_LEN + 1];

	(void)state;
	assert_true(id_ok(ID_A));
	assert_true(id_ok("0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10"));
	assert_true(id_ok("0191f6C4-1c1E-7c4A-9a43-2F0e1d9b5a10"));
	assert_true(id_ok("00000000-0000-0000-0000-000000000000"));
	assert_false(id_ok(""));
	assert_false(text_uuid_valid(NULL, 36));
	assert_false(id_ok("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1"));   /* 35 */
	assert_false(id_ok("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a100")); /* 37 */
	assert_false(id_ok("0191f6c41-c1e-7c4a-9a43-2f0e1d9b5a10"));  /* hyphen moved */
	assert_false(id_ok("0191f6c4-1c1e7-c4a-9a43-2f0e1d9b5a10"));
	assert_false(id_ok("0191f6c4-1c1e-7c4a9-a43-2f0e1d9b5a10"));
	assert_false(id_ok("0191f6c4-1c1e-7c4a-9a432-f0e1d9b5a10"));
	assert_false(id_ok("0191f6c4x1c1e-7c4a-9a43-2f0e1d9b5a10")); /* no hyphen */
	assert_false(id_ok("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1g")); /* not hex */
	assert_false(id_ok("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a-0"));
	assert_false(id_ok("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a 0"));
	assert_false(id_ok("{191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1}"));
	assert_false(id_ok("0191f6c41c1e7c4a9a432f0e1d9b5a10")); /* 32, no hyphens */
	/* the length given counts: an embedded NUL is not a hex digit */
	assert_false(text_uuid_valid("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1\0", 36));

	assert_true(text_uuid_lower("0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10", 36, out));
	assert_string_equal(out, ID_A);
	assert_true(text_uuid_lower(ID_A, 36, out));
	assert_string_equal(out, ID_A);
	/* what is refused leaves out as it was */
	memset(out, 'x', sizeof(out));
	assert_false(text_uuid_lower("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1g", 36, out));
	assert_false(text_uuid_lower(NULL, 36, out));
	assert_false(text_uuid_lower(ID_A, 35, out));
	assert_int_equal(out[0], 'x');
}

static void
test_idempotency_key(void **state)
{
	char key[TEXT_IDEMPOTENCY_KEY_MAX + 2];

	(void)state;
	assert_true(text_idempotency_key_valid("!"));
	assert_true(text_idempotency_key_valid("~"));
	assert_true(text_idempotency_key_valid("create-1:\"x\"{}"));
	assert_false(text_idempotency_key_valid(NULL));
	assert_false(text_idempotency_key_valid(""));
	assert_false(text_idempotency_key_valid(" "));
	assert_false(text_idempotency_key_valid("a b"));
	assert_false(text_idempotency_key_valid("a\x7F"));
	assert_false(text_idempotency_key_valid("a\x20"));
	assert_false(text_idempotency_key_valid("\t"));
	assert_false(text_idempotency_key_valid("k\xC3\xA9"));

	memset(key, 'k', TEXT_IDEMPOTENCY_KEY_MAX);
	key[TEXT_IDEMPOTENCY_KEY_MAX] = '\0';
	assert_true(text_idempotency_key_valid(key));
	key[TEXT_IDEMPOTENCY_KEY_MAX] = 'k';
	key[TEXT_IDEMPOTENCY_KEY_MAX + 1] = '\0';
	assert_false(text_idempotency_key_valid(key));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),     cmocka_unit_test(test_hex),
		cmocka_unit_test(test_decimal),  cmocka_unit_test(test_positive),
		cmocka_unit_test(id_validation), cmocka_unit_test(test_idempotency_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
