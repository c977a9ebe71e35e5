/* SPDX-License-Identifier: ISC */
/*
 * dns_fwd.c - split DNS: a name outside --dns-domains (or the SSH
 * server's own) is asked from here, of the server the application chose,
 * on sockets the redirect rules leave alone (see dns_local_int.h).
 *
 * One c-ares channel per captured server, with that server alone, so the
 * query goes exactly where it was sent.  ares_send() takes the raw query;
 * we put our own random ID in it (unique in that channel: two programs
 * may well use the same ID at once) and put the asker's ID back into the
 * answer, which also covers c-ares releases that re-encode queries with
 * IDs of their own.  c-ares is driven from the event loop through its
 * socket-state callback and ares_process_fd(), and its timeouts through
 * ares_timeout() in dns_local_tick().  The c-ares behaviour this relies
 * on is described in docs/ARCHITECTURE.md (DNS).
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "dns_local_int.h"

#define DNS_FWD_TIMEOUT_MS	2000	/* first try; c-ares doubles the next */
#define DNS_FWD_TRIES		2	/* about 6 s, inside our 10 s */

/* A socket c-ares has open, watched in the loop. */
struct dns_fwd_sock {
	struct ev_io		 io;
	int			 fd;
	struct dns_fwd		*fwd;
	struct sockaddr_storage	 local;		/* its address, once connected */
	socklen_t		 locallen;	/* 0: unknown */
	bool			 looped;	/* seen at our listener: give it up */
	bool			 kicked;	/* and c-ares was told */
	LIST_ENTRY(dns_fwd_sock) link;		/* fwd->socks */
	SLIST_ENTRY(dns_fwd_sock) dlink;	/* then d->dead_socks */
};

/* Forwarding to one captured server. */
struct dns_fwd {
	struct dns_local	*d;
	struct dns_local_srv	*srv;
	ares_channel		 channel;
	bool			 live;		/* ares_init_options() succeeded */
	LIST_HEAD(, dns_fwd_sock) socks;
	uint8_t			 used[65536 / 8];	/* our IDs in flight */
	bool			 looped;	/* a socket of socks is */
};

/* What a c-ares callback needs, whether or not the query still waits. */
struct dns_fwd_token {
	struct dns_fwd		*fwd;
	uint32_t		 id;
	uint16_t		 lid;		/* the ID c-ares sent */
};

static uint16_t
dns_fwd_random16(struct dns_local *d)
{
	size_t	i;

	if (d->nrnd == 0) {
		if (getrandom(d->rnd, sizeof(d->rnd), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(d->rnd)) {
			/* No entropy yet (early boot): still vary. */
			for (i = 0; i < sizeof(d->rnd) / sizeof(d->rnd[0]); i++)
				d->rnd[i] = (uint16_t)(clock_ms() * 2654435761U +
				    i * 40503U + (uintptr_t)&d->rnd[i]);
		}
		d->nrnd = sizeof(d->rnd) / sizeof(d->rnd[0]);
	}
	return d->rnd[--d->nrnd];
}

/* ------------------------------------------------------------------ */
/* Queries */

static void
dns_fwd_answer_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_fwd_token	*tk = arg;
	struct dns_fwd		*fwd = tk->fwd;
	struct dns_local	*d = fwd->d;
	struct dns_query	*q;
	char			 name[DNS_MSG_NAME_TEXT_MAX], a[ADDR_STRLEN];

	fwd->used[tk->lid / 8] &= (uint8_t)~(1U << (tk->lid % 8));
	q = d->closing ? NULL : dns_query_find(d, tk->id);
	free(tk);
	if (q == NULL) {
		if (!d->closing)
			d->st.late++;
		return;
	}
	if (status != ARES_SUCCESS || abuf == NULL || alen < DNS_MSG_HDR_LEN ||
	    alen > DNS_LOCAL_ANSWER_MAX) {
		d->st.local_fail++;
		dns_local_note(d, DNS_LOCAL_C_LOCAL, LOG_LVL_WARN, "%s: %s did not "
		    "answer (%s)", dns_msg_name_text(&q->qi, name, sizeof(name)),
		    addr_format(&fwd->srv->ns, true, a, sizeof(a)),
		    status != ARES_SUCCESS ? ares_strerror(status) : "bad answer");
		dns_query_servfail(d, q);
		return;
	}
	memcpy(d->abuf, abuf, (size_t)alen);
	buf_set_u16(d->abuf, q->qi.id);
	dns_query_complete(d, q, d->abuf, (size_t)alen);
}

