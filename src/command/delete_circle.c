/*
 * Delete a circle: replay its events, let the domain decide, append the
 * delete with the projection row that marks the circle deleted (which frees
 * its name for others).
 */
#include <string.h>

#include "command/load_circle.h"

enum cerr
delete_circle(const struct command_ctx *ctx, const char *id, bool has_version,
	      uint64_t expected_version, struct cerr_info *info)
{
	char circle_id[CIRCLE_ID_LEN + 1], event_id[CIRCLE_ID_LEN + 1];
	char now[CIRCLE_TIME_LEN + 1];
	struct event_meta meta = { event_id, now };
	struct circle state, after;
	struct circle_event ev;
	enum cerr rc;

	if (ctx == NULL || ctx->store == NULL || ctx->new_id == NULL || ctx->now == NULL ||
	    id == NULL)
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
	rc = circle_decide_delete(&state, has_version, expected_version, &meta, &ev, info);
	if (rc != CE_OK)
		return rc;
	after = state;
	if (circle_apply(&after, &ev) != CE_OK)
		return cerr_set(info, CE_INTERNAL, NULL, "delete event does not apply");

	rc = ctx->store->append(ctx->store->self, &ev, &after, NULL);
	switch (rc) {
	case CE_OK:
		return cerr_set(info, CE_OK, NULL, NULL);
	case CE_VERSION_MISMATCH:
		return answer_lost_race(ctx, circle_id, info);
	case CE_UNAVAILABLE:
		return cerr_set(info, rc, NULL, "the database cannot be reached");
	default:
		return cerr_set(info, CE_INTERNAL, NULL, "appending the delete event failed");
	}
}
