/*
 * The byte-level rules of circle, each written once: UTF-8 decoding, hex and
 * decimal digits, the UUID text of an id and the Idempotency-Key characters.
 * Every input comes from a client or the database, so nothing here trusts a
 * length, a byte or a terminator; nothing allocates and nothing does I/O.
 */
#ifndef CIRCLE_DOMAIN_TEXT_H
#define CIRCLE_DOMAIN_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEXT_UUID_LEN 36             /* 8-4-4-4-12 hex digits */
#define TEXT_IDEMPOTENCY_KEY_MAX 255 /* characters, each one byte */

/*
 * Decodes one UTF-8 sequence from s[0..len) (len > 0) into *cp (NULL: not
 * wanted) and returns its length, or 0 when the bytes are not well-formed
 * UTF-8 (RFC 3629): overlong forms, surrogates and code points above
 * U+10FFFF are refused.
 */
size_t text_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/* The value of hex digit c (any case), or -1. */
int text_hex_digit(char c);

/* The value of exactly n (at most 8) hex digits at s into *out; -1 when one
 * is not a hex digit. */
int text_hex(const char *s, size_t n, uint32_t *out);

/* True when s is one or more lower-case hex digits up to its NUL: the form
 * of a secret circle generates itself. NULL is false. */
bool text_lower_hex(const char *s);

/*
 * s[0..len), len > 0, all decimal digits (leading zeros allowed): 0 and the
 * value in *out, saturated at max; -1 otherwise. Digits after saturation are
 * still checked, so a letter later still fails.
 */
int text_decimal(const char *s, size_t len, uint64_t max, uint64_t *out);

/*
 * A positive decimal integer without sign or leading zeros, s[0..len).
 * Returns 0 and *out (saturated at UINT64_MAX), or -1 when malformed.
 */
int text_positive(const char *s, size_t len, uint64_t *out);

/* True when s[0..len) is a canonical UUID (8-4-4-4-12 hex digits, any case). */
bool text_uuid_valid(const char *s, size_t len);

/*
 * When s[0..len) is a UUID as text_uuid_valid() says, writes it in lower
 * case with a NUL into out and returns true; else false, out untouched.
 * NULL s is false.
 */
bool text_uuid_lower(const char *s, size_t len, char out[TEXT_UUID_LEN + 1]);

/* The Idempotency-Key rule: 1 to TEXT_IDEMPOTENCY_KEY_MAX bytes from 0x21
 * ('!') to 0x7E ('~'), NUL-terminated. NULL is false. */
bool text_idempotency_key_valid(const char *s);

#endif
