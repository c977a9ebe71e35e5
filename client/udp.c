/* SPDX-License-Identifier: ISC */
/*
 * udp.c - UDP through the tunnel, the client's side (see udp.h).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "udp.h"
#include "udp_flow.h"
#include "udp_reply.h"

#define UDP_BATCH		16	/* datagrams per recvmmsg() */
#define UDP_BATCHES		4	/* recvmmsg() calls per readiness event */
#define UDP_DGRAM_MAX		65536	/* the largest UDP payload fits */
#define UDP_LOG_MS		10000	/* one line per cause this often */
#define UDP_CMSG_SPACE		CMSG_SPACE(sizeof(struct sockaddr_in6))

struct udp_sock {
	struct ev_io		 io;
	struct addr		 local;		/* where the socket is bound */
	struct udp		*u;
};

struct udp {
	struct ev_loop		*loop;
	struct udp_sock		 sock[LISTEN_MAX];
	int			 nsock;
	struct mux		*mux;		/* a session that carries UDP, or NULL */
	struct udp_flow_table	 flows;
	struct udp_replies	 replies;
	struct ev_timer		 sweep;
	uint64_t		 timeout_ms, dns_timeout_ms;
	struct udp_stats	 st;
	struct log_limit	 nosession_log, limit_log, toobig_log, remote_log, close_log;
	/* recvmmsg()'s vectors: UDP_BATCH datagrams of up to 64 KiB. */
	uint8_t			*buf;
	struct mmsghdr		 msgs[UDP_BATCH];
	struct iovec		 iov[UDP_BATCH];
	struct sockaddr_storage	 from[UDP_BATCH];
	uint8_t			 cmsg[UDP_BATCH][UDP_CMSG_SPACE];
};

static void	udp_read_cb(struct ev_loop *, struct ev_io *, uint32_t);
static void	udp_sweep_cb(struct ev_loop *, struct ev_timer *);

static void
udp_timeouts(struct udp *u, unsigned timeout_s)
{
	u->timeout_ms = (uint64_t)timeout_s * 1000;
	/* A lookup outside the capture is one question and one answer:
	 * its socket need not stay for a minute, unless asked for less. */
	u->dns_timeout_ms = timeout_s < UDP_DNS_TIMEOUT_S ? u->timeout_ms :
	    (uint64_t)UDP_DNS_TIMEOUT_S * 1000;
}

struct udp *
udp_new(struct ev_loop *loop, const int *fd, int nfd, struct fw *fw,
    const struct udp_params *p, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	struct udp		*u;
	int			 i, r;

	if (nfd > LISTEN_MAX) {
		snprintf(err, errlen, "too many UDP sockets");
		return NULL;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->buf = malloc((size_t)UDP_BATCH * UDP_DGRAM_MAX)) == NULL ||
	    udp_flow_init(&u->flows, p->max_flows ? p->max_flows : UDP_DEFAULT_MAX_FLOWS) != 0 ||
	    udp_reply_init(&u->replies, fw) != 0) {
		snprintf(err, errlen, "UDP: out of memory");
		goto fail;
	}
	u->loop = loop;
	udp_timeouts(u, p->timeout_s ? p->timeout_s : UDP_DEFAULT_TIMEOUT_S);
	for (i = 0; i < UDP_BATCH; i++) {
		u->iov[i].iov_base = u->buf + (size_t)i * UDP_DGRAM_MAX;
		u->iov[i].iov_len = UDP_DGRAM_MAX;
	}
	for (i = 0; i < nfd; i++) {
		len = sizeof(ss);
		if (getsockname(fd[i], (struct sockaddr *)&ss, &len) == -1 ||
		    addr_from_sockaddr(&u->sock[i].local, (struct sockaddr *)&ss, len) != 0) {
			snprintf(err, errlen, "UDP socket without an address: %s",
			    strerror(errno));
			goto fail;
		}
		u->sock[i].u = u;
		u->sock[i].io.fd = -1;
		if ((r = ev_io_add(loop, &u->sock[i].io, fd[i], EV_READ, udp_read_cb,
		    &u->sock[i])) != 0) {
			snprintf(err, errlen, "UDP: cannot watch a socket: %s", strerror(-r));
			goto fail;
		}
		u->nsock = i + 1;
	}
	u->sweep.cb = udp_sweep_cb;
	u->sweep.arg = u;
	if (ev_timer_add(loop, &u->sweep) != 0) {
		snprintf(err, errlen, "UDP: no timer slot");
		goto fail;
	}
	return u;
fail:
	udp_free(u);
	return NULL;
}

void
udp_free(struct udp *u)
{
	int	i;

	if (u == NULL)
		return;
	for (i = 0; i < u->nsock; i++)
		ev_io_del(u->loop, &u->sock[i].io);
	if (u->loop != NULL)
		ev_timer_del(u->loop, &u->sweep);
	udp_flow_fini(&u->flows);
	udp_reply_fini(&u->replies);
	free(u->buf);
	free(u);
}

/* How long a reply socket stays after its last use.  It holds the
 * remote's address and port on this host: while it exists a local
 * service cannot bind that port on the wildcard address. */
