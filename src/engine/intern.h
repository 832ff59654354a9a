/*
 * intern.h — a per-engine string pool: content ids, channels, owners and
 * sources are stored once and referred to by a 32-bit id, so a lead's
 * activity history costs a few bytes per entry instead of a string.
 *
 * Reference counted: every stored id holds one reference (a lead's owner,
 * source, each recent activity's content and channel, each interest), and a
 * string goes when its last reference does. So the pool never holds more
 * strings than the leads in memory refer to: at most leads x
 * (recent_activities x 2 + top_interests + 2), whatever the input sends (a
 * lead sending a million distinct content ids keeps only the ones its
 * context shows). Ids start at 1; 0 means "no string". A freed id may be
 * handed to a later string.
 */
#ifndef FD_ENGINE_INTERN_H
#define FD_ENGINE_INTERN_H

#include <stddef.h>
#include <stdint.h>

typedef struct fd_intern fd_intern;

fd_intern *fd_intern_new(void);
void fd_intern_free(fd_intern *in);
/* Id of `s` (inserted if new) with one more reference, which the caller
 * owns; 0 for NULL or "", a string longer than 255 bytes, or on allocation
 * failure (then nothing to drop). */
uint32_t fd_intern_ref(fd_intern *in, const char *s);
/* One more reference to a live id (0: nothing). */
void fd_intern_hold(fd_intern *in, uint32_t id);
/* Give one reference back; the string goes with its last (0: nothing). */
void fd_intern_drop(fd_intern *in, uint32_t id);
/* The string for an id; "" for 0 or an unknown id. Valid while a
 * reference to it is held. */
const char *fd_intern_str(const fd_intern *in, uint32_t id);
/* References held on `id` (0 for an unknown id), and strings held. */
uint32_t fd_intern_refs(const fd_intern *in, uint32_t id);
size_t fd_intern_count(const fd_intern *in);
/* Every live id is at most this. */
uint32_t fd_intern_ids(const fd_intern *in);
size_t fd_intern_memory(const fd_intern *in);

#endif
