/*
 * Long histories, end to end through nginx: reading them costs a query
 * worker bounded memory, and circlectl verify tells the truth on a live
 * system.
 *
 * - Circles of 1,000, 10,000 and 20,000 events are built: each is created
 *   through the API, and its later events are appended in one transaction
 *   of the test's own database session, rows exactly as the command worker
 *   writes them (an update event per version, a snapshot every
 *   STORE_SNAPSHOT_EVERY versions, the projection at the last one). Each
 *   history is then read page by page (after, limit, next_after) and checked
 *   whole, /versions/{n} is read at a few points, and the peak RSS (VmHWM)
 *   of every query worker must stay under HISTORY_RSS_BOUND_KB (16 MiB).
 * - circlectl verify runs while clients update circles, and must report no
 *   mismatch; a corrupted snapshot row and a corrupted projection row must
 *   each be reported, naming the circle; circlectl's own peak RSS is bounded
 *   as the workers' is.
 *
 * Environment: see rel.h; the option file (CIRCLE_DB_CONFIG) must have the
 * circle-command group, whose user writes the histories as the command
 * worker would, and the circle-admin group, an administrator who corrupts
 * the rows no worker's user may change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dbsession.h"
#include "rel.h"

#define HISTORY_RSS_BOUND_KB (16 * 1024)
#define SNAPSHOT_EVERY 10 /* STORE_SNAPSHOT_EVERY of src/store/store.h */
#define PAGE_MAX 1000
#define MAX_WORKERS 64
#define WRITERS 4
#define WRITER_UPDATES 150

static struct dbs *db;  /* as the command worker's user */
static struct dbs *adm; /* as an administrator */
static char ids[3][REL_ID_LEN + 1];
static char *names[3];
static const unsigned lengths[3] = {1000, 10000, 20000};

/* The capacity the built histories give a circle at version v >= 2. */
static int
capacity_at(unsigned v)
{
	return 3 + (int)(v % 1000);
}

static void
session_exec(struct dbs *d, const char *sql)
{
	char why[512];

	if (dbs_exec(d, sql, why, sizeof(why)) != 0)
		fail_msg("%s", why);
}

static void
db_exec(const char *sql)
{
	session_exec(db, sql);
}

/* POST /circle; the new id into id. */
static void
create(const char *name, char id[REL_ID_LEN + 1])
{
	struct http_response r;
	char *body = rel_strf("{\"circle_name\":\"%s\",\"capacity\":3}", name);
	const char *const hdr[] = {"Content-Type: application/json", NULL};
	json_object *o;
	const char *got;

	rel_expect_answer(&r, "POST", "/circle", hdr, body, strlen(body));
	assert_int_equal(r.status, 201);
	o = rel_body_json(&r);
	got = rel_jstr(o, "circle_id");
	assert_non_null(got);
	assert_int_equal(strlen(got), REL_ID_LEN);
	memcpy(id, got, REL_ID_LEN + 1);
	json_object_put(o);
	http_response_free(&r);
	free(body);
}

