/*
 * Unit tests of the query use cases against the in-memory circle_reader
 * (tests/fakes/memory_ports.h): a projection table and an event log, with
 * injected failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query/queries.h"
#include "../fakes/memory_ports.h"

#define ID_SEED "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10"
#define ID_NONE "ffffffff-ffff-4fff-8fff-ffffffffffff"

static struct memory_ports mem;

static void
add_row(const char *id, const char *name, int capacity, uint32_t version, bool deleted)
{
	struct circle *c = &mem.world.rows[mem.world.nrows++];

	memset(c, 0, sizeof *c);
	strcpy(c->id, id);
	strcpy(c->name, name);
	c->capacity = capacity;
	c->version = version;
	c->deleted = deleted;
}

static void
add_event(enum circle_event_type t, uint32_t version, const char *name, int capacity)
{
	struct circle_event *ev = &mem.world.events[mem.world.nevents++];

	memset(ev, 0, sizeof *ev);
	ev->type = t;
	strcpy(ev->circle_id, ID_SEED);
	snprintf(ev->event_id, sizeof ev->event_id, "00000000-0000-4000-8000-%012u",
		 (unsigned)version);
	strcpy(ev->occurred_at, "2026-11-26T08:35:48.123456Z");
	ev->version = version;
	if (name != NULL) {
		ev->has_name = true;
		strcpy(ev->name, name);
	}
	if (capacity != 0) {
		ev->has_capacity = true;
		ev->capacity = capacity;
	}
}

static void
add_snapshot(uint32_t version, const char *name, int capacity, bool deleted)
{
	struct circle *c = &mem.world.snaps[mem.world.nsnaps++];

	memset(c, 0, sizeof *c);
	strcpy(c->id, ID_SEED);
	strcpy(c->name, name);
	c->capacity = capacity;
	c->version = version;
	c->deleted = deleted;
}

static int
setup(void **state)
{
	(void)state;
	memory_ports_init(&mem);
	mem.feed_step = 10;
	add_row("10000000-0000-4000-8000-000000000000", "a", 3, 1, false);
	add_row("20000000-0000-4000-8000-000000000000", "b", 4, 2, true);
	add_row("30000000-0000-4000-8000-000000000000", "c", 5, 1, false);
	add_row("4000000a-0000-4000-8000-000000000000", "d", 6, 3, false);
	add_row("5000000b-0000-4000-8000-000000000000", "e", 7, 1, false);
	/* the seed's example, then a delete */
	add_event(CIRCLE_CREATED, 1, "football", 20);
	add_event(CIRCLE_UPDATED, 2, NULL, 30);
	add_event(CIRCLE_UPDATED, 3, "baseball", 40);
	add_event(CIRCLE_DELETED, 4, NULL, 0);
	return 0;
}

static void
health(void **state)
{
	struct cerr_info info;

	(void)state;
	assert_int_equal(check_health(&mem.reader, &info), CE_OK);
	mem.fail_read = CE_UNAVAILABLE;
	assert_int_equal(check_health(&mem.reader, &info), CE_UNAVAILABLE);
	assert_int_equal(info.code, CE_UNAVAILABLE);
	assert_non_null(info.detail);
	mem.fail_read = CE_INTERNAL;
	assert_int_equal(check_health(&mem.reader, &info), CE_UNAVAILABLE);
	assert_int_equal(check_health(NULL, &info), CE_UNAVAILABLE);
}

static void
get_one(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	assert_int_equal(get_circle(&mem.reader, "10000000-0000-4000-8000-000000000000", &c, &info),
			 CE_OK);
	assert_string_equal(c.name, "a");
	assert_int_equal(c.capacity, 3);
	assert_int_equal(c.version, 1);
	/* looked up in lower case whatever the case asked */
	assert_int_equal(get_circle(&mem.reader, "4000000A-0000-4000-8000-000000000000", &c, &info),
			 CE_OK);
	assert_string_equal(mem.last_id, "4000000a-0000-4000-8000-000000000000");
	assert_string_equal(c.name, "d");
	assert_int_equal(get_circle(&mem.reader, "20000000-0000-4000-8000-000000000000", &c, &info),
			 CE_GONE);
	assert_int_equal(info.code, CE_GONE);
	assert_int_equal(get_circle(&mem.reader, ID_NONE, &c, &info), CE_NOT_FOUND);
	assert_int_equal(get_circle(&mem.reader, "10000000-0000-4000-8000-00000000000", &c, &info),
			 CE_INVALID_CIRCLE_ID);
	assert_int_equal(get_circle(&mem.reader, "", &c, &info), CE_INVALID_CIRCLE_ID);
	mem.fail_read = CE_UNAVAILABLE;
	assert_int_equal(get_circle(&mem.reader, ID_NONE, &c, &info), CE_UNAVAILABLE);
	mem.fail_read = CE_INTERNAL;
	assert_int_equal(get_circle(&mem.reader, ID_NONE, &c, &info), CE_INTERNAL);
}

