/* SPDX-License-Identifier: ISC */
/*
 * stub_udp.h - the stub's UDP flows (docs/PROTOCOL.md section 10): each
 * flow the client opens gets one unconnected non-blocking socket, which
 * sends the flow's UDP_DATA to whatever destination each names and
 * receives from anyone (endpoint-independent mapping); what it receives
 * goes back as UDP_DATA, failed sends and ICMP errors as UDP_DROP.
 *
 * Nothing here ever waits: a datagram that its socket or the link cannot
 * take is dropped and counted, and an error never closes a flow.  Flows
 * end with the client's UDP_CLOSE, with an invalid frame (UDP_CLOSE
 * reason PROTOCOL back) and with the session.  Inside the stub's event
 * loop, like stub_dns.
 */
#ifndef CSHUTTLE_STUB_UDP_H
#define CSHUTTLE_STUB_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "log.h"
#include "mux.h"
#include "proto.h"
#include "queue.h"

/*
 * Flows open at once: this many, and no more than half the descriptors
 * (RLIMIT_NOFILE when the session starts), so that UDP cannot take the
 * sockets TCP streams need.  Beyond it: UDP_CLOSE reason RESOURCE.
 */
#define STUB_UDP_MAX_FLOWS	4096
#define STUB_UDP_BUCKETS	1024	/* client ids count up: id % this spreads them */
#define STUB_UDP_RX_BATCH	16	/* datagrams read from one socket per event */
#define STUB_UDP_DROP_MS	1000	/* at most one UDP_DROP per flow this often */
/*
 * Ids of flows the stub closed itself, remembered so that datagrams the
 * client sent before our UDP_CLOSE reached it are dropped (they crossed
 * on the wire) instead of opening a flow the client no longer knows,
 * whose socket nobody would ever close.  The client never reuses an id,
 * and a crossing takes one round trip: the last few hundred suffice.
 */
#define STUB_UDP_CLOSED		256
#define STUB_UDP_LOG_MS		10000	/* one line about refused flows this often */

struct stub_udp_flow;
LIST_HEAD(stub_udp_bucket, stub_udp_flow);
SLIST_HEAD(stub_udp_garbage, stub_udp_flow);

struct stub_udp {
	struct ev_loop		*loop;
	struct mux		*mux;
	struct stub_udp_bucket	 flows[STUB_UDP_BUCKETS];
	struct stub_udp_garbage	 garbage;	/* closed, freed after the pass */
	size_t			 nflows, max_flows;
	uint32_t		 closed[STUB_UDP_CLOSED];	/* a ring; 0 = empty */
	unsigned		 closed_next;
	/* For the debug summary: flows, datagrams each way, drops by cause. */
	uint64_t		 opened, refused, bad;
	uint64_t		 sent, received;
	uint64_t		 drop_send;	/* sendto failed */
	uint64_t		 drop_unreach;	/* ICMP errors that came back */
	uint64_t		 drop_family;	/* the other family on an open flow */
	uint64_t		 drop_late;	/* for a flow we had closed */
	uint64_t		 drop_link;	/* to the client: the link was full */
	uint64_t		 drop_big;	/* to the client: no frame can carry it */
	struct log_limit	 log;
};

void	stub_udp_init(struct stub_udp *u, struct ev_loop *loop, struct mux *m);
/* Close every flow's socket and free them (the session is over). */
void	stub_udp_free(struct stub_udp *u);
/* A UDP frame from the client (what mux_ops.udp gets). */
void	stub_udp_frame(struct stub_udp *u, const struct proto_frame *f);
/* Free the flows closed during this pass (call from the before-sleep hook). */
void	stub_udp_collect(struct stub_udp *u);

#endif
