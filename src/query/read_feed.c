/*
 * The change feed, a page at a time. The reader hands out only events whose
 * transaction committed and that the sequencer numbered; this use case
 * checks the page is what a consumer may rely on (strictly ascending, after
 * `after`) and tells the consumer where to go on from.
 */
#include <stdlib.h>

#include "query/queries.h"

enum cerr
read_feed(struct circle_reader *r, uint64_t after, unsigned limit, struct feed_event **evs,
	  size_t *n, uint64_t *next_after, struct cerr_info *info)
{
	struct feed_event *page = NULL;
	uint64_t prev = after;
	size_t got = 0, i;
	enum cerr rc;

	if (r == NULL || evs == NULL || n == NULL || next_after == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	*evs = NULL;
	*n = 0;
	*next_after = after;
	if (limit < 1 || limit > FEED_LIMIT_MAX || after > FEED_AFTER_MAX)
		return cerr_set(info, CE_INTERNAL, NULL, "feed parameters out of range");
	page = calloc(limit, sizeof(*page));
	if (page == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "out of memory");
	rc = r->feed(r->self, after, limit, page, &got);
	if (rc == CE_UNAVAILABLE) {
		rc = cerr_set(info, rc, NULL, "the database cannot be reached");
		goto fail;
	}
	if (rc != CE_OK || got > limit) {
		rc = cerr_set(info, CE_INTERNAL, NULL, "reading the feed failed");
		goto fail;
	}
	/* A consumer checkpoints the last position it got: one out of order
	 * would make it skip events for ever. */
	for (i = 0; i < got; i++) {
		if (page[i].position <= prev) {
			rc = cerr_set(info, CE_INTERNAL, NULL, "feed positions out of order");
			goto fail;
		}
		prev = page[i].position;
	}
	if (got == 0) {
		free(page);
		page = NULL;
	}
	*evs = page;
	*n = got;
	*next_after = prev;
	return cerr_set(info, CE_OK, NULL, NULL);
fail:
	free(page);
	return rc;
}
