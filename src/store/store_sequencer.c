/*
 * The feed sequencer: numbers committed events for the change feed.
 *
 * circle_events.position is taken at INSERT, so its values commit out of
 * order and leave holes; the feed pages on feed_position instead, which only
 * this code writes, in transactions of its own (sql/006_feed_position.sql
 * explains why that is exactly-once). A pass reads the committed events that
 * have no feed position yet, oldest first, under the lock of the one counter
 * row, numbers them from the counter, and commits them together with the
 * new counter value: a reader sees a whole batch or none of it, and every
 * batch after it numbers higher.
 *
 * Appends never wait for it: they leave feed_position NULL and, once their
 * COMMIT is sent, wake the thread of their own worker (store_on_commit).
 * Every command worker runs a thread; one of them leads (GET_LOCK) and works,
 * the others wait to take over. The leader passes when woken, again after a
 * gap when a pass numbered something, and after an idle poll otherwise,
 * which also catches the commits of the other workers and of a worker that
 * died before waking anybody (store_sequencer_pace: the gap grows while
 * events keep coming, so that under load one pass numbers many events and
 * its fixed cost per event stays small; the idle poll grows while nothing
 * comes). Leading saves work only: the counter row's lock is what keeps two
 * passes from numbering at once.
 *
 * A pass first reads where to look (window_op, on a READ UNCOMMITTED
 * connection), then numbers the committed events in that window.
 */
#include <errno.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "store/store_internal.h"

/* The pause after a failed pass grows up to this (milliseconds). */
#define RETRY_MIN_MS 50
#define RETRY_MAX_MS 1000

/* The largest position handed out: BIGINT UNSIGNED holds more, but clients
 * that read JSON numbers as signed 64-bit integers must not overflow. */
#define FEED_POSITION_MAX ((uint64_t)INT64_MAX)

/*
 * The window to look in: the lowest and highest position of the first
 * `batch` events without a feed position, committed or not (a READ
 * UNCOMMITTED read on the peek store). *any is false when there is none at
 * all. Reading uncommitted rows is cheap here: the entries the sequencer
 * already moved out of the NULL range, which linger in the index until
 * InnoDB purges them, are skipped without looking each one up, as a
 * consistent read would have to.
 */
struct window_args {
	uint32_t batch;
	uint64_t lo, hi;
	bool any;
};

static enum cerr
window_op(struct store *peek, void *arg)
{
	struct window_args *a = arg;
	MYSQL_BIND p[1], res[2];
	my_bool nulls[2];
	MYSQL_STMT *s = store_stmt(peek, SQ_SEQ_WINDOW);
	bool row = false;
	enum cerr rc;

	a->any = false;
	memset(p, 0, sizeof(p));
	memset(res, 0, sizeof(res));
	store_bind_u32(&p[0], &a->batch);
	store_bind_u64(&res[0], &a->lo);
	store_bind_u64(&res[1], &a->hi);
	store_bind_nulls(res, nulls, 2);
	rc = store_exec(peek, s, p, res);
	if (rc == CE_OK)
		rc = store_fetch(peek, s, &row);
	if (rc == CE_OK && !row)
		rc = STORE_BAD("sequencer: no window row");
	/* MIN and MAX of nothing are NULL */
	if (rc == CE_OK && !nulls[0] && !nulls[1]) {
		if (a->lo > a->hi)
			rc = STORE_BAD("sequencer: window upside down");
		a->any = true;
	}
	store_done(peek, SQ_SEQ_WINDOW);
	return rc;
}

/* Positions of committed events without a feed position in [lo, hi],
 * ascending, at most `batch` of them, into pos[0..*n). */
