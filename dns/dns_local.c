/*
 * dns_local.c - captured DNS: listeners, queries in flight, TCP framing
 * and local forwarding for split DNS.
 *
 * Queries in flight live in a hash by id and on one list in arrival
 * order; every query gets the same timeout, so that list is also sorted
 * by deadline and the timer only looks at its head.  TCP connections sit
 * on a list by last activity for the idle timeout.  Anything freed while
 * the event loop may still hold a pointer to it (a connection, a c-ares
 * socket) waits on a garbage list until dns_local_tick().
 *
 * Local forwarding uses one c-ares channel per captured server, so that
 * a name outside --dns-domains goes exactly where the application sent
 * it.  ares_send() takes the raw query; we put our own random ID in it
 * (unique in that channel: two applications may well use the same ID at
 * the same time) and put the application's ID back into the answer,
 * which also covers newer c-ares releases that re-encode queries with
 * IDs of their own.  c-ares is driven from the event loop through its
 * socket-state callback and ares_process_fd() (NOTES 4).
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ares.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dns_local.h"
#include "dns_msg.h"
#include "ev.h"
#include "sock.h"
#include "log.h"

#define DNS_LOCAL_HASH		1024
#define DNS_LOCAL_UDP_BATCH	64	/* datagrams per wake-up, for fairness */
#define DNS_LOCAL_ACCEPT_BATCH	16
#define DNS_LOCAL_TCP_OUT_SOFT	(64U * 1024)	/* stop reading queries above */
/* Every outstanding query may come back at full DNS size. */
#define DNS_LOCAL_TCP_OUT_MAX	(DNS_LOCAL_TCP_PIPELINE * (2U + 65535U) + \
				    DNS_LOCAL_TCP_OUT_SOFT)
#define DNS_LOCAL_ANSWER_MAX	65535
#define DNS_LOCAL_ARES_TIMEOUT_MS 2000	/* first try; c-ares doubles the next */
#define DNS_LOCAL_ARES_TRIES	2	/* about 6 s, inside our 10 s */
#define DNS_LOCAL_PAUSE_MS	200	/* accept paused after EMFILE */
#define DNS_LOCAL_QMAX		(DNS_MSG_HDR_LEN + DNS_MSG_NAME_MAX + 4)

enum dns_cause {
	DNS_C_BADQUERY,
	DNS_C_BADANSWER,
	DNS_C_BUSY,
	DNS_C_TIMEOUT,
	DNS_C_REMOTE,
	DNS_C_LOCAL,
	DNS_C_SEND,
	DNS_C_TCP,
	DNS_C_MAX,
};

struct dns_local;
struct dns_srv;
struct dns_tcp;

/* One socket c-ares has open, registered in the loop. */
struct dns_aio {
	struct ev_io		 io;
	int			 fd;
	struct dns_chan		*chan;
	struct dns_aio		*next;
};

/* Local forwarding to one captured server. */
struct dns_chan {
	struct dns_local	*d;
	struct dns_srv		*srv;
	ares_channel		 channel;
	bool			 live;		/* ares_init_options() succeeded */
	struct dns_aio		*ios;
	uint8_t			 used[65536 / 8];	/* our IDs in flight */
};

/* What a c-ares callback needs, whether or not the query still waits. */
struct dns_token {
	struct dns_chan		*chan;
	uint32_t		 id;
	uint16_t		 lid;		/* the ID c-ares sent */
};

struct dns_srv {
	struct dns_local	*d;
	struct addr		 ns;
	uint16_t		 port;
	int			 ufd, tfd;
	struct ev_io		 uio, tio;
	struct dns_chan		*chan;		/* with --dns-domains */
};

struct dns_pending {
	uint32_t		 id;
	struct dns_srv		*srv;
	struct dns_tcp		*conn;		/* TCP asker; NULL: UDP */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	union {
		struct in_pktinfo	v4;
		struct in6_pktinfo	v6;
	}			 dst;		/* where the UDP query went */
	bool			 have_dst;
	bool			 local;
	uint64_t		 deadline;
	struct dns_pending	*hnext;
	struct dns_pending	*next, *prev;	/* arrival (= deadline) order */
	struct dns_pending	*cnext, *cprev;	/* on conn */
	struct dns_query_info	 qi;
	uint8_t			 q[DNS_LOCAL_QMAX];	/* header and question */
};

struct dns_tcp {
	struct ev_io		 io;
	int			 fd;
	struct dns_srv		*srv;
	uint8_t			 in[2 + DNS_MSG_QUERY_MAX];
	size_t			 inlen;
	struct buf		 out;
	int			 outstanding;
	bool			 rd_eof;
	bool			 failed;	/* an answer did not fit: close */
	bool			 processing;	/* in dns_tcp_process() */
	bool			 dead;
	uint64_t		 last;		/* progress either way */
	struct dns_pending	*pend;
	struct dns_tcp		*next, *prev;	/* by last activity */
	struct dns_tcp		*gnext;
};

struct dns_local {
	struct dns_local_params	 p;
	struct ev_loop		*loop;
	dns_local_send_fn	*send;
	void			*send_arg;
	struct ev_timer		 timer;
	bool			 started, closing, ares_init;
	struct dns_srv		 srv[DNS_LOCAL_MAX_SERVERS];
	size_t			 nsrv;
	struct dns_pending	*hash[DNS_LOCAL_HASH];
	struct dns_pending	*phead, *ptail;
	size_t			 npending;
	uint32_t		 next_id;
	struct dns_tcp		*chead, *ctail;
	size_t			 ntcp;
	struct dns_tcp		*garbage;
	struct dns_aio		*aio_garbage;
	uint64_t		 accept_resume;	/* 0, or when to listen again */
	uint16_t		 rnd[64];	/* random IDs, refilled */
	size_t			 nrnd;
	uint8_t			 rbuf[DNS_MSG_QUERY_MAX + 1];
	uint8_t			 abuf[DNS_LOCAL_ANSWER_MAX];
	struct {
		uint64_t	 last;
		unsigned long	 skipped;
	}			 rl[DNS_C_MAX];
	struct dns_local_stats	 st;
};

