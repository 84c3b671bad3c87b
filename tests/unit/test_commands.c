/*
 * Unit tests of the command use cases against the in-memory event store
 * (tests/fakes/memory_ports.h): events in an array, a projection with the
 * live-name uniqueness the real store enforces, an idempotency table,
 * injected failures and races.
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
#include "../fakes/memory_ports.h"

#define NOW "2026-11-26T08:35:48.123456Z"
#define OTHER_ID "ffffffff-ffff-4fff-8fff-ffffffffffff"

static struct memory_ports mem;

/* An Idempotency-Key with nothing else to tell about the request. */
#define KEY(k) (&(struct write_key){.key = (k)})

static int
setup(void **state)
{
	(void)state;
	memory_ports_init(&mem);
	mem.id_prefix = "aaaaaaaa-0000-4000-8000-";
	return 0;
}

/* Creates a circle that must succeed; returns it. */
static struct circle
must_create(const char *name, int capacity)
{
	struct circle c;
	struct cerr_info info;
	bool replayed = true;

	assert_int_equal(create_circle(&mem.ctx, name, capacity, NULL, NULL, &c, &replayed, &info),
			 CE_OK);
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
	assert_int_equal(mem.world.nevents, 1);
	assert_int_equal(mem.world.events[0].type, CIRCLE_CREATED);
	assert_string_equal(mem.world.events[0].circle_id, c.id);
	assert_string_equal(mem.world.events[0].event_id, "aaaaaaaa-0000-4000-8000-000000000002");
	assert_string_equal(mem.world.events[0].occurred_at, NOW);
	assert_int_equal(mem.world.events[0].version, 1);
	assert_int_equal(mem.world.nrows, 1);
	assert_memory_equal(&mem.world.rows[0], &c, sizeof c);
	/* no key, no lookup */
	assert_int_equal(mem.finds, 0);
	assert_int_equal(mem.world.nkeys, 0);
}

