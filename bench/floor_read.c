/*
 * The read floor of the benchmark: the least a FastCGI responder can do to
 * answer GET /circle/{id} and GET /circle?limit=N (the first page, N at most
 * 100) from the projection. One persistent connection, one prepared SELECT
 * for each, the rows printed with snprintf. No validation, no escaping, no
 * error format: what circle-query.fcgi does on top of this is what the
 * benchmark's ratios measure.
 *
 * Database settings: the option file $CIRCLE_DB_CONFIG, group circle-query.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <mysql.h>

#define ID_LEN 36
#define PAGE_MAX 100

static const char get_sql[] = "SELECT circle_id, name, capacity, version, deleted"
			      " FROM circle_projections WHERE circle_id = ?";
/* the service's page: live circles in id order, after an id ("" here) */
static const char list_sql[] = "SELECT circle_id, name, capacity, version, description"
			       " FROM circle_projections WHERE deleted = 0 AND circle_id > ?"
			       " ORDER BY circle_id LIMIT ?";

/* One row of either SELECT; each binds the columns it has. */
struct row {
	char id[ID_LEN + 2], name[401], description[2001];
	unsigned long id_len, name_len, description_len;
	int capacity;
	unsigned version;
	signed char deleted;
};

static MYSQL *
connect_db(void)
{
	const char *file = getenv("CIRCLE_DB_CONFIG");
	MYSQL *db = mysql_init(NULL);

	if (db == NULL)
		return NULL;
	if ((file != NULL && mysql_optionsv(db, MYSQL_READ_DEFAULT_FILE, file) != 0) ||
	    mysql_optionsv(db, MYSQL_READ_DEFAULT_GROUP, "circle-query") != 0 ||
	    mysql_real_connect(db, NULL, NULL, NULL, NULL, 0, NULL, 0) == NULL) {
		fprintf(stderr, "floor-read: connect: %s\n", mysql_error(db));
		mysql_close(db);
		return NULL;
	}
	return db;
}

static MYSQL_STMT *
prepare(MYSQL *db, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(db);

	if (st == NULL || mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		fprintf(stderr, "floor-read: prepare: %s\n", mysql_error(db));
		exit(1);
	}
	return st;
}

static void
bind_text(MYSQL_BIND *b, char *buf, size_t size, unsigned long *len)
{
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = buf;
	b->buffer_length = size;
	b->length = len;
}

static void
bind_long(MYSQL_BIND *b, void *v, bool is_unsigned)
{
	b->buffer_type = MYSQL_TYPE_LONG;
	b->buffer = v;
	b->is_unsigned = is_unsigned;
}

static void
terminate(char *s, unsigned long len, size_t size)
{
	s[len < size ? len : size - 1] = '\0';
}

static void
answer(FCGX_Request *fr, const char *body, int body_len, unsigned etag)
{
	char head[256];

	if (body_len <= 0) {
		FCGX_PutS("Status: 404 Not Found\r\n\r\n", fr->out);
		return;
	}
	if (etag > 0)
		snprintf(head, sizeof(head),
			 "Status: 200 OK\r\nContent-Type: application/json\r\n"
			 "Content-Length: %d\r\nETag: \"%u\"\r\n\r\n",
			 body_len, etag);
	else
		snprintf(head, sizeof(head),
			 "Status: 200 OK\r\nContent-Type: application/json\r\n"
			 "Content-Length: %d\r\n\r\n",
			 body_len);
	FCGX_PutS(head, fr->out);
	FCGX_PutStr(body, body_len, fr->out);
}

/* GET /circle/{id}: the body's length, 0 when there is none. */
static int
get_one(MYSQL_STMT *st, MYSQL_BIND *res, struct row *r, const char *id, char *body, size_t size)
{
	MYSQL_BIND p[1];
	char key[ID_LEN + 1];
	unsigned long key_len = ID_LEN;
	int n = 0;

	memcpy(key, id, ID_LEN);
	key[ID_LEN] = '\0';
	memset(p, 0, sizeof(p));
	bind_text(&p[0], key, ID_LEN, &key_len);
	if (mysql_stmt_bind_param(st, p) == 0 && mysql_stmt_execute(st) == 0 &&
	    mysql_stmt_store_result(st) == 0 && mysql_stmt_bind_result(st, res) == 0 &&
	    mysql_stmt_fetch(st) == 0) {
		terminate(r->id, r->id_len, sizeof(r->id));
		terminate(r->name, r->name_len, sizeof(r->name));
		n = snprintf(body, size,
			     "{\"circle_id\":\"%s\",\"circle_name\":\"%s\",\"capacity\":%d,"
			     "\"version\":%u}",
			     r->id, r->name, r->capacity, r->version);
	}
	mysql_stmt_free_result(st);
	return n > 0 && (size_t)n < size ? n : 0;
}

