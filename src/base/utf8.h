/*
 * utf8.h — is a byte string text? Strict UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), and no NUL byte, which
 * would cut a C string short.
 */
#ifndef FD_BASE_UTF8_H
#define FD_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The offset of the first byte of `s` (n bytes) that is not part of valid
 * UTF-8 or is NUL, or n when every byte is fine. */
size_t fd_utf8_check(const char *s, size_t n);

static inline bool fd_utf8_valid(const char *s, size_t n)
{
	return fd_utf8_check(s, n) == n;
}

#endif
