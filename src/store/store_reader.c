/*
 * The circle_reader port on MariaDB: SELECTs only, so the query worker can
 * run as a user that may do nothing else. Rows come back checked: a value
 * the schema should never hold is CE_INTERNAL (logged), never a crash.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

/* One projection row as fetched, before it is checked. */
struct proj_row {
	MYSQL_BIND res[6];
	my_bool nulls[6];
	char id[CIRCLE_ID_LEN + 2];
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	char description[CIRCLE_DESCRIPTION_MAX_BYTES + 1];
	unsigned long id_len;
	unsigned long name_len;
	unsigned long description_len;
	int capacity;
	uint32_t version;
	signed char deleted;
	size_t cols;
};

/* SQ_GET's columns; SQ_LIST's are the same but deleted, which its WHERE
 * holds at 0. */
static void
proj_row_bind(struct proj_row *r, bool with_deleted)
{
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	store_bind_text_out(&r->res[n++], r->id, sizeof(r->id), &r->id_len);
	store_bind_text_out(&r->res[n++], r->name, sizeof(r->name), &r->name_len);
	store_bind_int(&r->res[n++], &r->capacity);
	store_bind_u32(&r->res[n++], &r->version);
	if (with_deleted)
		store_bind_tiny(&r->res[n++], &r->deleted);
	store_bind_text_out(&r->res[n++], r->description, sizeof(r->description),
			    &r->description_len);
	store_bind_nulls(r->res, r->nulls, n);
	r->cols = n;
}

static enum cerr
proj_row_copy(struct proj_row *r, struct circle *out)
{
	enum cerr rc = store_check_nulls(r->nulls, r->cols);

	if (rc == CE_OK)
		rc = store_text_done(r->id, sizeof(r->id), r->id_len, "projection circle_id");
	if (rc == CE_OK)
		rc = store_text_done(r->name, sizeof(r->name), r->name_len, "projection name");
	if (rc == CE_OK)
		rc = store_text_done(r->description, sizeof(r->description), r->description_len,
				     "projection description");
	if (rc != CE_OK)
		return rc;
	if (r->name[0] == '\0' || r->capacity < CIRCLE_CAPACITY_MIN ||
	    r->capacity > CIRCLE_CAPACITY_MAX || r->version < 1 ||
	    (r->deleted != 0 && r->deleted != 1))
		return STORE_BAD("projection row out of range");
	/* every member is set; the rest of its strings' buffers is never read
	 * (clearing a 2 KiB circle for each row of a page cost more than the
	 * rest of its copy) */
	if (!store_id_lower(r->id, out->id))
		return STORE_BAD("projection circle_id is not a UUID");
	memcpy(out->name, r->name, r->name_len + 1);
	out->capacity = r->capacity;
	out->version = r->version;
	out->deleted = r->deleted == 1;
	memcpy(out->description, r->description, r->description_len + 1);
	return CE_OK;
}

static enum cerr
ping_op(struct store *st, void *arg)
{
	(void)arg;
	return STORE_CHECK_DB(st, mysql_ping(st->db));
}

static enum cerr
port_ping(void *self)
{
	enum cerr rc = store_run(self, ping_op, NULL);

	/* Health is yes or no: whatever went wrong, the database is not
	 * usable now. */
	return rc == CE_OK ? CE_OK : CE_UNAVAILABLE;
}

struct get_args {
	const char *id;
	struct circle *out;
};

static enum cerr
get_op(struct store *st, void *arg)
{
	struct get_args *a = arg;
	MYSQL_BIND p[1];
	unsigned long id_len;
	struct proj_row r;
	MYSQL_STMT *s = store_stmt(st, SQ_GET);
	bool row;
	enum cerr rc;

	memset(p, 0, sizeof(p));
	store_bind_text_in(&p[0], a->id, &id_len);
	proj_row_bind(&r, true);
	rc = store_exec(st, s, p, r.res);
	if (rc == CE_OK)
		rc = store_fetch(st, s, &row);
	if (rc == CE_OK)
		rc = row ? proj_row_copy(&r, a->out) : CE_NOT_FOUND;
	store_done(st, SQ_GET);
	return rc;
}

static enum cerr
port_get(void *self, const char *id, struct circle *out)
{
	char lid[CIRCLE_ID_LEN + 1];
	struct get_args a = {lid, out};

	if (!out)
		return STORE_BAD("get: NULL");
	if (!store_id_lower(id, lid))
		return CE_NOT_FOUND;
	return store_run(self, get_op, &a);
}

struct list_args {
	const char *after;
	uint32_t limit;
	struct circle *out;
	size_t *n;
};

