/* SPDX-License-Identifier: ISC */
/*
 * dns_local_int.h - what the files of DNS capture share; not for callers
 * (they use dns_local.h).
 *
 *	dns_local.c	the public face: open, start, tick, stop, close, and
 *			the tunnel's answers and failures
 *	dns_listen.c	the UDP and TCP listeners, the TCP connections and
 *			their pipelining: every byte to and from askers
 *	dns_query.c	queries in flight: ids, the hash, the timeout order,
 *			delivery of answers, SERVFAIL, the statistics
 *	dns_fwd.c	split DNS: forwarding from here through one c-ares
 *			channel per captured server, on the marked sockets
 *
 * Everything runs in the one event loop thread.  Objects the loop may
 * still hold a pointer to (a TCP connection, a c-ares socket) are freed
 * in dns_local_tick(), after the pass, never inside their own callback.
 */
#ifndef CSHUTTLE_DNS_LOCAL_INT_H
#define CSHUTTLE_DNS_LOCAL_INT_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dns_local.h"
#include "dns_msg.h"
#include "ev.h"
#include "log.h"
#include "queue.h"

/* What a query keeps for a made-up reply: its header and question. */
#define DNS_LOCAL_QMAX		(DNS_MSG_HDR_LEN + DNS_MSG_NAME_MAX + 4)
/* A query this long or shorter is kept whole, so that it can be sent again
 * through the next session (dns_local_resend): room for EDNS and a cookie,
 * 256 KiB for DNS_LOCAL_MAX_PENDING of them at most. */
#define DNS_LOCAL_RESEND_MAX	512
#define DNS_LOCAL_ANSWER_MAX	65535	/* a DNS message, over TCP */
#define DNS_QUERY_HASH		1024	/* buckets of the id hash */
#define DNS_FWD_AVOID		16	/* local ports a forward came back from */
#define DNS_FWD_AVOID_MS	180000	/* conntrack's longest UDP timeout */

/* Causes of rate-limited messages (one struct log_limit each). */
enum dns_local_cause {
	DNS_LOCAL_C_BADQUERY,
	DNS_LOCAL_C_BADANSWER,
	DNS_LOCAL_C_BUSY,
	DNS_LOCAL_C_TIMEOUT,
	DNS_LOCAL_C_REMOTE,
	DNS_LOCAL_C_LOCAL,
	DNS_LOCAL_C_SEND,
	DNS_LOCAL_C_TCP,
	DNS_LOCAL_C_MAX,
};

/*
 * One message per cause per DNS_LOCAL_LOG_MS, saying how many were kept
 * quiet in between: the network and local programs can repeat every one
 * of these at will.
 */
#define dns_local_note(d, cause, lvl, ...)					\
	log_limited(&(d)->log[(cause)], DNS_LOCAL_LOG_MS, (lvl), "dns: " __VA_ARGS__)

/* Where a UDP query was sent to: the source of its answer. */
union dns_local_pktinfo {
	struct in_pktinfo	v4;
	struct in6_pktinfo	v6;
};

struct dns_fwd;
struct dns_fwd_sock;
struct dns_listen_conn;

/* A captured server: its listeners, and its forwarder for split DNS. */
struct dns_local_srv {
	struct dns_local	*d;
	struct addr		 ns;		/* the server applications ask */
	uint16_t		 port;		/* our UDP and TCP port for it */
	int			 ufd, tfd;
	struct ev_io		 uio, tio;
	struct dns_fwd		*fwd;		/* dns_fwd.c; NULL without split DNS */
};

