/* SPDX-License-Identifier: ISC */
/*
 * stub_dns.c - the stub's DNS forwarder (see stub_dns.h and section 5 of
 * docs/PROTOCOL.md).
 *
 * A query is a chain of attempts: attempt i sends the query over UDP to
 * server i mod N from a fresh connect()ed socket (so the kernel picks a
 * random source port and drops datagrams from anyone but that server),
 * and waits STUB_DNS_UDP_MS.  A truncated answer moves the same attempt
 * to TCP.  A timeout, an error (ICMP port unreachable arrives as
 * ECONNREFUSED) or a failed TCP exchange starts the next attempt; after
 * STUB_DNS_ROUNDS passes over the list the query fails.  Every attempt
 * closes the socket of the one before, and a finished query closes its
 * own: the stub may run for weeks.
 *
 * Queries are freed in stub_dns_collect(), after the event pass, never
 * inside their own callback.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "resolv.h"
#include "stub_dns.h"

#define STUB_DNS_Q_UDP		0	/* datagram sent, waiting for the answer */
#define STUB_DNS_Q_CONNECT	1	/* TCP fallback: connecting */
#define STUB_DNS_Q_SEND		2	/* TCP: writing length + query */
#define STUB_DNS_Q_RECV		3	/* TCP: reading length + answer */

/* Datagrams a UDP callback looks at before it yields to other work. */
#define STUB_DNS_RX_BATCH	64

struct stub_dns_query {
	struct stub_dns		*dns;
	struct ev_io		 io;
	uint32_t		 id;
	int			 state;		/* STUB_DNS_Q_* */
	unsigned		 attempt;	/* attempts started */
	unsigned		 srv;		/* server of the current attempt */
	int			 timed_out;	/* some attempt ran out of time */
	uint64_t		 deadline;
	size_t			 off;		/* TCP: bytes sent, then received */
	size_t			 ans_len;	/* TCP: the announced answer length */
	uint8_t			*ans;		/* TCP: the answer */
	uint8_t			 tcp_len[2];
	LIST_ENTRY(stub_dns_query) entry;	/* on dns->all */
	SLIST_ENTRY(stub_dns_query) gc;		/* then on dns->garbage */
	uint16_t		 len;		/* query bytes */
	uint8_t			 msg[];		/* 2-byte length (for TCP), then the query */
};

/* Datagrams and resolv.conf are read here; used within one call only. */
static uint8_t	stub_dns_rx[65536];

static void	stub_dns_udp_cb(struct ev_loop *, struct ev_io *, uint32_t);
static void	stub_dns_tcp_cb(struct ev_loop *, struct ev_io *, uint32_t);

/* ---- helpers ---- */

/*
 * At most one line per cause and server (srv: an index into servers[], or
 * -1 for none) every STUB_DNS_LOG_MS: a dead server under steady traffic
 * must not flood the client's terminal.
 */
#define stub_dns_log(d, cause, srv, ...)					\
	log_limited(&(d)->log[(cause)][(srv) + 1], STUB_DNS_LOG_MS, LOG_LVL_INFO, \
	    "dns: " __VA_ARGS__)

