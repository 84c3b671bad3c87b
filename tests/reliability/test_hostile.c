/*
 * Hostile input end to end, through nginx: SQL in every field, raw CR, LF
 * and NUL bytes in headers and ids, bytes that are not UTF-8, JSON nested
 * 10,000 deep, members named twice, a 1 MiB body, 16 KiB of query string.
 *
 * What may be stored is stored byte for byte and read back equal; what must
 * be refused is refused with a 4xx problem (never a 5xx, never a hang: every
 * request has a client timeout). After every hostile request GET /health is
 * 200, a circle made before keeps its version and body, and the whole list
 * of circles is what it was.
 *
 * Environment: see rel.h; REL_VERBOSE=1 prints every refusal as it comes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dbsession.h"
#include "rel.h"

#define CT_JSON "Content-Type: application/json"
/* A string literal and its length, NUL bytes inside included. */
#define BYTES(s) s, sizeof(s) - 1

static long hostile_sent, refused, stored;

/* What every hostile request must leave alone: a circle made before, the
 * first page of the list, and the stored data as a whole. */
static struct {
	char id[REL_ID_LEN + 1];
	char path[64];
	char *body; /* GET /circle/{id} as it was */
	char *etag;
	uint64_t page_hash; /* GET /circle?limit=1000 as it was */
	char fp[128];       /* counts and highest event position */
	char fp_full[256];  /* and the projection table's checksum */
} before;

/* A read-only session for the fingerprints. */
static struct dbs *db;

/* ------------------------------------------------------------ helpers */

struct buf {
	char *p;
	size_t n, cap;
};

static void
buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		size_t cap = (b->n + len + 1) * 2;
		char *bigger = realloc(b->p, cap);

		assert_non_null(bigger);
		b->p = bigger;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_fill(struct buf *b, char c, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf_add(b, &c, 1);
}

