/*
 * Building events in tests: one struct circle_event with the members a test
 * names (name NULL and capacity 0 mean "not in the event"); ids and times
 * are left empty for the test to fill when it cares.
 */
#ifndef CIRCLE_TESTS_TEST_EVENT_H
#define CIRCLE_TESTS_TEST_EVENT_H

#include <stdio.h>
#include <string.h>

#include "domain/circle.h"

static inline struct circle_event
test_event(enum circle_event_type type, const char *circle_id, uint32_t version, const char *name,
	   int capacity)
{
	struct circle_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = type;
	snprintf(ev.circle_id, sizeof ev.circle_id, "%s", circle_id);
	ev.version = version;
	if (name != NULL) {
		ev.has_name = true;
		snprintf(ev.name, sizeof ev.name, "%s", name);
	}
	if (capacity != 0) {
		ev.has_capacity = true;
		ev.capacity = capacity;
	}
	return ev;
}

#endif
