/*
 * Retrying writes safely, end to end through nginx: a client that got 503
 * (or nothing) retries with the same Idempotency-Key and learns the outcome,
 * and nothing is ever applied twice or behind a client's back.
 *
 *   - a write whose COMMIT got no answer in time (the server holds every
 *     commit back, BACKUP STAGE BLOCK_COMMIT, past the worker's read
 *     timeout): 503; the retry with its key answers the outcome, and the
 *     write is applied exactly once;
 *   - the database paused with SIGSTOP past the worker's read timeout while
 *     clients write under keys: every 503 comes from a worker in its time
 *     budget (none from nginx giving up), every retry learns its outcome,
 *     each circle ends with exactly the writes its client was told of;
 *   - the answer to a COMMIT lost (the server paused after it took the
 *     COMMIT, the worker gave up on its answer): 503, and the retry with
 *     its key answers the committed write's answer, nothing appended again;
 *   - requests queued behind busy workers whose clients left before a
 *     worker was free are never executed, and requests that waited past
 *     their time budget are answered 503 without being started.
 *
 * Environment: see rel.h; CIRCLE_DB_ADMIN_CONFIG names an option file whose
 * [client] group connects as a MariaDB administrator (./dev's var/my.cnf),
 * for BACKUP STAGE and for watching the workers' sessions in the server's
 * process list. Without it (or without CIRCLE_RUN_DIR, for MariaDB's pid)
 * the tests that need it are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsession.h"
#include "rel.h"

#define CT_JSON "Content-Type: application/json"
/* the command worker's read timeout (STORE_STATEMENT_MAX_MS) */
#define STATEMENT_MAX_MS 4000
/* the command worker's session max_statement_time */
#define SERVER_STATEMENT_MAX_MS 3000
/* the worker answers within its budget (HTTP_REQUEST_BUDGET_MS, 10 s) plus
 * what it takes to write the answer; nginx would give up at 15 s */
#define WORKER_ANSWER_BOUND_MS 12000
#define PAUSE_MS 6000
#define PAUSE_CLIENTS 4
#define BACKLOG_REQUESTS 6

static pid_t paused_db = -1;
static pid_t paused_workers[64];
static size_t npaused_workers;
static MYSQL *admin;
static struct dbs *lock;

static void
resume_db(void)
{
	if (paused_db > 0) {
		kill(paused_db, SIGCONT);
		paused_db = -1;
	}
}

static void
resume_workers(void)
{
	for (size_t i = 0; i < npaused_workers; i++)
		kill(paused_workers[i], SIGCONT);
	npaused_workers = 0;
}

static int
teardown(void **state)
{
	(void)state;
	resume_workers();
	resume_db();
	if (admin != NULL) {
		(void)mysql_query(admin, "BACKUP STAGE END");
		mysql_close(admin);
		admin = NULL;
	}
	if (lock != NULL) {
		char why[256];

		(void)dbs_rollback(lock, why, sizeof(why));
		dbs_close(lock);
		lock = NULL;
	}
	return 0;
}

/* Connects the administrator's session of option file cfg into admin. */
static void
admin_connect(const char *cfg)
{
	admin = mysql_init(NULL);
	assert_non_null(admin);
	mysql_optionsv(admin, MYSQL_READ_DEFAULT_FILE, cfg);
	mysql_optionsv(admin, MYSQL_READ_DEFAULT_GROUP, "client");
	if (!mysql_real_connect(admin, NULL, NULL, NULL, NULL, 0, NULL, 0))
		fail_msg("admin session: %s", mysql_error(admin));
}

/*
 * Runs sql on the admin session and copies the first row's first ncols
 * columns into out[] (NULL columns as ""). 1 when there was a row, 0 when
 * there was none; a failing query fails the test.
 */
