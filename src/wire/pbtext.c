/*
 * pbtext.c — every string field of a protobuf message is text: valid UTF-8
 * (proto3 requires it; protobuf-c does not check) without NUL bytes
 * (protobuf-c hands strings over as C strings, so "u\0evil" would arrive as
 * lead "u": two identities merged). Walks the wire bytes with the
 * message's descriptor, into nested messages and map entries.
 */
#include <stdio.h>

#include "base/utf8.h"
#include "wire/wire_internal.h"

#define MAX_DEPTH 8 /* our messages nest three deep at most */

static bool varint(const uint8_t *p, size_t n, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64 && *pos < n; shift += 7) {
		uint8_t b = p[(*pos)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

static int check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, int depth,
                 char *errstr, size_t errstr_size)
{
	size_t pos = 0;
	while (pos < n) {
		uint64_t key, len;
		if (!varint(p, n, &pos, &key))
			return 0; /* malformed: the unpacker says so */
		switch (key & 7) {
		case 0:
			if (!varint(p, n, &pos, &len))
				return 0;
			continue;
		case 1:
			pos += 8;
			continue;
		case 5:
			pos += 4;
			continue;
		case 2:
			break;
		default:
			return 0;
		}
		if (!varint(p, n, &pos, &len) || len > n - pos)
			return 0;
		const uint8_t *v = p + pos;
		pos += (size_t)len;
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
		if (!f)
			continue;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			size_t bad = fd_utf8_check((const char *)v, (size_t)len);
			if (bad < len)
				return fd_wire_fail(errstr, errstr_size, "protobuf: %s.%s is not text: %s at "
				                    "byte %zu", d->short_name, f->name,
				                    v[bad] ? "invalid UTF-8" : "a NUL byte", bad);
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < MAX_DEPTH) {
			if (check(f->descriptor, v, (size_t)len, depth + 1, errstr, errstr_size) != 0)
				return -1;
		}
	}
	return 0;
}

int fd_wire_pb_text(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                    char *errstr, size_t errstr_size)
{
	return check(d, p, n, 0, errstr, errstr_size);
}
