/*
 * Verification of the projection against the event store: the projection is
 * only a cache of the fold of the events, so any difference is corruption
 * (a write that reached one table and not the other).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/queries.h"

static bool
disagree(char *why, size_t why_size, const char *what)
{
	snprintf(why, why_size, "%s", what);
	return false;
}

enum cerr
verify_circle(struct circle_reader *r, const char *id, bool *agree, size_t *events, char *why,
	      size_t why_size)
{
	struct circle_event *evs = NULL;
	struct circle replayed, row;
	size_t n = 0;
	enum cerr rc, got;

	*agree = false;
	*events = 0;
	why[0] = '\0';
	rc = r->history(r->self, id, 0, &evs, &n);
	if (rc != CE_OK)
		goto out;
	got = r->get(r->self, id, &row);
	if (got != CE_OK && got != CE_NOT_FOUND) {
		rc = got;
		goto out;
	}
	*events = n;
	if (n == 0 && got == CE_NOT_FOUND) {
		rc = CE_NOT_FOUND;
		goto out;
	}
	if (n == 0)
		*agree = disagree(why, why_size, "a projection row without events");
	else if (circle_replay(&replayed, evs, n) != CE_OK)
		*agree = disagree(why, why_size, "the events do not replay");
	else if (got == CE_NOT_FOUND)
		*agree = disagree(why, why_size, "events without a projection row");
	else if (replayed.version != row.version)
		*agree = disagree(why, why_size, "the projection is at another version");
	else if (replayed.deleted != row.deleted)
		*agree = disagree(why, why_size, "the projection disagrees on deletion");
	else if (strcmp(replayed.name, row.name) != 0)
		*agree = disagree(why, why_size, "the projection has another name");
	else if (replayed.capacity != row.capacity)
		*agree = disagree(why, why_size, "the projection has another capacity");
	else
		*agree = true;
out:
	free(evs);
	return rc;
}
