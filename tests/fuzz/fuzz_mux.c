/* SPDX-License-Identifier: ISC */
/*
 * fuzz_mux.c - feed arbitrary link bytes to a stub-side mux, which opens
 * real (socketpair) streams for OPEN frames, so DATA/CREDIT/EOF/CLOSE
 * reach live stream state.  Each input runs twice: with a peer of the
 * short forms, and with explicit initial credit in both HELLOs, a small
 * budget and a maximum of streams (the long OPEN, the budget's rules),
 * and UDP in both HELLOs (UDP frames reach a handler that echoes them;
 * in the first run they end the session), and resume: halfway through
 * the input the link is dropped and a new one attached (our HELLO, RESUME
 * entries and RESUME_END go out; the peer's HELLO is fed again, and the
 * rest of the input is what the peer says on the new link).  Any input may end the
 * session (mux_error), but must never crash, leak or overrun.  No network: "connections" are
 * socketpairs.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
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

/* What the mux hands on must be what the parser promised: a flow id, no
 * UDP_DROP (from the client it ends the session), a datagram within the
 * frame.  Good datagrams go back, bad frames close their flow. */
static void
fuzz_udp(struct mux *m, const struct proto_frame *f)
{
	if (f->stream == 0 || f->type == PROTO_UDP_DROP ||
	    (f->type == PROTO_UDP_DATA && !f->bad &&
	    (f->u.udp.datalen > f->len || f->u.udp.data + f->u.udp.datalen !=
	    f->payload + f->len)))
		abort();
	if (f->bad)
		(void)mux_send_udp_close(m, f->stream, PROTO_UDP_CLOSE_PROTOCOL);
	else if (f->type == PROTO_UDP_DATA)
		(void)mux_send_udp(m, f->stream, &f->u.udp.peer, f->u.udp.data,
		    f->u.udp.datalen);
}

static const struct mux_ops fuzz_ops = { .open = fuzz_open, .udp = fuzz_udp };

static void
fuzz_run(const uint8_t *data, size_t size, bool credit)
{
	static const uint8_t hello[] = {
		0x01, 0, 0, 20, 0, 0, 0, 0,
		'C', 'S', 'H', 'U', 'T', 'T', 'L', 'E', 1, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0x40, 0 };
	/* Feature bits 1 (UDP), 2, 5 (RESUME) and 6 (GROW), and bounds
	 * asked for: 64 KiB, 8 streams. */
	static const uint8_t hello_credit[] = {
		0x01, 0, 0, 28, 0, 0, 0, 0,
		'C', 'S', 'H', 'U', 'T', 'T', 'L', 'E', 1, 0, 0, 0,
		0, 0, 0, 0x66, 0, 0, 0x40, 0,
		0, 0, 0, 64, 0, 0, 0, 8 };
	struct ev_loop	 loop;
	struct mux	*m;
	uint8_t		*p;
	size_t		 room, off = 0, chunk, budget;
	uint32_t	 max;
	struct mux_stats st;
	bool		 resumed = false;
	int		 i;

	if (ev_init(&loop) != 0 ||
	    (m = mux_new(&loop, PROTO_ROLE_STUB, 65536, &fuzz_ops, NULL)) == NULL)
		abort();
	npeer = 0;
	/* A valid HELLO first, so the fuzzer reaches the stream frames. */
	p = mux_in_space(m, &room);
	if (credit) {
		(void)mux_send_hello(m, PROTO_FEAT_CREDIT | PROTO_FEAT_UDP |
		    PROTO_FEAT_RESUME | PROTO_FEAT_GROW);
		memcpy(p, hello_credit, sizeof(hello_credit));
		(void)mux_in_commit(m, sizeof(hello_credit));
		budget = mux_peer_ask(m, &max);
		if (budget != 65536 || max != 8 || !mux_feature(m, PROTO_FEAT_CREDIT) ||
		    !mux_feature(m, PROTO_FEAT_UDP) || !mux_feature(m, PROTO_FEAT_GROW) ||
		    !mux_resumable(m))
			abort();
		mux_set_bounds(m, budget, max);
	} else {
		memcpy(p, hello, sizeof(hello));
		(void)mux_in_commit(m, sizeof(hello));
	}
	/* Feed in uneven chunks: the parser must cope with any split. */
	while (off < size && mux_error(m)[0] == '\0') {
		if (credit && !resumed && off >= size / 2) {
			resumed = true;
			mux_detach(m);
			if (!mux_resuming(m) || mux_link_len(m) != 0)
				abort();
			if (mux_attach(m, PROTO_FEAT_CREDIT | PROTO_FEAT_UDP |
			    PROTO_FEAT_RESUME | PROTO_FEAT_GROW) != 0)
				break;
			mux_link_consume(m, mux_link_len(m));
			p = mux_in_space(m, &room);
			memcpy(p, hello_credit, sizeof(hello_credit));
			(void)mux_in_commit(m, sizeof(hello_credit));
			continue;
		}
		p = mux_in_space(m, &room);
		chunk = (size - off) % 4093 + 1;
		if (chunk > room)
			chunk = room;
		if (chunk > size - off)
			chunk = size - off;
		/* The first half ends where the link drops. */
		if (credit && !resumed && chunk > size / 2 - off)
			chunk = size / 2 - off;
		memcpy(p, data + off, chunk);
		off += chunk;
		(void)mux_in_commit(m, chunk);
		/* Let streams act on their sockets once per chunk. */
		(void)ev_run_once(&loop, 0);
		mux_collect(m);
		mux_link_consume(m, mux_link_len(m));
		/* The budget holds but for the floor of each stream. */
		mux_stats(m, &st);
		if (credit && st.committed > budget + st.nstreams * MUX_CREDIT_FLOOR)
			abort();
	}
	mux_free(m);
	for (i = 0; i < npeer; i++)
		close(peer_fds[i]);
	ev_close(&loop);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(data, size, false);
	fuzz_run(data, size, true);
	return 0;
}
