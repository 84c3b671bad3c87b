/*
 * A bounded load of concurrent clients: threads, each sending one request at
 * a time on its own connection with a client timeout, mixing reads of one
 * circle, list pages, updates at the version the client knows, and creates.
 * It runs until load_stop(), its time bound or its request bound, whichever
 * comes first.
 *
 * Every answer is judged as it arrives: a read may answer 200 or 503, a
 * create 201 or 503, an update 200, 409 or 503; a 503 must be a problem+json
 * service_unavailable, a 2xx must carry the circle that was asked for, and
 * no request may go unanswered or take longer than REL_ANSWER_BOUND_MS.
 * Anything else is counted in `bad` with its first examples kept.
 * Acknowledged writes go to the ledger; creates answered 503 are kept, with
 * their Idempotency-Key, for load_retry_creates().
 *
 * Memory: the load owns its threads and state until load_free(); the ledger
 * stays the caller's.
 */
#ifndef CIRCLE_TESTS_LOAD_H
#define CIRCLE_TESTS_LOAD_H

#include <stddef.h>

#include "ledger.h"

#define LOAD_BAD_KEPT 8

struct load_config {
	int threads;
	int max_ms;        /* hard bound on the run's time */
	long max_requests; /* hard bound on requests sent */
	/* weights of the operations, out of their sum */
	int get_weight, list_weight, update_weight, create_weight;
	int shared_circles;    /* circles every client may update (they race) */
	int shared_update_pct; /* updates that go to a shared circle */
	int backoff_ms;        /* a client's pause after a 503 */
	const char *prefix;    /* names start with it */
};

struct load_stats {
	long requests; /* sent */
	long gets, lists, creates, updates;
	long s2xx, s409, s503;
	long bad;       /* answers the contract does not allow */
	long no_answer; /* no answer within the client timeout */
	long max_latency_ms;
	long long latency_sum_ms;
	long creates_acked, updates_acked;
	long creates_503, updates_503;
	char bad_examples[LOAD_BAD_KEPT][256];
};

struct load;

/* Creates the shared circles, then starts the clients; NULL on failure. */
struct load *load_start(const struct load_config *cfg, struct ledger *ledger);
/* The counters so far. */
void load_snapshot(struct load *l, struct load_stats *out);
/* Stops the clients, waits for each one's request in flight to end. */
void load_stop(struct load *l, struct load_stats *out);
/*
 * After load_stop(): sends every create that was answered 503 again with
 * the same Idempotency-Key and body. Each must now answer 201 (the first
 * attempt's circle if it had been committed, else a new one); those go to
 * the ledger. Returns how many did not; *retried says how many were sent.
 */
long load_retry_creates(struct load *l, long *retried);
void load_free(struct load *l);

/* Prints the figures of a run on stdout, indented, titled. */
void load_print(const char *title, const struct load_stats *s, long ms);
/* Fails the test unless every request got an answer, none of them a 503 or
 * one the contract does not allow, and every write acknowledged during the
 * run is in the event store. */
void load_assert_clean(const char *title, const struct load_stats *s, struct ledger *ledger);

#endif
