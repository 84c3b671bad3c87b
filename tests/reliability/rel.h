/*
 * The reliability tests' shared kit: where the running service is (its
 * port, the pid files of its processes, ./dev, circlectl), timed requests,
 * JSON helpers, worker pids and their memory, and the health and
 * consistency checks every test ends with.
 *
 * Environment (read by rel_init()):
 *   CIRCLE_HTTP_PORT   nginx's loopback port (8080)
 *   CIRCLE_RUN_DIR     the directory of the pid files (mysqld.pid,
 *                      command.pid, query.pid)
 *   CIRCLE_DEV         the ./dev script, for db-start and up
 *   CIRCLE_CIRCLECTL   the circlectl binary (default: circlectl on PATH)
 *   CIRCLE_DB_CONFIG   the option file circlectl and the lock session read
 *
 * Memory: what returns char * or json_object * belongs to the caller (free,
 * json_object_put); everything else owns nothing. Every function here may be
 * called from any thread except those that assert (rel_expect_*,
 * rel_assert_*), which only the test's own thread may call.
 */
#ifndef CIRCLE_TESTS_REL_H
#define CIRCLE_TESTS_REL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "../e2e/http_client.h"

#define REL_ID_LEN 36
/* nginx gives a worker 15 s (fastcgi_read_timeout) and a connect 2 s: no
 * answer may take longer than that, and a client waits a little more. */
#define REL_ANSWER_BOUND_MS 17000
#define REL_CLIENT_TIMEOUT_MS 20000

struct rel_env {
	unsigned short port;
	const char *run_dir; /* NULL when unknown */
	const char *dev;     /* NULL when unknown */
	const char *circlectl;
	const char *db_config; /* NULL when unset */
};

/* Reads the environment; 0, or -1 (with a message) when it is unusable. */
int rel_init(void);
const struct rel_env *rel_env(void);

long long rel_now_ms(void);
void rel_sleep_ms(int ms);

/* printf into a new string; aborts on out of memory. */
char *rel_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* prefix and twelve random lower-case letters: a name no other run uses. */
char *rel_unique(const char *prefix);
/* A random number in [0, n). */
uint32_t rel_rand(uint32_t n);

/* s as a JSON string literal, quotes included. */
char *rel_json_quote(const char *s);

/*
 * One request to the service with its latency; the result of http_send().
 * headers: "Name: value" lines, NULL-terminated, or NULL.
 */
int rel_request(struct http_response *r, const char *method, const char *target,
		const char *const *headers, const char *body, size_t body_len, int timeout_ms,
		long long *latency_ms);

/*
 * Sends raw bytes and reads whatever comes back until the server closes,
 * without parsing it: for answers that are not HTTP/1.x (nginx answers a
 * request line without a version the HTTP/0.9 way, a body alone). 0 with a
 * NUL-terminated buffer the caller frees in *out; -1 when no close came
 * within timeout_ms.
 */
int rel_raw_exchange(const char *raw, size_t len, int timeout_ms, char **out, size_t *out_len);

/* The body as JSON, or NULL when it is not JSON. */
json_object *rel_body_json(const struct http_response *r);
/* Members; NULL / -1 when missing or of another type. */
const char *rel_jstr(json_object *o, const char *key);
int rel_jint(json_object *o, const char *key, int64_t *out);
/* 1 when r is a problem+json answer with this status (and code, if not NULL). */
int rel_is_problem(const struct http_response *r, int status, const char *code);

/* Live pids of a pool ("command", "query") from its pid file; how many. */
size_t rel_pool_pids(const char *pool, pid_t *out, size_t max);
/* Prints each line of a pool's pid file with what /proc says of that pid
 * (its state and command line), for a test that found the pool not live. */
void rel_pool_report(const char *pool);
/* MariaDB's pid from its pid file, or -1. */
pid_t rel_db_pid(void);
/* VmRSS of a process in KiB, or -1. */
long rel_rss_kb(pid_t pid);
/* 1 when a file whose path contains what is mapped into pid. */
int rel_maps_contain(pid_t pid, const char *what);
/* 1 while pid is alive and not a zombie. */
int rel_alive(pid_t pid);

/* Runs "timeout SECS ./dev ARG"; its exit status, -1 when it could not run. */
int rel_dev(const char *arg, int secs);
/* ./dev up, with the kind of workers that run now (the flavour ./dev notes
 * beside a pool's pid file: --sanitizers, --valgrind), so that bringing a
 * pool back does not swap its build. */
int rel_dev_up(int secs);
/* Runs circlectl verify, echoing its output; its exit status (0 all agree,
 * 1 a mismatch, 2 it cannot tell, -1 it could not run). */
int rel_circlectl_verify(void);

/* Polls GET /health until it answers 200; the ms it took, or -1 after max_ms. */
long long rel_wait_healthy(int max_ms);

/* cmocka checks for the test's own thread. */
void rel_assert_healthy(void);
void rel_assert_verify_clean(void);
/* The request must get an answer; fails the test otherwise. */
void rel_expect_answer(struct http_response *r, const char *method, const char *target,
		       const char *const *headers, const char *body, size_t body_len);

#endif
