/*
 * Process-level plumbing shared by circle-command.fcgi and circle-query.fcgi.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "http/fcgi.h"
#include "worker.h"

static void
usage(FILE *f, const char *prog, const char *what)
{
	fprintf(f,
		"usage: %s [--help | --version]\n"
		"\n"
		"The %s worker of circle, a FastCGI application: it serves\n"
		"requests on the listening socket passed as file descriptor 0\n"
		"(e.g. by spawn-fcgi) until SIGTERM, SIGINT or SIGQUIT.\n"
		"\n"
		"Database settings come from the environment:\n"
		"  CIRCLE_DB_CONFIG    MariaDB option file to read\n"
		"  CIRCLE_DB_HOST      server host\n"
		"  CIRCLE_DB_PORT      server TCP port\n"
		"  CIRCLE_DB_SOCKET    server unix socket\n"
		"  CIRCLE_DB_USER      user name\n"
		"  CIRCLE_DB_PASSWORD  password\n"
		"  CIRCLE_DB_NAME      database name\n"
		"The query worker also reads:\n"
		"  CIRCLE_WAIT_TIMEOUT_MS  the longest a read waits for the write named\n"
		"                      in Circle-Wait-For (5000, at most 9000)\n",
		prog, what);
}

int
worker_options(int argc, char **argv, const char *prog, const char *what)
{
	if (argc <= 1)
		return -1;
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", prog, PACKAGE_VERSION);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout, prog, what);
		return 0;
	}
	usage(stderr, prog, what);
	return 2;
}

static void
on_stop(int sig)
{
	(void)sig;
	fcgi_stop();
}

int
worker_run(const struct http_app *app)
{
	struct sigaction sa;
	sigset_t hold;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		goto fail;
	/* no SA_RESTART: a blocked accept() must return so the loop can stop.
	 * SIGQUIT too: Debian 12's multiwatch sends it to its children when told
	 * to stop, whatever its --signal says, and a worker must finish the
	 * request in hand then, not dump core. */
	sa.sa_handler = on_stop;
	sa.sa_flags = 0;
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGQUIT, &sa, NULL) != 0)
		goto fail;
	/* A feed page or a long history takes megabytes for one request. With
	 * a fixed threshold such blocks always get mappings of their own, given
	 * back when freed; glibc's moving one would, after the first was
	 * freed, serve them from the heap and keep them resident for good.
	 * (A sanitizer's allocator ignores it.) */
	(void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	sigemptyset(&hold);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGQUIT);
	return fcgi_run(app, &hold) == 0 ? 0 : 1;
fail:
	perror("circle: sigaction");
	return 1;
}
