/* See feed_json.h. */
#include "codec/event_json.h"
#include "codec/feed_json.h"
#include "codec/json_member.h"

json_object *
feed_event_json_new(uint64_t position, const struct circle_event *ev)
{
	const char *type = circle_event_type_name(ev->type);
	json_object *obj;

	/* json-c writes int64; positions are kept below INT64_MAX */
	if (type == NULL || position < 1 || position > (uint64_t)INT64_MAX)
		return NULL;
	obj = json_object_new_object();
	if (obj == NULL)
		return NULL;
	if (json_member_add(obj, "position", json_object_new_int64((int64_t)position)) != 0 ||
	    json_member_add(obj, "circle_id", json_object_new_string(ev->circle_id)) != 0 ||
	    json_member_add(obj, "event_id", json_object_new_string(ev->event_id)) != 0 ||
	    json_member_add(obj, "version", json_object_new_int64(ev->version)) != 0 ||
	    json_member_add(obj, "event_type", json_object_new_string(type)) != 0 ||
	    json_member_add(obj, "occurred_at", json_object_new_string(ev->occurred_at)) != 0 ||
	    json_member_add(obj, "data", event_json_data(ev)) != 0) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}
