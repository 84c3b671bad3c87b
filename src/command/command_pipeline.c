/*
 * Loading a circle for a command, its current state or the replay of its
 * history from its latest snapshot, and answering the loser of a race: the
 * database's unique (circle_id, version) key, not this code, decides who
 * wins.
 */
#include <stdlib.h>
#include <string.h>

#include "command/command_pipeline.h"

enum cerr
load_circle(const struct command_ctx *ctx, const char *id, struct circle *state,
	    struct cerr_info *info)
{
	struct circle_event *evs = NULL;
	struct circle from;
	size_t n = 0;
	enum cerr rc;

	memset(&from, 0, sizeof from);
	if (ctx->store->load_current != NULL)
		rc = ctx->store->load_current(ctx->store->self, id, &from);
	else
		rc = ctx->store->load(ctx->store->self, id, &from, &evs, &n);
	if (rc == CE_UNAVAILABLE) {
		cerr_unavailable(info);
		goto out;
	}
	if (rc != CE_OK) {
		rc = cerr_set(info, CE_INTERNAL, NULL, "loading the circle failed");
		goto out;
	}
	if (circle_replay_from(state, &from, evs, n) != CE_OK) {
		rc = cerr_set(info, CE_INTERNAL, NULL, "the circle's events do not replay");
		goto out;
	}
	/* events need not repeat their circle's id; the caller asked for this one */
	if (state->version > 0 && state->id[0] == '\0')
		memcpy(state->id, id, sizeof state->id);
	rc = CE_OK;
out:
	free(evs);
	return rc;
}

void
command_end(const struct command_ctx *ctx)
{
	if (ctx != NULL && ctx->store != NULL && ctx->store->end != NULL)
		ctx->store->end(ctx->store->self);
}

enum cerr
answer_lost_race(const struct command_ctx *ctx, const char *id, struct cerr_info *info)
{
	struct circle now;
	enum cerr rc;

	if ((rc = load_circle(ctx, id, &now, info)) != CE_OK)
		return rc;
	if (now.deleted)
		return cerr_set(info, CE_GONE, NULL, "the circle was deleted");
	cerr_set(info, CE_VERSION_MISMATCH, "version", "the circle is at another version");
	if (info != NULL)
		info->current_version = now.version;
	return CE_VERSION_MISMATCH;
}

enum cerr
circle_command_begin(const struct command_ctx *ctx, const char *id, struct circle_command *cmd,
		     struct cerr_info *info)
{
	enum cerr rc;

	if (ctx == NULL || ctx->store == NULL || ctx->new_id == NULL || ctx->now == NULL ||
	    id == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	memset(cmd, 0, sizeof *cmd);
	if ((rc = canonical_circle_id(id, cmd->circle_id, info)) != CE_OK)
		return rc;
	if ((rc = load_circle(ctx, cmd->circle_id, &cmd->state, info)) != CE_OK)
		return rc;
	ctx->new_id(cmd->event_id);
	ctx->now(cmd->now);
	cmd->meta.event_id = cmd->event_id;
	cmd->meta.occurred_at = cmd->now;
	return CE_OK;
}

enum cerr
circle_command_append(const struct command_ctx *ctx, const struct circle_command *cmd,
		      const struct circle_event *ev, const struct idem_key *idem,
		      struct circle *after, struct cerr_info *info)
{
	enum cerr rc;

	*after = cmd->state;
	if (circle_apply(after, ev) != CE_OK)
		return cerr_set(info, CE_INTERNAL, NULL, "the decided event does not apply");
	rc = ctx->store->append(ctx->store->self, ev, after, idem);
	switch (rc) {
	case CE_OK: return cerr_set(info, CE_OK, NULL, NULL);
	case CE_IDEMPOTENCY_KEY_TAKEN:
		if (idem != NULL)
			return rc;
		break;
	case CE_VERSION_MISMATCH: return answer_lost_race(ctx, cmd->circle_id, info);
	case CE_DUPLICATE_NAME:
		/* only an event that names the circle can clash */
		if (ev->has_name)
			return cerr_set(info, rc, "circle_name",
					"a live circle already has this name");
		break;
	case CE_UNAVAILABLE: return cerr_unavailable(info);
	default: break;
	}
	return cerr_set(info, CE_INTERNAL, NULL, "appending the event failed");
}
