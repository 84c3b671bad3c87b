/*
 * End-to-end tests of reading from replicas: the whole service with its query
 * pools reading from MariaDB replicas (./dev up --replica), seen over HTTP,
 * while the replicas are held back and stopped with MariaDB's own commands.
 *
 * Environment:
 *   CIRCLE_TEST_BASE_PORT     nginx's loopback port (8080)
 *   CIRCLE_TEST_REPLICA_CNFS  the option files of every replica the query
 *                             pools read from, separated by spaces: an
 *                             administrator's access, to hold them back
 *                             (without it every test is skipped)
 *   CIRCLE_TEST_WAIT_MS       the workers' wait bound (5000)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "e2e_assert.h"
#include "http_client.h"

#define ID_LEN 36
/* Create-then-read rounds of the read-your-writes test. */
#define ROUNDS 300

static unsigned short port = 8080;
static const char *replica_cnfs;
static long wait_ms = 5000;

/* ------------------------------------------------------------ helpers */

/* One request with an optional extra header; the test fails without answer. */
static void
req(struct http_response *r, const char *method, const char *target, const char *h1,
    const char *body)
{
	const char *h[] = {"Content-Type: application/json", h1, NULL};
	struct http_request q = {
		.method = method,
		.target = target,
		.headers = body ? h : h + 1,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.timeout_ms = 30000,
	};

	if (body == NULL && h1 == NULL)
		q.headers = NULL;
	if (http_send(port, &q, r) != 0)
		fail_msg("no HTTP answer to %s %s", method, target);
}

/* "Circle-Wait-For: <the Circle-Commit of r>" into line. */
static void
wait_header(const struct http_response *r, char *line, size_t size)
{
	const char *t = http_header(r, "Circle-Commit");

	if (t == NULL || *t == '\0')
		fail_msg("a successful write answered no Circle-Commit");
	assert_true(strlen(t) <= 255);
	for (const char *p = t; *p; p++)
		assert_true(*p >= 0x21 && *p <= 0x7E);
	snprintf(line, size, "Circle-Wait-For: %s", t);
}

