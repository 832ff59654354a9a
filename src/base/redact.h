/*
 * redact.h — lead ids in log lines, as short keyed hashes.
 *
 * Lead ids are often e-mail addresses. A log line that names a lead shows
 * a token instead: the first 12 hex digits (48 bits) of SipHash-2-4 of the
 * id under a 128-bit key. The key comes from a text (log.redact_key, or
 * the consumer group id when that is empty): its two 64-bit halves are
 * SipHash-2-4 of the text under the keys (0, 0) and (1, 0). The same id
 * gives the same token wherever the text is the same (every instance of a
 * deployment, every restart), so an operator can grep a lead's lines; a
 * token cannot be turned back into its id, and without the key text a
 * guessed address cannot be checked against one.
 *
 * Pure: no state beyond the fd_redact value the caller keeps.
 *
 * What it is not: encryption, nor a way to look a lead up (/v1/leads takes
 * the id itself).
 */
#ifndef FD_BASE_REDACT_H
#define FD_BASE_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_REDACT_TOKEN_LEN 12

typedef struct fd_redact {
	bool on;                    /* false: ids are shown as they are */
	uint64_t k0, k1;            /* the SipHash key */
} fd_redact;

/* SipHash-2-4 of `len` bytes under the key (k0, k1), k0 the first 8 key
 * bytes read little-endian. */
uint64_t fd_redact_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

/* Redaction on or off, keyed by the text `key` (NULL: ""). */
void fd_redact_init(fd_redact *r, bool on, const char *key);

/* The text to show for `id`: the id itself when redaction is off (or the
 * id is NULL: ""), else its token, written to `buf`. */
const char *fd_redact_id(const fd_redact *r, const char *id, char buf[FD_REDACT_TOKEN_LEN + 1]);

#endif
