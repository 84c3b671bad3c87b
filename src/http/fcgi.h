/*
 * The FastCGI loop: accept one request at a time on the listening socket the
 * spawner passed as fd 0, turn it into a struct http_request, dispatch it,
 * write the response, free everything the request used, repeat.
 */
#ifndef CIRCLE_HTTP_FCGI_H
#define CIRCLE_HTTP_FCGI_H

#include <signal.h>

#include "http/http.h"

/*
 * Serves requests until fcgi_stop() is called, finishing the request in
 * hand first. The signals in `hold` are blocked while a request is served
 * (so no read or database call is cut short) and delivered between requests.
 * Returns 0 after a stop, -1 when the listening socket fails.
 */
int fcgi_run(const struct http_app *app, const sigset_t *hold);

/* Async-signal-safe: asks fcgi_run() to return after the current request. */
void fcgi_stop(void);

#endif