static void
create_invalid_never_reaches_store(void **state)
{
	struct circle c;
	struct cerr_info info;
	bool replayed;

	(void)state;
	assert_int_equal(create_circle(&mem.ctx, "", 20, NULL, KEY("k"), &c, &replayed, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "circle_name");
	assert_int_equal(create_circle(&mem.ctx, "ok", 2, NULL, KEY("k"), &c, &replayed, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "capacity");
	assert_int_equal(
		create_circle(&mem.ctx, " \xe3\x80\x80", 20, NULL, NULL, &c, &replayed, &info),
		CE_INVALID_FIELD);
	assert_int_equal(mem.appends + mem.finds, 0);
	assert_int_equal(create_circle(NULL, "ok", 20, NULL, NULL, &c, &replayed, &info),
			 CE_INTERNAL);
}

static void
create_duplicate_name(void **state)
{
	struct circle c, first;
	struct cerr_info info;
	bool replayed;

	(void)state;
	first = must_create("football", 20);
	assert_int_equal(create_circle(&mem.ctx, "FOOTBALL", 10, NULL, NULL, &c, &replayed, &info),
			 CE_DUPLICATE_NAME);
	assert_int_equal(info.code, CE_DUPLICATE_NAME);
	assert_string_equal(info.subject, "circle_name");
	assert_int_equal(mem.world.nevents, 1);
	/* a deleted circle's name is free again */
	assert_int_equal(delete_circle(&mem.ctx, first.id, true, 1, NULL, &info), CE_OK);
	c = must_create("Football", 10);
	assert_int_equal(c.version, 1);
	assert_int_equal(mem.world.nevents, 3);
}

static void
create_idempotent_repeat(void **state)
{
	struct circle c, again;
	struct cerr_info info;
	struct circle_update u = upd(NULL, 30, true, 1);
	bool replayed = true;

	(void)state;
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("key-1"), &c, &replayed, &info),
		CE_OK);
	assert_false(replayed);
	assert_int_equal(mem.world.nkeys, 1);
	assert_int_equal(create_circle(&mem.ctx, "football", 20, NULL, KEY("key-1"), &again,
				       &replayed, &info),
			 CE_OK);
	assert_true(replayed);
	assert_memory_equal(&again, &c, sizeof c);
	assert_int_equal(mem.world.nevents, 1);
	assert_int_equal(mem.appends, 1);

	/* the first response, even once the circle has moved on */
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &again, &info), CE_OK);
	assert_int_equal(create_circle(&mem.ctx, "football", 20, NULL, KEY("key-1"), &again,
				       &replayed, &info),
			 CE_OK);
	assert_true(replayed);
	assert_int_equal(again.version, 1);
	assert_int_equal(again.capacity, 20);
	assert_string_equal(again.id, c.id);
	assert_int_equal(mem.world.nevents, 2);

	/* another key is another create */
	assert_int_equal(create_circle(&mem.ctx, "baseball", 20, NULL, KEY("key-2"), &again,
				       &replayed, &info),
			 CE_OK);
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
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_OK);
	assert_int_equal(
		create_circle(&mem.ctx, "football", 21, NULL, KEY("k"), &c, &replayed, &info),
		CE_IDEMPOTENCY_KEY_REUSED);
	assert_string_equal(info.subject, "Idempotency-Key");
	assert_false(replayed);
	/* byte for byte: another case is another body */
	assert_int_equal(
		create_circle(&mem.ctx, "Football", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(
		create_circle(&mem.ctx, "football ", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(mem.world.nevents, 1);
}

static void
create_refused_is_not_remembered(void **state)
{
	struct circle c;
	struct cerr_info info;
	bool replayed;

	(void)state;
	must_create("football", 20);
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_DUPLICATE_NAME);
	assert_int_equal(mem.world.nkeys, 0);
	assert_int_equal(create_circle(&mem.ctx, "tennis", 8, NULL, KEY("k"), &c, &replayed, &info),
			 CE_OK);
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
	mem.race_key = true;
	strcpy(mem.race_record.circle_id, OTHER_ID);
	strcpy(mem.race_record.name, "football");
	mem.race_record.capacity = 20;
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_OK);
	assert_true(replayed);
	assert_string_equal(c.id, OTHER_ID);
	assert_int_equal(c.version, 1);
	assert_int_equal(mem.finds, 2);
	assert_int_equal(mem.world.nevents, 0);

	/* ... or with another body */
	setup(NULL);
	mem.race_key = true;
	strcpy(mem.race_record.circle_id, OTHER_ID);
	strcpy(mem.race_record.name, "baseball");
	mem.race_record.capacity = 20;
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_IDEMPOTENCY_KEY_REUSED);

	/* a key taken yet not found cannot be answered */
	setup(NULL);
	mem.fail_append = CE_IDEMPOTENCY_KEY_TAKEN;
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_INTERNAL);
	/* without a key, the store has no business answering so */
	assert_int_equal(create_circle(&mem.ctx, "football", 20, NULL, NULL, &c, &replayed, &info),
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
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(mem.world.nevents, 2);
	/* the repeat, though version 1 is stale now: the first answer */
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &again, &info), CE_OK);
	assert_memory_equal(&out, &again, sizeof out);
	assert_int_equal(mem.world.nevents, 2);
	/* the same key with another method, body or If-Match */
	other.method = "PATCH";
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &other, &again, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_string_equal(info.subject, "Idempotency-Key");
	other = k;
	other.has_body_version = false;
	other.has_if_match = true;
	other.if_match = 1;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &other, &again, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	u.capacity = 22;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &again, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 2, KEY("u1"), &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(mem.world.nevents, 2);

	/* an update that changes nothing is remembered all the same */
	u = (struct circle_update){
		.has_capacity = true, .capacity = 21, .has_version = true, .expected_version = 2};
	k.key = "u2";
	k.body_version = 2;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(mem.world.nkeys, 2);
	assert_int_equal(mem.world.nevents, 2);

	/* a refused update is not: its key stays free */
	u.expected_version = 1;
	u.capacity = 30;
	k.key = "u3";
	k.body_version = 1;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &out, &info), CE_VERSION_MISMATCH);
	assert_int_equal(mem.world.nkeys, 2);
}

