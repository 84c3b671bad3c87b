/*
 * Bulk work on the whole event log: rebuilding the projection online,
 * export and import. Connections of its own (an administrator's, or the
 * query user's for an export), apart from the workers' struct store.
 *
 * How a rebuild loses no write while the workers append and read:
 *
 *   1. The shadow table is created LIKE the live one (a leftover of an
 *      interrupted run is dropped first).
 *   2. One consistent read streams every event in (circle_id, version)
 *      order, so one circle is folded at a time in constant memory; its
 *      final states go into the shadow in multi-row INSERTs. F is the
 *      largest feed_position that read saw.
 *   3. The feed sequencer numbers an event only after it committed, and
 *      numbers of later batches are larger (sql/006_feed_position.sql). So
 *      an event the read did not see committed after it, and has, at any
 *      later time, feed_position NULL or > F. A catch-up round first reads
 *      MAX(feed_position) as the next F, then those events (one statement,
 *      so one consistent read, which leaves out the ones the shadow has),
 *      and applies each whose version is the shadow row's + 1: an event
 *      the round's read does not see was not visible when the next F was
 *      read either, so the same argument holds for the next round. Rounds
 *      repeat until one finds few events.
 *   4. A second connection takes LOCK TABLES circle_events READ: it waits
 *      for every transaction that appended an event to end, and holds new
 *      appends (and the sequencer) back, while reads go on. The last round
 *      then sees every committed event, and nothing can commit to the live
 *      table any more: a worker writes its projection row in the same
 *      transaction as its event, after the event.
 *   5. RENAME TABLE swaps the shadow in, atomically (readers see the old
 *      table or the new one, never neither), on the first connection:
 *      MariaDB refuses RENAME under LOCK TABLES, so the lock is the other
 *      connection's. A command that read its projection row before the
 *      lock keeps the live table until its event goes in, after the
 *      UNLOCK: so the RENAME waits 1 s at most, and on a timeout the lock
 *      is let go and steps 4 and 5 are tried again. Then UNLOCK TABLES,
 *      and the old table is dropped.
 *      Appends held in 4 go on into the new table. Table grants are by
 *      name, so the workers' users have on the new table what they had on
 *      the old; their prepared statements are prepared again by the server
 *      on their next run, as after any change of a table's definition.
 *
 * A kill at any point leaves the live table whole: before the RENAME it is
 * untouched, and the RENAME is atomic. The next run drops what is left.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <mysqld_error.h>

#include "codec/event_json.h"
#include "domain/text.h"
#include "store/store_bulk.h"

#define CONNECT_TIMEOUT 5
/* Buffer size of an event_type (its column is VARCHAR(64)). */
#define BULK_TYPE_MAX 64
/* The named lock migrate takes too: no migration, rebuild or import runs
 * beside another. */
#define BULK_LOCK "circle.migrate"
/* Rows per multi-row INSERT. */
#define FOLD_BATCH 500
#define IMPORT_BATCH 200
/* The fold commits its INSERTs every this many batches: one fsync per
 * batch would cost more than the batch. */
#define BATCHES_PER_COMMIT 40
/* A catch-up round that applied at most this many events is followed by
 * the last one, with appends held; after ROUNDS_MAX rounds it comes anyway. */
#define CATCHUP_SMALL 200
#define ROUNDS_MAX 20
/* How often the fold reports progress (events). */
#define PROGRESS_EVERY 4096
/* The lock of step 4 waits at most 1 s (its lock_wait_timeout) for appends
 * in flight to end, since appends that arrive meanwhile queue behind it;
 * then another round, and another try, at most this often. */
#define HOLD_TRIES 10
#define RENAME_SQL \
	"RENAME TABLE circle_projections WAIT 1 TO " STORE_RETIRED_TABLE ", " STORE_SHADOW_TABLE \
	" TO circle_projections"

enum bulk_conn { BC_READ, BC_WRITE, BC_HOLD, BC__MAX };

enum bulk_stmt {
	/* BC_READ */
	BS_COUNT,
	BS_ALL,
	BS_SINCE,
	BS_MAX_FEED,
	BS_EXPORT,
	/* BC_WRITE */
	BS_LOCK,
	BS_FOLD_MANY,
	BS_SNAPSHOT_MANY,
	BS_SNAPSHOT_ONE,
	BS_SHADOW_GET,
	BS_SHADOW_DELETE,
	BS_SHADOW_INSERT,
	BS_EMPTY,
	BS_IMPORT_MANY,
	BS_IMPORT_ONE,
	BS_SEQ_SET,
	BS__MAX
};

#define EVENT_COLUMNS "circle_id, version, event_type, schema_version, payload, feed_position"
#define PROJECTION_COLUMNS "circle_id, name, capacity, version, deleted, description"
#define PROJECTION_PARAMS 6
#define IMPORT_COLUMNS \
	"`position`, feed_position, schema_version, id, circle_id, version, event_type," \
	" payload, occurred_at"
#define IMPORT_PARAMS 9

