/*
 * The commit token of a command: what a client sends back as
 * Circle-Wait-For to read its own write from a replica.
 */
#include <stddef.h>

#include "command/commands.h"

enum cerr
command_commit_token(const struct command_ctx *ctx, char out[COMMIT_TOKEN_MAX + 1])
{
	const struct event_store *es = ctx != NULL ? ctx->store : NULL;

	if (es == NULL || es->commit_token == NULL) {
		out[0] = '\0';
		return CE_OK;
	}
	return es->commit_token(es->self, out);
}
