/* SPDX-License-Identifier: ISC */
/*
 * fw_udpsend.h - the helper's send channel: replies the client cannot
 * send itself, sent by the helper from their remote address and port.
 *
 * A reply normally leaves through a socket the helper has bound,
 * transparently, to the address and port the application sent to
 * (UDPREPLY, fw_proto.h).  That bind fails with EADDRINUSE while a local
 * program holds the same port on the wildcard address without
 * SO_REUSEADDR (a DNS forwarder on *:53, a game server): the replies of
 * those flows come here instead.  The helper sends them through raw
 * sockets of its own (IPPROTO_UDP, IP_TRANSPARENT, mark R), which never
 * leave it: in the client's hands a raw socket would send from any
 * address and port, and would outlive the rules that confine it.
 *
 * The channel is an AF_UNIX SOCK_DGRAM socketpair whose helper end
 * travels with UDPSEND.  Each datagram on it is one reply:
 *	0	family, 4 or 6
 *	1	0
 *	2-3	source port, big-endian, not 0
 *	4-5	destination port, big-endian, not 0
 *	6-7	0
 *	8-23	source address (IPv4: the first 4 bytes, the rest 0)
 *	24-39	destination address (likewise)
 *	40-43	the destination's scope id, big-endian (IPv6 only, else 0)
 *	44-	the payload, at most FW_UDPSEND_MAXDATA bytes
 * The helper sends only from a source the rules carry that is none of
 * its host's addresses (the checks of UDPREPLY).  Where a reply may go
 * is the rules' business: packets of mark R go only to this host or to
 * the allowed LAN sources ("udp_reply", fw_plan.h).
 *
 * The header functions are pure, for the unit tests and the fuzzer.
 */
#ifndef CSHUTTLE_FW_UDPSEND_H
#define CSHUTTLE_FW_UDPSEND_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define FW_UDPSEND_HDR		44
#define FW_UDPSEND_MAXDATA	65507	/* an IPv4 UDP datagram's payload */
#define FW_UDPSEND_MAX		(FW_UDPSEND_HDR + FW_UDPSEND_MAXDATA)

/* The header for a reply from src to dst into hdr (FW_UDPSEND_HDR
 * bytes).  0, or -1 for families that differ or a port 0. */
int		fw_udpsend_encode(uint8_t *hdr, const struct addr *src,
		    const struct addr *dst);
/* One datagram of the channel: its addresses, and where its payload
 * starts.  0, or -1 when it is not one a client could have written. */
int		fw_udpsend_parse(const uint8_t *buf, size_t len,
		    struct addr *src, struct addr *dst, const uint8_t **data,
		    size_t *datalen);
/* The UDP checksum of a datagram from src to dst: udp is its 8-byte
 * header (checksum field 0), data the payload.  Never 0 (RFC 768: an
 * all-zero result is sent as 0xffff). */
uint16_t	fw_udpsend_checksum(const struct addr *src,
		    const struct addr *dst, const uint8_t *udp,
		    const uint8_t *data, size_t datalen);

/*
 * The helper's raw sockets, one per family, opened on first use.
 */
struct fw_udpsend {
	int		fd4, fd6;
	uint32_t	mark;		/* R */
	uint64_t	sent, failed;
};

void	fw_udpsend_init(struct fw_udpsend *s, uint32_t mark);
void	fw_udpsend_close(struct fw_udpsend *s);
/* Send data from src to dst.  0, or -1 with errno set. */
int	fw_udpsend_send(struct fw_udpsend *s, const struct addr *src,
	    const struct addr *dst, const uint8_t *data, size_t datalen);

#endif
