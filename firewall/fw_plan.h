/*
 * fw_plan.h - the rule planner: a struct fw_config in, the ordered list of
 * redirect rules out.  Pure code (no I/O, no netlink) so that the ordering,
 * which decides what is captured, can be unit-tested without privileges.
 *
 * For each enabled family (IPv4 first, then IPv6) the plan holds, in order:
 *   1. "fib daddr type local -> return": a destination on this host is
 *      never captured, whatever the subnets say;
 *   2. the exempt destinations (the SSH connection itself) -> return, so
 *      that 0/0 works without an explicit -x for the server;
 *   3. the subnets, most specific first: longer prefix first; for an equal
 *      prefix the narrower port range first; for both equal, an exclude
 *      before an include.  Otherwise the input order is kept.
 *      An include becomes "redirect to :port", an exclude "return".
 * Every rule matches TCP only.  Rules of a family whose flag is false
 * are left out.
 */
#ifndef CSHUTTLE_FW_PLAN_H
#define CSHUTTLE_FW_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw.h"

#define FW_MAX_SUBNETS		1024	/* per fw_config; bounds the batch size */

/* Errors of the pure layer (planner and request parser). */
#define FW_E_INVAL		-1	/* family, prefix, port or address out of range */
#define FW_E_TOOMANY		-2	/* more than FW_MAX_SUBNETS / FW_MAX_EXEMPT */
#define FW_E_NOMEM		-3

#define FW_MATCH_LOCAL		1	/* fib daddr type local */
#define FW_MATCH_DEST		2	/* daddr in addr/prefix, dport in lo-hi */

#define FW_VERDICT_RETURN	1
#define FW_VERDICT_REDIRECT	2

struct fw_rule {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		match;		/* FW_MATCH_* */
	uint8_t		verdict;	/* FW_VERDICT_* */
	uint8_t		prefix;		/* FW_MATCH_DEST: 0..32 or 0..128 */
	uint8_t		addr[16];	/* host bits cleared */
	uint16_t	port_lo;	/* 0-65535 means every port */
	uint16_t	port_hi;
	bool		exempt;		/* came from fw_config.exempt (for logs) */
};

struct fw_plan {
	uint16_t	 port;		/* redirect target */
	bool		 prerouting;	/* also install the prerouting chain */
	struct fw_rule	*rules;
	size_t		 nrules;
};

/*
 * Build the plan for cfg into *plan (which the caller owns and must
 * release with fw_plan_free, also after an error).  Returns 0 or an
 * FW_E_* code; nothing is planned for a config that fails a check.
 * A subnet whose port_lo and port_hi are both 0 means every port.
 */
int		 fw_plan_build(const struct fw_config *cfg, struct fw_plan *plan);
void		 fw_plan_free(struct fw_plan *plan);

/* "redirect 10.0.0.0/8 ports 8000-8999 -> :12300" and the like, for logs. */
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

#endif
