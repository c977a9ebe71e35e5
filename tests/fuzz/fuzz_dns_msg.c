/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dns_msg.c - the client reads DNS queries from any local program
 * and answers from the stub or a local server: parsing them must never
 * read outside the input, and what it builds must be consistent.
 *
 * Invariants checked: a parsed question lies inside the input and its
 * name is well formed and lower case; the SERVFAIL reply made for a
 * query is accepted as an answer to that query; with no --dns-domains
 * every name is tunnelled; -H's answer with addresses is accepted as an
 * answer too; the input taken as an answer to a fixed query
 * is checked without crashing, and its truncated form is well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check_name(const struct dns_query_info *qi)
{
	size_t	pos = 0, i;

	if (qi->namelen == 0 || qi->namelen > DNS_MSG_NAME_MAX)
		abort();
	for (;;) {
		if (pos >= qi->namelen)
			abort();
		if (qi->name[pos] == 0)
			break;
		if (qi->name[pos] > 63)
			abort();
		for (i = 1; i <= qi->name[pos]; i++)
			if (pos + i >= qi->namelen ||
			    (qi->name[pos + i] >= 'A' && qi->name[pos + i] <= 'Z'))
				abort();
		pos += 1 + (size_t)qi->name[pos];
	}
	if (pos + 1 != qi->namelen)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 4, 'c', 'o', 'r', 'p', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
		0, 1, 0, 1,
	};
	char			*domains[3] = { "corp.example", "a", "x_y.z-1" };
	struct dns_query_info	 qi, fqi;
	uint8_t			 out[DNS_MSG_QUERY_MAX], out2[DNS_MSG_QUERY_MAX], *copy;
	char			 text[DNS_MSG_NAME_TEXT_MAX];
	int			 n;

	if (dns_msg_parse_query(data, size, &qi) == 0) {
		if (qi.qend > size || qi.qend < DNS_MSG_HDR_LEN + 5 ||
		    qi.udp_size < DNS_MSG_UDP_MIN)
			abort();
		fuzz_check_name(&qi);
		if (!dns_msg_name_under(&qi, domains, 0))
			abort();
		(void)dns_msg_name_under(&qi, domains, 3);
		dns_msg_name_text(&qi, text, sizeof(text));
		if (memchr(text, '\0', sizeof(text)) == NULL)
			abort();
		n = dns_msg_reply(data, &qi, DNS_MSG_RCODE_SERVFAIL, out, sizeof(out));
		if (n != (int)qi.qend || dns_msg_check_answer(data, &qi, out, (size_t)n) != 0)
			abort();
		if (dns_msg_truncate(data, &qi, out, (size_t)n, out2, sizeof(out2)) != n ||
		    memcmp(out2 + 4, out + 4, (size_t)n - 4) != 0)
			abort();
		/* -H's answer: 8 addresses fit any question, and the answer
		 * is accepted for the query. */
		n = dns_msg_addr_reply(data, &qi, data, 16, size / 16 < 8 ? size / 16 : 8,
		    60, out, qi.qend + 8 * (12 + 16));
		if (n < (int)qi.qend || dns_msg_check_answer(data, &qi, out, (size_t)n) != 0)
			abort();
	}

	/* The input as an answer to a fixed query, its ID stamped in. */
	if (dns_msg_parse_query(fixed, sizeof(fixed), &fqi) != 0)
		abort();
	if (size < 2 || (copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[0] = fixed[0];
	copy[1] = fixed[1];
	if (dns_msg_check_answer(fixed, &fqi, copy, size) == 0) {
		n = dns_msg_truncate(fixed, &fqi, copy, size, out, sizeof(out));
		if (n != (int)fqi.qend || dns_msg_check_answer(fixed, &fqi, out, (size_t)n) != 0)
			abort();
	}
	free(copy);
	return 0;
}
