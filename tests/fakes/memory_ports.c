/*
 * The in-memory event store and circle reader: each call looks at the one
 * world of its struct memory_ports, and an append, like the database's
 * transaction, writes all it should or nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "memory_ports.h"

/* the ids drawn so far; ctx.new_id takes no self, so it lives here */
static unsigned next_id;

struct circle *
memory_row(struct memory_world *w, const char *id)
{
	size_t i;

	for (i = 0; i < w->nrows; i++)
		if (strcmp(w->rows[i].id, id) == 0)
			return &w->rows[i];
	return NULL;
}

enum cerr
memory_events(const struct memory_world *w, const char *id, struct circle_event **evs, size_t *n)
{
	size_t i, k = 0;

	*evs = NULL;
	*n = 0;
	for (i = 0; i < w->nevents; i++)
		if (strcmp(w->events[i].circle_id, id) == 0)
			k++;
	if (k == 0)
		return CE_OK;
	*evs = calloc(k, sizeof(**evs));
	if (*evs == NULL)
		return CE_INTERNAL;
	for (i = 0; i < w->nevents; i++)
		if (strcmp(w->events[i].circle_id, id) == 0)
			(*evs)[(*n)++] = w->events[i];
	return CE_OK;
}

/* No snapshots here: a command replays the whole history. */
static enum cerr
fake_load(void *self, const char *id, struct circle *from, struct circle_event **evs, size_t *n)
{
	struct memory_ports *m = self;
	enum cerr rc;

	memset(from, 0, sizeof(*from));
	*evs = NULL;
	*n = 0;
	if (m->world.down)
		return CE_UNAVAILABLE;
	rc = memory_events(&m->world, id, evs, n);
	if (rc == CE_OK && m->stale > 0 && *n > 0) {
		m->stale--;
		if (--*n == 0) {
			free(*evs);
			*evs = NULL;
		}
	}
	return rc;
}

/* Like the store: the unique keys refuse, and nothing is half written. */
static enum cerr
fake_append(void *self, const struct circle_event *ev, const struct circle *after,
	    const struct idem_key *idem)
{
	struct memory_ports *m = self;
	struct memory_world *w = &m->world;
	struct circle *r;
	size_t i;

	if (w->down)
		return CE_UNAVAILABLE;
	if (m->on_append != NULL)
		m->on_append(ev, after, idem);
	/* the key first, as the store takes it first: a racing repeat of a
	 * create loses on its key, not on its own name */
	if (idem != NULL)
		for (i = 0; i < w->nkeys; i++)
			if (strcmp(w->keys[i], idem->key) == 0)
				return CE_IDEMPOTENCY_KEY_TAKEN;
	for (i = 0; i < w->nevents; i++)
		if (strcmp(w->events[i].circle_id, ev->circle_id) == 0 &&
		    w->events[i].version == ev->version)
			return CE_VERSION_MISMATCH;
	for (i = 0; i < w->nrows; i++)
		if (!after->deleted && !w->rows[i].deleted &&
		    strcmp(w->rows[i].id, after->id) != 0 &&
		    strcasecmp(w->rows[i].name, after->name) == 0)
			return CE_DUPLICATE_NAME;
	r = memory_row(w, after->id);
	/* a full world is a database that cannot take more */
	if (w->nevents == MEMORY_MAX_EVENTS || (r == NULL && w->nrows == MEMORY_MAX_CIRCLES) ||
	    (idem != NULL && w->nkeys == MEMORY_MAX_KEYS))
		return CE_UNAVAILABLE;
	w->events[w->nevents++] = *ev;
	if (r == NULL)
		r = &w->rows[w->nrows++];
	*r = *after;
	if (idem != NULL) {
		snprintf(w->keys[w->nkeys], sizeof(w->keys[0]), "%s", idem->key);
		memcpy(w->recs[w->nkeys].circle_id, after->id, sizeof(after->id));
		memcpy(w->recs[w->nkeys].name, after->name, sizeof(after->name));
		w->recs[w->nkeys].capacity = after->capacity;
		w->nkeys++;
	}
	m->commits++;
	return CE_OK;
}

/* The position after the last commit, as a database with one domain and
 * one server would give it. */
