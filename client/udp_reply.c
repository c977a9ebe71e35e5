/* SPDX-License-Identifier: ISC */
/*
 * udp_reply.c - the sockets the stub's datagrams leave from (udp_reply.h).
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_udpsend.h"
#include "log.h"
#include "udp_reply.h"

#define UDP_REPLY_BUCKETS	1024	/* a power of two */

static size_t
udp_reply_hash(const struct addr *a)
{
	uint32_t	h = 2166136261U;
	size_t		i, n = a->family == ADDR_V6 ? 16 : 4;

	for (i = 0; i < n; i++)
		h = (h ^ a->bytes[i]) * 16777619U;
	h = (h ^ a->port) * 16777619U;
	return h & (UDP_REPLY_BUCKETS - 1);
}

int
udp_reply_init(struct udp_replies *r, struct fw *fw)
{
	struct rlimit	rl;

	memset(r, 0, sizeof(*r));
	if ((r->b = calloc(UDP_REPLY_BUCKETS, sizeof(*r->b))) == NULL)
		return -1;
	r->nbuckets = UDP_REPLY_BUCKETS;
	r->max = UDP_REPLY_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 8 < r->max)
		r->max = rl.rlim_cur / 8 > 0 ? (size_t)rl.rlim_cur / 8 : 1;
	TAILQ_INIT(&r->lru);
	r->fw = fw;
	r->send_fd = -1;
	return 0;
}

static void
udp_reply_drop(struct udp_replies *r, struct udp_reply *e)
{
	LIST_REMOVE(e, by_peer);
	TAILQ_REMOVE(&r->lru, e, lru);
	if (e->fd >= 0)
		close(e->fd);
	r->n--;
	free(e);
}

void
udp_reply_fini(struct udp_replies *r)
{
	struct udp_reply	*e;

	if (r->b == NULL)
		return;
	while ((e = TAILQ_FIRST(&r->lru)) != NULL)
		udp_reply_drop(r, e);
	free(r->b);
	r->b = NULL;
	if (r->send_fd >= 0)
		close(r->send_fd);
	r->send_fd = -1;
}

/* The send channel, opened on first need: 0 or -1. */
static int
udp_reply_channel(struct udp_replies *r)
{
	int	sv[2], size = 1 << 20;

	if (r->send_fd >= 0)
		return 0;
	if (r->send_failed)
		return -1;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) != 0) {
		log_debug("udp: no send channel: %s", strerror(errno));
		return -1;	/* out of descriptors: try again later */
	}
	/* Our send buffer bounds what waits for the helper (a socketpair's
	 * datagrams are not bounded by the peer's queue length). */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (fw_udp_send_channel(r->fw, sv[1]) != 0) {
		log_warn("udp: the firewall helper will not send the replies "
		    "a local program's port keeps from their socket: %s",
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		r->send_failed = true;
		return -1;
	}
	close(sv[1]);
	r->send_fd = sv[0];
	return 0;
}

int
udp_reply_send_helper(struct udp_replies *r, const struct addr *peer,
    const struct addr *dst, const void *data, size_t datalen)
{
	uint8_t		hdr[FW_UDPSEND_HDR];
	struct iovec	iov[2];
	struct msghdr	msg;

	if (r->send_fd < 0 || datalen > FW_UDPSEND_MAXDATA ||
	    fw_udpsend_encode(hdr, peer, dst) != 0)
		return -1;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = datalen;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	if (sendmsg(r->send_fd, &msg, MSG_DONTWAIT) == -1)
		return -1;
	r->via_helper++;
	return 0;
}

/* A socket bound to peer by the helper; -1, or UDP_REPLY_HELPER when the
 * port is a local program's and the helper sends for us. */
static int
udp_reply_open(struct udp_replies *r, const struct addr *peer)
{
	char	ps[ADDR_STRLEN];
	int	fd, one = 1, err;

	fd = socket(addr_af(peer->family), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_debug("udp: no reply socket: %s", strerror(errno));
		return -1;
	}
	if (peer->family == ADDR_V6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (fw_udp_reply_socket(r->fw, fd, peer) != 0) {
		err = errno;
		close(fd);
		if (err == EADDRINUSE && udp_reply_channel(r) == 0) {
			log_debug("udp: %s is a local program's port: replies "
			    "from there go through the helper",
			    addr_format(peer, true, ps, sizeof(ps)));
			return UDP_REPLY_HELPER;
		}
		r->refused++;
		log_debug("udp: no reply socket for %s: %s",
		    addr_format(peer, true, ps, sizeof(ps)), strerror(err));
		return -1;
	}
	return fd;
}

int
udp_reply_fd(struct udp_replies *r, const struct addr *peer, uint64_t now)
{
	struct udp_reply	*e;
	size_t			 h = udp_reply_hash(peer);

	LIST_FOREACH(e, &r->b[h], by_peer)
		if (e->peer.port == peer->port && addr_same_host(&e->peer, peer))
			break;
	if (e != NULL) {
		if (e->fd == UDP_REPLY_HELPER) {
			if (now - e->asked < UDP_REPLY_RETRY_MS) {
				TAILQ_REMOVE(&r->lru, e, lru);
				TAILQ_INSERT_TAIL(&r->lru, e, lru);
				e->last = now;
				return e->fd;
			}
			udp_reply_drop(r, e);	/* is the port free now? */
		} else if (e->fd < 0) {
			if (now - e->last < UDP_REPLY_REFUSED_MS)
				return -1;
			udp_reply_drop(r, e);	/* ask again */
		} else {
			TAILQ_REMOVE(&r->lru, e, lru);
			TAILQ_INSERT_TAIL(&r->lru, e, lru);
			e->last = now;
			return e->fd;
		}
	}
	/* Nothing is remembered of a datagram over the budget: the next
	 * one from peer may ask. */
	if (now - r->ask_start >= UDP_REPLY_ASK_MS || r->ask_start == 0) {
		r->ask_start = now;
		r->nask = 0;
	}
	if (r->nask >= UDP_REPLY_ASK_MAX) {
		r->limited++;
		return -1;
	}
	r->nask++;
	if (r->n >= r->max && (e = TAILQ_FIRST(&r->lru)) != NULL)
		udp_reply_drop(r, e);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	e->peer = *peer;
	e->peer.scope = 0;
	e->last = e->asked = now;
	e->fd = udp_reply_open(r, &e->peer);
	LIST_INSERT_HEAD(&r->b[h], e, by_peer);
	TAILQ_INSERT_TAIL(&r->lru, e, lru);
	r->n++;
	return e->fd;
}

void
udp_reply_expire(struct udp_replies *r, uint64_t now, uint64_t idle_ms)
{
	struct udp_reply	*e;

	while ((e = TAILQ_FIRST(&r->lru)) != NULL && now - e->last >= idle_ms)
		udp_reply_drop(r, e);
}
