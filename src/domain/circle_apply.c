/*
 * Event names and the fold of events into a circle's state. Events come back
 * from storage, so circle_apply() refuses any that cannot follow the state
 * instead of building a circle that never existed.
 */
#include <string.h>

#include "domain/circle.h"

static const char *const event_type_names[CIRCLE_EVENT__MAX] = {
	[CIRCLE_CREATED] = "circle_created",
	[CIRCLE_UPDATED] = "circle_updated",
	[CIRCLE_DELETED] = "circle_deleted",
};

const char *
circle_event_type_name(enum circle_event_type t)
{
	if ((unsigned)t >= CIRCLE_EVENT__MAX)
		return NULL;
	return event_type_names[t];
}

int
circle_event_type_parse(const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < CIRCLE_EVENT__MAX; i++)
		if (strcmp(s, event_type_names[i]) == 0)
			return i;
	return -1;
}

/* An event's name field must be a terminated string that passes the rule. */
static bool
event_name_ok(const struct circle_event *ev)
{
	size_t len = strnlen(ev->name, sizeof ev->name);

	return len < sizeof ev->name && circle_check_name(ev->name, len, NULL) == CE_OK;
}

/* An event's description: terminated and within the rule; a create's is
 * never "" (it has no member then). */
static bool
event_description_ok(const struct circle_event *ev)
{
	size_t len = strnlen(ev->description, sizeof ev->description);

	if (len == sizeof ev->description || (ev->type == CIRCLE_CREATED && len == 0))
		return false;
	return circle_check_description(ev->description, len, NULL) == CE_OK;
}

/*
 * An empty circle_id in an event means "not told" (the caller knows the id);
 * one that is given must be a UUID, and the one the state already has.
 */
static bool
event_id_fits(const struct circle *state, const struct circle_event *ev, char *norm)
{
	size_t len = strnlen(ev->circle_id, sizeof ev->circle_id);

	norm[0] = '\0';
	if (len == 0)
		return true;
	if (!text_uuid_lower(ev->circle_id, len, norm))
		return false;
	return state->id[0] == '\0' || strcmp(state->id, norm) == 0;
}

enum cerr
circle_apply(struct circle *state, const struct circle_event *ev)
{
	struct circle next;
	char id[CIRCLE_ID_LEN + 1];

	if (state == NULL || ev == NULL)
		return CE_INTERNAL;
	if (state->deleted || state->version == UINT32_MAX || ev->version != state->version + 1)
		return CE_INTERNAL;
	if (!event_id_fits(state, ev, id))
		return CE_INTERNAL;

	/* work on a copy so a refused event leaves *state as it was */
	next = *state;
	switch (ev->type) {
	case CIRCLE_CREATED:
		if (state->version != 0 || !ev->has_name || !ev->has_capacity)
			return CE_INTERNAL;
		memset(&next, 0, sizeof next);
		memcpy(next.id, id, sizeof next.id);
		break;
	case CIRCLE_UPDATED:
		if (state->version == 0 ||
		    (!ev->has_name && !ev->has_capacity && !ev->has_description))
			return CE_INTERNAL;
		break;
	case CIRCLE_DELETED:
		if (state->version == 0 || ev->has_name || ev->has_capacity || ev->has_description)
			return CE_INTERNAL;
		next.deleted = true;
		break;
	default: return CE_INTERNAL;
	}
	if (ev->has_name) {
		if (!event_name_ok(ev))
			return CE_INTERNAL;
		memcpy(next.name, ev->name, sizeof next.name);
	}
	if (ev->has_capacity) {
		if (circle_check_capacity(ev->capacity, NULL) != CE_OK)
			return CE_INTERNAL;
		next.capacity = ev->capacity;
	}
	if (ev->has_description) {
		if (!event_description_ok(ev))
			return CE_INTERNAL;
		memcpy(next.description, ev->description, sizeof next.description);
	}
	next.version = ev->version;
	*state = next;
	return CE_OK;
}

enum cerr
circle_replay(struct circle *state, const struct circle_event *evs, size_t n)
{
	return circle_replay_from(state, NULL, evs, n);
}

/* A snapshot is trusted only as far as the rules go: a corrupt one must not
 * let a command decide from an impossible state. */
static bool
snapshot_valid(const struct circle *s)
{
	return text_uuid_valid(s->id, strnlen(s->id, sizeof s->id)) &&
	       circle_check_name(s->name, strnlen(s->name, sizeof s->name), NULL) == CE_OK &&
	       circle_check_capacity(s->capacity, NULL) == CE_OK &&
	       strnlen(s->description, sizeof s->description) < sizeof s->description &&
	       circle_check_description(s->description, strlen(s->description), NULL) == CE_OK;
}

enum cerr
circle_replay_from(struct circle *state, const struct circle *from, const struct circle_event *evs,
		   size_t n)
{
	size_t i;

	if (state == NULL || (evs == NULL && n > 0))
		return CE_INTERNAL;
	memset(state, 0, sizeof *state);
	if (from != NULL && from->version > 0) {
		if (!snapshot_valid(from))
			return CE_INTERNAL;
		*state = *from;
	}
	for (i = 0; i < n; i++) {
		enum cerr rc = circle_apply(state, &evs[i]);

		if (rc != CE_OK)
			return rc;
	}
	return CE_OK;
}
