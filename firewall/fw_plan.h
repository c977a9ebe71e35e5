/* SPDX-License-Identifier: ISC */
/*
 * fw_plan.h - the rule planner: a struct fw_config in, the ordered rules
 * of each chain out.  Pure code (no I/O, no netlink) so that the
 * ordering, which decides what is captured and what is blocked, and the
 * scope, which decides whose traffic, can be unit-tested without
 * privileges.
 *
 * The nat rules, in order (chain "output" for locally generated
 * traffic; with prerouting, the same rules unscoped in the regular chain
 * "lan", which "prerouting" enters only for the allowed sources):
 *   1. "meta mark M return": cshuttle's own forwarding sockets (see
 *      fw_mark_socket) are never redirected;
 *   2. per captured nameserver, UDP then TCP to its address port 53 ->
 *      "redirect to :its port".  Before everything else, so that a
 *      nameserver on a local address (127.0.0.53) or inside a tunnelled
 *      subnet (0/0) is caught by its own rule, DNS over TCP included.
 * then for each enabled family (IPv4 first, then IPv6):
 *   3. "fib daddr type local -> return": a destination on this host is
 *      never captured, whatever the subnets say;
 *   4. the exempt destinations (the SSH connection itself) -> return, so
 *      that 0/0 works without an explicit -x for the server;
 *   5. the subnets, most specific first: longer prefix first; for an equal
 *      prefix the narrower port range first; for both equal, an exclude
 *      before an include.  Otherwise the input order is kept.
 *      An include becomes "redirect to :port", an exclude "return".
 * Rules 3-5 match TCP only.  Rules of a family whose flag is false are
 * left out; the DNS rules do not depend on the family flags.
 *
 * The scope: unless the config is host-wide, every rule of the chains
 * that see locally generated traffic ("output", "leak_output") also
 * matches the socket's owner ("meta skuid U" and/or "meta skgid G"), so
 * that packets of other users' sockets, and packets without a socket,
 * match none of them.  The prerouting side cannot be scoped to a user
 * (its packets have no local socket): it is scoped to the allowed source
 * networks instead, one "saddr in A goto lan" rule per fw_config.allow.
 *
 * The filter rules (leak protection: "leak_output" on the output hook
 * and, with prerouting, "leak_lan" entered from "leak_forward" on the
 * forward hook for the allowed sources; priority 0) exist only when
 * block_leaks is set and 0.0.0.0/0 (full4) and/or ::/0 (full6) is
 * included, every port, for an enabled family.  They run after the nat
 * output chain, so captured DNS and redirected TCP are already addressed
 * to loopback there.  In order:
 *   accept: the mark; "oif lo"; "fib daddr type local"; replies of
 *     connections opened from outside ("ct direction reply": an inbound
 *     SSH session over IPv6 keeps working); the exempt IPv6 destinations
 *     when all IPv6 is blocked; link-local unicast and multicast,
 *     255.255.255.255 and DHCP (67-68), fe80::/10, ff02::/16 and DHCPv6
 *     (546-547); UDP to the excluded subnets of a full family (-x stays
 *     reachable), an include more specific than such an exclude being
 *     rejected before it;
 *   if full4 and not full6: all other IPv6 -> log, then reject (TCP with
 *     a reset, the rest with icmpv6 admin-prohibited);
 *   if full4: all other IPv4 UDP -> log, then reject (icmp port-unreachable);
 *   if full6: all other IPv6 UDP -> log, then reject (icmpv6 port-unreachable).
 * Each "log" is "limit rate 10/second log group G": it logs a sample and
 * falls through to the reject after it.
 *
 * The input chain ("input", filter, hook input, unscoped): only redirected
 * connections are served.  For each listener (TCP, its address and port
 * P) and each DNS listener pair (UDP and TCP, its address and port Q),
 * packets of the original direction whose connection conntrack did not
 * DNAT are dropped ("ct status & dnat == 0"): a direct connection to the
 * listener, which would be forwarded to the listener's own address, or a
 * query sent straight to a DNS listener.  A listener on the wildcard
 * address is matched on its port alone.
 *
 * UDP capture (only for the families with a UDP socket, udp4/udp6; none
 * without UDP sockets).  Locally generated UDP cannot be TPROXYed on the
 * output hook, so it is marked there and routed back in: chain
 * "udp_output" (type route, hook output, priority mangle, scoped like
 * "output"), in order:
 *   1. "meta mark M return", "meta mark R return": cshuttle's own
 *      sockets and the reply sockets (mark R, below) are never captured;
 *   2. per captured nameserver, UDP to its address port 53 -> return:
 *      the nat DNS redirect keeps those;
 * then for each family with UDP capture (IPv4 first):
 *   3. "fib daddr type local -> return";
 *   4. never captured -> return: 255.255.255.255, 224.0.0.0/4 and
 *      169.254.0.0/16, UDP ports 67-68 (DHCP); ff00::/8 and fe80::/10,
 *      UDP ports 546-547 (DHCPv6);
 *   5. the exempt destinations -> return;
 *   6. the subnets in the order of the nat rules (ports and excludes
 *      honoured): an include -> "meta mark set T", an exclude -> return.
 * All of them match UDP only.  A packet with mark T is routed by the
 * policy rule "fwmark T lookup T" (table T: "local default dev lo") back
 * in through lo, where chain "udp_prerouting" (filter, hook prerouting,
 * priority mangle, unscoped) takes it:
 *   7. per family, UDP with mark T -> "tproxy to A:P meta mark set T
 *      accept", A being where that family's UDP socket is bound (a
 *      wildcard: to port P alone);
 * and with prerouting, for the allowed sources, "saddr in A goto
 * udp_lan", a regular chain with rules 1-6 unscoped, each include
 * becoming the tproxy of 7 instead of the mark.
 * fw_plan_udp_carried() answers, for one destination, what these rules
 * decide (the helper also refuses its own addresses, which rule 3 keeps).
 *
 * Reply sockets (UDPREPLY) are bound to a carried destination with
 * IP_TRANSPARENT and carry mark R, as do the (transparent) UDP sockets
 * TPROXY delivers to.  So that they cannot send with a
 * foreign source address to anyone else, chain "udp_reply" (filter,
 * hook output, priority 0, unscoped) lets packets of mark R go only to
 * a local address ("fib daddr type local -> return") or, with
 * prerouting, to the allowed sources (return), and drops every other
 * packet of mark R.
 *
 * Leak protection with UDP capture: in "leak_output" and "leak_lan", mark
 * R and mark T are accepted right after the mark M, so carried UDP
 * (rerouted through lo, mark T) and the replies are never blocked.  UDP
 * of a full family with UDP capture is thus carried rather than blocked:
 * UDP to port 53 of any server goes through the tunnel as plain UDP
 * (the captured nameservers keep the nat redirect); what stays blocked
 * is what the UDP chain leaves out (exempt destinations, multicast
 * beyond the link).  A family without a UDP socket is blocked as above.
 */
