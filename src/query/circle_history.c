/*
 * The whole history of a circle, deleted ones included.
 */
#include "query/lookup.h"

enum cerr
circle_history(struct circle_reader *r, const char *id, struct circle_event **evs, size_t *n,
	       struct cerr_info *info)
{
	char key[CIRCLE_ID_LEN + 1];
	enum cerr rc;

	if (r == NULL || id == NULL || evs == NULL || n == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	*evs = NULL;
	*n = 0;
	if ((rc = canonical_circle_id(id, key, info)) != CE_OK ||
	    (rc = lookup_history(r, key, 0, evs, n, info)) != CE_OK)
		return rc;
	if (*n == 0)
		return cerr_set(info, CE_NOT_FOUND, NULL, "no circle has this id");
	return cerr_set(info, CE_OK, NULL, NULL);
}