static uint64_t
fnv1a(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The first page of the list, hashed. */
static uint64_t
first_page_hash(void)
{
	struct http_response r;
	uint64_t h;

	rel_expect_answer(&r, "GET", "/circle?limit=1000", NULL, NULL, 0);
	if (r.status != 200)
		fail_msg("GET /circle?limit=1000 answered %d: %.300s", r.status, r.body);
	h = fnv1a(0xcbf29ce484222325ULL, r.body, r.body_len);
	http_response_free(&r);
	return h;
}

static void
fingerprint(int full, char *out, size_t out_len)
{
	char why[512];

	if (dbs_fingerprint(db, full, out, out_len, why, sizeof(why)) != 0)
		fail_msg("fingerprint: %s", why);
}

static void
take_snapshot(void)
{
	struct http_response r;

	rel_expect_answer(&r, "GET", before.path, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	free(before.body);
	free(before.etag);
	before.body = strdup(r.body);
	before.etag = strdup(http_header(&r, "ETag") ? http_header(&r, "ETag") : "");
	assert_non_null(before.body);
	assert_non_null(before.etag);
	http_response_free(&r);
	before.page_hash = first_page_hash();
	fingerprint(0, before.fp, sizeof(before.fp));
	fingerprint(1, before.fp_full, sizeof(before.fp_full));
}

/* The service is well and nothing changed: health, the circle, the list,
 * the stored events and projections. */
static void
assert_unchanged(const char *after_what)
{
	struct http_response r;
	char fp[sizeof(before.fp)];

	rel_expect_answer(&r, "GET", "/health", NULL, NULL, 0);
	if (r.status != 200)
		fail_msg("after %s: GET /health answered %d", after_what, r.status);
	http_response_free(&r);
	rel_expect_answer(&r, "GET", before.path, NULL, NULL, 0);
	if (r.status != 200 || strcmp(r.body, before.body) != 0 || !http_header(&r, "ETag") ||
	    strcmp(http_header(&r, "ETag"), before.etag) != 0)
		fail_msg("after %s: the circle changed: %d %s (was %s)", after_what, r.status,
			 r.body, before.body);
	http_response_free(&r);
	if (first_page_hash() != before.page_hash)
		fail_msg("after %s: the list changed", after_what);
	fingerprint(0, fp, sizeof(fp));
	if (strcmp(fp, before.fp) != 0)
		fail_msg("after %s: the stored data changed: %s, was %s", after_what, fp,
			 before.fp);
}

/* At the end of a test: every projection row as it was, too. */
static void
assert_unchanged_full(void)
{
	char fp[sizeof(before.fp_full)];

	fingerprint(1, fp, sizeof(fp));
	if (strcmp(fp, before.fp_full) != 0)
		fail_msg("the stored data changed: %s, was %s", fp, before.fp_full);
	printf("  unchanged: events, highest position, projections, checksum: %s\n", fp);
}

/* A refusal: a 4xx problem (the given status when not 0), no header the
 * request tried to inject. */
static void
assert_refused(const struct http_response *r, int status, const char *code, const char *what)
{
	hostile_sent++;
	if (r->status < 400 || r->status > 499 || (status && r->status != status))
		fail_msg("%s: answered %d, expected %s%d: %.300s", what, r->status,
			 status ? "" : "a 4xx like ", status ? status : 400, r->body);
	if (!rel_is_problem(r, r->status, code))
		fail_msg("%s: %d is not a%s problem+json: %s %.300s", what, r->status,
			 code ? "n expected" : "", http_header(r, "Content-Type"), r->body);
	if (http_header(r, "X-Injected") || http_header(r, "Set-Cookie"))
		fail_msg("%s: a header was injected into the answer", what);
	if (getenv("REL_VERBOSE"))
		printf("  %s: %d %.100s\n", what, r->status, r->body);
	refused++;
}

/* One request, refused, and nothing changed by it. */
static void
refuse(const char *method, const char *target, const char *const *headers, const char *body,
       size_t body_len, int status, const char *code)
{
	struct http_response r;
	char *what = rel_strf("%s %.80s", method, target);

	rel_expect_answer(&r, method, target, headers, body, body_len);
	assert_refused(&r, status, code, what);
	http_response_free(&r);
	assert_unchanged(what);
	free(what);
}

static void
refuse_json(const char *method, const char *target, const char *body, int status, const char *code)
{
	const char *h[] = {CT_JSON, NULL};

	refuse(method, target, h, body, strlen(body), status, code);
}

/* Raw bytes as the whole request: refused, nothing changed. */
static void
refuse_raw(const char *label, const char *raw, size_t len, int status)
{
	struct http_response r;
	char *what = rel_strf("raw request (%s)", label);

	if (http_send_raw(rel_env()->port, raw, len, 0, REL_CLIENT_TIMEOUT_MS, &r) != 0)
		fail_msg("%s: no answer within %d ms", what, REL_CLIENT_TIMEOUT_MS);
	assert_refused(&r, status, NULL, what);
	http_response_free(&r);
	assert_unchanged(what);
	free(what);
}

/*
 * Raw bytes whose request line ends in a bare LF: nginx may read it as an
 * HTTP/0.9 request and answer with a body alone. Either way the answer must
 * come at once and be a 4xx problem, and nothing may change.
 */
static void
refuse_raw_any(const char *label, const char *raw, size_t len)
{
	char *out = NULL, *what = rel_strf("raw request (%s)", label);
	size_t n = 0;

	if (rel_raw_exchange(raw, len, REL_CLIENT_TIMEOUT_MS, &out, &n) != 0)
		fail_msg("%s: no answer within %d ms", what, REL_CLIENT_TIMEOUT_MS);
	hostile_sent++;
	if (strncmp(out, "HTTP/1.", 7) == 0) {
		if (n < 12 || out[9] != '4')
			fail_msg("%s: answered %.12s", what, out);
	} else {
		/* the HTTP/0.9 way: the problem document alone */
		json_object *o = json_tokener_parse(out);
		int64_t status = 0;

		if (!o || rel_jint(o, "status", &status) != 0 || status < 400 || status > 499 ||
		    !rel_jstr(o, "code"))
			fail_msg("%s: answered %.300s", what, out);
		json_object_put(o);
	}
	if (getenv("REL_VERBOSE"))
		printf("  %s: %.100s\n", what, out);
	refused++;
	free(out);
	assert_unchanged(what);
	free(what);
}

/* A raw request: line, then "Host" and "Connection: close", then the given
 * header bytes, then a body with its length when body is not NULL. */
static void
raw_request(struct buf *b, const char *line, const char *hdrs, size_t hdrs_len, const char *body)
{
	b->n = 0;
	buf_str(b, line);
	buf_str(b, "\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
	buf_add(b, hdrs, hdrs_len);
	if (body) {
		char cl[64];

		snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", strlen(body));
		buf_str(b, cl);
	}
	buf_str(b, "\r\n");
	if (body)
		buf_str(b, body);
}

/* A create that must succeed; its id into id. */
static void
create_ok(const char *name, int capacity, const char *extra, char id[REL_ID_LEN + 1])
{
	char *q = rel_json_quote(name);
	char *body = rel_strf("{\"circle_name\":%s,\"capacity\":%d}", q, capacity);
	const char *h[] = {CT_JSON, extra, NULL};
	struct http_response r;
	json_object *o;
	const char *got;

	rel_expect_answer(&r, "POST", "/circle", h, body, strlen(body));
	if (r.status != 201)
		fail_msg("POST /circle %s answered %d: %.300s", body, r.status, r.body);
	o = rel_body_json(&r);
	got = rel_jstr(o, "circle_name");
	if (!got || strcmp(got, name) != 0)
		fail_msg("created as %s, sent %s", got ? got : "(none)", name);
	snprintf(id, REL_ID_LEN + 1, "%s", rel_jstr(o, "circle_id"));
	json_object_put(o);
	http_response_free(&r);
	free(body);
	free(q);
	stored++;
}

/* The id just below id, so that ?after= it lists id first. */
static void
id_before(const char *id, char out[REL_ID_LEN + 1])
{
	snprintf(out, REL_ID_LEN + 1, "%s", id);
	for (int i = REL_ID_LEN - 1; i >= 0; i--) {
		if (out[i] == '-')
			continue;
		if (out[i] != '0') {
			out[i] = out[i] == 'a' ? '9' : (char)(out[i] - 1);
			return;
		}
		out[i] = 'f';
	}
}

/* The name reads back byte-equal everywhere: the circle, the list, the
 * history's event at version. */
static void
assert_name_everywhere(const char *id, const char *name, int version)
{
	char *path = rel_strf("/circle/%s", id), *hist = rel_strf("/circle/%s/events", id);
	char prev[REL_ID_LEN + 1], *list;
	struct http_response r;
	json_object *o, *arr, *ev = NULL, *data;
	const char *got;

	rel_expect_answer(&r, "GET", path, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	o = rel_body_json(&r);
	got = rel_jstr(o, "circle_name");
	if (!got || strcmp(got, name) != 0)
		fail_msg("GET %s: name %s, stored %s", path, got ? got : "(none)", name);
	json_object_put(o);
	http_response_free(&r);

	id_before(id, prev);
	list = rel_strf("/circle?limit=1&after=%s", prev);
	rel_expect_answer(&r, "GET", list, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	o = rel_body_json(&r);
	assert_true(json_object_object_get_ex(o, "circles", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	got = rel_jstr(json_object_array_get_idx(arr, 0), "circle_name");
	if (!got || strcmp(got, name) != 0)
		fail_msg("GET %s: name %s, stored %s", list, got ? got : "(none)", name);
	json_object_put(o);
	http_response_free(&r);

	rel_expect_answer(&r, "GET", hist, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	o = rel_body_json(&r);
	assert_true(json_object_object_get_ex(o, "events", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		int64_t v;

		if (rel_jint(json_object_array_get_idx(arr, i), "version", &v) == 0 && v == version)
			ev = json_object_array_get_idx(arr, i);
	}
	assert_non_null(ev);
	assert_true(json_object_object_get_ex(ev, "data", &data));
	got = rel_jstr(data, "name");
	if (!got || strcmp(got, name) != 0)
		fail_msg("history of %s: name %s at version %d, stored %s", id,
			 got ? got : "(none)", version, name);
	json_object_put(o);
	http_response_free(&r);
	free(list);
	free(hist);
	free(path);
}

/* ------------------------------------------------------------ setup */

static int
setup(void **state)
{
	const char *h[] = {CT_JSON, "If-Match: \"1\"", NULL};
	const char *body = "{\"capacity\":42}";
	char *name = rel_unique("rel-sentinel-");
	struct http_response r;

	char why[512];

	(void)state;
	db = dbs_open(rel_env()->db_config, "circle-query", why, sizeof(why));
	if (!db) {
		printf("  no database session (CIRCLE_DB_CONFIG): %s\n", why);
		return -1;
	}
	create_ok(name, 41, NULL, before.id);
	stored--;
	snprintf(before.path, sizeof(before.path), "/circle/%s", before.id);
	/* at version 2, so a history and an ETag beyond the first are at stake */
	rel_expect_answer(&r, "PUT", before.path, h, body, strlen(body));
	assert_int_equal(r.status, 200);
	http_response_free(&r);
	take_snapshot();
	printf("  kept: the circle %s; the data: %s\n", before.body, before.fp_full);
	free(name);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dbs_close(db);
	free(before.body);
	free(before.etag);
	return 0;
}

/* ------------------------------------------------------------ SQL */

static void
test_sql_in_every_field(void **state)
{
	static const char *const names[] = {
		"'); DROP TABLE circle_events; --",
		"\"); DROP TABLE circle_projections; --",
		"' OR '1'='1",
		"' OR 1=1 LIMIT 1 -- ",
		"1; DELETE FROM circle_projections WHERE 1=1; --",
		"\\'; SELECT SLEEP(10); -- \\",
		"%_%' UNION SELECT circle_id, name, capacity, version, deleted FROM "
		"circle_projections -- ",
		"`; TRUNCATE circle_events; `",
		"/*!50000 DROP*/ TABLE idempotency_keys; #",
		"'||(SELECT payload FROM circle_events LIMIT 1)||'",
		"\\\\\\\" \\x27 \\0 %00 \\Z 😀 Ｆｏｏ",
	};
	const char *h[] = {CT_JSON, NULL};
	char id[REL_ID_LEN + 1], again[REL_ID_LEN + 1];
	char *key, *name, *target;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char suffix[8], *path, *body, *q;
		struct http_response r;

		name = rel_unique("");
		memcpy(suffix, name, 6);
		suffix[6] = '\0';
		free(name);
		/* a suffix keeps names unique across runs; the SQL comes first */
		name = rel_strf("%s %s", names[i], suffix);
		create_ok(name, 5, NULL, id);
		assert_name_everywhere(id, name, 1);

		/* renamed to more SQL by an update */
		path = rel_strf("/circle/%s", id);
		free(name);
		name = rel_strf("%s' -- %s", names[(i + 1) % (sizeof(names) / sizeof(names[0]))],
				suffix);
		q = rel_json_quote(name);
		body = rel_strf("{\"circle_name\":%s,\"version\":1}", q);
		rel_expect_answer(&r, "PUT", path, h, body, strlen(body));
		if (r.status != 200)
			fail_msg("PUT %s %s answered %d: %.300s", path, body, r.status, r.body);
		http_response_free(&r);
		stored++;
		assert_name_everywhere(id, name, 2);
		free(body);
		free(q);
		free(path);
		free(name);
	}
	take_snapshot();

	/* SQL in the Idempotency-Key: stored as a key, matched as one */
	key = rel_strf("Idempotency-Key: ';DROP/**/TABLE/**/idempotency_keys;--%u",
		       (unsigned)rel_rand(1000000000));
	name = rel_unique("rel-sql-key-");
	create_ok(name, 7, key, id);
	create_ok(name, 7, key, again);
	stored--;
	assert_string_equal(id, again);
	take_snapshot();

	/* SQL in the id, the parameters, the headers and the version: refused */
	refuse("GET", "/circle/'OR'1'='1", NULL, NULL, 0, 400, "invalid_circle_id");
	refuse("GET", "/circle/1'%20OR%20'1'='1", NULL, NULL, 0, 400, "invalid_circle_id");
	target = rel_strf("%s'--", before.path);
	refuse("GET", target, NULL, NULL, 0, 400, "invalid_circle_id");
	refuse_json("PUT", target, "{\"capacity\":9,\"version\":2}", 400, "invalid_circle_id");
	free(target);
	refuse("GET", "/circle?after=x'%20OR%201=1--", NULL, NULL, 0, 400, "invalid_parameter");
	refuse("GET", "/circle?limit=1;DROP%20TABLE%20circle_events", NULL, NULL, 0, 400,
	       "invalid_parameter");
	target = rel_strf("%s/versions/1%%20OR%%201=1", before.path);
	refuse("GET", target, NULL, NULL, 0, 400, "invalid_parameter");
	free(target);
	target = rel_strf("%s?version=2;DROP%%20TABLE%%20circle_events", before.path);
	refuse("DELETE", target, NULL, NULL, 0, 400, "invalid_parameter");
	free(target);
	{
		const char *hm[] = {CT_JSON, "If-Match: \"2' OR '1'='1\"", NULL};
		const char *b = "{\"capacity\":9}";

		refuse("PUT", before.path, hm, b, strlen(b), 400, "invalid_header");
	}
	refuse_json("PUT", before.path, "{\"capacity\":9,\"version\":\"2; DROP TABLE x\"}", 400,
		    "invalid_field");
	refuse_json("PUT", before.path, "{\"capacity\":\"9) OR (1=1\",\"version\":2}", 400,
		    "invalid_field");

	free(key);
	free(name);
	assert_unchanged_full();
}

/* ------------------------------------------------------------ raw bytes */

static void
test_control_bytes_in_headers_and_ids(void **state)
{
	struct buf b = {0};
	char *put_line = rel_strf("PUT %s HTTP/1.1", before.path);
	char *create_body = rel_strf("{\"circle_name\":\"%s\",\"capacity\":9}", "rel-hostile-raw");
	const char *upd = "{\"capacity\":99}";
	/* each would be a valid update of the kept circle without its bad bytes */
	static const struct {
		const char *label;
		const char *hdrs;
		size_t len;
	} if_match[] = {
		{"CR inside If-Match",
		 BYTES("Content-Type: application/json\r\nIf-Match: \"2\"\r\"3\"\r\n")},
		{"NUL inside If-Match",
		 BYTES("Content-Type: application/json\r\nIf-Match: \"2\0\"\r\n")},
		{"NUL after If-Match",
		 BYTES("Content-Type: application/json\r\nIf-Match: \"2\"\0x\r\n")},
		{"NUL in a header name",
		 BYTES("Content-Type: application/json\r\nIf-Match: \"2\"\r\nX-\0A: 1\r\n")},
		{"folded If-Match",
		 BYTES("Content-Type: application/json\r\nIf-Match: \"2\"\r\n \"3\"\r\n")},
		{"bare LF splits If-Match",
		 BYTES("Content-Type: application/json\r\nIf-Match: \"2\nX\"\r\n")},
		{"CR in Content-Type",
		 BYTES("Content-Type: application/json\rX\r\nIf-Match: \"2\"\r\n")},
		{"DEL inside If-Match",
		 BYTES("Content-Type: application/json\r\nIf-Match: \"2\x7f\"\r\n")},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(if_match) / sizeof(if_match[0]); i++) {
		raw_request(&b, put_line, if_match[i].hdrs, if_match[i].len, upd);
		refuse_raw(if_match[i].label, b.p, b.n, 0);
	}

	/* Idempotency-Key with bytes outside ! to ~, on a create that would
	 * otherwise succeed */
	{
		static const struct {
			const char *label;
			const char *hdrs;
			size_t len;
		} keys[] = {
			{"NUL in Idempotency-Key",
			 BYTES("Content-Type: application/json\r\nIdempotency-Key: ab\0cd\r\n")},
			{"CR in Idempotency-Key",
			 BYTES("Content-Type: application/json\r\nIdempotency-Key: ab\rcd\r\n")},
			{"TAB in Idempotency-Key",
			 BYTES("Content-Type: application/json\r\nIdempotency-Key: ab\tcd\r\n")},
			{"0x01 in Idempotency-Key",
			 BYTES("Content-Type: application/json\r\nIdempotency-Key: ab\x01"
			       "cd\r\n")},
			{"0xff in Idempotency-Key",
			 BYTES("Content-Type: application/json\r\nIdempotency-Key: ab\xff"
			       "cd\r\n")},
		};

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			raw_request(&b, "POST /circle HTTP/1.1", keys[i].hdrs, keys[i].len,
				    create_body);
			refuse_raw(keys[i].label, b.p, b.n, 0);
		}
	}

	/* bad bytes in the id of a write that would otherwise succeed */
	{
		static const char *const tails[] = {
			"%00", "%0d%0a", "%0d%0aX-Injected:%20yes", "%0a", "%ff", "%c0%af", "/.."};
		const char *hdr = "Content-Type: application/json\r\nIf-Match: \"2\"\r\n";

		for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			char *line = rel_strf("PUT %s%s HTTP/1.1", before.path, tails[i]);
			char *label = rel_strf("id ending %s", tails[i]);

			raw_request(&b, line, hdr, strlen(hdr), upd);
			refuse_raw(label, b.p, b.n, 0);
			free(label);
			free(line);
		}
		/* raw NUL, CR and LF inside the request line */
		raw_request(&b, put_line, hdr, strlen(hdr), upd);
		b.p[4 + strlen(before.path) - 1] = '\0';
		refuse_raw("NUL in the id", b.p, b.n, 0);
		raw_request(&b, put_line, hdr, strlen(hdr), upd);
		b.p[4 + strlen(before.path) - 1] = '\r';
		refuse_raw("CR in the id", b.p, b.n, 0);
		raw_request(&b, put_line, hdr, strlen(hdr), upd);
		b.p[4 + 8] = '\n';
		refuse_raw_any("LF in the id", b.p, b.n);
		raw_request(&b, put_line, hdr, strlen(hdr), upd);
		b.p[4 + strlen(before.path) - 4] = '\n';
		refuse_raw_any("LF late in the id", b.p, b.n);
	}

	/* header injection through a query parameter and a GET id */
	{
		char *t = rel_strf("%s?version=2%%0d%%0aX-Injected:%%20yes", before.path);

		refuse("DELETE", t, NULL, NULL, 0, 400, "invalid_parameter");
		free(t);
		refuse("GET", "/circle/%0d%0aSet-Cookie:%20a=b", NULL, NULL, 0, 0, NULL);
		refuse("GET", "/circle?after=%00", NULL, NULL, 0, 400, "invalid_parameter");
	}

	/* framing: lengths that contradict each other or make no sense */
	{
		static const char *const framing[] = {
			"Content-Type: application/json\r\nIf-Match: \"2\"\r\nContent-Length: "
			"15\r\nContent-Length: 14\r\n",
			"Content-Type: application/json\r\nIf-Match: \"2\"\r\nContent-Length: "
			"-15\r\n",
			"Content-Type: application/json\r\nIf-Match: \"2\"\r\nContent-Length: "
			"99999999999999999999\r\n",
			"Content-Type: application/json\r\nIf-Match: \"2\"\r\nContent-Length: 1 "
			"5\r\n",
		};

		for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++) {
			char *label = rel_strf("framing %zu", i);

			b.n = 0;
			buf_str(&b, put_line);
			buf_str(&b, "\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
			buf_str(&b, framing[i]);
			buf_str(&b, "\r\n");
			buf_str(&b, upd);
			refuse_raw(label, b.p, b.n, 0);
			free(label);
		}
	}
	free(b.p);
	free(create_body);
	free(put_line);
	assert_unchanged_full();
}

/* ------------------------------------------------------------ UTF-8 */

static void
test_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\xff",
		"\xfe\xff",
		"\x80",
		"\xc0\xaf",
		"\xe0\x80\xaf",
		"\xed\xa0\x80",
		"\xed\xbf\xbf",
		"\xf4\x90\x80\x80",
		"\xf8\x88\x80\x80\x80",
		"\xfc\x84\x80\x80\x80\x80",
		"\xe2\x82",
		"ok\xc3",
		"\xc3\x28",
		"a\xf0\x9f\x98",
	};
	const char *h[] = {CT_JSON, "If-Match: \"2\"", NULL};
	struct buf b = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *create = rel_strf("{\"circle_name\":\"rel-utf8-%s\",\"capacity\":9}", bad[i]);
		char *update = rel_strf("{\"circle_name\":\"x%sy\"}", bad[i]);
		char *key = rel_strf("{\"capacity\":9,\"x%s\":1}", bad[i]);

		refuse_json("POST", "/circle", create, 400, "invalid_json");
		refuse("PUT", before.path, h, update, strlen(update), 400, "invalid_json");
		refuse("PUT", before.path, h, key, strlen(key), 400, "invalid_json");
		free(key);
		free(update);
		free(create);
	}
	/* in the request line and the headers */
	{
		char *line = rel_strf("GET %s\xff HTTP/1.1", before.path);

		raw_request(&b, line, "", 0, NULL);
		refuse_raw("0xff in the id", b.p, b.n, 0);
		free(line);
		raw_request(&b, "GET /circle?after=\xc0\xaf HTTP/1.1", "", 0, NULL);
		refuse_raw("overlong UTF-8 in after", b.p, b.n, 400);
		line = rel_strf("PUT %s HTTP/1.1", before.path);
		raw_request(&b, line,
			    BYTES("Content-Type: application/json\r\nIf-Match: \"2\xc3\"\r\n"),
			    "{\"capacity\":99}");
		refuse_raw("invalid UTF-8 in If-Match", b.p, b.n, 400);
		free(line);
	}
	free(b.p);
	assert_unchanged_full();
}

/* ------------------------------------------------------------ JSON */

static void
test_deep_nesting(void **state)
{
	const char *h[] = {CT_JSON, "If-Match: \"2\"", NULL};
	struct buf b = {0};
	int depth = 10000;

	(void)state;
	/* arrays as the value of a member */
	buf_str(&b, "{\"circle_name\":");
	buf_fill(&b, '[', (size_t)depth);
	buf_fill(&b, ']', (size_t)depth);
	buf_str(&b, ",\"capacity\":9}");
	refuse_json("POST", "/circle", b.p, 400, "invalid_json");
	refuse("PUT", before.path, h, b.p, b.n, 400, "invalid_json");

	/* objects in objects */
	b.n = 0;
	for (int i = 0; i < depth; i++)
		buf_str(&b, "{\"a\":");
	buf_str(&b, "1");
	buf_fill(&b, '}', (size_t)depth);
	refuse_json("POST", "/circle", b.p, 400, "invalid_json");
	refuse("PUT", before.path, h, b.p, b.n, 400, "invalid_json");

	/* opened and never closed, as deep as 64 KiB allows */
	b.n = 0;
	buf_fill(&b, '[', 60000);
	refuse_json("POST", "/circle", b.p, 400, "invalid_json");
	b.n = 0;
	buf_str(&b, "{\"capacity\":");
	buf_fill(&b, '{', 60000);
	refuse("PUT", before.path, h, b.p, b.n, 400, "invalid_json");
	free(b.p);
	assert_unchanged_full();
}

static void
test_duplicate_keys(void **state)
{
	static const char *const creates[] = {
		"{\"circle_name\":\"rel-dup-a\",\"circle_name\":\"rel-dup-b\",\"capacity\":9}",
		"{\"circle_name\":\"rel-dup-a\",\"circle\\u005fname\":\"rel-dup-b\",\"capacity\":"
		"9}",
		"{\"circle_name\":\"rel-dup-a\",\"capacity\":9,\"capacity\":10}",
		"{\"circle_name\":\"rel-dup-a\",\"capacity\":9,\"\\u0063apacity\":9}",
	};
	static const char *const updates[] = {
		"{\"capacity\":50,\"capacity\":51,\"version\":2}",
		"{\"capacity\":50,\"version\":2,\"version\":1}",
		"{\"capacity\":50,\"version\":2,\"version\":2}",
		"{\"circle_name\":\"x\",\"circle_name\":\"x\",\"version\":2}",
		"{\"capacity\":50,\"v\\u0065rsion\":2,\"version\":2}",
	};
	const char *h[] = {CT_JSON, NULL};

	(void)state;
	for (size_t i = 0; i < sizeof(creates) / sizeof(creates[0]); i++)
		refuse_json("POST", "/circle", creates[i], 400, "invalid_json");
	for (size_t i = 0; i < sizeof(updates) / sizeof(updates[0]); i++)
		refuse("PUT", before.path, h, updates[i], strlen(updates[i]), 400, "invalid_json");
	/* another spelling of a member is another member */
	refuse_json("PUT", before.path, "{\"Capacity\":50,\"version\":2}", 400, "unknown_field");
	assert_unchanged_full();
}

/* ------------------------------------------------------------ sizes */

static void
test_big_body(void **state)
{
	size_t mib = 1024 * 1024;
	char *big = malloc(mib + 1);
	const char *h[] = {CT_JSON, "If-Match: \"2\"", NULL};
	struct buf b = {0};

	(void)state;
	assert_non_null(big);
	/* a valid update, padded with white space to 1 MiB */
	memset(big, ' ', mib);
	memcpy(big, "{\"capacity\":99}", 15);
	big[mib] = '\0';
	refuse("PUT", before.path, h, big, mib, 413, "payload_too_large");
	refuse_json("POST", "/circle", big, 413, "payload_too_large");
	memset(big, 'a', mib);
	refuse_json("POST", "/circle", big, 413, "payload_too_large");

	/* the same 1 MiB, chunked: no length for nginx to refuse up front */
	buf_str(&b, "PUT ");
	buf_str(&b, before.path);
	buf_str(&b, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		    "Content-Type: application/json\r\nIf-Match: \"2\"\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n");
	for (size_t sent = 0; sent < mib; sent += 16384) {
		buf_str(&b, "4000\r\n");
		buf_fill(&b, ' ', 16384);
		buf_str(&b, "\r\n");
	}
	buf_str(&b, "0\r\n\r\n");
	refuse_raw("1 MiB chunked", b.p, b.n, 413);
	free(b.p);
	free(big);
	assert_unchanged_full();
}

static void
test_long_query_and_headers(void **state)
{
	size_t n = 16 * 1024;
	char *pad = malloc(n + 1), *t, *hdr;
	const char *h[] = {CT_JSON, "If-Match: \"2\"", NULL};
	const char *upd = "{\"capacity\":99}";
	struct http_response r;

	(void)state;
	assert_non_null(pad);
	memset(pad, 'q', n);
	pad[n] = '\0';
	t = rel_strf("/circle?x=%s", pad);
	refuse("GET", t, NULL, NULL, 0, 414, "uri_too_long");
	free(t);
	t = rel_strf("%s?x=%s", before.path, pad);
	refuse("GET", t, NULL, NULL, 0, 414, "uri_too_long");
	refuse("PUT", t, h, upd, strlen(upd), 414, "uri_too_long");
	free(t);
	t = rel_strf("/circle?after=%s", pad);
	refuse("GET", t, NULL, NULL, 0, 414, "uri_too_long");
	free(t);
	/* 16 KiB in one header of a write */
	hdr = rel_strf("Idempotency-Key: %s", pad);
	{
		const char *hh[] = {CT_JSON, hdr, NULL};
		const char *body = "{\"circle_name\":\"rel-hostile-big-header\",\"capacity\":9}";

		rel_expect_answer(&r, "POST", "/circle", hh, body, strlen(body));
		assert_refused(&r, r.status == 400 ? 400 : 431, NULL, "16 KiB Idempotency-Key");
		http_response_free(&r);
		assert_unchanged("16 KiB Idempotency-Key");
	}
	free(hdr);
	/* a long query string that fits is ignored, not an error */
	pad[6000] = '\0';
	t = rel_strf("%s?x=%s", before.path, pad);
	rel_expect_answer(&r, "GET", t, NULL, NULL, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, before.body);
	http_response_free(&r);
	free(t);
	free(pad);
	assert_unchanged_full();
}

/* ------------------------------------------------------------ numbers */

static void
test_hostile_numbers(void **state)
{
	static const char *const updates[] = {
		"{\"capacity\":1e400,\"version\":2}",
		"{\"capacity\":99999999999999999999999999,\"version\":2}",
		"{\"capacity\":-0,\"version\":2}",
		"{\"capacity\":NaN,\"version\":2}",
		"{\"capacity\":Infinity,\"version\":2}",
		"{\"capacity\":0x10,\"version\":2}",
		"{\"capacity\":99,\"version\":18446744073709551618}",
		"{\"capacity\":99,\"version\":-1}",
		"{\"capacity\":99,\"version\":2.0}",
		"{\"capacity\":99,\"version\":4294967298}",
	};
	static const char *const tags[] = {
		"If-Match: \"18446744073709551618\"",
		"If-Match: \"4294967298\"",
		"If-Match: \"-2\"",
		"If-Match: \"2\", \"2\"",
		"If-Match: \"0x2\"",
	};
	const char *h[] = {CT_JSON, NULL};
	const char *upd = "{\"capacity\":99}";

	(void)state;
	for (size_t i = 0; i < sizeof(updates) / sizeof(updates[0]); i++)
		refuse("PUT", before.path, h, updates[i], strlen(updates[i]), 0, NULL);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		const char *hh[] = {CT_JSON, tags[i], NULL};

		refuse("PUT", before.path, hh, upd, strlen(upd), 0, NULL);
	}
	{
		char *t = rel_strf("%s/versions/18446744073709551618", before.path);

		refuse("GET", t, NULL, NULL, 0, 0, NULL);
		free(t);
	}
	refuse("GET", "/circle?limit=18446744073709551617", NULL, NULL, 0, 400,
	       "invalid_parameter");
	/* last: every circle's events still replay to its projection */
	rel_assert_verify_clean();
	assert_unchanged_full();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_in_every_field),
		cmocka_unit_test(test_control_bytes_in_headers_and_ids),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_big_body),
		cmocka_unit_test(test_long_query_and_headers),
		cmocka_unit_test(test_hostile_numbers),
	};
	int failed;

	if (rel_init() != 0)
		return 1;
	failed = cmocka_run_group_tests_name("reliability: hostile input", tests, setup, teardown);
	printf("hostile: %ld hostile requests sent, %ld refused with a 4xx problem, "
	       "%ld hostile writes stored and read back byte-equal\n",
	       hostile_sent, refused, stored);
	return failed;
}
