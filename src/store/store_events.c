/*
 * The event_store port on MariaDB: load a circle's events, append one event
 * with its projection (and idempotency key) in one transaction, and find a
 * remembered create by its key. Also the reading of events shared with the
 * query side's history.
 *
 * Concurrency is the database's job: the UNIQUE key on (circle_id, version)
 * lets exactly one of two racing appends of a version commit, the UNIQUE key
 * on the live name refuses look-alike names, and the PRIMARY KEY of
 * idempotency_keys lets exactly one of two writes with one key commit.
 *
 * The statements of an append run in one procedure call
 * (sql/009_append_procedures.sql), which tells the clashes apart by the
 * statement that raised them and signals each with a number of its own,
 * never by a message (which the server writes in its own language,
 * lc_messages): the idempotency key row, its primary key; the event, its
 * (circle_id, version) key (its own id is a fresh random UUID); the
 * projection, only the live name (its circle_id cannot clash once the event
 * of that version went in).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "codec/event_json.h"
#include "store/store_internal.h"

/* A deadlock rolls the whole transaction back; run it again this often. */
#define DEADLOCK_RETRIES 3

/* --- times: RFC 3339 "YYYY-MM-DDTHH:MM:SS.ffffffZ" <-> DATETIME(6) --- */

/* The n digits at s, a fixed-width field of a time. */
static bool
digits(const char *s, size_t n, unsigned *out)
{
	uint64_t v;

	if (text_decimal(s, n, UINT_MAX, &v) != 0)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool
time_in_range(const MYSQL_TIME *t)
{
	return t->year >= 1 && t->year <= 9999 && t->month >= 1 && t->month <= 12 && t->day >= 1 &&
	       t->day <= 31 && t->hour <= 23 && t->minute <= 59 && t->second <= 59 &&
	       t->second_part <= 999999;
}

static bool
time_parse(const char *s, MYSQL_TIME *t)
{
	unsigned y, mo, d, h, mi, sec, us;

	memset(t, 0, sizeof(*t));
	if (strnlen(s, CIRCLE_TIME_LEN + 1) != CIRCLE_TIME_LEN || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z')
		return false;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) ||
	    !digits(s + 20, 6, &us))
		return false;
	t->year = y;
	t->month = mo;
	t->day = d;
	t->hour = h;
	t->minute = mi;
	t->second = sec;
	t->second_part = us;
	t->time_type = MYSQL_TIMESTAMP_DATETIME;
	return time_in_range(t);
}

static bool
time_format(const MYSQL_TIME *t, char out[CIRCLE_TIME_LEN + 1])
{
	char buf[64];
	int n;

	bool midnight = t->hour == 0 && t->minute == 0 && t->second == 0 && t->second_part == 0;

	/* Connector/C hands a DATETIME at exactly midnight back as a DATE. */
	if (!(t->time_type == MYSQL_TIMESTAMP_DATETIME ||
	      (t->time_type == MYSQL_TIMESTAMP_DATE && midnight)) ||
	    t->neg || !time_in_range(t))
		return false;
	n = snprintf(buf, sizeof(buf), "%04u-%02u-%02uT%02u:%02u:%02u.%06luZ", t->year, t->month,
		     t->day, t->hour, t->minute, t->second, t->second_part);
	if (n != CIRCLE_TIME_LEN)
		return false;
	memcpy(out, buf, CIRCLE_TIME_LEN + 1);
	return true;
}

/* --- loading events --- */

/* Grows *evs to hold at least need events; *cap is its capacity. */
static enum cerr
grow(struct circle_event **evs, size_t *cap, size_t need)
{
	struct circle_event *p;
	size_t ncap;

	if (need <= *cap)
		return CE_OK;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / sizeof(**evs))
			return STORE_BAD("too many events");
		ncap *= 2;
	}
	p = realloc(*evs, ncap * sizeof(**evs));
	if (!p) {
		fprintf(stderr, "store: %s:%d: out of memory\n", __FILE__, __LINE__);
		return CE_INTERNAL;
	}
	*evs = p;
	*cap = ncap;
	return CE_OK;
}

