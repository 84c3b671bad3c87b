/*
 * Unit tests of the command use cases against an in-memory event store:
 * events in an array, a projection with the live-name uniqueness the real
 * store enforces, an idempotency table, injected failures and races.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "command/commands.h"

#define MAX_EVENTS 64
#define MAX_ROWS 16
#define MAX_KEYS 8
#define NOW "2026-11-26T08:35:48.123456Z"
#define OTHER_ID "ffffffff-ffff-4fff-8fff-ffffffffffff"

struct fake_key {
	char key[256];
	struct idem_record rec;
};

struct fake {
	struct circle_event events[MAX_EVENTS];
	size_t n_events;
	struct circle rows[MAX_ROWS]; /* the projection */
	size_t n_rows;
	struct fake_key keys[MAX_KEYS];
	size_t n_keys;
	/* failures to answer, CE_OK for none */
	enum cerr fail_load, fail_append, fail_idem;
	unsigned fail_load_from; /* loads from this one on fail, 0: none */
	/* load answers a snapshot at the highest multiple of this version, 0: none */
	uint32_t snapshot_every;
	/* the next append loses a race: race_event is appended first */
	bool race_version;
	struct circle_event race_event;
	/* the next append with a key loses a race to race_record */
	bool race_key;
	struct idem_record race_record;
	unsigned loads, appends, finds;
};

static struct fake fake;

/* An Idempotency-Key with nothing else to tell about the request. */
#define KEY(k) (&(struct write_key){.key = (k)})
static struct event_store store;
static unsigned next_id;

static struct circle *
find_row(struct fake *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->n_rows; i++)
		if (strcmp(f->rows[i].id, id) == 0)
			return &f->rows[i];
	return NULL;
}

/* Appends ev and folds it into its projection row, as the store's transaction does. */
static void
raw_append(struct fake *f, const struct circle_event *ev)
{
	struct circle *row = find_row(f, ev->circle_id);

	assert_true(f->n_events < MAX_EVENTS);
	f->events[f->n_events++] = *ev;
	if (row == NULL) {
		assert_true(f->n_rows < MAX_ROWS);
		row = &f->rows[f->n_rows++];
		memset(row, 0, sizeof *row);
	}
	assert_int_equal(circle_apply(row, ev), CE_OK);
}

static enum cerr
fake_load(void *self, const char *circle_id, struct circle *from, struct circle_event **evs,
	  size_t *n)
{
	struct fake *f = self;
	uint32_t snap = 0;
	size_t i, k = 0;

	f->loads++;
	memset(from, 0, sizeof *from);
	if (f->fail_load != CE_OK)
		return f->fail_load;
	if (f->fail_load_from != 0 && f->loads >= f->fail_load_from)
		return CE_UNAVAILABLE;
	*evs = NULL;
	*n = 0;
	for (i = 0; i < f->n_events; i++)
		if (strcmp(f->events[i].circle_id, circle_id) == 0)
			k++;
	if (k == 0)
		return CE_OK;
	/* the snapshot is the fold of the events up to it, as the store keeps it */
	if (f->snapshot_every != 0)
		snap = (uint32_t)k / f->snapshot_every * f->snapshot_every;
	*evs = calloc(k, sizeof **evs);
	assert_non_null(*evs);
	for (i = 0; i < f->n_events; i++) {
		if (strcmp(f->events[i].circle_id, circle_id) != 0)
			continue;
		if (f->events[i].version <= snap)
			assert_int_equal(circle_apply(from, &f->events[i]), CE_OK);
		else
			(*evs)[(*n)++] = f->events[i];
	}
	return CE_OK;
}

/* Remembers idem with its answer, the circle `after`. */
static void
remember(struct fake *f, const struct idem_key *idem, const struct circle *after)
{
	struct idem_record *rec = &f->keys[f->n_keys].rec;

	assert_true(f->n_keys < MAX_KEYS);
	strcpy(f->keys[f->n_keys].key, idem->key);
	memset(rec, 0, sizeof *rec);
	assert_true(strlen(idem->request) <= IDEM_REQUEST_MAX);
	strcpy(rec->request, idem->request);
	rec->status = idem->status;
	strcpy(rec->circle_id, after->id);
	strcpy(rec->name, after->name);
	rec->capacity = after->capacity;
	rec->version = after->version;
	rec->deleted = after->deleted;
	f->n_keys++;
}

