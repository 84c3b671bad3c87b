/*
 * circlectl export and import: the event log as NDJSON, one event a line in
 * position order, each with everything stored about it:
 *
 *   {"position":41,"feed_position":40,"schema_version":1,"event_id":"…",
 *    "circle_id":"…","version":2,"event_type":"circle_updated",
 *    "occurred_at":"2026-11-26T11:32:59.597295Z",
 *    "payload":"{\"type\":\"circle_updated\",\"capacity\":30}"}
 *
 * The payload is a JSON string holding the stored text byte for byte, so an
 * import stores exactly what was exported, and export -> import -> export
 * gives the same bytes. feed_position is null for an event the feed
 * sequencer had not numbered yet.
 *
 * export reads as the query user (CIRCLE_DB_CONFIG, [circle-query]); import
 * runs as an administrator, into a database with no events, in one
 * transaction, then rebuilds the projection: any line it refuses (named by
 * its number) leaves the database as empty as it was.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl/ctl.h"
#include "domain/text.h"
#include "store/store_bulk.h"

/* The longest line import reads: a payload of EVENT_JSON_MAX_LEN bytes,
 * escaped, and the rest. */
#define LINE_MAX_BYTES (8 * 65536 + 4096)

/* --- export --- */

static int
add(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -1;
	return json_object_object_add(o, key, v);
}

/* One event as its line; 1 out of memory or stdout failed. */
static int
print_event(void *arg, const struct store_stored_event *ev)
{
	json_object *o = json_object_new_object();
	int rc = 1;

	(void)arg;
	if (!o)
		return 1;
	if (add(o, "position", json_object_new_int64((int64_t)ev->position)) == 0 &&
	    (ev->feed_position
		     ? add(o, "feed_position", json_object_new_int64((int64_t)ev->feed_position))
		     : json_object_object_add(o, "feed_position", NULL)) == 0 &&
	    add(o, "schema_version", json_object_new_int64(ev->schema_version)) == 0 &&
	    add(o, "event_id", json_object_new_string(ev->event_id)) == 0 &&
	    add(o, "circle_id", json_object_new_string(ev->circle_id)) == 0 &&
	    add(o, "version", json_object_new_int64(ev->version)) == 0 &&
	    add(o, "event_type", json_object_new_string(ev->event_type)) == 0 &&
	    add(o, "occurred_at", json_object_new_string(ev->occurred_at)) == 0 &&
	    add(o, "payload", json_object_new_string_len(ev->payload, (int)ev->payload_len)) == 0) {
		const char *text = json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (text && fputs(text, stdout) != EOF && putchar('\n') != EOF)
			rc = 0;
	}
	json_object_put(o);
	return rc;
}

static int
export_usage(FILE *f)
{
	return ctl_usage(f, "export");
}

int
ctl_export(int argc, char **argv)
{
	const char *group = "circle-query";
	struct store_config cfg;
	struct store_bulk *b;
	uint64_t after = 0;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return export_usage(stdout);
		if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
			const char *s = argv[++i];

			if (strcmp(s, "0") != 0 && (text_positive(s, strlen(s), &after) != 0 ||
						    after > (uint64_t)INT64_MAX)) {
				fprintf(stderr, "circlectl: --after takes a position from 0 to "
						"9223372036854775807\n");
				return CTL_FAILED;
			}
		} else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
			group = argv[++i];
		} else {
			return export_usage(stderr);
		}
	}
	if (ctl_catch_signals(false, true) != 0)
		return CTL_FAILED;
	store_config_from_env(&cfg, group);
	b = store_bulk_open(&cfg, NULL);
	if (!b) {
		fprintf(stderr, "circlectl: out of memory\n");
		return CTL_FAILED;
	}
	rc = store_export(b, after, print_event, NULL);
	if (rc == 0 && fflush(stdout) != 0)
		rc = 1;
	if (rc == 1) {
		store_bulk_close(b);
		/* the reader went away (a closed pipe): nothing to tell it */
		return errno == EPIPE ? CTL_OK : CTL_PROBLEM;
	}
	if (rc != 0) {
		fprintf(stderr, "circlectl: export: %s\n", store_bulk_error(b));
		store_bulk_close(b);
		return CTL_FAILED;
	}
	store_bulk_close(b);
	return CTL_OK;
}

