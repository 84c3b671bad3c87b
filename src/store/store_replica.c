/*
 * Replication: commit tokens on the write side, waiting for them and the
 * replica's state on the read side.
 *
 * A commit token is the GTID list MariaDB gave a write. The write connection
 * asks the server to track last_gtid, so the reply to COMMIT carries the
 * GTID and getting the token costs no round trip. A read connection to a
 * replica waits for a token with MASTER_GTID_WAIT(), which any user may call.
 * On the server that made the write (a single database, or a replica that
 * was promoted) MASTER_GTID_WAIT() would wait for its slave position, which
 * never moves there: a token whose every GTID carries this server's own
 * server_id is answered at once instead, since its COMMIT was acknowledged
 * before the token was handed out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#include "store/store_internal.h"

void
store_track_commit(struct store *st)
{
	const char *data = NULL;
	size_t len = 0;

	st->commit_token[0] = '\0';
	if (mysql_session_track_get_first(st->db, SESSION_TRACK_SYSTEM_VARIABLES, &data, &len) != 0)
		return;
	/* The tracker lists names and values alternately. */
	do {
		bool is_gtid = data != NULL && len == 9 && memcmp(data, "last_gtid", 9) == 0;
		if (mysql_session_track_get_next(st->db, SESSION_TRACK_SYSTEM_VARIABLES, &data,
						 &len) != 0)
			return;
		if (is_gtid) {
			if (data != NULL && len <= COMMIT_TOKEN_MAX) {
				memcpy(st->commit_token, data, len);
				st->commit_token[len] = '\0';
			}
			return;
		}
	} while (mysql_session_track_get_next(st->db, SESSION_TRACK_SYSTEM_VARIABLES, &data,
					      &len) == 0);
}

void
store_replica_drop(struct store *st)
{
	if (st->slave_status != NULL) {
		mysql_stmt_close(st->slave_status);
		st->slave_status = NULL;
	}
	st->slave_status_denied = false;
	st->server_id_known = false;
}

/* A token from a server that wrote something longer than a token may be,
 * or anything but printable ASCII, is no token. */
static bool
token_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > COMMIT_TOKEN_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7E)
			return false;
	return true;
}

static enum cerr
binlog_pos_op(struct store *st, void *arg)
{
	char *out = arg;
	char buf[COMMIT_TOKEN_MAX + 2];
	unsigned long len = 0;
	my_bool nulls[1];
	MYSQL_BIND res[1];
	MYSQL_STMT *s = store_stmt(st, SQ_BINLOG_POS);
	bool row = false, txn_open = st->txn_open;
	enum cerr rc;

	memset(res, 0, sizeof(res));
	store_bind_text_out(&res[0], buf, sizeof(buf), &len);
	store_bind_nulls(res, nulls, 1);
	rc = store_exec(st, s, NULL, res);
	/* a variable, no table: nothing is held that needs ending */
	st->txn_open = txn_open;
	if (rc == CE_OK)
		rc = store_fetch(st, s, &row);
	/* Truncated (longer than a token) counts as no position. */
	if (rc == CE_INTERNAL && len >= sizeof(buf))
		rc = CE_OK;
	if (rc == CE_OK && row && !nulls[0] && token_ok(buf, len)) {
		memcpy(out, buf, len);
		out[len] = '\0';
	}
	store_done(st, SQ_BINLOG_POS);
	return rc;
}

enum cerr
store_port_commit_token(void *self, char out[COMMIT_TOKEN_MAX + 1])
{
	struct store *st = self;

	out[0] = '\0';
	if (st->commit_token[0] != '\0') {
		memcpy(out, st->commit_token, strlen(st->commit_token) + 1);
		st->commit_token[0] = '\0';
		return CE_OK;
	}
	return store_run(st, binlog_pos_op, out);
}

static enum cerr
server_id_op(struct store *st, void *arg)
{
	MYSQL_BIND res[1];
	MYSQL_STMT *s = store_stmt(st, SQ_SERVER_ID);
	bool row = false;
	enum cerr rc;

	(void)arg;
	memset(res, 0, sizeof(res));
	store_bind_u32(&res[0], &st->server_id);
	rc = store_exec(st, s, NULL, res);
	if (rc == CE_OK)
		rc = store_fetch(st, s, &row);
	if (rc == CE_OK && !row)
		rc = STORE_BAD("no server_id");
	store_done(st, SQ_SERVER_ID);
	return rc;
}

