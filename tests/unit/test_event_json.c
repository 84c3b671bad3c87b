/*
 * Unit tests of the event payload codec: the exact text stored for each
 * event type, round trips, names that need escaping, and a catalogue of
 * malformed payloads the decoder must refuse without harm.
 */
#include <setjmp.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec/event_json.h"
#include "codec/feed_json.h"
#include "../fakes/test_event.h"

static struct circle_event
event(enum circle_event_type t, const char *name, int capacity)
{
	return test_event(t, "", 0, name, capacity);
}

/* Encodes ev, checks the text, decodes it back and checks the data. */
static void
round_trip(const struct circle_event *ev, const char *expect)
{
	struct circle_event back;
	char *text = NULL;

	assert_int_equal(event_json_encode(ev, &text), 0);
	assert_non_null(text);
	if (expect != NULL)
		assert_string_equal(text, expect);
	memset(&back, 0x5a, sizeof back);
	assert_int_equal(event_json_decode(EVENT_SCHEMA_VERSION, circle_event_type_name(ev->type),
					   text, strlen(text), &back, NULL),
			 CE_OK);
	assert_int_equal(back.type, ev->type);
	assert_int_equal(back.has_name, ev->has_name);
	if (ev->has_name)
		assert_string_equal(back.name, ev->name);
	assert_int_equal(back.has_capacity, ev->has_capacity);
	if (ev->has_capacity)
		assert_int_equal(back.capacity, ev->capacity);
	free(text);
}

static void
encode_each_type(void **state)
{
	struct circle_event ev;

	(void)state;
	ev = event(CIRCLE_CREATED, "football", 20);
	round_trip(&ev, "{\"type\":\"circle_created\",\"name\":\"football\",\"capacity\":20}");
	ev = event(CIRCLE_UPDATED, NULL, 30);
	round_trip(&ev, "{\"type\":\"circle_updated\",\"capacity\":30}");
	ev = event(CIRCLE_UPDATED, "baseball", 0);
	round_trip(&ev, "{\"type\":\"circle_updated\",\"name\":\"baseball\"}");
	ev = event(CIRCLE_UPDATED, "baseball", 40);
	round_trip(&ev, "{\"type\":\"circle_updated\",\"name\":\"baseball\",\"capacity\":40}");
	ev = event(CIRCLE_DELETED, NULL, 0);
	round_trip(&ev, "{\"type\":\"circle_deleted\"}");
	ev = event(CIRCLE_CREATED, "x", 32767);
	round_trip(&ev, "{\"type\":\"circle_created\",\"name\":\"x\",\"capacity\":32767}");
}

static void
encode_escapes_and_unicode(void **state)
{
	struct circle_event ev;

	(void)state;
	ev = event(CIRCLE_CREATED, "say \"hi\"", 3);
	round_trip(&ev, "{\"type\":\"circle_created\",\"name\":\"say \\\"hi\\\"\",\"capacity\":3}");
	ev = event(CIRCLE_CREATED, "back\\slash/and/slash", 3);
	round_trip(&ev, "{\"type\":\"circle_created\",\"name\":\"back\\\\slash/and/slash\","
			"\"capacity\":3}");
	/* UTF-8 passes through as is, non-BMP included */
	ev = event(CIRCLE_CREATED, "Caf\xc3\xa9 \xe3\x82\xb5\xe3\x83\x83 \xf0\x9f\x98\x80", 12);
	round_trip(&ev, "{\"type\":\"circle_created\",\"name\":\"Caf\xc3\xa9 "
			"\xe3\x82\xb5\xe3\x83\x83 \xf0\x9f\x98\x80\",\"capacity\":12}");
	ev = event(CIRCLE_UPDATED, " padded ", 0);
	round_trip(&ev, "{\"type\":\"circle_updated\",\"name\":\" padded \"}");
}

