/*
 * circlectl grants: creates the two workers' database users, leaves each
 * exactly the privileges its worker uses (see src/store/store_admin.c), and
 * writes each pool's credential file: a MariaDB option file with the pool's
 * group, mode 0640, group-owned by the pool's system user, so that the other
 * pool cannot read it. A password already in a credential file is kept (run
 * it again after every migrate at no cost); --new-passwords rotates them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "domain/text.h"
#include "store/store_admin.h"

#ifndef CIRCLE_SYSCONFDIR
#define CIRCLE_SYSCONFDIR "/usr/local/etc"
#endif

#define PASSWORD_BYTES 24
#define PASSWORD_MAX 128

struct pool {
	enum store_pool id;
	const char *option_group; /* the worker's option file group */
	const char *file;
	const char *unix_group;
	char password[PASSWORD_MAX + 1];
};

/* The password in an existing credential file; false when there is none. */
static bool
existing_password(const char *path, char *out, size_t size)
{
	char line[512];
	bool found = false;
	FILE *fp = fopen(path, "r");

	if (!fp)
		return false;
	while (!found && fgets(line, sizeof(line), fp)) {
		char *v;

		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "password", 8) != 0)
			continue;
		v = line + 8;
		v += strspn(v, " \t");
		if (*v != '=')
			continue;
		v++;
		v += strspn(v, " \t");
		v[strcspn(v, " \t")] = '\0';
		if (text_lower_hex(v) && strlen(v) < size) {
			snprintf(out, size, "%s", v);
			found = true;
		}
	}
	fclose(fp);
	return found;
}

static int
new_password(char *out, size_t size)
{
	unsigned char raw[PASSWORD_BYTES];
	size_t i;
	FILE *fp = fopen("/dev/urandom", "rb");

	if (!fp || fread(raw, 1, sizeof(raw), fp) != sizeof(raw)) {
		if (fp)
			fclose(fp);
		fprintf(stderr, "circlectl: cannot read /dev/urandom\n");
		return -1;
	}
	fclose(fp);
	for (i = 0; i < sizeof(raw) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* Writes the credential file whole or not at all (a new file renamed over
 * the old one), readable by its owner and the pool's group only. */
static int
write_credentials(const struct pool *p, gid_t gid, const char *socket, const char *database)
{
	char tmp[4096];
	FILE *fp;
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.new", p->file) >= (int)sizeof(tmp)) {
		fprintf(stderr, "circlectl: path too long: %s\n", p->file);
		return -1;
	}
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "circlectl: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	if (fchown(fd, geteuid(), gid) != 0 || fchmod(fd, 0640) != 0) {
		fprintf(stderr, "circlectl: %s: %s\n", tmp, strerror(errno));
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	fp = fdopen(fd, "w");
	if (!fp) {
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	fprintf(fp,
		"# The %s workers' database connection, written by circlectl grants.\n"
		"# Readable by root and the group %s only.\n"
		"[%s]\n",
		p->option_group, p->unix_group, p->option_group);
	if (*socket)
		fprintf(fp, "socket=%s\n", socket);
	fprintf(fp, "user=%s\npassword=%s\ndatabase=%s\n", store_pool_user(p->id), p->password,
		database);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, p->file) != 0)
		rc = -1;
	if (rc != 0) {
		fprintf(stderr, "circlectl: %s: %s\n", p->file, strerror(errno));
		(void)unlink(tmp);
	}
	return rc;
}

int
ctl_grants(int argc, char **argv)
{
	static const struct option opts[] = {
		{"database", required_argument, NULL, 'd'},
		{"command-file", required_argument, NULL, 'c'},
		{"query-file", required_argument, NULL, 'q'},
		{"command-group", required_argument, NULL, 'C'},
		{"query-group", required_argument, NULL, 'Q'},
		{"new-passwords", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct pool pools[2] = {
		{STORE_POOL_COMMAND, "circle-command", CIRCLE_SYSCONFDIR "/circle/command.cnf",
		 "circle-command", ""},
		{STORE_POOL_QUERY, "circle-query", CIRCLE_SYSCONFDIR "/circle/query.cnf",
		 "circle-query", ""},
	};
	const char *database = ctl_database();
	bool rotate = false;
	struct store_config cfg;
	struct store_admin *a;
	char socket[1024] = "";
	gid_t gids[2];
	int c, rc = CTL_FAILED;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': database = optarg; break;
		case 'c': pools[0].file = optarg; break;
		case 'q': pools[1].file = optarg; break;
		case 'C': pools[0].unix_group = optarg; break;
		case 'Q': pools[1].unix_group = optarg; break;
		case 'n': rotate = true; break;
		case 'h': return ctl_usage(stdout, "grants");
		default: return ctl_usage(stderr, "grants");
		}
	}
	if (optind != argc)
		return ctl_usage(stderr, "grants");
	for (i = 0; i < 2; i++) {
		const struct group *g = getgrnam(pools[i].unix_group);

		if (!g) {
			fprintf(stderr,
				"circlectl: no group %s: create the system users first "
				"(systemd-sysusers)\n",
				pools[i].unix_group);
			return CTL_FAILED;
		}
		gids[i] = g->gr_gid;
		if (rotate || !existing_password(pools[i].file, pools[i].password,
						 sizeof(pools[i].password))) {
			if (new_password(pools[i].password, sizeof(pools[i].password)) != 0)
				return CTL_FAILED;
		}
	}
	ctl_admin_config(&cfg);
	a = store_admin_open(&cfg);
	if (!a) {
		fprintf(stderr, "circlectl: out of memory\n");
		return CTL_FAILED;
	}
	if (store_admin_use(a, database) != 0 ||
	    store_admin_socket(a, socket, sizeof(socket)) != 0) {
		fprintf(stderr, "circlectl: %s\n", store_admin_error(a));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if (store_admin_grant(a, pools[i].id, pools[i].password) != 0) {
			fprintf(stderr, "circlectl: %s\n", store_admin_error(a));
			goto out;
		}
		if (write_credentials(&pools[i], gids[i], socket, database) != 0)
			goto out;
		printf("granted %s on %s; wrote %s (mode 0640, group %s)\n",
		       store_pool_user(pools[i].id), database, pools[i].file, pools[i].unix_group);
	}
	rc = CTL_OK;
out:
	store_admin_close(a);
	return rc;
}
