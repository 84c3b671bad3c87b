/*
 * The read floor of the benchmark: the least a FastCGI responder can do to
 * answer GET /circle/{id} from the projection. One persistent connection,
 * one prepared primary-key SELECT, the row printed with snprintf. No
 * validation, no escaping, no error format: what circle-query.fcgi does on
 * top of this is what the benchmark's ratio measures.
 *
 * Database settings: the option file $CIRCLE_DB_CONFIG, group circle-query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <mysql.h>

#define ID_LEN 36

static const char sql[] = "SELECT circle_id, name, capacity, version, deleted"
			  " FROM circle_projections WHERE circle_id = ?";

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

static void
answer(FCGX_Request *fr, const char *head, const char *body, int body_len)
{
	FCGX_PutS(head, fr->out);
	FCGX_PutStr(body, body_len, fr->out);
}

int
main(void)
{
	FCGX_Request fr;
	MYSQL *db;
	MYSQL_STMT *st;
	MYSQL_BIND p[1], r[5];
	char key[ID_LEN + 1], id[ID_LEN + 2], name[401], body[1024], head[256];
	unsigned long key_len = ID_LEN, id_len, name_len;
	int capacity;
	unsigned version;
	signed char deleted;

	db = connect_db();
	if (db == NULL)
		return 1;
	st = mysql_stmt_init(db);
	if (st == NULL || mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
		fprintf(stderr, "floor-read: prepare: %s\n", mysql_error(db));
		return 1;
	}
	memset(p, 0, sizeof(p));
	p[0].buffer_type = MYSQL_TYPE_STRING;
	p[0].buffer = key;
	p[0].buffer_length = ID_LEN;
	p[0].length = &key_len;
	memset(r, 0, sizeof(r));
	r[0].buffer_type = MYSQL_TYPE_STRING;
	r[0].buffer = id;
	r[0].buffer_length = sizeof(id);
	r[0].length = &id_len;
	r[1].buffer_type = MYSQL_TYPE_STRING;
	r[1].buffer = name;
	r[1].buffer_length = sizeof(name);
	r[1].length = &name_len;
	r[2].buffer_type = MYSQL_TYPE_LONG;
	r[2].buffer = &capacity;
	r[3].buffer_type = MYSQL_TYPE_LONG;
	r[3].buffer = &version;
	r[3].is_unsigned = 1;
	r[4].buffer_type = MYSQL_TYPE_TINY;
	r[4].buffer = &deleted;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&fr) >= 0) {
		const char *uri = FCGX_GetParam("REQUEST_URI", fr.envp);
		int n = 0;

		if (uri == NULL || strncmp(uri, "/circle/", 8) != 0 || strlen(uri + 8) < ID_LEN) {
			answer(&fr, "Status: 404 Not Found\r\n\r\n", "", 0);
			FCGX_Finish_r(&fr);
			continue;
		}
		memcpy(key, uri + 8, ID_LEN);
		key[ID_LEN] = '\0';
		if (mysql_stmt_bind_param(st, p) == 0 && mysql_stmt_execute(st) == 0 &&
		    mysql_stmt_store_result(st) == 0 && mysql_stmt_bind_result(st, r) == 0 &&
		    mysql_stmt_fetch(st) == 0) {
			id[id_len < sizeof(id) ? id_len : sizeof(id) - 1] = '\0';
			name[name_len < sizeof(name) ? name_len : sizeof(name) - 1] = '\0';
			n = snprintf(body, sizeof(body),
				     "{\"circle_id\":\"%s\",\"circle_name\":\"%s\",\"capacity\":%d,"
				     "\"version\":%u}",
				     id, name, capacity, version);
		}
		mysql_stmt_free_result(st);
		if (n > 0 && (size_t)n < sizeof(body)) {
			snprintf(head, sizeof(head),
				 "Status: 200 OK\r\nContent-Type: application/json\r\n"
				 "Content-Length: %d\r\nETag: \"%u\"\r\n\r\n",
				 n, version);
			answer(&fr, head, body, n);
		} else {
			answer(&fr, "Status: 404 Not Found\r\n\r\n", "", 0);
		}
		FCGX_Finish_r(&fr);
	}
	mysql_stmt_close(st);
	mysql_close(db);
	return 0;
}
