/* SPDX-License-Identifier: ISC */
/*
 * autohosts.c - the remote's host names for -H (see autohosts.h).
 *
 * The stub is not trusted with the names: a pair is used only for an
 * address that goes through the tunnel anyway, so a remote can name its
 * own hosts but never redirect a name to one of ours.
 */
#include <stdio.h>
#include <string.h>

#include "autohosts.h"
#include "log.h"

/* Is the address forwarded: the most specific subnet holding it an
 * include?  An exclude as specific as an include wins, as in the rules. */
static bool
autohosts_forwarded(const struct addr *a, const struct subnet_list *subnets)
{
	const struct subnet	*s;
	size_t			 i;
	int			 inc = -1, exc = -1;

	for (i = 0; i < subnets->n; i++) {
		s = &subnets->v[i];
		if (s->name != 0 || s->family != a->family ||
		    !subnet_contains(s, a->family, a->bytes))
			continue;
		if (s->exclude && (int)s->prefix > exc)
			exc = s->prefix;
		else if (!s->exclude && (int)s->prefix > inc)
			inc = s->prefix;
	}
	return inc >= 0 && inc > exc;
}

size_t
autohosts_filter(const struct dns_local_host *got, size_t ngot,
    const struct subnet_list *subnets, bool ipv6, struct dns_local_host *out,
    size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < ngot && n < max; i++) {
		if (got[i].addr.family != ADDR_V4 && got[i].addr.family != ADDR_V6)
			continue;
		if (got[i].addr.family == ADDR_V6 && !ipv6)
			continue;
		if (!proto_host_name_ok(got[i].name, strlen(got[i].name)))
			continue;
		if (!autohosts_forwarded(&got[i].addr, subnets))
			continue;
		out[n++] = got[i];
	}
	return n;
}

void
autohosts_report(struct autohosts *ah, const struct proto_frame *f)
{
	size_t	off = 0;

	ah->ngot = 0;
	if (f == NULL)
		return;
	while (ah->ngot < PROTO_HOSTS_MAX &&
	    proto_host_next(f, &off, &ah->got[ah->ngot].addr, ah->names[ah->ngot]) == 1) {
		ah->got[ah->ngot].name = ah->names[ah->ngot];
		ah->ngot++;
	}
	log_debug("auto-hosts: the remote reported %zu names", ah->ngot);
}

/* Has the choice changed since the last one? */
static bool
autohosts_changed(const struct autohosts *ah, const struct dns_local_host *next,
    size_t n)
{
	size_t	i;

	if (n != ah->nused)
		return true;
	for (i = 0; i < n; i++)
		if (!addr_equal(&next[i].addr, &ah->used[i].addr) ||
		    strcmp(next[i].name, ah->used[i].name) != 0)
			return true;
	return false;
}

/* The choice into the hosts file, by the helper.  0, or -1 (logged). */
static int
autohosts_write(struct fw *fw, const struct dns_local_host *h, size_t n)
{
	static struct fw_host	 fh[PROTO_HOSTS_MAX];
	char			 err[512];
	size_t			 i, k = 0;

	for (i = 0; i < n && k < PROTO_HOSTS_MAX && k < FW_MAX_HOSTS; i++) {
		/* The same rule as the HOSTS frame's: never refused. */
		if (strlen(h[i].name) >= sizeof(fh[k].name))
			continue;
		fh[k].addr = h[i].addr;
		fh[k].addr.port = 0;
		fh[k].addr.scope = 0;
		snprintf(fh[k].name, sizeof(fh[k].name), "%s", h[i].name);
		k++;
	}
	if (fw_hosts(fw, fh, k, err, sizeof(err)) != 0) {
		log_warn("auto-hosts: the names are not in /etc/hosts: %s", err);
		return -1;
	}
	return 0;
}

void
autohosts_apply(struct autohosts *ah, struct dns_local *d, struct fw *fw,
    const struct subnet_list *subnets, bool ipv6)
{
	static struct dns_local_host	next[PROTO_HOSTS_MAX];
	char				a[ADDR_STRLEN], line[160];
	size_t				n, i, len = 0;

	n = autohosts_filter(ah->got, ah->ngot, subnets, ipv6, next, PROTO_HOSTS_MAX);
	if (d == NULL && fw != NULL) {
		if ((!ah->logged || autohosts_changed(ah, next, n)) &&
		    autohosts_write(fw, next, n) != 0)
			n = 0;
	} else if (d == NULL) {
		log_warn("auto-hosts: no DNS is captured (--dns): the remote's "
		    "host names are not used");
		n = 0;
	} else if (dns_local_set_hosts(d, next, n) != 0) {
		log_warn("auto-hosts: out of memory: the remote's host names are "
		    "not used");
		n = 0;
	}
	if (ah->logged && !autohosts_changed(ah, next, n))
		return;
	/* Names of its own: the next report overwrites names[]. */
	for (i = 0; i < n; i++) {
		ah->used[i].addr = next[i].addr;
		snprintf(ah->used_names[i], sizeof(ah->used_names[i]), "%s", next[i].name);
		ah->used[i].name = ah->used_names[i];
	}
	ah->nused = n;
	ah->logged = true;
	/* The first few, as an example: the list may be long. */
	line[0] = '\0';
	for (i = 0; i < n && i < 3; i++) {
		addr_format(&next[i].addr, false, a, sizeof(a));
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s %s",
		    i > 0 ? ", " : ": ", next[i].name, a);
		if (len >= sizeof(line))
			break;
	}
	log_info("auto-hosts: %zu names of %zu in the forwarded subnets%s%s", n,
	    ah->ngot, line, n > 3 ? ", ..." : "");
}
