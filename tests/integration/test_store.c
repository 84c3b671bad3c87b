/*
 * Integration tests of store/ against a real MariaDB with the migrations of
 * sql/ applied and the users `circlectl grants` makes.
 *
 * The connection comes from the environment exactly as the workers read it:
 * CIRCLE_DB_CONFIG names an option file with a [circle-command] group (the
 * command user) and a [circle-query] group (the SELECT-only query user);
 * CIRCLE_DB_HOST/PORT/SOCKET/NAME override it for both (CIRCLE_DB_USER and
 * CIRCLE_DB_PASSWORD would make both groups one user, so leave them unset).
 * A [circle-admin] group in the same file names an administrator, which
 * empties the tables and ages rows, what the workers' users may not do.
 * CIRCLE_TEST_DB_RESTART is a shell command that restarts the server; the
 * reconnect test fails without it. Every test starts from empty tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdatomic.h>

#include "../fakes/test_event.h"
#include "codec/event_json.h"
#include "query/queries.h"
#include "store/store.h"

#define CMD_GROUP "circle-command"
#define QRY_GROUP "circle-query"
#define ADM_GROUP "circle-admin"

/* --- helpers --- */

static void
new_id(char out[CIRCLE_ID_LEN + 1])
{
	/* Unique within the run by the counter, across runs by the seed. */
	static atomic_uint counter;
	static unsigned long long seed;
	unsigned c = atomic_fetch_add(&counter, 1) + 1;

	if (!seed)
		seed = ((unsigned long long)getpid() << 20) ^ (unsigned long long)time(NULL);
	snprintf(out, CIRCLE_ID_LEN + 1, "%08x-%04x-4%03x-a%03x-%012llx", c,
		 (unsigned)(seed >> 32) & 0xffffu, (unsigned)(seed >> 12) & 0xfffu,
		 (unsigned)seed & 0xfffu, (seed * 2654435761ULL) & 0xffffffffffffULL);
}

static void
now_rfc3339(char out[CIRCLE_TIME_LEN + 1])
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
	memcpy(out, buf, CIRCLE_TIME_LEN);
	out[CIRCLE_TIME_LEN] = '\0';
}

static struct circle_event
make_event(enum circle_event_type type, const char *circle_id, uint32_t version, const char *name,
	   int capacity)
{
	struct circle_event ev = test_event(type, circle_id, version, name, capacity);

	new_id(ev.event_id);
	now_rfc3339(ev.occurred_at);
	return ev;
}

static struct store *
open_store(const char *group, enum store_role side)
{
	struct store_config cfg;

	store_config_from_env(&cfg, group);
	return store_new(&cfg, side);
}

static MYSQL *
raw_connect(const char *group)
{
	struct store_config cfg;
	MYSQL *db = mysql_init(NULL);

	if (!db)
		return NULL;
	store_config_from_env(&cfg, group);
	if (cfg.option_file)
		mysql_optionsv(db, MYSQL_READ_DEFAULT_FILE, cfg.option_file);
	mysql_optionsv(db, MYSQL_READ_DEFAULT_GROUP, group);
	mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(db, cfg.host, cfg.user, cfg.password, cfg.database, cfg.port,
				cfg.socket, 0)) {
		fprintf(stderr, "raw connect [%s]: %s\n", group, mysql_error(db));
		mysql_close(db);
		return NULL;
	}
	return db;
}

static void
raw_exec(MYSQL *db, const char *sql)
{
	if (mysql_query(db, sql) != 0)
		fail_msg("%s: %s", sql, mysql_error(db));
}

static long long
raw_count(MYSQL *db, const char *sql)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	long long n = -1;

	raw_exec(db, sql);
	res = mysql_store_result(db);
	assert_non_null(res);
	row = mysql_fetch_row(res);
	if (row && row[0])
		n = atoll(row[0]);
	mysql_free_result(res);
	return n;
}

/* The state the store's projection must hold: the replay of its events. */
static void
assert_projection_is_replay(struct store *w, struct store *r, const char *id)
{
	struct event_store es;
	struct circle_reader rd;
	struct circle_event *evs = NULL;
	struct circle replayed, from, full, row;
	size_t n = 0;

	store_event_store(w, &es);
	store_circle_reader(r, &rd);
	/* the command side's view: the latest snapshot and the events after it */
	assert_int_equal(es.load(es.self, id, &from, &evs, &n), CE_OK);
	assert_true(from.version > 0 || n > 0);
	assert_true(n < STORE_SNAPSHOT_EVERY);
	assert_int_equal(circle_replay_from(&replayed, &from, evs, n), CE_OK);
	free(evs);
	/* the whole history folds to the same state */
	evs = NULL;
	assert_int_equal(rd.history(rd.self, id, 0, 0, 1000, &evs, &n), CE_OK);
	assert_int_equal(circle_replay(&full, evs, n), CE_OK);
	free(evs);
	assert_memory_equal(&full, &replayed, sizeof full);
	assert_int_equal(rd.get(rd.self, id, &row), CE_OK);
	assert_string_equal(row.id, replayed.id);
	assert_string_equal(row.name, replayed.name);
	assert_int_equal(row.capacity, replayed.capacity);
	assert_int_equal(row.version, replayed.version);
	assert_int_equal(row.deleted, replayed.deleted);
	assert_string_equal(row.description, replayed.description);
}

/* Appends ev after *state and advances *state on success. */
static enum cerr
append_ev(struct store *w, struct circle *state, const struct circle_event *ev, const char *idem)
{
	struct event_store es;
	struct circle after = *state;
	struct idem_key key = {idem, "POST /circle\nkeyed", 201};
	enum cerr rc;

	if (circle_apply(&after, ev) != CE_OK)
		return CE__MAX; /* the test built a bad event */
	store_event_store(w, &es);
	rc = es.append(es.self, ev, &after, idem ? &key : NULL);
	if (rc == CE_OK)
		*state = after;
	return rc;
}

static enum cerr
create(struct store *w, struct circle *state, const char *name, int capacity)
{
	char id[CIRCLE_ID_LEN + 1];
	struct circle_event ev;

	new_id(id);
	memset(state, 0, sizeof(*state));
	ev = make_event(CIRCLE_CREATED, id, 1, name, capacity);
	return append_ev(w, state, &ev, NULL);
}

/* ev with its description member set to d ("" removes it in an update). */
static void
describe(struct circle_event *ev, const char *d)
{
	ev->has_description = true;
	snprintf(ev->description, sizeof(ev->description), "%s", d);
}

/* create() with a description. */
static enum cerr
create_described(struct store *w, struct circle *state, const char *name, int capacity,
		 const char *description)
{
	char id[CIRCLE_ID_LEN + 1];
	struct circle_event ev;

	new_id(id);
	memset(state, 0, sizeof(*state));
	ev = make_event(CIRCLE_CREATED, id, 1, name, capacity);
	describe(&ev, description);
	return append_ev(w, state, &ev, NULL);
}

/* An update of *state that changes its description only, appended. */
static enum cerr
append_description(struct store *w, struct circle *state, const char *d)
{
	struct circle_event ev = make_event(CIRCLE_UPDATED, state->id, state->version + 1, NULL, 0);

	describe(&ev, d);
	return append_ev(w, state, &ev, NULL);
}

/* The feed sequencer's peek connection, opened by the first pass() of a
 * test and freed by teardown. */
static struct store *peek;

struct fixture {
	struct store *w; /* command side */
	struct store *r; /* query side */
};

static int
setup(void **state)
{
	static struct fixture f;
	MYSQL *db = raw_connect(ADM_GROUP);

	if (!db) {
		fprintf(stderr,
			"cannot reach the database: set CIRCLE_DB_CONFIG to an option "
			"file with [" CMD_GROUP "], [" QRY_GROUP "] and [" ADM_GROUP "] groups\n");
		return -1;
	}
	/* Every test starts from empty tables. */
	if (mysql_query(db, "DELETE FROM idempotency_keys") ||
	    mysql_query(db, "DELETE FROM circle_snapshots") ||
	    mysql_query(db, "DELETE FROM circle_projections") ||
	    mysql_query(db, "DELETE FROM circle_events")) {
		fprintf(stderr, "cleanup: %s\n", mysql_error(db));
		mysql_close(db);
		return -1;
	}
	mysql_close(db);
	f.w = open_store(CMD_GROUP, STORE_WRITE);
	f.r = open_store(QRY_GROUP, STORE_READ);
	if (!f.w || !f.r)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_free(f->w);
	store_free(f->r);
	store_free(peek);
	f->w = f->r = NULL;
	peek = NULL;
	return 0;
}

/* --- tests --- */

static void
test_create_update_delete(void **state)
{
	struct fixture *f = *state;
	struct circle c, reused;
	struct circle_event ev;
	struct circle_reader rd;

	assert_int_equal(create(f->w, &c, "Chess", 10), CE_OK);
	assert_projection_is_replay(f->w, f->r, c.id);

	ev = make_event(CIRCLE_UPDATED, c.id, 2, "Chess Club", 12);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_projection_is_replay(f->w, f->r, c.id);

	ev = make_event(CIRCLE_UPDATED, c.id, 3, NULL, 20);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_projection_is_replay(f->w, f->r, c.id);

	ev = make_event(CIRCLE_DELETED, c.id, 4, NULL, 0);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_projection_is_replay(f->w, f->r, c.id);

	store_circle_reader(f->r, &rd);
	assert_int_equal(rd.get(rd.self, c.id, &reused), CE_OK);
	assert_true(reused.deleted);
	assert_string_equal(reused.name, "Chess Club");
	/* A deleted circle frees its name. */
	assert_int_equal(create(f->w, &reused, "CHESS CLUB", 5), CE_OK);
	assert_projection_is_replay(f->w, f->r, reused.id);
}

/*
 * A command's current state: the projection row, read in the transaction
 * the append continues, which its COMMIT ends (or end, when nothing is
 * appended). The read locks nothing: the append's guards decide races.
 */
static void
test_current_state(void **state)
{
	struct fixture *f = *state;
	struct event_store es;
	struct circle c, cur, stale;
	struct circle_event ev;
	char id[CIRCLE_ID_LEN + 1], upper[CIRCLE_ID_LEN + 1], sql[256];
	MYSQL *db = raw_connect(ADM_GROUP);
	size_t i;

	assert_non_null(db);
	raw_exec(db, "SET SESSION innodb_lock_wait_timeout = 1");
	store_event_store(f->w, &es);
	assert_non_null(es.load_current);
	assert_non_null(es.end);

	/* no such circle, or no id at all: version 0 */
	new_id(id);
	assert_int_equal(es.load_current(es.self, id, &cur), CE_OK);
	assert_int_equal(cur.version, 0);
	assert_int_equal(es.load_current(es.self, "not-an-id", &cur), CE_OK);
	assert_int_equal(cur.version, 0);
	es.end(es.self);

	assert_int_equal(create(f->w, &c, "Current", 3), CE_OK);
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 4);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	for (i = 0; i < CIRCLE_ID_LEN; i++)
		upper[i] = (char)(c.id[i] >= 'a' && c.id[i] <= 'f' ? c.id[i] - 'a' + 'A' : c.id[i]);
	upper[CIRCLE_ID_LEN] = '\0';
	assert_int_equal(es.load_current(es.self, upper, &cur), CE_OK);
	assert_string_equal(cur.id, c.id);
	assert_string_equal(cur.name, "Current");
	assert_int_equal(cur.capacity, 4);
	assert_int_equal(cur.version, 2);
	assert_false(cur.deleted);

	/* nothing is held: another writer of the row does not wait */
	snprintf(sql, sizeof(sql),
		 "UPDATE circle_projections SET capacity = capacity WHERE circle_id = '%s'", c.id);
	raw_exec(db, sql);
	es.end(es.self);

	/* a decision from a state that moved on loses at the append */
	assert_int_equal(es.load_current(es.self, c.id, &stale), CE_OK);
	ev = make_event(CIRCLE_UPDATED, c.id, 3, NULL, 5);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	ev = make_event(CIRCLE_UPDATED, c.id, stale.version + 1, NULL, 6);
	assert_int_equal(append_ev(f->w, &stale, &ev, NULL), CE_VERSION_MISMATCH);
	es.end(es.self);
	assert_projection_is_replay(f->w, f->r, c.id);

	/* the append continues the transaction of the read and commits it */
	assert_int_equal(es.load_current(es.self, c.id, &cur), CE_OK);
	assert_int_equal(cur.version, 3);
	ev = make_event(CIRCLE_DELETED, c.id, 4, NULL, 0);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	raw_exec(db, sql);
	assert_projection_is_replay(f->w, f->r, c.id);

	/* a deleted circle has a current state too */
	assert_int_equal(es.load_current(es.self, c.id, &cur), CE_OK);
	assert_int_equal(cur.version, 4);
	assert_true(cur.deleted);
	assert_string_equal(cur.description, "");
	es.end(es.self);
	mysql_close(db);
}

/* The current state holds the description: set, the longest, removed. */
static void
test_current_description(void **state)
{
	struct fixture *f = *state;
	struct event_store es;
	struct circle c, cur;
	struct circle_event ev;
	size_t i;

	store_event_store(f->w, &es);
	assert_int_equal(create(f->w, &c, "Described", 3), CE_OK);
	assert_int_equal(es.load_current(es.self, c.id, &cur), CE_OK);
	assert_int_equal(cur.version, 1);
	assert_string_equal(cur.description, "");
	es.end(es.self);

	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 0);
	ev.has_description = true;
	snprintf(ev.description, sizeof(ev.description), "%s", "Fridays, \"the old hall\" \\o/");
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_int_equal(es.load_current(es.self, c.id, &cur), CE_OK);
	assert_int_equal(cur.version, 2);
	assert_string_equal(cur.name, "Described");
	assert_string_equal(cur.description, "Fridays, \"the old hall\" \\o/");
	es.end(es.self);

	/* 500 characters of four bytes each: the column's and the buffer's limit */
	ev = make_event(CIRCLE_UPDATED, c.id, 3, NULL, 0);
	ev.has_description = true;
	for (i = 0; i < CIRCLE_DESCRIPTION_MAX_BYTES; i += 4)
		memcpy(ev.description + i, "\xf0\x9f\x98\x80", 4);
	ev.description[CIRCLE_DESCRIPTION_MAX_BYTES] = '\0';
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_int_equal(es.load_current(es.self, c.id, &cur), CE_OK);
	assert_int_equal(strlen(cur.description), CIRCLE_DESCRIPTION_MAX_BYTES);
	assert_string_equal(cur.description, ev.description);
	es.end(es.self);

	ev = make_event(CIRCLE_UPDATED, c.id, 4, NULL, 0);
	ev.has_description = true;
	ev.description[0] = '\0';
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_int_equal(es.load_current(es.self, c.id, &cur), CE_OK);
	assert_int_equal(cur.version, 4);
	assert_string_equal(cur.description, "");
	es.end(es.self);
	assert_projection_is_replay(f->w, f->r, c.id);
}

static void
test_failed_append_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct circle a, b, c, got, from;
	struct circle_event ev, *evs = NULL;
	struct event_store es;
	struct circle_reader rd;
	size_t n = 99;

	store_event_store(f->w, &es);
	store_circle_reader(f->r, &rd);
	assert_int_equal(create(f->w, &a, "Football", 11), CE_OK);

	/* A create whose name clashes: no event, no row. */
	assert_int_equal(create(f->w, &b, "FOOTBALL", 11), CE_DUPLICATE_NAME);
	assert_int_equal(es.load(es.self, b.id, &from, &evs, &n), CE_OK);
	assert_int_equal(n, 0);
	assert_null(evs);
	assert_int_equal(rd.get(rd.self, b.id, &got), CE_NOT_FOUND);

	/* An update whose name clashes: the event is rolled back with it. */
	assert_int_equal(create(f->w, &c, "Tennis", 4), CE_OK);
	ev = make_event(CIRCLE_UPDATED, c.id, 2, "football", 0);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_DUPLICATE_NAME);
	assert_int_equal(es.load(es.self, c.id, &from, &evs, &n), CE_OK);
	assert_int_equal(n, 1);
	free(evs);
	assert_int_equal(rd.get(rd.self, c.id, &got), CE_OK);
	assert_string_equal(got.name, "Tennis");
	assert_int_equal(got.version, 1);
	assert_projection_is_replay(f->w, f->r, c.id);

	/* Renaming a circle to a look-alike of its own name is no clash. */
	ev = make_event(CIRCLE_UPDATED, c.id, 2, "TENNIS", 0);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_projection_is_replay(f->w, f->r, c.id);
}