/* A query in flight. */
struct dns_query {
	uint32_t		 id;		/* ours: nonzero, unique in flight */
	struct dns_local_srv	*srv;
	struct dns_listen_conn	*conn;		/* TCP asker; NULL: UDP */
	struct sockaddr_storage	 peer;		/* UDP asker */
	socklen_t		 peerlen;
	union dns_local_pktinfo	 dst;		/* where the UDP query went */
	bool			 have_dst;
	bool			 local;		/* forwarded from here, not tunnelled */
	uint64_t		 deadline;
	LIST_ENTRY(dns_query)	 hlink;		/* in d->hash[] */
	TAILQ_ENTRY(dns_query)	 olink;		/* in d->queries */
	LIST_ENTRY(dns_query)	 clink;		/* in its connection's list */
	struct dns_query_info	 qi;
	uint8_t			 q[DNS_LOCAL_QMAX];	/* header and question */
	size_t			 wlen;		/* whole[] used; 0: too long to keep */
	uint8_t			 whole[DNS_LOCAL_RESEND_MAX];	/* the query as sent */
};

LIST_HEAD(dns_query_list, dns_query);
TAILQ_HEAD(dns_query_queue, dns_query);
TAILQ_HEAD(dns_listen_conns, dns_listen_conn);
SLIST_HEAD(dns_listen_dead, dns_listen_conn);
SLIST_HEAD(dns_fwd_dead, dns_fwd_sock);

/* A name of the hosts table (dns_local_set_hosts), in wire form. */
struct dns_local_name {
	struct addr		 addr;
	size_t			 len;		/* bytes in name[], root label included */
	uint8_t			 name[DNS_MSG_NAME_MAX];
};

struct dns_local {
	struct dns_local_params	 p;
	struct dns_local_name	*hosts;		/* -H: answered here */
	size_t			 nhosts;
	struct ev_loop		*loop;
	dns_local_send_fn	*send;
	void			*send_arg;
	struct ev_timer		 timer;
	bool			 started;
	bool			 closing;	/* in dns_local_stop() */
	struct dns_local_srv	 srv[DNS_LOCAL_MAX_SERVERS];
	size_t			 nsrv;

	/* dns_query.c: by id, and in arrival order, which is deadline
	 * order as every query gets the same timeout. */
	struct dns_query_list	 hash[DNS_QUERY_HASH];
	struct dns_query_queue	 queries;
	size_t			 nqueries;
	uint32_t		 next_id;

	/* dns_listen.c: connections by last activity (idle timeout), the
	 * closed ones until the pass is over, the datagram buffer. */
	struct dns_listen_conns	 conns;
	size_t			 nconns;
	struct dns_listen_dead	 dead_conns;
	uint64_t		 accept_resume;	/* 0, or when to accept again */
	uint8_t			 rbuf[DNS_MSG_QUERY_MAX + 1];

	/* dns_fwd.c */
	bool			 ares_init;	/* ares_library_init() done */
	struct dns_fwd_dead	 dead_socks;	/* c-ares sockets closed */
	uint16_t		 rnd[64];	/* random IDs, refilled */
	struct {
		uint16_t	 port;		/* network order; 0: free slot */
		uint64_t	 until;
	}			 avoid[DNS_FWD_AVOID];	/* dns_fwd_own() */
	size_t			 nrnd;
	uint8_t			 abuf[DNS_LOCAL_ANSWER_MAX];

	struct log_limit	 log[DNS_LOCAL_C_MAX];
	struct dns_local_stats	 st;
};

/* ---- dns_listen.c ---- */

/* Bind UDP and TCP on the same free port from *port upwards (advanced
 * past it).  0; 1 when this host has no IPv6 for an IPv6 server; -1 with
 * a reason in err. */
int	 dns_listen_open(struct dns_local_srv *s, const uint8_t *addr, uint16_t *port,
	    char *err, size_t errlen);
/* Close the listeners' descriptors (after dns_listen_stop()). */
void	 dns_listen_close(struct dns_local_srv *s);
/* Watch the listeners in d->loop.  0, or -1 with a reason in err. */
int	 dns_listen_start(struct dns_local *d, char *err, size_t errlen);
/* Close every connection (their queries are forgotten), unwatch the
 * listeners. */
