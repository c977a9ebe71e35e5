/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mux.c - feed arbitrary link bytes to a stub-side mux, which opens
 * real (socketpair) streams for OPEN frames, so DATA/CREDIT/EOF/CLOSE
 * reach live stream state.  Any input may end the session (mux_error), but
 * must never crash, leak or overrun.  No network: "connections" are
 * socketpairs.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "mux.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	peer_fds[64];
static int	npeer;

static int
fuzz_open(struct mux *m, const struct proto_open *o)
{
	int	sv[2];

	if (o->dst.port == 1)
		return -ECONNREFUSED;
	if (npeer == 64 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1)
		return -EMFILE;
	peer_fds[npeer++] = sv[1];
	return sv[0];
}

static const struct mux_ops fuzz_ops = { .open = fuzz_open };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t hello[] = {
		0x01, 0, 0, 20, 0, 0, 0, 0,
		'C', 'S', 'H', 'U', 'T', 'T', 'L', 'E', 1, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0x40, 0 };
	struct ev_loop	 loop;
	struct mux	*m;
	uint8_t		*p;
	size_t		 room, off = 0, chunk;
	int		 i;

	if (ev_init(&loop) != 0 ||
	    (m = mux_new(&loop, PROTO_ROLE_STUB, 65536, &fuzz_ops, NULL)) == NULL)
		abort();
	npeer = 0;
	/* A valid HELLO first, so the fuzzer reaches the stream frames. */
	p = mux_in_space(m, &room);
	memcpy(p, hello, sizeof(hello));
	(void)mux_in_commit(m, sizeof(hello));
	/* Feed in uneven chunks: the parser must cope with any split. */
	while (off < size && mux_error(m)[0] == '\0') {
		p = mux_in_space(m, &room);
		chunk = (size - off) % 4093 + 1;
		if (chunk > room)
			chunk = room;
		if (chunk > size - off)
			chunk = size - off;
		memcpy(p, data + off, chunk);
		off += chunk;
		(void)mux_in_commit(m, chunk);
		/* Let streams act on their sockets once per chunk. */
		(void)ev_run_once(&loop, 0);
		mux_collect(m);
		mux_link_consume(m, mux_link_len(m));
	}
	mux_free(m);
	for (i = 0; i < npeer; i++)
		close(peer_fds[i]);
	ev_close(&loop);
	return 0;
}
