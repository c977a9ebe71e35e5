/* SPDX-License-Identifier: ISC */
/*
 * listen.h - the local listeners that nftables redirects TCP to, and the
 * original destination of what they accept.
 */
#ifndef CSHUTTLE_LISTEN_H
#define CSHUTTLE_LISTEN_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define LISTEN_DEFAULT_PORT	12300	/* first port tried, as sshuttle */
#define LISTEN_PORT_TRIES	100

struct listen_spec {
	bool		 want4, want6;
	struct addr	 addr4;		/* default 127.0.0.1; its port unused */
	struct addr	 addr6;		/* default ::1; its port unused */
	uint16_t	 port;		/* 0 = first free from LISTEN_DEFAULT_PORT */
};

struct listen_socks {
	int		 fd4, fd6;	/* -1 when absent */
	uint16_t	 port;		/* the port both are bound to */
};

/*
 * Bind and listen (non-blocking, CLOEXEC).  IPv6 is dropped with a
 * debug message when the host has no IPv6 loopback; everything else is
 * an error.  0, or -1 with a reason in err.
 */
int	listen_open(const struct listen_spec *spec, struct listen_socks *ls,
	    char *err, size_t errlen);
void	listen_close(struct listen_socks *ls);

/*
 * The destination the client originally connected to, from conntrack
 * (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST).  0, or -errno (ENOENT when
 * the connection was not redirected).
 */
int	listen_original_dst(int fd, int family, struct addr *dst);

#endif
