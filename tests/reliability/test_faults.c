/*
 * Faults under load, end to end through nginx: each test runs a bounded load
 * of concurrent creates, updates and reads, injects one fault, and then
 * proves that
 *   - every request got an answer the contract allows (2xx, 409, 503) within
 *     nginx's bound, none hung;
 *   - every write acknowledged with 2xx is in the event store, with its
 *     projection (the ledger, looked up through the API);
 *   - nothing answered 503 was half-applied (circlectl verify replays every
 *     circle and compares it with its projection);
 *   - the service is whole again, and stops answering 503.
 *
 * The faults: MariaDB killed with SIGKILL and started again; a command
 * worker killed with SIGKILL in the middle of a request, then its pool
 * restored by ./dev up; a row lock held by another session while updates
 * target that row.
 *
 * Environment: see rel.h. Without CIRCLE_DEV and CIRCLE_RUN_DIR the tests
 * that need them are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dbsession.h"
#include "ledger.h"
#include "load.h"
#include "rel.h"

#define CT_JSON "Content-Type: application/json"
#define MAX_WORKERS 64
/* innodb_lock_wait_timeout of the command workers' sessions */
#define LOCK_WAIT_MS 2000

static long total_requests, total_verified, faults_injected;

/*
 * What a test has running, so that a failed assertion (which leaves the test
 * at once) still ends it: the lock released, the helper threads joined, the
 * load stopped, and the service brought back if the fault outlived the test.
 */
static struct {
	struct load *load;
	struct ledger *ledger;
	struct dbs *lock;
	pthread_t threads[MAX_WORKERS + 1];
	size_t nthreads;
} fx;

static void
start_thread(void *(*fn)(void *), void *arg)
{
	assert_true(fx.nthreads < MAX_WORKERS + 1);
	assert_int_equal(pthread_create(&fx.threads[fx.nthreads], NULL, fn, arg), 0);
	fx.nthreads++;
}

static void
join_threads(void)
{
	for (size_t i = 0; i < fx.nthreads; i++)
		pthread_join(fx.threads[i], NULL);
	fx.nthreads = 0;
}

static void
release_lock(void)
{
	char why[512];

	if (!fx.lock)
		return;
	if (dbs_rollback(fx.lock, why, sizeof(why)) != 0)
		printf("  unlock: %s\n", why);
	dbs_close(fx.lock);
	fx.lock = NULL;
}

/* How many workers each pool had when the tests began. */
static size_t initial_command, initial_query;

static size_t
live_workers(const char *pool)
{
	pid_t pids[MAX_WORKERS];

	return rel_pool_pids(pool, pids, MAX_WORKERS);
}

static int
group_setup(void **state)
{
	(void)state;
	initial_command = live_workers("command");
	initial_query = live_workers("query");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	release_lock();
	join_threads();
	load_free(fx.load);
	fx.load = NULL;
	ledger_free(fx.ledger);
	fx.ledger = NULL;
	/* a test that failed half-way may leave its fault behind */
	if (rel_env()->dev &&
	    (rel_wait_healthy(1000) < 0 || rel_db_pid() < 0 ||
	     live_workers("command") < initial_command || live_workers("query") < initial_query)) {
		printf("  the service is not whole after the test: ./dev up\n");
		if (rel_dev_up(180) != 0)
			printf("  ./dev up failed\n");
	}
	return 0;
}

static const struct load_config fault_load = {
	.threads = 16,
	.max_ms = 90000,
	.max_requests = 400000,
	.get_weight = 55,
	.list_weight = 10,
	.update_weight = 30,
	.create_weight = 5,
	.shared_circles = 4,
	.shared_update_pct = 20,
	.backoff_ms = 20,
	.prefix = "rel-fault-",
};

/* ------------------------------------------------------------ helpers */

static void
need_service_control(void)
{
	const struct rel_env *e = rel_env();

	if (!e->dev || !e->run_dir) {
		printf("  skipped: CIRCLE_DEV and CIRCLE_RUN_DIR are needed to inject faults\n");
		skip();
	}
}

