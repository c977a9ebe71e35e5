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
#define LISTEN_MAX		8	/* addresses, of both families */

/*
 * Where to listen: every address on one port, the port the rules
 * redirect to.  Fill it with listen_spec_add().
 */
struct listen_spec {
	struct addr	 addr[LISTEN_MAX];	/* their ports unused */
	int		 n;
	uint16_t	 port;		/* 0 = first free from LISTEN_DEFAULT_PORT */
	bool		 udp;		/* a UDP socket beside each listener */
};

struct listen_socks {
	int		 fd[LISTEN_MAX];
	struct addr	 addr[LISTEN_MAX];	/* where fd[i] is bound (port: port) */
	int		 n;		/* zeroed: none */
	uint16_t	 port;		/* the port all are bound to */
	/* With listen_spec.udp: a UDP socket on each listener's address and
	 * port (udp_fd[i] beside fd[i]), non-blocking, IP_RECVORIGDSTADDR
	 * set, for the rules' TPROXY (udp.h). */
	int		 udp_fd[LISTEN_MAX];
	int		 nudp;
};

#define LISTEN_UDP_RCVBUF	(4 * 1024 * 1024)

/*
 * Add an address to listen on (its port is ignored).  An address given
 * twice, or one of a family whose wildcard (0.0.0.0, ::) is there too,
 * is dropped, since the wildcard's socket takes its connections (and two
 * sockets could not both bind the port); a wildcard drops the addresses
 * of its family added before it.  0, or -1 when the spec is full.
 */
int	listen_spec_add(struct listen_spec *spec, const struct addr *a);

/*
 * Bind and listen on every address of spec (non-blocking, CLOEXEC), all
 * on one port: spec->port, or the first port from LISTEN_DEFAULT_PORT
 * on that every address binds (with spec->udp, for UDP too).  An IPv6 address is dropped with a debug
 * message when the host cannot bind it (no IPv6 loopback), unless it is
 * the only address; everything else is an error.  0, or -1 with a reason
 * in err and nothing open.
 */
int	listen_open(const struct listen_spec *spec, struct listen_socks *ls,
	    char *err, size_t errlen);
/* Whether a listener of the family (ADDR_V4, ADDR_V6) is open. */
bool	listen_has(const struct listen_socks *ls, uint8_t family);
void	listen_close(struct listen_socks *ls);

/*
 * The destination the client originally connected to, from conntrack
 * (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST).  0, or -errno (ENOENT when
 * conntrack has no entry for the connection).
 */
int	listen_original_dst(int fd, int family, struct addr *dst);

/*
 * Was a connection made to the listener itself rather than redirected to
 * it?  `orig` is its original destination (listen_original_dst()),
 * `local` the address it reached (getsockname() of the accepted socket).
 * A redirect always rewrites the destination, and the rules never
 * redirect what is addressed to this host, so an original destination
 * equal to the socket's own address and port means nobody redirected it.
 */
bool	listen_is_direct(const struct addr *orig, const struct addr *local);

/*
 * Only redirected connections are served.  For a connection just
 * accepted (fd, a TCP socket): 0 with *dst its original destination, or
 * -1 when it must be closed: it was made to the listener itself, or
 * conntrack has no entry for it (nothing redirected it), or its addresses
 * cannot be read.  The first two are logged as a warning through `ll`
 * (at most one line per LISTEN_REFUSED_LOG_MS, naming the peer; dns: the
 * listener is one of DNS capture's); closing the socket is the caller's.
 */
struct log_limit;
int	listen_accepted(int fd, struct addr *dst, struct log_limit *ll, bool dns);

#define LISTEN_REFUSED_LOG_MS	10000

#endif
