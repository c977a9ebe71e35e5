/* SPDX-License-Identifier: ISC */
/*
 * subnet.c - parse, print and match subnet specifications.
 *
 * Grammar (no spaces anywhere):
 *
 *	spec	= ipv4 [ "/" prefix ] [ ":" ports ]
 *		| ipv6 [ "/" prefix ]			(no port: ':' is ambiguous)
 *		| "[" ipv6 [ "/" prefix ] "]" [ ":" ports ]
 *		| hostname [ ":" ports ]		(only when names are allowed)
 *	ports	= port [ "-" port ]			(1-65535, low <= high)
 *
 * An IPv4 address followed by a prefix may be abbreviated the way
 * `ip route` reads it: the given octets are the leading ones, so "10/8"
 * is 10.0.0.0/8 and "172.16/12" is 172.16.0.0/12.  (inet_aton() would
 * make "10" the host part, 0.0.0.10, which is never what a route means.)
 * Without a prefix an abbreviated address is refused rather than guessed.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subnet.h"

#define SUBNET_MAX_SPEC		512	/* longer input is certainly wrong */
#define SUBNET_MAX_NAME		253	/* DNS limit on a host name */

/* A view into the specification string: not NUL-terminated. */
struct subnet_span {
	const char	*p;
	size_t		 len;
};

/*
 * Write `bad subnet "SPEC": REASON` into err, with the input made safe
 * for one line of a terminal (control characters become '?').
 */
static int __attribute__((format(printf, 5, 6)))
subnet_fail(char *err, size_t errlen, int code, const char *spec,
    const char *fmt, ...)
{
	char shown[80], reason[160];
	size_t i;
	va_list ap;

	if (err == NULL || errlen == 0)
		return code;
	for (i = 0; spec[i] != '\0' && i < sizeof(shown) - 4; i++)
		shown[i] = isprint((unsigned char)spec[i]) ? spec[i] : '?';
	if (spec[i] != '\0') {
		memcpy(shown + i, "...", 3);
		i += 3;
	}
	shown[i] = '\0';
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "bad subnet \"%s\": %s", shown, reason);
	return code;
}

