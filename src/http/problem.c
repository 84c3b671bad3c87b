/*
 * Error codes to HTTP: the single table every handler goes through, so a
 * status, its title and its problem code can never disagree across routes.
 */
#include <json-c/json.h>

#include "http/problem.h"

static const struct problem_kind kinds[CE__MAX] = {
	/* CE_OK never reaches a problem body; if it does it is a bug */
	[CE_OK] = {500, "Internal Server Error", "internal", NULL},
	[CE_INVALID_JSON] = {400, "Bad Request", "invalid_json", NULL},
	[CE_UNKNOWN_FIELD] = {400, "Bad Request", "unknown_field", "field"},
	[CE_MISSING_FIELD] = {400, "Bad Request", "missing_field", "field"},
	[CE_INVALID_FIELD] = {400, "Bad Request", "invalid_field", "field"},
	[CE_INVALID_CIRCLE_ID] = {400, "Bad Request", "invalid_circle_id", NULL},
	[CE_INVALID_PARAMETER] = {400, "Bad Request", "invalid_parameter", "parameter"},
	[CE_INVALID_HEADER] = {400, "Bad Request", "invalid_header", "header"},
	[CE_NOTHING_TO_UPDATE] = {400, "Bad Request", "nothing_to_update", NULL},
	[CE_NOT_FOUND] = {404, "Not Found", "not_found", NULL},
	[CE_GONE] = {410, "Gone", "gone", NULL},
	[CE_METHOD_NOT_ALLOWED] = {405, "Method Not Allowed", "method_not_allowed", NULL},
	[CE_PRECONDITION_REQUIRED] = {428, "Precondition Required", "precondition_required", NULL},
	[CE_VERSION_MISMATCH] = {409, "Conflict", "version_mismatch", NULL},
	[CE_DUPLICATE_NAME] = {409, "Conflict", "duplicate_name", NULL},
	[CE_IDEMPOTENCY_KEY_REUSED] = {422, "Unprocessable Content", "idempotency_key_reused",
				       NULL},
	/* the use case resolves a held key itself; seeing it here is a bug */
	[CE_IDEMPOTENCY_KEY_TAKEN] = {500, "Internal Server Error", "internal", NULL},
	[CE_PAYLOAD_TOO_LARGE] = {413, "Content Too Large", "payload_too_large", NULL},
	[CE_UNSUPPORTED_MEDIA_TYPE] = {415, "Unsupported Media Type", "unsupported_media_type",
				       NULL},
	[CE_UNAVAILABLE] = {503, "Service Unavailable", "service_unavailable", NULL},
	[CE_NOT_CAUGHT_UP] = {503, "Service Unavailable", "not_caught_up", NULL},
	[CE_INTERNAL] = {500, "Internal Server Error", "internal", NULL},
};

const struct problem_kind *
problem_kind(enum cerr code)
{
	if ((unsigned)code >= CE__MAX)
		return &kinds[CE_INTERNAL];
	return &kinds[code];
}

/* Adds key: string; returns -1 when out of memory. */
static int
add_string(json_object *obj, const char *key, const char *val)
{
	json_object *s = json_object_new_string(val);

	if (s == NULL)
		return -1;
	if (json_object_object_add(obj, key, s) != 0) {
		json_object_put(s);
		return -1;
	}
	return 0;
}

static int
add_int(json_object *obj, const char *key, int64_t val)
{
	json_object *n = json_object_new_int64(val);

	if (n == NULL)
		return -1;
	if (json_object_object_add(obj, key, n) != 0) {
		json_object_put(n);
		return -1;
	}
	return 0;
}

json_object *
problem_json_new(const struct cerr_info *info)
{
	enum cerr code = info != NULL ? info->code : CE_INTERNAL;
	const struct problem_kind *k = problem_kind(code);
	const char *detail = info != NULL && info->detail != NULL ? info->detail : k->title;
	json_object *obj = json_object_new_object();

	if (obj == NULL)
		return NULL;
	if (add_int(obj, "status", k->status) != 0 || add_string(obj, "title", k->title) != 0 ||
	    add_string(obj, "code", k->code) != 0 || add_string(obj, "detail", detail) != 0)
		goto fail;
	if (k->member != NULL && info != NULL && info->subject != NULL &&
	    add_string(obj, k->member, info->subject) != 0)
		goto fail;
	if (code == CE_VERSION_MISMATCH && info != NULL &&
	    add_int(obj, "current_version", info->current_version) != 0)
		goto fail;
	return obj;
fail:
	json_object_put(obj);
	return NULL;
}
