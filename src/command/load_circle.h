/*
 * What update and delete share: the current state of a circle, replayed
 * from the event store, and the answer to a command that lost a race.
 * Private to the command layer.
 */
#ifndef CIRCLE_COMMAND_LOAD_CIRCLE_H
#define CIRCLE_COMMAND_LOAD_CIRCLE_H

#include "command/commands.h"

/*
 * Replays the events of circle id (lower case) into *state; an unknown id
 * gives version 0. CE_OK, CE_UNAVAILABLE or CE_INTERNAL (with *info set).
 */
enum cerr load_circle(const struct command_ctx *ctx, const char *id,
		      struct circle *state, struct cerr_info *info);

/*
 * After append answered CE_VERSION_MISMATCH: reloads id and answers CE_GONE
 * when it is deleted now, else CE_VERSION_MISMATCH with
 * info->current_version; or the reload's own error.
 */
enum cerr answer_lost_race(const struct command_ctx *ctx, const char *id,
			   struct cerr_info *info);

#endif
