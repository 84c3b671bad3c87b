/*
 * Event payloads to and from JSON: the text stored in circle_events.payload
 * and the "data" member of a history entry. No I/O; json-c only.
 *
 * Payloads are written once and never changed, so the shape of every version
 * of the schema stays readable; circle_events.schema_version says which one a
 * payload has. Version 2, the one written now:
 *
 *   circle_created  {"type":"circle_created","name":S,"capacity":N,
 *                    "description"?:S}  (only when it has one, never "")
 *   circle_updated  {"type":"circle_updated","name"?:S,"capacity"?:N,
 *                    "description"?:S}
 *                   (only the members that changed, at least one; a removed
 *                   description is "")
 *   circle_deleted  {"type":"circle_deleted"}
 *
 * Version 1 is the same without "description". The decoder reads every known
 * version and upcasts it to the newest shape, here and nowhere else, so the
 * domain only ever sees one shape.
 *
 * The decoder reads what storage hands back and is fuzzed: it accepts exactly
 * the shapes above and refuses everything else with an error, never a crash.
 */
#ifndef CIRCLE_CODEC_EVENT_JSON_H
#define CIRCLE_CODEC_EVENT_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "domain/circle.h"

/* Payloads longer than this are refused by the decoder (a real one is < 16 KiB). */
#define EVENT_JSON_MAX_LEN 65536

/* The newest schema version: the shape event_json_encode() writes, stored in
 * circle_events.schema_version beside each payload it wrote. */
#define EVENT_SCHEMA_VERSION 2

/* Room for what event_json_decode() says about a payload it refused. */
#define EVENT_JSON_WHY_MAX 160

/*
 * The data of ev as a new json-c object the caller releases with
 * json_object_put(); NULL when ev is not a well-formed event (a create
 * without name or capacity, an update without any member, a delete with
 * data, a member that breaks its field rule, a create with the description
 * "") or memory runs out. Always the newest version's shape.
 */
json_object *event_json_data(const struct circle_event *ev);

/*
 * Adds ev as the API shows an event (event_id, version, event_type,
 * occurred_at, data) to obj, after the members it holds: 0, or -1 when ev
 * is not well-formed or memory runs out (obj then holds part of them; the
 * caller releases it).
 */
int event_json_add_members(json_object *obj, const struct circle_event *ev);

/*
 * The payload text of ev, in the shape of EVENT_SCHEMA_VERSION: on 0, *out is a new NUL-terminated string the
 * caller frees with free(). On -1 (ev not well-formed, out of memory) *out
 * is NULL.
 */
int event_json_encode(const struct circle_event *ev, char **out);

/* Whether this build reads payloads of schema version v. */
bool event_schema_known(unsigned long v);

/*
 * Parses payload[0..len) (need not be NUL-terminated) stored with
 * event_type and schema_version, upcasts it to the newest shape, and fills
 * ev->type and its data members (has_name/name, has_capacity/capacity,
 * has_description/description); other members of ev are left alone, and on
 * failure ev is not touched. Returns CE_OK, or CE_INTERNAL when the version
 * is one this build does not know, the payload is not valid JSON, has
 * another shape than that version's, a type tag other than event_type, or a
 * member that breaks its field rule. On CE_INTERNAL, why (when not NULL)
 * receives a NUL-terminated sentence saying which, naming an unknown version.
 */
enum cerr event_json_decode(unsigned long schema_version, const char *event_type,
			    const char *payload, size_t len, struct circle_event *ev,
			    char why[EVENT_JSON_WHY_MAX]);

#endif
