/* SPDX-License-Identifier: ISC */
/*
 * mux_stream.h - the inside of the mux, shared by its two halves and by
 * nothing else: mux.c (the session: frames in and out, HELLO, features,
 * DNS, the link queues) and mux_stream.c (the streams: their states,
 * sockets, flow control and lists).  Callers see only mux.h.
 */
#ifndef CSHUTTLE_MUX_STREAM_H
#define CSHUTTLE_MUX_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "proto.h"
#include "queue.h"

/*
 * A stream's two directions, each changed only through its setter in
 * mux_stream.c, which refuses an illegal transition (fatal) and logs the
 * legal ones.  "Input" is what we read from the socket and send to the
 * peer; "output" is what the peer sends and we write to the socket.
 *
 *   input:  OPEN -> EOF_SENT -> CLOSED	(any state -> CLOSED on abort)
 *   output: OPEN -> WAIT_DRAIN -> SHUT -> CLOSED
 *
 * A stream whose input is EOF_SENT and output SHUT has ended normally and
 * is closed.  Both directions become CLOSED together, when the stream is
 * killed; it is freed after the event pass (mux_collect).
 */
enum mux_in {
	MUX_IN_OPEN,		/* reading the socket */
	MUX_IN_EOF_SENT,	/* the socket said EOF; our EOF is queued */
	MUX_IN_CLOSED,		/* killed */
};

enum mux_out {
	MUX_OUT_OPEN,		/* the peer may send DATA */
	MUX_OUT_WAIT_DRAIN,	/* the peer sent EOF; queued data still to write */
	MUX_OUT_SHUT,		/* all written, shutdown(SHUT_WR) done */
	MUX_OUT_CLOSED,		/* killed */
};

/* How far the stream's connection is: changed through its own setter. */
enum mux_conn {
	MUX_CONN_UP,		/* connected (the only state after setup) */
	MUX_CONN_WAIT_RESULT,	/* client: OPEN sent, no OPEN_RESULT yet */
	MUX_CONN_CONNECTING,	/* stub: connect() in progress */
};

struct mux_stream {
	uint32_t		 id;
	enum mux_in		 istate;
	enum mux_out		 ostate;
	enum mux_conn		 conn;
	/*
	 * Parked: the socket is unregistered from the loop and kept in
	 * parked_fd, because it reported EV_HUP with nothing we can do yet
	 * (see mux_stream_cb).  io.fd is -1 meanwhile.
	 */
	bool			 parked;
	int			 parked_fd;
	bool			 link_waiting;	/* on m->link_wait */
	struct ev_io		 io;
	struct mux		*mux;
	struct buf		 out;		/* peer -> socket */
	uint32_t		 tx_credit;	/* DATA bytes we may still send */
	uint32_t		 rx_avail;	/* DATA bytes the peer may still send */
	uint32_t		 rx_consumed;	/* written to the socket, not yet credited */
	/*
	 * Our grant to the peer, what this stream holds of the budget:
	 * rx_avail + queued + rx_consumed, at most the window.  It changes
	 * only when credit goes out (mux_stream_give_credit) and when the
	 * stream dies.
	 */
	uint32_t		 allot;
	/*
	 * Windows that grow (mux_grows): we said BLOCKED and no CREDIT has
	 * come since (blocked_sent); the peer said BLOCKED while our queue
	 * for the socket was short, so our grant is what holds it back
	 * (peer_blocked, until credit next goes out).
	 */
	bool			 blocked_sent, peer_blocked;
	uint64_t		 deadline;	/* connect deadline (stub) */
	uint64_t		 bytes_in, bytes_out;
	/*
	 * Resume (m->resume): the DATA this side sent, in all (tx_off);
	 * what the peer acknowledged of it (tx_acked, from ACK or RESUME),
	 * kept in retx until then; after a resume, where sending starts
	 * again (resend_off < tx_off while retx is being sent anew).  What
	 * came in, in all (rx_off).  eof_acked: the peer has our EOF;
	 * eof_resend: our EOF goes out again after the resent data.
	 */
	struct buf		 retx;
	uint64_t		 tx_off, tx_acked, resend_off, rx_off;
	bool			 eof_acked, eof_resend;
	bool			 resume_listed;	/* in the peer's RESUME (mux_resume_end) */
	bool			 no_resume;	/* began before resume was agreed */
	LIST_ENTRY(mux_stream)	 hentry;	/* id hash chain */
	LIST_ENTRY(mux_stream)	 lentry;	/* m->all */
	TAILQ_ENTRY(mux_stream)	 wentry;	/* m->link_wait */
	SLIST_ENTRY(mux_stream)	 gentry;	/* m->garbage */
};

LIST_HEAD(mux_chain, mux_stream);

#define MUX_HASH_INIT	256		/* chains at first; a power of 2 */

/* The link under the session (docs/PROTOCOL.md §11). */
enum mux_link {
	MUX_LINK_UP,		/* frames flow */
	MUX_LINK_DOWN,		/* lost (mux_detach): nothing is sent or read */
	MUX_LINK_RESUMING,	/* new (mux_attach): until the peer's RESUME_END */
};

