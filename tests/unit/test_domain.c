/*
 * Unit tests of the pure domain: the field rules at and beyond their bounds,
 * client ids, replay, and the decisions with the order of their checks.
 * Links libdomain.a alone, so any I/O in the domain fails to link.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/circle.h"
#include "../fakes/test_event.h"

#define ID_A "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10"
#define ID_B "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a11"
#define EV_1 "11111111-1111-4111-8111-111111111111"
#define EV_2 "22222222-2222-4222-8222-222222222222"
#define T_1 "2026-11-26T08:35:48.123456Z"

/* A valid name as a C string. */
static bool
name_ok(const char *s)
{
	const char *detail = "unset";
	enum cerr rc = circle_check_name(s, strlen(s), &detail);

	/* the detail tells why, and only when there is a why */
	if (rc == CE_OK)
		assert_null(detail);
	else
		assert_non_null(detail);
	return rc == CE_OK;
}

/* n copies of the UTF-8 sequence unit, in buf. */
static const char *
repeat(char *buf, size_t size, const char *unit, size_t n)
{
	size_t len = strlen(unit), i;

	assert_true(len * n < size);
	for (i = 0; i < n; i++)
		memcpy(buf + i * len, unit, len);
	buf[len * n] = '\0';
	return buf;
}

/* --- name rule --- */

static void
name_lengths(void **state)
{
	char buf[1024];

	(void)state;
	assert_int_equal(circle_check_name("", 0, NULL), CE_INVALID_FIELD);
	assert_int_equal(circle_check_name(NULL, 0, NULL), CE_INVALID_FIELD);
	assert_true(name_ok("a"));
	assert_true(name_ok(repeat(buf, sizeof buf, "a", 99)));
	assert_true(name_ok(repeat(buf, sizeof buf, "a", 100)));
	assert_false(name_ok(repeat(buf, sizeof buf, "a", 101)));
	assert_false(name_ok(repeat(buf, sizeof buf, "a", 401)));
}

static void
name_multibyte(void **state)
{
	char buf[1024];

	(void)state;
	/* é: 2 bytes */
	assert_true(name_ok(repeat(buf, sizeof buf, "\xc3\xa9", 100)));
	assert_false(name_ok(repeat(buf, sizeof buf, "\xc3\xa9", 101)));
	/* あ: 3 bytes */
	assert_true(name_ok(repeat(buf, sizeof buf, "\xe3\x81\x82", 100)));
	assert_false(name_ok(repeat(buf, sizeof buf, "\xe3\x81\x82", 101)));
	/* U+1F600: 4 bytes, 100 of them is exactly CIRCLE_NAME_MAX_BYTES */
	repeat(buf, sizeof buf, "\xf0\x9f\x98\x80", 100);
	assert_int_equal(strlen(buf), CIRCLE_NAME_MAX_BYTES);
	assert_true(name_ok(buf));
	assert_false(name_ok(repeat(buf, sizeof buf, "\xf0\x9f\x98\x80", 101)));
	/* code points are counted, not bytes: 99 ASCII + one 4-byte char */
	repeat(buf, sizeof buf, "b", 99);
	strcat(buf, "\xf0\x9f\x98\x80");
	assert_true(name_ok(buf));
	strcat(buf, "c");
	assert_false(name_ok(buf));
	assert_true(name_ok("Caf\xc3\xa9 \xe3\x82\xb5\xe3\x83\x83\xe3\x82\xab\xe3\x83\xbc"));
}

