/*
 * Query use cases over the circle_reader port: thin, read-only, and the place
 * where "not there" becomes CE_NOT_FOUND or CE_GONE.
 */
#ifndef CIRCLE_QUERY_QUERIES_H
#define CIRCLE_QUERY_QUERIES_H

#include <stdbool.h>

#include "query/circle_reader.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX 1000
#define HISTORY_LIMIT_DEFAULT 1000
#define HISTORY_LIMIT_MAX 1000

/* GET /events: limit 1..FEED_LIMIT_MAX (default FEED_LIMIT_DEFAULT), after
 * 0..FEED_AFTER_MAX (positions stay within a signed 64-bit integer). */
#define FEED_LIMIT_DEFAULT 100
#define FEED_LIMIT_MAX 1000
#define FEED_AFTER_MAX ((uint64_t)INT64_MAX)

/* CE_OK, CE_UNAVAILABLE. */
enum cerr check_health(struct circle_reader *r, struct cerr_info *info);

/*
 * Waits, at most timeout_ms, until the reader's database holds the write
 * named by token (well-formed; NULL: nothing to wait for). CE_OK,
 * CE_NOT_CAUGHT_UP, CE_UNAVAILABLE, CE_INTERNAL.
 */
enum cerr wait_caught_up(struct circle_reader *r, const char *token, unsigned timeout_ms,
			 struct cerr_info *info);

/*
 * The replication state of the reader's database into *out: CE_OK when it
 * is no replica, or a replica whose threads run (or whose state it may not
 * read); CE_UNAVAILABLE when replication stopped or the state cannot be read.
 */
enum cerr check_replication(struct circle_reader *r, struct replication_state *out,
			    struct cerr_info *info);

/* The live circle `id`: CE_OK, CE_NOT_FOUND, CE_GONE, CE_UNAVAILABLE. */
enum cerr get_circle(struct circle_reader *r, const char *id, struct circle *out,
		     struct cerr_info *info);

/*
 * A page of live circles after `after` (NULL: from the start); out has room
 * for limit + 1 circles. *more tells whether another page follows.
 */
enum cerr list_circles(struct circle_reader *r, const char *after, unsigned limit,
		       struct circle *out, size_t *n, bool *more, struct cerr_info *info);

/*
 * A page of the history of `id`: its events with version > after, at most
 * limit (1..HISTORY_LIMIT_MAX), ascending, as a new array the caller frees
 * (also on failure); *more tells whether later events follow. CE_NOT_FOUND
 * when the circle has no events at all (a page past the end of an existing
 * history is CE_OK and empty); CE_INVALID_PARAMETER for a limit out of range.
 */
enum cerr circle_history(struct circle_reader *r, const char *id, uint32_t after, unsigned limit,
			 struct circle_event **evs, size_t *n, bool *more, struct cerr_info *info);

/*
 * The circle as it was at version `at`, replayed from its events:
 * CE_NOT_FOUND beyond the latest version or for an unknown id, CE_GONE when
 * `at` is the version of the delete.
 */
enum cerr circle_at_version(struct circle_reader *r, const char *id, uint32_t at,
			    struct circle *out, struct cerr_info *info);

/*
 * Checks that the projection row of `id` and every snapshot of it equal the
 * replay of its events, all read as of one moment (the reader's
 * consistent()), the events a page at a time so a long history takes no
 * more memory than a short one. CE_OK with *agree telling the verdict,
 * *events the number of events read and, when they disagree, a reason in
 * why[why_size]; CE_NOT_FOUND when neither events nor a projection row
 * exist; CE_UNAVAILABLE, CE_INTERNAL.
 */
enum cerr verify_circle(struct circle_reader *r, const char *id, bool *agree, size_t *events,
			char *why, size_t why_size);

/*
 * A page of the change feed: up to `limit` (1..FEED_LIMIT_MAX) events with
 * position > after, ascending, as a new array *evs of *n the caller frees
 * (NULL when none). *next_after is the last position returned, or `after`
 * when none: the value to pass as `after` next time. CE_OK, CE_UNAVAILABLE
 * or CE_INTERNAL (also when the reader answers out of order).
 */
enum cerr read_feed(struct circle_reader *r, uint64_t after, unsigned limit,
		    struct feed_event **evs, size_t *n, uint64_t *next_after,
		    struct cerr_info *info);

#endif
