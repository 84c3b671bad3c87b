/*
 * Where a worker's database is: read from the environment (CIRCLE_DB_*), on
 * top of a MariaDB option file. The strings put into a store_config point
 * into the environment or at static text; store_new() copies them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/text.h"
#include "store/store.h"

/* Used when CIRCLE_DB_CONFIG is not set, and only if it exists. */
#define DEFAULT_OPTION_FILE "/etc/circle/circle.cnf"

/* An unset or empty variable both mean "let the option file decide". */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return (v && *v) ? v : NULL;
}

static unsigned
env_port(void)
{
	const char *v = env("CIRCLE_DB_PORT");
	uint64_t p;

	if (!v)
		return 0;
	if (text_decimal(v, strlen(v), UINT64_MAX, &p) != 0 || p == 0 || p > 65535) {
		fprintf(stderr, "store: ignoring CIRCLE_DB_PORT: not a port number\n");
		return 0;
	}
	return (unsigned)p;
}

void
store_config_from_env(struct store_config *cfg, const char *group)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->group = group;
	cfg->option_file = env("CIRCLE_DB_CONFIG");
	if (!cfg->option_file && access(DEFAULT_OPTION_FILE, F_OK) == 0)
		cfg->option_file = DEFAULT_OPTION_FILE;
	cfg->host = env("CIRCLE_DB_HOST");
	cfg->port = env_port();
	cfg->socket = env("CIRCLE_DB_SOCKET");
	cfg->user = env("CIRCLE_DB_USER");
	cfg->password = env("CIRCLE_DB_PASSWORD");
	cfg->database = env("CIRCLE_DB_NAME");
}