static void
list_pages(void **state)
{
	/* a page of the most circles is megabytes: on the heap, not the stack */
	struct circle *out = calloc(LIST_LIMIT_MAX + 1, sizeof(*out));
	struct cerr_info info;
	size_t n = 99;
	bool more = false;

	(void)state;
	assert_non_null(out);
	/* four live circles, pages of two */
	assert_int_equal(list_circles(&mem.reader, NULL, 2, out, &n, &more, &info), CE_OK);
	assert_int_equal(mem.last_limit, 3);
	assert_true(mem.last_after_null);
	assert_int_equal(n, 2);
	assert_true(more);
	assert_string_equal(out[0].name, "a");
	assert_string_equal(out[1].name, "c"); /* b is deleted */
	assert_int_equal(list_circles(&mem.reader, out[1].id, 2, out, &n, &more, &info), CE_OK);
	assert_int_equal(n, 2);
	assert_false(more); /* exactly a full last page */
	assert_string_equal(out[0].name, "d");
	assert_string_equal(out[1].name, "e");
	assert_int_equal(list_circles(&mem.reader, out[1].id, 2, out, &n, &more, &info), CE_OK);
	assert_int_equal(n, 0);
	assert_false(more);
	/* one page holds all */
	assert_int_equal(list_circles(&mem.reader, NULL, LIST_LIMIT_MAX, out, &n, &more, &info),
			 CE_OK);
	assert_int_equal(mem.last_limit, LIST_LIMIT_MAX + 1);
	assert_int_equal(n, 4);
	assert_false(more);
	assert_int_equal(list_circles(&mem.reader, NULL, 1, out, &n, &more, &info), CE_OK);
	assert_int_equal(n, 1);
	assert_true(more);
	/* after is compared in lower case */
	assert_int_equal(list_circles(&mem.reader, "4000000A-0000-4000-8000-000000000000", 5, out,
				      &n, &more, &info),
			 CE_OK);
	assert_string_equal(mem.last_id, "4000000a-0000-4000-8000-000000000000");
	assert_int_equal(n, 1);
	assert_string_equal(out[0].name, "e");
	free(out);
}

static void
list_errors(void **state)
{
	struct circle out[8];
	struct cerr_info info;
	size_t n;
	bool more;

	(void)state;
	assert_int_equal(list_circles(&mem.reader, NULL, 0, out, &n, &more, &info),
			 CE_INVALID_PARAMETER);
	assert_string_equal(info.subject, "limit");
	assert_int_equal(list_circles(&mem.reader, NULL, LIST_LIMIT_MAX + 1, out, &n, &more, &info),
			 CE_INVALID_PARAMETER);
	assert_int_equal(list_circles(&mem.reader, "zz", 2, out, &n, &more, &info),
			 CE_INVALID_PARAMETER);
	assert_string_equal(info.subject, "after");
	mem.list_extra = 1; /* 2 asked + 1 spare + 1 too many */
	assert_int_equal(list_circles(&mem.reader, NULL, 2, out, &n, &more, &info), CE_INTERNAL);
	assert_int_equal(n, 0);
	mem.list_extra = 0;
	mem.fail_read = CE_UNAVAILABLE;
	assert_int_equal(list_circles(&mem.reader, NULL, 2, out, &n, &more, &info), CE_UNAVAILABLE);
	mem.fail_read = CE_NOT_FOUND;
	assert_int_equal(list_circles(&mem.reader, NULL, 2, out, &n, &more, &info), CE_INTERNAL);
}

