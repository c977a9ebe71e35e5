/* SPDX-License-Identifier: ISC */
/*
 * fw_plan.c - order the redirect rules; see fw_plan.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_plan.h"

/* A subnet waiting to be sorted, with its input position as tie-break. */
struct fw_sortent {
	const struct subnet	*s;
	size_t			 idx;
};

int
fw_family_maxprefix(uint8_t family)
{
	if (family == 4)
		return 32;
	if (family == 6)
		return 128;
	return -1;
}

bool
fw_addr_is_network(uint8_t family, const uint8_t *addr, uint8_t prefix)
{
	int max = fw_family_maxprefix(family);
	int i;

	if (max < 0 || prefix > max)
		return false;
	for (i = prefix; i < max; i++) {
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	}
	return true;
}

bool
fw_ports_all(uint16_t lo, uint16_t hi)
{
	return lo == 0 && (hi == 0 || hi == 65535);
}

/* Width of a port range; "every port" is the widest. */
static unsigned int
fw_port_width(uint16_t lo, uint16_t hi)
{
	if (fw_ports_all(lo, hi))
		return 65535;
	return (unsigned int)hi - lo;
}

static int
fw_sort_cmp(const void *a, const void *b)
{
	const struct fw_sortent *x = a, *y = b;
	unsigned int wx, wy;

	if (x->s->prefix != y->s->prefix)
		return x->s->prefix > y->s->prefix ? -1 : 1;
	wx = fw_port_width(x->s->port_lo, x->s->port_hi);
	wy = fw_port_width(y->s->port_lo, y->s->port_hi);
	if (wx != wy)
		return wx < wy ? -1 : 1;
	if (x->s->exclude != y->s->exclude)
		return x->s->exclude ? -1 : 1;
	/* qsort is not stable: keep the user's order for equal rules. */
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

static int
fw_check_subnet(const struct subnet *s)
{
	int max = fw_family_maxprefix(s->family);

	if (max < 0 || s->prefix > max)
		return FW_E_INVAL;
	if (s->port_lo > s->port_hi)
		return FW_E_INVAL;
	return 0;
}

/* Copy addr keeping only the first `prefix` bits. */
static void
fw_copy_masked(uint8_t *dst, const uint8_t *src, uint8_t prefix)
{
	int i;

	memset(dst, 0, 16);
	if (prefix > 128)
		prefix = 128;
	for (i = 0; i < prefix / 8; i++)
		dst[i] = src[i];
	if (prefix % 8 && i < 16)
		dst[i] = src[i] & (uint8_t)(0xff << (8 - prefix % 8));
}

uint32_t
fw_mark_for_port(uint16_t port)
{
	return FW_MARK_BASE | port;
}

uint32_t
fw_tproxy_mark_for_port(uint16_t port)
{
	return FW_TPROXY_MARK_BASE | port;
}

uint32_t
fw_reply_mark_for_port(uint16_t port)
{
	return FW_REPLY_MARK_BASE | port;
}

const char *
fw_tmark_invalid(uint32_t mark)
{
	uint32_t	range = mark & FW_MARK_RANGE_MASK;

	if (mark == 0)
		return "the mark 0 marks nothing";
	/* The mark is also the number of the routing table. */
	if (mark == 253 || mark == 254 || mark == 255)
		return "tables 253, 254 and 255 are the kernel's default, main "
		    "and local tables";
	/* T's own range too: a rule there would be taken for the policy
	 * routing of another port's instance, and removed when that one's
	 * table is missing. */
	if (range == FW_MARK_BASE || range == FW_TPROXY_MARK_BASE ||
	    range == FW_REPLY_MARK_BASE)
		return "0x6373xxxx, 0x6375xxxx and 0x6376xxxx are cshuttle's "
		    "own marks";
	return NULL;
}

/*
 * UDP that is never captured, whatever the subnets say: broadcast,
 * multicast and link-local only make sense on the local link, and DHCP
 * configures it.  The first entries (bind_only) are also refused as the
 * source of a reply socket, though the rules need not name them (they
 * are local: rule 3 keeps them).
 */
static const struct fw_never {
	uint8_t		 family;
	const char	*addr;
	uint8_t		 prefix;
	uint16_t	 port_lo, port_hi;
	bool		 bind_only;
	const char	*note;
} fw_never[] = {
	{ 4, "0.0.0.0", 8, 0, 65535, true, "this network" },
	{ 4, "127.0.0.0", 8, 0, 65535, true, "loopback" },
	{ 6, "::", 128, 0, 65535, true, "unspecified" },
	{ 6, "::1", 128, 0, 65535, true, "loopback" },
	{ 6, "::ffff:0:0", 96, 0, 65535, true, "v4-mapped" },
	{ 4, "255.255.255.255", 32, 0, 65535, false, "broadcast" },
	{ 4, "224.0.0.0", 4, 0, 65535, false, "multicast" },
	{ 4, "169.254.0.0", 16, 0, 65535, false, "link-local" },
	{ 4, "0.0.0.0", 0, 67, 68, false, "dhcp" },
	{ 6, "ff00::", 8, 0, 65535, false, "multicast" },
	{ 6, "fe80::", 10, 0, 65535, false, "link-local" },
	{ 6, "::", 0, 546, 547, false, "dhcpv6" },
};
#define FW_NNEVER	(sizeof(fw_never) / sizeof(fw_never[0]))

bool
fw_dns_dup(const struct fw_config *cfg, int i)
{
	int j;

	for (j = 0; j < i; j++) {
		if (addr_same_host(&cfg->dns[j], &cfg->dns[i]))
			return true;
	}
	return false;
}

/* True when the first `prefix` bits of a and b are equal. */
static bool
fw_same_net(const uint8_t *a, const uint8_t *b, uint8_t prefix)
{
	uint8_t x[16], y[16];

	fw_copy_masked(x, a, prefix);
	fw_copy_masked(y, b, prefix);
	return memcmp(x, y, sizeof(x)) == 0;
}

/* A list of rules being built; its room was counted beforehand. */
struct fw_rlist {
	struct fw_rule	*v;
	size_t		 n;
	size_t		 cap;
};

static struct fw_rule *
fw_radd(struct fw_rlist *l, uint8_t family, uint8_t proto, uint8_t match,
    uint8_t verdict)
{
	struct fw_rule *r;

	if (l->n >= l->cap)
		abort();	/* a counting bug, never input */
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->proto = proto;
	r->match = match;
	r->verdict = verdict;
	r->port_hi = 65535;
	return r;
}

/* A FW_MATCH_DEST rule for addr (text, a constant of this file)/prefix. */
static struct fw_rule *
fw_radd_net(struct fw_rlist *l, uint8_t family, uint8_t proto,
    const char *addr, uint8_t prefix, uint8_t verdict, const char *note)
{
	struct fw_rule *r;

	r = fw_radd(l, family, proto, FW_MATCH_DEST, verdict);
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, addr, r->addr) != 1)
		abort();
	r->prefix = prefix;
	r->note = note;
	return r;
}

