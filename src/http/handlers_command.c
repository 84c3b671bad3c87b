/*
 * The command side: POST, PUT, PATCH and DELETE over the command use cases.
 * Checks run in the contract's order and the first failure answers: the id,
 * the media type, the body, the headers and parameters; the use case then
 * checks existence, that a version was given, that it matches, and last the
 * name's uniqueness.
 */
#include <stdio.h>
#include <string.h>

#include "command/commands.h"
#include "http/circle_json.h"
#include "http/handlers.h"
#include "http/request_headers.h"
#include "http/request_params.h"
#include "http/json_body.h"

static enum cerr
media_type(const struct http_request *req, struct cerr_info *info)
{
	if (headers_is_json(req->content_type))
		return CE_OK;
	return cerr_set(info, CE_UNSUPPORTED_MEDIA_TYPE, NULL,
			"the body must be sent as Content-Type: application/json");
}

/* The digits of an If-Match value that headers_if_match() accepted. */
static const char *
if_match_digits(const char *value, size_t *len)
{
	const char *d = strchr(value, '"') + 1;

	*len = strcspn(d, "\"");
	return d;
}

/*
 * Merges the version from the body (or ?version) with If-Match: either may
 * be given alone; both must agree. Both are decimal without leading zeros,
 * so two versions too large to hold (both saturated) agree only when their
 * digits do.
 */
static enum cerr
expected_version(const struct http_request *req, bool has_other, uint64_t other,
		 const char *other_digits, size_t other_len, bool *has, uint64_t *version,
		 struct write_key *key, struct cerr_info *info)
{
	uint64_t tag = 0;
	const char *digits;
	size_t len;
	enum cerr rc;

	*has = has_other;
	*version = other;
	if (req->if_match == NULL)
		return CE_OK;
	rc = headers_if_match(req->if_match, &tag, info);
	if (rc != CE_OK)
		return rc;
	digits = if_match_digits(req->if_match, &len);
	if (has_other &&
	    (other != tag || (tag == UINT64_MAX && (other_digits == NULL || other_len != len ||
						    memcmp(other_digits, digits, len) != 0))))
		return cerr_set(info, CE_INVALID_FIELD, "version",
				"the version and If-Match disagree");
	key->has_if_match = true;
	key->if_match = tag;
	*has = true;
	*version = tag;
	return CE_OK;
}

/*
 * The Idempotency-Key of a write with what of the request the command does
 * not carry; *out_key NULL when the request has no key. The header is
 * checked here (400 invalid_header) with the other headers.
 */
static enum cerr
write_key(const struct http_request *req, struct write_key *key, const struct write_key **out_key,
	  struct cerr_info *info)
{
	enum cerr rc = headers_idempotency_key(req->idempotency_key, info);

	*out_key = NULL;
	if (rc != CE_OK)
		return rc;
	key->key = req->idempotency_key;
	key->method = req->method;
	if (req->idempotency_key != NULL)
		*out_key = key;
	return CE_OK;
}

/*
 * The commit token of the command that just succeeded, as Circle-Commit on
 * its (successful) answer. A token that cannot be had (the database went
 * away after an unchanged update read it) turns the answer into that error:
 * nothing was committed then, so a retry is safe.
 */
static void
answer_commit(const struct http_app *app, struct http_response *resp)
{
	char token[COMMIT_TOKEN_MAX + 1];
	struct cerr_info info = {0};
	enum cerr rc = command_commit_token(app->commands, token);

	if (rc != CE_OK) {
		cerr_set(&info, rc, NULL, "the position of the write cannot be read");
		http_response_error(resp, &info);
		return;
	}
	if (resp->status >= 200 && resp->status < 300)
		snprintf(resp->commit, sizeof(resp->commit), "%s", token);
}

/*
 * POST /circle  {"circle_name": S, "capacity": N, "description"?: S}
 * 201 with Location, ETag "1" and the circle (a replay under the same
 * Idempotency-Key answers the same); 415 not JSON; 400 invalid_json,
 * unknown_field, missing_field, invalid_field, invalid_header
 * (Idempotency-Key); 409 duplicate_name; 422 idempotency_key_reused;
 * 503 database down.
 */
static void
create(const struct http_app *app, const struct http_request *req, const struct http_params *params,
       struct http_response *resp)
{
	struct cerr_info info = {0};
	struct create_body body;
	struct write_key key = {0};
	const struct write_key *k;
	struct circle c;
	bool replayed = false;

