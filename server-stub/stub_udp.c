/* SPDX-License-Identifier: ISC */
/*
 * stub_udp.c - the stub's UDP flows (see stub_udp.h and section 10 of
 * docs/PROTOCOL.md).
 *
 * One socket per flow, never connect()ed: the first sendto binds an
 * ephemeral port, and every destination of the flow sees that port.
 * IP_RECVERR / IPV6_RECVERR make the kernel report ICMP errors for an
 * unconnected socket at all; they arrive on the socket's error queue
 * with the original destination as the address, and become UDP_DROP.
 *
 * A flow is freed in stub_udp_collect(), after the event pass, so that
 * an event already fetched for its socket finds the io deleted.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "stub_udp.h"

/* ee_origin of struct sock_extended_err (<linux/errqueue.h>, which musl
 * does not ship): the byte after the 4-byte ee_errno. */
#define STUB_UDP_EE_ORIGIN		4
#define STUB_UDP_EE_ICMP		2
#define STUB_UDP_EE_ICMP6		3

struct stub_udp_flow {
	struct ev_io		 io;
	struct stub_udp		*udp;
	uint32_t		 id;
	uint8_t			 family;	/* ADDR_V4 or ADDR_V6 */
	uint64_t		 drop_sent;	/* clock_ms() of the last UDP_DROP */
	LIST_ENTRY(stub_udp_flow) entry;	/* in udp->flows, then */
	SLIST_ENTRY(stub_udp_flow) gc;		/* in udp->garbage */
};

/* Datagrams from the remote network; used within one call only.  Holds
 * the largest UDP datagram, so none is cut short. */
static uint8_t	stub_udp_rx[65536];

static struct stub_udp_bucket *
stub_udp_bucket(struct stub_udp *u, uint32_t id)
{
	return &u->flows[id % STUB_UDP_BUCKETS];
}

static struct stub_udp_flow *
stub_udp_find(struct stub_udp *u, uint32_t id)
{
	struct stub_udp_flow	*fl;

	LIST_FOREACH(fl, stub_udp_bucket(u, id), entry)
		if (fl->id == id)
			return fl;
	return NULL;
}

/* Close the socket now; the memory goes after the pass. */
static void
stub_udp_forget(struct stub_udp_flow *fl)
{
	struct stub_udp	*u = fl->udp;
	int		 fd = fl->io.fd;

	ev_io_del(u->loop, &fl->io);
	close(fd);
	LIST_REMOVE(fl, entry);
	u->nflows--;
	SLIST_INSERT_HEAD(&u->garbage, fl, gc);
}

/* We end flow id (fl, when it is open) with UDP_CLOSE reason. */
static void
stub_udp_close(struct stub_udp *u, struct stub_udp_flow *fl, uint32_t id, uint8_t reason)
{
	if (fl != NULL)
		stub_udp_forget(fl);
	/* Remembered only when the client will hear of it: otherwise its
	 * next datagram may as well try again. */
	if (mux_send_udp_close(u->mux, id, reason) == 0) {
		u->closed[u->closed_next] = id;
		u->closed_next = (u->closed_next + 1) % STUB_UDP_CLOSED;
	}
}

static int
stub_udp_closed_by_us(const struct stub_udp *u, uint32_t id)
{
	unsigned	i;

	for (i = 0; i < STUB_UDP_CLOSED; i++)
		if (u->closed[i] == id)
			return 1;
	return 0;
}

/* UDP_DROP for datagrams of fl to dst, at most one per STUB_UDP_DROP_MS. */
static void
stub_udp_report(struct stub_udp_flow *fl, const struct addr *dst, uint8_t reason)
{
	uint64_t	now = clock_ms();

	if (fl->drop_sent != 0 && now - fl->drop_sent < STUB_UDP_DROP_MS)
		return;
	if (mux_send_udp_drop(fl->udp->mux, fl->id, dst, reason) == 0)
		fl->drop_sent = now;
}