static void
encode_refuses_bad_events(void **state)
{
	struct circle_event ev;
	char *text = (char *)"sentinel";

	(void)state;
	ev = event(CIRCLE_CREATED, "football", 0);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	assert_null(text);
	ev = event(CIRCLE_CREATED, NULL, 20);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = event(CIRCLE_UPDATED, NULL, 0);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = event(CIRCLE_DELETED, "x", 0);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = event(CIRCLE_EVENT__MAX, NULL, 0);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = event(CIRCLE_UPDATED, "x", 0);
	memset(ev.name, 'x', sizeof ev.name);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = event(CIRCLE_UPDATED, "  ", 0);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = event(CIRCLE_UPDATED, "a\x01", 0);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = event(CIRCLE_UPDATED, NULL, 32768);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = event(CIRCLE_CREATED, "x", -5);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	assert_int_equal(event_json_encode(NULL, &text), -1);
	assert_int_equal(event_json_encode(&ev, NULL), -1);
	assert_null(event_json_data(NULL));
}

static void
data_object(void **state)
{
	struct circle_event ev = event(CIRCLE_UPDATED, NULL, 30);
	json_object *obj = event_json_data(&ev), *val = NULL;

	(void)state;
	assert_non_null(obj);
	assert_int_equal(json_object_object_length(obj), 2);
	assert_true(json_object_object_get_ex(obj, "type", &val));
	assert_string_equal(json_object_get_string(val), "circle_updated");
	assert_true(json_object_object_get_ex(obj, "capacity", &val));
	assert_int_equal(json_object_get_int(val), 30);
	assert_false(json_object_object_get_ex(obj, "name", NULL));
	json_object_put(obj);
}

static void
decode_accepts_other_spellings(void **state)
{
	static const char *const ok[] = {
		"{ \"type\" : \"circle_created\" , \"name\" : \"a\" , \"capacity\" : 3 }",
		"{\"capacity\":3,\"name\":\"a\",\"type\":\"circle_created\"}",
		"{\"type\":\"circle_created\",\"name\":\"\\u0061\",\"capacity\":3}",
		"{\"type\":\"circle_created\",\"name\":\"\\ud83d\\ude00\",\"capacity\":3}",
		"{\"type\":\"circle_created\",\"name\":\"a\\/b\",\"capacity\":3}",
		"\n{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":3}\n",
		"{\"type\":\"circle_created\",\"name\":\"\\uD83D\\uDE00\",\"capacity\":3}",
		"{\"type\":\"circle_created\",\"name\":\"a\\\\u0000\",\"capacity\":3}",
		"{\"type\":\"circle_created\",\"name\":\"q\\\"u:o\\\"te\",\"capacity\":3}",
	};
	struct circle_event ev;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		print_message("payload %zu\n", i);
		memset(&ev, 0, sizeof ev);
		assert_int_equal(
			event_json_decode(1, "circle_created", ok[i], strlen(ok[i]), &ev, NULL),
			CE_OK);
		assert_int_equal(ev.capacity, 3);
		assert_true(ev.has_name);
	}
	assert_int_equal(event_json_decode(1, "circle_created", ok[3], strlen(ok[3]), &ev, NULL),
			 CE_OK);
	assert_string_equal(ev.name, "\xf0\x9f\x98\x80");
	assert_int_equal(event_json_decode(1, "circle_created", ok[4], strlen(ok[4]), &ev, NULL),
			 CE_OK);
	assert_string_equal(ev.name, "a/b");
	assert_int_equal(event_json_decode(1, "circle_created", ok[6], strlen(ok[6]), &ev, NULL),
			 CE_OK);
	assert_string_equal(ev.name, "\xf0\x9f\x98\x80");
	assert_int_equal(event_json_decode(1, "circle_created", ok[7], strlen(ok[7]), &ev, NULL),
			 CE_OK);
	assert_string_equal(ev.name, "a\\u0000");
	assert_int_equal(event_json_decode(1, "circle_created", ok[8], strlen(ok[8]), &ev, NULL),
			 CE_OK);
	assert_string_equal(ev.name, "q\"u:o\"te");
}

static void
decode_leaves_other_members(void **state)
{
	static const char text[] = "{\"type\":\"circle_deleted\"}";
	struct circle_event ev = event(CIRCLE_UPDATED, "old", 9);

	(void)state;
	strcpy(ev.event_id, "keep");
	ev.version = 7;
	assert_int_equal(event_json_decode(1, "circle_deleted", text, strlen(text), &ev, NULL),
			 CE_OK);
	assert_int_equal(ev.type, CIRCLE_DELETED);
	assert_false(ev.has_name);
	assert_false(ev.has_capacity);
	assert_string_equal(ev.event_id, "keep");
	assert_int_equal(ev.version, 7);
}