static enum cerr
pending(struct store *st, uint64_t lo, uint64_t hi, uint32_t batch, uint64_t *pos, size_t *n)
{
	MYSQL_BIND p[3], res[1];
	my_bool nulls[1];
	uint64_t v = 0;
	MYSQL_STMT *s = store_stmt(st, SQ_SEQ_PENDING);
	size_t count = 0;
	bool row;
	enum cerr rc;

	*n = 0;
	memset(p, 0, sizeof(p));
	memset(res, 0, sizeof(res));
	store_bind_u64(&p[0], &lo);
	store_bind_u64(&p[1], &hi);
	store_bind_u32(&p[2], &batch);
	store_bind_u64(&res[0], &v);
	store_bind_nulls(res, nulls, 1);
	rc = store_exec(st, s, p, res);
	while (rc == CE_OK) {
		rc = store_fetch(st, s, &row);
		if (rc != CE_OK || !row)
			break;
		rc = store_check_nulls(nulls, 1);
		if (rc == CE_OK && count == batch)
			rc = STORE_BAD("sequencer: more rows than the batch");
		if (rc == CE_OK && count > 0 && v <= pos[count - 1])
			rc = STORE_BAD("sequencer: events not in position order");
		if (rc != CE_OK)
			break;
		pos[count++] = v;
	}
	store_done(st, SQ_SEQ_PENDING);
	if (rc == CE_OK)
		*n = count;
	return rc;
}

/* Locks the counter row until the transaction ends; *last is its value. */
static enum cerr
lock_counter(struct store *st, uint64_t *last)
{
	MYSQL_BIND res[1];
	my_bool nulls[1];
	MYSQL_STMT *s = store_stmt(st, SQ_SEQ_LOCK);
	bool row = false;
	enum cerr rc;

	memset(res, 0, sizeof(res));
	store_bind_u64(&res[0], last);
	store_bind_nulls(res, nulls, 1);
	rc = store_exec(st, s, NULL, res);
	if (rc == CE_OK)
		rc = store_fetch(st, s, &row);
	if (rc == CE_OK && !row)
		rc = STORE_BAD("sequencer: the counter row is missing (apply the migrations)");
	if (rc == CE_OK)
		rc = store_check_nulls(nulls, 1);
	store_done(st, SQ_SEQ_LOCK);
	return rc;
}

/*
 * The counter from *last to *next, in one round trip: it must match
 * exactly its one row, else the counter moved under its lock, a bug, and the
 * transaction is refused.
 */
static enum cerr
advance(struct store *st, uint64_t *next, uint64_t *last)
{
	MYSQL_BIND p[2];
	MYSQL_STMT *s = store_stmt(st, SQ_SEQ_ADVANCE);
	enum cerr rc;

	memset(p, 0, sizeof(p));
	store_bind_u64(&p[0], next);
	store_bind_u64(&p[1], last);
	rc = store_exec(st, s, p, NULL);
	if (rc == CE_OK && mysql_stmt_affected_rows(s) != 1)
		rc = STORE_BAD("sequencer: counter moved under its lock");
	return rc;
}

/* The longest list assign() writes: up to STORE_FEED_BATCH positions of up
 * to 20 digits, their commas and brackets. */
#define LIST_MAX (STORE_FEED_BATCH * 21 + 2)

/*
 * Numbers the n events at positions pos[0..n) (ascending) last + 1, + 2,
 * ... in one statement (Connector/C's array binding would have the server
 * run one statement per event). Every one must still be without a feed position:
 * anything else means the rows changed under the lock, a bug, and the
 * transaction is refused.
 */
static enum cerr
assign(struct store *st, uint64_t *last, const uint64_t *pos, size_t n)
{
	char list[LIST_MAX + 1];
	MYSQL_BIND p[2];
	unsigned long len = 0;
	MYSQL_STMT *s = store_stmt(st, SQ_SEQ_ASSIGN);
	size_t used = 0, i;
	enum cerr rc;

	list[used++] = '[';
	for (i = 0; i < n; i++) {
		int w = snprintf(list + used, LIST_MAX + 1 - used, "%s%llu", i ? "," : "",
				 (unsigned long long)pos[i]);

		if (w < 0 || (size_t)w >= LIST_MAX + 1 - used)
			return STORE_BAD("sequencer: position list too long");
		used += (size_t)w;
	}
	if (used + 1 > LIST_MAX)
		return STORE_BAD("sequencer: position list too long");
	list[used++] = ']';
	list[used] = '\0';
	memset(p, 0, sizeof(p));
	store_bind_text_in(&p[0], list, &len);
	store_bind_u64(&p[1], last);
	rc = store_exec(st, s, p, NULL);
	if (rc == CE_OK && mysql_stmt_affected_rows(s) != (my_ulonglong)n)
		rc = STORE_BAD("sequencer: event already numbered");
	return rc;
}