/*
 * One row of circle_events as fetched (id, circle_id, version, event_type,
 * payload, occurred_at, schema_version, then optionally feed_position),
 * before it is checked. The payload buffer is sized by what the decoder
 * accepts at most: a longer payload is reported truncated and so refused.
 */
struct event_row {
	MYSQL_BIND res[8];
	my_bool nulls[8];
	unsigned long id_len, circle_len, type_len, payload_len;
	char id[CIRCLE_ID_LEN + 2], circle[CIRCLE_ID_LEN + 2];
	char type[STORE_EVENT_TYPE_MAX + 1];
	char *payload;
	uint32_t version;
	uint32_t schema_version;
	uint64_t feed_position;
	MYSQL_TIME when;
	size_t columns;
};

/* Binds r for a statement of `columns` columns (7, or 8 with the feed
 * position); CE_INTERNAL when out of memory. Release with event_row_free(). */
static enum cerr
event_row_bind(struct event_row *r, size_t columns)
{
	memset(r, 0, sizeof(*r));
	r->payload = malloc(EVENT_JSON_MAX_LEN + 1);
	if (!r->payload) {
		fprintf(stderr, "store: %s:%d: out of memory\n", __FILE__, __LINE__);
		return CE_INTERNAL;
	}
	r->columns = columns;
	store_bind_text_out(&r->res[0], r->id, sizeof(r->id), &r->id_len);
	store_bind_text_out(&r->res[1], r->circle, sizeof(r->circle), &r->circle_len);
	store_bind_u32(&r->res[2], &r->version);
	store_bind_text_out(&r->res[3], r->type, sizeof(r->type), &r->type_len);
	store_bind_text_out(&r->res[4], r->payload, EVENT_JSON_MAX_LEN + 1, &r->payload_len);
	r->res[5].buffer_type = MYSQL_TYPE_DATETIME;
	r->res[5].buffer = &r->when;
	store_bind_u32(&r->res[6], &r->schema_version);
	store_bind_u64(&r->res[7], &r->feed_position);
	store_bind_nulls(r->res, r->nulls, columns);
	return CE_OK;
}

static void
event_row_free(struct event_row *r)
{
	free(r->payload);
	r->payload = NULL;
}

/* Checks the fetched row and fills ev from it; the codec upcasts the
 * payload from the schema version it was written in. */
static enum cerr
event_row_take(struct event_row *r, struct circle_event *ev)
{
	char why[EVENT_JSON_WHY_MAX];
	enum cerr rc = store_check_nulls(r->nulls, r->columns);

	if (rc == CE_OK)
		rc = store_text_done(r->id, sizeof(r->id), r->id_len, "event id");
	if (rc == CE_OK)
		rc = store_text_done(r->circle, sizeof(r->circle), r->circle_len,
				     "event circle_id");
	if (rc == CE_OK)
		rc = store_text_done(r->type, sizeof(r->type), r->type_len, "event_type");
	if (rc != CE_OK)
		return rc;
	memset(ev, 0, sizeof(*ev));
	if (!store_id_lower(r->id, ev->event_id) || !store_id_lower(r->circle, ev->circle_id))
		return STORE_BAD("event ids");
	if (r->version < 1)
		return STORE_BAD("event version");
	ev->version = r->version;
	if (!time_format(&r->when, ev->occurred_at))
		return STORE_BAD("occurred_at");
	if (r->payload_len > EVENT_JSON_MAX_LEN)
		return STORE_BAD("event payload too long");
	if (event_json_decode(r->schema_version, r->type, r->payload, r->payload_len, ev, why) !=
	    CE_OK) {
		fprintf(stderr, "store: event %s of circle %s (version %u): %s\n", ev->event_id,
			ev->circle_id, ev->version, why);
		return STORE_BAD("event payload does not decode");
	}
	return CE_OK;
}

