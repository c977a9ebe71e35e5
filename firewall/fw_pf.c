/* SPDX-License-Identifier: ISC */
/*
 * fw_pf.c - the plan as pf.conf(5) text (see fw_pf.h).
 *
 * Rule by rule, in the plan's order:
 *   redirect (a subnet, a nameserver)	rdr pass on lo0 ... -> LISTENER port P
 *					pass out quick route-to (lo0 LOOPBACK)
 *					    ... [user U] [group G] keep state
 *   return (exclude, exempt, local)	no rdr on lo0 ...
 *					pass out quick ... [user U] [group G]
 *   the socket mark			nothing: pf has no socket marks, and
 *					the client opens no connection of its
 *					own to a forwarded destination (its
 *					one connection, to the SSH server, is
 *					exempt)
 * The rdr rules are not scoped to a user (pf cannot), and need not be:
 * only what a scoped route-to rule sends reaches lo0 with a forwarded
 * destination; local traffic, which travels on lo0 as well, is kept out
 * by the "to self" rules, which come first.
 *
 * The prerouting side (-l on a LAN address): per allowed source A, the
 * same rdr rules "on ! lo0 from A", the target being the listener's own
 * address.  The input rules: direct connections to a listener are
 * blocked ("block drop in quick ... to ADDR port P"); connections an rdr
 * pass rule redirected never reach the filter rules; they come first.
 * Leak protection: the leak rules of the plan as pass quick and block
 * return quick rules, for the output side ("out") and for the allowed
 * sources ("in on ! lo0 from A", their blocks "to ! self": those rules
 * stand for nftables' forward hook, so what the sources send to this
 * host is left to the user's own rules).  A pass quick is final for the
 * whole ruleset, unlike an nftables accept in one table: the exceptions
 * (DHCP, link-local, the excluded subnets) pass whatever the user's own
 * rules after the anchor say.  UDP capture does not exist in the pf build (fw_plan
 * plans none without UDP sockets).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "fw_pf.h"

const char *
fw_pf_anchor(uint16_t port, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%s/%u", FW_PF_ANCHOR_ROOT, (unsigned)port);
	return buf;
}

static const char *
fw_pf_af(uint8_t family)
{
	return family == 6 ? "inet6" : "inet";
}

static void
fw_pf_net(FILE *f, uint8_t family, const uint8_t *addr, uint8_t prefix)
{
	char	buf[INET6_ADDRSTRLEN];

	(void)inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, sizeof(buf));
	if (prefix == (family == 6 ? 128 : 32))
		fprintf(f, "%s", buf);
	else
		fprintf(f, "%s/%u", buf, (unsigned)prefix);
}

static void
fw_pf_ports(FILE *f, uint16_t lo, uint16_t hi)
{
	if (fw_ports_all(lo, hi))
		return;
	if (lo == hi)
		fprintf(f, " port %u", (unsigned)lo);
	else
		fprintf(f, " port %u:%u", (unsigned)lo, (unsigned)hi);
}

static const char *
fw_pf_proto(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* " inet proto tcp", the protocol left out when the rule has none. */
static void
fw_pf_afproto(FILE *f, const struct fw_rule *r, uint8_t family)
{
	fprintf(f, " %s", fw_pf_af(family));
	if (r->proto != 0)
		fprintf(f, " proto %s", fw_pf_proto(r->proto));
}

/* " to NET port X" for a destination rule, " to self" for a local one. */
static void
fw_pf_to(FILE *f, const struct fw_rule *r, uint8_t family)
{
	if (r->match == FW_MATCH_LOCAL) {
		fprintf(f, " to self");
		return;
	}
	fprintf(f, " to ");
	if (r->prefix == 0)
		fprintf(f, "any");
	else
		fw_pf_net(f, family, r->addr, r->prefix);
	fw_pf_ports(f, r->port_lo, r->port_hi);
}

static void
fw_pf_owner(FILE *f, const struct fw_rule *r)
{
	if (r->owner & FW_OWNER_UID)
		fprintf(f, " user %lu", (unsigned long)r->uid);
	if (r->owner & FW_OWNER_GID)
		fprintf(f, " group %lu", (unsigned long)r->gid);
}

/* Where a redirect of family `family` to port `port` lands: a listener's
 * own address, loopback for the output side (on lo0), another for the
 * allowed sources (lan); the family's loopback for a wildcard one. */
