/*
 * intern.h — a per-engine string pool: content ids, channels, owners and
 * sources are stored once and referred to by a 32-bit id, so a lead's
 * activity history costs a few bytes per entry instead of a string.
 *
 * Ids start at 1; 0 means "no string". Strings are never removed (the pool
 * grows with the number of distinct values, which for these fields is the
 * size of the content catalogue, the sales team and the channel list).
 */
#ifndef FD_ENGINE_INTERN_H
#define FD_ENGINE_INTERN_H

#include <stddef.h>
#include <stdint.h>

typedef struct fd_intern fd_intern;

fd_intern *fd_intern_new(void);
void fd_intern_free(fd_intern *in);
/* Id of `s` (inserted if new); 0 for NULL or "", or on allocation failure. */
uint32_t fd_intern_id(fd_intern *in, const char *s);
/* The string for an id; "" for 0 or an unknown id. */
const char *fd_intern_str(const fd_intern *in, uint32_t id);
size_t fd_intern_memory(const fd_intern *in);

#endif
