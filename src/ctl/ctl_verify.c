/*
 * circlectl verify: replays every circle's events and compares the result
 * with its projection row; 0 when all agree, 1 when any differs, 2 when it
 * cannot tell. It reads the [circle-query] option file group (a SELECT-only
 * user is enough) with the same CIRCLE_DB_* overrides as the workers.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "query/queries.h"

#define IDS_PAGE 500

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
			return CTL_FAILED;
		}
		for (i = 0; i < n; i++) {
			rc = verify_circle(&reader, ids[i], &agree, &events, why, sizeof(why));
			if (rc != CE_OK && rc != CE_NOT_FOUND) {
				fprintf(stderr, "circlectl: cannot read circle %s\n", ids[i]);
				return CTL_FAILED;
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
	return bad == 0 ? CTL_OK : CTL_PROBLEM;
}

int
ctl_verify(int argc, char **argv)
{
	const char *group = "circle-query";
	struct store_config cfg;
	struct store *st;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return ctl_usage(stdout, "verify");
	if (argc == 3 && strcmp(argv[1], "--group") == 0)
		group = argv[2];
	else if (argc != 1)
		return ctl_usage(stderr, "verify");
	store_config_from_env(&cfg, group);
	st = store_new(&cfg, STORE_READ);
	if (st == NULL) {
		fprintf(stderr, "circlectl: out of memory\n");
		return CTL_FAILED;
	}
	rc = verify(st);
	store_free(st);
	return rc;
}
