/*
 * The one table from an error code to its HTTP status, title and stable
 * problem "code", and the RFC 9457 problem+json body built from it. Handlers
 * never pick status numbers: they pass a struct cerr_info here.
 */
#ifndef CIRCLE_HTTP_PROBLEM_H
#define CIRCLE_HTTP_PROBLEM_H

#include "domain/error.h"

struct json_object;

struct problem_kind {
	int status;
	const char *title;  /* the status's reason phrase */
	const char *code;   /* the machine-readable "code" */
	const char *member; /* where cerr_info.subject goes: "field",
				  * "parameter", "header", or NULL */
};

/* The row of code; out-of-range codes (and CE_OK) get the internal row. */
const struct problem_kind *problem_kind(enum cerr code);

/*
 * A new problem object for info, which the caller releases with
 * json_object_put(): {"status","title","code","detail"} plus the subject
 * under problem_kind()->member and "current_version" for a mismatch.
 * NULL when out of memory.
 */
struct json_object *problem_json_new(const struct cerr_info *info);

#endif