static void
test_name_clashes(void **state)
{
	struct fixture *f = *state;
	static const char *const clashes[] = {
		"FOOTBALL",
		"\xef\xbc\xa6\xef\xbc\xaf\xef\xbc\xaf\xef\xbc\xb4\xef\xbc\xa2\xef\xbc\xa1"
		"\xef\xbc\xac\xef\xbc\xac", /* fullwidth ＦＯＯＴＢＡＬＬ */
		"Football ",
		"Foot\xe2\x80\x8b"
		"ball", /* U+200B zero width space */
		"football",
	};
	struct circle c, got;
	struct circle_reader rd;
	size_t i;

	store_circle_reader(f->r, &rd);
	assert_int_equal(create(f->w, &c, "Football", 20), CE_OK);
	for (i = 0; i < sizeof(clashes) / sizeof(clashes[0]); i++) {
		struct circle other;

		if (create(f->w, &other, clashes[i], 20) != CE_DUPLICATE_NAME)
			fail_msg("\"%s\" did not clash with \"Football\"", clashes[i]);
	}
	/* Accents count: these two live side by side, stored as sent. */
	assert_int_equal(create(f->w, &c, "Caf\xc3\xa9", 5), CE_OK);
	assert_int_equal(create(f->w, &got, "Cafe", 5), CE_OK);
	assert_int_equal(rd.get(rd.self, c.id, &got), CE_OK);
	assert_string_equal(got.name, "Caf\xc3\xa9");
	/* A trailing space is kept in what is stored. */
	assert_int_equal(create(f->w, &c, "Golf  ", 5), CE_OK);
	assert_int_equal(rd.get(rd.self, c.id, &got), CE_OK);
	assert_string_equal(got.name, "Golf  ");
}

/*
 * A copy of the option file whose command group also sets the session's
 * lc_messages, so every error message of that store comes in Japanese; the
 * path goes into path[size]. 0, or -1.
 */
static int
japanese_option_file(char *path, size_t size)
{
	const char *src = getenv("CIRCLE_DB_CONFIG");
	FILE *in, *out;
	char buf[4096];
	size_t n;
	int fd;

	if (src == NULL || snprintf(path, size, "/tmp/circle-ja-XXXXXX") >= (int)size)
		return -1;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	out = fdopen(fd, "w");
	in = fopen(src, "r");
	if (out == NULL || in == NULL) {
		if (out != NULL)
			fclose(out);
		else
			close(fd);
		if (in != NULL)
			fclose(in);
		unlink(path);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fprintf(out, "\n[" CMD_GROUP "]\ninit-command=SET lc_messages = 'ja_JP'\n");
	return fclose(out) == 0 ? 0 : -1;
}

/* Every duplicate-key outcome is told apart with the server speaking
 * Japanese: by error number and statement, never by the message's words. */
static void
test_japanese_server_messages(void **state)
{
	struct fixture *f = *state;
	char path[64], lang[32] = "";
	struct store_config cfg;
	struct store *ja;
	struct circle c, other, stale;
	struct circle_event ev;
	MYSQL *db;
	MYSQL_RES *res;
	MYSQL_ROW row;

	(void)f;
	assert_int_equal(japanese_option_file(path, sizeof(path)), 0);
	/* the option file does what it says: the session speaks Japanese */
	db = mysql_init(NULL);
	assert_non_null(db);
	mysql_optionsv(db, MYSQL_READ_DEFAULT_FILE, path);
	mysql_optionsv(db, MYSQL_READ_DEFAULT_GROUP, CMD_GROUP);
	assert_non_null(mysql_real_connect(db, NULL, NULL, NULL, NULL, 0, NULL, 0));
	assert_int_equal(mysql_query(db, "SELECT @@SESSION.lc_messages"), 0);
	res = mysql_store_result(db);
	assert_non_null(res);
	row = mysql_fetch_row(res);
	assert_non_null(row);
	snprintf(lang, sizeof(lang), "%s", row[0] ? row[0] : "");
	mysql_free_result(res);
	assert_string_equal(lang, "ja_JP");

	store_config_from_env(&cfg, CMD_GROUP);
	cfg.option_file = path; /* read at connect time: kept until the end */
	ja = store_new(&cfg, STORE_WRITE);
	assert_non_null(ja);

	assert_int_equal(create(ja, &c, "Judo", 10), CE_OK);
	/* the live name's unique key */
	assert_int_equal(create(ja, &other, "JUDO", 10), CE_DUPLICATE_NAME);
	/* the (circle_id, version) key: a version taken by another writer */
	stale = c;
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 11);
	assert_int_equal(append_ev(ja, &c, &ev, NULL), CE_OK);
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 12);
	assert_int_equal(append_ev(ja, &stale, &ev, NULL), CE_VERSION_MISMATCH);
	/* a rename onto a live name */
	assert_int_equal(create(ja, &other, "Karate", 10), CE_OK);
	ev = make_event(CIRCLE_UPDATED, other.id, 2, "judo", 10);
	assert_int_equal(append_ev(ja, &other, &ev, NULL), CE_DUPLICATE_NAME);
	/* the Idempotency-Key's primary key */
	memset(&other, 0, sizeof(other));
	new_id(other.id);
	ev = make_event(CIRCLE_CREATED, other.id, 1, "Aikido", 10);
	memset(&other, 0, sizeof(other));
	assert_int_equal(append_ev(ja, &other, &ev, "ja-key"), CE_OK);
	memset(&stale, 0, sizeof(stale));
	new_id(stale.id);
	ev = make_event(CIRCLE_CREATED, stale.id, 1, "Kendo", 10);
	memset(&stale, 0, sizeof(stale));
	assert_int_equal(append_ev(ja, &stale, &ev, "ja-key"), CE_IDEMPOTENCY_KEY_TAKEN);
	store_free(ja);

	/* and the server's duplicate-key message is indeed not in English */
	assert_int_not_equal(mysql_query(db, "INSERT INTO idempotency_keys (idem_key, circle_id,"
					     " name, capacity, created_at) SELECT idem_key,"
					     " circle_id, name, capacity, created_at FROM"
					     " idempotency_keys WHERE idem_key = 'ja-key'"),
			     0);
	assert_int_equal(mysql_errno(db), ER_DUP_ENTRY);
	fprintf(stderr, "a duplicate key in ja_JP: %s\n", mysql_error(db));
	assert_null(strstr(mysql_error(db), "Duplicate"));
	mysql_close(db);
	unlink(path);
}

static void
test_version_key(void **state)
{
	struct fixture *f = *state;
	struct circle c, stale;
	struct circle_event ev;

	assert_int_equal(create(f->w, &c, "Go", 3), CE_OK);
	stale = c;
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 4);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	/* The same version again, from a writer that saw version 1. */
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 5);
	assert_int_equal(append_ev(f->w, &stale, &ev, NULL), CE_VERSION_MISMATCH);
	/* A create of an existing circle. */
	memset(&stale, 0, sizeof(stale));
	ev = make_event(CIRCLE_CREATED, c.id, 1, "Go again", 3);
	assert_int_equal(append_ev(f->w, &stale, &ev, NULL), CE_VERSION_MISMATCH);
	/* A version that skips one: the projection guard refuses it. */
	stale = c;
	stale.version = 4;
	ev = make_event(CIRCLE_UPDATED, c.id, 5, NULL, 6);
	assert_int_equal(append_ev(f->w, &stale, &ev, NULL), CE_VERSION_MISMATCH);
	assert_projection_is_replay(f->w, f->r, c.id);
}

/* --- races: two connections, each in its own thread --- */

#define RACE_ROUNDS 40

struct racer {
	int who;
	const char *circle_id;
	pthread_barrier_t *barrier;
	enum cerr results[RACE_ROUNDS];
	const char *idem_prefix; /* NULL: version race; else key race */
	char created[RACE_ROUNDS][CIRCLE_ID_LEN + 1];
};

static void *
version_racer(void *arg)
{
	struct racer *r = arg;
	struct store *w = open_store(CMD_GROUP, STORE_WRITE);
	int round;

	for (round = 0; round < RACE_ROUNDS; round++) {
		struct circle before, after;
		struct circle_event ev;
		struct event_store es;

		r->results[round] = CE__MAX;
		/* Connected before the start line, so both really race. */
		if (w)
			(void)store_ensure(w);
		memset(&before, 0, sizeof(before));
		snprintf(before.id, sizeof(before.id), "%s", r->circle_id);
		snprintf(before.name, sizeof(before.name), "Race");
		before.capacity = 3;
		before.version = (uint32_t)round + 1;
		ev = make_event(CIRCLE_UPDATED, r->circle_id, (uint32_t)round + 2, NULL,
				10 + round * 2 + r->who);
		after = before;
		pthread_barrier_wait(r->barrier);
		if (w && circle_apply(&after, &ev) == CE_OK) {
			store_event_store(w, &es);
			r->results[round] = es.append(es.self, &ev, &after, NULL);
		}
		pthread_barrier_wait(r->barrier);
	}
	store_free(w);
	return NULL;
}

static void *
key_racer(void *arg)
{
	struct racer *r = arg;
	struct store *w = open_store(CMD_GROUP, STORE_WRITE);
	int round;

	for (round = 0; round < RACE_ROUNDS; round++) {
		char key[64], name[64];
		struct circle st;
		struct circle_event ev;

		r->results[round] = CE__MAX;
		if (w)
			(void)store_ensure(w);
		snprintf(key, sizeof(key), "%s-%d", r->idem_prefix, round);
		/* A repeated request: the same body, so the same name. */
		snprintf(name, sizeof(name), "Keyed %d", round);
		memset(&st, 0, sizeof(st));
		new_id(r->created[round]);
		ev = make_event(CIRCLE_CREATED, r->created[round], 1, name, 8);
		pthread_barrier_wait(r->barrier);
		if (w)
			r->results[round] = append_ev(w, &st, &ev, key);
		pthread_barrier_wait(r->barrier);
	}
	store_free(w);
	return NULL;
}