enum cerr
store_load_events(struct store *st, const char *circle_id, uint32_t after, uint32_t upto,
		  unsigned limit, struct circle_event **evs, size_t *n)
{
	MYSQL_BIND param[4];
	unsigned long id_len;
	struct event_row r;
	uint32_t prev = after, max_rows = limit > 0 ? limit : UINT32_MAX;
	struct circle_event *out = NULL;
	size_t count = 0, cap = 0;
	MYSQL_STMT *s;
	bool row;
	enum cerr rc;

	*evs = NULL;
	*n = 0;
	if (upto == 0)
		upto = UINT32_MAX;
	rc = event_row_bind(&r, 7);
	if (rc != CE_OK)
		return rc;
	s = store_stmt(st, SQ_EVENTS);
	memset(param, 0, sizeof(param));
	store_bind_text_in(&param[0], circle_id, &id_len);
	store_bind_u32(&param[1], &after);
	store_bind_u32(&param[2], &upto);
	store_bind_u32(&param[3], &max_rows);
	rc = store_exec(st, s, param, r.res);
	while (rc == CE_OK) {
		rc = store_fetch(st, s, &row);
		if (rc != CE_OK || !row)
			break;
		rc = grow(&out, &cap, count + 1);
		if (rc == CE_OK)
			rc = event_row_take(&r, &out[count]);
		if (rc != CE_OK)
			break;
		if (strcmp(out[count].circle_id, circle_id) != 0) {
			rc = STORE_BAD("event of another circle");
			break;
		}
		/* ORDER BY version and the UNIQUE key make this strict. */
		if (r.version <= prev) {
			rc = STORE_BAD("event versions not ascending");
			break;
		}
		prev = r.version;
		count++;
	}
	store_done(st, SQ_EVENTS);
	event_row_free(&r);
	if (rc != CE_OK) {
		free(out);
		return rc;
	}
	*evs = out;
	*n = count;
	return CE_OK;
}

enum cerr
store_load_feed(struct store *st, uint64_t after, uint32_t limit, struct feed_event *out, size_t *n)
{
	MYSQL_BIND param[2];
	struct event_row r;
	uint64_t prev = after;
	size_t count = 0;
	MYSQL_STMT *s;
	bool row;
	enum cerr rc;

	*n = 0;
	rc = event_row_bind(&r, 8);
	if (rc != CE_OK)
		return rc;
	s = store_stmt(st, SQ_FEED);
	memset(param, 0, sizeof(param));
	store_bind_u64(&param[0], &after);
	store_bind_u32(&param[1], &limit);
	rc = store_exec(st, s, param, r.res);
	while (rc == CE_OK) {
		rc = store_fetch(st, s, &row);
		if (rc != CE_OK || !row)
			break;
		/* LIMIT bounds it already; out has room for no more. */
		if (count == limit) {
			rc = STORE_BAD("feed: more rows than the limit");
			break;
		}
		rc = event_row_take(&r, &out[count].event);
		if (rc != CE_OK)
			break;
		/* ORDER BY and the UNIQUE key make this strict. */
		if (r.feed_position <= prev) {
			rc = STORE_BAD("feed positions not ascending");
			break;
		}
		prev = r.feed_position;
		out[count].position = r.feed_position;
		count++;
	}
	store_done(st, SQ_FEED);
	event_row_free(&r);
	if (rc == CE_OK)
		*n = count;
	return rc;
}

struct load_args {
	const char *circle_id;
	struct circle *from;
	struct circle_event **evs;
	size_t *n;
};

