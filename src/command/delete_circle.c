/*
 * Delete a circle: replay its events, let the domain decide, append the
 * delete with the projection row that marks the circle deleted (which frees
 * its name for others).
 */
#include "command/command_pipeline.h"

enum cerr
delete_circle(const struct command_ctx *ctx, const char *id, bool has_version,
	      uint64_t expected_version, struct cerr_info *info)
{
	struct circle_command c;
	struct circle_event ev;
	struct circle after;
	enum cerr rc;

	if ((rc = circle_command_begin(ctx, id, &c, info)) != CE_OK)
		return rc;
	rc = circle_decide_delete(&c.state, has_version, expected_version, &c.meta, &ev, info);
	if (rc != CE_OK)
		return rc;
	return circle_command_append(ctx, &c, &ev, &after, info);
}
