/*
 * Fuzzes whole requests through http_dispatch() (http/http.h): the real
 * route table, handlers and use cases, over small in-memory fakes of the
 * event store and the reader, both workers wired as the binaries wire them.
 *
 * Input: up to MAX_REQUESTS requests separated by NUL bytes, each
 *
 *     METHOD SP TARGET LF            TARGET is PATH or PATH?QUERY
 *     Name: value LF ...             Content-Type, If-Match, If-None-Match,
 *     LF                             Idempotency-Key; X-Fuzz-Down (the
 *     body                           database is down), X-Fuzz-Too-Large,
 *                                    X-Fuzz-Race (see serve())
 *
 * GET and HEAD go to the query worker, the rest to the command worker, as
 * nginx routes them; each request also goes to the wrong worker, which may
 * only refuse it. The world starts with three circles (one updated, one
 * deleted) and one remembered Idempotency-Key; see world_reset().
 *
 * Properties: every answer has a status of the contract (never a 500), a
 * body whose type fits it, problem+json whose members agree with the
 * status, headers that fit in the FastCGI head; a query or a refused
 * command changes nothing; a success appends at most one event and the
 * projection always equals the replay of the events; a created or updated
 * circle carries what the body asked for; HEAD answers what GET does.
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "command/commands.h"
#include "http/handlers.h"
#include "http/request_headers.h"
#include "http/request_params.h"
#include "http/problem.h"
#include "query/circle_reader.h"

#include "../fakes/memory_apps.h"
#include "../fakes/memory_ports.h"

#define MAX_REQUESTS 8

/* ---- the in-memory world behind both ports ---- */

static struct memory_ports mem;
static struct memory_world *const w = &mem.world;

/* What a use case hands the store must fit the port's contract. */
static void
check_append(const struct circle_event *ev, const struct circle *after, const struct idem_key *idem)
{
	FUZZ_CHECK(strcmp(ev->circle_id, after->id) == 0 && ev->version == after->version);
	if (idem != NULL)
		FUZZ_CHECK(headers_idempotency_key(idem->key, NULL) == CE_OK);
}

static void
check_list(const char *after)
{
	FUZZ_CHECK(after == NULL || text_uuid_valid(after, strlen(after)));
}

static void
seed_event(const char *id, uint32_t version, enum circle_event_type type, const char *name,
	   int capacity)
{
	struct circle_event *ev = &w->events[w->nevents++];

	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	snprintf(ev->event_id, sizeof(ev->event_id), "eeeeeeee-0000-4000-8000-%012zx", w->nevents);
	snprintf(ev->circle_id, sizeof(ev->circle_id), "%s", id);
	ev->version = version;
	snprintf(ev->occurred_at, sizeof(ev->occurred_at), "2026-01-01T00:00:00.000000Z");
	if (name != NULL) {
		ev->has_name = true;
		snprintf(ev->name, sizeof(ev->name), "%s", name);
	}
	if (capacity != 0) {
		ev->has_capacity = true;
		ev->capacity = capacity;
	}
}

/* Every projection row is the replay of its circle's events, and back. */
static void
world_check(void)
{
	size_t i, j;

	for (i = 0; i < w->nrows; i++) {
		struct circle_event *evs = NULL;
		struct circle state;
		size_t n = 0;

		FUZZ_CHECK(memory_events(w, w->rows[i].id, &evs, &n) == CE_OK && n > 0);
		FUZZ_CHECK(circle_replay(&state, evs, n) == CE_OK);
		free(evs);
		FUZZ_CHECK(strcmp(state.id, w->rows[i].id) == 0);
		FUZZ_CHECK(strcmp(state.name, w->rows[i].name) == 0);
		FUZZ_CHECK(state.capacity == w->rows[i].capacity);
		FUZZ_CHECK(state.version == w->rows[i].version);
		FUZZ_CHECK(state.deleted == w->rows[i].deleted);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(w->rows[i].id, w->rows[j].id) != 0);
	}
	for (i = 0; i < w->nevents; i++)
		FUZZ_CHECK(memory_row(w, w->events[i].circle_id) != NULL);
}

