/* SPDX-License-Identifier: ISC */
/*
 * listen.c - redirect listeners and original destinations.
 *
 * A connection made straight to a listener, instead of redirected to
 * it, has the listener itself as its original destination.  Forwarded,
 * the stub would connect to this host's own address from the remote:
 * nothing anybody asked for, and with a listener on an address the
 * remote can reach, a loop.  So it is refused (listen_accepted()).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "sock.h"

/* TCP_NODELAY here: Linux copies it to every accepted connection, which
 * then needs no setsockopt of its own (one system call less each). */
static int
listen_one(const struct addr *addr, uint16_t port, int *fdp)
{
	struct addr	a = *addr;
	int		r, one = 1;

	a.port = port;
	if ((r = sock_listen(&a, SOCK_STREAM, 4096, fdp)) != 0)
		return r;
	(void)setsockopt(*fdp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/*
 * The UDP socket beside a listener: same address and port, where the
 * rules' TPROXY delivers captured datagrams (the helper makes it
 * transparent).  Each datagram brings its original destination.  0 or
 * -errno.
 */
static int
listen_udp_one(const struct addr *addr, uint16_t port, int *fdp)
{
	struct addr	a = *addr;
	int		fd, one = 1, rcv = LISTEN_UDP_RCVBUF, r;

	a.port = port;
	if ((r = sock_listen(&a, SOCK_DGRAM, 0, &fd)) != 0)
		return r;
	if ((a.family == ADDR_V4 &&
	    setsockopt(fd, SOL_IP, IP_RECVORIGDSTADDR, &one, sizeof(one)) == -1) ||
	    (a.family == ADDR_V6 &&
	    setsockopt(fd, SOL_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof(one)) == -1)) {
		r = -errno;
		close(fd);
		return r;
	}
	/* Bursts wait here while the loop is busy; the kernel caps it at
	 * net.core.rmem_max. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	*fdp = fd;
	return 0;
}

int
listen_spec_add(struct listen_spec *spec, const struct addr *a)
{
	int	i, j;

	for (i = 0; i < spec->n; i++)
		if (spec->addr[i].family == a->family &&
		    (addr_is_any(&spec->addr[i]) || addr_same_host(&spec->addr[i], a)))
			return 0;
	if (addr_is_any(a)) {
		for (i = j = 0; i < spec->n; i++)
			if (spec->addr[i].family != a->family)
				spec->addr[j++] = spec->addr[i];
		spec->n = j;
	}
	if (spec->n == LISTEN_MAX)
		return -1;
	spec->addr[spec->n] = *a;
	spec->addr[spec->n].port = 0;
	spec->addr[spec->n].scope = 0;
	spec->n++;
	return 0;
}

/*
 * Every address of spec on port.  0; 1 when the port is taken on one of
 * them (nothing left open); -1 with the reason in err.
 */
static int
listen_port(const struct listen_spec *spec, uint16_t port, struct listen_socks *ls,
    char *err, size_t errlen)
{
	struct addr	a;
	char		as[ADDR_STRLEN];
	int		i, r, fd;

	ls->n = ls->nudp = 0;
	for (i = 0; i < spec->n; i++) {
		if ((r = listen_one(&spec->addr[i], port, &fd)) == 0) {
			ls->fd[ls->n] = fd;
			ls->addr[ls->n] = spec->addr[i];
			ls->addr[ls->n++].port = port;
			if (!spec->udp)
				continue;
			if ((r = listen_udp_one(&spec->addr[i], port, &fd)) == 0) {
				ls->udp_fd[ls->nudp++] = fd;
				continue;
			}
			/* The TCP listener goes too: an address serves both
			 * or neither. */
			close(ls->fd[--ls->n]);
		}
		if (r == -EADDRINUSE) {
			listen_close(ls);
			return 1;
		}
		if (spec->addr[i].family == ADDR_V6 && spec->n > 1 &&
		    (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)) {
			log_debug("no IPv6 listener on %s (%s)", addr_format(
			    &spec->addr[i], false, as, sizeof(as)), strerror(-r));
			continue;
		}
		a = spec->addr[i];
		a.port = port;
		snprintf(err, errlen, "cannot listen on %s: %s",
		    addr_format(&a, true, as, sizeof(as)), strerror(-r));
		listen_close(ls);
		return -1;
	}
	ls->port = port;
	return 0;
}

int
listen_open(const struct listen_spec *spec, struct listen_socks *ls,
    char *err, size_t errlen)
{
	uint16_t	port = spec->port ? spec->port : LISTEN_DEFAULT_PORT;
	int		tries = spec->port ? 1 : LISTEN_PORT_TRIES;
	int		r;

	ls->n = ls->nudp = 0;
	/* One port for every address keeps the rules and the table name
	 * simple; walk upwards from 12300 like sshuttle until all bind. */
	for (; tries > 0; tries--, port++) {
		if ((r = listen_port(spec, port, ls, err, errlen)) <= 0)
			return r;
	}
	snprintf(err, errlen, "no free local port to listen on (tried %u-%u)",
	    spec->port ? spec->port : LISTEN_DEFAULT_PORT, port - 1);
	return -1;
}

bool
listen_has(const struct listen_socks *ls, uint8_t family)
{
	int	i;

	for (i = 0; i < ls->n; i++)
		if (ls->addr[i].family == family)
			return true;
	return false;
}

void
listen_close(struct listen_socks *ls)
{
	int	i;

	for (i = 0; i < ls->n; i++)
		if (ls->fd[i] >= 0)
			close(ls->fd[i]);
	for (i = 0; i < ls->nudp; i++)
		if (ls->udp_fd[i] >= 0)
			close(ls->udp_fd[i]);
	ls->n = ls->nudp = 0;
}

int
listen_original_dst(int fd, int family, struct addr *dst)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			r;

	if (family == AF_INET) {
		len = sizeof(struct sockaddr_in);
		r = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &ss, &len);
	} else {
		len = sizeof(struct sockaddr_in6);
		r = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &ss, &len);
	}
	if (r == -1)
		return -errno;
	if (addr_from_sockaddr(dst, (struct sockaddr *)&ss, len) != 0)
		return -EAFNOSUPPORT;
	/* A link-local destination's scope names an interface of this host,
	 * which means nothing to the remote: OPEN carries the address alone. */
	dst->scope = 0;
	return 0;
}

