/*
 * The one route table of circle: method, path pattern, side and route id.
 * 404 and 405 (with its Allow header) fall out of it, and the side tag keeps
 * each worker to its own routes: a route whose side is not the worker's has
 * no handler there and answers 500 "misrouted".
 */
#ifndef CIRCLE_HTTP_ROUTE_H
#define CIRCLE_HTTP_ROUTE_H

#include <stddef.h>

#include "http/http.h"

struct route {
	const char *method;  /* GET routes answer HEAD too */
	const char *pattern; /* "/circle/{id}/versions/{n}" */
	enum http_side side;
	enum http_route id;
};

enum route_result {
	ROUTE_MATCH = 0, /* *out is the route, params filled */
	ROUTE_NO_PATH,   /* no pattern matches the path: 404 */
	ROUTE_NO_METHOD, /* the path exists, the method does not: 405 */
};

/* The whole table, in order; *n receives its length. */
const struct route *route_table(size_t *n);

/*
 * Finds the route for method and path (a raw path, before any '?').
 * HEAD matches GET routes. On ROUTE_MATCH *out and *params are set; on
 * ROUTE_NO_METHOD allow[allow_size] receives the Allow value ("GET, HEAD").
 */
enum route_result route_find(const char *method, const char *path, const struct route **out,
			     struct http_params *params, char *allow, size_t allow_size);

#endif