/* The subnets of one family, sorted most specific first; n entries. */
static size_t
fw_sorted(const struct fw_config *cfg, int fam, struct fw_sortent *ents)
{
	size_t nsub = cfg->subnets != NULL ? cfg->subnets->n : 0, i, n = 0;

	for (i = 0; i < nsub; i++) {
		if (cfg->subnets->v[i].family != fam)
			continue;
		ents[n].s = &cfg->subnets->v[i];
		ents[n].idx = i;
		n++;
	}
	if (n > 1)
		qsort(ents, n, sizeof(*ents), fw_sort_cmp);
	return n;
}

static void
fw_set_dest(struct fw_rule *r, const struct subnet *s)
{
	r->prefix = s->prefix;
	fw_copy_masked(r->addr, s->addr, s->prefix);
	if (fw_ports_all(s->port_lo, s->port_hi)) {
		r->port_lo = 0;
		r->port_hi = 65535;
	} else {
		r->port_lo = s->port_lo;
		r->port_hi = s->port_hi;
	}
}

/* A RETURN rule of proto for each exempt host of family fam: the TCP
 * redirect and the UDP capture leave the same hosts alone. */
static void
fw_plan_exempts(struct fw_rlist *l, const struct fw_config *cfg,
    uint8_t fam, uint8_t proto)
{
	struct fw_rule	*r;
	size_t		 i;

	for (i = 0; i < (size_t)cfg->nexempt; i++) {
		if (cfg->exempt[i].family != fam)
			continue;
		r = fw_radd(l, fam, proto, FW_MATCH_DEST, FW_VERDICT_RETURN);
		r->prefix = (uint8_t)fw_family_maxprefix(fam);
		memcpy(r->addr, cfg->exempt[i].bytes,
		    addr_size(cfg->exempt[i].family));
		/* Port 0 exempts the whole host. */
		r->port_lo = cfg->exempt[i].port;
		r->port_hi = cfg->exempt[i].port ? cfg->exempt[i].port : 65535;
		r->exempt = true;
		r->note = "exempt";
	}
}

static void
fw_plan_nat(const struct fw_config *cfg, struct fw_plan *plan,
    struct fw_rlist *l, struct fw_sortent *ents)
{
	struct fw_rule *r;
	size_t i, n;
	int fam, k;
	static const uint8_t protos[2] = { IPPROTO_UDP, IPPROTO_TCP };

	r = fw_radd(l, 0, 0, FW_MATCH_MARK, FW_VERDICT_RETURN);
	r->mark = plan->mark;
	if (plan->udp4 || plan->udp6) {
		r = fw_radd(l, 0, 0, FW_MATCH_MARK, FW_VERDICT_RETURN);
		r->mark = plan->reply_mark;
		r->note = "udp reply";
	}

	for (i = 0; i < (size_t)cfg->ndns; i++) {
		for (k = 0; k < 2; k++) {
			r = fw_radd(l, cfg->dns[i].family, protos[k],
			    FW_MATCH_DEST, FW_VERDICT_REDIRECT);
			r->prefix = fw_family_maxprefix(cfg->dns[i].family);
			memcpy(r->addr, cfg->dns[i].bytes,
			    addr_size(cfg->dns[i].family));
			r->port_lo = r->port_hi = 53;
			r->to_port = cfg->dns[i].port;
			r->dns = true;
			r->note = "dns";
		}
	}

	for (fam = 4; fam <= 6; fam += 2) {
		if ((fam == 4 && !cfg->ipv4) || (fam == 6 && !cfg->ipv6))
			continue;

		fw_radd(l, fam, IPPROTO_TCP, FW_MATCH_LOCAL, FW_VERDICT_RETURN);

		fw_plan_exempts(l, cfg, (uint8_t)fam, IPPROTO_TCP);

		n = fw_sorted(cfg, fam, ents);
		for (i = 0; i < n; i++) {
			r = fw_radd(l, fam, IPPROTO_TCP, FW_MATCH_DEST,
			    ents[i].s->exclude ? FW_VERDICT_RETURN :
			    FW_VERDICT_REDIRECT);
			fw_set_dest(r, ents[i].s);
			if (r->verdict == FW_VERDICT_REDIRECT)
				r->to_port = plan->port;
		}
	}
}

/* 0/0 (or ::/0), every port, included, in an enabled family. */
static bool
fw_full(const struct fw_config *cfg, int fam)
{
	const struct subnet *s;
	size_t i, nsub = cfg->subnets != NULL ? cfg->subnets->n : 0;

	if ((fam == 4 && !cfg->ipv4) || (fam == 6 && !cfg->ipv6))
		return false;
	for (i = 0; i < nsub; i++) {
		s = &cfg->subnets->v[i];
		if (s->family == fam && !s->exclude && s->prefix == 0 &&
		    fw_ports_all(s->port_lo, s->port_hi))
			return true;
	}
	return false;
}

