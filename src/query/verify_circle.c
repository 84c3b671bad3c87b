/*
 * Verification of the projection and the snapshots against the event store:
 * both are only caches of the fold of the events, so any difference is
 * corruption (a write that reached one table and not the other). Everything
 * of one circle is read as of one moment, so a command committing meanwhile
 * is never taken for a mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/lookup.h"

/* Snapshots held at once; one is written every few versions. */
#define SNAPSHOT_PAGE 100

struct verify {
	struct circle_reader *r;
	const char *key;
	bool *agree;
	size_t *events;
	char *why;
	size_t why_size;
	/* the snapshots not yet compared: page[next..n), more after them when full */
	struct circle page[SNAPSHOT_PAGE];
	size_t n, next;
	uint32_t after;
	bool exhausted;
	/* set once a difference was found: the first one is the one told */
	bool differs;
};

/* Notes a difference; version 0: the circle as a whole. */
static void
differ(struct verify *v, const char *what, uint32_t version)
{
	if (v->differs)
		return;
	v->differs = true;
	if (version > 0)
		snprintf(v->why, v->why_size, "%s (version %u)", what, (unsigned)version);
	else
		snprintf(v->why, v->why_size, "%s", what);
}

/* The next snapshot not yet compared, or NULL when none is left. */
static enum cerr
next_snapshot(struct verify *v, const struct circle **out)
{
	*out = NULL;
	if (v->next == v->n && !v->exhausted) {
		enum cerr rc;

		v->next = 0;
		v->n = 0;
		if (v->r->snapshots == NULL) {
			v->exhausted = true;
			return CE_OK;
		}
		rc = v->r->snapshots(v->r->self, v->key, v->after, SNAPSHOT_PAGE, v->page, &v->n);
		if (rc != CE_OK)
			return rc;
		if (v->n > SNAPSHOT_PAGE)
			return CE_INTERNAL;
		v->exhausted = v->n < SNAPSHOT_PAGE;
		if (v->n > 0)
			v->after = v->page[v->n - 1].version;
	}
	if (v->next < v->n)
		*out = &v->page[v->next];
	return CE_OK;
}

/* Compares every snapshot at or below state's version with it. */
static enum cerr
check_snapshots(struct verify *v, const struct circle *state)
{
	const struct circle *s;
	enum cerr rc;

	while ((rc = next_snapshot(v, &s)) == CE_OK && s != NULL && s->version <= state->version) {
		if (s->version != state->version)
			differ(v, "a snapshot at a version the events skip", s->version);
		else if (s->deleted != state->deleted || s->capacity != state->capacity ||
			 strcmp(s->name, state->name) != 0 ||
			 strcmp(s->description, state->description) != 0)
			differ(v, "a snapshot disagrees with the events", s->version);
		v->next++;
	}
	return rc;
}

static enum cerr
compare_projection(struct verify *v, const struct circle *replayed, size_t n)
{
	struct circle row;
	enum cerr got = v->r->get(v->r->self, v->key, &row);

	if (got != CE_OK && got != CE_NOT_FOUND)
		return got;
	if (n == 0 && got == CE_NOT_FOUND)
		return CE_NOT_FOUND;
	if (v->differs)
		return CE_OK;
	if (n == 0)
		differ(v, "a projection row without events", 0);
	else if (got == CE_NOT_FOUND)
		differ(v, "events without a projection row", 0);
	else if (replayed->version != row.version)
		differ(v, "the projection is at another version", 0);
	else if (replayed->deleted != row.deleted)
		differ(v, "the projection disagrees on deletion", 0);
	else if (strcmp(replayed->name, row.name) != 0)
		differ(v, "the projection has another name", 0);
	else if (replayed->capacity != row.capacity)
		differ(v, "the projection has another capacity", 0);
	else if (strcmp(replayed->description, row.description) != 0)
		differ(v, "the projection has another description", 0);
	return CE_OK;
}

/* The whole check, inside one consistent read. */
static enum cerr
verify_now(void *ctx)
{
	struct verify *v = ctx;
	struct circle state;
	const struct circle *left;
	uint32_t after = 0;
	size_t total = 0;
	enum cerr rc;

	memset(&state, 0, sizeof(state));
	for (;;) {
		struct circle_event *evs = NULL;
		size_t n = 0, i;

		rc = v->r->history(v->r->self, v->key, after, 0, LOOKUP_FOLD_PAGE, &evs, &n);
		for (i = 0; rc == CE_OK && i < n && !v->differs; i++) {
			if (circle_apply(&state, &evs[i]) != CE_OK)
				differ(v, "the events do not replay", 0);
			else
				rc = check_snapshots(v, &state);
		}
		total += n;
		if (n > 0)
			after = evs[n - 1].version;
		free(evs);
		if (rc != CE_OK)
			return rc;
		if (n < LOOKUP_FOLD_PAGE || v->differs)
			break;
	}
	*v->events = total;
	rc = next_snapshot(v, &left);
	if (rc != CE_OK)
		return rc;
	if (left != NULL)
		differ(v, "a snapshot beyond the latest event", left->version);
	rc = compare_projection(v, &state, total);
	if (rc == CE_OK)
		*v->agree = !v->differs;
	return rc;
}

enum cerr
verify_circle(struct circle_reader *r, const char *id, bool *agree, size_t *events, char *why,
	      size_t why_size)
{
	struct verify *v;
	char key[CIRCLE_ID_LEN + 1];
	struct cerr_info info;
	enum cerr rc;

	*agree = false;
	*events = 0;
	why[0] = '\0';
	if (canonical_circle_id(id, key, &info) != CE_OK)
		return CE_NOT_FOUND;
	/* a page of snapshots is too large for a stack frame */
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return CE_INTERNAL;
	v->r = r;
	v->key = key;
	v->agree = agree;
	v->events = events;
	v->why = why;
	v->why_size = why_size;
	rc = r->consistent != NULL ? r->consistent(r->self, verify_now, v) : verify_now(v);
	free(v);
	return rc;
}
