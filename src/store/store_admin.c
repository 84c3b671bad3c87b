/*
 * The administrator's side of the database: migrations and the workers'
 * users. A short-lived connection of its own, apart from the workers' struct
 * store: it needs multi-statement scripts (a migration file) and DDL, which
 * the workers never run.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <mysqld_error.h>

#include "domain/text.h"
#include "store/store_admin.h"

/* Seconds to wait for the server at connect time. */
#define ADMIN_CONNECT_TIMEOUT 5
/* The named lock every migrator takes; server-wide, so two migrators of
 * different databases also take turns, which costs nothing. */
#define MIGRATE_LOCK "circle.migrate"

enum admin_stmt { AS_LOCK, AS_CHECKSUM, AS_APPLIED, AS_RECORD, AS__MAX };

static const char *const admin_sql[AS__MAX] = {
	[AS_LOCK] = "SELECT GET_LOCK('" MIGRATE_LOCK "', ?)",
	[AS_CHECKSUM] = "SELECT SHA2(?, 256)",
	[AS_APPLIED] = "SELECT name, checksum, DATE_FORMAT(applied_at, '%Y-%m-%d %H:%i:%s')"
		       " FROM circle_migrations ORDER BY name",
	[AS_RECORD] = "INSERT INTO circle_migrations (name, checksum, applied_at)"
		      " VALUES (?, ?, UTC_TIMESTAMP(6))",
};

/* The bookkeeping of migrations: one row per applied file. A database whose
 * tables were made before this table existed gets them recorded by the first
 * migrate: every migration file is idempotent (CREATE ... IF NOT EXISTS), so
 * applying it again over its own tables changes nothing. */
static const char migrations_table_sql[] =
	"CREATE TABLE IF NOT EXISTS circle_migrations ("
	" name       VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
	" checksum   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'SHA-256',"
	" applied_at DATETIME(6) NOT NULL COMMENT 'UTC',"
	" PRIMARY KEY (name)"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

/*
 * What each worker's code runs (src/store/store.c, stmt_defs), table by
 * table, and nothing more. The event log is append-only by privilege: the
 * command worker may add events and read them, never remove one, and of an
 * event it may change only feed_position (a column grant), which its feed
 * sequencer sets once an event committed (sql/006_feed_position.sql); the
 * sequencer's counter row is its own to read and advance. Snapshots are
 * only ever inserted; idempotency keys are deleted when they expire (by a
 * write that reuses one, and by circlectl purge-keys, which runs as the
 * command user); projection rows are updated in place.
 */
static const char *const circle_tables[] = {"circle_events", "circle_projections",
					    "idempotency_keys", "circle_snapshots",
					    "circle_feed_sequence"};
#define N_TABLES (sizeof(circle_tables) / sizeof(circle_tables[0]))

static const char *const pool_privileges[2][N_TABLES] = {
	[STORE_POOL_COMMAND] = {"SELECT, INSERT", "SELECT, INSERT, UPDATE",
				"SELECT, INSERT, DELETE", "SELECT, INSERT", "SELECT, UPDATE"},
	[STORE_POOL_QUERY] = {"SELECT", "SELECT", NULL, "SELECT", NULL},
};

/* Privileges on single columns, beside those on the whole table. */
static const char *const pool_column_privileges[2][N_TABLES] = {
	[STORE_POOL_COMMAND] = {"UPDATE (feed_position)", NULL, NULL, NULL, NULL},
	[STORE_POOL_QUERY] = {NULL, NULL, NULL, NULL, NULL},
};

/*
 * Global privileges. SHOW SLAVE STATUS, for /health on a replica (its
 * threads and lag), needs SLAVE MONITOR, which is global and also shows the
 * relay log's events; without it /health reports the replica's state as
 * "unknown" and the rest works. grants leaves these in place.
 */
static const char *const pool_global_privileges[2] = {
	[STORE_POOL_COMMAND] = NULL,
	[STORE_POOL_QUERY] = "SLAVE MONITOR",
};

