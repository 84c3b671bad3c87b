/*
 * What the query use cases share: reading a history through the reader with
 * its failures named. Private to the query layer.
 */
#ifndef CIRCLE_QUERY_LOOKUP_H
#define CIRCLE_QUERY_LOOKUP_H

#include "query/queries.h"

/*
 * Reads at most `limit` events of key with after < version <= upto (upto 0:
 * no bound) into a new array *evs of *n that the caller frees. CE_OK (n
 * may be 0), CE_UNAVAILABLE or CE_INTERNAL, with *info set.
 */
enum cerr lookup_history(struct circle_reader *r, const char *key, uint32_t after, uint32_t upto,
			 unsigned limit, struct circle_event **evs, size_t *n,
			 struct cerr_info *info);

/* How many events a query holds in memory at once while it folds a history. */
#define LOOKUP_FOLD_PAGE 1000

#endif
