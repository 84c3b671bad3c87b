/*
 * circlectl rebuild-projections on the running service, end to end through
 * nginx: the projection is rebuilt REBUILD_RUNS times over a log of some
 * 100,000 events while a bounded load of clients reads and writes. It
 * proves that no acknowledged write is missing afterwards (the ledger, then
 * circlectl verify), that no request is answered 5xx or left unanswered,
 * that no read answers an impossible state (checker clients update their
 * own circle and read it back: the version and capacity they were told,
 * never an older one, never a 404), and it measures the write latency the
 * checkers see while a rebuild runs.
 *
 * The events of the long log are written straight into circle_events by
 * the administrator of [circle-admin] in CIRCLE_DB_CONFIG (one statement),
 * and removed again at the end.
 *
 * Environment: see rel.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mysql.h>

#include "ledger.h"
#include "load.h"
#include "rel.h"

#define ADMIN_GROUP "circle-admin"
#define GEN_CIRCLES 25000 /* four events each */
#define REBUILD_RUNS 3
#define CHECKERS 4
#define CHECKER_MAX_OPS 20000
#define LOAD_MAX_MS 120000
/* Load without a rebuild before the first one and after each (ms). */
#define BASELINE_MS 4000
#define GAP_MS 1500

/* --- the administrator's connection --- */

static MYSQL *
admin_connect(void)
{
	MYSQL *db = mysql_init(NULL);

	if (!db)
		return NULL;
	if (rel_env()->db_config)
		mysql_optionsv(db, MYSQL_READ_DEFAULT_FILE, rel_env()->db_config);
	mysql_optionsv(db, MYSQL_READ_DEFAULT_GROUP, ADMIN_GROUP);
	mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(db, NULL, NULL, NULL, NULL, 0, NULL, 0)) {
		fprintf(stderr, "admin connect: %s\n", mysql_error(db));
		mysql_close(db);
		return NULL;
	}
	return db;
}

static void
admin_exec(MYSQL *db, const char *sql)
{
	if (mysql_query(db, sql) != 0)
		fail_msg("%.200s: %s", sql, mysql_error(db));
}

/* The first column of the first row, as text, into out. */
static void
admin_value(MYSQL *db, const char *sql, char *out, size_t size)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	admin_exec(db, sql);
	res = mysql_store_result(db);
	assert_non_null(res);
	row = mysql_fetch_row(res);
	snprintf(out, size, "%s", row && row[0] ? row[0] : "");
	mysql_free_result(res);
}

static long long
admin_count(MYSQL *db, const char *sql)
{
	char v[64];

	admin_value(db, sql, v, sizeof(v));
	return atoll(v);
}

/* GEN_CIRCLES circles of four events (create, capacity, name, capacity),
 * ids and names marked with tag (twelve hex digits). */
static void
generate_events(MYSQL *db, const char *tag)
{
	char *sql = rel_strf(
		"INSERT INTO circle_events (id, circle_id, version, event_type, payload, "
		"occurred_at)"
		" SELECT LOWER(CONCAT(LPAD(HEX(c.seq), 8, '0'), '-', LPAD(HEX(v.seq), 4, '0'),"
		" '-4000-8000-', '%s')),"
		" LOWER(CONCAT(LPAD(HEX(c.seq), 8, '0'), '-0000-4000-a000-', '%s')), v.seq,"
		" IF(v.seq = 1, 'circle_created', 'circle_updated'),"
		" CASE v.seq WHEN 1 THEN "
		"CONCAT('{\"type\":\"circle_created\",\"name\":\"rebuild-%s-',"
		" c.seq, '\",\"capacity\":20}')"
		" WHEN 2 THEN '{\"type\":\"circle_updated\",\"capacity\":30}'"
		" WHEN 3 THEN CONCAT('{\"type\":\"circle_updated\",\"name\":\"rebuilt-%s-', c.seq,"
		" '\"}')"
		" ELSE '{\"type\":\"circle_updated\",\"capacity\":40}' END, UTC_TIMESTAMP(6)"
		" FROM seq_1_to_%d c JOIN seq_1_to_4 v",
		tag, tag, tag, tag, GEN_CIRCLES);

	admin_exec(db, sql);
	free(sql);
}

static void
remove_generated(MYSQL *db, const char *tag)
{
	char *sql = rel_strf(
		"DELETE FROM circle_events WHERE circle_id LIKE '%%-0000-4000-a000-%s'", tag);

	admin_exec(db, sql);
	free(sql);
	sql = rel_strf("DELETE FROM circle_projections WHERE circle_id LIKE '%%-0000-4000-a000-%s'",
		       tag);
	admin_exec(db, sql);
	free(sql);
}

/* --- checkers: one circle each, written and read back --- */

struct sample {
	long long at_ms; /* when the PUT was sent */
	long ms;
};