struct bad {
	const char *event_type;
	const char *text;
};

static void
decode_refuses_malformed(void **state)
{
	static const struct bad bad[] = {
		/* wrong or missing type tag */
		{"circle_created", "{\"type\":\"circle_updated\",\"name\":\"a\",\"capacity\":3}"},
		{"circle_created", "{\"name\":\"a\",\"capacity\":3}"},
		{"circle_created", "{\"type\":\"Circle_Created\",\"name\":\"a\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\\u0000\",\"name\":\"a\",\"capacity\":3}"},
		{"circle_created", "{\"type\":1,\"name\":\"a\",\"capacity\":3}"},
		{"circle_created", "{\"type\":null,\"name\":\"a\",\"capacity\":3}"},
		{"circle_renamed", "{\"type\":\"circle_renamed\",\"name\":\"a\"}"},
		{"", "{\"type\":\"\"}"},
		{NULL, "{\"type\":\"circle_deleted\"}"},
		/* missing members */
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\"}"},
		{"circle_created", "{\"type\":\"circle_created\",\"capacity\":3}"},
		{"circle_updated", "{\"type\":\"circle_updated\"}"},
		/* members the type does not have */
		{"circle_deleted", "{\"type\":\"circle_deleted\",\"name\":\"a\"}"},
		{"circle_deleted", "{\"type\":\"circle_deleted\",\"capacity\":3}"},
		{"circle_updated", "{\"type\":\"circle_updated\",\"capacity\":3,\"extra\":1}"},
		{"circle_updated",
		 "{\"type\":\"circle_updated\",\"capacity\":3,\"name\\u0000x\":\"a\"}"},
		/* duplicate members, however they hide */
		{"circle_updated", "{\"type\":\"circle_updated\",\"capacity\":3,\"capacity\":4}"},
		{"circle_updated",
		 "{\"type\":\"circle_updated\",\"name\":{\"a\":1},\"name\":\"b\"}"},
		{"circle_updated",
		 "{\"type\":\"circle_deleted\",\"type\":\"circle_updated\",\"capacity\":3}"},
		/* wrong JSON types */
		{"circle_created", "{\"type\":\"circle_created\",\"name\":1,\"capacity\":3}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":null,\"capacity\":3}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":[\"a\"],\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":\"3\"}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":3.0}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":1e3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":true}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":null}"},
		{"circle_deleted", "[\"circle_deleted\"]"},
		{"circle_deleted", "\"circle_deleted\""},
		{"circle_deleted", "null"},
		{"circle_deleted", "3"},
		/* extra nesting */
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":{\"x\":\"a\"},\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":{\"n\":{\"m\":3}}}"},
		{"circle_deleted", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]"
				   "]]]]]]]]]]]]]]]]]"},
		/* trailing garbage, truncation */
		{"circle_deleted", "{\"type\":\"circle_deleted\"}x"},
		{"circle_deleted", "{\"type\":\"circle_deleted\"}{}"},
		{"circle_deleted", "{\"type\":\"circle_deleted\"}}"},
		{"circle_deleted", "{\"type\":\"circle_deleted\""},
		{"circle_deleted", "{\"type\":\"circle_del"},
		{"circle_deleted", "{"},
		/* not strict JSON */
		{"circle_deleted", "{'type':'circle_deleted'}"},
		{"circle_deleted", "{type:\"circle_deleted\"}"},
		{"circle_deleted", "{\"type\":\"circle_deleted\",}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":03}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":+3}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":NaN}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\tb\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\\x\",\"capacity\":3}"},
		/* invalid UTF-8, raw or escaped */
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\xc0\xaf\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\xed\xa0\x80\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\xff\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\\ud800\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\\ude00x\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\\ud83d\\u0041\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\\ud83d\\ud83d\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\\uD83D\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\\uDFFF\",\"capacity\":3}"},
		/* names that break the rule */
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"\",\"capacity\":3}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"   \",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\\u0000b\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\\u001f\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\\u0085\",\"capacity\":3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"\\u3000\",\"capacity\":3}"},
		/* capacity out of range */
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":2}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":32768}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":-3}"},
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":4294967299}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":"
				   "99999999999999999999999}"},
		{"circle_created", "{\"type\":\"circle_created\",\"name\":\"a\",\"capacity\":-"
				   "99999999999999999999999}"},
		/* nothing at all */
		{"circle_deleted", ""},
		{"circle_deleted", " "},
		{"circle_deleted", "{}"},
	};
	struct circle_event ev, before;
	size_t i;

	(void)state;
	memset(&before, 0x5a, sizeof before);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("payload %zu: %s\n", i, bad[i].text);
		ev = before;
		assert_int_equal(event_json_decode(1, bad[i].event_type, bad[i].text,
						   strlen(bad[i].text), &ev, NULL),
				 CE_INTERNAL);
		/* a refused payload leaves the event alone */
		assert_memory_equal(&ev, &before, sizeof ev);
		/* and what version 1 refuses, version 2 refuses too */
		assert_int_equal(event_json_decode(2, bad[i].event_type, bad[i].text,
						   strlen(bad[i].text), &ev, NULL),
				 CE_INTERNAL);
		assert_memory_equal(&ev, &before, sizeof ev);
	}
}

