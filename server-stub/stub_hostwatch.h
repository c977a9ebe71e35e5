/* SPDX-License-Identifier: ISC */
/*
 * stub_hostwatch.h - the pieces of auto-hosts (-H) that go beyond the
 * hosts file (stub_hosts.h): the remote's neighbour table and reverse
 * (PTR) lookups of its addresses through the remote's resolver.
 *
 * The parsers and message builders are pure (bytes in, values out) for
 * the unit tests and the fuzz target tests/fuzz/fuzz_stub_hosts.c: the
 * answers come from the network and are checked against their bounds
 * before any byte is read.
 *
 * The lookups run inside the stub's event loop, never blocking: at most
 * STUB_HOSTWATCH_LOOKUPS per session, STUB_HOSTWATCH_INFLIGHT at a time,
 * each one UDP datagram on its own connected socket to one of the
 * resolv.conf servers.  The session's one HOSTS frame waits for them, at
 * most STUB_HOSTWATCH_WAIT_MS after the client's HELLO
 * (docs/PROTOCOL.md section 6).
 */
#ifndef CSHUTTLE_STUB_HOSTWATCH_H
#define CSHUTTLE_STUB_HOSTWATCH_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "ev.h"
#include "mux.h"
#include "proto.h"
#include "resolv.h"
#include "stub_hosts.h"

#define STUB_HOSTWATCH_ARP_FILE	"/proc/net/arp"
#define STUB_HOSTWATCH_LOOKUPS	256	/* reverse lookups per session */
#define STUB_HOSTWATCH_INFLIGHT	4	/* at a time */
#define STUB_HOSTWATCH_SERVERS	3	/* taken from resolv.conf */
#define STUB_HOSTWATCH_TRY_MS	1000	/* per lookup */
#define STUB_HOSTWATCH_WAIT_MS	3000	/* HELLO to HOSTS, at most */
/* "f.f. ... .f.ip6.arpa": 32 nibbles with their dots, the suffix, NUL. */
#define STUB_HOSTWATCH_PTR_NAME_MAX	(32 * 2 + 8 + 1)
/* A PTR query: header, the name in labels (one more byte than the text,
 * plus the root), type and class. */
#define STUB_HOSTWATCH_QUERY_MAX	(12 + STUB_HOSTWATCH_PTR_NAME_MAX + 1 + 4)

struct stub_hostwatch;

struct stub_hostwatch_query {
	struct stub_hostwatch	*w;
	struct ev_io		 io;		/* fd -1: slot free */
	struct addr		 target;
	uint64_t		 deadline;
	uint16_t		 id;
};

struct stub_hostwatch {
	struct ev_loop		*loop;
	struct mux		*mux;
	struct stub_hosts	*hosts;		/* non-NULL while gathering */
	struct addr		 targets[STUB_HOSTWATCH_LOOKUPS];
	size_t			 ntargets, next;
	struct addr		 servers[STUB_HOSTWATCH_SERVERS];
	size_t			 nservers;
	struct stub_hostwatch_query q[STUB_HOSTWATCH_INFLIGHT];
	struct ev_timer		 timer;
	uint64_t		 end;		/* HOSTS goes out by then */
	size_t			 names;		/* found by the lookups */
};

/* 0, or -1 (no timer slot left). */
int	stub_hostwatch_init(struct stub_hostwatch *w, struct ev_loop *loop,
	    struct mux *m);
/* Gather the names: the hosts file now, then reverse lookups of the
 * neighbours; HOSTS goes out when they are done or after
 * STUB_HOSTWATCH_WAIT_MS (at once when there is nothing to look up).
 * Once per session.  0, or -1 when out of memory (nothing is sent). */
int	stub_hostwatch_start(struct stub_hostwatch *w);
/* Close every socket and free what is held; HOSTS is not sent. */
void	stub_hostwatch_free(struct stub_hostwatch *w);

/* The IPv4 addresses of complete entries of /proc/net/arp text (the
 * header line and incomplete entries, flags 0, skipped; loopback,
 * unspecified and link-local (169.254/16) addresses too), each once, at
 * most max.  Returns how many were stored in out. */
size_t	stub_hostwatch_arp_parse(const char *text, struct addr *out, size_t max);
/* The reverse-lookup name of a: "d.c.b.a.in-addr.arpa" or the 32
 * nibbles of "ip6.arpa", lower case.  0, or -1 when a has no family or
 * len is too small. */
int	stub_hostwatch_ptr_name(const struct addr *a, char *buf, size_t len);
/* A recursive DNS query with id for the PTR record of a into buf.
 * Returns its length, or 0 when it does not fit or a has no family. */
size_t	stub_hostwatch_ptr_query(uint8_t *buf, size_t len, uint16_t id,
	    const struct addr *a);
/* The first PTR name in answer msg[0..len) to the query for a with id:
 * a response with that id, no error, one question that is a's PTR name,
 * the record's name lower-cased and without a final dot, and only when
 * proto_host_name_ok accepts it.  Compression pointers are followed
 * within msg, a bounded number of times.  name must hold
 * PROTO_HOST_NAME_MAX + 1 bytes.  0, or -1 with nothing usable. */
int	stub_hostwatch_ptr_answer(const uint8_t *msg, size_t len, uint16_t id,
	    const struct addr *a, char *name);

#endif
