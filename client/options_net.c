/* SPDX-License-Identifier: ISC */
/*
 * options_net.c - the options whose values are network places: -l
 * (listen addresses), --ns-hosts and --to-ns (DNS servers), --dns-domains.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"
#include "options_int.h"
#include "proto.h"

_Static_assert(OPTIONS_MAX_SEEDS == PROTO_SEEDS_MAX,
    "--seed-hosts must fit in one HOSTS_SEED frame");

/*
 * A port as the options read it: decimal digits from the first byte of
 * s[0..len) on.  -1 when s does not start with a digit; 1 when the digits
 * are followed by something else or overflow an unsigned long; 0 with
 * *port set otherwise, whatever its value (the caller checks the range).
 * addr_parse() reads ports too, but gives one error for "not a number"
 * and "out of range", which the options' messages tell apart.
 */
static int
options_net_port(const char *s, size_t len, unsigned long *port)
{
	unsigned long	v = 0, d;
	size_t		i;

	if (len == 0 || !isdigit((unsigned char)s[0]))
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 1;
		d = (unsigned long)(s[i] - '0');
		if (v > (ULONG_MAX - d) / 10)
			return 1;
		v = v * 10 + d;
	}
	*port = v;
	return 0;
}

/*
 * Where the port of "ADDRESS:PORT" starts: the colon after the closing
 * bracket of "[IPV6]", else the first colon (an IPv4 address has none).
 * NULL when there is none.
 */
static const char *
options_net_port_colon(const char *s, size_t len)
{
	const char	*close = s;

	if (len > 0 && s[0] == '[' && (close = memchr(s, ']', len)) == NULL)
		return NULL;
	return memchr(close, ':', len - (size_t)(close - s));
}

/* A host name as -l takes it: letters, digits, '-', '_' and dots, not
 * starting with '-' or a dot, and a letter somewhere (300.1.1.1 is a bad
 * address, not a name). */
static bool
options_net_host_ok(const char *s, size_t len)
{
	size_t	i;
	bool	letter = false;

	if (len == 0 || len > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
		letter |= isalpha((unsigned char)s[i]) != 0;
	}
	return letter;
}

/* The port every listener shares: the first non-zero one given. */
static void
options_net_listen_port(struct options *o, unsigned long port)
{
	if (port == 0)
		return;
	if (o->listen_port == 0)
		o->listen_port = (uint16_t)port;
	else if (o->listen_port != port)
		options_compat_notice(o, "-l: all listen addresses share one "
		    "port, the first one given");
}

/*
 * One -l item: "PORT", "IPV4[:PORT]", "[IPV6][:PORT]" or "HOST:PORT"; a
 * missing port, or 0, means "pick a free one".  An IPv6 address needs
 * its brackets, as in sshuttle: "::1:5" would be ambiguous.  A host name
 * needs its port, so that a mistyped number is not taken for a name.
 */
static int
options_net_listen_one(struct options *o, struct options_state *st,
    const char *item, size_t len, char *err, size_t errlen)
{
	struct addr	 l;
	const char	*colon, *portstr = NULL, *host = item;
	unsigned long	 port = 0;
	size_t		 hostlen = len;
	char		 name[254];
	int		 i;

	memset(&l, 0, sizeof(l));
	if (len == 0)
		return options_fail(err, errlen, "-l: empty listen address");
	/* A bare port: the loopback addresses of options_net_listen_finish(). */
	if (options_net_port(item, len, &port) == 0) {
		if (port > 65535)
			goto range;
		if (st->listen_port_only != -1)
			return options_fail(err, errlen, "-l \"%.*s\": a port "
			    "without address was already given", (int)len, item);
		st->listen_port_only = (int)port;
		options_net_listen_port(o, port);
		return 0;
	}
	if ((colon = options_net_port_colon(item, len)) != NULL) {
		hostlen = (size_t)(colon - item);
		portstr = colon + 1;
		if (options_net_port(portstr, len - hostlen - 1, &port) != 0)
			goto bad;
		if (port > 65535)
			goto range;
	}
	if (addr_parse(&l, host, hostlen, ADDR_P_BRACKET, 0) == 0) {
		if (l.family == ADDR_V6 && host[0] != '[')
			goto bad;
		l.port = (uint16_t)port;
	} else if (host[0] == '[' || portstr == NULL ||
	    !options_net_host_ok(host, hostlen))
		goto bad;
	else {
		memcpy(name, host, hostlen);
		name[hostlen] = '\0';
		options_net_listen_port(o, port);
		st->nlisten_explicit++;
		return options_name_add(o, name, OPTIONS_NAME_LISTEN, (int)port,
		    err, errlen);
	}
	options_net_listen_port(o, port);
	st->nlisten_explicit++;
	for (i = 0; i < o->nlisten; i++)
		if (addr_same_host(&o->listen[i], &l))
			return 0;
	if (o->nlisten == OPTIONS_MAX_LISTEN)
		return options_fail(err, errlen, "-l: more than %d listen "
		    "addresses", OPTIONS_MAX_LISTEN);
	o->listen[o->nlisten++] = l;
	return 0;
 range:
	return options_fail(err, errlen, "-l \"%.*s\": port must be "
	    "0-65535", (int)len, item);
 bad:
	return options_fail(err, errlen, "-l \"%.*s\": expected PORT, "
	    "IPV4[:PORT], [IPV6][:PORT] or HOST:PORT", (int)len, item);
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
		have4 |= o->listen[i].family == ADDR_V4;
		have6 |= o->listen[i].family == ADDR_V6;
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
	if (o->nlisten + 2 > OPTIONS_MAX_LISTEN)
		return options_fail(err, errlen, "-l: more than %d listen "
		    "addresses", OPTIONS_MAX_LISTEN);
	if (!have4)
		addr_set(&o->listen[o->nlisten++], ADDR_V4, lo4, port);
	if (!have6 && !o->no_ipv6)
		addr_set(&o->listen[o->nlisten++], ADDR_V6, lo6, port);
	return 0;
}