static const struct {
	enum bulk_conn conn;
	const char *sql; /* NULL: built by multi_row() */
} bulk_sql[BS__MAX] = {
	[BS_COUNT] = {BC_READ, "SELECT COUNT(*) FROM circle_events"},
	/* The unique key is in this order: rows stream from it, no sort. */
	[BS_ALL] = {BC_READ, "SELECT " EVENT_COLUMNS
			     " FROM circle_events FORCE INDEX (uq_circle_events_circle_version)"
			     " ORDER BY circle_id, version"},
	/* The events a catch-up round may need: those not numbered after F
	 * (NULL or > F), less those already in the shadow, which the server
	 * leaves out (events not numbered yet may be many: the sequencer
	 * numbers old ones at its own pace). */
	[BS_SINCE] = {BC_READ, "SELECT e.circle_id, e.version, e.event_type, e.schema_version,"
			       " e.payload, e.feed_position FROM circle_events e"
			       " LEFT JOIN " STORE_SHADOW_TABLE " s ON s.circle_id = e.circle_id"
			       " WHERE (e.feed_position > ? OR e.feed_position IS NULL)"
			       " AND (s.version IS NULL OR e.version > s.version)"
			       " ORDER BY e.circle_id, e.version"},
	[BS_MAX_FEED] = {BC_READ, "SELECT COALESCE(MAX(feed_position), 0) FROM circle_events"},
	[BS_EXPORT] = {BC_READ,
		       "SELECT `position`, feed_position, schema_version, id, circle_id, version,"
		       " event_type, DATE_FORMAT(occurred_at, '%Y-%m-%dT%H:%i:%s.%fZ'), payload"
		       " FROM circle_events WHERE `position` > ? ORDER BY `position`"},
	/* A few seconds: the server may not have seen yet that the
	 * connection of a killed run is gone. */
	[BS_LOCK] = {BC_WRITE, "SELECT GET_LOCK('" BULK_LOCK "', 5)"},
	[BS_FOLD_MANY] = {BC_WRITE, NULL},
	[BS_SNAPSHOT_MANY] = {BC_WRITE, NULL},
	[BS_SNAPSHOT_ONE] = {BC_WRITE, "INSERT INTO circle_snapshots (" PROJECTION_COLUMNS
				       ") VALUES (?, ?, ?, ?, ?, ?)"},
	[BS_SHADOW_GET] = {BC_WRITE, "SELECT " PROJECTION_COLUMNS " FROM " STORE_SHADOW_TABLE
				     " WHERE circle_id = ?"},
	/* A round deletes the rows it changes, then inserts their new states,
	 * so the states can go in in any order (a name one circle gave up may
	 * be another's now). */
	[BS_SHADOW_DELETE] = {BC_WRITE, "DELETE FROM " STORE_SHADOW_TABLE " WHERE circle_id = ?"},
	[BS_SHADOW_INSERT] = {BC_WRITE, "INSERT INTO " STORE_SHADOW_TABLE " (" PROJECTION_COLUMNS
					") VALUES (?, ?, ?, ?, ?, ?)"},
	[BS_EMPTY] = {BC_WRITE, "SELECT EXISTS (SELECT 1 FROM circle_events)"
				" + EXISTS (SELECT 1 FROM circle_projections)"
				" + EXISTS (SELECT 1 FROM circle_snapshots)"
				" + EXISTS (SELECT 1 FROM idempotency_keys)"},
	[BS_IMPORT_MANY] = {BC_WRITE, NULL},
	[BS_IMPORT_ONE] = {BC_WRITE, "INSERT INTO circle_events (" IMPORT_COLUMNS ")"
				     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"},
	[BS_SEQ_SET] = {BC_WRITE, "INSERT INTO circle_feed_sequence (id, last_position)"
				  " VALUES (1, ?) ON DUPLICATE KEY UPDATE"
				  " last_position = VALUES(last_position)"},
};

/* A projection or snapshot row's columns; proj_row_set/get/bind are the one
 * place a state becomes a row and back. */
struct proj_row {
	char id[CIRCLE_ID_LEN + 1];
	unsigned long id_len;
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	unsigned long name_len;
	int capacity;
	uint32_t version;
	signed char deleted;
	char description[CIRCLE_DESCRIPTION_MAX_BYTES + 1]; /* "": none */
	unsigned long description_len;
};

/* One event row as the fold reads it. */
struct event_row {
	char circle_id[CIRCLE_ID_LEN + 2];
	unsigned long circle_id_len;
	uint32_t version;
	char type[BULK_TYPE_MAX + 1];
	unsigned long type_len;
	uint32_t schema_version;
	char *payload; /* EVENT_JSON_MAX_LEN + 1 */
	unsigned long payload_len;
	uint64_t feed_position;
	my_bool nulls[6];
	MYSQL_BIND r[6];
};

struct import_row {
	uint64_t position, feed_position;
	my_bool feed_null;
	uint32_t schema_version, version;
	char id[CIRCLE_ID_LEN + 1], circle_id[CIRCLE_ID_LEN + 1];
	char type[BULK_TYPE_MAX + 1];
	char when[CIRCLE_TIME_LEN]; /* YYYY-MM-DD HH:MM:SS.ffffff */
	unsigned long id_len, circle_id_len, type_len, when_len, payload_len;
	char *payload;
};

struct change {
	struct circle state;
	bool existed;
};

struct store_bulk {
	struct store_config cfg;
	char *strings[8]; /* owned copies behind cfg */
	MYSQL *db[BC__MAX];
	bool failed_connect[BC__MAX];
	MYSQL_STMT *stmt[BS__MAX];
	bool locked;
	/* import */
	bool importing;
	uint64_t last_position, max_feed, imported;
	struct import_row rows[IMPORT_BATCH];
	size_t n_rows;
	MYSQL_BIND import_binds[IMPORT_BATCH * IMPORT_PARAMS];
	char error[768];
};

static int fail(struct store_bulk *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct store_bulk *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->error, sizeof(b->error), fmt, ap);
	va_end(ap);
	return -1;
}

static int
fail_db(struct store_bulk *b, MYSQL *db, const char *what)
{
	return fail(b, "%s: %s (%u)", what, db ? mysql_error(db) : "not connected",
		    db ? mysql_errno(db) : 0u);
}

static int
fail_stmt(struct store_bulk *b, MYSQL_STMT *s, const char *what)
{
	return fail(b, "%s: %s (%u)", what, mysql_stmt_error(s), mysql_stmt_errno(s));
}

const char *
store_bulk_error(const struct store_bulk *b)
{
	return b->error[0] ? b->error : "no error";
}

static const char *
keep(struct store_bulk *b, size_t slot, const char *s)
{
	if (!s)
		return NULL;
	b->strings[slot] = strdup(s);
	return b->strings[slot];
}

struct store_bulk *
store_bulk_open(const struct store_config *cfg, const char *database)
{
	struct store_bulk *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cfg.option_file = keep(b, 0, cfg->option_file);
	b->cfg.group = keep(b, 1, cfg->group);
	b->cfg.host = keep(b, 2, cfg->host);
	b->cfg.port = cfg->port;
	b->cfg.socket = keep(b, 3, cfg->socket);
	b->cfg.user = keep(b, 4, cfg->user);
	b->cfg.password = keep(b, 5, cfg->password);
	b->cfg.database = keep(b, 6, database ? database : cfg->database);
	if (mysql_library_init(0, NULL, NULL) != 0)
		fail(b, "cannot initialise the MariaDB client library");
	return b;
}

void
store_bulk_close(struct store_bulk *b)
{
	size_t i;

	if (!b)
		return;
	if (b->importing)
		store_import_abort(b);
	for (i = 0; i < BS__MAX; i++)
		if (b->stmt[i])
			mysql_stmt_close(b->stmt[i]);
	for (i = 0; i < BC__MAX; i++)
		if (b->db[i])
			mysql_close(b->db[i]);
	for (i = 0; i < IMPORT_BATCH; i++)
		free(b->rows[i].payload);
	for (i = 0; i < sizeof(b->strings) / sizeof(b->strings[0]); i++)
		free(b->strings[i]);
	free(b);
	mysql_library_end();
}

/* Session settings of every bulk connection: UTC, strict, no statement
 * time limit (a fold reads the whole log), a bounded wait for table locks. */
static const char session_sql[] =
	"SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
	"NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', max_statement_time = 0,"
	" lock_wait_timeout = 10, net_write_timeout = 600, net_read_timeout = 600";

