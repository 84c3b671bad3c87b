/*
 * Delete a circle: replay its events, let the domain decide, append the
 * delete with the projection row that marks the circle deleted (which frees
 * its name for others).
 */
#include "command/command_pipeline.h"

static enum cerr
delete_circle_run(const struct command_ctx *ctx, const char *id, bool has_version,
		  uint64_t expected_version, const struct write_key *key, struct cerr_info *info)
{
	struct circle_command c;
	struct circle_event ev;
	struct circle after;
	struct keyed_write kw;
	enum cerr rc;

	if ((rc = circle_command_begin(ctx, id, &c, info)) != CE_OK)
		return rc;
	if (key != NULL) {
		const struct keyed_body body = {NULL, false, 0, NULL};

		rc = keyed_write_init(&kw, key, "DELETE", c.circle_id, &body, 204, info);
		if (rc == CE_OK)
			rc = keyed_write_find(ctx, &kw, &after, info);
		if (rc != CE_NOT_FOUND)
			return rc;
	}
	rc = circle_decide_delete(&c.state, has_version, expected_version, &c.meta, &ev, info);
	if (rc != CE_OK)
		return rc;
	rc = circle_command_append(ctx, &c, &ev, key != NULL ? &kw.idem : NULL, &after, info);
	if (rc == CE_IDEMPOTENCY_KEY_TAKEN)
		return keyed_write_taken(ctx, &kw, &after, info);
	return rc;
}

enum cerr
delete_circle(const struct command_ctx *ctx, const char *id, bool has_version,
	      uint64_t expected_version, const struct write_key *key, struct cerr_info *info)
{
	enum cerr rc = delete_circle_run(ctx, id, has_version, expected_version, key, info);

	command_end(ctx);
	return rc;
}
