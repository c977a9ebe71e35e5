/* SPDX-License-Identifier: ISC */
/*
 * udp_reply.h - the sockets the stub's datagrams leave from: one per
 * remote address and port, bound to it (transparently, by the helper:
 * fw_udp_reply_socket), so that the application sees its answer come from
 * where it sent to.  Kept while used and shared by every flow, bounded
 * in number (the least recently used goes first); an address the helper
 * refuses (not inside a carried subnet) is remembered for a while, so a
 * stream of datagrams from it costs one request, not one each.
 *
 * When the bind fails with EADDRINUSE (a local program holds that port on
 * the wildcard address, without SO_REUSEADDR), the replies from that
 * address and port go to the helper's send channel instead
 * (fw_udp_send_channel, firewall/fw_udpsend.h), which sends them from
 * there through a raw socket of its own; the bind is tried again every
 * UDP_REPLY_RETRY_MS, so the fast path comes back once the port is free.
 */
#ifndef CSHUTTLE_UDP_REPLY_H
#define CSHUTTLE_UDP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "fw.h"
#include "queue.h"

/* Sockets at once: this many, and no more than an eighth of the
 * descriptors (RLIMIT_NOFILE at start), which the streams need. */
#define UDP_REPLY_MAX		1024
#define UDP_REPLY_REFUSED_MS	5000	/* before asking again for a refused one */
#define UDP_REPLY_IDLE_MS	2000	/* a socket unused this long is closed */
#define UDP_REPLY_RETRY_MS	5000	/* through the helper, before binding
					   again */
#define UDP_REPLY_HELPER	(-2)	/* udp_reply_fd(): send with
					   udp_reply_send_helper() */
/*
 * Requests to the helper, at most UDP_REPLY_ASK_MAX in UDP_REPLY_ASK_MS:
 * each is synchronous, and the helper paces an unprivileged caller's
 * (FW_LIMIT_UDP_RATE a second, after a burst of FW_LIMIT_UDP_BURST).
 * Below its pace, the client never waits for it; above, a remote naming
 * a new source in every datagram would stop the client's whole loop.
 * A datagram beyond the budget is dropped.
 */
#define UDP_REPLY_ASK_MAX	250
#define UDP_REPLY_ASK_MS	1000

struct udp_reply {
	struct addr		 peer;
	int			 fd;		/* -1: refused, until last + REFUSED_MS;
						   UDP_REPLY_HELPER: through the
						   helper, until asked + RETRY_MS */
	uint64_t		 last, asked;
	LIST_ENTRY(udp_reply)	 by_peer;
	TAILQ_ENTRY(udp_reply)	 lru;
};

struct udp_replies {
	LIST_HEAD(, udp_reply)	*b;
	size_t			 nbuckets, n, max;
	TAILQ_HEAD(, udp_reply)	 lru;		/* least recently used first */
	struct fw		*fw;
	uint64_t		 refused;	/* the helper said no */
	uint64_t		 limited;	/* not asked: over the budget */
	uint64_t		 ask_start;	/* this period of requests */
	unsigned		 nask;		/* requests in it */
	int			 send_fd;	/* our end of the send channel */
	bool			 send_failed;	/* the helper would not take it */
	uint64_t		 via_helper;	/* datagrams sent through it */
};

int	udp_reply_init(struct udp_replies *r, struct fw *fw);
void	udp_reply_fini(struct udp_replies *r);
/* The socket that sends from peer (port included), made on first use;
 * UDP_REPLY_HELPER when only the helper can send from there; -1 when
 * there is none (refused now or recently, over the budget of requests,
 * or out of descriptors). */
int	udp_reply_fd(struct udp_replies *r, const struct addr *peer, uint64_t now);
/* Send data from peer to dst through the helper (after UDP_REPLY_HELPER).
 * 0, or -1 when the channel cannot take it now (the datagram is lost). */
int	udp_reply_send_helper(struct udp_replies *r, const struct addr *peer,
	    const struct addr *dst, const void *data, size_t datalen);
/* Close sockets unused for idle_ms. */
void	udp_reply_expire(struct udp_replies *r, uint64_t now, uint64_t idle_ms);

#endif