/* Unsigned decimal of 1..`maxdigits` digits; false on anything else. */
static bool
subnet_number(struct subnet_span s, size_t maxdigits, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (s.len == 0 || s.len > maxdigits)
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s.p[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * Dotted decimal with 1 to 4 octets, leading octets first.  Octets with
 * leading zeros are refused: some tools read them as octal.
 * Returns the number of octets, or -1.
 */
static int
subnet_ipv4(struct subnet_span s, uint8_t out[4])
{
	struct subnet_span oct;
	unsigned long v;
	size_t i, start = 0;
	int n = 0;

	memset(out, 0, 4);
	for (i = 0; i <= s.len; i++) {
		if (i < s.len && s.p[i] != '.')
			continue;
		if (n == 4)
			return -1;
		oct.p = s.p + start;
		oct.len = i - start;
		if (!subnet_number(oct, 3, &v) || v > 255 ||
		    (oct.len > 1 && oct.p[0] == '0'))
			return -1;
		out[n++] = (uint8_t)v;
		start = i + 1;
	}
	return n;
}

static bool
subnet_ipv6(struct subnet_span s, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN];

	if (s.len == 0 || s.len >= sizeof(buf))
		return false;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1;
}

/* Letters, digits, '-', '_' and dots; labels of 1-63 not starting with '-'. */
static bool
subnet_hostname(struct subnet_span s)
{
	size_t i, label = 0;
	char c;

	if (s.len == 0 || s.len > SUBNET_MAX_NAME)
		return false;
	for (i = 0; i < s.len; i++) {
		c = s.p[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-' && c != '_')
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

static bool
subnet_all_digits_dots(struct subnet_span s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (s.p[i] != '.' && (s.p[i] < '0' || s.p[i] > '9'))
			return false;
	return true;
}

/* "port" or "lo-hi" into *lo, *hi.  0 or SUBNET_E_PORT (err written). */
static int
subnet_ports(struct subnet_span s, const char *spec, uint16_t *lo,
    uint16_t *hi, char *err, size_t errlen)
{
	struct subnet_span a = s, b = s;
	unsigned long vlo, vhi;
	const char *dash;

	if (s.len == 0)
		return subnet_fail(err, errlen, SUBNET_E_PORT, spec,
		    "missing port after ':'");
	if ((dash = memchr(s.p, '-', s.len)) != NULL) {
		a.len = (size_t)(dash - s.p);
		b.p = dash + 1;
		b.len = s.len - a.len - 1;
	}
	/* Six digits are enough to tell 65536..999999 from junk. */
	if (!subnet_number(a, 6, &vlo) || !subnet_number(b, 6, &vhi))
		return subnet_fail(err, errlen, SUBNET_E_PORT, spec,
		    "bad port \"%.*s\"", (int)s.len, s.p);
	if (vlo < 1 || vlo > 65535 || vhi < 1 || vhi > 65535)
		return subnet_fail(err, errlen, SUBNET_E_PORT, spec,
		    "port must be 1-65535");
	if (vlo > vhi)
		return subnet_fail(err, errlen, SUBNET_E_PORT, spec,
		    "port range %lu-%lu has low > high", vlo, vhi);
	*lo = (uint16_t)vlo;
	*hi = (uint16_t)vhi;
	return 0;
}

/* Clear every bit of addr past `prefix`. */
static void
subnet_mask(uint8_t *addr, size_t alen, unsigned int prefix)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		addr[i] &= (uint8_t)(0xff << (8 - prefix));
		prefix = 0;
	}
}

/* Keep `name` unresolved, in its place (subnet_list_resolve()). */
static int
subnet_add_name(struct subnet_list *list, struct subnet_span name,
    const struct subnet *tmpl, char *err, size_t errlen)
{
	struct subnet	  s = *tmpl;
	char		**nv, *copy;

	if ((copy = strndup(name.p, name.len)) == NULL ||
	    (nv = realloc(list->names, (list->nnames + 1) * sizeof(*nv))) == NULL) {
		free(copy);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return SUBNET_E_NOMEM;
	}
	list->names = nv;
	s.family = 0;
	s.name = (uint32_t)list->nnames + 1;
	if (subnet_list_add(list, &s) != 0) {
		free(copy);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return SUBNET_E_NOMEM;
	}
	list->names[list->nnames++] = copy;
	return 0;
}

int
subnet_parse(struct subnet_list *list, const char *spec, bool exclude,
    bool allow_names, char *err, size_t errlen)
{
	struct subnet_span addr, pfx, port;
	struct subnet s;
	const char *p, *close, *slash, *colon;
	unsigned long plen;
	size_t len, ncolon;
	bool bracketed = false, has_pfx = false, has_port = false;
	int maxbits, noct;

	if (err != NULL && errlen > 0)
		*err = '\0';
	if (spec == NULL || *spec == '\0')
		return subnet_fail(err, errlen, SUBNET_E_SYNTAX, "",
		    "empty subnet");
	len = strlen(spec);
	if (len > SUBNET_MAX_SPEC)
		return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
		    "too long");
	for (p = spec; *p != '\0'; p++)
		if (isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
			    "unexpected space or control character");

	memset(&s, 0, sizeof(s));
	s.exclude = exclude;
	s.port_lo = 0;
	s.port_hi = 65535;
	memset(&pfx, 0, sizeof(pfx));
	memset(&port, 0, sizeof(port));

	/* Split into address, prefix and port text. */
	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL)
			return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
			    "missing ']'");
		bracketed = true;
		addr.p = spec + 1;
		addr.len = (size_t)(close - addr.p);
		if (close[1] == ':') {
			has_port = true;
			port.p = close + 2;
			port.len = strlen(port.p);
		} else if (close[1] != '\0')
			return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
			    "unexpected text after ']'");
	} else {
		addr.p = spec;
		addr.len = len;
		for (ncolon = 0, p = spec; *p != '\0'; p++)
			ncolon += *p == ':';
		/* One colon separates a port; more make an IPv6 address. */
		if (ncolon == 1) {
			colon = strchr(spec, ':');
			has_port = true;
			addr.len = (size_t)(colon - spec);
			port.p = colon + 1;
			port.len = strlen(port.p);
		}
	}
	if ((slash = memchr(addr.p, '/', addr.len)) != NULL) {
		has_pfx = true;
		pfx.p = slash + 1;
		pfx.len = addr.len - (size_t)(pfx.p - addr.p);
		addr.len = (size_t)(slash - addr.p);
		if (pfx.len == 0)
			return subnet_fail(err, errlen, SUBNET_E_PREFIX, spec,
			    "missing prefix length after '/'");
	}
	if (addr.len == 0)
		return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
		    "missing address");

	/* The address itself. */
	if (!bracketed && subnet_all_digits_dots(addr)) {
		s.family = 4;
		if ((noct = subnet_ipv4(addr, s.addr)) < 0)
			return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
			    "not an IPv4 address");
		if (noct < 4 && !has_pfx)
			return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
			    "incomplete IPv4 address (write it in full, or "
			    "add a prefix length as in 10/8)");
	} else if (memchr(addr.p, ':', addr.len) != NULL) {
		s.family = 6;
		if (!subnet_ipv6(addr, s.addr))
			return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
			    "not an IPv6 address");
	} else if (bracketed) {
		return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
		    "brackets may only hold an IPv6 address");
	} else {
		if (!subnet_hostname(addr))
			return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
			    "not an address or host name");
		if (!allow_names)
			return subnet_fail(err, errlen, SUBNET_E_SYNTAX, spec,
			    "host names are not allowed here");
		if (has_pfx)
			return subnet_fail(err, errlen, SUBNET_E_PREFIX, spec,
			    "a host name takes no prefix length");
	}

	if (has_port && subnet_ports(port, spec, &s.port_lo, &s.port_hi,
	    err, errlen) != 0)
		return SUBNET_E_PORT;

	if (s.family == 0)
		return subnet_add_name(list, addr, &s, err, errlen);

	maxbits = s.family == 4 ? 32 : 128;
	if (has_pfx) {
		if (!subnet_number(pfx, 3, &plen) || plen > (unsigned long)maxbits)
			return subnet_fail(err, errlen, SUBNET_E_PREFIX, spec,
			    "prefix length must be 0-%d", maxbits);
		s.prefix = (uint8_t)plen;
	} else
		s.prefix = (uint8_t)maxbits;
	/*
	 * `ip route` refuses 10.1.2.3/8 ("Invalid prefix for given prefix
	 * length").  We accept it and keep the network, 10.0.0.0/8: a user
	 * who pastes a host address with its interface's prefix means that
	 * network, and subnet_format() shows what was understood.
	 */
	subnet_mask(s.addr, s.family == 4 ? 4 : 16, s.prefix);

	if (subnet_list_add(list, &s) != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return SUBNET_E_NOMEM;
	}
	return 0;
}

