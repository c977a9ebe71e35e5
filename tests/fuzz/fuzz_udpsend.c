/* SPDX-License-Identifier: ISC */
/*
 * fuzz_udpsend.c - the helper's send channel (firewall/fw_udpsend.c): the
 * root helper reads these datagrams from the client.  What the parser
 * accepts must encode back to the same bytes (one spelling per datagram),
 * and the checksum must be computable over any payload it lets through.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_udpsend.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct addr	 src, dst;
	const uint8_t	*data;
	size_t		 datalen;
	uint8_t		 hdr[FW_UDPSEND_HDR], udp[8] = { 0 };

	if (fw_udpsend_parse(buf, len, &src, &dst, &data, &datalen) != 0)
		return 0;
	if (data != buf + FW_UDPSEND_HDR || datalen != len - FW_UDPSEND_HDR)
		abort();
	if (fw_udpsend_encode(hdr, &src, &dst) != 0 ||
	    memcmp(hdr, buf, FW_UDPSEND_HDR) != 0)
		abort();
	if (fw_udpsend_checksum(&src, &dst, udp, data, datalen) == 0)
		abort();
	return 0;
}