static int
admin_row(const char *sql, char out[][80], unsigned ncols)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int found = 0;

	if (mysql_query(admin, sql))
		fail_msg("%s: %s", sql, mysql_error(admin));
	res = mysql_store_result(admin);
	if (res == NULL)
		fail_msg("%s: no result: %s", sql, mysql_error(admin));
	assert_true(mysql_num_fields(res) >= ncols);
	row = mysql_fetch_row(res);
	if (row != NULL) {
		for (unsigned i = 0; i < ncols; i++)
			snprintf(out[i], 80, "%s", row[i] ? row[i] : "");
		found = 1;
	}
	mysql_free_result(res);
	return found;
}

/* Creates a circle through the API at version 1 into id. */
static void
create_circle(const char *prefix, char id[REL_ID_LEN + 1])
{
	const char *h[] = {CT_JSON, NULL};
	char *name = rel_unique(prefix), *body;
	struct http_response r;
	json_object *o;

	body = rel_strf("{\"circle_name\":\"%s\",\"capacity\":10}", name);
	rel_expect_answer(&r, "POST", "/circle", h, body, strlen(body));
	if (r.status != 201)
		fail_msg("POST /circle answered %d: %.300s", r.status, r.body);
	o = rel_body_json(&r);
	assert_non_null(o);
	snprintf(id, REL_ID_LEN + 1, "%s", rel_jstr(o, "circle_id"));
	json_object_put(o);
	http_response_free(&r);
	free(body);
	free(name);
}

/* The circle's version through the API, -1 when it cannot be read. */
static int64_t
circle_version(const char *id)
{
	char *path = rel_strf("/circle/%s", id);
	struct http_response r;
	int64_t v = -1;

	if (rel_request(&r, "GET", path, NULL, NULL, 0, 0, NULL) == 0) {
		json_object *o = r.status == 200 ? rel_body_json(&r) : NULL;

		if (o == NULL || rel_jint(o, "version", &v) != 0)
			v = -1;
		json_object_put(o);
		http_response_free(&r);
	}
	free(path);
	return v;
}

/* Far more pages than any circle here has (1000 events each). */
#define HISTORY_PAGES_MAX 1000

/*
 * How many events the circle's history holds, every page of it read along
 * next_after (a page holds at most 1000); -1 when a page cannot be read or
 * next_after does not move forward.
 */
static int
event_count(const char *id)
{
	int64_t after = 0;
	int n = 0, page;

	for (page = 0; page < HISTORY_PAGES_MAX; page++) {
		char *path = rel_strf("/circle/%s/events?after=%lld", id, (long long)after);
		struct http_response r;
		json_object *o = NULL, *ev = NULL, *next = NULL;
		int rc = rel_request(&r, "GET", path, NULL, NULL, 0, 0, NULL);
		int done = 0;

		free(path);
		if (rc != 0)
			return -1;
		o = r.status == 200 ? rel_body_json(&r) : NULL;
		http_response_free(&r);
		if (o == NULL || !json_object_object_get_ex(o, "events", &ev) ||
		    !json_object_is_type(ev, json_type_array)) {
			json_object_put(o);
			return -1;
		}
		n += (int)json_object_array_length(ev);
		if (!json_object_object_get_ex(o, "next_after", &next) || next == NULL)
			done = 1;
		else if (json_object_is_type(next, json_type_int) &&
			 json_object_get_int64(next) > after)
			after = json_object_get_int64(next);
		else
			done = -1;
		json_object_put(o);
		if (done != 0)
			return done > 0 ? n : -1;
	}
	return -1;
}

/* A keyed PUT of capacity at version; the answer in *r, its time in *ms. */
static int
keyed_put(struct http_response *r, const char *id, const char *key, int capacity, int64_t version,
	  int timeout_ms, long long *ms)
{
	char *path = rel_strf("/circle/%s", id);
	char *kh = rel_strf("Idempotency-Key: %s", key);
	char *body = rel_strf("{\"capacity\":%d,\"version\":%lld}", capacity, (long long)version);
	const char *h[] = {CT_JSON, kh, NULL};
	int rc = rel_request(r, "PUT", path, h, body, strlen(body), timeout_ms, ms);

	free(body);
	free(kh);
	free(path);
	return rc;
}

