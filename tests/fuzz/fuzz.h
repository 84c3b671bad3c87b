/*
 * What every fuzz harness of circle shares: the libFuzzer entry point (also
 * driven by replay.c, so the corpora run under gcc, sanitizers or valgrind)
 * and one way to fail a property. A property violation aborts, so libFuzzer
 * keeps the input and a replayed corpus fails its test.
 */
#ifndef CIRCLE_TESTS_FUZZ_FUZZ_H
#define CIRCLE_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one input; data[0..size) is borrowed. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the violated property, so the crash report says which one. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, \
				#cond); \
			abort(); \
		} \
	} while (0)

#endif
