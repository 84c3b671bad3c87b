/*
 * Routing by the one table. Patterns are compared segment by segment on the
 * raw path: "{id}" and "{n}" take any one non-empty segment (the handler
 * judges its syntax, so a malformed id is a 400, not a 404), every other
 * segment must be equal byte for byte, so an encoded or case-changed literal,
 * an empty segment or a trailing slash matches nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "http/route.h"

static const struct route routes[] = {
	{"GET", "/version", HTTP_READ, ROUTE_VERSION},
	{"GET", "/health", HTTP_READ, ROUTE_HEALTH},
	{"GET", "/circle", HTTP_READ, ROUTE_LIST},
	{"POST", "/circle", HTTP_WRITE, ROUTE_CREATE},
	{"GET", "/circle/{id}", HTTP_READ, ROUTE_GET},
	{"PUT", "/circle/{id}", HTTP_WRITE, ROUTE_PUT},
	{"PATCH", "/circle/{id}", HTTP_WRITE, ROUTE_PATCH},
	{"DELETE", "/circle/{id}", HTTP_WRITE, ROUTE_DELETE},
	{"GET", "/circle/{id}/events", HTTP_READ, ROUTE_EVENTS},
	{"GET", "/circle/{id}/versions/{n}", HTTP_READ, ROUTE_AT_VERSION},
	{"GET", "/events", HTTP_READ, ROUTE_FEED},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

const struct route *
route_table(size_t *n)
{
	*n = NROUTES;
	return routes;
}

/* Length of the segment starting at s (up to '/' or the end). */
static size_t
seg_len(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash != NULL ? (size_t)(slash - s) : strlen(s);
}

/* Matches path against pattern; fills params on success. */
static bool
path_matches(const char *pattern, const char *path, struct http_params *params)
{
	struct http_params p = {0};
	const char *pt = pattern, *pa = path;

	for (;;) {
		size_t tl, al;

		/* both sides are at a '/' or at their end */
		if (*pt == '\0' || *pa == '\0')
			break;
		if (*pt != '/' || *pa != '/')
			return false;
		pt++;
		pa++;
		tl = seg_len(pt);
		al = seg_len(pa);
		if (al == 0)
			return false;
		if (tl == 4 && memcmp(pt, "{id}", 4) == 0) {
			p.id = pa;
			p.id_len = al;
		} else if (tl == 3 && memcmp(pt, "{n}", 3) == 0) {
			p.n = pa;
			p.n_len = al;
		} else if (tl != al || memcmp(pt, pa, tl) != 0) {
			return false;
		}
		pt += tl;
		pa += al;
	}
	if (*pt != '\0' || *pa != '\0')
		return false;
	*params = p;
	return true;
}

/* Appends ", name" (or "name" first) to allow; stops quietly when full. */
static void
allow_add(char *allow, size_t size, const char *name)
{
	size_t used = strlen(allow);

	snprintf(allow + used, size - used, "%s%s", used > 0 ? ", " : "", name);
}

enum route_result
route_find(const char *method, const char *path, const struct route **out,
	   struct http_params *params, char *allow, size_t allow_size)
{
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	bool path_found = false;
	size_t i;

	if (allow_size > 0)
		allow[0] = '\0';
	for (i = 0; i < NROUTES; i++) {
		struct http_params p;

		if (!path_matches(routes[i].pattern, path, &p))
			continue;
		if (strcmp(routes[i].method, want) == 0) {
			*out = &routes[i];
			*params = p;
			return ROUTE_MATCH;
		}
		path_found = true;
	}
	if (!path_found)
		return ROUTE_NO_PATH;
	/* a path matches exactly one pattern, so every route of it joins Allow */
	for (i = 0; i < NROUTES && allow_size > 0; i++) {
		struct http_params p;

		if (!path_matches(routes[i].pattern, path, &p))
			continue;
		allow_add(allow, allow_size, routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(allow, allow_size, "HEAD");
	}
	return ROUTE_NO_METHOD;
}

void
http_dispatch(const struct http_app *app, const struct http_request *req,
	      struct http_response *resp)
{
	const struct route *r = NULL;
	struct http_params params = {0};
	enum route_result rr;

	resp->omit_body = strcmp(req->method, "HEAD") == 0;
	/* the web server refuses such bodies before routing; answer the same */
	if (req->body_too_large) {
		http_response_fail(resp, CE_PAYLOAD_TOO_LARGE,
				   "the request body is larger than 64 KiB");
		return;
	}
	rr = route_find(req->method, req->path, &r, &params, resp->allow, sizeof(resp->allow));
	if (rr == ROUTE_NO_PATH) {
		http_response_fail(resp, CE_NOT_FOUND, "there is no such path");
		return;
	}
	if (rr == ROUTE_NO_METHOD) {
		http_response_fail(resp, CE_METHOD_NOT_ALLOWED,
				   "the path does not take this method");
		return;
	}
	if (r->side != app->side || app->handlers[r->id] == NULL) {
		http_response_fail(resp, CE_INTERNAL, "misrouted");
		return;
	}
	app->handlers[r->id](app, req, &params, resp);
}
