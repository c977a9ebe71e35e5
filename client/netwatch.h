/* SPDX-License-Identifier: ISC */
/*
 * netwatch.h - noticing at once that the way to the SSH server may have
 * changed: rtnetlink notifications (links, addresses, routes) and the
 * machine's sleep (CLOCK_BOOTTIME running ahead of CLOCK_MONOTONIC).
 *
 * The tunnel (tunnel_netwatch.c) reads the notifications from a
 * non-blocking NETLINK_ROUTE socket in its loop, asks the kernel for the
 * route towards the server after a burst of them, and decides from what
 * changed whether the live session must be probed, or a reconnect's
 * backoff cut short.  Joining the multicast groups needs no privilege, so
 * this works in the unprivileged tunnel of a root run.
 *
 * netwatch_parse(), netwatch_parse_route(), netwatch_path_same(),
 * netwatch_decide() and netwatch_slept() are pure (unit-tested, and the
 * parsers fuzzed: their bytes come from the kernel).  The others talk to
 * the kernel: 0, or -1 with a reason in err.
 */
#ifndef CSHUTTLE_NETWATCH_H
#define CSHUTTLE_NETWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define NETWATCH_MAX_DST	4	/* server addresses whose route is watched */
#define NETWATCH_MAX_EVENTS	32	/* per burst; more: "everything changed" */
#define NETWATCH_SLEEP_MS	3000	/* a jump of boottime over monotonic this
					 * big means the machine slept */

/* The way the kernel would send a packet to one address. */
struct netwatch_path {
	bool		ok;		/* there is a route */
	uint8_t		family;		/* ADDR_V4 or ADDR_V6 (with ok) */
	int		oif;		/* output interface */
	struct addr	gw;		/* gateway, family 0: directly connected */
	struct addr	src;		/* preferred source, family 0: none given */
};

enum netwatch_kind {
	NETWATCH_ADDR_NEW = 1,		/* an address appeared (or was updated) */
	NETWATCH_ADDR_DEL,		/* an address went away */
	NETWATCH_LINK_UP,		/* a link reported, up and running */
	NETWATCH_LINK_DOWN,		/* a link reported, down or without carrier */
	NETWATCH_LINK_GONE,		/* a link removed */
	NETWATCH_ROUTE,			/* a route added or removed */
};

struct netwatch_event {
	enum netwatch_kind	kind;
	int			ifindex;	/* 0 for routes */
	uint8_t			family;		/* of an address: ADDR_V4, ADDR_V6;
						 * else 0 */
};

/* A burst of notifications, as netwatch_parse() adds them up. */
struct netwatch_change {
	struct netwatch_event	ev[NETWATCH_MAX_EVENTS];
	size_t			nev;
	bool			overflow;	/* more than fitted: assume the worst */
	unsigned		nmsg;		/* notifications seen */
};

/*
 * Add what `len` bytes of rtnetlink notifications say to *c: RTM_NEWLINK,
 * RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR (IPv4 and IPv6), RTM_NEWROUTE and
 * RTM_DELROUTE (IPv4 and IPv6, not the local table, which only mirrors
 * addresses).  Loopback links and their addresses are left out, and so
 * is an RTM_NEWADDR that only refreshes an address that was there before
 * (its IFA_CACHEINFO updated later than created: lifetimes renewed by a
 * router advertisement, say).  Repeated events are kept once.  Other messages, and ones too short to
 * be what they say, are skipped; a truncated stream ends the walk.
 * Returns how many messages were looked at.
 */
size_t	netwatch_parse(struct netwatch_change *c, const void *buf, size_t len);

/*
 * The kernel's answer to RTM_GETROUTE for one address (one RTM_NEWROUTE
 * message) into *p.  0, or -1 when it is not one (p->ok false).
 */
int	netwatch_parse_route(const void *msg, size_t len, struct netwatch_path *p);

bool	netwatch_path_same(const struct netwatch_path *a, const struct netwatch_path *b);

/* An interface's name into buf (IF_NAMESIZE bytes), for messages; NULL
 * where the pure functions take one: "#INDEX". */
typedef void netwatch_ifname_fn(int ifindex, char *buf);

/* Print a path ("via 198.18.0.2 dev eth0 src 198.18.0.1", "no route"). */
void	netwatch_path_str(const struct netwatch_path *p, netwatch_ifname_fn *name,
	    char *out, size_t outlen);

/* What a burst means (netwatch_decide). */
#define NETWATCH_D_PROBE	(1U << 0)	/* the session's way may have changed */
#define NETWATCH_D_RETRY	(1U << 1)	/* the network may be back: retry now */

/*
 * Decide on a burst: old[i] and now[i] are the paths to the server's
 * addresses before and after it (n of them).  Probe when a path changed,
 * when the link changed on an interface a path used or uses, or an
 * address of a path's family was added or removed there.  Retry when a path changed, an address appeared or a link came up
 * anywhere.  why: what it was, for the log (at most whylen bytes).
 */
unsigned netwatch_decide(const struct netwatch_change *c, const struct netwatch_path *old,
	    const struct netwatch_path *now, size_t n, netwatch_ifname_fn *name,
	    char *why, size_t whylen);

/*
 * CLOCK_BOOTTIME minus CLOCK_MONOTONIC in ms: grows by the time the
 * machine slept.  netwatch_slept(): how long it slept between two such
 * offsets, when more than NETWATCH_SLEEP_MS, else 0.
 */
int64_t	netwatch_clock_offset(void);
uint64_t netwatch_slept(int64_t before, int64_t now);

/* ---- the kernel ---- */

struct netwatch;

/* A non-blocking NETLINK_ROUTE socket in the link, address and route
 * groups, and another for route queries.  NULL with a reason in err. */
struct netwatch *netwatch_open(char *err, size_t errlen);
void	netwatch_close(struct netwatch *nw);
/* The notification socket's descriptor, for the event loop. */
int	netwatch_fd(const struct netwatch *nw);

/*
 * Read every notification queued now into *c (never blocks).  0, or -1
 * with a reason in err; a receive buffer that overflowed (ENOBUFS) is not
 * an error: it sets c->overflow, since notifications were lost.
 */
int	netwatch_read(struct netwatch *nw, struct netwatch_change *c, char *err,
	    size_t errlen);

/* Ask the kernel for the path to dst (its port ignored).  No route is
 * not an error (p->ok false); -1 when the kernel could not be asked. */
int	netwatch_route(struct netwatch *nw, const struct addr *dst,
	    struct netwatch_path *p, char *err, size_t errlen);

#endif