/* Creates a circle; its id into id. */
static void
create_circle(const char *prefix, int capacity, char id[REL_ID_LEN + 1], struct ledger *ledger)
{
	char *name = rel_unique(prefix), *q = rel_json_quote(name);
	char *body = rel_strf("{\"circle_name\":%s,\"capacity\":%d}", q, capacity);
	const char *h[] = {CT_JSON, NULL};
	struct http_response r;
	json_object *o;
	const char *got;

	rel_expect_answer(&r, "POST", "/circle", h, body, strlen(body));
	if (r.status != 201)
		fail_msg("POST /circle answered %d: %.300s", r.status, r.body);
	o = rel_body_json(&r);
	got = rel_jstr(o, "circle_id");
	assert_non_null(got);
	snprintf(id, REL_ID_LEN + 1, "%s", got);
	if (ledger)
		ledger_create(ledger, id, name, capacity);
	json_object_put(o);
	http_response_free(&r);
	free(body);
	free(q);
	free(name);
}

/* A create, an update and reads of both: the service does its job again. */
static void
assert_round_trip(void)
{
	char id[REL_ID_LEN + 1], *path, *hist;
	const char *h[] = {CT_JSON, NULL};
	const char *body = "{\"capacity\":44,\"version\":1}";
	struct http_response r;
	json_object *o, *ev;
	int64_t v;

	create_circle("rel-roundtrip-", 33, id, NULL);
	path = rel_strf("/circle/%s", id);
	hist = rel_strf("/circle/%s/events", id);
	rel_expect_answer(&r, "PUT", path, h, body, strlen(body));
	if (r.status != 200)
		fail_msg("PUT %s answered %d: %.300s", path, r.status, r.body);
	http_response_free(&r);
	rel_expect_answer(&r, "GET", path, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	o = rel_body_json(&r);
	assert_int_equal(rel_jint(o, "version", &v), 0);
	assert_int_equal(v, 2);
	json_object_put(o);
	http_response_free(&r);
	rel_expect_answer(&r, "GET", hist, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	o = rel_body_json(&r);
	assert_true(json_object_object_get_ex(o, "events", &ev));
	assert_int_equal(json_object_array_length(ev), 2);
	json_object_put(o);
	http_response_free(&r);
	free(hist);
	free(path);
}

/* The load's answers were all allowed, all in time. */
static void
assert_load_clean(const struct load_stats *s)
{
	if (s->no_answer > 0)
		fail_msg("%ld requests got no answer within %d ms", s->no_answer,
			 REL_CLIENT_TIMEOUT_MS);
	if (s->bad > 0)
		fail_msg("%ld answers the contract does not allow; first: %s", s->bad,
			 s->bad_examples[0]);
	if (s->max_latency_ms > REL_ANSWER_BOUND_MS)
		fail_msg("an answer took %ld ms, over the %d ms bound", s->max_latency_ms,
			 REL_ANSWER_BOUND_MS);
}

/* Once recovered, a window of load with no 503 at all. */
static void
assert_no_503_window(struct load *l, int ms)
{
	struct load_stats a, b;

	load_snapshot(l, &a);
	rel_sleep_ms(ms);
	load_snapshot(l, &b);
	printf("  recovered window: %ld requests in %d ms, %ld answered 503\n",
	       b.requests - a.requests, ms, b.s503 - a.s503);
	if (b.requests - a.requests < 10)
		fail_msg("only %ld requests in %d ms after recovery", b.requests - a.requests, ms);
	if (b.s503 != a.s503)
		fail_msg("%ld answers were still 503 %d ms into the recovered window",
			 b.s503 - a.s503, ms);
}

/*
 * Stops the load and proves the guarantees: allowed answers only, creates
 * answered 503 settle with their key, every acknowledged write found,
 * projections agree with their events, the service works.
 */
static void
finish(struct load *l, struct ledger *ledger, long long t0, const char *title)
{
	struct load_stats s;
	long retried = 0, retry_failed;
	size_t verified = 0, lost;

	load_stop(l, &s);
	load_print(title, &s, (long)(rel_now_ms() - t0));
	total_requests += s.requests;
	assert_load_clean(&s);
	retry_failed = load_retry_creates(l, &retried);
	printf("  %s: %ld creates answered 503 sent again with their Idempotency-Key, "
	       "%ld not 201\n",
	       title, retried, retry_failed);
	assert_int_equal(retry_failed, 0);
	lost = ledger_verify(ledger, &verified);
	total_verified += (long)verified;
	printf("  %s: writes verified %zu of %zu acknowledged, lost %zu\n", title, verified,
	       ledger_count(ledger), lost);
	if (lost > 0)
		fail_msg("%zu acknowledged writes are not in the event store", lost);
	rel_assert_verify_clean();
	rel_assert_healthy();
	assert_round_trip();
}

static void
pool_pids_checked(const char *pool, pid_t *pids, size_t *n)
{
	*n = rel_pool_pids(pool, pids, MAX_WORKERS);
	if (*n == 0) {
		rel_pool_report(pool);
		fail_msg("no live %s worker in %s/%s.pid", pool, rel_env()->run_dir, pool);
	}
}

static int
same_pids(const pid_t *a, size_t na, const pid_t *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* ------------------------------------------------------------ a: MariaDB SIGKILL */

static void
test_database_sigkill(void **state)
{
	pid_t db, cmd[MAX_WORKERS], qry[MAX_WORKERS], cmd2[MAX_WORKERS], qry2[MAX_WORKERS];
	size_t ncmd, nqry, ncmd2, nqry2;
	struct load_stats before, down;
	long long t0, t_kill, recovered;
	int rc;

	(void)state;
	need_service_control();
	rel_assert_healthy();
	db = rel_db_pid();
	if (db < 0)
		fail_msg("no live mariadbd in %s/mysqld.pid", rel_env()->run_dir);
	pool_pids_checked("command", cmd, &ncmd);
	pool_pids_checked("query", qry, &nqry);

	fx.ledger = ledger_new();
	t0 = rel_now_ms();
	fx.load = load_start(&fault_load, fx.ledger);
	assert_non_null(fx.load);
	rel_sleep_ms(2000);
	load_snapshot(fx.load, &before);

	t_kill = rel_now_ms();
	assert_int_equal(kill(db, SIGKILL), 0);
	faults_injected++;
	for (int i = 0; i < 100 && rel_alive(db); i++)
		rel_sleep_ms(100);
	assert_false(rel_alive(db));
	printf("  fault: mariadbd (pid %d) killed with SIGKILL at %.1f s into the load\n", (int)db,
	       (double)(t_kill - t0) / 1000.0);
	/* the load meets a database that is gone */
	rel_sleep_ms(2000);
	load_snapshot(fx.load, &down);
	printf("  while down: %ld requests, %ld answered 503\n", down.requests - before.requests,
	       down.s503 - before.s503);
	if (down.s503 == before.s503)
		fail_msg("no request was answered 503 while the database was down");

	rc = rel_dev("db-start", 120);
	if (rc != 0)
		fail_msg("./dev db-start exited %d", rc);
	/* no ./dev up: the workers must reconnect by themselves */
	recovered = rel_wait_healthy(30000);
	if (recovered < 0)
		fail_msg("GET /health not 200 within 30 s of the database's start");
	printf("  recovered: mariadbd started again, /health 200 after %lld ms more, "
	       "%.1f s after the kill\n",
	       recovered, (double)(rel_now_ms() - t_kill) / 1000.0);
	rel_sleep_ms(2000);
	assert_no_503_window(fx.load, 2000);

	/* the workers lived through it: the same processes as before */
	pool_pids_checked("command", cmd2, &ncmd2);
	pool_pids_checked("query", qry2, &nqry2);
	if (!same_pids(cmd, ncmd, cmd2, ncmd2) || !same_pids(qry, nqry, qry2, nqry2))
		fail_msg("worker processes changed while the database was down");

	finish(fx.load, fx.ledger, t0, "database SIGKILL");
}

/* ------------------------------------------------------------ b: worker SIGKILL */

struct victim {
	const char *path;
	int capacity;
	int status; /* 0: no answer */
	long long answered_at;
	char body[256];
};

/* Static: a failed test leaves its frame while these threads still run. */
static struct victim victims[MAX_WORKERS];

/* A PUT that will wait on the held row lock inside a command worker. */
static void *
victim_main(void *arg)
{
	struct victim *v = arg;
	char *body = rel_strf("{\"capacity\":%d,\"version\":1}", v->capacity);
	const char *h[] = {CT_JSON, NULL};
	struct http_response r;

	if (rel_request(&r, "PUT", v->path, h, body, strlen(body), REL_CLIENT_TIMEOUT_MS, NULL) ==
	    0) {
		v->status = r.status;
		snprintf(v->body, sizeof(v->body), "%s", r.body);
		if (r.status == 503 && !rel_is_problem(&r, 503, "service_unavailable"))
			v->status = -503;
		http_response_free(&r);
	}
	v->answered_at = rel_now_ms();
	free(body);
	return NULL;
}

/* GET /circle/{id}'s version. */
static int64_t
circle_version(const char *path)
{
	struct http_response r;
	json_object *o;
	int64_t version = 0;

	rel_expect_answer(&r, "GET", path, NULL, NULL, 0);
	if (r.status != 200)
		fail_msg("GET %s answered %d: %.300s", path, r.status, r.body);
	o = rel_body_json(&r);
	assert_int_equal(rel_jint(o, "version", &version), 0);
	json_object_put(o);
	http_response_free(&r);
	return version;
}

static void
test_worker_sigkill(void **state)
{
	static char path[64];
	pid_t cmd[MAX_WORKERS], after[MAX_WORKERS], victim_pid;
	size_t ncmd, nafter, ncut = 0, nok = 0;
	char id[REL_ID_LEN + 1], why[512];
	long long t0, t_kill, t_release;
	int64_t version;
	int rc;

	(void)state;
	need_service_control();
	rel_assert_healthy();
	pool_pids_checked("command", cmd, &ncmd);
	fx.ledger = ledger_new();
	create_circle("rel-victim-", 10, id, fx.ledger);
	snprintf(path, sizeof(path), "/circle/%s", id);
	fx.lock = dbs_open(rel_env()->db_config, "circle-command", why, sizeof(why));
	if (!fx.lock)
		fail_msg("lock session: %s", why);

	t0 = rel_now_ms();
	fx.load = load_start(&fault_load, fx.ledger);
	assert_non_null(fx.load);
	rel_sleep_ms(1500);

	/* Every command worker takes one update of the locked circle and waits
	 * in it: whichever is killed is then surely cut mid-request. */
	if (dbs_lock_circle(fx.lock, id, why, sizeof(why)) != 0)
		fail_msg("lock: %s", why);
	for (size_t i = 0; i < ncmd; i++) {
		victims[i] = (struct victim){.path = path, .capacity = 100 + (int)i};
		start_thread(victim_main, &victims[i]);
	}
	rel_sleep_ms(1000);
	victim_pid = cmd[0];
	t_kill = rel_now_ms();
	assert_int_equal(kill(victim_pid, SIGKILL), 0);
	faults_injected++;
	for (int i = 0; i < 50 && rel_alive(victim_pid); i++)
		rel_sleep_ms(20);
	printf("  fault: command worker pid %d (of %zu) killed with SIGKILL while %zu updates "
	       "waited on a row lock\n",
	       (int)victim_pid, ncmd, ncmd);
	rel_sleep_ms(500);
	t_release = rel_now_ms();
	release_lock();
	join_threads();
	for (size_t i = 0; i < ncmd; i++) {
		struct victim *v = &victims[i];

		printf("  victim update %zu: %d, %+lld ms after the kill: %.100s\n", i, v->status,
		       v->answered_at - t_kill, v->body);
		if (v->status == 503 && v->answered_at >= t_kill && v->answered_at < t_release) {
			ncut++;
		} else if (v->status == 200) {
			nok++;
			ledger_update(fx.ledger, id, 2, NULL, v->capacity);
		} else if (v->status != 503 && v->status != 409) {
			fail_msg("victim update answered %d: %s", v->status, v->body);
		}
	}
	if (ncut != 1)
		fail_msg("%zu updates were answered 503 between the kill and the lock's release, "
			 "expected the 1 the killed worker was serving",
			 ncut);
	if (nok > 1)
		fail_msg("%zu updates at version 1 all succeeded", nok);
	/* The cut update was rolled back: the circle moved by the others only. */
	version = circle_version(path);
	printf("  circle %s: version %lld after %zu successful update(s)\n", id, (long long)version,
	       nok);
	assert_int_equal(version, 1 + (int64_t)nok);

	/* ./dev restores the pool while the load goes on */
	rc = rel_dev_up(180);
	if (rc != 0)
		fail_msg("./dev up exited %d", rc);
	pool_pids_checked("command", after, &nafter);
	printf("  restored: the command pool has %zu live worker(s), as before the kill\n", nafter);
	assert_int_equal(nafter, ncmd);
	for (size_t i = 0; i < nafter; i++)
		assert_int_not_equal(after[i], victim_pid);
	if (rel_wait_healthy(30000) < 0)
		fail_msg("GET /health not 200 within 30 s of ./dev up");
	rel_sleep_ms(1500);
	assert_no_503_window(fx.load, 2000);

	finish(fx.load, fx.ledger, t0, "worker SIGKILL");
}

/* ------------------------------------------------------------ c: a row lock */

struct blocker {
	const char *path;
	long long until;
	int sent, refused, other;
	long long min_ms, max_ms;
	char other_body[256];
};

static struct blocker blockers[MAX_WORKERS];

/* PUTs to the locked circle, one after the other, until `until`. */
static void *
blocker_main(void *arg)
{
	struct blocker *b = arg;
	const char *h[] = {CT_JSON, NULL};
	const char *body = "{\"capacity\":77,\"version\":1}";

	b->min_ms = -1;
	while (rel_now_ms() < b->until) {
		struct http_response r;
		long long ms;

		b->sent++;
		if (rel_request(&r, "PUT", b->path, h, body, strlen(body), REL_CLIENT_TIMEOUT_MS,
				&ms) != 0) {
			b->other++;
			snprintf(b->other_body, sizeof(b->other_body), "no answer");
			continue;
		}
		if (rel_is_problem(&r, 503, "service_unavailable")) {
			b->refused++;
		} else {
			b->other++;
			snprintf(b->other_body, sizeof(b->other_body), "%d %s", r.status, r.body);
		}
		if (b->min_ms < 0 || ms < b->min_ms)
			b->min_ms = ms;
		if (ms > b->max_ms)
			b->max_ms = ms;
		http_response_free(&r);
	}
	return NULL;
}

struct reader {
	const char *path;
	long long until;
	int sent, ok;
	long long max_ms;
	char last_bad[256];
};

static struct reader reader;

/* Reads of the locked circle itself: they must not wait for the lock. */
static void *
reader_main(void *arg)
{
	struct reader *rd = arg;

	while (rel_now_ms() < rd->until) {
		struct http_response r;
		json_object *o;
		int64_t v = 0;
		long long ms;

		rd->sent++;
		if (rel_request(&r, "GET", rd->path, NULL, NULL, 0, REL_CLIENT_TIMEOUT_MS, &ms) !=
		    0) {
			snprintf(rd->last_bad, sizeof(rd->last_bad), "no answer");
			continue;
		}
		o = rel_body_json(&r);
		if (r.status == 200 && rel_jint(o, "version", &v) == 0 && v == 1)
			rd->ok++;
		else
			snprintf(rd->last_bad, sizeof(rd->last_bad), "%d %s", r.status, r.body);
		json_object_put(o);
		if (ms > rd->max_ms)
			rd->max_ms = ms;
		http_response_free(&r);
		rel_sleep_ms(50);
	}
	return NULL;
}

static void
test_row_lock(void **state)
{
	static char path[64];
	pid_t cmd[MAX_WORKERS];
	size_t ncmd, nblockers;
	char id[REL_ID_LEN + 1], why[512];
	const char *h[] = {CT_JSON, NULL};
	const char *body = "{\"capacity\":88,\"version\":1}";
	struct load_stats before, during;
	struct http_response r;
	long long t0, t_lock;
	int sent = 0, refused = 0;

	(void)state;
	rel_assert_healthy();
	fx.ledger = ledger_new();
	create_circle("rel-locked-", 10, id, fx.ledger);
	snprintf(path, sizeof(path), "/circle/%s", id);
	fx.lock = dbs_open(rel_env()->db_config, "circle-command", why, sizeof(why));
	if (!fx.lock)
		fail_msg("lock session: %s", why);
	/* Leave one command worker free for the rest of the load, when there
	 * is more than one. */
	ncmd = rel_pool_pids("command", cmd, MAX_WORKERS);
	nblockers = ncmd > 1 ? ncmd - 1 : 1;

	t0 = rel_now_ms();
	fx.load = load_start(&fault_load, fx.ledger);
	assert_non_null(fx.load);
	rel_sleep_ms(1000);
	load_snapshot(fx.load, &before);
	if (dbs_lock_circle(fx.lock, id, why, sizeof(why)) != 0)
		fail_msg("lock: %s", why);
	t_lock = rel_now_ms();
	faults_injected++;
	printf("  fault: the projection row of %s locked FOR UPDATE by another session\n", id);
	for (size_t i = 0; i < nblockers; i++) {
		blockers[i] = (struct blocker){.path = path, .until = t_lock + 11000};
		start_thread(blocker_main, &blockers[i]);
	}
	reader = (struct reader){.path = path, .until = t_lock + 11000};
	start_thread(reader_main, &reader);
	join_threads();
	load_snapshot(fx.load, &during);
	for (size_t i = 0; i < nblockers; i++) {
		struct blocker *b = &blockers[i];

		printf("  blocked updates (client %zu): %d sent, %d answered 503, %d other; "
		       "%lld..%lld ms each\n",
		       i, b->sent, b->refused, b->other, b->min_ms, b->max_ms);
		if (b->other > 0)
			fail_msg("an update of the locked circle answered %s", b->other_body);
		if (b->min_ms < LOCK_WAIT_MS - 500 || b->max_ms > LOCK_WAIT_MS + 3000)
			fail_msg("an update of the locked circle took %lld..%lld ms, not about the "
				 "%d ms lock wait",
				 b->min_ms, b->max_ms, LOCK_WAIT_MS);
		sent += b->sent;
		refused += b->refused;
	}
	printf("  reads of the locked circle: %d sent, %d answered 200 at version 1, "
	       "max %lld ms\n",
	       reader.sent, reader.ok, reader.max_ms);
	printf("  the rest of the load while locked: %ld requests, %ld GET of a circle, "
	       "2xx %ld\n",
	       during.requests - before.requests, during.gets - before.gets,
	       during.s2xx - before.s2xx);
	if (reader.ok != reader.sent)
		fail_msg("a read of the locked circle answered %s", reader.last_bad);
	if (reader.max_ms > 2000)
		fail_msg("a read of the locked circle took %lld ms", reader.max_ms);
	assert_true(sent >= 2 && refused == sent);
	if (during.gets - before.gets < 100)
		fail_msg("reads stalled while the row was locked: %ld in 11 s",
			 during.gets - before.gets);

	release_lock();
	printf("  released after %.1f s\n", (double)(rel_now_ms() - t_lock) / 1000.0);
	/* nothing of the refused updates stuck: still version 1, and it moves */
	rel_expect_answer(&r, "PUT", path, h, body, strlen(body));
	if (r.status != 200)
		fail_msg("PUT %s after the release answered %d: %.300s", path, r.status, r.body);
	http_response_free(&r);
	ledger_update(fx.ledger, id, 2, NULL, 88);
	assert_no_503_window(fx.load, 2000);

	finish(fx.load, fx.ledger, t0, "row lock");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_database_sigkill, teardown),
		cmocka_unit_test_teardown(test_worker_sigkill, teardown),
		cmocka_unit_test_teardown(test_row_lock, teardown),
	};
	int failed;

	if (rel_init() != 0)
		return 1;
	failed = cmocka_run_group_tests_name("reliability: faults", tests, group_setup, NULL);
	printf("faults: %ld requests sent, %ld writes verified, %ld faults injected\n",
	       total_requests, total_verified, faults_injected);
	return failed;
}
