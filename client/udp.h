/* SPDX-License-Identifier: ISC */
/*
 * udp.h - UDP through the tunnel, the client's side (docs/PROTOCOL.md
 * section 10).
 *
 * The firewall delivers every captured datagram to the UDP sockets that
 * share the listeners' port (TPROXY; listen.h opens them, the helper makes
 * them transparent), with its original destination in a control message.
 * Datagrams are grouped in flows by their local source address and port
 * (udp_flow.h) and sent as UDP_DATA; the stub's replies leave here from
 * the address the application sent to, through reply sockets the helper
 * binds to that address (udp_reply.h).
 *
 * UDP never waits: a datagram that cannot be queued on the link, that is
 * too big for a frame, that arrives without a session, or that a reply
 * socket cannot take is dropped and counted.  Flows belong to a session:
 * when it ends they are forgotten, and the next datagram opens a new one.
 */
#ifndef CSHUTTLE_UDP_H
#define CSHUTTLE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "fw.h"
#include "mux.h"
#include "proto.h"

#define UDP_DEFAULT_TIMEOUT_S	60	/* --udp-timeout */
#define UDP_DNS_TIMEOUT_S	10	/* flows that sent only to port 53 */
#define UDP_DEFAULT_MAX_FLOWS	4096	/* --max-udp-flows */
#define UDP_MAX_FLOWS_MAX	65536
#define UDP_MAX_TIMEOUT_S	86400

struct udp_params {
	unsigned	timeout_s;	/* idle flows close after this */
	unsigned	max_flows;	/* open at once; more are dropped */
};

/* Counters over the whole run (every session), and what is open now. */
struct udp_stats {
	size_t		flows;			/* open now */
	uint64_t	flows_total;		/* opened in all */
	uint64_t	dgrams_out, dgrams_in;	/* carried each way */
	uint64_t	bytes_out, bytes_in;
	uint64_t	dropped_local;		/* dropped here: no session, link
						 * full, too big, flow limit, reply
						 * socket */
	uint64_t	dropped_remote;		/* the stub's UDP_DROP reports */
};

struct udp;

/*
 * The UDP side for the transparent sockets fd[0..nfd) (the caller keeps
 * them open for as long as this lives).  fw gives the reply sockets.
 * NULL with a reason in err.
 */
struct udp *udp_new(struct ev_loop *loop, const int *fd, int nfd, struct fw *fw,
	    const struct udp_params *p, char *err, size_t errlen);
void	 udp_free(struct udp *u);
/* A session with PROTO_FEAT_UDP in both HELLOs starts (m), or the
 * session ends (NULL): its flows are forgotten. */
void	 udp_session(struct udp *u, struct mux *m);
/* The mux's UDP frame handler (mux_ops.udp): arg is the struct udp. */
void	 udp_frame(struct udp *u, const struct proto_frame *f);
/* Change the idle timeout (a reload); open flows follow it. */
void	 udp_set_timeout(struct udp *u, unsigned timeout_s);
void	 udp_stats(const struct udp *u, struct udp_stats *st);

#endif