/*
 * 0191f6c4-…-5a10 "football" at version 2 (capacity 20 then 30),
 * 0191f6c4-…-5a11 "chess" deleted at version 2, 0191f6c4-…-5a12 "Café" at
 * version 1, created under Idempotency-Key "seed-key".
 */
static void
world_reset(void)
{
	static const char *const ids[] = {
		"0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10",
		"0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a11",
		"0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a12",
	};
	size_t i;

	memory_ports_init(&mem);
	mem.on_append = check_append;
	mem.on_list = check_list;
	seed_event(ids[0], 1, CIRCLE_CREATED, "football", 20);
	seed_event(ids[0], 2, CIRCLE_UPDATED, NULL, 30);
	seed_event(ids[1], 1, CIRCLE_CREATED, "chess", 5);
	seed_event(ids[1], 2, CIRCLE_DELETED, NULL, 0);
	seed_event(ids[2], 1, CIRCLE_CREATED, "Caf\xC3\xA9", 3);
	for (i = 0; i < 3; i++) {
		struct circle_event *evs = NULL;
		size_t n = 0;

		FUZZ_CHECK(memory_events(w, ids[i], &evs, &n) == CE_OK);
		FUZZ_CHECK(circle_replay(&w->rows[w->nrows++], evs, n) == CE_OK);
		free(evs);
	}
	snprintf(w->keys[0], sizeof(w->keys[0]), "seed-key");
	memcpy(w->recs[0].circle_id, ids[2], sizeof(w->recs[0].circle_id));
	snprintf(w->recs[0].name, sizeof(w->recs[0].name), "Caf\xC3\xA9");
	w->recs[0].capacity = 3;
	w->nkeys = 1;
	world_check();
}

/* ---- one request from the input ---- */

struct fuzz_request {
	struct http_request req;
	char *method, *path, *query, *content_type, *if_match, *if_none_match, *key;
	char *body;
	bool down, race;
};

static void
request_free(struct fuzz_request *fr)
{
	free(fr->method);
	free(fr->path);
	free(fr->query);
	free(fr->content_type);
	free(fr->if_match);
	free(fr->if_none_match);
	free(fr->key);
	free(fr->body);
}

/* The line at *p (up to LF or end) as [s, s+len); advances *p past it. */
static bool
next_line(const char **p, const char *end, const char **s, size_t *len)
{
	const char *lf;

	if (*p >= end)
		return false;
	lf = memchr(*p, '\n', (size_t)(end - *p));
	*s = *p;
	*len = (size_t)((lf != NULL ? lf : end) - *p);
	*p = lf != NULL ? lf + 1 : end;
	return true;
}

/* Sets a header copy; a repeated header keeps its last value. */
static void
set_header(char **slot, const char *v, size_t len)
{
	free(*slot);
	*slot = strndup(v, len);
}

