/*
 * redact.c — keyed tokens for lead ids in logs (see redact.h). SipHash-2-4
 * as specified by Aumasson and Bernstein ("SipHash: a fast short-input
 * PRF", 2012): two compression rounds per 8-byte word, four finalisation
 * rounds.
 */
#include "base/redact.h"

#include <stdio.h>
#include <string.h>

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

typedef struct sip {
	uint64_t v0, v1, v2, v3;
} sip;

static void sip_round(sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static void sip_word(sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

uint64_t fd_redact_siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
	const unsigned char *p = data;
	sip s = { k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		      k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL };
	size_t whole = len - len % 8;
	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m = 0;
		for (int j = 7; j >= 0; j--)
			m = m << 8 | p[i + (size_t)j];
		sip_word(&s, m);
	}
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	for (size_t j = 0; j < len % 8; j++)
		last |= (uint64_t)p[whole + j] << (8 * j);
	sip_word(&s, last);
	s.v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void fd_redact_init(fd_redact *r, bool on, const char *key)
{
	if (!key)
		key = "";
	r->on = on;
	r->k0 = fd_redact_siphash(0, 0, key, strlen(key));
	r->k1 = fd_redact_siphash(1, 0, key, strlen(key));
}

const char *fd_redact_id(const fd_redact *r, const char *id, char buf[FD_REDACT_TOKEN_LEN + 1])
{
	if (!id)
		return "";
	if (!r->on)
		return id;
	uint64_t h = fd_redact_siphash(r->k0, r->k1, id, strlen(id));
	snprintf(buf, FD_REDACT_TOKEN_LEN + 1, "%012llx", (unsigned long long)(h >> 16));
	return buf;
}
