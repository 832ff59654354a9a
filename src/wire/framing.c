/*
 * framing.c — the Confluent Schema Registry wire framing around a protobuf
 * message: magic byte 0, a 4-byte big-endian schema id, the message-index
 * array (a zigzag varint count followed by that many zigzag varint indexes;
 * the single byte 0 is the common shorthand for [0]), then the message.
 *
 * It checks the framing and finds the payload; it does not talk to a
 * registry, so it cannot (and does not) check that the schema id or the
 * indexes name the message type the topic is configured for.
 */
#include "wire/wire_internal.h"

#define CONFLUENT_MAGIC 0x00
#define CONFLUENT_HEADER 5 /* magic + schema id */

/* Read one base-128 varint of at most 10 bytes. Returns the number of bytes
 * used, 0 when the input ends inside it, or -1 when it is too long. */
static int read_varint(const uint8_t *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 10; i++) {
		if (i >= len)
			return 0;
		uint64_t byte = p[i];
		if (i == 9 && byte > 1)
			return -1; /* more than 64 bits */
		v |= (byte & 0x7f) << (7 * i);
		if (!(byte & 0x80)) {
			*out = v;
			return (int)i + 1;
		}
	}
	return -1;
}

static int64_t zigzag_decode(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int fd_wire_confluent_unframe(const uint8_t *buf, size_t len,
                              const uint8_t **payload, size_t *payload_len,
                              int64_t *schema_id,
                              char *errstr, size_t errstr_size)
{
	if (len == 0)
		return fd_wire_fail(errstr, errstr_size, "confluent: empty message");
	if (buf[0] != CONFLUENT_MAGIC)
		return fd_wire_fail(errstr, errstr_size,
		                    "confluent: bad magic byte 0x%02x (expected 0x00)", buf[0]);
	if (len < CONFLUENT_HEADER)
		return fd_wire_fail(errstr, errstr_size,
		                    "confluent: truncated header (%zu of %d bytes)",
		                    len, CONFLUENT_HEADER);
	*schema_id = (int64_t)((uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
	                       (uint32_t)buf[3] << 8 | (uint32_t)buf[4]);

	size_t pos = CONFLUENT_HEADER;
	uint64_t raw;
	int n = read_varint(buf + pos, len - pos, &raw);
	if (n == 0)
		return fd_wire_fail(errstr, errstr_size,
		                    "confluent: truncated message-index array");
	if (n < 0)
		return fd_wire_fail(errstr, errstr_size,
		                    "confluent: malformed message-index count");
	pos += (size_t)n;
	int64_t count = zigzag_decode(raw);
	if (count < 0)
		return fd_wire_fail(errstr, errstr_size,
		                    "confluent: negative message-index count %lld",
		                    (long long)count);
	/* count == 0 is the shorthand for the first message, [0] */
	for (int64_t i = 0; i < count; i++) {
		n = read_varint(buf + pos, len - pos, &raw);
		if (n == 0)
			return fd_wire_fail(errstr, errstr_size,
			                    "confluent: truncated message-index array");
		if (n < 0 || zigzag_decode(raw) < 0)
			return fd_wire_fail(errstr, errstr_size,
			                    "confluent: malformed message index");
		pos += (size_t)n;
	}
	*payload = buf + pos;
	*payload_len = len - pos;
	return 0;
}