/* The connection `which`, connected on first use. */
static MYSQL *
conn(struct store_bulk *b, enum bulk_conn which)
{
	unsigned timeout = CONNECT_TIMEOUT;
	my_bool on = 1;
	MYSQL *db;

	if (b->db[which])
		return b->db[which];
	if (b->failed_connect[which])
		return NULL;
	b->failed_connect[which] = true;
	db = mysql_init(NULL);
	if (!db) {
		fail(b, "out of memory");
		return NULL;
	}
	if ((b->cfg.option_file &&
	     mysql_optionsv(db, MYSQL_READ_DEFAULT_FILE, b->cfg.option_file)) ||
	    mysql_optionsv(db, MYSQL_READ_DEFAULT_GROUP, b->cfg.group ? b->cfg.group : "client") ||
	    mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4") ||
	    mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) ||
	    mysql_optionsv(db, MYSQL_REPORT_DATA_TRUNCATION, &on)) {
		fail(b, "connection options: %s", mysql_error(db));
		mysql_close(db);
		return NULL;
	}
	if (!mysql_real_connect(db, b->cfg.host, b->cfg.user, b->cfg.password, b->cfg.database,
				b->cfg.port, b->cfg.socket, CLIENT_FOUND_ROWS)) {
		fail(b, "cannot connect: %s (%u)", mysql_error(db), mysql_errno(db));
		mysql_close(db);
		return NULL;
	}
	if (mysql_real_query(db, session_sql, sizeof(session_sql) - 1)) {
		fail_db(b, db, "session setup");
		mysql_close(db);
		return NULL;
	}
	b->failed_connect[which] = false;
	b->db[which] = db;
	return db;
}

/* "INSERT INTO table (columns) VALUES (?, ...), ..." for n rows of k. */
static char *
multi_row(const char *head, unsigned k, unsigned n)
{
	size_t row = 3 * k + 2, len = strlen(head) + n * (row + 2) + 1;
	char *sql = malloc(len), *p;
	unsigned i, j;

	if (!sql)
		return NULL;
	p = sql + sprintf(sql, "%s", head);
	for (i = 0; i < n; i++) {
		*p++ = i ? ',' : ' ';
		*p++ = '(';
		for (j = 0; j < k; j++)
			p += sprintf(p, j ? ", ?" : "?");
		*p++ = ')';
	}
	*p = '\0';
	return sql;
}

/* The statement `which` on its connection, prepared on first use and
 * reused afterwards. */
static MYSQL_STMT *
stmt(struct store_bulk *b, enum bulk_stmt which)
{
	MYSQL *db;
	MYSQL_STMT *s = b->stmt[which];
	char *built = NULL;
	const char *sql = bulk_sql[which].sql;

	if (s)
		return s;
	db = conn(b, bulk_sql[which].conn);
	if (!db)
		return NULL;
	if (which == BS_FOLD_MANY)
		sql = built = multi_row("INSERT INTO " STORE_SHADOW_TABLE " (" PROJECTION_COLUMNS
					") VALUES",
					PROJECTION_PARAMS, FOLD_BATCH);
	else if (which == BS_SNAPSHOT_MANY)
		sql = built =
			multi_row("INSERT INTO circle_snapshots (" PROJECTION_COLUMNS ") VALUES",
				  PROJECTION_PARAMS, FOLD_BATCH);
	else if (which == BS_IMPORT_MANY)
		sql = built = multi_row("INSERT INTO circle_events (" IMPORT_COLUMNS ") VALUES",
					IMPORT_PARAMS, IMPORT_BATCH);
	if (!sql) {
		fail(b, "out of memory");
		return NULL;
	}
	s = mysql_stmt_init(db);
	if (!s) {
		free(built);
		fail_db(b, db, "mysql_stmt_init");
		return NULL;
	}
	if (mysql_stmt_prepare(s, sql, strlen(sql))) {
		fail(b, "prepare \"%.120s\": %s", sql, mysql_stmt_error(s));
		mysql_stmt_close(s);
		free(built);
		return NULL;
	}
	free(built);
	b->stmt[which] = s;
	return s;
}

/* A text statement without parameters or result (DDL, LOCK TABLES). */
static int
run_sql(struct store_bulk *b, enum bulk_conn which, const char *sql)
{
	MYSQL *db = conn(b, which);

	if (!db)
		return -1;
	if (mysql_real_query(db, sql, strlen(sql)))
		return fail_db(b, db, sql);
	return 0;
}

static void
bind_text(MYSQL_BIND *p, char *buf, size_t size, unsigned long *len)
{
	p->buffer_type = MYSQL_TYPE_STRING;
	p->buffer = buf;
	p->buffer_length = size;
	p->length = len;
}

static void
bind_u32(MYSQL_BIND *p, uint32_t *v)
{
	p->buffer_type = MYSQL_TYPE_LONG;
	p->buffer = v;
	p->is_unsigned = 1;
}

static void
bind_u64(MYSQL_BIND *p, uint64_t *v)
{
	p->buffer_type = MYSQL_TYPE_LONGLONG;
	p->buffer = v;
	p->is_unsigned = 1;
}

/* Binds a projection row's columns, in PROJECTION_COLUMNS order. */
static void
proj_row_bind(MYSQL_BIND *p, struct proj_row *r)
{
	memset(p, 0, PROJECTION_PARAMS * sizeof(*p));
	bind_text(&p[0], r->id, sizeof(r->id) - 1, &r->id_len);
	bind_text(&p[1], r->name, sizeof(r->name) - 1, &r->name_len);
	p[2].buffer_type = MYSQL_TYPE_LONG;
	p[2].buffer = &r->capacity;
	bind_u32(&p[3], &r->version);
	p[4].buffer_type = MYSQL_TYPE_TINY;
	p[4].buffer = &r->deleted;
	bind_text(&p[5], r->description, sizeof(r->description) - 1, &r->description_len);
}

static void
proj_row_set(struct proj_row *r, const struct circle *c)
{
	memcpy(r->id, c->id, sizeof(r->id));
	r->id_len = (unsigned long)strlen(r->id);
	memcpy(r->name, c->name, sizeof(r->name));
	r->name_len = (unsigned long)strnlen(r->name, sizeof(r->name) - 1);
	r->capacity = c->capacity;
	r->version = c->version;
	r->deleted = c->deleted ? 1 : 0;
	memcpy(r->description, c->description, sizeof(r->description));
	r->description_len = (unsigned long)strnlen(r->description, sizeof(r->description) - 1);
}

/* Ends a fetched text column of len bytes, within its buffer of size. */
static void
terminate(char *buf, size_t size, unsigned long len)
{
	buf[len < size ? len : size - 1] = '\0';
}

/* A fetched row back into a state. */
static void
proj_row_get(struct proj_row *r, struct circle *c)
{
	terminate(r->id, sizeof(r->id), r->id_len);
	terminate(r->name, sizeof(r->name), r->name_len);
	terminate(r->description, sizeof(r->description), r->description_len);
	memset(c, 0, sizeof(*c));
	memcpy(c->id, r->id, sizeof(c->id));
	memcpy(c->name, r->name, sizeof(c->name));
	c->capacity = r->capacity;
	c->version = r->version;
	c->deleted = r->deleted != 0;
	memcpy(c->description, r->description, sizeof(c->description));
}

