/*
 * The in-memory event store and circle reader: each call looks at the one
 * world of its struct memory_ports, and an append, like the database's
 * transaction, writes all it should or nothing. Injected failures answer
 * before the world is looked at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "memory_ports.h"

/* ctx.new_id takes no self: the ids drawn so far and the ports drawing them */
static unsigned next_id;
static const struct memory_ports *drawing;

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

/*
 * The events of id, and with snapshot_every the fold of those up to the
 * highest multiple of it into *from, as the store keeps its snapshots.
 */
static enum cerr
fake_load(void *self, const char *id, struct circle *from, struct circle_event **evs, size_t *n)
{
	struct memory_ports *m = self;
	uint32_t snap = 0;
	size_t i, k = 0;
	enum cerr rc;

	m->open = true;
	m->loads++;
	memset(from, 0, sizeof(*from));
	*evs = NULL;
	*n = 0;
	if (m->fail_load != CE_OK)
		return m->fail_load;
	if (m->world.down || (m->fail_load_from != 0 && m->loads >= m->fail_load_from))
		return CE_UNAVAILABLE;
	rc = memory_events(&m->world, id, evs, n);
	if (rc == CE_OK && m->stale > 0 && *n > 0) {
		m->stale--;
		if (--*n == 0) {
			free(*evs);
			*evs = NULL;
		}
	}
	if (rc != CE_OK || m->snapshot_every == 0 || *n == 0)
		return rc;
	snap = (uint32_t)*n / m->snapshot_every * m->snapshot_every;
	for (i = 0; i < *n; i++) {
		if ((*evs)[i].version <= snap) {
			if (circle_apply(from, &(*evs)[i]) != CE_OK)
				return CE_INTERNAL;
		} else {
			(*evs)[k++] = (*evs)[i];
		}
	}
	*n = k;
	return CE_OK;
}

/* Commits ev as another writer would have: the event and its row. */
static enum cerr
commit_other(struct memory_world *w, const struct circle_event *ev)
{
	struct circle *r = memory_row(w, ev->circle_id);

	if (w->nevents == MEMORY_MAX_EVENTS || (r == NULL && w->nrows == MEMORY_MAX_CIRCLES))
		return CE_INTERNAL;
	if (r == NULL) {
		r = &w->rows[w->nrows++];
		memset(r, 0, sizeof(*r));
	}
	w->events[w->nevents++] = *ev;
	return circle_apply(r, ev);
}

/* Remembers key with rec, as a committed keyed write does. */
static void
remember_key(struct memory_world *w, const char *key, const struct idem_record *rec)
{
	snprintf(w->keys[w->nkeys], sizeof(w->keys[0]), "%s", key);
	w->recs[w->nkeys++] = *rec;
}

/* Every byte of both states but padding. */
static bool
same_circle(const struct circle *a, const struct circle *b)
{
	return memcmp(a->id, b->id, sizeof(a->id)) == 0 &&
	       memcmp(a->name, b->name, sizeof(a->name)) == 0 && a->capacity == b->capacity &&
	       a->version == b->version && a->deleted == b->deleted &&
	       memcmp(a->description, b->description, sizeof(a->description)) == 0;
}

/* Whether idem is one the store could keep, as its contract asks. */
static bool
idem_fits(const struct idem_key *idem)
{
	return text_idempotency_key_valid(idem->key) && idem->request != NULL &&
	       strlen(idem->request) <= IDEM_REQUEST_MAX;
}

/* Remembers idem with its answer, the circle `after`; w has room. */
static void
remember(struct memory_world *w, const struct idem_key *idem, const struct circle *after)
{
	struct idem_record *rec = &w->recs[w->nkeys];

	snprintf(w->keys[w->nkeys], sizeof(w->keys[0]), "%s", idem->key);
	memset(rec, 0, sizeof *rec);
	snprintf(rec->request, sizeof rec->request, "%s", idem->request);
	rec->status = idem->status;
	memcpy(rec->circle_id, after->id, sizeof(after->id));
	memcpy(rec->name, after->name, sizeof(after->name));
	rec->capacity = after->capacity;
	rec->version = after->version;
	rec->deleted = after->deleted;
	memcpy(rec->description, after->description, sizeof(after->description));
	w->nkeys++;
}

