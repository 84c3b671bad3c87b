/*
 * Command use cases: load a circle by replaying its events, let the domain
 * decide, append the event (with its projection) through the event store.
 * One file per operation; they share this header.
 */
#ifndef CIRCLE_COMMAND_COMMANDS_H
#define CIRCLE_COMMAND_COMMANDS_H

#include <stdbool.h>

#include "command/event_store.h"

struct command_ctx {
	struct event_store *store;
	/* Writes a new random lower-case UUID into out. */
	void (*new_id)(char out[CIRCLE_ID_LEN + 1]);
	/* Writes the current UTC time, RFC 3339 with microseconds, into out. */
	void (*now)(char out[CIRCLE_TIME_LEN + 1]);
};

/*
 * Creates a circle from a validated name and capacity; *out is the circle at
 * version 1. With idem_key (NULL: none), a repeat of a remembered create with
 * the same name and capacity answers CE_OK with the first circle again and
 * *replayed true; another body answers CE_IDEMPOTENCY_KEY_REUSED.
 * Errors: CE_DUPLICATE_NAME, CE_UNAVAILABLE, CE_INTERNAL.
 */
enum cerr create_circle(const struct command_ctx *ctx, const char *name, int capacity,
			const char *idem_key, struct circle *out, bool *replayed,
			struct cerr_info *info);

/*
 * Updates circle `id` (lower case); *out is the circle afterwards (unchanged
 * when every member equals the current value). Errors: CE_NOT_FOUND, CE_GONE,
 * CE_PRECONDITION_REQUIRED, CE_VERSION_MISMATCH, CE_DUPLICATE_NAME,
 * CE_UNAVAILABLE, CE_INTERNAL.
 */
enum cerr update_circle(const struct command_ctx *ctx, const char *id,
			const struct circle_update *cmd, struct circle *out,
			struct cerr_info *info);

/* Deletes circle `id`; the same errors as update_circle but the name clash. */
enum cerr delete_circle(const struct command_ctx *ctx, const char *id, bool has_version,
			uint64_t expected_version, struct cerr_info *info);

/*
 * After a command succeeded: its commit token into out ("" when the store
 * gives none), to be answered as Circle-Commit. Called once per successful
 * command. CE_OK, CE_UNAVAILABLE, CE_INTERNAL.
 */
enum cerr command_commit_token(const struct command_ctx *ctx, char out[COMMIT_TOKEN_MAX + 1]);

#endif
