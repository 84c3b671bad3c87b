/*
 * A bounded soak, end to end through nginx: SOAK_CONNECTIONS clients (64)
 * for SOAK_SECONDS (60), 90% reads (one circle, list pages) and 10% writes
 * (updates at the version the client knows, creates). It proves that no
 * request is answered 5xx or left unanswered, that no acknowledged write is
 * lost (the ledger, then circlectl verify), that no worker process died, and
 * that the workers' memory does not grow once warm: the VmRSS of every
 * worker is sampled after the warm-up and at the end, and none may grow by
 * more than SOAK_RSS_GROWTH_KB (8192) nor by more than SOAK_RSS_GROWTH_PCT
 * (50) percent.
 *
 * Environment: see rel.h; the SOAK_* variables above.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "load.h"
#include "rel.h"

#define MAX_WORKERS 64

static long
env_long(const char *name, long dflt, long min, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return dflt;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < min || n > max) {
		fprintf(stderr, "%s must be a number from %ld to %ld: %s\n", name, min, max, v);
		exit(2);
	}
	return n;
}

struct worker {
	char pool[8];
	pid_t pid;
	int checked; /* not under ASan or valgrind, which keep freed memory */
	long warm_kb, end_kb;
};

/* Every live worker of both pools. */
static size_t
workers(struct worker *w, size_t max)
{
	static const char *const pools[] = {"command", "query"};
	pid_t pids[MAX_WORKERS];
	size_t n = 0;

	for (size_t p = 0; p < 2; p++) {
		size_t k = rel_pool_pids(pools[p], pids, MAX_WORKERS);

		for (size_t i = 0; i < k && n < max; i++, n++) {
			snprintf(w[n].pool, sizeof(w[n].pool), "%s", pools[p]);
			w[n].pid = pids[i];
			w[n].warm_kb = w[n].end_kb = -1;
			w[n].checked = !rel_maps_contain(pids[i], "libasan") &&
				       !rel_maps_contain(pids[i], "vgpreload");
		}
	}
	return n;
}

static void
test_soak(void **state)
{
	long seconds = env_long("SOAK_SECONDS", 60, 5, 3600);
	long conns = env_long("SOAK_CONNECTIONS", 64, 1, 1024);
	long max_kb = env_long("SOAK_RSS_GROWTH_KB", 8192, 0, 1L << 30);
	long max_pct = env_long("SOAK_RSS_GROWTH_PCT", 50, 0, 10000);
	long warmup = seconds >= 30 ? 10 : seconds / 3;
	struct load_config cfg = {
		.threads = (int)conns,
		.max_ms = (int)seconds * 1000,
		.max_requests = 50000000,
		.get_weight = 80,
		.list_weight = 10,
		.update_weight = 9,
		.create_weight = 1,
		.shared_circles = 8,
		.shared_update_pct = 10,
		.backoff_ms = 0,
		.prefix = "rel-soak-",
	};
	struct worker w[2 * MAX_WORKERS];
	size_t nw, grew = 0;
	struct ledger *ledger;
	struct load *l;
	struct load_stats s;
	long long t0;
	int rc;

	(void)state;
	rel_assert_healthy();
	nw = workers(w, 2 * MAX_WORKERS);
	if (nw == 0)
		printf("  no worker pids (CIRCLE_RUN_DIR unset?): memory is not checked\n");
	ledger = ledger_new();
	printf("  soak: %ld connections for %ld s, warm-up %ld s\n", conns, seconds, warmup);
	t0 = rel_now_ms();
	l = load_start(&cfg, ledger);
	assert_non_null(l);
	rel_sleep_ms((int)warmup * 1000);
	for (size_t i = 0; i < nw; i++)
		w[i].warm_kb = rel_rss_kb(w[i].pid);
	/* the clients stop by themselves at the time bound */
	rel_sleep_ms((int)(seconds - warmup) * 1000);
	load_stop(l, &s);
	load_print("soak", &s, (long)(rel_now_ms() - t0));
	for (size_t i = 0; i < nw; i++)
		w[i].end_kb = rel_rss_kb(w[i].pid);

	for (size_t i = 0; i < nw; i++) {
		long d = w[i].end_kb - w[i].warm_kb;
		int over = w[i].end_kb < 0 || w[i].warm_kb < 0 || d > max_kb ||
			   d * 100 > (long)max_pct * w[i].warm_kb;

		printf("  RSS %-7s worker pid %-7d after warm-up %6ld KiB, at the end %6ld KiB, "
		       "%+ld KiB%s\n",
		       w[i].pool, (int)w[i].pid, w[i].warm_kb, w[i].end_kb, d,
		       !over          ? ""
		       : w[i].checked ? "  OVER THE BOUND"
				      : "  (over the bound, not enforced: ASan or valgrind)");
		/* ASan's quarantine and valgrind hold freed memory, so RSS grows
		 * by design; there LeakSanitizer or memcheck find leaks instead. */
		grew += over && w[i].checked;
	}
	printf("  RSS bound: at most +%ld KiB and +%ld%% per worker after warm-up\n", max_kb,
	       max_pct);

	load_assert_clean("soak", &s, ledger);
	rc = rel_circlectl_verify();
	if (rc != 0)
		fail_msg("circlectl verify exited %d", rc);
	for (size_t i = 0; i < nw; i++)
		if (!rel_alive(w[i].pid))
			fail_msg("%s worker pid %d died during the soak", w[i].pool, (int)w[i].pid);
	if (grew > 0)
		fail_msg("%zu worker(s) grew past the RSS bound", grew);
	rel_assert_healthy();
	load_free(l);
	ledger_free(ledger);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak),
	};

	if (rel_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("reliability: soak", tests, NULL, NULL);
}