#ifndef CSHUTTLE_FW_PLAN_H
#define CSHUTTLE_FW_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw.h"

#define FW_MAX_SUBNETS		1024	/* per fw_config; bounds the batch size */

#define FW_LOG_RATE		10	/* blocked packets logged per second, per rule */
#define FW_LOG_BURST		5
#define FW_LOG_SNAPLEN		128	/* bytes of each logged packet */

/* Errors of the pure layer (planner and request parser). */
#define FW_E_INVAL		-1	/* family, prefix, port or address out of range */
#define FW_E_TOOMANY		-2	/* more than FW_MAX_SUBNETS / _EXEMPT / _DNS */
#define FW_E_NOMEM		-3

#define FW_MATCH_LOCAL		1	/* fib daddr type local */
#define FW_MATCH_DEST		2	/* daddr in addr/prefix, dport in lo-hi */
#define FW_MATCH_MARK		3	/* meta mark == rule mark */
#define FW_MATCH_LOOPBACK	4	/* oif lo */
#define FW_MATCH_REPLY		5	/* ct direction reply */
#define FW_MATCH_SOURCE		6	/* saddr in addr/prefix */
#define FW_MATCH_UNREDIRECTED	7	/* FW_MATCH_DEST, ct direction original,
					   ct status & dnat == 0 */

#define FW_VERDICT_RETURN	1
#define FW_VERDICT_REDIRECT	2	/* to rule to_port */
#define FW_VERDICT_ACCEPT	3
#define FW_VERDICT_REJECT	4	/* with rule reject */
#define FW_VERDICT_LOG		5	/* limit + log group; not final */
#define FW_VERDICT_GOTO		6	/* to chain rule goto_chain */
#define FW_VERDICT_DROP		7
#define FW_VERDICT_MARK		8	/* meta mark set rule set_mark; not final */
#define FW_VERDICT_TPROXY	9	/* tproxy to rule to_addr (unless to_any)
					   : to_port, meta mark set rule
					   set_mark, accept */

#define FW_REJECT_TCP_RESET	1
#define FW_REJECT_PORT_UNREACH	2	/* icmp or icmpv6 port-unreachable */
#define FW_REJECT_ADMIN		3	/* icmpv6 admin-prohibited */

/* Owner matches (fw_rule.owner): the rule takes only those sockets. */
#define FW_OWNER_UID		(1U << 0)	/* meta skuid == rule uid */
#define FW_OWNER_GID		(1U << 1)	/* meta skgid == rule gid */

/* The chains of the table; which exist depends on the plan. */
#define FW_CHAIN_OUTPUT		0	/* nat, hook output: always */
#define FW_CHAIN_PREROUTING	1	/* nat, hook prerouting: the gates */
#define FW_CHAIN_LAN		2	/* nat, regular: rules for allowed sources */
#define FW_CHAIN_LEAK_OUTPUT	3	/* filter, hook output */
#define FW_CHAIN_LEAK_FORWARD	4	/* filter, hook forward: the gates */
#define FW_CHAIN_LEAK_LAN	5	/* filter, regular */
#define FW_CHAIN_INPUT		6	/* filter, hook input */
#define FW_CHAIN_UDP_OUTPUT	7	/* route, hook output: the UDP marks */
#define FW_CHAIN_UDP_PREROUTING	8	/* filter, hook prerouting: tproxy */
#define FW_CHAIN_UDP_LAN	9	/* filter, regular: allowed sources */
#define FW_CHAIN_UDP_REPLY	10	/* filter, hook output: mark R confined */
#define FW_NCHAINS		11

