/*
 * circlectl tail: the change feed as NDJSON, one event per line in the shape
 * GET /events gives it, read straight from the database as the query user.
 *
 * Each line carries its position, so a consumer that stops (or is stopped by
 * SIGINT/SIGTERM: the lines printed so far are flushed and the exit status
 * is 0) goes on with --after set to the last position it printed and sees
 * every event exactly once. With --follow it keeps polling for new events
 * and rides out a database that goes away, until it is stopped.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "codec/feed_json.h"
#include "domain/text.h"
#include "query/queries.h"
#include "store/store.h"

/* How long --follow waits when it has caught up (milliseconds), and at
 * most between tries while the database is down. */
#define POLL_MS 100
#define RETRY_MAX_MS 2000

static int
usage(FILE *f)
{
	fprintf(f, "usage: circlectl tail [--after P] [--follow] [--group GROUP]\n"
		   "  prints the change feed as NDJSON, one event per line, from the event\n"
		   "  after position P (default 0: from the start). With --follow it keeps\n"
		   "  printing events as they commit, until SIGINT or SIGTERM (exit 0).\n"
		   "  To resume, pass the last position printed as --after.\n");
	return f == stdout ? 0 : 2;
}

/* "0" or a decimal without sign or leading zeros up to FEED_AFTER_MAX. */
static int
parse_after(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (strcmp(s, "0") != 0 && (text_positive(s, strlen(s), &v) != 0 || v > FEED_AFTER_MAX))
		return -1;
	*out = v;
	return 0;
}

static void
pause_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	/* a signal cuts it short, which is what stopping wants */
	(void)nanosleep(&ts, NULL);
}

/* Prints one page; -1 when stdout fails. */
static int
print_page(const struct feed_event *evs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_object *obj = feed_event_json_new(evs[i].position, &evs[i].event);
		const char *text;

		if (obj == NULL) {
			fprintf(stderr, "circlectl: event at position %llu cannot be rendered\n",
				(unsigned long long)evs[i].position);
			return -2;
		}
		text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
		if (text == NULL || fputs(text, stdout) == EOF || putchar('\n') == EOF) {
			json_object_put(obj);
			return -1;
		}
		json_object_put(obj);
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

static int
tail(struct circle_reader *reader, uint64_t after, bool follow)
{
	unsigned retry_ms = 0;
	bool said_down = false;

	while (!ctl_stopping) {
		struct cerr_info info = {0};
		struct feed_event *evs = NULL;
		uint64_t next = after;
		size_t n = 0;
		enum cerr rc;
		int prc;

		rc = read_feed(reader, after, FEED_LIMIT_MAX, &evs, &n, &next, &info);
		if (rc != CE_OK) {
			if (!follow || rc != CE_UNAVAILABLE) {
				fprintf(stderr, "circlectl: cannot read the feed (%s)\n",
					info.detail ? info.detail : "error");
				return 2;
			}
			if (!said_down)
				fprintf(stderr, "circlectl: database unavailable, retrying\n");
			said_down = true;
			retry_ms = retry_ms ? retry_ms * 2 : POLL_MS;
			if (retry_ms > RETRY_MAX_MS)
				retry_ms = RETRY_MAX_MS;
			pause_ms(retry_ms);
			continue;
		}
		if (said_down)
			fprintf(stderr, "circlectl: database back\n");
		said_down = false;
		retry_ms = 0;
		prc = print_page(evs, n);
		free(evs);
		if (prc == -1)
			/* the reader went away (a closed pipe): nothing to tell it */
			return errno == EPIPE ? 0 : 1;
		if (prc != 0)
			return 2;
		after = next;
		if (n == FEED_LIMIT_MAX)
			continue;
		if (!follow)
			break;
		pause_ms(POLL_MS);
	}
	return 0;
}

int
ctl_tail(int argc, char **argv)
{
	const char *group = "circle-query";
	struct store_config cfg;
	struct circle_reader reader;
	struct store *st;
	uint64_t after = 0;
	bool follow = false;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return usage(stdout);
		if (strcmp(argv[i], "--follow") == 0) {
			follow = true;
		} else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
			if (parse_after(argv[++i], &after) != 0) {
				fprintf(stderr, "circlectl: --after takes a position from 0 to "
						"9223372036854775807\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
			group = argv[++i];
		} else {
			return usage(stderr);
		}
	}
	/* the pause between polls must end on a signal */
	if (ctl_catch_signals(true, true) != 0)
		return 2;
	store_config_from_env(&cfg, group);
	st = store_new(&cfg, STORE_READ);
	if (st == NULL) {
		fprintf(stderr, "circlectl: out of memory\n");
		return 2;
	}
	store_circle_reader(st, &reader);
	rc = tail(&reader, after, follow);
	store_free(st);
	return rc;
}
