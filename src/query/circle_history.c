/*
 * A page of a circle's history, deleted circles included. One page is at
 * most HISTORY_LIMIT_MAX events, so a read holds no more than that whatever
 * the history's length.
 */
#include <stdlib.h>

#include "query/lookup.h"

enum cerr
circle_history(struct circle_reader *r, const char *id, uint32_t after, unsigned limit,
	       struct circle_event **evs, size_t *n, bool *more, struct cerr_info *info)
{
	char key[CIRCLE_ID_LEN + 1];
	struct circle_event *first = NULL;
	size_t exists = 0;
	enum cerr rc;

	if (r == NULL || id == NULL || evs == NULL || n == NULL || more == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	*evs = NULL;
	*n = 0;
	*more = false;
	if ((rc = canonical_circle_id(id, key, info)) != CE_OK)
		return rc;
	if (limit < 1 || limit > HISTORY_LIMIT_MAX)
		return cerr_set(info, CE_INVALID_PARAMETER, "limit",
				"limit must be an integer from 1 to 1000");
	/* one more than asked tells whether another page follows */
	if ((rc = lookup_history(r, key, after, 0, limit + 1, evs, n, info)) != CE_OK)
		return rc;
	if (*n > limit) {
		*n = limit;
		*more = true;
	}
	if (*n > 0 || after == 0)
		return *n > 0 ? cerr_set(info, CE_OK, NULL, NULL)
			      : cerr_set(info, CE_NOT_FOUND, NULL, "no circle has this id");
	/* past the end of a history that exists: an empty last page */
	free(*evs);
	*evs = NULL;
	if ((rc = lookup_history(r, key, 0, 0, 1, &first, &exists, info)) != CE_OK)
		return rc;
	free(first);
	if (exists == 0)
		return cerr_set(info, CE_NOT_FOUND, NULL, "no circle has this id");
	return cerr_set(info, CE_OK, NULL, NULL);
}
