/*
 * subnet.h - subnet specifications as given on the command line.
 *
 * "10.0.0.0/8", "10/8" (ip-route style abbreviation: 10.0.0.0/8),
 * "0/0", "::/0", "fd00::/64", "192.168.1.5" (a /32), "[fd00::1]:443",
 * "10.0.0.0/8:8000-9000", "host.example" (every address it resolves to).
 */
#ifndef CSHUTTLE_SUBNET_H
#define CSHUTTLE_SUBNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct subnet {
	uint8_t		family;		/* 4 or 6 */
	uint8_t		prefix;		/* 0..32 or 0..128 */
	uint8_t		addr[16];	/* network address, host bits cleared */
	uint16_t	port_lo;	/* 0-65535; 0/65535 = all ports */
	uint16_t	port_hi;
	bool		exclude;	/* -x / -X */
};

struct subnet_list {
	struct subnet	*v;
	size_t		 n;
	size_t		 cap;
};

#define SUBNET_E_SYNTAX		-1	/* not an address, prefix or port range */
#define SUBNET_E_PREFIX		-2	/* prefix length out of range */
#define SUBNET_E_PORT		-3	/* bad port or lo > hi */
#define SUBNET_E_RESOLVE	-4	/* host name did not resolve */
#define SUBNET_E_NOMEM		-5

/*
 * Parse one specification and append every subnet it denotes to `list`
 * (a host name may add several).  Host names are resolved only when
 * `allow_names` is true.  Returns 0 or a SUBNET_E_* code; on error the
 * list is unchanged and `err` (if not NULL, `errlen` bytes) holds a
 * one-line reason naming the input.
 */
int	 subnet_parse(struct subnet_list *list, const char *spec, bool exclude,
	    bool allow_names, char *err, size_t errlen);
/* Append one subnet (copied).  0 or SUBNET_E_NOMEM. */
int	 subnet_list_add(struct subnet_list *list, const struct subnet *s);
void	 subnet_list_free(struct subnet_list *list);
/* "10.0.0.0/8:8000-9000" style text, NUL-terminated, into buf. */
const char *subnet_format(const struct subnet *s, char *buf, size_t len);
/* True when addr (4 or 16 bytes of `family`) lies inside s. */
bool	 subnet_contains(const struct subnet *s, uint8_t family, const uint8_t *addr);

#endif
