/*
 * The connection of a store: connecting with its options, the session
 * settings, the cache of prepared statements, the transaction helpers, and
 * the one place where Connector/C errors are logged and classified.
 *
 * Reconnecting is ours, not Connector/C's: MYSQL_OPT_RECONNECT would open a
 * new session behind our back, without our session settings and with every
 * prepared statement silently gone. Instead a lost connection is dropped
 * whole (statements and handle) and the next call connects and prepares
 * again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysqld_error.h>
#include <pthread.h>

#include "store/store_internal.h"

/* Seconds; the read/write timeout bounds how long a worker can hang on a
 * server that stopped answering. The write side's is the slowest one
 * statement may be (STORE_STATEMENT_MAX_MS), so that a request's budget
 * can count in statements. */
#define CONNECT_TIMEOUT 2u
#define READ_WRITE_TIMEOUT 10u
#define WRITE_READ_TIMEOUT (STORE_STATEMENT_MAX_MS / 1000u)
/* Seconds between two log lines about failing connects. */
#define CONNECT_LOG_INTERVAL 10

/* which connections prepare a statement: a mask of (1u << enum store_role) */
#define ON_READ (1u << STORE_READ)
#define ON_WRITE (1u << STORE_WRITE)
#define ON_SEQ (1u << STORE_SEQUENCER)
#define ON_PEEK (1u << STORE_PEEK)

/* Connector/C's own error codes beyond the classic 2000..2999 range. */
#define CR_MARIADB_MIN 5000
#define CR_MARIADB_MAX 5999

