/*
 * The commit token of a command: what a client sends back as
 * Circle-Wait-For to read its own write from a replica.
 */
#include "command/commands.h"

enum cerr
command_commit_token(const struct command_ctx *ctx, char out[COMMIT_TOKEN_MAX + 1])
{
	out[0] = '\0';
	if (ctx == NULL || ctx->store == NULL || ctx->store->commit_token == NULL)
		return CE_OK;
	return ctx->store->commit_token(ctx->store->self, out);
}
