/*
 * Error codes to HTTP: the single table every handler goes through, so a
 * status, its title and its problem code can never disagree across routes.
 */
#include <json-c/json.h>

#include "codec/json_member.h"
#include "http/http.h"
#include "http/problem.h"

static const struct problem_kind kinds[CE__MAX] = {
	/* CE_OK never reaches a problem body; if it does it is a bug */
	[CE_OK] = {HTTP_STATUS(500), "internal", NULL},
	[CE_INVALID_JSON] = {HTTP_STATUS(400), "invalid_json", NULL},
	[CE_UNKNOWN_FIELD] = {HTTP_STATUS(400), "unknown_field", "field"},
	[CE_MISSING_FIELD] = {HTTP_STATUS(400), "missing_field", "field"},
	[CE_INVALID_FIELD] = {HTTP_STATUS(400), "invalid_field", "field"},
	[CE_INVALID_CIRCLE_ID] = {HTTP_STATUS(400), "invalid_circle_id", NULL},
	[CE_INVALID_PARAMETER] = {HTTP_STATUS(400), "invalid_parameter", "parameter"},
	[CE_INVALID_HEADER] = {HTTP_STATUS(400), "invalid_header", "header"},
	[CE_NOTHING_TO_UPDATE] = {HTTP_STATUS(400), "nothing_to_update", NULL},
	[CE_NOT_FOUND] = {HTTP_STATUS(404), "not_found", NULL},
	[CE_GONE] = {HTTP_STATUS(410), "gone", NULL},
	[CE_METHOD_NOT_ALLOWED] = {HTTP_STATUS(405), "method_not_allowed", NULL},
	[CE_PRECONDITION_REQUIRED] = {HTTP_STATUS(428), "precondition_required", NULL},
	[CE_VERSION_MISMATCH] = {HTTP_STATUS(409), "version_mismatch", NULL},
	[CE_DUPLICATE_NAME] = {HTTP_STATUS(409), "duplicate_name", NULL},
	[CE_IDEMPOTENCY_KEY_REUSED] = {HTTP_STATUS(422), "idempotency_key_reused", NULL},
	/* the use case resolves a held key itself; seeing it here is a bug */
	[CE_IDEMPOTENCY_KEY_TAKEN] = {HTTP_STATUS(500), "internal", NULL},
	[CE_PAYLOAD_TOO_LARGE] = {HTTP_STATUS(413), "payload_too_large", NULL},
	[CE_UNSUPPORTED_MEDIA_TYPE] = {HTTP_STATUS(415), "unsupported_media_type", NULL},
	[CE_UNAVAILABLE] = {HTTP_STATUS(503), "service_unavailable", NULL},
	[CE_NOT_CAUGHT_UP] = {HTTP_STATUS(503), "not_caught_up", NULL},
	[CE_INTERNAL] = {HTTP_STATUS(500), "internal", NULL},
};

const struct problem_kind *
problem_kind(enum cerr code)
{
	if ((unsigned)code >= CE__MAX)
		return &kinds[CE_INTERNAL];
	return &kinds[code];
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
	if (json_member_add(obj, "status", json_object_new_int64(k->status)) != 0 ||
	    json_member_add(obj, "title", json_object_new_string(k->title)) != 0 ||
	    json_member_add(obj, "code", json_object_new_string(k->code)) != 0 ||
	    json_member_add(obj, "detail", json_object_new_string(detail)) != 0)
		goto fail;
	if (k->member != NULL && info != NULL && info->subject != NULL &&
	    json_member_add(obj, k->member, json_object_new_string(info->subject)) != 0)
		goto fail;
	if (code == CE_VERSION_MISMATCH && info != NULL &&
	    json_member_add(obj, "current_version", json_object_new_int64(info->current_version)) !=
		    0)
		goto fail;
	return obj;
fail:
	json_object_put(obj);
	return NULL;
}
