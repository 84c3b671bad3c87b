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
#include <string.h>

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

/* Room for any int64_t in decimal, sign included. */
#define JSON_OUT_INT_MAX 21
/* Writes v in decimal to out (not NUL-terminated); returns its length. */
size_t json_out_format_int(char out[JSON_OUT_INT_MAX], int64_t v);

/*
 * Several values under one reservation, for text written very often (a
 * circle of a page): json_out_room() makes room for n more bytes and
 * returns where they go (NULL once the writer failed); the json_put_*
 * writers fill it, each returning the end of what it wrote; json_out_end()
 * takes that end. The room asked for must cover the longest text the puts
 * can write: JSON_PUT_STR_MAX(n) for a string of n bytes, JSON_OUT_INT_MAX
 * for an integer, the literal's length for a literal.
 */
char *json_out_room(struct json_out *o, size_t n);
void json_out_end(struct json_out *o, char *end);
/* every byte as \u00XX, plus the quotes */
#define JSON_PUT_STR_MAX(n) ((n)*6 + 2)
char *json_put_str(char *d, const char *s, size_t n);
char *json_put_int(char *d, int64_t v);
#define json_put_lit(d, s) ((char *)memcpy((d), (s), sizeof(s) - 1) + sizeof(s) - 1)

#endif