static void
name_invalid_utf8(void **state)
{
	(void)state;
	/* overlong forms */
	assert_false(name_ok("\xc0\xaf"));
	assert_false(name_ok("\xc1\xbf"));
	assert_false(name_ok("\xe0\x80\xaf"));
	assert_false(name_ok("\xe0\x9f\xbf"));
	assert_false(name_ok("\xf0\x80\x80\xaf"));
	assert_false(name_ok("\xf0\x8f\xbf\xbf"));
	/* truncated sequences, also at the very end */
	assert_false(name_ok("\xc3"));
	assert_false(name_ok("ab\xe3\x81"));
	assert_false(name_ok("\xf0\x9f\x98"));
	assert_false(name_ok("\xe3\x81"
			     "a"));
	/* lone continuation bytes */
	assert_false(name_ok("\x80"));
	assert_false(name_ok("a\xbf"
			     "b"));
	/* encoded surrogates */
	assert_false(name_ok("\xed\xa0\x80"));
	assert_false(name_ok("\xed\xbf\xbf"));
	assert_false(name_ok("\xed\xa0\xbd\xed\xb8\x80"));
	/* beyond U+10FFFF and bytes never used */
	assert_false(name_ok("\xf4\x90\x80\x80"));
	assert_false(name_ok("\xf5\x80\x80\x80"));
	assert_false(name_ok("\xfe"));
	assert_false(name_ok("\xff"));
	/* the edges that are valid */
	assert_true(name_ok("\xed\x9f\xbf"));     /* U+D7FF */
	assert_true(name_ok("\xee\x80\x80"));     /* U+E000 */
	assert_true(name_ok("\xe0\xa0\x80"));     /* U+0800 */
	assert_true(name_ok("\xf0\x90\x80\x80")); /* U+10000 */
	assert_true(name_ok("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	/* the length given is the length checked: a byte past it is not read */
	assert_int_equal(circle_check_name("ab\xc3\xa9", 3, NULL), CE_INVALID_FIELD);
	assert_int_equal(circle_check_name("ab\xc3\xa9", 4, NULL), CE_OK);
}

static void
name_control_chars(void **state)
{
	(void)state;
	assert_false(name_ok("a\x01"));
	assert_false(name_ok("a\x1f"
			     "b")); /* U+001F */
	assert_true(name_ok("a\x20"
			    "b"));          /* U+0020 */
	assert_true(name_ok("a~"));         /* U+007E */
	assert_false(name_ok("a\x7f"));     /* U+007F */
	assert_false(name_ok("a\xc2\x80")); /* U+0080 */
	assert_false(name_ok("a\xc2\x9f")); /* U+009F */
	assert_true(name_ok("a\xc2\xa0"
			    "b")); /* U+00A0 */
	assert_false(name_ok("line\nbreak"));
	/* an embedded NUL is U+0000, a control character */
	assert_int_equal(circle_check_name("a\0b", 3, NULL), CE_INVALID_FIELD);
}

static void
name_white_space(void **state)
{
	(void)state;
	assert_false(name_ok(" "));
	assert_false(name_ok("     "));
	assert_false(name_ok("\t\t"));
	assert_false(name_ok("\xe3\x80\x80\xe3\x80\x80"));  /* U+3000 */
	assert_false(name_ok("\xc2\xa0"));                  /* U+00A0 */
	assert_false(name_ok("\xe1\x9a\x80"));              /* U+1680 */
	assert_false(name_ok("\xe2\x80\x80\xe2\x80\x8a"));  /* U+2000, U+200A */
	assert_false(name_ok("\xe2\x80\xa8\xe2\x80\xa9"));  /* U+2028, U+2029 */
	assert_false(name_ok("\xe2\x80\xaf \xe2\x81\x9f")); /* U+202F, U+205F */
	/* U+200B is not White_Space: a name of it alone passes this rule */
	assert_true(name_ok("\xe2\x80\x8b"));
	/* white space around or inside a name is kept, and allowed */
	assert_true(name_ok(" football"));
	assert_true(name_ok("football "));
	assert_true(name_ok(" foot ball "));
	assert_true(name_ok("\xe3\x80\x80x\xe3\x80\x80"));
}

static void
capacity_bounds(void **state)
{
	const char *detail = NULL;

	(void)state;
	assert_int_equal(circle_check_capacity(2, &detail), CE_INVALID_FIELD);
	assert_non_null(detail);
	assert_int_equal(circle_check_capacity(3, &detail), CE_OK);
	assert_null(detail);
	assert_int_equal(circle_check_capacity(20, NULL), CE_OK);
	assert_int_equal(circle_check_capacity(32767, NULL), CE_OK);
	assert_int_equal(circle_check_capacity(32768, NULL), CE_INVALID_FIELD);
	assert_int_equal(circle_check_capacity(0, NULL), CE_INVALID_FIELD);
	assert_int_equal(circle_check_capacity(-1, NULL), CE_INVALID_FIELD);
	assert_int_equal(circle_check_capacity(-32767, NULL), CE_INVALID_FIELD);
	assert_int_equal(circle_check_capacity(LLONG_MIN, NULL), CE_INVALID_FIELD);
	assert_int_equal(circle_check_capacity(LLONG_MAX, NULL), CE_INVALID_FIELD);
	assert_int_equal(circle_check_capacity(4294967299LL, NULL), CE_INVALID_FIELD);
}

/* --- description rule --- */

/* A valid description as a C string. */
static bool
description_ok(const char *s)
{
	const char *detail = "unset";
	enum cerr rc = circle_check_description(s, strlen(s), &detail);

	if (rc == CE_OK)
		assert_null(detail);
	else
		assert_non_null(detail);
	return rc == CE_OK;
}

static void
description_bounds(void **state)
{
	char buf[4096];

	(void)state;
	/* empty is allowed: it is how a description is removed */
	assert_true(description_ok(""));
	assert_int_equal(circle_check_description(NULL, 0, NULL), CE_OK);
	assert_int_equal(circle_check_description(NULL, 1, NULL), CE_INVALID_FIELD);
	assert_true(description_ok("a"));
	assert_true(description_ok(repeat(buf, sizeof buf, "a", 500)));
	assert_false(description_ok(repeat(buf, sizeof buf, "a", 501)));
	assert_false(description_ok(repeat(buf, sizeof buf, "a", 2001)));
	/* code points, not bytes: 500 four-byte characters is the longest */
	repeat(buf, sizeof buf, "\xf0\x9f\x98\x80", 500);
	assert_int_equal(strlen(buf), CIRCLE_DESCRIPTION_MAX_BYTES);
	assert_true(description_ok(buf));
	assert_false(description_ok(repeat(buf, sizeof buf, "\xf0\x9f\x98\x80", 501)));
	repeat(buf, sizeof buf, "\xc3\xa9", 499);
	strcat(buf, "x");
	assert_true(description_ok(buf));
	strcat(buf, "y");
	assert_false(description_ok(buf));
}

static void
description_characters(void **state)
{
	(void)state;
	/* white space is fine, even only white space, unlike a name */
	assert_true(description_ok(" "));
	assert_true(description_ok("\xe3\x80\x80"));
	assert_true(description_ok("Tuesdays  at 6,  room 101 "));
	assert_false(name_ok(" "));
	/* the name's character rules */
	assert_false(description_ok("a\nb"));
	assert_false(description_ok("a\tb"));
	assert_false(description_ok("\x7f"));
	assert_false(description_ok("\xc2\x85"));
	assert_false(description_ok("\xc2\x9f"));
	assert_false(description_ok("\xed\xa0\x80"));
	assert_false(description_ok("\xc0\xaf"));
	assert_false(description_ok("ab\xe3\x81"));
	assert_int_equal(circle_check_description("a\0b", 3, NULL), CE_INVALID_FIELD);
	assert_true(description_ok("Caf\xc3\xa9 \xe3\x82\xb5\xe3\x83\x83\xe3\x82\xab\xe3\x83\xbc"));
}

/* --- ids --- */

static void
canonical_ids(void **state)
{
	char key[CIRCLE_ID_LEN + 1];
	struct cerr_info info = {0};

	(void)state;
	assert_int_equal(canonical_circle_id("0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10", key, &info),
			 CE_OK);
	assert_string_equal(key, ID_A);
	assert_int_equal(canonical_circle_id(ID_A, key, NULL), CE_OK);
	assert_string_equal(key, ID_A);
	assert_int_equal(canonical_circle_id(NULL, key, &info), CE_INVALID_CIRCLE_ID);
	assert_int_equal(info.code, CE_INVALID_CIRCLE_ID);
	assert_int_equal(canonical_circle_id("", key, &info), CE_INVALID_CIRCLE_ID);
	assert_int_equal(canonical_circle_id(ID_A "0", key, &info), CE_INVALID_CIRCLE_ID);
	assert_int_equal(canonical_circle_id("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1", key, &info),
			 CE_INVALID_CIRCLE_ID);
	assert_int_equal(canonical_circle_id("0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a1g", key, &info),
			 CE_INVALID_CIRCLE_ID);
}

/* --- events, apply and replay --- */

static void
event_type_names(void **state)
{
	int t;

	(void)state;
	for (t = 0; t < CIRCLE_EVENT__MAX; t++)
		assert_int_equal(
			circle_event_type_parse(circle_event_type_name((enum circle_event_type)t)),
			t);
	assert_string_equal(circle_event_type_name(CIRCLE_CREATED), "circle_created");
	assert_string_equal(circle_event_type_name(CIRCLE_UPDATED), "circle_updated");
	assert_string_equal(circle_event_type_name(CIRCLE_DELETED), "circle_deleted");
	assert_null(circle_event_type_name(CIRCLE_EVENT__MAX));
	assert_null(circle_event_type_name((enum circle_event_type) - 1));
	assert_int_equal(circle_event_type_parse("Circle_Created"), -1);
	assert_int_equal(circle_event_type_parse("circle_created "), -1);
	assert_int_equal(circle_event_type_parse(""), -1);
	assert_int_equal(circle_event_type_parse(NULL), -1);
}

static struct circle_event
created(uint32_t version, const char *name, int capacity)
{
	return test_event(CIRCLE_CREATED, ID_A, version, name, capacity);
}

static struct circle_event
updated(uint32_t version, const char *name, int capacity)
{
	return test_event(CIRCLE_UPDATED, ID_A, version, name, capacity);
}

static struct circle_event
deleted(uint32_t version)
{
	return test_event(CIRCLE_DELETED, ID_A, version, NULL, 0);
}

static void
replay_seed_example(void **state)
{
	struct circle_event evs[3];
	struct circle c;

	(void)state;
	evs[0] = created(1, "football", 20);
	evs[1] = updated(2, NULL, 30);
	evs[2] = updated(3, "baseball", 40);
	assert_int_equal(circle_replay(&c, evs, 3), CE_OK);
	assert_string_equal(c.id, ID_A);
	assert_string_equal(c.name, "baseball");
	assert_int_equal(c.capacity, 40);
	assert_int_equal(c.version, 3);
	assert_false(c.deleted);

	/* stopping earlier gives the state of then */
	assert_int_equal(circle_replay(&c, evs, 2), CE_OK);
	assert_string_equal(c.name, "football");
	assert_int_equal(c.capacity, 30);
	assert_int_equal(c.version, 2);

	/* nothing to replay: the empty state */
	assert_int_equal(circle_replay(&c, NULL, 0), CE_OK);
	assert_int_equal(c.version, 0);
	assert_string_equal(c.id, "");
	assert_int_equal(circle_replay(&c, NULL, 1), CE_INTERNAL);
}

/* From a snapshot, replay goes on exactly as from the start. */
static void
replay_from_snapshot(void **state)
{
	struct circle_event evs[3];
	struct circle snap, c, full;

	(void)state;
	evs[0] = created(1, "football", 20);
	evs[1] = updated(2, NULL, 30);
	evs[2] = updated(3, "baseball", 40);
	assert_int_equal(circle_replay(&snap, evs, 1), CE_OK);
	assert_int_equal(circle_replay_from(&c, &snap, evs + 1, 2), CE_OK);
	assert_int_equal(circle_replay(&full, evs, 3), CE_OK);
	assert_memory_equal(&c, &full, sizeof c);
	/* NULL or an empty snapshot is the empty state */
	assert_int_equal(circle_replay_from(&c, NULL, evs, 3), CE_OK);
	assert_memory_equal(&c, &full, sizeof c);
	memset(&snap, 0, sizeof snap);
	assert_int_equal(circle_replay_from(&c, &snap, evs, 3), CE_OK);
	assert_memory_equal(&c, &full, sizeof c);
	/* the events must follow the snapshot without a gap */
	assert_int_equal(circle_replay(&snap, evs, 1), CE_OK);
	assert_int_equal(circle_replay_from(&c, &snap, evs + 2, 1), CE_INTERNAL);
	/* a snapshot no events could have produced is refused */
	snap.capacity = 2;
	assert_int_equal(circle_replay_from(&c, &snap, NULL, 0), CE_INTERNAL);
	assert_int_equal(circle_replay(&snap, evs, 1), CE_OK);
	snap.name[0] = '\0';
	assert_int_equal(circle_replay_from(&c, &snap, NULL, 0), CE_INTERNAL);
	assert_int_equal(circle_replay(&snap, evs, 1), CE_OK);
	strcpy(snap.id, "not-a-uuid");
	assert_int_equal(circle_replay_from(&c, &snap, NULL, 0), CE_INTERNAL);
}

static void
replay_delete(void **state)
{
	struct circle_event evs[4];
	struct circle c;

	(void)state;
	evs[0] = created(1, "football", 20);
	evs[1] = deleted(2);
	assert_int_equal(circle_replay(&c, evs, 2), CE_OK);
	assert_true(c.deleted);
	assert_int_equal(c.version, 2);
	/* the last known data stays, for the projection row */
	assert_string_equal(c.name, "football");

	/* nothing follows a delete */
	evs[2] = updated(3, NULL, 30);
	assert_int_equal(circle_replay(&c, evs, 3), CE_INTERNAL);
	evs[2] = deleted(3);
	assert_int_equal(circle_replay(&c, evs, 3), CE_INTERNAL);
	evs[2] = created(3, "again", 5);
	assert_int_equal(circle_replay(&c, evs, 3), CE_INTERNAL);
}

static void
replay_rejects_gaps(void **state)
{
	struct circle_event evs[3];
	struct circle c;

	(void)state;
	evs[0] = created(1, "football", 20);
	evs[1] = updated(3, NULL, 30);
	assert_int_equal(circle_replay(&c, evs, 2), CE_INTERNAL);
	evs[1] = updated(1, NULL, 30);
	assert_int_equal(circle_replay(&c, evs, 2), CE_INTERNAL);
	evs[1] = updated(2, NULL, 30);
	assert_int_equal(circle_replay(&c, evs, 2), CE_OK);
	/* a history must begin at version 1 */
	evs[0] = created(2, "football", 20);
	assert_int_equal(circle_replay(&c, evs, 1), CE_INTERNAL);
	evs[0] = created(0, "football", 20);
	assert_int_equal(circle_replay(&c, evs, 1), CE_INTERNAL);
}

static void
apply_rejects_impossible_events(void **state)
{
	struct circle_event ev;
	struct circle c, before;

	(void)state;
	/* update or delete before create */
	memset(&c, 0, sizeof c);
	ev = updated(1, "x", 0);
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	ev = deleted(1);
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);

	/* create on an existing circle */
	ev = created(1, "football", 20);
	assert_int_equal(circle_apply(&c, &ev), CE_OK);
	ev = created(2, "football", 20);
	before = c;
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	/* a refused event leaves the state as it was */
	assert_memory_equal(&c, &before, sizeof c);

	/* events missing or carrying the wrong data */
	ev = updated(2, NULL, 0);
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	ev = deleted(2);
	ev.has_capacity = true;
	ev.capacity = 10;
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	ev = updated(2, NULL, 2);
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	ev = updated(2, "   ", 0);
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	ev = updated(2, "ok", 0);
	memset(ev.name, 'x', sizeof ev.name); /* not terminated */
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	ev = updated(2, NULL, 30);
	ev.type = (enum circle_event_type)7;
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	memset(&before, 0, sizeof before);
	ev = created(1, "football", 20);
	ev.has_capacity = false;
	assert_int_equal(circle_apply(&before, &ev), CE_INTERNAL);

	/* an event of another circle */
	ev = updated(2, NULL, 30);
	strcpy(ev.circle_id, ID_B);
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	ev = updated(2, NULL, 30);
	strcpy(ev.circle_id, "not-a-uuid");
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	/* the same circle in upper case, or not named at all, is fine */
	ev = updated(2, NULL, 30);
	strcpy(ev.circle_id, "0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10");
	assert_int_equal(circle_apply(&c, &ev), CE_OK);
	ev = updated(3, NULL, 31);
	ev.circle_id[0] = '\0';
	assert_int_equal(circle_apply(&c, &ev), CE_OK);
	assert_int_equal(c.capacity, 31);
	assert_string_equal(c.id, ID_A);

	assert_int_equal(circle_apply(NULL, &ev), CE_INTERNAL);
	assert_int_equal(circle_apply(&c, NULL), CE_INTERNAL);
}

/* --- decisions --- */

static const struct event_meta meta2 = {EV_2, T_1};

static struct circle
live(const char *name, int capacity, uint32_t version)
{
	struct circle c;

	memset(&c, 0, sizeof c);
	strcpy(c.id, ID_A);
	strcpy(c.name, name);
	c.capacity = capacity;
	c.version = version;
	return c;
}

static void
decide_create_ok(void **state)
{
	static const struct event_meta meta = {EV_1, T_1};
	struct circle_event ev;
	struct cerr_info info;
	struct circle c;

	(void)state;
	memset(&info, 0xff, sizeof info);
	assert_int_equal(circle_decide_create("0191F6C4-1C1E-7C4A-9A43-2F0E1D9B5A10", "football",
					      20, NULL, &meta, &ev, &info),
			 CE_OK);
	assert_int_equal(info.code, CE_OK);
	assert_int_equal(ev.type, CIRCLE_CREATED);
	assert_string_equal(ev.circle_id, ID_A);
	assert_string_equal(ev.event_id, EV_1);
	assert_string_equal(ev.occurred_at, T_1);
	assert_int_equal(ev.version, 1);
	assert_true(ev.has_name);
	assert_string_equal(ev.name, "football");
	assert_true(ev.has_capacity);
	assert_int_equal(ev.capacity, 20);
	/* what create decides, replay accepts */
	assert_int_equal(circle_replay(&c, &ev, 1), CE_OK);
	assert_string_equal(c.name, "football");
}

static void
decide_create_errors(void **state)
{
	static const struct event_meta meta = {EV_1, T_1};
	static const struct event_meta bad_id = {"nope", T_1};
	static const struct event_meta long_time = {EV_1, T_1 "0"};
	struct circle_event ev;
	struct cerr_info info;

	(void)state;
	assert_int_equal(circle_decide_create(ID_A, "", 20, NULL, &meta, &ev, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "circle_name");
	assert_non_null(info.detail);
	assert_int_equal(circle_decide_create(ID_A, NULL, 20, NULL, &meta, &ev, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "circle_name");
	assert_int_equal(circle_decide_create(ID_A, "ok", 2, NULL, &meta, &ev, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "capacity");
	/* the name is checked first */
	assert_int_equal(circle_decide_create(ID_A, " ", 2, NULL, &meta, &ev, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "circle_name");
	/* what the caller supplies must be well-formed too */
	assert_int_equal(circle_decide_create("x", "ok", 3, NULL, &meta, &ev, &info), CE_INTERNAL);
	assert_int_equal(circle_decide_create(ID_A, "ok", 3, NULL, NULL, &ev, &info), CE_INTERNAL);
	assert_int_equal(circle_decide_create(ID_A, "ok", 3, NULL, &bad_id, &ev, &info),
			 CE_INTERNAL);
	assert_int_equal(circle_decide_create(ID_A, "ok", 3, NULL, &long_time, &ev, &info),
			 CE_INTERNAL);
	assert_int_equal(circle_decide_create(ID_A, "ok", 3, NULL, &meta, NULL, &info),
			 CE_INTERNAL);
	/* info is optional */
	assert_int_equal(circle_decide_create(ID_A, "ok", 1, NULL, &meta, &ev, NULL),
			 CE_INVALID_FIELD);
}

static struct circle_update
upd(const char *name, int capacity, bool has_version, uint64_t version)
{
	struct circle_update u;

	memset(&u, 0, sizeof u);
	if (name != NULL) {
		u.has_name = true;
		u.name = name;
	}
	if (capacity != 0) {
		u.has_capacity = true;
		u.capacity = capacity;
	}
	u.has_version = has_version;
	u.expected_version = version;
	return u;
}

static void
decide_update_errors_in_order(void **state)
{
	struct circle none, gone, c = live("football", 20, 3);
	struct circle_update u;
	struct circle_event ev;
	struct cerr_info info;
	bool changed = true;

	(void)state;
	memset(&none, 0, sizeof none);
	gone = live("football", 20, 4);
	gone.deleted = true;

	/* the body before anything else */
	u = upd(NULL, 0, false, 0);
	assert_int_equal(circle_decide_update(&none, &u, &meta2, &ev, &changed, &info),
			 CE_NOTHING_TO_UPDATE);
	assert_false(changed);
	u = upd(" ", 0, false, 0);
	assert_int_equal(circle_decide_update(&none, &u, &meta2, &ev, &changed, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "circle_name");
	u = upd(NULL, 40000, false, 0);
	assert_int_equal(circle_decide_update(&none, &u, &meta2, &ev, &changed, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "capacity");

	/* existence before a version given, before the version matching */
	u = upd(NULL, 30, false, 0);
	assert_int_equal(circle_decide_update(&none, &u, &meta2, &ev, &changed, &info),
			 CE_NOT_FOUND);
	assert_int_equal(circle_decide_update(&gone, &u, &meta2, &ev, &changed, &info), CE_GONE);
	u = upd(NULL, 30, true, 9);
	assert_int_equal(circle_decide_update(&none, &u, &meta2, &ev, &changed, &info),
			 CE_NOT_FOUND);
	assert_int_equal(circle_decide_update(&gone, &u, &meta2, &ev, &changed, &info), CE_GONE);
	u = upd(NULL, 30, false, 0);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, &info),
			 CE_PRECONDITION_REQUIRED);
	assert_int_equal(info.code, CE_PRECONDITION_REQUIRED);
	/* a version given but not matching, also one no uint32 can hold */
	u = upd(NULL, 30, true, 2);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, &info),
			 CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 3);
	u = upd(NULL, 30, true, (1ULL << 32) + 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, &info),
			 CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 3);
	u = upd(NULL, 30, true, 0);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, &info),
			 CE_VERSION_MISMATCH);
	/* an unchanged update still needs the right version */
	u = upd("football", 20, true, 4);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, &info),
			 CE_VERSION_MISMATCH);
	assert_false(changed);
	/* a later success clears the version an earlier failure left */
	u = upd(NULL, 30, true, 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, &info), CE_OK);
	assert_int_equal(info.current_version, 0);
	assert_int_equal(circle_decide_update(NULL, &u, &meta2, &ev, &changed, &info), CE_INTERNAL);
}

