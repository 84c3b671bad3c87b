/*
 * The route handlers of both sides. Each worker registers only its own
 * side's handlers into its struct http_app, so the query binary never links
 * a command use case and the command binary never links a query one.
 */
#ifndef CIRCLE_HTTP_HANDLERS_H
#define CIRCLE_HTTP_HANDLERS_H

#include "http/http.h"

/* handlers_query.c: GET/HEAD routes; app->reader must be set. */
void handlers_query_register(struct http_app *app);

/* handlers_command.c: POST, PUT, PATCH, DELETE; app->commands must be set. */
void handlers_command_register(struct http_app *app);

#endif