static enum cerr
fake_append(void *self, const struct circle_event *ev, const struct circle *after,
	    const struct idem_key *idem)
{
	struct fake *f = self;
	struct circle expect, *row;
	size_t i;

	f->appends++;
	if (f->fail_append != CE_OK)
		return f->fail_append;
	if (f->race_version) {
		f->race_version = false;
		raw_append(f, &f->race_event);
		return CE_VERSION_MISMATCH;
	}
	if (idem != NULL && f->race_key) {
		assert_true(f->n_keys < MAX_KEYS);
		f->race_key = false;
		strcpy(f->keys[f->n_keys].key, idem->key);
		f->keys[f->n_keys++].rec = f->race_record;
		return CE_IDEMPOTENCY_KEY_TAKEN;
	}
	for (i = 0; i < f->n_events; i++)
		if (strcmp(f->events[i].circle_id, ev->circle_id) == 0 &&
		    f->events[i].version == ev->version)
			return CE_VERSION_MISMATCH;
	/* the real store compares names case-insensitively; ASCII is enough here */
	for (i = 0; i < f->n_rows && !after->deleted; i++)
		if (!f->rows[i].deleted && strcmp(f->rows[i].id, after->id) != 0 &&
		    strcasecmp(f->rows[i].name, after->name) == 0)
			return CE_DUPLICATE_NAME;
	for (i = 0; idem != NULL && i < f->n_keys; i++)
		if (strcmp(f->keys[i].key, idem->key) == 0)
			return CE_IDEMPOTENCY_KEY_TAKEN;

	/* the projection handed in must be the event folded onto the row */
	row = find_row(f, ev->circle_id);
	if (row != NULL)
		expect = *row;
	else
		memset(&expect, 0, sizeof expect);
	assert_int_equal(circle_apply(&expect, ev), CE_OK);
	assert_memory_equal(&expect, after, sizeof expect);

	raw_append(f, ev);
	if (idem != NULL)
		remember(f, idem, after);
	return CE_OK;
}

static enum cerr
fake_idem_remember(void *self, const struct idem_key *idem, const struct circle *state)
{
	struct fake *f = self;
	size_t i;

	if (f->fail_append != CE_OK)
		return f->fail_append;
	for (i = 0; i < f->n_keys; i++)
		if (strcmp(f->keys[i].key, idem->key) == 0)
			return CE_IDEMPOTENCY_KEY_TAKEN;
	remember(f, idem, state);
	return CE_OK;
}

static enum cerr
fake_idem_find(void *self, const char *key, struct idem_record *out)
{
	struct fake *f = self;
	size_t i;

	f->finds++;
	if (f->fail_idem != CE_OK)
		return f->fail_idem;
	for (i = 0; i < f->n_keys; i++) {
		if (strcmp(f->keys[i].key, key) == 0) {
			*out = f->keys[i].rec;
			return CE_OK;
		}
	}
	return CE_NOT_FOUND;
}

static void
fake_new_id(char out[CIRCLE_ID_LEN + 1])
{
	snprintf(out, CIRCLE_ID_LEN + 1, "aaaaaaaa-0000-4000-8000-%012u", ++next_id);
}

static void
fake_now(char out[CIRCLE_TIME_LEN + 1])
{
	strcpy(out, NOW);
}

static const struct command_ctx ctx = {&store, fake_new_id, fake_now};

static int
setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof fake);
	store.self = &fake;
	store.load = fake_load;
	store.append = fake_append;
	store.idem_find = fake_idem_find;
	store.idem_remember = fake_idem_remember;
	next_id = 0;
	return 0;
}

