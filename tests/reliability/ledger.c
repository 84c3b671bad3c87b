/*
 * The ledger of acknowledged writes and its verification (see ledger.h).
 */
#include "ledger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rel.h"

/* Failures printed in full; the rest are only counted. */
#define REPORT_MAX 10
/* A worker whose database connection died answers one 503 before it
 * reconnects; a check asks again this many times. */
#define ATTEMPTS 3

struct entry {
	char id[REL_ID_LEN + 1];
	int version;
	int capacity; /* -1: not sent */
	char *name;   /* NULL: not sent */
};

struct ledger {
	pthread_mutex_t lock;
	struct entry *e;
	size_t n, cap;
};

struct ledger *
ledger_new(void)
{
	struct ledger *l = calloc(1, sizeof(*l));

	if (!l || pthread_mutex_init(&l->lock, NULL) != 0)
		abort();
	return l;
}

void
ledger_free(struct ledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void
add(struct ledger *l, const char *id, int version, const char *name, int capacity)
{
	struct entry *e;

	pthread_mutex_lock(&l->lock);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct entry *bigger = realloc(l->e, cap * sizeof(*bigger));

		if (!bigger)
			abort();
		l->e = bigger;
		l->cap = cap;
	}
	e = &l->e[l->n++];
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->version = version;
	e->capacity = capacity;
	e->name = name ? strdup(name) : NULL;
	if (name && !e->name)
		abort();
	pthread_mutex_unlock(&l->lock);
}

void
ledger_create(struct ledger *l, const char *id, const char *name, int capacity)
{
	add(l, id, 1, name, capacity);
}

void
ledger_update(struct ledger *l, const char *id, int version, const char *name, int capacity)
{
	add(l, id, version, name, capacity);
}

size_t
ledger_count(const struct ledger *l)
{
	return l->n;
}

static int
by_id_version(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return (x->version > y->version) - (x->version < y->version);
}

/* GET target as JSON with a 200, asking again after a 503. NULL otherwise,
 * with the reason in why. */
static json_object *
get_json(const char *target, char *why, size_t why_len)
{
	for (int attempt = 1;; attempt++) {
		struct http_response r;
		json_object *o;

		if (rel_request(&r, "GET", target, NULL, NULL, 0, REL_CLIENT_TIMEOUT_MS, NULL) !=
		    0) {
			snprintf(why, why_len, "GET %s: no answer", target);
			return NULL;
		}
		if (r.status == 503 && attempt < ATTEMPTS) {
			http_response_free(&r);
			rel_sleep_ms(300);
			continue;
		}
		if (r.status != 200) {
			snprintf(why, why_len, "GET %s answered %d: %.200s", target, r.status,
				 r.body);
			http_response_free(&r);
			return NULL;
		}
		o = rel_body_json(&r);
		if (!o)
			snprintf(why, why_len, "GET %s: body is not JSON", target);
		http_response_free(&r);
		return o;
	}
}

/* Far more pages than any circle of a test has (1000 events each). */
#define HISTORY_PAGES_MAX 1000

/*
 * The whole history of circle id, one page after the other along
 * next_after (a page holds at most 1000 events), as one new JSON object
 * {"events": [...]} that the caller puts; NULL with why when a page cannot
 * be read or next_after does not move forward.
 */
static json_object *
get_history(const char *id, char *why, size_t why_len)
{
	json_object *all = json_object_new_object(), *acc = json_object_new_array();
	int64_t after = 0;
	int page;

	if (!all || !acc) {
		json_object_put(all);
		json_object_put(acc);
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	json_object_object_add(all, "events", acc);
	for (page = 0; page < HISTORY_PAGES_MAX; page++) {
		char *target = rel_strf("/circle/%s/events?after=%lld", id, (long long)after);
		json_object *o = get_json(target, why, why_len), *evs = NULL, *next = NULL;
		size_t i, n;

		free(target);
		if (!o)
			break;
		if (!json_object_object_get_ex(o, "events", &evs) ||
		    !json_object_is_type(evs, json_type_array)) {
			snprintf(why, why_len, "history page after %lld without events",
				 (long long)after);
			json_object_put(o);
			break;
		}
		n = json_object_array_length(evs);
		for (i = 0; i < n; i++)
			json_object_array_add(acc,
					      json_object_get(json_object_array_get_idx(evs, i)));
		if (!json_object_object_get_ex(o, "next_after", &next) || next == NULL) {
			json_object_put(o);
			return all;
		}
		if (!json_object_is_type(next, json_type_int) ||
		    json_object_get_int64(next) <= after) {
			snprintf(why, why_len, "history page after %lld: next_after %s",
				 (long long)after, json_object_to_json_string(next));
			json_object_put(o);
			break;
		}
		after = json_object_get_int64(next);
		json_object_put(o);
	}
	if (page == HISTORY_PAGES_MAX)
		snprintf(why, why_len, "history longer than %d pages", HISTORY_PAGES_MAX);
	json_object_put(all);
	return NULL;
}

/* The event of this version in the events array, or NULL. */
static json_object *
event_at(json_object *events, int version)
{
	size_t n = json_object_array_length(events);

	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(events, i);
		int64_t v;

		if (rel_jint(ev, "version", &v) == 0 && v == version)
			return ev;
	}
	return NULL;
}

