/*
 * libfcgi glue. Only this file sees FCGX_*: it copies the parameters a
 * handler needs, reads the body with a hard cap, and writes the CGI response.
 * Every request's memory (path copy, body) is freed before the next accept.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <fcgiapp.h>

#include "domain/text.h"
#include "http/fcgi.h"

static volatile sig_atomic_t stopping;

/* Past the cap the body is only drained; stop draining somewhere all the same. */
#define DRAIN_MAX (16u * 1024u * 1024u)

void
fcgi_stop(void)
{
	stopping = 1;
	FCGX_ShutdownPending();
}

/* A parameter, or NULL when absent. */
static const char *
param(FCGX_Request *fr, const char *name)
{
	return FCGX_GetParam(name, fr->envp);
}

/*
 * A request header's parameter, every repeat of it included. nginx before
 * 1.23 passes a header sent more than once as that many parameters of one
 * name, and FCGX_GetParam() sees only the first, so a repeat would hide.
 * Here the values are joined with ", ", as RFC 9110 combines repeated field
 * lines and later nginx versions do: a repeated Idempotency-Key, If-Match or
 * Circle-Wait-For then fails its syntax check (400 invalid_header) and a repeated
 * If-None-Match is the list it means. *owned receives the joined copy for
 * the caller to free (NULL when the header came once or not at all); -1
 * when out of memory.
 */
static int
header_param(FCGX_Request *fr, const char *name, const char **value, char **owned)
{
	size_t nl = strlen(name), total = 0, count = 0, at = 0;
	char **e;
	char *joined;

	*value = NULL;
	*owned = NULL;
	for (e = fr->envp; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=') {
			total += strlen(*e + nl + 1) + 2;
			count++;
			if (*value == NULL)
				*value = *e + nl + 1;
		}
	}
	if (count < 2)
		return 0;
	joined = malloc(total + 1);
	if (joined == NULL)
		return -1;
	for (e = fr->envp; *e != NULL; e++) {
		if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=') {
			size_t vl = strlen(*e + nl + 1);

			if (at > 0) {
				memcpy(joined + at, ", ", 2);
				at += 2;
			}
			memcpy(joined + at, *e + nl + 1, vl);
			at += vl;
		}
	}
	joined[at] = '\0';
	*value = joined;
	*owned = joined;
	return 0;
}

/* True when CONTENT_LENGTH announces more than the cap. */
static bool
declared_too_large(const char *cl)
{
	uint64_t v;

	/* the leading digits count, as before any check of what follows */
	return cl != NULL && text_decimal(cl, strspn(cl, "0123456789"), UINT64_MAX, &v) == 0 &&
	       v > HTTP_BODY_MAX;
}

/*
 * Reads the body until EOF (nginx may stream a chunked body without
 * CONTENT_LENGTH) into a new buffer *out, never keeping more than
 * HTTP_BODY_MAX + 1 bytes; whatever follows is read and dropped so the web
 * server is not left writing into a closed socket.
 */
static int
read_body(FCGX_Request *fr, char **out, size_t *len, bool *too_large)
{
	char *buf = malloc(HTTP_BODY_MAX + 1);
	size_t used = 0;
	int n;

	*out = NULL;
	*len = 0;
	*too_large = false;
	if (buf == NULL)
		return -1;
	while (used < HTTP_BODY_MAX + 1) {
		n = FCGX_GetStr(buf + used, (int)(HTTP_BODY_MAX + 1 - used), fr->in);
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	if (used > HTTP_BODY_MAX) {
		size_t drained = 0;
		char sink[4096];

		*too_large = true;
		while (drained < DRAIN_MAX &&
		       (n = FCGX_GetStr(sink, (int)sizeof(sink), fr->in)) > 0)
			drained += (size_t)n;
	}
	*out = buf;
	*len = used > HTTP_BODY_MAX ? HTTP_BODY_MAX : used;
	return 0;
}

/* The path of REQUEST_URI: up to '?', as a new string the caller frees. */
static char *
request_path(const char *uri)
{
	size_t n;
	char *p;

	if (uri == NULL)
		uri = "";
	n = strcspn(uri, "?");
	p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, uri, n);
	p[n] = '\0';
	return p;
}

/* A printable copy of a client string for a one-line log entry. */
static void
loggable(const char *s, char *out, size_t size)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < size; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7F ? s[i] : '?';
	out[i] = '\0';
}

static int
write_response(FCGX_Request *fr, const struct http_response *resp)
{
	char head[2048];
	size_t hl = http_response_head(resp, head, sizeof(head));

	if (hl == 0)
		return -1;
	if (FCGX_PutStr(head, (int)hl, fr->out) != (int)hl)
		return -1;
	if (!resp->omit_body && resp->body != NULL && resp->body_len > 0 &&
	    FCGX_PutStr(resp->body, (int)resp->body_len, fr->out) != (int)resp->body_len)
		return -1;
	return 0;
}

