/*
 * ident.c — deterministic 128-bit output ids (see ident.h).
 *
 * Two independent FNV-1a style lanes with a splitmix64 finaliser. The byte
 * order of integers is fixed (little-endian, explicitly), so ids do not
 * depend on the host.
 */
#include "base/ident.h"

#include <string.h>

#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static void lane_bytes(fd_ident *id, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		id->h1 = (id->h1 ^ p[i]) * FNV_PRIME;
		id->h2 = (id->h2 ^ p[i]) * UINT64_C(0x9e3779b97f4a7c15);
		id->h2 ^= id->h2 >> 29;
	}
}

void fd_ident_init(fd_ident *id)
{
	id->h1 = UINT64_C(0xcbf29ce484222325);
	id->h2 = UINT64_C(0x6a09e667f3bcc908);
}

void fd_ident_i64(fd_ident *id, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	lane_bytes(id, b, sizeof b);
}

void fd_ident_str(fd_ident *id, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	fd_ident_i64(id, (int64_t)n);
	if (n)
		lane_bytes(id, (const unsigned char *)s, n);
}

void fd_ident_hex(const fd_ident *id, char out[33])
{
	static const char digits[] = "0123456789abcdef";
	uint64_t a = mix64(id->h1 ^ mix64(id->h2));
	uint64_t b = mix64(id->h2 + UINT64_C(0x9e3779b97f4a7c15) * a);
	for (int i = 0; i < 16; i++) {
		out[i] = digits[(a >> (60 - 4 * i)) & 0xf];
		out[16 + i] = digits[(b >> (60 - 4 * i)) & 0xf];
	}
	out[32] = '\0';
}
