/*
 * What the administrator's subcommands (migrate, grants) share: how they
 * connect. Never through a worker's option file: the workers' users may not
 * change the schema or the grants, by design.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return (v && *v) ? v : NULL;
}

void
ctl_admin_config(struct store_config *cfg)
{
	const struct passwd *pw;

	memset(cfg, 0, sizeof(*cfg));
	cfg->option_file = env("CIRCLE_ADMIN_CONFIG");
	cfg->group = "circlectl";
	cfg->socket = env("CIRCLE_DB_SOCKET");
	/* With no user in an option file, Connector/C would send an empty
	 * one; the mariadb client sends the login name, and so do we. A user
	 * in the option file still wins: it is read at connect time only for
	 * what is not given here, so give nothing when the file says. */
	if (!cfg->option_file) {
		pw = getpwuid(geteuid());
		cfg->user = pw ? pw->pw_name : NULL;
	}
}

const char *
ctl_database(void)
{
	const char *db = env("CIRCLE_DB_NAME");

	return db ? db : "circle";
}

struct store_bulk *
ctl_admin_bulk(const char *database, const char *group)
{
	struct store_config cfg;
	struct store_bulk *b;

	ctl_admin_config(&cfg);
	if (group)
		cfg.group = group;
	b = store_bulk_open(&cfg, database ? database : ctl_database());
	if (!b)
		fprintf(stderr, "circlectl: out of memory\n");
	return b;
}

volatile sig_atomic_t ctl_stopping;

static void
on_stop(int sig)
{
	(void)sig;
	ctl_stopping = 1;
}

int
ctl_catch_signals(bool stop, bool ignore_pipe)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	if (ignore_pipe && sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = on_stop;
	if (stop && (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0))
		return -1;
	return 0;
}