static int64_t
clock_ms(clockid_t which)
{
	struct timespec ts;

	if (clock_gettime(which, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * How long ago nginx received the request, from REQUEST_START ($msec: epoch
 * seconds with milliseconds, the same clock as ours on the same host); 0
 * when absent or malformed, so that a request is never refused on a
 * parameter it does not carry.
 */
static int64_t
request_age_ms(const char *start)
{
	uint64_t sec, ms;
	int64_t age;
	size_t n;

	if (start == NULL)
		return 0;
	n = strspn(start, "0123456789");
	if (n == 0 || n > 12 || start[n] != '.' || strlen(start + n + 1) != 3 ||
	    text_decimal(start, n, UINT64_MAX, &sec) != 0 ||
	    text_decimal(start + n + 1, 3, 999, &ms) != 0)
		return 0;
	age = clock_ms(CLOCK_REALTIME) - ((int64_t)sec * 1000 + (int64_t)ms);
	return age > 0 ? age : 0;
}

/*
 * Whether nginx closed the connection of the request: it does when it gave
 * up waiting (fastcgi_read_timeout) or its client went away, also while the
 * request still sat in the listening socket's backlog. Only looks, never
 * reads: whatever nginx sent is libfcgi's.
 */
static bool
client_gone(const FCGX_Request *fr)
{
	char c;
	ssize_t n;

	if (fr->ipcFd < 0)
		return false;
	n = recv(fr->ipcFd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0;
}

/*
 * Whether the request may still be worked on: a request nobody waits for
 * any more is not started, so it cannot change anything behind the back of
 * a client that was already told 503 (or nothing).
 */
static bool
still_wanted(const struct http_app *app, FCGX_Request *fr, int64_t *age)
{
	*age = request_age_ms(param(fr, "REQUEST_START"));
	if (client_gone(fr) || *age >= HTTP_REQUEST_BUDGET_MS)
		return false;
	if (app->set_deadline != NULL)
		app->set_deadline(app->deadline_ctx,
				  clock_ms(CLOCK_MONOTONIC) + HTTP_REQUEST_BUDGET_MS - *age);
	return true;
}

/* Serves the accepted request fr; everything it allocates is freed here. */
static void
serve_one(const struct http_app *app, FCGX_Request *fr)
{
	struct http_request req = {0};
	struct http_response resp;
	char *path = NULL, *body = NULL, *if_match = NULL, *if_none_match = NULL, *key = NULL;
	char *wait_for = NULL;
	const char *qs;
	int64_t age = 0;
	int hr;

	http_response_init(&resp);
	req.method = param(fr, "REQUEST_METHOD");
	if (req.method == NULL)
		req.method = "";
	path = request_path(param(fr, "REQUEST_URI"));
	qs = param(fr, "QUERY_STRING");
	req.query = qs != NULL ? qs : "";
	req.content_type = param(fr, "CONTENT_TYPE");
	hr = header_param(fr, "HTTP_IF_MATCH", &req.if_match, &if_match);
	hr |= header_param(fr, "HTTP_IF_NONE_MATCH", &req.if_none_match, &if_none_match);
	hr |= header_param(fr, "HTTP_IDEMPOTENCY_KEY", &req.idempotency_key, &key);
	hr |= header_param(fr, "HTTP_CIRCLE_WAIT_FOR", &req.wait_for, &wait_for);
	if (path == NULL || hr != 0 ||
	    read_body(fr, &body, &req.body_len, &req.body_too_large) != 0) {
		fprintf(stderr, "circle: out of memory reading a request\n");
		http_response_fail(&resp, CE_INTERNAL, "out of memory");
		goto out;
	}
	req.path = path;
	req.body = body;
	if (declared_too_large(param(fr, "CONTENT_LENGTH")))
		req.body_too_large = true;
	if (!still_wanted(app, fr, &age)) {
		char m[16], p[128];

		loggable(req.method, m, sizeof(m));
		loggable(req.path, p, sizeof(p));
		fprintf(stderr, "circle: %s %s not started: its client left or it waited %lld ms\n",
			m, p, (long long)age);
		http_response_fail(&resp, CE_UNAVAILABLE,
				   "the request waited too long to be served");
		goto out;
	}
	http_dispatch(app, &req, &resp);
	if (resp.status >= 500) {
		char m[16], p[128];

		loggable(req.method, m, sizeof(m));
		loggable(req.path, p, sizeof(p));
		fprintf(stderr, "circle: %s %s answered %d\n", m, p, resp.status);
	}
out:
	if (write_response(fr, &resp) != 0)
		fprintf(stderr, "circle: could not write the response (%s)\n",
			strerror(FCGX_GetError(fr->out) > 0 ? FCGX_GetError(fr->out) : EIO));
	http_response_free(&resp);
	free(body);
	free(path);
	free(wait_for);
	free(key);
	free(if_none_match);
	free(if_match);
}

int
fcgi_run(const struct http_app *app, const sigset_t *hold)
{
	FCGX_Request fr;
	sigset_t saved;
	int rc = 0;

	if (FCGX_Init() != 0) {
		fprintf(stderr, "circle: FCGX_Init failed\n");
		return -1;
	}
	if (FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "circle: FCGX_InitRequest failed\n");
		return -1;
	}
	while (!stopping) {
		int ar = FCGX_Accept_r(&fr);

		if (ar < 0) {
			if (stopping)
				break;
			if (ar == -EINTR || errno == EINTR)
				continue;
			fprintf(stderr, "circle: accept failed (%d)\n", ar);
			rc = -1;
			break;
		}
		sigprocmask(SIG_BLOCK, hold, &saved);
		serve_one(app, &fr);
		FCGX_Finish_r(&fr);
		sigprocmask(SIG_SETMASK, &saved, NULL);
	}
	FCGX_Free(&fr, 1);
	return rc;
}
