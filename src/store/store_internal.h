/*
 * What the files of store/ share and nobody else sees: the struct store, the
 * statement cache, and the helpers that check every Connector/C call.
 *
 * Memory: a struct store owns its copies of the configuration strings, the
 * MYSQL handle and every MYSQL_STMT in its cache; store_drop() releases the
 * handle and statements, store_free() everything.
 */
#ifndef CIRCLE_STORE_STORE_INTERNAL_H
#define CIRCLE_STORE_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "store/store.h"

/*
 * Every statement the store runs. Each is prepared once per connection, right
 * after connecting, and only when the store's side needs it; the text lives
 * in store.c next to its expected parameter and column counts.
 */
enum store_stmt {
	/* both sides */
	SQ_EVENTS,      /* events of a circle in a version range, ascending */
	SQ_SNAPSHOT_AT, /* a circle's latest snapshot at or below a version */
	/* read side */
	SQ_GET,        /* one projection row */
	SQ_LIST,       /* a page of live projection rows */
	SQ_CIRCLE_IDS, /* a page of every circle id, for verification */
	SQ_SNAPSHOTS,  /* a circle's snapshots after a version, ascending */
	SQ_FEED,       /* a page of the change feed, by feed_position */
	/* write side */
	SQ_CURRENT,      /* a command's circle: its projection row */
	SQ_APPEND,       /* CALL circle_append: a whole append, committed */
	SQ_REMEMBER_KEY, /* CALL circle_remember_key: a key's row, not committed */
	SQ_IDEM_FIND,    /* a key younger than the retention period */
	SQ_IDEM_PURGE,   /* a batch of expired keys (circlectl purge-keys) */
	/* sequencer side (store_sequencer.c) */
	SQ_SEQ_WINDOW,  /* peek side: where events without a feed position are */
	SQ_SEQ_PENDING, /* committed events without a feed position, oldest first */
	SQ_SEQ_LOCK,    /* the counter row, locked until commit */
	SQ_SEQ_ASSIGN,  /* a pass's feed positions, only to events without one */
	SQ_SEQ_ADVANCE, /* the counter, guarded by its previous value */
	SQ_SEQ_LEAD,    /* GET_LOCK: which worker's sequencer works */
	SQ_BINLOG_POS,  /* the primary's current GTID position */
	/* read side: replication (store_replica.c) */
	SQ_SERVER_ID, /* this server's own server_id */
	SQ_GTID_WAIT, /* MASTER_GTID_WAIT(token, seconds) */
	SQ__MAX
};

/* The errors sql/009_append_procedures.sql raises: answers, not faults. */
#define STORE_SIGNAL_VERSION_TAKEN 31001
#define STORE_SIGNAL_NAME_TAKEN 31002
#define STORE_SIGNAL_KEY_TAKEN 31003

/* Buffer size for a circle_events.event_type value. */
#define STORE_EVENT_TYPE_MAX 64

struct store {
	enum store_role side;
	/* configuration, owned copies (NULL: not set) */
	char *option_file;
	char *group;
	char *host;
	unsigned port;
	char *socket;
	char *user;
	char *password;
	char *database;

	MYSQL *db;                 /* NULL: not connected */
	unsigned long connects;    /* successful connects so far */
	MYSQL_STMT *stmt[SQ__MAX]; /* NULL: not prepared (other side) */

	/* What the last failed call reported, for callers that map it. */
	unsigned last_errno;
	char last_error[512];

	/* The GTID of the last COMMIT, from the session tracking of its reply;
	 * "" once read (store_replica.c). */
	char commit_token[COMMIT_TOKEN_MAX + 1];
	/* This server's server_id, read once per connection: a token whose
	 * every GTID it wrote itself needs no wait. */
	bool server_id_known;
	uint32_t server_id;
	/* SHOW SLAVE STATUS, prepared on first use (its columns vary between
	 * server versions and it needs a privilege the reads do not). */
	MYSQL_STMT *slave_status;
	bool slave_status_denied;