/* --- import --- */

static const char *const members[] = {"position",   "feed_position", "schema_version",
				      "event_id",   "circle_id",     "version",
				      "event_type", "occurred_at",   "payload"};
#define N_MEMBERS (sizeof(members) / sizeof(members[0]))

/* An integer member in [min, max]; -1 otherwise. */
static int
member_int(json_object *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	errno = 0;
	*out = json_object_get_int64(v);
	return (errno == 0 && *out >= min && *out <= max) ? 0 : -1;
}

/* A string member without NUL bytes of at most max bytes; -1 otherwise. */
static int
member_text(json_object *o, const char *key, size_t max, const char **out, size_t *len)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	*out = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	return *len <= max ? 0 : -1;
}

static int
copy_text(json_object *o, const char *key, char *buf, size_t size)
{
	const char *s;
	size_t len;

	if (member_text(o, key, size - 1, &s, &len) != 0 || strlen(s) != len)
		return -1;
	memcpy(buf, s, len + 1);
	return 0;
}

/* Parses one line into *ev (payload pointing into *obj, which the caller
 * releases); NULL, or what is wrong with it. */
static const char *
parse_line(json_tokener *tok, const char *line, size_t len, json_object **obj,
	   struct store_stored_event *ev)
{
	json_object *o, *fp;
	int64_t v;
	size_t i;

	*obj = NULL;
	memset(ev, 0, sizeof(*ev));
	if (len == 0)
		return "an empty line";
	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		return "not one JSON value";
	}
	*obj = o;
	if (!json_object_is_type(o, json_type_object))
		return "not a JSON object";
	if ((size_t)json_object_object_length(o) != N_MEMBERS)
		return "not exactly the members position, feed_position, schema_version, event_id,"
		       " circle_id, version, event_type, occurred_at and payload";
	for (i = 0; i < N_MEMBERS; i++)
		if (!json_object_object_get_ex(o, members[i], NULL))
			return "not exactly the members position, feed_position, schema_version,"
			       " event_id, circle_id, version, event_type, occurred_at and payload";
	if (member_int(o, "position", 1, INT64_MAX, &v) != 0)
		return "position must be an integer from 1";
	ev->position = (uint64_t)v;
	json_object_object_get_ex(o, "feed_position", &fp);
	if (fp != NULL) {
		if (member_int(o, "feed_position", 1, INT64_MAX, &v) != 0)
			return "feed_position must be null or an integer from 1";
		ev->feed_position = (uint64_t)v;
	}
	if (member_int(o, "schema_version", 1, 65535, &v) != 0)
		return "schema_version must be an integer from 1 to 65535";
	ev->schema_version = (unsigned)v;
	if (member_int(o, "version", 1, UINT32_MAX, &v) != 0)
		return "version must be an integer from 1 to 4294967295";
	ev->version = (uint32_t)v;
	if (copy_text(o, "event_id", ev->event_id, sizeof(ev->event_id)) != 0 ||
	    copy_text(o, "circle_id", ev->circle_id, sizeof(ev->circle_id)) != 0)
		return "event_id and circle_id must be UUIDs";
	if (copy_text(o, "event_type", ev->event_type, sizeof(ev->event_type)) != 0)
		return "event_type must be an event type";
	if (copy_text(o, "occurred_at", ev->occurred_at, sizeof(ev->occurred_at)) != 0)
		return "occurred_at must be YYYY-MM-DDTHH:MM:SS.ffffffZ";
	if (member_text(o, "payload", 65536, &ev->payload, &ev->payload_len) != 0)
		return "payload must be a string of at most 65536 bytes";
	return NULL;
}

static int
import_usage(FILE *f)
{
	return ctl_usage(f, "import");
}

