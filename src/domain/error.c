/*
 * Filling a cerr_info: one function so every layer reports failures the same
 * way and a caller can return the code in the same statement.
 */
#include <stddef.h>

#include "domain/error.h"

enum cerr
cerr_set(struct cerr_info *info, enum cerr code, const char *subject, const char *detail)
{
	if (info != NULL) {
		info->code = code;
		info->subject = subject;
		info->detail = detail;
		/* a stale version from an earlier failure must not leak into this one */
		info->current_version = 0;
	}
	return code;
}

enum cerr
cerr_unavailable(struct cerr_info *info)
{
	return cerr_set(info, CE_UNAVAILABLE, NULL, "the database cannot be reached");
}