static void
decode_refuses_odd_lengths(void **state)
{
	static const char text[] = "{\"type\":\"circle_deleted\"}";
	static const char with_nul[] = "{\"type\":\"circle_deleted\"}\0";
	static const char inner_nul[] = "{\"type\":\"circle_\0deleted\"}";
	struct circle_event ev;
	char *big;

	(void)state;
	assert_int_equal(event_json_decode(1, "circle_deleted", NULL, 0, &ev, NULL), CE_INTERNAL);
	assert_int_equal(event_json_decode(1, "circle_deleted", text, 0, &ev, NULL), CE_INTERNAL);
	assert_int_equal(event_json_decode(1, "circle_deleted", text, strlen(text), NULL, NULL),
			 CE_INTERNAL);
	/* a length short of the text truncates it */
	assert_int_equal(event_json_decode(1, "circle_deleted", text, strlen(text) - 1, &ev, NULL),
			 CE_INTERNAL);
	/* NUL bytes inside the given length are not JSON */
	assert_int_equal(
		event_json_decode(1, "circle_deleted", with_nul, sizeof with_nul - 1, &ev, NULL),
		CE_INTERNAL);
	assert_int_equal(
		event_json_decode(1, "circle_deleted", inner_nul, sizeof inner_nul - 1, &ev, NULL),
		CE_INTERNAL);
	/* the text need not be terminated: only len bytes are read */
	assert_int_equal(event_json_decode(1, "circle_deleted", text, strlen(text), &ev, NULL),
			 CE_OK);

	/* over the size limit, even when it would be valid JSON */
	big = malloc(EVENT_JSON_MAX_LEN + 2);
	assert_non_null(big);
	memset(big, ' ', EVENT_JSON_MAX_LEN + 1);
	memcpy(big, text, strlen(text));
	big[EVENT_JSON_MAX_LEN + 1] = '\0';
	assert_int_equal(
		event_json_decode(1, "circle_deleted", big, EVENT_JSON_MAX_LEN + 1, &ev, NULL),
		CE_INTERNAL);
	free(big);
}

static void
decode_name_bounds(void **state)
{
	char text[1024], name[512];
	struct circle_event ev;
	size_t i;

	(void)state;
	/* 100 four-byte characters is the longest name */
	for (i = 0; i < 100; i++)
		memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4);
	name[400] = '\0';
	snprintf(text, sizeof text, "{\"type\":\"circle_updated\",\"name\":\"%s\"}", name);
	assert_int_equal(event_json_decode(1, "circle_updated", text, strlen(text), &ev, NULL),
			 CE_OK);
	assert_string_equal(ev.name, name);
	snprintf(text, sizeof text, "{\"type\":\"circle_updated\",\"name\":\"%s\\ud83d\\ude00\"}",
		 name);
	assert_int_equal(event_json_decode(1, "circle_updated", text, strlen(text), &ev, NULL),
			 CE_INTERNAL);
}

/* An event of type t with a description. */
static struct circle_event
described(enum circle_event_type t, const char *name, int capacity, const char *description)
{
	struct circle_event ev = event(t, name, capacity);

	ev.has_description = true;
	snprintf(ev.description, sizeof ev.description, "%s", description);
	return ev;
}

