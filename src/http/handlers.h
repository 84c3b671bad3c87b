/*
 * The handler tables of both sides, indexed by enum http_route and filled
 * from the one route list (route.h): each names only its own side's
 * handlers, so the query binary never links a command use case and the
 * command binary never links a query one.
 */
#ifndef CIRCLE_HTTP_HANDLERS_H
#define CIRCLE_HTTP_HANDLERS_H

#include "http/route.h"

/* handlers_query.c: GET/HEAD routes; the app's reader must be set. */
extern const http_handler query_handlers[ROUTE__MAX];

/* handlers_command.c: POST, PUT, PATCH, DELETE; the app's commands must be set. */
extern const http_handler command_handlers[ROUTE__MAX];

#endif