static void
history_all(void **state)
{
	struct circle_event *evs = NULL;
	struct cerr_info info;
	size_t n = 0, i;
	bool more = true;

	(void)state;
	assert_int_equal(circle_history(&mem.reader, "0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10", 0,
					HISTORY_LIMIT_DEFAULT, &evs, &n, &more, &info),
			 CE_OK);
	assert_int_equal(mem.last_upto, 0);
	assert_string_equal(mem.last_id, ID_SEED);
	/* a deleted circle's history is whole, delete included */
	assert_int_equal(n, 4);
	assert_false(more);
	for (i = 0; i < n; i++)
		assert_int_equal(evs[i].version, i + 1);
	assert_int_equal(evs[3].type, CIRCLE_DELETED);
	free(evs);

	evs = (struct circle_event *)&info; /* must be reset */
	assert_int_equal(circle_history(&mem.reader, ID_NONE, 0, 10, &evs, &n, &more, &info),
			 CE_NOT_FOUND);
	assert_null(evs);
	assert_int_equal(n, 0);
	assert_int_equal(circle_history(&mem.reader, "x", 0, 10, &evs, &n, &more, &info),
			 CE_INVALID_CIRCLE_ID);
	mem.fail_read = CE_UNAVAILABLE;
	assert_int_equal(circle_history(&mem.reader, ID_SEED, 0, 10, &evs, &n, &more, &info),
			 CE_UNAVAILABLE);
	assert_null(evs);
	mem.fail_read = CE_INTERNAL;
	assert_int_equal(circle_history(&mem.reader, ID_SEED, 0, 10, &evs, &n, &more, &info),
			 CE_INTERNAL);
}

static void
history_pages(void **state)
{
	struct circle_event *evs = NULL;
	struct cerr_info info;
	size_t n = 0;
	bool more = false;

	(void)state;
	/* one more than the page is asked for, to tell whether more follow */
	assert_int_equal(circle_history(&mem.reader, ID_SEED, 0, 2, &evs, &n, &more, &info), CE_OK);
	assert_int_equal(mem.last_history_limit, 3);
	assert_int_equal(n, 2);
	assert_true(more);
	assert_int_equal(evs[0].version, 1);
	assert_int_equal(evs[1].version, 2);
	free(evs);
	assert_int_equal(circle_history(&mem.reader, ID_SEED, 2, 2, &evs, &n, &more, &info), CE_OK);
	assert_int_equal(mem.last_history_after, 2);
	assert_int_equal(n, 2);
	assert_false(more);
	assert_int_equal(evs[0].version, 3);
	free(evs);
	/* exactly one page: nothing follows */
	assert_int_equal(circle_history(&mem.reader, ID_SEED, 0, 4, &evs, &n, &more, &info), CE_OK);
	assert_int_equal(n, 4);
	assert_false(more);
	free(evs);
	/* past the end of a history that exists: an empty last page, not 404 */
	assert_int_equal(circle_history(&mem.reader, ID_SEED, 4, 2, &evs, &n, &more, &info), CE_OK);
	assert_int_equal(n, 0);
	assert_false(more);
	free(evs);
	assert_int_equal(
		circle_history(&mem.reader, ID_SEED, UINT32_MAX, 1000, &evs, &n, &more, &info),
		CE_OK);
	assert_int_equal(n, 0);
	free(evs);
	assert_int_equal(circle_history(&mem.reader, ID_NONE, 4, 2, &evs, &n, &more, &info),
			 CE_NOT_FOUND);
	free(evs);
	/* the limit's range */
	assert_int_equal(circle_history(&mem.reader, ID_SEED, 0, 0, &evs, &n, &more, &info),
			 CE_INVALID_PARAMETER);
	assert_string_equal(info.subject, "limit");
	assert_int_equal(circle_history(&mem.reader, ID_SEED, 0, HISTORY_LIMIT_MAX + 1, &evs, &n,
					&more, &info),
			 CE_INVALID_PARAMETER);
	free(evs);
}

static void
at_version(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 1, &c, &info), CE_OK);
	assert_int_equal(mem.last_upto, 1);
	assert_string_equal(c.id, ID_SEED);
	assert_string_equal(c.name, "football");
	assert_int_equal(c.capacity, 20);
	assert_int_equal(c.version, 1);
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 2, &c, &info), CE_OK);
	assert_string_equal(c.name, "football");
	assert_int_equal(c.capacity, 30);
	assert_int_equal(circle_at_version(&mem.reader, "0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10", 3,
					   &c, &info),
			 CE_OK);
	assert_string_equal(c.name, "baseball");
	assert_int_equal(c.capacity, 40);
	assert_int_equal(c.version, 3);
	/* the version of the delete, and beyond */
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 4, &c, &info), CE_GONE);
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 5, &c, &info), CE_NOT_FOUND);
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, UINT32_MAX, &c, &info),
			 CE_NOT_FOUND);
	assert_int_equal(circle_at_version(&mem.reader, ID_NONE, 1, &c, &info), CE_NOT_FOUND);
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 0, &c, &info),
			 CE_INVALID_PARAMETER);
	assert_int_equal(circle_at_version(&mem.reader, "nope", 1, &c, &info),
			 CE_INVALID_CIRCLE_ID);
}