/* A circle of n events: created through the API, grown in one transaction. */
static void
build(unsigned n, char id[REL_ID_LEN + 1], char **name_out)
{
	char *name = rel_unique("history"), *sql;
	long long t0 = rel_now_ms();

	create(name, id);
	db_exec("SET SESSION max_recursive_iterations = 1000000");
	db_exec("START TRANSACTION");
	sql = rel_strf("INSERT INTO circle_events (id, circle_id, version, event_type, payload,"
		       " occurred_at) WITH RECURSIVE s(v) AS (SELECT 2 UNION ALL SELECT v + 1"
		       " FROM s WHERE v < %u) SELECT UUID(), '%s', v, 'circle_updated',"
		       " JSON_OBJECT('type', 'circle_updated', 'capacity', 3 + v %% 1000),"
		       " UTC_TIMESTAMP(6) FROM s",
		       n, id);
	db_exec(sql);
	free(sql);
	sql = rel_strf("INSERT INTO circle_snapshots (circle_id, version, name, capacity, deleted)"
		       " WITH RECURSIVE s(v) AS (SELECT %d UNION ALL SELECT v + %d FROM s"
		       " WHERE v + %d <= %u) SELECT '%s', v, '%s', 3 + v %% 1000, 0 FROM s",
		       SNAPSHOT_EVERY, SNAPSHOT_EVERY, SNAPSHOT_EVERY, n, id, name);
	db_exec(sql);
	free(sql);
	sql = rel_strf("UPDATE circle_projections SET capacity = %d, version = %u"
		       " WHERE circle_id = '%s' AND version = 1",
		       capacity_at(n), n, id);
	db_exec(sql);
	free(sql);
	db_exec("COMMIT");
	printf("  built a circle of %u events in %lld ms\n", n, rel_now_ms() - t0);
	*name_out = name;
}

/* VmHWM (peak resident set) of pid in KiB, or -1. */
static long
hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The highest VmHWM among the query workers whose memory can be judged
 * (not under ASan or valgrind, which keep freed memory); -1 when none. */
static long
query_peak_kb(void)
{
	pid_t pids[MAX_WORKERS];
	size_t n = rel_pool_pids("query", pids, MAX_WORKERS), i;
	long peak = -1;

	for (i = 0; i < n; i++) {
		long kb;

		if (rel_maps_contain(pids[i], "libasan") || rel_maps_contain(pids[i], "vgpreload"))
			continue;
		kb = hwm_kb(pids[i]);
		if (kb > peak)
			peak = kb;
	}
	return peak;
}

/* Reads the whole history of id page by page and checks every page. */
static void
read_history(const char *id, unsigned n, unsigned limit)
{
	unsigned after = 0, pages = 0;

	for (;;) {
		struct http_response r;
		char *target = limit > 0 ? rel_strf("/circle/%s/events?after=%u&limit=%u", id,
						    after, limit)
					 : rel_strf("/circle/%s/events?after=%u", id, after);
		unsigned want = limit > 0 ? limit : PAGE_MAX;
		json_object *o, *evs, *next;
		size_t len, i;

		rel_expect_answer(&r, "GET", target, NULL, NULL, 0);
		if (r.status != 200)
			fail_msg("%s answered %d: %s", target, r.status, r.body);
		o = rel_body_json(&r);
		assert_non_null(o);
		assert_string_equal(rel_jstr(o, "circle_id"), id);
		assert_true(json_object_object_get_ex(o, "events", &evs));
		assert_true(json_object_object_get_ex(o, "next_after", &next));
		len = json_object_array_length(evs);
		assert_true(len <= want);
		for (i = 0; i < len; i++) {
			int64_t v;

			assert_int_equal(rel_jint(json_object_array_get_idx(evs, i), "version", &v),
					 0);
			assert_int_equal(v, (int64_t)after + 1 + (int64_t)i);
		}
		after += (unsigned)len;
		pages++;
		if (after < n) {
			/* more follow: next_after is the last version returned */
			assert_int_equal(len, want);
			assert_true(json_object_is_type(next, json_type_int));
			assert_int_equal(json_object_get_int64(next), after);
		} else {
			assert_null(next);
		}
		json_object_put(o);
		http_response_free(&r);
		free(target);
		if (after >= n)
			break;
	}
	assert_int_equal(after, n);
	assert_int_equal(pages,
			 (n + (limit > 0 ? limit : PAGE_MAX) - 1) / (limit > 0 ? limit : PAGE_MAX));
}

