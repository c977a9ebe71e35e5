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
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "sock.h"

static int
listen_one(const struct addr *addr, uint16_t port, int *fdp)
{
	struct addr	a = *addr;

	a.port = port;
	return sock_listen(&a, SOCK_STREAM, 4096, fdp);
}

int
listen_open(const struct listen_spec *spec, struct listen_socks *ls,
    char *err, size_t errlen)
{
	uint16_t	port = spec->port ? spec->port : LISTEN_DEFAULT_PORT;
	int		tries = spec->port ? 1 : LISTEN_PORT_TRIES;
	int		r4 = 0, r6 = 0;
	struct addr	a;
	char		as[ADDR_STRLEN];

	ls->fd4 = ls->fd6 = -1;
	/* One port for both families keeps the rules and the table name
	 * simple; walk upwards from 12300 like sshuttle until both bind. */
	for (; tries > 0; tries--, port++) {
		r4 = r6 = 0;
		if (spec->want4 && (r4 = listen_one(&spec->addr4, port, &ls->fd4)) < 0) {
			if (r4 == -EADDRINUSE)
				continue;
			a = spec->addr4;
			a.port = port;
			snprintf(err, errlen, "cannot listen on %s: %s",
			    addr_format(&a, true, as, sizeof(as)), strerror(-r4));
			return -1;
		}
		if (spec->want6 && (r6 = listen_one(&spec->addr6, port, &ls->fd6)) < 0) {
			if (r6 == -EADDRINUSE) {
				listen_close(ls);
				continue;
			}
			if (r6 == -EADDRNOTAVAIL || r6 == -EAFNOSUPPORT) {
				log_debug("no IPv6 listener (%s): IPv6 is not redirected",
				    strerror(-r6));
				ls->fd6 = -1;
			} else {
				a = spec->addr6;
				a.port = port;
				snprintf(err, errlen, "cannot listen on %s: %s",
				    addr_format(&a, true, as, sizeof(as)), strerror(-r6));
				listen_close(ls);
				return -1;
			}
		}
		ls->port = port;
		return 0;
	}
	snprintf(err, errlen, "no free local port to listen on (tried %u-%u)",
	    spec->port ? spec->port : LISTEN_DEFAULT_PORT, port - 1);
	return -1;
}

void
listen_close(struct listen_socks *ls)
{
	if (ls->fd4 >= 0)
		close(ls->fd4);
	if (ls->fd6 >= 0)
		close(ls->fd6);
	ls->fd4 = ls->fd6 = -1;
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
