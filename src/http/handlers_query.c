/*
 * The query side: GET (and so HEAD) routes over the circle_reader port.
 * Queries check the id, then the parameters, then existence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "codec/feed_json.h"
#include "codec/json_member.h"
#include "http/circle_json.h"
#include "http/handlers.h"
#include "http/json_out.h"
#include "http/request_headers.h"
#include "http/request_params.h"
#include "query/queries.h"

/*
 * Circle-Wait-For: a read that names a write is answered only from data that
 * includes it, so it waits here, after the id and parameter checks and
 * before anything is read. CE_OK when there is no header.
 */
static enum cerr
caught_up(const struct http_app *app, const struct http_request *req, struct cerr_info *info)
{
	if (req->wait_for == NULL)
		return CE_OK;
	if (headers_wait_for(req->wait_for, info) != CE_OK)
		return info->code;
	return wait_caught_up(app->reader, req->wait_for, app->wait_timeout_ms, info);
}

/* A handler that finished with obj (NULL: out of memory) answers 200. */
static void
ok_json(struct http_response *resp, json_object *obj)
{
	http_response_json(resp, 200, obj);
	json_object_put(obj);
}

/*
 * GET /version
 * 200 {"name","version"}: needs no database, so it answers even when the
 * database is down.
 */
static void
get_version(const struct http_app *app, const struct http_request *req,
	    const struct http_params *params, struct http_response *resp)
{
	json_object *obj = json_object_new_object();

	(void)app;
	(void)req;
	(void)params;
	if (obj != NULL &&
	    (json_member_add(obj, "name", json_object_new_string("circle")) != 0 ||
	     json_member_add(obj, "version", json_object_new_string(PACKAGE_VERSION)) != 0)) {
		json_object_put(obj);
		obj = NULL;
	}
	ok_json(resp, obj);
}

/* {"io": "Yes", "sql": "Yes", "lag_seconds": 0 or null}, or NULL when out
 * of memory. */
static json_object *
replica_json(const struct replication_state *rs)
{
	json_object *obj = json_object_new_object();

	if (obj == NULL)
		return NULL;
	if (!rs->known) {
		if (json_member_add(obj, "state", json_object_new_string("unknown")) != 0)
			goto oom;
		return obj;
	}
	if (json_member_add(obj, "state",
			    json_object_new_string(rs->io_running && rs->sql_running
							   ? "replicating"
							   : "stopped")) != 0 ||
	    json_member_add(obj, "io", json_object_new_string(rs->io_state)) != 0 ||
	    json_member_add(obj, "sql", json_object_new_string(rs->sql_state)) != 0)
		goto oom;
	if (rs->lag_seconds >= 0) {
		if (json_member_add(obj, "lag_seconds", json_object_new_int64(rs->lag_seconds)) !=
		    0)
			goto oom;
	} else if (json_object_object_add(obj, "lag_seconds", NULL) != 0) {
		goto oom;
	}
	return obj;
oom:
	json_object_put(obj);
	return NULL;
}

/*
 * GET /health
 * 200 {"status":"ok"} when the database answers, with "replica": its state
 * and lag when it is a replica; 503 when it cannot be reached or is a replica
 * that stopped replicating (so that a load balancer takes this host out).
 */
static void
get_health(const struct http_app *app, const struct http_request *req,
	   const struct http_params *params, struct http_response *resp)
{
	struct cerr_info info = {0};
	struct replication_state rs;
	json_object *obj;

	(void)req;
	(void)params;
	if (check_health(app->reader, &info) != CE_OK ||
	    check_replication(app->reader, &rs, &info) != CE_OK) {
		http_response_error(resp, &info);
		return;
	}
	obj = json_object_new_object();
	if (obj != NULL &&
	    (json_member_add(obj, "status", json_object_new_string("ok")) != 0 ||
	     (rs.replica && json_member_add(obj, "replica", replica_json(&rs)) != 0))) {
		json_object_put(obj);
		obj = NULL;
	}
	ok_json(resp, obj);
}

/*
 * The page array of list(): kept between requests for the default page size,
 * so a list allocates and clears nothing; a bigger page gets an array of its
 * own, freed after it (a struct circle, description included, is over 2 KiB).
 */
#define PAGE_KEPT (LIST_LIMIT_DEFAULT + 1)

static struct circle *page_kept;

static struct circle *
page_take(size_t n)
{
	if (n > PAGE_KEPT)
		return malloc(n * sizeof(struct circle));
	if (page_kept == NULL)
		page_kept = malloc(PAGE_KEPT * sizeof(struct circle));
	return page_kept;
}

