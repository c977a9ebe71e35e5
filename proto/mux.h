/* SPDX-License-Identifier: ISC */
/*
 * mux.h - TCP streams multiplexed over one byte pipe, with per-stream
 * credit-based flow control.  Shared by the client and the stub.
 *
 * The mux owns the streams and their sockets; the program owns the pipe
 * ("link").  The program reads link bytes into mux_in_space() and calls
 * mux_in_commit(); it drains mux->link_out towards the peer and then calls
 * mux_link_drained().  Everything else (socket readiness, flow control,
 * half-close, resets, connect completion) happens inside the mux through
 * the event loop it is given.
 *
 * Memory is bounded: a stream buffers at most the window it granted, the
 * link output queue has a hard maximum and streams stop reading their
 * sockets while it is above MUX_LINK_SOFT.
 */
#ifndef CSHUTTLE_MUX_H
#define CSHUTTLE_MUX_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "ev.h"
#include "proto.h"

#define MUX_DEFAULT_WINDOW	(4U * 1024 * 1024)
#define MUX_LINK_SOFT		(1024U * 1024)		/* stop reading sockets above */
#define MUX_LINK_MAX		(8U * 1024 * 1024)	/* hard limit */
#define MUX_IN_MAX		(256U * 1024)		/* link input buffer */
#define MUX_READ_FRAMES		8	/* full frames read from one socket per event */
#define MUX_CONNECT_TIMEOUT_MS	(60 * 1000)
/* DNS frames are queued only below this, so that they can never push the
 * link over its hard limit: the room left takes the replies to a full
 * input buffer (see mux_in_ready). */
#define MUX_DNS_LINK_MAX	(MUX_LINK_MAX - MUX_IN_MAX)

/* Stream state bits. */
#define MUX_S_CONNECTING	(1U << 0)	/* stub: connect() in progress */
#define MUX_S_PENDING		(1U << 1)	/* client: OPEN sent, no result yet */
#define MUX_S_RD_EOF		(1U << 2)	/* our socket hit EOF; EOF sent */
#define MUX_S_PEER_EOF		(1U << 3)	/* peer sent EOF */
#define MUX_S_WR_SHUT		(1U << 4)	/* shutdown(SHUT_WR) done */
#define MUX_S_DEAD		(1U << 5)	/* closed; freed after this pass */
#define MUX_S_LINK_WAIT		(1U << 6)	/* on the link-wait list */
#define MUX_S_PARKED		(1U << 7)	/* fd unregistered (see mux.c) */

struct mux;

struct mux_stream {
	uint32_t		 id;
	unsigned		 flags;
	struct ev_io		 io;
	struct mux		*mux;
	struct buf		 out;		/* peer -> socket */
	uint32_t		 tx_credit;	/* DATA bytes we may still send */
	uint32_t		 rx_avail;	/* DATA bytes the peer may still send */
	uint32_t		 rx_consumed;	/* written to the socket, not yet credited */
	uint64_t		 deadline;	/* connect deadline (stub) */
	uint64_t		 bytes_in, bytes_out;
	struct mux_stream	*hnext;		/* id hash chain */
	struct mux_stream	*lnext, *lprev;	/* all-streams list */
	struct mux_stream	*wnext, *wprev;	/* link-wait list */
	struct mux_stream	*gnext;		/* garbage list */
	int			 wfd;		/* the fd while parked */
};

struct mux_ops {
	/* Stub: an OPEN arrived.  Return a connecting socket (non-blocking,
	 * connect() already called) or -errno to refuse. */
	int	(*open)(struct mux *, const struct proto_open *);
	/* Client: the HELLO of the peer arrived and was accepted. */
	void	(*hello)(struct mux *, const struct proto_hello *);
	/* A PONG arrived. */
	void	(*pong)(struct mux *, const uint8_t data[8]);
	/*
	 * A DNS frame arrived (arg is m->dns_arg).  The stub gets DNS_CONFIG
	 * (at most once, before any DNS_QUERY; checked here) and DNS_QUERY;
	 * the client gets DNS_ANSWER and DNS_FAIL.  Frames are checked by
	 * proto_parse: with f->bad set the query id (f->stream, nonzero) is
	 * valid but the contents are not (wrong length, unknown reason) and
	 * the receiver fails that query.  Frames without a query id, or sent
	 * the wrong way, never get here.  NULL: DNS frames end the session.
	 */
	void	(*dns)(struct mux *m, const struct proto_frame *f, void *arg);
};

