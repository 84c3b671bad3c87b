/*
 * A page of live circles in id order. One row more than the page is asked
 * for, so whether another page follows is known without a second query.
 */
#include <string.h>

#include "query/queries.h"

enum cerr
list_circles(struct circle_reader *r, const char *after, unsigned limit, struct circle *out,
	     size_t *n, bool *more, struct cerr_info *info)
{
	char key[CIRCLE_ID_LEN + 1];
	size_t got = 0;
	enum cerr rc;

	if (r == NULL || out == NULL || n == NULL || more == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	*n = 0;
	*more = false;
	if (limit < 1 || limit > LIST_LIMIT_MAX)
		return cerr_set(info, CE_INVALID_PARAMETER, "limit",
				"limit must be an integer from 1 to 1000");
	if (after != NULL) {
		/* ids are stored in lower case; compare like with like */
		if (!text_uuid_lower(after, strnlen(after, CIRCLE_ID_LEN + 1), key))
			return cerr_set(info, CE_INVALID_PARAMETER, "after",
					"after must be a circle id");
	}

	rc = r->list(r->self, after != NULL ? key : NULL, limit + 1, out, &got);
	if (rc == CE_UNAVAILABLE)
		return cerr_unavailable(info);
	if (rc != CE_OK || got > (size_t)limit + 1)
		return cerr_set(info, CE_INTERNAL, NULL, "listing circles failed");
	*more = got > limit;
	*n = *more ? limit : got;
	return cerr_set(info, CE_OK, NULL, NULL);
}
