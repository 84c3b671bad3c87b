/*
 * Update a circle: replay its events, let the domain decide, append the
 * update with its projection. An update that changes nothing appends nothing.
 */
#include "command/command_pipeline.h"

enum cerr
update_circle(const struct command_ctx *ctx, const char *id, const struct circle_update *cmd,
	      struct circle *out, struct cerr_info *info)
{
	struct circle_command c;
	struct circle_event ev;
	bool changed = false;
	enum cerr rc;

	if (cmd == NULL || out == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	if ((rc = circle_command_begin(ctx, id, &c, info)) != CE_OK)
		return rc;
	rc = circle_decide_update(&c.state, cmd, &c.meta, &ev, &changed, info);
	if (rc != CE_OK)
		return rc;
	if (!changed) {
		*out = c.state;
		return cerr_set(info, CE_OK, NULL, NULL);
	}
	return circle_command_append(ctx, &c, &ev, out, info);
}