/* Creates a circle that must succeed; returns it. */
static struct circle
must_create(const char *name, int capacity)
{
	struct circle c;
	struct cerr_info info;
	bool replayed = true;

	assert_int_equal(create_circle(&ctx, name, capacity, NULL, &c, &replayed, &info), CE_OK);
	assert_false(replayed);
	return c;
}

static struct circle_update
upd(const char *name, int capacity, bool has_version, uint64_t version)
{
	struct circle_update u;

	memset(&u, 0, sizeof u);
	u.has_name = name != NULL;
	u.name = name;
	u.has_capacity = capacity != 0;
	u.capacity = capacity;
	u.has_version = has_version;
	u.expected_version = version;
	return u;
}

/* --- create --- */

static void
create_ok(void **state)
{
	struct circle c;

	(void)state;
	c = must_create("football", 20);
	assert_string_equal(c.id, "aaaaaaaa-0000-4000-8000-000000000001");
	assert_string_equal(c.name, "football");
	assert_int_equal(c.capacity, 20);
	assert_int_equal(c.version, 1);
	assert_false(c.deleted);
	assert_int_equal(fake.n_events, 1);
	assert_int_equal(fake.events[0].type, CIRCLE_CREATED);
	assert_string_equal(fake.events[0].circle_id, c.id);
	assert_string_equal(fake.events[0].event_id, "aaaaaaaa-0000-4000-8000-000000000002");
	assert_string_equal(fake.events[0].occurred_at, NOW);
	assert_int_equal(fake.events[0].version, 1);
	assert_int_equal(fake.n_rows, 1);
	assert_memory_equal(&fake.rows[0], &c, sizeof c);
	/* no key, no lookup */
	assert_int_equal(fake.finds, 0);
	assert_int_equal(fake.n_keys, 0);
}

static void
create_invalid_never_reaches_store(void **state)
{
	struct circle c;
	struct cerr_info info;
	bool replayed;

	(void)state;
	assert_int_equal(create_circle(&ctx, "", 20, KEY("k"), &c, &replayed, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "circle_name");
	assert_int_equal(create_circle(&ctx, "ok", 2, KEY("k"), &c, &replayed, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "capacity");
	assert_int_equal(create_circle(&ctx, " \xe3\x80\x80", 20, NULL, &c, &replayed, &info),
			 CE_INVALID_FIELD);
	assert_int_equal(fake.appends + fake.finds, 0);
	assert_int_equal(create_circle(NULL, "ok", 20, NULL, &c, &replayed, &info), CE_INTERNAL);
}

static void
create_duplicate_name(void **state)
{
	struct circle c, first;
	struct cerr_info info;
	bool replayed;

	(void)state;
	first = must_create("football", 20);
	assert_int_equal(create_circle(&ctx, "FOOTBALL", 10, NULL, &c, &replayed, &info),
			 CE_DUPLICATE_NAME);
	assert_int_equal(info.code, CE_DUPLICATE_NAME);
	assert_string_equal(info.subject, "circle_name");
	assert_int_equal(fake.n_events, 1);
	/* a deleted circle's name is free again */
	assert_int_equal(delete_circle(&ctx, first.id, true, 1, NULL, &info), CE_OK);
	c = must_create("Football", 10);
	assert_int_equal(c.version, 1);
	assert_int_equal(fake.n_events, 3);
}

static void
create_idempotent_repeat(void **state)
{
	struct circle c, again;
	struct cerr_info info;
	struct circle_update u = upd(NULL, 30, true, 1);
	bool replayed = true;

	(void)state;
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("key-1"), &c, &replayed, &info),
			 CE_OK);
	assert_false(replayed);
	assert_int_equal(fake.n_keys, 1);
	assert_int_equal(
		create_circle(&ctx, "football", 20, KEY("key-1"), &again, &replayed, &info), CE_OK);
	assert_true(replayed);
	assert_memory_equal(&again, &c, sizeof c);
	assert_int_equal(fake.n_events, 1);
	assert_int_equal(fake.appends, 1);

	/* the first response, even once the circle has moved on */
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &again, &info), CE_OK);
	assert_int_equal(
		create_circle(&ctx, "football", 20, KEY("key-1"), &again, &replayed, &info), CE_OK);
	assert_true(replayed);
	assert_int_equal(again.version, 1);
	assert_int_equal(again.capacity, 20);
	assert_string_equal(again.id, c.id);
	assert_int_equal(fake.n_events, 2);

	/* another key is another create */
	assert_int_equal(
		create_circle(&ctx, "baseball", 20, KEY("key-2"), &again, &replayed, &info), CE_OK);
	assert_false(replayed);
	assert_string_not_equal(again.id, c.id);
}

