/*
 * The write floor of the benchmark: the least a FastCGI responder can do to
 * create a circle. One persistent connection with autocommit off, INSERT the
 * event, INSERT the projection row, COMMIT: three round trips. The body is
 * read and dropped; the name is made unique from the new id. The rows are
 * what the service itself writes for a create, so the database stays
 * consistent (circlectl verify) after a run.
 *
 * Database settings: the option file $CIRCLE_DB_CONFIG, group circle-command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <mysql.h>
#include <uuid/uuid.h>

#define ID_LEN 36
#define CAPACITY 10

static const char event_sql[] = "INSERT INTO circle_events"
				" (id, circle_id, version, event_type, payload, occurred_at)"
				" VALUES (?, ?, 1, 'circle_created', ?, UTC_TIMESTAMP(6))";
static const char projection_sql[] = "INSERT INTO circle_projections"
				     " (circle_id, name, capacity, version, deleted)"
				     " VALUES (?, ?, ?, 1, 0)";

static MYSQL *
connect_db(void)
{
	const char *file = getenv("CIRCLE_DB_CONFIG");
	MYSQL *db = mysql_init(NULL);

	if (db == NULL)
		return NULL;
	if ((file != NULL && mysql_optionsv(db, MYSQL_READ_DEFAULT_FILE, file) != 0) ||
	    mysql_optionsv(db, MYSQL_READ_DEFAULT_GROUP, "circle-command") != 0 ||
	    mysql_real_connect(db, NULL, NULL, NULL, NULL, 0, NULL, 0) == NULL ||
	    mysql_autocommit(db, 0) != 0) {
		fprintf(stderr, "floor-write: connect: %s\n", mysql_error(db));
		mysql_close(db);
		return NULL;
	}
	return db;
}

static MYSQL_STMT *
prepare(MYSQL *db, const char *sql)
{
	MYSQL_STMT *st = mysql_stmt_init(db);

	if (st != NULL && mysql_stmt_prepare(st, sql, strlen(sql)) == 0)
		return st;
	fprintf(stderr, "floor-write: prepare: %s\n", mysql_error(db));
	return NULL;
}

static void
bind_text(MYSQL_BIND *b, char *s, unsigned long *len)
{
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = s;
	b->length = len;
}

int
main(void)
{
	FCGX_Request fr;
	MYSQL *db;
	MYSQL_STMT *ev, *proj;
	MYSQL_BIND pe[3], pp[3];
	char event_id[ID_LEN + 1], circle_id[ID_LEN + 1], name[64], payload[160];
	char body[256], head[512], sink[4096];
	unsigned long event_id_len = ID_LEN, circle_id_len = ID_LEN, name_len, payload_len;
	int capacity = CAPACITY;

	db = connect_db();
	if (db == NULL)
		return 1;
	ev = prepare(db, event_sql);
	proj = prepare(db, projection_sql);
	if (ev == NULL || proj == NULL)
		return 1;
	memset(pe, 0, sizeof(pe));
	bind_text(&pe[0], event_id, &event_id_len);
	bind_text(&pe[1], circle_id, &circle_id_len);
	bind_text(&pe[2], payload, &payload_len);
	memset(pp, 0, sizeof(pp));
	bind_text(&pp[0], circle_id, &circle_id_len);
	bind_text(&pp[1], name, &name_len);
	pp[2].buffer_type = MYSQL_TYPE_LONG;
	pp[2].buffer = &capacity;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&fr) >= 0) {
		uuid_t u;
		int n;

		/* the body is not needed, only read to its end */
		while (FCGX_GetStr(sink, (int)sizeof(sink), fr.in) > 0) {
		}
		uuid_generate_random(u);
		uuid_unparse_lower(u, event_id);
		uuid_generate_random(u);
		uuid_unparse_lower(u, circle_id);
		name_len = (unsigned long)snprintf(name, sizeof(name), "floor-%s", circle_id);
		payload_len = (unsigned long)snprintf(
			payload, sizeof(payload),
			"{\"type\":\"circle_created\",\"name\":\"%s\",\"capacity\":%d}", name,
			capacity);
		if (mysql_stmt_bind_param(ev, pe) != 0 || mysql_stmt_execute(ev) != 0 ||
		    mysql_stmt_bind_param(proj, pp) != 0 || mysql_stmt_execute(proj) != 0 ||
		    mysql_commit(db) != 0) {
			fprintf(stderr, "floor-write: %s\n", mysql_error(db));
			mysql_rollback(db);
			FCGX_PutS("Status: 503 Service Unavailable\r\n\r\n", fr.out);
			FCGX_Finish_r(&fr);
			continue;
		}
		n = snprintf(body, sizeof(body),
			     "{\"circle_id\":\"%s\",\"circle_name\":\"%s\",\"capacity\":%d,"
			     "\"version\":1}",
			     circle_id, name, capacity);
		snprintf(head, sizeof(head),
			 "Status: 201 Created\r\nContent-Type: application/json\r\n"
			 "Content-Length: %d\r\nLocation: /circle/%s\r\nETag: \"1\"\r\n\r\n",
			 n, circle_id);
		FCGX_PutS(head, fr.out);
		FCGX_PutStr(body, n, fr.out);
		FCGX_Finish_r(&fr);
	}
	mysql_stmt_close(ev);
	mysql_stmt_close(proj);
	mysql_close(db);
	return 0;
}
