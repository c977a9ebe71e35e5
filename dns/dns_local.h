/* SPDX-License-Identifier: ISC */
/*
 * dns_local.h - the client's end of DNS capture (--dns, --ns-hosts).
 *
 * Every captured server gets a local port P (one UDP and one TCP
 * listener, on 127.0.0.1 or ::1 unless told otherwise); the firewall
 * redirects DNS to that server's port 53 to P, so the port says which
 * server the application asked.  Each query is parsed, given an id and
 * either sent through the tunnel (the stub asks the remote's servers) or,
 * with --dns-domains and a name outside them, forwarded from here to the
 * server the application asked, through c-ares on sockets the redirect
 * leaves alone.  The answer goes back from the socket the query came in
 * on; a failure or the client-side timeout becomes SERVFAIL for that
 * query only.
 *
 * Nothing here knows the mux or the firewall: the tunnel is a send
 * callback, and the marked sockets come from a socket callback, so the
 * module can be driven by tests.  Memory is bounded: DNS_LOCAL_MAX_PENDING
 * queries in flight, DNS_LOCAL_MAX_TCP connections, each with at most
 * DNS_LOCAL_TCP_PIPELINE queries outstanding and a fixed input buffer.
 *
 * Implemented by dns_local.c (this interface), dns_listen.c, dns_query.c
 * and dns_fwd.c, which share dns_local_int.h.
 */
#ifndef CSHUTTLE_DNS_LOCAL_H
#define CSHUTTLE_DNS_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DNS_LOCAL_MAX_SERVERS	16	/* servers captured in all */
#define DNS_LOCAL_TIMEOUT_MS	10000	/* then the asker gets SERVFAIL */
#define DNS_LOCAL_TCP_IDLE_MS	30000
#define DNS_LOCAL_MAX_PENDING	512
#define DNS_LOCAL_MAX_TCP	64
#define DNS_LOCAL_TCP_PIPELINE	16
#define DNS_LOCAL_PORT_TRIES	100
#define DNS_LOCAL_LOG_MS	10000	/* one message per cause per 10 s */
#define DNS_LOCAL_MAX_HOSTS	1024	/* names answered here (-H) */
#define DNS_LOCAL_HOST_ADDRS	8	/* addresses per answer: fits 512 bytes */
#define DNS_LOCAL_HOST_TTL	60	/* seconds; the names may change */

/* Why the stub could not answer (DNS_FAIL reasons, PROTOCOL.md). */
#define DNS_LOCAL_FAIL_TIMEOUT		1
#define DNS_LOCAL_FAIL_UNREACHABLE	2
#define DNS_LOCAL_FAIL_NOSERVERS	3
#define DNS_LOCAL_FAIL_TOOBIG		4
#define DNS_LOCAL_FAIL_BADQUERY		5
#define DNS_LOCAL_FAIL_BUSY		6

struct ev_loop;
struct dns_local;

/* Hand a query to the tunnel under `id`.  0, or -1 when it cannot be
 * sent now (the query is failed at once). */
typedef int dns_local_send_fn(void *arg, uint32_t id, const uint8_t *q, size_t len);
/* A non-blocking, close-on-exec socket whose traffic the redirect rules
 * leave alone (the caller makes it and has it marked): a descriptor, or
 * a negative value (-1 with errno, or -errno). */
typedef int dns_local_socket_fn(void *arg, int family, int type);
/* A TCP connection a listener just accepted: 0 to serve it, -1 to close
 * it at once (the hook says why, in the log). */
typedef int dns_local_accept_fn(void *arg, int fd);

struct dns_local_params {
	const struct addr	*servers;	/* captured servers (port: where
						 * applications send, 53) */
	size_t			 nservers;	/* at most DNS_LOCAL_MAX_SERVERS */
	char *const		*domains;	/* --dns-domains (normalised); the
						 * caller keeps them alive */
	size_t			 ndomains;	/* 0: everything through the tunnel */
	uint8_t			 bind4[4];	/* listener address for IPv4 servers */
	uint8_t			 bind6[16];	/* and for IPv6 servers */
	bool			 want4, want6;	/* serve servers of the family at all
						 * (is it redirected?) */
	uint16_t		 first_port;	/* ports tried from here upwards */
	int			 timeout_ms;	/* 0: DNS_LOCAL_TIMEOUT_MS */
	int			 tcp_idle_ms;	/* 0: DNS_LOCAL_TCP_IDLE_MS */
	char *const		*bypass;	/* names always asked locally, never
						 * through the tunnel: the SSH server's,
						 * so that a reconnect can resolve it
						 * while no session carries DNS */
	size_t			 nbypass;
	dns_local_socket_fn	*socket;	/* NULL: plain sockets */
	void			*socket_arg;
	dns_local_accept_fn	*accept;	/* NULL: every connection is served */
	void			*accept_arg;
};

