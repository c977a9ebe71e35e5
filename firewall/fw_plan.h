/* SPDX-License-Identifier: ISC */
/*
 * fw_plan.h - the rule planner: a struct fw_config in, the ordered lists
 * of rules out.  Pure code (no I/O, no netlink) so that the ordering,
 * which decides what is captured and what is blocked, can be unit-tested
 * without privileges.
 *
 * The nat chains (output, and prerouting when asked) hold, in order:
 *   1. "meta mark M return": cshuttle's own forwarding sockets (see
 *      fw_marked_socket) are never redirected;
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
 * The filter chains (leak protection: type filter, hooks output and, with
 * prerouting, forward, priority 0) exist only when block_leaks is set and
 * 0.0.0.0/0 (full4) and/or ::/0 (full6) is included, every port, for an
 * enabled family.  They run after the nat output chain, so captured DNS
 * and redirected TCP are already addressed to loopback there.  In order:
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

#define FW_VERDICT_RETURN	1
#define FW_VERDICT_REDIRECT	2	/* to rule to_port */
#define FW_VERDICT_ACCEPT	3
#define FW_VERDICT_REJECT	4	/* with rule reject */
#define FW_VERDICT_LOG		5	/* limit + log group; not final */

#define FW_REJECT_TCP_RESET	1
#define FW_REJECT_PORT_UNREACH	2	/* icmp or icmpv6 port-unreachable */
#define FW_REJECT_ADMIN		3	/* icmpv6 admin-prohibited */

struct fw_rule {
	uint8_t		 family;	/* 4 or 6; 0: both (no nfproto match) */
	uint8_t		 proto;		/* IPPROTO_TCP, IPPROTO_UDP; 0: any */
	uint8_t		 match;		/* FW_MATCH_* */
	uint8_t		 verdict;	/* FW_VERDICT_* */
	uint8_t		 prefix;	/* FW_MATCH_DEST: 0..32 or 0..128 */
	uint8_t		 reject;	/* FW_REJECT_*, for FW_VERDICT_REJECT */
	uint8_t		 addr[16];	/* host bits cleared */
	uint16_t	 port_lo;	/* 0-65535 means every port */
	uint16_t	 port_hi;
	uint16_t	 to_port;	/* FW_VERDICT_REDIRECT */
	uint16_t	 group;		/* FW_VERDICT_LOG: nflog group */
	uint32_t	 mark;		/* FW_MATCH_MARK */
	bool		 exempt;	/* came from fw_config.exempt (for logs) */
	bool		 dns;		/* came from fw_config.dns (for logs) */
	const char	*note;		/* static text shown in logs, or NULL */
};

struct fw_plan {
	uint16_t	 port;		/* redirect target of the subnets */
	bool		 prerouting;	/* also install the prerouting chain
					   (and, with filter rules, forward) */
	uint32_t	 mark;		/* fw_mark_for_port(port) */
	uint16_t	 log_group;	/* nflog group of the blocked packets */
	struct fw_rule	*rules;		/* the nat chains */
	size_t		 nrules;
	struct fw_rule	*filter;	/* the filter chains; none if 0 */
	size_t		 nfilter;
};

/*
 * Build the plan for cfg into *plan (which the caller owns and must
 * release with fw_plan_free, also after an error).  Returns 0 or an
 * FW_E_* code; nothing is planned for a config that fails a check.
 * A subnet whose port_lo and port_hi are both 0 means every port.
 */
int		 fw_plan_build(const struct fw_config *cfg, struct fw_plan *plan);
void		 fw_plan_free(struct fw_plan *plan);

/* "redirect 10.0.0.0/8 ports 8000-8999 -> :12300" and the like, for logs;
 * to_port is used for a redirect whose rule has none. */
const char	*fw_rule_format(const struct fw_rule *r, uint16_t to_port,
		    char *buf, size_t len);
/* Text for an FW_E_* code. */
const char	*fw_strerror(int err);

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
