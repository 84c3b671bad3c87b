/*
 * JSON written straight into one growing buffer, for the bodies sent most
 * (a circle, a page of circles): no object tree, no copy.
 * Strings are escaped as json-c escapes them with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE, so the text is byte for byte what the
 * json-c writers produce: '"', '\\', \b \f \n \r \t, every other byte below
 * 0x20 as \u00XX, every other byte (UTF-8 included) as it is.
 *
 * A failed allocation marks the writer failed and every later call does
 * nothing; check `failed` once at the end.
 */
#ifndef CIRCLE_HTTP_JSON_OUT_H
#define CIRCLE_HTTP_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_out {
	char *buf; /* NUL-terminated when not failed; NULL before the first write */
	size_t len;
	size_t cap;
	bool failed;
};

/* An empty writer; reuses the buffer a freed response gave back, if any. */
void json_out_init(struct json_out *o);
/* Releases the buffer (to the spare slot, see http_response_free()). */
void json_out_release(struct json_out *o);

/* n bytes as they are (JSON punctuation, member names). */
void json_out_raw(struct json_out *o, const char *s, size_t n);
#define json_out_lit(o, s) json_out_raw((o), (s), sizeof(s) - 1)
/* s[0..n) as a JSON string, quoted and escaped. */
void json_out_str(struct json_out *o, const char *s, size_t n);
/* A decimal integer. */
void json_out_int(struct json_out *o, int64_t v);

/*
 * A member: sep ("{" or ",") and name are string literals, pasted into one
 * copy with the quotes and the colon; then the value.
 */
#define json_out_member_str(o, sep, name, s, n) \
	do { \
		json_out_lit((o), sep "\"" name "\":"); \
		json_out_str((o), (s), (n)); \
	} while (0)
#define json_out_member_int(o, sep, name, v) \
	do { \
		json_out_lit((o), sep "\"" name "\":"); \
		json_out_int((o), (v)); \
	} while (0)

/* Room for any int64_t in decimal, sign included. */
#define JSON_OUT_INT_MAX 21
/* Writes v in decimal to out (not NUL-terminated); returns its length. */
size_t json_out_format_int(char out[JSON_OUT_INT_MAX], int64_t v);

#endif
