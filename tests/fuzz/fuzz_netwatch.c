/* SPDX-License-Identifier: ISC */
/*
 * fuzz_netwatch.c - the client's reading of rtnetlink (client/netwatch.c):
 * notifications of links, addresses and routes, and the answer to a route
 * query.  The kernel sends them, but a newer kernel's, or one cut short,
 * must not make the parsers read outside the buffer.
 *
 * Invariants checked: never more events than fit, each of a known kind
 * with an interface (routes: none) and a family exactly when it is an
 * address's; a path found has an interface and is
 * the same as itself; the decision on what was found never says anything
 * without saying why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netwatch.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netwatch_change	c;
	struct netwatch_path	old, now;
	uint8_t			*copy;
	char			why[256];
	size_t			i;
	unsigned		d;

	/* An aligned copy, as a receive buffer would be. */
	if ((copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	memset(&c, 0, sizeof(c));
	(void)netwatch_parse(&c, copy, size);
	if (c.nev > NETWATCH_MAX_EVENTS)
		abort();
	for (i = 0; i < c.nev; i++) {
		if (c.ev[i].kind < NETWATCH_ADDR_NEW || c.ev[i].kind > NETWATCH_ROUTE)
			abort();
		if ((c.ev[i].kind == NETWATCH_ROUTE) != (c.ev[i].ifindex == 0))
			abort();
		/* Addresses have a family, nothing else has. */
		if ((c.ev[i].kind == NETWATCH_ADDR_NEW || c.ev[i].kind == NETWATCH_ADDR_DEL) !=
		    (c.ev[i].family == ADDR_V4 || c.ev[i].family == ADDR_V6))
			abort();
		if (c.ev[i].family != 0 && c.ev[i].family != ADDR_V4 &&
		    c.ev[i].family != ADDR_V6)
			abort();
	}
	(void)netwatch_parse_route(copy, size, &now);
	if (now.ok && now.oif <= 0)
		abort();
	if (!netwatch_path_same(&now, &now))
		abort();
	memset(&old, 0, sizeof(old));
	old.ok = true;
	old.oif = 2;
	d = netwatch_decide(&c, &old, &now, 1, NULL, why, sizeof(why));
	if (d != 0 && why[0] == '\0')
		abort();
	netwatch_path_str(&now, NULL, why, sizeof(why));
	free(copy);
	return 0;
}