/* Every privilege a table can carry (MariaDB 10.11), so that what a user
 * may not have is revoked by name. */
static const char *const table_privileges[] = {
	"SELECT", "INSERT", "UPDATE",      "DELETE",    "CREATE",  "DROP",           "REFERENCES",
	"INDEX",  "ALTER",  "CREATE VIEW", "SHOW VIEW", "TRIGGER", "DELETE HISTORY", "GRANT OPTION",
};

/* The procedures of sql/009_append_procedures.sql: SQL SECURITY INVOKER,
 * so EXECUTE lends no privilege the tables above do not give. */
static const char *const command_procedures[] = {"circle_append", "circle_remember_key"};

static const char *const pool_users[2] = {
	[STORE_POOL_COMMAND] = "circle_command",
	[STORE_POOL_QUERY] = "circle_query",
};

/* Where the workers connect from: the unix socket and loopback TCP. */
static const char *const user_hosts[] = {"localhost", "127.0.0.1"};

struct store_admin {
	MYSQL *db; /* NULL: the connect failed */
	MYSQL_STMT *stmt[AS__MAX];
	bool locked;
	char error[512];
};

static int
fail(struct store_admin *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
	return -1;
}

static int
fail_db(struct store_admin *a, const char *what)
{
	return fail(a, "%s: %s (%u)", what, a->db ? mysql_error(a->db) : "not connected",
		    a->db ? mysql_errno(a->db) : 0u);
}

struct store_admin *
store_admin_open(const struct store_config *cfg)
{
	struct store_admin *a = calloc(1, sizeof(*a));
	unsigned timeout = ADMIN_CONNECT_TIMEOUT;
	MYSQL *db;

	if (!a)
		return NULL;
	if (mysql_library_init(0, NULL, NULL) != 0 || !(db = mysql_init(NULL))) {
		fail(a, "cannot initialise the MariaDB client library");
		return a;
	}
	if ((cfg->option_file && mysql_optionsv(db, MYSQL_READ_DEFAULT_FILE, cfg->option_file)) ||
	    mysql_optionsv(db, MYSQL_READ_DEFAULT_GROUP, cfg->group ? cfg->group : "client") ||
	    mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4") ||
	    mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)) {
		fail(a, "connection options: %s", mysql_error(db));
		mysql_close(db);
		return a;
	}
	/* A migration file is a script of several statements. */
	if (!mysql_real_connect(db, cfg->host, cfg->user, cfg->password, NULL, cfg->port,
				cfg->socket, CLIENT_MULTI_STATEMENTS)) {
		fail(a, "cannot connect as an administrator: %s (%u)", mysql_error(db),
		     mysql_errno(db));
		mysql_close(db);
		return a;
	}
	a->db = db;
	if (mysql_query(db, "SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES'")) {
		fail_db(a, "session setup");
		mysql_close(db);
		a->db = NULL;
	}
	return a;
}

void
store_admin_close(struct store_admin *a)
{
	size_t i;

	if (!a)
		return;
	if (a->locked)
		store_admin_unlock(a);
	for (i = 0; i < AS__MAX; i++)
		if (a->stmt[i])
			mysql_stmt_close(a->stmt[i]);
	if (a->db)
		mysql_close(a->db);
	free(a);
	mysql_library_end();
}

const char *
store_admin_error(const struct store_admin *a)
{
	return a->error[0] ? a->error : "no error";
}

/* The statement `which`, prepared on first use and reused afterwards. */
static MYSQL_STMT *
stmt(struct store_admin *a, enum admin_stmt which)
{
	MYSQL_STMT *s = a->stmt[which];

	if (s) {
		mysql_stmt_free_result(s);
		return s;
	}
	if (!a->db)
		return NULL; /* the connect failed, and said why */
	s = mysql_stmt_init(a->db);
	if (!s) {
		fail_db(a, "mysql_stmt_init");
		return NULL;
	}
	if (mysql_stmt_prepare(s, admin_sql[which], strlen(admin_sql[which]))) {
		fail(a, "prepare \"%s\": %s", admin_sql[which], mysql_stmt_error(s));
		mysql_stmt_close(s);
		return NULL;
	}
	a->stmt[which] = s;
	return s;
}