/* Descriptions under an Idempotency-Key: part of the request the key
 * remembers, and of the answer it repeats. */
static void
description_idempotency(void **state)
{
	struct circle c, again, out;
	struct circle_update u = {.has_description = true,
				  .description = "Fridays",
				  .has_version = true,
				  .expected_version = 1};
	struct write_key k = {
		.key = "d2", .method = "PATCH", .has_body_version = true, .body_version = 1};
	struct cerr_info info;
	bool replayed = true;

	(void)state;
	assert_int_equal(
		create_circle(&mem.ctx, "chess", 12, "Tuesdays", KEY("d1"), &c, &replayed, &info),
		CE_OK);
	assert_false(replayed);
	assert_string_equal(c.description, "Tuesdays");
	assert_int_equal(create_circle(&mem.ctx, "chess", 12, "Tuesdays", KEY("d1"), &again,
				       &replayed, &info),
			 CE_OK);
	assert_true(replayed);
	assert_memory_equal(&again, &c, sizeof c);
	/* another description, none, or "" is another request */
	assert_int_equal(
		create_circle(&mem.ctx, "chess", 12, "Monday", KEY("d1"), &again, &replayed, &info),
		CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(
		create_circle(&mem.ctx, "chess", 12, NULL, KEY("d1"), &again, &replayed, &info),
		CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(
		create_circle(&mem.ctx, "chess", 12, "", KEY("d1"), &again, &replayed, &info),
		CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(mem.world.nevents, 1);

	/* an update of the description alone, repeated */
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_string_equal(out.description, "Fridays");
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &again, &info), CE_OK);
	assert_memory_equal(&again, &out, sizeof out);
	u.description = "";
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &again, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	assert_int_equal(mem.world.nevents, 2);
	/* removing it */
	k.key = "d3";
	k.body_version = 2;
	u.expected_version = 2;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &out, &info), CE_OK);
	assert_int_equal(out.version, 3);
	assert_string_equal(out.description, "");
	assert_int_equal(mem.world.nevents, 3);
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
	mem.race_key = true;
	strcpy(mem.race_record.request, "PUT /circle/");
	strcat(mem.race_record.request, c.id);
	strcat(mem.race_record.request, "\ncapacity 21\nversion 1\n");
	mem.race_record.status = 200;
	strcpy(mem.race_record.circle_id, c.id);
	strcpy(mem.race_record.name, "football");
	mem.race_record.capacity = 21;
	mem.race_record.version = 2;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, &k, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.capacity, 21);
	assert_int_equal(mem.world.nevents, 1);
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
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, &k, &info), CE_OK);
	assert_int_equal(mem.world.nevents, 2);
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, &k, &info), CE_OK);
	assert_int_equal(mem.world.nevents, 2);
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, &q, &info),
			 CE_IDEMPOTENCY_KEY_REUSED);
	/* without the key the repeat is refused as usual */
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, NULL, &info), CE_GONE);
}