static void
encode_descriptions(void **state)
{
	struct circle_event ev, back;
	char *text = NULL;

	(void)state;
	ev = described(CIRCLE_CREATED, "chess", 12, "Tuesdays, \"room\" 101");
	round_trip(&ev, "{\"type\":\"circle_created\",\"name\":\"chess\",\"capacity\":12,"
			"\"description\":\"Tuesdays, \\\"room\\\" 101\"}");
	ev = described(CIRCLE_UPDATED, NULL, 0, "");
	round_trip(&ev, "{\"type\":\"circle_updated\",\"description\":\"\"}");
	ev = described(CIRCLE_UPDATED, "go", 0, " \xe3\x80\x80 ");
	round_trip(&ev, "{\"type\":\"circle_updated\",\"name\":\"go\","
			"\"description\":\" \xe3\x80\x80 \"}");
	/* what the decoder could not read back is never written */
	ev = described(CIRCLE_CREATED, "chess", 12, "");
	assert_int_equal(event_json_encode(&ev, &text), -1);
	assert_null(text);
	ev = described(CIRCLE_DELETED, NULL, 0, "x");
	assert_int_equal(event_json_encode(&ev, &text), -1);
	ev = described(CIRCLE_UPDATED, NULL, 0, "a\nb");
	assert_int_equal(event_json_encode(&ev, &text), -1);
	memset(ev.description, 'a', sizeof ev.description);
	assert_int_equal(event_json_encode(&ev, &text), -1);
	/* 500 four-byte characters are the longest */
	ev = event(CIRCLE_UPDATED, NULL, 0);
	ev.has_description = true;
	for (size_t i = 0; i < 500; i++)
		memcpy(ev.description + 4 * i, "\xf0\x9f\x98\x80", 4);
	ev.description[2000] = '\0';
	assert_int_equal(event_json_encode(&ev, &text), 0);
	memset(&back, 0, sizeof back);
	assert_int_equal(event_json_decode(2, "circle_updated", text, strlen(text), &back, NULL),
			 CE_OK);
	assert_string_equal(back.description, ev.description);
	free(text);
}

/* Version 1 reads as it was written, upcast to the newest shape: the same
 * data as version 2 would read from it, and no description. */
static void
decode_upcasts_version_1(void **state)
{
	static const struct {
		const char *type, *text;
	} old[] = {
		{"circle_created",
		 "{\"type\":\"circle_created\",\"name\":\"chess\",\"capacity\":12}"},
		{"circle_updated", "{\"type\":\"circle_updated\",\"capacity\":30}"},
		{"circle_updated", "{\"type\":\"circle_updated\",\"name\":\"go\"}"},
		{"circle_deleted", "{\"type\":\"circle_deleted\"}"},
	};
	static const char with_description[] =
		"{\"type\":\"circle_updated\",\"description\":\"x\"}";
	static const char create_empty[] = "{\"type\":\"circle_created\",\"name\":\"a\","
					   "\"capacity\":3,\"description\":\"\"}";
	struct circle_event v1, v2;
	char *text = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof old / sizeof old[0]; i++) {
		memset(&v1, 0x5a, sizeof v1);
		memset(&v2, 0x5a, sizeof v2);
		assert_int_equal(event_json_decode(1, old[i].type, old[i].text, strlen(old[i].text),
						   &v1, NULL),
				 CE_OK);
		assert_false(v1.has_description);
		assert_string_equal(v1.description, "");
		assert_int_equal(event_json_decode(2, old[i].type, old[i].text, strlen(old[i].text),
						   &v2, NULL),
				 CE_OK);
		assert_memory_equal(&v1, &v2, sizeof v1);
		/* its data, as the history shows it, is the stored text */
		assert_int_equal(event_json_encode(&v1, &text), 0);
		assert_string_equal(text, old[i].text);
		free(text);
		text = NULL;
	}
	/* version 1 had no description: one there is not a version-1 payload */
	assert_int_equal(event_json_decode(1, "circle_updated", with_description,
					   strlen(with_description), &v1, NULL),
			 CE_INTERNAL);
	assert_int_equal(event_json_decode(2, "circle_updated", with_description,
					   strlen(with_description), &v2, NULL),
			 CE_OK);
	assert_string_equal(v2.description, "x");
	/* a create of version 2 never holds "" */
	assert_int_equal(event_json_decode(2, "circle_created", create_empty, strlen(create_empty),
					   &v2, NULL),
			 CE_INTERNAL);
}

