/*
 * The tests' own MariaDB session (see dbsession.h).
 */
#include "dbsession.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

struct dbs {
	MYSQL *db;
};

static void
why_db(MYSQL *db, const char *what, char *why, size_t why_len)
{
	snprintf(why, why_len, "%s: %u %s", what, mysql_errno(db), mysql_error(db));
}

struct dbs *
dbs_open(const char *option_file, const char *group, char *why, size_t why_len)
{
	struct dbs *d = calloc(1, sizeof(*d));
	unsigned timeout = 30;

	if (!d || !(d->db = mysql_init(NULL))) {
		snprintf(why, why_len, "out of memory");
		free(d);
		return NULL;
	}
	if ((option_file && mysql_optionsv(d->db, MYSQL_READ_DEFAULT_FILE, option_file)) ||
	    mysql_optionsv(d->db, MYSQL_READ_DEFAULT_GROUP, group) ||
	    mysql_optionsv(d->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) ||
	    mysql_optionsv(d->db, MYSQL_OPT_READ_TIMEOUT, &timeout) ||
	    !mysql_real_connect(d->db, NULL, NULL, NULL, NULL, 0, NULL, 0)) {
		why_db(d->db, "connect", why, why_len);
		dbs_close(d);
		return NULL;
	}
	return d;
}

static int
is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* Runs sql; its rows, the columns of each separated by a space, go to out
 * when out is not NULL. */
static int
run(struct dbs *d, const char *sql, char *out, size_t out_len, char *why, size_t why_len)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t used = 0;

	if (mysql_query(d->db, sql) != 0) {
		why_db(d->db, sql, why, why_len);
		return -1;
	}
	/* a SELECT's rows must be read before the next statement */
	res = mysql_store_result(d->db);
	if (!res) {
		if (mysql_field_count(d->db) == 0)
			return 0;
		why_db(d->db, sql, why, why_len);
		return -1;
	}
	if (out && out_len > 0)
		out[0] = '\0';
	while (out && (row = mysql_fetch_row(res)) != NULL) {
		for (unsigned i = 0; i < mysql_num_fields(res) && used < out_len; i++) {
			int n = snprintf(out + used, out_len - used, "%s%s", used ? " " : "",
					 row[i] ? row[i] : "NULL");

			used += n > 0 ? (size_t)n : 0;
		}
	}
	mysql_free_result(res);
	return 0;
}

int
dbs_lock_circle(struct dbs *d, const char *circle_id, char *why, size_t why_len)
{
	char sql[160];

	/* only a UUID goes into the statement, so no quoting is needed */
	if (!is_uuid(circle_id)) {
		snprintf(why, why_len, "not a circle id: %.40s", circle_id);
		return -1;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT version FROM circle_projections WHERE circle_id = '%s' FOR UPDATE",
		 circle_id);
	if (run(d, "BEGIN", NULL, 0, why, why_len) != 0)
		return -1;
	return run(d, sql, NULL, 0, why, why_len);
}

int
dbs_rollback(struct dbs *d, char *why, size_t why_len)
{
	return run(d, "ROLLBACK", NULL, 0, why, why_len);
}

int
dbs_fingerprint(struct dbs *d, int full, char *out, size_t out_len, char *why, size_t why_len)
{
	static const char counts[] = "SELECT (SELECT COUNT(*) FROM circle_events),"
				     " (SELECT COALESCE(MAX(`position`), 0) FROM circle_events),"
				     " (SELECT COUNT(*) FROM circle_projections)";
	size_t n;

	if (run(d, counts, out, out_len, why, why_len) != 0)
		return -1;
	if (!full)
		return 0;
	n = strlen(out);
	if (n + 2 >= out_len)
		return 0;
	out[n++] = ' ';
	return run(d, "CHECKSUM TABLE circle_projections", out + n, out_len - n, why, why_len);
}

int
dbs_exec(struct dbs *d, const char *sql, char *why, size_t why_len)
{
	return run(d, sql, NULL, 0, why, why_len);
}

void
dbs_close(struct dbs *d)
{
	if (!d)
		return;
	if (d->db)
		mysql_close(d->db);
	free(d);
}
