/*
 * circlectl: operator commands that are not part of the HTTP API, one row
 * per subcommand below (see ctl.h).
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl/ctl.h"

static const struct ctl_command ctl_commands[] = {
	{"verify", "[--group GROUP]",
	 "replay every circle's events and compare them with its projection row", ctl_verify},
	{"migrate", "[--status] [--database DB] [--dir DIR]",
	 "apply the SQL migrations not yet applied (--status: list them)", ctl_migrate},
	{"grants",
	 "[--database DB] [--command-file FILE] [--query-file FILE]\n"
	 "                 [--command-group GROUP] [--query-group GROUP] [--new-passwords]",
	 "create the workers' database users with exactly their privileges and\n"
	 "                 write each pool's credential file",
	 ctl_grants},
	{"purge-keys", "[--group GROUP]",
	 "delete the Idempotency-Keys past their 24 hours of retention, in small batches",
	 ctl_purge_keys},
	{"tail", "[--after P] [--follow] [--group GROUP]",
	 "print the change feed as NDJSON, one event per line (--follow: as they commit)",
	 ctl_tail},
	{"rebuild-projections", "[--database DB] [--group GROUP]",
	 "rebuild circle_projections from the events while the service runs, then swap\n"
	 "                 it in atomically",
	 ctl_rebuild},
	{"export", "[--after P] [--group GROUP]",
	 "print the event log as NDJSON, one event per line in position order", ctl_export},
	{"import", "[FILE] [--database DB] [--group GROUP]",
	 "load an export into an empty database and rebuild the projection", ctl_import},
	{"show", "ID [--group GROUP]", "print a circle's state and its history", ctl_show},
};
#define N_COMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

static const struct ctl_command *
find(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(ctl_commands[i].name, name) == 0)
			return &ctl_commands[i];
	return NULL;
}

static int
usage_all(FILE *f)
{
	size_t i;

	fprintf(f, "usage: circlectl COMMAND [OPTION...]\n       circlectl --help | --version\n"
		   "commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-14s %s\n", ctl_commands[i].name, ctl_commands[i].summary);
	fprintf(f, "'circlectl COMMAND --help' shows a command's options; see circlectl(8).\n");
	return f == stdout ? CTL_OK : CTL_FAILED;
}

int
ctl_usage(FILE *f, const char *name)
{
	const struct ctl_command *c = find(name);

	if (!c)
		return usage_all(f);
	fprintf(f, "usage: circlectl %s %s\n  %s\n", c->name, c->synopsis, c->summary);
	return f == stdout ? CTL_OK : CTL_FAILED;
}

int
main(int argc, char **argv)
{
	const struct ctl_command *c;

	if (argc < 2)
		return usage_all(stderr);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
		return usage_all(stdout);
	if (strcmp(argv[1], "--version") == 0) {
		printf("circlectl %s\n", PACKAGE_VERSION);
		return CTL_OK;
	}
	c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "circlectl: unknown command \"%s\"\n", argv[1]);
		return usage_all(stderr);
	}
	return c->run(argc - 1, argv + 1);
}
