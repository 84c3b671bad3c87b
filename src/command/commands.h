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
 * An Idempotency-Key and what of the request the command itself does not
 * carry, so that "the same request" means the same method, path, body (as a
 * JSON value), If-Match and ?version. NULL instead of a write_key: no key.
 */
struct write_key {
	const char *key;    /* 1..255 chars U+0021..U+007E */
	const char *method; /* an update's "PUT" or "PATCH"; else unused */
	bool has_body_version;
	uint64_t body_version;
	bool has_if_match;
	uint64_t if_match;
	bool has_query_version;
	uint64_t query_version;
};

/*
 * Every write with a key: the first successful answer is remembered with the
 * key in the transaction of the write, and a repeat of the same request
 * answers CE_OK with that answer again (*replayed true) and appends nothing,
 * also when the repeats race; the key with another request answers
 * CE_IDEMPOTENCY_KEY_REUSED. Refused writes are not remembered.
 */

/*
 * Creates a circle from a validated name, capacity and description (NULL:
 * the request had none; "": none either); *out is the circle at version 1.
 * Errors: CE_DUPLICATE_NAME, CE_IDEMPOTENCY_KEY_REUSED, CE_UNAVAILABLE,
 * CE_INTERNAL.
 */
enum cerr create_circle(const struct command_ctx *ctx, const char *name, int capacity,
			const char *description, const struct write_key *key, struct circle *out,
			bool *replayed, struct cerr_info *info);

/*
 * Updates circle `id` (lower case); *out is the circle afterwards (unchanged
 * when every member equals the current value). Errors: CE_NOT_FOUND, CE_GONE,
 * CE_PRECONDITION_REQUIRED, CE_VERSION_MISMATCH, CE_DUPLICATE_NAME,
 * CE_IDEMPOTENCY_KEY_REUSED, CE_UNAVAILABLE, CE_INTERNAL.
 */
enum cerr update_circle(const struct command_ctx *ctx, const char *id,
			const struct circle_update *cmd, const struct write_key *key,
			struct circle *out, struct cerr_info *info);

/* Deletes circle `id`; the same errors as update_circle but the name clash. */
enum cerr delete_circle(const struct command_ctx *ctx, const char *id, bool has_version,
			uint64_t expected_version, const struct write_key *key,
			struct cerr_info *info);

/*
 * After a command succeeded: its commit token into out ("" when the store
 * gives none), to be answered as Circle-Commit. Called once per successful
 * command. CE_OK, CE_UNAVAILABLE, CE_INTERNAL.
 */
enum cerr command_commit_token(const struct command_ctx *ctx, char out[COMMIT_TOKEN_MAX + 1]);

#endif