static void
create_idempotency_key_reused(void **state)
{
	struct circle c;
	struct cerr_info info;
	bool replayed = true;

	(void)state;
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("k"), &c, &replayed, &info),
			 CE_OK);
	assert_int_equal(create_circle(&ctx, "football", 21, KEY("k"), &c, &replayed, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_string_equal(info.subject, "Idempotency-Key");
	assert_false(replayed);
	/* byte for byte: another case is another body */
	assert_int_equal(create_circle(&ctx, "Football", 20, KEY("k"), &c, &replayed, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(create_circle(&ctx, "football ", 20, KEY("k"), &c, &replayed, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(fake.n_events, 1);
}

static void
create_refused_is_not_remembered(void **state)
{
	struct circle c;
	struct cerr_info info;
	bool replayed;

	(void)state;
	must_create("football", 20);
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("k"), &c, &replayed, &info),
			 CE_DUPLICATE_NAME);
	assert_int_equal(fake.n_keys, 0);
	assert_int_equal(create_circle(&ctx, "tennis", 8, KEY("k"), &c, &replayed, &info), CE_OK);
	assert_false(replayed);
	assert_string_equal(c.name, "tennis");
}

static void
create_idempotency_race(void **state)
{
	struct circle c;
	struct cerr_info info;
	bool replayed = false;

	(void)state;
	/* a concurrent create with the same key and body commits first */
	fake.race_key = true;
	strcpy(fake.race_record.circle_id, OTHER_ID);
	strcpy(fake.race_record.name, "football");
	fake.race_record.capacity = 20;
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("k"), &c, &replayed, &info),
			 CE_OK);
	assert_true(replayed);
	assert_string_equal(c.id, OTHER_ID);
	assert_int_equal(c.version, 1);
	assert_int_equal(fake.finds, 2);
	assert_int_equal(fake.n_events, 0);

	/* ... or with another body */
	setup(NULL);
	fake.race_key = true;
	strcpy(fake.race_record.circle_id, OTHER_ID);
	strcpy(fake.race_record.name, "baseball");
	fake.race_record.capacity = 20;
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("k"), &c, &replayed, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);

	/* a key taken yet not found cannot be answered */
	setup(NULL);
	fake.fail_append = CE_IDEMPOTENCY_KEY_TAKEN;
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("k"), &c, &replayed, &info),
			 CE_INTERNAL);
	/* without a key, the store has no business answering so */
	assert_int_equal(create_circle(&ctx, "football", 20, NULL, &c, &replayed, &info),
			 CE_INTERNAL);
}