static int
stub_dns_sock_real(int type, const struct addr *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 slen;
	int			 fd, err;

	slen = addr_to_sockaddr(s, &ss);
	if ((fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, slen) == -1 && errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

static void
stub_dns_arm(struct stub_dns *d, uint64_t when)
{
	if (d->timer.when == 0 || when < d->timer.when)
		d->timer.when = when;
}

static void
stub_dns_timer_cb(struct ev_loop *loop, struct ev_timer *t)
{
	stub_dns_expire(t->arg, clock_ms());
}

/* ---- replies ---- */

static void
stub_dns_fail(struct stub_dns *d, uint32_t id, uint8_t reason)
{
	d->failures++;
	if (mux_send_dns(d->mux, PROTO_DNS_FAIL, id, &reason, 1) != 0)
		stub_dns_log(d, STUB_DNS_LOG_BUSY, -1,
		    "link queue full: failure of query %u not sent", id);
}

/* An answer the link cannot take becomes DNS_FAIL busy. */
static void
stub_dns_answer(struct stub_dns *d, uint32_t id, const uint8_t *ans, size_t len)
{
	if (mux_send_dns(d->mux, PROTO_DNS_ANSWER, id, ans, len) == 0) {
		d->answers++;
		return;
	}
	stub_dns_log(d, STUB_DNS_LOG_BUSY, -1, "link queue full: answer to query %u dropped", id);
	stub_dns_fail(d, id, PROTO_DNS_FAIL_BUSY);
}

/* ---- query lifetime ---- */

/* Close the current attempt's socket, if any. */
static void
stub_dns_close(struct stub_dns_query *q)
{
	int	fd = q->io.fd;

	if (fd >= 0) {
		ev_io_del(q->dns->loop, &q->io);
		close(fd);
	}
	free(q->ans);
	q->ans = NULL;
}

/* The query has been answered or failed: forget it. */
static void
stub_dns_finish(struct stub_dns_query *q)
{
	struct stub_dns	*d = q->dns;

	stub_dns_close(q);
	LIST_REMOVE(q, entry);
	d->nq--;
	SLIST_INSERT_HEAD(&d->garbage, q, gc);
}

/* Start the next attempt (UDP, next server in turn) or give up. */
static void
stub_dns_next(struct stub_dns_query *q)
{
	struct stub_dns		*d = q->dns;
	const struct addr	*s;
	char			 name[ADDR_STRLEN];
	ssize_t			 n;
	int			 fd, err;

	stub_dns_close(q);
	while (q->attempt < STUB_DNS_ROUNDS * d->nservers) {
		q->srv = q->attempt++ % d->nservers;
		s = &d->servers[q->srv];
		if ((fd = d->sock(SOCK_DGRAM, s)) < 0)
			err = -fd;
		else if ((n = send(fd, q->msg + 2, q->len, 0)) != (ssize_t)q->len) {
			err = n < 0 ? errno : EMSGSIZE;
			close(fd);
		} else if ((err = -ev_io_add(d->loop, &q->io, fd, EV_READ,
		    stub_dns_udp_cb, q)) != 0)
			close(fd);
		else {
			q->state = STUB_DNS_Q_UDP;
			q->deadline = clock_ms() + STUB_DNS_UDP_MS;
			stub_dns_arm(d, q->deadline);
			return;
		}
		stub_dns_log(d, STUB_DNS_LOG_UNREACH, (int)q->srv, "%s unreachable (%s)",
		    addr_format(s, true, name, sizeof(name)), strerror(err));
	}
	/* Timeouts say more than the errors: a server that was down once
	 * may merely have been slow the other time. */
	stub_dns_fail(d, q->id, q->timed_out ? PROTO_DNS_FAIL_TIMEOUT :
	    PROTO_DNS_FAIL_UNREACHABLE);
	stub_dns_finish(q);
}

/* The TCP exchange of this attempt failed: log and move on. */
static void
stub_dns_tcp_failed(struct stub_dns_query *q, const char *why)
{
	char	name[ADDR_STRLEN];

	stub_dns_log(q->dns, STUB_DNS_LOG_UNREACH, (int)q->srv, "%s over TCP: %s",
	    addr_format(&q->dns->servers[q->srv], true, name, sizeof(name)), why);
	stub_dns_next(q);
}

/* The UDP answer was truncated: ask the same server over TCP. */
static void
stub_dns_tcp(struct stub_dns_query *q)
{
	struct stub_dns	*d = q->dns;
	int		 fd, err;

	stub_dns_close(q);
	if ((fd = d->sock(SOCK_STREAM, &d->servers[q->srv])) < 0) {
		stub_dns_tcp_failed(q, strerror(-fd));
		return;
	}
	if ((err = ev_io_add(d->loop, &q->io, fd, EV_WRITE, stub_dns_tcp_cb, q)) != 0) {
		close(fd);
		stub_dns_tcp_failed(q, strerror(-err));
		return;
	}
	q->state = STUB_DNS_Q_CONNECT;
	q->off = 0;
	q->deadline = clock_ms() + STUB_DNS_TCP_MS;
	stub_dns_arm(d, q->deadline);
}

static void
stub_dns_too_big(struct stub_dns_query *q, size_t len)
{
	char	name[ADDR_STRLEN];

	stub_dns_log(q->dns, STUB_DNS_LOG_TOOBIG, (int)q->srv,
	    "answer from %s too big for the tunnel (%zu bytes)",
	    addr_format(&q->dns->servers[q->srv], true, name, sizeof(name)), len);
	stub_dns_fail(q->dns, q->id, PROTO_DNS_FAIL_TOOBIG);
	stub_dns_finish(q);
}

static void
stub_dns_malformed(struct stub_dns_query *q)
{
	char	name[ADDR_STRLEN];

	q->dns->malformed++;
	stub_dns_log(q->dns, STUB_DNS_LOG_MALFORMED, (int)q->srv,
	    "malformed or unrelated answer from %s dropped",
	    addr_format(&q->dns->servers[q->srv], true, name, sizeof(name)));
}

static void
stub_dns_udp_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct stub_dns_query	*q = io->arg;
	char			 name[ADDR_STRLEN];
	ssize_t			 n;
	size_t			 got;
	int			 i;

	for (i = 0; i < STUB_DNS_RX_BATCH; i++) {
		/* MSG_TRUNC: the real length, even beyond the buffer. */
		n = recv(io->fd, stub_dns_rx, sizeof(stub_dns_rx), MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			stub_dns_log(q->dns, STUB_DNS_LOG_UNREACH, (int)q->srv,
			    "%s unreachable (%s)",
			    addr_format(&q->dns->servers[q->srv], true, name, sizeof(name)),
			    strerror(errno));
			stub_dns_next(q);
			return;
		}
		got = (size_t)n < sizeof(stub_dns_rx) ? (size_t)n : sizeof(stub_dns_rx);
		switch (stub_dns_check_answer(q->msg + 2, stub_dns_rx, got)) {
		case STUB_DNS_ANS_TC:
			stub_dns_tcp(q);
			return;
		case STUB_DNS_ANS_OK:
			if ((size_t)n > PROTO_MAX_PAYLOAD) {
				stub_dns_too_big(q, (size_t)n);
				return;
			}
			stub_dns_answer(q->dns, q->id, stub_dns_rx, (size_t)n);
			stub_dns_finish(q);
			return;
		default:
			/* A spoofed, stale or garbled datagram: the real
			 * answer may still come. */
			stub_dns_malformed(q);
			break;
		}
	}
}

static void
stub_dns_tcp_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	struct stub_dns_query	*q = io->arg;
	socklen_t		 slen = sizeof(int);
	ssize_t			 n;
	int			 err = 0;

	if (q->state == STUB_DNS_Q_CONNECT) {
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &slen) == -1)
			err = errno;
		if (err != 0) {
			stub_dns_tcp_failed(q, strerror(err));
			return;
		}
		q->state = STUB_DNS_Q_SEND;
	}
	if (q->state == STUB_DNS_Q_SEND) {
		n = send(io->fd, q->msg + q->off, q->len + 2U - q->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				stub_dns_tcp_failed(q, strerror(errno));
			return;
		}
		if ((q->off += (size_t)n) < q->len + 2U)
			return;
		q->state = STUB_DNS_Q_RECV;
		q->off = 0;
		if ((err = ev_io_set(loop, io, EV_READ)) != 0)
			stub_dns_tcp_failed(q, strerror(-err));
		return;
	}
	for (;;) {
		if (q->off < 2)
			n = recv(io->fd, q->tcp_len + q->off, 2 - q->off, 0);
		else
			n = recv(io->fd, q->ans + q->off - 2, q->ans_len + 2 - q->off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				stub_dns_tcp_failed(q, strerror(errno));
			return;
		}
		if (n == 0) {
			stub_dns_tcp_failed(q, "connection closed before the answer");
			return;
		}
		q->off += (size_t)n;
		if (q->off == 2) {
			q->ans_len = buf_get_u16(q->tcp_len);
			if (q->ans_len > PROTO_MAX_PAYLOAD) {
				stub_dns_too_big(q, q->ans_len);
				return;
			}
			if (q->ans_len < PROTO_DNS_MIN_QUERY) {
				stub_dns_malformed(q);
				stub_dns_next(q);
				return;
			}
			if ((q->ans = malloc(q->ans_len)) == NULL) {
				stub_dns_tcp_failed(q, "out of memory");
				return;
			}
		} else if (q->off == q->ans_len + 2) {
			if (stub_dns_check_answer(q->msg + 2, q->ans, q->ans_len) ==
			    STUB_DNS_ANS_BAD) {
				stub_dns_malformed(q);
				stub_dns_next(q);
				return;
			}
			stub_dns_answer(q->dns, q->id, q->ans, q->ans_len);
			stub_dns_finish(q);
			return;
		}
	}
}