/* Like the store: the unique keys refuse, and nothing is half written. */
static enum cerr
fake_append(void *self, const struct circle_event *ev, const struct circle *after,
	    const struct idem_key *idem)
{
	struct memory_ports *m = self;
	struct memory_world *w = &m->world;
	struct circle *r, expect;
	size_t i;

	m->open = false;
	m->appends++;
	if (m->fail_append != CE_OK)
		return m->fail_append;
	if (w->down)
		return CE_UNAVAILABLE;
	if (m->race_version) {
		m->race_version = false;
		return commit_other(w, &m->race_event) == CE_OK ? CE_VERSION_MISMATCH : CE_INTERNAL;
	}
	if (idem != NULL && m->race_key) {
		m->race_key = false;
		if (w->nkeys == MEMORY_MAX_KEYS)
			return CE_INTERNAL;
		remember_key(w, idem->key, &m->race_record);
		return CE_IDEMPOTENCY_KEY_TAKEN;
	}
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
	/* the projection handed in must be the event folded onto the row: a
	 * caller that breaks this gets what a broken store would answer */
	if (r != NULL)
		expect = *r;
	else
		memset(&expect, 0, sizeof(expect));
	if (strcmp(ev->circle_id, after->id) != 0 || circle_apply(&expect, ev) != CE_OK ||
	    !same_circle(&expect, after) || (idem != NULL && !idem_fits(idem)))
		return CE_INTERNAL;
	/* a full world is a database that cannot take more */
	if (w->nevents == MEMORY_MAX_EVENTS || (r == NULL && w->nrows == MEMORY_MAX_CIRCLES) ||
	    (idem != NULL && w->nkeys == MEMORY_MAX_KEYS))
		return CE_UNAVAILABLE;
	w->events[w->nevents++] = *ev;
	if (r == NULL)
		r = &w->rows[w->nrows++];
	*r = *after;
	if (idem != NULL)
		remember(w, idem, after);
	m->commits++;
	return CE_OK;
}