/* Keyed updates: a repeat answers the first answer, another request 422. */
static void
update_idempotency(void **state)
{
	struct circle c = must_create("football", 20), out, again;
	struct circle_update u = {
		.has_capacity = true, .capacity = 21, .has_version = true, .expected_version = 1};
	struct write_key k = {
		.key = "u1", .method = "PUT", .has_body_version = true, .body_version = 1};
	struct write_key other = k;
	struct cerr_info info;

	(void)state;
	assert_int_equal(update_circle(&ctx, c.id, &u, &k, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(fake.n_events, 2);
	/* the repeat, though version 1 is stale now: the first answer */
	assert_int_equal(update_circle(&ctx, c.id, &u, &k, &again, &info), CE_OK);
	assert_memory_equal(&out, &again, sizeof out);
	assert_int_equal(fake.n_events, 2);
	/* the same key with another method, body or If-Match */
	other.method = "PATCH";
	assert_int_equal(update_circle(&ctx, c.id, &u, &other, &again, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_string_equal(info.subject, "Idempotency-Key");
	other = k;
	other.has_body_version = false;
	other.has_if_match = true;
	other.if_match = 1;
	assert_int_equal(update_circle(&ctx, c.id, &u, &other, &again, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	u.capacity = 22;
	assert_int_equal(update_circle(&ctx, c.id, &u, &k, &again, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(delete_circle(&ctx, c.id, true, 2, KEY("u1"), &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(fake.n_events, 2);

	/* an update that changes nothing is remembered all the same */
	u = (struct circle_update){
		.has_capacity = true, .capacity = 21, .has_version = true, .expected_version = 2};
	k.key = "u2";
	k.body_version = 2;
	assert_int_equal(update_circle(&ctx, c.id, &u, &k, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(fake.n_keys, 2);
	assert_int_equal(fake.n_events, 2);

	/* a refused update is not: its key stays free */
	u.expected_version = 1;
	u.capacity = 30;
	k.key = "u3";
	k.body_version = 1;
	assert_int_equal(update_circle(&ctx, c.id, &u, &k, &out, &info), CE_VERSION_MISMATCH);
	assert_int_equal(fake.n_keys, 2);
}

/* A keyed update that loses the race on its key answers the winner's answer. */
static void
update_idempotency_race(void **state)
{
	struct circle c = must_create("football", 20), out;
	struct circle_update u = {
		.has_capacity = true, .capacity = 21, .has_version = true, .expected_version = 1};
	struct write_key k = {
		.key = "r", .method = "PUT", .has_body_version = true, .body_version = 1};
	struct cerr_info info;

	(void)state;
	fake.race_key = true;
	strcpy(fake.race_record.request, "PUT /circle/");
	strcat(fake.race_record.request, c.id);
	strcat(fake.race_record.request, "\ncapacity 21\nversion 1\n");
	fake.race_record.status = 200;
	strcpy(fake.race_record.circle_id, c.id);
	strcpy(fake.race_record.name, "football");
	fake.race_record.capacity = 21;
	fake.race_record.version = 2;
	assert_int_equal(update_circle(&ctx, c.id, &u, &k, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.capacity, 21);
	assert_int_equal(fake.n_events, 1);
}

/* Keyed deletes: 204 again, nothing appended; ?version is part of the request. */
static void
delete_idempotency(void **state)
{
	struct circle c = must_create("football", 20);
	struct write_key k = {.key = "d", .has_if_match = true, .if_match = 1};
	struct write_key q = {.key = "d", .has_query_version = true, .query_version = 1};
	struct cerr_info info;

	(void)state;
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, &k, &info), CE_OK);
	assert_int_equal(fake.n_events, 2);
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, &k, &info), CE_OK);
	assert_int_equal(fake.n_events, 2);
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, &q, &info), CE_IDEMPOTENCY_KEY_REUSED);
	/* without the key the repeat is refused as usual */
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, NULL, &info), CE_GONE);
}

static void
create_store_failures(void **state)
{
	struct circle c;
	struct cerr_info info;
	bool replayed;

	(void)state;
	fake.fail_append = CE_UNAVAILABLE;
	assert_int_equal(create_circle(&ctx, "football", 20, NULL, &c, &replayed, &info),
			 CE_UNAVAILABLE);
	assert_int_equal(info.code, CE_UNAVAILABLE);
	fake.fail_append = CE_VERSION_MISMATCH; /* cannot happen to a new id */
	assert_int_equal(create_circle(&ctx, "football", 20, NULL, &c, &replayed, &info),
			 CE_INTERNAL);
	fake.fail_append = CE_OK;
	fake.fail_idem = CE_UNAVAILABLE;
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("k"), &c, &replayed, &info),
			 CE_UNAVAILABLE);
	fake.fail_idem = CE_INTERNAL;
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("k"), &c, &replayed, &info),
			 CE_INTERNAL);
	assert_int_equal(fake.appends, 2);
	assert_int_equal(fake.n_events, 0);
	/* the store is back: the same request goes through */
	fake.fail_idem = CE_OK;
	assert_int_equal(create_circle(&ctx, "football", 20, KEY("k"), &c, &replayed, &info),
			 CE_OK);
}

/* --- update --- */

static void
update_ok(void **state)
{
	struct circle c, out, replayed_state;
	struct cerr_info info;
	struct circle_update u;

	(void)state;
	c = must_create("football", 20);
	u = upd(NULL, 30, true, 1);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.capacity, 30);
	assert_string_equal(out.name, "football");
	assert_int_equal(fake.events[1].type, CIRCLE_UPDATED);
	assert_false(fake.events[1].has_name);
	assert_true(fake.events[1].has_capacity);
	assert_string_equal(fake.events[1].event_id, "aaaaaaaa-0000-4000-8000-000000000003");

	/* the name given unchanged is left out of the event */
	u = upd("football", 40, true, 2);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_false(fake.events[2].has_name);
	u = upd("baseball", 40, true, 3);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_true(fake.events[3].has_name);
	assert_false(fake.events[3].has_capacity);
	assert_int_equal(out.version, 4);
	assert_string_equal(out.name, "baseball");
	assert_memory_equal(&fake.rows[0], &out, sizeof out);
	assert_int_equal(circle_replay(&replayed_state, fake.events, fake.n_events), CE_OK);
	assert_memory_equal(&replayed_state, &out, sizeof out);

	/* the id matches in any case */
	u = upd(NULL, 50, true, 4);
	assert_int_equal(
		update_circle(&ctx, "AAAAAAAA-0000-4000-8000-000000000001", &u, NULL, &out, &info),
		CE_OK);
	assert_int_equal(out.capacity, 50);
}

