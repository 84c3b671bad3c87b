/*
 * One circle from the projection; a deleted one is "gone", not "not found".
 */
#include "query/lookup.h"

enum cerr
get_circle(struct circle_reader *r, const char *id, struct circle *out, struct cerr_info *info)
{
	char key[CIRCLE_ID_LEN + 1];
	enum cerr rc;

	if (r == NULL || out == NULL || id == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	if ((rc = canonical_circle_id(id, key, info)) != CE_OK)
		return rc;

	rc = r->get(r->self, key, out);
	switch (rc) {
	case CE_OK: break;
	case CE_NOT_FOUND: return cerr_set(info, rc, NULL, "no circle has this id");
	case CE_UNAVAILABLE: return cerr_unavailable(info);
	default: return cerr_set(info, CE_INTERNAL, NULL, "reading the circle failed");
	}
	if (out->deleted)
		return cerr_set(info, CE_GONE, NULL, "the circle was deleted");
	return cerr_set(info, CE_OK, NULL, NULL);
}
