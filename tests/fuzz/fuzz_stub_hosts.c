/* SPDX-License-Identifier: ISC */
/*
 * fuzz_stub_hosts.c - the stub's auto-hosts parsers against hostile
 * input: PTR, A and AAAA answers from the remote's resolver
 * (stub_hostwatch.c), the neighbour table and hosts file text
 * (stub_hostwatch.c, stub_hosts.c), which a local user can shape, and
 * the kernel's IPv6 neighbour dump (stub_neigh.c).
 *
 * Invariants: no crash or overrun; a name taken from an answer is one a
 * HOSTS frame may carry; addresses from an answer are of the family
 * asked, at most the room given; the neighbours are IPv4 (the file) or
 * IPv6 (the dump), at most the room given, each once; hosts-file pairs
 * fit one frame.
 *
 * Input: the whole of it is an answer to the PTR query with its first
 * two bytes as id, for 198.19.0.2 and for 2001:db8::2 (the seeds carry
 * those questions), and to the A and AAAA queries for seeded.lab.internal;
 * a netlink dump with sequence number 1; then, NUL-terminated,
 * /proc/net/arp text and hosts text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub_hosts.h"
#include "stub_hostwatch.h"
#include "stub_neigh.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*addrs[] = { "198.19.0.2", "2001:db8::2" };
	char			 name[PROTO_HOST_NAME_MAX + 1], *text;
	struct addr		 a, nb[16], got[4];
	struct stub_hosts	*h;
	uint16_t		 id;
	size_t			 i, j, n;
	int			 r;

	id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	for (i = 0; i < 2; i++) {
		if (addr_parse(&a, addrs[i], (size_t)-1, 0, 0) != 0)
			abort();
		if (stub_hostwatch_ptr_answer(data, size, id, &a, name) == 0 &&
		    !proto_host_name_ok(name, strlen(name)))
			abort();
	}

	for (i = 0; i < 2; i++) {
		r = stub_hostwatch_addr_answer(data, size, id, "seeded.lab.internal",
		    i == 0 ? STUB_HOSTWATCH_T_A : STUB_HOSTWATCH_T_AAAA, got, 4);
		if (r < -1 || r > 4)
			abort();
		for (j = 0; j < (size_t)(r > 0 ? r : 0); j++)
			if (got[j].family != (i == 0 ? ADDR_V4 : ADDR_V6))
				abort();
	}
	n = 0;
	if (stub_neigh_parse(data, size, 1, nb, &n, 16) < -1 || n > 16)
		abort();
	for (i = 0; i < n; i++) {
		if (nb[i].family != ADDR_V6)
			abort();
		for (j = 0; j < i; j++)
			if (addr_equal(&nb[i], &nb[j]))
				abort();
	}

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	n = stub_hostwatch_arp_parse(text, nb, 16);
	if (n > 16)
		abort();
	for (i = 0; i < n; i++) {
		if (nb[i].family != ADDR_V4)
			abort();
		for (j = 0; j < i; j++)
			if (addr_equal(&nb[i], &nb[j]))
				abort();
	}
	if ((h = calloc(1, sizeof(*h))) != NULL) {
		(void)stub_hosts_parse(h, text);
		if (h->n > PROTO_HOSTS_MAX || h->bytes > PROTO_MAX_PAYLOAD)
			abort();
		free(h);
	}
	free(text);
	return 0;
}
