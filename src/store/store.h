/*
 * The MariaDB storage layer: the only code that includes mysql.h.
 * One struct store is one persistent connection with its prepared statements,
 * prepared once per connection and reused. When the server goes away the
 * connection is dropped and the next call reconnects by itself; calls made
 * while it is down answer CE_UNAVAILABLE.
 */
#ifndef CIRCLE_STORE_STORE_H
#define CIRCLE_STORE_STORE_H

#include <stdint.h>

#include "command/event_store.h"
#include "domain/side.h"
#include "query/circle_reader.h"

/* A snapshot of a circle's state is written with every event whose version
 * is a multiple of this, so a command replays fewer events than this. */
#define STORE_SNAPSHOT_EVERY 10

/*
 * What a store's connection is for: one side of the service (enum side, so
 * SIDE_READ and SIDE_WRITE are valid here) or one of the feed sequencer's two
 * connections. It decides the statements prepared and the session settings.
 */
enum store_role {
	STORE_READ = SIDE_READ,   /* SELECTs only: works for a SELECT-only user */
	STORE_WRITE = SIDE_WRITE, /* the command side's statements */
	STORE_SEQUENCER,          /* the feed sequencer's statements (store_sequencer.c) */
	STORE_PEEK,               /* the sequencer's READ UNCOMMITTED look for its window */
};

/*
 * Where and how to connect. Every string may be NULL: then the option file
 * group (and Connector/C's defaults) decide.
 */
struct store_config {
	const char *option_file; /* MariaDB option file to read, or NULL */
	const char *group;       /* its group, e.g. "circle-command" */
	const char *host;
	unsigned port; /* 0: default */
	const char *socket;
	const char *user;
	const char *password;
	const char *database;
};

/* Fills *cfg from the environment (CIRCLE_DB_*), over the given group. */
void store_config_from_env(struct store_config *cfg, const char *group);

/* A new store that will connect on first use; NULL when out of memory.
 * Strings in cfg are copied. */
struct store *store_new(const struct store_config *cfg, enum store_role role);
/* Closes the connection and frees everything; NULL is fine. */
void store_free(struct store *st);

/* Connects (and prepares) when not connected: CE_OK or CE_UNAVAILABLE. */
enum cerr store_ensure(struct store *st);

/*
 * Work for one request must be over by deadline_ms (monotonic milliseconds,
 * store_now_ms()); 0: no deadline. Before each statement, each deadlock
 * retry and each reconnect the store checks that the slowest a statement can
 * take (STORE_STATEMENT_MAX_MS) still fits, and answers CE_UNAVAILABLE
 * otherwise, so that it never sends a COMMIT it could not hear the answer
 * of in time.
 */
void store_set_deadline(struct store *st, int64_t deadline_ms);

/* Monotonic milliseconds. */
int64_t store_now_ms(void);

/*
 * The longest one statement of the write side can take before the worker
 * gives up on it: Connector/C's read timeout. The server itself stops a
 * statement earlier (max_statement_time, innodb_lock_wait_timeout).
 */
#define STORE_STATEMENT_MAX_MS 4000

/*
 * Deletes up to `batch` idempotency keys older than their 24 hours of
 * retention (write side), into *deleted. CE_OK, CE_UNAVAILABLE or
 * CE_INTERNAL. For circlectl purge-keys: no request waits on it.
 */
enum cerr store_purge_keys(struct store *st, unsigned long *deleted);

/* Ports backed by st; st must outlive them. */
void store_event_store(struct store *st, struct event_store *out);
void store_circle_reader(struct store *st, struct circle_reader *out);

/*
 * A page of every circle id the database knows (from the events or the
 * projection), ascending, after `after` ("" from the start), into
 * ids[0..*n); ids has room for `limit`. Read side only: for circlectl verify.
 */
enum cerr store_circle_ids(struct store *st, const char *after, unsigned limit,
			   char (*ids)[CIRCLE_ID_LEN + 1], size_t *n);

/*
 * The feed sequencer: gives committed events their feed positions, in
 * commit order, exactly once (sql/006_feed_position.sql says how and why).
 */

/* At most this many events are numbered in one transaction. */
#define STORE_FEED_BATCH 1000

/*
 * One sequencer pass on a STORE_SEQUENCER store: numbers up to `batch`
 * (1..STORE_FEED_BATCH) committed events that have no feed position yet,
 * oldest first, in one transaction. With a STORE_PEEK store it first reads
 * where to look, which keeps a pass cheap under load (without one, NULL, it
 * reads every entry still in the index). *assigned receives how many (0
 * when there were none). CE_OK, CE_UNAVAILABLE or CE_INTERNAL; on failure
 * nothing was numbered.
 */
enum cerr store_sequence_pass(struct store *st, struct store *peek, unsigned batch,
			      size_t *assigned);

/*
 * The sequencer as a thread with connections of its own (cfg as for the
 * command side). Of all the workers' threads on one database one leads
 * (a GET_LOCK; the others wait for it and take over when its connection
 * goes). The leader runs a pass when store_sequencer_wake() is called, at
 * once again while batches come back full, after a pause (the gap) when a
 * pass numbered events, and after a longer one (the idle poll) when it
 * numbered none; while the database is down it retries with a growing
 * pause. Returns NULL when it cannot start (logged). Signals are blocked in
 * the thread, so they keep going to the caller's thread.
 *
 * The gap starts at STORE_SEQUENCER_GAP_MS and doubles with every pass in a
 * row that numbered events, up to STORE_SEQUENCER_GAP_MAX_MS: under a steady
 * stream of commits one pass numbers the commits of that many milliseconds
 * together, so its fixed cost (round trips, a durable commit) is shared by
 * many events; a pass that finds nothing starts the gap over. The idle poll
 * catches the commits of the other workers, whose wakes never reach the
 * leader: STORE_SEQUENCER_IDLE_MS, doubling while passes find nothing up to
 * STORE_SEQUENCER_IDLE_MAX_MS. So an event is in the feed at most about
 * GAP_MAX (under load) or IDLE_MAX (its worker not leading, after a quiet
 * spell) and two passes after its commit (one that read just before it
 * committed, and the next).
 */
#define STORE_SEQUENCER_GAP_MS 10
#define STORE_SEQUENCER_GAP_MAX_MS 40
#define STORE_SEQUENCER_IDLE_MS 20
#define STORE_SEQUENCER_IDLE_MAX_MS 40
/*
 * The thread's pacing, apart so that its bounds can be tested: given that a
 * pass numbered n of at most `batch` events, returns how long (ms) to wait
 * before the next pass, sets *wakeable when a wake may cut that wait short
 * (the idle poll) and updates the gap and the idle poll (*gap_ms, *idle_ms;
 * start them at STORE_SEQUENCER_GAP_MS and STORE_SEQUENCER_IDLE_MS).
 */
unsigned store_sequencer_pace(size_t n, unsigned batch, unsigned *gap_ms, unsigned *idle_ms,
			      bool *wakeable);
struct store_sequencer;
struct store_sequencer *store_sequencer_start(const struct store_config *cfg);
/* Asks for a pass soon; cheap, never blocks on the database. NULL is fine. */
void store_sequencer_wake(void *seq);
/* Stops the thread (after the pass in hand), closes its connection and
 * frees everything. NULL is fine. */
void store_sequencer_stop(struct store_sequencer *seq);

/* Calls fn(arg) after every append on st that sent COMMIT, committed or
 * not (e.g. store_sequencer_wake). fn must be quick and must not block. */
void store_on_commit(struct store *st, void (*fn)(void *arg), void *arg);

#endif