/* The log and reject pair that ends one blocked class of packets. */
static void
fw_plan_block(const struct fw_plan *plan, struct fw_rlist *l, uint8_t fam,
    uint8_t proto, const struct subnet *s, uint8_t reject, const char *note)
{
	struct fw_rule *r;
	int k;

	for (k = 0; k < 2; k++) {
		r = fw_radd(l, fam, proto, FW_MATCH_DEST,
		    k == 0 ? FW_VERDICT_LOG : FW_VERDICT_REJECT);
		if (s != NULL)
			fw_set_dest(r, s);
		r->group = plan->log_group;
		r->reject = reject;
		r->note = note;
	}
}

/* True when every address of a is in b (b is no more specific). */
static bool
fw_inside(const struct subnet *a, const struct subnet *b)
{
	uint8_t x[16], y[16];

	if (a->family != b->family || a->prefix < b->prefix)
		return false;
	fw_copy_masked(x, a->addr, b->prefix);
	fw_copy_masked(y, b->addr, b->prefix);
	return memcmp(x, y, sizeof(x)) == 0;
}

/*
 * UDP carve-outs of a full family: an exclude is accepted; an include
 * more specific than a later exclude (10.1.0.0/16 inside -x 10.0.0.0/8)
 * is blocked before that exclude can accept it.  The 0/0 include itself
 * is the final reject.
 */
static void
fw_plan_excludes(const struct fw_config *cfg, const struct fw_plan *plan,
    struct fw_rlist *l, struct fw_sortent *ents, int fam)
{
	struct fw_rule *r;
	size_t i, j, n;
	bool later_exclude;	/* i lies inside an exclude after it */

	n = fw_sorted(cfg, fam, ents);
	for (i = 0; i < n; i++) {
		if (ents[i].s->exclude) {
			r = fw_radd(l, fam, IPPROTO_UDP, FW_MATCH_DEST,
			    FW_VERDICT_ACCEPT);
			fw_set_dest(r, ents[i].s);
			r->note = "excluded";
			continue;
		}
		if (ents[i].s->prefix == 0)
			continue;
		for (j = i + 1, later_exclude = false; j < n; j++)
			later_exclude |= ents[j].s->exclude &&
			    fw_inside(ents[i].s, ents[j].s);
		if (later_exclude)
			fw_plan_block(plan, l, fam, IPPROTO_UDP, ents[i].s,
			    FW_REJECT_PORT_UNREACH, "tunnelled");
	}
}

static void
fw_plan_filter(const struct fw_config *cfg, struct fw_plan *plan,
    struct fw_rlist *l, struct fw_sortent *ents, bool full4, bool full6)
{
	struct fw_rule *r;
	bool all6 = full4 && !full6;	/* every IPv6 packet is blocked */
	size_t i;

	r = fw_radd(l, 0, 0, FW_MATCH_MARK, FW_VERDICT_ACCEPT);
	r->mark = plan->mark;
	/* Carried UDP is rerouted through lo ("oif lo" would take it too)
	 * and the replies go where "udp_reply" lets them: neither is a
	 * leak, whatever the rest of this chain says. */
	if (plan->udp4 || plan->udp6) {
		r = fw_radd(l, 0, 0, FW_MATCH_MARK, FW_VERDICT_ACCEPT);
		r->mark = plan->reply_mark;
		r->note = "udp reply";
		r = fw_radd(l, 0, 0, FW_MATCH_MARK, FW_VERDICT_ACCEPT);
		r->mark = plan->tproxy_mark;
		r->note = "udp carried";
	}
	fw_radd(l, 0, 0, FW_MATCH_LOOPBACK, FW_VERDICT_ACCEPT);
	fw_radd(l, 0, 0, FW_MATCH_LOCAL, FW_VERDICT_ACCEPT);
	fw_radd(l, 0, 0, FW_MATCH_REPLY, FW_VERDICT_ACCEPT);

	/* Only IPv6 TCP is ever blocked: IPv4 TCP is redirected instead. */
	for (i = 0; all6 && i < (size_t)cfg->nexempt; i++) {
		if (cfg->exempt[i].family != 6)
			continue;
		r = fw_radd(l, 6, IPPROTO_TCP, FW_MATCH_DEST, FW_VERDICT_ACCEPT);
		r->prefix = 128;
		memcpy(r->addr, cfg->exempt[i].bytes, 16);
		r->port_lo = cfg->exempt[i].port;
		r->port_hi = cfg->exempt[i].port ? cfg->exempt[i].port : 65535;
		r->exempt = true;
		r->note = "exempt";
	}

	if (full4) {
		fw_radd_net(l, 4, 0, "169.254.0.0", 16, FW_VERDICT_ACCEPT,
		    "link-local");
		fw_radd_net(l, 4, 0, "224.0.0.0", 24, FW_VERDICT_ACCEPT,
		    "link-local multicast");
		fw_radd_net(l, 4, 0, "255.255.255.255", 32, FW_VERDICT_ACCEPT,
		    "broadcast");
		r = fw_radd_net(l, 4, IPPROTO_UDP, "0.0.0.0", 0,
		    FW_VERDICT_ACCEPT, "dhcp");
		r->port_lo = 67;
		r->port_hi = 68;
	}
	fw_radd_net(l, 6, 0, "fe80::", 10, FW_VERDICT_ACCEPT, "link-local");
	fw_radd_net(l, 6, 0, "ff02::", 16, FW_VERDICT_ACCEPT,
	    "link-local multicast");
	r = fw_radd_net(l, 6, IPPROTO_UDP, "::", 0, FW_VERDICT_ACCEPT, "dhcpv6");
	r->port_lo = 546;
	r->port_hi = 547;

	/* Without --dns, lookups still go to the resolvers of this network,
	 * as before: rejecting them would break every name rather than plug
	 * a leak the user asked about.  With --dns the captured servers are
	 * redirected before this chain, and any other port 53 is a leak. */
	if (cfg->ndns == 0) {
		if (full4) {
			r = fw_radd_net(l, 4, IPPROTO_UDP, "0.0.0.0", 0,
			    FW_VERDICT_ACCEPT, "dns, not captured");
			r->port_lo = r->port_hi = 53;
		}
		r = fw_radd_net(l, 6, IPPROTO_UDP, "::", 0, FW_VERDICT_ACCEPT,
		    "dns, not captured");
		r->port_lo = r->port_hi = 53;
		if (all6) {
			r = fw_radd_net(l, 6, IPPROTO_TCP, "::", 0,
			    FW_VERDICT_ACCEPT, "dns, not captured");
			r->port_lo = r->port_hi = 53;
		}
	}