void
stub_dns_expire(struct stub_dns *d, uint64_t now)
{
	struct stub_dns_query	*q, *next;
	uint64_t		 first = 0;
	char			 name[ADDR_STRLEN];

	/* q may finish; no other query does. */
	LIST_FOREACH_SAFE(q, &d->all, entry, next) {
		if (q->deadline > now)
			continue;
		q->timed_out = 1;
		stub_dns_log(d, STUB_DNS_LOG_TIMEOUT, (int)q->srv, "no answer from %s (timeout%s)",
		    addr_format(&d->servers[q->srv], true, name, sizeof(name)),
		    q->state == STUB_DNS_Q_UDP ? "" : ", TCP");
		stub_dns_next(q);
	}
	LIST_FOREACH(q, &d->all, entry)
		if (first == 0 || q->deadline < first)
			first = q->deadline;
	d->timer.when = first;
}

/* ---- servers ---- */

size_t
stub_dns_parse_resolv(const char *text, size_t len, struct addr *out, size_t max)
{
	size_t	n = 0;

	/* fe80::/10 needs the scope of one of this host's interfaces;
	 * "any interface" is not an address to ask. */
	(void)resolv_parse(text, len, RESOLV_F_NO_LINKLOCAL, out, max, &n, NULL, 0);
	return n;
}