static void
run_race(void *(*fn)(void *), struct racer r[2])
{
	pthread_barrier_t barrier;
	pthread_t t[2];
	int i;

	assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
	for (i = 0; i < 2; i++) {
		r[i].who = i;
		r[i].barrier = &barrier;
		assert_int_equal(pthread_create(&t[i], NULL, fn, &r[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
}

/* Every STORE_SNAPSHOT_EVERY versions a snapshot lands with the event, and
 * a command's load starts from the latest one. */
static void
test_snapshots(void **state)
{
	struct fixture *f = *state;
	struct circle c, d, from;
	struct circle_event ev, *evs = NULL;
	struct event_store es;
	char sql[256];
	size_t n = 0;
	uint32_t v;
	MYSQL *db;

	store_event_store(f->w, &es);
	assert_int_equal(create(f->w, &c, "Snapshots", 3), CE_OK);
	assert_int_equal(create(f->w, &d, "Clash", 3), CE_OK);
	for (v = 2; v <= 2 * STORE_SNAPSHOT_EVERY + 5; v++) {
		ev = make_event(CIRCLE_UPDATED, c.id, v, NULL, (int)(3 + v));
		assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	}
	db = raw_connect(CMD_GROUP);
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM circle_snapshots WHERE circle_id = '%s'"
		 " AND version IN (%d, %d)",
		 c.id, STORE_SNAPSHOT_EVERY, 2 * STORE_SNAPSHOT_EVERY);
	assert_int_equal(raw_count(db, sql), 2);
	assert_int_equal(es.load(es.self, c.id, &from, &evs, &n), CE_OK);
	assert_int_equal(from.version, 2 * STORE_SNAPSHOT_EVERY);
	assert_int_equal(from.capacity, 3 + 2 * STORE_SNAPSHOT_EVERY);
	assert_string_equal(from.id, c.id);
	assert_int_equal(n, 5);
	assert_int_equal(evs[0].version, 2 * STORE_SNAPSHOT_EVERY + 1);
	free(evs);
	assert_projection_is_replay(f->w, f->r, c.id);

	/* the read side: the nearest snapshot at or below a version, and the
	 * snapshots after a version in order */
	{
		struct circle_reader rd;
		struct circle snaps[4];

		store_circle_reader(f->r, &rd);
		assert_int_equal(rd.snapshot_at(rd.self, c.id, STORE_SNAPSHOT_EVERY - 1, &from),
				 CE_OK);
		assert_int_equal(from.version, 0);
		assert_int_equal(rd.snapshot_at(rd.self, c.id, 2 * STORE_SNAPSHOT_EVERY - 1, &from),
				 CE_OK);
		assert_int_equal(from.version, STORE_SNAPSHOT_EVERY);
		assert_string_equal(from.id, c.id);
		assert_string_equal(from.name, "Snapshots");
		assert_int_equal(from.capacity, 3 + STORE_SNAPSHOT_EVERY);
		assert_int_equal(rd.snapshot_at(rd.self, c.id, UINT32_MAX, &from), CE_OK);
		assert_int_equal(from.version, 2 * STORE_SNAPSHOT_EVERY);
		assert_int_equal(rd.snapshots(rd.self, c.id, 0, 1, snaps, &n), CE_OK);
		assert_int_equal(n, 1);
		assert_int_equal(snaps[0].version, STORE_SNAPSHOT_EVERY);
		assert_int_equal(rd.snapshots(rd.self, c.id, STORE_SNAPSHOT_EVERY, 4, snaps, &n),
				 CE_OK);
		assert_int_equal(n, 1);
		assert_int_equal(snaps[0].version, 2 * STORE_SNAPSHOT_EVERY);
		assert_int_equal(snaps[0].capacity, 3 + 2 * STORE_SNAPSHOT_EVERY);
		/* a page of the history in the middle */
		assert_int_equal(rd.history(rd.self, c.id, STORE_SNAPSHOT_EVERY, 0, 3, &evs, &n),
				 CE_OK);
		assert_int_equal(n, 3);
		assert_int_equal(evs[0].version, STORE_SNAPSHOT_EVERY + 1);
		assert_int_equal(evs[2].version, STORE_SNAPSHOT_EVERY + 3);
		free(evs);
	}

	/* a refused append at a snapshot version leaves no snapshot behind */
	for (v = c.version + 1; v < 3 * STORE_SNAPSHOT_EVERY; v++) {
		ev = make_event(CIRCLE_UPDATED, c.id, v, NULL, (int)(3 + v));
		assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	}
	ev = make_event(CIRCLE_UPDATED, c.id, 3 * STORE_SNAPSHOT_EVERY, "CLASH", 0);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_DUPLICATE_NAME);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM circle_snapshots WHERE circle_id = '%s'",
		 c.id);
	assert_int_equal(raw_count(db, sql), 2);
	mysql_close(db);
	assert_projection_is_replay(f->w, f->r, c.id);
}

struct consistent_probe {
	struct fixture *f;
	struct circle_reader *rd;
	struct circle *c;
	size_t before, during;
	enum cerr appended;
};

static enum cerr
consistent_probe_fn(void *ctx)
{
	struct consistent_probe *p = ctx;
	struct circle_event ev, *evs = NULL;
	enum cerr rc;

	rc = p->rd->history(p->rd->self, p->c->id, 0, 0, 1000, &evs, &p->before);
	free(evs);
	if (rc != CE_OK)
		return rc;
	ev = make_event(CIRCLE_UPDATED, p->c->id, p->c->version + 1, NULL, 50);
	p->appended = append_ev(p->f->w, p->c, &ev, NULL);
	evs = NULL;
	rc = p->rd->history(p->rd->self, p->c->id, 0, 0, 1000, &evs, &p->during);
	free(evs);
	return rc;
}

/* Reads inside consistent() see the database as of one moment: a commit of
 * another connection meanwhile is not seen until it ends. */
static void
test_consistent_read(void **state)
{
	struct fixture *f = *state;
	struct circle_reader rd;
	struct circle c;
	struct circle_event *evs = NULL;
	struct consistent_probe p;
	size_t n = 0;

	assert_int_equal(create(f->w, &c, "Consistent", 3), CE_OK);
	store_circle_reader(f->r, &rd);
	memset(&p, 0, sizeof(p));
	p.f = f;
	p.rd = &rd;
	p.c = &c;
	assert_int_equal(rd.consistent(rd.self, consistent_probe_fn, &p), CE_OK);
	assert_int_equal(p.appended, CE_OK);
	assert_int_equal(p.before, 1);
	assert_int_equal(p.during, 1);
	assert_int_equal(rd.history(rd.self, c.id, 0, 0, 1000, &evs, &n), CE_OK);
	assert_int_equal(n, 2);
	free(evs);
}

static void
test_version_race(void **state)
{
	struct fixture *f = *state;
	static struct racer r[2];
	struct circle c, from;
	struct circle_event *evs = NULL;
	struct event_store es;
	struct circle_reader rd;
	size_t n = 0;
	int round;

	assert_int_equal(create(f->w, &c, "Race", 3), CE_OK);
	memset(r, 0, sizeof(r));
	r[0].circle_id = r[1].circle_id = c.id;
	run_race(version_racer, r);
	for (round = 0; round < RACE_ROUNDS; round++) {
		enum cerr a = r[0].results[round], b = r[1].results[round];

		if (!((a == CE_OK && b == CE_VERSION_MISMATCH) ||
		      (b == CE_OK && a == CE_VERSION_MISMATCH)))
			fail_msg("round %d: %d and %d, want one CE_OK and one mismatch", round, a,
				 b);
	}
	store_event_store(f->w, &es);
	assert_int_equal(es.load(es.self, c.id, &from, &evs, &n), CE_OK);
	assert_int_equal(from.version + n, RACE_ROUNDS + 1);
	free(evs);
	store_circle_reader(f->r, &rd);
	assert_int_equal(rd.history(rd.self, c.id, 0, 0, 1000, &evs, &n), CE_OK);
	assert_int_equal(n, RACE_ROUNDS + 1);
	free(evs);
	assert_projection_is_replay(f->w, f->r, c.id);
}

static void
test_idempotency_race(void **state)
{
	struct fixture *f = *state;
	static struct racer r[2];
	struct event_store es;
	struct idem_record rec;
	int round;
	MYSQL *db;

	memset(r, 0, sizeof(r));
	r[0].idem_prefix = r[1].idem_prefix = "race-key";
	run_race(key_racer, r);
	store_event_store(f->w, &es);
	for (round = 0; round < RACE_ROUNDS; round++) {
		enum cerr a = r[0].results[round], b = r[1].results[round];
		char key[64];
		int winner;

		if (!((a == CE_OK && b == CE_IDEMPOTENCY_KEY_TAKEN) ||
		      (b == CE_OK && a == CE_IDEMPOTENCY_KEY_TAKEN)))
			fail_msg("round %d: %d and %d, want one CE_OK and one key taken", round, a,
				 b);
		winner = a == CE_OK ? 0 : 1;
		snprintf(key, sizeof(key), "race-key-%d", round);
		assert_int_equal(es.idem_find(es.self, key, &rec), CE_OK);
		assert_string_equal(rec.circle_id, r[winner].created[round]);
		assert_int_equal(rec.capacity, 8);
	}
	db = raw_connect(CMD_GROUP);
	assert_non_null(db);
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM circle_events"), RACE_ROUNDS);
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM circle_projections"), RACE_ROUNDS);
	mysql_close(db);
}

static void
test_idempotency_keys(void **state)
{
	struct fixture *f = *state;
	struct event_store es;
	struct idem_record rec;
	struct circle c, d;
	struct circle_event ev;
	char d_id[CIRCLE_ID_LEN + 1];
	MYSQL *db;

	store_event_store(f->w, &es);
	assert_int_equal(es.idem_find(es.self, "k-1", &rec), CE_NOT_FOUND);
	memset(&c, 0, sizeof(c));
	new_id(c.id);
	ev = make_event(CIRCLE_CREATED, c.id, 1, "Keyed", 9);
	memset(&c, 0, sizeof(c));
	assert_int_equal(append_ev(f->w, &c, &ev, "k-1"), CE_OK);
	assert_int_equal(es.idem_find(es.self, "k-1", &rec), CE_OK);
	assert_string_equal(rec.circle_id, c.id);
	assert_string_equal(rec.name, "Keyed");
	assert_int_equal(rec.capacity, 9);
	/* Keys are case-sensitive, and hostile keys are simply not there. */
	assert_int_equal(es.idem_find(es.self, "K-1", &rec), CE_NOT_FOUND);
	assert_int_equal(es.idem_find(es.self, "bad key", &rec), CE_NOT_FOUND);
	assert_int_equal(es.idem_find(es.self, "", &rec), CE_NOT_FOUND);

	/* The same key again while it is young: taken, nothing written. */
	new_id(d_id);
	ev = make_event(CIRCLE_CREATED, d_id, 1, "Keyed again", 9);
	memset(&d, 0, sizeof(d));
	assert_int_equal(append_ev(f->w, &d, &ev, "k-1"), CE_IDEMPOTENCY_KEY_TAKEN);

	/* A refused create is not remembered: its key stays free. */
	ev = make_event(CIRCLE_CREATED, d_id, 1, "KEYED", 9);
	assert_int_equal(append_ev(f->w, &d, &ev, "k-2"), CE_DUPLICATE_NAME);
	assert_int_equal(es.idem_find(es.self, "k-2", &rec), CE_NOT_FOUND);

	/* Past 24 hours a key is forgotten and may be used again. */
	db = raw_connect(ADM_GROUP);
	assert_non_null(db);
	raw_exec(db, "UPDATE idempotency_keys SET created_at = UTC_TIMESTAMP(6) - "
		     "INTERVAL 25 HOUR WHERE idem_key = 'k-1'");
	assert_int_equal(es.idem_find(es.self, "k-1", &rec), CE_NOT_FOUND);
	memset(&d, 0, sizeof(d));
	ev = make_event(CIRCLE_CREATED, d_id, 1, "Keyed later", 9);
	assert_int_equal(append_ev(f->w, &d, &ev, "k-1"), CE_OK);
	assert_int_equal(es.idem_find(es.self, "k-1", &rec), CE_OK);
	assert_string_equal(rec.circle_id, d.id);

	/* The purge: never on a request's path (an append leaves expired
	 * keys alone), only by store_purge_keys(), which leaves young ones. */
	raw_exec(db, "INSERT INTO idempotency_keys (idem_key, circle_id, name, capacity, "
		     "created_at) VALUES ('old-1', '00000000-0000-4000-8000-000000000001', "
		     "'x', 3, UTC_TIMESTAMP(6) - INTERVAL 2 DAY), ('old-2', "
		     "'00000000-0000-4000-8000-000000000002', 'y', 3, UTC_TIMESTAMP(6) - "
		     "INTERVAL 25 HOUR)");
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM idempotency_keys"), 3);
	{
		struct store *w2 = open_store(CMD_GROUP, STORE_WRITE);
		struct circle e;

		unsigned long purged = 0;

		assert_non_null(w2);
		assert_int_equal(create(w2, &e, "Purger", 3), CE_OK);
		assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM idempotency_keys"), 3);
		assert_int_equal(store_purge_keys(w2, &purged), CE_OK);
		assert_int_equal(purged, 2);
		assert_int_equal(store_purge_keys(w2, &purged), CE_OK);
		assert_int_equal(purged, 0);
		store_free(w2);
	}
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM idempotency_keys"), 1);
	mysql_close(db);
}

static void
test_query_user(void **state)
{
	struct fixture *f = *state;
	struct circle_reader rd;
	struct circle c, got, page[4];
	struct circle_event *evs = NULL;
	struct store *wrong;
	size_t n = 0;
	MYSQL *db;

	assert_int_equal(create(f->w, &c, "Readable", 7), CE_OK);
	store_circle_reader(f->r, &rd);
	assert_int_equal(rd.ping(rd.self), CE_OK);
	assert_int_equal(rd.get(rd.self, c.id, &got), CE_OK);
	assert_string_equal(got.name, "Readable");
	assert_int_equal(rd.list(rd.self, NULL, 4, page, &n), CE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(rd.history(rd.self, c.id, 0, 0, 1000, &evs, &n), CE_OK);
	assert_int_equal(n, 1);
	free(evs);

	/* The query user may not write, whatever it tries. */
	db = raw_connect(QRY_GROUP);
	assert_non_null(db);
	assert_int_not_equal(mysql_query(db, "INSERT INTO circle_events (id, circle_id, version, "
					     "event_type, payload, occurred_at) VALUES "
					     "('00000000-0000-4000-8000-000000000009', "
					     "'00000000-0000-4000-8000-000000000009', 1, "
					     "'circle_deleted', '{}', UTC_TIMESTAMP(6))"),
			     0);
	assert_int_equal(mysql_errno(db), ER_TABLEACCESS_DENIED_ERROR);
	assert_int_not_equal(mysql_query(db, "UPDATE circle_projections SET capacity = 3"), 0);
	assert_int_equal(mysql_errno(db), ER_TABLEACCESS_DENIED_ERROR);
	assert_int_not_equal(mysql_query(db, "SELECT * FROM idempotency_keys"), 0);
	assert_int_not_equal(mysql_query(db, "DELETE FROM circle_snapshots"), 0);
	assert_int_equal(mysql_errno(db), ER_TABLEACCESS_DENIED_ERROR);
	/* nor append through the command side's procedures */
	assert_int_not_equal(mysql_query(db, "CALL circle_remember_key('k', "
					     "'00000000-0000-4000-8000-000000000009', 'n', 3, '', "
					     "200, 1, 0, '')"),
			     0);
	assert_int_equal(mysql_errno(db), ER_PROCACCESS_DENIED_ERROR);
	/* it reads snapshots: a version is replayed from the nearest one */
	assert_int_equal(
		raw_count(db, "SELECT COUNT(*) FROM circle_snapshots WHERE circle_id = 'x'"), 0);
	mysql_close(db);

	/* The event log is append-only by privilege: the command user may add
	 * events, never remove one nor change any column of one but the feed
	 * position its sequencer sets (a column grant: the refusal names the
	 * column). */
	db = raw_connect(CMD_GROUP);
	assert_non_null(db);
	{
		static const char *const cols[] = {"id",         "circle_id", "version",
						   "event_type", "payload",   "occurred_at",
						   "position"};
		char sql[128];

		for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			snprintf(sql, sizeof(sql), "UPDATE circle_events SET `%s` = `%s`", cols[i],
				 cols[i]);
			assert_int_not_equal(mysql_query(db, sql), 0);
			assert_int_equal(mysql_errno(db), ER_COLUMNACCESS_DENIED_ERROR);
		}
	}
	/* WHERE 0: the privilege is checked, nothing changes */
	assert_int_equal(
		mysql_query(db, "UPDATE circle_events SET feed_position = feed_position WHERE 0"),
		0);
	assert_int_not_equal(mysql_query(db, "DELETE FROM circle_events"), 0);
	assert_int_equal(mysql_errno(db), ER_TABLEACCESS_DENIED_ERROR);
	assert_int_not_equal(mysql_query(db, "DELETE FROM circle_snapshots"), 0);
	assert_int_equal(mysql_errno(db), ER_TABLEACCESS_DENIED_ERROR);
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM circle_events WHERE circle_id = 'x'"),
			 0);
	/* Its appends run in procedures with its own privileges, no more:
	 * SQL SECURITY INVOKER, and EXECUTE on these two alone. */
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM information_schema.ROUTINES"
				       " WHERE ROUTINE_SCHEMA = DATABASE()"
				       " AND SECURITY_TYPE = 'INVOKER' AND ROUTINE_NAME IN"
				       " ('circle_append', 'circle_remember_key')"),
			 2);
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM information_schema.ROUTINES"
				       " WHERE ROUTINE_SCHEMA = DATABASE()"),
			 2);
	mysql_close(db);

	/* ... so a write store run as the query user cannot even prepare. */
	wrong = open_store(QRY_GROUP, STORE_WRITE);
	assert_non_null(wrong);
	assert_int_equal(store_ensure(wrong), CE_UNAVAILABLE);
	store_free(wrong);
}

/* The sequence number of the last GTID of a token "d-s-n[,…]". */
static unsigned long long
token_seq(const char *t)
{
	const char *last = strrchr(t, '-');

	assert_non_null(last);
	return strtoull(last + 1, NULL, 10);
}

/*
 * Commit tokens: each append's COMMIT reply names its GTID, later ones
 * higher; a store that committed nothing since names the current position.
 * The server that made the write answers a wait for it at once; a GTID of
 * another server it never received is not caught up within the bound; a
 * database that is no replica says so.
 */
static void
test_commit_tokens(void **state)
{
	struct fixture *f = *state;
	struct event_store es;
	struct circle_reader rd;
	struct replication_state rs;
	struct circle c;
	struct circle_event ev;
	char t1[COMMIT_TOKEN_MAX + 1], t2[COMMIT_TOKEN_MAX + 1], t3[COMMIT_TOKEN_MAX + 1];
	char other[COMMIT_TOKEN_MAX + 16];
	MYSQL *db;

	db = raw_connect(CMD_GROUP);
	assert_non_null(db);
	if (raw_count(db, "SELECT @@log_bin") != 1) {
		mysql_close(db);
		skip(); /* no binary log: no positions to name */
	}
	store_event_store(f->w, &es);
	store_circle_reader(f->r, &rd);
	assert_int_equal(create(f->w, &c, "Tokened", 5), CE_OK);
	assert_int_equal(es.commit_token(es.self, t1), CE_OK);
	assert_true(strlen(t1) > 0);
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 6);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_int_equal(es.commit_token(es.self, t2), CE_OK);
	assert_true(token_seq(t2) > token_seq(t1));
	/* read once: then the current position, at least the last commit */
	assert_int_equal(es.commit_token(es.self, t3), CE_OK);
	assert_true(token_seq(t3) >= token_seq(t2));
	assert_int_equal(rd.wait_for(rd.self, t2, 5000), CE_OK);
	/* the same domain, a server that is not this one, far ahead */
	snprintf(other, sizeof(other), "%.*s-%llu-%llu", (int)strcspn(t2, "-"), t2,
		 (unsigned long long)raw_count(db, "SELECT @@server_id") + 1000,
		 token_seq(t2) + 1000000);
	assert_int_equal(rd.wait_for(rd.self, other, 200), CE_NOT_CAUGHT_UP);
	assert_int_equal(rd.replication(rd.self, &rs), CE_OK);
	assert_false(rs.replica);
	mysql_close(db);
}

static bool
time_shape_ok(const char *s)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	size_t i;

	if (strlen(s) != sizeof(pattern) - 1)
		return false;
	for (i = 0; pattern[i]; i++) {
		if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
			return false;
	}
	return true;
}

static void
test_history(void **state)
{
	struct fixture *f = *state;
	static const char *const times[] = {
		"2026-11-26T08:35:48.123456Z",
		"2026-11-26T08:35:48.000001Z", /* earlier than the next, later */
		"2027-01-01T00:00:00.000000Z",
	};
	struct circle c;
	struct circle_event ev, *evs = NULL;
	struct circle_reader rd;
	size_t n = 0, i;

	store_circle_reader(f->r, &rd);
	memset(&c, 0, sizeof(c));
	ev = make_event(CIRCLE_CREATED, "0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10", 1, "Hist", 5);
	memcpy(ev.occurred_at, times[0], CIRCLE_TIME_LEN + 1);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 6);
	memcpy(ev.occurred_at, times[1], CIRCLE_TIME_LEN + 1);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	ev = make_event(CIRCLE_DELETED, c.id, 3, NULL, 0);
	memcpy(ev.occurred_at, times[2], CIRCLE_TIME_LEN + 1);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);

	/* Asked in upper case, stored and answered in lower case. */
	assert_int_equal(
		rd.history(rd.self, "0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10", 0, 0, 1000, &evs, &n),
		CE_OK);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_int_equal(evs[i].version, i + 1);
		assert_string_equal(evs[i].circle_id, "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10");
		assert_true(time_shape_ok(evs[i].occurred_at));
		assert_string_equal(evs[i].occurred_at, times[i]);
	}
	assert_int_equal(evs[0].type, CIRCLE_CREATED);
	assert_string_equal(evs[0].name, "Hist");
	assert_int_equal(evs[1].type, CIRCLE_UPDATED);
	assert_false(evs[1].has_name);
	assert_int_equal(evs[1].capacity, 6);
	assert_int_equal(evs[2].type, CIRCLE_DELETED);
	free(evs);

	assert_int_equal(rd.history(rd.self, c.id, 0, 2, 1000, &evs, &n), CE_OK);
	assert_int_equal(n, 2);
	free(evs);
	assert_int_equal(
		rd.history(rd.self, "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a11", 0, 0, 1000, &evs, &n),
		CE_OK);
	assert_int_equal(n, 0);
	assert_null(evs);
	assert_int_equal(rd.history(rd.self, "not-a-uuid", 0, 0, 1000, &evs, &n), CE_OK);
	assert_int_equal(n, 0);

	/* A payload that does not decode is an internal error, not a crash. */
	{
		MYSQL *db = raw_connect(CMD_GROUP);

		assert_non_null(db);
		raw_exec(db,
			 "INSERT INTO circle_events (id, circle_id, version, event_type, "
			 "payload, occurred_at) VALUES ('00000000-0000-4000-8000-0000000000aa', "
			 "'00000000-0000-4000-8000-0000000000bb', 1, 'circle_created', "
			 "'{\"type\": \"circle_created\", \"name\": 5}', UTC_TIMESTAMP(6))");
		mysql_close(db);
		assert_int_equal(rd.history(rd.self, "00000000-0000-4000-8000-0000000000bb", 0, 0,
					    1000, &evs, &n),
				 CE_INTERNAL);
		assert_null(evs);
		/* ... and the connection stays usable. */
		assert_int_equal(rd.history(rd.self, c.id, 0, 0, 1000, &evs, &n), CE_OK);
		assert_int_equal(n, 3);
		free(evs);
	}
}