/* Creates a circle with a fresh name: its id, and the wait header for it. */
static void
create(char id[ID_LEN + 1], char *wait, size_t wait_size)
{
	struct http_response r;
	unsigned char b[8];
	char body[128];
	json_object *o;

	assert_int_equal(getrandom(b, sizeof(b), 0), (ssize_t)sizeof(b));
	snprintf(body, sizeof(body),
		 "{\"circle_name\":\"replica-%02x%02x%02x%02x%02x%02x%02x%02x\","
		 "\"capacity\":5}",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
	req(&r, "POST", "/circle", NULL, body);
	assert_status(&r, 201);
	wait_header(&r, wait, wait_size);
	o = body_json(&r);
	snprintf(id, ID_LEN + 1, "%s", jstr(o, "circle_id"));
	json_object_put(o);
	http_response_free(&r);
}

/* Runs sql on every replica as their administrator; 0 when all did. */
static int
on_replicas(const char *sql)
{
	char *list = strdup(replica_cnfs), *save = NULL, *cnf;
	int rc = 0;

	assert_non_null(list);
	for (cnf = strtok_r(list, " ", &save); cnf; cnf = strtok_r(NULL, " ", &save)) {
		char cmd[1024];

		snprintf(cmd, sizeof(cmd), "mariadb --defaults-file='%s' -e '%s'", cnf, sql);
		if (system(cmd) != 0)
			rc = -1;
	}
	free(list);
	return rc;
}

static void
need_replicas(void)
{
	if (replica_cnfs == NULL || *replica_cnfs == '\0')
		skip();
}

struct timed_get {
	char target[64];
	char header[300];
	struct http_response r;
	double seconds;
};

static void *
timed_get(void *arg)
{
	struct timed_get *t = arg;
	struct http_request q = {.method = "GET", .target = t->target, .timeout_ms = 30000};
	const char *h[] = {t->header, NULL};
	double t0 = now_seconds();

	q.headers = h;
	if (http_send(port, &q, &t->r) != 0)
		t->r.status = -1;
	t->seconds = now_seconds() - t0;
	return NULL;
}

/* ------------------------------------------------------------ tests */

/*
 * Create, read, update, read: with the write's token every read sees the
 * write, however far behind the replica was when the read arrived. Reads
 * without the token are counted, not asserted: they may or may not be stale.
 */
static void
test_reads_see_own_writes(void **state)
{
	int stale = 0;

	(void)state;
	need_replicas();
	for (int i = 0; i < ROUNDS; i++) {
		struct http_response r, u;
		char id[ID_LEN + 1], wait[300], path[64], body[64];
		json_object *o;

		create(id, wait, sizeof(wait));
		snprintf(path, sizeof(path), "/circle/%s", id);
		req(&r, "GET", path, NULL, NULL);
		if (r.status != 200)
			stale++;
		http_response_free(&r);
		req(&r, "GET", path, wait, NULL);
		assert_status(&r, 200);
		http_response_free(&r);

		snprintf(body, sizeof(body), "{\"capacity\":%d,\"version\":1}", 6 + i % 100);
		req(&u, "PUT", path, NULL, body);
		assert_status(&u, 200);
		wait_header(&u, wait, sizeof(wait));
		http_response_free(&u);
		req(&r, "GET", path, wait, NULL);
		assert_status(&r, 200);
		o = body_json(&r);
		assert_int_equal(jint(o, "version"), 2);
		assert_int_equal(jint(o, "capacity"), 6 + i % 100);
		json_object_put(o);
		http_response_free(&r);
		/* The history and the list read their own writes too. */
		snprintf(path, sizeof(path), "/circle/%s/events", id);
		req(&r, "GET", path, wait, NULL);
		assert_status(&r, 200);
		assert_non_null(strstr(r.body, "circle_updated"));
		http_response_free(&r);
	}
	printf("# %d of %d reads without Circle-Wait-For did not find the write\n", stale, ROUNDS);
}

/*
 * The replica's applier held back: a read without the token does not find
 * the new circle (a stale read, as documented); a read with it waits, and
 * answers the write once the applier runs again.
 */
static void
test_held_back_reads_wait(void **state)
{
	struct http_response r;
	struct timed_get t;
	char id[ID_LEN + 1];
	pthread_t th;

	(void)state;
	need_replicas();
	assert_int_equal(on_replicas("STOP SLAVE SQL_THREAD"), 0);
	create(id, t.header, sizeof(t.header));
	snprintf(t.target, sizeof(t.target), "/circle/%s", id);
	req(&r, "GET", t.target, NULL, NULL);
	if (r.status != 404) {
		(void)on_replicas("START SLAVE SQL_THREAD");
		fail_msg("a read without Circle-Wait-For found a write the replica had not applied "
			 "(status %d)",
			 r.status);
	}
	http_response_free(&r);
	assert_int_equal(pthread_create(&th, NULL, timed_get, &t), 0);
	/* Held back for a while, well within the bound. */
	usleep((useconds_t)(wait_ms * 1000 / 3));
	assert_int_equal(on_replicas("START SLAVE SQL_THREAD"), 0);
	pthread_join(th, NULL);
	assert_status(&t.r, 200);
	assert_non_null(strstr(t.r.body, id));
	/* It did wait for the applier, not answer early from elsewhere. */
	if (t.seconds < (double)wait_ms / 3000.0 * 0.8)
		fail_msg("the read answered after %.3f s, before the applier ran again", t.seconds);
	http_response_free(&t.r);
}

/* Past the bound the read answers 503 not_caught_up with Retry-After; once
 * the replica applies again, the same read succeeds. */
static void
test_past_the_bound_not_caught_up(void **state)
{
	struct timed_get t;
	char id[ID_LEN + 1];

	(void)state;
	need_replicas();
	assert_int_equal(on_replicas("STOP SLAVE SQL_THREAD"), 0);
	create(id, t.header, sizeof(t.header));
	snprintf(t.target, sizeof(t.target), "/circle/%s", id);
	(void)timed_get(&t);
	(void)on_replicas("START SLAVE SQL_THREAD");
	expect_problem(&t.r, 503, "not_caught_up");
	assert_non_null(http_header(&t.r, "Retry-After"));
	if (t.seconds < (double)wait_ms / 1000.0 * 0.9)
		fail_msg("not_caught_up after %.3f s, before the bound of %ld ms", t.seconds,
			 wait_ms);
	http_response_free(&t.r);
	(void)timed_get(&t);
	assert_status(&t.r, 200);
	assert_non_null(strstr(t.r.body, id));
	http_response_free(&t.r);
}

/*
 * The change feed is a read like the others: with the token of a write the
 * replicas have not applied it answers 503 not_caught_up at the bound, and
 * waits for the applier when it runs again within the bound. (The event's
 * feed position comes from a later transaction, so only the wait is checked.)
 */
static void
test_feed_waits(void **state)
{
	struct timed_get t;
	char id[ID_LEN + 1];
	pthread_t th;

	(void)state;
	need_replicas();
	assert_int_equal(on_replicas("STOP SLAVE SQL_THREAD"), 0);
	create(id, t.header, sizeof(t.header));
	snprintf(t.target, sizeof(t.target), "/events?limit=1");
	(void)timed_get(&t);
	if (t.r.status != 503)
		(void)on_replicas("START SLAVE SQL_THREAD");
	expect_problem(&t.r, 503, "not_caught_up");
	assert_non_null(http_header(&t.r, "Retry-After"));
	if (t.seconds < (double)wait_ms / 1000.0 * 0.9) {
		(void)on_replicas("START SLAVE SQL_THREAD");
		fail_msg("/events: not_caught_up after %.3f s, before the bound of %ld ms",
			 t.seconds, wait_ms);
	}
	http_response_free(&t.r);
	assert_int_equal(pthread_create(&th, NULL, timed_get, &t), 0);
	usleep((useconds_t)(wait_ms * 1000 / 3));
	assert_int_equal(on_replicas("START SLAVE SQL_THREAD"), 0);
	pthread_join(th, NULL);
	assert_status(&t.r, 200);
	if (t.seconds < (double)wait_ms / 3000.0 * 0.8)
		fail_msg("/events answered after %.3f s, before the applier ran again", t.seconds);
	http_response_free(&t.r);
}

/* A token that is no token is refused before anything is read. */
static void
test_malformed_tokens(void **state)
{
	static const char *const bad[] = {
		"Circle-Wait-For: x",
		"Circle-Wait-For: 0-1",
		"Circle-Wait-For: 0-1-2,",
		"Circle-Wait-For: 0-01-2",
		"Circle-Wait-For: 0-1-99999999999999999999999",
		"Circle-Wait-For: 4294967296-1-2",
	};
	struct http_response r;
	char longer[400];

	(void)state;
	need_replicas();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req(&r, "GET", "/circle", bad[i], NULL);
		expect_problem(&r, 400, "invalid_header");
		assert_non_null(strstr(r.body, "\"header\":\"Circle-Wait-For\""));
		http_response_free(&r);
	}
	/* 256 characters: one more than a token may have. */
	strcpy(longer, "Circle-Wait-For: 0-1-1");
	while (strlen(longer) < strlen("Circle-Wait-For: ") + 256)
		strcat(longer, ",0-1-1");
	longer[strlen("Circle-Wait-For: ") + 256] = '\0';
	req(&r, "GET", "/circle", longer, NULL);
	expect_problem(&r, 400, "invalid_header");
	http_response_free(&r);
}