static void
fw_pf_target(FILE *f, const struct fw_config *cfg, uint8_t family, uint16_t port, bool lan)
{
	static const uint8_t	 lo4[16] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	const uint8_t		*a = NULL;
	const struct addr	*l;
	int			 i, j, n;

	for (j = 0; j < 2 && a == NULL; j++) {
		n = j == 0 ? cfg->nlisten : cfg->ndns;
		for (i = 0; i < n && a == NULL; i++) {
			l = j == 0 ? &cfg->listen[i] : &cfg->dns_listen[i];
			if (l->family == family && l->port == port &&
			    !addr_is_any(l) && addr_is_loopback(l) != lan)
				a = l->bytes;
		}
	}
	if (a == NULL)
		a = family == 6 ? lo6 : lo4;
	fw_pf_net(f, family, a, family == 6 ? 128 : 32);
	fprintf(f, " port %u", (unsigned)port);
}

/* The families a rule stands for (0: both, e.g. the DNS rules). */
static int
fw_pf_families(const struct fw_rule *r, uint8_t fam[2])
{
	if (r->family != 0) {
		fam[0] = r->family;
		return 1;
	}
	fam[0] = 4;
	fam[1] = 6;
	return 2;
}

/* " from A" for an allowed source, " from any" for the output side. */
static void
fw_pf_from(FILE *f, const struct fw_rule *gate)
{
	fprintf(f, " from ");
	if (gate != NULL)
		fw_pf_net(f, gate->family, gate->addr, gate->prefix);
	else
		fprintf(f, "any");
}

/* The rdr rules of one nat rule, for the output side (on lo0) or for an
 * allowed source (on ! lo0 from A). */
static void
fw_pf_rdr(FILE *f, const struct fw_config *cfg, const struct fw_plan *p,
    const struct fw_rule *r, const struct fw_rule *gate)
{
	uint8_t	fam[2];
	int	i, n;

	if (r->match != FW_MATCH_DEST && r->match != FW_MATCH_LOCAL)
		return;
	n = fw_pf_families(r, fam);
	for (i = 0; i < n; i++) {
		if (gate != NULL && gate->family != fam[i])
			continue;
		fprintf(f, "%s on %slo0", r->verdict == FW_VERDICT_REDIRECT ? "rdr pass" :
		    "no rdr", gate != NULL ? "! " : "");
		fw_pf_afproto(f, r, fam[i]);
		fw_pf_from(f, gate);
		fw_pf_to(f, r, fam[i]);
		if (r->verdict == FW_VERDICT_REDIRECT) {
			fprintf(f, " -> ");
			fw_pf_target(f, cfg, fam[i], r->to_port != 0 ? r->to_port : p->port,
			    gate != NULL);
		}
		fprintf(f, "\n");
	}
}

/* The filter rule of one nat rule of the output side. */
static void
fw_pf_route(FILE *f, const struct fw_rule *r)
{
	uint8_t	fam[2];
	int	i, n;

	if (r->match != FW_MATCH_DEST && r->match != FW_MATCH_LOCAL)
		return;
	n = fw_pf_families(r, fam);
	for (i = 0; i < n; i++) {
		fprintf(f, "pass out quick");
		if (r->verdict == FW_VERDICT_REDIRECT)
			fprintf(f, " route-to (lo0 %s)", fam[i] == 6 ? "::1" : "127.0.0.1");
		fw_pf_afproto(f, r, fam[i]);
		fw_pf_to(f, r, fam[i]);
		fw_pf_owner(f, r);
		fprintf(f, " keep state\n");
	}
}

/* One leak rule: pass quick or block return quick, for the output side
 * (gate NULL) or for an allowed source. */