static enum cerr
fake_idem_remember(void *self, const struct idem_key *idem, const struct circle *state)
{
	struct memory_ports *m = self;
	struct memory_world *w = &m->world;
	size_t i;

	m->open = false;
	/* a remember is a write of its own: it fails as an append would */
	if (m->fail_append != CE_OK)
		return m->fail_append;
	if (w->down)
		return CE_UNAVAILABLE;
	if (!idem_fits(idem))
		return CE_INTERNAL;
	for (i = 0; i < w->nkeys; i++)
		if (strcmp(w->keys[i], idem->key) == 0)
			return CE_IDEMPOTENCY_KEY_TAKEN;
	if (w->nkeys == MEMORY_MAX_KEYS)
		return CE_UNAVAILABLE;
	remember(w, idem, state);
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

	m->open = true;
	m->finds++;
	if (m->fail_idem != CE_OK)
		return m->fail_idem;
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

/* What every reader call answers before it looks at the world. */
static enum cerr
read_failure(const struct memory_ports *m)
{
	if (m->fail_read != CE_OK)
		return m->fail_read;
	return m->world.down ? CE_UNAVAILABLE : CE_OK;
}

static enum cerr
fake_ping(void *self)
{
	return read_failure(self);
}

static enum cerr
fake_get(void *self, const char *id, struct circle *out)
{
	struct memory_ports *m = self;
	const struct circle *r;
	enum cerr rc;

	snprintf(m->last_id, sizeof(m->last_id), "%s", id);
	if ((rc = read_failure(m)) != CE_OK)
		return rc;
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
	struct memory_ports *m = self;
	const struct memory_world *w = &m->world;
	struct circle sorted[MEMORY_MAX_CIRCLES];
	size_t i;
	enum cerr rc;

	*n = 0;
	m->last_limit = limit;
	m->last_after_null = after == NULL;
	if (after != NULL)
		snprintf(m->last_id, sizeof(m->last_id), "%s", after);
	if ((rc = read_failure(m)) != CE_OK)
		return rc;
	if (m->on_list != NULL)
		m->on_list(after);
	memcpy(sorted, w->rows, w->nrows * sizeof(sorted[0]));
	qsort(sorted, w->nrows, sizeof(sorted[0]), by_id);
	for (i = 0; i < w->nrows && *n < limit; i++)
		if (!sorted[i].deleted && (after == NULL || strcmp(sorted[i].id, after) > 0))
			out[(*n)++] = sorted[i];
	*n += m->list_extra; /* a broken reader claims more than it had room for */
	return CE_OK;
}

static enum cerr
fake_history(void *self, const char *id, uint32_t after, uint32_t upto, unsigned limit,
	     struct circle_event **evs, size_t *n)
{
	struct memory_ports *m = self;
	size_t skip = 0;
	enum cerr rc;

	*evs = NULL;
	*n = 0;
	snprintf(m->last_id, sizeof(m->last_id), "%s", id);
	m->last_upto = upto;
	m->last_history_after = after;
	m->last_history_limit = limit;
	if ((rc = read_failure(m)) != CE_OK)
		return rc;
	rc = memory_events(&m->world, id, evs, n);
	while (rc == CE_OK && upto != 0 && !m->history_ignores_upto && *n > 0 &&
	       (*evs)[*n - 1].version > upto)
		(*n)--;
	while (rc == CE_OK && skip < *n && (*evs)[skip].version <= after)
		skip++;
	if (skip > 0) {
		memmove(*evs, *evs + skip, (*n - skip) * sizeof(**evs));
		*n -= skip;
	}
	if (*n > limit)
		*n = limit;
	return rc;
}

static enum cerr
fake_snapshot_at(void *self, const char *id, uint32_t at, struct circle *out)
{
	const struct memory_ports *m = self;
	size_t i;
	enum cerr rc;

	if ((rc = read_failure(m)) != CE_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < m->world.nsnaps; i++)
		if (strcmp(m->world.snaps[i].id, id) == 0 && m->world.snaps[i].version <= at)
			*out = m->world.snaps[i];
	return CE_OK;
}

static enum cerr
fake_snapshots(void *self, const char *id, uint32_t after, unsigned limit, struct circle *out,
	       size_t *n)
{
	const struct memory_ports *m = self;
	size_t i;
	enum cerr rc;

	*n = 0;
	if ((rc = read_failure(m)) != CE_OK)
		return rc;
	for (i = 0; i < m->world.nsnaps && *n < limit; i++)
		if (strcmp(m->world.snaps[i].id, id) == 0 && m->world.snaps[i].version > after)
			out[(*n)++] = m->world.snaps[i];
	return CE_OK;
}

/* Memory is consistent anyway; counted, so a test sees the use case ask. */
static enum cerr
fake_consistent(void *self, enum cerr (*fn)(void *ctx), void *ctx)
{
	struct memory_ports *m = self;

	m->consistent_calls++;
	return fn(ctx);
}

/* The feed: every event in the order it was appended, events[i] at
 * position (i + 1) * feed_step. */
static enum cerr
fake_feed(void *self, uint64_t after, unsigned limit, struct feed_event *out, size_t *n)
{
	struct memory_ports *m = self;
	uint64_t step = m->feed_step != 0 ? m->feed_step : 1;
	size_t i;
	enum cerr rc;

	m->last_after = after;
	m->last_limit = limit;
	*n = 0;
	if ((rc = read_failure(m)) != CE_OK)
		return rc;
	for (i = 0; i < m->world.nevents && *n < limit; i++) {
		if ((i + 1) * step <= after)
			continue;
		out[*n].position = (i + 1) * step;
		out[*n].event = m->world.events[i];
		(*n)++;
	}
	if (m->feed_disorder && *n > 1) {
		struct feed_event t = out[0];

		out[0] = out[*n - 1];
		out[*n - 1] = t;
	}
	*n += m->feed_extra;
	return CE_OK;
}

static void
fake_new_id(char out[CIRCLE_ID_LEN + 1])
{
	const char *prefix = drawing != NULL && drawing->id_prefix != NULL
				     ? drawing->id_prefix
				     : "abcdef00-0000-4000-8000-";

	snprintf(out, CIRCLE_ID_LEN + 1, "%.24s%012x", prefix, ++next_id);
}

static void
fake_now(char out[CIRCLE_TIME_LEN + 1])
{
	snprintf(out, CIRCLE_TIME_LEN + 1, "2026-11-26T08:35:48.123456Z");
}

static void
fake_end(void *self)
{
	struct memory_ports *m = self;

	m->open = false;
	m->ends++;
}

void
memory_ports_init(struct memory_ports *m)
{
	memset(m, 0, sizeof(*m));
	m->store.self = m;
	m->store.load = fake_load;
	m->store.append = fake_append;
	m->store.idem_find = fake_idem_find;
	m->store.idem_remember = fake_idem_remember;
	m->store.end = fake_end;
	m->store.commit_token = fake_commit_token;
	m->reader.self = m;
	m->reader.ping = fake_ping;
	m->reader.get = fake_get;
	m->reader.list = fake_list;
	m->reader.history = fake_history;
	m->reader.snapshot_at = fake_snapshot_at;
	m->reader.snapshots = fake_snapshots;
	m->reader.consistent = fake_consistent;
	m->reader.feed = fake_feed;
	m->reader.wait_for = fake_wait_for;
	m->ctx.store = &m->store;
	m->ctx.new_id = fake_new_id;
	m->ctx.now = fake_now;
	next_id = 0;
	drawing = m;
}