static enum cerr
list_op(struct store *st, void *arg)
{
	struct list_args *a = arg;
	MYSQL_BIND p[2];
	unsigned long after_len;
	struct proj_row r;
	MYSQL_STMT *s = store_stmt(st, SQ_LIST);
	size_t count = 0;
	bool row;
	enum cerr rc;

	*a->n = 0;
	memset(p, 0, sizeof(p));
	store_bind_text_in(&p[0], a->after, &after_len);
	store_bind_u32(&p[1], &a->limit);
	proj_row_bind(&r, false);
	rc = store_exec(st, s, p, r.res);
	while (rc == CE_OK) {
		rc = store_fetch(st, s, &row);
		if (rc != CE_OK || !row)
			break;
		/* LIMIT bounds it already; out has room for no more. */
		if (count == a->limit) {
			rc = STORE_BAD("list: more rows than the limit");
			break;
		}
		rc = proj_row_copy(&r, &a->out[count]);
		if (rc == CE_OK)
			count++;
	}
	store_done(st, SQ_LIST);
	if (rc == CE_OK)
		*a->n = count;
	return rc;
}

static enum cerr
port_list(void *self, const char *after, unsigned limit, struct circle *out, size_t *n)
{
	char lafter[CIRCLE_ID_LEN + 1];
	struct list_args a = {"", limit, out, n};

	if (!n || (limit > 0 && !out))
		return STORE_BAD("list: NULL");
	*n = 0;
	if (after) {
		/* Ids are compared byte for byte in lower case; anything else
		 * is the caller's bug, not a page boundary. */
		if (!store_id_lower(after, lafter))
			return STORE_BAD("list: after is not a UUID");
		a.after = lafter;
	}
	if (limit == 0)
		return store_ensure(self);
	return store_run(self, list_op, &a);
}

struct history_args {
	const char *id;
	uint32_t after;
	uint32_t upto;
	unsigned limit;
	struct circle_event **evs;
	size_t *n;
};

static enum cerr
history_op(struct store *st, void *arg)
{
	struct history_args *a = arg;

	return store_load_events(st, a->id, a->after, a->upto, a->limit, a->evs, a->n);
}

static enum cerr
port_history(void *self, const char *id, uint32_t after, uint32_t upto, unsigned limit,
	     struct circle_event **evs, size_t *n)
{
	char lid[CIRCLE_ID_LEN + 1];
	struct history_args a = {lid, after, upto, limit, evs, n};

	if (!evs || !n || limit == 0)
		return STORE_BAD("history: bad arguments");
	*evs = NULL;
	*n = 0;
	if (!store_id_lower(id, lid))
		return CE_OK;
	return store_run(self, history_op, &a);
}

struct snapshots_args {
	enum store_stmt which;
	const char *id;
	uint32_t bound;
	unsigned limit;
	struct circle *out;
	size_t *n;
};

static enum cerr
snapshots_op(struct store *st, void *arg)
{
	struct snapshots_args *a = arg;

	return store_load_snapshots(st, a->which, a->id, a->bound, a->limit, a->out, a->n);
}

static enum cerr
port_snapshot_at(void *self, const char *id, uint32_t at, struct circle *out)
{
	char lid[CIRCLE_ID_LEN + 1];
	size_t n = 0;
	struct snapshots_args a = {SQ_SNAPSHOT_AT, lid, at, 1, out, &n};

	if (!out)
		return STORE_BAD("snapshot_at: NULL");
	memset(out, 0, sizeof(*out));
	if (!store_id_lower(id, lid))
		return CE_OK;
	return store_run(self, snapshots_op, &a);
}

static enum cerr
port_snapshots(void *self, const char *id, uint32_t after, unsigned limit, struct circle *out,
	       size_t *n)
{
	char lid[CIRCLE_ID_LEN + 1];
	struct snapshots_args a = {SQ_SNAPSHOTS, lid, after, limit, out, n};

	if (!out || !n || limit == 0)
		return STORE_BAD("snapshots: bad arguments");
	*n = 0;
	if (!store_id_lower(id, lid))
		return CE_OK;
	return store_run(self, snapshots_op, &a);
}

/*
 * REPEATABLE READ with a consistent snapshot taken at once: every SELECT of
 * the transaction reads the database as it was at its start, so the events,
 * snapshots and projection of a circle are read as of one moment even while
 * commands commit. READ ONLY: nothing here may write, and InnoDB need not
 * assign a transaction id.
 */
