/*
 * A small HTTP/1.1 client for the end-to-end tests. Each request opens its
 * own TCP connection to 127.0.0.1, sends "Connection: close" and reads the
 * answer to the end, all under one deadline, so a test never hangs on a
 * server that does not answer.
 *
 * Memory: a response owns its strings; http_response_free() releases them.
 * Request strings are only read.
 */
#ifndef CIRCLE_TESTS_HTTP_CLIENT_H
#define CIRCLE_TESTS_HTTP_CLIENT_H

#include <stddef.h>

struct http_header {
	char *name;
	char *value;
};

struct http_response {
	int status;                  /* e.g. 200 */
	struct http_header *headers; /* in the order received */
	size_t nheaders;
	char *body; /* decoded body, always NUL-terminated */
	size_t body_len;
	size_t wire_body_len; /* bytes that followed the header block */
};

struct http_request {
	const char *method;
	const char *target;         /* path and query, sent as is */
	const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
	const char *body;           /* NULL: no body and no Content-Length */
	size_t body_len;
	int timeout_ms; /* whole exchange; 0 means 10 s */
};

/* Sends req to 127.0.0.1:port and fills *res. 0 on success; -1 when the
 * connection, the deadline or the response's framing failed (then *res holds
 * nothing to free). */
int http_send(unsigned short port, const struct http_request *req, struct http_response *res);

/* Sends raw bytes as the whole request and parses what comes back; is_head
 * says the answer has no body. Same results as http_send(). */
int http_send_raw(unsigned short port, const char *raw, size_t raw_len, int is_head, int timeout_ms,
		  struct http_response *res);

/* The value of the first header named name (case-insensitive), or NULL. */
const char *http_header(const struct http_response *res, const char *name);

/* How many headers are named name (case-insensitive). */
size_t http_header_count(const struct http_response *res, const char *name);

/*
 * Read-your-writes, as a client of a service that reads from replicas: when
 * on, http_send() remembers the last Circle-Commit answered and sends it as
 * Circle-Wait-For on every GET and HEAD that does not name one itself. Off
 * at first; turning it on or off forgets the token.
 */
void http_client_wait_for_writes(int on);

/* Frees what res holds and zeroes it; safe on a zeroed response. */
void http_response_free(struct http_response *res);

#endif