/* GET /circle?limit=N: the first page; the body's length, 0 on failure. */
static int
list_page(MYSQL_STMT *st, MYSQL_BIND *res, struct row *r, unsigned limit, char *body, size_t size)
{
	MYSQL_BIND p[2];
	char after[1] = "";
	unsigned long after_len = 0;
	size_t len = 0;
	int n, rows = 0, fetched;

	memset(p, 0, sizeof(p));
	bind_text(&p[0], after, 0, &after_len);
	bind_long(&p[1], &limit, true);
	len = (size_t)snprintf(body, size, "{\"circles\":[");
	if (mysql_stmt_bind_param(st, p) != 0 || mysql_stmt_execute(st) != 0 ||
	    mysql_stmt_bind_result(st, res) != 0)
		return 0;
	while ((fetched = mysql_stmt_fetch(st)) == 0) {
		terminate(r->id, r->id_len, sizeof(r->id));
		terminate(r->name, r->name_len, sizeof(r->name));
		terminate(r->description, r->description_len, sizeof(r->description));
		n = snprintf(body + len, size - len,
			     "%s{\"circle_id\":\"%s\",\"circle_name\":\"%s\",%s%s%s\"capacity\":%d,"
			     "\"version\":%u}",
			     rows > 0 ? "," : "", r->id, r->name,
			     r->description[0] != '\0' ? "\"description\":\"" : "", r->description,
			     r->description[0] != '\0' ? "\"," : "", r->capacity, r->version);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
		rows++;
	}
	mysql_stmt_free_result(st);
	if (fetched != MYSQL_NO_DATA)
		return 0;
	n = snprintf(body + len, size - len, "]%s%s%s}", rows > 0 ? ",\"next_after\":\"" : "",
		     rows > 0 ? r->id : "", rows > 0 ? "\"" : "");
	if (n < 0 || (size_t)n >= size - len)
		return 0;
	return (int)(len + (size_t)n);
}

int
main(void)
{
	static char body[PAGE_MAX * sizeof(struct row) + 64];
	static struct row r;
	FCGX_Request fr;
	MYSQL *db;
	MYSQL_STMT *get, *list;
	MYSQL_BIND get_res[5], list_res[5];

	db = connect_db();
	if (db == NULL)
		return 1;
	get = prepare(db, get_sql);
	list = prepare(db, list_sql);
	memset(get_res, 0, sizeof(get_res));
	bind_text(&get_res[0], r.id, sizeof(r.id), &r.id_len);
	bind_text(&get_res[1], r.name, sizeof(r.name), &r.name_len);
	bind_long(&get_res[2], &r.capacity, false);
	bind_long(&get_res[3], &r.version, true);
	get_res[4].buffer_type = MYSQL_TYPE_TINY;
	get_res[4].buffer = &r.deleted;
	memcpy(list_res, get_res, sizeof(list_res));
	bind_text(&list_res[4], r.description, sizeof(r.description), &r.description_len);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&fr) >= 0) {
		const char *uri = FCGX_GetParam("REQUEST_URI", fr.envp);
		const char *query = FCGX_GetParam("QUERY_STRING", fr.envp);
		const char *limit = query != NULL ? strstr(query, "limit=") : NULL;

		if (uri != NULL && strncmp(uri, "/circle/", 8) == 0 && strlen(uri + 8) >= ID_LEN) {
			int n = get_one(get, get_res, &r, uri + 8, body, sizeof(body));

			answer(&fr, body, n, n > 0 ? r.version : 0);
		} else if (uri != NULL && strncmp(uri, "/circle?", 8) == 0 && limit != NULL &&
			   atoi(limit + 6) > 0 && atoi(limit + 6) <= PAGE_MAX) {
			answer(&fr, body,
			       list_page(list, list_res, &r, (unsigned)atoi(limit + 6), body,
					 sizeof(body)),
			       0);
		} else {
			answer(&fr, body, 0, 0);
		}
		FCGX_Finish_r(&fr);
	}
	mysql_stmt_close(get);
	mysql_stmt_close(list);
	mysql_close(db);
	return 0;
}
