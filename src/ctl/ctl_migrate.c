/*
 * circlectl migrate: applies the numbered SQL files (NNN_name.sql) of the
 * migrations directory that the database has not recorded yet, in name
 * order, recording each with its SHA-256 and time in circle_migrations; all
 * under a server-wide lock, so that two runs at once apply nothing twice. A
 * file whose checksum differs from the recorded one stops everything: an
 * applied migration is history, and a change to it must be a new file.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "store/store_admin.h"

#ifndef CIRCLE_SQLDIR
#define CIRCLE_SQLDIR "/usr/local/share/circle/sql"
#endif

/* A migration file is small DDL; anything bigger is not one of ours. */
#define MIGRATION_MAX (1024 * 1024)
#define MAX_FILES 1000
/* Seconds to wait for a concurrent migrate to finish. */
#define LOCK_WAIT 60

struct file {
	char name[256];
	char *sql;
	size_t len;
	char checksum[STORE_CHECKSUM_LEN + 1];
	const struct store_migration *applied; /* NULL: pending */
};

static bool
is_migration_name(const char *s)
{
	size_t n = strlen(s), i = 0;

	if (n < 6 || n > 255 || strcmp(s + n - 4, ".sql") != 0)
		return false;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || s[i] != '_')
		return false;
	for (; i < n - 4; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->name, ((const struct file *)b)->name);
}

static int
read_file(const char *dir, struct file *f)
{
	char path[4096];
	FILE *fp;
	size_t got;

	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "circlectl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	f->sql = malloc(MIGRATION_MAX + 1);
	got = f->sql ? fread(f->sql, 1, MIGRATION_MAX + 1, fp) : 0;
	if (!f->sql || ferror(fp) || got > MIGRATION_MAX) {
		fprintf(stderr, "circlectl: %s: %s\n", path,
			!f->sql               ? "out of memory"
			: got > MIGRATION_MAX ? "too large"
					      : "read error");
		fclose(fp);
		return -1;
	}
	fclose(fp);
	f->len = got;
	return 0;
}

/* The migration files of dir, sorted by name, read whole. */
static int
scan(const char *dir, struct file **out, size_t *n)
{
	struct file *files = calloc(MAX_FILES, sizeof(*files));
	const struct dirent *e;
	size_t count = 0, i;
	DIR *d;

	*out = files;
	*n = 0;
	if (!files) {
		fprintf(stderr, "circlectl: out of memory\n");
		return -1;
	}
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "circlectl: migrations directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!is_migration_name(e->d_name))
			continue;
		if (count == MAX_FILES) {
			fprintf(stderr, "circlectl: more than %d migrations in %s\n", MAX_FILES,
				dir);
			closedir(d);
			return -1;
		}
		snprintf(files[count++].name, sizeof(files[0].name), "%s", e->d_name);
	}
	closedir(d);
	*n = count;
	qsort(files, count, sizeof(*files), by_name);
	for (i = 0; i < count; i++)
		if (read_file(dir, &files[i]) != 0)
			return -1;
	return 0;
}

static void
free_files(struct file *files, size_t n)
{
	size_t i;

	if (!files)
		return;
	for (i = 0; i < n; i++)
		free(files[i].sql);
	free(files);
}

/* Matches files with the applied rows; prints what differs. Answers the
 * number of applied files that changed. */
static size_t
match(struct file *files, size_t nfiles, const struct store_migration *applied, size_t napplied)
{
	size_t i, j, changed = 0;

	for (j = 0; j < napplied; j++) {
		bool found = false;

		for (i = 0; i < nfiles; i++) {
			if (strcmp(files[i].name, applied[j].name) != 0)
				continue;
			found = true;
			files[i].applied = &applied[j];
			if (strcmp(files[i].checksum, applied[j].checksum) != 0) {
				changed++;
				printf("changed %s: the file's SHA-256 %.12s… is not the %.12s… "
				       "applied at %s\n",
				       files[i].name, files[i].checksum, applied[j].checksum,
				       applied[j].applied_at);
			}
		}
		if (!found)
			printf("missing %s: applied at %s, no such file any more\n",
			       applied[j].name, applied[j].applied_at);
	}
	return changed;
}