/* A 503 the worker wrote (problem+json naming the database), not nginx's. */
static int
worker_503(const struct http_response *r)
{
	return rel_is_problem(r, 503, "service_unavailable") && r->body != NULL &&
	       strstr(r->body, "database") != NULL && http_header(r, "Retry-After") != NULL;
}

static void
test_commit_unanswered(void **state)
{
	const char *cfg = getenv("CIRCLE_DB_ADMIN_CONFIG");
	char id[REL_ID_LEN + 1], *key;
	struct http_response r, again;
	long long ms;
	int64_t v_before_retry;

	(void)state;
	if (cfg == NULL || *cfg == '\0')
		skip();
	create_circle("retry-commit-", id);
	key = rel_unique("commit-");
	admin_connect(cfg);
	/* every COMMIT now waits, with its transaction's work all done */
	if (mysql_query(admin, "BACKUP STAGE START") ||
	    mysql_query(admin, "BACKUP STAGE BLOCK_COMMIT"))
		fail_msg("BACKUP STAGE: %s", mysql_error(admin));

	assert_int_equal(keyed_put(&r, id, key, 11, 1, 20000, &ms), 0);
	printf("  PUT with its COMMIT held back: %d after %lld ms: %.200s\n", r.status, ms, r.body);
	if (!worker_503(&r))
		fail_msg("a write whose COMMIT went unanswered got %d: %.300s", r.status, r.body);
	/* the server stops the waiting COMMIT (max_statement_time, 3 s) or the
	 * worker stops waiting for it (its read timeout) */
	if (ms < SERVER_STATEMENT_MAX_MS - 500 || ms > STATEMENT_MAX_MS + 1000)
		fail_msg("the 503 came after %lld ms, not after the statement time limits", ms);
	http_response_free(&r);

	if (mysql_query(admin, "BACKUP STAGE END"))
		fail_msg("BACKUP STAGE END: %s", mysql_error(admin));
	mysql_close(admin);
	admin = NULL;

	/* whichever way the server settled the held COMMIT, the retry tells */
	v_before_retry = circle_version(id);
	printf("  after the release the circle is at version %lld (%s)\n",
	       (long long)v_before_retry,
	       v_before_retry == 2 ? "the COMMIT went through" : "the COMMIT was rolled back");
	assert_true(v_before_retry == 1 || v_before_retry == 2);
	assert_int_equal(keyed_put(&r, id, key, 11, 1, 20000, &ms), 0);
	if (r.status != 200 || http_header(&r, "ETag") == NULL ||
	    strcmp(http_header(&r, "ETag"), "\"2\"") != 0)
		fail_msg("the retry answered %d: %.300s", r.status, r.body);
	assert_int_equal(keyed_put(&again, id, key, 11, 1, 20000, &ms), 0);
	assert_int_equal(again.status, 200);
	assert_string_equal(again.body, r.body);
	http_response_free(&again);
	http_response_free(&r);
	assert_int_equal(circle_version(id), 2);
	assert_int_equal(event_count(id), 2);
	free(key);
	rel_assert_verify_clean();
}

/* Runs a keyed PUT in a thread of its own. */
struct put_call {
	const char *id, *key;
	int capacity;
	int64_t version;
	struct http_response r;
	int rc;
	long long ms;
};

static void *
put_main(void *arg)
{
	struct put_call *c = arg;

	c->rc = keyed_put(&c->r, c->id, c->key, c->capacity, c->version, 20000, &c->ms);
	return NULL;
}

/* How long the test waits for the server to reach a state it watches for. */
#define WATCH_MS 10000

