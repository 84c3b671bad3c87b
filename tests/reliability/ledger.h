/*
 * The ledger of acknowledged writes: every create answered 201 and every
 * update answered 200, as the client saw them, so that after a fault each
 * can be looked up again in the circle's history. An acknowledged write that
 * is not there is a lost write.
 *
 * Appends are thread-safe (the load threads share one ledger); verifying is
 * for one thread while nothing appends. The ledger copies what it is given
 * and frees it in ledger_free().
 */
#ifndef CIRCLE_TESTS_LEDGER_H
#define CIRCLE_TESTS_LEDGER_H

#include <stddef.h>

struct ledger;

struct ledger *ledger_new(void);
void ledger_free(struct ledger *l);

/* A create answered 201: the circle id, its name and capacity (version 1). */
void ledger_create(struct ledger *l, const char *id, const char *name, int capacity);
/* An update answered 200 at version: what it sent (name NULL when not sent,
 * capacity -1 when not sent), each of which differed from the circle's
 * state it was decided on, so the event carries it. */
void ledger_update(struct ledger *l, const char *id, int version, const char *name, int capacity);

size_t ledger_count(const struct ledger *l);

/*
 * Looks every acknowledged write up through the API: GET /circle/{id} must
 * answer 200 at a version no lower than any acknowledged one, and
 * GET /circle/{id}/events must hold a circle_created with the name and
 * capacity of each create and, at each acknowledged update's version, a
 * circle_updated with the data it sent. Prints the first failures; returns
 * how many writes failed and sets *verified to how many were found.
 */
size_t ledger_verify(struct ledger *l, size_t *verified);

#endif