enum cerr
store_load_snapshots(struct store *st, enum store_stmt which, const char *circle_id, uint32_t bound,
		     unsigned limit, struct circle *out, size_t *n)
{
	MYSQL_BIND p[3], res[5];
	my_bool nulls[5];
	unsigned long id_len, name_len = 0, description_len = 0;
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	char *description = malloc(CIRCLE_DESCRIPTION_MAX_BYTES + 1);
	uint32_t version = 0, max_rows = limit;
	int capacity = 0;
	signed char deleted = 0;
	MYSQL_STMT *s = store_stmt(st, which);
	size_t count = 0;
	bool row = false;
	enum cerr rc;

	*n = 0;
	if (!description) {
		fprintf(stderr, "store: %s:%d: out of memory\n", __FILE__, __LINE__);
		return CE_INTERNAL;
	}
	memset(p, 0, sizeof(p));
	memset(res, 0, sizeof(res));
	store_bind_text_in(&p[0], circle_id, &id_len);
	store_bind_u32(&p[1], &bound);
	store_bind_u32(&p[2], &max_rows);
	store_bind_u32(&res[0], &version);
	store_bind_text_out(&res[1], name, sizeof(name), &name_len);
	store_bind_int(&res[2], &capacity);
	store_bind_tiny(&res[3], &deleted);
	store_bind_text_out(&res[4], description, CIRCLE_DESCRIPTION_MAX_BYTES + 1,
			    &description_len);
	store_bind_nulls(res, nulls, 5);
	rc = store_exec(st, s, p, res);
	while (rc == CE_OK) {
		rc = store_fetch(st, s, &row);
		if (rc != CE_OK || !row)
			break;
		if (count == limit) {
			rc = STORE_BAD("snapshots: more rows than the limit");
			break;
		}
		rc = store_check_nulls(nulls, 5);
		if (rc == CE_OK)
			rc = store_text_done(name, sizeof(name), name_len, "snapshot name");
		if (rc == CE_OK)
			rc = store_text_done(description, CIRCLE_DESCRIPTION_MAX_BYTES + 1,
					     description_len, "snapshot description");
		if (rc == CE_OK && (version < 1 || (deleted != 0 && deleted != 1)))
			rc = STORE_BAD("snapshot row out of range");
		if (rc != CE_OK)
			break;
		/* the domain checks the rest before it trusts it */
		memset(&out[count], 0, sizeof(out[count]));
		memcpy(out[count].id, circle_id, sizeof(out[count].id));
		memcpy(out[count].name, name, name_len + 1);
		out[count].capacity = capacity;
		out[count].version = version;
		out[count].deleted = deleted == 1;
		memcpy(out[count].description, description, description_len + 1);
		count++;
	}
	store_done(st, which);
	free(description);
	if (rc == CE_OK)
		*n = count;
	return rc;
}

/* The latest snapshot of a->circle_id into a->from (version 0: none). */
static enum cerr
load_snapshot(struct store *st, struct load_args *a)
{
	size_t n = 0;

	memset(a->from, 0, sizeof(*a->from));
	return store_load_snapshots(st, SQ_SNAPSHOT_AT, a->circle_id, UINT32_MAX, 1, a->from, &n);
}

static enum cerr
load_op(struct store *st, void *arg)
{
	struct load_args *a = arg;
	enum cerr rc = load_snapshot(st, a);

	if (rc != CE_OK)
		return rc;
	return store_load_events(st, a->circle_id, a->from->version, 0, 0, a->evs, a->n);
}

static enum cerr
port_load(void *self, const char *circle_id, struct circle *from, struct circle_event **evs,
	  size_t *n)
{
	char id[CIRCLE_ID_LEN + 1];
	struct load_args a = {id, from, evs, n};

	memset(from, 0, sizeof(*from));
	*evs = NULL;
	*n = 0;
	/* Not a UUID: no such circle can exist. */
	if (!store_id_lower(circle_id, id))
		return CE_OK;
	return store_run(self, load_op, &a);
}

/*
 * The current state of a circle for a command: its projection row, written
 * in the same transactions as its events and so always their fold. Not
 * locked: as with a replay, the append's guards decide a race (the UNIQUE
 * key on (circle_id, version), the projection UPDATE's version), and the
 * row lock is taken by the write itself, as briefly as before.
 *
 * The read's transaction stays open only until the append's procedure
 * begins, with ROLLBACK (it wrote nothing), or until port_end(). Kept open
 * into the append, it would hold the projection table while the append
 * waits for circle_events, and `circlectl rebuild-projections` holds
 * circle_events back while it renames the projection table: each would
 * wait for the other until a statement limit ended it.
 */
struct current_args {
	const char *circle_id;
	struct circle *out;
};

