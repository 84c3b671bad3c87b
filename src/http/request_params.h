/*
 * Parsing the query string and the variable path segments ({id}, {n}) of a
 * request. Every input is hostile: nothing here trusts a length, a digit
 * count or a terminator, and nothing allocates.
 */
#ifndef CIRCLE_HTTP_REQUEST_PARAMS_H
#define CIRCLE_HTTP_REQUEST_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/circle.h"

/*
 * Finds parameter name in query (raw, '&'-separated, percent-decoded values).
 * Returns 0 when absent, 1 when found with the decoded value in
 * out[out_size] (NUL-terminated), -1 when present but malformed, given more
 * than once, or longer than out_size - 1.
 */
int params_get(const char *query, const char *name, char *out, size_t out_size);

/* The list parameters: limit (1..LIST_LIMIT_MAX, default LIST_LIMIT_DEFAULT)
 * and after (a UUID, lower-cased into after[]; has_after false when none).
 * CE_OK or CE_INVALID_PARAMETER with the parameter as subject. */
enum cerr params_list(const char *query, unsigned *limit, char after[CIRCLE_ID_LEN + 1],
		      bool *has_after, struct cerr_info *info);

/*
 * The history parameters: after (a version: 0 or a positive decimal without
 * leading zeros, default 0; one beyond any version a circle can have reads
 * as UINT32_MAX) and limit (1..HISTORY_LIMIT_MAX, default
 * HISTORY_LIMIT_DEFAULT). CE_OK or CE_INVALID_PARAMETER with the parameter
 * as subject.
 */
enum cerr params_history(const char *query, uint32_t *after, unsigned *limit,
			 struct cerr_info *info);

/* The feed parameters of GET /events: after (0..FEED_AFTER_MAX, decimal
 * without sign or leading zeros, default 0) and limit (1..FEED_LIMIT_MAX,
 * default FEED_LIMIT_DEFAULT). CE_OK or CE_INVALID_PARAMETER with the
 * parameter as subject. */
enum cerr params_feed(const char *query, uint64_t *after, unsigned *limit, struct cerr_info *info);

/* The {id} segment: CE_OK with the lower-case id in out, or
 * CE_INVALID_CIRCLE_ID. */
enum cerr path_circle_id(const char *seg, size_t len, char out[CIRCLE_ID_LEN + 1],
			 struct cerr_info *info);

/*
 * The {n} segment: CE_OK with *n, CE_INVALID_PARAMETER (subject "n") when
 * it is not a positive decimal without leading zeros, CE_NOT_FOUND when it
 * is valid but beyond any version a circle can have (UINT32_MAX).
 */
enum cerr path_version(const char *seg, size_t len, uint32_t *n, struct cerr_info *info);

/* DELETE's ?version=V: CE_OK (*has set when given) or CE_INVALID_PARAMETER. */
enum cerr params_version(const char *query, bool *has, uint64_t *version, struct cerr_info *info);

#endif