static void
bind_text(MYSQL_BIND *b, const char *s, unsigned long *len)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = (void *)(uintptr_t)s;
	b->buffer_length = *len;
	b->length = len;
}

static void
bind_out(MYSQL_BIND *b, char *buf, size_t size, unsigned long *len, my_bool *null)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = buf;
	b->buffer_length = size;
	b->length = len;
	b->is_null = null;
}

/* Executes s with params, buffering its result into results (when given). */
static int
run(struct store_admin *a, MYSQL_STMT *s, MYSQL_BIND *params, MYSQL_BIND *results)
{
	if (!s)
		return -1;
	if ((params && mysql_stmt_bind_param(s, params)) || mysql_stmt_execute(s) ||
	    (results && (mysql_stmt_bind_result(s, results) || mysql_stmt_store_result(s))))
		return fail(a, "%s", mysql_stmt_error(s));
	return 0;
}

/* Runs a text of one or more statements, draining every result. */
static int
script(struct store_admin *a, const char *sql, size_t len, const char *what)
{
	int status;

	if (!a->db)
		return -1;
	if (mysql_real_query(a->db, sql, (unsigned long)len))
		return fail_db(a, what);
	do {
		MYSQL_RES *res = mysql_store_result(a->db);

		if (res)
			mysql_free_result(res);
		else if (mysql_field_count(a->db) != 0)
			return fail_db(a, what);
		status = mysql_next_result(a->db);
	} while (status == 0);
	return status > 0 ? fail_db(a, what) : 0;
}

static bool
is_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int
store_admin_use(struct store_admin *a, const char *database)
{
	char sql[160];

	if (!a->db)
		return -1;
	if (!is_name(database, 64))
		return fail(a, "invalid database name \"%s\" (letters, digits and _ only)",
			    database);
	snprintf(sql, sizeof(sql),
		 "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		 database);
	if (script(a, sql, strlen(sql), "create database") != 0)
		return -1;
	if (mysql_select_db(a->db, database))
		return fail_db(a, "select database");
	return 0;
}

int
store_admin_lock(struct store_admin *a, unsigned seconds)
{
	MYSQL_STMT *s = stmt(a, AS_LOCK);
	MYSQL_BIND p, r;
	long long timeout = seconds, got = 0;
	my_bool null = 0;
	int rc;

	memset(&p, 0, sizeof(p));
	p.buffer_type = MYSQL_TYPE_LONGLONG;
	p.buffer = &timeout;
	memset(&r, 0, sizeof(r));
	r.buffer_type = MYSQL_TYPE_LONGLONG;
	r.buffer = &got;
	r.is_null = &null;
	if (run(a, s, &p, &r) != 0)
		return -1;
	rc = mysql_stmt_fetch(s);
	mysql_stmt_free_result(s);
	if (rc != 0 || null || got != 1)
		return fail(a, "another migrate holds the lock \"" MIGRATE_LOCK "\" (waited %us)",
			    seconds);
	a->locked = true;
	return 0;
}

void
store_admin_unlock(struct store_admin *a)
{
	static const char sql[] = "DO RELEASE_LOCK('" MIGRATE_LOCK "')";

	if (a->locked && a->db)
		script(a, sql, strlen(sql), "release lock");
	a->locked = false;
}

int
store_migrations_applied(struct store_admin *a, struct store_migration **out, size_t *n)
{
	struct store_migration row, *list = NULL, *grown;
	size_t count = 0, cap = 0;
	unsigned long len[3];
	my_bool null[3];
	MYSQL_BIND r[3];
	MYSQL_STMT *s;
	int rc;

	*out = NULL;
	*n = 0;
	if (script(a, migrations_table_sql, strlen(migrations_table_sql), "migrations table") != 0)
		return -1;
	s = stmt(a, AS_APPLIED);
	memset(&row, 0, sizeof(row));
	bind_out(&r[0], row.name, sizeof(row.name) - 1, &len[0], &null[0]);
	bind_out(&r[1], row.checksum, sizeof(row.checksum) - 1, &len[1], &null[1]);
	bind_out(&r[2], row.applied_at, sizeof(row.applied_at) - 1, &len[2], &null[2]);
	if (run(a, s, NULL, r) != 0)
		return -1;
	while ((rc = mysql_stmt_fetch(s)) == 0) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				rc = -2;
				break;
			}
			list = grown;
		}
		row.name[len[0] < sizeof(row.name) ? len[0] : sizeof(row.name) - 1] = '\0';
		row.checksum[len[1] < sizeof(row.checksum) ? len[1] : STORE_CHECKSUM_LEN] = '\0';
		row.applied_at[len[2] < sizeof(row.applied_at) ? len[2]
							       : sizeof(row.applied_at) - 1] = '\0';
		list[count++] = row;
	}
	mysql_stmt_free_result(s);
	if (rc != MYSQL_NO_DATA) {
		free(list);
		return rc == -2 ? fail(a, "out of memory") : fail(a, "reading circle_migrations");
	}
	*out = list;
	*n = count;
	return 0;
}

