/*
 * grow.h — one way to grow a dynamic array, for the few places that append
 * to one (epochs, deferred records, restore queues, agendas).
 *
 * fd_grow makes room for at least `need` elements of `size` bytes in the
 * array whose pointer is at `items` (pass &array), doubling the capacity
 * (starting at `first`). Returns 0, or -1 on allocation failure or overflow
 * with the array and *cap unchanged. The pointer is read and written with
 * memcpy: any object pointer type works without breaking aliasing rules
 * (POSIX guarantees they share void *'s representation).
 */
#ifndef FD_BASE_GROW_H
#define FD_BASE_GROW_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int fd_grow(void *items, size_t *cap, size_t need, size_t size, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : first;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -1;
		n *= 2;
	}
	if (n > SIZE_MAX / size)
		return -1;
	void *old;
	memcpy(&old, items, sizeof old);
	void *x = realloc(old, n * size);
	if (!x)
		return -1;
	memcpy(items, &x, sizeof x);
	*cap = n;
	return 0;
}

#endif