/* Append a server to one of the two lists, skipping duplicates. */
int
options_net_ns_add(struct addr *list, int *n, const struct addr *ns,
    const char *opt, char *err, size_t errlen)
{
	int	i;

	for (i = 0; i < *n; i++)
		if (addr_equal(&list[i], ns))
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
	struct addr	ns;

	if (addr_parse(&ns, item, (size_t)-1, 0, 53) == 0)
		return options_net_ns_add(o->ns_hosts, &o->nns_hosts, &ns,
		    "--ns-hosts", err, errlen);
	return options_name_add(o, item, OPTIONS_NAME_NS_HOST, o->nns_hosts,
	    err, errlen);
}

/* One --to-ns item: IPV4[:PORT], IPV6, or [IPV6][:PORT]. */
static int
options_net_to_ns_one(struct options *o, const char *item, char *err, size_t errlen)
{
	struct addr	 ns;
	const char	*colon;
	unsigned long	 port;
	size_t		 len = strlen(item);
	int		 r;

	/* Without a port: a bare IPv6 address's colons are no port's. */
	if (addr_parse(&ns, item, len, ADDR_P_BRACKET, 53) == 0)
		goto add;
	if ((colon = options_net_port_colon(item, len)) == NULL ||
	    addr_parse(&ns, item, (size_t)(colon - item), ADDR_P_BRACKET, 0) != 0 ||
	    (r = options_net_port(colon + 1, strlen(colon + 1), &port)) < 0)
		return options_fail(err, errlen, "--to-ns \"%s\": expected "
		    "IPV4[:PORT] or [IPV6][:PORT]", item);
	if (r != 0 || port == 0 || port > 65535)
		return options_fail(err, errlen, "--to-ns \"%s\": port must be "
		    "1-65535", item);
	ns.port = (uint16_t)port;
 add:
	return options_net_ns_add(o->to_ns, &o->nto_ns, &ns, "--to-ns", err, errlen);
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

/* One --seed-hosts item: an IP address (kept as its canonical text) or a
 * host name as HOSTS_SEED carries it (lower case, no final dot). */
static int
options_net_seed_host(struct options *o, const char *item, size_t len, char *err,
    size_t errlen)
{
	char		 norm[PROTO_HOST_NAME_MAX + 2], **nv;
	struct addr	 a;
	size_t		 i;
	int		 k;

	if (addr_parse(&a, item, len, 0, 0) == 0)
		(void)addr_format(&a, false, norm, sizeof(norm));
	else {
		if (len > PROTO_HOST_NAME_MAX + 1)
			len = PROTO_HOST_NAME_MAX + 1;
		for (i = 0; i < len; i++)
			norm[i] = (char)tolower((unsigned char)item[i]);
		if (len > 1 && norm[len - 1] == '.')
			len--;
		norm[len] = '\0';
		if (!proto_host_name_ok(norm, len))
			return options_fail(err, errlen, "--seed-hosts \"%.64s\": "
			    "expected a host name or an IP address", item);
	}
	for (k = 0; k < o->nseed_hosts; k++)
		if (strcmp(o->seed_hosts[k], norm) == 0)
			return 0;
	if (o->nseed_hosts == OPTIONS_MAX_SEEDS)
		return options_fail(err, errlen, "--seed-hosts: more than %d hosts",
		    OPTIONS_MAX_SEEDS);
	if ((nv = realloc(o->seed_hosts, (size_t)(o->nseed_hosts + 1) *
	    sizeof(*nv))) == NULL)
		return options_nomem(err, errlen);
	o->seed_hosts = nv;
	if ((nv[o->nseed_hosts] = strdup(norm)) == NULL)
		return options_nomem(err, errlen);
	o->nseed_hosts++;
	return 0;
}

int
options_net_seed_hosts(struct options *o, const char *arg, char *err, size_t errlen)
{
	const char	*p = arg, *e;
	size_t		 n = 0;
	int		 ret;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ',' && *e != ' ' && *e != '\t' &&
		    *e != '\n'; e++)
			;
		if (e == p)
			return options_fail(err, errlen, "--seed-hosts \"%.64s\": "
			    "empty item", arg);
		if ((ret = options_net_seed_host(o, p, (size_t)(e - p), err,
		    errlen)) != 0)
			return ret;
		n++;
		p = *e == ',' ? e + 1 : e;
	}
	if (n == 0)
		return options_fail(err, errlen, "--seed-hosts: missing value");
	return 0;
}