	(void)params;
	if (media_type(req, &info) != CE_OK ||
	    json_body_create(req->body, req->body_len, &body, &info) != CE_OK ||
	    write_key(req, &key, &k, &info) != CE_OK ||
	    create_circle(app->commands, body.name, body.capacity,
			  body.has_description ? body.description : NULL, k, &c, &replayed,
			  &info) != CE_OK) {
		http_response_error(resp, &info);
		return;
	}
	http_response_circle(resp, 201, &c);
	if (resp->status == 201)
		snprintf(resp->location, sizeof(resp->location), "/circle/%s", c.id);
	answer_commit(app, resp);
}

/*
 * PUT and PATCH /circle/{id}  {"circle_name"?, "capacity"?, "description"?,
 * "version"?}
 * 200 with ETag and the circle at its new version (the same one when
 * nothing changed); 400 invalid_circle_id, invalid_json, unknown_field,
 * invalid_field, nothing_to_update, invalid_header (If-Match), invalid_field
 * "version" (body and If-Match disagree); 415 not JSON; 404; 410; 428 no
 * version; 409 version_mismatch (with current_version) or duplicate_name;
 * 503 database down.
 */
static void
update(const struct http_app *app, const struct http_request *req, const struct http_params *params,
       struct http_response *resp)
{
	struct cerr_info info = {0};
	char id[CIRCLE_ID_LEN + 1];
	struct update_body body;
	struct circle_update cmd = {0};
	struct write_key key = {0};
	const struct write_key *k;
	struct circle c;

	if (path_circle_id(params->id, params->id_len, id, &info) != CE_OK ||
	    media_type(req, &info) != CE_OK ||
	    json_body_update(req->body, req->body_len, &body, &info) != CE_OK ||
	    expected_version(req, body.has_version, body.version, body.version_digits,
			     body.version_digits_len, &cmd.has_version, &cmd.expected_version, &key,
			     &info) != CE_OK ||
	    write_key(req, &key, &k, &info) != CE_OK)
		goto fail;
	cmd.has_name = body.has_name;
	cmd.name = body.has_name ? body.name : NULL;
	cmd.has_capacity = body.has_capacity;
	cmd.capacity = body.capacity;
	cmd.has_description = body.has_description;
	cmd.description = body.has_description ? body.description : NULL;
	key.has_body_version = body.has_version;
	key.body_version = body.version;
	if (update_circle(app->commands, id, &cmd, k, &c, &info) != CE_OK)
		goto fail;
	http_response_circle(resp, 200, &c);
	answer_commit(app, resp);
	return;
fail:
	http_response_error(resp, &info);
}

/*
 * DELETE /circle/{id}  with If-Match: "V" or ?version=V
 * 204; 400 invalid_circle_id, invalid_header (If-Match), invalid_parameter
 * (version), invalid_field "version" (the two disagree); 404; 410; 428 no
 * version; 409 version_mismatch; 422 idempotency_key_reused; 503 database
 * down. A repeat under the same Idempotency-Key answers 204 again.
 */
static void delete (const struct http_app *app, const struct http_request *req,
		    const struct http_params *params, struct http_response *resp)
{
	struct cerr_info info = {0};
	char id[CIRCLE_ID_LEN + 1];
	char digits[1024]; /* as params_version() reads it */
	bool has_param, has_version;
	uint64_t param = 0, version = 0;
	struct write_key key = {0};
	const struct write_key *k = NULL;

	if (path_circle_id(params->id, params->id_len, id, &info) != CE_OK ||
	    params_version(req->query, &has_param, &param, &info) != CE_OK)
		goto fail;
	if (!has_param || params_get(req->query, "version", digits, sizeof(digits)) != 1)
		digits[0] = '\0';
	if (expected_version(req, has_param, param, digits, strlen(digits), &has_version, &version,
			     &key, &info) != CE_OK ||
	    write_key(req, &key, &k, &info) != CE_OK)
		goto fail;
	key.has_query_version = has_param;
	key.query_version = param;
	if (delete_circle(app->commands, id, has_version, version, k, &info) != CE_OK)
		goto fail;
	resp->status = 204;
	answer_commit(app, resp);
	return;
fail:
	http_response_error(resp, &info);
}

#define COMMAND_ROW(name, method, pattern, side, handler) \
	[ROUTE_##name] = ROUTE_HANDLER(WRITE, side, handler),
const http_handler command_handlers[ROUTE__MAX] = {CIRCLE_ROUTES(COMMAND_ROW)};
