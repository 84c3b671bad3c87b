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
struct store *store_new(const struct store_config *cfg, enum side side);
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

#endif
