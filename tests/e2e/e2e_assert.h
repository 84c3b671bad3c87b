/*
 * Assertions shared by the end-to-end tests (cmocka). Each one fails the
 * running test, showing what came back, instead of returning an error.
 */
#ifndef CIRCLE_TESTS_E2E_ASSERT_H
#define CIRCLE_TESTS_E2E_ASSERT_H

#include <stdint.h>

#include <json-c/json.h>

#include "http_client.h"

/* The body parsed as JSON; the caller puts it. */
json_object *body_json(const struct http_response *r);

/* Member key of o, which must exist. */
json_object *member(json_object *o, const char *key);

/* Member key of o, which must be a string / an integer. */
const char *jstr(json_object *o, const char *key);
int64_t jint(json_object *o, const char *key);

void assert_status(const struct http_response *r, int status);

/* Content-Type is type, with or without parameters. */
void assert_content_type(const struct http_response *r, const char *type);

/* A problem+json answer with this status and code; the caller puts the
 * result. */
json_object *assert_problem(const struct http_response *r, int status, const char *code);

/* The same, and its extra member key (field, parameter, header) is value. */
void assert_problem_member(const struct http_response *r, int status, const char *code,
			   const char *key, const char *value);

/* The same, without keeping the body. */
void expect_problem(const struct http_response *r, int status, const char *code);

/* A monotonic clock in seconds. */
double now_seconds(void);

#endif
