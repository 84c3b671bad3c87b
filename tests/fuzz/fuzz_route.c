/*
 * Fuzzes routing (http/route.h): the input is "METHOD PATH" (split at the
 * first space; no space makes it all path under GET), each part a C string
 * as FastCGI hands it over.
 *
 * Properties: a match is a route of the table for that method (HEAD for
 * GET), and putting the captured segments back into its pattern rebuilds
 * the path byte for byte; a 405 lists in Allow exactly the methods that do
 * match that path, never the one asked; a 404 means no method matches;
 * Allow survives every buffer size, however small.
 */
#include <string.h>

#include "fuzz.h"
#include "http/route.h"

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

/* Rebuilds a path from pattern and p into out; -1 when it does not fit. */
static int
rebuild(const char *pattern, const struct http_params *p, char *out, size_t size)
{
	size_t o = 0;
	const char *t = pattern;

	while (*t != '\0') {
		const char *s = t;
		size_t n = 1;

		if (strncmp(t, "{id}", 4) == 0) {
			FUZZ_CHECK(p->id != NULL);
			s = p->id;
			n = p->id_len;
			t += 4;
		} else if (strncmp(t, "{n}", 3) == 0) {
			FUZZ_CHECK(p->n != NULL);
			s = p->n;
			n = p->n_len;
			t += 3;
		} else {
			t++;
		}
		if (o + n >= size)
			return -1;
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

static void
check_match(const char *method, const char *path, const struct route *r,
	    const struct http_params *p)
{
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	size_t n, len = strlen(path);
	const struct route *table = route_table(&n);
	char *back = malloc(len + 1);

	FUZZ_CHECK(r >= table && r < table + n);
	FUZZ_CHECK(strcmp(r->method, want) == 0);
	FUZZ_CHECK((p->id != NULL) == (strstr(r->pattern, "{id}") != NULL));
	FUZZ_CHECK((p->n != NULL) == (strstr(r->pattern, "{n}") != NULL));
	if (p->id != NULL)
		FUZZ_CHECK(p->id >= path && p->id + p->id_len <= path + len && p->id_len > 0 &&
			   memchr(p->id, '/', p->id_len) == NULL);
	if (p->n != NULL)
		FUZZ_CHECK(p->n >= path && p->n + p->n_len <= path + len && p->n_len > 0 &&
			   memchr(p->n, '/', p->n_len) == NULL);
	if (back == NULL)
		return;
	FUZZ_CHECK(rebuild(r->pattern, p, back, len + 1) == 0);
	FUZZ_CHECK(strcmp(back, path) == 0);
	free(back);
}

/* Whether method has a route on path. */
static bool
takes(const char *method, const char *path)
{
	const struct route *r = NULL;
	struct http_params p;
	char allow[64];

	return route_find(method, path, &r, &p, allow, sizeof(allow)) == ROUTE_MATCH;
}

static void
check_allow(const char *method, const char *path, const char *allow)
{
	size_t i;
	bool any = false;

	FUZZ_CHECK(allow[0] != '\0');
	/* Allow names exactly the methods that match, whole words */
	for (i = 0; i < NMETHODS; i++) {
		const char *m = methods[i];
		size_t ml = strlen(m);
		const char *at = allow;
		bool listed = false;

		while ((at = strstr(at, m)) != NULL) {
			if ((at == allow || at[-1] == ' ') && (at[ml] == '\0' || at[ml] == ','))
				listed = true;
			at += ml;
		}
		FUZZ_CHECK(listed == takes(m, path));
		any = any || listed;
	}
	FUZZ_CHECK(any);
	FUZZ_CHECK(!takes(method, path));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = {0, 1, 2, 5, 9, 64};
	char *buf = malloc(size + 1), *method, *path, *sp;
	const struct route *r = NULL;
	struct http_params p = {0};
	char allow[64];
	enum route_result rr;
	size_t i;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	sp = strchr(buf, ' ');
	if (sp != NULL) {
		*sp = '\0';
		method = strdup(buf);
		path = strdup(sp + 1);
	} else {
		method = strdup("GET");
		path = strdup(buf);
	}
	free(buf);
	if (method == NULL || path == NULL)
		goto out;

	rr = route_find(method, path, &r, &p, allow, sizeof(allow));
	switch (rr) {
	case ROUTE_MATCH: check_match(method, path, r, &p); break;
	case ROUTE_NO_METHOD: check_allow(method, path, allow); break;
	case ROUTE_NO_PATH:
		for (i = 0; i < NMETHODS; i++)
			FUZZ_CHECK(!takes(methods[i], path));
		break;
	default: FUZZ_CHECK(!"route_find answered no result it has");
	}
	/* small Allow buffers: the same answer, a terminated prefix of Allow */
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *small = malloc(sizes[i] > 0 ? sizes[i] : 1);
		const struct route *r2 = NULL;
		struct http_params p2 = {0};

		if (small == NULL)
			break;
		FUZZ_CHECK(route_find(method, path, &r2, &p2, small, sizes[i]) == rr);
		if (rr == ROUTE_NO_METHOD && sizes[i] > 0)
			FUZZ_CHECK(strlen(small) < sizes[i] &&
				   strncmp(small, allow, strlen(small)) == 0);
		free(small);
	}
out:
	free(method);
	free(path);
	return 0;
}