/* 0 when ev is the event e acknowledged; else why not. */
static int
event_matches(json_object *ev, const struct entry *e, char *why, size_t why_len)
{
	const char *want_type = e->version == 1 ? "circle_created" : "circle_updated";
	const char *type = rel_jstr(ev, "event_type"), *name;
	json_object *data = NULL;
	int64_t cap;

	if (!type || strcmp(type, want_type) != 0) {
		snprintf(why, why_len, "version %d is %s, not %s", e->version,
			 type ? type : "(none)", want_type);
		return -1;
	}
	if (!json_object_object_get_ex(ev, "data", &data)) {
		snprintf(why, why_len, "version %d has no data", e->version);
		return -1;
	}
	name = rel_jstr(data, "name");
	if (e->name && (!name || strcmp(name, e->name) != 0)) {
		snprintf(why, why_len, "version %d has name %s, sent %s", e->version,
			 name ? name : "(none)", e->name);
		return -1;
	}
	if (e->capacity >= 0 && (rel_jint(data, "capacity", &cap) != 0 || cap != e->capacity)) {
		snprintf(why, why_len, "version %d lacks capacity %d: %s", e->version, e->capacity,
			 json_object_to_json_string(data));
		return -1;
	}
	return 0;
}

/* Checks the writes e[0..n) of one circle; how many failed. */
static size_t
verify_circle(const struct entry *e, size_t n, size_t *verified, size_t *reported)
{
	char why[512] = "", *path = rel_strf("/circle/%s", e[0].id);
	json_object *circle = NULL, *hist = NULL, *events = NULL;
	int64_t version = 0;
	size_t failed = 0, i;

	circle = get_json(path, why, sizeof(why));
	if (circle && (rel_jint(circle, "version", &version) != 0 || version < e[n - 1].version))
		snprintf(why, sizeof(why), "projection at version %lld, below acknowledged %d",
			 (long long)version, e[n - 1].version);
	else if (circle)
		hist = get_history(e[0].id, why, sizeof(why));
	if (hist && (!json_object_object_get_ex(hist, "events", &events) ||
		     !json_object_is_type(events, json_type_array))) {
		snprintf(why, sizeof(why), "history without events");
		events = NULL;
	}
	if (events && (int64_t)json_object_array_length(events) != version) {
		snprintf(why, sizeof(why), "%zu events but the projection is at version %lld",
			 json_object_array_length(events), (long long)version);
		events = NULL;
	}
	for (i = 0; i < n; i++) {
		json_object *ev = events ? event_at(events, e[i].version) : NULL;
		char ewhy[512];

		if (ev && event_matches(ev, &e[i], ewhy, sizeof(ewhy)) == 0) {
			(*verified)++;
			continue;
		}
		if (events && !ev)
			snprintf(ewhy, sizeof(ewhy), "no event at version %d", e[i].version);
		else if (!events)
			snprintf(ewhy, sizeof(ewhy), "%s", why);
		failed++;
		if ((*reported)++ < REPORT_MAX)
			printf("    LOST write: circle %s version %d: %s\n", e[i].id, e[i].version,
			       ewhy);
	}
	json_object_put(hist);
	json_object_put(circle);
	free(path);
	return failed;
}

size_t
ledger_verify(struct ledger *l, size_t *verified)
{
	size_t failed = 0, reported = 0, i = 0;

	*verified = 0;
	qsort(l->e, l->n, sizeof(*l->e), by_id_version);
	while (i < l->n) {
		size_t j = i + 1;

		while (j < l->n && strcmp(l->e[j].id, l->e[i].id) == 0)
			j++;
		failed += verify_circle(&l->e[i], j - i, verified, &reported);
		i = j;
	}
	return failed;
}
