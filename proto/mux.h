/* SPDX-License-Identifier: ISC */
/*
 * mux.h - TCP streams multiplexed over one byte pipe, with per-stream
 * credit-based flow control.  Shared by the client and the stub.
 *
 * The mux owns the streams and their sockets; the program owns the pipe
 * ("link").  The program reads link bytes into mux_in_space() and calls
 * mux_in_commit(); it writes mux_link_data() towards the peer and calls
 * mux_link_consume() for what went out.  Everything else (socket
 * readiness, flow control, half-close, resets, connect completion) happens
 * inside the mux through the event loop it is given.
 *
 * The session rules of docs/PROTOCOL.md (HELLO first and once, feature
 * bits, stream ids, credit, EOF) are enforced here: a broken session rule
 * ends the session (mux_error() says why), a broken stream rule closes
 * that stream with CLOSE reason PROTOCOL.  struct mux and struct
 * mux_stream are private: callers hold pointers and use the functions
 * below.
 *
 * Memory is bounded: a stream buffers at most the credit it granted (never
 * more than the window), the link output queue has a hard maximum and
 * streams stop reading their sockets while it is above MUX_LINK_SOFT.
 * With mux_set_bounds() the credit granted across all streams follows one
 * budget and the number of streams has a maximum (docs/PROTOCOL.md §7).
 */
#ifndef CSHUTTLE_MUX_H
#define CSHUTTLE_MUX_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "ev.h"
#include "proto.h"

/*
 * The HELLO window: with PROTO_FEAT_GROW the most a stream's grant grows
 * to; a new stream starts at a quarter of it (MUX_START_SHARE) and grows
 * only while its sender reports BLOCKED (docs/PROTOCOL.md §7).  Without
 * the feature, what every stream may be granted from the start.
 */
#define MUX_DEFAULT_WINDOW	(16U * 1024 * 1024)
#define MUX_START_SHARE		4	/* a new stream: window / this, at most */
#define MUX_LINK_SOFT		(1024U * 1024)		/* stop reading sockets above */
#define MUX_LINK_MAX		(8U * 1024 * 1024)	/* hard limit */
#define MUX_IN_MAX		(256U * 1024)		/* link input buffer */
#define MUX_READ_FRAMES		8	/* full frames read from one socket per event */
/* What the streams woken as the link drains may read in one loop pass:
 * past it the rest wait for the next pass, so that a transport that takes
 * all it is given cannot keep the loop from its other events. */
#define MUX_WAKE_PASS		(2 * MUX_LINK_SOFT)
/* OPENs the stub handles in one loop pass: a connect() can take
 * milliseconds in the kernel (a host short of ephemeral ports), and a
 * link input buffer holds thousands of OPENs; between batches the loop
 * writes what it has (the OPEN_RESULTs, data of the streams already up),
 * so the client keeps hearing from a stub that is working through them
 * (a PING behind them is still answered in its turn). */
#define MUX_OPEN_PASS		64
#define MUX_CONNECT_TIMEOUT_MS	(60 * 1000)
#define MUX_REFUSED_LOG_MS	(10 * 1000)	/* streams over the maximum: one line */
/*
 * The least credit a stream is ever granted, also past the budget: a new
 * stream always moves, and the client may send this much after OPEN before
 * OPEN_RESULT arrives (with PROTO_FEAT_CREDIT).  The budget is exceeded by
 * at most this much per stream.
 */
#define MUX_CREDIT_FLOOR	PROTO_MIN_WINDOW
/* DNS frames are queued only below this, so that they can never push the
 * link over its hard limit: the room left takes the replies to a full
 * input buffer (see mux_in_ready). */
#define MUX_DNS_LINK_MAX	(MUX_LINK_MAX - MUX_IN_MAX)
/*
 * UDP datagrams are queued only while the link holds less than this, and
 * dropped otherwise (counted by the caller): UDP never waits and never
 * holds back the link.  Above MUX_LINK_SOFT, so that datagrams still move
 * while TCP streams keep the link busy; well below MUX_DNS_LINK_MAX, so
 * that UDP cannot crowd out DNS or a stream's frames.
 */
#define MUX_UDP_LINK_MAX	(MUX_LINK_SOFT + MUX_LINK_SOFT / 2)

struct mux;
struct mux_stream;