/* True when every GTID "domain-server-seq" of token names server `id`. */
static bool
token_all_from(const char *token, uint32_t id)
{
	const char *p = token;

	while (*p != '\0') {
		const char *dash = strchr(p, '-');
		char *end;
		unsigned long v;

		if (dash == NULL)
			return false;
		v = strtoul(dash + 1, &end, 10);
		if (end == dash + 1 || *end != '-' || v != id)
			return false;
		p = strchr(end, ',');
		if (p == NULL)
			break;
		p++;
	}
	return true;
}

struct wait_args {
	const char *token;
	unsigned timeout_ms;
	bool reached;
};

static enum cerr
wait_op(struct store *st, void *arg)
{
	struct wait_args *a = arg;
	MYSQL_BIND p[2], res[1];
	unsigned long token_len;
	double seconds = a->timeout_ms / 1000.0;
	int answer = -1;
	my_bool nulls[1];
	MYSQL_STMT *s;
	bool row = false;
	enum cerr rc;

	if (!st->server_id_known) {
		rc = server_id_op(st, NULL);
		if (rc != CE_OK)
			return rc;
		st->server_id_known = true;
	}
	if (token_all_from(a->token, st->server_id)) {
		a->reached = true;
		return CE_OK;
	}
	s = store_stmt(st, SQ_GTID_WAIT);
	memset(p, 0, sizeof(p));
	store_bind_text_in(&p[0], a->token, &token_len);
	p[1].buffer_type = MYSQL_TYPE_DOUBLE;
	p[1].buffer = &seconds;
	memset(res, 0, sizeof(res));
	store_bind_int(&res[0], &answer);
	store_bind_nulls(res, nulls, 1);
	rc = store_exec(st, s, p, res);
	if (rc == CE_OK)
		rc = store_fetch(st, s, &row);
	store_done(st, SQ_GTID_WAIT);
	if (rc != CE_OK)
		return rc;
	/* NULL: the wait was cut short (the server is going away). */
	if (!row || nulls[0])
		return CE_UNAVAILABLE;
	a->reached = answer == 0;
	return CE_OK;
}

enum cerr
store_port_wait_for(void *self, const char *token, unsigned timeout_ms)
{
	struct wait_args a = {.token = token, .timeout_ms = timeout_ms};

	if (token == NULL || token[0] == '\0')
		return CE_OK;
	enum cerr rc = store_run(self, wait_op, &a);
	if (rc != CE_OK)
		return rc;
	return a.reached ? CE_OK : CE_NOT_CAUGHT_UP;
}

/* The columns of SHOW SLAVE STATUS that are read; every other is skipped. */
enum { COL_IO, COL_SQL, COL_LAG, COL__N };
static const char *const col_names[COL__N] = {"Slave_IO_Running", "Slave_SQL_Running",
					      "Seconds_Behind_Master"};

/* The privilege SHOW SLAVE STATUS needs is missing (checked at prepare or
 * at execute, depending on the server). */
static bool
is_denied(unsigned e)
{
	return e == ER_SPECIFIC_ACCESS_DENIED_ERROR || e == ER_ACCESS_DENIED_ERROR;
}

static enum cerr
slave_status_prepare(struct store *st)
{
	static const char sql[] = "SHOW SLAVE STATUS";
	MYSQL_STMT *s = mysql_stmt_init(st->db);

	if (s == NULL)
		return STORE_DB_FAIL(st);
	if (mysql_stmt_prepare(s, sql, strlen(sql)) != 0) {
		unsigned e = mysql_stmt_errno(s);
		enum cerr rc = STORE_STMT_FAIL(st, s);

		mysql_stmt_close(s);
		/* Without SLAVE MONITOR the state stays unknown; asked again
		 * only on a new connection. */
		if (is_denied(e)) {
			st->slave_status_denied = true;
			return CE_OK;
		}
		return rc;
	}
	st->slave_status = s;
	return CE_OK;
}

