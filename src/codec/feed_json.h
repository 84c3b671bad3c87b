/*
 * An event of the change feed as JSON, the shape GET /events answers and
 * circlectl tail prints: the history entry of the event with its feed
 * position and its circle's id in front.
 *
 *   {"position":P,"circle_id":ID,"event_id":ID,"version":V,
 *    "event_type":T,"occurred_at":TIME,"data":{...}}
 */
#ifndef CIRCLE_CODEC_FEED_JSON_H
#define CIRCLE_CODEC_FEED_JSON_H

#include <stdint.h>

#include <json-c/json.h>

#include "domain/circle.h"

/* A new object the caller releases with json_object_put(); NULL when ev is
 * not a well-formed event or memory runs out. */
json_object *feed_event_json_new(uint64_t position, const struct circle_event *ev);

#endif
