/*
 * The circle aggregate: its state, its events, its rules, and replay.
 * Pure C with no I/O: ids and clocks come from the caller, so every rule is a
 * unit test away. decide_*() turn a command and the current state into at most
 * one event; circle_apply() folds an event into the state.
 */
#ifndef CIRCLE_DOMAIN_CIRCLE_H
#define CIRCLE_DOMAIN_CIRCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/error.h"
#include "domain/text.h"

#define CIRCLE_ID_LEN TEXT_UUID_LEN /* canonical UUID text */
/* A commit token (Circle-Commit, Circle-Wait-For): the GTID list of a
 * write, at most this many characters from '!' to '~'. */
#define COMMIT_TOKEN_MAX 255
#define CIRCLE_NAME_MAX_CHARS 100         /* Unicode code points */
#define CIRCLE_NAME_MAX_BYTES 400         /* 100 code points of at most 4 bytes */
#define CIRCLE_DESCRIPTION_MAX_CHARS 500  /* Unicode code points */
#define CIRCLE_DESCRIPTION_MAX_BYTES 2000 /* 500 code points of at most 4 bytes */
#define CIRCLE_CAPACITY_MIN 3
#define CIRCLE_CAPACITY_MAX 32767
#define CIRCLE_TIME_LEN 27 /* 2026-11-26T08:35:48.123456Z */

struct circle {
	char id[CIRCLE_ID_LEN + 1];
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	int capacity;
	uint32_t version; /* 0: the circle has no event yet */
	bool deleted;
	char description[CIRCLE_DESCRIPTION_MAX_BYTES + 1]; /* "": it has none */
};

enum circle_event_type {
	CIRCLE_CREATED = 0, /* name and capacity both set, a description if any */
	CIRCLE_UPDATED,     /* name, capacity, description: each only if it changed */
	CIRCLE_DELETED,     /* no data */
	CIRCLE_EVENT__MAX
};

struct circle_event {
	enum circle_event_type type;
	char event_id[CIRCLE_ID_LEN + 1];
	char circle_id[CIRCLE_ID_LEN + 1];
	uint32_t version;
	char occurred_at[CIRCLE_TIME_LEN + 1];
	bool has_name;
	char name[CIRCLE_NAME_MAX_BYTES + 1];
	bool has_capacity;
	int capacity;
	/* Created: the description, never "" (no member when there is none).
	 * Updated: the new one, "" when it was removed. */
	bool has_description;
	char description[CIRCLE_DESCRIPTION_MAX_BYTES + 1];
};

/* What the caller supplies for a new event: its id and the time. */
struct event_meta {
	const char *event_id;    /* canonical lower-case UUID */
	const char *occurred_at; /* RFC 3339 UTC with microseconds */
};

/* An update as the client asked for it; members not named are false/0. */
struct circle_update {
	bool has_name;
	const char *name; /* validated, NUL-terminated */
	bool has_capacity;
	int capacity;
	bool has_description;
	const char *description; /* validated, NUL-terminated; "" removes it */
	bool has_version;
	uint64_t expected_version; /* may exceed any real version: then it mismatches */
};

/* The stable names of event types ("circle_created", …); NULL when out of range. */
const char *circle_event_type_name(enum circle_event_type t);
/* Parses a name back; returns -1 when unknown. */
int circle_event_type_parse(const char *s);

/*
 * Name rule: valid UTF-8 of 1..100 code points, no control characters
 * (U+0000-001F, U+007F-009F), no surrogates, not only White_Space.
 * Returns CE_OK or CE_INVALID_FIELD with a static detail in *detail.
 */
enum cerr circle_check_name(const char *s, size_t len, const char **detail);
/*
 * Description rule: valid UTF-8 of 0..500 code points, no control
 * characters, no surrogates; white space, even only white space, is fine.
 * Returns CE_OK or CE_INVALID_FIELD with a static detail in *detail.
 */
enum cerr circle_check_description(const char *s, size_t len, const char **detail);
/* Capacity rule: 3 <= capacity <= 32767. */
enum cerr circle_check_capacity(long long capacity, const char **detail);
/* A client's circle id (NUL-terminated) in lower case into key, or
 * CE_INVALID_CIRCLE_ID when it is not a UUID. */
enum cerr canonical_circle_id(const char *id, char key[CIRCLE_ID_LEN + 1], struct cerr_info *info);

/* Folds ev into *state. Returns CE_INTERNAL when ev cannot follow state
 * (wrong version, update before create, anything after a delete). */
enum cerr circle_apply(struct circle *state, const struct circle_event *ev);
/* Starts from an empty state and applies evs[0..n). */
enum cerr circle_replay(struct circle *state, const struct circle_event *evs, size_t n);
/* Starts from *from (a snapshot; NULL or version 0: empty) and applies
 * evs[0..n). CE_INTERNAL when the snapshot is not a state any events could
 * have produced, or an event cannot follow. */
enum cerr circle_replay_from(struct circle *state, const struct circle *from,
			     const struct circle_event *evs, size_t n);

/* The create event for a new circle; name, capacity and description (NULL
 * or "": none) must pass the rules. */
enum cerr circle_decide_create(const char *circle_id, const char *name, int capacity,
			       const char *description, const struct event_meta *meta,
			       struct circle_event *out, struct cerr_info *info);

/*
 * Decides an update against state: CE_NOT_FOUND, CE_GONE,
 * CE_PRECONDITION_REQUIRED, CE_VERSION_MISMATCH (info->current_version set),
 * or CE_OK. On CE_OK *changed tells whether *out holds an event to append;
 * when every member equals the current value there is none.
 */
enum cerr circle_decide_update(const struct circle *state, const struct circle_update *cmd,
			       const struct event_meta *meta, struct circle_event *out,
			       bool *changed, struct cerr_info *info);

/* Decides a delete: the same checks as an update, then a delete event. */
enum cerr circle_decide_delete(const struct circle *state, bool has_version,
			       uint64_t expected_version, const struct event_meta *meta,
			       struct circle_event *out, struct cerr_info *info);

#endif
