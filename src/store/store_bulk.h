/*
 * Bulk work on the whole event log, for circlectl: rebuilding the
 * projection while the service runs, exporting the events and importing
 * them into an empty database. Run with an administrator's credentials:
 * it creates, renames and drops tables and locks circle_events for a
 * moment, which the workers' users may not do.
 *
 * Every function returns 0 on success and -1 on failure, with the reason in
 * store_bulk_error(); -2 when *stop became non-zero (a signal) and the work
 * was abandoned cleanly.
 */
#ifndef CIRCLE_STORE_STORE_BULK_H
#define CIRCLE_STORE_STORE_BULK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/circle.h"
#include "store/store.h"

/* The table a rebuild fills before it takes the live one's place. */
#define STORE_SHADOW_TABLE "circle_projections_rebuild"
/* The live table's name after the swap, until it is dropped. */
#define STORE_RETIRED_TABLE "circle_projections_retired"

struct store_bulk;

/* Connects to `database` with cfg (its database is ignored). NULL when out
 * of memory; a failed connect is reported by the first call. */
struct store_bulk *store_bulk_open(const struct store_config *cfg, const char *database);
void store_bulk_close(struct store_bulk *b);
const char *store_bulk_error(const struct store_bulk *b);

/* Where a rebuild is: `done` events of about `total` folded; phase names
 * the step ("fold", "catch-up", "swap"). */
typedef void (*store_progress_fn)(void *arg, const char *phase, uint64_t done, uint64_t total);

struct store_rebuild_stats {
	uint64_t events;       /* folded from the first consistent read */
	uint64_t circles;      /* rows of the new projection */
	uint64_t caught_up;    /* events applied by the catch-up rounds */
	unsigned rounds;       /* catch-up rounds, the last one with writes held */
	int64_t fold_ms;       /* the first read and fold */
	int64_t blocked_ms;    /* appends held, from asking for the lock to its end: */
	int64_t lock_wait_ms;  /* waiting for the appends in flight to end */
	int64_t last_round_ms; /* the last catch-up round */
	int64_t rename_ms;     /* RENAME TABLE and UNLOCK TABLES */
	unsigned given_up;     /* tries of the two before, given up on a lock's timeout, */
	int64_t given_up_ms;   /* with appends held this long in all */
	int64_t total_ms;
	bool left_over; /* a shadow or retired table of an earlier run was dropped */
};

/*
 * Rebuilds circle_projections from circle_events while the workers keep
 * appending and reading (see store_bulk.c for how no write is lost). On 0
 * the live table is the new one; on failure or interruption the live table
 * is untouched and the shadow table dropped (or left for the next run to
 * drop, when the process dies).
 */
int store_rebuild_projections(struct store_bulk *b, bool write_snapshots,
			      store_progress_fn progress, void *arg,
			      const volatile sig_atomic_t *stop, struct store_rebuild_stats *out);

/* One event as stored, for export and import. */
struct store_stored_event {
	uint64_t position;      /* circle_events.position, >= 1 */
	uint64_t feed_position; /* 0: not numbered yet (NULL) */
	unsigned schema_version;
	char event_id[CIRCLE_ID_LEN + 1];
	char circle_id[CIRCLE_ID_LEN + 1];
	uint32_t version;
	char event_type[64];
	char occurred_at[CIRCLE_TIME_LEN + 1]; /* 2026-11-26T08:35:48.123456Z */
	const char *payload;                   /* exactly as stored, not NUL-terminated */
	size_t payload_len;
};

/*
 * Calls fn for every event with position > after, in position order, from
 * one consistent read; stops when fn returns non-zero (that value is
 * returned, after the read was drained).
 */
int store_export(struct store_bulk *b, uint64_t after,
		 int (*fn)(void *arg, const struct store_stored_event *ev), void *arg);

/*
 * Import: begin checks that the database holds no event, projection row,
 * snapshot or idempotency key (-1 with "not empty" otherwise, *not_empty
 * set) and opens one transaction; add checks one event (its payload
 * decodes as its type and schema version, positions ascend) and queues it;
 * commit writes the rest, sets the feed's counter to the largest feed
 * position, and commits. Any failure rolls everything back: nothing is
 * half-imported. store_import_abort() rolls back explicitly.
 */
int store_import_begin(struct store_bulk *b, bool *not_empty);
int store_import_add(struct store_bulk *b, const struct store_stored_event *ev);
int store_import_commit(struct store_bulk *b, uint64_t *events);
void store_import_abort(struct store_bulk *b);
/* After a failed rebuild that followed an import: empties the events and
 * snapshots again. */
int store_import_undo(struct store_bulk *b);

#endif