struct mux_ops {
	/* Stub: an OPEN arrived.  Return a connecting socket (non-blocking,
	 * connect() already called) or -errno to refuse. */
	int	(*open)(struct mux *, const struct proto_open *);
	/* The HELLO of the peer arrived and was accepted (the stub applies
	 * the bounds it asks for here, before any OPEN). */
	void	(*hello)(struct mux *, const struct proto_hello *);
	/* A PONG arrived. */
	void	(*pong)(struct mux *, const uint8_t data[8]);
	/*
	 * A DNS frame arrived (arg: see mux_set_dns_arg).  The stub gets
	 * DNS_CONFIG (at most once, before any DNS_QUERY; checked here) and
	 * DNS_QUERY; the client gets DNS_ANSWER and DNS_FAIL.  Frames are checked by
	 * proto_parse: with f->bad set the query id (f->stream, nonzero) is
	 * valid but the contents are not (wrong length, unknown reason) and
	 * the receiver fails that query.  Frames without a query id, sent
	 * the wrong way, or without PROTO_FEAT_DNS in both HELLOs never get
	 * here.  NULL: DNS frames end the session.
	 */
	void	(*dns)(struct mux *m, const struct proto_frame *f, void *arg);
	/*
	 * Client: the stub's ROUTES arrived (once per session; checked by
	 * proto_parse, read with proto_route_get).  Sent the wrong way, twice
	 * or without PROTO_FEAT_ROUTES in both HELLOs it ends the session
	 * instead.  NULL: the frame is ignored.
	 */
	void	(*routes)(struct mux *m, const struct proto_frame *f);
	/*
	 * Client: the stub's HOSTS arrived (once per session; checked by
	 * proto_parse, read with proto_host_next).  The same rules as
	 * ROUTES, under PROTO_FEAT_HOSTS.  NULL: the frame is ignored.
	 */
	void	(*hosts)(struct mux *m, const struct proto_frame *f);
	/*
	 * A UDP frame arrived: UDP_DATA or UDP_CLOSE (both ways), UDP_DROP
	 * (client only).  Checked by proto_parse: with f->bad set the flow id
	 * (f->stream, nonzero) is valid but the contents are not, and the
	 * receiver closes that flow (UDP_CLOSE reason PROTOCOL).  Frames
	 * without a flow id, sent the wrong way, or without PROTO_FEAT_UDP in
	 * both HELLOs never get here.  NULL: UDP frames end the session.
	 */
	void	(*udp)(struct mux *m, const struct proto_frame *f);
	/*
	 * Stub: the client's HOSTS_SEED arrived (once per session; checked
	 * by proto_parse, read with proto_seed_next).  Sent the wrong way,
	 * twice or without PROTO_FEAT_HOSTS in both HELLOs it ends the
	 * session instead.  NULL: the frame is ignored.
	 */
	void	(*hosts_seed)(struct mux *m, const struct proto_frame *f);
	/*
	 * Where a session waits for a new link (docs/PROTOCOL.md §11): the
	 * stub gets RESUME_SETUP, ATTACH and BYE, the client RESUME_TOKEN
	 * and ATTACHED (checked by proto_parse; the wrong way, or without
	 * PROTO_FEAT_RESUME in both HELLOs, they end the session).  After
	 * ATTACHED with PROTO_ATTACH_JOINED the mux reads no further: what
	 * follows belongs to another stub (mux_in_rest).  NULL: ignored.
	 */
	void	(*resume)(struct mux *m, const struct proto_frame *f);
};

/* What mux_stats() reports (cheap: counters kept as they change). */
struct mux_stats {
	size_t		nstreams;		/* open now */
	uint64_t	frames_in, frames_out;
	uint64_t	streams_opened, streams_failed;
	uint64_t	bytes_in, bytes_out;	/* DATA payload, all streams */
	size_t		queued;			/* peer data waiting for sockets */
	size_t		queued_peak;		/* the most one stream has held */
	size_t		committed;		/* credit out and data queued, all
						 * streams: what the budget bounds */
	uint64_t	streams_refused;	/* over the maximum of streams */
	size_t		retained;		/* resume: sent, not yet acknowledged
						 * (also in committed) */
	uint64_t	resumes;		/* links taken over by mux_attach */
	uint64_t	bytes_resent;		/* DATA sent again after a resume */
	uint64_t	blocked_sent;		/* BLOCKED: out of the peer's credit */
	uint64_t	blocked_seen;		/* BLOCKED taken (our queue was short) */
	uint32_t	grant_peak;		/* the largest grant to one stream */
	uint64_t	link_waits;		/* a stream found the link full */
	uint64_t	wakeups;		/* ... and was read when it drained */
};

/*
 * A mux for one session on `loop`.  role: PROTO_ROLE_* of this side;
 * window: the credit granted to the peer per stream; udata: for the
 * callbacks (mux_udata), and the default DNS argument.  NULL when out of
 * memory.
 */
struct mux *mux_new(struct ev_loop *loop, uint8_t role, uint32_t window,
	    const struct mux_ops *ops, void *udata);