static void
create_store_failures(void **state)
{
	struct circle c;
	struct cerr_info info;
	bool replayed;

	(void)state;
	mem.fail_append = CE_UNAVAILABLE;
	assert_int_equal(create_circle(&mem.ctx, "football", 20, NULL, NULL, &c, &replayed, &info),
			 CE_UNAVAILABLE);
	assert_int_equal(info.code, CE_UNAVAILABLE);
	mem.fail_append = CE_VERSION_MISMATCH; /* cannot happen to a new id */
	assert_int_equal(create_circle(&mem.ctx, "football", 20, NULL, NULL, &c, &replayed, &info),
			 CE_INTERNAL);
	mem.fail_append = CE_OK;
	mem.fail_idem = CE_UNAVAILABLE;
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_UNAVAILABLE);
	mem.fail_idem = CE_INTERNAL;
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("k"), &c, &replayed, &info),
		CE_INTERNAL);
	assert_int_equal(mem.appends, 2);
	assert_int_equal(mem.world.nevents, 0);
	/* the store is back: the same request goes through */
	mem.fail_idem = CE_OK;
	assert_int_equal(
		create_circle(&mem.ctx, "football", 20, NULL, KEY("k"), &c, &replayed, &info),
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
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.capacity, 30);
	assert_string_equal(out.name, "football");
	assert_int_equal(mem.world.events[1].type, CIRCLE_UPDATED);
	assert_false(mem.world.events[1].has_name);
	assert_true(mem.world.events[1].has_capacity);
	assert_string_equal(mem.world.events[1].event_id, "aaaaaaaa-0000-4000-8000-000000000003");

	/* the name given unchanged is left out of the event */
	u = upd("football", 40, true, 2);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_false(mem.world.events[2].has_name);
	u = upd("baseball", 40, true, 3);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_true(mem.world.events[3].has_name);
	assert_false(mem.world.events[3].has_capacity);
	assert_int_equal(out.version, 4);
	assert_string_equal(out.name, "baseball");
	assert_memory_equal(&mem.world.rows[0], &out, sizeof out);
	assert_int_equal(circle_replay(&replayed_state, mem.world.events, mem.world.nevents),
			 CE_OK);
	assert_memory_equal(&replayed_state, &out, sizeof out);

	/* the id matches in any case */
	u = upd(NULL, 50, true, 4);
	assert_int_equal(update_circle(&mem.ctx, "AAAAAAAA-0000-4000-8000-000000000001", &u, NULL,
				       &out, &info),
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
	mem.snapshot_every = 4;
	c = must_create("snap", 3);
	for (i = 1; i <= 9; i++) {
		u = upd(NULL, 3 + i, true, (uint64_t)i);
		assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
		assert_int_equal(out.version, i + 1);
	}
	/* at 10 events the load holds a snapshot at 8 and two events */
	u = upd("snapped", 0, true, 9);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 10);
	u = upd("snapped", 0, true, 10);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_int_equal(out.version, 11);
	assert_string_equal(out.name, "snapped");
	assert_int_equal(out.capacity, 12);
	assert_int_equal(circle_replay(&replayed_state, mem.world.events, mem.world.nevents),
			 CE_OK);
	assert_memory_equal(&replayed_state, &out, sizeof out);
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 11, NULL, &info), CE_OK);
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 12, NULL, &info), CE_GONE);
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
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_memory_equal(&out, &c, sizeof c);
	assert_int_equal(mem.appends, 1);
	assert_int_equal(mem.world.nevents, 1);
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
	assert_int_equal(update_circle(&mem.ctx, OTHER_ID, &u, NULL, &out, &info), CE_NOT_FOUND);
	assert_int_equal(update_circle(&mem.ctx, "not-a-uuid", &u, NULL, &out, &info),
			 CE_INVALID_CIRCLE_ID);
	u = upd(NULL, 30, false, 0);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info),
			 CE_PRECONDITION_REQUIRED);
	u = upd(NULL, 30, true, 7);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 1);
	u = upd(NULL, 0, true, 1);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info),
			 CE_NOTHING_TO_UPDATE);
	u = upd("BASEBALL", 0, true, 1);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_DUPLICATE_NAME);
	assert_string_equal(info.subject, "circle_name");
	/* its own name in another case is no clash */
	u = upd("FOOTBALL", 0, true, 1);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_string_equal(out.name, "FOOTBALL");

	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 2, NULL, &info), CE_OK);
	u = upd(NULL, 30, true, 3);
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_GONE);
	assert_int_equal(mem.world.nevents, 4);
	assert_int_equal(update_circle(&mem.ctx, c.id, NULL, NULL, &out, &info), CE_INTERNAL);
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
	memset(&mem.race_event, 0, sizeof mem.race_event);
	mem.race_event.type = CIRCLE_UPDATED;
	strcpy(mem.race_event.circle_id, c.id);
	mem.race_event.version = 2;
	mem.race_event.has_capacity = true;
	mem.race_event.capacity = 50;
	mem.race_version = true;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 2);
	assert_int_equal(mem.world.nevents, 2);
	assert_int_equal(mem.world.rows[0].capacity, 50);

	/* a delete wins */
	mem.race_event.type = CIRCLE_DELETED;
	mem.race_event.version = 3;
	mem.race_event.has_capacity = false;
	mem.race_version = true;
	u.expected_version = 2;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_GONE);
	assert_int_equal(info.current_version, 0);

	/* the reload itself fails */
	setup(NULL);
	c = must_create("football", 20);
	mem.race_version = true;
	mem.race_event.type = CIRCLE_UPDATED;
	strcpy(mem.race_event.circle_id, c.id);
	mem.race_event.version = 2;
	mem.race_event.has_capacity = true;
	mem.race_event.capacity = 50;
	u.expected_version = 1;
	mem.fail_load_from = 2;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_UNAVAILABLE);
	assert_int_equal(mem.loads, 2);
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
	mem.fail_load = CE_UNAVAILABLE;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_UNAVAILABLE);
	mem.fail_load = CE_INTERNAL;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_INTERNAL);
	mem.fail_load = CE_NOT_FOUND; /* not in the contract: internal */
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_INTERNAL);
	mem.fail_load = CE_OK;
	mem.fail_append = CE_UNAVAILABLE;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_UNAVAILABLE);
	mem.fail_append = CE_IDEMPOTENCY_KEY_TAKEN;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_INTERNAL);
	mem.fail_append = CE_OK;

	/* a history with a gap is refused, not papered over */
	gap = mem.world.events[0];
	gap.type = CIRCLE_UPDATED;
	gap.version = 3;
	mem.world.events[mem.world.nevents++] = gap;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_INTERNAL);
}

