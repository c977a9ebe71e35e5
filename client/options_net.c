/* SPDX-License-Identifier: ISC */
/*
 * options_net.c - the options whose values are network places: -l
 * (listen addresses), --ns-hosts and --to-ns (DNS servers), --dns-domains.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"
#include "options_int.h"

/* One -l item: "PORT", "IPV4:PORT" or "[IPV6]:PORT". */
static int
options_net_listen_one(struct options *o, struct options_state *st,
    const char *item, size_t len, char *err, size_t errlen)
{
	struct options_listen l;
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon, *portstr;
	unsigned long port;
	size_t hlen;
	int i;

	memset(&l, 0, sizeof(l));
	if (len == 0)
		return options_fail(err, errlen, "-l: empty listen address");
	if (item[0] == '[') {
		colon = memchr(item, ']', len);
		if (colon == NULL || colon + 1 >= item + len || colon[1] != ':')
			goto bad;
		hlen = (size_t)(colon - item - 1);
		portstr = colon + 2;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, item + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, l.addr) != 1)
			goto bad;
		l.family = 6;
	} else if ((colon = memchr(item, ':', len)) != NULL) {
		hlen = (size_t)(colon - item);
		portstr = colon + 1;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, item, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, l.addr) != 1)
			goto bad;
		l.family = 4;
	} else
		portstr = item;

	if ((size_t)(portstr - item) >= len ||
	    !isdigit((unsigned char)*portstr))
		goto bad;
	errno = 0;
	port = strtoul(portstr, &end, 10);
	if (errno != 0 || end != item + len)
		goto bad;
	if (port > 65535)
		return options_fail(err, errlen, "-l \"%.*s\": port must be "
		    "0-65535", (int)len, item);
	l.port = (uint16_t)port;

	if (l.family == 0) {
		if (st->listen_port_only != -1)
			return options_fail(err, errlen, "-l \"%.*s\": a port "
			    "without address was already given", (int)len, item);
		st->listen_port_only = (int)port;
		return 0;
	}
	for (i = 0; i < o->nlisten; i++)
		if (o->listen[i].family == l.family)
			return options_fail(err, errlen, "-l \"%.*s\": only one "
			    "IPv%u listen address is allowed", (int)len, item,
			    l.family);
	o->listen[o->nlisten++] = l;
	st->nlisten_explicit++;
	return 0;
 bad:
	return options_fail(err, errlen, "-l \"%.*s\": expected PORT, "
	    "IPV4:PORT or [IPV6]:PORT", (int)len, item);
}

/* -l takes a comma-separated list, and may be repeated. */
int
options_net_listen(struct options *o, struct options_state *st, const char *arg,
    char *err, size_t errlen)
{
	const char *p = arg, *comma;
	size_t len;
	int ret;

	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if ((ret = options_net_listen_one(o, st, p, len, err, errlen)) != 0)
			return ret;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* Fill in the listeners not given explicitly. */
int
options_net_listen_finish(struct options *o, struct options_state *st,
    char *err, size_t errlen)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	bool have4 = false, have6 = false;
	uint16_t port;
	int i;

	for (i = 0; i < o->nlisten; i++) {
		have4 |= o->listen[i].family == 4;
		have6 |= o->listen[i].family == 6;
	}
	if (have6 && o->no_ipv6)
		return options_fail(err, errlen, "--no-ipv6 conflicts with an "
		    "IPv6 -l address");
	/* A bare port applies to the loopback address of each family that
	 * has no explicit address; with explicit addresses only, the
	 * missing family is simply not served. */
	if (st->listen_port_only == -1 && st->nlisten_explicit > 0)
		return 0;
	port = st->listen_port_only == -1 ? 0 : (uint16_t)st->listen_port_only;
	if (!have4) {
		o->listen[o->nlisten].family = 4;
		memcpy(o->listen[o->nlisten].addr, lo4, sizeof(lo4));
		o->listen[o->nlisten++].port = port;
	}
	if (!have6 && !o->no_ipv6) {
		o->listen[o->nlisten].family = 6;
		memcpy(o->listen[o->nlisten].addr, lo6, sizeof(lo6));
		o->listen[o->nlisten++].port = port;
	}
	return 0;
}

/* Append a server to one of the two lists, skipping duplicates. */
int
options_net_ns_add(struct options_ns *list, int *n, const struct options_ns *ns,
    const char *opt, char *err, size_t errlen)
{
	int	i;

	for (i = 0; i < *n; i++)
		if (memcmp(&list[i], ns, sizeof(*ns)) == 0)
			return 0;
	if (*n == OPTIONS_MAX_NS)
		return options_fail(err, errlen, "%s: more than %d servers", opt,
		    OPTIONS_MAX_NS);
	list[(*n)++] = *ns;
	return 0;
}

/*
 * Split a comma-separated list and hand each item to fn; an empty item
 * is an error naming the option.
 */