/* The socket's error queue: ICMP errors for datagrams it sent. */
static void
stub_udp_errors(struct stub_udp_flow *fl)
{
	struct sockaddr_storage	 ss;
	union {
		struct cmsghdr	 h;
		uint8_t		 b[256];
	}			 ctl;
	struct msghdr		 msg;
	struct cmsghdr		*c;
	struct iovec		 iov;
	struct addr		 dst;
	socklen_t		 elen = sizeof(int);
	uint8_t			 byte;
	int			 i, err;

	for (i = 0; i < STUB_UDP_RX_BATCH; i++) {
		memset(&msg, 0, sizeof(msg));
		/* A byte for the quoted datagram, which is of no interest:
		 * qemu-user returns from a recvmsg without any buffer at
		 * once, having read nothing. */
		iov.iov_base = &byte;
		iov.iov_len = 1;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_name = &ss;
		msg.msg_namelen = sizeof(ss);
		msg.msg_control = &ctl;
		msg.msg_controllen = sizeof(ctl);
		if (recvmsg(fl->io.fd, &msg, MSG_ERRQUEUE) < 0)
			break;
		for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
			if (!(c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) &&
			    !(c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR))
				continue;
			/* Local errors (EMSGSIZE) were counted by sendto. */
			if (c->cmsg_len < CMSG_LEN(STUB_UDP_EE_ORIGIN + 1) ||
			    (CMSG_DATA(c)[STUB_UDP_EE_ORIGIN] != STUB_UDP_EE_ICMP &&
			    CMSG_DATA(c)[STUB_UDP_EE_ORIGIN] != STUB_UDP_EE_ICMP6))
				continue;
			fl->udp->drop_unreach++;
			if (addr_from_sockaddr(&dst, (struct sockaddr *)&ss, msg.msg_namelen) == 0)
				stub_udp_report(fl, &dst, PROTO_UDP_DROP_UNREACH);
		}
	}
	/* An ICMP error also sets the socket's pending error.  Emptying the
	 * queue clears it, but an error the full queue could not take
	 * stays: it would keep epoll reporting the socket, so clear it. */
	(void)getsockopt(fl->io.fd, SOL_SOCKET, SO_ERROR, &err, &elen);
}

static void
stub_udp_io_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct stub_udp_flow	*fl = io->arg;
	struct stub_udp		*u = fl->udp;
	struct sockaddr_storage	 ss;
	struct addr		 src;
	socklen_t		 slen;
	ssize_t			 n;
	int			 i;

	if (revents & EV_ERROR)
		stub_udp_errors(fl);
	if (!(revents & EV_READ))
		return;
	/*
	 * A bounded batch, then other work; whatever the link can take.
	 * A datagram it cannot take is read and dropped all the same: UDP
	 * does not wait, and an unread socket would keep the level-
	 * triggered loop spinning.
	 */
	for (i = 0; i < STUB_UDP_RX_BATCH; i++) {
		slen = sizeof(ss);
		n = recvfrom(io->fd, stub_udp_rx, sizeof(stub_udp_rx), 0,
		    (struct sockaddr *)&ss, &slen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* A pending ICMP error, reported once; the error
			 * queue has it, the datagrams behind it are there. */
			continue;
		}
		if (addr_from_sockaddr(&src, (struct sockaddr *)&ss, slen) != 0)
			continue;
		/* A frame cannot carry more, nor name port 0. */
		if ((size_t)n > (src.family == ADDR_V6 ? PROTO_UDP_MAX_DGRAM6 :
		    PROTO_UDP_MAX_DGRAM4) || src.port == 0)
			u->drop_big++;
		else if (mux_send_udp(u->mux, fl->id, &src, stub_udp_rx, (size_t)n) != 0)
			u->drop_link++;
		else
			u->received++;
	}
}