/* Close every stream (reset) and free everything; NULL is allowed. */
void	 mux_free(struct mux *m);

void	*mux_udata(const struct mux *m);
/* The argument ops->dns gets (udata until this is called). */
void	 mux_set_dns_arg(struct mux *m, void *arg);
/* Why the session failed, "" while it has not. */
const char *mux_error(const struct mux *m);
void	 mux_stats(const struct mux *m, struct mux_stats *st);
/* The counters (streams opened, failed, refused, bytes, frames) start
 * from 0 again; what is open and queued stays.  For a caller that has
 * added them up already (a kept session's). */
void	 mux_stats_restart(struct mux *m);
/* The peer's HELLO arrived and was accepted. */
bool	 mux_hello_seen(const struct mux *m);
/* Both HELLOs announced feat (a PROTO_FEAT_* bit): its frames may flow.
 * False before the peer's HELLO. */
bool	 mux_feature(const struct mux *m, uint32_t feat);

/*
 * Bounds of this side: `budget` bytes of credit granted and data queued
 * across all streams (0: none; each stream still gets MUX_CREDIT_FLOOR),
 * and at most `max_streams` open streams (0: no maximum).  May be called
 * at any time; credit already granted stays (it is never revoked) and the
 * budget applies as credit comes back.
 */
void	 mux_set_bounds(struct mux *m, size_t budget, uint32_t max_streams);
/* What our HELLO asks the peer to use as its own bounds (0: its default);
 * call before mux_send_hello. */
void	 mux_ask_bounds(struct mux *m, size_t budget, uint32_t max_streams);

/*
 * Default bounds.  The budget: min(cap, physical memory / ram_div) (cap
 * alone when the memory is unknown).  The maximum of streams: the
 * descriptors (RLIMIT_NOFILE as it is now) left after MUX_FD_RESERVE (a
 * stream holds one socket on each side), and no more than budget / MUX_CREDIT_FLOOR, so that the floor every
 * stream gets cannot take more than the budget again.  At least 1.
 */
#define MUX_FD_RESERVE		64	/* the link, listeners, DNS, a reconnect */
size_t	 mux_budget_default(size_t cap, unsigned ram_div);
uint32_t mux_max_streams_default(size_t budget);
/* The descriptor part of mux_max_streams_default alone. */
uint32_t mux_max_streams_fds(void);

/* The bounds the peer's HELLO asks this side to use (0: none asked):
 * the budget in bytes is returned, the maximum of streams in *max_streams. */
size_t	 mux_peer_ask(const struct mux *m, uint32_t *max_streams);

/* Queue our HELLO announcing `features` (what this side accepts and may
 * send).  0 or -1. */
int	 mux_send_hello(struct mux *m, uint32_t features);
/* Queue a PING or PONG.  0 or -1 (link full). */
int	 mux_send_ping(struct mux *m, uint8_t type, const uint8_t data[8]);
/* Queue an ERROR frame with this text (best effort). */
void	 mux_send_error(struct mux *m, const char *text);
/*
 * Queue a DNS frame.  payload[0..len) is the frame's payload as it goes on
 * the wire: the DNS message for DNS_QUERY/DNS_ANSWER, the reason byte for
 * DNS_FAIL, 20-byte entries for DNS_CONFIG (mux_send_dns_config encodes
 * them).  id: the query id (0 for DNS_CONFIG).  Returns 0, or -1 when
 * PROTO_FEAT_DNS is not in both HELLOs, the frame is invalid (the peer
 * would refuse it) or the link queue is above MUX_DNS_LINK_MAX: the caller
 * fails that query.  Never ends the session.
 */
int	 mux_send_dns(struct mux *m, uint8_t type, uint32_t id, const void *payload,
	    size_t len);
int	 mux_send_dns_config(struct mux *m, const struct addr *s, size_t n);
/* Stub: queue ROUTES with n entries (see proto_put_routes).  0, or -1
 * when PROTO_FEAT_ROUTES is not in both HELLOs, the entries are invalid
 * or the link queue is full. */
int	 mux_send_routes(struct mux *m, const struct addr *net, const uint8_t *prefix,
	    size_t n);
/* Stub: queue HOSTS with n entries (see proto_put_hosts).  0, or -1 when
 * PROTO_FEAT_HOSTS is not in both HELLOs, the entries are invalid or do
 * not fit in one frame, or the link queue is full. */
int	 mux_send_hosts(struct mux *m, const struct proto_host *h, size_t n);
/* Client: queue HOSTS_SEED with n entries (see proto_put_hosts_seed).
 * 0, or -1 when PROTO_FEAT_HOSTS is not in both HELLOs, the entries are
 * invalid or the link queue is full. */
