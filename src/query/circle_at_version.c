/*
 * A circle as it was at a given version: the nearest snapshot at or below
 * that version, then its events up to the version, folded a page at a time.
 * The event log, not the projection, is the truth of the past; a snapshot is
 * the fold of events 1..its version, written with the event it follows.
 */
#include <stdlib.h>
#include <string.h>

#include "query/lookup.h"

/* Folds the events of key after state->version up to `at` into *state. */
static enum cerr
fold_to(struct circle_reader *r, const char *key, uint32_t at, struct circle *state,
	struct cerr_info *info)
{
	for (;;) {
		struct circle_event *evs = NULL;
		size_t n = 0, i;
		enum cerr rc = lookup_history(r, key, state->version, at, LOOKUP_FOLD_PAGE, &evs,
					      &n, info);

		if (rc != CE_OK)
			return rc;
		for (i = 0; i < n && rc == CE_OK; i++)
			rc = circle_apply(state, &evs[i]);
		free(evs);
		/* the reader was asked for nothing past `at`: more is its bug */
		if (rc != CE_OK || state->version > at)
			return cerr_set(info, CE_INTERNAL, NULL,
					"the circle's events do not replay");
		if (n < LOOKUP_FOLD_PAGE || state->version >= at)
			return CE_OK;
	}
}

enum cerr
circle_at_version(struct circle_reader *r, const char *id, uint32_t at, struct circle *out,
		  struct cerr_info *info)
{
	char key[CIRCLE_ID_LEN + 1];
	struct circle snap, state;
	enum cerr rc;

	if (r == NULL || id == NULL || out == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	if ((rc = canonical_circle_id(id, key, info)) != CE_OK)
		return rc;
	if (at == 0)
		return cerr_set(info, CE_INVALID_PARAMETER, "version",
				"the version must be a positive integer");
	memset(&snap, 0, sizeof(snap));
	if (r->snapshot_at != NULL) {
		rc = r->snapshot_at(r->self, key, at, &snap);
		if (rc != CE_OK)
			return cerr_set(info, rc == CE_UNAVAILABLE ? CE_UNAVAILABLE : CE_INTERNAL,
					NULL,
					rc == CE_UNAVAILABLE ? "the database cannot be reached"
							     : "reading a snapshot failed");
		/* a snapshot the reader should not have handed over is its bug */
		if (snap.version > at || (snap.version > 0 && strcmp(snap.id, key) != 0))
			return cerr_set(info, CE_INTERNAL, NULL, "a snapshot out of range");
	}
	/* the domain checks the snapshot is a state events could produce */
	if (circle_replay_from(&state, &snap, NULL, 0) != CE_OK)
		return cerr_set(info, CE_INTERNAL, NULL, "the circle's snapshot is not valid");
	if ((rc = fold_to(r, key, at, &state, info)) != CE_OK)
		return rc;
	if (state.version != at)
		return cerr_set(info, CE_NOT_FOUND, NULL, "the circle has no such version");
	if (state.id[0] == '\0')
		memcpy(state.id, key, sizeof state.id);
	if (state.deleted)
		return cerr_set(info, CE_GONE, NULL, "the circle was deleted at this version");
	*out = state;
	return cerr_set(info, CE_OK, NULL, NULL);
}
