/*
 * One safe way to add a member to a json-c object: every writer of JSON in
 * circle builds objects from values that may be NULL (out of memory), and
 * must neither leak the value nor add a NULL by mistake.
 */
#ifndef CIRCLE_CODEC_JSON_MEMBER_H
#define CIRCLE_CODEC_JSON_MEMBER_H

#include <json-c/json.h>

/*
 * Adds key: val to obj, taking ownership of val. Returns 0, or -1 when val
 * is NULL or the add fails (val is then released).
 */
int json_member_add(json_object *obj, const char *key, json_object *val);

#endif