/* --- the fold: the one place a stored event becomes a domain event --- */

/*
 * Decodes one stored event through the codec into *ev (circle id, version
 * and type set), upcast from the schema version it was written in: the
 * codec is the one judge of which versions this build reads, so a rebuild
 * or an import stops at a version it does not know instead of folding a
 * payload it cannot read.
 */
static int
decode_event(struct store_bulk *b, const char *circle_id, uint32_t version, const char *type,
	     unsigned schema_version, const char *payload, size_t len, struct circle_event *ev)
{
	char why[EVENT_JSON_WHY_MAX];
	int t = circle_event_type_parse(type);

	memset(ev, 0, sizeof(*ev));
	if (t < 0)
		return fail(b, "event %s version %u: unknown event type \"%.64s\"", circle_id,
			    version, type);
	why[0] = '\0';
	if (event_json_decode(schema_version, type, payload, len, ev, why) != CE_OK)
		return fail(b, "event %s version %u (%s, schema version %u): %s", circle_id,
			    version, type, schema_version,
			    why[0] ? why : "the payload does not decode");
	ev->type = (enum circle_event_type)t;
	memcpy(ev->circle_id, circle_id, CIRCLE_ID_LEN);
	ev->circle_id[CIRCLE_ID_LEN] = '\0';
	ev->version = version;
	return 0;
}

/* Folds one event into *state through the domain. */
static int
fold_event(struct store_bulk *b, struct circle *state, const struct event_row *r)
{
	struct circle_event ev;

	if (decode_event(b, r->circle_id, r->version, r->type, r->schema_version, r->payload,
			 r->payload_len, &ev) != 0)
		return -1;
	if (circle_apply(state, &ev) != CE_OK)
		return fail(b, "event %s version %u cannot follow version %u of its circle",
			    r->circle_id, r->version, state->version);
	return 0;
}

/* Binds the result columns of BS_ALL / BS_SINCE. */
static void
event_row_bind(struct event_row *r)
{
	memset(r->r, 0, sizeof(r->r));
	bind_text(&r->r[0], r->circle_id, sizeof(r->circle_id), &r->circle_id_len);
	bind_u32(&r->r[1], &r->version);
	bind_text(&r->r[2], r->type, sizeof(r->type), &r->type_len);
	bind_u32(&r->r[3], &r->schema_version);
	bind_text(&r->r[4], r->payload, EVENT_JSON_MAX_LEN + 1, &r->payload_len);
	bind_u64(&r->r[5], &r->feed_position);
	for (size_t i = 0; i < 6; i++)
		r->r[i].is_null = &r->nulls[i];
}

/* Fetches the next row: 1 a row, 0 the end, -1 failure. NUL-terminates. */
static int
event_row_fetch(struct store_bulk *b, MYSQL_STMT *s, struct event_row *r)
{
	int rc = mysql_stmt_fetch(s);

	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc == MYSQL_DATA_TRUNCATED)
		return fail(b, "an event row does not fit (payload over %d bytes?)",
			    EVENT_JSON_MAX_LEN);
	if (rc != 0)
		return fail_stmt(b, s, "reading events");
	if (r->nulls[0] || r->nulls[1] || r->nulls[2] || r->nulls[3] || r->nulls[4] ||
	    r->circle_id_len != CIRCLE_ID_LEN)
		return fail(b, "an event row with a NULL or malformed column");
	r->circle_id[CIRCLE_ID_LEN] = '\0';
	r->type[r->type_len] = '\0';
	if (r->nulls[5])
		r->feed_position = 0;
	return 1;
}

/* Runs a statement of one unsigned column and one row into *v. */
static int
read_u64(struct store_bulk *b, enum bulk_stmt which, uint64_t *v)
{
	MYSQL_STMT *s = stmt(b, which);
	MYSQL_BIND r[1];
	int rc = 0;

	if (!s)
		return -1;
	memset(r, 0, sizeof(r));
	bind_u64(&r[0], v);
	if (mysql_stmt_execute(s) || mysql_stmt_bind_result(s, r) || mysql_stmt_store_result(s) ||
	    mysql_stmt_fetch(s) != 0)
		rc = fail_stmt(b, s, bulk_sql[which].sql);
	mysql_stmt_free_result(s);
	return rc;
}

/* --- rebuild --- */

/* Rows waiting for one multi-row INSERT (`many`), or one at a time (`one`)
 * for the last few. */
struct row_batch {
	struct proj_row rows[FOLD_BATCH];
	MYSQL_BIND binds[FOLD_BATCH * PROJECTION_PARAMS];
	size_t n;
	enum bulk_stmt many, one;
	uint64_t written;
};

struct rebuild {
	struct store_bulk *b;
	store_progress_fn progress;
	void *arg;
	const volatile sig_atomic_t *stop;
	struct store_rebuild_stats *stats;
	uint64_t feed_seen; /* F: the largest feed_position read so far */
	uint64_t total;
	struct row_batch states;    /* into the shadow */
	struct row_batch snapshots; /* into circle_snapshots, when asked */
	bool write_snapshots;
	unsigned uncommitted; /* batches written since the fold's last COMMIT */
	struct event_row row;
	struct change *changes;
	size_t n_changes, cap_changes;
};

static bool
stopped(const struct rebuild *rb)
{
	return rb->stop && *rb->stop;
}

static int
report(struct rebuild *rb, const char *phase, uint64_t done)
{
	if (rb->progress)
		rb->progress(rb->arg, phase, done, rb->total);
	return stopped(rb) ? -2 : 0;
}

static void
batch_init(struct row_batch *q, enum bulk_stmt many, enum bulk_stmt one)
{
	q->many = many;
	q->one = one;
	for (size_t i = 0; i < FOLD_BATCH; i++)
		proj_row_bind(&q->binds[i * PROJECTION_PARAMS], &q->rows[i]);
}

static int
flush_batch(struct store_bulk *b, struct row_batch *q)
{
	MYSQL_STMT *s = stmt(b, q->n == FOLD_BATCH ? q->many : q->one);

	if (!s)
		return -1;
	if (q->n == FOLD_BATCH) {
		if (mysql_stmt_bind_param(s, q->binds) || mysql_stmt_execute(s))
			return fail_stmt(b, s, "writing rows");
	} else {
		for (size_t i = 0; i < q->n; i++) {
			if (mysql_stmt_bind_param(s, &q->binds[i * PROJECTION_PARAMS]) ||
			    mysql_stmt_execute(s))
				return fail_stmt(b, s, "writing rows");
		}
	}
	q->written += q->n;
	q->n = 0;
	return 0;
}

