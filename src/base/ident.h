/*
 * ident.h — deterministic identifiers for outputs.
 *
 * A transition or SLA event id is a 128-bit hash of what caused it (lead,
 * cause id, stages, times), printed as 32 hex digits. The same inputs always
 * give the same id, on any machine and after any restart, so a consumer can
 * drop re-emitted duplicates by id. This is not a cryptographic hash and
 * makes no attempt to resist crafted collisions.
 */
#ifndef FD_BASE_IDENT_H
#define FD_BASE_IDENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct fd_ident {
	uint64_t h1, h2;
} fd_ident;

void fd_ident_init(fd_ident *id);
/* Mix a byte string (its length is mixed too, so "ab"+"c" != "a"+"bc"). */
void fd_ident_str(fd_ident *id, const char *s);
void fd_ident_i64(fd_ident *id, int64_t v);
/* Finish into 32 lower-case hex digits and a NUL (33 bytes). */
void fd_ident_hex(const fd_ident *id, char out[33]);

#endif
