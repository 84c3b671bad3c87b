/*
 * circle-query.fcgi: the read side. Wires the read-only MariaDB reader and
 * the query handlers, then serves FastCGI.
 */
#include <stdio.h>
#include <stdlib.h>

#include "http/handlers.h"
#include "query/circle_reader.h"
#include "store/store.h"
#include "worker.h"

/* How long a read waits for the write named in Circle-Wait-For. */
#define WAIT_TIMEOUT_DEFAULT_MS 5000u
/* Below the connection's 10 s read timeout and nginx's 15 s for the worker. */
#define WAIT_TIMEOUT_MAX_MS 9000u

/* CIRCLE_WAIT_TIMEOUT_MS, 0..9000; anything else keeps the default. */
static unsigned
wait_timeout_ms(void)
{
	const char *v = getenv("CIRCLE_WAIT_TIMEOUT_MS");
	unsigned long ms;
	char *end;

	if (v == NULL || *v == '\0')
		return WAIT_TIMEOUT_DEFAULT_MS;
	ms = strtoul(v, &end, 10);
	if (*end != '\0' || *v < '0' || *v > '9' || ms > WAIT_TIMEOUT_MAX_MS) {
		fprintf(stderr, "circle-query: CIRCLE_WAIT_TIMEOUT_MS must be 0 to %u: using %u\n",
			WAIT_TIMEOUT_MAX_MS, WAIT_TIMEOUT_DEFAULT_MS);
		return WAIT_TIMEOUT_DEFAULT_MS;
	}
	return (unsigned)ms;
}

int
main(int argc, char **argv)
{
	struct store_config cfg;
	struct circle_reader reader;
	struct http_app app = {0};
	struct store *st;
	int rc;

	rc = worker_options(argc, argv, "circle-query.fcgi", "query (read-only)");
	if (rc >= 0)
		return rc;
	store_config_from_env(&cfg, "circle-query");
	st = store_new(&cfg, STORE_READ);
	if (st == NULL) {
		fprintf(stderr, "circle-query: out of memory\n");
		return 1;
	}
	/* a database that is down now answers 503 until it is back */
	if (store_ensure(st) != CE_OK)
		fprintf(stderr,
			"circle-query: database unavailable, serving 503 until it returns\n");
	store_circle_reader(st, &reader);
	app.side = SIDE_READ;
	app.reader = &reader;
	app.handlers = query_handlers;
	app.wait_timeout_ms = wait_timeout_ms();
	rc = worker_run(&app);
	store_free(st);
	return rc;
}