static void
test_list_paging(void **state)
{
	struct fixture *f = *state;
	struct circle_reader rd;
	struct circle page[3], c;
	struct circle_event ev;
	char ids[7][CIRCLE_ID_LEN + 1];
	size_t n = 0, i;

	store_circle_reader(f->r, &rd);
	for (i = 0; i < 7; i++) {
		char name[32];

		snprintf(ids[i], sizeof(ids[i]), "00000000-0000-4000-8000-00000000000%zu", i);
		snprintf(name, sizeof(name), "Page %zu", i);
		memset(&c, 0, sizeof(c));
		ev = make_event(CIRCLE_CREATED, ids[i], 1, name, 3);
		assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
		if (i == 4) { /* deleted circles are not listed */
			ev = make_event(CIRCLE_DELETED, ids[i], 2, NULL, 0);
			assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
		}
	}
	assert_int_equal(rd.list(rd.self, NULL, 3, page, &n), CE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(page[0].id, ids[0]);
	assert_string_equal(page[2].id, ids[2]);
	assert_int_equal(rd.list(rd.self, page[2].id, 3, page, &n), CE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(page[0].id, ids[3]);
	assert_string_equal(page[1].id, ids[5]);
	assert_string_equal(page[2].id, ids[6]);
	assert_int_equal(rd.list(rd.self, ids[6], 3, page, &n), CE_OK);
	assert_int_equal(n, 0);
	/* An unknown, upper-case boundary works as a boundary. */
	assert_int_equal(rd.list(rd.self, "00000000-0000-4000-8000-00000000000A", 3, page, &n),
			 CE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(rd.list(rd.self, "00000000-0000-4000-8000-000000000001", 1, page, &n),
			 CE_OK);
	assert_int_equal(n, 1);
	assert_string_equal(page[0].id, ids[2]);
	assert_string_equal(page[0].name, "Page 2");
}

struct appender {
	struct store *w;
	struct circle state;
	struct circle_event ev;
	enum cerr rc;
};

static void *
append_thread(void *arg)
{
	struct appender *a = arg;

	a->rc = append_ev(a->w, &a->state, &a->ev, NULL);
	return NULL;
}

static void
test_deadlock_retry(void **state)
{
	struct fixture *f = *state;
	struct appender a;
	struct circle c, other;
	pthread_t t;
	MYSQL *db;
	char sql[512];
	int i;

	assert_int_equal(create(f->w, &c, "Deadlock", 3), CE_OK);
	for (i = 0; i < 8; i++) {
		char name[32];

		snprintf(name, sizeof(name), "Ballast %d", i);
		assert_int_equal(create(f->w, &other, name, 3), CE_OK);
	}
	db = raw_connect(CMD_GROUP);
	assert_non_null(db);
	/* The other transaction holds the projection row and weighs more
	 * (it changed the ballast rows), so InnoDB picks the store's
	 * transaction as the deadlock victim. */
	raw_exec(db, "START TRANSACTION");
	raw_exec(db, "UPDATE circle_projections SET capacity = capacity + 1");

	memset(&a, 0, sizeof(a));
	a.w = f->w;
	a.state = c;
	a.ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 9);
	a.rc = CE__MAX;
	assert_int_equal(pthread_create(&t, NULL, append_thread, &a), 0);
	usleep(500 * 1000); /* it inserted (id, 2) and waits for the row */
	/* Now wait for its event: a cycle, and the store's side loses. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO circle_events (id, circle_id, version, event_type, payload, "
		 "occurred_at) VALUES ('00000000-0000-4000-8000-0000000000dd', '%s', 2, "
		 "'circle_updated', '{\"type\": \"circle_updated\", \"capacity\": 4}', "
		 "UTC_TIMESTAMP(6))",
		 c.id);
	if (mysql_query(db, sql) != 0)
		fail_msg("the other transaction lost the deadlock instead: %s", mysql_error(db));
	usleep(200 * 1000);
	raw_exec(db, "ROLLBACK");
	pthread_join(t, NULL);
	mysql_close(db);
	/* The victim was run again and went through once the way was free. */
	assert_int_equal(a.rc, CE_OK);
	assert_int_equal(a.state.version, 2);
	assert_projection_is_replay(f->w, f->r, c.id);
}

static void
test_lock_wait_timeout(void **state)
{
	struct fixture *f = *state;
	struct circle c, stuck, from;
	struct circle_event ev, *evs = NULL;
	struct event_store es;
	size_t n = 0;
	MYSQL *db;

	assert_int_equal(create(f->w, &c, "Stuck", 3), CE_OK);
	db = raw_connect(CMD_GROUP);
	assert_non_null(db);
	raw_exec(db, "START TRANSACTION");
	raw_exec(db, "UPDATE circle_projections SET capacity = capacity + 1");
	stuck = c;
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 9);
	/* innodb_lock_wait_timeout is 5 s on the command connection. */
	assert_int_equal(append_ev(f->w, &stuck, &ev, NULL), CE_UNAVAILABLE);
	raw_exec(db, "ROLLBACK");
	mysql_close(db);
	/* Nothing of it was kept, and the connection goes on. */
	store_event_store(f->w, &es);
	assert_int_equal(es.load(es.self, c.id, &from, &evs, &n), CE_OK);
	assert_int_equal(n, 1);
	free(evs);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_projection_is_replay(f->w, f->r, c.id);
}

/* Kills every other connection of the user behind `group` to the test's
 * database: the stores' connections die under them. */
static void
kill_others(const char *group)
{
	MYSQL *db = raw_connect(group);
	MYSQL_RES *res;
	MYSQL_ROW row;
	char sql[64];
	unsigned long self;

	assert_non_null(db);
	self = mysql_thread_id(db);
	/* A user without PROCESS sees only its own connections; of those,
	 * only the ones on this test's database are ours. */
	raw_exec(db, "SELECT ID FROM information_schema.PROCESSLIST"
		     " WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)"
		     " AND DB = DATABASE()");
	res = mysql_store_result(db);
	assert_non_null(res);
	while ((row = mysql_fetch_row(res))) {
		unsigned long id = strtoul(row[0], NULL, 10);

		if (id == self)
			continue;
		snprintf(sql, sizeof(sql), "KILL CONNECTION %lu", id);
		(void)mysql_query(db, sql); /* it may have gone by itself */
	}
	mysql_free_result(res);
	mysql_close(db);
}

static void
test_killed_connection(void **state)
{
	struct fixture *f = *state;
	struct circle c, got;
	struct circle_event ev;
	struct circle_reader rd;

	store_circle_reader(f->r, &rd);
	assert_int_equal(create(f->w, &c, "Killed", 3), CE_OK);
	assert_int_equal(rd.get(rd.self, c.id, &got), CE_OK);
	kill_others(CMD_GROUP);
	kill_others(QRY_GROUP);
	/* The dead connections are found out, dropped and replaced within
	 * the call, with every statement prepared again. */
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 4);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_int_equal(rd.get(rd.self, c.id, &got), CE_OK);
	assert_int_equal(got.version, 2);
	kill_others(QRY_GROUP);
	assert_int_equal(rd.ping(rd.self), CE_OK);
	assert_projection_is_replay(f->w, f->r, c.id);
}

/* --- the change feed --- */

/* A raw INSERT of a create event, as an append would write it. */
static void
raw_insert_created(MYSQL *db, const char *event_id, const char *circle_id, const char *name)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO circle_events (id, circle_id, version, event_type, payload,"
		 " occurred_at) VALUES ('%s', '%s', 1, 'circle_created',"
		 " '{\"type\":\"circle_created\",\"name\":\"%s\",\"capacity\":5}',"
		 " UTC_TIMESTAMP(6))",
		 event_id, circle_id, name);
	raw_exec(db, sql);
}

/* The whole feed after `after`, paged by `limit` as a consumer would, into
 * a new array the caller frees; checks positions strictly increase. */
static struct feed_event *
read_whole_feed(struct store *r, uint64_t after, unsigned limit, size_t *n)
{
	struct circle_reader rd;
	struct feed_event *all = NULL;
	size_t count = 0;

	store_circle_reader(r, &rd);
	for (;;) {
		struct feed_event *page;
		size_t got = 0, i;

		page = realloc(all, (count + limit) * sizeof(*all));
		assert_non_null(page);
		all = page;
		page = all + count;
		assert_int_equal(rd.feed(rd.self, after, limit, page, &got), CE_OK);
		assert_true(got <= limit);
		for (i = 0; i < got; i++) {
			assert_true(page[i].position > after);
			after = page[i].position;
		}
		count += got;
		if (got < limit)
			break;
	}
	*n = count;
	return all;
}

/* A sequencer pass, with the peek connection the thread uses, or once in a
 * while without it: the two must agree. */
static size_t
pass(struct store *seq)
{
	static unsigned calls;
	size_t assigned = 99;

	if (!peek)
		peek = open_store(CMD_GROUP, STORE_PEEK);
	assert_non_null(peek);
	assert_int_equal(store_sequence_pass(seq, ++calls % 3 == 0 ? NULL : peek, STORE_FEED_BATCH,
					     &assigned),
			 CE_OK);
	return assigned;
}

/* Two transactions that take `position`s in one order and commit in the
 * other: the feed lists them in commit order, each once, and a sequencer
 * pass never waits for a transaction still open. */
static void
test_feed_out_of_order_commit(void **state)
{
	struct fixture *f = *state;
	struct store *seq = open_store(CMD_GROUP, STORE_SEQUENCER);
	MYSQL *a = raw_connect(CMD_GROUP), *b = raw_connect(CMD_GROUP);
	char ea[CIRCLE_ID_LEN + 1], eb[CIRCLE_ID_LEN + 1], ca[CIRCLE_ID_LEN + 1],
		cb[CIRCLE_ID_LEN + 1];
	struct feed_event *feed;
	struct timespec t0, t1;
	size_t n;

	assert_non_null(seq);
	assert_non_null(a);
	assert_non_null(b);
	new_id(ea);
	new_id(ca);
	new_id(eb);
	new_id(cb);
	assert_int_equal(pass(seq), 0);
	raw_exec(a, "START TRANSACTION");
	raw_insert_created(a, ea, ca, "First in");
	raw_exec(b, "START TRANSACTION");
	raw_insert_created(b, eb, cb, "Second in");
	/* A's row has the lower position, B commits first. */
	assert_true(raw_count(a, "SELECT MAX(`position`) FROM circle_events") <
		    raw_count(b, "SELECT MAX(`position`) FROM circle_events"));
	raw_exec(b, "COMMIT");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pass(seq), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* far below the 5 s lock wait it would hit if it waited for A */
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	feed = read_whole_feed(f->r, 0, 10, &n);
	assert_int_equal(n, 1);
	assert_string_equal(feed[0].event.event_id, eb);
	free(feed);

	raw_exec(a, "COMMIT");
	assert_int_equal(pass(seq), 1);
	assert_int_equal(pass(seq), 0);
	feed = read_whole_feed(f->r, 0, 10, &n);
	assert_int_equal(n, 2);
	assert_string_equal(feed[0].event.event_id, eb);
	assert_string_equal(feed[0].event.circle_id, cb);
	assert_string_equal(feed[1].event.event_id, ea);
	assert_string_equal(feed[1].event.circle_id, ca);
	assert_string_equal(feed[1].event.name, "First in");
	assert_int_equal(feed[1].event.type, CIRCLE_CREATED);
	assert_int_equal(feed[1].position, feed[0].position + 1);
	/* a consumer that had seen B goes on from there and gets A */
	free(feed);
	feed = read_whole_feed(f->r, 0, 1, &n);
	assert_int_equal(n, 2);
	assert_string_equal(feed[1].event.event_id, ea);
	free(feed);
	mysql_close(a);
	mysql_close(b);
	store_free(seq);
}

/* A rolled-back append leaves a hole in `position` and nothing in the feed;
 * the events around it are numbered without a gap. */
static void
test_feed_rollback(void **state)
{
	struct fixture *f = *state;
	struct store *seq = open_store(CMD_GROUP, STORE_SEQUENCER);
	MYSQL *a = raw_connect(CMD_GROUP), *b = raw_connect(CMD_GROUP);
	char e[3][CIRCLE_ID_LEN + 1], c[3][CIRCLE_ID_LEN + 1];
	struct feed_event *feed;
	size_t n, i;

	assert_non_null(seq);
	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < 3; i++) {
		new_id(e[i]);
		new_id(c[i]);
	}
	raw_exec(a, "START TRANSACTION");
	raw_insert_created(a, e[0], c[0], "Rolled back");
	raw_exec(b, "START TRANSACTION");
	raw_insert_created(b, e[1], c[1], "Kept");
	assert_int_equal(pass(seq), 0); /* nothing committed yet */
	raw_exec(a, "ROLLBACK");
	raw_exec(b, "COMMIT");
	assert_int_equal(pass(seq), 1);
	raw_insert_created(a, e[2], c[2], "After the hole");
	assert_int_equal(pass(seq), 1);
	feed = read_whole_feed(f->r, 0, 1000, &n);
	assert_int_equal(n, 2);
	assert_string_equal(feed[0].event.event_id, e[1]);
	assert_string_equal(feed[1].event.event_id, e[2]);
	assert_int_equal(feed[1].position, feed[0].position + 1);
	free(feed);
	assert_int_equal(
		raw_count(a, "SELECT COUNT(*) FROM circle_events WHERE feed_position IS NULL"), 0);
	mysql_close(a);
	mysql_close(b);
	store_free(seq);
}

/* Paging bounds of the reader: after beyond the end, limits of 1. */
static void
test_feed_paging(void **state)
{
	struct fixture *f = *state;
	struct store *seq = open_store(CMD_GROUP, STORE_SEQUENCER);
	struct circle_reader rd;
	struct feed_event page[3];
	struct feed_event *feed;
	struct circle c;
	char name[32];
	size_t n, got, i;

	assert_non_null(seq);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "Paged %zu", i);
		assert_int_equal(create(f->w, &c, name, 4), CE_OK);
	}
	assert_int_equal(pass(seq), 5);
	feed = read_whole_feed(f->r, 0, 1, &n);
	assert_int_equal(n, 5);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "Paged %zu", i);
		assert_string_equal(feed[i].event.name, name);
	}
	store_circle_reader(f->r, &rd);
	assert_int_equal(rd.feed(rd.self, feed[4].position, 3, page, &got), CE_OK);
	assert_int_equal(got, 0);
	assert_int_equal(rd.feed(rd.self, UINT64_MAX / 2, 3, page, &got), CE_OK);
	assert_int_equal(got, 0);
	assert_int_equal(rd.feed(rd.self, feed[1].position, 3, page, &got), CE_OK);
	assert_int_equal(got, 3);
	assert_int_equal(page[0].position, feed[2].position);
	free(feed);
	store_free(seq);
}

/* The feed under concurrency, with the real threads: writers create and
 * update circles on connections of their own, two sequencer threads woken
 * by their commits number them, and a reader pages the feed with its
 * next_after meanwhile. Afterwards every event is in the feed exactly once,
 * positions are consecutive, each circle's versions ascend by one, and the
 * reader saw exactly the feed, in order. */
#define FEED_WRITERS 4
#define FEED_CIRCLES 10
#define FEED_UPDATES 4

struct feed_writer {
	int who;
	struct store_sequencer *seq;
	int appended;
	enum cerr failed;
};

static void *
feed_writer_main(void *arg)
{
	struct feed_writer *fw = arg;
	struct store *w = open_store(CMD_GROUP, STORE_WRITE);
	int i, u;

	fw->failed = w ? CE_OK : CE_INTERNAL;
	if (w)
		store_on_commit(w, store_sequencer_wake, fw->seq);
	for (i = 0; w && fw->failed == CE_OK && i < FEED_CIRCLES; i++) {
		struct circle c;
		char name[64];
		enum cerr rc;

		snprintf(name, sizeof(name), "Feed %d-%d", fw->who, i);
		rc = create(w, &c, name, 5);
		for (u = 0; rc == CE_OK && u < FEED_UPDATES; u++) {
			struct circle_event ev =
				make_event(CIRCLE_UPDATED, c.id, c.version + 1, NULL, 6 + u);

			fw->appended++;
			rc = append_ev(w, &c, &ev, NULL);
		}
		if (rc == CE_OK)
			fw->appended++;
		fw->failed = rc;
	}
	store_free(w);
	return NULL;
}

struct feed_reader {
	atomic_int stop;
	struct feed_event *seen;
	size_t n, cap;
	enum cerr failed;
};

