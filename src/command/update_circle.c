/*
 * Update a circle: replay its events, let the domain decide, append the
 * update with its projection. An update that changes nothing appends nothing.
 */
#include <string.h>

#include "command/load_circle.h"

enum cerr
update_circle(const struct command_ctx *ctx, const char *id,
	      const struct circle_update *cmd, struct circle *out,
	      struct cerr_info *info)
{
	char circle_id[CIRCLE_ID_LEN + 1], event_id[CIRCLE_ID_LEN + 1];
	char now[CIRCLE_TIME_LEN + 1];
	struct event_meta meta = { event_id, now };
	struct circle state, after;
	struct circle_event ev;
	bool changed = false;
	enum cerr rc;

	if (ctx == NULL || ctx->store == NULL || ctx->new_id == NULL || ctx->now == NULL ||
	    cmd == NULL || out == NULL || id == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	if (!circle_id_valid(id, strnlen(id, CIRCLE_ID_LEN + 1)))
		return cerr_set(info, CE_INVALID_CIRCLE_ID, NULL, "the circle id is not a UUID");
	circle_id_normalize(id, circle_id);

	if ((rc = load_circle(ctx, circle_id, &state, info)) != CE_OK)
		return rc;
	memset(event_id, 0, sizeof event_id);
	memset(now, 0, sizeof now);
	ctx->new_id(event_id);
	ctx->now(now);
	rc = circle_decide_update(&state, cmd, &meta, &ev, &changed, info);
	if (rc != CE_OK)
		return rc;
	if (!changed) {
		*out = state;
		return cerr_set(info, CE_OK, NULL, NULL);
	}
	after = state;
	if (circle_apply(&after, &ev) != CE_OK)
		return cerr_set(info, CE_INTERNAL, NULL, "update event does not apply");

	rc = ctx->store->append(ctx->store->self, &ev, &after, NULL);
	switch (rc) {
	case CE_OK:
		*out = after;
		return cerr_set(info, CE_OK, NULL, NULL);
	case CE_VERSION_MISMATCH:
		return answer_lost_race(ctx, circle_id, info);
	case CE_DUPLICATE_NAME:
		return cerr_set(info, rc, "circle_name", "a live circle already has this name");
	case CE_UNAVAILABLE:
		return cerr_set(info, rc, NULL, "the database cannot be reached");
	default:
		return cerr_set(info, CE_INTERNAL, NULL, "appending the update event failed");
	}
}
