/*
 * Event payloads to and from JSON: the text stored in circle_events.payload
 * and the "data" member of a history entry. No I/O; json-c only.
 *
 *   circle_created  {"type":"circle_created","name":S,"capacity":N}
 *   circle_updated  {"type":"circle_updated","name"?:S,"capacity"?:N}
 *                   (only the members that changed, at least one)
 *   circle_deleted  {"type":"circle_deleted"}
 *
 * The decoder reads what storage hands back and is fuzzed: it accepts exactly
 * the shapes above and refuses everything else with an error, never a crash.
 */
#ifndef CIRCLE_CODEC_EVENT_JSON_H
#define CIRCLE_CODEC_EVENT_JSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "domain/circle.h"

/* Payloads longer than this are refused by the decoder (a real one is < 2 KiB). */
#define EVENT_JSON_MAX_LEN 65536

/*
 * The data of ev as a new json-c object the caller releases with
 * json_object_put(); NULL when ev is not a well-formed event (a create
 * without name or capacity, an update without either, a delete with data,
 * a name or capacity that breaks the field rules) or memory runs out.
 */
json_object *event_json_data(const struct circle_event *ev);

/*
 * The payload text of ev: on 0, *out is a new NUL-terminated string the
 * caller frees with free(). On -1 (ev not well-formed, out of memory) *out
 * is NULL.
 */
int event_json_encode(const struct circle_event *ev, char **out);

/*
 * Parses payload[0..len) (need not be NUL-terminated) stored with
 * event_type and fills ev->type, has_name/name and has_capacity/capacity;
 * other members of ev are left alone, and on failure ev is not touched.
 * Returns CE_OK, or CE_INTERNAL when the payload is not valid JSON, has
 * another shape than above, a type tag other than event_type, or a name or
 * capacity that breaks the field rules.
 */
enum cerr event_json_decode(const char *event_type, const char *payload, size_t len,
			    struct circle_event *ev);

#endif