static void *
feed_reader_main(void *arg)
{
	struct feed_reader *fr = arg;
	struct store *r = open_store(QRY_GROUP, STORE_READ);
	struct circle_reader rd;
	uint64_t after = 0;
	int idle_after_stop = 0;

	fr->failed = r ? CE_OK : CE_INTERNAL;
	if (r)
		store_circle_reader(r, &rd);
	/* after the writers stop, until two empty pages in a row */
	while (r && fr->failed == CE_OK && idle_after_stop < 2) {
		size_t got = 0, i;
		bool stopped = atomic_load(&fr->stop);

		if (fr->cap - fr->n < 7) {
			size_t ncap = fr->cap ? fr->cap * 2 : 64;
			struct feed_event *grown = realloc(fr->seen, ncap * sizeof(*fr->seen));

			if (!grown) {
				fr->failed = CE_INTERNAL;
				break;
			}
			fr->seen = grown;
			fr->cap = ncap;
		}
		/* small pages, so paging really happens while writes go on */
		fr->failed = rd.feed(rd.self, after, 7, fr->seen + fr->n, &got);
		for (i = 0; i < got; i++) {
			if (fr->seen[fr->n + i].position <= after)
				fr->failed = CE_INTERNAL;
			after = fr->seen[fr->n + i].position;
		}
		fr->n += got;
		if (got == 0) {
			if (stopped)
				idle_after_stop++;
			usleep(2000);
		}
	}
	store_free(r);
	return NULL;
}

static void
test_feed_concurrent(void **state)
{
	struct fixture *f = *state;
	struct store_config cfg;
	struct store_sequencer *seq[2];
	struct feed_writer fw[FEED_WRITERS];
	struct feed_reader fr;
	pthread_t wt[FEED_WRITERS], rt;
	struct feed_event *feed;
	MYSQL *db = raw_connect(CMD_GROUP);
	long long events;
	size_t n, i, j;
	int total = 0, tries;

	assert_non_null(db);
	store_config_from_env(&cfg, CMD_GROUP);
	seq[0] = store_sequencer_start(&cfg);
	seq[1] = store_sequencer_start(&cfg);
	assert_non_null(seq[0]);
	assert_non_null(seq[1]);
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(pthread_create(&rt, NULL, feed_reader_main, &fr), 0);
	for (i = 0; i < FEED_WRITERS; i++) {
		memset(&fw[i], 0, sizeof(fw[i]));
		fw[i].who = (int)i;
		fw[i].seq = seq[i % 2];
		assert_int_equal(pthread_create(&wt[i], NULL, feed_writer_main, &fw[i]), 0);
	}
	for (i = 0; i < FEED_WRITERS; i++) {
		pthread_join(wt[i], NULL);
		assert_int_equal(fw[i].failed, CE_OK);
		total += fw[i].appended;
	}
	assert_int_equal(total, FEED_WRITERS * FEED_CIRCLES * (1 + FEED_UPDATES));
	events = raw_count(db, "SELECT COUNT(*) FROM circle_events");
	assert_int_equal(events, total);
	/* woken by the commits, the sequencers catch up within moments */
	for (tries = 0; tries < 500; tries++) {
		if (raw_count(db,
			      "SELECT COUNT(*) FROM circle_events WHERE feed_position IS NULL") ==
		    0)
			break;
		usleep(10000);
	}
	assert_int_equal(
		raw_count(db, "SELECT COUNT(*) FROM circle_events WHERE feed_position IS NULL"), 0);
	atomic_store(&fr.stop, 1);
	pthread_join(rt, NULL);
	store_sequencer_stop(seq[0]);
	store_sequencer_stop(seq[1]);
	assert_int_equal(fr.failed, CE_OK);

	feed = read_whole_feed(f->r, 0, 1000, &n);
	assert_int_equal(n, (size_t)total);
	for (i = 1; i < n; i++)
		assert_int_equal(feed[i].position, feed[i - 1].position + 1);
	/* each event once; each circle's versions ascend by one */
	for (i = 0; i < n; i++) {
		uint32_t prev = 0;

		for (j = 0; j < n; j++) {
			if (i != j)
				assert_string_not_equal(feed[i].event.event_id,
							feed[j].event.event_id);
			if (j > i)
				break;
		}
		if (feed[i].event.version != 1)
			continue;
		for (j = i; j < n; j++) {
			if (strcmp(feed[j].event.circle_id, feed[i].event.circle_id) != 0)
				continue;
			assert_int_equal(feed[j].event.version, prev + 1);
			prev = feed[j].event.version;
		}
		assert_int_equal(prev, 1 + FEED_UPDATES);
	}
	/* the reader, paging during the writes, saw exactly this */
	assert_int_equal(fr.n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(fr.seen[i].position, feed[i].position);
		assert_string_equal(fr.seen[i].event.event_id, feed[i].event.event_id);
	}
	fprintf(stderr, "feed: %d events by %d writers, read while written in %zu events\n", total,
		FEED_WRITERS, fr.n);
	free(fr.seen);
	free(feed);
	mysql_close(db);
}

/* The query user reads the feed and cannot number it. */
static void
test_feed_privileges(void **state)
{
	(void)state;
	MYSQL *q = raw_connect(QRY_GROUP);

	assert_non_null(q);
	raw_exec(q, "SELECT feed_position FROM circle_events LIMIT 1");
	mysql_free_result(mysql_store_result(q));
	assert_int_not_equal(mysql_query(q, "UPDATE circle_events SET feed_position = 1"), 0);
	assert_int_not_equal(
		mysql_query(q, "UPDATE circle_feed_sequence SET last_position = last_position"), 0);
	mysql_close(q);
}

/* --- circlectl tail --- */

/* circlectl of this build: CIRCLE_CIRCLECTL, else beside the tests. */
static const char *
circlectl_path(void)
{
	static char path[4096];
	const char *env = getenv("CIRCLE_CIRCLECTL");
	char self[4000];
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return "circlectl";
	self[n] = '\0';
	slash = strrchr(self, '/'); /* .../tests/integration/test_store */
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/../../circlectl", self);
	return path;
}

/* Starts circlectl with args, its stdout on *out (read end). */
static pid_t
spawn_ctl(const char *const *args, int *out)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[16];
		size_t i;

		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		argv[0] = (char *)circlectl_path();
		for (i = 0; i < 14 && args[i]; i++)
			argv[i + 1] = (char *)args[i];
		argv[i + 1] = NULL;
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	*out = fds[0];
	return pid;
}

/* Reads lines from fd until `want` lines or the deadline (seconds); into
 * lines[], each a new string. Returns how many. */
static size_t
read_lines(int fd, char **lines, size_t want, int seconds)
{
	static char buf[1 << 16];
	static size_t have;
	size_t got = 0;
	time_t end = time(NULL) + seconds;

	while (got < want && time(NULL) <= end) {
		char *nl = memchr(buf, '\n', have);
		fd_set rd;
		struct timeval tv = {0, 100000};
		ssize_t r;

		if (nl) {
			size_t len = (size_t)(nl - buf);

			lines[got] = strndup(buf, len);
			memmove(buf, nl + 1, have - len - 1);
			have -= len + 1;
			got++;
			continue;
		}
		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (select(fd + 1, &rd, NULL, NULL, &tv) <= 0)
			continue;
		r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	have = 0; /* the next caller starts clean */
	return got;
}

static int
wait_exit(pid_t pid)
{
	int status = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A line of circlectl tail is the feed event: position and event_id. */
static void
assert_line_is(const char *line, const struct feed_event *ev)
{
	char want[128];

	snprintf(want, sizeof(want), "{\"position\":%llu,\"circle_id\":\"%s\",\"event_id\":\"%s\",",
		 (unsigned long long)ev->position, ev->event.circle_id, ev->event.event_id);
	if (strncmp(line, want, strlen(want)) != 0)
		fail_msg("line %s does not start with %s", line, want);
}

static void
test_circlectl_tail(void **state)
{
	struct fixture *f = *state;
	struct store *seq = open_store(CMD_GROUP, STORE_SEQUENCER);
	struct feed_event *feed;
	struct circle c;
	char *lines[8] = {0}, after[32];
	size_t n, got, i;
	int fd;
	pid_t pid;

	assert_non_null(seq);
	assert_int_equal(create(f->w, &c, "Tail one", 4), CE_OK);
	assert_int_equal(create(f->w, &c, "Tail two", 5), CE_OK);
	assert_int_equal(pass(seq), 2);
	feed = read_whole_feed(f->r, 0, 10, &n);
	assert_int_equal(n, 2);

	/* the whole feed, then exit 0 */
	pid = spawn_ctl((const char *const[]){"tail", NULL}, &fd);
	got = read_lines(fd, lines, 3, 10);
	close(fd);
	assert_int_equal(wait_exit(pid), 0);
	assert_int_equal(got, 2);
	assert_line_is(lines[0], &feed[0]);
	assert_line_is(lines[1], &feed[1]);
	assert_non_null(
		strstr(lines[1], "\"data\":{\"type\":\"circle_created\",\"name\":\"Tail two\""));
	for (i = 0; i < got; i++)
		free(lines[i]);

	/* --after: what follows it */
	snprintf(after, sizeof(after), "%llu", (unsigned long long)feed[0].position);
	pid = spawn_ctl((const char *const[]){"tail", "--after", after, NULL}, &fd);
	got = read_lines(fd, lines, 2, 10);
	close(fd);
	assert_int_equal(wait_exit(pid), 0);
	assert_int_equal(got, 1);
	assert_line_is(lines[0], &feed[1]);
	free(lines[0]);

	/* --follow: new events as they are numbered, SIGTERM stops it with 0 */
	snprintf(after, sizeof(after), "%llu", (unsigned long long)(feed[1].position));
	free(feed);
	pid = spawn_ctl((const char *const[]){"tail", "--follow", "--after", after, NULL}, &fd);
	assert_int_equal(create(f->w, &c, "Tail three", 6), CE_OK);
	assert_int_equal(pass(seq), 1);
	got = read_lines(fd, lines, 1, 10);
	assert_int_equal(got, 1);
	feed = read_whole_feed(f->r, 0, 10, &n);
	assert_int_equal(n, 3);
	assert_line_is(lines[0], &feed[2]);
	free(lines[0]);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(wait_exit(pid), 0);
	close(fd);
	/* SIGINT too */
	pid = spawn_ctl((const char *const[]){"tail", "--follow", NULL}, &fd);
	got = read_lines(fd, lines, 3, 10);
	assert_int_equal(got, 3);
	for (i = 0; i < got; i++)
		free(lines[i]);
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(wait_exit(pid), 0);
	close(fd);
	free(feed);

	/* usage errors */
	pid = spawn_ctl((const char *const[]){"tail", "--after", "01", NULL}, &fd);
	close(fd);
	assert_int_equal(wait_exit(pid), 2);
	pid = spawn_ctl((const char *const[]){"tail", "--after", NULL}, &fd);
	close(fd);
	assert_int_equal(wait_exit(pid), 2);
	pid = spawn_ctl((const char *const[]){"tail", "--after", "9223372036854775808", NULL}, &fd);
	close(fd);
	assert_int_equal(wait_exit(pid), 2);
	pid = spawn_ctl((const char *const[]){"tail", "--bogus", NULL}, &fd);
	close(fd);
	assert_int_equal(wait_exit(pid), 2);
	store_free(seq);
}

struct restarter {
	const char *cmd;
	volatile int done;
	int status;
};

static void *
restart_thread(void *arg)
{
	struct restarter *r = arg;

	r->status = system(r->cmd);
	r->done = 1;
	return NULL;
}

/* What the reconnect test knows of its circle. */
struct tracked {
	struct circle c; /* as last known committed */
	bool uncertain;  /* an append answered CE_UNAVAILABLE: it may have committed */
};

/*
 * One round of work through both ports: every answer must be CE_OK or
 * CE_UNAVAILABLE (anything else is returned). *ok_read / *ok_write tell
 * which succeeded.
 */
static enum cerr
work_round(struct store *w, struct store *rs, struct tracked *t, bool *ok_read, bool *ok_write)
{
	struct circle_reader rd;
	struct event_store es;
	struct circle_event ev, *evs = NULL;
	struct circle got, from;
	enum cerr rc;
	size_t n = 0;

	*ok_read = *ok_write = false;
	store_circle_reader(rs, &rd);
	store_event_store(w, &es);
	rc = rd.get(rd.self, t->c.id, &got);
	if (rc != CE_OK && rc != CE_UNAVAILABLE)
		return rc;
	*ok_read = rc == CE_OK;
	if (t->uncertain) {
		/* A lost commit answer may still have committed: learn the
		 * truth before appending again. */
		rc = es.load(es.self, t->c.id, &from, &evs, &n);
		if (rc == CE_UNAVAILABLE)
			return CE_OK;
		if (rc != CE_OK)
			return rc;
		rc = circle_replay_from(&t->c, &from, evs, n);
		free(evs);
		if (rc != CE_OK)
			return rc;
		t->uncertain = false;
	}
	ev = make_event(CIRCLE_UPDATED, t->c.id, t->c.version + 1, NULL,
			t->c.capacity == 3 ? 4 : 3);
	rc = append_ev(w, &t->c, &ev, NULL);
	if (rc != CE_OK && rc != CE_UNAVAILABLE)
		return rc;
	*ok_write = rc == CE_OK;
	t->uncertain = rc == CE_UNAVAILABLE;
	return CE_OK;
}

/*
 * Schema versions: a database holding version-1 events, written as the
 * migration level before descriptions wrote them (no schema_version given,
 * so its default 1, and the projection without a description), reads back
 * unchanged everywhere events are read; new events carry version 2; a
 * version the codec does not know is refused, not read as another.
 */
#define OLD_ID "00000000-0000-4000-8000-000000000011"

static const char *const old_payloads[] = {
	"{\"type\":\"circle_created\",\"name\":\"Old \\\"club\\\" \xc3\xa9\",\"capacity\":7}",
	"{\"type\":\"circle_updated\",\"capacity\":9}",
	"{\"type\":\"circle_updated\",\"name\":\"Old club\"}",
};

static void
insert_old_events(MYSQL *db)
{
	char sql[1024];
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *type = i == 0 ? "circle_created" : "circle_updated";
		char esc[256];

		mysql_real_escape_string(db, esc, old_payloads[i], strlen(old_payloads[i]));
		snprintf(sql, sizeof(sql),
			 "INSERT INTO circle_events (id, circle_id, version, event_type, payload,"
			 " occurred_at) VALUES ('00000000-0000-4000-8000-0000000001%02zu', '" OLD_ID
			 "', %zu, '%s', '%s', UTC_TIMESTAMP(6))",
			 i, i + 1, type, esc);
		raw_exec(db, sql);
	}
	raw_exec(db, "INSERT INTO circle_projections (circle_id, name, capacity, version, deleted)"
		     " VALUES ('" OLD_ID "', 'Old club', 9, 3, 0)");
}

/* Each event's data as the history answers it is its stored payload,
 * byte for byte. */
static void
assert_data_is_payload(const struct circle_event *evs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *text = NULL;

		assert_false(evs[i].has_description);
		assert_int_equal(event_json_encode(&evs[i], &text), 0);
		assert_string_equal(text, old_payloads[i]);
		free(text);
	}
}

