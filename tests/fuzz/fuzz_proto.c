/*
 * fuzz_proto.c - the frame parser must never read outside its input and
 * must account for every byte: each accepted frame's length is its header
 * plus its declared payload, and parsing stops or fails cleanly.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_frame	f;
	uint8_t			out[PROTO_MAX_FRAME];
	size_t			off = 0;
	int			r, n;

	while ((r = proto_parse(data + off, size - off, &f)) > 0) {
		if ((size_t)r != (size_t)PROTO_HDR_LEN + f.len || (size_t)r > size - off)
			abort();
		/* Re-encoding a good frame must reproduce its header. */
		if (!f.bad && f.type == PROTO_CREDIT) {
			n = proto_put_credit(out, sizeof(out), f.stream, f.u.credit);
			if (n != r || out[0] != data[off])
				abort();
		}
		off += (size_t)r;
	}
	if (off > size)
		abort();
	return 0;
}
