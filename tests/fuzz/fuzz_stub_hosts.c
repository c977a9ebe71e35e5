/* SPDX-License-Identifier: ISC */
/*
 * fuzz_stub_hosts.c - the stub's auto-hosts parsers against hostile
 * input: PTR answers from the remote's resolver (stub_hostwatch.c), and
 * the neighbour table and hosts file text (stub_hostwatch.c,
 * stub_hosts.c), which a local user can shape.
 *
 * Invariants: no crash or overrun; a name taken from an answer is one a
 * HOSTS frame may carry; the neighbours are IPv4, at most the room given,
 * each once; hosts-file pairs fit one frame.
 *
 * Input: the whole of it is an answer to the PTR query with its first
 * two bytes as id, for 198.19.0.2 and for 2001:db8::2 (the seeds carry
 * those questions); then, NUL-terminated, /proc/net/arp text and hosts
 * text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub_hosts.h"
#include "stub_hostwatch.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*addrs[] = { "198.19.0.2", "2001:db8::2" };
	char			 name[PROTO_HOST_NAME_MAX + 1], *text;
	struct addr		 a, nb[16];
	struct stub_hosts	*h;
	uint16_t		 id;
	size_t			 i, j, n;

	id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	for (i = 0; i < 2; i++) {
		if (addr_parse(&a, addrs[i], (size_t)-1, 0, 0) != 0)
			abort();
		if (stub_hostwatch_ptr_answer(data, size, id, &a, name) == 0 &&
		    !proto_host_name_ok(name, strlen(name)))
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