	/* The command side runs with autocommit off: its first statement
	 * opens a transaction, which stays open until COMMIT or ROLLBACK.
	 * Whether one may be open now (a statement was sent since the last). */
	bool txn_open;
	/* Set once COMMIT was sent: from then on the transaction's fate is
	 * unknown to us if the answer is lost, so the call is not retried. */
	bool commit_sent;
	/* Inside a read transaction of one consistent snapshot (the reader's
	 * consistent()): a lost connection is not replaced behind its back. */
	bool in_snapshot;
	/* Connection failures are logged when they start and then at most
	 * every few seconds, not once per request while the server is down. */
	int64_t connect_failed_at;
	unsigned long connect_failures;
	/* The request's deadline in monotonic ms; 0: none. */
	int64_t deadline_ms;
	/* Called after every append that sent COMMIT, whatever its answer
	 * (NULL: none): wakes the feed sequencer. */
	void (*on_commit)(void *arg);
	void *on_commit_arg;
};

/* --- store.c --- */

/* Closes every statement and the connection; the next store_ensure()
 * connects again. Safe to call when not connected. */
void store_drop(struct store *st);

/*
 * Logs the last error of stmt (or of the connection when stmt is NULL) with
 * the caller's file and line, remembers it in st->last_errno/last_error, and
 * classifies it: CE_UNAVAILABLE for a lost connection (which is dropped),
 * a lock wait timeout or an interrupted query; CE_INTERNAL for anything else.
 * Duplicate keys and deadlocks are expected by the callers that handle them
 * and so are not logged.
 */
enum cerr store_fail_(struct store *st, MYSQL_STMT *stmt, const char *file, int line);
#define STORE_STMT_FAIL(st, stmt) store_fail_((st), (stmt), __FILE__, __LINE__)
#define STORE_DB_FAIL(st) store_fail_((st), NULL, __FILE__, __LINE__)

/* Checks one Connector/C call on a statement / on the connection: evaluates
 * to CE_OK when `call` returned 0, else to the classified, logged error. */
#define STORE_CHECK_STMT(st, stmt, call) ((call) == 0 ? CE_OK : STORE_STMT_FAIL((st), (stmt)))
#define STORE_CHECK_DB(st, call) ((call) == 0 ? CE_OK : STORE_DB_FAIL(st))

/* Logs a problem that is not a Connector/C error (a row of unexpected
 * shape) with file and line, and answers CE_INTERNAL. */
enum cerr store_bad_(const char *what, const char *file, int line);
#define STORE_BAD(what) store_bad_((what), __FILE__, __LINE__)

/* The prepared statement `which` (NULL when not prepared for this side),
 * its previous result freed, ready to bind. */
MYSQL_STMT *store_stmt(struct store *st, enum store_stmt which);
/*
 * Frees the buffered result of statement `which`. Looked up by name, not by
 * pointer: a failed call may have dropped the connection and closed every
 * statement, so a MYSQL_STMT pointer held by the caller is then dangling.
 */
void store_done(struct store *st, enum store_stmt which);

/*
 * The helpers below check their Connector/C calls themselves and log failures
 * with the file and line of their caller.
 *
 * store_exec: binds params (when not NULL), executes, and when results is not
 * NULL buffers the whole result and binds results to it. The caller fetches
 * with store_fetch() and releases the buffer with store_done().
 */
enum cerr store_exec_at(struct store *st, MYSQL_STMT *stmt, MYSQL_BIND *params, MYSQL_BIND *results,
			const char *file, int line);
#define store_exec(st, stmt, params, results) \
	store_exec_at((st), (stmt), (params), (results), __FILE__, __LINE__)

/* Fetches one row: CE_OK with *row true, CE_OK with *row false at the end,
 * CE_INTERNAL for a truncated column or CE_UNAVAILABLE. */
enum cerr store_fetch_at(struct store *st, MYSQL_STMT *stmt, bool *row, const char *file, int line);
#define store_fetch(st, stmt, row) store_fetch_at((st), (stmt), (row), __FILE__, __LINE__)

/* Transactions on the write connection (autocommit stays on outside them).
 * store_commit() marks the commit as sent before sending it. */