	if (full4)
		fw_plan_excludes(cfg, plan, l, ents, 4);
	if (full6)
		fw_plan_excludes(cfg, plan, l, ents, 6);

	if (all6) {
		r = fw_radd(l, 6, 0, FW_MATCH_DEST, FW_VERDICT_LOG);
		r->group = plan->log_group;
		r->note = "ipv6 not tunnelled";
		r = fw_radd(l, 6, IPPROTO_TCP, FW_MATCH_DEST, FW_VERDICT_REJECT);
		r->reject = FW_REJECT_TCP_RESET;
		r->note = "ipv6 not tunnelled";
		r = fw_radd(l, 6, 0, FW_MATCH_DEST, FW_VERDICT_REJECT);
		r->reject = FW_REJECT_ADMIN;
		r->note = "ipv6 not tunnelled";
	}
	if (full4)
		fw_plan_block(plan, l, 4, IPPROTO_UDP, NULL,
		    FW_REJECT_PORT_UNREACH, "udp not tunnelled");
	if (full6)
		fw_plan_block(plan, l, 6, IPPROTO_UDP, NULL,
		    FW_REJECT_PORT_UNREACH, "udp not tunnelled");
}

/* Where the UDP of family fam is delivered: its socket's address, or
 * the port alone for a wildcard.  false when there is no such socket. */
static bool
fw_udp_target(const struct fw_config *cfg, int fam, struct fw_rule *r)
{
	int	i;

	for (i = 0; i < cfg->nudp; i++) {
		if (cfg->udp_listen[i].family != fam)
			continue;
		r->to_any = addr_is_any(&cfg->udp_listen[i]);
		if (!r->to_any)
			memcpy(r->to_addr, cfg->udp_listen[i].bytes,
			    addr_size((uint8_t)fam));
		r->to_port = cfg->port;
		return true;
	}
	return false;
}

static bool
fw_udp_family(const struct fw_plan *plan, int fam)
{
	return (fam == 4 && plan->udp4) || (fam == 6 && plan->udp6);
}

/*
 * Rules 1-6 of "udp_output" (fw_plan.h); for "udp_lan" (lan), each
 * include is the tproxy itself.
 */
static void
fw_plan_udp_rules(const struct fw_config *cfg, const struct fw_plan *plan,
    struct fw_rlist *l, struct fw_sortent *ents, bool lan)
{
	const struct fw_never	*nv;
	struct fw_rule		*r;
	size_t			 i, n;
	int			 fam;

	r = fw_radd(l, 0, 0, FW_MATCH_MARK, FW_VERDICT_RETURN);
	r->mark = plan->mark;
	r = fw_radd(l, 0, 0, FW_MATCH_MARK, FW_VERDICT_RETURN);
	r->mark = plan->reply_mark;
	r->note = "udp reply";
	for (i = 0; i < (size_t)cfg->ndns; i++) {
		r = fw_radd(l, cfg->dns[i].family, IPPROTO_UDP, FW_MATCH_DEST,
		    FW_VERDICT_RETURN);
		r->prefix = (uint8_t)fw_family_maxprefix(cfg->dns[i].family);
		memcpy(r->addr, cfg->dns[i].bytes, addr_size(cfg->dns[i].family));
		r->port_lo = r->port_hi = 53;
		r->dns = true;
		r->note = "dns";
	}
	for (fam = 4; fam <= 6; fam += 2) {
		if (!fw_udp_family(plan, fam))
			continue;
		fw_radd(l, (uint8_t)fam, IPPROTO_UDP, FW_MATCH_LOCAL,
		    FW_VERDICT_RETURN);
		for (nv = fw_never; nv < fw_never + FW_NNEVER; nv++) {
			if (nv->family != fam || nv->bind_only)
				continue;
			r = fw_radd_net(l, (uint8_t)fam, IPPROTO_UDP, nv->addr,
			    nv->prefix, FW_VERDICT_RETURN, nv->note);
			r->port_lo = nv->port_lo;
			r->port_hi = nv->port_hi;
		}
		fw_plan_exempts(l, cfg, (uint8_t)fam, IPPROTO_UDP);
		n = fw_sorted(cfg, fam, ents);
		for (i = 0; i < n; i++) {
			if (ents[i].s->exclude) {
				r = fw_radd(l, (uint8_t)fam, IPPROTO_UDP,
				    FW_MATCH_DEST, FW_VERDICT_RETURN);
				fw_set_dest(r, ents[i].s);
				continue;
			}
			r = fw_radd(l, (uint8_t)fam, IPPROTO_UDP, FW_MATCH_DEST,
			    lan ? FW_VERDICT_TPROXY : FW_VERDICT_MARK);
			fw_set_dest(r, ents[i].s);
			r->set_mark = plan->tproxy_mark;
			if (lan)
				(void)fw_udp_target(cfg, fam, r);
		}
	}
}

/*
 * "udp_prerouting": the marked packets coming back in through lo, then
 * with prerouting the gates of the allowed sources of a captured family.
 * Returns how many gates there are.
 */
static size_t
fw_plan_udp_pre(const struct fw_config *cfg, const struct fw_plan *plan,
    struct fw_rlist *l)
{
	struct fw_rule	*r;
	size_t		 ngates = 0;
	int		 fam, i;

	for (fam = 4; fam <= 6; fam += 2) {
		if (!fw_udp_family(plan, fam))
			continue;
		r = fw_radd(l, (uint8_t)fam, IPPROTO_UDP, FW_MATCH_MARK,
		    FW_VERDICT_TPROXY);
		r->mark = plan->tproxy_mark;
		r->set_mark = plan->tproxy_mark;
		r->note = "udp carried";
		(void)fw_udp_target(cfg, fam, r);
	}
	for (i = 0; cfg->prerouting && i < cfg->nallow; i++) {
		if (!fw_udp_family(plan, cfg->allow[i].family))
			continue;
		r = fw_radd(l, cfg->allow[i].family, 0, FW_MATCH_SOURCE,
		    FW_VERDICT_GOTO);
		r->goto_chain = FW_CHAIN_UDP_LAN;
		r->prefix = cfg->allow[i].prefix;
		fw_copy_masked(r->addr, cfg->allow[i].addr, r->prefix);
		r->note = "allowed source";
		ngates++;
	}
	return ngates;
}

