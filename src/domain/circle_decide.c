/*
 * Decisions: a command and the current state in, at most one event out.
 * The order of the checks is the contract's (API.md), so the first failing
 * rule is the one the client hears about.
 */
#include <string.h>

#include "domain/circle.h"

/*
 * Starts *ev afresh: its type, its circle (an id already in lower case), its
 * version, and the caller's event id and time, refusing ones that do not fit.
 */
static enum cerr
new_event(struct circle_event *ev, enum circle_event_type type, const char *circle_id,
	  uint32_t version, const struct event_meta *meta, struct cerr_info *info)
{
	size_t id_len, time_len;

	if (meta == NULL || meta->event_id == NULL || meta->occurred_at == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "event id or time missing");
	id_len = strnlen(meta->event_id, CIRCLE_ID_LEN + 1);
	time_len = strnlen(meta->occurred_at, CIRCLE_TIME_LEN + 1);
	memset(ev, 0, sizeof *ev);
	if (!text_uuid_lower(meta->event_id, id_len, ev->event_id) || time_len == 0 ||
	    time_len > CIRCLE_TIME_LEN)
		return cerr_set(info, CE_INTERNAL, NULL, "malformed event id or time");
	ev->type = type;
	memcpy(ev->circle_id, circle_id, sizeof ev->circle_id);
	ev->version = version;
	memcpy(ev->occurred_at, meta->occurred_at, time_len);
	ev->occurred_at[time_len] = '\0';
	return CE_OK;
}

static enum cerr
check_name(const char *name, struct cerr_info *info)
{
	const char *why = "circle_name is missing";

	if (name == NULL || circle_check_name(name, strlen(name), &why) != CE_OK)
		return cerr_set(info, CE_INVALID_FIELD, "circle_name", why);
	return CE_OK;
}

static enum cerr
check_description(const char *description, struct cerr_info *info)
{
	const char *why = "description is missing";

	if (description == NULL ||
	    circle_check_description(description,
				     strnlen(description, CIRCLE_DESCRIPTION_MAX_BYTES + 1),
				     &why) != CE_OK)
		return cerr_set(info, CE_INVALID_FIELD, "description", why);
	return CE_OK;
}

static enum cerr
check_capacity(int capacity, struct cerr_info *info)
{
	const char *why = NULL;

	if (circle_check_capacity(capacity, &why) != CE_OK)
		return cerr_set(info, CE_INVALID_FIELD, "capacity", why);
	return CE_OK;
}

/* Existence, a version given, the version matching: shared by update and delete. */
static enum cerr
check_target(const struct circle *state, bool has_version, uint64_t expected,
	     struct cerr_info *info)
{
	if (state->version == 0)
		return cerr_set(info, CE_NOT_FOUND, NULL, "no circle has this id");
	if (state->deleted)
		return cerr_set(info, CE_GONE, NULL, "the circle was deleted");
	if (!has_version)
		return cerr_set(info, CE_PRECONDITION_REQUIRED, "version",
				"give the expected version in If-Match or as version");
	if (expected != state->version) {
		cerr_set(info, CE_VERSION_MISMATCH, "version", "the circle is at another version");
		if (info != NULL)
			info->current_version = state->version;
		return CE_VERSION_MISMATCH;
	}
	if (state->version == UINT32_MAX)
		return cerr_set(info, CE_INTERNAL, NULL, "the circle has no next version");
	return CE_OK;
}

enum cerr
circle_decide_create(const char *circle_id, const char *name, int capacity, const char *description,
		     const struct event_meta *meta, struct circle_event *out,
		     struct cerr_info *info)
{
	char id[CIRCLE_ID_LEN + 1];
	struct circle_event ev;
	enum cerr rc;

	if (out == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "no room for the event");
	if ((rc = check_name(name, info)) != CE_OK)
		return rc;
	if ((rc = check_capacity(capacity, info)) != CE_OK)
		return rc;
	if (description != NULL && (rc = check_description(description, info)) != CE_OK)
		return rc;
	if (circle_id == NULL ||
	    !text_uuid_lower(circle_id, strnlen(circle_id, CIRCLE_ID_LEN + 1), id))
		return cerr_set(info, CE_INTERNAL, NULL, "malformed new circle id");
	if ((rc = new_event(&ev, CIRCLE_CREATED, id, 1, meta, info)) != CE_OK)
		return rc;
	ev.has_name = true;
	memcpy(ev.name, name, strlen(name) + 1);
	ev.has_capacity = true;
	ev.capacity = capacity;
	/* "" is no description, and a create without one has no member */
	if (description != NULL && description[0] != '\0') {
		ev.has_description = true;
		memcpy(ev.description, description, strlen(description) + 1);
	}
	*out = ev;
	return cerr_set(info, CE_OK, NULL, NULL);
}

enum cerr
circle_decide_update(const struct circle *state, const struct circle_update *cmd,
		     const struct event_meta *meta, struct circle_event *out, bool *changed,
		     struct cerr_info *info)
{
	struct circle_event ev;
	bool new_name, new_capacity, new_description;
	enum cerr rc;

	if (state == NULL || cmd == NULL || out == NULL || changed == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	*changed = false;
	/* body checks come before the circle's existence in the contract */
	if (!cmd->has_name && !cmd->has_capacity && !cmd->has_description)
		return cerr_set(info, CE_NOTHING_TO_UPDATE, NULL,
				"name circle_name, capacity or description to update");
	if (cmd->has_name && (rc = check_name(cmd->name, info)) != CE_OK)
		return rc;
	if (cmd->has_capacity && (rc = check_capacity(cmd->capacity, info)) != CE_OK)
		return rc;
	if (cmd->has_description && (rc = check_description(cmd->description, info)) != CE_OK)
		return rc;
	if ((rc = check_target(state, cmd->has_version, cmd->expected_version, info)) != CE_OK)
		return rc;

	/* byte for byte: the name is stored exactly as sent */
	new_name = cmd->has_name && strcmp(cmd->name, state->name) != 0;
	new_capacity = cmd->has_capacity && cmd->capacity != state->capacity;
	new_description = cmd->has_description && strcmp(cmd->description, state->description) != 0;
	if (!new_name && !new_capacity && !new_description)
		return cerr_set(info, CE_OK, NULL, NULL);

	rc = new_event(&ev, CIRCLE_UPDATED, state->id, state->version + 1, meta, info);
	if (rc != CE_OK)
		return rc;
	if (new_name) {
		ev.has_name = true;
		memcpy(ev.name, cmd->name, strlen(cmd->name) + 1);
	}
	if (new_capacity) {
		ev.has_capacity = true;
		ev.capacity = cmd->capacity;
	}
	if (new_description) {
		ev.has_description = true;
		memcpy(ev.description, cmd->description, strlen(cmd->description) + 1);
	}
	*out = ev;
	*changed = true;
	return cerr_set(info, CE_OK, NULL, NULL);
}

enum cerr
circle_decide_delete(const struct circle *state, bool has_version, uint64_t expected_version,
		     const struct event_meta *meta, struct circle_event *out,
		     struct cerr_info *info)
{
	struct circle_event ev;
	enum cerr rc;

	if (state == NULL || out == NULL)
		return cerr_set(info, CE_INTERNAL, NULL, "missing argument");
	if ((rc = check_target(state, has_version, expected_version, info)) != CE_OK)
		return rc;

	rc = new_event(&ev, CIRCLE_DELETED, state->id, state->version + 1, meta, info);
	if (rc != CE_OK)
		return rc;
	*out = ev;
	return cerr_set(info, CE_OK, NULL, NULL);
}