struct pass_args {
	uint32_t batch;
	uint64_t lo, hi;
	size_t *assigned;
};

static enum cerr
pass_op(struct store *st, void *arg)
{
	struct pass_args *a = arg;
	uint64_t pos[STORE_FEED_BATCH];
	uint64_t last = 0, next;
	size_t n = 0;
	enum cerr rc;

	*a->assigned = 0;
	rc = store_begin(st);
	if (rc != CE_OK)
		return rc;
	rc = lock_counter(st, &last);
	/* Under the lock, a consistent read: committed events only. */
	if (rc == CE_OK)
		rc = pending(st, a->lo, a->hi, a->batch, pos, &n);
	if (rc == CE_OK && n > 0 && last > FEED_POSITION_MAX - n)
		rc = STORE_BAD("sequencer: feed positions exhausted");
	next = last + n;
	if (rc == CE_OK && n > 0)
		rc = assign(st, &last, pos, n);
	if (rc == CE_OK && n > 0)
		rc = advance(st, &next, &last);
	if (rc == CE_OK)
		rc = store_commit(st);
	if (rc != CE_OK) {
		store_rollback(st);
		return rc;
	}
	*a->assigned = n;
	return CE_OK;
}

/*
 * Why the window is safe. It is read at t1, before the pass's consistent
 * read at t2, and the pass numbers the committed events in [lo, hi]. An
 * event outside it is left for a later pass, never lost: it keeps its NULL
 * until numbered. Order within a circle holds too: when version v + 1 is
 * numbered in this pass, version v committed before v + 1 was even inserted;
 * if that was after t1, v + 1 took its AUTO_INCREMENT position after every
 * entry seen at t1, so above hi, and is not in this pass; if before t1, v
 * was already in the index at t1 (or numbered), so v >= lo, and the pass
 * numbers v before v + 1.
 */
enum cerr
store_sequence_pass(struct store *st, struct store *peek, unsigned batch, size_t *assigned)
{
	struct window_args w = {batch, 0, 0, false};
	struct pass_args a = {batch, 0, UINT64_MAX, assigned};

	if (!st || !assigned || st->side != STORE_SEQUENCER || (peek && peek->side != STORE_PEEK) ||
	    batch == 0 || batch > STORE_FEED_BATCH)
		return STORE_BAD("sequence pass: bad arguments");
	*assigned = 0;
	if (peek) {
		enum cerr rc = store_run(peek, window_op, &w);

		if (rc != CE_OK || !w.any)
			return rc;
		a.lo = w.lo;
		a.hi = w.hi;
	}
	return store_run(st, pass_op, &a);
}

/* --- the thread --- */

/* How long (seconds) a thread that does not lead waits for the lead at a
 * time: also how long stopping it may take. */
#define LEAD_WAIT_S 1

struct lead_args {
	int timeout;
	bool got;
};

/*
 * Tries to become the one sequencer thread that works, among every worker's:
 * GET_LOCK on the connection of st, named after the database, waiting up to
 * a->timeout seconds. The lock goes with the connection, so a leader that
 * dies or loses its connection hands over by itself. Leading only saves
 * work: two passes at once would still be serialised by the counter row.
 */
