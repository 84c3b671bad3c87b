/*
 * What update and delete share: the current state of a circle, replayed
 * from the event store, a fresh event id and time, appending the decided
 * event, and the answer to a command that lost a race. Private to the
 * command layer.
 */
#ifndef CIRCLE_COMMAND_COMMAND_PIPELINE_H
#define CIRCLE_COMMAND_COMMAND_PIPELINE_H

#include "command/commands.h"

/*
 * The current state of circle id (lower case) into *state, read with
 * load_current or replayed from load; an unknown id gives version 0. CE_OK, CE_UNAVAILABLE or CE_INTERNAL (with *info set).
 */
enum cerr load_circle(const struct command_ctx *ctx, const char *id, struct circle *state,
		      struct cerr_info *info);

/* Ends what the command's store calls left open (event_store.h: end). */
void command_end(const struct command_ctx *ctx);

/*
 * After append answered CE_VERSION_MISMATCH: reloads id and answers CE_GONE
 * when it is deleted now, else CE_VERSION_MISMATCH with
 * info->current_version; or the reload's own error.
 */
enum cerr answer_lost_race(const struct command_ctx *ctx, const char *id, struct cerr_info *info);

/* Everything a command on an existing circle works with. */
struct circle_command {
	char circle_id[CIRCLE_ID_LEN + 1]; /* the id asked for, lower case */
	char event_id[CIRCLE_ID_LEN + 1];
	char now[CIRCLE_TIME_LEN + 1];
	struct event_meta meta; /* points at event_id and now */
	struct circle state;    /* replayed; version 0: unknown */
};

/*
 * Checks id (CE_INVALID_CIRCLE_ID), replays the circle into cmd->state and
 * draws the id and time of the event a decision may produce.
 */
enum cerr circle_command_begin(const struct command_ctx *ctx, const char *id,
			       struct circle_command *cmd, struct cerr_info *info);

/*
 * Appends ev, decided from cmd->state, with the projection it implies, which
 * it writes to *after, and idem when not NULL. Answers as the store did
 * (CE_IDEMPOTENCY_KEY_TAKEN included), a lost race as answer_lost_race()
 * does; what names the failure goes into *info.
 */
enum cerr circle_command_append(const struct command_ctx *ctx, const struct circle_command *cmd,
				const struct circle_event *ev, const struct idem_key *idem,
				struct circle *after, struct cerr_info *info);

/*
 * A write under an Idempotency-Key: the canonical request the key is
 * remembered with, and the status the write answers.
 */
struct keyed_write {
	struct idem_key idem; /* idem.request points at request */
	char request[IDEM_REQUEST_MAX + 1];
	const char *create_name; /* a create's name (and capacity), else NULL */
	int create_capacity;
	bool create_has_description; /* a create that named a description */
};

/* The members of a write's body, as keyed_write_init() remembers them. */
struct keyed_body {
	const char *name; /* NULL: absent */
	bool has_capacity;
	int capacity;
	const char *description; /* NULL: absent */
};

/*
 * Fills kw for a write on circle id (NULL: a create) with the request's
 * members. CE_OK, or CE_INTERNAL when the canonical request does not fit.
 */
enum cerr keyed_write_init(struct keyed_write *kw, const struct write_key *key, const char *method,
			   const char *id, const struct keyed_body *body, int status,
			   struct cerr_info *info);

/*
 * Looks kw's key up: CE_OK with *out the circle of the first answer when the
 * same request was answered before, CE_NOT_FOUND when the key is free,
 * CE_IDEMPOTENCY_KEY_REUSED when another request holds it, or the store's
 * CE_UNAVAILABLE / CE_INTERNAL.
 */
enum cerr keyed_write_find(const struct command_ctx *ctx, const struct keyed_write *kw,
			   struct circle *out, struct cerr_info *info);

/*
 * After the store answered CE_IDEMPOTENCY_KEY_TAKEN (a concurrent write with
 * the key committed first): answers as keyed_write_find() does, a key that
 * is then not found being CE_INTERNAL.
 */
enum cerr keyed_write_taken(const struct command_ctx *ctx, const struct keyed_write *kw,
			    struct circle *out, struct cerr_info *info);

#endif