static void
expect_capacity_at(const char *id, unsigned v, int capacity)
{
	struct http_response r;
	char *target = rel_strf("/circle/%s/versions/%u", id, v);
	json_object *o;
	int64_t got = 0, version = 0;

	rel_expect_answer(&r, "GET", target, NULL, NULL, 0);
	if (r.status != 200)
		fail_msg("%s answered %d: %s", target, r.status, r.body);
	o = rel_body_json(&r);
	assert_int_equal(rel_jint(o, "capacity", &got), 0);
	assert_int_equal(rel_jint(o, "version", &version), 0);
	assert_int_equal(got, capacity);
	assert_int_equal(version, v);
	json_object_put(o);
	http_response_free(&r);
	free(target);
}

static void
test_long_histories(void **state)
{
	long before = query_peak_kb();
	size_t i;

	(void)state;
	printf("  query workers' peak RSS before: %ld KiB\n", before);
	for (i = 0; i < 3; i++) {
		long long t0;
		long peak;

		build(lengths[i], ids[i], &names[i]);
		t0 = rel_now_ms();
		read_history(ids[i], lengths[i], 0);
		/* every worker serves some pages: read it once more */
		read_history(ids[i], lengths[i], 0);
		expect_capacity_at(ids[i], 1, 3);
		expect_capacity_at(ids[i], 2, capacity_at(2));
		expect_capacity_at(ids[i], lengths[i] - 1, capacity_at(lengths[i] - 1));
		expect_capacity_at(ids[i], lengths[i], capacity_at(lengths[i]));
		peak = query_peak_kb();
		printf("  %u events: read twice in pages of %d in %lld ms; query workers' peak "
		       "RSS %ld KiB\n",
		       lengths[i], PAGE_MAX, rel_now_ms() - t0, peak);
		if (peak >= 0 && peak >= HISTORY_RSS_BOUND_KB)
			fail_msg("a query worker peaked at %ld KiB (bound %d KiB)", peak,
				 HISTORY_RSS_BOUND_KB);
	}
	if (before < 0)
		printf("  no query worker pids (CIRCLE_RUN_DIR unset?): memory not checked\n");
	/* other page sizes join up the same way */
	read_history(ids[0], lengths[0], 7);
	read_history(ids[0], lengths[0], 1000);
	read_history(ids[0], lengths[0], 999);
	rel_assert_healthy();
}

