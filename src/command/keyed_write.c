/*
 * Idempotency-Key on every write: the canonical form of a request, and the
 * answer to a repeat. The key row is written in the transaction of the write
 * it remembers (the store's append), so a key names exactly the writes that
 * committed, and of two racing writes under one key the database's primary
 * key lets one commit; the other then finds the first one's answer here.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "command/command_pipeline.h"

/* Appends a formatted line to kw->request; false when it does not fit. */
static bool __attribute__((format(printf, 3, 4)))
add(struct keyed_write *kw, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(kw->request + *used, sizeof kw->request - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof kw->request - *used)
		return false;
	*used += (size_t)n;
	return true;
}

enum cerr
keyed_write_init(struct keyed_write *kw, const struct write_key *key, const char *method,
		 const char *id, const struct keyed_body *body, int status, struct cerr_info *info)
{
	const char *name;
	size_t used = 0;
	bool ok;

	memset(kw, 0, sizeof *kw);
	if (key == NULL || key->key == NULL || method == NULL || body == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	name = body->name;
	kw->idem.key = key->key;
	kw->idem.request = kw->request;
	kw->idem.status = status;
	if (id == NULL) {
		kw->create_name = name;
		kw->create_capacity = body->capacity;
		kw->create_has_description = body->description != NULL;
	}
	/*
	 * One member a line, each present only when the request had it, the
	 * name last: a name or description holds no control character, so no
	 * line break, and two requests have one form exactly when they mean
	 * the same. A request without a description has the form it had
	 * before descriptions existed, so keys remembered then still match.
	 */
	ok = add(kw, &used, "%s /circle%s%s\n", method, id != NULL ? "/" : "",
		 id != NULL ? id : "");
	if (ok && body->has_capacity)
		ok = add(kw, &used, "capacity %d\n", body->capacity);
	if (ok && key->has_body_version)
		ok = add(kw, &used, "version %" PRIu64 "\n", key->body_version);
	if (ok && key->has_if_match)
		ok = add(kw, &used, "if-match %" PRIu64 "\n", key->if_match);
	if (ok && key->has_query_version)
		ok = add(kw, &used, "?version %" PRIu64 "\n", key->query_version);
	if (ok && body->description != NULL)
		ok = add(kw, &used, "description %s\n", body->description);
	if (ok && name != NULL)
		ok = add(kw, &used, "circle_name %s", name);
	if (!ok)
		return cerr_set(info, CE_INTERNAL, NULL, "the request is too long to remember");
	return CE_OK;
}

/* Whether rec answered the request of kw. */
static bool
same_request(const struct keyed_write *kw, struct idem_record *rec)
{
	/* written before requests were remembered: only creates had keys, and
	 * a create answers 201 with version 1 */
	if (rec->request[0] == '\0') {
		rec->status = 201;
		rec->version = 1;
		rec->deleted = false;
		return kw->create_name != NULL && !kw->create_has_description &&
		       strcmp(rec->name, kw->create_name) == 0 &&
		       rec->capacity == kw->create_capacity;
	}
	return strcmp(rec->request, kw->request) == 0;
}

enum cerr
keyed_write_find(const struct command_ctx *ctx, const struct keyed_write *kw, struct circle *out,
		 struct cerr_info *info)
{
	struct idem_record rec;
	enum cerr rc;

	memset(&rec, 0, sizeof rec);
	rc = ctx->store->idem_find(ctx->store->self, kw->idem.key, &rec);
	switch (rc) {
	case CE_OK: break;
	case CE_NOT_FOUND: return CE_NOT_FOUND;
	case CE_UNAVAILABLE: return cerr_unavailable(info);
	default: return cerr_set(info, CE_INTERNAL, NULL, "idempotency lookup failed");
	}
	/* the record comes from storage: do not trust its termination */
	rec.request[sizeof rec.request - 1] = '\0';
	rec.name[sizeof rec.name - 1] = '\0';
	rec.description[sizeof rec.description - 1] = '\0';
	rec.circle_id[sizeof rec.circle_id - 1] = '\0';
	if (!same_request(kw, &rec) || rec.status != kw->idem.status)
		return cerr_set(info, CE_IDEMPOTENCY_KEY_REUSED, "Idempotency-Key",
				"this Idempotency-Key was used with another request");
	memset(out, 0, sizeof *out);
	if (!text_uuid_lower(rec.circle_id, strlen(rec.circle_id), out->id) || rec.version < 1)
		return cerr_set(info, CE_INTERNAL, NULL, "remembered answer is malformed");
	memcpy(out->name, rec.name, sizeof out->name);
	out->capacity = rec.capacity;
	out->version = rec.version;
	out->deleted = rec.deleted;
	memcpy(out->description, rec.description, sizeof out->description);
	return cerr_set(info, CE_OK, NULL, NULL);
}

enum cerr
keyed_write_taken(const struct command_ctx *ctx, const struct keyed_write *kw, struct circle *out,
		  struct cerr_info *info)
{
	enum cerr rc = keyed_write_find(ctx, kw, out, info);

	if (rc == CE_NOT_FOUND)
		return cerr_set(info, CE_INTERNAL, NULL, "Idempotency-Key taken but not found");
	return rc;
}