static uint64_t
udp_reply_idle_ms(const struct udp *u)
{
	return u->timeout_ms < UDP_REPLY_IDLE_MS ? u->timeout_ms : UDP_REPLY_IDLE_MS;
}

/* The sweep wakes when the first flow or reply socket falls idle, not
 * on a fixed tick: an idle tunnel with open flows sleeps.  Only ever
 * brought forward here; the sweep itself re-arms it. */
static void
udp_arm(struct udp *u)
{
	struct udp_reply	*e = TAILQ_FIRST(&u->replies.lru);
	uint64_t		 when;

	when = udp_flow_next_expiry(&u->flows, u->timeout_ms, u->dns_timeout_ms);
	if (e != NULL && (when == 0 || e->last + udp_reply_idle_ms(u) < when))
		when = e->last + udp_reply_idle_ms(u);
	if (when != 0 && (u->sweep.when == 0 || when < u->sweep.when))
		u->sweep.when = when;
}

void
udp_session(struct udp *u, struct mux *m)
{
	/* The stub closes the flows' sockets when its session ends; a new
	 * session starts without any. */
	if (m == NULL && u->flows.n > 0)
		log_debug("udp: %zu flows end with the session", u->flows.n);
	udp_flow_clear(&u->flows);
	u->mux = m;
}

void
udp_set_timeout(struct udp *u, unsigned timeout_s)
{
	udp_timeouts(u, timeout_s);
	udp_arm(u);
}

void
udp_stats(const struct udp *u, struct udp_stats *st)
{
	*st = u->st;
	st->flows = u->flows.n;
}

/*
 * The original destination of a datagram, from IP_ORIGDSTADDR.  Its
 * length is checked before the family is read: a message cut short
 * (MSG_CTRUNC) may end inside the address, and cmsg_len - CMSG_LEN(0)
 * must not wrap.
 */
static int
udp_origdst(struct msghdr *mh, struct addr *dst)
{
	struct cmsghdr	*c;

	if (mh->msg_flags & MSG_CTRUNC)
		return -1;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (!(c->cmsg_level == SOL_IP && c->cmsg_type == IP_ORIGDSTADDR) &&
		    !(c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR))
			continue;
		if (c->cmsg_len < CMSG_LEN(sizeof(struct sockaddr_in)))
			return -1;
		return addr_from_sockaddr(dst, (struct sockaddr *)CMSG_DATA(c),
		    (socklen_t)(c->cmsg_len - CMSG_LEN(0)));
	}
	return -1;
}

static void
udp_drop(struct udp *u)
{
	u->st.dropped_local++;
}

/* One captured datagram: into its flow, onto the link. */
static void
udp_captured(struct udp *u, struct udp_sock *us, struct mmsghdr *mm, int i)
{
	struct addr	 src, dst;
	struct udp_flow	*f;
	char		 as[ADDR_STRLEN];
	size_t		 len = mm->msg_len, max;
	uint64_t	 now = ev_now();

	if (addr_from_sockaddr(&src, (struct sockaddr *)&u->from[i],
	    mm->msg_hdr.msg_namelen) != 0 || udp_origdst(&mm->msg_hdr, &dst) != 0) {
		udp_drop(u);
		return;
	}
	dst.scope = 0;
	/* Only what the rules sent here is carried: a datagram addressed to
	 * the socket itself was sent by someone who found the port. */
	if (listen_is_direct(&dst, &us->local) || dst.port == 0) {
		udp_drop(u);
		return;
	}
	max = dst.family == ADDR_V6 ? PROTO_UDP_MAX_DGRAM6 : PROTO_UDP_MAX_DGRAM4;
	if ((mm->msg_hdr.msg_flags & MSG_TRUNC) || len > max) {
		udp_drop(u);
		log_limited(&u->toobig_log, UDP_LOG_MS, LOG_LVL_DEBUG, "udp: a datagram of %zu "
		    "bytes to %s is larger than a frame carries; dropped", len,
		    addr_format(&dst, true, as, sizeof(as)));
		return;
	}
	if (u->mux == NULL) {
		udp_drop(u);
		log_limited(&u->nosession_log, UDP_LOG_MS, LOG_LVL_DEBUG, "udp: no session "
		    "carries UDP now; a datagram to %s dropped",
		    addr_format(&dst, true, as, sizeof(as)));
		return;
	}
	if ((f = udp_flow_find(&u->flows, &src)) == NULL) {
		if ((f = udp_flow_add(&u->flows, &src, dst.port, now)) == NULL) {
			udp_drop(u);
			log_limited(&u->limit_log, UDP_LOG_MS, LOG_LVL_WARN, "udp: %zu flows "
			    "open, the most allowed (--max-udp-flows); a datagram from "
			    "%s dropped", u->flows.n, addr_format(&src, true, as,
			    sizeof(as)));
			return;
		}
		u->st.flows_total++;
		udp_arm(u);
	} else
		udp_flow_touch(&u->flows, f, dst.port, now);
	if (mux_send_udp(u->mux, f->id, &dst, u->iov[i].iov_base, len) != 0) {
		udp_drop(u);
		return;
	}
	u->st.dgrams_out++;
	u->st.bytes_out += len;
}

