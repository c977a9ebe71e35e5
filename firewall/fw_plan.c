/*
 * fw_plan.c - order the redirect rules; see fw_plan.h.
 */
#include <arpa/inet.h>
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
	for (i = 0; i < prefix / 8; i++)
		dst[i] = src[i];
	if (prefix % 8)
		dst[i] = src[i] & (uint8_t)(0xff << (8 - prefix % 8));
}

int
fw_plan_build(const struct fw_config *cfg, struct fw_plan *plan)
{
	struct fw_sortent *ents = NULL;
	const struct subnet *s;
	struct fw_rule *r;
	size_t nsub, i, j, n, cap;
	int fam, ret;

	memset(plan, 0, sizeof(*plan));
	nsub = cfg->subnets != NULL ? cfg->subnets->n : 0;
	if (cfg->port == 0 || cfg->nexempt < 0)
		return FW_E_INVAL;
	if (nsub > FW_MAX_SUBNETS || cfg->nexempt > FW_MAX_EXEMPT)
		return FW_E_TOOMANY;
	for (i = 0; i < nsub; i++) {
		if ((ret = fw_check_subnet(&cfg->subnets->v[i])) != 0)
			return ret;
	}
	for (i = 0; i < (size_t)cfg->nexempt; i++) {
		if (fw_family_maxprefix(cfg->exempt[i].family) < 0)
			return FW_E_INVAL;
	}

	/* Two local rules at most, then every exempt and subnet once. */
	cap = 2 + (size_t)cfg->nexempt + nsub;
	if ((plan->rules = calloc(cap, sizeof(*plan->rules))) == NULL)
		return FW_E_NOMEM;
	if (nsub > 0 && (ents = calloc(nsub, sizeof(*ents))) == NULL) {
		ret = FW_E_NOMEM;
		goto out;
	}
	plan->port = cfg->port;
	plan->prerouting = cfg->prerouting;

	for (fam = 4; fam <= 6; fam += 2) {
		if ((fam == 4 && !cfg->ipv4) || (fam == 6 && !cfg->ipv6))
			continue;

		r = &plan->rules[plan->nrules++];
		r->family = fam;
		r->match = FW_MATCH_LOCAL;
		r->verdict = FW_VERDICT_RETURN;

		for (i = 0; i < (size_t)cfg->nexempt; i++) {
			if (cfg->exempt[i].family != fam)
				continue;
			r = &plan->rules[plan->nrules++];
			r->family = fam;
			r->match = FW_MATCH_DEST;
			r->verdict = FW_VERDICT_RETURN;
			r->prefix = fw_family_maxprefix(fam);
			memcpy(r->addr, cfg->exempt[i].addr,
			    fam == 4 ? 4 : 16);
			/* Port 0 exempts the whole host. */
			r->port_lo = cfg->exempt[i].port;
			r->port_hi = cfg->exempt[i].port ? cfg->exempt[i].port :
			    65535;
			r->exempt = true;
		}

		for (i = n = 0; i < nsub; i++) {
			if (cfg->subnets->v[i].family != fam)
				continue;
			ents[n].s = &cfg->subnets->v[i];
			ents[n].idx = i;
			n++;
		}
		if (n > 1)
			qsort(ents, n, sizeof(*ents), fw_sort_cmp);
		for (j = 0; j < n; j++) {
			s = ents[j].s;
			r = &plan->rules[plan->nrules++];
			r->family = fam;
			r->match = FW_MATCH_DEST;
			r->verdict = s->exclude ? FW_VERDICT_RETURN :
			    FW_VERDICT_REDIRECT;
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
	}
	ret = 0;
 out:
	free(ents);
	if (ret != 0)
		fw_plan_free(plan);
	return ret;
}

void
fw_plan_free(struct fw_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->rules);
	plan->rules = NULL;
	plan->nrules = 0;
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

const char *
fw_rule_format(const struct fw_rule *r, uint16_t to_port, char *buf,
    size_t len)
{
	char net[INET6_ADDRSTRLEN + 8], ports[24];
	const char *fam = r->family == 4 ? "ipv4" : "ipv6";

	if (r->match == FW_MATCH_LOCAL) {
		snprintf(buf, len, "return %s tcp to local addresses", fam);
		return buf;
	}
	fw_format_net(r, net, sizeof(net));
	if (fw_ports_all(r->port_lo, r->port_hi))
		ports[0] = '\0';
	else if (r->port_lo == r->port_hi)
		snprintf(ports, sizeof(ports), " port %u", r->port_lo);
	else
		snprintf(ports, sizeof(ports), " ports %u-%u", r->port_lo,
		    r->port_hi);
	if (r->verdict == FW_VERDICT_REDIRECT)
		snprintf(buf, len, "redirect %s%s -> :%u", net, ports, to_port);
	else
		snprintf(buf, len, "return %s%s%s", net, ports,
		    r->exempt ? " (exempt)" : "");
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
		return "too many subnets or exempt destinations";
	case FW_E_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}