/* Loading from a snapshot decides exactly as replaying everything does. */
static void
update_from_snapshot(void **state)
{
	struct circle c, out, replayed_state;
	struct cerr_info info;
	struct circle_update u;
	int i;

	(void)state;
	fake.snapshot_every = 4;
	c = must_create("snap", 3);
	for (i = 1; i <= 9; i++) {
		u = upd(NULL, 3 + i, true, (uint64_t)i);
		assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_OK);
		assert_int_equal(out.version, i + 1);
	}
	/* at 10 events the load holds a snapshot at 8 and two events */
	u = upd("snapped", 0, true, 9);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 10);
	u = upd("snapped", 0, true, 10);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_int_equal(out.version, 11);
	assert_string_equal(out.name, "snapped");
	assert_int_equal(out.capacity, 12);
	assert_int_equal(circle_replay(&replayed_state, fake.events, fake.n_events), CE_OK);
	assert_memory_equal(&replayed_state, &out, sizeof out);
	assert_int_equal(delete_circle(&ctx, c.id, true, 11, NULL, &info), CE_OK);
	assert_int_equal(delete_circle(&ctx, c.id, true, 12, NULL, &info), CE_GONE);
}

static void
update_unchanged_appends_nothing(void **state)
{
	struct circle c, out;
	struct cerr_info info;
	struct circle_update u;

	(void)state;
	c = must_create("football", 20);
	u = upd("football", 20, true, 1);
	memset(&out, 0, sizeof out);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_memory_equal(&out, &c, sizeof c);
	assert_int_equal(fake.appends, 1);
	assert_int_equal(fake.n_events, 1);
}