static enum cerr
current_op(struct store *st, void *arg)
{
	struct current_args *a = arg;
	MYSQL_BIND p[1], res[5];
	my_bool nulls[5];
	unsigned long id_len, name_len = 0, description_len = 0;
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	uint32_t version = 0;
	int capacity = 0;
	signed char deleted = 0;
	MYSQL_STMT *s = store_stmt(st, SQ_CURRENT);
	bool row = false;
	enum cerr rc;

	memset(p, 0, sizeof(p));
	memset(res, 0, sizeof(res));
	store_bind_text_in(&p[0], a->circle_id, &id_len);
	store_bind_text_out(&res[0], name, sizeof(name), &name_len);
	store_bind_int(&res[1], &capacity);
	store_bind_u32(&res[2], &version);
	store_bind_tiny(&res[3], &deleted);
	/* straight into the answer: the longest column, read only here */
	store_bind_text_out(&res[4], a->out->description, sizeof(a->out->description),
			    &description_len);
	store_bind_nulls(res, nulls, 5);
	rc = store_exec(st, s, p, res);
	if (rc == CE_OK)
		rc = store_fetch(st, s, &row);
	if (rc != CE_OK || !row)
		goto out;
	rc = store_check_nulls(nulls, 5);
	if (rc == CE_OK)
		rc = store_text_done(name, sizeof(name), name_len, "projection name");
	if (rc == CE_OK)
		rc = store_text_done(a->out->description, sizeof(a->out->description),
				     description_len, "projection description");
	if (rc == CE_OK && (version < 1 || (deleted != 0 && deleted != 1)))
		rc = STORE_BAD("projection row out of range");
	if (rc != CE_OK)
		goto out;
	/* the domain checks the rest before it decides from it */
	memcpy(a->out->id, a->circle_id, sizeof(a->out->id));
	memcpy(a->out->name, name, name_len + 1);
	a->out->capacity = capacity;
	a->out->version = version;
	a->out->deleted = deleted == 1;
out:
	if (rc != CE_OK || !row)
		a->out->description[0] = '\0';
	store_done(st, SQ_CURRENT);
	return rc;
}

static void
port_end(void *self)
{
	struct store *st = self;

	/* what is open wrote nothing: a load, a key looked up */
	if (st->txn_open)
		store_rollback(st);
}

static enum cerr
port_load_current(void *self, const char *circle_id, struct circle *out)
{
	char id[CIRCLE_ID_LEN + 1];
	struct current_args a = {id, out};

	memset(out, 0, sizeof(*out));
	/* Not a UUID: no such circle can exist. */
	if (!store_id_lower(circle_id, id))
		return CE_OK;
	return store_run(self, current_op, &a);
}

/* --- appending --- */

/* Everything append binds, checked and converted before the transaction. */
struct append_args {
	const struct circle_event *ev;
	const struct circle *after;
	const char *idem_key; /* NULL: none */
	const char *idem_request;
	int idem_status;
	char event_id[CIRCLE_ID_LEN + 1];
	char circle_id[CIRCLE_ID_LEN + 1];
	const char *type_name;
	char *payload;
	MYSQL_TIME occurred;
	uint32_t version;
	uint32_t schema_version;
	int capacity;
	signed char deleted;
};

/* What circle_append and circle_remember_key signal, as the port's answers;
 * anything else stays the error it was. */
static enum cerr
signalled(const struct store *st, enum cerr rc)
{
	switch (st->last_errno) {
	case STORE_SIGNAL_VERSION_TAKEN: return CE_VERSION_MISMATCH;
	case STORE_SIGNAL_NAME_TAKEN: return CE_DUPLICATE_NAME;
	case STORE_SIGNAL_KEY_TAKEN: return CE_IDEMPOTENCY_KEY_TAKEN;
	default: return rc;
	}
}

/* The idempotency key's three values, at p: NULL each when there is none. */
static void
bind_key(MYSQL_BIND *p, const struct append_args *a, unsigned long len[2], int *status)
{
	if (!a->idem_key) {
		p[0].buffer_type = p[1].buffer_type = p[2].buffer_type = MYSQL_TYPE_NULL;
		return;
	}
	*status = a->idem_status;
	store_bind_text_in(&p[0], a->idem_key, &len[0]);
	store_bind_text_in(&p[1], a->idem_request, &len[1]);
	store_bind_int(&p[2], status);
}