int
store_admin_checksum(struct store_admin *a, const char *text, size_t len,
		     char out[STORE_CHECKSUM_LEN + 1])
{
	MYSQL_STMT *s = stmt(a, AS_CHECKSUM);
	unsigned long in_len = (unsigned long)len, out_len = 0;
	my_bool null = 0;
	MYSQL_BIND p, r;
	int rc;

	bind_text(&p, text, &in_len);
	p.buffer_type = MYSQL_TYPE_BLOB;
	bind_out(&r, out, STORE_CHECKSUM_LEN + 1, &out_len, &null);
	if (run(a, s, &p, &r) != 0)
		return -1;
	rc = mysql_stmt_fetch(s);
	mysql_stmt_free_result(s);
	if (rc != 0 || null || out_len != STORE_CHECKSUM_LEN)
		return fail(a, "the server computed no SHA-256");
	out[STORE_CHECKSUM_LEN] = '\0';
	return 0;
}

int
store_migration_apply(struct store_admin *a, const char *name, const char *sql, size_t len,
		      const char *checksum)
{
	unsigned long name_len = (unsigned long)strlen(name), sum_len = STORE_CHECKSUM_LEN;
	MYSQL_BIND p[2];
	char what[300];

	snprintf(what, sizeof(what), "migration %s", name);
	if (script(a, sql, len, what) != 0)
		return -1;
	bind_text(&p[0], name, &name_len);
	bind_text(&p[1], checksum, &sum_len);
	return run(a, stmt(a, AS_RECORD), p, NULL);
}

const char *
store_pool_user(enum store_pool pool)
{
	return pool_users[pool];
}

static int grant_table(struct store_admin *a, const char *want, const char *columns,
		       const char *table, const char *user, const char *host);