/* Splits one request out of data[0..size) (no NUL inside). */
static int
request_parse(const char *data, size_t size, struct fuzz_request *fr)
{
	const char *p = data, *end = data + size, *line, *sp, *q;
	size_t len;

	memset(fr, 0, sizeof(*fr));
	if (!next_line(&p, end, &line, &len)) {
		line = "";
		len = 0;
	}
	sp = memchr(line, ' ', len);
	fr->method = strndup(line, sp != NULL ? (size_t)(sp - line) : len);
	if (sp != NULL) {
		const char *t = sp + 1;
		size_t tl = len - (size_t)(t - line);

		q = memchr(t, '?', tl);
		fr->path = strndup(t, q != NULL ? (size_t)(q - t) : tl);
		fr->query = q != NULL ? strndup(q + 1, tl - (size_t)(q + 1 - t)) : strdup("");
	} else {
		fr->path = strdup("");
		fr->query = strdup("");
	}
	while (next_line(&p, end, &line, &len) && len > 0) {
		const char *colon = memchr(line, ':', len), *v;
		size_t nl, vl;

		if (colon == NULL)
			continue;
		nl = (size_t)(colon - line);
		v = colon + 1;
		vl = len - nl - 1;
		if (vl > 0 && *v == ' ') {
			v++;
			vl--;
		}
		if (nl == 12 && strncasecmp(line, "Content-Type", nl) == 0)
			set_header(&fr->content_type, v, vl);
		else if (nl == 8 && strncasecmp(line, "If-Match", nl) == 0)
			set_header(&fr->if_match, v, vl);
		else if (nl == 13 && strncasecmp(line, "If-None-Match", nl) == 0)
			set_header(&fr->if_none_match, v, vl);
		else if (nl == 15 && strncasecmp(line, "Idempotency-Key", nl) == 0)
			set_header(&fr->key, v, vl);
		else if (nl == 11 && strncasecmp(line, "X-Fuzz-Down", nl) == 0)
			fr->down = true;
		else if (nl == 11 && strncasecmp(line, "X-Fuzz-Race", nl) == 0)
			fr->race = true;
		else if (nl == 16 && strncasecmp(line, "X-Fuzz-Too-Large", nl) == 0)
			fr->req.body_too_large = true;
	}
	/* like the FastCGI glue: keep at most HTTP_BODY_MAX bytes, flag the rest */
	len = (size_t)(end - p);
	if (len > HTTP_BODY_MAX) {
		len = HTTP_BODY_MAX;
		fr->req.body_too_large = true;
	}
	fr->body = malloc(len > 0 ? len : 1);
	if (fr->method == NULL || fr->path == NULL || fr->query == NULL || fr->body == NULL)
		return -1;
	memcpy(fr->body, p, len);
	fr->req.method = fr->method;
	fr->req.path = fr->path;
	fr->req.query = fr->query;
	fr->req.content_type = fr->content_type;
	fr->req.if_match = fr->if_match;
	fr->req.if_none_match = fr->if_none_match;
	fr->req.idempotency_key = fr->key;
	fr->req.body = fr->body;
	fr->req.body_len = len;
	return 0;
}

/* ---- checking an answer ---- */