static int
options_net_each(struct options *o, const char *opt, const char *arg,
    int (*fn)(struct options *, const char *, char *, size_t),
    char *err, size_t errlen)
{
	const char	*p = arg, *comma;
	char		 item[512];
	size_t		 len;
	int		 ret;

	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0)
			return options_fail(err, errlen, "%s \"%s\": empty item",
			    opt, arg);
		if (len >= sizeof(item))
			return options_fail(err, errlen, "%s: item longer than %zu "
			    "bytes", opt, sizeof(item) - 1);
		memcpy(item, p, len);
		item[len] = '\0';
		if ((ret = fn(o, item, err, errlen)) != 0)
			return ret;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* One --ns-hosts item: an IP address, or a name kept for options_resolve()
 * (its addresses take this place in the list). */
static int
options_net_ns_host(struct options *o, const char *item, char *err, size_t errlen)
{
	struct options_ns	 ns;

	memset(&ns, 0, sizeof(ns));
	ns.port = 53;
	if (inet_pton(AF_INET, item, ns.addr) == 1 ||
	    inet_pton(AF_INET6, item, ns.addr) == 1) {
		ns.family = strchr(item, ':') != NULL ? 6 : 4;
		return options_net_ns_add(o->ns_hosts, &o->nns_hosts, &ns,
		    "--ns-hosts", err, errlen);
	}
	return options_name_add(o, item, OPTIONS_NAME_NS_HOST, o->nns_hosts,
	    err, errlen);
}

/* One --to-ns item: IPV4[:PORT], IPV6, or [IPV6][:PORT]. */
static int
options_net_to_ns_one(struct options *o, const char *item, char *err, size_t errlen)
{
	struct options_ns	 ns;
	char			 host[INET6_ADDRSTRLEN + 1], *end;
	const char		*portstr = NULL, *close;
	unsigned long		 port = 53;
	size_t			 hlen;

	memset(&ns, 0, sizeof(ns));
	if (item[0] == '[') {
		if ((close = strchr(item, ']')) == NULL ||
		    (close[1] != '\0' && close[1] != ':'))
			goto bad;
		hlen = (size_t)(close - item - 1);
		if (close[1] == ':')
			portstr = close + 2;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, item + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, ns.addr) != 1)
			goto bad;
		ns.family = 6;
	} else if (inet_pton(AF_INET6, item, ns.addr) == 1) {
		ns.family = 6;
	} else {
		close = strchr(item, ':');
		hlen = close != NULL ? (size_t)(close - item) : strlen(item);
		if (close != NULL)
			portstr = close + 1;
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, item, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, ns.addr) != 1)
			goto bad;
		ns.family = 4;
	}
	if (portstr != NULL) {
		if (!isdigit((unsigned char)*portstr))
			goto bad;
		errno = 0;
		port = strtoul(portstr, &end, 10);
		if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
			return options_fail(err, errlen, "--to-ns \"%s\": port "
			    "must be 1-65535", item);
	}
	ns.port = (uint16_t)port;
	return options_net_ns_add(o->to_ns, &o->nto_ns, &ns, "--to-ns", err, errlen);
 bad:
	return options_fail(err, errlen, "--to-ns \"%s\": expected IPV4[:PORT] "
	    "or [IPV6][:PORT]", item);
}

/* One --dns-domains item, normalised and kept once. */
static int
options_net_dns_domain(struct options *o, const char *item, char *err, size_t errlen)
{
	char		 norm[DNS_MSG_TEXT_MAX + 1], **nv;
	const char	*why;
	int		 i;

	if (dns_msg_domain_norm(item, strlen(item), norm, sizeof(norm), &why) != 0)
		return options_fail(err, errlen, "--dns-domains \"%s\": %s",
		    item, why);
	for (i = 0; i < o->ndns_domains; i++)
		if (strcmp(o->dns_domains[i], norm) == 0)
			return 0;
	if (o->ndns_domains == OPTIONS_MAX_DNS_DOMAINS)
		return options_fail(err, errlen, "--dns-domains: more than %d "
		    "domains", OPTIONS_MAX_DNS_DOMAINS);
	if ((nv = realloc(o->dns_domains, (size_t)(o->ndns_domains + 1) *
	    sizeof(*nv))) == NULL)
		return options_nomem(err, errlen);
	o->dns_domains = nv;
	if ((nv[o->ndns_domains] = strdup(norm)) == NULL)
		return options_nomem(err, errlen);
	o->ndns_domains++;
	return 0;
}

int
options_net_ns_hosts(struct options *o, const char *arg, char *err, size_t errlen)
{
	return options_net_each(o, "--ns-hosts", arg, options_net_ns_host, err,
	    errlen);
}

int
options_net_to_ns(struct options *o, const char *arg, char *err, size_t errlen)
{
	return options_net_each(o, "--to-ns", arg, options_net_to_ns_one, err,
	    errlen);
}

int
options_net_dns_domains(struct options *o, const char *arg, char *err,
    size_t errlen)
{
	return options_net_each(o, "--dns-domains", arg, options_net_dns_domain,
	    err, errlen);
}