static int
queue_row(struct store_bulk *b, struct row_batch *q, const struct circle *c)
{
	proj_row_set(&q->rows[q->n++], c);
	return q->n == FOLD_BATCH ? flush_batch(b, q) : 0;
}

/* Queues a row for the fold, committing now and then. */
static int
fold_queue(struct rebuild *rb, struct row_batch *q, const struct circle *c)
{
	struct store_bulk *b = rb->b;

	if (queue_row(b, q, c) != 0)
		return -1;
	if (q->n > 0 || ++rb->uncommitted < BATCHES_PER_COMMIT)
		return 0;
	rb->uncommitted = 0;
	if (mysql_commit(b->db[BC_WRITE]))
		return fail_db(b, b->db[BC_WRITE], "commit");
	return run_sql(b, BC_WRITE, "START TRANSACTION");
}

/* Step 2: the whole log, one circle at a time, from one consistent read. */
static int
fold_all(struct rebuild *rb)
{
	struct store_bulk *b = rb->b;
	struct event_row *r = &rb->row;
	struct circle state;
	MYSQL_STMT *s;
	uint64_t n = 0;
	int got, rc = 0;

	s = stmt(b, BS_ALL);
	if (!s)
		return -1;
	event_row_bind(r);
	if (mysql_stmt_execute(s) || mysql_stmt_bind_result(s, r->r))
		return fail_stmt(b, s, "reading the events");
	memset(&state, 0, sizeof(state));
	if (run_sql(b, BC_WRITE, "START TRANSACTION") != 0) {
		mysql_stmt_free_result(s);
		return -1;
	}
	while ((got = event_row_fetch(b, s, r)) == 1) {
		if (state.version > 0 && strcmp(state.id, r->circle_id) != 0) {
			rc = fold_queue(rb, &rb->states, &state);
			memset(&state, 0, sizeof(state));
		}
		if (rc == 0)
			rc = fold_event(b, &state, r);
		/* Snapshots where the workers would have written them. */
		if (rc == 0 && rb->write_snapshots && state.version % STORE_SNAPSHOT_EVERY == 0)
			rc = fold_queue(rb, &rb->snapshots, &state);
		if (r->feed_position > rb->feed_seen)
			rb->feed_seen = r->feed_position;
		if (rc == 0 && ++n % PROGRESS_EVERY == 0)
			rc = report(rb, "fold", n);
		if (rc != 0)
			break;
	}
	/* Drains the rest of an abandoned read, so the connection is usable. */
	mysql_stmt_free_result(s);
	if (got < 0)
		return -1;
	if (rc != 0)
		return rc;
	if (state.version > 0 && (rc = queue_row(b, &rb->states, &state)) != 0)
		return rc;
	if ((rc = flush_batch(b, &rb->states)) != 0 || (rc = flush_batch(b, &rb->snapshots)) != 0)
		return rc;
	if (mysql_commit(b->db[BC_WRITE]))
		return fail_db(b, b->db[BC_WRITE], "commit");
	rb->stats->circles = rb->states.written;
	rb->stats->events = n;
	return report(rb, "fold", n);
}

/* The shadow's row of id into *c; *found false when it has none. */
static int
shadow_get(struct store_bulk *b, const char *id, struct circle *c, bool *found)
{
	MYSQL_STMT *s = stmt(b, BS_SHADOW_GET);
	struct proj_row row;
	MYSQL_BIND p[1], r[PROJECTION_PARAMS];
	unsigned long id_len = CIRCLE_ID_LEN;
	char key[CIRCLE_ID_LEN + 1];
	int rc;

	if (!s)
		return -1;
	memcpy(key, id, sizeof(key));
	memset(p, 0, sizeof(p));
	bind_text(&p[0], key, CIRCLE_ID_LEN, &id_len);
	memset(&row, 0, sizeof(row));
	proj_row_bind(r, &row);
	if (mysql_stmt_bind_param(s, p) || mysql_stmt_execute(s) || mysql_stmt_bind_result(s, r) ||
	    mysql_stmt_store_result(s))
		return fail_stmt(b, s, "reading the new projection");
	rc = mysql_stmt_fetch(s);
	mysql_stmt_free_result(s);
	memset(c, 0, sizeof(*c));
	*found = rc == 0;
	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc != 0)
		return fail(b, "reading the new projection row of %s", id);
	proj_row_get(&row, c);
	return 0;
}

static int
push_change(struct rebuild *rb, const struct circle *c, bool existed)
{
	if (rb->n_changes == rb->cap_changes) {
		size_t cap = rb->cap_changes ? rb->cap_changes * 2 : 64;
		struct change *p = realloc(rb->changes, cap * sizeof(*p));

		if (!p)
			return fail(rb->b, "out of memory");
		rb->changes = p;
		rb->cap_changes = cap;
	}
	rb->changes[rb->n_changes].state = *c;
	rb->changes[rb->n_changes].existed = existed;
	rb->n_changes++;
	return 0;
}

/* Writes a round's final states: the changed rows deleted first, then each
 * inserted, all in one transaction. */
static int
write_changes(struct rebuild *rb)
{
	struct store_bulk *b = rb->b;
	MYSQL_STMT *del = stmt(b, BS_SHADOW_DELETE), *ins = stmt(b, BS_SHADOW_INSERT);
	MYSQL_BIND p[PROJECTION_PARAMS];
	struct proj_row row;
	size_t i;

	if (!del || !ins)
		return -1;
	if (rb->n_changes == 0)
		return 0;
	if (run_sql(b, BC_WRITE, "START TRANSACTION") != 0)
		return -1;
	proj_row_bind(p, &row);
	for (i = 0; i < rb->n_changes; i++) {
		if (!rb->changes[i].existed)
			continue;
		proj_row_set(&row, &rb->changes[i].state);
		/* p[0], the id, is the DELETE's one parameter */
		if (mysql_stmt_bind_param(del, p) || mysql_stmt_execute(del)) {
			fail_stmt(b, del, "catching up the new projection");
			goto failed;
		}
	}
	for (i = 0; i < rb->n_changes; i++) {
		proj_row_set(&row, &rb->changes[i].state);
		if (mysql_stmt_bind_param(ins, p) || mysql_stmt_execute(ins)) {
			fail_stmt(b, ins, "catching up the new projection");
			goto failed;
		}
	}
	if (mysql_commit(b->db[BC_WRITE]))
		return fail_db(b, b->db[BC_WRITE], "commit");
	return 0;
failed:
	mysql_rollback(b->db[BC_WRITE]);
	return -1;
}