static void	dns_tcp_close(struct dns_tcp *);
static void	dns_tcp_update(struct dns_tcp *);
static void	dns_tcp_after(struct dns_tcp *);

/* One message per cause per DNS_LOCAL_LOG_MS, saying how many were
 * kept quiet in between. */
static void __attribute__((format(printf, 4, 5)))
dns_local_note(struct dns_local *d, enum dns_cause c, enum log_level lvl,
    const char *fmt, ...)
{
	char		 msg[512];
	va_list		 ap;
	uint64_t	 now = ev_now();

	if (!log_enabled(lvl))
		return;
	if (d->rl[c].last != 0 && now - d->rl[c].last < DNS_LOCAL_LOG_MS) {
		d->rl[c].skipped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->rl[c].skipped > 0)
		log_msg(lvl, "dns: %s (%lu more like it not shown)", msg,
		    d->rl[c].skipped);
	else
		log_msg(lvl, "dns: %s", msg);
	d->rl[c].last = now;
	d->rl[c].skipped = 0;
}

static const char *
dns_local_reason(uint8_t reason)
{
	switch (reason) {
	case DNS_LOCAL_FAIL_TIMEOUT:
		return "no DNS server answered in time";
	case DNS_LOCAL_FAIL_UNREACHABLE:
		return "the DNS servers are unreachable";
	case DNS_LOCAL_FAIL_NOSERVERS:
		return "no DNS servers";
	case DNS_LOCAL_FAIL_TOOBIG:
		return "answer too big";
	case DNS_LOCAL_FAIL_BADQUERY:
		return "bad query";
	case DNS_LOCAL_FAIL_BUSY:
		return "too many queries";
	default:
		return "unknown failure";
	}
}

/* ------------------------------------------------------------------ */
/* Listeners */