void	 dns_listen_stop(struct dns_local *d);
/* Close idle connections, resume a paused accept. */
void	 dns_listen_expire(struct dns_local *d, uint64_t now);
/* The earliest of those deadlines, 0 for none. */
uint64_t dns_listen_next(const struct dns_local *d);
/* Free the connections closed during the pass. */
void	 dns_listen_gc(struct dns_local *d);

/* Queue a TCP answer, framed.  Out of memory: the connection is closed
 * once its queries are gone. */
void	 dns_listen_conn_send(struct dns_listen_conn *c, const uint8_t *a, size_t len);
/* Send a UDP answer from the listener q came in on, with the source
 * address q was sent to. */
void	 dns_listen_udp_send(struct dns_local *d, const struct dns_query *q,
	    const uint8_t *a, size_t len);
/* q (a TCP query of c) is now in flight, or no longer. */
void	 dns_listen_conn_attach(struct dns_listen_conn *c, struct dns_query *q);
void	 dns_listen_conn_detach(struct dns_listen_conn *c, struct dns_query *q);
/* A query of c was answered or failed: take more, adjust the events. */
void	 dns_listen_conn_done(struct dns_listen_conn *c);

/* ---- dns_query.c ---- */

void	 dns_query_init(struct dns_local *d);
/*
 * A query arrived: over UDP (c NULL, peer and maybe dst set) or on TCP
 * connection c.  It is parsed, given an id, and tunnelled or forwarded
 * here; a bad one is dropped, one too many answered SERVFAIL at once.
 */
void	 dns_query_in(struct dns_local *d, struct dns_local_srv *s,
	    struct dns_listen_conn *c, const struct sockaddr_storage *peer,
	    socklen_t peerlen, const union dns_local_pktinfo *dst, const uint8_t *msg,
	    size_t len);
struct dns_query *dns_query_find(struct dns_local *d, uint32_t id);
/* An answer for q, its ID already the asker's: checked, passed on (or
 * SERVFAIL), and q forgotten. */
void	 dns_query_complete(struct dns_local *d, struct dns_query *q, const uint8_t *a,
	    size_t len);
/* Answer q with SERVFAIL and forget it. */
void	 dns_query_servfail(struct dns_local *d, struct dns_query *q);
/* Unlink and free, without an answer. */
void	 dns_query_free(struct dns_local *d, struct dns_query *q);
/* SERVFAIL for every query whose deadline is <= now. */
void	 dns_query_expire(struct dns_local *d, uint64_t now);
/* The earliest deadline, 0 for none. */
uint64_t dns_query_next(const struct dns_local *d);
/* Forget every query (stopping). */
void	 dns_query_clear(struct dns_local *d);
/* The statistics as one debug line. */
void	 dns_query_log_stats(const struct dns_local *d);

/* ---- dns_fwd.c ---- */

/* c-ares and a channel per captured server.  0, or -1 with a reason. */
int	 dns_fwd_start(struct dns_local *d, char *err, size_t errlen);
/* Destroy the channels (their queries end without an answer). */
void	 dns_fwd_stop(struct dns_local *d);
/* Send q (query bytes msg[0..len)) to the server its asker chose; the
 * answer or SERVFAIL may come before this returns. */
void	 dns_fwd_query(struct dns_local *d, struct dns_query *q, const uint8_t *msg,
	    size_t len);
/* Let c-ares retransmit or give up (the timer fired). */
void	 dns_fwd_expire(struct dns_local *d);
/* When c-ares next wants the timer, 0 for never. */
uint64_t dns_fwd_next(const struct dns_local *d, uint64_t now);
/* Free the sockets c-ares closed during the pass. */
void	 dns_fwd_gc(struct dns_local *d);
/*
 * Whether a query from peer was sent by one of our own forwarding sockets:
 * it was redirected back to us.  Such a socket is given up (its queries
 * go out again from a new one) at the next dns_fwd_expire().
 */
bool	 dns_fwd_own(struct dns_local *d, const struct sockaddr_storage *peer,
	    socklen_t peerlen);

#endif
