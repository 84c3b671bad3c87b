/*
 * Resource bodies. Names go out exactly as stored: json-c and json_out.h
 * escape what JSON requires and leave every other UTF-8 byte alone. A
 * circle, the body answered most, is written straight into the body buffer
 * by circle_json_write(), with the same text as circle_json_new() makes.
 */
#include <string.h>

#include "codec/event_json.h"
#include "codec/json_member.h"
#include "http/circle_json.h"
#include "http/http.h"
#include "http/json_out.h"

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
	json_object *obj = json_object_new_object();

	if (obj != NULL && event_json_add_members(obj, ev) != 0) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

/* Every member's name and the punctuation: with the values at their
 * longest, the most a circle's text can take. */
#define CIRCLE_JSON_FRAME \
	"{\"circle_id\":,\"circle_name\":,\"capacity\":,\"version\":,\"description\":}"

void
circle_json_write(struct json_out *o, const struct circle *c)
{
	size_t id_len = strnlen(c->id, sizeof(c->id));
	size_t name_len = strnlen(c->name, sizeof(c->name));
	size_t description_len = strnlen(c->description, sizeof(c->description));
	/* one reservation for the whole circle: it is written for every row
	 * of a page */
	char *d =
		json_out_room(o, sizeof(CIRCLE_JSON_FRAME) - 1 + JSON_PUT_STR_MAX(id_len) +
					 JSON_PUT_STR_MAX(name_len) +
					 JSON_PUT_STR_MAX(description_len) + 2 * JSON_OUT_INT_MAX);

	if (d == NULL)
		return;
	d = json_put_lit(d, "{\"circle_id\":");
	d = json_put_str(d, c->id, id_len);
	d = json_put_lit(d, ",\"circle_name\":");
	d = json_put_str(d, c->name, name_len);
	d = json_put_lit(d, ",\"capacity\":");
	d = json_put_int(d, c->capacity);
	d = json_put_lit(d, ",\"version\":");
	d = json_put_int(d, c->version);
	/* as circle_json_new(): no member without a description */
	if (description_len > 0) {
		d = json_put_lit(d, ",\"description\":");
		d = json_put_str(d, c->description, description_len);
	}
	d = json_put_lit(d, "}");
	json_out_end(o, d);
}

void
http_response_circle(struct http_response *resp, int status, const struct circle *c)
{
	struct json_out o;

	json_out_init(&o);
	circle_json_write(&o, c);
	http_response_json_out(resp, status, &o);
	if (resp->status == status)
		http_response_etag(resp, c->version);
}
