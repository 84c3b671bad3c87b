/*
 * What the query use cases share: reading a history through the reader with
 * its failures named. Private to the query layer.
 */
#ifndef CIRCLE_QUERY_LOOKUP_H
#define CIRCLE_QUERY_LOOKUP_H

#include "query/queries.h"

/*
 * Reads the events of key up to version upto (0: all) into a new array *evs
 * of *n that the caller frees. CE_OK (n may be 0), CE_UNAVAILABLE or
 * CE_INTERNAL, with *info set.
 */
enum cerr lookup_history(struct circle_reader *r, const char *key, uint32_t upto,
			 struct circle_event **evs, size_t *n, struct cerr_info *info);

#endif
