/*
 * Loading a circle for a command by replaying its history, and answering
 * the loser of a race: the database's unique (circle_id, version) key, not
 * this code, decides who wins.
 */
#include <stdlib.h>
#include <string.h>

#include "command/load_circle.h"

enum cerr
load_circle(const struct command_ctx *ctx, const char *id, struct circle *state,
	    struct cerr_info *info)
{
	struct circle_event *evs = NULL;
	size_t n = 0;
	enum cerr rc;

	rc = ctx->store->load(ctx->store->self, id, &evs, &n);
	if (rc == CE_UNAVAILABLE) {
		cerr_set(info, rc, NULL, "the database cannot be reached");
		goto out;
	}
	if (rc != CE_OK) {
		rc = cerr_set(info, CE_INTERNAL, NULL, "loading the circle failed");
		goto out;
	}
	if (circle_replay(state, evs, n) != CE_OK) {
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