/* Runs one CALL (sql/009_append_procedures.sql), then COMMIT; rolls back on
 * any failure. The procedures commit nothing themselves, so that an append
 * whose outcome is unknown is one whose COMMIT went unanswered. */
static enum cerr
call_and_commit(struct store *st, enum store_stmt which, MYSQL_BIND *p)
{
	enum cerr rc = store_exec(st, store_stmt(st, which), p, NULL);

	if (rc == CE_OK)
		rc = store_commit(st);
	if (rc != CE_OK) {
		rc = signalled(st, rc);
		store_rollback(st);
	}
	return rc;
}

static enum cerr
append_once(struct store *st, struct append_args *a)
{
	MYSQL_BIND p[15];
	unsigned long len[8];
	signed char snapshot = a->version % STORE_SNAPSHOT_EVERY == 0;
	int status = 0;

	memset(p, 0, sizeof(p));
	store_bind_text_in(&p[0], a->event_id, &len[0]);
	store_bind_text_in(&p[1], a->circle_id, &len[1]);
	store_bind_u32(&p[2], &a->version);
	store_bind_text_in(&p[3], a->type_name, &len[2]);
	store_bind_text_in(&p[4], a->payload, &len[3]);
	p[5].buffer_type = MYSQL_TYPE_DATETIME;
	p[5].buffer = &a->occurred;
	store_bind_u32(&p[6], &a->schema_version);
	store_bind_text_in(&p[7], a->after->name, &len[4]);
	store_bind_int(&p[8], &a->capacity);
	store_bind_tiny(&p[9], &a->deleted);
	store_bind_text_in(&p[10], a->after->description, &len[5]);
	/* every STORE_SNAPSHOT_EVERY versions, in the event's own transaction,
	 * so that a snapshot never disagrees with its event */
	store_bind_tiny(&p[11], &snapshot);
	bind_key(&p[12], a, &len[6], &status);
	return call_and_commit(st, SQ_APPEND, p);
}

/*
 * Runs one transaction of a write, again while InnoDB picks it as a deadlock
 * victim: it rolled the victim back whole, so running it again is the
 * documented answer, as long as the request's time budget allows.
 */
static enum cerr
retry_on_deadlock(struct store *st, enum cerr (*once)(struct store *, struct append_args *),
		  struct append_args *a)
{
	enum cerr rc;
	int attempt;

	for (attempt = 0;; attempt++) {
		st->last_errno = 0;
		rc = once(st, a);
		if (rc == CE_OK || st->last_errno != ER_LOCK_DEADLOCK || !st->db ||
		    attempt == DEADLOCK_RETRIES || !store_budget_left(st))
			break;
		st->commit_sent = false;
	}
	return rc;
}

/* Keys count for 24 hours: idem_find ignores older ones and remember_key()
 * replaces an expired one. Deleting them in bulk is circlectl purge-keys'
 * job, never a request's. */
static enum cerr
append_op(struct store *st, void *arg)
{
	return retry_on_deadlock(st, append_once, arg);
}

/* Refuses what the caller should never hand over: an event and a state that
 * do not belong together. */
