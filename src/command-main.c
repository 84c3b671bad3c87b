/*
 * circle-command.fcgi: the write side. Wires the MariaDB event store, the
 * id and clock sources, the feed sequencer and the command handlers, then
 * serves FastCGI.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

#include <uuid/uuid.h>

#include "command/commands.h"
#include "http/handlers.h"
#include "store/store.h"
#include "worker.h"

/*
 * A random (version 4) UUID from the kernel's generator. libuuid's
 * uuid_generate_random() reads the same generator and then reseeds and
 * mixes in random(), which costs more than the rest of a create; it stays
 * the fallback for a kernel without getrandom(). libuuid writes the text.
 */
static void
new_id(char out[CIRCLE_ID_LEN + 1])
{
	uuid_t u;
	size_t got = 0;

	while (got < sizeof(u)) {
		ssize_t n = getrandom(u + got, sizeof(u) - got, 0);

		if (n > 0) {
			got += (size_t)n;
		} else if (n < 0 && errno != EINTR) {
			uuid_generate_random(u);
			break;
		}
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	uuid_unparse_lower(u, out);
}

static void
now(char out[CIRCLE_TIME_LEN + 1])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	/* a clock that fails leaves the epoch: visible, not undefined */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, CIRCLE_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, CIRCLE_TIME_LEN + 1 - n, ".%06ldZ", ts.tv_nsec / 1000);
}

static void
set_deadline(void *ctx, int64_t deadline_ms)
{
	store_set_deadline(ctx, deadline_ms);
}

/*
 * CIRCLE_FEED_SEQUENCER: "on" (the default, also when unset or empty) runs
 * this worker's feed sequencer thread, "off" does not: for a pool that
 * should only serve writes while another pool's workers number the feed
 * (until one of those runs, new events stay out of the feed), and for
 * measuring what the sequencer costs (bench/feed-cost). Anything else is
 * refused: a typo must not silently stall the feed.
 */
static int
sequencer_wanted(bool *on)
{
	const char *v = getenv("CIRCLE_FEED_SEQUENCER");

	*on = true;
	if (v == NULL || *v == '\0' || strcmp(v, "on") == 0)
		return 0;
	if (strcmp(v, "off") == 0) {
		*on = false;
		return 0;
	}
	fprintf(stderr, "circle-command: CIRCLE_FEED_SEQUENCER must be on or off\n");
	return -1;
}

int
main(int argc, char **argv)
{
	struct store_config cfg;
	struct event_store events;
	struct command_ctx ctx = {0};
	struct http_app app = {0};
	struct store_sequencer *seq = NULL;
	struct store *st;
	bool sequence;
	int rc;

	rc = worker_options(argc, argv, "circle-command.fcgi", "command (write)");
	if (rc >= 0)
		return rc;
	if (sequencer_wanted(&sequence) != 0)
		return 2;
	store_config_from_env(&cfg, "circle-command");
	st = store_new(&cfg, STORE_WRITE);
	if (st == NULL) {
		fprintf(stderr, "circle-command: out of memory\n");
		return 1;
	}
	/* a database that is down now answers 503 until it is back */
	if (store_ensure(st) != CE_OK)
		fprintf(stderr,
			"circle-command: database unavailable, serving 503 until it returns\n");
	/* Numbers committed events for the change feed, woken by this
	 * worker's commits; without it the other workers' sequencers do. */
	if (sequence)
		seq = store_sequencer_start(&cfg);
	store_on_commit(st, store_sequencer_wake, seq);
	store_event_store(st, &events);
	ctx.store = &events;
	ctx.new_id = new_id;
	ctx.now = now;
	app.side = SIDE_WRITE;
	app.commands = &ctx;
	app.handlers = command_handlers;
	app.set_deadline = set_deadline;
	app.deadline_ctx = st;
	rc = worker_run(&app);
	store_sequencer_stop(seq);
	store_free(st);
	return rc;
}