enum cerr store_begin_at(struct store *st, const char *file, int line);
enum cerr store_commit_at(struct store *st, const char *file, int line);
#define store_begin(st) store_begin_at((st), __FILE__, __LINE__)
#define store_commit(st) store_commit_at((st), __FILE__, __LINE__)
/* Rolls back; errors are logged only (a lost connection rolls back anyway). */
void store_rollback(struct store *st);

/*
 * Runs op(st, arg) on a connected store. When op fails because a connection
 * that was already open turned out to be dead (the server restarted while the
 * worker was idle), and nothing may have been committed, connects again and
 * runs op once more, so the first request after a restart need not fail.
 */
enum cerr store_run(struct store *st, enum cerr (*op)(struct store *st, void *arg), void *arg);

/* Monotonic seconds. */
int64_t store_now_seconds(void);

/* Whether one more statement fits before the request's deadline. */
bool store_budget_left(const struct store *st);

/* Copies a canonical UUID in lower case into out; false when `in` is NULL
 * or not a canonical UUID. */
bool store_id_lower(const char *in, char out[CIRCLE_ID_LEN + 1]);

/* --- binding helpers (store.c); zero the MYSQL_BIND array first --- */

/* Input text: s must stay valid until the statement ran. */
void store_bind_text_in(MYSQL_BIND *b, const char *s, unsigned long *len);
/* Integers, for parameters and for results. */
void store_bind_u32(MYSQL_BIND *b, uint32_t *v);
void store_bind_u64(MYSQL_BIND *b, uint64_t *v);
void store_bind_int(MYSQL_BIND *b, int *v);
void store_bind_tiny(MYSQL_BIND *b, signed char *v);
/* Output text into buf[size]; see store_text_done(). */
void store_bind_text_out(MYSQL_BIND *b, char *buf, size_t size, unsigned long *len);
/* Points b[0..n).is_null at nulls[0..n), so NULLs can be told apart. */
void store_bind_nulls(MYSQL_BIND *b, my_bool *nulls, size_t n);
/* CE_INTERNAL (logged) when any fetched column was NULL. */
enum cerr store_check_nulls(const my_bool *nulls, size_t n);
/* NUL-terminates a fetched text column: CE_INTERNAL (logged) when it did
 * not fit into size - 1 bytes. */
enum cerr store_text_done(char *buf, size_t size, unsigned long len, const char *column);

/* --- store_replica.c --- */

/* After a successful COMMIT: keeps the GTID the server tracked for it. */
void store_track_commit(struct store *st);
/* Forgets what was learnt per connection (server_id, SHOW SLAVE STATUS). */
void store_replica_drop(struct store *st);
/* The ports' functions: event_store.commit_token, circle_reader.wait_for
 * and circle_reader.replication. */
enum cerr store_port_commit_token(void *self, char out[COMMIT_TOKEN_MAX + 1]);
enum cerr store_port_wait_for(void *self, const char *token, unsigned timeout_ms);
enum cerr store_port_replication(void *self, struct replication_state *out);

/* --- store_events.c / store_reader.c --- */

/*
 * Loads at most `limit` (0: no limit) events of circle_id (lower-case,
 * valid) with after < version <= upto (upto 0: no upper bound) into a new
 * array the caller frees. Shared by the event store's load and the reader's
 * history.
 */
enum cerr store_load_events(struct store *st, const char *circle_id, uint32_t after, uint32_t upto,
			    unsigned limit, struct circle_event **evs, size_t *n);

/*
 * Snapshots of circle_id (lower-case, valid) into out[0..*n), at most
 * `limit`: with SQ_SNAPSHOT_AT the latest ones with version <= bound,
 * descending; with SQ_SNAPSHOTS those with version > bound, ascending. Each
 * is a circle state (id set); the domain checks it before trusting it.
 */
enum cerr store_load_snapshots(struct store *st, enum store_stmt which, const char *circle_id,
			       uint32_t bound, unsigned limit, struct circle *out, size_t *n);

/* Up to `limit` events with feed_position > after, ascending, into
 * out[0..*n); out has room for `limit`. */
enum cerr store_load_feed(struct store *st, uint64_t after, uint32_t limit, struct feed_event *out,
			  size_t *n);

#endif