static void
test_schema_versions(void **state)
{
	struct fixture *f = *state;
	struct store *seq = open_store(CMD_GROUP, STORE_SEQUENCER);
	MYSQL *db = raw_connect(CMD_GROUP);
	struct circle_event *evs = NULL, ev;
	struct circle_reader rd;
	struct event_store es;
	struct circle c, from, at;
	struct feed_event *feed;
	struct cerr_info info;
	char why[256];
	bool agree = false;
	size_t n = 0, total = 0;

	assert_non_null(seq);
	assert_non_null(db);
	store_circle_reader(f->r, &rd);
	store_event_store(f->w, &es);
	insert_old_events(db);
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM circle_events"
				       " WHERE circle_id = '" OLD_ID "' AND schema_version = 1"),
			 3);

	/* the history */
	assert_int_equal(rd.history(rd.self, OLD_ID, 0, 0, 1000, &evs, &n), CE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(evs[0].name, "Old \"club\" \xc3\xa9");
	assert_data_is_payload(evs, n);
	free(evs);
	evs = NULL;
	/* a version replayed, the projection read, the whole circle verified */
	assert_int_equal(circle_at_version(&rd, OLD_ID, 2, &at, &info), CE_OK);
	assert_int_equal(at.capacity, 9);
	assert_string_equal(at.description, "");
	assert_int_equal(rd.get(rd.self, OLD_ID, &c), CE_OK);
	assert_string_equal(c.description, "");
	assert_int_equal(verify_circle(&rd, OLD_ID, &agree, &total, why, sizeof(why)), CE_OK);
	assert_true(agree);
	assert_int_equal(total, 3);
	/* the feed */
	assert_int_equal(pass(seq), 3);
	feed = read_whole_feed(f->r, 0, 2, &n);
	assert_int_equal(n, 3);
	{
		struct circle_event fevs[3];
		size_t i;

		for (i = 0; i < 3; i++)
			fevs[i] = feed[i].event;
		assert_data_is_payload(fevs, 3);
	}
	free(feed);

	/* the command side folds them, and appends a version-2 event after them */
	assert_int_equal(es.load(es.self, OLD_ID, &from, &evs, &n), CE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(circle_replay_from(&c, &from, evs, n), CE_OK);
	free(evs);
	evs = NULL;
	assert_string_equal(c.name, "Old club");
	ev = make_event(CIRCLE_UPDATED, OLD_ID, 4, NULL, 0);
	ev.has_description = true;
	snprintf(ev.description, sizeof(ev.description), "%s", "Fridays, \"the old hall\"");
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_projection_is_replay(f->w, f->r, OLD_ID);
	assert_int_equal(raw_count(db, "SELECT schema_version FROM circle_events"
				       " WHERE circle_id = '" OLD_ID "' AND version = 4"),
			 EVENT_SCHEMA_VERSION);
	assert_int_equal(raw_count(db, "SELECT COUNT(*) FROM circle_events"
				       " WHERE circle_id = '" OLD_ID "' AND schema_version = 1"),
			 3);
	assert_int_equal(raw_count(db,
				   "SELECT COUNT(*) FROM circle_events WHERE circle_id = '" OLD_ID
				   "' AND version = 4 AND JSON_VALUE(payload, '$.description')"
				   " = 'Fridays, \"the old hall\"'"),
			 1);
	/* the old events still read as they were written */
	assert_int_equal(rd.history(rd.self, OLD_ID, 0, 3, 1000, &evs, &n), CE_OK);
	assert_int_equal(n, 3);
	assert_data_is_payload(evs, n);
	free(evs);
	evs = NULL;
	assert_int_equal(rd.get(rd.self, OLD_ID, &c), CE_OK);
	assert_string_equal(c.description, "Fridays, \"the old hall\"");
	assert_int_equal(verify_circle(&rd, OLD_ID, &agree, &total, why, sizeof(why)), CE_OK);
	assert_true(agree);

	/* a version this build does not know: refused on every path, not guessed */
	raw_exec(db, "INSERT INTO circle_events (id, circle_id, version, event_type, payload,"
		     " occurred_at, schema_version) VALUES ('00000000-0000-4000-8000-000000000201',"
		     " '00000000-0000-4000-8000-000000000022', 1, 'circle_created',"
		     " '{\"type\":\"circle_created\",\"name\":\"New\",\"capacity\":5}',"
		     " UTC_TIMESTAMP(6), 3)");
	assert_int_equal(
		rd.history(rd.self, "00000000-0000-4000-8000-000000000022", 0, 0, 1000, &evs, &n),
		CE_INTERNAL);
	assert_null(evs);
	assert_int_equal(es.load(es.self, "00000000-0000-4000-8000-000000000022", &from, &evs, &n),
			 CE_INTERNAL);
	assert_null(evs);
	/* the version-2 update and the unknown one */
	assert_int_equal(pass(seq), 2);
	{
		struct feed_event page[8];
		size_t got = 0;

		assert_int_equal(rd.feed(rd.self, 0, 8, page, &got), CE_INTERNAL);
	}
	/* ... and the known ones still read */
	assert_int_equal(rd.history(rd.self, OLD_ID, 0, 0, 1000, &evs, &n), CE_OK);
	assert_int_equal(n, 4);
	assert_true(evs[3].has_description);
	free(evs);
	mysql_close(db);
	store_free(seq);
}

static void
test_reconnect(void **state)
{
	struct fixture *f = *state;
	struct restarter rs = {getenv("CIRCLE_TEST_DB_RESTART"), 0, -1};
	struct circle_reader rd;
	struct tracked t;
	pthread_t th;
	bool ok_read = false, ok_write = false;
	int rounds = 0, down = 0, tries;

	if (!rs.cmd || !*rs.cmd)
		fail_msg("CIRCLE_TEST_DB_RESTART is not set: it must name a command that "
			 "restarts the database server");
	memset(&t, 0, sizeof(t));
	assert_int_equal(create(f->w, &t.c, "Survivor", 3), CE_OK);
	assert_int_equal(work_round(f->w, f->r, &t, &ok_read, &ok_write), CE_OK);
	assert_true(ok_read && ok_write);

	assert_int_equal(pthread_create(&th, NULL, restart_thread, &rs), 0);
	while (!rs.done) {
		/* While it is down or coming back: CE_OK or CE_UNAVAILABLE. */
		assert_int_equal(work_round(f->w, f->r, &t, &ok_read, &ok_write), CE_OK);
		rounds++;
		if (!ok_read || !ok_write)
			down++;
		usleep(20 * 1000);
	}
	pthread_join(th, NULL);
	assert_int_equal(rs.status, 0);

	/* Back: the same stores work again, without being recreated. The
	 * server may need a moment after its restart command returns. */
	for (tries = 0; tries < 100; tries++) {
		assert_int_equal(work_round(f->w, f->r, &t, &ok_read, &ok_write), CE_OK);
		if (ok_read && ok_write)
			break;
		usleep(100 * 1000);
	}
	assert_true(ok_read && ok_write);
	fprintf(stderr,
		"reconnect: %d rounds during the restart (%d unavailable), "
		"%d failed tries after it\n",
		rounds, down, tries);
	store_circle_reader(f->r, &rd);
	assert_int_equal(rd.ping(rd.self), CE_OK);
	assert_projection_is_replay(f->w, f->r, t.c.id);
}

/* The sequencer thread's pacing: under a steady stream the gap grows to its
 * bound and no further, a full batch goes on at once, a pass that finds
 * nothing waits for a wake with an idle poll that grows to its own bound,
 * and events after a quiet spell start the gap over. */
static void
test_sequencer_pace(void **state)
{
	unsigned gap = STORE_SEQUENCER_GAP_MS, idle = STORE_SEQUENCER_IDLE_MS, pause, prev = 0;
	bool wakeable = true;
	int i;

	(void)state;
	for (i = 0; i < 20; i++) {
		pause = store_sequencer_pace(5, STORE_FEED_BATCH, &gap, &idle, &wakeable);
		assert_false(wakeable);
		assert_true(pause >= STORE_SEQUENCER_GAP_MS);
		assert_true(pause <= STORE_SEQUENCER_GAP_MAX_MS);
		assert_true(pause >= prev);
		prev = pause;
	}
	assert_int_equal(pause, STORE_SEQUENCER_GAP_MAX_MS);
	assert_int_equal(
		store_sequencer_pace(STORE_FEED_BATCH, STORE_FEED_BATCH, &gap, &idle, &wakeable),
		0);
	assert_false(wakeable);
	prev = 0;
	for (i = 0; i < 20; i++) {
		pause = store_sequencer_pace(0, STORE_FEED_BATCH, &gap, &idle, &wakeable);
		assert_true(wakeable);
		assert_true(pause >= STORE_SEQUENCER_IDLE_MS);
		assert_true(pause <= STORE_SEQUENCER_IDLE_MAX_MS);
		assert_true(pause >= prev);
		prev = pause;
	}
	assert_int_equal(pause, STORE_SEQUENCER_IDLE_MAX_MS);
	/* the first pass with events after the quiet spell */
	assert_int_equal(store_sequencer_pace(1, STORE_FEED_BATCH, &gap, &idle, &wakeable),
			 STORE_SEQUENCER_GAP_MS);
	assert_int_equal(store_sequencer_pace(0, STORE_FEED_BATCH, &gap, &idle, &wakeable),
			 STORE_SEQUENCER_IDLE_MS);
	/* values the thread never holds are taken as the start */
	gap = 0;
	idle = 100000;
	assert_int_equal(store_sequencer_pace(3, STORE_FEED_BATCH, &gap, &idle, &wakeable),
			 STORE_SEQUENCER_GAP_MS);
	gap = 100000;
	assert_int_equal(store_sequencer_pace(0, STORE_FEED_BATCH, &gap, &idle, &wakeable),
			 STORE_SEQUENCER_IDLE_MS);
	assert_int_equal(gap, STORE_SEQUENCER_GAP_MS);
}

/* Appends of a worker that runs no sequencer (CIRCLE_FEED_SEQUENCER=off:
 * its commits wake nobody) stay out of the feed while no sequencer runs;
 * the first sequencer that starts numbers all of them, in order. */
static void
test_feed_without_sequencer(void **state)
{
	struct fixture *f = *state;
	struct store_config cfg;
	struct store_sequencer *seq;
	struct circle c[5];
	struct feed_event *feed;
	MYSQL *db = raw_connect(CMD_GROUP);
	size_t n, i;
	int tries;

	assert_non_null(db);
	for (i = 0; i < 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "Unsequenced %zu", i);
		assert_int_equal(create(f->w, &c[i], name, 5), CE_OK);
	}
	usleep(250000);
	assert_int_equal(
		raw_count(db, "SELECT COUNT(*) FROM circle_events WHERE feed_position IS NULL"), 5);
	feed = read_whole_feed(f->r, 0, 100, &n);
	assert_int_equal(n, 0);
	free(feed);

	store_config_from_env(&cfg, CMD_GROUP);
	seq = store_sequencer_start(&cfg);
	assert_non_null(seq);
	for (tries = 0; tries < 1000; tries++) {
		if (raw_count(db,
			      "SELECT COUNT(*) FROM circle_events WHERE feed_position IS NULL") ==
		    0)
			break;
		usleep(10000);
	}
	store_sequencer_stop(seq);
	assert_int_equal(
		raw_count(db, "SELECT COUNT(*) FROM circle_events WHERE feed_position IS NULL"), 0);
	feed = read_whole_feed(f->r, 0, 100, &n);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		assert_string_equal(feed[i].event.circle_id, c[i].id);
		if (i > 0)
			assert_int_equal(feed[i].position, feed[i - 1].position + 1);
	}
	free(feed);
	mysql_close(db);
}

/* A worker with a CIRCLE_FEED_SEQUENCER it does not know refuses to start
 * (exit status 2), before it touches the database: a typo must not leave
 * the feed without a sequencer unnoticed. The worker is the one beside
 * circlectl in this build. */
static void
test_feed_sequencer_setting(void **state)
{
	static const char *const bad[] = {"yes", "OFF", "off ", "0"};
	char worker[4200];
	const char *ctl = circlectl_path();
	const char *slash = strrchr(ctl, '/');
	size_t i;

	(void)state;
	if (!slash) {
		skip();
		return;
	}
	snprintf(worker, sizeof(worker), "%.*s/circle-command.fcgi", (int)(slash - ctl), ctl);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int status = 0;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);

			if (null < 0 || dup2(null, 0) < 0 || dup2(null, 2) < 0 ||
			    setenv("CIRCLE_FEED_SEQUENCER", bad[i], 1) != 0)
				_exit(127);
			execl(worker, worker, (char *)NULL);
			_exit(127);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 2);
	}
}

/* --- circlectl rebuild-projections, export, import, show --- */

/* The database the tests' administrator works on. */
static const char *
test_database(void)
{
	static char name[65];
	MYSQL *db;
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (name[0])
		return name;
	db = raw_connect(ADM_GROUP);
	assert_non_null(db);
	raw_exec(db, "SELECT DATABASE()");
	res = mysql_store_result(db);
	assert_non_null(res);
	row = mysql_fetch_row(res);
	assert_true(row && row[0]);
	snprintf(name, sizeof(name), "%s", row[0]);
	mysql_free_result(res);
	mysql_close(db);
	return name;
}

/*
 * Runs circlectl with args (NULL-terminated), stdin from in_path (NULL:
 * /dev/null), stdout to out_path (NULL: /dev/null), its stderr into
 * err[err_size]; the administrator's commands read [circle-admin] of
 * CIRCLE_DB_CONFIG. Returns the exit status (128 + signal when killed).
 */
static int
run_ctl(const char *const *args, const char *in_path, const char *out_path, char *err,
	size_t err_size)
{
	char err_path[] = "/tmp/circle-test-ctl-XXXXXX";
	int err_fd = mkstemp(err_path), status;
	pid_t pid;
	ssize_t got;

	assert_true(err_fd >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
		int out =
			open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char *argv[16];
		size_t i;

		if (in < 0 || out < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err_fd, 2);
		setenv("CIRCLE_ADMIN_CONFIG", getenv("CIRCLE_DB_CONFIG"), 1);
		argv[0] = (char *)circlectl_path();
		for (i = 0; i < 14 && args[i]; i++)
			argv[i + 1] = (char *)args[i];
		argv[i + 1] = NULL;
		execv(argv[0], argv);
		_exit(127);
	}
	status = wait_exit(pid);
	got = pread(err_fd, err, err_size - 1, 0);
	err[got > 0 ? got : 0] = '\0';
	close(err_fd);
	unlink(err_path);
	if (err[0])
		fprintf(stderr, "    circlectl %s: %s", args[0], err);
	return status;
}

static int
rebuild(char *err, size_t err_size)
{
	const char *args[] = {"rebuild-projections", "--group",       ADM_GROUP,
			      "--database",          test_database(), NULL};

	return run_ctl(args, NULL, NULL, err, err_size);
}

/*
 * Appends circles [from, to) with four events each (create, capacity, name,
 * capacity) straight into circle_events, as an administrator, in one
 * statement: a log of many events in a moment. No projection rows.
 */
static void
generate_events(MYSQL *adm, unsigned from, unsigned to, const char *tag)
{
	char sql[2048];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO circle_events (id, circle_id, version, event_type, payload,"
		 " occurred_at)"
		 " SELECT LOWER(CONCAT(LPAD(HEX(c.seq), 8, '0'), '-', LPAD(HEX(v.seq), 4, '0'),"
		 " '-4000-8000-', '%s')),"
		 " LOWER(CONCAT(LPAD(HEX(c.seq), 8, '0'), '-0000-4000-a000-', '%s')), v.seq,"
		 " IF(v.seq = 1, 'circle_created', 'circle_updated'),"
		 " CASE v.seq WHEN 1 THEN CONCAT('{\"type\":\"circle_created\",\"name\":\"gen %s ',"
		 " c.seq, '\",\"capacity\":20}')"
		 " WHEN 2 THEN '{\"type\":\"circle_updated\",\"capacity\":30}'"
		 " WHEN 3 THEN CONCAT('{\"type\":\"circle_updated\",\"name\":\"renamed %s ', c.seq,"
		 " '\"}')"
		 " ELSE '{\"type\":\"circle_updated\",\"capacity\":40}' END, UTC_TIMESTAMP(6)"
		 " FROM seq_%u_to_%u c JOIN seq_1_to_4 v",
		 tag, tag, tag, tag, from, to - 1);
	raw_exec(adm, sql);
}

/* Every circle's projection row is the replay of its events: circlectl
 * verify, as the query user. */
static void
assert_verify_clean(void)
{
	const char *args[] = {"verify", NULL};
	char err[4096];

	assert_int_equal(run_ctl(args, NULL, NULL, err, sizeof(err)), 0);
}

static long long
admin_count(const char *sql)
{
	MYSQL *adm = raw_connect(ADM_GROUP);
	long long n;

	assert_non_null(adm);
	n = raw_count(adm, sql);
	mysql_close(adm);
	return n;
}

#define SHADOW_EXISTS \
	"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()" \
	" AND TABLE_NAME LIKE 'circle\\_projections\\_%'"

/*
 * A rebuild puts right a projection that went wrong (rows changed, missing,
 * one too many), through the fold of every event; the workers' users keep
 * their privileges on the new table, and their statements prepared before
 * the swap work after it.
 */
