/*
 * The bounded concurrent load (see load.h).
 */
#include "load.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rel.h"

#define CT_JSON "Content-Type: application/json"
#define CAPACITY_MIN 3
#define CAPACITY_MAX 32767
/* One in this many updates renames the circle too. */
#define RENAME_ONE_IN 6
/* Circles a read picks from: the shared ones and every acknowledged create. */
#define POOL_MAX 200000

enum op { OP_GET, OP_LIST, OP_UPDATE, OP_CREATE };

struct circle_state {
	char id[REL_ID_LEN + 1];
	int version;
	int capacity;
	int known; /* version and capacity are what the service has */
};

struct pending_create {
	char *key;
	char *body;
	char *name;
	int capacity;
};

struct client {
	pthread_t thread;
	struct load *load;
	uint64_t rng;
	struct circle_state *own;
	size_t nown, capown;
};

struct load {
	struct load_config cfg;
	struct ledger *ledger;
	pthread_mutex_t lock; /* guards everything below it */
	struct load_stats stats;
	char (*pool)[REL_ID_LEN + 1];
	size_t npool;
	struct pending_create *pending;
	size_t npending, cappending;
	struct circle_state *shared;
	size_t nshared;
	struct client *clients;
	int started;
	atomic_int stop;
	atomic_long sent;
	long long deadline;
};

/* ------------------------------------------------------------ helpers */

static uint32_t
next_rand(struct client *c, uint32_t n)
{
	/* xorshift64: plenty for picking operations, and no lock */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return n ? (uint32_t)(c->rng % n) : 0;
}

static int
random_capacity(struct client *c, int not )
{
	int v = CAPACITY_MIN + (int)next_rand(c, CAPACITY_MAX - CAPACITY_MIN + 1);

	if (v == not )
		v = v == CAPACITY_MAX ? CAPACITY_MIN : v + 1;
	return v;
}

static void bad(struct load *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
bad(struct load *l, const char *fmt, ...)
{
	pthread_mutex_lock(&l->lock);
	if (l->stats.bad < LOAD_BAD_KEPT) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(l->stats.bad_examples[l->stats.bad], sizeof(l->stats.bad_examples[0]),
			  fmt, ap);
		va_end(ap);
	}
	l->stats.bad++;
	pthread_mutex_unlock(&l->lock);
}

static int
running(struct load *l)
{
	return !atomic_load(&l->stop) && rel_now_ms() < l->deadline &&
	       atomic_load(&l->sent) < l->cfg.max_requests;
}

static void
pool_add(struct load *l, const char *id)
{
	pthread_mutex_lock(&l->lock);
	if (l->npool < POOL_MAX)
		memcpy(l->pool[l->npool++], id, REL_ID_LEN + 1);
	pthread_mutex_unlock(&l->lock);
}

