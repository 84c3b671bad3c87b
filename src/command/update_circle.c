/*
 * Update a circle: replay its events, let the domain decide, append the
 * update with its projection. An update that changes nothing appends nothing
 * (under an Idempotency-Key, only the key is remembered with its answer).
 */
#include <string.h>

#include "command/command_pipeline.h"

/* Remembers the key of an update that appended nothing. */
static enum cerr
remember_unchanged(const struct command_ctx *ctx, const struct keyed_write *kw, struct circle *out,
		   struct cerr_info *info)
{
	enum cerr rc = ctx->store->idem_remember(ctx->store->self, &kw->idem, out);

	switch (rc) {
	case CE_OK: return cerr_set(info, CE_OK, NULL, NULL);
	case CE_IDEMPOTENCY_KEY_TAKEN: return keyed_write_taken(ctx, kw, out, info);
	case CE_UNAVAILABLE: return cerr_unavailable(info);
	default: return cerr_set(info, CE_INTERNAL, NULL, "remembering the key failed");
	}
}

static enum cerr
update_circle_run(const struct command_ctx *ctx, const char *id, const struct circle_update *cmd,
		  const struct write_key *key, struct circle *out, struct cerr_info *info)
{
	struct circle_command c;
	struct circle_event ev;
	struct keyed_write kw;
	bool changed = false;
	enum cerr rc;

	if (cmd == NULL || out == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	if ((rc = circle_command_begin(ctx, id, &c, info)) != CE_OK)
		return rc;
	if (key != NULL) {
		const struct keyed_body body = {
			cmd->has_name ? cmd->name : NULL,
			cmd->has_capacity,
			cmd->capacity,
			cmd->has_description ? cmd->description : NULL,
		};

		rc = keyed_write_init(&kw, key, key->method != NULL ? key->method : "PUT",
				      c.circle_id, &body, 200, info);
		if (rc == CE_OK)
			rc = keyed_write_find(ctx, &kw, out, info);
		if (rc != CE_NOT_FOUND)
			return rc;
	}
	rc = circle_decide_update(&c.state, cmd, &c.meta, &ev, &changed, info);
	if (rc != CE_OK)
		return rc;
	if (!changed) {
		*out = c.state;
		if (key != NULL)
			return remember_unchanged(ctx, &kw, out, info);
		return cerr_set(info, CE_OK, NULL, NULL);
	}
	rc = circle_command_append(ctx, &c, &ev, key != NULL ? &kw.idem : NULL, out, info);
	if (rc == CE_IDEMPOTENCY_KEY_TAKEN)
		return keyed_write_taken(ctx, &kw, out, info);
	return rc;
}

enum cerr
update_circle(const struct command_ctx *ctx, const char *id, const struct circle_update *cmd,
	      const struct write_key *key, struct circle *out, struct cerr_info *info)
{
	enum cerr rc = update_circle_run(ctx, id, cmd, key, out, info);

	command_end(ctx);
	return rc;
}
