/*
 * Administration of circle's database: what circlectl's migrate and grants
 * need, run with an administrator's credentials (never a worker's). Like the
 * rest of store/, the only code that speaks SQL.
 *
 * Every function returns 0 on success and -1 on failure, with the reason in
 * store_admin_error().
 */
#ifndef CIRCLE_STORE_STORE_ADMIN_H
#define CIRCLE_STORE_STORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* A SHA-256 as 64 lower-case hex digits and a NUL. */
#define STORE_CHECKSUM_LEN 64

struct store_admin;

/* Connects with cfg (its database is ignored: none is selected yet).
 * NULL when out of memory; a failed connect is reported by the first call
 * (store_admin_error() says why). */
struct store_admin *store_admin_open(const struct store_config *cfg);
void store_admin_close(struct store_admin *a);
const char *store_admin_error(const struct store_admin *a);

/* Creates the database when it does not exist (utf8mb4) and makes it the
 * current one. Names are [A-Za-z0-9_], 1-64 characters. */
int store_admin_use(struct store_admin *a, const char *database);

/* Takes / releases the server-wide named lock of the migrator, waiting up to
 * `seconds`; two migrators never apply at the same time. */
int store_admin_lock(struct store_admin *a, unsigned seconds);
void store_admin_unlock(struct store_admin *a);

/* The table of applied migrations (created when missing). */
struct store_migration {
	char name[256];
	char checksum[STORE_CHECKSUM_LEN + 1];
	char applied_at[32]; /* UTC, "YYYY-MM-DD HH:MM:SS" */
};
/* The applied migrations by name, into a malloc'ed array (*out, *n). */
int store_migrations_applied(struct store_admin *a, struct store_migration **out, size_t *n);
/* SHA-256 of text[0..len) as the server computes it. */
int store_admin_checksum(struct store_admin *a, const char *text, size_t len,
			 char out[STORE_CHECKSUM_LEN + 1]);
/* Runs one migration file (any number of statements), then records it. */
int store_migration_apply(struct store_admin *a, const char *name, const char *sql, size_t len,
			  const char *checksum);

/* The two database users, one per worker pool. */
enum store_pool { STORE_POOL_COMMAND, STORE_POOL_QUERY };
/* The user name of a pool: circle_command or circle_query. */
const char *store_pool_user(enum store_pool pool);
/*
 * Creates the pool's user (for 'localhost' and '127.0.0.1') when missing,
 * sets its password ([0-9a-f] only), and leaves it exactly the table
 * privileges on the current database that its worker uses: everything else
 * it had on those tables is revoked.
 */
int store_admin_grant(struct store_admin *a, enum store_pool pool, const char *password);
/* The server's unix socket path (empty when it has none). */
int store_admin_socket(struct store_admin *a, char *out, size_t size);

#endif
