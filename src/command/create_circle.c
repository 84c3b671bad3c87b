/*
 * Create a circle: decide the create event, append it with its projection,
 * and honour an Idempotency-Key by answering a remembered create again.
 */
#include <string.h>

#include "command/commands.h"

/* Answers a repeat of a remembered create: the first circle, or a refusal
 * when the body differs. */
static enum cerr
answer_repeat(struct idem_record *rec, const char *name, int capacity, struct circle *out,
	      bool *replayed, struct cerr_info *info)
{
	/* the record comes from storage: do not trust its termination */
	rec->name[sizeof rec->name - 1] = '\0';
	rec->circle_id[sizeof rec->circle_id - 1] = '\0';
	if (strcmp(rec->name, name) != 0 || rec->capacity != capacity)
		return cerr_set(info, CE_IDEMPOTENCY_KEY_REUSED, "Idempotency-Key",
				"this Idempotency-Key was used with another body");
	memset(out, 0, sizeof *out);
	if (!text_uuid_lower(rec->circle_id, strlen(rec->circle_id), out->id))
		return cerr_set(info, CE_INTERNAL, NULL, "remembered circle id is malformed");
	memcpy(out->name, rec->name, sizeof out->name);
	out->capacity = rec->capacity;
	out->version = 1;
	*replayed = true;
	return cerr_set(info, CE_OK, NULL, NULL);
}

/* Looks the key up: CE_OK with an answer given, CE_NOT_FOUND to go on. */
static enum cerr
find_repeat(const struct command_ctx *ctx, const char *key, const char *name, int capacity,
	    struct circle *out, bool *replayed, struct cerr_info *info)
{
	struct idem_record rec;
	enum cerr rc;

	memset(&rec, 0, sizeof rec);
	rc = ctx->store->idem_find(ctx->store->self, key, &rec);
	switch (rc) {
	case CE_OK: return answer_repeat(&rec, name, capacity, out, replayed, info);
	case CE_NOT_FOUND: return CE_NOT_FOUND;
	case CE_UNAVAILABLE: return cerr_unavailable(info);
	default: return cerr_set(info, CE_INTERNAL, NULL, "idempotency lookup failed");
	}
}

enum cerr
create_circle(const struct command_ctx *ctx, const char *name, int capacity, const char *idem_key,
	      struct circle *out, bool *replayed, struct cerr_info *info)
{
	char circle_id[CIRCLE_ID_LEN + 1], event_id[CIRCLE_ID_LEN + 1];
	char now[CIRCLE_TIME_LEN + 1];
	struct event_meta meta = {event_id, now};
	struct idem_key key = {idem_key};
	struct circle_event ev;
	struct circle after;
	enum cerr rc;

	if (ctx == NULL || ctx->store == NULL || ctx->new_id == NULL || ctx->now == NULL ||
	    out == NULL || replayed == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	*replayed = false;

	memset(circle_id, 0, sizeof circle_id);
	memset(event_id, 0, sizeof event_id);
	memset(now, 0, sizeof now);
	ctx->new_id(circle_id);
	ctx->new_id(event_id);
	ctx->now(now);
	/* the rules first: a refused body never reaches storage */
	if ((rc = circle_decide_create(circle_id, name, capacity, &meta, &ev, info)) != CE_OK)
		return rc;
	if (circle_replay(&after, &ev, 1) != CE_OK)
		return cerr_set(info, CE_INTERNAL, NULL, "create event does not apply");

	if (idem_key != NULL) {
		rc = find_repeat(ctx, idem_key, name, capacity, out, replayed, info);
		if (rc != CE_NOT_FOUND)
			return rc;
	}

	rc = ctx->store->append(ctx->store->self, &ev, &after, idem_key != NULL ? &key : NULL);
	switch (rc) {
	case CE_OK: *out = after; return cerr_set(info, CE_OK, NULL, NULL);
	case CE_IDEMPOTENCY_KEY_TAKEN:
		if (idem_key == NULL)
			break;
		/* a concurrent create with this key committed first: answer as its repeat */
		rc = find_repeat(ctx, idem_key, name, capacity, out, replayed, info);
		if (rc == CE_NOT_FOUND)
			return cerr_set(info, CE_INTERNAL, NULL,
					"Idempotency-Key taken but not found");
		return rc;
	case CE_DUPLICATE_NAME:
		return cerr_set(info, rc, "circle_name", "a live circle already has this name");
	case CE_UNAVAILABLE: return cerr_unavailable(info);
	default: break;
	}
	return cerr_set(info, CE_INTERNAL, NULL, "appending the create event failed");
}