/* A socket for flow id, or NULL after UDP_CLOSE reason RESOURCE. */
static struct stub_udp_flow *
stub_udp_open(struct stub_udp *u, uint32_t id, uint8_t family)
{
	struct stub_udp_flow	*fl = NULL;
	int			 fd = -1, one = 1, err = 0;

	if (u->nflows >= u->max_flows)
		goto refuse;
	if ((fd = socket(addr_af(family), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 || (fl = calloc(1, sizeof(*fl))) == NULL) {
		err = errno;
		goto refuse;
	}
	/*
	 * Best effort: without RECVERR the flow works but learns nothing of
	 * ICMP errors; V6ONLY matters little, as the client sends IPv4
	 * (v4-mapped included) on IPv4 flows.
	 */
	if (family == ADDR_V6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	} else
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	if ((err = -ev_io_add(u->loop, &fl->io, fd, EV_READ, stub_udp_io_cb, fl)) != 0)
		goto refuse;
	fl->udp = u;
	fl->id = id;
	fl->family = family;
	LIST_INSERT_HEAD(stub_udp_bucket(u, id), fl, entry);
	u->nflows++;
	u->opened++;
	return fl;

refuse:
	free(fl);
	if (fd != -1)
		close(fd);
	u->refused++;
	log_limited(&u->log, STUB_UDP_LOG_MS, LOG_LVL_INFO, "udp: flow %u refused: %s", id,
	    err != 0 ? strerror(err) : "too many flows");
	stub_udp_close(u, NULL, id, PROTO_UDP_CLOSE_RESOURCE);
	return NULL;
}

static void
stub_udp_send(struct stub_udp_flow *fl, const struct addr *dst, const uint8_t *data,
    size_t len)
{
	struct sockaddr_storage	ss;
	socklen_t		slen = addr_to_sockaddr(dst, &ss);
	int			again = 1;

	while (sendto(fl->io.fd, data, len, 0, (struct sockaddr *)&ss, slen) == -1) {
		/*
		 * With RECVERR an ICMP error also sets the socket's pending
		 * error, which the next sendto returns instead of sending,
		 * whatever the destination; that error is counted from the
		 * error queue.  So once more, unless the buffer is full.
		 */
		if (!again-- || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
			fl->udp->drop_send++;
			stub_udp_report(fl, dst, PROTO_UDP_DROP_SEND);
			return;
		}
	}
	fl->udp->sent++;
}

void
stub_udp_frame(struct stub_udp *u, const struct proto_frame *f)
{
	struct stub_udp_flow	*fl = stub_udp_find(u, f->stream);

	if (f->bad) {
		u->bad++;
		stub_udp_close(u, fl, f->stream, PROTO_UDP_CLOSE_PROTOCOL);
		return;
	}
	if (f->type == PROTO_UDP_CLOSE) {
		/* No answer; a flow already gone crossed ours. */
		if (fl != NULL)
			stub_udp_forget(fl);
		return;
	}
	/* UDP_DROP never gets here: from the client it ends the session. */
	if (f->type != PROTO_UDP_DATA)
		return;
	if (fl == NULL) {
		if (stub_udp_closed_by_us(u, f->stream)) {
			u->drop_late++;
			return;
		}
		if ((fl = stub_udp_open(u, f->stream, f->u.udp.peer.family)) == NULL)
			return;
	}
	/* A local socket has one family: the client never mixes them. */
	if (f->u.udp.peer.family != fl->family) {
		u->drop_family++;
		return;
	}
	stub_udp_send(fl, &f->u.udp.peer, f->u.udp.data, f->u.udp.datalen);
}

void
stub_udp_init(struct stub_udp *u, struct ev_loop *loop, struct mux *m)
{
	struct rlimit	rl;
	size_t		i;

	memset(u, 0, sizeof(*u));
	u->loop = loop;
	u->mux = m;
	u->max_flows = STUB_UDP_MAX_FLOWS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 2 < u->max_flows)
		u->max_flows = rl.rlim_cur / 2 > 0 ? (size_t)rl.rlim_cur / 2 : 1;
	for (i = 0; i < STUB_UDP_BUCKETS; i++)
		LIST_INIT(&u->flows[i]);
	SLIST_INIT(&u->garbage);
}

void
stub_udp_collect(struct stub_udp *u)
{
	struct stub_udp_flow	*fl;

	while ((fl = SLIST_FIRST(&u->garbage)) != NULL) {
		SLIST_REMOVE_HEAD(&u->garbage, gc);
		free(fl);
	}
}

void
stub_udp_free(struct stub_udp *u)
{
	struct stub_udp_flow	*fl;
	size_t			 i;

	for (i = 0; i < STUB_UDP_BUCKETS; i++)
		while ((fl = LIST_FIRST(&u->flows[i])) != NULL)
			stub_udp_forget(fl);
	stub_udp_collect(u);
}