static enum cerr
append_prepare(struct append_args *a, const struct circle_event *ev, const struct circle *after,
	       const struct idem_key *idem)
{
	char after_id[CIRCLE_ID_LEN + 1];
	size_t name_len;

	memset(a, 0, sizeof(*a));
	a->ev = ev;
	a->after = after;
	if ((unsigned)ev->type >= CIRCLE_EVENT__MAX)
		return STORE_BAD("append: event type");
	a->type_name = circle_event_type_name(ev->type);
	if (!a->type_name || !store_id_lower(ev->event_id, a->event_id) ||
	    !store_id_lower(ev->circle_id, a->circle_id) || !store_id_lower(after->id, after_id) ||
	    strcmp(after_id, a->circle_id) != 0)
		return STORE_BAD("append: ids");
	if (ev->version < 1 || after->version != ev->version ||
	    (ev->type == CIRCLE_CREATED) != (ev->version == 1) ||
	    (ev->type == CIRCLE_DELETED) != after->deleted)
		return STORE_BAD("append: event and state disagree");
	name_len = strnlen(after->name, sizeof(after->name));
	if (name_len == 0 || name_len > CIRCLE_NAME_MAX_BYTES ||
	    strnlen(after->description, sizeof(after->description)) >
		    CIRCLE_DESCRIPTION_MAX_BYTES ||
	    after->capacity < CIRCLE_CAPACITY_MIN || after->capacity > CIRCLE_CAPACITY_MAX)
		return STORE_BAD("append: state out of range");
	if (!time_parse(ev->occurred_at, &a->occurred))
		return STORE_BAD("append: occurred_at");
	if (idem && idem->key) {
		if (!text_idempotency_key_valid(idem->key) || !idem->request ||
		    strnlen(idem->request, IDEM_REQUEST_MAX + 1) > IDEM_REQUEST_MAX ||
		    idem->status < 200 || idem->status > 299)
			return STORE_BAD("append: idempotency key");
		a->idem_key = idem->key;
		a->idem_request = idem->request;
		a->idem_status = idem->status;
	}
	a->version = ev->version;
	a->capacity = after->capacity;
	a->deleted = after->deleted ? 1 : 0;
	/* the encoder writes the newest shape only */
	a->schema_version = EVENT_SCHEMA_VERSION;
	if (event_json_encode(ev, &a->payload) != 0)
		return STORE_BAD("append: event does not encode");
	return CE_OK;
}

static enum cerr
port_append(void *self, const struct circle_event *ev, const struct circle *after,
	    const struct idem_key *idem)
{
	struct append_args a;
	enum cerr rc;

	if (!ev || !after)
		return STORE_BAD("append: NULL");
	rc = append_prepare(&a, ev, after, idem);
	if (rc == CE_OK) {
		struct store *st = self;

		rc = store_run(st, append_op, &a);
		/* After the commit, never inside it: the sequencer numbers the
		 * event in a transaction of its own. Also when the answer to
		 * COMMIT was lost, as the event may be in. */
		if (st->commit_sent && st->on_commit)
			st->on_commit(st->on_commit_arg);
	}
	free(a.payload);
	return rc;
}

/* --- idempotency keys --- */

struct idem_args {
	const char *key;
	struct idem_record *out;
};

static enum cerr
idem_find_op(struct store *st, void *arg)
{
	struct idem_args *a = arg;
	MYSQL_BIND p[1], r[8];
	my_bool nulls[8];
	unsigned long key_len, id_len = 0, name_len = 0, request_len = 0, description_len = 0;
	char id[CIRCLE_ID_LEN + 2];
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	int capacity = 0, status = 0;
	uint32_t version = 0;
	signed char deleted = 0;
	MYSQL_STMT *s = store_stmt(st, SQ_IDEM_FIND);
	bool row;
	enum cerr rc;

	memset(p, 0, sizeof(p));
	store_bind_text_in(&p[0], a->key, &key_len);
	memset(r, 0, sizeof(r));
	store_bind_text_out(&r[0], id, sizeof(id), &id_len);
	store_bind_text_out(&r[1], name, sizeof(name), &name_len);
	store_bind_int(&r[2], &capacity);
	store_bind_text_out(&r[3], a->out->request, sizeof(a->out->request), &request_len);
	store_bind_int(&r[4], &status);
	store_bind_u32(&r[5], &version);
	store_bind_tiny(&r[6], &deleted);
	store_bind_text_out(&r[7], a->out->description, sizeof(a->out->description),
			    &description_len);
	store_bind_nulls(r, nulls, 8);
	rc = store_exec(st, s, p, r);
	if (rc == CE_OK)
		rc = store_fetch(st, s, &row);
	if (rc != CE_OK)
		goto out;
	if (!row) {
		rc = CE_NOT_FOUND;
		goto out;
	}
	rc = store_check_nulls(nulls, 8);
	if (rc == CE_OK)
		rc = store_text_done(id, sizeof(id), id_len, "idempotency circle_id");
	if (rc == CE_OK)
		rc = store_text_done(name, sizeof(name), name_len, "idempotency name");
	if (rc == CE_OK)
		rc = store_text_done(a->out->request, sizeof(a->out->request), request_len,
				     "idempotency request");
	if (rc == CE_OK)
		rc = store_text_done(a->out->description, sizeof(a->out->description),
				     description_len, "idempotency description");
	if (rc != CE_OK)
		goto out;
	if (!store_id_lower(id, a->out->circle_id) || name[0] == '\0' ||
	    capacity < CIRCLE_CAPACITY_MIN || capacity > CIRCLE_CAPACITY_MAX || status < 200 ||
	    status > 299 || version < 1 || (deleted != 0 && deleted != 1)) {
		rc = STORE_BAD("idempotency row");
		goto out;
	}
	memcpy(a->out->name, name, name_len + 1);
	a->out->capacity = capacity;
	a->out->status = status;
	a->out->version = version;
	a->out->deleted = deleted == 1;
out:
	store_done(st, SQ_IDEM_FIND);
	return rc;
}

