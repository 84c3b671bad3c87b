/*
 * The port the query side needs: read-only access to the projection and to
 * the event history, waiting for a client's own write, and the replication
 * state. store/ implements it with SELECTs only (MASTER_GTID_WAIT() is one),
 * so it works for a database user that may do nothing else; only the
 * replication state needs SLAVE MONITOR, and reads "unknown" without it.
 */
#ifndef CIRCLE_QUERY_CIRCLE_READER_H
#define CIRCLE_QUERY_CIRCLE_READER_H

#include <stddef.h>

#include "domain/circle.h"

/* An event of the change feed: the event and its feed position. */
struct feed_event {
	uint64_t position; /* >= 1, strictly increasing along the feed */
	struct circle_event event;
};

/* What a reader's database says about its replication. */
struct replication_state {
	bool replica;      /* false: not a replica; the rest is unset */
	bool known;        /* false: the state could not be read (privilege) */
	bool io_running;   /* receiving from the primary (or connecting to it) */
	bool sql_running;  /* applying what it received */
	long lag_seconds;  /* Seconds_Behind_Master; -1 when unknown */
	char io_state[32]; /* "Yes", "No", "Connecting" */
	char sql_state[32];
};

struct circle_reader {
	void *self;
	/* Answers CE_OK when the database can be reached, else CE_UNAVAILABLE. */
	enum cerr (*ping)(void *self);
	/* The projection row of id (deleted ones too: out->deleted).
	 * CE_OK, CE_NOT_FOUND, CE_UNAVAILABLE or CE_INTERNAL. */
	enum cerr (*get)(void *self, const char *id, struct circle *out);
	/*
	 * Up to `limit` live circles with circle_id > after (after NULL: from
	 * the start), ascending by circle_id, into out[0..*n). out has room
	 * for `limit` circles.
	 */
	enum cerr (*list)(void *self, const char *after, unsigned limit, struct circle *out,
			  size_t *n);
	/*
	 * Up to `limit` (>= 1) events of id with after < version <= upto
	 * (upto 0: no upper bound), ascending, into a new array *evs of *n
	 * that the caller frees. CE_OK with n 0 when none. The limit bounds
	 * the memory a read takes, whatever the length of the history.
	 */
	enum cerr (*history)(void *self, const char *id, uint32_t after, uint32_t upto,
			     unsigned limit, struct circle_event **evs, size_t *n);
	/*
	 * The latest snapshot of id with version <= at into *out (id, name,
	 * capacity, version, deleted); out->version 0 when there is none.
	 */
	enum cerr (*snapshot_at)(void *self, const char *id, uint32_t at, struct circle *out);
	/*
	 * Up to `limit` snapshots of id with version > after, ascending, into
	 * out[0..*n); out has room for `limit`.
	 */
	enum cerr (*snapshots)(void *self, const char *id, uint32_t after, unsigned limit,
			       struct circle *out, size_t *n);
	/*
	 * Runs fn(ctx) with every read it makes through this port seeing one
	 * consistent state of the database (one read-only transaction with a
	 * consistent snapshot), and answers what fn answered. NULL when every
	 * read is consistent anyway (a port over memory).
	 */
	enum cerr (*consistent)(void *self, enum cerr (*fn)(void *ctx), void *ctx);
	/*
	 * The change feed: up to `limit` events with position > after,
	 * ascending by position, into out[0..*n); out has room for `limit`.
	 * Only events whose transaction committed have a position.
	 */
	enum cerr (*feed)(void *self, uint64_t after, unsigned limit, struct feed_event *out,
			  size_t *n);
	/*
	 * Waits until the database holds the write named by token (a
	 * well-formed commit token), at most timeout_ms. CE_OK at once when
	 * the database made that write itself; CE_NOT_CAUGHT_UP past the
	 * bound; CE_UNAVAILABLE, CE_INTERNAL. May be NULL: nothing to wait for.
	 */
	enum cerr (*wait_for)(void *self, const char *token, unsigned timeout_ms);
	/* The replication state of the database; may be NULL (no replication). */
	enum cerr (*replication)(void *self, struct replication_state *out);
};

#endif