static json_object *
parse_strict(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj = NULL;

	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	if (obj != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
			    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

static json_object *
get(json_object *obj, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

static const char *
get_str(json_object *obj, const char *key)
{
	json_object *v = get(obj, key);

	return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
								     : NULL;
}

static bool
known_status(int s)
{
	static const int ok[] = {200, 201, 204, 304, 400, 404, 405,
				 409, 410, 413, 415, 422, 428, 503};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ok[i] == s)
			return true;
	return false;
}

static void
check_problem(const struct http_response *resp, json_object *doc)
{
	json_object *st = get(doc, "status");
	const char *code = get_str(doc, "code"), *title = get_str(doc, "title");
	bool found = false;
	int c;

	FUZZ_CHECK(st != NULL && json_object_is_type(st, json_type_int) &&
		   json_object_get_int(st) == resp->status);
	FUZZ_CHECK(title != NULL && strcmp(title, http_status_reason(resp->status)) == 0);
	FUZZ_CHECK(get_str(doc, "detail") != NULL);
	FUZZ_CHECK(code != NULL);
	for (c = 0; c < CE__MAX; c++) {
		const struct problem_kind *k = problem_kind((enum cerr)c);

		if (strcmp(k->code, code) == 0 && k->status == resp->status) {
			found = true;
			/* a problem that names a subject names it under its member */
			if (k->member != NULL && get(doc, k->member) != NULL)
				FUZZ_CHECK(get_str(doc, k->member) != NULL);
		}
	}
	FUZZ_CHECK(found);
	if (strcmp(code, "version_mismatch") == 0)
		FUZZ_CHECK(get(doc, "current_version") != NULL);
	if (strcmp(code, "unknown_field") == 0) {
		const char *f = get_str(doc, "field");

		FUZZ_CHECK(f != NULL && strlen(f) <= 128);
	}
}

/* A circle body: its members, and the ETag that goes with it. */
static void
check_circle(const struct http_response *resp, json_object *doc)
{
	const char *id = get_str(doc, "circle_id"), *name = get_str(doc, "circle_name");
	json_object *cap = get(doc, "capacity"), *ver = get(doc, "version");
	char etag[32];

	FUZZ_CHECK(id != NULL && text_uuid_valid(id, strlen(id)));
	FUZZ_CHECK(name != NULL && circle_check_name(name, strlen(name), NULL) == CE_OK);
	FUZZ_CHECK(cap != NULL && circle_check_capacity(json_object_get_int64(cap), NULL) == CE_OK);
	FUZZ_CHECK(ver != NULL && json_object_get_int64(ver) >= 1);
	snprintf(etag, sizeof(etag), "\"%" PRId64 "\"", json_object_get_int64(ver));
	FUZZ_CHECK(strcmp(resp->etag, etag) == 0);
}

/* What the command body asked for is what the circle now has. */
static void
check_asked(const struct fuzz_request *fr, json_object *doc)
{
	json_object *asked = parse_strict(fr->body, fr->req.body_len), *v;

	if (asked == NULL)
		return;
	if ((v = get(asked, "circle_name")) != NULL)
		FUZZ_CHECK(strcmp(json_object_get_string(v), get_str(doc, "circle_name")) == 0);
	if ((v = get(asked, "capacity")) != NULL)
		FUZZ_CHECK(json_object_get_int64(v) == json_object_get_int64(get(doc, "capacity")));
	json_object_put(asked);
}

/* The CGI head fits FastCGI's buffer, and no smaller buffer overflows. */
static void
check_head(const struct http_response *resp)
{
	char head[1024], *tight;
	size_t hl = http_response_head(resp, head, sizeof(head));

	FUZZ_CHECK(hl > 0 && hl < sizeof(head) && strlen(head) == hl);
	FUZZ_CHECK(strncmp(head, "Status: ", 8) == 0 && strcmp(head + hl - 4, "\r\n\r\n") == 0);
	tight = malloc(hl + 1);
	if (tight == NULL)
		return;
	FUZZ_CHECK(http_response_head(resp, tight, hl + 1) == hl && memcmp(tight, head, hl) == 0);
	FUZZ_CHECK(http_response_head(resp, tight, hl) == 0);
	FUZZ_CHECK(http_response_head(resp, tight, hl / 2) == 0);
	free(tight);
}

static void
check_response(const struct fuzz_request *fr, const struct http_response *resp, bool read)
{
	json_object *doc = NULL;

	FUZZ_CHECK(known_status(resp->status));
	FUZZ_CHECK(strcmp(http_status_reason(resp->status), "Unknown") != 0);
	FUZZ_CHECK((resp->status == 405) == (resp->allow[0] != '\0'));
	FUZZ_CHECK((resp->status == 503) == (resp->retry_after > 0));
	FUZZ_CHECK(resp->omit_body == (strcmp(fr->method, "HEAD") == 0 || resp->status == 304));
	if (resp->status == 304)
		FUZZ_CHECK(fr->if_none_match != NULL && read);
	check_head(resp);
	if (resp->status == 204) {
		FUZZ_CHECK(resp->body == NULL && resp->content_type == NULL);
		FUZZ_CHECK(strcmp(fr->method, "DELETE") == 0);
		return;
	}
	FUZZ_CHECK(resp->body != NULL && resp->content_type != NULL);
	FUZZ_CHECK(strlen(resp->body) == resp->body_len);
	doc = parse_strict(resp->body, resp->body_len);
	FUZZ_CHECK(doc != NULL && json_object_is_type(doc, json_type_object));
	if (resp->status >= 400) {
		FUZZ_CHECK(strcmp(resp->content_type, "application/problem+json") == 0);
		FUZZ_CHECK(resp->etag[0] == '\0' && resp->location[0] == '\0');
		check_problem(resp, doc);
		goto out;
	}
	FUZZ_CHECK(strcmp(resp->content_type, "application/json") == 0);
	if (get(doc, "circle_name") != NULL)
		check_circle(resp, doc);
	if (resp->status == 201) {
		char loc[64];

		FUZZ_CHECK(strcmp(fr->method, "POST") == 0 && strcmp(resp->etag, "\"1\"") == 0);
		snprintf(loc, sizeof(loc), "/circle/%s", get_str(doc, "circle_id"));
		FUZZ_CHECK(strcmp(resp->location, loc) == 0);
	}
	if (!read)
		check_asked(fr, doc);
out:
	json_object_put(doc);
}

/* ---- the workers ---- */

static struct http_app cmd_app, qry_app;
/* FUZZ_TRACE set in the environment: print each answer, to read a corpus */
static bool trace;

static void
apps_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	trace = getenv("FUZZ_TRACE") != NULL;
	/* as the binaries do: each worker has only its own side's port */
	memory_apps_init(&mem, &cmd_app, &qry_app);
}

static struct memory_world before;

static void
serve(struct fuzz_request *fr)
{
	bool read = strcmp(fr->method, "GET") == 0 || strcmp(fr->method, "HEAD") == 0;
	struct http_response resp, wrong;

	w->down = fr->down;
	memcpy(&before, w, sizeof(before));

	/* the wrong worker only refuses, and touches nothing */
	http_response_init(&wrong);
	http_dispatch(read ? &cmd_app : &qry_app, &fr->req, &wrong);
	FUZZ_CHECK(wrong.status == 404 || wrong.status == 405 || wrong.status == 413 ||
		   wrong.status == 500);
	FUZZ_CHECK(memcmp(w, &before, sizeof(before)) == 0);
	http_response_free(&wrong);

	http_response_init(&resp);
	/*
	 * X-Fuzz-Race: the command's first read of the store is stale, as if
	 * another worker had committed just after it: the load misses the
	 * circle's last event and the Idempotency-Key lookup misses the key.
	 * The append then collides, and the use case must answer as the loser
	 * of a race.
	 */
	mem.stale = fr->race && !read ? 1 : 0;
	http_dispatch(read ? &qry_app : &cmd_app, &fr->req, &resp);
	mem.stale = 0;
	if (trace)
		fprintf(stderr, "%s %s?%s -> %d %.*s\n", fr->method, fr->path, fr->query,
			resp.status, resp.body != NULL ? (int)resp.body_len : 0,
			resp.body != NULL ? resp.body : "");
	check_response(fr, &resp, read);
	if (read || resp.status >= 300) {
		FUZZ_CHECK(memcmp(w, &before, sizeof(before)) == 0);
	} else {
		/* one event at most, and only that */
		FUZZ_CHECK(w->nevents == before.nevents || w->nevents == before.nevents + 1);
		FUZZ_CHECK(memcmp(w->events, before.events,
				  before.nevents * sizeof(w->events[0])) == 0);
		if (resp.status == 204)
			FUZZ_CHECK(w->nevents == before.nevents + 1 &&
				   w->events[before.nevents].type == CIRCLE_DELETED);
	}
	if (strcmp(fr->method, "HEAD") == 0) {
		struct http_response as_get;

		/* HEAD answers the status and headers GET would */
		fr->req.method = "GET";
		http_response_init(&as_get);
		http_dispatch(&qry_app, &fr->req, &as_get);
		fr->req.method = fr->method;
		FUZZ_CHECK(as_get.status == resp.status && as_get.body_len == resp.body_len);
		FUZZ_CHECK(strcmp(as_get.etag, resp.etag) == 0);
		FUZZ_CHECK(strcmp(as_get.allow, resp.allow) == 0);
		FUZZ_CHECK(as_get.content_type == resp.content_type);
		http_response_free(&as_get);
	}
	http_response_free(&resp);
	w->down = false;
	world_check();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	int n = 0;

	apps_init();
	world_reset();
	while (p <= end && n++ < MAX_REQUESTS) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t len = (size_t)((nul != NULL ? nul : end) - p);
		struct fuzz_request fr;

		if (request_parse(p, len, &fr) == 0)
			serve(&fr);
		request_free(&fr);
		if (nul == NULL)
			break;
		p = nul + 1;
	}
	return 0;
}
