/*
 * circlectl purge-keys: deletes the Idempotency-Keys past their 24 hours of
 * retention, in batches of at most 1000 rows, each its own short
 * transaction; 0 when done, 2 when the database failed. Run it now and then
 * (circle-purge-keys.timer runs it hourly) so that no request ever waits on
 * a purge. It reads the [circle-command] option file group (the command
 * user may delete keys) with the same CIRCLE_DB_* overrides as the workers.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

/* Batches of 1000 (the statement's LIMIT); a bound on one run all the same. */
#define PURGE_BATCHES_MAX 100000

static int
purge_keys(struct store *st)
{
	unsigned long n = 0, total = 0, batches;

	for (batches = 0; batches < PURGE_BATCHES_MAX; batches++) {
		enum cerr rc = store_purge_keys(st, &n);
		if (rc != CE_OK) {
			fprintf(stderr, "circlectl: purging keys failed (database %s)\n",
				rc == CE_UNAVAILABLE ? "unavailable" : "error");
			return CTL_FAILED;
		}
		total += n;
		if (n == 0)
			break;
	}
	printf("purged %lu expired idempotency keys\n", total);
	return CTL_OK;
}

int
ctl_purge_keys(int argc, char **argv)
{
	const char *group = "circle-command";
	struct store_config cfg;
	struct store *st;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return ctl_usage(stdout, "purge-keys");
	if (argc == 3 && strcmp(argv[1], "--group") == 0)
		group = argv[2];
	else if (argc != 1)
		return ctl_usage(stderr, "purge-keys");
	store_config_from_env(&cfg, group);
	st = store_new(&cfg, STORE_WRITE);
	if (st == NULL) {
		fprintf(stderr, "circlectl: out of memory\n");
		return CTL_FAILED;
	}
	rc = purge_keys(st);
	store_free(st);
	return rc;
}