static void
decide_update_unchanged(void **state)
{
	struct circle c = live("football", 20, 3);
	struct circle_update u;
	struct circle_event ev;
	bool changed = true;

	(void)state;
	memset(&ev, 0x5a, sizeof ev);
	u = upd("football", 20, true, 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_false(changed);
	changed = true;
	u = upd("football", 0, true, 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_false(changed);
	changed = true;
	u = upd(NULL, 20, true, 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_false(changed);
	/* no event needs no event id or time */
	assert_int_equal(circle_decide_update(&c, &u, NULL, &ev, &changed, NULL), CE_OK);
}

static void
decide_update_partial(void **state)
{
	struct circle after, c = live("football", 20, 3);
	struct circle_update u;
	struct circle_event ev;
	bool changed = false;

	(void)state;
	/* the name given unchanged, the capacity changed: only the capacity */
	u = upd("football", 30, true, 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_true(changed);
	assert_int_equal(ev.type, CIRCLE_UPDATED);
	assert_int_equal(ev.version, 4);
	assert_string_equal(ev.circle_id, ID_A);
	assert_string_equal(ev.event_id, EV_2);
	assert_string_equal(ev.occurred_at, T_1);
	assert_false(ev.has_name);
	assert_true(ev.has_capacity);
	assert_int_equal(ev.capacity, 30);

	/* names compare byte for byte: a change of case is a change */
	u = upd("Football", 20, true, 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_true(changed);
	assert_true(ev.has_name);
	assert_string_equal(ev.name, "Football");
	assert_false(ev.has_capacity);
	u = upd("football ", 0, true, 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_true(changed);
	assert_string_equal(ev.name, "football ");

	/* both changed; the event folds onto the state */
	u = upd("baseball", 40, true, 3);
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_true(ev.has_name && ev.has_capacity);
	after = c;
	assert_int_equal(circle_apply(&after, &ev), CE_OK);
	assert_string_equal(after.name, "baseball");
	assert_int_equal(after.capacity, 40);
	assert_int_equal(after.version, 4);

	/* a change needs an event id and a time */
	assert_int_equal(circle_decide_update(&c, &u, NULL, &ev, &changed, NULL), CE_INTERNAL);
	assert_false(changed);
}

static void
decide_descriptions(void **state)
{
	static const struct event_meta meta = {EV_1, T_1};
	struct circle c, after, gone;
	struct circle_update u;
	struct circle_event ev;
	struct cerr_info info;
	char long_text[2100];
	bool changed = false;

	(void)state;
	/* a create with one carries it; "" is none, and no member */
	assert_int_equal(circle_decide_create(ID_A, "chess", 12, "Tuesdays", &meta, &ev, NULL),
			 CE_OK);
	assert_true(ev.has_description);
	assert_string_equal(ev.description, "Tuesdays");
	assert_int_equal(circle_replay(&c, &ev, 1), CE_OK);
	assert_string_equal(c.description, "Tuesdays");
	assert_int_equal(circle_decide_create(ID_A, "chess", 12, "", &meta, &ev, NULL), CE_OK);
	assert_false(ev.has_description);
	assert_int_equal(circle_replay(&after, &ev, 1), CE_OK);
	assert_string_equal(after.description, "");
	/* a bad description is the description's invalid_field, after the name and capacity */
	memset(long_text, 'a', 501);
	long_text[501] = '\0';
	assert_int_equal(circle_decide_create(ID_A, "chess", 12, long_text, &meta, &ev, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "description");
	assert_int_equal(circle_decide_create(ID_A, "chess", 2, long_text, &meta, &ev, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "capacity");
	assert_int_equal(circle_decide_create(ID_A, "chess", 12, "a\tb", &meta, &ev, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "description");

	/* only the description changed: a change, with only that member */
	memset(&u, 0, sizeof u);
	u.has_description = true;
	u.description = "Fridays";
	u.has_version = true;
	u.expected_version = 1;
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_true(changed);
	assert_false(ev.has_name || ev.has_capacity);
	assert_true(ev.has_description);
	assert_string_equal(ev.description, "Fridays");
	after = c;
	assert_int_equal(circle_apply(&after, &ev), CE_OK);
	assert_string_equal(after.description, "Fridays");
	assert_int_equal(after.version, 2);
	/* the same value again: no change, no event */
	u.description = "Tuesdays";
	changed = true;
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_false(changed);
	/* byte for byte: trailing white space is a change */
	u.description = "Tuesdays ";
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_true(changed);
	/* "" removes it: an update event whose description is "" */
	u.description = "";
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_true(changed);
	assert_true(ev.has_description);
	assert_string_equal(ev.description, "");
	after = c;
	assert_int_equal(circle_apply(&after, &ev), CE_OK);
	assert_string_equal(after.description, "");
	/* ... and removing it from a circle without one is no change */
	u.expected_version = 2;
	changed = true;
	assert_int_equal(circle_decide_update(&after, &u, &meta2, &ev, &changed, NULL), CE_OK);
	assert_false(changed);
	/* checked before the circle's existence, as the body comes first */
	memset(&gone, 0, sizeof gone);
	u.description = long_text;
	assert_int_equal(circle_decide_update(&gone, &u, &meta2, &ev, &changed, &info),
			 CE_INVALID_FIELD);
	assert_string_equal(info.subject, "description");
	u.description = NULL;
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, &info),
			 CE_INVALID_FIELD);
	/* nothing named at all is still nothing to update */
	memset(&u, 0, sizeof u);
	u.has_version = true;
	u.expected_version = 1;
	assert_int_equal(circle_decide_update(&c, &u, &meta2, &ev, &changed, &info),
			 CE_NOTHING_TO_UPDATE);
}

static void
apply_checks_descriptions(void **state)
{
	struct circle c, before;
	struct circle_event ev;

	(void)state;
	memset(&c, 0, sizeof c);
	ev = test_event(CIRCLE_CREATED, ID_A, 1, "chess", 12);
	ev.has_description = true;
	/* a create never carries "" */
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	strcpy(ev.description, "a\x01");
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	memset(ev.description, 'a', 501);
	ev.description[501] = '\0';
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	/* unterminated */
	memset(ev.description, 'a', sizeof ev.description);
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	assert_int_equal(c.version, 0);
	strcpy(ev.description, "ok");
	assert_int_equal(circle_apply(&c, &ev), CE_OK);
	/* a delete carries none; an update may carry the description alone */
	before = c;
	ev = test_event(CIRCLE_DELETED, ID_A, 2, NULL, 0);
	ev.has_description = true;
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	assert_memory_equal(&c, &before, sizeof c);
	ev = test_event(CIRCLE_UPDATED, ID_A, 2, NULL, 0);
	assert_int_equal(circle_apply(&c, &ev), CE_INTERNAL);
	ev.has_description = true;
	assert_int_equal(circle_apply(&c, &ev), CE_OK);
	assert_string_equal(c.description, "");
	assert_string_equal(c.name, "chess");
	/* a snapshot with a description out of its rule is not trusted */
	before = c;
	strcpy(before.description, "a\nb");
	assert_int_equal(circle_replay_from(&c, &before, NULL, 0), CE_INTERNAL);
	strcpy(before.description, "fine");
	assert_int_equal(circle_replay_from(&c, &before, NULL, 0), CE_OK);
	assert_string_equal(c.description, "fine");
}

static void
decide_delete_all(void **state)
{
	struct circle none, gone, after, c = live("football", 20, 3);
	struct circle_event ev;
	struct cerr_info info;

	(void)state;
	memset(&none, 0, sizeof none);
	gone = live("football", 20, 4);
	gone.deleted = true;
	assert_int_equal(circle_decide_delete(&none, true, 1, &meta2, &ev, &info), CE_NOT_FOUND);
	assert_int_equal(circle_decide_delete(&none, false, 0, &meta2, &ev, &info), CE_NOT_FOUND);
	assert_int_equal(circle_decide_delete(&gone, false, 0, &meta2, &ev, &info), CE_GONE);
	assert_int_equal(circle_decide_delete(&gone, true, 3, &meta2, &ev, &info), CE_GONE);
	assert_int_equal(circle_decide_delete(&c, false, 0, &meta2, &ev, &info),
			 CE_PRECONDITION_REQUIRED);
	assert_int_equal(circle_decide_delete(&c, true, 2, &meta2, &ev, &info),
			 CE_VERSION_MISMATCH);
	assert_int_equal(info.current_version, 3);
	assert_int_equal(circle_decide_delete(&c, true, 4, &meta2, &ev, &info),
			 CE_VERSION_MISMATCH);

	assert_int_equal(circle_decide_delete(&c, true, 3, &meta2, &ev, &info), CE_OK);
	assert_int_equal(ev.type, CIRCLE_DELETED);
	assert_int_equal(ev.version, 4);
	assert_string_equal(ev.circle_id, ID_A);
	assert_string_equal(ev.event_id, EV_2);
	assert_false(ev.has_name);
	assert_false(ev.has_capacity);
	after = c;
	assert_int_equal(circle_apply(&after, &ev), CE_OK);
	assert_true(after.deleted);
	assert_int_equal(after.version, 4);
	assert_int_equal(circle_decide_delete(&c, true, 3, NULL, &ev, &info), CE_INTERNAL);
}

static void
cerr_set_fills_info(void **state)
{
	struct cerr_info info;

	(void)state;
	info.current_version = 7;
	assert_int_equal(cerr_set(&info, CE_GONE, "x", "y"), CE_GONE);
	assert_int_equal(info.code, CE_GONE);
	assert_string_equal(info.subject, "x");
	assert_string_equal(info.detail, "y");
	assert_int_equal(info.current_version, 0);
	assert_int_equal(cerr_set(NULL, CE_INTERNAL, NULL, NULL), CE_INTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_lengths),
		cmocka_unit_test(name_multibyte),
		cmocka_unit_test(name_invalid_utf8),
		cmocka_unit_test(name_control_chars),
		cmocka_unit_test(name_white_space),
		cmocka_unit_test(description_bounds),
		cmocka_unit_test(description_characters),
		cmocka_unit_test(capacity_bounds),
		cmocka_unit_test(canonical_ids),
		cmocka_unit_test(event_type_names),
		cmocka_unit_test(replay_seed_example),
		cmocka_unit_test(replay_from_snapshot),
		cmocka_unit_test(replay_delete),
		cmocka_unit_test(replay_rejects_gaps),
		cmocka_unit_test(apply_rejects_impossible_events),
		cmocka_unit_test(decide_create_ok),
		cmocka_unit_test(decide_create_errors),
		cmocka_unit_test(decide_update_errors_in_order),
		cmocka_unit_test(decide_update_unchanged),
		cmocka_unit_test(decide_update_partial),
		cmocka_unit_test(decide_descriptions),
		cmocka_unit_test(apply_checks_descriptions),
		cmocka_unit_test(decide_delete_all),
		cmocka_unit_test(cerr_set_fills_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
