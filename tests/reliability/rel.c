/*
 * The reliability tests' shared kit (see rel.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct rel_env env = {.port = 8080, .circlectl = "circlectl"};

static const char *
nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int
rel_init(void)
{
	const char *p = nonempty("CIRCLE_HTTP_PORT");

	if (p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (*end != '\0' || v < 1 || v > 65535) {
			fprintf(stderr, "CIRCLE_HTTP_PORT is not a port: %s\n", p);
			return -1;
		}
		env.port = (unsigned short)v;
	}
	env.run_dir = nonempty("CIRCLE_RUN_DIR");
	env.dev = nonempty("CIRCLE_DEV");
	env.db_config = nonempty("CIRCLE_DB_CONFIG");
	if (nonempty("CIRCLE_CIRCLECTL"))
		env.circlectl = nonempty("CIRCLE_CIRCLECTL");
	/* A killed worker must not take the test down with a SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

const struct rel_env *
rel_env(void)
{
	return &env;
}

long long
rel_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
rel_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

char *
rel_strf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

uint32_t
rel_rand(uint32_t n)
{
	uint32_t v;

	if (n == 0)
		return 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		abort();
	return v % n;
}

char *
rel_unique(const char *prefix)
{
	unsigned char b[12];
	char r[13];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		abort();
	for (size_t i = 0; i < sizeof(b); i++)
		r[i] = (char)('a' + b[i] % 26);
	r[12] = '\0';
	return rel_strf("%s%s", prefix, r);
}

char *
rel_json_quote(const char *s)
{
	json_object *o = json_object_new_string(s);
	char *out;

	if (!o)
		abort();
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!out)
		abort();
	return out;
}

int
rel_request(struct http_response *r, const char *method, const char *target,
	    const char *const *headers, const char *body, size_t body_len, int timeout_ms,
	    long long *latency_ms)
{
	struct http_request q = {
		.method = method,
		.target = target,
		.headers = headers,
		.body = body,
		.body_len = body_len,
		.timeout_ms = timeout_ms > 0 ? timeout_ms : REL_CLIENT_TIMEOUT_MS,
	};
	long long t0 = rel_now_ms();
	int rc = http_send(env.port, &q, r);

	if (latency_ms)
		*latency_ms = rel_now_ms() - t0;
	return rc;
}

/* Waits for events on fd until deadline; 0 when ready. */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		long long left = deadline - rel_now_ms();
		int rc;

		if (left <= 0)
			return -1;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0 || errno != EINTR)
			return -1;
	}
}

int
rel_raw_exchange(const char *raw, size_t len, int timeout_ms, char **out, size_t *out_len)
{
	long long deadline = rel_now_ms() + timeout_ms;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	int fd, rc = -1;

	if (!buf)
		return -1;
	sa.sin_port = htons(env.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	while (len > 0) {
		ssize_t k;

		if (wait_fd(fd, POLLOUT, deadline) != 0)
			goto out;
		k = send(fd, raw, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k < 0)
			break; /* refused before the end: read the answer */
		raw += k;
		len -= (size_t)k;
	}
	for (;;) {
		ssize_t k;

		if (n == cap)
			goto out; /* far more than any refusal */
		if (wait_fd(fd, POLLIN, deadline) != 0)
			goto out;
		k = recv(fd, buf + n, cap - n, MSG_DONTWAIT);
		if (k > 0) {
			n += (size_t)k;
			continue;
		}
		if (k == 0 || (errno == ECONNRESET && n > 0))
			break;
		if (errno != EAGAIN && errno != EINTR)
			goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	buf = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

json_object *
rel_body_json(const struct http_response *r)
{
	struct json_tokener *tok;
	json_object *o;

	if (!r->body || r->body_len > (size_t)INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

const char *
rel_jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
rel_jint(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

int
rel_is_problem(const struct http_response *r, int status, const char *code)
{
	const char *ct = http_header(r, "Content-Type");
	static const char type[] = "application/problem+json";
	json_object *o;
	int64_t s = 0;
	const char *c;
	int ok;

	if (r->status != status || !ct || strncasecmp(ct, type, sizeof(type) - 1) != 0)
		return 0;
	o = rel_body_json(r);
	c = rel_jstr(o, "code");
	ok = o && rel_jint(o, "status", &s) == 0 && s == status && c &&
	     (!code || strcmp(c, code) == 0);
	json_object_put(o);
	return ok;
}

/* ------------------------------------------------------------ processes */

/* The start of /proc/PID/FILE on one line (NULs and newlines as spaces)
 * into out; "-" when it cannot be read. */
static void
proc_text(pid_t pid, const char *file, char *out, size_t size)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	n = f ? fread(out, 1, size - 1, f) : 0;
	if (f)
		fclose(f);
	if (n == 0)
		n = (size_t)snprintf(out, size, "-");
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\0' || out[i] == '\n' || out[i] == '\t')
			out[i] = ' ';
	out[n] = '\0';
}

/* 1 when /proc/pid/cmdline mentions want: pids get reused. */
static int
pid_runs(pid_t pid, const char *want)
{
	char cmd[4096];

	proc_text(pid, "cmdline", cmd, sizeof(cmd));
	return strstr(cmd, want) != NULL && rel_alive(pid);
}

int
rel_alive(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	int alive = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "State:", 6) == 0) {
			alive = strchr(line, 'Z') == NULL && strchr(line, 'X') == NULL;
			break;
		}
	}
	fclose(f);
	return alive;
}

static size_t
pidfile_pids(const char *file, const char *want, pid_t *out, size_t max)
{
	char *path, line[64];
	FILE *f;
	size_t n = 0;

	if (!env.run_dir)
		return 0;
	path = rel_strf("%s/%s", env.run_dir, file);
	f = fopen(path, "r");
	free(path);
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *end;
		long v = strtol(line, &end, 10);

		if (end == line || (*end != '\n' && *end != '\0') || v <= 1 || v > INT32_MAX)
			continue;
		if (pid_runs((pid_t)v, want))
			out[n++] = (pid_t)v;
	}
	fclose(f);
	return n;
}

size_t
rel_pool_pids(const char *pool, pid_t *out, size_t max)
{
	char file[64], want[64];

	snprintf(file, sizeof(file), "%s.pid", pool);
	snprintf(want, sizeof(want), "circle-%s.fcgi", pool);
	return pidfile_pids(file, want, out, max);
}

void
rel_pool_report(const char *pool)
{
	char *path = rel_strf("%s/%s.pid", env.run_dir ? env.run_dir : ".", pool);
	char line[64], status[96], cmd[160];
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("  %s: cannot open (%s)\n", path, strerror(errno));
		free(path);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		pid_t pid = (pid_t)strtol(line, NULL, 10);

		line[strcspn(line, "\n")] = '\0';
		proc_text(pid, "status", status, sizeof(status));
		proc_text(pid, "cmdline", cmd, sizeof(cmd));
		printf("  %s: \"%s\": %s; %s\n", path, line, status, cmd);
	}
	fclose(f);
	free(path);
}

