/* SPDX-License-Identifier: ISC */
/*
 * udp_flow.h - the client's table of UDP flows: one per local socket
 * (source address and port), found by that address when a datagram is
 * captured and by its flow id when the stub's frame comes back.
 *
 * Pure bookkeeping, no descriptors: unit-tested on its own.  Each flow
 * sits on one of two lists in the order of its last datagram, so that
 * the idle ones are found at the lists' heads without a scan: flows that
 * have sent only to port 53 (DNS lookups outside the capture, which never
 * send twice) expire sooner than the others.
 */
#ifndef CSHUTTLE_UDP_FLOW_H
#define CSHUTTLE_UDP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "queue.h"

struct udp_flow {
	struct addr		 local;		/* the application's socket */
	uint32_t		 id;		/* on the wire, never 0 */
	uint64_t		 last;		/* ms: the last datagram either way */
	bool			 dns_only;	/* sent only to port 53 so far */
	LIST_ENTRY(udp_flow)	 by_local, by_id;
	TAILQ_ENTRY(udp_flow)	 idle;
};

LIST_HEAD(udp_flow_bucket, udp_flow);
TAILQ_HEAD(udp_flow_list, udp_flow);

struct udp_flow_table {
	struct udp_flow_bucket	*local_b, *id_b;
	size_t			 nbuckets;	/* a power of two */
	struct udp_flow_list	 lists[2];	/* [0] others, [1] DNS only */
	size_t			 n, max;
	uint32_t		 next_id;
};

/* A table for at most max flows (>= 1).  0, or -1 out of memory. */
int	udp_flow_init(struct udp_flow_table *t, size_t max);
/* Free every flow and the table. */
void	udp_flow_fini(struct udp_flow_table *t);
/* Forget every flow (a session ended); ids go on counting. */
void	udp_flow_clear(struct udp_flow_table *t);

struct udp_flow *udp_flow_find(const struct udp_flow_table *t, const struct addr *local);
struct udp_flow *udp_flow_by_id(const struct udp_flow_table *t, uint32_t id);
/* A new flow for local with the next id, its first datagram at now to
 * port dport.  NULL at the maximum or out of memory. */
struct udp_flow *udp_flow_add(struct udp_flow_table *t, const struct addr *local,
	    uint16_t dport, uint64_t now);
/* A datagram of f at now: sent to port dport, or (dport 0) received. */
void	udp_flow_touch(struct udp_flow_table *t, struct udp_flow *f, uint16_t dport,
	    uint64_t now);
void	udp_flow_remove(struct udp_flow_table *t, struct udp_flow *f);
/* The least recently used flow idle for longer than its timeout (DNS-only
 * flows: dns_ms, others: ms), or NULL.  The caller removes it. */
struct udp_flow *udp_flow_expired(const struct udp_flow_table *t, uint64_t now,
	    uint64_t ms, uint64_t dns_ms);
/* When the next flow expires (0: no flows). */
uint64_t udp_flow_next_expiry(const struct udp_flow_table *t, uint64_t ms, uint64_t dns_ms);

#endif