/*
 * The server's thread id of the session running the projection UPDATE (the
 * row is locked, so it waits there), polled from the admin session's view
 * of the process list until there is one; 0 when none came within WATCH_MS.
 * The process list, not INNODB_TRX: the server refreshes the latter's cache
 * only once it has not been read for 100 ms, so a close poll sees it stale.
 */
static unsigned long long
wait_for_lock_waiter(void)
{
	static const char sql[] = "SELECT ID FROM information_schema.PROCESSLIST"
				  " WHERE COMMAND = 'Execute'"
				  " AND INFO LIKE 'UPDATE circle_projections%'";
	long long until = rel_now_ms() + WATCH_MS;
	char row[1][80];

	do {
		if (admin_row(sql, row, 1))
			return strtoull(row[0], NULL, 10);
		rel_sleep_ms(10);
	} while (rel_now_ms() < until);
	return 0;
}

/*
 * Polls until the server has finished the UPDATE of session tid and written
 * its answer: the session is idle (Sleep), a dirty read sees the circle at
 * version 2, and its transaction is still open and not waiting. Its worker
 * is stopped, so from there nothing changes until it is let go. 0 when so;
 * -1 with the reason in why when that state cannot come.
 */
static int
wait_for_update_answered(unsigned long long tid, const char *id, char *why, size_t why_len)
{
	long long until = rel_now_ms() + WATCH_MS;
	char *state_sql = rel_strf("SELECT COMMAND, COALESCE(DB, '')"
				   " FROM information_schema.PROCESSLIST WHERE ID = %llu",
				   tid);
	char *trx_sql = rel_strf("SELECT trx_state FROM information_schema.INNODB_TRX"
				 " WHERE trx_mysql_thread_id = %llu",
				 tid);
	char row[2][80], version[1][80], trx[1][80];
	int rc = -1;

	snprintf(why, why_len, "the UPDATE was still running after %d ms", WATCH_MS);
	do {
		if (!admin_row(state_sql, row, 2)) {
			snprintf(why, why_len, "the worker's session %llu is gone", tid);
			break;
		}
		if (strcmp(row[0], "Sleep") == 0) {
			char *version_sql;

			/* the uncommitted row tells whether the UPDATE wrote or failed
			 * (its lock wait or time limit expired) */
			version_sql = rel_strf("SELECT version FROM `%s`.circle_projections"
					       " WHERE circle_id = '%s'",
					       row[1], id);
			if (!admin_row(version_sql, version, 1))
				snprintf(version[0], sizeof(version[0]), "(no row)");
			free(version_sql);
			if (strcmp(version[0], "2") != 0) {
				snprintf(why, why_len,
					 "the worker's UPDATE ended without writing: version %s",
					 version[0]);
				break;
			}
			if (!admin_row(trx_sql, trx, 1))
				snprintf(trx[0], sizeof(trx[0]), "(none)");
			if (strcmp(trx[0], "RUNNING") == 0)
				rc = 0;
			else
				snprintf(why, why_len, "the worker's transaction is %s", trx[0]);
			break;
		}
		rel_sleep_ms(10);
	} while (rel_now_ms() < until);
	free(trx_sql);
	free(state_sql);
	return rc;
}

/*
 * Polls until the server no longer lists session tid: it has read what the
 * worker sent before it hung up (the COMMIT) and closed the session. 0 when
 * so within WATCH_MS, -1 when not.
 */
static int
wait_for_session_gone(unsigned long long tid)
{
	long long until = rel_now_ms() + WATCH_MS;
	char *sql = rel_strf("SELECT ID FROM information_schema.PROCESSLIST WHERE ID = %llu", tid);
	char row[1][80];
	int rc = -1;

	do {
		if (!admin_row(sql, row, 1)) {
			rc = 0;
			break;
		}
		rel_sleep_ms(10);
	} while (rel_now_ms() < until);
	free(sql);
	return rc;
}