static int
migrate(struct store_admin *a, const char *dir, bool status_only)
{
	struct store_migration *applied = NULL;
	struct file *files = NULL;
	size_t napplied = 0, nfiles = 0, i, changed, done = 0, pending = 0;
	int rc = CTL_FAILED;

	if (store_admin_lock(a, LOCK_WAIT) != 0 ||
	    store_migrations_applied(a, &applied, &napplied) != 0) {
		fprintf(stderr, "circlectl: %s\n", store_admin_error(a));
		goto out;
	}
	if (scan(dir, &files, &nfiles) != 0)
		goto out;
	for (i = 0; i < nfiles; i++) {
		if (store_admin_checksum(a, files[i].sql, files[i].len, files[i].checksum) != 0) {
			fprintf(stderr, "circlectl: %s\n", store_admin_error(a));
			goto out;
		}
	}
	changed = match(files, nfiles, applied, napplied);
	for (i = 0; i < nfiles; i++)
		if (!files[i].applied)
			pending++;
	if (status_only) {
		for (i = 0; i < nfiles; i++) {
			if (files[i].applied)
				printf("applied %s at %s UTC\n", files[i].name,
				       files[i].applied->applied_at);
			else
				printf("pending %s\n", files[i].name);
		}
		printf("%zu applied, %zu pending, %zu changed\n", nfiles - pending, pending,
		       changed);
		rc = changed ? CTL_PROBLEM : CTL_OK;
		goto out;
	}
	if (changed) {
		fprintf(stderr,
			"circlectl: refusing to migrate: %zu applied migration(s) changed since "
			"they were applied; put a change in a new file\n",
			changed);
		rc = CTL_PROBLEM;
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		if (files[i].applied)
			continue;
		if (store_migration_apply(a, files[i].name, files[i].sql, files[i].len,
					  files[i].checksum) != 0) {
			fprintf(stderr, "circlectl: %s\n", store_admin_error(a));
			printf("%zu applied; stopped at %s\n", done, files[i].name);
			goto out;
		}
		printf("applied %s\n", files[i].name);
		done++;
	}
	if (done == 0)
		printf("nothing to apply (%zu applied before)\n", nfiles);
	else
		printf("%zu applied, %zu applied before\n", done, nfiles - done);
	rc = CTL_OK;
out:
	store_admin_unlock(a);
	free_files(files, nfiles);
	free(applied);
	return rc;
}

int
ctl_migrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"status", no_argument, NULL, 's'},
		{"database", required_argument, NULL, 'd'},
		{"dir", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *database = ctl_database(), *dir = getenv("CIRCLE_SQL_DIR");
	bool status_only = false;
	struct store_config cfg;
	struct store_admin *a;
	int c, rc;

	if (!dir || !*dir)
		dir = CIRCLE_SQLDIR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': status_only = true; break;
		case 'd': database = optarg; break;
		case 'D': dir = optarg; break;
		case 'h': return ctl_usage(stdout, "migrate");
		default: return ctl_usage(stderr, "migrate");
		}
	}
	if (optind != argc)
		return ctl_usage(stderr, "migrate");
	ctl_admin_config(&cfg);
	a = store_admin_open(&cfg);
	if (!a) {
		fprintf(stderr, "circlectl: out of memory\n");
		return CTL_FAILED;
	}
	if (store_admin_use(a, database) != 0) {
		fprintf(stderr, "circlectl: %s\n", store_admin_error(a));
		store_admin_close(a);
		return CTL_FAILED;
	}
	printf("database %s, migrations in %s\n", database, dir);
	rc = migrate(a, dir, status_only);
	store_admin_close(a);
	return rc;
}
