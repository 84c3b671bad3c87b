/*
 * The MariaDB storage layer: the only code that includes mysql.h.
 * One struct store is one persistent connection with its prepared statements,
 * prepared once per connection and reused. When the server goes away the
 * connection is dropped and the next call reconnects by itself; calls made
 * while it is down answer CE_UNAVAILABLE.
 */
#ifndef CIRCLE_STORE_STORE_H
#define CIRCLE_STORE_STORE_H

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