/* --- delete --- */

static void
delete_ok(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	c = must_create("football", 20);
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, NULL, &info), CE_OK);
	assert_int_equal(mem.world.nevents, 2);
	assert_int_equal(mem.world.events[1].type, CIRCLE_DELETED);
	assert_int_equal(mem.world.events[1].version, 2);
	assert_string_equal(mem.world.events[1].occurred_at, NOW);
	assert_true(mem.world.rows[0].deleted);
	assert_int_equal(mem.world.rows[0].version, 2);
	/* once gone, always gone */
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 2, NULL, &info), CE_GONE);
	assert_int_equal(delete_circle(&mem.ctx, c.id, false, 0, NULL, &info), CE_GONE);
	assert_int_equal(mem.world.nevents, 2);
}

static void
delete_errors(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	c = must_create("football", 20);
	assert_int_equal(delete_circle(&mem.ctx, OTHER_ID, true, 1, NULL, &info), CE_NOT_FOUND);
	assert_int_equal(delete_circle(&mem.ctx, "0000", true, 1, NULL, &info),
			 CE_INVALID_CIRCLE_ID);
	assert_int_equal(delete_circle(&mem.ctx, NULL, true, 1, NULL, &info), CE_INTERNAL);
	assert_int_equal(delete_circle(&mem.ctx, c.id, false, 0, NULL, &info),
			 CE_PRECONDITION_REQUIRED);
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 2, NULL, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 1);
	mem.fail_load = CE_UNAVAILABLE;
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, NULL, &info), CE_UNAVAILABLE);
	mem.fail_load = CE_OK;
	mem.fail_append = CE_UNAVAILABLE;
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, NULL, &info), CE_UNAVAILABLE);
	mem.fail_append = CE_DUPLICATE_NAME; /* a delete cannot clash */
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, NULL, &info), CE_INTERNAL);
	mem.fail_append = CE_OK;
	assert_int_equal(mem.world.nevents, 1);
}