int	 mux_send_hosts_seed(struct mux *m, const struct proto_seed *s, size_t n);

/*
 * Queue UDP_DATA for flow id (client: towards the destination peer; stub:
 * from the source peer).  0, or -1 when PROTO_FEAT_UDP is not in both
 * HELLOs, the datagram does not fit a frame, or the link holds
 * MUX_UDP_LINK_MAX or more: the caller drops the datagram and counts it.
 * Never ends the session.
 */
int	 mux_send_udp(struct mux *m, uint32_t id, const struct addr *peer,
	    const void *dgram, size_t len);
/* Queue UDP_CLOSE or (stub) UDP_DROP; the same results.  These small
 * frames are bounded like DNS frames (MUX_DNS_LINK_MAX). */
int	 mux_send_udp_close(struct mux *m, uint32_t id, uint8_t reason);
int	 mux_send_udp_drop(struct mux *m, uint32_t id, const struct addr *peer,
	    uint8_t reason);

/*
 * Resume (docs/PROTOCOL.md §11; both first HELLOs announced
 * PROTO_FEAT_RESUME, see mux_resumable).  mux_detach: the link is gone;
 * the streams stay, with their sockets, but read nothing and send nothing
 * until mux_attach, which starts a new link: our HELLO (with `features`,
 * PROTO_FEAT_RESUME among them), then the RESUME entries of every stream
 * and RESUME_END.  The peer does the same; once its RESUME_END is in,
 * each stream sends again from where the peer says it is, and the
 * streams one side no longer has are reset on the other.  Frames queued
 * while the link is down are dropped: what they said is in the RESUME
 * entries.  mux_attach returns 0, or -1 (the session failed).
 */
bool	 mux_resumable(const struct mux *m);
/* The frames of the wait for a new link (PROTO_FEAT_RESUME in both
 * HELLOs, else -1): client RESUME_SETUP, ATTACH and BYE; stub
 * RESUME_TOKEN and ATTACHED.  0, or -1. */
int	 mux_send_resume_setup(struct mux *m, uint32_t grace_s);
int	 mux_send_token(struct mux *m, uint8_t type, const uint8_t *secret,
	    const char *path);
int	 mux_send_attached(struct mux *m, uint8_t status);
/* BYE (the client ends on purpose): the frames queued behind the one
 * the transport has started are dropped, so that BYE does not wait behind
 * megabytes of stream data the stub would throw away, and the streams
 * read no more. */
int	 mux_send_bye(struct mux *m);
void	 mux_detach(struct mux *m);
int	 mux_attach(struct mux *m, uint32_t features);
/* The link is down, or the peer's RESUME_END has not come yet. */
bool	 mux_resuming(const struct mux *m);

/* Link input: read into the space, then commit.  mux_in_commit returns
 * 0, or -1 when the session must end (reason in mux_error()).  Whole
 * frames it leaves (MUX_OPEN_PASS) are read by mux_collect, which asks
 * the loop not to sleep meanwhile. */
uint8_t	*mux_in_space(struct mux *m, size_t *len);
/* After ATTACHED (joined): the link bytes that followed it, unread. */
const uint8_t *mux_in_rest(const struct mux *m, size_t *len);
bool	 mux_handed_over(const struct mux *m);
int	 mux_in_commit(struct mux *m, size_t n);
/* The link ended: handle every whole frame still in the input (a BYE
 * behind a batch of OPENs counts).  As mux_in_commit. */
int	 mux_in_drain(struct mux *m);
/* False while the link output is too full to take the replies that more
 * input could cause: stop reading the link until it drains. */
bool	 mux_in_ready(const struct mux *m);

/* Link output: the queued frames for the peer, *len bytes at the returned
 * pointer (valid until the next call on m), and how many there are. */
const uint8_t *mux_link_data(const struct mux *m, size_t *len);
size_t	 mux_link_len(const struct mux *m);
/* n (<= the queued length) bytes went to the peer: drop them, and let
 * streams that waited for room read their sockets again. */
void	 mux_link_consume(struct mux *m, size_t n);

/* Streams (mux_stream.c). */
/*
 * Client: start a stream for an accepted socket (non-blocking) towards
 * dst (a TCP destination).  The mux owns fd from here on, also on failure
 * (at the maximum of streams it is reset and counted in streams_refused).
 * Returns the stream or NULL (reason logged).
 */
struct mux_stream *mux_stream_open(struct mux *m, int fd, const struct addr *dst);
/* Stub: reset streams whose connect deadline has passed. */
void	 mux_sweep(struct mux *m, uint64_t now);
/* Free streams closed during this pass (call from the before-sleep hook). */
void	 mux_collect(struct mux *m);

#endif
