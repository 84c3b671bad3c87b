/*
 * Out of memory in the read handlers: for each request, the first, second,
 * third … allocation it makes fails in turn, until one run makes fewer
 * allocations than that. Every run must answer (the success, or a 500
 * problem) and leave nothing allocated once the response is freed.
 *
 * Allocations are counted and failed by malloc, calloc, realloc, free,
 * strdup and strndup defined in this program: an executable's definitions
 * are the ones every shared library calls too, json-c included. Under
 * AddressSanitizer or valgrind, which replace malloc themselves (valgrind
 * the executable's own too), the tests are skipped; their own leak checkers
 * cover the same paths there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "command/commands.h"
#include "http/handlers.h"

#include "../fakes/memory_apps.h"
#include "../fakes/memory_ports.h"

#if defined(__SANITIZE_ADDRESS__)
#define OOM_COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OOM_COUNTING 0
#endif
#endif
#ifndef OOM_COUNTING
#define OOM_COUNTING 1
#endif

/* Allocations that succeeded minus blocks freed. */
static long live;
/* 0: no failure armed; n: the n-th allocation from now fails. */
static long fail_in;
/* Whether the armed failure happened. */
static int failed;

#if OOM_COUNTING
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static int
inject(void)
{
	if (fail_in > 0 && --fail_in == 0) {
		failed = 1;
		return 1;
	}
	return 0;
}

void *
malloc(size_t size)
{
	void *p = inject() ? NULL : __libc_malloc(size);

	if (p != NULL)
		live++;
	return p;
}

void *
calloc(size_t n, size_t size)
{
	void *p = inject() ? NULL : __libc_calloc(n, size);

	if (p != NULL)
		live++;
	return p;
}

void *
realloc(void *old, size_t size)
{
	void *p;

	if (old != NULL && size == 0) {
		__libc_free(old);
		live--;
		return NULL;
	}
	p = inject() ? NULL : __libc_realloc(old, size);
	if (p != NULL && old == NULL)
		live++;
	return p;
}

void
free(void *p)
{
	if (p == NULL)
		return;
	live--;
	__libc_free(p);
}

char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

char *
strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}
#endif

static struct memory_ports mem;
static struct http_app cmd_app, qry_app;
static char ids[3][CIRCLE_ID_LEN + 1];

static void
dispatch(const struct http_app *app, const char *method, const char *path, const char *query,
	 const char *body, struct http_response *resp)
{
	struct http_request req = {0};

	req.method = method;
	req.path = path;
	req.query = query != NULL ? query : "";
	req.content_type = body != NULL ? "application/json" : NULL;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	http_response_init(resp);
	http_dispatch(app, &req, resp);
}

static int
setup(void **state)
{
	static const char *const names[3] = {"alpha", "beta", "gamma"};
	struct http_response resp;
	char body[128], path[64];
	size_t i;
	int v;

	(void)state;
	memory_ports_init(&mem);
	memory_apps_init(&mem, &cmd_app, &qry_app);
	for (i = 0; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"circle_name\":\"%s\",\"capacity\":5}", names[i]);
		dispatch(&cmd_app, "POST", "/circle", NULL, body, &resp);
		assert_int_equal(resp.status, 201);
		assert_int_equal(strlen(resp.location), strlen("/circle/") + CIRCLE_ID_LEN);
		memcpy(ids[i], resp.location + strlen("/circle/"), CIRCLE_ID_LEN + 1);
		http_response_free(&resp);
	}
	snprintf(path, sizeof(path), "/circle/%s", ids[0]);
	for (v = 1; v <= 4; v++) {
		snprintf(body, sizeof(body), "{\"capacity\":%d,\"version\":%d}", 5 + v, v);
		dispatch(&cmd_app, "PUT", path, NULL, body, &resp);
		assert_int_equal(resp.status, 200);
		http_response_free(&resp);
	}
	return 0;
}

/* Valgrind preloads its own libraries into the program it runs. */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* Runs one GET with each of its allocations failing in turn. */
static void
each_allocation_fails(const char *path, const char *query)
{
	struct http_response resp;
	long n;
	int ok_status = 0;

	if (!OOM_COUNTING || under_valgrind())
		skip();
	/* without failures first: the request answers 200 */
	dispatch(&qry_app, "GET", path, query, NULL, &resp);
	assert_int_equal(resp.status, 200);
	http_response_free(&resp);
	for (n = 1; n < 10000; n++) {
		long before = live;

		failed = 0;
		fail_in = n;
		dispatch(&qry_app, "GET", path, query, NULL, &resp);
		fail_in = 0;
		if (resp.status == 200) {
			assert_non_null(resp.body);
			ok_status = 1;
		} else if (resp.status != 500) {
			fail_msg("%s?%s with allocation %ld failing answered %d", path, query, n,
				 resp.status);
		}
		http_response_free(&resp);
		if (live != before)
			fail_msg("%s?%s with allocation %ld failing leaked %ld block(s)", path,
				 query, n, live - before);
		if (!failed)
			break;
	}
	assert_true(ok_status);
	assert_false(failed);
	printf("  %s?%s: %ld allocation(s), each failing in turn: no leak\n", path, query, n - 1);
}

static void
oom_list(void **state)
{
	(void)state;
	each_allocation_fails("/circle", "limit=2");
	each_allocation_fails("/circle", "");
}

static void
oom_history(void **state)
{
	char path[96];

	(void)state;
	snprintf(path, sizeof(path), "/circle/%s/events", ids[0]);
	each_allocation_fails(path, "");
	each_allocation_fails(path, "after=1&limit=2");
	each_allocation_fails(path, "after=5");
}

static void
oom_versions(void **state)
{
	char path[96];

	(void)state;
	snprintf(path, sizeof(path), "/circle/%s/versions/3", ids[0]);
	each_allocation_fails(path, "");
	snprintf(path, sizeof(path), "/circle/%s", ids[1]);
	each_allocation_fails(path, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(oom_list, setup),
		cmocka_unit_test_setup(oom_history, setup),
		cmocka_unit_test_setup(oom_versions, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
