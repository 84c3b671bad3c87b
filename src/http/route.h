/*
 * The one route table of circle. Each row of CIRCLE_ROUTES is one endpoint:
 * its name, method, path pattern, the side whose worker serves it and its
 * handler, a function of that side's handlers_*.c. Adding an endpoint is one
 * row here plus its handler.
 *
 * The rows are expanded three ways, all const:
 * - enum http_route, one name per row;
 * - route.c's table of method, pattern and side, shared by both workers, so
 *   404 and 405 with its Allow header (the methods of both sides for the
 *   path) fall out of it in either worker;
 * - each side's handler table (handlers.h), indexed by route, where the rows
 *   of the other side expand to NULL: the other side's handler names are
 *   never even mentioned, so the query binary does not link a command use
 *   case nor the reverse, and a route of the other side reaching a worker
 *   answers 500 "misrouted".
 */
#ifndef CIRCLE_HTTP_ROUTE_H
#define CIRCLE_HTTP_ROUTE_H

#include <stddef.h>

#include "http/http.h"

/* X(name, method, pattern, side, handler); GET routes answer HEAD too. */
#define CIRCLE_ROUTES(X) \
	X(VERSION, "GET", "/version", READ, get_version) \
	X(HEALTH, "GET", "/health", READ, get_health) \
	X(LIST, "GET", "/circle", READ, list) \
	X(CREATE, "POST", "/circle", WRITE, create) \
	X(GET, "GET", "/circle/{id}", READ, get_one) \
	X(PUT, "PUT", "/circle/{id}", WRITE, update) \
	X(PATCH, "PATCH", "/circle/{id}", WRITE, update) \
	X(DELETE, "DELETE", "/circle/{id}", WRITE, delete) \
	X(EVENTS, "GET", "/circle/{id}/events", READ, events) \
	X(AT_VERSION, "GET", "/circle/{id}/versions/{n}", READ, at_version) \
	X(FEED, "GET", "/events", READ, feed)

#define ROUTE_ENUM_(name, method, pattern, side, handler) ROUTE_##name,
enum http_route { CIRCLE_ROUTES(ROUTE_ENUM_) ROUTE__MAX };
#undef ROUTE_ENUM_

/*
 * ROUTE_HANDLER(served, side, handler): the handler when the row's side is
 * the side being served, else NULL, so that each side's table is written
 *   #define ROW(name, method, pattern, side, handler) \
 *           [ROUTE_##name] = ROUTE_HANDLER(READ, side, handler),
 *   const http_handler query_handlers[ROUTE__MAX] = {CIRCLE_ROUTES(ROW)};
 */
#define ROUTE_HANDLER(served, side, handler) ROUTE_PICK_##served##_##side(handler)
#define ROUTE_PICK_READ_READ(h) h
#define ROUTE_PICK_READ_WRITE(h) NULL
#define ROUTE_PICK_WRITE_READ(h) NULL
#define ROUTE_PICK_WRITE_WRITE(h) h

struct route {
	const char *method;  /* GET routes answer HEAD too */
	const char *pattern; /* "/circle/{id}/versions/{n}" */
	enum side side;
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