void
dns_fwd_query(struct dns_local *d, struct dns_query *q, const uint8_t *msg, size_t len)
{
	struct dns_fwd		*fwd = q->srv->fwd;
	struct dns_fwd_token	*tk;
	uint8_t			 qb[DNS_MSG_QUERY_MAX];
	uint16_t		 lid;
	int			 tries;

	if (fwd == NULL || !fwd->live || (tk = malloc(sizeof(*tk))) == NULL) {
		d->st.local_fail++;
		dns_query_servfail(d, q);
		return;
	}
	for (tries = 0; tries < 64; tries++) {
		lid = dns_fwd_random16(d);
		if (!(fwd->used[lid / 8] & (1U << (lid % 8))))
			break;
	}
	fwd->used[lid / 8] |= (uint8_t)(1U << (lid % 8));
	tk->fwd = fwd;
	tk->id = q->id;
	tk->lid = lid;
	memcpy(qb, msg, len);
	buf_set_u16(qb, lid);
	d->st.forwarded++;
	/* The callback may run before ares_send() returns (and free q). */
	ares_send(fwd->channel, qb, (int)len, dns_fwd_answer_cb, tk);
}

/* ------------------------------------------------------------------ */
/* c-ares sockets */

static void
dns_fwd_sock_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct dns_fwd_sock	*fs = io->arg;
	ares_socket_t		 fd = fs->fd;

	/* May close this socket (fs goes to d->dead_socks, not away). */
	ares_process_fd(fs->fwd->channel,
	    (revents & (EV_READ | EV_ERROR | EV_HUP)) ? fd : ARES_SOCKET_BAD,
	    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
}

static void
dns_fwd_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_fwd		*fwd = data;
	struct dns_local	*d = fwd->d;
	struct dns_fwd_sock	*fs;
	uint32_t		 ev = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);

	LIST_FOREACH(fs, &fwd->socks, link)
		if (fs->fd == fd)
			break;
	if (ev == 0) {
		if (fs != NULL) {
			LIST_REMOVE(fs, link);
			ev_io_del(d->loop, &fs->io);
			SLIST_INSERT_HEAD(&d->dead_socks, fs, dlink);
		}
		return;
	}
	if (fs != NULL) {
		(void)ev_io_set(d->loop, &fs->io, ev);
		return;
	}
	if ((fs = calloc(1, sizeof(*fs))) == NULL ||
	    ev_io_add(d->loop, &fs->io, fd, ev, dns_fwd_sock_cb, fs) != 0) {
		/* The query on it times out; ours answers SERVFAIL. */
		free(fs);
		dns_local_note(d, DNS_LOCAL_C_LOCAL, LOG_LVL_WARN, "cannot watch a "
		    "resolver socket: %s", strerror(errno));
		return;
	}
	fs->fd = fd;
	fs->fwd = fwd;
	/* Connected by now (c-ares connects before it watches), so the
	 * kernel has chosen the port dns_fwd_own() compares. */
	fs->locallen = sizeof(fs->local);
	if (getsockname(fd, (struct sockaddr *)&fs->local, &fs->locallen) != 0)
		fs->locallen = 0;
	LIST_INSERT_HEAD(&fwd->socks, fs, link);
}

/* Whether port (network order) recently carried a forward back to us. */
static bool
dns_fwd_avoided(struct dns_local *d, uint16_t port)
{
	uint64_t	now = clock_ms();
	size_t		i;

	for (i = 0; i < DNS_FWD_AVOID; i++)
		if (d->avoid[i].port == port && d->avoid[i].until > now)
			return true;
	return false;
}

static void
dns_fwd_avoid(struct dns_local *d, uint16_t port)
{
	size_t	i, old = 0;

	for (i = 0; i < DNS_FWD_AVOID; i++) {
		if (d->avoid[i].port == port || d->avoid[i].port == 0) {
			old = i;
			break;
		}
		if (d->avoid[i].until < d->avoid[old].until)
			old = i;
	}
	d->avoid[old].port = port;
	d->avoid[old].until = clock_ms() + DNS_FWD_AVOID_MS;
}

/*
 * A UDP socket bound to a port no forward has come back from lately
 * (dns_fwd_own()): that port's old flow would take it back to us again.
 */
static int
dns_fwd_bind(struct dns_local *d, int fd, int family)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	uint16_t		 port;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	port = family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port;
	return dns_fwd_avoided(d, port) ? 1 : 0;
}

static int
dns_fwd_socket1(struct dns_local *d, int family, int type, int proto)
{
	if (d->p.socket == NULL)
		return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	return d->p.socket(d->p.socket_arg, family, type);
}

