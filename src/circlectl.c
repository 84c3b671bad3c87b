/*
 * circlectl: operator commands that are not part of the HTTP API.
 *
 *   circlectl verify    replays every circle's events and compares the
 *                       result with its projection row; exit 0 when all
 *                       agree, 1 when any differs, 2 when it cannot tell.
 *   circlectl tail      prints the change feed as NDJSON (circlectl_tail.c).
 *
 * It reads the [circle-query] option file group (a SELECT-only user is
 * enough) with the same CIRCLE_DB_* overrides as the workers.
 */
#include <stdio.h>
#include <string.h>

#include "circlectl.h"
#include "config.h"
#include "query/queries.h"
#include "store/store.h"

#define IDS_PAGE 500

static int
usage(FILE *f)
{
	fprintf(f, "usage: circlectl verify [--group GROUP]\n"
		   "       circlectl tail [--after P] [--follow] [--group GROUP]\n"
		   "  verify replays every circle's events and compares them with the projection;\n"
		   "  tail prints the change feed as NDJSON (circlectl tail --help).\n"
		   "  Connection: the option file in CIRCLE_DB_CONFIG, group circle-query by\n"
		   "  default, overridden by CIRCLE_DB_HOST, CIRCLE_DB_PORT, CIRCLE_DB_SOCKET,\n"
		   "  CIRCLE_DB_USER, CIRCLE_DB_PASSWORD, CIRCLE_DB_NAME.\n");
	return f == stdout ? 0 : 2;
}

static int
verify(struct store *st)
{
	static char ids[IDS_PAGE][CIRCLE_ID_LEN + 1];
	char after[CIRCLE_ID_LEN + 1] = "";
	char why[128];
	struct circle_reader reader;
	size_t n, i, events, total_events = 0, circles = 0, bad = 0;
	bool agree;

	store_circle_reader(st, &reader);
	do {
		enum cerr rc = store_circle_ids(st, after, IDS_PAGE, ids, &n);
		if (rc != CE_OK) {
			fprintf(stderr, "circlectl: cannot list circles (database %s)\n",
				rc == CE_UNAVAILABLE ? "unavailable" : "error");
			return 2;
		}
		for (i = 0; i < n; i++) {
			rc = verify_circle(&reader, ids[i], &agree, &events, why, sizeof(why));
			if (rc != CE_OK && rc != CE_NOT_FOUND) {
				fprintf(stderr, "circlectl: cannot read circle %s\n", ids[i]);
				return 2;
			}
			circles++;
			total_events += events;
			if (rc == CE_OK && !agree) {
				bad++;
				printf("mismatch %s: %s\n", ids[i], why);
			}
		}
		if (n > 0)
			memcpy(after, ids[n - 1], sizeof(after));
	} while (n == IDS_PAGE);
	printf("verified %zu circles, %zu events: %zu mismatches\n", circles, total_events, bad);
	return bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *group = "circle-query";
	struct store_config cfg;
	struct store *st;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return usage(stdout);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("circlectl %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "tail") == 0)
		return circlectl_tail(argc - 1, argv + 1);
	if (argc == 4 && strcmp(argv[2], "--group") == 0)
		group = argv[3];
	else if (argc != 2)
		return usage(stderr);
	if (strcmp(argv[1], "verify") != 0)
		return usage(stderr);

	store_config_from_env(&cfg, group);
	st = store_new(&cfg, STORE_READ);
	if (st == NULL) {
		fprintf(stderr, "circlectl: out of memory\n");
		return 2;
	}
	rc = verify(st);
	store_free(st);
	return rc;
}
