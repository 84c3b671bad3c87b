/*
 * The whole history of a circle, deleted ones included.
 */
#include <stdlib.h>
#include <string.h>

#include "query/queries.h"

enum cerr
circle_history(struct circle_reader *r, const char *id, struct circle_event **evs,
	       size_t *n, struct cerr_info *info)
{
	char key[CIRCLE_ID_LEN + 1];
	struct circle_event *got = NULL;
	size_t count = 0;
	enum cerr rc;

	if (r == NULL || id == NULL || evs == NULL || n == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	*evs = NULL;
	*n = 0;
	if (!circle_id_valid(id, strnlen(id, CIRCLE_ID_LEN + 1)))
		return cerr_set(info, CE_INVALID_CIRCLE_ID, NULL, "the circle id is not a UUID");
	circle_id_normalize(id, key);

	rc = r->history(r->self, key, 0, &got, &count);
	if (rc == CE_UNAVAILABLE) {
		cerr_set(info, rc, NULL, "the database cannot be reached");
		goto out;
	}
	if (rc != CE_OK) {
		rc = cerr_set(info, CE_INTERNAL, NULL, "reading the history failed");
		goto out;
	}
	if (count == 0) {
		rc = cerr_set(info, CE_NOT_FOUND, NULL, "no circle has this id");
		goto out;
	}
	*evs = got;
	*n = count;
	got = NULL;
	rc = cerr_set(info, CE_OK, NULL, NULL);
out:
	free(got);
	return rc;
}
