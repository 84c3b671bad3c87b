/*
 * Parsing what a request says outside its body: the conditional headers,
 * Idempotency-Key, Content-Type, the query string and the {n} path segment.
 * Every input is hostile: nothing here trusts a length, a digit count or a
 * terminator, and nothing allocates.
 */
#ifndef CIRCLE_HTTP_HEADERS_H
#define CIRCLE_HTTP_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/circle.h"

#define IDEMPOTENCY_KEY_MAX 255

/*
 * A positive decimal integer without sign or leading zeros, s[0..len).
 * Returns 0 and *out (saturated at UINT64_MAX), or -1 when malformed.
 */
int parse_positive(const char *s, size_t len, uint64_t *out);

/*
 * If-Match: exactly one strong entity tag "V", V as parse_positive(), with
 * optional spaces or tabs around. CE_OK with *version, or CE_INVALID_HEADER
 * (subject "If-Match").
 */
enum cerr headers_if_match(const char *value, uint64_t *version, struct cerr_info *info);

/*
 * If-None-Match against the current ETag "version": true when it matches
 * ("*", or a listed tag whose opaque part equals, weak or strong). A
 * malformed header matches nothing, so the full response is sent.
 */
bool headers_none_match(const char *value, uint32_t version);

/* Idempotency-Key: 1..255 characters from 0x21 to 0x7E; CE_OK or
 * CE_INVALID_HEADER (subject "Idempotency-Key"). NULL is CE_OK. */
enum cerr headers_idempotency_key(const char *value, struct cerr_info *info);

/*
 * True when Content-Type is application/json (case-insensitive), with any
 * parameters, provided a charset parameter, if any, says UTF-8.
 */
bool headers_is_json(const char *value);

/*
 * Finds parameter name in query (raw, '&'-separated, percent-decoded values).
 * Returns 0 when absent, 1 when found with the decoded value in
 * out[out_size] (NUL-terminated), -1 when present but malformed, given more
 * than once, or longer than out_size - 1.
 */
int query_param(const char *query, const char *name, char *out, size_t out_size);

/* The list parameters: limit (1..LIST_LIMIT_MAX, default LIST_LIMIT_DEFAULT)
 * and after (a UUID, lower-cased into after[]; has_after false when none).
 * CE_OK or CE_INVALID_PARAMETER with the parameter as subject. */
enum cerr query_list_params(const char *query, unsigned *limit, char after[CIRCLE_ID_LEN + 1],
			    bool *has_after, struct cerr_info *info);

/* The feed parameters of GET /events: after (0..FEED_AFTER_MAX, decimal
 * without sign or leading zeros, default 0) and limit (1..FEED_LIMIT_MAX,
 * default FEED_LIMIT_DEFAULT). CE_OK or CE_INVALID_PARAMETER with the
 * parameter as subject. */
enum cerr query_feed_params(const char *query, uint64_t *after, unsigned *limit,
			    struct cerr_info *info);

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
enum cerr query_version(const char *query, bool *has, uint64_t *version, struct cerr_info *info);

#endif
