/* SPDX-License-Identifier: ISC */
/*
 * dns_listen.c - the listeners of captured DNS, and the TCP connections
 * they accept (see dns_local_int.h).
 *
 * Each captured server has a UDP and a TCP listener on one local port:
 * the port a query arrives on says which server its asker chose.  An
 * answer over UDP leaves from that listener with the address the query
 * was sent to as its source, so that conntrack can undo the redirect.
 *
 * TCP queries are length-prefixed and may be pipelined: a connection
 * reads while fewer than DNS_LOCAL_TCP_PIPELINE of its queries are in
 * flight and its output is small, and answers go back in the order they
 * come.  Connections sit on a queue by last activity for the idle
 * timeout; a closed one waits on d->dead_conns until the pass is over.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "dns_local_int.h"
#include "sock.h"
#include "sysdep.h"

#define DNS_LISTEN_UDP_BATCH	64	/* datagrams per wake-up, for fairness */
#define DNS_LISTEN_ACCEPT_BATCH	16
#define DNS_LISTEN_OUT_SOFT	(64U * 1024)	/* stop reading queries above */
/* Every outstanding query may come back at full DNS size. */
#define DNS_LISTEN_OUT_MAX	(DNS_LOCAL_TCP_PIPELINE * (2U + 65535U) + \
				    DNS_LISTEN_OUT_SOFT)
#define DNS_LISTEN_PAUSE_MS	200	/* accept paused after EMFILE */

struct dns_listen_conn {
	struct ev_io		 io;
	int			 fd;
	struct dns_local_srv	*srv;
	uint8_t			 in[2 + DNS_MSG_QUERY_MAX];
	size_t			 inlen;
	struct buf		 out;
	struct dns_query_list	 queries;	/* in flight */
	int			 outstanding;	/* how many */
	bool			 rd_eof;
	bool			 failed;	/* an answer did not fit: close */
	bool			 processing;	/* in dns_listen_conn_process() */
	bool			 dead;
	uint64_t		 last;		/* progress either way */
	TAILQ_ENTRY(dns_listen_conn) alink;	/* d->conns, by activity */
	SLIST_ENTRY(dns_listen_conn) dlink;	/* then d->dead_conns */
};

/* ------------------------------------------------------------------ */
/* Listeners */

static int
dns_listen_bind(const struct addr *a, int type, int *fdp)
{
	int	one = 1, r;

	if ((r = sock_listen(a, type, 128, fdp)) != 0)
		return r;
	/* Replies must leave from the address the query was sent to, or
	 * conntrack cannot undo the redirect (a wildcard -l address). */
	if (type == SOCK_DGRAM && a->family == ADDR_V4)
		(void)setsockopt(*fdp, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (type == SOCK_DGRAM && a->family == ADDR_V6)
		(void)setsockopt(*fdp, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	return 0;
}

int
dns_listen_open(struct dns_local_srv *s, const uint8_t *addr, uint16_t *port,
    char *err, size_t errlen)
{
	struct addr	 a;
	char		 text[ADDR_STRLEN];
	int		 tries, r;

	for (tries = 0; tries < DNS_LOCAL_PORT_TRIES && *port != 0; tries++, (*port)++) {
		addr_set(&a, s->ns.family, addr, *port);
		if ((r = dns_listen_bind(&a, SOCK_DGRAM, &s->ufd)) == 0) {
			if ((r = dns_listen_bind(&a, SOCK_STREAM, &s->tfd)) == 0) {
				s->port = (*port)++;
				return 0;
			}
			close(s->ufd);
			s->ufd = -1;
		}
		if (r == -EADDRINUSE)
			continue;
		if (a.family == ADDR_V6 && (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT))
			return 1;	/* no IPv6 here */
		snprintf(err, errlen, "cannot listen for DNS on %s: %s",
		    addr_format(&a, true, text, sizeof(text)), strerror(-r));
		return -1;
	}
	snprintf(err, errlen, "no free local port for DNS (tried %d from %u)",
	    DNS_LOCAL_PORT_TRIES, (unsigned)(*port - tries));
	return -1;
}

void
dns_listen_close(struct dns_local_srv *s)
{
	if (s->ufd >= 0)
		close(s->ufd);
	if (s->tfd >= 0)
		close(s->tfd);
	s->ufd = s->tfd = -1;
}

/* ------------------------------------------------------------------ */
/* UDP */

static void
dns_listen_udp_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct dns_local_srv	*s = io->arg;
	struct dns_local	*d = s->d;
	struct sockaddr_storage	 peer;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		char		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
		struct cmsghdr	 align;
	}			 ctl;
	union dns_local_pktinfo	 dst;
	bool			 have;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < DNS_LISTEN_UDP_BATCH; i++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = d->rbuf;
		iov.iov_len = sizeof(d->rbuf);
		mh.msg_name = &peer;
		mh.msg_namelen = sizeof(peer);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if ((n = recvmsg(s->ufd, &mh, MSG_DONTWAIT)) == -1)
			return;
		d->st.queries_udp++;
		if (mh.msg_flags & MSG_TRUNC) {
			d->st.bad_queries++;
			dns_local_note(d, DNS_LOCAL_C_BADQUERY, LOG_LVL_DEBUG, "query "
			    "larger than %d bytes dropped", DNS_MSG_QUERY_MAX);
			continue;
		}
		have = false;
		memset(&dst, 0, sizeof(dst));
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(dst.v4))) {
				memcpy(&dst.v4, CMSG_DATA(cm), sizeof(dst.v4));
				have = true;
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_PKTINFO &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(dst.v6))) {
				memcpy(&dst.v6, CMSG_DATA(cm), sizeof(dst.v6));
				have = true;
			}
		}
		if (dns_fwd_own(d, &peer, mh.msg_namelen)) {
			d->st.looped++;
			dns_local_note(d, DNS_LOCAL_C_LOCAL, LOG_LVL_WARN, "a query "
			    "forwarded from here was redirected back (an old flow "
			    "with the same ports): sending it again from a new "
			    "socket");
			continue;
		}
		dns_query_in(d, s, NULL, &peer, mh.msg_namelen, have ? &dst : NULL,
		    d->rbuf, (size_t)n);
	}
}

