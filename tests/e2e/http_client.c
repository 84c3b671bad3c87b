/*
 * The end-to-end tests' HTTP/1.1 client: one connection per request, a
 * deadline over the whole exchange, Content-Length and chunked bodies.
 */
#include "http_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Enough for any answer the service gives; a bigger one is a bug. */
#define MAX_RESPONSE (16u * 1024u * 1024u)
#define DEFAULT_TIMEOUT_MS 10000

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
remaining_ms(long long deadline)
{
	long long left = deadline - now_ms();

	return left > 0 ? (int)left : 0;
}

/* Waits until fd is ready for events; 0 when ready, -1 on timeout or error. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		int left = remaining_ms(deadline), rc;

		if (left == 0)
			return -1;
		rc = poll(&p, 1, left);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -1;
		if (errno != EINTR)
			return -1;
	}
}

static int
connect_loopback(unsigned short port, long long deadline)
{
	struct sockaddr_in sa;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	if (wait_fd(fd, POLLOUT, deadline) != 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Sends everything it can. A server may answer and close before it has read
 * the whole request (a body too large): that is not an error here, the
 * answer is still to be read.
 */
static void
send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				return;
			continue;
		}
		return;
	}
}

/* Reads until the server closes; returns a new buffer the caller frees. */
static char *
recv_all(int fd, long long deadline, size_t *out_len)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap + 1), *bigger;

	if (!buf)
		return NULL;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= MAX_RESPONSE)
				goto fail;
			cap *= 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger)
				goto fail;
			buf = bigger;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN, deadline) != 0)
				goto fail;
			continue;
		}
		/* A reset after a complete answer (lingering close cut short)
		 * still leaves the answer to parse. */
		if (errno == ECONNRESET && len > 0)
			break;
		goto fail;
	}
	buf[len] = '\0';
	*out_len = len;
	return buf;
fail:
	free(buf);
	return NULL;
}

static char *
dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int
add_header(struct http_response *res, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	const char *v, *end = line + len;
	struct http_header *h;

	if (!colon || colon == line)
		return -1;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	h = realloc(res->headers, (res->nheaders + 1) * sizeof(*h));
	if (!h)
		return -1;
	res->headers = h;
	h[res->nheaders].name = dup_range(line, (size_t)(colon - line));
	h[res->nheaders].value = dup_range(v, (size_t)(end - v));
	res->nheaders++;
	if (!h[res->nheaders - 1].name || !h[res->nheaders - 1].value)
		return -1;
	return 0;
}

/* Decodes a chunked body from [p, end) into res->body. */
static int
decode_chunked(const char *p, const char *end, struct http_response *res)
{
	size_t cap = (size_t)(end - p) + 1, len = 0;
	char *out = malloc(cap);

	if (!out)
		return -1;
	for (;;) {
		const char *eol = NULL;
		char *num_end;
		unsigned long size;

		for (const char *q = p; q + 1 < end; q++) {
			if (q[0] == '\r' && q[1] == '\n') {
				eol = q;
				break;
			}
		}
		if (!eol || !isxdigit((unsigned char)*p))
			goto fail;
		errno = 0;
		size = strtoul(p, &num_end, 16);
		if (errno != 0 || num_end > eol)
			goto fail;
		p = eol + 2;
		if (size == 0)
			break;
		if ((size_t)(end - p) < size + 2 || p[size] != '\r' || p[size + 1] != '\n')
			goto fail;
		memcpy(out + len, p, size);
		len += size;
		p += size + 2;
	}
	out[len] = '\0';
	res->body = out;
	res->body_len = len;
	return 0;
fail:
	free(out);
	return -1;
}

static int
parse_response(const char *buf, size_t len, int is_head, struct http_response *res)
{
	const char *end = buf + len, *hdr_end = NULL, *p, *eol;
	const char *te, *cl;

	for (p = buf; p + 3 < end; p++) {
		if (memcmp(p, "\r\n\r\n", 4) == 0) {
			hdr_end = p;
			break;
		}
	}
	if (!hdr_end)
		return -1;
	/* Status line: HTTP/1.x SP 3DIGIT [SP reason] */
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11]))
		return -1;
	res->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	eol = strstr(buf, "\r\n");
	for (p = eol + 2; p < hdr_end; p = eol + 2) {
		eol = p;
		while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		if (add_header(res, p, (size_t)(eol - p)) != 0)
			return -1;
	}
	p = hdr_end + 4;
	res->wire_body_len = (size_t)(end - p);

	if (is_head || res->status == 204 || res->status == 304 ||
	    (res->status >= 100 && res->status < 200)) {
		res->body = dup_range("", 0);
		return res->body ? 0 : -1;
	}
	te = http_header(res, "Transfer-Encoding");
	cl = http_header(res, "Content-Length");
	if (te && strcasecmp(te, "chunked") == 0)
		return decode_chunked(p, end, res);
	if (cl) {
		char *num_end;
		unsigned long long n;

		errno = 0;
		n = strtoull(cl, &num_end, 10);
		if (errno != 0 || *num_end != '\0' || !isdigit((unsigned char)*cl) ||
		    n > (unsigned long long)(end - p))
			return -1;
		res->body = dup_range(p, (size_t)n);
		res->body_len = (size_t)n;
		return res->body ? 0 : -1;
	}
	res->body = dup_range(p, (size_t)(end - p));
	res->body_len = (size_t)(end - p);
	return res->body ? 0 : -1;
}