static const char snapshot_isolation_sql[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";
static const char snapshot_begin_sql[] = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";

static enum cerr
begin_snapshot(struct store *st)
{
	enum cerr rc = store_ensure(st);

	if (rc == CE_OK)
		rc = STORE_CHECK_DB(st, mysql_real_query(st->db, snapshot_isolation_sql,
							 strlen(snapshot_isolation_sql)));
	if (rc == CE_OK)
		rc = STORE_CHECK_DB(st, mysql_real_query(st->db, snapshot_begin_sql,
							 strlen(snapshot_begin_sql)));
	return rc;
}

static enum cerr
port_consistent(void *self, enum cerr (*fn)(void *ctx), void *ctx)
{
	struct store *st = self;
	bool was_open;
	enum cerr rc;

	if (!st || !fn)
		return STORE_BAD("consistent: NULL");
	was_open = st->db != NULL;
	rc = begin_snapshot(st);
	/* a connection that died while idle (the server restarted): once more
	 * on a new one, as store_run() does */
	if (rc == CE_UNAVAILABLE && was_open && !st->db)
		rc = begin_snapshot(st);
	if (rc != CE_OK)
		return rc;
	/* A lost connection inside fn must fail fn, not reconnect and go on
	 * outside the transaction (store_run). */
	st->in_snapshot = true;
	rc = fn(ctx);
	st->in_snapshot = false;
	/* Nothing was written: ending the transaction either way is the same,
	 * and a failure only matters to the next call, which reconnects. */
	if (st->db && mysql_commit(st->db))
		(void)STORE_DB_FAIL(st);
	return rc;
}

struct feed_args {
	uint64_t after;
	uint32_t limit;
	struct feed_event *out;
	size_t *n;
};

static enum cerr
feed_op(struct store *st, void *arg)
{
	struct feed_args *a = arg;

	return store_load_feed(st, a->after, a->limit, a->out, a->n);
}

static enum cerr
port_feed(void *self, uint64_t after, unsigned limit, struct feed_event *out, size_t *n)
{
	struct feed_args a = {after, limit, out, n};

	if (!n || (limit > 0 && !out))
		return STORE_BAD("feed: NULL");
	*n = 0;
	if (limit == 0)
		return store_ensure(self);
	return store_run(self, feed_op, &a);
}

void
store_circle_reader(struct store *st, struct circle_reader *out)
{
	out->self = st;
	out->ping = port_ping;
	out->get = port_get;
	out->list = port_list;
	out->history = port_history;
	out->snapshot_at = port_snapshot_at;
	out->snapshots = port_snapshots;
	out->consistent = port_consistent;
	out->feed = port_feed;
	out->wait_for = store_port_wait_for;
	out->replication = store_port_replication;
}

struct ids_args {
	const char *after;
	uint32_t limit;
	char (*ids)[CIRCLE_ID_LEN + 1];
	size_t *n;
};

static enum cerr
ids_op(struct store *st, void *arg)
{
	struct ids_args *a = arg;
	MYSQL_BIND p[2], res[1];
	my_bool nulls[1];
	unsigned long after_len, id_len = 0;
	char id[CIRCLE_ID_LEN + 2];
	MYSQL_STMT *s = store_stmt(st, SQ_CIRCLE_IDS);
	size_t count = 0;
	bool row;
	enum cerr rc;

	*a->n = 0;
	memset(p, 0, sizeof(p));
	memset(res, 0, sizeof(res));
	store_bind_text_in(&p[0], a->after, &after_len);
	store_bind_u32(&p[1], &a->limit);
	store_bind_text_out(&res[0], id, sizeof(id), &id_len);
	store_bind_nulls(res, nulls, 1);
	rc = store_exec(st, s, p, res);
	while (rc == CE_OK) {
		rc = store_fetch(st, s, &row);
		if (rc != CE_OK || !row)
			break;
		if (count == a->limit) {
			rc = STORE_BAD("circle ids: more rows than the limit");
			break;
		}
		rc = store_check_nulls(nulls, 1);
		if (rc == CE_OK)
			rc = store_text_done(id, sizeof(id), id_len, "circle_id");
		if (rc == CE_OK && !store_id_lower(id, a->ids[count]))
			rc = STORE_BAD("circle ids: not a UUID");
		if (rc == CE_OK)
			count++;
	}
	store_done(st, SQ_CIRCLE_IDS);
	if (rc == CE_OK)
		*a->n = count;
	return rc;
}

enum cerr
store_circle_ids(struct store *st, const char *after, unsigned limit,
		 char (*ids)[CIRCLE_ID_LEN + 1], size_t *n)
{
	struct ids_args a = {after ? after : "", limit, ids, n};

	if (!st || !ids || !n || limit == 0)
		return STORE_BAD("circle ids: bad arguments");
	*n = 0;
	return store_run(st, ids_op, &a);
}