/* Step 3: one catch-up round; *applied receives the events it applied. */
static int
catch_up(struct rebuild *rb, uint64_t *applied)
{
	struct store_bulk *b = rb->b;
	struct event_row *r = &rb->row;
	struct circle state, before;
	bool existed = false, have = false;
	MYSQL_BIND p[1];
	uint64_t after = rb->feed_seen, next = 0, n = 0;
	MYSQL_STMT *s = stmt(b, BS_SINCE);
	int got, rc = 0;

	*applied = 0;
	rb->n_changes = 0;
	if (!s)
		return -1;
	/* Read before this round's read: an event that read does not see was
	 * not visible now either, so it is numbered later above `next` or
	 * not yet (see the top of this file). */
	if (read_u64(b, BS_MAX_FEED, &next) != 0)
		return -1;
	memset(p, 0, sizeof(p));
	bind_u64(&p[0], &after);
	event_row_bind(r);
	if (mysql_stmt_bind_param(s, p) || mysql_stmt_execute(s) ||
	    mysql_stmt_bind_result(s, r->r) || mysql_stmt_store_result(s))
		return fail_stmt(b, s, "reading new events");
	memset(&state, 0, sizeof(state));
	memset(&before, 0, sizeof(before));
	while ((got = event_row_fetch(b, s, r)) == 1) {
		if (!have || strcmp(state.id, r->circle_id) != 0) {
			if (have && state.version != before.version)
				rc = push_change(rb, &state, existed);
			if (rc == 0)
				rc = shadow_get(b, r->circle_id, &state, &existed);
			/* A circle not in the shadow yet starts from nothing;
			 * its id is set by its create. */
			before = state;
			have = true;
			if (rc != 0)
				break;
		}
		if (r->version <= state.version)
			continue; /* already in */
		if ((rc = fold_event(b, &state, r)) != 0)
			break;
		n++;
	}
	mysql_stmt_free_result(s);
	if (got < 0)
		return -1;
	if (rc != 0)
		return rc;
	if (have && state.version != before.version && (rc = push_change(rb, &state, existed)) != 0)
		return rc;
	if ((rc = write_changes(rb)) != 0)
		return rc;
	if (next > rb->feed_seen)
		rb->feed_seen = next;
	*applied = n;
	rb->stats->caught_up += n;
	rb->stats->rounds++;
	return 0;
}

static int
drop_left_overs(struct rebuild *rb)
{
	struct store_bulk *b = rb->b;
	MYSQL_RES *res;
	int n = 0;

	if (run_sql(b, BC_WRITE,
		    "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
		    " AND TABLE_NAME IN ('" STORE_SHADOW_TABLE "', '" STORE_RETIRED_TABLE
		    "')") != 0)
		return -1;
	res = mysql_store_result(b->db[BC_WRITE]);
	if (res) {
		MYSQL_ROW row = mysql_fetch_row(res);

		n = row && row[0] ? atoi(row[0]) : 0;
		mysql_free_result(res);
	}
	rb->stats->left_over = n > 0;
	return run_sql(b, BC_WRITE,
		       "DROP TABLE IF EXISTS " STORE_SHADOW_TABLE ", " STORE_RETIRED_TABLE);
}

/* Steps 4 and 5; 1 when a lock could not be had in time (try again). */
static int
swap(struct rebuild *rb)
{
	struct store_bulk *b = rb->b;
	struct store_rebuild_stats *st = rb->stats;
	MYSQL *hold = conn(b, BC_HOLD);
	int64_t t0, t1, t2, t3;
	uint64_t applied = 0;
	int rc;

	if (!hold)
		return -1;
	if (run_sql(b, BC_HOLD, "SET SESSION lock_wait_timeout = 1") != 0)
		return -1;
	t0 = store_now_ms();
	if (mysql_real_query(hold, "LOCK TABLES circle_events READ", 30)) {
		unsigned e = mysql_errno(hold);

		st->blocked_ms = store_now_ms() - t0;
		if (e == ER_LOCK_WAIT_TIMEOUT || e == ER_LOCK_DEADLOCK)
			return 1;
		return fail_db(b, hold, "LOCK TABLES circle_events READ");
	}
	t1 = store_now_ms();
	report(rb, "swap", st->events);
	rc = catch_up(rb, &applied);
	t2 = store_now_ms();
	/* A command that read its circle's projection row before this lock
	 * holds that table until its event, which the lock holds back, goes
	 * in: the RENAME cannot have the table before the UNLOCK. So it waits
	 * a second at most (WAIT takes whole seconds; the command's
	 * statement may wait 3), and the swap is tried again, after the
	 * commands in between went through. */
	if (rc == 0 && mysql_real_query(b->db[BC_WRITE], RENAME_SQL, sizeof(RENAME_SQL) - 1) != 0) {
		unsigned e = mysql_errno(b->db[BC_WRITE]);

		rc = e == ER_LOCK_WAIT_TIMEOUT || e == ER_LOCK_DEADLOCK
			     ? 1
			     : fail_db(b, b->db[BC_WRITE], "RENAME TABLE");
	}
	if (mysql_real_query(hold, "UNLOCK TABLES", 13) && rc == 0)
		rc = fail_db(b, hold, "UNLOCK TABLES");
	t3 = store_now_ms();
	st->lock_wait_ms = t1 - t0;
	st->last_round_ms = t2 - t1;
	st->rename_ms = t3 - t2;
	st->blocked_ms = t3 - t0;
	return rc;
}

int
store_rebuild_projections(struct store_bulk *b, bool write_snapshots, store_progress_fn progress,
			  void *arg, const volatile sig_atomic_t *stop,
			  struct store_rebuild_stats *out)
{
	struct rebuild *rb = calloc(1, sizeof(*rb));
	int64_t t0 = store_now_ms(), t1;
	uint64_t applied, got_lock = 0;
	unsigned tries;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!rb || !(rb->row.payload = malloc(EVENT_JSON_MAX_LEN + 1))) {
		free(rb);
		return fail(b, "out of memory");
	}
	rb->b = b;
	rb->progress = progress;
	rb->arg = arg;
	rb->stop = stop;
	rb->stats = out;
	rb->write_snapshots = write_snapshots;
	batch_init(&rb->states, BS_FOLD_MANY, BS_SHADOW_INSERT);
	batch_init(&rb->snapshots, BS_SNAPSHOT_MANY, BS_SNAPSHOT_ONE);

	/* Another rebuild, import or migrate at work: refuse. */
	rc = read_u64(b, BS_LOCK, &got_lock);
	if (rc == 0 && got_lock != 1)
		rc = fail(b,
			  "another rebuild, import or migrate is running (lock \"" BULK_LOCK "\")");
	if (rc == 0) {
		b->locked = true;
		rc = drop_left_overs(rb);
	}
	if (rc == 0)
		rc = run_sql(b, BC_WRITE,
			     "CREATE TABLE " STORE_SHADOW_TABLE " LIKE circle_projections");
	/* An estimate for the progress line; the fold reads its own snapshot. */
	if (rc == 0)
		rc = read_u64(b, BS_COUNT, &rb->total);
	if (rc == 0)
		rc = fold_all(rb);
	t1 = store_now_ms();
	out->fold_ms = t1 - t0;
	/* Rounds while the last one found much; then the one with appends held. */
	for (tries = 0; rc == 0;) {
		rc = catch_up(rb, &applied);
		if (rc == 0 && stopped(rb))
			rc = -2;
		if (rc != 0 || (applied > CATCHUP_SMALL && out->rounds < ROUNDS_MAX))
			continue;
		report(rb, "catch-up", out->events + out->caught_up);
		rc = swap(rb);
		if (rc == 1) {
			out->given_up++;
			out->given_up_ms += out->blocked_ms;
			rc = ++tries < HOLD_TRIES
				     ? 0
				     : fail(b, "could not hold appends for a moment (%d tries)",
					    HOLD_TRIES);
			continue;
		}
		break;
	}
	if (rc == 0) {
		/* The old table, no longer read by anyone. */
		if (run_sql(b, BC_WRITE, "DROP TABLE IF EXISTS " STORE_RETIRED_TABLE) != 0)
			rc = -1;
	} else if (b->db[BC_WRITE]) {
		/* The live table is untouched; the shadow is of no use. */
		char keep_error[sizeof(b->error)];

		memcpy(keep_error, b->error, sizeof(keep_error));
		mysql_rollback(b->db[BC_WRITE]);
		(void)run_sql(b, BC_WRITE, "DROP TABLE IF EXISTS " STORE_SHADOW_TABLE);
		memcpy(b->error, keep_error, sizeof(keep_error));
		if (rc == -2)
			fail(b, "interrupted; the projection was left as it was");
	}
	if (b->locked) {
		(void)run_sql(b, BC_WRITE, "DO RELEASE_LOCK('" BULK_LOCK "')");
		b->locked = false;
	}
	out->total_ms = store_now_ms() - t0;
	free(rb->changes);
	free(rb->row.payload);
	free(rb);
	return rc;
}