/*
 * The COMMIT reaches the server and is carried out, but its answer never
 * reaches the worker in time: the worker is held (SIGSTOP) while the row it
 * waits for is released, the server is paused once it has answered the
 * worker's UPDATE and before it reads the COMMIT the worker sends once let
 * go, and resumed only after the worker gave up. Every step waits for the
 * state the server reports, never for a fixed time, so a slow machine only
 * makes it slower.
 */
static void
test_commit_reply_lost(void **state)
{
	const char *cfg = getenv("CIRCLE_DB_ADMIN_CONFIG");
	char id[REL_ID_LEN + 1], why[512], *key;
	struct put_call call;
	struct http_response again;
	pthread_t t;
	pid_t db;
	long long ms;
	int64_t v;
	unsigned long long tid;

	(void)state;
	db = rel_db_pid();
	if (db < 0 || rel_env()->db_config == NULL || cfg == NULL || *cfg == '\0')
		skip();
	create_circle("retry-lost-", id);
	key = rel_unique("lost-");
	admin_connect(cfg);
	/* a dirty read sees the worker's UPDATE before it commits */
	if (mysql_query(admin, "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED"))
		fail_msg("admin session: %s", mysql_error(admin));
	lock = dbs_open(rel_env()->db_config, "circle-command", why, sizeof(why));
	if (lock == NULL)
		fail_msg("lock session: %s", why);
	if (dbs_lock_circle(lock, id, why, sizeof(why)) != 0)
		fail_msg("lock: %s", why);
	call = (struct put_call){.id = id, .key = key, .capacity = 12, .version = 1};
	assert_int_equal(pthread_create(&t, NULL, put_main, &call), 0);
	/* the worker's transaction now waits on the locked projection row (for
	 * at most its 2 s lock wait): hold every command worker there and free
	 * the row at once, long before that wait runs out */
	tid = wait_for_lock_waiter();
	if (tid == 0)
		fail_msg("no worker waited on the locked row within %d ms", WATCH_MS);
	npaused_workers = rel_pool_pids("command", paused_workers, 64);
	assert_true(npaused_workers >= 1);
	for (size_t i = 0; i < npaused_workers; i++)
		assert_int_equal(kill(paused_workers[i], SIGSTOP), 0);
	/* the row is free: the server finishes the worker's UPDATE and
	 * answers it into the held worker's socket */
	assert_int_equal(dbs_rollback(lock, why, sizeof(why)), 0);
	dbs_close(lock);
	lock = NULL;
	if (wait_for_update_answered(tid, id, why, sizeof(why)) != 0)
		fail_msg("before pausing the server: %s", why);
	assert_int_equal(kill(db, SIGSTOP), 0);
	paused_db = db;
	/* the worker reads that answer, sends COMMIT to the paused server and
	 * waits for its reply in vain */
	resume_workers();
	pthread_join(t, NULL);
	ms = call.ms;
	assert_int_equal(call.rc, 0);
	printf("  PUT whose COMMIT reply was lost: %d after %lld ms: %.200s\n", call.r.status, ms,
	       call.r.body);
	if (!worker_503(&call.r))
		fail_msg("a write whose COMMIT reply was lost got %d: %.300s", call.r.status,
			 call.r.body);
	http_response_free(&call.r);
	resume_db();
	/* the server reads the COMMIT the worker left behind, carries it out
	 * and only then finds the worker gone: wait for that before looking */
	if (wait_for_session_gone(tid) != 0)
		fail_msg("the worker's session %llu was still open %d ms after the server resumed",
			 tid, WATCH_MS);
	mysql_close(admin);
	admin = NULL;

	/* the server carried the COMMIT out after all: the write is in */
	v = circle_version(id);
	printf("  after the server resumed the circle is at version %lld\n", (long long)v);
	assert_int_equal(v, 2);
	/* the client retries with its key and learns the outcome: the answer
	 * the write would have had, and nothing is appended again */
	assert_int_equal(keyed_put(&again, id, key, 12, 1, 20000, &ms), 0);
	printf("  the retry with the same key: %d, ETag %s, %.200s\n", again.status,
	       http_header(&again, "ETag") ? http_header(&again, "ETag") : "(none)", again.body);
	assert_int_equal(again.status, 200);
	assert_non_null(http_header(&again, "ETag"));
	assert_string_equal(http_header(&again, "ETag"), "\"2\"");
	assert_non_null(strstr(again.body, "\"capacity\":12"));
	http_response_free(&again);
	assert_int_equal(event_count(id), 2);
	free(key);
	rel_assert_verify_clean();
}