static void
update_errors(void **state)
{
	struct circle c, out;
	struct cerr_info info;
	struct circle_update u;

	(void)state;
	c = must_create("football", 20);
	must_create("baseball", 20);
	u = upd(NULL, 30, true, 1);
	assert_int_equal(update_circle(&ctx, OTHER_ID, &u, NULL, &out, &info), CE_NOT_FOUND);
	assert_int_equal(update_circle(&ctx, "not-a-uuid", &u, NULL, &out, &info),
			 CE_INVALID_CIRCLE_ID);
	u = upd(NULL, 30, false, 0);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info),
			 CE_PRECONDITION_REQUIRED);
	u = upd(NULL, 30, true, 7);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 1);
	u = upd(NULL, 0, true, 1);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_NOTHING_TO_UPDATE);
	u = upd("BASEBALL", 0, true, 1);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_DUPLICATE_NAME);
	assert_string_equal(info.subject, "circle_name");
	/* its own name in another case is no clash */
	u = upd("FOOTBALL", 0, true, 1);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_string_equal(out.name, "FOOTBALL");

	assert_int_equal(delete_circle(&ctx, c.id, true, 2, NULL, &info), CE_OK);
	u = upd(NULL, 30, true, 3);
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_GONE);
	assert_int_equal(fake.n_events, 4);
	assert_int_equal(update_circle(&ctx, c.id, NULL, NULL, &out, &info), CE_INTERNAL);
}

static void
update_loses_race(void **state)
{
	struct circle c, out;
	struct cerr_info info;
	struct circle_update u = upd(NULL, 30, true, 1);

	(void)state;
	c = must_create("football", 20);
	/* another update wins version 2 between our load and our append */
	memset(&fake.race_event, 0, sizeof fake.race_event);
	fake.race_event.type = CIRCLE_UPDATED;
	strcpy(fake.race_event.circle_id, c.id);
	fake.race_event.version = 2;
	fake.race_event.has_capacity = true;
	fake.race_event.capacity = 50;
	fake.race_version = true;
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 2);
	assert_int_equal(fake.n_events, 2);
	assert_int_equal(fake.rows[0].capacity, 50);

	/* a delete wins */
	fake.race_event.type = CIRCLE_DELETED;
	fake.race_event.version = 3;
	fake.race_event.has_capacity = false;
	fake.race_version = true;
	u.expected_version = 2;
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_GONE);
	assert_int_equal(info.current_version, 0);

	/* the reload itself fails */
	setup(NULL);
	c = must_create("football", 20);
	fake.race_version = true;
	fake.race_event.type = CIRCLE_UPDATED;
	strcpy(fake.race_event.circle_id, c.id);
	fake.race_event.version = 2;
	fake.race_event.has_capacity = true;
	fake.race_event.capacity = 50;
	u.expected_version = 1;
	fake.fail_load_from = 2;
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_UNAVAILABLE);
	assert_int_equal(fake.loads, 2);
}

static void
update_store_failures(void **state)
{
	struct circle c, out;
	struct cerr_info info;
	struct circle_update u = upd(NULL, 30, true, 1);
	struct circle_event gap;

	(void)state;
	c = must_create("football", 20);
	fake.fail_load = CE_UNAVAILABLE;
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_UNAVAILABLE);
	fake.fail_load = CE_INTERNAL;
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_INTERNAL);
	fake.fail_load = CE_NOT_FOUND; /* not in the contract: internal */
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_INTERNAL);
	fake.fail_load = CE_OK;
	fake.fail_append = CE_UNAVAILABLE;
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_UNAVAILABLE);
	fake.fail_append = CE_IDEMPOTENCY_KEY_TAKEN;
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_INTERNAL);
	fake.fail_append = CE_OK;

	/* a history with a gap is refused, not papered over */
	gap = fake.events[0];
	gap.type = CIRCLE_UPDATED;
	gap.version = 3;
	fake.events[fake.n_events++] = gap;
	assert_int_equal(update_circle(&ctx, c.id, &u, NULL, &out, &info), CE_INTERNAL);
}

/* --- delete --- */

static void
delete_ok(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	c = must_create("football", 20);
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, NULL, &info), CE_OK);
	assert_int_equal(fake.n_events, 2);
	assert_int_equal(fake.events[1].type, CIRCLE_DELETED);
	assert_int_equal(fake.events[1].version, 2);
	assert_string_equal(fake.events[1].occurred_at, NOW);
	assert_true(fake.rows[0].deleted);
	assert_int_equal(fake.rows[0].version, 2);
	/* once gone, always gone */
	assert_int_equal(delete_circle(&ctx, c.id, true, 2, NULL, &info), CE_GONE);
	assert_int_equal(delete_circle(&ctx, c.id, false, 0, NULL, &info), CE_GONE);
	assert_int_equal(fake.n_events, 2);
}

