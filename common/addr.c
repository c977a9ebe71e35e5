/* SPDX-License-Identifier: ISC */
/*
 * addr.c - parsing, printing and converting struct addr (see addr.h).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

size_t
addr_size(uint8_t family)
{
	return family == ADDR_V4 ? 4 : family == ADDR_V6 ? 16 : 0;
}

int
addr_af(uint8_t family)
{
	return family == ADDR_V4 ? AF_INET : family == ADDR_V6 ? AF_INET6 : AF_UNSPEC;
}

void
addr_set(struct addr *a, uint8_t family, const void *bytes, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->bytes, bytes, addr_size(family));
	a->port = port;
}

const char *
addr_strerror(int err)
{
	switch (err) {
	case ADDR_E_SYNTAX:
		return "not an IP address";
	case ADDR_E_PORT:
		return "port must be a number from 0 to 65535";
	case ADDR_E_SCOPE:
		return "unknown interface in the scope";
	default:
		return "unknown error";
	}
}

/* "0".."65535", digits only. */
static int
addr_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long	v = 0;
	size_t		i;

	if (len == 0 || len > 5)
		return ADDR_E_PORT;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ADDR_E_PORT;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return ADDR_E_PORT;
	*port = (uint16_t)v;
	return 0;
}

/* An IPv6 address with an optional %scope (interface name or index). */
static int
addr_parse6(struct addr *a, const char *s, size_t len, unsigned flags)
{
	char		 host[INET6_ADDRSTRLEN + 1], ifname[IF_NAMESIZE + 1];
	const char	*pct = memchr(s, '%', len);
	size_t		 hlen = pct != NULL ? (size_t)(pct - s) : len;
	unsigned long	 idx;
	char		*end;

	if (hlen == 0 || hlen >= sizeof(host))
		return ADDR_E_SYNTAX;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET6, host, a->bytes) != 1)
		return ADDR_E_SYNTAX;
	a->family = ADDR_V6;
	if (pct == NULL)
		return 0;
	if (!(flags & ADDR_P_SCOPE))
		return ADDR_E_SYNTAX;
	len -= hlen + 1;
	if (len == 0 || len >= sizeof(ifname))
		return ADDR_E_SCOPE;
	memcpy(ifname, pct + 1, len);
	ifname[len] = '\0';
	errno = 0;
	idx = strtoul(ifname, &end, 10);
	if (*end == '\0' && errno == 0 && idx > 0 && idx <= UINT32_MAX)
		a->scope = (uint32_t)idx;
	else if ((a->scope = if_nametoindex(ifname)) == 0)
		return ADDR_E_SCOPE;
	/* A scope means something for link-local addresses only. */
	if (!addr_is_linklocal(a))
		a->scope = 0;
	return 0;
}

int
addr_parse(struct addr *out, const char *s, size_t len, unsigned flags, uint16_t defport)
{
	struct addr	 a;
	char		 host[INET_ADDRSTRLEN + 1];
	const char	*close, *colon;
	int		 r;

	if (len == (size_t)-1)
		len = strlen(s);
	if (len == 0 || memchr(s, '\0', len) != NULL)
		return ADDR_E_SYNTAX;
	memset(&a, 0, sizeof(a));
	a.port = defport;
	if (s[0] == '[') {
		if ((close = memchr(s, ']', len)) == NULL)
			return ADDR_E_SYNTAX;
		if ((r = addr_parse6(&a, s + 1, (size_t)(close - s - 1), flags)) != 0)
			return r;
		len -= (size_t)(close - s) + 1;
		if (len == 0) {
			if (!(flags & (ADDR_P_BRACKET | ADDR_P_PORT)))
				return ADDR_E_SYNTAX;
		} else if (close[1] != ':' || !(flags & ADDR_P_PORT))
			return ADDR_E_SYNTAX;
		else if ((r = addr_port(close + 2, len - 1, &a.port)) != 0)
			return r;
		*out = a;
		return 0;
	}
	colon = memchr(s, ':', len);
	if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) != NULL) {
		/* Two colons or more: a bare IPv6 address, never a port. */
		if ((r = addr_parse6(&a, s, len, flags)) != 0)
			return r;
		*out = a;
		return 0;
	}
	if (colon != NULL && !(flags & ADDR_P_PORT))
		return ADDR_E_SYNTAX;
	if ((size_t)((colon != NULL ? colon : s + len) - s) >= sizeof(host))
		return ADDR_E_SYNTAX;
	memcpy(host, s, (size_t)((colon != NULL ? colon : s + len) - s));
	host[(colon != NULL ? colon : s + len) - s] = '\0';
	if (inet_pton(AF_INET, host, a.bytes) != 1)
		return ADDR_E_SYNTAX;
	a.family = ADDR_V4;
	if (colon != NULL &&
	    (r = addr_port(colon + 1, len - (size_t)(colon - s) - 1, &a.port)) != 0)
		return r;
	*out = a;
	return 0;
}

const char *
addr_format(const struct addr *a, bool with_port, char *buf, size_t len)
{
	char	host[INET6_ADDRSTRLEN], scope[16] = "";

	if (len == 0)
		return buf;
	if (a->family != ADDR_V4 && a->family != ADDR_V6) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	inet_ntop(addr_af(a->family), a->bytes, host, sizeof(host));
	if (a->family == ADDR_V6 && a->scope != 0)
		snprintf(scope, sizeof(scope), "%%%u", a->scope);
	if (!with_port)
		snprintf(buf, len, "%s%s", host, scope);
	else if (a->family == ADDR_V4)
		snprintf(buf, len, "%s:%u", host, a->port);
	else
		snprintf(buf, len, "[%s%s]:%u", host, scope, a->port);
	return buf;
}

socklen_t
addr_to_sockaddr(const struct addr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == ADDR_V4) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	if (a->family == ADDR_V6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		sin6->sin6_scope_id = a->scope;
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
	return 0;
}

int
addr_from_sockaddr(struct addr *a, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		addr_set(a, ADDR_V4, &sin->sin_addr, ntohs(sin->sin_port));
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(*sin6)) {
		addr_set(a, ADDR_V6, &sin6->sin6_addr, ntohs(sin6->sin6_port));
		a->scope = addr_is_linklocal(a) ? sin6->sin6_scope_id : 0;
		return 0;
	}
	return -1;
}

bool
addr_same_host(const struct addr *a, const struct addr *b)
{
	return a->family == b->family &&
	    memcmp(a->bytes, b->bytes, addr_size(a->family)) == 0;
}

bool
addr_equal(const struct addr *a, const struct addr *b)
{
	return addr_same_host(a, b) && a->port == b->port && a->scope == b->scope;
}

bool
addr_is_loopback(const struct addr *a)
{
	static const uint8_t	lo6[16] = { [15] = 1 };

	if (a->family == ADDR_V4)
		return a->bytes[0] == 127;
	return a->family == ADDR_V6 && memcmp(a->bytes, lo6, 16) == 0;
}

bool
addr_is_any(const struct addr *a)
{
	static const uint8_t	zero[16];

	return a->family != 0 && memcmp(a->bytes, zero, addr_size(a->family)) == 0;
}

bool
addr_is_linklocal(const struct addr *a)
{
	return a->family == ADDR_V6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}