static enum cerr
fake_commit_token(void *self, char out[COMMIT_TOKEN_MAX + 1])
{
	const struct memory_ports *m = self;

	out[0] = '\0';
	if (m->world.down)
		return CE_UNAVAILABLE;
	if (m->commits > 0)
		snprintf(out, COMMIT_TOKEN_MAX + 1, "0-1-%lu", m->commits);
	return CE_OK;
}

static enum cerr
fake_wait_for(void *self, const char *token, unsigned timeout_ms)
{
	struct memory_ports *m = self;

	(void)timeout_ms;
	snprintf(m->waited, sizeof(m->waited), "%s", token);
	if (m->world.down)
		return CE_UNAVAILABLE;
	return m->behind ? CE_NOT_CAUGHT_UP : CE_OK;
}

static enum cerr
fake_idem_find(void *self, const char *key, struct idem_record *out)
{
	struct memory_ports *m = self;
	size_t i;

	if (m->world.down)
		return CE_UNAVAILABLE;
	if (m->stale > 0) {
		m->stale--;
		return CE_NOT_FOUND;
	}
	for (i = 0; i < m->world.nkeys; i++) {
		if (strcmp(m->world.keys[i], key) == 0) {
			*out = m->world.recs[i];
			return CE_OK;
		}
	}
	return CE_NOT_FOUND;
}

static enum cerr
fake_ping(void *self)
{
	const struct memory_ports *m = self;

	return m->world.down ? CE_UNAVAILABLE : CE_OK;
}

static enum cerr
fake_get(void *self, const char *id, struct circle *out)
{
	struct memory_ports *m = self;
	const struct circle *r;

	if (m->world.down)
		return CE_UNAVAILABLE;
	r = memory_row(&m->world, id);
	if (r == NULL)
		return CE_NOT_FOUND;
	*out = *r;
	return CE_OK;
}

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct circle *)a)->id, ((const struct circle *)b)->id);
}

static enum cerr
fake_list(void *self, const char *after, unsigned limit, struct circle *out, size_t *n)
{
	const struct memory_ports *m = self;
	const struct memory_world *w = &m->world;
	struct circle sorted[MEMORY_MAX_CIRCLES];
	size_t i;

	*n = 0;
	if (w->down)
		return CE_UNAVAILABLE;
	if (m->on_list != NULL)
		m->on_list(after);
	memcpy(sorted, w->rows, w->nrows * sizeof(sorted[0]));
	qsort(sorted, w->nrows, sizeof(sorted[0]), by_id);
	for (i = 0; i < w->nrows && *n < limit; i++)
		if (!sorted[i].deleted && (after == NULL || strcmp(sorted[i].id, after) > 0))
			out[(*n)++] = sorted[i];
	return CE_OK;
}

static enum cerr
fake_history(void *self, const char *id, uint32_t upto, struct circle_event **evs, size_t *n)
{
	const struct memory_ports *m = self;
	enum cerr rc;

	*evs = NULL;
	*n = 0;
	if (m->world.down)
		return CE_UNAVAILABLE;
	rc = memory_events(&m->world, id, evs, n);
	while (rc == CE_OK && upto != 0 && *n > 0 && (*evs)[*n - 1].version > upto)
		(*n)--;
	return rc;
}

static void
fake_new_id(char out[CIRCLE_ID_LEN + 1])
{
	snprintf(out, CIRCLE_ID_LEN + 1, "abcdef00-0000-4000-8000-%012x", ++next_id);
}

static void
fake_now(char out[CIRCLE_TIME_LEN + 1])
{
	snprintf(out, CIRCLE_TIME_LEN + 1, "2026-11-26T08:35:48.123456Z");
}

void
memory_ports_init(struct memory_ports *m)
{
	memset(m, 0, sizeof(*m));
	m->store.self = m;
	m->store.load = fake_load;
	m->store.append = fake_append;
	m->store.idem_find = fake_idem_find;
	m->store.commit_token = fake_commit_token;
	m->reader.self = m;
	m->reader.ping = fake_ping;
	m->reader.get = fake_get;
	m->reader.list = fake_list;
	m->reader.history = fake_history;
	m->reader.wait_for = fake_wait_for;
	m->ctx.store = &m->store;
	m->ctx.new_id = fake_new_id;
	m->ctx.now = fake_now;
	next_id = 0;
}