/*
 * Requests that waited for a worker longer than their time budget (10 s)
 * while nginx still holds them (it gives up at 15 s) are answered 503 at
 * once and not started, so they cannot change anything after nginx's
 * client gave up; their retries with the same key apply them once.
 */
static void
test_stale_requests_not_started(void **state)
{
	char ids[2][REL_ID_LEN + 1], *keys[2];
	struct put_call calls[2];
	pthread_t t[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		create_circle("retry-stale-", ids[i]);
		keys[i] = rel_unique("stale-");
	}
	npaused_workers = rel_pool_pids("command", paused_workers, 64);
	assert_true(npaused_workers >= 1);
	for (size_t w = 0; w < npaused_workers; w++)
		assert_int_equal(kill(paused_workers[w], SIGSTOP), 0);
	for (i = 0; i < 2; i++) {
		calls[i] = (struct put_call){
			.id = ids[i], .key = keys[i], .capacity = 13, .version = 1};
		assert_int_equal(pthread_create(&t[i], NULL, put_main, &calls[i]), 0);
	}
	rel_sleep_ms(11000);
	resume_workers();
	for (i = 0; i < 2; i++) {
		struct http_response r;
		long long ms;

		pthread_join(t[i], NULL);
		assert_int_equal(calls[i].rc, 0);
		printf("  a write that waited %lld ms for a worker: %d %.200s\n", calls[i].ms,
		       calls[i].r.status, calls[i].r.body);
		if (!rel_is_problem(&calls[i].r, 503, "service_unavailable") ||
		    strstr(calls[i].r.body, "waited too long") == NULL ||
		    http_header(&calls[i].r, "Retry-After") == NULL)
			fail_msg("a write past its budget answered %d: %.300s", calls[i].r.status,
				 calls[i].r.body);
		http_response_free(&calls[i].r);
		assert_int_equal(circle_version(ids[i]), 1);
		assert_int_equal(keyed_put(&r, ids[i], keys[i], 13, 1, 20000, &ms), 0);
		assert_int_equal(r.status, 200);
		http_response_free(&r);
		assert_int_equal(event_count(ids[i]), 2);
		free(keys[i]);
	}
}

/* One client of the paused-database test: keyed updates of its own circle,
 * each retried with its key after a 503 until it gets an answer. */
struct writer {
	char id[REL_ID_LEN + 1];
	long long until;
	int64_t version;    /* the version the client was told last */
	int acked;          /* writes answered 2xx */
	int got_503;        /* 503 answers */
	int nginx_503;      /* of which nginx answered (the worker ran late) */
	int applied_anyway; /* 503 answers whose write had been committed */
	int other;          /* answers no retry explains */
	long long max_ms;   /* slowest answer */
	char bad[256];
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	int n = 0;

