/* SPDX-License-Identifier: ISC */
/*
 * stub_hostwatch.h - the pieces of auto-hosts (-H) that go beyond the
 * hosts file (stub_hosts.h): the remote's neighbour tables (IPv4 here,
 * IPv6 in stub_neigh.h) and reverse (PTR) lookups of their addresses
 * through the remote's resolver, and the client's seeds (--seed-hosts,
 * HOSTS_SEED): a PTR lookup for an address, A and AAAA lookups for a
 * name.
 *
 * The parsers and message builders are pure (bytes in, values out) for
 * the unit tests and the fuzz target tests/fuzz/fuzz_stub_hosts.c: the
 * answers come from the network and are checked against their bounds
 * before any byte is read.
 *
 * The lookups run inside the stub's event loop, never blocking: at most
 * STUB_HOSTWATCH_LOOKUPS neighbours and the seeds' lookups per session,
 * STUB_HOSTWATCH_INFLIGHT at a time (the seeds first: the user asked for
 * them), each one UDP datagram on its own connected socket to one of the
 * resolv.conf servers.  The session's one HOSTS frame waits for them and
 * for the client's HOSTS_SEED, at most STUB_HOSTWATCH_WAIT_MS after the
 * client's HELLO (docs/PROTOCOL.md section 6).
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
#define STUB_HOSTWATCH_LOOKUPS	256	/* neighbours' reverse lookups per session */
#define STUB_HOSTWATCH_INFLIGHT	4	/* at a time */
#define STUB_HOSTWATCH_SERVERS	3	/* taken from resolv.conf */
#define STUB_HOSTWATCH_TRY_MS	1000	/* per lookup */
#define STUB_HOSTWATCH_WAIT_MS	3000	/* HELLO to HOSTS, at most */
/* "f.f. ... .f.ip6.arpa": 32 nibbles with their dots, the suffix, NUL. */
#define STUB_HOSTWATCH_PTR_NAME_MAX	(32 * 2 + 8 + 1)
/* A query: header, the name in labels (one more byte than the text,
 * plus the root), type and class. */
#define STUB_HOSTWATCH_QUERY_MAX	(12 + PROTO_HOST_NAME_MAX + 2 + 4)
#define STUB_HOSTWATCH_ADDRS	16	/* addresses taken from one answer */

/* Record types asked for. */
#define STUB_HOSTWATCH_T_A	1
#define STUB_HOSTWATCH_T_PTR	12
#define STUB_HOSTWATCH_T_AAAA	28

struct stub_hostwatch;

/* One lookup to make: the PTR of a, or (A, AAAA) a seed's name. */
struct stub_hostwatch_target {
	struct addr		 a;
	uint16_t		 qtype;		/* STUB_HOSTWATCH_T_* */
	uint16_t		 seed;		/* A, AAAA: index in seed_names */
};

struct stub_hostwatch_query {
	struct stub_hostwatch	*w;
	struct ev_io		 io;		/* fd -1: slot free */
	struct stub_hostwatch_target t;
	uint64_t		 deadline;
	uint16_t		 id;
};

struct stub_hostwatch {
	struct ev_loop		*loop;
	struct mux		*mux;
	struct stub_hosts	*hosts;		/* non-NULL while gathering */
	struct addr		 targets[STUB_HOSTWATCH_LOOKUPS];	/* neighbours */
	size_t			 ntargets, next;
	/* The client's HOSTS_SEED: asked before the neighbours. */
	struct stub_hostwatch_target seeds[2 * PROTO_SEEDS_MAX];
	size_t			 nseeds, seed_next;
	char			 seed_names[PROTO_SEEDS_MAX][PROTO_HOST_NAME_MAX + 1];
	int			 seeded;	/* HOSTS_SEED arrived */
	size_t			 asked;		/* lookups started: picks the server */
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
 * neighbours (IPv4, then IPv6, STUB_HOSTWATCH_LOOKUPS in all); HOSTS goes
 * out when they are done and the client's HOSTS_SEED has been taken, or
 * after STUB_HOSTWATCH_WAIT_MS.  Once per session.  0, or -1 when out of
 * memory (nothing is sent). */
int	stub_hostwatch_start(struct stub_hostwatch *w);
/* The client's HOSTS_SEED (checked by proto_parse): its addresses get a
 * PTR lookup, its names A and AAAA lookups, before the neighbours left.
 * Ignored (logged) once HOSTS has gone out. */
void	stub_hostwatch_seed(struct stub_hostwatch *w, const struct proto_frame *f);
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
/* A recursive DNS query with id for the records of type qtype of name
 * (which proto_host_name_ok accepts) into buf.  Returns its length, or 0
 * when it does not fit or the name is not one. */
size_t	stub_hostwatch_query(uint8_t *buf, size_t len, uint16_t id, const char *name,
	    uint16_t qtype);
/* The addresses of an answer msg[0..len) to the query for the A (ADDR_V4)
 * or AAAA (ADDR_V6) records of name with id: a response with that id, no
 * error, one question that is (name, qtype), and records of that type
 * owned by name or by the end of the CNAME chain from it, in answer
 * order.  At most max go to out (port 0).  Returns how many, or -1 when
 * the answer is not one to that query. */
int	stub_hostwatch_addr_answer(const uint8_t *msg, size_t len, uint16_t id,
	    const char *name, uint16_t qtype, struct addr *out, size_t max);
/* The first PTR name in answer msg[0..len) to the query for a with id:
 * a response with that id, no error, one question that is a's PTR name,
 * the record's name lower-cased and without a final dot, and only when
 * proto_host_name_ok accepts it.  Compression pointers are followed
 * within msg, a bounded number of times.  name must hold
 * PROTO_HOST_NAME_MAX + 1 bytes.  0, or -1 with nothing usable. */
int	stub_hostwatch_ptr_answer(const uint8_t *msg, size_t len, uint16_t id,
	    const struct addr *a, char *name);

#endif