/* circlectl verify with its output in out (a new string) and its peak RSS. */
static int
run_verify(char **out, long *maxrss_kb)
{
	char path[] = "/tmp/circle-verify-XXXXXX";
	int fd = mkstemp(path), status = 0;
	struct rusage ru;
	pid_t pid;
	FILE *f;
	long size;

	assert_true(fd >= 0);
	unlink(path);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execlp(rel_env()->circlectl, rel_env()->circlectl, "verify", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	*maxrss_kb = ru.ru_maxrss;
	f = fdopen(fd, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	*out = calloc(1, (size_t)size + 1);
	assert_non_null(*out);
	assert_int_equal(fread(*out, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	printf("    circlectl: %s", *out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct writer {
	char id[REL_ID_LEN + 1];
	int updates, errors;
};

static volatile int stop_writers;

/* Updates its circle one version at a time until told to stop. */
static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	const char *const hdr[] = {"Content-Type: application/json", NULL};
	unsigned version = 1;
	char *target = rel_strf("/circle/%s", w->id);

	while (!stop_writers && w->updates < WRITER_UPDATES) {
		struct http_response r;
		char *body =
			rel_strf("{\"capacity\":%u,\"version\":%u}", 3 + version % 500, version);

		if (rel_request(&r, "PUT", target, hdr, body, strlen(body), REL_CLIENT_TIMEOUT_MS,
				NULL) == 0) {
			if (r.status == 200) {
				version++;
				w->updates++;
			} else {
				w->errors++;
			}
			http_response_free(&r);
		} else {
			w->errors++;
		}
		free(body);
	}
	free(target);
	return NULL;
}

static void
test_verify_live(void **state)
{
	static struct writer w[WRITERS];
	pthread_t t[WRITERS];
	long rss = 0;
	int runs = 0, i;
	char *out = NULL;

	(void)state;
	for (i = 0; i < WRITERS; i++) {
		char *name = rel_unique("verify");

		memset(&w[i], 0, sizeof(w[i]));
		create(name, w[i].id);
		free(name);
	}
	stop_writers = 0;
	for (i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	/* verify while the writers commit; every run must find no mismatch */
	while (runs < 3) {
		int rc = run_verify(&out, &rss);

		if (rc != 0 || !strstr(out, ": 0 mismatches"))
			fail_msg("circlectl verify under writes exited %d: %s", rc, out);
		free(out);
		out = NULL;
		runs++;
	}
	stop_writers = 1;
	for (i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		printf("  writer %d: %d updates, %d refused\n", i, w[i].updates, w[i].errors);
		assert_true(w[i].updates > 0);
	}
	printf("  circlectl verify: %d runs under writes, 0 mismatches; its peak RSS %ld KiB\n",
	       runs, rss);
	assert_true(rss < HISTORY_RSS_BOUND_KB);
}

static void
expect_mismatch(const char *id, const char *why)
{
	char *out = NULL, *line = rel_strf("mismatch %s: %s", id, why);
	long rss = 0;
	int rc = run_verify(&out, &rss);

	assert_int_equal(rc, 1);
	if (!strstr(out, line))
		fail_msg("circlectl verify did not report \"%s\": %s", line, out);
	free(line);
	free(out);
}

static void
set_snapshot(const char *id, const char *name, unsigned version, int capacity)
{
	char *sql = rel_strf("DELETE FROM circle_snapshots WHERE circle_id = '%s' AND version = %u",
			     id, version);

	session_exec(adm, sql);
	free(sql);
	sql = rel_strf("INSERT INTO circle_snapshots (circle_id, version, name, capacity, deleted)"
		       " VALUES ('%s', %u, '%s', %d, 0)",
		       id, version, name, capacity);
	session_exec(adm, sql);
	free(sql);
}

static void
test_verify_finds_corruption(void **state)
{
	const char *id = ids[0];
	char *sql;

	(void)state;
	/* the circles of the first test */
	assert_true(id[0] != '\0' && names[0] != NULL);
	/* a snapshot row that disagrees with the events (snapshots are only
	 * ever inserted: the command worker's user may not replace one) */
	set_snapshot(id, names[0], 500, capacity_at(500) + 1);
	expect_mismatch(id, "a snapshot disagrees with the events (version 500)");
	set_snapshot(id, names[0], 500, capacity_at(500));
	/* a projection row that disagrees */
	sql = rel_strf("UPDATE circle_projections SET capacity = capacity + 1 WHERE circle_id = "
		       "'%s'",
		       id);
	db_exec(sql);
	free(sql);
	expect_mismatch(id, "the projection has another capacity");
	sql = rel_strf("UPDATE circle_projections SET capacity = %d WHERE circle_id = '%s'",
		       capacity_at(lengths[0]), id);
	db_exec(sql);
	free(sql);
	rel_assert_verify_clean();
}

static int
setup(void **state)
{
	char why[512];

	(void)state;
	if (rel_init() != 0)
		return -1;
	db = dbs_open(rel_env()->db_config, "circle-command", why, sizeof(why));
	if (!db) {
		fprintf(stderr, "cannot open a database session: %s\n", why);
		return -1;
	}
	adm = dbs_open(rel_env()->db_config, "circle-admin", why, sizeof(why));
	if (!adm) {
		fprintf(stderr, "cannot open an administrator's session: %s\n", why);
		dbs_close(db);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dbs_close(adm);
	dbs_close(db);
	for (size_t i = 0; i < 3; i++)
		free(names[i]);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_histories),
		cmocka_unit_test(test_verify_live),
		cmocka_unit_test(test_verify_finds_corruption),
	};

	return cmocka_run_group_tests_name("reliability: long histories", tests, setup, teardown);
}