static int
dns_local_bind(int family, int type, const uint8_t *addr, uint16_t port, int *fdp)
{
	struct addr	a;
	int		one = 1, r;

	addr_set(&a, family == AF_INET ? ADDR_V4 : ADDR_V6, addr, port);
	if ((r = sock_listen(&a, type, 128, fdp)) != 0)
		return r;
	/* Replies must leave from the address the query was sent to, or
	 * conntrack cannot undo the redirect (a wildcard -l address). */
	if (type == SOCK_DGRAM && family == AF_INET)
		(void)setsockopt(*fdp, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (type == SOCK_DGRAM && family == AF_INET6)
		(void)setsockopt(*fdp, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	return 0;
}

/* Bind UDP and TCP on the same free port from *port upwards. */
static int
dns_local_listen(struct dns_srv *s, const uint8_t *addr, uint16_t *port,
    char *err, size_t errlen)
{
	int	 family = addr_af(s->ns.family);
	int	 tries, r;
	char	 a[INET6_ADDRSTRLEN];

	for (tries = 0; tries < DNS_LOCAL_PORT_TRIES && *port != 0; tries++, (*port)++) {
		if ((r = dns_local_bind(family, SOCK_DGRAM, addr, *port, &s->ufd)) == 0) {
			if ((r = dns_local_bind(family, SOCK_STREAM, addr, *port,
			    &s->tfd)) == 0) {
				s->port = (*port)++;
				return 0;
			}
			close(s->ufd);
			s->ufd = -1;
		}
		if (r == -EADDRINUSE)
			continue;
		if (family == AF_INET6 && (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT))
			return 1;	/* no IPv6 here */
		inet_ntop(family, addr, a, sizeof(a));
		snprintf(err, errlen, "cannot listen for DNS on %s%s%s:%u: %s",
		    family == AF_INET6 ? "[" : "", a, family == AF_INET6 ? "]" : "",
		    *port, strerror(-r));
		return -1;
	}
	snprintf(err, errlen, "no free local port for DNS (tried %d from %u)",
	    DNS_LOCAL_PORT_TRIES, (unsigned)(*port - tries));
	return -1;
}

struct dns_local *
dns_local_open(const struct dns_local_params *p, char *err, size_t errlen)
{
	struct dns_local	*d;
	struct dns_srv		*s;
	uint16_t		 port;
	size_t			 i;
	char			 a[80];
	int			 r;

	if (p->nservers == 0 || p->nservers > DNS_LOCAL_MAX_SERVERS) {
		snprintf(err, errlen, "DNS: invalid set-up");
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->p = *p;
	if (d->p.timeout_ms <= 0)
		d->p.timeout_ms = DNS_LOCAL_TIMEOUT_MS;
	if (d->p.tcp_idle_ms <= 0)
		d->p.tcp_idle_ms = DNS_LOCAL_TCP_IDLE_MS;
	d->next_id = 1;
	port = p->first_port != 0 ? p->first_port : 12353;
	for (i = 0; i < p->nservers; i++) {
		s = &d->srv[d->nsrv];
		memset(s, 0, sizeof(*s));
		s->d = d;
		s->ns = p->servers[i];
		s->ufd = s->tfd = -1;
		s->uio.fd = s->tio.fd = -1;
		addr_format(&s->ns, true, a, sizeof(a));
		if ((s->ns.family == ADDR_V6 && !p->want6) || (s->ns.family == ADDR_V4 && !p->want4)) {
			log_warn("DNS to %s is not captured: IPv%u is not redirected", a,
			    s->ns.family);
			continue;
		}
		r = dns_local_listen(s, s->ns.family == ADDR_V4 ? p->bind4 : p->bind6,
		    &port, err, errlen);
		if (r < 0) {
			dns_local_close(d);
			return NULL;
		}
		if (r > 0) {
			log_warn("DNS to %s is not captured: this host has no IPv6 "
			    "loopback", a);
			continue;
		}
		log_debug("dns: %s answered on local port %u", a, s->port);
		d->nsrv++;
	}
	if (d->nsrv == 0) {
		snprintf(err, errlen, "no DNS server can be captured");
		dns_local_close(d);
		return NULL;
	}
	return d;
}

size_t
dns_local_count(const struct dns_local *d)
{
	return d->nsrv;
}

const struct addr *
dns_local_server(const struct dns_local *d, size_t i, uint16_t *port)
{
	if (i >= d->nsrv)
		return NULL;
	*port = d->srv[i].port;
	return &d->srv[i].ns;
}

const struct dns_local_stats *
dns_local_stats(const struct dns_local *d)
{
	return &d->st;
}

/* ------------------------------------------------------------------ */
/* Queries in flight */

static struct dns_pending *
dns_pending_find(struct dns_local *d, uint32_t id)
{
	struct dns_pending	*p;

	for (p = d->hash[id % DNS_LOCAL_HASH]; p != NULL; p = p->hnext)
		if (p->id == id)
			return p;
	return NULL;
}

/* Unlink and free. */
static void
dns_pending_free(struct dns_local *d, struct dns_pending *p)
{
	struct dns_pending	**pp;

	for (pp = &d->hash[p->id % DNS_LOCAL_HASH]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == p) {
			*pp = p->hnext;
			break;
		}
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		d->phead = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		d->ptail = p->prev;
	if (p->conn != NULL) {
		if (p->cprev != NULL)
			p->cprev->cnext = p->cnext;
		else
			p->conn->pend = p->cnext;
		if (p->cnext != NULL)
			p->cnext->cprev = p->cprev;
		p->conn->outstanding--;
	}
	d->npending--;
	free(p);
}

static uint16_t
dns_local_random16(struct dns_local *d)
{
	size_t	i;

	if (d->nrnd == 0) {
		if (getrandom(d->rnd, sizeof(d->rnd), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(d->rnd)) {
			/* No entropy yet (early boot): still vary. */
			for (i = 0; i < sizeof(d->rnd) / sizeof(d->rnd[0]); i++)
				d->rnd[i] = (uint16_t)(ev_now() * 2654435761U + i * 40503U +
				    (uintptr_t)&d->rnd[i]);
		}
		d->nrnd = sizeof(d->rnd) / sizeof(d->rnd[0]);
	}
	return d->rnd[--d->nrnd];
}

/* Send the asker its answer: UDP from the listener it used, with the
 * source it sent to; TCP framed on its connection. */
static void
dns_local_deliver(struct dns_local *d, struct dns_pending *p, const uint8_t *a,
    size_t len)
{
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		char		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr	 align;
	}			 ctl;
	uint8_t			 tbuf[DNS_LOCAL_QMAX], *w;
	int			 n;

	if (p->conn != NULL) {
		struct dns_tcp	*c = p->conn;

		if ((w = buf_reserve(&c->out, len + 2)) == NULL) {
			/* Out of memory: the pipeline bound keeps it from
			 * filling up.  Closed once the query is freed. */
			dns_local_note(d, DNS_C_TCP, LOG_LVL_WARN, "answer dropped: "
			    "no memory for the TCP output");
			c->failed = true;
			return;
		}
		w[0] = (uint8_t)(len >> 8);
		w[1] = (uint8_t)len;
		memcpy(w + 2, a, len);
		buf_commit(&c->out, len + 2);
		return;
	}
	if (len > p->qi.udp_size) {
		/* More than the asker takes over UDP: it retries over TCP,
		 * which we capture too. */
		n = dns_msg_truncate(p->q, &p->qi, a, len, tbuf, sizeof(tbuf));
		if (n < 0)
			return;
		a = tbuf;
		len = (size_t)n;
		d->st.truncated++;
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)a;
	iov.iov_len = len;
	mh.msg_name = &p->peer;
	mh.msg_namelen = p->peerlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (p->have_dst) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		cm = (struct cmsghdr *)ctl.buf;
		if (p->srv->ns.family == ADDR_V4) {
			struct in_pktinfo pi;

			memset(&pi, 0, sizeof(pi));
			pi.ipi_spec_dst = p->dst.v4.ipi_addr;
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			mh.msg_controllen = CMSG_SPACE(sizeof(p->dst.v6));
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(p->dst.v6));
			memcpy(CMSG_DATA(cm), &p->dst.v6, sizeof(p->dst.v6));
		}
	}
	if (sendmsg(p->srv->ufd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		dns_local_note(d, DNS_C_SEND, LOG_LVL_WARN, "cannot send an answer "
		    "to a local program: %s", strerror(errno));
}

/* Answer with SERVFAIL and forget the query. */
static void
dns_local_servfail(struct dns_local *d, struct dns_pending *p)
{
	struct dns_tcp	*c = p->conn;
	uint8_t		 out[DNS_LOCAL_QMAX];
	int		 n;

	d->st.servfail++;
	n = dns_msg_reply(p->q, &p->qi, DNS_MSG_RCODE_SERVFAIL, out, sizeof(out));
	if (n > 0)
		dns_local_deliver(d, p, out, (size_t)n);
	dns_pending_free(d, p);
	if (c != NULL)
		dns_tcp_after(c);
}

/* A checked answer for p (its ID already the asker's). */
static void
dns_local_complete(struct dns_local *d, struct dns_pending *p, const uint8_t *a,
    size_t len)
{
	struct dns_tcp	*c = p->conn;
	char		 name[DNS_MSG_NAME_TEXT_MAX];
	int		 r;

	if ((r = dns_msg_check_answer(p->q, &p->qi, a, len)) != 0) {
		d->st.bad_answers++;
		dns_local_note(d, DNS_C_BADANSWER, LOG_LVL_WARN, "%s: bad answer "
		    "from the %s server (%s)", dns_msg_name_text(&p->qi, name,
		    sizeof(name)), p->local ? "local" : "remote", dns_msg_strerror(r));
		dns_local_servfail(d, p);
		return;
	}
	d->st.answered++;
	dns_local_deliver(d, p, a, len);
	dns_pending_free(d, p);
	if (c != NULL)
		dns_tcp_after(c);
}

static void
dns_local_ares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_token	*tk = arg;
	struct dns_chan		*ch = tk->chan;
	struct dns_local	*d = ch->d;
	struct dns_pending	*p;
	char			 name[DNS_MSG_NAME_TEXT_MAX], a[80];

	ch->used[tk->lid / 8] &= (uint8_t)~(1U << (tk->lid % 8));
	p = d->closing ? NULL : dns_pending_find(d, tk->id);
	free(tk);
	if (p == NULL) {
		if (!d->closing)
			d->st.late++;
		return;
	}
	if (status != ARES_SUCCESS || abuf == NULL || alen < DNS_MSG_HDR_LEN ||
	    alen > DNS_LOCAL_ANSWER_MAX) {
		d->st.local_fail++;
		dns_local_note(d, DNS_C_LOCAL, LOG_LVL_WARN, "%s: %s did not answer "
		    "(%s)", dns_msg_name_text(&p->qi, name, sizeof(name)),
		    addr_format(&ch->srv->ns, true, a, sizeof(a)),
		    status != ARES_SUCCESS ? ares_strerror(status) : "bad answer");
		dns_local_servfail(d, p);
		return;
	}
	memcpy(d->abuf, abuf, (size_t)alen);
	d->abuf[0] = (uint8_t)(p->qi.id >> 8);
	d->abuf[1] = (uint8_t)p->qi.id;
	dns_local_complete(d, p, d->abuf, (size_t)alen);
}

/* Forward q from here to the server the asker chose. */
static void
dns_local_forward(struct dns_local *d, struct dns_pending *p, const uint8_t *q,
    size_t len)
{
	struct dns_chan		*ch = p->srv->chan;
	struct dns_token	*tk;
	uint8_t			 qb[DNS_MSG_QUERY_MAX];
	uint16_t		 lid;
	int			 tries;

	if (ch == NULL || !ch->live || (tk = malloc(sizeof(*tk))) == NULL) {
		d->st.local_fail++;
		dns_local_servfail(d, p);
		return;
	}
	for (tries = 0; tries < 64; tries++) {
		lid = dns_local_random16(d);
		if (!(ch->used[lid / 8] & (1U << (lid % 8))))
			break;
	}
	ch->used[lid / 8] |= (uint8_t)(1U << (lid % 8));
	tk->chan = ch;
	tk->id = p->id;
	tk->lid = lid;
	memcpy(qb, q, len);
	qb[0] = (uint8_t)(lid >> 8);
	qb[1] = (uint8_t)lid;
	d->st.forwarded++;
	/* The callback may run before ares_send() returns (and free p). */
	ares_send(ch->channel, qb, (int)len, dns_local_ares_cb, tk);
}

/* A query arrived: on UDP (conn NULL, peer/dst set) or TCP. */
static void
dns_local_query(struct dns_local *d, struct dns_srv *s, struct dns_tcp *c,
    const struct sockaddr_storage *peer, socklen_t peerlen, const void *dst,
    const uint8_t *q, size_t len)
{
	struct dns_query_info	 qi;
	struct dns_pending	*p;
	char			 name[DNS_MSG_NAME_TEXT_MAX];
	int			 r;

	if ((r = dns_msg_parse_query(q, len, &qi)) != 0) {
		d->st.bad_queries++;
		dns_local_note(d, DNS_C_BADQUERY, LOG_LVL_DEBUG, "query of %zu bytes "
		    "dropped: %s", len, dns_msg_strerror(r));
		return;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL || d->npending >= DNS_LOCAL_MAX_PENDING) {
		uint8_t	 out[DNS_LOCAL_QMAX];
		struct dns_pending tmp;

		free(p);
		/* Answer now, through a pending record that is never listed. */
		d->st.busy++;
		d->st.servfail++;
		dns_local_note(d, DNS_C_BUSY, LOG_LVL_WARN, "%s: %zu queries in "
		    "flight already: SERVFAIL", dns_msg_name_text(&qi, name,
		    sizeof(name)), d->npending);
		memset(&tmp, 0, sizeof(tmp));
		tmp.srv = s;
		tmp.conn = c;
		if (peer != NULL)
			memcpy(&tmp.peer, peer, peerlen);
		tmp.peerlen = peerlen;
		if (dst != NULL) {
			memcpy(&tmp.dst, dst, sizeof(tmp.dst));
			tmp.have_dst = true;
		}
		tmp.qi = qi;
		memcpy(tmp.q, q, qi.qend);
		if ((r = dns_msg_reply(q, &qi, DNS_MSG_RCODE_SERVFAIL, out, sizeof(out))) > 0)
			dns_local_deliver(d, &tmp, out, (size_t)r);
		if (c != NULL)
			dns_tcp_after(c);
		return;
	}
	/* Ids: nonzero, unique among queries in flight. */
	do {
		p->id = d->next_id++;
	} while (p->id == 0 || dns_pending_find(d, p->id) != NULL);
	p->srv = s;
	p->qi = qi;
	memcpy(p->q, q, qi.qend);
	p->deadline = ev_now() + (uint64_t)d->p.timeout_ms;
	if (c != NULL) {
		p->conn = c;
		p->cnext = c->pend;
		if (c->pend != NULL)
			c->pend->cprev = p;
		c->pend = p;
		c->outstanding++;
	} else {
		memcpy(&p->peer, peer, peerlen);
		p->peerlen = peerlen;
		if (dst != NULL) {
			memcpy(&p->dst, dst, sizeof(p->dst));
			p->have_dst = true;
		}
	}
	p->hnext = d->hash[p->id % DNS_LOCAL_HASH];
	d->hash[p->id % DNS_LOCAL_HASH] = p;
	p->prev = d->ptail;
	if (d->ptail != NULL)
		d->ptail->next = p;
	else
		d->phead = p;
	d->ptail = p;
	d->npending++;

	p->local = !dns_msg_name_under(&qi, d->p.domains, d->p.ndomains) ||
	    (d->p.nbypass > 0 && dns_msg_name_under(&qi, d->p.bypass, d->p.nbypass));
	if (log_enabled(LOG_LVL_TRACE))
		log_trace("dns: query %u %s type %u %s", p->id,
		    dns_msg_name_text(&qi, name, sizeof(name)), qi.qtype,
		    p->local ? "forwarded locally" : "through the tunnel");
	if (p->local) {
		dns_local_forward(d, p, q, len);
		return;
	}
	d->st.tunnelled++;
	if (d->send(d->send_arg, p->id, q, len) != 0) {
		d->st.busy++;
		dns_local_note(d, DNS_C_BUSY, LOG_LVL_WARN, "%s: the tunnel is "
		    "congested: SERVFAIL", dns_msg_name_text(&qi, name, sizeof(name)));
		dns_local_servfail(d, p);
	}
}

void
dns_local_answer(struct dns_local *d, uint32_t id, const uint8_t *a, size_t len)
{
	struct dns_pending	*p;

	if (d == NULL || d->closing)
		return;
	if ((p = dns_pending_find(d, id)) == NULL || p->local) {
		d->st.late++;
		return;
	}
	dns_local_complete(d, p, a, len);
}

void
dns_local_fail(struct dns_local *d, uint32_t id, uint8_t reason)
{
	struct dns_pending	*p;
	char			 name[DNS_MSG_NAME_TEXT_MAX];

	if (d == NULL || d->closing)
		return;
	if ((p = dns_pending_find(d, id)) == NULL || p->local) {
		d->st.late++;
		return;
	}
	d->st.remote_fail++;
	dns_local_note(d, DNS_C_REMOTE, LOG_LVL_WARN, "%s: the remote host could "
	    "not resolve it: %s", dns_msg_name_text(&p->qi, name, sizeof(name)),
	    dns_local_reason(reason));
	dns_local_servfail(d, p);
}

/* ------------------------------------------------------------------ */
/* UDP */

static void
dns_local_udp_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct dns_srv		*s = io->arg;
	struct dns_local	*d = s->d;
	struct sockaddr_storage	 peer;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		char		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
		struct cmsghdr	 align;
	}			 ctl;
	union {
		struct in_pktinfo	v4;
		struct in6_pktinfo	v6;
	}			 dst;
	bool			 have;
	ssize_t			 n;
	int			 i;

	for (i = 0; i < DNS_LOCAL_UDP_BATCH; i++) {
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
			dns_local_note(d, DNS_C_BADQUERY, LOG_LVL_DEBUG, "query larger "
			    "than %d bytes dropped", DNS_MSG_QUERY_MAX);
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
		dns_local_query(d, s, NULL, &peer, mh.msg_namelen, have ? &dst : NULL,
		    d->rbuf, (size_t)n);
	}
}