static void
at_version_from_snapshot(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	add_snapshot(2, "football", 30, false);
	/* only the events after the nearest snapshot at or below n are read */
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 3, &c, &info), CE_OK);
	assert_int_equal(mem.last_history_after, 2);
	assert_string_equal(c.name, "baseball");
	assert_int_equal(c.version, 3);
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 2, &c, &info), CE_OK);
	assert_int_equal(c.capacity, 30);
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 1, &c, &info), CE_OK);
	assert_int_equal(mem.last_history_after, 0);
	assert_int_equal(c.capacity, 20);
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 5, &c, &info), CE_NOT_FOUND);
	/* a snapshot no event could have produced is not trusted */
	mem.world.snaps[0].capacity = 1;
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 3, &c, &info), CE_INTERNAL);
}

static void
at_version_bad_history(void **state)
{
	struct circle c;
	struct cerr_info info;

	(void)state;
	/* a reader that returns more than asked for */
	mem.history_ignores_upto = true;
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 2, &c, &info), CE_INTERNAL);
	mem.history_ignores_upto = false;
	/* a gap in the log */
	mem.world.events[2].version = 4;
	mem.world.events[3].version = 5;
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 5, &c, &info), CE_INTERNAL);
	mem.fail_read = CE_UNAVAILABLE;
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 1, &c, &info), CE_UNAVAILABLE);
	mem.fail_read = CE_INTERNAL;
	assert_int_equal(circle_at_version(&mem.reader, ID_SEED, 1, &c, &info), CE_INTERNAL);
}

static void
verify_expect(const char *why_part, bool want_agree)
{
	char why[128];
	size_t events;
	bool agree;

	assert_int_equal(verify_circle(&mem.reader, ID_SEED, &agree, &events, why, sizeof why),
			 CE_OK);
	assert_int_equal(agree, want_agree);
	assert_int_equal(events, mem.world.nevents);
	if (why_part != NULL)
		assert_non_null(strstr(why, why_part));
}

static void
verify(void **state)
{
	char why[128];
	size_t events;
	bool agree;

	(void)state;
	/* the seed's circle, deleted at version 4, with a projection that agrees */
	add_row(ID_SEED, "baseball", 40, 4, true);
	verify_expect(NULL, true);
	/* each way the projection can drift from the events */
	mem.world.rows[mem.world.nrows - 1].version = 3;
	verify_expect("version", false);
	mem.world.rows[mem.world.nrows - 1].version = 4;
	mem.world.rows[mem.world.nrows - 1].deleted = false;
	verify_expect("deletion", false);
	mem.world.rows[mem.world.nrows - 1].deleted = true;
	strcpy(mem.world.rows[mem.world.nrows - 1].name, "football");
	verify_expect("name", false);
	strcpy(mem.world.rows[mem.world.nrows - 1].name, "baseball");
	mem.world.rows[mem.world.nrows - 1].capacity = 30;
	verify_expect("capacity", false);
	mem.world.rows[mem.world.nrows - 1].capacity = 40;
	mem.world.events[2].version = 7;
	verify_expect("replay", false);
	mem.world.events[2].version = 3;
	/* every snapshot is checked against the events */
	add_snapshot(2, "football", 30, false);
	verify_expect(NULL, true);
	mem.world.snaps[0].capacity = 31;
	verify_expect("snapshot disagrees", false);
	mem.world.snaps[0].capacity = 30;
	add_snapshot(9, "baseball", 40, true);
	verify_expect("beyond", false);
	mem.world.nsnaps = 0;
	assert_true(mem.consistent_calls > 0);
	/* events without a row, a row without events, neither */
	mem.world.nrows--;
	verify_expect("without a projection", false);
	assert_int_equal(verify_circle(&mem.reader, "10000000-0000-4000-8000-000000000000", &agree,
				       &events, why, sizeof why),
			 CE_OK);
	assert_false(agree);
	assert_int_equal(events, 0);
	assert_non_null(strstr(why, "without events"));
	assert_int_equal(verify_circle(&mem.reader, ID_NONE, &agree, &events, why, sizeof why),
			 CE_NOT_FOUND);
	mem.fail_read = CE_UNAVAILABLE;
	assert_int_equal(verify_circle(&mem.reader, ID_SEED, &agree, &events, why, sizeof why),
			 CE_UNAVAILABLE);
	assert_false(agree);
}