bool
listen_is_direct(const struct addr *orig, const struct addr *local)
{
	return addr_same_host(orig, local) && orig->port == local->port;
}

int
listen_accepted(int fd, struct addr *dst, struct log_limit *ll, bool dns)
{
	const char		*what = dns ? "DNS" : "tunnel";
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	struct addr		local, peer;
	char			ps[ADDR_STRLEN];
	int			r;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_from_sockaddr(&local, (struct sockaddr *)&ss, len) != 0) {
		log_debug("accepted %s connection without an address: %s", what,
		    strerror(errno));
		return -1;
	}
	r = listen_original_dst(fd, addr_af(local.family), dst);
	if (r != 0 && r != -ENOENT) {
		log_debug("%s connection without an original destination (%s); closed",
		    what, strerror(-r));
		return -1;
	}
	local.scope = 0;
	if (r == 0 && !listen_is_direct(dst, &local))
		return 0;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_from_sockaddr(&peer, (struct sockaddr *)&ss, len) != 0)
		snprintf(ps, sizeof(ps), "?");
	else
		(void)addr_format(&peer, false, ps, sizeof(ps));
	if (dns)
		log_limited(ll, LISTEN_REFUSED_LOG_MS, LOG_LVL_WARN, "refused a DNS "
		    "connection from %s to the DNS listener itself: only redirected "
		    "queries are answered", ps);
	else
		log_limited(ll, LISTEN_REFUSED_LOG_MS, LOG_LVL_WARN, "refused a "
		    "connection from %s to the listener itself: only redirected "
		    "connections are tunnelled", ps);
	return -1;
}