struct checker {
	pthread_t thread;
	char id[REL_ID_LEN + 1];
	int version, capacity;
	atomic_int *stop;
	struct sample puts[CHECKER_MAX_OPS];
	long n_puts, reads, bad;
	char first_bad[320];
};

static void checker_bad(struct checker *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
checker_bad(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(c->first_bad, sizeof(c->first_bad), fmt, ap);
	va_end(ap);
}

static void *
checker_thread(void *arg)
{
	struct checker *c = arg;
	const char *json[] = {"Content-Type: application/json", NULL};
	char *path = rel_strf("/circle/%s", c->id);

	while (!atomic_load(c->stop) && c->n_puts < CHECKER_MAX_OPS) {
		struct http_response r;
		int capacity = c->capacity == 100 ? 101 : 100;
		char *body = rel_strf("{\"capacity\":%d,\"version\":%d}", capacity, c->version);
		long long t0 = rel_now_ms(), ms = 0;
		json_object *o;
		int64_t v = 0, cap = 0;

		if (rel_request(&r, "PUT", path, json, body, strlen(body), 0, &ms) != 0) {
			checker_bad(c, "PUT %s: no answer", path);
			free(body);
			break;
		}
		free(body);
		c->puts[c->n_puts].at_ms = t0;
		c->puts[c->n_puts++].ms = (long)ms;
		o = rel_body_json(&r);
		if (r.status != 200 || rel_jint(o, "version", &v) != 0 || v != c->version + 1) {
			checker_bad(c, "PUT %s at %d answered %d: %.160s", path, c->version,
				    r.status, r.body);
			json_object_put(o);
			http_response_free(&r);
			break;
		}
		json_object_put(o);
		http_response_free(&r);
		c->version++;
		c->capacity = capacity;
		/* Read back: exactly what was acknowledged, from the projection. */
		if (rel_request(&r, "GET", path, NULL, NULL, 0, 0, NULL) != 0) {
			checker_bad(c, "GET %s: no answer", path);
			break;
		}
		o = rel_body_json(&r);
		c->reads++;
		if (r.status != 200 || rel_jint(o, "version", &v) != 0 ||
		    rel_jint(o, "capacity", &cap) != 0 || v != c->version || cap != capacity)
			checker_bad(c, "GET %s after version %d (capacity %d) answered %d: %.160s",
				    path, c->version, capacity, r.status, r.body);
		json_object_put(o);
		http_response_free(&r);
		if (c->bad)
			break;
	}
	free(path);
	return NULL;
}

static void
checker_create(struct checker *c)
{
	const char *json[] = {"Content-Type: application/json", NULL};
	char *name = rel_unique("rel-rebuild-check-"), *q = rel_json_quote(name);
	char *body = rel_strf("{\"circle_name\":%s,\"capacity\":100}", q);
	struct http_response r;
	json_object *o;
	const char *id;

	assert_int_equal(rel_request(&r, "POST", "/circle", json, body, strlen(body), 0, NULL), 0);
	assert_int_equal(r.status, 201);
	o = rel_body_json(&r);
	id = rel_jstr(o, "circle_id");
	assert_non_null(id);
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->version = 1;
	c->capacity = 100;
	json_object_put(o);
	http_response_free(&r);
	free(body);
	free(q);
	free(name);
}

/* --- circlectl rebuild-projections --- */

/* Runs it as the administrator; its exit status, its output in out. */
static int
run_rebuild(const char *database, char *out, size_t size)
{
	int fds[2], status = 0;
	size_t have = 0;
	ssize_t got;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		if (rel_env()->db_config)
			setenv("CIRCLE_ADMIN_CONFIG", rel_env()->db_config, 1);
		execlp(rel_env()->circlectl, rel_env()->circlectl, "rebuild-projections", "--group",
		       ADMIN_GROUP, "--database", database, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (have + 1 < size && (got = read(fds[0], out + have, size - 1 - have)) > 0)
		have += (size_t)got;
	out[have] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static void
print_latency(const char *when, long *ms, size_t n)
{
	if (n == 0)
		return;
	qsort(ms, n, sizeof(long), cmp_long);
	printf("  write latency %s: %zu writes, p50 %ld ms, p99 %ld ms, max %ld ms\n", when, n,
	       ms[n / 2], ms[(n * 99) / 100], ms[n - 1]);
}

static void
test_rebuild_under_load(void **state)
{
	struct load_config cfg = {
		.threads = 8,
		.max_ms = LOAD_MAX_MS,
		.max_requests = 2000000,
		.get_weight = 60,
		.list_weight = 10,
		.update_weight = 25,
		.create_weight = 5,
		.shared_circles = 4,
		.shared_update_pct = 10,
		.backoff_ms = 0,
		.prefix = "rel-rebuild-",
	};
	static struct checker checkers[CHECKERS];
	long long windows[REBUILD_RUNS][2];
	long held_ms[REBUILD_RUNS];
	atomic_int stop = 0;
	char database[65], tag[13], out[8192], *rnd;
	size_t n_in = 0, n_out = 0;
	long *in_rebuild, *outside;
	struct ledger *ledger;
	struct load_stats s;
	struct load *l;
	long long t0, waited;
	MYSQL *db;

	(void)state;
	rel_assert_healthy();
	db = admin_connect();
	if (!db)
		fail_msg("cannot connect as [" ADMIN_GROUP "] of CIRCLE_DB_CONFIG");
	admin_value(db, "SELECT DATABASE()", database, sizeof(database));
	rnd = rel_unique("");
	for (int i = 0; i < 12; i++)
		tag[i] = "0123456789abcdef"[(unsigned char)rnd[i] % 16];
	tag[12] = '\0';
	free(rnd);

	/* A long log, numbered by the workers' sequencer before the runs (as
	 * a log of some age is). */
	generate_events(db, tag);
	t0 = rel_now_ms();
	while (admin_count(db, "SELECT COUNT(*) FROM circle_events WHERE feed_position IS NULL") >
		       0 &&
	       rel_now_ms() - t0 < 120000)
		rel_sleep_ms(200);
	waited = rel_now_ms() - t0;
	printf("  %d events written, numbered by the sequencer in %lld ms\n", GEN_CIRCLES * 4,
	       waited);

	ledger = ledger_new();
	for (int i = 0; i < CHECKERS; i++) {
		checker_create(&checkers[i]);
		checkers[i].stop = &stop;
	}
	l = load_start(&cfg, ledger);
	assert_non_null(l);
	for (int i = 0; i < CHECKERS; i++)
		assert_int_equal(
			pthread_create(&checkers[i].thread, NULL, checker_thread, &checkers[i]), 0);
	/* Writes without a rebuild first: the latency to compare with. */
	rel_sleep_ms(BASELINE_MS);
	for (int run = 0; run < REBUILD_RUNS; run++) {
		const char *held;
		int rc;

		windows[run][0] = rel_now_ms();
		rc = run_rebuild(database, out, sizeof(out));
		windows[run][1] = rel_now_ms();
		printf("  rebuild %d (%lld ms): %s", run + 1, windows[run][1] - windows[run][0],
		       out);
		if (rc != 0)
			fail_msg("circlectl rebuild-projections exited %d", rc);
		held = strstr(out, "appends held for ");
		held_ms[run] = held ? atol(held + strlen("appends held for ")) : -1;
		rel_sleep_ms(GAP_MS);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < CHECKERS; i++)
		pthread_join(checkers[i].thread, NULL);
	load_stop(l, &s);
	load_print("load during the rebuilds", &s, (long)(rel_now_ms() - t0 - waited));

	/* Write latency the checkers saw: PUTs sent while a rebuild ran, and
	 * the others. */
	outside = calloc((size_t)CHECKERS * CHECKER_MAX_OPS, sizeof(long));
	in_rebuild = calloc((size_t)CHECKERS * CHECKER_MAX_OPS, sizeof(long));
	assert_true(outside && in_rebuild);
	for (int i = 0; i < CHECKERS; i++) {
		struct checker *c = &checkers[i];

		printf("  checker %d: %ld writes, %ld reads back\n", i, c->n_puts, c->reads);
		for (long k = 0; k < c->n_puts; k++) {
			bool during = false;

			for (int run = 0; run < REBUILD_RUNS; run++)
				during |= c->puts[k].at_ms >= windows[run][0] &&
					  c->puts[k].at_ms <= windows[run][1];
			if (during)
				in_rebuild[n_in++] = c->puts[k].ms;
			else
				outside[n_out++] = c->puts[k].ms;
		}
	}
	print_latency("during the rebuilds", in_rebuild, n_in);
	print_latency("without a rebuild", outside, n_out);
	printf("  appends held by the swaps: %ld, %ld, %ld ms\n", held_ms[0], held_ms[1],
	       held_ms[2]);
	free(outside);
	free(in_rebuild);

	for (int i = 0; i < CHECKERS; i++)
		if (checkers[i].bad > 0)
			fail_msg("checker %d: %ld answers not allowed; first: %s", i,
				 checkers[i].bad, checkers[i].first_bad);
	if (n_in == 0)
		fail_msg("no write was sent while a rebuild ran");
	load_assert_clean("load during the rebuilds", &s, ledger);
	rel_assert_verify_clean();
	/* No table of a rebuild left behind. */
	assert_int_equal(admin_count(db, "SELECT COUNT(*) FROM information_schema.TABLES WHERE"
					 " TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE"
					 " 'circle\\_projections\\_%'"),
			 0);
	remove_generated(db, tag);
	rel_assert_healthy();
	mysql_close(db);
	load_free(l);
	ledger_free(ledger);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rebuild_under_load),
	};

	if (rel_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("reliability: rebuild", tests, NULL, NULL);
}
