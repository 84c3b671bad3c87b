/*
 * circle-query.fcgi: the read side. Wires the read-only MariaDB reader and
 * the query handlers, then serves FastCGI.
 */
#include <stdio.h>

#include "http/handlers.h"
#include "query/circle_reader.h"
#include "store/store.h"
#include "worker.h"

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
	rc = worker_run(&app);
	store_free(st);
	return rc;
}