/* No DNS_CONFIG: the remote's own resolver configuration, read once. */
static void
stub_dns_load(struct stub_dns *d)
{
	char	name[ADDR_STRLEN];
	size_t	len = 0;
	ssize_t	n;
	int	fd;

	d->have_servers = 1;
	d->nservers = 0;
	if ((fd = open(d->resolv_path, O_RDONLY | O_CLOEXEC)) != -1) {
		while (len < sizeof(stub_dns_rx) &&
		    (n = read(fd, stub_dns_rx + len, sizeof(stub_dns_rx) - len)) > 0)
			len += (size_t)n;
		close(fd);
		d->nservers = stub_dns_parse_resolv((const char *)stub_dns_rx, len,
		    d->servers, STUB_DNS_RESOLV_MAX);
	}
	if (d->nservers == 0) {
		/* What the C library does without a nameserver line:
		 * 127.0.0.1 (RESOLV_F_DEFAULT). */
		(void)resolv_parse("", 0, RESOLV_F_DEFAULT, d->servers, 1, &d->nservers,
		    NULL, 0);
	}
	log_debug("dns: %zu nameserver(s) from %s, first %s", d->nservers, d->resolv_path,
	    addr_format(&d->servers[0], true, name, sizeof(name)));
}

/* ---- frames ---- */