/* "udp_reply": mark R only towards this host or the allowed sources. */
static void
fw_plan_udp_reply(const struct fw_config *cfg, const struct fw_plan *plan,
    struct fw_rlist *l)
{
	struct fw_rule	*r;
	int		 i;

	fw_radd(l, 0, 0, FW_MATCH_LOCAL, FW_VERDICT_RETURN);
	for (i = 0; cfg->prerouting && i < cfg->nallow; i++) {
		r = fw_radd(l, cfg->allow[i].family, 0, FW_MATCH_DEST,
		    FW_VERDICT_RETURN);
		r->prefix = cfg->allow[i].prefix;
		fw_copy_masked(r->addr, cfg->allow[i].addr, r->prefix);
		r->note = "allowed source";
	}
	r = fw_radd(l, 0, 0, FW_MATCH_MARK, FW_VERDICT_DROP);
	r->mark = plan->reply_mark;
	r->note = "udp reply elsewhere";
}

bool
fw_plan_udp_carried(const struct fw_config *cfg, const struct addr *dst)
{
	const struct fw_never	*nv;
	const struct subnet	*s, *best = NULL;
	struct fw_sortent	 a, b;
	uint8_t			 net[16];
	size_t			 i, nsub, best_idx = 0;
	int			 fam = dst->family;

	if ((fam != 4 || !cfg->udp4) && (fam != 6 || !cfg->udp6))
		return false;
	if (dst->port == 0)
		return false;
	for (nv = fw_never; nv < fw_never + FW_NNEVER; nv++) {
		if (nv->family != fam || dst->port < nv->port_lo ||
		    dst->port > nv->port_hi)
			continue;
		if (inet_pton(fam == 4 ? AF_INET : AF_INET6, nv->addr, net) != 1)
			abort();
		if (fw_same_net(dst->bytes, net, nv->prefix))
			return false;
	}
	for (i = 0; i < (size_t)cfg->ndns; i++)
		if (dst->port == 53 && addr_same_host(&cfg->dns[i], dst))
			return false;
	for (i = 0; i < (size_t)cfg->nexempt; i++)
		if (addr_same_host(&cfg->exempt[i], dst) &&
		    (cfg->exempt[i].port == 0 || cfg->exempt[i].port == dst->port))
			return false;
	/* The rule the planner would put first among those that match. */
	nsub = cfg->subnets != NULL ? cfg->subnets->n : 0;
	for (i = 0; i < nsub; i++) {
		s = &cfg->subnets->v[i];
		if (s->family != fam || fw_check_subnet(s) != 0 ||
		    !fw_same_net(dst->bytes, s->addr, s->prefix))
			continue;
		if (!fw_ports_all(s->port_lo, s->port_hi) &&
		    (dst->port < s->port_lo || dst->port > s->port_hi))
			continue;
		a.s = s;
		a.idx = i;
		if (best != NULL) {
			b.s = best;
			b.idx = best_idx;
			if (fw_sort_cmp(&a, &b) >= 0)
				continue;
		}
		best = s;
		best_idx = i;
	}
	return best != NULL && !best->exclude;
}

/* A copy of src (n rules) into chain ch, each rule with the owner
 * match of cfg (none when host-wide). */
static int
fw_plan_copy(struct fw_plan *plan, int ch, const struct fw_rule *src,
    size_t n, const struct fw_config *cfg, bool scoped)
{
	size_t	i;

	if (n == 0)
		return 0;
	if ((plan->chain[ch] = calloc(n, sizeof(*src))) == NULL)
		return FW_E_NOMEM;
	memcpy(plan->chain[ch], src, n * sizeof(*src));
	plan->nchain[ch] = n;
	for (i = 0; scoped && i < n; i++) {
		if (cfg->has_user) {
			plan->chain[ch][i].owner |= FW_OWNER_UID;
			plan->chain[ch][i].uid = (uint32_t)cfg->user;
		}
		if (cfg->has_group) {
			plan->chain[ch][i].owner |= FW_OWNER_GID;
			plan->chain[ch][i].gid = (uint32_t)cfg->group;
		}
	}
	return 0;
}

/* One "saddr in A goto target" rule per allowed source network. */
static int
fw_plan_gates(const struct fw_config *cfg, struct fw_plan *plan, int ch,
    int target)
{
	struct fw_rule	*r;
	int		 i;

	if (cfg->nallow == 0)
		return 0;
	if ((plan->chain[ch] = calloc((size_t)cfg->nallow, sizeof(*r))) == NULL)
		return FW_E_NOMEM;
	for (i = 0; i < cfg->nallow; i++) {
		r = &plan->chain[ch][i];
		r->family = cfg->allow[i].family;
		r->match = FW_MATCH_SOURCE;
		r->verdict = FW_VERDICT_GOTO;
		r->goto_chain = (uint8_t)target;
		r->prefix = cfg->allow[i].prefix;
		fw_copy_masked(r->addr, cfg->allow[i].addr, r->prefix);
		r->port_hi = 65535;
		r->note = "allowed source";
	}
	plan->nchain[ch] = (size_t)cfg->nallow;
	return 0;
}

/* Drop what reaches listener a (its port, and its address unless it is
 * the wildcard) without having been redirected. */
static void
fw_plan_unredirected(struct fw_rlist *l, const struct addr *a, uint8_t proto,
    const char *note)
{
	struct fw_rule	*r;

	r = fw_radd(l, a->family, proto, FW_MATCH_UNREDIRECTED, FW_VERDICT_DROP);
	r->prefix = addr_is_any(a) ? 0 : (uint8_t)fw_family_maxprefix(a->family);
	fw_copy_masked(r->addr, a->bytes, r->prefix);
	r->port_lo = r->port_hi = a->port;
	r->note = note;
}

