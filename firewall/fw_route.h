/* SPDX-License-Identifier: ISC */
/*
 * fw_route.h - the policy routing that UDP capture needs (rtnetlink over
 * libmnl): TPROXY can only take a packet on the prerouting hook, so the
 * UDP that local programs send is marked T on the output hook
 * (fw_plan.h) and sent back in through lo by
 *	ip rule add fwmark T/0xffffffff lookup T priority FW_UDP_RULE_PRIO
 *	    protocol FW_ROUTE_PROTO
 *	ip route add local default dev lo table T proto FW_ROUTE_PROTO
 * (and their IPv6 twins), T = fw_tproxy_mark_for_port(P), or the mark
 * --tmark names (fw_config.tmark).
 *
 * Unlike the nft table, rules and routes have no owner socket: whoever
 * added them must delete them.  The helper does on every way out it
 * sees (fw_route_remove()); one killed with SIGKILL leaves them, and the
 * next helper to start removes them (fw_route_clean_stale()): a rule
 * whose fwmark and table are equal and lie in FW_TPROXY_MARK_BASE's
 * range, of a port whose nft table is gone, is a dead instance's.
 * Until then it is harmless: nothing sets the mark any more.  A mark of
 * the caller's choice (--tmark) tells no port: such a rule is known as
 * cshuttle's by its protocol (FW_ROUTE_PROTO), and as a dead instance's
 * when no cshuttle table's comment names its mark (fw_nft.h).
 *
 * The message builders and the rule parser are pure, for the unit tests.
 */
#ifndef CSHUTTLE_FW_ROUTE_H
#define CSHUTTLE_FW_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

#define FW_ROUTE_MSGMAX		256	/* bytes of one request we build */
#define FW_ROUTE_MAXSTALE	64	/* stale rules removed per start */
/*
 * The protocol of cshuttle's rules (FRA_PROTOCOL) and routes
 * (rtm_protocol): `ip rule` and `ip route` show "proto 115".  The kernel
 * keeps it (since 4.17) and matches it on deletion; by it the rule of a
 * --tmark, whose number names no port, is known as cshuttle's.  115 is
 * ASCII 's', a value no routing daemon has taken (/etc/iproute2/rt_protos).
 */
#define FW_ROUTE_PROTO		115

/* A policy rule as a dump shows it. */
struct fw_route_rule {
	uint8_t		 family;	/* AF_INET, AF_INET6 */
	uint8_t		 action;	/* FR_ACT_* */
	bool		 has_mark;
	uint32_t	 fwmark;
	uint32_t	 fwmask;	/* 0xffffffff when the dump has none */
	uint32_t	 table;
	uint32_t	 priority;
	uint8_t		 protocol;	/* FRA_PROTOCOL, 0 when the dump has none */
};

/*
 * Write into buf (len bytes, at least FW_ROUTE_MSGMAX) the request that
 * adds (RTM_NEWRULE) or deletes (RTM_DELRULE) "fwmark table/0xffffffff
 * lookup table priority prio [protocol proto]" for family (AF_INET,
 * AF_INET6); proto 0: no FRA_PROTOCOL (a deletion then takes a rule of
 * any protocol).  Returns the message, or NULL when the arguments are
 * out of range.
 */
struct nlmsghdr	*fw_route_rule_msg(void *buf, size_t len, uint16_t type,
		    int family, uint32_t table, uint32_t prio, uint8_t proto,
		    uint32_t seq);
/*
 * The same for the route "local default dev lo table T proto
 * FW_ROUTE_PROTO" (scope host):
 * RTM_NEWROUTE (create or replace; in a table outside T's range, one of
 * --tmark, create only) or RTM_DELROUTE.
 */
struct nlmsghdr	*fw_route_route_msg(void *buf, size_t len, uint16_t type,
		    int family, uint32_t table, uint32_t seq);
/* Read one RTM_NEWRULE of a dump into *r: 0, or -1 if it is not one. */
int		 fw_route_rule_parse(const struct nlmsghdr *nlh,
		    struct fw_route_rule *r);
/*
 * True when r looks like cshuttle's own: "fwmark T lookup T" with the
 * whole mark, and either T in FW_TPROXY_MARK_BASE's range, of protocol
 * FW_ROUTE_PROTO or none (a cshuttle before FRA_PROTOCOL), *port then
 * T's P; or T any other mark (a --tmark), of protocol FW_ROUTE_PROTO at
 * FW_UDP_RULE_PRIO, *port then 0.
 */
bool		 fw_route_rule_ours(const struct fw_route_rule *r,
		    uint16_t *port);

struct fw_route;

/* A route socket; NULL with a reason in err. */
struct fw_route	*fw_route_open(char *err, size_t errlen);
/*
 * Add the rule and the route of mark and table t for family (AF_INET,
 * AF_INET6), remembered for fw_route_remove().  t is T of port P, or
 * the mark --tmark named: then a default route already in table t is
 * an error (EEXIST), where one in T's table is replaced.  Both carry
 * the protocol FW_ROUTE_PROTO.  0, or -1 with a reason in err (what was
 * added of the two is remembered all the same).
 */
int		 fw_route_add(struct fw_route *rt, int family, uint32_t t,
		    char *err, size_t errlen);
/* Delete what fw_route_add() added (logging failures).  Accepts NULL. */
void		 fw_route_remove(struct fw_route *rt);
/*
 * Delete the rules of dead instances, and the routes of their tables
 * (every route of a table in T's range, those of protocol FW_ROUTE_PROTO
 * in a table of a --tmark): alive(mark, arg) says whether the instance
 * that uses that mark T still exists (1), is gone (0) or cannot be told
 * (-1: left alone).  Logged at -v.
 * Returns how many rules were deleted, or -1 with a reason in err.
 */
int		 fw_route_clean_stale(struct fw_route *rt,
		    int (*alive)(uint32_t mark, void *arg), void *arg,
		    char *err, size_t errlen);
/*
 * The type of the route the kernel would use to reach addr (family
 * AF_INET/AF_INET6, 4 or 16 bytes): RTN_LOCAL for an address of this
 * host, RTN_BROADCAST, RTN_UNICAST..., RTN_UNREACHABLE when there is no
 * route at all; -1 when it cannot tell (errno).
 */
int		 fw_route_type(struct fw_route *rt, int family,
		    const uint8_t *addr);
/*
 * Why a reply socket (UDPREPLY) may not be bound to an address whose
 * route is of type type (fw_route_type()): NULL when it may, that is
 * for a unicast address of another host, with a route, none, or one
 * that does not reach it (blackhole, prohibit, throw).  An
 * address of this host would take a local service's port; a broadcast,
 * multicast or anycast one would receive what is meant for others (a
 * subnet's broadcast address is inside the subnet).
 */
const char	*fw_route_reply_refusal(int type);
/* Close the socket (removes nothing).  Accepts NULL. */
void		 fw_route_close(struct fw_route *rt);

#endif