/* A version this build does not know is refused, loudly: the reason names
 * it, and the event is left alone. */
static void
decode_refuses_unknown_versions(void **state)
{
	static const unsigned long versions[] = {0, 3, 4, 65535, ULONG_MAX};
	static const char text[] =
		"{\"type\":\"circle_created\",\"name\":\"chess\",\"capacity\":12}";
	struct circle_event ev, before;
	char why[EVENT_JSON_WHY_MAX], expect[64];
	size_t i;

	(void)state;
	assert_false(event_schema_known(0));
	assert_true(event_schema_known(1));
	assert_true(event_schema_known(EVENT_SCHEMA_VERSION));
	assert_false(event_schema_known(EVENT_SCHEMA_VERSION + 1));
	memset(&before, 0x5a, sizeof before);
	for (i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		ev = before;
		memset(why, 0, sizeof why);
		assert_int_equal(event_json_decode(versions[i], "circle_created", text,
						   strlen(text), &ev, why),
				 CE_INTERNAL);
		assert_memory_equal(&ev, &before, sizeof ev);
		snprintf(expect, sizeof expect, "schema version %lu ", versions[i]);
		assert_non_null(strstr(why, expect));
		/* NULL: no reason wanted, the same refusal */
		assert_int_equal(event_json_decode(versions[i], "circle_created", text,
						   strlen(text), &ev, NULL),
				 CE_INTERNAL);
	}
	/* other refusals say why too */
	assert_int_equal(event_json_decode(1, "circle_created", "{", 1, &ev, why), CE_INTERNAL);
	assert_true(why[0] != '\0');
}

/* An event as the API shows it: its members in order after the caller's
 * (the feed's position and circle id here), and none for an event that is
 * not well-formed. */
static void
event_members(void **state)
{
	struct circle_event ev = test_event(CIRCLE_UPDATED, "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10",
					    2, "baseball", 0);
	json_object *obj;

	(void)state;
	snprintf(ev.event_id, sizeof ev.event_id, "%s", "0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a11");
	snprintf(ev.occurred_at, sizeof ev.occurred_at, "%s", "2026-12-01T10:00:00.000001Z");
	obj = feed_event_json_new(7, &ev);
	assert_non_null(obj);
	assert_string_equal(
		json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN),
		"{\"position\":7,\"circle_id\":\"0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a10\","
		"\"event_id\":\"0191f6c4-1c1e-7c4a-9a43-2f0e1d9b5a11\",\"version\":2,"
		"\"event_type\":\"circle_updated\","
		"\"occurred_at\":\"2026-12-01T10:00:00.000001Z\","
		"\"data\":{\"type\":\"circle_updated\",\"name\":\"baseball\"}}");
	json_object_put(obj);
	assert_null(feed_event_json_new(0, &ev));

	ev.type = (enum circle_event_type)99;
	obj = json_object_new_object();
	assert_int_equal(event_json_add_members(obj, &ev), -1);
	json_object_put(obj);
	/* an update that changes nothing */
	ev.type = CIRCLE_UPDATED;
	ev.has_name = false;
	obj = json_object_new_object();
	assert_int_equal(event_json_add_members(obj, &ev), -1);
	json_object_put(obj);
	assert_null(feed_event_json_new(7, &ev));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_each_type),
		cmocka_unit_test(encode_escapes_and_unicode),
		cmocka_unit_test(encode_refuses_bad_events),
		cmocka_unit_test(data_object),
		cmocka_unit_test(decode_accepts_other_spellings),
		cmocka_unit_test(decode_leaves_other_members),
		cmocka_unit_test(decode_refuses_malformed),
		cmocka_unit_test(decode_refuses_odd_lengths),
		cmocka_unit_test(decode_name_bounds),
		cmocka_unit_test(encode_descriptions),
		cmocka_unit_test(decode_upcasts_version_1),
		cmocka_unit_test(decode_refuses_unknown_versions),
		cmocka_unit_test(event_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