struct mux {
	struct ev_loop		*loop;
	const struct mux_ops	*ops;
	void			*udata;
	void			*dns_arg;	/* for ops->dns; udata by default */
	uint8_t			 role;		/* PROTO_ROLE_* of this side */
	uint32_t		 window;	/* credit we grant each stream */
	uint32_t		 peer_window;	/* credit the peer grants */
	uint32_t		 features;	/* what our HELLO announced */
	size_t			 budget;	/* mux_set_bounds; 0: none */
	uint32_t		 max_streams;	/* 0: none */
	size_t			 ask_budget;	/* what our HELLO asks of the peer */
	uint32_t		 ask_max_streams;
	struct proto_bounds	 peer_ask;	/* what the peer's HELLO asks of us */
	struct log_limit	 ll_refused;	/* streams over max_streams */
	uint32_t		 peer_features;	/* what the peer's HELLO announced */
	bool			 hello_seen;
	enum mux_link		 link;
	bool			 resume;	/* PROTO_FEAT_RESUME in the first HELLOs */
	bool			 handed_over;	/* ATTACHED (joined) came: read no more */
	bool			 dns_config_seen, dns_query_seen;
	bool			 routes_seen;	/* ROUTES: once per session */
	bool			 hosts_seen;	/* HOSTS: once per session */
	bool			 hosts_seed_seen; /* HOSTS_SEED: likewise */
	struct buf		 link_out;	/* frames for the peer */
	/* What is left of the frame at the head of link_out once the
	 * transport took its start: where a cut may begin (mux_send_bye). */
	size_t			 out_head_rest;
	bool			 ending;	/* BYE sent: streams read no more */
	uint8_t			*in;		/* link input, MUX_IN_MAX bytes */
	size_t			 in_len;
	/* OPENs handled by this pass (the stub): the rest of the input
	 * waits for the next pass, MUX_OPEN_PASS at a time. */
	unsigned		 opens_pass;
	bool			 in_more;	/* whole frames left unread in `in` */
	bool			 in_drain;	/* mux_in_drain: no batches */
	uint32_t		 last_id;	/* highest stream id seen or used */
	struct mux_chain	*hash;		/* hsize chains, by stream id */
	size_t			 hsize;
	struct mux_chain	 all;		/* every open stream */
	/* Streams that would read but the link queue is full, woken in
	 * arrival order when it drains. */
	TAILQ_HEAD(mux_waitq, mux_stream) link_wait;
	size_t			 nwaiting;	/* on link_wait */
	size_t			 wake_read;	/* by wakeups this pass */
	/* Killed during this pass, freed by mux_collect(). */
	SLIST_HEAD(mux_garbage, mux_stream) garbage;
	char			 error[256];	/* why the session failed */
	struct mux_stats	 stats;		/* kept up to date as they change */
};

/* mux.c */
/* Record why the session fails (the first cause is kept). */
void	mux_fail(struct mux *m, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Queue an encoded frame (len < 0: the encoder failed).  0 or -1, the
 * session then failing. */
int	mux_queue(struct mux *m, const uint8_t *frame, int len);
/* Queue OPEN_RESULT (arg: status), CREDIT (arg: increment), EOF or CLOSE
 * (arg: reason) for stream id.  0 or -1 as mux_queue. */
int	mux_send_simple(struct mux *m, uint8_t type, uint32_t id, uint32_t arg);

/* OPEN and OPEN_RESULT carry the initial credit (both HELLOs announced
 * PROTO_FEAT_CREDIT). */
bool	mux_long_forms(const struct mux *m);
/* Both HELLOs announced PROTO_FEAT_GROW: grants grow on BLOCKED only. */
bool	mux_grows(const struct mux *m);
/* Queue OPEN_RESULT with status, in the long form when it applies. */
int	mux_send_result(struct mux *m, uint32_t id, uint8_t status, uint32_t credit);

/* mux_stream.c */
/* Kill every stream (reset) and free them. */
void	mux_stream_free_all(struct mux *m);
/* The open stream with this id, or NULL. */
struct mux_stream *mux_stream_lookup(const struct mux *m, uint32_t id);
/* Stub: an OPEN with the next id arrived. */
void	mux_stream_accept(struct mux *m, const struct proto_frame *f);
/* A stream frame (OPEN_RESULT, DATA, CREDIT, EOF, CLOSE) for st. */
void	mux_stream_frame(struct mux_stream *st, const struct proto_frame *f);
/* The link queue drained: read the streams that wait for it, in arrival
 * order, until it is full again or the pass has read MUX_WAKE_PASS. */
void	mux_stream_wake(struct mux *m);
/* Resume: queue the RESUME entries of every stream, then RESUME_END;
 * take one entry of the peer's; the peer's RESUME_END arrived.  0 or -1
 * (the session failed). */
int	mux_stream_resume_send(struct mux *m);
void	mux_stream_resume_entry(struct mux *m, const struct proto_resume *e);
void	mux_stream_resume_end(struct mux *m, uint32_t peer_last_id);
/* Every stream registers the events it can act on now (after the link
 * went down or came back). */
void	mux_stream_update_all(struct mux *m);

#endif