int
store_admin_grant(struct store_admin *a, enum store_pool pool, const char *password)
{
	const char *user = pool_users[pool];
	char sql[512];
	size_t h, t;

	if (!a->db)
		return -1;
	/* The password is ours (hex from circlectl); anything else would need
	 * quoting in DDL, which takes no placeholders. */
	if (!text_lower_hex(password) || strlen(password) > 128)
		return fail(a, "a password must be lower-case hex digits");
	for (h = 0; h < sizeof(user_hosts) / sizeof(user_hosts[0]); h++) {
		snprintf(sql, sizeof(sql),
			 "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s';"
			 " ALTER USER '%s'@'%s' IDENTIFIED BY '%s'",
			 user, user_hosts[h], password, user, user_hosts[h], password);
		if (script(a, sql, strlen(sql), "create user") != 0)
			return -1;
		for (t = 0; t < N_TABLES; t++) {
			if (grant_table(a, pool_privileges[pool][t],
					pool_column_privileges[pool][t], circle_tables[t], user,
					user_hosts[h]) != 0)
				return -1;
		}
		for (t = 0; pool == STORE_POOL_COMMAND &&
			    t < sizeof(command_procedures) / sizeof(command_procedures[0]);
		     t++) {
			snprintf(sql, sizeof(sql), "GRANT EXECUTE ON PROCEDURE `%s` TO '%s'@'%s'",
				 command_procedures[t], user, user_hosts[h]);
			if (mysql_query(a->db, sql))
				return fail_db(a, "grant execute");
		}
		if (pool_global_privileges[pool]) {
			snprintf(sql, sizeof(sql), "GRANT %s ON *.* TO '%s'@'%s'",
				 pool_global_privileges[pool], user, user_hosts[h]);
			if (mysql_query(a->db, sql))
				return fail_db(a, "grant global");
		}
	}
	return 0;
}

/* Whether privilege p is in the list "A, B, C". */
static bool
listed(const char *list, const char *p)
{
	size_t n = strlen(p);

	while (list && *list) {
		size_t len = strcspn(list, ",");

		if (len == n && strncmp(list, p, n) == 0)
			return true;
		list += len;
		list += strspn(list, ", ");
	}
	return false;
}

/*
 * Leaves user@host exactly `want` on table (NULL: nothing) and `columns` on
 * some of its columns (NULL: none). Grants first, then revokes the rest of
 * the table's privileges by name: a worker already connected never loses a
 * privilege it needs on the table when grants runs again. A table-level
 * REVOKE takes that privilege off every column too, so the column grant
 * comes after it; a feed sequencer pass that falls into that instant fails
 * and its events are numbered by the next pass.
 */
static int
grant_table(struct store_admin *a, const char *want, const char *columns, const char *table,
	    const char *user, const char *host)
{
	char sql[768], others[512] = "";
	size_t i, used = 0;

	if (want) {
		snprintf(sql, sizeof(sql), "GRANT %s ON `%s` TO '%s'@'%s'", want, table, user,
			 host);
		if (mysql_query(a->db, sql))
			return fail_db(a, "grant");
	}
	for (i = 0; i < sizeof(table_privileges) / sizeof(table_privileges[0]); i++) {
		if (listed(want, table_privileges[i]))
			continue;
		used += (size_t)snprintf(others + used, sizeof(others) - used, "%s%s",
					 used ? ", " : "", table_privileges[i]);
	}
	snprintf(sql, sizeof(sql), "REVOKE %s ON `%s` FROM '%s'@'%s'", others, table, user, host);
	/* No grant on the table at all is fine: nothing to revoke. */
	if (mysql_query(a->db, sql) && mysql_errno(a->db) != ER_NONEXISTING_TABLE_GRANT)
		return fail_db(a, "revoke");
	if (columns) {
		snprintf(sql, sizeof(sql), "GRANT %s ON `%s` TO '%s'@'%s'", columns, table, user,
			 host);
		if (mysql_query(a->db, sql))
			return fail_db(a, "grant on columns");
	}
	return 0;
}

int
store_admin_socket(struct store_admin *a, char *out, size_t size)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (!a->db)
		return -1;
	if (mysql_query(a->db, "SELECT IFNULL(@@socket, '')"))
		return fail_db(a, "ask the socket");
	res = mysql_store_result(a->db);
	if (!res)
		return fail_db(a, "ask the socket");
	row = mysql_fetch_row(res);
	snprintf(out, size, "%s", row && row[0] ? row[0] : "");
	mysql_free_result(res);
	return 0;
}