static void
delete_errors(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	c = must_create("football", 20);
	assert_int_equal(delete_circle(&ctx, OTHER_ID, true, 1, NULL, &info), CE_NOT_FOUND);
	assert_int_equal(delete_circle(&ctx, "0000", true, 1, NULL, &info), CE_INVALID_CIRCLE_ID);
	assert_int_equal(delete_circle(&ctx, NULL, true, 1, NULL, &info), CE_INTERNAL);
	assert_int_equal(delete_circle(&ctx, c.id, false, 0, NULL, &info),
			 CE_PRECONDITION_REQUIRED);
	assert_int_equal(delete_circle(&ctx, c.id, true, 2, NULL, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 1);
	fake.fail_load = CE_UNAVAILABLE;
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, NULL, &info), CE_UNAVAILABLE);
	fake.fail_load = CE_OK;
	fake.fail_append = CE_UNAVAILABLE;
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, NULL, &info), CE_UNAVAILABLE);
	fake.fail_append = CE_DUPLICATE_NAME; /* a delete cannot clash */
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, NULL, &info), CE_INTERNAL);
	fake.fail_append = CE_OK;
	assert_int_equal(fake.n_events, 1);
}

static void
delete_loses_race(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	c = must_create("football", 20);
	memset(&fake.race_event, 0, sizeof fake.race_event);
	fake.race_event.type = CIRCLE_UPDATED;
	strcpy(fake.race_event.circle_id, c.id);
	fake.race_event.version = 2;
	fake.race_event.has_name = true;
	strcpy(fake.race_event.name, "renamed");
	fake.race_version = true;
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, NULL, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 2);

	/* two deletes at once: the loser hears 410 */
	fake.race_event.type = CIRCLE_DELETED;
	fake.race_event.version = 3;
	fake.race_event.has_name = false;
	fake.race_version = true;
	assert_int_equal(delete_circle(&ctx, c.id, true, 2, NULL, &info), CE_GONE);
	assert_int_equal(fake.n_events, 3);

	/* the reload after a lost race fails */
	setup(NULL);
	c = must_create("football", 20);
	fake.race_event.type = CIRCLE_DELETED;
	strcpy(fake.race_event.circle_id, c.id);
	fake.race_event.version = 2;
	fake.race_version = true;
	fake.fail_load_from = 2;
	assert_int_equal(delete_circle(&ctx, c.id, true, 1, NULL, &info), CE_UNAVAILABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(create_ok, setup),
		cmocka_unit_test_setup(create_invalid_never_reaches_store, setup),
		cmocka_unit_test_setup(create_duplicate_name, setup),
		cmocka_unit_test_setup(create_idempotent_repeat, setup),
		cmocka_unit_test_setup(create_idempotency_key_reused, setup),
		cmocka_unit_test_setup(create_refused_is_not_remembered, setup),
		cmocka_unit_test_setup(create_idempotency_race, setup),
		cmocka_unit_test_setup(update_idempotency, setup),
		cmocka_unit_test_setup(update_idempotency_race, setup),
		cmocka_unit_test_setup(delete_idempotency, setup),
		cmocka_unit_test_setup(create_store_failures, setup),
		cmocka_unit_test_setup(update_ok, setup),
		cmocka_unit_test_setup(update_from_snapshot, setup),
		cmocka_unit_test_setup(update_unchanged_appends_nothing, setup),
		cmocka_unit_test_setup(update_errors, setup),
		cmocka_unit_test_setup(update_loses_race, setup),
		cmocka_unit_test_setup(update_store_failures, setup),
		cmocka_unit_test_setup(delete_ok, setup),
		cmocka_unit_test_setup(delete_errors, setup),
		cmocka_unit_test_setup(delete_loses_race, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
