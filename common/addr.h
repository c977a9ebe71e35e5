/* SPDX-License-Identifier: ISC */
/*
 * addr.h - the one address type: an IPv4 or IPv6 address with a port.
 *
 * Every module that stores an address (listeners, nameservers, the SSH
 * server's exemption, a stream's destination, a DNS_CONFIG entry) uses
 * struct addr, and parses, prints and converts it here.  Pure apart from
 * if_nametoindex() for an IPv6 scope given by interface name.
 */
#ifndef CSHUTTLE_ADDR_H
#define CSHUTTLE_ADDR_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_V4		4
#define ADDR_V6		6

/* Longest text addr_format() writes, NUL included: "[v6%scope]:65535". */
#define ADDR_STRLEN	(46 + 16 + 10)

struct addr {
	uint8_t		family;		/* ADDR_V4, ADDR_V6, 0 = none */
	uint8_t		bytes[16];	/* IPv4: the first 4, the rest zero */
	uint16_t	port;		/* host order; 0 = none given */
	uint32_t	scope;		/* IPv6 link-local interface index, else 0 */
};

/* addr_parse() flags. */
#define ADDR_P_PORT	(1U << 0)	/* "V4:PORT" and "[V6]:PORT" are accepted */
#define ADDR_P_SCOPE	(1U << 1)	/* "V6%IFNAME" / "V6%INDEX" is accepted */
#define ADDR_P_BRACKET	(1U << 2)	/* "[V6]" without a port is accepted */

/* addr_parse() results (negative). */
#define ADDR_E_SYNTAX	-1	/* not an address in an accepted form */
#define ADDR_E_PORT	-2	/* a port that is not a number in 0-65535 */
#define ADDR_E_SCOPE	-3	/* the scope names no interface */

/*
 * Parse s[0..len) (len (size_t)-1: up to the NUL).  Without ADDR_P_PORT
 * only a bare address is accepted; with it, a port after the address (a
 * bare IPv6 address never carries one: "::1:53" is the address ::1:53).
 * *a is set to port `defport` when none is given.  Returns 0 or an
 * ADDR_E_* code; *a is untouched on error.
 */
int	 addr_parse(struct addr *a, const char *s, size_t len, unsigned flags,
	    uint16_t defport);
/* A short, static description of an ADDR_E_* code. */
const char *addr_strerror(int err);

/*
 * "192.0.2.1", "2001:db8::1", "fe80::1%2"; with_port: "192.0.2.1:53",
 * "[2001:db8::1]:53".  Writes at most len bytes (ADDR_STRLEN is enough)
 * and returns buf.
 */
const char *addr_format(const struct addr *a, bool with_port, char *buf, size_t len);

/* 4, 16, or 0 for an unknown family. */
size_t	 addr_size(uint8_t family);
/* AF_INET / AF_INET6 for ADDR_V4 / ADDR_V6, AF_UNSPEC otherwise. */
int	 addr_af(uint8_t family);

/* Set family, bytes (addr_size(family) of them) and port; scope 0. */
void	 addr_set(struct addr *a, uint8_t family, const void *bytes, uint16_t port);
/* sockaddr_in / sockaddr_in6 for a; returns its length (0: no family). */
socklen_t addr_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss);
/* The reverse; IPv4-mapped IPv6 addresses stay IPv6.  0, or -1 for a
 * family other than AF_INET/AF_INET6 or a short length. */
int	 addr_from_sockaddr(struct addr *a, const struct sockaddr *sa, socklen_t len);

/* Same family, bytes, port and scope. */
bool	 addr_equal(const struct addr *a, const struct addr *b);
/* Same family and bytes (port and scope ignored). */
bool	 addr_same_host(const struct addr *a, const struct addr *b);
/* 127.0.0.0/8 or ::1. */
bool	 addr_is_loopback(const struct addr *a);
/* 0.0.0.0 or ::. */
bool	 addr_is_any(const struct addr *a);
/* fe80::/10. */
bool	 addr_is_linklocal(const struct addr *a);

#endif
