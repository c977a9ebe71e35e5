/* SPDX-License-Identifier: ISC */
/*
 * subnet.h - subnet specifications as given on the command line.
 *
 * "10.0.0.0/8", "10/8" (ip-route style abbreviation: 10.0.0.0/8),
 * "0/0", "::/0", "fd00::/64", "192.168.1.5" (a /32), "[fd00::1]:443",
 * "10.0.0.0/8:8000-9000", "host.example" (every address it resolves to).
 *
 * Pure: a host name is kept as a name, in its place in the list, and
 * resolved later by whoever owns a resolver (subnet_list_resolve() with
 * the caller's function), so that parsing never blocks.
 */
#ifndef CSHUTTLE_SUBNET_H
#define CSHUTTLE_SUBNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct subnet {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		prefix;		/* 0..32 or 0..128 */
	uint8_t		addr[16];	/* network address, host bits cleared */
	uint16_t	port_lo;	/* 0-65535; 0/65535 = all ports */
	uint16_t	port_hi;
	bool		exclude;	/* -x / -X */
	uint32_t	name;		/* a host name not resolved yet: its index
					 * in names[] plus one (family is then 0);
					 * 0 for an address */
};

struct subnet_list {
	struct subnet	*v;
	size_t		 n;
	size_t		 cap;
	char		**names;	/* host names of unresolved entries */
	size_t		 nnames;
};

#define SUBNET_E_SYNTAX		-1	/* not an address, prefix or port range */
#define SUBNET_E_PREFIX		-2	/* prefix length out of range */
#define SUBNET_E_PORT		-3	/* bad port or lo > hi */
#define SUBNET_E_RESOLVE	-4	/* host name did not resolve */
#define SUBNET_E_NOMEM		-5

#define SUBNET_MAX_ADDRS	64	/* addresses taken from one host name */

/*
 * Parse one specification and append it to `list`: an address or
 * network as it is, a host name (only when `allow_names` is true) as an
 * unresolved entry carrying the port range and exclusion.  Returns 0 or
 * a SUBNET_E_* code; on error the list is unchanged and `err` (if not
 * NULL, `errlen` bytes) holds a one-line reason naming the input.
 */
int	 subnet_parse(struct subnet_list *list, const char *spec, bool exclude,
	    bool allow_names, char *err, size_t errlen);

/*
 * Resolve a host name into at most `max` addresses (port 0): 0 with *n
 * set, -1 with a reason in why, SUBNET_E_NOMEM when memory ran out.
 */
typedef int	subnet_resolve_fn(void *arg, const char *name, struct addr *out,
		    size_t max, size_t *n, char *why, size_t whylen);

/*
 * Replace every unresolved entry by one host subnet (/32 or /128) per
 * address `fn` gives for its name, in its place.  Returns 0,
 * SUBNET_E_RESOLVE ("cannot resolve host \"x\": why" in err) or
 * SUBNET_E_NOMEM; the list is unchanged on error.
 */
int	 subnet_list_resolve(struct subnet_list *list, subnet_resolve_fn *fn, void *arg,
	    char *err, size_t errlen);
/* True when the list holds names that subnet_list_resolve() has not
 * turned into addresses yet. */
bool	 subnet_list_has_names(const struct subnet_list *list);
/* Append one subnet (copied; an address, never a name).  0 or
 * SUBNET_E_NOMEM. */
int	 subnet_list_add(struct subnet_list *list, const struct subnet *s);
/* A deep copy of src into *dst (empty before).  0 or SUBNET_E_NOMEM. */
int	 subnet_list_copy(struct subnet_list *dst, const struct subnet_list *src);
void	 subnet_list_free(struct subnet_list *list);
/* "10.0.0.0/8:8000-9000" style text, NUL-terminated, into buf
 * ("(host name)" for an unresolved entry). */
const char *subnet_format(const struct subnet *s, char *buf, size_t len);
/* True when addr (4 or 16 bytes of `family`) lies inside s. */
bool	 subnet_contains(const struct subnet *s, uint8_t family, const uint8_t *addr);

#endif