/* --- export --- */

int
store_export(struct store_bulk *b, uint64_t after,
	     int (*fn)(void *arg, const struct store_stored_event *ev), void *arg)
{
	MYSQL_STMT *s = stmt(b, BS_EXPORT);
	struct store_stored_event ev;
	char *payload = malloc(EVENT_JSON_MAX_LEN + 1);
	char id[CIRCLE_ID_LEN + 2], circle_id[CIRCLE_ID_LEN + 2], when[CIRCLE_TIME_LEN + 2];
	unsigned long len[9];
	my_bool nulls[9];
	MYSQL_BIND p[1], r[9];
	uint32_t schema_version = 0;
	int rc = 0, got = 0;

	if (!s || !payload) {
		free(payload);
		return s ? fail(b, "out of memory") : -1;
	}
	memset(&ev, 0, sizeof(ev));
	memset(p, 0, sizeof(p));
	bind_u64(&p[0], &after);
	memset(r, 0, sizeof(r));
	bind_u64(&r[0], &ev.position);
	bind_u64(&r[1], &ev.feed_position);
	bind_u32(&r[2], &schema_version);
	bind_text(&r[3], id, sizeof(id), &len[3]);
	bind_text(&r[4], circle_id, sizeof(circle_id), &len[4]);
	bind_u32(&r[5], &ev.version);
	bind_text(&r[6], ev.event_type, sizeof(ev.event_type) - 1, &len[6]);
	bind_text(&r[7], when, sizeof(when), &len[7]);
	bind_text(&r[8], payload, EVENT_JSON_MAX_LEN + 1, &len[8]);
	for (size_t i = 0; i < 9; i++)
		r[i].is_null = &nulls[i];
	if (mysql_stmt_bind_param(s, p) || mysql_stmt_execute(s) || mysql_stmt_bind_result(s, r)) {
		free(payload);
		return fail_stmt(b, s, "reading the events");
	}
	while (rc == 0 && (got = mysql_stmt_fetch(s)) == 0) {
		if (nulls[0] || nulls[2] || nulls[3] || nulls[4] || nulls[5] || nulls[6] ||
		    nulls[7] || nulls[8] || len[3] != CIRCLE_ID_LEN || len[4] != CIRCLE_ID_LEN ||
		    len[7] != CIRCLE_TIME_LEN) {
			rc = fail(b, "the event at position %llu has a NULL or malformed column",
				  (unsigned long long)ev.position);
			break;
		}
		if (nulls[1])
			ev.feed_position = 0;
		ev.schema_version = schema_version;
		memcpy(ev.event_id, id, CIRCLE_ID_LEN);
		memcpy(ev.circle_id, circle_id, CIRCLE_ID_LEN);
		memcpy(ev.occurred_at, when, CIRCLE_TIME_LEN);
		ev.event_type[len[6]] = '\0';
		ev.payload = payload;
		ev.payload_len = len[8];
		rc = fn(arg, &ev);
	}
	if (rc == 0 && got == MYSQL_DATA_TRUNCATED)
		rc = fail(b, "an event after position %llu does not fit (payload over %d bytes?)",
			  (unsigned long long)ev.position, EVENT_JSON_MAX_LEN);
	else if (rc == 0 && got != MYSQL_NO_DATA)
		rc = fail_stmt(b, s, "reading the events");
	mysql_stmt_free_result(s);
	free(payload);
	return rc;
}

/* --- import --- */

int
store_import_begin(struct store_bulk *b, bool *not_empty)
{
	uint64_t v = 0;
	size_t i;

	*not_empty = false;
	if (read_u64(b, BS_LOCK, &v) != 0)
		return -1;
	if (v != 1)
		return fail(b, "another rebuild, import or migrate is running (lock \"" BULK_LOCK
			       "\")");
	b->locked = true;
	if (run_sql(b, BC_WRITE, "START TRANSACTION") != 0)
		return -1;
	b->importing = true;
	if (read_u64(b, BS_EMPTY, &v) != 0)
		return -1;
	if (v != 0) {
		*not_empty = true;
		return fail(b,
			    "the database is not empty: import loads only into a database without"
			    " events, projections, snapshots or idempotency keys");
	}
	for (i = 0; i < IMPORT_BATCH; i++) {
		struct import_row *row = &b->rows[i];
		MYSQL_BIND *p = &b->import_binds[i * IMPORT_PARAMS];

		if (!row->payload && !(row->payload = malloc(EVENT_JSON_MAX_LEN + 1)))
			return fail(b, "out of memory");
		memset(p, 0, IMPORT_PARAMS * sizeof(*p));
		bind_u64(&p[0], &row->position);
		bind_u64(&p[1], &row->feed_position);
		p[1].is_null = &row->feed_null;
		bind_u32(&p[2], &row->schema_version);
		bind_text(&p[3], row->id, CIRCLE_ID_LEN, &row->id_len);
		bind_text(&p[4], row->circle_id, CIRCLE_ID_LEN, &row->circle_id_len);
		bind_u32(&p[5], &row->version);
		bind_text(&p[6], row->type, sizeof(row->type) - 1, &row->type_len);
		bind_text(&p[7], row->payload, EVENT_JSON_MAX_LEN, &row->payload_len);
		p[7].buffer_type = MYSQL_TYPE_BLOB;
		bind_text(&p[8], row->when, sizeof(row->when), &row->when_len);
	}
	b->last_position = 0;
	b->max_feed = 0;
	b->imported = 0;
	b->n_rows = 0;
	return 0;
}

