/* SPDX-License-Identifier: ISC */
/*
 * stub_dns.h - the stub's DNS forwarder: DNS_QUERY frames in, each sent to
 * the remote's nameservers over UDP (TCP when the answer is truncated),
 * DNS_ANSWER or DNS_FAIL frames out.  Non-blocking, inside the stub's
 * event loop; docs/PROTOCOL.md section 5 describes the behaviour.
 */
#ifndef CSHUTTLE_STUB_DNS_H
#define CSHUTTLE_STUB_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "ev.h"
#include "log.h"
#include "mux.h"
#include "proto.h"
#include "queue.h"

#define STUB_DNS_MAX		512	/* outstanding queries */
#define STUB_DNS_RESOLV_MAX	3	/* nameservers taken from resolv.conf */
#define STUB_DNS_UDP_MS		2000	/* per UDP attempt */
#define STUB_DNS_TCP_MS		5000	/* per TCP fallback */
#define STUB_DNS_ROUNDS		2	/* passes over the server list */
#define STUB_DNS_LOG_MS		10000	/* one log line per cause per server */

/* What stub_dns_check_answer() makes of a server's reply. */
#define STUB_DNS_ANS_OK		0
#define STUB_DNS_ANS_TC		1	/* valid, but truncated: ask over TCP */
#define STUB_DNS_ANS_BAD	(-1)	/* not an answer to this query: ignore */

enum stub_dns_cause {
	STUB_DNS_LOG_UNREACH,
	STUB_DNS_LOG_TIMEOUT,
	STUB_DNS_LOG_MALFORMED,
	STUB_DNS_LOG_TOOBIG,
	STUB_DNS_LOG_QUERY,		/* bad, duplicate or unsendable queries */
	STUB_DNS_LOG_BUSY,
	STUB_DNS_LOG_NCAUSE
};

struct stub_dns_query;
LIST_HEAD(stub_dns_queries, stub_dns_query);
SLIST_HEAD(stub_dns_finished, stub_dns_query);

struct stub_dns {
	struct ev_loop		*loop;
	struct mux		*mux;
	struct addr		 servers[PROTO_DNS_MAX_SERVERS];
	size_t			 nservers;
	int			 have_servers;	/* configured, or resolv.conf read */
	const char		*resolv_path;	/* RESOLV_PATH */
	/*
	 * Opens a non-blocking socket of `type` (SOCK_DGRAM, SOCK_STREAM)
	 * with connect() to s started; returns it or -errno.  Tests and the
	 * fuzzer replace it so that nothing leaves the machine.
	 */
	int			(*sock)(int type, const struct addr *s);
	struct stub_dns_queries	 all;		/* outstanding */
	struct stub_dns_finished garbage;	/* finished, freed after the pass */
	size_t			 nq;
	struct ev_timer		 timer;		/* earliest deadline */
	uint64_t		 queries, answers, failures, malformed;
	/* per cause: [0] for the stub as a whole, [1 + i] for servers[i] */
	struct log_limit	 log[STUB_DNS_LOG_NCAUSE][PROTO_DNS_MAX_SERVERS + 1];
};

/* 0, or -1 (no timer slot left). */
int	stub_dns_init(struct stub_dns *d, struct ev_loop *loop, struct mux *m);
/* Fail nothing, just close every socket and free every query. */
void	stub_dns_free(struct stub_dns *d);
/* The mux's `dns` operation: arg is the struct stub_dns. */
void	stub_dns_frame(struct mux *m, const struct proto_frame *f, void *arg);
/* Move on every query whose deadline is <= now (the timer does this). */
void	stub_dns_expire(struct stub_dns *d, uint64_t now);
/* Free finished queries (call from the before-sleep hook). */
void	stub_dns_collect(struct stub_dns *d);

/*
 * Is ans[0..len) the server's answer to query (at least 12 bytes)?  It
 * must be a DNS message (12 bytes or more) with the query's ID and the
 * QR bit: STUB_DNS_ANS_OK, STUB_DNS_ANS_TC or STUB_DNS_ANS_BAD.
 */
int	stub_dns_check_answer(const uint8_t *query, const uint8_t *ans, size_t len);

/*
 * The `nameserver` lines of resolv.conf text[0..len), in order, at most
 * max of them, as servers on port 53: resolv_parse() (common/resolv.h)
 * without link-local IPv6 addresses (their scope is this host's
 * business) and without a default.  A %scope on any other address is
 * dropped.  Returns how many were stored.
 */
size_t	stub_dns_parse_resolv(const char *text, size_t len, struct addr *out,
	    size_t max);

#endif