/* A random readable circle into id; 0, or -1 when there is none yet. */
static int
pool_pick(struct client *c, char id[REL_ID_LEN + 1])
{
	struct load *l = c->load;
	int rc = -1;

	pthread_mutex_lock(&l->lock);
	if (l->npool > 0) {
		memcpy(id, l->pool[next_rand(c, (uint32_t)l->npool)], REL_ID_LEN + 1);
		rc = 0;
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* Sends one request and counts it; 0 when it was answered in time. */
static int
send_counted(struct client *c, enum op op, const char *method, const char *target,
	     const char *const *headers, const char *body, struct http_response *r)
{
	struct load *l = c->load;
	long long ms;
	int rc;

	atomic_fetch_add(&l->sent, 1);
	rc = rel_request(r, method, target, headers, body, body ? strlen(body) : 0,
			 REL_CLIENT_TIMEOUT_MS, &ms);
	pthread_mutex_lock(&l->lock);
	l->stats.requests++;
	l->stats.gets += op == OP_GET;
	l->stats.lists += op == OP_LIST;
	l->stats.creates += op == OP_CREATE;
	l->stats.updates += op == OP_UPDATE;
	l->stats.latency_sum_ms += ms;
	if (ms > l->stats.max_latency_ms)
		l->stats.max_latency_ms = (long)ms;
	if (rc != 0) {
		l->stats.no_answer++;
	} else if (r->status >= 200 && r->status < 300) {
		l->stats.s2xx++;
	} else if (r->status == 409) {
		l->stats.s409++;
	} else if (r->status == 503) {
		l->stats.s503++;
	}
	pthread_mutex_unlock(&l->lock);
	if (rc != 0) {
		bad(l, "%s %s: no answer within %d ms", method, target, REL_CLIENT_TIMEOUT_MS);
		return -1;
	}
	if (ms > REL_ANSWER_BOUND_MS)
		bad(l, "%s %s: answered %d after %lld ms", method, target, r->status, ms);
	return 0;
}

/* A 503 must be the problem the contract names; then the client backs off. */
static void
judge_503(struct client *c, const char *what, const struct http_response *r)
{
	if (!rel_is_problem(r, 503, "service_unavailable"))
		bad(c->load, "%s: 503 that is not a service_unavailable problem: %.120s", what,
		    r->body);
	if (c->load->cfg.backoff_ms > 0)
		rel_sleep_ms(c->load->cfg.backoff_ms);
}

/* A circle answer: its id, and version/capacity/name when asked for. */
static int
circle_body(const struct http_response *r, const char *id, json_object **out)
{
	json_object *o = rel_body_json(r);
	const char *got = rel_jstr(o, "circle_id");
	int64_t v, cap;

	if (!o || !got || (id && strcmp(got, id) != 0) || rel_jint(o, "version", &v) != 0 ||
	    rel_jint(o, "capacity", &cap) != 0 || !rel_jstr(o, "circle_name")) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}

/* ------------------------------------------------------------ operations */

/* GET /circle/{id}: fills st when given. 0 on a 200. */
static int
op_get(struct client *c, const char *id, struct circle_state *st)
{
	struct http_response r;
	char *path = rel_strf("/circle/%s", id);
	json_object *o = NULL;
	int rc = -1;

	if (send_counted(c, OP_GET, "GET", path, NULL, NULL, &r) != 0)
		goto out;
	if (r.status == 200 && circle_body(&r, id, &o) == 0) {
		int64_t v = 0, cap = 0;

		rel_jint(o, "version", &v);
		rel_jint(o, "capacity", &cap);
		if (st) {
			st->version = (int)v;
			st->capacity = (int)cap;
			st->known = 1;
		}
		json_object_put(o);
		rc = 0;
	} else if (r.status == 503) {
		judge_503(c, path, &r);
	} else {
		bad(c->load, "GET %s answered %d: %.120s", path, r.status, r.body);
	}
	http_response_free(&r);
out:
	free(path);
	return rc;
}

static void
op_list(struct client *c)
{
	struct http_response r;
	char id[REL_ID_LEN + 1], *target;
	json_object *o;

	if (next_rand(c, 2) == 0 && pool_pick(c, id) == 0)
		target = rel_strf("/circle?limit=20&after=%s", id);
	else
		target = rel_strf("/circle?limit=20");
	if (send_counted(c, OP_LIST, "GET", target, NULL, NULL, &r) != 0)
		goto out;
	if (r.status == 200) {
		json_object *arr;

		o = rel_body_json(&r);
		if (!o || !json_object_object_get_ex(o, "circles", &arr) ||
		    !json_object_is_type(arr, json_type_array))
			bad(c->load, "GET %s: 200 without a circles array", target);
		json_object_put(o);
	} else if (r.status == 503) {
		judge_503(c, target, &r);
	} else {
		bad(c->load, "GET %s answered %d: %.120s", target, r.status, r.body);
	}
	http_response_free(&r);
out:
	free(target);
}

static void
own_add(struct client *c, const char *id, int capacity)
{
	if (c->nown == c->capown) {
		size_t cap = c->capown ? c->capown * 2 : 64;
		struct circle_state *bigger = realloc(c->own, cap * sizeof(*bigger));

		if (!bigger)
			abort();
		c->own = bigger;
		c->capown = cap;
	}
	snprintf(c->own[c->nown].id, sizeof(c->own[0].id), "%s", id);
	c->own[c->nown].version = 1;
	c->own[c->nown].capacity = capacity;
	c->own[c->nown].known = 1;
	c->nown++;
}

static void
keep_pending(struct load *l, const char *key, const char *body, const char *name, int capacity)
{
	struct pending_create *p;

	pthread_mutex_lock(&l->lock);
	if (l->npending == l->cappending) {
		size_t cap = l->cappending ? l->cappending * 2 : 64;
		struct pending_create *bigger = realloc(l->pending, cap * sizeof(*bigger));

		if (!bigger)
			abort();
		l->pending = bigger;
		l->cappending = cap;
	}
	p = &l->pending[l->npending++];
	p->key = strdup(key);
	p->body = strdup(body);
	p->name = strdup(name);
	p->capacity = capacity;
	if (!p->key || !p->body || !p->name)
		abort();
	l->stats.creates_503++;
	pthread_mutex_unlock(&l->lock);
}

/* Judges a create's answer; on 201 returns the circle's id in id. */
static int
create_answer(struct load *l, const struct http_response *r, const char *name, int capacity,
	      char id[REL_ID_LEN + 1])
{
	json_object *o = NULL;
	int64_t v = 0, cap = 0;
	const char *got_name;

	if (r->status != 201)
		return -1;
	if (circle_body(r, NULL, &o) != 0) {
		bad(l, "POST /circle: 201 without a circle: %.120s", r->body);
		return -1;
	}
	rel_jint(o, "version", &v);
	rel_jint(o, "capacity", &cap);
	got_name = rel_jstr(o, "circle_name");
	if (v != 1 || cap != capacity || strcmp(got_name, name) != 0) {
		bad(l, "POST /circle: 201 with another circle: %.160s", r->body);
		json_object_put(o);
		return -1;
	}
	snprintf(id, REL_ID_LEN + 1, "%s", rel_jstr(o, "circle_id"));
	json_object_put(o);
	return 0;
}

static void
op_create(struct client *c)
{
	struct load *l = c->load;
	struct http_response r;
	char *name = rel_unique(l->cfg.prefix), *key = rel_unique("rel-");
	char *qname = rel_json_quote(name), *hkey = rel_strf("Idempotency-Key: %s", key);
	int capacity = random_capacity(c, 0);
	char *body = rel_strf("{\"circle_name\":%s,\"capacity\":%d}", qname, capacity);
	const char *h[] = {CT_JSON, hkey, NULL};
	char id[REL_ID_LEN + 1];

	if (send_counted(c, OP_CREATE, "POST", "/circle", h, body, &r) != 0) {
		/* unanswered: it may have been applied; its key settles that */
		keep_pending(l, key, body, name, capacity);
		goto out;
	}
	if (create_answer(l, &r, name, capacity, id) == 0) {
		ledger_create(l->ledger, id, name, capacity);
		pthread_mutex_lock(&l->lock);
		l->stats.creates_acked++;
		pthread_mutex_unlock(&l->lock);
		own_add(c, id, capacity);
		pool_add(l, id);
	} else if (r.status == 503) {
		keep_pending(l, key, body, name, capacity);
		judge_503(c, "POST /circle", &r);
	} else if (r.status != 201) {
		bad(l, "POST /circle answered %d: %.120s", r.status, r.body);
	}
	http_response_free(&r);
out:
	free(body);
	free(hkey);
	free(qname);
	free(key);
	free(name);
}

/* PUT at the version st says; st follows the answer. */
static void
put_circle(struct client *c, struct circle_state *st)
{
	struct load *l = c->load;
	struct http_response r;
	int capacity = random_capacity(c, st->capacity);
	char *name = NULL, *qname = NULL, *body, *path = rel_strf("/circle/%s", st->id);
	const char *h[] = {CT_JSON, NULL};
	json_object *o = NULL;

	if (next_rand(c, RENAME_ONE_IN) == 0) {
		name = rel_unique(l->cfg.prefix);
		qname = rel_json_quote(name);
		body = rel_strf("{\"circle_name\":%s,\"capacity\":%d,\"version\":%d}", qname,
				capacity, st->version);
	} else {
		body = rel_strf("{\"capacity\":%d,\"version\":%d}", capacity, st->version);
	}
	if (send_counted(c, OP_UPDATE, "PUT", path, h, body, &r) != 0) {
		st->known = 0;
		goto out;
	}
	if (r.status == 200) {
		int64_t v = 0, cap = 0;
		const char *got_name = NULL;

		if (circle_body(&r, st->id, &o) == 0) {
			rel_jint(o, "version", &v);
			rel_jint(o, "capacity", &cap);
			got_name = rel_jstr(o, "circle_name");
		}
		if (!o || v != st->version + 1 || cap != capacity ||
		    (name && strcmp(got_name, name) != 0)) {
			bad(l, "PUT %s (%s) answered 200 with %.160s", path, body, r.body);
			st->known = 0;
		} else {
			ledger_update(l->ledger, st->id, (int)v, name, capacity);
			pthread_mutex_lock(&l->lock);
			l->stats.updates_acked++;
			pthread_mutex_unlock(&l->lock);
			st->version = (int)v;
			st->capacity = capacity;
		}
		json_object_put(o);
	} else if (r.status == 409) {
		st->known = 0;
	} else if (r.status == 503) {
		/* applied or not: the next look tells */
		st->known = 0;
		pthread_mutex_lock(&l->lock);
		l->stats.updates_503++;
		pthread_mutex_unlock(&l->lock);
		judge_503(c, path, &r);
	} else {
		st->known = 0;
		bad(l, "PUT %s answered %d: %.120s", path, r.status, r.body);
	}
	http_response_free(&r);
out:
	free(path);
	free(body);
	free(qname);
	free(name);
}

static void
op_update(struct client *c)
{
	struct load *l = c->load;
	struct circle_state shared, *st;

	if (l->nshared > 0 && (c->nown == 0 || (int)next_rand(c, 100) < l->cfg.shared_update_pct)) {
		/* a circle others update too: read it, then race them */
		shared = l->shared[next_rand(c, (uint32_t)l->nshared)];
		if (op_get(c, shared.id, &shared) != 0)
			return;
		put_circle(c, &shared);
		return;
	}
	if (c->nown == 0) {
		op_create(c);
		return;
	}
	st = &c->own[next_rand(c, (uint32_t)c->nown)];
	if (!st->known && op_get(c, st->id, st) != 0)
		return;
	put_circle(c, st);
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	struct load *l = c->load;
	const struct load_config *cfg = &l->cfg;
	uint32_t total = (uint32_t)(cfg->get_weight + cfg->list_weight + cfg->update_weight +
				    cfg->create_weight);

	while (running(l)) {
		uint32_t pick = next_rand(c, total);

		if (pick < (uint32_t)cfg->get_weight) {
			char id[REL_ID_LEN + 1];

			if (pool_pick(c, id) == 0)
				op_get(c, id, NULL);
			else
				op_list(c);
		} else if (pick < (uint32_t)(cfg->get_weight + cfg->list_weight)) {
			op_list(c);
		} else if (pick <
			   (uint32_t)(cfg->get_weight + cfg->list_weight + cfg->update_weight)) {
			op_update(c);
		} else {
			op_create(c);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ the run */

/* One circle for everyone to update, created before the clients start. */
static int
create_shared(struct load *l, struct circle_state *st)
{
	struct http_response r;
	char *name = rel_unique(l->cfg.prefix), *q = rel_json_quote(name);
	char *body = rel_strf("{\"circle_name\":%s,\"capacity\":10}", q);
	const char *h[] = {CT_JSON, NULL};
	int rc = -1;

	if (rel_request(&r, "POST", "/circle", h, body, strlen(body), REL_CLIENT_TIMEOUT_MS,
			NULL) == 0) {
		if (create_answer(l, &r, name, 10, st->id) == 0) {
			ledger_create(l->ledger, st->id, name, 10);
			pool_add(l, st->id);
			st->version = 1;
			st->capacity = 10;
			st->known = 1;
			rc = 0;
		} else {
			printf("    shared circle: POST answered %d: %.200s\n", r.status, r.body);
		}
		http_response_free(&r);
	}
	free(body);
	free(q);
	free(name);
	return rc;
}

struct load *
load_start(const struct load_config *cfg, struct ledger *ledger)
{
	struct load *l = calloc(1, sizeof(*l));
	int i;

	if (!l || cfg->threads < 1)
		goto fail;
	l->cfg = *cfg;
	l->ledger = ledger;
	pthread_mutex_init(&l->lock, NULL);
	atomic_init(&l->stop, 0);
	atomic_init(&l->sent, 0);
	l->pool = malloc(POOL_MAX * sizeof(*l->pool));
	l->shared = calloc((size_t)(cfg->shared_circles > 0 ? cfg->shared_circles : 1),
			   sizeof(*l->shared));
	l->clients = calloc((size_t)cfg->threads, sizeof(*l->clients));
	if (!l->pool || !l->shared || !l->clients)
		goto fail;
	for (i = 0; i < cfg->shared_circles; i++) {
		if (create_shared(l, &l->shared[i]) != 0)
			goto fail;
		l->nshared++;
	}
	l->deadline = rel_now_ms() + cfg->max_ms;
	for (i = 0; i < cfg->threads; i++) {
		struct client *c = &l->clients[i];

		c->load = l;
		c->rng = ((uint64_t)rel_rand(UINT32_MAX) << 32) | rel_rand(UINT32_MAX) | 1u;
		if (pthread_create(&c->thread, NULL, client_main, c) != 0) {
			atomic_store(&l->stop, 1);
			break;
		}
		l->started++;
	}
	if (l->started == cfg->threads)
		return l;
	for (i = 0; i < l->started; i++)
		pthread_join(l->clients[i].thread, NULL);
	l->started = 0;
fail:
	load_free(l);
	return NULL;
}

void
load_snapshot(struct load *l, struct load_stats *out)
{
	pthread_mutex_lock(&l->lock);
	*out = l->stats;
	pthread_mutex_unlock(&l->lock);
}

void
load_stop(struct load *l, struct load_stats *out)
{
	atomic_store(&l->stop, 1);
	for (int i = 0; i < l->started; i++)
		pthread_join(l->clients[i].thread, NULL);
	l->started = 0;
	load_snapshot(l, out);
}

long
load_retry_creates(struct load *l, long *retried)
{
	long failed = 0;

	*retried = 0;
	for (size_t i = 0; i < l->npending; i++) {
		struct pending_create *p = &l->pending[i];
		char *hkey = rel_strf("Idempotency-Key: %s", p->key);
		const char *h[] = {CT_JSON, hkey, NULL};
		struct http_response r;

		(*retried)++;
		if (rel_request(&r, "POST", "/circle", h, p->body, strlen(p->body),
				REL_CLIENT_TIMEOUT_MS, NULL) != 0) {
			printf("    retry of create %s: no answer\n", p->key);
			failed++;
		} else {
			char id[REL_ID_LEN + 1];

			if (create_answer(l, &r, p->name, p->capacity, id) == 0) {
				ledger_create(l->ledger, id, p->name, p->capacity);
			} else {
				printf("    retry of create %s answered %d: %.200s\n", p->key,
				       r.status, r.body);
				failed++;
			}
			http_response_free(&r);
		}
		free(hkey);
	}
	return failed;
}

void
load_free(struct load *l)
{
	if (!l)
		return;
	if (l->started) {
		struct load_stats ignored;

		load_stop(l, &ignored);
	}
	for (size_t i = 0; i < l->npending; i++) {
		free(l->pending[i].key);
		free(l->pending[i].body);
		free(l->pending[i].name);
	}
	free(l->pending);
	if (l->clients)
		for (int i = 0; i < l->cfg.threads; i++)
			free(l->clients[i].own);
	free(l->clients);
	free(l->shared);
	free(l->pool);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void
load_print(const char *title, const struct load_stats *s, long ms)
{
	printf("  %s: %ld requests in %.1f s (%.0f/s): %ld GET circle, %ld GET list, "
	       "%ld PUT, %ld POST\n",
	       title, s->requests, (double)ms / 1000.0,
	       ms > 0 ? (double)s->requests * 1000.0 / (double)ms : 0.0, s->gets, s->lists,
	       s->updates, s->creates);
	printf("  %s: answers 2xx %ld, 409 %ld, 503 %ld, not allowed %ld, unanswered %ld; "
	       "latency mean %.1f ms, max %ld ms\n",
	       title, s->s2xx, s->s409, s->s503, s->bad, s->no_answer,
	       s->requests ? (double)s->latency_sum_ms / (double)s->requests : 0.0,
	       s->max_latency_ms);
	printf("  %s: acknowledged %ld creates, %ld updates; 503 on %ld creates, %ld updates\n",
	       title, s->creates_acked, s->updates_acked, s->creates_503, s->updates_503);
	for (long i = 0; i < s->bad && i < LOAD_BAD_KEPT; i++)
		printf("  %s: NOT ALLOWED: %s\n", title, s->bad_examples[i]);
}

void
load_assert_clean(const char *title, const struct load_stats *s, struct ledger *ledger)
{
	size_t verified = 0, lost;

	if (s->no_answer > 0)
		fail_msg("%ld requests got no answer within %d ms", s->no_answer,
			 REL_CLIENT_TIMEOUT_MS);
	if (s->s503 > 0 || s->bad > 0)
		fail_msg("%ld answers 503 and %ld not allowed; first: %s", s->s503, s->bad,
			 s->bad ? s->bad_examples[0] : "(a 503)");
	lost = ledger_verify(ledger, &verified);
	printf("  %s: writes verified %zu of %zu acknowledged, lost %zu\n", title, verified,
	       ledger_count(ledger), lost);
	if (lost > 0)
		fail_msg("%s: %zu acknowledged writes are not in the event store", title, lost);
}
