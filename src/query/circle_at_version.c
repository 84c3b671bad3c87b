/*
 * A circle as it was at a given version, replayed from its events up to
 * that version: the event log, not the projection, is the truth of the past.
 */
#include <stdlib.h>
#include <string.h>

#include "query/lookup.h"

enum cerr
circle_at_version(struct circle_reader *r, const char *id, uint32_t at, struct circle *out,
		  struct cerr_info *info)
{
	char key[CIRCLE_ID_LEN + 1];
	struct circle_event *evs = NULL;
	struct circle state;
	size_t n = 0;
	enum cerr rc;

	if (r == NULL || id == NULL || out == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	if ((rc = canonical_circle_id(id, key, info)) != CE_OK)
		return rc;
	if (at == 0)
		return cerr_set(info, CE_INVALID_PARAMETER, "version",
				"the version must be a positive integer");
	if ((rc = lookup_history(r, key, at, &evs, &n, info)) != CE_OK)
		goto out;
	if (n == 0 || evs[n - 1].version < at) {
		rc = cerr_set(info, CE_NOT_FOUND, NULL, "the circle has no such version");
		goto out;
	}
	/* the reader was asked for nothing past `at`: more is its bug */
	if (circle_replay(&state, evs, n) != CE_OK || state.version != at) {
		rc = cerr_set(info, CE_INTERNAL, NULL, "the circle's events do not replay");
		goto out;
	}
	if (state.id[0] == '\0')
		memcpy(state.id, key, sizeof state.id);
	if (state.deleted) {
		rc = cerr_set(info, CE_GONE, NULL, "the circle was deleted at this version");
		goto out;
	}
	*out = state;
	rc = cerr_set(info, CE_OK, NULL, NULL);
out:
	free(evs);
	return rc;
}