static ares_socket_t
dns_fwd_socket(int family, int type, int proto, void *arg)
{
	struct dns_fwd		*fwd = arg;
	struct dns_local	*d = fwd->d;
	int			 fd, r, tries;

	for (tries = 0; tries < 8; tries++) {
		if ((fd = dns_fwd_socket1(d, family, type, proto)) < 0) {
			if (fd != -1)
				errno = -fd;
			dns_local_note(d, DNS_LOCAL_C_LOCAL, LOG_LVL_WARN, "no socket "
			    "for local forwarding: %s", strerror(errno));
			return ARES_SOCKET_BAD;
		}
		if (type != SOCK_DGRAM || (family != AF_INET && family != AF_INET6) ||
		    (r = dns_fwd_bind(d, fd, family)) == 0)
			return fd;
		close(fd);
		if (r < 0) {
			dns_local_note(d, DNS_LOCAL_C_LOCAL, LOG_LVL_WARN, "no port "
			    "for local forwarding: %s", strerror(errno));
			return ARES_SOCKET_BAD;
		}
	}
	dns_local_note(d, DNS_LOCAL_C_LOCAL, LOG_LVL_WARN, "no port for local "
	    "forwarding that would not come back here");
	return ARES_SOCKET_BAD;
}

static int
dns_fwd_close(ares_socket_t fd, void *arg)
{
	return close(fd);
}

/* c-ares 1.18 has no scope for link-local servers: put it in here. */
static int
dns_fwd_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len,
    void *arg)
{
	struct dns_fwd		*fwd = arg;
	struct sockaddr_in6	 sin6;

	if (sa->sa_family == AF_INET6 && len >= sizeof(sin6) && fwd->srv->ns.scope != 0) {
		memcpy(&sin6, sa, sizeof(sin6));
		if (sin6.sin6_scope_id == 0)
			sin6.sin6_scope_id = fwd->srv->ns.scope;
		return connect(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	}
	return connect(fd, sa, len);
}

static ares_ssize_t
dns_fwd_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
    struct sockaddr *from, ares_socklen_t *fromlen, void *arg)
{
	struct dns_fwd		*fwd = arg;
	struct dns_fwd_sock	*fs;

	/* An error other than EAGAIN makes c-ares close the server's
	 * sockets and send its queries again from a new one. */
	LIST_FOREACH(fs, &fwd->socks, link)
		if (fs->fd == fd && fs->looped) {
			errno = ECONNREFUSED;
			return -1;
		}
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

static ares_ssize_t
dns_fwd_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *arg)
{
	struct msghdr	mh;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = (struct iovec *)iov;
	mh.msg_iovlen = (size_t)n;
	return sendmsg(fd, &mh, MSG_NOSIGNAL);
}

static const struct ares_socket_functions dns_fwd_funcs = {
	.asocket = dns_fwd_socket,
	.aclose = dns_fwd_close,
	.aconnect = dns_fwd_connect,
	.arecvfrom = dns_fwd_recvfrom,
	.asendv = dns_fwd_sendv,
};

/* ------------------------------------------------------------------ */
/* Channels */