static enum cerr
lead_op(struct store *st, void *arg)
{
	struct lead_args *a = arg;
	MYSQL_BIND p[1], res[1];
	my_bool nulls[1];
	int got = 0;
	MYSQL_STMT *s = store_stmt(st, SQ_SEQ_LEAD);
	bool row = false;
	enum cerr rc;

	a->got = false;
	memset(p, 0, sizeof(p));
	memset(res, 0, sizeof(res));
	store_bind_int(&p[0], &a->timeout);
	store_bind_int(&res[0], &got);
	store_bind_nulls(res, nulls, 1);
	rc = store_exec(st, s, p, res);
	if (rc == CE_OK)
		rc = store_fetch(st, s, &row);
	if (rc == CE_OK && (!row || nulls[0]))
		rc = STORE_BAD("sequencer: GET_LOCK failed");
	if (rc == CE_OK)
		a->got = got == 1;
	store_done(st, SQ_SEQ_LEAD);
	return rc;
}

struct store_sequencer {
	struct store *st;
	struct store *peek;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* on CLOCK_MONOTONIC */
	atomic_bool wake;    /* a pass was asked for (set without mu too) */
	bool listening;      /* the thread waits for a wake (under mu) */
	bool stop;
};

static void
deadline_in(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static unsigned
doubled(unsigned ms, unsigned max)
{
	return ms >= max / 2 ? max : ms * 2;
}

unsigned
store_sequencer_pace(size_t n, unsigned batch, unsigned *gap_ms, unsigned *idle_ms, bool *wakeable)
{
	unsigned pause;

	/* out of range (never from the thread): the shortest pauses */
	if (*gap_ms < STORE_SEQUENCER_GAP_MS || *gap_ms > STORE_SEQUENCER_GAP_MAX_MS)
		*gap_ms = STORE_SEQUENCER_GAP_MS;
	if (*idle_ms < STORE_SEQUENCER_IDLE_MS || *idle_ms > STORE_SEQUENCER_IDLE_MAX_MS)
		*idle_ms = STORE_SEQUENCER_IDLE_MS;
	if (n == 0) {
		/* Nothing came: wait for a wake, polling ever less often for
		 * the other workers' commits; the next event starts the gap
		 * over, so a lone commit is numbered at once. */
		*wakeable = true;
		pause = *idle_ms;
		*idle_ms = doubled(*idle_ms, STORE_SEQUENCER_IDLE_MAX_MS);
		*gap_ms = STORE_SEQUENCER_GAP_MS;
		return pause;
	}
	*wakeable = false;
	*idle_ms = STORE_SEQUENCER_IDLE_MS;
	/* A full batch: more are waiting, at once. */
	if (n >= batch)
		return 0;
	/* Events keep coming: wait longer each time, so that one pass takes
	 * more of them, but never longer than the bound. */
	pause = *gap_ms;
	*gap_ms = doubled(*gap_ms, STORE_SEQUENCER_GAP_MAX_MS);
	return pause;
}

static void *
sequencer_main(void *arg)
{
	struct store_sequencer *q = arg;
	unsigned retry_ms = 0;
	unsigned gap_ms = STORE_SEQUENCER_GAP_MS, idle_ms = STORE_SEQUENCER_IDLE_MS;
	unsigned pause_ms = 0; /* before the next pass */
	bool wakeable = false; /* a wake ends the pause */

	bool leader = false;
	unsigned long lead_connection = 0;

	pthread_mutex_lock(&q->mu);
	while (!q->stop) {
		size_t n = 0;
		enum cerr rc;

		/* A new connection has lost the lock with the old one. */
		if (!leader || q->st->connects != lead_connection) {
			struct lead_args la = {retry_ms ? 0 : LEAD_WAIT_S, false};

			leader = false;
			if (retry_ms) {
				struct timespec until;

				deadline_in(&until, retry_ms);
				while (!q->stop)
					if (pthread_cond_timedwait(&q->cond, &q->mu, &until) ==
					    ETIMEDOUT)
						break;
				if (q->stop)
					break;
			}
			pthread_mutex_unlock(&q->mu);
			rc = store_run(q->st, lead_op, &la);
			pthread_mutex_lock(&q->mu);
			if (rc != CE_OK) {
				retry_ms = retry_ms ? retry_ms * 2 : RETRY_MIN_MS;
				if (retry_ms > RETRY_MAX_MS)
					retry_ms = RETRY_MAX_MS;
				continue;
			}
			retry_ms = 0;
			if (!la.got)
				continue;
			leader = true;
			lead_connection = q->st->connects;
			/* number whatever waits, at once */
			pause_ms = 0;
			gap_ms = STORE_SEQUENCER_GAP_MS;
			idle_ms = STORE_SEQUENCER_IDLE_MS;
		}
		if (pause_ms > 0) {
			struct timespec until;

			/* A gap ignores wakes: under a steady stream of commits
			 * it makes one pass number the commits of a few
			 * milliseconds together, instead of one transaction of
			 * its own per commit. */
			deadline_in(&until, pause_ms);
			q->listening = wakeable;
			while (!q->stop && !(wakeable && atomic_load(&q->wake)))
				if (pthread_cond_timedwait(&q->cond, &q->mu, &until) == ETIMEDOUT)
					break;
			q->listening = false;
			if (q->stop)
				break;
		}
		/* Wakes that come during the pass ask for another one: their
		 * commit may have come too late for this pass's read. */
		atomic_store(&q->wake, false);
		pthread_mutex_unlock(&q->mu);
		rc = store_sequence_pass(q->st, q->peek, STORE_FEED_BATCH, &n);
		pthread_mutex_lock(&q->mu);
		if (rc == CE_OK) {
			retry_ms = 0;
			pause_ms = store_sequencer_pace(n, STORE_FEED_BATCH, &gap_ms, &idle_ms,
							&wakeable);
		} else {
			retry_ms = retry_ms ? retry_ms * 2 : RETRY_MIN_MS;
			if (retry_ms > RETRY_MAX_MS)
				retry_ms = RETRY_MAX_MS;
			pause_ms = retry_ms;
			wakeable = true;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

struct store_sequencer *
store_sequencer_start(const struct store_config *cfg)
{
	struct store_sequencer *q = calloc(1, sizeof(*q));
	pthread_condattr_t attr;
	sigset_t all, old;
	bool mu = false, cond = false;
	int err;

	if (!q)
		goto fail;
	q->st = store_new(cfg, STORE_SEQUENCER);
	q->peek = store_new(cfg, STORE_PEEK);
	if (!q->st || !q->peek || pthread_mutex_init(&q->mu, NULL) != 0)
		goto fail;
	mu = true;
	if (pthread_condattr_init(&attr) != 0)
		goto fail;
	err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (err == 0)
		err = pthread_cond_init(&q->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (err != 0)
		goto fail;
	cond = true;
	/* The thread inherits this mask: SIGTERM and SIGINT must reach the
	 * thread that serves requests, which stops on them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&q->thread, NULL, sequencer_main, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0)
		goto fail;
	return q;
fail:
	fprintf(stderr, "store: %s:%d: cannot start the feed sequencer\n", __FILE__, __LINE__);
	if (q) {
		if (cond)
			pthread_cond_destroy(&q->cond);
		if (mu)
			pthread_mutex_destroy(&q->mu);
		store_free(q->peek);
		store_free(q->st);
		free(q);
	}
	return NULL;
}

void
store_sequencer_wake(void *seq)
{
	struct store_sequencer *q = seq;

	if (!q)
		return;
	/*
	 * Called after every commit of the worker, so it must cost next to
	 * nothing under load. A wake already asked for and not yet taken
	 * needs nothing more: the pass that takes it starts after this
	 * commit, so its read sees it. And only a thread that waits for a
	 * wake is signalled: one in a gap would wake up only to sleep on.
	 */
	if (atomic_load(&q->wake))
		return;
	pthread_mutex_lock(&q->mu);
	atomic_store(&q->wake, true);
	if (q->listening)
		pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
}

void
store_sequencer_stop(struct store_sequencer *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->mu);
	store_free(q->peek);
	store_free(q->st);
	free(q);
}