static void
test_rebuild_projections(void **state)
{
	struct fixture *f = *state;
	struct circle a, b, c, d;
	struct circle_event ev;
	struct circle_reader rd;
	struct circle got;
	MYSQL *adm = raw_connect(ADM_GROUP);
	char err[4096];

	assert_non_null(adm);
	assert_int_equal(create(f->w, &a, "Rebuild Café", 10), CE_OK);
	for (int i = 0; i < 12; i++) {
		ev = make_event(CIRCLE_UPDATED, a.id, a.version + 1, NULL, 11 + i);
		assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	}
	assert_int_equal(create(f->w, &b, "football", 20), CE_OK);
	ev = make_event(CIRCLE_UPDATED, b.id, 2, "baseball", 0);
	ev.has_capacity = false;
	assert_int_equal(append_ev(f->w, &b, &ev, NULL), CE_OK);
	/* c takes the name b gave up; d is deleted */
	assert_int_equal(create(f->w, &c, "football", 30), CE_OK);
	assert_int_equal(create(f->w, &d, "gone", 5), CE_OK);
	ev = make_event(CIRCLE_DELETED, d.id, 2, NULL, 0);
	ev.has_capacity = false;
	assert_int_equal(append_ev(f->w, &d, &ev, NULL), CE_OK);
	/* The read side has prepared its statements on the live table. */
	store_circle_reader(f->r, &rd);
	assert_int_equal(rd.get(rd.self, a.id, &got), CE_OK);

	/* Damage: a changed row, a missing row, a row with no events. */
	raw_exec(adm, "UPDATE circle_projections SET capacity = 99, version = 1");
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "DELETE FROM circle_projections WHERE circle_id = '%s'",
			 c.id);
		raw_exec(adm, sql);
	}
	raw_exec(adm, "INSERT INTO circle_projections (circle_id, name, capacity, version, deleted)"
		      " VALUES ('00000000-0000-4000-8000-000000000000', 'ghost', 3, 1, 0)");

	assert_int_equal(rebuild(err, sizeof(err)), 0);
	assert_int_equal(admin_count(SHADOW_EXISTS), 0);
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 4);
	assert_projection_is_replay(f->w, f->r, a.id);
	assert_projection_is_replay(f->w, f->r, b.id);
	assert_projection_is_replay(f->w, f->r, c.id);
	assert_projection_is_replay(f->w, f->r, d.id);
	assert_verify_clean();

	/* The same stores, after the swap: a read and an append work (grants
	 * by table name, statements prepared again by the server). */
	assert_int_equal(rd.get(rd.self, c.id, &got), CE_OK);
	assert_int_equal(got.capacity, 30);
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 31);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	assert_projection_is_replay(f->w, f->r, c.id);
	/* The live name is still unique in the new table. */
	assert_int_equal(create(f->w, &got, "FOOTBALL", 7), CE_DUPLICATE_NAME);

	/* An empty log makes an empty projection. */
	raw_exec(adm, "DELETE FROM circle_snapshots");
	raw_exec(adm, "DELETE FROM circle_events");
	assert_int_equal(rebuild(err, sizeof(err)), 0);
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 0);
	mysql_close(adm);
}

/* Events that cannot be folded (a version missing) stop a rebuild with the
 * circle named; the live table stays as it was. */
static void
test_rebuild_refuses_gaps(void **state)
{
	struct fixture *f = *state;
	struct circle a;
	struct circle_event ev;
	MYSQL *adm = raw_connect(ADM_GROUP);
	char err[4096], sql[256];

	assert_non_null(adm);
	assert_int_equal(create(f->w, &a, "gappy", 10), CE_OK);
	ev = make_event(CIRCLE_UPDATED, a.id, 2, NULL, 12);
	assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	ev = make_event(CIRCLE_UPDATED, a.id, 3, NULL, 13);
	assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	snprintf(sql, sizeof(sql),
		 "DELETE FROM circle_events WHERE circle_id = '%s' AND version = 2", a.id);
	raw_exec(adm, sql);
	assert_int_equal(rebuild(err, sizeof(err)), 2);
	assert_non_null(strstr(err, a.id));
	assert_int_equal(admin_count(SHADOW_EXISTS), 0);
	assert_int_equal(admin_count("SELECT version FROM circle_projections"), 3);
	mysql_close(adm);
}

/* The projection row of id has description d ("": none). */
static void
assert_description(struct store *r, const char *id, const char *d)
{
	struct circle_reader rd;
	struct circle got;

	store_circle_reader(r, &rd);
	assert_int_equal(rd.get(rd.self, id, &got), CE_OK);
	assert_string_equal(got.description, d);
}

/*
 * A rebuild restores descriptions from the events of both schema versions:
 * set at the create, changed, removed, set by a version-2 update after
 * version-1 events, never set; the projection rows' descriptions damaged
 * both ways first (lost where there was one, invented where there was
 * none).
 */
static void
test_rebuild_descriptions(void **state)
{
	struct fixture *f = *state;
	struct circle set, changed, removed, never, old;
	struct circle_event ev;
	struct circle_reader rd;
	MYSQL *adm = raw_connect(ADM_GROUP);
	char err[4096];

	assert_non_null(adm);
	store_circle_reader(f->r, &rd);
	assert_int_equal(create_described(f->w, &set, "set", 10,
					  "Tuesdays, \"upstairs\" \\ caf\xc3\xa9 \xe2\x9c\x93"),
			 CE_OK);
	assert_int_equal(create_described(f->w, &changed, "changed", 10, "first"), CE_OK);
	for (int i = 0; i < 11; i++) {
		ev = make_event(CIRCLE_UPDATED, changed.id, changed.version + 1, NULL, 11 + i);
		assert_int_equal(append_ev(f->w, &changed, &ev, NULL), CE_OK);
	}
	assert_int_equal(append_description(f->w, &changed, "second"), CE_OK);
	assert_int_equal(create_described(f->w, &removed, "removed", 10, "soon gone"), CE_OK);
	assert_int_equal(append_description(f->w, &removed, ""), CE_OK);
	assert_int_equal(create(f->w, &never, "never", 10), CE_OK);
	/* version-1 events, then a version-2 update that gives it one */
	insert_old_events(adm);
	assert_int_equal(rd.get(rd.self, OLD_ID, &old), CE_OK);
	assert_int_equal(append_description(f->w, &old, "kept from version 2"), CE_OK);
	assert_int_equal(admin_count("SELECT COUNT(DISTINCT schema_version) FROM circle_events"),
			 2);

	raw_exec(adm, "UPDATE circle_projections"
		      " SET description = IF(description = '', 'invented', '')");
	assert_int_equal(rebuild(err, sizeof(err)), 0);
	assert_description(f->r, set.id, "Tuesdays, \"upstairs\" \\ caf\xc3\xa9 \xe2\x9c\x93");
	assert_description(f->r, changed.id, "second");
	assert_description(f->r, removed.id, "");
	assert_description(f->r, never.id, "");
	assert_description(f->r, OLD_ID, "kept from version 2");
	assert_projection_is_replay(f->w, f->r, set.id);
	assert_projection_is_replay(f->w, f->r, changed.id);
	assert_projection_is_replay(f->w, f->r, removed.id);
	assert_projection_is_replay(f->w, f->r, never.id);
	assert_projection_is_replay(f->w, f->r, OLD_ID);
	assert_verify_clean();

	/* A description at the longest, 500 four-byte code points. */
	{
		char longest[CIRCLE_DESCRIPTION_MAX_BYTES + 1];

		for (int i = 0; i < CIRCLE_DESCRIPTION_MAX_CHARS; i++)
			memcpy(&longest[4 * i], "\xf0\x9f\x8e\xb2", 4);
		longest[CIRCLE_DESCRIPTION_MAX_BYTES] = '\0';
		assert_int_equal(append_description(f->w, &never, longest), CE_OK);
		raw_exec(adm, "UPDATE circle_projections SET description = ''");
		assert_int_equal(rebuild(err, sizeof(err)), 0);
		assert_description(f->r, never.id, longest);
		assert_description(f->r, changed.id, "second");
		assert_verify_clean();
	}
	mysql_close(adm);
}

/* Polls until the shadow table of a running rebuild holds rows; false after
 * `seconds`. */
static bool
wait_shadow_rows(int seconds)
{
	MYSQL *adm = raw_connect(ADM_GROUP);
	time_t end = time(NULL) + seconds;
	bool seen = false;

	assert_non_null(adm);
	while (!seen && time(NULL) <= end) {
		if (raw_count(adm, SHADOW_EXISTS) > 0 &&
		    mysql_query(adm, "SELECT COUNT(*) FROM circle_projections_rebuild") == 0) {
			MYSQL_RES *res = mysql_store_result(adm);
			MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;

			seen = row && row[0] && atoll(row[0]) > 0;
			if (res)
				mysql_free_result(res);
		}
		if (!seen)
			usleep(2000);
	}
	mysql_close(adm);
	return seen;
}

/* Starts a rebuild in the background, its output to /dev/null. */
static pid_t
spawn_rebuild(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		setenv("CIRCLE_ADMIN_CONFIG", getenv("CIRCLE_DB_CONFIG"), 1);
		execl(circlectl_path(), circlectl_path(), "rebuild-projections", "--group",
		      ADM_GROUP, "--database", test_database(), (char *)NULL);
		_exit(127);
	}
	return pid;
}

/*
 * A rebuild killed half-way (kill -9, and SIGTERM) leaves the live table as
 * it was; the next run drops what the killed one left and is right.
 */
static void
test_rebuild_killed(void **state)
{
	struct fixture *f = *state;
	struct circle a;
	struct circle_event ev;
	MYSQL *adm = raw_connect(ADM_GROUP);
	char err[4096];
	pid_t pid;
	int status;

	assert_non_null(adm);
	/* A log long enough to be caught in the middle of its fold. */
	generate_events(adm, 1, 60001, "0000000a0001");
	assert_int_equal(create(f->w, &a, "kept", 10), CE_OK);
	ev = make_event(CIRCLE_UPDATED, a.id, 2, NULL, 12);
	assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 1);

	pid = spawn_rebuild();
	if (!wait_shadow_rows(60)) {
		kill(pid, SIGKILL);
		wait_exit(pid);
		fail_msg("the rebuild never started to fill its table");
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(wait_exit(pid), 128 + SIGKILL);
	/* The live table as it was: only the circle appended through the
	 * store; the killed run's table left behind. */
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 1);
	assert_projection_is_replay(f->w, f->r, a.id);
	assert_true(admin_count(SHADOW_EXISTS) > 0);

	/* The next run drops it and is right. */
	assert_int_equal(rebuild(err, sizeof(err)), 0);
	assert_non_null(strstr(err, "dropped the tables an interrupted rebuild left"));
	assert_int_equal(admin_count(SHADOW_EXISTS), 0);
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 60001);
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections WHERE capacity = 40"
				     " AND name LIKE 'renamed %'"),
			 60000);

	/* SIGTERM: it stops between two batches and cleans up after itself. */
	ev = make_event(CIRCLE_UPDATED, a.id, 3, NULL, 13);
	assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	pid = spawn_rebuild();
	if (!wait_shadow_rows(60)) {
		kill(pid, SIGKILL);
		wait_exit(pid);
		fail_msg("the second rebuild never started to fill its table");
	}
	assert_int_equal(kill(pid, SIGTERM), 0);
	status = wait_exit(pid);
	/* 1: interrupted; 0 only when it had already got to the swap */
	assert_true(status == 1 || status == 0);
	assert_int_equal(admin_count(SHADOW_EXISTS), 0);
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 60001);
	assert_projection_is_replay(f->w, f->r, a.id);
	assert_verify_clean();
	mysql_close(adm);
}

/*
 * Circles with descriptions, already in the log when a rebuild's fold
 * reads it, each changed once while the fold runs: the catch-up reads their
 * rows back from the new table and must keep their descriptions.
 */
static void
test_rebuild_catch_up_descriptions(void **state)
{
	struct fixture *f = *state;
	enum { QUIET = 200 };
	struct circle *quiet = calloc(QUIET, sizeof(*quiet));
	MYSQL *adm = raw_connect(ADM_GROUP);
	pid_t pid;

	assert_non_null(quiet);
	assert_non_null(adm);
	generate_events(adm, 1, 60001, "0000000c0001");
	for (int i = 0; i < QUIET; i++) {
		char name[64];

		snprintf(name, sizeof(name), "quiet %d", i);
		assert_int_equal(create_described(f->w, &quiet[i], name, 10, name), CE_OK);
	}
	pid = spawn_rebuild();
	if (!wait_shadow_rows(60)) {
		kill(pid, SIGKILL);
		wait_exit(pid);
		fail_msg("the rebuild never started to fill its table");
	}
	for (int i = 0; i < QUIET; i++) {
		struct circle_event ev = make_event(CIRCLE_UPDATED, quiet[i].id, 2, NULL, 11);

		assert_int_equal(append_ev(f->w, &quiet[i], &ev, NULL), CE_OK);
	}
	/* Every change was made before the swap, so the catch-up applied it. */
	assert_int_equal(admin_count("SELECT COUNT(*) FROM information_schema.TABLES"
				     " WHERE TABLE_SCHEMA = DATABASE()"
				     " AND TABLE_NAME = 'circle_projections_rebuild'"),
			 1);
	assert_int_equal(wait_exit(pid), 0);
	for (int i = 0; i < QUIET; i++) {
		char name[64];

		snprintf(name, sizeof(name), "quiet %d", i);
		assert_description(f->r, quiet[i].id, name);
		assert_projection_is_replay(f->w, f->r, quiet[i].id);
	}
	assert_verify_clean();
	free(quiet);
	mysql_close(adm);
}

/* Appends to its own circles while a rebuild runs, and creates new ones;
 * every append it was told committed is counted. */
struct rebuild_writer {
	struct store *w;
	struct circle c[4];
	atomic_int *stop;
	atomic_uint acked;
	enum cerr failed;
};

static void *
rebuild_writer_thread(void *arg)
{
	struct rebuild_writer *wr = arg;
	unsigned i = 0;

	while (!atomic_load(wr->stop) && atomic_load(&wr->acked) < 100000) {
		struct circle *c = &wr->c[i++ % 4];
		enum cerr rc;

		/* Below 1000 versions, what assert_projection_is_replay() reads
		 * of a history; then creates only. */
		if (c->version < 990) {
			struct circle_event ev = make_event(CIRCLE_UPDATED, c->id, c->version + 1,
							    NULL, c->capacity == 100 ? 101 : 100);
			/* Now and then a new description: the catch-up rounds
			 * read the others back from the new table and write
			 * them again, and must not lose them. */
			if (ev.version % 7 == 0) {
				char d[64];

				snprintf(d, sizeof(d), "written as version %u",
					 (unsigned)ev.version);
				describe(&ev, d);
			}
			rc = append_ev(wr->w, c, &ev, NULL);
		} else {
			char id[CIRCLE_ID_LEN + 1];
			struct circle fresh;

			new_id(id);
			rc = create(wr->w, &fresh, id, 50);
		}
		if (rc == CE_OK)
			atomic_fetch_add(&wr->acked, 1);
		else if (wr->failed == CE_OK)
			wr->failed = rc;
	}
	return NULL;
}

/* Numbers events like the workers' sequencer threads do. */
struct rebuild_sequencer {
	atomic_int *stop;
	enum cerr failed;
};

static void *
rebuild_sequencer_thread(void *arg)
{
	struct rebuild_sequencer *sq = arg;
	struct store *seq = open_store(CMD_GROUP, STORE_SEQUENCER);
	struct store *pk = open_store(CMD_GROUP, STORE_PEEK);

	while (!atomic_load(sq->stop)) {
		size_t n = 0;
		enum cerr rc = store_sequence_pass(seq, pk, STORE_FEED_BATCH, &n);

		if (rc != CE_OK && sq->failed == CE_OK)
			sq->failed = rc;
		if (n < STORE_FEED_BATCH)
			usleep(5000);
	}
	store_free(seq);
	store_free(pk);
	return NULL;
}

/*
 * Rebuilds while two writers append and a sequencer numbers: no append is
 * refused because of the rebuild, and afterwards every circle's row is the
 * replay of its events, the last acknowledged version of each included.
 */
