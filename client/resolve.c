/* SPDX-License-Identifier: ISC */
/*
 * resolve.c - the host names of a set of options, resolved (resolve.h).
 */
#include <sys/socket.h>

#include <stdatomic.h>
#include <stdio.h>

#include "dns_resolve.h"
#include "options.h"
#include "resolve.h"
#include "subnet.h"

/* subnet_resolve_fn through the blocking resolver. */
static int
resolve_dns(void *arg, const char *name, struct addr *out, size_t max, size_t *n,
    char *why, size_t whylen)
{
	const atomic_bool	*cancel = arg;
	int			 r;

	if (cancel != NULL && atomic_load(cancel)) {
		snprintf(why, whylen, "cancelled");
		return -1;
	}
	r = dns_resolve(name, AF_UNSPEC, DNS_RESOLVE_TIMEOUT_MS, out, max, n, why,
	    whylen);
	if (r == DNS_E_NOMEM)
		return SUBNET_E_NOMEM;
	return r != 0 ? -1 : 0;
}

int
resolve_options(struct options *o, const atomic_bool *cancel, char *err,
    size_t errlen)
{
	/* The resolver only reads through the pointer. */
	return options_resolve(o, resolve_dns, (void *)cancel, err, errlen);
}