static void
fw_pf_leak(FILE *f, const struct fw_rule *r, const struct fw_rule *gate)
{
	uint8_t	fam[2];
	int	i, n;

	switch (r->match) {
	case FW_MATCH_MARK:	/* no socket marks in pf */
	case FW_MATCH_REPLY:	/* replies match their state, never a rule */
		return;
	case FW_MATCH_LOOPBACK:
	case FW_MATCH_LOCAL:
		/* The allowed sources' rules stand for nftables' forward
		 * hook: what they send to this host is none of theirs (and a
		 * pass quick would admit all of it). */
		if (gate != NULL)
			return;
		break;
	}
	if (r->verdict != FW_VERDICT_ACCEPT && r->verdict != FW_VERDICT_REJECT)
		return;		/* LOG: pf logs with the block rule below */
	n = fw_pf_families(r, fam);
	for (i = 0; i < n; i++) {
		if (gate != NULL && gate->family != fam[i])
			continue;
		if (r->verdict == FW_VERDICT_ACCEPT)
			fprintf(f, "pass");
		else if (r->reject == FW_REJECT_TCP_RESET)
			fprintf(f, "block return-rst");
		else if (fam[i] == 6)
			fprintf(f, "block return-icmp6(%s)",
			    r->reject == FW_REJECT_ADMIN ? "admin-unr" : "port-unr");
		else
			fprintf(f, "block return-icmp(port-unr)");
		if (gate != NULL)
			fprintf(f, " in");
		else
			fprintf(f, " out");
		if (r->verdict == FW_VERDICT_REJECT)
			fprintf(f, " log");
		fprintf(f, " quick");
		if (r->match == FW_MATCH_LOOPBACK) {
			fprintf(f, " on lo0 %s all", fw_pf_af(fam[i]));
		} else if (gate != NULL && r->prefix == 0) {
			/* Forwarded traffic only: not what is for this host. */
			fprintf(f, " on ! lo0");
			fw_pf_afproto(f, r, fam[i]);
			fw_pf_from(f, gate);
			fprintf(f, " to ! self");
			fw_pf_ports(f, r->port_lo, r->port_hi);
		} else {
			if (gate != NULL)
				fprintf(f, " on ! lo0");
			fw_pf_afproto(f, r, fam[i]);
			fw_pf_from(f, gate);
			fw_pf_to(f, r, fam[i]);
		}
		if (gate == NULL)
			fw_pf_owner(f, r);
		fprintf(f, r->verdict == FW_VERDICT_ACCEPT && r->proto != 0 ?
		    " keep state\n" : "\n");
	}
}

/* The input rules: direct connections to the listeners are refused. */
static void
fw_pf_input(FILE *f, const struct fw_rule *r)
{
	if (r->match != FW_MATCH_UNREDIRECTED || r->verdict != FW_VERDICT_DROP)
		return;
	fprintf(f, "block drop in quick");
	fw_pf_afproto(f, r, r->family);
	fw_pf_to(f, r, r->family);
	fprintf(f, "\n");
}

int
fw_pf_render(const struct fw_config *cfg, char **text)
{
	struct fw_plan	 p;
	FILE		*f;
	char		*buf = NULL, anchor[32];
	size_t		 len = 0, i, g;
	int		 ret;

	*text = NULL;
	if ((ret = fw_plan_build(cfg, &p)) != 0) {
		fw_plan_free(&p);
		return ret;
	}
	if ((f = open_memstream(&buf, &len)) == NULL) {
		fw_plan_free(&p);
		return FW_E_NOMEM;
	}
	fprintf(f, "# cshuttle: anchor %s (pfctl -a %s -f -)\n",
	    fw_pf_anchor(p.port, anchor, sizeof(anchor)), anchor);
	fprintf(f, "# translation: the output side, then each allowed source\n");
	for (i = 0; i < p.nchain[FW_CHAIN_OUTPUT]; i++)
		fw_pf_rdr(f, cfg, &p, &p.chain[FW_CHAIN_OUTPUT][i], NULL);
	for (g = 0; g < p.nchain[FW_CHAIN_PREROUTING]; g++)
		for (i = 0; i < p.nchain[FW_CHAIN_LAN]; i++)
			fw_pf_rdr(f, cfg, &p, &p.chain[FW_CHAIN_LAN][i],
			    &p.chain[FW_CHAIN_PREROUTING][g]);
	fprintf(f, "# filtering: the listeners, what is routed to lo0, then leak "
	    "protection\n");
	for (i = 0; i < p.nchain[FW_CHAIN_INPUT]; i++)
		fw_pf_input(f, &p.chain[FW_CHAIN_INPUT][i]);
	for (i = 0; i < p.nchain[FW_CHAIN_OUTPUT]; i++)
		fw_pf_route(f, &p.chain[FW_CHAIN_OUTPUT][i]);
	for (i = 0; i < p.nchain[FW_CHAIN_LEAK_OUTPUT]; i++)
		fw_pf_leak(f, &p.chain[FW_CHAIN_LEAK_OUTPUT][i], NULL);
	for (g = 0; g < p.nchain[FW_CHAIN_LEAK_FORWARD]; g++)
		for (i = 0; i < p.nchain[FW_CHAIN_LEAK_LAN]; i++)
			fw_pf_leak(f, &p.chain[FW_CHAIN_LEAK_LAN][i],
			    &p.chain[FW_CHAIN_LEAK_FORWARD][g]);
	fw_plan_free(&p);
	if (fclose(f) != 0) {
		free(buf);
		return FW_E_NOMEM;
	}
	*text = buf;
	return 0;
}
