/*
 * Request bodies: a strict JSON check and the two command bodies.
 *
 * json_body_validate() accepts only RFC 8259 JSON text that is one object:
 * valid UTF-8, no byte order mark, no unpaired surrogate escape, no member
 * named twice in one object (names compared after decoding, at any depth),
 * at most JSON_BODY_MAX_DEPTH nested objects and arrays, nothing after the
 * value. Everything else is CE_INVALID_JSON with a static detail.
 *
 * The member checks then read the top-level values as they were written, so
 * "capacity": 3.0 or 1e3 can be told from 3, and a name is decoded exactly
 * as sent (nothing a general parser might replace or truncate).
 */
#ifndef CIRCLE_HTTP_JSON_BODY_H
#define CIRCLE_HTTP_JSON_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/circle.h"

#define JSON_BODY_MAX_DEPTH 32
/* How much of an unknown member's name a problem repeats. */
#define JSON_BODY_NAME_ECHO 128

/*
 * Called for each member of the top-level object, in document order:
 * name is the decoded name (name_len bytes, may hold NUL), value the raw
 * text of the value (borrowed from the body).
 */
typedef void (*json_member_fn)(void *ctx, const char *name, size_t name_len, const char *value,
			       size_t value_len);

/* CE_OK or CE_INVALID_JSON (info filled). member may be NULL. */
enum cerr json_body_validate(const char *buf, size_t len, json_member_fn member, void *ctx,
			     struct cerr_info *info);

/*
 * Decodes a JSON string token (with its quotes) as written by a validated
 * body into out[out_size]; returns the decoded length, or (size_t)-1 when it
 * is not a string token or does not fit. out is not NUL-terminated.
 */
size_t json_body_decode_string(const char *tok, size_t tok_len, char *out, size_t out_size);

/* POST /circle: {"circle_name": S, "capacity": N, "description"?: S},
 * name and capacity required. */
struct create_body {
	char name[CIRCLE_NAME_MAX_BYTES + 1]; /* NUL-terminated, passed the name rule */
	int capacity;
	bool has_description;
	char description[CIRCLE_DESCRIPTION_MAX_BYTES + 1]; /* passed its rule; may be "" */
	char unknown[JSON_BODY_NAME_ECHO + 1];              /* info->subject of unknown_field */
};

/* PUT/PATCH /circle/{id}: {"circle_name"?, "capacity"?, "description"?,
 * "version"?}. */
struct update_body {
	bool has_name;
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	bool has_capacity;
	int capacity;
	bool has_description;
	char description[CIRCLE_DESCRIPTION_MAX_BYTES + 1]; /* "": remove it */
	bool has_version;
	uint64_t version; /* >= 1, saturated at UINT64_MAX */
	/* its digits as sent, borrowed from the body: two versions that both
	 * saturate are told apart by them */
	const char *version_digits;
	size_t version_digits_len;
	char unknown[JSON_BODY_NAME_ECHO + 1];
};

/*
 * Parse and check a body. Errors: CE_INVALID_JSON, CE_UNKNOWN_FIELD,
 * CE_MISSING_FIELD, CE_INVALID_FIELD (subject names the member),
 * CE_NOTHING_TO_UPDATE (update only). For CE_UNKNOWN_FIELD info->subject
 * points into out->unknown, so it lives as long as *out.
 */
enum cerr json_body_create(const char *buf, size_t len, struct create_body *out,
			   struct cerr_info *info);
enum cerr json_body_update(const char *buf, size_t len, struct update_body *out,
			   struct cerr_info *info);

#endif
