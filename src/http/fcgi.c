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

/* Serves the accepted request fr; everything it allocates is freed here. */
static void
serve_one(const struct http_app *app, FCGX_Request *fr)
{
	struct http_request req = {0};
	struct http_response resp;
	char *path = NULL, *body = NULL;
	const char *qs;

	http_response_init(&resp);
	req.method = param(fr, "REQUEST_METHOD");
	if (req.method == NULL)
		req.method = "";
	path = request_path(param(fr, "REQUEST_URI"));
	qs = param(fr, "QUERY_STRING");
	req.query = qs != NULL ? qs : "";
	req.content_type = param(fr, "CONTENT_TYPE");
	req.if_match = param(fr, "HTTP_IF_MATCH");
	req.if_none_match = param(fr, "HTTP_IF_NONE_MATCH");
	req.idempotency_key = param(fr, "HTTP_IDEMPOTENCY_KEY");
	req.wait_for = param(fr, "HTTP_CIRCLE_WAIT_FOR");
	if (path == NULL || read_body(fr, &body, &req.body_len, &req.body_too_large) != 0) {
		fprintf(stderr, "circle: out of memory reading a request\n");
		http_response_fail(&resp, CE_INTERNAL, "out of memory");
		goto out;
	}
	req.path = path;
	req.body = body;
	if (declared_too_large(param(fr, "CONTENT_LENGTH")))
		req.body_too_large = true;
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
