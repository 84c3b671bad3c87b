/* See lookup.h. */
#include <stdlib.h>
#include <string.h>

#include "query/lookup.h"

enum cerr
lookup_history(struct circle_reader *r, const char *key, uint32_t after, uint32_t upto,
	       unsigned limit, struct circle_event **evs, size_t *n, struct cerr_info *info)
{
	enum cerr rc;

	*evs = NULL;
	*n = 0;
	rc = r->history(r->self, key, after, upto, limit, evs, n);
	if (rc == CE_OK)
		return CE_OK;
	/* a failed read hands back nothing the caller must free */
	free(*evs);
	*evs = NULL;
	*n = 0;
	if (rc == CE_UNAVAILABLE)
		return cerr_unavailable(info);
	return cerr_set(info, CE_INTERNAL, NULL, "reading the history failed");
}