int
stub_dns_check_answer(const uint8_t *query, const uint8_t *ans, size_t len)
{
	if (len < PROTO_DNS_MIN_QUERY || ans[0] != query[0] || ans[1] != query[1] ||
	    !(ans[2] & 0x80))
		return STUB_DNS_ANS_BAD;
	return (ans[2] & 0x02) ? STUB_DNS_ANS_TC : STUB_DNS_ANS_OK;
}

void
stub_dns_frame(struct mux *m, const struct proto_frame *f, void *arg)
{
	struct stub_dns		*d = arg;
	struct stub_dns_query	*q;

	if (f->type == PROTO_DNS_CONFIG) {
		/* Empty: the remote's resolv.conf, as without DNS_CONFIG. */
		if (f->u.dns_config.n > 0) {
			memcpy(d->servers, f->u.dns_config.s,
			    f->u.dns_config.n * sizeof(d->servers[0]));
			d->nservers = f->u.dns_config.n;
			d->have_servers = 1;
			log_debug("dns: %zu nameserver(s) set by the client", d->nservers);
		}
		return;
	}
	if (f->type != PROTO_DNS_QUERY)
		return;
	d->queries++;
	if (f->bad) {
		stub_dns_log(d, STUB_DNS_LOG_QUERY, -1, "query %u refused: %s (%u bytes)",
		    f->stream, proto_strerror(f->bad), f->len);
		stub_dns_fail(d, f->stream, PROTO_DNS_FAIL_BADQUERY);
		return;
	}
	LIST_FOREACH(q, &d->all, entry) {
		if (q->id == f->stream) {
			/* A DNS_FAIL would be taken for the first one's. */
			stub_dns_log(d, STUB_DNS_LOG_QUERY, -1,
			    "query %u dropped: that id is already in flight", f->stream);
			return;
		}
	}
	if (d->nq >= STUB_DNS_MAX) {
		stub_dns_log(d, STUB_DNS_LOG_BUSY, -1,
		    "%d queries in flight: query %u refused", STUB_DNS_MAX, f->stream);
		stub_dns_fail(d, f->stream, PROTO_DNS_FAIL_BUSY);
		return;
	}
	if (!d->have_servers)
		stub_dns_load(d);
	if (d->nservers == 0) {
		stub_dns_fail(d, f->stream, PROTO_DNS_FAIL_NOSERVERS);
		return;
	}
	if ((q = malloc(sizeof(*q) + 2 + f->len)) == NULL) {
		stub_dns_log(d, STUB_DNS_LOG_BUSY, -1, "out of memory: query %u refused",
		    f->stream);
		stub_dns_fail(d, f->stream, PROTO_DNS_FAIL_BUSY);
		return;
	}
	memset(q, 0, sizeof(*q));
	q->dns = d;
	q->io.fd = -1;
	q->id = f->stream;
	q->len = f->len;
	buf_set_u16(q->msg, f->len);
	memcpy(q->msg + 2, f->payload, f->len);
	LIST_INSERT_HEAD(&d->all, q, entry);
	d->nq++;
	stub_dns_next(q);
}

/* ---- lifetime ---- */

int
stub_dns_init(struct stub_dns *d, struct ev_loop *loop, struct mux *m)
{
	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->mux = m;
	LIST_INIT(&d->all);
	SLIST_INIT(&d->garbage);
	d->resolv_path = RESOLV_PATH;
	d->sock = stub_dns_sock_real;
	d->timer.cb = stub_dns_timer_cb;
	d->timer.arg = d;
	return ev_timer_add(loop, &d->timer) == 0 ? 0 : -1;
}

void
stub_dns_collect(struct stub_dns *d)
{
	struct stub_dns_query	*q;

	while ((q = SLIST_FIRST(&d->garbage)) != NULL) {
		SLIST_REMOVE_HEAD(&d->garbage, gc);
		free(q);
	}
}

void
stub_dns_free(struct stub_dns *d)
{
	struct stub_dns_query	*q;

	while ((q = LIST_FIRST(&d->all)) != NULL)
		stub_dns_finish(q);
	stub_dns_collect(d);
	ev_timer_del(d->loop, &d->timer);
}
