/* SPDX-License-Identifier: ISC */
/*
 * listen.c - redirect listeners and original destinations.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
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
listen_one(int family, const uint8_t *addr, uint16_t port, int *fdp)
{
	struct addr	a;

	addr_set(&a, family == AF_INET ? ADDR_V4 : ADDR_V6, addr, port);
	return sock_listen(&a, SOCK_STREAM, 4096, fdp);
}

int
listen_open(const struct listen_spec *spec, struct listen_socks *ls,
    char *err, size_t errlen)
{
	uint16_t	port = spec->port ? spec->port : LISTEN_DEFAULT_PORT;
	int		tries = spec->port ? 1 : LISTEN_PORT_TRIES;
	int		r4 = 0, r6 = 0;
	char		a[INET6_ADDRSTRLEN];

	ls->fd4 = ls->fd6 = -1;
	/* One port for both families keeps the rules and the table name
	 * simple; walk upwards from 12300 like sshuttle until both bind. */
	for (; tries > 0; tries--, port++) {
		r4 = r6 = 0;
		if (spec->want4 && (r4 = listen_one(AF_INET, spec->addr4, port, &ls->fd4)) < 0) {
			if (r4 == -EADDRINUSE)
				continue;
			inet_ntop(AF_INET, spec->addr4, a, sizeof(a));
			snprintf(err, errlen, "cannot listen on %s:%u: %s", a, port,
			    strerror(-r4));
			return -1;
		}
		if (spec->want6 && (r6 = listen_one(AF_INET6, spec->addr6, port, &ls->fd6)) < 0) {
			if (r6 == -EADDRINUSE) {
				listen_close(ls);
				continue;
			}
			if (r6 == -EADDRNOTAVAIL || r6 == -EAFNOSUPPORT) {
				log_debug("no IPv6 listener (%s): IPv6 is not redirected",
				    strerror(-r6));
				ls->fd6 = -1;
			} else {
				inet_ntop(AF_INET6, spec->addr6, a, sizeof(a));
				snprintf(err, errlen, "cannot listen on [%s]:%u: %s", a,
				    port, strerror(-r6));
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
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	socklen_t		len;

	if (family == AF_INET) {
		len = sizeof(sin);
		if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &sin, &len) == -1)
			return -errno;
		addr_set(dst, ADDR_V4, &sin.sin_addr, ntohs(sin.sin_port));
	} else {
		len = sizeof(sin6);
		if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &sin6, &len) == -1)
			return -errno;
		addr_set(dst, ADDR_V6, &sin6.sin6_addr, ntohs(sin6.sin6_port));
	}
	return 0;
}