static int
dns_fwd_open(struct dns_local *d, struct dns_local_srv *s, char *err, size_t errlen)
{
	struct ares_options		 o;
	struct ares_addr_port_node	 node;
	struct dns_fwd			*fwd;
	int				 r, mask;

	if ((fwd = calloc(1, sizeof(*fwd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fwd->d = d;
	fwd->srv = s;
	LIST_INIT(&fwd->socks);
	s->fwd = fwd;
	memset(&o, 0, sizeof(o));
	/* Every answer is passed on as it is, SERVFAIL and REFUSED too. */
	o.flags = ARES_FLAG_NOCHECKRESP;
	o.timeout = DNS_FWD_TIMEOUT_MS;
	o.tries = DNS_FWD_TRIES;
	o.sock_state_cb = dns_fwd_sock_state;
	o.sock_state_cb_data = fwd;
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SOCK_STATE_CB;
#ifdef ARES_OPT_QUERY_CACHE
	/* A forwarder must not answer from a cache of its own. */
	o.qcache_max_ttl = 0;
	mask |= ARES_OPT_QUERY_CACHE;
#endif
	if ((r = ares_init_options(&fwd->channel, &o, mask)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		return -1;
	}
	fwd->live = true;
	memset(&node, 0, sizeof(node));
	node.family = addr_af(s->ns.family);
	if (s->ns.family == ADDR_V4)
		memcpy(&node.addr.addr4, s->ns.bytes, 4);
	else
		memcpy(&node.addr.addr6, s->ns.bytes, 16);
	node.udp_port = node.tcp_port = s->ns.port;
	if ((r = ares_set_servers_ports(fwd->channel, &node)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(r));
		return -1;
	}
	ares_set_socket_functions(fwd->channel, &dns_fwd_funcs, fwd);
	return 0;
}

int
dns_fwd_start(struct dns_local *d, char *err, size_t errlen)
{
	size_t	i;

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares cannot start");
		return -1;
	}
	d->ares_init = true;
	for (i = 0; i < d->nsrv; i++)
		if (dns_fwd_open(d, &d->srv[i], err, errlen) != 0)
			return -1;
	return 0;
}

void
dns_fwd_stop(struct dns_local *d)
{
	struct dns_fwd		*fwd;
	struct dns_fwd_sock	*fs;
	size_t			 i;

	for (i = 0; i < d->nsrv; i++) {
		if ((fwd = d->srv[i].fwd) == NULL)
			continue;
		/* Completes every query with ARES_EDESTRUCTION (the tokens
		 * are freed) and reports its sockets gone. */
		if (fwd->live)
			ares_destroy(fwd->channel);
		while ((fs = LIST_FIRST(&fwd->socks)) != NULL) {
			LIST_REMOVE(fs, link);
			ev_io_del(d->loop, &fs->io);
			free(fs);
		}
		free(fwd);
		d->srv[i].fwd = NULL;
	}
	if (d->ares_init)
		ares_library_cleanup();
	d->ares_init = false;
}

/* Make c-ares read a looped socket, fail, and give it up. */
static void
dns_fwd_kick(struct dns_fwd *fwd)
{
	struct dns_fwd_sock	*fs;

	fwd->looped = false;
	for (;;) {
		LIST_FOREACH(fs, &fwd->socks, link)
			if (fs->looped && !fs->kicked)
				break;
		if (fs == NULL)
			return;
		/* The pass may close fs (then it waits in d->dead_socks). */
		fs->kicked = true;
		ares_process_fd(fwd->channel, fs->fd, ARES_SOCKET_BAD);
	}
}

void
dns_fwd_expire(struct dns_local *d)
{
	size_t	i;

	for (i = 0; i < d->nsrv; i++) {
		if (d->srv[i].fwd == NULL || !d->srv[i].fwd->live)
			continue;
		if (d->srv[i].fwd->looped)
			dns_fwd_kick(d->srv[i].fwd);
		ares_process_fd(d->srv[i].fwd->channel, ARES_SOCKET_BAD,
		    ARES_SOCKET_BAD);
	}
}

/*
 * A UDP flow is NATed as its first packet was: when an application's
 * redirected query left a conntrack entry with the very addresses and
 * ports one of our sockets now uses (its port freed and chosen again),
 * our marked packets follow that entry back to our own listener instead
 * of reaching the server, and each pass would send the query round again.
 * Seen here, the socket is dropped; its successor gets another port.
 */
bool
dns_fwd_own(struct dns_local *d, const struct sockaddr_storage *peer, socklen_t peerlen)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;
	struct dns_fwd_sock		*fs;
	struct dns_fwd			*fwd;
	size_t				 i;

	for (i = 0; i < d->nsrv; i++) {
		if ((fwd = d->srv[i].fwd) == NULL)
			continue;
		LIST_FOREACH(fs, &fwd->socks, link) {
			if (fs->locallen == 0 || fs->local.ss_family != peer->ss_family)
				continue;
			if (peer->ss_family == AF_INET &&
			    peerlen >= (socklen_t)sizeof(*a4)) {
				a4 = (const struct sockaddr_in *)&fs->local;
				b4 = (const struct sockaddr_in *)peer;
				if (a4->sin_port != b4->sin_port ||
				    a4->sin_addr.s_addr != b4->sin_addr.s_addr)
					continue;
			} else if (peer->ss_family == AF_INET6 &&
			    peerlen >= (socklen_t)sizeof(*a6)) {
				a6 = (const struct sockaddr_in6 *)&fs->local;
				b6 = (const struct sockaddr_in6 *)peer;
				if (a6->sin6_port != b6->sin6_port ||
				    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) != 0)
					continue;
			} else
				continue;
			fs->looped = true;
			fwd->looped = true;
			dns_fwd_avoid(d, peer->ss_family == AF_INET ?
			    ((const struct sockaddr_in *)peer)->sin_port :
			    ((const struct sockaddr_in6 *)peer)->sin6_port);
			return true;
		}
	}
	return false;
}

uint64_t
dns_fwd_next(const struct dns_local *d, uint64_t now)
{
	struct timeval	 tv, *tvp;
	uint64_t	 when = 0, t;
	size_t		 i;

	for (i = 0; i < d->nsrv; i++) {
		if (d->srv[i].fwd == NULL || !d->srv[i].fwd->live)
			continue;
		if (d->srv[i].fwd->looped)
			return now;
		if ((tvp = ares_timeout(d->srv[i].fwd->channel, NULL, &tv)) == NULL)
			continue;
		t = now + (uint64_t)tvp->tv_sec * 1000 + (uint64_t)(tvp->tv_usec + 999) / 1000;
		if (when == 0 || t < when)
			when = t;
	}
	return when;
}

void
dns_fwd_gc(struct dns_local *d)
{
	struct dns_fwd_sock	*fs;

	while ((fs = SLIST_FIRST(&d->dead_socks)) != NULL) {
		SLIST_REMOVE_HEAD(&d->dead_socks, dlink);
		free(fs);
	}
}