bool
subnet_list_has_names(const struct subnet_list *list)
{
	size_t	i;

	for (i = 0; i < list->n; i++)
		if (list->v[i].name != 0)
			return true;
	return false;
}

int
subnet_list_resolve(struct subnet_list *list, subnet_resolve_fn *fn, void *arg,
    char *err, size_t errlen)
{
	struct subnet_list	 out;
	struct addr		*a;
	struct subnet		 s;
	char			 why[160];
	size_t			 i, j, n;
	int			 r, ret = 0;

	if (!subnet_list_has_names(list))
		return 0;
	memset(&out, 0, sizeof(out));
	if ((a = calloc(SUBNET_MAX_ADDRS, sizeof(*a))) == NULL)
		goto nomem;
	for (i = 0; i < list->n; i++) {
		s = list->v[i];
		if (s.name == 0) {
			if (subnet_list_add(&out, &s) != 0)
				goto nomem;
			continue;
		}
		n = 0;
		why[0] = '\0';
		r = fn(arg, list->names[s.name - 1], a, SUBNET_MAX_ADDRS, &n, why,
		    sizeof(why));
		if (r == SUBNET_E_NOMEM)
			goto nomem;
		if (r != 0 || n == 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "cannot resolve host \"%s\": %s",
				    list->names[s.name - 1],
				    why[0] != '\0' ? why : "no address");
			ret = SUBNET_E_RESOLVE;
			goto out;
		}
		for (j = 0; j < n; j++) {
			s.name = 0;
			s.family = a[j].family;
			s.prefix = s.family == ADDR_V4 ? 32 : 128;
			memset(s.addr, 0, sizeof(s.addr));
			memcpy(s.addr, a[j].bytes, addr_size(s.family));
			if (subnet_list_add(&out, &s) != 0)
				goto nomem;
		}
	}
	/* Swap the resolved entries in; the names go with the old list. */
	free(list->v);
	list->v = out.v;
	list->n = out.n;
	list->cap = out.cap;
	out.v = NULL;
	for (i = 0; i < list->nnames; i++)
		free(list->names[i]);
	free(list->names);
	list->names = NULL;
	list->nnames = 0;
	goto out;
 nomem:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "out of memory");
	ret = SUBNET_E_NOMEM;
 out:
	free(out.v);
	free(a);
	return ret;
}