static void
page_give(struct circle *page)
{
	if (page != page_kept)
		free(page);
}

/*
 * GET /circle?limit=N&after=ID
 * 200 {"circles":[…],"next_after":ID|null}; 400 invalid_parameter (limit,
 * after); 503 when the database is down; 500 out of memory.
 */
static void
list(const struct http_app *app, const struct http_request *req, const struct http_params *params,
     struct http_response *resp)
{
	struct cerr_info info = {0};
	char after[CIRCLE_ID_LEN + 1];
	struct circle *page = NULL;
	struct json_out o;
	unsigned limit;
	bool has_after, more = false;
	size_t n = 0, i;

	(void)params;
	if (params_list(req->query, &limit, after, &has_after, &info) != CE_OK ||
	    caught_up(app, req, &info) != CE_OK)
		goto fail;
	page = page_take((size_t)limit + 1);
	if (page == NULL) {
		cerr_set(&info, CE_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	if (list_circles(app->reader, has_after ? after : NULL, limit, page, &n, &more, &info) !=
	    CE_OK)
		goto fail;
	if (n > limit)
		n = limit;
	json_out_init(&o);
	json_out_lit(&o, "{\"circles\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			json_out_lit(&o, ",");
		circle_json_write(&o, &page[i]);
	}
	json_out_lit(&o, "],\"next_after\":");
	if (more && n > 0)
		json_out_str(&o, page[n - 1].id, strnlen(page[n - 1].id, sizeof(page[n - 1].id)));
	else
		json_out_lit(&o, "null");
	json_out_lit(&o, "}");
	page_give(page);
	http_response_json_out(resp, 200, &o);
	return;
fail:
	page_give(page);
	http_response_error(resp, &info);
}

/*
 * GET /circle/{id}
 * 200 the circle with its ETag; 304 when If-None-Match matches that ETag;
 * 400 invalid_circle_id; 404 unknown; 410 deleted; 503 database down.
 */
static void
get_one(const struct http_app *app, const struct http_request *req,
	const struct http_params *params, struct http_response *resp)
{
	struct cerr_info info = {0};
	char id[CIRCLE_ID_LEN + 1];
	struct circle c;

	if (path_circle_id(params->id, params->id_len, id, &info) != CE_OK ||
	    caught_up(app, req, &info) != CE_OK ||
	    get_circle(app->reader, id, &c, &info) != CE_OK) {
		http_response_error(resp, &info);
		return;
	}
	http_response_circle(resp, 200, &c);
	if (resp->status == 200 && headers_none_match(req->if_none_match, c.version)) {
		/* the headers of the 200, Content-Length included, without its body */
		resp->status = 304;
		resp->omit_body = true;
	}
}

/*
 * A JSON text built piece by piece: a page of history is written event by
 * event as it is rendered, never as one json-c tree of the whole page.
 */
struct json_text {
	char *buf;
	size_t len, cap;
	bool failed; /* out of memory: every later append is a no-op */
};

static void
json_text_add(struct json_text *t, const char *s, size_t len)
{
	if (t->failed)
		return;
	if (t->cap - t->len <= len) {
		size_t cap = t->cap > 0 ? t->cap : 4096;
		char *p;

		while (cap - t->len <= len)
			cap *= 2;
		p = realloc(t->buf, cap);
		if (p == NULL) {
			t->failed = true;
			return;
		}
		t->buf = p;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

static void
json_text_str(struct json_text *t, const char *s)
{
	json_text_add(t, s, strlen(s));
}

/* Appends the JSON text of obj and releases it; NULL is out of memory. */
static void
json_text_obj(struct json_text *t, json_object *obj)
{
	size_t len = 0;
	const char *s = NULL;

	if (obj != NULL)
		s = json_object_to_json_string_length(
			obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL)
		t->failed = true;
	else
		json_text_add(t, s, len);
	json_object_put(obj);
}

/*
 * GET /circle/{id}/events?after=V&limit=N
 * 200 {"circle_id","events":[…],"next_after":V|null}, deleted circles
 * included, events with version > after, at most limit of them; 400
 * invalid_circle_id or invalid_parameter (after, limit); 404 unknown; 503
 * database down; 500 out of memory.
 */
static void
events(const struct http_app *app, const struct http_request *req, const struct http_params *params,
       struct http_response *resp)
{
	struct cerr_info info = {0};
	char id[CIRCLE_ID_LEN + 1], num[16];
	struct circle_event *evs = NULL;
	struct json_text t = {0};
	uint32_t after;
	unsigned limit;
	bool more = false;
	size_t n = 0, i;

	if (path_circle_id(params->id, params->id_len, id, &info) != CE_OK ||
	    caught_up(app, req, &info) != CE_OK ||
	    params_history(req->query, &after, &limit, &info) != CE_OK ||
	    circle_history(app->reader, id, after, limit, &evs, &n, &more, &info) != CE_OK)
		goto fail;
	json_text_str(&t, "{\"circle_id\":\"");
	json_text_str(&t, id);
	json_text_str(&t, "\",\"events\":[");
	for (i = 0; i < n && !t.failed; i++) {
		json_object *e = circle_event_json_new(&evs[i]);

		if (e == NULL) {
			cerr_set(&info, CE_INTERNAL, NULL, "an event could not be rendered");
			goto fail;
		}
		if (i > 0)
			json_text_str(&t, ",");
		json_text_obj(&t, e);
	}
	json_text_str(&t, "],\"next_after\":");
	if (more && n > 0) {
		snprintf(num, sizeof(num), "%u", (unsigned)evs[n - 1].version);
		json_text_str(&t, num);
	} else {
		json_text_str(&t, "null");
	}
	json_text_str(&t, "}");
	free(evs);
	if (t.failed) {
		free(t.buf);
		http_response_fail(resp, CE_INTERNAL, "out of memory");
		return;
	}
	http_response_take_json(resp, 200, t.buf, t.len);
	return;
fail:
	free(t.buf);
	free(evs);
	http_response_error(resp, &info);
}

/*
 * GET /circle/{id}/versions/{n}
 * 200 the circle as it was at version n, with ETag "n"; 400
 * invalid_circle_id, or invalid_parameter "n" (not a positive decimal
 * without leading zeros); 404 unknown id or n beyond the latest version;
 * 410 n is the delete; 503 database down.
 */
static void
at_version(const struct http_app *app, const struct http_request *req,
	   const struct http_params *params, struct http_response *resp)
{
	struct cerr_info info = {0};
	char id[CIRCLE_ID_LEN + 1];
	struct circle c;
	uint32_t n = 0;

	if (path_circle_id(params->id, params->id_len, id, &info) != CE_OK ||
	    path_version(params->n, params->n_len, &n, &info) != CE_OK ||
	    caught_up(app, req, &info) != CE_OK ||
	    circle_at_version(app->reader, id, n, &c, &info) != CE_OK) {
		http_response_error(resp, &info);
		return;
	}
	http_response_circle(resp, 200, &c);
}

/*
 * GET /events?after=P&limit=N
 * 200 {"events":[…],"next_after":P}: the change feed, every committed event
 * in feed order, next_after the last position returned or `after` itself;
 * 400 invalid_parameter (after, limit); 503 database down; 500 out of memory.
 * With Circle-Wait-For it waits, like every read, until the database holds
 * that write (400 invalid_header, 503 not_caught_up). The write's event gets
 * its feed position from the sequencer's own later transaction, so the wait
 * makes the event's row current, not yet its place in the feed.
 */
static void
feed(const struct http_app *app, const struct http_request *req, const struct http_params *params,
     struct http_response *resp)
{
	struct cerr_info info = {0};
	struct feed_event *evs = NULL;
	json_object *obj = NULL, *arr;
	uint64_t after, next_after;
	unsigned limit;
	size_t n = 0, i;

	(void)params;
	if (params_feed(req->query, &after, &limit, &info) != CE_OK ||
	    caught_up(app, req, &info) != CE_OK ||
	    read_feed(app->reader, after, limit, &evs, &n, &next_after, &info) != CE_OK)
		goto fail;
	obj = json_object_new_object();
	arr = json_object_new_array_ext((int)n);
	if (obj == NULL || json_member_add(obj, "events", arr) != 0)
		goto oom;
	for (i = 0; i < n; i++) {
		json_object *e = feed_event_json_new(evs[i].position, &evs[i].event);

		if (e == NULL || json_object_array_add(arr, e) != 0) {
			json_object_put(e);
			goto oom;
		}
	}
	if (json_member_add(obj, "next_after", json_object_new_int64((int64_t)next_after)) != 0)
		goto oom;
	ok_json(resp, obj);
	free(evs);
	return;
oom:
	cerr_set(&info, CE_INTERNAL, NULL, "an event could not be rendered");
fail:
	json_object_put(obj);
	free(evs);
	http_response_error(resp, &info);
}

#define QUERY_ROW(name, method, pattern, side, handler) \
	[ROUTE_##name] = ROUTE_HANDLER(READ, side, handler),
const http_handler query_handlers[ROUTE__MAX] = {CIRCLE_ROUTES(QUERY_ROW)};