static void
fw_plan_input(const struct fw_config *cfg, struct fw_rlist *l)
{
	int	i;

	for (i = 0; i < cfg->nlisten; i++)
		fw_plan_unredirected(l, &cfg->listen[i], IPPROTO_TCP,
		    "not redirected");
	for (i = 0; i < cfg->ndns; i++) {
		if (cfg->dns_listen[i].family == 0)
			continue;	/* not known: nothing to guard */
		fw_plan_unredirected(l, &cfg->dns_listen[i], IPPROTO_UDP,
		    "dns, not redirected");
		fw_plan_unredirected(l, &cfg->dns_listen[i], IPPROTO_TCP,
		    "dns, not redirected");
	}
}

static int
fw_plan_check(const struct fw_config *cfg)
{
	size_t	nsub = cfg->subnets != NULL ? cfg->subnets->n : 0, i;
	int	ret;

	if (cfg->port == 0 || cfg->nexempt < 0 || cfg->ndns < 0 ||
	    cfg->nallow < 0 || cfg->nlisten < 0)
		return FW_E_INVAL;
	if (nsub > FW_MAX_SUBNETS || cfg->nexempt > FW_MAX_EXEMPT ||
	    cfg->ndns > FW_MAX_DNS || cfg->nallow > FW_MAX_ALLOW ||
	    cfg->nlisten > FW_MAX_LISTEN)
		return FW_E_TOOMANY;
	for (i = 0; i < nsub; i++) {
		if ((ret = fw_check_subnet(&cfg->subnets->v[i])) != 0)
			return ret;
	}
	for (i = 0; i < (size_t)cfg->nexempt; i++) {
		if (fw_family_maxprefix(cfg->exempt[i].family) < 0)
			return FW_E_INVAL;
	}
	for (i = 0; i < (size_t)cfg->ndns; i++) {
		if (fw_family_maxprefix(cfg->dns[i].family) < 0 ||
		    cfg->dns[i].port == 0 || fw_dns_dup(cfg, (int)i))
			return FW_E_INVAL;
		if (cfg->dns_listen[i].family != 0 &&
		    (cfg->dns_listen[i].family != cfg->dns[i].family ||
		    cfg->dns_listen[i].port != cfg->dns[i].port))
			return FW_E_INVAL;
	}
	for (i = 0; i < (size_t)cfg->nallow; i++) {
		if (fw_family_maxprefix(cfg->allow[i].family) < 0 ||
		    cfg->allow[i].prefix >
		    fw_family_maxprefix(cfg->allow[i].family))
			return FW_E_INVAL;
	}
	for (i = 0; i < (size_t)cfg->nlisten; i++) {
		if (fw_family_maxprefix(cfg->listen[i].family) < 0 ||
		    cfg->listen[i].port != cfg->port)
			return FW_E_INVAL;
	}
	if (cfg->tmark != 0 && fw_tmark_invalid(cfg->tmark) != NULL)
		return FW_E_INVAL;
	if (cfg->nudp < 0 || cfg->nudp > FW_MAX_LISTEN)
		return FW_E_INVAL;
	for (i = 0; i < (size_t)cfg->nudp; i++) {
		if (fw_family_maxprefix(cfg->udp_listen[i].family) < 0 ||
		    cfg->udp_listen[i].port != cfg->port)
			return FW_E_INVAL;
	}
	/* A captured family needs its socket, and its TCP rules. */
	for (i = 4; i <= 6; i += 2) {
		struct fw_rule r;

		if ((i == 4 && !cfg->udp4) || (i == 6 && !cfg->udp6))
			continue;
		if ((i == 4 && !cfg->ipv4) || (i == 6 && !cfg->ipv6) ||
		    !fw_udp_target(cfg, (int)i, &r))
			return FW_E_INVAL;
	}
	return 0;
}

