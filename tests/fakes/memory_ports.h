/*
 * Both ports of circle in memory, for tests that drive the real use cases
 * and handlers without a database: the event store (command side) and the
 * circle reader (query side) share one world of events, projection rows and
 * remembered Idempotency-Keys, and the command context draws predictable
 * ids and a fixed time. Failures, races, snapshots and readers that break
 * their contract can be injected; each port call is counted, and what the
 * reader was asked for is kept.
 *
 * The caller owns the struct memory_ports and may read or write its world
 * directly (to seed it, to compare it before and after a request, or to
 * take the database down). Arrays the ports hand out are the caller's to
 * free, as the port contracts say.
 */
#ifndef CIRCLE_TESTS_FAKES_MEMORY_PORTS_H
#define CIRCLE_TESTS_FAKES_MEMORY_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command/commands.h"
#include "command/event_store.h"
#include "domain/circle.h"
#include "query/circle_reader.h"

#define MEMORY_MAX_EVENTS 64
#define MEMORY_MAX_CIRCLES 32
#define MEMORY_MAX_KEYS 8
#define MEMORY_MAX_SNAPSHOTS 8

/* Everything a request may change; nothing else lives here, so a test can
 * tell a change from none by comparing two copies byte for byte. */
struct memory_world {
	struct circle_event events[MEMORY_MAX_EVENTS];
	size_t nevents;
	struct circle rows[MEMORY_MAX_CIRCLES]; /* the projection */
	size_t nrows;
	char keys[MEMORY_MAX_KEYS][256]; /* keys are 1..255 chars */
	struct idem_record recs[MEMORY_MAX_KEYS];
	size_t nkeys;
	/* the snapshots the reader sees, ascending by version per circle */
	struct circle snaps[MEMORY_MAX_SNAPSHOTS];
	size_t nsnaps;
	bool down; /* every port call answers CE_UNAVAILABLE */
};

struct memory_ports {
	struct memory_world world;
	/*
	 * How many of the command's next reads are stale, as if another worker
	 * had committed just after them: a load misses the circle's last event
	 * and an Idempotency-Key lookup misses the key. Each such read uses one.
	 */
	unsigned stale;
	/* Optional (NULL: none): shown every append and every list that reaches
	 * the database, before the fake looks at them, so a test can check
	 * what the use cases pass to the ports. */
	void (*on_append)(const struct circle_event *ev, const struct circle *after,
			  const struct idem_key *idem);
	void (*on_list)(const char *after);

	/* --- injected failures and races (zero: none) --- */
	/* what the next calls answer (fail_append: appends and idem_remember) */
	enum cerr fail_load, fail_append, fail_idem;
	unsigned fail_load_from; /* the loads from this one on (counted from 1) are
				  * CE_UNAVAILABLE */
	enum cerr fail_read;     /* what every reader call answers */
	/* load answers a snapshot at the highest multiple of this version */
	uint32_t snapshot_every;
	/* the next append loses a race: race_event is committed first */
	bool race_version;
	struct circle_event race_event;
	/* the next append with a key loses a race to race_record */
	bool race_key;
	struct idem_record race_record;
	size_t list_extra;         /* list claims this many rows beyond what it had */
	bool history_ignores_upto; /* history returns every event */
	/* the feed: events[i] is at position (i + 1) * feed_step (0: step 1) */
	uint64_t feed_step;
	bool feed_disorder; /* a broken reader: the page's first and last swapped */
	size_t feed_extra;  /* feed claims this many rows beyond what it had */

	/* --- what the ports were asked --- */
	unsigned loads, appends, finds;
	/* A load or key lookup left the command's transaction open, which
	 * only append, idem_remember or end closes; ends counts end calls. */
	bool open;
	unsigned ends;
	char last_id[64];    /* of get, history, or list's after */
	unsigned last_limit; /* of list or feed */
	uint64_t last_after; /* of feed */
	uint32_t last_upto;  /* of history */
	uint32_t last_history_after;
	unsigned last_history_limit;
	unsigned consistent_calls; /* reads run through reader.consistent */
	bool last_after_null;      /* list was called without after */
	/* the ids ctx draws start with this (24 characters; NULL: the default) */
	const char *id_prefix;

	/* Replication: commits counted as the GTIDs "0-1-<n>" of the commit
	 * tokens; a reader that is behind answers every wait not caught up;
	 * the last token waited for, "" when none. */
	unsigned long commits;
	bool behind;
	char waited[COMMIT_TOKEN_MAX + 1];
	struct event_store store;    /* self: this struct */
	struct circle_reader reader; /* self: this struct */
	struct command_ctx ctx;      /* uses store */
};

/*
 * Empties m (world, stale reads, hooks, injections, counters), wires its
 * ports to it and restarts the ids ctx draws:
 * abcdef00-0000-4000-8000-000000000001, then ...02 (m->id_prefix, when set
 * later, replaces the "abcdef00-0000-4000-8000-").
 */
void memory_ports_init(struct memory_ports *m);

/* The projection row of id in w, or NULL. */
struct circle *memory_row(struct memory_world *w, const char *id);

/*
 * Every event of id in w, ascending, into a new array *evs of *n (NULL when
 * none) whatever w->down says. CE_OK or CE_INTERNAL.
 */
enum cerr memory_events(const struct memory_world *w, const char *id, struct circle_event **evs,
			size_t *n);

#endif
