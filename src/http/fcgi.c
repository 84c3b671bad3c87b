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

/* The parameters a request is made of, found in one walk over envp. */
enum param {
	P_METHOD,
	P_URI,
	P_QUERY,
	P_CONTENT_TYPE,
	P_CONTENT_LENGTH,
	P_REQUEST_START,
	/* request headers from here on: their repeats are joined */
	P_IF_MATCH,
	P_IF_NONE_MATCH,
	P_IDEMPOTENCY_KEY,
	P_WAIT_FOR,
	P__MAX
};

#define P_FIRST_HEADER P_IF_MATCH

static const struct {
	const char *name;
	size_t len;
} param_names[P__MAX] = {
#define PN(id, s) [id] = {s, sizeof(s) - 1}
	PN(P_METHOD, "REQUEST_METHOD"),
	PN(P_URI, "REQUEST_URI"),
	PN(P_QUERY, "QUERY_STRING"),
	PN(P_CONTENT_TYPE, "CONTENT_TYPE"),
	PN(P_CONTENT_LENGTH, "CONTENT_LENGTH"),
	PN(P_REQUEST_START, "REQUEST_START"),
	PN(P_IF_MATCH, "HTTP_IF_MATCH"),
	PN(P_IF_NONE_MATCH, "HTTP_IF_NONE_MATCH"),
	PN(P_IDEMPOTENCY_KEY, "HTTP_IDEMPOTENCY_KEY"),
	PN(P_WAIT_FOR, "HTTP_CIRCLE_WAIT_FOR"),
#undef PN
};

struct params {
	const char *value[P__MAX]; /* the first value of each; NULL when absent */
	unsigned count[P__MAX];    /* how often each came */
	char *owned[P__MAX];       /* joined repeats, freed by params_free() */
};

/*
 * Fills p from envp ("NAME=value" strings) in one walk: FCGX_GetParam()
 * walks the whole list once per name asked for. The first value of a name
 * is the one a non-header parameter takes, as with FCGX_GetParam().
 */
static void
params_read(char **envp, struct params *p)
{
	memset(p, 0, sizeof(*p));
	for (; envp != NULL && *envp != NULL; envp++) {
		const char *e = *envp, *eq = strchr(e, '=');
		size_t n, i;

		if (eq == NULL)
			continue;
		n = (size_t)(eq - e);
		for (i = 0; i < P__MAX; i++) {
			if (param_names[i].len == n && memcmp(e, param_names[i].name, n) == 0) {
				if (p->count[i]++ == 0)
					p->value[i] = eq + 1;
				break;
			}
		}
	}
}

/*
 * A request header that came more than once, its values joined. nginx
 * before 1.23 passes a header sent more than once as that many parameters
 * of one name, and the first alone would hide the repeat. Here the values
 * are joined with ", ", as RFC 9110 combines repeated field lines and later
 * nginx versions do: a repeated Idempotency-Key, If-Match or Circle-Wait-For
 * then fails its syntax check (400 invalid_header) and a repeated
 * If-None-Match is the list it means. -1 when out of memory.
 */
static int
params_join(char **envp, struct params *p, enum param which)
{
	const char *name = param_names[which].name;
	size_t nl = param_names[which].len, total = 0, at = 0;
	char **e;
	char *joined;

	for (e = envp; *e != NULL; e++)
		if (strncmp(*e, name, nl) == 0 && (*e)[nl] == '=')
			total += strlen(*e + nl + 1) + 2;
	joined = malloc(total + 1);
	if (joined == NULL)
		return -1;
	for (e = envp; *e != NULL; e++) {
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
	p->value[which] = joined;
	p->owned[which] = joined;
	return 0;
}

/* Joins every repeated request header of p; -1 when out of memory. */
static int
params_join_repeats(char **envp, struct params *p)
{
	int i;

	for (i = P_FIRST_HEADER; i < P__MAX; i++)
		if (p->count[i] > 1 && params_join(envp, p, (enum param)i) != 0)
			return -1;
	return 0;
}

static void
params_free(struct params *p)
{
	int i;

	for (i = 0; i < P__MAX; i++)
		free(p->owned[i]);
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
 * server is not left writing into a closed socket. No body leaves *out
 * NULL.
 */
static int
read_body(FCGX_Request *fr, char **out, size_t *len, bool *too_large)
{
	char *buf;
	size_t used = 1;
	int n, first;

	*out = NULL;
	*len = 0;
	*too_large = false;
	/* most requests (every read) have no body: no buffer for them */
	first = FCGX_GetChar(fr->in);
	if (first == EOF)
		return 0;
	buf = malloc(HTTP_BODY_MAX + 1);
	if (buf == NULL)
		return -1;
	buf[0] = (char)first;
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
still_wanted(const struct http_app *app, FCGX_Request *fr, const char *request_start, int64_t *age)
{
	*age = request_age_ms(request_start);
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
	struct params prm;
	char *path = NULL, *body = NULL;
	int64_t age = 0;

	http_response_init(&resp);
	params_read(fr->envp, &prm);
	req.method = prm.value[P_METHOD] != NULL ? prm.value[P_METHOD] : "";
	path = request_path(prm.value[P_URI]);
	req.query = prm.value[P_QUERY] != NULL ? prm.value[P_QUERY] : "";
	req.content_type = prm.value[P_CONTENT_TYPE];
	if (path == NULL || params_join_repeats(fr->envp, &prm) != 0 ||
	    read_body(fr, &body, &req.body_len, &req.body_too_large) != 0) {
		fprintf(stderr, "circle: out of memory reading a request\n");
		http_response_fail(&resp, CE_INTERNAL, "out of memory");
		goto out;
	}
	req.if_match = prm.value[P_IF_MATCH];
	req.if_none_match = prm.value[P_IF_NONE_MATCH];
	req.idempotency_key = prm.value[P_IDEMPOTENCY_KEY];
	req.wait_for = prm.value[P_WAIT_FOR];
	req.path = path;
	req.body = body != NULL ? body : "";
	if (declared_too_large(prm.value[P_CONTENT_LENGTH]))
		req.body_too_large = true;
	if (!still_wanted(app, fr, prm.value[P_REQUEST_START], &age)) {
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
	params_free(&prm);
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
	http_body_spare_free();
	return rc;
}