static const struct stmt_def {
	const char *sql;
	unsigned params;
	unsigned columns;
	unsigned sides;
} stmt_defs[SQ__MAX] = {
	[SQ_EVENTS] = {"SELECT id, circle_id, version, event_type, payload, occurred_at,"
		       " schema_version"
		       " FROM circle_events WHERE circle_id = ? AND version > ? AND version <= ?"
		       " ORDER BY version LIMIT ?",
		       4, 7, ON_READ | ON_WRITE},
	/* The latest snapshot at or below a version (the nearest start of a
	 * replay), and the snapshots after a version in order (to check each
	 * against the events). */
	[SQ_SNAPSHOT_AT] = {"SELECT version, name, capacity, deleted, description"
			    " FROM circle_snapshots"
			    " WHERE circle_id = ? AND version <= ? ORDER BY version DESC LIMIT ?",
			    3, 5, ON_READ | ON_WRITE},
	[SQ_SNAPSHOTS] = {"SELECT version, name, capacity, deleted, description"
			  " FROM circle_snapshots"
			  " WHERE circle_id = ? AND version > ? ORDER BY version LIMIT ?",
			  3, 5, ON_READ},
	[SQ_GET] = {"SELECT circle_id, name, capacity, version, deleted, description"
		    " FROM circle_projections WHERE circle_id = ?",
		    1, 6, ON_READ},
	[SQ_LIST] = {"SELECT circle_id, name, capacity, version, description"
		     " FROM circle_projections WHERE deleted = 0 AND circle_id > ?"
		     " ORDER BY circle_id LIMIT ?",
		     2, 5, ON_READ},
	/* Ids known to either table, so a projection row without events
	 * and events without a projection row are both found. */
	[SQ_CIRCLE_IDS] = {"SELECT circle_id FROM (SELECT circle_id FROM circle_projections"
			   " UNION SELECT circle_id FROM circle_events) AS ids"
			   " WHERE circle_id > ? ORDER BY circle_id LIMIT ?",
			   2, 1, ON_READ},
	/* The NULLs of the feed_position index are never in the feed. */
	[SQ_FEED] =
		{"SELECT id, circle_id, version, event_type, payload, occurred_at, schema_version,"
		 " feed_position"
		 " FROM circle_events WHERE feed_position > ? ORDER BY feed_position LIMIT ?",
		 2, 8, ON_READ},
	[SQ_CURRENT] = {"SELECT name, capacity, version, deleted, description"
			" FROM circle_projections WHERE circle_id = ?",
			1, 5, ON_WRITE},
	/* sql/009_append_procedures.sql: one round trip each */
	[SQ_APPEND] = {"CALL circle_append(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", 15, 0,
		       ON_WRITE},
	[SQ_REMEMBER_KEY] = {"CALL circle_remember_key(?, ?, ?, ?, ?, ?, ?, ?, ?)", 9, 0, ON_WRITE},
	/* The server's clock decides a key's age, so every worker agrees. */
	/* Rows written before requests were remembered are creates: 201 of
	 * version 1, request NULL. */
	[SQ_IDEM_FIND] = {"SELECT circle_id, name, capacity, COALESCE(request, ''),"
			  " COALESCE(status, 201), COALESCE(version, 1), COALESCE(deleted, 0),"
			  " description FROM idempotency_keys WHERE idem_key = ?"
			  " AND created_at >= UTC_TIMESTAMP(6) - INTERVAL 24 HOUR",
			  1, 8, ON_WRITE},
	/* Bounded, so one purge never holds many locks for long. */
	[SQ_IDEM_PURGE] = {"DELETE FROM idempotency_keys"
			   " WHERE created_at < UTC_TIMESTAMP(6) - INTERVAL 24 HOUR LIMIT 1000",
			   0, 0, ON_WRITE},
	/* On the READ UNCOMMITTED peek connection: in-flight appends too.
	 * Only uq_circle_events_feed_position is read (it holds `position`). */
	[SQ_SEQ_WINDOW] = {"SELECT MIN(w.`position`), MAX(w.`position`) FROM"
			   " (SELECT `position` FROM circle_events WHERE feed_position IS NULL"
			   " ORDER BY `position` LIMIT ?) AS w",
			   1, 2, ON_PEEK},
	/* A consistent read under READ COMMITTED: it sees committed rows
	 * only, in the window the peek found. */
	[SQ_SEQ_PENDING] = {"SELECT `position` FROM circle_events WHERE feed_position IS NULL"
			    " AND `position` BETWEEN ? AND ? ORDER BY `position` LIMIT ?",
			    3, 1, ON_SEQ},
	[SQ_SEQ_LOCK] = {"SELECT last_position FROM circle_feed_sequence WHERE id = 1 FOR UPDATE",
			 0, 1, ON_SEQ},
	/* A pass's events in one statement, not one per event: the JSON
	 * list of their positions, ascending, numbered from ? + 1 in that
	 * order. STRAIGHT_JOIN keeps the list first, each event found by its
	 * primary key (else the optimizer may start from the NULL entries). */
	[SQ_SEQ_ASSIGN] = {"UPDATE JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY,"
			   " p BIGINT UNSIGNED PATH '$' ERROR ON EMPTY ERROR ON ERROR)) AS j"
			   " STRAIGHT_JOIN circle_events e ON e.`position` = j.p"
			   " SET e.feed_position = ? + j.n WHERE e.feed_position IS NULL",
			   2, 0, ON_SEQ},
	/* Named after the database: GET_LOCK names are server-wide. */
	[SQ_SEQ_LEAD] = {"SELECT GET_LOCK(CONCAT(DATABASE(), '.circle_feed_sequencer'), ?)", 1, 1,
			 ON_SEQ},
	[SQ_SEQ_ADVANCE] = {"UPDATE circle_feed_sequence SET last_position = ?"
			    " WHERE id = 1 AND last_position = ?",
			    2, 0, ON_SEQ},
	[SQ_BINLOG_POS] = {"SELECT @@GLOBAL.gtid_binlog_pos", 0, 1, ON_WRITE},
	[SQ_SERVER_ID] = {"SELECT @@GLOBAL.server_id", 0, 1, ON_READ},
	/* A NULL timeout would wait forever: the caller always binds one. */
	[SQ_GTID_WAIT] = {"SELECT MASTER_GTID_WAIT(?, ?)", 2, 1, ON_READ},
};

/* Strict, so a value that does not fit is an error instead of being
 * silently truncated or zeroed. */
static const char session_sql[] = "SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,"
				  "NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
				  "NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'";
