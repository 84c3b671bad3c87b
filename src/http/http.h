/*
 * The HTTP edge of circle: one request in, one response out. A request is
 * what the web server passed over FastCGI; http_dispatch() routes it through
 * the one route table to a handler of this worker's side and always fills a
 * response, success or problem+json. Nothing here knows about the database:
 * handlers reach it only through the use cases and their ports.
 */
#ifndef CIRCLE_HTTP_HTTP_H
#define CIRCLE_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/circle.h"
#include "domain/error.h"
#include "domain/side.h"

/* The largest body accepted; one byte more is a 413. */
#define HTTP_BODY_MAX 65536

/*
 * A request's time budget in milliseconds, counted from when nginx received
 * it (REQUEST_START): well under nginx's fastcgi_read_timeout (15 s), so the
 * worker has answered, 2xx, 4xx or 503, before nginx gives up on it. A
 * request that waited past it for a worker is not started at all.
 */
#define HTTP_REQUEST_BUDGET_MS 10000

struct json_object;
struct command_ctx;
struct circle_reader;

/*
 * One request. Every string is borrowed from the caller and outlives the
 * dispatch; absent headers are NULL.
 */
struct http_request {
	const char *method; /* "GET", "POST", … (case-sensitive) */
	const char *path;   /* raw path before any '?', never decoded */
	const char *query;  /* the raw query string, "" when none */
	const char *content_type;
	const char *if_match;
	const char *if_none_match;
	const char *idempotency_key;
	const char *wait_for; /* Circle-Wait-For */
	const char *body;     /* body_len bytes, not NUL-terminated */
	size_t body_len;
	bool body_too_large; /* more than HTTP_BODY_MAX bytes were sent */
};

/*
 * One response. body is owned by the response (http_response_free() frees
 * it); the header strings are stored inline so nothing else needs freeing.
 */
struct http_response {
	int status;
	const char *content_type;          /* static; NULL when there is no body */
	char etag[16];                     /* "\"<version>\"", or "" for none */
	char location[64];                 /* or "" */
	char allow[64];                    /* or "" */
	unsigned retry_after;              /* seconds; 0 for none */
	char commit[COMMIT_TOKEN_MAX + 1]; /* Circle-Commit, or "" */
	char *body;
	size_t body_len;
	size_t body_cap; /* bytes allocated at body (at least body_len + 1) */
	bool omit_body;  /* HEAD and 304: headers as if sent, no body */
};

/* The variable path segments of a matched route, borrowed from the path. */
struct http_params {
	const char *id; /* {id}, or NULL */
	size_t id_len;
	const char *n; /* {n}, or NULL */
	size_t n_len;
};

struct http_app;

/* A handler always fills resp (success or problem). */
typedef void (*http_handler)(const struct http_app *app, const struct http_request *req,
			     const struct http_params *params, struct http_response *resp);

/*
 * What one worker serves: its side and that side's handler table
 * (handlers.h), indexed by enum http_route (route.h), so a route of the
 * other side has no handler here.
 */
struct http_app {
	enum side side;
	struct command_ctx *commands; /* the command worker's use-case context */
	struct circle_reader *reader; /* the query worker's port */
	const http_handler *handlers; /* ROUTE__MAX entries */
	/* Optional: told before each dispatch by when (monotonic ms) the
	 * request's work must be over. */
	void (*set_deadline)(void *ctx, int64_t deadline_ms);
	void *deadline_ctx;
	/* The longest a read waits for the write in its Circle-Wait-For. */
	unsigned wait_timeout_ms;
};

/* route.c: routes req and fills resp; resp must be initialised. */
void http_dispatch(const struct http_app *app, const struct http_request *req,
		   struct http_response *resp);

/* response.c */
/* An empty 500 response; call before filling. */
void http_response_init(struct http_response *resp);
/* Frees the body and resets the response; NULL is fine. */
void http_response_free(struct http_response *resp);
/*
 * Serialises obj (borrowed) as the application/json body with status.
 * On failure the response becomes a 500 problem.
 */
void http_response_json(struct http_response *resp, int status, struct json_object *obj);
/*
 * Makes body[0..len) (a JSON text from malloc, owned by the response from
 * now on, also when this fails) the application/json body with status.
 */
void http_response_take_json(struct http_response *resp, int status, char *body, size_t len);
struct json_out;
/*
 * Makes the text of o (json_out.h) the application/json body with status,
 * taking its buffer; when o failed, the response becomes a 500 problem.
 */
void http_response_json_out(struct http_response *resp, int status, struct json_out *o);
/*
 * One body buffer is kept between requests: http_response_free() puts the
 * body there (when not too big) and http_body_spare() hands it out again
 * (NULL when there is none; *cap its size), so an answer needs no
 * allocation. One slot per process: a worker serves one request at a time.
 */
char *http_body_spare(size_t *cap);
/* Gives buf (cap bytes, or NULL) to the slot, or frees it. */
void http_body_return(char *buf, size_t cap);
/* Frees what the slot holds (at exit, so that nothing stays reachable). */
void http_body_spare_free(void);
/* Makes the response the problem+json for info (see problem.h). */
void http_response_error(struct http_response *resp, const struct cerr_info *info);
/* Shorthand for a problem without subject. */
void http_response_fail(struct http_response *resp, enum cerr code, const char *detail);
/* Sets the ETag to "\"<version>\"". */
void http_response_etag(struct http_response *resp, uint64_t version);
/*
 * Writes the CGI response header block ("Status: …\r\n…\r\n\r\n") into
 * buf[size]; returns its length, or 0 when it does not fit.
 */
size_t http_response_head(const struct http_response *resp, char *buf, size_t size);
/*
 * The reason phrase of every status circle answers, written once: the status
 * line (http_status_reason) and the problem titles (problem.c) both take it
 * from here.
 */
#define HTTP_REASON_200 "OK"
#define HTTP_REASON_201 "Created"
#define HTTP_REASON_204 "No Content"
#define HTTP_REASON_304 "Not Modified"
#define HTTP_REASON_400 "Bad Request"
#define HTTP_REASON_404 "Not Found"
#define HTTP_REASON_405 "Method Not Allowed"
#define HTTP_REASON_409 "Conflict"
#define HTTP_REASON_410 "Gone"
#define HTTP_REASON_413 "Content Too Large"
#define HTTP_REASON_415 "Unsupported Media Type"
#define HTTP_REASON_422 "Unprocessable Content"
#define HTTP_REASON_428 "Precondition Required"
#define HTTP_REASON_500 "Internal Server Error"
#define HTTP_REASON_503 "Service Unavailable"
/* A status and its reason phrase, as two initialisers: HTTP_STATUS(404). */
#define HTTP_STATUS(n) n, HTTP_REASON_##n

/* The reason phrase of a status ("Not Found"); "Unknown" when unknown. */
const char *http_status_reason(int status);

#endif