static void
feed_pages(void **state)
{
	struct cerr_info info = {0};
	struct feed_event *evs = NULL;
	uint64_t next = 0;
	size_t n = 0;

	(void)state;
	assert_int_equal(read_feed(&mem.reader, 0, 3, &evs, &n, &next, &info), CE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(mem.last_limit, 3);
	assert_int_equal(evs[0].position, 10);
	assert_string_equal(evs[0].event.name, "football");
	assert_int_equal(evs[2].position, 30);
	assert_int_equal(next, 30);
	free(evs);
	/* the next page starts after it */
	assert_int_equal(read_feed(&mem.reader, next, 3, &evs, &n, &next, &info), CE_OK);
	assert_int_equal(mem.last_after, 30);
	assert_int_equal(n, 1);
	assert_int_equal(evs[0].event.type, CIRCLE_DELETED);
	assert_int_equal(next, 40);
	free(evs);
	/* nothing new: no events, next_after stays where it was */
	assert_int_equal(read_feed(&mem.reader, 40, 1000, &evs, &n, &next, &info), CE_OK);
	assert_int_equal(n, 0);
	assert_null(evs);
	assert_int_equal(next, 40);
	assert_int_equal(read_feed(&mem.reader, FEED_AFTER_MAX, 1, &evs, &n, &next, &info), CE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(next, FEED_AFTER_MAX);
	/* between positions */
	assert_int_equal(read_feed(&mem.reader, 15, 1, &evs, &n, &next, &info), CE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(evs[0].position, 20);
	assert_int_equal(next, 20);
	free(evs);
}

static void
feed_errors(void **state)
{
	struct cerr_info info = {0};
	struct feed_event *evs = NULL;
	uint64_t next = 7;
	size_t n = 9;

	(void)state;
	mem.fail_read = CE_UNAVAILABLE;
	assert_int_equal(read_feed(&mem.reader, 5, 10, &evs, &n, &next, &info), CE_UNAVAILABLE);
	assert_int_equal(info.code, CE_UNAVAILABLE);
	assert_null(evs);
	assert_int_equal(n, 0);
	mem.fail_read = CE_INTERNAL;
	assert_int_equal(read_feed(&mem.reader, 5, 10, &evs, &n, &next, &info), CE_INTERNAL);
	mem.fail_read = CE_OK;
	/* a reader that answers out of order would make consumers skip */
	mem.feed_disorder = true;
	assert_int_equal(read_feed(&mem.reader, 0, 10, &evs, &n, &next, &info), CE_INTERNAL);
	assert_null(evs);
	assert_int_equal(n, 0);
	/* or positions not after `after` */
	mem.feed_disorder = false;
	assert_int_equal(read_feed(&mem.reader, 0, 1, &evs, &n, &next, &info), CE_OK);
	free(evs);
	mem.feed_extra = 1;
	assert_int_equal(read_feed(&mem.reader, 0, 2, &evs, &n, &next, &info), CE_INTERNAL);
	assert_null(evs);
	mem.feed_extra = 0;
	/* parameters the edge should have refused */
	assert_int_equal(read_feed(&mem.reader, 0, 0, &evs, &n, &next, &info), CE_INTERNAL);
	assert_int_equal(read_feed(&mem.reader, 0, FEED_LIMIT_MAX + 1, &evs, &n, &next, &info),
			 CE_INTERNAL);
	assert_int_equal(read_feed(&mem.reader, FEED_AFTER_MAX + 1, 1, &evs, &n, &next, &info),
			 CE_INTERNAL);
	assert_int_equal(read_feed(NULL, 0, 1, &evs, &n, &next, &info), CE_INTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(health, setup),
		cmocka_unit_test_setup(get_one, setup),
		cmocka_unit_test_setup(list_pages, setup),
		cmocka_unit_test_setup(list_errors, setup),
		cmocka_unit_test_setup(history_all, setup),
		cmocka_unit_test_setup(at_version, setup),
		cmocka_unit_test_setup(history_pages, setup),
		cmocka_unit_test_setup(at_version_from_snapshot, setup),
		cmocka_unit_test_setup(at_version_bad_history, setup),
		cmocka_unit_test_setup(verify, setup),
		cmocka_unit_test_setup(feed_pages, setup),
		cmocka_unit_test_setup(feed_errors, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
