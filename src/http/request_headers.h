/*
 * Parsing the request headers: the conditional headers, Idempotency-Key and
 * Content-Type (request_params.h parses the query string and the path).
 * Every input is hostile: nothing here trusts a length, a digit count or a
 * terminator, and nothing allocates.
 */
#ifndef CIRCLE_HTTP_REQUEST_HEADERS_H
#define CIRCLE_HTTP_REQUEST_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/circle.h"

/*
 * If-Match: exactly one strong entity tag "V", V as text_positive(), with
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

/* Idempotency-Key as text_idempotency_key_valid() says; CE_OK or
 * CE_INVALID_HEADER (subject "Idempotency-Key"). NULL is CE_OK. */
enum cerr headers_idempotency_key(const char *value, struct cerr_info *info);

/*
 * Circle-Wait-For: a commit token as the service hands them out, 1..255
 * characters: a list of GTIDs "domain-server-sequence" separated by commas,
 * each number decimal without leading zeros, domain and server below 2^32,
 * the sequence below 2^64. CE_OK or CE_INVALID_HEADER (subject
 * "Circle-Wait-For"). NULL is CE_OK.
 */
enum cerr headers_wait_for(const char *value, struct cerr_info *info);

/*
 * True when Content-Type is application/json (case-insensitive), with any
 * parameters, provided a charset parameter, if any, says UTF-8.
 */
bool headers_is_json(const char *value);

#endif