static void
test_rebuild_while_appending(void **state)
{
	struct fixture *f = *state;
	struct rebuild_writer wr[2];
	struct rebuild_sequencer sq = {0};
	unsigned before[2];
	pthread_t wt[2], st;
	atomic_int stop = 0;
	MYSQL *adm = raw_connect(ADM_GROUP);
	char err[4096];

	(void)f;
	assert_non_null(adm);
	generate_events(adm, 1, 30001, "0000000b0001");
	sq.stop = &stop;
	assert_int_equal(pthread_create(&st, NULL, rebuild_sequencer_thread, &sq), 0);
	for (int t = 0; t < 2; t++) {
		memset(&wr[t], 0, sizeof(wr[t]));
		wr[t].w = open_store(CMD_GROUP, STORE_WRITE);
		wr[t].stop = &stop;
		for (int i = 0; i < 4; i++) {
			char name[64];

			snprintf(name, sizeof(name), "writer %d circle %d", t, i);
			assert_int_equal(create_described(wr[t].w, &wr[t].c[i], name, 100, name),
					 CE_OK);
		}
		assert_int_equal(pthread_create(&wt[t], NULL, rebuild_writer_thread, &wr[t]), 0);
	}
	usleep(200 * 1000);
	for (int t = 0; t < 2; t++)
		before[t] = atomic_load(&wr[t].acked);
	for (int round = 0; round < 3; round++)
		assert_int_equal(rebuild(err, sizeof(err)), 0);
	/* The writers were at work all along. */
	for (int t = 0; t < 2; t++)
		assert_true(atomic_load(&wr[t].acked) > before[t]);
	usleep(200 * 1000);
	atomic_store(&stop, 1);
	for (int t = 0; t < 2; t++)
		pthread_join(wt[t], NULL);
	pthread_join(st, NULL);
	assert_int_equal(sq.failed, CE_OK);
	for (int t = 0; t < 2; t++) {
		fprintf(stderr, "    writer %d: %u appends acknowledged, %u before the rebuilds\n",
			t, atomic_load(&wr[t].acked), before[t]);
		assert_int_equal(wr[t].failed, CE_OK);
		for (int i = 0; i < 4; i++) {
			struct circle_reader rd;
			struct circle got;

			store_circle_reader(f->r, &rd);
			assert_int_equal(rd.get(rd.self, wr[t].c[i].id, &got), CE_OK);
			assert_int_equal(got.version, wr[t].c[i].version);
			assert_int_equal(got.capacity, wr[t].c[i].capacity);
			assert_string_equal(got.description, wr[t].c[i].description);
			assert_projection_is_replay(wr[t].w, f->r, wr[t].c[i].id);
		}
		store_free(wr[t].w);
	}
	assert_verify_clean();
	mysql_close(adm);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Empties what the tests' setup empties, as an administrator. */
static void
empty_database(void)
{
	MYSQL *adm = raw_connect(ADM_GROUP);

	assert_non_null(adm);
	raw_exec(adm, "DELETE FROM idempotency_keys");
	raw_exec(adm, "DELETE FROM circle_snapshots");
	raw_exec(adm, "DELETE FROM circle_projections");
	raw_exec(adm, "DELETE FROM circle_events");
	mysql_close(adm);
}

static int
ctl_import_file(const char *path, char *err, size_t err_size)
{
	const char *args[] = {"import",        path, "--group", ADM_GROUP, "--database",
			      test_database(), NULL};

	return run_ctl(args, NULL, NULL, err, err_size);
}

/*
 * export -> import into an empty database -> export gives the same bytes:
 * positions, feed positions (numbered or not), schema versions (1, from the
 * migration level before descriptions, and 2, with descriptions set,
 * changed and removed), times and payloads; the feed's counter follows;
 * the projection and the snapshots are rebuilt with their descriptions and
 * verify finds nothing. An import into a database that is not empty is
 * refused and changes nothing.
 */
static void
test_export_import(void **state)
{
	struct fixture *f = *state;
	struct store *seq = open_store(CMD_GROUP, STORE_SEQUENCER);
	const char *export_args[] = {"export", NULL};
	const char *after_args[] = {"export", "--after", "0", NULL};
	char first[] = "/tmp/circle-test-export1-XXXXXX",
	     second[] = "/tmp/circle-test-export2-XXXXXX";
	char err[4096], after_pos[32];
	struct circle a, b, c;
	struct circle_event ev;
	size_t len1, len2;
	char *one, *two, *line;
	long long counter;

	assert_non_null(seq);
	close(mkstemp(first));
	close(mkstemp(second));
	{
		MYSQL *cmd = raw_connect(CMD_GROUP);

		assert_non_null(cmd);
		insert_old_events(cmd); /* schema version 1 */
		mysql_close(cmd);
	}
	assert_int_equal(create(f->w, &a, "Ünïcödé \"quoted\" \\ back/slash ✓", 10), CE_OK);
	for (int i = 0; i < 11; i++) {
		ev = make_event(CIRCLE_UPDATED, a.id, a.version + 1, NULL, 11 + i);
		/* set at version 4, changed at 8: the snapshot at 10 has it */
		if (a.version == 3 || a.version == 7)
			describe(&ev, a.version == 3 ? "Ünï \"desc\" \\ a/b ✓"
						     : "line\u2028separated, \\u0041 as text");
		assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	}
	assert_int_equal(create_described(f->w, &b, "deleted later", 20, "briefly"), CE_OK);
	assert_int_equal(append_description(f->w, &b, ""), CE_OK);
	ev = make_event(CIRCLE_DELETED, b.id, 3, NULL, 0);
	assert_int_equal(append_ev(f->w, &b, &ev, NULL), CE_OK);
	while (pass(seq) > 0)
		;
	/* the last one is not numbered yet: its feed_position stays null */
	assert_int_equal(create_described(f->w, &c, "not numbered", 30, "   "), CE_OK);
	counter = admin_count("SELECT last_position FROM circle_feed_sequence");

	assert_int_equal(run_ctl(export_args, NULL, first, err, sizeof(err)), 0);
	one = slurp(first, &len1);
	assert_non_null(strstr(one, "\"feed_position\":null"));
	assert_non_null(strstr(one, "\"schema_version\":1"));
	assert_non_null(strstr(one, "\"schema_version\":2"));
	/* the payload is a JSON string holding the stored text */
	assert_non_null(strstr(one, "\\\"description\\\":\\\"briefly\\\""));
	assert_int_equal(strchr(one, '\n') - one > 0, 1);
	/* --after: the lines after the first one's position */
	assert_int_equal(sscanf(one, "{\"position\":%31[0-9],", after_pos), 1);
	after_args[2] = after_pos;
	assert_int_equal(run_ctl(after_args, NULL, second, err, sizeof(err)), 0);
	two = slurp(second, &len2);
	line = strchr(one, '\n') + 1;
	assert_int_equal(len2, len1 - (size_t)(line - one));
	assert_memory_equal(two, line, len2);
	free(two);

	/* Not empty: refused, nothing changes. */
	assert_int_equal(ctl_import_file(first, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "not empty"));
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_events"), 19);

	empty_database();
	assert_int_equal(ctl_import_file(first, err, sizeof(err)), 0);
	assert_int_equal(run_ctl(export_args, NULL, second, err, sizeof(err)), 0);
	two = slurp(second, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(one, two, len1);
	assert_int_equal(admin_count("SELECT last_position FROM circle_feed_sequence"), counter);
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 4);
	assert_projection_is_replay(f->w, f->r, a.id);
	assert_projection_is_replay(f->w, f->r, b.id);
	assert_projection_is_replay(f->w, f->r, c.id);
	assert_projection_is_replay(f->w, f->r, OLD_ID);
	assert_description(f->r, a.id, "line\u2028separated, \\u0041 as text");
	assert_description(f->r, b.id, "");
	assert_description(f->r, c.id, "   ");
	assert_description(f->r, OLD_ID, "");
	/* the snapshot import wrote at a's version 10 keeps its description */
	{
		char sql[256];

		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM circle_snapshots WHERE circle_id = '%s'"
			 " AND version = 10 AND description = 'line\u2028separated, \\\\u0041 as"
			 " text'",
			 a.id);
		assert_int_equal(admin_count(sql), 1);
	}
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_events WHERE schema_version = 1"),
			 3);
	assert_verify_clean();
	/* The imported log goes on: an append after it, numbered after it. */
	ev = make_event(CIRCLE_UPDATED, c.id, 2, NULL, 31);
	assert_int_equal(append_ev(f->w, &c, &ev, NULL), CE_OK);
	while (pass(seq) > 0)
		;
	{
		char sql[128];

		/* c's two events, numbered after everything imported */
		snprintf(sql, sizeof(sql),
			 "SELECT COUNT(*) FROM circle_events WHERE feed_position > %lld", counter);
		assert_int_equal(admin_count(sql), 2);
	}
	free(one);
	free(two);
	unlink(first);
	unlink(second);
	store_free(seq);
}

/* Hostile files: each is refused with its line number, and the database
 * stays empty. */
static void
test_import_refuses(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/circle-test-import-XXXXXX", err[4096], *good, *later;
	const char *export_args[] = {"export", NULL};
	struct circle a;
	struct circle_event ev;
	size_t len;
	char *nl;
	static const struct {
		const char *line; /* the second line of the file */
		const char *why;
	} bad[] = {
		{"{\"position\":99", "line 2: not one JSON value"},
		{"[1,2]", "line 2: not a JSON object"},
		{"", "line 2: an empty line"},
		{"{\"position\":9000000000000000000,\"feed_position\":null,\"schema_version\":1,"
		 "\"event_id\":"
		 "\"00000000-0000-4000-8000-000000000002\",\"circle_id\":"
		 "\"00000000-0000-4000-8000-000000000001\",\"version\":1,\"event_type\":"
		 "\"circle_created\",\"occurred_at\":\"2026-11-26T08:35:48.123456Z\",\"payload\":"
		 "\"{\\\"type\\\":\\\"circle_created\\\",\\\"name\\\":\\\"x\\\",\\\"capacity\\\":2}"
		 "\"}",
		 "line 2: "},
		{"{\"position\":9000000000000000000,\"feed_position\":null,\"schema_version\":7,"
		 "\"event_id\":"
		 "\"00000000-0000-4000-8000-000000000002\",\"circle_id\":"
		 "\"00000000-0000-4000-8000-000000000001\",\"version\":1,\"event_type\":"
		 "\"circle_created\",\"occurred_at\":\"2026-11-26T08:35:48.123456Z\",\"payload\":"
		 "\"{\\\"type\\\":\\\"circle_created\\\",\\\"name\\\":\\\"x\\\",\\\"capacity\\\":9}"
		 "\"}",
		 "schema version 7"},
		{"{\"position\":9000000000000000000,\"feed_position\":null,\"schema_version\":1,"
		 "\"event_id\":"
		 "\"00000000-0000-4000-8000-000000000002\",\"circle_id\":"
		 "\"00000000-0000-4000-8000-000000000001\",\"version\":1,\"event_type\":"
		 "\"circle_created\",\"occurred_at\":\"yesterday\",\"payload\":"
		 "\"{\\\"type\\\":\\\"circle_created\\\",\\\"name\\\":\\\"x\\\",\\\"capacity\\\":9}"
		 "\"}",
		 "line 2: occurred_at"},
		{"{\"position\":9000000000000000000,\"feed_position\":null,\"schema_version\":3,"
		 "\"event_id\":"
		 "\"00000000-0000-4000-8000-000000000002\",\"circle_id\":"
		 "\"00000000-0000-4000-8000-000000000001\",\"version\":1,\"event_type\":"
		 "\"circle_created\",\"occurred_at\":\"2026-11-26T08:35:48.123456Z\",\"payload\":"
		 "\"{\\\"type\\\":\\\"circle_created\\\",\\\"name\\\":\\\"x\\\",\\\"capacity\\\":9,"
		 "\\\"description\\\":\\\"y\\\"}\"}",
		 "line 2: event 00000000-0000-4000-8000-000000000001 version 1 (circle_created,"
		 " schema version 3): schema version 3 is not one this build reads"},
		{"{\"position\":9000000000000000000,\"feed_position\":null,\"schema_version\":1,"
		 "\"event_id\":"
		 "\"00000000-0000-4000-8000-000000000002\",\"circle_id\":"
		 "\"00000000-0000-4000-8000-000000000001\",\"version\":1,\"event_type\":"
		 "\"circle_created\",\"occurred_at\":\"2026-11-26T08:35:48.123456Z\",\"payload\":"
		 "\"{\\\"type\\\":\\\"circle_created\\\",\\\"name\\\":\\\"x\\\",\\\"capacity\\\":9,"
		 "\\\"description\\\":\\\"y\\\"}\"}",
		 "line 2: event 00000000-0000-4000-8000-000000000001 version 1 (circle_created,"
		 " schema version 1): the payload does not have the shape"},
		{"{\"position\":9000000000000000000,\"feed_position\":null,\"schema_version\":2,"
		 "\"event_id\":"
		 "\"00000000-0000-4000-8000-000000000002\",\"circle_id\":"
		 "\"00000000-0000-4000-8000-000000000001\",\"version\":1,\"event_type\":"
		 "\"circle_created\",\"occurred_at\":\"2026-11-26T08:35:48.123456Z\",\"payload\":"
		 "\"{\\\"type\\\":\\\"circle_created\\\",\\\"name\\\":\\\"x\\\",\\\"capacity\\\":9,"
		 "\\\"description\\\":\\\"\\\"}\"}",
		 "line 2: event 00000000-0000-4000-8000-000000000001 version 1 (circle_created,"
		 " schema version 2): the payload does not have the shape"},
		{"{\"position\":1,\"extra\":2}", "line 2: not exactly the members"},
	};

	/* One good line, from an export. */
	assert_int_equal(create(f->w, &a, "good", 10), CE_OK);
	ev = make_event(CIRCLE_UPDATED, a.id, 2, NULL, 11);
	assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	close(mkstemp(path));
	assert_int_equal(run_ctl(export_args, NULL, path, err, sizeof(err)), 0);
	good = slurp(path, &len);
	nl = strchr(good, '\n');
	assert_non_null(nl);
	later = strdup(nl + 1); /* the update, version 2 */
	assert_non_null(later);
	nl[1] = '\0';
	empty_database();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = malloc(strlen(good) + strlen(bad[i].line) + 2);

		assert_non_null(text);
		sprintf(text, "%s%s\n", good, bad[i].line);
		write_text(path, text);
		free(text);
		assert_int_equal(ctl_import_file(path, err, sizeof(err)), 1);
		if (!strstr(err, bad[i].why))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, bad[i].why);
		assert_non_null(strstr(err, "nothing was imported"));
		assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_events"), 0);
		assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 0);
	}
	/* A log that does not fold (version 2 without version 1): refused
	 * after loading, and taken out again. */
	write_text(path, later);
	assert_int_equal(ctl_import_file(path, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "cannot follow"));
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_events"), 0);
	assert_int_equal(admin_count("SELECT COUNT(*) FROM circle_projections"), 0);
	free(good);
	free(later);
	unlink(path);
}

/* circlectl show: the row and the history, readable, a description where
 * there is one; an unknown id is 1. */
static void
test_show(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/circle-test-show-XXXXXX", err[4096], unknown[CIRCLE_ID_LEN + 1];
	const char *args[] = {"show", NULL, NULL};
	struct circle a;
	struct circle_event ev;
	size_t len;
	char *out;

	close(mkstemp(path));
	assert_int_equal(create(f->w, &a, "football", 20), CE_OK);
	ev = make_event(CIRCLE_UPDATED, a.id, 2, "baseball", 40);
	assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	args[1] = a.id;
	assert_int_equal(run_ctl(args, NULL, path, err, sizeof(err)), 0);
	out = slurp(path, &len);
	fprintf(stderr, "%s", out);
	assert_non_null(strstr(out, "state     live"));
	assert_non_null(strstr(out, "name      \"baseball\""));
	assert_non_null(strstr(out, "capacity  40"));
	assert_non_null(strstr(out, "circle_created  name \"football\", capacity 20"));
	assert_non_null(strstr(out, "circle_updated  name \"baseball\", capacity 40"));
	assert_non_null(strstr(out, "2 events"));
	/* no description, no line for it */
	assert_null(strstr(out, "description"));
	free(out);

	/* A description set at the create, changed, then removed. */
	assert_int_equal(create_described(f->w, &a, "chess", 8, "Mondays \"at 7\""), CE_OK);
	args[1] = a.id;
	assert_int_equal(run_ctl(args, NULL, path, err, sizeof(err)), 0);
	out = slurp(path, &len);
	assert_non_null(strstr(out, "\n  description \"Mondays \"at 7\"\"\n"));
	assert_non_null(strstr(out,
			       "circle_created  name \"chess\", capacity 8, description \"Mondays "
			       "\"at 7\"\"\n"));
	free(out);
	assert_int_equal(append_description(f->w, &a, "Tuesdays"), CE_OK);
	ev = make_event(CIRCLE_UPDATED, a.id, 3, NULL, 9);
	describe(&ev, "");
	assert_int_equal(append_ev(f->w, &a, &ev, NULL), CE_OK);
	assert_int_equal(run_ctl(args, NULL, path, err, sizeof(err)), 0);
	out = slurp(path, &len);
	fprintf(stderr, "%s", out);
	/* the state has no description line any more */
	assert_null(strstr(out, "\n  description "));
	assert_non_null(strstr(out, "circle_updated  description \"Tuesdays\"\n"));
	assert_non_null(strstr(out, "circle_updated  capacity 9, description removed\n"));
	assert_non_null(strstr(out, "3 events"));
	free(out);
	new_id(unknown);
	args[1] = unknown;
	assert_int_equal(run_ctl(args, NULL, path, err, sizeof(err)), 1);
	args[1] = "not-an-id";
	assert_int_equal(run_ctl(args, NULL, path, err, sizeof(err)), 2);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_update_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_current_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_current_description, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_append_changes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_name_clashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_japanese_server_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consistent_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadlock_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_wait_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_out_of_order_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_concurrent, setup, teardown),
		cmocka_unit_test(test_sequencer_pace),
		cmocka_unit_test_setup_teardown(test_feed_without_sequencer, setup, teardown),
		cmocka_unit_test(test_feed_sequencer_setting),
		cmocka_unit_test_setup_teardown(test_feed_privileges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_circlectl_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_projections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_refuses_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_descriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_while_appending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_catch_up_descriptions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_export_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
	};

	{
		char warm[CIRCLE_ID_LEN + 1];

		new_id(warm); /* fixes the seed before any thread runs */
	}
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
