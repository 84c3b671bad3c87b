/* See feed_json.h. */
#include "codec/event_json.h"
#include "codec/feed_json.h"
#include "codec/json_member.h"

json_object *
feed_event_json_new(uint64_t position, const struct circle_event *ev)
{
	json_object *obj;

	/* json-c writes int64; positions are kept below INT64_MAX */
	if (position < 1 || position > (uint64_t)INT64_MAX)
		return NULL;
	obj = json_object_new_object();
	if (obj == NULL)
		return NULL;
	if (json_member_add(obj, "position", json_object_new_int64((int64_t)position)) != 0 ||
	    json_member_add(obj, "circle_id", json_object_new_string(ev->circle_id)) != 0 ||
	    event_json_add_members(obj, ev) != 0) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}
