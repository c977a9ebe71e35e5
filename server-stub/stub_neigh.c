/* SPDX-License-Identifier: ISC */
/*
 * stub_neigh.c - the IPv6 neighbour table through rtnetlink (see
 * stub_neigh.h).
 *
 * The kernel answers a dump in datagrams of whole messages; the first is
 * ready when send() returns and each recv() prepares the next, so
 * non-blocking reads never have to wait for one.  A bounded number of
 * them keeps a huge table (or a kernel that keeps answering) from
 * holding up the event loop: the names are a convenience.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stub_neigh.h"

/* The kernel interface (linux/netlink.h, linux/rtnetlink.h,
 * linux/neighbour.h): stable numbers and layouts. */
#define STUB_NEIGH_NETLINK_ROUTE	0
#define STUB_NEIGH_NLMSG_ERROR		2
#define STUB_NEIGH_NLMSG_DONE		3
#define STUB_NEIGH_RTM_NEWNEIGH		28
#define STUB_NEIGH_RTM_GETNEIGH		30
#define STUB_NEIGH_F_REQUEST		0x0001
#define STUB_NEIGH_F_DUMP		0x0300
#define STUB_NEIGH_NDA_DST		1
#define STUB_NEIGH_HDR			16	/* nlmsghdr: len, type, flags, seq, pid */
#define STUB_NEIGH_NDMSG		12	/* family, pads, ifindex, state, flags, type */
#define STUB_NEIGH_RTA			4	/* rtattr: len, type */
/* Entries that name a host that answers, or did lately: reachable, stale,
 * delay, probe, permanent (not incomplete, failed or noarp). */
#define STUB_NEIGH_STATES		(0x02 | 0x04 | 0x08 | 0x10 | 0x80)

#define STUB_NEIGH_ALIGN(x)		(((x) + 3U) & ~(size_t)3U)

static uint32_t
stub_neigh_u32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t
stub_neigh_u16(const uint8_t *p)
{
	uint16_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

size_t
stub_neigh_request(uint8_t *buf, size_t len, uint32_t seq)
{
	uint32_t	v32;
	uint16_t	v16;

	if (len < STUB_NEIGH_REQUEST_LEN)
		return 0;
	memset(buf, 0, STUB_NEIGH_REQUEST_LEN);
	v32 = STUB_NEIGH_REQUEST_LEN;
	memcpy(buf, &v32, 4);
	v16 = STUB_NEIGH_RTM_GETNEIGH;
	memcpy(buf + 4, &v16, 2);
	v16 = STUB_NEIGH_F_REQUEST | STUB_NEIGH_F_DUMP;
	memcpy(buf + 6, &v16, 2);
	memcpy(buf + 8, &seq, 4);
	buf[STUB_NEIGH_HDR] = AF_INET6;		/* ndm_family */
	return STUB_NEIGH_REQUEST_LEN;
}

/* The NDA_DST of one RTM_NEWNEIGH body b[0..len), when it is an entry
 * worth a name: 0 with *a set, else -1. */
static int
stub_neigh_entry(const uint8_t *b, size_t len, struct addr *a)
{
	size_t		off = STUB_NEIGH_NDMSG, rl;
	uint16_t	state;

	if (len < STUB_NEIGH_NDMSG || b[0] != AF_INET6)
		return -1;
	state = stub_neigh_u16(b + 8);
	if ((state & STUB_NEIGH_STATES) == 0)
		return -1;
	while (len - off >= STUB_NEIGH_RTA) {
		rl = stub_neigh_u16(b + off);
		if (rl < STUB_NEIGH_RTA || rl > len - off)
			return -1;
		if (stub_neigh_u16(b + off + 2) == STUB_NEIGH_NDA_DST) {
			if (rl != STUB_NEIGH_RTA + 16)
				return -1;
			addr_set(a, ADDR_V6, b + off + STUB_NEIGH_RTA, 0);
			/* Multicast (ff00::/8) names no neighbour. */
			if (addr_is_loopback(a) || addr_is_any(a) ||
			    addr_is_linklocal(a) || a->bytes[0] == 0xff)
				return -1;
			return 0;
		}
		if (STUB_NEIGH_ALIGN(rl) >= len - off)
			break;
		off += STUB_NEIGH_ALIGN(rl);
	}
	return -1;
}

int
stub_neigh_parse(const uint8_t *msg, size_t len, uint32_t seq, struct addr *out,
    size_t *n, size_t max)
{
	size_t		off = 0, ml, i;
	uint16_t	type;
	struct addr	a;

	while (len - off >= STUB_NEIGH_HDR) {
		ml = stub_neigh_u32(msg + off);
		if (ml < STUB_NEIGH_HDR || ml > len - off)
			return -1;
		type = stub_neigh_u16(msg + off + 4);
		if (stub_neigh_u32(msg + off + 8) == seq) {
			if (type == STUB_NEIGH_NLMSG_DONE || type == STUB_NEIGH_NLMSG_ERROR)
				return 1;
			if (type == STUB_NEIGH_RTM_NEWNEIGH && *n < max &&
			    stub_neigh_entry(msg + off + STUB_NEIGH_HDR,
			    ml - STUB_NEIGH_HDR, &a) == 0) {
				for (i = 0; i < *n && !addr_equal(&out[i], &a); i++)
					;
				if (i == *n)
					out[(*n)++] = a;
			}
		}
		if (STUB_NEIGH_ALIGN(ml) >= len - off)
			break;
		off += STUB_NEIGH_ALIGN(ml);
	}
	return 0;
}

size_t
stub_neigh_read6(struct addr *out, size_t n, size_t max)
{
	uint8_t		 req[STUB_NEIGH_REQUEST_LEN], *buf = NULL;
	uint32_t	 seq = (uint32_t)getpid();
	ssize_t		 got;
	int		 fd, i, r = 0;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, STUB_NEIGH_NETLINK_ROUTE)) == -1) {
		log_debug("hosts: no IPv6 neighbours: netlink: %s", strerror(errno));
		return n;
	}
	/* Without an address, netlink sends to the kernel. */
	if ((buf = malloc(STUB_NEIGH_BUF)) == NULL ||
	    send(fd, req, stub_neigh_request(req, sizeof(req), seq), 0) == -1) {
		log_debug("hosts: no IPv6 neighbours: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < STUB_NEIGH_READS && r == 0; i++) {
		got = recv(fd, buf, STUB_NEIGH_BUF, MSG_DONTWAIT);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		r = stub_neigh_parse(buf, (size_t)got, seq, out, &n, max);
	}
 out:
	free(buf);
	close(fd);
	return n;
}