/* ------------------------------------------------------------------ */
/* TCP */

/* Move c to the tail of the activity list. */
static void
dns_tcp_touch(struct dns_tcp *c)
{
	struct dns_local	*d = c->srv->d;

	c->last = ev_now();
	if (d->ctail == c)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->chead = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = d->ctail;
	c->next = NULL;
	if (d->ctail != NULL)
		d->ctail->next = c;
	else
		d->chead = c;
	d->ctail = c;
}

static void
dns_tcp_close(struct dns_tcp *c)
{
	struct dns_local	*d = c->srv->d;

	if (c->dead)
		return;
	c->dead = true;
	/* Its queries are forgotten; late answers find nothing. */
	while (c->pend != NULL)
		dns_pending_free(d, c->pend);
	ev_io_del(d->loop, &c->io);
	close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		d->chead = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		d->ctail = c->prev;
	d->ntcp--;
	c->gnext = d->garbage;
	d->garbage = c;
}

/* Ask for exactly the events c can act on; close it when it is done. */
static void
dns_tcp_update(struct dns_tcp *c)
{
	uint32_t	ev = 0;

	if (c->dead)
		return;
	if (c->failed) {
		dns_tcp_close(c);
		return;
	}
	if (buf_len(&c->out) > 0)
		ev |= EV_WRITE;
	if (!c->rd_eof && c->outstanding < DNS_LOCAL_TCP_PIPELINE &&
	    buf_len(&c->out) < DNS_LOCAL_TCP_OUT_SOFT &&
	    c->inlen < sizeof(c->in))
		ev |= EV_READ;
	if (c->rd_eof && c->outstanding == 0 && buf_len(&c->out) == 0) {
		dns_tcp_close(c);
		return;
	}
	if (ev_io_set(c->srv->d->loop, &c->io, ev) != 0)
		dns_tcp_close(c);
}