static int
import_flush(struct store_bulk *b)
{
	MYSQL_STMT *s;

	if (b->n_rows == IMPORT_BATCH) {
		s = stmt(b, BS_IMPORT_MANY);
		if (!s)
			return -1;
		if (mysql_stmt_bind_param(s, b->import_binds) || mysql_stmt_execute(s))
			return fail_stmt(b, s, "in the events up to this one");
	} else {
		s = stmt(b, BS_IMPORT_ONE);
		if (!s)
			return -1;
		for (size_t i = 0; i < b->n_rows; i++)
			if (mysql_stmt_bind_param(s, &b->import_binds[i * IMPORT_PARAMS]) ||
			    mysql_stmt_execute(s))
				return fail_stmt(b, s, "in the events up to this one");
	}
	b->imported += b->n_rows;
	b->n_rows = 0;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" with digits where digits go; the server
 * checks the date itself (strict mode). */
static bool
time_shape(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	size_t i;

	for (i = 0; i < CIRCLE_TIME_LEN; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	}
	return s[CIRCLE_TIME_LEN] == '\0';
}

static bool
lower_uuid(const char *s)
{
	char low[CIRCLE_ID_LEN + 1];

	return text_uuid_lower(s, strnlen(s, CIRCLE_ID_LEN + 1), low) && strcmp(low, s) == 0;
}

int
store_import_add(struct store_bulk *b, const struct store_stored_event *ev)
{
	struct import_row *row;
	struct circle_event decoded;

	if (!b->importing)
		return fail(b, "no import in progress");
	if (ev->position == 0 || ev->position > (uint64_t)INT64_MAX ||
	    ev->position <= b->last_position)
		return fail(b, "position %llu: positions must ascend, from 1",
			    (unsigned long long)ev->position);
	if (ev->feed_position > (uint64_t)INT64_MAX)
		return fail(b, "feed_position out of range");
	if (!lower_uuid(ev->event_id) || !lower_uuid(ev->circle_id))
		return fail(b, "event_id and circle_id must be lower-case UUIDs");
	if (ev->version < 1)
		return fail(b, "version must be at least 1");
	if (ev->schema_version < 1 || ev->schema_version > 65535)
		return fail(b, "schema_version out of range");
	if (!time_shape(ev->occurred_at))
		return fail(b, "occurred_at must be YYYY-MM-DDTHH:MM:SS.ffffffZ");
	if (ev->payload_len > EVENT_JSON_MAX_LEN)
		return fail(b, "payload longer than %d bytes", EVENT_JSON_MAX_LEN);
	if (strnlen(ev->event_type, sizeof(ev->event_type)) >= sizeof(ev->event_type))
		return fail(b, "event_type too long");
	if (decode_event(b, ev->circle_id, ev->version, ev->event_type, ev->schema_version,
			 ev->payload, ev->payload_len, &decoded) != 0)
		return -1;
	if ((ev->version == 1) != (decoded.type == CIRCLE_CREATED))
		return fail(b, "a circle's version 1 is its circle_created, and only that");
	row = &b->rows[b->n_rows];
	row->position = ev->position;
	row->feed_position = ev->feed_position;
	row->feed_null = ev->feed_position == 0;
	row->schema_version = ev->schema_version;
	row->version = ev->version;
	memcpy(row->id, ev->event_id, sizeof(row->id));
	memcpy(row->circle_id, ev->circle_id, sizeof(row->circle_id));
	row->id_len = row->circle_id_len = CIRCLE_ID_LEN;
	row->type_len = (unsigned long)strlen(ev->event_type);
	memcpy(row->type, ev->event_type, row->type_len + 1);
	/* DATETIME(6) literal: the T and the Z go. */
	memcpy(row->when, ev->occurred_at, CIRCLE_TIME_LEN - 1);
	row->when[10] = ' ';
	row->when_len = CIRCLE_TIME_LEN - 1;
	memcpy(row->payload, ev->payload, ev->payload_len);
	row->payload_len = (unsigned long)ev->payload_len;
	b->last_position = ev->position;
	if (ev->feed_position > b->max_feed)
		b->max_feed = ev->feed_position;
	if (++b->n_rows == IMPORT_BATCH)
		return import_flush(b);
	return 0;
}

int
store_import_commit(struct store_bulk *b, uint64_t *events)
{
	MYSQL_STMT *s;
	MYSQL_BIND p[1];

	if (!b->importing)
		return fail(b, "no import in progress");
	if (import_flush(b) != 0)
		return -1;
	s = stmt(b, BS_SEQ_SET);
	if (!s)
		return -1;
	memset(p, 0, sizeof(p));
	bind_u64(&p[0], &b->max_feed);
	if (mysql_stmt_bind_param(s, p) || mysql_stmt_execute(s))
		return fail_stmt(b, s, "setting the feed's counter");
	if (mysql_commit(b->db[BC_WRITE]))
		return fail_db(b, b->db[BC_WRITE], "commit");
	b->importing = false;
	*events = b->imported;
	(void)run_sql(b, BC_WRITE, "DO RELEASE_LOCK('" BULK_LOCK "')");
	b->locked = false;
	return 0;
}

void
store_import_abort(struct store_bulk *b)
{
	if (b->importing && b->db[BC_WRITE])
		mysql_rollback(b->db[BC_WRITE]);
	b->importing = false;
	if (b->locked && b->db[BC_WRITE])
		(void)run_sql(b, BC_WRITE, "DO RELEASE_LOCK('" BULK_LOCK "')");
	b->locked = false;
}

int
store_import_undo(struct store_bulk *b)
{
	char keep_error[sizeof(b->error)];
	int rc;

	memcpy(keep_error, b->error, sizeof(keep_error));
	rc = run_sql(b, BC_WRITE, "START TRANSACTION");
	if (rc == 0)
		rc = run_sql(b, BC_WRITE, "DELETE FROM circle_snapshots");
	if (rc == 0)
		rc = run_sql(b, BC_WRITE, "DELETE FROM circle_events");
	if (rc == 0)
		rc = run_sql(b, BC_WRITE, "UPDATE circle_feed_sequence SET last_position = 0");
	if (rc == 0 && mysql_commit(b->db[BC_WRITE]))
		rc = fail_db(b, b->db[BC_WRITE], "commit");
	if (rc != 0) {
		mysql_rollback(b->db[BC_WRITE]);
		return -1;
	}
	memcpy(b->error, keep_error, sizeof(keep_error));
	return 0;
}
