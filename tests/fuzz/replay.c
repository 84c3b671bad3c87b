/*
 * A plain main for the fuzz harnesses: runs LLVMFuzzerTestOneInput once over
 * every file named on the command line, or over every regular file of a
 * directory named there (in name order, not recursive). Built without
 * libFuzzer, it replays the checked-in corpora in `make check`, under any
 * compiler, sanitizer or valgrind. Each input is copied into a buffer of
 * exactly its size, so a harness that reads past its input is caught.
 * With no argument it replays REPLAY_DEFAULT_DIR when that is defined.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Reads path into a new exact-size buffer; -1 on any error. */
static int
read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int rc = -1;

	*out = NULL;
	*len = 0;
	if (f == NULL)
		goto out;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	/* malloc(0) may answer NULL: keep one byte so an empty input still runs */
	buf = malloc(size > 0 ? (size_t)size : 1);
	if (buf == NULL)
		goto out;
	if (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size)
		goto out;
	*out = buf;
	*len = (size_t)size;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

static int
run_file(const char *path)
{
	uint8_t *data;
	size_t len;

	if (read_file(path, &data, &len) != 0) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

/* Runs every regular file of dir; returns how many, or -1. */
static long
run_dir(const char *dir)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), i;
	long ran = 0;

	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (ran >= 0 && names[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) <
			    (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			ran = run_file(path) == 0 ? ran + 1 : -1;
		free(names[i]);
	}
	free(names);
	return ran;
}

int
main(int argc, char **argv)
{
	long total = 0;
	int i;

#ifdef REPLAY_DEFAULT_DIR
	static char *fallback[] = {NULL, (char *)REPLAY_DEFAULT_DIR, NULL};

	if (argc < 2) {
		fallback[0] = argv[0];
		argv = fallback;
		argc = 2;
	}
#endif
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) == 0 ? 1 : -1);
		if (n < 0)
			return 1;
		total += n;
	}
	printf("replayed %ld inputs\n", total);
	/* an empty corpus proves nothing: count it as a failure */
	return total > 0 ? 0 : 1;
}