/* Take the complete queries out of c->in, as far as the pipeline allows. */
static void
dns_tcp_process(struct dns_tcp *c)
{
	struct dns_local	*d = c->srv->d;
	size_t			 len, off = 0;

	/* A query answered at once (c-ares can call back from inside
	 * ares_send()) comes back here through dns_tcp_after(). */
	if (c->processing)
		return;
	c->processing = true;
	while (!c->dead && c->inlen - off >= 2 &&
	    c->outstanding < DNS_LOCAL_TCP_PIPELINE) {
		len = ((size_t)c->in[off] << 8) | c->in[off + 1];
		if (len < DNS_MSG_HDR_LEN || len > DNS_MSG_QUERY_MAX) {
			/* The framing is lost: nothing after this can be read. */
			d->st.queries_tcp++;
			d->st.bad_queries++;
			dns_local_note(d, DNS_C_BADQUERY, LOG_LVL_DEBUG, "TCP query "
			    "of %zu bytes: connection closed", len);
			c->processing = false;
			dns_tcp_close(c);
			return;
		}
		if (c->inlen - off < 2 + len)
			break;
		d->st.queries_tcp++;
		dns_local_query(d, c->srv, c, NULL, 0, NULL, c->in + off + 2, len);
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

/* A query of c was answered (or failed): take more, adjust events. */
static void
dns_tcp_after(struct dns_tcp *c)
{
	if (c->dead)
		return;
	if (!c->failed)
		dns_tcp_process(c);
	dns_tcp_update(c);
}

static void
dns_tcp_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct dns_tcp	*c = io->arg;
	ssize_t		 n;

	if (c->dead)
		return;
	/* Reset, or shut both ways: nobody can read an answer any more
	 * (and EV_HUP would wake us in a loop whatever the mask). */
	if (revents & (EV_ERROR | EV_HUP)) {
		dns_tcp_close(c);
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
				dns_tcp_close(c);
				return;
			}
			buf_consume(&c->out, (size_t)n);
			dns_tcp_touch(c);
		}
	}
	if ((revents & EV_READ) && (c->io.events & EV_READ)) {
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			dns_tcp_close(c);
			return;
		}
		if (n == 0) {
			/* Half-close: answer what was asked, then close; a
			 * partial query left in c->in never completes. */
			c->rd_eof = true;
		} else {
			c->inlen += (size_t)n;
			dns_tcp_touch(c);
		}
		dns_tcp_process(c);
	}
	dns_tcp_update(c);
}