pid_t
rel_db_pid(void)
{
	pid_t pid;

	return pidfile_pids("mysqld.pid", "mariadbd", &pid, 1) == 1 ? pid : -1;
}

long
rel_rss_kb(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

int
rel_maps_contain(pid_t pid, const char *what)
{
	char path[64], line[1024];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

/* The exit status of a shell command line, -1 when it did not exit. */
static int
shell(const char *cmd)
{
	int st;

	fflush(stdout);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* s quoted for the shell. */
static char *
shell_quote(const char *s)
{
	size_t n = 2;
	char *q, *p;

	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	q = malloc(n + 1);
	if (!q)
		abort();
	p = q;
	*p++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *c;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

/* Runs cmd under bash with its output indented into ours; cmd's status. */
static int
run_indented(const char *cmd, const char *indent)
{
	char *inner = rel_strf("%s 2>&1 | sed 's/^/%s/'; exit ${PIPESTATUS[0]}", cmd, indent);
	char *q = shell_quote(inner), *line = rel_strf("bash -c %s", q);
	int rc = shell(line);

	free(line);
	free(q);
	free(inner);
	return rc;
}

int
rel_dev(const char *arg, int secs)
{
	char *dev, *cmd;
	int rc;

	if (!env.dev)
		return -1;
	dev = shell_quote(env.dev);
	cmd = rel_strf("timeout %d %s %s", secs, dev, arg);
	rc = run_indented(cmd, "    ");
	free(cmd);
	free(dev);
	return rc;
}

int
rel_dev_up(int secs)
{
	char flavour[32] = "";

	if (env.run_dir) {
		char *path = rel_strf("%s/command.flavour", env.run_dir);
		FILE *f = fopen(path, "r");

		free(path);
		if (f) {
			if (!fgets(flavour, sizeof(flavour), f))
				flavour[0] = '\0';
			fclose(f);
			flavour[strcspn(flavour, "\n")] = '\0';
		}
	}
	if (strcmp(flavour, "sanitizers") == 0)
		return rel_dev("up --sanitizers", secs);
	if (strcmp(flavour, "valgrind") == 0)
		return rel_dev("up --valgrind", secs);
	return rel_dev("up", secs);
}

int
rel_circlectl_verify(void)
{
	char *bin = shell_quote(env.circlectl), *cmd = rel_strf("timeout 120 %s verify", bin);
	int rc = run_indented(cmd, "    circlectl: ");

	free(cmd);
	free(bin);
	return rc;
}

long long
rel_wait_healthy(int max_ms)
{
	long long t0 = rel_now_ms();

	for (;;) {
		struct http_response r;
		int ok = rel_request(&r, "GET", "/health", NULL, NULL, 0, 3000, NULL) == 0 &&
			 r.status == 200;

		/* a failed request leaves r zeroed, which frees as nothing */
		http_response_free(&r);
		if (ok)
			return rel_now_ms() - t0;
		if (rel_now_ms() - t0 > max_ms)
			return -1;
		rel_sleep_ms(200);
	}
}

/* ------------------------------------------------------------ assertions */

void
rel_expect_answer(struct http_response *r, const char *method, const char *target,
		  const char *const *headers, const char *body, size_t body_len)
{
	if (rel_request(r, method, target, headers, body, body_len, REL_CLIENT_TIMEOUT_MS, NULL) !=
	    0)
		fail_msg("no HTTP answer to %s %.200s", method, target);
}

void
rel_assert_healthy(void)
{
	struct http_response r;
	json_object *o;
	const char *s;

	rel_expect_answer(&r, "GET", "/health", NULL, NULL, 0);
	if (r.status != 200)
		fail_msg("GET /health answered %d: %.300s", r.status, r.body);
	o = rel_body_json(&r);
	s = rel_jstr(o, "status");
	if (!s || strcmp(s, "ok") != 0)
		fail_msg("GET /health body: %.300s", r.body);
	json_object_put(o);
	http_response_free(&r);
}

void
rel_assert_verify_clean(void)
{
	int rc = rel_circlectl_verify();

	if (rc != 0)
		fail_msg("circlectl verify exited %d (0: all agree, 1: mismatch, 2: cannot tell)",
			 rc);
}
