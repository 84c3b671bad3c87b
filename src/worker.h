/*
 * What the two worker mains share: the command line (--version, --help),
 * the signal set-up, and running the FastCGI loop. Each main only wires its
 * own side: the store, the port, the use-case context and its handlers.
 */
#ifndef CIRCLE_WORKER_H
#define CIRCLE_WORKER_H

#include "http/http.h"

/*
 * Handles the command line of program `prog` that serves `what`.
 * Returns -1 when the worker should start, otherwise the exit status
 * (0 after --version or --help, 2 after a usage error).
 */
int worker_options(int argc, char **argv, const char *prog, const char *what);

/*
 * Ignores SIGPIPE, makes SIGTERM and SIGINT finish the request in hand and
 * stop, then serves app until then. Returns the process exit status.
 */
int worker_run(const struct http_app *app);

#endif