static void
delete_loses_race(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	c = must_create("football", 20);
	memset(&mem.race_event, 0, sizeof mem.race_event);
	mem.race_event.type = CIRCLE_UPDATED;
	strcpy(mem.race_event.circle_id, c.id);
	mem.race_event.version = 2;
	mem.race_event.has_name = true;
	strcpy(mem.race_event.name, "renamed");
	mem.race_version = true;
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, NULL, &info), CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 2);

	/* two deletes at once: the loser hears 410 */
	mem.race_event.type = CIRCLE_DELETED;
	mem.race_event.version = 3;
	mem.race_event.has_name = false;
	mem.race_version = true;
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 2, NULL, &info), CE_GONE);
	assert_int_equal(mem.world.nevents, 3);

	/* the reload after a lost race fails */
	setup(NULL);
	c = must_create("football", 20);
	mem.race_event.type = CIRCLE_DELETED;
	strcpy(mem.race_event.circle_id, c.id);
	mem.race_event.version = 2;
	mem.race_version = true;
	mem.fail_load_from = 2;
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 1, NULL, &info), CE_UNAVAILABLE);
}

/* --- every command ends what it opened --- */

/* The command just run called end once and left nothing open. */
#define ENDED(before) \
	do { \
		assert_false(mem.open); \
		assert_int_equal(mem.ends, (before) + 1); \
	} while (0)

/*
 * A command's reads (its load, its key's lookup) leave the store's
 * transaction open for the append to continue; whatever way the command
 * ends, success, refusal, replay or failure, it ends that transaction.
 */
static void
commands_end_what_they_open(void **state)
{
	struct circle c, d, out;
	struct circle_update u;
	struct cerr_info info;
	bool replayed;
	unsigned n;

	(void)state;
	n = mem.ends;
	c = must_create("football", 20);
	ENDED(n);
	n = mem.ends;
	assert_int_equal(
		create_circle(&mem.ctx, "tennis", 4, NULL, KEY("k1"), &d, &replayed, &info), CE_OK);
	ENDED(n);
	n = mem.ends;
	assert_int_equal(
		create_circle(&mem.ctx, "tennis", 4, NULL, KEY("k1"), &d, &replayed, &info), CE_OK);
	assert_true(replayed);
	ENDED(n);
	n = mem.ends;
	assert_int_equal(
		create_circle(&mem.ctx, "golf", 4, NULL, KEY("k1"), &out, &replayed, &info),
		CE_IDEMPOTENCY_KEY_REUSED);
	ENDED(n);

	/* updates: unknown, wrong version, unchanged (with and without key), done */
	u = upd(NULL, 30, true, 1);
	n = mem.ends;
	assert_int_equal(update_circle(&mem.ctx, OTHER_ID, &u, NULL, &out, &info), CE_NOT_FOUND);
	ENDED(n);
	u = upd(NULL, 30, true, 7);
	n = mem.ends;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_VERSION_MISMATCH);
	ENDED(n);
	u = upd(NULL, 20, true, 1);
	n = mem.ends;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
	ENDED(n);
	n = mem.ends;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, KEY("k2"), &out, &info), CE_OK);
	ENDED(n);
	u = upd(NULL, 30, true, 1);
	n = mem.ends;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_OK);
	assert_int_equal(out.version, 2);
	ENDED(n);

	/* a store that fails on the load, on the append */
	mem.fail_load = CE_UNAVAILABLE;
	u = upd(NULL, 31, true, 2);
	n = mem.ends;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_UNAVAILABLE);
	ENDED(n);
	mem.fail_load = CE_OK;
	mem.fail_append = CE_UNAVAILABLE;
	n = mem.ends;
	assert_int_equal(update_circle(&mem.ctx, c.id, &u, NULL, &out, &info), CE_UNAVAILABLE);
	ENDED(n);
	mem.fail_append = CE_OK;

	/* deletes: done, then again (gone) */
	n = mem.ends;
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 2, NULL, &info), CE_OK);
	ENDED(n);
	n = mem.ends;
	assert_int_equal(delete_circle(&mem.ctx, c.id, true, 3, NULL, &info), CE_GONE);
	ENDED(n);
	/* an id that is none */
	n = mem.ends;
	assert_int_equal(delete_circle(&mem.ctx, "nope", false, 0, NULL, &info),
			 CE_INVALID_CIRCLE_ID);
	ENDED(n);
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
		cmocka_unit_test_setup(description_idempotency, setup),
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
		cmocka_unit_test_setup(commands_end_what_they_open, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