/* Reads every line into the open import; CTL_OK, or the exit status. */
static int
import_lines(struct store_bulk *b, FILE *in, const char *name)
{
	json_tokener *tok = json_tokener_new_ex(8);
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t got;
	int rc = CTL_OK;

	if (!tok) {
		fprintf(stderr, "circlectl: out of memory\n");
		return CTL_FAILED;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	while (rc == CTL_OK && (got = getline(&line, &cap, in)) >= 0) {
		struct store_stored_event ev;
		json_object *obj = NULL;
		const char *why;
		size_t len = (size_t)got;

		lineno++;
		if (ctl_stopping) {
			fprintf(stderr, "circlectl: import: interrupted; nothing was imported\n");
			rc = CTL_PROBLEM;
			break;
		}
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > LINE_MAX_BYTES)
			why = "longer than any event's line";
		else if (memchr(line, '\0', len))
			why = "a NUL byte";
		else
			why = parse_line(tok, line, len, &obj, &ev);
		if (why) {
			fprintf(stderr,
				"circlectl: import: %s line %zu: %s; nothing was imported\n", name,
				lineno, why);
			rc = CTL_PROBLEM;
		} else if (store_import_add(b, &ev) != 0) {
			fprintf(stderr,
				"circlectl: import: %s line %zu: %s; nothing was imported\n", name,
				lineno, store_bulk_error(b));
			rc = CTL_PROBLEM;
		}
		json_object_put(obj);
	}
	if (rc == CTL_OK && ferror(in)) {
		fprintf(stderr, "circlectl: import: reading %s failed; nothing was imported\n",
			name);
		rc = CTL_FAILED;
	}
	free(line);
	json_tokener_free(tok);
	return rc;
}

int
ctl_import(int argc, char **argv)
{
	const char *database = NULL, *group = NULL, *path = NULL;
	struct store_rebuild_stats stats;
	struct store_bulk *b;
	uint64_t events = 0;
	bool not_empty = false;
	FILE *in = stdin;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return import_usage(stdout);
		if (strcmp(argv[i], "--database") == 0 && i + 1 < argc)
			database = argv[++i];
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			group = argv[++i];
		else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			return import_usage(stderr);
	}
	if (path && strcmp(path, "-") != 0) {
		in = fopen(path, "r");
		if (!in) {
			fprintf(stderr, "circlectl: import: cannot open %s: %s\n", path,
				strerror(errno));
			return CTL_FAILED;
		}
	}
	if (ctl_catch_signals(true, false) != 0)
		return CTL_FAILED;
	b = ctl_admin_bulk(database, group);
	if (!b) {
		if (in != stdin)
			fclose(in);
		return CTL_FAILED;
	}
	if (store_import_begin(b, &not_empty) != 0) {
		fprintf(stderr, "circlectl: import: %s\n", store_bulk_error(b));
		rc = not_empty ? CTL_PROBLEM : CTL_FAILED;
		goto out;
	}
	rc = import_lines(b, in, path && strcmp(path, "-") != 0 ? path : "stdin");
	if (rc != CTL_OK)
		goto out;
	if (store_import_commit(b, &events) != 0) {
		fprintf(stderr, "circlectl: import: %s; nothing was imported\n",
			store_bulk_error(b));
		rc = CTL_PROBLEM;
		goto out;
	}
	/* The projection, from the events now stored: the rebuild's fold. */
	if (store_rebuild_projections(b, true, NULL, NULL, &ctl_stopping, &stats) != 0) {
		fprintf(stderr, "circlectl: import: %s\n", store_bulk_error(b));
		if (store_import_undo(b) != 0) {
			fprintf(stderr,
				"circlectl: import: and removing the imported events failed: %s\n",
				store_bulk_error(b));
			rc = CTL_FAILED;
		} else {
			fprintf(stderr, "circlectl: import: nothing was imported\n");
			rc = CTL_PROBLEM;
		}
		goto out;
	}
	printf("imported %llu events; circle_projections rebuilt: %llu circles\n",
	       (unsigned long long)events, (unsigned long long)stats.circles);
	rc = CTL_OK;
out:
	store_bulk_close(b);
	if (in != stdin)
		fclose(in);
	return rc;
}