struct fw_rule {
	uint8_t		 family;	/* 4 or 6; 0: both (no nfproto match) */
	uint8_t		 proto;		/* IPPROTO_TCP, IPPROTO_UDP; 0: any */
	uint8_t		 match;		/* FW_MATCH_* */
	uint8_t		 verdict;	/* FW_VERDICT_* */
	uint8_t		 prefix;	/* FW_MATCH_DEST, _SOURCE, _UNREDIRECTED:
					   0..32 or 0..128 */
	uint8_t		 reject;	/* FW_REJECT_*, for FW_VERDICT_REJECT */
	uint8_t		 owner;		/* FW_OWNER_* bits; 0: every socket */
	uint8_t		 goto_chain;	/* FW_CHAIN_*, for FW_VERDICT_GOTO */
	uint8_t		 addr[16];	/* host bits cleared */
	uint16_t	 port_lo;	/* 0-65535 means every port */
	uint16_t	 port_hi;
	uint16_t	 to_port;	/* FW_VERDICT_REDIRECT, _TPROXY */
	uint8_t		 to_addr[16];	/* FW_VERDICT_TPROXY, unless to_any */
	bool		 to_any;	/* FW_VERDICT_TPROXY: port only */
	uint32_t	 set_mark;	/* FW_VERDICT_MARK, _TPROXY */
	uint16_t	 group;		/* FW_VERDICT_LOG: nflog group */
	uint32_t	 mark;		/* FW_MATCH_MARK */
	uint32_t	 uid;		/* FW_OWNER_UID */
	uint32_t	 gid;		/* FW_OWNER_GID */
	bool		 exempt;	/* came from fw_config.exempt (for logs) */
	bool		 dns;		/* came from fw_config.dns (for logs) */
	const char	*note;		/* static text shown in logs, or NULL */
};

struct fw_plan {
	uint16_t	 port;		/* redirect target of the subnets */
	bool		 prerouting;	/* the prerouting side exists (the
					   chains prerouting and lan, and with
					   leak protection leak_forward and
					   leak_lan) */
	uint32_t	 mark;		/* fw_mark_for_port(port) */
	uint32_t	 tproxy_mark;	/* T: fw_tproxy_mark_for_port(port),
					   or the config's tmark */
	uint32_t	 reply_mark;	/* R: fw_reply_mark_for_port(port) */
	bool		 udp4, udp6;	/* UDP captured: policy routing needed */
	uint16_t	 log_group;	/* nflog group of the blocked packets */
	/* The rules of each chain (FW_CHAIN_*); a chain without rules is
	 * not created. */
	struct fw_rule	*chain[FW_NCHAINS];
	size_t		 nchain[FW_NCHAINS];
};

/*
 * Build the plan for cfg into *plan (which the caller owns and must
 * release with fw_plan_free, also after an error).  Returns 0 or an
 * FW_E_* code; nothing is planned for a config that fails a check.
 * A subnet whose port_lo and port_hi are both 0 means every port.
 */
int		 fw_plan_build(const struct fw_config *cfg, struct fw_plan *plan);
void		 fw_plan_free(struct fw_plan *plan);

/* "redirect 10.0.0.0/8 -> :12300" and the like, for logs (with " for
 * uid U" when the rule is scoped); to_port is used for a redirect whose
 * rule has none. */
const char	*fw_rule_format(const struct fw_rule *r, uint16_t to_port,
		    char *buf, size_t len);
/* The name of chain FW_CHAIN_* in the table ("output", "lan"...). */
const char	*fw_chain_name(int chain);
/* Text for an FW_E_* code. */
const char	*fw_strerror(int err);

/*
 * Whether the rules planned for cfg carry UDP to dst (address and port,
 * dst->port 0 is refused): a family with UDP capture, an address that is
 * neither unspecified, loopback, broadcast, multicast nor link-local, a
 * port other than DHCP's, not a captured nameserver's port 53, not an
 * exempt destination, and the most specific subnet rule that matches it
 * is an include.  Pure: whether dst is an address of this host is for
 * the caller to find out.
 */
bool		 fw_plan_udp_carried(const struct fw_config *cfg,
		    const struct addr *dst);

/* Helpers shared with the request parser. */
int		 fw_family_maxprefix(uint8_t family);	/* 32, 128 or -1 */
/* True when no bit past `prefix` is set in addr. */
bool		 fw_addr_is_network(uint8_t family, const uint8_t *addr,
		    uint8_t prefix);
/* True when lo-hi denotes every port (0-65535, or 0-0 as "unset"). */
bool		 fw_ports_all(uint16_t lo, uint16_t hi);
/* True when cfg->dns[i] repeats the address of an earlier entry (the
 * ports, local listeners, do not count). */
bool		 fw_dns_dup(const struct fw_config *cfg, int i);

#endif
