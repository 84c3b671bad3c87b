/*
 * A MariaDB session of the tests' own, beside the workers' connections:
 * it can hold a circle's projection row locked the way a slow or stuck
 * transaction of another client would (BEGIN, SELECT ... FOR UPDATE, until
 * rolled back), and it can take a fingerprint of the stored data, so a test
 * can tell that a request changed nothing at all.
 *
 * Memory: the session is the caller's until dbs_close().
 */
#ifndef CIRCLE_TESTS_DBSESSION_H
#define CIRCLE_TESTS_DBSESSION_H

#include <stddef.h>

struct dbs;

/* Connects as the option file's group says; NULL with the reason in why. */
struct dbs *dbs_open(const char *option_file, const char *group, char *why, size_t why_len);

/* Locks the projection row of circle_id (a canonical UUID); 0 or -1. */
int dbs_lock_circle(struct dbs *d, const char *circle_id, char *why, size_t why_len);
/* Rolls the transaction back, which frees the lock; 0 or -1. */
int dbs_rollback(struct dbs *d, char *why, size_t why_len);

/*
 * The events' count and highest position and the projections' count, into
 * out: events are only ever appended, so any write shows. With full, also
 * the projection table's checksum, which reads every row. 0 or -1.
 */
int dbs_fingerprint(struct dbs *d, int full, char *out, size_t out_len, char *why, size_t why_len);

/* Runs one statement whose result, if any, is dropped; 0 or -1. */
int dbs_exec(struct dbs *d, const char *sql, char *why, size_t why_len);

void dbs_close(struct dbs *d);

#endif
