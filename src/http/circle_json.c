/*
 * Resource bodies. Names go out exactly as stored: json-c escapes what JSON
 * requires and leaves every other UTF-8 byte alone.
 */
#include <string.h>

#include "codec/event_json.h"
#include "codec/json_member.h"
#include "http/circle_json.h"
#include "http/http.h"

json_object *
circle_json_new(const struct circle *c)
{
	json_object *obj = json_object_new_object();
	int name_len = (int)strnlen(c->name, sizeof(c->name));

	if (obj == NULL)
		return NULL;
	if (json_member_add(obj, "circle_id", json_object_new_string(c->id)) != 0 ||
	    json_member_add(obj, "circle_name", json_object_new_string_len(c->name, name_len)) !=
		    0 ||
	    json_member_add(obj, "capacity", json_object_new_int(c->capacity)) != 0 ||
	    json_member_add(obj, "version", json_object_new_int64(c->version)) != 0) {
		json_object_put(obj);
		return NULL;
	}
	/* no member without a description: clients written before it see no change */
	if (c->description[0] != '\0' &&
	    json_member_add(obj, "description",
			    json_object_new_string_len(
				    c->description,
				    (int)strnlen(c->description, sizeof(c->description)))) != 0) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

json_object *
circle_event_json_new(const struct circle_event *ev)
{
	const char *type = circle_event_type_name(ev->type);
	json_object *obj;

	if (type == NULL)
		return NULL;
	obj = json_object_new_object();
	if (obj == NULL)
		return NULL;
	if (json_member_add(obj, "event_id", json_object_new_string(ev->event_id)) != 0 ||
	    json_member_add(obj, "version", json_object_new_int64(ev->version)) != 0 ||
	    json_member_add(obj, "event_type", json_object_new_string(type)) != 0 ||
	    json_member_add(obj, "occurred_at", json_object_new_string(ev->occurred_at)) != 0 ||
	    json_member_add(obj, "data", event_json_data(ev)) != 0) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

void
http_response_circle(struct http_response *resp, int status, const struct circle *c)
{
	json_object *obj = circle_json_new(c);

	http_response_json(resp, status, obj);
	json_object_put(obj);
	if (resp->status == status)
		http_response_etag(resp, c->version);
}
