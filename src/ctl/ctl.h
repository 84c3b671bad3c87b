/*
 * circlectl: operator commands beside the HTTP API. Each subcommand is one
 * row of ctl_commands (circlectl.c) and one file ctl_<name>.c; a new one is a
 * new row and a new file.
 *
 * A subcommand's run() gets argv from its own name on (argv[0] is the
 * subcommand) and returns the process's exit status: 0 done, 1 refused or
 * found a problem, 2 could not tell (bad usage, no database).
 */
#ifndef CIRCLE_CTL_CTL_H
#define CIRCLE_CTL_CTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "store/store.h"
#include "store/store_bulk.h"

#define CTL_OK 0
#define CTL_PROBLEM 1
#define CTL_FAILED 2

struct ctl_command {
	const char *name;
	const char *synopsis; /* the arguments, for usage lines */
	const char *summary;  /* one line */
	int (*run)(int argc, char **argv);
};

int ctl_verify(int argc, char **argv);
int ctl_migrate(int argc, char **argv);
int ctl_grants(int argc, char **argv);
int ctl_purge_keys(int argc, char **argv);
int ctl_tail(int argc, char **argv);
int ctl_rebuild(int argc, char **argv);
int ctl_export(int argc, char **argv);
int ctl_import(int argc, char **argv);
int ctl_show(int argc, char **argv);

/* Prints "usage: circlectl NAME SYNOPSIS" for the named subcommand to f and
 * answers CTL_FAILED (CTL_OK when f is stdout). */
int ctl_usage(FILE *f, const char *name);

/* Where an administrator's connection comes from: the option file in
 * CIRCLE_ADMIN_CONFIG (else the MariaDB client's own files), group
 * [circlectl] besides [client]; unset user: the Unix user (unix_socket
 * authentication, as root on Debian). */
void ctl_admin_config(struct store_config *cfg);
/* The database to administer: CIRCLE_DB_NAME, else "circle". */
const char *ctl_database(void);

/* An administrator's bulk connection (ctl_admin_config, its option group
 * `group` when not NULL) to `database`, else ctl_database(); NULL when out of
 * memory, said on stderr. */
struct store_bulk *ctl_admin_bulk(const char *database, const char *group);

/* Set by SIGINT and SIGTERM once ctl_catch_signals() ran with stop. */
extern volatile sig_atomic_t ctl_stopping;

/* SIGINT and SIGTERM set ctl_stopping (stop), SIGPIPE is ignored
 * (ignore_pipe, so a closed pipe is a write error). No SA_RESTART: a pause
 * ends on a signal. 0, or -1. */
int ctl_catch_signals(bool stop, bool ignore_pipe);

#endif
