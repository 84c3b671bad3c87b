/*
 * Reading from a replica: waiting until it holds a client's own write, and
 * whether it still replicates at all.
 */
#include <stddef.h>
#include <stdio.h>

#include "query/queries.h"

enum cerr
wait_caught_up(struct circle_reader *r, const char *token, unsigned timeout_ms,
	       struct cerr_info *info)
{
	enum cerr rc;

	if (token == NULL || r == NULL || r->wait_for == NULL)
		return cerr_set(info, CE_OK, NULL, NULL);
	rc = r->wait_for(r->self, token, timeout_ms);
	switch (rc) {
	case CE_OK: return cerr_set(info, CE_OK, NULL, NULL);
	case CE_NOT_CAUGHT_UP:
		return cerr_set(info, rc, NULL,
				"the database this read is served from has not caught up with "
				"the write in Circle-Wait-For yet; try again");
	case CE_UNAVAILABLE: return cerr_set(info, rc, NULL, "the database cannot be reached");
	default: return cerr_set(info, CE_INTERNAL, NULL, "waiting for the write failed");
	}
}

enum cerr
check_replication(struct circle_reader *r, struct replication_state *out, struct cerr_info *info)
{
	enum cerr rc;

	*out = (struct replication_state){.lag_seconds = -1};
	if (r == NULL || r->replication == NULL)
		return cerr_set(info, CE_OK, NULL, NULL);
	rc = r->replication(r->self, out);
	if (rc != CE_OK)
		return cerr_set(info, CE_UNAVAILABLE, NULL,
				"the replication state of the database cannot be read");
	if (out->replica && out->known && (!out->io_running || !out->sql_running))
		return cerr_set(info, CE_UNAVAILABLE, NULL,
				"the database is a replica that has stopped replicating");
	return cerr_set(info, CE_OK, NULL, NULL);
}
