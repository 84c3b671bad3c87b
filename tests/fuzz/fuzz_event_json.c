/*
 * Fuzzes the event payload codec (codec/event_json.h).
 *
 * Input: one selector byte, then the payload. The selector's low two bits
 * pick the stored event_type (created, updated, deleted, or a type that
 * does not exist), its next two the stored schema version (1, 2, and two
 * versions the codec does not know: 3 and 0); with its high bit set the
 * rest is not a payload but an event to encode (see from_bytes()).
 *
 * Properties: decode never touches the event on failure, and refuses every
 * version it does not know; a decoded event is well-formed (its name passes
 * circle_check_name(), its capacity is in range, its description passes
 * its rule, its members fit its type), a version-1 payload has no
 * description and reads as the same event as version 2 (the upcast changes
 * nothing else), and every decoded event round-trips: encoding it succeeds,
 * decoding that text as the newest version gives the same event, and
 * encoding again gives the same text. Whatever the encoder accepts, the
 * decoder reads back.
 */
#include <string.h>

#include "fuzz.h"
#include "codec/event_json.h"

static const char *const types[] = {
	"circle_created",
	"circle_updated",
	"circle_deleted",
	"circle_renamed",
};

/* The schema versions the selector's bits 2-3 pick. */
static const unsigned long versions[] = {1, 2, 3, 0};

static bool
same_data(const struct circle_event *a, const struct circle_event *b)
{
	if (a->type != b->type || a->has_name != b->has_name ||
	    a->has_capacity != b->has_capacity || a->has_description != b->has_description)
		return false;
	if (a->has_name && strcmp(a->name, b->name) != 0)
		return false;
	if (a->has_description && strcmp(a->description, b->description) != 0)
		return false;
	return !a->has_capacity || a->capacity == b->capacity;
}

static void
check_well_formed(const struct circle_event *ev)
{
	switch (ev->type) {
	case CIRCLE_CREATED: FUZZ_CHECK(ev->has_name && ev->has_capacity); break;
	case CIRCLE_UPDATED:
		FUZZ_CHECK(ev->has_name || ev->has_capacity || ev->has_description);
		break;
	case CIRCLE_DELETED:
		FUZZ_CHECK(!ev->has_name && !ev->has_capacity && !ev->has_description);
		break;
	default: FUZZ_CHECK(!"decoded an event type that does not exist");
	}
	if (ev->has_name) {
		size_t n = strnlen(ev->name, sizeof(ev->name));

		FUZZ_CHECK(n < sizeof(ev->name));
		FUZZ_CHECK(circle_check_name(ev->name, n, NULL) == CE_OK);
	}
	if (ev->has_capacity)
		FUZZ_CHECK(circle_check_capacity(ev->capacity, NULL) == CE_OK);
	if (ev->has_description) {
		size_t n = strnlen(ev->description, sizeof(ev->description));

		FUZZ_CHECK(n < sizeof(ev->description));
		FUZZ_CHECK(circle_check_description(ev->description, n, NULL) == CE_OK);
		FUZZ_CHECK(ev->type != CIRCLE_CREATED || n > 0);
	}
}

/* Encodes ev, decodes the text, and encodes again: all must agree. */
static void
round_trip(const struct circle_event *ev)
{
	struct circle_event again;
	char *text = NULL, *text2 = NULL;
	const char *type = circle_event_type_name(ev->type);

	FUZZ_CHECK(type != NULL);
	FUZZ_CHECK(event_json_encode(ev, &text) == 0 && text != NULL);
	memset(&again, 0x5A, sizeof(again));
	FUZZ_CHECK(event_json_decode(EVENT_SCHEMA_VERSION, type, text, strlen(text), &again,
				     NULL) == CE_OK);
	FUZZ_CHECK(same_data(ev, &again));
	FUZZ_CHECK(event_json_encode(&again, &text2) == 0 && text2 != NULL);
	FUZZ_CHECK(strcmp(text, text2) == 0);
	free(text);
	free(text2);
}

static void
fuzz_decode(const char *type, unsigned long version, const uint8_t *payload, size_t len)
{
	struct circle_event ev, before, newest;
	char *copy = malloc(len > 0 ? len : 1);
	char why[EVENT_JSON_WHY_MAX];
	enum cerr rc;

	if (copy == NULL)
		return;
	/* exactly len bytes: the decoder must not need a terminator */
	memcpy(copy, payload, len);
	memset(&ev, 0xA5, sizeof(ev));
	before = ev;
	rc = event_json_decode(version, type, copy, len, &ev, why);
	if (!event_schema_known(version))
		FUZZ_CHECK(rc == CE_INTERNAL && strstr(why, "schema version") != NULL);
	if (rc != CE_OK) {
		FUZZ_CHECK(rc == CE_INTERNAL);
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL && why[0] != '\0');
		FUZZ_CHECK(memcmp(&ev, &before, sizeof(ev)) == 0);
	} else {
		if (version == 1) {
			/* the upcast adds no description and changes nothing else */
			FUZZ_CHECK(!ev.has_description);
			memset(&newest, 0xA5, sizeof(newest));
			FUZZ_CHECK(event_json_decode(2, type, copy, len, &newest, NULL) == CE_OK);
			FUZZ_CHECK(same_data(&ev, &newest));
		}
		FUZZ_CHECK(strcmp(circle_event_type_name(ev.type), type) == 0);
		check_well_formed(&ev);
		/* what is not data stays as it was */
		FUZZ_CHECK(memcmp(ev.event_id, before.event_id, sizeof(ev.event_id)) == 0);
		FUZZ_CHECK(ev.version == before.version);
		round_trip(&ev);
	}
	free(copy);
}

/*
 * Builds an event from bytes: sel the type and flags, b[0..1] capacity
 * (little-endian, signed), the rest the name; with sel's 0x20 the event has
 * a description, and the rest is one byte of the name's length, the name,
 * and the description. Encodes it, and when the encoder agrees it is
 * well-formed, requires that it round-trips.
 */
static void
from_bytes(uint8_t sel, const uint8_t *b, size_t len)
{
	struct circle_event ev;
	char *text = NULL;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.type = (enum circle_event_type)(sel & 3);
	ev.has_name = (sel & 4) != 0;
	ev.has_capacity = (sel & 8) != 0;
	if (len >= 2) {
		ev.capacity = (int16_t)(uint16_t)(b[0] | (unsigned)b[1] << 8);
		b += 2;
		len -= 2;
	}
	if (sel & 16)
		ev.capacity &= 0x7FFF;
	if (sel & 0x20) {
		size_t name_len = len >= 1 ? b[0] : 0;

		ev.has_description = true;
		if (len >= 1) {
			b++;
			len--;
		}
		if (name_len > len)
			name_len = len;
		memcpy(ev.name, b, name_len);
		b += name_len;
		len -= name_len;
		memcpy(ev.description, b,
		       len < sizeof(ev.description) ? len : sizeof(ev.description));
	} else {
		memcpy(ev.name, b, len < sizeof(ev.name) ? len : sizeof(ev.name));
	}
	rc = event_json_encode(&ev, &text);
	if (rc != 0) {
		FUZZ_CHECK(text == NULL);
		FUZZ_CHECK(event_json_data(&ev) == NULL);
		return;
	}
	free(text);
	check_well_formed(&ev);
	round_trip(&ev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		from_bytes(data[0], data + 1, size - 1);
	else
		fuzz_decode(types[data[0] & 3], versions[(data[0] >> 2) & 3], data + 1, size - 1);
	return 0;
}