/* READ COMMITTED: the unique keys, not snapshot reads, guard every append,
 * and it takes fewer gap locks; the feed sequencer needs each of its reads
 * to see every transaction committed before it. A short lock wait turns a
 * stuck row into a quick 503 instead of a hung worker, and the server stops
 * any statement that runs longer than the worker would wait for it: both
 * under STORE_STATEMENT_MAX_MS, so a request's time budget holds on the
 * server's side too (see store_budget_left()). */
static const char write_isolation_sql[] = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
static const char write_lock_wait_sql[] = "SET SESSION innodb_lock_wait_timeout = 2,"
					  " max_statement_time = 3";
/* The feed sequencer's peek: it must see appends still in flight, and only
 * ever reads (store_sequencer.c says why that is safe). */
static const char peek_isolation_sql[] = "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED";
/* Every COMMIT's reply then carries the GTID it was given: the commit token,
 * without another round trip. */
static const char write_track_gtid_sql[] =
	"SET SESSION session_track_system_variables = 'last_gtid'";

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;

static void
library_init(void)
{
	/* Not thread-safe inside mysql_init(), so done once up front. */
	library_rc = mysql_library_init(0, NULL, NULL);
}

static char *
dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

struct store *
store_new(const struct store_config *cfg, enum store_role side)
{
	struct store *st;
	bool oom = false;

	if (!cfg || (side != STORE_READ && side != STORE_WRITE && side != STORE_SEQUENCER &&
		     side != STORE_PEEK))
		return NULL;
	if (pthread_once(&library_once, library_init) != 0 || library_rc != 0) {
		fprintf(stderr, "store: %s:%d: mysql_library_init failed\n", __FILE__, __LINE__);
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->side = side;
	st->port = cfg->port;
	st->option_file = dup_or_null(cfg->option_file, &oom);
	st->group = dup_or_null(cfg->group, &oom);
	st->host = dup_or_null(cfg->host, &oom);
	st->socket = dup_or_null(cfg->socket, &oom);
	st->user = dup_or_null(cfg->user, &oom);
	st->password = dup_or_null(cfg->password, &oom);
	st->database = dup_or_null(cfg->database, &oom);
	if (oom) {
		store_free(st);
		return NULL;
	}
	return st;
}

static void
free_secret(char *s)
{
	if (s) {
		/* A password should not outlive its use in freed heap memory. */
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
store_free(struct store *st)
{
	if (!st)
		return;
	store_drop(st);
	free(st->database);
	free_secret(st->password);
	free(st->user);
	free(st->socket);
	free(st->host);
	free(st->group);
	free(st->option_file);
	free(st);
}

void
store_drop(struct store *st)
{
	size_t i;

	store_replica_drop(st);
	for (i = 0; i < SQ__MAX; i++) {
		if (st->stmt[i]) {
			/* On a dead connection this only frees client memory. */
			mysql_stmt_close(st->stmt[i]);
			st->stmt[i] = NULL;
		}
	}
	if (st->db) {
		mysql_close(st->db);
		st->db = NULL;
	}
	st->txn_open = false;
}

static bool
is_connection_error(unsigned e)
{
	switch (e) {
	case CR_UNKNOWN_ERROR:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_COMMANDS_OUT_OF_SYNC: /* the protocol state is unknown */
	case CR_SERVER_LOST_EXTENDED:
	case CR_STMT_CLOSED:
	case CR_ERR_NET_READ:
	case CR_ERR_NET_WRITE:
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case ER_ABORTING_CONNECTION:
	case ER_NEW_ABORTING_CONNECTION:
	case ER_NET_PACKETS_OUT_OF_ORDER:
	case ER_NET_READ_ERROR:
	case ER_NET_READ_INTERRUPTED:
	case ER_NET_ERROR_ON_WRITE:
	case ER_NET_WRITE_INTERRUPTED:
	/* The server forgot a statement (or wants it prepared again): a fresh
	 * connection prepares everything anew. */
	case ER_UNKNOWN_STMT_HANDLER:
	case ER_NEED_REPREPARE: return true;
	default: return false;
	}
}

/* Errors after which the connection is fine but the work could not be done
 * now: worth a 503 and a retry by the client, not a 500. */
static bool
is_transient_error(unsigned e)
{
	switch (e) {
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
	case ER_QUERY_INTERRUPTED:
	case ER_STATEMENT_TIMEOUT:
	case ER_OPTION_PREVENTS_STATEMENT: /* read_only server */
	case ER_READ_ONLY_MODE:
	case ER_LOCK_ABORTED: return true;
	default: return false;
	}
}

static bool
is_client_error(unsigned e)
{
	return (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR) ||
	       (e >= CR_MARIADB_MIN && e <= CR_MARIADB_MAX);
}

enum cerr
store_fail_(struct store *st, MYSQL_STMT *stmt, const char *file, int line)
{
	unsigned e = 0;
	const char *msg = "no connection";

	if (stmt) {
		e = mysql_stmt_errno(stmt);
		msg = mysql_stmt_error(stmt);
	} else if (st->db) {
		e = mysql_errno(st->db);
		msg = mysql_error(st->db);
	}
	st->last_errno = e;
	snprintf(st->last_error, sizeof(st->last_error), "%s", msg ? msg : "");
	if (e != ER_DUP_ENTRY && e != ER_DUP_ENTRY_WITH_KEY_NAME && e != ER_LOCK_DEADLOCK &&
	    (e < STORE_SIGNAL_VERSION_TAKEN || e > STORE_SIGNAL_KEY_TAKEN))
		fprintf(stderr, "store: %s:%d: mysql error %u: %s\n", file, line, e,
			st->last_error);

	if (e == 0 || is_connection_error(e)) {
		store_drop(st);
		return CE_UNAVAILABLE;
	}
	if (is_transient_error(e))
		return CE_UNAVAILABLE;
	if (is_client_error(e)) {
		/* Some other client-side failure: the protocol state is
		 * unknown, so start over on the next call. */
		store_drop(st);
	}
	return CE_INTERNAL;
}

enum cerr
store_bad_(const char *what, const char *file, int line)
{
	fprintf(stderr, "store: %s:%d: unexpected answer: %s\n", file, line, what);
	return CE_INTERNAL;
}

static enum cerr
session_setup(struct store *st)
{
	enum cerr rc;
	my_bool off = 0;

	/* An option file may name another character set or ask for
	 * reconnect=1; neither may stand. */
	rc = STORE_CHECK_DB(st, mysql_set_character_set(st->db, "utf8mb4"));
	if (rc != CE_OK)
		return rc;
	rc = STORE_CHECK_DB(st, mysql_optionsv(st->db, MYSQL_OPT_RECONNECT, &off));
	if (rc != CE_OK)
		return rc;
	rc = STORE_CHECK_DB(st, mysql_real_query(st->db, session_sql, strlen(session_sql)));
	if (rc != CE_OK || st->side == STORE_READ)
		return rc;
	if (st->side == STORE_PEEK)
		return STORE_CHECK_DB(st, mysql_real_query(st->db, peek_isolation_sql,
							   strlen(peek_isolation_sql)));
	rc = STORE_CHECK_DB(
		st, mysql_real_query(st->db, write_isolation_sql, strlen(write_isolation_sql)));
	if (rc != CE_OK)
		return rc;
	rc = STORE_CHECK_DB(
		st, mysql_real_query(st->db, write_lock_wait_sql, strlen(write_lock_wait_sql)));
	if (rc != CE_OK)
		return rc;
	/* The command side's transactions begin with their first statement and
	 * end with COMMIT or ROLLBACK: no START TRANSACTION round trip. */
	if (st->side == STORE_WRITE) {
		rc = STORE_CHECK_DB(st, mysql_autocommit(st->db, 0));
		if (rc != CE_OK)
			return rc;
	}
	return STORE_CHECK_DB(
		st, mysql_real_query(st->db, write_track_gtid_sql, strlen(write_track_gtid_sql)));
}

static enum cerr
prepare_all(struct store *st)
{
	unsigned side_bit = 1u << st->side;
	size_t i;
	enum cerr rc;

	for (i = 0; i < SQ__MAX; i++) {
		const struct stmt_def *d = &stmt_defs[i];
		MYSQL_STMT *s;

		if (!(d->sides & side_bit))
			continue;
		s = mysql_stmt_init(st->db);
		if (!s)
			return STORE_DB_FAIL(st);
		st->stmt[i] = s;
		rc = STORE_CHECK_STMT(st, s, mysql_stmt_prepare(s, d->sql, strlen(d->sql)));
		if (rc != CE_OK)
			return rc;
		/* A schema that answers with other columns than this code
		 * reads must not be read at all. */
		if (mysql_stmt_param_count(s) != d->params ||
		    mysql_stmt_field_count(s) != d->columns)
			return STORE_BAD(d->sql);
	}
	return CE_OK;
}

static void
log_connect_failure(struct store *st, MYSQL *db)
{
	int64_t now = store_now_seconds();

	st->connect_failures++;
	if (st->connect_failures > 1 && now - st->connect_failed_at < CONNECT_LOG_INTERVAL)
		return;
	st->connect_failed_at = now;
	fprintf(stderr, "store: %s:%d: cannot connect (%u): %s (%lu attempts failed)\n", __FILE__,
		__LINE__, mysql_errno(db), mysql_error(db), st->connect_failures);
}

static enum cerr
store_connect(struct store *st)
{
	unsigned connect_timeout = CONNECT_TIMEOUT;
	unsigned rw_timeout = st->side == STORE_WRITE ? WRITE_READ_TIMEOUT : READ_WRITE_TIMEOUT;
	my_bool on = 1;
	MYSQL *db;
	enum cerr rc = CE_UNAVAILABLE;

	db = mysql_init(NULL);
	if (!db) {
		fprintf(stderr, "store: %s:%d: mysql_init failed\n", __FILE__, __LINE__);
		return CE_UNAVAILABLE;
	}
	/* The option file is read at connect time; values given here as
	 * arguments of mysql_real_connect() (from the environment) win. */
	if ((st->option_file && mysql_optionsv(db, MYSQL_READ_DEFAULT_FILE, st->option_file)) ||
	    (st->group && mysql_optionsv(db, MYSQL_READ_DEFAULT_GROUP, st->group)) ||
	    mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4") ||
	    mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout) ||
	    mysql_optionsv(db, MYSQL_OPT_READ_TIMEOUT, &rw_timeout) ||
	    mysql_optionsv(db, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout) ||
	    mysql_optionsv(db, MYSQL_REPORT_DATA_TRUNCATION, &on)) {
		fprintf(stderr, "store: %s:%d: mysql_optionsv: %s\n", __FILE__, __LINE__,
			mysql_error(db));
		mysql_close(db);
		return CE_UNAVAILABLE;
	}
	/* CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, which is
	 * what the version guard of the projection update needs. */
	if (!mysql_real_connect(db, st->host, st->user, st->password, st->database, st->port,
				st->socket, CLIENT_FOUND_ROWS)) {
		log_connect_failure(st, db);
		mysql_close(db);
		return CE_UNAVAILABLE;
	}
	if (st->connect_failures > 0) {
		fprintf(stderr, "store: connected again after %lu failed attempts\n",
			st->connect_failures);
		st->connect_failures = 0;
	}
	st->db = db;
	rc = session_setup(st);
	if (rc == CE_OK)
		rc = prepare_all(st);
	if (rc != CE_OK) {
		store_drop(st);
		return CE_UNAVAILABLE;
	}
	st->connects++;
	return CE_OK;
}

enum cerr
store_ensure(struct store *st)
{
	if (!st)
		return CE_UNAVAILABLE;
	if (st->db)
		return CE_OK;
	if (!store_budget_left(st)) {
		fprintf(stderr, "store: no time left in the request to connect\n");
		return CE_UNAVAILABLE;
	}
	return store_connect(st);
}

void
store_set_deadline(struct store *st, int64_t deadline_ms)
{
	if (st)
		st->deadline_ms = deadline_ms;
}

bool
store_budget_left(const struct store *st)
{
	/* a connect takes up to CONNECT_TIMEOUT, a statement up to the read
	 * timeout; both fit in STORE_STATEMENT_MAX_MS */
	return st->deadline_ms == 0 || store_now_ms() + STORE_STATEMENT_MAX_MS <= st->deadline_ms;
}

void
store_done(struct store *st, enum store_stmt which)
{
	if (st->stmt[which])
		mysql_stmt_free_result(st->stmt[which]);
}

MYSQL_STMT *
store_stmt(struct store *st, enum store_stmt which)
{
	MYSQL_STMT *s = st->stmt[which];

	/* Results are stored whole and freed after every use, so nothing is
	 * pending on the statement. mysql_stmt_reset() would add a round trip
	 * to the server only to drop long data and cursors, which this code
	 * never uses; binding afresh is all a reuse needs. */
	if (s)
		mysql_stmt_free_result(s);
	return s;
}

enum cerr
store_exec_at(struct store *st, MYSQL_STMT *stmt, MYSQL_BIND *params, MYSQL_BIND *results,
	      const char *file, int line)
{
	if (!stmt)
		return store_bad_("statement not prepared for this side", file, line);
	if (!store_budget_left(st)) {
		/* not sent: the outcome stays known (nothing, once rolled back) */
		fprintf(stderr, "store: %s:%d: no time left in the request for a statement\n", file,
			line);
		st->last_errno = 0;
		return CE_UNAVAILABLE;
	}
	if (params && mysql_stmt_bind_param(stmt, params))
		return store_fail_(st, stmt, file, line);
	if (st->side == STORE_WRITE)
		st->txn_open = true;
	if (mysql_stmt_execute(stmt))
		return store_fail_(st, stmt, file, line);
	if (!results)
		return CE_OK;
	/* Buffer the whole result on the client: the connection is free for
	 * the next statement even if reading stops half-way. */
	if (mysql_stmt_store_result(stmt) || mysql_stmt_bind_result(stmt, results))
		return store_fail_(st, stmt, file, line);
	return CE_OK;
}

enum cerr
store_fetch_at(struct store *st, MYSQL_STMT *stmt, bool *row, const char *file, int line)
{
	int r = mysql_stmt_fetch(stmt);

	*row = false;
	if (r == 0) {
		*row = true;
		return CE_OK;
	}
	if (r == MYSQL_NO_DATA)
		return CE_OK;
	if (r == MYSQL_DATA_TRUNCATED)
		return store_bad_("a column does not fit its buffer", file, line);
	return store_fail_(st, stmt, file, line);
}

enum cerr
store_begin_at(struct store *st, const char *file, int line)
{
	static const char sql[] = "START TRANSACTION";

	if (!store_budget_left(st)) {
		fprintf(stderr, "store: %s:%d: no time left in the request for a transaction\n",
			file, line);
		return CE_UNAVAILABLE;
	}
	/* autocommit is off: the first statement begins the transaction, or
	 * continues the one a command's load began */
	if (st->side == STORE_WRITE)
		return CE_OK;
	if (mysql_real_query(st->db, sql, strlen(sql)))
		return store_fail_(st, NULL, file, line);
	return CE_OK;
}

enum cerr
store_commit_at(struct store *st, const char *file, int line)
{
	if (!store_budget_left(st)) {
		/* a COMMIT whose answer might come too late is not sent: the
		 * caller rolls back, and the client learns "not applied" */
		fprintf(stderr, "store: %s:%d: no time left in the request to commit\n", file,
			line);
		return CE_UNAVAILABLE;
	}
	st->commit_sent = true;
	st->txn_open = false;
	if (mysql_commit(st->db))
		return store_fail_(st, NULL, file, line);
	store_track_commit(st);
	return CE_OK;
}

void
store_rollback(struct store *st)
{
	st->txn_open = false;
	if (st->db && mysql_rollback(st->db))
		(void)STORE_DB_FAIL(st);
}

enum cerr
store_run(struct store *st, enum cerr (*op)(struct store *st, void *arg), void *arg)
{
	bool was_open = st->db != NULL;
	enum cerr rc;

	/* The transaction died with its connection: a new one would read
	 * another snapshot. */
	if (st->in_snapshot && !st->db)
		return CE_UNAVAILABLE;
	rc = store_ensure(st);
	if (rc != CE_OK)
		return rc;
	/* A commit token names the last COMMIT of the current command, which
	 * is always its last store call; one left from an earlier command
	 * (that failed after committing) must not stand for this one. */
	st->commit_token[0] = '\0';
	st->commit_sent = false;
	rc = op(st, arg);
	if (rc == CE_UNAVAILABLE && was_open && !st->db && !st->commit_sent && !st->in_snapshot) {
		rc = store_ensure(st);
		if (rc == CE_OK) {
			st->commit_sent = false;
			rc = op(st, arg);
		}
	}
	return rc;
}

int64_t
store_now_seconds(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec;
}

int64_t
store_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum cerr
purge_op(struct store *st, void *arg)
{
	unsigned long *deleted = arg;
	MYSQL_STMT *s = store_stmt(st, SQ_IDEM_PURGE);
	enum cerr rc;

	/* each batch is its own short transaction */
	rc = store_exec(st, s, NULL, NULL);
	if (rc == CE_OK) {
		*deleted = (unsigned long)mysql_stmt_affected_rows(st->stmt[SQ_IDEM_PURGE]);
		rc = store_commit(st);
	}
	if (rc != CE_OK)
		store_rollback(st);
	return rc;
}

enum cerr
store_purge_keys(struct store *st, unsigned long *deleted)
{
	*deleted = 0;
	if (!st || st->side != STORE_WRITE)
		return CE_INTERNAL;
	return store_run(st, purge_op, deleted);
}

/* --- binding helpers --- */

void
store_bind_text_in(MYSQL_BIND *b, const char *s, unsigned long *len)
{
	*len = (unsigned long)strlen(s);
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = (void *)(uintptr_t)s; /* Connector/C only reads inputs */
	b->buffer_length = *len;
	b->length = len;
}

void
store_bind_u32(MYSQL_BIND *b, uint32_t *v)
{
	b->buffer_type = MYSQL_TYPE_LONG;
	b->buffer = v;
	b->is_unsigned = 1;
}

void
store_bind_u64(MYSQL_BIND *b, uint64_t *v)
{
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = v;
	b->is_unsigned = 1;
}

void
store_on_commit(struct store *st, void (*fn)(void *arg), void *arg)
{
	st->on_commit = fn;
	st->on_commit_arg = arg;
}

void
store_bind_int(MYSQL_BIND *b, int *v)
{
	b->buffer_type = MYSQL_TYPE_LONG;
	b->buffer = v;
}

void
store_bind_tiny(MYSQL_BIND *b, signed char *v)
{
	b->buffer_type = MYSQL_TYPE_TINY;
	b->buffer = v;
}

void
store_bind_text_out(MYSQL_BIND *b, char *buf, size_t size, unsigned long *len)
{
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = buf;
	b->buffer_length = (unsigned long)size;
	b->length = len;
}

void
store_bind_nulls(MYSQL_BIND *b, my_bool *nulls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		nulls[i] = 0;
		b[i].is_null = &nulls[i];
	}
}

enum cerr
store_check_nulls(const my_bool *nulls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (nulls[i])
			return STORE_BAD("NULL in a column that has no NULLs");
	return CE_OK;
}

enum cerr
store_text_done(char *buf, size_t size, unsigned long len, const char *column)
{
	/* len is the full length of the value even when it was truncated. */
	if (len >= size)
		return STORE_BAD(column);
	buf[len] = '\0';
	return CE_OK;
}

bool
store_id_lower(const char *in, char out[CIRCLE_ID_LEN + 1])
{
	return in != NULL && text_uuid_lower(in, strnlen(in, CIRCLE_ID_LEN + 1), out);
}
