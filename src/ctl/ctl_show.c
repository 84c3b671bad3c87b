/*
 * circlectl show ID: one circle for an operator at a terminal: its
 * projection row (what readers get, its description when it has one) and
 * its whole history, one event a line with what it changed, read a page
 * at a time as the query user (CIRCLE_DB_CONFIG, [circle-query]). 0 shown,
 * 1 no such circle, 2 could not tell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "query/queries.h"

static int
usage(FILE *f)
{
	return ctl_usage(f, "show");
}

/* What an event changed, as "name "x", capacity 20, description "y"";
 * an update that removed the description says so. */
static void
print_change(const struct circle_event *ev)
{
	const char *sep = "";

	if (ev->has_name) {
		printf("name \"%s\"", ev->name);
		sep = ", ";
	}
	if (ev->has_capacity) {
		printf("%scapacity %d", sep, ev->capacity);
		sep = ", ";
	}
	if (ev->has_description && ev->description[0])
		printf("%sdescription \"%s\"", sep, ev->description);
	else if (ev->has_description)
		printf("%sdescription removed", sep);
}

static int
show(struct circle_reader *rd, const char *id)
{
	struct circle row;
	struct circle_event *evs = NULL;
	uint32_t after = 0;
	size_t n = 0, i, total = 0;
	bool more, have_row;
	enum cerr rc;

	rc = rd->get(rd->self, id, &row);
	if (rc != CE_OK && rc != CE_NOT_FOUND) {
		fprintf(stderr, "circlectl: cannot read circle %s\n", id);
		return CTL_FAILED;
	}
	have_row = rc == CE_OK;
	printf("circle %s\n", id);
	if (have_row) {
		printf("  state     %s\n", row.deleted ? "deleted" : "live");
		printf("  name      \"%s\"\n", row.name);
		printf("  capacity  %d\n", row.capacity);
		/* only when it has one, as the API shows it */
		if (row.description[0])
			printf("  description \"%s\"\n", row.description);
		printf("  version   %u\n", (unsigned)row.version);
	} else {
		printf("  no projection row\n");
	}
	printf("history:\n");
	do {
		struct cerr_info info = {0};

		rc = circle_history(rd, id, after, HISTORY_LIMIT_MAX, &evs, &n, &more, &info);
		if (rc == CE_NOT_FOUND && total == 0 && !have_row) {
			free(evs);
			fprintf(stderr, "circlectl: no circle %s\n", id);
			return CTL_PROBLEM;
		}
		if (rc != CE_OK && rc != CE_NOT_FOUND) {
			free(evs);
			fprintf(stderr, "circlectl: cannot read the history of %s\n", id);
			return CTL_FAILED;
		}
		for (i = 0; rc == CE_OK && i < n; i++) {
			const struct circle_event *ev = &evs[i];

			printf("  %6u  %s  %-14s  ", (unsigned)ev->version, ev->occurred_at,
			       circle_event_type_name(ev->type));
			print_change(ev);
			putchar('\n');
			after = ev->version;
		}
		total += rc == CE_OK ? n : 0;
		free(evs);
		evs = NULL;
	} while (rc == CE_OK && more);
	printf("%zu event%s\n", total, total == 1 ? "" : "s");
	return CTL_OK;
}

int
ctl_show(int argc, char **argv)
{
	const char *group = "circle-query", *arg = NULL;
	char id[CIRCLE_ID_LEN + 1];
	struct cerr_info info = {0};
	struct store_config cfg;
	struct circle_reader rd;
	struct store *st;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return usage(stdout);
		if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			group = argv[++i];
		else if (!arg && argv[i][0] != '-')
			arg = argv[i];
		else
			return usage(stderr);
	}
	if (!arg)
		return usage(stderr);
	if (canonical_circle_id(arg, id, &info) != CE_OK) {
		fprintf(stderr, "circlectl: \"%s\" is not a circle id (a UUID)\n", arg);
		return CTL_FAILED;
	}
	store_config_from_env(&cfg, group);
	st = store_new(&cfg, STORE_READ);
	if (!st) {
		fprintf(stderr, "circlectl: out of memory\n");
		return CTL_FAILED;
	}
	store_circle_reader(st, &rd);
	rc = show(&rd, id);
	store_free(st);
	return rc;
}
