/*
 * Health: whether the query side can reach its database right now.
 */
#include <stddef.h>

#include "query/queries.h"

enum cerr
check_health(struct circle_reader *r, struct cerr_info *info)
{
	if (r == NULL || r->ping == NULL || r->ping(r->self) != CE_OK)
		return cerr_unavailable(info);
	return cerr_set(info, CE_OK, NULL, NULL);
}
