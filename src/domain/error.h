/*
 * The one error vocabulary of circle. Every layer returns these codes; only
 * http/problem.c turns them into HTTP statuses and problem+json "code"s, so a
 * handler never picks a status number itself.
 */
#ifndef CIRCLE_DOMAIN_ERROR_H
#define CIRCLE_DOMAIN_ERROR_H

#include <stdint.h>

enum cerr {
	CE_OK = 0,                 /* success */
	CE_INVALID_JSON,           /* body is not one valid JSON object */
	CE_UNKNOWN_FIELD,          /* a member the contract does not have */
	CE_MISSING_FIELD,          /* a required member is absent */
	CE_INVALID_FIELD,          /* a member breaks its rule */
	CE_INVALID_CIRCLE_ID,      /* the id in the path is not a UUID */
	CE_INVALID_PARAMETER,      /* a query or path parameter is malformed */
	CE_INVALID_HEADER,         /* a request header is malformed */
	CE_NOTHING_TO_UPDATE,      /* an update names no changeable member */
	CE_NOT_FOUND,              /* no such circle, path or record */
	CE_GONE,                   /* the circle was deleted */
	CE_METHOD_NOT_ALLOWED,     /* the path does not take this method */
	CE_PRECONDITION_REQUIRED,  /* no expected version was given */
	CE_VERSION_MISMATCH,       /* the circle is at another version */
	CE_DUPLICATE_NAME,         /* a live circle already has this name */
	CE_IDEMPOTENCY_KEY_REUSED, /* same Idempotency-Key, different body */
	CE_IDEMPOTENCY_KEY_TAKEN,  /* internal: a concurrent create holds the key */
	CE_PAYLOAD_TOO_LARGE,      /* body over 64 KiB */
	CE_UNSUPPORTED_MEDIA_TYPE, /* Content-Type is not application/json */
	CE_UNAVAILABLE,            /* the database cannot be reached */
	CE_NOT_CAUGHT_UP,          /* a replica did not reach a write in time */
	CE_INTERNAL,               /* a bug or an unexpected database answer */
	CE__MAX
};

/*
 * What a failed operation says beyond its code. Strings are static (never
 * freed): `subject` names the member, parameter or header at fault.
 */
struct cerr_info {
	enum cerr code;
	const char *subject;
	const char *detail;
	uint32_t current_version; /* set with CE_VERSION_MISMATCH, else 0 */
};

/* Fills *info (when not NULL) and returns code, so callers can write
 * `return cerr_set(info, CE_INVALID_FIELD, "capacity", "…");`. */
enum cerr cerr_set(struct cerr_info *info, enum cerr code, const char *subject, const char *detail);

/* cerr_set() for CE_UNAVAILABLE, the one thing every use case says when a
 * port cannot reach the database. */
enum cerr cerr_unavailable(struct cerr_info *info);

#endif
