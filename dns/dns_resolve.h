/* SPDX-License-Identifier: ISC */
/*
 * dns_resolve.h - blocking, deadline-bounded host name resolution.
 *
 * Built on c-ares so that a dead DNS server costs at most the caller's
 * timeout, never libc's resolver retry schedule.  Used to expand host
 * names given as subnets and to find the SSH server's address.
 */
#ifndef CSHUTTLE_DNS_RESOLVE_H
#define CSHUTTLE_DNS_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DNS_E_NOTFOUND	-1	/* name does not exist or has no address */
#define DNS_E_TIMEOUT	-2	/* deadline passed before an answer */
#define DNS_E_FAIL	-3	/* anything else: server failure, bad name... */
#define DNS_E_NOMEM	-4

/* Default deadline for callers that have no better idea. */
#define DNS_RESOLVE_TIMEOUT_MS	5000

/*
 * Resolve `name` (a host name or a numeric address) to at most `max`
 * distinct addresses of `family` (AF_UNSPEC, AF_INET or AF_INET6), in
 * the order the resolver returned them, each with port 0 and scope 0
 * (ADDR_V4 or ADDR_V6, the rest of bytes[] zero).  /etc/hosts is consulted before
 * DNS, as nsswitch.conf asks.  Blocks for at most `timeout_ms`
 * milliseconds (<= 0 means DNS_RESOLVE_TIMEOUT_MS).
 *
 * Returns 0 with *n >= 1, or a DNS_E_* code with *n = 0 and a short
 * reason in err (without the name: callers add it).  Extra addresses
 * beyond `max` are dropped silently.  Names that cannot be DNS names
 * (empty, over 253 bytes, labels over 63 bytes, spaces or control
 * characters) fail with DNS_E_FAIL without any lookup.
 */
int	dns_resolve(const char *name, int family, int timeout_ms,
	    struct addr *out, size_t max, size_t *n, char *err, size_t errlen);

/*
 * Replace the resolver used by every later dns_resolve() call with `fn`
 * (same contract as dns_resolve), or restore c-ares with NULL.  This is
 * the seam unit tests use to give names fixed answers without touching
 * the network.  Not thread-safe.
 */
typedef int (*dns_resolve_fn)(const char *name, int family, int timeout_ms,
	    struct addr *out, size_t max, size_t *n, char *err, size_t errlen);
void	dns_resolve_set_hook(dns_resolve_fn fn);

#endif