static int
exchange(unsigned short port, const char *raw, size_t raw_len, int is_head, int timeout_ms,
	 struct http_response *res)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS);
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = -1;

	memset(res, 0, sizeof(*res));
	fd = connect_loopback(port, deadline);
	if (fd < 0)
		goto out;
	/* No shutdown(SHUT_WR) after it: nginx would take the half-close for
	 * a client gone away and drop the request. */
	send_all(fd, raw, raw_len, deadline);
	buf = recv_all(fd, deadline, &len);
	if (!buf)
		goto out;
	if (parse_response(buf, len, is_head, res) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		http_response_free(res);
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int
http_send_raw(unsigned short port, const char *raw, size_t raw_len, int is_head, int timeout_ms,
	      struct http_response *res)
{
	return exchange(port, raw, raw_len, is_head, timeout_ms, res);
}

/* Read-your-writes (http_client_wait_for_writes): the last Circle-Commit
 * seen, shared by every thread of the test. */
static pthread_mutex_t commit_lock = PTHREAD_MUTEX_INITIALIZER;
static int commit_follow;
static char commit_token[256];

void
http_client_wait_for_writes(int on)
{
	pthread_mutex_lock(&commit_lock);
	commit_follow = on;
	commit_token[0] = '\0';
	pthread_mutex_unlock(&commit_lock);
}

/* True when one of the request's own headers is named name. */
static int
has_header(const struct http_request *req, const char *name)
{
	size_t nl = strlen(name);

	for (const char *const *h = req->headers; h && *h; h++)
		if (strncasecmp(*h, name, nl) == 0 && (*h)[nl] == ':')
			return 1;
	return 0;
}

/* "Circle-Wait-For: <last token>" into line[size] for a read, when following
 * writes and a token was seen; else "". */
static void
wait_for_line(const struct http_request *req, char *line, size_t size)
{
	line[0] = '\0';
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return;
	if (has_header(req, "Circle-Wait-For"))
		return;
	pthread_mutex_lock(&commit_lock);
	if (commit_follow && commit_token[0] != '\0')
		snprintf(line, size, "Circle-Wait-For: %s\r\n", commit_token);
	pthread_mutex_unlock(&commit_lock);
}

static void
remember_commit(const struct http_response *res)
{
	const char *t = http_header(res, "Circle-Commit");

	if (t == NULL || strlen(t) >= sizeof(commit_token))
		return;
	pthread_mutex_lock(&commit_lock);
	if (commit_follow)
		memcpy(commit_token, t, strlen(t) + 1);
	pthread_mutex_unlock(&commit_lock);
}

int
http_send(unsigned short port, const struct http_request *req, struct http_response *res)
{
	char wait_for[300];
	size_t cap =
		512 + sizeof(wait_for) + strlen(req->method) + strlen(req->target) + req->body_len;
	size_t len = 0;
	char *raw = NULL;
	int rc = -1, n;

	memset(res, 0, sizeof(*res));
	for (const char *const *h = req->headers; h && *h; h++)
		cap += strlen(*h) + 2;
	raw = malloc(cap);
	if (!raw)
		goto out;
	n = snprintf(raw, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n",
		     req->method, req->target, (unsigned)port);
	if (n < 0 || (size_t)n >= cap)
		goto out;
	len = (size_t)n;
	for (const char *const *h = req->headers; h && *h; h++) {
		size_t hl = strlen(*h);

		memcpy(raw + len, *h, hl);
		memcpy(raw + len + hl, "\r\n", 2);
		len += hl + 2;
	}
	wait_for_line(req, wait_for, sizeof(wait_for));
	memcpy(raw + len, wait_for, strlen(wait_for));
	len += strlen(wait_for);
	if (req->body) {
		n = snprintf(raw + len, cap - len, "Content-Length: %zu\r\n", req->body_len);
		if (n < 0 || (size_t)n >= cap - len)
			goto out;
		len += (size_t)n;
	}
	memcpy(raw + len, "\r\n", 2);
	len += 2;
	if (req->body && req->body_len > 0) {
		memcpy(raw + len, req->body, req->body_len);
		len += req->body_len;
	}
	rc = exchange(port, raw, len, strcmp(req->method, "HEAD") == 0, req->timeout_ms, res);
	if (rc == 0)
		remember_commit(res);
out:
	free(raw);
	return rc;
}

const char *
http_header(const struct http_response *res, const char *name)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (strcasecmp(res->headers[i].name, name) == 0)
			return res->headers[i].value;
	return NULL;
}

size_t
http_header_count(const struct http_response *res, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < res->nheaders; i++)
		if (strcasecmp(res->headers[i].name, name) == 0)
			n++;
	return n;
}

void
http_response_free(struct http_response *res)
{
	for (size_t i = 0; i < res->nheaders; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	free(res->headers);
	free(res->body);
	memset(res, 0, sizeof(*res));
}