int
subnet_list_copy(struct subnet_list *dst, const struct subnet_list *src)
{
	size_t	i;

	memset(dst, 0, sizeof(*dst));
	if (src->n > 0 && (dst->v = calloc(src->n, sizeof(*dst->v))) == NULL)
		goto nomem;
	if (src->n > 0)
		memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
	if (src->nnames > 0 &&
	    (dst->names = calloc(src->nnames, sizeof(*dst->names))) == NULL)
		goto nomem;
	for (i = 0; i < src->nnames; i++) {
		if ((dst->names[i] = strdup(src->names[i])) == NULL)
			goto nomem;
		dst->nnames++;
	}
	return 0;
 nomem:
	subnet_list_free(dst);
	return SUBNET_E_NOMEM;
}

int
subnet_list_add(struct subnet_list *list, const struct subnet *s)
{
	struct subnet *nv;
	size_t ncap;

	if (list->n == list->cap) {
		ncap = list->cap == 0 ? 8 : list->cap * 2;
		if (ncap > SIZE_MAX / sizeof(*nv))
			return SUBNET_E_NOMEM;
		if ((nv = realloc(list->v, ncap * sizeof(*nv))) == NULL)
			return SUBNET_E_NOMEM;
		list->v = nv;
		list->cap = ncap;
	}
	list->v[list->n++] = *s;
	return 0;
}

void
subnet_list_free(struct subnet_list *list)
{
	size_t	i;

	if (list == NULL)
		return;
	free(list->v);
	list->v = NULL;
	list->n = list->cap = 0;
	for (i = 0; i < list->nnames; i++)
		free(list->names[i]);
	free(list->names);
	list->names = NULL;
	list->nnames = 0;
}

const char *
subnet_format(const struct subnet *s, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], ports[16] = "";
	bool v6 = s->family == 6;

	if (len == 0)
		return buf;
	if (s->name != 0) {
		snprintf(buf, len, "(host name)");
		return buf;
	}
	if (inet_ntop(v6 ? AF_INET6 : AF_INET, s->addr, a, sizeof(a)) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (s->port_lo == s->port_hi)
		snprintf(ports, sizeof(ports), ":%u", s->port_lo);
	else if (s->port_lo > 1 || s->port_hi < 65535)
		snprintf(ports, sizeof(ports), ":%u-%u", s->port_lo, s->port_hi);
	if (v6 && ports[0] != '\0')
		snprintf(buf, len, "[%s/%u]%s", a, s->prefix, ports);
	else
		snprintf(buf, len, "%s/%u%s", a, s->prefix, ports);
	return buf;
}

bool
subnet_contains(const struct subnet *s, uint8_t family, const uint8_t *addr)
{
	unsigned int bits = s->prefix, i;
	uint8_t m;

	if (family != s->family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (addr[i] != s->addr[i])
			return false;
	if (bits == 0)
		return true;
	m = (uint8_t)(0xff << (8 - bits));
	return (addr[i] & m) == (s->addr[i] & m);
}