struct mux {
	struct ev_loop		*loop;
	const struct mux_ops	*ops;
	void			*udata;
	uint8_t			 role;		/* PROTO_ROLE_* of this side */
	uint32_t		 window;	/* credit we grant each stream */
	uint32_t		 peer_window;	/* credit the peer grants */
	bool			 hello_seen;
	bool			 dns_config_seen, dns_query_seen;
	void			*dns_arg;	/* for ops->dns; udata by default */
	struct buf		 link_out;	/* frames for the peer */
	uint8_t			*in;		/* link input, MUX_IN_MAX bytes */
	size_t			 in_len;
	uint32_t		 last_id;	/* highest stream id seen or used */
	size_t			 nstreams;
	struct mux_stream	**hash;
	size_t			 hsize;
	struct mux_stream	*all;
	struct mux_stream	*link_wait;
	struct mux_stream	*garbage;
	char			 error[256];	/* why the session failed */
	uint64_t		 frames_in, frames_out;
	uint64_t		 streams_opened, streams_failed;
};

/* 0, or -1 (out of memory). */
int	 mux_init(struct mux *m, struct ev_loop *loop, uint8_t role, uint32_t window,
	    const struct mux_ops *ops, void *udata);
/* Close every stream (reset) and free everything. */
void	 mux_free(struct mux *m);

/* Queue our HELLO.  0 or -1. */
int	 mux_send_hello(struct mux *m, uint32_t features);
/* Queue a PING or PONG.  0 or -1 (link full). */
int	 mux_send_ping(struct mux *m, uint8_t type, const uint8_t data[8]);
/* Queue an ERROR frame with this text (best effort). */
void	 mux_send_error(struct mux *m, const char *text);
/*
 * Queue a DNS frame.  payload[0..len) is the frame's payload as it goes on
 * the wire: the DNS message for DNS_QUERY/DNS_ANSWER, the reason byte for
 * DNS_FAIL, 20-byte entries for DNS_CONFIG (mux_send_dns_config encodes
 * them).  id: the query id (0 for DNS_CONFIG).  Returns 0, or -1 when the
 * frame is invalid (the peer would refuse it) or the link queue is above
 * MUX_DNS_LINK_MAX: the caller fails that query.  Never ends the session.
 */
int	 mux_send_dns(struct mux *m, uint8_t type, uint32_t id, const void *payload,
	    size_t len);
int	 mux_send_dns_config(struct mux *m, const struct addr *s, size_t n);

/* Link input: read into the space, then commit.  mux_in_commit returns
 * 0, or -1 when the session must end (reason in m->error). */
uint8_t	*mux_in_space(struct mux *m, size_t *len);
int	 mux_in_commit(struct mux *m, size_t n);
/* False while the link output is too full to take the replies that more
 * input could cause: stop reading the link until it drains. */
bool	 mux_in_ready(const struct mux *m);
/* Call after consuming bytes from m->link_out. */
void	 mux_link_drained(struct mux *m);

/*
 * Client: start a stream for an accepted socket (non-blocking) towards
 * dst.  The mux owns fd from here on, also on failure.  Returns the
 * stream or NULL (reason logged).
 */
struct mux_stream *mux_stream_open(struct mux *m, int fd, const struct proto_open *dst);

/* Stub: reset streams whose connect deadline has passed. */
void	 mux_sweep(struct mux *m, uint64_t now);
/* Free streams closed during this pass (call from the before-sleep hook). */
void	 mux_collect(struct mux *m);

#endif