static void
dns_local_accept_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct dns_srv		*s = io->arg;
	struct dns_local	*d = s->d;
	struct dns_tcp		*c;
	int			 fd, i;

	for (i = 0; i < DNS_LOCAL_ACCEPT_BATCH; i++) {
		if ((fd = accept4(s->tfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				dns_local_note(d, DNS_C_TCP, LOG_LVL_WARN, "cannot accept "
				    "a TCP connection: %s", strerror(errno));
				(void)ev_io_set(loop, io, 0);
				d->accept_resume = ev_now() + DNS_LOCAL_PAUSE_MS;
			}
			return;
		}
		if (d->ntcp >= DNS_LOCAL_MAX_TCP || (c = calloc(1, sizeof(*c))) == NULL) {
			d->st.tcp_refused++;
			dns_local_note(d, DNS_C_TCP, LOG_LVL_WARN, "more than %d TCP "
			    "connections: one refused", DNS_LOCAL_MAX_TCP);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->srv = s;
		buf_init(&c->out, DNS_LOCAL_TCP_OUT_MAX);
		if (ev_io_add(loop, &c->io, fd, EV_READ, dns_tcp_cb, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		d->ntcp++;
		c->prev = d->ctail;
		if (d->ctail != NULL)
			d->ctail->next = c;
		else
			d->chead = c;
		d->ctail = c;
		c->last = ev_now();
	}
}

/* ------------------------------------------------------------------ */
/* c-ares */

static void
dns_aio_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct dns_aio	*a = io->arg;
	struct dns_chan	*ch = a->chan;
	ares_socket_t	 fd = a->fd;

	/* May close this socket (a goes to the garbage, not away). */
	ares_process_fd(ch->channel,
	    (revents & (EV_READ | EV_ERROR | EV_HUP)) ? fd : ARES_SOCKET_BAD,
	    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
}

static void
dns_chan_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_chan		*ch = data;
	struct dns_local	*d = ch->d;
	struct dns_aio		*a, **ap;
	uint32_t		 ev = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	for (ap = &ch->ios; (a = *ap) != NULL; ap = &a->next)
		if (a->fd == fd)
			break;
	if (ev == 0) {
		if (a != NULL) {
			*ap = a->next;
			ev_io_del(d->loop, &a->io);
			a->next = d->aio_garbage;
			d->aio_garbage = a;
		}
		return;
	}
	if (a != NULL) {
		(void)ev_io_set(d->loop, &a->io, ev);
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    ev_io_add(d->loop, &a->io, fd, ev, dns_aio_cb, a) != 0) {
		/* The query on it times out; ours answers SERVFAIL. */
		free(a);
		dns_local_note(d, DNS_C_LOCAL, LOG_LVL_WARN, "cannot watch a "
		    "resolver socket: %s", strerror(errno));
		return;
	}
	a->fd = fd;
	a->chan = ch;
	a->next = ch->ios;
	ch->ios = a;
}

static ares_socket_t
dns_chan_socket(int family, int type, int proto, void *arg)
{
	struct dns_chan		*ch = arg;
	struct dns_local	*d = ch->d;
	int			 fd;

	if (d->p.socket == NULL)
		return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if ((fd = d->p.socket(d->p.socket_arg, family, type)) < 0) {
		if (fd != -1)
			errno = -fd;
		dns_local_note(d, DNS_C_LOCAL, LOG_LVL_WARN, "no socket for local "
		    "forwarding: %s", strerror(errno));
		return ARES_SOCKET_BAD;
	}
	return fd;
}

static int
dns_chan_close(ares_socket_t fd, void *arg)
{
	return close(fd);
}

/* c-ares 1.18 has no scope for link-local servers: put it in here. */
static int
dns_chan_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len,
    void *arg)
{
	struct dns_chan		*ch = arg;
	struct sockaddr_in6	 sin6;

	if (sa->sa_family == AF_INET6 && len >= sizeof(sin6) && ch->srv->ns.scope != 0) {
		memcpy(&sin6, sa, sizeof(sin6));
		if (sin6.sin6_scope_id == 0)
			sin6.sin6_scope_id = ch->srv->ns.scope;
		return connect(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	return connect(fd, sa, len);
}

static ares_ssize_t
dns_chan_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
    struct sockaddr *from, ares_socklen_t *fromlen, void *arg)
{
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

static ares_ssize_t
dns_chan_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *arg)
{
	struct msghdr	mh;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)iov;
	mh.msg_iovlen = (size_t)n;
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

static const struct ares_socket_functions dns_chan_funcs = {
	.asocket = dns_chan_socket,
	.aclose = dns_chan_close,
	.aconnect = dns_chan_connect,
	.arecvfrom = dns_chan_recvfrom,
	.asendv = dns_chan_sendv,
};

static int
dns_chan_open(struct dns_local *d, struct dns_srv *s, char *err, size_t errlen)
{
	struct ares_options		 o;
	struct ares_addr_port_node	 node;
	struct dns_chan			*ch;
	int				 r, mask;

	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ch->d = d;
	ch->srv = s;
	s->chan = ch;
	memset(&o, 0, sizeof(o));
	/* Every answer is passed on as it is, SERVFAIL and REFUSED too. */
	o.flags = ARES_FLAG_NOCHECKRESP;
	o.timeout = DNS_LOCAL_ARES_TIMEOUT_MS;
	o.tries = DNS_LOCAL_ARES_TRIES;
	o.sock_state_cb = dns_chan_sock_state;
	o.sock_state_cb_data = ch;
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SOCK_STATE_CB;
#ifdef ARES_OPT_QUERY_CACHE
	/* A forwarder must not answer from a cache of its own. */
	o.qcache_max_ttl = 0;
	mask |= ARES_OPT_QUERY_CACHE;
#endif
	if ((r = ares_init_options(&ch->channel, &o, mask)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		return -1;
	}
	ch->live = true;
	memset(&node, 0, sizeof(node));
	node.family = addr_af(s->ns.family);
	if (s->ns.family == ADDR_V4)
		memcpy(&node.addr.addr4, s->ns.bytes, 4);
	else
		memcpy(&node.addr.addr6, s->ns.bytes, 16);
	node.udp_port = node.tcp_port = s->ns.port;
	if ((r = ares_set_servers_ports(ch->channel, &node)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		return -1;
	}
	ares_set_socket_functions(ch->channel, &dns_chan_funcs, ch);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Timer, start, close */

static void
dns_local_timer_cb(struct ev_loop *loop, struct ev_timer *tm)
{
	struct dns_local	*d = tm->arg;
	struct dns_tcp		*c, *cn;
	char			 name[DNS_MSG_NAME_TEXT_MAX];
	uint64_t		 now = ev_now();
	size_t			 i;

	for (i = 0; i < d->nsrv; i++)
		if (d->srv[i].chan != NULL && d->srv[i].chan->live)
			ares_process_fd(d->srv[i].chan->channel, ARES_SOCKET_BAD,
			    ARES_SOCKET_BAD);
	while (d->phead != NULL && d->phead->deadline <= now) {
		d->st.timeouts++;
		dns_local_note(d, DNS_C_TIMEOUT, LOG_LVL_WARN, "%s: no answer in %d "
		    "ms: SERVFAIL", dns_msg_name_text(&d->phead->qi, name,
		    sizeof(name)), d->p.timeout_ms);
		dns_local_servfail(d, d->phead);
	}
	for (c = d->chead; c != NULL; c = cn) {
		cn = c->next;
		if (c->last + (uint64_t)d->p.tcp_idle_ms > now)
			break;
		if (c->outstanding == 0)
			dns_tcp_close(c);
	}
	if (d->accept_resume != 0 && d->accept_resume <= now) {
		d->accept_resume = 0;
		for (i = 0; i < d->nsrv; i++)
			(void)ev_io_set(loop, &d->srv[i].tio, EV_READ);
	}
}

/* Free what closed during this pass of the loop. */
static void
dns_local_gc(struct dns_local *d)
{
	struct dns_tcp		*c;
	struct dns_aio		*a;

	while ((c = d->garbage) != NULL) {
		d->garbage = c->gnext;
		free(c);
	}
	while ((a = d->aio_garbage) != NULL) {
		d->aio_garbage = a->next;
		free(a);
	}
}

void
dns_local_tick(struct dns_local *d)
{
	struct dns_tcp		*c;
	struct timeval		 tv, *tvp;
	uint64_t		 now, when = 0, t;
	size_t			 i;

	if (d == NULL || !d->started)
		return;
	dns_local_gc(d);
	now = ev_now();
#define EARLIER(x) do { t = (x); if (when == 0 || t < when) when = t; } while (0)
	if (d->phead != NULL)
		EARLIER(d->phead->deadline);
	for (c = d->chead; c != NULL; c = c->next)
		if (c->outstanding == 0) {
			EARLIER(c->last + (uint64_t)d->p.tcp_idle_ms);
			break;
		}
	if (d->accept_resume != 0)
		EARLIER(d->accept_resume);
	for (i = 0; i < d->nsrv; i++) {
		if (d->srv[i].chan == NULL || !d->srv[i].chan->live)
			continue;
		if ((tvp = ares_timeout(d->srv[i].chan->channel, NULL, &tv)) != NULL)
			EARLIER(now + (uint64_t)tvp->tv_sec * 1000 +
			    (uint64_t)(tvp->tv_usec + 999) / 1000);
	}
#undef EARLIER
	d->timer.when = when;
	if (when != 0)
		(void)ev_timer_add(d->loop, &d->timer);
}

int
dns_local_start(struct dns_local *d, struct ev_loop *loop, dns_local_send_fn *send,
    void *send_arg, char *err, size_t errlen)
{
	struct dns_srv	*s;
	size_t		 i;

	d->loop = loop;
	d->send = send;
	d->send_arg = send_arg;
	d->timer.cb = dns_local_timer_cb;
	d->timer.arg = d;
	if (d->p.ndomains > 0 || d->p.nbypass > 0) {
		if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
			snprintf(err, errlen, "c-ares cannot start");
			return -1;
		}
		d->ares_init = true;
		for (i = 0; i < d->nsrv; i++)
			if (dns_chan_open(d, &d->srv[i], err, errlen) != 0)
				return -1;
	}
	for (i = 0; i < d->nsrv; i++) {
		s = &d->srv[i];
		if (ev_io_add(loop, &s->uio, s->ufd, EV_READ, dns_local_udp_cb, s) != 0 ||
		    ev_io_add(loop, &s->tio, s->tfd, EV_READ, dns_local_accept_cb, s) != 0) {
			snprintf(err, errlen, "cannot watch the DNS listeners: %s",
			    strerror(errno));
			return -1;
		}
	}
	if (ev_timer_add(loop, &d->timer) != 0) {
		snprintf(err, errlen, "cannot add the DNS timer");
		return -1;
	}
	d->started = true;
	return 0;
}

void
dns_local_stop(struct dns_local *d)
{
	struct dns_srv	*s;
	struct dns_aio	*a;
	size_t		 i;

	if (d == NULL || d->loop == NULL)
		return;
	d->closing = true;
	while (d->chead != NULL)
		dns_tcp_close(d->chead);
	for (i = 0; i < d->nsrv; i++) {
		s = &d->srv[i];
		if (s->chan != NULL) {
			/* Completes every query with ARES_EDESTRUCTION (the
			 * tokens are freed) and reports its sockets gone. */
			if (s->chan->live)
				ares_destroy(s->chan->channel);
			while ((a = s->chan->ios) != NULL) {
				s->chan->ios = a->next;
				ev_io_del(d->loop, &a->io);
				free(a);
			}
			free(s->chan);
			s->chan = NULL;
		}
		ev_io_del(d->loop, &s->uio);
		ev_io_del(d->loop, &s->tio);
	}
	if (d->ares_init)
		ares_library_cleanup();
	d->ares_init = false;
	while (d->phead != NULL)
		dns_pending_free(d, d->phead);
	ev_timer_del(d->loop, &d->timer);
	/* Nothing of ours is in the loop any more. */
	dns_local_gc(d);
	d->started = false;
	d->loop = NULL;
}

void
dns_local_close(struct dns_local *d)
{
	size_t	i;

	if (d == NULL)
		return;
	dns_local_stop(d);
	for (i = 0; i < DNS_LOCAL_MAX_SERVERS; i++) {
		if (d->srv[i].d == NULL)
			continue;
		if (d->srv[i].ufd >= 0)
			close(d->srv[i].ufd);
		if (d->srv[i].tfd >= 0)
			close(d->srv[i].tfd);
	}
	if (log_enabled(LOG_LVL_DEBUG) && d->st.queries_udp + d->st.queries_tcp > 0)
		log_debug("dns: %llu queries (%llu UDP, %llu TCP): %llu tunnelled, "
		    "%llu forwarded here, %llu answered, %llu truncated for UDP, "
		    "%llu SERVFAIL (%llu timed out, %llu remote failures, %llu local "
		    "failures, %llu busy, %llu bad answers), %llu bad queries dropped, "
		    "%llu late answers",
		    (unsigned long long)(d->st.queries_udp + d->st.queries_tcp),
		    (unsigned long long)d->st.queries_udp,
		    (unsigned long long)d->st.queries_tcp,
		    (unsigned long long)d->st.tunnelled,
		    (unsigned long long)d->st.forwarded,
		    (unsigned long long)d->st.answered,
		    (unsigned long long)d->st.truncated,
		    (unsigned long long)d->st.servfail,
		    (unsigned long long)d->st.timeouts,
		    (unsigned long long)d->st.remote_fail,
		    (unsigned long long)d->st.local_fail,
		    (unsigned long long)d->st.busy,
		    (unsigned long long)d->st.bad_answers,
		    (unsigned long long)d->st.bad_queries,
		    (unsigned long long)d->st.late);
	free(d);
}