/* A name answered here (-H): its A or AAAA record. */
struct dns_local_host {
	struct addr	 addr;		/* ADDR_V4 or ADDR_V6 */
	const char	*name;		/* lower case, no final dot; labels of
					 * letters, digits, '-', '_' */
};

struct dns_local_stats {
	uint64_t	queries_udp, queries_tcp;
	uint64_t	tunnelled, forwarded;	/* through the stub / from here */
	uint64_t	answered;		/* real answers passed on */
	uint64_t	truncated;		/* too big for the UDP asker: TC */
	uint64_t	servfail;		/* made-up SERVFAIL replies, of which: */
	uint64_t	timeouts, remote_fail, local_fail, busy, bad_answers;
	uint64_t	bad_queries;		/* dropped */
	uint64_t	late;			/* answers for queries already gone */
	uint64_t	resent;			/* sent again through a new session */
	uint64_t	tcp_refused;		/* connections over DNS_LOCAL_MAX_TCP */
	uint64_t	tcp_direct;		/* closed by the accept hook: not redirected */
	uint64_t	looped;			/* our own forwards, captured again */
	uint64_t	hosts;			/* answered from the hosts table */
};

/*
 * Open the listeners (nothing is read until dns_local_start()).  The
 * servers of a family that is not wanted, and IPv6 servers when ::1
 * cannot be bound, are left out with a message.  NULL with a one-line reason in err when no listener could
 * be opened at all, or on a real error.
 */
struct dns_local *dns_local_open(const struct dns_local_params *p, char *err,
	    size_t errlen);

/* Servers actually served, each with its local port. */
size_t	dns_local_count(const struct dns_local *d);
const struct addr *dns_local_server(const struct dns_local *d, size_t i,
	    uint16_t *port);
/* Server i's listeners (UDP, TCP), which stay d's: for the firewall,
 * which redirects to them.  0, or -1 for no such server. */
int	dns_local_server_fds(const struct dns_local *d, size_t i, int *ufd,
	    int *tfd);

/* Start serving in `loop` (the rules are in place), queries for the
 * tunnel going to send(send_arg, ...).  0, or -1 with a reason in err. */
int	dns_local_start(struct dns_local *d, struct ev_loop *loop,
	    dns_local_send_fn *send, void *send_arg, char *err, size_t errlen);

/* The tunnel's answer to query `id`, or its failure (DNS_LOCAL_FAIL_*). */
void	dns_local_answer(struct dns_local *d, uint32_t id, const uint8_t *a,
	    size_t len);
void	dns_local_fail(struct dns_local *d, uint32_t id, uint8_t reason);
/* Send query `id`, still in flight, again through the send function (its
 * session was lost; a new one is up).  0, or -1 when it is no longer in
 * flight, or could not be sent again (then its asker gets SERVFAIL). */
int	dns_local_resend(struct dns_local *d, uint32_t id);

/*
 * Replace the table of names answered here (-H) by h[0..n): an A or AAAA
 * query (class IN) for one of its names gets the table's addresses of
 * that family (at most DNS_LOCAL_HOST_ADDRS; none: an empty answer)
 * without asking anybody, unless the name is one of the bypass names;
 * every other query goes on as before.  The caller chose what may be in
 * it.  Names that are not of the form above are left out; n == 0
 * empties it.  0, or -1 when out of memory (the
 * table is then empty).  May be called before dns_local_start.
 */
int	dns_local_set_hosts(struct dns_local *d, const struct dns_local_host *h,
	    size_t n);

/* From the loop's before-sleep hook: free what closed during the pass
 * and set the timer to the next deadline. */
void	dns_local_tick(struct dns_local *d);

const struct dns_local_stats *dns_local_stats(const struct dns_local *d);

/* Leave the loop: forget every query, close the TCP connections and the
 * c-ares channels.  Must run before the loop goes away; the listeners
 * stay bound.  Accepts NULL and a module never started. */
void	dns_local_stop(struct dns_local *d);
/* Stop if needed, close the listeners, free.  Accepts NULL. */
void	dns_local_close(struct dns_local *d);

#endif