static enum cerr
replication_op(struct store *st, void *arg)
{
	struct replication_state *out = arg;
	char vals[COL__N][32];
	unsigned long lens[COL__N] = {0};
	my_bool nulls[COL__N] = {0};
	int where[COL__N] = {-1, -1, -1};
	MYSQL_BIND *res = NULL;
	MYSQL_RES *meta = NULL;
	unsigned n, i, c;
	int f;
	enum cerr rc;

	memset(out, 0, sizeof(*out));
	out->lag_seconds = -1;
	if (st->slave_status == NULL && !st->slave_status_denied) {
		rc = slave_status_prepare(st);
		if (rc != CE_OK)
			return rc;
	}
	if (st->slave_status == NULL) {
		/* A replica or not, we cannot tell: say so, do not guess. */
		out->replica = true;
		return CE_OK;
	}
	n = mysql_stmt_field_count(st->slave_status);
	meta = mysql_stmt_result_metadata(st->slave_status);
	res = calloc(n > 0 ? n : 1, sizeof(*res));
	if (meta == NULL || res == NULL) {
		rc = meta == NULL ? STORE_STMT_FAIL(st, st->slave_status) : CE_INTERNAL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const MYSQL_FIELD *fd = mysql_fetch_field_direct(meta, i);

		res[i].buffer_type = MYSQL_TYPE_NULL;
		for (c = 0; c < COL__N; c++) {
			if (fd != NULL && strcmp(fd->name, col_names[c]) == 0) {
				where[c] = (int)i;
				store_bind_text_out(&res[i], vals[c], sizeof(vals[c]), &lens[c]);
				res[i].is_null = &nulls[c];
			}
		}
	}
	for (c = 0; c < COL__N; c++)
		if (where[c] < 0) {
			rc = STORE_BAD("SHOW SLAVE STATUS lacks a column");
			goto out;
		}
	if (mysql_stmt_execute(st->slave_status) != 0 ||
	    mysql_stmt_store_result(st->slave_status) != 0 ||
	    mysql_stmt_bind_result(st->slave_status, res) != 0) {
		unsigned e = mysql_stmt_errno(st->slave_status);

		rc = STORE_STMT_FAIL(st, st->slave_status);
		if (is_denied(e) && st->slave_status != NULL) {
			mysql_stmt_close(st->slave_status);
			st->slave_status = NULL;
			st->slave_status_denied = true;
			out->replica = true;
			rc = CE_OK;
		}
		goto out;
	}
	f = mysql_stmt_fetch(st->slave_status);
	if (f == MYSQL_NO_DATA) {
		rc = CE_OK; /* not a replica */
		goto out;
	}
	if (f != 0 && f != MYSQL_DATA_TRUNCATED) {
		rc = STORE_STMT_FAIL(st, st->slave_status);
		goto out;
	}
	for (c = 0; c < COL__N; c++) {
		size_t l = lens[c] < sizeof(vals[c]) ? lens[c] : sizeof(vals[c]) - 1;

		if (nulls[c])
			l = 0;
		vals[c][l] = '\0';
	}
	out->replica = true;
	out->known = true;
	snprintf(out->io_state, sizeof(out->io_state), "%s", vals[COL_IO]);
	snprintf(out->sql_state, sizeof(out->sql_state), "%s", vals[COL_SQL]);
	/* "Connecting": the primary is out of reach; what was received is
	 * still applied and the thread keeps trying by itself. */
	out->io_running =
		strcmp(vals[COL_IO], "Yes") == 0 || strcmp(vals[COL_IO], "Connecting") == 0;
	out->sql_running = strcmp(vals[COL_SQL], "Yes") == 0;
	if (!nulls[COL_LAG] && vals[COL_LAG][0] != '\0')
		out->lag_seconds = strtol(vals[COL_LAG], NULL, 10);
	rc = CE_OK;
out:
	/* st->slave_status may have been closed by a failure above */
	if (st->slave_status != NULL)
		mysql_stmt_free_result(st->slave_status);
	if (meta != NULL)
		mysql_free_result(meta);
	free(res);
	return rc;
}

enum cerr
store_port_replication(void *self, struct replication_state *out)
{
	return store_run(self, replication_op, out);
}
