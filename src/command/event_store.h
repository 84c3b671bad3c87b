/*
 * The port the command side needs: an event store that loads a circle's
 * history and appends one event together with the projection it implies,
 * atomically. store/ implements it on MariaDB; unit tests use a fake.
 */
#ifndef CIRCLE_COMMAND_EVENT_STORE_H
#define CIRCLE_COMMAND_EVENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/circle.h"

/* The longest canonical request an Idempotency-Key remembers, in bytes: a
 * name of 400 and a description of 2000 bytes with the rest fit. Its column
 * counts characters (2000), of which such a request has fewer than 800. */
#define IDEM_REQUEST_MAX 3000

/*
 * A remembered successful write, found by its Idempotency-Key: the request
 * it answered (canonical form, "" for a create remembered before requests
 * were) and its answer, the status and the circle after the write.
 */
struct idem_record {
	char request[IDEM_REQUEST_MAX + 1];
	int status;
	char circle_id[CIRCLE_ID_LEN + 1];
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	int capacity;
	uint32_t version;
	bool deleted;
	char description[CIRCLE_DESCRIPTION_MAX_BYTES + 1];
};

/* The key to remember with a write; NULL when the request had none. */
struct idem_key {
	const char *key;     /* 1..255 chars U+0021..U+007E */
	const char *request; /* canonical request, at most IDEM_REQUEST_MAX bytes */
	int status;          /* the answer's status */
};

struct event_store {
	void *self;
	/*
	 * Loads circle_id for a command: *from is its latest snapshot (version
	 * 0: none, start from nothing), and the events after it, ascending by
	 * version, go into a new array *evs of *n events that the caller frees
	 * (NULL when n is 0). Returns CE_OK (also for an unknown id: version 0
	 * and n 0), CE_UNAVAILABLE or CE_INTERNAL.
	 */
	enum cerr (*load)(void *self, const char *circle_id, struct circle *from,
			  struct circle_event **evs, size_t *n);
	/*
	 * Optional (NULL: commands replay what load gives): circle_id's
	 * current state into *out (version 0: unknown), read in the
	 * transaction that the command's append or idem_remember then
	 * continues (one round trip instead of a snapshot and its events).
	 * Returns as load does.
	 */
	enum cerr (*load_current)(void *self, const char *circle_id, struct circle *out);
	/*
	 * Optional (NULL: nothing to do): ends the transaction that a load,
	 * load_current or idem_find of the command left open because no
	 * append or idem_remember ended it; it wrote nothing and is rolled
	 * back. Every command calls it once it is done.
	 */
	void (*end)(void *self);
	/*
	 * In one transaction: appends ev, writes the projection row `after`
	 * (the state once ev is applied; now and then also as a snapshot),
	 * and remembers idem when not NULL.
	 * Returns CE_OK, CE_VERSION_MISMATCH when (circle_id, version) is
	 * taken, CE_DUPLICATE_NAME when a live circle has after->name,
	 * CE_IDEMPOTENCY_KEY_TAKEN when idem->key is already remembered,
	 * CE_UNAVAILABLE or CE_INTERNAL. Nothing is written unless CE_OK.
	 */
	enum cerr (*append)(void *self, const struct circle_event *ev, const struct circle *after,
			    const struct idem_key *idem);
	/*
	 * Remembers idem with the circle `state` in a transaction of its own,
	 * for a write that appends nothing. Returns CE_OK,
	 * CE_IDEMPOTENCY_KEY_TAKEN, CE_UNAVAILABLE or CE_INTERNAL.
	 */
	enum cerr (*idem_remember)(void *self, const struct idem_key *idem,
				   const struct circle *state);
	/*
	 * Looks up a remembered write younger than the retention period.
	 * Returns CE_OK with *out filled, CE_NOT_FOUND, CE_UNAVAILABLE or
	 * CE_INTERNAL.
	 */
	enum cerr (*idem_find)(void *self, const char *key, struct idem_record *out);
	/*
	 * The commit token of what the last command did, read once: the
	 * position of the transaction it committed, or, when it committed
	 * nothing (a replay, an unchanged update), the database's current
	 * position, which covers everything the command read. "" when the
	 * database keeps no positions (no binary log). May be NULL (no
	 * tokens). CE_OK, CE_UNAVAILABLE or CE_INTERNAL.
	 */
	enum cerr (*commit_token)(void *self, char out[COMMIT_TOKEN_MAX + 1]);
};

#endif
