/*
 * fuzz_check.h — how the fuzz targets report a broken invariant: a line on
 * stderr naming the target and the condition, then abort() (libFuzzer
 * keeps the input). Define FUZZ_NAME before including.
 */
#ifndef FUNNELD_FUZZ_CHECK_H
#define FUNNELD_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

__attribute__((noreturn)) static inline void fuzz_fail(const char *target, const char *what)
{
	fprintf(stderr, "%s: invariant broken: %s\n", target, what);
	abort();
}

#define fail(what) fuzz_fail(FUZZ_NAME, (what))

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			fail(#cond); \
	} while (0)

#endif