int
fw_plan_build(const struct fw_config *cfg, struct fw_plan *plan)
{
	struct fw_sortent *ents = NULL;
	struct fw_rlist nat, filter, input, udp;
	size_t nsub, cap, ngates;
	bool full4, full6, scoped;
	int ret;

	memset(plan, 0, sizeof(*plan));
	memset(&nat, 0, sizeof(nat));
	memset(&filter, 0, sizeof(filter));
	memset(&input, 0, sizeof(input));
	memset(&udp, 0, sizeof(udp));
	if ((ret = fw_plan_check(cfg)) != 0)
		return ret;
	nsub = cfg->subnets != NULL ? cfg->subnets->n : 0;

	plan->port = cfg->port;
	plan->prerouting = cfg->prerouting;
	plan->mark = fw_mark_for_port(cfg->port);
	plan->log_group = cfg->port;
	plan->tproxy_mark = cfg->tmark != 0 ? cfg->tmark :
	    fw_tproxy_mark_for_port(cfg->port);
	plan->reply_mark = fw_reply_mark_for_port(cfg->port);
	plan->udp4 = cfg->udp4;
	plan->udp6 = cfg->udp6;
	full4 = fw_full(cfg, 4);
	full6 = fw_full(cfg, 6);
	scoped = cfg->has_user || cfg->has_group;

	/* The marks, two per nameserver, two local rules at most, then
	 * every exempt and subnet once. */
	cap = 2 + 2 * (size_t)cfg->ndns + 2 + (size_t)cfg->nexempt + nsub;
	ret = FW_E_NOMEM;
	if ((nat.v = calloc(cap, sizeof(*nat.v))) == NULL)
		goto out;
	nat.cap = cap;
	if (nsub > 0 && (ents = calloc(nsub, sizeof(*ents))) == NULL)
		goto out;
	fw_plan_nat(cfg, plan, &nat, ents);
	if ((ret = fw_plan_copy(plan, FW_CHAIN_OUTPUT, nat.v, nat.n, cfg,
	    scoped)) != 0)
		goto out;
	if (cfg->prerouting && ((ret = fw_plan_copy(plan, FW_CHAIN_LAN, nat.v,
	    nat.n, cfg, false)) != 0 || (ret = fw_plan_gates(cfg, plan,
	    FW_CHAIN_PREROUTING, FW_CHAIN_LAN)) != 0))
		goto out;

	if (cfg->block_leaks && (full4 || full6)) {
		/* 4 generic and 2 udp, exempts, 4 + 3 fixed, 3 dns, 2 per
		 * subnet, 3 + 2 + 2 */
		cap = 6 + (size_t)cfg->nexempt + 7 + 3 + 2 * nsub + 7;
		ret = FW_E_NOMEM;
		if ((filter.v = calloc(cap, sizeof(*filter.v))) == NULL)
			goto out;
		filter.cap = cap;
		fw_plan_filter(cfg, plan, &filter, ents, full4, full6);
		if ((ret = fw_plan_copy(plan, FW_CHAIN_LEAK_OUTPUT, filter.v,
		    filter.n, cfg, scoped)) != 0)
			goto out;
		if (cfg->prerouting && ((ret = fw_plan_copy(plan,
		    FW_CHAIN_LEAK_LAN, filter.v, filter.n, cfg, false)) != 0 ||
		    (ret = fw_plan_gates(cfg, plan, FW_CHAIN_LEAK_FORWARD,
		    FW_CHAIN_LEAK_LAN)) != 0))
			goto out;
	}

	if (cfg->udp4 || cfg->udp6) {
		/* udp_output or udp_lan: 2 marks, the nameservers, per family
		 * 1 local, the never-captured set, the exempts, the
		 * subnets; udp_prerouting: 2 + the gates; udp_reply: 2 +
		 * the allowed sources. */
		cap = 2 + (size_t)cfg->ndns + 2 * (1 + FW_NNEVER) +
		    (size_t)cfg->nexempt + nsub + 2 + 2 * (size_t)cfg->nallow +
		    2;
		ret = FW_E_NOMEM;
		if ((udp.v = calloc(cap, sizeof(*udp.v))) == NULL)
			goto out;
		udp.cap = cap;
		fw_plan_udp_rules(cfg, plan, &udp, ents, false);
		if ((ret = fw_plan_copy(plan, FW_CHAIN_UDP_OUTPUT, udp.v, udp.n,
		    cfg, scoped)) != 0)
			goto out;
		udp.n = 0;
		ngates = fw_plan_udp_pre(cfg, plan, &udp);
		if ((ret = fw_plan_copy(plan, FW_CHAIN_UDP_PREROUTING, udp.v,
		    udp.n, cfg, false)) != 0)
			goto out;
		udp.n = 0;
		if (ngates > 0) {
			fw_plan_udp_rules(cfg, plan, &udp, ents, true);
			if ((ret = fw_plan_copy(plan, FW_CHAIN_UDP_LAN, udp.v,
			    udp.n, cfg, false)) != 0)
				goto out;
			udp.n = 0;
		}
		fw_plan_udp_reply(cfg, plan, &udp);
		if ((ret = fw_plan_copy(plan, FW_CHAIN_UDP_REPLY, udp.v, udp.n,
		    cfg, false)) != 0)
			goto out;
	}

	/* One per listener, two per DNS listener pair. */
	cap = (size_t)cfg->nlisten + 2 * (size_t)cfg->ndns;
	ret = FW_E_NOMEM;
	if (cap > 0 && (input.v = calloc(cap, sizeof(*input.v))) == NULL)
		goto out;
	input.cap = cap;
	fw_plan_input(cfg, &input);
	if ((ret = fw_plan_copy(plan, FW_CHAIN_INPUT, input.v, input.n, cfg,
	    false)) != 0)
		goto out;
	ret = 0;
 out:
	free(ents);
	free(nat.v);
	free(filter.v);
	free(input.v);
	free(udp.v);
	if (ret != 0)
		fw_plan_free(plan);
	return ret;
}

void
fw_plan_free(struct fw_plan *plan)
{
	int	ch;

	if (plan == NULL)
		return;
	for (ch = 0; ch < FW_NCHAINS; ch++) {
		free(plan->chain[ch]);
		plan->chain[ch] = NULL;
		plan->nchain[ch] = 0;
	}
}

const char *
fw_chain_name(int chain)
{
	static const char *const names[FW_NCHAINS] = {
		[FW_CHAIN_OUTPUT] = "output",
		[FW_CHAIN_PREROUTING] = "prerouting",
		[FW_CHAIN_LAN] = "lan",
		[FW_CHAIN_LEAK_OUTPUT] = "leak_output",
		[FW_CHAIN_LEAK_FORWARD] = "leak_forward",
		[FW_CHAIN_LEAK_LAN] = "leak_lan",
		[FW_CHAIN_INPUT] = "input",
		[FW_CHAIN_UDP_OUTPUT] = "udp_output",
		[FW_CHAIN_UDP_PREROUTING] = "udp_prerouting",
		[FW_CHAIN_UDP_LAN] = "udp_lan",
		[FW_CHAIN_UDP_REPLY] = "udp_reply",
	};

	if (chain < 0 || chain >= FW_NCHAINS)
		return "?";
	return names[chain];
}

/* "10.0.0.0/8", "fd00::/64", "192.0.2.1" (host) */
static void
fw_format_net(const struct fw_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, a,
	    sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	if (r->prefix == fw_family_maxprefix(r->family))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, r->prefix);
}

static const char *
fw_reject_text(const struct fw_rule *r)
{
	switch (r->reject) {
	case FW_REJECT_TCP_RESET:
		return "tcp reset";
	case FW_REJECT_PORT_UNREACH:
		return r->family == 4 ? "icmp port-unreachable" :
		    "icmpv6 port-unreachable";
	case FW_REJECT_ADMIN:
		return r->family == 4 ? "icmp admin-prohibited" :
		    "icmpv6 admin-prohibited";
	}
	return "?";
}

