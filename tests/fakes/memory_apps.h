/*
 * The two workers' apps as the binaries wire them, each with only its own
 * side's handlers and port, both served from one struct memory_ports: for
 * the handler tests and the dispatch fuzzer.
 */
#ifndef CIRCLE_TESTS_FAKES_MEMORY_APPS_H
#define CIRCLE_TESTS_FAKES_MEMORY_APPS_H

#include <string.h>

#include "http/handlers.h"
#include "memory_ports.h"

static inline void
memory_apps_init(struct memory_ports *m, struct http_app *command, struct http_app *query)
{
	memset(command, 0, sizeof(*command));
	command->side = SIDE_WRITE;
	command->commands = &m->ctx;
	command->handlers = command_handlers;
	memset(query, 0, sizeof(*query));
	query->side = SIDE_READ;
	query->reader = &m->reader;
	query->handlers = query_handlers;
}

#endif
