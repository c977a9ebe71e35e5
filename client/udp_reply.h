/* SPDX-License-Identifier: ISC */
/*
 * udp_reply.h - the sockets the stub's datagrams leave from: one per
 * remote address and port, bound to it (transparently, by the helper:
 * fw_udp_reply_socket), so that the application sees its answer come from
 * where it sent to.  Kept while used and shared by every flow, bounded
 * in number (the least recently used goes first); an address the helper
 * refuses (not inside a carried subnet) is remembered for a while, so a
 * stream of datagrams from it costs one request, not one each.
 */
#ifndef CSHUTTLE_UDP_REPLY_H
#define CSHUTTLE_UDP_REPLY_H

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
	int			 fd;		/* -1: refused, until last + REFUSED_MS */
	uint64_t		 last;
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
};

int	udp_reply_init(struct udp_replies *r, struct fw *fw);
void	udp_reply_fini(struct udp_replies *r);
/* The socket that sends from peer (port included), made on first use; -1
 * when there is none (refused now or recently, over the budget of
 * requests, or out of descriptors). */
int	udp_reply_fd(struct udp_replies *r, const struct addr *peer, uint64_t now);
/* Close sockets unused for idle_ms. */
void	udp_reply_expire(struct udp_replies *r, uint64_t now, uint64_t idle_ms);

#endif
