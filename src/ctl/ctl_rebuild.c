/*
 * circlectl rebuild-projections: builds circle_projections anew from the
 * events while the service keeps appending and reading, then swaps it in
 * (src/store/store_bulk.c says how no write is lost). Runs as an
 * administrator (it creates, renames and drops tables).
 *
 * Progress goes to stderr: one line rewritten in place on a terminal,
 * a plain line now and then otherwise. SIGINT or SIGTERM stops it between
 * two batches: the live table is left as it was, and running it again
 * starts over (a kill -9 leaves a shadow table the next run drops).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "store/store_bulk.h"

/* A terminal's line is redrawn at most this often, a plain line written at
 * most this often (ms). */
#define TTY_EVERY_MS 200
#define PLAIN_EVERY_MS 2000

struct progress {
	bool tty;
	bool drawn;
	int64_t start_ms, last_ms;
	const char *last_phase;
};

static void
show_progress(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	int64_t now = store_now_ms(), ms = now - p->start_ms;
	bool new_phase = p->last_phase == NULL || strcmp(p->last_phase, phase) != 0;
	double rate = ms > 0 ? (double)done * 1000.0 / (double)ms : 0.0;
	double left = rate > 0 && total > done ? (double)(total - done) / rate : 0.0;

	if (!new_phase && now - p->last_ms < (p->tty ? TTY_EVERY_MS : PLAIN_EVERY_MS))
		return;
	p->last_ms = now;
	p->last_phase = phase;
	if (p->tty) {
		fprintf(stderr, "\r\033[K%-8s %llu/%llu events  %.0f events/s  %.1f s left", phase,
			(unsigned long long)done, (unsigned long long)total, rate, left);
		p->drawn = true;
	} else {
		fprintf(stderr,
			"rebuild-projections: %s %llu/%llu events, %.0f events/s, %.1f s left\n",
			phase, (unsigned long long)done, (unsigned long long)total, rate, left);
	}
	fflush(stderr);
}

static int
usage(FILE *f)
{
	return ctl_usage(f, "rebuild-projections");
}

int
ctl_rebuild(int argc, char **argv)
{
	const char *database = NULL, *group = NULL;
	struct store_rebuild_stats stats;
	struct progress prog;
	struct store_bulk *b;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return usage(stdout);
		if (strcmp(argv[i], "--database") == 0 && i + 1 < argc)
			database = argv[++i];
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			group = argv[++i];
		else
			return usage(stderr);
	}
	if (ctl_catch_signals(true, false) != 0)
		return CTL_FAILED;
	b = ctl_admin_bulk(database, group);
	if (!b)
		return CTL_FAILED;
	memset(&prog, 0, sizeof(prog));
	prog.tty = isatty(STDERR_FILENO) == 1;
	prog.start_ms = store_now_ms();
	rc = store_rebuild_projections(b, false, show_progress, &prog, &ctl_stopping, &stats);
	if (prog.drawn)
		fputc('\n', stderr);
	if (stats.left_over)
		fprintf(stderr, "circlectl: dropped the tables an interrupted rebuild left\n");
	if (rc != 0) {
		fprintf(stderr, "circlectl: rebuild-projections: %s\n", store_bulk_error(b));
		store_bulk_close(b);
		return rc == -2 ? CTL_PROBLEM : CTL_FAILED;
	}
	printf("rebuilt circle_projections: %llu circles from %llu events in %.2f s"
	       " (%.0f events/s); %llu more events caught up in %u rounds;"
	       " appends held for %lld ms (waiting for appends in flight %lld ms, last round %lld"
	       " ms, rename %lld ms); %u tries given up, appends held %lld ms in them\n",
	       (unsigned long long)stats.circles, (unsigned long long)stats.events,
	       (double)stats.total_ms / 1000.0,
	       stats.fold_ms > 0 ? (double)stats.events * 1000.0 / (double)stats.fold_ms : 0.0,
	       (unsigned long long)stats.caught_up, stats.rounds, (long long)stats.blocked_ms,
	       (long long)stats.lock_wait_ms, (long long)stats.last_round_ms,
	       (long long)stats.rename_ms, stats.given_up, (long long)stats.given_up_ms);
	store_bulk_close(b);
	return CTL_OK;
}
