/*
 * Create a circle: decide the create event, append it with its projection,
 * and honour an Idempotency-Key by answering a remembered create again.
 */
#include <string.h>

#include "command/command_pipeline.h"

static enum cerr
create_circle_run(const struct command_ctx *ctx, const char *name, int capacity,
		  const char *description, const struct write_key *key, struct circle *out,
		  bool *replayed, struct cerr_info *info)
{
	char circle_id[CIRCLE_ID_LEN + 1], event_id[CIRCLE_ID_LEN + 1];
	char now[CIRCLE_TIME_LEN + 1];
	struct event_meta meta = {event_id, now};
	struct keyed_write kw;
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
	rc = circle_decide_create(circle_id, name, capacity, description, &meta, &ev, info);
	if (rc != CE_OK)
		return rc;
	if (circle_replay(&after, &ev, 1) != CE_OK)
		return cerr_set(info, CE_INTERNAL, NULL, "create event does not apply");

	if (key != NULL) {
		const struct keyed_body body = {name, true, capacity, description};

		rc = keyed_write_init(&kw, key, "POST", NULL, &body, 201, info);
		if (rc == CE_OK)
			rc = keyed_write_find(ctx, &kw, out, info);
		if (rc == CE_OK)
			*replayed = true;
		if (rc != CE_NOT_FOUND)
			return rc;
	}

	rc = ctx->store->append(ctx->store->self, &ev, &after, key != NULL ? &kw.idem : NULL);
	switch (rc) {
	case CE_OK: *out = after; return cerr_set(info, CE_OK, NULL, NULL);
	case CE_IDEMPOTENCY_KEY_TAKEN:
		if (key == NULL)
			break;
		/* a concurrent create with this key committed first: answer as its repeat */
		rc = keyed_write_taken(ctx, &kw, out, info);
		if (rc == CE_OK)
			*replayed = true;
		return rc;
	case CE_DUPLICATE_NAME:
		return cerr_set(info, rc, "circle_name", "a live circle already has this name");
	case CE_UNAVAILABLE: return cerr_unavailable(info);
	default: break;
	}
	return cerr_set(info, CE_INTERNAL, NULL, "appending the create event failed");
}

enum cerr
create_circle(const struct command_ctx *ctx, const char *name, int capacity,
	      const char *description, const struct write_key *key, struct circle *out,
	      bool *replayed, struct cerr_info *info)
{
	enum cerr rc =
		create_circle_run(ctx, name, capacity, description, key, out, replayed, info);

	command_end(ctx);
	return rc;
}