void
dns_listen_udp_send(struct dns_local *d, const struct dns_query *q, const uint8_t *a,
    size_t len)
{
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		char		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr	 align;
	}			 ctl;
	struct in_pktinfo	 pi;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)a;
	iov.iov_len = len;
	mh.msg_name = (void *)&q->peer;
	mh.msg_namelen = q->peerlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (q->have_dst) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		cm = (struct cmsghdr *)ctl.buf;
		if (q->srv->ns.family == ADDR_V4) {
			memset(&pi, 0, sizeof(pi));
			pi.ipi_spec_dst = q->dst.v4.ipi_addr;
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			mh.msg_controllen = CMSG_SPACE(sizeof(q->dst.v6));
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(q->dst.v6));
			memcpy(CMSG_DATA(cm), &q->dst.v6, sizeof(q->dst.v6));
		}
	}
	if (sendmsg(q->srv->ufd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		dns_local_note(d, DNS_LOCAL_C_SEND, LOG_LVL_WARN, "cannot send an "
		    "answer to a local program: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* TCP connections */

/* Move c to the tail of the activity queue. */
static void
dns_listen_conn_touch(struct dns_listen_conn *c)
{
	struct dns_local	*d = c->srv->d;

	c->last = clock_ms();
	if (TAILQ_NEXT(c, alink) == NULL)
		return;
	TAILQ_REMOVE(&d->conns, c, alink);
	TAILQ_INSERT_TAIL(&d->conns, c, alink);
}

static void
dns_listen_conn_close(struct dns_listen_conn *c)
{
	struct dns_local	*d = c->srv->d;
	struct dns_query	*q;

	if (c->dead)
		return;
	c->dead = true;
	/* Its queries are forgotten; late answers find nothing. */
	while ((q = LIST_FIRST(&c->queries)) != NULL)
		dns_query_free(d, q);
	ev_io_del(d->loop, &c->io);
	close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
	TAILQ_REMOVE(&d->conns, c, alink);
	d->nconns--;
	SLIST_INSERT_HEAD(&d->dead_conns, c, dlink);
}

/* Ask for exactly the events c can act on; close it when it is done. */
static void
dns_listen_conn_update(struct dns_listen_conn *c)
{
	uint32_t	ev = 0;

	if (c->dead)
		return;
	if (c->failed) {
		dns_listen_conn_close(c);
		return;
	}
	if (buf_len(&c->out) > 0)
		ev |= EV_WRITE;
	if (!c->rd_eof && c->outstanding < DNS_LOCAL_TCP_PIPELINE &&
	    buf_len(&c->out) < DNS_LISTEN_OUT_SOFT && c->inlen < sizeof(c->in))
		ev |= EV_READ;
	if (c->rd_eof && c->outstanding == 0 && buf_len(&c->out) == 0) {
		dns_listen_conn_close(c);
		return;
	}
	if (ev_io_set(c->srv->d->loop, &c->io, ev) != 0)
		dns_listen_conn_close(c);
}

/* Take the complete queries out of c->in, as far as the pipeline allows. */
static void
dns_listen_conn_process(struct dns_listen_conn *c)
{
	struct dns_local	*d = c->srv->d;
	size_t			 len, off = 0;

	/* A query answered at once (c-ares can call back from inside
	 * ares_send()) comes back here through dns_listen_conn_done(). */
	if (c->processing)
		return;
	c->processing = true;
	while (!c->dead && c->inlen - off >= 2 &&
	    c->outstanding < DNS_LOCAL_TCP_PIPELINE) {
		len = buf_get_u16(c->in + off);
		if (len < DNS_MSG_HDR_LEN || len > DNS_MSG_QUERY_MAX) {
			/* The framing is lost: nothing after this can be read. */
			d->st.queries_tcp++;
			d->st.bad_queries++;
			dns_local_note(d, DNS_LOCAL_C_BADQUERY, LOG_LVL_DEBUG, "TCP "
			    "query of %zu bytes: connection closed", len);
			c->processing = false;
			dns_listen_conn_close(c);
			return;
		}
		if (c->inlen - off < 2 + len)
			break;
		d->st.queries_tcp++;
		dns_query_in(d, c->srv, c, NULL, 0, NULL, c->in + off + 2, len);
		off += 2 + len;
	}
	c->processing = false;
	if (c->dead)
		return;
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
}

void
dns_listen_conn_attach(struct dns_listen_conn *c, struct dns_query *q)
{
	LIST_INSERT_HEAD(&c->queries, q, clink);
	c->outstanding++;
}

void
dns_listen_conn_detach(struct dns_listen_conn *c, struct dns_query *q)
{
	LIST_REMOVE(q, clink);
	c->outstanding--;
}

void
dns_listen_conn_done(struct dns_listen_conn *c)
{
	if (c->dead)
		return;
	if (!c->failed)
		dns_listen_conn_process(c);
	dns_listen_conn_update(c);
}

void
dns_listen_conn_send(struct dns_listen_conn *c, const uint8_t *a, size_t len)
{
	uint8_t	*w;

	if ((w = buf_reserve(&c->out, len + 2)) == NULL) {
		/* Out of memory: the pipeline bound keeps it from filling
		 * up.  Closed once the query is freed. */
		dns_local_note(c->srv->d, DNS_LOCAL_C_TCP, LOG_LVL_WARN, "answer "
		    "dropped: no memory for the TCP output");
		c->failed = true;
		return;
	}
	buf_set_u16(w, (uint16_t)len);
	memcpy(w + 2, a, len);
	buf_commit(&c->out, len + 2);
}

static void
dns_listen_conn_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct dns_listen_conn	*c = io->arg;
	ssize_t			 n;

	if (c->dead)
		return;
	/* Reset, or shut both ways: nobody can read an answer any more
	 * (and EV_HUP would wake us in a loop whatever the mask). */
	if (revents & (EV_ERROR | EV_HUP)) {
		dns_listen_conn_close(c);
		return;
	}
	if (revents & EV_WRITE) {
		while (buf_len(&c->out) > 0) {
			n = send(c->fd, buf_ptr(&c->out), buf_len(&c->out),
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN)
				break;
			if (n <= 0) {
				dns_listen_conn_close(c);
				return;
			}
			buf_consume(&c->out, (size_t)n);
			dns_listen_conn_touch(c);
		}
	}
	if ((revents & EV_READ) && (c->io.events & EV_READ)) {
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			dns_listen_conn_close(c);
			return;
		}
		if (n == 0) {
			/* Half-close: answer what was asked, then close; a
			 * partial query left in c->in never completes. */
			c->rd_eof = true;
		} else {
			c->inlen += (size_t)n;
			dns_listen_conn_touch(c);
		}
		dns_listen_conn_process(c);
	}
	dns_listen_conn_update(c);
}

static void
dns_listen_accept_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct dns_local_srv	*s = io->arg;
	struct dns_local	*d = s->d;
	struct dns_listen_conn	*c;
	int			 fd, i;

	for (i = 0; i < DNS_LISTEN_ACCEPT_BATCH; i++) {
		if ((fd = sysdep_accept(s->tfd)) == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				dns_local_note(d, DNS_LOCAL_C_TCP, LOG_LVL_WARN, "cannot "
				    "accept a TCP connection: %s", strerror(errno));
				(void)ev_io_set(loop, io, 0);
				d->accept_resume = clock_ms() + DNS_LISTEN_PAUSE_MS;
			}
			return;
		}
		if (d->p.accept != NULL && d->p.accept(d->p.accept_arg, fd) != 0) {
			d->st.tcp_direct++;
			close(fd);
			continue;
		}
		if (d->nconns >= DNS_LOCAL_MAX_TCP || (c = calloc(1, sizeof(*c))) == NULL) {
			d->st.tcp_refused++;
			dns_local_note(d, DNS_LOCAL_C_TCP, LOG_LVL_WARN, "more than %d "
			    "TCP connections: one refused", DNS_LOCAL_MAX_TCP);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->srv = s;
		LIST_INIT(&c->queries);
		buf_init(&c->out, DNS_LISTEN_OUT_MAX);
		if (ev_io_add(loop, &c->io, fd, EV_READ, dns_listen_conn_cb, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		d->nconns++;
		TAILQ_INSERT_TAIL(&d->conns, c, alink);
		c->last = clock_ms();
	}
}

/* ------------------------------------------------------------------ */
/* Start, timer, stop */

int
dns_listen_start(struct dns_local *d, char *err, size_t errlen)
{
	struct dns_local_srv	*s;
	size_t			 i;

	for (i = 0; i < d->nsrv; i++) {
		s = &d->srv[i];
		if (ev_io_add(d->loop, &s->uio, s->ufd, EV_READ, dns_listen_udp_cb, s) != 0 ||
		    ev_io_add(d->loop, &s->tio, s->tfd, EV_READ, dns_listen_accept_cb,
		    s) != 0) {
			snprintf(err, errlen, "cannot watch the DNS listeners: %s",
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

void
dns_listen_expire(struct dns_local *d, uint64_t now)
{
	struct dns_listen_conn	*c, *cn;
	size_t			 i;

	TAILQ_FOREACH_SAFE(c, &d->conns, alink, cn) {
		if (c->last + (uint64_t)d->p.tcp_idle_ms > now)
			break;
		if (c->outstanding == 0)
			dns_listen_conn_close(c);
	}
	if (d->accept_resume != 0 && d->accept_resume <= now) {
		d->accept_resume = 0;
		for (i = 0; i < d->nsrv; i++)
			(void)ev_io_set(d->loop, &d->srv[i].tio, EV_READ);
	}
}

uint64_t
dns_listen_next(const struct dns_local *d)
{
	const struct dns_listen_conn	*c;
	uint64_t			 when = 0;

	/* The first idle one in activity order is the next to time out. */
	TAILQ_FOREACH(c, &d->conns, alink)
		if (c->outstanding == 0) {
			when = c->last + (uint64_t)d->p.tcp_idle_ms;
			break;
		}
	if (d->accept_resume != 0 && (when == 0 || d->accept_resume < when))
		when = d->accept_resume;
	return when;
}

void
dns_listen_gc(struct dns_local *d)
{
	struct dns_listen_conn	*c;

	while ((c = SLIST_FIRST(&d->dead_conns)) != NULL) {
		SLIST_REMOVE_HEAD(&d->dead_conns, dlink);
		free(c);
	}
}

void
dns_listen_stop(struct dns_local *d)
{
	struct dns_listen_conn	*c;
	size_t			 i;

	while ((c = TAILQ_FIRST(&d->conns)) != NULL)
		dns_listen_conn_close(c);
	for (i = 0; i < d->nsrv; i++) {
		ev_io_del(d->loop, &d->srv[i].uio);
		ev_io_del(d->loop, &d->srv[i].tio);
	}
}