static enum cerr
port_idem_find(void *self, const char *key, struct idem_record *out)
{
	struct idem_args a = {key, out};

	if (!key || !out)
		return STORE_BAD("idem_find: NULL");
	/* A key that could never have been stored is simply not there. */
	if (!text_idempotency_key_valid(key))
		return CE_NOT_FOUND;
	return store_run(self, idem_find_op, &a);
}

static enum cerr
remember_once(struct store *st, struct append_args *a)
{
	MYSQL_BIND p[9];
	unsigned long key_len, id_len, name_len, request_len, description_len;
	int capacity = a->capacity, status = a->idem_status;

	memset(p, 0, sizeof(p));
	store_bind_text_in(&p[0], a->idem_key, &key_len);
	store_bind_text_in(&p[1], a->circle_id, &id_len);
	store_bind_text_in(&p[2], a->after->name, &name_len);
	store_bind_int(&p[3], &capacity);
	store_bind_text_in(&p[4], a->idem_request, &request_len);
	store_bind_int(&p[5], &status);
	store_bind_u32(&p[6], &a->version);
	store_bind_tiny(&p[7], &a->deleted);
	store_bind_text_in(&p[8], a->after->description, &description_len);
	return call_and_commit(st, SQ_REMEMBER_KEY, p);
}

static enum cerr
remember_op(struct store *st, void *arg)
{
	return retry_on_deadlock(st, remember_once, arg);
}

static enum cerr
port_idem_remember(void *self, const struct idem_key *idem, const struct circle *state)
{
	struct append_args a;
	size_t name_len;

	if (!idem || !idem->key || !state || !idem->request)
		return STORE_BAD("idem_remember: NULL");
	memset(&a, 0, sizeof(a));
	name_len = strnlen(state->name, sizeof(state->name));
	if (!text_idempotency_key_valid(idem->key) ||
	    strnlen(idem->request, IDEM_REQUEST_MAX + 1) > IDEM_REQUEST_MAX || idem->status < 200 ||
	    idem->status > 299 || !store_id_lower(state->id, a.circle_id) || state->version < 1 ||
	    name_len == 0 || name_len > CIRCLE_NAME_MAX_BYTES)
		return STORE_BAD("idem_remember: arguments");
	a.after = state;
	a.idem_key = idem->key;
	a.idem_request = idem->request;
	a.idem_status = idem->status;
	a.version = state->version;
	a.capacity = state->capacity;
	a.deleted = state->deleted ? 1 : 0;
	return store_run(self, remember_op, &a);
}

void
store_event_store(struct store *st, struct event_store *out)
{
	out->self = st;
	out->load = port_load;
	out->load_current = port_load_current;
	out->end = port_end;
	out->append = port_append;
	out->idem_find = port_idem_find;
	out->idem_remember = port_idem_remember;
	out->commit_token = store_port_commit_token;
}