/* Every query pool's /health, several times over (nginx spreads them). */
static int
health_all(int want, int times)
{
	for (int i = 0; i < times; i++) {
		struct http_response r;

		req(&r, "GET", "/health", NULL, NULL);
		if (r.status != want) {
			http_response_free(&r);
			return 0;
		}
		if (want == 200)
			assert_non_null(strstr(r.body, "\"replica\""));
		else
			expect_problem(&r, 503, "service_unavailable");
		http_response_free(&r);
	}
	return 1;
}

/* Replication stopped: /health 503, so a load balancer takes the host out;
 * started again: 200. */
static void
test_health_follows_replication(void **state)
{
	int ok = 0;

	(void)state;
	need_replicas();
	assert_true(health_all(200, 4));
	assert_int_equal(on_replicas("STOP SLAVE"), 0);
	ok = health_all(503, 6);
	assert_int_equal(on_replicas("START SLAVE"), 0);
	if (!ok)
		fail_msg("/health did not answer 503 while replication was stopped");
	ok = 0;
	for (int i = 0; i < 100 && !ok; i++) {
		ok = health_all(200, 6);
		if (!ok)
			usleep(200 * 1000);
	}
	if (!ok)
		fail_msg("/health not 200 within 20 s of replication's restart");
}

int
main(void)
{
	const char *env = getenv("CIRCLE_TEST_BASE_PORT");
	const char *w = getenv("CIRCLE_TEST_WAIT_MS");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_see_own_writes),
		cmocka_unit_test(test_held_back_reads_wait),
		cmocka_unit_test(test_past_the_bound_not_caught_up),
		cmocka_unit_test(test_feed_waits),
		cmocka_unit_test(test_malformed_tokens),
		cmocka_unit_test(test_health_follows_replication),
	};

	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);

		if (*end != '\0' || v < 1 || v > 65535) {
			fprintf(stderr, "CIRCLE_TEST_BASE_PORT is not a port: %s\n", env);
			return 1;
		}
		port = (unsigned short)v;
	}
	if (w && *w) {
		char *end;

		wait_ms = strtol(w, &end, 10);
		if (*end != '\0' || wait_ms < 0 || wait_ms > 9000) {
			fprintf(stderr, "CIRCLE_TEST_WAIT_MS is not 0 to 9000: %s\n", w);
			return 1;
		}
	}
	replica_cnfs = getenv("CIRCLE_TEST_REPLICA_CNFS");
	return cmocka_run_group_tests_name("replica", tests, NULL, NULL);
}