	while (rel_now_ms() < w->until && w->other == 0) {
		char *key = rel_unique("pause-");
		int capacity = 11 + (n++ % 1000), tries = 0;

		for (;;) {
			struct http_response r;
			long long ms;

			if (keyed_put(&r, w->id, key, capacity, w->version, 20000, &ms) != 0) {
				snprintf(w->bad, sizeof(w->bad), "no answer");
				w->other++;
				break;
			}
			if (ms > w->max_ms)
				w->max_ms = ms;
			tries++;
			if (r.status == 200) {
				w->version++;
				w->acked++;
				http_response_free(&r);
				break;
			}
			if (r.status == 503) {
				int64_t v;

				w->got_503++;
				if (!worker_503(&r))
					w->nginx_503++;
				http_response_free(&r);
				rel_sleep_ms(300);
				/* what the retry will find: was it applied? */
				v = circle_version(w->id);
				if (v == w->version + 1 && tries == 1)
					w->applied_anyway++;
				if (tries > 100) {
					snprintf(w->bad, sizeof(w->bad), "503 a hundred times");
					w->other++;
					break;
				}
				continue;
			}
			snprintf(w->bad, sizeof(w->bad), "%d %.200s", r.status, r.body);
			w->other++;
			http_response_free(&r);
			break;
		}
		free(key);
	}
	return NULL;
}

static void
test_database_paused(void **state)
{
	struct writer ws[PAUSE_CLIENTS];
	pthread_t t[PAUSE_CLIENTS];
	long long t0;
	pid_t db;
	int i, total_503 = 0, total_applied = 0, total_acked = 0;

	(void)state;
	db = rel_db_pid();
	if (db < 0)
		skip();
	memset(ws, 0, sizeof(ws));
	for (i = 0; i < PAUSE_CLIENTS; i++) {
		create_circle("retry-pause-", ws[i].id);
		ws[i].version = 1;
	}
	t0 = rel_now_ms();
	for (i = 0; i < PAUSE_CLIENTS; i++) {
		ws[i].until = t0 + 2000 + PAUSE_MS + 4000;
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &ws[i]), 0);
	}
	rel_sleep_ms(1500);
	assert_int_equal(kill(db, SIGSTOP), 0);
	paused_db = db;
	printf("  MariaDB (pid %d) paused with SIGSTOP for %d ms\n", (int)db, PAUSE_MS);
	rel_sleep_ms(PAUSE_MS);
	resume_db();
	for (i = 0; i < PAUSE_CLIENTS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < PAUSE_CLIENTS; i++) {
		struct writer *w = &ws[i];
		int64_t v = circle_version(w->id);
		int n = event_count(w->id);

		printf("  client %d: %d writes acknowledged, %d answers 503 (%d from nginx), "
		       "%d of them applied before the retry; slowest answer %lld ms; "
		       "circle at version %lld with %d events\n",
		       i, w->acked, w->got_503, w->nginx_503, w->applied_anyway, w->max_ms,
		       (long long)v, n);
		if (w->other > 0)
			fail_msg("client %d got an answer no retry explains: %s", i, w->bad);
		assert_int_equal(w->nginx_503, 0);
		if (w->max_ms > WORKER_ANSWER_BOUND_MS)
			fail_msg("client %d waited %lld ms for an answer", i, w->max_ms);
		/* exactly the writes the client was told of, each once */
		assert_int_equal(v, w->version);
		assert_int_equal(n, (int)w->version);
		total_503 += w->got_503;
		total_applied += w->applied_anyway;
		total_acked += w->acked;
	}
	printf("  %d writes acknowledged, %d answers 503 retried with their key, %d of those "
	       "had been applied\n",
	       total_acked, total_503, total_applied);
	/* the pause must have hit someone, or the test proved nothing */
	assert_true(total_503 > 0);
	rel_assert_healthy();
	rel_assert_verify_clean();
}

/* A request sent into the backlog; its client gives up after timeout_ms. */
struct queued {
	const char *id;
	int capacity;
	int timeout_ms;
	int status; /* 0: no answer */
};

static void *
queued_main(void *arg)
{
	struct queued *q = arg;
	char *key = rel_unique("backlog-");
	struct http_response r;

	if (keyed_put(&r, q->id, key, q->capacity, 1, q->timeout_ms, NULL) == 0) {
		q->status = r.status;
		http_response_free(&r);
	}
	free(key);
	return NULL;
}

