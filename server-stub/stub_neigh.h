/* SPDX-License-Identifier: ISC */
/*
 * stub_neigh.h - the remote's IPv6 neighbours, for auto-hosts (-H): the
 * addresses whose names stub_hostwatch.h looks up.  IPv4 has
 * /proc/net/arp; IPv6 has no such file, so the table is dumped through
 * rtnetlink (RTM_GETNEIGH), with libc alone: the few constants and
 * layouts of that kernel interface are written here rather than taken
 * from the kernel headers, which a remote compiling the stub may lack.
 *
 * The request builder and the parser are pure (bytes in, values out) for
 * the unit tests and the fuzz target tests/fuzz/fuzz_stub_hosts.c; the
 * reader does a bounded number of non-blocking reads and never waits.
 */
#ifndef CSHUTTLE_STUB_NEIGH_H
#define CSHUTTLE_STUB_NEIGH_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define STUB_NEIGH_REQUEST_LEN	28	/* nlmsghdr (16) + ndmsg (12) */
#define STUB_NEIGH_READS	64	/* recv() calls per dump, at most */
#define STUB_NEIGH_BUF		32768	/* bytes per recv() */

/* An RTM_GETNEIGH dump request for AF_INET6 with sequence number seq into
 * buf.  Returns its length (STUB_NEIGH_REQUEST_LEN), or 0 when len is too
 * small. */
size_t	stub_neigh_request(uint8_t *buf, size_t len, uint32_t seq);
/*
 * One datagram of the kernel's answer to the request with seq, msg[0..len)
 * in host byte order as netlink sends it.  The global IPv6 addresses of
 * usable entries (reachable, stale, delay, probe or permanent; not
 * loopback, unspecified, link-local or multicast) are added to out[*n..max)
 * unless already there.  Messages of another sequence number are
 * skipped.  Returns 1 when the dump is over (NLMSG_DONE or an error),
 * 0 when more datagrams follow, -1 when msg is malformed (what was added
 * stays).
 */
int	stub_neigh_parse(const uint8_t *msg, size_t len, uint32_t seq,
	    struct addr *out, size_t *n, size_t max);
/* The remote's IPv6 neighbours added to out[n..max) as above; a table that
 * cannot be read adds nothing (logged at debug level).  Returns the new
 * count. */
size_t	stub_neigh_read6(struct addr *out, size_t n, size_t max);

#endif
