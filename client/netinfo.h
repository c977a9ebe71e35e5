/* SPDX-License-Identifier: ISC */
/*
 * netinfo.h - this host's interfaces, addresses and default routes, read
 * over rtnetlink, and the LAN sources a gateway serves by default.
 *
 * With -l on an address other than loopback, cshuttle also tunnels for
 * the hosts that route through this one (the prerouting rules), but only
 * for the sources in fw_config.allow.  --allow-from names them; without
 * it they are the networks directly connected to the interfaces the
 * listeners are on (every interface for 0.0.0.0 or ::), except those of
 * an interface that carries a default route or leads to the SSH server:
 * whoever is on the uplink is not the gateway's LAN.
 *
 * netinfo_read() and netinfo_route_oif() ask the kernel; netinfo_parse()
 * (messages to a struct netinfo), netinfo_lan() (the choice) and
 * netinfo_is_public() are pure, for the unit tests.  Errors: 0, or -1
 * with a reason in err.
 */
#ifndef CSHUTTLE_NETINFO_H
#define CSHUTTLE_NETINFO_H

#include <net/if.h>

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "fw.h"

#define NETINFO_MAX_IFS		256
#define NETINFO_MAX_ADDRS	512

struct netinfo_if {
	int		index;
	bool		loopback;	/* IFF_LOOPBACK */
	char		name[IF_NAMESIZE];
};

struct netinfo_addr {
	int		ifindex;
	struct addr	local;		/* this host's address (IFA_LOCAL, else
					 * IFA_ADDRESS) */
	struct addr	net;		/* the connected network: IFA_ADDRESS
					 * (the peer on a point-to-point link)
					 * with the host bits cleared */
	uint8_t		prefix;
};

struct netinfo {
	struct netinfo_if	ifs[NETINFO_MAX_IFS];
	size_t			nifs;
	struct netinfo_addr	addrs[NETINFO_MAX_ADDRS];
	size_t			naddrs;
	int			uplink[NETINFO_MAX_IFS];	/* interfaces with a
								 * default route */
	size_t			nuplink;
	bool			truncated;	/* more than fitted: left out */
};

/* A network chosen by netinfo_lan(). */
struct netinfo_net {
	struct addr	net;		/* host bits clear, port 0 */
	uint8_t		prefix;
	int		ifindex;
};

/*
 * Add what `len` bytes of rtnetlink messages say to *ni: RTM_NEWLINK
 * (index, loopback flag, name), RTM_NEWADDR (IPv4 and IPv6 addresses),
 * RTM_NEWROUTE (unicast default routes of any table but local, their
 * interface or, for a multipath route, each next hop's).  Messages of
 * other types, and attributes that are missing or of the wrong size, are
 * skipped.  seq and portid, when not 0, must match.  Returns 1 at
 * NLMSG_DONE, 0 when more is to come, -1 with errno for an NLMSG_ERROR
 * or a malformed stream.
 */
int	netinfo_parse(struct netinfo *ni, const void *buf, size_t len,
	    unsigned seq, unsigned portid);

/*
 * The output interface of one RTM_NEWROUTE message (the kernel's answer
 * to RTM_GETROUTE for an address): 0 with *oif, or -1 when it has none.
 */
int	netinfo_parse_route_oif(const void *msg, size_t len, int *oif);

/* Dump links, addresses and routes into *ni (cleared first). */
int	netinfo_read(struct netinfo *ni, char *err, size_t errlen);

/* The interface the kernel would send a packet to `dst` through. */
int	netinfo_route_oif(const struct addr *dst, int *oif, char *err,
	    size_t errlen);

/* The name of interface `index` in ni, or "?". */
const char *netinfo_ifname(const struct netinfo *ni, int index);

/*
 * The networks that a gateway listening on listen[0..nlisten) serves by
 * default (loopback listen addresses contribute nothing; 0.0.0.0 and ::
 * stand for every interface of their family, another address for the
 * interfaces that have it): the connected networks of those interfaces,
 * except
 *   - those of a loopback interface, of an uplink (ni->uplink) and of
 *     the interfaces in avoid_if (the way to the SSH server), and any
 *     network that overlaps one of theirs;
 *   - any network that holds one of avoid[0..navoid) (the SSH server);
 *   - link-local networks (169.254.0.0/16, fe80::/10: every link has
 *     them, the rules cannot tell which) and prefixes of length 0.
 * Duplicates are dropped.  Returns how many are in out[0..max).
 */
size_t	netinfo_lan(const struct netinfo *ni, const struct addr *listen,
	    size_t nlisten, const int *avoid_if, size_t navoid_if,
	    const struct addr *avoid, size_t navoid, struct netinfo_net *out,
	    size_t max);

/*
 * Could hosts elsewhere on the Internet reach this address?  false for
 * loopback, RFC 1918 (10/8, 172.16/12, 192.168/16), shared (100.64/10),
 * link-local (169.254/16, fe80::/10), unique local (fc00::/7), the
 * unspecified addresses, and the documentation and benchmarking ranges
 * (192.0.2/24, 198.51.100/24, 203.0.113/24, 198.18/15, 2001:db8::/32).
 */
bool	netinfo_is_public(const struct addr *a);

/*
 * The sources a gateway serves (-l on a non-loopback address), into
 * allow[0..FW_MAX_ALLOW) and *nallow: the user's (--allow-from,
 * given[0..ngiven)) when there are any, else netinfo_lan()'s choice for
 * listen[] with the SSH server at ssh[0..nssh).  Says at info level what
 * is allowed, and warns when a listen address is public and when nothing
 * is allowed.
 */
void	netinfo_gateway(const struct addr *listen, size_t nlisten,
	    const struct fw_allow *given, int ngiven, const struct addr *ssh,
	    size_t nssh, struct fw_allow *allow, int *nallow);

#endif
