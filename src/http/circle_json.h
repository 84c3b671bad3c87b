/*
 * Circles and history entries as json-c objects, in the shapes API.md gives.
 * Each function returns a new object the caller releases with
 * json_object_put(), or NULL when memory runs out.
 */
#ifndef CIRCLE_HTTP_CIRCLE_JSON_H
#define CIRCLE_HTTP_CIRCLE_JSON_H

#include <json-c/json.h>

#include "domain/circle.h"

/* {"circle_id","circle_name","capacity","version","description"?}: the
 * description only when the circle has one */
json_object *circle_json_new(const struct circle *c);

/* {"event_id","version","event_type","occurred_at","data"} */
json_object *circle_event_json_new(const struct circle_event *ev);

struct http_response;
struct json_out;

/* Appends c as the text json-c writes of circle_json_new(c). */
void circle_json_write(struct json_out *o, const struct circle *c);

/* Makes resp a status response with c as body and ETag "<version>". */
void http_response_circle(struct http_response *resp, int status, const struct circle *c);

#endif