static void
test_backlog_of_gone_clients(void **state)
{
	pid_t cmd[64];
	size_t ncmd, i;
	char blocked[REL_ID_LEN + 1], targets[BACKLOG_REQUESTS][REL_ID_LEN + 1], why[512];
	struct queued blockers[64], late[BACKLOG_REQUESTS];
	pthread_t tb[64], tl[BACKLOG_REQUESTS];
	long long t0;
	int answered = 0, applied = 0;

	(void)state;
	if (rel_env()->db_config == NULL)
		skip();
	ncmd = rel_pool_pids("command", cmd, 64);
	assert_true(ncmd >= 1);
	create_circle("retry-blocked-", blocked);
	/* one circle each, so that every queued write would apply if run */
	for (i = 0; i < BACKLOG_REQUESTS; i++)
		create_circle("retry-target-", targets[i]);
	lock = dbs_open(rel_env()->db_config, "circle-command", why, sizeof(why));
	if (lock == NULL)
		fail_msg("lock session: %s", why);
	if (dbs_lock_circle(lock, blocked, why, sizeof(why)) != 0)
		fail_msg("lock: %s", why);
	/* every command worker waits on the locked row */
	for (i = 0; i < ncmd; i++) {
		blockers[i] = (struct queued){.id = blocked, .capacity = 20, .timeout_ms = 20000};
		assert_int_equal(pthread_create(&tb[i], NULL, queued_main, &blockers[i]), 0);
	}
	rel_sleep_ms(300);
	/* these wait in the socket's backlog; their clients leave first */
	t0 = rel_now_ms();
	for (i = 0; i < BACKLOG_REQUESTS; i++) {
		late[i] = (struct queued){.id = targets[i], .capacity = 30, .timeout_ms = 400};
		assert_int_equal(pthread_create(&tl[i], NULL, queued_main, &late[i]), 0);
	}
	for (i = 0; i < BACKLOG_REQUESTS; i++) {
		pthread_join(tl[i], NULL);
		answered += late[i].status != 0;
	}
	for (i = 0; i < ncmd; i++) {
		pthread_join(tb[i], NULL);
		printf("  blocked write %zu answered %d\n", i, blockers[i].status);
	}
	assert_int_equal(dbs_rollback(lock, why, sizeof(why)), 0);
	dbs_close(lock);
	lock = NULL;
	/* the workers are free again and went through the backlog: give them
	 * time, then no write whose client left may have been applied */
	rel_sleep_ms(1500);
	for (i = 0; i < BACKLOG_REQUESTS; i++) {
		int64_t v = circle_version(targets[i]);

		applied += v == 2;
		if (late[i].status == 0 && v != 1)
			fail_msg("a queued write whose client left was applied: %s at version %lld",
				 targets[i], (long long)v);
		if (late[i].status == 200 && v != 2)
			fail_msg("a write answered 200 is not there: %s at version %lld",
				 targets[i], (long long)v);
	}
	printf("  %zu workers blocked on a locked row; %d queued writes whose clients left "
	       "after 400 ms (%d answered in time), %d applied, checked %.1f s later\n",
	       ncmd, BACKLOG_REQUESTS, answered, applied, (double)(rel_now_ms() - t0) / 1000.0);
	/* the clients left before any worker was free, or the test proved nothing */
	assert_int_equal(answered, 0);
	/* and the service works on */
	{
		struct http_response r;
		char *key = rel_unique("after-");

		assert_int_equal(keyed_put(&r, targets[0], key, 50, 1, 20000, NULL), 0);
		assert_int_equal(r.status, 200);
		http_response_free(&r);
		free(key);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_commit_unanswered, teardown),
		cmocka_unit_test_teardown(test_commit_reply_lost, teardown),
		cmocka_unit_test_teardown(test_backlog_of_gone_clients, teardown),
		cmocka_unit_test_teardown(test_stale_requests_not_started, teardown),
		cmocka_unit_test_teardown(test_database_paused, teardown),
	};

	if (rel_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("reliability: retries", tests, NULL, NULL);
}