/* " for uid U", " for gid G", " for uid U gid G"; "" for every socket. */
static void
fw_format_owner(const struct fw_rule *r, char *buf, size_t len)
{
	buf[0] = '\0';
	if (r->owner & FW_OWNER_UID)
		snprintf(buf, len, " for uid %lu", (unsigned long)r->uid);
	if (r->owner & FW_OWNER_GID)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s gid %lu",
		    (r->owner & FW_OWNER_UID) ? "" : " for",
		    (unsigned long)r->gid);
}

static const char *
fw_verdict_text(const struct fw_rule *r)
{
	switch (r->verdict) {
	case FW_VERDICT_RETURN:
		return "return";
	case FW_VERDICT_REDIRECT:
		return "redirect";
	case FW_VERDICT_ACCEPT:
		return "accept";
	case FW_VERDICT_REJECT:
		return "reject";
	case FW_VERDICT_LOG:
		return "log";
	case FW_VERDICT_GOTO:
		return "goto";
	case FW_VERDICT_DROP:
		return "drop";
	case FW_VERDICT_MARK:
		return "mark";
	case FW_VERDICT_TPROXY:
		return "tproxy";
	}
	return "?";
}

/* " -> tproxy 127.0.0.1:12300 mark 0x63753018" and the like. */
static void
fw_format_target(const struct fw_rule *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	if (r->verdict == FW_VERDICT_MARK)
		snprintf(buf, len, " -> mark 0x%08x", (unsigned int)r->set_mark);
	else if (r->verdict == FW_VERDICT_TPROXY) {
		if (r->to_any)
			snprintf(a, sizeof(a), "*");
		else if (inet_ntop(r->family == 4 ? AF_INET : AF_INET6,
		    r->to_addr, a, sizeof(a)) == NULL)
			snprintf(a, sizeof(a), "?");
		snprintf(buf, len, r->family == 6 && !r->to_any ?
		    " -> [%s]:%u mark 0x%08x" : " -> %s:%u mark 0x%08x", a,
		    r->to_port, (unsigned int)r->set_mark);
	}
}

/*
 * The nat rules keep their historic text ("redirect 10.0.0.0/8 ->
 * :12300": TCP is implied); a DNS or filter rule names its protocol.
 */
const char *
fw_rule_format(const struct fw_rule *r, uint16_t to_port, char *buf,
    size_t len)
{
	char net[INET6_ADDRSTRLEN + 8], ports[24], tail[80], proto[8];
	char owner[48], target[80];
	const char *fam = r->family == 4 ? "ipv4" : "ipv6";
	const char *verb = fw_verdict_text(r);
	bool nat = r->verdict == FW_VERDICT_RETURN ||
	    r->verdict == FW_VERDICT_REDIRECT;

	fw_format_owner(r, owner, sizeof(owner));
	fw_format_target(r, target, sizeof(target));
	switch (r->match) {
	case FW_MATCH_MARK:
		/* A tproxy names its target instead of its note. */
		snprintf(net, sizeof(net), "%s", r->note != NULL &&
		    r->verdict != FW_VERDICT_TPROXY ? r->note : "");
		snprintf(buf, len, "%s %s%spackets with mark 0x%08x%s%s%s%s%s",
		    verb, r->family == 0 ? "" : fam, r->family == 0 ? "" :
		    r->proto == IPPROTO_UDP ? " udp " : " ", (unsigned int)r->mark,
		    target, net[0] != '\0' ? " (" : "", net,
		    net[0] != '\0' ? ")" : "", owner);
		return buf;
	case FW_MATCH_LOOPBACK:
		snprintf(buf, len, "%s packets out of lo%s", verb, owner);
		return buf;
	case FW_MATCH_REPLY:
		snprintf(buf, len, "%s replies to inbound connections%s", verb,
		    owner);
		return buf;
	case FW_MATCH_LOCAL:
		if (r->family == 0)
			snprintf(buf, len, "%s packets to local addresses%s",
			    verb, owner);
		else
			snprintf(buf, len, "%s %s %s to local addresses%s",
			    verb, fam, r->proto == IPPROTO_UDP ? "udp" : "tcp",
			    owner);
		return buf;
	case FW_MATCH_SOURCE:
		fw_format_net(r, net, sizeof(net));
		snprintf(buf, len, "%s %s from %s%s%s%s", verb,
		    r->verdict == FW_VERDICT_GOTO ?
		    fw_chain_name(r->goto_chain) : "", net,
		    r->note != NULL ? " (" : "", r->note != NULL ? r->note : "",
		    r->note != NULL ? ")" : "");
		return buf;
	}

	proto[0] = '\0';
	if (r->proto == IPPROTO_UDP)
		snprintf(proto, sizeof(proto), "udp ");
	else if (r->proto == IPPROTO_TCP && (!nat || r->dns))
		snprintf(proto, sizeof(proto), "tcp ");
	fw_format_net(r, net, sizeof(net));
	if (fw_ports_all(r->port_lo, r->port_hi))
		ports[0] = '\0';
	else if (r->port_lo == r->port_hi)
		snprintf(ports, sizeof(ports), " port %u", r->port_lo);
	else
		snprintf(ports, sizeof(ports), " ports %u-%u", r->port_lo,
		    r->port_hi);
	tail[0] = '\0';
	if (r->verdict == FW_VERDICT_REDIRECT)
		snprintf(tail, sizeof(tail), " -> :%u",
		    r->to_port != 0 ? r->to_port : to_port);
	else if (r->verdict == FW_VERDICT_REJECT)
		snprintf(tail, sizeof(tail), " with %s", fw_reject_text(r));
	else if (r->verdict == FW_VERDICT_LOG)
		snprintf(tail, sizeof(tail), " to group %u at %d/second",
		    r->group, FW_LOG_RATE);
	else
		snprintf(tail, sizeof(tail), "%s", target);
	snprintf(buf, len, "%s %s%s%s%s%s%s%s%s", verb, proto, net, ports, tail,
	    r->note != NULL ? " (" : "", r->note != NULL ? r->note : "",
	    r->note != NULL ? ")" : "", owner);
	return buf;
}

const char *
fw_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case FW_E_INVAL:
		return "invalid family, prefix, address or port";
	case FW_E_TOOMANY:
		return "too many subnets, exempt destinations or nameservers";
	case FW_E_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}