static void
udp_read_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct udp_sock	*us = io->arg;
	struct udp	*u = us->u;
	int		 b, i, n;

	for (b = 0; b < UDP_BATCHES; b++) {
		for (i = 0; i < UDP_BATCH; i++) {
			memset(&u->msgs[i].msg_hdr, 0, sizeof(u->msgs[i].msg_hdr));
			u->msgs[i].msg_hdr.msg_name = &u->from[i];
			u->msgs[i].msg_hdr.msg_namelen = sizeof(u->from[i]);
			u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
			u->msgs[i].msg_hdr.msg_iovlen = 1;
			u->msgs[i].msg_hdr.msg_control = u->cmsg[i];
			u->msgs[i].msg_hdr.msg_controllen = sizeof(u->cmsg[i]);
		}
		n = recvmmsg(io->fd, u->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			/* EAGAIN: all read.  Errors of a UDP socket concern
			 * one datagram (an ICMP error queued on it): the
			 * next read goes on. */
			return;
		}
		for (i = 0; i < n; i++)
			udp_captured(u, us, &u->msgs[i], i);
		if (n < UDP_BATCH)
			return;
	}
}

/* The stub's datagram for a flow: to the application, from where it came. */
static void
udp_deliver(struct udp *u, struct udp_flow *f, const struct proto_frame *fr)
{
	struct sockaddr_storage	ss;
	socklen_t		slen;
	int			fd;
	uint64_t		now = ev_now();

	if (fr->u.udp.peer.family != f->local.family) {
		udp_drop(u);
		return;
	}
	if ((fd = udp_reply_fd(&u->replies, &fr->u.udp.peer, now)) ==
	    UDP_REPLY_HELPER) {
		if (udp_reply_send_helper(&u->replies, &fr->u.udp.peer,
		    &f->local, fr->u.udp.data, fr->u.udp.datalen) != 0) {
			udp_drop(u);
			return;
		}
	} else if (fd < 0) {
		udp_drop(u);
		return;
	} else {
		slen = addr_to_sockaddr(&f->local, &ss);
		/* Never blocking: a receiver that does not read loses
		 * datagrams, as it would without the tunnel. */
		if (sendto(fd, fr->u.udp.data, fr->u.udp.datalen,
		    MSG_DONTWAIT, (struct sockaddr *)&ss, slen) == -1) {
			udp_drop(u);
			return;
		}
	}
	udp_flow_touch(&u->flows, f, 0, now);
	u->st.dgrams_in++;
	u->st.bytes_in += fr->u.udp.datalen;
	udp_arm(u);
}

void
udp_frame(struct udp *u, const struct proto_frame *f)
{
	struct udp_flow	*fl;
	char		 as[ADDR_STRLEN];

	if (f->type == PROTO_UDP_DROP) {
		if (f->bad == 0) {
			u->st.dropped_remote++;
			log_limited(&u->remote_log, UDP_LOG_MS, LOG_LVL_DEBUG, "udp: the remote "
			    "could not deliver to %s (%s)", addr_format(&f->u.udp.peer,
			    true, as, sizeof(as)), proto_udp_drop_name(f->u.udp.reason));
		}
		return;
	}
	/* Frames of a flow already closed here crossed on the wire. */
	if ((fl = udp_flow_by_id(&u->flows, f->stream)) == NULL)
		return;
	if (f->type == PROTO_UDP_CLOSE) {
		if (f->bad == 0 && f->u.udp.reason != PROTO_UDP_CLOSE_DONE)
			log_limited(&u->close_log, UDP_LOG_MS, LOG_LVL_DEBUG, "udp: the remote "
			    "closed the flow of %s (%s)", addr_format(&fl->local, true, as,
			    sizeof(as)), f->u.udp.reason == PROTO_UDP_CLOSE_RESOURCE ?
			    "its limit, or no socket" : "protocol error");
		udp_flow_remove(&u->flows, fl);
		return;
	}
	if (f->bad != 0) {
		log_debug("udp: invalid UDP_DATA on flow %u (%s); flow closed", f->stream,
		    proto_strerror(f->bad));
		if (u->mux != NULL)
			(void)mux_send_udp_close(u->mux, fl->id, PROTO_UDP_CLOSE_PROTOCOL);
		udp_flow_remove(&u->flows, fl);
		return;
	}
	udp_deliver(u, fl, f);
}

static void
udp_sweep_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct udp	*u = tm->arg;
	struct udp_flow	*f;
	uint64_t	 now = ev_now();

	while ((f = udp_flow_expired(&u->flows, now, u->timeout_ms, u->dns_timeout_ms)) != NULL) {
		/* Best effort: if the link cannot take it now, the stub's
		 * socket stays until the session ends. */
		if (u->mux != NULL)
			(void)mux_send_udp_close(u->mux, f->id, PROTO_UDP_CLOSE_DONE);
		udp_flow_remove(&u->flows, f);
	}
	udp_reply_expire(&u->replies, now, udp_reply_idle_ms(u));
	udp_arm(u);
}
