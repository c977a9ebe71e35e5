/* SPDX-License-Identifier: ISC */
/*
 * autonets.c - the remote's networks for -N (see autonets.h).
 *
 * The stub is not trusted with the choice: whatever it reports, the
 * networks that would take the client's own traffic (its LAN, loopback,
 * link-local, multicast, the way to the SSH server) are never captured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autonets.h"
#include "log.h"
#include "netinfo.h"

/* Never captured, whatever the remote routes. */
static const struct subnet autonets_never[] = {
	{ .family = 4, .prefix = 8,  .addr = { 0 } },			/* "this" network */
	{ .family = 4, .prefix = 8,  .addr = { 127 } },			/* loopback */
	{ .family = 4, .prefix = 16, .addr = { 169, 254 } },		/* link-local */
	{ .family = 4, .prefix = 4,  .addr = { 224 } },			/* multicast */
	{ .family = 4, .prefix = 4,  .addr = { 240 } },			/* reserved, broadcast */
	{ .family = 6, .prefix = 128, .addr = { 0 } },			/* unspecified */
	{ .family = 6, .prefix = 128, .addr = { [15] = 1 } },		/* loopback */
	{ .family = 6, .prefix = 10, .addr = { 0xfe, 0x80 } },		/* link-local */
	{ .family = 6, .prefix = 8,  .addr = { 0xff } },		/* multicast */
};

static bool
autonets_overlap(const struct subnet *a, const struct subnet *b)
{
	return subnet_contains(a, b->family, b->addr) ||
	    subnet_contains(b, a->family, a->addr);
}

static bool
autonets_same(const struct subnet *a, const struct subnet *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Should s (a reported network) be left alone? */
static bool
autonets_refused(const struct subnet *s, const struct subnet_list *user,
    const struct addr *avoid, size_t navoid, const struct subnet *own, size_t nown,
    bool ipv6)
{
	const struct subnet	*u;
	size_t			 i;

	if (s->prefix == 0 || (s->family == 6 && !ipv6))
		return true;
	for (i = 0; i < sizeof(autonets_never) / sizeof(autonets_never[0]); i++)
		if (autonets_overlap(s, &autonets_never[i]))
			return true;
	for (i = 0; i < navoid; i++)
		if (subnet_contains(s, avoid[i].family, avoid[i].bytes))
			return true;
	for (i = 0; i < nown; i++)
		if (autonets_overlap(s, &own[i]))
			return true;
	for (i = 0; user != NULL && i < user->n; i++) {
		u = &user->v[i];
		if (u->name != 0)
			continue;
		if (u->exclude && u->prefix <= s->prefix &&
		    subnet_contains(u, s->family, s->addr))
			return true;
		if (!u->exclude && autonets_same(u, s) && u->port_lo == 0 &&
		    u->port_hi == 65535)
			return true;
	}
	return false;
}

size_t
autonets_filter(const struct subnet *got, size_t ngot, const struct subnet_list *user,
    const struct addr *avoid, size_t navoid, const struct subnet *own, size_t nown,
    bool ipv6, struct subnet *out, size_t max)
{
	size_t	i, j, n = 0;

	for (i = 0; i < ngot && n < max; i++) {
		if (autonets_refused(&got[i], user, avoid, navoid, own, nown, ipv6))
			continue;
		for (j = 0; j < n && !autonets_same(&out[j], &got[i]); j++)
			;
		if (j == n)
			out[n++] = got[i];
	}
	return n;
}

/* Our connected networks (loopback's are refused anyway). */
static void
autonets_read_own(struct autonets *an)
{
	struct netinfo	*ni;
	struct subnet	*s;
	char		 err[256];
	size_t		 i;

	an->nown = 0;
	if ((ni = calloc(1, sizeof(*ni))) == NULL)
		return;
	if (netinfo_read(ni, err, sizeof(err)) != 0)
		log_warn("auto-nets: cannot read this host's networks: %s", err);
	for (i = 0; i < ni->naddrs && an->nown < AUTONETS_MAX_OWN; i++) {
		s = &an->own[an->nown++];
		memset(s, 0, sizeof(*s));
		s->family = ni->addrs[i].net.family;
		s->prefix = ni->addrs[i].prefix;
		memcpy(s->addr, ni->addrs[i].net.bytes, addr_size(s->family));
		s->port_hi = 65535;
	}
	free(ni);
}

void
autonets_report(struct autonets *an, const struct proto_frame *f)
{
	struct subnet	*s;
	struct addr	 a;
	uint8_t		 prefix;
	size_t		 i;

	an->ngot = 0;
	for (i = 0; f != NULL && i < f->u.routes && an->ngot < PROTO_ROUTES_MAX; i++) {
		proto_route_get(f, i, &a, &prefix);
		s = &an->got[an->ngot++];
		memset(s, 0, sizeof(*s));
		s->family = a.family;
		s->prefix = prefix;
		memcpy(s->addr, a.bytes, addr_size(a.family));
		s->port_hi = 65535;
	}
	log_debug("auto-nets: the remote routes %zu networks", an->ngot);
	autonets_read_own(an);
}

/* "auto-nets: 10.1.0.0/16, fd01::/64" (or "none"), cut at a line's worth. */
static void
autonets_log(const struct autonets *an)
{
	char	line[1024], one[64];
	size_t	i, len;

	snprintf(line, sizeof(line), "auto-nets: %s", an->nused == 0 ? "none" : "");
	for (i = 0; i < an->nused; i++) {
		subnet_format(&an->used[i], one, sizeof(one));
		len = strlen(line);
		if (len + strlen(one) + 16 >= sizeof(line)) {
			snprintf(line + len, sizeof(line) - len, "... (%zu in all)", an->nused);
			break;
		}
		snprintf(line + len, sizeof(line) - len, "%s%s", i > 0 ? ", " : "", one);
	}
	log_info("%s", line);
}

/* Does the last merge's choice differ from the one in place? */
static bool
autonets_changed(const struct autonets *an)
{
	size_t	i;

	if (an->nnext != an->nused)
		return true;
	for (i = 0; i < an->nnext; i++)
		if (!autonets_same(&an->next[i], &an->used[i]))
			return true;
	return false;
}

const struct subnet_list *
autonets_merge(struct autonets *an, const struct subnet_list *user,
    const struct addr *avoid, size_t navoid, bool ipv6, bool *changed)
{
	struct subnet_list	*l = &an->merged[!an->cur];
	size_t			 i;

	an->nnext = autonets_filter(an->got, an->ngot, user, avoid, navoid, an->own,
	    an->nown, ipv6, an->next, PROTO_ROUTES_MAX);
	subnet_list_free(l);
	memset(l, 0, sizeof(*l));
	if (subnet_list_copy(l, user) != 0)
		return NULL;
	for (i = 0; i < an->nnext; i++)
		if (subnet_list_add(l, &an->next[i]) != 0)
			return NULL;
	*changed = autonets_changed(an);
	return l;
}

void
autonets_commit(struct autonets *an)
{
	bool	changed = autonets_changed(an);

	an->cur = !an->cur;
	memcpy(an->used, an->next, an->nnext * sizeof(an->next[0]));
	an->nused = an->nnext;
	if (changed || !an->logged) {
		an->logged = true;
		autonets_log(an);
	}
}

void
autonets_free(struct autonets *an)
{
	if (an == NULL)
		return;
	subnet_list_free(&an->merged[0]);
	subnet_list_free(&an->merged[1]);
}
